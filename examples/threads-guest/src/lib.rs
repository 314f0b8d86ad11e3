//! `threads-guest`: an ordinary guest (built without threads, like every
//! guest) for a `wasm32-wasip1-threads` program. The merge makes it safe to
//! enter from several threads (docs/threads.md); nothing here knows about
//! threads. `/tmp` is an empty writable folder in memory, stdio and the
//! clock are the host's (so that wasmtime shows what the program prints,
//! and sleeps are real), `proc_exit` is the host's, and the program runs
//! the `sync` case of `threads-app`.

use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;
use wasi_virt::process::Unwinding;
use wasi_virt::{Caller, Errno, HostClock, Process};

import_wasm!(app);

static TMP: EmbeddedNode = EmbeddedNode::EMPTY_DIR;
static PREOPENS: [Preopen; 1] = [Preopen::new("/tmp", &TMP)];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::INHERIT).with_clock(&HostClock);
static ARGS: StringList = StringList::new(&["threads-app", "sync"]);
static ENV: StringList = StringList::new(&[]);
static RANDOM: SeededRandom = SeededRandom::new(7);
static POLL: VirtualPoll<HostClock> = VirtualPoll::new(&HostClock).with_fs_from(|| &FS);

/// `proc_exit` ends the whole program through the host's.
struct HostExit;

impl Process for HostExit {
    fn proc_exit(&self, _: &Caller, rval: u32) -> Unwinding {
        wasi_virt::passthrough::proc_exit(rval)
    }

    fn proc_raise(&self, _: &Caller, _sig: u32) -> Result<(), Errno> {
        Err(Errno::Notsup)
    }
}

plug_fs!(FS, app);
plug_args!(ARGS, app);
plug_env!(ENV, app);
plug_clock!(HostClock, app);
plug_random!(RANDOM, app);
plug_poll!(POLL, app);
plug_process!(HostExit, app);
plug_sched!(Yield, app);

/// Runs the program.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}
