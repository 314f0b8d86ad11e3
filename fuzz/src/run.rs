//! Running an output with nothing linked and a fuel limit, in wasmi or in
//! wasmtime, and reading back what the target did: its exit, the guest's
//! captured stdio, and the target's memory.

use anyhow::{Context, Result, anyhow};
use wasi_virt_abi::names::host_api;
use wasi_virt_tests::{call_host_api_i32, captured_stdio};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// The export added to an output so that the target's memory (memory 0)
/// can be read after a run.
const TARGET_MEMORY: &str = "__wasi_virt_fuzz_target_memory";

/// A trap, in the terms both engines share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    /// `unreachable` was executed.
    Unreachable,
    /// The call stack ran out.
    StackOverflow,
    /// Any other trap, as the engine names it.
    Other(String),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// `_start` returned.
    Returned,
    /// The program called `proc_exit` (the guest recorded the code and
    /// trapped).
    Exit(i32),
    /// `_start` trapped.
    Trap(Trap),
    /// Instantiation trapped (in a start function).
    StartTrap(Trap),
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

impl Run {
    fn stopped_at_start(end: End, fuel_used: u64) -> Run {
        Run {
            end,
            stdout: Vec::new(),
            stderr: Vec::new(),
            memory: Vec::new(),
            fuel_used,
        }
    }
}

/// The engine a run happens in.
pub enum Engine {
    /// wasmi: an interpreter that compiles lazily, so a run costs little
    /// more than its instructions. It has no exception handling.
    Wasmi(wasmi::Engine),
    /// wasmtime (Cranelift): every output is compiled whole first (a few
    /// hundred milliseconds a module), and runs `--unwind exceptions` too.
    Wasmtime(wasmtime::Engine),
}

impl Engine {
    /// wasmi with fuel and what merged outputs use.
    pub fn wasmi() -> Engine {
        let mut config = wasmi::Config::default();
        config
            .consume_fuel(true)
            .wasm_multi_memory(true)
            .wasm_tail_call(true)
            .wasm_extended_const(true);
        Engine::Wasmi(wasmi::Engine::new(&config))
    }

    /// wasmtime with fuel, exceptions and what merged outputs use.
    pub fn wasmtime() -> Result<Engine> {
        let mut config = wasmtime::Config::new();
        config
            .consume_fuel(true)
            .wasm_multi_memory(true)
            .wasm_tail_call(true)
            .wasm_reference_types(true)
            .wasm_function_references(true)
            .wasm_gc(true)
            .wasm_exceptions(true);
        let engine =
            wasmtime::Engine::new(&config).map_err(|e| anyhow!("cannot set up wasmtime: {e}"))?;
        Ok(Engine::Wasmtime(engine))
    }

    /// The engine's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Wasmi(_) => "wasmi",
            Engine::Wasmtime(_) => "wasmtime",
        }
    }

    /// Runs `_start` of the output `bytes` with `fuel`.
    pub fn run(&self, bytes: &[u8], fuel: u64) -> Result<Run> {
        let bytes = export_target_memory(bytes)?;
        match self {
            Engine::Wasmi(engine) => run_wasmi(engine, &bytes, fuel),
            Engine::Wasmtime(engine) => run_wasmtime(engine, &bytes, fuel),
        }
    }
}

/// The validator every output must pass: wasmparser's default features,
/// which include everything a merge may emit.
pub(crate) fn validator() -> Validator {
    Validator::new_with_features(WasmFeatures::default())
}

fn run_wasmi(engine: &wasmi::Engine, bytes: &[u8], fuel: u64) -> Result<Run> {
    use wasmi::{Linker, Module, Store};
    let module = Module::new(engine, bytes).context("wasmi cannot compile it")?;
    let mut store = Store::new(engine, ());
    store.set_fuel(fuel)?;
    let linker = Linker::<()>::new(engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => {
            let end = if out_of_fuel(&e) {
                End::OutOfFuel
            } else {
                End::StartTrap(wasmi_trap(&e))
            };
            return Ok(Run::stopped_at_start(end, fuel - store.get_fuel()?));
        }
    };
    let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
    let result = start.call(&mut store, ());
    let fuel_used = fuel - store.get_fuel()?;
    // The host API's calls are not the program's: they get their own fuel.
    store.set_fuel(u64::MAX / 2)?;
    let exit_code = call_host_api_i32(&instance, &mut store, host_api::EXIT_CODE)?;
    let end = match result {
        Ok(()) => End::Returned,
        Err(_) if exit_code >= 0 => End::Exit(exit_code),
        Err(e) if out_of_fuel(&e) => End::OutOfFuel,
        Err(e) if e.as_trap_code().is_some() => End::Trap(wasmi_trap(&e)),
        Err(e) => return Err(anyhow!("`_start` failed with something not a trap: {e}")),
    };
    let (stdout, stderr) = captured_stdio(&instance, &mut store)?;
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
    e.as_trap_code() == Some(wasmi::TrapCode::OutOfFuel) || e.to_string().contains("fuel")
}

