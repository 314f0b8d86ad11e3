//! `wasi_unstable` (WASI snapshot 0) adapters: what the `plug_*!` shims of
//! the four functions whose snapshot-0 layout differs from preview1's call
//! (see [`wasi_virt_abi::snapshot0`] for the differences). Every other
//! snapshot-0 import is wired by the CLI straight to the preview1 shim.
//!
//! Each adapter converts at the ABI edge and calls the same trait method
//! the preview1 shim calls, so an implementation is written once, in
//! preview1 terms.

use alloc::vec;
use alloc::vec::Vec;

use crate::memory::Caller;
use crate::outputs::Outputs;
use crate::types::{Errno, Event, Filestat, Subscription};

/// A snapshot-0 `whence` (`cur` 0, `end` 1, `set` 2) as preview1's (`set`
/// 0, `cur` 1, `end` 2); any other value stays invalid.
pub const fn whence(raw: u32) -> u32 {
    match raw {
        0 => 1,
        1 => 2,
        2 => 0,
        other => other,
    }
}

/// A `filestat` written in snapshot 0's 56-byte layout (`nlink` a `u32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filestat0(pub Filestat);

impl Filestat0 {
    /// Size in memory.
    pub const SIZE: u32 = 56;

    /// The byte layout snapshot 0 defines. A link count past `u32::MAX`
    /// saturates.
    pub fn to_bytes(&self) -> [u8; 56] {
        let s = &self.0;
        let mut b = [0u8; 56];
        b[0..8].copy_from_slice(&s.dev.to_le_bytes());
        b[8..16].copy_from_slice(&s.ino.to_le_bytes());
        b[16] = s.filetype as u8;
        let nlink = u32::try_from(s.nlink).unwrap_or(u32::MAX);
        b[20..24].copy_from_slice(&nlink.to_le_bytes());
        b[24..32].copy_from_slice(&s.size.to_le_bytes());
        b[32..40].copy_from_slice(&s.atim.to_le_bytes());
        b[40..48].copy_from_slice(&s.mtim.to_le_bytes());
        b[48..56].copy_from_slice(&s.ctim.to_le_bytes());
        b
    }
}

impl Outputs for Filestat0 {
    fn check(caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
        caller.memory.check(ptrs[0], Filestat0::SIZE)
    }

    fn write_to(self, caller: &Caller, ptrs: &[u32]) -> Result<(), Errno> {
        caller.memory.write(ptrs[0], &self.to_bytes())
    }
}

/// Size of a snapshot-0 `subscription`.
pub const SUBSCRIPTION0_SIZE: u32 = 56;

/// One snapshot-0 subscription in preview1's layout: the clock's
/// `identifier` dropped (no event carries it), the rest moved up 8 bytes.
pub fn subscription_to_preview1(b: &[u8]) -> [u8; Subscription::SIZE] {
    let mut out = [0u8; Subscription::SIZE];
    out[0..16].copy_from_slice(&b[0..16]);
    if b[8] == 0 {
        // clock: identifier at 16 (dropped), id at 24, timeout 32,
        // precision 40, flags 48.
        out[16..20].copy_from_slice(&b[24..28]);
        out[24..32].copy_from_slice(&b[32..40]);
        out[32..40].copy_from_slice(&b[40..48]);
        out[40..42].copy_from_slice(&b[48..50]);
    } else {
        // fd_read / fd_write: the fd at 16, as in preview1.
        out[16..24].copy_from_slice(&b[16..24]);
    }
    out
}

/// Snapshot-0 `poll_oneoff`: reads the snapshot-0 subscriptions from the
/// caller's memory, lays them out as preview1's in the guest's own memory,
/// and calls `poll` — the preview1 implementation — on them with a caller of
/// the same name whose memory is the guest's, then copies the events (the
/// same layout in both) back to the caller.
pub fn poll_oneoff(
    caller: &Caller,
    subscriptions: u32,
    events: u32,
    nsubscriptions: u32,
    poll: impl FnOnce(&Caller, u32, u32, u32) -> Result<u32, Errno>,
) -> Result<u32, Errno> {
    let in_len = nsubscriptions
        .checked_mul(SUBSCRIPTION0_SIZE)
        .ok_or(Errno::Fault)?;
    let out_len = nsubscriptions
        .checked_mul(Event::SIZE as u32)
        .ok_or(Errno::Fault)?;
    caller.memory.check(events, out_len)?;
    let raw = caller.memory.read_vec(subscriptions, in_len)?;
    let subs: Vec<u8> = raw
        .chunks_exact(SUBSCRIPTION0_SIZE as usize)
        .flat_map(subscription_to_preview1)
        .collect();
    let mut out = vec![0u8; out_len as usize];
    // The guest's own memory, under the caller's name (its fd table): the
    // addresses passed are this function's own buffers.
    let own = Caller {
        name: caller.name,
        memory: Caller::OWN.memory,
    };
    let n = poll(
        &own,
        subs.as_ptr() as usize as u32,
        out.as_mut_ptr() as usize as u32,
        nsubscriptions,
    )?;
    let used = (n as usize)
        .checked_mul(Event::SIZE)
        .filter(|&used| used <= out.len())
        .ok_or(Errno::Fault)?;
    caller.memory.write(events, &out[..used])?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Filetype;

    #[test]
    fn whence_is_renumbered() {
        assert_eq!([whence(0), whence(1), whence(2), whence(7)], [1, 2, 0, 7]);
    }

    #[test]
    fn filestat_has_snapshot0s_layout() {
        let b = Filestat0(Filestat {
            dev: 1,
            ino: 2,
            filetype: Filetype::RegularFile,
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        })
        .to_bytes();
        assert_eq!(
            (b[16], b[20], b[24], b[32], b[40], b[48]),
            (4, 3, 4, 5, 6, 7)
        );
    }

    #[test]
    fn a_clock_subscription_moves_up_past_the_identifier() {
        let mut s0 = [0u8; 56];
        s0[0] = 9; // userdata
        s0[8] = 0; // clock
        s0[16] = 0xEE; // identifier
        s0[24] = 1; // monotonic
        s0[32] = 5; // timeout
        s0[48] = 1; // abstime
        let p1 = subscription_to_preview1(&s0);
        let sub = Subscription::from_bytes(&p1).unwrap();
        assert_eq!(sub.userdata, 9);
        assert_eq!(
            sub.kind,
            crate::types::SubscriptionKind::Clock {
                id: 1,
                timeout: 5,
                precision: 0,
                flags: 1
            }
        );
    }
}
