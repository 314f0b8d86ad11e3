//! Threads: a `wasm32-wasip1-threads` program (`examples/threads-app`, one
//! case per argument) packed runs as under wasmtime's own WASI with threads.
//! Both run in wasmtime 46 (`-S threads`, the last release that has it):
//! the program itself with a real folder at `/tmp`, the packed output with
//! no `--dir` at all (its `/tmp` is the packed, in-memory one), stdout and
//! stderr inherited and `proc_exit` the host's so that the two can be
//! compared byte for byte: same stdout, stderr and exit code.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_virt_tests::tools::Tool;
use wasi_virt_tests::{have, wasi_virt, wasi_virt_bin, wasm_example};

/// What wasmtime needs for a threads program.
const THREADS: [&str; 4] = ["-W", "threads=y,shared-memory=y", "-S", "threads=y"];

fn threads_app() -> PathBuf {
    wasm_example("threads-app", "wasm32-wasip1-threads")
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `wasm` with `args` in wasmtime 46 with threads; `dir`, if given,
/// is mounted at `/tmp`.
fn wasmtime(wasm: &Path, dir: Option<&Path>, args: &[&str]) -> Outcome {
    let mut command = Command::new(Tool::WasmtimeThreads.locate().unwrap());
    command.arg("run").args(THREADS);
    if let Some(dir) = dir {
        command.arg("--dir").arg(format!("{}::/tmp", dir.display()));
    }
    let output = command.arg(wasm).args(args).output().unwrap();
    // wasmtime 46 warns on every `-S threads` run that 47 drops it; its
    // report of a trap names the functions of the module it ran, which
    // differ: the program's own stderr is what is compared.
    let mut stderr = String::new();
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        if line.starts_with("Error: ") {
            stderr.push_str("(wasmtime's report of a trap)\n");
            break;
        }
        if !line.contains("-Sthreads") && !line.trim().is_empty() {
            stderr.push_str(line);
            stderr.push('\n');
        }
    }
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    }
}

/// `threads-app CASE` under wasmtime's own WASI, `/tmp` a fresh folder.
fn host(case: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    wasmtime(&threads_app(), Some(dir.path()), &[case])
}

