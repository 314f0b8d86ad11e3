//! The run-time half of the host API: a host replaces the arguments and the
//! environment, and adds or reads files, before (or between) runs of the
//! program. [`export_host_api!`](crate::export_host_api) exports it for a
//! guest's own statics:
//!
//! ```ignore
//! static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
//! static ARGS: StringList = StringList::new(&["app"]);
//! static ENV: StringList = StringList::new(&[]);
//! wasi_virt::export_host_api!(args: &ARGS, env: &ENV, fs: &FS);
//! ```
//!
//! which adds `wasi_virt_set_args`, `wasi_virt_set_env`,
//! `wasi_virt_write_file`, `wasi_virt_read_file`, `wasi_virt_list_dir`,
//! `wasi_virt_mkdir`, `wasi_virt_symlink`, `wasi_virt_result_ptr` and
//! `wasi_virt_result_len`
//! ([`wasi_virt_abi::names::host_api`]) to the exports the `host-api`
//! feature always gives (exit code, captured stdio, stdin, memory).
//!
//! Data crosses in the guest's exported `memory`: the host gets room with
//! `wasi_virt_alloc(len)`, writes into it, passes `(ptr, len)`, and frees it
//! with `wasi_virt_free`. A list (args, env) is NUL-terminated strings back
//! to back. Each function returns 0 or a preview1 errno; a file or listing
//! read is left in the result buffer until the next read.
//!
//! In JavaScript:
//!
//! ```js
//! const x = instance.exports;
//! const put = (bytes) => {
//!   const ptr = x.wasi_virt_alloc(bytes.length);
//!   new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
//!   return [ptr, bytes.length];
//! };
//! const enc = new TextEncoder();
//! x.wasi_virt_set_args(...put(enc.encode("app\0--fast\0")));
//! x.wasi_virt_write_file(...put(enc.encode("/data/in.txt")), ...put(enc.encode("hello")));
//! ```

use alloc::vec::Vec;
use core::cell::RefCell;

use crate::args::StringList;
use crate::cell::{Global, global};
use crate::fs::Vfs;
use crate::types::Errno;

/// Splits `bytes` into its NUL-terminated strings (a last string without
/// its NUL counts too).
pub fn split_nul(bytes: &[u8]) -> Vec<&[u8]> {
    nul_body(bytes).map_or_else(Vec::new, |body| body.split(|&b| b == 0).collect())
}

/// `bytes` without its last NUL; `None` for no strings at all.
fn nul_body(bytes: &[u8]) -> Option<&[u8]> {
    (!bytes.is_empty()).then(|| bytes.strip_suffix(b"\0").unwrap_or(bytes))
}

/// The bytes the host passed as `(ptr, len)` in the guest's memory.
///
/// # Safety
///
/// `ptr..ptr+len` must be guest memory the host filled (after
/// `wasi_virt_alloc`), not changed while the slice lives.
pub unsafe fn host_bytes<'a>(ptr: i32, len: i32) -> &'a [u8] {
    if len <= 0 {
        return &[];
    }
    // SAFETY: as promised by the caller.
    unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
}

fn code(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => i32::from(e.raw()),
    }
}

fn path(bytes: &[u8]) -> Result<&str, Errno> {
    core::str::from_utf8(bytes).map_err(|_| Errno::Ilseq)
}

/// Replaces `list` with the NUL-terminated strings in `bytes`.
pub fn set_list(list: &StringList, bytes: &[u8]) -> i32 {
    // One loop, not `list.set(split_nul(bytes))`: the host API is in every
    // packed module, and that path is 600 bytes more.
    let mut items = Vec::new();
    if let Some(body) = nul_body(bytes) {
        for item in body.split(|&b| b == 0) {
            items.push(item.to_vec());
        }
    }
    list.replace(items);
    0
}

/// Writes `bytes` to the file at guest path `path`, creating it and its
/// missing parent directories.
pub fn write_file(fs: &Vfs, path_bytes: &[u8], bytes: &[u8]) -> i32 {
    code(with_parents(fs, path_bytes).and_then(|path| fs.write_file(path, bytes)))
}

/// Creates a symlink at guest path `path` holding `target`, and the missing
/// parent directories of `path`.
pub fn symlink(fs: &Vfs, target_bytes: &[u8], path_bytes: &[u8]) -> i32 {
    code(path(target_bytes).and_then(|target| fs.symlink(target, with_parents(fs, path_bytes)?)))
}

