//! `wasi-virt`: merge a WASI-virtualizing guest and preview1 programs into one
//! module that needs no host WASI, pack a program with the built-in guest,
//! and inspect modules. A thin layer over the `wasi-virt-merge` library:
//! each command is its clap `Opts` and a `run` that reads files, calls the
//! library and writes files.
//!
//! `main` only dispatches and reports: every subcommand returns an
//! `anyhow::Error` whose chain says what went wrong at each layer, printed as
//! `error: …` with `Caused by:` lines, exit code 1.

mod commands;
mod files;
mod progress;
mod touched;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Compiled to WebAssembly (the npm package), the runtime's heap instead of
/// wasi-libc's malloc: that one grows the memory 64 KiB at a time, and each
/// `memory.grow` makes V8 collect garbage when the memory is large, which
/// made packing a 100 MiB folder spend most of its time there.
#[cfg(target_family = "wasm")]
#[global_allocator]
static HEAP: wasi_virt::heap::Heap = wasi_virt::heap::Heap::new();

/// Build-time WASI virtualization: turn preview1 programs into modules that
/// run with no host WASI at all.
#[derive(Parser)]
#[command(name = "wasi-virt", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Merge a guest and its target programs into one module.
    Merge(commands::merge::Opts),
    /// Virtualize a program with the built-in guest: folders, args, env,
    /// stdio, clock and random chosen on the command line.
    Pack(commands::pack::Opts),
    /// Print a module's imports, exports and wasi-virt manifest.
    Inspect(commands::inspect::Opts),
}

fn main() -> ExitCode {
    // A panic is a wasi-virt bug; say so in one line, without a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            io::stderr(),
            "error: internal error: {message}{place}; this is a wasi-virt bug, please report it"
        );
    }));
    let cli = Cli::parse_from(commands::output::spell_out_optimize(std::env::args_os()));
    #[cfg(target_os = "wasi")]
    if let Err(e) = enter_working_directory() {
        report(&e);
        return ExitCode::FAILURE;
    }
    if let Some(list) = std::env::var_os(touched::LIST_FILES_ENV) {
        let touched = match &cli.command {
            Command::Merge(opts) => commands::merge::touched(opts),
            Command::Pack(opts) => commands::pack::touched(opts),
            Command::Inspect(opts) => commands::inspect::touched(opts),
        };
        return match touched.write_to(list.as_ref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report(&e);
                ExitCode::FAILURE
            }
        };
    }
    let result = match cli.command {
        Command::Merge(opts) => commands::merge::run(opts),
        Command::Pack(opts) => commands::pack::run(opts),
        Command::Inspect(opts) => commands::inspect::run(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// WASI gives a program no working directory: relative paths resolve from
/// `/`. Started from a shell's `$PWD` (the npm package's front end sets it
/// to the host's), the CLI resolves them as the native one does.
#[cfg(target_os = "wasi")]
fn enter_working_directory() -> anyhow::Result<()> {
    use anyhow::Context;
    match std::env::var_os("PWD") {
        Some(dir) => std::env::set_current_dir(&dir)
            .with_context(|| format!("$PWD={}: cannot enter it", dir.to_string_lossy())),
        None => Ok(()),
    }
}

/// `error: <outermost>` then each cause on its own line, as wasm-tools does.
fn report(e: &anyhow::Error) {
    let mut text = format!("error: {e}\n");
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        text.push_str("\nCaused by:\n");
        for (i, cause) in causes.iter().enumerate() {
            if causes.len() == 1 {
                text.push_str(&format!("    {cause}\n"));
            } else {
                text.push_str(&format!("    {i}: {cause}\n"));
            }
        }
    }
    let _ = io::stderr().write_all(text.as_bytes());
}

/// Writing to a closed pipe (`wasi-virt inspect x.wasm | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
