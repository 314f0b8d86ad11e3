//! Path resolution, confined to the subtree of one directory fd.
//!
//! As with wasmtime's `cap-std`, each directory fd is its own sandbox root:
//! `..` may climb back up only as far as the directory the walk started
//! from, and a symlink is followed the same way, relative to the directory
//! that holds it. A path or a symlink target that leads outside, or is
//! absolute, is refused with [`ESCAPE`].

use alloc::borrow::Cow;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::tree::{Ino, Tree};
use crate::types::{Errno, lookupflags};

/// The errno for a path that leads outside its directory fd (through
/// `..`, an absolute path, or a symlink). wasmtime answers `EPERM` (cap-std's
/// "a path led outside of the filesystem"); the design asks for preview1's
/// own capability error, which wasi-testsuite accepts alike.
pub(crate) const ESCAPE: Errno = Errno::Notcapable;

/// Symlinks expanded in one resolution before `ELOOP`.
pub(crate) const MAX_SYMLINK_EXPANSIONS: usize = 32;

/// The longest name of one component, in bytes (`NAME_MAX`).
pub(crate) const NAME_MAX: usize = 255;

/// The longest path, in bytes (`PATH_MAX`, as Linux).
pub(crate) const PATH_MAX: usize = 4096;

/// When a symlink in the last component is followed (those before it
/// always are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Never: `rename` and the new name of `link`, `symlink` and `mkdir`
    /// (so `rename("link/", …)` is `ENOTDIR`, as wasmtime).
    Never,
    /// Only when a `/` follows it (`link/` is the directory it points to):
    /// lookups without `SYMLINK_FOLLOW`, `unlink`, `rmdir`, `readlink`.
    IfSlash,
    /// Always: lookups with `SYMLINK_FOLLOW`.
    Always,
}

impl Follow {
    /// From a `lookupflags` argument; unknown bits are `EINVAL`.
    pub(crate) fn from_lookupflags(flags: u32) -> Result<Follow, Errno> {
        match flags {
            0 => Ok(Follow::IfSlash),
            lookupflags::SYMLINK_FOLLOW => Ok(Follow::Always),
            _ => Err(Errno::Inval),
        }
    }
}

/// What a path names. Names borrow from the path resolved (`'p`), or are
/// owned when they come from a symlink's target.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target<'p> {
    /// The existing entry `name` of directory `dir`.
    Entry {
        /// The directory holding it.
        dir: Ino,
        /// Its name there.
        name: Cow<'p, str>,
        /// The inode it names.
        ino: Ino,
    },
    /// A missing entry `name` of existing directory `dir`.
    Missing {
        /// The directory it would be created in.
        dir: Ino,
        /// Its name there.
        name: Cow<'p, str>,
    },
    /// A directory reached through `.` or `..`: there is no entry name to
    /// create, remove or rename.
    Dir(Ino),
}

/// A resolved path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Resolved<'p> {
    /// What it names.
    pub(crate) target: Target<'p>,
    /// The last component was followed by `/`, so it must be a directory
    /// (an existing non-directory has already been refused with `ENOTDIR`).
    pub(crate) trailing_slash: bool,
}

impl Resolved<'_> {
    /// The inode named, if it exists.
    pub(crate) fn ino(&self) -> Option<Ino> {
        match self.target {
            Target::Entry { ino, .. } | Target::Dir(ino) => Some(ino),
            Target::Missing { .. } => None,
        }
    }

    /// The inode named, or `ENOENT`.
    pub(crate) fn existing(&self) -> Result<Ino, Errno> {
        self.ino().ok_or(Errno::Noent)
    }
}

/// A piece of path still to walk: its text, and whether a `/` follows its
/// last component (a symlink's target inherits the slash that followed the
/// link).
struct Segment<'p> {
    text: Cow<'p, str>,
    /// Where the unwalked rest of `text` starts.
    at: usize,
    slash_after: bool,
}

