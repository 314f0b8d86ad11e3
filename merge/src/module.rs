//! A read-only view of one input module: the parts the merge needs, kept as
//! wasmparser readers that borrow the input bytes, so that reading a 16 MB
//! module costs one pass over its section headers and nothing is copied.

use std::fmt;

use anyhow::{Context, Result, bail};
use wasmparser::{
    CompositeInnerType, CustomSectionReader, DataSectionReader, ElementSectionReader, Encoding,
    Export, ExternalKind, FuncType, FunctionBody, GlobalSectionReader, Import, MemoryType, Parser,
    Payload, TableSectionReader, TagSectionReader, TypeRef, TypeSectionReader, ValType,
};

/// The magic number every WebAssembly binary starts with.
const MAGIC: &[u8; 4] = b"\0asm";

/// One parsed input module.
///
/// `name` is how messages refer to it (the path the user gave), so that every
/// error can name its file.
#[derive(Clone)]
pub struct Module<'a> {
    /// The path as the user wrote it, for messages.
    pub name: String,
    /// The whole input.
    pub bytes: &'a [u8],
    /// Every type of the type index space; `None` for non-function (GC) types.
    pub types: Vec<Option<FuncType>>,
    /// The type section, re-read when the output is encoded.
    pub type_section: Option<TypeSectionReader<'a>>,
    /// Every import, compact encodings flattened, in index order.
    pub imports: Vec<Import<'a>>,
    /// The type index of every function: imported ones first, as in the index space.
    pub func_types: Vec<u32>,
    /// How many functions are imported.
    pub func_imports: u32,
    /// Imported and defined tables.
    pub tables: Space,
    /// The table section.
    pub table_section: Option<TableSectionReader<'a>>,
    /// Imported memories count; defined memory types.
    pub memory_imports: u32,
    /// The defined memories.
    pub memories: Vec<MemoryType>,
    /// Imported and defined globals.
    pub globals: Space,
    /// The global section.
    pub global_section: Option<GlobalSectionReader<'a>>,
    /// Imported and defined tags.
    pub tags: Space,
    /// The tag section.
    pub tag_section: Option<TagSectionReader<'a>>,
    /// Every export.
    pub exports: Vec<Export<'a>>,
    /// The start function, if any.
    pub start: Option<u32>,
    /// The element section and its segment count.
    pub element_section: Option<ElementSectionReader<'a>>,
    /// Number of element segments.
    pub element_count: u32,
    /// The data section.
    pub data_section: Option<DataSectionReader<'a>>,
    /// Number of data segments.
    pub data_count: u32,
    /// Whether the module has a DataCount section.
    pub has_data_count: bool,
    /// Every function body, in definition order.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Custom sections, in order.
    pub customs: Vec<CustomSectionReader<'a>>,
}

/// The size of one index space: imports come first, then definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Space {
    /// How many entries are imported.
    pub imported: u32,
    /// How many entries are defined.
    pub defined: u32,
}

impl<'a> Module<'a> {
    /// Parses `bytes`, read from the file `name`.
    ///
    /// This reads the structure only: function bodies and constant
    /// expressions are checked when the output is encoded and validated,
    /// which keeps the common path one pass over the input.
    pub fn parse(name: &str, bytes: &'a [u8]) -> Result<Module<'a>> {
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            bail!("{name}: not a WebAssembly module (it does not start with `\\0asm`)");
        }
        // The header's layer field is 1 for components: say so before any
        // section is read, so that this is the error's first line.
        if bytes.get(6..8) == Some(&[1, 0]) {
            bail!(
                "{name} is a component, not a core module (wasi-virt merges preview1 core modules)"
            );
        }
        parse_sections(name, bytes).with_context(|| format!("{name}: cannot read the module"))
    }

