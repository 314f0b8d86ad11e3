//! Run control through the whole merge: unwinding under both strategies,
//! nested entries, traps.

use wasi_virt_abi::names::TRAP_EXIT_CODE;

use crate::module::Module;
use crate::passes::fixtures::wasm;
use crate::passes::{merge, read_manifest};
use crate::types::{Extras, Strategy, Target};

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
    let (bytes, _) = merge(&guest, &manifest, &targets, Extras::default(), strategy).unwrap();
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
    let err = merge(
        &guest,
        &manifest,
        &targets,
        Extras::default(),
        Strategy::Exceptions,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--unwind flags"), "{err}");
}
