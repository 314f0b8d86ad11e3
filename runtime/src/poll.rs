//! `poll_oneoff`.

use alloc::vec::Vec;

use crate::clock::Clock;
use crate::fs::Fs;
use crate::memory::Caller;
use crate::passthrough::HostFd;
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

/// The built-in: in-memory files and virtual stdio are always ready, so
/// their fd subscriptions fire at once. When nothing is ready, the earliest
/// clock deadline is waited for through [`Clock::advance_to`]: a virtual
/// clock jumps to it (a sleep finishes without waiting), the host's clock
/// ([`HostClock`](crate::HostClock)) really waits.
///
/// With [`VirtualPoll::with_fs`], fd subscriptions are checked against the
/// caller's fds and answered as wasmtime's host WASI answers them: an fd
/// that is not open, or a directory, fails the whole call with `EBADF`;
/// a ready event reports `nbytes` 1 (at least one byte can move), and a
/// read at or past the end of a regular file also `FD_READWRITE_HANGUP`.
/// An fd that is the host's own (inherited stdio, [`Fs::host_fd`]) is
/// polled by the host: at once when something else is ready, else until
/// the earliest deadline (no deadline: until it is ready) when the clock
/// passes by itself. Without `with_fs`, every fd is taken as ready.
pub struct VirtualPoll<C: Clock + 'static> {
    clock: &'static C,
    fs: FsRef,
}

/// Where a [`VirtualPoll`] finds the filesystem.
#[derive(Clone, Copy)]
enum FsRef {
    None,
    Static(&'static (dyn Fs + Sync)),
    Lazy(fn() -> &'static (dyn Fs + Sync)),
}

/// A clock subscription, resolved: the subscription, its clock, its
/// deadline and the clock's reading when last looked at.
struct Deadline<'s> {
    sub: &'s Subscription,
    clock: Clockid,
    at: u64,
    now: u64,
}

impl Deadline<'_> {
    fn due(&self) -> bool {
        self.at <= self.now
    }
}

