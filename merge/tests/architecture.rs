//! The merge's passes form a pipeline in the strict sense: a pass uses the
//! shared modules and the passes before it, never one after it, and the
//! shared modules use no pass. This test reads the sources and holds them
//! to that (code under `#[cfg(test)]` is exempt: tests may build inputs
//! with any pass).

use std::path::Path;

/// Every pass and helper of a pass, in pipeline order.
const PIPELINE: [&str; 15] = [
    "read_manifest",
    "bind_targets",
    "check_imports",
    "layout",
    "wrap_unreachable",
    "control",
    "rewire_imports",
    "threads",
    "bridge_memories",
    "generated",
    "reset",
    "control_bodies",
    "start",
    "emit",
    "validate",
];

/// Modules every pass may use, which use no pass.
const SHARED: [&str; 4] = ["types", "index", "module", "provenance"];

fn source(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Tests come last in a file; they are exempt.
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The passes `text` refers to, as `super::x` or `crate::passes::x`.
fn passes_used(text: &str) -> Vec<&'static str> {
    PIPELINE
        .iter()
        .copied()
        .filter(|pass| {
            [format!("super::{pass}"), format!("crate::passes::{pass}")]
                .iter()
                .any(|path| {
                    text.match_indices(path.as_str()).any(|(at, _)| {
                        let after = text[at + path.len()..].chars().next();
                        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
                })
        })
        .collect()
}

#[test]
fn no_pass_uses_a_later_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/passes");
    let mut found = Vec::new();
    for (stage, pass) in PIPELINE.iter().enumerate() {
        let text = source(&dir.join(format!("{pass}.rs")));
        for used in passes_used(&text) {
            let at = PIPELINE.iter().position(|p| *p == used).unwrap();
            if at >= stage && used != *pass {
                found.push(format!("{pass} uses {used}, a later pass"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_shared_modules_use_no_pass() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for shared in SHARED {
        let text = source(&src.join(format!("{shared}.rs")));
        assert!(
            !text.contains("crate::passes") && !text.contains("crate::transforms"),
            "{shared}.rs uses a pass or a transform"
        );
    }
}

#[test]
fn every_pass_file_is_in_the_pipeline_list() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/passes");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if ["mod", "fixtures"].contains(&stem) {
            continue;
        }
        assert!(
            PIPELINE.contains(&stem),
            "passes/{name} is not in PIPELINE: say where it stands"
        );
    }
}