    /// The type of function `index`, if it is a function type.
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let ty = *self.func_types.get(index as usize)?;
        self.types.get(ty as usize)?.as_ref()
    }

    /// The function an export of that name refers to.
    pub fn exported_func(&self, name: &str) -> Option<u32> {
        self.exports
            .iter()
            .find(|e| e.name == name && e.kind == wasmparser::ExternalKind::Func)
            .map(|e| e.index)
    }

    /// The function imports as (function index, position in `imports`,
    /// import, type index).
    pub fn func_imports(&self) -> impl Iterator<Item = (u32, usize, &Import<'a>, u32)> {
        self.imports
            .iter()
            .enumerate()
            .filter_map(|(position, i)| match i.ty {
                TypeRef::Func(t) | TypeRef::FuncExact(t) => Some((position, i, t)),
                _ => None,
            })
            .enumerate()
            .map(|(index, (position, import, ty))| (index as u32, position, import, ty))
    }

    /// Whether this is a wasi-threads program: it imports a shared memory
    /// (`wasm32-wasip1-threads`).
    pub fn is_threads(&self) -> bool {
        self.imports
            .iter()
            .any(|i| matches!(i.ty, TypeRef::Memory(t) if t.shared))
    }

    /// The global the `name` section calls `name` (`__stack_pointer`), if
    /// there is one and it can be read.
    pub fn global_named(&self, name: &str) -> Option<u32> {
        let custom = self.customs.iter().find(|c| c.name() == "name")?;
        let reader = wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(
            custom.data(),
            custom.data_offset(),
        ));
        for subsection in reader {
            let Ok(wasmparser::Name::Global(names)) = subsection else {
                continue;
            };
            for naming in names {
                let naming = naming.ok()?;
                if naming.name == name {
                    return Some(naming.index);
                }
            }
        }
        None
    }

    /// The shadow stack pointer of code compiled by LLVM: the global the
    /// `name` section calls `__stack_pointer`, else (names stripped)
    /// global 0 if the module defines it as a mutable `i32`, which is
    /// where LLVM puts it.
    pub fn stack_pointer(&self) -> Option<u32> {
        if let Some(named) = self.global_named("__stack_pointer") {
            return Some(named);
        }
        if self.globals.imported > 0 {
            return None;
        }
        let first = self.global_section.clone()?.into_iter().next()?.ok()?;
        let ty = first.ty;
        (ty.mutable && ty.content_type == wasmparser::ValType::I32).then_some(0)
    }

    /// The data of every custom section called `name`, concatenated in order.
    pub fn custom_sections(&self, name: &str) -> Option<Vec<u8>> {
        let mut found = None;
        for section in self.customs.iter().filter(|c| c.name() == name) {
            found
                .get_or_insert_with(Vec::new)
                .extend_from_slice(section.data());
        }
        found
    }
}

fn parse_sections<'a>(name: &str, bytes: &'a [u8]) -> Result<Module<'a>> {
    let mut m = Module::empty(name, bytes);
    for payload in Parser::new(0).parse_all(bytes) {
        m.read(payload?)?;
    }
    let defined = m.func_types.len() as u32 - m.func_imports;
    if m.bodies.len() as u32 != defined {
        bail!(
            "the function section declares {defined} functions but the code section has {} bodies",
            m.bodies.len()
        );
    }
    check_indices(&m)?;
    Ok(m)
}

