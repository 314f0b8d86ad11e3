//! Merged programs where the web runs them: the `--js` wrapper in Node,
//! the single-memory output in Node 20 (no multi-memory) and Node ≥ 22, and
//! the example page (`examples/browser`) in headless Chromium, for the
//! multi-memory and the single-memory output; a wasm-bindgen guest's
//! output, after `wasm-bindgen --target web`, in Chromium and Node.
//!
//! The program is `demo-app` under `web-guest`, merged once per test binary
//! into a folder that also holds the page, as a person would serve it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use wasi_virt_tests::tools::{self, node_project_dir};
use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_node, run_in_wasmi, run_in_wasmtime_host,
    wasi_virt_bin, wasm_example, wasm_example_workspace,
};

/// The served folder: the page's files, `demo.wasm` + `demo.js` (multi-
/// memory) and `demo-single.wasm` + `demo-single.js`.
fn site() -> &'static Path {
    static SITE: OnceLock<tempfile::TempDir> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        copy_dir_all(&repo_root().join("examples/browser"), dir.path()).unwrap();
        let guest = wasm_example("web-guest", "wasm32-wasip1");
        let app = wasm_example("demo-app", "wasm32-wasip1");
        for (name, extra) in [("demo", None), ("demo-single", Some("--single-memory"))] {
            let status = Command::new(wasi_virt_bin())
                .arg("merge")
                .arg(&guest)
                .arg(&app)
                .arg("-o")
                .arg(dir.path().join(format!("{name}.wasm")))
                .arg("--js")
                .arg(dir.path().join(format!("{name}.js")))
                .args(extra)
                .status()
                .unwrap();
            assert!(status.success(), "wasi-virt merge for {name} failed");
        }
        dir
    })
    .path()
}

/// `node SCRIPT ARGS…` in `tests/node`'s folder; stdout parsed as JSON.
fn node_json(node: &Path, script: &str, args: &[&std::ffi::OsStr]) -> Value {
    let output = Command::new(node)
        .arg(node_project_dir().join(script))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}; {}):\n{stdout}\n{stderr}",
            output.status
        )
    })
}

/// Runs a plan (see `tests/node/run-js.mjs`) through a wrapper.
fn run_js(node: &Path, wrapper: &str, plan: &Value) -> Value {
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(plan_file.path(), plan.to_string()).unwrap();
    node_json(
        node,
        "run-js.mjs",
        &[
            site().join(wrapper).as_os_str(),
            plan_file.path().as_os_str(),
        ],
    )
}

/// Two runs with other args, env and stdin, files in between.
fn plan() -> Value {
    json!({
        "mkdir": ["/made/deeper"],
        "files": {"/hello.txt": "written by the host\n", "/in/data.txt": "x"},
        "runs": [
            {"args": ["demo-app", "first", "4"], "env": {"GREETING": "hi"}},
            {"args": ["demo-app", "second"], "env": ["EXIT_CODE=9"], "stdin": "ignored"},
        ],
        "read": ["/out/notes.txt", "/hello.txt", "/missing.txt"],
        "readdir": ["/", "/made", "/hello.txt"],
    })
}

#[test]
fn the_js_wrapper_runs_the_program_again_and_reads_its_files() {
    if !have(Tool::Node22) {
        return;
    }
    let node = Tool::Node22.locate().unwrap();
    let result = run_js(&node, "demo.js", &plan());
    let runs = result["runs"].as_array().unwrap();
    assert_eq!(runs[0]["exitCode"], 4, "{result}");
    assert_eq!(runs[1]["exitCode"], 9, "{result}");
    let first = runs[0]["stdout"].as_str().unwrap();
    assert!(
        first.starts_with("== args\nfirst\n4\n== env\nGREETING=hi\n== tree /\n"),
        "{first}"
    );
    assert!(
        first.contains("/in/data.txt\n/made/\n/made/deeper/\n"),
        "{first}"
    );
    assert!(
        first.contains("== read /hello.txt\nwritten by the host\n"),
        "{first}"
    );
    // The second run starts afresh (args, env) and sees the first run's file.
    let second = runs[1]["stdout"].as_str().unwrap();
    assert!(
        second.starts_with("== args\nsecond\n== env\nEXIT_CODE=9\n"),
        "{second}"
    );
    assert!(second.contains("/out/notes.txt\n"), "{second}");
    assert_eq!(runs[1]["stderr"], "demo-app: exiting with code 9\n");
    assert_eq!(
        result["files"],
        json!({
            "/out/notes.txt": "first line\nsecond line, appended\n",
            "/hello.txt": "written by the host\n",
            "/missing.txt": "error: ENOENT",
        })
    );
    assert_eq!(result["dirs"]["/made"], json!(["deeper"]));
    assert_eq!(
        result["dirs"]["/"],
        json!(["docs", "hello.txt", "in", "made", "out"])
    );
    assert_eq!(result["dirs"]["/hello.txt"], "error: ENOTDIR");
}

