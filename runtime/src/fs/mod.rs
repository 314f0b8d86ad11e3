//! The filesystem: every `fd_*`, `path_*` and `sock_*` function
//! (`plug_fs!`), including stdio on fds 0–2.

use crate::memory::Caller;
use crate::types::{Errno, Fd, Fdstat, Filesize, Filestat, Prestat, Size};

/// A filesystem (`plug_fs!`). Each method is the preview1 function of the
/// same name, with pointers left as addresses in the caller's memory and
/// results returned instead of written through out-pointers. Per-program
/// state (the fd table) is keyed by [`Caller::name`].
///
/// Every method answers `EBADF` unless implemented, as a host does for an
/// fd it never opened: a filesystem that knows only some fds (stdout and
/// stderr, say; `examples/min-guest`) implements only what they need.
#[allow(missing_docs)]
pub trait Fs {
    fn fd_advise(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _offset: u64,
        _len: u64,
        _advice: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_allocate(&self, _caller: &Caller, _fd: Fd, _offset: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_close(&self, _caller: &Caller, _fd: Fd) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_datasync(&self, _caller: &Caller, _fd: Fd) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_fdstat_get(&self, _caller: &Caller, _fd: Fd) -> Result<Fdstat, Errno> {
        Err(Errno::Badf)
    }
    /// Not a preview1 function: the host's fd behind `fd`, when `fd` is
    /// the host's own (inherited stdio), so that `poll_oneoff` asks the
    /// host whether it is ready instead of taking it as ready at once.
    fn host_fd(&self, _caller: &Caller, _fd: Fd) -> Option<crate::passthrough::HostFd> {
        None
    }
    fn fd_fdstat_set_flags(&self, _caller: &Caller, _fd: Fd, _flags: u32) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_fdstat_set_rights(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _fs_rights_base: u64,
        _fs_rights_inheriting: u64,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_filestat_get(&self, _caller: &Caller, _fd: Fd) -> Result<Filestat, Errno> {
        Err(Errno::Badf)
    }
    fn fd_filestat_set_size(&self, _caller: &Caller, _fd: Fd, _size: u64) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_filestat_set_times(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _atim: u64,
        _mtim: u64,
        _fst_flags: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_pread(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _iovs: u32,
        _iovs_len: u32,
        _offset: u64,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn fd_prestat_get(&self, _caller: &Caller, _fd: Fd) -> Result<Prestat, Errno> {
        Err(Errno::Badf)
    }
    fn fd_prestat_dir_name(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _path: u32,
        _path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_pwrite(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _iovs: u32,
        _iovs_len: u32,
        _offset: u64,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn fd_read(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _iovs: u32,
        _iovs_len: u32,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn fd_readdir(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _buf: u32,
        _buf_len: u32,
        _cookie: u64,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn fd_renumber(&self, _caller: &Caller, _fd: Fd, _to: Fd) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_seek(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _offset: i64,
        _whence: u32,
    ) -> Result<Filesize, Errno> {
        Err(Errno::Badf)
    }
    fn fd_sync(&self, _caller: &Caller, _fd: Fd) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn fd_tell(&self, _caller: &Caller, _fd: Fd) -> Result<Filesize, Errno> {
        Err(Errno::Badf)
    }
    fn fd_write(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _iovs: u32,
        _iovs_len: u32,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn path_create_directory(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _path: u32,
        _path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn path_filestat_get(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _flags: u32,
        _path: u32,
        _path_len: u32,
    ) -> Result<Filestat, Errno> {
        Err(Errno::Badf)
    }
    #[allow(clippy::too_many_arguments)]
    fn path_filestat_set_times(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _flags: u32,
        _path: u32,
        _path_len: u32,
        _atim: u64,
        _mtim: u64,
        _fst_flags: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    #[allow(clippy::too_many_arguments)]
    fn path_link(
        &self,
        _caller: &Caller,
        _old_fd: Fd,
        _old_flags: u32,
        _old_path: u32,
        _old_path_len: u32,
        _new_fd: Fd,
        _new_path: u32,
        _new_path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    #[allow(clippy::too_many_arguments)]
    fn path_open(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _dirflags: u32,
        _path: u32,
        _path_len: u32,
        _oflags: u32,
        _fs_rights_base: u64,
        _fs_rights_inheriting: u64,
        _fdflags: u32,
    ) -> Result<Fd, Errno> {
        Err(Errno::Badf)
    }
    fn path_readlink(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _path: u32,
        _path_len: u32,
        _buf: u32,
        _buf_len: u32,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn path_remove_directory(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _path: u32,
        _path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    #[allow(clippy::too_many_arguments)]
    fn path_rename(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _old_path: u32,
        _old_path_len: u32,
        _new_fd: Fd,
        _new_path: u32,
        _new_path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn path_symlink(
        &self,
        _caller: &Caller,
        _old_path: u32,
        _old_path_len: u32,
        _fd: Fd,
        _new_path: u32,
        _new_path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn path_unlink_file(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _path: u32,
        _path_len: u32,
    ) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
    fn sock_accept(&self, _caller: &Caller, _fd: Fd, _flags: u32) -> Result<Fd, Errno> {
        Err(Errno::Badf)
    }
    fn sock_recv(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _ri_data: u32,
        _ri_data_len: u32,
        _ri_flags: u32,
    ) -> Result<(Size, u16), Errno> {
        Err(Errno::Badf)
    }
    fn sock_send(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _si_data: u32,
        _si_data_len: u32,
        _si_flags: u32,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }
    fn sock_shutdown(&self, _caller: &Caller, _fd: Fd, _how: u32) -> Result<(), Errno> {
        Err(Errno::Badf)
    }
}

pub mod blob;
pub mod dump;
mod embedded;
mod fd_ops;
mod fd_table;
mod io;
mod path;
mod path_ops;
mod tree;
mod vfs;

pub use blob::{BlobFile, BlobSource, DirSource, LazyDir};
pub use embedded::EmbeddedNode;
pub use vfs::{Preopen, Vfs};

#[cfg(test)]
mod tests;
