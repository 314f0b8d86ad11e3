//! Macros for wasi-virt guests. Use them through the `wasi-virt` crate,
//! which re-exports them: `use wasi_virt::prelude::*;`.
//!
//! Every macro is a thin wrapper around a code generator (`import::expand`,
//! `plug::expand`, `wrap::expand`, `embed::expand`) that works on `proc_macro2` tokens, so
//! the expansions are unit-tested directly. What the macros emit for the CLI
//! (export and import names, the manifest) comes from `wasi-virt-abi`, the
//! same crate the CLI reads it with.
#![deny(missing_docs)]

use proc_macro::TokenStream;
use wasi_virt_abi::Subsystem;

mod embed;
mod import;
mod plug;
mod wrap;

fn emit(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(|e| e.to_compile_error()).into()
}

/// Declares a target program the guest hosts, and what the guest calls in it.
///
/// ```ignore
/// import_wasm!(app);                          // `_start` and `_initialize`
/// import_wasm!(lib { fn add(a: i32, b: i32) -> i32; });
/// ```
///
/// Expands to a module named after the target holding:
/// - `CALLER`, the [`Caller`] the `plug_*!` shims pass for this target (its
///   name and its memory, reached through the bridge imports
///   `wasi-virt:bridge/<target>` that the CLI turns into `memory.copy`);
/// - a safe function per target export (`app::_start()`,
///   `app::_initialize()`, or those listed), imported from
///   `wasi-virt:target/<target>` and turned by the CLI into direct calls;
///   only the ones the guest calls become imports;
/// - `exit_code()`, `reset()` and (when `_start` is listed) `run()`, which
///   control the target's runs through `wasi-virt:control/<target>` (see
///   [`wrap_unreachable!`]); an export of one of these names is listed as
///   `#[link_name = "reset"] fn app_reset();`;
/// - a `target <name>` manifest record.
///
/// [`Caller`]: https://docs.rs/wasi-virt/latest/wasi_virt/memory/struct.Caller.html
#[proc_macro]
pub fn import_wasm(input: TokenStream) -> TokenStream {
    emit(import::expand(input.into()))
}

/// Keeps the guest in control of a target: the target's `proc_exit` and
/// traps (`unreachable`: a Rust panic, C's `abort()`) unwind back to the
/// guest call that entered it instead of stopping the whole module.
///
/// ```ignore
/// import_wasm!(app);
/// wrap_unreachable!(app);
///
/// let code = app::run(); // `_start`, then 0, the proc_exit code, or 134 for a trap
/// app::reset();          // ready to run again
/// ```
///
/// Every call the guest makes into the target (`_start`, `_initialize`,
/// any listed export) is an *entry*: it returns normally however the target
/// ended (with zero values for its results when it unwound), and
/// `app::exit_code()` then says how it ended. Entries nest: a target that
/// calls the guest, which calls the target again, unwinds to the innermost
/// entry. `wasi-virt merge --unwind flags|exceptions` picks how the CLI
/// rewrites the target (flags run everywhere; exceptions are smaller and
/// faster where the engine has exception handling).
///
/// Expands to one `wrap_unreachable <target>` manifest record per target.
#[proc_macro]
pub fn wrap_unreachable(input: TokenStream) -> TokenStream {
    emit(wrap::expand(input.into()))
}

macro_rules! plug_macros {
    ($($(#[$doc:meta])* $name:ident => $sub:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// `plug_xxx!(IMPL, target, …)`: `IMPL` is the path of a `static` (or
        /// a unit struct) implementing the subsystem's trait; each target is
        /// a name declared with `import_wasm!`, or `self` for the guest's own
        /// WASI imports (so that a `wasm32-wasip1` guest is import-free too).
        /// After a `;`, `function = path` replaces single functions:
        /// `path(&IMPL, caller, args…)` has the trait method's signature.
        ///
        /// Expands, for each target and function, to an exported shim
        /// `__wasi_virt/plug/<target>/<function>` with the preview1 core
        /// signature, which calls the implementation and writes its results
        /// through the out-pointers; and to one `plug` manifest record per
        /// shim.
        #[proc_macro]
        pub fn $name(input: TokenStream) -> TokenStream {
            emit(plug::expand(Subsystem::$sub, input.into()))
        }
    )*};
}

plug_macros! {
    /// Plugs the filesystem: every `fd_*`, `path_*` and `sock_*` function (trait `Fs`).
    plug_fs => Fs;
    /// Plugs `environ_get` and `environ_sizes_get` (trait `Env`).
    plug_env => Env;
    /// Plugs `args_get` and `args_sizes_get` (trait `Args`).
    plug_args => Args;
    /// Plugs `clock_res_get` and `clock_time_get` (trait `Clock`).
    plug_clock => Clock;
    /// Plugs `random_get` (trait `Random`).
    plug_random => Random;
    /// Plugs `proc_exit` and `proc_raise` (trait `Process`).
    plug_process => Process;
    /// Plugs `sched_yield` (trait `Sched`).
    plug_sched => Sched;
    /// Plugs `poll_oneoff` (trait `Poll`).
    plug_poll => Poll;
}

/// `plug!(subsystem, IMPL, target, …)`: the same as `plug_<subsystem>!`,
/// for code that picks the subsystem by name.
#[proc_macro]
pub fn plug(input: TokenStream) -> TokenStream {
    emit(plug::expand_by_name(input.into()))
}

/// Bakes a host folder into the guest at build time, as a
/// `wasi_virt::fs::EmbeddedNode::Dir` for `Preopen::new`.
///
/// ```ignore
/// static SITE: EmbeddedNode = embed_dir!("site"); // relative to Cargo.toml
/// ```
///
/// Files become `include_bytes!` (so cargo rebuilds the guest when one
/// changes; a file *added* to the folder is picked up at the next build of
/// the guest crate, e.g. after `touch src/lib.rs`). Symlinks stay symlinks;
/// one that leads out of the folder is a compile error.
#[proc_macro]
pub fn embed_dir(input: TokenStream) -> TokenStream {
    emit(embed::expand(input.into()))
}
