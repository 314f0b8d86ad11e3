//! `wasi-virt pack` on real preview1 programs in other languages than
//! CPython's C and ruby.wasm, as shipped in registry packages (see
//! [`wasi_virt_tests::third_party::DOWNLOADS`]): resvg (Rust), svg-flatten
//! (C++) and Flite (C, 21 MB with its voices).
//!
//! Each program is packed with its folders and run in wasmi with nothing
//! linked, and run under the wasmtime CLI with host WASI on copies of the
//! same folders; the two runs must give the same exit code, stdout and
//! stderr, and leave the same files: those of the packed run read back
//! through the host API (`wasi_virt_list_dir`, `wasi_virt_read_file`), those
//! of the reference from the disk. Several runs of one packed module change
//! its arguments through the host API (`wasi_virt_set_args`), each in a
//! fresh instance, as each reference run gets fresh copies of the folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use wasi_virt_abi::names::host_api;
use wasi_virt_tests::third_party::{Download, FLITE, RESVG, SVG_FLATTEN, have_third_party};
use wasi_virt_tests::{
    Outcome, Tool, captured_stdio, have, run_in_node, run_in_wasmtime_host, wasi_virt_bin,
};
use wasmi::{Config, Engine, Instance, Linker, Module, Store};

/// What a folder holds after a run: each path under it (`a/b.txt`), with a
/// file's bytes or `None` for a folder.
type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// How one run ended, and what each of its folders holds afterwards (in the
/// order of [`Program::folders`]).
#[derive(Debug, PartialEq, Eq)]
struct Run {
    outcome: Outcome,
    trees: Vec<Tree>,
}

