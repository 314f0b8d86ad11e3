//! `threads-js-guest`: an ordinary guest (built without threads) for a
//! `wasm32-wasip1-threads` program that a page or Node runs through the
//! `--js` module: `/tmp` an empty writable folder, stdio captured, the
//! arguments, environment and files set and read by the host between runs
//! (its host API). Nothing here knows about threads (docs/threads.md).

use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(app);

static TMP: EmbeddedNode = EmbeddedNode::EMPTY_DIR;
static PREOPENS: [Preopen; 1] = [Preopen::new("/tmp", &TMP)];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["threads-app"]);
static ENV: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(7);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, app);
plug_args!(ARGS, app);
plug_env!(ENV, app);
plug_clock!(CLOCK, app);
plug_random!(RANDOM, app);
plug_poll!(POLL, app);
plug_process!(Exit, app);
plug_sched!(Yield, app);

wasi_virt::export_host_api!(args: &ARGS, env: &ENV, fs: &FS);

/// Runs the program; its exit code is the module's (`wasi_virt_exit_code`).
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let code = app::run();
    wasi_virt::process::set_exit_code(code);
}
