//! Pass 4: where everything lands in the output's index spaces.
//!
//! The order is the design's, and the reason for each choice:
//! - memories: the (first) target's memory is memory 0, so the target's
//!   loads and stores keep their encoding and get the engine's fastest
//!   memory; further targets follow; the guest's memory comes last.
//! - functions: imports that stay first (wasm puts imports before
//!   definitions), then each target's functions, then the guest's, then the
//!   generated bridge functions and the start wrapper.
//! - types, tables, globals, tags, elements, data: each target's, then the
//!   guest's (types simply concatenated: engines canonicalise them anyway).
//!
//! Imports that are replaced get [`UNRESOLVED`] here;
//! [`rewire_imports`](super::rewire_imports) fills them in.

use wasmparser::{FuncType, TypeRef};

use super::bridge_memories::BridgeOp;
use super::check_imports::{Origin, Role};
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

/// An import that stays in the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptImport {
    /// Which input it comes from.
    pub module: usize,
    /// Its index in that input's import list.
    pub import: usize,
    /// The output's import module name.
    pub output_module: String,
    /// Why it stays.
    pub origin: Origin,
}

/// A generated bridge function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bridge {
    /// What it does.
    pub op: BridgeOp,
    /// The output index of the target's memory.
    pub target_memory: u32,
    /// The output index of the guest's memory.
    pub guest_memory: u32,
    /// Its output type index.
    pub ty: u32,
}

/// The start functions of the inputs, and how the output runs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Start {
    /// Every input's start function: (input, its function index), targets first.
    pub calls: Vec<(usize, u32)>,
    /// When several inputs have one: the generated function that calls
    /// them in order, as (function index, type index).
    pub wrapper: Option<(u32, u32)>,
}

/// Everything the encoder needs to know about the output's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// One map per input: the targets in order, then the guest.
    pub maps: Vec<IndexMap>,
    /// The output's imports, in order.
    pub kept: Vec<KeptImport>,
    /// The generated bridge functions, right after the guest's functions.
    pub bridges: Vec<Bridge>,
    /// The start functions.
    pub start: Start,
    /// Types the output needs beyond the inputs', appended after them.
    pub extra_types: Vec<FuncType>,
}

impl Plan {
    /// The input index of the guest (always the last input).
    pub fn guest(&self) -> usize {
        self.maps.len() - 1
    }
}

/// Lays out the output for `modules` (the targets in order, then the guest),
/// given the role of each of their imports.
pub fn run(modules: &[&Module], roles: &[Vec<Role>]) -> Plan {
    let guest = modules.len() - 1;
    let mut maps: Vec<IndexMap> = modules
        .iter()
        .map(|m| IndexMap {
            funcs: vec![UNRESOLVED; m.func_types.len()],
            tables: vec![UNRESOLVED; (m.tables.imported + m.tables.defined) as usize],
            memories: vec![UNRESOLVED; m.memory_imports as usize + m.memories.len()],
            globals: vec![UNRESOLVED; (m.globals.imported + m.globals.defined) as usize],
            tags: vec![UNRESOLVED; (m.tags.imported + m.tags.defined) as usize],
            type_count: m.types.len() as u32,
            element_count: m.element_count,
            data_count: m.data_count,
            ..IndexMap::default()
        })
        .collect();

    // Imports that stay come first in every index space.
    let mut kept = Vec::new();
    let mut next = Counters::default();
    for (mi, m) in modules.iter().enumerate() {
        let mut seen = Counters::default();
        for (ii, import) in m.imports.iter().enumerate() {
            let keep = match &roles[mi][ii] {
                Role::Keep { module, origin } => Some((module, origin)),
                _ => None,
            };
            let (slot, out) = match import.ty {
                TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                    (&mut maps[mi].funcs[seen.bump_func()], &mut next.funcs)
                }
                TypeRef::Table(_) => (&mut maps[mi].tables[seen.bump_table()], &mut next.tables),
                TypeRef::Global(_) => {
                    (&mut maps[mi].globals[seen.bump_global()], &mut next.globals)
                }
                TypeRef::Tag(_) => (&mut maps[mi].tags[seen.bump_tag()], &mut next.tags),
                TypeRef::Memory(_) => (
                    &mut maps[mi].memories[seen.bump_memory()],
                    &mut next.memories,
                ),
            };
            if let Some((module, origin)) = keep {
                *slot = *out;
                *out += 1;
                kept.push(KeptImport {
                    module: mi,
                    import: ii,
                    output_module: module.clone(),
                    origin: origin.clone(),
                });
            }
        }
    }

    // Then each input's definitions, targets first.
    let (mut types, mut elements, mut data) = (0, 0, 0);
    for (map, m) in maps.iter_mut().zip(modules) {
        map.type_offset = types;
        types += map.type_count;
        map.element_offset = elements;
        elements += map.element_count;
        map.data_offset = data;
        data += map.data_count;
        let defined = |slots: &mut [u32], imported: usize, next: &mut u32| {
            for slot in &mut slots[imported..] {
                *slot = *next;
                *next += 1;
            }
        };
        defined(&mut map.funcs, m.func_imports as usize, &mut next.funcs);
        defined(
            &mut map.tables,
            m.tables.imported as usize,
            &mut next.tables,
        );
        defined(
            &mut map.memories,
            m.memory_imports as usize,
            &mut next.memories,
        );
        defined(
            &mut map.globals,
            m.globals.imported as usize,
            &mut next.globals,
        );
        defined(&mut map.tags, m.tags.imported as usize, &mut next.tags);
    }

    // Generated functions last: the bridges, in the guest's import order.
    let mut bridges = Vec::new();
    let g = modules[guest];
    for (fi, position, _, ty) in g.func_imports() {
        let Role::Bridge { target, op } = roles[guest][position] else {
            continue;
        };
        maps[guest].funcs[fi as usize] = next.funcs;
        next.funcs += 1;
        bridges.push(Bridge {
            op,
            target_memory: maps[target].memories[0],
            guest_memory: maps[guest].memories.first().copied().unwrap_or(0),
            ty: maps[guest].type_offset + ty,
        });
    }

    let mut extra_types = Vec::new();
    let mut start = Start {
        calls: modules
            .iter()
            .enumerate()
            .filter_map(|(mi, m)| Some((mi, m.start?)))
            .collect(),
        wrapper: None,
    };
    if start.calls.len() > 1 {
        start.wrapper = Some((next.funcs, types));
        extra_types.push(FuncType::new([], []));
    }

    Plan {
        maps,
        kept,
        bridges,
        start,
        extra_types,
    }
}