/// Packs `threads-app` for `case` with `options`; the output's path.
fn pack(dir: &Path, case: &str, options: &[&str]) -> PathBuf {
    let out = dir.join(format!("{case}.wasm"));
    let app = threads_app();
    let mut args = vec![
        OsStr::new("pack"),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    args.extend(["--dir", "/tmp", "--arg", case].map(OsStr::new));
    args.extend(options.iter().map(OsStr::new));
    wasi_virt(args);
    out
}

/// `threads-app CASE` packed (stdio inherited, the host's exit, and
/// `options`), run with no folder mounted.
fn packed(case: &str, options: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--stdio", "inherit", "--exit", "host"];
    all.extend_from_slice(options);
    let out = pack(dir.path(), case, &all);
    wasmtime(&out, None, &[])
}

/// The case packed behaves as the program under host WASI.
fn same(case: &str, options: &[&str]) {
    if !have(Tool::WasmtimeThreads) {
        return;
    }
    let expected = host(case);
    assert_eq!(packed(case, options), expected, "{case}");
}

#[test]
fn spawned_threads_join_with_their_results() {
    same("spawn", &[]);
}

#[test]
fn mutex_condvar_barrier_mpsc_and_thread_locals() {
    same("sync", &[]);
}

#[test]
fn eight_threads_append_to_one_file_and_to_one_opened_once() {
    same("append", &[]);
}

#[test]
fn threads_create_rename_and_list_files() {
    same("fs", &[]);
}

#[test]
fn a_panic_in_a_thread_aborts_the_program() {
    same("panic", &[]);
}

/// With real sleeps: under the virtual clock main's 5 s sleep returns at
/// once and the program ends before the thread exits.
#[test]
fn exit_from_a_thread_ends_the_program_with_its_code() {
    same("exit", &["--clock", "host"]);
}

#[test]
fn sleeps_and_timeouts_across_threads_under_the_host_clock() {
    same("sleep", &["--clock", "host"]);
}

#[test]
fn rayon_sums_in_parallel() {
    same("rayon", &[]);
}

/// 5,000 threads one after the other: each ended thread's guest stack is
/// taken again by the next (5,000 new ones would not fit the guest memory).
#[test]
fn five_thousand_short_threads_reuse_their_guest_stacks() {
    same("many", &[]);
}

#[test]
fn a_racy_case_fifty_times() {
    if !have(Tool::WasmtimeThreads) {
        return;
    }
    let expected = host("race");
    let dir = tempfile::tempdir().unwrap();
    let out = pack(
        dir.path(),
        "race",
        &["--stdio", "inherit", "--exit", "host"],
    );
    for run in 0..50 {
        assert_eq!(wasmtime(&out, None, &[]), expected, "run {run}");
    }
}

/// All virtual, a threads output imports its shared memories and
/// `wasi.thread-spawn`, and nothing else: it runs on any wasi-threads host.
#[test]
fn a_threads_output_imports_only_its_shared_memories_and_thread_spawn() {
    let dir = tempfile::tempdir().unwrap();
    let out = pack(dir.path(), "spawn", &[]);
    let bytes = std::fs::read(&out).unwrap();
    let mut imports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::ImportSection(reader) = payload.unwrap() {
            for import in reader.into_imports() {
                let import = import.unwrap();
                let shared = match import.ty {
                    wasmparser::TypeRef::Memory(m) => Some(m.shared),
                    _ => None,
                };
                imports.push((import.module.to_string(), import.name.to_string(), shared));
            }
        }
    }
    let expected = [
        ("env", "memory", Some(true)),
        ("wasi", "thread-spawn", None),
        ("wasi-virt", "guest-memory", Some(true)),
    ]
    .map(|(m, n, s)| (m.to_string(), n.to_string(), s));
    assert_eq!(imports, expected);
    let exports = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::ExportSection(r) => Some(r),
            _ => None,
        })
        .flat_map(|r| r.into_iter().map(|e| e.unwrap().name.to_string()))
        .collect::<Vec<_>>();
    assert!(
        exports.iter().any(|e| e == "wasi_thread_start"),
        "{exports:?}"
    );
    assert!(exports.iter().any(|e| e == "_start"), "{exports:?}");
}

#[test]
fn what_threads_programs_cannot_have_yet_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.wasm");
    let output = Command::new(wasi_virt_bin())
        .arg("pack")
        .arg(threads_app())
        .arg("-o")
        .arg(&out)
        .arg("--single-memory")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--single-memory does not support threads programs"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// `pack --threads N`: at most N spawned threads run at once; the next
/// spawn fails with `EAGAIN`, which the program sees as an error of its own
/// `thread::Builder::spawn` (under the host: no limit, six run).
#[test]
fn pack_threads_limits_how_many_run_at_once() {
    if !have(Tool::WasmtimeThreads) {
        return;
    }
    assert_eq!(host("limit").stdout, "6 threads ran; then None\n");
    for (limit, said) in [
        ("3", "3 threads ran; then Some(WouldBlock)\n"),
        ("0", "0 threads ran; then Some(WouldBlock)\n"),
        ("6", "6 threads ran; then None\n"),
    ] {
        let run = packed("limit", &["--threads", limit]);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (Some(0), said),
            "--threads {limit}"
        );
    }
}

