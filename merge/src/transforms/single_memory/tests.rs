//! The pass end to end: a module with several memories runs the same, in
//! either order, once made single-memory; what cannot be laid out is refused.

use wasi_virt_abi::names::host_api;
use wasmi::Val;

use super::*;
use crate::passes::fixtures::wasm;

/// A target's memory (0, at most 5 pages) and a guest's (1, exported),
/// with the instructions the pass rewrites on each.
const TWO_MEMORIES: &str = r#"(module
  (memory $t 1 5)
  (memory $g (export "memory") 1)
  (data (memory $t) (i32.const 0) "target")
  (data (memory $g) (i32.const 16) "guest data")
  (data $p "passive")
  (func (export "target_grow") (param i32) (result i32) (memory.grow $t (local.get 0)))
  (func (export "target_size") (result i32) (memory.size $t))
  (func (export "target_load") (param i32) (result i32) (i32.load8_u $t (local.get 0)))
  (func (export "target_store") (param i32 i32) (i32.store8 $t offset=1 (local.get 0) (local.get 1)))
  (func (export "guest_grow") (param i32) (result i32) (memory.grow $g (local.get 0)))
  (func (export "guest_size") (result i32) (memory.size $g))
  (func (export "guest_load") (param i32) (result i32) (i32.load8_u $g (local.get 0)))
  (func (export "guest_store") (param i32 i32) (i32.store8 $g (local.get 0) (local.get 1)))
  (func (export "guest_load64") (param i32) (result i64) (i64.load $g offset=8 (local.get 0)))
  (func (export "guest_store64") (param i32 i64) (i64.store $g offset=8 (local.get 0) (local.get 1)))
  (func (export "guest_f64") (param i32 f64) (result f64)
    (f64.store $g (local.get 0) (local.get 1))
    (f64.load $g (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill $g (local.get 0) (local.get 1) (local.get 2)))
  (func (export "to_target") (param i32 i32 i32) (memory.copy $t $g (local.get 0) (local.get 1) (local.get 2)))
  (func (export "from_target") (param i32 i32 i32) (memory.copy $g $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $g $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sum_target") (result i64) (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.load8_u $t (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.shl (memory.size $t) (i32.const 16)))))
    (local.get $s))
  (func (export "sum_guest") (result i64) (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.load8_u $g (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.shl (memory.size $g) (i32.const 16)))))
    (local.get $s)))"#;

/// Calls, in order, and what each returned, on one instance.
fn run_script(bytes: &[u8], calls: &[(&str, Vec<Val>)]) -> Vec<String> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, bytes).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    calls
        .iter()
        .map(|(name, args)| {
            let f = instance.get_func(&store, name).unwrap();
            let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
            match f.call(&mut store, args, &mut results) {
                Ok(()) => format!("{name} -> {results:?}"),
                Err(e) => format!("{name} -> trap {e}"),
            }
        })
        .collect()
}

fn i(v: i32) -> Val {
    Val::I32(v)
}

/// Every call returns the same in the single-memory module, in either
/// order, as in the multi-memory one; the report is the target-first
/// one's.
fn same_behaviour(wat: &str, calls: &[(&str, Vec<Val>)]) -> (Vec<String>, Report) {
    let multi = wasm(wat);
    let expected = run_script(&multi, calls);
    let mut reports = Vec::new();
    for order in [Order::TargetFirst, Order::GuestFirst] {
        let (single, report) = run(&multi, order).unwrap();
        wasmparser::Validator::new().validate_all(&single).unwrap();
        let out = crate::module::Module::parse("single.wasm", &single).unwrap();
        assert_eq!(out.memories.len(), 1, "one memory");
        assert_eq!(run_script(&single, calls), expected, "{order:?}");
        reports.push(report);
    }
    (expected, reports.swap_remove(0))
}

#[test]
fn guest_first_leaves_the_guests_addresses_as_they_are() {
    let (single, report) = run(&wasm(TWO_MEMORIES), Order::GuestFirst).unwrap();
    assert_eq!(report.order, Order::GuestFirst);
    // The target's loads, stores and bulk operations carry the base
    // now; the guest's do not.
    assert!(report.other_added > 0, "{report:?}");
    let calls = vec![
        ("wasi_virt_memory_base", vec![]),
        ("guest_store", vec![i(40), i(7)]),
        ("target_store", vec![i(99), i(8)]),
    ];
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &single[..]).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    for (name, args) in &calls {
        let f = instance.get_func(&store, name).unwrap();
        let mut results = vec![Val::I32(0); f.ty(&store).results().len()];
        f.call(&mut store, args, &mut results).unwrap();
        if *name == "wasi_virt_memory_base" {
            assert_eq!(results[0].i32(), Some(0));
        }
    }
    let memory = instance.get_memory(&store, "memory").unwrap();
    let data = memory.data(&store);
    assert_eq!(&data[16..26], b"guest data", "the guest at address 0");
    assert_eq!(data[40], 7);
    // The target's memory follows the guest's page.
    assert_eq!(&data[65536..65542], b"target");
    assert_eq!(data[65536 + 100], 8);
}

