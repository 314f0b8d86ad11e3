//! `cargo xtask demo`: the whole pipeline on the examples, run in wasmi with
//! nothing linked.
//!
//! - `demo` (or `demo pack`): build the target `demo-app`, pack it with
//!   `examples/site` as `/` using `wasi-virt pack` (no guest crate at all);
//! - `demo merge`: build `demo-app` and the guest `vfs-demo`, merge them
//!   with `wasi-virt merge`.

use std::io::Write;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use wasi_virt_tests::{Outcome, run_in_wasmi, target_dir, try_wasm_example};

use crate::run_checked;

/// `demo [pack | merge]`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    match args.first().map(String::as_str) {
        None | Some("pack") => pack(),
        Some("merge") => merge(),
        Some(other) => {
            anyhow::bail!("unknown demo `{other}`: write `demo`, `demo pack` or `demo merge`")
        }
    }
}

/// Builds demo-app, packs it with `examples/site`, runs it; exits with the
/// program's exit code.
fn pack() -> Result<ExitCode> {
    crate::setup::rust_targets()?;
    let app = try_wasm_example("demo-app", "wasm32-wasip1")?;
    eprintln!("demo: target {}", app.display());
    let packed = target_dir().join("demo/demo-app.packed.wasm");
    std::fs::create_dir_all(
        packed
            .parent()
            .expect("invariant: a file path has a parent"),
    )?;
    let site = wasi_virt_tests::repo_root().join("examples/site");
    let mut command = Command::new(crate::cli_without_binaryen()?);
    command
        .arg("pack")
        .arg(&app)
        .arg("-o")
        .arg(&packed)
        .arg("--dir")
        .arg(format!("/={}", site.display()))
        .args([
            "--env",
            "GREETING=hello from wasi-virt pack",
            "--env",
            "EXIT_CODE=3",
        ])
        .args(["--", "hello", "wörld"]);
    eprintln!(
        "demo: wasi-virt pack {} -o {} --dir /={} --env GREETING=… --env EXIT_CODE=3 -- hello wörld",
        app.display(),
        packed.display(),
        site.display()
    );
    run_checked(&mut command)?;
    let wasm =
        std::fs::read(&packed).with_context(|| format!("cannot read {}", packed.display()))?;
    let outcome =
        run_in_wasmi(&wasm, "_start").context("while running the packed module in wasmi")?;
    report(&outcome)
}

/// Builds, merges, runs; exits with the merged program's exit code.
fn merge() -> Result<ExitCode> {
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
        Command::new(crate::cli_without_binaryen()?)
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
        eprintln!("demo: the module trapped: {trap}");
        return Ok(ExitCode::from(134));
    }
    let code = outcome.exit_code.unwrap_or(0);
    eprintln!("demo: exit code {code}");
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
