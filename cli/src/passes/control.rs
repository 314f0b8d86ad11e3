//! Pass 6c: run control, what keeps a guest in control of its targets.
//!
//! For every target, the guest may import `wasi-virt:control/<target>`
//! (`unwind`, `exit_code`, `reset`: see [`wasi_virt_abi::names`]); this pass
//! generates those functions, and for a target under `wrap_unreachable!`:
//! - per-target globals: `flag` (flags), `code`, `depth` (entries under
//!   way), `last` (how the last entry ended: -1, or the exit code), and a
//!   tag (exceptions);
//! - an *entry* wrapper for each of the target's exports the guest calls:
//!   the guest's `wasi-virt:target/<t>::<export>` import calls it instead of
//!   the export; it counts the entry, calls the export, and turns an unwind
//!   into a normal return with zero results, recording the code in `last`.
//!   Entries nest (target → guest → target): each catches the unwinds of
//!   its own call, so a nested run ends without ending the outer one;
//! - `trap`, which a rewritten `unreachable` calls: unwinds with
//!   [`TRAP_EXIT_CODE`], or traps for real when no entry is under way (the
//!   target's own start function, say);
//! - the rewrite of the target's code, applied by `emit`
//!   ([`wrap_unreachable`](super::wrap_unreachable)).
//!
//! For a target whose `reset` the guest imports: the generated `init` and
//! `reset` functions and the size the target sees of its memory
//! ([`reset`](super::reset)); `init` runs first in the output's start
//! function.
//!
//! Everything generated comes after every input's definitions (globals,
//! tags, functions after the start wrapper), so no input index moves.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use wasi_virt_abi::manifest::Manifest;
use wasi_virt_abi::names::{self, TRAP_EXIT_CODE};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{BlockType, Catch, Encode, Function, Instruction};
use wasmparser::{FuncType, TypeRef, ValType};

use super::Target;
use super::check_imports::Role;
use super::emit::Remap;
use super::layout::Plan;
use super::reset::{self, ResetExtras, VirtualMemory};
use super::wrap_unreachable::{self, Rewrite, Unwind};
use crate::module::Module;

/// How a wrapped target unwinds (`wasi-virt merge --unwind`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// A flag checked after every call that can reach an unwind: runs on
    /// every engine.
    #[default]
    Flags,
    /// A wasm exception thrown and caught at the guest's call: smaller and
    /// faster, for engines with exception handling (wasmtime
    /// `-W exceptions=y`, Node ≥ 22, Chrome, Firefox, Safari 18.4+).
    Exceptions,
}

impl Strategy {
    /// The name `--unwind` takes.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Flags => "flags",
            Strategy::Exceptions => "exceptions",
        }
    }
}

/// Choices of the merge that the guest's manifest does not make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// How wrapped targets unwind.
    pub unwind: Strategy,
}

/// One function of `wasi-virt:control/<target>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ControlOp {
    /// `unwind: (code: i32) -> i32`
    Unwind,
    /// `exit_code: () -> i64`
    ExitCode,
    /// `reset: ()`
    Reset,
}

impl ControlOp {
    /// The control function an import name refers to.
    pub fn from_name(name: &str) -> Option<ControlOp> {
        match name {
            names::CONTROL_UNWIND => Some(ControlOp::Unwind),
            names::CONTROL_EXIT_CODE => Some(ControlOp::ExitCode),
            names::CONTROL_RESET => Some(ControlOp::Reset),
            _ => None,
        }
    }

    /// The core type the guest must import it with.
    pub fn func_type(self) -> FuncType {
        match self {
            ControlOp::Unwind => FuncType::new([ValType::I32], [ValType::I32]),
            ControlOp::ExitCode => FuncType::new([], [ValType::I64]),
            ControlOp::Reset => FuncType::new([], []),
        }
    }
}

/// A global the merge adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewGlobal {
    /// `i64` if true, else `i32`.
    pub i64: bool,
    /// Its initial value.
    pub init: i64,
}

