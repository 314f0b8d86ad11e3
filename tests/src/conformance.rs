//! The differential conformance suite's harness (`tests/tests/conformance.rs`):
//! the same program run under wasmtime's host WASI on a real folder and
//! merged with `examples/conformance/guest`, which embeds the same folder.
//!
//! Both runs start from `examples/conformance/fixture` as `/` and an empty
//! `/tmp`; both end with a canonical dump of those two trees
//! ([`wasi_virt::fs::dump`]): read from disk for the host run, from the
//! guest's `Vfs` (its `conformance_dump` export) for the merged run.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use wasi_virt::fs::dump::{DumpEntry, DumpKind, format_dump};
use wasi_virt_abi::names::host_api;
use wasmi::{Config, Engine, Instance, Linker, Module, Store};

use crate::tools::Tool;
use crate::{Outcome, repo_root};

/// What one run gives: how it ended, and the dump of `/` and `/tmp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Exit code, trap, stdout and stderr.
    pub outcome: Outcome,
    /// The canonical dumps of `/` and of `/tmp` after the run.
    pub trees: [String; 2],
}

/// The fixture folder both runs start from.
pub fn fixture_dir() -> PathBuf {
    repo_root().join("examples/conformance/fixture")
}

/// Copies `from` into `to` (created), keeping symlinks as symlinks (a
/// dangling or looping one included).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let entry = entry?;
        let (source, destination) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &destination)?;
        } else if kind.is_dir() {
            copy_tree(&source, &destination)?;
        } else {
            fs::copy(&source, &destination).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    source.display(),
                    destination.display()
                )
            })?;
        }
    }
    Ok(())
}

/// The canonical dump of the folder `root` on disk.
pub fn dump_host(root: &Path) -> Result<String> {
    let mut entries = Vec::new();
    collect(root, "", &mut entries)?;
    Ok(format_dump(&entries))
}

fn collect(root: &Path, rel: &str, out: &mut Vec<DumpEntry>) -> Result<()> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = fs::symlink_metadata(entry.path())?;
        let kind = if meta.file_type().is_symlink() {
            let target = fs::read_link(entry.path())?;
            DumpKind::Symlink(target.to_string_lossy().into_owned())
        } else if meta.is_dir() {
            DumpKind::Dir
        } else if meta.is_file() {
            use std::os::unix::fs::MetadataExt;
            DumpKind::File {
                bytes: fs::read(entry.path())?,
                links: meta.nlink(),
            }
        } else {
            DumpKind::Other
        };
        let is_dir = kind == DumpKind::Dir;
        out.push(DumpEntry {
            path: path.clone(),
            kind,
        });
        if is_dir {
            collect(root, &path, out)?;
        }
    }
    Ok(())
}

/// Runs `wasm` (an unmerged target) under the wasmtime CLI with a fresh copy
/// of the fixture as `/` and an empty folder as `/tmp`.
pub fn run_host(wasm: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let (root, tmp) = (dir.path().join("root"), dir.path().join("tmp"));
    copy_tree(&fixture_dir(), &root)?;
    fs::create_dir(&tmp)?;
    let outcome = run_wasmtime(wasm, &[(&root, "/"), (&tmp, "/tmp")], args, env)?;
    Ok(Run {
        outcome,
        trees: [dump_host(&root)?, dump_host(&tmp)?],
    })
}

