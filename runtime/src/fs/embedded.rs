//! The build-time tree: a host folder baked into the guest by `embed_dir!`.
//!
//! Everything here is `const`: the macro expands to one nested
//! [`EmbeddedNode`] expression whose file contents are `include_bytes!`, so
//! the tree lives in the guest's data segment and costs nothing at start-up.
//! [`Vfs`](super::Vfs) reads it lazily and never writes to it.

use super::blob::{BlobFile, LazyDir};

/// One node of an embedded tree.
///
/// `embed_dir!("site")` expands to
/// `::wasi_virt::fs::EmbeddedNode::Dir(&[("hello.txt", ::wasi_virt::fs::EmbeddedNode::File(include_bytes!("/abs/site/hello.txt"))), …])`.
#[derive(Debug)]
pub enum EmbeddedNode {
    /// A regular file and its bytes.
    File(&'static [u8]),
    /// A directory: its entries, sorted by name, without `.` and `..`.
    Dir(&'static [(&'static str, EmbeddedNode)]),
    /// A symbolic link and its target, as written (relative to the link's
    /// directory; an absolute or escaping target is refused when followed).
    Symlink(&'static str),
    /// A regular file whose bytes live in a blob outside the guest's memory
    /// (`wasi-virt pack`'s data segment); see [`super::blob`].
    Blob(BlobFile),
    /// A directory whose entries are listed when first needed; see
    /// [`super::blob`].
    Lazy(LazyDir),
}

impl EmbeddedNode {
    /// An empty directory.
    pub const EMPTY_DIR: EmbeddedNode = EmbeddedNode::Dir(&[]);

    /// The entries of a directory (empty for a file or a symlink); a
    /// [`Lazy`](EmbeddedNode::Lazy) directory is listed by its source.
    pub fn entries(&self) -> &'static [(&'static str, EmbeddedNode)] {
        match self {
            EmbeddedNode::Dir(entries) => entries,
            EmbeddedNode::Lazy(dir) => dir.source.entries(dir.id),
            _ => &[],
        }
    }

    /// Whether this is a directory (embedded or lazy).
    pub const fn is_dir(&self) -> bool {
        matches!(self, EmbeddedNode::Dir(_) | EmbeddedNode::Lazy(_))
    }

    /// The node at `path` (components separated by `/`, no `.`/`..`
    /// handling, symlinks not followed), if any. For tests and tools; the
    /// filesystem resolves paths itself.
    pub fn get(&self, path: &str) -> Option<&EmbeddedNode> {
        path.split('/')
            .filter(|c| !c.is_empty())
            .try_fold(self, |node, name| {
                let entries = node.entries();
                let at = entries.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
                Some(&entries[at].1)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::EmbeddedNode::{self, *};

    static TREE: EmbeddedNode = Dir(&[
        ("a", Dir(&[("b.txt", File(b"b"))])),
        ("c.txt", File(b"c")),
        ("l", Symlink("a")),
    ]);

    #[test]
    fn a_tree_is_const_and_searchable() {
        assert!(matches!(TREE.get("a/b.txt"), Some(File(b"b"))));
        assert!(matches!(TREE.get("/c.txt"), Some(File(b"c"))));
        assert!(matches!(TREE.get("l"), Some(Symlink("a"))));
        assert!(TREE.get("a/missing").is_none());
        assert!(TREE.get("c.txt/x").is_none());
        assert_eq!(EmbeddedNode::EMPTY_DIR.entries().len(), 0);
    }
}
