//! # wasi-virt: write the WASI a program sees
//!
//! A *guest* is a small Rust crate built for `wasm32-wasip1` or
//! `wasm32-unknown-unknown`. It declares the programs (*targets*) it hosts
//! with [`import_wasm!`] and says who answers each of their WASI preview1
//! calls with the `plug_*!` macros; `wasi-virt merge guest.wasm app.wasm`
//! then produces one module with no imports in which every WASI call of
//! `app` is a direct call into the guest.
//!
//! ```ignore
//! use wasi_virt::prelude::*;
//!
//! import_wasm!(app);
//!
//! static SITE: EmbeddedNode = embed_dir!("site");
//! static PREOPENS: [Preopen; 1] = [Preopen::new("/", &SITE)];
//! static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
//! static ARGS: StringList = StringList::new(&["app", "--verbose"]);
//! static ENV: StringList = StringList::new(&["HOME=/"]);
//! static CLOCK: VirtualClock = VirtualClock::deterministic();
//! static RANDOM: SeededRandom = SeededRandom::new(42);
//! static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);
//!
//! plug_fs!(FS, app, self);
//! plug_args!(ARGS, app, self);
//! plug_env!(ENV, app, self);
//! plug_clock!(CLOCK, app, self);
//! plug_random!(RANDOM, app, self);
//! plug_poll!(POLL, app, self);
//! plug_process!(Exit, app, self);
//! plug_sched!(Yield, app, self);
//!
//! #[unsafe(no_mangle)]
//! pub extern "C" fn _start() {
//!     app::_start();
//! }
//! ```
//!
//! Every subsystem is a trait ([`Fs`], [`Args`], [`Env`], [`Clock`],
//! [`Random`], [`Process`], [`Sched`], [`Poll`], and [`Stdio`] behind the
//! filesystem's fds 0–2) with one method per preview1 function, so a guest
//! can bring its own implementation of any of them, or of one function
//! only (`plug_fs!(FS, app; fd_write = my_fd_write)`).
// `no_std` where the target cannot run threads (every guest's, see
// `build.rs`); elsewhere the runtime's globals are thread-locals, which need
// `std` (see `cell`).
#![cfg_attr(all(not(any(feature = "std", test)), wasi_virt_one_thread), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod args;
pub mod cell;
pub mod clock;
pub mod fs;
pub mod heap;
pub mod host;
#[cfg(all(feature = "host-api", target_family = "wasm"))]
mod host_api;
pub mod memory;
pub mod outputs;
pub mod passthrough;
pub mod poll;
pub mod process;
pub mod random;
pub mod sched;
pub mod snapshot0;
pub mod stdio;
pub mod types;

pub use args::{Args, Env, StringList};
pub use cell::OneThread;
pub use clock::{Clock, HostClock, VirtualClock};
pub use fs::{EmbeddedNode, Fs, Preopen, Vfs};
pub use memory::{Bridge, Caller, Memory};
pub use poll::{Poll, VirtualPoll};
pub use process::{Exit, Process};
pub use random::{HostRandom, Random, SeededRandom};
pub use sched::{Sched, Yield};
pub use stdio::{Stdio, StdioConfig, Stream};
pub use types::Errno;

/// The contract with the CLI (preview1 table, manifest, reserved names).
pub use wasi_virt_abi as abi;

/// Everything a guest usually needs, macros included.
pub mod prelude {
    pub use crate::args::{Args, Env, StringList};
    pub use crate::clock::{Clock, HostClock, VirtualClock};
    pub use crate::fs::{EmbeddedNode, Fs, Preopen, Vfs};
    pub use crate::memory::Caller;
    pub use crate::poll::{Poll, VirtualPoll};
    pub use crate::process::{Exit, Process};
    pub use crate::random::{HostRandom, Random, SeededRandom};
    pub use crate::sched::{Sched, Yield};
    pub use crate::stdio::{Stdio, StdioConfig, Stream};
    pub use crate::types::Errno;
    pub use wasi_virt_macros::*;
}

pub use wasi_virt_macros::*;

// Every built-in a guest keeps in a static is `Sync` where the target cannot
// run threads (what `cell::OneThread` is for), and only there.
#[cfg(wasi_virt_one_thread)]
const _: () = {
    const fn sync<T: Sync + ?Sized>() {}
    sync::<Vfs>();
    sync::<StringList>();
    sync::<VirtualClock>();
    sync::<SeededRandom>();
    sync::<VirtualPoll<VirtualClock>>();
    sync::<StdioConfig>();
    sync::<heap::Heap>();
    sync::<stdio::Capture>();
    sync::<stdio::Input>();
    sync::<host::ResultBuffer>();
};
