//! Bad inputs at build time: a corpus generated here (no binary blobs), each
//! merged with the real example guest (`vfs-demo`) or used as the guest, by
//! the `wasi-virt` binary. Every refusal must look the same to a user: exit
//! code 1, nothing on stdout, exactly one `error:` line that names the file
//! and the cause (then optionally `Caused by:` and indented causes), no
//! output file, no temporary file left, inputs unchanged, and no panic
//! message or backtrace.
//!
//! `cli/tests/cli.rs` checks the same promise on a small WAT guest for: a
//! file that is not wasm, a truncated target, a component target, a guest
//! without a manifest, an unplugged import, a wrong preview1 signature, an
//! output that is an input, a missing file; `tests/tests/merge.rs` for a few
//! of those with the real guest. This file adds the rest of the corpus.

use std::process::Command;
use std::time::{Duration, Instant};

use wasi_virt_tests::{wasi_virt_bin, wasm_example};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    Instruction as I, MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wasmparser::{Parser, Payload};

fn guest() -> Vec<u8> {
    std::fs::read(wasm_example("vfs-demo", "wasm32-wasip1")).unwrap()
}

fn app() -> Vec<u8> {
    std::fs::read(wasm_example("demo-app", "wasm32-wasip1")).unwrap()
}

/// What one `wasi-virt merge guest.wasm app.wasm -o out.wasm` did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The output, if one was written.
    output: Option<Vec<u8>>,
    /// Files left in the folder besides the inputs and the output.
    leftovers: Vec<String>,
    /// Whether both inputs still hold the bytes they were given.
    inputs_unchanged: bool,
}

/// Merges `guest` and `target`, written as `guest.wasm` and `app.wasm` in a
/// fresh folder.
fn merge(guest: &[u8], target: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (g, t, out) = (
        dir.path().join("guest.wasm"),
        dir.path().join("app.wasm"),
        dir.path().join("out.wasm"),
    );
    std::fs::write(&g, guest).unwrap();
    std::fs::write(&t, target).unwrap();
    let output = Command::new(wasi_virt_bin())
        .current_dir(dir.path())
        .args(["merge", "guest.wasm", "app.wasm", "-o", "out.wasm"])
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !["guest.wasm", "app.wasm", "out.wasm"].contains(&name.as_str()))
        .collect();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output: std::fs::read(&out).ok(),
        leftovers,
        inputs_unchanged: std::fs::read(&g).unwrap() == guest
            && std::fs::read(&t).unwrap() == target,
    }
}

impl Run {
    /// Everything wrong with this run as a refusal, or nothing.
    fn refusal_problems(&self, blamed: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.code != Some(1) {
            problems.push(format!("exit code {:?}, not 1", self.code));
        }
        if !self.stdout.is_empty() {
            problems.push(format!("stdout is not empty: {:?}", self.stdout));
        }
        if self.output.is_some() {
            problems.push("an output file was written".into());
        }
        if !self.leftovers.is_empty() {
            problems.push(format!("files left behind: {:?}", self.leftovers));
        }
        if !self.inputs_unchanged {
            problems.push("an input was changed".into());
        }
        for bad in ["panicked", "internal error", "backtrace", "RUST_BACKTRACE"] {
            if self.stderr.contains(bad) {
                problems.push(format!("stderr mentions `{bad}`"));
            }
        }
        let mut lines = self.stderr.lines();
        match lines.next() {
            Some(first) if first.starts_with("error: ") && first.contains(blamed) => {}
            first => problems.push(format!(
                "the first line is not `error: …` naming {blamed}: {first:?}"
            )),
        }
        for line in lines {
            let allowed = line.is_empty() || line == "Caused by:" || line.starts_with("    ");
            if !allowed {
                problems.push(format!("an unexpected line on stderr: {line:?}"));
            }
        }
        problems
    }

    /// The first line of stderr.
    fn error(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }
}

