//! Pass 3: check every import of every input, and say what becomes of it.
//!
//! All input problems are found here, before anything is laid out, so that
//! a bad input never costs a re-encode and never leaves a file behind. Where
//! several imports are unplugged, all of them are listed in one error with
//! the `plug_*!` that covers each: one build-fix round trip instead of many.

use anyhow::{Result, bail};
use wasi_virt_abi::manifest::Manifest;
use wasi_virt_abi::names::{self, PASSTHROUGH_MODULE, SELF_TARGET};
use wasi_virt_abi::preview1;
use wasi_virt_abi::snapshot0::{self, Mapping};
use wasmparser::{FuncType, Import, TypeRef};

use crate::index::UNRESOLVED;
use crate::module::{Module, Signature, preview1_type};
use crate::types::{BridgeOp, ControlOp, Generated, Origin, Role, Stubs, Target};

/// Checks the imports of every target and of the guest; returns the role of
/// each import, per module: the targets in order, then the guest.
///
/// The imports `stubs` names become traps ([`Role::Generated`]) without
/// further checks.
pub fn run(
    manifest: &Manifest,
    guest: &Module,
    targets: &[Target],
    stubs: &Stubs,
) -> Result<Vec<Vec<Role>>> {
    let mut roles = Vec::with_capacity(targets.len() + 1);
    for target in targets {
        roles.push(check_target(manifest, guest, target, stubs)?);
    }
    check_plug_exports(manifest, guest, targets)?;
    check_snapshot0_adapters(guest, targets, &roles)?;
    roles.push(check_guest(manifest, guest, targets, stubs)?);
    check_threads(manifest, targets, &roles)?;
    debug_assert!(
        roles
            .iter()
            .flatten()
            .all(|r| !matches!(r, Role::Plug { plug, .. } if *plug == UNRESOLVED)),
        "every plug a role names was checked to exist"
    );
    Ok(roles)
}

/// What a threads program cannot have yet, refused with the reason.
fn check_threads(manifest: &Manifest, targets: &[Target], roles: &[Vec<Role>]) -> Result<()> {
    let Some(threads) = targets.iter().position(|t| t.module.is_threads()) else {
        return Ok(());
    };
    let t = &targets[threads];
    if targets.len() > 1 {
        bail!(
            "{} is a threads program (wasm32-wasip1-threads): it must be the guest's only target",
            t.module.name
        );
    }
    if manifest.wrapped.contains(&t.name) {
        bail!(
            "{} is a threads program (wasm32-wasip1-threads): wrap_unreachable! does not support threads programs yet",
            t.module.name
        );
    }
    let resets = roles.last().into_iter().flatten().any(|r| {
        matches!(
            r,
            Role::Control {
                op: ControlOp::Reset,
                ..
            }
        )
    });
    if resets {
        bail!(
            "{} is a threads program (wasm32-wasip1-threads): reset does not support threads programs (its other threads would run on)",
            t.module.name
        );
    }
    Ok(())
}

/// The guest's function index of the plug export for `function` of
/// `target`; [`UNRESOLVED`] if it has none, which the checks of the
/// manifest's plugs and of the snapshot-0 adapters then refuse.
fn plug_index(guest: &Module, target: &str, function: &str) -> u32 {
    guest
        .exported_func(&names::plug_export(target, function))
        .unwrap_or(UNRESOLVED)
}

