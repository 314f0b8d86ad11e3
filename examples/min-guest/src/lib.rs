//! `min-guest`: the smallest useful guest. Its target may write to stdout
//! and stderr (captured, read back through the host API) and exit; it has
//! no files, no arguments, no environment, and a clock that stands still.
//! What it adds to a program, after `wasm-opt -Oz`, is the floor of the
//! architecture: the shims, the bridge and the exit path (`cargo xtask
//! bench`, BENCHMARKS.md).

use wasi_virt::prelude::*;
use wasi_virt::stdio::Stdio;
use wasi_virt::types::{Fd, Fdstat, Filesize, Filestat, Filetype, Prestat, Size};

import_wasm!(app);

/// stdout and stderr, and nothing else.
struct StdoutOnly;

static FS: StdoutOnly = StdoutOnly;
static NONE: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(0);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, app);
plug_args!(NONE, app);
plug_env!(NONE, app);
plug_clock!(CLOCK, app);
plug_random!(RANDOM, app);
plug_poll!(POLL, app);
plug_process!(Exit, app);
plug_sched!(Yield, app);

/// Runs the program once.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}

fn is_output(fd: Fd) -> bool {
    fd == 1 || fd == 2
}

/// Every fd but 1 and 2 is unknown (`EBADF`), as it is to a program run
/// with nothing preopened and stdin closed.
impl Fs for StdoutOnly {
    fn fd_write(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        if !is_output(fd) {
            return Err(Errno::Badf);
        }
        let iovs = caller.memory.read_iovecs(iovs, iovs_len)?;
        let bytes = caller.memory.gather(&iovs)?;
        StdioConfig::CAPTURE.write(fd, &bytes).map(|n| n as Size)
    }

    fn fd_fdstat_get(&self, _caller: &Caller, fd: Fd) -> Result<Fdstat, Errno> {
        if !is_output(fd) {
            return Err(Errno::Badf);
        }
        Ok(Fdstat {
            fs_filetype: Filetype::CharacterDevice,
            fs_flags: 0,
            fs_rights_base: wasi_virt::types::rights::FD_WRITE,
            fs_rights_inheriting: 0,
        })
    }

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

    fn fd_fdstat_set_flags(&self, _caller: &Caller, _fd: Fd, _flags: u32) -> Result<(), Errno> {
        Err(Errno::Badf)
    }

    fn fd_fdstat_set_rights(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _base: u64,
        _inheriting: u64,
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
        _fd: Fd,
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
        _base: u64,
        _inheriting: u64,
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
        _data: u32,
        _data_len: u32,
        _flags: u32,
    ) -> Result<(Size, u16), Errno> {
        Err(Errno::Badf)
    }

    fn sock_send(
        &self,
        _caller: &Caller,
        _fd: Fd,
        _data: u32,
        _data_len: u32,
        _flags: u32,
    ) -> Result<Size, Errno> {
        Err(Errno::Badf)
    }

    fn sock_shutdown(&self, _caller: &Caller, _fd: Fd, _how: u32) -> Result<(), Errno> {
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
}
