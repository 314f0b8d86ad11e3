//! `wasi-virt-fuzz`: runs the fuzzer for a time or a number of cases and
//! prints its figures; `cargo xtask fuzz --time 600` is the full run.
//!
//! ```text
//! wasi-virt-fuzz [--time SECS] [--cases N] [--seed N] [--first N]
//!                [--wasmtime-every N] [--artifacts DIR]
//! ```
//!
//! `--wasmtime-every N` runs every Nth target in wasmtime too (1, the
//! default: all of them; 0: none, wasmi only, several times the cases per
//! second).
//!
//! Each finding is printed with the seed and case number that reproduce it
//! (`--seed S --first N --cases 1`) and its target is written to the
//! artifacts folder (`fuzz/artifacts` by default).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasi_virt_fuzz::{Fuzzer, case_bytes};

struct Args {
    time: Option<Duration>,
    cases: Option<u64>,
    seed: u64,
    first: u64,
    wasmtime_every: u64,
    artifacts: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        time: None,
        cases: None,
        seed: 0x5eed,
        first: 0,
        wasmtime_every: 1,
        artifacts: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--time" => args.time = Some(Duration::from_secs(value()?.parse()?)),
            "--cases" => args.cases = Some(value()?.parse()?),
            "--seed" => args.seed = value()?.parse()?,
            "--first" => args.first = value()?.parse()?,
            "--wasmtime-every" => args.wasmtime_every = value()?.parse()?,
            "--artifacts" => args.artifacts = value()?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: wasi-virt-fuzz [--time SECS] [--cases N] [--seed N] [--first N] [--wasmtime-every N] [--artifacts DIR]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}` (see --help)"),
        }
    }
    if args.time.is_none() && args.cases.is_none() {
        args.time = Some(Duration::from_secs(60));
    }
    Ok(args)
}

fn main() -> ExitCode {
    match fuzz() {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn fuzz() -> Result<u64> {
    let args = parse_args()?;
    let mut fuzzer = Fuzzer::new()?;
    fuzzer.wasmtime_every = args.wasmtime_every;
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut index = args.first;
    loop {
        let done = index - args.first;
        if args.cases.is_some_and(|n| done >= n)
            || args.time.is_some_and(|t| started.elapsed() >= t)
        {
            break;
        }
        if let Err(finding) = fuzzer.one(&case_bytes(args.seed, index)) {
            std::fs::create_dir_all(&args.artifacts)?;
            let file = args
                .artifacts
                .join(format!("seed{}-case{index}.wasm", args.seed));
            std::fs::write(&file, &finding.target)?;
            println!(
                "finding at --seed {} --first {index}: {}\n  target: {}",
                args.seed,
                finding.what,
                file.display()
            );
        }
        if last_report.elapsed() >= Duration::from_secs(30) {
            println!("... {}", fuzzer.stats);
            last_report = Instant::now();
        }
        index += 1;
    }
    println!("{}", fuzzer.stats);
    Ok(fuzzer.stats.findings)
}
