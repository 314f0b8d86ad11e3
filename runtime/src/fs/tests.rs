//! [`Vfs`] through the [`Fs`] trait, as a target calls it: arguments in a
//! fake target memory, one test per behaviour.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::EmbeddedNode::{self, *};
use super::{Fs, Preopen, Vfs};
use crate::clock::{Clock, VirtualClock};
use crate::memory::Caller;
use crate::memory::testing::FAKE_CALLER;
use crate::stdio::{STDERR, STDOUT, Stdio, StdioConfig};
use crate::types::{Errno, Fd, Filestat, Filetype, fdflags, fstflags, lookupflags, oflags, rights};

static SITE: EmbeddedNode = Dir(&[
    (
        "docs",
        Dir(&[
            ("guide.txt", File(b"read me\n")),
            ("more", Dir(&[("deep.txt", File(b"deep"))])),
        ]),
    ),
    ("hello.txt", File(b"hello, world\n")),
    ("link", Symlink("hello.txt")),
    ("loop", Symlink("loop")),
    ("out", Symlink("../etc/passwd")),
]);

const ROOT: Fd = 3;
const READ_ONLY: Fd = 4;
const TMP: Fd = 5;
static PREOPENS: [Preopen; 3] = [
    Preopen::new("/", &SITE),
    Preopen::new("/ro", &SITE).read_only(),
    Preopen::empty("/tmp"),
];

// Addresses in the fake target memory.
const IOV: u32 = 0x10;
const PATH: u32 = 0x100;
const PATH2: u32 = 0x1200;
const DATA: u32 = 0x3000;
const BUF: u32 = 0x8000;

const C: &Caller = &FAKE_CALLER;
const FILE_RIGHTS: u64 = rights::REGULAR_FILE;
const READ: u64 = rights::FD_READ | rights::FD_SEEK | rights::FD_TELL | rights::FD_FILESTAT_GET;
const FOLLOW: u32 = lookupflags::SYMLINK_FOLLOW;

fn vfs() -> Vfs {
    Vfs::new(&PREOPENS, &StdioConfig::CAPTURE)
}

fn put(at: u32, bytes: &[u8]) -> (u32, u32) {
    C.memory.write(at, bytes).unwrap();
    (at, bytes.len() as u32)
}

fn open_at(
    fs: &Vfs,
    dir: Fd,
    path: &str,
    oflags: u16,
    base: u64,
    fdflags: u16,
) -> Result<Fd, Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    fs.path_open(
        C,
        dir,
        FOLLOW,
        p,
        l,
        oflags as u32,
        base,
        base,
        fdflags as u32,
    )
}

fn open(fs: &Vfs, path: &str, oflags: u16, base: u64) -> Result<Fd, Errno> {
    open_at(fs, ROOT, path, oflags, base, 0)
}

/// A directory fd as `opendir` opens one: no `FD_WRITE` (that is `EISDIR`),
/// file rights to hand on.
fn open_dir(fs: &Vfs, dir: Fd, path: &str) -> Result<Fd, Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    let inheriting = rights::DIRECTORY | FILE_RIGHTS;
    fs.path_open(
        C,
        dir,
        FOLLOW,
        p,
        l,
        oflags::DIRECTORY as u32,
        rights::DIRECTORY,
        inheriting,
        0,
    )
}

fn create(fs: &Vfs, path: &str) -> Fd {
    open(fs, path, oflags::CREAT | oflags::TRUNC, FILE_RIGHTS).unwrap()
}

fn iovecs(list: &[(u32, u32)]) -> (u32, u32) {
    let raw: Vec<u8> = list
        .iter()
        .flat_map(|(b, l)| [b.to_le_bytes(), l.to_le_bytes()].concat())
        .collect();
    put(IOV, &raw);
    (IOV, list.len() as u32)
}

fn write(fs: &Vfs, fd: Fd, data: &[u8]) -> Result<u32, Errno> {
    let (at, len) = put(DATA, data);
    let (iovs, n) = iovecs(&[(at, len)]);
    fs.fd_write(C, fd, iovs, n)
}

fn read(fs: &Vfs, fd: Fd, len: u32) -> Result<Vec<u8>, Errno> {
    let (iovs, n) = iovecs(&[(BUF, len)]);
    let got = fs.fd_read(C, fd, iovs, n)?;
    Ok(C.memory.read_vec(BUF, got).unwrap())
}

fn read_all(fs: &Vfs, fd: Fd) -> Vec<u8> {
    fs.fd_seek(C, fd, 0, 0).unwrap();
    read(fs, fd, 4096).unwrap()
}

fn stat_at(fs: &Vfs, dir: Fd, path: &str, flags: u32) -> Result<Filestat, Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    fs.path_filestat_get(C, dir, flags, p, l)
}

fn stat(fs: &Vfs, path: &str) -> Result<Filestat, Errno> {
    stat_at(fs, ROOT, path, FOLLOW)
}

fn mkdir_at(fs: &Vfs, dir: Fd, path: &str) -> Result<(), Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    fs.path_create_directory(C, dir, p, l)
}

fn mkdir(fs: &Vfs, path: &str) -> Result<(), Errno> {
    mkdir_at(fs, ROOT, path)
}

fn rmdir(fs: &Vfs, path: &str) -> Result<(), Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    fs.path_remove_directory(C, ROOT, p, l)
}

fn unlink_at(fs: &Vfs, dir: Fd, path: &str) -> Result<(), Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    fs.path_unlink_file(C, dir, p, l)
}

fn unlink(fs: &Vfs, path: &str) -> Result<(), Errno> {
    unlink_at(fs, ROOT, path)
}

fn rename_at(fs: &Vfs, dir: Fd, from: &str, to: &str) -> Result<(), Errno> {
    let (p, l) = put(PATH, from.as_bytes());
    let (p2, l2) = put(PATH2, to.as_bytes());
    fs.path_rename(C, dir, p, l, dir, p2, l2)
}

fn rename(fs: &Vfs, from: &str, to: &str) -> Result<(), Errno> {
    rename_at(fs, ROOT, from, to)
}

fn link(fs: &Vfs, from: &str, to: &str, flags: u32) -> Result<(), Errno> {
    let (p, l) = put(PATH, from.as_bytes());
    let (p2, l2) = put(PATH2, to.as_bytes());
    fs.path_link(C, ROOT, flags, p, l, ROOT, p2, l2)
}

fn symlink(fs: &Vfs, target: &str, path: &str) -> Result<(), Errno> {
    let (p, l) = put(PATH, target.as_bytes());
    let (p2, l2) = put(PATH2, path.as_bytes());
    fs.path_symlink(C, p, l, ROOT, p2, l2)
}

fn readlink(fs: &Vfs, path: &str, buf_len: u32) -> Result<Vec<u8>, Errno> {
    let (p, l) = put(PATH, path.as_bytes());
    let n = fs.path_readlink(C, ROOT, p, l, BUF, buf_len)?;
    Ok(C.memory.read_vec(BUF, n).unwrap())
}

