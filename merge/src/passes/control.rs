//! Pass 5: run control, what keeps a guest in control of its targets:
//! what it adds to the output is decided and allocated here; the bodies of
//! its functions are written by the `control_bodies` pass.
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
//!   ([`wrap_unreachable`](super::wrap_unreachable)), analysed here.
//!
//! For a target whose `reset` the guest imports: the generated `init` and
//! `reset` functions and the size the target sees of its memory
//! (see `reset`); `init` runs first in the output's start function.
//!
//! Everything generated comes after every input's definitions (globals,
//! tags, functions after the start wrapper), so no input index moves. The
//! guest's control and entry imports are answered by `rewire_imports`,
//! from [`Control::answers`].

use std::collections::BTreeMap;

use anyhow::Result;
use wasi_virt_abi::manifest::Manifest;
use wasmparser::{FuncType, ValType};

use super::layout::{FuncKind, NewGlobal, Plan};
use super::wrap_unreachable::{self, Rewrite, Unwind};
use crate::module::Module;
use crate::types::{ControlOp, Role, Strategy, Target, TargetSummary, VirtualMemory};

/// Everything this pass decides, for `rewire_imports`, `control_bodies`
/// and `emit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// Per input: the rewrite of its bodies, if any.
    pub rewrites: Vec<Option<Rewrite>>,
    /// Per input: whether its active data and element segments become
    /// passive (applied by the start function instead).
    pub passive: Vec<bool>,
    /// Every target, in order.
    pub targets: Vec<TargetSummary>,
    /// Guest imports answered by a function of this pass: (the guest's
    /// function index, the output index).
    pub answers: Vec<(u32, u32)>,
    /// The functions this pass added: (output index, what it is).
    pub jobs: Vec<(u32, Job)>,
    /// Per target: its unwinding state, if it is wrapped.
    pub unwinds: Vec<Option<UnwindState>>,
    /// Per target: its reset state, if the guest can reset it.
    pub resets: Vec<Option<ResetState>>,
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

/// The state this pass adds for one wrapped target: output indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnwindState {
    /// How it unwinds.
    pub strategy: Strategy,
    /// The global that says "unwinding" (flags).
    pub flag: u32,
    /// The global holding the exit code of the unwind under way.
    pub code: u32,
    /// The global counting the entries under way.
    pub depth: u32,
    /// The global saying how the last entry ended (-1, or the exit code).
    pub last: u32,
    /// The tag thrown (exceptions; `u32::MAX` under flags).
    pub tag: u32,
    /// The function an `unreachable` calls.
    pub trap: u32,
}

/// What this pass adds for a target the guest can reset: output indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetState {
    /// Per memory of the target: the size the program sees.
    pub memories: Vec<Option<VirtualMemory>>,
    /// The function that applies the target's segments.
    pub init: u32,
    /// The function the guest's `reset` import calls.
    pub reset: u32,
}

/// A function this pass adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// What a rewritten `unreachable` calls.
    Trap(usize),
    /// What `memory.grow` of a reset target's memory becomes.
    Grow {
        /// The target.
        target: usize,
        /// The target's memory index.
        memory: u32,
    },
    /// Applies a reset target's segments.
    Init(usize),
    /// Resets a target.
    Reset(usize),
    /// The wrapper of a target export the guest calls.
    Entry {
        /// The target.
        target: usize,
        /// The target's function index of the export.
        export: u32,
        /// The guest's type index of the import.
        ty: u32,
    },
    /// A `wasi-virt:control/<target>` function other than `reset`.
    Control {
        /// The target.
        target: usize,
        /// Which.
        op: ControlOp,
    },
}

/// What the guest asks of run control: per (target, op), its control
/// imports; per (target, export) of a wrapped target, its imports of the
/// export, the export's function index and the import's type.
struct Requests {
    controls: BTreeMap<(usize, ControlOp), Vec<u32>>,
    entries: BTreeMap<(usize, String), (Vec<u32>, u32, u32)>,
}

