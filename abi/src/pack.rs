//! The contract between `wasi-virt pack` and the default guest it ships:
//! the guest's `wasi-virt:pack` imports and the *config image* the CLI
//! writes and the guest reads.
//!
//! The default guest is built once, before anyone packs anything; what a
//! user chooses at pack time (folders, args, env, stdio, clock, random,
//! exit) reaches it as data appended to the output, never by rebuilding
//! it. `pack` adds two passive data segments:
//! - the **blob**: every mounted file's bytes, back to back;
//! - the **config image**: everything else, in the format below.
//!
//! and turns the guest's [`MODULE`] imports into one bulk instruction each
//! ([`CONFIG_LEN`], [`CONFIG_READ`], [`BLOB_TO_TARGET`], [`BLOB_TO_GUEST`]).
//! A file's bytes therefore move from the blob straight into the target's
//! buffer with one `memory.init`, when the program reads them: start-up
//! costs nothing per file.
//!
//! # The config image
//!
//! Little-endian `u32`s throughout. A *str* is `(offset, len)` of UTF-8
//! bytes inside the image; a *list* is `count` then `count` strs.
//!
//! ```text
//! 0   magic "WVPK"           4  version (VERSION)
//! 8   stdin, stdout, stderr, clock   (one byte each: StreamMode, ClockMode)
//! 12  random, exit, flags, 0         (RandomMode tag, ExitMode; flags
//!                                    bit 0: stdio says it is a terminal)
//! 16  seed (u64)
//! 24  offset of the args list        28  offset of the env list
//! 32  offset of the preopens record
//! preopens record: count, then count × (path: str, root: dir offset, flags)
//!                  flags bit 0: read-only
//! dir record:      count, then count × (name: str, kind, a, b), sorted by name
//!                  kind 0 file:    a = blob offset, b = length
//!                  kind 1 dir:     a = the child's dir record offset
//!                  kind 2 symlink: (a, b) = the target, a str
//! ```
//!
//! Directory records are reached by offset, so the guest reads a directory
//! only when the program first looks into it: start-up does not grow with
//! the tree either.

use alloc::string::String;
use alloc::vec::Vec;

/// The import module of the default guest's pack functions.
pub const MODULE: &str = "wasi-virt:pack";
/// `() -> i32`: the config image's length in bytes.
pub const CONFIG_LEN: &str = "config_len";
/// `(guest_dst: i32)`: copies the whole config image to `guest_dst` in the
/// guest's memory (one `memory.init`).
pub const CONFIG_READ: &str = "config_read";
/// `(target_dst: i32, blob_offset: i32, len: i32)`: copies blob bytes into
/// the target's memory (one `memory.init`). The guest checks both ranges.
pub const BLOB_TO_TARGET: &str = "blob_read_to_target";
/// `(guest_dst: i32, blob_offset: i32, len: i32)`: copies blob bytes into
/// the guest's memory (one `memory.init`), for copy-on-write and for the
/// host API's `read_file`.
pub const BLOB_TO_GUEST: &str = "blob_read_to_guest";

/// The custom section in which `pack` records its choices, one
/// `key\tvalue…` line each, for `inspect` ("why is this import here").
pub const SECTION: &str = "wasi-virt.pack";

/// The name under which a packed output exports the target's own memory
/// (`memory` is the guest's, where the host API's pointers point).
pub const TARGET_MEMORY_EXPORT: &str = "app_memory";

/// The name of the default guest's one target (`import_wasm!(app)`).
pub const TARGET: &str = "app";

/// The first bytes of a config image.
pub const MAGIC: [u8; 4] = *b"WVPK";
/// The config image version this crate writes and reads.
pub const VERSION: u32 = 1;

const HEADER_LEN: usize = 36;
const ENTRY_LEN: usize = 20;
const PREOPEN_LEN: usize = 16;

/// What one standard stream does (the runtime's `Stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamMode {
    /// Into (or out of) a buffer the host reads (or sets) through the host API.
    Capture = 0,
    /// The host's own fd (the output keeps `fd_read`/`fd_write` imports).
    Inherit = 1,
    /// Writes vanish, reads see end of input.
    Ignore = 2,
    /// Every access is `EBADF`.
    Deny = 3,
}

/// Which clock the program sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Deterministic virtual time.
    Virtual = 0,
    /// The host's clocks (the output keeps `clock_*` imports).
    Host = 1,
}

/// Where random bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomMode {
    /// A deterministic generator with this seed.
    Seeded(u64),
    /// The host's `random_get` (the output keeps that import).
    Host,
}

/// What `proc_exit` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitMode {
    /// Records the code for `wasi_virt_exit_code()` and traps.
    Virtual = 0,
    /// The host's `proc_exit` (the output keeps that import): a WASI host
    /// such as the wasmtime CLI then reports the code itself.
    Host = 1,
}

