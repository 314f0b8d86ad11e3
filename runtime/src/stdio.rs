//! Standard input, output and error: captured into buffers a host reads
//! through the guest's exports, inherited from the host, ignored, or denied.

use alloc::vec::Vec;
use core::cell::RefCell;

use crate::cell::{Global, global};
use crate::passthrough::{self, HostFd};
use crate::types::{Errno, Event, Fd, Fdstat, Filetype, Subscription, rights};

/// Where fds 0–2 go. The built-in filesystem hands its stdio fds to one.
pub trait Stdio {
    /// Reads from stdin into `buf`; `Ok(0)` is end of input.
    fn read_stdin(&self, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes `bytes` to stdout (fd 1) or stderr (fd 2).
    fn write(&self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno>;
    /// What `fd_fdstat_get` says about fd 0, 1 or 2. The default: not a
    /// terminal ([`stream_fdstat`]), since what reads captured output (a
    /// log, a page, a test) is not one and a program that thinks it talks
    /// to a terminal writes colour codes into it.
    fn fdstat(&self, fd: Fd) -> Result<Fdstat, Errno> {
        Ok(stream_fdstat(fd, false))
    }
    /// The host's fd behind `fd`, when the stream is the host's own (a
    /// `poll_oneoff` then asks the host whether it is ready).
    fn host_fd(&self, fd: Fd) -> Option<HostFd> {
        let _ = fd;
        None
    }
}

/// The fdstat host WASI (wasmtime) gives a standard stream: a character
/// device when it is a terminal, else of unknown type (a pipe, a file);
/// `FD_READ` on stdin, `FD_WRITE` on stdout and stderr, as base and
/// inheriting rights alike. wasi-libc's
/// `isatty()` is true for a character device without `FD_SEEK`/`FD_TELL`.
pub fn stream_fdstat(fd: Fd, terminal: bool) -> Fdstat {
    let own = if fd == 0 {
        rights::FD_READ
    } else {
        rights::FD_WRITE
    };
    Fdstat {
        fs_filetype: if terminal {
            Filetype::CharacterDevice
        } else {
            Filetype::Unknown
        },
        fs_flags: 0,
        fs_rights_base: own,
        fs_rights_inheriting: own,
    }
}

/// What one stream does.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// Into (or, for stdin, out of) a buffer a host reads or sets through
    /// the guest's exports ([`STDOUT`], [`STDERR`], [`STDIN`]).
    Capture,
    /// Passed through to the host's fd (the output keeps an import). Build
    /// it with [`Stream::INHERIT`].
    Inherit(Passthrough),
    /// Writes vanish; reads see end of input.
    Ignore,
    /// Every access is `EBADF`, as if the fd were closed.
    Deny,
}

/// The host's `fd_read`/`fd_write`, held as function pointers so that a
/// guest that never inherits stdio never links them: its output then keeps
/// no `fd_read`/`fd_write` import.
#[derive(Clone, Copy, Debug)]
pub struct Passthrough {
    read: fn(Fd, &mut [u8]) -> Result<usize, Errno>,
    write: fn(Fd, &[u8]) -> Result<usize, Errno>,
    fdstat: fn(Fd) -> Result<Fdstat, Errno>,
    poll: fn(&[Subscription]) -> Result<Vec<Event>, Errno>,
}

impl Stream {
    /// Passed through to the host's fd.
    pub const INHERIT: Stream = Stream::Inherit(Passthrough {
        read: passthrough::fd_read,
        write: passthrough::fd_write,
        fdstat: passthrough::fd_fdstat_get,
        poll: passthrough::poll_oneoff,
    });
}

/// One [`Stream`] per standard fd: the built-in [`Stdio`].
#[derive(Clone, Copy, Debug)]
pub struct StdioConfig {
    /// fd 0
    pub stdin: Stream,
    /// fd 1
    pub stdout: Stream,
    /// fd 2
    pub stderr: Stream,
    /// Whether the streams that are not inherited say they are a terminal
    /// (`isatty()`): for a host that shows output in a terminal (xterm.js);
    /// an inherited stream says what the host's fd is.
    pub terminal: bool,
}

impl StdioConfig {
    /// All three captured: import-free.
    pub const CAPTURE: StdioConfig = StdioConfig {
        stdin: Stream::Capture,
        stdout: Stream::Capture,
        stderr: Stream::Capture,
        terminal: false,
    };
    /// All three passed through to the host.
    pub const INHERIT: StdioConfig = StdioConfig {
        stdin: Stream::INHERIT,
        stdout: Stream::INHERIT,
        stderr: Stream::INHERIT,
        terminal: false,
    };
    /// All three ignored.
    pub const IGNORE: StdioConfig = StdioConfig {
        stdin: Stream::Ignore,
        stdout: Stream::Ignore,
        stderr: Stream::Ignore,
        terminal: false,
    };

