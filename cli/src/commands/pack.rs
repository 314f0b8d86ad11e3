//! `wasi-virt pack APP -o OUT --dir /=./site …`: virtualize a program with
//! no guest crate to write, using the default guest built into the CLI.
//!
//! The command reads every option and every folder before it merges, so a
//! bad input is reported before any work and nothing is written; it writes
//! the output as `merge` does (atomically, inputs untouched). What it
//! chose goes into the output's `wasi-virt.pack` section for `inspect`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::ValueEnum;
use wasi_virt_merge::{
    ClockMode, ExitMode, Input, Modes, Mount, PackConfig, RandomMode, Strategy, StreamMode,
};

use super::output::{describe, size, time};
use crate::files::{check_output, read, write_atomically};
use crate::progress::Progress;
use crate::touched::Touched;

/// Virtualize a WASI program with the default guest: mounted folders, args,
/// env, stdio, clock and random decided here, no guest crate to write.
///
/// The output runs with no imports at all unless you ask for host
/// passthrough (`--stdio inherit`, `--clock host`, `--random host`), and
/// then keeps exactly the imports those need (`wasi-virt inspect` says which
/// and why).
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  wasi-virt pack app.wasm -o out.wasm --dir /=./site --env KEY=VALUE --arg first -- more args"
)]
pub struct Opts {
    /// The program: a WASI preview1 module (a command with `_start`, or a
    /// reactor with `_initialize` whose other exports the output re-exports).
    #[arg(value_name = "APP")]
    app: PathBuf,
    /// Where to write the packed module (replaced atomically if it exists).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Mount a folder: `GUEST=HOST` (writable: changes live in memory, the
    /// folder is never touched), `GUEST=HOST:ro` (changes refused), or
    /// `GUEST` alone (an empty writable directory). Repeatable; fds 3, 4, …
    /// in this order.
    #[arg(long = "dir", value_name = "GUEST=HOST[:ro]")]
    dirs: Vec<String>,
    /// An environment variable. Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// An argument after argv[0]. Repeatable; arguments after `--` follow.
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    args: Vec<String>,
    /// argv[0] [default: the program's file name]
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// stdin, stdout and stderr: `capture` (buffers the host reads and sets
    /// through the output's exports), `inherit` (the host's fds; keeps
    /// `fd_read`/`fd_write` imports), `ignore`, `deny` (EBADF).
    #[arg(long, value_enum, value_name = "MODE", default_value = "capture")]
    stdio: Stream,
    /// stdin alone (overrides --stdio).
    #[arg(long, value_enum, value_name = "MODE")]
    stdin: Option<Stream>,
    /// stdout alone (overrides --stdio).
    #[arg(long, value_enum, value_name = "MODE")]
    stdout: Option<Stream>,
    /// stderr alone (overrides --stdio).
    #[arg(long, value_enum, value_name = "MODE")]
    stderr: Option<Stream>,
    /// The streams that are not inherited say they are a terminal
    /// (`isatty()` true), for a host that shows them in one (xterm.js).
    /// Without it they say what a pipe says, so that programs write no
    /// colour codes into captured output; an inherited stream always says
    /// what the host's fd is.
    #[arg(long)]
    tty: bool,
    /// `virtual` (deterministic: 2000-01-01, advancing 1 µs per reading; a
    /// sleep returns at once, time jumps) or `host` (the host's clocks and
    /// real sleeps; keeps `clock_*` and `poll_oneoff` imports).
    #[arg(long, value_enum, value_name = "CLOCK", default_value = "virtual")]
    clock: Clock,
    /// `seed=N` (deterministic) or `host` (keeps a `random_get` import).
    #[arg(long, value_name = "RANDOM", default_value = "seed=0", value_parser = parse_random)]
    random: RandomMode,
    /// What `proc_exit` does: `virtual` (the host reads the code from
    /// `wasi_virt_exit_code()`) or `host` (keeps a `proc_exit` import, so
    /// that a WASI host exits with the code). [default: host when a stream
    /// is inherited, else virtual]
    #[arg(long, value_enum, value_name = "EXIT")]
    exit: Option<Exit>,
    /// Replace every import of the program from MODULE (e.g. a JS-only
    /// module it will not call) with a function that traps. Repeatable.
    #[arg(long = "stub-imports", value_name = "MODULE")]
    stub_imports: Vec<String>,
    /// Print what was packed, sizes and times.
    #[arg(short, long)]
    verbose: bool,
    /// More arguments, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    rest: Vec<String>,
    #[command(flatten)]
    out: super::output::OutputOpts,
}

/// A stream's mode on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Stream {
    Capture,
    Inherit,
    Ignore,
    Deny,
}