#[test]
fn the_guest_keeps_its_data_while_the_target_grows() {
    let page = 65536;
    let calls = vec![
        ("guest_load", vec![i(16)]),
        ("target_store", vec![i(99), i(7)]),
        ("guest_store", vec![i(200), i(9)]),
        (
            "guest_store64",
            vec![i(300), Val::I64(0x1122_3344_5566_7788)],
        ),
        ("target_grow", vec![i(2)]),
        ("target_size", vec![]),
        ("guest_size", vec![]),
        ("guest_load", vec![i(16)]),
        ("guest_load", vec![i(200)]),
        ("guest_load64", vec![i(300)]),
        ("target_load", vec![i(100)]),
        // The pages the target gained are zero (they held the guest).
        ("target_load", vec![i(page + 16)]),
        ("sum_target", vec![]),
        ("guest_grow", vec![i(1)]),
        ("guest_size", vec![]),
        ("guest_store", vec![i(page + 10), i(5)]),
        ("target_grow", vec![i(1)]),
        ("guest_load", vec![i(page + 10)]),
        ("guest_load", vec![i(16)]),
        // Past the target's maximum (5 pages): refused, nothing moves.
        ("target_grow", vec![i(2)]),
        ("target_grow", vec![i(-1)]),
        ("target_size", vec![]),
        ("guest_f64", vec![i(400), Val::F64(1.5f64.into())]),
        ("fill", vec![i(500), i(0xab), i(10)]),
        ("guest_load", vec![i(509)]),
        ("to_target", vec![i(1000), i(16), i(10)]),
        ("target_load", vec![i(1009)]),
        ("from_target", vec![i(600), i(0), i(6)]),
        ("guest_load", vec![i(605)]),
        ("init", vec![i(700), i(0), i(7)]),
        ("guest_load", vec![i(706)]),
        ("sum_target", vec![]),
        ("sum_guest", vec![]),
        // Past the end of a segment: a trap in both.
        ("init", vec![i(700), i(0), i(8)]),
    ];
    let (results, report) = same_behaviour(TWO_MEMORIES, &calls);
    assert_eq!(results[0], "guest_load -> [I32(103)]");
    assert_eq!(results[4], "target_grow -> [I32(1)]");
    assert_eq!(results[19], "target_grow -> [I32(-1)]");
    assert!(results[33].contains("trap"), "{}", results[33]);
    // The price of leaving the target's code alone: its access past the
    // end of its own memory lands in the guest's region instead of
    // trapping (documented in the module's doc and the README).
    let (single, _) = run(&wasm(TWO_MEMORIES), Order::TargetFirst).unwrap();
    let past_the_end = [("target_load", vec![i(page + 16)])];
    assert_eq!(
        run_script(&single, &past_the_end),
        ["target_load -> [I32(103)]"]
    );
    assert!(run_script(&wasm(TWO_MEMORIES), &past_the_end)[0].contains("trap"));
    // The target's functions (memory 0 only): nothing added; its
    // memory.size and memory.grow, and sum_target's, replaced 1:1.
    assert_eq!(report.memory0_added, 0);
    assert_eq!(report.memory0_replaced, 3);
    assert!(report.other_added > 0);
}

#[test]
fn the_targets_loads_and_stores_are_copied_byte_for_byte() {
    let multi = wasm(TWO_MEMORIES);
    let (single, _) = run(&multi, Order::TargetFirst).unwrap();
    let (before, after) = (
        crate::module::Module::parse("multi.wasm", &multi).unwrap(),
        crate::module::Module::parse("single.wasm", &single).unwrap(),
    );
    for name in ["target_load", "target_store"] {
        let index = before.exported_func(name).unwrap() as usize;
        assert_eq!(
            before.bodies[index].as_bytes(),
            after.bodies[index].as_bytes(),
            "{name}"
        );
    }
    let base = after.exported_func(host_api::MEMORY_BASE).unwrap();
    assert_eq!(
        after.func_type(base).unwrap().results(),
        [wasmparser::ValType::I32]
    );
}

