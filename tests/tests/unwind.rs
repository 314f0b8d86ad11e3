//! Guests that stay in control of their targets, end to end:
//! `wrap_unreachable!` (a target's `proc_exit` and traps come back to the
//! guest with an exit code), `app::reset()` (one instance runs a target
//! again and again), several targets in one output, reactors.
//!
//! Every output runs with nothing linked: in wasmi (flags only: wasmi has no
//! exception handling), in Node ≥ 22 (both strategies) and, through
//! `wasmtime run --invoke`, in the wasmtime CLI (both strategies). Where a
//! program can also run on its own, its output is compared with the same
//! program under wasmtime with real host WASI.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wasi_virt_abi::names::host_api;
use wasi_virt_tests::tools::{self, is_ci};
use wasi_virt_tests::{Outcome, Tool, have, repo_root, run_in_node, run_in_wasmi, wasi_virt_bin};
use wasi_virt_tests::{run_in_wasmtime_host, wasm_example};

/// The exit code an `unreachable` unwinds with.
const TRAP: i32 = 134;

const STRATEGIES: [&str; 2] = ["flags", "exceptions"];

fn example(name: &str) -> PathBuf {
    wasm_example(name, "wasm32-wasip1")
}

/// A merged module in a folder that lives as long as it does.
struct Merged {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Merged {
    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
}

/// `wasi-virt merge GUEST TARGET… --unwind STRATEGY`; the merge must work.
fn merge(guest: &Path, targets: &[&OsStr], strategy: &str) -> Merged {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wasm");
    let out = Command::new(wasi_virt_bin())
        .arg("merge")
        .arg(guest)
        .args(targets)
        .args(["--unwind", strategy, "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "merge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Merged { _dir: dir, path }
}

/// A target given as WAT text, written to a file.
fn wat_target(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

/// `runner-guest` merged with `target`.
fn runner_with(target: &Path, strategy: &str) -> Merged {
    merge(&example("runner-guest"), &[target.as_os_str()], strategy)
}

/// An instance in wasmi with nothing linked, driven through the host API.
struct Wasmi {
    store: wasmi::Store<()>,
    instance: wasmi::Instance,
}

impl Wasmi {
    fn new(module: &wasmi::Module) -> Wasmi {
        let mut store = wasmi::Store::new(module.engine(), ());
        let instance = wasmi::Linker::<()>::new(module.engine())
            .instantiate_and_start(&mut store, module)
            .expect("instantiates with nothing linked");
        Wasmi { store, instance }
    }

    fn compile(bytes: &[u8]) -> wasmi::Module {
        wasmi::Module::new(&wasmi::Engine::default(), bytes).unwrap()
    }

    fn call<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &mut self,
        name: &str,
        params: P,
    ) -> Result<R, wasmi::Error> {
        self.instance
            .get_typed_func::<P, R>(&self.store, name)
            .unwrap_or_else(|e| panic!("no export {name}: {e}"))
            .call(&mut self.store, params)
    }

    /// Copies `bytes` into the guest's memory.
    fn put(&mut self, bytes: &[u8]) -> (i32, i32) {
        let ptr: i32 = self.call(host_api::ALLOC, bytes.len() as i32).unwrap();
        let memory = self.instance.get_memory(&self.store, "memory").unwrap();
        memory.write(&mut self.store, ptr as usize, bytes).unwrap();
        (ptr, bytes.len() as i32)
    }

    fn set_list(&mut self, export: &str, items: &[String]) {
        let bytes: Vec<u8> = items.iter().flat_map(|s| s.bytes().chain([0])).collect();
        let list = self.put(&bytes);
        assert_eq!(self.call::<_, i32>(export, list).unwrap(), 0, "{export}");
    }

    fn write_file(&mut self, path: &str, contents: &str) {
        let path = self.put(path.as_bytes());
        let contents = self.put(contents.as_bytes());
        let errno: i32 = self
            .call(
                host_api::WRITE_FILE,
                (path.0, path.1, contents.0, contents.1),
            )
            .unwrap();
        assert_eq!(errno, 0, "wasi_virt_write_file");
    }

    fn captured(&mut self, ptr: &str, len: &str) -> Vec<u8> {
        let ptr: i32 = self.call(ptr, ()).unwrap();
        let len: i32 = self.call(len, ()).unwrap();
        let memory = self.instance.get_memory(&self.store, "memory").unwrap();
        memory.data(&self.store)[ptr as usize..(ptr + len) as usize].to_vec()
    }

    /// `runner_run`, and what the run printed.
    fn run(&mut self) -> Outcome {
        let (exit_code, trap) = match self.call::<(), i32>("runner_run", ()) {
            Ok(code) => (Some(code), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Outcome {
            exit_code,
            trap,
            stdout: self.captured(host_api::STDOUT_PTR, host_api::STDOUT_LEN),
            stderr: self.captured(host_api::STDERR_PTR, host_api::STDERR_LEN),
        }
    }
}

/// `_start` of runner-guest in wasmi with the program's arguments `args`.
fn wasmi_once(merged: &Merged, args: &[&str]) -> Outcome {
    let module = Wasmi::compile(&merged.bytes());
    let mut w = Wasmi::new(&module);
    let mut list = vec!["app".to_string()];
    list.extend(args.iter().map(|a| a.to_string()));
    w.set_list(host_api::SET_ARGS, &list);
    let trap = w.call::<(), ()>("_start", ()).err().map(|e| e.to_string());
    let code: i32 = w.call(host_api::EXIT_CODE, ()).unwrap();
    Outcome {
        exit_code: (code >= 0).then_some(code),
        trap: if code >= 0 { None } else { trap },
        stdout: w.captured(host_api::STDOUT_PTR, host_api::STDOUT_LEN),
        stderr: w.captured(host_api::STDERR_PTR, host_api::STDERR_LEN),
    }
}

/// `tests/node/runner.mjs MODULE ARGS…`: its JSON line.
fn node_runner(merged: &Merged, args: &[&str]) -> serde_json::Value {
    let node = tools::node22().expect("checked with have()");
    let out = Command::new(node)
        .arg(repo_root().join("tests/node/runner.mjs"))
        .arg(&merged.path)
        .args(args)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!(
            "runner.mjs printed {line:?} ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(value.get("error").is_none(), "runner.mjs: {value}");
    value
}

/// runner-guest's `_start` in Node with the program's arguments `args`.
fn node_once(merged: &Merged, args: &[&str]) -> Outcome {
    let mut all = vec!["once"];
    all.extend_from_slice(args);
    let v = node_runner(merged, &all);
    Outcome {
        exit_code: v["code"].as_i64().map(|c| c as i32),
        trap: v["trap"].as_str().map(str::to_owned),
        stdout: v["stdout"].as_str().unwrap().into(),
        stderr: v["stderr"].as_str().unwrap().into(),
    }
}

/// `wasmtime run --invoke FUNC MODULE`: the value the function returns.
fn wasmtime_invoke(merged: &Merged, func: &str) -> String {
    let wasmtime = tools::wasmtime_cli().expect("checked with have()");
    let out = Command::new(wasmtime)
        .args([
            "run",
            "-W",
            "exceptions=y,function-references=y,gc=y",
            "--invoke",
            func,
        ])
        .arg(&merged.path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wasmtime failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The outcome of `unwind-app ARGS…` under wasmtime with host WASI: what
/// runner-guest must give back, plus its report line and with the trap
/// turned into exit code 134.
fn reference(args: &[&str]) -> Outcome {
    let mut outcome = run_in_wasmtime_host(&example("unwind-app"), &[], args, &[]).unwrap();
    if outcome.trap.take().is_some() {
        outcome.exit_code = Some(TRAP);
    }
    let code = outcome.exit_code.unwrap();
    outcome
        .stderr
        .extend_from_slice(format!("runner: app exited with code {code}\n").as_bytes());
    outcome
}

/// runner-guest + unwind-app with `args`: the same outcome as the program
/// under wasmtime, in wasmi and in Node, under both strategies.
fn check_unwind_app(args: &[&str], code: i32) {
    let flags = runner_with(&example("unwind-app"), "flags");
    let outcome = wasmi_once(&flags, args);
    assert_eq!(outcome.exit_code, Some(code), "{outcome:?}");
    // The wasmtime CLI refuses to exit with a status of 126 or more (the
    // shell's range for "not run"), so there is no reference for those.
    if code < 126 && have(Tool::Wasmtime) {
        assert_eq!(outcome, reference(args));
    }
    if have(Tool::Node22) {
        for strategy in STRATEGIES {
            let merged = runner_with(&example("unwind-app"), strategy);
            assert_eq!(node_once(&merged, args), outcome, "{strategy}");
        }
    }
}

#[test]
fn exit_code_0_comes_back_to_the_guest() {
    check_unwind_app(&["exit", "0"], 0);
}

#[test]
fn exit_code_1_comes_back_to_the_guest() {
    check_unwind_app(&["exit", "1"], 1);
}

#[test]
fn exit_code_255_comes_back_to_the_guest() {
    check_unwind_app(&["exit", "255"], 255);
}

#[test]
fn a_program_that_returns_has_exit_code_0() {
    check_unwind_app(&["ok"], 0);
}

#[test]
fn a_rust_panic_unwinds_with_code_134() {
    check_unwind_app(&["panic", "on purpose"], TRAP);
    // With no command, unwind-app panics too: the case wasmtime can run,
    // since `--invoke` passes no arguments to the program.
    if have(Tool::Wasmtime) {
        for strategy in STRATEGIES {
            let merged = runner_with(&example("unwind-app"), strategy);
            assert_eq!(wasmtime_invoke(&merged, "runner_run"), "134", "{strategy}");
        }
    }
}

/// `examples/c-trap/main.c`, built with clang and wasi-libc, if they are
/// installed (`cargo xtask setup` installs them on CI).
fn c_trap() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("c-trap.wasm");
            let status = Command::new("clang")
                .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2"])
                .arg(repo_root().join("examples/c-trap/main.c"))
                .arg("-o")
                .arg(&out)
                .status();
            match status {
                Ok(s) if s.success() => Some((dir, out)),
                other => {
                    let missing = format!(
                        "clang with wasi-libc cannot build examples/c-trap ({other:?}): run `cargo xtask setup`"
                    );
                    assert!(!is_ci(), "{missing}");
                    eprintln!("note: skipping a test: {missing}");
                    None
                }
            }
        })
        .as_ref()
        .map(|(_, path)| path.clone())
}

fn check_c_trap(args: &[&str]) {
    let Some(c) = c_trap() else { return };
    let flags = runner_with(&c, "flags");
    let outcome = wasmi_once(&flags, args);
    let command = args.first().copied().unwrap_or("abort");
    let expected = Outcome {
        exit_code: Some(TRAP),
        trap: None,
        stdout: format!("c-trap: {command}\n").into(),
        stderr: "runner: app exited with code 134\n".into(),
    };
    assert_eq!(outcome, expected);
    if have(Tool::Wasmtime) {
        let mut host = run_in_wasmtime_host(&c, &[], args, &[]).unwrap();
        assert!(host.trap.take().is_some(), "{host:?}");
        assert_eq!(host.stdout, expected.stdout);
        for strategy in STRATEGIES {
            let merged = runner_with(&c, strategy);
            assert_eq!(wasmtime_invoke(&merged, "runner_run"), "134", "{strategy}");
        }
    }
    if have(Tool::Node22) {
        for strategy in STRATEGIES {
            let merged = runner_with(&c, strategy);
            assert_eq!(node_once(&merged, args), expected, "{strategy}");
        }
    }
}

#[test]
fn a_c_abort_unwinds_with_code_134() {
    check_c_trap(&[]);
}

#[test]
fn a_c_builtin_trap_unwinds_with_code_134() {
    check_c_trap(&["trap"]);
}

/// A WAT target for runner-guest: writes "before", reaches an end through
/// `CALL`, and writes "after" if control ever comes back.
fn call_form_target(call: &str, die: &str, extra: &str) -> String {
    format!(
        r#"(module
  (type $end (func (param i32) (result i32 i64 f32 f64 funcref externref)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\07\00\00\00")
  (data (i32.const 16) "before\n")
  (data (i32.const 32) "\28\00\00\00\06\00\00\00")
  (data (i32.const 40) "after\n")
  (table 2 funcref)
  (elem (i32.const 0) $die $mid)
  (elem declare func $die $mid)
  (func $die (type $end) {die})
  (func $mid (type $end) (return_call $die (local.get 0)))
  (func $mid_indirect (type $end)
    (return_call_indirect (type $end) (local.get 0) (i32.const 0)))
  {extra}
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 24)))
    {call}
    drop drop drop drop drop drop
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 24)))))"#
    )
}

