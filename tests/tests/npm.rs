//! The npm package `wasi-virt`, installed from the tarball `cargo xtask npm`
//! makes, as a user would, against the native CLI: each command runs in two
//! twin folders, one with the native CLI and one with the package's CLI in
//! Node 22 (no Rust, no native binary), and the exit codes, stdout, stderr
//! and every file the folders hold after must be the same. The JS API
//! (`import { pack, merge, inspect } from "wasi-virt"`) writes the bytes the
//! native CLI writes for the same inputs; the example page `examples/packer`
//! does in headless Chromium.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use wasi_virt_tests::tools::{node_project_dir, node20};
use wasi_virt_tests::{Tool, copy_dir_all, have, npm, repo_root, wasi_virt_bin, wasm_example};

/// The folder the package is installed into, once per test binary.
fn project() -> &'static Path {
    static PROJECT: OnceLock<tempfile::TempDir> = OnceLock::new();
    PROJECT
        .get_or_init(|| {
            let tarball = npm::build_package(&wasi_virt_bin()).unwrap();
            let project = tempfile::tempdir().unwrap();
            npm::install_package(&tarball, project.path()).unwrap();
            project
        })
        .path()
}

fn node() -> PathBuf {
    Tool::Node22.locate().unwrap()
}

/// The package's CLI, as `node_modules/.bin/wasi-virt` runs it.
fn npm_cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(node())
        .arg(project().join("node_modules/wasi-virt/bin/wasi-virt.js"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn native_cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(wasi_virt_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Everything under `dir`: files by content, symlinks by text, folders.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.strip_prefix(root).unwrap().display().to_string();
        let kind = fs::symlink_metadata(&path).unwrap().file_type();
        if kind.is_symlink() {
            found.insert(
                name,
                format!("-> {}", fs::read_link(&path).unwrap().display()),
            );
        } else if kind.is_dir() {
            found.insert(name.clone(), "folder".into());
            walk(root, &path, found);
        } else {
            let bytes = fs::read(&path).unwrap();
            found.insert(name, format!("{} bytes, {:x}", bytes.len(), fnv(&bytes)));
        }
    }
}

/// A 64-bit FNV-1a digest: enough to tell two files apart in a message.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Two folders with the same files, made by `fill`.
fn twins(fill: impl Fn(&Path)) -> (tempfile::TempDir, tempfile::TempDir) {
    let (native, npm) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    fill(native.path());
    fill(npm.path());
    (native, npm)
}

/// Runs `args` with both CLIs in twin folders; both must end the same way
/// and leave the same files. Returns the native run.
fn same_as_native(native: &Path, npm: &Path, args: &[&str]) -> Output {
    let expected = native_cli(native, args);
    let got = npm_cli(npm, args);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert_eq!(
        (got.status.code(), text(&got.stdout), text(&got.stderr)),
        (
            expected.status.code(),
            text(&expected.stdout),
            text(&expected.stderr)
        ),
        "wasi-virt {args:?}: the npm package (left) and the native CLI (right)"
    );
    assert_eq!(tree(npm), tree(native), "wasi-virt {args:?}: files after");
    expected
}

/// demo-app, and a site with a nested folder, a symlink and an empty folder.
fn demo_folder(dir: &Path) {
    fs::copy(
        wasm_example("demo-app", "wasm32-wasip1"),
        dir.join("demo-app.wasm"),
    )
    .unwrap();
    copy_dir_all(&repo_root().join("examples/site"), &dir.join("site")).unwrap();
    std::os::unix::fs::symlink("docs/faq.txt", dir.join("site/faq")).unwrap();
    fs::create_dir(dir.join("site/empty")).unwrap();
    fs::create_dir(dir.join("out")).unwrap();
}

/// `pack` of demo-app with its site, an empty `/data`, an environment
/// variable, arguments, and `--js`, to `OUT.wasm` and `OUT.js`.
fn demo_pack(out: &str) -> Vec<String> {
    let (wasm, js) = (format!("{out}.wasm"), format!("{out}.js"));
    let args = [
        "pack",
        "demo-app.wasm",
        "-o",
        &wasm,
        "--dir",
        "/=site",
        "--dir",
        "/data",
    ];
    let more = ["--env", "GREETING=hi", "--js", &js, "--", "a", "b"];
    args.iter().chain(&more).map(|a| a.to_string()).collect()
}

#[test]
fn pack_writes_the_native_clis_bytes() {
    if !have(Tool::Node22) {
        return;
    }
    let (native, npm) = twins(demo_folder);
    let args = demo_pack("out/demo");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    same_as_native(native.path(), npm.path(), &args);
    assert!(npm.path().join("out/demo.wasm").is_file());
    // And from another folder, through `..` and an absolute path.
    let sub = |dir: &Path| {
        fs::create_dir(dir.join("sub")).unwrap();
        dir.join("sub")
    };
    let (native_sub, npm_sub) = (sub(native.path()), sub(npm.path()));
    let absolute = npm.path().join("out/abs.wasm");
    let native_absolute = native.path().join("out/abs.wasm");
    let output = native_cli(
        &native_sub,
        &[
            "pack",
            "../demo-app.wasm",
            "-o",
            native_absolute.to_str().unwrap(),
            "--dir",
            "/=../site:ro",
        ],
    );
    assert!(output.status.success());
    let output = npm_cli(
        &npm_sub,
        &[
            "pack",
            "../demo-app.wasm",
            "-o",
            absolute.to_str().unwrap(),
            "--dir",
            "/=../site:ro",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read(absolute).unwrap(),
        fs::read(native_absolute).unwrap()
    );
}

#[test]
fn merge_and_inspect_are_the_native_clis() {
    if !have(Tool::Node22) {
        return;
    }
    let (native, npm) = twins(|dir| {
        demo_folder(dir);
        fs::copy(
            wasm_example("vfs-demo", "wasm32-wasip1"),
            dir.join("vfs_demo.wasm"),
        )
        .unwrap();
    });
    same_as_native(
        native.path(),
        npm.path(),
        &[
            "merge",
            "vfs_demo.wasm",
            "demo-app.wasm",
            "-o",
            "merged.wasm",
        ],
    );
    same_as_native(native.path(), npm.path(), &["inspect", "merged.wasm"]);
    same_as_native(
        native.path(),
        npm.path(),
        &["inspect", "--json", "demo-app.wasm"],
    );
    same_as_native(native.path(), npm.path(), &["--version"]);
    same_as_native(native.path(), npm.path(), &["pack", "--help"]);
}

#[test]
fn errors_are_the_native_clis_and_leave_no_file() {
    if !have(Tool::Node22) {
        return;
    }
    let (native, npm) = twins(|dir| {
        demo_folder(dir);
        fs::write(dir.join("bad.wasm"), b"\0asm\x01\0\0\0garbage").unwrap();
    });
    let (native, npm) = (native.path(), npm.path());
    // Usage errors (exit 2) and errors found in the inputs (exit 1).
    for args in [
        &["pack", "demo-app.wasm"][..],
        &["pack", "demo-app.wasm", "-o", "out.wasm", "--bogus"],
        &["pack", "demo-app.wasm", "-o", "demo-app.wasm"],
        &["pack", "demo-app.wasm", "-o", "./out/../demo-app.wasm"],
        &["pack", "demo-app.wasm", "-o", "site"],
        &["pack", "bad.wasm", "-o", "out.wasm"],
        &["merge", "bad.wasm", "demo-app.wasm", "-o", "out.wasm"],
        &["pack", "demo-app.wasm", "-o", "out.wasm", "--dir", "data"],
        &["inspect", "bad.wasm"],
        &["pack", "missing.wasm", "-o", "out.wasm"],
        &[
            "pack",
            "demo-app.wasm",
            "-o",
            "out.wasm",
            "--dir",
            "/=no-such-folder",
        ],
    ] {
        let output = same_as_native(native, npm, args);
        assert!(!output.status.success(), "{args:?} succeeded");
    }
    // An output in a missing folder: the cause names the temporary file,
    // whose random name differs; the `error:` line and exit code are equal.
    let args = ["pack", "demo-app.wasm", "-o", "no-such-folder/out.wasm"];
    let (expected, got) = (native_cli(native, &args), npm_cli(npm, &args));
    let first = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .next()
            .map(str::to_owned)
    };
    assert_eq!(
        (got.status.code(), first(&got)),
        (expected.status.code(), first(&expected)),
    );
    assert_eq!(tree(npm), tree(native), "files after");
}

#[test]
fn node_without_multi_memory_gets_a_clear_error() {
    if !have(Tool::Node20) || !have(Tool::Node22) {
        return;
    }
    let output = Command::new(node20().unwrap())
        .arg(project().join("node_modules/wasi-virt/bin/wasi-virt.js"))
        .arg("--version")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: wasi-virt's WebAssembly CLI needs multi-memory, which Node 20"),
        "{stderr}"
    );
    assert!(stderr.contains("use Node 22 or later"), "{stderr}");
}

