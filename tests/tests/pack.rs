//! `wasi-virt pack` end to end: programs in Rust (`demo-app`), C
//! (`examples/c-app`), CPython 3.12 and ruby.wasm, packed with folders and
//! run with nothing linked (wasmi, Node ≥ 22), or with `--stdio inherit`
//! under the wasmtime CLI, against the same programs under wasmtime's own
//! host WASI with the same folders mapped; reproducibility; and the errors
//! bad inputs get.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wasi_virt_abi::names::host_api;
use wasi_virt_tests::third_party::{
    build_c, cpython_wasm, have_third_party, ruby_wasm, wasi_clang,
};
use wasi_virt_tests::tools::node22;
use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_node, run_in_wasmi, run_in_wasmtime_host,
    wasi_virt_bin, wasm_example,
};

/// Runs the CLI; returns (exit code, stdout, stderr).
fn wasi_virt<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(wasi_virt_bin())
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("cannot run wasi-virt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Packs `app` into `out` with `options`; panics with the CLI's stderr if it
/// fails.
fn pack(app: &Path, out: &Path, options: &[&str]) {
    let mut args: Vec<&OsStr> = vec![
        "pack".as_ref(),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    args.extend(options.iter().map(OsStr::new));
    let (code, _, stderr) = wasi_virt(&args);
    assert_eq!(code, 0, "pack failed: {stderr}");
}

fn demo_app() -> PathBuf {
    wasm_example("demo-app", "wasm32-wasip1")
}

fn site() -> PathBuf {
    repo_root().join("examples/site")
}

/// The imports of a module, as `module::name`.
fn imports(wasm: &Path) -> Vec<String> {
    let bytes = std::fs::read(wasm).unwrap();
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::ImportSection(section) = payload.unwrap() {
            for import in section.into_imports() {
                let import = import.unwrap();
                out.push(format!("{}::{}", import.module, import.name));
            }
        }
    }
    out.sort();
    out
}

const DEMO_ARGS: &[&str] = &["hello", "wörld"];
const DEMO_ENV: &[(&str, &str)] = &[("GREETING", "hello from pack"), ("EXIT_CODE", "3")];

/// The options that give demo-app what [`DEMO_ARGS`] and [`DEMO_ENV`] say.
fn demo_options(site: &Path) -> Vec<String> {
    let mut options = vec!["--dir".to_string(), format!("/={}", site.display())];
    for (key, value) in DEMO_ENV {
        options.extend(["--env".to_string(), format!("{key}={value}")]);
    }
    options.push("--".to_string());
    options.extend(DEMO_ARGS.iter().map(|a| a.to_string()));
    options
}

fn as_strs(options: &[String]) -> Vec<&str> {
    options.iter().map(String::as_str).collect()
}

/// demo-app packed with `examples/site` as `/`, all virtual (once per
/// process, in a folder kept until exit).
fn packed_demo() -> &'static Path {
    static PACKED: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = PACKED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo.wasm");
        pack(&demo_app(), &out, &as_strs(&demo_options(&site())));
        (dir, out)
    });
    path
}

/// demo-app under the wasmtime CLI on a copy of `examples/site`.
fn demo_reference() -> Outcome {
    let copy = tempfile::tempdir().unwrap();
    copy_dir_all(&site(), copy.path()).unwrap();
    run_in_wasmtime_host(&demo_app(), &[(copy.path(), "/")], DEMO_ARGS, DEMO_ENV).unwrap()
}

#[test]
fn packed_rust_program_has_no_imports_and_matches_wasmtime_in_wasmi() {
    assert_eq!(imports(packed_demo()), Vec::<String>::new());
    let packed = run_in_wasmi(&std::fs::read(packed_demo()).unwrap(), "_start").unwrap();
    assert_eq!(packed.exit_code, Some(3));
    assert!(
        packed.stdout_text().contains("/docs/guide.txt"),
        "{packed:?}"
    );
    if have(Tool::Wasmtime) {
        assert_eq!(packed, demo_reference());
    }
    // The packed run wrote only to its in-memory layer.
    assert!(!site().join("out").exists());
}

