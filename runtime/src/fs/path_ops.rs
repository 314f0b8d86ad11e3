//! The `path_*` functions: open, create, remove, rename, link, symlink,
//! readlink, stat and set times by path.
//!
//! Under a read-only preopen every change is `EPERM`, checked before the
//! path is looked at, as wasmtime does.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::fd_ops::new_times;
use super::fd_table::{Handle, Node};
use super::path::{self, Follow, Resolved, Target};
use super::tree::{Content, Ino, Kind, Tree};
use super::vfs::{Ctx, PathSpace, writable};
use crate::types::{Errno, Fd, Filestat, Size, fdflags, oflags, rights};

/// A path argument: address and length in the caller's memory.
pub(crate) type PathArg = (u32, u32);

/// The arguments of `path_open` besides the directory and the path.
pub(crate) struct OpenRequest {
    /// `lookupflags`.
    pub(crate) dirflags: u32,
    /// `oflags`.
    pub(crate) oflags: u32,
    /// Requested `fs_rights_base`.
    pub(crate) base: u64,
    /// Requested `fs_rights_inheriting`.
    pub(crate) inheriting: u64,
    /// `fdflags`.
    pub(crate) fdflags: u32,
}

/// A `u16` flag set from a `u32` argument; unknown bits are `EINVAL`.
fn flags16(raw: u32, all: u16) -> Result<u16, Errno> {
    u16::try_from(raw)
        .ok()
        .filter(|f| f & !all == 0)
        .ok_or(Errno::Inval)
}

/// `path` without its trailing slashes (`/` itself stays).
fn without_trailing_slashes(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if !path.is_empty() => "/",
        trimmed => trimmed,
    }
}

