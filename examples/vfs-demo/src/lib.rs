//! `vfs-demo`: the guest a newcomer reads first.
//!
//! It hosts one program, `app` (any `wasm32-wasip1` command; the example is
//! `demo-app`), and decides everything that program can see: the folder
//! `examples/site` baked in as `/` (writable: writes land in memory, the
//! embedded files stay as built), its arguments, its environment, a
//! deterministic clock and random numbers, and stdio captured for the host.
//! The guest plugs its own WASI imports too (`self`), so the merged module
//! imports nothing at all.
//!
//! ```text
//! cargo build --release --target wasm32-wasip1 -p vfs-demo -p demo-app
//! wasi-virt merge vfs_demo.wasm demo-app.wasm -o demo.wasm
//! ```

use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;

// The program this guest hosts; `app::_start()` runs it.
import_wasm!(app);

static SITE: EmbeddedNode = embed_dir!("../site");
static PREOPENS: [Preopen; 1] = [Preopen::new("/", &SITE)];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["demo-app", "hello", "wörld"]);
static ENV: StringList = StringList::new(&["GREETING=hello from vfs-demo", "EXIT_CODE=3"]);
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

/// Runs the program. Its stdout and stderr are captured; a host reads them,
/// and the exit code, through the `wasi_virt_*` exports.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}
