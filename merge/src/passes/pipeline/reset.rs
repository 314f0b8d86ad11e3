//! Reset through the whole merge: a target run, dirtied, reset and run
//! again behaves as a fresh instance.

use crate::module::Module;
use crate::passes::fixtures::wasm;
use crate::passes::{merge, read_manifest};
use crate::types::{Extras, Strategy, Target};

const GUEST: &str = r#"(module
  (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 plug app random_get\n")
  (import "wasi-virt:target/app" "dirty" (func $dirty))
  (import "wasi-virt:target/app" "peek" (func $peek (param i32) (result i32)))
  (import "wasi-virt:target/app" "grow" (func $grow (param i32) (result i32)))
  (import "wasi-virt:target/app" "global" (func $global (result i32)))
  (import "wasi-virt:target/app" "call0" (func $call0 (result i32)))
  (import "wasi-virt:control/app" "reset" (func $reset))
  (import "wasi-virt:bridge/app" "size" (func $size (result i32)))
  (memory (export "memory") 1)
  (func (export "__wasi_virt/plug/app/random_get") (param i32 i32) (result i32) (i32.const 0))
  (func (export "dirty") (call $dirty))
  (func (export "peek") (param i32) (result i32) (call $peek (local.get 0)))
  (func (export "grow") (param i32) (result i32) (call $grow (local.get 0)))
  (func (export "global") (result i32) (call $global))
  (func (export "call0") (result i32) (call $call0))
  (func (export "real_pages") (result i32) (call $size))
  (func (export "reset") (call $reset)))"#;

/// Active and passive data (the passive one applied and dropped by the
/// start function), a mutable global, a table with an active segment.
const TARGET: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
  (memory 1 10)
  (data (i32.const 16) "hello")
  (data $p "passive")
  (global $g (mut i32) (i32.const 42))
  (table 2 funcref)
  (elem (i32.const 0) $one)
  (elem declare func $two)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $start
    (memory.init $p (i32.const 100) (i32.const 0) (i32.const 7))
    (data.drop $p))
  (start $start)
  (func (export "dirty")
    (i32.store8 (i32.const 16) (i32.const 74))
    (i32.store8 (i32.const 100) (i32.const 74))
    (i32.store (i32.const 1000) (i32.const 7))
    (global.set $g (i32.const 0))
    (table.set (i32.const 0) (ref.func $two))
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 70000) (i32.const 9)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "global") (result i32) (global.get $g))
  (func (export "call0") (result i32) (call_indirect (result i32) (i32.const 0))))"#;

#[test]
fn reset_gives_back_memory_globals_tables_and_reruns_start() {
    let (guest_bytes, target_bytes) = (wasm(GUEST), wasm(TARGET));
    let guest = Module::parse("vfs.wasm", &guest_bytes).unwrap();
    let manifest = read_manifest::run(&guest).unwrap();
    let targets = [Target {
        name: "app".into(),
        module: Module::parse("app.wasm", &target_bytes).unwrap(),
    }];
    let (bytes, _) = merge(
        &guest,
        &manifest,
        &targets,
        Extras::default(),
        Strategy::Flags,
    )
    .unwrap();

    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &bytes).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    let get = |store: &mut wasmi::Store<()>, name: &str| {
        instance
            .get_typed_func::<(), i32>(&*store, name)
            .unwrap()
            .call(store, ())
            .unwrap()
    };
    let with = |store: &mut wasmi::Store<()>, name: &str, arg: i32| {
        instance
            .get_typed_func::<i32, i32>(&*store, name)
            .unwrap()
            .call(store, arg)
            .unwrap()
    };
    let call = |store: &mut wasmi::Store<()>, name: &str| {
        instance
            .get_typed_func::<(), ()>(&*store, name)
            .unwrap()
            .call(store, ())
            .unwrap()
    };
    let fresh = |store: &mut wasmi::Store<()>| {
        (
            with(store, "peek", 16),
            with(store, "peek", 100),
            with(store, "peek", 1000),
            get(store, "global"),
            get(store, "call0"),
        )
    };
    let initial = fresh(&mut store);
    assert_eq!(initial, (b'h' as i32, b'p' as i32, 0, 42, 1));
    for _ in 0..3 {
        call(&mut store, "dirty");
        assert_ne!(fresh(&mut store), initial);
        assert_eq!(with(&mut store, "grow", 0), 3);
        call(&mut store, "reset");
        assert_eq!(fresh(&mut store), initial);
        // The program sees its initial size again; the real memory
        // keeps its pages, zeroed, and growing reuses them.
        assert_eq!(with(&mut store, "grow", 0), 1);
        assert_eq!(get(&mut store, "real_pages"), 3);
        assert_eq!(with(&mut store, "grow", 2), 1);
        assert_eq!(with(&mut store, "peek", 70000), 0);
        assert_eq!(get(&mut store, "real_pages"), 3);
        assert_eq!(with(&mut store, "grow", 100), -1, "past the maximum");
        call(&mut store, "reset");
    }
}