#[test]
fn three_memories_move_in_order() {
    let wat = r#"(module
      (memory $a 1)
      (memory $b 2)
      (memory $c (export "memory") 1)
      (data (memory $b) (i32.const 65540) "b")
      (data (memory $c) (i32.const 5) "c")
      (func (export "grow_a") (param i32) (result i32) (memory.grow $a (local.get 0)))
      (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
      (func (export "b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
      (func (export "c") (param i32) (result i32) (i32.load8_u $c (local.get 0)))
      (func (export "base") (result i32) (i32.const 0)))"#;
    let calls = vec![
        ("b", vec![i(65540)]),
        ("c", vec![i(5)]),
        ("grow_b", vec![i(3)]),
        ("c", vec![i(5)]),
        ("b", vec![i(65540)]),
        ("b", vec![i(3 * 65536)]),
        ("grow_a", vec![i(1)]),
        ("b", vec![i(65540)]),
        ("c", vec![i(5)]),
    ];
    let (results, _) = same_behaviour(wat, &calls);
    assert_eq!(results[8], "c -> [I32(99)]");
    let (single, _) = run(&wasm(wat), Order::TargetFirst).unwrap();
    let exported_base = run_script(&single, &[(host_api::MEMORY_BASE, vec![])]);
    assert_eq!(
        exported_base,
        [format!("{} -> [I32({})]", host_api::MEMORY_BASE, 3 * 65536)]
    );
}

#[test]
fn what_cannot_be_laid_out_is_refused() {
    let atomic = wasm(
        r#"(module (memory 1) (memory 1 1 shared)
          (func (param i32) (result i32) (i32.atomic.load 1 (local.get 0))))"#,
    );
    let err = run(&atomic, Order::TargetFirst).unwrap_err().to_string();
    assert!(err.contains("shared memory"), "{err}");
    let atomic = wasm(
        r#"(module (memory 1) (memory 1)
          (func (param i32) (result i32) (i32.atomic.load 1 (local.get 0))))"#,
    );
    let err = run(&atomic, Order::TargetFirst).unwrap_err().to_string();
    assert!(err.contains("atomic access to memory 1"), "{err}");
    let other_export = wasm(r#"(module (memory 1) (memory (export "heap") 1))"#);
    let err = run(&other_export, Order::TargetFirst)
        .unwrap_err()
        .to_string();
    assert!(err.contains("exports memory 1 as `heap`"), "{err}");
    let dynamic_offset = wasm(
        r#"(module (import "env" "g" (global $g i32)) (memory 1) (memory 1)
          (data (memory 1) (global.get $g) "x"))"#,
    );
    let err = run(&dynamic_offset, Order::TargetFirst)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a constant"), "{err}");
}

#[test]
fn a_merged_target_that_grows_keeps_the_guests_data_in_place() {
    use crate::passes::fixtures::Fixture;
    // The target grows by 3 pages at instantiation, after the guest's
    // data segment landed: the guest's memory moves up, then the
    // target writes through the guest as in the plain fixture.
    let built = Fixture {
        target_items: "(func $grow (drop (memory.grow (i32.const 3)))) (start $grow)".into(),
        ..Fixture::default()
    }
    .build();
    let multi = built.parse().merge().unwrap();
    let (single, report) = run(&multi, Order::TargetFirst).unwrap();
    assert_eq!(report.memory0_added, 0);
    assert_eq!(report.memory0_replaced, 1, "the target's memory.grow");
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &single).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    let call = |store: &mut wasmi::Store<()>, name: &str| {
        instance
            .get_typed_func::<(), i32>(&*store, name)
            .unwrap()
            .call(store, ())
            .unwrap()
    };
    instance
        .get_typed_func::<(), ()>(&store, "run")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_eq!(call(&mut store, "written"), 9);
    let base = call(&mut store, host_api::MEMORY_BASE) as usize;
    assert_eq!(base, 5 * 65536, "the target's 2 pages, grown by 3");
    let memory = instance.get_memory(&store, "memory").unwrap();
    let data = memory.data(&store);
    assert_eq!(&data[base + 16..base + 21], b"hello");
    assert_eq!(&data[base + 1000..base + 1010], b"guest data");
    assert_eq!(&data[2 * 65536..base], &vec![0; 3 * 65536][..]);
}

#[test]
fn one_memory_is_left_alone() {
    let bytes = wasm(r#"(module (memory (export "memory") 1))"#);
    let (out, report) = run(&bytes, Order::TargetFirst).unwrap();
    assert_eq!(out, bytes);
    assert_eq!(report.memories, 1);
}