/// `merge` takes a threads program too: `examples/threads-guest`, an
/// ordinary guest (built without threads) with an empty `/tmp`, inherited
/// stdio and the host's exit, runs the `sync` case as the host does.
#[test]
fn merge_with_an_ordinary_guest_runs_the_program_as_the_host_does() {
    if !have(Tool::WasmtimeThreads) {
        return;
    }
    let guest = wasm_example("threads-guest", "wasm32-unknown-unknown");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged.wasm");
    let app = threads_app();
    wasi_virt([
        OsStr::new("merge"),
        guest.as_os_str(),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(wasmtime(&out, None, &[]), host("sync"));
}

/// C with pthreads (`examples/c-threads`), built with Debian's clang and
/// the threaded wasi-libc Rust ships for `wasm32-wasip1-threads`: spawn and
/// join, a mutex, files written from threads; packed as under host WASI.
#[test]
fn c_pthreads_run_as_under_host_wasi() {
    use wasi_virt_tests::third_party::{build_c_threads, have_third_party, wasi_clang};
    if !have(Tool::WasmtimeThreads)
        || !have_third_party("clang for wasm32-wasi", wasi_clang().as_deref())
    {
        return;
    }
    let example = wasi_virt_tests::repo_root().join("examples/c-threads");
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("c-threads.wasm");
    build_c_threads(&example.join("main.c"), &example.join("include"), &app).unwrap();
    for case in ["spawn", "mutex", "files"] {
        let host_dir = tempfile::tempdir().unwrap();
        let expected = wasmtime(&app, Some(host_dir.path()), &[case]);
        assert_eq!(expected.code, Some(0), "{case}: {expected:?}");
        let out = dir.path().join(format!("{case}.wasm"));
        let output = Command::new(wasi_virt_bin())
            .arg("pack")
            .arg(&app)
            .arg("-o")
            .arg(&out)
            .args([
                "--dir", "/tmp", "--stdio", "inherit", "--exit", "host", "--arg", case,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(wasmtime(&out, None, &[]), expected, "{case}");
    }
}

/// `threads-app CASE` packed with `--js` (and `options`), run by the ES
/// module in Node 22 with a pool of `pool` Workers: no WASI host at all.
fn through_js(case: &str, options: &[&str], pool: u32) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let js = dir.path().join(format!("{case}.js"));
    let mut all = vec!["--js", js.to_str().unwrap()];
    all.extend_from_slice(options);
    pack(dir.path(), case, &all);
    let plan = serde_json::json!({ "threads": pool, "runs": [{ "args": ["threads-app", case] }] });
    let result = wasi_virt_tests::run_js_plan(&js, &plan).unwrap();
    let run = &result["runs"][0];
    let stderr: String = run["stderr"]
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    Outcome {
        code: run["exitCode"].as_i64().map(|c| c as i32),
        stdout: run["stdout"].as_str().unwrap().to_string(),
        stderr,
    }
}

/// The host's outcome without wasmtime's own report of a trap, which a
/// JavaScript host does not print.
fn host_program_only(case: &str) -> Outcome {
    let mut outcome = host(case);
    outcome.stderr = outcome
        .stderr
        .replace("(wasmtime's report of a trap)\n", "");
    outcome
}

/// The threads cases through the `--js` module in Node: the program runs
/// in a `worker_threads` Worker, its threads on a pool of Workers, and
/// prints what it prints under wasmtime's own WASI, exit codes included (a
/// panic in a thread: 134; `process::exit(42)` from a thread: 42).
#[test]
fn threads_run_through_the_js_module_in_node() {
    if !have(Tool::WasmtimeThreads) || !have(Tool::Node22) {
        return;
    }
    for (case, options) in [
        ("spawn", &[][..]),
        ("sync", &[]),
        ("append", &[]),
        ("fs", &[]),
        ("rayon", &[]),
        ("race", &[]),
        ("panic", &[]),
        ("exit", &["--clock", "host"]),
        ("sleep", &["--clock", "host"]),
        // The host's clock stamps files inside the guest's own work.
        ("append", &["--clock", "host"]),
        ("fs", &["--clock", "host"]),
    ] {
        let expected = host_program_only(case);
        assert_eq!(through_js(case, options, 8), expected, "{case}");
    }
}

/// A pool of 2 Workers runs 2 threads at once: the `limit` case's third
/// spawn fails with `EAGAIN`, as `--threads 2` would make it.
#[test]
fn an_exhausted_pool_refuses_a_spawn_with_eagain() {
    if !have(Tool::Node22) {
        return;
    }
    let run = through_js("limit", &[], 2);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "2 threads ran; then Some(WouldBlock)\n")
    );
}

/// The threads demo page (`examples/browser/threads.html`) in headless
/// Chromium, served cross-origin isolated: the page is isolated, rayon runs
/// on 1 and on 2 Workers, 8 threads append to files that the page lists
/// afterwards, and the output is the program's under wasmtime's own WASI.
/// Served without COOP/COEP, the page says which headers to send.
#[test]
fn the_threads_page_runs_in_chromium_when_cross_origin_isolated() {
    if !have(Tool::Chromium) || !have(Tool::WasmtimeThreads) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let browser = wasi_virt_tests::repo_root().join("examples/browser");
    for file in ["threads.html", "threads.js"] {
        std::fs::copy(browser.join(file), dir.path().join(file)).unwrap();
    }
    let app = threads_app();
    let wasm = dir.path().join("threads-app.wasm");
    let js = dir.path().join("threads-app.js");
    wasi_virt([
        OsStr::new("pack"),
        app.as_os_str(),
        "-o".as_ref(),
        wasm.as_os_str(),
        "--dir".as_ref(),
        "/tmp".as_ref(),
        "--clock".as_ref(),
        "host".as_ref(),
        "--js".as_ref(),
        js.as_os_str(),
    ]);
    let shown = page_in_chromium(dir.path(), true);
    assert_eq!(shown["isolated"], "true", "{shown}");
    assert_eq!(shown["status"], "done", "{shown}");
    let primes = "148933 primes";
    assert!(
        shown["one"].as_str().unwrap().starts_with(primes),
        "{shown}"
    );
    assert!(
        shown["two"].as_str().unwrap().starts_with(primes),
        "{shown}"
    );
    assert_eq!(shown["exitCode"], "0", "{shown}");
    assert_eq!(shown["stdout"], host("append").stdout.as_str(), "{shown}");
    let files = shown["files"].as_str().unwrap();
    assert!(
        files.contains("own.log: 160 lines") && files.contains("shared.log: 160 lines"),
        "{files}"
    );
    assert_eq!(shown["errors"], serde_json::json!([]), "{shown}");

    let refused = page_in_chromium(dir.path(), false);
    assert_eq!(refused["isolated"], "false", "{refused}");
    let status = refused["status"].as_str().unwrap();
    assert!(
        status.starts_with("failed: this module runs threads, which need SharedArrayBuffer")
            && status.contains("Cross-Origin-Opener-Policy: same-origin")
            && status.contains("Cross-Origin-Embedder-Policy: require-corp"),
        "{status}"
    );
}

/// What `tests/node/browser-threads.mjs` saw of the page in `dir`.
fn page_in_chromium(dir: &Path, isolated: bool) -> serde_json::Value {
    let node = Tool::Node22.locate().unwrap();
    let mut command = Command::new(node);
    command
        .arg(wasi_virt_tests::tools::node_project_dir().join("browser-threads.mjs"))
        .arg(dir);
    if !isolated {
        command.arg("--not-isolated");
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)))
}

