//! `wasi-virt merge GUEST TARGET... -o OUT`: the merge, from files to a file.
//!
//! Everything that can go wrong with the inputs is found before anything is
//! written; the output is written to a temporary file beside it and renamed
//! into place, so a failed or interrupted merge never leaves a partial file,
//! and the inputs are only ever read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::component;
use crate::module::Module;
use crate::passes::bind_targets::{self, TargetArg};
use crate::passes::control::{self, Strategy};
use crate::passes::{self, Target, read_manifest};

/// Merge a guest and its target programs into one module that imports no WASI.
#[derive(clap::Args)]
pub struct Opts {
    /// The guest: a module built from a Rust crate with the wasi-virt macros.
    guest: PathBuf,
    /// The targets: preview1 programs, as `PATH` or `NAME=PATH`. A guest with
    /// one target takes any single file; otherwise files bind by NAME= or by
    /// file stem (`my-app.wasm` is target `my_app`).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,
    /// Where to write the merged module (replaced atomically if it exists,
    /// as a compiler replaces its output).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Print sizes and the time taken.
    #[arg(short, long)]
    verbose: bool,
    /// How targets under `wrap_unreachable!` unwind back to the guest:
    /// `flags` (a flag checked after calls that can unwind; runs on every
    /// engine) or `exceptions` (a wasm exception; smaller and faster, needs
    /// an engine with exception handling).
    #[arg(long, value_enum, value_name = "STRATEGY", default_value_t = Strategy::Flags)]
    unwind: Strategy,
    /// Write a component instead of a core module, made from the guest's
    /// WIT world (a guest built with wit-bindgen); for component hosts and
    /// `jco transpile`. Not with --js, nor with --single-memory unless
    /// `=guest-first`.
    #[arg(long)]
    component: bool,
    #[command(flatten)]
    out: super::output::OutputOpts,
}

/// Runs the merge.
pub fn run(opts: Opts) -> Result<()> {
    let started = Instant::now();
    let guest_name = opts.guest.display().to_string();
    let guest_bytes = read(&opts.guest)?;
    let guest = Module::parse(&guest_name, &guest_bytes)?;
    let manifest = read_manifest::run(&guest)?;
    if opts.component {
        component::check(&guest, &opts.out)?;
    }
    let args: Vec<TargetArg> = opts.targets.iter().map(|a| TargetArg::parse(a)).collect();
    let bindings = bind_targets::run(&manifest, &args)?;

    let mut inputs: Vec<&Path> = vec![&opts.guest];
    inputs.extend(bindings.iter().map(|b| b.path.as_path()));
    check_output(&opts.output, &inputs)?;
    opts.out.check(&inputs)?;

    let target_bytes: Vec<Vec<u8>> = bindings
        .iter()
        .map(|b| read(&b.path))
        .collect::<Result<_>>()?;
    let targets: Vec<Target> = bindings
        .iter()
        .zip(&target_bytes)
        .map(|(b, bytes)| {
            Ok(Target {
                name: b.name.clone(),
                module: Module::parse(&b.path.display().to_string(), bytes)?,
            })
        })
        .collect::<Result<_>>()?;
    let read_done = started.elapsed();

    let options = control::Options {
        unwind: opts.unwind,
    };
    let (bytes, timings) =
        passes::merge_controlled(&guest, &manifest, &targets, Default::default(), &options)?;
    let (bytes, finished) = opts.out.finish(bytes)?;
    let core_size = bytes.len();
    let bytes = if opts.component {
        component::encode(&bytes)?
    } else {
        bytes
    };
    let merged = started.elapsed();
    debug_assert!(merged >= read_done);
    write_atomically(&opts.output, &bytes)?;
    opts.out.write_beside(&opts.output)?;

    if opts.verbose {
        let mut line = format!("merged {} ({})", guest_name, size(guest_bytes.len()));
        for (t, b) in targets.iter().zip(&target_bytes) {
            line.push_str(&format!(
                " + {} as `{}` ({})",
                t.module.name,
                t.name,
                size(b.len())
            ));
        }
        eprintln!(
            "{line}\n  -> {} ({}) in {} (read {}, merge {}, validate {}, write {})",
            opts.output.display(),
            size(bytes.len()),
            time(started.elapsed()),
            time(read_done),
            time(timings.encode),
            time(timings.validate),
            time(started.elapsed() - merged),
        );
        for line in finished.describe() {
            eprintln!("  {line}");
        }
        if opts.component {
            eprintln!(
                "  component: core module {} -> component {}",
                size(core_size),
                size(bytes.len())
            );
        }
    }
    Ok(())
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("{}: cannot read the file", path.display()))
}

pub(crate) fn time(d: std::time::Duration) -> String {
    if d.as_secs_f64() < 1.0 {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

pub(crate) fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

/// Refuses an output that is one of the inputs (even through another
/// spelling of its path) or a folder.
pub(crate) fn check_output(output: &Path, inputs: &[&Path]) -> Result<()> {
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
    if let Ok(path) = output.canonicalize() {
        return Some(path);
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(parent.canonicalize().ok()?.join(output.file_name()?))
}

/// Writes `bytes` to a temporary file in `output`'s folder, then renames it
/// over `output`: readers never see a half-written module.
pub(crate) fn write_atomically(output: &Path, bytes: &[u8]) -> Result<()> {
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