/// Next free index per index space.
#[derive(Default)]
struct Counters {
    funcs: u32,
    tables: u32,
    memories: u32,
    globals: u32,
    tags: u32,
}

impl Counters {
    fn bump(n: &mut u32) -> usize {
        *n += 1;
        (*n - 1) as usize
    }
    fn bump_func(&mut self) -> usize {
        Self::bump(&mut self.funcs)
    }
    fn bump_table(&mut self) -> usize {
        Self::bump(&mut self.tables)
    }
    fn bump_memory(&mut self) -> usize {
        Self::bump(&mut self.memories)
    }
    fn bump_global(&mut self) -> usize {
        Self::bump(&mut self.globals)
    }
    fn bump_tag(&mut self) -> usize {
        Self::bump(&mut self.tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::Fixture;

    #[test]
    fn target_memory_is_memory_zero_and_the_guest_comes_last() {
        let built = Fixture::default().build();
        let parsed = built.parse();
        let plan = run(&parsed.modules(), &parsed.roles());
        let (target, guest) = (&plan.maps[0], &plan.maps[1]);
        assert_eq!(target.memories, [0]);
        assert_eq!(guest.memories, [1]);
        // The target's WASI import waits for rewiring; its own functions
        // start right after the (zero) kept imports.
        assert_eq!(target.funcs[0], UNRESOLVED);
        assert_eq!(target.funcs[1..], [0, 1]);
        // The guest's bridge imports become functions after every definition.
        let defined = (target.funcs.len() - 1 + guest.funcs.len() - 3) as u32;
        assert_eq!(plan.bridges.len(), 2);
        assert!(guest.funcs.contains(&defined) && guest.funcs.contains(&(defined + 1)));
        assert_eq!(
            plan.bridges[0],
            Bridge {
                op: BridgeOp::Read,
                target_memory: 0,
                guest_memory: 1,
                ty: guest.type_offset
            }
        );
        assert_eq!(guest.globals, [1]);
        assert_eq!(target.globals, [0]);
        assert!(plan.kept.is_empty());
    }

    #[test]
    fn kept_imports_come_first_and_two_starts_get_a_wrapper() {
        let built = Fixture {
            guest_imports: r#"(import "env" "g" (func))"#.into(),
            guest_items: "(func $s) (start $s)".into(),
            target_imports: r#"(import "env" "t" (func))"#.into(),
            target_items: "(func $s2) (start $s2)".into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let plan = run(&parsed.modules(), &parsed.roles());
        assert_eq!(plan.kept.len(), 2);
        assert_eq!(plan.kept[0].origin, Origin::Target("app".into()));
        assert_eq!(plan.kept[1].origin, Origin::Guest);
        assert_eq!(plan.start.calls.len(), 2);
        assert!(plan.start.wrapper.is_some());
        assert_eq!(plan.extra_types, [FuncType::new([], [])]);
    }
}
