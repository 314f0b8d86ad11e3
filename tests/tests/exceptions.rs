//! Wasm exception handling survives the merge: a target that throws and
//! catches its own exceptions around its WASI calls
//! (`tests/fixtures/exceptions.wat`: `try_table` with `catch` and
//! `catch_ref`, `throw`, `throw_ref`, an `exnref` kept in a local, a throw
//! out of a `call_indirect`, `proc_exit` and a trap inside a `try_table`)
//! behaves as it does under wasmtime with host WASI when it is merged
//! plainly (min-guest), under `wrap_unreachable!` with both strategies
//! (runner-guest), and twice in one output (pair-guest: the second copy's
//! tags, types and functions all move).
//!
//! `tests/fixtures/exceptions_catch_all.wat` catches everything
//! (`catch_all`, `catch_all_ref`): merged plainly and with `--unwind flags`
//! it behaves as under wasmtime; `--unwind exceptions` refuses it.
//!
//! Every output runs with nothing linked, in Node ≥ 22 (`tests/node/run.mjs`
//! and `runner.mjs`) and, for guests whose `_start` never traps, in the
//! wasmtime CLI, driven by a small module that calls `_start` and copies
//! the captured stdio to the host's (`--preload`). wasmi has no exception
//! handling, so it runs none of them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_virt_tests::run_in_wasmtime_host;
use wasi_virt_tests::tools;
use wasi_virt_tests::{Outcome, Tool, have, repo_root, run_in_node, wasi_virt_bin, wasm_example};

/// The exit code an `unreachable` unwinds with.
const TRAP: i32 = 134;

const STRATEGIES: [&str; 2] = ["flags", "exceptions"];

/// What `exceptions.wat` prints and exits with, without arguments.
const STDOUT: &str = "\
A: before the throw
A: caught $e with 7
B: bottom, throwing
B: rethrowing at depth 1
B: rethrowing at depth 2
B: rethrowing at depth 3
B: caught $pair with 30, 5
C: inside
C: fd_write in a try_table wrote 10
A: before the throw
D: kept the exnref
D: threw it again, caught 4
E: call_indirect threw $empty
F: exiting with 42
";
const CODE: i32 = 42;

/// What it prints with an argument, before it traps.
fn trap_stdout() -> String {
    STDOUT.replace("F: exiting with 42\n", "F: trapping\n")
}

const CATCH_ALL_STDOUT: &str = "\
thrown after a write
cleanup, rethrowing
caught by catch_all
";
const CATCH_ALL_CODE: i32 = 3;

/// The tags `exceptions.wat` defines.
const FIXTURE_TAGS: u32 = 4;

fn example(name: &str) -> PathBuf {
    wasm_example(name, "wasm32-wasip1")
}

