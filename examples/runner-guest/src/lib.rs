//! `runner-guest`: a guest that stays in control of its program.
//!
//! It hosts one program, `app`, under `wrap_unreachable!`: when the program
//! calls `proc_exit` or traps (a Rust panic, C's `abort()`), control comes
//! back here with its exit code instead of the whole module stopping, and
//! `app::reset()` makes the program ready to run again in the same
//! instance.
//!
//! - `_start` runs the program once, as a command: its output, then a line
//!   `runner: app exited with code N` on stderr; the module's exit code
//!   (`wasi_virt_exit_code`) is the program's.
//! - `runner_run() -> i32` runs it once more and returns its exit code;
//!   `runner_reset()` first puts it, and what this guest keeps for it, back
//!   to the start: a host runs the program as often as it likes, with other
//!   arguments, environment and files each time (`wasi_virt_set_args`,
//!   `wasi_virt_set_env`, `wasi_virt_write_file`: `export_host_api!`).
//! - `runner_reset_keep_files()` resets the program and its fds but keeps
//!   the files it wrote.
//!
//! ```text
//! cargo build --release --target wasm32-wasip1 -p runner-guest -p unwind-app
//! wasi-virt merge runner_guest.wasm unwind-app.wasm -o run.wasm [--unwind exceptions]
//! ```

use wasi_virt::fs::{Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(app);
wrap_unreachable!(app);

static PREOPENS: [Preopen; 1] = [Preopen::empty("/data")];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["app"]);
static ENV: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(42);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, app, self);
plug_args!(ARGS, app, self);
plug_env!(ENV, app, self);
plug_clock!(CLOCK, app, self);
plug_random!(RANDOM, app, self);
plug_poll!(POLL, app, self);
plug_process!(Exit, app, self);
plug_sched!(Yield, app, self);

wasi_virt::export_host_api!(args: &ARGS, env: &ENV, fs: &FS);

/// Runs the program once and reports how it ended.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let code = app::run();
    let line = format!("runner: app exited with code {code}\n");
    let _ = StdioConfig::CAPTURE.write(2, line.as_bytes());
    wasi_virt::process::set_exit_code(code);
}

/// Runs the program once more (after [`runner_reset`], for a fresh start)
/// and returns its exit code: 0 if it returned, the code it passed to
/// `proc_exit`, or 134 if it trapped.
#[unsafe(no_mangle)]
pub extern "C" fn runner_run() -> i32 {
    app::run() as i32
}

/// Puts everything back as in a fresh instance: the program's memory,
/// globals and tables (`app::reset`), the filesystem (files and fds), the
/// clock, the random numbers, the arguments and the environment.
#[unsafe(no_mangle)]
pub extern "C" fn runner_reset() {
    app::reset();
    FS.reset();
    CLOCK.reset();
    RANDOM.reset();
    ARGS.reset();
    ENV.reset();
}

/// Resets the program and closes the fds it left open, but keeps the files
/// it wrote: the next run sees them.
#[unsafe(no_mangle)]
pub extern "C" fn runner_reset_keep_files() {
    app::reset();
    FS.reset_fds(&app::CALLER);
}
