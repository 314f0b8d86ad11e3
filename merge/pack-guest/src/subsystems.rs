//! Clock, randomness, stdio and exit: each the runtime's built-in for the
//! mode the config image names, picked at every call (the choice is one
//! byte of the image; the built-ins do the work).

use wasi_virt::abi::pack::{ClockMode, ExitMode};
use wasi_virt::memory::Caller;
use wasi_virt::passthrough::HostFd;
use wasi_virt::types::{Clockid, Errno, Fd, Fdstat, Timestamp};
use wasi_virt::{Clock, Exit, HostClock, HostRandom, Process, Random, Stdio, VirtualClock};

use crate::state::state;

/// Virtual time, for `--clock virtual`: the same instant on every run.
static VIRTUAL: VirtualClock = VirtualClock::deterministic();

/// `--clock virtual` or `--clock host`.
pub struct PackClock;

/// The clock.
pub static CLOCK: PackClock = PackClock;

impl Clock for PackClock {
    fn clock_res_get(&self, caller: &Caller, id: u32) -> Result<Timestamp, Errno> {
        match state().clock {
            ClockMode::Virtual => VIRTUAL.clock_res_get(caller, id),
            ClockMode::Host => HostClock.clock_res_get(caller, id),
        }
    }

    fn clock_time_get(&self, caller: &Caller, id: u32, precision: u64) -> Result<Timestamp, Errno> {
        match state().clock {
            ClockMode::Virtual => VIRTUAL.clock_time_get(caller, id, precision),
            ClockMode::Host => HostClock.clock_time_get(caller, id, precision),
        }
    }

    fn advance_to(&self, id: Clockid, until: Timestamp) {
        match state().clock {
            ClockMode::Virtual => VIRTUAL.advance_to(id, until),
            ClockMode::Host => HostClock.advance_to(id, until),
        }
    }

    fn passes_by_itself(&self) -> bool {
        state().clock == ClockMode::Host
    }
}

/// `--random seed=N` or `--random host`.
pub struct PackRandom;

/// Randomness.
pub static RANDOM: PackRandom = PackRandom;

impl Random for PackRandom {
    fn random_get(&self, caller: &Caller, buf: u32, buf_len: u32) -> Result<(), Errno> {
        match &state().seeded {
            Some(seeded) => seeded.random_get(caller, buf, buf_len),
            None => HostRandom.random_get(caller, buf, buf_len),
        }
    }
}

/// `--stdio` (and `--stdin`/`--stdout`/`--stderr`).
pub struct PackStdio;

/// Stdio, as the filesystem's fds 0–2 reach it.
pub static STDIO: PackStdio = PackStdio;

impl Stdio for PackStdio {
    fn read_stdin(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        state().stdio.read_stdin(buf)
    }

    fn write(&self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
        state().stdio.write(fd, bytes)
    }

    fn fdstat(&self, fd: Fd) -> Result<Fdstat, Errno> {
        state().stdio.fdstat(fd)
    }

    fn host_fd(&self, fd: Fd) -> Option<HostFd> {
        state().stdio.host_fd(fd)
    }
}

/// `--exit virtual` (record the code, trap) or `--exit host` (the host's
/// `proc_exit`).
pub struct PackExit;

impl Process for PackExit {
    fn proc_exit(&self, caller: &Caller, rval: u32) -> wasi_virt::process::Unwinding {
        match state().exit {
            ExitMode::Virtual => Exit.proc_exit(caller, rval),
            ExitMode::Host => wasi_virt::passthrough::proc_exit(rval),
        }
    }

    fn proc_raise(&self, caller: &Caller, sig: u32) -> Result<(), Errno> {
        Exit.proc_raise(caller, sig)
    }
}
