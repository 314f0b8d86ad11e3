//! Conformance cases that call preview1 directly: `conformance-raw CASE`.
//!
//! Each case prints one line per call (`what: ok VALUE` or `what: ERRNO`);
//! the suite runs it under wasmtime's host WASI and merged with the
//! conformance guest, and compares stdout, the exit code and the folder
//! trees afterwards. Nothing printed depends on timestamps, inode or device
//! numbers, or the order a host lists a directory in.

mod rights_cases;
mod sys;
mod w;

use w::*;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match CASES.iter().find(|(name, _)| *name == case) {
        Some((_, run)) => run(),
        None => {
            eprintln!("unknown case {case:?}");
            std::process::exit(2);
        }
    }
}

const CASES: &[(&str, fn())] = &[
    ("args", args),
    ("env", env),
    ("clocks", clocks),
    ("random", random),
    ("sched_yield", sched_yield),
    ("exit_3", exit_3),
    ("proc_raise", proc_raise),
    ("poll_no_subscriptions", poll_no_subscriptions),
    ("poll_clock_relative", poll_clock_relative),
    ("poll_clock_absolute", poll_clock_absolute),
    ("poll_two_clocks", poll_two_clocks),
    ("poll_clock_errors", poll_clock_errors),
    ("poll_fd_readiness", poll_fd_readiness),
    ("poll_fd_errors", poll_fd_errors),
    ("fd_read_write", fd_read_write),
    ("vectored", vectored),
    ("fd_pread_pwrite", fd_pread_pwrite),
    ("fd_pwrite_append", fd_pwrite_append),
    ("fd_seek_tell", fd_seek_tell),
    ("fd_allocate", fd_allocate),
    ("fd_advise", fd_advise),
    ("fd_sync", fd_sync),
    ("fd_renumber", fd_renumber),
    ("fd_close", fd_close),
    ("fd_fdstat_get", fd_fdstat_get),
    ("fd_fdstat_set_flags", fd_fdstat_set_flags),
    ("fd_fdstat_set_rights", fd_fdstat_set_rights),
    ("fd_filestat_get", fd_filestat_get),
    ("fd_filestat_set_size", fd_filestat_set_size),
    ("fd_filestat_set_times", fd_filestat_set_times),
    ("fd_prestat", fd_prestat),
    ("fd_readdir", fd_readdir),
    ("fd_readdir_truncation", fd_readdir_truncation),
    ("path_open_oflags", path_open_oflags),
    ("path_open_directories", path_open_directories),
    ("path_open_fdflags", path_open_fdflags),
    ("path_open_rights", path_open_rights),
    ("path_open_symlinks", path_open_symlinks),
    ("path_escape", path_escape),
    ("path_forms", path_forms),
    ("path_create_directory", path_create_directory),
    ("path_remove_directory", path_remove_directory),
    ("path_unlink_file", path_unlink_file),
    ("path_rename_files", path_rename_files),
    ("path_rename_dirs", path_rename_dirs),
    ("path_link", path_link),
    ("path_symlink_readlink", path_symlink_readlink),
    ("symlink_loops", symlink_loops),
    ("path_filestat_get", path_filestat_get),
    ("path_filestat_set_times", path_filestat_set_times),
    ("sock", sock),
    ("overlay", overlay),
    ("bad", bad_call),
    ("rights", rights_cases::rights_check),
];

/// An address past the end of any memory this program has.
const BAD: u32 = 0xFFFF_FFF0;

fn bad<T>() -> *mut T {
    BAD as usize as *mut T
}

fn args() {
    let (mut argc, mut size) = (0u32, 0u32);
    done(
        "args_sizes_get",
        ck(unsafe { sys::args_sizes_get(&mut argc, &mut size) }),
    );
    let mut ptrs = vec![core::ptr::null_mut::<u8>(); argc as usize];
    let mut buf = vec![0u8; size as usize];
    done(
        "args_get",
        ck(unsafe { sys::args_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) }),
    );
    // argv[0] is the host's choice of program name: left out.
    let argv0 = buf.iter().position(|&b| b == 0).unwrap() + 1;
    println!("argc={argc} buf without argv[0]={}", size as usize - argv0);
    // argv[0] is the host's choice of program name: skipped.
    for (i, &p) in ptrs.iter().enumerate().skip(1) {
        let offset = p as usize - buf.as_ptr() as usize;
        let end = buf[offset..].iter().position(|&b| b == 0).unwrap();
        println!(
            "argv[{i}]={:?}",
            String::from_utf8_lossy(&buf[offset..offset + end])
        );
    }
}

fn env() {
    let (mut count, mut size) = (0u32, 0u32);
    done(
        "environ_sizes_get",
        ck(unsafe { sys::environ_sizes_get(&mut count, &mut size) }),
    );
    println!("environc={count} buf={size}");
    let mut ptrs = vec![core::ptr::null_mut::<u8>(); count as usize];
    let mut buf = vec![0u8; size as usize];
    done(
        "environ_get",
        ck(unsafe { sys::environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) }),
    );
    let mut entries: Vec<String> = ptrs
        .iter()
        .map(|&p| {
            let offset = p as usize - buf.as_ptr() as usize;
            let end = buf[offset..].iter().position(|&b| b == 0).unwrap();
            format!("{:?}", String::from_utf8_lossy(&buf[offset..offset + end]))
        })
        .collect();
    // Hosts keep their own order of the variables.
    entries.sort();
    for e in entries {
        println!("env {e}");
    }
}

fn time(id: u32) -> R<u64> {
    let mut t = 0;
    ck(unsafe { sys::clock_time_get(id, 1, &mut t) }).map(|()| t)
}

fn clocks() {
    for id in 0..4 {
        let mut res = 0;
        let r = ck(unsafe { sys::clock_res_get(id, &mut res) }).map(|()| res > 0);
        show(&format!("clock_res_get({id}) > 0"), r);
        show(&format!("clock_time_get({id}) ok"), time(id).map(|_| ()));
    }
    let a = time(1).unwrap();
    let b = time(1).unwrap();
    println!("monotonic non-decreasing: {}", b >= a);
    println!(
        "realtime after 2000: {}",
        time(0).unwrap() >= 946_684_800_000_000_000
    );
}

fn random() {
    let mut buf = vec![0u8; 1 << 20];
    done(
        "random_get(0)",
        ck(unsafe { sys::random_get(buf.as_mut_ptr(), 0) }),
    );
    done(
        "random_get(16)",
        ck(unsafe { sys::random_get(buf.as_mut_ptr(), 16) }),
    );
    println!(
        "16 bytes not all zero: {}",
        buf[..16].iter().any(|&b| b != 0)
    );
    done(
        "random_get(1 MiB)",
        ck(unsafe { sys::random_get(buf.as_mut_ptr(), 1 << 20) }),
    );
    let distinct = buf.iter().collect::<std::collections::BTreeSet<_>>().len();
    println!("1 MiB has all 256 byte values: {}", distinct == 256);
}

fn sched_yield() {
    done("sched_yield", ck(unsafe { sys::sched_yield() }));
    done("sched_yield again", ck(unsafe { sys::sched_yield() }));
}

fn exit_3() {
    println!("exiting with 3");
    unsafe { sys::proc_exit(3) }
}

fn proc_raise() {
    println!("raising");
    done("proc_raise(SIGTERM)", ck(unsafe { sys::proc_raise(15) }));
}

// ---- poll_oneoff ----

fn clock_sub(userdata: u64, id: u32, timeout: u64, absolute: bool) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = 0;
    b[16..20].copy_from_slice(&id.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&(absolute as u16).to_le_bytes());
    b
}

