//! The contract between a wasi-virt guest and the `wasi-virt` CLI, written once
//! and used by both sides: the table of preview1 functions ([`preview1`]), the
//! subsystems they are plugged by ([`Subsystem`]), the names the guest imports
//! and exports ([`names`]) and the manifest the macros emit ([`manifest`]).
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub mod manifest;
pub mod names;
pub mod pack;
pub mod preview1;
pub mod snapshot0;

/// A group of preview1 functions that one `plug_*!` macro provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subsystem {
    /// `args_get`, `args_sizes_get`
    Args,
    /// `environ_get`, `environ_sizes_get`
    Env,
    /// `clock_res_get`, `clock_time_get`
    Clock,
    /// `random_get`
    Random,
    /// `proc_exit`, `proc_raise`
    Process,
    /// `sched_yield`
    Sched,
    /// `poll_oneoff`
    Poll,
    /// every `fd_*`, `path_*` and `sock_*` function (stdio is fds 0–2)
    Fs,
}

impl Subsystem {
    /// Every subsystem.
    pub const ALL: [Subsystem; 8] = [
        Subsystem::Args,
        Subsystem::Env,
        Subsystem::Clock,
        Subsystem::Random,
        Subsystem::Process,
        Subsystem::Sched,
        Subsystem::Poll,
        Subsystem::Fs,
    ];

    /// The short name: `fs`, `env`…, as in `plug_fs!`.
    pub const fn name(self) -> &'static str {
        match self {
            Subsystem::Args => "args",
            Subsystem::Env => "env",
            Subsystem::Clock => "clock",
            Subsystem::Random => "random",
            Subsystem::Process => "process",
            Subsystem::Sched => "sched",
            Subsystem::Poll => "poll",
            Subsystem::Fs => "fs",
        }
    }

    /// The runtime trait an implementation of this subsystem implements.
    pub const fn trait_name(self) -> &'static str {
        match self {
            Subsystem::Args => "Args",
            Subsystem::Env => "Env",
            Subsystem::Clock => "Clock",
            Subsystem::Random => "Random",
            Subsystem::Process => "Process",
            Subsystem::Sched => "Sched",
            Subsystem::Poll => "Poll",
            Subsystem::Fs => "Fs",
        }
    }

    /// Looks a subsystem up by its short name.
    pub fn from_name(name: &str) -> Option<Subsystem> {
        Subsystem::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The preview1 functions of this subsystem.
    pub fn functions(self) -> impl Iterator<Item = &'static preview1::Function> {
        preview1::FUNCTIONS
            .iter()
            .filter(move |f| f.subsystem == self)
    }
}

impl core::fmt::Display for Subsystem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "plug_{}!", self.name())
    }
}
