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
//!
//! The fast path: when every import that stays is the first target's, and
//! they come before its WASI imports, each of its WASI imports becomes a
//! one-call *trampoline* defined at the import's own index. The first target
//! then keeps every index it had, and its function bodies (nearly all of a
//! large target) are copied byte for byte instead of being re-encoded. The
//! price is one extra direct call per WASI call, which the guest's work
//! dwarfs. Otherwise WASI imports map straight to the guest's plugs.

use wasmparser::{FuncType, TypeRef};

use super::bridge_memories::BridgeOp;
use super::check_imports::{Origin, Role};
use super::generated::{Generated, PackData};
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

/// A function generated in place of an import ([`Role::Generated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratedFn {
    /// What it does.
    pub kind: Generated,
    /// Its output type index (the import's).
    pub ty: u32,
    /// The output index of the (first) target's memory.
    pub target_memory: u32,
    /// The output index of the guest's memory.
    pub guest_memory: u32,
}

/// A defined function that stands where a WASI import of the first target
/// was, and calls what replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trampoline {
    /// The input it stands in (always the first target).
    pub module: usize,
    /// The import's function index, which is also the trampoline's.
    pub func: u32,
    /// Its output type index.
    pub ty: u32,
    /// How many parameters it forwards.
    pub params: u32,
    /// The function it calls; set by `rewire_imports`.
    pub callee: u32,
}

/// The start functions of the inputs, and how the output runs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Start {
    /// Every input's start function: (input, its function index), targets first.
    pub calls: Vec<(usize, u32)>,
    /// When several inputs have one: the generated function that calls
    /// them in order, as (function index, type index).
    pub wrapper: Option<(u32, u32)>,
    /// Generated functions the wrapper calls before any input's start
    /// function (the `init` of targets that can be reset; see
    /// [`control`](super::control)), as output indices.
    pub first: Vec<u32>,
}

/// Everything the encoder needs to know about the output's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// One map per input: the targets in order, then the guest.
    pub maps: Vec<IndexMap>,
    /// The output's imports, in order.
    pub kept: Vec<KeptImport>,
    /// Trampolines, defined before every input's functions.
    pub trampolines: Vec<Trampoline>,
    /// Per input: whether its map is the identity, so that its function
    /// bodies and data can be copied without being re-encoded.
    pub identity: Vec<bool>,
    /// The generated bridge functions, right after the guest's functions.
    pub bridges: Vec<Bridge>,
    /// The start functions.
    pub start: Start,
    /// Types the output needs beyond the inputs', appended after them.
    pub extra_types: Vec<FuncType>,
    /// Functions generated in place of imports, right after the bridges.
    pub generated: Vec<GeneratedFn>,
    /// `pack`'s data segments, passive, after every input's.
    pub pack: Option<PackData>,
    /// Guest exports the output leaves out (`pack`: the `_start` of a guest
    /// whose target is a reactor).
    pub hidden_exports: Vec<String>,
    /// Exports of the first target the output re-exports, as
    /// `(output name, target export name)` (`pack`: a reactor's API).
    pub target_exports: Vec<(String, String)>,
    /// What the run control pass adds (unwinding, reset), filled in after
    /// the rest of the plan by [`control`](super::control).
    pub control: super::control::Control,
}

impl Plan {
    /// The input index of the guest (always the last input).
    pub fn guest(&self) -> usize {
        self.maps.len() - 1
    }

