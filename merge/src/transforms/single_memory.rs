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

use anyhow::{Result, bail};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, Instruction as I, MemArg, MemorySection, MemoryType, RawSection,
    SectionId, TypeSection, ValType,
};
use wasmparser::{DataKind, ExternalKind, FunctionBody, Operator, Parser, Payload, TypeRef};

use wasi_virt_abi::names::host_api;

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

const PAGE: u64 = 65536;
/// The largest memory, in pages, whose size in bytes still fits an `i32`
/// computation (`pages << 16`).
const MAX_PAGES: u64 = 65535;

/// One memory of the input, as it lands in the output.
#[derive(Clone, Copy, Debug)]
struct Region {
    initial: u64,
    maximum: Option<u64>,
    /// Output global holding its size in pages.
    size: u32,
    /// Output global holding its base address (none for the memory at
    /// address 0).
    base: Option<u32>,
    /// Output function replacing `memory.grow` on it.
    grow: u32,
}

impl Region {
    /// Where memory `k` starts at instantiation: after the memories placed
    /// before it (`order` lists the memories from address 0 up).
    fn initial_base(regions: &[Region], order: &[usize], k: usize) -> u64 {
        order
            .iter()
            .take_while(|&&m| m != k)
            .map(|&m| regions[m].initial * PAGE)
            .sum()
    }
}

/// Turns a validated multi-memory module into a single-memory one, laid
/// out in `order`.
pub fn run(bytes: &[u8], order: Order) -> Result<(Vec<u8>, Report)> {
    let info = Info::read(bytes)?;
    if info.memories.len() <= 1 {
        // Nothing to do: already one memory.
        return Ok((
            bytes.to_vec(),
            Report {
                memories: info.memories.len(),
                order,
                ..Report::default()
            },
        ));
    }
    Rewriter::new(&info, order)?.rewrite(bytes)
}

/// What the pass needs to know before it writes anything.
struct Info<'a> {
    memories: Vec<wasmparser::MemoryType>,
    /// Params of each type index (0 for a non-function type).
    type_params: Vec<u32>,
    type_count: u32,
    func_imports: u32,
    global_imports: u32,
    /// Type index of each defined function.
    func_types: Vec<u32>,
    defined_globals: u32,
    exports: Vec<wasmparser::Export<'a>>,
}

