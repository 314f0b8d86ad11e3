//! WASI preview1 types, errno values, rights and flags, exactly as the
//! preview1 witx document defines them, with their memory layouts.

macro_rules! errnos {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        /// A preview1 `errno`. Runtime functions return `Result<_, Errno>`; the
        /// conversion to the raw `u16` happens once, at the ABI edge.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $($(#[$doc])* $name = $value,)*
        }

        impl Errno {
            /// The raw value.
            pub const fn raw(self) -> u16 {
                self as u16
            }

            /// The errno with this raw value, if preview1 defines one.
            pub const fn from_raw(raw: u16) -> Option<Errno> {
                match raw {
                    $($value => Some(Errno::$name),)*
                    _ => None,
                }
            }

            /// The lowercase preview1 name, e.g. `noent`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                }
            }
        }
    };
}

errnos! {
    /// No error occurred.
    Success = 0,
    /// Argument list too long.
    Toobig = 1,
    /// Permission denied.
    Acces = 2,
    /// Address in use.
    Addrinuse = 3,
    /// Address not available.
    Addrnotavail = 4,
    /// Address family not supported.
    Afnosupport = 5,
    /// Resource unavailable, or operation would block.
    Again = 6,
    /// Connection already in progress.
    Already = 7,
    /// Bad file descriptor.
    Badf = 8,
    /// Bad message.
    Badmsg = 9,
    /// Device or resource busy.
    Busy = 10,
    /// Operation canceled.
    Canceled = 11,
    /// No child processes.
    Child = 12,
    /// Connection aborted.
    Connaborted = 13,
    /// Connection refused.
    Connrefused = 14,
    /// Connection reset.
    Connreset = 15,
    /// Resource deadlock would occur.
    Deadlk = 16,
    /// Destination address required.
    Destaddrreq = 17,
    /// Mathematics argument out of domain of function.
    Dom = 18,
    /// Reserved.
    Dquot = 19,
    /// File exists.
    Exist = 20,
    /// Bad address.
    Fault = 21,
    /// File too large.
    Fbig = 22,
    /// Host is unreachable.
    Hostunreach = 23,
    /// Identifier removed.
    Idrm = 24,
    /// Illegal byte sequence.
    Ilseq = 25,
    /// Operation in progress.
    Inprogress = 26,
    /// Interrupted function.
    Intr = 27,
    /// Invalid argument.
    Inval = 28,
    /// I/O error.
    Io = 29,
    /// Socket is connected.
    Isconn = 30,
    /// Is a directory.
    Isdir = 31,
    /// Too many levels of symbolic links.
    Loop = 32,
    /// File descriptor value too large.
    Mfile = 33,
    /// Too many links.
    Mlink = 34,
    /// Message too large.
    Msgsize = 35,
    /// Reserved.
    Multihop = 36,
    /// Filename too long.
    Nametoolong = 37,
    /// Network is down.
    Netdown = 38,
    /// Connection aborted by network.
    Netreset = 39,
    /// Network unreachable.
    Netunreach = 40,
    /// Too many files open in system.
    Nfile = 41,
    /// No buffer space available.
    Nobufs = 42,
    /// No such device.
    Nodev = 43,
    /// No such file or directory.
    Noent = 44,
    /// Executable file format error.
    Noexec = 45,
    /// No locks available.
    Nolck = 46,
    /// Reserved.
    Nolink = 47,
    /// Not enough space.
    Nomem = 48,
    /// No message of the desired type.
    Nomsg = 49,
    /// Protocol not available.
    Noprotoopt = 50,
    /// No space left on device.
    Nospc = 51,
    /// Function not supported.
    Nosys = 52,
    /// The socket is not connected.
    Notconn = 53,
    /// Not a directory or a symbolic link to a directory.
    Notdir = 54,
    /// Directory not empty.
    Notempty = 55,
    /// State not recoverable.
    Notrecoverable = 56,
    /// Not a socket.
    Notsock = 57,
    /// Not supported, or operation not supported on socket.
    Notsup = 58,
    /// Inappropriate I/O control operation.
    Notty = 59,
    /// No such device or address.
    Nxio = 60,
    /// Value too large to be stored in data type.
    Overflow = 61,
    /// Previous owner died.
    Ownerdead = 62,
    /// Operation not permitted.
    Perm = 63,
    /// Broken pipe.
    Pipe = 64,
    /// Protocol error.
    Proto = 65,
    /// Protocol not supported.
    Protonosupport = 66,
    /// Protocol wrong type for socket.
    Prototype = 67,
    /// Result too large.
    Range = 68,
    /// Read-only file system.
    Rofs = 69,
    /// Invalid seek.
    Spipe = 70,
    /// No such process.
    Srch = 71,
    /// Reserved.
    Stale = 72,
    /// Connection timed out.
    Timedout = 73,
    /// Text file busy.
    Txtbsy = 74,
    /// Cross-device link.
    Xdev = 75,
    /// Extension: Capabilities insufficient.
    Notcapable = 76,
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.name(), self.raw())
    }
}

