//! The data path: `fd_read`, `fd_write`, `fd_pread`, `fd_pwrite`, `fd_seek`,
//! `fd_tell`, `fd_readdir`, and stdio.
//!
//! File bytes move between the tree and the caller's memory in one copy per
//! iovec, with no buffer in between: a read copies straight from the file's
//! bytes (the embedded `&'static [u8]` until the file is first written), a
//! write straight into the file's owned buffer.

use alloc::vec::Vec;

use super::fd_table::Node;
use super::tree::Ino;
use super::vfs::{Ctx, writable};
use crate::memory::Caller;
use crate::stdio::Stdio;
use crate::types::{Dirent, Errno, Fd, Filesize, Iovec, Size, Whence, fdflags, rights};

/// The largest file the tree holds (an owned buffer is a `Vec`): beyond
/// it, growing a file is `EFBIG`; an allocation that fails below it is
/// `ENOSPC`.
const MAX_FILE_SIZE: u64 = isize::MAX as u64;

/// How much of stdin is read through the guest's memory at once.
const STDIN_CHUNK: usize = 64 * 1024;

/// `fd_read` of stdin: fills the iovecs in order until the [`Stdio`] gives
/// less than asked (end of input, or nothing more for now).
pub(crate) fn read_stdin(
    stdio: &dyn Stdio,
    caller: &Caller,
    iovs: u32,
    iovs_len: u32,
) -> Result<Size, Errno> {
    let iovs = caller.memory.iovecs(iovs, iovs_len)?;
    let mut chunk = Vec::new();
    let mut total: Size = 0;
    for iov in iovs.iter() {
        let mut done = 0;
        while done < iov.buf_len {
            let want = ((iov.buf_len - done) as usize).min(STDIN_CHUNK);
            chunk.resize(want, 0);
            let n = match stdio.read_stdin(&mut chunk) {
                Ok(n) => n.min(want),
                // Bytes already handed over count; the error shows next time.
                Err(_) if total > 0 => return Ok(total),
                Err(e) => return Err(e),
            };
            caller.memory.write(iov.buf + done, &chunk[..n])?;
            done += n as u32;
            total += n as u32;
            if n < want {
                return Ok(total);
            }
        }
    }
    Ok(total)
}

/// `fd_write` of stdout or stderr: the iovecs gathered, then one write.
pub(crate) fn write_stdio(
    stdio: &dyn Stdio,
    caller: &Caller,
    fd: Fd,
    iovs: u32,
    iovs_len: u32,
) -> Result<Size, Errno> {
    let iovs = caller.memory.iovecs(iovs, iovs_len)?;
    let bytes = caller.memory.gather(&iovs)?;
    let n = stdio.write(fd, &bytes)?;
    Ok(n.min(bytes.len()) as Size)
}

/// Grows `data` to `len` bytes with zeros, if shorter.
fn grow(data: &mut Vec<u8>, len: u64) -> Result<(), Errno> {
    if len <= data.len() as u64 {
        return Ok(());
    }
    if len > MAX_FILE_SIZE {
        return Err(Errno::Fbig);
    }
    let len = len as usize;
    let more = len - data.len();
    // Amortized growth (small appends must not copy the whole file each
    // time); exactly what is needed when that is all there is room for.
    if data.try_reserve(more).is_err() {
        data.try_reserve_exact(more).map_err(|_| Errno::Nospc)?;
    }
    data.resize(len, 0);
    Ok(())
}

/// Sets the size of `data` to `len`, zero-filling when it grows.
pub(crate) fn set_len(data: &mut Vec<u8>, len: u64) -> Result<(), Errno> {
    grow(data, len)?;
    data.truncate(len as usize);
    Ok(())
}

