//! The configuration `pack` chose, read on first use.
//!
//! The config image is copied from its data segment into the guest's
//! memory once (one `memory.init` of a few bytes per file: names and
//! offsets, never contents) and kept for the life of the instance, so
//! that names and symlink targets borrow from it. Directories are decoded
//! later, one at a time ([`crate::tree`]).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::OnceCell;

use wasi_virt::abi::pack::{ClockMode, ExitMode, Image, RandomMode, StreamMode};
use wasi_virt::fs::{EmbeddedNode, LazyDir, Preopen, Vfs};
use wasi_virt::stdio::{StdioConfig, Stream};
use wasi_virt::{OneThread, SeededRandom, StringList};

use crate::subsystems::{CLOCK, STDIO};
use crate::tree::DIRS;

/// The pack-time choices, decoded.
pub struct State {
    /// The image itself, for [`crate::tree`].
    pub image: Image<'static>,
    /// The filesystem over the mounted folders.
    pub fs: Vfs,
    /// What fds 0–2 do.
    pub stdio: StdioConfig,
    /// Which clock.
    pub clock: ClockMode,
    /// The generator, when randomness is seeded.
    pub seeded: Option<SeededRandom>,
    /// What `proc_exit` does.
    pub exit: ExitMode,
}

static STATE: OneThread<OnceCell<State>> = OneThread::new(OnceCell::new());
static ARGS: StringList = StringList::new(&[]);
static ENV: StringList = StringList::new(&[]);

/// The state, read from the config image on the first call.
pub fn state() -> &'static State {
    STATE.get_or_init(read)
}

/// The filesystem.
pub fn fs() -> &'static Vfs {
    &state().fs
}

/// The arguments (the pack-time ones until the host replaces them).
pub fn args() -> &'static StringList {
    state();
    &ARGS
}

/// The environment (the pack-time one until the host replaces it).
pub fn env() -> &'static StringList {
    state();
    &ENV
}

#[link(wasm_import_module = "wasi-virt:pack")]
unsafe extern "C" {
    #[link_name = "config_len"]
    fn config_len() -> u32;
    #[link_name = "config_read"]
    fn config_read(dst: *mut u8);
}

// The names above are `wasi_virt::abi::pack`'s; a link name must be a
// literal, so they are checked against it here.
const _: () = {
    use wasi_virt::abi::pack;
    assert!(matches!(pack::MODULE.as_bytes(), b"wasi-virt:pack"));
    assert!(matches!(pack::CONFIG_LEN.as_bytes(), b"config_len"));
    assert!(matches!(pack::CONFIG_READ.as_bytes(), b"config_read"));
};

fn read() -> State {
    // SAFETY: `pack` implements these as `i32.const` and one `memory.init`
    // of exactly `config_len()` bytes into the guest's memory.
    let bytes: &'static [u8] = unsafe {
        let mut bytes = vec![0u8; config_len() as usize];
        config_read(bytes.as_mut_ptr());
        bytes.leak()
    };
    let image = Image::parse(bytes).unwrap_or_else(|e| fail(e));
    ARGS.set(image.args().unwrap_or_else(|e| fail(e)));
    ENV.set(image.env().unwrap_or_else(|e| fail(e)));
    let preopens: Vec<Preopen> = image
        .preopens()
        .unwrap_or_else(|e| fail(e))
        .into_iter()
        .map(|p| {
            let root: &'static EmbeddedNode = Box::leak(Box::new(EmbeddedNode::Lazy(LazyDir {
                source: &DIRS,
                id: p.root,
            })));
            let preopen = Preopen::new(p.path, root);
            if p.read_only {
                preopen.read_only()
            } else {
                preopen
            }
        })
        .collect();
    let stream = |fd| match image.stream(fd) {
        StreamMode::Capture => Stream::Capture,
        StreamMode::Inherit => Stream::INHERIT,
        StreamMode::Ignore => Stream::Ignore,
        StreamMode::Deny => Stream::Deny,
    };
    State {
        image,
        fs: Vfs::new(preopens.leak(), &STDIO).with_clock(&CLOCK),
        stdio: StdioConfig {
            stdin: stream(0),
            stdout: stream(1),
            stderr: stream(2),
            terminal: image.terminal(),
        },
        clock: image.clock(),
        seeded: match image.random() {
            RandomMode::Seeded(seed) => Some(SeededRandom::new(seed)),
            RandomMode::Host => None,
        },
        exit: image.exit(),
    }
}

/// A config image `pack` wrote and this guest cannot read: a version
/// mismatch between the CLI and its own guest, which is a bug.
fn fail(e: impl core::fmt::Display) -> ! {
    panic!("wasi-virt pack guest: {e}")
}