impl From<Stream> for StreamMode {
    fn from(s: Stream) -> StreamMode {
        match s {
            Stream::Capture => StreamMode::Capture,
            Stream::Inherit => StreamMode::Inherit,
            Stream::Ignore => StreamMode::Ignore,
            Stream::Deny => StreamMode::Deny,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Clock {
    Virtual,
    Host,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Exit {
    Virtual,
    Host,
}

fn parse_random(text: &str) -> Result<RandomMode, String> {
    if text == "host" {
        return Ok(RandomMode::Host);
    }
    match text.strip_prefix("seed=").map(str::parse::<u64>) {
        Some(Ok(seed)) => Ok(RandomMode::Seeded(seed)),
        _ => Err("expected `host` or `seed=N` (N from 0 to 2^64-1)".to_string()),
    }
}

impl Opts {
    fn modes(&self) -> Modes {
        let stdio = [self.stdin, self.stdout, self.stderr].map(|s| s.unwrap_or(self.stdio).into());
        let exit = match self.exit {
            Some(Exit::Host) => ExitMode::Host,
            Some(Exit::Virtual) => ExitMode::Virtual,
            None if stdio.contains(&StreamMode::Inherit) => ExitMode::Host,
            None => ExitMode::Virtual,
        };
        Modes {
            stdio,
            clock: match self.clock {
                Clock::Virtual => ClockMode::Virtual,
                Clock::Host => ClockMode::Host,
            },
            random: self.random,
            exit,
        }
    }

    fn arguments(&self) -> Vec<String> {
        let argv0 = match &self.argv0 {
            Some(name) => name.clone(),
            None => self
                .app
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "app".to_string()),
        };
        std::iter::once(argv0)
            .chain(self.args.iter().cloned())
            .chain(self.rest.iter().cloned())
            .collect()
    }

    fn config(&self) -> Result<PackConfig> {
        Ok(PackConfig {
            mounts: self
                .dirs
                .iter()
                .map(|d| Mount::parse(d))
                .collect::<Result<_>>()?,
            args: self.arguments(),
            env: self.env.clone(),
            modes: self.modes(),
            terminal: self.tty,
            stub_imports: self.stub_imports.clone(),
        })
    }
}

/// The files `pack` would read and write (an unparsable `--dir` is left
/// out: the run reports it).
pub fn touched(opts: &Opts) -> Touched {
    Touched {
        read: vec![opts.app.clone()],
        folders: opts
            .dirs
            .iter()
            .filter_map(|d| Mount::parse(d).ok()?.host)
            .collect(),
        write: opts.out.outputs(&opts.output),
    }
}

/// Runs `pack`.
pub fn run(opts: Opts) -> Result<()> {
    let started = Instant::now();
    let config = opts.config()?;
    config.check()?;
    check_output(&opts.output, &[&opts.app])?;
    opts.out.check(&[&opts.app])?;
    let app_name = opts.app.display().to_string();
    let app_bytes = read(&opts.app)?;
    let options = opts.out.options(Strategy::default(), false);
    let mut progress = Progress::new(started);
    let app = Input::new(&app_name, &app_bytes);
    let packed = wasi_virt_merge::pack_with_progress(app, &config, &options, &mut progress)?;
    for warning in &packed.report.warnings {
        eprintln!("warning: {warning}");
    }
    let finished = started.elapsed();
    write_atomically(&opts.output, &packed.wasm)?;
    opts.out.write_beside(&opts.output, &packed.wasm)?;

    if opts.verbose {
        let report = &packed.report;
        let pack = report.pack.clone().unwrap_or_default();
        let c = pack.counts;
        let mounts = config.mounts.len();
        eprintln!(
            "packed {app_name} ({}) with {} folder{}: {} files, {} folders, {} symlinks, {}\n  -> {} ({}) in {} (read folders {}, merge {}, validate {}, write {})",
            size(app_bytes.len()),
            mounts,
            if mounts == 1 { "" } else { "s" },
            c.files,
            c.dirs,
            c.symlinks,
            size(c.bytes as usize),
            opts.output.display(),
            size(packed.wasm.len()),
            time(started.elapsed()),
            time(pack.read),
            time(report.encode),
            time(report.validate),
            time(started.elapsed() - finished),
        );
        for (name, why) in &pack.kept {
            eprintln!("  keeps wasi_snapshot_preview1::{name} ({why})");
        }
        for line in describe(report) {
            eprintln!("  {line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_parses_or_says_what_to_write() {
        assert_eq!(parse_random("host"), Ok(RandomMode::Host));
        assert_eq!(parse_random("seed=7"), Ok(RandomMode::Seeded(7)));
        assert!(parse_random("seed=x").unwrap_err().contains("seed=N"));
    }
}
