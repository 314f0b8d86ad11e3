//! [`Heap`]: a small allocator for `no_std` guests.
//!
//! A guest built with `std` gets Rust's `dlmalloc` (about 7 KB of code);
//! a `#![no_std]` guest names an allocator itself, and this one is under
//! 1 KB:
//!
//! ```ignore
//! #[global_allocator]
//! static HEAP: wasi_virt::heap::Heap = wasi_virt::heap::Heap::new();
//! ```
//!
//! or, with the panic handler such a guest needs too,
//! [`no_std_guest!`](crate::no_std_guest).
//!
//! How it works, and what it trades:
//! - Sizes are rounded up to a *class*: multiples of 8 up to 32 bytes,
//!   then four classes per power of two (40, 48, 56, 64, 80, 96, …), so a
//!   block wastes at most a quarter of its size.
//! - A freed block goes on its class's free list and is handed out again
//!   for the same class; blocks are never split or merged. A guest's
//!   allocations are few and repetitive (file contents, directory lists,
//!   fd entries), which is what this serves; a program whose sizes keep
//!   changing keeps the memory of old classes.
//! - New blocks come from a bump region that grows by whole pages with
//!   `memory.grow`. The block at the top of the region grows and shrinks in
//!   place, so a file appended to again and again (a `Vec` doubling at the
//!   top) is not copied at each step.
//! - Wasm memory never shrinks, so neither does the heap.
//!
//! One thread only, as a guest is (wasm32 without shared memory): the
//! state is a [`OneThread`], so a `Heap` is `Sync`, and can be the global
//! allocator, only on a target that cannot run threads.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

use crate::cell::OneThread;

/// What a `#![no_std]` guest needs besides the runtime: a [`Heap`] as its
/// global allocator, and a panic handler that traps (what a std guest built
/// with `panic = "abort"` does on wasm, without std's panic machinery).
/// Both only on wasm and outside `cfg(test)`, where the crate has std (a
/// test harness, `cargo clippy --all-targets`, needs it):
///
/// ```ignore
/// #![cfg_attr(all(target_family = "wasm", not(test)), no_std)]
///
/// wasi_virt::no_std_guest!();
/// ```
#[macro_export]
macro_rules! no_std_guest {
    () => {
        #[cfg(all(target_family = "wasm", not(test)))]
        #[global_allocator]
        static __WASI_VIRT_HEAP: $crate::heap::Heap = $crate::heap::Heap::new();

        #[cfg(all(target_family = "wasm", not(test)))]
        #[panic_handler]
        fn __wasi_virt_panic(_: &::core::panic::PanicInfo) -> ! {
            ::core::arch::wasm32::unreachable()
        }
    };
}

/// Bytes in a wasm page.
pub const PAGE: usize = 65536;

/// Every block is aligned to at least this (and holds a free-list link).
const MIN_ALIGN: usize = 8;

/// Classes of sizes up to `isize::MAX`: see [`class`].
const CLASSES: usize = 4 * (usize::BITS as usize - 4);

/// Where the heap's pages come from.
pub trait Pages {
    /// Adds `pages` pages and returns the address of the first, or `None`
    /// when the memory cannot grow.
    fn grow(&self, pages: usize) -> Option<usize>;
}

/// The guest's own memory, grown with `memory.grow`.
pub struct MemoryGrow;

#[cfg(target_family = "wasm")]
impl Pages for MemoryGrow {
    fn grow(&self, pages: usize) -> Option<usize> {
        match core::arch::wasm32::memory_grow(0, pages) {
            usize::MAX => None,
            before => Some(before * PAGE),
        }
    }
}

/// The allocator: per-class free lists over a bump region (see the module
/// documentation).
pub struct Heap<P = MemoryGrow> {
    // One thread: the state is never reached from two at once. Elsewhere
    // (the host-side tests) a heap is not `Sync` and cannot be a global
    // allocator.
    state: OneThread<UnsafeCell<State>>,
    pages: P,
}

struct State {
    /// The next free byte of the bump region.
    next: usize,
    /// The end of the bump region.
    end: usize,
    /// Pages grown so far.
    grown: usize,
    /// The first free block of each class (0: none); each free block holds
    /// the address of the next in its first word.
    free: [usize; CLASSES],
}

impl Heap<MemoryGrow> {
    /// A heap over the guest's own memory.
    pub const fn new() -> Self {
        Heap::with_pages(MemoryGrow)
    }
}

impl Default for Heap<MemoryGrow> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> Heap<P> {
    /// A heap whose pages come from `pages`.
    pub const fn with_pages(pages: P) -> Self {
        Heap {
            state: OneThread::new(UnsafeCell::new(State {
                next: 0,
                end: 0,
                grown: 0,
                free: [0; CLASSES],
            })),
            pages,
        }
    }
}

