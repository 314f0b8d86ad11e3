//! The target-memory bridge: reading and writing a target's linear memory
//! from the guest.
//!
//! In the merged module the target's memory and the guest's are two
//! memories; the guest reaches the target's through four bridge imports
//! (see [`wasi_virt_abi::names`]) that the CLI turns into single
//! `memory.copy` / `memory.fill` / `memory.size` instructions. Every access
//! is bounds-checked here first, in 64-bit arithmetic, so a hostile pointer
//! or length gets `EFAULT` and never traps inside the guest.

use alloc::vec::Vec;
use core::mem::MaybeUninit;

use crate::types::{Errno, Iovec};

/// The four primitive operations on one memory, and the one way to stop
/// the program that owns it.
///
/// `import_wasm!` builds one from the target's bridge and control imports;
/// [`Bridge::OWN`] works on the guest's own memory (for `plug_*!(…, self)`).
/// A `Bridge` is only function pointers; what makes it trusted is
/// [`Memory::new`] (or [`Caller::new`]), which is `unsafe` and says what
/// the functions must do.
#[derive(Clone, Copy)]
pub struct Bridge {
    /// Current size in 64 KiB pages.
    pub size: fn() -> u32,
    /// Copies `len` bytes from the memory at `src` to the guest's `dst`.
    /// Called only with a range already checked against `size`.
    pub read: unsafe fn(dst: *mut u8, src: u32, len: u32),
    /// Copies `len` bytes from the guest's `src` into the memory at `dst`.
    /// Called only with a range already checked against `size`.
    pub write: unsafe fn(dst: u32, src: *const u8, len: u32),
    /// Sets `len` bytes of the memory at `dst` to `value`.
    /// Called only with a range already checked against `size`.
    pub fill: unsafe fn(dst: u32, value: u8, len: u32),
    /// Asks the memory's program to unwind back to the guest with an exit
    /// code (the target's `wasi-virt:control/<target>::unwind`, see
    /// [`crate::process::exit`]); `false` when it cannot, which is always
    /// the case for the guest's own memory.
    pub unwind: fn(code: u32) -> bool,
}

impl Bridge {
    /// The guest's own memory, for the guest's own WASI calls: the memory
    /// the guest's Rust values live in, so a [`Memory`] over it must only
    /// be given addresses of buffers the guest hands out for that (see
    /// [`Caller::OWN`]).
    pub const OWN: Bridge = Bridge {
        size: own::size,
        read: own::read,
        write: own::write,
        fill: own::fill,
        unwind: own::unwind,
    };
}

/// Accessors for the guest's own memory (memory 0 of the guest as built).
mod own {
    #[cfg(target_family = "wasm")]
    pub fn size() -> u32 {
        core::arch::wasm32::memory_size(0) as u32
    }

    /// Off wasm (host-side unit tests) there is no "own memory" to address
    /// by integer pointer; report it empty so every access is `EFAULT`.
    #[cfg(not(target_family = "wasm"))]
    pub fn size() -> u32 {
        0
    }

    pub unsafe fn read(dst: *mut u8, src: u32, len: u32) {
        // SAFETY: the caller checked `src..src+len` against `size()`.
        unsafe { core::ptr::copy(src as usize as *const u8, dst, len as usize) }
    }

    pub unsafe fn write(dst: u32, src: *const u8, len: u32) {
        // SAFETY: the caller checked `dst..dst+len` against `size()`.
        unsafe { core::ptr::copy(src, dst as usize as *mut u8, len as usize) }
    }

    pub unsafe fn fill(dst: u32, value: u8, len: u32) {
        // SAFETY: the caller checked `dst..dst+len` against `size()`.
        unsafe { core::ptr::write_bytes(dst as usize as *mut u8, value, len as usize) }
    }

    /// The guest is not a target: nothing can unwind it.
    pub fn unwind(_code: u32) -> bool {
        false
    }
}

/// A target's linear memory, seen from the guest. All methods check bounds
/// against the memory's current size and answer `EFAULT` when out of range.
#[derive(Clone, Copy)]
pub struct Memory {
    bridge: Bridge,
}

