//! `proc_exit` and `proc_raise`.

use core::cell::Cell;

use crate::memory::Caller;
use crate::types::Errno;

/// Process control (`plug_process!`).
pub trait Process {
    /// `proc_exit`: ends the program with `rval`. Never returns.
    fn proc_exit(&self, caller: &Caller, rval: u32) -> !;
    /// `proc_raise`: sends a signal to the program.
    fn proc_raise(&self, caller: &Caller, sig: u32) -> Result<(), Errno>;
}

struct ExitCode(Cell<Option<u32>>);
// SAFETY: a guest runs on one thread (wasm32 without shared memory).
unsafe impl Sync for ExitCode {}
static EXIT_CODE: ExitCode = ExitCode(Cell::new(None));

/// The code the program passed to `proc_exit`, if it has exited.
pub fn exit_code() -> Option<u32> {
    EXIT_CODE.0.get()
}

/// Forgets the exit code (before running a program again).
pub fn clear_exit_code() {
    EXIT_CODE.0.set(None);
}

/// Records `code` as the program's exit code.
pub fn set_exit_code(code: u32) {
    EXIT_CODE.0.set(Some(code));
}

/// The built-in: `proc_exit` records the code (see [`exit_code`], and the
/// host API's `wasi_virt_exit_code`) and stops the program with a trap,
/// which the caller of the program's entry catches. `proc_raise` answers
/// `ENOSYS`: preview1 deprecates it, and a virtual program has no signal
/// handlers to run.
pub struct Exit;

impl Process for Exit {
    fn proc_exit(&self, _: &Caller, rval: u32) -> ! {
        set_exit_code(rval);
        abort()
    }

    fn proc_raise(&self, _: &Caller, _sig: u32) -> Result<(), Errno> {
        Err(Errno::Nosys)
    }
}

/// Stops the program: a trap on wasm.
pub fn abort() -> ! {
    #[cfg(target_family = "wasm")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_family = "wasm"))]
    panic!("wasi-virt: the program exited with code {:?}", exit_code());
}