impl<'p> Segment<'p> {
    /// The next component of this segment and whether a `/` follows it,
    /// or `None` when the segment is used up. The component is borrowed
    /// from the path when the segment is, copied from a symlink's target
    /// otherwise.
    fn next(&mut self) -> Option<(Cow<'p, str>, bool)> {
        // Byte loops rather than `find`/`trim_start_matches`: components are
        // short, and memchr's set-up costs more than it saves on them.
        let bytes = self.text.as_bytes();
        let mut start = self.at;
        while start < bytes.len() && bytes[start] == b'/' {
            start += 1;
        }
        if start == bytes.len() {
            self.at = start;
            return None;
        }
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'/' {
            end += 1;
        }
        self.at = end;
        // A `/` follows if one does here, or (at the end of a symlink's
        // target) after the link.
        let slash = end < bytes.len() || self.slash_after;
        let component = match &self.text {
            Cow::Borrowed(text) => Cow::Borrowed(&text[start..end]),
            Cow::Owned(text) => Cow::Owned(text[start..end].into()),
        };
        Some((component, slash))
    }

    /// Whether no component is left.
    fn is_done(&self) -> bool {
        self.text.as_bytes()[self.at..].iter().all(|&b| b == b'/')
    }
}

/// Resolves `path` from directory `start`. Intermediate symlinks are always
/// followed; the last component's as `follow` says.
///
/// Nothing is allocated for a path that meets no symlink and no `..`:
/// components are taken from the path as the walk reaches them, and the
/// name in the result borrows from it.
pub(crate) fn resolve<'p>(
    tree: &mut Tree,
    start: Ino,
    path: &'p str,
    follow: Follow,
) -> Result<Resolved<'p>, Errno> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.len() > PATH_MAX {
        return Err(Errno::Nametoolong);
    }
    if path.starts_with('/') {
        return Err(ESCAPE);
    }
    // The segment being walked, and those suspended under a symlink's
    // target (each resumes once the target is walked).
    let mut current = Segment {
        text: Cow::Borrowed(path),
        at: 0,
        slash_after: false,
    };
    let mut suspended: Vec<Segment<'p>> = Vec::new();
    // The physical path from `start`: `..` pops it, and may not empty it.
    // Only directories above `dir` are kept in `above`.
    let mut dir = start;
    let mut above: Vec<Ino> = Vec::new();
    let mut expansions = 0;
    loop {
        let Some((name, slash)) = current.next() else {
            match suspended.pop() {
                Some(segment) => {
                    current = segment;
                    continue;
                }
                // Only reachable for a path of slashes alone, refused above.
                None => {
                    return Ok(Resolved {
                        target: Target::Dir(dir),
                        trailing_slash: false,
                    });
                }
            }
        };
        let last = current.is_done() && suspended.iter().all(Segment::is_done);
        match &*name {
            "." => {}
            ".." => match above.pop() {
                Some(parent) => dir = parent,
                None => return Err(ESCAPE),
            },
            _ => {
                if name.len() > NAME_MAX {
                    return Err(Errno::Nametoolong);
                }
                let Some(ino) = tree.lookup(dir, &name)? else {
                    if !last {
                        return Err(Errno::Noent);
                    }
                    let target = Target::Missing { dir, name };
                    return Ok(Resolved {
                        target,
                        trailing_slash: slash,
                    });
                };
                if let Some(link) = tree.symlink(ino) {
                    let follow = match follow {
                        Follow::Never => false,
                        Follow::IfSlash => slash,
                        Follow::Always => true,
                    };
                    if !last || follow {
                        expansions += 1;
                        if expansions > MAX_SYMLINK_EXPANSIONS {
                            return Err(Errno::Loop);
                        }
                        if link.is_empty() {
                            return Err(Errno::Noent);
                        }
                        if link.starts_with('/') {
                            return Err(ESCAPE);
                        }
                        let link = Segment {
                            text: Cow::Owned(link.to_string()),
                            at: 0,
                            slash_after: slash,
                        };
                        suspended.push(core::mem::replace(&mut current, link));
                        continue;
                    }
                }
                if last {
                    if slash && !tree.is_dir(ino) {
                        return Err(Errno::Notdir);
                    }
                    let target = Target::Entry { dir, name, ino };
                    return Ok(Resolved {
                        target,
                        trailing_slash: slash,
                    });
                }
                if !tree.is_dir(ino) {
                    return Err(Errno::Notdir);
                }
                above.push(dir);
                dir = ino;
                continue;
            }
        }
        if last {
            return Ok(Resolved {
                target: Target::Dir(dir),
                trailing_slash: slash,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::EmbeddedNode::{self, *};

    static SITE: EmbeddedNode = Dir(&[
        (
            "a",
            Dir(&[
                ("b.txt", File(b"b")),
                ("up", Symlink("../c.txt")),
                ("out", Symlink("../../x")),
            ]),
        ),
        ("abs", Symlink("/etc/passwd")),
        ("c.txt", File(b"c")),
        ("dangling", Symlink("nowhere")),
        ("la", Symlink("a")),
        ("loop", Symlink("loop")),
    ]);

    fn tree() -> (Tree, Ino) {
        let mut tree = Tree::new(0);
        let root = tree.add_root(&SITE);
        (tree, root)
    }

    fn entry(tree: &mut Tree, root: Ino, path: &str, follow: Follow) -> Result<Ino, Errno> {
        resolve(tree, root, path, follow)?.existing()
    }

    #[test]
    fn plain_dotted_and_doubled_slashes_resolve_alike() {
        let (mut t, root) = tree();
        let b = entry(&mut t, root, "a/b.txt", Follow::IfSlash).unwrap();
        for path in ["a//b.txt", "./a/./b.txt", "a/../a/b.txt", "la/b.txt"] {
            assert_eq!(entry(&mut t, root, path, Follow::IfSlash), Ok(b), "{path}");
        }
        assert_eq!(
            resolve(&mut t, root, ".", Follow::IfSlash).unwrap().target,
            Target::Dir(root)
        );
        assert_eq!(
            resolve(&mut t, root, "a/..", Follow::IfSlash)
                .unwrap()
                .target,
            Target::Dir(root)
        );
    }

    #[test]
    fn escapes_are_refused() {
        let (mut t, root) = tree();
        for path in ["..", "../a", "a/../..", "/a", "abs", "a/out"] {
            assert_eq!(
                resolve(&mut t, root, path, Follow::Always),
                Err(ESCAPE),
                "{path}"
            );
        }
        // A subdirectory is a sandbox of its own.
        let a = entry(&mut t, root, "a", Follow::IfSlash).unwrap();
        assert_eq!(resolve(&mut t, a, "..", Follow::IfSlash), Err(ESCAPE));
        assert_eq!(resolve(&mut t, a, "up", Follow::Always), Err(ESCAPE));
        let c = entry(&mut t, root, "c.txt", Follow::IfSlash).unwrap();
        assert_eq!(entry(&mut t, root, "a/up", Follow::Always), Ok(c));
    }

    #[test]
    fn bad_paths_get_posix_errnos() {
        let (mut t, root) = tree();
        assert_eq!(
            resolve(&mut t, root, "", Follow::IfSlash),
            Err(Errno::Noent)
        );
        assert_eq!(
            resolve(&mut t, root, "c.txt/", Follow::IfSlash),
            Err(Errno::Notdir)
        );
        assert_eq!(
            resolve(&mut t, root, "c.txt/x", Follow::IfSlash),
            Err(Errno::Notdir)
        );
        assert_eq!(
            resolve(&mut t, root, "missing/x", Follow::IfSlash),
            Err(Errno::Noent)
        );
        let long = "n".repeat(256);
        assert_eq!(
            resolve(&mut t, root, &long, Follow::IfSlash),
            Err(Errno::Nametoolong)
        );
        assert!(resolve(&mut t, root, &"n".repeat(255), Follow::IfSlash).is_ok());
        assert_eq!(
            resolve(&mut t, root, "loop", Follow::Always),
            Err(Errno::Loop)
        );
        assert_eq!(
            resolve(&mut t, root, "loop/x", Follow::IfSlash),
            Err(Errno::Loop)
        );
    }

    #[test]
    fn the_last_symlink_is_followed_only_when_asked() {
        let (mut t, root) = tree();
        let la = entry(&mut t, root, "la", Follow::IfSlash).unwrap();
        let a = entry(&mut t, root, "a", Follow::IfSlash).unwrap();
        assert_ne!(la, a);
        assert_eq!(entry(&mut t, root, "la", Follow::Always), Ok(a));
        assert_eq!(
            entry(&mut t, root, "la/", Follow::IfSlash),
            Ok(a),
            "a trailing slash follows"
        );
        let missing = resolve(&mut t, root, "dangling", Follow::Always).unwrap();
        assert_eq!(
            missing.target,
            Target::Missing {
                dir: root,
                name: "nowhere".into()
            }
        );
        let new = resolve(&mut t, root, "newdir/", Follow::IfSlash).unwrap();
        assert!(new.trailing_slash);
    }
}