fn check_target(
    manifest: &Manifest,
    guest: &Module,
    target: &Target,
    stubs: &Stubs,
) -> Result<Vec<Role>> {
    let m = &target.module;
    check_memories(m)?;
    let mut roles = Vec::with_capacity(m.imports.len());
    let mut unplugged = Vec::new();
    let mut wasi = 0;
    for import in &m.imports {
        if stubs.target_modules.contains(import.module)
            && matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_))
        {
            roles.push(Role::Generated(Generated::Trap));
            continue;
        }
        // A threads program's shared memory stays an import: every
        // thread's instance imports the same one.
        if let TypeRef::Memory(memory) = import.ty
            && memory.shared
            && m.memory_imports == 1
            && m.memories.is_empty()
        {
            roles.push(Role::Keep {
                module: import.module.to_string(),
                origin: Origin::Target(target.name.clone()),
            });
            continue;
        }
        let (TypeRef::Func(ty) | TypeRef::FuncExact(ty)) = import.ty else {
            bail!(
                "{} imports a {} ({}::{}); targets that import memories, tables, globals or tags are not supported yet",
                m.name,
                kind_name(&import.ty),
                import.module,
                import.name
            );
        };
        match import.module {
            preview1::MODULE => {
                let function = check_preview1(m, import, ty)?;
                wasi += 1;
                if !manifest.plugs(&target.name, function.name) {
                    unplugged.push(function);
                }
                roles.push(Role::Plug {
                    target: target.name.clone(),
                    function: function.name,
                    plug: plug_index(guest, &target.name, function.name),
                });
            }
            // Snapshot 0: the preview1 plug of the same function, or the
            // adapter the macros export beside it where the layouts differ
            // (`wasi_virt_abi::snapshot0`); a `Plug` of `wasi_unstable/<f>`
            // names that adapter's export.
            snapshot0::MODULE => {
                let mapping = check_snapshot0(m, import, ty)?;
                let function = mapping.preview1();
                wasi += 1;
                if !manifest.plugs(&target.name, function.name) {
                    unplugged.push(function);
                }
                let function = match mapping {
                    Mapping::Same(f) => f.name,
                    Mapping::Adapted(f) => snapshot0::adapter_name(f.name)
                        .expect("every adapted snapshot-0 function has an adapter name"),
                };
                roles.push(Role::Plug {
                    target: target.name.clone(),
                    function,
                    plug: plug_index(guest, &target.name, function),
                });
            }
            other => roles.push(Role::Keep {
                module: other.to_string(),
                origin: Origin::Target(target.name.clone()),
            }),
        }
    }
    if wasi == 0 {
        bail!(
            "{} imports no WASI functions: there is nothing to virtualize (is it a wasm32-wasip1 program?)",
            m.name
        );
    }
    unplugged_error(m, &target.name, &unplugged)?;
    Ok(roles)
}

/// A `wasi_unstable` import must name a snapshot-0 function and have its
/// (preview1's) exact type.
fn check_snapshot0(m: &Module, import: &Import, ty: u32) -> Result<Mapping> {
    let Some(mapping) = snapshot0::function(import.name) else {
        bail!(
            "{} imports {}::{}, which is not a WASI snapshot 0 function",
            m.name,
            import.module,
            import.name
        );
    };
    let expected = preview1_type(mapping.preview1());
    match m.types.get(ty as usize) {
        Some(Some(actual)) if *actual == expected => Ok(mapping),
        Some(Some(actual)) => bail!(
            "{} imports {}::{} with type {}, but snapshot 0 defines {}",
            m.name,
            import.module,
            import.name,
            Signature(actual),
            Signature(&expected)
        ),
        _ => bail!(
            "{} imports {}::{} with type index {ty}, which is not a function type",
            m.name,
            import.module,
            import.name
        ),
    }
}

/// Every snapshot-0 adapter a target's imports need must be exported by
/// the guest with preview1's type (a guest built before the macros emitted
/// them lacks them).
fn check_snapshot0_adapters(guest: &Module, targets: &[Target], roles: &[Vec<Role>]) -> Result<()> {
    for (target, roles) in targets.iter().zip(roles) {
        for role in roles {
            let Role::Plug { function, .. } = role else {
                continue;
            };
            let Some(name) = function.strip_prefix("wasi_unstable/") else {
                continue;
            };
            let export = names::plug_export(&target.name, function);
            let f = preview1::function(name).expect("adapter names name preview1 functions");
            let found = guest
                .exported_func(&export)
                .and_then(|i| guest.func_type(i));
            match found {
                Some(actual) if *actual == preview1_type(f) => {}
                _ => bail!(
                    "{}: {} imports wasi_unstable::{name}, but the guest exports no snapshot-0 adapter `{export}`; rebuild the guest with this version of wasi-virt",
                    guest.name,
                    target.module.name
                ),
            }
        }
    }
    Ok(())
}