/// `(d_next, d_ino, d_type, name)` of each whole entry in `bytes`.
fn dirents(bytes: &[u8]) -> Vec<(u64, u64, u8, String)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 24 {
        let next = u64::from_le_bytes(rest[0..8].try_into().unwrap());
        let ino = u64::from_le_bytes(rest[8..16].try_into().unwrap());
        let len = u32::from_le_bytes(rest[16..20].try_into().unwrap()) as usize;
        if rest.len() < 24 + len {
            break;
        }
        out.push((
            next,
            ino,
            rest[20],
            String::from_utf8(rest[24..24 + len].to_vec()).unwrap(),
        ));
        rest = &rest[24 + len..];
    }
    out
}

fn readdir(fs: &Vfs, fd: Fd, buf_len: u32, cookie: u64) -> Result<Vec<u8>, Errno> {
    let used = fs.fd_readdir(C, fd, BUF, buf_len, cookie)?;
    Ok(C.memory.read_vec(BUF, used).unwrap())
}

fn names(fs: &Vfs, fd: Fd) -> Vec<String> {
    dirents(&readdir(fs, fd, 4096, 0).unwrap())
        .into_iter()
        .map(|e| e.3)
        .collect()
}

// ---- construction and preopens ----

/// `value`, for as long as the tests run: a guest's clock is a static,
/// which off wasm it cannot be (not `Sync`, see [`crate::cell`]).
fn leaked<T>(value: T) -> &'static T {
    alloc::boxed::Box::leak(alloc::boxed::Box::new(value))
}

#[test]
fn a_vfs_is_const_with_clock_timestamps() {
    // The tree inline, as a guest writes it with `embed_dir!`; the `Vfs`
    // made in a `const` block, as in a guest's static (which off wasm it
    // cannot be: not `Sync`, see `crate::cell`).
    static INLINE: [Preopen; 1] = [Preopen::new("/", &Dir(&[("a.txt", File(b"a"))]))];
    let inline = const { Vfs::new(&INLINE, &StdioConfig::CAPTURE) };
    assert_eq!(inline.read_file("/a.txt").unwrap(), b"a");
    let clock = leaked(VirtualClock::new(VirtualClock::Y2K, 0));
    let root = const { &[Preopen::new("/", &SITE)] };
    let with_clock = Vfs::new(root, &StdioConfig::CAPTURE).with_clock(clock);
    let st = stat(&with_clock, "hello.txt").unwrap();
    assert_eq!(
        (st.filetype, st.size, st.nlink),
        (Filetype::RegularFile, 13, 1)
    );
    assert_eq!(
        (st.atim, st.mtim, st.ctim),
        (VirtualClock::Y2K, VirtualClock::Y2K, VirtualClock::Y2K)
    );
    assert_eq!(
        stat(&vfs(), "hello.txt").unwrap().mtim,
        0,
        "no clock, no time"
    );
}

#[test]
fn preopens_follow_stdio_and_describe_themselves() {
    let fs = vfs();
    assert_eq!(fs.fd_prestat_get(C, ROOT).unwrap().pr_name_len, 1);
    assert_eq!(fs.fd_prestat_get(C, TMP).unwrap().pr_name_len, 4);
    assert_eq!(fs.fd_prestat_dir_name(C, TMP, BUF, 4), Ok(()));
    assert_eq!(C.memory.read_vec(BUF, 4).unwrap(), b"/tmp");
    assert_eq!(
        fs.fd_prestat_dir_name(C, TMP, BUF, 3),
        Err(Errno::Nametoolong)
    );
    assert_eq!(fs.fd_prestat_get(C, 1), Err(Errno::Badf));
    assert_eq!(fs.fd_prestat_get(C, 6), Err(Errno::Badf));
    let f = open(&fs, "hello.txt", 0, READ).unwrap();
    assert_eq!(f, 6);
    assert_eq!(fs.fd_prestat_dir_name(C, f, BUF, 9), Err(Errno::Notdir));
    let st = fs.fd_fdstat_get(C, ROOT).unwrap();
    assert_eq!(
        (st.fs_filetype, st.fs_rights_base),
        (Filetype::Directory, rights::DIRECTORY)
    );
    assert_eq!(
        st.fs_rights_inheriting,
        rights::DIRECTORY | rights::REGULAR_FILE
    );
}

// ---- stdio ----

struct Input(RefCell<Vec<u8>>);

impl Stdio for Input {
    fn read_stdin(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut input = self.0.borrow_mut();
        let n = buf.len().min(input.len());
        buf[..n].copy_from_slice(&input[..n]);
        input.drain(..n);
        Ok(n)
    }
    fn write(&self, _: Fd, bytes: &[u8]) -> Result<usize, Errno> {
        Ok(bytes.len())
    }
}

#[test]
fn stdout_and_stderr_go_to_the_stdio() {
    let fs = vfs();
    assert_eq!(write(&fs, 1, b"fs test: to stdout\n"), Ok(19));
    assert_eq!(write(&fs, 2, b"fs test: to stderr\n"), Ok(19));
    let has = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(STDOUT.with(|out| has(out, b"fs test: to stdout\n")));
    assert!(STDERR.with(|err| has(err, b"fs test: to stderr\n")));
    assert_eq!(write(&fs, 0, b"x"), Err(Errno::Badf));
    assert_eq!(read(&fs, 1, 4), Err(Errno::Badf));
}

#[test]
fn stdin_fills_iovecs_until_input_runs_out() {
    let input: &'static Input = alloc::boxed::Box::leak(alloc::boxed::Box::new(Input(
        RefCell::new(b"abcdef".to_vec()),
    )));
    let fs = Vfs::new(&PREOPENS, input);
    let (iovs, n) = iovecs(&[(BUF, 4), (BUF + 100, 4)]);
    assert_eq!(fs.fd_read(C, 0, iovs, n), Ok(6));
    assert_eq!(C.memory.read_vec(BUF, 4).unwrap(), b"abcd");
    assert_eq!(C.memory.read_vec(BUF + 100, 2).unwrap(), b"ef");
    assert_eq!(fs.fd_read(C, 0, iovs, n), Ok(0));
}

#[test]
fn captured_stdio_says_it_is_a_pipe_unless_asked_and_cannot_seek() {
    static TERMINAL: StdioConfig = StdioConfig::CAPTURE.as_terminal();
    let fs = vfs();
    let terminal = Vfs::new(&PREOPENS, &TERMINAL);
    for fd in 0..3 {
        let own = if fd == 0 {
            rights::FD_READ
        } else {
            rights::FD_WRITE
        };
        let st = fs.fd_fdstat_get(C, fd).unwrap();
        assert_eq!(
            (st.fs_filetype, st.fs_rights_base, st.fs_rights_inheriting),
            (Filetype::Unknown, own, own)
        );
        assert_eq!(
            fs.fd_filestat_get(C, fd).unwrap().filetype,
            Filetype::Unknown
        );
        let st = terminal.fd_fdstat_get(C, fd).unwrap();
        assert_eq!(
            (st.fs_filetype, st.fs_rights_base),
            (Filetype::CharacterDevice, own)
        );
        assert_eq!(
            terminal.fd_filestat_get(C, fd).unwrap().filetype,
            Filetype::CharacterDevice
        );
        // What a stream says is narrowed by the rights the program dropped.
        terminal.fd_fdstat_set_rights(C, fd, 0, 0).unwrap();
        assert_eq!(terminal.fd_fdstat_get(C, fd).unwrap().fs_rights_base, 0);
        assert_eq!(fs.fd_seek(C, fd, 0, 0), Err(Errno::Spipe));
        assert_eq!(fs.fd_tell(C, fd), Err(Errno::Spipe));
    }
    let (iovs, n) = iovecs(&[(BUF, 1)]);
    assert_eq!(fs.fd_pread(C, 0, iovs, n, 0), Err(Errno::Spipe));
    assert_eq!(fs.fd_pwrite(C, 1, iovs, n, 0), Err(Errno::Spipe));
    assert_eq!(fs.fd_pwrite(C, 0, iovs, n, 0), Err(Errno::Badf));
}

