//! `-O`/`-Oz`: the output through binaryen's optimizer (the `wasm-opt`
//! crate, cargo feature `wasm-opt`, on by default; left out when built with
//! `--cfg wasi_virt_no_binaryen`, as CI does), after every other pass.
//!
//! Binaryen runs with the features merged outputs use (multi-memory, bulk
//! memory, reference types, tail calls, multi-value…) enabled explicitly:
//! its default set has no multi-memory and would refuse every multi-memory
//! output. It keeps the exports (the host API among them) and custom
//! sections; it drops the `name` section, as `wasm-opt` does by default.
//! Binaryen 116 (the newest the crate has) predates two instructions merged
//! outputs can hold: `try_table` (`--unwind exceptions`) and `table.init`
//! (the reset of a target, `app::reset()`); such an output is refused with
//! binaryen's message and a hint.

use anyhow::{Result, bail};

/// An optimization level, as binaryen's `wasm-opt` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `-O0` … `-O4`.
    Speed(u8),
    /// `-Os` (and `-O` alone, as in `wasm-opt`).
    Size,
    /// `-Oz`.
    SizeAggressively,
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Level, String> {
        Ok(match text {
            "0" | "1" | "2" | "3" | "4" => Level::Speed(text.as_bytes()[0] - b'0'),
            "" | "s" => Level::Size,
            "z" => Level::SizeAggressively,
            _ => return Err("expected 0, 1, 2, 3, 4, s or z (-O2, -Oz…)".to_string()),
        })
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Level::Speed(n) => write!(f, "-O{n}"),
            Level::Size => write!(f, "-Os"),
            Level::SizeAggressively => write!(f, "-Oz"),
        }
    }
}

/// Optimizes a validated module.
#[cfg(all(feature = "wasm-opt", not(wasi_virt_no_binaryen)))]
pub fn run(bytes: &[u8], level: Level) -> Result<Vec<u8>> {
    use anyhow::Context;
    use wasm_opt::{Feature, OptimizationOptions};

    let mut options = match level {
        Level::Speed(0) => OptimizationOptions::new_opt_level_0(),
        Level::Speed(1) => OptimizationOptions::new_opt_level_1(),
        Level::Speed(2) => OptimizationOptions::new_opt_level_2(),
        Level::Speed(3) => OptimizationOptions::new_opt_level_3(),
        Level::Speed(_) => OptimizationOptions::new_opt_level_4(),
        Level::Size => OptimizationOptions::new_optimize_for_size(),
        Level::SizeAggressively => OptimizationOptions::new_optimize_for_size_aggressively(),
    };
    for feature in [
        Feature::MultiMemory,
        Feature::BulkMemory,
        Feature::SignExt,
        Feature::MutableGlobals,
        Feature::TruncSat,
        Feature::ReferenceTypes,
        Feature::Multivalue,
        Feature::TailCall,
        Feature::ExtendedConst,
        Feature::Simd,
    ] {
        options.enable_feature(feature);
    }
    // Binaryen reads and writes files; a folder of our own keeps them apart.
    let dir = tempfile::tempdir().context("cannot create a temporary folder for wasm-opt")?;
    let (input, output) = (dir.path().join("in.wasm"), dir.path().join("out.wasm"));
    std::fs::write(&input, bytes).context("cannot write wasm-opt's input")?;
    if let Err(e) = options.run(&input, &output) {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        // Binaryen 116 predates these; name what uses them.
        let hint = if message.contains("misc prefix: 12") {
            " (`table.init`, which the reset of a target uses (`app::reset()`), is newer than binaryen 116)"
        } else if message.contains("0x1f") || message.contains("try_table") {
            " (`try_table`, which `--unwind exceptions` uses, is newer than binaryen 116)"
        } else {
            ""
        };
        bail!("binaryen cannot optimize the output: {message}{hint}");
    }
    std::fs::read(&output).context("cannot read wasm-opt's output")
}

/// Built without binaryen: says so.
#[cfg(not(all(feature = "wasm-opt", not(wasi_virt_no_binaryen))))]
pub fn run(_bytes: &[u8], level: Level) -> Result<Vec<u8>> {
    bail!(
        "{level}: this wasi-virt was built without binaryen (cargo feature `wasm-opt`); rebuild with it, or run `wasm-opt` on the output"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_as_wasm_opt_spells_them() {
        assert_eq!("z".parse(), Ok(Level::SizeAggressively));
        assert_eq!("s".parse(), Ok(Level::Size));
        assert_eq!("".parse(), Ok(Level::Size));
        assert_eq!("3".parse(), Ok(Level::Speed(3)));
        assert!("5".parse::<Level>().is_err());
        assert_eq!(Level::Speed(2).to_string(), "-O2");
    }

    #[cfg(all(feature = "wasm-opt", not(wasi_virt_no_binaryen)))]
    #[test]
    fn a_multi_memory_module_is_optimized_and_keeps_its_exports() {
        let bytes = wat::parse_str(
            r#"(module
              (memory 1) (memory (export "memory") 1)
              (@custom "keep.me" "yes")
              (func $unused (result i32) (i32.const 1))
              (func (export "copy") (param i32 i32 i32)
                (memory.copy 1 0 (local.get 0) (local.get 1) (local.get 2)))
              (func (export "seven") (result i32) (i32.add (i32.const 3) (i32.const 4))))"#,
        )
        .unwrap();
        let out = run(&bytes, Level::SizeAggressively).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        assert!(out.len() < bytes.len(), "{} >= {}", out.len(), bytes.len());
        let m = crate::module::Module::parse("out.wasm", &out).unwrap();
        assert_eq!(m.memories.len(), 2);
        assert!(m.exported_func("copy").is_some() && m.exported_func("seven").is_some());
        assert_eq!(m.custom_sections("keep.me").unwrap(), b"yes");
    }
}
