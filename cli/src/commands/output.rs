//! What `merge` and `pack` share about their output beyond `-o`: the
//! form of the module (`--single-memory`) and what is written next to it
//! (`--js`). Flattened into both commands' `Opts`, applied by [`OutputOpts::finish`]
//! to the validated bytes of the merge and by [`OutputOpts::write_beside`] once the
//! module is written.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::merge::{check_output, write_atomically};
use crate::js;
use crate::passes::single_memory;
use crate::passes::validate::validate;

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
    /// grows.
    #[arg(long)]
    pub single_memory: bool,
}

/// What [`OutputOpts::finish`] did, for `-v`.
#[derive(Debug, Default)]
pub struct Finished {
    /// The single-memory pass's report, if it ran.
    pub single_memory: Option<single_memory::Report>,
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
        if self.single_memory {
            let (single, report) =
                single_memory::run(&bytes).context("while making the output single-memory")?;
            validate(&single).map_err(|e| anyhow::anyhow!("internal error: the single-memory output does not validate: {e} (this is a wasi-virt bug; please report it with the input files)"))?;
            bytes = single;
            finished.single_memory = Some(report);
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
        lines
    }
}
