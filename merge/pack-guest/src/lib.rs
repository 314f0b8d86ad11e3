//! The default guest of `wasi-virt pack`.
//!
//! `wasi-virt merge` takes a guest a user wrote; `wasi-virt pack` takes
//! this one, built once and shipped inside the CLI. It uses the same
//! built-ins as any hand-written guest (the `Vfs` with its writable layer,
//! `StringList`, `VirtualClock`/`HostClock`, `SeededRandom`/`HostRandom`,
//! `StdioConfig`, `Exit`), but nothing about them is decided at build
//! time: `pack` appends a config image and a blob of file contents to the
//! output (see `wasi_virt::abi::pack`) and this guest reads the image on
//! the program's first call ([`state`]), then each directory when the
//! program first looks into it; file bytes move from the blob into the
//! program's buffers with one `memory.init` per read.
//!
//! Every mode is compiled in (capture *and* inherited stdio, virtual *and*
//! host clock…), so the guest imports every host passthrough it could
//! need; `pack` replaces the ones the chosen configuration never calls
//! with functions that trap, and the output keeps only the rest.

// std only in `cargo clippy --all-targets`' test build (the harness needs it).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod state;
mod subsystems;
mod tree;

use wasi_virt::prelude::*;

use subsystems::{CLOCK, PackExit, RANDOM};

// The program; `app::_start()` / `app::_initialize()` run it. `pack` turns
// the one the program does not export (a command has no `_initialize`, a
// reactor no `_start`) into a trap, and hides the export below that would
// call it.
import_wasm!(app);

static POLL: VirtualPoll<subsystems::PackClock> =
    VirtualPoll::new(&CLOCK).with_fs_from(|| state::fs());

plug_fs!(*state::fs(), app);
plug_args!(*state::args(), app);
plug_env!(*state::env(), app);
plug_clock!(CLOCK, app);
plug_random!(RANDOM, app);
plug_poll!(POLL, app);
plug_process!(PackExit, app);
plug_sched!(Yield, app);

// Args, env and files, replaceable by the host before a run.
wasi_virt::export_host_api!(args: state::args(), env: state::env(), fs: state::fs());

// No std: std's allocator and panic machinery are most of what a guest
// would carry besides the filesystem. A panic here is a bug in the guest
// or a config image from another CLI version; it traps either way, as a
// std guest built with `panic = "abort"` does.
wasi_virt::no_std_guest!();

/// Runs a command (a program exporting `_start`).
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}

/// Initializes a reactor (a program exporting `_initialize`), whose other
/// exports `pack` re-exports.
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    app::_initialize();
}
