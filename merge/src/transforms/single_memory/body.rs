//! The rewrite of one function body: the temporary locals it needs, and
//! each instruction on a memory written for the one memory (a base added
//! to its address, renumbered to memory 0, or `memory.size`/`memory.grow`
//! replaced by a global read or a call). A body with nothing to rewrite is
//! copied byte for byte.

use anyhow::{Result, bail};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{CodeSection, Function, Instruction as I, MemArg, ValType};
use wasmparser::{FunctionBody, Operator};

use super::access::{Access, TempKind, memory_access};
use super::layout::Layout;
use super::scan::{Scan, scan};

/// What the rewrite did to one class of functions, in instructions.
#[derive(Default)]
pub(super) struct Tally {
    /// How many functions.
    pub(super) functions: usize,
    /// Instructions added to them.
    pub(super) added: usize,
    /// Their `memory.size`/`memory.grow` replaced one for one.
    pub(super) replaced: usize,
}

/// The tallies the report is made of.
#[derive(Default)]
pub(super) struct Tallies {
    /// Functions that touch the memory at address 0 only.
    pub(super) memory0: Tally,
    /// Functions that touch another memory.
    pub(super) other: Tally,
}

/// Rewrites the bodies of one module, one at a time, and tallies them.
pub(super) struct BodyRewriter<'l> {
    layout: &'l Layout,
    /// Per memory, whether it has a base (is not at address 0).
    based: Vec<bool>,
    pub(super) tallies: Tallies,
}

enum Rewritten {
    /// Not touched: copy it.
    Copied,
    /// Written as one other instruction.
    Replaced,
    /// Written with added instructions around it.
    Expanded,
    /// Written as itself on memory 0: the memory at address 0 was another
    /// one (`Order::GuestFirst`); nothing added.
    Renumbered,
}

/// The locals a body's rewrite uses, by kind.
#[derive(Default)]
struct Temps(Vec<(TempKind, u32)>);

impl Temps {
    fn set(&mut self, kind: TempKind, local: u32) {
        self.0.push((kind, local));
    }

    fn get(&self, kind: TempKind, nth: usize) -> u32 {
        self.0
            .iter()
            .filter(|(k, _)| *k == kind)
            .nth(nth)
            .map(|(_, l)| *l)
            .expect("invariant: the scan counted every temporary a rewrite uses")
    }
}

impl<'l> BodyRewriter<'l> {
    pub(super) fn new(layout: &'l Layout) -> BodyRewriter<'l> {
        BodyRewriter {
            layout,
            based: layout.regions.iter().map(|r| r.base.is_some()).collect(),
            tallies: Tallies::default(),
        }
    }

    /// Rewrites one body, of a function with `params` parameters, into
    /// `code`; a body with nothing to rewrite is copied byte for byte.
    pub(super) fn function(
        &mut self,
        code: &mut CodeSection,
        body: &FunctionBody,
        params: u32,
    ) -> Result<()> {
        let scan = scan(body, &self.based)?;
        let only_memory0 = scan.memories_above_0 == 0;
        if only_memory0 {
            self.tallies.memory0.functions += 1;
        } else {
            self.tallies.other.functions += 1;
        }
        if scan.rewrites == 0 {
            code.raw(body.as_bytes());
            return Ok(());
        }
        let (locals, temps) = locals(body, params, &scan)?;
        let mut f = Function::new(locals);
        let mut added = 0usize;
        let mut replaced = 0usize;
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let op = ops.read()?;
            let before = added;
            match self.rewrite_op(&mut f, &op, &temps, &mut added)? {
                Rewritten::Copied => {
                    f.instruction(&RoundtripReencoder.instruction(op)?);
                }
                Rewritten::Replaced => replaced += 1,
                Rewritten::Expanded | Rewritten::Renumbered => {}
            }
            debug_assert!(added >= before);
        }
        code.function(&f);
        let tally = if only_memory0 {
            &mut self.tallies.memory0
        } else {
            &mut self.tallies.other
        };
        tally.added += added;
        tally.replaced += replaced;
        Ok(())
    }