#[test]
fn packed_rust_program_runs_in_node_with_an_empty_import_object() {
    if !have(Tool::Node22) {
        return;
    }
    let packed = run_in_node(packed_demo()).unwrap();
    let wasmi = run_in_wasmi(&std::fs::read(packed_demo()).unwrap(), "_start").unwrap();
    assert_eq!(packed, wasmi);
}

/// `--stdio inherit` under the wasmtime CLI: the output keeps exactly
/// fd_read, fd_write and proc_exit, and prints and exits as the unpacked
/// program does.
#[test]
fn packed_rust_program_with_inherited_stdio_matches_wasmtime() {
    if !have(Tool::Wasmtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inherit.wasm");
    let mut options = vec!["--stdio".to_string(), "inherit".to_string()];
    options.extend(demo_options(&site()));
    pack(&demo_app(), &out, &as_strs(&options));
    assert_eq!(
        imports(&out),
        [
            "wasi_snapshot_preview1::fd_fdstat_get",
            "wasi_snapshot_preview1::fd_read",
            "wasi_snapshot_preview1::fd_write",
            "wasi_snapshot_preview1::poll_oneoff",
            "wasi_snapshot_preview1::proc_exit"
        ]
    );
    let packed = run_in_wasmtime_host(&out, &[], &[], &[]).unwrap();
    assert_eq!(packed, demo_reference());
}

#[test]
fn inspect_says_which_option_keeps_each_import() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("host.wasm");
    pack(
        &demo_app(),
        &out,
        &[
            "--stdout", "inherit", "--clock", "host", "--exit", "virtual", "--dir", "/tmp",
        ],
    );
    assert_eq!(
        imports(&out),
        [
            "wasi_snapshot_preview1::clock_res_get",
            "wasi_snapshot_preview1::clock_time_get",
            "wasi_snapshot_preview1::fd_fdstat_get",
            "wasi_snapshot_preview1::fd_write",
            "wasi_snapshot_preview1::poll_oneoff",
        ]
    );
    let (code, stdout, stderr) = wasi_virt(&["inspect".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("fd_write func (param i32 i32 i32 i32) (result i32)  [host passthrough: --stdout inherit]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[host passthrough: --clock host]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("poll_oneoff func (param i32 i32 i32 i32) (result i32)  [host passthrough: --clock host, --stdout inherit]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("folder /tmp <- an empty folder"),
        "{stdout}"
    );
}

#[test]
fn packing_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.wasm"), dir.path().join("b.wasm"));
    let options = demo_options(&site());
    pack(&demo_app(), &a, &as_strs(&options));
    // A copy of the folder, with other times and another path: same bytes.
    let copy = tempfile::tempdir().unwrap();
    copy_dir_all(&site(), copy.path()).unwrap();
    pack(&demo_app(), &b, &as_strs(&demo_options(copy.path())));
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
    assert!(std::fs::read(&a).unwrap() == std::fs::read(packed_demo()).unwrap());
}

/// The host API: the host replaces args and env, adds a file before the
/// run and reads back the file the program wrote.
#[test]
fn a_host_replaces_args_and_env_and_exchanges_files() {
    use wasmi::{Engine, Linker, Module, Store};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.wasm");
    pack(&demo_app(), &out, &["--dir", "/", "--env", "EXIT_CODE=9"]);
    let engine = Engine::default();
    let module = Module::new(&engine, &std::fs::read(&out).unwrap()[..]).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    let memory = instance.get_memory(&store, "memory").unwrap();
    let put = |store: &mut Store<()>, bytes: &[u8]| -> (i32, i32) {
        let alloc = instance
            .get_typed_func::<i32, i32>(&*store, host_api::ALLOC)
            .unwrap();
        let ptr = alloc.call(&mut *store, bytes.len() as i32).unwrap();
        memory.write(&mut *store, ptr as usize, bytes).unwrap();
        (ptr, bytes.len() as i32)
    };
    let call2 = |store: &mut Store<()>, name: &str, args: (i32, i32)| -> i32 {
        instance
            .get_typed_func::<(i32, i32), i32>(&*store, name)
            .unwrap()
            .call(store, args)
            .unwrap()
    };
    let args = put(&mut store, b"demo\0from-host\0");
    assert_eq!(call2(&mut store, host_api::SET_ARGS, args), 0);
    let env = put(&mut store, b"GREETING=set by the host\0EXIT_CODE=4\0");
    assert_eq!(call2(&mut store, host_api::SET_ENV, env), 0);
    let (path, path_len) = put(&mut store, b"/hello.txt");
    let (data, data_len) = put(&mut store, b"written by the host\n");
    let write = instance
        .get_typed_func::<(i32, i32, i32, i32), i32>(&store, host_api::WRITE_FILE)
        .unwrap();
    assert_eq!(
        write
            .call(&mut store, (path, path_len, data, data_len))
            .unwrap(),
        0
    );

    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let _ = start.call(&mut store, ());
    let code = instance
        .get_typed_func::<(), i32>(&store, host_api::EXIT_CODE)
        .unwrap();
    assert_eq!(code.call(&mut store, ()).unwrap(), 4);
    let result = |store: &mut Store<()>, name: &str| -> Vec<u8> {
        let ptr = instance
            .get_typed_func::<(), i32>(&*store, &format!("{name}_ptr"))
            .unwrap();
        let len = instance
            .get_typed_func::<(), i32>(&*store, &format!("{name}_len"))
            .unwrap();
        let (ptr, len) = (
            ptr.call(&mut *store, ()).unwrap(),
            len.call(&mut *store, ()).unwrap(),
        );
        memory.data(&*store)[ptr as usize..(ptr + len) as usize].to_vec()
    };
    let stdout = String::from_utf8(result(&mut store, "wasi_virt_stdout")).unwrap();
    assert!(
        stdout.starts_with("== args\nfrom-host\n== env\nEXIT_CODE=4\nGREETING=set by the host\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== read /hello.txt\nwritten by the host\n"),
        "{stdout}"
    );
    let notes = put(&mut store, b"/out/notes.txt");
    assert_eq!(call2(&mut store, host_api::READ_FILE, notes), 0);
    assert_eq!(
        result(&mut store, "wasi_virt_result"),
        b"first line\nsecond line, appended\n"
    );
    let root = put(&mut store, b"/");
    assert_eq!(call2(&mut store, host_api::LIST_DIR, root), 0);
    assert_eq!(result(&mut store, "wasi_virt_result"), b"hello.txt\0out\0");
}

/// A read-only mount refuses the program's changes (EPERM, as wasmtime
/// answers for a read-only directory).
#[test]
fn a_read_only_mount_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ro.wasm");
    pack(
        &demo_app(),
        &out,
        &["--dir", &format!("/={}:ro", site().display())],
    );
    let packed = run_in_wasmi(&std::fs::read(&out).unwrap(), "_start").unwrap();
    let stdout = packed.stdout_text();
    assert!(stdout.contains("/hello.txt\n"), "{stdout}");
    assert!(
        stdout.contains("== write /out/notes.txt\nerror: Operation not permitted"),
        "{stdout}"
    );
}

