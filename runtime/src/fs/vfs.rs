//! [`Vfs`]: the built-in [`Fs`]. Embedded trees at build time, an in-memory
//! writable layer over them at run time, and an fd table per caller.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};
use core::mem::MaybeUninit;

use super::Fs;
use super::embedded::EmbeddedNode;
use super::fd_table::{FdTable, Handle, Node};
use super::path::{self, Follow, PATH_MAX, Target};
use super::tree::{Content, Ino, Kind, Tree};
use crate::cell::OneThread;
use crate::clock::Clock;
use crate::memory::Caller;
use crate::stdio::Stdio;
use crate::types::{Errno, Fd, Fdstat, Filesize, Filestat, Prestat, Size, Timestamp};

/// A directory the program finds open at start-up (fds 3, 4, … in order).
#[derive(Clone, Copy, Debug)]
pub struct Preopen {
    path: &'static str,
    root: &'static EmbeddedNode,
    read_only: bool,
}

impl Preopen {
    /// `root` (a directory; any other node is an empty directory) seen by
    /// the program at `path` (e.g. `"/"` or `"/data"`), writable: changes go
    /// to an in-memory layer over it, never to `root` itself.
    pub const fn new(path: &'static str, root: &'static EmbeddedNode) -> Preopen {
        Preopen {
            path,
            root,
            read_only: false,
        }
    }

    /// An empty writable directory at `path`.
    pub const fn empty(path: &'static str) -> Preopen {
        Preopen::new(path, &EmbeddedNode::EMPTY_DIR)
    }

    /// Refuses every change under this preopen with `EPERM`, what wasmtime
    /// answers for a directory mounted read-only (`DirPerms::READ` without
    /// `MUTATE`, `FilePerms::READ` without `WRITE`): creating, removing,
    /// renaming, linking, opening for writing or truncating, setting sizes
    /// and times. Reading, `stat` and `readdir` work as usual.
    pub const fn read_only(self) -> Preopen {
        Preopen {
            read_only: true,
            ..self
        }
    }

    /// The path the program sees.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// Whether changes are refused.
    pub const fn is_read_only(&self) -> bool {
        self.read_only
    }
}

/// The built-in filesystem: the preview1 `fd_*`, `path_*` and `sock_*`
/// functions over embedded trees with an in-memory writable layer.
///
/// ```ignore
/// static FS: Vfs = Vfs::new(&[Preopen::new("/", &embed_dir!("site"))], &StdioConfig::CAPTURE)
///     .with_clock(&CLOCK);
/// plug_fs!(FS, app, self);
/// ```
///
/// Usable in a `static`: nothing happens until the first call, which sets
/// up the preopens' root directories (and nothing below them: embedded
/// directories are read when first looked into). Each caller (each target,
/// and the guest itself) has its own fd table — fds 0–2 are stdio through
/// the [`Stdio`], then one fd per [`Preopen`] — over one shared tree.
///
/// Errno values are those wasmtime's host WASI (49) gives on a real folder,
/// checked call by call, trailing-slash quirks included. The deliberate
/// differences, each documented where it is decided:
/// - a path leading outside its directory fd is `ENOTCAPABLE`, as the
///   design asks (wasmtime: `EPERM`) — one constant, `path::ESCAPE`;
/// - rights are enforced (wasmtime ignores them): a missing right is
///   `ENOTCAPABLE`, except `FD_READ`/`FD_WRITE`, `EBADF` as wasmtime;
/// - `path_open` accepts the sync `fdflags` (wasmtime: `ENOTSUP`);
/// - `fd_allocate` grows the file (wasmtime: `ENOTSUP`);
/// - stdio reports what its [`Stdio`] says (wasmtime's answer for a pipe
///   unless it is inherited or configured as a terminal) but keeps
///   `rights::TTY` for what it allows;
/// - vectored reads and writes use every iovec, as `readv`/`writev`
///   (wasmtime moves only the first non-empty one);
/// - a pointer outside the caller's memory, or an enum or flag value
///   preview1 does not define, is `EFAULT`/`EINVAL` (wasmtime traps).
///
/// `tests/tests/conformance.rs` checks all of this against wasmtime, case
/// by case, each remaining difference listed with its reason.
pub struct Vfs {
    preopens: &'static [Preopen],
    // The stdio and the clock need not be `Sync` (a guest's own may hold
    // cells, as `VirtualClock` does): shared without it, they are
    // `OneThread`s, as the state is.
    stdio: OneThread<&'static dyn Stdio>,
    clock: OneThread<Option<&'static dyn Clock>>,
    state: OneThread<RefCell<Option<State>>>,
}

