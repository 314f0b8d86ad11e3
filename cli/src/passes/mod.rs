//! The merge, as a pipeline of small passes.
//!
//! Each pass is one `run` function in a file of its own, with a unit test on a
//! tiny WAT fixture. The pipeline below is the whole merge; reading it top to
//! bottom tells what happens to a guest and its targets:
//!
//! 1. [`read_manifest`]: what the guest says about itself.
//! 2. [`bind_targets`]: which file is which target (before any target is read).
//! 3. [`check_imports`]: every import of every input is checked and given a
//!    [`check_imports::Role`]; all input problems are found here, before anything
//!    is laid out or written.
//! 4. [`layout`]: where everything lands in the output's index spaces: the
//!    (first) target's memory is memory 0, the guest's memory is last; where
//!    it can, the first target keeps every index it had (its WASI imports
//!    become trampolines at their own indices).
//! 5. [`rewire_imports`]: each replaced import is pointed at what replaces it
//!    (a target's WASI import at the guest's plug, a guest's target import at
//!    the target's export).
//! 6. [`bridge_memories`]: the bodies of the generated bridge functions, one
//!    `memory.copy`/`memory.fill`/`memory.size` each.
//!
//!    Then [`control`]: run control: the entries, unwinding and reset of the
//!    targets (`wrap_unreachable!`, `app::reset()`), with the code rewrite
//!    of [`wrap_unreachable`] and the functions of [`reset`].
//! 7. [`emit`]: one streaming pass over all inputs: a target that kept its
//!    indices is copied byte for byte, the rest is patched through the maps.
//! 8. [`validate`]: the output must validate, or nothing is written.

pub mod bind_targets;
pub mod bridge_memories;
pub mod check_imports;
pub mod control;
pub mod emit;
pub mod generated;
pub mod layout;
pub mod read_manifest;
pub mod reset;
pub mod rewire_imports;
pub mod single_memory;
pub mod validate;
pub mod wrap_unreachable;

#[cfg(test)]
pub(crate) mod fixtures;

use anyhow::Result;
use wasi_virt_abi::manifest::Manifest;

use crate::module::Module;

/// A target module and the name the manifest knows it by.
pub struct Target<'a> {
    /// The manifest's name for it (`import_wasm!(app)` → `app`).
    pub name: String,
    /// The parsed module.
    pub module: Module<'a>,
}

/// How long the expensive passes took, for `merge -v`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// Passes 3 to 7: checking, planning, re-encoding.
    pub encode: std::time::Duration,
    /// Pass 8.
    pub validate: std::time::Duration,
}

/// Runs passes 3 to 8 on a guest whose manifest is read and whose targets are
/// bound and parsed; returns the bytes of a validated output, and how long
/// the expensive parts took.
// The commands call `merge_with`/`merge_controlled`; this is the plain form
// the passes' tests use.
#[cfg_attr(not(test), allow(dead_code))]
pub fn merge(
    guest: &Module,
    manifest: &Manifest,
    targets: &[Target],
) -> Result<(Vec<u8>, Timings)> {
    merge_with(guest, manifest, targets, Extras::default())
}

/// What `pack` adds to a merge; a plain merge adds nothing.
#[derive(Debug, Default)]
pub struct Extras {
    /// Imports that become traps.
    pub stubs: check_imports::Stubs,
    /// The config image and the blob, for the guest's `wasi-virt:pack`
    /// imports.
    pub pack: Option<generated::PackData>,
    /// Guest exports to leave out.
    pub hidden_exports: Vec<String>,
    /// First-target exports to re-export, as `(output name, export name)`.
    pub target_exports: Vec<(String, String)>,
}

/// [`merge`], with `extras`.
pub fn merge_with(
    guest: &Module,
    manifest: &Manifest,
    targets: &[Target],
    extras: Extras,
) -> Result<(Vec<u8>, Timings)> {
    merge_controlled(
        guest,
        manifest,
        targets,
        extras,
        &control::Options::default(),
    )
}

