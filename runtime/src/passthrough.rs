//! Host passthrough: the few preview1 calls a guest forwards to a real host
//! when the user asks for it (`HostClock`, `HostRandom`, inherited stdio).
//!
//! They are imported from [`PASSTHROUGH_MODULE`](wasi_virt_abi::names::PASSTHROUGH_MODULE),
//! not from `wasi_snapshot_preview1`: the guest's own preview1 imports are
//! rewired into the guest by `plug_*!(…, self)`, and a passthrough must not
//! loop back into itself. The CLI renames the module in the output. Only
//! the functions a guest actually uses become imports.

#[cfg(target_family = "wasm")]
mod imports {
    #[link(wasm_import_module = "wasi-virt:passthrough")]
    unsafe extern "C" {
        pub fn clock_res_get(id: u32, out: *mut u64) -> i32;
        pub fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
        pub fn random_get(buf: *mut u8, len: u32) -> i32;
        pub fn fd_write(fd: u32, iovs: *const [u32; 2], iovs_len: u32, nwritten: *mut u32) -> i32;
        pub fn fd_read(fd: u32, iovs: *const [u32; 2], iovs_len: u32, nread: *mut u32) -> i32;
        pub fn proc_exit(rval: u32) -> !;
        pub fn poll_oneoff(
            subscriptions: *const u8,
            events: *mut u8,
            nsubscriptions: u32,
            nevents: *mut u32,
        ) -> i32;
        pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> i32;
    }
}

use alloc::vec::Vec;

use crate::types::Errno;
#[cfg(target_family = "wasm")]
use crate::types::{Event, Fdstat, Subscription};

/// A host fd a guest hands through (an inherited standard stream), with
/// the host's `poll_oneoff` to ask whether it is ready. Held as a function
/// pointer so that only a guest that inherits some fd links that import.
#[derive(Clone, Copy, Debug)]
pub struct HostFd {
    /// The host's fd number.
    pub fd: u32,
    /// The host's `poll_oneoff` ([`poll_oneoff`]).
    pub poll: fn(&[crate::types::Subscription]) -> Result<Vec<crate::types::Event>, Errno>,
}

#[cfg(target_family = "wasm")]
fn check(raw: i32) -> Result<(), Errno> {
    match raw {
        0 => Ok(()),
        e => Err(Errno::from_raw(e as u16).unwrap_or(Errno::Io)),
    }
}

/// The host's `clock_res_get`.
#[cfg(target_family = "wasm")]
pub fn clock_res_get(id: u32) -> Result<u64, Errno> {
    let mut out = 0;
    // SAFETY: `out` is a valid guest pointer for the host to write to.
    check(unsafe { imports::clock_res_get(id, &mut out) })?;
    Ok(out)
}

/// The host's `clock_time_get`.
#[cfg(target_family = "wasm")]
pub fn clock_time_get(id: u32, precision: u64) -> Result<u64, Errno> {
    let mut out = 0;
    // SAFETY: `out` is a valid guest pointer for the host to write to.
    check(unsafe { imports::clock_time_get(id, precision, &mut out) })?;
    Ok(out)
}

/// The host's `random_get` into a guest buffer.
#[cfg(target_family = "wasm")]
pub fn random_get(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: `buf` is valid guest memory of the given length.
    check(unsafe { imports::random_get(buf.as_mut_ptr(), buf.len() as u32) })
}

/// The host's `fd_write` of one guest buffer; returns bytes written.
#[cfg(target_family = "wasm")]
pub fn fd_write(fd: u32, bytes: &[u8]) -> Result<usize, Errno> {
    let iov = [bytes.as_ptr() as u32, bytes.len() as u32];
    let mut n = 0;
    // SAFETY: one iovec naming valid guest memory; `n` is writable.
    check(unsafe { imports::fd_write(fd, &iov, 1, &mut n) })?;
    Ok(n as usize)
}

/// The host's `fd_read` into one guest buffer; returns bytes read.
#[cfg(target_family = "wasm")]
pub fn fd_read(fd: u32, buf: &mut [u8]) -> Result<usize, Errno> {
    let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let mut n = 0;
    // SAFETY: one iovec naming valid guest memory; `n` is writable.
    check(unsafe { imports::fd_read(fd, &iov, 1, &mut n) })?;
    Ok(n as usize)
}

/// The host's `proc_exit`: the host ends the program with `code` (a WASI
/// host such as the wasmtime CLI exits with it).
#[cfg(target_family = "wasm")]
pub fn proc_exit(code: u32) -> ! {
    // SAFETY: `proc_exit` takes a plain integer and does not return.
    unsafe { imports::proc_exit(code) }
}

/// The host's `poll_oneoff`: blocks until one of `subscriptions` fires
/// and returns the events.
#[cfg(target_family = "wasm")]
pub fn poll_oneoff(subscriptions: &[Subscription]) -> Result<Vec<Event>, Errno> {
    let mut raw = Vec::new();
    raw.try_reserve_exact(subscriptions.len() * Subscription::SIZE)
        .map_err(|_| Errno::Nomem)?;
    subscriptions
        .iter()
        .for_each(|s| raw.extend_from_slice(&s.to_bytes()));
    let mut out = Vec::new();
    out.try_reserve_exact(subscriptions.len() * Event::SIZE)
        .map_err(|_| Errno::Nomem)?;
    out.resize(subscriptions.len() * Event::SIZE, 0);
    let mut n = 0;
    // SAFETY: `raw` holds `len` subscriptions and `out` room for as many
    // events, both in guest memory; `n` is writable.
    check(unsafe {
        imports::poll_oneoff(
            raw.as_ptr(),
            out.as_mut_ptr(),
            subscriptions.len() as u32,
            &mut n,
        )
    })?;
    out.chunks_exact(Event::SIZE)
        .take(n as usize)
        .map(|c| Event::from_bytes(c.try_into().unwrap()))
        .collect()
}

/// The host's `fd_fdstat_get` (what the host says about an inherited
/// stdio fd: a terminal, a pipe, a file).
#[cfg(target_family = "wasm")]
pub fn fd_fdstat_get(fd: u32) -> Result<Fdstat, Errno> {
    let mut out = [0u8; 24];
    // SAFETY: `out` is 24 writable bytes of guest memory, an fdstat's size.
    check(unsafe { imports::fd_fdstat_get(fd, out.as_mut_ptr()) })?;
    Fdstat::from_bytes(&out)
}

// Off wasm there is no host to pass through to (host-side unit tests).
#[cfg(not(target_family = "wasm"))]
mod off_wasm {
    use super::Errno;
    /// Not available off wasm.
    pub fn clock_res_get(_: u32) -> Result<u64, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn clock_time_get(_: u32, _: u64) -> Result<u64, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn random_get(_: &mut [u8]) -> Result<(), Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn fd_write(_: u32, _: &[u8]) -> Result<usize, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn fd_read(_: u32, _: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn poll_oneoff(
        _: &[crate::types::Subscription],
    ) -> Result<super::Vec<crate::types::Event>, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm.
    pub fn fd_fdstat_get(_: u32) -> Result<crate::types::Fdstat, Errno> {
        Err(Errno::Nosys)
    }
    /// Not available off wasm: panics.
    pub fn proc_exit(code: u32) -> ! {
        panic!("wasi-virt: host proc_exit({code}) off wasm")
    }
}
#[cfg(not(target_family = "wasm"))]
pub use off_wasm::*;
