//! `pack`: a program virtualized with the built-in guest. What it decides
//! besides the merge itself: which folders, which host imports stay and
//! why, which exports the output offers.
//!
//! The built-in guest (`merge/pack-guest`) is built by `build.rs` and
//! embedded here; [`GUEST`] is its bytes.

pub mod folders;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasi_virt_abi::names::PASSTHROUGH_MODULE;
use wasi_virt_abi::pack::{self, ClockMode, ExitMode, RandomMode, StreamMode};
use wasi_virt_abi::preview1;
use wasm_encoder::Encode;

use crate::module::Module;
use crate::passes::{self, read_manifest};
use crate::types::{Extras, PackData, Stubs, Target};
use crate::{Input, Options, Report};
use folders::{Counts, Mount, Progress};

/// What `pack` puts in the output besides the program: its folders,
/// arguments, environment and the behaviour of each subsystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackConfig {
    /// Folders, mounted at fds 3, 4, … in this order.
    pub mounts: Vec<Mount>,
    /// argv, argv[0] first.
    pub args: Vec<String>,
    /// The environment, as `KEY=VALUE`.
    pub env: Vec<String>,
    /// stdio, clock, random, `proc_exit`.
    pub modes: Modes,
    /// Whether streams that are not inherited say they are a terminal.
    pub terminal: bool,
    /// Modules whose imports by the program become traps.
    pub stub_imports: Vec<String>,
}

impl PackConfig {
    /// The defaults of `wasi-virt pack`: no folders, `argv0` alone, no
    /// environment, captured stdio, the virtual clock, seed 0, virtual exit.
    pub fn new(argv0: &str) -> PackConfig {
        PackConfig {
            mounts: Vec::new(),
            args: vec![argv0.to_string()],
            env: Vec::new(),
            modes: Modes {
                stdio: [StreamMode::Capture; 3],
                clock: ClockMode::Virtual,
                random: RandomMode::Seeded(0),
                exit: ExitMode::Virtual,
            },
            terminal: false,
            stub_imports: Vec::new(),
        }
    }
}

/// What `pack` read and kept, for `-v`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackReport {
    /// Files, folders, symlinks and bytes of every mount.
    pub counts: Counts,
    /// How long reading the folders took.
    pub read: Duration,
    /// Host imports that stay: (preview1 function, the option that keeps it).
    pub kept: Vec<(String, String)>,
}

