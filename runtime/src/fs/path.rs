//! Path resolution, confined to the subtree of one directory fd.
//!
//! As with wasmtime's `cap-std`, each directory fd is its own sandbox root:
//! `..` may climb back up only as far as the directory the walk started
//! from, and a symlink is followed the same way, relative to the directory
//! that holds it. A path or a symlink target that leads outside, or is
//! absolute, is refused with [`ESCAPE`].

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec;
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

/// What a path names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The existing entry `name` of directory `dir`.
    Entry {
        /// The directory holding it.
        dir: Ino,
        /// Its name there.
        name: String,
        /// The inode it names.
        ino: Ino,
    },
    /// A missing entry `name` of existing directory `dir`.
    Missing {
        /// The directory it would be created in.
        dir: Ino,
        /// Its name there.
        name: String,
    },
    /// A directory reached through `.` or `..`: there is no entry name to
    /// create, remove or rename.
    Dir(Ino),
}

/// A resolved path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// What it names.
    pub(crate) target: Target,
    /// The last component was followed by `/`, so it must be a directory
    /// (an existing non-directory has already been refused with `ENOTDIR`).
    pub(crate) trailing_slash: bool,
}

impl Resolved {
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

/// One component still to walk, and whether a `/` followed it.
type Component<'a> = (Cow<'a, str>, bool);

/// The components of `path`, last first (ready to be pushed on the work
/// stack), each with whether a `/` follows it. `slash_after` marks the last
/// one too (a symlink that had a `/` after it).
fn split(path: &str, slash_after: bool) -> Vec<(&str, bool)> {
    let ends_with_slash = path.ends_with('/') || slash_after;
    let mut parts: Vec<(&str, bool)> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| (c, true))
        .collect();
    if let Some(last) = parts.last_mut() {
        last.1 = ends_with_slash;
    }
    parts.reverse();
    parts
}

/// Resolves `path` from directory `start`. Intermediate symlinks are always
/// followed; the last component's as `follow` says.
pub(crate) fn resolve(
    tree: &mut Tree,
    start: Ino,
    path: &str,
    follow: Follow,
) -> Result<Resolved, Errno> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.len() > PATH_MAX {
        return Err(Errno::Nametoolong);
    }
    if path.starts_with('/') {
        return Err(ESCAPE);
    }
    let mut work: Vec<Component<'_>> = Vec::new();
    work.extend(
        split(path, false)
            .into_iter()
            .map(|(c, slash)| (Cow::Borrowed(c), slash)),
    );
    // The physical path from `start`: `..` pops it, and may not empty it.
    let mut dirs = vec![start];
    let mut expansions = 0;
    while let Some((name, slash)) = work.pop() {
        let last = work.is_empty();
        let dir = *dirs
            .last()
            .expect("the walk never leaves its start directory");
        match &*name {
            "." => {}
            ".." if dirs.len() == 1 => return Err(ESCAPE),
            ".." => {
                dirs.pop();
            }
            _ => {
                if name.len() > NAME_MAX {
                    return Err(Errno::Nametoolong);
                }
                let Some(ino) = tree.lookup(dir, &name)? else {
                    if !last {
                        return Err(Errno::Noent);
                    }
                    let target = Target::Missing {
                        dir,
                        name: name.into_owned(),
                    };
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
                        let parts = split(link, slash).into_iter();
                        work.extend(parts.map(|(c, slash)| (Cow::Owned(c.to_string()), slash)));
                        continue;
                    }
                }
                if last {
                    if slash && !tree.is_dir(ino) {
                        return Err(Errno::Notdir);
                    }
                    let target = Target::Entry {
                        dir,
                        name: name.into_owned(),
                        ino,
                    };
                    return Ok(Resolved {
                        target,
                        trailing_slash: slash,
                    });
                }
                if !tree.is_dir(ino) {
                    return Err(Errno::Notdir);
                }
                dirs.push(ino);
                continue;
            }
        }
        if last {
            let dir = *dirs
                .last()
                .expect("the walk never leaves its start directory");
            return Ok(Resolved {
                target: Target::Dir(dir),
                trailing_slash: slash,
            });
        }
    }
    // Only `.`/`..` components, the last handled above; kept for totality.
    Ok(Resolved {
        target: Target::Dir(*dirs.last().unwrap_or(&start)),
        trailing_slash: false,
    })
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
