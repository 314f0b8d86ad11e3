//! Reserved import and export names shared by the macros and the CLI.
//!
//! A guest talks to the CLI only through these names and the [manifest]
//! (crate::manifest); the CLI never guesses from other names.

use alloc::format;
use alloc::string::String;

/// The target name a guest uses for its own WASI imports (`plug_fs!(FS, self)`).
pub const SELF_TARGET: &str = "self";

/// Every export whose name starts with this is internal to the merge and is
/// removed from the output.
pub const INTERNAL_EXPORT_PREFIX: &str = "__wasi_virt/";

/// The guest export that implements `function` for `target`:
/// `__wasi_virt/plug/<target>/<function>`.
pub fn plug_export(target: &str, function: &str) -> String {
    format!("{INTERNAL_EXPORT_PREFIX}plug/{target}/{function}")
}

/// The import module of a target's memory bridge:
/// `wasi-virt:bridge/<target>`, with the functions below.
pub fn bridge_module(target: &str) -> String {
    format!("wasi-virt:bridge/{target}")
}

/// `() -> i32`: the target memory's current size in 64 KiB pages.
pub const BRIDGE_SIZE: &str = "size";
/// `(guest_dst: i32, target_src: i32, len: i32)`: one `memory.copy` from the
/// target's memory into the guest's. The guest checks bounds before calling.
pub const BRIDGE_READ: &str = "read";
/// `(target_dst: i32, guest_src: i32, len: i32)`: one `memory.copy` from the
/// guest's memory into the target's. The guest checks bounds before calling.
pub const BRIDGE_WRITE: &str = "write";
/// `(target_dst: i32, value: i32, len: i32)`: one `memory.fill` of the
/// target's memory. The guest checks bounds before calling.
pub const BRIDGE_FILL: &str = "fill";

/// The import module through which a guest calls a target's exports
/// (`_start`, `_initialize`, or any other): `wasi-virt:target/<target>`,
/// each import named as the export it calls.
pub fn target_module(target: &str) -> String {
    format!("wasi-virt:target/{target}")
}

/// Splits `wasi-virt:bridge/<target>` into its target name.
pub fn parse_bridge_module(module: &str) -> Option<&str> {
    module.strip_prefix("wasi-virt:bridge/")
}

/// Splits `wasi-virt:target/<target>` into its target name.
pub fn parse_target_module(module: &str) -> Option<&str> {
    module.strip_prefix("wasi-virt:target/")
}

/// The import module through which a guest controls a target's runs:
/// `wasi-virt:control/<target>`, with the functions below. The CLI generates
/// them; they exist for every target, wrapped (`wrap_unreachable!`) or not.
pub fn control_module(target: &str) -> String {
    format!("wasi-virt:control/{target}")
}

/// Splits `wasi-virt:control/<target>` into its target name.
pub fn parse_control_module(module: &str) -> Option<&str> {
    module.strip_prefix("wasi-virt:control/")
}

/// `(code: i32) -> i32`: asks the target to unwind back to the guest call
/// that entered it, with exit code `code`. Returns 1 when the target is
/// unwinding and the caller must return to it (`--unwind flags`); 0 when it
/// cannot unwind (the target is not wrapped, or no call into it is under
/// way), and the caller must stop the program itself. Under
/// `--unwind exceptions` it does not return when it unwinds.
pub const CONTROL_UNWIND: &str = "unwind";
/// `() -> i64`: how the guest's last call into the target ended: the exit
/// code (0 to `u32::MAX`) when it unwound, -1 when it returned.
pub const CONTROL_EXIT_CODE: &str = "exit_code";
/// `()`: puts the target back into its initial state: memory (contents and
/// the size the program sees), mutable globals, tables; then runs its start
/// function, if it has one, as instantiation does.
pub const CONTROL_RESET: &str = "reset";

/// The exit code a wrapped target unwinds with when it executes
/// `unreachable` (a Rust panic, C's `abort()`, `__builtin_trap()`): 134,
/// the status the wasmtime CLI exits with on a trap (128 + SIGABRT).
pub const TRAP_EXIT_CODE: u32 = 134;

