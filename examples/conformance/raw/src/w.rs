//! Thin wrappers over [`crate::sys`]: `Result<T, Errno>` instead of out
//! pointers, and the printing every case shares.

use crate::sys;

/// A raw preview1 errno.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

const NAMES: [&str; 77] = [
    "success",
    "2big",
    "acces",
    "addrinuse",
    "addrnotavail",
    "afnosupport",
    "again",
    "already",
    "badf",
    "badmsg",
    "busy",
    "canceled",
    "child",
    "connaborted",
    "connrefused",
    "connreset",
    "deadlk",
    "destaddrreq",
    "dom",
    "dquot",
    "exist",
    "fault",
    "fbig",
    "hostunreach",
    "idrm",
    "ilseq",
    "inprogress",
    "intr",
    "inval",
    "io",
    "isconn",
    "isdir",
    "loop",
    "mfile",
    "mlink",
    "msgsize",
    "multihop",
    "nametoolong",
    "netdown",
    "netreset",
    "netunreach",
    "nfile",
    "nobufs",
    "nodev",
    "noent",
    "noexec",
    "nolck",
    "nolink",
    "nomem",
    "nomsg",
    "noprotoopt",
    "nospc",
    "nosys",
    "notconn",
    "notdir",
    "notempty",
    "notrecoverable",
    "notsock",
    "notsup",
    "notty",
    "nxio",
    "overflow",
    "ownerdead",
    "perm",
    "pipe",
    "proto",
    "protonosupport",
    "prototype",
    "range",
    "rofs",
    "spipe",
    "srch",
    "stale",
    "timedout",
    "txtbsy",
    "xdev",
    "notcapable",
];

impl core::fmt::Debug for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match NAMES.get(self.0 as usize) {
            Some(name) => write!(f, "E{}", name.to_uppercase()),
            None => write!(f, "errno {}", self.0),
        }
    }
}

pub type R<T> = Result<T, Errno>;

pub fn ck(raw: i32) -> R<()> {
    if raw == 0 { Ok(()) } else { Err(Errno(raw)) }
}

/// Prints `label: ok VALUE` or `label: ERRNO`.
pub fn show<T: core::fmt::Debug>(label: &str, r: R<T>) {
    match r {
        Ok(v) => println!("{label}: ok {v:?}"),
        Err(e) => println!("{label}: {e:?}"),
    }
}

/// Prints `label: ok` or `label: ERRNO`.
pub fn done(label: &str, r: R<()>) {
    match r {
        Ok(()) => println!("{label}: ok"),
        Err(e) => println!("{label}: {e:?}"),
    }
}

#[allow(dead_code)]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const ALL: u64 = (1 << 30) - 1;
    /// Every right but `FD_WRITE`: what a program asks for a directory.
    pub const DIR: u64 = ALL & !FD_WRITE;
}
pub const CREAT: u32 = 1;
pub const DIRECTORY: u32 = 2;
pub const EXCL: u32 = 4;
pub const TRUNC: u32 = 8;
pub const APPEND: u32 = 1;
pub const DSYNC: u32 = 2;
pub const NONBLOCK: u32 = 4;
pub const RSYNC: u32 = 8;
pub const SYNC: u32 = 16;
pub const FOLLOW: u32 = 1;
pub const ROOT: u32 = 3;
pub const TMP: u32 = 4;

pub fn open(dir: u32, lookup: u32, path: &str, oflags: u32, base: u64, fdflags: u32) -> R<u32> {
    open_bytes(dir, lookup, path.as_bytes(), oflags, base, fdflags)
}

pub fn open_bytes(
    dir: u32,
    lookup: u32,
    path: &[u8],
    oflags: u32,
    base: u64,
    fdflags: u32,
) -> R<u32> {
    let mut fd = 0;
    let raw = unsafe {
        sys::path_open(
            dir,
            lookup,
            path.as_ptr(),
            path.len() as u32,
            oflags,
            base,
            rights::ALL,
            fdflags,
            &mut fd,
        )
    };
    ck(raw).map(|()| fd)
}

/// Opens for reading and writing (all rights), creating if `oflags` say so.
pub fn open_rw(path: &str, oflags: u32) -> R<u32> {
    open(ROOT, 0, path, oflags, rights::ALL, 0)
}

pub fn close(fd: u32) -> R<()> {
    ck(unsafe { sys::fd_close(fd) })
}

fn iovs_of(bufs: &[&[u8]]) -> Vec<u32> {
    bufs.iter()
        .flat_map(|b| [b.as_ptr() as u32, b.len() as u32])
        .collect()
}

