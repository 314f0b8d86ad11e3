//! `bench-guest`: runs its target once, with the feature `wrap` under
//! `wrap_unreachable!`. The only difference between the two builds is the
//! wrapping, so that `cargo xtask bench-unwind` measures exactly what it
//! costs: the same target merged with this guest unwrapped, and wrapped
//! with `--unwind flags` and `--unwind exceptions`.

use wasi_virt::fs::{Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(app);
#[cfg(feature = "wrap")]
wrap_unreachable!(app);

static PREOPENS: [Preopen; 0] = [];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
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

/// Runs the program once.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}
