//! The differential conformance suite: each case is one run of a test
//! program under wasmtime's host WASI on a real folder, and one run of the
//! same program merged with `examples/conformance/guest` (which embeds the
//! same folder) in wasmi with nothing linked. Stdout, the exit code and the
//! folder trees afterwards must match — except for the differences a case
//! lists, each with its reason, which must really occur (a listed difference
//! that no longer happens fails the case, so the list stays true).
//!
//! The programs (each built and merged once per test process):
//! - `raw`: `examples/conformance/raw`, preview1 called directly;
//! - `std`: `examples/conformance/std`, Rust's standard library;
//! - `c`: `examples/conformance/c/cases.c`, C on wasi-libc (Debian's clang);
//! - `unstable`: `examples/conformance/unstable`, a `wasi_unstable`
//!   (snapshot 0) program.
//!
//! The conformance table of `docs/conformance.md` is generated from the case
//! list below (`BLESS=1` rewrites it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use wasi_virt_tests::conformance::{Run, run_host, run_merged};
use wasi_virt_tests::third_party::{build_c, have_third_party, wasi_clang};
use wasi_virt_tests::{Tool, have, repo_root, wasi_virt_bin, wasm_example};

/// A test program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Program {
    Raw,
    Std,
    C,
    Unstable,
}

/// Why a difference is deliberate: a short tag for the table in
/// `docs/conformance.md`, and the reason.
#[derive(Debug)]
struct Why {
    tag: &'static str,
    text: &'static str,
}

/// A known, deliberate difference between the host run and the merged run.
#[derive(Clone, Copy, Debug)]
enum Diff {
    /// The host prints `host` where the merged program prints `virt`
    /// (whole lines; `""` for a line only the other run prints).
    Line {
        host: &'static str,
        virt: &'static str,
        why: &'static Why,
    },
    /// The host run traps where the merged run prints `virt` (a last line)
    /// and exits 0.
    HostTraps {
        virt: &'static str,
        why: &'static Why,
    },
}

impl Diff {
    fn why(&self) -> &'static Why {
        match self {
            Diff::Line { why, .. } | Diff::HostTraps { why, .. } => why,
        }
    }
}

/// One case: a program, its arguments (the first is the case name for the
/// program's dispatch), its environment, the preview1 functions it is there
/// to check, and its differences.
struct Case {
    program: Program,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    covers: &'static [&'static str],
    diffs: &'static [Diff],
}

const fn case(
    program: Program,
    args: &'static [&'static str],
    covers: &'static [&'static str],
) -> Case {
    Case {
        program,
        args,
        env: &[],
        covers,
        diffs: &[],
    }
}

impl Case {
    const fn env(self, env: &'static [(&'static str, &'static str)]) -> Case {
        Case { env, ..self }
    }
    const fn diffs(self, diffs: &'static [Diff]) -> Case {
        Case { diffs, ..self }
    }
}

use Program::*;

/// `cases! { list; name = case; … }`: one `#[test]` per case, and
/// `fn list()` returning them all (for the table in `docs/conformance.md`).
macro_rules! cases {
    ($list:ident; $($name:ident = $case:expr;)*) => {
        fn $list() -> Vec<(&'static str, Case)> {
            vec![$((stringify!($name), $case)),*]
        }
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $case);
            }
        )*
    };
}

// ---- the cases ----

/// Why wasi-virt answers where wasmtime traps.
const NO_TRAP: &Why = &Why {
    tag: "no-trap",
    text: "an argument preview1 gives no meaning (a pointer outside memory, an undefined enum or flag value) is an errno, never a trap, by design (DESIGN.md: EFAULT/EINVAL); wasmtime's wiggle layer traps",
};
const ESCAPE: &Why = &Why {
    tag: "escape",
    text: "a path leading out of its directory fd is ENOTCAPABLE by design: the capability is missing; wasmtime answers EPERM",
};
const RIGHTS: &Why = &Why {
    tag: "rights",
    text: "rights are enforced and only narrowed, as preview1 defines them; wasmtime ignores them: it answers ENOTSUP to fd_fdstat_set_rights and lets an fd do what its open mode allows",
};
const ALLOCATE: &Why = &Why {
    tag: "allocate",
    text: "fd_allocate grows the file as posix_fallocate does; wasmtime answers ENOTSUP",
};
const SYNC_FLAGS: &Why = &Why {
    tag: "sync-flags",
    text: "the sync fdflags are accepted (a memory filesystem is always in sync); wasmtime answers ENOTSUP",
};
const CPUTIME: &Why = &Why {
    tag: "cputime",
    text: "the virtual clock answers all four clock ids, CPU time included; wasmtime answers EBADF for the CPU-time clocks",
};
const VECTORED: &Why = &Why {
    tag: "vectored",
    text: "vectored I/O fills or drains every iovec, as readv/writev; wasmtime moves only the first non-empty one (a short count, which preview1 allows); the file ends the same once the program loops",
};

