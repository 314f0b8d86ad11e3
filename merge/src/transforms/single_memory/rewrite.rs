//! The module-level rewrite: every section of the input in its place,
//! changed where a single memory needs it (one memory; the added types,
//! globals, functions and export; the data segments moved to their
//! memory's base; the exported memory renumbered), each body through
//! `body`.

use anyhow::{Result, bail};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, FunctionSection, GlobalSection,
    GlobalType, MemorySection, MemoryType, RawSection, SectionId, TypeSection, ValType,
};
use wasmparser::{DataKind, ExternalKind, FuncType, Operator, Parser, Payload};

use wasi_virt_abi::names::host_api;

use super::body::{BodyRewriter, Tallies};
use super::grow;
use super::layout::{Layout, MAX_PAGES};
use crate::module::Module;

/// Writes the single-memory form of `module`, laid out as `layout` says;
/// returns it with what the bodies' rewrite did.
pub(super) fn rewrite(module: &Module, layout: &Layout) -> Result<(Vec<u8>, Tallies)> {
    Writer {
        layout,
        func_types: &module.func_types[module.func_imports as usize..],
        types: &module.types,
        bodies: BodyRewriter::new(layout),
    }
    .rewrite(module.bytes)
}

/// The rewrite of one module.
///
/// It walks the sections again rather than writing from the parsed
/// [`Module`]: every section is copied in its place, custom sections
/// between the others included, and `Module` keeps neither the order of
/// the sections nor where each custom section stood.
struct Writer<'a> {
    layout: &'a Layout,
    /// Type index of each defined function.
    func_types: &'a [u32],
    /// Every type of the module (`None` for a non-function type).
    types: &'a [Option<FuncType>],
    bodies: BodyRewriter<'a>,
}

impl Writer<'_> {
    fn rewrite(mut self, bytes: &[u8]) -> Result<(Vec<u8>, Tallies)> {
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
                let params = self.params(self.func_types[code_index]);
                code_index += 1;
                self.bodies.function(&mut code, body, params)?;
                // The code section is written once all its entries are in.
                if code_index == self.func_types.len() {
                    grow::add_functions(self.layout, &mut code);
                    out.section(&code);
                    emitted.code = true;
                }
            } else if let Payload::End(_) = payload {
                self.flush_before(&mut out, &mut emitted, SectionId::Data as u8)?;
            }
        }
        Ok((out.finish(), self.bodies.tallies))
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
            grow::add_functions(self.layout, &mut code);
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
        for &t in self.func_types {
            functions.function(t);
        }
        for _ in &self.layout.regions {
            functions.function(self.layout.grow_type);
        }
        functions.function(self.layout.base_type);
        functions
    }

    fn memory_section(&self) -> MemorySection {
        let initial: u64 = self.layout.regions.iter().map(|r| r.initial).sum();
        // The sum of the maxima, when every memory has one: the one memory
        // never needs more, and an engine may reserve less.
        let maximum = self
            .layout
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
        for (k, r) in self.layout.regions.iter().enumerate() {
            globals.global(mutable, &ConstExpr::i32_const(r.initial as i32));
            if r.base.is_some() {
                let base = self.layout.initial_base(k);
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
        exports.export(
            host_api::MEMORY_BASE,
            ExportKind::Func,
            self.layout.base_func,
        );
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
                    let offset = if self.layout.regions[k].base.is_none() {
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
                        let base = self.layout.initial_base(k);
                        ConstExpr::i32_const((base as u32).wrapping_add(value as u32) as i32)
                    };
                    data.active(0, &offset, segment.data.iter().copied());
                }
            }
        }
        Ok(data)
    }

    /// How many parameters functions of type `type_index` take (0 for a
    /// non-function type).
    fn params(&self, type_index: u32) -> u32 {
        self.types[type_index as usize]
            .as_ref()
            .map_or(0, |f| f.params().len() as u32)
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