/// What a merged target is, for `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSummary {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// How it unwinds, if it is wrapped.
    pub unwind: Option<Strategy>,
    /// Whether the guest can reset it.
    pub reset: bool,
}

/// Everything this pass adds to the output, for `emit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// Per input: the rewrite of its bodies, if any.
    pub rewrites: Vec<Option<Rewrite>>,
    /// Per input: whether its active data and element segments become
    /// passive (applied by the start function instead).
    pub passive: Vec<bool>,
    /// Globals, after every input's.
    pub globals: Vec<NewGlobal>,
    /// Tags (their type index), after every input's.
    pub tags: Vec<u32>,
    /// Functions, after the start wrapper: (type index, encoded body).
    pub funcs: Vec<(u32, Vec<u8>)>,
    /// Every target, in order.
    pub targets: Vec<TargetSummary>,
}

impl Control {
    /// The rewrite of input `module`, if its bodies change.
    pub fn rewrite(&self, module: usize) -> Option<&Rewrite> {
        self.rewrites.get(module).and_then(Option::as_ref)
    }

    /// Whether input `module`'s body `index` changes.
    pub fn changes(&self, module: usize, index: u32) -> bool {
        self.rewrite(module)
            .and_then(|r| r.changes.get(index as usize))
            .copied()
            .unwrap_or(false)
    }

    /// Whether input `module`'s active segments become passive.
    pub fn passive(&self, module: usize) -> bool {
        self.passive.get(module).copied().unwrap_or(false)
    }
}

/// The state this pass adds for one wrapped target.
#[derive(Clone, Copy)]
struct UnwindState {
    strategy: Strategy,
    flag: u32,
    code: u32,
    depth: u32,
    last: u32,
    tag: u32,
    trap: u32,
}

/// What this pass adds for a target the guest can reset.
struct ResetState {
    memories: Vec<Option<VirtualMemory>>,
    init: u32,
    reset: u32,
}

/// A function to generate, in allocation order.
enum Gen {
    Trap(usize),
    Grow { target: usize, memory: u32 },
    Init(usize),
    Reset(usize),
    Entry { target: usize, callee: u32, ty: u32 },
    Control { target: usize, op: ControlOp },
}