/// [`merge_with`], with the choices of run control (`merge --unwind`).
pub fn merge_controlled(
    guest: &Module,
    manifest: &Manifest,
    targets: &[Target],
    extras: Extras,
    options: &control::Options,
) -> Result<(Vec<u8>, Timings)> {
    let started = std::time::Instant::now();
    let roles = check_imports::run(manifest, guest, targets, &extras.stubs)?;
    let uses_pack = roles
        .iter()
        .flatten()
        .any(|r| matches!(r, check_imports::Role::Generated(g) if g.is_pack()));
    if uses_pack && extras.pack.is_none() {
        anyhow::bail!(
            "{} imports {} functions, which only `wasi-virt pack` provides (it is the default guest of pack, not a guest to merge)",
            guest.name,
            wasi_virt_abi::pack::MODULE
        );
    }
    let mut modules: Vec<&Module> = targets.iter().map(|t| &t.module).collect();
    modules.push(guest);
    let mut plan = layout::run(&modules, &roles);
    plan.pack = extras.pack;
    plan.hidden_exports = extras.hidden_exports;
    plan.target_exports = extras.target_exports;
    rewire_imports::run(&mut plan, &modules, &roles)?;
    let mut generated = bridge_memories::run(&plan);
    generated.extend(generated::run(&plan));
    control::run(&mut plan, &modules, &roles, targets, manifest, options)?;
    let bytes = emit::run(&plan, &modules, generated)?;
    let encoded = std::time::Instant::now();
    validate::run(&bytes, &modules)?;
    let timings = Timings {
        encode: encoded - started,
        validate: encoded.elapsed(),
    };
    Ok((bytes, timings))
}

#[cfg(test)]
mod tests {
    use super::fixtures::Fixture;

    /// Instantiates `bytes` with an empty linker: this fails if the module
    /// has any import left.
    fn instantiate(bytes: &[u8]) -> (wasmi::Store<()>, wasmi::Instance) {
        instantiate_with(bytes, |_| {})
    }

    /// Instantiates `bytes` with the host functions `link` defines.
    fn instantiate_with(
        bytes: &[u8],
        link: impl FnOnce(&mut wasmi::Linker<()>),
    ) -> (wasmi::Store<()>, wasmi::Instance) {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let mut linker = wasmi::Linker::<()>::new(&engine);
        link(&mut linker);
        let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
        (store, instance)
    }

    /// Runs the fixture's `run` and checks what reached the guest: two
    /// fd_write calls, "hello" (5 bytes, its length computed through the
    /// target's table) and then the 4-byte nwritten the guest had written
    /// back into the target's memory through the bridge.
    fn check_fixture_run(mut store: wasmi::Store<()>, instance: wasmi::Instance) {
        let run = instance.get_typed_func::<(), ()>(&store, "run").unwrap();
        run.call(&mut store, ()).unwrap();
        let written = instance
            .get_typed_func::<(), i32>(&store, "written")
            .unwrap();
        assert_eq!(written.call(&mut store, ()).unwrap(), 9);
        let memory = instance.get_memory(&store, "memory").unwrap();
        let data = memory.data(&store);
        assert_eq!(&data[16..21], b"hello");
        assert_eq!(&data[21..25], &5u32.to_le_bytes());
        // The guest's own data segment landed in the guest's memory.
        assert_eq!(&data[1000..1010], b"guest data");
        let pages = memory.size(&store);
        assert_eq!(
            pages, 1,
            "the exported memory is the guest's, not the target's"
        );
    }

    #[test]
    fn the_target_writes_through_the_guest_with_no_imports_left() {
        let built = Fixture::default().build();
        let bytes = built.parse().merge().unwrap();
        let (store, instance) = instantiate(&bytes);
        check_fixture_run(store, instance);
    }

    #[test]
    fn a_re_encoded_target_behaves_the_same() {
        // A kept guest import shifts the target's functions: its bodies are
        // patched instead of copied, and its WASI import maps to the plug.
        let built = Fixture {
            guest_imports: r#"(import "env" "log" (func (param i32)))"#.into(),
            ..Fixture::default()
        }
        .build();
        let bytes = built.parse().merge().unwrap();
        let (store, instance) = instantiate_with(&bytes, |linker| {
            linker.func_wrap("env", "log", |_: i32| {}).unwrap();
        });
        check_fixture_run(store, instance);
    }

