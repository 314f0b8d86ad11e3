//! Tests of the harness itself: the reference run under wasmtime, and the
//! import-free runs in wasmi and Node on hand-written modules whose outcome
//! is known.

use std::fs;

use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_node, run_in_wasmi, run_in_wasmtime_host,
    wasm_example,
};

/// A writable copy of `examples/site` (demo-app writes `/out/notes.txt`).
fn site_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("cannot create a temporary folder");
    copy_dir_all(&repo_root().join("examples/site"), dir.path()).expect("cannot copy the site");
    dir
}

/// demo-app with `/` = a copy of the site; stdout, stderr and exit code as
/// the program is written to print them.
#[test]
fn demo_app_under_wasmtime_host() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let app = wasm_example("demo-app", "wasm32-wasip1");
    let site = site_copy();
    let outcome = run_in_wasmtime_host(
        &app,
        &[(site.path(), "/")],
        &["one", "two words"],
        &[("GREETING", "hello"), ("COLOR", "blue")],
    )
    .unwrap();
    let expected_stdout = "\
== args
one
two words
== env
COLOR=blue
GREETING=hello
== tree /
/docs/
/docs/faq.txt
/docs/guide.txt
/hello.txt
== read /hello.txt
Hello from the site folder!
== write /out/notes.txt
first line
second line, appended
== stat
/docs/guide.txt: file, 59 bytes
/docs: dir
/out/notes.txt: file, 33 bytes
/missing.txt: error: No such file or directory (os error 44)
";
    assert_eq!(
        outcome,
        Outcome {
            exit_code: Some(3),
            trap: None,
            stdout: expected_stdout.into(),
            stderr: "demo-app: exiting with code 3\n".into(),
        }
    );
    assert_eq!(
        fs::read_to_string(site.path().join("out/notes.txt")).unwrap(),
        "first line\nsecond line, appended\n"
    );
}

/// The exit code comes from the last argument when `EXIT_CODE` is unset,
/// and `EXIT_CODE` wins over it.
#[test]
fn demo_app_exit_code_from_argument_and_env() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let app = wasm_example("demo-app", "wasm32-wasip1");
    let site = site_copy();
    let dirs = [(site.path(), "/")];
    let from_arg = run_in_wasmtime_host(&app, &dirs, &["42"], &[]).unwrap();
    assert_eq!(from_arg.exit_code, Some(42), "{from_arg:?}");
    let from_env = run_in_wasmtime_host(&app, &dirs, &["42"], &[("EXIT_CODE", "0")]).unwrap();
    assert_eq!(from_env.exit_code, Some(0), "{from_env:?}");
    assert_eq!(from_env.stderr_text(), "demo-app: exiting with code 0\n");
}

/// A stand-in for a merged module: two memories (the target's, 0, and the
/// guest's, 1, exported as `memory`), `_start`, and the host API. `_start`
/// copies "hello from the target\n" from memory 0 into the guest's stdout
/// buffer with one cross-memory `memory.copy`, then runs `end`.
fn fake_merged_module(end: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (memory $target 1)
  (memory $guest 1)
  (export "memory" (memory $guest))
  (data (memory $target) (i32.const 0) "hello from the target\n")
  (data (memory $guest) (i32.const 64) "and one line on stderr\n")
  (global $exit_code (mut i32) (i32.const -1))
  (global $stdout_len (mut i32) (i32.const 0))
  (func (export "_start")
    (memory.copy $guest $target (i32.const 16) (i32.const 0) (i32.const 22))
    (global.set $stdout_len (i32.const 22))
    {end})
  (func (export "wasi_virt_exit_code") (result i32) (global.get $exit_code))
  (func (export "wasi_virt_stdout_ptr") (result i32) (i32.const 16))
  (func (export "wasi_virt_stdout_len") (result i32) (global.get $stdout_len))
  (func (export "wasi_virt_stderr_ptr") (result i32) (i32.const 64))
  (func (export "wasi_virt_stderr_len") (result i32) (i32.const 23)))"#
    ))
    .expect("invariant: the fixture is valid WAT")
}

/// `_start` sets exit code 7 and returns.
const END_EXIT_7: &str = "(global.set $exit_code (i32.const 7))";
/// `_start` returns without an exit code.
const END_RETURN: &str = "";
/// `proc_exit(5)` as the runtime does it for now: set the code, then trap.
const END_PROC_EXIT_5: &str = "(global.set $exit_code (i32.const 5)) unreachable";
/// A real trap: no exit code.
const END_TRAP: &str = "unreachable";

fn expected(exit_code: Option<i32>) -> Outcome {
    Outcome {
        exit_code,
        trap: None,
        stdout: b"hello from the target\n".to_vec(),
        stderr: b"and one line on stderr\n".to_vec(),
    }
}