fn fd_sub(userdata: u64, kind: u8, fd: u32) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = kind;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    b
}

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl core::fmt::Debug for Event {
    /// A clock event's `fd_readwrite` means nothing: left out.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = ["clock", "fd_read", "fd_write"]
            .get(self.kind as usize)
            .unwrap_or(&"?");
        write!(
            f,
            "{kind} userdata={} error={:?}",
            self.userdata, self.error
        )?;
        if self.kind != 0 {
            write!(f, " nbytes={} flags={}", self.nbytes, self.flags)?;
        }
        Ok(())
    }
}

fn poll(subs: &[[u8; 48]]) -> R<Vec<Event>> {
    let input: Vec<u8> = subs.iter().flatten().copied().collect();
    let mut out = vec![0u8; 32 * subs.len().max(1)];
    let mut n = 0;
    ck(unsafe { sys::poll_oneoff(input.as_ptr(), out.as_mut_ptr(), subs.len() as u32, &mut n) })?;
    let mut events: Vec<Event> = out
        .chunks_exact(32)
        .take(n as usize)
        .map(|e| Event {
            userdata: u64::from_le_bytes(e[0..8].try_into().unwrap()),
            error: Errno(u16::from_le_bytes([e[8], e[9]]) as i32),
            kind: e[10],
            nbytes: u64::from_le_bytes(e[16..24].try_into().unwrap()),
            flags: u16::from_le_bytes([e[24], e[25]]),
        })
        .collect();
    events.sort_by_key(|e| e.userdata);
    Ok(events)
}

fn poll_no_subscriptions() {
    show("poll_oneoff(0 subscriptions)", poll(&[]).map(|e| e.len()));
}

fn poll_clock_relative() {
    for (name, id) in [("monotonic", 1), ("realtime", 0)] {
        let before = time(1).unwrap();
        let events = poll(&[clock_sub(7, id, 2_000_000, false)]);
        let after = time(1).unwrap();
        show(&format!("poll {name} +2ms"), events);
        println!("slept at least 2ms: {}", after - before >= 2_000_000);
    }
    show("poll monotonic +0", poll(&[clock_sub(8, 1, 0, false)]));
}

fn poll_clock_absolute() {
    show(
        "poll monotonic at 0 (past)",
        poll(&[clock_sub(1, 1, 0, true)]),
    );
    let deadline = time(1).unwrap() + 3_000_000;
    show(
        "poll monotonic at now+3ms",
        poll(&[clock_sub(2, 1, deadline, true)]),
    );
    println!("reached the deadline: {}", time(1).unwrap() >= deadline);
    let deadline = time(0).unwrap() + 1_000_000;
    show(
        "poll realtime at now+1ms",
        poll(&[clock_sub(3, 0, deadline, true)]),
    );
}

fn poll_two_clocks() {
    let events = poll(&[
        clock_sub(10, 1, 60_000_000_000, false),
        clock_sub(11, 1, 1_000_000, false),
    ]);
    show("poll +60s and +1ms", events);
}

fn poll_clock_errors() {
    show(
        "poll process cputime",
        poll(&[clock_sub(2, 2, 1000, false)]),
    );
    show("poll thread cputime", poll(&[clock_sub(3, 3, 1000, false)]));
    show("poll clock id 9", poll(&[clock_sub(4, 9, 1000, false)]));
    let mut b = clock_sub(5, 1, 1000, false);
    b[8] = 7;
    show("poll an unknown event type", poll(&[b]));
}

fn poll_fd_readiness() {
    let fd = open_rw("digits.txt", 0).unwrap();
    seek(fd, 30, 0).unwrap();
    let long = clock_sub(9, 1, 60_000_000_000, false);
    show(
        "poll read of a file at 30 of 37",
        poll(&[fd_sub(1, 1, fd), long]),
    );
    show("poll write of a file", poll(&[fd_sub(2, 2, fd), long]));
    seek(fd, 0, 2).unwrap();
    show(
        "poll read of a file at its end",
        poll(&[fd_sub(3, 1, fd), long]),
    );
    show("poll write of stdout", poll(&[fd_sub(4, 2, 1), long]));
    show("poll write of stderr", poll(&[fd_sub(5, 2, 2), long]));
}

fn poll_fd_errors() {
    show("poll read of fd 99", poll(&[fd_sub(1, 1, 99)]));
    show("poll read of a directory", poll(&[fd_sub(2, 1, ROOT)]));
}

// ---- fd_* on files ----

fn fd_read_write() {
    let fd = open_rw("rw.txt", CREAT).unwrap();
    show("write", write(fd, &[b"hello world\n"]));
    show("write an empty iovec", write(fd, &[b""]));
    show("tell", tell(fd));
    show("seek 0", seek(fd, 0, 0));
    show("read 5", read(fd, &[5]));
    show("read an empty iovec", read(fd, &[0]));
    show("read 20", read(fd, &[20]));
    show("read at end", read(fd, &[8]));
    show("read no iovecs", read(fd, &[]));
    show("write no iovecs", write(fd, &[]));
    show("read stdout", read(1, &[4]));
    show("write stdin", write(0, &[b"x"]));
    show("read a directory", read(ROOT, &[4]));
    show("write a directory", write(ROOT, &[b"x"]));
    show("read fd 99", read(99, &[4]));
    close(fd).unwrap();
    let big = open_rw("big.bin", CREAT).unwrap();
    let chunk = vec![b'z'; 140_000];
    show("write 140000 bytes", write(big, &[&chunk]));
    show("filestat", filestat(big));
}

/// Vectored I/O: how much one call moves may differ (a short count is
/// allowed); what the file holds once a program has looped must not.
fn vectored() {
    let fd = open_rw("vec.txt", CREAT).unwrap();
    let parts: [&[u8]; 3] = [b"hello ", b"", b"world\n"];
    let n = write(fd, &parts).unwrap();
    println!("first fd_write of [6, 0, 6] bytes: {n}");
    let all: Vec<u8> = parts.concat();
    let mut done_bytes = n as usize;
    while done_bytes < all.len() {
        done_bytes += write(fd, &[&all[done_bytes..]]).unwrap() as usize;
    }
    let n = pwrite(fd, &[b"AB", b"CD"], 0).unwrap();
    println!("first fd_pwrite of [2, 2] bytes: {n}");
    if n == 2 {
        pwrite(fd, &[b"CD"], 2).unwrap();
    }
    seek(fd, 0, 0).unwrap();
    show("first fd_read into [3, 0, 20]", read(fd, &[3, 0, 20]));
    show("first fd_pread into [2, 3] at 0", pread(fd, &[2, 3], 0));
    show("whole file", pread(fd, &[64], 0));
}

fn fd_pread_pwrite() {
    let fd = open_rw("digits.txt", 0).unwrap();
    show("pread 5 at 10", pread(fd, &[5], 10));
    show("pread past the end", pread(fd, &[4], 100));
    show("tell after preads", tell(fd));
    show("pwrite at 2", pwrite(fd, &[b"AB"], 2));
    show("pwrite past the end", pwrite(fd, &[b"END"], 40));
    show("tell after pwrites", tell(fd));
    show("read all", read(fd, &[64]).map(|s| s.replace('\0', "0")));
    show("pread stdin", pread(0, &[1], 0));
    show("pwrite stdout", pwrite(1, &[b"x"], 0));
    show("pread a directory", pread(ROOT, &[1], 0));
}

fn fd_pwrite_append() {
    let fd = open(ROOT, 0, "dir/a.txt", 0, rights::ALL, APPEND).unwrap();
    show("pwrite at 0 on an append fd", pwrite(fd, &[b"P"], 0));
    show("write on an append fd", write(fd, &[b"W"]));
    close(fd).unwrap();
    let fd = open_rw("dir/a.txt", 0).unwrap();
    show("content", read(fd, &[64]));
}