impl<P: Pages> Heap<P> {
    /// At least `pages` more pages: an eighth of what the heap has grown so
    /// far if that is more (else just `pages`, if the memory cannot grow
    /// that much). Each `memory.grow` costs the engine more than the pages
    /// (V8 makes a new `ArrayBuffer` of the whole memory, which it counts
    /// towards collecting garbage): a heap filled with thousands of files
    /// grows a few dozen times, not thousands. Returns the first new page's
    /// address and how many were added.
    fn grow(&self, state: &mut State, pages: usize) -> Option<(usize, usize)> {
        let ahead = pages.max(state.grown / 8);
        let (base, pages) = match self.pages.grow(ahead) {
            Some(base) => (base, ahead),
            None => (self.pages.grow(pages)?, pages),
        };
        state.grown += pages;
        Some((base, pages))
    }

    /// `size` bytes aligned to `align` from the bump region, growing it if
    /// needed; 0 when the memory cannot grow.
    fn bump(&self, state: &mut State, size: usize, align: usize) -> usize {
        if let Some(start) = fit(state.next, state.end, size, align) {
            state.next = start + size;
            return start;
        }
        // Enough pages for the block even if the new ones do not follow the
        // region (something else grew the memory in between).
        let Some(pages) = size
            .checked_add(align)
            .and_then(|bytes| bytes.checked_add(PAGE - 1))
            .map(|bytes| bytes / PAGE)
        else {
            return 0;
        };
        let Some((base, pages)) = self.grow(state, pages) else {
            return 0;
        };
        if base != state.end {
            state.next = base;
        }
        state.end = base + pages * PAGE;
        match fit(state.next, state.end, size, align) {
            Some(start) => {
                state.next = start + size;
                start
            }
            None => 0,
        }
    }
}

/// Where a block of `size` bytes aligned to `align` starts in
/// `next..end`, if it fits.
fn fit(next: usize, end: usize, size: usize, align: usize) -> Option<usize> {
    let start = next.checked_add(align - 1)? & !(align - 1);
    (start <= end && end - start >= size).then_some(start)
}

/// The class of a block of `size` bytes: its index and the bytes it holds.
fn class(size: usize) -> (usize, usize) {
    if size <= 32 {
        let index = size.max(1).div_ceil(8) - 1;
        return (index, (index + 1) * 8);
    }
    let last = size - 1;
    let top_bit = (usize::BITS - 1 - last.leading_zeros()) as usize;
    let shift = top_bit - 2;
    let quarter = (last >> shift) & 3;
    ((top_bit - 4) * 4 + quarter, (5 + quarter) << shift)
}

