//! Running a merged module in Node with an empty import object
//! (`tests/node/run.mjs`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::Outcome;
use crate::tools::{Tool, node_project_dir};

/// Runs `_start` of the module at `wasm_path` in Node ≥ 22 with an **empty**
/// import object; see [`run_in_node_entry`].
pub fn run_in_node(wasm_path: &Path) -> Result<Outcome> {
    run_in_node_entry(wasm_path, "_start")
}

/// Runs the export `entry` of the module at `wasm_path` in Node ≥ 22
/// (`tests/node/run.mjs`) with an **empty** import object, with the same
/// convention as [`run_in_wasmi`](crate::run_in_wasmi): the exit code and
/// stdio come from the runtime's host API.
///
/// An error means the module could not be run at all (Node is missing, or
/// the module does not instantiate with no imports, or lacks the host API).
pub fn run_in_node_entry(wasm_path: &Path, entry: &str) -> Result<Outcome> {
    let node = Tool::Node22.locate().context(
        "no Node >= 22 found: run `cargo xtask setup` (tests should check `have(Tool::Node22)`)",
    )?;
    let script = node_project_dir().join("run.mjs");
    let output = Command::new(&node)
        .arg(&script)
        .arg(wasm_path)
        .arg(entry)
        .output()
        .with_context(|| format!("cannot run {}", node.display()))?;
    let code = output.status.code();
    let (stderr, last_line) = split_last_line(&output.stderr);
    let mut outcome = Outcome {
        exit_code: code,
        trap: None,
        stdout: output.stdout,
        stderr: output.stderr.clone(),
    };
    match (
        code,
        last_line.and_then(|line| line.strip_prefix("run.mjs: ")),
    ) {
        (Some(125), Some(message)) if message.starts_with("error: ") => bail!(
            "{} {} {}: {}",
            node.display(),
            script.display(),
            wasm_path.display(),
            &message["error: ".len()..]
        ),
        (Some(134), Some(message)) if message.starts_with("trap: ") => {
            outcome.exit_code = None;
            outcome.trap = Some(message["trap: ".len()..].to_owned());
            outcome.stderr = stderr.to_vec();
        }
        (None, _) => bail!("node was killed: {}", output.status),
        _ => {}
    }
    Ok(outcome)
}

/// Splits off the last line (without its `\n`) of `bytes`, if it is text.
fn split_last_line(bytes: &[u8]) -> (&[u8], Option<&str>) {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let start = body
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    (&bytes[..start], std::str::from_utf8(&body[start..]).ok())
}

/// Runs `plan` through the ES module `js` that `--js` wrote, as an
/// application would (`tests/node/run-js.mjs`, which says what a plan
/// holds: files written, runs, files and folders read back), in Node ≥ 22;
/// returns what it printed, as JSON.
pub fn run_js_plan(js: &Path, plan: &serde_json::Value) -> Result<serde_json::Value> {
    let node = Tool::Node22.locate().context(
        "no Node >= 22 found: run `cargo xtask setup` (tests should check `have(Tool::Node22)`)",
    )?;
    let plan_file = tempfile::NamedTempFile::new()?;
    std::fs::write(plan_file.path(), plan.to_string())?;
    let output = Command::new(&node)
        .arg(node_project_dir().join("run-js.mjs"))
        .arg(js)
        .arg(plan_file.path())
        .output()
        .with_context(|| format!("cannot run {}", node.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "run-js.mjs {} failed ({}):\n{stdout}\n{}",
            js.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_str(stdout.trim())
        .with_context(|| format!("run-js.mjs printed no JSON:\n{stdout}"))
}
