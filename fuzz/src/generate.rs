//! Random valid targets: what wasm-smith is asked to build.

use std::fmt::Write as _;

use wasi_virt_abi::preview1;

/// The wasm-smith configuration for targets: any of the 46 preview1
/// functions may be imported (with its exact signature), `_start` is
/// exported, there is exactly one 32-bit memory of at most 1 MiB (so that a
/// run stays small), and the proposals the issue asks for are on:
/// multi-value, reference types, bulk memory, tail calls (with sign
/// extension, saturating conversions and extended constant expressions).
/// Off: what wasmi or the merge do not take (SIMD, threads, memory64, GC,
/// exceptions, custom page sizes, wide arithmetic).
pub fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        available_imports: Some(preview1_imports()),
        exports: Some(
            wat::parse_str(r#"(module (func (export "_start")))"#)
                .expect("invariant: the exports module is valid WAT"),
        ),
        min_memories: 1,
        max_memories: 1,
        memory64_enabled: false,
        max_memory32_bytes: 16 * 65536,
        memory_max_size_required: true,
        max_tables: 2,
        max_table_elements: 1000,
        table_max_size_required: true,
        max_funcs: 40,
        max_instructions: 200,
        multi_value_enabled: true,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        tail_call_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        extended_const_enabled: true,
        generate_custom_sections: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        ..wasm_smith::Config::default()
    }
}

/// A module importing every preview1 function with its exact type, from the
/// one preview1 table: what wasm-smith may pick imports from.
fn preview1_imports() -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for f in preview1::FUNCTIONS {
        let _ = writeln!(
            wat,
            "  (import \"{}\" \"{}\" (func {}))",
            preview1::MODULE,
            f.name,
            f.signature()
        );
    }
    wat.push(')');
    wat::parse_str(&wat).expect("invariant: the preview1 table makes valid WAT")
}

/// The target wasm-smith builds from `data`. The first byte also picks the
/// minimum size of LEB128 integers: one case in four pads them to up to five
/// bytes, which a merge that patches bodies in place must carry over.
pub fn target(data: &[u8]) -> arbitrary::Result<Vec<u8>> {
    let mut config = config();
    if let Some(&first) = data.first()
        && first % 4 == 0
    {
        config.min_uleb_size = 1 + first % 5;
    }
    let mut u = arbitrary::Unstructured::new(data.get(1..).unwrap_or_default());
    Ok(wasm_smith::Module::new(config, &mut u)?.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_valid_and_export_start() {
        for seed in 0..20 {
            let Ok(bytes) = target(&crate::case_bytes(7, seed)) else {
                continue;
            };
            wasmparser::Validator::new()
                .validate_all(&bytes)
                .expect("wasm-smith builds valid modules");
            let exports: Vec<String> = wasmparser::Parser::new(0)
                .parse_all(&bytes)
                .filter_map(|p| match p.unwrap() {
                    wasmparser::Payload::ExportSection(s) => Some(
                        s.into_iter()
                            .map(|e| e.unwrap().name.to_string())
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten()
                .collect();
            assert_eq!(exports, ["_start"]);
        }
    }
}
