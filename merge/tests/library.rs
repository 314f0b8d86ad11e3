//! The library as a `build.rs` or a bundler plugin uses it: bytes in, bytes
//! out, errors as values, nothing printed or written. The outputs run in
//! wasmi with an empty import object.

use wasi_virt_merge::{
    Format, Input, Mount, Options, Order, PackConfig, StreamMode, TargetInput, inspect, merge, pack,
};

/// A program that writes its first environment variable's value and a
/// newline to stdout, then exits with 3.
const APP: &str = r#"(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $p i32) (local $n i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (drop (call $environ (i32.const 16) (i32.const 64)))
    ;; The first entry, KEY=VALUE: skip to after `=`.
    (local.set $p (i32.load (i32.const 16)))
    (block $found (loop $scan
      (br_if $found (i32.eq (i32.load8_u (local.get $p)) (i32.const 61)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $scan)))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    ;; Its length, up to the NUL; a newline in its place.
    (block $end (loop $len
      (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $len)))
    (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 10))
    (i32.store (i32.const 32) (local.get $p))
    (i32.store (i32.const 36) (i32.add (local.get $n) (i32.const 1)))
    (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))
    (call $exit (i32.const 3))))"#;

/// Runs `_start` of `wasm` with nothing linked; its stdout and exit code
/// (`proc_exit` records the code and traps, as `pack`'s virtual exit does).
fn run(wasm: &[u8]) -> (Vec<u8>, i32) {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).expect("the output compiles");
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .expect("the output imports nothing");
    let call = |store: &mut wasmi::Store<()>, name: &str| {
        instance
            .get_typed_func::<(), i32>(&*store, name)
            .unwrap()
            .call(store, ())
            .unwrap()
    };
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let _trapped_at_exit = start.call(&mut store, ());
    let (ptr, len) = (
        call(&mut store, "wasi_virt_stdout_ptr"),
        call(&mut store, "wasi_virt_stdout_len"),
    );
    // A single-memory output says where the guest's addresses start.
    let base = match instance.get_typed_func::<(), i32>(&store, "wasi_virt_memory_base") {
        Ok(_) => call(&mut store, "wasi_virt_memory_base"),
        Err(_) => 0,
    };
    let (start, end) = ((base + ptr) as usize, (base + ptr + len) as usize);
    let memory = instance.get_memory(&store, "memory").unwrap();
    let stdout = memory.data(&store)[start..end].to_vec();
    (stdout, call(&mut store, "wasi_virt_exit_code"))
}

#[test]
fn pack_bakes_in_the_environment_and_the_output_runs_with_nothing_linked() {
    let app = wat::parse_str(APP).unwrap();
    let mut config = PackConfig::new("app.wasm");
    config.env.push("GREETING=hello from the library".into());
    let packed = pack(Input::new("app.wasm", &app), &config, &Options::default()).unwrap();
    assert_eq!(run(&packed.wasm), (b"hello from the library\n".to_vec(), 3));
    assert!(packed.report.pack.is_some());

    // The same through one memory.
    let options = Options {
        single_memory: Some(Order::TargetFirst),
        ..Options::default()
    };
    let single = pack(Input::new("app.wasm", &app), &config, &options).unwrap();
    assert!(single.report.single_memory.is_some());
    assert_eq!(run(&single.wasm), (b"hello from the library\n".to_vec(), 3));

    // What inspect says of it.
    let text = inspect(Input::new("out.wasm", &packed.wasm), Format::Text).unwrap();
    assert!(text.contains("imports: none"), "{text}");
}

#[test]
fn pack_is_reproducible_and_inputs_are_untouched() {
    let app = wat::parse_str(APP).unwrap();
    let before = app.clone();
    let mut config = PackConfig::new("app.wasm");
    config.env.push("K=V".into());
    config.mounts.push(Mount::parse("/tmp").unwrap());
    config.modes.stdio[2] = StreamMode::Ignore;
    let a = pack(Input::new("app.wasm", &app), &config, &Options::default()).unwrap();
    let b = pack(Input::new("app.wasm", &app), &config, &Options::default()).unwrap();
    assert_eq!(a.wasm, b.wasm);
    assert_eq!(app, before);
}

#[test]
fn bad_inputs_are_error_values() {
    let config = PackConfig::new("app.wasm");
    let err = pack(
        Input::new("app.wasm", b"not wasm"),
        &config,
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("app.wasm"), "{err}");
    let app = wat::parse_str(APP).unwrap();
    let mut config = PackConfig::new("app.wasm");
    config.env.push("NOVALUE".into());
    let err = pack(Input::new("app.wasm", &app), &config, &Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--env NOVALUE: expected KEY=VALUE with a non-empty KEY"
    );

    // A module with no manifest is no guest.
    let guest = wat::parse_str("(module (memory (export \"memory\") 1))").unwrap();
    let target = TargetInput {
        target: None,
        input: Input::new("app.wasm", &app),
    };
    let err = merge(Input::new("g.wasm", &guest), &[target], &Options::default()).unwrap_err();
    assert!(err.to_string().starts_with("g.wasm"), "{err}");
}