    /// Writes the rewrite of `op` into `f`, or says to copy it.
    fn rewrite_op(
        &self,
        f: &mut Function,
        op: &Operator,
        temps: &Temps,
        added: &mut usize,
    ) -> Result<Rewritten> {
        use Operator as O;
        if let Some(access) = memory_access(op) {
            return self.rewrite_access(f, op, access, temps, added);
        }
        match *op {
            O::MemorySize { mem } => {
                f.instruction(&I::GlobalGet(self.layout.regions[mem as usize].size));
                Ok(Rewritten::Replaced)
            }
            O::MemoryGrow { mem } => {
                f.instruction(&I::Call(self.layout.regions[mem as usize].grow));
                Ok(Rewritten::Replaced)
            }
            O::MemoryFill { mem } => self.rewrite_fill(f, mem, temps, added),
            O::MemoryCopy { dst_mem, src_mem } => {
                self.rewrite_copy(f, dst_mem, src_mem, temps, added)
            }
            O::MemoryInit { data_index, mem } => {
                self.rewrite_init(f, data_index, mem, temps, added)
            }
            _ => Ok(Rewritten::Copied),
        }
    }

    /// A load or store (`access`, as [`memory_access`] read it): the base
    /// added to its address, the value above it parked meanwhile.
    fn rewrite_access(
        &self,
        f: &mut Function,
        op: &Operator,
        (memory, m, access): (u32, wasmparser::MemArg, Access),
        temps: &Temps,
        added: &mut usize,
    ) -> Result<Rewritten> {
        let Some(base) = self.layout.base(memory) else {
            // At address 0: as it is, in memory 0.
            if memory == 0 {
                return Ok(Rewritten::Copied);
            }
            f.instruction(&with_memarg(op, memarg_on_0(&m))?);
            return Ok(Rewritten::Renumbered);
        };
        match access {
            Access::Load => add_base(f, base, added),
            Access::Store(kind) => {
                let t = temps.get(kind, 0);
                f.instruction(&I::LocalSet(t));
                add_base(f, base, added);
                f.instruction(&I::LocalGet(t));
                *added += 2;
            }
            Access::Atomic => {
                bail!("an atomic access to memory {memory} cannot be rewritten for a single memory")
            }
        }
        let op = with_memarg(op, memarg_on_0(&m))?;
        f.instruction(&op);
        Ok(Rewritten::Expanded)
    }

    /// `memory.fill`: the base added to the address below the value and
    /// the length.
    fn rewrite_fill(
        &self,
        f: &mut Function,
        mem: u32,
        temps: &Temps,
        added: &mut usize,
    ) -> Result<Rewritten> {
        let Some(base) = self.layout.base(mem) else {
            if mem == 0 {
                return Ok(Rewritten::Copied);
            }
            f.instruction(&I::MemoryFill(0));
            return Ok(Rewritten::Renumbered);
        };
        let (len, value) = (temps.get(TempKind::I32, 0), temps.get(TempKind::I32, 1));
        f.instruction(&I::LocalSet(len));
        f.instruction(&I::LocalSet(value));
        add_base(f, base, added);
        f.instruction(&I::LocalGet(value));
        f.instruction(&I::LocalGet(len));
        *added += 4;
        f.instruction(&I::MemoryFill(0));
        Ok(Rewritten::Expanded)
    }