// ---- open, read, write ----

#[test]
fn a_created_file_reads_back_what_was_written() {
    let fs = vfs();
    let fd = create(&fs, "new.txt");
    assert_eq!(write(&fs, fd, b"first "), Ok(6));
    assert_eq!(write(&fs, fd, b"second"), Ok(6));
    assert_eq!(fs.fd_tell(C, fd), Ok(12));
    assert_eq!(read_all(&fs, fd), b"first second");
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().size, 12);
    assert_eq!(fs.fd_close(C, fd), Ok(()));
    assert_eq!(fs.fd_close(C, fd), Err(Errno::Badf));
    assert_eq!(fs.read_file("/new.txt").unwrap(), b"first second");
}

#[test]
fn reads_and_writes_are_vectored() {
    let fs = vfs();
    let fd = create(&fs, "v.txt");
    put(DATA, b"abc");
    put(DATA + 10, b"defg");
    let (iovs, n) = iovecs(&[(DATA, 3), (DATA + 10, 0), (DATA + 10, 4)]);
    assert_eq!(fs.fd_write(C, fd, iovs, n), Ok(7));
    fs.fd_seek(C, fd, 1, 0).unwrap();
    let (iovs, n) = iovecs(&[(BUF, 2), (BUF + 50, 10)]);
    assert_eq!(fs.fd_read(C, fd, iovs, n), Ok(6));
    assert_eq!(C.memory.read_vec(BUF, 2).unwrap(), b"bc");
    assert_eq!(C.memory.read_vec(BUF + 50, 4).unwrap(), b"defg");
    assert_eq!(fs.fd_read(C, fd, iovs, n), Ok(0), "end of file");
}

#[test]
fn embedded_files_are_copied_on_write_and_the_base_stays() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, FILE_RIGHTS).unwrap();
    assert_eq!(read(&fs, fd, 5).unwrap(), b"hello");
    fs.fd_seek(C, fd, 0, 0).unwrap();
    assert_eq!(write(&fs, fd, b"J"), Ok(1));
    assert_eq!(read_all(&fs, fd), b"Jello, world\n");
    assert!(matches!(
        SITE.get("hello.txt"),
        Some(File(b"hello, world\n"))
    ));
    assert_eq!(
        vfs().read_file("/hello.txt").unwrap(),
        b"hello, world\n",
        "a second Vfs sees the base"
    );
    assert_eq!(
        fs.read_file("/ro/hello.txt").unwrap(),
        b"hello, world\n",
        "so does another preopen"
    );
    fs.reset();
    assert_eq!(fs.read_file("/hello.txt").unwrap(), b"hello, world\n");
    assert_eq!(
        fs.fd_tell(C, fd),
        Err(Errno::Badf),
        "reset drops the fd tables"
    );
}

#[test]
fn append_writes_go_to_the_end() {
    let fs = vfs();
    let fd = open_at(&fs, ROOT, "hello.txt", 0, FILE_RIGHTS, fdflags::APPEND).unwrap();
    assert_eq!(fs.fd_fdstat_get(C, fd).unwrap().fs_flags, fdflags::APPEND);
    assert_eq!(write(&fs, fd, b"more\n"), Ok(5));
    assert_eq!(fs.fd_tell(C, fd), Ok(18));
    let (at, len) = put(DATA, b"!");
    let (iovs, n) = iovecs(&[(at, len)]);
    assert_eq!(
        fs.fd_pwrite(C, fd, iovs, n, 0),
        Ok(1),
        "pwrite on an APPEND fd appends"
    );
    assert_eq!(read_all(&fs, fd), b"hello, world\nmore\n!");
    assert_eq!(fs.fd_fdstat_set_flags(C, fd, 0), Ok(()));
    fs.fd_seek(C, fd, 0, 0).unwrap();
    write(&fs, fd, b"H").unwrap();
    assert_eq!(read_all(&fs, fd), b"Hello, world\nmore\n!");
    assert_eq!(fs.fd_fdstat_set_flags(C, fd, 1 << 5), Err(Errno::Inval));
    assert_eq!(
        fs.fd_fdstat_set_flags(C, fd, fdflags::DSYNC as u32),
        Err(Errno::Inval),
        "as wasmtime"
    );
    assert_eq!(
        fs.fd_fdstat_set_flags(C, fd, fdflags::NONBLOCK as u32),
        Ok(())
    );
    assert_eq!(fs.fd_fdstat_set_flags(C, ROOT, 0), Err(Errno::Badf));
}

#[test]
fn seek_and_tell_follow_lseek() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, READ).unwrap();
    assert_eq!(fs.fd_seek(C, fd, 5, 0), Ok(5));
    assert_eq!(fs.fd_seek(C, fd, 2, 1), Ok(7));
    assert_eq!(fs.fd_seek(C, fd, -1, 2), Ok(12));
    assert_eq!(
        fs.fd_seek(C, fd, 100, 2),
        Ok(113),
        "past the end is allowed"
    );
    assert_eq!(read(&fs, fd, 4).unwrap(), b"");
    assert_eq!(fs.fd_seek(C, fd, -1, 0), Err(Errno::Inval));
    assert_eq!(fs.fd_seek(C, fd, -200, 1), Err(Errno::Inval));
    assert_eq!(fs.fd_seek(C, fd, 0, 3), Err(Errno::Inval));
    assert_eq!(fs.fd_tell(C, fd), Ok(113));
    assert_eq!(
        fs.fd_seek(C, ROOT, 0, 0),
        Err(Errno::Badf),
        "a directory, as wasmtime"
    );
    assert_eq!(fs.fd_tell(C, ROOT), Err(Errno::Badf));
}

