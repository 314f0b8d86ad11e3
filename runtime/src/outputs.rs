//! The ABI edge: writing a function's results through its out-pointers and
//! turning `Result<_, Errno>` into the raw errno, once, for every shim.

use crate::memory::Caller;
use crate::types::{Errno, Fdstat, Filestat, Prestat};

/// Results a preview1 function writes through its out-pointers on success.
pub trait Outputs {
    /// Writes the results to `ptrs` (one pointer per result, in order).
    fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno>;
}

impl Outputs for () {
    fn write_to(self, _: &Caller, _: &[u32]) -> Result<(), Errno> {
        Ok(())
    }
}

macro_rules! outputs_as_bytes {
    ($($ty:ty => |$v:ident| $bytes:expr;)*) => {$(
        impl Outputs for $ty {
            fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
                let $v = self;
                caller.memory.write(ptrs[0], &$bytes)
            }
        }
    )*};
}

outputs_as_bytes! {
    u16 => |v| v.to_le_bytes();
    u32 => |v| v.to_le_bytes();
    u64 => |v| v.to_le_bytes();
    Fdstat => |v| v.to_bytes();
    Filestat => |v| v.to_bytes();
    Prestat => |v| v.to_bytes();
}

impl<A: Outputs, B: Outputs> Outputs for (A, B) {
    fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
        // Check both pointers before writing either: a failing call must not
        // leave half its results behind.
        self.0.write_to(caller, &ptrs[..1])?;
        self.1.write_to(caller, &ptrs[1..])
    }
}

/// Finishes a shim: writes the results on success and returns the raw
/// errno (an unwritable out-pointer is `EFAULT`).
#[inline]
pub fn finish<T: Outputs>(caller: &Caller, result: Result<T, Errno>, ptrs: &[u32]) -> i32 {
    match result.and_then(|v| v.write_to(caller, ptrs)) {
        Ok(()) => 0,
        Err(e) => e.raw() as i32,
    }
}
