//! The inode arena: every file, directory and symlink of a [`Vfs`](super::Vfs).
//!
//! One arena holds all preopens' trees, so hard links and renames work
//! across preopens as on one host filesystem. Embedded directories are
//! *materialized* (their entries turned into inodes) the first time they
//! are looked into, so start-up cost does not grow with the tree; embedded
//! files keep borrowing their `&'static` bytes until first written, when
//! they are copied into an owned buffer (copy-on-write: the embedded base is
//! never modified, every change lives in the arena above it).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::blob::BlobFile;
use super::embedded::EmbeddedNode;
use crate::memory::Caller;
use crate::types::{Errno, Filestat, Filetype, Timestamp};

/// The index of an inode in the arena. The `ino` a program sees is the
/// index plus one, so that no file has inode 0 (some libcs skip such
/// directory entries).
pub(crate) type Ino = usize;

/// A directory entry's name: borrowed from the embedded tree, or owned.
pub(crate) type Name = Cow<'static, str>;

/// `st_dev` of every inode: the whole filesystem is one device.
const DEV: u64 = 1;

/// `st_size` of a directory, as ext4 (the usual host) reports it.
const DIR_SIZE: u64 = 4096;

/// A regular file's bytes.
pub(crate) enum Content {
    /// Still the embedded bytes.
    Static(&'static [u8]),
    /// Written to at least once (or created at run time).
    Owned(Vec<u8>),
    /// Still in a blob outside the guest's memory (see [`super::blob`]).
    Blob(BlobFile),
}

impl Content {
    /// The size in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            Content::Static(bytes) => bytes.len(),
            Content::Owned(bytes) => bytes.len(),
            Content::Blob(blob) => blob.len as usize,
        }
    }

    /// Copies `len` bytes at `at` (a range inside the file) to `dst` in
    /// `caller`'s memory, in one copy: from the bytes, or from the blob.
    pub(crate) fn read_to(
        &self,
        caller: &Caller,
        dst: u32,
        at: usize,
        len: usize,
    ) -> Result<(), Errno> {
        match self {
            Content::Static(bytes) => caller.memory.write(dst, &bytes[at..at + len]),
            Content::Owned(bytes) => caller.memory.write(dst, &bytes[at..at + len]),
            Content::Blob(blob) => {
                let len = u32::try_from(len).map_err(|_| Errno::Fault)?;
                caller.memory.check(dst, len)?;
                blob.source
                    .read_to(caller, dst, blob.offset + at as u32, len)
            }
        }
    }

    /// A copy of the bytes.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        match self {
            Content::Static(bytes) => bytes.to_vec(),
            Content::Owned(bytes) => bytes.clone(),
            Content::Blob(blob) => {
                let mut bytes = alloc::vec![0; blob.len as usize];
                blob.source.read(blob.offset, &mut bytes);
                bytes
            }
        }
    }

    /// The bytes, copied out of the embedded tree or the blob first if
    /// needed.
    pub(crate) fn owned(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Content::Owned(_)) {
            *self = Content::Owned(self.to_vec());
        }
        match self {
            Content::Owned(bytes) => bytes,
            _ => unreachable!("copied into an owned buffer just above"),
        }
    }
}

/// A directory.
pub(crate) struct Dir {
    /// Entries by name (sorted, so `fd_readdir` order is stable), without
    /// `.` and `..`.
    entries: Entries,
    /// Embedded entries not materialized yet; empty once they are.
    pending: &'static [(&'static str, EmbeddedNode)],
    /// A [`Lazy`](EmbeddedNode::Lazy) directory not listed yet: its
    /// entries are asked for when it is first looked into, not when its
    /// parent is (a 5,000-entry sibling of the file a program opens costs
    /// nothing).
    unlisted: Option<&'static EmbeddedNode>,
    /// The directory this one is an entry of (itself for a preopen root).
    pub(crate) parent: Ino,
}

impl Dir {
    /// The embedded entries not materialized yet (listing an unlisted
    /// directory for a look, without keeping the list: its source caches).
    fn not_materialized(&self) -> &'static [(&'static str, EmbeddedNode)] {
        match self.unlisted {
            Some(node) => node.entries(),
            None => self.pending,
        }
    }
}

/// A directory's entries, sorted by name: a sorted vector, whose lookups
/// are a binary search like a B-tree's, with a fraction of the code and no
/// node per few entries. Adding to or removing from a directory moves the
/// entries after the name (a few bytes each: a memmove, even for
/// thousands).
pub(crate) struct Entries(Vec<(Name, Ino)>);