impl Ctx<'_> {
    fn resolve<'p>(
        &mut self,
        dir: Ino,
        path: &'p str,
        follow: Follow,
    ) -> Result<Resolved<'p>, Errno> {
        path::resolve(self.tree, dir, path, follow)
    }

    /// `path_open`.
    ///
    /// - The new fd's rights are those requested that the directory fd may
    ///   hand on (its inheriting rights) and that apply to what was opened
    ///   (`rights::REGULAR_FILE` or `rights::DIRECTORY`); no error for the rest.
    /// - `fd` a regular file: `ENOTDIR`; stdio: `EBADF` (as wasmtime).
    /// - `DIRECTORY` with `CREAT`, `EXCL` or `TRUNC`: `EINVAL` (as wasmtime).
    /// - A directory opened with `FD_WRITE`, `TRUNC` or `CREAT`: `EISDIR`; a last
    ///   symlink not followed: `ELOOP`; `CREAT` with a trailing `/`: `EISDIR`
    ///   (all as Linux).
    /// - `fdflags` are all accepted: `APPEND` and `NONBLOCK` as usual, the
    ///   sync flags as no-ops (wasmtime answers them with `ENOTSUP`).
    pub(crate) fn path_open(
        &mut self,
        fd: Fd,
        path: PathArg,
        req: OpenRequest,
    ) -> Result<Fd, Errno> {
        let follow = Follow::from_lookupflags(req.dirflags)?;
        let oflags = flags16(req.oflags, oflags::ALL)?;
        let fdflags = flags16(req.fdflags, fdflags::ALL)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path.0, path.1, &mut path_space)?;
        let parent = self.fds.get(fd)?.clone();
        let dir = match parent.node {
            Node::Stdio(_) => return Err(Errno::Badf),
            Node::Inode(ino) if !self.tree.is_dir(ino) => return Err(Errno::Notdir),
            Node::Inode(ino) => ino,
        };
        let has = |flag: u16| oflags & flag != 0;
        parent.check(open_rights(oflags))?;
        // The sync flags need the matching right among those the new fd
        // may have, as preview1's path_open says.
        if fdflags_rights(fdflags) & !parent.inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        if has(oflags::DIRECTORY) && has(oflags::CREAT | oflags::EXCL | oflags::TRUNC) {
            return Err(Errno::Inval);
        }
        writable(
            parent.read_only
                && (has(oflags::CREAT | oflags::TRUNC) || req.base & rights::FD_WRITE != 0),
        )?;
        let resolved = self.resolve(dir, path, follow)?;
        let ino = match resolved.target {
            Target::Missing { .. } if !has(oflags::CREAT) => return Err(Errno::Noent),
            Target::Missing { .. } if resolved.trailing_slash => return Err(Errno::Isdir),
            Target::Missing { dir, name } => {
                let now = self.now();
                self.tree
                    .create(dir, &name, Kind::File(Content::Owned(Vec::new())), now)?
            }
            Target::Entry { .. } | Target::Dir(_) if has(oflags::CREAT) && has(oflags::EXCL) => {
                return Err(Errno::Exist);
            }
            Target::Entry { ino, .. } | Target::Dir(ino) => {
                let flags = (
                    has(oflags::DIRECTORY),
                    has(oflags::TRUNC),
                    has(oflags::CREAT),
                );
                self.open_existing(ino, flags, req.base)?;
                ino
            }
        };
        let kind_rights = if self.tree.is_dir(ino) {
            rights::DIRECTORY
        } else {
            rights::REGULAR_FILE
        };
        let handle = Handle {
            node: Node::Inode(ino),
            base: req.base & parent.inheriting & kind_rights,
            inheriting: req.inheriting & parent.inheriting,
            flags: fdflags,
            pos: 0,
            preopen: None,
            read_only: parent.read_only,
        };
        let new_fd = self.fds.push(handle)?;
        self.tree.opened(ino);
        Ok(new_fd)
    }

    /// The checks (and `TRUNC`) of opening an existing `ino`, given the
    /// `DIRECTORY`, `TRUNC` and `CREAT` oflags. A directory asked for
    /// `FD_WRITE` or `TRUNC`, or (without `DIRECTORY`) with `CREAT`, is
    /// `EISDIR`, as `open(2)` and wasmtime answer.
    fn open_existing(
        &mut self,
        ino: Ino,
        (directory, trunc, creat): (bool, bool, bool),
        base: u64,
    ) -> Result<(), Errno> {
        if self.tree.symlink(ino).is_some() {
            return Err(Errno::Loop);
        }
        if self.tree.is_dir(ino) {
            let writes = base & rights::FD_WRITE != 0 || (creat && !directory);
            return if trunc || writes {
                Err(Errno::Isdir)
            } else {
                Ok(())
            };
        }
        if directory {
            return Err(Errno::Notdir);
        }
        if trunc { self.resize(ino, 0) } else { Ok(()) }
    }

    /// `path_create_directory`: `EEXIST` if anything is there already
    /// (trailing slashes are ignored, so `link/` is `EEXIST`, as wasmtime).
    pub(crate) fn path_create_directory(
        &mut self,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        let (dir, read_only) = self.dir_fd(fd, rights::PATH_CREATE_DIRECTORY)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        writable(read_only)?;
        match self
            .resolve(dir, without_trailing_slashes(path), Follow::Never)?
            .target
        {
            Target::Missing { dir, name } => {
                let now = self.now();
                self.tree
                    .create(dir, &name, Tree::empty_dir(), now)
                    .map(|_| ())
            }
            _ => Err(Errno::Exist),
        }
    }

    /// `path_filestat_get`. Without `SYMLINK_FOLLOW`, trailing slashes are
    /// ignored (`link/` is the link, `file/` the file), as wasmtime does.
    pub(crate) fn path_filestat_get(
        &mut self,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
    ) -> Result<Filestat, Errno> {
        let follow = Follow::from_lookupflags(flags)?;
        let (dir, _) = self.dir_fd(fd, rights::PATH_FILESTAT_GET)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        let resolved = match follow {
            Follow::Always => self.resolve(dir, path, follow)?,
            _ => self.resolve(dir, without_trailing_slashes(path), Follow::Never)?,
        };
        Ok(self.tree.stat(resolved.existing()?))
    }

    /// `path_filestat_set_times`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_filestat_set_times(
        &mut self,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno> {
        new_times(atim, mtim, fst_flags, 0)?;
        let follow = Follow::from_lookupflags(flags)?;
        let (dir, read_only) = self.dir_fd(fd, rights::PATH_FILESTAT_SET_TIMES)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        writable(read_only)?;
        let ino = self.resolve(dir, path, follow)?.existing()?;
        self.set_times(ino, atim, mtim, fst_flags)
    }

    /// `path_link`: a second name for the same inode. `SYMLINK_FOLLOW` is
    /// `EINVAL` and a directory `EPERM`, as wasmtime (and Linux).
    pub(crate) fn path_link(
        &mut self,
        old_fd: Fd,
        old_flags: u32,
        old: PathArg,
        new_fd: Fd,
        new: PathArg,
    ) -> Result<(), Errno> {
        let (old_dir, old_read_only) = self.dir_fd(old_fd, rights::PATH_LINK_SOURCE)?;
        let (new_dir, new_read_only) = self.dir_fd(new_fd, rights::PATH_LINK_TARGET)?;
        if Follow::from_lookupflags(old_flags)? == Follow::Always {
            return Err(Errno::Inval);
        }
        let mut old_space = PathSpace::new();
        let old = self.read_path(old.0, old.1, &mut old_space)?;
        let mut new_space = PathSpace::new();
        let new = self.read_path(new.0, new.1, &mut new_space)?;
        writable(old_read_only || new_read_only)?;
        let ino = self.resolve(old_dir, old, Follow::IfSlash)?.existing()?;
        if self.tree.is_dir(ino) {
            return Err(Errno::Perm);
        }
        let resolved = self.resolve(new_dir, new, Follow::Never)?;
        match resolved.target {
            Target::Missing { .. } if resolved.trailing_slash => Err(Errno::Noent),
            Target::Missing { dir, name } => {
                let now = self.now();
                self.tree.link(dir, &name, ino, now)
            }
            _ => Err(Errno::Exist),
        }
    }

    /// `path_readlink`: the target cut to `buf_len` bytes (no NUL), as
    /// wasmtime; `EINVAL` if not a symlink.
    pub(crate) fn path_readlink(
        &mut self,
        fd: Fd,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
    ) -> Result<Size, Errno> {
        let (dir, _) = self.dir_fd(fd, rights::PATH_READLINK)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        let ino = self.resolve(dir, path, Follow::IfSlash)?.existing()?;
        let target = self.tree.symlink(ino).ok_or(Errno::Inval)?.as_bytes();
        let n = target.len().min(buf_len as usize);
        self.caller.memory.write(buf, &target[..n])?;
        Ok(n as Size)
    }

    /// `path_remove_directory`: `ENOTDIR` for a non-directory, `ENOTEMPTY`
    /// unless empty, `EINVAL` for a path ending in `.`, `..` — or `/`, as
    /// wasmtime (cap-std reads `dir/` as `dir/.`), unlike Linux.
    pub(crate) fn path_remove_directory(
        &mut self,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        let (dir, read_only) = self.dir_fd(fd, rights::PATH_REMOVE_DIRECTORY)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        writable(read_only)?;
        let resolved = self.resolve(dir, path, Follow::IfSlash)?;
        match resolved.target {
            Target::Missing { .. } => Err(Errno::Noent),
            Target::Dir(_) => Err(Errno::Inval),
            Target::Entry { .. } if resolved.trailing_slash => Err(Errno::Inval),
            Target::Entry { ino, .. } if !self.tree.is_dir(ino) => Err(Errno::Notdir),
            Target::Entry { ino, .. } if !self.tree.is_empty_dir(ino) => Err(Errno::Notempty),
            Target::Entry { dir, name, .. } => {
                let now = self.now();
                self.tree.unlink(dir, &name, now)
            }
        }
    }

    /// `path_rename`, with POSIX's rules: a file may replace a file
    /// (`EISDIR` onto a directory), a directory an empty directory
    /// (`ENOTDIR` onto a file, `ENOTEMPTY` onto a non-empty one, `EINVAL`
    /// into its own subtree); two names of one inode: nothing happens; a
    /// path ending in `.` or `..`: `EBUSY`.
    pub(crate) fn path_rename(
        &mut self,
        fd: Fd,
        old: PathArg,
        new_fd: Fd,
        new: PathArg,
    ) -> Result<(), Errno> {
        let (old_dir, old_read_only) = self.dir_fd(fd, rights::PATH_RENAME_SOURCE)?;
        let (new_dir, new_read_only) = self.dir_fd(new_fd, rights::PATH_RENAME_TARGET)?;
        let mut old_space = PathSpace::new();
        let old = self.read_path(old.0, old.1, &mut old_space)?;
        let mut new_space = PathSpace::new();
        let new = self.read_path(new.0, new.1, &mut new_space)?;
        writable(old_read_only || new_read_only)?;
        let (from_dir, from_name, ino) = match self.resolve(old_dir, old, Follow::Never)?.target {
            Target::Entry { dir, name, ino } => (dir, name, ino),
            Target::Missing { .. } => return Err(Errno::Noent),
            Target::Dir(_) => return Err(Errno::Busy),
        };
        let moving_dir = self.tree.is_dir(ino);
        let resolved = self.resolve(new_dir, new, Follow::Never)?;
        let (to_dir, to_name, replaced) = match resolved.target {
            Target::Dir(_) => return Err(Errno::Busy),
            Target::Missing { .. } if resolved.trailing_slash && !moving_dir => {
                return Err(Errno::Notdir);
            }
            Target::Missing { dir, name } => (dir, name, None),
            Target::Entry { ino: same, .. } if same == ino => return Ok(()),
            Target::Entry { dir, name, ino } => (dir, name, Some(ino)),
        };
        if moving_dir && self.tree.is_ancestor(ino, to_dir) {
            return Err(Errno::Inval);
        }
        if let Some(replaced) = replaced {
            match (moving_dir, self.tree.is_dir(replaced)) {
                (true, false) => return Err(Errno::Notdir),
                (false, true) => return Err(Errno::Isdir),
                (true, true) if !self.tree.is_empty_dir(replaced) => return Err(Errno::Notempty),
                _ => {}
            }
        }
        let now = self.now();
        if replaced.is_some() {
            self.tree.unlink(to_dir, &to_name, now)?;
        }
        // Link first, so the inode is never without a name (and freed).
        self.tree.link(to_dir, &to_name, ino, now)?;
        self.tree.unlink(from_dir, &from_name, now)
    }

    /// `path_symlink`: the target text is stored as given; one that climbs
    /// out with `..` is refused only when followed, an absolute one at once
    /// (both as wasmtime); an empty one is `ENOENT`, as Linux.
    pub(crate) fn path_symlink(
        &mut self,
        target: PathArg,
        fd: Fd,
        new: PathArg,
    ) -> Result<(), Errno> {
        let (dir, read_only) = self.dir_fd(fd, rights::PATH_SYMLINK)?;
        let mut target_space = PathSpace::new();
        let target = self.read_path(target.0, target.1, &mut target_space)?;
        let mut new_space = PathSpace::new();
        let new = self.read_path(new.0, new.1, &mut new_space)?;
        writable(read_only)?;
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        if target.starts_with('/') {
            return Err(path::ESCAPE);
        }
        let resolved = self.resolve(dir, new, Follow::Never)?;
        match resolved.target {
            Target::Missing { .. } if resolved.trailing_slash => Err(Errno::Noent),
            Target::Missing { dir, name } => {
                let now = self.now();
                self.tree
                    .create(
                        dir,
                        &name,
                        Kind::Symlink(Cow::Owned(String::from(target))),
                        now,
                    )
                    .map(|_| ())
            }
            _ => Err(Errno::Exist),
        }
    }

    /// `path_unlink_file`: `EISDIR` for a directory (a symlink to one is
    /// removed itself).
    pub(crate) fn path_unlink_file(
        &mut self,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        let (dir, read_only) = self.dir_fd(fd, rights::PATH_UNLINK_FILE)?;
        let mut path_space = PathSpace::new();
        let path = self.read_path(path, path_len, &mut path_space)?;
        writable(read_only)?;
        match self.resolve(dir, path, Follow::IfSlash)?.target {
            Target::Missing { .. } => Err(Errno::Noent),
            Target::Dir(_) => Err(Errno::Isdir),
            Target::Entry { ino, .. } if self.tree.is_dir(ino) => Err(Errno::Isdir),
            Target::Entry { dir, name, .. } => {
                let now = self.now();
                self.tree.unlink(dir, &name, now)
            }
        }
    }
}

/// The rights `path_open` needs on the directory fd: `PATH_OPEN`, and
/// `PATH_CREATE_FILE` to create, `PATH_FILESTAT_SET_SIZE` to truncate.
fn open_rights(oflags: u16) -> u64 {
    let mut needed = rights::PATH_OPEN;
    if oflags & oflags::CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    if oflags & oflags::TRUNC != 0 {
        needed |= rights::PATH_FILESTAT_SET_SIZE;
    }
    needed
}

/// The rights an fd opened with `fdflags` must be able to inherit:
/// `FD_DATASYNC` for `DSYNC`, `FD_SYNC` for `RSYNC` and `SYNC`.
fn fdflags_rights(fdflags: u16) -> u64 {
    let mut needed = 0;
    if fdflags & fdflags::DSYNC != 0 {
        needed |= rights::FD_DATASYNC;
    }
    if fdflags & (fdflags::RSYNC | fdflags::SYNC) != 0 {
        needed |= rights::FD_SYNC;
    }
    needed
}
