//! The one table of the 46 `wasi_snapshot_preview1` functions.
//!
//! Everything that must agree with preview1 is derived from [`FUNCTIONS`]: the
//! shims the `plug_*!` macros export, the CLI's import checks and its "which
//! `plug_*!` covers this" hints, the table in docs/conformance.md and the conformance tests.
//!
//! A function is described as the witx document describes it: its parameters
//! (each lowered to one core value) and its results, each of which the
//! preview1 ABI passes as one more trailing `i32` pointer the callee writes
//! to. Every function but `proc_exit` returns an `errno` as `i32`.

use crate::Subsystem;

/// The import module of every preview1 function.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The core type a parameter lowers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
}

/// The preview1 type of a parameter, which fixes both its core type and the
/// Rust type a trait method receives it as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// An unsigned 32-bit value: `fd`, `size`, a pointer, flags, an enum.
    U32,
    /// An unsigned 64-bit value: `filesize`, `timestamp`, `rights`, `dircookie`.
    U64,
    /// `filedelta`: the one signed 64-bit parameter (`fd_seek`'s offset).
    I64,
}

impl Param {
    /// The core type this parameter lowers to.
    pub const fn val_type(self) -> ValType {
        match self {
            Param::U32 => ValType::I32,
            Param::U64 | Param::I64 => ValType::I64,
        }
    }

    /// The Rust type a trait method receives this parameter as.
    pub const fn rust_type(self) -> &'static str {
        match self {
            Param::U32 => "u32",
            Param::U64 => "u64",
            Param::I64 => "i64",
        }
    }
}

/// A result, written through an out-pointer on success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Out {
    /// `size` (u32)
    Size,
    /// `fd` (u32)
    Fd,
    /// `filesize` (u64)
    Filesize,
    /// `timestamp` (u64)
    Timestamp,
    /// `fdstat` (24 bytes)
    Fdstat,
    /// `filestat` (64 bytes)
    Filestat,
    /// `prestat` (8 bytes)
    Prestat,
    /// `roflags` (u16)
    Roflags,
}

impl Out {
    /// The Rust type of this result, as the runtime names it.
    pub const fn rust_type(self) -> &'static str {
        match self {
            Out::Size | Out::Fd => "u32",
            Out::Filesize | Out::Timestamp => "u64",
            Out::Fdstat => "::wasi_virt::types::Fdstat",
            Out::Filestat => "::wasi_virt::types::Filestat",
            Out::Prestat => "::wasi_virt::types::Prestat",
            Out::Roflags => "u16",
        }
    }
}

/// One preview1 function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// The import name, e.g. `fd_write`.
    pub name: &'static str,
    /// The subsystem (and so the `plug_*!` macro) it belongs to.
    pub subsystem: Subsystem,
    /// Parameters, by name and type, in ABI order (before the out-pointers).
    pub params: &'static [(&'static str, Param)],
    /// Results, each passed as a trailing `i32` out-pointer.
    pub results: &'static [(&'static str, Out)],
    /// `true` for `proc_exit`, which returns nothing and never returns.
    pub noreturn: bool,
}

impl Function {
    /// The core parameter types of the import, out-pointers included.
    pub fn core_params(&self) -> impl Iterator<Item = ValType> + '_ {
        let params = self.params.iter().map(|(_, p)| p.val_type());
        params.chain(self.results.iter().map(|_| ValType::I32))
    }

    /// The core result types of the import: `[i32]` (errno), or none.
    pub fn core_results(&self) -> &'static [ValType] {
        if self.noreturn { &[] } else { &[ValType::I32] }
    }

    /// The signature as WAT would spell it, for error messages and docs.
    pub fn signature(&self) -> alloc::string::String {
        signature_text(
            &self.core_params().collect::<alloc::vec::Vec<_>>(),
            self.core_results(),
        )
    }
}

/// Formats a core signature as `(param i32 i64) (result i32)`.
pub fn signature_text(params: &[ValType], results: &[ValType]) -> alloc::string::String {
    use core::fmt::Write;
    let name = |t: &ValType| match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
    };
    let mut out = alloc::string::String::from("(param");
    for p in params {
        let _ = write!(out, " {}", name(p));
    }
    out.push_str(") (result");
    for r in results {
        let _ = write!(out, " {}", name(r));
    }
    out.push(')');
    out
}

/// Looks a function up by its import name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

macro_rules! preview1 {
    ($(
        $sub:ident $name:ident ( $($p:ident : $pt:ident),* ) -> ( $($r:ident : $rt:ident),* ) $($noreturn:ident)?;
    )*) => {
        /// All 46 preview1 functions, in the order the witx document lists them.
        pub const FUNCTIONS: &[Function] = &[$(
            Function {
                name: stringify!($name),
                subsystem: Subsystem::$sub,
                params: &[$((stringify!($p), Param::$pt)),*],
                results: &[$((stringify!($r), Out::$rt)),*],
                noreturn: preview1!(@noreturn $($noreturn)?),
            },
        )*];
    };
    (@noreturn) => { false };
    (@noreturn noreturn) => { true };
}