#[test]
fn pread_and_pwrite_leave_the_offset_and_fill_gaps_with_zeros() {
    let fs = vfs();
    let fd = create(&fs, "p.bin");
    let (at, len) = put(DATA, b"xy");
    let (iovs, n) = iovecs(&[(at, len)]);
    assert_eq!(fs.fd_pwrite(C, fd, iovs, n, 3), Ok(2));
    assert_eq!(fs.fd_tell(C, fd), Ok(0));
    let (iovs, n) = iovecs(&[(BUF, 10)]);
    assert_eq!(fs.fd_pread(C, fd, iovs, n, 1), Ok(4));
    assert_eq!(C.memory.read_vec(BUF, 4).unwrap(), b"\0\0xy");
    assert_eq!(fs.fd_pread(C, fd, iovs, n, 99), Ok(0));
    assert_eq!(fs.fd_pread(C, ROOT, iovs, n, 0), Err(Errno::Badf));
}

#[test]
fn directories_cannot_be_read_or_written_as_files() {
    let fs = vfs();
    assert_eq!(read(&fs, ROOT, 4), Err(Errno::Badf));
    assert_eq!(write(&fs, ROOT, b"x"), Err(Errno::Badf));
    let docs = open(&fs, "docs", oflags::DIRECTORY, rights::DIRECTORY).unwrap();
    assert_eq!(
        fs.fd_fdstat_get(C, docs).unwrap().fs_filetype,
        Filetype::Directory
    );
    assert_eq!(read(&fs, docs, 4), Err(Errno::Badf));
}

#[test]
fn bad_pointers_are_efault_not_a_trap() {
    let fs = vfs();
    let fd = create(&fs, "f");
    assert_eq!(fs.fd_write(C, fd, 65530, 2), Err(Errno::Fault));
    let (iovs, n) = iovecs(&[(65530, 100)]);
    assert_eq!(fs.fd_read(C, fd, iovs, n), Err(Errno::Fault));
    assert_eq!(
        fs.path_create_directory(C, ROOT, 65535, 10),
        Err(Errno::Fault)
    );
    assert_eq!(fs.fd_readdir(C, ROOT, 65500, 100, 0), Err(Errno::Fault));
    assert_eq!(fs.fd_prestat_dir_name(C, ROOT, 70000, 1), Err(Errno::Fault));
}

// ---- path_open ----

#[test]
fn open_flags_behave_as_openat() {
    let fs = vfs();
    let excl = oflags::CREAT | oflags::EXCL;
    assert_eq!(open(&fs, "hello.txt", excl, FILE_RIGHTS), Err(Errno::Exist));
    assert_eq!(open(&fs, "docs", excl, FILE_RIGHTS), Err(Errno::Exist));
    assert!(open(&fs, "fresh.txt", excl, FILE_RIGHTS).is_ok());
    assert_eq!(open(&fs, "missing.txt", 0, READ), Err(Errno::Noent));
    assert_eq!(
        open(&fs, "missing/x.txt", oflags::CREAT, FILE_RIGHTS),
        Err(Errno::Noent)
    );
    assert_eq!(
        open(&fs, "hello.txt", oflags::DIRECTORY, 0),
        Err(Errno::Notdir)
    );
    assert_eq!(
        open(&fs, "docs", oflags::DIRECTORY | oflags::CREAT, 0),
        Err(Errno::Inval)
    );
    assert_eq!(open(&fs, "docs", 0, rights::FD_WRITE), Err(Errno::Isdir));
    assert_eq!(open(&fs, "docs", oflags::TRUNC, 0), Err(Errno::Isdir));
    assert_eq!(
        open(&fs, "new/", oflags::CREAT, FILE_RIGHTS),
        Err(Errno::Isdir)
    );
    assert_eq!(open(&fs, "hello.txt", 1 << 4, READ), Err(Errno::Inval));
    let fd = open(&fs, "hello.txt", oflags::TRUNC, FILE_RIGHTS).unwrap();
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().size, 0);
    assert_eq!(
        open_at(&fs, fd, "x", 0, READ, 0),
        Err(Errno::Notdir),
        "a file is no directory fd"
    );
    assert_eq!(open_at(&fs, 1, "x", 0, READ, 0), Err(Errno::Badf));
    let sync = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC | fdflags::NONBLOCK;
    assert!(
        open_at(&fs, ROOT, "hello.txt", 0, READ, sync).is_ok(),
        "sync flags are accepted"
    );
}

#[test]
fn opening_through_a_subdirectory_fd() {
    let fs = vfs();
    let docs = open_dir(&fs, ROOT, "docs").unwrap();
    let fd = open_at(&fs, docs, "more/deep.txt", 0, READ, 0).unwrap();
    assert_eq!(read(&fs, fd, 10).unwrap(), b"deep");
    assert_eq!(
        open_at(&fs, docs, "../hello.txt", 0, READ, 0),
        Err(Errno::Notcapable),
        "its own sandbox"
    );
    let made = open_at(&fs, docs, "made.txt", oflags::CREAT, FILE_RIGHTS, 0).unwrap();
    write(&fs, made, b"made").unwrap();
    assert_eq!(fs.read_file("/docs/made.txt").unwrap(), b"made");
}

// ---- paths ----

#[test]
fn paths_with_dots_and_doubled_slashes_resolve() {
    let fs = vfs();
    let ino = stat(&fs, "hello.txt").unwrap().ino;
    for path in [
        "./hello.txt",
        "docs/../hello.txt",
        "docs//more/..//../hello.txt",
        "link",
    ] {
        assert_eq!(stat(&fs, path).unwrap().ino, ino, "{path}");
    }
    assert_eq!(stat(&fs, ".").unwrap().filetype, Filetype::Directory);
    assert_eq!(stat(&fs, "docs/").unwrap().filetype, Filetype::Directory);
}

#[test]
fn bad_paths_get_the_hosts_errnos() {
    let fs = vfs();
    assert_eq!(stat(&fs, ""), Err(Errno::Noent));
    assert_eq!(stat(&fs, "hello.txt/"), Err(Errno::Notdir));
    assert_eq!(stat(&fs, "hello.txt/x"), Err(Errno::Notdir));
    assert_eq!(stat(&fs, "hel\0lo.txt"), Err(Errno::Inval));
    assert_eq!(stat(&fs, &"n".repeat(256)), Err(Errno::Nametoolong));
    assert_eq!(stat(&fs, &"a/".repeat(3000)), Err(Errno::Nametoolong));
    let (p, _) = put(PATH, &[b'a', 0xff, b'b']);
    assert_eq!(fs.path_filestat_get(C, ROOT, 0, p, 3), Err(Errno::Ilseq));
    assert_eq!(
        stat_at(&fs, ROOT, "x", 2),
        Err(Errno::Inval),
        "unknown lookupflags"
    );
    assert_eq!(stat_at(&fs, 1, "x", 0), Err(Errno::Badf));
}

#[test]
fn nothing_escapes_its_preopen() {
    let fs = vfs();
    for path in ["..", "../x", "docs/../..", "/hello.txt", "/", "out"] {
        assert_eq!(stat(&fs, path), Err(Errno::Notcapable), "{path}");
        assert_eq!(
            open(&fs, path, oflags::CREAT, FILE_RIGHTS),
            Err(Errno::Notcapable),
            "{path}"
        );
    }
    assert_eq!(mkdir(&fs, "../x"), Err(Errno::Notcapable));
    assert_eq!(
        symlink(&fs, "../../etc", "esc"),
        Ok(()),
        "an escaping link can be made…"
    );
    assert_eq!(
        stat(&fs, "esc/passwd"),
        Err(Errno::Notcapable),
        "…but not followed out"
    );
    assert_eq!(
        stat_at(&fs, ROOT, "esc", 0).unwrap().filetype,
        Filetype::SymbolicLink
    );
    assert_eq!(
        symlink(&fs, "/etc", "abs"),
        Err(Errno::Notcapable),
        "absolute: refused at once"
    );
}

