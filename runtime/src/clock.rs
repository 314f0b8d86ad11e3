//! `clock_*`: time, virtual and deterministic or the host's.

use core::cell::Cell;

use crate::cell::OneThread;
use crate::memory::Caller;
use crate::passthrough;
use crate::types::{Clockid, Errno, Subscription, SubscriptionKind, Timestamp};

/// Clocks (`plug_clock!`).
pub trait Clock {
    /// `clock_res_get`: the resolution of clock `id`.
    fn clock_res_get(&self, caller: &Caller, id: u32) -> Result<Timestamp, Errno>;
    /// `clock_time_get`: the time of clock `id`.
    fn clock_time_get(&self, caller: &Caller, id: u32, precision: u64) -> Result<Timestamp, Errno>;
    /// Lets time pass until clock `id` reads at least `until` (used by a
    /// virtual `poll_oneoff` so that sleeps finish). A real clock cannot be
    /// moved; the default does nothing.
    fn advance_to(&self, id: Clockid, until: Timestamp) {
        let _ = (id, until);
    }
    /// Whether time passes on its own (the host's clock), so that a poll
    /// waiting on the host's fds gives them until the deadline; `false`
    /// (the default) for a clock that only [`Clock::advance_to`] moves.
    fn passes_by_itself(&self) -> bool {
        false
    }
}

/// A virtual, deterministic clock: every run sees the same times.
///
/// Realtime starts at a fixed instant and, like the monotonic and CPU
/// clocks, moves forward by `step` nanoseconds at each reading (so a
/// program that waits for time to pass by polling the clock terminates),
/// and jumps forward when a `poll_oneoff` sleeps.
pub struct VirtualClock {
    realtime_start: Timestamp,
    step: Timestamp,
    elapsed: OneThread<Cell<Timestamp>>,
}

impl VirtualClock {
    /// 2000-01-01T00:00:00Z, the default starting instant of realtime.
    pub const Y2K: Timestamp = 946_684_800_000_000_000;

    /// A clock whose realtime starts at `realtime_start` (ns since the Unix
    /// epoch) and that advances `step` ns per reading.
    pub const fn new(realtime_start: Timestamp, step: Timestamp) -> VirtualClock {
        VirtualClock {
            realtime_start,
            step,
            elapsed: OneThread::new(Cell::new(0)),
        }
    }

    /// Starts at [`VirtualClock::Y2K`], advancing 1 µs per reading.
    pub const fn deterministic() -> VirtualClock {
        VirtualClock::new(VirtualClock::Y2K, 1_000)
    }

    /// Puts the clock back to its start (for re-running a program).
    pub fn reset(&self) {
        self.elapsed.set(0);
    }

    fn now(&self, id: Clockid) -> Timestamp {
        let elapsed = self.elapsed.get();
        match id {
            Clockid::Realtime => self.realtime_start.saturating_add(elapsed),
            _ => elapsed,
        }
    }
}

impl Clock for VirtualClock {
    fn clock_res_get(&self, _: &Caller, id: u32) -> Result<Timestamp, Errno> {
        Clockid::from_raw(id)?;
        Ok(self.step.max(1))
    }

    fn clock_time_get(&self, _: &Caller, id: u32, _precision: u64) -> Result<Timestamp, Errno> {
        let id = Clockid::from_raw(id)?;
        let t = self.now(id);
        self.elapsed
            .set(self.elapsed.get().saturating_add(self.step));
        Ok(t)
    }

    fn advance_to(&self, id: Clockid, until: Timestamp) {
        let now = self.now(id);
        if until > now {
            self.elapsed
                .set(self.elapsed.get().saturating_add(until - now));
        }
    }
}

/// The host's clocks, passed through (the output keeps `clock_res_get` and
/// `clock_time_get` imports). A sleep is a real one: [`Clock::advance_to`]
/// waits in the host's `poll_oneoff` (one more import) until the host's
/// clock reads the deadline, as host WASI does.
pub struct HostClock;

impl Clock for HostClock {
    fn clock_res_get(&self, _: &Caller, id: u32) -> Result<Timestamp, Errno> {
        passthrough::clock_res_get(id)
    }

    fn clock_time_get(&self, _: &Caller, id: u32, precision: u64) -> Result<Timestamp, Errno> {
        passthrough::clock_time_get(id, precision)
    }

    fn advance_to(&self, id: Clockid, until: Timestamp) {
        // A relative timeout on the monotonic clock, the one kind every
        // host's poll_oneoff takes (wasmtime refuses an absolute CPU-time
        // one), asked again if the host wakes early or its clock `id` is
        // not the monotonic one.
        while let Ok(now) = passthrough::clock_time_get(id as u32, 0) {
            if now >= until {
                return;
            }
            let sleep = Subscription {
                userdata: 0,
                kind: SubscriptionKind::Clock {
                    id: Clockid::Monotonic as u32,
                    timeout: until - now,
                    precision: 0,
                    flags: 0,
                },
            };
            if passthrough::poll_oneoff(&[sleep]).is_err() {
                return;
            }
        }
    }

    fn passes_by_itself(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::testing::FAKE_CALLER;

    #[test]
    fn virtual_time_is_deterministic_and_advances() {
        let clock = VirtualClock::deterministic();
        let c = &FAKE_CALLER;
        assert_eq!(clock.clock_time_get(c, 0, 0), Ok(VirtualClock::Y2K));
        assert_eq!(clock.clock_time_get(c, 1, 0), Ok(1_000));
        clock.advance_to(Clockid::Monotonic, 1_000_000);
        assert_eq!(clock.clock_time_get(c, 1, 0), Ok(1_000_000));
        assert_eq!(clock.clock_time_get(c, 4, 0), Err(Errno::Inval));
        assert_eq!(clock.clock_res_get(c, 3), Ok(1_000));
        clock.reset();
        assert_eq!(clock.clock_time_get(c, 1, 0), Ok(0));
    }
}
