//! The whole merge on the fixture: what reaches the guest, start
//! functions, several targets.

use crate::passes::fixtures::Fixture;

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
        guest_imports: r#"(import "wasi-virt:bridge/app" "size" (func $size (result i32)))"#.into(),
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
        manifest: format!("{}wasi-virt/1 plug self random_get\n", crate::passes::fixtures::MANIFEST),
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
    use crate::module::Module;
    use crate::passes::fixtures::wasm;
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
    let manifest = crate::passes::read_manifest::run(&guest).unwrap();
    let targets = [
        crate::types::Target {
            name: "app".into(),
            module: Module::parse("app.wasm", &app).unwrap(),
        },
        crate::types::Target {
            name: "lib".into(),
            module: Module::parse("lib.wasm", &lib).unwrap(),
        },
    ];
    let (bytes, _) = crate::passes::merge(
        &guest,
        &manifest,
        &targets,
        Default::default(),
        Default::default(),
    )
    .unwrap();
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
