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
//! Imports that are replaced get [`UNRESOLVED`] here; `rewire_imports`
//! fills them in.
//!
//! Layout owns the allocation of output indices: the [`Plan`] keeps the
//! next free index of each space, and a later pass that adds a function, a
//! global, a tag or a type asks the plan for it ([`Plan::add_func`] …), so
//! nothing is counted twice. Every function the merge writes itself is a
//! [`NewFunc`]: its type and what it is here, its body from the pass that
//! knows how to write it; `emit` only serializes them.
//!
//! The fast path: when every import that stays is the first target's, and
//! they come before its WASI imports, each of its WASI imports becomes a
//! one-call *trampoline* defined at the import's own index. The first target
//! then keeps every index it had, and its function bodies (nearly all of a
//! large target) are copied byte for byte instead of being re-encoded. The
//! price is one extra direct call per WASI call, which the guest's work
//! dwarfs. Otherwise WASI imports map straight to the guest's plugs.

use wasm_encoder::{Function, Instruction};
use wasmparser::{FuncType, TypeRef};

use crate::index::{IndexMap, UNRESOLVED};
use crate::module::Module;
use crate::types::{BridgeOp, Extras, Generated, Origin, PackData, Role};

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

/// A function the merge writes itself.
#[derive(Clone, Debug)]
pub struct NewFunc {
    /// Its output type index.
    pub ty: u32,
    /// What it is.
    pub kind: FuncKind,
    /// Its body, written by the pass that knows how (`None` until then).
    pub body: Option<Function>,
}

/// What a [`NewFunc`] is, and who writes its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FuncKind {
    /// Stands where a WASI import of the first target was, at the import's
    /// own index, and calls what replaces it (layout or `rewire_imports`).
    Trampoline {
        /// The input it stands in (always the first target).
        module: usize,
        /// The import's function index, which is also the trampoline's.
        func: u32,
        /// How many parameters it forwards.
        params: u32,
    },
    /// A guest's `wasi-virt:bridge/<t>` import (`bridge_memories`).
    Bridge {
        /// What it does.
        op: BridgeOp,
        /// The output index of the target's memory.
        target_memory: u32,
        /// The output index of the guest's memory.
        guest_memory: u32,
    },
    /// In place of an import with [`Role::Generated`] (`generated`).
    Generated {
        /// What it does.
        kind: Generated,
        /// The output index of the (first) target's memory.
        target_memory: u32,
        /// The output index of the guest's memory.
        guest_memory: u32,
    },
    /// The output's start function when several inputs have one or run
    /// control needs one (`start`).
    StartWrapper,
    /// Run control: entries, traps, control functions, reset (`control`).
    Control,
    /// The lock around the guest, its data's once-applier and
    /// `wasi_thread_start`, for a threads program (`threads`).
    Threads,
}

/// A global the merge adds: mutable, `i32` or `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewGlobal {
    /// `i64` if true, else `i32`.
    pub i64: bool,
    /// Its initial value.
    pub init: i64,
}

/// The start functions of the inputs, and how the output runs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Start {
    /// Every input's start function: (input, its function index), targets first.
    pub calls: Vec<(usize, u32)>,
    /// The function that calls them in order, when there is one.
    pub wrapper: Option<u32>,
    /// Functions the wrapper calls before any input's start function (the
    /// `init` of targets that can be reset), as output indices.
    pub first: Vec<u32>,
}