impl Memory {
    /// A memory reached through `bridge`.
    ///
    /// # Safety
    ///
    /// The methods of a `Memory` are safe to call with any pointer and
    /// length (a target's, which may be hostile): they check the range
    /// against `bridge.size` and then trust the bridge to touch that range
    /// and nothing else. So `bridge` must be a bridge to one wasm memory
    /// (the *bridged* memory), for as long as the `Memory` (or a copy) is
    /// used:
    /// - `size` returns the bridged memory's current size in 64 KiB pages
    ///   (a wasm memory never shrinks, so a range checked stays valid);
    /// - `read(dst, src, len)`, for `src..src+len` inside that size and a
    ///   `dst` valid for writes of `len` bytes, copies those bytes of the
    ///   bridged memory to `dst` and writes nothing else; `write(dst, src,
    ///   len)` and `fill(dst, value, len)`, for `dst..dst+len` inside that
    ///   size (and a `src` valid for reads of `len` bytes), write those
    ///   bytes of the bridged memory and nothing else;
    /// - writing any bytes into the bridged memory, inside its size, breaks
    ///   nothing of the guest's: the bridged memory is not the guest's own
    ///   (a target's, reached through the imports `import_wasm!` declares,
    ///   which the merge turns into `memory.size`/`memory.copy`/
    ///   `memory.fill` on the target's memory: what `import_wasm!` passes),
    ///   or it is the guest's own and every address given to the `Memory`
    ///   is one of a buffer the guest owns for that ([`Bridge::OWN`], see
    ///   [`Caller::OWN`]);
    /// - `unwind` is the target's `wasi-virt:control/<target>::unwind` (see
    ///   [`crate::process::exit`]) or returns `false`.
    pub const unsafe fn new(bridge: Bridge) -> Memory {
        Memory { bridge }
    }

    /// The current size in bytes.
    pub fn size(&self) -> u64 {
        (self.bridge.size)() as u64 * 65536
    }

    /// `Ok` when `ptr..ptr+len` lies inside the memory.
    pub fn check(&self, ptr: u32, len: u32) -> Result<(), Errno> {
        if ptr as u64 + len as u64 <= self.size() {
            Ok(())
        } else {
            Err(Errno::Fault)
        }
    }

