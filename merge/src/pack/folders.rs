//! Reading the mounted folders: their shape for the config image, their
//! files' bytes for the blob.
//!
//! Two passes: the first walks every folder (names, kinds, sizes, symlink
//! targets; everything that can be wrong with a folder is found here,
//! before a byte of content is read), the second reads the files, in the
//! same sorted order, straight into the blob. The order is by name, byte
//! by byte, and nothing about a file but its bytes, its name and its kind
//! is kept (no times, owners or permissions): the same folders always give
//! the same blob and image.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasi_virt_abi::pack::{self, Node};

/// A folder to mount: `--dir GUEST=HOST[:ro]`, or `--dir GUEST` for an
/// empty writable one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Where the program sees it (absolute, normalised: `/`, `/data`).
    pub guest: String,
    /// The folder on this machine (`None`: an empty directory).
    pub host: Option<PathBuf>,
    /// Whether the program's changes are refused.
    pub read_only: bool,
    /// The argument as the user wrote it, for messages.
    pub arg: String,
}

impl Mount {
    /// Parses `GUEST=HOST`, `GUEST=HOST:ro` or `GUEST`.
    pub fn parse(arg: &str) -> Result<Mount> {
        let (guest, host) = match arg.split_once('=') {
            Some((guest, host)) => (guest, Some(host)),
            None => (arg, None),
        };
        let (host, read_only) = match host {
            Some(h) => match h.strip_suffix(":ro") {
                Some(h) => (Some(h), true),
                None => (Some(h), false),
            },
            None => (None, false),
        };
        if host == Some("") {
            bail!(
                "--dir {arg}: no folder after `=` (write --dir GUEST=FOLDER, e.g. --dir /=./site)"
            );
        }
        Ok(Mount {
            guest: guest_path(guest)
                .with_context(|| format!("--dir {arg}: bad path for the program"))?,
            host: host.map(PathBuf::from),
            read_only,
            arg: arg.to_string(),
        })
    }
}

/// An absolute guest path in normal form: `/`, or `/a/b` without `.`, `..`,
/// empty components or a trailing slash.
fn guest_path(path: &str) -> Result<String> {
    if !path.starts_with('/') {
        bail!("`{path}` is not absolute (the program's paths start with `/`)");
    }
    let mut parts = Vec::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." {
            bail!("`{path}` contains `{part}`");
        }
        if part.contains('\0') {
            bail!("`{path}` contains a NUL byte");
        }
        parts.push(part);
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Hears how the reading of mounted folders goes (the CLI draws a bar).
pub trait Progress {
    /// Reading starts: `files` files of `bytes` bytes in all.
    fn start(&mut self, files: u64, bytes: u64);
    /// `bytes` more were read.
    fn advance(&mut self, bytes: u64);
    /// Reading is done.
    fn finish(&mut self);
}

/// No progress to hear of.
impl Progress for () {
    fn start(&mut self, _files: u64, _bytes: u64) {}
    fn advance(&mut self, _bytes: u64) {}
    fn finish(&mut self) {}
}

/// What the folders hold, ready for the config image and the blob.
pub struct Walked {
    /// One per mount, in order.
    pub preopens: Vec<pack::Preopen>,
    /// Every file's bytes, in walk order.
    pub blob: Vec<u8>,
    /// How many files, folders and symlinks, in all.
    pub counts: Counts,
    /// The same, per mount.
    pub per_mount: Vec<Counts>,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "{}, {}, {}, {} bytes",
            plural(self.files, "file"),
            plural(self.dirs, "folder"),
            plural(self.symlinks, "symlink"),
            self.bytes
        )
    }
}

/// Tallies of a walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Regular files.
    pub files: u64,
    /// Folders (not counting the mounted ones).
    pub dirs: u64,
    /// Symlinks.
    pub symlinks: u64,
    /// Bytes of all files.
    pub bytes: u64,
}

/// A file to read in the second pass.
struct Pending {
    path: PathBuf,
    len: u64,
}

/// Walks and reads every mount.
pub fn read(mounts: &[Mount], progress: &mut dyn Progress) -> Result<Walked> {
    let mut counts = Counts::default();
    let mut files = Vec::new();
    let mut preopens = Vec::with_capacity(mounts.len());
    let mut per_mount = Vec::with_capacity(mounts.len());
    for mount in mounts {
        let before = counts;
        let entries = match &mount.host {
            None => Vec::new(),
            Some(host) => {
                let meta = fs::metadata(host)
                    .map_err(|e| anyhow::anyhow!("--dir {}: {}: {e}", mount.arg, host.display()))?;
                if !meta.is_dir() {
                    bail!("--dir {}: {} is not a folder", mount.arg, host.display());
                }
                walk(host, host, 0, &mut counts, &mut files)
                    .with_context(|| format!("--dir {}", mount.arg))?
            }
        };
        per_mount.push(Counts {
            files: counts.files - before.files,
            dirs: counts.dirs - before.dirs,
            symlinks: counts.symlinks - before.symlinks,
            bytes: counts.bytes - before.bytes,
        });
        preopens.push(pack::Preopen {
            path: mount.guest.clone(),
            entries,
            read_only: mount.read_only,
        });
    }
    if counts.bytes > u64::from(u32::MAX) {
        bail!(
            "the mounted folders hold {} bytes of files; a packed output holds at most 4 GiB",
            counts.bytes
        );
    }

    progress.start(counts.files, counts.bytes);
    let mut blob = Vec::new();
    blob.try_reserve_exact(counts.bytes as usize)
        .context("not enough memory to hold the mounted files")?;
    for file in &files {
        let before = blob.len();
        fs::File::open(&file.path)
            .and_then(|f| f.take(file.len + 1).read_to_end(&mut blob))
            .with_context(|| format!("cannot read {}", file.path.display()))?;
        let read = (blob.len() - before) as u64;
        if read != file.len {
            bail!(
                "{} changed while it was being packed ({} bytes, then {read})",
                file.path.display(),
                file.len
            );
        }
        progress.advance(read);
    }
    progress.finish();
    Ok(Walked {
        preopens,
        blob,
        counts,
        per_mount,
    })
}