// ---- C -------------------------------------------------------------------

fn c_app() -> Option<PathBuf> {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    if !have_third_party("clang for wasm32-wasi", wasi_clang().as_deref()) {
        return None;
    }
    let (_, path) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("c-app.wasm");
        build_c(&repo_root().join("examples/c-app/main.c"), &wasm).unwrap();
        (dir, wasm)
    });
    Some(path.clone())
}

/// What a packed program learns about its stdio (`examples/c-tty`): with
/// `--stdio inherit`, what the host says about its fds (here pipes, as
/// under wasmtime's host WASI); captured, not a terminal unless `--tty`.
#[test]
fn packed_stdio_is_what_the_host_says_or_a_terminal_when_asked() {
    if !have_third_party("clang for wasm32-wasi", wasi_clang().as_deref()) || !have(Tool::Wasmtime)
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("c-tty.wasm");
    build_c(&repo_root().join("examples/c-tty/main.c"), &wasm).unwrap();
    let host = run_in_wasmtime_host(&wasm, &[], &[], &[]).unwrap();
    let pipes = "fd 0: errno 0 filetype 0 isatty 0\nfd 1: errno 0 filetype 0 isatty 0\nfd 2: errno 0 filetype 0 isatty 0\n";
    assert_eq!(host.stdout_text(), pipes);

    let (inherit, captured, tty) = (
        dir.path().join("inherit.wasm"),
        dir.path().join("captured.wasm"),
        dir.path().join("tty.wasm"),
    );
    pack(&wasm, &inherit, &["--stdio", "inherit"]);
    assert_eq!(run_in_wasmtime_host(&inherit, &[], &[], &[]).unwrap(), host);
    pack(&wasm, &captured, &[]);
    let run = run_in_wasmi(&std::fs::read(&captured).unwrap(), "_start").unwrap();
    assert_eq!(run.stdout_text(), pipes);
    pack(&wasm, &tty, &["--tty"]);
    let run = run_in_wasmi(&std::fs::read(&tty).unwrap(), "_start").unwrap();
    assert_eq!(
        run.stdout_text(),
        "fd 0: errno 0 filetype 2 isatty 1\nfd 1: errno 0 filetype 2 isatty 1\nfd 2: errno 0 filetype 2 isatty 1\n"
    );
}