/// Everything the encoder needs to know about the output's shape.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// One map per input: the targets in order, then the guest.
    pub maps: Vec<IndexMap>,
    /// The output's imports, in order.
    pub kept: Vec<KeptImport>,
    /// Trampolines, defined before every input's functions.
    pub trampolines: Vec<NewFunc>,
    /// Per input: whether its map is the identity, so that its function
    /// bodies and data can be copied without being re-encoded.
    pub identity: Vec<bool>,
    /// The start functions.
    pub start: Start,
    /// Types the output needs beyond the inputs', appended after them.
    pub extra_types: Vec<FuncType>,
    /// Functions after every input's, in index order from [`Plan::first_new_func`].
    pub funcs: Vec<NewFunc>,
    /// The output index of `funcs[0]`.
    pub first_new_func: u32,
    /// Globals after every input's.
    pub globals: Vec<NewGlobal>,
    /// Tags (their type index) after every input's.
    pub tags: Vec<u32>,
    /// `pack`'s data segments, passive, after every input's.
    pub pack: Option<PackData>,
    /// Guest exports the output leaves out (`pack`: the `_start` of a guest
    /// whose target is a reactor).
    pub hidden_exports: Vec<String>,
    /// Exports of the first target the output re-exports, as
    /// `(output name, target export name)` (`pack`: a reactor's API).
    pub target_exports: Vec<(String, String)>,
    /// For a threads program: how many spawned threads may run at once.
    pub thread_limit: Option<u32>,
    /// The output index of the first trampoline (after the kept imports).
    first_trampoline: u32,
    next: Counters,
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

    /// A new function after every other, of output type `ty`; its index.
    pub fn add_func(&mut self, ty: u32, kind: FuncKind) -> u32 {
        self.funcs.push(NewFunc {
            ty,
            kind,
            body: None,
        });
        self.next.funcs += 1;
        self.next.funcs - 1
    }

    /// A new global after every other; its index.
    pub fn add_global(&mut self, global: NewGlobal) -> u32 {
        self.globals.push(global);
        self.next.globals += 1;
        self.next.globals - 1
    }

    /// A new exception tag of type `ty`; its index.
    pub fn add_tag(&mut self, ty: u32) -> u32 {
        self.tags.push(ty);
        self.next.tags += 1;
        self.next.tags - 1
    }

    /// The index of function type `ty` among the output's types, added
    /// after the inputs' if no extra type is equal.
    pub fn func_type(&mut self, ty: FuncType) -> u32 {
        let base = self.maps.last().map_or(0, |m| m.type_offset + m.type_count);
        let position = match self.extra_types.iter().position(|t| *t == ty) {
            Some(p) => p,
            None => {
                self.extra_types.push(ty);
                self.extra_types.len() - 1
            }
        };
        base + position as u32
    }

    /// The start wrapper's index, made now if there is none yet.
    pub fn start_wrapper(&mut self) -> u32 {
        if let Some(wrapper) = self.start.wrapper {
            return wrapper;
        }
        let ty = self.func_type(FuncType::new([], []));
        let wrapper = self.add_func(ty, FuncKind::StartWrapper);
        self.start.wrapper = Some(wrapper);
        wrapper
    }

    /// The function at output index `index`, if the merge writes it.
    pub fn new_func_mut(&mut self, index: u32) -> Option<&mut NewFunc> {
        if let Some(i) = index.checked_sub(self.first_new_func) {
            return self.funcs.get_mut(i as usize);
        }
        let i = index.checked_sub(self.first_trampoline)?;
        self.trampolines.get_mut(i as usize)
    }
}

/// The body of a trampoline: forwards its `params` to `callee`.
pub fn trampoline_body(params: u32, callee: u32) -> Function {
    let mut f = Function::new([]);
    for param in 0..params {
        f.instruction(&Instruction::LocalGet(param));
    }
    f.instruction(&Instruction::Call(callee));
    f.instruction(&Instruction::End);
    f
}

/// Lays out the output for `modules` (the targets in order, then the guest),
/// given the role of each of their imports and what `pack` adds.
pub fn run(modules: &[&Module], roles: &[Vec<Role>], extras: Extras) -> Plan {
    let mut maps: Vec<IndexMap> = modules.iter().map(|m| empty_map(m)).collect();
    let mut next = Counters::default();
    let kept = place_kept_imports(modules, roles, &mut maps, &mut next);
    let first_trampoline = next.funcs;
    let mut trampolines = Vec::new();
    if keeps_its_indices(modules, roles) {
        trampolines = place_trampolines(modules[0], &roles[0], &mut maps[0], &mut next);
    }
    place_definitions(modules, &mut maps, &mut next);
    let mut plan = Plan {
        identity: maps.iter().map(is_identity).collect(),
        maps,
        kept,
        trampolines,
        first_trampoline,
        first_new_func: next.funcs,
        start: Start {
            calls: modules
                .iter()
                .enumerate()
                .filter_map(|(mi, m)| Some((mi, m.start?)))
                .collect(),
            ..Start::default()
        },
        pack: extras.pack,
        hidden_exports: extras.hidden_exports,
        target_exports: extras.target_exports,
        thread_limit: extras.thread_limit,
        next,
        ..Plan::default()
    };
    add_bridges(&mut plan, modules, roles);
    add_generated(&mut plan, modules, roles);
    if plan.start.calls.len() > 1 {
        plan.start_wrapper();
    }
    plan
}

/// Every index of `m` unresolved, its counts known.
fn empty_map(m: &Module) -> IndexMap {
    IndexMap {
        funcs: vec![UNRESOLVED; m.func_types.len()],
        tables: vec![UNRESOLVED; (m.tables.imported + m.tables.defined) as usize],
        memories: vec![UNRESOLVED; m.memory_imports as usize + m.memories.len()],
        globals: vec![UNRESOLVED; (m.globals.imported + m.globals.defined) as usize],
        tags: vec![UNRESOLVED; (m.tags.imported + m.tags.defined) as usize],
        type_count: m.types.len() as u32,
        element_count: m.element_count,
        data_count: m.data_count,
        ..IndexMap::default()
    }
}