/// Everything that changes at run time.
struct State {
    tree: Tree,
    /// The root inode of each preopen, in order.
    roots: Vec<Ino>,
    /// Each caller's fds, by [`Caller::name`] (one or a few callers: a
    /// short list, searched by address first, beats a map).
    tables: Vec<(&'static str, FdTable)>,
}

/// The index of caller `name`'s fd table, added empty (by `new`) on its
/// first call.
fn table_of(
    tables: &mut Vec<(&'static str, FdTable)>,
    name: &'static str,
    new: impl FnOnce() -> FdTable,
) -> usize {
    let same = |n: &&str| core::ptr::eq(*n, name) || *n == name;
    match tables.iter().position(|(n, _)| same(n)) {
        Some(at) => at,
        None => {
            tables.push((name, new()));
            tables.len() - 1
        }
    }
}

impl Vfs {
    /// A filesystem with `preopens` at fds 3, 4, … and fds 0–2 answered by
    /// `stdio`. Timestamps are 0 (see [`Vfs::with_clock`]).
    pub const fn new(preopens: &'static [Preopen], stdio: &'static dyn Stdio) -> Vfs {
        Vfs {
            preopens,
            stdio: OneThread::new(stdio),
            clock: OneThread::new(None),
            state: OneThread::new(RefCell::new(None)),
        }
    }

    /// Takes `atim`/`mtim`/`ctim` from `clock`'s realtime: embedded files
    /// show the time of the first call, changed ones the time of the
    /// change. Each change reads the clock once (a [`VirtualClock`]
    /// advances by its step).
    ///
    /// [`VirtualClock`]: crate::clock::VirtualClock
    pub const fn with_clock(self, clock: &'static dyn Clock) -> Vfs {
        let (preopens, stdio) = (self.preopens, *OneThread::inner(&self.stdio));
        // A `const fn` cannot run the state's drop glue; a builder is called
        // on a fresh `Vfs` whose state is still empty, so nothing leaks.
        core::mem::forget(self);
        Vfs {
            preopens,
            stdio: OneThread::new(stdio),
            clock: OneThread::new(Some(clock)),
            state: OneThread::new(RefCell::new(None)),
        }
    }

    /// The preopens, in fd order.
    pub const fn preopens(&self) -> &'static [Preopen] {
        self.preopens
    }

    /// Goes back to the build-time tree and forgets every fd table (for
    /// running a program again).
    pub fn reset(&self) {
        *self.state.borrow_mut() = None;
    }

    /// Closes every fd of `caller` (a target being reset with
    /// `app::reset()`): its next call finds a fresh fd table, stdio and the
    /// preopens, as at its first call. The tree, and every other caller's
    /// fds, stay as they are.
    pub fn reset_fds(&self, caller: &Caller) {
        let mut state = self.state.borrow_mut();
        let Some(state) = state.as_mut() else { return };
        let at = state.tables.iter().position(|(n, _)| *n == caller.name);
        if let Some((_, table)) = at.map(|at| state.tables.remove(at)) {
            for ino in table.into_handles().filter_map(|h| h.ino()) {
                state.tree.closed(ino);
            }
        }
    }

    /// Writes `bytes` to the file at guest path `path` (e.g. `/data/in.txt`),
    /// creating it if needed; its directory must exist. Works on read-only
    /// preopens too: those refuse changes from programs, not from the host.
    pub fn write_file(&self, path: &str, bytes: &[u8]) -> Result<(), Errno> {
        self.with_resolved(path, Follow::Always, &mut |tree, resolved, now| {
            match resolved.target {
                Target::Missing { dir, name } => {
                    tree.create(dir, &name, Kind::File(Content::Owned(bytes.to_vec())), now)?;
                }
                Target::Entry { ino, .. } if !tree.is_dir(ino) => {
                    *tree.file_mut(ino).ok_or(Errno::Inval)? = bytes.to_vec();
                    tree.touch(ino, now);
                }
                _ => return Err(Errno::Isdir),
            }
            Ok(())
        })
    }

    /// Creates a symlink at guest path `path` that holds `target` as given:
    /// the host may write any text, as `ln -s` does (a program's
    /// `path_symlink` may not: see there). `EEXIST` if `path` exists.
    pub fn symlink(&self, target: &str, path: &str) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        self.with_resolved(
            path,
            Follow::Never,
            &mut |tree, resolved, now| match resolved.target {
                Target::Missing { dir, name } => {
                    let link = Kind::Symlink(alloc::borrow::Cow::Owned(target.to_string()));
                    tree.create(dir, &name, link, now).map(|_| ())
                }
                Target::Entry { .. } | Target::Dir(_) => Err(Errno::Exist),
            },
        )
    }