/// The `/data` folder c-app works in: a file to patch, one to remove, and
/// a symlink.
fn c_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // (Not `copy_dir_all`, which would copy the symlink as a file.)
    std::fs::write(dir.path().join("input.txt"), "0123456789\n").unwrap();
    std::fs::write(dir.path().join("remove-me.txt"), "bye\n").unwrap();
    std::fs::write(dir.path().join("target.txt"), "linked text\n").unwrap();
    std::os::unix::fs::symlink("target.txt", dir.path().join("link")).unwrap();
    dir
}

#[test]
fn packed_c_program_matches_wasmtime_with_nothing_linked_and_with_inherited_stdio() {
    let Some(app) = c_app() else { return };
    let data = c_data();
    let dir = tempfile::tempdir().unwrap();
    let (virt, inherit) = (dir.path().join("c.wasm"), dir.path().join("c-inherit.wasm"));
    let options = [
        "--dir".to_string(),
        format!("/site={}", site().display()),
        "--dir".to_string(),
        format!("/data={}", data.path().display()),
        "--env".to_string(),
        "GREETING=hi".to_string(),
        "--".to_string(),
        "a".to_string(),
        "b".to_string(),
    ];
    pack(&app, &virt, &as_strs(&options));
    let mut with_inherit = vec!["--stdio".to_string(), "inherit".to_string()];
    with_inherit.extend(options.iter().cloned());
    pack(&app, &inherit, &as_strs(&with_inherit));
    assert_eq!(imports(&virt), Vec::<String>::new());

    let packed = run_in_wasmi(&std::fs::read(&virt).unwrap(), "_start").unwrap();
    assert_eq!(packed.exit_code, Some(5), "{packed:?}");
    assert!(
        packed.stdout_text().contains("/data/link -> target.txt"),
        "{packed:?}"
    );
    if !have(Tool::Wasmtime) {
        return;
    }
    let copy = c_data();
    let site_copy = tempfile::tempdir().unwrap();
    copy_dir_all(&site(), site_copy.path()).unwrap();
    let reference = run_in_wasmtime_host(
        &app,
        &[(site_copy.path(), "/site"), (copy.path(), "/data")],
        &["a", "b"],
        &[("GREETING", "hi")],
    )
    .unwrap();
    assert_eq!(packed, reference);
    assert_eq!(
        run_in_wasmtime_host(&inherit, &[], &[], &[]).unwrap(),
        reference
    );
    if have(Tool::Node22) {
        assert_eq!(run_in_node(&virt).unwrap(), reference);
    }
    // The packed runs left the folder as it was.
    assert!(data.path().join("remove-me.txt").exists());
}

