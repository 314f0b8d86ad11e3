//! `cargo xtask demo`: the whole pipeline on the examples: build the target
//! `demo-app` and the guest `vfs-demo`, merge them with `wasi-virt merge`,
//! and run the result in wasmi with nothing linked.

use std::io::Write;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use wasi_virt_tests::{Outcome, run_in_wasmi, target_dir, try_wasi_virt_bin, try_wasm_example};

use crate::run_checked;

/// Builds, merges, runs; exits with the merged program's exit code.
pub fn run() -> Result<ExitCode> {
    crate::setup::rust_targets()?;
    let app = try_wasm_example("demo-app", "wasm32-wasip1")?;
    eprintln!("demo: target {}", app.display());

    let guest = try_wasm_example("vfs-demo", "wasm32-wasip1")?;
    eprintln!("demo: guest  {}", guest.display());
    let merged = target_dir().join("demo/demo-app.merged.wasm");
    std::fs::create_dir_all(
        merged
            .parent()
            .expect("invariant: a file path has a parent"),
    )?;
    run_checked(
        Command::new(try_wasi_virt_bin()?)
            .arg("merge")
            .arg(&guest)
            .arg(&app)
            .arg("-o")
            .arg(&merged),
    )?;
    eprintln!("demo: merged {}", merged.display());
    let wasm =
        std::fs::read(&merged).with_context(|| format!("cannot read {}", merged.display()))?;
    let outcome =
        run_in_wasmi(&wasm, "_start").context("while running the merged module in wasmi")?;
    report(&outcome)
}

/// Prints the run's stdout and stderr as the program wrote them and turns
/// its end into this process's exit code (a trap exits 134, as an abort).
fn report(outcome: &Outcome) -> Result<ExitCode> {
    std::io::stdout().write_all(&outcome.stdout)?;
    std::io::stderr().write_all(&outcome.stderr)?;
    if let Some(trap) = &outcome.trap {
        eprintln!("demo: the merged module trapped: {trap}");
        return Ok(ExitCode::from(134));
    }
    let code = outcome.exit_code.unwrap_or(0);
    eprintln!("demo: exit code {code}");
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
