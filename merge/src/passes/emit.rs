//! Pass 8: write the output in one streaming pass over every input. It
//! decides nothing: every index, every generated function's body, every
//! rewrite was settled by the passes before; this one serializes.
//!
//! Sections are concatenated in the plan's order (targets, then the guest,
//! then what the merge generates). An input whose [`IndexMap`] is the
//! identity (the first target, on the fast path) has its function bodies
//! and data segments copied byte for byte. Every other input goes through
//! `Remap`, a `wasm_encoder` re-encoder whose index hooks look the map
//! up; its bodies are spliced rather than rebuilt: only instructions whose
//! indices change are encoded anew, the rest is copied. The code section,
//! nearly all of a large target, is done on every core in contiguous
//! chunks of about equal cost, then joined in order.

use anyhow::{Result, anyhow};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CustomSection, DataCountSection, DataSection, ElementSection, Encode, ExportSection, Function,
    FunctionSection, GlobalSection, ImportSection, MemorySection, RawSection, SectionId,
    StartSection, TableSection, TagSection, TypeSection,
};
use wasmparser::FunctionBody;

use super::control::Control;
use super::layout::{NewFunc, Plan};
use super::threads::{GUEST_MEMORY, Threads};
use super::wrap_unreachable;
use crate::index::{IndexMap, Remap, at, in_function, patch_body};
use crate::module::Module;
use crate::provenance;

/// Below this many bytes of code, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Encodes the output of `plan`, `control` and `threads` from `modules`
/// (targets, then the guest).
pub fn run(
    plan: &Plan,
    modules: &[&Module],
    control: &Control,
    threads: Option<&Threads>,
) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    out.section(&types(plan, modules)?);
    let (imports, entries) = imports(plan, modules, threads)?;
    if !imports.is_empty() {
        out.section(&imports);
    }
    out.section(&functions(plan, modules));
    let mut sections = Definitions::default();
    for (mi, m) in modules.iter().enumerate() {
        // A threads output imports the guest's memory, shared, and applies
        // its data once (see `threads`).
        let guest_shared = threads.is_some() && mi == plan.guest();
        sections.add(plan, control, mi, m, guest_shared)?;
    }
    for g in &plan.globals {
        sections
            .globals
            .global(global_type(g.i64), &global_init(g.i64, g.init));
    }
    for ty in &plan.tags {
        sections.tags.tag(wasm_encoder::TagType {
            kind: wasm_encoder::TagKind::Exception,
            func_type_idx: *ty,
        });
    }
    let Definitions {
        tables,
        memories,
        tags,
        globals,
        elements,
        mut data,
    } = sections;
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
    out.section(&exports(plan, modules, threads)?);
    if let Some(start) = start(plan, modules)? {
        out.section(&StartSection {
            function_index: start,
        });
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
        || control.passive.contains(&true)
        || threads.is_some()
    {
        out.section(&DataCountSection { count: data.len() });
    }
    let code = encode_code(plan, modules, control)?;
    out.section(&RawSection {
        id: SectionId::Code as u8,
        data: &code,
    });
    if !data.is_empty() {
        out.section(&data);
    }
    customs(&mut out, plan, modules[plan.guest()], &entries, control);
    Ok(out.finish())
}