macro_rules! bad {
    ($list:ident; $($name:ident: $call:literal, $function:literal, $errno:literal;)*) => {
        cases! {
            $list;
            $($name = case(Raw, &["bad", $call], &[$function]).diffs(&[Diff::HostTraps {
                virt: concat!("bad ", $call, ": ", $errno),
                why: NO_TRAP,
            }]);)*
        }
    };
}

cases! {
    raw_cases;
    raw_args = case(Raw, &["args"], &["args_get", "args_sizes_get"]);
    raw_args_many = case(Raw, &["args", "x", "y", "z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], &["args_get", "args_sizes_get"]);
    raw_args_unicode_equals_empty = case(Raw, &["args", "héllo wörld", "a=b=c", "", "日本語", "--flag=", " spaced "], &["args_get", "args_sizes_get"]);
    raw_env_empty = case(Raw, &["env"], &["environ_get", "environ_sizes_get"]);
    raw_env_many = case(Raw, &["env"], &["environ_get", "environ_sizes_get"]).env(&[("A", "1"), ("B", "2"), ("C", "3"), ("D", "4"), ("E", "5"), ("F", "6"), ("G", "7"), ("H", "8"), ("I", "9"), ("J", "10"), ("K", "11"), ("L", "12")]);
    raw_env_unicode_equals_empty = case(Raw, &["env"], &["environ_get", "environ_sizes_get"]).env(&[("GRÜSSE", "grüß dich"), ("EQ", "a=b=c"), ("EMPTY", ""), ("SPACE", " x ")]);
    raw_clocks = case(Raw, &["clocks"], &["clock_res_get", "clock_time_get"]).diffs(&[
        Diff::Line { host: "clock_res_get(2) > 0: EBADF", virt: "clock_res_get(2) > 0: ok true", why: CPUTIME },
        Diff::Line { host: "clock_time_get(2) ok: EBADF", virt: "clock_time_get(2) ok: ok ()", why: CPUTIME },
        Diff::Line { host: "clock_res_get(3) > 0: EBADF", virt: "clock_res_get(3) > 0: ok true", why: CPUTIME },
        Diff::Line { host: "clock_time_get(3) ok: EBADF", virt: "clock_time_get(3) ok: ok ()", why: CPUTIME },
    ]);
    raw_random = case(Raw, &["random"], &["random_get"]);
    raw_sched_yield = case(Raw, &["sched_yield"], &["sched_yield"]);
    raw_exit_3 = case(Raw, &["exit_3"], &["proc_exit"]);
    raw_proc_raise = case(Raw, &["proc_raise"], &["proc_raise"]);
    raw_poll_no_subscriptions = case(Raw, &["poll_no_subscriptions"], &["poll_oneoff"]);
    raw_poll_clock_relative = case(Raw, &["poll_clock_relative"], &["poll_oneoff", "clock_time_get"]);
    raw_poll_clock_absolute = case(Raw, &["poll_clock_absolute"], &["poll_oneoff", "clock_time_get"]);
    raw_poll_two_clocks = case(Raw, &["poll_two_clocks"], &["poll_oneoff"]);
    raw_poll_clock_errors = case(Raw, &["poll_clock_errors"], &["poll_oneoff"]);
    raw_poll_fd_readiness = case(Raw, &["poll_fd_readiness"], &["poll_oneoff"]);
    raw_poll_fd_errors = case(Raw, &["poll_fd_errors"], &["poll_oneoff"]);
    raw_fd_read_write = case(Raw, &["fd_read_write"], &["fd_read", "fd_write", "fd_seek", "fd_tell"]);
    raw_vectored = case(Raw, &["vectored"], &["fd_read", "fd_write", "fd_pread", "fd_pwrite"]).diffs(&[
        Diff::Line { host: "first fd_write of [6, 0, 6] bytes: 6", virt: "first fd_write of [6, 0, 6] bytes: 12", why: VECTORED },
        Diff::Line { host: "first fd_pwrite of [2, 2] bytes: 2", virt: "first fd_pwrite of [2, 2] bytes: 4", why: VECTORED },
        Diff::Line { host: "first fd_read into [3, 0, 20]: ok \"ABC\"", virt: "first fd_read into [3, 0, 20]: ok \"ABCDo world\\n\"", why: VECTORED },
        Diff::Line { host: "first fd_pread into [2, 3] at 0: ok \"AB\"", virt: "first fd_pread into [2, 3] at 0: ok \"ABCDo\"", why: VECTORED },
    ]);
    raw_fd_pread_pwrite = case(Raw, &["fd_pread_pwrite"], &["fd_pread", "fd_pwrite"]);
    raw_fd_pwrite_append = case(Raw, &["fd_pwrite_append"], &["fd_pwrite", "fd_write"]);
    raw_fd_seek_tell = case(Raw, &["fd_seek_tell"], &["fd_seek", "fd_tell"]);
    raw_fd_allocate = case(Raw, &["fd_allocate"], &["fd_allocate"]).diffs(&[
        Diff::Line { host: "fd_allocate inside the file: ENOTSUP", virt: "fd_allocate inside the file: ok", why: ALLOCATE },
    ]);
    raw_fd_advise = case(Raw, &["fd_advise"], &["fd_advise"]);
    raw_fd_sync = case(Raw, &["fd_sync"], &["fd_sync", "fd_datasync"]);
    raw_fd_renumber = case(Raw, &["fd_renumber"], &["fd_renumber"]);
    raw_fd_close = case(Raw, &["fd_close"], &["fd_close", "fd_prestat_get"]);
    raw_fd_fdstat_get = case(Raw, &["fd_fdstat_get"], &["fd_fdstat_get"]);
    raw_fd_fdstat_set_flags = case(Raw, &["fd_fdstat_set_flags"], &["fd_fdstat_set_flags"]);
    raw_fd_fdstat_set_rights = case(Raw, &["fd_fdstat_set_rights"], &["fd_fdstat_set_rights"]).diffs(&[
        Diff::Line { host: "drop FD_WRITE: ENOTSUP", virt: "drop FD_WRITE: ok", why: RIGHTS },
        Diff::Line { host: "write after dropping FD_WRITE: ok 1", virt: "write after dropping FD_WRITE: EBADF", why: RIGHTS },
        Diff::Line { host: "take FD_WRITE back: ENOTSUP", virt: "take FD_WRITE back: ENOTCAPABLE", why: RIGHTS },
    ]);
    raw_fd_filestat_get = case(Raw, &["fd_filestat_get"], &["fd_filestat_get"]);
    raw_fd_filestat_set_size = case(Raw, &["fd_filestat_set_size"], &["fd_filestat_set_size"]);
    raw_fd_filestat_set_times = case(Raw, &["fd_filestat_set_times"], &["fd_filestat_set_times"]);
    raw_fd_prestat = case(Raw, &["fd_prestat"], &["fd_prestat_get", "fd_prestat_dir_name"]);
    raw_fd_readdir = case(Raw, &["fd_readdir"], &["fd_readdir"]);
    raw_fd_readdir_truncation = case(Raw, &["fd_readdir_truncation"], &["fd_readdir"]);
    raw_path_open_oflags = case(Raw, &["path_open_oflags"], &["path_open"]);
    raw_path_open_directories = case(Raw, &["path_open_directories"], &["path_open"]);
    raw_path_open_fdflags = case(Raw, &["path_open_fdflags"], &["path_open"]).diffs(&[
        Diff::Line { host: "open with DSYNC: ENOTSUP", virt: "open with DSYNC: ok type=file flags=0x2", why: SYNC_FLAGS },
        Diff::Line { host: "open with RSYNC: ENOTSUP", virt: "open with RSYNC: ok type=file flags=0x8", why: SYNC_FLAGS },
        Diff::Line { host: "open with SYNC: ENOTSUP", virt: "open with SYNC: ok type=file flags=0x10", why: SYNC_FLAGS },
    ]);
    raw_path_open_rights = case(Raw, &["path_open_rights"], &["path_open"]).diffs(&[
        Diff::Line { host: "read a no-rights fd: ok \"Wlpha\"", virt: "read a no-rights fd: EBADF", why: RIGHTS },
    ]);
    raw_path_open_symlinks = case(Raw, &["path_open_symlinks"], &["path_open"]);
    raw_path_escape = case(Raw, &["path_escape"], &["path_open", "path_symlink", "path_create_directory", "path_unlink_file", "path_rename"]).diffs(&[
        Diff::Line { host: "open ..: EPERM", virt: "open ..: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open ../x: EPERM", virt: "open ../x: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open dir/../../x: EPERM", virt: "open dir/../../x: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open /hello.txt: EPERM", virt: "open /hello.txt: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open ../hello.txt from dir: EPERM", virt: "open ../hello.txt from dir: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open esc with FOLLOW: EPERM", virt: "open esc with FOLLOW: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "open up from dir: EPERM", virt: "open up from dir: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "mkdir ../x: EPERM", virt: "mkdir ../x: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "unlink ../x: EPERM", virt: "unlink ../x: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "rename to ../x: EPERM", virt: "rename to ../x: ENOTCAPABLE", why: ESCAPE },
        Diff::Line { host: "symlink to an absolute path: EPERM", virt: "symlink to an absolute path: ENOTCAPABLE", why: ESCAPE },
    ]);
    raw_path_forms = case(Raw, &["path_forms"], &["path_open"]);
    raw_path_create_directory = case(Raw, &["path_create_directory"], &["path_create_directory"]);
    raw_path_remove_directory = case(Raw, &["path_remove_directory"], &["path_remove_directory"]);
    raw_path_unlink_file = case(Raw, &["path_unlink_file"], &["path_unlink_file"]);
    raw_path_rename_files = case(Raw, &["path_rename_files"], &["path_rename"]);
    raw_path_rename_dirs = case(Raw, &["path_rename_dirs"], &["path_rename"]);
    raw_path_link = case(Raw, &["path_link"], &["path_link"]);
    raw_path_symlink_readlink = case(Raw, &["path_symlink_readlink"], &["path_symlink", "path_readlink"]);
    raw_symlink_loops = case(Raw, &["symlink_loops"], &["path_open", "path_filestat_get", "path_symlink"]);
    raw_path_filestat_get = case(Raw, &["path_filestat_get"], &["path_filestat_get"]);
    raw_path_filestat_set_times = case(Raw, &["path_filestat_set_times"], &["path_filestat_set_times"]);
    raw_sock = case(Raw, &["sock"], &["sock_accept", "sock_recv", "sock_send", "sock_shutdown"]);
    unstable = case(Unstable, &[], &["fd_seek", "fd_tell", "fd_read", "fd_filestat_get", "path_filestat_get", "poll_oneoff", "path_open", "fd_prestat_get", "args_sizes_get", "clock_time_get", "fd_write", "proc_exit"]);
    raw_bad_environ_get = case(Raw, &["bad", "environ_get"], &["environ_get"]).env(&[("A", "1")]).diffs(&[
        Diff::HostTraps { virt: "bad environ_get: EFAULT", why: NO_TRAP },
    ]);
    raw_overlay = case(Raw, &["overlay"], &["path_open", "fd_write", "path_unlink_file", "path_rename", "fd_readdir"]);
}

cases! {
    std_cases;
    std_files = case(Std, &["files"], &["path_open", "fd_read", "fd_write", "fd_seek", "fd_filestat_set_size", "fd_filestat_get", "fd_sync", "path_unlink_file"]);
    std_dirs = case(Std, &["dirs"], &["fd_readdir", "path_create_directory", "path_remove_directory", "path_rename", "path_filestat_get"]);
    std_links = case(Std, &["links"], &["path_readlink", "path_link", "path_filestat_get", "path_unlink_file"]);
    std_errors = case(Std, &["errors"], &["path_open", "path_unlink_file", "path_remove_directory", "path_rename", "path_readlink"]);
    std_env = case(Std, &["env", "one", "two words", "ünï"], &["args_get", "args_sizes_get", "environ_get", "environ_sizes_get"]).env(&[("GREETING", "hi=there"), ("EMPTY", "")]);
    std_time = case(Std, &["time"], &["clock_time_get", "poll_oneoff"]);
    std_stdin = case(Std, &["stdin"], &["fd_read", "fd_write"]);
    std_exit = case(Std, &["exit"], &["proc_exit"]);
    std_overlay = case(Std, &["overlay"], &["path_open", "fd_write", "path_unlink_file", "path_remove_directory", "path_create_directory", "path_rename"]);
}

cases! {
    c_cases;
    c_stdio = case(C, &["stdio"], &["path_open", "fd_read", "fd_write", "fd_seek", "fd_tell", "fd_pwrite", "fd_filestat_set_size", "fd_filestat_get", "path_filestat_get", "fd_close"]);
    c_dirs = case(C, &["dirs"], &["fd_readdir", "path_create_directory", "path_remove_directory", "path_unlink_file", "path_rename"]);
    c_links = case(C, &["links"], &["path_readlink", "path_symlink", "path_link", "path_filestat_get", "path_unlink_file"]);
    c_env = case(C, &["env", "un", "deux mots", "ümlaut=1"], &["args_get", "args_sizes_get", "environ_get", "environ_sizes_get"]).env(&[("GREETING", "salut"), ("X", "a=b")]);
    c_time = case(C, &["time"], &["clock_time_get", "poll_oneoff"]);
    c_poll = case(C, &["poll"], &["poll_oneoff"]);
    c_escape = case(C, &["escape"], &["path_open"]).diffs(&[
        Diff::Line { host: "open ../x: Operation not permitted", virt: "open ../x: Capabilities insufficient", why: ESCAPE },
        Diff::Line { host: "open /dir/../../x: Operation not permitted", virt: "open /dir/../../x: Capabilities insufficient", why: ESCAPE },
    ]);
    c_exit = case(C, &["exit"], &["proc_exit"]);
    c_tty = case(C, &["tty"], &["fd_fdstat_get"]);
}

/// One case per right a function needs (`conformance-raw rights CHECK`):
/// wasi-virt refuses the call once the fd lost the right; wasmtime cannot
/// drop rights, so it makes the call. With the right, both make it.
macro_rules! rights {
    ($list:ident; $($name:ident: $check:literal, $function:literal, $right:literal, $errno:literal $(, $more:expr)?;)*) => {
        cases! {
            $list;
            $($name = case(Raw, &["rights", $check], &[$function]).diffs(&[
                Diff::Line {
                    host: concat!($check, " without ", $right, ": cannot drop it: ENOTSUP"),
                    virt: concat!($check, " without ", $right, ": ", $errno),
                    why: RIGHTS,
                },
                $($more)?
            ]);)*
        }
    };
}

rights! {
    rights_cases;
    raw_rights_path_open_trunc: "path_open_trunc", "path_open", "PATH_FILESTAT_SET_SIZE", "ENOTCAPABLE";
    raw_rights_path_open_creat: "path_open_creat", "path_open", "PATH_CREATE_FILE", "ENOTCAPABLE";
    raw_rights_path_open: "path_open", "path_open", "PATH_OPEN", "ENOTCAPABLE";
    raw_rights_path_open_dsync: "path_open_dsync", "path_open", "FD_DATASYNC", "ENOTCAPABLE",
        Diff::Line { host: "path_open_dsync with it: ENOTSUP", virt: "path_open_dsync with it: ok", why: SYNC_FLAGS };
    raw_rights_path_open_sync: "path_open_sync", "path_open", "FD_SYNC", "ENOTCAPABLE",
        Diff::Line { host: "path_open_sync with it: ENOTSUP", virt: "path_open_sync with it: ok", why: SYNC_FLAGS };
    raw_rights_fd_readdir: "fd_readdir", "fd_readdir", "FD_READDIR", "ENOTCAPABLE";
    raw_rights_path_create_directory: "path_create_directory", "path_create_directory", "PATH_CREATE_DIRECTORY", "ENOTCAPABLE";
    raw_rights_path_filestat_get: "path_filestat_get", "path_filestat_get", "PATH_FILESTAT_GET", "ENOTCAPABLE";
    raw_rights_path_filestat_set_times: "path_filestat_set_times", "path_filestat_set_times", "PATH_FILESTAT_SET_TIMES", "ENOTCAPABLE";
    raw_rights_path_link_source: "path_link_source", "path_link", "PATH_LINK_SOURCE", "ENOTCAPABLE";
    raw_rights_path_link_target: "path_link_target", "path_link", "PATH_LINK_TARGET", "ENOTCAPABLE";
    raw_rights_path_readlink: "path_readlink", "path_readlink", "PATH_READLINK", "ENOTCAPABLE";
    raw_rights_path_rename_source: "path_rename_source", "path_rename", "PATH_RENAME_SOURCE", "ENOTCAPABLE";
    raw_rights_path_rename_target: "path_rename_target", "path_rename", "PATH_RENAME_TARGET", "ENOTCAPABLE";
    raw_rights_path_symlink: "path_symlink", "path_symlink", "PATH_SYMLINK", "ENOTCAPABLE";
    raw_rights_path_remove_directory: "path_remove_directory", "path_remove_directory", "PATH_REMOVE_DIRECTORY", "ENOTCAPABLE";
    raw_rights_path_unlink_file: "path_unlink_file", "path_unlink_file", "PATH_UNLINK_FILE", "ENOTCAPABLE";
    raw_rights_fd_read: "fd_read", "fd_read", "FD_READ", "EBADF";
    raw_rights_fd_write: "fd_write", "fd_write", "FD_WRITE", "EBADF";
    raw_rights_fd_seek: "fd_seek", "fd_seek", "FD_SEEK", "ENOTCAPABLE";
    raw_rights_fd_tell: "fd_tell", "fd_tell", "FD_TELL", "ENOTCAPABLE";
    raw_rights_fd_advise: "fd_advise", "fd_advise", "FD_ADVISE", "ENOTCAPABLE";
    raw_rights_fd_allocate: "fd_allocate", "fd_allocate", "FD_ALLOCATE", "ENOTCAPABLE",
        Diff::Line { host: "fd_allocate with it: ENOTSUP", virt: "fd_allocate with it: ok", why: ALLOCATE };
    raw_rights_fd_datasync: "fd_datasync", "fd_datasync", "FD_DATASYNC", "ENOTCAPABLE";
    raw_rights_fd_sync: "fd_sync", "fd_sync", "FD_SYNC", "ENOTCAPABLE";
    raw_rights_fd_fdstat_set_flags: "fd_fdstat_set_flags", "fd_fdstat_set_flags", "FD_FDSTAT_SET_FLAGS", "ENOTCAPABLE";
    raw_rights_fd_filestat_get: "fd_filestat_get", "fd_filestat_get", "FD_FILESTAT_GET", "ENOTCAPABLE";
    raw_rights_fd_filestat_set_size: "fd_filestat_set_size", "fd_filestat_set_size", "FD_FILESTAT_SET_SIZE", "ENOTCAPABLE";
    raw_rights_fd_filestat_set_times: "fd_filestat_set_times", "fd_filestat_set_times", "FD_FILESTAT_SET_TIMES", "ENOTCAPABLE";
}

bad! {
    bad_cases;
    raw_bad_args_sizes_get: "args_sizes_get", "args_sizes_get", "EFAULT";
    raw_bad_args_get: "args_get", "args_get", "EFAULT";
    raw_bad_environ_sizes_get: "environ_sizes_get", "environ_sizes_get", "EFAULT";
    raw_bad_clock_time_get_ptr: "clock_time_get_ptr", "clock_time_get", "EFAULT";
    raw_bad_clock_res_get_ptr: "clock_res_get_ptr", "clock_res_get", "EFAULT";
    raw_bad_clock_res_get_id: "clock_res_get_id", "clock_res_get", "EINVAL";
    raw_bad_clock_time_get_id: "clock_time_get_id", "clock_time_get", "EINVAL";
    raw_bad_random_get_ptr: "random_get_ptr", "random_get", "EFAULT";
    raw_bad_random_get_len: "random_get_len", "random_get", "EFAULT";
    raw_bad_poll_events: "poll_events", "poll_oneoff", "EFAULT";
    raw_bad_poll_subscriptions: "poll_subscriptions", "poll_oneoff", "EFAULT";
    raw_bad_fd_fdstat_get_ptr: "fd_fdstat_get_ptr", "fd_fdstat_get", "EFAULT";
    raw_bad_fd_filestat_get_ptr: "fd_filestat_get_ptr", "fd_filestat_get", "EFAULT";
    raw_bad_fd_prestat_get_ptr: "fd_prestat_get_ptr", "fd_prestat_get", "EFAULT";
    raw_bad_fd_prestat_dir_name_ptr: "fd_prestat_dir_name_ptr", "fd_prestat_dir_name", "EFAULT";
    raw_bad_fd_readdir_ptr: "fd_readdir_ptr", "fd_readdir", "EFAULT";
    raw_bad_path_filestat_get_ptr: "path_filestat_get_ptr", "path_filestat_get", "EFAULT";
    raw_bad_path_open_path: "path_open_path", "path_open", "EFAULT";
    raw_bad_fd_write_buf: "fd_write_buf", "fd_write", "EFAULT";
    raw_bad_fd_read_buf: "fd_read_buf", "fd_read", "EFAULT";
    raw_bad_fd_write_iovs: "fd_write_iovs", "fd_write", "EFAULT";
    raw_bad_fd_write_nwritten: "fd_write_nwritten", "fd_write", "EFAULT";
    raw_bad_fd_seek_out: "fd_seek_out", "fd_seek", "EFAULT";
    raw_bad_fd_tell_out: "fd_tell_out", "fd_tell", "EFAULT";
    raw_bad_path_create_directory_path: "path_create_directory_path", "path_create_directory", "EFAULT";
    raw_bad_path_unlink_file_path: "path_unlink_file_path", "path_unlink_file", "EFAULT";
    raw_bad_fd_advise_advice: "fd_advise_advice", "fd_advise", "EINVAL";
    raw_bad_fd_seek_whence: "fd_seek_whence", "fd_seek", "EINVAL";
    raw_bad_fd_fdstat_set_flags_bits: "fd_fdstat_set_flags_bits", "fd_fdstat_set_flags", "EINVAL";
    raw_bad_path_open_fdflags: "path_open_fdflags", "path_open", "EINVAL";
    raw_bad_path_open_oflags: "path_open_oflags", "path_open", "EINVAL";
    raw_bad_path_open_lookupflags: "path_open_lookupflags", "path_open", "EINVAL";
    raw_bad_path_filestat_get_lookupflags: "path_filestat_get_lookupflags", "path_filestat_get", "EINVAL";
    raw_bad_fd_filestat_set_times_flags: "fd_filestat_set_times_flags", "fd_filestat_set_times", "EINVAL";
    raw_bad_path_filestat_set_times_flags: "path_filestat_set_times_flags", "path_filestat_set_times", "EINVAL";
}

// ---- running a case ----

fn program_wasm(program: Program) -> PathBuf {
    match program {
        Raw => wasm_example("conformance-raw", "wasm32-wasip1"),
        Std => wasm_example("conformance-std", "wasm32-wasip1"),
        Unstable => wasm_example("conformance-unstable", "wasm32-unknown-unknown"),
        C => {
            let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
            let out = dir.path().join("cases.wasm");
            build_c(&repo_root().join("examples/conformance/c/cases.c"), &out).unwrap();
            out
        }
    }
}

/// The merged module of `program`, built and merged once per process.
fn merged(program: Program) -> (&'static Path, &'static [u8]) {
    static MERGED: Mutex<Vec<(Program, &'static Path, &'static [u8])>> = Mutex::new(Vec::new());
    let mut merged = MERGED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path, bytes)) = merged.iter().find(|(p, _, _)| *p == program) {
        return (path, bytes);
    }
    let target = program_wasm(program);
    let guest = wasm_example("conformance-guest", "wasm32-wasip1");
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let out = dir.path().join("merged.wasm");
    let output = Command::new(wasi_virt_bin())
        .arg("merge")
        .arg(&guest)
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "merge failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes: &'static [u8] = Box::leak(std::fs::read(&out).unwrap().into_boxed_slice());
    let target: &'static Path = Box::leak(target.into_boxed_path());
    merged.push((program, target, bytes));
    (target, bytes)
}

