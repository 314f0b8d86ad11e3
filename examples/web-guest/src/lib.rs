//! `web-guest`: the guest behind the browser example (`examples/browser`).
//!
//! It hosts one program, `app` (the example is `demo-app`), with the
//! folder `examples/site` baked in as `/` (writable: writes land in
//! memory), and lets the page decide the rest at run time through the
//! host API (`export_host_api!`): arguments, environment, files written
//! and read between runs. `wasi-virt merge --js` writes the JavaScript
//! that drives it (`app.run({ args })`, `app.fs.writeFile`…).
//!
//! Each call of `_start` runs the program once, from its initial state:
//! the program is under `wrap_unreachable!`, so its `proc_exit` (or a
//! panic) comes back here with the exit code instead of ending the whole
//! module, and a second run first resets it (`app::reset()`) and closes
//! the files it left open. The files stay: what one run wrote, the next
//! one (and the page) reads.
//!
//! ```text
//! cargo build --release --target wasm32-wasip1 -p web-guest -p demo-app
//! wasi-virt merge web_guest.wasm demo-app.wasm -o demo.wasm --js demo.js
//! ```

use core::sync::atomic::{AtomicBool, Ordering};

use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(app);
wrap_unreachable!(app);

static SITE: EmbeddedNode = embed_dir!("../site");
static PREOPENS: [Preopen; 1] = [Preopen::new("/", &SITE)];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["demo-app"]);
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

// Args, env and files, set and read by the page between runs.
wasi_virt::export_host_api!(args: &ARGS, env: &ENV, fs: &FS);

/// Whether the program has run in this instance (and needs a reset first).
static RAN: AtomicBool = AtomicBool::new(false);

/// Runs the program once; its exit code is the module's
/// (`wasi_virt_exit_code`), its output is captured for the page.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    if RAN.swap(true, Ordering::Relaxed) {
        app::reset();
        FS.reset_fds(&app::CALLER);
    }
    let code = app::run();
    wasi_virt::process::set_exit_code(code);
}