/// Every input's types, then the plan's extra ones.
fn types(plan: &Plan, modules: &[&Module]) -> Result<TypeSection> {
    let mut types = TypeSection::new();
    for (mi, m) in modules.iter().enumerate() {
        if let Some(section) = &m.type_section {
            remap(plan, mi)
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
    Ok(types)
}

/// The kept imports (and a threads output's shared guest memory), and what
/// `inspect` is told about each.
fn imports(
    plan: &Plan,
    modules: &[&Module],
    threads: Option<&Threads>,
) -> Result<(ImportSection, Vec<provenance::Entry>)> {
    let mut imports = ImportSection::new();
    let mut entries = Vec::new();
    for kept in &plan.kept {
        let m = modules[kept.module];
        let import = &m.imports[kept.import];
        let ty = remap(plan, kept.module)
            .entity_type(import.ty)
            .map_err(|e| at(m, e))?;
        imports.import(&kept.output_module, import.name, ty);
        entries.push(provenance::Entry {
            origin: kept.origin.clone(),
            module: kept.output_module.clone(),
            name: import.name.to_string(),
        });
    }
    if let Some(threads) = threads {
        let (module, name) = GUEST_MEMORY;
        imports.import(
            module,
            name,
            wasm_encoder::EntityType::Memory(threads.guest_memory),
        );
        entries.push(provenance::Entry {
            origin: crate::types::Origin::SharedGuestMemory,
            module: module.to_string(),
            name: name.to_string(),
        });
    }
    Ok((imports, entries))
}

/// The type of every defined function: trampolines, inputs, new ones.
fn functions(plan: &Plan, modules: &[&Module]) -> FunctionSection {
    let mut functions = FunctionSection::new();
    for trampoline in &plan.trampolines {
        functions.function(trampoline.ty);
    }
    for (map, m) in plan.maps.iter().zip(modules) {
        for ty in &m.func_types[m.func_imports as usize..] {
            functions.function(map.type_offset + ty);
        }
    }
    for f in &plan.funcs {
        functions.function(f.ty);
    }
    functions
}

/// The sections every input adds to, in input order.
#[derive(Default)]
struct Definitions {
    tables: TableSection,
    memories: MemorySection,
    tags: TagSection,
    globals: GlobalSection,
    elements: ElementSection,
    data: DataSection,
}

impl Definitions {
    /// Input `mi`'s tables, memories, tags, globals, elements and data;
    /// with `shared`, its memory is imported instead and its data passive.
    fn add(
        &mut self,
        plan: &Plan,
        control: &Control,
        mi: usize,
        m: &Module,
        shared: bool,
    ) -> Result<()> {
        let mut r = remap(plan, mi);
        let e = |e| at(m, e);
        if let Some(s) = &m.table_section {
            r.parse_table_section(&mut self.tables, s.clone())
                .map_err(e)?;
        }
        for memory in m.memories.iter().filter(|_| !shared) {
            self.memories.memory(r.memory_type(*memory).map_err(e)?);
        }
        if let Some(s) = &m.tag_section {
            r.parse_tag_section(&mut self.tags, s.clone()).map_err(e)?;
        }
        if let Some(s) = &m.global_section {
            r.parse_global_section(&mut self.globals, s.clone())
                .map_err(e)?;
        }
        let passive = control.passive(mi);
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
                    r.parse_element(&mut self.elements, wasmparser::Element { kind, ..element })
                        .map_err(e)?;
                }
            }
            Some(s) => r
                .parse_element_section(&mut self.elements, s.clone())
                .map_err(e)?,
            None => {}
        }
        match &m.data_section {
            Some(s) if passive || shared => {
                for segment in s.clone() {
                    let segment = segment.map_err(|err| e(err.into()))?;
                    let segment = wasmparser::Data {
                        kind: wasmparser::DataKind::Passive,
                        ..segment
                    };
                    r.parse_data(&mut self.data, segment).map_err(e)?;
                }
            }
            // Data is most of a large target's bytes besides code: with
            // nothing to remap, each segment is copied as it is encoded.
            Some(s) if plan.identity[mi] => {
                for segment in s.clone() {
                    let range = segment.map_err(|err| e(err.into()))?.range;
                    self.data
                        .raw(&m.bytes[range.start as usize..range.end as usize]);
                }
            }
            Some(s) => r.parse_data_section(&mut self.data, s.clone()).map_err(e)?,
            None => {}
        }
        Ok(())
    }
}

fn global_type(i64: bool) -> wasm_encoder::GlobalType {
    wasm_encoder::GlobalType {
        val_type: if i64 {
            wasm_encoder::ValType::I64
        } else {
            wasm_encoder::ValType::I32
        },
        mutable: true,
        shared: false,
    }
}

fn global_init(i64: bool, init: i64) -> wasm_encoder::ConstExpr {
    if i64 {
        wasm_encoder::ConstExpr::i64_const(init)
    } else {
        wasm_encoder::ConstExpr::i32_const(init as i32)
    }
}

/// The guest decides the output's API; its internal exports are only for
/// the merge. Then the first target's re-exports (`pack`), and what a
/// threads output adds (`wasi_thread_start`); a threads output's guest
/// functions are entered through the lock.
fn exports(plan: &Plan, modules: &[&Module], threads: Option<&Threads>) -> Result<ExportSection> {
    let mut exports = ExportSection::new();
    let guest = plan.guest();
    let g = modules[guest];
    for export in &g.exports {
        if export
            .name
            .starts_with(wasi_virt_abi::names::INTERNAL_EXPORT_PREFIX)
            || plan.hidden_exports.iter().any(|h| h == export.name)
        {
            continue;
        }
        let entry = threads.and_then(|t| t.entry(export.index));
        match entry {
            Some(f) if export.kind == wasmparser::ExternalKind::Func => {
                exports.export(export.name, wasm_encoder::ExportKind::Func, f);
            }
            _ => {
                remap(plan, guest)
                    .parse_export(&mut exports, *export)
                    .map_err(|e| at(g, e))?;
            }
        }
    }
    let added = threads.map_or(&[][..], |t| &t.exports[..]);
    for (name, target_name) in &plan.target_exports {
        if added.iter().any(|(n, _)| n == name) {
            continue;
        }
        let t = modules[0];
        let export = t
            .exports
            .iter()
            .find(|e| e.name == target_name)
            .ok_or_else(|| anyhow!("{}: no export `{target_name}` to re-export", t.name))?;
        let renamed = wasmparser::Export { name, ..*export };
        remap(plan, 0)
            .parse_export(&mut exports, renamed)
            .map_err(|e| at(t, e))?;
    }
    for (name, f) in added {
        exports.export(name, wasm_encoder::ExportKind::Func, *f);
    }
    Ok(exports)
}

