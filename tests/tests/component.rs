//! `merge --component`: `demo-app` under `examples/component-guest` (a
//! guest that exports a WIT world) as a component with no imports, turned
//! into JavaScript by `jco transpile` (npm `@bytecodealliance/jco`, from
//! `tests/node`) and run in Node through the functions of the interface
//! the world exports. What the
//! program prints, its exit code and the files it leaves must be what
//! `demo-app` gives under wasmtime with real host WASI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::{Value, json};
use wasi_virt_tests::tools::{self, node_project_dir};
use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_wasmtime_host, wasi_virt_bin, wasm_example,
};

/// The files written through `write-file` before the runs: in the guest's
/// filesystem, and in the folder the reference run gets.
const WRITE: &[(&str, &str)] = &[
    ("/hello.txt", "written by the host\n"),
    ("/in/data.txt", "x"),
];

/// A run: the arguments after argv[0], and the environment.
type Run = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// The runs, one after the other in one instance.
const RUNS: &[Run] = &[
    (&["first", "4"], &[("GREETING", "hi")]),
    (&["second", "wörld"], &[("EXIT_CODE", "9")]),
];

/// The files read back through `read-file` after the runs.
const READ: &[&str] = &[
    "/out/notes.txt",
    "/hello.txt",
    "/in/data.txt",
    "/missing.txt",
];

/// A folder holding the merged components: `demo.wasm` (multi-memory) and
/// `demo-guest-first.wasm` (`--single-memory=guest-first`).
fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let guest = wasm_example("component-guest", "wasm32-wasip1");
        let app = wasm_example("demo-app", "wasm32-wasip1");
        for (name, extra) in [
            ("demo", None),
            ("demo-guest-first", Some("--single-memory=guest-first")),
        ] {
            let output = Command::new(wasi_virt_bin())
                .arg("merge")
                .arg(&guest)
                .arg(&app)
                .arg("-o")
                .arg(dir.path().join(format!("{name}.wasm")))
                .arg("--component")
                .args(extra)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "wasi-virt merge --component for {name} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        dir
    })
    .path()
}

/// jco's command line in `tests/node`, if installed; on CI its absence
/// fails the test, as [`have`] does for other tools.
fn jco() -> Option<PathBuf> {
    let jco = node_project_dir().join("node_modules/@bytecodealliance/jco/dist/jco.js");
    if jco.is_file() {
        return Some(jco);
    }
    assert!(
        !tools::is_ci(),
        "{} not found: run `cargo xtask setup`",
        jco.display()
    );
    eprintln!("note: skipping a test: no jco at {}", jco.display());
    None
}