/// `$mid_ref`, for the typed function references proposal (`call_ref`,
/// `return_call_ref`), which wasmi does not have.
const MID_REF: &str =
    "(func $mid_ref (type $end) (return_call_ref $end (local.get 0) (ref.func $die)))";

/// runner-guest + a WAT target: the program's output and exit code, in
/// wasmi (flags), Node and wasmtime (both strategies).
fn check_call_form(call: &str, die: &str, code: i32) {
    check_call_form_in(call, die, "", code, true);
}

/// [`check_call_form`] with `extra` target items, in wasmi if `wasmi`.
fn check_call_form_in(call: &str, die: &str, extra: &str, code: i32, wasmi: bool) {
    let dir = tempfile::tempdir().unwrap();
    let target = wat_target(dir.path(), "app", &call_form_target(call, die, extra));
    let expected = Outcome {
        exit_code: Some(code),
        trap: None,
        stdout: "before\n".into(),
        stderr: format!("runner: app exited with code {code}\n").into(),
    };
    if wasmi {
        let flags = runner_with(&target, "flags");
        assert_eq!(wasmi_once(&flags, &[]), expected);
    }
    for strategy in STRATEGIES {
        let merged = runner_with(&target, strategy);
        if have(Tool::Node22) {
            assert_eq!(node_once(&merged, &[]), expected, "{strategy}");
        }
        if have(Tool::Wasmtime) {
            assert_eq!(
                wasmtime_invoke(&merged, "runner_run"),
                code.to_string(),
                "{strategy}"
            );
        }
    }
}