/// Plans and generates the run control of `targets` (the inputs before the
/// guest in `modules`), and points the guest's imports at it.
pub fn run(
    plan: &mut Plan,
    modules: &[&Module],
    roles: &[Vec<Role>],
    targets: &[Target],
    manifest: &Manifest,
    options: &Options,
) -> Result<()> {
    let guest = plan.guest();
    let g = modules[guest];
    // What the guest asks for, per target.
    let mut controls: BTreeMap<(usize, ControlOp), Vec<u32>> = BTreeMap::new();
    let mut entries: BTreeMap<(usize, String), (Vec<u32>, u32)> = BTreeMap::new();
    let wrapped: Vec<bool> = targets
        .iter()
        .map(|t| manifest.wrapped.contains(&t.name))
        .collect();
    for (fi, position, _, ty) in g.func_imports() {
        match &roles[guest][position] {
            Role::Control { target, op } => {
                controls.entry((*target, *op)).or_default().push(fi);
            }
            Role::TargetExport { target, export } if wrapped[*target] => {
                entries
                    .entry((*target, export.clone()))
                    .or_insert_with(|| (Vec::new(), ty))
                    .0
                    .push(fi);
            }
            _ => {}
        }
    }
    let resets: Vec<bool> = (0..targets.len())
        .map(|t| controls.contains_key(&(t, ControlOp::Reset)))
        .collect();
    plan.control.targets = targets
        .iter()
        .enumerate()
        .map(|(t, target)| TargetSummary {
            name: target.name.clone(),
            file: target.module.name.clone(),
            unwind: wrapped[t].then_some(options.unwind),
            reset: resets[t],
        })
        .collect();
    plan.control.rewrites = vec![None; modules.len()];
    plan.control.passive = vec![false; modules.len()];
    if controls.is_empty() && entries.is_empty() && !wrapped.contains(&true) {
        return Ok(());
    }

    let mut next = Next::after_inputs(plan, modules);
    let empty = extra_type(plan, FuncType::new([], []));
    // The start function must apply reset targets' segments first: make
    // sure there is a start wrapper, at the index right after the bridges.
    if resets.contains(&true) && plan.start.wrapper.is_none() {
        plan.start.wrapper = Some((next.func, empty));
        next.func += 1;
    }

    let mut gens: Vec<Gen> = Vec::new();
    let alloc_func = |gens: &mut Vec<Gen>, next: &mut Next, job: Gen| {
        gens.push(job);
        next.func += 1;
        next.func - 1
    };
    let mut unwinds: Vec<Option<UnwindState>> = vec![None; targets.len()];
    let mut reset_states: Vec<Option<ResetState>> = (0..targets.len()).map(|_| None).collect();
    for (t, target) in targets.iter().enumerate() {
        let m = &target.module;
        if wrapped[t] {
            let mut global = |init: i64, i64: bool| {
                plan.control.globals.push(NewGlobal { i64, init });
                next.global += 1;
                next.global - 1
            };
            let flag = global(0, false);
            let code = global(0, false);
            let depth = global(0, false);
            let last = global(-1, true);
            let tag = match options.unwind {
                Strategy::Exceptions => {
                    plan.control.tags.push(empty);
                    next.tag += 1;
                    next.tag - 1
                }
                Strategy::Flags => u32::MAX,
            };
            let trap = alloc_func(&mut gens, &mut next, Gen::Trap(t));
            unwinds[t] = Some(UnwindState {
                strategy: options.unwind,
                flag,
                code,
                depth,
                last,
                tag,
                trap,
            });
        }
        if resets[t] {
            let mut memories = vec![None; (m.memory_imports as usize) + m.memories.len()];
            for (k, memory) in m.memories.iter().enumerate() {
                let index = m.memory_imports + k as u32;
                plan.control.globals.push(NewGlobal {
                    i64: false,
                    init: memory.initial as i64,
                });
                next.global += 1;
                let pages = next.global - 1;
                let grow = alloc_func(
                    &mut gens,
                    &mut next,
                    Gen::Grow {
                        target: t,
                        memory: index,
                    },
                );
                memories[index as usize] = Some(VirtualMemory { pages, grow });
            }
            let init = alloc_func(&mut gens, &mut next, Gen::Init(t));
            let reset = alloc_func(&mut gens, &mut next, Gen::Reset(t));
            plan.start.first.push(init);
            plan.control.passive[t] = true;
            reset_states[t] = Some(ResetState {
                memories,
                init,
                reset,
            });
        }
        if wrapped[t] || resets[t] {
            let analysis = wrap_unreachable::analyze(
                m,
                &roles[t],
                wrapped[t].then_some(options.unwind),
                resets[t],
            )?;
            let unwind = unwinds[t].map(|u| {
                let (may_unwind, indirect) = analysis.flags.clone().unwrap_or_default();
                Unwind {
                    strategy: u.strategy,
                    flag: u.flag,
                    trap: u.trap,
                    may_unwind,
                    indirect,
                }
            });
            if analysis.changes.contains(&true) {
                plan.control.rewrites[t] = Some(Rewrite {
                    unwind,
                    memories: reset_states[t]
                        .as_ref()
                        .map(|r| r.memories.clone())
                        .unwrap_or_default(),
                    drop_segments: resets[t],
                    changes: analysis.changes,
                });
            }
        }
    }

    // The guest's imports, pointed at what this pass generates.
    let mut import_targets: Vec<(Vec<u32>, u32)> = Vec::new();
    for ((target, op), imports) in &controls {
        let func = match (op, &reset_states[*target]) {
            (ControlOp::Reset, Some(r)) => r.reset,
            _ => alloc_func(
                &mut gens,
                &mut next,
                Gen::Control {
                    target: *target,
                    op: *op,
                },
            ),
        };
        import_targets.push((imports.clone(), func));
    }
    for ((target, export), (imports, ty)) in &entries {
        let m = &targets[*target].module;
        let Some(export_func) = m.exported_func(export) else {
            bail!(
                "internal error: target `{}` has no export `{export}` (check_imports should have refused this)",
                targets[*target].name
            );
        };
        let callee = plan.maps[*target].funcs[export_func as usize];
        let func = alloc_func(
            &mut gens,
            &mut next,
            Gen::Entry {
                target: *target,
                callee,
                ty: *ty,
            },
        );
        import_targets.push((imports.clone(), func));
    }
    for (imports, func) in import_targets {
        for fi in imports {
            plan.maps[guest].funcs[fi as usize] = func;
        }
    }

    // Every index is known: generate the bodies.
    let mut funcs = Vec::with_capacity(gens.len());
    for job in &gens {
        let (ty, body) = generate(plan, modules, targets, job, &unwinds, &reset_states)?;
        let mut bytes = Vec::new();
        body.encode(&mut bytes);
        funcs.push((ty, bytes));
    }
    plan.control.funcs = funcs;
    Ok(())
}

