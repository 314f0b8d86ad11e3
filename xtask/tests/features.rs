//! `cargo xtask test` builds xtask alone first, then the whole workspace;
//! cargo unifies features only among the packages of one build, so each
//! dependency of xtask is compiled once only if xtask turns on every
//! feature the rest of the workspace does (the lists in xtask/Cargo.toml).
//! This test fails, naming the features to add or remove there, when the
//! two differ.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each package's features in `cargo tree` of `packages`, with or without
/// binaryen (`--cfg wasi_virt_no_binaryen`, as CI builds).
fn features(packages: &[&str], edges: &str, binaryen: bool) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .arg("tree")
        .args(packages)
        .args(["--edges", edges, "--prefix", "none", "--no-dedupe"])
        .args(["--format", "{p}|{f}"])
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if binaryen {
        command.env_remove("RUSTFLAGS");
    } else {
        command.env("RUSTFLAGS", "--cfg wasi_virt_no_binaryen");
    }
    let out = command.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // `name vX.Y.Z (path)|feature,feature`.
        let Some((package, on)) = line.rsplit_once('|') else {
            continue;
        };
        let package = package.split(" (").next().unwrap_or(package);
        features
            .entry(package.to_string())
            .or_default()
            .extend(on.split(',').filter(|f| !f.is_empty()).map(String::from));
    }
    features
}

#[test]
fn xtask_turns_on_every_feature_the_workspace_does() {
    for binaryen in [true, false] {
        let xtask = features(&["--package", "xtask"], "normal,build", binaryen);
        let workspace = features(&["--workspace"], "normal,build,dev", binaryen);
        let differ: Vec<String> = xtask
            .iter()
            .filter_map(|(package, on)| {
                let there = workspace.get(package)?;
                let add: Vec<&String> = there.difference(on).collect();
                let remove: Vec<&String> = on.difference(there).collect();
                (!add.is_empty() || !remove.is_empty())
                    .then(|| format!("{package}: add {add:?}, remove {remove:?}"))
            })
            .collect();
        assert!(
            differ.is_empty(),
            "xtask/Cargo.toml's features differ from the workspace's (binaryen {}):\n{}",
            if binaryen { "on" } else { "off" },
            differ.join("\n")
        );
    }
}
