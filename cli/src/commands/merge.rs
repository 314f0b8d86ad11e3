//! `wasi-virt merge GUEST TARGET... -o OUT`: the library's `merge`, from
//! files to a file. Everything that can go wrong with the inputs is found
//! before anything is written (see [`crate::files`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use wasi_virt_merge::{Input, Strategy, TargetArg, TargetInput};

use super::output::{describe, size, time};
use crate::files::{check_output, read, write_atomically};
use crate::touched::Touched;

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

/// The files the merge would read and write.
pub fn touched(opts: &Opts) -> Touched {
    let targets = opts.targets.iter().map(|a| TargetArg::parse(a).path);
    Touched {
        read: std::iter::once(opts.guest.clone()).chain(targets).collect(),
        folders: Vec::new(),
        write: opts.out.outputs(&opts.output),
    }
}

/// Runs the merge.
pub fn run(opts: Opts) -> Result<()> {
    let started = Instant::now();
    if opts.component && opts.out.js.is_some() {
        bail!(
            "--component and --js cannot go together: the --js module runs a core module; a component runs through its host's bindings (`jco transpile` for JavaScript)"
        );
    }
    let args: Vec<TargetArg> = opts.targets.iter().map(|a| TargetArg::parse(a)).collect();
    let mut inputs: Vec<&Path> = vec![&opts.guest];
    inputs.extend(args.iter().map(|a| a.path.as_path()));
    check_output(&opts.output, &inputs)?;
    opts.out.check(&inputs)?;

    let guest_name = opts.guest.display().to_string();
    let guest_bytes = read(&opts.guest)?;
    let names: Vec<String> = args.iter().map(|a| a.path.display().to_string()).collect();
    let target_bytes: Vec<Vec<u8>> = args.iter().map(|a| read(&a.path)).collect::<Result<_>>()?;
    let read_done = started.elapsed();
    let targets: Vec<TargetInput> = args
        .iter()
        .zip(&names)
        .zip(&target_bytes)
        .map(|((arg, name), bytes)| TargetInput {
            target: arg.name.as_deref(),
            input: Input::new(name, bytes),
        })
        .collect();
    let options = opts.out.options(opts.unwind, opts.component);
    let merged = wasi_virt_merge::merge(Input::new(&guest_name, &guest_bytes), &targets, &options)?;
    let finished = started.elapsed();
    write_atomically(&opts.output, &merged.wasm)?;
    opts.out.write_beside(&opts.output, &merged.wasm)?;

    if opts.verbose {
        let report = &merged.report;
        let mut line = format!("merged {} ({})", guest_name, size(guest_bytes.len()));
        for (file, name) in &report.targets {
            let bytes = names
                .iter()
                .position(|n| n == file)
                .map_or(0, |i| target_bytes[i].len());
            line.push_str(&format!(" + {file} as `{name}` ({})", size(bytes)));
        }
        eprintln!(
            "{line}\n  -> {} ({}) in {} (read {}, merge {}, validate {}, write {})",
            opts.output.display(),
            size(merged.wasm.len()),
            time(started.elapsed()),
            time(read_done),
            time(report.encode),
            time(report.validate),
            time(started.elapsed() - finished),
        );
        for line in describe(report) {
            eprintln!("  {line}");
        }
        if let Some(core) = report.core_size {
            eprintln!(
                "  component: core module {} -> component {}",
                size(core),
                size(merged.wasm.len())
            );
        }
    }
    Ok(())
}