/// One node of a mounted tree, as `pack` found it on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A regular file: its bytes in the blob.
    File {
        /// Where its bytes start in the blob.
        offset: u32,
        /// How many bytes.
        len: u32,
    },
    /// A directory: its entries (any order; the image sorts them).
    Dir(Vec<(String, Node)>),
    /// A symbolic link and its target, as written.
    Symlink(String),
}

/// A mounted folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    /// Where the program sees it (`/`, `/data`…).
    pub path: String,
    /// Its entries.
    pub entries: Vec<(String, Node)>,
    /// Whether the program's changes are refused.
    pub read_only: bool,
}

/// Everything `pack` tells the default guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The arguments, argv[0] included.
    pub args: Vec<String>,
    /// The environment, `KEY=VALUE` each.
    pub env: Vec<String>,
    /// stdin, stdout, stderr.
    pub stdio: [StreamMode; 3],
    /// Whether the streams that are not inherited say they are a terminal
    /// (`--tty`).
    pub terminal: bool,
    /// The clock.
    pub clock: ClockMode,
    /// Randomness.
    pub random: RandomMode,
    /// `proc_exit`.
    pub exit: ExitMode,
    /// The mounted folders, in fd order (3, 4, …).
    pub preopens: Vec<Preopen>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            args: Vec::new(),
            env: Vec::new(),
            stdio: [StreamMode::Capture; 3],
            terminal: false,
            clock: ClockMode::Virtual,
            random: RandomMode::Seeded(0),
            exit: ExitMode::Virtual,
            preopens: Vec::new(),
        }
    }
}

impl Config {
    /// The config image. The same config always gives the same bytes
    /// (entries are sorted by name), so packs are reproducible.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer {
            buf: alloc::vec![0; HEADER_LEN],
        };
        w.buf[0..4].copy_from_slice(&MAGIC);
        w.put_at(4, VERSION);
        let random = match self.random {
            RandomMode::Seeded(_) => 0,
            RandomMode::Host => 1,
        };
        w.buf[8..15].copy_from_slice(&[
            self.stdio[0] as u8,
            self.stdio[1] as u8,
            self.stdio[2] as u8,
            self.clock as u8,
            random,
            self.exit as u8,
            u8::from(self.terminal),
        ]);
        let seed = match self.random {
            RandomMode::Seeded(seed) => seed,
            RandomMode::Host => 0,
        };
        w.buf[16..24].copy_from_slice(&seed.to_le_bytes());
        let args = w.list(&self.args);
        w.put_at(24, args);
        let env = w.list(&self.env);
        w.put_at(28, env);
        let roots: Vec<(u32, u32, u32)> = self
            .preopens
            .iter()
            .map(|p| {
                let root = w.dir(&p.entries);
                let (path, len) = w.str(&p.path);
                (path, len, root)
            })
            .collect();
        let record = w.buf.len() as u32;
        w.u32(roots.len() as u32);
        for ((path, len, root), preopen) in roots.iter().zip(&self.preopens) {
            w.u32(*path);
            w.u32(*len);
            w.u32(*root);
            w.u32(u32::from(preopen.read_only));
        }
        w.put_at(32, record);
        w.buf
    }
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn put_at(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn str(&mut self, s: &str) -> (u32, u32) {
        let at = self.buf.len() as u32;
        self.buf.extend_from_slice(s.as_bytes());
        (at, s.len() as u32)
    }

    fn list(&mut self, items: &[String]) -> u32 {
        let strs: Vec<(u32, u32)> = items.iter().map(|s| self.str(s)).collect();
        let at = self.buf.len() as u32;
        self.u32(strs.len() as u32);
        for (offset, len) in strs {
            self.u32(offset);
            self.u32(len);
        }
        at
    }

    /// Writes the records of `entries` and everything below them (children
    /// first), and returns the offset of the record of `entries`.
    fn dir(&mut self, entries: &[(String, Node)]) -> u32 {
        let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rows = Vec::with_capacity(sorted.len());
        for (name, node) in sorted {
            let (name_at, name_len) = self.str(name);
            let (kind, a, b) = match node {
                Node::File { offset, len } => (0, *offset, *len),
                Node::Dir(children) => (1, self.dir(children), 0),
                Node::Symlink(target) => {
                    let (at, len) = self.str(target);
                    (2, at, len)
                }
            };
            rows.push([name_at, name_len, kind, a, b]);
        }
        let at = self.buf.len() as u32;
        self.u32(rows.len() as u32);
        for row in rows {
            for v in row {
                self.u32(v);
            }
        }
        at
    }
}

