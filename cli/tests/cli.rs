//! The `wasi-virt` binary as a user runs it: every bad input gets exit code 1,
//! one `error:` line, no output file, untouched inputs and no panic.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

const GUEST: &str = r#"(module
  (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 plug app fd_write\n")
  (import "wasi-virt:bridge/app" "read" (func $read (param i32 i32 i32)))
  (import "wasi-virt:target/app" "_start" (func $start))
  (memory (export "memory") 1)
  (global $written (mut i32) (i32.const 0))
  (func (export "__wasi_virt/plug/app/fd_write") (param i32 i32 i32 i32) (result i32)
    (call $read (i32.const 0) (local.get 1) (i32.const 8))
    (global.set $written (i32.load (i32.const 4)))
    (i32.const 0))
  (func (export "run") (call $start))
  (func (export "written") (result i32) (global.get $written)))"#;

const TARGET: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 4) (i32.const 5))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// A scratch folder with the fixture guest and target written in it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let s = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        s.write("vfs.wasm", &wat::parse_str(GUEST).unwrap());
        s.write("app.wasm", &wat::parse_str(TARGET).unwrap());
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.path(name), bytes).unwrap();
    }

    fn wat(&self, name: &str, wat: &str) {
        self.write(name, &wat::parse_str(wat).unwrap());
    }

    /// Runs `wasi-virt` in the scratch folder.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    }

    /// Every file's bytes, to prove a failed run changed nothing.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let bytes = fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    }

    /// Runs a merge that must fail; checks everything a failure promises and
    /// returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let before = self.snapshot();
        let out = self.run(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "stderr: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "stderr: {stderr}");
        assert!(!stderr.contains("backtrace"), "stderr: {stderr}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            self.snapshot(),
            before,
            "a failed run must not create or change any file"
        );
        stderr
    }
}

fn first_line(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or_default()
}

#[test]
fn a_merge_writes_an_import_free_module() {
    let s = Scratch::new();
    let out = s.run(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "a merge is quiet without -v"
    );
    let bytes = fs::read(s.path("out.wasm")).unwrap();
    wasmparser::Validator::new().validate_all(&bytes).unwrap();

    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &bytes[..]).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    instance
        .get_typed_func::<(), ()>(&store, "run")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    let written = instance
        .get_typed_func::<(), i32>(&store, "written")
        .unwrap();
    assert_eq!(written.call(&mut store, ()).unwrap(), 5);

    let inspect = s.run(&["inspect", "out.wasm"]);
    let stdout = String::from_utf8(inspect.stdout).unwrap();
    assert!(inspect.status.success());
    assert!(
        stdout.contains("out.wasm: a module merged by wasi-virt\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("imports: none (it runs with an empty import object)"),
        "{stdout}"
    );
}

#[test]
fn verbose_reports_sizes_and_time() {
    let s = Scratch::new();
    let out = s.run(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm", "-v"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("-> out.wasm") && stderr.contains("validate "),
        "{stderr}"
    );
}

#[test]
fn an_existing_output_is_replaced() {
    let s = Scratch::new();
    s.write("out.wasm", b"old");
    let out = s.run(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert!(out.status.success());
    assert_eq!(&fs::read(s.path("out.wasm")).unwrap()[..4], b"\0asm");
}

#[test]
fn not_wasm_is_refused() {
    let s = Scratch::new();
    s.write("notes.txt", b"hello, world\n");
    let stderr = s.fails(&["merge", "notes.txt", "app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: notes.txt: not a WebAssembly module (it does not start with `\\0asm`)"
    );
}

#[test]
fn a_truncated_target_is_refused_with_an_offset() {
    let s = Scratch::new();
    let bytes = fs::read(s.path("app.wasm")).unwrap();
    s.write("app.wasm", &bytes[..bytes.len() - 5]);
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: app.wasm: cannot read the module"
    );
    assert!(
        stderr.contains("Caused by:") && stderr.contains("offset"),
        "{stderr}"
    );
}

#[test]
fn a_component_is_refused() {
    let s = Scratch::new();
    s.wat("app.wasm", "(component)");
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert!(
        stderr.contains("app.wasm is a component, not a core module"),
        "{stderr}"
    );
}

#[test]
fn unplugged_imports_name_their_macro() {
    let s = Scratch::new();
    s.wat(
        "app.wasm",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "path_open"
              (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (memory 1)
            (func (export "_start")))"#,
    );
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: app.wasm imports 1 WASI function the guest does not plug: path_open (add app to plug_fs!)"
    );
}

#[test]
fn a_guest_without_manifest_is_refused() {
    let s = Scratch::new();
    s.wat("vfs.wasm", "(module (memory 1))");
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: vfs.wasm: not a wasi-virt guest: it has no `wasi-virt.manifest` section (build it with the wasi-virt macros)"
    );
}

