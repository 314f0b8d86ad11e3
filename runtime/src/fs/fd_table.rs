//! One caller's fd table: stdio at 0–2, preopens from 3, then what it opens.

use alloc::collections::{BTreeMap, BTreeSet};

use super::tree::Ino;
use crate::types::{Errno, Fd, rights};

/// What an fd refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// Standard input, output or error (the fd number it started at).
    Stdio(Fd),
    /// A file, directory or symlink of the tree.
    Inode(Ino),
}

/// An open fd.
#[derive(Clone, Debug)]
pub(crate) struct Handle {
    /// What it refers to.
    pub(crate) node: Node,
    /// `fs_rights_base`.
    pub(crate) base: u64,
    /// `fs_rights_inheriting`.
    pub(crate) inheriting: u64,
    /// `fdflags`.
    pub(crate) flags: u16,
    /// The file offset (regular files only).
    pub(crate) pos: u64,
    /// The guest path of a preopen (`fd_prestat_*`), `None` otherwise.
    pub(crate) preopen: Option<&'static str>,
    /// Opened under a read-only preopen: every change is refused.
    pub(crate) read_only: bool,
}

impl Handle {
    /// One of the standard streams.
    pub(crate) fn stdio(fd: Fd) -> Handle {
        Handle {
            node: Node::Stdio(fd),
            base: rights::TTY,
            inheriting: rights::TTY,
            flags: 0,
            pos: 0,
            preopen: None,
            read_only: false,
        }
    }

    /// A preopened directory, with the rights wasmtime gives one: directory
    /// operations on the fd itself, anything on what is opened through it.
    pub(crate) fn preopen(ino: Ino, path: &'static str, read_only: bool) -> Handle {
        Handle {
            node: Node::Inode(ino),
            base: rights::DIRECTORY,
            inheriting: rights::DIRECTORY | rights::REGULAR_FILE,
            flags: 0,
            pos: 0,
            preopen: Some(path),
            read_only,
        }
    }

    /// `Ok` if the fd has every right in `needed`. Missing `FD_READ` or
    /// `FD_WRITE` is `EBADF`, what wasmtime (and POSIX) give for reading a
    /// write-only fd and the reverse, so ordinary programs see the same
    /// error; any other missing right is `ENOTCAPABLE`.
    pub(crate) fn check(&self, needed: u64) -> Result<(), Errno> {
        let missing = needed & !self.base;
        if missing == 0 {
            Ok(())
        } else if missing & (rights::FD_READ | rights::FD_WRITE) != 0 {
            Err(Errno::Badf)
        } else {
            Err(Errno::Notcapable)
        }
    }

    /// The inode, for an fd on the tree.
    pub(crate) fn ino(&self) -> Option<Ino> {
        match self.node {
            Node::Inode(ino) => Some(ino),
            Node::Stdio(_) => None,
        }
    }
}

/// The fds of one caller.
///
/// Numbering follows wasmtime's preview1: a new fd takes the highest
/// number freed so far, else one past the highest in use (not POSIX's
/// lowest free), so that programs which print fd numbers print the same.
#[derive(Default)]
pub(crate) struct FdTable {
    used: BTreeMap<Fd, Handle>,
    free: BTreeSet<Fd>,
}

impl FdTable {
    /// The handle at `fd`, or `EBADF`.
    pub(crate) fn get(&self, fd: Fd) -> Result<&Handle, Errno> {
        self.used.get(&fd).ok_or(Errno::Badf)
    }

    /// The handle at `fd`, mutably, or `EBADF`.
    pub(crate) fn get_mut(&mut self, fd: Fd) -> Result<&mut Handle, Errno> {
        self.used.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// Adds `handle` and returns its fd (`EMFILE` once all 2³² are used).
    pub(crate) fn push(&mut self, handle: Handle) -> Result<Fd, Errno> {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.used.last_key_value() {
                Some((&last, _)) => last.checked_add(1).ok_or(Errno::Mfile)?,
                None => 0,
            },
        };
        self.used.insert(fd, handle);
        Ok(fd)
    }

    /// Removes `fd`, or `EBADF`.
    pub(crate) fn remove(&mut self, fd: Fd) -> Result<Handle, Errno> {
        let handle = self.used.remove(&fd).ok_or(Errno::Badf)?;
        self.free.insert(fd);
        Ok(handle)
    }

    /// Every open handle, the table gone (a caller being reset).
    pub(crate) fn into_handles(self) -> impl Iterator<Item = Handle> {
        self.used.into_values()
    }

    /// Moves `from` to `to`, both open (`EBADF` otherwise), and returns the
    /// handle that was at `to` (now closed). `from == to` changes nothing.
    pub(crate) fn renumber(&mut self, from: Fd, to: Fd) -> Result<Option<Handle>, Errno> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(None);
        }
        let handle = self.remove(from)?;
        self.free.remove(&to);
        Ok(self.used.insert(to, handle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_is_wasmtimes() {
        let mut table = FdTable::default();
        for fd in 0..3 {
            assert_eq!(table.push(Handle::stdio(fd)), Ok(fd));
        }
        let open = |t: &mut FdTable| t.push(Handle::stdio(0)).unwrap();
        assert_eq!(
            [open(&mut table), open(&mut table), open(&mut table)],
            [3, 4, 5]
        );
        table.remove(3).unwrap();
        table.remove(4).unwrap();
        assert_eq!(open(&mut table), 4, "the highest freed number first");
        assert_eq!(open(&mut table), 3);
        assert_eq!(open(&mut table), 6);
        assert_eq!(table.remove(9).err(), Some(Errno::Badf));
    }

    #[test]
    fn renumber_needs_both_fds_open() {
        let mut table = FdTable::default();
        let a = table.push(Handle::stdio(0)).unwrap();
        let b = table.push(Handle::stdio(1)).unwrap();
        assert_eq!(table.renumber(a, 7).err(), Some(Errno::Badf));
        assert_eq!(table.renumber(7, a).err(), Some(Errno::Badf));
        assert_eq!(
            table.renumber(a, b).unwrap().map(|h| h.node),
            Some(Node::Stdio(1))
        );
        assert_eq!(table.get(b).unwrap().node, Node::Stdio(0));
        assert_eq!(table.get(a).err(), Some(Errno::Badf));
        assert_eq!(table.push(Handle::stdio(2)), Ok(a));
    }
}