    /// The same streams, saying they are a terminal (see
    /// [`StdioConfig::terminal`]).
    pub const fn as_terminal(self) -> StdioConfig {
        StdioConfig {
            terminal: true,
            ..self
        }
    }

    /// The stream behind `fd` (0, 1 or 2).
    pub fn stream(&self, fd: Fd) -> Stream {
        match fd {
            0 => self.stdin,
            1 => self.stdout,
            _ => self.stderr,
        }
    }
}

impl Stdio for StdioConfig {
    fn read_stdin(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self.stdin {
            Stream::Capture => Ok(STDIN.read(buf)),
            Stream::Inherit(host) => (host.read)(0, buf),
            Stream::Ignore => Ok(0),
            Stream::Deny => Err(Errno::Badf),
        }
    }

    fn write(&self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
        match self.stream(fd) {
            Stream::Capture => {
                let buffer = if fd == 1 { &STDOUT } else { &STDERR };
                buffer.0.with(|buffer| {
                    let mut buffer = buffer.borrow_mut();
                    // A full buffer is a full disk (`ENOSPC`), not a trap
                    // in the guest: a target decides how much it writes.
                    buffer.try_reserve(bytes.len()).map_err(|_| Errno::Nospc)?;
                    buffer.extend_from_slice(bytes);
                    Ok(bytes.len())
                })
            }
            Stream::Inherit(host) => (host.write)(fd, bytes),
            Stream::Ignore => Ok(bytes.len()),
            Stream::Deny => Err(Errno::Badf),
        }
    }

    fn fdstat(&self, fd: Fd) -> Result<Fdstat, Errno> {
        match self.stream(fd) {
            Stream::Inherit(host) => (host.fdstat)(fd),
            _ => Ok(stream_fdstat(fd, self.terminal)),
        }
    }

    fn host_fd(&self, fd: Fd) -> Option<HostFd> {
        match self.stream(fd) {
            Stream::Inherit(host) => Some(HostFd {
                fd,
                poll: host.poll,
            }),
            _ => None,
        }
    }
}

/// A captured output stream: [`STDOUT`] or [`STDERR`], one per instance
/// (one per thread off wasm, see [`crate::cell`]).
pub struct Capture(Global<RefCell<Vec<u8>>>);

impl Capture {
    /// Calls `f` with everything captured so far.
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        self.0.with(|b| f(&b.borrow()))
    }

    /// A copy of everything captured so far.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.with(|b| b.borrow().clone())
    }

    /// Empties the buffer.
    pub fn clear(&self) {
        self.0.with(|b| b.borrow_mut().clear());
    }

    /// Address and length of the buffer in the guest's memory (valid until
    /// the next write).
    pub fn raw_parts(&self) -> (usize, usize) {
        self.0.with(|b| {
            let b = b.borrow();
            (b.as_ptr() as usize, b.len())
        })
    }
}

/// Captured standard output.
pub static STDOUT: Capture = Capture(global!(RefCell<Vec<u8>> = RefCell::new(Vec::new())));
/// Captured standard error.
pub static STDERR: Capture = Capture(global!(RefCell<Vec<u8>> = RefCell::new(Vec::new())));

/// The bytes a captured stdin hands out: [`STDIN`].
pub struct Input(Global<RefCell<(Vec<u8>, usize)>>);

impl Input {
    /// Replaces what stdin will read.
    pub fn set(&self, bytes: &[u8]) {
        self.0
            .with(|input| *input.borrow_mut() = (bytes.to_vec(), 0));
    }

    fn read(&self, buf: &mut [u8]) -> usize {
        self.0.with(|input| {
            let mut input = input.borrow_mut();
            let (bytes, at) = &mut *input;
            let n = buf.len().min(bytes.len() - *at);
            buf[..n].copy_from_slice(&bytes[*at..*at + n]);
            *at += n;
            n
        })
    }
}

/// Captured standard input (empty unless a host sets it).
pub static STDIN: Input = Input(global!(RefCell<(Vec<u8>, usize)> = RefCell::new((Vec::new(), 0))));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_ignore_and_deny() {
        let cfg = StdioConfig {
            stdout: Stream::Ignore,
            stderr: Stream::Deny,
            ..StdioConfig::CAPTURE
        };
        assert_eq!(cfg.write(1, b"gone"), Ok(4));
        assert_eq!(cfg.write(2, b"no"), Err(Errno::Badf));
        STDIN.set(b"abc");
        let mut buf = [0; 2];
        assert_eq!(cfg.read_stdin(&mut buf), Ok(2));
        assert_eq!(cfg.read_stdin(&mut buf), Ok(1));
        assert_eq!(cfg.read_stdin(&mut buf), Ok(0));
        STDERR.clear();
        assert_eq!(StdioConfig::CAPTURE.write(2, b"err"), Ok(3));
        assert_eq!(STDERR.to_vec(), b"err");
    }
}