fn fd_seek_tell() {
    let fd = open_rw("digits.txt", 0).unwrap();
    show("seek SET 5", seek(fd, 5, 0));
    show("seek CUR 3", seek(fd, 3, 1));
    show("seek END -2", seek(fd, -2, 2));
    show("read", read(fd, &[8]));
    show("seek END 0", seek(fd, 0, 2));
    show("seek SET -1", seek(fd, -1, 0));
    show("seek CUR -100", seek(fd, -100, 1));
    show("tell after failed seeks", tell(fd));
    show("seek SET 50", seek(fd, 50, 0));
    show("write past the end", write(fd, &[b"Z"]));
    show("filestat", filestat(fd));
    show("seek a directory", seek(ROOT, 0, 0));
    show("seek stdout", seek(1, 0, 1));
    show("tell stdout", tell(1));
    show("tell a directory", tell(ROOT));
    show("seek fd 99", seek(99, 0, 0));
}

fn fd_allocate() {
    let fd = open_rw("digits.txt", 0).unwrap();
    done(
        "fd_allocate inside the file",
        ck(unsafe { sys::fd_allocate(fd, 0, 5) }),
    );
    show("size", filestat(fd).map(|s| s.size));
    done(
        "fd_allocate a directory",
        ck(unsafe { sys::fd_allocate(ROOT, 0, 5) }),
    );
    done(
        "fd_allocate fd 99",
        ck(unsafe { sys::fd_allocate(99, 0, 5) }),
    );
}

fn fd_advise() {
    let fd = open_rw("digits.txt", 0).unwrap();
    for advice in 0..6 {
        done(
            &format!("fd_advise {advice}"),
            ck(unsafe { sys::fd_advise(fd, 0, 10, advice) }),
        );
    }
    done(
        "fd_advise a directory",
        ck(unsafe { sys::fd_advise(ROOT, 0, 10, 0) }),
    );
    done(
        "fd_advise fd 99",
        ck(unsafe { sys::fd_advise(99, 0, 10, 0) }),
    );
}

fn fd_sync() {
    let fd = open_rw("digits.txt", 0).unwrap();
    write(fd, &[b"sync"]).unwrap();
    done("fd_sync file", ck(unsafe { sys::fd_sync(fd) }));
    done("fd_datasync file", ck(unsafe { sys::fd_datasync(fd) }));
    let ro = open(
        ROOT,
        0,
        "hello.txt",
        0,
        rights::FD_READ | rights::FD_SYNC | rights::FD_DATASYNC,
        0,
    )
    .unwrap();
    done("fd_sync read-only file", ck(unsafe { sys::fd_sync(ro) }));
    done(
        "fd_datasync read-only file",
        ck(unsafe { sys::fd_datasync(ro) }),
    );
    let dir = open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap();
    done("fd_sync directory", ck(unsafe { sys::fd_sync(dir) }));
    done(
        "fd_datasync directory",
        ck(unsafe { sys::fd_datasync(dir) }),
    );
    done("fd_sync fd 99", ck(unsafe { sys::fd_sync(99) }));
}

fn fd_renumber() {
    let a = open_rw("dir/a.txt", 0).unwrap();
    let b = open_rw("dir/b.txt", 0).unwrap();
    println!("opened a={a} b={b}");
    done("renumber a -> b", ck(unsafe { sys::fd_renumber(a, b) }));
    show("read b", read(b, &[64]));
    show("read a", read(a, &[64]));
    done("renumber b -> 99", ck(unsafe { sys::fd_renumber(b, 99) }));
    done("renumber 99 -> b", ck(unsafe { sys::fd_renumber(99, b) }));
    done("renumber b -> b", ck(unsafe { sys::fd_renumber(b, b) }));
    show("next open", open_rw("hello.txt", 0));
    show("and the next", open_rw("hello.txt", 0));
}

fn fd_close() {
    let fd = open_rw("hello.txt", 0).unwrap();
    done("close", close(fd));
    done("close again", close(fd));
    done("close fd 99", close(99));
    done("close the /tmp preopen", close(TMP));
    show("prestat of it", prestat(TMP));
    show("open through it", open(TMP, 0, "x", CREAT, rights::ALL, 0));
    show("reopened fd", open_rw("hello.txt", 0));
}

fn fd_fdstat_get() {
    for (name, fd) in [("root preopen", ROOT), ("tmp preopen", TMP)] {
        show(name, fdstat(fd));
    }
    let f = open_rw("hello.txt", 0).unwrap();
    show("file", fdstat(f));
    let d = open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap();
    show("directory", fdstat(d));
    show("fd 99", fdstat(99));
}

fn fd_fdstat_set_flags() {
    let fd = open_rw("dir/b.txt", 0).unwrap();
    done(
        "set APPEND",
        ck(unsafe { sys::fd_fdstat_set_flags(fd, APPEND) }),
    );
    show("flags", fdstat(fd).map(|s| s.flags));
    show("write", write(fd, &[b"+"]));
    done(
        "set NONBLOCK",
        ck(unsafe { sys::fd_fdstat_set_flags(fd, NONBLOCK) }),
    );
    show("flags", fdstat(fd).map(|s| s.flags));
    show("write", write(fd, &[b"-"]));
    done(
        "set DSYNC",
        ck(unsafe { sys::fd_fdstat_set_flags(fd, DSYNC) }),
    );
    done(
        "set on a directory",
        ck(unsafe { sys::fd_fdstat_set_flags(ROOT, 0) }),
    );
    done(
        "set on fd 99",
        ck(unsafe { sys::fd_fdstat_set_flags(99, 0) }),
    );
}

fn fd_fdstat_set_rights() {
    // A scratch file, removed at the end: hosts that ignore rights write to it.
    let fd = open_rw("scratch.txt", CREAT).unwrap();
    write(fd, &[b"scratch"]).unwrap();
    let st = fdstat(fd).unwrap();
    let narrowed = st.base & !rights::FD_WRITE;
    done(
        "drop FD_WRITE",
        ck(unsafe { sys::fd_fdstat_set_rights(fd, narrowed, st.inheriting) }),
    );
    show("write after dropping FD_WRITE", pwrite(fd, &[b"!"], 0));
    show("read still works", pread(fd, &[3], 1));
    unlink(ROOT, "scratch.txt").unwrap();
    done(
        "take FD_WRITE back",
        ck(unsafe { sys::fd_fdstat_set_rights(fd, st.base, st.inheriting) }),
    );
    done(
        "set rights of fd 99",
        ck(unsafe { sys::fd_fdstat_set_rights(99, 0, 0) }),
    );
}

fn fd_filestat_get() {
    let f = open_rw("hello.txt", 0).unwrap();
    show("file", filestat(f));
    let d = open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap();
    show("directory", filestat(d));
    show("preopen", filestat(ROOT));
    show("fd 99", filestat(99));
    let st = filestat(f).unwrap();
    let p = path_stat(ROOT, 0, "hello.txt").unwrap();
    println!(
        "same inode as by path: {}",
        st.ino == p.ino && st.dev == p.dev
    );
}