/// The entries of folder `dir` (at `depth` below `root`), sorted by name;
/// files get their place in the blob and are queued in `files`.
fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    counts: &mut Counts,
    files: &mut Vec<Pending>,
) -> Result<Vec<(String, Node)>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name().into_string().map_err(|name| {
            anyhow::anyhow!(
                "{}: the name {name:?} is not UTF-8, which WASI paths must be",
                dir.display()
            )
        })?;
        names.push(name);
    }
    names.sort();
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let meta = fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let kind = meta.file_type();
        let node = if kind.is_symlink() {
            let link = fs::read_link(&path)
                .with_context(|| format!("cannot read the symlink {}", path.display()))?;
            let Some(text) = link.to_str() else {
                bail!(
                    "the symlink {} -> {} is not UTF-8",
                    path.display(),
                    link.display()
                );
            };
            if !pack::link_stays_inside(depth, text) {
                bail!(
                    "the symlink {} -> {text} leads out of the mounted folder {}; replace it by a copy, or mount the folder it points into",
                    path.display(),
                    root.display()
                );
            }
            counts.symlinks += 1;
            Node::Symlink(text.to_string())
        } else if kind.is_dir() {
            counts.dirs += 1;
            Node::Dir(walk(root, &path, depth + 1, counts, files)?)
        } else if kind.is_file() {
            let len = meta.len();
            let offset = counts.bytes;
            counts.files += 1;
            counts.bytes += len;
            files.push(Pending {
                path: path.clone(),
                len,
            });
            // Offsets past 4 GiB are refused once the walk is done.
            Node::File {
                offset: u32::try_from(offset).unwrap_or(u32::MAX),
                len: u32::try_from(len).unwrap_or(u32::MAX),
            }
        } else {
            bail!(
                "{} is neither a file, a folder nor a symlink (a socket, a device or a pipe cannot be packed)",
                path.display()
            );
        };
        entries.push((name, node));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_parse_and_normalise() {
        let m = Mount::parse("/data/=./d:ro").unwrap();
        assert_eq!(m.guest, "/data");
        assert_eq!(m.host, Some(PathBuf::from("./d")));
        assert!(m.read_only);
        let m = Mount::parse("/=site").unwrap();
        assert_eq!((m.guest.as_str(), m.read_only), ("/", false));
        let m = Mount::parse("/tmp").unwrap();
        assert_eq!((m.guest.as_str(), m.host), ("/tmp", None));
        let err = |arg| format!("{:#}", Mount::parse(arg).unwrap_err());
        assert!(
            err("data=./d").contains("is not absolute"),
            "{}",
            err("data=./d")
        );
        assert!(err("/a/../b=x").contains("contains `..`"));
        assert!(err("/a=").contains("no folder after `=`"));
    }

    #[test]
    fn a_walk_is_sorted_and_reads_every_byte_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("b/c")).unwrap();
        fs::write(d.join("z.txt"), "zz").unwrap();
        fs::write(d.join("a.txt"), "a").unwrap();
        fs::write(d.join("b/c/deep"), "deep").unwrap();
        std::os::unix::fs::symlink("../a.txt", d.join("b/up")).unwrap();
        let mount = Mount::parse(&format!("/={}", d.display())).unwrap();
        let walked = read(&[mount], &mut ()).unwrap();
        assert_eq!(walked.blob, b"adeepzz");
        assert_eq!(
            walked.counts,
            Counts {
                files: 3,
                dirs: 2,
                symlinks: 1,
                bytes: 7
            }
        );
        let names: Vec<&str> = walked.preopens[0]
            .entries
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["a.txt", "b", "z.txt"]);
        assert_eq!(
            walked.preopens[0].entries[2].1,
            Node::File { offset: 5, len: 2 }
        );
    }

    #[test]
    fn a_link_out_of_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("../../etc/passwd", dir.path().join("sub/evil")).unwrap();
        let mount = Mount::parse(&format!("/={}", dir.path().display())).unwrap();
        let err = format!("{:#}", read(&[mount], &mut ()).err().unwrap());
        assert!(err.contains("leads out of the mounted folder"), "{err}");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let mount = Mount::parse("/=/no/such/folder").unwrap();
        let err = format!("{:#}", read(&[mount], &mut ()).err().unwrap());
        assert!(
            err.starts_with("--dir /=/no/such/folder: /no/such/folder: No such file"),
            "{err}"
        );
    }
}