/// The one error that lists every unplugged function with its `plug_*!`.
fn unplugged_error(m: &Module, target: &str, unplugged: &[&preview1::Function]) -> Result<()> {
    if unplugged.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unplugged
        .iter()
        .map(|f| format!("{} (add {target} to {})", f.name, f.subsystem))
        .collect();
    bail!(
        "{} imports {} WASI function{} the guest does not plug: {}",
        m.name,
        unplugged.len(),
        if unplugged.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// A preview1 import must name a preview1 function and have its exact type.
fn check_preview1(m: &Module, import: &Import, ty: u32) -> Result<&'static preview1::Function> {
    let Some(function) = preview1::function(import.name) else {
        bail!(
            "{} imports {}::{}, which is not a preview1 function",
            m.name,
            import.module,
            import.name
        );
    };
    let expected = preview1_type(function);
    match m.types.get(ty as usize) {
        Some(Some(actual)) if *actual == expected => Ok(function),
        Some(Some(actual)) => bail!(
            "{} imports {}::{} with type {}, but preview1 defines {}",
            m.name,
            import.module,
            import.name,
            Signature(actual),
            Signature(&expected)
        ),
        _ => bail!(
            "{} imports {}::{} with type index {ty}, which is not a function type",
            m.name,
            import.module,
            import.name
        ),
    }
}

fn check_memories(m: &Module) -> Result<()> {
    if m.memories.iter().any(|mem| mem.memory64) {
        bail!(
            "{}: 64-bit memories (memory64) are not supported yet",
            m.name
        );
    }
    Ok(())
}

/// Every plug the manifest states must be exported with preview1's type:
/// the target's call lands there without any adaptation.
fn check_plug_exports(manifest: &Manifest, guest: &Module, targets: &[Target]) -> Result<()> {
    for (target, function) in &manifest.plugs {
        if target != SELF_TARGET && !targets.iter().any(|t| t.name == *target) {
            continue;
        }
        let export = names::plug_export(target, function);
        let f =
            preview1::function(function).expect("the manifest parser accepts preview1 names only");
        let Some(index) = guest.exported_func(&export) else {
            bail!(
                "{}: the manifest plugs {function} for {target}, but the guest exports no function `{export}`",
                guest.name
            );
        };
        let expected = preview1_type(f);
        match guest.func_type(index) {
            Some(actual) if *actual == expected => {}
            Some(actual) => bail!(
                "{} exports `{export}` with type {}, but preview1 defines {}",
                guest.name,
                Signature(actual),
                Signature(&expected)
            ),
            None => bail!("{}: `{export}` does not have a function type", guest.name),
        }
    }
    Ok(())
}

fn check_guest(
    manifest: &Manifest,
    guest: &Module,
    targets: &[Target],
    stubs: &Stubs,
) -> Result<Vec<Role>> {
    check_memories(guest)?;
    let mut roles = Vec::with_capacity(guest.imports.len());
    let mut unplugged = Vec::new();
    let find_target = |name: &str, import: &Import| -> Result<usize> {
        match targets.iter().position(|t| t.name == name) {
            Some(i) => Ok(i),
            None => bail!(
                "{} imports {}::{}, but the manifest declares no target `{name}` (add import_wasm!({name}))",
                guest.name,
                import.module,
                import.name
            ),
        }
    };
    for import in &guest.imports {
        if matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_))
            && stubs
                .guest
                .contains(&(import.module.to_string(), import.name.to_string()))
        {
            roles.push(Role::Generated(Generated::Trap));
            continue;
        }
        let reserved = import.module == preview1::MODULE
            || import.module == wasi_virt_abi::pack::MODULE
            || import.module == PASSTHROUGH_MODULE
            || names::parse_bridge_module(import.module).is_some()
            || names::parse_target_module(import.module).is_some()
            || names::parse_control_module(import.module).is_some();
        let ty = match import.ty {
            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => ty,
            _ if reserved => bail!(
                "{} imports a {} from {}::{}; wasi-virt provides only functions there",
                guest.name,
                kind_name(&import.ty),
                import.module,
                import.name
            ),
            TypeRef::Memory(_) => bail!(
                "{} imports a memory ({}::{}); a guest that imports its memory is not supported yet",
                guest.name,
                import.module,
                import.name
            ),
            _ => {
                roles.push(Role::Keep {
                    module: import.module.to_string(),
                    origin: Origin::Guest,
                });
                continue;
            }
        };
        let role = if import.module == preview1::MODULE {
            let function = check_preview1(guest, import, ty)?;
            if !manifest.plugs(SELF_TARGET, function.name) {
                unplugged.push(function);
            }
            Role::Plug {
                target: SELF_TARGET.to_string(),
                function: function.name,
                plug: plug_index(guest, SELF_TARGET, function.name),
            }
        } else if import.module == PASSTHROUGH_MODULE {
            check_preview1(guest, import, ty)?;
            Role::Keep {
                module: preview1::MODULE.to_string(),
                origin: Origin::Passthrough,
            }
        } else if import.module == wasi_virt_abi::pack::MODULE {
            Role::Generated(check_pack(guest, import, ty)?)
        } else if let Some(name) = names::parse_bridge_module(import.module) {
            let target = find_target(name, import)?;
            let op = check_bridge(guest, import, ty, &targets[target])?;
            Role::Bridge { target, op }
        } else if let Some(name) = names::parse_control_module(import.module) {
            let target = find_target(name, import)?;
            Role::Control {
                target,
                op: check_control(guest, import, ty)?,
            }
        } else if let Some(name) = names::parse_target_module(import.module) {
            let target = find_target(name, import)?;
            let func = check_target_export(guest, import, ty, &targets[target])?;
            Role::TargetExport {
                target,
                export: import.name.to_string(),
                func,
            }
        } else {
            Role::Keep {
                module: import.module.to_string(),
                origin: Origin::Guest,
            }
        };
        roles.push(role);
    }
    unplugged_error(guest, SELF_TARGET, &unplugged)?;
    Ok(roles)
}

