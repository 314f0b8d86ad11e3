//! Pass 8: the output must validate, or nothing is written.
//!
//! Inputs are not validated up front (that would cost a second full pass
//! over a large target on every merge). When the output fails, the inputs
//! are validated then, so that an invalid input is blamed by name instead
//! of being reported as a wasi-virt bug.

use anyhow::{Result, anyhow};
use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser,
    ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::module::Module;

/// Below this many bytes, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Validates the merged `bytes`, made from `modules`.
pub fn run(bytes: &[u8], modules: &[&Module]) -> Result<()> {
    let Err(output_error) = validate(bytes) else {
        return Ok(());
    };
    for m in modules {
        if let Err(e) = validate(m.bytes) {
            return Err(anyhow::Error::new(e).context(format!("{}: not a valid module", m.name)));
        }
    }
    Err(anyhow!(
        "internal error: the merged module does not validate: {output_error} (this is a wasi-virt bug; please report it with the input files)"
    ))
}

type Func<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Validates a module, its function bodies on every core: the module-level
/// checks are one quick pass, the bodies are independent of each other.
pub fn validate(bytes: &[u8]) -> Result<(), BinaryReaderError> {
    let threads = if bytes.len() < PARALLEL_THRESHOLD {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    };
    validate_on(bytes, threads)
}

/// [`validate`] on `threads` threads.
fn validate_on(bytes: &[u8], threads: usize) -> Result<(), BinaryReaderError> {
    let mut validator = Validator::new_with_features(WasmFeatures::default());
    let mut funcs: Vec<Func> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let ValidPayload::Func(func, body) = validator.payload(&payload?)? {
            funcs.push((func, body));
        }
    }
    let per_thread = funcs.len().div_ceil(threads).max(1);
    let mut chunks = Vec::new();
    while !funcs.is_empty() {
        let rest = funcs.split_off(per_thread.min(funcs.len()));
        chunks.push(std::mem::replace(&mut funcs, rest));
    }
    if chunks.len() <= 1 {
        return chunks.into_iter().try_for_each(validate_funcs);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || validate_funcs(c)))
            .collect();
        // The first failing chunk in order holds the first invalid function.
        handles
            .into_iter()
            .map(|h| h.join().expect("validating function bodies does not panic"))
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<(), _>>()
    })
}

fn validate_funcs(funcs: Vec<Func>) -> Result<(), BinaryReaderError> {
    let mut allocations = FuncValidatorAllocations::default();
    for (func, body) in funcs {
        let mut v = func.into_validator(allocations);
        v.validate(&body)?;
        allocations = v.into_allocations();
    }
    Ok(())
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
    fn bodies_are_validated_too() {
        let mut wat = String::from("(module");
        for _ in 0..100 {
            wat.push_str(" (func (result i32) (i32.const 1) (i32.const 2) (i32.add) (i32.const 3) (i32.mul))");
        }
        let good = wasm(&format!("{wat})"));
        validate_on(&good, 3).unwrap();
        // The bad body last, in the last thread's chunk.
        let bad = wasm(&format!("{wat} (func (result i32) (i64.const 0)))"));
        let err = validate_on(&bad, 3).unwrap_err().to_string();
        assert!(err.contains("type mismatch"), "{err}");
    }

    #[test]
    fn a_valid_output_passes() {
        let good = wasm(
            "(module (memory 1) (memory 1) (func (memory.copy 0 1 (i32.const 0) (i32.const 0) (i32.const 0))))",
        );
        run(&good, &[]).unwrap();
    }
}
