//! Pass 7: write the output in one streaming pass over every input.
//!
//! Sections are concatenated in the plan's order (targets, then the guest,
//! then what the merge generates). An input whose [`IndexMap`] is the
//! identity (the first target, on the fast path) has its function bodies
//! and data segments copied byte for byte. Every other input goes through
//! [`Remap`], a `wasm_encoder` re-encoder whose index hooks look the map
//! up; its bodies are patched rather than rebuilt: only instructions whose
//! indices change are encoded anew, the rest is copied. The code section,
//! nearly all of a large target, is done on every core in contiguous
//! chunks of about equal cost, then joined in order.

use std::fmt;

use anyhow::{Result, anyhow};
use wasm_encoder::reencode::{self, Reencode, RoundtripReencoder};
use wasm_encoder::{
    CustomSection, DataCountSection, DataSection, ElementSection, Encode, ExportSection, Function,
    FunctionSection, GlobalSection, ImportSection, Instruction, MemorySection, RawSection,
    SectionId, StartSection, TableSection, TagSection, TypeSection,
};
use wasmparser::FunctionBody;

use super::layout::{IndexMap, Plan, UNRESOLVED};
use crate::module::Module;
use crate::provenance;

/// Below this many bytes of code, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Encodes the output of `plan` from `modules` (targets, then the guest),
/// with `bridges` the bodies of the plan's bridge functions.
pub fn run(plan: &Plan, modules: &[&Module], bridges: Vec<Function>) -> Result<Vec<u8>> {
    let guest = plan.guest();
    let remap = |mi: usize| Remap {
        map: &plan.maps[mi],
    };
    let mut out = wasm_encoder::Module::new();

    let mut types = TypeSection::new();
    for (mi, m) in modules.iter().enumerate() {
        if let Some(section) = &m.type_section {
            remap(mi)
                .parse_type_section(&mut types, section.clone())
                .map_err(|e| at(m, e))?;
        }
    }
    for ty in &plan.extra_types {
        let mut rt = RoundtripReencoder;
        let params: Vec<_> = ty
            .params()
            .iter()
            .map(|t| rt.val_type(*t))
            .collect::<Result<_, _>>()?;
        let results: Vec<_> = ty
            .results()
            .iter()
            .map(|t| rt.val_type(*t))
            .collect::<Result<_, _>>()?;
        types.ty().function(params, results);
    }
    out.section(&types);

    let mut imports = ImportSection::new();
    let mut entries = Vec::new();
    for kept in &plan.kept {
        let m = modules[kept.module];
        let import = &m.imports[kept.import];
        let ty = remap(kept.module)
            .entity_type(import.ty)
            .map_err(|e| at(m, e))?;
        imports.import(&kept.output_module, import.name, ty);
        entries.push(provenance::Entry {
            origin: kept.origin.clone(),
            module: kept.output_module.clone(),
            name: import.name.to_string(),
        });
    }
    if !imports.is_empty() {
        out.section(&imports);
    }

    let mut functions = FunctionSection::new();
    for trampoline in &plan.trampolines {
        functions.function(trampoline.ty);
    }
    for (map, m) in plan.maps.iter().zip(modules) {
        for ty in &m.func_types[m.func_imports as usize..] {
            functions.function(map.type_offset + ty);
        }
    }
    for bridge in &plan.bridges {
        functions.function(bridge.ty);
    }
    for generated in &plan.generated {
        functions.function(generated.ty);
    }
    if let Some((_, ty)) = plan.start.wrapper {
        functions.function(ty);
    }
    for (ty, _) in &plan.control.funcs {
        functions.function(*ty);
    }
    out.section(&functions);

    let mut tables = TableSection::new();
    let mut memories = MemorySection::new();
    let mut tags = TagSection::new();
    let mut globals = GlobalSection::new();
    let mut elements = ElementSection::new();
    let mut data = DataSection::new();
    for (mi, m) in modules.iter().enumerate() {
        let mut r = remap(mi);
        let e = |e| at(m, e);
        if let Some(s) = &m.table_section {
            r.parse_table_section(&mut tables, s.clone()).map_err(e)?;
        }
        for memory in &m.memories {
            memories.memory(r.memory_type(*memory).map_err(e)?);
        }
        if let Some(s) = &m.tag_section {
            r.parse_tag_section(&mut tags, s.clone()).map_err(e)?;
        }
        if let Some(s) = &m.global_section {
            r.parse_global_section(&mut globals, s.clone()).map_err(e)?;
        }
        if mi + 1 == modules.len() {
            // After every input's: what the run control pass adds.
            for g in &plan.control.globals {
                let (val_type, init) = if g.i64 {
                    (
                        wasm_encoder::ValType::I64,
                        wasm_encoder::ConstExpr::i64_const(g.init),
                    )
                } else {
                    (
                        wasm_encoder::ValType::I32,
                        wasm_encoder::ConstExpr::i32_const(g.init as i32),
                    )
                };
                let ty = wasm_encoder::GlobalType {
                    val_type,
                    mutable: true,
                    shared: false,
                };
                globals.global(ty, &init);
            }
            for ty in &plan.control.tags {
                tags.tag(wasm_encoder::TagType {
                    kind: wasm_encoder::TagKind::Exception,
                    func_type_idx: *ty,
                });
            }
        }
        let passive = plan.control.passive(mi);
        match &m.element_section {
            // A target that can be reset keeps its segments to apply them
            // again: its active ones become passive (see `reset`).
            Some(s) if passive => {
                for element in s.clone() {
                    let element = element.map_err(|err| e(err.into()))?;
                    let kind = match element.kind {
                        wasmparser::ElementKind::Active { .. } => wasmparser::ElementKind::Passive,
                        kind => kind,
                    };
                    r.parse_element(&mut elements, wasmparser::Element { kind, ..element })
                        .map_err(e)?;
                }
            }
            Some(s) => r
                .parse_element_section(&mut elements, s.clone())
                .map_err(e)?,
            None => {}
        }
        match &m.data_section {
            Some(s) if passive => {
                for segment in s.clone() {
                    let segment = segment.map_err(|err| e(err.into()))?;
                    let segment = wasmparser::Data {
                        kind: wasmparser::DataKind::Passive,
                        ..segment
                    };
                    r.parse_data(&mut data, segment).map_err(e)?;
                }
            }
            // Data is most of a large target's bytes besides code: with
            // nothing to remap, each segment is copied as it is encoded.
            Some(s) if plan.identity[mi] => {
                for segment in s.clone() {
                    let range = segment.map_err(|err| e(err.into()))?.range;
                    data.raw(&m.bytes[range.start as usize..range.end as usize]);
                }
            }
            Some(s) => r.parse_data_section(&mut data, s.clone()).map_err(e)?,
            None => {}
        }
    }
    if !tables.is_empty() {
        out.section(&tables);
    }
    if !memories.is_empty() {
        out.section(&memories);
    }
    if !tags.is_empty() {
        out.section(&tags);
    }
    if !globals.is_empty() {
        out.section(&globals);
    }

    // The guest decides the output's API; its internal exports are only
    // for the merge.
    let mut exports = ExportSection::new();
    let g = modules[guest];
    for export in &g.exports {
        if export
            .name
            .starts_with(wasi_virt_abi::names::INTERNAL_EXPORT_PREFIX)
            || plan.hidden_exports.iter().any(|h| h == export.name)
        {
            continue;
        }
        remap(guest)
            .parse_export(&mut exports, *export)
            .map_err(|e| at(g, e))?;
    }
    for (name, target_name) in &plan.target_exports {
        let t = modules[0];
        let export = t
            .exports
            .iter()
            .find(|e| e.name == target_name)
            .ok_or_else(|| anyhow!("{}: no export `{target_name}` to re-export", t.name))?;
        let renamed = wasmparser::Export { name, ..*export };
        remap(0)
            .parse_export(&mut exports, renamed)
            .map_err(|e| at(t, e))?;
    }
    out.section(&exports);

    let start_call = |&(mi, func): &(usize, u32)| -> Result<u32> {
        let mut r = remap(mi);
        r.function_index(func).map_err(|e| at(modules[mi], e))
    };
    match (&plan.start.calls[..], plan.start.wrapper) {
        (_, Some((wrapper, _))) => {
            out.section(&StartSection {
                function_index: wrapper,
            });
        }
        ([], None) => {}
        ([only], None) => {
            out.section(&StartSection {
                function_index: start_call(only)?,
            });
        }
        _ => unreachable!("layout gives several start functions a wrapper"),
    }

    if !elements.is_empty() {
        out.section(&elements);
    }
    if let Some(pack) = &plan.pack {
        // Passive: read by `memory.init` when the program reads a file.
        data.passive(pack.config.iter().copied());
        data.passive(pack.blob.iter().copied());
    }
    if modules.iter().any(|m| m.has_data_count)
        || plan.pack.is_some()
        || plan.control.passive.contains(&true)
    {
        out.section(&DataCountSection { count: data.len() });
    }

    let trampolines: Vec<Function> = plan
        .trampolines
        .iter()
        .map(|t| {
            let mut f = Function::new([]);
            for param in 0..t.params {
                f.instruction(&Instruction::LocalGet(param));
            }
            f.instruction(&Instruction::Call(t.callee));
            f.instruction(&Instruction::End);
            f
        })
        .collect();
    let mut generated = bridges;
    if plan.start.wrapper.is_some() {
        let mut f = Function::new([]);
        for &first in &plan.start.first {
            f.instruction(&Instruction::Call(first));
        }
        for call in &plan.start.calls {
            f.instruction(&Instruction::Call(start_call(call)?));
        }
        f.instruction(&Instruction::End);
        generated.push(f);
    }
    let code = encode_code(plan, modules, &trampolines, &generated)?;
    out.section(&RawSection {
        id: SectionId::Code as u8,
        data: &code,
    });

    if !data.is_empty() {
        out.section(&data);
    }

    // The guest's custom sections stay (wasm-bindgen reads its own later);
    // the targets' are dropped. So are `name` sections and DWARF
    // (`.debug_*`), whose function indices and code offsets no longer hold,
    // and the manifest, which was for the merge only. Of the guest's names,
    // its globals' stay, renumbered: wasm-bindgen finds the guest's
    // `__stack_pointer` by its name (the target has one too).
    for custom in &g.customs {
        let name = custom.name();
        if name == "name" {
            if let Some(names) = global_names(custom, &plan.maps[plan.guest()]) {
                out.section(&names);
            }
            continue;
        }
        if name.starts_with(".debug_")
            || name == wasi_virt_abi::manifest::SECTION
            || name == provenance::SECTION
        {
            continue;
        }
        out.section(&CustomSection {
            name: name.into(),
            data: custom.data().into(),
        });
    }
    // Always written, even empty: it is how `inspect` knows the module was
    // merged, and so that "imports: none" is the merge's promise kept.
    let text = provenance::encode(&entries) + &provenance::encode_targets(&plan.control.targets);
    out.section(&CustomSection {
        name: provenance::SECTION.into(),
        data: text.as_bytes().into(),
    });
    Ok(out.finish())
}

