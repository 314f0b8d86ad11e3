//! Running an output in wasmi with nothing linked and a fuel limit, and
//! reading back what the target did: its exit, the guest's captured
//! stdio, and the target's memory.

use anyhow::{Context, Result, anyhow};
use wasi_virt_abi::names::host_api;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmi::{Config, Engine, Instance, Linker, Module, Store, TrapCode};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// The export added to an output so that the target's memory (memory 0)
/// can be read after a run.
const TARGET_MEMORY: &str = "__wasi_virt_fuzz_target_memory";

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// `_start` returned.
    Returned,
    /// The program called `proc_exit` (the guest recorded the code and
    /// trapped).
    Exit(i32),
    /// `_start` trapped.
    Trap(TrapCode),
    /// Instantiation trapped (in a start function).
    StartTrap(Option<TrapCode>),
    /// The fuel ran out.
    OutOfFuel,
}

/// What one run gave.
#[derive(Clone, Debug)]
pub struct Run {
    /// How it ended.
    pub end: End,
    /// The guest's captured stdout.
    pub stdout: Vec<u8>,
    /// The guest's captured stderr.
    pub stderr: Vec<u8>,
    /// The target's memory at the end.
    pub memory: Vec<u8>,
    /// Fuel used by instantiation and `_start`.
    pub fuel_used: u64,
}

/// The validator every output must pass: wasmparser's default features,
/// which include everything a merge may emit.
pub(crate) fn validator() -> Validator {
    Validator::new_with_features(WasmFeatures::default())
}

/// Runs `_start` of the output `bytes` with `fuel`.
pub fn run(bytes: &[u8], fuel: u64) -> Result<Run> {
    let bytes = export_target_memory(bytes)?;
    let mut config = Config::default();
    config
        .consume_fuel(true)
        .wasm_multi_memory(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, &bytes[..]).context("wasmi cannot compile it")?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(fuel)?;
    let linker = Linker::<()>::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => {
            let end = if out_of_fuel(&e) {
                End::OutOfFuel
            } else {
                End::StartTrap(e.as_trap_code())
            };
            return Ok(Run {
                end,
                stdout: Vec::new(),
                stderr: Vec::new(),
                memory: Vec::new(),
                fuel_used: fuel - store.get_fuel()?,
            });
        }
    };
    let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
    let result = start.call(&mut store, ());
    let fuel_used = fuel - store.get_fuel()?;
    // The host API's calls are not the program's: they get their own fuel.
    store.set_fuel(u64::MAX / 2)?;
    let exit_code = call_i32(&instance, &mut store, host_api::EXIT_CODE)?;
    let end = match result {
        Ok(()) => End::Returned,
        Err(_) if exit_code >= 0 => End::Exit(exit_code),
        Err(e) if out_of_fuel(&e) => End::OutOfFuel,
        Err(e) => match e.as_trap_code() {
            Some(code) => End::Trap(code),
            None => return Err(anyhow!("`_start` failed with something not a trap: {e}")),
        },
    };
    let stdout = captured(
        &instance,
        &mut store,
        host_api::STDOUT_PTR,
        host_api::STDOUT_LEN,
    )?;
    let stderr = captured(
        &instance,
        &mut store,
        host_api::STDERR_PTR,
        host_api::STDERR_LEN,
    )?;
    let memory = instance
        .get_memory(&store, TARGET_MEMORY)
        .context("no target memory")?
        .data(&store)
        .to_vec();
    Ok(Run {
        end,
        stdout,
        stderr,
        memory,
        fuel_used,
    })
}

fn out_of_fuel(e: &wasmi::Error) -> bool {
    e.as_trap_code() == Some(TrapCode::OutOfFuel) || e.to_string().contains("fuel")
}

fn call_i32(instance: &Instance, store: &mut Store<()>, name: &str) -> Result<i32> {
    instance
        .get_typed_func::<(), i32>(&*store, name)?
        .call(store, ())
        .map_err(|e| anyhow!("the host API's `{name}` trapped: {e}"))
}

fn captured(instance: &Instance, store: &mut Store<()>, ptr: &str, len: &str) -> Result<Vec<u8>> {
    let ptr = call_i32(instance, store, ptr)? as u32 as usize;
    let len = call_i32(instance, store, len)? as u32 as usize;
    let memory = instance
        .get_memory(&*store, "memory")
        .context("no `memory`")?;
    memory
        .data(&*store)
        .get(ptr..ptr + len)
        .map(<[u8]>::to_vec)
        .context("captured output out of range")
}

/// `bytes` with one more export: memory 0 (the target's) as
/// [`TARGET_MEMORY`]. Every other section is copied as it is.
fn export_target_memory(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut module = wasm_encoder::Module::new();
    let mut exported = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Payload::ExportSection(reader) = &payload {
            let mut exports = wasm_encoder::ExportSection::new();
            for export in reader.clone() {
                RoundtripReencoder.parse_export(&mut exports, export?)?;
            }
            exports.export(TARGET_MEMORY, wasm_encoder::ExportKind::Memory, 0);
            module.section(&exports);
            exported = true;
        } else if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &bytes[range.start as usize..range.end as usize],
            });
        }
    }
    anyhow::ensure!(exported, "the output has no export section");
    Ok(module.finish())
}
