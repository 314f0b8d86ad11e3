//! The merge, as a pipeline of small passes.
//!
//! Each pass is one `run` function in a file of its own, with a test that
//! builds its inputs by hand. A pass uses the shared vocabulary
//! ([`crate::types`]), the index translation ([`crate::index`]) and what
//! earlier passes produced; it never uses a later pass. The pipeline below
//! is the whole merge; reading it top to bottom tells what happens to a
//! guest and its targets:
//!
//! 1. [`read_manifest`]: what the guest says about itself.
//! 2. [`bind_targets`]: which input is which target.
//! 3. [`check_imports`]: every import of every input is checked and given a
//!    [`Role`]; all input problems are found here, before anything is laid
//!    out or written.
//! 4. [`layout`]: where everything lands in the output's index spaces: the
//!    (first) target's memory is memory 0, the guest's memory is last; where
//!    it can, the first target keeps every index it had (its WASI imports
//!    become trampolines at their own indices). Layout owns the allocation
//!    of output indices; later passes ask its [`Plan`](layout::Plan) for more.
//! 5. [`control`]: run control: the entries, unwinding and reset of the
//!    targets (`wrap_unreachable!`, `app::reset()`), allocated, and the code
//!    rewrite of [`wrap_unreachable`] analysed.
//! 6. [`rewire_imports`]: each replaced import is pointed at what replaces it
//!    (a target's WASI import at the guest's plug, a guest's target import at
//!    the target's export or at run control's entry).
//!
//!    Then [`threads`], for a threads program: the guest's memory shared,
//!    a lock around every way into guest code, `wasi_thread_start`.
//! 7. The bodies of the functions the merge writes itself:
//!    [`bridge_memories`] (one `memory.copy`/`memory.fill`/`memory.size`
//!    each), [`generated`] (traps, `pack`'s data), [`control_bodies`] (with
//!    [`reset`]), [`start`] (the start wrapper).
//! 8. [`emit`]: one streaming pass over all inputs: a target that kept its
//!    indices is copied byte for byte, the rest is spliced through the maps.
//! 9. [`validate`]: the output must validate, or nothing is written.

pub mod bind_targets;
pub mod bridge_memories;
pub mod check_imports;
pub mod control;
pub mod control_bodies;
pub mod emit;
pub mod generated;
pub mod layout;
pub mod read_manifest;
pub mod reset;
pub mod rewire_imports;
pub mod start;
pub mod threads;
pub mod validate;
pub mod wrap_unreachable;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod pipeline;

use std::time::{Duration, Instant};

use anyhow::Result;
use wasi_virt_abi::manifest::Manifest;

use crate::module::Module;
use crate::types::{Extras, Role, Strategy, Target};

/// How long the expensive passes took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Passes 3 to 8: checking, planning, re-encoding.
    pub encode: Duration,
    /// Pass 9.
    pub validate: Duration,
}

/// Runs passes 3 to 9 on a guest whose manifest is read and whose targets
/// are bound and parsed; returns the bytes of a validated output, and how
/// long the expensive parts took.
pub fn merge(
    guest: &Module,
    manifest: &Manifest,
    targets: &[Target],
    extras: Extras,
    unwind: Strategy,
) -> Result<(Vec<u8>, Timings)> {
    let started = Instant::now();
    let roles = check_imports::run(manifest, guest, targets, &extras.stubs)?;
    let uses_pack = roles
        .iter()
        .flatten()
        .any(|r| matches!(r, Role::Generated(g) if g.is_pack()));
    if uses_pack && extras.pack.is_none() {
        anyhow::bail!(
            "{} imports {} functions, which only `wasi-virt pack` provides (it is the default guest of pack, not a guest to merge)",
            guest.name,
            wasi_virt_abi::pack::MODULE
        );
    }
    let mut modules: Vec<&Module> = targets.iter().map(|t| &t.module).collect();
    modules.push(guest);
    let mut plan = layout::run(&modules, &roles, extras);
    let control = control::run(&mut plan, &modules, &roles, targets, manifest, unwind)?;
    rewire_imports::run(&mut plan, &modules, &roles, &control.answers)?;
    let threads = threads::run(&mut plan, &modules, &roles)?;
    bridge_memories::run(&mut plan);
    generated::run(&mut plan);
    control_bodies::run(&mut plan, &modules, &control)?;
    start::run(&mut plan, &modules)?;
    let bytes = emit::run(&plan, &modules, &control, threads.as_ref())?;
    let encoded = Instant::now();
    validate::run(&bytes, &modules)?;
    let timings = Timings {
        encode: encoded - started,
        validate: encoded.elapsed(),
    };
    Ok((bytes, timings))
}