/// A `name` section with the global names of `custom` (a module's `name`
/// section) at their output indices, or `None` if it names no global (or
/// cannot be read: names are never worth failing a merge for).
fn global_names(
    custom: &wasmparser::CustomSectionReader,
    map: &IndexMap,
) -> Option<wasm_encoder::NameSection> {
    let reader = wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(
        custom.data(),
        custom.data_offset(),
    ));
    let mut globals = Vec::new();
    for subsection in reader {
        let Ok(wasmparser::Name::Global(names)) = subsection else {
            continue;
        };
        for naming in names {
            let naming = naming.ok()?;
            let index = *map.globals.get(naming.index as usize)?;
            globals.push((index, naming.name));
        }
    }
    if globals.is_empty() {
        return None;
    }
    globals.sort_unstable();
    let mut names = wasm_encoder::NameMap::new();
    for (index, name) in globals {
        names.append(index, name);
    }
    let mut section = wasm_encoder::NameSection::new();
    section.globals(&names);
    Some(section)
}

/// The code section's contents: the trampolines, every input's bodies
/// (copied where the input's map is the identity, re-encoded in parallel
/// chunks otherwise), then the generated functions.
fn encode_code(
    plan: &Plan,
    modules: &[&Module],
    before: &[Function],
    after: &[Function],
) -> Result<Vec<u8>> {
    let work: Vec<Work> = modules
        .iter()
        .enumerate()
        .flat_map(|(mi, m)| {
            let identity = plan.identity[mi];
            m.bodies.iter().enumerate().map(move |(i, body)| Work {
                module: mi,
                index: i as u32,
                body,
                raw: identity && !plan.control.changes(mi, i as u32),
            })
        })
        .collect();
    let total: usize = work.iter().map(Work::cost).sum();
    let threads = if total < PARALLEL_THRESHOLD {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    };
    let chunks = split_by_cost(&work, total, threads);
    let encoded: Vec<Result<Vec<u8>>> = if chunks.len() == 1 {
        vec![encode_bodies(plan, modules, chunks[0])]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| s.spawn(move || encode_bodies(plan, modules, chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(anyhow!("internal error: a code encoder thread panicked"))
                    })
                })
                .collect()
        })
    };
    let count = (before.len() + work.len() + after.len() + plan.control.funcs.len()) as u32;
    let size: usize = work.iter().map(|w| body_len(w.body) + 5).sum();
    let mut code = Vec::with_capacity(size + size / 8 + 16);
    count.encode(&mut code);
    for f in before {
        f.encode(&mut code);
    }
    for chunk in encoded {
        code.extend_from_slice(&chunk?);
    }
    for f in after {
        f.encode(&mut code);
    }
    for (_, body) in &plan.control.funcs {
        code.extend_from_slice(body);
    }
    Ok(code)
}