fn check_bridge(guest: &Module, import: &Import, ty: u32, target: &Target) -> Result<BridgeOp> {
    let Some(op) = BridgeOp::from_name(import.name) else {
        bail!(
            "{} imports {}::{}, which is not a bridge function (size, read, write, fill)",
            guest.name,
            import.module,
            import.name
        );
    };
    let expected = op.func_type();
    match guest.types.get(ty as usize) {
        Some(Some(actual)) if *actual == expected => {}
        Some(Some(actual)) => bail!(
            "{} imports {}::{} with type {}, but the bridge defines {}",
            guest.name,
            import.module,
            import.name,
            Signature(actual),
            Signature(&expected)
        ),
        _ => bail!(
            "{} imports {}::{} with a non-function type",
            guest.name,
            import.module,
            import.name
        ),
    }
    if target.module.memories.is_empty() && target.module.memory_imports == 0 {
        bail!(
            "{} imports {}::{}, but target `{}` ({}) has no memory",
            guest.name,
            import.module,
            import.name,
            target.name,
            target.module.name
        );
    }
    if op.uses_guest_memory() && guest.memories.is_empty() {
        bail!(
            "{} imports {}::{}, but the guest has no memory to copy to or from",
            guest.name,
            import.module,
            import.name
        );
    }
    Ok(op)
}

fn check_pack(guest: &Module, import: &Import, ty: u32) -> Result<Generated> {
    let Some(kind) = Generated::from_pack_name(import.name) else {
        bail!(
            "{} imports {}::{}, which `wasi-virt pack` does not provide",
            guest.name,
            import.module,
            import.name
        );
    };
    let expected = kind
        .func_type()
        .expect("every pack function has a fixed type");
    match guest.types.get(ty as usize) {
        Some(Some(actual)) if *actual == expected => Ok(kind),
        Some(Some(actual)) => bail!(
            "{} imports {}::{} with type {}, but pack defines {}",
            guest.name,
            import.module,
            import.name,
            Signature(actual),
            Signature(&expected)
        ),
        _ => bail!(
            "{} imports {}::{} with a non-function type",
            guest.name,
            import.module,
            import.name
        ),
    }
}

fn check_control(guest: &Module, import: &Import, ty: u32) -> Result<ControlOp> {
    let Some(op) = ControlOp::from_name(import.name) else {
        bail!(
            "{} imports {}::{}, which is not a control function (unwind, exit_code, reset)",
            guest.name,
            import.module,
            import.name
        );
    };
    let expected = op.func_type();
    match guest.types.get(ty as usize) {
        Some(Some(actual)) if *actual == expected => Ok(op),
        Some(Some(actual)) => bail!(
            "{} imports {}::{} with type {}, but wasi-virt defines {}",
            guest.name,
            import.module,
            import.name,
            Signature(actual),
            Signature(&expected)
        ),
        _ => bail!(
            "{} imports {}::{} with a non-function type",
            guest.name,
            import.module,
            import.name
        ),
    }
}