/// Runs `fake_merged_module(end)` in Node from a temporary file.
fn node_outcome(end: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.wasm");
    fs::write(&path, fake_merged_module(end)).unwrap();
    run_in_node(&path).unwrap()
}

#[test]
fn wasmi_exit_code_and_stdio() {
    let outcome = run_in_wasmi(&fake_merged_module(END_EXIT_7), "_start").unwrap();
    assert_eq!(outcome, expected(Some(7)));
}

#[test]
fn wasmi_return_without_exit_code_is_zero() {
    let outcome = run_in_wasmi(&fake_merged_module(END_RETURN), "_start").unwrap();
    assert_eq!(outcome, expected(Some(0)));
}

#[test]
fn wasmi_trap_after_proc_exit_is_exit_code() {
    let outcome = run_in_wasmi(&fake_merged_module(END_PROC_EXIT_5), "_start").unwrap();
    assert_eq!(outcome, expected(Some(5)));
}

#[test]
fn wasmi_trap_is_trap() {
    let outcome = run_in_wasmi(&fake_merged_module(END_TRAP), "_start").unwrap();
    let trap = outcome.trap.clone().expect("a trap");
    assert!(trap.contains("unreachable"), "{trap}");
    assert_eq!(
        outcome,
        Outcome {
            trap: Some(trap),
            ..expected(None)
        }
    );
}

#[test]
fn wasmi_refuses_a_module_with_an_import() {
    let wasm = wat::parse_str(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))"#,
    )
    .unwrap();
    let error = format!("{:#}", run_in_wasmi(&wasm, "_start").unwrap_err());
    assert!(
        error.contains("with no imports") && error.contains("`wasi_snapshot_preview1::fd_write`"),
        "{error}"
    );
}

#[test]
fn wasmi_missing_host_api_is_an_error() {
    let wasm = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#)
        .unwrap();
    let error = format!("{:#}", run_in_wasmi(&wasm, "_start").unwrap_err());
    assert!(error.contains("wasi_virt_exit_code"), "{error}");
}

#[test]
fn node_exit_code_and_stdio() {
    if !have(Tool::Node22) {
        return;
    }
    assert_eq!(node_outcome(END_EXIT_7), expected(Some(7)));
}

#[test]
fn node_return_without_exit_code_is_zero() {
    if !have(Tool::Node22) {
        return;
    }
    assert_eq!(node_outcome(END_RETURN), expected(Some(0)));
}

#[test]
fn node_trap_after_proc_exit_is_exit_code() {
    if !have(Tool::Node22) {
        return;
    }
    assert_eq!(node_outcome(END_PROC_EXIT_5), expected(Some(5)));
}

#[test]
fn node_trap_is_trap() {
    if !have(Tool::Node22) {
        return;
    }
    let outcome = node_outcome(END_TRAP);
    let trap = outcome.trap.clone().expect("a trap");
    assert!(trap.contains("unreachable"), "{trap}");
    assert_eq!(
        outcome,
        Outcome {
            trap: Some(trap),
            ..expected(None)
        }
    );
}

#[test]
fn node_refuses_a_module_with_an_import() {
    if !have(Tool::Node22) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imports.wasm");
    let wasm = wat::parse_str(r#"(module (import "env" "f" (func)) (func (export "_start")))"#);
    fs::write(&path, wasm.unwrap()).unwrap();
    let error = format!("{:#}", run_in_node(&path).unwrap_err());
    assert!(error.contains("cannot instantiate"), "{error}");
}

#[test]
fn wasmtime_host_trap_is_trap() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trap.wasm");
    let wasm = wat::parse_str(r#"(module (func (export "_start") unreachable))"#).unwrap();
    fs::write(&path, wasm).unwrap();
    let outcome = run_in_wasmtime_host(&path, &[], &[], &[]).unwrap();
    assert_eq!(
        outcome,
        Outcome {
            trap: Some("wasm `unreachable` instruction executed".into()),
            ..Outcome::default()
        }
    );
}

#[test]
fn wasmtime_host_unknown_import_is_an_error() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imports.wasm");
    let wasm = wat::parse_str(r#"(module (import "env" "f" (func)) (func (export "_start")))"#);
    fs::write(&path, wasm.unwrap()).unwrap();
    let error = format!(
        "{:#}",
        run_in_wasmtime_host(&path, &[], &[], &[]).unwrap_err()
    );
    assert!(error.contains("env::f"), "{error}");
}

/// `wasi_virt_bin` builds the CLI from inside a running `cargo test` (no
/// lock fight with the outer cargo) and gives a binary that runs.
#[test]
fn wasi_virt_bin_runs() {
    let output = std::process::Command::new(wasi_virt_tests::wasi_virt_bin())
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("merge"),
        "{output:?}"
    );
}