/// One function body to put in the output.
struct Work<'m, 'a> {
    module: usize,
    index: u32,
    body: &'m FunctionBody<'a>,
    /// Copied as is rather than re-encoded.
    raw: bool,
}

impl Work<'_, '_> {
    /// Roughly how long it takes: a copy is some thirty times cheaper than
    /// a re-encode.
    fn cost(&self) -> usize {
        if self.raw {
            body_len(self.body) / 32 + 1
        } else {
            body_len(self.body)
        }
    }
}

/// Splits `work` into at most `n` contiguous chunks of about equal cost.
fn split_by_cost<'w, 'm, 'a>(
    work: &'w [Work<'m, 'a>],
    total: usize,
    n: usize,
) -> Vec<&'w [Work<'m, 'a>]> {
    let mut chunks = Vec::with_capacity(n);
    let (mut start, mut acc) = (0, 0);
    let per_chunk = total / n.max(1) + 1;
    for (i, w) in work.iter().enumerate() {
        acc += w.cost();
        if acc >= per_chunk && chunks.len() + 1 < n {
            chunks.push(&work[start..=i]);
            start = i + 1;
            acc = 0;
        }
    }
    chunks.push(&work[start..]);
    chunks
}

/// Encodes `items`, each a size-prefixed body as the code section holds it.
fn encode_bodies(plan: &Plan, modules: &[&Module], items: &[Work]) -> Result<Vec<u8>> {
    let size: usize = items.iter().map(|w| body_len(w.body)).sum();
    let mut out = Vec::with_capacity(size + size / 8 + 16);
    let mut scratch = Vec::new();
    for w in items {
        if w.raw {
            let bytes = w.body.as_bytes();
            (bytes.len() as u32).encode(&mut out);
            out.extend_from_slice(bytes);
            continue;
        }
        let m = modules[w.module];
        let remap = Remap {
            map: &plan.maps[w.module],
        };
        match plan.control.rewrite(w.module) {
            Some(rewrite) if plan.control.changes(w.module, w.index) => {
                super::wrap_unreachable::rewrite_body(rewrite, remap, m, w.index, w.body, &mut out)
            }
            _ => patch_body(remap, w.body, &mut out, &mut scratch),
        }
        .map_err(|e| in_function(m, m.func_imports + w.index, e))?;
    }
    Ok(out)
}