// ---- CPython 3.12 --------------------------------------------------------

const PYTHON_SCRIPT: &str = r#"import os, sys, json
print("argv", sys.argv[1:])
print("env", os.environ.get("GREETING"))
print("listdir", sorted(os.listdir("/app")))
with open("/app/data/numbers.json") as f:
    data = json.load(f)
print("sum", sum(data["numbers"]))
os.makedirs("/app/out", exist_ok=True)
with open("/app/out/result.txt", "w") as f:
    f.write("total=%d\n" % sum(data["numbers"]))
with open("/app/out/result.txt") as f:
    print("read back", f.read().strip())
print("size", os.stat("/app/out/result.txt").st_size)
os.rename("/app/out/result.txt", "/app/out/renamed.txt")
for root, dirs, files in os.walk("/app"):
    dirs.sort()
    print(root, sorted(files))
print("missing", os.path.exists("/app/nope"))
print("to stderr", file=sys.stderr)
sys.exit(7)
"#;

fn python_app_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), PYTHON_SCRIPT).unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/numbers.json"),
        r#"{"numbers": [1, 2, 3, 4, 5]}"#,
    )
    .unwrap();
    dir
}

#[test]
fn packed_cpython_runs_a_script_as_under_wasmtime() {
    let python = cpython_wasm();
    if !have_third_party("CPython 3.12 (python-3.12.0.wasm)", Some(&python)) || !have(Tool::Node22)
    {
        return;
    }
    let app = python_app_folder();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("python.wasm");
    pack(
        &python,
        &out,
        &[
            "--dir",
            &format!("/app={}", app.path().display()),
            "--env",
            "GREETING=hi from pack",
            "--argv0",
            "python",
            "--",
            "/app/main.py",
            "x",
        ],
    );
    assert_eq!(imports(&out), Vec::<String>::new());
    let packed = run_in_node(&out).unwrap();
    assert_eq!(packed.exit_code, Some(7), "{packed:?}");
    assert!(
        packed.stdout_text().contains("read back total=15"),
        "{packed:?}"
    );
    assert!(!app.path().join("out").exists(), "the folder is untouched");
    if have(Tool::Wasmtime) {
        let copy = tempfile::tempdir().unwrap();
        copy_dir_all(app.path(), copy.path()).unwrap();
        let reference = run_in_wasmtime_host(
            &python,
            &[(copy.path(), "/app")],
            &["/app/main.py", "x"],
            &[("GREETING", "hi from pack")],
        )
        .unwrap();
        assert_eq!(packed, reference);
    }
}

// ---- ruby.wasm -----------------------------------------------------------

