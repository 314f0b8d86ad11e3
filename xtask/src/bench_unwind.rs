//! `cargo xtask bench-unwind [RUNS]`: what `wrap_unreachable!` costs, in
//! code size and run time, under each `--unwind` strategy.
//!
//! The target is `examples/hash-app` (SHA-256 of 64 MiB: all of its time in
//! code that calls no WASI function, where a careless rewrite would hurt
//! most). It is merged three times with `examples/bench-guest`, built once
//! without and once with its feature `wrap` (the builds differ only by the
//! `wrap_unreachable!`): unwrapped, `--unwind flags`, `--unwind exceptions`.
//! For each output it prints the size of the code section, and the time of
//! `_start` (the hash) in Node ≥ 22, measured in the process
//! (`performance.now()` around the call, a fresh instance per run, the
//! module compiled once), and in the wasmtime CLI (`wasmtime run --invoke
//! _start`, wall time of the whole process). Medians of RUNS (default 7)
//! runs. The numbers go into BENCHMARKS.md by hand, with the machine and
//! commit.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wasi_virt_tests::{target_dir, tools, try_wasi_virt_bin, try_wasm_example};

use crate::{cargo, run_checked};

/// The Node script: compile once, then per run a fresh instance and a timed
/// `_start`; prints the medians and the captured stdout of the last run.
const NODE_SCRIPT: &str = r#"
import { readFileSync } from "node:fs";
const [path, runs] = process.argv.slice(2);
const module = await WebAssembly.compile(readFileSync(path));
const times = [];
let out = "";
for (let i = 0; i < Number(runs); i++) {
  const x = new WebAssembly.Instance(module, {}).exports;
  const t0 = performance.now();
  x._start();
  times.push(performance.now() - t0);
  out = new TextDecoder().decode(
    new Uint8Array(x.memory.buffer, x.wasi_virt_stdout_ptr(), x.wasi_virt_stdout_len()));
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median: times[times.length >> 1], min: times[0], out }));
"#;

/// One merged output.
struct Variant {
    name: &'static str,
    path: PathBuf,
}

/// Builds, merges, measures, prints a table.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let runs: usize = match args.first() {
        Some(n) => n.parse().context("RUNS must be a number")?,
        None => 7,
    };
    crate::setup::rust_targets()?;
    let app = try_wasm_example("hash-app", "wasm32-wasip1")?;
    let plain = build_guest(false)?;
    let wrapped = build_guest(true)?;
    let cli = try_wasi_virt_bin()?;
    let out_dir = target_dir().join("bench-unwind");
    std::fs::create_dir_all(&out_dir)?;
    let mut variants = Vec::new();
    for (name, guest, unwind) in [
        ("unwrapped", &plain, "flags"),
        ("flags", &wrapped, "flags"),
        ("exceptions", &wrapped, "exceptions"),
    ] {
        let path = out_dir.join(format!("hash-{name}.wasm"));
        run_checked(
            Command::new(&cli)
                .arg("merge")
                .arg(guest)
                .arg(&app)
                .args(["--unwind", unwind, "-o"])
                .arg(&path),
        )?;
        variants.push(Variant { name, path });
    }

    let node = tools::node22();
    let wasmtime = tools::wasmtime_cli();
    let script = out_dir.join("time.mjs");
    std::fs::write(&script, NODE_SCRIPT)?;
    let target_code = code_size(&std::fs::read(&app)?)?;
    println!("hash-app: code section {target_code} bytes; {runs} runs each, medians\n");
    println!(
        "| output | code section | vs unwrapped | Node `_start` | vs unwrapped | wasmtime run | vs unwrapped |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut base: Option<(usize, f64, f64)> = None;
    let mut digest = None;
    for v in &variants {
        let code = code_size(&std::fs::read(&v.path)?)?;
        let (node_ms, out) = match &node {
            Some(node) => time_node(node, &script, &v.path, runs)?,
            None => (f64::NAN, String::new()),
        };
        match &digest {
            None => digest = Some(out),
            Some(d) if *d != out => bail!("{} printed {out:?}, not {d:?}", v.name),
            Some(_) => {}
        }
        let wasmtime_ms = match &wasmtime {
            Some(w) => time_wasmtime(w, &v.path, runs)?,
            None => f64::NAN,
        };
        let (c0, n0, w0) = *base.get_or_insert((code, node_ms, wasmtime_ms));
        let pct = |x: f64, x0: f64| format!("{:+.1}%", (x / x0 - 1.0) * 100.0);
        println!(
            "| {} | {code} B | {:+} B ({} of the target's code) | {node_ms:.1} ms | {} | {wasmtime_ms:.1} ms | {} |",
            v.name,
            code as i64 - c0 as i64,
            pct(
                target_code as f64 + code as f64 - c0 as f64,
                target_code as f64
            ),
            pct(node_ms, n0),
            pct(wasmtime_ms, w0),
        );
    }
    println!("\nprogram output: {}", digest.unwrap_or_default().trim());
    Ok(ExitCode::SUCCESS)
}

/// bench-guest, with or without its feature `wrap`, in a target folder of
/// its own (the two builds have the same file name).
fn build_guest(wrap: bool) -> Result<PathBuf> {
    let examples = wasi_virt_tests::repo_root().join("examples");
    let dir = target_dir().join(if wrap {
        "bench-unwind/guest-wrap"
    } else {
        "bench-unwind/guest-plain"
    });
    let mut command = cargo();
    command
        .current_dir(&examples)
        .args(["build", "-q", "--release", "--target", "wasm32-wasip1"])
        .args(["-p", "bench-guest", "--target-dir"])
        .arg(&dir);
    if wrap {
        command.args(["--features", "wrap"]);
    }
    run_checked(&mut command)?;
    Ok(dir.join("wasm32-wasip1/release/bench_guest.wasm"))
}

/// The size of a module's code section.
fn code_size(bytes: &[u8]) -> Result<usize> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionStart { size, .. } = payload? {
            return Ok(size as usize);
        }
    }
    Ok(0)
}

fn time_node(node: &Path, script: &Path, wasm: &Path, runs: usize) -> Result<(f64, String)> {
    let out = Command::new(node)
        .arg(script)
        .arg(wasm)
        .arg(runs.to_string())
        .output()
        .context("cannot run node")?;
    if !out.status.success() {
        bail!("node failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        v["median"].as_f64().unwrap_or(f64::NAN),
        v["out"].as_str().unwrap_or_default().to_owned(),
    ))
}

fn time_wasmtime(wasmtime: &Path, wasm: &Path, runs: usize) -> Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let status = Command::new(wasmtime)
            .args(["run", "-W", "exceptions=y", "--invoke", "_start"])
            .arg(wasm)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .context("cannot run wasmtime")?;
        if !status.success() {
            bail!("wasmtime failed on {} ({status})", wasm.display());
        }
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