/// The size of a body in bytes.
fn body_len(body: &FunctionBody) -> usize {
    let range = body.range();
    (range.end - range.start) as usize
}

/// Re-encodes one body, copying every instruction whose indices do not
/// change as its original bytes and encoding anew only those that do (in a
/// target that lost its WASI imports, mostly `call`s). Parsing is needed to
/// find them, but encoding every instruction would cost several times more.
fn patch_body(
    remap: Remap,
    body: &FunctionBody,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<(), reencode::Error<OutOfRange>> {
    let bytes = body.as_bytes();
    let base = body.range().start;
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let (_, ty) = locals.read()?;
        if let wasmparser::ValType::Ref(r) = ty
            && r.type_index().is_some()
        {
            // A local of a concrete reference type names a type index:
            // rare enough to take the simple road.
            return encode_body(
                &mut Probe {
                    remap,
                    changed: false,
                },
                body,
                out,
            );
        }
    }
    let mut reader = wasmparser::OperatorsReader::new(locals.get_binary_reader());
    let mut probe = Probe {
        remap,
        changed: false,
    };
    scratch.clear();
    let mut copied_to = base;
    while !reader.eof() {
        let at = reader.original_position();
        let op = reader.read()?;
        probe.changed = false;
        let instruction = probe.instruction(op)?;
        if probe.changed {
            scratch.extend_from_slice(&bytes[(copied_to - base) as usize..(at - base) as usize]);
            instruction.encode(scratch);
            copied_to = reader.original_position();
        }
    }
    scratch.extend_from_slice(&bytes[(copied_to - base) as usize..]);
    (scratch.len() as u32).encode(out);
    out.extend_from_slice(scratch);
    Ok(())
}