/// Why an image cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// It does not start with [`MAGIC`].
    Magic,
    /// Another [`VERSION`].
    Version(u32),
    /// An offset or length points outside the image, or a name is not UTF-8.
    Corrupt,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Magic => write!(f, "not a wasi-virt pack config image"),
            Error::Version(v) => write!(
                f,
                "a pack config image of version {v}, but this guest reads version {VERSION}"
            ),
            Error::Corrupt => write!(f, "the pack config image is corrupt"),
        }
    }
}

/// A config image, read in place: nothing is decoded until asked for.
#[derive(Clone, Copy, Debug)]
pub struct Image<'a> {
    bytes: &'a [u8],
}

/// One directory entry of an [`Image`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A file: its range in the blob.
    File {
        /// Where its bytes start in the blob.
        offset: u32,
        /// How many bytes.
        len: u32,
    },
    /// A directory: the offset of its record (for [`Image::dir`]).
    Dir(u32),
    /// A symbolic link and its target.
    Symlink(&'a str),
}

/// A mounted folder of an [`Image`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImagePreopen<'a> {
    /// Where the program sees it.
    pub path: &'a str,
    /// The offset of its root's record (for [`Image::dir`]).
    pub root: u32,
    /// Whether the program's changes are refused.
    pub read_only: bool,
}

impl<'a> Image<'a> {
    /// Checks the header of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Image<'a>, Error> {
        if bytes.len() < HEADER_LEN || bytes[0..4] != MAGIC {
            return Err(Error::Magic);
        }
        let image = Image { bytes };
        match image.u32(4)? {
            VERSION => Ok(image),
            other => Err(Error::Version(other)),
        }
    }

    fn u32(&self, at: usize) -> Result<u32, Error> {
        let b = self.bytes.get(at..at + 4).ok_or(Error::Corrupt)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn str(&self, at: u32, len: u32) -> Result<&'a str, Error> {
        let end = (at as usize)
            .checked_add(len as usize)
            .ok_or(Error::Corrupt)?;
        let bytes = self.bytes.get(at as usize..end).ok_or(Error::Corrupt)?;
        core::str::from_utf8(bytes).map_err(|_| Error::Corrupt)
    }

    fn str_at(&self, at: usize) -> Result<&'a str, Error> {
        self.str(self.u32(at)?, self.u32(at + 4)?)
    }

    fn list(&self, at: u32) -> Result<Vec<&'a str>, Error> {
        let at = at as usize;
        let count = self.u32(at)? as usize;
        (0..count).map(|i| self.str_at(at + 4 + i * 8)).collect()
    }

    /// The stream mode of fd 0, 1 or 2.
    pub fn stream(&self, fd: usize) -> StreamMode {
        match self.bytes[8 + fd.min(2)] {
            1 => StreamMode::Inherit,
            2 => StreamMode::Ignore,
            3 => StreamMode::Deny,
            _ => StreamMode::Capture,
        }
    }

    /// Whether the streams that are not inherited say they are a terminal.
    pub fn terminal(&self) -> bool {
        self.bytes[14] & 1 != 0
    }

    /// The clock.
    pub fn clock(&self) -> ClockMode {
        match self.bytes[11] {
            1 => ClockMode::Host,
            _ => ClockMode::Virtual,
        }
    }

    /// Randomness.
    pub fn random(&self) -> RandomMode {
        match self.bytes[12] {
            1 => RandomMode::Host,
            _ => {
                let mut seed = [0; 8];
                seed.copy_from_slice(&self.bytes[16..24]);
                RandomMode::Seeded(u64::from_le_bytes(seed))
            }
        }
    }

    /// `proc_exit`.
    pub fn exit(&self) -> ExitMode {
        match self.bytes[13] {
            1 => ExitMode::Host,
            _ => ExitMode::Virtual,
        }
    }

    /// The arguments.
    pub fn args(&self) -> Result<Vec<&'a str>, Error> {
        self.list(self.u32(24)?)
    }

    /// The environment.
    pub fn env(&self) -> Result<Vec<&'a str>, Error> {
        self.list(self.u32(28)?)
    }

    /// The mounted folders, in fd order.
    pub fn preopens(&self) -> Result<Vec<ImagePreopen<'a>>, Error> {
        let at = self.u32(32)? as usize;
        let count = self.u32(at)? as usize;
        (0..count)
            .map(|i| {
                let row = at + 4 + i * PREOPEN_LEN;
                Ok(ImagePreopen {
                    path: self.str_at(row)?,
                    root: self.u32(row + 8)?,
                    read_only: self.u32(row + 12)? & 1 != 0,
                })
            })
            .collect()
    }

    /// The entries of the directory whose record is at `record`, sorted
    /// by name.
    pub fn dir(&self, record: u32) -> Result<Vec<(&'a str, Entry<'a>)>, Error> {
        let at = record as usize;
        let count = self.u32(at)? as usize;
        if count > self.bytes.len() / ENTRY_LEN {
            return Err(Error::Corrupt);
        }
        (0..count)
            .map(|i| {
                let row = at + 4 + i * ENTRY_LEN;
                let name = self.str_at(row)?;
                let (a, b) = (self.u32(row + 12)?, self.u32(row + 16)?);
                let entry = match self.u32(row + 8)? {
                    0 => Entry::File { offset: a, len: b },
                    1 => Entry::Dir(a),
                    2 => Entry::Symlink(self.str(a, b)?),
                    _ => return Err(Error::Corrupt),
                };
                Ok((name, entry))
            })
            .collect()
    }
}