fn fd_filestat_set_size() {
    let fd = open_rw("dir/a.txt", 0).unwrap();
    done(
        "grow to 10",
        ck(unsafe { sys::fd_filestat_set_size(fd, 10) }),
    );
    show("content", pread(fd, &[64], 0).map(|s| s.replace('\0', "0")));
    done(
        "shrink to 3",
        ck(unsafe { sys::fd_filestat_set_size(fd, 3) }),
    );
    show("content", pread(fd, &[64], 0));
    let ro = open(ROOT, 0, "dir/b.txt", 0, rights::FD_READ | (1 << 22), 0).unwrap();
    done(
        "set size without FD_WRITE",
        ck(unsafe { sys::fd_filestat_set_size(ro, 1) }),
    );
    done(
        "set size of a directory",
        ck(unsafe { sys::fd_filestat_set_size(ROOT, 1) }),
    );
    done(
        "set size of fd 99",
        ck(unsafe { sys::fd_filestat_set_size(99, 1) }),
    );
}

const ATIM: u32 = 1;
const ATIM_NOW: u32 = 2;
const MTIM: u32 = 4;
const MTIM_NOW: u32 = 8;
const T1: u64 = 1_000_000_000_123_456_789;
const T2: u64 = 1_100_000_000_000_000_000;

fn fd_filestat_set_times() {
    let fd = open_rw("hello.txt", 0).unwrap();
    let r = ck(unsafe { sys::fd_filestat_set_times(fd, T1, T2, ATIM | MTIM) });
    done("set atim and mtim", r);
    let st = filestat(fd).unwrap();
    println!("atim={} mtim={}", st.atim == T1, st.mtim == T2);
    done(
        "set mtim only",
        ck(unsafe { sys::fd_filestat_set_times(fd, 0, T1, MTIM) }),
    );
    let st = filestat(fd).unwrap();
    println!("atim kept={} mtim={}", st.atim == T1, st.mtim == T1);
    done(
        "set both to now",
        ck(unsafe { sys::fd_filestat_set_times(fd, 0, 0, ATIM_NOW | MTIM_NOW) }),
    );
    let st = filestat(fd).unwrap();
    println!("now is after 2000: {}", st.mtim > 946_684_800_000_000_000);
    done(
        "ATIM|ATIM_NOW",
        ck(unsafe { sys::fd_filestat_set_times(fd, 0, 0, ATIM | ATIM_NOW) }),
    );
    done(
        "MTIM|MTIM_NOW",
        ck(unsafe { sys::fd_filestat_set_times(fd, 0, 0, MTIM | MTIM_NOW) }),
    );
    done(
        "no flags",
        ck(unsafe { sys::fd_filestat_set_times(fd, 0, 0, 0) }),
    );
    done(
        "directory",
        ck(unsafe { sys::fd_filestat_set_times(ROOT, T1, T1, ATIM | MTIM) }),
    );
    done(
        "fd 99",
        ck(unsafe { sys::fd_filestat_set_times(99, T1, T1, ATIM) }),
    );
}

fn prestat(fd: u32) -> R<String> {
    let mut b = [0u8; 8];
    ck(unsafe { sys::fd_prestat_get(fd, b.as_mut_ptr()) })?;
    let len = u32::from_le_bytes(b[4..8].try_into().unwrap());
    let mut name = vec![0u8; len as usize];
    ck(unsafe { sys::fd_prestat_dir_name(fd, name.as_mut_ptr(), len) })?;
    Ok(format!(
        "tag={} name={:?}",
        b[0],
        String::from_utf8_lossy(&name)
    ))
}

fn fd_prestat() {
    for fd in [ROOT, TMP, 5, 0, 1] {
        show(&format!("prestat {fd}"), prestat(fd));
    }
    let mut name = [0u8; 2];
    done(
        "dir_name into 2 bytes",
        ck(unsafe { sys::fd_prestat_dir_name(TMP, name.as_mut_ptr(), 2) }),
    );
    let mut big = [b'#'; 8];
    done(
        "dir_name into 8 bytes",
        ck(unsafe { sys::fd_prestat_dir_name(TMP, big.as_mut_ptr(), 8) }),
    );
    println!("bytes: {:?}", String::from_utf8_lossy(&big));
    let f = open_rw("hello.txt", 0).unwrap();
    done(
        "prestat_get of a file",
        ck(unsafe { sys::fd_prestat_get(f, big.as_mut_ptr()) }),
    );
    done(
        "dir_name of a file",
        ck(unsafe { sys::fd_prestat_dir_name(f, big.as_mut_ptr(), 8) }),
    );
    done(
        "dir_name of fd 99",
        ck(unsafe { sys::fd_prestat_dir_name(99, big.as_mut_ptr(), 8) }),
    );
}

fn fd_readdir() {
    let all = readdir_all(ROOT, 4096).unwrap();
    println!("root: {}", names(&all));
    let small = readdir_all(ROOT, 64).unwrap();
    println!("same with 64-byte reads: {}", names(&small) == names(&all));
    let tiny = readdir_all(ROOT, 30).unwrap();
    println!("same with 30-byte reads: {}", names(&tiny) == names(&all));
    let hello = all.iter().find(|e| e.name == "hello.txt").unwrap();
    let st = path_stat(ROOT, 0, "hello.txt").unwrap();
    println!("d_ino is the inode: {}", hello.ino == st.ino);
    let mut cookies: Vec<u64> = all.iter().map(|e| e.next).collect();
    cookies.dedup();
    println!("cookies distinct: {}", cookies.len() == all.len());
    let sub = open(ROOT, 0, "dir/sub", DIRECTORY, rights::DIR, 0).unwrap();
    println!("dir/sub: {}", names(&readdir_all(sub, 4096).unwrap()));
    let f = open_rw("hello.txt", 0).unwrap();
    show("readdir of a file", readdir_raw(f, 128, 0).map(|b| b.len()));
    show("readdir of fd 99", readdir_raw(99, 128, 0).map(|b| b.len()));
    show(
        "readdir at a huge cookie",
        readdir_raw(ROOT, 128, 1 << 40).map(|b| b.len()),
    );
    mkdir(TMP, "empty").unwrap();
    let empty = open(TMP, 0, "empty", DIRECTORY, rights::DIR, 0).unwrap();
    println!("empty: {}", names(&readdir_all(empty, 4096).unwrap()));
}

fn fd_readdir_truncation() {
    mkdir(TMP, "d").unwrap();
    for name in ["one", "two", "three"] {
        close(open(TMP, 0, &format!("d/{name}"), CREAT, rights::ALL, 0).unwrap()).unwrap();
    }
    let d = open(TMP, 0, "d", DIRECTORY, rights::DIR, 0).unwrap();
    let full = readdir_raw(d, 4096, 0).unwrap();
    println!(
        "full listing: {} bytes, {} entries",
        full.len(),
        parse_dirents(&full).len()
    );
    for len in [0, 1, 23, 24, 25, 26, 60] {
        let cut = readdir_raw(d, len, 0).unwrap();
        println!(
            "buf {len}: used {} prefix of full: {}",
            cut.len(),
            full.starts_with(&cut)
        );
    }
    // Entries handed out one per call, following cookies.
    let mut cookie = 0;
    let mut seen = Vec::new();
    loop {
        let bytes = readdir_raw(d, 24 + 5, cookie).unwrap();
        let entries = parse_dirents(&bytes);
        let Some(first) = entries.first() else { break };
        seen.push(first.name.clone());
        cookie = first.next;
        if seen.len() > 10 {
            break;
        }
    }
    seen.sort();
    println!("one by one: {seen:?}");
}

// ---- path_open ----