/// Checks `config`, reads its folders and merges `app` with the built-in
/// guest; the merged module (before any transform) and what was done.
pub(crate) fn run(
    app: Input,
    config: &PackConfig,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<(Vec<u8>, Report)> {
    config.check()?;
    let target = Module::parse(app.name, app.bytes)?;
    let mut warnings = Vec::new();
    for module in &config.stub_imports {
        if !target.imports.iter().any(|i| i.module == module) {
            warnings.push(format!(
                "--stub-imports {module}: {} imports nothing from {module}",
                app.name
            ));
        }
    }
    let guest = Module::parse(GUEST_NAME, GUEST)?;
    let manifest = read_manifest::run(&guest)?;
    let started = Instant::now();
    let walked = folders::read(&config.mounts, progress)?;
    let read = started.elapsed();
    let passthrough = passthrough(&guest, &config.modes);
    let image = pack::Config {
        args: config.args.clone(),
        env: config.env.clone(),
        stdio: config.modes.stdio,
        terminal: config.terminal,
        clock: config.modes.clock,
        random: config.modes.random,
        exit: config.modes.exit,
        preopens: walked.preopens,
    };
    let extras = Extras {
        stubs: Stubs {
            target_modules: config.stub_imports.iter().cloned().collect(),
            guest: guest_stubs(&target, &passthrough),
        },
        pack: Some(PackData {
            config: image.encode(),
            blob: walked.blob,
        }),
        hidden_exports: hidden_exports(&target),
        target_exports: target_exports(&target, &guest)?,
        thread_limit: options.threads,
    };
    let dirs = mount_summaries(&config.mounts, &walked.per_mount);
    let targets = [Target {
        name: pack::TARGET.to_string(),
        module: target,
    }];
    let (mut bytes, timings) = passes::merge(&guest, &manifest, &targets, extras, options.unwind)
        .with_context(|| format!("while packing {}", app.name))?;
    append_custom_section(
        &mut bytes,
        pack::SECTION,
        record(&passthrough, &config.stub_imports, &dirs).as_bytes(),
    );
    let report = Report {
        threads: targets[0].module.is_threads(),
        targets: vec![(app.name.to_string(), pack::TARGET.to_string())],
        encode: timings.encode,
        validate: timings.validate,
        pack: Some(PackReport {
            counts: walked.counts,
            read,
            kept: passthrough
                .iter()
                .filter_map(|p| Some((p.name.clone(), p.kept_by.clone()?)))
                .collect(),
        }),
        warnings,
        ..Report::default()
    };
    Ok((bytes, report))
}

impl PackConfig {
    /// Refuses a configuration that cannot be packed, before any work.
    pub fn check(&self) -> Result<()> {
        check(self)
    }
}

fn check(config: &PackConfig) -> Result<()> {
    let mut seen = BTreeSet::new();
    for m in &config.mounts {
        if !seen.insert(m.guest.as_str()) {
            bail!(
                "--dir {}: {} is mounted twice; give each path one folder",
                m.arg,
                m.guest
            );
        }
    }
    for entry in &config.env {
        match entry.split_once('=') {
            Some((key, _)) if !key.is_empty() && !entry.contains('\0') => {}
            _ => bail!("--env {entry}: expected KEY=VALUE with a non-empty KEY"),
        }
    }
    if let Some(bad) = config.args.iter().find(|a| a.contains('\0')) {
        bail!("the argument {bad:?} contains a NUL byte");
    }
    for module in &config.stub_imports {
        if module == preview1::MODULE {
            bail!(
                "--stub-imports {module}: WASI imports are virtualized by pack, not stubbed; choose their behaviour with --stdio, --clock, --random, --exit"
            );
        }
    }
    Ok(())
}

/// What each folder held, not where it was: a path of the packing machine
/// would make the same inputs pack differently elsewhere.
fn mount_summaries(mounts: &[Mount], per_mount: &[Counts]) -> Vec<(String, String)> {
    mounts
        .iter()
        .zip(per_mount)
        .map(|(m, counts)| {
            let what = match &m.host {
                Some(_) => counts.to_string(),
                None => "an empty folder".to_string(),
            };
            let ro = if m.read_only { ", read-only" } else { "" };
            (m.guest.clone(), format!("{what}{ro}"))
        })
        .collect()
}

/// Appends a custom section at the end of a module.
fn append_custom_section(module: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut payload = Vec::with_capacity(name.len() + data.len() + 5);
    name.encode(&mut payload);
    payload.extend_from_slice(data);
    module.push(0);
    (payload.len() as u32).encode(module);
    module.extend_from_slice(&payload);
}

/// The built-in guest, built from `merge/pack-guest` by `build.rs` (or taken
/// from `WASI_VIRT_PACK_GUEST` at build time).
pub static GUEST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pack-guest.wasm"));

/// How messages name the default guest.
pub const GUEST_NAME: &str = "the default guest of wasi-virt pack";

/// Guest exports no packed output offers: the linker's bookkeeping of the
/// guest's own memory, meaningless outside it.
const GUEST_INTERNALS: [&str; 2] = ["__data_end", "__heap_base"];

/// The subsystem modes `pack` writes into the config image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modes {
    /// stdin, stdout, stderr.
    pub stdio: [StreamMode; 3],
    /// The clock.
    pub clock: ClockMode,
    /// Randomness.
    pub random: RandomMode,
    /// `proc_exit`.
    pub exit: ExitMode,
}