impl Entries {
    const fn new() -> Self {
        Entries(Vec::new())
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(entry, _)| (**entry).cmp(name))
    }

    fn get(&self, name: &str) -> Option<Ino> {
        self.find(name).ok().map(|at| self.0[at].1)
    }

    /// Adds `name` (or points it at `ino` if it is there).
    fn insert(&mut self, name: Name, ino: Ino) {
        match self.find(&name) {
            Ok(at) => self.0[at].1 = ino,
            Err(at) => self.0.insert(at, (name, ino)),
        }
    }

    fn remove(&mut self, name: &str) -> Option<Ino> {
        self.find(name).ok().map(|at| self.0.remove(at).1)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, Ino)> {
        self.0.iter().map(|(name, ino)| (&**name, *ino))
    }
}

/// What an inode is.
pub(crate) enum Kind {
    /// A regular file.
    File(Content),
    /// A directory.
    Dir(Dir),
    /// A symbolic link and its target.
    Symlink(Name),
}

/// One inode.
pub(crate) struct Inode {
    /// What it is.
    pub(crate) kind: Kind,
    /// Directory entries naming it (a directory counts 1 while linked).
    pub(crate) nlink: u64,
    /// Open fds on it, in all callers' tables: an unlinked inode lives on
    /// until the last is closed, as on POSIX.
    pub(crate) open: u32,
    /// Last access.
    pub(crate) atim: Timestamp,
    /// Last data modification.
    pub(crate) mtim: Timestamp,
    /// Last status change.
    pub(crate) ctim: Timestamp,
}

impl Inode {
    fn new(kind: Kind, time: Timestamp) -> Inode {
        Inode {
            kind,
            nlink: 0,
            open: 0,
            atim: time,
            mtim: time,
            ctim: time,
        }
    }

    /// The preview1 file type.
    pub(crate) fn filetype(&self) -> Filetype {
        match self.kind {
            Kind::File(_) => Filetype::RegularFile,
            Kind::Dir(_) => Filetype::Directory,
            Kind::Symlink(_) => Filetype::SymbolicLink,
        }
    }
}

/// The arena.
pub(crate) struct Tree {
    nodes: Vec<Option<Inode>>,
    free: Vec<Ino>,
    /// The time every embedded inode shows (when the tree was set up).
    epoch: Timestamp,
}

