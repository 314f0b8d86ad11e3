//! The wasi-virt merge as a library: a WASI-virtualizing guest and WASI
//! preview1 programs in, one module that needs no host WASI out.
//!
//! Three jobs, each one function, bytes in and bytes out, every problem an
//! error value (nothing is printed, nothing is written):
//! - [`merge`]: a guest built with the wasi-virt macros, and its targets;
//! - [`pack`]: a program with the built-in guest, its folders, arguments,
//!   environment and stdio chosen in a [`PackConfig`];
//! - [`inspect`]: what a module imports and exports, and why each import of
//!   a merged module is still there.
//!
//! [`Options`] chooses the output's form for both `merge` and `pack`
//! (unwinding, one memory, binaryen, a component); [`js`] writes the ES
//! module that runs an output in a browser or Node.
//!
//! ```no_run
//! use wasi_virt_merge::{Input, Options, PackConfig, pack};
//!
//! let app = std::fs::read("app.wasm")?;
//! let mut config = PackConfig::new("app.wasm");
//! config.env.push("GREETING=hello".into());
//! let packed = pack(Input::new("app.wasm", &app), &config, &Options::default())?;
//! std::fs::write("out.wasm", &packed.wasm)?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Inside, the merge is a pipeline of passes (`passes/`) that share a
//! vocabulary ([`types`]) and an index translation (`index`); transforms of
//! a finished output (`transforms/`) come after it. `docs/architecture.md`
//! tells what each owns.

mod index;
mod inspect;
mod json;
mod module;
mod pack;
mod passes;
mod provenance;
mod transforms;
pub mod types;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

pub use inspect::{Format, inspect};
pub use pack::folders::{Counts, Mount, Progress};
pub use pack::{Modes, PackConfig};
pub use passes::bind_targets::TargetArg;
pub use transforms::js;
pub use transforms::optimize::Level;
pub use transforms::single_memory::{Order, Report as SingleMemoryReport};
pub use types::Strategy;
pub use wasi_virt_abi::pack::{ClockMode, ExitMode, RandomMode, StreamMode};

use module::Module;
use passes::bind_targets;
use passes::read_manifest;
use types::{Extras, Target};

/// One input module: a name for messages (its file name, say) and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// How messages name it.
    pub name: &'a str,
    /// The module.
    pub bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// An input named `name`.
    pub fn new(name: &'a str, bytes: &'a [u8]) -> Input<'a> {
        Input { name, bytes }
    }
}

/// A target of [`merge`]: its module, and the target name it is bound to
/// (`None`: the only target, or the one named after the input's file stem,
/// `my-app.wasm` → `my_app`).
#[derive(Clone, Copy, Debug)]
pub struct TargetInput<'a> {
    /// The target name, as `NAME=` gives it on the command line.
    pub target: Option<&'a str>,
    /// The module.
    pub input: Input<'a>,
}

/// The form of the output, for [`merge`] and [`pack`] alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// How targets under `wrap_unreachable!` unwind back to the guest.
    pub unwind: Strategy,
    /// One memory instead of one per module, for engines without
    /// multi-memory.
    pub single_memory: Option<Order>,
    /// binaryen's optimization, after `single_memory`.
    pub optimize: Option<Level>,
    /// A component made from the guest's WIT world, last ([`merge`] only).
    pub component: bool,
    /// A threads program (`wasm32-wasip1-threads`): how many spawned threads
    /// may run at once; a spawn past that fails with `EAGAIN` in the
    /// program (`Some(0)`: none). `None`: the host's limit only.
    pub threads: Option<u32>,
}

/// What [`merge`] and [`pack`] return.
#[derive(Clone, Debug)]
pub struct Output {
    /// The module (or component); it validates.
    pub wasm: Vec<u8>,
    /// What was done, and how long it took.
    pub report: Report,
}

/// What a merge did, for `-v`.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Each target: (its input's name, its target name).
    pub targets: Vec<(String, String)>,
    /// Checking, planning and re-encoding.
    pub encode: Duration,
    /// Validating the merged module.
    pub validate: Duration,
    /// The single-memory transform's report, if it ran.
    pub single_memory: Option<SingleMemoryReport>,
    /// The optimization level, and the sizes before and after.
    pub optimized: Option<(Level, usize, usize)>,
    /// The core module's size, when a component was made of it.
    pub core_size: Option<usize>,
    /// `pack` alone: what it read and kept.
    pub pack: Option<pack::PackReport>,
    /// Things worth saying that are not errors.
    pub warnings: Vec<String>,
    /// Whether the output is a threads output (a `wasm32-wasip1-threads`
    /// program: shared memories, `wasi.thread-spawn`).
    pub threads: bool,
}

/// Merges `guest` and its `targets` into one module that imports no WASI.
///
/// Every input is checked before anything is encoded; the output validates,
/// or this is an error.
pub fn merge(guest: Input, targets: &[TargetInput], options: &Options) -> Result<Output> {
    let parsed = Module::parse(guest.name, guest.bytes)?;
    let manifest = read_manifest::run(&parsed)?;
    if options.component {
        transforms::component::check(&parsed, options)?;
    }
    let args: Vec<TargetArg> = targets
        .iter()
        .map(|t| TargetArg {
            name: t.target.map(str::to_string),
            path: PathBuf::from(t.input.name),
        })
        .collect();
    let bindings = bind_targets::run(&manifest, &args)?;
    let targets: Vec<Target> = bindings
        .iter()
        .map(|b| {
            let input = targets[b.arg].input;
            Ok(Target {
                name: b.name.clone(),
                module: Module::parse(input.name, input.bytes)?,
            })
        })
        .collect::<Result<_>>()?;
    let extras = Extras {
        thread_limit: options.threads,
        ..Extras::default()
    };
    let (wasm, timings) = passes::merge(&parsed, &manifest, &targets, extras, options.unwind)?;
    let mut report = Report {
        threads: targets.iter().any(|t| t.module.is_threads()),
        targets: targets
            .iter()
            .map(|t| (t.module.name.clone(), t.name.clone()))
            .collect(),
        encode: timings.encode,
        validate: timings.validate,
        ..Report::default()
    };
    let wasm = transforms::finish(wasm, options, &mut report)?;
    Ok(Output { wasm, report })
}

/// Virtualizes the program `app` with the built-in guest, configured by
/// `config`; `progress` hears how the reading of mounted folders goes.
pub fn pack(app: Input, config: &PackConfig, options: &Options) -> Result<Output> {
    pack_with_progress(app, config, options, &mut ())
}

/// [`pack`], telling `progress` how the reading of mounted folders goes
/// (a bar for a large tree).
pub fn pack_with_progress(
    app: Input,
    config: &PackConfig,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<Output> {
    let (wasm, mut report) = pack::run(app, config, options, progress)?;
    let wasm = transforms::finish(wasm, options, &mut report)?;
    Ok(Output { wasm, report })
}