/// One host passthrough import of the guest: kept, with the option that
/// keeps it, or stubbed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passthrough {
    /// The preview1 function.
    pub name: String,
    /// Why it stays (`--stdout inherit`…), or `None` when it becomes a trap.
    pub kept_by: Option<String>,
}

const STREAMS: [&str; 3] = ["--stdin", "--stdout", "--stderr"];

/// For each host passthrough import of `guest`, whether `modes` need it.
pub fn passthrough(guest: &Module, modes: &Modes) -> Vec<Passthrough> {
    let inherited = |fds: &[usize]| -> Option<String> {
        let names: Vec<String> = fds
            .iter()
            .filter(|&&fd| modes.stdio[fd] == StreamMode::Inherit)
            .map(|&fd| format!("{} inherit", STREAMS[fd]))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    };
    guest
        .imports
        .iter()
        .filter(|i| i.module == PASSTHROUGH_MODULE)
        .map(|i| {
            let kept_by = match i.name {
                "fd_write" => inherited(&[1, 2]),
                "fd_read" => inherited(&[0]),
                // What an inherited stream is (a terminal, a pipe).
                "fd_fdstat_get" => inherited(&[0, 1, 2]),
                // Real sleeps, and polls of inherited streams.
                "poll_oneoff" => match (modes.clock == ClockMode::Host, inherited(&[0, 1, 2])) {
                    (true, Some(streams)) => Some(format!("--clock host, {streams}")),
                    (true, None) => Some("--clock host".to_string()),
                    (false, streams) => streams,
                },
                "clock_res_get" | "clock_time_get" => {
                    (modes.clock == ClockMode::Host).then(|| "--clock host".to_string())
                }
                "random_get" => {
                    (modes.random == RandomMode::Host).then(|| "--random host".to_string())
                }
                "proc_exit" => (modes.exit == ExitMode::Host).then(|| {
                    if inherited(&[0, 1, 2]).is_some() {
                        "--exit host (the default with inherited stdio)".to_string()
                    } else {
                        "--exit host".to_string()
                    }
                }),
                _ => None,
            };
            Passthrough {
                name: i.name.to_string(),
                kept_by,
            }
        })
        .collect()
}