unsafe impl<P: Pages> GlobalAlloc for Heap<P> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread, and no other borrow of the state is live.
        let state = unsafe { &mut *self.state.get() };
        let (index, size) = class(layout.size());
        let align = layout.align().max(MIN_ALIGN);
        let head = state.free[index];
        if head != 0 && head % align == 0 {
            // SAFETY: a free block holds the next one's address.
            state.free[index] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        self.bump(state, size, align) as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        let state = unsafe { &mut *self.state.get() };
        let (index, size) = class(layout.size());
        let address = block as usize;
        if address + size == state.next {
            state.next = address;
            return;
        }
        // SAFETY: the block is ours, free, and at least 8 bytes.
        unsafe { *(block as *mut usize) = state.free[index] };
        state.free[index] = address;
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old_index, old_size) = class(layout.size());
        let (new_index, new_size_class) = class(new_size);
        if old_index == new_index {
            return block;
        }
        {
            // SAFETY: as in `alloc`; the borrow ends before `alloc` below.
            let state = unsafe { &mut *self.state.get() };
            let address = block as usize;
            if address + old_size == state.next {
                // The top block: move the top instead of the bytes.
                if state.end - address >= new_size_class {
                    state.next = address + new_size_class;
                    return block;
                }
                let missing = new_size_class - (state.end - address);
                if let Some((base, pages)) = self.grow(state, missing.div_ceil(PAGE)) {
                    if base == state.end {
                        state.end += pages * PAGE;
                        state.next = address + new_size_class;
                        return block;
                    }
                    // Not contiguous: the new pages start a new region.
                    state.next = base;
                    state.end = base + pages * PAGE;
                }
            }
        }
        // SAFETY: `layout.align()` is a power of two and the caller keeps
        // `new_size` within `isize::MAX` once rounded to it.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a fresh block of at least `new_size` bytes.
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks are live, distinct, and hold the bytes
            // copied.
            unsafe {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::vec::Vec;

    /// Pages from one zeroed arena; `gap` pages are skipped before every
    /// grow (as if another user of the memory had grown it).
    struct Arena {
        base: usize,
        used: Cell<usize>,
        limit: usize,
        gap: usize,
    }

    impl Arena {
        fn new(pages: usize, gap: usize) -> Arena {
            let memory: &'static mut [u8] = Vec::leak(vec![0u8; (pages + 1) * PAGE]);
            let base = (memory.as_ptr() as usize).next_multiple_of(PAGE);
            Arena {
                base,
                used: Cell::new(0),
                limit: pages,
                gap,
            }
        }
    }

    impl Pages for Arena {
        fn grow(&self, pages: usize) -> Option<usize> {
            let first = self.used.get() + self.gap;
            if first + pages > self.limit {
                return None;
            }
            self.used.set(first + pages);
            Some(self.base + first * PAGE)
        }
    }

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 1).unwrap()
    }

    #[test]
    fn classes_cover_every_size_and_waste_at_most_a_quarter() {
        let mut last = (0, 8);
        for size in 1..100_000usize {
            let (index, bytes) = class(size);
            assert!(bytes >= size, "{size} in {bytes}");
            assert!(
                size <= 32 || bytes - size < bytes / 4 + 1,
                "{size} in {bytes}"
            );
            assert!(index == last.0 || index == last.0 + 1, "{size}");
            assert_eq!(index == last.0, bytes == last.1, "{size}");
            assert_eq!(bytes % 8, 0);
            last = (index, bytes);
        }
        assert!(class(isize::MAX as usize).0 < CLASSES);
        assert_eq!(class(isize::MAX as usize).1, 1 << (usize::BITS - 1));
    }

    #[test]
    fn freed_blocks_are_reused_by_their_class() {
        let heap = Heap::with_pages(Arena::new(4, 0));
        unsafe {
            let a = heap.alloc(layout(100));
            let b = heap.alloc(layout(100));
            heap.dealloc(a, layout(100));
            // 100 and 110 share the 112-byte class.
            assert_eq!(heap.alloc(layout(110)), a);
            assert_ne!(heap.alloc(layout(100)), b);
        }
    }

    #[test]
    fn the_top_block_grows_in_place() {
        let heap = Heap::with_pages(Arena::new(64, 0));
        unsafe {
            let mut block = heap.alloc(layout(16));
            block.write(42);
            let first = block;
            let mut size = 16;
            while size < 1 << 20 {
                block = heap.realloc(block, layout(size), size * 2);
                size *= 2;
                assert_eq!(block, first, "copied at {size}");
            }
            assert_eq!(block.read(), 42);
        }
    }

    #[test]
    fn alignment_is_kept_when_reusing() {
        let heap = Heap::with_pages(Arena::new(4, 0));
        unsafe {
            let a = heap.alloc(layout(64));
            let _keep = heap.alloc(layout(8));
            heap.dealloc(a, layout(64));
            let aligned = Layout::from_size_align(64, 4096).unwrap();
            let b = heap.alloc(aligned);
            assert_eq!(b as usize % 4096, 0);
            assert_eq!(a as usize % 8, 0);
        }
    }

    #[test]
    fn out_of_memory_is_null() {
        let heap = Heap::with_pages(Arena::new(2, 0));
        unsafe {
            assert!(heap.alloc(layout(3 * PAGE)).is_null());
            let small = heap.alloc(layout(10));
            assert!(!small.is_null());
            assert!(heap.realloc(small, layout(10), 4 * PAGE).is_null());
        }
    }

    /// A seeded mix of allocations, frees and reallocations, each block
    /// filled with its own byte: no block overlaps another, and every byte
    /// survives until freed; with and without gaps between grows.
    #[test]
    fn random_use_keeps_every_byte() {
        for gap in [0, 1] {
            let heap = Heap::with_pages(Arena::new(4096, gap));
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for step in 0..20_000u32 {
                let roll = next();
                let size = match roll % 10 {
                    0 => (next() % 200_000) as usize + 1,
                    1..=3 => (next() % 4096) as usize + 1,
                    _ => (next() % 64) as usize + 1,
                };
                let fill = step as u8;
                unsafe {
                    match (roll >> 8) % 3 {
                        0 if !live.is_empty() => {
                            let at = (next() % live.len() as u64) as usize;
                            let (block, old, byte) = live.swap_remove(at);
                            check(block, old.size(), byte);
                            heap.dealloc(block, old);
                        }
                        1 if !live.is_empty() => {
                            let at = (next() % live.len() as u64) as usize;
                            let (block, old, byte) = live[at];
                            check(block, old.size(), byte);
                            let moved = heap.realloc(block, old, size);
                            assert!(!moved.is_null());
                            assert_eq!(moved as usize % old.align(), 0);
                            check(moved, old.size().min(size), byte);
                            moved.write_bytes(fill, size);
                            live[at] = (
                                moved,
                                Layout::from_size_align(size, old.align()).unwrap(),
                                fill,
                            );
                        }
                        _ => {
                            let align = 1 << (next() % 5);
                            let new = Layout::from_size_align(size, align).unwrap();
                            let block = heap.alloc(new);
                            assert!(!block.is_null());
                            assert_eq!(block as usize % align, 0);
                            block.write_bytes(fill, size);
                            live.push((block, new, fill));
                        }
                    }
                }
            }
            let mut ranges: Vec<(usize, usize)> = live
                .iter()
                .map(|&(b, l, _)| (b as usize, l.size()))
                .collect();
            ranges.sort();
            for pair in ranges.windows(2) {
                assert!(pair[0].0 + pair[0].1 <= pair[1].0, "blocks overlap");
            }
            for &(block, layout, byte) in &live {
                check(block, layout.size(), byte);
            }
        }
    }

    fn check(block: *mut u8, size: usize, byte: u8) {
        // SAFETY: a live block of at least `size` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(block, size) };
        assert!(bytes.iter().all(|&b| b == byte), "a block lost its bytes");
    }
}
