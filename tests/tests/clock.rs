//! `--clock host`: sleeps wait as long as under host WASI. `sleep-app`
//! (std's sleep, an absolute deadline, a poll of a silent stdin with a
//! timeout) measures each wait itself; packed with `--clock host` it must
//! wait what it asked for within 10 %, as under the wasmtime CLI's host
//! WASI — run by the wasmtime CLI (`--stdio inherit`) and by Node through
//! the `--js` module (captured stdio). The virtual clock's sleeps still
//! return at once, with time jumping by the amount asked.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasi_virt_tests::tools::Tool;
use wasi_virt_tests::{have, run_js_plan, wasi_virt_bin, wasm_example};

fn sleep_app() -> PathBuf {
    wasm_example("sleep-app", "wasm32-wasip1")
}

/// Packs `sleep-app` with `options`; returns the output's path.
fn pack(dir: &Path, name: &str, options: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.wasm"));
    let output = Command::new(wasi_virt_bin())
        .arg("pack")
        .arg(sleep_app())
        .arg("-o")
        .arg(&out)
        .args(options)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pack failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Runs `wasm` in the wasmtime CLI with `args`, stdin a pipe that stays
/// open and silent for the whole run; returns stdout.
fn wasmtime(wasm: &Path, args: &[&str]) -> String {
    let mut child = Command::new(Tool::Wasmtime.locate().unwrap())
        .arg("run")
        .arg(wasm)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert!(
        output.status.success(),
        "{} failed: {}",
        wasm.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `N` of `slept N ms`.
fn slept(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("slept ")?.strip_suffix(" ms")?.parse().ok())
        .unwrap_or_else(|| panic!("no `slept N ms` in {stdout:?}"))
}

/// Whether `ms` is within 10 % of `asked`.
fn assert_waited(what: &str, ms: u64, asked: u64) {
    assert!(
        ms * 10 >= asked * 9 && ms * 10 <= asked * 11,
        "{what}: slept {ms} ms, asked for {asked} ms"
    );
}

/// Host WASI and the packed output under the wasmtime CLI, for one mode.
fn host_and_packed(mode: &str, asked: u64) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let ms = asked.to_string();
    let host = wasmtime(&sleep_app(), &[mode, &ms]);
    let packed = pack(
        dir.path(),
        mode,
        &["--clock", "host", "--stdio", "inherit", "--", mode, &ms],
    );
    (host, wasmtime(&packed, &[]))
}

#[test]
fn a_relative_sleep_waits_as_under_host_wasi() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let (host, packed) = host_and_packed("relative", 500);
    assert_waited("host WASI", slept(&host), 500);
    assert_waited("packed", slept(&packed), 500);
}

#[test]
fn an_absolute_deadline_waits_as_under_host_wasi() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let (host, packed) = host_and_packed("absolute", 300);
    assert_waited("host WASI", slept(&host), 300);
    assert_waited("packed", slept(&packed), 300);
}

#[test]
fn a_poll_of_a_silent_stdin_times_out_as_under_host_wasi() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let (host, packed) = host_and_packed("stdin", 300);
    assert!(host.starts_with("fired clock\n"), "{host}");
    assert!(packed.starts_with("fired clock\n"), "{packed}");
    assert_waited("host WASI", slept(&host), 300);
    assert_waited("packed", slept(&packed), 300);
}

#[test]
fn host_clock_keeps_only_the_imports_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let packed = pack(dir.path(), "imports", &["--clock", "host"]);
    let output = Command::new(wasi_virt_bin())
        .arg("inspect")
        .arg(&packed)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let imports: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("wasi_snapshot_preview1::"))
        .collect();
    assert_eq!(imports.len(), 3, "{text}");
    for name in ["clock_res_get", "clock_time_get", "poll_oneoff"] {
        assert!(
            imports
                .iter()
                .any(|l| l.contains(&format!("::{name} ")) && l.contains("--clock host")),
            "{name} is not kept by --clock host:\n{text}"
        );
    }
}

#[test]
fn virtual_time_jumps_instead_of_waiting() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let packed = pack(
        dir.path(),
        "virtual",
        &["--stdio", "inherit", "--", "relative", "5000"],
    );
    let started = Instant::now();
    let out = wasmtime(&packed, &[]);
    assert_eq!(slept(&out), 5000);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn the_js_module_sleeps_in_node() {
    if !have(Tool::Node22) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (mode, asked) in [("relative", 400), ("absolute", 300)] {
        let ms = asked.to_string();
        let js = dir.path().join(format!("{mode}.js"));
        let js_arg = js.to_str().unwrap();
        pack(
            dir.path(),
            mode,
            &["--clock", "host", "--js", js_arg, "--", mode, &ms],
        );
        let result = run_js_plan(&js, &serde_json::json!({ "runs": [{}] })).unwrap();
        let run = &result["runs"][0];
        assert_eq!(run["exitCode"], 0, "{run}");
        assert_waited(
            &format!("{mode} in Node"),
            slept(run["stdout"].as_str().unwrap()),
            asked,
        );
    }
}
