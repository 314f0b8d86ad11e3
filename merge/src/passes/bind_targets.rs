//! Pass 2: decide which input is which target, before any target is parsed.
//!
//! A file is bound by an explicit `name=path`, else by its file stem (with
//! `-` read as `_`, since target names are Rust identifiers). A guest that
//! declares exactly one target takes a single file whatever its name, which
//! is the common case and must not depend on how the build named the file.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use wasi_virt_abi::manifest::Manifest;
use wasi_virt_abi::names::is_valid_target_name;

/// One `TARGET` argument: `path` or `name=path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetArg {
    /// The name given with `name=`, if any.
    pub name: Option<String>,
    /// The file.
    pub path: PathBuf,
}

impl TargetArg {
    /// Parses `name=path` or `path`; a prefix before `=` that is not a valid
    /// target name is taken as part of the path.
    pub fn parse(arg: &str) -> TargetArg {
        if let Some((name, path)) = arg.split_once('=')
            && is_valid_target_name(name)
            && !path.is_empty()
        {
            return TargetArg {
                name: Some(name.to_string()),
                path: path.into(),
            };
        }
        TargetArg {
            name: None,
            path: arg.into(),
        }
    }
}

/// A target name and the file bound to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The manifest's name for the target.
    pub name: String,
    /// The index of its file among the arguments.
    pub arg: usize,
}

/// Binds every declared target to exactly one file; the result is in the
/// manifest's declaration order (which fixes the output's memory order).
pub fn run(manifest: &Manifest, args: &[TargetArg]) -> Result<Vec<Binding>> {
    let declared = &manifest.targets;
    let list = || {
        if declared.is_empty() {
            "none".to_string()
        } else {
            declared
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if declared.is_empty() && !args.is_empty() {
        bail!(
            "the guest declares no targets (no import_wasm!), but {} target file{} given",
            args.len(),
            if args.len() == 1 { " was" } else { "s were" }
        );
    }
    if let ([only], [arg]) = (declared.as_slice(), args)
        && arg.name.as_deref().is_none_or(|n| n == only)
    {
        return Ok(vec![Binding {
            name: only.clone(),
            arg: 0,
        }]);
    }
    let mut bound: Vec<Option<usize>> = vec![None; declared.len()];
    for (index, arg) in args.iter().enumerate() {
        let name = match &arg.name {
            Some(name) => name.clone(),
            None => stem_name(&arg.path),
        };
        let Some(slot) = declared.iter().position(|t| *t == name) else {
            let how = if arg.name.is_some() {
                ""
            } else {
                " (named after the file)"
            };
            bail!(
                "{}: the guest declares no target `{name}`{how}; its targets are {} (bind a file with NAME=PATH)",
                arg.path.display(),
                list()
            );
        };
        if let Some(first) = bound[slot] {
            bail!(
                "two files for target `{name}`: {} and {}",
                args[first].path.display(),
                arg.path.display()
            );
        }
        bound[slot] = Some(index);
    }
    let missing: Vec<String> = declared
        .iter()
        .zip(&bound)
        .filter(|(_, b)| b.is_none())
        .map(|(t, _)| format!("`{t}`"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "no file given for target{} {}; the guest's targets are {} (pass NAME=PATH for each)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            list()
        );
    }
    Ok(declared
        .iter()
        .zip(bound)
        .map(|(name, arg)| Binding {
            name: name.clone(),
            arg: arg.expect("every slot was checked to be bound"),
        })
        .collect())
}

/// `my-app.wasm` → `my_app`.
fn stem_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace('-', "_"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(targets: &[&str]) -> Manifest {
        Manifest {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..Manifest::default()
        }
    }

    fn args(list: &[&str]) -> Vec<TargetArg> {
        list.iter().map(|a| TargetArg::parse(a)).collect()
    }

    #[test]
    fn name_equals_path_is_split_only_on_a_target_name() {
        assert_eq!(
            TargetArg::parse("app=out/x.wasm"),
            TargetArg {
                name: Some("app".into()),
                path: "out/x.wasm".into()
            }
        );
        assert_eq!(TargetArg::parse("./a=b.wasm").name, None);
    }

    #[test]
    fn a_single_target_takes_any_file_name() {
        let b = run(&manifest(&["app"]), &args(&["build/ruby-3.3.wasm"])).unwrap();
        assert_eq!(
            b,
            [Binding {
                name: "app".into(),
                arg: 0
            }]
        );
    }

    #[test]
    fn several_targets_bind_by_stem_or_name() {
        let b = run(
            &manifest(&["app", "lib_c"]),
            &args(&["lib-c.wasm", "app=x.wasm"]),
        )
        .unwrap();
        assert_eq!(
            b[0],
            Binding {
                name: "app".into(),
                arg: 1
            }
        );
        assert_eq!(
            b[1],
            Binding {
                name: "lib_c".into(),
                arg: 0
            }
        );
    }

    #[test]
    fn a_missing_target_lists_the_declared_ones() {
        let err = run(&manifest(&["app", "lib"]), &args(&["app.wasm"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no file given for target `lib`; the guest's targets are `app`, `lib` (pass NAME=PATH for each)"
        );
    }

    #[test]
    fn an_unknown_stem_is_refused() {
        let err = run(
            &manifest(&["app", "lib"]),
            &args(&["app.wasm", "other.wasm"]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("other.wasm: the guest declares no target `other`")
        );
    }

    #[test]
    fn two_files_for_one_target_are_refused() {
        let err = run(
            &manifest(&["app", "lib"]),
            &args(&["app.wasm", "app=b.wasm"]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "two files for target `app`: app.wasm and b.wasm"
        );
    }
}
