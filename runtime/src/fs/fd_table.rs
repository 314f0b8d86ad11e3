//! One caller's fd table: stdio at 0–2, preopens from 3, then what it opens.

use alloc::vec::Vec;

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
///
/// Slots are indexed by fd: no fd is ever above the number of fds opened
/// so far (a new fd is a freed one or the next slot, and `renumber` only
/// moves onto an open fd), and the empty slots are exactly the freed fds.
/// An open/close pair touches no allocator once the vectors have grown.
#[derive(Default)]
pub(crate) struct FdTable {
    slots: Vec<Option<Handle>>,
    /// The empty slots, ascending (the next fd is the last).
    free: Vec<Fd>,
}

impl FdTable {
    /// The handle at `fd`, or `EBADF`.
    #[inline]
    pub(crate) fn get(&self, fd: Fd) -> Result<&Handle, Errno> {
        match self.slots.get(fd as usize) {
            Some(Some(handle)) => Ok(handle),
            _ => Err(Errno::Badf),
        }
    }

    /// The handle at `fd`, mutably, or `EBADF`.
    #[inline]
    pub(crate) fn get_mut(&mut self, fd: Fd) -> Result<&mut Handle, Errno> {
        match self.slots.get_mut(fd as usize) {
            Some(Some(handle)) => Ok(handle),
            _ => Err(Errno::Badf),
        }
    }

    /// Adds `handle` and returns its fd (`EMFILE` once all 2³² are used;
    /// `ENOMEM` if the table cannot grow).
    pub(crate) fn push(&mut self, handle: Handle) -> Result<Fd, Errno> {
        if let Some(fd) = self.free.pop() {
            self.slots[fd as usize] = Some(handle);
            return Ok(fd);
        }
        let fd = Fd::try_from(self.slots.len()).map_err(|_| Errno::Mfile)?;
        self.slots.try_reserve(1).map_err(|_| Errno::Nomem)?;
        self.slots.push(Some(handle));
        Ok(fd)
    }

    /// Removes `fd`, or `EBADF`.
    pub(crate) fn remove(&mut self, fd: Fd) -> Result<Handle, Errno> {
        let handle = match self.slots.get_mut(fd as usize) {
            Some(slot @ Some(_)) => slot.take().expect("matched as Some"),
            _ => return Err(Errno::Badf),
        };
        // Nearly always the highest (programs close what they opened last).
        let at = match self.free.last() {
            Some(&last) if last > fd => self.free.partition_point(|&f| f < fd),
            _ => self.free.len(),
        };
        if self.free.try_reserve(1).is_err() {
            // No room to remember the hole: keep the fd open rather than
            // lose track of it (`ENOMEM`, the handle back in place).
            self.slots[fd as usize] = Some(handle);
            return Err(Errno::Nomem);
        }
        self.free.insert(at, fd);
        Ok(handle)
    }

    /// Every open handle, the table gone (a caller being reset).
    pub(crate) fn into_handles(self) -> impl Iterator<Item = Handle> {
        self.slots.into_iter().flatten()
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
        Ok(self.slots[to as usize].replace(handle))
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
