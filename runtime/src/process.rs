//! `proc_exit` and `proc_raise`, and how a program's exit reaches the guest.
//!
//! A program ends with [`exit`]. What that does depends on the program:
//! - a target under `wrap_unreachable!` *unwinds*: control goes back to the
//!   guest call that entered it (`app::_start()`, any export), which returns
//!   normally, and the guest reads the code with `app::exit_code()`; the
//!   target can be [reset](crate) and run again;
//! - any other program (an unwrapped target, the guest itself) records the
//!   code for the host ([`exit_code`], the host API's `wasi_virt_exit_code`)
//!   and stops with a trap, which the host catches.

use core::cell::Cell;

use crate::cell::{Global, global};
use crate::memory::Caller;
use crate::types::Errno;

/// The exit code a wrapped target unwinds with when it executes
/// `unreachable` (a Rust panic, C's `abort()`): 134, what the wasmtime CLI
/// exits with when a program traps.
pub const TRAP_EXIT_CODE: u32 = wasi_virt_abi::names::TRAP_EXIT_CODE;

/// Process control (`plug_process!`).
pub trait Process {
    /// `proc_exit`: ends the program with `rval`. An implementation ends
    /// with [`exit`] (or [`abort`]), which is what gives it an [`Unwinding`]
    /// to return: `exit` returns only when the program is on its way back
    /// to the guest, and the shim then returns into the program, whose
    /// rewritten code returns at once.
    fn proc_exit(&self, caller: &Caller, rval: u32) -> Unwinding;
    /// `proc_raise`: sends a signal to the program.
    fn proc_raise(&self, caller: &Caller, sig: u32) -> Result<(), Errno>;
}

/// What [`exit`] returns when it returns at all: the program is unwinding
/// back to the guest (a target under `wrap_unreachable!`, merged with
/// `--unwind flags`), and the caller must return to it without doing
/// anything else on its behalf.
///
/// Only [`exit`] makes one (or a diverging expression, since `!` coerces to
/// it), so a [`Process`] cannot forget to end the program.
#[must_use = "return it from proc_exit: the program is unwinding"]
#[derive(Debug)]
pub struct Unwinding(());

static EXIT_CODE: Global<Cell<Option<u32>>> = global!(Cell<Option<u32>> = Cell::new(None));

/// The code the program passed to `proc_exit`, if it has exited without
/// unwinding (and the host-visible code a guest set with [`set_exit_code`]).
pub fn exit_code() -> Option<u32> {
    EXIT_CODE.with(Cell::get)
}

/// Forgets the exit code (before running a program again).
pub fn clear_exit_code() {
    EXIT_CODE.with(|c| c.set(None));
}

/// Records `code` as the exit code the host sees (the host API's
/// `wasi_virt_exit_code`): a guest that runs a wrapped target passes the
/// target's code on with this.
pub fn set_exit_code(code: u32) {
    EXIT_CODE.with(|c| c.set(Some(code)));
}

/// Ends `caller`'s program with `code`.
///
/// A target under `wrap_unreachable!` unwinds back to the guest call that
/// entered it: with `--unwind flags` this returns an [`Unwinding`], to be
/// returned to the program at once; with `--unwind exceptions` it does not
/// return (an exception is thrown through the guest's frames up to the
/// program's: hold no `RefCell` borrow across it). Any other program (a
/// target that is not wrapped, the guest itself, or a wrapped target with
/// no call into it under way) records `code` for the host and traps.
pub fn exit(caller: &Caller, code: u32) -> Unwinding {
    if caller.unwind(code) {
        return Unwinding(());
    }
    set_exit_code(code);
    abort()
}

/// The built-in: `proc_exit` is [`exit`]. `proc_raise` answers `ENOTSUP`
/// and does nothing else: preview1 deprecates it, a virtual program has no
/// signal handlers to run, and `ENOTSUP` is what wasmtime's host WASI
/// answers, so a program sees the same under both.
pub struct Exit;

impl Process for Exit {
    fn proc_exit(&self, caller: &Caller, rval: u32) -> Unwinding {
        exit(caller, rval)
    }

    fn proc_raise(&self, _: &Caller, _sig: u32) -> Result<(), Errno> {
        Err(Errno::Notsup)
    }
}

/// Stops the program: a trap on wasm.
pub fn abort() -> ! {
    #[cfg(target_family = "wasm")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_family = "wasm"))]
    panic!("wasi-virt: the program exited with code {:?}", exit_code());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::testing::FAKE_CALLER;

    #[test]
    fn a_program_that_cannot_unwind_records_its_code_and_stops() {
        clear_exit_code();
        let stopped = std::panic::catch_unwind(|| Exit.proc_exit(&FAKE_CALLER, 7));
        assert!(
            stopped.is_err(),
            "exit returned for a program that cannot unwind"
        );
        assert_eq!(exit_code(), Some(7));
        clear_exit_code();
    }
}
