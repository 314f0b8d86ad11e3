//! Reading inputs and writing outputs: an output is never one of the
//! inputs, and is written to a temporary file beside it and renamed into
//! place, so a failed or interrupted command never leaves a partial file,
//! and the inputs are only ever read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("{}: cannot read the file", path.display()))
}

/// Refuses an output that is one of the inputs (even through another
/// spelling of its path) or a folder.
pub fn check_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    let resolved = resolve(output);
    for input in inputs {
        if let (Some(out), Ok(input_path)) = (&resolved, input.canonicalize())
            && *out == input_path
        {
            bail!(
                "{}: the output is also an input ({}); inputs are never modified, choose another -o",
                output.display(),
                input.display()
            );
        }
    }
    if output.is_dir() {
        bail!("{}: is a folder; -o takes a file name", output.display());
    }
    Ok(())
}

/// The canonical path `output` would have, whether or not it exists yet.
fn resolve(output: &Path) -> Option<PathBuf> {
    if let Ok(path) = canonical(output) {
        return Some(path);
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(canonical(parent).ok()?.join(output.file_name()?))
}

/// `path` made absolute with symlinks resolved; under WASI, which cannot
/// resolve them (the npm package's front end copies no symlink on the way
/// to an input or an output), made absolute and normal by its text alone.
fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    if cfg!(target_os = "wasi") {
        let absolute = std::env::current_dir()?.join(path);
        fs::metadata(&absolute)?;
        let mut normal = PathBuf::new();
        for part in absolute.components() {
            match part {
                std::path::Component::ParentDir => {
                    normal.pop();
                }
                std::path::Component::CurDir => {}
                part => normal.push(part),
            }
        }
        Ok(normal)
    } else {
        path.canonicalize()
    }
}

/// Writes `bytes` to a temporary file in `output`'s folder, then renames it
/// over `output`: readers never see a half-written module.
pub fn write_atomically(output: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let context = || format!("{}: cannot write the output", output.display());
    let mut file = tempfile::Builder::new()
        .prefix(".wasi-virt-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(context)?;
    file.write_all(bytes).with_context(context)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; an output is an ordinary build artifact.
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .with_context(context)?;
    }
    file.persist(output)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_spelled_differently_is_still_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("app.wasm");
        fs::write(&input, b"x").unwrap();
        let other_spelling = dir.path().join(".").join("app.wasm");
        let err = check_output(&other_spelling, &[&input])
            .unwrap_err()
            .to_string();
        assert!(err.contains("the output is also an input"), "{err}");
    }

    #[test]
    fn an_existing_output_is_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.wasm");
        fs::write(&out, b"old").unwrap();
        check_output(&out, &[]).unwrap();
        write_atomically(&out, b"new").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