/// A file descriptor.
pub type Fd = u32;
/// A size in the target's address space.
pub type Size = u32;
/// A file size or offset.
pub type Filesize = u64;
/// Nanoseconds.
pub type Timestamp = u64;
/// A position in a directory, as `fd_readdir` hands it out.
pub type Dircookie = u64;
/// An inode number.
pub type Inode = u64;
/// A device number.
pub type Device = u64;
/// A link count.
pub type Linkcount = u64;

/// `rights`: what an fd may be used for.
pub mod rights {
    #![allow(missing_docs)]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every right preview1 defines.
    pub const ALL: u64 = (1 << 30) - 1;
    /// The rights that make sense on a regular file.
    pub const REGULAR_FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// The rights that make sense on a directory.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// The rights a character device (stdio) has.
    pub const TTY: u64 =
        FD_READ | FD_FDSTAT_SET_FLAGS | FD_WRITE | FD_FILESTAT_GET | POLL_FD_READWRITE;
}

/// `fdflags` (u16).
pub mod fdflags {
    #![allow(missing_docs)]
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = (1 << 5) - 1;
}

/// `oflags` (u16).
pub mod oflags {
    #![allow(missing_docs)]
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// `lookupflags` (u32).
pub mod lookupflags {
    #![allow(missing_docs)]
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// `fstflags` (u16).
pub mod fstflags {
    #![allow(missing_docs)]
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// `subclockflags` (u16).
pub mod subclockflags {
    #![allow(missing_docs)]
    pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;
}

/// `eventrwflags` (u16).
pub mod eventrwflags {
    #![allow(missing_docs)]
    pub const FD_READWRITE_HANGUP: u16 = 1 << 0;
}

/// `riflags`, `roflags`, `sdflags`.
pub mod sockflags {
    #![allow(missing_docs)]
    pub const RECV_PEEK: u16 = 1 << 0;
    pub const RECV_WAITALL: u16 = 1 << 1;
    pub const RECV_DATA_TRUNCATED: u16 = 1 << 0;
    pub const SHUT_RD: u8 = 1 << 0;
    pub const SHUT_WR: u8 = 1 << 1;
}

/// `filetype` (u8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Filetype {
    Unknown = 0,
    BlockDevice = 1,
    CharacterDevice = 2,
    Directory = 3,
    RegularFile = 4,
    SocketDgram = 5,
    SocketStream = 6,
    SymbolicLink = 7,
}

impl Filetype {
    /// The file type with this number; an unknown one is `EINVAL`.
    pub fn from_raw(raw: u8) -> Result<Filetype, Errno> {
        Ok(match raw {
            0 => Filetype::Unknown,
            1 => Filetype::BlockDevice,
            2 => Filetype::CharacterDevice,
            3 => Filetype::Directory,
            4 => Filetype::RegularFile,
            5 => Filetype::SocketDgram,
            6 => Filetype::SocketStream,
            7 => Filetype::SymbolicLink,
            _ => return Err(Errno::Inval),
        })
    }
}

/// `whence` (u8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Whence {
    Set = 0,
    Cur = 1,
    End = 2,
}

impl Whence {
    /// Decodes a raw `whence`; anything else is `EINVAL`.
    pub fn from_raw(raw: u32) -> Result<Whence, Errno> {
        match raw {
            0 => Ok(Whence::Set),
            1 => Ok(Whence::Cur),
            2 => Ok(Whence::End),
            _ => Err(Errno::Inval),
        }
    }
}

/// `clockid` (u32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum Clockid {
    Realtime = 0,
    Monotonic = 1,
    ProcessCputime = 2,
    ThreadCputime = 3,
}