impl Tree {
    /// An empty arena whose embedded inodes will carry time `epoch`.
    pub(crate) fn new(epoch: Timestamp) -> Tree {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            epoch,
        }
    }

    /// Adds a preopen's root directory with the entries of `root` (a
    /// non-directory root is an empty directory).
    pub(crate) fn add_root(&mut self, root: &'static EmbeddedNode) -> Ino {
        let dir = Dir {
            entries: Entries::new(),
            pending: root.entries(),
            unlisted: None,
            parent: 0,
        };
        let ino = self.alloc(Inode::new(Kind::Dir(dir), self.epoch));
        self.dir_mut(ino).parent = ino;
        self.node_mut(ino).nlink = 1;
        ino
    }

    fn alloc(&mut self, inode: Inode) -> Ino {
        match self.free.pop() {
            Some(ino) => {
                self.nodes[ino] = Some(inode);
                ino
            }
            None => {
                self.nodes.push(Some(inode));
                self.nodes.len() - 1
            }
        }
    }

    /// The inode `ino`, which must be live (every `Ino` the filesystem
    /// holds — in a directory, a handle, a resolution — is).
    pub(crate) fn node(&self, ino: Ino) -> &Inode {
        self.nodes[ino]
            .as_ref()
            .expect("an Ino held by the filesystem names a live inode")
    }

    /// The inode `ino`, mutably.
    pub(crate) fn node_mut(&mut self, ino: Ino) -> &mut Inode {
        self.nodes[ino]
            .as_mut()
            .expect("an Ino held by the filesystem names a live inode")
    }

    /// Whether `ino` is a directory.
    pub(crate) fn is_dir(&self, ino: Ino) -> bool {
        matches!(self.node(ino).kind, Kind::Dir(_))
    }

    fn dir_mut(&mut self, ino: Ino) -> &mut Dir {
        match &mut self.node_mut(ino).kind {
            Kind::Dir(dir) => dir,
            _ => unreachable!("dir_mut is only called on directories"),
        }
    }

    /// Turns the embedded entries of directory `ino` into inodes, once.
    fn materialize(&mut self, ino: Ino) {
        let dir = self.dir_mut(ino);
        if let Some(node) = dir.unlisted.take() {
            dir.pending = node.entries();
        }
        let pending = core::mem::take(&mut dir.pending);
        for (name, node) in pending {
            let child = self.embedded(node, ino);
            self.node_mut(child).nlink = 1;
            self.dir_mut(ino)
                .entries
                .insert(Cow::Borrowed(*name), child);
        }
    }

    fn embedded(&mut self, node: &'static EmbeddedNode, parent: Ino) -> Ino {
        let kind = match node {
            EmbeddedNode::File(bytes) => Kind::File(Content::Static(bytes)),
            EmbeddedNode::Blob(blob) => Kind::File(Content::Blob(*blob)),
            EmbeddedNode::Dir(entries) => Kind::Dir(Dir {
                entries: Entries::new(),
                pending: entries,
                unlisted: None,
                parent,
            }),
            EmbeddedNode::Lazy(_) => Kind::Dir(Dir {
                entries: Entries::new(),
                pending: &[],
                unlisted: Some(node),
                parent,
            }),
            EmbeddedNode::Symlink(target) => Kind::Symlink(Cow::Borrowed(*target)),
        };
        self.alloc(Inode::new(kind, self.epoch))
    }

    /// The directory `ino`, materialized; `ENOTDIR` if it is not one.
    fn dir(&mut self, ino: Ino) -> Result<&mut Dir, Errno> {
        if !self.is_dir(ino) {
            return Err(Errno::Notdir);
        }
        self.materialize(ino);
        Ok(self.dir_mut(ino))
    }

    /// The entry `name` of directory `dir`.
    pub(crate) fn lookup(&mut self, dir: Ino, name: &str) -> Result<Option<Ino>, Errno> {
        Ok(self.dir(dir)?.entries.get(name))
    }

    /// Calls `f` with each entry of directory `dir`, in name order.
    pub(crate) fn for_each_entry(
        &mut self,
        dir: Ino,
        mut f: impl FnMut(&str, &Inode, Ino),
    ) -> Result<(), Errno> {
        self.dir(dir)?;
        let Kind::Dir(d) = &self.node(dir).kind else {
            unreachable!("checked just above")
        };
        for (name, ino) in d.entries.iter() {
            f(name, self.node(ino), ino);
        }
        Ok(())
    }

    /// Whether directory `ino` has no entries.
    pub(crate) fn is_empty_dir(&self, ino: Ino) -> bool {
        match &self.node(ino).kind {
            Kind::Dir(d) => d.entries.is_empty() && d.not_materialized().is_empty(),
            _ => false,
        }
    }

    /// The parent of directory `ino`.
    pub(crate) fn parent(&self, ino: Ino) -> Ino {
        match &self.node(ino).kind {
            Kind::Dir(d) => d.parent,
            _ => ino,
        }
    }

    /// Whether directory `ancestor` is `ino` or contains it, at any depth.
    pub(crate) fn is_ancestor(&self, ancestor: Ino, mut ino: Ino) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            let parent = self.parent(ino);
            if parent == ino {
                return false;
            }
            ino = parent;
        }
    }

    /// Creates a new inode of `kind` as entry `name` of `dir` (which must
    /// not have one).
    pub(crate) fn create(
        &mut self,
        dir: Ino,
        name: &str,
        kind: Kind,
        now: Timestamp,
    ) -> Result<Ino, Errno> {
        let ino = self.alloc(Inode::new(kind, now));
        if let Err(e) = self.link(dir, name, ino, now) {
            self.release(ino);
            return Err(e);
        }
        Ok(ino)
    }

    /// A new, empty directory kind (its parent is set when it is linked).
    pub(crate) fn empty_dir() -> Kind {
        Kind::Dir(Dir {
            entries: Entries::new(),
            pending: &[],
            unlisted: None,
            parent: 0,
        })
    }

    /// Adds entry `name` → `ino` to `dir` (which must not have one); a
    /// directory's parent becomes `dir`. `ENOENT` if `dir` was removed.
    pub(crate) fn link(
        &mut self,
        dir: Ino,
        name: &str,
        ino: Ino,
        now: Timestamp,
    ) -> Result<(), Errno> {
        // A removed directory (still open somewhere) takes no new entries.
        if self.node(dir).nlink == 0 {
            return Err(Errno::Noent);
        }
        self.dir(dir)?.entries.insert(Cow::Owned(name.into()), ino);
        self.touch(dir, now);
        let node = self.node_mut(ino);
        node.nlink += 1;
        node.ctim = now;
        if let Kind::Dir(d) = &mut node.kind {
            d.parent = dir;
        }
        Ok(())
    }

    /// Removes entry `name` from `dir`; the inode goes once nothing names
    /// it and no fd has it open.
    pub(crate) fn unlink(&mut self, dir: Ino, name: &str, now: Timestamp) -> Result<(), Errno> {
        let ino = self.dir(dir)?.entries.remove(name).ok_or(Errno::Noent)?;
        self.touch(dir, now);
        let node = self.node_mut(ino);
        node.nlink -= 1;
        node.ctim = now;
        self.release(ino);
        Ok(())
    }

    /// Marks the data of `ino` as modified now.
    pub(crate) fn touch(&mut self, ino: Ino, now: Timestamp) {
        let node = self.node_mut(ino);
        node.mtim = now;
        node.ctim = now;
    }

    /// An fd was opened on `ino`.
    pub(crate) fn opened(&mut self, ino: Ino) {
        self.node_mut(ino).open += 1;
    }

    /// An fd on `ino` was closed.
    pub(crate) fn closed(&mut self, ino: Ino) {
        self.node_mut(ino).open -= 1;
        self.release(ino);
    }

    fn release(&mut self, ino: Ino) {
        let node = self.node(ino);
        if node.nlink == 0 && node.open == 0 {
            self.nodes[ino] = None;
            self.free.push(ino);
        }
    }

    /// The content of regular file `ino` (`None` if it is not one).
    pub(crate) fn file(&self, ino: Ino) -> Option<&Content> {
        match &self.node(ino).kind {
            Kind::File(content) => Some(content),
            _ => None,
        }
    }

    /// The bytes of regular file `ino`, owned and writable (`None` if it is
    /// not a regular file).
    pub(crate) fn file_mut(&mut self, ino: Ino) -> Option<&mut Vec<u8>> {
        match &mut self.node_mut(ino).kind {
            Kind::File(content) => Some(content.owned()),
            _ => None,
        }
    }

    /// Empties regular file `ino` without copying its embedded bytes first.
    pub(crate) fn clear_file(&mut self, ino: Ino) {
        if let Kind::File(content) = &mut self.node_mut(ino).kind {
            *content = Content::Owned(Vec::new());
        }
    }

    /// The target of symlink `ino` (`None` if it is not one).
    pub(crate) fn symlink(&self, ino: Ino) -> Option<&str> {
        match &self.node(ino).kind {
            Kind::Symlink(target) => Some(target),
            _ => None,
        }
    }

    /// `filestat` of `ino`.
    pub(crate) fn stat(&self, ino: Ino) -> Filestat {
        let node = self.node(ino);
        let (size, nlink) = match &node.kind {
            Kind::File(content) => (content.len() as u64, node.nlink),
            Kind::Symlink(target) => (target.len() as u64, node.nlink),
            // As on POSIX: `.`, the entry in the parent, and each
            // subdirectory's `..`; 0 once removed.
            Kind::Dir(d) if node.nlink > 0 => (DIR_SIZE, 2 + self.subdirs(d)),
            Kind::Dir(_) => (DIR_SIZE, 0),
        };
        Filestat {
            dev: DEV,
            ino: ino as u64 + 1,
            filetype: node.filetype(),
            nlink,
            size,
            atim: node.atim,
            mtim: node.mtim,
            ctim: node.ctim,
        }
    }

    fn subdirs(&self, d: &Dir) -> u64 {
        let pending = d
            .not_materialized()
            .iter()
            .filter(|(_, n)| n.is_dir())
            .count();
        let live = d
            .entries
            .iter()
            .filter(|&(_, ino)| self.is_dir(ino))
            .count();
        (pending + live) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SITE: EmbeddedNode = EmbeddedNode::Dir(&[
        (
            "a",
            EmbeddedNode::Dir(&[("b.txt", EmbeddedNode::File(b"bee"))]),
        ),
        ("c.txt", EmbeddedNode::File(b"sea")),
    ]);

    #[test]
    fn embedded_directories_materialize_on_first_lookup() {
        let mut tree = Tree::new(7);
        let root = tree.add_root(&SITE);
        assert_eq!(
            tree.nodes.len(),
            1,
            "nothing below the root exists before a lookup"
        );
        let a = tree.lookup(root, "a").unwrap().unwrap();
        assert_eq!(tree.nodes.len(), 3, "the root's entries, not a's");
        assert_eq!(tree.stat(root).nlink, 3);
        let b = tree.lookup(a, "b.txt").unwrap().unwrap();
        assert_eq!(tree.file(b).map(Content::to_vec), Some(b"bee".to_vec()));
        assert_eq!(tree.stat(b).mtim, 7);
        assert_eq!(tree.lookup(b, "x"), Err(Errno::Notdir));
        assert!(tree.is_ancestor(root, a));
        assert!(!tree.is_ancestor(a, root));
    }

    #[test]
    fn an_unlinked_inode_lives_until_closed() {
        let mut tree = Tree::new(0);
        let root = tree.add_root(&EmbeddedNode::EMPTY_DIR);
        let f = tree
            .create(root, "f", Kind::File(Content::Owned(b"x".to_vec())), 5)
            .unwrap();
        tree.opened(f);
        tree.unlink(root, "f", 6).unwrap();
        assert_eq!(tree.file(f).map(Content::to_vec), Some(b"x".to_vec()));
        assert_eq!(tree.stat(f).nlink, 0);
        tree.closed(f);
        assert!(tree.nodes[f].is_none());
        let g = tree.create(root, "g", tree_file(), 7).unwrap();
        assert_eq!(g, f, "freed slots are reused");
    }

    fn tree_file() -> Kind {
        Kind::File(Content::Owned(Vec::new()))
    }
}
