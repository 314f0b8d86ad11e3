//! The reference run: a target under the wasmtime CLI with real host WASI.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::Outcome;
use crate::tools::Tool;

/// How wasmtime starts the report of a run that failed (a trap, or a module
/// it could not instantiate), on a line of its own on stderr.
const WASMTIME_ERROR: &str = "Error: failed to run main module";

/// Runs the target `wasm` under the wasmtime CLI with host WASI: each
/// `(host, guest)` of `dirs` preopened as `--dir host::guest`, `args` after
/// the module (argv[0] is wasmtime's choice), and only `env` in the
/// environment.
///
/// The outcome is the process's stdout, stderr and exit code; a trap
/// (wasmtime exits 134) gives `trap` with wasmtime's `wasm trap: …` message,
/// and wasmtime's error report is cut from `stderr`. An error means wasmtime
/// could not run the module at all.
pub fn run_in_wasmtime_host(
    wasm: &Path,
    dirs: &[(&Path, &str)],
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Outcome> {
    let wasmtime = Tool::Wasmtime
        .locate()
        .context("no wasmtime CLI found: run `cargo xtask setup`")?;
    let mut command = Command::new(&wasmtime);
    command.arg("run");
    for (host, guest) in dirs {
        command
            .arg("--dir")
            .arg(format!("{}::{guest}", host.display()));
    }
    for (key, value) in env {
        command.arg("--env").arg(format!("{key}={value}"));
    }
    command.arg(wasm).args(args);
    // wasmtime would append a host backtrace to a trap's report.
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", wasmtime.display()))?;

    let report_at = (0..output.stderr.len()).find(|&at| {
        output.stderr[at..].starts_with(WASMTIME_ERROR.as_bytes())
            && (at == 0 || output.stderr[at - 1] == b'\n')
    });
    let Some(report_at) = report_at else {
        return Ok(Outcome {
            exit_code: output.status.code(),
            trap: output
                .status
                .code()
                .is_none()
                .then(|| output.status.to_string()),
            stdout: output.stdout,
            stderr: output.stderr,
        });
    };
    let report = String::from_utf8_lossy(&output.stderr[report_at..]).into_owned();
    let trap = report
        .lines()
        .find_map(|line| line.trim_start().split_once("wasm trap: "))
        .map(|(_, message)| message.to_owned());
    match (output.status.code(), trap) {
        (Some(134), Some(trap)) => Ok(Outcome {
            exit_code: None,
            trap: Some(trap),
            stdout: output.stdout,
            stderr: output.stderr[..report_at].to_vec(),
        }),
        _ => bail!(
            "{} cannot run {}:\n{report}",
            wasmtime.display(),
            wasm.display()
        ),
    }
}
