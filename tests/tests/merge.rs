//! `wasi-virt merge` end to end: the example guest `vfs-demo` and the target
//! `demo-app`, merged and run with nothing linked (wasmi, Node ≥ 22), against
//! the same target under wasmtime's own host WASI on a real folder; and the
//! errors bad inputs get.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_node, run_in_wasmi, run_in_wasmtime_host,
    wasi_virt_bin, wasm_example,
};

/// What `vfs-demo` gives the program: the arguments after argv[0] and the
/// environment, as the guest's `ARGS` and `ENV` statics list them.
const ARGS: &[&str] = &["hello", "wörld"];
const ENV: &[(&str, &str)] = &[("GREETING", "hello from vfs-demo"), ("EXIT_CODE", "3")];

/// What demo-app prints with `examples/site` as `/` and the guest's args/env.
const EXPECTED_STDOUT: &str = "\
== args
hello
wörld
== env
EXIT_CODE=3
GREETING=hello from vfs-demo
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

fn expected() -> Outcome {
    Outcome {
        exit_code: Some(3),
        trap: None,
        stdout: EXPECTED_STDOUT.into(),
        stderr: "demo-app: exiting with code 3\n".into(),
    }
}

fn guest() -> PathBuf {
    wasm_example("vfs-demo", "wasm32-wasip1")
}

fn app() -> PathBuf {
    wasm_example("demo-app", "wasm32-wasip1")
}

/// Runs the CLI; returns (exit code, stdout, stderr).
fn wasi_virt(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(wasi_virt_bin())
        .args(args)
        .output()
        .expect("cannot run wasi-virt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo merged once per test process (into a folder kept until exit).
fn merged() -> &'static Path {
    static MERGED: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = MERGED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo.wasm");
        let (code, _, stderr) = wasi_virt(&[
            "merge".as_ref(),
            guest().as_os_str(),
            app().as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(code, 0, "merge failed: {stderr}");
        (dir, out)
    });
    path
}

#[test]
fn merged_demo_runs_with_nothing_linked_in_wasmi() {
    let outcome = run_in_wasmi(&std::fs::read(merged()).unwrap(), "_start").unwrap();
    assert_eq!(outcome, expected());
}

#[test]
fn merged_demo_matches_the_target_under_wasmtime_host_wasi() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let site = tempfile::tempdir().unwrap();
    copy_dir_all(&repo_root().join("examples/site"), site.path()).unwrap();
    let reference = run_in_wasmtime_host(&app(), &[(site.path(), "/")], ARGS, ENV).unwrap();
    let merged = run_in_wasmi(&std::fs::read(merged()).unwrap(), "_start").unwrap();
    assert_eq!(merged, reference);
    // The host run really wrote to the folder; the merged run wrote only to
    // its in-memory layer (the embedded folder is unchanged).
    assert!(site.path().join("out/notes.txt").exists());
    assert!(!repo_root().join("examples/site/out").exists());
}

#[test]
fn merged_demo_runs_in_node_with_an_empty_import_object() {
    if !have(Tool::Node22) {
        return;
    }
    assert_eq!(run_in_node(merged()).unwrap(), expected());
}

