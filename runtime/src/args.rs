//! `args_*` and `environ_*`: the program's arguments and environment.

use alloc::vec::Vec;
use core::cell::RefCell;

use crate::cell::OneThread;
use crate::memory::Caller;
use crate::types::Errno;

/// The program's arguments (`plug_args!`).
pub trait Args {
    /// `args_get`: writes `argc` pointers at `argv` and the NUL-terminated
    /// strings at `argv_buf`.
    fn args_get(&self, caller: &Caller, argv: u32, argv_buf: u32) -> Result<(), Errno>;
    /// `args_sizes_get`: `(argc, total bytes of the strings with their NULs)`.
    fn args_sizes_get(&self, caller: &Caller) -> Result<(u32, u32), Errno>;
}

/// The program's environment (`plug_env!`), entries as `KEY=VALUE`.
pub trait Env {
    /// `environ_get`, laid out as `args_get`.
    fn environ_get(&self, caller: &Caller, environ: u32, environ_buf: u32) -> Result<(), Errno>;
    /// `environ_sizes_get`, as `args_sizes_get`.
    fn environ_sizes_get(&self, caller: &Caller) -> Result<(u32, u32), Errno>;
}

/// A list of strings: the built-in for both [`Args`] and [`Env`].
///
/// Starts as the list given at build time; [`StringList::set`] replaces it
/// at run time (a host does so through the guest's exports before a run).
pub struct StringList {
    initial: &'static [&'static str],
    replaced: OneThread<RefCell<Option<Vec<Vec<u8>>>>>,
}

impl StringList {
    /// A list fixed at build time.
    pub const fn new(initial: &'static [&'static str]) -> StringList {
        StringList {
            initial,
            replaced: OneThread::new(RefCell::new(None)),
        }
    }

    /// Replaces the list (the strings must not contain NUL).
    pub fn set<I, S>(&self, items: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.replace(items.into_iter().map(|s| s.as_ref().to_vec()).collect());
    }

    /// Replaces the list with `items` (none may contain NUL).
    pub fn replace(&self, items: Vec<Vec<u8>>) {
        *self.replaced.borrow_mut() = Some(items);
    }

    /// Goes back to the build-time list.
    pub fn reset(&self) {
        *self.replaced.borrow_mut() = None;
    }

    /// Calls `f` with each entry, in order.
    pub fn with_items<R>(&self, f: impl FnOnce(&mut dyn Iterator<Item = &[u8]>) -> R) -> R {
        match &*self.replaced.borrow() {
            Some(items) => f(&mut items.iter().map(|s| s.as_slice())),
            None => f(&mut self.initial.iter().map(|s| s.as_bytes())),
        }
    }

    fn sizes(&self) -> Result<(u32, u32), Errno> {
        self.with_items(|items| {
            let (mut count, mut bytes) = (0u32, 0u32);
            for item in items {
                count = count.checked_add(1).ok_or(Errno::Overflow)?;
                let len = u32::try_from(item.len() + 1).map_err(|_| Errno::Overflow)?;
                bytes = bytes.checked_add(len).ok_or(Errno::Overflow)?;
            }
            Ok((count, bytes))
        })
    }

    /// Lays the list out as `args_get`/`environ_get` do: one copy for the
    /// pointer array, one for the strings.
    fn write(&self, caller: &Caller, ptrs_at: u32, buf_at: u32) -> Result<(), Errno> {
        let (count, bytes) = self.sizes()?;
        let mem = &caller.memory;
        mem.check(ptrs_at, count.checked_mul(4).ok_or(Errno::Fault)?)?;
        mem.check(buf_at, bytes)?;
        let mut ptrs = Vec::with_capacity(count as usize * 4);
        let mut buf = Vec::with_capacity(bytes as usize);
        self.with_items(|items| {
            for item in items {
                ptrs.extend_from_slice(&(buf_at + buf.len() as u32).to_le_bytes());
                buf.extend_from_slice(item);
                buf.push(0);
            }
        });
        mem.write(buf_at, &buf)?;
        mem.write(ptrs_at, &ptrs)
    }
}

impl Args for StringList {
    fn args_get(&self, caller: &Caller, argv: u32, argv_buf: u32) -> Result<(), Errno> {
        self.write(caller, argv, argv_buf)
    }
    fn args_sizes_get(&self, _: &Caller) -> Result<(u32, u32), Errno> {
        self.sizes()
    }
}

impl Env for StringList {
    fn environ_get(&self, caller: &Caller, environ: u32, environ_buf: u32) -> Result<(), Errno> {
        self.write(caller, environ, environ_buf)
    }
    fn environ_sizes_get(&self, _: &Caller) -> Result<(u32, u32), Errno> {
        self.sizes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::testing::FAKE_CALLER;

    #[test]
    fn lays_out_strings_like_a_host() {
        let list = StringList::new(&["app", "héllo", "a=b"]);
        assert_eq!(list.args_sizes_get(&FAKE_CALLER), Ok((3, 4 + 7 + 4)));
        list.args_get(&FAKE_CALLER, 100, 200).unwrap();
        let mem = &FAKE_CALLER.memory;
        assert_eq!(mem.read_u32(100), Ok(200));
        assert_eq!(mem.read_u32(104), Ok(204));
        assert_eq!(mem.read_u32(108), Ok(211));
        assert_eq!(mem.read_vec(200, 15).unwrap(), b"app\0h\xc3\xa9llo\0a=b\0");
        list.set(["x"]);
        assert_eq!(list.args_sizes_get(&FAKE_CALLER), Ok((1, 2)));
        assert_eq!(list.args_get(&FAKE_CALLER, 65534, 0), Err(Errno::Fault));
        list.reset();
        assert_eq!(list.args_sizes_get(&FAKE_CALLER), Ok((3, 15)));
    }
}