pub fn write(fd: u32, bufs: &[&[u8]]) -> R<u32> {
    let iovs = iovs_of(bufs);
    let mut n = 0;
    ck(unsafe { sys::fd_write(fd, iovs.as_ptr(), bufs.len() as u32, &mut n) }).map(|()| n)
}

pub fn pwrite(fd: u32, bufs: &[&[u8]], offset: u64) -> R<u32> {
    let iovs = iovs_of(bufs);
    let mut n = 0;
    ck(unsafe { sys::fd_pwrite(fd, iovs.as_ptr(), bufs.len() as u32, offset, &mut n) }).map(|()| n)
}

/// Reads into buffers of the given sizes; returns the bytes read, as text.
pub fn read(fd: u32, sizes: &[usize]) -> R<String> {
    let mut bufs: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0; n]).collect();
    let iovs: Vec<u32> = bufs
        .iter_mut()
        .flat_map(|b| [b.as_mut_ptr() as u32, b.len() as u32])
        .collect();
    let mut n = 0;
    ck(unsafe { sys::fd_read(fd, iovs.as_ptr(), sizes.len() as u32, &mut n) })?;
    Ok(joined(&bufs, n as usize))
}

pub fn pread(fd: u32, sizes: &[usize], offset: u64) -> R<String> {
    let mut bufs: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0; n]).collect();
    let iovs: Vec<u32> = bufs
        .iter_mut()
        .flat_map(|b| [b.as_mut_ptr() as u32, b.len() as u32])
        .collect();
    let mut n = 0;
    ck(unsafe { sys::fd_pread(fd, iovs.as_ptr(), sizes.len() as u32, offset, &mut n) })?;
    Ok(joined(&bufs, n as usize))
}

fn joined(bufs: &[Vec<u8>], mut n: usize) -> String {
    let mut out = Vec::new();
    for b in bufs {
        let take = n.min(b.len());
        out.extend_from_slice(&b[..take]);
        n -= take;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn seek(fd: u32, offset: i64, whence: u32) -> R<u64> {
    let mut out = 0;
    ck(unsafe { sys::fd_seek(fd, offset, whence, &mut out) }).map(|()| out)
}

pub fn tell(fd: u32) -> R<u64> {
    let mut out = 0;
    ck(unsafe { sys::fd_tell(fd, &mut out) }).map(|()| out)
}

#[derive(Clone, Copy)]
pub struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub base: u64,
    pub inheriting: u64,
}

impl core::fmt::Debug for Fdstat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "type={} flags={:#x}",
            filetype(self.filetype),
            self.flags
        )
    }
}

pub fn fdstat(fd: u32) -> R<Fdstat> {
    let mut b = [0u8; 24];
    ck(unsafe { sys::fd_fdstat_get(fd, b.as_mut_ptr()) })?;
    Ok(Fdstat {
        filetype: b[0],
        flags: u16::from_le_bytes([b[2], b[3]]),
        base: u64::from_le_bytes(b[8..16].try_into().unwrap()),
        inheriting: u64::from_le_bytes(b[16..24].try_into().unwrap()),
    })
}

pub fn filetype(t: u8) -> &'static str {
    match t {
        0 => "unknown",
        1 => "block",
        2 => "char",
        3 => "dir",
        4 => "file",
        5 => "dgram",
        6 => "stream",
        7 => "symlink",
        _ => "?",
    }
}

#[derive(Clone, Copy)]
#[allow(dead_code)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl core::fmt::Debug for Stat {
    /// Type, size (not for directories: the host's filesystem decides)
    /// and link count (not for directories either); no times or numbers.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.filetype {
            3 => write!(f, "type=dir"),
            t => write!(
                f,
                "type={} size={} nlink={}",
                filetype(t),
                self.size,
                self.nlink
            ),
        }
    }
}

pub fn stat_bytes(b: &[u8; 64]) -> Stat {
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    Stat {
        dev: u(0),
        ino: u(8),
        filetype: b[16],
        nlink: u(24),
        size: u(32),
        atim: u(40),
        mtim: u(48),
        ctim: u(56),
    }
}

pub fn filestat(fd: u32) -> R<Stat> {
    let mut b = [0u8; 64];
    ck(unsafe { sys::fd_filestat_get(fd, b.as_mut_ptr()) })?;
    Ok(stat_bytes(&b))
}

