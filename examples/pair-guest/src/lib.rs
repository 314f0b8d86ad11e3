//! `pair-guest`: two programs in one module, sharing one filesystem.
//!
//! `writer` and `reader` are two targets (they may be the same file:
//! `wasi-virt merge pair_guest.wasm writer=unwind-app.wasm
//! reader=unwind-app.wasm`). Each has its own memory, its own fd table and
//! its own arguments; both see the one `Vfs`, so what `writer` writes,
//! `reader` reads. `_start` runs one, then the other.

use wasi_virt::fs::{Preopen, Vfs};
use wasi_virt::prelude::*;

import_wasm!(writer);
import_wasm!(reader);
wrap_unreachable!(writer, reader);

static PREOPENS: [Preopen; 1] = [Preopen::empty("/data")];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static WRITER_ARGS: StringList =
    StringList::new(&["writer", "write", "/data/msg.txt", "hello from writer"]);
static READER_ARGS: StringList = StringList::new(&["reader", "cat", "/data/msg.txt"]);
static ENV: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(7);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, writer, reader, self);
plug_args!(WRITER_ARGS, writer);
plug_args!(READER_ARGS, reader, self);
plug_env!(ENV, writer, reader, self);
plug_clock!(CLOCK, writer, reader, self);
plug_random!(RANDOM, writer, reader, self);
plug_poll!(POLL, writer, reader, self);
plug_process!(Exit, writer, reader, self);
plug_sched!(Yield, writer, reader, self);

/// Runs `writer`, then `reader`; the exit code is the first non-zero one.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let written = writer::run();
    let read = reader::run();
    let line = format!("pair-guest: writer exited with {written}, reader with {read}\n");
    let _ = StdioConfig::CAPTURE.write(2, line.as_bytes());
    wasi_virt::process::set_exit_code(if written != 0 { written } else { read });
}