#[test]
fn trailing_slashes_behave_as_under_wasmtime() {
    let fs = vfs();
    symlink(&fs, "docs", "dirlink").unwrap();
    let kind = |path, flags| stat_at(&fs, ROOT, path, flags).map(|s| s.filetype);
    assert_eq!(
        kind("link/", 0),
        Ok(Filetype::SymbolicLink),
        "ignored without SYMLINK_FOLLOW"
    );
    assert_eq!(kind("hello.txt/", 0), Ok(Filetype::RegularFile));
    assert_eq!(kind("link/", FOLLOW), Err(Errno::Notdir));
    assert_eq!(kind("dirlink/", FOLLOW), Ok(Filetype::Directory));
    let (p, l) = put(PATH, b"dirlink/");
    let fd = fs
        .path_open(C, ROOT, 0, p, l, 0, rights::DIRECTORY, 0, 0)
        .unwrap();
    assert_eq!(
        fs.fd_fdstat_get(C, fd).unwrap().fs_filetype,
        Filetype::Directory
    );
    assert_eq!(mkdir(&fs, "link/"), Err(Errno::Exist));
    assert_eq!(unlink(&fs, "dirlink/"), Err(Errno::Isdir));
    assert_eq!(unlink(&fs, "link/"), Err(Errno::Notdir));
    assert_eq!(rmdir(&fs, "dirlink/"), Err(Errno::Inval));
    assert_eq!(rmdir(&fs, "link/"), Err(Errno::Notdir));
    assert_eq!(readlink(&fs, "dirlink/", 64), Err(Errno::Inval));
    assert_eq!(rename(&fs, "dirlink/", "x"), Err(Errno::Notdir));
    assert_eq!(link(&fs, "dirlink/", "x", 0), Err(Errno::Perm));
}

#[test]
fn symlinks_honour_symlink_follow_and_loop_out() {
    let fs = vfs();
    assert_eq!(
        stat_at(&fs, ROOT, "link", 0).unwrap().filetype,
        Filetype::SymbolicLink
    );
    assert_eq!(stat_at(&fs, ROOT, "link", 0).unwrap().size, 9);
    assert_eq!(
        stat_at(&fs, ROOT, "link", FOLLOW).unwrap().filetype,
        Filetype::RegularFile
    );
    assert_eq!(stat(&fs, "loop"), Err(Errno::Loop));
    let (p, l) = put(PATH, b"link");
    assert_eq!(
        fs.path_open(C, ROOT, 0, p, l, 0, READ, 0, 0),
        Err(Errno::Loop),
        "O_NOFOLLOW"
    );
    assert_eq!(readlink(&fs, "link", 64).unwrap(), b"hello.txt");
    assert_eq!(readlink(&fs, "link", 4).unwrap(), b"hell", "cut to buf_len");
    assert_eq!(readlink(&fs, "hello.txt", 64), Err(Errno::Inval));
    assert_eq!(symlink(&fs, "docs/more", "m"), Ok(()));
    assert_eq!(stat(&fs, "m/deep.txt").unwrap().size, 4);
    assert_eq!(symlink(&fs, "x", "m"), Err(Errno::Exist));
    assert_eq!(symlink(&fs, "", "empty"), Err(Errno::Noent));
    // A chain of 32 links resolves; 33 is one too many.
    symlink(&fs, "hello.txt", "l0").unwrap();
    for i in 1..=33 {
        symlink(&fs, &alloc::format!("l{}", i - 1), &alloc::format!("l{i}")).unwrap();
    }
    assert!(stat(&fs, "l31").is_ok());
    assert_eq!(stat(&fs, "l32"), Err(Errno::Loop));
}

// ---- directories ----

#[test]
fn readdir_lists_dot_dotdot_then_entries_by_name() {
    let fs = vfs();
    let entries = dirents(&readdir(&fs, ROOT, 4096, 0).unwrap());
    let listed: Vec<(u64, &str)> = entries.iter().map(|e| (e.0, e.3.as_str())).collect();
    assert_eq!(
        listed,
        [
            (1, "."),
            (2, ".."),
            (3, "docs"),
            (4, "hello.txt"),
            (5, "link"),
            (6, "loop"),
            (7, "out")
        ]
    );
    assert_eq!(entries[2].2, Filetype::Directory as u8);
    assert_eq!(entries[3].2, Filetype::RegularFile as u8);
    assert_eq!(entries[4].2, Filetype::SymbolicLink as u8);
    assert_eq!(entries[3].1, stat(&fs, "hello.txt").unwrap().ino);
    let from_cookie: Vec<String> = dirents(&readdir(&fs, ROOT, 4096, 4).unwrap())
        .into_iter()
        .map(|e| e.3)
        .collect();
    assert_eq!(from_cookie, ["link", "loop", "out"]);
    assert_eq!(readdir(&fs, ROOT, 4096, 7).unwrap(), b"");
    assert_eq!(readdir(&fs, 1, 4096, 0), Err(Errno::Badf));
    let fd = open(&fs, "hello.txt", 0, READ).unwrap();
    assert_eq!(readdir(&fs, fd, 4096, 0), Err(Errno::Badf));
}

#[test]
fn readdir_cuts_the_last_entry_and_fills_the_buffer() {
    let fs = vfs();
    // `.` (25 bytes) and `..` (26) fit; `docs` (28) is cut after 9 bytes.
    let bytes = readdir(&fs, ROOT, 60, 0).unwrap();
    assert_eq!(bytes.len(), 60, "bufused == buf_len: maybe more");
    assert_eq!(dirents(&bytes).len(), 2);
    // A reader continues from the cookie of the last whole entry.
    let next = dirents(&readdir(&fs, ROOT, 4096, 2).unwrap());
    assert_eq!(next[0].3, "docs");
    assert_eq!(readdir(&fs, ROOT, 10, 0).unwrap().len(), 10, "a cut header");
    assert_eq!(readdir(&fs, ROOT, 0, 0).unwrap().len(), 0);
    let all = readdir(&fs, ROOT, 4096, 0).unwrap();
    assert!(all.len() < 4096, "less than buf_len: end of directory");
    assert_eq!(readdir(&fs, ROOT, all.len() as u32, 0).unwrap(), all);
}

