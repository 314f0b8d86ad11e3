//! Reset: a target put back into the state of a fresh instance, so that one
//! instance can run it again (`app::reset()`, the guest's import
//! `wasi-virt:control/<target>::reset`).
//!
//! What a fresh instance has, and how reset gives it back:
//! - **memory contents**: zero everywhere, then the data segments. Active
//!   segments are dropped once applied, so the target's active segments
//!   become *passive* ones (no copy of the bytes: the same segments), applied
//!   by an `init` function that the output's start function calls first and
//!   that reset calls again; `data.drop` is removed from the target's code
//!   (a dropped segment could not be applied again, and keeping its bytes
//!   costs nothing more than the module already holds).
//! - **memory size**: a wasm memory cannot shrink. The target sees a size of
//!   its own instead: a global `pages` that `memory.size` reads and
//!   `memory.grow` moves (growing the real memory only past what it already
//!   has), and that reset sets back to the initial size. The real memory
//!   stays as large as the largest run needed, zeroed by reset, so a re-run
//!   costs no new allocation.
//! - **globals**: every mutable global gets its initializer again.
//! - **tables**: filled with their initial value (null, or their
//!   initializer), then the element segments (made passive like the data
//!   segments, `elem.drop` removed) are applied again. A table that grew
//!   keeps its size.
//! - **start function**: runs again, as at instantiation.
//!
//! Known differences from a fresh instance, all for programs that break the
//! rules: a store past the size the program sees (but inside the real
//! memory) does not trap; the guest's bounds checks use the real size; a
//! `memory.init`/`table.init` of a segment that was active succeeds instead
//! of trapping.

use anyhow::Result;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{BlockType, Function, Instruction, ValType};
use wasmparser::{ConstExpr, DataKind, ElementItems, ElementKind, TableInit};

use crate::index::{IndexMap, Remap, cause};
use crate::module::Module;
use crate::types::VirtualMemory;

/// Half of the 32-bit address space in pages: a `memory.fill` length is an
/// `i32`, so a 4 GiB memory is zeroed in two halves.
const HALF: i32 = 32768;

/// `memory.grow` for a program that sees `pages` of real memory `memory`
/// (`maximum` pages at most): `(delta: i32) -> i32`, the old size or -1.
pub fn grow_body(memory: u32, pages: u32, maximum: u64) -> Function {
    use Instruction as I;
    // Locals: 0 = delta (param), 1 = the new size as i64.
    let mut f = Function::new([(1, ValType::I64)]);
    for i in [
        I::GlobalGet(pages),
        I::I64ExtendI32U,
        I::LocalGet(0),
        I::I64ExtendI32U,
        I::I64Add,
        I::LocalTee(1),
        I::I64Const(maximum as i64),
        I::I64GtU,
        I::If(BlockType::Empty),
        I::I32Const(-1),
        I::Return,
        I::End,
        // Past the real memory: grow it by the difference.
        I::LocalGet(1),
        I::MemorySize(memory),
        I::I64ExtendI32U,
        I::I64GtU,
        I::If(BlockType::Empty),
        I::LocalGet(1),
        I::I32WrapI64,
        I::MemorySize(memory),
        I::I32Sub,
        I::MemoryGrow(memory),
        I::I32Const(-1),
        I::I32Eq,
        I::If(BlockType::Empty),
        I::I32Const(-1),
        I::Return,
        I::End,
        I::End,
        I::GlobalGet(pages),
        I::LocalGet(1),
        I::I32WrapI64,
        I::GlobalSet(pages),
        I::End,
    ] {
        f.instruction(&i);
    }
    f
}

/// `() -> ()`: applies target `m`'s formerly active data and element
/// segments, in order, as instantiation would have.
pub fn init_body(m: &Module, map: &IndexMap) -> Result<Function> {
    let mut remap = Remap { map };
    let mut f = Function::new([]);
    if let Some(section) = &m.data_section {
        for (i, data) in section.clone().into_iter().enumerate() {
            let data = data?;
            if let DataKind::Active {
                memory_index,
                offset_expr,
            } = data.kind
            {
                const_expr(&mut f, &mut remap, &offset_expr)?;
                f.instruction(&Instruction::I32Const(0));
                f.instruction(&Instruction::I32Const(data.data.len() as i32));
                f.instruction(&Instruction::MemoryInit {
                    mem: remap.memory_index(memory_index)?,
                    data_index: map.data_offset + i as u32,
                });
            }
        }
    }
    if let Some(section) = &m.element_section {
        for (i, element) in section.clone().into_iter().enumerate() {
            let element = element?;
            if let ElementKind::Active {
                table_index,
                offset_expr,
            } = element.kind
            {
                let len = match element.items {
                    ElementItems::Functions(r) => r.count(),
                    ElementItems::Expressions(_, r) => r.count(),
                };
                const_expr(&mut f, &mut remap, &offset_expr)?;
                f.instruction(&Instruction::I32Const(0));
                f.instruction(&Instruction::I32Const(len as i32));
                f.instruction(&Instruction::TableInit {
                    elem_index: map.element_offset + i as u32,
                    table: remap.table_index(table_index.unwrap_or(0))?,
                });
            }
        }
    }
    f.instruction(&Instruction::End);
    Ok(f)
}