impl Ctx<'_> {
    pub(crate) fn fd_read(&mut self, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        let ino = self.file_fd(fd, rights::FD_READ)?;
        let iovs = self.caller.memory.iovecs(iovs, iovs_len)?;
        let pos = self.fds.get(fd)?.pos;
        let n = self.read_at(ino, &iovs, pos)?;
        self.fds.get_mut(fd)?.pos = pos + n as u64;
        Ok(n)
    }

    /// `fd_pread`: like `fd_read` at `offset`, leaving the fd's offset. On
    /// stdio, `ESPIPE` for stdin and `EBADF` for the output streams, as
    /// wasmtime.
    pub(crate) fn fd_pread(
        &mut self,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: Filesize,
    ) -> Result<Size, Errno> {
        if let Node::Stdio(stream) = self.fds.get(fd)?.node {
            return Err(if stream == 0 {
                Errno::Spipe
            } else {
                Errno::Badf
            });
        }
        let ino = self.file_fd(fd, rights::FD_READ | rights::FD_SEEK)?;
        let iovs = self.caller.memory.iovecs(iovs, iovs_len)?;
        self.read_at(ino, &iovs, offset)
    }

    /// Copies from file `ino` at `pos` into `iovs`, straight from its bytes
    /// (or its blob: one `memory.init` per iovec).
    fn read_at(&self, ino: Ino, iovs: &[Iovec], pos: Filesize) -> Result<Size, Errno> {
        let content = self
            .tree
            .file(ino)
            .expect("file_fd checked this is a regular file");
        let len = content.len();
        let start = usize::try_from(pos).unwrap_or(usize::MAX).min(len);
        let mut at = start;
        for iov in iovs {
            let n = (iov.buf_len as usize).min(len - at);
            if n > 0 {
                content.read_to(self.caller, iov.buf, at, n)?;
            }
            at += n;
        }
        Size::try_from(at - start).map_err(|_| Errno::Overflow)
    }

    /// `fd_write`; on an `APPEND` fd, at the end of the file.
    pub(crate) fn fd_write(&mut self, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        let ino = self.file_fd(fd, rights::FD_WRITE)?;
        let handle = self.fds.get(fd)?;
        writable(handle.read_only)?;
        let at = if handle.flags & fdflags::APPEND != 0 {
            None
        } else {
            Some(handle.pos)
        };
        let iovs = self.caller.memory.iovecs(iovs, iovs_len)?;
        let (n, end) = self.write_at(ino, &iovs, at)?;
        self.fds.get_mut(fd)?.pos = end;
        Ok(n)
    }

    /// `fd_pwrite`: like `fd_write` at `offset`, leaving the fd's offset; on
    /// an `APPEND` fd the offset is ignored, as on Linux and wasmtime. On
    /// stdio, `ESPIPE` for the output streams and `EBADF` for stdin.
    pub(crate) fn fd_pwrite(
        &mut self,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: Filesize,
    ) -> Result<Size, Errno> {
        let handle = self.fds.get(fd)?;
        if let Node::Stdio(stream) = handle.node {
            return Err(if stream == 0 {
                Errno::Badf
            } else {
                Errno::Spipe
            });
        }
        let append = handle.flags & fdflags::APPEND != 0;
        let read_only = handle.read_only;
        let ino = self.file_fd(fd, rights::FD_WRITE | rights::FD_SEEK)?;
        writable(read_only)?;
        let iovs = self.caller.memory.iovecs(iovs, iovs_len)?;
        let (n, _) = self.write_at(ino, &iovs, if append { None } else { Some(offset) })?;
        Ok(n)
    }

    /// Copies `iovs` into file `ino` at `at` (the end if `None`), straight
    /// into its bytes, zero-filling any gap. Returns the bytes written and
    /// the offset after them.
    fn write_at(
        &mut self,
        ino: Ino,
        iovs: &[Iovec],
        at: Option<Filesize>,
    ) -> Result<(Size, Filesize), Errno> {
        let total: u64 = iovs.iter().map(|iov| iov.buf_len as u64).sum();
        // As `Memory::gather`: a total past `u32::MAX` is `EINVAL`.
        let n = Size::try_from(total).map_err(|_| Errno::Inval)?;
        let len = self
            .tree
            .file(ino)
            .expect("file_fd checked this is a regular file")
            .len() as u64;
        let start = at.unwrap_or(len);
        if n == 0 {
            return Ok((0, start));
        }
        let end = start.checked_add(total).ok_or(Errno::Fbig)?;
        let now = self.now();
        let data = self
            .tree
            .file_mut(ino)
            .expect("file_fd checked this is a regular file");
        grow(data, end)?;
        let mut cur = start as usize;
        for iov in iovs {
            let next = cur + iov.buf_len as usize;
            self.caller.memory.read(iov.buf, &mut data[cur..next])?;
            cur = next;
        }
        self.tree.touch(ino, now);
        Ok((n, end))
    }

    /// `fd_seek`. A position before 0 is `EINVAL`; stdio is `ESPIPE` and a
    /// directory `EBADF`, as wasmtime. `(CUR, 0)` needs only `FD_TELL`.
    pub(crate) fn fd_seek(&mut self, fd: Fd, offset: i64, whence: u32) -> Result<Filesize, Errno> {
        let whence = Whence::from_raw(whence)?;
        if let Node::Stdio(_) = self.fds.get(fd)?.node {
            return Err(Errno::Spipe);
        }
        let right = if whence == Whence::Cur && offset == 0 {
            rights::FD_TELL
        } else {
            rights::FD_SEEK
        };
        let ino = self.file_fd(fd, right)?;
        let handle = self.fds.get_mut(fd)?;
        let from = match whence {
            Whence::Set => 0,
            Whence::Cur => handle.pos,
            Whence::End => self.tree.file(ino).map_or(0, |b| b.len() as u64),
        };
        handle.pos = from.checked_add_signed(offset).ok_or(Errno::Inval)?;
        Ok(handle.pos)
    }

    /// `fd_tell`: stdio is `ESPIPE`, a directory `EBADF`, as wasmtime.
    pub(crate) fn fd_tell(&mut self, fd: Fd) -> Result<Filesize, Errno> {
        if let Node::Stdio(_) = self.fds.get(fd)?.node {
            return Err(Errno::Spipe);
        }
        self.file_fd(fd, rights::FD_TELL)?;
        Ok(self.fds.get(fd)?.pos)
    }

    /// `fd_readdir`: `.`, `..`, then the entries by name; the cookie of an
    /// entry is its index in that order, so it stays valid across calls
    /// while the directory does not change. When `buf_len` runs out, the
    /// last entry is cut (header or name) and `buf_len` is returned, so
    /// that "less than `buf_len`" means end of directory — byte for byte
    /// what wasmtime writes.
    pub(crate) fn fd_readdir(
        &mut self,
        fd: Fd,
        buf: u32,
        buf_len: u32,
        cookie: u64,
    ) -> Result<Size, Errno> {
        let (dir, _) = self.dir_fd(fd, rights::FD_READDIR)?;
        let mut out = Listing {
            bytes: Vec::new(),
            cap: buf_len as usize,
            index: 0,
            cookie,
        };
        let this = self.tree.stat(dir).ino;
        let parent = self.tree.stat(self.tree.parent(dir)).ino;
        out.push(this, crate::types::Filetype::Directory, ".");
        out.push(parent, crate::types::Filetype::Directory, "..");
        self.tree.for_each_entry(dir, |name, node, ino| {
            out.push(ino as u64 + 1, node.filetype(), name);
        })?;
        self.caller.memory.write(buf, &out.bytes)?;
        Ok(out.bytes.len() as Size)
    }
}

/// `fd_readdir`'s output, cut at `cap` bytes.
struct Listing {
    bytes: Vec<u8>,
    cap: usize,
    /// The index of the next entry.
    index: u64,
    /// Entries before this index are skipped.
    cookie: u64,
}

impl Listing {
    fn push(&mut self, ino: u64, d_type: crate::types::Filetype, name: &str) {
        let index = self.index;
        self.index += 1;
        if index < self.cookie || self.bytes.len() == self.cap {
            return;
        }
        let header = Dirent {
            d_next: index + 1,
            d_ino: ino,
            d_namlen: name.len() as u32,
            d_type,
        };
        for part in [&header.to_bytes()[..], name.as_bytes()] {
            let room = self.cap - self.bytes.len();
            self.bytes.extend_from_slice(&part[..part.len().min(room)]);
        }
    }
}
