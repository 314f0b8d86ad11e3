//! What `merge` and `pack` share about their output beyond `-o`: the
//! form of the module (`--single-memory`, `-O`) and what is written next to
//! it (`--js`). Flattened into both commands' `Opts`, applied by [`OutputOpts::finish`]
//! to the validated bytes of the merge and by [`OutputOpts::write_beside`] once the
//! module is written.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::merge::{check_output, write_atomically};
use crate::passes::single_memory;
use crate::passes::validate::validate;
use crate::{js, optimize};

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
    pub single_memory: Option<single_memory::Order>,
    /// Optimize the output with binaryen (after --single-memory): `-O`
    /// (as `-Os`), `-O0` … `-O4`, `-Os`, `-Oz`.
    #[arg(short = 'O', value_name = "LEVEL")]
    pub optimize: Option<optimize::Level>,
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

/// What [`OutputOpts::finish`] did, for `-v`.
#[derive(Debug, Default)]
pub struct Finished {
    /// The single-memory pass's report, if it ran.
    pub single_memory: Option<single_memory::Report>,
    /// The optimization level and the sizes before and after.
    pub optimized: Option<(optimize::Level, usize, usize)>,
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

    /// Applies the chosen transformations to a validated output; the
    /// result validates too.
    pub fn finish(&self, bytes: Vec<u8>) -> Result<(Vec<u8>, Finished)> {
        let mut finished = Finished::default();
        let mut bytes = bytes;
        if let Some(order) = self.single_memory {
            let (single, report) = single_memory::run(&bytes, order)
                .context("while making the output single-memory")?;
            validate(&single).map_err(|e| anyhow::anyhow!("internal error: the single-memory output does not validate: {e} (this is a wasi-virt bug; please report it with the input files)"))?;
            bytes = single;
            finished.single_memory = Some(report);
        }
        if let Some(level) = self.optimize {
            let before = bytes.len();
            let optimized = optimize::run(&bytes, level).context("while optimizing the output")?;
            validate(&optimized).map_err(|e| {
                anyhow::anyhow!("binaryen's output ({level}) does not validate: {e}")
            })?;
            finished.optimized = Some((level, before, optimized.len()));
            bytes = optimized;
        }
        Ok((bytes, finished))
    }

    /// Writes what goes beside the module written to `wasm`.
    pub fn write_beside(&self, wasm: &Path) -> Result<()> {
        if let Some(path) = &self.js {
            let (module, declarations) = js::wrapper(path, wasm)?;
            write_atomically(path, module.as_bytes())?;
            write_atomically(&js::dts_path(path), declarations.as_bytes())?;
        }
        Ok(())
    }
}

impl Finished {
    /// Lines for `-v`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(r) = &self.single_memory {
            lines.push(r.describe());
        }
        if let Some((level, before, after)) = self.optimized {
            lines.push(format!(
                "optimized ({level}): {} -> {}",
                super::merge::size(before),
                super::merge::size(after)
            ));
        }
        lines
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