impl<'a> Module<'a> {
    /// A module with nothing read yet.
    fn empty(name: &str, bytes: &'a [u8]) -> Module<'a> {
        Module {
            name: name.to_string(),
            bytes,
            types: Vec::new(),
            type_section: None,
            imports: Vec::new(),
            func_types: Vec::new(),
            func_imports: 0,
            tables: Space::default(),
            table_section: None,
            memory_imports: 0,
            memories: Vec::new(),
            globals: Space::default(),
            global_section: None,
            tags: Space::default(),
            tag_section: None,
            exports: Vec::new(),
            start: None,
            element_section: None,
            element_count: 0,
            data_section: None,
            data_count: 0,
            has_data_count: false,
            bodies: Vec::new(),
            customs: Vec::new(),
        }
    }

    /// Takes in one payload of the parser.
    fn read(&mut self, payload: Payload<'a>) -> Result<()> {
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {
                bail!(
                    "{} is a component, not a core module (wasi-virt merges preview1 core modules)",
                    self.name
                )
            }
            Payload::Version { .. } => {}
            Payload::TypeSection(reader) => {
                for group in reader.clone() {
                    for sub in group?.into_types() {
                        self.types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
                self.type_section = Some(reader);
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            self.func_types.push(t);
                            self.func_imports += 1;
                        }
                        TypeRef::Table(_) => self.tables.imported += 1,
                        TypeRef::Memory(_) => self.memory_imports += 1,
                        TypeRef::Global(_) => self.globals.imported += 1,
                        TypeRef::Tag(_) => self.tags.imported += 1,
                    }
                    self.imports.push(import);
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    self.func_types.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                self.tables.defined = reader.count();
                self.table_section = Some(reader);
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    self.memories.push(memory?);
                }
            }
            Payload::TagSection(reader) => {
                self.tags.defined = reader.count();
                self.tag_section = Some(reader);
            }
            Payload::GlobalSection(reader) => {
                self.globals.defined = reader.count();
                self.global_section = Some(reader);
            }
            Payload::ExportSection(reader) => {
                // The target's exports are not part of the output, so the
                // output's validation would not see a clash among theself.
                let mut names = std::collections::HashSet::new();
                for export in reader.into_iter_with_offsets() {
                    let (offset, export) = export?;
                    if !names.insert(export.name) {
                        bail!(
                            "duplicate export name `{}` (at offset {offset:#x})",
                            export.name
                        );
                    }
                    self.exports.push(export);
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                self.element_count = reader.count();
                self.element_section = Some(reader);
            }
            Payload::DataCountSection { .. } => self.has_data_count = true,
            Payload::DataSection(reader) => {
                self.data_count = reader.count();
                self.data_section = Some(reader);
            }
            Payload::CodeSectionStart { count, .. } => self.bodies.reserve(count as usize),
            Payload::CodeSectionEntry(body) => self.bodies.push(body),
            Payload::CustomSection(reader) => self.customs.push(reader),
            Payload::End(_) => {}
            Payload::UnknownSection { id, range, .. } => {
                bail!("unknown section with id {id} at offset {:#x}", range.start)
            }
            other => {
                // Component payloads cannot follow a core module header, and
                // every core section is handled above; a new proposal's
                // section lands here.
                let (id, range) = other
                    .as_section()
                    .map(|(id, range)| (id.to_string(), range.start))
                    .unwrap_or_else(|| ("?".to_string(), 0));
                bail!("unsupported section with id {id} at offset {range:#x}")
            }
        }
        Ok(())
    }
}

/// Every export and the start function must name something the module has:
/// the merge follows them (a guest's `import_wasm!` import lands on the
/// target's export), and an index past the end would be blamed on the wrong
/// file, or not noticed, since a target's exports are not in the output.
fn check_indices(m: &Module) -> Result<()> {
    let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    // A function whose type is not a function type would be blamed on
    // whoever imports it (the guest, for a target's `_start`).
    for (index, &ty) in m.func_types.iter().enumerate() {
        if !matches!(m.types.get(ty as usize), Some(Some(_))) {
            bail!(
                "function {index} has type {ty}, which is not a function type (the module has {})",
                plural(m.types.len() as u64, "type")
            );
        }
    }
    for export in &m.exports {
        let (what, count) = match export.kind {
            ExternalKind::Func | ExternalKind::FuncExact => ("function", m.func_types.len()),
            ExternalKind::Table => ("table", (m.tables.imported + m.tables.defined) as usize),
            ExternalKind::Memory => ("memory", m.memory_imports as usize + m.memories.len()),
            ExternalKind::Global => ("global", (m.globals.imported + m.globals.defined) as usize),
            ExternalKind::Tag => ("tag", (m.tags.imported + m.tags.defined) as usize),
        };
        if export.index as usize >= count {
            bail!(
                "export `{}` is {what} {}, but the module has {}",
                export.name,
                export.index,
                plural(count as u64, what)
            );
        }
    }
    if let Some(start) = m.start
        && start as usize >= m.func_types.len()
    {
        bail!(
            "the start function is function {start}, but the module has {}",
            plural(m.func_types.len() as u64, "function")
        );
    }
    Ok(())
}

/// A core function signature written as WAT spells it, e.g.
/// `(param i32 i64) (result i32)`: the form `preview1::signature_text` uses,
/// so that a mismatch message shows both sides alike.
pub struct Signature<'t>(pub &'t FuncType);