/// Re-encodes one body instruction by instruction.
fn encode_body(
    remap: &mut impl Reencode<Error = OutOfRange>,
    body: &FunctionBody,
    out: &mut Vec<u8>,
) -> Result<(), reencode::Error<OutOfRange>> {
    let mut f = remap.new_function_with_parsed_locals(body)?;
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        f.instruction(&remap.parse_instruction(&mut reader)?);
    }
    f.encode(out);
    Ok(())
}

/// A [`Remap`] that notes whether any index it mapped changed.
pub(crate) struct Probe<'p> {
    /// The map.
    pub(crate) remap: Remap<'p>,
    /// Whether an index changed since this was last set to `false`.
    pub(crate) changed: bool,
}

macro_rules! probe {
    ($($hook:ident),*) => {
        impl Reencode for Probe<'_> {
            type Error = OutOfRange;
            $(
                fn $hook(&mut self, index: u32) -> Result<u32, reencode::Error<OutOfRange>> {
                    let mapped = self.remap.$hook(index)?;
                    self.changed |= mapped != index;
                    Ok(mapped)
                }
            )*
        }
    };
}

probe!(
    function_index,
    global_index,
    table_index,
    memory_index,
    tag_index,
    type_index,
    data_index,
    element_index
);

/// A re-encoder for one input: every index goes through its [`IndexMap`].
pub struct Remap<'p> {
    /// The input's map.
    pub map: &'p IndexMap,
}

/// An index the input uses that its own index space does not have: the
/// input is invalid (found here before validation would).
#[derive(Debug)]
pub struct OutOfRange {
    space: &'static str,
    index: u32,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} index {} is out of range", self.space, self.index)
    }
}

impl std::error::Error for OutOfRange {}

fn look_up(
    space: &'static str,
    map: &[u32],
    index: u32,
) -> Result<u32, reencode::Error<OutOfRange>> {
    match map.get(index as usize) {
        Some(&i) if i != UNRESOLVED => Ok(i),
        _ => Err(reencode::Error::UserError(OutOfRange { space, index })),
    }
}

fn shift(
    space: &'static str,
    offset: u32,
    count: u32,
    index: u32,
) -> Result<u32, reencode::Error<OutOfRange>> {
    if index < count {
        Ok(offset + index)
    } else {
        Err(reencode::Error::UserError(OutOfRange { space, index }))
    }
}

impl Reencode for Remap<'_> {
    type Error = OutOfRange;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        look_up("function", &self.map.funcs, func)
    }
    fn global_index(&mut self, global: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        look_up("global", &self.map.globals, global)
    }
    fn table_index(&mut self, table: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        look_up("table", &self.map.tables, table)
    }
    fn memory_index(&mut self, memory: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        look_up("memory", &self.map.memories, memory)
    }
    fn tag_index(&mut self, tag: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        look_up("tag", &self.map.tags, tag)
    }
    fn type_index(&mut self, ty: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        shift("type", self.map.type_offset, self.map.type_count, ty)
    }
    fn data_index(&mut self, data: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        shift("data", self.map.data_offset, self.map.data_count, data)
    }
    fn element_index(&mut self, element: u32) -> Result<u32, reencode::Error<OutOfRange>> {
        shift(
            "element",
            self.map.element_offset,
            self.map.element_count,
            element,
        )
    }
}

/// A re-encoding error, as an error about the input `m`.
fn at(m: &Module, e: reencode::Error<OutOfRange>) -> anyhow::Error {
    cause(e).context(format!("{}: cannot re-encode the module", m.name))
}

/// A re-encoding error in function `index` of the input `m`.
fn in_function(m: &Module, index: u32, e: reencode::Error<OutOfRange>) -> anyhow::Error {
    cause(e).context(format!("{}: cannot re-encode function {index}", m.name))
}