/// The body of one generated function, and its type index.
fn generate(
    plan: &mut Plan,
    modules: &[&Module],
    targets: &[Target],
    job: &Gen,
    unwinds: &[Option<UnwindState>],
    resets: &[Option<ResetState>],
) -> Result<(u32, Function)> {
    use Instruction as I;
    let guest = plan.guest();
    Ok(match *job {
        Gen::Trap(t) => {
            let u = unwinds[t].expect("a trap function exists for wrapped targets only");
            let mut f = Function::new([]);
            outside_entries(&mut f, u.depth, I::Unreachable);
            match u.strategy {
                Strategy::Flags => {
                    // A trap while already unwinding keeps the first code.
                    for i in [
                        I::GlobalGet(u.flag),
                        I::I32Eqz,
                        I::If(BlockType::Empty),
                        I::I32Const(TRAP_EXIT_CODE as i32),
                        I::GlobalSet(u.code),
                        I::I32Const(1),
                        I::GlobalSet(u.flag),
                        I::End,
                    ] {
                        f.instruction(&i);
                    }
                }
                Strategy::Exceptions => {
                    f.instruction(&I::I32Const(TRAP_EXIT_CODE as i32));
                    f.instruction(&I::GlobalSet(u.code));
                    f.instruction(&I::Throw(u.tag));
                }
            }
            f.instruction(&I::End);
            (extra_type(plan, FuncType::new([], [])), f)
        }
        Gen::Grow { target, memory } => {
            let m = &targets[target].module;
            let r = resets[target]
                .as_ref()
                .expect("grow functions exist for reset targets only");
            let v = r.memories[memory as usize].expect("every memory of a reset target is virtual");
            let out = plan.maps[target].memories[memory as usize];
            let maximum = m
                .memories
                .get((memory - m.memory_imports) as usize)
                .and_then(|t| t.maximum)
                .unwrap_or(65536);
            (
                extra_type(plan, FuncType::new([ValType::I32], [ValType::I32])),
                reset::grow_body(out, v.pages, maximum),
            )
        }
        Gen::Init(t) => (
            extra_type(plan, FuncType::new([], [])),
            reset::init_body(modules[t], &plan.maps[t])?,
        ),
        Gen::Reset(t) => {
            let r = resets[t]
                .as_ref()
                .expect("reset exists for reset targets only");
            let m = modules[t];
            let start = m.start.map(|s| plan.maps[t].funcs[s as usize]);
            let flag = unwinds[t]
                .filter(|u| u.strategy == Strategy::Flags)
                .map(|u| u.flag);
            let body = reset::reset_body(
                m,
                &plan.maps[t],
                &ResetExtras {
                    memories: &r.memories,
                    init: r.init,
                    flag,
                    start,
                },
            )?;
            (extra_type(plan, FuncType::new([], [])), body)
        }
        Gen::Control { target, op } => {
            let u = unwinds[target];
            let mut f = Function::new([]);
            match (op, u) {
                (ControlOp::Unwind, Some(u)) => {
                    outside_entries(&mut f, u.depth, I::I32Const(0));
                    f.instruction(&I::LocalGet(0));
                    f.instruction(&I::GlobalSet(u.code));
                    match u.strategy {
                        Strategy::Flags => {
                            f.instruction(&I::I32Const(1));
                            f.instruction(&I::GlobalSet(u.flag));
                            f.instruction(&I::I32Const(1));
                        }
                        Strategy::Exceptions => {
                            f.instruction(&I::Throw(u.tag));
                        }
                    }
                }
                (ControlOp::Unwind, None) => {
                    f.instruction(&I::I32Const(0));
                }
                (ControlOp::ExitCode, Some(u)) => {
                    f.instruction(&I::GlobalGet(u.last));
                }
                (ControlOp::ExitCode, None) => {
                    f.instruction(&I::I64Const(-1));
                }
                (ControlOp::Reset, _) => {
                    unreachable!(
                        "reset is generated as Gen::Reset, for every target that imports it"
                    )
                }
            }
            f.instruction(&I::End);
            (extra_type(plan, op.func_type()), f)
        }
        Gen::Entry { target, callee, ty } => {
            let u = unwinds[target].expect("entries exist for wrapped targets only");
            let g = modules[guest];
            let func_type = g.types[ty as usize]
                .clone()
                .expect("check_imports accepts only function types for target exports");
            let type_index = plan.maps[guest].type_offset + ty;
            let body = entry_body(plan, &func_type, callee, &u)?;
            (type_index, body)
        }
    })
}