/// Imports that stay come first in every index space.
fn place_kept_imports(
    modules: &[&Module],
    roles: &[Vec<Role>],
    maps: &mut [IndexMap],
    next: &mut Counters,
) -> Vec<KeptImport> {
    let mut kept = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        let mut seen = Counters::default();
        for (ii, import) in m.imports.iter().enumerate() {
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
            if let Role::Keep { module, origin } = &roles[mi][ii] {
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
    kept
}

/// Trampolines keep the first target's indices: each WASI import becomes a
/// function at the import's own index. Their callees are set later.
fn place_trampolines(
    m: &Module,
    roles: &[Role],
    map: &mut IndexMap,
    next: &mut Counters,
) -> Vec<NewFunc> {
    let mut trampolines = Vec::new();
    for (fi, position, _, ty) in m.func_imports() {
        if let Role::Plug { .. } | Role::Generated(_) = roles[position] {
            debug_assert_eq!(
                fi, next.funcs,
                "kept imports come first, so each trampoline takes its import's index"
            );
            map.funcs[fi as usize] = next.funcs;
            next.funcs += 1;
            let params = m.types[ty as usize]
                .as_ref()
                .map_or(0, |f| f.params().len() as u32);
            trampolines.push(NewFunc {
                ty,
                kind: FuncKind::Trampoline {
                    module: 0,
                    func: fi,
                    params,
                },
                body: None,
            });
        }
    }
    trampolines
}

/// Each input's definitions, targets first.
fn place_definitions(modules: &[&Module], maps: &mut [IndexMap], next: &mut Counters) {
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
}

/// The bridges, after every definition, in the guest's import order.
fn add_bridges(plan: &mut Plan, modules: &[&Module], roles: &[Vec<Role>]) {
    let guest = plan.guest();
    for (fi, position, _, ty) in modules[guest].func_imports() {
        let Role::Bridge { target, op } = roles[guest][position] else {
            continue;
        };
        let kind = FuncKind::Bridge {
            op,
            target_memory: plan.maps[target].memories[0],
            guest_memory: plan.maps[guest].memories.first().copied().unwrap_or(0),
        };
        let ty = plan.maps[guest].type_offset + ty;
        let index = plan.add_func(ty, kind);
        plan.maps[guest].funcs[fi as usize] = index;
    }
}

/// The functions generated in place of imports. A first target's import
/// that became a trampoline keeps its index and calls one.
fn add_generated(plan: &mut Plan, modules: &[&Module], roles: &[Vec<Role>]) {
    let guest = plan.guest();
    for (mi, m) in modules.iter().enumerate() {
        for (fi, position, _, ty) in m.func_imports() {
            let Role::Generated(kind) = roles[mi][position] else {
                continue;
            };
            let kind = FuncKind::Generated {
                kind,
                target_memory: plan.maps[0].memories.first().copied().unwrap_or(0),
                guest_memory: plan.maps[guest].memories.first().copied().unwrap_or(0),
            };
            let ty = plan.maps[mi].type_offset + ty;
            let index = plan.add_func(ty, kind);
            let trampoline = plan.trampolines.iter_mut().find(|t| {
                matches!(t.kind, FuncKind::Trampoline { module, func, .. } if module == mi && func == fi)
            });
            match trampoline {
                Some(t) => {
                    let FuncKind::Trampoline { params, .. } = t.kind else {
                        unreachable!("matched a trampoline")
                    };
                    t.body = Some(trampoline_body(params, index));
                }
                None => plan.maps[mi].funcs[fi as usize] = index,
            }
        }
    }
}

/// Whether the first target can keep all its indices: it exists, every
/// import that stays is its own, and those precede its WASI imports.
fn keeps_its_indices(modules: &[&Module], roles: &[Vec<Role>]) -> bool {
    let keep = |r: &Role| matches!(r, Role::Keep { .. });
    // A threads program's WASI calls go through the lock around the guest
    // (see `threads`), not straight to a trampoline.
    modules.len() > 1
        && !modules[0].is_threads()
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
#[derive(Clone, Copy, Debug, Default)]
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
        let plan = run(&parsed.modules(), &parsed.roles(), Extras::default());
        let (target, guest) = (&plan.maps[0], &plan.maps[1]);
        assert_eq!(target.memories, [0]);
        assert_eq!(guest.memories, [1]);
        // The target's WASI import becomes a trampoline at its own index, so
        // the target keeps every index and is copied as is.
        assert_eq!(target.funcs, [0, 1, 2]);
        assert_eq!(plan.trampolines.len(), 1);
        assert_eq!(
            plan.trampolines[0].body, None,
            "its callee is not known yet"
        );
        assert_eq!(plan.identity, [true, false]);
        // The guest's bridge imports become functions after every definition.
        let defined = (target.funcs.len() + guest.funcs.len() - 3) as u32;
        assert_eq!(plan.first_new_func, defined);
        assert_eq!(plan.funcs.len(), 2);
        assert!(guest.funcs.contains(&defined) && guest.funcs.contains(&(defined + 1)));
        assert_eq!(
            plan.funcs[0].kind,
            FuncKind::Bridge {
                op: BridgeOp::Read,
                target_memory: 0,
                guest_memory: 1,
            }
        );
        assert_eq!(plan.funcs[0].ty, guest.type_offset);
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
        let plan = run(&parsed.modules(), &parsed.roles(), Extras::default());
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
        let plan = run(&parsed.modules(), &parsed.roles(), Extras::default());
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(plan.trampolines.len(), 1);
        assert!(matches!(
            plan.trampolines[0].kind,
            FuncKind::Trampoline { func: 1, .. }
        ));
        assert_eq!(plan.identity, [true, false]);
    }
}