#[test]
fn readdir_cookies_stay_valid_across_calls() {
    let fs = vfs();
    let tmp = names(&fs, TMP);
    assert_eq!(tmp, [".", ".."]);
    for name in ["c", "a", "b"] {
        open_at(&fs, TMP, name, oflags::CREAT, FILE_RIGHTS, 0).unwrap();
    }
    assert_eq!(names(&fs, TMP), [".", "..", "a", "b", "c"]);
    let first = readdir(&fs, TMP, 24 * 3 + 5, 0).unwrap();
    let seen = dirents(&first);
    let last_cookie = seen.last().unwrap().0;
    let rest = dirents(&readdir(&fs, TMP, 4096, last_cookie).unwrap());
    let all: Vec<String> = seen.into_iter().chain(rest).map(|e| e.3).collect();
    assert_eq!(all, [".", "..", "a", "b", "c"]);
}

#[test]
fn directories_are_created_and_removed() {
    let fs = vfs();
    assert_eq!(mkdir(&fs, "new"), Ok(()));
    assert_eq!(mkdir(&fs, "new"), Err(Errno::Exist));
    assert_eq!(mkdir(&fs, "hello.txt"), Err(Errno::Exist));
    assert_eq!(mkdir(&fs, "trailing/"), Ok(()));
    assert_eq!(mkdir(&fs, "a/b"), Err(Errno::Noent));
    assert_eq!(mkdir(&fs, "."), Err(Errno::Exist));
    assert_eq!(stat(&fs, "new").unwrap().nlink, 2);
    assert_eq!(mkdir(&fs, "new/sub"), Ok(()));
    assert_eq!(stat(&fs, "new").unwrap().nlink, 3);
    assert_eq!(rmdir(&fs, "new"), Err(Errno::Notempty));
    assert_eq!(
        rmdir(&fs, "docs"),
        Err(Errno::Notempty),
        "embedded, not yet looked into"
    );
    assert_eq!(rmdir(&fs, "hello.txt"), Err(Errno::Notdir));
    assert_eq!(rmdir(&fs, "link"), Err(Errno::Notdir));
    assert_eq!(rmdir(&fs, "."), Err(Errno::Inval));
    assert_eq!(rmdir(&fs, "missing"), Err(Errno::Noent));
    assert_eq!(
        rmdir(&fs, "new/sub/"),
        Err(Errno::Inval),
        "`sub/` is `sub/.`, as wasmtime"
    );
    assert_eq!(rmdir(&fs, "new/sub"), Ok(()));
    assert_eq!(rmdir(&fs, "new"), Ok(()));
    assert_eq!(stat(&fs, "new"), Err(Errno::Noent));
}

#[test]
fn a_removed_directory_takes_no_new_entries() {
    let fs = vfs();
    mkdir(&fs, "gone").unwrap();
    let fd = open_dir(&fs, ROOT, "gone").unwrap();
    rmdir(&fs, "gone").unwrap();
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().nlink, 0);
    assert_eq!(
        open_at(&fs, fd, "x", oflags::CREAT, FILE_RIGHTS, 0),
        Err(Errno::Noent)
    );
    assert_eq!(names(&fs, fd), [".", ".."]);
}

#[test]
fn files_are_unlinked_but_not_directories() {
    let fs = vfs();
    assert_eq!(unlink(&fs, "docs"), Err(Errno::Isdir));
    assert_eq!(unlink(&fs, "docs/"), Err(Errno::Isdir));
    assert_eq!(unlink(&fs, "."), Err(Errno::Isdir));
    assert_eq!(unlink(&fs, "missing"), Err(Errno::Noent));
    assert_eq!(unlink(&fs, "hello.txt/"), Err(Errno::Notdir));
    assert_eq!(unlink(&fs, "link"), Ok(()), "the link itself goes");
    assert!(stat(&fs, "hello.txt").is_ok());
    assert_eq!(unlink(&fs, "hello.txt"), Ok(()));
    assert_eq!(stat(&fs, "hello.txt"), Err(Errno::Noent));
}

#[test]
fn an_unlinked_open_file_stays_usable() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, FILE_RIGHTS).unwrap();
    unlink(&fs, "hello.txt").unwrap();
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().nlink, 0);
    write(&fs, fd, b"still ").unwrap();
    assert_eq!(read_all(&fs, fd), b"still  world\n");
    let again = create(&fs, "hello.txt");
    assert_ne!(
        fs.fd_filestat_get(C, again).unwrap().ino,
        fs.fd_filestat_get(C, fd).unwrap().ino
    );
}

// ---- rename and link ----

#[test]
fn rename_moves_and_replaces_files() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, READ).unwrap();
    assert_eq!(rename(&fs, "hello.txt", "docs/moved.txt"), Ok(()));
    assert_eq!(stat(&fs, "hello.txt"), Err(Errno::Noent));
    assert_eq!(
        read(&fs, fd, 5).unwrap(),
        b"hello",
        "an open fd follows the file"
    );
    assert_eq!(
        rename(&fs, "docs/moved.txt", "docs/guide.txt"),
        Ok(()),
        "replaces a file"
    );
    assert_eq!(fs.read_file("/docs/guide.txt").unwrap(), b"hello, world\n");
    assert_eq!(rename(&fs, "docs/guide.txt", "docs"), Err(Errno::Isdir));
    assert_eq!(rename(&fs, "missing", "x"), Err(Errno::Noent));
    assert_eq!(rename(&fs, "docs/guide.txt", "x/"), Err(Errno::Notdir));
    assert_eq!(rename(&fs, ".", "x"), Err(Errno::Busy));
    assert_eq!(
        rename(&fs, "docs/guide.txt", "../x"),
        Err(Errno::Notcapable)
    );
}

#[test]
fn rename_moves_directories_by_posix_rules() {
    let fs = vfs();
    mkdir(&fs, "empty").unwrap();
    mkdir(&fs, "full").unwrap();
    mkdir(&fs, "full/x").unwrap();
    assert_eq!(rename(&fs, "docs", "hello.txt"), Err(Errno::Notdir));
    assert_eq!(rename(&fs, "docs", "full"), Err(Errno::Notempty));
    assert_eq!(rename(&fs, "docs", "docs/more/inside"), Err(Errno::Inval));
    assert_eq!(rename(&fs, "docs", "docs"), Ok(()));
    assert_eq!(
        rename(&fs, "docs", "empty"),
        Ok(()),
        "replaces an empty directory"
    );
    assert_eq!(fs.read_file("/empty/more/deep.txt").unwrap(), b"deep");
    assert_eq!(stat(&fs, "docs"), Err(Errno::Noent));
    assert_eq!(rename(&fs, "empty", "full/x/moved/"), Ok(()));
    assert_eq!(fs.read_dir("/full/x/moved"), ["guide.txt", "more"]);
    // `..` of the moved directory is its new parent.
    let moved = open(&fs, "full/x/moved", oflags::DIRECTORY, rights::DIRECTORY).unwrap();
    let dotdot = dirents(&readdir(&fs, moved, 4096, 0).unwrap())[1].1;
    assert_eq!(dotdot, stat(&fs, "full/x").unwrap().ino);
}

#[test]
fn rename_between_preopens() {
    let fs = vfs();
    let (p, l) = put(PATH, b"hello.txt");
    let (p2, l2) = put(PATH2, b"h.txt");
    assert_eq!(fs.path_rename(C, ROOT, p, l, TMP, p2, l2), Ok(()));
    assert_eq!(fs.read_file("/tmp/h.txt").unwrap(), b"hello, world\n");
}

