//! Pass 6: point every replaced import at what replaces it.
//!
//! A target's `wasi_snapshot_preview1::f` becomes the guest's plug export for
//! that target, and a guest's `wasi-virt:target/<t>::e` becomes target `t`'s
//! export `e`: the import's function index maps straight to the other
//! function's output index, so every `call` lands there directly, with no
//! trampoline (the types were checked equal by `check_imports`); a guest's
//! import that run control answers (an entry into a wrapped target, a
//! control function) maps to the function `control` added.
//!
//! An export may itself re-export an import (a plug that forwards to host
//! passthrough, say), so references are followed until they reach a
//! definition; a loop among them is refused.

use anyhow::{Result, bail};

use super::layout::{FuncKind, Plan, trampoline_body};
use crate::index::UNRESOLVED;
use crate::module::Module;
use crate::types::Role;

/// One replaced import: input `module`'s function `func` is whatever input
/// `to_module`'s function `to_func` becomes.
struct Alias {
    module: usize,
    func: u32,
    to_module: usize,
    to_func: u32,
    /// Where the answer goes: the import's own slot, or the callee of the
    /// trampoline that stands at its index.
    trampoline: Option<usize>,
}

/// Fills in the output index of every replaced import in `plan`;
/// `answers` are the guest's imports that run control answers, as (the
/// guest's function index, the output index).
pub fn run(
    plan: &mut Plan,
    modules: &[&Module],
    roles: &[Vec<Role>],
    answers: &[(u32, u32)],
) -> Result<()> {
    let guest = plan.guest();
    for &(func, to) in answers {
        plan.maps[guest].funcs[func as usize] = to;
    }
    let answered = |mi: usize, func: u32| mi == guest && answers.iter().any(|a| a.0 == func);
    let mut pending = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        for (func, position, _, _) in m.func_imports() {
            if answered(mi, func) {
                continue;
            }
            let (to_module, to_func) = match &roles[mi][position] {
                Role::Plug { plug, .. } => (guest, *plug),
                Role::TargetExport { target, func, .. } => (*target, *func),
                Role::Keep { .. }
                | Role::Bridge { .. }
                | Role::Generated(_)
                | Role::Control { .. } => continue,
            };
            let trampoline = plan.trampolines.iter().position(|t| {
                matches!(t.kind, FuncKind::Trampoline { module, func: f, .. } if module == mi && f == func)
            });
            pending.push(Alias {
                module: mi,
                func,
                to_module,
                to_func,
                trampoline,
            });
        }
    }
    // Each round resolves every alias whose destination is known; a round
    // that resolves none means the rest only reach each other.
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|a| {
            let to = plan.maps[a.to_module].funcs[a.to_func as usize];
            if to == UNRESOLVED {
                return true;
            }
            match a.trampoline {
                Some(t) => {
                    let trampoline = &mut plan.trampolines[t];
                    if let FuncKind::Trampoline { params, .. } = trampoline.kind {
                        trampoline.body = Some(trampoline_body(params, to));
                    }
                }
                None => plan.maps[a.module].funcs[a.func as usize] = to,
            }
            false
        });
        if pending.len() == before {
            let a = &pending[0];
            let m = modules[a.module];
            let (_, _, import, _) = m
                .func_imports()
                .nth(a.func as usize)
                .expect("an alias is made from a function import");
            bail!(
                "{} imports {}::{}, which leads back to an import through the exports that should replace it (an export re-exports the import it replaces)",
                m.name,
                import.module,
                import.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::Fixture;
    use crate::passes::layout;

    #[test]
    fn wasi_imports_call_the_plug_and_target_imports_call_the_target() {
        let built = Fixture::default().build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Default::default());
        run(&mut plan, &modules, &roles, &[]).unwrap();

        let guest = &parsed.guest;
        let plug = guest
            .exported_func("__wasi_virt/plug/app/fd_write")
            .unwrap();
        // The target keeps its indices: its import is a trampoline to the plug.
        assert_eq!(plan.maps[0].funcs[0], 0);
        let callee = plan.maps[1].funcs[plug as usize];
        // fd_write: four parameters forwarded.
        assert_eq!(plan.trampolines[0].body, Some(trampoline_body(4, callee)));
        let start = parsed.targets[0].module.exported_func("_start").unwrap();
        assert_eq!(plan.maps[1].funcs[2], plan.maps[0].funcs[start as usize]);
        assert!(plan.maps.iter().all(|m| !m.funcs.contains(&UNRESOLVED)));
    }

    #[test]
    fn without_the_fast_path_a_wasi_import_maps_straight_to_the_plug() {
        let built = Fixture {
            guest_imports: r#"(import "env" "log" (func))"#.into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Default::default());
        run(&mut plan, &modules, &roles, &[]).unwrap();
        let plug = parsed
            .guest
            .exported_func("__wasi_virt/plug/app/fd_write")
            .unwrap();
        assert!(plan.trampolines.is_empty());
        assert_eq!(plan.maps[0].funcs[0], plan.maps[1].funcs[plug as usize]);
    }

    #[test]
    fn a_plug_that_re_exports_its_own_import_is_refused() {
        let built = Fixture {
            manifest: "wasi-virt/1 target app\nwasi-virt/1 plug app fd_write\nwasi-virt/1 plug self random_get\n"
                .into(),
            guest_imports: r#"(import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                              (export "__wasi_virt/plug/self/random_get" (func $r))"#
                .into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let (modules, roles) = (parsed.modules(), parsed.roles());
        let mut plan = layout::run(&modules, &roles, Default::default());
        let err = run(&mut plan, &modules, &roles, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "vfs.wasm imports wasi_snapshot_preview1::random_get, which leads back"
            ),
            "{err}"
        );
    }
}