impl Clockid {
    /// Decodes a raw `clockid`; anything else is `EINVAL`.
    pub fn from_raw(raw: u32) -> Result<Clockid, Errno> {
        match raw {
            0 => Ok(Clockid::Realtime),
            1 => Ok(Clockid::Monotonic),
            2 => Ok(Clockid::ProcessCputime),
            3 => Ok(Clockid::ThreadCputime),
            _ => Err(Errno::Inval),
        }
    }
}

/// `advice` (u8): `normal` … `noreuse`.
pub const ADVICE_MAX: u32 = 5;

/// `eventtype` (u8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Eventtype {
    Clock = 0,
    FdRead = 1,
    FdWrite = 2,
}

/// `fdstat`: 24 bytes, align 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fdstat {
    /// File type.
    pub fs_filetype: Filetype,
    /// `fdflags`.
    pub fs_flags: u16,
    /// Rights that apply to this fd.
    pub fs_rights_base: u64,
    /// Rights that fds opened through this one may have.
    pub fs_rights_inheriting: u64,
}

impl Fdstat {
    /// The byte layout preview1 defines.
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = self.fs_filetype as u8;
        b[2..4].copy_from_slice(&self.fs_flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.fs_rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.fs_rights_inheriting.to_le_bytes());
        b
    }

    /// Decodes the layout preview1 defines (a host's answer); an unknown
    /// file type is `EINVAL`.
    pub fn from_bytes(b: &[u8; 24]) -> Result<Fdstat, Errno> {
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        Ok(Fdstat {
            fs_filetype: Filetype::from_raw(b[0])?,
            fs_flags: u16::from_le_bytes([b[2], b[3]]),
            fs_rights_base: u64_at(8),
            fs_rights_inheriting: u64_at(16),
        })
    }
}

/// `filestat`: 64 bytes, align 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filestat {
    /// Device ID of the device containing the file.
    pub dev: Device,
    /// File serial number.
    pub ino: Inode,
    /// File type.
    pub filetype: Filetype,
    /// Number of hard links.
    pub nlink: Linkcount,
    /// Size in bytes (for a symlink, the length of its target).
    pub size: Filesize,
    /// Last access time.
    pub atim: Timestamp,
    /// Last modification time.
    pub mtim: Timestamp,
    /// Last status change time.
    pub ctim: Timestamp,
}

impl Filestat {
    /// The byte layout preview1 defines.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype as u8;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// `prestat`: 8 bytes; preview1 has one variant, a directory and the length
/// of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prestat {
    /// Length of the directory name `fd_prestat_dir_name` writes.
    pub pr_name_len: Size,
}

impl Prestat {
    /// The byte layout preview1 defines (tag 0, `dir`).
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[4..8].copy_from_slice(&self.pr_name_len.to_le_bytes());
        b
    }
}

/// `dirent` header: 24 bytes, followed by the name (not NUL-terminated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent {
    /// The cookie of the next entry.
    pub d_next: Dircookie,
    /// The entry's inode.
    pub d_ino: Inode,
    /// Length of the name that follows.
    pub d_namlen: u32,
    /// The entry's type.
    pub d_type: Filetype,
}

impl Dirent {
    /// Size of the header.
    pub const SIZE: usize = 24;

    /// The byte layout preview1 defines.
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&self.d_next.to_le_bytes());
        b[8..16].copy_from_slice(&self.d_ino.to_le_bytes());
        b[16..20].copy_from_slice(&self.d_namlen.to_le_bytes());
        b[20] = self.d_type as u8;
        b
    }
}

/// `iovec` / `ciovec`: 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iovec {
    /// Address in the target's memory.
    pub buf: u32,
    /// Length in bytes.
    pub buf_len: u32,
}

impl Iovec {
    /// Size of one iovec in memory.
    pub const SIZE: usize = 8;
}

/// A `subscription` (48 bytes), decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Copied into the matching event.
    pub userdata: u64,
    /// What to wait for.
    pub kind: SubscriptionKind,
}

/// The union inside a [`Subscription`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// Wait for a clock.
    Clock {
        /// The clock (raw `clockid`).
        id: u32,
        /// Absolute or relative timeout.
        timeout: Timestamp,
        /// Accepted slack.
        precision: Timestamp,
        /// `subclockflags`.
        flags: u16,
    },
    /// Wait until an fd is readable.
    FdRead(Fd),
    /// Wait until an fd is writable.
    FdWrite(Fd),
}