const EXIT_42: &str = "(call $exit (i32.const 42)) unreachable";
const TRAPS: &str = "(drop (call $leaf (local.get 0))) unreachable";

#[test]
fn proc_exit_unwinds_through_call_indirect() {
    check_call_form(
        "(call_indirect (type $end) (i32.const 5) (i32.const 0))",
        EXIT_42,
        42,
    );
}

#[test]
fn a_trap_unwinds_through_call_indirect() {
    check_call_form(
        "(call_indirect (type $end) (i32.const 5) (i32.const 0))",
        TRAPS,
        TRAP,
    );
}

#[test]
fn proc_exit_unwinds_through_return_call() {
    check_call_form("(call $mid (i32.const 5))", EXIT_42, 42);
}

#[test]
fn a_trap_unwinds_through_call_indirect_then_return_call() {
    check_call_form(
        "(call_indirect (type $end) (i32.const 5) (i32.const 1))",
        TRAPS,
        TRAP,
    );
}

#[test]
fn proc_exit_unwinds_through_return_call_indirect() {
    check_call_form("(call $mid_indirect (i32.const 5))", EXIT_42, 42);
}

#[test]
fn proc_exit_unwinds_through_return_call_ref() {
    check_call_form_in("(call $mid_ref (i32.const 5))", EXIT_42, MID_REF, 42, false);
}

