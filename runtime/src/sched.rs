//! `sched_yield`.

use crate::memory::Caller;
use crate::types::Errno;

/// Scheduling (`plug_sched!`).
pub trait Sched {
    /// `sched_yield`.
    fn sched_yield(&self, caller: &Caller) -> Result<(), Errno>;
}

/// The built-in: a program alone in its instance has nobody to yield to,
/// so yielding succeeds at once.
pub struct Yield;

impl Sched for Yield {
    fn sched_yield(&self, _: &Caller) -> Result<(), Errno> {
        Ok(())
    }
}
