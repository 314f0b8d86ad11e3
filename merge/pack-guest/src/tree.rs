//! The mounted folders: directories decoded from the config image when
//! first looked into, files read from the blob.

use alloc::vec::Vec;
use core::cell::RefCell;

use wasi_virt::abi::pack::Entry;
use wasi_virt::fs::{BlobFile, BlobSource, DirSource, EmbeddedNode, LazyDir};
use wasi_virt::memory::Caller;
use wasi_virt::{Errno, OneThread};

use crate::state::state;

#[link(wasm_import_module = "wasi-virt:pack")]
unsafe extern "C" {
    #[link_name = "blob_read_to_target"]
    fn blob_read_to_target(dst: u32, offset: u32, len: u32);
    #[link_name = "blob_read_to_guest"]
    fn blob_read_to_guest(dst: *mut u8, offset: u32, len: u32);
}

const _: () = {
    use wasi_virt::abi::pack;
    assert!(matches!(
        pack::BLOB_TO_TARGET.as_bytes(),
        b"blob_read_to_target"
    ));
    assert!(matches!(
        pack::BLOB_TO_GUEST.as_bytes(),
        b"blob_read_to_guest"
    ));
};

/// The blob: the data segment holding every mounted file's bytes.
pub struct PackBlob;

/// The one blob.
pub static BLOB: PackBlob = PackBlob;

impl BlobSource for PackBlob {
    fn read_to(&self, caller: &Caller, dst: u32, offset: u32, len: u32) -> Result<(), Errno> {
        // SAFETY: the Vfs checked `dst..dst+len` against the caller's memory
        // and `offset..offset+len` lies in a file the image placed in the
        // blob; `pack` implements both as one `memory.init`.
        unsafe {
            if caller.name == crate::app::CALLER.name {
                blob_read_to_target(dst, offset, len);
            } else {
                blob_read_to_guest(dst as usize as *mut u8, offset, len);
            }
        }
        Ok(())
    }

    fn read(&self, offset: u32, buf: &mut [u8]) {
        // SAFETY: `buf` is guest memory of the given length; the range of
        // the blob lies in one file.
        unsafe { blob_read_to_guest(buf.as_mut_ptr(), offset, buf.len() as u32) }
    }
}

/// Lists directories from the config image, each once: the lists are
/// kept (and never freed), so that `Vfs::reset` does not decode again;
/// sorted by id, for a binary search.
#[allow(clippy::type_complexity)]
pub struct PackDirs(OneThread<RefCell<Vec<(u32, &'static [(&'static str, EmbeddedNode)])>>>);

/// The directories of the config image.
pub static DIRS: PackDirs = PackDirs(OneThread::new(RefCell::new(Vec::new())));

impl DirSource for PackDirs {
    fn entries(&self, id: u32) -> &'static [(&'static str, EmbeddedNode)] {
        let at = {
            let dirs = self.0.borrow();
            match dirs.binary_search_by_key(&id, |&(id, _)| id) {
                Ok(at) => return dirs[at].1,
                Err(at) => at,
            }
        };
        let image = state().image;
        let entries: Vec<(&'static str, EmbeddedNode)> = image
            .dir(id)
            .unwrap_or_else(|e| panic!("wasi-virt pack guest: {e}"))
            .into_iter()
            .map(|(name, entry)| {
                let node = match entry {
                    Entry::File { offset, len } => EmbeddedNode::Blob(BlobFile {
                        source: &BLOB,
                        offset,
                        len,
                    }),
                    Entry::Dir(record) => EmbeddedNode::Lazy(LazyDir {
                        source: &DIRS,
                        id: record,
                    }),
                    Entry::Symlink(target) => EmbeddedNode::Symlink(target),
                };
                (name, node)
            })
            .collect();
        let entries: &'static [_] = entries.leak();
        self.0.borrow_mut().insert(at, (id, entries));
        entries
    }
}
