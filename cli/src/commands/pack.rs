//! `wasi-virt pack APP -o OUT --dir /=./site …`: virtualize a program with
//! no guest crate to write, using the default guest built into the CLI.
//!
//! The command reads every option and every folder before it merges, so a
//! bad input is reported before any work and nothing is written; it writes
//! the output as `merge` does (atomically, inputs untouched). What it
//! chose goes into the output's `wasi-virt.pack` section for `inspect`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use wasi_virt_abi::pack::{self as abi, ClockMode, ExitMode, RandomMode, StreamMode};
use wasi_virt_abi::preview1;
use wasm_encoder::Encode;

use super::merge::{check_output, read, size, time, write_atomically};
use crate::module::Module;
use crate::pack::folders::{self, Mount};
use crate::pack::progress::Progress;
use crate::pack::{self, GUEST, GUEST_NAME, Modes};
use crate::passes::check_imports::Stubs;
use crate::passes::generated::PackData;
use crate::passes::{self, Extras, Target, read_manifest};

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

/// Checks `KEY=VALUE`.
fn env_entry(entry: &str) -> Result<String> {
    match entry.split_once('=') {
        Some((key, _)) if !key.is_empty() && !entry.contains('\0') => Ok(entry.to_string()),
        _ => bail!("--env {entry}: expected KEY=VALUE with a non-empty KEY"),
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

    fn arguments(&self) -> Result<Vec<String>> {
        let argv0 = match &self.argv0 {
            Some(name) => name.clone(),
            None => self
                .app
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "app".to_string()),
        };
        let args: Vec<String> = std::iter::once(argv0)
            .chain(self.args.iter().cloned())
            .chain(self.rest.iter().cloned())
            .collect();
        if let Some(bad) = args.iter().find(|a| a.contains('\0')) {
            bail!("the argument {bad:?} contains a NUL byte");
        }
        Ok(args)
    }

    fn mounts(&self) -> Result<Vec<Mount>> {
        let mounts: Vec<Mount> = self
            .dirs
            .iter()
            .map(|d| Mount::parse(d))
            .collect::<Result<_>>()?;
        let mut seen = BTreeSet::new();
        for m in &mounts {
            if !seen.insert(m.guest.as_str()) {
                bail!(
                    "--dir {}: {} is mounted twice; give each path one folder",
                    m.arg,
                    m.guest
                );
            }
        }
        Ok(mounts)
    }
}