#[test]
fn packed_ruby_keeps_its_js_imports_unless_stubbed_and_runs_code() {
    let ruby = ruby_wasm();
    if !have_third_party("ruby.wasm (ruby+stdlib.wasm)", Some(&ruby)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (kept, stubbed) = (dir.path().join("kept.wasm"), dir.path().join("ruby.wasm"));
    pack(&ruby, &kept, &[]);
    let kept_imports = imports(&kept);
    assert!(
        kept_imports
            .iter()
            .all(|i| !i.starts_with("wasi_snapshot_preview1::"))
    );
    assert!(
        kept_imports
            .contains(&"rb-js-abi-host::global-this: func() -> handle<js-abi-value>".to_string())
    );
    assert!(kept_imports.contains(&"canonical_abi::resource_new_rb-abi-value".to_string()));

    let app = tempfile::tempdir().unwrap();
    std::fs::write(app.path().join("input.txt"), "hello from a file\n").unwrap();
    pack(
        &ruby,
        &stubbed,
        &[
            "--stub-imports",
            "rb-js-abi-host",
            "--dir",
            &format!("/app={}", app.path().display()),
        ],
    );
    assert_eq!(
        imports(&stubbed),
        [
            "canonical_abi::resource_drop_js-abi-value",
            "canonical_abi::resource_get_rb-abi-value",
            "canonical_abi::resource_new_rb-abi-value",
        ]
    );
    let (code, stdout, _) = wasi_virt(&["inspect".as_ref(), stubbed.as_os_str()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("[kept from target `app`]"), "{stdout}");
    assert!(
        stdout.contains("imports from rb-js-abi-host: stubbed"),
        "{stdout}"
    );
    assert!(stdout.contains("_initialize func"), "{stdout}");
    assert!(
        !stdout.contains("  _start func"),
        "a reactor has no _start: {stdout}"
    );

    let Some(node) = node22() else {
        assert!(!have(Tool::Node22));
        return;
    };
    // Captured stdout is not a terminal (as a pipe under host WASI), so
    // Ruby buffers it; a reactor never exits, so the code flushes it.
    let code = r#"puts "ruby #{RUBY_VERSION}"
puts File.read("/app/input.txt")
File.write("/app/out.txt", "written by ruby\n")
print File.read("/app/out.txt")
puts Dir.children("/app").sort.inspect
require "json"
puts JSON.generate({"sum" => [1, 2, 3].sum})
$stdout.flush"#;
    let out = Command::new(node)
        .arg(repo_root().join("tests/node/ruby.mjs"))
        .arg(&stubbed)
        .arg(code)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        (out.status.code(), stdout.as_ref()),
        (
            Some(0),
            "ruby 3.4.1\nhello from a file\nwritten by ruby\n[\"input.txt\", \"out.txt\"]\n{\"sum\":6}\n"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- bad inputs ----------------------------------------------------------

/// Packs with `options` in a fresh folder holding demo-app as `app.wasm`,
/// expecting a refusal: non-zero exit, one `error:` line saying `cause`,
/// no output file, no panic.
fn assert_refused(options: &[&str], cause: &str) {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.wasm");
    std::fs::copy(demo_app(), &app).unwrap();
    let out = dir.path().join("out.wasm");
    let mut args: Vec<&OsStr> = vec![
        "pack".as_ref(),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    args.extend(options.iter().map(OsStr::new));
    let (code, _, stderr) = wasi_virt(&args);
    // 1, or 2 for a usage error clap reports.
    assert!(code == 1 || code == 2, "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(stderr.contains(cause), "expected {cause:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "an output was written");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a file was left behind"
    );
}

#[test]
fn a_missing_folder_is_refused() {
    assert_refused(
        &["--dir", "/=/no/such/folder"],
        "error: --dir /=/no/such/folder: /no/such/folder: No such file or directory",
    );
}

#[test]
fn a_symlink_leaving_the_folder_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("../../secret", folder.path().join("sub/escape")).unwrap();
    assert_refused(
        &["--dir", &format!("/={}", folder.path().display())],
        "-> ../../secret leads out of the mounted folder",
    );
}

#[test]
fn a_bad_env_entry_is_refused() {
    assert_refused(
        &["--env", "NOVALUE"],
        "error: --env NOVALUE: expected KEY=VALUE with a non-empty KEY",
    );
}

#[test]
fn other_bad_options_are_refused() {
    assert_refused(&["--dir", "data=./x"], "is not absolute");
    assert_refused(&["--dir", "/", "--dir", "/"], "is mounted twice");
    assert_refused(&["--random", "sometimes"], "seed=N");
    assert_refused(
        &["--stub-imports", "wasi_snapshot_preview1"],
        "WASI imports are virtualized",
    );
}

#[test]
fn a_program_that_is_not_wasm_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.wasm");
    std::fs::write(&app, "#!/bin/sh\n").unwrap();
    let out = dir.path().join("out.wasm");
    let (code, _, stderr) = wasi_virt(&[
        "pack".as_ref(),
        app.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("not a WebAssembly module"), "{stderr}");
    assert!(!out.exists());
}
