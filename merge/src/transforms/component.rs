//! `Options::component` (`merge --component`): the merged module wrapped as a component (the
//! `wit-component` crate's `ComponentEncoder`), after every other step, for
//! component hosts and `jco transpile`.
//!
//! What the encoder needs from the merged module comes from the guest,
//! which the merge keeps as it is: the world its `wit-bindgen` bindings
//! describe (custom sections named `component-type…`, which the merge keeps
//! with the guest's other custom sections), the exports of that world with
//! their `cabi_post_*`, `cabi_realloc`, and `memory`, the one memory the
//! canonical ABI reads and writes. The output's other memories (the
//! targets') are not exported, so the encoder leaves them alone: the
//! component holds the multi-memory module as it is (`jco transpile` needs
//! `--multi-memory` for it, and an engine with multi-memory). For engines
//! without, `--single-memory=guest-first` keeps the guest's addresses the
//! memory's own; the default `--single-memory` (target first) offsets them
//! by a base that the canonical ABI's pointers (from `cabi_realloc`, into
//! `memory`) do not carry, and is refused. The merged module imports
//! nothing, so the component imports nothing; the guest's other exports
//! (the host API) are not part of the world and are left out of the
//! component's.

use anyhow::{Context, Result, bail};
use wit_component::ComponentEncoder;

use super::single_memory::Order;
use crate::Options;
use crate::module::Module;
use crate::passes::validate::validate;

/// The prefix of the custom sections `wit-bindgen` writes a world into
/// (`component-type:wit-bindgen:0.61.1:…`).
const WORLD_SECTION_PREFIX: &str = "component-type";

/// Refuses, before any work, what cannot make a component: other output
/// options that need a core module, a guest with no world.
pub fn check(guest: &Module, options: &Options) -> Result<()> {
    if options.single_memory == Some(Order::TargetFirst) {
        bail!(
            "--component and --single-memory (target first) cannot go together: the canonical ABI reaches the guest's memory at the guest's own addresses, which that layout moves; use --single-memory=guest-first"
        );
    }
    if guest
        .customs
        .iter()
        .any(|c| c.name().starts_with(WORLD_SECTION_PREFIX))
    {
        return Ok(());
    }
    bail!(
        "{}: --component needs a guest that exports a WIT world (built with wit-bindgen: a `component-type` custom section), and this one has none",
        guest.name
    )
}

/// The component of the merged module `core`; it validates.
pub fn encode(core: &[u8]) -> Result<Vec<u8>> {
    let component = ComponentEncoder::default()
        .module(core)
        .context("while reading the guest's WIT world in the merged module")?
        .validate(true)
        .encode()
        .context("while making a component of the merged module")?;
    validate(&component).map_err(|e| {
        anyhow::anyhow!("internal error: the component does not validate: {e} (this is a wasi-virt bug; please report it with the input files)")
    })?;
    Ok(component)
}