impl Subscription {
    /// Size of one subscription in memory.
    pub const SIZE: usize = 48;

    /// Decodes the layout preview1 defines; an unknown tag is `EINVAL`.
    pub fn from_bytes(b: &[u8; 48]) -> Result<Subscription, Errno> {
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let kind = match b[8] {
            0 => SubscriptionKind::Clock {
                id: u32_at(16),
                timeout: u64_at(24),
                precision: u64_at(32),
                flags: u16::from_le_bytes([b[40], b[41]]),
            },
            1 => SubscriptionKind::FdRead(u32_at(16)),
            2 => SubscriptionKind::FdWrite(u32_at(16)),
            _ => return Err(Errno::Inval),
        };
        Ok(Subscription {
            userdata: u64_at(0),
            kind,
        })
    }

    /// The byte layout preview1 defines (for a host's `poll_oneoff`).
    pub fn to_bytes(&self) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        match self.kind {
            SubscriptionKind::Clock {
                id,
                timeout,
                precision,
                flags,
            } => {
                b[16..20].copy_from_slice(&id.to_le_bytes());
                b[24..32].copy_from_slice(&timeout.to_le_bytes());
                b[32..40].copy_from_slice(&precision.to_le_bytes());
                b[40..42].copy_from_slice(&flags.to_le_bytes());
            }
            SubscriptionKind::FdRead(fd) | SubscriptionKind::FdWrite(fd) => {
                b[8] = if matches!(self.kind, SubscriptionKind::FdRead(_)) {
                    1
                } else {
                    2
                };
                b[16..20].copy_from_slice(&fd.to_le_bytes());
            }
        }
        b
    }
}

/// An `event` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The subscription's userdata.
    pub userdata: u64,
    /// The error of this event, if any.
    pub error: Errno,
    /// The subscription's type.
    pub kind: Eventtype,
    /// For fd events: bytes available.
    pub nbytes: Filesize,
    /// For fd events: `eventrwflags`.
    pub flags: u16,
}

impl Event {
    /// Size of one event in memory.
    pub const SIZE: usize = 32;

    /// The byte layout preview1 defines.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.raw().to_le_bytes());
        b[10] = self.kind as u8;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// Decodes the layout preview1 defines (a host's answer); an unknown
    /// errno or event type is `EINVAL`.
    pub fn from_bytes(b: &[u8; 32]) -> Result<Event, Errno> {
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        Ok(Event {
            userdata: u64_at(0),
            error: Errno::from_raw(u16::from_le_bytes([b[8], b[9]])).ok_or(Errno::Inval)?,
            kind: match b[10] {
                0 => Eventtype::Clock,
                1 => Eventtype::FdRead,
                2 => Eventtype::FdWrite,
                _ => return Err(Errno::Inval),
            },
            nbytes: u64_at(16),
            flags: u16::from_le_bytes([b[24], b[25]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_are_preview1s() {
        assert_eq!(Errno::Fault.raw(), 21);
        assert_eq!(Errno::Noent.raw(), 44);
        assert_eq!(Errno::Notcapable.raw(), 76);
        assert_eq!(Errno::from_raw(54), Some(Errno::Notdir));
        assert_eq!(Errno::from_raw(77), None);
    }

    #[test]
    fn layouts_are_preview1s() {
        let stat = Filestat {
            dev: 1,
            ino: 2,
            filetype: Filetype::RegularFile,
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        };
        let b = stat.to_bytes();
        assert_eq!(b[16], 4);
        assert_eq!(b[32], 4);
        assert_eq!(b[56], 7);
        let fdstat = Fdstat {
            fs_filetype: Filetype::Directory,
            fs_flags: fdflags::APPEND,
            fs_rights_base: rights::FD_READ,
            fs_rights_inheriting: rights::FD_WRITE,
        };
        let b = fdstat.to_bytes();
        assert_eq!((b[0], b[2], b[8], b[16]), (3, 1, 2, 64));
        assert_eq!(
            Prestat { pr_name_len: 9 }.to_bytes(),
            [0, 0, 0, 0, 9, 0, 0, 0]
        );
    }
}