#[test]
fn a_trap_unwinds_through_call_ref_with_multi_value_and_reference_results() {
    check_call_form_in(
        "(call_ref $end (i32.const 5) (ref.func $mid))",
        TRAPS,
        "",
        TRAP,
        false,
    );
}

/// The WAT target of nested-guest: `_start` asks for random bytes three
/// times; each time the guest calls back into `callback(len)`, a nested
/// entry, and writes how it ended. `callback(7)` exits with 7,
/// `callback(1)` traps, `callback(107)` itself asks for random bytes (a
/// third level: `callback(7)`), then exits with 200 + what it got. `_start`
/// then exits with 7 only if each level saw the right code.
const NESTED_TARGET: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $end (param i32)
    (if (i32.eq (local.get 0) (i32.const 1)) (then unreachable))
    (call $exit (local.get 0))
    unreachable)
  (func (export "callback") (param i32) (result i32)
    (if (i32.ge_u (local.get 0) (i32.const 100))
      (then
        (drop (call $random (i32.const 64) (i32.sub (local.get 0) (i32.const 100))))
        (call $end (i32.add (i32.const 200) (i32.load (i32.const 64))))))
    (call $end (local.get 0))
    (i32.const 77))
  (func (export "_start")
    (drop (call $random (i32.const 0) (i32.const 7)))
    (drop (call $random (i32.const 16) (i32.const 1)))
    (drop (call $random (i32.const 32) (i32.const 107)))
    (call $exit
      (i32.add
        (i32.eq (i32.load (i32.const 0)) (i32.const 7))
        (i32.add
          (i32.shl (i32.eq (i32.load (i32.const 16)) (i32.const 134)) (i32.const 1))
          (i32.shl (i32.eq (i32.load (i32.const 32)) (i32.const 207)) (i32.const 2)))))
    unreachable))"#;

