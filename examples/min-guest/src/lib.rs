//! `min-guest`: the smallest useful guest. Its target may write to stdout
//! and stderr (captured, read back through the host API) and exit; it has
//! no files, no arguments, no environment, and a clock that stands still.
//! What it adds to a program, after `wasm-opt -Oz`, is the floor of the
//! architecture: the shims, the bridge and the exit path (`cargo xtask
//! bench`, BENCHMARKS.md).
//!
//! It is `no_std` on wasm: `wasi_virt::heap` instead of std's dlmalloc, and
//! a panic handler that traps instead of std's panic machinery (what a
//! `panic = "abort"` std guest does too, with more code).
#![cfg_attr(all(target_family = "wasm", not(test)), no_std)]

use wasi_virt::prelude::*;
use wasi_virt::stdio::Stdio;
use wasi_virt::types::{Fd, Fdstat, Filetype, Size};

import_wasm!(app);

/// stdout and stderr, and nothing else.
struct StdoutOnly;

static FS: StdoutOnly = StdoutOnly;
static NONE: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(0);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, app);
plug_args!(NONE, app);
plug_env!(NONE, app);
plug_clock!(CLOCK, app);
plug_random!(RANDOM, app);
plug_poll!(POLL, app);
plug_process!(Exit, app);
plug_sched!(Yield, app);

wasi_virt::no_std_guest!();

/// Runs the program once.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    app::_start();
}

fn is_output(fd: Fd) -> bool {
    fd == 1 || fd == 2
}

/// stdout and stderr; every other fd is unknown: the trait's other methods
/// answer `EBADF`, as a host does for an fd it never opened.
impl Fs for StdoutOnly {
    fn fd_write(&self, caller: &Caller, fd: Fd, iovs: u32, iovs_len: u32) -> Result<Size, Errno> {
        if !is_output(fd) {
            return Err(Errno::Badf);
        }
        let iovs = caller.memory.read_iovecs(iovs, iovs_len)?;
        let bytes = caller.memory.gather(&iovs)?;
        StdioConfig::CAPTURE.write(fd, &bytes).map(|n| n as Size)
    }

    fn fd_fdstat_get(&self, _caller: &Caller, fd: Fd) -> Result<Fdstat, Errno> {
        if !is_output(fd) {
            return Err(Errno::Badf);
        }
        Ok(Fdstat {
            fs_filetype: Filetype::CharacterDevice,
            fs_flags: 0,
            fs_rights_base: wasi_virt::types::rights::FD_WRITE,
            fs_rights_inheriting: 0,
        })
    }
}