fn path_open_oflags() {
    show("open missing", open_rw("new.txt", 0));
    show("CREAT missing", open_rw("new.txt", CREAT));
    show("CREAT existing", open_rw("new.txt", CREAT));
    show("CREAT|EXCL existing", open_rw("new.txt", CREAT | EXCL));
    show("CREAT|EXCL new", open_rw("new2.txt", CREAT | EXCL));
    show("EXCL alone existing", open_rw("new.txt", EXCL));
    let fd = open_rw("dir/b.txt", TRUNC).unwrap();
    show("TRUNC size", filestat(fd).map(|s| s.size));
    show(
        "CREAT|TRUNC existing",
        open_rw("hello.txt", CREAT | TRUNC).and_then(filestat),
    );
    show("CREAT in a missing directory", open_rw("nodir/x", CREAT));
    show("CREAT with a trailing slash", open_rw("slash.txt/", CREAT));
    show(
        "CREAT|EXCL on a symlink",
        open_rw("link-file", CREAT | EXCL),
    );
    show(
        "CREAT|EXCL on a dangling symlink",
        open_rw("dangling", CREAT | EXCL),
    );
    show(
        "CREAT through /tmp",
        open(TMP, 0, "t.txt", CREAT, rights::ALL, 0),
    );
    show(
        "open through a file fd",
        open(fd, 0, "x", 0, rights::ALL, 0),
    );
    show("open through stdout", open(1, 0, "x", 0, rights::ALL, 0));
    show("open through fd 99", open(99, 0, "x", 0, rights::ALL, 0));
}

fn path_open_directories() {
    show(
        "dir with DIRECTORY",
        open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).and_then(fdstat),
    );
    show(
        "dir without DIRECTORY",
        open(ROOT, 0, "dir", 0, rights::FD_READ, 0).and_then(fdstat),
    );
    show(
        "dir with DIRECTORY and FD_WRITE",
        open(ROOT, 0, "dir", DIRECTORY, rights::ALL, 0),
    );
    show(
        "file with DIRECTORY",
        open(ROOT, 0, "hello.txt", DIRECTORY, rights::DIR, 0),
    );
    show(
        "dir for writing",
        open(ROOT, 0, "dir", 0, rights::FD_READ | rights::FD_WRITE, 0),
    );
    show(
        "dir with TRUNC",
        open(ROOT, 0, "dir", TRUNC, rights::FD_READ, 0),
    );
    show(
        "DIRECTORY|CREAT",
        open(ROOT, 0, "newdir", DIRECTORY | CREAT, rights::ALL, 0),
    );
    show(
        "DIRECTORY|EXCL",
        open(ROOT, 0, "dir", DIRECTORY | EXCL, rights::ALL, 0),
    );
    show(
        "DIRECTORY|TRUNC",
        open(ROOT, 0, "dir", DIRECTORY | TRUNC, rights::ALL, 0),
    );
    show(
        "CREAT on a directory",
        open(ROOT, 0, "dir", CREAT, rights::FD_READ, 0),
    );
    show(
        "CREAT|EXCL on a directory",
        open(ROOT, 0, "dir", CREAT | EXCL, rights::FD_READ, 0),
    );
    show(
        ".",
        open(ROOT, 0, ".", DIRECTORY, rights::DIR, 0).and_then(fdstat),
    );
    show(
        "dir/..",
        open(ROOT, 0, "dir/..", DIRECTORY, rights::DIR, 0).and_then(fdstat),
    );
    let d = open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap();
    show(
        "open sub/c.txt through dir",
        open(d, 0, "sub/c.txt", 0, rights::ALL, 0).and_then(|f| read(f, &[64])),
    );
    show(
        "create through dir",
        open(d, 0, "made.txt", CREAT, rights::ALL, 0).and_then(|f| write(f, &[b"made"])),
    );
}

fn path_open_fdflags() {
    for (name, flags) in [
        ("APPEND", APPEND),
        ("NONBLOCK", NONBLOCK),
        ("DSYNC", DSYNC),
        ("RSYNC", RSYNC),
        ("SYNC", SYNC),
    ] {
        show(
            &format!("open with {name}"),
            open(ROOT, 0, "digits.txt", 0, rights::ALL, flags).and_then(fdstat),
        );
    }
    let fd = open(ROOT, 0, "dir/a.txt", 0, rights::ALL, APPEND).unwrap();
    show("append write", write(fd, &[b"appended\n"]));
    show("tell", tell(fd));
    show("content", pread(fd, &[64], 0));
}

fn path_open_rights() {
    let r = open(ROOT, 0, "dir/a.txt", 0, rights::FD_READ, 0).unwrap();
    show("read a read-only fd", read(r, &[5]));
    show("write a read-only fd", write(r, &[b"x"]));
    let w = open(ROOT, 0, "dir/a.txt", 0, rights::FD_WRITE, 0).unwrap();
    show("read a write-only fd", read(w, &[5]));
    show("write a write-only fd", write(w, &[b"W"]));
    let none = open(ROOT, 0, "dir/a.txt", 0, 0, 0).unwrap();
    show("read a no-rights fd", read(none, &[5]));
    show("write a no-rights fd", write(none, &[b"N"]));
    show(
        "TRUNC without FD_WRITE",
        open(ROOT, 0, "dir/b.txt", TRUNC, rights::FD_READ, 0).map(|_| ()),
    );
    show("size after", path_stat(ROOT, 0, "dir/b.txt"));
}

fn path_open_symlinks() {
    show(
        "link-file without FOLLOW",
        open(ROOT, 0, "link-file", 0, rights::FD_READ, 0),
    );
    show(
        "link-file with FOLLOW",
        open(ROOT, FOLLOW, "link-file", 0, rights::FD_READ, 0).and_then(|f| read(f, &[64])),
    );
    show(
        "link-dir/a.txt",
        open(ROOT, 0, "link-dir/a.txt", 0, rights::FD_READ, 0).and_then(|f| read(f, &[64])),
    );
    show(
        "link-dir without FOLLOW, DIRECTORY",
        open(ROOT, 0, "link-dir", DIRECTORY, rights::DIR, 0),
    );
    show(
        "link-dir with FOLLOW, DIRECTORY",
        open(ROOT, FOLLOW, "link-dir", DIRECTORY, rights::DIR, 0).and_then(fdstat),
    );
    show(
        "link-dir/ (trailing slash)",
        open(ROOT, 0, "link-dir/", DIRECTORY, rights::DIR, 0).and_then(fdstat),
    );
    show(
        "link-deep with FOLLOW",
        open(ROOT, FOLLOW, "link-deep", 0, rights::FD_READ, 0).and_then(|f| read(f, &[64])),
    );
    show(
        "dangling with FOLLOW",
        open(ROOT, FOLLOW, "dangling", 0, rights::FD_READ, 0),
    );
    show(
        "dangling CREAT without FOLLOW",
        open(ROOT, 0, "dangling", CREAT, rights::ALL, 0),
    );
    show(
        "dangling CREAT with FOLLOW",
        open(ROOT, FOLLOW, "dangling", CREAT, rights::ALL, 0),
    );
}

fn path_escape() {
    show("open ..", open(ROOT, 0, "..", DIRECTORY, rights::DIR, 0));
    show("open ../x", open(ROOT, 0, "../x", 0, rights::ALL, 0));
    show(
        "open dir/../../x",
        open(ROOT, 0, "dir/../../x", 0, rights::ALL, 0),
    );
    show(
        "open /hello.txt",
        open(ROOT, 0, "/hello.txt", 0, rights::ALL, 0),
    );
    let d = open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap();
    show(
        "open ../hello.txt from dir",
        open(d, 0, "../hello.txt", 0, rights::ALL, 0),
    );
    done(
        "symlink esc -> ../outside",
        symlink("../outside", ROOT, "esc"),
    );
    show(
        "open esc with FOLLOW",
        open(ROOT, FOLLOW, "esc", 0, rights::ALL, 0),
    );
    show("stat esc without FOLLOW", path_stat(ROOT, 0, "esc"));
    done(
        "symlink up -> ../hello.txt in dir",
        symlink("../hello.txt", d, "up"),
    );
    show(
        "open dir/up from the root",
        open(ROOT, FOLLOW, "dir/up", 0, rights::FD_READ, 0).and_then(|f| read(f, &[64])),
    );
    show(
        "open up from dir",
        open(d, FOLLOW, "up", 0, rights::FD_READ, 0),
    );
    done("mkdir ../x", mkdir(ROOT, "../x"));
    done("unlink ../x", unlink(ROOT, "../x"));
    done("rename to ../x", rename(ROOT, "digits.txt", ROOT, "../x"));
    done(
        "symlink to an absolute path",
        symlink("/etc/passwd", ROOT, "abs"),
    );
}

