//! The npm package's rows of `cargo xtask bench`: `wasi-virt pack` through
//! the package (the CLI compiled to WebAssembly, in Node 22) vs the native
//! release CLI, the same command in the same folder: demo-app with
//! `examples/site`, and the 100 MiB tree of 5,000 files. Wall time of the
//! whole command (Node's start-up, the compile of the CLI's module, copying
//! the files in and the output out, included), median of `runs`. And the
//! API called again and again in one process (`tests/node/bench-npm.mjs`),
//! where neither Node's start-up nor the compile recurs.

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use wasi_virt_tests::{npm, repo_root, tools, trees, try_wasm_example};

use crate::bench::{Table, wall};

/// Adds the npm rows to `table`.
pub fn rows(cli: &Path, work: &Path, runs: usize, table: &mut Table) -> Result<()> {
    let Some(node) = tools::node22() else {
        println!("  (no npm rows: no Node 22; run `cargo xtask setup`)");
        return Ok(());
    };
    let project = work.join("npm-project");
    let _ = std::fs::remove_dir_all(&project);
    npm::install_package(&npm::build_package(cli)?, &project)?;
    let front_end = project.join("node_modules/wasi-virt/bin/wasi-virt.js");
    let demo = try_wasm_example("demo-app", "wasm32-wasip1")?;
    let tree = work.join("npm-tree");
    if !tree.join("d0049").is_dir() {
        trees::big_tree(&tree)?;
    }
    let site = repo_root().join("examples/site");
    for (what, folder) in [
        ("demo-app with examples/site", site.as_path()),
        ("demo-app with 5,000 files, 100 MiB", tree.as_path()),
    ] {
        let args = |out: &str| -> Vec<std::ffi::OsString> {
            let mount = format!("/={}", folder.display());
            vec![
                "pack".into(),
                demo.clone().into(),
                "-o".into(),
                work.join(out).into(),
                "--dir".into(),
                mount.into(),
            ]
        };
        let ours = wall(runs, || {
            let mut command = Command::new(&node);
            command.arg(&front_end).args(args("npm-out.wasm"));
            command
        })?;
        let native = wall(runs, || {
            let mut command = Command::new(cli);
            command.args(args("native-out.wasm"));
            command
        })?;
        let same = std::fs::read(work.join("npm-out.wasm"))?
            == std::fs::read(work.join("native-out.wasm"))?;
        anyhow::ensure!(
            same,
            "the npm package's output differs from the native CLI's ({what})"
        );
        table.row(
            &format!("npm package in Node 22 vs the native CLI: `pack` {what} (goal ≤ 3×)"),
            format!("{ours:.3} s"),
            format!("{native:.3} s"),
            format!("{:.2}×", ours / native),
        );
    }
    // The API with the module compiled once (a bundler plugin, the page):
    // no Node start-up, no compile.
    let script = project.join("bench-npm.mjs");
    std::fs::copy(repo_root().join("tests/node/bench-npm.mjs"), &script)?;
    let output = Command::new(&node)
        .arg(&script)
        .arg(&demo)
        .arg(&site)
        .arg(runs.to_string())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "bench-npm.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let api = shown["median"].as_f64().unwrap_or(f64::NAN) / 1e3;
    let native = wall(runs, || {
        let mut command = Command::new(cli);
        command
            .arg("pack")
            .arg(&demo)
            .arg("-o")
            .arg(work.join("native-out.wasm"));
        command.arg("--dir").arg(format!("/={}", site.display()));
        command
    })?;
    table.row(
        "npm package's API, module compiled once (first call not counted) vs the native CLI: `pack` demo-app with examples/site",
        format!("{api:.3} s"),
        format!("{native:.3} s"),
        format!("{:.2}×", api / native),
    );
    Ok(())
}