/// Whether symlink target `link`, in a link found at `depth` folders below
/// a mounted folder's root, stays inside that folder (resolved lexically, as
/// the guest's filesystem resolves it: relative to the link's folder, never
/// absolute, `..` never above the root).
pub fn link_stays_inside(depth: usize, link: &str) -> bool {
    if link.starts_with('/') {
        return false;
    }
    let mut depth = depth;
    for component in link.split('/') {
        match component {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn sample() -> Config {
        Config {
            args: vec!["app".into(), "x y".into()],
            env: vec!["K=V".into()],
            stdio: [StreamMode::Ignore, StreamMode::Inherit, StreamMode::Deny],
            terminal: true,
            clock: ClockMode::Host,
            random: RandomMode::Seeded(0x0102_0304_0506_0708),
            exit: ExitMode::Host,
            preopens: vec![
                Preopen {
                    path: "/".into(),
                    entries: vec![
                        ("z.txt".into(), Node::File { offset: 5, len: 3 }),
                        (
                            "docs".into(),
                            Node::Dir(vec![("a".into(), Node::File { offset: 0, len: 5 })]),
                        ),
                        ("link".into(), Node::Symlink("docs/a".into())),
                    ],
                    read_only: false,
                },
                Preopen {
                    path: "/data".into(),
                    entries: vec![],
                    read_only: true,
                },
            ],
        }
    }

    #[test]
    fn an_image_reads_back_what_was_written_entries_sorted() {
        let bytes = sample().encode();
        let image = Image::parse(&bytes).unwrap();
        assert_eq!(image.args().unwrap(), ["app", "x y"]);
        assert_eq!(image.env().unwrap(), ["K=V"]);
        assert_eq!(image.stream(0), StreamMode::Ignore);
        assert_eq!(image.stream(1), StreamMode::Inherit);
        assert_eq!(image.stream(2), StreamMode::Deny);
        assert!(image.terminal());
        assert!(
            !Image::parse(&Config::default().encode())
                .unwrap()
                .terminal()
        );
        assert_eq!(image.clock(), ClockMode::Host);
        assert_eq!(image.random(), RandomMode::Seeded(0x0102_0304_0506_0708));
        assert_eq!(image.exit(), ExitMode::Host);
        let preopens = image.preopens().unwrap();
        assert_eq!(preopens.len(), 2);
        assert_eq!((preopens[1].path, preopens[1].read_only), ("/data", true));
        let root = image.dir(preopens[0].root).unwrap();
        let names: Vec<&str> = root.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["docs", "link", "z.txt"]);
        assert_eq!(root[1].1, Entry::Symlink("docs/a"));
        assert_eq!(root[2].1, Entry::File { offset: 5, len: 3 });
        let Entry::Dir(docs) = root[0].1 else {
            panic!("docs is a directory")
        };
        assert_eq!(
            image.dir(docs).unwrap(),
            [("a", Entry::File { offset: 0, len: 5 })]
        );
        assert!(image.dir(preopens[1].root).unwrap().is_empty());
    }

    #[test]
    fn the_same_config_gives_the_same_bytes() {
        let mut shuffled = sample();
        shuffled.preopens[0].entries.reverse();
        assert_eq!(sample().encode(), shuffled.encode());
    }

    #[test]
    fn bad_images_are_refused_not_misread() {
        assert_eq!(Image::parse(b"nope").unwrap_err(), Error::Magic);
        let mut bytes = sample().encode();
        bytes[4] = 9;
        assert_eq!(Image::parse(&bytes).unwrap_err(), Error::Version(9));
        let bytes = sample().encode();
        let image = Image::parse(&bytes[..40]).unwrap();
        assert_eq!(image.args().unwrap_err(), Error::Corrupt);
        assert!(Error::Version(9).to_string().contains("version 9"));
    }

    #[test]
    fn links_may_not_leave_their_folder() {
        assert!(link_stays_inside(0, "a/b"));
        assert!(link_stays_inside(1, "../b"));
        assert!(link_stays_inside(0, "a/../b"));
        assert!(!link_stays_inside(0, "../b"));
        assert!(!link_stays_inside(1, "../../b"));
        assert!(!link_stays_inside(3, "/etc/passwd"));
        assert!(!link_stays_inside(0, "a/../../b"));
    }
}
