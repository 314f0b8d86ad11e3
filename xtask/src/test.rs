//! `cargo xtask test [ARGS…]`: the project's one test command.

use std::process::{Command, ExitCode, ExitStatus};

use anyhow::{Context, Result};
use wasi_virt_tests::tools::{NODE_ENV, WASMTIME_ENV};

use crate::{cargo, setup};

/// Runs setup, then `cargo test --workspace ARGS…` with the tools' paths in
/// the environment, and exits as cargo does.
///
/// The tests' build needs only the Rust targets, so it starts first and
/// compiles while the rest of the setup downloads (Node, wasmtime, the
/// third-party programs): on a fresh machine that hides most of the setup.
pub fn run(args: &[String]) -> Result<ExitCode> {
    setup::rust_targets()?;
    let cargo_args = args.split(|arg| arg == "--").next().unwrap_or_default();
    let mut build = test_command(cargo_args);
    build.arg("--no-run");
    let mut building = build
        .spawn()
        .with_context(|| format!("cannot run {build:?}"))?;
    let tools = setup::tools();
    let built = building
        .wait()
        .with_context(|| format!("cannot wait for {build:?}"))?;
    let tools = tools?;
    if !built.success() {
        return Ok(exit_code(built));
    }
    let mut command = test_command(args);
    command
        .env(NODE_ENV, &tools.node)
        .env(WASMTIME_ENV, &tools.wasmtime);
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    Ok(exit_code(status))
}

/// `cargo test --workspace ARGS…` in the repository.
fn test_command(args: &[String]) -> Command {
    let mut command = cargo();
    command
        .current_dir(wasi_virt_tests::repo_root())
        .args(["test", "--workspace"])
        .args(args);
    command
}

fn exit_code(status: ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}