/// Deno from `tests/node` (npm `@deno/linux-x64-glibc`), if installed; on
/// CI its absence fails the test, as [`have`] does for other tools.
fn deno() -> Option<PathBuf> {
    let deno = node_project_dir().join("node_modules/@deno/linux-x64-glibc/deno");
    if deno.is_file() {
        return Some(deno);
    }
    assert!(
        !tools::is_ci(),
        "{} not found: run `cargo xtask setup`",
        deno.display()
    );
    eprintln!("note: skipping a test: no Deno at {}", deno.display());
    None
}

#[test]
fn the_js_wrapper_runs_in_deno_as_in_node() {
    let Some(deno) = deno() else { return };
    if !have(Tool::Node22) {
        return;
    }
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(plan_file.path(), plan().to_string()).unwrap();
    // The same script: Deno runs Node's `node:` modules and `process`.
    let output = Command::new(deno)
        .args([
            "run",
            "--quiet",
            "--no-config",
            "--allow-read",
            "--allow-env",
        ])
        .arg(node_project_dir().join("run-js.mjs"))
        .arg(site().join("demo-single.js"))
        .arg(plan_file.path())
        .env("DENO_NO_UPDATE_CHECK", "1")
        .env("DENO_DIR", site().join(".deno"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let in_deno: Value = serde_json::from_str(stdout.trim()).unwrap();
    let in_node = run_js(&Tool::Node22.locate().unwrap(), "demo-single.js", &plan());
    assert_eq!(in_deno, in_node);
}

#[test]
fn the_single_memory_output_runs_the_same_in_node_20_and_node_22() {
    if !have(Tool::Node22) || !have(Tool::Node20) {
        return;
    }
    let (node22, node20) = (
        Tool::Node22.locate().unwrap(),
        Tool::Node20.locate().unwrap(),
    );
    let multi = run_js(&node22, "demo.js", &plan());
    assert_eq!(run_js(&node22, "demo-single.js", &plan()), multi);
    assert_eq!(run_js(&node20, "demo-single.js", &plan()), multi);
}

#[test]
fn node_20_cannot_run_the_multi_memory_output() {
    // What --single-memory is for; if a Node 20 ever runs it, this test
    // should say so.
    if !have(Tool::Node20) {
        return;
    }
    let node20 = Tool::Node20.locate().unwrap();
    let output = Command::new(node20)
        .arg(node_project_dir().join("run.mjs"))
        .arg(site().join("demo.wasm"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("memory count"), "{stderr}");
}

/// The merged `vfs-demo` + `demo-app`, the README's demo, plain and
/// single-memory.
fn vfs_demo(single_memory: bool) -> PathBuf {
    let dir = site();
    let out = dir.join(if single_memory {
        "vfs-single.wasm"
    } else {
        "vfs.wasm"
    });
    let status = Command::new(wasi_virt_bin())
        .arg("merge")
        .arg(wasm_example("vfs-demo", "wasm32-wasip1"))
        .arg(wasm_example("demo-app", "wasm32-wasip1"))
        .arg("-o")
        .arg(&out)
        .args(single_memory.then_some("--single-memory"))
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn the_single_memory_demo_gives_the_same_outcome_in_wasmi_and_node() {
    let (multi, single) = (vfs_demo(false), vfs_demo(true));
    let read = |p: &Path| std::fs::read(p).unwrap();
    let reference: Outcome = run_in_wasmi(&read(&multi), "_start").unwrap();
    assert_eq!(reference.exit_code, Some(3));
    assert_eq!(run_in_wasmi(&read(&single), "_start").unwrap(), reference);
    if have(Tool::Node22) {
        assert_eq!(run_in_node(&single).unwrap(), reference);
    }
    if have(Tool::Node20) {
        let output = Command::new(tools::node20().unwrap())
            .arg(node_project_dir().join("run.mjs"))
            .arg(&single)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), reference.exit_code);
        assert_eq!(output.stdout, reference.stdout);
        assert_eq!(output.stderr, reference.stderr);
    }
}

#[test]
fn the_optimized_demo_gives_the_same_outcome() {
    // -Oz after --single-memory: binaryen keeps the host API and the base
    // export, and the program prints the same.
    let reference = run_in_wasmi(&std::fs::read(vfs_demo(false)).unwrap(), "_start").unwrap();
    let out = site().join("vfs-oz.wasm");
    let output = Command::new(wasi_virt_bin())
        .arg("merge")
        .arg(wasm_example("vfs-demo", "wasm32-wasip1"))
        .arg(wasm_example("demo-app", "wasm32-wasip1"))
        .arg("-o")
        .arg(&out)
        .args(["--single-memory", "-Oz"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("built without binaryen") {
        eprintln!("note: skipping: the CLI was built without the `wasm-opt` feature");
        return;
    }
    assert!(output.status.success(), "{stderr}");
    let optimized = std::fs::read(&out).unwrap();
    assert!(optimized.len() < std::fs::metadata(vfs_demo(true)).unwrap().len() as usize);
    assert_eq!(run_in_wasmi(&optimized, "_start").unwrap(), reference);
    if have(Tool::Node20) {
        let output = Command::new(tools::node20().unwrap())
            .arg(node_project_dir().join("run.mjs"))
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.stdout, reference.stdout);
        assert_eq!(output.status.code(), reference.exit_code);
    }
}

/// Loads the page in Chromium, types, clicks Run; what the page shows.
fn in_chromium(page: &str, args: &str, file: &str) -> Value {
    let node = Tool::Node22.locate().unwrap();
    node_json(
        &node,
        "browser.mjs",
        &[
            site().as_os_str(),
            page.as_ref(),
            args.as_ref(),
            "/hello.txt".as_ref(),
            file.as_ref(),
        ],
    )
}

fn check_page(shown: &Value, memory_mode: &str) {
    assert_eq!(shown["status"], "done", "{shown}");
    assert_eq!(shown["errors"], json!([]), "{shown}");
    assert_eq!(shown["imports"], "none");
    assert!(
        shown["memoryMode"]
            .as_str()
            .unwrap()
            .starts_with(memory_mode),
        "{shown}"
    );
    assert_eq!(shown["exitCode"], 5);
    let stdout = shown["stdout"].as_str().unwrap();
    assert!(
        stdout.starts_with("== args\nhello\nfrom chromium\n5\n== env\n== tree /\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== read /hello.txt\nTyped into Chromium.\n== write"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== write /out/notes.txt\nfirst line\nsecond line, appended\n"),
        "{stdout}"
    );
    assert_eq!(shown["stderr"], "demo-app: exiting with code 5\n");
}

#[test]
fn the_page_runs_the_multi_memory_output_in_chromium() {
    if !have(Tool::Node22) || !have(Tool::Chromium) {
        return;
    }
    let shown = in_chromium(
        "index.html",
        "hello 'from chromium' 5",
        "Typed into Chromium.\n",
    );
    check_page(&shown, "multi-memory");
    assert_eq!(shown["module"], "demo.wasm");
}

#[test]
fn the_page_runs_the_single_memory_output_in_chromium() {
    if !have(Tool::Node22) || !have(Tool::Chromium) {
        return;
    }
    let shown = in_chromium(
        "index.html?wasm=demo-single.wasm",
        "hello 'from chromium' 5",
        "Typed into Chromium.\n",
    );
    check_page(&shown, "single memory (guest at ");
    assert_eq!(shown["module"], "demo-single.wasm");
}

/// `bindgen-guest` (a wasm-bindgen guest, `wasm32-unknown-unknown`) and
/// `demo-app`, merged with `--single-memory=guest-first`, then through
/// `wasm-bindgen --target web` into `<site>/pkg` (`demo.js`,
/// `demo_bg.wasm`), where `bindgen.html` loads it.
fn bindgen_pkg() -> &'static Path {
    static PKG: OnceLock<PathBuf> = OnceLock::new();
    PKG.get_or_init(|| {
        let manifest =
            std::fs::read_to_string(repo_root().join("examples/bindgen-guest/Cargo.toml")).unwrap();
        let pin = format!("wasm-bindgen = \"={}\"", tools::WASM_BINDGEN_VERSION);
        assert!(
            manifest.contains(&pin),
            "examples/bindgen-guest must pin the wasm-bindgen the CLI is ({pin})"
        );
        let guest = wasm_example_workspace("bindgen-guest", "wasm32-unknown-unknown");
        let app = wasm_example("demo-app", "wasm32-wasip1");
        let merged = site().join("bindgen-merged.wasm");
        let output = Command::new(wasi_virt_bin())
            .arg("merge")
            .arg(&guest)
            .arg(&app)
            .arg("-o")
            .arg(&merged)
            .arg("--single-memory=guest-first")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "wasi-virt merge: {stderr}");
        let pkg = site().join("pkg");
        let output = Command::new(Tool::WasmBindgen.locate().unwrap())
            .args(["--target", "web", "--out-name", "demo", "--out-dir"])
            .arg(&pkg)
            .arg(&merged)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "wasm-bindgen: {stderr}");
        eprintln!(
            "bindgen-guest + demo-app: merged {} bytes, after wasm-bindgen {} bytes (+ {} bytes of JS)",
            std::fs::metadata(&merged).unwrap().len(),
            std::fs::metadata(pkg.join("demo_bg.wasm")).unwrap().len(),
            std::fs::metadata(pkg.join("demo.js")).unwrap().len(),
        );
        pkg
    })
}

#[test]
fn the_wasm_bindgen_guest_runs_in_chromium_as_under_host_wasi() {
    if !have(Tool::Node22)
        || !have(Tool::Chromium)
        || !have(Tool::WasmBindgen)
        || !have(Tool::Wasmtime)
    {
        return;
    }
    bindgen_pkg();
    let (args, file) = ("hello 'from chromium' 5", "Typed into Chromium.\n");
    let shown = in_chromium("bindgen.html", args, file);
    assert_eq!(shown["status"], "done", "{shown}");
    assert_eq!(shown["errors"], json!([]), "{shown}");
    assert_eq!(shown["module"], "demo_bg.wasm");
    // Only what wasm-bindgen's JavaScript gives is imported: no WASI.
    let imports = shown["imports"].as_str().unwrap();
    assert!(!imports.contains("wasi"), "{imports}");
    assert!(
        shown["memoryMode"]
            .as_str()
            .unwrap()
            .starts_with("1 memory, / holds docs, hello.txt"),
        "{shown}"
    );

    // The reference: demo-app alone under wasmtime's host WASI, on a copy
    // of the folder the guest embeds, with the same file written first.
    let root = tempfile::tempdir().unwrap();
    copy_dir_all(&repo_root().join("examples/site"), root.path()).unwrap();
    std::fs::write(root.path().join("hello.txt"), file).unwrap();
    let reference = run_in_wasmtime_host(
        &wasm_example("demo-app", "wasm32-wasip1"),
        &[(root.path(), "/")],
        &["hello", "from chromium", "5"],
        &[],
    )
    .unwrap();
    assert_eq!(reference.exit_code, Some(5));
    assert_eq!(
        shown["stdout"].as_str().unwrap(),
        String::from_utf8(reference.stdout).unwrap()
    );
    assert_eq!(
        shown["stderr"].as_str().unwrap(),
        String::from_utf8(reference.stderr).unwrap()
    );
    assert_eq!(shown["exitCode"], json!(reference.exit_code));
    // What the program wrote, read back through `read_file`.
    let notes = std::fs::read_to_string(root.path().join("out/notes.txt")).unwrap();
    assert_eq!(shown["written"], notes);
}

#[test]
fn the_wasm_bindgen_guest_runs_in_node_as_the_js_wrapper_does() {
    if !have(Tool::Node22) || !have(Tool::WasmBindgen) {
        return;
    }
    let node = Tool::Node22.locate().unwrap();
    let plan_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(plan_file.path(), plan().to_string()).unwrap();
    let through_bindgen = node_json(
        &node,
        "run-bindgen.mjs",
        &[
            bindgen_pkg().join("demo.js").as_os_str(),
            plan_file.path().as_os_str(),
        ],
    );
    // The same program and plan under web-guest and the `--js` wrapper.
    assert_eq!(through_bindgen, run_js(&node, "demo.js", &plan()));
}