/// The guest path in `path_bytes`, its missing parent directories created.
/// Not inlined: every guest carries the host API, so it is kept small.
#[inline(never)]
fn with_parents<'a>(fs: &Vfs, path_bytes: &'a [u8]) -> Result<&'a str, Errno> {
    let path = path(path_bytes)?;
    if let Some((parent, _)) = path.trim_end_matches('/').rsplit_once('/')
        && !parent.is_empty()
    {
        fs.create_dir_all(parent)?;
    }
    Ok(path)
}

/// Reads the file at guest path `path` into the result buffer.
pub fn read_file(fs: &Vfs, path_bytes: &[u8]) -> i32 {
    code(
        path(path_bytes)
            .and_then(|path| fs.read_file(path))
            .map(|bytes| RESULT.set(bytes)),
    )
}

/// Creates the directory at guest path `path` and its missing parents.
pub fn mkdir(fs: &Vfs, path_bytes: &[u8]) -> i32 {
    code(path(path_bytes).and_then(|path| fs.create_dir_all(path)))
}

/// Lists the directory at guest path `path` into the result buffer: each
/// name followed by a NUL, sorted.
pub fn list_dir(fs: &Vfs, path_bytes: &[u8]) -> i32 {
    code(
        path(path_bytes)
            .and_then(|path| fs.list_dir_nul(path))
            .map(|names| RESULT.set(names)),
    )
}

/// The result buffer: what the last [`read_file`] or [`list_dir`] gave
/// ([`RESULT`], one per instance; one per thread off wasm, see
/// [`crate::cell`]).
pub struct ResultBuffer(Global<RefCell<Vec<u8>>>);

impl ResultBuffer {
    /// Address and length in the guest's memory (valid until the next read).
    pub fn raw_parts(&self) -> (usize, usize) {
        self.0.with(|b| {
            let b = b.borrow();
            (b.as_ptr() as usize, b.len())
        })
    }

    /// A copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.with(|b| b.borrow().clone())
    }

    fn set(&self, bytes: Vec<u8>) {
        self.0.with(|b| *b.borrow_mut() = bytes);
    }
}

/// The result of the last [`read_file`] or [`list_dir`].
pub static RESULT: ResultBuffer =
    ResultBuffer(global!(RefCell<Vec<u8>> = RefCell::new(Vec::new())));

