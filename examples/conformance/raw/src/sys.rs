//! The 46 preview1 imports, declared by hand so that every argument —
//! including bad pointers and flags no safe binding would let through — can
//! be passed as is.
#![allow(dead_code)]

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    pub fn args_get(argv: *mut *mut u8, argv_buf: *mut u8) -> i32;
    pub fn args_sizes_get(argc: *mut u32, argv_buf_size: *mut u32) -> i32;
    pub fn environ_get(environ: *mut *mut u8, environ_buf: *mut u8) -> i32;
    pub fn environ_sizes_get(environc: *mut u32, environ_buf_size: *mut u32) -> i32;
    pub fn clock_res_get(id: u32, out: *mut u64) -> i32;
    pub fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
    pub fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> i32;
    pub fn fd_allocate(fd: u32, offset: u64, len: u64) -> i32;
    pub fn fd_close(fd: u32) -> i32;
    pub fn fd_datasync(fd: u32) -> i32;
    pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> i32;
    pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> i32;
    pub fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32;
    pub fn fd_filestat_get(fd: u32, out: *mut u8) -> i32;
    pub fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
    pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> i32;
    pub fn fd_pread(fd: u32, iovs: *const u32, iovs_len: u32, offset: u64, n: *mut u32) -> i32;
    pub fn fd_prestat_get(fd: u32, out: *mut u8) -> i32;
    pub fn fd_prestat_dir_name(fd: u32, path: *mut u8, len: u32) -> i32;
    pub fn fd_pwrite(fd: u32, iovs: *const u32, iovs_len: u32, offset: u64, n: *mut u32) -> i32;
    pub fn fd_read(fd: u32, iovs: *const u32, iovs_len: u32, n: *mut u32) -> i32;
    pub fn fd_readdir(fd: u32, buf: *mut u8, len: u32, cookie: u64, used: *mut u32) -> i32;
    pub fn fd_renumber(fd: u32, to: u32) -> i32;
    pub fn fd_seek(fd: u32, offset: i64, whence: u32, out: *mut u64) -> i32;
    pub fn fd_sync(fd: u32) -> i32;
    pub fn fd_tell(fd: u32, out: *mut u64) -> i32;
    pub fn fd_write(fd: u32, iovs: *const u32, iovs_len: u32, n: *mut u32) -> i32;
    pub fn path_create_directory(fd: u32, path: *const u8, len: u32) -> i32;
    pub fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: u32, out: *mut u8) -> i32;
    pub fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        path: *const u8,
        len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> i32;
    pub fn path_link(
        old_fd: u32,
        old_flags: u32,
        old: *const u8,
        old_len: u32,
        new_fd: u32,
        new: *const u8,
        new_len: u32,
    ) -> i32;
    pub fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        len: u32,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        out: *mut u32,
    ) -> i32;
    pub fn path_readlink(
        fd: u32,
        path: *const u8,
        len: u32,
        buf: *mut u8,
        buf_len: u32,
        used: *mut u32,
    ) -> i32;
    pub fn path_remove_directory(fd: u32, path: *const u8, len: u32) -> i32;
    pub fn path_rename(
        fd: u32,
        old: *const u8,
        old_len: u32,
        new_fd: u32,
        new: *const u8,
        new_len: u32,
    ) -> i32;
    pub fn path_symlink(old: *const u8, old_len: u32, fd: u32, new: *const u8, new_len: u32)
    -> i32;
    pub fn path_unlink_file(fd: u32, path: *const u8, len: u32) -> i32;
    pub fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> i32;
    pub fn proc_exit(code: u32) -> !;
    pub fn proc_raise(sig: u32) -> i32;
    pub fn sched_yield() -> i32;
    pub fn random_get(buf: *mut u8, len: u32) -> i32;
    pub fn sock_accept(fd: u32, flags: u32, out: *mut u32) -> i32;
    pub fn sock_recv(
        fd: u32,
        iovs: *const u32,
        iovs_len: u32,
        flags: u32,
        n: *mut u32,
        oflags: *mut u16,
    ) -> i32;
    pub fn sock_send(fd: u32, iovs: *const u32, iovs_len: u32, flags: u32, n: *mut u32) -> i32;
    pub fn sock_shutdown(fd: u32, how: u32) -> i32;
}