/// Runs `wasm` under the wasmtime CLI with host WASI, as
/// [`run_in_wasmtime_host`](crate::run_in_wasmtime_host) does, except that
/// any failure of the run is a trap — a host function refusing its
/// arguments included (wasmtime reports those as errors of the call, not
/// as `wasm trap:`) — whose message is wasmtime's first cause.
fn run_wasmtime(
    wasm: &Path,
    dirs: &[(&Path, &str)],
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Outcome> {
    let wasmtime = Tool::Wasmtime
        .locate()
        .context("no wasmtime CLI found: run `cargo xtask setup`")?;
    let mut command = std::process::Command::new(&wasmtime);
    command.arg("run");
    for (host, guest) in dirs {
        command
            .arg("--dir")
            .arg(format!("{}::{guest}", host.display()));
    }
    for (key, value) in env {
        command.arg("--env").arg(format!("{key}={value}"));
    }
    command
        .arg(wasm)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("WASMTIME_BACKTRACE_DETAILS", "0");
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", wasmtime.display()))?;
    const REPORT: &[u8] = b"Error: failed to run main module";
    let report_at = (0..output.stderr.len()).find(|&at| {
        output.stderr[at..].starts_with(REPORT) && (at == 0 || output.stderr[at - 1] == b'\n')
    });
    let Some(report_at) = report_at else {
        return Ok(Outcome {
            exit_code: output.status.code(),
            trap: None,
            stdout: output.stdout,
            stderr: output.stderr,
        });
    };
    let report = String::from_utf8_lossy(&output.stderr[report_at..]).into_owned();
    let cause = report
        .lines()
        .rev()
        .find(|line| {
            line.trim_start().starts_with(|c: char| c.is_ascii_digit()) && !line.contains("0x")
        })
        .unwrap_or("failed")
        .trim()
        .to_owned();
    Ok(Outcome {
        exit_code: None,
        trap: Some(cause),
        stdout: output.stdout,
        stderr: output.stderr[..report_at].to_vec(),
    })
}

/// Runs the merged module `wasm` in wasmi with nothing linked: argv is
/// `prog` then `args`, the environment `env`; then reads the dumps.
pub fn run_merged(wasm: &[u8], args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
    let mut config = Config::default();
    config.wasm_multi_memory(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).context("wasmi cannot compile the module")?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| anyhow!("cannot instantiate with no imports: {e}"))?;

    let argv: Vec<&str> = std::iter::once("prog")
        .chain(args.iter().copied())
        .collect();
    set_strings(&instance, &mut store, "conformance_set_args", &argv)?;
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    set_strings(&instance, &mut store, "conformance_set_env", &env)?;

    let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
    let result = start.call(&mut store, ());
    let exit_code = call(&instance, &mut store, host_api::EXIT_CODE, ())?;
    let (exit_code, trap) = match result {
        Ok(()) => (Some(exit_code.max(0)), None),
        Err(_) if exit_code >= 0 => (Some(exit_code), None),
        Err(trap) => (None, Some(trap.to_string())),
    };
    let stdout_ptr = call(&instance, &mut store, host_api::STDOUT_PTR, ())?;
    let stdout_len = call(&instance, &mut store, host_api::STDOUT_LEN, ())?;
    let stdout = read(&instance, &store, stdout_ptr, stdout_len)?;
    let stderr_ptr = call(&instance, &mut store, host_api::STDERR_PTR, ())?;
    let stderr_len = call(&instance, &mut store, host_api::STDERR_LEN, ())?;
    let stderr = read(&instance, &store, stderr_ptr, stderr_len)?;
    let mut trees = [String::new(), String::new()];
    for (index, tree) in trees.iter_mut().enumerate() {
        let len = call(&instance, &mut store, "conformance_dump", index as i32)?;
        let ptr = call(&instance, &mut store, "conformance_dump_ptr", ())?;
        *tree = String::from_utf8(read(&instance, &store, ptr, len)?)?;
    }
    Ok(Run {
        outcome: Outcome {
            exit_code,
            trap,
            stdout,
            stderr,
        },
        trees,
    })
}

fn call<P: wasmi::WasmParams>(
    instance: &Instance,
    store: &mut Store<()>,
    name: &str,
    params: P,
) -> Result<i32> {
    instance
        .get_typed_func::<P, i32>(&*store, name)
        .with_context(|| format!("the module has no export `{name}`"))?
        .call(store, params)
        .map_err(|e| anyhow!("`{name}` trapped: {e}"))
}

fn read(instance: &Instance, store: &Store<()>, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let memory = instance
        .get_memory(store, "memory")
        .context("no exported `memory`")?;
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    match memory.data(store).get(ptr..ptr + len) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => bail!("{ptr}+{len} is past the end of `memory`"),
    }
}

/// Hands `strings` (NUL-separated) to the guest export `setter`.
fn set_strings(
    instance: &Instance,
    store: &mut Store<()>,
    setter: &str,
    strings: &[&str],
) -> Result<()> {
    let mut bytes = Vec::new();
    for s in strings {
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
    }
    let ptr = call(instance, store, host_api::ALLOC, bytes.len() as i32)?;
    let memory = instance
        .get_memory(&*store, "memory")
        .context("no exported `memory`")?;
    memory
        .write(&mut *store, ptr as u32 as usize, &bytes)
        .map_err(|e| anyhow!("cannot write the strings: {e}"))?;
    instance
        .get_typed_func::<(i32, i32), ()>(&*store, setter)
        .with_context(|| format!("the guest has no export `{setter}`"))?
        .call(store, (ptr, bytes.len() as i32))
        .map_err(|e| anyhow!("`{setter}` trapped: {e}"))
}