/// Exports the run-time host API (see [the module](crate::host)) for a
/// guest's args, env and filesystem. Each argument is an expression
/// evaluated at every call, giving a `&StringList` (args, env) or a `&Vfs`
/// (fs): a `&STATIC`, or a function that sets its state up on first use.
///
/// Expands to nine `extern "C"` functions exported under the names of
/// [`wasi_virt_abi::names::host_api`] (`SET_ARGS` … `RESULT_LEN`).
#[macro_export]
macro_rules! export_host_api {
    (args: $args:expr, env: $env:expr, fs: $fs:expr $(,)?) => {
        const _: () = {
            #[unsafe(export_name = "wasi_virt_set_args")]
            extern "C" fn __wasi_virt_set_args(ptr: i32, len: i32) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let bytes = unsafe { $crate::host::host_bytes(ptr, len) };
                $crate::host::set_list($args, bytes)
            }

            #[unsafe(export_name = "wasi_virt_set_env")]
            extern "C" fn __wasi_virt_set_env(ptr: i32, len: i32) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let bytes = unsafe { $crate::host::host_bytes(ptr, len) };
                $crate::host::set_list($env, bytes)
            }

            #[unsafe(export_name = "wasi_virt_write_file")]
            extern "C" fn __wasi_virt_write_file(
                path_ptr: i32,
                path_len: i32,
                ptr: i32,
                len: i32,
            ) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let (path, bytes) = unsafe {
                    (
                        $crate::host::host_bytes(path_ptr, path_len),
                        $crate::host::host_bytes(ptr, len),
                    )
                };
                $crate::host::write_file($fs, path, bytes)
            }

            #[unsafe(export_name = "wasi_virt_read_file")]
            extern "C" fn __wasi_virt_read_file(path_ptr: i32, path_len: i32) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let path = unsafe { $crate::host::host_bytes(path_ptr, path_len) };
                $crate::host::read_file($fs, path)
            }

            #[unsafe(export_name = "wasi_virt_list_dir")]
            extern "C" fn __wasi_virt_list_dir(path_ptr: i32, path_len: i32) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let path = unsafe { $crate::host::host_bytes(path_ptr, path_len) };
                $crate::host::list_dir($fs, path)
            }

            #[unsafe(export_name = "wasi_virt_mkdir")]
            extern "C" fn __wasi_virt_mkdir(path_ptr: i32, path_len: i32) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let path = unsafe { $crate::host::host_bytes(path_ptr, path_len) };
                $crate::host::mkdir($fs, path)
            }

            #[unsafe(export_name = "wasi_virt_symlink")]
            extern "C" fn __wasi_virt_symlink(
                target_ptr: i32,
                target_len: i32,
                path_ptr: i32,
                path_len: i32,
            ) -> i32 {
                // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
                let (target, path) = unsafe {
                    (
                        $crate::host::host_bytes(target_ptr, target_len),
                        $crate::host::host_bytes(path_ptr, path_len),
                    )
                };
                $crate::host::symlink($fs, target, path)
            }

            #[unsafe(export_name = "wasi_virt_result_ptr")]
            extern "C" fn __wasi_virt_result_ptr() -> i32 {
                $crate::host::RESULT.raw_parts().0 as i32
            }

            #[unsafe(export_name = "wasi_virt_result_len")]
            extern "C" fn __wasi_virt_result_len() -> i32 {
                $crate::host::RESULT.raw_parts().1 as i32
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{EmbeddedNode, Preopen};
    use crate::stdio::StdioConfig;

    static SITE: EmbeddedNode = EmbeddedNode::Dir(&[("a.txt", EmbeddedNode::File(b"a"))]);
    static PREOPENS: [Preopen; 2] = [Preopen::new("/", &SITE), Preopen::empty("/data")];

    #[test]
    fn lists_are_nul_terminated_strings() {
        assert_eq!(split_nul(b"a\0bc\0"), [&b"a"[..], b"bc"]);
        assert_eq!(split_nul(b"a\0bc"), [&b"a"[..], b"bc"]);
        assert_eq!(split_nul(b"\0"), [&b""[..]]);
        assert!(split_nul(b"").is_empty());
        let list = StringList::new(&["x"]);
        assert_eq!(set_list(&list, b"app\0--v\0"), 0);
        list.with_items(|items| assert_eq!(items.collect::<Vec<_>>(), [&b"app"[..], b"--v"]));
    }

    #[test]
    fn files_are_written_with_their_folders_read_and_listed() {
        let fs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
        assert_eq!(write_file(&fs, b"/data/in/deep.txt", b"deep"), 0);
        assert_eq!(read_file(&fs, b"/data/in/deep.txt"), 0);
        assert_eq!(RESULT.to_vec(), b"deep");
        assert_eq!(list_dir(&fs, b"/"), 0);
        assert_eq!(RESULT.to_vec(), b"a.txt\0");
        assert_eq!(list_dir(&fs, b"/data"), 0);
        assert_eq!(RESULT.to_vec(), b"in\0");
        let noent = i32::from(Errno::Noent.raw());
        assert_eq!(read_file(&fs, b"/missing"), noent);
        assert_eq!(list_dir(&fs, b"/a.txt"), i32::from(Errno::Notdir.raw()));
        assert_eq!(read_file(&fs, b"\xff"), i32::from(Errno::Ilseq.raw()));
        assert_eq!(mkdir(&fs, b"/data/made/deeper"), 0);
        assert_eq!(
            mkdir(&fs, b"/data/made"),
            0,
            "an existing directory is fine"
        );
        assert_eq!(list_dir(&fs, b"/data/made"), 0);
        assert_eq!(RESULT.to_vec(), b"deeper\0");
    }

    #[test]
    fn symlinks_hold_their_text_and_are_followed_by_reads() {
        let fs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
        assert_eq!(write_file(&fs, b"/data/real.txt", b"real"), 0);
        assert_eq!(symlink(&fs, b"../real.txt", b"/data/links/up"), 0);
        assert_eq!(read_file(&fs, b"/data/links/up"), 0);
        assert_eq!(RESULT.to_vec(), b"real");
        let stat = fs.lstat("/data/links/up").unwrap();
        assert_eq!(stat.filetype, crate::types::Filetype::SymbolicLink);
        assert_eq!(stat.size, 11, "the link's text, as given");
        // Any text, as `ln -s` writes it: the program's reading of it decides.
        assert_eq!(symlink(&fs, b"/etc/passwd", b"/data/abs"), 0);
        let exist = i32::from(Errno::Exist.raw());
        assert_eq!(symlink(&fs, b"x", b"/data/real.txt"), exist);
        assert_eq!(
            symlink(&fs, b"", b"/data/empty"),
            i32::from(Errno::Noent.raw())
        );
    }
}