/// A folder's files, as (relative path, bytes).
type Files = Vec<(&'static str, Vec<u8>)>;

/// A downloaded program and the folders it runs with.
struct Program {
    download: Download,
    /// `(guest path, files)` of each folder.
    folders: Vec<(&'static str, Files)>,
}

/// The folders of a program, laid out on disk (kept until dropped).
struct Folders {
    _root: tempfile::TempDir,
    /// `(host folder, guest path)`.
    dirs: Vec<(PathBuf, &'static str)>,
}

impl Program {
    /// The installed module, or `None` (after [`have_third_party`] said so)
    /// when the test cannot run.
    fn wasm(&self) -> Option<PathBuf> {
        let wasm = self.download.path();
        (have_third_party(self.download.what, Some(&wasm)) && have(Tool::Wasmtime)).then_some(wasm)
    }

    /// A fresh copy of the program's folders.
    fn lay_out(&self) -> Folders {
        let root = tempfile::tempdir().unwrap();
        let mut dirs = Vec::new();
        for (index, (guest, files)) in self.folders.iter().enumerate() {
            let host = root.path().join(index.to_string());
            std::fs::create_dir(&host).unwrap();
            for (path, bytes) in files {
                let file = host.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, bytes).unwrap();
            }
            dirs.push((host, *guest));
        }
        Folders { _root: root, dirs }
    }

    /// The program under the wasmtime CLI with host WASI, on fresh folders.
    fn reference(&self, wasm: &Path, args: &[&str]) -> Run {
        let folders = self.lay_out();
        let dirs: Vec<(&Path, &str)> = folders
            .dirs
            .iter()
            .map(|(host, guest)| (host.as_path(), *guest))
            .collect();
        let outcome = run_in_wasmtime_host(wasm, &dirs, args, &[]).unwrap();
        let trees = folders
            .dirs
            .iter()
            .map(|(host, _)| host_tree(host))
            .collect();
        Run { outcome, trees }
    }

    /// Packs the program with its folders and `args`; returns the output's
    /// bytes, after checking that it imports nothing and that packing left
    /// the folders as they were.
    fn pack(&self, wasm: &Path, args: &[&str]) -> Vec<u8> {
        let folders = self.lay_out();
        let before: Vec<Tree> = folders
            .dirs
            .iter()
            .map(|(host, _)| host_tree(host))
            .collect();
        let out = tempfile::tempdir().unwrap();
        let packed = out.path().join("packed.wasm");
        let mut command = Command::new(wasi_virt_bin());
        command.arg("pack").arg(wasm).arg("-o").arg(&packed);
        for (host, guest) in &folders.dirs {
            command
                .arg("--dir")
                .arg(format!("{guest}={}", host.display()));
        }
        command.arg("--").args(args).env_remove("RUST_BACKTRACE");
        let started = Instant::now();
        let output = command.output().expect("cannot run wasi-virt");
        assert!(
            output.status.success(),
            "pack failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bytes = std::fs::read(&packed).unwrap();
        eprintln!(
            "{}: {} bytes packed into {} bytes in {:.1?}",
            self.download.what,
            std::fs::metadata(wasm).unwrap().len(),
            bytes.len(),
            started.elapsed()
        );
        assert_eq!(imports(&bytes), Vec::<String>::new());
        let after: Vec<Tree> = folders
            .dirs
            .iter()
            .map(|(host, _)| host_tree(host))
            .collect();
        assert_eq!(before, after, "packing changed a folder");
        // Node runs the output too when it is there: the same outcome (the
        // run of the arguments packed in).
        if have(Tool::Node22) {
            let node = run_in_node(&packed).unwrap();
            let wasmi = run_packed(&compile(&bytes), None, &self.guest_paths());
            assert_eq!(node, wasmi.outcome, "Node and wasmi disagree");
        }
        bytes
    }

    fn guest_paths(&self) -> Vec<&'static str> {
        self.folders.iter().map(|(guest, _)| *guest).collect()
    }

    /// Packs the program once, then for each argument list of `runs`
    /// compares a packed run (a fresh instance whose arguments the host API
    /// sets; the first run's are those packed in) with a reference run.
    /// Returns the packed runs.
    fn compare(&self, runs: &[&[&str]]) -> Option<Vec<Run>> {
        let wasm = self.wasm()?;
        let packed = self.pack(&wasm, runs[0]);
        let module = compile(&packed);
        let argv0 = wasm.file_name().unwrap().to_str().unwrap();
        let mut results = Vec::new();
        for (index, args) in runs.iter().enumerate() {
            let reference = self.reference(&wasm, args);
            let argv: Vec<&str> = std::iter::once(argv0).chain(args.iter().copied()).collect();
            let started = Instant::now();
            let run = run_packed(
                &module,
                (index > 0).then_some(&argv[..]),
                &self.guest_paths(),
            );
            eprintln!(
                "{} {args:?}: packed run in wasmi {:.1?}",
                self.download.what,
                started.elapsed()
            );
            assert_eq!(
                run, reference,
                "{} {args:?}: the packed run (left) is not the run under wasmtime (right)",
                self.download.what
            );
            results.push(run);
        }
        Some(results)
    }
}

/// The imports of a module, as `module::name`.
fn imports(wasm: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(section) = payload.unwrap() {
            for import in section.into_imports() {
                let import = import.unwrap();
                out.push(format!("{}::{}", import.module, import.name));
            }
        }
    }
    out
}

/// What the folder `root` holds on disk.
fn host_tree(root: &Path) -> Tree {
    fn walk(dir: &Path, prefix: &str, tree: &mut Tree) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let path = format!("{prefix}{name}");
            if entry.file_type().unwrap().is_dir() {
                tree.insert(path.clone(), None);
                walk(&entry.path(), &format!("{path}/"), tree);
            } else {
                tree.insert(path, Some(std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut tree = Tree::new();
    walk(root, "", &mut tree);
    tree
}

fn compile(wasm: &[u8]) -> Module {
    let mut config = Config::default();
    config.wasm_multi_memory(true);
    Module::new(&Engine::new(&config), wasm).expect("wasmi cannot compile the packed module")
}

/// A packed module's instance in wasmi, driven through the host API.
struct Packed {
    instance: Instance,
    store: Store<()>,
}

impl Packed {
    fn call<P: wasmi::WasmParams>(&mut self, name: &str, params: P) -> i32 {
        self.instance
            .get_typed_func::<P, i32>(&self.store, name)
            .unwrap_or_else(|e| panic!("no host-API export `{name}`: {e}"))
            .call(&mut self.store, params)
            .unwrap_or_else(|e| panic!("`{name}` trapped: {e}"))
    }

    fn memory(&self) -> wasmi::Memory {
        self.instance.get_memory(&self.store, "memory").unwrap()
    }

    /// Copies `bytes` into the guest's memory: (pointer, length).
    fn put(&mut self, bytes: &[u8]) -> (i32, i32) {
        let len = i32::try_from(bytes.len()).unwrap();
        let ptr = self.call(host_api::ALLOC, len);
        self.memory()
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .unwrap();
        (ptr, len)
    }

    /// Calls a host-API function of a path; the result buffer if it
    /// succeeded.
    fn path_call(&mut self, name: &str, path: &str) -> Option<Vec<u8>> {
        let path = self.put(path.as_bytes());
        if self.call(name, path) != 0 {
            return None;
        }
        let ptr = self.call(host_api::RESULT_PTR, ()) as u32 as usize;
        let len = self.call(host_api::RESULT_LEN, ()) as u32 as usize;
        Some(self.memory().data(&self.store)[ptr..ptr + len].to_vec())
    }

    /// What the guest folder `root` holds, read through the host API.
    fn tree(&mut self, root: &str) -> Tree {
        let mut tree = Tree::new();
        let mut pending = vec![String::new()];
        while let Some(rel) = pending.pop() {
            let dir = if rel.is_empty() {
                root.to_string()
            } else {
                format!("{}/{rel}", root.trim_end_matches('/'))
            };
            let names = self
                .path_call(host_api::LIST_DIR, &dir)
                .unwrap_or_else(|| panic!("cannot list {dir} in the packed run"));
            for name in names.split(|&b| b == 0).filter(|name| !name.is_empty()) {
                let name = std::str::from_utf8(name).unwrap();
                let path = if rel.is_empty() {
                    name.to_string()
                } else {
                    format!("{rel}/{name}")
                };
                let full = format!("{}/{path}", root.trim_end_matches('/'));
                if let Some(bytes) = self.path_call(host_api::READ_FILE, &full) {
                    tree.insert(path, Some(bytes));
                } else {
                    tree.insert(path.clone(), None);
                    pending.push(path);
                }
            }
        }
        tree
    }
}

/// Runs `_start` of a fresh instance of the packed `module` in wasmi with
/// nothing linked, with `argv` (argv[0] first) set through the host API
/// when given; then reads the outcome and the folders `roots`.
fn run_packed(module: &Module, argv: Option<&[&str]>, roots: &[&str]) -> Run {
    let mut store = Store::new(module.engine(), ());
    let instance = Linker::<()>::new(module.engine())
        .instantiate_and_start(&mut store, module)
        .expect("the packed module does not instantiate with nothing linked");
    let mut packed = Packed { instance, store };
    if let Some(argv) = argv {
        let mut strings = Vec::new();
        for arg in argv {
            strings.extend_from_slice(arg.as_bytes());
            strings.push(0);
        }
        let strings = packed.put(&strings);
        assert_eq!(packed.call(host_api::SET_ARGS, strings), 0);
    }
    let result = packed
        .instance
        .get_typed_func::<(), ()>(&packed.store, "_start")
        .unwrap()
        .call(&mut packed.store, ());
    let exit_code = packed.call(host_api::EXIT_CODE, ());
    let (exit_code, trap) = match result {
        Ok(()) => (Some(exit_code.max(0)), None),
        Err(_) if exit_code >= 0 => (Some(exit_code), None),
        Err(trap) => (None, Some(trap.to_string())),
    };
    let (stdout, stderr) = captured_stdio(&packed.instance, &mut packed.store).unwrap();
    let trees = roots.iter().map(|root| packed.tree(root)).collect();
    Run {
        outcome: Outcome {
            exit_code,
            trap,
            stdout,
            stderr,
        },
        trees,
    }
}

fn file<'a>(run: &'a Run, folder: usize, path: &str) -> &'a [u8] {
    run.trees[folder]
        .get(path)
        .and_then(Option::as_deref)
        .unwrap_or_else(|| {
            panic!(
                "no file {path} after the run: {:?}",
                run.trees[folder].keys()
            )
        })
}

// ---- resvg (Rust) ---------------------------------------------------------

const SCENE_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="48" viewBox="0 0 64 48">
  <rect id="bg" x="0" y="0" width="64" height="48" fill="#fff"/>
  <circle id="dot" cx="20" cy="24" r="12" fill="#c33"/>
  <path id="tri" d="M40 8 L60 40 L28 40 Z" fill="#36c" opacity="0.7"/>
  <image id="badge" x="44" y="2" width="16" height="16" xlink:href="parts/badge.svg"/>
</svg>
"##;

const BADGE_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">
  <rect width="8" height="8" rx="2" fill="#3a3"/>
</svg>
"##;

#[test]
fn packed_resvg_renders_as_under_wasmtime() {
    let program = Program {
        download: RESVG,
        folders: vec![(
            "/data",
            vec![
                ("scene.svg", SCENE_SVG.into()),
                ("parts/badge.svg", BADGE_SVG.into()),
            ],
        )],
    };
    let Some(runs) = program.compare(&[
        // Renders the scene, whose `<image>` reads a second file by a path
        // relative to `--resources-dir` (resvg's default, the input's
        // folder, needs `canonicalize`, which WASI does not have).
        &[
            "--resources-dir",
            "/data",
            "/data/scene.svg",
            "/data/scene.png",
        ],
        // Prints each element's bounding box (the image's too, once read).
        &["--resources-dir", "/data", "--query-all", "/data/scene.svg"],
        // Zoomed, from a relative path under the preopened folder.
        &["-z", "2", "/data/parts/badge.svg", "/data/parts/badge.png"],
        // A missing input: exit code 1 and a message.
        &["/data/nope.svg", "/data/nope.png"],
    ]) else {
        return;
    };
    let png = file(&runs[0], 0, "scene.png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(runs[0].outcome.exit_code, Some(0));
    assert_eq!(runs[0].outcome.stderr_text(), "", "the image was read");
    assert_eq!(
        runs[1].outcome.stdout_text(),
        "bg,0,0,64,48\ndot,8,12,24,24\ntri,28,8,32,32\nbadge,44,2,16,16\n"
    );
    assert!(file(&runs[2], 0, "parts/badge.png").starts_with(b"\x89PNG"));
    assert_eq!(runs[3].outcome.exit_code, Some(1));
    assert!(!runs[3].trees[0].contains_key("nope.png"));
}

// ---- svg-flatten (C++) ----------------------------------------------------

/// An SVG as usvg leaves it (svg-flatten in WASI cannot run usvg itself, so
/// it is given `--no-usvg` and an input of paths only).
const FLAT_SVG: &str = r##"<svg width="64" height="48" viewBox="0 0 64 48" xmlns="http://www.w3.org/2000/svg">
    <defs/>
    <path id="bg" fill="#ffffff" stroke="none" d="M 0 0 L 64 0 L 64 48 L 0 48 Z"/>
    <path id="dot" fill="#cc3333" stroke="none" d="M 32 24 C 32 30.627417 26.627417 36 20 36 C 13.372583 36 8 30.627417 8 24 C 8 17.372583 13.372583 12 20 12 C 26.627417 12 32 17.372583 32 24 Z"/>
    <g opacity="0.7">
        <path id="tri" fill="#3366cc" stroke="none" d="M 40 8 L 60 40 L 28 40 Z"/>
    </g>
</svg>
"##;

#[test]
fn packed_svg_flatten_converts_as_under_wasmtime() {
    let program = Program {
        download: SVG_FLATTEN,
        folders: vec![
            ("/data", vec![("flat.svg", FLAT_SVG.into())]),
            // It names its temporary files from 8 bytes of /dev/urandom, and
            // writes them to /tmp (then removes them): a fixed "urandom"
            // keeps the runs alike.
            ("/dev", vec![("urandom", vec![0x5a; 64])]),
            ("/tmp", vec![]),
        ],
    };
    let Some(runs) = program.compare(&[
        &[
            "--no-usvg",
            "--format",
            "gerber",
            "/data/flat.svg",
            "/data/flat.gbr",
        ],
        // SVG again, to stdout.
        &[
            "--no-usvg",
            "--format",
            "svg",
            "--precision",
            "2",
            "/data/flat.svg",
            "-",
        ],
        // An output in a folder that does not exist: exit code 1.
        &[
            "--no-usvg",
            "--format",
            "svg",
            "/data/flat.svg",
            "/data/missing/flat.svg",
        ],
    ]) else {
        return;
    };
    let gerber = String::from_utf8(file(&runs[0], 0, "flat.gbr").to_vec()).unwrap();
    assert!(gerber.starts_with("%FSLAX46Y46*%\n%MOMM*%\n"), "{gerber}");
    assert!(gerber.trim_end().ends_with("M02*"), "{gerber}");
    assert!(gerber.matches("G36*").count() >= 3, "{gerber}");
    assert!(
        runs[0]
            .outcome
            .stderr_text()
            .contains("Resulting page width"),
        "{:?}",
        runs[0].outcome
    );
    // Its temporary files are gone.
    assert!(runs.iter().all(|run| run.trees[2].is_empty()));
    assert!(
        runs[1]
            .outcome
            .stdout_text()
            .starts_with("<svg width=\"16.9333mm\" height=\"12.7mm\""),
        "{:?}",
        runs[1].outcome
    );
    assert_eq!(runs[2].outcome.exit_code, Some(1));
    assert!(
        runs[2]
            .outcome
            .stderr_text()
            .contains("Cannot open output file"),
        "{:?}",
        runs[2].outcome
    );
}

// ---- Flite (C) ------------------------------------------------------------

#[test]
fn packed_flite_speaks_as_under_wasmtime() {
    let program = Program {
        download: FLITE,
        folders: vec![(
            "/data",
            vec![("in.txt", b"Hello from a packed program.\n".to_vec())],
        )],
    };
    let Some(runs) = program.compare(&[
        // Reads the text, prints its phones, writes a WAV file.
        &["-f", "/data/in.txt", "-o", "/data/out.wav", "-ps"],
        // A missing text file: a message (and exit code 0).
        &["-f", "/data/nope.txt", "-o", "/data/nope.wav"],
    ]) else {
        return;
    };
    let wav = file(&runs[0], 0, "out.wav");
    assert!(
        wav.starts_with(b"RIFF") && &wav[8..12] == b"WAVE",
        "not a WAV"
    );
    assert!(wav.len() > 10_000);
    assert!(
        runs[0]
            .outcome
            .stdout_text()
            .starts_with("pau hh ax l ow f r aa m"),
        "{:?}",
        runs[0].outcome
    );
    assert!(
        runs[1]
            .outcome
            .stderr_text()
            .contains("failed to open file \"/data/nope.txt\""),
        "{:?}",
        runs[1].outcome
    );
}
