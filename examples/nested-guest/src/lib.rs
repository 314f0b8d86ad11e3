//! `nested-guest`: entries nest, and each unwinds to its own call.
//!
//! The program (`app`) calls `random_get`; this guest answers by calling
//! back into the program (`app::callback`), a *nested entry*. When the
//! callback exits or traps, only the callback ends: the guest gets its exit
//! code, writes it where the program asked for random bytes, and the
//! program goes on. `_start` runs the program and reports how it ended.

use wasi_virt::fs::{Preopen, Vfs};
use wasi_virt::memory::Caller;
use wasi_virt::prelude::*;

import_wasm!(app {
    fn _start();
    fn callback(mode: i32) -> i32;
});
wrap_unreachable!(app);

static PREOPENS: [Preopen; 0] = [];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
static RANDOM: SeededRandom = SeededRandom::new(1);
static ENV: StringList = StringList::new(&[]);

plug_fs!(FS, app, self);
plug_env!(ENV, app, self);
plug_random!(RANDOM, app, self; random_get = reenter);
plug_process!(Exit, app, self);

/// `random_get(buf, len)` from the program: calls `app::callback(len)` and
/// writes how it ended at `buf`, as a little-endian `u32`: its exit code,
/// or `u32::MAX` with its result in the next 4 bytes if it returned.
fn reenter(_: &SeededRandom, caller: &Caller, buf: u32, len: u32) -> Result<(), Errno> {
    if caller.name == wasi_virt::abi::names::SELF_TARGET {
        return RANDOM.random_get(caller, buf, len);
    }
    let result = app::callback(len as i32);
    match app::exit_code() {
        Some(code) => caller.memory.write_u32(buf, code),
        None => {
            caller.memory.write_u32(buf, u32::MAX)?;
            caller.memory.write_u32(buf + 4, result as u32)
        }
    }
}

/// Runs the program and reports how it ended.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let code = app::run();
    let line = format!("nested-guest: app exited with code {code}\n");
    let _ = StdioConfig::CAPTURE.write(2, line.as_bytes());
    wasi_virt::process::set_exit_code(code);
}
