//! Pass 8: the output must validate, or nothing is written.
//!
//! Inputs are not validated up front (that would cost a second full pass
//! over a large target on every merge). When the output fails, the inputs
//! are validated then, so that an invalid input is blamed by name instead
//! of being reported as a wasi-virt bug.

use anyhow::{Result, anyhow};
use wasmparser::{Validator, WasmFeatures};

use crate::module::Module;

/// Validates the merged `bytes`, made from `modules`.
pub fn run(bytes: &[u8], modules: &[&Module]) -> Result<()> {
    let Err(output_error) = validator().validate_all(bytes) else {
        return Ok(());
    };
    for m in modules {
        if let Err(e) = validator().validate_all(m.bytes) {
            return Err(anyhow::Error::new(e).context(format!("{}: not a valid module", m.name)));
        }
    }
    Err(anyhow!(
        "internal error: the merged module does not validate: {output_error} (this is a wasi-virt bug; please report it with the input files)"
    ))
}

/// The features outputs are held to: wasmparser's defaults, which include
/// multi-memory and bulk memory, both of which every output uses.
fn validator() -> Validator {
    Validator::new_with_features(WasmFeatures::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::wasm;

    #[test]
    fn an_invalid_input_is_blamed_by_name() {
        let good = wasm("(module (func))");
        let bad = wasm("(module (func (result i32) (i64.const 0)))");
        let modules = [
            Module::parse("app.wasm", &bad).unwrap(),
            Module::parse("vfs.wasm", &good).unwrap(),
        ];
        let refs: Vec<&Module> = modules.iter().collect();
        let err = run(&bad, &refs).unwrap_err();
        assert_eq!(err.to_string(), "app.wasm: not a valid module");
        assert!(format!("{err:#}").contains("type mismatch"));
    }

    #[test]
    fn an_invalid_output_from_valid_inputs_is_an_internal_error() {
        let good = wasm("(module (func))");
        let bad = wasm("(module (func (result i32) (i64.const 0)))");
        let modules = [Module::parse("vfs.wasm", &good).unwrap()];
        let refs: Vec<&Module> = modules.iter().collect();
        let err = run(&bad, &refs).unwrap_err().to_string();
        assert!(
            err.starts_with("internal error: the merged module does not validate"),
            "{err}"
        );
    }

    #[test]
    fn a_valid_output_passes() {
        let good = wasm(
            "(module (memory 1) (memory 1) (func (memory.copy 0 1 (i32.const 0) (i32.const 0) (i32.const 0))))",
        );
        run(&good, &[]).unwrap();
    }
}