    /// The bytes of the file at guest path `path` (symlinks followed).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let mut bytes = Vec::new();
        self.with_resolved(path, Follow::Always, &mut |tree, resolved, _| {
            let ino = resolved.existing()?;
            bytes = tree.file(ino).map(Content::to_vec).ok_or(Errno::Isdir)?;
            Ok(())
        })?;
        Ok(bytes)
    }

    /// The names in the directory at guest path `path` as [`Vfs::list_dir`]
    /// gives them, each followed by a NUL (the host API's listing).
    pub(crate) fn list_dir_nul(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let mut names = Vec::new();
        self.for_each_name(path, &mut |name| {
            names.extend_from_slice(name.as_bytes());
            names.push(0);
        })?;
        Ok(names)
    }

    /// Runs `f` on each name in the directory at guest path `path`, sorted,
    /// without `.` and `..`.
    fn for_each_name(&self, path: &str, f: &mut dyn FnMut(&str)) -> Result<(), Errno> {
        self.with_resolved(path, Follow::Always, &mut |tree, resolved, _| {
            tree.for_each_entry(resolved.existing()?, |name, _, _| f(name))
        })
    }

    /// Resolves guest path `path` and runs `f` on the result: the host-side
    /// calls above share this one copy (every packed module carries the
    /// host API), where [`Vfs::with_guest_path`] is a copy per caller.
    #[inline(never)]
    fn with_resolved(
        &self,
        path: &str,
        follow: Follow,
        f: &mut dyn FnMut(&mut Tree, path::Resolved<'_>, Timestamp) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        self.with_guest_path(path, |tree, root, rel, now| {
            let resolved = path::resolve(tree, root, rel, follow)?;
            f(tree, resolved, now)
        })
    }

    /// Creates the directory at guest path `path` and any missing parents.
    pub fn create_dir_all(&self, path: &str) -> Result<(), Errno> {
        self.with_guest_path(path, |tree, root, rel, now| {
            create_dir_all(tree, root, rel, now)
        })
    }

    /// The names in the directory at guest path `path`, sorted, without `.`
    /// and `..`: `ENOENT` if there is nothing there, `ENOTDIR` for a file.
    pub fn list_dir(&self, path: &str) -> Result<Vec<String>, Errno> {
        let mut names = Vec::new();
        self.for_each_name(path, &mut |name| names.push(name.to_string()))?;
        Ok(names)
    }

    /// The names in the directory at guest path `path`, sorted, without `.`
    /// and `..`; empty if there is no such directory.
    pub fn read_dir(&self, path: &str) -> Vec<String> {
        self.list_dir(path).unwrap_or_default()
    }

    /// `filestat` of the entry at guest path `path`, its last symlink not
    /// followed (as `lstat`).
    pub fn lstat(&self, path: &str) -> Result<Filestat, Errno> {
        self.with_guest_path(path, |tree, root, rel, _| {
            let ino = path::resolve(tree, root, rel, Follow::Never)?.existing()?;
            Ok(tree.stat(ino))
        })
    }

    /// The target of the symlink at guest path `path` (`EINVAL` if it is
    /// not one).
    pub fn read_link(&self, path: &str) -> Result<String, Errno> {
        self.with_guest_path(path, |tree, root, rel, _| {
            let ino = path::resolve(tree, root, rel, Follow::Never)?.existing()?;
            tree.symlink(ino).map(str::to_string).ok_or(Errno::Inval)
        })
    }

    /// The current time for timestamps.
    fn now(&self, caller: &Caller) -> Timestamp {
        let realtime = crate::types::Clockid::Realtime as u32;
        self.clock.map_or(0, |clock| {
            clock.clock_time_get(caller, realtime, 0).unwrap_or(0)
        })
    }

    /// The state, set up on the first call. Not inlined: every preview1
    /// call starts here, and the set-up (building the tree's roots) would
    /// otherwise be copied into each of them.
    #[inline(never)]
    fn state(&self, caller: &Caller) -> RefMut<'_, State> {
        RefMut::map(self.state.borrow_mut(), |state| {
            state.get_or_insert_with(|| {
                let mut tree = Tree::new(self.now(caller));
                let roots = self
                    .preopens
                    .iter()
                    .map(|p| tree.add_root(p.root))
                    .collect();
                State {
                    tree,
                    roots,
                    tables: Vec::new(),
                }
            })
        })
    }

    /// The state and the index of `caller`'s fd table in it, set up on
    /// the caller's first call (not inlined, as [`Vfs::state`]).
    #[inline(never)]
    fn enter(&self, caller: &Caller) -> (RefMut<'_, State>, usize) {
        let mut state = self.state(caller);
        let State {
            tree,
            roots,
            tables,
        } = &mut *state;
        let at = table_of(tables, caller.name, || self.new_table(tree, roots));
        (state, at)
    }

    /// Runs `f` with `caller`'s fd table, set up on its first call.
    fn with<R>(
        &self,
        caller: &Caller,
        f: impl FnOnce(&mut Ctx<'_>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let (mut state, at) = self.enter(caller);
        let State { tree, tables, .. } = &mut *state;
        f(&mut Ctx {
            tree,
            fds: &mut tables[at].1,
            vfs: self,
            caller,
        })
    }

    fn new_table(&self, tree: &mut Tree, roots: &[Ino]) -> FdTable {
        let mut table = FdTable::default();
        for fd in 0..3 {
            table
                .push(Handle::stdio(fd))
                .expect("an empty table has room for stdio");
        }
        for (preopen, &root) in self.preopens.iter().zip(roots) {
            table
                .push(Handle::preopen(root, preopen.path, preopen.read_only))
                .expect("room for preopens");
            tree.opened(root);
        }
        table
    }

    /// Runs `f` with the root of the preopen that holds guest path `path`
    /// and the rest of the path relative to it (`ENOENT` if none does).
    fn with_guest_path<R>(
        &self,
        path: &str,
        f: impl FnOnce(&mut Tree, Ino, &str, Timestamp) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let (index, rel) = find_preopen(self.preopens, path).ok_or(Errno::Noent)?;
        let now = self.now(&Caller::OWN);
        let mut state = self.state(&Caller::OWN);
        let State { tree, roots, .. } = &mut *state;
        f(tree, roots[index], rel, now)
    }

    /// Runs `on_file` when `fd` is on the tree; for a stdio fd, checks
    /// `right` and returns the stream instead, so that the caller runs the
    /// stdio call outside the state's borrow (a [`Stdio`] may itself use
    /// this filesystem). One borrow either way: reads and writes are the
    /// most frequent calls.
    fn file_or_stdio(
        &self,
        caller: &Caller,
        fd: Fd,
        right: u64,
        on_file: impl FnOnce(&mut Ctx<'_>) -> Result<Size, Errno>,
    ) -> Result<FileOrStdio, Errno> {
        self.with(caller, |cx| {
            let handle = cx.fds.get(fd)?;
            match handle.node {
                Node::Stdio(stream) => handle.check(right).map(|()| FileOrStdio::Stdio(stream)),
                Node::Inode(_) => on_file(cx).map(FileOrStdio::File),
            }
        })
    }
}

/// The preopen holding guest path `path` (the longest match at a component
/// boundary) and the path relative to it (`.` for the preopen itself).
fn find_preopen<'p>(preopens: &[Preopen], path: &'p str) -> Option<(usize, &'p str)> {
    let path = path.trim_matches('/');
    let mut best: Option<(usize, &str, usize)> = None;
    for (index, preopen) in preopens.iter().enumerate() {
        let prefix = preopen.path.trim_matches('/');
        let rest = if prefix.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(prefix)
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if let Some(rest) = rest
            && best.is_none_or(|(_, _, len)| prefix.len() > len)
        {
            best = Some((index, rest, prefix.len()));
        }
    }
    best.map(|(index, rest, _)| {
        let rest = rest.trim_start_matches('/');
        (index, if rest.is_empty() { "." } else { rest })
    })
}