fn path_forms() {
    let read_all = |f: u32| read(f, &[64]);
    for path in [
        "dir//a.txt",
        "./dir/./a.txt",
        "dir/sub/../a.txt",
        "dir/a.txt/",
        "",
        ".",
        "dir/",
        "dir/a.txt/.",
        "nope/a.txt",
    ] {
        show(
            &format!("open {path:?}"),
            open(ROOT, 0, path, 0, rights::FD_READ, 0).and_then(|f| {
                if fdstat(f)?.filetype == 3 {
                    Ok("<dir>".to_string())
                } else {
                    read_all(f)
                }
            }),
        );
    }
    show(
        "open with a NUL",
        open_bytes(ROOT, 0, b"dir/a\0.txt", 0, rights::FD_READ, 0),
    );
    show(
        "open non-UTF-8",
        open_bytes(ROOT, 0, b"dir/\xff", 0, rights::FD_READ, 0),
    );
    show(
        "open a 255-byte name",
        open(ROOT, 0, &"n".repeat(255), CREAT, rights::ALL, 0).map(|_| ()),
    );
    show(
        "open a 256-byte name",
        open(ROOT, 0, &"n".repeat(256), CREAT, rights::ALL, 0),
    );
    show(
        "unicode name",
        open(ROOT, 0, "héllo-wörld.txt", 0, rights::FD_READ, 0).and_then(read_all),
    );
}

fn path_create_directory() {
    done("mkdir new", mkdir(ROOT, "new"));
    done("mkdir new again", mkdir(ROOT, "new"));
    done("mkdir new2/ (trailing slash)", mkdir(ROOT, "new2/"));
    done("mkdir a/b (missing parent)", mkdir(ROOT, "a/b"));
    done("mkdir new/inner", mkdir(ROOT, "new/inner"));
    done("mkdir over a file", mkdir(ROOT, "hello.txt"));
    done("mkdir over a dangling symlink", mkdir(ROOT, "dangling"));
    done(
        "mkdir link-dir/x (through a symlink)",
        mkdir(ROOT, "link-dir/x"),
    );
    done("mkdir under a file", mkdir(ROOT, "hello.txt/x"));
    done("mkdir .", mkdir(ROOT, "."));
    done("mkdir empty", mkdir(ROOT, ""));
    done(
        "mkdir through a file fd",
        mkdir(open_rw("hello.txt", 0).unwrap(), "x"),
    );
    done("mkdir in /tmp", mkdir(TMP, "t"));
}

fn path_remove_directory() {
    mkdir(ROOT, "gone").unwrap();
    done("rmdir empty", rmdir(ROOT, "gone"));
    done("rmdir again", rmdir(ROOT, "gone"));
    done("rmdir non-empty", rmdir(ROOT, "notempty"));
    done("rmdir a file", rmdir(ROOT, "hello.txt"));
    done("rmdir .", rmdir(ROOT, "."));
    done("rmdir dir/..", rmdir(ROOT, "dir/.."));
    mkdir(ROOT, "slash").unwrap();
    done("rmdir slash/", rmdir(ROOT, "slash/"));
    done("rmdir link-dir", rmdir(ROOT, "link-dir"));
    unlink(ROOT, "notempty/x.txt").unwrap();
    done("rmdir an emptied embedded dir", rmdir(ROOT, "notempty"));
    done(
        "rmdir through a file fd",
        rmdir(open_rw("hello.txt", 0).unwrap(), "x"),
    );
}

fn path_unlink_file() {
    done("unlink a file", unlink(ROOT, "dir/b.txt"));
    done("unlink again", unlink(ROOT, "dir/b.txt"));
    done("unlink a directory", unlink(ROOT, "dir/sub"));
    done(
        "unlink a file with a trailing slash",
        unlink(ROOT, "dir/a.txt/"),
    );
    done("unlink link-dir", unlink(ROOT, "link-dir"));
    done(
        "unlink link-dir/ (trailing slash)",
        unlink(ROOT, "link-file/"),
    );
    done("unlink dangling", unlink(ROOT, "dangling"));
    done("unlink .", unlink(ROOT, "."));
    let fd = open_rw("digits.txt", 0).unwrap();
    done("unlink an open file", unlink(ROOT, "digits.txt"));
    show("read it after", read(fd, &[10]));
    show("stat it after", filestat(fd));
}

fn path_rename_files() {
    done(
        "file to a new name",
        rename(ROOT, "dir/a.txt", ROOT, "a-moved.txt"),
    );
    done(
        "file over a file",
        rename(ROOT, "dir/b.txt", ROOT, "hello.txt"),
    );
    done(
        "file into a subdirectory",
        rename(ROOT, "digits.txt", ROOT, "dir/sub/digits.txt"),
    );
    done(
        "file over a directory",
        rename(ROOT, "empty.txt", ROOT, "notempty"),
    );
    done("missing file", rename(ROOT, "missing", ROOT, "x"));
    done(
        "file to a missing directory",
        rename(ROOT, "a-moved.txt", ROOT, "nodir/x"),
    );
    done(
        "file with a trailing slash",
        rename(ROOT, "a-moved.txt/", ROOT, "x"),
    );
    done(
        "file to a name with a trailing slash",
        rename(ROOT, "a-moved.txt", ROOT, "x/"),
    );
    done(
        "file across preopens",
        rename(ROOT, "a-moved.txt", TMP, "across.txt"),
    );
    done(
        "a file onto itself",
        rename(ROOT, "empty.txt", ROOT, "empty.txt"),
    );
    done("a symlink", rename(ROOT, "link-file", ROOT, "link-renamed"));
    done("onto a hard link of itself", {
        link(ROOT, 0, "empty.txt", ROOT, "empty-link").unwrap();
        rename(ROOT, "empty.txt", ROOT, "empty-link")
    });
}

fn path_rename_dirs() {
    mkdir(ROOT, "e1").unwrap();
    mkdir(ROOT, "e2").unwrap();
    done("dir to a new name", rename(ROOT, "dir", ROOT, "dir2"));
    done("dir over an empty dir", rename(ROOT, "e1", ROOT, "e2"));
    done(
        "dir over a non-empty dir",
        rename(ROOT, "e2", ROOT, "notempty"),
    );
    done("dir over a file", rename(ROOT, "e2", ROOT, "hello.txt"));
    done(
        "dir into itself",
        rename(ROOT, "dir2", ROOT, "dir2/sub/inner"),
    );
    done("dir onto itself", rename(ROOT, "dir2", ROOT, "dir2"));
    done(
        "dir/ to new/ (trailing slashes)",
        rename(ROOT, "dir2/", ROOT, "dir3/"),
    );
    done(
        "dir to a name with a trailing slash",
        rename(ROOT, "dir3", ROOT, "dir4/"),
    );
    done(". to x", rename(ROOT, ".", ROOT, "x"));
    done("x to .", rename(ROOT, "e2", ROOT, "."));
    done("dir across preopens", rename(ROOT, "dir4", TMP, "dir5"));
    done(
        "a renamed dir's file",
        rename(TMP, "dir5/sub/c.txt", ROOT, "c.txt"),
    );
}

