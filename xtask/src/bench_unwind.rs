//! `cargo xtask bench-unwind [RUNS]`: what `wrap_unreachable!` costs, in
//! code size and run time, under each `--unwind` strategy.
//!
//! The target is `examples/hash-app` (SHA-256 of 64 MiB: all of its time in
//! code that calls no WASI function, where a careless rewrite would hurt
//! most). It is merged three times with `examples/bench-guest`, built once
//! without and once with its feature `wrap` (the builds differ only by the
//! `wrap_unreachable!`): unwrapped, `--unwind flags`, `--unwind exceptions`.
//! For each output it prints the size of the code section, and the CPU time
//! of `_start` (the hash) in Node ≥ 22, measured in the process
//! (`process.cpuUsage()` around the call, a fresh instance per run, the
//! module compiled once, two warm-up runs first), and in the wasmtime CLI
//! (the CPU time of `wasmtime run --allow-precompiled --invoke _start`, as
//! bash's `times` reports it, on a module compiled beforehand with
//! `wasmtime compile`, so that compiling is not counted). CPU time rather
//! than wall time, and the variants taking turns for RUNS (default 7)
//! rounds, the fastest of each kept: on a machine shared with other work,
//! that is the figure least disturbed by it. The numbers go into BENCHMARKS.md by
//! hand, with the machine and commit.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use wasi_virt_tests::{target_dir, tools, try_wasi_virt_bin, try_wasm_example};

use crate::{cargo, run_checked};

/// The Node script: compile once; two untimed runs, so that V8's optimizing
/// tier has compiled the hot functions; then RUNS timed runs, each on a
/// fresh instance, timing `_start` alone. Prints the fastest and the
/// captured stdout.
const NODE_SCRIPT: &str = r#"
import { readFileSync } from "node:fs";
const [path, runs] = process.argv.slice(2);
const module = await WebAssembly.compile(readFileSync(path));
let best = Infinity;
let out = "";
for (let i = 0; i < 2 + Number(runs); i++) {
  const x = new WebAssembly.Instance(module, {}).exports;
  const t0 = process.cpuUsage();
  x._start();
  const used = process.cpuUsage(t0);
  const t = (used.user + used.system) / 1000;
  if (i >= 2) best = Math.min(best, t);
  out = new TextDecoder().decode(
    new Uint8Array(x.memory.buffer, x.wasi_virt_stdout_ptr(), x.wasi_virt_stdout_len()));
}
console.log(JSON.stringify({ best, out }));
"#;

/// One merged output.
struct Variant {
    name: &'static str,
    path: PathBuf,
}