fn create_dir_all(tree: &mut Tree, root: Ino, rel: &str, now: Timestamp) -> Result<(), Errno> {
    match path::resolve(tree, root, rel, Follow::Always) {
        Ok(resolved) => match resolved.target {
            Target::Missing { dir, name } => {
                tree.create(dir, &name, Tree::empty_dir(), now).map(|_| ())
            }
            Target::Entry { ino, .. } | Target::Dir(ino) if tree.is_dir(ino) => Ok(()),
            _ => Err(Errno::Exist),
        },
        Err(Errno::Noent) => match rel.trim_end_matches('/').rsplit_once('/') {
            Some((parent, _)) if !parent.is_empty() => {
                create_dir_all(tree, root, parent, now)?;
                create_dir_all(tree, root, rel, now)
            }
            _ => Err(Errno::Noent),
        },
        Err(e) => Err(e),
    }
}

/// One call's view: the tree, the caller's fds, and helpers shared by the
/// `fd_*`, `path_*` and I/O functions.
pub(crate) struct Ctx<'a> {
    pub(crate) tree: &'a mut Tree,
    pub(crate) fds: &'a mut FdTable,
    vfs: &'a Vfs,
    pub(crate) caller: &'a Caller,
}

impl Ctx<'_> {
    /// The current time for timestamps.
    pub(crate) fn now(&self) -> Timestamp {
        self.vfs.now(self.caller)
    }

    /// The regular file at `fd`, after checking `right`. Anything else is
    /// `EBADF`, as wasmtime answers file operations on directories and stdio.
    pub(crate) fn file_fd(&self, fd: Fd, right: u64) -> Result<Ino, Errno> {
        let handle = self.fds.get(fd)?;
        match handle.ino() {
            Some(ino) if self.tree.file(ino).is_some() => handle.check(right).map(|()| ino),
            _ => Err(Errno::Badf),
        }
    }

    /// The directory at `fd`, after checking `right`, and whether it is
    /// read-only. Anything else is `EBADF`, as wasmtime answers `path_*` on
    /// a file or stdio (except `path_open`, see there).
    pub(crate) fn dir_fd(&self, fd: Fd, right: u64) -> Result<(Ino, bool), Errno> {
        let handle = self.fds.get(fd)?;
        match handle.ino() {
            Some(ino) if self.tree.is_dir(ino) => {
                handle.check(right).map(|()| (ino, handle.read_only))
            }
            _ => Err(Errno::Badf),
        }
    }

    /// Reads a path argument into `space`: `ENAMETOOLONG` past
    /// `PATH_MAX`, `EFAULT` outside memory, `EILSEQ` if not UTF-8
    /// (wasmtime's string check), `EINVAL` with a NUL byte inside (what the
    /// host's `openat` gives). A path of up to [`PathSpace::INLINE`] bytes
    /// is read onto the stack.
    pub(crate) fn read_path<'s>(
        &self,
        ptr: u32,
        len: u32,
        space: &'s mut PathSpace,
    ) -> Result<&'s str, Errno> {
        if len as usize > PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        let bytes: &[u8] = if len as usize <= PathSpace::INLINE {
            self.caller
                .memory
                .read_uninit(ptr, &mut space.inline[..len as usize])?
        } else {
            space.heap = self.caller.memory.read_vec(ptr, len)?;
            &space.heap
        };
        // A loop, not `contains`: paths are short, and memchr's set-up
        // costs more than it saves on them.
        if bytes.contains(&0) {
            return Err(Errno::Inval);
        }
        core::str::from_utf8(bytes).map_err(|_| Errno::Ilseq)
    }

    /// Releases the inode of a closed handle.
    pub(crate) fn release(&mut self, handle: Handle) {
        if let Some(ino) = handle.ino() {
            self.tree.closed(ino);
        }
    }
}