#[test]
fn a_wrong_preview1_signature_is_refused() {
    let s = Scratch::new();
    s.wat(
        "app.wasm",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
            (memory 1)
            (func (export "_start")))"#,
    );
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: app.wasm imports wasi_snapshot_preview1::fd_write with type (param i32) (result i32), but preview1 defines (param i32 i32 i32 i32) (result i32)"
    );
}

#[test]
fn the_output_cannot_be_an_input() {
    let s = Scratch::new();
    let stderr = s.fails(&["merge", "vfs.wasm", "app.wasm", "-o", "./app.wasm"]);
    assert!(
        first_line(&stderr).contains("the output is also an input (app.wasm)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let s = Scratch::new();
    let stderr = s.fails(&["merge", "vfs.wasm", "nope.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: nope.wasm: cannot read the file"
    );
}

#[test]
fn an_unknown_target_name_lists_the_declared_ones() {
    let s = Scratch::new();
    let stderr = s.fails(&["merge", "vfs.wasm", "lib=app.wasm", "-o", "out.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: app.wasm: the guest declares no target `lib`; its targets are `app` (bind a file with NAME=PATH)"
    );
}

#[test]
fn inspect_shows_the_manifest_of_a_guest() {
    let s = Scratch::new();
    let out = s.run(&["inspect", "vfs.wasm"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(stdout.contains("vfs.wasm: a wasi-virt guest"), "{stdout}");
    assert!(
        stdout.contains("wasi-virt:bridge/app::read func (param i32 i32 i32) (result)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  plugs for app:\n    plug_fs! fd_write\n"),
        "{stdout}"
    );
}

#[test]
fn inspect_json_is_one_object() {
    let s = Scratch::new();
    let out = s.run(&["inspect", "--json", "app.wasm"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        stdout.starts_with(
            "{\"file\":\"app.wasm\",\"imports\":[{\"module\":\"wasi_snapshot_preview1\""
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("\"manifest\":null,\"targets\":[]}\n"),
        "{stdout}"
    );
}

#[test]
fn inspect_of_a_truncated_file_fails_cleanly() {
    let s = Scratch::new();
    s.write("bad.wasm", b"\0asm\x01\x00\x00\x00\x01\x05");
    let stderr = s.fails(&["inspect", "bad.wasm"]);
    assert_eq!(
        first_line(&stderr),
        "error: bad.wasm: cannot read the module"
    );
}

#[test]
fn inspect_into_a_closed_pipe_is_quiet() {
    let s = Scratch::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
        .args(["inspect", "vfs.wasm"])
        .current_dir(s.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn component_needs_a_guest_with_a_wit_world() {
    let s = Scratch::new();
    let stderr = s.fails(&[
        "merge",
        "vfs.wasm",
        "app.wasm",
        "-o",
        "out.wasm",
        "--component",
    ]);
    assert_eq!(
        first_line(&stderr),
        "error: vfs.wasm: --component needs a guest that exports a WIT world (built with wit-bindgen: a `component-type` custom section), and this one has none"
    );
}

#[test]
fn component_refuses_a_world_it_cannot_read() {
    let s = Scratch::new();
    let guest = GUEST.replacen(
        "(module",
        r#"(module (@custom "component-type:broken" "not a world")"#,
        1,
    );
    s.wat("vfs.wasm", &guest);
    let stderr = s.fails(&[
        "merge",
        "vfs.wasm",
        "app.wasm",
        "-o",
        "out.wasm",
        "--component",
    ]);
    assert_eq!(
        first_line(&stderr),
        "error: while reading the guest's WIT world in the merged module"
    );
}

#[test]
fn component_does_not_go_with_js_or_a_moved_guest_memory() {
    let s = Scratch::new();
    let merge = [
        "merge",
        "vfs.wasm",
        "app.wasm",
        "-o",
        "out.wasm",
        "--component",
    ];
    let stderr = s.fails(&[&merge[..], &["--js", "out.js"]].concat());
    assert!(
        first_line(&stderr).starts_with("error: --component and --js cannot go together"),
        "{stderr}"
    );
    let stderr = s.fails(&[&merge[..], &["--single-memory"]].concat());
    assert!(
        first_line(&stderr).starts_with(
            "error: --component and --single-memory (target first) cannot go together"
        ),
        "{stderr}"
    );
    // The guest's addresses stay with the guest first: only the missing
    // world is refused.
    let stderr = s.fails(&[&merge[..], &["--single-memory=guest-first"]].concat());
    assert!(
        first_line(&stderr).contains("--component needs a guest that exports a WIT world"),
        "{stderr}"
    );
}
