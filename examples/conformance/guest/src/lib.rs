//! The guest of the conformance suite (`tests/tests/conformance.rs`).
//!
//! It gives its program the same world the suite gives the program under
//! wasmtime's host WASI: `examples/conformance/fixture` as `/` (embedded,
//! with an in-memory writable layer over it) and an empty writable `/tmp`,
//! captured stdio, and the arguments and environment the test asks for.
//! After the run, the test reads a canonical dump of both trees
//! ([`wasi_virt::fs::dump`]) and compares it with the host's folders.
//!
//! Host API besides the runtime's `wasi_virt_*` exports:
//! - `conformance_set_args(ptr, len)` / `conformance_set_env(ptr, len)`:
//!   NUL-separated strings in this guest's memory (from `wasi_virt_alloc`);
//! - `conformance_dump(index) -> len`, then `conformance_dump_ptr()`: the
//!   dump of preopen `index` (0 is `/`, 1 is `/tmp`).

use core::cell::RefCell;

use wasi_virt::OneThread;
use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(app);

static FIXTURE: EmbeddedNode = embed_dir!("../fixture");
static PREOPENS: [Preopen; 2] = [Preopen::new("/", &FIXTURE), Preopen::empty("/tmp")];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["prog"]);
static ENV: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(7);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK).with_fs(&FS);

plug_fs!(FS, app, self);
plug_args!(ARGS, app, self);
plug_env!(ENV, app, self);
plug_clock!(CLOCK, app, self);
plug_random!(RANDOM, app, self);
plug_poll!(POLL, app, self);
plug_process!(Exit, app, self);
plug_sched!(Yield, app, self);

/// Runs the program.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}

/// NUL-separated strings at `ptr..ptr+len` of this guest's memory.
///
/// # Safety
/// The host wrote `len` bytes at `ptr`, which `wasi_virt_alloc` gave it.
unsafe fn strings(ptr: i32, len: i32) -> Vec<Vec<u8>> {
    if len <= 0 {
        return Vec::new();
    }
    // SAFETY: as the caller promises.
    let bytes = unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    bytes.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

/// Replaces the program's arguments (argv[0] included).
#[unsafe(no_mangle)]
pub extern "C" fn conformance_set_args(ptr: i32, len: i32) {
    // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
    ARGS.set(unsafe { strings(ptr, len) });
}

/// Replaces the program's environment (`KEY=VALUE` entries).
#[unsafe(no_mangle)]
pub extern "C" fn conformance_set_env(ptr: i32, len: i32) {
    // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
    ENV.set(unsafe { strings(ptr, len) });
}

static DUMP: OneThread<RefCell<String>> = OneThread::new(RefCell::new(String::new()));

/// Dumps preopen `index` into a buffer; returns its length.
#[unsafe(no_mangle)]
pub extern "C" fn conformance_dump(index: i32) -> i32 {
    let text = PREOPENS
        .get(index as usize)
        .map(|p| FS.dump(p.path()))
        .unwrap_or_default();
    let len = text.len() as i32;
    *DUMP.borrow_mut() = text;
    len
}

/// Where the last `conformance_dump` is.
#[unsafe(no_mangle)]
pub extern "C" fn conformance_dump_ptr() -> i32 {
    DUMP.borrow().as_ptr() as i32
}