/// What reset does besides the target's own state.
pub struct ResetExtras<'a> {
    /// Per memory of the target, the size it sees.
    pub memories: &'a [Option<VirtualMemory>],
    /// The `init` function ([`init_body`]).
    pub init: u32,
    /// The unwinding flag to clear, for a target wrapped with flags.
    pub flag: Option<u32>,
    /// The target's start function, as an output index.
    pub start: Option<u32>,
}

/// `() -> ()`: puts target `m` back into its initial state (see the module
/// documentation).
pub fn reset_body(m: &Module, map: &IndexMap, extras: &ResetExtras) -> Result<Function> {
    use Instruction as I;
    let mut remap = Remap { map };
    // Local 0: a memory's current size in pages.
    let mut f = Function::new([(1, ValType::I32)]);
    for (k, memory) in m.memories.iter().enumerate() {
        let index = m.memory_imports + k as u32;
        let out = remap.memory_index(index)?;
        for i in [
            I::MemorySize(out),
            I::LocalSet(0),
            // [0, min(pages, HALF) * 64 KiB)
            I::I32Const(0),
            I::I32Const(0),
            I::LocalGet(0),
            I::I32Const(HALF),
            I::LocalGet(0),
            I::I32Const(HALF),
            I::I32LtU,
            I::Select,
            I::I32Const(16),
            I::I32Shl,
            I::MemoryFill(out),
            // [2 GiB, pages * 64 KiB) for a memory past 2 GiB
            I::LocalGet(0),
            I::I32Const(HALF),
            I::I32GtU,
            I::If(BlockType::Empty),
            I::I32Const(i32::MIN),
            I::I32Const(0),
            I::LocalGet(0),
            I::I32Const(HALF),
            I::I32Sub,
            I::I32Const(16),
            I::I32Shl,
            I::MemoryFill(out),
            I::End,
        ] {
            f.instruction(&i);
        }
        if let Some(Some(v)) = extras.memories.get(index as usize) {
            f.instruction(&I::I32Const(memory.initial as i32));
            f.instruction(&I::GlobalSet(v.pages));
        }
    }
    if let Some(section) = &m.global_section {
        for (k, global) in section.clone().into_iter().enumerate() {
            let global = global?;
            if global.ty.mutable {
                const_expr(&mut f, &mut remap, &global.init_expr)?;
                let index = m.globals.imported + k as u32;
                f.instruction(&I::GlobalSet(remap.global_index(index)?));
            }
        }
    }
    if let Some(section) = &m.table_section {
        for (k, table) in section.clone().into_iter().enumerate() {
            let table = table?;
            let out = remap.table_index(m.tables.imported + k as u32)?;
            f.instruction(&if table.ty.table64 {
                I::I64Const(0)
            } else {
                I::I32Const(0)
            });
            match table.init {
                TableInit::Expr(expr) => const_expr(&mut f, &mut remap, &expr)?,
                TableInit::RefNull => {
                    let heap = remap.heap_type(table.ty.element_type.heap_type())?;
                    f.instruction(&I::RefNull(heap));
                }
            }
            f.instruction(&I::TableSize(out));
            f.instruction(&I::TableFill(out));
        }
    }
    f.instruction(&I::Call(extras.init));
    if let Some(flag) = extras.flag {
        f.instruction(&I::I32Const(0));
        f.instruction(&I::GlobalSet(flag));
    }
    if let Some(start) = extras.start {
        f.instruction(&I::Call(start));
    }
    f.instruction(&I::End);
    Ok(f)
}

/// Appends a constant expression's instructions (without its `end`),
/// remapped.
fn const_expr(f: &mut Function, remap: &mut Remap, expr: &ConstExpr) -> Result<()> {
    let mut ops = expr.get_operators_reader();
    while !ops.is_end_then_eof() {
        let op = ops.read()?;
        f.instruction(&remap.instruction(op).map_err(cause)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `grow_body` in a module of its own, run in wasmi: the size the
    /// program sees moves, the real memory grows only past what it has,
    /// and the maximum is kept.
    #[test]
    fn grow_moves_the_seen_size_and_grows_the_real_memory_only_past_it() {
        use wasm_encoder::{
            CodeSection, ConstExpr, ExportKind, ExportSection, FunctionSection, GlobalSection,
            GlobalType, MemorySection, MemoryType, Module as Out, TypeSection,
        };
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 3,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut globals = GlobalSection::new();
        let pages = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(pages, &ConstExpr::i32_const(1));
        let mut exports = ExportSection::new();
        exports.export("grow", ExportKind::Func, 0);
        exports.export("pages", ExportKind::Global, 0);
        exports.export("memory", ExportKind::Memory, 0);
        let mut code = CodeSection::new();
        code.function(&grow_body(0, 0, 5));
        let mut module = Out::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&memories)
            .section(&globals)
            .section(&exports)
            .section(&code);
        let bytes = module.finish();

        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
        let memory = instance.get_memory(&store, "memory").unwrap();
        let seen = |store: &wasmi::Store<()>| {
            instance
                .get_global(store, "pages")
                .unwrap()
                .get(store)
                .i32()
                .unwrap()
        };
        // 1 → 3 pages seen: inside the real memory, which stays at 3.
        assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
        assert_eq!((seen(&store), memory.size(&store)), (3, 3));
        // 3 → 5: the real memory grows by 2.
        assert_eq!(grow.call(&mut store, 2).unwrap(), 3);
        assert_eq!((seen(&store), memory.size(&store)), (5, 5));
        // Past the maximum of 5: -1, nothing moves.
        assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
        assert_eq!((seen(&store), memory.size(&store)), (5, 5));
    }
}