fn cause(e: reencode::Error<OutOfRange>) -> anyhow::Error {
    match e {
        reencode::Error::ParseError(p) => anyhow::Error::new(p),
        reencode::Error::UserError(u) => anyhow::Error::new(u),
        other => anyhow!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::Fixture;
    use crate::passes::{bridge_memories, layout, rewire_imports};

    fn emit(fx: &Fixture) -> Vec<u8> {
        let built = fx.build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles);
        rewire_imports::run(&mut plan, &modules, &roles).unwrap();
        let bridges = bridge_memories::run(&plan);
        run(&plan, &modules, bridges).unwrap()
    }

    #[test]
    fn the_output_validates_and_exports_only_the_guest_api() {
        let bytes = emit(&Fixture::default());
        wasmparser::Validator::new().validate_all(&bytes).unwrap();
        let out = Module::parse("out.wasm", &bytes).unwrap();
        assert!(out.imports.is_empty());
        let names: Vec<&str> = out.exports.iter().map(|e| e.name).collect();
        assert_eq!(names, ["memory", "run", "written"]);
        // The exported memory is the guest's, now the last one.
        assert_eq!(out.exports[0].index, 1);
        assert!(out.customs.iter().all(|c| c.name() != "wasi-virt.manifest"));
    }

    #[test]
    fn kept_imports_are_recorded_for_inspect() {
        let bytes = emit(&Fixture {
            guest_imports: r#"(import "wasi-virt:passthrough" "random_get" (func (param i32 i32) (result i32)))"#
                .into(),
            target_imports: r#"(import "env" "js" (func))"#.into(),
            ..Fixture::default()
        });
        let out = Module::parse("out.wasm", &bytes).unwrap();
        let modules: Vec<(&str, &str)> = out.imports.iter().map(|i| (i.module, i.name)).collect();
        assert_eq!(
            modules,
            [("env", "js"), ("wasi_snapshot_preview1", "random_get")]
        );
        let entries = provenance::parse(&out.custom_sections(provenance::SECTION).unwrap());
        assert_eq!(
            entries[0].origin,
            crate::passes::check_imports::Origin::Target("app".into())
        );
        assert_eq!(
            entries[1].origin,
            crate::passes::check_imports::Origin::Passthrough
        );
    }

    #[test]
    fn only_the_guests_meaningful_custom_sections_stay() {
        let fixture = Fixture {
            guest_items: r#"(@custom "__wasm_bindgen_unstable" "bindgen")
                (@custom ".debug_info" "dwarf")"#
                .into(),
            target_items: r#"(@custom "producers-ish" "target's")"#.into(),
            ..Fixture::default()
        };
        let bytes = emit(&fixture);
        let out = Module::parse("out.wasm", &bytes).unwrap();
        let names: Vec<&str> = out.customs.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            ["__wasm_bindgen_unstable", "name", provenance::SECTION]
        );
        // Of the names, the guest's globals' alone, at their output
        // indices: the target's `$g` is global 0, the guest's `$written` 1.
        let custom = &out.customs[1];
        let reader = wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(
            custom.data(),
            custom.data_offset(),
        ));
        let mut named = Vec::new();
        for subsection in reader {
            let wasmparser::Name::Global(names) = subsection.unwrap() else {
                panic!("only global names are kept");
            };
            for naming in names {
                let naming = naming.unwrap();
                named.push((naming.index, naming.name));
            }
        }
        assert_eq!(named, [(1, "written")]);
    }

    #[test]
    fn a_bad_index_in_a_guest_body_names_the_file_and_function() {
        let built = Fixture {
            guest_items: "(func (drop (global.get 7)))".into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let err = parsed.merge().unwrap_err();
        assert_eq!(err.to_string(), "vfs.wasm: cannot re-encode function 6");
        assert_eq!(
            err.root_cause().to_string(),
            "global index 7 is out of range"
        );
    }

    #[test]
    fn chunks_cover_the_work_in_order() {
        let bytes =
            crate::passes::fixtures::wasm("(module (func) (func (nop)) (func (nop) (nop)) (func))");
        let m = Module::parse("m.wasm", &bytes).unwrap();
        let work: Vec<_> = m
            .bodies
            .iter()
            .enumerate()
            .map(|(i, body)| Work {
                module: 0,
                index: i as u32,
                body,
                raw: i == 2,
            })
            .collect();
        let total = work.iter().map(Work::cost).sum();
        for n in 1..6 {
            let chunks = split_by_cost(&work, total, n);
            assert!(chunks.len() <= n);
            let joined: Vec<u32> = chunks
                .iter()
                .flat_map(|c| c.iter().map(|w| w.index))
                .collect();
            assert_eq!(joined, [0, 1, 2, 3]);
        }
    }
}
