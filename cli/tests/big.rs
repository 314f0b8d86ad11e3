//! How long a merge with a large target takes: a generated target of 100 000
//! functions (about 16 MB, ruby.wasm's size) through the release binary.
//!
//! `cargo test --release -p wasi-virt-cli --test big -- --ignored --nocapture`

use std::process::Command;
use std::time::Instant;

use wasm_encoder::{
    CodeSection, DataSection, ElementSection, Elements, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction as I, MemArg,
    MemorySection, MemoryType, Module, TableSection, TableType, TypeSection, ValType,
};

/// A preview1 program with `n` functions that load, store, branch and call
/// each other, one in eight also calling `fd_write`.
fn big_target(n: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 4], [ValType::I32]); // 0: fd_write
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]); // 1: work
    types.ty().function([], []); // 2: _start
    let mut imports = ImportSection::new();
    imports.import(
        "wasi_snapshot_preview1",
        "fd_write",
        wasm_encoder::EntityType::Function(0),
    );
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mem = |offset| MemArg {
        offset,
        align: 2,
        target: Default::default(),
        ordering: None,
    };
    for i in 0..n {
        funcs.function(1);
        let mut f = Function::new([(3, ValType::I32), (1, ValType::I64)]);
        let callee = 1 + (i * 7919 + 13) % n;
        for round in 0..6u64 {
            f.instruction(&I::LocalGet(0))
                .instruction(&I::I32Load(mem(round * 8)))
                .instruction(&I::LocalGet(1))
                .instruction(&I::I32Add)
                .instruction(&I::LocalTee(2))
                .instruction(&I::GlobalGet(0))
                .instruction(&I::I32Xor)
                .instruction(&I::LocalSet(3))
                .instruction(&I::LocalGet(0))
                .instruction(&I::LocalGet(3))
                .instruction(&I::I32Store(mem(round * 8 + 4)))
                .instruction(&I::LocalGet(2))
                .instruction(&I::I64ExtendI32U)
                .instruction(&I::I64Const(0x1234_5678_9abc))
                .instruction(&I::I64Mul)
                .instruction(&I::LocalSet(5));
        }
        f.instruction(&I::LocalGet(1))
            .instruction(&I::I32Const(3))
            .instruction(&I::I32GtU)
            .instruction(&I::If(wasm_encoder::BlockType::Empty))
            .instruction(&I::LocalGet(0))
            .instruction(&I::LocalGet(1))
            .instruction(&I::I32Const(1))
            .instruction(&I::I32Sub)
            .instruction(&I::Call(callee))
            .instruction(&I::LocalSet(4))
            .instruction(&I::End);
        if i % 8 == 0 {
            f.instruction(&I::I32Const(1))
                .instruction(&I::I32Const(0))
                .instruction(&I::I32Const(1))
                .instruction(&I::I32Const(64))
                .instruction(&I::Call(0))
                .instruction(&I::Drop);
        }
        f.instruction(&I::LocalGet(0))
            .instruction(&I::LocalGet(1))
            .instruction(&I::LocalGet(1))
            .instruction(&I::I32Const(2))
            .instruction(&I::I32And)
            .instruction(&I::CallIndirect {
                type_index: 1,
                table_index: 0,
            })
            .instruction(&I::LocalGet(4))
            .instruction(&I::I32Add)
            .instruction(&I::End);
        code.function(&f);
    }
    funcs.function(2);
    let mut start = Function::new([]);
    start
        .instruction(&I::I32Const(0))
        .instruction(&I::I32Const(10))
        .instruction(&I::Call(1));
    start.instruction(&I::Drop).instruction(&I::End);
    code.function(&start);

    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: wasm_encoder::RefType::FUNCREF,
        minimum: 4,
        maximum: None,
        table64: false,
        shared: false,
    });
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 17,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &wasm_encoder::ConstExpr::i32_const(1 << 20),
    );
    let mut exports = ExportSection::new();
    exports.export("_start", ExportKind::Func, n + 1);
    exports.export("memory", ExportKind::Memory, 0);
    let mut elements = ElementSection::new();
    elements.active(
        Some(0),
        &wasm_encoder::ConstExpr::i32_const(0),
        Elements::Functions([1, 2, 3, 4][..].into()),
    );
    let mut data = DataSection::new();
    data.active(
        0,
        &wasm_encoder::ConstExpr::i32_const(1024),
        vec![7u8; 1 << 20],
    );

    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&tables)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&elements)
        .section(&code)
        .section(&data);
    module.finish()
}

const GUEST: &str = r#"(module
  (@custom "wasi-virt.manifest" "wasi-virt/1 target app\nwasi-virt/1 plug app fd_write\n")
  (import "wasi-virt:bridge/app" "read" (func $read (param i32 i32 i32)))
  (import "wasi-virt:target/app" "_start" (func $start))
  (memory (export "memory") 1)
  (func (export "__wasi_virt/plug/app/fd_write") (param i32 i32 i32 i32) (result i32)
    (call $read (i32.const 0) (local.get 1) (i32.const 8))
    (i32.const 0))
  (func (export "run") (call $start)))"#;

/// The same guest with a host passthrough import, which keeps the target
/// from keeping its indices: the slow path, a full re-encode.
fn passthrough_guest() -> String {
    GUEST.replacen(
        "(import",
        r#"(import "wasi-virt:passthrough" "sched_yield" (func (result i32))) (import"#,
        1,
    )
}

fn time_merge(guest: &str, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let target = big_target(60_000);
    std::fs::write(dir.path().join("app.wasm"), &target).unwrap();
    std::fs::write(dir.path().join("vfs.wasm"), wat::parse_str(guest).unwrap()).unwrap();
    wasmparser::Validator::new().validate_all(&target).unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_wasi-virt"))
            .args(["merge", "vfs.wasm", "app.wasm", "-o", "out.wasm", "-v"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        times.push(started.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    times.sort_by(f64::total_cmp);
    eprintln!(
        "{label}: target {:.1} MB: best {:.3} s, median {:.3} s (wall, whole process)",
        target.len() as f64 / 1e6,
        times[0],
        times[times.len() / 2]
    );
}

#[test]
#[ignore = "a timing run; use --release --ignored --nocapture"]
fn merge_a_16_mb_target() {
    time_merge(GUEST, "fast path (target copied as is)");
}

#[test]
#[ignore = "a timing run; use --release --ignored --nocapture"]
fn merge_a_16_mb_target_with_passthrough() {
    time_merge(&passthrough_guest(), "slow path (target re-encoded)");
}
