//! Transforms of a finished, validated output, applied after the merge in
//! this order: [`single_memory`], [`optimize`], [`component`]. Each reads
//! the output with `module::Module` or its own reader, and its result must
//! validate. [`js`] writes the ES module that runs an output.

pub mod component;
pub mod js;
pub mod optimize;
pub mod single_memory;

use anyhow::{Context, Result};

use crate::passes::validate::validate;
use crate::{Options, Report};

/// Applies the transforms `options` ask for to a validated output, noting
/// what each did in `report`.
pub fn finish(bytes: Vec<u8>, options: &Options, report: &mut Report) -> Result<Vec<u8>> {
    if report.threads {
        let refused = [
            (options.single_memory.is_some(), "--single-memory"),
            (options.component, "--component"),
        ];
        if let Some((_, option)) = refused.iter().find(|(on, _)| *on) {
            anyhow::bail!(
                "{option} does not support threads programs (wasm32-wasip1-threads) yet: their memories are shared, imported by every thread"
            );
        }
    }
    let mut bytes = bytes;
    if let Some(order) = options.single_memory {
        let (single, done) =
            single_memory::run(&bytes, order).context("while making the output single-memory")?;
        validate(&single).map_err(|e| anyhow::anyhow!("internal error: the single-memory output does not validate: {e} (this is a wasi-virt bug; please report it with the input files)"))?;
        bytes = single;
        report.single_memory = Some(done);
    }
    if let Some(level) = options.optimize {
        let before = bytes.len();
        let optimized = optimize::run(&bytes, level).context("while optimizing the output")?;
        validate(&optimized)
            .map_err(|e| anyhow::anyhow!("binaryen's output ({level}) does not validate: {e}"))?;
        report.optimized = Some((level, before, optimized.len()));
        bytes = optimized;
    }
    if options.component {
        report.core_size = Some(bytes.len());
        bytes = component::encode(&bytes)?;
    }
    Ok(bytes)
}
