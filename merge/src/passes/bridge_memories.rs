//! Pass 6: the bodies of the bridge functions that replace the guest's
//! `wasi-virt:bridge/<target>` imports.
//!
//! Each is one bulk instruction between the target's memory and the guest's:
//! an iovec array or a file's bytes cross in one `memory.copy`, never byte by
//! byte. The guest checks bounds before it calls, so the bodies check
//! nothing; an out-of-bounds copy would trap, which is the right failure for
//! a guest bug.
//!
//! Except small ones: most copies are one result (a `u32` or a `u64`
//! written back, a 24-byte fdstat, a 64-byte filestat) or one iovec (8
//! bytes) read, and an engine runs a `memory.copy` as a call into its
//! runtime (about 10 ns in V8, against under 1 ns for a load and a store).
//! So copies of exactly 4 or 8 bytes are one `i32`/`i64` load and store,
//! and others up to 64 bytes (a path, an fdstat, a filestat) loops of
//! `i64` and then byte ones.

use super::layout::{FuncKind, Plan};
use crate::types::BridgeOp;
use wasm_encoder::{Function, Instruction};

/// The body of one bridge function, given the output's index of the
/// target's memory and of the guest's.
pub fn body(op: BridgeOp, target_memory: u32, guest_memory: u32) -> Function {
    // One local: the offset of the word loop in `small_copies`.
    let mut f = Function::new([(1, wasm_encoder::ValType::I32)]);
    let args = [
        Instruction::LocalGet(0),
        Instruction::LocalGet(1),
        Instruction::LocalGet(2),
    ];
    match op {
        BridgeOp::Size => {
            f.instruction(&Instruction::MemorySize(target_memory));
        }
        BridgeOp::Read => {
            small_copies(&mut f, guest_memory, target_memory);
            args.iter().for_each(|i| {
                f.instruction(i);
            });
            f.instruction(&Instruction::MemoryCopy {
                dst_mem: guest_memory,
                src_mem: target_memory,
            });
        }
        BridgeOp::Write => {
            small_copies(&mut f, target_memory, guest_memory);
            args.iter().for_each(|i| {
                f.instruction(i);
            });
            f.instruction(&Instruction::MemoryCopy {
                dst_mem: target_memory,
                src_mem: guest_memory,
            });
        }
        BridgeOp::Fill => {
            args.iter().for_each(|i| {
                f.instruction(i);
            });
            f.instruction(&Instruction::MemoryFill(target_memory));
        }
    }
    f.instruction(&Instruction::End);
    f
}

/// The largest copy [`small_copies`] makes word by word.
const WORD_LOOP_MAX: i32 = 64;

/// `(dst, src, len)`: when `len` is 4 or 8, one load from `src_mem` and one
/// store to `dst_mem`; up to [`WORD_LOOP_MAX`] bytes, a loop of 8-byte
/// loads and stores and one of single bytes for the rest (local 3 the
/// offset); then return. Otherwise fall through to the bulk copy. The two
/// memories are distinct (or, in one memory, distinct regions), so the
/// order of the words does not matter.
fn small_copies(f: &mut Function, dst_mem: u32, src_mem: u32) {
    use wasm_encoder::{BlockType, MemArg, MemArgTarget};
    let arg = |memory| MemArg {
        offset: 0,
        align: 0,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    };
    let size = |f: &mut Function, bytes: i32, load: Instruction, store: Instruction| {
        f.instruction(&Instruction::LocalGet(2));
        f.instruction(&Instruction::I32Const(bytes));
        f.instruction(&Instruction::I32Eq);
        f.instruction(&Instruction::If(BlockType::Empty));
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::LocalGet(1));
        f.instruction(&load);
        f.instruction(&store);
        f.instruction(&Instruction::Return);
        f.instruction(&Instruction::End);
    };
    size(
        f,
        8,
        Instruction::I64Load(arg(src_mem)),
        Instruction::I64Store(arg(dst_mem)),
    );
    size(
        f,
        4,
        Instruction::I32Load(arg(src_mem)),
        Instruction::I32Store(arg(dst_mem)),
    );
    // if len <= 64: words while 8 bytes are left, then bytes; return.
    let at = |f: &mut Function, base: u32| {
        f.instruction(&Instruction::LocalGet(base));
        f.instruction(&Instruction::LocalGet(3));
        f.instruction(&Instruction::I32Add);
    };
    let step = |f: &mut Function, by: i32| {
        f.instruction(&Instruction::LocalGet(3));
        f.instruction(&Instruction::I32Const(by));
        f.instruction(&Instruction::I32Add);
        f.instruction(&Instruction::LocalSet(3));
    };
    f.instruction(&Instruction::LocalGet(2));
    f.instruction(&Instruction::I32Const(WORD_LOOP_MAX));
    f.instruction(&Instruction::I32LeU);
    f.instruction(&Instruction::If(BlockType::Empty));
    for (width, load, store) in [
        (
            8,
            Instruction::I64Load(arg(src_mem)),
            Instruction::I64Store(arg(dst_mem)),
        ),
        (
            1,
            Instruction::I32Load8U(arg(src_mem)),
            Instruction::I32Store8(arg(dst_mem)),
        ),
    ] {
        // block { loop { br_if 1 (len - i < width); copy; i += width; br 0 } }
        f.instruction(&Instruction::Block(BlockType::Empty));
        f.instruction(&Instruction::Loop(BlockType::Empty));
        f.instruction(&Instruction::LocalGet(2));
        f.instruction(&Instruction::LocalGet(3));
        f.instruction(&Instruction::I32Sub);
        f.instruction(&Instruction::I32Const(width));
        f.instruction(&Instruction::I32LtU);
        f.instruction(&Instruction::BrIf(1));
        at(f, 0);
        at(f, 1);
        f.instruction(&load);
        f.instruction(&store);
        step(f, width);
        f.instruction(&Instruction::Br(0));
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::End);
    }
    f.instruction(&Instruction::Return);
    f.instruction(&Instruction::End);
}