/// `merge --js` takes a threads program too: `examples/threads-js-guest`
/// (captured stdio, the host API) merged with `threads-app`, run through
/// the module in Node; the files its threads wrote are read back through
/// `app.fs` after the run.
#[test]
fn merge_with_js_runs_threads_and_leaves_their_files() {
    if !have(Tool::WasmtimeThreads) || !have(Tool::Node22) {
        return;
    }
    let guest = wasm_example("threads-js-guest", "wasm32-unknown-unknown");
    let app = threads_app();
    let dir = tempfile::tempdir().unwrap();
    let (out, js) = (dir.path().join("merged.wasm"), dir.path().join("merged.js"));
    wasi_virt([
        OsStr::new("merge"),
        guest.as_os_str(),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--js".as_ref(),
        js.as_os_str(),
    ]);
    let plan = serde_json::json!({
        "threads": 8,
        "runs": [{ "args": ["threads-app", "fs"] }],
        "readdir": ["/tmp/work"],
        "read": ["/tmp/work/done-2.txt"],
    });
    let result = wasi_virt_tests::run_js_plan(&js, &plan).unwrap();
    assert_eq!(result["runs"][0]["exitCode"], 0, "{result}");
    assert_eq!(
        result["runs"][0]["stdout"],
        host("fs").stdout.as_str(),
        "{result}"
    );
    assert_eq!(
        result["dirs"]["/tmp/work"],
        serde_json::json!(["done-0.txt", "done-1.txt", "done-2.txt", "done-3.txt"])
    );
    assert_eq!(
        result["files"]["/tmp/work/done-2.txt"],
        "file of thread 2\n"
    );
}
