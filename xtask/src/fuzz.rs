//! `cargo xtask fuzz [ARGS…]`: the full fuzzing run (`fuzz/`), ten minutes
//! by default.
//!
//! Builds the `wasi-virt` CLI and the fuzzer in release mode (merges are
//! most of a case's time) and runs `wasi-virt-fuzz ARGS…` (`--time SECS`,
//! `--cases N`, `--seed N`, `--first N`, `--artifacts DIR`), which prints
//! its figures and exits non-zero if it found anything.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cargo;

/// `wasi_virt_fuzz::CLI_ENV`, spelled here so that xtask does not build the
/// fuzzer's dependencies (wasm-smith) just to name a variable.
const CLI_ENV: &str = "WASI_VIRT_FUZZ_CLI";

/// Runs the fuzzer; with no arguments, `--time 600`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let root = wasi_virt_tests::repo_root();
    let cli = crate::release_cli()?;
    let default = ["--time".to_string(), "600".to_string()];
    let args = if args.is_empty() { &default[..] } else { args };
    let mut command = cargo();
    command
        .current_dir(&root)
        .args(["run", "--release", "-p", "wasi-virt-fuzz", "--"])
        .args(args)
        .env(CLI_ENV, &cli);
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