preview1! {
    Args args_get(argv: U32, argv_buf: U32) -> ();
    Args args_sizes_get() -> (argc: Size, argv_buf_size: Size);
    Env environ_get(environ: U32, environ_buf: U32) -> ();
    Env environ_sizes_get() -> (environc: Size, environ_buf_size: Size);
    Clock clock_res_get(id: U32) -> (resolution: Timestamp);
    Clock clock_time_get(id: U32, precision: U64) -> (time: Timestamp);
    Fs fd_advise(fd: U32, offset: U64, len: U64, advice: U32) -> ();
    Fs fd_allocate(fd: U32, offset: U64, len: U64) -> ();
    Fs fd_close(fd: U32) -> ();
    Fs fd_datasync(fd: U32) -> ();
    Fs fd_fdstat_get(fd: U32) -> (stat: Fdstat);
    Fs fd_fdstat_set_flags(fd: U32, flags: U32) -> ();
    Fs fd_fdstat_set_rights(fd: U32, fs_rights_base: U64, fs_rights_inheriting: U64) -> ();
    Fs fd_filestat_get(fd: U32) -> (stat: Filestat);
    Fs fd_filestat_set_size(fd: U32, size: U64) -> ();
    Fs fd_filestat_set_times(fd: U32, atim: U64, mtim: U64, fst_flags: U32) -> ();
    Fs fd_pread(fd: U32, iovs: U32, iovs_len: U32, offset: U64) -> (nread: Size);
    Fs fd_prestat_get(fd: U32) -> (prestat: Prestat);
    Fs fd_prestat_dir_name(fd: U32, path: U32, path_len: U32) -> ();
    Fs fd_pwrite(fd: U32, iovs: U32, iovs_len: U32, offset: U64) -> (nwritten: Size);
    Fs fd_read(fd: U32, iovs: U32, iovs_len: U32) -> (nread: Size);
    Fs fd_readdir(fd: U32, buf: U32, buf_len: U32, cookie: U64) -> (bufused: Size);
    Fs fd_renumber(fd: U32, to: U32) -> ();
    Fs fd_seek(fd: U32, offset: I64, whence: U32) -> (newoffset: Filesize);
    Fs fd_sync(fd: U32) -> ();
    Fs fd_tell(fd: U32) -> (offset: Filesize);
    Fs fd_write(fd: U32, iovs: U32, iovs_len: U32) -> (nwritten: Size);
    Fs path_create_directory(fd: U32, path: U32, path_len: U32) -> ();
    Fs path_filestat_get(fd: U32, flags: U32, path: U32, path_len: U32) -> (stat: Filestat);
    Fs path_filestat_set_times(fd: U32, flags: U32, path: U32, path_len: U32, atim: U64, mtim: U64, fst_flags: U32) -> ();
    Fs path_link(old_fd: U32, old_flags: U32, old_path: U32, old_path_len: U32, new_fd: U32, new_path: U32, new_path_len: U32) -> ();
    Fs path_open(fd: U32, dirflags: U32, path: U32, path_len: U32, oflags: U32, fs_rights_base: U64, fs_rights_inheriting: U64, fdflags: U32) -> (opened_fd: Fd);
    Fs path_readlink(fd: U32, path: U32, path_len: U32, buf: U32, buf_len: U32) -> (bufused: Size);
    Fs path_remove_directory(fd: U32, path: U32, path_len: U32) -> ();
    Fs path_rename(fd: U32, old_path: U32, old_path_len: U32, new_fd: U32, new_path: U32, new_path_len: U32) -> ();
    Fs path_symlink(old_path: U32, old_path_len: U32, fd: U32, new_path: U32, new_path_len: U32) -> ();
    Fs path_unlink_file(fd: U32, path: U32, path_len: U32) -> ();
    Poll poll_oneoff(subscriptions: U32, events: U32, nsubscriptions: U32) -> (nevents: Size);
    Process proc_exit(rval: U32) -> () noreturn;
    Process proc_raise(sig: U32) -> ();
    Sched sched_yield() -> ();
    Random random_get(buf: U32, buf_len: U32) -> ();
    Fs sock_accept(fd: U32, flags: U32) -> (opened_fd: Fd);
    Fs sock_recv(fd: U32, ri_data: U32, ri_data_len: U32, ri_flags: U32) -> (ro_datalen: Size, ro_flags: Roflags);
    Fs sock_send(fd: U32, si_data: U32, si_data_len: U32, si_flags: U32) -> (so_datalen: Size);
    Fs sock_shutdown(fd: U32, how: U32) -> ();
}

/// The table as Markdown, one row per function: the reference table in
/// docs/conformance.md is generated from this (a test keeps the two equal).
pub fn markdown_table() -> alloc::string::String {
    use core::fmt::Write;
    let mut out = alloc::string::String::from(
        "| function | plugged by | parameters | results (out-pointers) |\n|---|---|---|---|\n",
    );
    for f in FUNCTIONS {
        let params: alloc::vec::Vec<_> = f
            .params
            .iter()
            .map(|(n, t)| alloc::format!("{n}: {}", t.rust_type()))
            .collect();
        let results: alloc::vec::Vec<_> = f
            .results
            .iter()
            .map(|(n, t)| alloc::format!("{n}: {t:?}"))
            .collect();
        let results = if f.noreturn {
            "never returns".into()
        } else {
            results.join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            f.name,
            f.subsystem,
            params.join(", "),
            results
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_46_distinct_functions() {
        assert_eq!(FUNCTIONS.len(), 46);
        let mut names: alloc::vec::Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 46);
    }

    #[test]
    fn signatures_match_preview1() {
        let sig = |n: &str| function(n).unwrap().signature();
        assert_eq!(sig("fd_write"), "(param i32 i32 i32 i32) (result i32)");
        assert_eq!(sig("fd_seek"), "(param i32 i64 i32 i32) (result i32)");
        assert_eq!(
            sig("path_open"),
            "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)"
        );
        assert_eq!(sig("proc_exit"), "(param i32) (result)");
        assert_eq!(
            sig("sock_recv"),
            "(param i32 i32 i32 i32 i32 i32) (result i32)"
        );
        assert_eq!(sig("clock_time_get"), "(param i32 i64 i32) (result i32)");
        assert_eq!(sig("sched_yield"), "(param) (result i32)");
    }
}