    /// Copies `buf.len()` bytes at `ptr` into `buf`, in one copy.
    pub fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let len = u32::try_from(buf.len()).map_err(|_| Errno::Fault)?;
        self.check(ptr, len)?;
        // SAFETY: range checked just above; `buf` is valid for `len` bytes.
        unsafe { (self.bridge.read)(buf.as_mut_ptr(), ptr, len) };
        Ok(())
    }

    /// [`Memory::read`] into a buffer not initialized first (zeroing a
    /// stack buffer is a bulk `memory.fill`, which costs an engine as much
    /// as the copy); returns the bytes read.
    pub(crate) fn read_uninit<'b>(
        &self,
        ptr: u32,
        buf: &'b mut [MaybeUninit<u8>],
    ) -> Result<&'b mut [u8], Errno> {
        let len = u32::try_from(buf.len()).map_err(|_| Errno::Fault)?;
        self.check(ptr, len)?;
        // SAFETY: range checked just above; `buf` is valid for `len` bytes,
        // which the copy initializes.
        unsafe {
            (self.bridge.read)(buf.as_mut_ptr().cast(), ptr, len);
            Ok(core::slice::from_raw_parts_mut(
                buf.as_mut_ptr().cast(),
                buf.len(),
            ))
        }
    }

    /// Reads `len` bytes at `ptr` into a new vector, in one copy.
    pub fn read_vec(&self, ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
        self.check(ptr, len)?;
        let mut buf = zeroed(len as usize)?;
        // SAFETY: range checked just above; `buf` has `len` bytes.
        unsafe { (self.bridge.read)(buf.as_mut_ptr(), ptr, len) };
        Ok(buf)
    }

    /// Copies `bytes` to `ptr`, in one copy.
    pub fn write(&self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::Fault)?;
        self.check(ptr, len)?;
        // SAFETY: range checked just above; `bytes` is valid for `len` bytes.
        unsafe { (self.bridge.write)(ptr, bytes.as_ptr(), len) };
        Ok(())
    }

    /// Sets `len` bytes at `ptr` to `value`.
    pub fn fill(&self, ptr: u32, value: u8, len: u32) -> Result<(), Errno> {
        self.check(ptr, len)?;
        // SAFETY: range checked just above.
        unsafe { (self.bridge.fill)(ptr, value, len) };
        Ok(())
    }

    /// Reads a little-endian `u16`.
    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        let mut b = [0; 2];
        self.read(ptr, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        let mut b = [0; 4];
        self.read(ptr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian `u64`.
    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        let mut b = [0; 8];
        self.read(ptr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a little-endian `u16`.
    pub fn write_u16(&self, ptr: u32, value: u16) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes a little-endian `u32`.
    pub fn write_u32(&self, ptr: u32, value: u32) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes a little-endian `u64`.
    pub fn write_u64(&self, ptr: u32, value: u64) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Reads an iovec array in one copy, and checks that every buffer it
    /// names lies inside the memory, so that a later scatter/gather cannot
    /// fail halfway.
    pub fn read_iovecs(&self, iovs: u32, iovs_len: u32) -> Result<Vec<Iovec>, Errno> {
        let bytes_len = iovs_len
            .checked_mul(Iovec::SIZE as u32)
            .ok_or(Errno::Fault)?;
        let raw = self.read_vec(iovs, bytes_len)?;
        let size = self.size();
        let mut out = Vec::new();
        out.try_reserve_exact(iovs_len as usize)
            .map_err(|_| Errno::Nomem)?;
        for c in raw.chunks_exact(Iovec::SIZE) {
            let iov = Iovec {
                buf: u32::from_le_bytes(c[0..4].try_into().unwrap()),
                buf_len: u32::from_le_bytes(c[4..8].try_into().unwrap()),
            };
            if iov.buf as u64 + iov.buf_len as u64 > size {
                return Err(Errno::Fault);
            }
            out.push(iov);
        }
        Ok(out)
    }

    /// [`Memory::read_iovecs`] without a heap allocation for the usual
    /// short arrays (up to [`Iovecs::INLINE`] entries, read onto the stack).
    pub(crate) fn iovecs(&self, iovs: u32, iovs_len: u32) -> Result<Iovecs, Errno> {
        if iovs_len as usize > Iovecs::INLINE {
            return self.read_iovecs(iovs, iovs_len).map(Iovecs::Heap);
        }
        let n = iovs_len as usize;
        let mut raw = [MaybeUninit::uninit(); Iovecs::INLINE * Iovec::SIZE];
        let raw = self.read_uninit(iovs, &mut raw[..n * Iovec::SIZE])?;
        let size = self.size();
        let mut out = [Iovec { buf: 0, buf_len: 0 }; Iovecs::INLINE];
        for (iov, c) in out.iter_mut().zip(raw.chunks_exact(Iovec::SIZE)) {
            *iov = Iovec {
                buf: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                buf_len: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            };
            if iov.buf as u64 + iov.buf_len as u64 > size {
                return Err(Errno::Fault);
            }
        }
        Ok(Iovecs::Inline(out, n as u8))
    }

    /// Gathers the bytes an iovec array names into one vector: one copy per
    /// buffer. The total is capped at `u32::MAX` (`EINVAL` beyond, as a host
    /// gives for an `ssize_t` overflow); `ENOMEM` when the guest cannot hold
    /// it (the buffers may all name the same bytes, so the total is not
    /// bounded by the target's memory).
    pub fn gather(&self, iovs: &[Iovec]) -> Result<Vec<u8>, Errno> {
        let total = iovs
            .iter()
            .try_fold(0u32, |acc, iov| acc.checked_add(iov.buf_len));
        let total = total.ok_or(Errno::Inval)?;
        let mut out = zeroed(total as usize)?;
        let mut at = 0usize;
        for iov in iovs {
            let end = at + iov.buf_len as usize;
            self.read(iov.buf, &mut out[at..end])?;
            at = end;
        }
        Ok(out)
    }

    /// Scatters `bytes` over an iovec array, one copy per buffer, until
    /// either runs out. Returns the number of bytes written.
    pub fn scatter(&self, iovs: &[Iovec], mut bytes: &[u8]) -> Result<u32, Errno> {
        let mut done = 0u32;
        for iov in iovs {
            if bytes.is_empty() {
                break;
            }
            let n = (iov.buf_len as usize).min(bytes.len());
            self.write(iov.buf, &bytes[..n])?;
            bytes = &bytes[n..];
            done += n as u32;
        }
        Ok(done)
    }
}

/// An iovec array read by [`Memory::iovecs`].
pub(crate) enum Iovecs {
    /// Up to [`Iovecs::INLINE`] entries, and how many.
    Inline([Iovec; Iovecs::INLINE], u8),
    /// More.
    Heap(Vec<Iovec>),
}

impl Iovecs {
    /// The most entries kept on the stack.
    pub(crate) const INLINE: usize = 8;
}

impl core::ops::Deref for Iovecs {
    type Target = [Iovec];

    fn deref(&self) -> &[Iovec] {
        match self {
            Iovecs::Inline(iovs, n) => &iovs[..*n as usize],
            Iovecs::Heap(iovs) => iovs,
        }
    }
}

/// A zeroed buffer of `len` bytes, or `ENOMEM`: a target chooses `len`, and
/// running the guest out of memory would trap inside it.
fn zeroed(len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Errno::Nomem)?;
    buf.resize(len, 0);
    Ok(buf)
}

/// Who is calling: the target (or the guest itself, `self`) whose WASI
/// import led here, and its memory.
///
/// `import_wasm!(app)` defines `app::CALLER`; [`Caller::OWN`] is the guest's
/// own. Subsystems that keep per-caller state (the fd table) key it by
/// [`Caller::name`].
pub struct Caller {
    /// The target name from `import_wasm!`, or `self`.
    pub name: &'static str,
    /// The caller's memory.
    pub memory: Memory,
}

impl Caller {
    /// The guest itself: for the shims of `plug_*!(…, self)`, whose
    /// pointers are those the guest's own WASI calls pass (its libc's
    /// buffers, as it would pass them to host WASI), and for the runtime's
    /// own buffers. Its memory writes into the guest's own memory at the
    /// address it is given: hand it no other address.
    // SAFETY: `Bridge::OWN` copies with `core::ptr::copy`/`write_bytes`
    // inside memory 0, whose size it reports with `memory.size` (0 off
    // wasm: no range is ever inside); `unwind` returns `false`. The
    // addresses are the guest's own buffers, as said above.
    pub const OWN: Caller = unsafe { Caller::new(wasi_virt_abi::names::SELF_TARGET, Bridge::OWN) };

    /// A caller called `name` whose memory is reached through `bridge`.
    ///
    /// # Safety
    ///
    /// As for [`Memory::new`]`(bridge)`.
    pub const unsafe fn new(name: &'static str, bridge: Bridge) -> Caller {
        Caller {
            name,
            // SAFETY: the caller keeps `Memory::new`'s contract.
            memory: unsafe { Memory::new(bridge) },
        }
    }

    /// Asks the caller's program to unwind back to the guest call that
    /// entered it, with exit code `code`: `true` when it is unwinding (the
    /// caller must then return to it), `false` when it cannot. See
    /// [`crate::process::exit`], the one user of this.
    pub fn unwind(&self, code: u32) -> bool {
        (self.memory.bridge.unwind)(code)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake target memory for host-side unit tests.
    use super::*;
    use core::cell::RefCell;

    std::thread_local! {
        static FAKE: RefCell<Vec<u8>> = RefCell::new(vec![0; 65536]);
    }

    fn size() -> u32 {
        FAKE.with(|m| (m.borrow().len() / 65536) as u32)
    }
    unsafe fn read(dst: *mut u8, src: u32, len: u32) {
        FAKE.with(|m| {
            let m = m.borrow();
            let src = &m[src as usize..(src + len) as usize];
            // SAFETY: the caller passes a `dst` valid for `len` bytes.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, len as usize) }
        })
    }
    unsafe fn write(dst: u32, src: *const u8, len: u32) {
        FAKE.with(|m| {
            let mut m = m.borrow_mut();
            // SAFETY: the caller passes a `src` valid for `len` bytes.
            let src = unsafe { core::slice::from_raw_parts(src, len as usize) };
            m[dst as usize..(dst + len) as usize].copy_from_slice(src);
        })
    }
    unsafe fn fill(dst: u32, value: u8, len: u32) {
        FAKE.with(|m| m.borrow_mut()[dst as usize..(dst + len) as usize].fill(value))
    }
    fn unwind(_: u32) -> bool {
        false
    }

    /// A caller whose memory is one thread-local 64 KiB page.
    // SAFETY: the functions above copy within the thread-local page, which
    // never changes size, and slice it (a range outside would panic, never
    // reach past it); no Rust value lives in it but its bytes.
    pub static FAKE_CALLER: Caller = unsafe {
        Caller::new(
            "test",
            Bridge {
                size,
                read,
                write,
                fill,
                unwind,
            },
        )
    };
}

#[cfg(test)]
mod tests {
    use super::testing::FAKE_CALLER;
    use crate::types::Errno;

    #[test]
    fn out_of_range_is_efault_not_a_trap() {
        let mem = &FAKE_CALLER.memory;
        assert_eq!(mem.write(65535, &[1, 2]), Err(Errno::Fault));
        assert_eq!(mem.read_vec(u32::MAX, 2), Err(Errno::Fault));
        assert_eq!(mem.read_iovecs(0, u32::MAX), Err(Errno::Fault));
        assert_eq!(mem.write(65534, &[1, 2]), Ok(()));
        assert_eq!(mem.read_u16(65534), Ok(0x0201));
    }

    #[test]
    fn iovecs_naming_memory_past_the_end_are_efault() {
        let mem = &FAKE_CALLER.memory;
        mem.write_u32(0, 100).unwrap();
        mem.write_u32(4, u32::MAX).unwrap();
        assert_eq!(mem.read_iovecs(0, 1), Err(Errno::Fault));
        mem.write_u32(4, 10).unwrap();
        let iovs = mem.read_iovecs(0, 1).unwrap();
        assert_eq!(mem.scatter(&iovs, b"hello"), Ok(5));
        assert_eq!(mem.gather(&iovs).unwrap()[..5], *b"hello");
    }
}