#[test]
fn hard_links_share_the_inode() {
    let fs = vfs();
    assert_eq!(link(&fs, "hello.txt", "docs/again.txt", 0), Ok(()));
    let a = stat(&fs, "hello.txt").unwrap();
    assert_eq!(
        (a.nlink, a.ino),
        (2, stat(&fs, "docs/again.txt").unwrap().ino)
    );
    let fd = open(&fs, "docs/again.txt", 0, FILE_RIGHTS).unwrap();
    write(&fs, fd, b"J").unwrap();
    assert_eq!(fs.read_file("/hello.txt").unwrap(), b"Jello, world\n");
    assert_eq!(
        rename(&fs, "hello.txt", "docs/again.txt"),
        Ok(()),
        "two names of one inode"
    );
    assert!(stat(&fs, "hello.txt").is_ok());
    unlink(&fs, "hello.txt").unwrap();
    assert_eq!(stat(&fs, "docs/again.txt").unwrap().nlink, 1);
    assert_eq!(link(&fs, "docs", "d2", 0), Err(Errno::Perm));
    assert_eq!(
        link(&fs, "docs/again.txt", "docs/guide.txt", 0),
        Err(Errno::Exist)
    );
    assert_eq!(link(&fs, "docs/again.txt", "x", FOLLOW), Err(Errno::Inval));
    assert_eq!(link(&fs, "missing", "x", 0), Err(Errno::Noent));
    assert_eq!(
        link(&fs, "link", "link2", 0),
        Ok(()),
        "links the symlink itself"
    );
    assert_eq!(
        stat_at(&fs, ROOT, "link2", 0).unwrap().filetype,
        Filetype::SymbolicLink
    );
}

// ---- rights ----

#[test]
fn rights_are_requested_inherited_and_only_narrowed() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, rights::ALL).unwrap();
    assert_eq!(
        fs.fd_fdstat_get(C, fd).unwrap().fs_rights_base,
        rights::REGULAR_FILE,
        "only file rights"
    );
    let ro = open(&fs, "hello.txt", 0, READ).unwrap();
    assert_eq!(
        write(&fs, ro, b"x"),
        Err(Errno::Badf),
        "write-less fd, as wasmtime"
    );
    assert_eq!(
        fs.fd_filestat_set_size(C, ro, 1),
        Err(Errno::Inval),
        "ftruncate of a read-only fd"
    );
    let no_size = open(&fs, "hello.txt", 0, READ | rights::FD_WRITE).unwrap();
    assert_eq!(
        fs.fd_filestat_set_size(C, no_size, 1),
        Err(Errno::Notcapable)
    );
    assert_eq!(fs.fd_fdstat_set_rights(C, ro, READ, 0), Ok(()));
    assert_eq!(
        fs.fd_fdstat_set_rights(C, ro, READ | rights::FD_WRITE, 0),
        Err(Errno::Notcapable)
    );
    assert_eq!(fs.fd_fdstat_set_rights(C, ro, rights::FD_READ, 0), Ok(()));
    assert_eq!(fs.fd_seek(C, ro, 1, 0), Err(Errno::Notcapable));
    assert_eq!(fs.fd_tell(C, ro), Err(Errno::Notcapable));
    assert_eq!(read(&fs, ro, 2).unwrap(), b"he");
    // A directory fd hands on no more than it may.
    let dir = open(&fs, "docs", oflags::DIRECTORY, rights::DIRECTORY | READ).unwrap();
    let st = fs.fd_fdstat_get(C, dir).unwrap();
    assert_eq!(st.fs_rights_base, rights::DIRECTORY);
    let inner = open_at(&fs, dir, "guide.txt", 0, FILE_RIGHTS, 0).unwrap();
    assert_eq!(
        fs.fd_fdstat_get(C, inner).unwrap().fs_rights_base,
        FILE_RIGHTS & (rights::DIRECTORY | READ)
    );
    assert_eq!(write(&fs, inner, b"x"), Err(Errno::Badf));
    fs.fd_fdstat_set_rights(C, dir, rights::DIRECTORY & !rights::PATH_OPEN, 0)
        .unwrap();
    assert_eq!(
        open_at(&fs, dir, "guide.txt", 0, READ, 0),
        Err(Errno::Notcapable)
    );
    fs.fd_fdstat_set_rights(C, 1, 0, 0).unwrap();
    assert_eq!(write(&fs, 1, b"x"), Err(Errno::Badf));
}

// ---- read-only preopens ----

#[test]
fn a_read_only_preopen_refuses_changes_with_eperm() {
    let fs = vfs();
    assert_eq!(
        open_at(&fs, READ_ONLY, "new.txt", oflags::CREAT, FILE_RIGHTS, 0),
        Err(Errno::Perm)
    );
    assert_eq!(
        open_at(&fs, READ_ONLY, "hello.txt", 0, FILE_RIGHTS, 0),
        Err(Errno::Perm)
    );
    assert_eq!(
        open_at(&fs, READ_ONLY, "hello.txt", oflags::TRUNC, READ, 0),
        Err(Errno::Perm)
    );
    assert_eq!(mkdir_at(&fs, READ_ONLY, "d"), Err(Errno::Perm));
    assert_eq!(unlink_at(&fs, READ_ONLY, "hello.txt"), Err(Errno::Perm));
    assert_eq!(
        rename_at(&fs, READ_ONLY, "hello.txt", "x"),
        Err(Errno::Perm)
    );
    let fd = open_at(
        &fs,
        READ_ONLY,
        "hello.txt",
        0,
        READ | rights::FD_FILESTAT_SET_TIMES,
        0,
    )
    .unwrap();
    assert_eq!(read(&fs, fd, 5).unwrap(), b"hello");
    assert_eq!(
        fs.fd_filestat_set_times(C, fd, 1, 1, fstflags::ATIM as u32),
        Err(Errno::Perm)
    );
    let docs = open_dir(&fs, READ_ONLY, "docs").unwrap();
    assert_eq!(
        mkdir_at(&fs, docs, "x"),
        Err(Errno::Perm),
        "inherited by directories opened below"
    );
    assert_eq!(names(&fs, docs), [".", "..", "guide.txt", "more"]);
    assert_eq!(
        fs.write_file("/ro/seeded.txt", b"by the host"),
        Ok(()),
        "the host may"
    );
}

// ---- sizes and times ----