    #[test]
    fn both_start_functions_run_target_first() {
        let built = Fixture {
            guest_imports: r#"(import "wasi-virt:bridge/app" "size" (func $size (result i32)))"#
                .into(),
            guest_items: r#"
                (func $init (call $read (i32.const 60) (i32.const 50) (i32.const 1)))
                (start $init)
                (func (export "seen") (result i32) (i32.load8_u (i32.const 60)))
                (func (export "target_pages") (result i32) (call $size))"#
                .into(),
            target_items: "(func $init (i32.store8 (i32.const 50) (i32.const 42))) (start $init)"
                .into(),
            ..Fixture::default()
        }
        .build();
        let bytes = built.parse().merge().unwrap();
        let (mut store, instance) = instantiate(&bytes);
        let seen = instance.get_typed_func::<(), i32>(&store, "seen").unwrap();
        assert_eq!(seen.call(&mut store, ()).unwrap(), 42);
        let pages = instance
            .get_typed_func::<(), i32>(&store, "target_pages")
            .unwrap();
        assert_eq!(pages.call(&mut store, ()).unwrap(), 2);
    }

    #[test]
    fn a_guest_wasi_import_plugged_for_self_calls_the_guest() {
        let built = Fixture {
            manifest: format!("{}wasi-virt/1 plug self random_get\n", super::fixtures::MANIFEST),
            guest_imports: r#"(import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))"#
                .into(),
            guest_items: r#"
                (func (export "__wasi_virt/plug/self/random_get") (param i32 i32) (result i32)
                  (i32.add (local.get 0) (local.get 1)))
                (func (export "random") (result i32) (call $random (i32.const 40) (i32.const 2)))"#
                .into(),
            ..Fixture::default()
        }
        .build();
        let bytes = built.parse().merge().unwrap();
        let (mut store, instance) = instantiate(&bytes);
        let random = instance
            .get_typed_func::<(), i32>(&store, "random")
            .unwrap();
        assert_eq!(random.call(&mut store, ()).unwrap(), 42);
    }

    #[test]
    fn two_targets_each_get_their_own_memory_and_plugs() {
        use super::fixtures::wasm;
        use crate::module::Module;
        let guest = wasm(
            r#"(module
              (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 target lib\nwasi-virt/1 plug app random_get\nwasi-virt/1 plug lib random_get\n")
              (import "wasi-virt:bridge/app" "fill" (func $fill_app (param i32 i32 i32)))
              (import "wasi-virt:bridge/lib" "fill" (func $fill_lib (param i32 i32 i32)))
              (import "wasi-virt:target/app" "go" (func $app (result i32)))
              (import "wasi-virt:target/lib" "go" (func $lib (result i32)))
              (memory (export "memory") 1)
              (func (export "__wasi_virt/plug/app/random_get") (param i32 i32) (result i32)
                (call $fill_app (local.get 0) (i32.const 1) (local.get 1)) (i32.const 0))
              (func (export "__wasi_virt/plug/lib/random_get") (param i32 i32) (result i32)
                (call $fill_lib (local.get 0) (i32.const 2) (local.get 1)) (i32.const 0))
              (func (export "sum") (result i32) (i32.add (call $app) (call $lib))))"#,
        );
        let target = |pages: u32| {
            wasm(&format!(
                r#"(module
                  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
                  (memory {pages})
                  (func (export "go") (result i32)
                    (drop (call $random (i32.const 8) (i32.const 4)))
                    (i32.load (i32.const 8))))"#
            ))
        };
        let (app, lib) = (target(2), target(3));
        let guest = Module::parse("vfs.wasm", &guest).unwrap();
        let manifest = super::read_manifest::run(&guest).unwrap();
        let targets = [
            super::Target {
                name: "app".into(),
                module: Module::parse("app.wasm", &app).unwrap(),
            },
            super::Target {
                name: "lib".into(),
                module: Module::parse("lib.wasm", &lib).unwrap(),
            },
        ];
        let (bytes, _) = super::merge(&guest, &manifest, &targets).unwrap();
        let out = Module::parse("out.wasm", &bytes).unwrap();
        let pages: Vec<u64> = out.memories.iter().map(|m| m.initial).collect();
        assert_eq!(
            pages,
            [2, 3, 1],
            "targets in manifest order, the guest last"
        );
        let (mut store, instance) = instantiate(&bytes);
        let sum = instance.get_typed_func::<(), i32>(&store, "sum").unwrap();
        // Each target read back four bytes its own plug filled in its own memory.
        assert_eq!(sum.call(&mut store, ()).unwrap(), 0x0101_0101 + 0x0202_0202);
    }
}
