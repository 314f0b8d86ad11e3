//! Where each memory lands in the one memory, and the indices of what the
//! pass adds (a size and a base global per memory, a `$grow_k` per memory,
//! `wasi_virt_memory_base`); what cannot be laid out is refused here.

use anyhow::{Result, bail};
use wasmparser::{ExternalKind, TypeRef};

use crate::module::Module;

pub(super) const PAGE: u64 = 65536;
/// The largest memory, in pages, whose size in bytes still fits an `i32`
/// computation (`pages << 16`).
pub(super) const MAX_PAGES: u64 = 65535;

/// One memory of the input, as it lands in the output.
#[derive(Clone, Copy, Debug)]
pub(super) struct Region {
    pub(super) initial: u64,
    pub(super) maximum: Option<u64>,
    /// Output global holding its size in pages.
    pub(super) size: u32,
    /// Output global holding its base address (none for the memory at
    /// address 0).
    pub(super) base: Option<u32>,
    /// Output function replacing `memory.grow` on it.
    pub(super) grow: u32,
}

/// The memories' places and the indices of what the pass adds.
pub(super) struct Layout {
    /// Per memory, by its input index.
    pub(super) regions: Vec<Region>,
    /// The memories' input indices from address 0 up.
    pub(super) order: Vec<usize>,
    /// Type `(i32) -> i32` (grow) and `() -> i32` (base).
    pub(super) grow_type: u32,
    pub(super) base_type: u32,
    /// The function `wasi_virt_memory_base`.
    pub(super) base_func: u32,
    /// Which memory the exported `memory` is (its base is the one exported).
    pub(super) exported_memory: usize,
}

/// Refuses the memories a single memory cannot be made of: an imported
/// one, a 64-bit one, a shared one.
pub(super) fn refuse_unsupported(module: &Module) -> Result<()> {
    if let Some(import) = module
        .imports
        .iter()
        .find(|i| matches!(i.ty, TypeRef::Memory(_)))
    {
        bail!(
            "the output imports a memory ({}::{}); a single memory is made only of memories the output defines",
            import.module,
            import.name
        );
    }
    for m in &module.memories {
        if m.memory64 {
            bail!("a 64-bit memory cannot be merged into a single memory");
        }
        if m.shared {
            bail!("a shared memory cannot be merged into a single memory");
        }
    }
    Ok(())
}

/// The memory exported as `memory` (the guest's; the last one if none
/// is).
pub(super) fn exported_memory(module: &Module) -> Result<usize> {
    let mut exported_memory = module.memories.len() - 1;
    for e in &module.exports {
        if e.kind != ExternalKind::Memory || e.index == 0 {
            continue;
        }
        if e.name == "memory" {
            exported_memory = e.index as usize;
        } else {
            bail!(
                "the output exports memory {} as `{}`; in a single memory only `memory` (the guest's) keeps a base export",
                e.index,
                e.name
            );
        }
    }
    Ok(exported_memory)
}

impl Layout {
    /// Lays out the memories of `module`, `first` at address 0 and the
    /// others after it in their order; the pass's globals and functions
    /// come after the module's own.
    pub(super) fn new(module: &Module, first: usize, exported_memory: usize) -> Result<Layout> {
        let n = module.memories.len();
        let first_global = module.globals.imported + module.globals.defined;
        let first_func = module.func_types.len() as u32;
        let type_count = module.types.len() as u32;
        let placement: Vec<usize> = std::iter::once(first)
            .chain((0..n).filter(|&k| k != first))
            .collect();
        // Per memory a size global, and a base global for all but the one
        // at address 0.
        let mut regions = Vec::with_capacity(n);
        let mut next_global = first_global;
        for (k, m) in module.memories.iter().enumerate() {
            let base = (k != first).then_some(next_global + 1);
            regions.push(Region {
                initial: m.initial,
                maximum: m.maximum,
                size: next_global,
                base,
                grow: first_func + k as u32,
            });
            next_global += if base.is_some() { 2 } else { 1 };
        }
        let total: u64 = regions.iter().map(|r| r.initial).sum();
        if total > MAX_PAGES {
            bail!(
                "the memories start at {total} pages together, more than a single memory holds ({MAX_PAGES})"
            );
        }
        Ok(Layout {
            regions,
            order: placement,
            grow_type: type_count,
            base_type: type_count + 1,
            base_func: first_func + n as u32,
            exported_memory,
        })
    }

    /// Where memory `k` starts at instantiation: after the memories placed
    /// before it.
    pub(super) fn initial_base(&self, k: usize) -> u64 {
        self.order
            .iter()
            .take_while(|&&m| m != k)
            .map(|&m| self.regions[m].initial * PAGE)
            .sum()
    }

    /// The global holding memory `memory`'s base; none at address 0.
    pub(super) fn base(&self, memory: u32) -> Option<u32> {
        self.regions[memory as usize].base
    }
}