#[test]
fn merged_demo_has_no_imports() {
    let bytes = std::fs::read(merged()).unwrap();
    let mut imports = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::ImportSection(section) = payload.unwrap() {
            imports += section.count();
        }
    }
    assert_eq!(imports, 0);
    let (code, stdout, stderr) = wasi_virt(&["inspect".as_ref(), merged().as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imports: none"), "{stdout}");
}

#[test]
fn inspect_shows_the_guest_manifest() {
    let (code, stdout, stderr) = wasi_virt(&["inspect".as_ref(), guest().as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("app"), "{stdout}");
    assert!(stdout.contains("fd_write"), "{stdout}");
    assert!(stdout.contains("proc_exit"), "{stdout}");
}

/// Merges `guest` and `target` where both are files in a fresh folder and
/// expects a refusal: non-zero exit, one `error:` line naming `names` and
/// saying `cause`, no output file, inputs unchanged, no panic.
fn assert_refused(guest: &[u8], target: &[u8], cause: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (g, t, out) = (
        dir.path().join("guest.wasm"),
        dir.path().join("app.wasm"),
        dir.path().join("out.wasm"),
    );
    std::fs::write(&g, guest).unwrap();
    std::fs::write(&t, target).unwrap();
    let (code, _, stderr) = wasi_virt(&[
        "merge".as_ref(),
        g.as_os_str(),
        t.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_ne!(code, 0, "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(stderr.contains(cause), "expected {cause:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "an output was written");
    assert_eq!(std::fs::read(&g).unwrap(), guest);
    assert_eq!(std::fs::read(&t).unwrap(), target);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 2, "a temporary file was left behind");
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let app = std::fs::read(app()).unwrap();
    assert_refused(b"#!/bin/sh\necho hi\n", &app, "guest.wasm");
    assert_refused(&std::fs::read(guest()).unwrap(), b"", "app.wasm");
}

#[test]
fn a_truncated_module_is_refused() {
    let app = std::fs::read(app()).unwrap();
    let guest = std::fs::read(guest()).unwrap();
    assert_refused(&guest, &app[..app.len() / 2], "app.wasm");
    assert_refused(&guest[..guest.len() - 3], &app, "guest.wasm");
}

#[test]
fn a_guest_without_a_manifest_is_refused() {
    let app = std::fs::read(app()).unwrap();
    assert_refused(&app, &app, "wasi-virt.manifest");
}

/// A guest that plugs only `fd_write`: demo-app needs much more, and the
/// error names each missing function with the macro that would plug it.
#[test]
fn unplugged_imports_are_named_with_the_macro_that_plugs_them() {
    let guest = wat::parse_str(
        r#"(module
  (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 plug app fd_write\n")
  (memory (export "memory") 1)
  (func (export "__wasi_virt/plug/app/fd_write") (param i32 i32 i32 i32) (result i32)
    i32.const 0))"#,
    )
    .unwrap();
    let app = std::fs::read(app()).unwrap();
    assert_refused(&guest, &app, "plug_env!");
    assert_refused(&guest, &app, "environ_get");
    assert_refused(&guest, &app, "plug_process!");
}

#[test]
fn a_wasi_import_with_the_wrong_signature_is_refused() {
    let target = wat::parse_str(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))"#,
    )
    .unwrap();
    assert_refused(
        &std::fs::read(guest()).unwrap(),
        &target,
        "(param i32 i32 i32 i32) (result i32)",
    );
}

/// The same guest built for `wasm32-unknown-unknown` (no WASI of its own):
/// the merged program prints the same.
#[test]
fn a_guest_built_for_wasm32_unknown_unknown_works_too() {
    let guest = wasm_example("vfs-demo", "wasm32-unknown-unknown");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.wasm");
    let (code, _, stderr) = wasi_virt(&[
        "merge".as_ref(),
        guest.as_os_str(),
        app().as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let outcome = run_in_wasmi(&std::fs::read(&out).unwrap(), "_start").unwrap();
    assert_eq!(outcome, expected());
}

/// The smallest guest (`examples/min-guest`: captured stdout and stderr,
/// nothing else) runs Rust's hello world as wasmtime's host WASI does.
#[test]
fn the_minimal_guest_runs_hello_world() {
    let guest = wasm_example("min-guest", "wasm32-unknown-unknown");
    let hello = wasm_example("hello-app", "wasm32-wasip1");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hello.wasm");
    let (code, _, stderr) = wasi_virt(&[
        "merge".as_ref(),
        guest.as_os_str(),
        hello.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let outcome = run_in_wasmi(&std::fs::read(&out).unwrap(), "_start").unwrap();
    if have(Tool::Wasmtime) {
        let host = run_in_wasmtime_host(&hello, &[], &[], &[]).unwrap();
        assert_eq!(outcome, host);
    }
    assert_eq!(outcome.stdout, b"Hello, world!\n");
    if have(Tool::Node22) {
        assert_eq!(run_in_node(&out).unwrap(), outcome);
    }
}