impl<'a> Info<'a> {
    fn read(bytes: &'a [u8]) -> Result<Info<'a>> {
        let mut info = Info {
            memories: Vec::new(),
            type_params: Vec::new(),
            type_count: 0,
            func_imports: 0,
            global_imports: 0,
            func_types: Vec::new(),
            defined_globals: 0,
            exports: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(r) => {
                    for group in r {
                        for sub in group?.into_types() {
                            info.type_count += 1;
                            info.type_params.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                                _ => 0,
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for import in r.into_imports() {
                        let import = import?;
                        match import.ty {
                            TypeRef::Func(_) => info.func_imports += 1,
                            TypeRef::Global(_) => info.global_imports += 1,
                            TypeRef::Memory(_) => bail!(
                                "the output imports a memory ({}::{}); a single memory is made only of memories the output defines",
                                import.module,
                                import.name
                            ),
                            _ => {}
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        info.func_types.push(t?);
                    }
                }
                Payload::MemorySection(r) => {
                    for m in r {
                        let m = m?;
                        if m.memory64 {
                            bail!("a 64-bit memory cannot be merged into a single memory");
                        }
                        if m.shared {
                            bail!("a shared memory cannot be merged into a single memory");
                        }
                        info.memories.push(m);
                    }
                }
                Payload::GlobalSection(r) => info.defined_globals = r.count(),
                Payload::ExportSection(r) => {
                    for e in r {
                        info.exports.push(e?);
                    }
                }
                _ => {}
            }
        }
        Ok(info)
    }
}

/// The indices of what the pass adds, and the rewrite.
struct Rewriter {
    /// Per memory, by its input index.
    regions: Vec<Region>,
    /// The memories' input indices from address 0 up.
    order: Vec<usize>,
    /// Type `(i32) -> i32` (grow) and `() -> i32` (base).
    grow_type: u32,
    base_type: u32,
    /// The function `wasi_virt_memory_base`.
    base_func: u32,
    /// Which memory the exported `memory` is (its base is the one exported).
    exported_memory: usize,
    type_params: Vec<u32>,
    func_types: Vec<u32>,
    report: Report,
}

impl Rewriter {
    fn new(info: &Info, order: Order) -> Result<Rewriter> {
        let n = info.memories.len();
        let first_global = info.global_imports + info.defined_globals;
        let first_func = info.func_imports + info.func_types.len() as u32;
        let exported_memory = Self::exported_memory(info)?;
        let first = match order {
            Order::TargetFirst => 0,
            Order::GuestFirst => exported_memory,
        };
        let placement: Vec<usize> = std::iter::once(first)
            .chain((0..n).filter(|&k| k != first))
            .collect();
        // Per memory a size global, and a base global for all but the one
        // at address 0.
        let mut regions = Vec::with_capacity(n);
        let mut next_global = first_global;
        for (k, m) in info.memories.iter().enumerate() {
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
        Ok(Rewriter {
            regions,
            order: placement,
            grow_type: info.type_count,
            base_type: info.type_count + 1,
            base_func: first_func + n as u32,
            exported_memory,
            type_params: info.type_params.clone(),
            func_types: info.func_types.clone(),
            report: Report {
                memories: n,
                order,
                ..Report::default()
            },
        })
    }

    /// The memory exported as `memory` (the guest's; the last one if none
    /// is).
    fn exported_memory(info: &Info) -> Result<usize> {
        let mut exported_memory = info.memories.len() - 1;
        for e in &info.exports {
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

    fn rewrite(mut self, bytes: &[u8]) -> Result<(Vec<u8>, Report)> {
        let mut out = wasm_encoder::Module::new();
        let mut emitted = Emitted::default();
        let mut code_index = 0usize;
        let mut code = CodeSection::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            if let Some((id, range)) = payload.as_section() {
                self.flush_before(&mut out, &mut emitted, id)?;
                let raw = &bytes[range.start as usize..range.end as usize];
                match &payload {
                    Payload::TypeSection(r) => {
                        let mut types = TypeSection::new();
                        RoundtripReencoder.parse_type_section(&mut types, r.clone())?;
                        self.add_types(&mut types);
                        out.section(&types);
                        emitted.types = true;
                    }
                    Payload::FunctionSection(_) => {
                        out.section(&self.function_section());
                        emitted.functions = true;
                    }
                    Payload::MemorySection(_) => {
                        out.section(&self.memory_section());
                        emitted.memories = true;
                    }
                    Payload::GlobalSection(r) => {
                        let mut globals = GlobalSection::new();
                        RoundtripReencoder.parse_global_section(&mut globals, r.clone())?;
                        self.add_globals(&mut globals);
                        out.section(&globals);
                        emitted.globals = true;
                    }
                    Payload::ExportSection(r) => {
                        out.section(&self.export_section(r.clone())?);
                        emitted.exports = true;
                    }
                    Payload::CodeSectionStart { .. } => {}
                    Payload::DataSection(r) => {
                        out.section(&self.data_section(r.clone())?);
                    }
                    _ => {
                        out.section(&RawSection { id, data: raw });
                    }
                }
            } else if let Payload::CodeSectionEntry(body) = &payload {
                let type_index = self.func_types[code_index];
                code_index += 1;
                self.function(&mut code, body, type_index)?;
                // The code section is written once all its entries are in.
                if code_index == self.func_types.len() {
                    self.add_functions(&mut code);
                    out.section(&code);
                    emitted.code = true;
                }
            } else if let Payload::End(_) = payload {
                self.flush_before(&mut out, &mut emitted, SectionId::Data as u8)?;
            }
        }
        Ok((out.finish(), self.report))
    }

    /// Writes the sections the output needs that the input lacks, before
    /// the section `id` comes.
    fn flush_before(
        &mut self,
        out: &mut wasm_encoder::Module,
        emitted: &mut Emitted,
        id: u8,
    ) -> Result<()> {
        let rank = section_rank(id);
        if id == SectionId::Custom as u8 {
            return Ok(());
        }
        if !emitted.types && rank > section_rank(SectionId::Type as u8) {
            let mut types = TypeSection::new();
            self.add_types(&mut types);
            out.section(&types);
            emitted.types = true;
        }
        if !emitted.functions && rank > section_rank(SectionId::Function as u8) {
            out.section(&self.function_section());
            emitted.functions = true;
        }
        if !emitted.globals && rank > section_rank(SectionId::Global as u8) {
            let mut globals = GlobalSection::new();
            self.add_globals(&mut globals);
            out.section(&globals);
            emitted.globals = true;
        }
        if !emitted.exports && rank > section_rank(SectionId::Export as u8) {
            let mut exports = ExportSection::new();
            self.add_exports(&mut exports);
            out.section(&exports);
            emitted.exports = true;
        }
        if !emitted.code && rank > section_rank(SectionId::Code as u8) {
            let mut code = CodeSection::new();
            self.add_functions(&mut code);
            out.section(&code);
            emitted.code = true;
        }
        debug_assert!(emitted.memories || rank <= section_rank(SectionId::Memory as u8));
        Ok(())
    }

    fn add_types(&self, types: &mut TypeSection) {
        types.ty().function([ValType::I32], [ValType::I32]);
        types.ty().function([], [ValType::I32]);
    }

    fn function_section(&self) -> FunctionSection {
        let mut functions = FunctionSection::new();
        for &t in &self.func_types {
            functions.function(t);
        }
        for _ in &self.regions {
            functions.function(self.grow_type);
        }
        functions.function(self.base_type);
        functions
    }

    fn memory_section(&self) -> MemorySection {
        let initial: u64 = self.regions.iter().map(|r| r.initial).sum();
        // The sum of the maxima, when every memory has one: the one memory
        // never needs more, and an engine may reserve less.
        let maximum = self
            .regions
            .iter()
            .map(|r| r.maximum)
            .sum::<Option<u64>>()
            .map(|m| m.min(MAX_PAGES));
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: initial,
            maximum,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        memories
    }

    fn add_globals(&self, globals: &mut GlobalSection) {
        let mutable = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        for (k, r) in self.regions.iter().enumerate() {
            globals.global(mutable, &ConstExpr::i32_const(r.initial as i32));
            if r.base.is_some() {
                let base = Region::initial_base(&self.regions, &self.order, k);
                globals.global(mutable, &ConstExpr::i32_const(base as i32));
            }
        }
    }

    fn export_section(&self, reader: wasmparser::ExportSectionReader) -> Result<ExportSection> {
        let mut exports = ExportSection::new();
        for e in reader {
            let e = e?;
            if e.name == host_api::MEMORY_BASE {
                bail!(
                    "the output already exports `{}`: is it single-memory already?",
                    host_api::MEMORY_BASE
                );
            }
            let (kind, index) = match e.kind {
                ExternalKind::Memory => (ExportKind::Memory, 0),
                kind => (RoundtripReencoder.export_kind(kind)?, e.index),
            };
            exports.export(e.name, kind, index);
        }
        self.add_exports(&mut exports);
        Ok(exports)
    }

    fn add_exports(&self, exports: &mut ExportSection) {
        exports.export(host_api::MEMORY_BASE, ExportKind::Func, self.base_func);
    }

    fn data_section(&self, reader: wasmparser::DataSectionReader) -> Result<DataSection> {
        let mut data = DataSection::new();
        for (i, segment) in reader.into_iter().enumerate() {
            let segment = segment?;
            match segment.kind {
                DataKind::Passive => {
                    data.passive(segment.data.iter().copied());
                }
                DataKind::Active {
                    memory_index,
                    offset_expr,
                } => {
                    let k = memory_index as usize;
                    let offset = if self.regions[k].base.is_none() {
                        RoundtripReencoder.const_expr(offset_expr)?
                    } else {
                        let mut ops = offset_expr.get_operators_reader();
                        let (Ok(Operator::I32Const { value }), Ok(Operator::End)) =
                            (ops.read(), ops.read())
                        else {
                            bail!(
                                "data segment {i} of memory {k} has an offset that is not a constant; a single memory needs constant offsets past the memory at address 0"
                            );
                        };
                        let base = Region::initial_base(&self.regions, &self.order, k);
                        ConstExpr::i32_const((base as u32).wrapping_add(value as u32) as i32)
                    };
                    data.active(0, &offset, segment.data.iter().copied());
                }
            }
        }
        Ok(data)
    }

    /// `$grow_k` for every memory, then `wasi_virt_memory_base`.
    fn add_functions(&self, code: &mut CodeSection) {
        for k in 0..self.regions.len() {
            code.function(&self.grow_function(k));
        }
        let mut base = Function::new([]);
        match self.regions[self.exported_memory].base {
            Some(g) => base.instruction(&I::GlobalGet(g)),
            None => base.instruction(&I::I32Const(0)),
        };
        base.instruction(&I::End);
        code.function(&base);
    }

    /// `(delta: i32) -> i32`: memory `k` grows by `delta` pages, or -1.
    fn grow_function(&self, k: usize) -> Function {
        let r = self.regions[k];
        // Locals: 0 = delta, 1 = old size, 2 = start of what moves, 3 = bytes added.
        let mut f = Function::new([(3, ValType::I32)]);
        let max = r.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES) as i32;
        let fail = |f: &mut Function| {
            f.instruction(&I::If(wasm_encoder::BlockType::Empty));
            f.instruction(&I::I32Const(-1));
            f.instruction(&I::Return);
            f.instruction(&I::End);
        };
        f.instruction(&I::GlobalGet(r.size));
        f.instruction(&I::LocalSet(1));
        // delta > max - old (unsigned: a negative delta is huge)
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::I32Const(max));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::I32Sub);
        f.instruction(&I::I32GtU);
        fail(&mut f);
        // The one memory must stay within MAX_PAGES too.
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::I32Const(MAX_PAGES as i32));
        f.instruction(&I::MemorySize(0));
        f.instruction(&I::I32Sub);
        f.instruction(&I::I32GtU);
        fail(&mut f);
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::MemoryGrow(0));
        f.instruction(&I::I32Const(-1));
        f.instruction(&I::I32Eq);
        fail(&mut f);
        let position = self
            .order
            .iter()
            .position(|&m| m == k)
            .expect("invariant: every memory is placed");
        let later = &self.order[position + 1..];
        if let Some(&next) = later.first() {
            let next_base = self.regions[next]
                .base
                .expect("invariant: every memory but the first has a base");
            // memory.copy(start + bytes, start, old_total - start)
            f.instruction(&I::GlobalGet(next_base));
            f.instruction(&I::LocalTee(2));
            f.instruction(&I::LocalGet(0));
            f.instruction(&I::I32Const(16));
            f.instruction(&I::I32Shl);
            f.instruction(&I::LocalTee(3));
            f.instruction(&I::I32Add);
            f.instruction(&I::LocalGet(2));
            f.instruction(&I::MemorySize(0));
            f.instruction(&I::LocalGet(0));
            f.instruction(&I::I32Sub);
            f.instruction(&I::I32Const(16));
            f.instruction(&I::I32Shl);
            f.instruction(&I::LocalGet(2));
            f.instruction(&I::I32Sub);
            f.instruction(&I::MemoryCopy {
                src_mem: 0,
                dst_mem: 0,
            });
            // The pages memory k gained held what moved: zero them.
            f.instruction(&I::LocalGet(2));
            f.instruction(&I::I32Const(0));
            f.instruction(&I::LocalGet(3));
            f.instruction(&I::MemoryFill(0));
            for &m in later {
                let g = self.regions[m]
                    .base
                    .expect("invariant: every memory but the first has a base");
                f.instruction(&I::GlobalGet(g));
                f.instruction(&I::LocalGet(3));
                f.instruction(&I::I32Add);
                f.instruction(&I::GlobalSet(g));
            }
        }
        f.instruction(&I::GlobalGet(r.size));
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::I32Add);
        f.instruction(&I::GlobalSet(r.size));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::End);
        f
    }

    /// Rewrites one body; a body with nothing to rewrite is copied byte
    /// for byte.
    fn function(
        &mut self,
        code: &mut CodeSection,
        body: &FunctionBody,
        type_index: u32,
    ) -> Result<()> {
        let based: Vec<bool> = self.regions.iter().map(|r| r.base.is_some()).collect();
        let scan = scan(body, &based)?;
        let only_memory0 = scan.memories_above_0 == 0;
        if only_memory0 {
            self.report.memory0_functions += 1;
        } else {
            self.report.other_functions += 1;
        }
        if scan.rewrites == 0 {
            code.raw(body.as_bytes());
            return Ok(());
        }
        // New locals after the existing ones, one per kind the body needs.
        let mut locals: Vec<(u32, ValType)> = Vec::new();
        let mut next_local = self.type_params[type_index as usize];
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
        if only_memory0 {
            self.report.memory0_added += added;
            self.report.memory0_replaced += replaced;
        } else {
            self.report.other_added += added;
            self.report.other_replaced += replaced;
        }
        Ok(())
    }

    fn base(&self, memory: u32) -> Option<u32> {
        self.regions[memory as usize].base
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
        // `global.get base; i32.add` on the address on top of the stack.
        let add_base = |f: &mut Function, base: u32, added: &mut usize| {
            f.instruction(&I::GlobalGet(base));
            f.instruction(&I::I32Add);
            *added += 2;
        };
        let memarg = |m: &wasmparser::MemArg| MemArg {
            offset: m.offset,
            align: m.align as u32,
            target: wasm_encoder::MemArgTarget::Memory(0),
            ordering: None,
        };
        if let Some((memory, m, access)) = memory_access(op) {
            let Some(base) = self.base(memory) else {
                // At address 0: as it is, in memory 0.
                if memory == 0 {
                    return Ok(Rewritten::Copied);
                }
                f.instruction(&with_memarg(op, memarg(&m))?);
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
                Access::Atomic => bail!(
                    "an atomic access to memory {memory} cannot be rewritten for a single memory"
                ),
            }
            let op = with_memarg(op, memarg(&m))?;
            f.instruction(&op);
            return Ok(Rewritten::Expanded);
        }
        match *op {
            O::MemorySize { mem } => {
                f.instruction(&I::GlobalGet(self.regions[mem as usize].size));
                Ok(Rewritten::Replaced)
            }
            O::MemoryGrow { mem } => {
                f.instruction(&I::Call(self.regions[mem as usize].grow));
                Ok(Rewritten::Replaced)
            }
            O::MemoryFill { mem } => {
                let Some(base) = self.base(mem) else {
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
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src) = (self.base(dst_mem), self.base(src_mem));
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
            O::MemoryInit { data_index, mem } => {
                let Some(base) = self.base(mem) else {
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
            _ => Ok(Rewritten::Copied),
        }
    }
}

#[derive(Default)]
struct Emitted {
    types: bool,
    functions: bool,
    memories: bool,
    globals: bool,
    exports: bool,
    code: bool,
}

/// The order sections must come in (the tag section sits between memory
/// and global; data count before code).
fn section_rank(id: u8) -> u8 {
    match id {
        1..=5 => id,
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => 0,
    }
}

enum Rewritten {
    /// Not touched: copy it.
    Copied,
    /// Written as one other instruction.
    Replaced,
    /// Written with added instructions around it.
    Expanded,
    /// Written as itself on memory 0: the memory at address 0 was another
    /// one ([`Order::GuestFirst`]); nothing added.
    Renumbered,
}

/// The kinds of value a rewrite parks in a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TempKind {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl TempKind {
    fn val_type(self) -> ValType {
        match self {
            TempKind::I32 => ValType::I32,
            TempKind::I64 => ValType::I64,
            TempKind::F32 => ValType::F32,
            TempKind::F64 => ValType::F64,
            TempKind::V128 => ValType::V128,
        }
    }
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

/// How many locals of each kind a body needs.
#[derive(Default)]
struct TempCounts {
    i32: u32,
    i64: u32,
    f32: u32,
    f64: u32,
    v128: u32,
}

struct Scan {
    /// Instructions that will be rewritten.
    rewrites: usize,
    /// Instructions that use a memory other than the one at address 0.
    memories_above_0: usize,
    temps: TempCounts,
}

/// Scans a body; `based[k]` says whether memory `k` has a base (is not at
/// address 0).
fn scan(body: &FunctionBody, based: &[bool]) -> Result<Scan> {
    let based = |k: u32| based.get(k as usize).copied().unwrap_or(true);
    use Operator as O;
    let mut s = Scan {
        rewrites: 0,
        memories_above_0: 0,
        temps: TempCounts::default(),
    };
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let op = ops.read()?;
        if let Some((memory, _, access)) = memory_access(&op) {
            // At address 0 but not memory 0: renumbered.
            if !based(memory) && memory != 0 {
                s.rewrites += 1;
            }
            if based(memory) {
                s.memories_above_0 += 1;
                s.rewrites += 1;
                if let Access::Store(kind) = access {
                    let n = match kind {
                        TempKind::I32 => &mut s.temps.i32,
                        TempKind::I64 => &mut s.temps.i64,
                        TempKind::F32 => &mut s.temps.f32,
                        TempKind::F64 => &mut s.temps.f64,
                        TempKind::V128 => &mut s.temps.v128,
                    };
                    *n = (*n).max(1);
                }
            }
            continue;
        }
        match op {
            O::MemorySize { mem } | O::MemoryGrow { mem } => {
                s.rewrites += 1;
                if based(mem) {
                    s.memories_above_0 += 1;
                }
            }
            O::MemoryFill { mem } | O::MemoryInit { mem, .. } if based(mem) => {
                s.rewrites += 1;
                s.memories_above_0 += 1;
                s.temps.i32 = s.temps.i32.max(2);
            }
            O::MemoryCopy { dst_mem, src_mem } if based(dst_mem) || based(src_mem) => {
                s.rewrites += 1;
                s.memories_above_0 += 1;
                s.temps.i32 = s.temps.i32.max(2);
            }
            O::MemoryFill { mem } | O::MemoryInit { mem, .. } if mem != 0 => s.rewrites += 1,
            O::MemoryCopy { dst_mem, src_mem } if dst_mem != 0 || src_mem != 0 => {
                s.rewrites += 1;
            }
            _ => {}
        }
    }
    Ok(s)
}

/// What an instruction with a memarg does with the stack below it.
enum Access {
    /// The address is on top.
    Load,
    /// The address is below one value of this kind.
    Store(TempKind),
    /// Atomics: not rewritten.
    Atomic,
}

/// The memarg of an instruction that accesses memory through one, and the
/// shape of its operands.
fn memory_access(op: &Operator) -> Option<(u32, wasmparser::MemArg, Access)> {
    use Operator as O;
    use TempKind as T;
    let (memarg, access) = match *op {
        O::I32Load { memarg }
        | O::I64Load { memarg }
        | O::F32Load { memarg }
        | O::F64Load { memarg }
        | O::I32Load8S { memarg }
        | O::I32Load8U { memarg }
        | O::I32Load16S { memarg }
        | O::I32Load16U { memarg }
        | O::I64Load8S { memarg }
        | O::I64Load8U { memarg }
        | O::I64Load16S { memarg }
        | O::I64Load16U { memarg }
        | O::I64Load32S { memarg }
        | O::I64Load32U { memarg }
        | O::V128Load { memarg }
        | O::V128Load8x8S { memarg }
        | O::V128Load8x8U { memarg }
        | O::V128Load16x4S { memarg }
        | O::V128Load16x4U { memarg }
        | O::V128Load32x2S { memarg }
        | O::V128Load32x2U { memarg }
        | O::V128Load8Splat { memarg }
        | O::V128Load16Splat { memarg }
        | O::V128Load32Splat { memarg }
        | O::V128Load64Splat { memarg }
        | O::V128Load32Zero { memarg }
        | O::V128Load64Zero { memarg } => (memarg, Access::Load),
        O::I32Store { memarg } | O::I32Store8 { memarg } | O::I32Store16 { memarg } => {
            (memarg, Access::Store(T::I32))
        }
        O::I64Store { memarg }
        | O::I64Store8 { memarg }
        | O::I64Store16 { memarg }
        | O::I64Store32 { memarg } => (memarg, Access::Store(T::I64)),
        O::F32Store { memarg } => (memarg, Access::Store(T::F32)),
        O::F64Store { memarg } => (memarg, Access::Store(T::F64)),
        O::V128Store { memarg }
        | O::V128Load8Lane { memarg, .. }
        | O::V128Load16Lane { memarg, .. }
        | O::V128Load32Lane { memarg, .. }
        | O::V128Load64Lane { memarg, .. }
        | O::V128Store8Lane { memarg, .. }
        | O::V128Store16Lane { memarg, .. }
        | O::V128Store32Lane { memarg, .. }
        | O::V128Store64Lane { memarg, .. } => (memarg, Access::Store(T::V128)),
        O::MemoryAtomicNotify { memarg }
        | O::MemoryAtomicWait32 { memarg }
        | O::MemoryAtomicWait64 { memarg }
        | O::I32AtomicLoad { memarg }
        | O::I64AtomicLoad { memarg }
        | O::I32AtomicLoad8U { memarg }
        | O::I32AtomicLoad16U { memarg }
        | O::I64AtomicLoad8U { memarg }
        | O::I64AtomicLoad16U { memarg }
        | O::I64AtomicLoad32U { memarg }
        | O::I32AtomicStore { memarg }
        | O::I64AtomicStore { memarg }
        | O::I32AtomicStore8 { memarg }
        | O::I32AtomicStore16 { memarg }
        | O::I64AtomicStore8 { memarg }
        | O::I64AtomicStore16 { memarg }
        | O::I64AtomicStore32 { memarg }
        | O::I32AtomicRmwAdd { memarg }
        | O::I64AtomicRmwAdd { memarg }
        | O::I32AtomicRmw8AddU { memarg }
        | O::I32AtomicRmw16AddU { memarg }
        | O::I64AtomicRmw8AddU { memarg }
        | O::I64AtomicRmw16AddU { memarg }
        | O::I64AtomicRmw32AddU { memarg }
        | O::I32AtomicRmwSub { memarg }
        | O::I64AtomicRmwSub { memarg }
        | O::I32AtomicRmw8SubU { memarg }
        | O::I32AtomicRmw16SubU { memarg }
        | O::I64AtomicRmw8SubU { memarg }
        | O::I64AtomicRmw16SubU { memarg }
        | O::I64AtomicRmw32SubU { memarg }
        | O::I32AtomicRmwAnd { memarg }
        | O::I64AtomicRmwAnd { memarg }
        | O::I32AtomicRmw8AndU { memarg }
        | O::I32AtomicRmw16AndU { memarg }
        | O::I64AtomicRmw8AndU { memarg }
        | O::I64AtomicRmw16AndU { memarg }
        | O::I64AtomicRmw32AndU { memarg }
        | O::I32AtomicRmwOr { memarg }
        | O::I64AtomicRmwOr { memarg }
        | O::I32AtomicRmw8OrU { memarg }
        | O::I32AtomicRmw16OrU { memarg }
        | O::I64AtomicRmw8OrU { memarg }
        | O::I64AtomicRmw16OrU { memarg }
        | O::I64AtomicRmw32OrU { memarg }
        | O::I32AtomicRmwXor { memarg }
        | O::I64AtomicRmwXor { memarg }
        | O::I32AtomicRmw8XorU { memarg }
        | O::I32AtomicRmw16XorU { memarg }
        | O::I64AtomicRmw8XorU { memarg }
        | O::I64AtomicRmw16XorU { memarg }
        | O::I64AtomicRmw32XorU { memarg }
        | O::I32AtomicRmwXchg { memarg }
        | O::I64AtomicRmwXchg { memarg }
        | O::I32AtomicRmw8XchgU { memarg }
        | O::I32AtomicRmw16XchgU { memarg }
        | O::I64AtomicRmw8XchgU { memarg }
        | O::I64AtomicRmw16XchgU { memarg }
        | O::I64AtomicRmw32XchgU { memarg }
        | O::I32AtomicRmwCmpxchg { memarg }
        | O::I64AtomicRmwCmpxchg { memarg }
        | O::I32AtomicRmw8CmpxchgU { memarg }
        | O::I32AtomicRmw16CmpxchgU { memarg }
        | O::I64AtomicRmw8CmpxchgU { memarg }
        | O::I64AtomicRmw16CmpxchgU { memarg }
        | O::I64AtomicRmw32CmpxchgU { memarg } => (memarg, Access::Atomic),
        _ => return None,
    };
    match memarg.target {
        wasmparser::MemArgTarget::Memory(memory) => Some((memory, memarg, access)),
        // A GC array's payload, not a memory.
        wasmparser::MemArgTarget::Array(_) => None,
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

#[cfg(test)]
mod tests {
    use wasmi::Val;

    use super::*;
    use crate::passes::fixtures::wasm;

    /// A target's memory (0, at most 5 pages) and a guest's (1, exported),
    /// with the instructions the pass rewrites on each.
    const TWO_MEMORIES: &str = r#"(module
      (memory $t 1 5)
      (memory $g (export "memory") 1)
      (data (memory $t) (i32.const 0) "target")
      (data (memory $g) (i32.const 16) "guest data")
      (data $p "passive")
      (func (export "target_grow") (param i32) (result i32) (memory.grow $t (local.get 0)))
      (func (export "target_size") (result i32) (memory.size $t))
      (func (export "target_load") (param i32) (result i32) (i32.load8_u $t (local.get 0)))
      (func (export "target_store") (param i32 i32) (i32.store8 $t offset=1 (local.get 0) (local.get 1)))
      (func (export "guest_grow") (param i32) (result i32) (memory.grow $g (local.get 0)))
      (func (export "guest_size") (result i32) (memory.size $g))
      (func (export "guest_load") (param i32) (result i32) (i32.load8_u $g (local.get 0)))
      (func (export "guest_store") (param i32 i32) (i32.store8 $g (local.get 0) (local.get 1)))
      (func (export "guest_load64") (param i32) (result i64) (i64.load $g offset=8 (local.get 0)))
      (func (export "guest_store64") (param i32 i64) (i64.store $g offset=8 (local.get 0) (local.get 1)))
      (func (export "guest_f64") (param i32 f64) (result f64)
        (f64.store $g (local.get 0) (local.get 1))
        (f64.load $g (local.get 0)))
      (func (export "fill") (param i32 i32 i32) (memory.fill $g (local.get 0) (local.get 1) (local.get 2)))
      (func (export "to_target") (param i32 i32 i32) (memory.copy $t $g (local.get 0) (local.get 1) (local.get 2)))
      (func (export "from_target") (param i32 i32 i32) (memory.copy $g $t (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init") (param i32 i32 i32) (memory.init $g $p (local.get 0) (local.get 1) (local.get 2)))
      (func (export "sum_target") (result i64) (local $i i32) (local $s i64)
        (loop $l
          (local.set $s (i64.add (local.get $s) (i64.load8_u $t (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.shl (memory.size $t) (i32.const 16)))))
        (local.get $s))
      (func (export "sum_guest") (result i64) (local $i i32) (local $s i64)
        (loop $l
          (local.set $s (i64.add (local.get $s) (i64.load8_u $g (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.shl (memory.size $g) (i32.const 16)))))
        (local.get $s)))"#;

    /// Calls, in order, and what each returned, on one instance.
    fn run_script(bytes: &[u8], calls: &[(&str, Vec<Val>)]) -> Vec<String> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        calls
            .iter()
            .map(|(name, args)| {
                let f = instance.get_func(&store, name).unwrap();
                let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
                match f.call(&mut store, args, &mut results) {
                    Ok(()) => format!("{name} -> {results:?}"),
                    Err(e) => format!("{name} -> trap {e}"),
                }
            })
            .collect()
    }

    fn i(v: i32) -> Val {
        Val::I32(v)
    }

    /// Every call returns the same in the single-memory module, in either
    /// order, as in the multi-memory one; the report is the target-first
    /// one's.
    fn same_behaviour(wat: &str, calls: &[(&str, Vec<Val>)]) -> (Vec<String>, Report) {
        let multi = wasm(wat);
        let expected = run_script(&multi, calls);
        let mut reports = Vec::new();
        for order in [Order::TargetFirst, Order::GuestFirst] {
            let (single, report) = run(&multi, order).unwrap();
            wasmparser::Validator::new().validate_all(&single).unwrap();
            let out = crate::module::Module::parse("single.wasm", &single).unwrap();
            assert_eq!(out.memories.len(), 1, "one memory");
            assert_eq!(run_script(&single, calls), expected, "{order:?}");
            reports.push(report);
        }
        (expected, reports.swap_remove(0))
    }

    #[test]
    fn guest_first_leaves_the_guests_addresses_as_they_are() {
        let (single, report) = run(&wasm(TWO_MEMORIES), Order::GuestFirst).unwrap();
        assert_eq!(report.order, Order::GuestFirst);
        // The target's loads, stores and bulk operations carry the base
        // now; the guest's do not.
        assert!(report.other_added > 0, "{report:?}");
        let calls = vec![
            ("wasi_virt_memory_base", vec![]),
            ("guest_store", vec![i(40), i(7)]),
            ("target_store", vec![i(99), i(8)]),
        ];
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &single[..]).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        for (name, args) in &calls {
            let f = instance.get_func(&store, name).unwrap();
            let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
            f.call(&mut store, args, &mut results).unwrap();
            if *name == "wasi_virt_memory_base" {
                assert_eq!(results[0].i32(), Some(0));
            }
        }
        let memory = instance.get_memory(&store, "memory").unwrap();
        let data = memory.data(&store);
        assert_eq!(&data[16..26], b"guest data", "the guest at address 0");
        assert_eq!(data[40], 7);
        // The target's memory follows the guest's page.
        assert_eq!(&data[65536..65542], b"target");
        assert_eq!(data[65536 + 100], 8);
    }

    #[test]
    fn the_guest_keeps_its_data_while_the_target_grows() {
        let page = 65536;
        let calls = vec![
            ("guest_load", vec![i(16)]),
            ("target_store", vec![i(99), i(7)]),
            ("guest_store", vec![i(200), i(9)]),
            (
                "guest_store64",
                vec![i(300), Val::I64(0x1122_3344_5566_7788)],
            ),
            ("target_grow", vec![i(2)]),
            ("target_size", vec![]),
            ("guest_size", vec![]),
            ("guest_load", vec![i(16)]),
            ("guest_load", vec![i(200)]),
            ("guest_load64", vec![i(300)]),
            ("target_load", vec![i(100)]),
            // The pages the target gained are zero (they held the guest).
            ("target_load", vec![i(page + 16)]),
            ("sum_target", vec![]),
            ("guest_grow", vec![i(1)]),
            ("guest_size", vec![]),
            ("guest_store", vec![i(page + 10), i(5)]),
            ("target_grow", vec![i(1)]),
            ("guest_load", vec![i(page + 10)]),
            ("guest_load", vec![i(16)]),
            // Past the target's maximum (5 pages): refused, nothing moves.
            ("target_grow", vec![i(2)]),
            ("target_grow", vec![i(-1)]),
            ("target_size", vec![]),
            ("guest_f64", vec![i(400), Val::F64(1.5f64.into())]),
            ("fill", vec![i(500), i(0xab), i(10)]),
            ("guest_load", vec![i(509)]),
            ("to_target", vec![i(1000), i(16), i(10)]),
            ("target_load", vec![i(1009)]),
            ("from_target", vec![i(600), i(0), i(6)]),
            ("guest_load", vec![i(605)]),
            ("init", vec![i(700), i(0), i(7)]),
            ("guest_load", vec![i(706)]),
            ("sum_target", vec![]),
            ("sum_guest", vec![]),
            // Past the end of a segment: a trap in both.
            ("init", vec![i(700), i(0), i(8)]),
        ];
        let (results, report) = same_behaviour(TWO_MEMORIES, &calls);
        assert_eq!(results[0], "guest_load -> [I32(103)]");
        assert_eq!(results[4], "target_grow -> [I32(1)]");
        assert_eq!(results[19], "target_grow -> [I32(-1)]");
        assert!(results[33].contains("trap"), "{}", results[33]);
        // The price of leaving the target's code alone: its access past the
        // end of its own memory lands in the guest's region instead of
        // trapping (documented in the module's doc and the README).
        let (single, _) = run(&wasm(TWO_MEMORIES), Order::TargetFirst).unwrap();
        let past_the_end = [("target_load", vec![i(page + 16)])];
        assert_eq!(
            run_script(&single, &past_the_end),
            ["target_load -> [I32(103)]"]
        );
        assert!(run_script(&wasm(TWO_MEMORIES), &past_the_end)[0].contains("trap"));
        // The target's functions (memory 0 only): nothing added; its
        // memory.size and memory.grow, and sum_target's, replaced 1:1.
        assert_eq!(report.memory0_added, 0);
        assert_eq!(report.memory0_replaced, 3);
        assert!(report.other_added > 0);
    }

    #[test]
    fn the_targets_loads_and_stores_are_copied_byte_for_byte() {
        let multi = wasm(TWO_MEMORIES);
        let (single, _) = run(&multi, Order::TargetFirst).unwrap();
        let (before, after) = (
            crate::module::Module::parse("multi.wasm", &multi).unwrap(),
            crate::module::Module::parse("single.wasm", &single).unwrap(),
        );
        for name in ["target_load", "target_store"] {
            let index = before.exported_func(name).unwrap() as usize;
            assert_eq!(
                before.bodies[index].as_bytes(),
                after.bodies[index].as_bytes(),
                "{name}"
            );
        }
        let base = after.exported_func(host_api::MEMORY_BASE).unwrap();
        assert_eq!(
            after.func_type(base).unwrap().results(),
            [wasmparser::ValType::I32]
        );
    }

    #[test]
    fn three_memories_move_in_order() {
        let wat = r#"(module
          (memory $a 1)
          (memory $b 2)
          (memory $c (export "memory") 1)
          (data (memory $b) (i32.const 65540) "b")
          (data (memory $c) (i32.const 5) "c")
          (func (export "grow_a") (param i32) (result i32) (memory.grow $a (local.get 0)))
          (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
          (func (export "b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
          (func (export "c") (param i32) (result i32) (i32.load8_u $c (local.get 0)))
          (func (export "base") (result i32) (i32.const 0)))"#;
        let calls = vec![
            ("b", vec![i(65540)]),
            ("c", vec![i(5)]),
            ("grow_b", vec![i(3)]),
            ("c", vec![i(5)]),
            ("b", vec![i(65540)]),
            ("b", vec![i(3 * 65536)]),
            ("grow_a", vec![i(1)]),
            ("b", vec![i(65540)]),
            ("c", vec![i(5)]),
        ];
        let (results, _) = same_behaviour(wat, &calls);
        assert_eq!(results[8], "c -> [I32(99)]");
        let (single, _) = run(&wasm(wat), Order::TargetFirst).unwrap();
        let exported_base = run_script(&single, &[(host_api::MEMORY_BASE, vec![])]);
        assert_eq!(
            exported_base,
            [format!("{} -> [I32({})]", host_api::MEMORY_BASE, 3 * 65536)]
        );
    }

    #[test]
    fn what_cannot_be_laid_out_is_refused() {
        let atomic = wasm(
            r#"(module (memory 1) (memory 1 1 shared)
              (func (param i32) (result i32) (i32.atomic.load 1 (local.get 0))))"#,
        );
        let err = run(&atomic, Order::TargetFirst).unwrap_err().to_string();
        assert!(err.contains("shared memory"), "{err}");
        let atomic = wasm(
            r#"(module (memory 1) (memory 1)
              (func (param i32) (result i32) (i32.atomic.load 1 (local.get 0))))"#,
        );
        let err = run(&atomic, Order::TargetFirst).unwrap_err().to_string();
        assert!(err.contains("atomic access to memory 1"), "{err}");
        let other_export = wasm(r#"(module (memory 1) (memory (export "heap") 1))"#);
        let err = run(&other_export, Order::TargetFirst)
            .unwrap_err()
            .to_string();
        assert!(err.contains("exports memory 1 as `heap`"), "{err}");
        let dynamic_offset = wasm(
            r#"(module (import "env" "g" (global $g i32)) (memory 1) (memory 1)
              (data (memory 1) (global.get $g) "x"))"#,
        );
        let err = run(&dynamic_offset, Order::TargetFirst)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a constant"), "{err}");
    }

    #[test]
    fn a_merged_target_that_grows_keeps_the_guests_data_in_place() {
        use crate::passes::fixtures::Fixture;
        // The target grows by 3 pages at instantiation, after the guest's
        // data segment landed: the guest's memory moves up, then the
        // target writes through the guest as in the plain fixture.
        let built = Fixture {
            target_items: "(func $grow (drop (memory.grow (i32.const 3)))) (start $grow)".into(),
            ..Fixture::default()
        }
        .build();
        let multi = built.parse().merge().unwrap();
        let (single, report) = run(&multi, Order::TargetFirst).unwrap();
        assert_eq!(report.memory0_added, 0);
        assert_eq!(report.memory0_replaced, 1, "the target's memory.grow");
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &single).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let call = |store: &mut wasmi::Store<()>, name: &str| {
            instance
                .get_typed_func::<(), i32>(&*store, name)
                .unwrap()
                .call(store, ())
                .unwrap()
        };
        instance
            .get_typed_func::<(), ()>(&store, "run")
            .unwrap()
            .call(&mut store, ())
            .unwrap();
        assert_eq!(call(&mut store, "written"), 9);
        let base = call(&mut store, host_api::MEMORY_BASE) as usize;
        assert_eq!(base, 5 * 65536, "the target's 2 pages, grown by 3");
        let memory = instance.get_memory(&store, "memory").unwrap();
        let data = memory.data(&store);
        assert_eq!(&data[base + 16..base + 21], b"hello");
        assert_eq!(&data[base + 1000..base + 1010], b"guest data");
        assert_eq!(&data[2 * 65536..base], &vec![0; 3 * 65536][..]);
    }

    #[test]
    fn one_memory_is_left_alone() {
        let bytes = wasm(r#"(module (memory (export "memory") 1))"#);
        let (out, report) = run(&bytes, Order::TargetFirst).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(report.memories, 1);
    }
}
