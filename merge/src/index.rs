//! Index translation: how an input's indices become the output's. An
//! [`IndexMap`] per input (made by layout), [`Remap`], the re-encoder that
//! looks every index up in it, and [`splice_body`], which re-encodes a
//! function body by copying its bytes and writing anew only what changes.
//! It depends on no pass: layout fills the maps, the passes that write code
//! read them.

use std::fmt;

use anyhow::anyhow;
use wasm_encoder::Encode;
use wasm_encoder::reencode::{self, Reencode};
use wasmparser::{FunctionBody, Operator};

use crate::module::Module;

/// A function index not yet known: a replaced import before rewiring.
pub const UNRESOLVED: u32 = u32::MAX;

/// How one input's indices map to the output's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexMap {
    /// The output index of the input's type 0.
    pub type_offset: u32,
    /// The number of types the input has.
    pub type_count: u32,
    /// Output index of each function (imports first, as in the input).
    pub funcs: Vec<u32>,
    /// Output index of each table.
    pub tables: Vec<u32>,
    /// Output index of each memory.
    pub memories: Vec<u32>,
    /// Output index of each global.
    pub globals: Vec<u32>,
    /// Output index of each tag.
    pub tags: Vec<u32>,
    /// The output index of the input's element segment 0.
    pub element_offset: u32,
    /// The number of element segments the input has.
    pub element_count: u32,
    /// The output index of the input's data segment 0.
    pub data_offset: u32,
    /// The number of data segments the input has.
    pub data_count: u32,
}

/// A re-encoder for one input: every index goes through its [`IndexMap`].
pub struct Remap<'p> {
    /// The input's map.
    pub map: &'p IndexMap,
}

/// A [`Remap`] that notes whether any index it mapped changed.
pub struct Probe<'p> {
    /// The map.
    pub remap: Remap<'p>,
    /// Whether an index changed since this was last set to `false`.
    pub changed: bool,
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
pub fn at(m: &Module, e: reencode::Error<OutOfRange>) -> anyhow::Error {
    cause(e).context(format!("{}: cannot re-encode the module", m.name))
}

/// A re-encoding error in function `index` of the input `m`.
pub fn in_function(m: &Module, index: u32, e: reencode::Error<OutOfRange>) -> anyhow::Error {
    cause(e).context(format!("{}: cannot re-encode function {index}", m.name))
}

/// A re-encoding error as an error of its own.
pub fn cause(e: reencode::Error<OutOfRange>) -> anyhow::Error {
    match e {
        reencode::Error::ParseError(p) => anyhow::Error::new(p),
        reencode::Error::UserError(u) => anyhow::Error::new(u),
        other => anyhow!("{other}"),
    }
}

/// What [`splice_body`] asks of its caller for each instruction (given
/// with its original bytes): write a replacement into the buffer and say
/// `true`, or say `false` to keep the instruction (remapped where its
/// indices change).
pub type Edit<'e> = dyn FnMut(&Operator, &[u8], &mut Probe, &mut Vec<u8>) -> Result<bool, reencode::Error<OutOfRange>>
    + 'e;

/// Re-encodes one body through `remap`, appending it size-prefixed to
/// `out`: every instruction is copied as its original bytes unless `edit`
/// replaces it or its indices change (in a target that lost its WASI
/// imports, mostly `call`s). Parsing is needed to find those, but encoding
/// every instruction would cost several times more. `scratch` is reused
/// from body to body.
pub fn splice_body(
    remap: Remap,
    body: &FunctionBody,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    edit: &mut Edit,
) -> Result<(), reencode::Error<OutOfRange>> {
    let bytes = body.as_bytes();
    let base = body.range().start;
    let mut probe = Probe {
        remap,
        changed: false,
    };
    let mut locals = body.get_locals_reader()?;
    let mut typed = false;
    for _ in 0..locals.get_count() {
        let (_, ty) = locals.read()?;
        // A local of a concrete reference type names a type index.
        typed |= matches!(ty, wasmparser::ValType::Ref(r) if r.type_index().is_some());
    }
    let mut reader = wasmparser::OperatorsReader::new(locals.get_binary_reader());
    scratch.clear();
    let mut copied_to = base;
    if typed {
        // Rare: the declarations are re-encoded, the code copied from its start.
        let mut declared = body.get_locals_reader()?;
        declared.get_count().encode(scratch);
        for _ in 0..declared.get_count() {
            let (n, ty) = declared.read()?;
            n.encode(scratch);
            probe.remap.val_type(ty)?.encode(scratch);
        }
        copied_to = reader.original_position();
    }
    let mut replacement = Vec::new();
    while !reader.eof() {
        let at = reader.original_position();
        let op = reader.read()?;
        replacement.clear();
        let raw = &bytes[(at - base) as usize..(reader.original_position() - base) as usize];
        if !edit(&op, raw, &mut probe, &mut replacement)? {
            probe.changed = false;
            let instruction = probe.instruction(op)?;
            if !probe.changed {
                continue;
            }
            instruction.encode(&mut replacement);
        }
        scratch.extend_from_slice(&bytes[(copied_to - base) as usize..(at - base) as usize]);
        scratch.extend_from_slice(&replacement);
        copied_to = reader.original_position();
    }
    scratch.extend_from_slice(&bytes[(copied_to - base) as usize..]);
    (scratch.len() as u32).encode(out);
    out.extend_from_slice(scratch);
    Ok(())
}

/// [`splice_body`] with no edits: only indices change.
pub fn patch_body(
    remap: Remap,
    body: &FunctionBody,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<(), reencode::Error<OutOfRange>> {
    splice_body(remap, body, out, scratch, &mut |_, _, _, _| Ok(false))
}
