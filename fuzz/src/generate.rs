//! Random valid targets: what wasm-smith is asked to build.

use std::fmt::Write as _;

use wasm_encoder::Encode;

use wasi_virt_abi::preview1;

/// The wasm-smith configuration for targets: any of the 46 preview1
/// functions may be imported (with its exact signature), `_start` is
/// exported, there is exactly one 32-bit memory of at most 1 MiB (so that a
/// run stays small), and the proposals merged outputs must handle are on:
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
        // A start function runs with no guest call under way, where a
        // wrapped target cannot unwind: `_start` is where the code runs.
        allow_start_export: false,
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

/// The target wasm-smith builds from `data`. The first bytes also pick:
/// the minimum size of LEB128 integers (one case in four pads them to up to
/// five bytes, which a merge that patches bodies in place must carry over);
/// whether wasm-smith avoids traps (half the cases: longer runs through more
/// code and more WASI calls); and what to [`plant`] in one function, so that
/// a third of the runs stop at an `unreachable` and a third at `proc_exit`
/// where they reach it.
pub fn target(data: &[u8]) -> arbitrary::Result<Vec<u8>> {
    let mut config = config();
    let first = data.first().copied().unwrap_or_default();
    if first % 4 == 0 {
        config.min_uleb_size = 1 + first % 5;
    }
    config.disallow_traps = first & 0x10 != 0;
    let mut u = arbitrary::Unstructured::new(data.get(1..).unwrap_or_default());
    let module = wasm_smith::Module::new(config, &mut u)?.to_bytes();
    let byte = |i: usize| data.get(i).copied().unwrap_or_default();
    let plant = match byte(1) % 3 {
        0 => Plant::Nothing,
        1 => Plant::Unreachable,
        _ => Plant::Exit(u32::from(byte(2))),
    };
    Ok(self::plant(&module, plant, u32::from(byte(3))).unwrap_or(module))
}

/// What [`plant`] puts at the start of one function.
#[derive(Clone, Copy, Debug)]
pub enum Plant {
    /// Nothing.
    Nothing,
    /// `unreachable`: the program traps there (or, wrapped, unwinds).
    Unreachable,
    /// `proc_exit(code)`, if the module imports `proc_exit`.
    Exit(u32),
}

/// `module` with `what` at the start of its defined function number
/// `victim % count`: random code rarely reaches an `unreachable` or calls
/// `proc_exit` with the program still running, and those are what
/// `wrap_unreachable` rewrites. The prefix leaves the stack as it was (or
/// unreachable), so the module stays valid; bodies are otherwise copied as
/// bytes. `None` when there is nothing to plant.
pub fn plant(module: &[u8], what: Plant, victim: u32) -> Option<Vec<u8>> {
    use wasmparser::{Parser, Payload, TypeRef};
    let mut func_imports = 0u32;
    let mut proc_exit = None;
    let mut out = wasm_encoder::Module::new();
    let mut code: Option<(wasm_encoder::CodeSection, u32, u32)> = None;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.ok()?;
                    if let TypeRef::Func(_) | TypeRef::FuncExact(_) = import.ty {
                        if import.module == preview1::MODULE && import.name == "proc_exit" {
                            proc_exit = Some(func_imports);
                        }
                        func_imports += 1;
                    }
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                code = Some((
                    wasm_encoder::CodeSection::new(),
                    *count,
                    victim % (*count).max(1),
                ));
                continue;
            }
            Payload::CodeSectionEntry(body) => {
                let (section, count, target) = code.as_mut()?;
                let range = body.range();
                let (start, end) = (range.start as usize, range.end as usize);
                let mut bytes = module[start..end].to_vec();
                if section.len() == *target {
                    let mut locals = body.get_locals_reader().ok()?;
                    for _ in 0..locals.get_count() {
                        locals.read().ok()?;
                    }
                    let at = locals.original_position() as usize - start;
                    let prefix: Vec<u8> = match what {
                        Plant::Nothing => return None,
                        Plant::Unreachable => vec![0x00],
                        Plant::Exit(code) => {
                            let mut prefix = Vec::new();
                            wasm_encoder::Instruction::I32Const(code as i32).encode(&mut prefix);
                            wasm_encoder::Instruction::Call(proc_exit?).encode(&mut prefix);
                            prefix
                        }
                    };
                    bytes.splice(at..at, prefix);
                }
                section.raw(&bytes);
                if section.len() == *count {
                    out.section(&code.take()?.0);
                }
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.section(&wasm_encoder::RawSection {
                id,
                data: &module[range.start as usize..range.end as usize],
            });
        }
    }
    Some(out.finish())
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