#[test]
fn sizes_grow_and_shrink() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, FILE_RIGHTS).unwrap();
    assert_eq!(fs.fd_filestat_set_size(C, fd, 5), Ok(()));
    assert_eq!(read_all(&fs, fd), b"hello");
    assert_eq!(fs.fd_filestat_set_size(C, fd, 7), Ok(()));
    assert_eq!(read_all(&fs, fd), b"hello\0\0");
    assert_eq!(fs.fd_allocate(C, fd, 8, 2), Ok(()));
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().size, 10);
    assert_eq!(fs.fd_allocate(C, fd, 0, 1), Ok(()), "never shrinks");
    assert_eq!(fs.fd_filestat_get(C, fd).unwrap().size, 10);
    assert_eq!(fs.fd_allocate(C, fd, u64::MAX, 1), Err(Errno::Fbig));
    assert_eq!(fs.fd_filestat_set_size(C, fd, u64::MAX), Err(Errno::Fbig));
    assert_eq!(fs.fd_filestat_set_size(C, ROOT, 0), Err(Errno::Badf));
    assert_eq!(fs.fd_filestat_set_size(C, fd, 0), Ok(()));
    assert_eq!(read_all(&fs, fd), b"");
}

#[test]
fn times_are_set_by_value_or_now() {
    let clock = leaked(VirtualClock::new(1_000, 0));
    let fs = Vfs::new(&PREOPENS, &StdioConfig::IGNORE).with_clock(clock);
    let fd = open(&fs, "hello.txt", 0, FILE_RIGHTS).unwrap();
    assert_eq!(
        fs.fd_filestat_set_times(C, fd, 5, 6, (fstflags::ATIM | fstflags::MTIM) as u32),
        Ok(())
    );
    let st = fs.fd_filestat_get(C, fd).unwrap();
    assert_eq!((st.atim, st.mtim, st.ctim), (5, 6, 1_000));
    let both = (fstflags::ATIM | fstflags::ATIM_NOW) as u32;
    assert_eq!(
        fs.fd_filestat_set_times(C, fd, 5, 6, both),
        Err(Errno::Inval)
    );
    assert_eq!(
        fs.fd_filestat_set_times(C, fd, 0, 0, 1 << 4),
        Err(Errno::Inval)
    );
    assert_eq!(fs.fd_filestat_set_times(C, 1, 0, 0, 0), Err(Errno::Badf));
    clock.advance_to(crate::types::Clockid::Realtime, 2_000);
    let (p, l) = put(PATH, b"docs");
    let now = fstflags::MTIM_NOW as u32;
    assert_eq!(
        fs.path_filestat_set_times(C, ROOT, FOLLOW, p, l, 0, 0, now),
        Ok(())
    );
    assert_eq!(stat(&fs, "docs").unwrap().mtim, 2_000);
    write(&fs, fd, b"x").unwrap();
    assert_eq!(
        fs.fd_filestat_get(C, fd).unwrap().mtim,
        2_000,
        "writes touch mtim"
    );
}

// ---- fd table ----

#[test]
fn fds_are_closed_renumbered_and_reused() {
    let fs = vfs();
    let a = create(&fs, "a");
    let b = create(&fs, "b");
    assert_eq!((a, b), (6, 7));
    assert_eq!(fs.fd_renumber(C, a, b), Ok(()));
    assert_eq!(
        fs.fd_filestat_get(C, b).unwrap().ino,
        stat(&fs, "a").unwrap().ino
    );
    assert_eq!(fs.fd_close(C, a), Err(Errno::Badf));
    assert_eq!(fs.fd_renumber(C, b, 42), Err(Errno::Badf));
    assert_eq!(fs.fd_renumber(C, 42, b), Err(Errno::Badf));
    assert_eq!(fs.fd_renumber(C, b, b), Ok(()));
    assert_eq!(create(&fs, "c"), a, "the freed number is reused");
    assert_eq!(fs.fd_close(C, ROOT), Ok(()), "a preopen may be closed");
    assert_eq!(stat(&fs, "a"), Err(Errno::Badf));
}

#[test]
fn each_caller_has_its_own_fd_table_over_one_tree() {
    let fs = vfs();
    let other = Caller {
        name: "other",
        memory: C.memory,
    };
    let fd = create(&fs, "shared.txt");
    write(&fs, fd, b"from test").unwrap();
    let (p, l) = put(PATH, b"shared.txt");
    let theirs = fs.path_open(&other, ROOT, 0, p, l, 0, READ, 0, 0).unwrap();
    assert_eq!(theirs, fd, "same number, separate table");
    assert_eq!(fs.fd_close(&other, theirs), Ok(()));
    assert_eq!(fs.fd_tell(C, fd), Ok(9), "the test's fd is still open");
    assert_eq!(fs.fd_close(&other, theirs), Err(Errno::Badf));
}

// ---- the rest ----

#[test]
fn advise_sync_and_sockets() {
    let fs = vfs();
    let fd = open(&fs, "hello.txt", 0, FILE_RIGHTS).unwrap();
    assert_eq!(fs.fd_advise(C, fd, 0, 10, 5), Ok(()));
    assert_eq!(fs.fd_advise(C, fd, 0, 10, 6), Err(Errno::Inval));
    assert_eq!(fs.fd_advise(C, ROOT, 0, 10, 0), Err(Errno::Badf));
    assert_eq!(fs.fd_sync(C, fd), Ok(()));
    assert_eq!(fs.fd_datasync(C, fd), Ok(()));
    assert_eq!(fs.fd_sync(C, ROOT), Err(Errno::Badf), "as wasmtime");
    assert_eq!(fs.sock_accept(C, fd, 0), Err(Errno::Notsock));
    assert_eq!(fs.sock_recv(C, 1, 0, 0, 0), Err(Errno::Notsock));
    assert_eq!(fs.sock_send(C, ROOT, 0, 0, 0), Err(Errno::Notsock));
    assert_eq!(fs.sock_shutdown(C, 99, 0), Err(Errno::Badf));
}

#[test]
fn the_host_reads_and_writes_by_guest_path() {
    let fs = vfs();
    assert_eq!(fs.create_dir_all("/tmp/a/b/c"), Ok(()));
    assert_eq!(fs.create_dir_all("/tmp/a/b"), Ok(()));
    assert_eq!(fs.write_file("/tmp/a/b/c/in.txt", b"input"), Ok(()));
    assert_eq!(fs.write_file("/tmp/none/in.txt", b"x"), Err(Errno::Noent));
    assert_eq!(fs.write_file("/tmp/a", b"x"), Err(Errno::Isdir));
    assert_eq!(fs.create_dir_all("/hello.txt"), Err(Errno::Exist));
    assert_eq!(fs.read_dir("/tmp/a/b/c"), ["in.txt"]);
    assert_eq!(
        fs.read_dir("/"),
        ["docs", "hello.txt", "link", "loop", "out"]
    );
    assert!(fs.read_dir("/missing").is_empty());
    let (p, l) = put(PATH, b"a/b/c/in.txt");
    let fd = fs.path_open(C, TMP, 0, p, l, 0, READ, 0, 0).unwrap();
    assert_eq!(read(&fs, fd, 10).unwrap(), b"input", "the program sees it");
    write(&fs, create(&fs, "result.txt"), b"output").unwrap();
    assert_eq!(fs.read_file("/result.txt").unwrap(), b"output");
    assert_eq!(fs.read_file("/link").unwrap(), b"hello, world\n");
    assert_eq!(fs.read_file("/docs"), Err(Errno::Isdir));
    fs.reset();
    assert!(fs.read_dir("/tmp").is_empty());
}