/// Runs `pack`.
pub fn run(opts: Opts) -> Result<()> {
    let started = Instant::now();
    let mounts = opts.mounts()?;
    let env: Vec<String> = opts
        .env
        .iter()
        .map(|e| env_entry(e))
        .collect::<Result<_>>()?;
    let args = opts.arguments()?;
    let modes = opts.modes();
    for module in &opts.stub_imports {
        if module == preview1::MODULE {
            bail!(
                "--stub-imports {module}: WASI imports are virtualized by pack, not stubbed; choose their behaviour with --stdio, --clock, --random, --exit"
            );
        }
    }
    check_output(&opts.output, &[&opts.app])?;
    opts.out.check(&[&opts.app])?;

    let app_name = opts.app.display().to_string();
    let app_bytes = read(&opts.app)?;
    let app = Module::parse(&app_name, &app_bytes)?;
    for module in &opts.stub_imports {
        if !app.imports.iter().any(|i| i.module == module) {
            eprintln!("warning: --stub-imports {module}: {app_name} imports nothing from {module}");
        }
    }
    let guest = Module::parse(GUEST_NAME, GUEST)?;
    let manifest = read_manifest::run(&guest)?;

    let mut progress = Progress::new(started);
    let walked = folders::read(&mounts, &mut progress)?;
    let read_done = started.elapsed();

    let passthrough = pack::passthrough(&guest, &modes);
    let config = abi::Config {
        args,
        env,
        stdio: modes.stdio,
        terminal: opts.tty,
        clock: modes.clock,
        random: modes.random,
        exit: modes.exit,
        preopens: walked.preopens,
    };
    let extras = Extras {
        stubs: Stubs {
            target_modules: opts.stub_imports.iter().cloned().collect(),
            guest: pack::guest_stubs(&app, &passthrough),
        },
        pack: Some(PackData {
            config: config.encode(),
            blob: walked.blob,
        }),
        hidden_exports: pack::hidden_exports(&app),
        target_exports: pack::target_exports(&app, &guest)?,
    };
    // What each folder held, not where it was: a path of the packing
    // machine would make the same inputs pack differently elsewhere.
    let dirs: Vec<(String, String)> = mounts
        .iter()
        .zip(&walked.per_mount)
        .map(|(m, counts)| {
            let what = match &m.host {
                Some(_) => counts.to_string(),
                None => "an empty folder".to_string(),
            };
            let ro = if m.read_only { ", read-only" } else { "" };
            (m.guest.clone(), format!("{what}{ro}"))
        })
        .collect();
    let targets = [Target {
        name: abi::TARGET.to_string(),
        module: app,
    }];
    let (mut bytes, timings) = passes::merge_with(&guest, &manifest, &targets, extras)
        .with_context(|| format!("while packing {app_name}"))?;
    append_custom_section(
        &mut bytes,
        abi::SECTION,
        pack::record(&passthrough, &opts.stub_imports, &dirs).as_bytes(),
    );
    let (bytes, finished) = opts.out.finish(bytes)?;
    let merged = started.elapsed();
    write_atomically(&opts.output, &bytes)?;
    opts.out.write_beside(&opts.output)?;

    if opts.verbose {
        let c = walked.counts;
        eprintln!(
            "packed {app_name} ({}) with {} folder{}: {} files, {} folders, {} symlinks, {}\n  -> {} ({}) in {} (read folders {}, merge {}, validate {}, write {})",
            size(app_bytes.len()),
            mounts.len(),
            if mounts.len() == 1 { "" } else { "s" },
            c.files,
            c.dirs,
            c.symlinks,
            size(c.bytes as usize),
            opts.output.display(),
            size(bytes.len()),
            time(started.elapsed()),
            time(read_done),
            time(timings.encode),
            time(timings.validate),
            time(started.elapsed() - merged),
        );
        for p in &passthrough {
            if let Some(why) = &p.kept_by {
                eprintln!("  keeps {}::{} ({why})", preview1::MODULE, p.name);
            }
        }
        for line in finished.describe() {
            eprintln!("  {line}");
        }
    }
    Ok(())
}

/// Appends a custom section at the end of a module.
fn append_custom_section(module: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut payload = Vec::with_capacity(name.len() + data.len() + 5);
    name.encode(&mut payload);
    payload.extend_from_slice(data);
    module.push(0);
    (payload.len() as u32).encode(module);
    module.extend_from_slice(&payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_and_env_parse_or_say_what_to_write() {
        assert_eq!(parse_random("host"), Ok(RandomMode::Host));
        assert_eq!(parse_random("seed=7"), Ok(RandomMode::Seeded(7)));
        assert!(parse_random("seed=x").unwrap_err().contains("seed=N"));
        assert_eq!(env_entry("K=V=W").unwrap(), "K=V=W");
        assert_eq!(env_entry("K=").unwrap(), "K=");
        let err = env_entry("NOVALUE").unwrap_err().to_string();
        assert_eq!(
            err,
            "--env NOVALUE: expected KEY=VALUE with a non-empty KEY"
        );
        assert!(env_entry("=v").is_err());
    }

    #[test]
    fn a_custom_section_appended_keeps_the_module_valid() {
        let mut bytes = wat::parse_str("(module (func (export \"f\")))").unwrap();
        append_custom_section(&mut bytes, "wasi-virt.pack", b"wasi-virt/1 pack\n");
        wasmparser::Validator::new().validate_all(&bytes).unwrap();
        let m = Module::parse("m.wasm", &bytes).unwrap();
        assert_eq!(
            m.custom_sections("wasi-virt.pack").unwrap(),
            b"wasi-virt/1 pack\n"
        );
    }
}
