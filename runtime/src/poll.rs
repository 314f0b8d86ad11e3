//! `poll_oneoff`.

use alloc::vec::Vec;

use crate::clock::Clock;
use crate::fs::Fs;
use crate::memory::Caller;
use crate::types::{
    Clockid, Errno, Event, Eventtype, Fd, Filetype, Subscription, SubscriptionKind, eventrwflags,
    subclockflags,
};

/// Waiting for events (`plug_poll!`).
pub trait Poll {
    /// `poll_oneoff`: waits for at least one of `nsubscriptions`
    /// subscriptions at `subscriptions`, writes events at `events`, returns
    /// how many.
    fn poll_oneoff(
        &self,
        caller: &Caller,
        subscriptions: u32,
        events: u32,
        nsubscriptions: u32,
    ) -> Result<u32, Errno>;
}

/// The built-in for virtual programs: in-memory files and virtual stdio are
/// always ready, so fd subscriptions fire at once; when only clocks are
/// subscribed, time jumps to the earliest deadline (through
/// [`Clock::advance_to`]) so a sleep finishes without waiting.
///
/// With [`VirtualPoll::with_fs`], fd subscriptions are checked against the
/// caller's fds and answered as wasmtime's host WASI answers them: an fd
/// that is not open, or a directory, fails the whole call with `EBADF`;
/// a ready event reports `nbytes` 1 (at least one byte can move), and a
/// read at or past the end of a regular file also `FD_READWRITE_HANGUP`.
/// Without it, every fd is taken as ready.
pub struct VirtualPoll<C: Clock + 'static> {
    clock: &'static C,
    fs: Option<&'static (dyn Fs + Sync)>,
}

impl<C: Clock + 'static> VirtualPoll<C> {
    /// A poller that reads and advances `clock`.
    pub const fn new(clock: &'static C) -> VirtualPoll<C> {
        VirtualPoll { clock, fs: None }
    }

    /// Checks fd subscriptions against `fs` (the filesystem plugged for the
    /// same callers).
    pub const fn with_fs(self, fs: &'static (dyn Fs + Sync)) -> VirtualPoll<C> {
        VirtualPoll {
            clock: self.clock,
            fs: Some(fs),
        }
    }

    /// The `(nbytes, flags)` of a ready fd event, or the error of the call.
    fn fd_event(&self, caller: &Caller, fd: Fd, read: bool) -> Result<(u64, u16), Errno> {
        let Some(fs) = self.fs else {
            return Ok((1, 0));
        };
        let stat = fs.fd_fdstat_get(caller, fd)?;
        match stat.fs_filetype {
            Filetype::Directory => Err(Errno::Badf),
            Filetype::RegularFile if read => {
                let at_end = match (fs.fd_tell(caller, fd), fs.fd_filestat_get(caller, fd)) {
                    (Ok(pos), Ok(stat)) => pos >= stat.size,
                    _ => false,
                };
                let flags = if at_end {
                    eventrwflags::FD_READWRITE_HANGUP
                } else {
                    0
                };
                Ok((1, flags))
            }
            _ => Ok((1, 0)),
        }
    }
}

