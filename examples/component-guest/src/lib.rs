//! `component-guest`: a guest that exports a WIT world (`wit/runner.wit`),
//! so that `wasi-virt merge --component` can make a component of it and
//! its program, which `jco transpile` turns into JavaScript.
//!
//! It hosts one program, `app` (the example is `demo-app`), with the
//! folder `examples/site` baked in as `/` (writable: writes land in
//! memory). `run` gives the program its args, env and stdin, runs it from
//! its initial state (`wrap_unreachable!` + `app::reset()`) and returns
//! its exit code and captured output; `write-file` and `read-file` reach
//! its filesystem between runs. All three are in the exported interface
//! `wasi-virt:demo/program` (in JavaScript: `program.run(…)`).
//!
//! ```text
//! cargo build --release --target wasm32-wasip1 -p component-guest -p demo-app
//! wasi-virt merge component_guest.wasm demo-app.wasm -o demo.wasm --component
//! jco transpile demo.wasm -o demo/
//! ```

use core::sync::atomic::{AtomicBool, Ordering};

use wasi_virt::fs::{EmbeddedNode, Preopen, Vfs};
use wasi_virt::prelude::*;
use wasi_virt::stdio::{STDERR, STDIN, STDOUT};
use wasi_virt::types::Errno;

wit_bindgen::generate!({ path: "wit", world: "runner" });

use exports::wasi_virt::demo::program::{Guest, Outcome};

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

struct Runner;

impl Guest for Runner {
    fn run(args: Vec<String>, env: Vec<String>, stdin: Vec<u8>) -> Outcome {
        if RAN.swap(true, Ordering::Relaxed) {
            app::reset();
            FS.reset_fds(&app::CALLER);
        }
        ARGS.set(&args);
        ENV.set(&env);
        STDIN.set(&stdin);
        STDOUT.clear();
        STDERR.clear();
        let exit_code = app::run();
        Outcome {
            exit_code,
            stdout: STDOUT.to_vec(),
            stderr: STDERR.to_vec(),
        }
    }

    fn write_file(path: String, contents: Vec<u8>) -> Result<(), String> {
        if let Some((parent, _)) = path.trim_end_matches('/').rsplit_once('/')
            && !parent.is_empty()
        {
            FS.create_dir_all(parent).map_err(name)?;
        }
        FS.write_file(&path, &contents).map_err(name)
    }

    fn read_file(path: String) -> Result<Vec<u8>, String> {
        FS.read_file(&path).map_err(name)
    }
}

/// An errno as its C name (`ENOENT`), for the WIT functions' errors.
fn name(errno: Errno) -> String {
    format!("E{}", errno.name().to_ascii_uppercase())
}

export!(Runner);
