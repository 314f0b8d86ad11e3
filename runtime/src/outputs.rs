//! The ABI edge: writing a function's results through its out-pointers and
//! turning `Result<_, Errno>` into the raw errno, once, for every shim.

use crate::memory::Caller;
use crate::types::{Errno, Fdstat, Filestat, Prestat};

/// Results a preview1 function writes through its out-pointers on success.
pub trait Outputs {
    /// `Ok` when every result fits at its pointer in `ptrs` (one per
    /// result, in order): checked before the function runs.
    fn check(caller: &Caller, ptrs: &[u32]) -> Result<(), Errno>;
    /// Writes the results to `ptrs` (one pointer per result, in order).
    fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno>;
}

impl Outputs for () {
    fn check(_: &Caller, _: &[u32]) -> Result<(), Errno> {
        Ok(())
    }
    fn write_to(self, _: &Caller, _: &[u32]) -> Result<(), Errno> {
        Ok(())
    }
}

macro_rules! outputs_as_bytes {
    ($($ty:ty => $size:literal |$v:ident| $bytes:expr;)*) => {$(
        impl Outputs for $ty {
            fn check(caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
                caller.memory.check(ptrs[0], $size)
            }
            fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
                let $v = self;
                let bytes: [u8; $size] = $bytes;
                caller.memory.write(ptrs[0], &bytes)
            }
        }
    )*};
}

outputs_as_bytes! {
    u16 => 2 |v| v.to_le_bytes();
    u32 => 4 |v| v.to_le_bytes();
    u64 => 8 |v| v.to_le_bytes();
    Fdstat => 24 |v| v.to_bytes();
    Filestat => 64 |v| v.to_bytes();
    Prestat => 8 |v| v.to_bytes();
}

impl<A: Outputs, B: Outputs> Outputs for (A, B) {
    fn check(caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
        A::check(caller, &ptrs[..1])?;
        B::check(caller, &ptrs[1..])
    }
    fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
        self.0.write_to(caller, &ptrs[..1])?;
        self.1.write_to(caller, &ptrs[1..])
    }
}

/// Runs a shim: checks the out-pointers `ptrs`, then calls `f` and writes
/// its results, and returns the raw errno. A call whose results cannot all
/// be written fails with `EFAULT` *before* `f` runs, so it has no effect: no
/// fd opened and lost, no data read and dropped or written, no half of a
/// pair of results written (a host that writes results after the fact
/// cannot promise that; wasmtime traps instead).
#[inline]
pub fn call<T: Outputs>(
    caller: &Caller,
    ptrs: &[u32],
    f: impl FnOnce() -> Result<T, Errno>,
) -> i32 {
    match T::check(caller, ptrs) {
        Ok(()) => finish(caller, f(), ptrs),
        Err(e) => e.raw() as i32,
    }
}

/// Finishes a shim: writes the results on success and returns the raw
/// errno (an unwritable out-pointer is `EFAULT`). [`call`] checks the
/// pointers first; this does not.
#[inline]
pub fn finish<T: Outputs>(caller: &Caller, result: Result<T, Errno>, ptrs: &[u32]) -> i32 {
    match result.and_then(|v| v.write_to(caller, ptrs)) {
        Ok(()) => 0,
        Err(e) => e.raw() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::testing::FAKE_CALLER;

    #[test]
    fn a_bad_out_pointer_fails_before_the_call() {
        let mut ran = false;
        let errno = call(&FAKE_CALLER, &[0, 65534], || {
            ran = true;
            Ok((7u32, 8u32))
        });
        assert_eq!((errno, ran), (Errno::Fault.raw() as i32, false));
        assert_eq!(call(&FAKE_CALLER, &[0, 65532], || Ok((7u32, 8u32))), 0);
        assert_eq!(FAKE_CALLER.memory.read_u32(65532), Ok(8));
    }
}
