//! [`OneThread`]: how state shared without a lock may live in a `static`.
//!
//! A guest keeps its subsystems in statics (`static FS: Vfs`, `static
//! CLOCK: VirtualClock`), and they change at run time: behind `RefCell`s
//! and `Cell`s, which are not `Sync`, so a static cannot hold them as they
//! are. Every such field in the runtime (and in `pack`'s guest) is wrapped
//! in a [`OneThread`], the one type that declares it `Sync`, and only where
//! that holds: where the target cannot run threads. A type built on it is
//! `Sync` exactly when the target has one thread, so that a guest for a
//! target with threads is told so by the compiler, not by a data race.
//!
//! The runtime's own globals (captured stdio, the exit code, the host API's
//! result buffer) are each a `Global` (crate-private): a [`OneThread`] in a
//! static where the target cannot run threads, and one value per thread
//! elsewhere.

use core::ops::Deref;

/// A `T` that a static may hold even when `T` is not `Sync`, on a target
/// that cannot run threads: wasm without the `atomics` target feature
/// (`wasm32-unknown-unknown`, `wasm32-wasip1`, what every guest is built
/// for), which the runtime's build script marks with
/// `cfg(wasi_virt_one_thread)` (a stable rustc hides `atomics` from
/// `cfg(target_feature)`, even on `wasm32-wasip1-threads`).
///
/// It adds nothing but that: it dereferences to the `T`
/// (`OneThread<RefCell<…>>` borrows as a `RefCell` does). On any other
/// target (the host, where the runtime's unit tests run one test per
/// thread; wasm with `atomics`, such as `wasm32-wasip1-threads`, where a
/// program may run threads over a shared memory), `OneThread<T>` is `Sync`
/// only when `T` is: a `OneThread<RefCell<…>>`, and every type holding
/// one, cannot be put in a static there, nor shared between threads.
///
/// ```ignore
/// static LOG: OneThread<RefCell<Vec<u8>>> = OneThread::new(RefCell::new(Vec::new()));
/// LOG.borrow_mut().extend_from_slice(b"one thread: no lock, no data race");
/// ```
pub struct OneThread<T: ?Sized>(T);

// SAFETY: `Sync` lets a `&OneThread<T>` reach another thread; under this cfg
// (set by `build.rs`) there is no other thread. Wasm without the `atomics`
// feature has neither shared memory nor a way to start a thread: an
// instance runs on one thread at a time (its host may move it between its
// own threads, never run it on two at once), and its statics live in its
// own linear memory, which no other instance can reach. So the `T` is only
// ever used from one thread, which is all that `T: !Sync` asks.
//
// One case breaks the second half, and the merge makes up for it: merged
// with a threads program, the guest's memory becomes a memory shared by
// every thread's instance. The merge then runs guest code under one lock
// (`merge/src/passes/threads.rs`): taken on every way into the guest,
// released on every way out, so that guest code still runs on one thread
// at a time, each thread on a guest stack of its own.
#[cfg(wasi_virt_one_thread)]
unsafe impl<T: ?Sized> Sync for OneThread<T> {}

impl<T> OneThread<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> OneThread<T> {
        OneThread(value)
    }
}

impl<T: ?Sized> OneThread<T> {
    /// The value, in a `const fn` (where `*` cannot dereference). An
    /// associated function, so that it hides no method of `T`.
    pub const fn inner(this: &OneThread<T>) -> &T {
        &this.0
    }
}

impl<T: ?Sized> Deref for OneThread<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// One of the runtime's own globals, holding a `T` (declared with
/// [`global!`]).
///
/// Where the target cannot run threads it is a [`OneThread`] in a static:
/// one per instance, as a guest expects. Elsewhere each thread has its own
/// (a `thread_local!`, which is why the runtime links `std` there): sound,
/// and what the host-side unit tests want, one test per thread; a guest for
/// a target with threads would want them shared, which needs locks this
/// runtime does not have yet.
pub(crate) struct Global<T: 'static> {
    #[cfg(wasi_virt_one_thread)]
    value: OneThread<T>,
    #[cfg(not(wasi_virt_one_thread))]
    value: &'static std::thread::LocalKey<T>,
}

impl<T: 'static> Global<T> {
    /// The global holding `value` (by [`global!`]).
    #[cfg(wasi_virt_one_thread)]
    pub(crate) const fn new(value: T) -> Global<T> {
        Global {
            value: OneThread::new(value),
        }
    }

    /// The global whose value is each thread's `key` (by [`global!`]).
    #[cfg(not(wasi_virt_one_thread))]
    pub(crate) const fn per_thread(key: &'static std::thread::LocalKey<T>) -> Global<T> {
        Global { value: key }
    }

    /// Calls `f` with the value (this thread's, where there are threads).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        #[cfg(wasi_virt_one_thread)]
        return f(&self.value);
        #[cfg(not(wasi_virt_one_thread))]
        return self.value.with(f);
    }
}

/// `global!(Type = initializer)`: a [`Global`] holding a `Type` that starts
/// as the (`const`) initializer, for a static's initializer. Each use is a
/// global of its own.
#[cfg(wasi_virt_one_thread)]
macro_rules! global {
    ($ty:ty = $init:expr) => {
        $crate::cell::Global::<$ty>::new($init)
    };
}

/// `global!(Type = initializer)`: a [`Global`] holding a `Type` that starts
/// as the (`const`) initializer, for a static's initializer. Each use is a
/// global of its own.
#[cfg(not(wasi_virt_one_thread))]
macro_rules! global {
    ($ty:ty = $init:expr) => {{
        std::thread_local! {
            static VALUE: $ty = const { $init };
        }
        $crate::cell::Global::per_thread(&VALUE)
    }};
}

pub(crate) use global;

#[cfg(test)]
mod tests {
    use core::cell::{Cell, RefCell};

    use super::*;

    static COUNT: Global<Cell<u32>> = global!(Cell<u32> = Cell::new(0));
    static OTHER: Global<Cell<u32>> = global!(Cell<u32> = Cell::new(0));

    #[test]
    fn a_one_thread_value_is_its_value() {
        let cell = OneThread::new(RefCell::new(vec![1]));
        cell.borrow_mut().push(2);
        assert_eq!(*cell.borrow(), [1, 2]);
    }

    /// On the host a `OneThread` is `Sync` only when its value is: this
    /// compiles only if `OneThread<Cell<u8>>` is not `Sync` (the call is
    /// ambiguous otherwise).
    #[cfg(not(wasi_virt_one_thread))]
    #[test]
    fn off_wasm_a_one_thread_cell_is_not_sync() {
        trait NotSync<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotSync<()> for T {}
        impl<T: ?Sized + Sync> NotSync<u8> for T {}
        <OneThread<Cell<u8>> as NotSync<_>>::check();
        <OneThread<u8> as NotSync<u8>>::check();
    }

    #[cfg(not(wasi_virt_one_thread))]
    #[test]
    fn off_wasm_each_thread_has_its_own_globals() {
        COUNT.with(|c| c.set(c.get() + 1));
        COUNT.with(|c| c.set(c.get() + 1));
        assert_eq!(COUNT.with(Cell::get), 2);
        assert_eq!(OTHER.with(Cell::get), 0, "each use is its own global");
        let elsewhere = std::thread::spawn(|| COUNT.with(Cell::get));
        assert_eq!(elsewhere.join().unwrap(), 0);
    }
}
