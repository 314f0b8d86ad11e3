//! The npm package `wasi-virt` (folder `npm/`): the CLI built for
//! `wasm32-wasip1` without binaryen, packed by the CLI itself into a module
//! that imports nothing, with the package's JavaScript beside it, as the
//! tarball `npm pack` makes. `cargo xtask npm` and the tests build it here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::build::{cargo, pick_artifact, run_cargo};
use crate::{repo_root, target_dir};

/// The package's own files, copied as they are (paths inside `npm/`).
const SOURCES: [&str; 6] = [
    "package.json",
    "README.md",
    "index.js",
    "index.d.ts",
    "session.js",
    "bin/wasi-virt.js",
];

/// Builds the CLI for `wasm32-wasip1` (release, no binaryen) and returns its
/// `.wasm`.
pub fn build_wasm_cli() -> Result<PathBuf> {
    let mut command = cargo();
    command
        .current_dir(repo_root())
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", "wasm32-wasip1", "--no-default-features"])
        .args(["-p", "wasi-virt-cli", "--bin", "wasi-virt"])
        .arg("--target-dir")
        .arg(target_dir());
    run_cargo(command)
        .and_then(|artifacts| pick_artifact(&artifacts, "wasi-virt", ".wasm"))
        .context("while building the wasi-virt CLI for wasm32-wasip1")
}

/// Builds the package with the native CLI `wasi_virt` (which packs the
/// WebAssembly one) into `<target dir>/npm/`, and returns the tarball.
pub fn build_package(wasi_virt: &Path) -> Result<PathBuf> {
    let wasm_cli = build_wasm_cli()?;
    let out = target_dir().join("npm");
    let stage = out.join("package");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("cannot empty {}", stage.display()))?;
    }
    fs::create_dir_all(stage.join("bin"))?;
    fs::create_dir_all(stage.join("wasm"))?;
    let npm = repo_root().join("npm");
    for file in SOURCES {
        fs::copy(npm.join(file), stage.join(file))
            .with_context(|| format!("cannot copy npm/{file}"))?;
    }
    // An empty writable root: the front end puts each command's files in it.
    run(Command::new(wasi_virt)
        .arg("pack")
        .arg(&wasm_cli)
        .arg("-o")
        .arg(stage.join("wasm/wasi-virt.wasm"))
        .args(["--dir", "/", "--argv0", "wasi-virt", "--js"])
        .arg(stage.join("wasm/wasi-virt.js")))?;
    let tarball = out.join(format!("wasi-virt-{}.tgz", env!("CARGO_PKG_VERSION")));
    let _ = fs::remove_file(&tarball);
    run(Command::new("npm")
        .current_dir(&stage)
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&out))?;
    if !tarball.is_file() {
        bail!("npm pack wrote no {}", tarball.display());
    }
    Ok(tarball)
}

/// Installs the tarball into the folder `project` (a `package.json` is
/// made if it has none), as a user would: `npm install ./wasi-virt-….tgz`.
/// No registry is asked: the package depends on nothing.
pub fn install_package(tarball: &Path, project: &Path) -> Result<()> {
    fs::create_dir_all(project)?;
    let manifest = project.join("package.json");
    if !manifest.exists() {
        fs::write(&manifest, "{ \"private\": true, \"type\": \"module\" }\n")?;
    }
    run(Command::new("npm")
        .current_dir(project)
        .args([
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--silent",
        ])
        .arg(tarball))
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
