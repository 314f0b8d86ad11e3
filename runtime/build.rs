//! Sets `cfg(wasi_virt_one_thread)` when the target cannot run threads:
//! wasm without the `atomics` target feature. That is where
//! `wasi_virt::cell::OneThread` is `Sync` (see `src/cell.rs`).
//!
//! A build script, because `cfg(target_feature = "atomics")` cannot say it:
//! `atomics` is an unstable target feature, which a stable rustc leaves out
//! of `cfg` even where it is on (`wasm32-wasip1-threads`, whose programs
//! run threads over a shared memory, has the same `cfg` as
//! `wasm32-wasip1`). So the target's name and the flags are read too.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasi_virt_one_thread)");
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name| env::var(name).unwrap_or_default();
    let wasm = var("CARGO_CFG_TARGET_FAMILY")
        .split(',')
        .any(|f| f == "wasm");
    // A nightly rustc (or `RUSTC_BOOTSTRAP`) does report the feature.
    let reported = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "atomics");
    // `-C target-feature=+atomics` (or `-Ctarget-feature=…,+atomics`).
    let asked = var("CARGO_ENCODED_RUSTFLAGS")
        .split('\x1f')
        .any(|flag| flag.contains("+atomics"));
    let threads_target = var("TARGET").ends_with("-threads");
    if wasm && !(reported || asked || threads_target) {
        println!("cargo::rustc-cfg=wasi_virt_one_thread");
    }
}