/// The bodies of every bridge function of the plan, in the plan's order.
/// Writes the body of every bridge function of the plan.
pub fn run(plan: &mut Plan) {
    for f in &mut plan.funcs {
        if let FuncKind::Bridge {
            op,
            target_memory,
            guest_memory,
        } = f.kind
        {
            f.body = Some(body(op, target_memory, guest_memory));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, FunctionSection, MemorySection, MemoryType, Module, TypeSection,
    };

    /// A module of two memories with one bridge function of each kind,
    /// run in wasmi: the copies must cross between the right memories.
    #[test]
    fn bodies_copy_between_the_right_memories() {
        let mut types = TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        types.ty().function([wasm_encoder::ValType::I32; 3], []);
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        for (ty, op) in [
            (0, BridgeOp::Size),
            (1, BridgeOp::Read),
            (1, BridgeOp::Write),
            (1, BridgeOp::Fill),
        ] {
            funcs.function(ty);
            code.function(&body(op, 0, 1));
        }
        let mut memories = MemorySection::new();
        let mem = MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        };
        memories.memory(mem);
        memories.memory(MemoryType { minimum: 2, ..mem });
        let mut exports = wasm_encoder::ExportSection::new();
        for (i, name) in ["size", "read", "write", "fill"].iter().enumerate() {
            exports.export(name, wasm_encoder::ExportKind::Func, i as u32);
        }
        exports.export("target", wasm_encoder::ExportKind::Memory, 0);
        exports.export("guest", wasm_encoder::ExportKind::Memory, 1);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&memories)
            .section(&exports)
            .section(&code);
        let bytes = module.finish();
        wasmparser::Validator::new().validate_all(&bytes).unwrap();

        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let target = instance.get_memory(&store, "target").unwrap();
        let guest = instance.get_memory(&store, "guest").unwrap();
        let call3 = |store: &mut wasmi::Store<()>, name: &str, a: i32, b: i32, c: i32| {
            let f = instance
                .get_typed_func::<(i32, i32, i32), ()>(&*store, name)
                .unwrap();
            f.call(store, (a, b, c)).unwrap();
        };
        let size = instance.get_typed_func::<(), i32>(&store, "size").unwrap();
        assert_eq!(
            size.call(&mut store, ()).unwrap(),
            1,
            "size is the target's, not the guest's"
        );

        target.write(&mut store, 100, b"hello").unwrap();
        call3(&mut store, "read", 70_000, 100, 5);
        assert_eq!(&guest.data(&store)[70_000..70_005], b"hello");

        guest.write(&mut store, 8, b"world").unwrap();
        call3(&mut store, "write", 200, 8, 5);
        assert_eq!(&target.data(&store)[200..205], b"world");

        // 4 and 8 bytes take the load/store path, unaligned too.
        target.write(&mut store, 401, b"12345678").unwrap();
        call3(&mut store, "read", 70_101, 401, 8);
        call3(&mut store, "read", 70_201, 401, 4);
        assert_eq!(&guest.data(&store)[70_101..70_110], b"12345678\0");
        assert_eq!(&guest.data(&store)[70_201..70_206], b"1234\0");
        guest.write(&mut store, 501, b"abcdefgh").unwrap();
        call3(&mut store, "write", 601, 501, 8);
        call3(&mut store, "write", 701, 501, 4);
        assert_eq!(&target.data(&store)[601..610], b"abcdefgh\0");
        assert_eq!(&target.data(&store)[701..706], b"abcd\0");
        assert_eq!(&guest.data(&store)[601..610], &[0; 9], "the right memory");

        // Up to 64 bytes the loops (words, then bytes); 72 the bulk copy.
        let bytes: Vec<u8> = (1..=80).collect();
        for len in [1, 7, 9, 16, 24, 63, 64, 20, 72] {
            target.write(&mut store, 1001, &bytes).unwrap();
            call3(&mut store, "read", 71_001, 1001, len);
            let got = &guest.data(&store)[71_001..71_001 + len as usize + 1];
            assert_eq!(&got[..len as usize], &bytes[..len as usize], "read {len}");
            assert_eq!(got[len as usize], 0, "read {len} stops at its length");
            guest.write(&mut store, 71_001, &[0; 81]).unwrap();

            guest.write(&mut store, 2001, &bytes).unwrap();
            call3(&mut store, "write", 3001, 2001, len);
            let got = &target.data(&store)[3001..3001 + len as usize + 1];
            assert_eq!(&got[..len as usize], &bytes[..len as usize], "write {len}");
            assert_eq!(got[len as usize], 0, "write {len} stops at its length");
            target.write(&mut store, 3001, &[0; 81]).unwrap();
        }

        call3(&mut store, "fill", 300, 0x2a, 4);
        assert_eq!(&target.data(&store)[300..304], &[0x2a; 4]);
        assert_eq!(&guest.data(&store)[300..304], &[0; 4]);
    }
}