/// `if depth == 0 { <then>; return }`: what to do when no entry into the
/// target is under way (an unwind then has nowhere to go).
fn outside_entries(f: &mut Function, depth: u32, then: Instruction) {
    use Instruction as I;
    for i in [
        I::GlobalGet(depth),
        I::I32Eqz,
        I::If(BlockType::Empty),
        then,
        I::Return,
        I::End,
    ] {
        f.instruction(&i);
    }
}

/// The entry wrapper of one target export the guest calls.
fn entry_body(plan: &mut Plan, ty: &FuncType, callee: u32, u: &UnwindState) -> Result<Function> {
    use Instruction as I;
    let guest = plan.guest();
    let mut remap = Remap {
        map: &plan.maps[guest],
    };
    let zeros = wrap_unreachable::zeros(&mut remap, ty.results())
        .map_err(|e| anyhow::anyhow!("cannot encode an entry's results: {e:?}"))?;
    let results: Vec<wasm_encoder::ValType> = ty
        .results()
        .iter()
        .map(|t| remap.val_type(*t))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("cannot encode an entry's results: {e:?}"))?;
    let mut f = Function::new([]);
    let depth = |f: &mut Function, delta: i32| {
        f.instruction(&I::GlobalGet(u.depth));
        f.instruction(&I::I32Const(delta));
        f.instruction(&I::I32Add);
        f.instruction(&I::GlobalSet(u.depth));
    };
    let call = |f: &mut Function| {
        for p in 0..ty.params().len() as u32 {
            f.instruction(&I::LocalGet(p));
        }
        f.instruction(&I::Call(callee));
    };
    let unwound = |f: &mut Function| {
        f.instruction(&I::GlobalGet(u.code));
        f.instruction(&I::I64ExtendI32U);
        f.instruction(&I::GlobalSet(u.last));
    };
    match u.strategy {
        Strategy::Flags => {
            // A flag left set by an unwind that found no entry is stale.
            f.instruction(&I::I32Const(0));
            f.instruction(&I::GlobalSet(u.flag));
            depth(&mut f, 1);
            call(&mut f);
            depth(&mut f, -1);
            // The results (zeros when it unwound) stay below the `if`.
            f.instruction(&I::GlobalGet(u.flag));
            f.instruction(&I::If(BlockType::Empty));
            f.instruction(&I::I32Const(0));
            f.instruction(&I::GlobalSet(u.flag));
            unwound(&mut f);
            f.instruction(&I::Else);
            f.instruction(&I::I64Const(-1));
            f.instruction(&I::GlobalSet(u.last));
            f.instruction(&I::End);
        }
        Strategy::Exceptions => {
            let block = match results.as_slice() {
                [] => BlockType::Empty,
                [one] => BlockType::Result(*one),
                _ => BlockType::FunctionType(extra_type(
                    plan,
                    FuncType::new([], ty.results().iter().copied()),
                )),
            };
            depth(&mut f, 1);
            f.instruction(&I::Block(BlockType::Empty)); // $unwound
            f.instruction(&I::Block(BlockType::Result(wasm_encoder::ValType::EXNREF))); // $foreign
            f.instruction(&I::TryTable(
                block,
                vec![
                    Catch::One {
                        tag: u.tag,
                        label: 1,
                    },
                    Catch::AllRef { label: 0 },
                ]
                .into(),
            ));
            call(&mut f);
            f.instruction(&I::End);
            depth(&mut f, -1);
            f.instruction(&I::I64Const(-1));
            f.instruction(&I::GlobalSet(u.last));
            f.instruction(&I::Return);
            f.instruction(&I::End);
            // Another exception passes through, the entry no longer under way.
            depth(&mut f, -1);
            f.instruction(&I::ThrowRef);
            f.instruction(&I::End);
            depth(&mut f, -1);
            unwound(&mut f);
            match &zeros {
                Some(zeros) => {
                    for z in zeros {
                        f.instruction(z);
                    }
                }
                None => {
                    f.instruction(&I::Unreachable);
                }
            }
        }
    }
    f.instruction(&I::End);
    Ok(f)
}