/// Whether `name` can name a target: a Rust identifier (ASCII), so that
/// it spells the same in `import_wasm!`, on the command line and in names.
pub fn is_valid_target_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The import module of host passthrough (`HostClock`, `HostRandom`,
/// inherited stdio). The CLI renames it to `wasi_snapshot_preview1` in the
/// output, so that it is never confused with the guest's own WASI imports
/// (which `plug_*!(…, self)` rewires into the guest itself).
pub const PASSTHROUGH_MODULE: &str = "wasi-virt:passthrough";

/// Exports of the runtime's host API (feature `host-api`): how a host that
/// runs a merged module reads the exit code and captured stdio.
pub mod host_api {
    /// `() -> i32`: the code the program passed to `proc_exit`, or -1.
    pub const EXIT_CODE: &str = "wasi_virt_exit_code";
    /// `() -> i32`: address of the captured stdout in the exported `memory`.
    pub const STDOUT_PTR: &str = "wasi_virt_stdout_ptr";
    /// `() -> i32`: length of the captured stdout.
    pub const STDOUT_LEN: &str = "wasi_virt_stdout_len";
    /// `() -> i32`: address of the captured stderr in the exported `memory`.
    pub const STDERR_PTR: &str = "wasi_virt_stderr_ptr";
    /// `() -> i32`: length of the captured stderr.
    pub const STDERR_LEN: &str = "wasi_virt_stderr_len";
    /// `()`: clears captured stdio and the exit code before another run.
    pub const CLEAR: &str = "wasi_virt_clear";
    /// `(len: i32) -> i32`: allocates `len` bytes of guest memory for the host.
    pub const ALLOC: &str = "wasi_virt_alloc";
    /// `(ptr: i32, len: i32)`: frees what `wasi_virt_alloc` gave.
    pub const FREE: &str = "wasi_virt_free";
    /// `(ptr: i32, len: i32)`: sets what the program reads from stdin.
    pub const SET_STDIN: &str = "wasi_virt_set_stdin";
    /// `(ptr: i32, len: i32) -> i32`: replaces the arguments (argv[0]
    /// included) with the NUL-terminated strings at `ptr..ptr+len`; 0, or an
    /// errno. From `export_host_api!`.
    pub const SET_ARGS: &str = "wasi_virt_set_args";
    /// `(ptr: i32, len: i32) -> i32`: replaces the environment with the
    /// NUL-terminated `KEY=VALUE` strings at `ptr..ptr+len`, as `SET_ARGS`.
    pub const SET_ENV: &str = "wasi_virt_set_env";
    /// `(path_ptr: i32, path_len: i32, ptr: i32, len: i32) -> i32`: writes a
    /// file at a guest path (e.g. `/data/in.txt`), creating it and its
    /// missing parent directories; 0, or an errno.
    pub const WRITE_FILE: &str = "wasi_virt_write_file";
    /// `(path_ptr: i32, path_len: i32) -> i32`: reads the file at a guest
    /// path into the result buffer (`RESULT_PTR`/`RESULT_LEN`); 0, or an
    /// errno.
    pub const READ_FILE: &str = "wasi_virt_read_file";
    /// `(path_ptr: i32, path_len: i32) -> i32`: lists the directory at a
    /// guest path into the result buffer, one NUL-terminated name each,
    /// sorted; 0, or an errno.
    pub const LIST_DIR: &str = "wasi_virt_list_dir";
    /// `(path_ptr: i32, path_len: i32) -> i32`: creates the directory at a
    /// guest path and its missing parents (an existing directory is fine);
    /// 0, or an errno.
    pub const MKDIR: &str = "wasi_virt_mkdir";
    /// `(target_ptr: i32, target_len: i32, path_ptr: i32, path_len: i32) ->
    /// i32`: creates a symlink at a guest path holding the target text as
    /// given, and the path's missing parent directories; 0, or an errno
    /// (`EEXIST` if the path exists).
    pub const SYMLINK: &str = "wasi_virt_symlink";
    /// `() -> i32`: where the guest's memory starts in the exported `memory`
    /// of a single-memory output (`merge --single-memory`), which the CLI
    /// adds; a host adds it to every guest address (`STDOUT_PTR`, `ALLOC`…).
    /// A multi-memory output has no such export: the base is 0.
    pub const MEMORY_BASE: &str = "wasi_virt_memory_base";
    /// `() -> i32`: address of the result of the last `READ_FILE`/`LIST_DIR`.
    pub const RESULT_PTR: &str = "wasi_virt_result_ptr";
    /// `() -> i32`: length of that result.
    pub const RESULT_LEN: &str = "wasi_virt_result_len";
}