#[test]
fn nested_entries_unwind_to_their_own_call() {
    let dir = tempfile::tempdir().unwrap();
    let target = wat_target(dir.path(), "app", NESTED_TARGET);
    let expected = Outcome {
        exit_code: Some(7),
        trap: None,
        stdout: Vec::new(),
        stderr: "nested-guest: app exited with code 7\n".into(),
    };
    let guest = example("nested-guest");
    let flags = merge(&guest, &[target.as_os_str()], "flags");
    assert_eq!(run_in_wasmi(&flags.bytes(), "_start").unwrap(), expected);
    if have(Tool::Node22) {
        for strategy in STRATEGIES {
            let merged = merge(&guest, &[target.as_os_str()], strategy);
            assert_eq!(run_in_node(&merged.path).unwrap(), expected, "{strategy}");
        }
    }
}

/// What run `i` of the re-run test gives the program; the same as
/// `inputs(i)` in tests/node/runner.mjs.
fn rerun_inputs(i: usize) -> (Vec<String>, Vec<String>, Option<String>) {
    let mut words = vec!["echo".to_string(), format!("run{i}")];
    for w in 0..i % 5 {
        words.push("x".repeat((i * 7 + w) % 13 + 1));
    }
    let mut args = vec!["app".to_string()];
    args.extend(words);
    let mut env = vec![format!("RUN={i}")];
    if i % 10 == 7 {
        env.push("END=panic".into());
    }
    if i % 10 == 8 {
        env.push(format!("END=exit:{}", i % 256));
    }
    let file = (i % 4 != 3).then(|| format!("input of run {i}"));
    (args, env, file)
}

fn set_up(w: &mut Wasmi, i: usize) {
    let (args, env, file) = rerun_inputs(i);
    w.set_list(host_api::SET_ARGS, &args);
    w.set_list(host_api::SET_ENV, &env);
    if let Some(file) = file {
        w.write_file("/data/in.txt", &file);
    }
}

/// One instance runs unwind-app 1,000 times, each run with other arguments,
/// environment and input file, some runs exiting or panicking halfway; each
/// run's output equals a fresh instance's for the same inputs.
#[test]
fn a_target_runs_1000_times_in_one_instance() {
    let merged = runner_with(&example("unwind-app"), "flags");
    let module = Wasmi::compile(&merged.bytes());
    let mut shared = Wasmi::new(&module);
    let mut codes = std::collections::BTreeSet::new();
    for i in 0..1000 {
        shared.call::<(), ()>(host_api::CLEAR, ()).unwrap();
        shared.call::<(), ()>("runner_reset", ()).unwrap();
        set_up(&mut shared, i);
        let again = shared.run();
        let mut fresh = Wasmi::new(&module);
        set_up(&mut fresh, i);
        let first = fresh.run();
        assert_eq!(again, first, "run {i}");
        codes.insert(first.exit_code);
    }
    // The runs ended in every way: returning, exiting, panicking.
    assert!(codes.contains(&Some(0)) && codes.contains(&Some(TRAP)) && codes.len() > 3);
}

/// The same in Node, under both strategies (tests/node/runner.mjs).
#[test]
fn a_target_runs_1000_times_in_one_instance_in_node() {
    if !have(Tool::Node22) {
        return;
    }
    for strategy in STRATEGIES {
        let merged = runner_with(&example("unwind-app"), strategy);
        let result = node_runner(&merged, &["reruns", "1000"]);
        assert_eq!(result["equal"], 1000, "{strategy}: {result}");
    }
}

