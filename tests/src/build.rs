//! Building what the tests run: the example programs (their own workspace,
//! for wasm32) and the `wasi-virt` CLI.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

use anyhow::{Context, Result, bail};

/// The repository's root folder (the one holding the root `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    // The run-time value first (cargo sets it for `cargo run` and `cargo
    // test`): a binary built in another clone that shares the target folder
    // would otherwise point at that clone.
    let runtime = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let candidates = runtime
        .iter()
        .map(PathBuf::as_path)
        .chain([Path::new(env!("CARGO_MANIFEST_DIR"))]);
    for manifest_dir in candidates {
        if let Some(root) = manifest_dir
            .ancestors()
            .find(|dir| dir.join("xtask").is_dir() && dir.join("Cargo.toml").is_file())
        {
            return root.to_path_buf();
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("invariant: the tests crate sits one folder below the repository root")
        .to_path_buf()
}

/// The root workspace's target folder: `CARGO_TARGET_DIR` (a relative one
/// taken from the repository root, where cargo is run) or `target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// The cargo that runs us (`CARGO` is set by `cargo test` and `cargo run`),
/// so a nested build uses the same toolchain.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// Builds `package` of the examples workspace (`examples/Cargo.toml`) in
/// release mode for `target_triple` and returns its `.wasm`; panics with
/// cargo's diagnostics if the build fails.
///
/// See [`try_wasm_example`].
pub fn wasm_example(package: &str, target_triple: &str) -> PathBuf {
    try_wasm_example(package, target_triple).unwrap_or_else(|error| panic!("{error:#}"))
}

/// Builds `package` of the examples workspace in release mode for
/// `target_triple` and returns the path of its `.wasm` (a bin is
/// `demo-app.wasm`, a cdylib `vfs_demo.wasm`: the path comes from cargo).
///
/// Each package is built at most once per process. The build goes to
/// `<target dir>/wasm-examples`, apart from the root workspace's own
/// builds, so that it never waits on the lock of the `cargo test` that
/// runs it.
pub fn try_wasm_example(package: &str, target_triple: &str) -> Result<PathBuf> {
    static BUILT: Mutex<BTreeMap<(String, String), PathBuf>> = Mutex::new(BTreeMap::new());
    // Held during the build: two tests asking for the same package build it
    // once, and cargo would serialise two builds in one folder anyway.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (package.to_owned(), target_triple.to_owned());
    if let Some(path) = built.get(&key) {
        return Ok(path.clone());
    }
    let examples = repo_root().join("examples");
    let mut command = cargo();
    command
        .current_dir(&examples)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", target_triple, "-p", package])
        .arg("--manifest-path")
        .arg(examples.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir().join("wasm-examples"));
    let artifacts = run_cargo(command)
        .with_context(|| format!("while building example `{package}` for {target_triple}"))?;
    let wasm = pick_artifact(&artifacts, package, ".wasm")
        .with_context(|| format!("while building example `{package}` for {target_triple}"))?;
    built.insert(key, wasm.clone());
    Ok(wasm)
}

/// Builds the crate at `examples/<dir>`, a cargo workspace of its own
/// (`bindgen-guest`: its dependencies are not the examples workspace's), in
/// release mode for `target_triple` into `<target dir>/<dir>`, and returns
/// its `.wasm`; panics with cargo's diagnostics if the build fails.
pub fn wasm_example_workspace(dir: &str, target_triple: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<(String, String), PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (dir.to_owned(), target_triple.to_owned());
    if let Some(path) = built.get(&key) {
        return path.clone();
    }
    let root = repo_root().join("examples").join(dir);
    let mut command = cargo();
    command
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", target_triple])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir().join(dir));
    let wasm = run_cargo(command)
        .and_then(|artifacts| pick_artifact(&artifacts, dir, ".wasm"))
        .unwrap_or_else(|e| panic!("while building examples/{dir} for {target_triple}: {e:#}"));
    built.insert(key, wasm.clone());
    wasm
}

/// Runs `wasi-virt` with `args` (`merge …`, `pack …`), which must succeed:
/// panics with its stderr if not.
pub fn wasi_virt<I, S>(args: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(wasi_virt_bin())
        .args(args)
        .output()
        .expect("cannot run wasi-virt");
    assert!(
        output.status.success(),
        "wasi-virt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds the `wasi-virt` CLI (debug, into [`target_dir`]) and returns the
/// path of the binary; panics with cargo's diagnostics if the build fails.
pub fn wasi_virt_bin() -> PathBuf {
    try_wasi_virt_bin().unwrap_or_else(|error| panic!("{error:#}"))
}

/// Builds the `wasi-virt` CLI once per process and returns its path.
///
/// `CARGO_BIN_EXE_wasi-virt` exists only in the CLI crate's own tests, so
/// other crates ask cargo, with the command that runs them: `cargo test
/// --workspace` (`--no-run`) resolves the features of every dependency as
/// the outer run did, so the binary it built is the one found, at no cost.
/// A `cargo build -p wasi-virt-cli` would resolve them for the CLI alone and
/// build binaryen's C++ a second time (about 14 CPU-minutes).
pub fn try_wasi_virt_bin() -> Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        let mut command = cargo();
        command
            .current_dir(repo_root())
            .args(["test", "--workspace", "--no-run"])
            .arg("--message-format=json-render-diagnostics")
            .arg("--target-dir")
            .arg(target_dir());
        run_cargo(command)
            .and_then(|artifacts| pick_artifact(&artifacts, "wasi-virt", ""))
            .context("while building the wasi-virt CLI")
            .map_err(|error| format!("{error:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

/// One file cargo reported building: the target's name and the file.
pub(crate) struct Artifact {
    target_name: String,
    file: PathBuf,
}

/// Runs a `cargo build --message-format=json-render-diagnostics` and returns
/// the files of its bin and cdylib targets; on failure the error carries
/// cargo's rendered diagnostics.
pub(crate) fn run_cargo(mut command: Command) -> Result<Vec<Artifact>> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut artifacts = Vec::new();
    for line in output.stdout.split(|&byte| byte == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        // A test harness (`profile.test`) is not the bin or cdylib itself.
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] == true {
            continue;
        }
        let kinds = message["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !kinds.iter().any(|kind| kind == "bin" || kind == "cdylib") {
            continue;
        }
        let target_name = message["target"]["name"].as_str().unwrap_or_default();
        // A bin names its `executable`; a cdylib only lists `filenames`.
        let files = message["executable"]
            .as_str()
            .map(|file| vec![file])
            .unwrap_or_else(|| {
                message["filenames"]
                    .as_array()
                    .map(|files| files.iter().filter_map(|file| file.as_str()).collect())
                    .unwrap_or_default()
            });
        artifacts.extend(files.into_iter().map(|file| Artifact {
            target_name: target_name.to_owned(),
            file: PathBuf::from(file),
        }));
    }
    Ok(artifacts)
}

/// The one artifact whose file name ends with `suffix` and whose target is
/// `name` (a lib target's name has `_` for `-`).
pub(crate) fn pick_artifact(artifacts: &[Artifact], name: &str, suffix: &str) -> Result<PathBuf> {
    let lib_name = name.replace('-', "_");
    let mut matching = artifacts.iter().filter(|artifact| {
        (artifact.target_name == name || artifact.target_name == lib_name)
            && artifact.file.to_string_lossy().ends_with(suffix)
    });
    match (matching.next(), matching.next()) {
        (Some(artifact), None) => Ok(artifact.file.clone()),
        (None, _) => bail!(
            "cargo built no bin or cdylib `{name}`{}; it built: {:?}",
            if suffix.is_empty() {
                String::new()
            } else {
                format!(" ending in `{suffix}`")
            },
            artifacts
                .iter()
                .map(|artifact| &artifact.file)
                .collect::<Vec<_>>()
        ),
        (Some(first), Some(second)) => bail!(
            "cargo built more than one `{name}`: {} and {}",
            first.file.display(),
            second.file.display()
        ),
    }
}

/// Copies the folder `from` into `to` (created if missing), recursively: a
/// writable copy of `examples/site` for a program that writes into it.
pub fn copy_dir_all(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let entry = entry?;
        let (source, destination) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            copy_dir_all(&source, &destination)?;
        } else {
            fs::copy(&source, &destination).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    source.display(),
                    destination.display()
                )
            })?;
        }
    }
    Ok(())
}