fn check(name: &str, case: Case) {
    if !have(Tool::Wasmtime) {
        return;
    }
    if case.program == C && !have_third_party("clang for wasm32-wasi", wasi_clang().as_deref()) {
        return;
    }
    let (target, merged) = merged(case.program);
    let host = run_host(target, case.args, case.env).unwrap();
    let virt = run_merged(merged, case.args, case.env).unwrap();
    let mut expected = apply_diffs(name, &case, &host);
    // A trap's report is the engine's own wording: stderr is compared only
    // when the host run exited.
    if host.outcome.trap.is_some() {
        expected.outcome.stderr = virt.outcome.stderr.clone();
    }
    if expected != virt {
        panic!(
            "case {name}: the merged run differs from the host run\n{}",
            report(&expected, &virt)
        );
    }
}

/// The host run with the case's listed differences applied: what the
/// merged run must give. Panics if a listed difference does not occur.
fn apply_diffs(name: &str, case: &Case, host: &Run) -> Run {
    let mut expected = host.clone();
    let mut stdout = String::from_utf8_lossy(&host.outcome.stdout).into_owned();
    for diff in case.diffs {
        match *diff {
            Diff::Line {
                host: from,
                virt: to,
                ..
            } => {
                let lines: Vec<&str> = stdout.lines().collect();
                let at = lines.iter().position(|l| *l == from).unwrap_or_else(|| {
                    panic!("case {name}: the listed difference {from:?} -> {to:?} no longer occurs: the host printed\n{stdout}")
                });
                let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                if to.is_empty() {
                    lines.remove(at);
                } else {
                    lines[at] = to.to_string();
                }
                stdout = lines.iter().map(|l| format!("{l}\n")).collect();
            }
            Diff::HostTraps { virt, .. } => {
                assert!(
                    host.outcome.trap.is_some(),
                    "case {name}: the host run was listed to trap, but it did not: {:?}",
                    host.outcome
                );
                expected.outcome.trap = None;
                expected.outcome.exit_code = Some(0);
                stdout.push_str(virt);
                stdout.push('\n');
            }
        }
    }
    expected.outcome.stdout = stdout.into_bytes();
    expected
}