/// `runner_reset_keep_files`: the program and its fds start afresh, the
/// files it wrote stay.
#[test]
fn reset_closes_fds_but_keeps_files() {
    let merged = runner_with(&example("unwind-app"), "flags");
    let module = Wasmi::compile(&merged.bytes());
    let mut w = Wasmi::new(&module);
    let args = |text: &str| {
        ["app", "write", "/data/log.txt", text]
            .map(String::from)
            .to_vec()
    };
    w.set_list(host_api::SET_ARGS, &args("one"));
    assert_eq!(w.run().exit_code, Some(0));
    w.call::<(), ()>("runner_reset_keep_files", ()).unwrap();
    w.set_list(
        host_api::SET_ARGS,
        &["app", "cat", "/data/log.txt"].map(String::from),
    );
    w.call::<(), ()>(host_api::CLEAR, ()).unwrap();
    let outcome = w.run();
    assert_eq!(outcome.exit_code, Some(0));
    // `write` left its fd 4 open; after the reset, `cat` gets fd 4 again.
    assert_eq!(outcome.stdout_text(), "opened /data/log.txt as fd 4\none\n");
}

/// Two targets from one file, bound by name, share the filesystem: what
/// `writer` writes, `reader` reads; each has its own fds (both get fd 4).
#[test]
fn two_targets_share_a_file() {
    let app = example("unwind-app");
    let writer = format!("writer={}", app.display());
    let reader = format!("reader={}", app.display());
    let expected = Outcome {
        exit_code: Some(0),
        trap: None,
        stdout: "wrote 17 bytes to /data/msg.txt as fd 4\nopened /data/msg.txt as fd 4\nhello from writer\n".into(),
        stderr: "pair-guest: writer exited with 0, reader with 0\n".into(),
    };
    let guest = example("pair-guest");
    for strategy in STRATEGIES {
        let merged = merge(&guest, &[writer.as_ref(), reader.as_ref()], strategy);
        if strategy == "flags" {
            assert_eq!(run_in_wasmi(&merged.bytes(), "_start").unwrap(), expected);
        }
        if have(Tool::Node22) {
            assert_eq!(run_in_node(&merged.path).unwrap(), expected, "{strategy}");
        }
        // Each target keeps its own memory: two targets, two memories,
        // then the guest's.
        let out = std::fs::read(&merged.path).unwrap();
        let memories = wasmparser::Parser::new(0)
            .parse_all(&out)
            .find_map(|p| match p.unwrap() {
                wasmparser::Payload::MemorySection(s) => Some(s.count()),
                _ => None,
            });
        assert_eq!(memories, Some(3));
    }
}

/// A reactor (`_initialize` and `add`, no `_start`): called, a call that
/// panics comes back with a zero result and code 134, reset works.
#[test]
fn a_reactor_is_called_survives_a_panic_and_resets() {
    let guest = example("reactor-guest");
    let lib = example("adder-lib");
    let stdout = "\
reactor says (call 1): 2 + 3
guest: add(2, 3) = 5
reactor says (call 2): 2147483647 + 1
guest: add(i32::MAX, 1) = 0, exit code Some(134)
reactor says (call 1): 40 + 2
guest: after reset, add(40, 2) = 42
";
    for strategy in STRATEGIES {
        let merged = merge(&guest, &[lib.as_os_str()], strategy);
        let outcome = if strategy == "flags" {
            run_in_wasmi(&merged.bytes(), "_start").unwrap()
        } else if have(Tool::Node22) {
            run_in_node(&merged.path).unwrap()
        } else {
            continue;
        };
        assert_eq!(outcome.exit_code, Some(0), "{strategy}: {outcome:?}");
        assert_eq!(outcome.stdout_text(), stdout, "{strategy}");
        assert!(
            outcome.stderr_text().contains("add overflowed"),
            "{strategy}"
        );
    }
}

/// `inspect` says which targets a merged module holds and how the guest
/// controls them.
#[test]
fn inspect_reports_the_merged_targets() {
    let app = example("unwind-app");
    let writer = format!("writer={}", app.display());
    let reader = format!("reader={}", app.display());
    let merged = merge(
        &example("pair-guest"),
        &[writer.as_ref(), reader.as_ref()],
        "exceptions",
    );
    let out = Command::new(wasi_virt_bin())
        .arg("inspect")
        .arg(&merged.path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("imports: none"), "{text}");
    assert!(text.contains("targets (2):"), "{text}");
    assert!(
        text.contains(&format!(
            "  writer from {}  [wrap_unreachable, --unwind exceptions]",
            app.display()
        )),
        "{text}"
    );
}
