//! `random_get`: seeded and deterministic, or the host's.

use alloc::vec;
use core::cell::Cell;

use crate::cell::OneThread;
use crate::memory::Caller;
use crate::passthrough;
use crate::types::Errno;

/// Randomness (`plug_random!`).
pub trait Random {
    /// `random_get`: fills `buf_len` bytes at `buf`.
    fn random_get(&self, caller: &Caller, buf: u32, buf_len: u32) -> Result<(), Errno>;
}

/// Random bytes are produced in chunks of this size, so that a large request
/// does not need a buffer as large as itself.
const CHUNK: u32 = 64 * 1024;

/// A deterministic generator (SplitMix64): the same seed gives the same bytes,
/// run after run. Not cryptographically secure, by design: it is for
/// reproducible runs.
pub struct SeededRandom {
    seed: u64,
    state: OneThread<Cell<u64>>,
}

impl SeededRandom {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> SeededRandom {
        SeededRandom {
            seed,
            state: OneThread::new(Cell::new(seed)),
        }
    }

    /// Starts the sequence over (for re-running a program).
    pub fn reset(&self) {
        self.state.set(self.seed);
    }

    fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Fills the target's buffer chunk by chunk with `fill`.
fn fill_target(
    caller: &Caller,
    buf: u32,
    buf_len: u32,
    mut fill: impl FnMut(&mut [u8]) -> Result<(), Errno>,
) -> Result<(), Errno> {
    caller.memory.check(buf, buf_len)?;
    let mut chunk = vec![0u8; buf_len.min(CHUNK) as usize];
    let mut done = 0;
    while done < buf_len {
        let n = (buf_len - done).min(CHUNK) as usize;
        fill(&mut chunk[..n])?;
        caller.memory.write(buf + done, &chunk[..n])?;
        done += n as u32;
    }
    Ok(())
}

impl Random for SeededRandom {
    fn random_get(&self, caller: &Caller, buf: u32, buf_len: u32) -> Result<(), Errno> {
        fill_target(caller, buf, buf_len, |chunk| {
            self.fill(chunk);
            Ok(())
        })
    }
}

/// The host's randomness, passed through (the output keeps a `random_get`
/// import).
pub struct HostRandom;

impl Random for HostRandom {
    fn random_get(&self, caller: &Caller, buf: u32, buf_len: u32) -> Result<(), Errno> {
        fill_target(caller, buf, buf_len, passthrough::random_get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::testing::FAKE_CALLER;

    #[test]
    fn same_seed_same_bytes() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        a.random_get(&FAKE_CALLER, 0, 13).unwrap();
        let first = FAKE_CALLER.memory.read_vec(0, 13).unwrap();
        b.random_get(&FAKE_CALLER, 100, 13).unwrap();
        assert_eq!(FAKE_CALLER.memory.read_vec(100, 13).unwrap(), first);
        assert_ne!(first, [0; 13]);
        assert_eq!(a.random_get(&FAKE_CALLER, 65530, 7), Err(Errno::Fault));
        assert_eq!(a.random_get(&FAKE_CALLER, 65536, 0), Ok(()));
    }
}
