//! Merging one target three ways through the `wasi-virt` binary.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The plain guest's file name in the scratch folder.
pub(crate) const GUEST: &str = "guest.wasm";
/// The wrapped guest's file name in the scratch folder.
pub(crate) const WRAPPED_GUEST: &str = "wrapped-guest.wasm";
const TARGET: &str = "app.wasm";
const OUTPUT: &str = "out.wasm";

/// What a merge that did not crash gave.
#[derive(Clone, Debug)]
pub enum Merged {
    /// A validated output.
    Output(Vec<u8>),
    /// A clean refusal: its `error:` line.
    Refused(String),
}

/// The merges of one target, written as `app.wasm` in the scratch folder.
pub struct Merge<'a> {
    dir: &'a Path,
    cli: &'a Path,
}

impl<'a> Merge<'a> {
    /// Writes `target` into `dir` for merging with the `cli` binary.
    pub fn new(dir: &'a Path, cli: &'a Path, target: &[u8]) -> Result<Merge<'a>> {
        std::fs::write(dir.join(TARGET), target).context("cannot write the target")?;
        Ok(Merge { dir, cli })
    }

    /// With the plain guest. A valid target may be refused only for
    /// importing no WASI function (wasm-smith may import nothing).
    pub fn plain(&self) -> Result<Merged> {
        let merged = self.merge(GUEST, &[])?;
        if let Merged::Refused(error) = &merged
            && !error.contains("imports no WASI functions")
        {
            bail!("a valid target was refused: {error}");
        }
        Ok(merged)
    }

    /// With the plain guest, a target that may be anything: an output that
    /// validates, or a clean refusal naming the target.
    pub fn anything(&self) -> Result<()> {
        if let Merged::Refused(error) = self.merge(GUEST, &[])?
            && !error.contains(TARGET)
        {
            bail!("the refusal does not name {TARGET}: {error}");
        }
        Ok(())
    }

    /// With the wrapped guest (`--unwind flags`, the default): must merge.
    pub fn wrapped(&self) -> Result<Vec<u8>> {
        self.must_merge(&[])
    }

    /// With the wrapped guest and `--unwind exceptions`: must merge.
    pub fn wrapped_with_exceptions(&self) -> Result<Vec<u8>> {
        self.must_merge(&["--unwind", "exceptions"])
    }

    fn must_merge(&self, args: &[&str]) -> Result<Vec<u8>> {
        match self.merge(WRAPPED_GUEST, args)? {
            Merged::Output(bytes) => Ok(bytes),
            Merged::Refused(error) => {
                bail!("the wrapped merge {args:?} refused what the plain one took: {error}")
            }
        }
    }

    /// One merge: an output that validates, a clean refusal, or an error
    /// saying what went wrong (a crash, a messy refusal, an invalid output).
    fn merge(&self, guest: &str, args: &[&str]) -> Result<Merged> {
        let output = Command::new(self.cli)
            .current_dir(self.dir)
            .args(["merge", guest, TARGET, "-o", OUTPUT])
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .output()
            .with_context(|| format!("cannot run {}", self.cli.display()))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!("`wasi-virt merge {guest} {TARGET} {}`", args.join(" "));
        match output.status.code() {
            Some(0) => {
                let out = self.dir.join(OUTPUT);
                let bytes = std::fs::read(&out).context("cannot read the output")?;
                std::fs::remove_file(&out)?;
                if let Err(e) = crate::run::validator().validate_all(&bytes) {
                    bail!("{what} wrote an output that does not validate: {e}");
                }
                Ok(Merged::Output(bytes))
            }
            Some(1) => {
                let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
                if errors != 1 || stderr.contains("internal error") || stderr.contains("panicked") {
                    bail!("{what} failed without one clean error line:\n{stderr}");
                }
                if self.dir.join(OUTPUT).exists() {
                    bail!("{what} failed but wrote an output");
                }
                Ok(Merged::Refused(
                    stderr.lines().next().unwrap_or_default().to_string(),
                ))
            }
            _ => bail!("{what} crashed ({}):\n{stderr}", output.status),
        }
    }
}