fn path_link() {
    done(
        "link a file",
        link(ROOT, 0, "dir/a.txt", ROOT, "a-link.txt"),
    );
    show(
        "nlink of both",
        path_stat(ROOT, 0, "dir/a.txt")
            .and_then(|a| Ok((a.nlink, path_stat(ROOT, 0, "a-link.txt")?.nlink))),
    );
    let fd = open_rw("a-link.txt", 0).unwrap();
    seek(fd, 0, 2).unwrap();
    write(fd, &[b"via link\n"]).unwrap();
    show(
        "seen through the first name",
        open_rw("dir/a.txt", 0).and_then(|f| read(f, &[64])),
    );
    done("link a directory", link(ROOT, 0, "dir", ROOT, "dir-link"));
    done(
        "link onto an existing name",
        link(ROOT, 0, "dir/a.txt", ROOT, "hello.txt"),
    );
    done("link a missing file", link(ROOT, 0, "missing", ROOT, "x"));
    done(
        "link with SYMLINK_FOLLOW",
        link(ROOT, FOLLOW, "link-file", ROOT, "followed"),
    );
    done(
        "link a symlink",
        link(ROOT, 0, "link-file", ROOT, "link-link"),
    );
    done(
        "link across preopens",
        link(ROOT, 0, "empty.txt", TMP, "empty-link"),
    );
    done(
        "link to a trailing slash",
        link(ROOT, 0, "empty.txt", ROOT, "x/"),
    );
    unlink(ROOT, "dir/a.txt").unwrap();
    show(
        "nlink after unlinking one",
        path_stat(ROOT, 0, "a-link.txt"),
    );
}

fn path_symlink_readlink() {
    done(
        "symlink new -> hello.txt",
        symlink("hello.txt", ROOT, "new-link"),
    );
    show("readlink", readlink(ROOT, "new-link", 64));
    show("readlink into 3 bytes", readlink(ROOT, "new-link", 3));
    show("readlink into 0 bytes", readlink(ROOT, "new-link", 0));
    show("readlink a file", readlink(ROOT, "hello.txt", 64));
    show("readlink a directory", readlink(ROOT, "dir", 64));
    show("readlink missing", readlink(ROOT, "missing", 64));
    show(
        "readlink link-dir/ (trailing slash)",
        readlink(ROOT, "link-dir/", 64),
    );
    show(
        "readlink dir/../link-file",
        readlink(ROOT, "dir/../link-file", 64),
    );
    done(
        "symlink onto an existing name",
        symlink("x", ROOT, "hello.txt"),
    );
    done(
        "symlink onto an existing symlink",
        symlink("x", ROOT, "new-link"),
    );
    done(
        "symlink with an empty target",
        symlink("", ROOT, "empty-target"),
    );
    done(
        "symlink with a trailing slash",
        symlink("hello.txt", ROOT, "slash/"),
    );
    done("symlink in a missing dir", symlink("x", ROOT, "nodir/x"));
    done("symlink to a dir", symlink("dir/sub", ROOT, "to-sub"));
    show(
        "read through it",
        open(ROOT, 0, "to-sub/c.txt", 0, rights::FD_READ, 0).and_then(|f| read(f, &[64])),
    );
    done("symlink in /tmp to ../x", symlink("../x", TMP, "up"));
    show("readlink it", readlink(TMP, "up", 64));
}

fn symlink_loops() {
    for path in ["loop", "loop-a", "loop/x", "loop-a/x"] {
        show(
            &format!("open {path} with FOLLOW"),
            open(ROOT, FOLLOW, path, 0, rights::FD_READ, 0),
        );
        show(
            &format!("stat {path} with FOLLOW"),
            path_stat(ROOT, FOLLOW, path),
        );
    }
    show("stat loop without FOLLOW", path_stat(ROOT, 0, "loop"));
    show(
        "open loop without FOLLOW",
        open(ROOT, 0, "loop", 0, rights::FD_READ, 0),
    );
    show(
        "CREAT through loop",
        open(ROOT, FOLLOW, "loop", CREAT, rights::ALL, 0),
    );
    // A chain of 20 links resolves; a chain of 50 does not.
    for (len, prefix) in [(20usize, "c"), (50, "k")] {
        for i in 0..len {
            let target = if i + 1 == len {
                "hello.txt".to_string()
            } else {
                format!("{prefix}{}", i + 1)
            };
            symlink(&target, TMP, &format!("{prefix}{i}")).unwrap();
        }
        symlink("../hello.txt", TMP, "unused").ok();
        show(
            &format!("chain of {len}"),
            path_stat(TMP, FOLLOW, &format!("{prefix}0")).map(|s| s.filetype),
        );
    }
}

fn path_filestat_get() {
    for (path, flags) in [
        ("hello.txt", 0),
        ("link-file", 0),
        ("link-file", FOLLOW),
        ("link-dir", 0),
        ("link-dir", FOLLOW),
        ("link-dir/", 0),
        ("dangling", 0),
        ("dangling", FOLLOW),
        ("dir", 0),
        ("dir/", 0),
        ("hello.txt/", 0),
        ("hello.txt/", FOLLOW),
        ("missing", 0),
        ("empty.txt", 0),
        (".", 0),
    ] {
        show(
            &format!("stat {path:?} flags={flags}"),
            path_stat(ROOT, flags, path),
        );
    }
    show(
        "stat through a file fd",
        path_stat(open_rw("hello.txt", 0).unwrap(), 0, "x"),
    );
}

fn set_times(path: &str, follow: u32, atim: u64, mtim: u64, flags: u32) -> R<()> {
    ck(unsafe {
        sys::path_filestat_set_times(
            ROOT,
            follow,
            path.as_ptr(),
            path.len() as u32,
            atim,
            mtim,
            flags,
        )
    })
}

fn path_filestat_set_times() {
    done(
        "set both on a file",
        set_times("hello.txt", 0, T1, T2, ATIM | MTIM),
    );
    let st = path_stat(ROOT, 0, "hello.txt").unwrap();
    println!("atim={} mtim={}", st.atim == T1, st.mtim == T2);
    done(
        "set mtim through a followed link",
        set_times("link-file", FOLLOW, 0, T1, MTIM),
    );
    let st = path_stat(ROOT, 0, "hello.txt").unwrap();
    println!("target mtim={}", st.mtim == T1);
    done(
        "set on a directory",
        set_times("dir", 0, T1, T1, ATIM | MTIM),
    );
    println!("dir mtim={}", path_stat(ROOT, 0, "dir").unwrap().mtim == T1);
    done(
        "ATIM|ATIM_NOW",
        set_times("hello.txt", 0, 0, 0, ATIM | ATIM_NOW),
    );
    done(
        "MTIM|MTIM_NOW",
        set_times("hello.txt", 0, 0, 0, MTIM | MTIM_NOW),
    );
    done(
        "NOW on both",
        set_times("hello.txt", 0, 0, 0, ATIM_NOW | MTIM_NOW),
    );
    done("missing", set_times("missing", 0, T1, T1, ATIM));
    done(
        "dangling with FOLLOW",
        set_times("dangling", FOLLOW, T1, T1, ATIM),
    );
}