impl<C: Clock + 'static> VirtualPoll<C> {
    /// A poller that reads and advances `clock`.
    pub const fn new(clock: &'static C) -> VirtualPoll<C> {
        VirtualPoll {
            clock,
            fs: FsRef::None,
        }
    }

    /// Checks fd subscriptions against `fs` (the filesystem plugged for the
    /// same callers).
    pub const fn with_fs(self, fs: &'static (dyn Fs + Sync)) -> VirtualPoll<C> {
        VirtualPoll {
            clock: self.clock,
            fs: FsRef::Static(fs),
        }
    }

    /// As [`VirtualPoll::with_fs`], for a filesystem made at run time:
    /// `fs()` is called at each poll with fd subscriptions.
    pub const fn with_fs_from(self, fs: fn() -> &'static (dyn Fs + Sync)) -> VirtualPoll<C> {
        VirtualPoll {
            clock: self.clock,
            fs: FsRef::Lazy(fs),
        }
    }

    fn fs(&self) -> Option<&'static (dyn Fs + Sync)> {
        match self.fs {
            FsRef::None => None,
            FsRef::Static(fs) => Some(fs),
            FsRef::Lazy(fs) => Some(fs()),
        }
    }

    /// The `(nbytes, flags)` of a ready fd event, or the error of the call.
    fn fd_event(&self, caller: &Caller, fd: Fd, read: bool) -> Result<(u64, u16), Errno> {
        let Some(fs) = self.fs() else {
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

    /// Asks the host about its fds `host` (subscriptions on the host's fd
    /// numbers): without waiting when `ready` (something already fired),
    /// else until the earliest of `deadlines` if the clock passes by
    /// itself, else (a virtual clock, which the host cannot wait for)
    /// without waiting. Pushes their events into `fired`, with the
    /// program's userdata, and re-reads the clocks after a wait.
    fn poll_host(
        &self,
        caller: &Caller,
        host: &[(Subscription, HostFd)],
        deadlines: &mut [Deadline<'_>],
        fired: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let Some((_, first)) = host.first() else {
            return Ok(());
        };
        let ready = !fired.is_empty() || deadlines.iter().any(Deadline::due);
        let earliest = deadlines.iter().min_by_key(|d| d.at);
        let wait = match earliest {
            _ if ready => Some(0),
            Some(d) if self.clock.passes_by_itself() => Some(d.at.saturating_sub(d.now)),
            Some(_) => Some(0),
            None => None,
        };
        let mut subs = Vec::new();
        subs.try_reserve_exact(host.len() + 1)
            .map_err(|_| Errno::Nomem)?;
        // The userdata the host sees is the index into `host`; the timer's
        // is one past the end.
        for (i, (sub, fd)) in host.iter().enumerate() {
            let kind = match sub.kind {
                SubscriptionKind::FdRead(_) => SubscriptionKind::FdRead(fd.fd),
                _ => SubscriptionKind::FdWrite(fd.fd),
            };
            subs.push(Subscription {
                userdata: i as u64,
                kind,
            });
        }
        if let Some(timeout) = wait {
            subs.push(Subscription {
                userdata: host.len() as u64,
                kind: SubscriptionKind::Clock {
                    id: Clockid::Monotonic as u32,
                    timeout,
                    precision: 0,
                    flags: 0,
                },
            });
        }
        for event in (first.poll)(&subs)? {
            if let Some((sub, _)) = host.get(event.userdata as usize) {
                fired.push(Event {
                    userdata: sub.userdata,
                    ..event
                });
            }
        }
        if wait.is_some_and(|t| t > 0) {
            for d in deadlines.iter_mut() {
                d.now = self.clock.clock_time_get(caller, d.clock as u32, 0)?;
            }
        }
        Ok(())
    }
}

impl<C: Clock + 'static> Poll for VirtualPoll<C> {
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
        let mut host = Vec::new();
        for s in &subs {
            match s.kind {
                SubscriptionKind::FdRead(fd) | SubscriptionKind::FdWrite(fd) => {
                    if let Some(host_fd) = self.fs().and_then(|fs| fs.host_fd(caller, fd)) {
                        host.try_reserve(1).map_err(|_| Errno::Nomem)?;
                        host.push((*s, host_fd));
                        continue;
                    }
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
                } => {
                    // An unknown clock fails the whole call, as wasmtime.
                    let clock = Clockid::from_raw(id)?;
                    let now = self.clock.clock_time_get(caller, id, 0)?;
                    let at = if flags & subclockflags::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                        timeout
                    } else {
                        now.saturating_add(timeout)
                    };
                    deadlines.push(Deadline {
                        sub: s,
                        clock,
                        at,
                        now,
                    });
                }
            }
        }
        self.poll_host(caller, &host, &mut deadlines, &mut fired)?;
        // Clocks already due fire with the fd events; if nothing fired, the
        // earliest deadline is waited for (and any others due by then).
        if fired.is_empty()
            && !deadlines.iter().any(Deadline::due)
            && let Some(earliest) = deadlines.iter().min_by_key(|d| d.at)
        {
            let (clock, at) = (earliest.clock, earliest.at);
            self.clock.advance_to(clock, at);
            for d in deadlines.iter_mut().filter(|d| d.clock == clock) {
                d.now = d.now.max(at);
            }
        }
        for d in deadlines.iter().filter(|d| d.due()) {
            fired.push(event(d.sub, Eventtype::Clock, Errno::Success));
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
    use crate::passthrough::HostFd;
    use alloc::vec::Vec;

    /// `value`, for as long as the tests run: a guest's clock is a static,
    /// which off wasm it cannot be (not `Sync`, see [`crate::cell`]).
    fn leaked<T>(value: T) -> &'static T {
        alloc::boxed::Box::leak(alloc::boxed::Box::new(value))
    }

    fn clock_sub(userdata: u64, timeout: u64) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&userdata.to_le_bytes());
        b[16..20].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&timeout.to_le_bytes());
        b
    }

    #[test]
    fn a_sleep_finishes_by_advancing_the_virtual_clock() {
        let clock = leaked(VirtualClock::new(0, 0));
        let poll = VirtualPoll::new(clock);
        let mem = &FAKE_CALLER.memory;
        let mut subs = clock_sub(7, 5_000_000_000).to_vec();
        subs.extend(clock_sub(8, 9_000_000_000));
        mem.write(0, &subs).unwrap();
        assert_eq!(poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 2), Ok(1));
        assert_eq!(mem.read_u64(1000), Ok(7));
        assert_eq!(clock.clock_time_get(&FAKE_CALLER, 1, 0), Ok(5_000_000_000));
        assert_eq!(
            poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 0),
            Err(Errno::Inval)
        );
        assert_eq!(
            poll.poll_oneoff(&FAKE_CALLER, 65500, 1000, 1),
            Err(Errno::Fault)
        );
    }
    fn fd_read_sub(userdata: u64, fd: u32) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&userdata.to_le_bytes());
        b[8] = 1;
        b[16..20].copy_from_slice(&fd.to_le_bytes());
        b
    }

    /// A filesystem whose fd 0 is the host's fd 10; every other fd is a
    /// file that is always ready.
    struct HostStdin;
    impl Fs for HostStdin {
        fn fd_fdstat_get(&self, _: &Caller, _: Fd) -> Result<crate::types::Fdstat, Errno> {
            Ok(crate::types::Fdstat {
                fs_filetype: Filetype::CharacterDevice,
                fs_flags: 0,
                fs_rights_base: 0,
                fs_rights_inheriting: 0,
            })
        }
        fn host_fd(&self, _: &Caller, fd: Fd) -> Option<HostFd> {
            (fd == 0).then_some(HostFd {
                fd: 10,
                poll: silent_host,
            })
        }
    }
    static HOST_STDIN: HostStdin = HostStdin;

    std::thread_local! {
        static ASKED: core::cell::RefCell<Vec<Vec<Subscription>>> = const { core::cell::RefCell::new(Vec::new()) };
    }

    /// A host on whose fds nothing happens: its timer fires.
    fn silent_host(subs: &[Subscription]) -> Result<Vec<Event>, Errno> {
        ASKED.with(|a| a.borrow_mut().push(subs.to_vec()));
        Ok(subs
            .iter()
            .filter(|s| matches!(s.kind, SubscriptionKind::Clock { .. }))
            .map(|s| Event {
                userdata: s.userdata,
                error: Errno::Success,
                kind: Eventtype::Clock,
                nbytes: 0,
                flags: 0,
            })
            .collect())
    }

    #[test]
    fn the_hosts_fds_are_asked_of_the_host_with_the_deadline() {
        let clock = leaked(VirtualClock::new(0, 0));
        let poll = VirtualPoll::new(clock).with_fs(&HOST_STDIN);
        let mem = &FAKE_CALLER.memory;
        // stdin with a 2 s timeout: the host is asked about its fd 10
        // without waiting (a virtual clock cannot be waited for), then
        // virtual time jumps to the deadline.
        let mut subs = fd_read_sub(5, 0).to_vec();
        subs.extend(clock_sub(6, 2_000_000_000));
        mem.write(0, &subs).unwrap();
        assert_eq!(poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 2), Ok(1));
        assert_eq!(mem.read_u64(1000), Ok(6));
        let asked = ASKED.with(|a| a.borrow_mut().pop()).unwrap();
        assert_eq!(asked[0].kind, SubscriptionKind::FdRead(10));
        assert!(matches!(
            asked[1].kind,
            SubscriptionKind::Clock { timeout: 0, .. }
        ));
        assert_eq!(clock.clock_time_get(&FAKE_CALLER, 1, 0), Ok(2_000_000_000));
        // A file that is ready: the host is asked without waiting, and
        // only the file fires.
        let mut subs = fd_read_sub(5, 0).to_vec();
        subs.extend(fd_read_sub(7, 4));
        mem.write(0, &subs).unwrap();
        assert_eq!(poll.poll_oneoff(&FAKE_CALLER, 0, 1000, 2), Ok(1));
        assert_eq!(mem.read_u64(1000), Ok(7));
    }
}