pub fn path_stat(dir: u32, flags: u32, path: &str) -> R<Stat> {
    let mut b = [0u8; 64];
    ck(unsafe {
        sys::path_filestat_get(dir, flags, path.as_ptr(), path.len() as u32, b.as_mut_ptr())
    })?;
    Ok(stat_bytes(&b))
}

pub fn mkdir(dir: u32, path: &str) -> R<()> {
    ck(unsafe { sys::path_create_directory(dir, path.as_ptr(), path.len() as u32) })
}

pub fn rmdir(dir: u32, path: &str) -> R<()> {
    ck(unsafe { sys::path_remove_directory(dir, path.as_ptr(), path.len() as u32) })
}

pub fn unlink(dir: u32, path: &str) -> R<()> {
    ck(unsafe { sys::path_unlink_file(dir, path.as_ptr(), path.len() as u32) })
}

pub fn rename(dir: u32, old: &str, new_dir: u32, new: &str) -> R<()> {
    ck(unsafe {
        sys::path_rename(
            dir,
            old.as_ptr(),
            old.len() as u32,
            new_dir,
            new.as_ptr(),
            new.len() as u32,
        )
    })
}

pub fn link(dir: u32, flags: u32, old: &str, new_dir: u32, new: &str) -> R<()> {
    ck(unsafe {
        sys::path_link(
            dir,
            flags,
            old.as_ptr(),
            old.len() as u32,
            new_dir,
            new.as_ptr(),
            new.len() as u32,
        )
    })
}

pub fn symlink(target: &str, dir: u32, new: &str) -> R<()> {
    ck(unsafe {
        sys::path_symlink(
            target.as_ptr(),
            target.len() as u32,
            dir,
            new.as_ptr(),
            new.len() as u32,
        )
    })
}

pub fn readlink(dir: u32, path: &str, buf_len: usize) -> R<String> {
    let mut buf = vec![0u8; buf_len];
    let mut used = 0;
    ck(unsafe {
        sys::path_readlink(
            dir,
            path.as_ptr(),
            path.len() as u32,
            buf.as_mut_ptr(),
            buf_len as u32,
            &mut used,
        )
    })?;
    Ok(String::from_utf8_lossy(&buf[..used as usize]).into_owned())
}

/// Raw `fd_readdir`: the bytes written.
pub fn readdir_raw(fd: u32, buf_len: usize, cookie: u64) -> R<Vec<u8>> {
    let mut buf = vec![0u8; buf_len];
    let mut used = 0;
    ck(unsafe { sys::fd_readdir(fd, buf.as_mut_ptr(), buf_len as u32, cookie, &mut used) })?;
    buf.truncate(used as usize);
    Ok(buf)
}

/// One parsed directory entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dirent {
    pub name: String,
    pub next: u64,
    pub ino: u64,
    pub filetype: u8,
}

/// The complete entries in `bytes` (a cut last one is left out).
pub fn parse_dirents(bytes: &[u8]) -> Vec<Dirent> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= bytes.len() {
        let next = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let ino = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        let namlen = u32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap()) as usize;
        let filetype = bytes[at + 20];
        if at + 24 + namlen > bytes.len() {
            break;
        }
        let name = String::from_utf8_lossy(&bytes[at + 24..at + 24 + namlen]).into_owned();
        out.push(Dirent {
            name,
            next,
            ino,
            filetype,
        });
        at += 24 + namlen;
    }
    out
}

/// Every entry of directory `fd`, read with a buffer of `buf_len` bytes
/// and the cookies the entries give, as a program's readdir loop does.
pub fn readdir_all(fd: u32, buf_len: usize) -> R<Vec<Dirent>> {
    let mut all = Vec::new();
    let mut cookie = 0;
    let mut buf_len = buf_len;
    loop {
        let bytes = readdir_raw(fd, buf_len, cookie)?;
        let entries = parse_dirents(&bytes);
        let full = bytes.len() == buf_len;
        match entries.last() {
            Some(last) => cookie = last.next,
            // No whole entry fits: a bigger buffer, as wasi-libc does.
            None if full => {
                buf_len *= 2;
                continue;
            }
            None => {}
        }
        all.extend(entries);
        if !full {
            return Ok(all);
        }
        if all.len() > 10_000 {
            return Err(Errno(-2));
        }
    }
}

/// The names and types of `entries`, sorted (hosts list in any order).
pub fn names(entries: &[Dirent]) -> String {
    let mut v: Vec<String> = entries
        .iter()
        .map(|e| format!("{}:{}", e.name, filetype(e.filetype)))
        .collect();
    v.sort();
    v.join(" ")
}