fn wasmi_trap(e: &wasmi::Error) -> Trap {
    match e.as_trap_code() {
        Some(wasmi::TrapCode::UnreachableCodeReached) => Trap::Unreachable,
        Some(wasmi::TrapCode::StackOverflow) => Trap::StackOverflow,
        Some(code) => Trap::Other(format!("{code:?}")),
        // Its text names store handles, which differ between two runs.
        None => Trap::Other("an error without a trap code".into()),
    }
}

fn run_wasmtime(engine: &wasmtime::Engine, bytes: &[u8], fuel: u64) -> Result<Run> {
    use wasmtime::{Linker, Module, Store};
    let module =
        Module::new(engine, bytes).map_err(|e| anyhow!("wasmtime cannot compile it: {e:?}"))?;
    let mut store = Store::new(engine, ());
    store.set_fuel(fuel).map_err(|e| anyhow!("{e}"))?;
    let used = |store: &Store<()>| fuel - store.get_fuel().unwrap_or(0);
    let instance = match Linker::<()>::new(engine).instantiate(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => {
            let end = match wasmtime_trap(&e) {
                None => End::OutOfFuel,
                Some(trap) => End::StartTrap(trap),
            };
            return Ok(Run::stopped_at_start(end, used(&store)));
        }
    };
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .map_err(|e| anyhow!("no `_start`: {e}"))?;
    let result = start.call(&mut store, ());
    let fuel_used = used(&store);
    // The host API's calls are not the program's: they get their own fuel.
    store.set_fuel(u64::MAX / 2).map_err(|e| anyhow!("{e}"))?;
    let mut call_i32 = |name: &str| -> Result<i32> {
        instance
            .get_typed_func::<(), i32>(&mut store, name)
            .and_then(|f| f.call(&mut store, ()))
            .map_err(|e| anyhow!("the host API's `{name}` failed: {e}"))
    };
    let exit_code = call_i32(host_api::EXIT_CODE)?;
    let stdout = (
        call_i32(host_api::STDOUT_PTR)?,
        call_i32(host_api::STDOUT_LEN)?,
    );
    let stderr = (
        call_i32(host_api::STDERR_PTR)?,
        call_i32(host_api::STDERR_LEN)?,
    );
    let end = match result {
        Ok(()) => End::Returned,
        Err(_) if exit_code >= 0 => End::Exit(exit_code),
        Err(e) => match wasmtime_trap(&e) {
            None => End::OutOfFuel,
            Some(Trap::Other(_)) if e.downcast_ref::<wasmtime::Trap>().is_none() => {
                return Err(anyhow!("`_start` failed with something not a trap: {e:#}"));
            }
            Some(trap) => End::Trap(trap),
        },
    };
    let mut memory = |name: &str| {
        instance
            .get_memory(&mut store, name)
            .with_context(|| format!("no memory `{name}`"))
    };
    let (guest_memory, target_memory) = (memory("memory")?, memory(TARGET_MEMORY)?);
    let guest_memory = guest_memory.data(&store);
    let slice = |(ptr, len): (i32, i32)| {
        let start = ptr as u32 as usize;
        guest_memory
            .get(start..start + len as u32 as usize)
            .map(<[u8]>::to_vec)
            .context("captured output out of range")
    };
    let (stdout, stderr) = (slice(stdout)?, slice(stderr)?);
    let memory = target_memory.data(&store).to_vec();
    Ok(Run {
        end,
        stdout,
        stderr,
        memory,
        fuel_used,
    })
}

/// The trap behind a wasmtime error; `None` for running out of fuel.
fn wasmtime_trap(e: &wasmtime::Error) -> Option<Trap> {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => None,
        Some(wasmtime::Trap::UnreachableCodeReached) => Some(Trap::Unreachable),
        Some(wasmtime::Trap::StackOverflow) => Some(Trap::StackOverflow),
        Some(trap) => Some(Trap::Other(format!("{trap:?}"))),
        // Its text may carry a backtrace, whose offsets differ between the
        // plain and the wrapped output.
        None => Some(Trap::Other("an error that is not a trap".into())),
    }
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
