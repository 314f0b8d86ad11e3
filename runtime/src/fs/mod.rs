//! The filesystem: every `fd_*`, `path_*` and `sock_*` function
//! (`plug_fs!`), including stdio on fds 0–2.

use crate::memory::Caller;
use crate::types::{Errno, Fd, Fdstat, Filesize, Filestat, Prestat, Size};

/// A filesystem (`plug_fs!`). Each method is the preview1 function of the
/// same name, with pointers left as addresses in the caller's memory and
/// results returned instead of written through out-pointers. Per-program
/// state (the fd table) is keyed by [`Caller::name`].
#[allow(missing_docs)]
pub trait Fs {
    fn fd_advise(
        &self,
        caller: &Caller,
        fd: Fd,
        offset: u64,
        len: u64,
        advice: u32,
    ) -> Result<(), Errno>;
    fn fd_allocate(&self, caller: &Caller, fd: Fd, offset: u64, len: u64) -> Result<(), Errno>;
    fn fd_close(&self, caller: &Caller, fd: Fd) -> Result<(), Errno>;
    fn fd_datasync(&self, caller: &Caller, fd: Fd) -> Result<(), Errno>;
    fn fd_fdstat_get(&self, caller: &Caller, fd: Fd) -> Result<Fdstat, Errno>;
    fn fd_fdstat_set_flags(&self, caller: &Caller, fd: Fd, flags: u32) -> Result<(), Errno>;
    fn fd_fdstat_set_rights(
        &self,
        caller: &Caller,
        fd: Fd,
        fs_rights_base: u64,
        fs_rights_inheriting: u64,
    ) -> Result<(), Errno>;
    fn fd_filestat_get(&self, caller: &Caller, fd: Fd) -> Result<Filestat, Errno>;
    fn fd_filestat_set_size(&self, caller: &Caller, fd: Fd, size: u64) -> Result<(), Errno>;
    fn fd_filestat_set_times(
        &self,
        caller: &Caller,
        fd: Fd,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno>;
    fn fd_pread(
        &self,
        caller: &Caller,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
    ) -> Result<Size, Errno>;
    fn fd_prestat_get(&self, caller: &Caller, fd: Fd) -> Result<Prestat, Errno>;
    fn fd_prestat_dir_name(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno>;
    fn fd_pwrite(
        &self,
        caller: &Caller,
        fd: Fd,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
    ) -> Result<Size, Errno>;
    fn fd_read(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno>;
    fn fd_readdir(
        &self,
        caller: &Caller,
        fd: Fd,
        buf: u32,
        buf_len: u32,
        cookie: u64,
    ) -> Result<Size, Errno>;
    fn fd_renumber(&self, caller: &Caller, fd: Fd, to: Fd) -> Result<(), Errno>;
    fn fd_seek(&self, caller: &Caller, fd: Fd, offset: i64, whence: u32)
    -> Result<Filesize, Errno>;
    fn fd_sync(&self, caller: &Caller, fd: Fd) -> Result<(), Errno>;
    fn fd_tell(&self, caller: &Caller, fd: Fd) -> Result<Filesize, Errno>;
    fn fd_write(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno>;
    fn path_create_directory(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno>;
    fn path_filestat_get(
        &self,
        caller: &Caller,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
    ) -> Result<Filestat, Errno>;
    #[allow(clippy::too_many_arguments)]
    fn path_filestat_set_times(
        &self,
        caller: &Caller,
        fd: Fd,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno>;
    #[allow(clippy::too_many_arguments)]
    fn path_link(
        &self,
        caller: &Caller,
        old_fd: Fd,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno>;
    #[allow(clippy::too_many_arguments)]
    fn path_open(
        &self,
        caller: &Caller,
        fd: Fd,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        fs_rights_base: u64,
        fs_rights_inheriting: u64,
        fdflags: u32,
    ) -> Result<Fd, Errno>;
    fn path_readlink(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
    ) -> Result<Size, Errno>;
    fn path_remove_directory(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno>;
    #[allow(clippy::too_many_arguments)]
    fn path_rename(
        &self,
        caller: &Caller,
        fd: Fd,
        old_path: u32,
        old_path_len: u32,
        new_fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno>;
    fn path_symlink(
        &self,
        caller: &Caller,
        old_path: u32,
        old_path_len: u32,
        fd: Fd,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno>;
    fn path_unlink_file(
        &self,
        caller: &Caller,
        fd: Fd,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno>;
    fn sock_accept(&self, caller: &Caller, fd: Fd, flags: u32) -> Result<Fd, Errno>;
    fn sock_recv(
        &self,
        caller: &Caller,
        fd: Fd,
        ri_data: u32,
        ri_data_len: u32,
        ri_flags: u32,
    ) -> Result<(Size, u16), Errno>;
    fn sock_send(
        &self,
        caller: &Caller,
        fd: Fd,
        si_data: u32,
        si_data_len: u32,
        si_flags: u32,
    ) -> Result<Size, Errno>;
    fn sock_shutdown(&self, caller: &Caller, fd: Fd, how: u32) -> Result<(), Errno>;
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
