//! Pass 7c: the bodies of the functions run control added (see
//! [`control`](super::control) for what each does): entries, traps,
//! `unwind`/`exit_code`, and with [`reset`](super::reset) the `grow`,
//! `init` and `reset` of targets that can be reset.

use anyhow::Result;
use wasi_virt_abi::names::TRAP_EXIT_CODE;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{BlockType, Catch, Function, Instruction};
use wasmparser::FuncType;

use super::control::{Control, Job, UnwindState};
use super::layout::Plan;
use super::reset::{self, ResetExtras};
use super::wrap_unreachable;
use crate::index::Remap;
use crate::module::Module;
use crate::types::{ControlOp, Strategy};

/// Writes the body of every function of `control` into `plan`.
pub fn run(plan: &mut Plan, modules: &[&Module], control: &Control) -> Result<()> {
    for (index, job) in &control.jobs {
        let body = body(plan, modules, control, job)?;
        let f = plan
            .new_func_mut(*index)
            .expect("control's jobs are functions the plan allocated");
        f.body = Some(body);
    }
    Ok(())
}

/// The body of one function of run control.
fn body(plan: &mut Plan, modules: &[&Module], control: &Control, job: &Job) -> Result<Function> {
    use Instruction as I;
    let (unwinds, resets) = (&control.unwinds, &control.resets);
    Ok(match *job {
        Job::Trap(t) => {
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
            f
        }
        Job::Grow { target, memory } => {
            let m = modules[target];
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
            reset::grow_body(out, v.pages, maximum)
        }
        Job::Init(t) => reset::init_body(modules[t], &plan.maps[t])?,
        Job::Reset(t) => {
            let r = resets[t]
                .as_ref()
                .expect("reset exists for reset targets only");
            let m = modules[t];
            let start = m.start.map(|s| plan.maps[t].funcs[s as usize]);
            let flag = unwinds[t]
                .filter(|u| u.strategy == Strategy::Flags)
                .map(|u| u.flag);
            reset::reset_body(
                m,
                &plan.maps[t],
                &ResetExtras {
                    memories: &r.memories,
                    init: r.init,
                    flag,
                    start,
                },
            )?
        }
        Job::Control { target, op } => {
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
                    unreachable!("reset is a Job::Reset, for every target that imports it")
                }
            }
            f.instruction(&I::End);
            f
        }
        Job::Entry { target, export, ty } => {
            let u = unwinds[target].expect("entries exist for wrapped targets only");
            let func_type = modules[plan.guest()].types[ty as usize]
                .clone()
                .expect("check_imports accepts only function types for target exports");
            let callee = plan.maps[target].funcs[export as usize];
            entry_body(plan, &func_type, callee, &u)?
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
                _ => BlockType::FunctionType(
                    plan.func_type(FuncType::new([], ty.results().iter().copied())),
                ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::{Fixture, MANIFEST};
    use crate::passes::{control, layout};
    use crate::types::Extras;

    /// Every function run control added gets a body; `exit_code` reads
    /// `last`, `unwind` (flags) records the code, raises the flag and
    /// says 1, outside any entry 0.
    #[test]
    fn each_job_gets_its_body() {
        let built = Fixture {
            manifest: format!("{MANIFEST}wasi-virt/1 wrap_unreachable app\n"),
            guest_imports:
                r#"(import "wasi-virt:control/app" "unwind" (func (param i32) (result i32)))
                (import "wasi-virt:control/app" "exit_code" (func (result i64)))"#
                    .into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Extras::default());
        let control = control::run(
            &mut plan,
            &modules,
            &roles,
            &parsed.targets,
            &parsed.manifest,
            Strategy::Flags,
        )
        .unwrap();
        run(&mut plan, &modules, &control).unwrap();
        let u = control.unwinds[0].unwrap();
        let body = |plan: &mut Plan, op: ControlOp| {
            let (index, _) = control
                .jobs
                .iter()
                .find(|(_, j)| *j == Job::Control { target: 0, op })
                .unwrap();
            plan.new_func_mut(*index).unwrap().body.clone().unwrap()
        };
        let mut exit_code = Function::new([]);
        exit_code.instruction(&Instruction::GlobalGet(u.last));
        exit_code.instruction(&Instruction::End);
        assert_eq!(body(&mut plan, ControlOp::ExitCode), exit_code);

        let mut unwind = Function::new([]);
        outside_entries(&mut unwind, u.depth, Instruction::I32Const(0));
        for i in [
            Instruction::LocalGet(0),
            Instruction::GlobalSet(u.code),
            Instruction::I32Const(1),
            Instruction::GlobalSet(u.flag),
            Instruction::I32Const(1),
            Instruction::End,
        ] {
            unwind.instruction(&i);
        }
        assert_eq!(body(&mut plan, ControlOp::Unwind), unwind);
        for (index, _) in &control.jobs {
            assert!(plan.new_func_mut(*index).unwrap().body.is_some());
        }
    }
}
