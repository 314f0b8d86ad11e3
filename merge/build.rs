//! Builds the default guest of `wasi-virt pack` (`merge/pack-guest`, from this
//! repository's `runtime/` and `macros/`) for `wasm32-unknown-unknown` and
//! puts it in `OUT_DIR/pack-guest.wasm`, which the library embeds with
//! `include_bytes!`. A user who installs the CLI can then pack with no
//! Rust toolchain for wasm, and no binary is committed to the repository.
//!
//! - `WASI_VIRT_PACK_GUEST=path/to/guest.wasm` uses a prebuilt guest
//!   instead (for a build machine without the wasm32 target).
//! - The guest is built with a nested `cargo build --release` into
//!   `<target dir>/pack-guest`, shared by every profile and by `clippy`, so
//!   that it is built once and rebuilt only when its sources change.
//!
//! Why not a workspace member: the guest builds for wasm32 only, and the
//! root workspace's `cargo test`/`clippy` build every member for the host.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";
const OVERRIDE: &str = "WASI_VIRT_PACK_GUEST";

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let output = out_dir.join("pack-guest.wasm");
    println!("cargo:rerun-if-env-changed={OVERRIDE}");
    if let Some(prebuilt) = env::var_os(OVERRIDE).filter(|p| !p.is_empty()) {
        let prebuilt = PathBuf::from(prebuilt);
        println!("cargo:rerun-if-changed={}", prebuilt.display());
        if let Err(e) = std::fs::copy(&prebuilt, &output) {
            fail(&format!(
                "{OVERRIDE}={} cannot be read: {e}",
                prebuilt.display()
            ));
        }
        return;
    }

    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let guest = crate_dir.join("pack-guest");
    let repo = crate_dir
        .parent()
        .expect("the crate sits in the repository");
    for path in [
        guest.join("src"),
        guest.join("Cargo.toml"),
        guest.join("Cargo.lock"),
        repo.join("runtime/src"),
        repo.join("runtime/Cargo.toml"),
        repo.join("macros/src"),
        repo.join("macros/Cargo.toml"),
        repo.join("abi/src"),
        repo.join("abi/Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    if !guest.join("Cargo.toml").is_file() {
        fail(&format!(
            "{} is missing; set {OVERRIDE}=path/to/guest.wasm to use a prebuilt default guest",
            guest.display()
        ));
    }

    let target_dir = shared_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&guest)
        .args(["build", "--release", "--target", TARGET])
        .arg("--manifest-path")
        .arg(guest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host (or for clippy): none of
    // them applies to a wasm32 build of another workspace.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_PKG_NAME",
    ] {
        command.env_remove(var);
    }
    let result = command.output();
    let built = target_dir
        .join(TARGET)
        .join("release/wasi_virt_pack_guest.wasm");
    match result {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let hint = if stderr.contains("may not be installed")
                || stderr.contains("can't find crate for `core`")
                || stderr.contains("can't find crate for `std`")
            {
                format!(
                    "the Rust target {TARGET} is not installed: run `rustup target add {TARGET}`, or set {OVERRIDE}=path/to/guest.wasm to use a prebuilt default guest\n\n"
                )
            } else {
                String::new()
            };
            fail(&format!(
                "cannot build the default guest of `wasi-virt pack` ({}): {hint}{command:?} failed:\n{stderr}",
                guest.display()
            ));
        }
        Err(e) => fail(&format!("cannot run {command:?}: {e}")),
    }
    if let Err(e) = std::fs::copy(&built, &output) {
        fail(&format!("cannot copy {}: {e}", built.display()));
    }
}

/// `<target dir>/pack-guest`: `OUT_DIR` is `<target dir>/<profile>/build/
/// <pkg>-<hash>/out` (with a `<triple>/` before the profile when
/// cross-compiling); the folder above the one holding `build/` is the target
/// dir, shared by all profiles.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    let profile_dir = out_dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent);
    match profile_dir.and_then(Path::parent) {
        Some(target) => target.join("pack-guest"),
        None => out_dir.join("pack-guest-target"),
    }
}

/// Stops the build with `message` (cargo shows a failed build script's
/// stderr).
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