fn sock() {
    let f = open_rw("hello.txt", 0).unwrap();
    let mut fd = 0;
    done(
        "sock_accept a preopen",
        ck(unsafe { sys::sock_accept(ROOT, 0, &mut fd) }),
    );
    done(
        "sock_accept a file",
        ck(unsafe { sys::sock_accept(f, 0, &mut fd) }),
    );
    done(
        "sock_accept fd 99",
        ck(unsafe { sys::sock_accept(99, 0, &mut fd) }),
    );
    let mut buf = [0u8; 8];
    let iov = [buf.as_mut_ptr() as u32, 8];
    let (mut n, mut flags) = (0, 0);
    done(
        "sock_recv a file",
        ck(unsafe { sys::sock_recv(f, iov.as_ptr(), 1, 0, &mut n, &mut flags) }),
    );
    done(
        "sock_recv stdin",
        ck(unsafe { sys::sock_recv(0, iov.as_ptr(), 1, 0, &mut n, &mut flags) }),
    );
    done(
        "sock_send a file",
        ck(unsafe { sys::sock_send(f, iov.as_ptr(), 1, 0, &mut n) }),
    );
    done(
        "sock_send stdout",
        ck(unsafe { sys::sock_send(1, iov.as_ptr(), 1, 0, &mut n) }),
    );
    done(
        "sock_shutdown a file",
        ck(unsafe { sys::sock_shutdown(f, 3) }),
    );
    done(
        "sock_shutdown fd 99",
        ck(unsafe { sys::sock_shutdown(99, 3) }),
    );
}

fn overlay() {
    // Write into an embedded file (copy up), delete another, rename an
    // embedded directory, truncate one: the tree dump shows the result.
    let fd = open_rw("hello.txt", 0).unwrap();
    seek(fd, 0, 2).unwrap();
    write(fd, &[b"appended by the program\n"]).unwrap();
    show("hello.txt", pread(fd, &[128], 0));
    done("unlink dir/a.txt", unlink(ROOT, "dir/a.txt"));
    println!(
        "dir: {}",
        names(
            &readdir_all(
                open(ROOT, 0, "dir", DIRECTORY, rights::DIR, 0).unwrap(),
                4096
            )
            .unwrap()
        )
    );
    done("rename dir to moved", rename(ROOT, "dir", ROOT, "moved"));
    show(
        "moved/sub/c.txt",
        open_rw("moved/sub/c.txt", 0).and_then(|f| read(f, &[64])),
    );
    show("dir/b.txt", open_rw("dir/b.txt", 0));
    show(
        "truncate digits.txt",
        open_rw("digits.txt", TRUNC).and_then(filestat),
    );
    done("mkdir dir again", mkdir(ROOT, "dir"));
    show(
        "create dir/a.txt again",
        open_rw("dir/a.txt", CREAT).and_then(|f| write(f, &[b"new a\n"])),
    );
    done(
        "rename across layers into /tmp",
        rename(ROOT, "moved/sub", TMP, "sub"),
    );
    println!("root: {}", names(&readdir_all(ROOT, 4096).unwrap()));
    println!("tmp: {}", names(&readdir_all(TMP, 4096).unwrap()));
}

/// `bad CALL`: one call with an argument preview1 has no meaning for (a
/// pointer outside memory, an enum or flag value it does not define), as
/// the case's last act. wasmtime traps on such a call; wasi-virt answers
/// `EFAULT` or `EINVAL` and the program goes on.
fn bad_call() {
    let which = std::env::args().nth(2).unwrap_or_default();
    let fd = open_rw("hello.txt", 0).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut ptrs = vec![core::ptr::null_mut::<u8>(); 64];
    let (mut a, mut b, mut t) = (0u32, 0u32, 0u64);
    // Nothing to write: only the out-pointer is wrong.
    let good = [b"x".as_ptr() as u32, 0];
    let bad_iov = [BAD, 16];
    let sub = clock_sub(1, 1, 1000, false);
    let mut events = [0u8; 32];
    let path = "hello.txt";
    let raw = unsafe {
        match which.as_str() {
            "args_sizes_get" => sys::args_sizes_get(bad(), &mut b),
            "args_get" => sys::args_get(ptrs.as_mut_ptr(), bad()),
            "environ_sizes_get" => sys::environ_sizes_get(&mut a, bad()),
            "environ_get" => sys::environ_get(bad(), buf.as_mut_ptr()),
            "clock_time_get_ptr" => sys::clock_time_get(1, 0, bad()),
            "clock_res_get_ptr" => sys::clock_res_get(1, bad()),
            "clock_res_get_id" => sys::clock_res_get(4, &mut t),
            "clock_time_get_id" => sys::clock_time_get(4, 0, &mut t),
            "random_get_ptr" => sys::random_get(bad(), 4),
            "random_get_len" => sys::random_get(buf.as_mut_ptr(), u32::MAX - buf.as_ptr() as u32),
            "poll_events" => sys::poll_oneoff(sub.as_ptr(), bad(), 1, &mut a),
            "poll_subscriptions" => sys::poll_oneoff(bad(), events.as_mut_ptr(), 1, &mut a),
            "fd_fdstat_get_ptr" => sys::fd_fdstat_get(fd, bad()),
            "fd_filestat_get_ptr" => sys::fd_filestat_get(fd, bad()),
            "fd_prestat_get_ptr" => sys::fd_prestat_get(ROOT, bad()),
            "fd_prestat_dir_name_ptr" => sys::fd_prestat_dir_name(ROOT, bad(), 1),
            "fd_readdir_ptr" => sys::fd_readdir(ROOT, bad(), 100, 0, &mut a),
            "path_filestat_get_ptr" => sys::path_filestat_get(ROOT, 0, path.as_ptr(), 9, bad()),
            "path_open_path" => {
                sys::path_open(ROOT, 0, bad(), 4, 0, rights::ALL, rights::ALL, 0, &mut a)
            }
            "fd_write_buf" => sys::fd_write(fd, bad_iov.as_ptr(), 1, &mut a),
            "fd_read_buf" => sys::fd_read(fd, bad_iov.as_ptr(), 1, &mut a),
            "fd_write_iovs" => sys::fd_write(fd, bad(), 1, &mut a),
            "fd_write_nwritten" => sys::fd_write(1, good.as_ptr(), 1, bad()),
            "fd_seek_out" => sys::fd_seek(fd, 0, 0, bad()),
            "fd_tell_out" => sys::fd_tell(fd, bad()),
            "path_create_directory_path" => sys::path_create_directory(ROOT, bad(), 4),
            "path_unlink_file_path" => sys::path_unlink_file(ROOT, bad(), 4),
            "fd_advise_advice" => sys::fd_advise(fd, 0, 1, 6),
            "fd_seek_whence" => sys::fd_seek(fd, 0, 3, &mut t),
            "fd_fdstat_set_flags_bits" => sys::fd_fdstat_set_flags(fd, 0x20),
            "path_open_fdflags" => sys::path_open(
                ROOT,
                0,
                path.as_ptr(),
                9,
                0,
                rights::ALL,
                rights::ALL,
                0x20,
                &mut a,
            ),
            "path_open_oflags" => sys::path_open(
                ROOT,
                0,
                path.as_ptr(),
                9,
                0x10,
                rights::ALL,
                rights::ALL,
                0,
                &mut a,
            ),
            "path_open_lookupflags" => sys::path_open(
                ROOT,
                2,
                path.as_ptr(),
                9,
                0,
                rights::ALL,
                rights::ALL,
                0,
                &mut a,
            ),
            "path_filestat_get_lookupflags" => {
                let mut st = [0u8; 64];
                sys::path_filestat_get(ROOT, 2, path.as_ptr(), 9, st.as_mut_ptr())
            }
            "fd_filestat_set_times_flags" => sys::fd_filestat_set_times(fd, 0, 0, 16),
            "path_filestat_set_times_flags" => {
                sys::path_filestat_set_times(ROOT, 0, path.as_ptr(), 9, 0, 0, 16)
            }
            other => {
                println!("unknown bad call {other:?}");
                return;
            }
        }
    };
    done(&format!("bad {which}"), ck(raw));
}