/// Decides the run control of `targets` (the inputs before the guest in
/// `modules`) and adds its globals, tags and functions to `plan`.
pub fn run(
    plan: &mut Plan,
    modules: &[&Module],
    roles: &[Vec<Role>],
    targets: &[Target],
    manifest: &Manifest,
    unwind: Strategy,
) -> Result<Control> {
    let guest = plan.guest();
    let wrapped: Vec<bool> = targets
        .iter()
        .map(|t| manifest.wrapped.contains(&t.name))
        .collect();
    let requests = requests(modules[guest], &roles[guest], &wrapped);
    let resets: Vec<bool> = (0..targets.len())
        .map(|t| requests.controls.contains_key(&(t, ControlOp::Reset)))
        .collect();
    let mut control = Control {
        targets: targets
            .iter()
            .enumerate()
            .map(|(t, target)| TargetSummary {
                name: target.name.clone(),
                file: target.module.name.clone(),
                unwind: wrapped[t].then_some(unwind),
                reset: resets[t],
            })
            .collect(),
        rewrites: vec![None; modules.len()],
        passive: vec![false; modules.len()],
        unwinds: vec![None; targets.len()],
        resets: vec![None; targets.len()],
        ..Control::default()
    };
    if requests.controls.is_empty() && requests.entries.is_empty() && !wrapped.contains(&true) {
        return Ok(control);
    }
    let empty = plan.func_type(FuncType::new([], []));
    // The start function must apply reset targets' segments first.
    if resets.contains(&true) {
        plan.start_wrapper();
    }
    for (t, target) in targets.iter().enumerate() {
        if wrapped[t] {
            control.unwinds[t] = Some(add_unwind_state(plan, &mut control, t, unwind, empty));
        }
        if resets[t] {
            let state = add_reset_state(plan, &mut control, t, &target.module);
            plan.start.first.push(state.init);
            control.passive[t] = true;
            control.resets[t] = Some(state);
        }
        if wrapped[t] || resets[t] {
            control.rewrites[t] = rewrite(&control, t, &target.module, &roles[t])?;
        }
    }
    answer_imports(plan, &mut control, modules[guest], requests, unwind);
    Ok(control)
}

/// Reads what the guest's imports ask for.
fn requests(g: &Module, roles: &[Role], wrapped: &[bool]) -> Requests {
    let mut requests = Requests {
        controls: BTreeMap::new(),
        entries: BTreeMap::new(),
    };
    for (fi, position, _, ty) in g.func_imports() {
        match &roles[position] {
            Role::Control { target, op } => {
                requests
                    .controls
                    .entry((*target, *op))
                    .or_default()
                    .push(fi);
            }
            Role::TargetExport {
                target,
                export,
                func,
            } if wrapped[*target] => {
                requests
                    .entries
                    .entry((*target, export.clone()))
                    .or_insert_with(|| (Vec::new(), *func, ty))
                    .0
                    .push(fi);
            }
            _ => {}
        }
    }
    requests
}

/// A function of this pass, of the function type `ty`.
fn add_job(plan: &mut Plan, control: &mut Control, ty: FuncType, job: Job) -> u32 {
    let ty = plan.func_type(ty);
    let index = plan.add_func(ty, FuncKind::Control);
    control.jobs.push((index, job));
    index
}

/// The globals, tag and trap function of wrapped target `t`.
fn add_unwind_state(
    plan: &mut Plan,
    control: &mut Control,
    t: usize,
    strategy: Strategy,
    empty: u32,
) -> UnwindState {
    let mut global = |init: i64, i64: bool| plan.add_global(NewGlobal { i64, init });
    let flag = global(0, false);
    let code = global(0, false);
    let depth = global(0, false);
    let last = global(-1, true);
    let tag = match strategy {
        Strategy::Exceptions => plan.add_tag(empty),
        Strategy::Flags => u32::MAX,
    };
    let trap = add_job(plan, control, FuncType::new([], []), Job::Trap(t));
    UnwindState {
        strategy,
        flag,
        code,
        depth,
        last,
        tag,
        trap,
    }
}

/// The size globals, `grow`, `init` and `reset` functions of target `t`.
fn add_reset_state(plan: &mut Plan, control: &mut Control, t: usize, m: &Module) -> ResetState {
    let mut memories = vec![None; (m.memory_imports as usize) + m.memories.len()];
    for (k, memory) in m.memories.iter().enumerate() {
        let index = m.memory_imports + k as u32;
        let pages = plan.add_global(NewGlobal {
            i64: false,
            init: memory.initial as i64,
        });
        let grow_type = FuncType::new([ValType::I32], [ValType::I32]);
        let job = Job::Grow {
            target: t,
            memory: index,
        };
        let grow = add_job(plan, control, grow_type, job);
        memories[index as usize] = Some(VirtualMemory { pages, grow });
    }
    let init = add_job(plan, control, FuncType::new([], []), Job::Init(t));
    let reset = add_job(plan, control, FuncType::new([], []), Job::Reset(t));
    ResetState {
        memories,
        init,
        reset,
    }
}

/// How target `t`'s bodies change, if they do.
fn rewrite(control: &Control, t: usize, m: &Module, roles: &[Role]) -> Result<Option<Rewrite>> {
    let unwind_state = control.unwinds[t];
    let reset = control.resets[t].as_ref();
    let analysis =
        wrap_unreachable::analyze(m, roles, unwind_state.map(|u| u.strategy), reset.is_some())?;
    if !analysis.changes.contains(&true) {
        return Ok(None);
    }
    let unwind = unwind_state.map(|u| {
        let (may_unwind, indirect) = analysis.flags.clone().unwrap_or_default();
        Unwind {
            strategy: u.strategy,
            flag: u.flag,
            trap: u.trap,
            may_unwind,
            indirect,
        }
    });
    Ok(Some(Rewrite {
        unwind,
        memories: reset.map(|r| r.memories.clone()).unwrap_or_default(),
        drop_segments: reset.is_some(),
        changes: analysis.changes,
    }))
}

