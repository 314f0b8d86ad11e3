//! The `fd_*` functions about the fd itself rather than its data: close,
//! renumber, fdstat, filestat, prestat, advise, allocate, sync, and the
//! `sock_*` answers.

use super::fd_table::Node;
use super::io::set_len;
use super::tree::Ino;
use super::vfs::{Ctx, writable};
use crate::types::{
    ADVICE_MAX, Errno, Fd, Fdstat, Filestat, Filetype, Prestat, Timestamp, fdflags, fstflags,
    rights,
};

/// The new `(atim, mtim)` of a `*_set_times` call (`None`: unchanged), or
/// `EINVAL` for unknown flags or a time given both as a value and as now.
pub(crate) fn new_times(
    atim: Timestamp,
    mtim: Timestamp,
    flags: u32,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Option<Timestamp>), Errno> {
    if flags & !(fstflags::ALL as u32) != 0 {
        return Err(Errno::Inval);
    }
    let pick = |value, set: u16, set_now: u16| match (
        flags & set as u32 != 0,
        flags & set_now as u32 != 0,
    ) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(Some(value)),
        (false, true) => Ok(Some(now)),
        (false, false) => Ok(None),
    };
    Ok((
        pick(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        pick(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

impl Ctx<'_> {
    pub(crate) fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        let handle = self.fds.remove(fd)?;
        self.release(handle);
        Ok(())
    }

    /// `fd_renumber`: `to` is closed and `fd` moves there. Both must be open
    /// (`EBADF` otherwise), as wasmtime answers.
    pub(crate) fn fd_renumber(&mut self, fd: Fd, to: Fd) -> Result<(), Errno> {
        if let Some(closed) = self.fds.renumber(fd, to)? {
            self.release(closed);
        }
        Ok(())
    }

    /// The standard stream behind `fd`, if it is one.
    pub(crate) fn stream(&self, fd: Fd) -> Option<Fd> {
        match self.fds.get(fd).ok()?.node {
            Node::Stdio(stream) => Some(stream),
            Node::Inode(_) => None,
        }
    }

    /// `fd_fdstat_get`, and the standard stream behind `fd` if it is one
    /// (one lookup: a hot call). For a stream the file type is left to the
    /// [`Vfs`](super::Vfs), which asks its `Stdio`.
    pub(crate) fn fd_fdstat_get(&mut self, fd: Fd) -> Result<(Fdstat, Option<Fd>), Errno> {
        let handle = self.fds.get(fd)?;
        let (fs_filetype, stream) = match handle.node {
            Node::Stdio(stream) => (Filetype::CharacterDevice, Some(stream)),
            Node::Inode(ino) => (self.tree.node(ino).filetype(), None),
        };
        let stat = Fdstat {
            fs_filetype,
            fs_flags: handle.flags,
            fs_rights_base: handle.base,
            fs_rights_inheriting: handle.inheriting,
        };
        Ok((stat, stream))
    }

    /// `fd_fdstat_set_flags`: on regular files only (`EBADF` otherwise), and
    /// only `APPEND` and `NONBLOCK` (`EINVAL` for the sync flags), as
    /// wasmtime.
    pub(crate) fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: u32) -> Result<(), Errno> {
        let flags = u16::try_from(flags)
            .ok()
            .filter(|f| f & !(fdflags::APPEND | fdflags::NONBLOCK) == 0)
            .ok_or(Errno::Inval)?;
        self.file_fd(fd, rights::FD_FDSTAT_SET_FLAGS)?;
        self.fds.get_mut(fd)?.flags = flags;
        Ok(())
    }

    /// `fd_fdstat_set_rights`: rights can only be dropped; asking for one
    /// the fd lacks is `ENOTCAPABLE` (wasmtime ignores the call).
    pub(crate) fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        base: u64,
        inheriting: u64,
    ) -> Result<(), Errno> {
        let handle = self.fds.get_mut(fd)?;
        if base & !handle.base != 0 || inheriting & !handle.inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        handle.base = base;
        handle.inheriting = inheriting;
        Ok(())
    }

    /// `fd_filestat_get`, and the standard stream behind `fd` if it is one
    /// (one lookup, as `fd_fdstat_get`). Stdio has every field 0, as
    /// wasmtime; its file type is left to the [`Vfs`](super::Vfs).
    pub(crate) fn fd_filestat_get(&mut self, fd: Fd) -> Result<(Filestat, Option<Fd>), Errno> {
        let handle = self.fds.get(fd)?;
        handle.check(rights::FD_FILESTAT_GET)?;
        Ok(match handle.node {
            Node::Stdio(stream) => {
                let stat = Filestat {
                    dev: 0,
                    ino: 0,
                    filetype: Filetype::CharacterDevice,
                    nlink: 0,
                    size: 0,
                    atim: 0,
                    mtim: 0,
                    ctim: 0,
                };
                (stat, Some(stream))
            }
            Node::Inode(ino) => (self.tree.stat(ino), None),
        })
    }

    /// `fd_filestat_set_size`: truncates or zero-extends a regular file. On
    /// an fd without `FD_WRITE`, `EINVAL`, what `ftruncate` gives wasmtime.
    pub(crate) fn fd_filestat_set_size(&mut self, fd: Fd, size: u64) -> Result<(), Errno> {
        let ino = self.file_fd(fd, 0)?;
        let handle = self.fds.get(fd)?;
        if handle.base & rights::FD_WRITE == 0 {
            return Err(Errno::Inval);
        }
        handle.check(rights::FD_FILESTAT_SET_SIZE)?;
        writable(handle.read_only)?;
        self.resize(ino, size)
    }

    /// Sets the size of regular file `ino`; an embedded file cut to 0 is
    /// not copied first.
    pub(crate) fn resize(&mut self, ino: Ino, size: u64) -> Result<(), Errno> {
        let now = self.now();
        if size == 0 {
            self.tree.clear_file(ino);
        } else {
            set_len(self.tree.file_mut(ino).expect("a regular file"), size)?;
        }
        self.tree.touch(ino, now);
        Ok(())
    }

    /// `fd_filestat_set_times` on a regular file; a directory or stdio is
    /// `EBADF`, as wasmtime answers (a directory's times are set by path,
    /// with `path_filestat_set_times`).
    pub(crate) fn fd_filestat_set_times(
        &mut self,
        fd: Fd,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> Result<(), Errno> {
        new_times(atim, mtim, flags, 0)?;
        let ino = self.file_fd(fd, rights::FD_FILESTAT_SET_TIMES)?;
        let handle = self.fds.get(fd)?;
        writable(handle.read_only)?;
        self.set_times(ino, atim, mtim, flags)
    }

    /// Applies a `*_set_times` call to `ino` (whose status changes now).
    pub(crate) fn set_times(
        &mut self,
        ino: Ino,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> Result<(), Errno> {
        let now = self.now();
        let (atim, mtim) = new_times(atim, mtim, flags, now)?;
        let node = self.tree.node_mut(ino);
        node.atim = atim.unwrap_or(node.atim);
        node.mtim = mtim.unwrap_or(node.mtim);
        node.ctim = now;
        Ok(())
    }

    /// `fd_advise`: checks the advice (`EINVAL` past `noreuse`) and the fd
    /// (a regular file, as wasmtime), then ignores it.
    pub(crate) fn fd_advise(
        &mut self,
        fd: Fd,
        _offset: u64,
        _len: u64,
        advice: u32,
    ) -> Result<(), Errno> {
        if advice > ADVICE_MAX {
            return Err(Errno::Inval);
        }
        self.file_fd(fd, rights::FD_ADVISE).map(|_| ())
    }

    /// `fd_allocate`: grows the file to `offset + len` if shorter, as
    /// `posix_fallocate` (today's wasmtime answers `ENOTSUP`; the legacy
    /// implementation grew the file).
    pub(crate) fn fd_allocate(&mut self, fd: Fd, offset: u64, len: u64) -> Result<(), Errno> {
        let ino = self.file_fd(fd, rights::FD_ALLOCATE)?;
        writable(self.fds.get(fd)?.read_only)?;
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        let size = self.tree.file(ino).map_or(0, |b| b.len() as u64);
        if end > size {
            self.resize(ino, end)
        } else {
            Ok(())
        }
    }

    /// `fd_sync`/`fd_datasync`: nothing to flush. Regular files only
    /// (`EBADF` for directories and stdio, as wasmtime).
    pub(crate) fn fd_sync(&mut self, fd: Fd, right: u64) -> Result<(), Errno> {
        self.file_fd(fd, right).map(|_| ())
    }

    /// `fd_prestat_get`: `EBADF` for an fd that is not a preopen.
    pub(crate) fn fd_prestat_get(&mut self, fd: Fd) -> Result<Prestat, Errno> {
        let path = self.fds.get(fd)?.preopen.ok_or(Errno::Badf)?;
        Ok(Prestat {
            pr_name_len: path.len() as u32,
        })
    }

    /// `fd_prestat_dir_name`: `ENAMETOOLONG` if `path_len` is shorter than
    /// the name (nothing written), `ENOTDIR` for an open fd that is not a
    /// preopen — both as wasmtime.
    pub(crate) fn fd_prestat_dir_name(
        &mut self,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        let name = self.fds.get(fd)?.preopen.ok_or(Errno::Notdir)?;
        if name.len() > path_len as usize {
            return Err(Errno::Nametoolong);
        }
        self.caller.memory.write(path, name.as_bytes())
    }

    /// `sock_*`: no fd of this filesystem is a socket.
    pub(crate) fn not_a_socket<T>(&mut self, fd: Fd) -> Result<T, Errno> {
        self.fds.get(fd)?;
        Err(Errno::Notsock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_a_value_or_now_but_not_both() {
        let now = 99;
        let both = (fstflags::ATIM | fstflags::MTIM_NOW) as u32;
        assert_eq!(new_times(1, 2, both, now), Ok((Some(1), Some(99))));
        assert_eq!(new_times(1, 2, 0, now), Ok((None, None)));
        let clash = (fstflags::ATIM | fstflags::ATIM_NOW) as u32;
        assert_eq!(new_times(1, 2, clash, now), Err(Errno::Inval));
        assert_eq!(new_times(1, 2, 1 << 4, now), Err(Errno::Inval));
    }
}
