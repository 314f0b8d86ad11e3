//! `reactor-guest`: calling a reactor, a program that is a library
//! (`_initialize` and exports, no `_start`).
//!
//! `lib` (the example is `adder-lib`) is initialized once, then called like
//! any library. Under `wrap_unreachable!` each call is an entry: a call
//! that panics returns (with a zero result) and `lib::exit_code()` says so;
//! `lib::reset()` then gives a fresh library to initialize again.

use wasi_virt::fs::{Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(lib {
    fn _initialize();
    fn add(a: i32, b: i32) -> i32;
});
wrap_unreachable!(lib);

static PREOPENS: [Preopen; 0] = [];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE);
static ENV: StringList = StringList::new(&["GREETING=reactor says"]);

plug_fs!(FS, lib, self);
plug_env!(ENV, lib, self);
plug_process!(Exit, lib, self);

fn say(line: &str) {
    let _ = StdioConfig::CAPTURE.write(1, line.as_bytes());
}

/// Initializes the library, calls it, survives a panic in it, resets it.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    lib::_initialize();
    let sum = lib::add(2, 3);
    say(&format!("guest: add(2, 3) = {sum}\n"));
    let sum = lib::add(i32::MAX, 1);
    say(&format!(
        "guest: add(i32::MAX, 1) = {sum}, exit code {:?}\n",
        lib::exit_code()
    ));
    lib::reset();
    lib::_initialize();
    let sum = lib::add(40, 2);
    say(&format!("guest: after reset, add(40, 2) = {sum}\n"));
}