/// The program's entry points that the guest wraps, and which of them the
/// target lacks: `(export name, present)`.
pub fn entry_points(target: &Module) -> [(&'static str, bool); 2] {
    ["_start", "_initialize"].map(|e| (e, target.exported_func(e).is_some()))
}

/// The target's exports a packed output re-exports: all but its entry
/// points (the guest's wrap them); its memory as
/// [`pack::TARGET_MEMORY_EXPORT`] (`memory` is the guest's, which the host
/// API's pointers point into). `(output name, export name)`.
pub fn target_exports(target: &Module, guest: &Module) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for export in &target.exports {
        let name = match export.name {
            "_start" | "_initialize" => continue,
            "memory" => pack::TARGET_MEMORY_EXPORT,
            other => other,
        };
        let clash = guest.exports.iter().any(|e| {
            e.name == name
                && !GUEST_INTERNALS.contains(&e.name)
                && !["_start", "_initialize"].contains(&e.name)
        });
        if clash {
            anyhow::bail!(
                "{}: its export `{}` has the name of an export of the packed output (the host API); rename it in the program",
                target.name,
                export.name
            );
        }
        out.push((name.to_string(), export.name.to_string()));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// The guest exports a packed output leaves out: the linker's internals,
/// and each entry point the target does not have.
pub fn hidden_exports(target: &Module) -> Vec<String> {
    let mut hidden: Vec<String> = GUEST_INTERNALS.iter().map(|s| s.to_string()).collect();
    for (entry, present) in entry_points(target) {
        if !present {
            hidden.push(entry.to_string());
        }
    }
    hidden
}

/// The guest imports that become traps: passthrough nobody needs, and the
/// target's entry points it lacks.
pub fn guest_stubs(target: &Module, passthrough: &[Passthrough]) -> BTreeSet<(String, String)> {
    let mut stubs: BTreeSet<(String, String)> = passthrough
        .iter()
        .filter(|p| p.kept_by.is_none())
        .map(|p| (PASSTHROUGH_MODULE.to_string(), p.name.clone()))
        .collect();
    let module = wasi_virt_abi::names::target_module(pack::TARGET);
    for (entry, present) in entry_points(target) {
        if !present {
            stubs.insert((module.clone(), entry.to_string()));
        }
    }
    stubs
}

/// The `wasi-virt.pack` custom section: what `inspect` says about a packed
/// output. Line-based, tab-separated:
/// `wasi-virt/1 pack`, then `keep <module> <name> <why>`,
/// `stub <module> <why>`, `dir <guest path> <summary>`.
pub fn record(
    passthrough: &[Passthrough],
    stubbed_modules: &[String],
    dirs: &[(String, String)],
) -> String {
    let mut out = String::from("wasi-virt/1 pack\n");
    for p in passthrough {
        if let Some(why) = &p.kept_by {
            out.push_str(&format!("keep\t{}\t{}\t{why}\n", preview1::MODULE, p.name));
        }
    }
    for module in stubbed_modules {
        out.push_str(&format!("stub\t{module}\t--stub-imports {module}\n"));
    }
    for (path, summary) in dirs {
        out.push_str(&format!("dir\t{path}\t{summary}\n"));
    }
    out
}

/// One line of a [`record`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A kept host import and why.
    Keep {
        /// Its module.
        module: String,
        /// Its name.
        name: String,
        /// The option that keeps it.
        why: String,
    },
    /// A module whose imports were stubbed.
    Stub {
        /// The module.
        module: String,
    },
    /// A mounted folder.
    Dir {
        /// Where the program sees it.
        path: String,
        /// What it holds.
        summary: String,
    },
}

/// Reads a [`record`] back; unknown lines are skipped.
pub fn parse_record(bytes: &[u8]) -> Vec<Recorded> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["keep", module, name, why] => Some(Recorded::Keep {
                    module: module.to_string(),
                    name: name.to_string(),
                    why: why.to_string(),
                }),
                ["stub", module, _] => Some(Recorded::Stub {
                    module: module.to_string(),
                }),
                ["dir", path, summary] => Some(Recorded::Dir {
                    path: path.to_string(),
                    summary: summary.to_string(),
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_entries_and_mounts_are_checked_before_any_work() {
        let mut config = PackConfig::new("app");
        config.env = vec!["K=V=W".into(), "K=".into()];
        config.check().unwrap();
        config.env = vec!["NOVALUE".into()];
        let err = config.check().unwrap_err().to_string();
        assert_eq!(
            err,
            "--env NOVALUE: expected KEY=VALUE with a non-empty KEY"
        );
        config.env = vec!["=v".into()];
        assert!(config.check().is_err());
        config.env.clear();
        config.mounts = vec![Mount::parse("/a").unwrap(), Mount::parse("/a/").unwrap()];
        let err = config.check().unwrap_err().to_string();
        assert_eq!(
            err,
            "--dir /a/: /a is mounted twice; give each path one folder"
        );
    }

    #[test]
    fn a_custom_section_appended_keeps_the_module_valid() {
        let mut bytes = wat::parse_str("(module (func (export \"f\")))").unwrap();
        append_custom_section(&mut bytes, "wasi-virt.pack", b"wasi-virt/1 pack\n");
        wasmparser::Validator::new().validate_all(&bytes).unwrap();
        let m = Module::parse("m.wasm", &bytes).unwrap();
        assert_eq!(
            m.custom_sections("wasi-virt.pack").unwrap(),
            b"wasi-virt/1 pack\n"
        );
    }

    fn guest() -> Vec<u8> {
        wat::parse_str(
            r#"(module
              (import "wasi-virt:passthrough" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
              (import "wasi-virt:passthrough" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
              (import "wasi-virt:passthrough" "clock_time_get" (func (param i32 i64 i32) (result i32)))
              (import "wasi-virt:passthrough" "random_get" (func (param i32 i32) (result i32)))
              (import "wasi-virt:passthrough" "proc_exit" (func (param i32)))
              (import "wasi-virt:passthrough" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
              (import "wasi-virt:passthrough" "fd_fdstat_get" (func (param i32 i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "_start")))"#,
        )
        .unwrap()
    }

    fn modes() -> Modes {
        Modes {
            stdio: [StreamMode::Capture; 3],
            clock: ClockMode::Virtual,
            random: RandomMode::Seeded(1),
            exit: ExitMode::Virtual,
        }
    }

    #[test]
    fn all_virtual_keeps_no_passthrough() {
        let bytes = guest();
        let g = Module::parse("g.wasm", &bytes).unwrap();
        let p = passthrough(&g, &modes());
        assert_eq!(p.len(), 7);
        assert!(p.iter().all(|p| p.kept_by.is_none()));
    }

    #[test]
    fn each_host_mode_keeps_exactly_its_imports() {
        let bytes = guest();
        let g = Module::parse("g.wasm", &bytes).unwrap();
        let m = Modes {
            stdio: [StreamMode::Capture, StreamMode::Inherit, StreamMode::Ignore],
            clock: ClockMode::Host,
            exit: ExitMode::Host,
            ..modes()
        };
        let kept: Vec<(String, String)> = passthrough(&g, &m)
            .into_iter()
            .filter_map(|p| Some((p.name, p.kept_by?)))
            .collect();
        assert_eq!(
            kept,
            [
                ("fd_write".to_string(), "--stdout inherit".to_string()),
                ("clock_time_get".to_string(), "--clock host".to_string()),
                (
                    "proc_exit".to_string(),
                    "--exit host (the default with inherited stdio)".to_string()
                ),
                (
                    "poll_oneoff".to_string(),
                    "--clock host, --stdout inherit".to_string()
                ),
                ("fd_fdstat_get".to_string(), "--stdout inherit".to_string()),
            ]
        );
        let host_clock_alone = Modes {
            clock: ClockMode::Host,
            ..modes()
        };
        let kept: Vec<String> = passthrough(&g, &host_clock_alone)
            .into_iter()
            .filter(|p| p.kept_by.is_some())
            .map(|p| p.name)
            .collect();
        assert_eq!(kept, ["clock_time_get", "poll_oneoff"]);
    }

    #[test]
    fn a_reactor_hides_start_and_re_exports_its_api() {
        let target = wat::parse_str(
            r#"(module (memory (export "memory") 1)
              (func (export "_initialize")) (func (export "eval")))"#,
        )
        .unwrap();
        let t = Module::parse("r.wasm", &target).unwrap();
        let bytes = guest();
        let g = Module::parse("g.wasm", &bytes).unwrap();
        assert_eq!(hidden_exports(&t), ["__data_end", "__heap_base", "_start"]);
        assert_eq!(
            target_exports(&t, &g).unwrap(),
            [
                ("app_memory".to_string(), "memory".to_string()),
                ("eval".to_string(), "eval".to_string())
            ]
        );
        let stubs = guest_stubs(&t, &[]);
        assert!(stubs.contains(&("wasi-virt:target/app".to_string(), "_start".to_string())));
    }

    #[test]
    fn records_read_back() {
        let p = [Passthrough {
            name: "fd_write".into(),
            kept_by: Some("--stdout inherit".into()),
        }];
        let text = record(&p, &["env".into()], &[("/".into(), "3 files".into())]);
        assert_eq!(
            parse_record(text.as_bytes()),
            [
                Recorded::Keep {
                    module: "wasi_snapshot_preview1".into(),
                    name: "fd_write".into(),
                    why: "--stdout inherit".into()
                },
                Recorded::Stub {
                    module: "env".into()
                },
                Recorded::Dir {
                    path: "/".into(),
                    summary: "3 files".into()
                },
            ]
        );
    }
}