#[test]
fn npx_runs_the_installed_package() {
    if !have(Tool::Node22) {
        return;
    }
    // `npx` finds `node` on PATH: Node 22's folder first, as after `nvm use 22`.
    let node_dir = node()
        .canonicalize()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(node_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let output = Command::new("npx")
        .args(["--offline", "--no-install", "wasi-virt", "--version"])
        .current_dir(project())
        .env("PATH", path)
        .output()
        .unwrap();
    let native = native_cli(project(), &["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&native.stdout),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success());
}

/// Runs `tests/node/npm-api.mjs` from inside the project (so that it
/// imports the installed package by its name) on `dir`.
fn api(dir: &Path) -> Value {
    let script = project().join("npm-api.mjs");
    fs::copy(node_project_dir().join("npm-api.mjs"), &script).unwrap();
    let output = Command::new(node()).arg(&script).arg(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "npm-api.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn the_api_writes_the_native_clis_bytes() {
    if !have(Tool::Node22) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo_folder(dir);
    fs::copy(
        wasm_example("vfs-demo", "wasm32-wasip1"),
        dir.join("guest.wasm"),
    )
    .unwrap();
    let shown = api(dir);
    // What the script did, with the CLI (a folder's own name is not in the
    // output: the API calls it `folder-1`).
    let run = |args: &[&str]| {
        let output = native_cli(dir, args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let args = demo_pack("out");
    run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for (api_file, cli_file) in [
        ("api-pack.wasm", "out.wasm"),
        ("api-pack.js", "out.js"),
        ("api-pack.d.ts", "out.d.ts"),
    ] {
        assert!(
            fs::read(dir.join(api_file)).unwrap() == fs::read(dir.join(cli_file)).unwrap(),
            "{api_file} differs from the CLI's {cli_file}"
        );
    }
    run(&["merge", "guest.wasm", "demo-app.wasm", "-o", "out.wasm"]);
    assert!(
        fs::read(dir.join("api-merge.wasm")).unwrap() == fs::read(dir.join("out.wasm")).unwrap()
    );
    fs::copy(dir.join("out.wasm"), dir.join("module.wasm")).unwrap();
    let inspect = run(&["inspect", "module.wasm"]);
    assert_eq!(
        shown["inspect"].as_str().unwrap(),
        String::from_utf8_lossy(&inspect.stdout)
    );
    assert_eq!(shown["inspectJsonImports"], Value::Array(vec![]));
    // A failure is a CliError with the CLI's exit code and message.
    fs::write(dir.join("app.wasm"), b"not wasm").unwrap();
    let native = native_cli(dir, &["pack", "app.wasm", "-o", "bad-out.wasm"]);
    let error = &shown["error"];
    assert_eq!(error["name"], "CliError");
    assert_eq!(error["exitCode"], 1);
    assert_eq!(
        error["stderr"].as_str().unwrap(),
        String::from_utf8_lossy(&native.stderr)
    );
    let first = String::from_utf8_lossy(&native.stderr)
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with(first.trim_start_matches("error: "))
    );
}

#[test]
fn the_packer_page_packs_in_chromium_as_the_cli_does() {
    if !have(Tool::Node22) || !have(Tool::Chromium) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("packer");
    copy_dir_all(&repo_root().join("examples/packer"), &page).unwrap();
    npm::install_package(&npm::build_package(&wasi_virt_bin()).unwrap(), &page).unwrap();
    let app = dir.path().join("demo-app.wasm");
    fs::copy(wasm_example("demo-app", "wasm32-wasip1"), &app).unwrap();
    let site = repo_root().join("examples/site");
    let out = dir.path().join("downloaded.wasm");
    let output = Command::new(node())
        .arg(node_project_dir().join("packer.mjs"))
        .args([&page, &app, &site])
        .args(["GREETING=hi\nEXIT_CODE=3", "a b"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let shown: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "packer.mjs printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(output.status.success(), "{shown:#}");
    assert_eq!(shown["errors"], Value::Array(vec![]), "{shown:#}");
    assert_eq!(shown["download"], "demo-app.packed.wasm");
    assert!(
        shown["chosen"].as_str().unwrap().contains("with 3 files"),
        "{shown:#}"
    );
    assert!(
        shown["report"].as_str().unwrap().contains("imports: none"),
        "{shown:#}"
    );
    let native = native_cli(
        dir.path(),
        &[
            "pack",
            "demo-app.wasm",
            "-o",
            "native.wasm",
            "--dir",
            &format!("/={}", site.display()),
            "--env",
            "GREETING=hi",
            "--env",
            "EXIT_CODE=3",
            "--",
            "a",
            "b",
        ],
    );
    assert!(native.status.success());
    assert!(
        fs::read(&out).unwrap() == fs::read(dir.path().join("native.wasm")).unwrap(),
        "the page's download differs from the CLI's output"
    );
}
