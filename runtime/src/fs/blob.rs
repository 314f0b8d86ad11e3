//! Trees decided after the guest is built: files whose bytes live outside
//! the guest's memory (in a *blob*) and directories listed on demand.
//!
//! `embed_dir!` bakes a folder into the guest at build time. `wasi-virt
//! pack` cannot: its default guest is built once and ships inside the CLI.
//! There the files' bytes sit in a passive data segment of the output and
//! the tree's shape in a config image; a guest describes them with
//! [`EmbeddedNode::Blob`] and [`EmbeddedNode::Lazy`], and the [`Vfs`] reads
//! them like any embedded tree:
//! - a read copies straight from the blob into the caller's buffer, one
//!   [`BlobSource::read_to`] per iovec (one `memory.init` in a packed
//!   output): no copy at start-up, none through the guest;
//! - the first write copies the file up into an owned buffer
//!   ([`BlobSource::read`]), as for embedded bytes: the blob never changes;
//! - a directory's entries are asked for ([`DirSource::entries`]) only when
//!   it is first looked into (not when its parent is).
//!
//! [`Vfs`]: super::Vfs

use core::fmt;

use super::EmbeddedNode;
use crate::memory::Caller;
use crate::types::Errno;

/// Where blob-backed files' bytes come from.
pub trait BlobSource: Sync {
    /// Copies `len` bytes at `offset` of the blob into `caller`'s memory at
    /// `dst`. The range `dst..dst+len` of the caller's memory has been
    /// checked, and `offset..offset+len` lies inside a file of the blob.
    fn read_to(&self, caller: &Caller, dst: u32, offset: u32, len: u32) -> Result<(), Errno>;
    /// Copies `buf.len()` bytes at `offset` of the blob into `buf` (guest
    /// memory).
    fn read(&self, offset: u32, buf: &mut [u8]);
}

/// A file whose bytes are `len` bytes at `offset` of a [`BlobSource`].
#[derive(Clone, Copy)]
pub struct BlobFile {
    /// Where the bytes are.
    pub source: &'static dyn BlobSource,
    /// Where they start.
    pub offset: u32,
    /// How many there are.
    pub len: u32,
}

impl fmt::Debug for BlobFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobFile({}+{})", self.offset, self.len)
    }
}

/// Lists directories on demand.
pub trait DirSource: Sync {
    /// The entries of directory `id`, sorted by name, without `.` and `..`.
    /// Called when the directory is first looked into, and again when it
    /// is `stat`ed (its link count) or tested for emptiness before that,
    /// and after [`Vfs::reset`]: a source should cache what it returns (it
    /// is never freed), as `pack`'s guest does.
    ///
    /// [`Vfs::reset`]: super::Vfs::reset
    fn entries(&self, id: u32) -> &'static [(&'static str, EmbeddedNode)];
}

/// A directory whose entries a [`DirSource`] gives when first needed.
#[derive(Clone, Copy)]
pub struct LazyDir {
    /// Who lists it.
    pub source: &'static dyn DirSource,
    /// Which directory it is, for the source.
    pub id: u32,
}

impl fmt::Debug for LazyDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LazyDir({})", self.id)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use std::sync::Mutex;

    use super::*;
    use crate::fs::{Fs, Preopen, Vfs};
    use crate::memory::testing::FAKE_CALLER;
    use crate::stdio::StdioConfig;
    use crate::types::{lookupflags, rights};

    /// A blob in guest memory, counting the copies into a caller. (A
    /// source is `Sync`; off wasm a `OneThread` is not, so a lock.)
    struct Bytes(&'static [u8], Mutex<Vec<(u32, u32)>>);

    impl BlobSource for Bytes {
        fn read_to(&self, caller: &Caller, dst: u32, offset: u32, len: u32) -> Result<(), Errno> {
            self.1.lock().unwrap().push((offset, len));
            let (at, end) = (offset as usize, (offset + len) as usize);
            caller.memory.write(dst, &self.0[at..end])
        }
        fn read(&self, offset: u32, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0[offset as usize..offset as usize + buf.len()]);
        }
    }

    static BLOB: Bytes = Bytes(b"hello, blob!", Mutex::new(Vec::new()));

    /// Directory 0 holds `a.txt` ("hello") and directory 1, which holds
    /// `b.txt` ("blob"); it counts how often each is listed.
    struct Dirs(Mutex<[u32; 2]>);

    impl DirSource for Dirs {
        fn entries(&self, id: u32) -> &'static [(&'static str, EmbeddedNode)] {
            self.0.lock().unwrap()[id as usize] += 1;
            static ROOT: [(&str, EmbeddedNode); 2] = [
                (
                    "a.txt",
                    EmbeddedNode::Blob(BlobFile {
                        source: &BLOB,
                        offset: 0,
                        len: 5,
                    }),
                ),
                (
                    "sub",
                    EmbeddedNode::Lazy(LazyDir {
                        source: &DIRS,
                        id: 1,
                    }),
                ),
            ];
            static SUB: [(&str, EmbeddedNode); 1] = [(
                "b.txt",
                EmbeddedNode::Blob(BlobFile {
                    source: &BLOB,
                    offset: 7,
                    len: 4,
                }),
            )];
            if id == 0 { &ROOT } else { &SUB }
        }
    }

    static DIRS: Dirs = Dirs(Mutex::new([0; 2]));
    static ROOT: EmbeddedNode = EmbeddedNode::Lazy(LazyDir {
        source: &DIRS,
        id: 0,
    });
    static PREOPENS: [Preopen; 1] = [Preopen::new("/", &ROOT)];

    fn open(vfs: &Vfs, path: &str) -> u32 {
        FAKE_CALLER.memory.write(0x100, path.as_bytes()).unwrap();
        let all = rights::REGULAR_FILE;
        vfs.path_open(
            &FAKE_CALLER,
            3,
            lookupflags::SYMLINK_FOLLOW,
            0x100,
            path.len() as u32,
            0,
            all,
            all,
            0,
        )
        .unwrap()
    }

    fn read(vfs: &Vfs, fd: u32, len: u32) -> Vec<u8> {
        let mem = &FAKE_CALLER.memory;
        mem.write_u32(0x10, 0x1000).unwrap();
        mem.write_u32(0x14, len).unwrap();
        let n = vfs.fd_read(&FAKE_CALLER, fd, 0x10, 1).unwrap();
        mem.read_vec(0x1000, n).unwrap()
    }

    #[test]
    fn blob_files_read_straight_from_the_blob_and_copy_up_on_write() {
        let vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
        let fd = open(&vfs, "sub/b.txt");
        assert_eq!(
            *DIRS.0.lock().unwrap(),
            [1, 1],
            "each directory listed once"
        );
        assert_eq!(read(&vfs, fd, 100), b"blob");
        assert_eq!(read(&vfs, fd, 100), b"");
        assert_eq!(BLOB.1.lock().unwrap().as_slice(), [(7, 4)]);
        let stat = vfs.fd_filestat_get(&FAKE_CALLER, fd).unwrap();
        assert_eq!(stat.size, 4);

        // The host writes through the copy-on-write path; the blob stays.
        assert_eq!(vfs.read_file("/a.txt").unwrap(), b"hello");
        vfs.write_file("/a.txt", b"changed").unwrap();
        assert_eq!(vfs.read_file("/a.txt").unwrap(), b"changed");
        assert_eq!(BLOB.0, b"hello, blob!");
        assert_eq!(vfs.read_dir("/"), ["a.txt", "sub"]);
    }
}
