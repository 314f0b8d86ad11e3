//! What `merge` and `pack` share about their output beyond `-o`: the
//! form of the module (`--single-memory`, `-O`, which become the library's
//! `Options`), what is written next to it (`--js`), and how `-v` describes
//! what was done.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;
use wasi_virt_merge::{Level, Options, Order, Report, Strategy, js};

use crate::files::{check_output, write_atomically};

/// Output options shared by `merge` and `pack`.
#[derive(clap::Args, Debug, Default)]
pub struct OutputOpts {
    /// Also write an ES module that runs the output (and its `.d.ts`
    /// beside it): `const app = await instantiate()`, then
    /// `await app.run({ args, env, stdin })` and `app.fs.writeFile/readFile/
    /// readdir/mkdir`. No dependencies; browsers, Node, Deno.
    #[arg(long, value_name = "OUT.js")]
    pub js: Option<PathBuf>,
    /// Give the output one memory instead of one per module, for engines
    /// without multi-memory (Safari, Node < 22): the target's memory first
    /// (its code unchanged), the guest's after it, moved when the target
    /// grows. `--single-memory=guest-first` puts the guest's first instead
    /// (its addresses unchanged, as wasm-bindgen's JavaScript needs).
    #[arg(
        long,
        value_name = "ORDER",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "target-first"
    )]
    pub single_memory: Option<Order>,
    /// Optimize the output with binaryen (after --single-memory): `-O`
    /// (as `-Os`), `-O0` … `-O4`, `-Os`, `-Oz`.
    #[arg(short = 'O', value_name = "LEVEL")]
    pub optimize: Option<Level>,
    /// A threads program (wasm32-wasip1-threads): at most N threads
    /// spawned and running at once; a spawn past that fails with EAGAIN
    /// (`--threads 0`: none). [default: no limit but the host's]
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,
}

/// `-O` alone means `-Os`, as for `wasm-opt`; clap cannot take an optional
/// value attached to a short flag without also taking the next argument
/// (`-O app.wasm`), so a lone `-O` is spelled out before parsing. Arguments
/// after `--` (the program's, for `pack`) are left alone.
pub fn spell_out_optimize(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut after_dashes = false;
    args.into_iter()
        .map(|arg| {
            after_dashes |= arg == "--";
            if !after_dashes && arg == "-O" {
                OsString::from("-Os")
            } else {
                arg
            }
        })
        .collect()
}

impl OutputOpts {
    /// Refuses extra outputs that are inputs, before any work.
    pub fn check(&self, inputs: &[&Path]) -> Result<()> {
        if let Some(js) = &self.js {
            check_output(js, inputs)?;
            check_output(&js::dts_path(js), inputs)?;
        }
        Ok(())
    }

    /// The library's options for these flags.
    pub fn options(&self, unwind: Strategy, component: bool) -> Options {
        Options {
            unwind,
            single_memory: self.single_memory,
            optimize: self.optimize,
            component,
            threads: self.threads,
        }
    }

    /// The module `wasm` and what goes beside it.
    pub fn outputs(&self, wasm: &Path) -> Vec<PathBuf> {
        let mut outputs = vec![wasm.to_path_buf()];
        if let Some(js) = &self.js {
            outputs.push(js.clone());
            outputs.push(js::dts_path(js));
        }
        outputs
    }

    /// Writes what goes beside the module `bytes` written to `wasm`.
    pub fn write_beside(&self, wasm: &Path, bytes: &[u8]) -> Result<()> {
        if let Some(path) = &self.js {
            let (module, declarations) = js::wrapper(path, wasm, bytes)?;
            write_atomically(path, module.as_bytes())?;
            write_atomically(&js::dts_path(path), declarations.as_bytes())?;
        }
        Ok(())
    }
}

/// `-v`'s lines about the transforms of the output.
pub fn describe(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(r) = &report.single_memory {
        lines.push(r.describe());
    }
    if let Some((level, before, after)) = report.optimized {
        lines.push(format!(
            "optimized ({level}): {} -> {}",
            size(before),
            size(after)
        ));
    }
    lines
}

pub fn time(d: std::time::Duration) -> String {
    if d.as_secs_f64() < 1.0 {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

pub fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_dash_o_is_dash_os_before_the_programs_arguments() {
        let args = ["wasi-virt", "merge", "-O", "g.wasm", "-Oz", "--", "-O"].map(OsString::from);
        let spelled = spell_out_optimize(args);
        assert_eq!(
            spelled,
            ["wasi-virt", "merge", "-Os", "g.wasm", "-Oz", "--", "-O"]
        );
    }
}
