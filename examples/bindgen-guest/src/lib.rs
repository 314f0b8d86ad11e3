//! `bindgen-guest`: a guest whose JavaScript API is made by wasm-bindgen.
//!
//! It hosts one program, `app` (the example is `demo-app`), with the
//! folder `examples/site` baked in as `/` (writable: writes land in
//! memory), and exports to JavaScript, through `#[wasm_bindgen]`:
//! `run(args, env)` (one run of the program, from its initial state),
//! `write_file`, `read_file`, `mkdir` and `list_dir` over its filesystem. Files stay
//! between runs: what one run wrote, the next one (and the page) reads.
//!
//! ```text
//! cargo build --release --target wasm32-unknown-unknown --manifest-path examples/bindgen-guest/Cargo.toml
//! wasi-virt merge bindgen_guest.wasm demo-app.wasm -o demo.wasm --single-memory=guest-first
//! wasm-bindgen --target web --out-dir pkg --out-name demo demo.wasm
//! ```
//!
//! wasm-bindgen takes a module with one memory, in which the guest's
//! addresses are its own: hence `--single-memory=guest-first`.

use core::sync::atomic::{AtomicBool, Ordering};

use wasi_virt::Errno;
use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;
use wasi_virt::stdio::{STDERR, STDOUT};
use wasm_bindgen::prelude::*;

import_wasm!(app);
wrap_unreachable!(app);

static SITE: EmbeddedNode = embed_dir!("../site");
static PREOPENS: [Preopen; 1] = [Preopen::new("/", &SITE)];
static FS: Vfs = Vfs::new(&PREOPENS, &StdioConfig::CAPTURE).with_clock(&CLOCK);
static ARGS: StringList = StringList::new(&["demo-app"]);
static ENV: StringList = StringList::new(&[]);
static CLOCK: VirtualClock = VirtualClock::deterministic();
static RANDOM: SeededRandom = SeededRandom::new(42);
static POLL: VirtualPoll<VirtualClock> = VirtualPoll::new(&CLOCK);

plug_fs!(FS, app, self);
plug_args!(ARGS, app, self);
plug_env!(ENV, app, self);
plug_clock!(CLOCK, app, self);
plug_random!(RANDOM, app, self);
plug_poll!(POLL, app, self);
plug_process!(Exit, app, self);
plug_sched!(Yield, app, self);

/// Whether the program has run in this instance (and needs a reset first).
static RAN: AtomicBool = AtomicBool::new(false);

/// How one run ended: the exit code (0 when `main` returned, 134 for a
/// trap) and what the program wrote to stdout and stderr.
#[wasm_bindgen]
pub struct Outcome {
    exit_code: u32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

#[wasm_bindgen]
impl Outcome {
    /// The exit code.
    #[wasm_bindgen(getter, js_name = exitCode)]
    pub fn exit_code(&self) -> u32 {
        self.exit_code
    }

    /// Stdout, as bytes.
    #[wasm_bindgen(getter)]
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.clone()
    }

    /// Stderr, as bytes.
    #[wasm_bindgen(getter)]
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.clone()
    }
}

/// Runs the program once with `args` (argv[0] included) and `env`
/// (`KEY=VALUE` strings), from its initial state; the files stay.
#[wasm_bindgen]
pub fn run(args: Vec<String>, env: Vec<String>) -> Outcome {
    if RAN.swap(true, Ordering::Relaxed) {
        app::reset();
        FS.reset_fds(&app::CALLER);
    }
    ARGS.set(args.iter().map(String::as_bytes));
    ENV.set(env.iter().map(String::as_bytes));
    STDOUT.clear();
    STDERR.clear();
    let exit_code = app::run();
    Outcome {
        exit_code,
        stdout: STDOUT.to_vec(),
        stderr: STDERR.to_vec(),
    }
}

/// Writes a file at a guest path (`/data/in.txt`), creating its folders.
#[wasm_bindgen]
pub fn write_file(path: &str, bytes: &[u8]) -> Result<(), String> {
    if let Some((parent, _)) = path.trim_end_matches('/').rsplit_once('/')
        && !parent.is_empty()
    {
        FS.create_dir_all(parent).map_err(errno)?;
    }
    FS.write_file(path, bytes).map_err(errno)
}

/// Reads the file at a guest path (the program's writes included).
#[wasm_bindgen]
pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    FS.read_file(path).map_err(errno)
}

/// Creates a folder at a guest path, and its missing parents.
#[wasm_bindgen]
pub fn mkdir(path: &str) -> Result<(), String> {
    FS.create_dir_all(path).map_err(errno)
}

/// The names in the folder at a guest path, sorted.
#[wasm_bindgen]
pub fn list_dir(path: &str) -> Result<Vec<String>, String> {
    FS.list_dir(path).map_err(errno)
}

/// An errno as JavaScript sees it: its POSIX name (`ENOENT`), thrown.
fn errno(e: Errno) -> String {
    match e {
        Errno::Toobig => "E2BIG".into(),
        e => format!("E{}", e.name().to_ascii_uppercase()),
    }
}
