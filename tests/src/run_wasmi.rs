//! Running a merged module in wasmi with nothing linked.

use anyhow::{Context, Result, anyhow, bail};
use wasi_virt_abi::names::host_api;
use wasmi::{Config, Engine, Instance, Linker, Module, Store};

use crate::Outcome;

/// Runs the export `entry` (usually `_start`) of `wasm` in wasmi with an
/// **empty** linker, so instantiation fails if the module imports anything,
/// and reads the outcome through the runtime's host API:
///
/// - `entry` returns: the exit code is `wasi_virt_exit_code()`, or 0 if that
///   is negative (the program never called `proc_exit`);
/// - `entry` traps and `wasi_virt_exit_code()` ≥ 0: that is the exit code
///   (`proc_exit` unwinds by trapping);
/// - `entry` traps otherwise: the outcome is that trap, with wasmi's message;
/// - stdout and stderr are the bytes at `wasi_virt_stdout_ptr()` /
///   `wasi_virt_stdout_len()` (and the same for stderr) in the exported
///   `memory`.
///
/// An error means the module could not be run at all (it does not compile,
/// imports something, or lacks the host API), not that the program failed.
pub fn run_in_wasmi(wasm: &[u8], entry: &str) -> Result<Outcome> {
    let mut config = Config::default();
    // On by default in wasmi 2; said here because every merged module has
    // two memories (the target's and the guest's).
    config.wasm_multi_memory(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).context("wasmi cannot compile the module")?;
    let imports: Vec<String> = module
        .imports()
        .map(|import| format!("`{}::{}`", import.module(), import.name()))
        .collect();
    let mut store = Store::new(&engine, ());
    let linker = Linker::<()>::new(&engine);
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .map_err(|error| {
            let error = anyhow!("{error}");
            if imports.is_empty() {
                error.context("cannot instantiate the module")
            } else {
                error.context(format!(
                    "cannot instantiate the module with no imports: it imports {}",
                    imports.join(", ")
                ))
            }
        })?;

    let start = instance
        .get_typed_func::<(), ()>(&store, entry)
        .with_context(|| format!("the module has no export `{entry}` of type `() -> ()`"))?;
    let result = start.call(&mut store, ());

    let exit_code = call_host_api_i32(&instance, &mut store, host_api::EXIT_CODE)?;
    let (exit_code, trap) = match result {
        Ok(()) => (Some(exit_code.max(0)), None),
        Err(_) if exit_code >= 0 => (Some(exit_code), None),
        Err(trap) => (None, Some(trap.to_string())),
    };
    let (stdout, stderr) = captured_stdio(&instance, &mut store)?;
    Ok(Outcome {
        exit_code,
        trap,
        stdout,
        stderr,
    })
}

/// The guest's captured stdout and stderr, read through the host API of an
/// instance that has run.
pub fn captured_stdio<T>(instance: &Instance, store: &mut Store<T>) -> Result<(Vec<u8>, Vec<u8>)> {
    let stdout = captured(instance, store, host_api::STDOUT_PTR, host_api::STDOUT_LEN)?;
    let stderr = captured(instance, store, host_api::STDERR_PTR, host_api::STDERR_LEN)?;
    Ok((stdout, stderr))
}

/// Calls the host-API export `name: () -> i32`.
pub fn call_host_api_i32<T>(instance: &Instance, store: &mut Store<T>, name: &str) -> Result<i32> {
    instance
        .get_typed_func::<(), i32>(&*store, name)
        .with_context(|| format!("the module has no host-API export `{name}` of type `() -> i32`"))?
        .call(store, ())
        .map_err(|error| anyhow!("the host-API function `{name}` trapped: {error}"))
}

/// The bytes a (pointer, length) pair of host-API exports point at in the
/// exported `memory`.
fn captured<T>(
    instance: &Instance,
    store: &mut Store<T>,
    ptr_export: &str,
    len_export: &str,
) -> Result<Vec<u8>> {
    let ptr = call_host_api_i32(instance, store, ptr_export)? as u32 as usize;
    let len = call_host_api_i32(instance, store, len_export)? as u32 as usize;
    // A single-memory output (`merge --single-memory`) says where the
    // guest's addresses start in its one memory; otherwise they start at 0.
    let base = match instance.get_typed_func::<(), i32>(&*store, host_api::MEMORY_BASE) {
        Ok(_) => call_host_api_i32(instance, store, host_api::MEMORY_BASE)? as u32 as usize,
        Err(_) => 0,
    };
    let ptr = ptr + base;
    let memory = instance
        .get_memory(&*store, "memory")
        .context("the module exports no memory named `memory`")?;
    let data = memory.data(&*store);
    match ptr.checked_add(len).and_then(|end| data.get(ptr..end)) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => bail!(
            "`{ptr_export}`/`{len_export}` give {ptr}+{len}, past the end of `memory` ({} bytes)",
            data.len()
        ),
    }
}