/// `jco transpile NAME.wasm` into `NAME/` (once per component); the ES
/// module's path. The multi-memory output needs `--multi-memory`: without
/// it, jco refuses a core module with more than one memory.
fn transpile(node: &Path, jco: &Path, name: &str, multi_memory: bool) -> PathBuf {
    // Two tests transpile the same component: one at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let out = dir().join(name);
    let module = out.join(format!("{name}.js"));
    if module.is_file() {
        return module;
    }
    let output = Command::new(node)
        .arg(jco)
        .arg("transpile")
        .arg(dir().join(format!("{name}.wasm")))
        .arg("-o")
        .arg(&out)
        .arg("--quiet")
        .args(multi_memory.then_some("--multi-memory"))
        .output()
        .unwrap();
    assert!(
        output.status.success() && module.is_file(),
        "jco transpile {name}.wasm failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    module
}

/// What `tests/node/run-component.mjs` gives for the plan of [`WRITE`],
/// [`RUNS`] and [`READ`], with `node`.
fn run_component(node: &Path, module: &Path) -> Value {
    let runs: Vec<Value> = RUNS
        .iter()
        .map(|(args, env)| {
            let argv: Vec<&str> = std::iter::once("demo-app")
                .chain(args.iter().copied())
                .collect();
            let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            json!({ "args": argv, "env": env, "stdin": "not read" })
        })
        .collect();
    let plan = json!({ "write": WRITE, "runs": runs, "read": READ });
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(plan_file.path(), plan.to_string()).unwrap();
    let output = Command::new(node)
        .arg(node_project_dir().join("run-component.mjs"))
        .arg(module)
        .arg(plan_file.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "run-component.mjs printed no JSON ({e}; {}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::from_value(value.clone()).unwrap()
}

#[test]
fn the_component_imports_nothing_and_exports_the_guests_interface() {
    let wasm = std::fs::read(dir().join("demo.wasm")).unwrap();
    assert!(wasmparser::Parser::is_component(&wasm));
    wasmparser::Validator::new().validate_all(&wasm).unwrap();
    let (mut imports, mut exports) = (0, Vec::new());
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        match payload.unwrap() {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            // A nested component (the one that bundles the interface's
            // functions into the exported instance) imports what its parent
            // instantiates it with; only the outer component's imports are
            // the host's to give.
            wasmparser::Payload::ComponentImportSection(section) if depth == 0 => {
                imports += section.count()
            }
            wasmparser::Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    exports.push(export.unwrap().name.name.to_owned());
                }
            }
            wasmparser::Payload::ImportSection(section) => {
                // The core modules inside take their imports from each
                // other (the canonical ABI's lowered functions), not from
                // the host: the component has no imports to give them.
                assert!(depth > 0, "{section:?}");
            }
            _ => {}
        }
    }
    assert_eq!(imports, 0, "the component imports something");
    exports.sort();
    assert_eq!(exports, ["wasi-virt:demo/program"]);
}

#[test]
fn jco_runs_the_component_as_host_wasi_runs_the_program() {
    let Some(jco) = jco() else { return };
    if !have(Tool::Node22) || !have(Tool::Wasmtime) {
        return;
    }
    let node = Tool::Node22.locate().unwrap();
    let module = transpile(&node, &jco, "demo", true);
    let result = run_component(&node, &module);

    // The reference: the same files in a copy of the site, the same runs
    // one after the other on it, under wasmtime.
    let site = tempfile::tempdir().unwrap();
    copy_dir_all(&repo_root().join("examples/site"), site.path()).unwrap();
    for (path, text) in WRITE {
        let file = site.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let app = wasm_example("demo-app", "wasm32-wasip1");
    for (i, (args, env)) in RUNS.iter().enumerate() {
        let reference = run_in_wasmtime_host(&app, &[(site.path(), "/")], args, env).unwrap();
        let run = &result["runs"][i];
        let in_node = Outcome {
            exit_code: Some(run["exitCode"].as_i64().unwrap() as i32),
            trap: None,
            stdout: bytes(&run["stdout"]),
            stderr: bytes(&run["stderr"]),
        };
        assert_eq!(in_node, reference, "run {i}");
    }
    assert_eq!(result["writes"], json!([{"ok": []}, {"ok": []}]));
    for (i, path) in READ.iter().enumerate() {
        let on_host = std::fs::read(site.path().join(path.trim_start_matches('/')));
        let read = &result["reads"][i];
        match on_host {
            Ok(contents) => assert_eq!(bytes(&read["ok"]), contents, "{path}: {read}"),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{path}");
                assert_eq!(read["err"], "ENOENT", "{path}");
            }
        }
    }
}

#[test]
fn the_guest_first_single_memory_component_runs_in_node_20_as_in_node_22() {
    let Some(jco) = jco() else { return };
    if !have(Tool::Node22) {
        return;
    }
    let node = Tool::Node22.locate().unwrap();
    let multi = run_component(&node, &transpile(&node, &jco, "demo", true));
    // One memory: jco's default output, for engines without multi-memory.
    let single = transpile(&node, &jco, "demo-guest-first", false);
    assert_eq!(run_component(&node, &single), multi);
    if have(Tool::Node20) {
        assert_eq!(run_component(&tools::node20().unwrap(), &single), multi);
    }
}
