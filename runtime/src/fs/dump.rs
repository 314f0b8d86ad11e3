//! A canonical text dump of a directory tree, the same whether the tree is
//! a [`Vfs`] or a folder on a host disk: what the conformance suite compares
//! after a program ran under wasi-virt and under a host's WASI.
//!
//! One line per entry below the root, sorted by path (bytewise), with no
//! timestamps, inode or device numbers (which legitimately differ):
//!
//! ```text
//! d docs/
//! f docs/guide.txt 59 fnv1a64=9f1c… links=1
//! l link -> docs/guide.txt
//! ```
//!
//! A directory's size is left out too: ext4 says 4096, tmpfs counts entries.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Vfs;
use crate::types::Filetype;

/// What one entry of a tree is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpKind {
    /// A directory.
    Dir,
    /// A regular file: its bytes and its hard-link count.
    File {
        /// The file's contents.
        bytes: Vec<u8>,
        /// How many directory entries name it.
        links: u64,
    },
    /// A symbolic link and its target, as stored.
    Symlink(String),
    /// Anything else (a device, a socket): named only.
    Other,
}

/// One entry: its path relative to the root (`/`-separated, no leading
/// `/`) and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpEntry {
    /// The path below the root.
    pub path: String,
    /// What it is.
    pub kind: DumpKind,
}

/// FNV-1a, 64 bits: enough to tell two contents apart in a test report.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The canonical dump of `entries` (in any order).
pub fn format_dump(entries: &[DumpEntry]) -> String {
    let mut sorted: Vec<&DumpEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut out = String::new();
    for entry in sorted {
        let line = match &entry.kind {
            DumpKind::Dir => format!("d {}/", entry.path),
            DumpKind::File { bytes, links } => format!(
                "f {} {} fnv1a64={:016x} links={links}",
                entry.path,
                bytes.len(),
                fnv1a64(bytes)
            ),
            DumpKind::Symlink(target) => format!("l {} -> {target}", entry.path),
            DumpKind::Other => format!("? {}", entry.path),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

impl Vfs {
    /// The canonical dump ([`format_dump`]) of the tree below guest path
    /// `root` (a preopen's path, or a directory inside one), as it is now:
    /// the embedded base with every change of the writable layer applied.
    pub fn dump(&self, root: &str) -> String {
        let mut entries = Vec::new();
        self.collect(root, "", &mut entries);
        format_dump(&entries)
    }

    fn collect(&self, root: &str, rel: &str, out: &mut Vec<DumpEntry>) {
        let dir = if rel.is_empty() {
            String::from(root)
        } else {
            format!("{}/{rel}", root.trim_end_matches('/'))
        };
        for name in self.read_dir(&dir) {
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let full = format!("{}/{name}", dir.trim_end_matches('/'));
            let Ok(stat) = self.lstat(&full) else {
                continue;
            };
            let kind = match stat.filetype {
                Filetype::Directory => DumpKind::Dir,
                Filetype::RegularFile => DumpKind::File {
                    bytes: self.read_file(&full).unwrap_or_default(),
                    links: stat.nlink,
                },
                Filetype::SymbolicLink => {
                    DumpKind::Symlink(self.read_link(&full).unwrap_or_default())
                }
                _ => DumpKind::Other,
            };
            let is_dir = kind == DumpKind::Dir;
            out.push(DumpEntry {
                path: path.clone(),
                kind,
            });
            if is_dir {
                self.collect(root, &path, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{EmbeddedNode, Preopen};
    use crate::stdio::StdioConfig;

    static SITE: EmbeddedNode = EmbeddedNode::Dir(&[
        (
            "a",
            EmbeddedNode::Dir(&[("b.txt", EmbeddedNode::File(b"bee"))]),
        ),
        ("l", EmbeddedNode::Symlink("a/b.txt")),
    ]);
    static PREOPENS: [Preopen; 2] = [Preopen::new("/", &SITE), Preopen::empty("/tmp")];

    #[test]
    fn a_vfs_dumps_its_overlay_canonically() {
        let fs = Vfs::new(&PREOPENS, &StdioConfig::IGNORE);
        fs.write_file("/a/new.txt", b"x").unwrap();
        fs.write_file("/tmp/t", b"").unwrap();
        let bee = fnv1a64(b"bee");
        let x = fnv1a64(b"x");
        assert_eq!(
            fs.dump("/"),
            format!(
                "d a/\nf a/b.txt 3 fnv1a64={bee:016x} links=1\nf a/new.txt 1 fnv1a64={x:016x} links=1\nl l -> a/b.txt\n"
            )
        );
        assert!(fs.dump("/tmp").starts_with("f t 0 "));
    }
}