fn report(expected: &Run, virt: &Run) -> String {
    let mut out = String::new();
    let o = &expected.outcome;
    let v = &virt.outcome;
    if (o.exit_code, &o.trap) != (v.exit_code, &v.trap) {
        out += &format!(
            "exit: host {:?} {:?}, merged {:?} {:?}\n",
            o.exit_code, o.trap, v.exit_code, v.trap
        );
    }
    out += &diff_text("stdout", &o.stdout_text(), &v.stdout_text());
    out += &diff_text("tree /", &expected.trees[0], &virt.trees[0]);
    out += &diff_text("tree /tmp", &expected.trees[1], &virt.trees[1]);
    if !v.stderr.is_empty() {
        out += &format!("merged stderr:\n{}\n", v.stderr_text());
    }
    out
}

/// The lines of `a` and `b` that differ, side by side.
fn diff_text(what: &str, a: &str, b: &str) -> String {
    if a == b {
        return String::new();
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = format!("{what} differs (host | merged):\n");
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or("<none>"),
            b.get(i).copied().unwrap_or("<none>"),
        );
        let mark = if x == y { "  " } else { "≠ " };
        out += &format!("{mark}{x:<60} | {y}\n");
    }
    out
}

/// Every case, by test name.
fn all_cases() -> Vec<(&'static str, Case)> {
    [
        raw_cases(),
        bad_cases(),
        rights_cases(),
        std_cases(),
        c_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every reason a case gives for a difference.
const WHYS: [&Why; 7] = [
    NO_TRAP, ESCAPE, RIGHTS, ALLOCATE, SYNC_FLAGS, CPUTIME, VECTORED,
];

const NO_SOCKETS: &str =
    "no sockets: every fd is ENOTSOCK or EBADF, as wasmtime answers for an fd that is not a socket";

/// Functions that are answered, but only partly as a host would.
const PARTIAL: &[(&str, &str)] = &[
    ("sock_accept", NO_SOCKETS),
    ("sock_recv", NO_SOCKETS),
    ("sock_send", NO_SOCKETS),
    ("sock_shutdown", NO_SOCKETS),
    ("proc_raise", "no signals: ENOTSUP, as wasmtime answers"),
];

/// The conformance table of `docs/conformance.md`, from the case list.
fn conformance_table() -> String {
    let cases = all_cases();
    let mut out = String::from(
        "| function | status | cases | differences from wasmtime |\n|---|---|---|---|\n",
    );
    for f in wasi_virt_abi::preview1::FUNCTIONS {
        let covering: Vec<&Case> = cases
            .iter()
            .filter(|(_, c)| c.covers.contains(&f.name))
            .map(|(_, c)| c)
            .collect();
        let status = match PARTIAL.iter().find(|(name, _)| *name == f.name) {
            Some((_, why)) => format!("partial: {why}"),
            None if covering.is_empty() => "untested".to_owned(),
            None => "supported".to_owned(),
        };
        let mut tags: Vec<&str> = covering
            .iter()
            .flat_map(|c| c.diffs)
            .map(|d| {
                let tag = d.why().tag;
                assert!(
                    WHYS.iter().any(|w| w.tag == tag),
                    "the reason `{tag}` is not listed in WHYS, so docs/conformance.md would not explain it"
                );
                tag
            })
            .collect();
        tags.sort();
        tags.dedup();
        let tags: Vec<String> = tags.iter().map(|t| format!("[{t}](#{t})")).collect();
        out += &format!(
            "| `{}` | {status} | {} | {} |\n",
            f.name,
            covering.len(),
            tags.join(", ")
        );
    }
    out.push('\n');
    for why in WHYS {
        out += &format!(
            "- <a id=\"{}\"></a>**{}**: {}\n",
            why.tag, why.tag, why.text
        );
    }
    out
}

const START: &str = "<!-- conformance-table:start -->\n";
const END: &str = "<!-- conformance-table:end -->";

/// The conformance table of `docs/conformance.md` is generated from the
/// cases above; `BLESS=1` rewrites it.
#[test]
fn readme_conformance_table_is_generated_from_the_cases() {
    let path = repo_root().join("docs/conformance.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(START)
        .expect("docs/conformance.md lacks the conformance table start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("docs/conformance.md lacks the conformance table end marker");
    let table = conformance_table();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(
            &path,
            format!("{}{table}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        table,
        "run `BLESS=1 cargo test -p wasi-virt-tests --test conformance readme`"
    );
    assert!(
        !table.contains("untested"),
        "every function needs a case:\n{table}"
    );
}
