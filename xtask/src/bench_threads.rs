//! The threads rows of `cargo xtask bench`: `examples/threads-app` packed,
//! run by wasmtime 46 (`-S threads`). The program times itself (`--clock
//! host`), so that wasmtime's start-up and compile are not in the figures.
//! - `work N`: rayon counting primes on a pool of N threads, 1 vs 2;
//! - `calls`: open + read 16 bytes + close of one packed file, the program
//!   built for `wasm32-wasip1-threads` (a threads output: the lock around
//!   the guest) vs the same code built for `wasm32-wasip1`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use wasi_virt_tests::{tools, try_wasm_example};

use crate::bench::Table;
use crate::run_checked;

/// wasmtime's flags for a threads output.
const THREADS: [&str; 4] = ["-W", "threads=y,shared-memory=y", "-S", "threads=y"];

/// Adds the threads rows to `table`, each the best of `runs`.
pub fn rows(cli: &Path, work: &Path, runs: usize, table: &mut Table) -> Result<()> {
    let Some(wasmtime) = tools::wasmtime_threads_cli() else {
        println!(
            "  (no threads rows: wasmtime {} is not installed; run `cargo xtask setup`)",
            tools::WASMTIME_THREADS_VERSION
        );
        return Ok(());
    };
    let threads_app = try_wasm_example("threads-app", "wasm32-wasip1-threads")?;
    let plain_app = try_wasm_example("threads-app", "wasm32-wasip1")?;
    let pack = |app: &Path, name: &str, args: &[&str]| -> Result<std::path::PathBuf> {
        let out = work.join(name);
        let mut command = Command::new(cli);
        command.arg("pack").arg(app).arg("-o").arg(&out);
        command.args(["--dir", "/tmp", "--stdio", "inherit", "--clock", "host"]);
        for arg in args {
            command.args(["--arg", arg]);
        }
        run_checked(&mut command)?;
        Ok(out)
    };
    let best = |wasm: &Path, threads: bool, unit: &str| -> Result<f64> {
        let mut times = Vec::new();
        for _ in 0..runs {
            let mut command = Command::new(&wasmtime);
            command.arg("run");
            if threads {
                command.args(THREADS);
            }
            let output = command.arg(wasm).output().context("cannot run wasmtime")?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                bail!(
                    "{} failed: {}",
                    wasm.display(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            times.push(figure(&stdout, unit)?);
        }
        Ok(times.into_iter().fold(f64::INFINITY, f64::min))
    };
    let one = best(
        &pack(&threads_app, "work-1.wasm", &["work", "1"])?,
        true,
        "ms",
    )?;
    let two = best(
        &pack(&threads_app, "work-2.wasm", &["work", "2"])?,
        true,
        "ms",
    )?;
    table.row(
        "threads: rayon workload packed, 2 threads vs 1 (wasmtime 46; goal >= 1.7x on 2 cores)",
        format!("{two:.0} ms"),
        format!("{one:.0} ms"),
        format!("{:.2}x", one / two),
    );
    node_rows(cli, &threads_app, work, runs, table)?;
    let calls = ["calls", "20000"];
    let threaded = best(
        &pack(&threads_app, "calls-threads.wasm", &calls)?,
        true,
        "ns",
    )?;
    let plain = best(&pack(&plain_app, "calls-plain.wasm", &calls)?, false, "ns")?;
    table.row(
        "threads: one open + read + close, threads output vs the same program without threads (goal <= 1.3x)",
        format!("{threaded:.0} ns"),
        format!("{plain:.0} ns"),
        format!("{:.2}x", threaded / plain),
    );
    Ok(())
}

/// The rayon workload and the start-up of a threads output through its
/// `--js` module in Node (`tests/node/bench-threads.mjs`).
fn node_rows(cli: &Path, app: &Path, work: &Path, runs: usize, table: &mut Table) -> Result<()> {
    let Some(node) = tools::node22() else {
        println!("  (no Node rows for threads: no Node >= 22)");
        return Ok(());
    };
    let (wasm, js) = (work.join("threads-js.wasm"), work.join("threads-js.js"));
    run_checked(
        Command::new(cli)
            .arg("pack")
            .arg(app)
            .arg("-o")
            .arg(&wasm)
            .args(["--dir", "/tmp", "--clock", "host", "--js"])
            .arg(&js),
    )?;
    let output = Command::new(node)
        .arg(tools::node_project_dir().join("bench-threads.mjs"))
        .arg(&js)
        .arg(runs.to_string())
        .output()
        .context("cannot run Node")?;
    if !output.status.success() {
        bail!(
            "bench-threads.mjs failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let figures: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let ms = |key: &str| {
        figures[key]
            .as_f64()
            .with_context(|| format!("no {key} in {figures}"))
    };
    let (one, two) = (ms("work1")?, ms("work2")?);
    table.row(
        "threads: rayon workload packed, 2 threads vs 1, Node 22 through --js (goal >= 1.7x on 2 cores)",
        format!("{two:.0} ms"),
        format!("{one:.0} ms"),
        format!("{:.2}x", one / two),
    );
    table.row(
        "threads: start-up through --js in Node, instantiate to the end of `spawn` (a pool of 4 Workers, 4 threads)",
        format!("{:.0} ms", ms("startup")?),
        "-".into(),
        "-".into(),
    );
    Ok(())
}

/// The number before the word `unit` in the program's line
/// (`49098 primes, 75 ms`, `1038 ns per open + read + close`).
fn figure(stdout: &str, unit: &str) -> Result<f64> {
    let words: Vec<&str> = stdout.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].trim_end_matches(',') == unit)
        .and_then(|w| w[0].parse().ok())
        .with_context(|| format!("no figure in {unit} in {stdout:?}"))
}
