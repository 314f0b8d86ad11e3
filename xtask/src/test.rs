//! `cargo xtask test [ARGS…]`: the project's one test command.

use std::process::ExitCode;

use anyhow::{Context, Result};
use wasi_virt_tests::tools::{NODE_ENV, WASMTIME_ENV};

use crate::{cargo, setup};

/// Runs setup, then `cargo test --workspace ARGS…` with the tools' paths in
/// the environment, and exits as cargo does.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let tools = setup::run()?;
    let mut command = cargo();
    command
        .current_dir(wasi_virt_tests::repo_root())
        .args(["test", "--workspace"])
        .args(args)
        .env(NODE_ENV, &tools.node)
        .env(WASMTIME_ENV, &tools.wasmtime);
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