/// Merges and expects a refusal that blames `blamed` (`guest.wasm` or
/// `app.wasm`); returns the run for assertions on the message.
#[track_caller]
fn refused(guest: &[u8], target: &[u8], blamed: &str) -> Run {
    let run = merge(guest, target);
    let problems = run.refusal_problems(blamed);
    assert!(
        problems.is_empty(),
        "not a clean refusal: {problems:#?}\nstderr:\n{}",
        run.stderr
    );
    // What a person sees (`--nocapture` lists every refusal).
    eprintln!("{}", run.stderr.trim_end());
    run
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// The sections of `bytes`: each one's full range, header included, and
/// its name (`custom:<name>` for custom sections).
fn sections(bytes: &[u8]) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut start = 8;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.unwrap();
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let name = match &payload {
            Payload::CustomSection(c) => format!("custom:{}", c.name()),
            _ => format!("section {id}"),
        };
        let end = range.end as usize;
        out.push((start..end, name));
        start = end;
    }
    out
}

/// `bytes` with each custom section called `name` replaced by what `f`
/// makes of its data (dropped for `None`).
fn rewrite_custom(bytes: &[u8], name: &str, f: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut out = bytes[..8].to_vec();
    let customs: Vec<_> = Parser::new(0)
        .parse_all(bytes)
        .filter_map(|payload| match payload.unwrap() {
            Payload::CustomSection(c) if c.name() == name => {
                Some((c.range().end as usize, c.data()))
            }
            _ => None,
        })
        .collect();
    for (range, _) in sections(bytes) {
        match customs.iter().find(|(end, _)| *end == range.end) {
            Some((_, data)) => {
                if let Some(data) = f(data) {
                    let mut module = Module::new();
                    module.section(&wasm_encoder::CustomSection {
                        name: name.into(),
                        data: data.into(),
                    });
                    out.extend_from_slice(&module.finish()[8..]);
                }
            }
            None => out.extend_from_slice(&bytes[range]),
        }
    }
    out
}

#[test]
fn an_empty_file_is_refused() {
    let run = refused(&guest(), b"", "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm: not a WebAssembly module (it does not start with `\\0asm`)"
    );
    let run = refused(b"", &app(), "guest.wasm");
    assert_eq!(
        run.error(),
        "error: guest.wasm: not a WebAssembly module (it does not start with `\\0asm`)"
    );
}

#[test]
fn garbage_is_refused() {
    // Bytes from a fixed-seed generator, and the same after a valid header.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let run = refused(&guest(), &garbage, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm: not a WebAssembly module (it does not start with `\\0asm`)"
    );
    let mut headed = b"\0asm\x01\0\0\0".to_vec();
    headed.extend_from_slice(&garbage);
    let run = refused(&guest(), &headed, "app.wasm");
    assert_eq!(run.error(), "error: app.wasm: cannot read the module");
    assert!(run.stderr.contains("offset"), "{}", run.stderr);
    let run = refused(&headed, &app(), "guest.wasm");
    assert_eq!(run.error(), "error: guest.wasm: cannot read the module");
}

