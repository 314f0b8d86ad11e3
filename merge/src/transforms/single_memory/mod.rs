//! `--single-memory`: one memory instead of one per module, for engines
//! without multi-memory (stable Safari, Node < 22).
//!
//! Runs on a finished, validated multi-memory output, so it composes with
//! every other pass. The memories are laid end to end in one memory, in
//! their order: memory 0 (the first target's) first, **at address 0**, so
//! that the target's loads and stores keep their encoding and cost: no
//! instruction is added to code that touches memory 0 only. Each later
//! memory `k` (other targets, the guest last) starts at a base kept in a
//! global, and every access to it adds that base:
//!
//! - a load: `global.get $base_k; i32.add` before it (2 instructions);
//! - a store: its value parked in a local, the base added to the address,
//!   the value back (4); `memory.fill/copy/init`: the same for the operands
//!   below the top (up to 7);
//! - `memory.size k` becomes `global.get $size_k` and `memory.grow k`
//!   `call $grow_k`: replaced one for one, in the target too (its size is
//!   no longer the real memory's size). These are counted apart.
//! - an active data segment of memory `k` lands at its offset plus the
//!   base `k` has at instantiation.
//!
//! `$grow_k` checks `k`'s own maximum, grows the memory, moves the regions
//! of the memories after `k` up with one `memory.copy`, zeroes the pages
//! `k` gained, and moves the bases. A target that grows therefore moves
//! the guest (a copy of the guest's memory: about 1 MiB for a Rust guest);
//! the guest, last, grows in place.
//!
//! The exported `memory` is the single memory; `wasi_virt_memory_base()`
//! (an export added here) says where the guest's addresses start in it.
//!
//! [`Order::GuestFirst`] lays the exported memory (the guest's) first
//! instead, then the others in their order: the guest's addresses are then
//! the memory's own, as tools that read the guest's memory from JavaScript
//! expect (wasm-bindgen), and it is the target's accesses that carry a base.
//! Everything above holds with the roles swapped: the guest grows by moving
//! the target up.
//!
//! The price of leaving the target's code alone: the target's accesses are
//! bounds-checked against the one memory, not its own region, so an access
//! past the end of the target's memory reaches the guest's region instead
//! of trapping. A correct program never does that; for a program that
//! must not be trusted with the guest, keep the multi-memory output.
//!
//! Limits, refused with a message: an imported memory, memory64, a shared
//! memory, atomics on a memory other than 0, an active data segment of
//! such a memory whose offset is not a constant, an export of such a
//! memory under another name than `memory`. Accesses of the guest past
//! its own region but inside the memory do not trap (the guest is the
//! runtime, whose bridge checks every target pointer before it copies).

// The pass's files, each depending only on those listed after it:
// `rewrite` walks the sections and writes each one's single-memory form,
// `grow` writes the functions the pass adds, `body` rewrites one function
// body, `scan` counts what a body needs before that, `access` reads an
// instruction's memory access, and `layout` places the memories and
// numbers what the pass adds.
mod access;
mod body;
mod grow;
mod layout;
mod rewrite;
mod scan;

use anyhow::Result;

use crate::module::Module;
use layout::Layout;

/// What the pass did, in instructions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// How many memories became one.
    pub memories: usize,
    /// Functions that touch memory 0 only (the first target's code and any
    /// other function that uses no other memory).
    pub memory0_functions: usize,
    /// Instructions added to those functions: 0 by construction, counted
    /// anyway.
    pub memory0_added: usize,
    /// Their `memory.size`/`memory.grow` replaced one for one by a global
    /// read or a call.
    pub memory0_replaced: usize,
    /// Functions that touch another memory (the guest's, the bridges).
    pub other_functions: usize,
    /// Instructions added to those.
    pub other_added: usize,
    /// Their `memory.size`/`memory.grow` replaced one for one.
    pub other_replaced: usize,
    /// The layout; under [`Order::GuestFirst`] the `memory0_*` counts are
    /// of the memory at address 0, the guest's.
    pub order: Order,
}

impl Report {
    /// One line for `-v`.
    pub fn describe(&self) -> String {
        format!(
            "single memory: {} memories in one; {} functions on {} only ({}): {} instructions added, {} memory.size/grow replaced 1:1; {} functions on other memories: {} instructions added, {} replaced 1:1",
            self.memories,
            self.memory0_functions,
            match self.order {
                Order::TargetFirst => "memory 0",
                Order::GuestFirst => "the guest's memory",
            },
            match self.order {
                Order::TargetFirst => "the target's code",
                Order::GuestFirst => "the guest's code, at address 0",
            },
            self.memory0_added,
            self.memory0_replaced,
            self.other_functions,
            self.other_added,
            self.other_replaced
        )
    }
}

/// Which memory lands at address 0 and keeps its code unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Order {
    /// Memory 0 (the first target's) first: the target's code is
    /// unchanged.
    #[default]
    TargetFirst,
    /// The exported `memory` (the guest's) first: the guest's addresses
    /// are the memory's own (for wasm-bindgen), and the target's accesses
    /// carry a base.
    GuestFirst,
}

/// Turns a validated multi-memory module into a single-memory one, laid
/// out in `order`.
pub fn run(bytes: &[u8], order: Order) -> Result<(Vec<u8>, Report)> {
    // The merge's own reading of a module: the memories, types, index
    // spaces and exports the layout needs. The rewrite walks the sections
    // once more to copy each in its place (see `rewrite`).
    let module = Module::parse("output", bytes)?;
    layout::refuse_unsupported(&module)?;
    let memories = module.memories.len();
    if memories <= 1 {
        // Nothing to do: already one memory.
        return Ok((
            bytes.to_vec(),
            Report {
                memories,
                order,
                ..Report::default()
            },
        ));
    }
    let exported_memory = layout::exported_memory(&module)?;
    let first = match order {
        Order::TargetFirst => 0,
        Order::GuestFirst => exported_memory,
    };
    let layout = Layout::new(&module, first, exported_memory)?;
    let (out, tallies) = rewrite::rewrite(&module, &layout)?;
    Ok((
        out,
        Report {
            memories,
            memory0_functions: tallies.memory0.functions,
            memory0_added: tallies.memory0.added,
            memory0_replaced: tallies.memory0.replaced,
            other_functions: tallies.other.functions,
            other_added: tallies.other.added,
            other_replaced: tallies.other.replaced,
            order,
        },
    ))
}

#[cfg(test)]
mod tests;