impl fmt::Display for Signature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(param")?;
        for p in self.0.params() {
            write!(f, " {}", val_type_name(p))?;
        }
        write!(f, ") (result")?;
        for r in self.0.results() {
            write!(f, " {}", val_type_name(r))?;
        }
        write!(f, ")")
    }
}

fn val_type_name(t: &ValType) -> String {
    match t {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => r.to_string(),
    }
}

/// Converts the abi crate's value type into wasmparser's.
pub fn abi_val_type(t: wasi_virt_abi::preview1::ValType) -> ValType {
    match t {
        wasi_virt_abi::preview1::ValType::I32 => ValType::I32,
        wasi_virt_abi::preview1::ValType::I64 => ValType::I64,
    }
}

/// The core type preview1 gives `function`.
pub fn preview1_type(function: &wasi_virt_abi::preview1::Function) -> FuncType {
    let params: Vec<ValType> = function.core_params().map(abi_val_type).collect();
    let results: Vec<ValType> = function
        .core_results()
        .iter()
        .copied()
        .map(abi_val_type)
        .collect();
    FuncType::new(params, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_wasm_is_named() {
        let err = Module::parse("notes.txt", b"hello world").err().unwrap();
        assert_eq!(
            err.to_string(),
            "notes.txt: not a WebAssembly module (it does not start with `\\0asm`)"
        );
    }

    #[test]
    fn truncated_carries_an_offset() {
        let bytes = wat::parse_str("(module (func (export \"f\")))").unwrap();
        let err = Module::parse("t.wasm", &bytes[..bytes.len() - 3])
            .err()
            .unwrap();
        let text = format!("{err:#}");
        assert!(text.starts_with("t.wasm: cannot read the module"), "{text}");
        assert!(text.contains("offset"), "{text}");
    }

    #[test]
    fn duplicate_export_names_are_refused() {
        let bytes =
            wat::parse_str(r#"(module (func) (export "f" (func 0)) (export "f" (func 0)))"#)
                .unwrap();
        let err = Module::parse("t.wasm", &bytes).err().unwrap();
        let text = format!("{err:#}");
        assert!(
            text.starts_with(
                "t.wasm: cannot read the module: duplicate export name `f` (at offset"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_export_or_start_past_the_end_is_refused() {
        let bytes = wat::parse_str(r#"(module (func) (export "_start" (func 9)))"#).unwrap();
        let err = Module::parse("t.wasm", &bytes).err().unwrap();
        assert_eq!(
            format!("{err:#}"),
            "t.wasm: cannot read the module: export `_start` is function 9, but the module has 1 function"
        );
        let bytes = wat::parse_str(r#"(module (memory 1) (export "m" (memory 1)))"#).unwrap();
        let err = format!("{:#}", Module::parse("t.wasm", &bytes).err().unwrap());
        assert!(
            err.ends_with("export `m` is memory 1, but the module has 1 memory"),
            "{err}"
        );
        let bytes = wat::parse_str("(module (start 3))").unwrap();
        let err = format!("{:#}", Module::parse("t.wasm", &bytes).err().unwrap());
        assert!(
            err.ends_with("the start function is function 3, but the module has 0 functions"),
            "{err}"
        );
    }

    #[test]
    fn a_function_of_a_type_past_the_end_is_refused() {
        let bytes = wat::parse_str("(module (type (func)) (func (type 4)))").unwrap();
        let err = format!("{:#}", Module::parse("t.wasm", &bytes).err().unwrap());
        assert!(
            err.ends_with(
                "function 0 has type 4, which is not a function type (the module has 1 type)"
            ),
            "{err}"
        );
    }

    #[test]
    fn component_is_refused() {
        let bytes = wat::parse_str("(component)").unwrap();
        let err = Module::parse("c.wasm", &bytes).err().unwrap();
        assert_eq!(
            err.to_string(),
            "c.wasm is a component, not a core module (wasi-virt merges preview1 core modules)"
        );
    }

    #[test]
    fn signature_matches_the_abi_spelling() {
        let f = wasi_virt_abi::preview1::function("fd_write").unwrap();
        assert_eq!(Signature(&preview1_type(f)).to_string(), f.signature());
    }
}