impl<C: Clock + Sync + 'static> Poll for VirtualPoll<C> {
    fn poll_oneoff(
        &self,
        caller: &Caller,
        subscriptions: u32,
        events: u32,
        nsubscriptions: u32,
    ) -> Result<u32, Errno> {
        if nsubscriptions == 0 {
            return Err(Errno::Inval);
        }
        let mem = &caller.memory;
        let in_len = nsubscriptions
            .checked_mul(Subscription::SIZE as u32)
            .ok_or(Errno::Fault)?;
        let out_len = nsubscriptions
            .checked_mul(Event::SIZE as u32)
            .ok_or(Errno::Fault)?;
        mem.check(events, out_len)?;
        let raw = mem.read_vec(subscriptions, in_len)?;
        // A target chooses how many: reserve fallibly (ENOMEM), never run
        // the guest out of memory. Each subscription fires at most once.
        let n = nsubscriptions as usize;
        let mut subs = Vec::new();
        subs.try_reserve_exact(n).map_err(|_| Errno::Nomem)?;
        for c in raw.chunks_exact(Subscription::SIZE) {
            subs.push(Subscription::from_bytes(c.try_into().unwrap())?);
        }

        let event = |s: &Subscription, kind, error| Event {
            userdata: s.userdata,
            error,
            kind,
            nbytes: 0,
            flags: 0,
        };
        let mut fired: Vec<Event> = Vec::new();
        fired.try_reserve_exact(n).map_err(|_| Errno::Nomem)?;
        let mut deadlines = Vec::new();
        deadlines.try_reserve_exact(n).map_err(|_| Errno::Nomem)?;
        for s in &subs {
            match s.kind {
                SubscriptionKind::FdRead(fd) | SubscriptionKind::FdWrite(fd) => {
                    let read = matches!(s.kind, SubscriptionKind::FdRead(_));
                    let (nbytes, flags) = self.fd_event(caller, fd, read)?;
                    let kind = if read {
                        Eventtype::FdRead
                    } else {
                        Eventtype::FdWrite
                    };
                    fired.push(Event {
                        nbytes,
                        flags,
                        ..event(s, kind, Errno::Success)
                    });
                }
                SubscriptionKind::Clock {
                    id, timeout, flags, ..
                } => match Clockid::from_raw(id) {
                    // An unknown clock fails the whole call, as wasmtime.
                    Err(e) => return Err(e),
                    Ok(clock) => {
                        let now = self.clock.clock_time_get(caller, id, 0)?;
                        let deadline = if flags & subclockflags::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                            timeout
                        } else {
                            now.saturating_add(timeout)
                        };
                        deadlines.push((s, clock, deadline, now));
                    }
                },
            }
        }
        // Clocks already due fire with the fd events; if nothing fired, the
        // earliest deadline is waited for (and any others due by then).
        let due = |(_, _, deadline, now): &&(_, _, u64, u64)| deadline <= now;
        if fired.is_empty()
            && !deadlines.iter().any(|d| due(&d))
            && let Some(&(_, clock, deadline, _)) = deadlines.iter().min_by_key(|d| d.2)
        {
            self.clock.advance_to(clock, deadline);
            for d in deadlines.iter_mut().filter(|d| d.1 == clock) {
                d.3 = d.3.max(deadline);
            }
        }
        for d in deadlines.iter().filter(due) {
            fired.push(event(d.0, Eventtype::Clock, Errno::Success));
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(fired.len() * Event::SIZE)
            .map_err(|_| Errno::Nomem)?;
        fired
            .iter()
            .for_each(|e| bytes.extend_from_slice(&e.to_bytes()));
        mem.write(events, &bytes)?;
        Ok(fired.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualClock;
    use crate::memory::testing::FAKE_CALLER;

    fn clock_sub(userdata: u64, timeout: u64) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&userdata.to_le_bytes());
        b[16..20].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&timeout.to_le_bytes());
        b
    }

    #[test]
    fn a_sleep_finishes_by_advancing_the_virtual_clock() {
        static CLOCK: VirtualClock = VirtualClock::new(0, 0);
        let poll = VirtualPoll::new(&CLOCK);
        let mem = &FAKE_CALLER.memory;
        let mut subs = clock_sub(7, 5_000_000_000).to_vec();
        subs.extend(clock_sub(8, 9_000_000_000));
        mem.write(0, &subs).unwrap();
        assert_eq!(poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 2), Ok(1));
        assert_eq!(mem.read_u64(1000), Ok(7));
        assert_eq!(CLOCK.clock_time_get(&FAKE_CALLER, 1, 0), Ok(5_000_000_000));
        assert_eq!(
            poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 0),
            Err(Errno::Inval)
        );
        assert_eq!(
            poll.poll_oneoff(&FAKE_CALLER, 65500, 1000, 1),
            Err(Errno::Fault)
        );
    }
}