/// The index of function type `ty` among the output's types, added after
/// the inputs' if no extra type is equal.
fn extra_type(plan: &mut Plan, ty: FuncType) -> u32 {
    let base = plan.maps.last().map_or(0, |m| m.type_offset + m.type_count);
    let position = match plan.extra_types.iter().position(|t| *t == ty) {
        Some(p) => p,
        None => {
            plan.extra_types.push(ty);
            plan.extra_types.len() - 1
        }
    };
    base + position as u32
}

/// The next free index of each space after the inputs, the kept imports,
/// the trampolines, the bridges and the start wrapper.
struct Next {
    func: u32,
    global: u32,
    tag: u32,
}

impl Next {
    fn after_inputs(plan: &Plan, modules: &[&Module]) -> Next {
        let mut next = Next {
            func: (plan.trampolines.len() + plan.bridges.len() + plan.generated.len()) as u32,
            global: 0,
            tag: 0,
        };
        for kept in &plan.kept {
            match modules[kept.module].imports[kept.import].ty {
                TypeRef::Func(_) | TypeRef::FuncExact(_) => next.func += 1,
                TypeRef::Global(_) => next.global += 1,
                TypeRef::Tag(_) => next.tag += 1,
                TypeRef::Table(_) | TypeRef::Memory(_) => {}
            }
        }
        for m in modules {
            next.func += m.func_types.len() as u32 - m.func_imports;
            next.global += m.globals.defined;
            next.tag += m.tags.defined;
        }
        if plan.start.wrapper.is_some() {
            next.func += 1;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::wasm;
    use crate::passes::{Extras, merge_controlled, read_manifest};

    /// A guest that wraps `app`: its `proc_exit` plug asks to unwind, its
    /// `random_get` plug calls back into the target (a nested entry), and
    /// `go(mode)` runs the target and returns how it ended.
    const GUEST: &str = r#"(module
      (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 plug app proc_exit\nwasi-virt/1 plug app random_get\nwasi-virt/1 wrap_unreachable app\n")
      (type $results (func (param i32) (result i32 i64 f32 f64 funcref externref)))
      (import "wasi-virt:target/app" "run" (func $run (type $results)))
      (import "wasi-virt:target/app" "after" (func $after (result i32)))
      (import "wasi-virt:control/app" "unwind" (func $unwind (param i32) (result i32)))
      (import "wasi-virt:control/app" "exit_code" (func $exit_code (result i64)))
      (memory (export "memory") 1)
      (global $inner (mut i64) (i64.const 0))
      (func (export "__wasi_virt/plug/app/proc_exit") (param i32)
        ;; Under flags this returns 1 and the plug returns into the target;
        ;; under exceptions it throws.
        (if (i32.eqz (call $unwind (local.get 0))) (then unreachable)))
      (func (export "__wasi_virt/plug/app/random_get") (param i32 i32) (result i32)
        (call $run (local.get 1))
        drop drop drop drop drop drop
        (global.set $inner (call $exit_code))
        (i32.const 0))
      (func (export "go") (param i32) (result i64)
        (call $run (local.get 0))
        drop drop drop drop drop drop
        (call $exit_code))
      (func (export "inner") (result i64) (global.get $inner))
      (func (export "after") (result i32) (call $after))
      (func (export "unwind_outside") (result i32) (call $unwind (i32.const 9))))"#;

    /// `run(mode)`: 0 traps (`unreachable`), 1–99 exit with `mode` through a
    /// `return_call` reached by `call_indirect`, 100–199 call `random_get`
    /// (whose plug runs `run(mode - 100)`) and go on; anything else returns.
    /// `after` is 1 if code after an unwinding call ever ran.
    const TARGET: &str = r#"(module
      (type $results (func (param i32) (result i32 i64 f32 f64 funcref externref)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
      (memory 1)
      (table 2 funcref)
      (elem (i32.const 0) $tail $leaf)
      (global $after (mut i32) (i32.const 0))
      (func $leaf (type $results)
        (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (ref.func $leaf) (ref.null extern))
      (func $die (type $results)
        (if (i32.eqz (local.get 0)) (then unreachable))
        (call $exit (local.get 0))
        unreachable)
      (func $tail (type $results) (return_call $die (local.get 0)))
      (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
      (func (export "run") (type $results)
        (if (i32.ge_u (local.get 0) (i32.const 200))
          (then (return (call $leaf (call $square (local.get 0))))))
        (if (i32.ge_u (local.get 0) (i32.const 100))
          (then
            (drop (call $random (i32.const 0) (i32.sub (local.get 0) (i32.const 100))))
            (return (call $leaf (local.get 0)))))
        (call_indirect (type $results) (local.get 0) (i32.const 0))
        (global.set $after (i32.const 1)))
      (func (export "after") (result i32) (global.get $after)))"#;

    fn merged(strategy: Strategy, target: &str) -> Vec<u8> {
        let guest_bytes = wasm(GUEST);
        let target_bytes = wasm(target);
        let guest = Module::parse("vfs.wasm", &guest_bytes).unwrap();
        let manifest = read_manifest::run(&guest).unwrap();
        let targets = [Target {
            name: "app".into(),
            module: Module::parse("app.wasm", &target_bytes).unwrap(),
        }];
        let options = Options { unwind: strategy };
        let (bytes, _) =
            merge_controlled(&guest, &manifest, &targets, Extras::default(), &options).unwrap();
        bytes
    }

    fn go(strategy: Strategy) -> impl FnMut(&str, i32) -> Result<i64, wasmi::Error> {
        let bytes = merged(strategy, TARGET);
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        move |name, arg| match name {
            "go" => instance
                .get_typed_func::<i32, i64>(&store, "go")
                .unwrap()
                .call(&mut store, arg),
            "unwind_outside" => instance
                .get_typed_func::<(), i32>(&store, name)
                .unwrap()
                .call(&mut store, ())
                .map(i64::from),
            _ => instance
                .get_typed_func::<(), i64>(&store, name)
                .or_else(|_| {
                    instance
                        .get_typed_func::<(), i32>(&store, name)
                        .map(|_| unreachable!())
                })
                .unwrap()
                .call(&mut store, ()),
        }
    }

    #[test]
    fn flags_unwind_exits_and_traps_through_indirect_and_tail_calls() {
        let mut call = go(Strategy::Flags);
        assert_eq!(call("go", 0).unwrap(), TRAP_EXIT_CODE as i64);
        assert_eq!(call("go", 7).unwrap(), 7);
        assert_eq!(call("go", 99).unwrap(), 99);
        assert_eq!(call("go", 300).unwrap(), -1, "a run that returns");
        // The instance is still usable, and no code after an unwinding call ran.
        assert_eq!(call("go", 0).unwrap(), TRAP_EXIT_CODE as i64);
    }

    #[test]
    fn flags_nested_entries_unwind_to_the_inner_call() {
        let mut call = go(Strategy::Flags);
        // run(105) calls random_get, whose plug runs run(5): that exits
        // with 5, and run(105) goes on and returns.
        assert_eq!(call("go", 105).unwrap(), -1);
        assert_eq!(call("inner", 0).unwrap(), 5);
        assert_eq!(call("go", 100).unwrap(), -1);
        assert_eq!(call("inner", 0).unwrap(), TRAP_EXIT_CODE as i64);
    }

    #[test]
    fn an_unwind_outside_any_entry_is_refused() {
        let mut call = go(Strategy::Flags);
        assert_eq!(call("unwind_outside", 0).unwrap(), 0);
        assert_eq!(call("go", 300).unwrap(), -1, "no stale flag is left");
    }

    #[test]
    fn only_code_that_can_reach_an_unwind_is_rewritten() {
        let bytes = merged(Strategy::Flags, TARGET);
        let out = Module::parse("out.wasm", &bytes).unwrap();
        let input = wasm(TARGET);
        let target = Module::parse("app.wasm", &input).unwrap();
        // Target functions keep their indices (its two WASI imports are
        // trampolines, the output's first bodies). $leaf (2), $square (5)
        // and $tail (4, whose `return_call` needs no check: its callee
        // returns straight to a caller that checks) are copied byte for
        // byte; $die (3) and `run` (6) change.
        for (index, same) in [(2, true), (3, false), (4, true), (5, true), (6, false)] {
            let before = target.bodies[index - 2].as_bytes();
            let after = out.bodies[index].as_bytes();
            assert_eq!(before == after, same, "function {index}");
        }
    }

    #[test]
    fn exceptions_output_validates_and_is_smaller() {
        let flags = merged(Strategy::Flags, TARGET);
        let exceptions = merged(Strategy::Exceptions, TARGET);
        crate::passes::validate::validate(&exceptions).unwrap();
        let code = |bytes: &[u8]| {
            let m = Module::parse("out.wasm", bytes).unwrap();
            m.bodies.iter().map(|b| b.as_bytes().len()).sum::<usize>()
        };
        assert!(code(&exceptions) < code(&flags));
        let out = Module::parse("out.wasm", &exceptions).unwrap();
        assert_eq!(out.tags.defined, 1, "one tag for the one wrapped target");
    }

    #[test]
    fn exceptions_refuse_a_target_that_catches_everything() {
        let target = TARGET.replace(
            r#"(func (export "after")"#,
            r#"(tag $t) (func (block $h (try_table (catch_all $h) (throw $t))))
               (func (export "after")"#,
        );
        let guest_bytes = wasm(GUEST);
        let target_bytes = wasm(&target);
        let guest = Module::parse("vfs.wasm", &guest_bytes).unwrap();
        let manifest = read_manifest::run(&guest).unwrap();
        let targets = [Target {
            name: "app".into(),
            module: Module::parse("app.wasm", &target_bytes).unwrap(),
        }];
        let options = Options {
            unwind: Strategy::Exceptions,
        };
        let err = merge_controlled(&guest, &manifest, &targets, Extras::default(), &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--unwind flags"), "{err}");
    }
}