/// The functions that answer the guest's control and entry imports.
fn answer_imports(
    plan: &mut Plan,
    control: &mut Control,
    g: &Module,
    requests: Requests,
    strategy: Strategy,
) {
    for ((target, op), imports) in requests.controls {
        let func = match (op, &control.resets[target]) {
            (ControlOp::Reset, Some(r)) => r.reset,
            _ => add_job(plan, control, op.func_type(), Job::Control { target, op }),
        };
        control
            .answers
            .extend(imports.into_iter().map(|fi| (fi, func)));
    }
    for ((target, _), (imports, export, ty)) in requests.entries {
        let func = plan.maps[plan.guest()].type_offset + ty;
        let index = plan.add_func(func, FuncKind::Control);
        control
            .jobs
            .push((index, Job::Entry { target, export, ty }));
        // An exception entry of several results needs their block type.
        let results = g.types[ty as usize].as_ref().map(|f| f.results().to_vec());
        if let (Strategy::Exceptions, Some(results)) = (strategy, results)
            && results.len() > 1
        {
            plan.func_type(FuncType::new([], results));
        }
        control
            .answers
            .extend(imports.into_iter().map(|fi| (fi, index)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::{Fixture, MANIFEST};
    use crate::passes::layout;
    use crate::types::Extras;

    /// The fixture, its target wrapped, the guest importing every control
    /// function: laid out and run through this pass.
    pub(crate) fn planned(strategy: Strategy) -> (layout::Plan, Control, u32) {
        let built = Fixture {
            manifest: format!("{MANIFEST}wasi-virt/1 wrap_unreachable app\n"),
            guest_imports:
                r#"(import "wasi-virt:control/app" "unwind" (func (param i32) (result i32)))
                (import "wasi-virt:control/app" "exit_code" (func (result i64)))
                (import "wasi-virt:control/app" "reset" (func))"#
                    .into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Extras::default());
        let first = plan.first_new_func + plan.funcs.len() as u32;
        let targets = &parsed.targets;
        let control = run(
            &mut plan,
            &modules,
            &roles,
            targets,
            &parsed.manifest,
            strategy,
        )
        .unwrap();
        (plan, control, first)
    }

    #[test]
    fn a_wrapped_target_that_can_be_reset_gets_its_state_in_order() {
        let (plan, control, first) = planned(Strategy::Flags);
        // Reset needs a start wrapper: it comes first, then trap, grow (one
        // memory), init, reset, the control functions, the entry.
        assert_eq!(plan.start.wrapper, Some(first));
        let indices: Vec<u32> = control.jobs.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, (first + 1..first + 8).collect::<Vec<_>>());
        let jobs: Vec<&Job> = control.jobs.iter().map(|(_, j)| j).collect();
        assert_eq!(
            jobs[..4],
            [
                &Job::Trap(0),
                &Job::Grow {
                    target: 0,
                    memory: 0
                },
                &Job::Init(0),
                &Job::Reset(0)
            ]
        );
        assert_eq!(
            jobs[4],
            &Job::Control {
                target: 0,
                op: ControlOp::Unwind
            }
        );
        assert_eq!(
            jobs[5],
            &Job::Control {
                target: 0,
                op: ControlOp::ExitCode
            }
        );
        assert!(matches!(jobs[6], Job::Entry { target: 0, .. }));
        assert_eq!(plan.start.first, [first + 3], "init runs first");
        // flag, code, depth, last; then the size the target sees (2 pages).
        let inits: Vec<(bool, i64)> = plan.globals.iter().map(|g| (g.i64, g.init)).collect();
        assert_eq!(
            inits,
            [(false, 0), (false, 0), (false, 0), (true, -1), (false, 2)]
        );
        assert!(plan.tags.is_empty(), "flags need no tag");
        // The guest's imports: unwind, exit_code, reset, then the bridges'
        // and the entry's (`_start`, its sixth).
        let answers: Vec<(u32, u32)> = control.answers.clone();
        assert_eq!(
            answers,
            [
                (0, first + 5),
                (1, first + 6),
                (2, first + 4),
                (5, first + 7)
            ]
        );
        assert_eq!(control.passive, [true, false]);
        let rewrite = control
            .rewrite(0)
            .expect("the target calls fd_write, which may unwind");
        assert!(rewrite.drop_segments && rewrite.unwind.is_some());
        assert_eq!(control.targets[0].unwind, Some(Strategy::Flags));
        assert!(control.targets[0].reset);
    }

    #[test]
    fn exceptions_add_a_tag_of_the_empty_type() {
        let (plan, control, _) = planned(Strategy::Exceptions);
        assert_eq!(plan.tags.len(), 1);
        let u = control.unwinds[0].expect("the target is wrapped");
        assert_eq!(u.tag, 0);
        let empty = plan
            .extra_types
            .iter()
            .position(|t| *t == FuncType::new([], []));
        assert!(empty.is_some());
    }
}