/// Checks a guest import of a target's export; the export's function index.
fn check_target_export(guest: &Module, import: &Import, ty: u32, target: &Target) -> Result<u32> {
    let Some(index) = target.module.exported_func(import.name) else {
        bail!(
            "{} imports {}::{}, but target `{}` ({}) exports no function `{}`",
            guest.name,
            import.module,
            import.name,
            target.name,
            target.module.name,
            import.name
        );
    };
    let wanted: Option<&FuncType> = guest.types.get(ty as usize).and_then(Option::as_ref);
    let found = target.module.func_type(index);
    match (wanted, found) {
        (Some(w), Some(f)) if w == f => Ok(index),
        (Some(w), Some(f)) => bail!(
            "{} imports {}::{} with type {}, but target `{}` ({}) exports `{}` with type {}",
            guest.name,
            import.module,
            import.name,
            Signature(w),
            target.name,
            target.module.name,
            import.name,
            Signature(f)
        ),
        _ => bail!(
            "{} imports {}::{}, which does not have a function type",
            guest.name,
            import.module,
            import.name
        ),
    }
}

fn kind_name(ty: &TypeRef) -> &'static str {
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::{Fixture, MANIFEST};

    /// Checks a fixture whose target is `target_wat` verbatim.
    fn check_target(manifest: &str, target_wat: &str) -> Result<Vec<Vec<Role>>> {
        let mut built = Fixture {
            manifest: manifest.into(),
            ..Fixture::default()
        }
        .build();
        built.target = crate::passes::fixtures::wasm(target_wat);
        built.parse().check()
    }

    #[test]
    fn every_import_of_the_fixture_gets_a_role() {
        let built = Fixture {
            guest_imports:
                r#"(import "wasi-virt:passthrough" "random_get" (func (param i32 i32) (result i32)))
                              (import "env" "log" (func (param i32)))"#
                    .into(),
            target_imports: r#"(import "env" "js" (func))"#.into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let roles = parsed.roles();
        let plug = parsed.guest.exported_func("__wasi_virt/plug/app/fd_write");
        let start = parsed.targets[0].module.exported_func("_start");
        assert_eq!(
            roles[0],
            [
                Role::Plug {
                    target: "app".into(),
                    function: "fd_write",
                    plug: plug.unwrap(),
                },
                Role::Keep {
                    module: "env".into(),
                    origin: Origin::Target("app".into())
                },
            ]
        );
        assert_eq!(
            roles[1],
            [
                Role::Keep {
                    module: "wasi_snapshot_preview1".into(),
                    origin: Origin::Passthrough
                },
                Role::Keep {
                    module: "env".into(),
                    origin: Origin::Guest
                },
                Role::Bridge {
                    target: 0,
                    op: BridgeOp::Read
                },
                Role::Bridge {
                    target: 0,
                    op: BridgeOp::Write
                },
                Role::TargetExport {
                    target: 0,
                    export: "_start".into(),
                    func: start.unwrap(),
                },
            ]
        );
    }

    #[test]
    fn unplugged_imports_are_all_listed_with_their_macro() {
        let target = r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
            (memory 1)
            (func (export "_start")))"#;
        let err = check_target(
            "wasi-virt/1 target app\nwasi-virt/1 plug app environ_get\n",
            target,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "app.wasm imports 2 WASI functions the guest does not plug: fd_write (add app to plug_fs!), random_get (add app to plug_random!)"
        );
    }

    #[test]
    fn a_guest_wasi_import_must_be_plugged_for_self() {
        let built = Fixture {
            guest_imports: r#"(import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))"#
                .into(),
            ..Fixture::default()
        }
        .build();
        let err = built.parse().check().unwrap_err().to_string();
        assert_eq!(
            err,
            "vfs.wasm imports 1 WASI function the guest does not plug: proc_exit (add self to plug_process!)"
        );
    }

    #[test]
    fn a_wrong_preview1_signature_shows_both_types() {
        let target = r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
            (memory 1))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert_eq!(
            err,
            "app.wasm imports wasi_snapshot_preview1::fd_write with type (param i32) (result i32), but preview1 defines (param i32 i32 i32 i32) (result i32)"
        );
    }

    #[test]
    fn an_unknown_preview1_function_is_refused() {
        let target = r#"(module (import "wasi_snapshot_preview1" "fd_frob" (func)))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert_eq!(
            err,
            "app.wasm imports wasi_snapshot_preview1::fd_frob, which is not a preview1 function"
        );
    }

    #[test]
    fn a_target_without_wasi_imports_is_refused() {
        let err = check_target(MANIFEST, "(module (memory 1))")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("app.wasm imports no WASI functions"),
            "{err}"
        );
    }

    #[test]
    fn a_target_importing_memory_is_not_supported_yet() {
        let target = r#"(module (import "env" "memory" (memory 1)))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert!(err.contains("imports a memory (env::memory)"), "{err}");
        assert!(err.contains("not supported yet"), "{err}");
    }

    #[test]
    fn wasi_unstable_imports_are_plugged_or_adapted() {
        let built = Fixture {
            target_imports:
                r#"(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#
                    .into(),
            ..Fixture::default()
        }
        .build();
        let parsed = built.parse();
        let roles = parsed.roles();
        let plug = parsed.guest.exported_func("__wasi_virt/plug/app/fd_write");
        assert!(roles[0].contains(&Role::Plug {
            target: "app".into(),
            function: "fd_write",
            plug: plug.unwrap(),
        }));
        let seek =
            r#"(import "wasi_unstable" "fd_seek" (func (param i32 i64 i32 i32) (result i32)))"#;
        let plug = r#"(func (export "__wasi_virt/plug/app/fd_seek") (param i32 i64 i32 i32) (result i32) (i32.const 0))"#;
        let built = Fixture {
            manifest: format!("{MANIFEST}wasi-virt/1 plug app fd_seek\n"),
            target_imports: seek.into(),
            guest_items: plug.into(),
            ..Fixture::default()
        }
        .build();
        let err = built.parse().check().unwrap_err().to_string();
        assert!(
            err.contains("no snapshot-0 adapter `__wasi_virt/plug/app/wasi_unstable/fd_seek`"),
            "{err}"
        );
        let target = r#"(module
            (import "wasi_unstable" "sock_accept" (func (param i32 i32 i32) (result i32))))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert!(err.contains("not a WASI snapshot 0 function"), "{err}");
    }

    #[test]
    fn memory64_is_refused() {
        let target = r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (memory i64 1))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert_eq!(
            err,
            "app.wasm: 64-bit memories (memory64) are not supported yet"
        );
    }

    #[test]
    fn a_target_export_of_another_type_names_both() {
        let target = r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (memory 1)
            (func (export "_start") (param i32)))"#;
        let err = check_target(MANIFEST, target).unwrap_err().to_string();
        assert_eq!(
            err,
            "vfs.wasm imports wasi-virt:target/app::_start with type (param) (result), but target `app` (app.wasm) exports `_start` with type (param i32) (result)"
        );
    }

    #[test]
    fn a_missing_plug_export_is_named() {
        let built = Fixture {
            manifest: format!("{MANIFEST}wasi-virt/1 plug app fd_read\n"),
            ..Fixture::default()
        }
        .build();
        let err = built.parse().check().unwrap_err().to_string();
        assert_eq!(
            err,
            "vfs.wasm: the manifest plugs fd_read for app, but the guest exports no function `__wasi_virt/plug/app/fd_read`"
        );
    }

    #[test]
    fn a_guest_cannot_import_a_global_from_a_target() {
        let built = Fixture {
            guest_imports: r#"(import "wasi-virt:target/app" "g" (global i32))"#.into(),
            ..Fixture::default()
        }
        .build();
        let err = built.parse().check().unwrap_err().to_string();
        assert_eq!(
            err,
            "vfs.wasm imports a global from wasi-virt:target/app::g; wasi-virt provides only functions there"
        );
    }

    #[test]
    fn a_bridge_of_an_undeclared_target_is_refused() {
        let built = Fixture {
            guest_imports: r#"(import "wasi-virt:bridge/lib" "size" (func (result i32)))"#.into(),
            ..Fixture::default()
        }
        .build();
        let err = built.parse().check().unwrap_err().to_string();
        assert_eq!(
            err,
            "vfs.wasm imports wasi-virt:bridge/lib::size, but the manifest declares no target `lib` (add import_wasm!(lib))"
        );
    }
}