/// Builds, merges, measures, prints a table. `args`: RUNS, and a target
/// other than hash-app to measure the code size of (then nothing is timed:
/// an arbitrary program has no fixed workload).
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut runs = 7;
    let mut other = None;
    for arg in args {
        match arg.parse() {
            Ok(n) => runs = n,
            Err(_) => other = Some(PathBuf::from(arg)),
        }
    }
    crate::setup::rust_targets()?;
    let timed = other.is_none();
    let app = match other {
        Some(path) => path,
        None => try_wasm_example("hash-app", "wasm32-wasip1")?,
    };
    let stem = app
        .file_stem()
        .map_or("app".into(), |s| s.to_string_lossy().into_owned());
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
        let path = out_dir.join(format!("{stem}-{name}.wasm"));
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

    let node = tools::node22().filter(|_| timed);
    let wasmtime = tools::wasmtime_cli().filter(|_| timed);
    let script = out_dir.join("time.mjs");
    std::fs::write(&script, NODE_SCRIPT)?;
    let mut precompiled = Vec::new();
    if let Some(w) = &wasmtime {
        for v in &variants {
            let cwasm = v.path.with_extension("cwasm");
            run_checked(
                Command::new(w)
                    .args(["compile", "-W", "exceptions=y"])
                    .arg(&v.path)
                    .arg("-o")
                    .arg(&cwasm),
            )?;
            precompiled.push(cwasm);
        }
    }
    let mut node_best = vec![f64::NAN; variants.len()];
    let mut wasmtime_best = vec![f64::NAN; variants.len()];
    let mut digest: Option<String> = None;
    for round in 0..if timed { runs } else { 0 } {
        eprintln!("bench-unwind: round {} of {runs}", round + 1);
        for (i, v) in variants.iter().enumerate() {
            if let Some(node) = &node {
                let (ms, out) = time_node(node, &script, &v.path, 1)?;
                node_best[i] = node_best[i].min(ms);
                match &digest {
                    None => digest = Some(out),
                    Some(d) if *d != out => bail!("{} printed {out:?}, not {d:?}", v.name),
                    Some(_) => {}
                }
            }
            if let Some(w) = &wasmtime {
                wasmtime_best[i] = wasmtime_best[i].min(time_wasmtime(w, &precompiled[i])?);
            }
        }
    }

    let target_code = code_size(&std::fs::read(&app)?)?;
    println!(
        "{}: code section {target_code} bytes; CPU time, fastest of {runs} rounds\n",
        app.display()
    );
    println!(
        "| output | code section | vs unwrapped | Node `_start` | vs unwrapped | wasmtime run | vs unwrapped |"
    );
    println!("|---|---|---|---|---|---|---|");
    let pct = |x: f64, x0: f64| format!("{:+.1}%", (x / x0 - 1.0) * 100.0);
    let c0 = code_size(&std::fs::read(&variants[0].path)?)?;
    for (i, v) in variants.iter().enumerate() {
        let code = code_size(&std::fs::read(&v.path)?)?;
        println!(
            "| {} | {code} B | {:+} B ({} of the target's code) | {:.1} ms | {} | {:.1} ms | {} |",
            v.name,
            code as i64 - c0 as i64,
            pct(
                target_code as f64 + code as f64 - c0 as f64,
                target_code as f64
            ),
            node_best[i],
            pct(node_best[i], node_best[0]),
            wasmtime_best[i],
            pct(wasmtime_best[i], wasmtime_best[0]),
        );
    }
    // The target keeps its function indices in every output (its WASI
    // imports become trampolines at theirs), so its bodies line up.
    let target_funcs = function_count(&std::fs::read(&app)?)?;
    let bodies: Vec<Vec<Vec<u8>>> = variants
        .iter()
        .map(|v| bodies(&std::fs::read(&v.path)?, target_funcs))
        .collect::<Result<_>>()?;
    for (v, b) in variants.iter().zip(&bodies).skip(1) {
        let changed = b.iter().zip(&bodies[0]).filter(|(x, y)| x != y).count();
        println!(
            "\n{}: {changed} of the target's {target_funcs} functions rewritten",
            v.name
        );
    }
    if let Some(digest) = digest {
        println!("\nprogram output: {}", digest.trim());
    }
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

/// How many functions a module has, imported ones included.
fn function_count(bytes: &[u8]) -> Result<usize> {
    let mut count = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload? {
            wasmparser::Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Func(_)) {
                        count += 1;
                    }
                }
            }
            wasmparser::Payload::FunctionSection(s) => count += s.count() as usize,
            _ => {}
        }
    }
    Ok(count)
}

/// The first `n` function bodies of a module, as bytes.
fn bodies(bytes: &[u8], n: usize) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload? {
            if out.len() == n {
                break;
            }
            out.push(body.as_bytes().to_vec());
        }
    }
    Ok(out)
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
        v["best"].as_f64().unwrap_or(f64::NAN),
        v["out"].as_str().unwrap_or_default().to_owned(),
    ))
}

fn time_wasmtime(wasmtime: &Path, cwasm: &Path) -> Result<f64> {
    // bash's `times` prints the CPU time of the children it waited for.
    let script = "\"$0\" run -W exceptions=y --allow-precompiled --invoke _start \"$1\" \
        >/dev/null 2>&1 || exit 1; times";
    let out = Command::new("bash")
        .args(["-c", script])
        .arg(wasmtime)
        .arg(cwasm)
        .output()
        .context("cannot run bash")?;
    if !out.status.success() {
        bail!("wasmtime failed on {}", cwasm.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let children = text
        .lines()
        .nth(1)
        .context("bash's `times` printed no second line")?;
    children
        .split_whitespace()
        .map(seconds)
        .sum::<Result<f64>>()
        .map(|s| s * 1e3)
}

/// `1m0.640s` as seconds.
fn seconds(text: &str) -> Result<f64> {
    let (minutes, rest) = text
        .split_once('m')
        .with_context(|| format!("not a time: {text}"))?;
    let secs: f64 = rest.trim_end_matches('s').parse()?;
    Ok(minutes.parse::<f64>()? * 60.0 + secs)
}