/// A fixture of `tests/fixtures`, assembled into `dir`.
fn fixture(dir: &Path, name: &str) -> PathBuf {
    let wat = repo_root().join(format!("tests/fixtures/{name}.wat"));
    let bytes = wat::parse_file(&wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `wasi-virt merge GUEST TARGET… [--unwind STRATEGY] -o DIR/NAME.wasm`:
/// the output, or the CLI's error.
fn try_merge(
    dir: &Path,
    name: &str,
    guest: &Path,
    targets: &[String],
    strategy: Option<&str>,
) -> Result<PathBuf, String> {
    let out = dir.join(format!("{name}.wasm"));
    let mut command = Command::new(wasi_virt_bin());
    command.arg("merge").arg(guest).args(targets);
    if let Some(strategy) = strategy {
        command.args(["--unwind", strategy]);
    }
    let output = command.arg("-o").arg(&out).output().unwrap();
    if output.status.success() {
        Ok(out)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn merge(
    dir: &Path,
    name: &str,
    guest: &Path,
    targets: &[String],
    strategy: Option<&str>,
) -> PathBuf {
    try_merge(dir, name, guest, targets, strategy)
        .unwrap_or_else(|e| panic!("merge {name} failed: {e}"))
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// The number of tags a module defines.
fn tags(wasm: &Path) -> u32 {
    let bytes = std::fs::read(wasm).unwrap();
    wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .find_map(|p| match p.unwrap() {
            wasmparser::Payload::TagSection(s) => Some(s.count()),
            _ => None,
        })
        .unwrap_or(0)
}

/// The tags that `throw` and the `catch`es of `try_table` name in a
/// module's code.
fn tags_used(wasm: &Path) -> BTreeSet<u32> {
    let bytes = std::fs::read(wasm).unwrap();
    let mut used = BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() else {
            continue;
        };
        let mut reader = body.get_operators_reader().unwrap();
        while !reader.eof() {
            match reader.read().unwrap() {
                wasmparser::Operator::Throw { tag_index } => {
                    used.insert(tag_index);
                }
                wasmparser::Operator::TryTable { try_table } => {
                    for catch in try_table.catches {
                        if let wasmparser::Catch::One { tag, .. }
                        | wasmparser::Catch::OneRef { tag, .. } = catch
                        {
                            used.insert(tag);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    used
}

/// The target under wasmtime with host WASI (the wasmtime 49 of `cargo
/// xtask setup` has exception handling on by default), a trap turned into
/// exit code 134.
fn reference(target: &Path, args: &[&str]) -> Outcome {
    let mut outcome = run_in_wasmtime_host(target, &[], args, &[]).unwrap();
    if outcome.trap.take().is_some() {
        outcome.exit_code = Some(TRAP);
    }
    outcome
}

/// `tests/node/runner.mjs MODULE once ARGS…`: runner-guest's `_start` with
/// the program's arguments `app ARGS…`.
fn node_once(merged: &Path, args: &[&str]) -> Outcome {
    let node = tools::node22().expect("checked with have()");
    let out = Command::new(node)
        .arg(repo_root().join("tests/node/runner.mjs"))
        .arg(merged)
        .arg("once")
        .args(args)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!(
            "runner.mjs printed {line:?} ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(v.get("error").is_none(), "runner.mjs: {v}");
    Outcome {
        exit_code: v["code"].as_i64().map(|c| c as i32),
        trap: v["trap"].as_str().map(str::to_owned),
        stdout: v["stdout"].as_str().unwrap().into(),
        stderr: v["stderr"].as_str().unwrap().into(),
    }
}

/// A module for the wasmtime CLI that runs the merged module (preloaded as
/// `merged`, with nothing linked: it imports nothing) and hands its
/// outcome to the host: `run` calls its `start` ([`as_reactor`]), writes
/// the stdout and
/// stderr it captured to fd 1 and 2, and returns its exit code, which
/// `--invoke` prints last (a `proc_exit` of 134 would be refused by the
/// CLI). The iovec goes in a page grown for it.
const DRIVER: &str = r#"(module
  (import "merged" "start" (func $start))
  (import "merged" "wasi_virt_exit_code" (func $code (result i32)))
  (import "merged" "wasi_virt_stdout_ptr" (func $out_ptr (result i32)))
  (import "merged" "wasi_virt_stdout_len" (func $out_len (result i32)))
  (import "merged" "wasi_virt_stderr_ptr" (func $err_ptr (result i32)))
  (import "merged" "wasi_virt_stderr_len" (func $err_len (result i32)))
  (import "merged" "memory" (memory 0))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (export "memory" (memory 0))
  (func $copy (param $fd i32) (param $ptr i32) (param $len i32)
    (local $iov i32)
    (local.set $iov (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
    (i32.store (local.get $iov) (local.get $ptr))
    (i32.store offset=4 (local.get $iov) (local.get $len))
    (if (call $fd_write (local.get $fd) (local.get $iov) (i32.const 1)
          (i32.add (local.get $iov) (i32.const 8)))
      (then unreachable))
    (if (i32.ne (i32.load offset=8 (local.get $iov)) (local.get $len))
      (then unreachable)))
  (func (export "run") (result i32)
    (call $start)
    (call $copy (i32.const 1) (call $out_ptr) (call $out_len))
    (call $copy (i32.const 2) (call $err_ptr) (call $err_len))
    (call $code)))"#;

/// `wasm` with its export `_start` renamed `start`. The wasmtime CLI
/// links a preloaded module with a `_start` as a command, a new instance
/// for every call, whose memory it does not export; without, as a
/// reactor: one instance, every export.
fn as_reactor(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap();
        if let wasmparser::Payload::ExportSection(reader) = &payload {
            let mut exports = wasm_encoder::ExportSection::new();
            for export in reader.clone() {
                let export = export.unwrap();
                let name = if export.name == "_start" {
                    "start"
                } else {
                    export.name
                };
                exports.export(name, export.kind.into(), export.index);
            }
            out.section(&exports);
        } else if let Some((id, range)) = payload.as_section() {
            out.section(&wasm_encoder::RawSection {
                id,
                data: &wasm[range.start as usize..range.end as usize],
            });
        }
    }
    out.finish()
}

/// The merged module's `_start` in the wasmtime CLI, through [`DRIVER`].
fn wasmtime_driven(merged: &Path) -> Outcome {
    let wasmtime = tools::wasmtime_cli().expect("checked with have()");
    let dir = merged.parent().unwrap();
    let reactor = merged.with_extension("reactor.wasm");
    std::fs::write(&reactor, as_reactor(&std::fs::read(merged).unwrap())).unwrap();
    let driver = dir.join("driver.wasm");
    std::fs::write(&driver, wat::parse_str(DRIVER).unwrap()).unwrap();
    let out = Command::new(wasmtime)
        .args(["run", "-W", "exceptions=y,multi-memory=y", "--preload"])
        .arg(format!("merged={}", reactor.display()))
        .args(["--invoke", "run"])
        .arg(&driver)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "wasmtime failed: {stderr}");
    // wasmtime's own line about `--invoke` of a function with results.
    let stderr: String = stderr
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("warning: using `--invoke`"))
        .collect();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (stdout, code) = stdout
        .trim_end_matches('\n')
        .rsplit_once('\n')
        .unwrap_or(("", stdout.trim_end()));
    let stdout = if stdout.is_empty() {
        String::new()
    } else {
        format!("{stdout}\n")
    };
    Outcome {
        exit_code: Some(code.parse().unwrap_or_else(|e| panic!("{code:?}: {e}"))),
        trap: None,
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

/// `outcome` with a line added to its stderr.
fn with_stderr(mut outcome: Outcome, line: &str) -> Outcome {
    outcome.stderr.extend_from_slice(line.as_bytes());
    outcome
}

#[test]
fn the_fixtures_run_under_host_wasi() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fixture(dir.path(), "exceptions");
    let expected = Outcome {
        exit_code: Some(CODE),
        trap: None,
        stdout: STDOUT.into(),
        stderr: Vec::new(),
    };
    assert_eq!(reference(&app, &[]), expected);
    let trapped = Outcome {
        exit_code: Some(TRAP),
        stdout: trap_stdout().into(),
        ..expected
    };
    assert_eq!(reference(&app, &["trap"]), trapped);
    let catch_all = fixture(dir.path(), "exceptions_catch_all");
    assert_eq!(
        reference(&catch_all, &[]),
        Outcome {
            exit_code: Some(CATCH_ALL_CODE),
            trap: None,
            stdout: CATCH_ALL_STDOUT.into(),
            stderr: Vec::new(),
        }
    );
}

/// min-guest (no `wrap_unreachable!`: `proc_exit` ends the run with a
/// trap) + the fixture: the program's stdout and exit code, in Node.
#[test]
fn merged_plainly_the_target_catches_its_own_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    for (name, stdout, code) in [
        ("exceptions", STDOUT, CODE),
        ("exceptions_catch_all", CATCH_ALL_STDOUT, CATCH_ALL_CODE),
    ] {
        let app = fixture(dir.path(), name);
        let merged = merge(
            dir.path(),
            &format!("{name}.plain"),
            &example("min-guest"),
            &[path_arg(&app)],
            None,
        );
        // The target's tags stay, and the guest adds none.
        assert_eq!(tags(&merged), tags(&app), "{name}");
        let expected = Outcome {
            exit_code: Some(code),
            trap: None,
            stdout: stdout.into(),
            stderr: Vec::new(),
        };
        if have(Tool::Wasmtime) {
            assert_eq!(reference(&app, &[]), expected, "{name}");
        }
        if have(Tool::Node22) {
            assert_eq!(run_in_node(&merged).unwrap(), expected, "{name}");
        }
    }
}

/// runner-guest (`wrap_unreachable!`) + the fixture, under both
/// strategies: its exit and its trap, both inside `try_table`s that catch
/// the program's own tag, come back to the guest with their codes, and the
/// program's own exceptions stay its own. In Node (with and without an
/// argument) and in the wasmtime CLI.
#[test]
fn wrapped_with_both_strategies_the_target_catches_its_own_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let app = fixture(dir.path(), "exceptions");
    let exited = Outcome {
        exit_code: Some(CODE),
        trap: None,
        stdout: STDOUT.into(),
        stderr: format!("runner: app exited with code {CODE}\n").into(),
    };
    let trapped = Outcome {
        exit_code: Some(TRAP),
        trap: None,
        stdout: trap_stdout().into(),
        stderr: format!("runner: app exited with code {TRAP}\n").into(),
    };
    if have(Tool::Wasmtime) {
        let runner_line = format!("runner: app exited with code {CODE}\n");
        assert_eq!(with_stderr(reference(&app, &[]), &runner_line), exited);
        let runner_line = format!("runner: app exited with code {TRAP}\n");
        assert_eq!(
            with_stderr(reference(&app, &["trap"]), &runner_line),
            trapped
        );
    }
    for strategy in STRATEGIES {
        let merged = merge(
            dir.path(),
            &format!("runner.{strategy}"),
            &example("runner-guest"),
            &[path_arg(&app)],
            Some(strategy),
        );
        // Exceptions add one tag for the target's unwinding, after its own.
        let added = u32::from(strategy == "exceptions");
        assert_eq!(tags(&merged), FIXTURE_TAGS + added, "{strategy}");
        let mut expected_tags = BTreeSet::from([1, 2, 3]);
        if strategy == "exceptions" {
            expected_tags.insert(FIXTURE_TAGS);
        }
        assert_eq!(tags_used(&merged), expected_tags, "{strategy}");
        if have(Tool::Node22) {
            assert_eq!(node_once(&merged, &[]), exited, "{strategy}");
            assert_eq!(node_once(&merged, &["trap"]), trapped, "{strategy}");
        }
        if have(Tool::Wasmtime) {
            assert_eq!(wasmtime_driven(&merged), exited, "{strategy}");
        }
    }
}

/// pair-guest + the fixture twice: in the second copy every tag, type and
/// function index moves, and each copy catches only its own exceptions.
/// pair-guest gives both programs arguments, so both trap.
#[test]
fn two_copies_in_one_output_catch_their_own_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let app = fixture(dir.path(), "exceptions");
    let stdout = trap_stdout();
    let expected = Outcome {
        exit_code: Some(TRAP),
        trap: None,
        stdout: format!("{stdout}{stdout}").into(),
        stderr: format!("pair-guest: writer exited with {TRAP}, reader with {TRAP}\n").into(),
    };
    if have(Tool::Wasmtime) {
        let alone = reference(&app, &["write", "/data/msg.txt", "hello"]);
        assert_eq!(alone.exit_code, Some(TRAP));
        assert_eq!(alone.stdout, stdout.as_bytes());
    }
    let targets = [
        format!("writer={}", app.display()),
        format!("reader={}", app.display()),
    ];
    for strategy in STRATEGIES {
        let merged = merge(
            dir.path(),
            &format!("pair.{strategy}"),
            &example("pair-guest"),
            &targets,
            Some(strategy),
        );
        let added = if strategy == "exceptions" { 2 } else { 0 };
        assert_eq!(tags(&merged), 2 * FIXTURE_TAGS + added, "{strategy}");
        // Each copy throws and catches its own `$e`, `$pair` and `$empty`
        // (tags 1 to 3 of each), never the other's; under exceptions, the
        // two unwinding tags come after.
        let mut expected_tags = BTreeSet::from([1, 2, 3, 5, 6, 7]);
        if strategy == "exceptions" {
            expected_tags.extend([8, 9]);
        }
        assert_eq!(tags_used(&merged), expected_tags, "{strategy}");
        if have(Tool::Node22) {
            assert_eq!(run_in_node(&merged).unwrap(), expected, "{strategy}");
        }
        if have(Tool::Wasmtime) {
            assert_eq!(wasmtime_driven(&merged), expected, "{strategy}");
        }
    }
}

/// A target with `catch_all`: with flags, its exit goes through the
/// `catch_all` around `proc_exit` (no exception is thrown); under
/// exceptions the merge refuses it and says why.
#[test]
fn catch_all_is_wrapped_with_flags_and_refused_under_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let app = fixture(dir.path(), "exceptions_catch_all");
    let guest = example("runner-guest");
    let merged = merge(
        dir.path(),
        "catch_all.flags",
        &guest,
        &[path_arg(&app)],
        Some("flags"),
    );
    let expected = Outcome {
        exit_code: Some(CATCH_ALL_CODE),
        trap: None,
        stdout: CATCH_ALL_STDOUT.into(),
        stderr: format!("runner: app exited with code {CATCH_ALL_CODE}\n").into(),
    };
    if have(Tool::Node22) {
        assert_eq!(node_once(&merged, &[]), expected);
    }
    if have(Tool::Wasmtime) {
        assert_eq!(wasmtime_driven(&merged), expected);
    }
    let error = try_merge(
        dir.path(),
        "catch_all.exceptions",
        &guest,
        &[path_arg(&app)],
        Some("exceptions"),
    )
    .expect_err("--unwind exceptions must refuse a target with catch_all");
    assert!(
        error.contains("catch_all") && error.contains("--unwind flags"),
        "{error}"
    );
}