/// What [`Vfs::file_or_stdio`] did.
enum FileOrStdio {
    /// The call on a file, done: its result.
    File(Size),
    /// An fd of stdio: the stream, for the caller to serve.
    Stdio(Fd),
}

/// Room for a path argument, on the caller's stack: the bytes of a short
/// one (nearly all), or a heap buffer for a longer one. The path is read
/// into it in place ([`Ctx::read_path`]): a path returned by value would
/// be moved, all 255 bytes of it, at every step.
pub(crate) struct PathSpace {
    inline: [MaybeUninit<u8>; PathSpace::INLINE],
    heap: Vec<u8>,
}

impl PathSpace {
    /// The longest path kept on the stack.
    pub(crate) const INLINE: usize = 255;

    /// Room, uninitialized.
    pub(crate) const fn new() -> PathSpace {
        PathSpace {
            inline: [MaybeUninit::uninit(); PathSpace::INLINE],
            heap: Vec::new(),
        }
    }
}

/// `EROFS`-style refusal of a change under a read-only preopen: `EPERM`,
/// as wasmtime (see [`Preopen::read_only`]).
pub(crate) fn writable(read_only: bool) -> Result<(), Errno> {
    if read_only { Err(Errno::Perm) } else { Ok(()) }
}

impl Fs for Vfs {
    fn fd_advise(
        &self,
        caller: &Caller,
        fd: Fd,
        offset: u64,
        len: u64,
        advice: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_advise(fd, offset, len, advice))
    }

    fn fd_allocate(&self, caller: &Caller, fd: Fd, offset: u64, len: u64) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_allocate(fd, offset, len))
    }

    fn fd_close(&self, caller: &Caller, fd: Fd) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_close(fd))
    }

    fn fd_datasync(&self, caller: &Caller, fd: Fd) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.fd_sync(fd, crate::types::rights::FD_DATASYNC)
        })
    }

    fn fd_fdstat_get(&self, caller: &Caller, fd: Fd) -> Result<Fdstat, Errno> {
        let (stat, stream) = self.with(caller, |cx| cx.fd_fdstat_get(fd))?;
        let Some(stream) = stream else {
            return Ok(stat);
        };
        // What the stream says it is (outside the borrow: a `Stdio` may
        // use this filesystem), with the rights the program dropped.
        let seen = self.stdio.fdstat(stream)?;
        Ok(Fdstat {
            fs_rights_base: seen.fs_rights_base & stat.fs_rights_base,
            fs_rights_inheriting: seen.fs_rights_inheriting & stat.fs_rights_inheriting,
            ..seen
        })
    }

    fn host_fd(&self, caller: &Caller, fd: Fd) -> Option<crate::passthrough::HostFd> {
        let stream = self.with(caller, |cx| Ok(cx.stream(fd))).ok()??;
        self.stdio.host_fd(stream)
    }

    fn fd_fdstat_set_flags(&self, caller: &Caller, fd: Fd, flags: u32) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_fdstat_set_flags(fd, flags))
    }

    fn fd_fdstat_set_rights(
        &self,
        caller: &Caller,
        fd: Fd,
        base: u64,
        inheriting: u64,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_fdstat_set_rights(fd, base, inheriting))
    }

    fn fd_filestat_get(&self, caller: &Caller, fd: Fd) -> Result<Filestat, Errno> {
        let (stat, stream) = self.with(caller, |cx| cx.fd_filestat_get(fd))?;
        match stream {
            Some(stream) => Ok(Filestat {
                filetype: self.stdio.fdstat(stream)?.fs_filetype,
                ..stat
            }),
            None => Ok(stat),
        }
    }

    fn fd_filestat_set_size(&self, caller: &Caller, fd: Fd, size: u64) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_filestat_set_size(fd, size))
    }

    fn fd_filestat_set_times(
        &self,
        caller: &Caller,
        fd: Fd,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.fd_filestat_set_times(fd, atim, mtim, fst_flags)
        })
    }

    fn fd_pread(
        &self,
        caller: &Caller,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
    ) -> Result<Size, Errno> {
        self.with(caller, |cx| cx.fd_pread(fd, iovs, iovs_len, offset))
    }

    fn fd_prestat_get(&self, caller: &Caller, fd: Fd) -> Result<Prestat, Errno> {
        self.with(caller, |cx| cx.fd_prestat_get(fd))
    }

    fn fd_prestat_dir_name(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_prestat_dir_name(fd, path, path_len))
    }

    fn fd_pwrite(
        &self,
        caller: &Caller,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
    ) -> Result<Size, Errno> {
        self.with(caller, |cx| cx.fd_pwrite(fd, iovs, iovs_len, offset))
    }

    fn fd_read(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        let read = |cx: &mut Ctx<'_>| cx.fd_read(fd, iovs, iovs_len);
        match self.file_or_stdio(caller, fd, crate::types::rights::FD_READ, read)? {
            FileOrStdio::File(n) => Ok(n),
            FileOrStdio::Stdio(0) => super::io::read_stdin(*self.stdio, caller, iovs, iovs_len),
            FileOrStdio::Stdio(_) => Err(Errno::Badf),
        }
    }

    fn fd_readdir(
        &self,
        caller: &Caller,
        fd: Fd,
        buf: u32,
        buf_len: u32,
        cookie: u64,
    ) -> Result<Size, Errno> {
        self.with(caller, |cx| cx.fd_readdir(fd, buf, buf_len, cookie))
    }

    fn fd_renumber(&self, caller: &Caller, fd: Fd, to: Fd) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_renumber(fd, to))
    }

    fn fd_seek(
        &self,
        caller: &Caller,
        fd: Fd,
        offset: i64,
        whence: u32,
    ) -> Result<Filesize, Errno> {
        self.with(caller, |cx| cx.fd_seek(fd, offset, whence))
    }

    fn fd_sync(&self, caller: &Caller, fd: Fd) -> Result<(), Errno> {
        self.with(caller, |cx| cx.fd_sync(fd, crate::types::rights::FD_SYNC))
    }

    fn fd_tell(&self, caller: &Caller, fd: Fd) -> Result<Filesize, Errno> {
        self.with(caller, |cx| cx.fd_tell(fd))
    }

    fn fd_write(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        let write = |cx: &mut Ctx<'_>| cx.fd_write(fd, iovs, iovs_len);
        match self.file_or_stdio(caller, fd, crate::types::rights::FD_WRITE, write)? {
            FileOrStdio::File(n) => Ok(n),
            FileOrStdio::Stdio(0) => Err(Errno::Badf),
            FileOrStdio::Stdio(stream) => {
                super::io::write_stdio(*self.stdio, caller, stream, iovs, iovs_len)
            }
        }
    }

    fn path_create_directory(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.path_create_directory(fd, path, path_len))
    }

    fn path_filestat_get(
        &self,
        caller: &Caller,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
    ) -> Result<Filestat, Errno> {
        self.with(caller, |cx| cx.path_filestat_get(fd, flags, path, path_len))
    }

    fn path_filestat_set_times(
        &self,
        caller: &Caller,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fst_flags)
        })
    }

    fn path_link(
        &self,
        caller: &Caller,
        old_fd: Fd,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.path_link(
                old_fd,
                old_flags,
                (old_path, old_path_len),
                new_fd,
                (new_path, new_path_len),
            )
        })
    }

    fn path_open(
        &self,
        caller: &Caller,
        fd: Fd,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        fs_rights_base: u64,
        fs_rights_inheriting: u64,
        fdflags: u32,
    ) -> Result<Fd, Errno> {
        let request = super::path_ops::OpenRequest {
            dirflags,
            oflags,
            base: fs_rights_base,
            inheriting: fs_rights_inheriting,
            fdflags,
        };
        self.with(caller, |cx| cx.path_open(fd, (path, path_len), request))
    }

    fn path_readlink(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
    ) -> Result<Size, Errno> {
        self.with(caller, |cx| {
            cx.path_readlink(fd, path, path_len, buf, buf_len)
        })
    }

    fn path_remove_directory(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.path_remove_directory(fd, path, path_len))
    }

    fn path_rename(
        &self,
        caller: &Caller,
        fd: Fd,
        old_path: u32,
        old_path_len: u32,
        new_fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.path_rename(
                fd,
                (old_path, old_path_len),
                new_fd,
                (new_path, new_path_len),
            )
        })
    }

    fn path_symlink(
        &self,
        caller: &Caller,
        old_path: u32,
        old_path_len: u32,
        fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| {
            cx.path_symlink((old_path, old_path_len), fd, (new_path, new_path_len))
        })
    }

    fn path_unlink_file(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with(caller, |cx| cx.path_unlink_file(fd, path, path_len))
    }

    fn sock_accept(&self, caller: &Caller, fd: Fd, _flags: u32) -> Result<Fd, Errno> {
        self.with(caller, |cx| cx.not_a_socket(fd))
    }

    fn sock_recv(
        &self,
        caller: &Caller,
        fd: Fd,
        _ri_data: u32,
        _ri_data_len: u32,
        _ri_flags: u32,
    ) -> Result<(Size, u16), Errno> {
        self.with(caller, |cx| cx.not_a_socket(fd))
    }

    fn sock_send(
        &self,
        caller: &Caller,
        fd: Fd,
        _si_data: u32,
        _si_data_len: u32,
        _si_flags: u32,
    ) -> Result<Size, Errno> {
        self.with(caller, |cx| cx.not_a_socket(fd))
    }

    fn sock_shutdown(&self, caller: &Caller, fd: Fd, _how: u32) -> Result<(), Errno> {
        self.with(caller, |cx| cx.not_a_socket(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREOPENS: &[Preopen] = &[
        Preopen::empty("/"),
        Preopen::empty("/data"),
        Preopen::empty("/data/sub"),
    ];

    #[test]
    fn guest_paths_find_the_longest_preopen() {
        assert_eq!(find_preopen(PREOPENS, "/x/y"), Some((0, "x/y")));
        assert_eq!(find_preopen(PREOPENS, "/data"), Some((1, ".")));
        assert_eq!(find_preopen(PREOPENS, "/database"), Some((0, "database")));
        assert_eq!(find_preopen(PREOPENS, "/data/sub/f"), Some((2, "f")));
        assert_eq!(find_preopen(&PREOPENS[1..], "/other"), None);
    }
}