    /// The output index of the first of `pack`'s data segments.
    pub fn pack_data_index(&self) -> u32 {
        self.maps.last().map_or(0, |m| m.data_offset + m.data_count)
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

    // Trampolines keep the first target's indices where it can keep them.
    let mut trampolines = Vec::new();
    if keeps_its_indices(modules, roles) {
        let m = modules[0];
        for (fi, position, _, ty) in m.func_imports() {
            if let Role::Plug { .. } | Role::Generated(_) = roles[0][position] {
                debug_assert_eq!(
                    fi, next.funcs,
                    "kept imports come first, so each trampoline takes its import's index"
                );
                maps[0].funcs[fi as usize] = next.funcs;
                next.funcs += 1;
                let params = m.types[ty as usize]
                    .as_ref()
                    .map_or(0, |f| f.params().len() as u32);
                trampolines.push(Trampoline {
                    module: 0,
                    func: fi,
                    ty,
                    params,
                    callee: UNRESOLVED,
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

    // Then the functions generated in place of imports. A first target's
    // import that became a trampoline keeps its index and calls one.
    let mut generated = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        for (fi, position, _, ty) in m.func_imports() {
            let Role::Generated(kind) = roles[mi][position] else {
                continue;
            };
            let index = next.funcs;
            next.funcs += 1;
            match trampolines
                .iter_mut()
                .find(|t| t.module == mi && t.func == fi)
            {
                Some(t) => t.callee = index,
                None => maps[mi].funcs[fi as usize] = index,
            }
            generated.push(GeneratedFn {
                kind,
                ty: maps[mi].type_offset + ty,
                target_memory: maps[0].memories.first().copied().unwrap_or(0),
                guest_memory: maps[guest].memories.first().copied().unwrap_or(0),
            });
        }
    }

    let mut extra_types = Vec::new();
    let mut start = Start {
        calls: modules
            .iter()
            .enumerate()
            .filter_map(|(mi, m)| Some((mi, m.start?)))
            .collect(),
        wrapper: None,
        first: Vec::new(),
    };
    if start.calls.len() > 1 {
        start.wrapper = Some((next.funcs, types));
        extra_types.push(FuncType::new([], []));
    }

    let identity = maps.iter().map(is_identity).collect();
    Plan {
        maps,
        kept,
        trampolines,
        identity,
        bridges,
        start,
        extra_types,
        generated,
        ..Plan::default()
    }
}

/// Whether the first target can keep all its indices: it exists, every
/// import that stays is its own, and those precede its WASI imports.
fn keeps_its_indices(modules: &[&Module], roles: &[Vec<Role>]) -> bool {
    let keep = |r: &Role| matches!(r, Role::Keep { .. });
    modules.len() > 1
        && roles[0].iter().skip_while(|r| keep(r)).all(|r| !keep(r))
        && roles[1..].iter().flatten().all(|r| !keep(r))
}

fn is_identity(map: &IndexMap) -> bool {
    let same = |v: &[u32]| v.iter().enumerate().all(|(i, &j)| i as u32 == j);
    map.type_offset == 0
        && map.element_offset == 0
        && map.data_offset == 0
        && same(&map.funcs)
        && same(&map.tables)
        && same(&map.memories)
        && same(&map.globals)
        && same(&map.tags)
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
        // The target's WASI import becomes a trampoline at its own index, so
        // the target keeps every index and is copied as is.
        assert_eq!(target.funcs, [0, 1, 2]);
        assert_eq!(plan.trampolines.len(), 1);
        assert_eq!(plan.trampolines[0].callee, UNRESOLVED);
        assert_eq!(plan.identity, [true, false]);
        // The guest's bridge imports become functions after every definition.
        let defined = (target.funcs.len() + guest.funcs.len() - 3) as u32;
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
        // The guest keeps an import, so the target cannot keep its indices:
        // its WASI import waits for rewiring to the guest's plug.
        assert!(plan.trampolines.is_empty());
        assert_eq!(plan.maps[0].funcs[0], UNRESOLVED);
        assert_eq!(plan.maps[0].funcs[1..3], [0, 2]);
        assert_eq!(plan.identity, [false, false]);
    }

    #[test]
    fn a_target_keeps_its_indices_when_its_kept_imports_come_first() {
        let mut built = Fixture::default().build();
        built.target =
            crate::passes::fixtures::wasm(&crate::passes::fixtures::target_wat("", "").replacen(
                "(module",
                r#"(module (import "env" "js" (func))"#,
                1,
            ));
        let parsed = built.parse();
        let plan = run(&parsed.modules(), &parsed.roles());
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(plan.trampolines.len(), 1);
        assert_eq!(plan.trampolines[0].func, 1);
        assert_eq!(plan.identity, [true, false]);
    }
}