    /// `memory.copy`: each side's base added to its address, below the
    /// length.
    fn rewrite_copy(
        &self,
        f: &mut Function,
        dst_mem: u32,
        src_mem: u32,
        temps: &Temps,
        added: &mut usize,
    ) -> Result<Rewritten> {
        let (dst, src) = (self.layout.base(dst_mem), self.layout.base(src_mem));
        if dst.is_none() && src.is_none() {
            if dst_mem == 0 && src_mem == 0 {
                return Ok(Rewritten::Copied);
            }
            f.instruction(&I::MemoryCopy {
                src_mem: 0,
                dst_mem: 0,
            });
            return Ok(Rewritten::Renumbered);
        }
        let (len, from) = (temps.get(TempKind::I32, 0), temps.get(TempKind::I32, 1));
        f.instruction(&I::LocalSet(len));
        f.instruction(&I::LocalSet(from));
        *added += 2;
        if let Some(base) = dst {
            add_base(f, base, added);
        }
        f.instruction(&I::LocalGet(from));
        *added += 1;
        if let Some(base) = src {
            add_base(f, base, added);
        }
        f.instruction(&I::LocalGet(len));
        *added += 1;
        f.instruction(&I::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        });
        Ok(Rewritten::Expanded)
    }

    /// `memory.init`: the base added to the address below the segment's
    /// offset and the length.
    fn rewrite_init(
        &self,
        f: &mut Function,
        data_index: u32,
        mem: u32,
        temps: &Temps,
        added: &mut usize,
    ) -> Result<Rewritten> {
        let Some(base) = self.layout.base(mem) else {
            if mem == 0 {
                return Ok(Rewritten::Copied);
            }
            f.instruction(&I::MemoryInit { mem: 0, data_index });
            return Ok(Rewritten::Renumbered);
        };
        let (len, from) = (temps.get(TempKind::I32, 0), temps.get(TempKind::I32, 1));
        f.instruction(&I::LocalSet(len));
        f.instruction(&I::LocalSet(from));
        add_base(f, base, added);
        f.instruction(&I::LocalGet(from));
        f.instruction(&I::LocalGet(len));
        *added += 4;
        f.instruction(&I::MemoryInit { mem: 0, data_index });
        Ok(Rewritten::Expanded)
    }
}

/// The body's locals, then the temporaries its rewrite needs, one per kind
/// the scan counted; the temporaries are numbered after the `params`
/// parameters and the existing locals.
fn locals(body: &FunctionBody, params: u32, scan: &Scan) -> Result<(Vec<(u32, ValType)>, Temps)> {
    let mut locals: Vec<(u32, ValType)> = Vec::new();
    let mut next_local = params;
    for local in body.get_locals_reader()? {
        let (count, ty) = local?;
        next_local += count;
        locals.push((count, RoundtripReencoder.val_type(ty)?));
    }
    let mut temps = Temps::default();
    for (kind, needed) in [
        (TempKind::I32, scan.temps.i32),
        (TempKind::I64, scan.temps.i64),
        (TempKind::F32, scan.temps.f32),
        (TempKind::F64, scan.temps.f64),
        (TempKind::V128, scan.temps.v128),
    ] {
        for _ in 0..needed {
            temps.set(kind, next_local);
            locals.push((1, kind.val_type()));
            next_local += 1;
        }
    }
    Ok((locals, temps))
}

/// `global.get base; i32.add` on the address on top of the stack.
fn add_base(f: &mut Function, base: u32, added: &mut usize) {
    f.instruction(&I::GlobalGet(base));
    f.instruction(&I::I32Add);
    *added += 2;
}

/// `m` on memory 0.
fn memarg_on_0(m: &wasmparser::MemArg) -> MemArg {
    MemArg {
        offset: m.offset,
        align: m.align as u32,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// `op` with its memarg replaced (the memory index, for memory 0).
fn with_memarg<'a>(op: &Operator<'a>, memarg: MemArg) -> Result<I<'a>> {
    let mut reencoder = MemargTo0(memarg);
    Ok(reencoder.instruction(op.clone())?)
}

/// Re-encodes one instruction with its memarg swapped.
struct MemargTo0(MemArg);

impl Reencode for MemargTo0 {
    type Error = std::convert::Infallible;

    fn mem_arg(
        &mut self,
        _arg: wasmparser::MemArg,
    ) -> Result<MemArg, wasm_encoder::reencode::Error<Self::Error>> {
        Ok(self.0)
    }
}