/// Cut at every section boundary of the example guest and program, and one
/// byte before each (inside the section). A cut inside a section is always
/// refused; a cut at a boundary leaves a shorter module that may still be a
/// complete, valid one (nothing in wasm says a data or custom section must
/// follow): that one may merge, but then its output must validate. Every failing cut is reported, not
/// just the first.
#[test]
fn a_module_truncated_at_any_section_boundary_is_refused() {
    let (guest, app) = (guest(), app());
    let mut failures = Vec::new();
    let mut accepted = Vec::new();
    for (role, bytes) in [("guest.wasm", &guest), ("app.wasm", &app)] {
        let mut cuts = vec![(0, "nothing".to_string()), (4, "the magic".into())];
        for (range, name) in sections(bytes) {
            cuts.push((range.start, format!("before {name}")));
            cuts.push((range.end - 1, format!("inside {name}")));
        }
        for (cut, what) in cuts {
            let prefix = &bytes[..cut];
            let (g, t) = if role == "guest.wasm" {
                (prefix, &app[..])
            } else {
                (&guest[..], prefix)
            };
            let run = merge(g, t);
            let valid_prefix = wasmparser::Validator::new().validate_all(prefix).is_ok();
            if run.code == Some(0) && valid_prefix {
                let output = run.output.as_deref().unwrap_or_default();
                match wasmparser::Validator::new().validate_all(output) {
                    Ok(_) => accepted.push(format!("{role} cut at {cut} ({what})")),
                    Err(e) => failures.push(format!(
                        "{role} cut at {cut} ({what}): merged into an invalid output: {e}"
                    )),
                }
                continue;
            }
            let problems = run.refusal_problems(role);
            if !problems.is_empty() {
                failures.push(format!(
                    "{role} cut at {cut} ({what}): {problems:?}\n    stderr: {}",
                    run.stderr.trim_end().replace('\n', "\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad cuts:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // What is left to accept: a prefix that is a complete module on its own
    // (the guest without its trailing custom sections; demo-app without its
    // data section, which it declares no count for), whose output validated.
    eprintln!("cuts that left a valid module, merged: {accepted:#?}");
}

#[test]
fn a_component_is_refused_as_guest_or_target() {
    let component = wat("(component)");
    let run = refused(&guest(), &component, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm is a component, not a core module (wasi-virt merges preview1 core modules)"
    );
    let run = refused(&component, &app(), "guest.wasm");
    assert_eq!(
        run.error(),
        "error: guest.wasm is a component, not a core module (wasi-virt merges preview1 core modules)"
    );
}

/// The real guest with its manifest section stripped.
#[test]
fn a_guest_without_its_manifest_is_refused() {
    let stripped = rewrite_custom(&guest(), "wasi-virt.manifest", |_| None);
    let run = refused(&stripped, &app(), "guest.wasm");
    assert_eq!(
        run.error(),
        "error: guest.wasm: not a wasi-virt guest: it has no `wasi-virt.manifest` section (build it with the wasi-virt macros)"
    );
}

/// The real guest with its manifest rewritten to another version.
#[test]
fn a_guest_with_a_manifest_of_another_version_is_refused() {
    let rewritten = rewrite_custom(&guest(), "wasi-virt.manifest", |data| {
        let text = String::from_utf8(data.to_vec()).unwrap();
        Some(text.replace("wasi-virt/1 ", "wasi-virt/2 ").into_bytes())
    });
    let run = refused(&rewritten, &app(), "guest.wasm");
    assert!(
        run.error()
            .starts_with("error: guest.wasm: the guest was built with manifest version 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_target_with_no_wasi_imports_is_refused() {
    let target = wat(r#"(module (memory (export "memory") 1) (func (export "_start")))"#);
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm imports no WASI functions: there is nothing to virtualize (is it a wasm32-wasip1 program?)"
    );
}

/// `cli.rs` covers a wrong arity; these are a right arity with a wrong
/// width, and a name preview1 does not have.
#[test]
fn a_wasi_import_with_the_wrong_signature_is_refused() {
    let target = wat(r#"(module
          (import "wasi_snapshot_preview1" "fd_seek" (func (param i32 i32 i32 i32) (result i32)))
          (memory 1) (func (export "_start")))"#);
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm imports wasi_snapshot_preview1::fd_seek with type (param i32 i32 i32 i32) (result i32), but preview1 defines (param i32 i64 i32 i32) (result i32)"
    );
    let target = wat(r#"(module
          (import "wasi_snapshot_preview1" "fd_frobnicate" (func (param i32) (result i32)))
          (memory 1) (func (export "_start")))"#);
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm imports wasi_snapshot_preview1::fd_frobnicate, which is not a preview1 function"
    );
}

#[test]
fn a_target_that_imports_its_memory_is_refused() {
    let target = wat(r#"(module
          (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
          (import "env" "memory" (memory 1))
          (func (export "_start")))"#);
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm imports a memory (env::memory); targets that import memories, tables, globals or tags are not supported yet"
    );
}

#[test]
fn a_target_that_imports_a_table_is_refused() {
    let target = wat(r#"(module
          (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
          (import "env" "__indirect_function_table" (table 1 funcref))
          (memory 1)
          (func (export "_start")))"#);
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(
        run.error(),
        "error: app.wasm imports a table (env::__indirect_function_table); targets that import memories, tables, globals or tags are not supported yet"
    );
}

/// A module that exports one name twice is invalid. The target's exports
/// are not part of the output (the guest decides its API), so validating the
/// output alone would not notice: the target is refused when it is read.
#[test]
fn a_target_with_duplicate_export_names_is_refused() {
    let target = target_with(|exports| {
        exports.export("_start", ExportKind::Func, 1);
        exports.export("_start", ExportKind::Func, 1);
    });
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(run.error(), "error: app.wasm: cannot read the module");
    assert!(
        run.stderr.contains("duplicate export name `_start`"),
        "{}",
        run.stderr
    );
}

/// An export whose index is past the functions the module has.
#[test]
fn a_target_exporting_a_function_it_does_not_have_is_refused() {
    let target = target_with(|exports| {
        exports.export("_start", ExportKind::Func, 99);
    });
    let run = refused(&guest(), &target, "app.wasm");
    assert_eq!(run.error(), "error: app.wasm: cannot read the module");
    assert!(
        run.stderr
            .contains("export `_start` is function 99, but the module has 2 functions"),
        "{}",
        run.stderr
    );
}

/// A small target (one WASI import, one memory, `_start` = function 1)
/// whose export section `exports` writes.
fn target_with(exports: impl FnOnce(&mut ExportSection)) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    types.ty().function([], []);
    let mut imports = ImportSection::new();
    imports.import(
        "wasi_snapshot_preview1",
        "sched_yield",
        EntityType::Function(0),
    );
    let mut functions = FunctionSection::new();
    functions.function(1);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut export_section = ExportSection::new();
    exports(&mut export_section);
    let mut code = CodeSection::new();
    let mut start = Function::new([]);
    start.instruction(&I::End);
    code.function(&start);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&export_section)
        .section(&code);
    module.finish()
}

/// A preview1 program of `n` small functions that call each other, the last
/// one's body replaced by `last` when given.
fn big_target(n: u32, last: Option<&[I]>) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([], []);
    let mut imports = ImportSection::new();
    imports.import(
        "wasi_snapshot_preview1",
        "fd_write",
        EntityType::Function(0),
    );
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    for i in 0..n {
        functions.function(1);
        let mut f = Function::new([]);
        match last {
            Some(body) if i == n - 1 => body.iter().for_each(|ins| {
                f.instruction(ins);
            }),
            _ => {
                f.instruction(&I::LocalGet(0))
                    .instruction(&I::I32Const(i as i32))
                    .instruction(&I::I32Add);
                if i > 0 {
                    f.instruction(&I::Call(i)); // the function before
                }
            }
        }
        f.instruction(&I::End);
        code.function(&f);
    }
    functions.function(2);
    let mut start = Function::new([]);
    start
        .instruction(&I::I32Const(1))
        .instruction(&I::I32Const(0))
        .instruction(&I::I32Const(0))
        .instruction(&I::I32Const(0))
        .instruction(&I::Call(0))
        .instruction(&I::Drop)
        .instruction(&I::End);
    code.function(&start);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("_start", ExportKind::Func, n + 1);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// 100 000 functions: the merge is not slowed to a crawl by the size, and a
/// bad body at the very end is still found and blamed on the target.
#[test]
fn a_very_large_module_merges_or_is_refused_quickly() {
    const N: u32 = 100_000;
    const LIMIT: Duration = Duration::from_secs(60);
    let guest = guest();
    let good = big_target(N, None);
    let started = Instant::now();
    let run = merge(&guest, &good);
    let took = started.elapsed();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let output = run.output.expect("an output");
    wasmparser::Validator::new()
        .validate_all(&output)
        .expect("the output validates");
    assert!(took < LIMIT, "merging {N} functions took {took:?}");

    let bad = big_target(N, Some(&[I::I64Const(0)]));
    let started = Instant::now();
    let run = refused(&guest, &bad, "app.wasm");
    let took = started.elapsed();
    assert_eq!(run.error(), "error: app.wasm: not a valid module");
    assert!(run.stderr.contains("type mismatch"), "{}", run.stderr);
    assert!(took < LIMIT, "refusing {N} functions took {took:?}");
}
