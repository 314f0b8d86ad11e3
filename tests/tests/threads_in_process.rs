//! A threads output with everything virtual imports its shared memories and
//! `wasi.thread-spawn`, nothing else. This runs such outputs with exactly
//! that and no WASI: a small wasi-threads host on the wasmtime crate (the
//! shared memories made from the imports' types; `thread-spawn` starts an
//! OS thread with a new instance importing the same memories, and calls
//! `wasi_thread_start` there), stdout and stderr read back through the
//! guest's host API as in any other test. The cases that end normally must
//! print what `threads-app` prints under wasmtime's own WASI.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow, bail};
use wasmtime::{Config, Engine, ExternType, InstancePre, Linker, Module, SharedMemory, Store};

use wasi_virt_tests::tools::Tool;
use wasi_virt_tests::{have, wasi_virt_bin, wasm_example};

/// What an in-process run printed and how it ended.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    stdout: String,
    stderr: String,
    exit_code: i32,
}

/// Runs `_start` of the threads output `wasm` with nothing but its shared
/// memories and a `wasi.thread-spawn`.
fn run_in_process(wasm: &[u8]) -> Result<Run> {
    let mut config = Config::new();
    config
        .wasm_threads(true)
        .shared_memory(true)
        .wasm_multi_memory(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, wasm)?;
    let mut linker = Linker::<()>::new(&engine);
    let mut guest_memory = None;
    for import in module.imports() {
        match import.ty() {
            ExternType::Memory(ty) => {
                let memory = SharedMemory::new(&engine, ty)?;
                if import.name() == "guest-memory" {
                    guest_memory = Some(memory.clone());
                }
                linker.define(
                    &Store::new(&engine, ()),
                    import.module(),
                    import.name(),
                    memory,
                )?;
            }
            ExternType::Func(_) if (import.module(), import.name()) == ("wasi", "thread-spawn") => {
            }
            other => bail!(
                "the output imports {}::{} ({other:?})",
                import.module(),
                import.name()
            ),
        }
    }
    let pre: Arc<OnceLock<InstancePre<()>>> = Arc::new(OnceLock::new());
    let threads: Arc<Mutex<Vec<JoinHandle<Result<()>>>>> = Arc::default();
    let next_tid = Arc::new(AtomicI32::new(1));
    {
        let (pre, threads, engine) = (pre.clone(), threads.clone(), engine.clone());
        linker.func_wrap("wasi", "thread-spawn", move |start_arg: i32| -> i32 {
            let tid = next_tid.fetch_add(1, Ordering::SeqCst);
            let (pre, engine) = (
                pre.get().expect("set before _start").clone(),
                engine.clone(),
            );
            let handle = std::thread::spawn(move || -> Result<()> {
                let mut store = Store::new(&engine, ());
                let instance = pre.instantiate(&mut store)?;
                let start =
                    instance.get_typed_func::<(i32, i32), ()>(&mut store, "wasi_thread_start")?;
                start.call(&mut store, (tid, start_arg))?;
                Ok(())
            });
            threads.lock().unwrap().push(handle);
            tid
        })?;
    }
    let _ = pre.set(linker.instantiate_pre(&module)?);
    let mut store = Store::new(&engine, ());
    let instance = pre.get().unwrap().instantiate(&mut store)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let trapped = start.call(&mut store, ()).err();
    let mut call = |name: &str| -> Result<i32> {
        Ok(instance
            .get_typed_func::<(), i32>(&mut store, name)?
            .call(&mut store, ())?)
    };
    let exit_code = call("wasi_virt_exit_code")?;
    if let Some(trap) = trapped
        && exit_code < 0
    {
        bail!("_start trapped without exiting: {trap:?}");
    }
    let (out_ptr, out_len) = (call("wasi_virt_stdout_ptr")?, call("wasi_virt_stdout_len")?);
    let (err_ptr, err_len) = (call("wasi_virt_stderr_ptr")?, call("wasi_virt_stderr_len")?);
    let memory = guest_memory.context("no guest memory import")?;
    let read = |ptr: i32, len: i32| -> String {
        let data = memory.data();
        let bytes: Vec<u8> = data[ptr as usize..(ptr + len) as usize]
            .iter()
            .map(|cell| unsafe { *cell.get() })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    for handle in threads.lock().unwrap().drain(..) {
        handle
            .join()
            .map_err(|_| anyhow!("a thread of the host panicked"))??;
    }
    Ok(Run {
        stdout: read(out_ptr, out_len),
        stderr: read(err_ptr, err_len),
        exit_code: exit_code.max(0),
    })
}

/// The program's own stdout under wasmtime 46's WASI, `/tmp` a folder.
fn host_stdout(app: &Path, case: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(Tool::WasmtimeThreads.locate().unwrap())
        .args([
            "run",
            "-W",
            "threads=y,shared-memory=y",
            "-S",
            "threads=y",
            "--dir",
        ])
        .arg(format!("{}::/tmp", dir.path().display()))
        .arg(app)
        .arg(case)
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn all_virtual_threads_outputs_run_with_nothing_but_their_memories_and_spawn() {
    if !have(Tool::WasmtimeThreads) {
        return;
    }
    let app = wasm_example("threads-app", "wasm32-wasip1-threads");
    let dir = tempfile::tempdir().unwrap();
    for case in ["spawn", "sync", "append", "fs", "rayon", "race"] {
        let out = dir.path().join(format!("{case}.wasm"));
        let status = Command::new(wasi_virt_bin())
            .arg("pack")
            .arg(&app)
            .arg("-o")
            .arg(&out)
            .args(["--dir", "/tmp", "--arg", case])
            .status()
            .unwrap();
        assert!(status.success());
        let run = run_in_process(&std::fs::read(&out).unwrap())
            .unwrap_or_else(|e| panic!("{case}: {e:#}"));
        let expected = Run {
            stdout: host_stdout(&app, case),
            stderr: String::new(),
            exit_code: 0,
        };
        assert_eq!(run, expected, "{case}");
    }
}