/// The output's start function: the wrapper, or the one input's.
fn start(plan: &Plan, modules: &[&Module]) -> Result<Option<u32>> {
    match (&plan.start.calls[..], plan.start.wrapper) {
        (_, Some(wrapper)) => Ok(Some(wrapper)),
        ([], None) => Ok(None),
        ([(mi, func)], None) => {
            let index = remap(plan, *mi)
                .function_index(*func)
                .map_err(|e| at(modules[*mi], e))?;
            Ok(Some(index))
        }
        _ => unreachable!("layout gives several start functions a wrapper"),
    }
}

/// The guest's custom sections stay (wasm-bindgen reads its own later);
/// the targets' are dropped. So are `name` sections and DWARF
/// (`.debug_*`), whose function indices and code offsets no longer hold,
/// and the manifest, which was for the merge only. Of the guest's names,
/// its globals' stay, renumbered: wasm-bindgen finds the guest's
/// `__stack_pointer` by its name (the target has one too). Last, what
/// `inspect` reads.
fn customs(
    out: &mut wasm_encoder::Module,
    plan: &Plan,
    g: &Module,
    entries: &[provenance::Entry],
    control: &Control,
) {
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
    let text = provenance::encode(entries) + &provenance::encode_targets(&control.targets);
    out.section(&CustomSection {
        name: provenance::SECTION.into(),
        data: text.as_bytes().into(),
    });
}

fn remap(plan: &Plan, mi: usize) -> Remap<'_> {
    Remap {
        map: &plan.maps[mi],
    }
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
fn encode_code(plan: &Plan, modules: &[&Module], control: &Control) -> Result<Vec<u8>> {
    let work: Vec<Work> = modules
        .iter()
        .enumerate()
        .flat_map(|(mi, m)| {
            let identity = plan.identity[mi];
            m.bodies.iter().enumerate().map(move |(i, body)| Work {
                module: mi,
                index: i as u32,
                body,
                raw: identity && !control.changes(mi, i as u32),
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
        vec![encode_bodies(plan, modules, control, chunks[0])]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| s.spawn(move || encode_bodies(plan, modules, control, chunk)))
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
    let count = (plan.trampolines.len() + work.len() + plan.funcs.len()) as u32;
    let size: usize = work.iter().map(|w| body_len(w.body) + 5).sum();
    let mut code = Vec::with_capacity(size + size / 8 + 16);
    count.encode(&mut code);
    for f in &plan.trampolines {
        new_body(f)?.encode(&mut code);
    }
    for chunk in encoded {
        code.extend_from_slice(&chunk?);
    }
    for f in &plan.funcs {
        new_body(f)?.encode(&mut code);
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
fn encode_bodies(
    plan: &Plan,
    modules: &[&Module],
    control: &Control,
    items: &[Work],
) -> Result<Vec<u8>> {
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
        match control.rewrite(w.module) {
            Some(rewrite) if control.changes(w.module, w.index) => wrap_unreachable::rewrite_body(
                rewrite,
                remap,
                m,
                w.index,
                w.body,
                &mut out,
                &mut scratch,
            ),
            _ => patch_body(remap, w.body, &mut out, &mut scratch),
        }
        .map_err(|e| in_function(m, m.func_imports + w.index, e))?;
    }
    Ok(out)
}

/// The body a pass wrote for a new function.
fn new_body(f: &NewFunc) -> Result<&Function> {
    f.body.as_ref().ok_or_else(|| {
        anyhow!(
            "internal error: no pass wrote the body of a {:?} (this is a wasi-virt bug; please report it with the input files)",
            f.kind
        )
    })
}

/// The size of a body in bytes.
fn body_len(body: &FunctionBody) -> usize {
    let range = body.range();
    (range.end - range.start) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::Fixture;
    use crate::passes::{bridge_memories, layout, rewire_imports};

    /// The fixture laid out, rewired and its bridges written: no run
    /// control, nothing generated.
    fn emit(fx: &Fixture) -> Vec<u8> {
        let built = fx.build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Default::default());
        rewire_imports::run(&mut plan, &modules, &roles, &[]).unwrap();
        bridge_memories::run(&mut plan);
        run(&plan, &modules, &Control::default(), None).unwrap()
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
            crate::types::Origin::Target("app".into())
        );
        assert_eq!(entries[1].origin, crate::types::Origin::Passthrough);
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
