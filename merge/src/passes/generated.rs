//! Pass 6b: the bodies of functions the merge generates in place of imports
//! that no input answers (`Role::Generated`).
//!
//! - [`Generated::Trap`]: an import that will never be called becomes a
//!   function that traps (`unreachable`), whatever its type. `pack` uses it
//!   for `--stub-imports MODULE`, for the host passthrough its configuration
//!   does not use (so that an all-virtual output imports nothing), and for
//!   the target export a program lacks (a reactor has no `_start`). A trap,
//!   not a zero: a stub that is called after all must not go unnoticed.
//! - the `wasi-virt:pack` functions of `pack`'s default guest, each one bulk
//!   instruction on the two data segments `pack` appends (the config image
//!   and the blob of file contents, see `wasi_virt_abi::pack`): a file's
//!   bytes go from the blob into the target's memory with one
//!   `memory.init`, at the moment the program reads them.

use super::layout::{FuncKind, Plan};
use crate::types::Generated;
use wasm_encoder::{Function, Instruction};

/// The body of one generated function. `config` and `blob` are the output
/// indices of `pack`'s data segments (unused by a trap).
pub fn body(
    kind: Generated,
    target_memory: u32,
    guest_memory: u32,
    config: (u32, u32),
    blob: u32,
) -> Function {
    let mut f = Function::new([]);
    let get = |f: &mut Function, locals: &[u32]| {
        for &l in locals {
            f.instruction(&Instruction::LocalGet(l));
        }
    };
    let (config_segment, config_len) = config;
    match kind {
        Generated::Trap => {
            f.instruction(&Instruction::Unreachable);
        }
        Generated::ConfigLen => {
            f.instruction(&Instruction::I32Const(config_len as i32));
        }
        Generated::ConfigRead => {
            get(&mut f, &[0]);
            f.instruction(&Instruction::I32Const(0));
            f.instruction(&Instruction::I32Const(config_len as i32));
            f.instruction(&Instruction::MemoryInit {
                mem: guest_memory,
                data_index: config_segment,
            });
        }
        Generated::BlobToTarget | Generated::BlobToGuest => {
            get(&mut f, &[0, 1, 2]);
            let mem = if kind == Generated::BlobToTarget {
                target_memory
            } else {
                guest_memory
            };
            f.instruction(&Instruction::MemoryInit {
                mem,
                data_index: blob,
            });
        }
    }
    f.instruction(&Instruction::End);
    f
}

/// Writes the body of every function generated in place of an import.
pub fn run(plan: &mut Plan) {
    let first = plan.pack_data_index();
    let config_len = plan.pack.as_ref().map_or(0, |p| p.config.len() as u32);
    for f in &mut plan.funcs {
        if let FuncKind::Generated {
            kind,
            target_memory,
            guest_memory,
        } = f.kind
        {
            f.body = Some(body(
                kind,
                target_memory,
                guest_memory,
                (first, config_len),
                first + 1,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated bodies over two memories and two passive segments, run in
    /// wasmi: the bytes land in the right memories, from the right segments.
    #[test]
    fn pack_bodies_init_the_right_memories_from_the_right_segments() {
        use wasm_encoder::{
            CodeSection, DataCountSection, DataSection, ExportKind, ExportSection, FunctionSection,
            MemorySection, MemoryType, Module, TypeSection, ValType as V,
        };
        let mut types = TypeSection::new();
        types.ty().function([], [V::I32]);
        types.ty().function([V::I32], []);
        types.ty().function([V::I32; 3], []);
        types.ty().function([], []);
        let kinds = [
            ("config_len", 0, Generated::ConfigLen),
            ("config_read", 1, Generated::ConfigRead),
            ("to_target", 2, Generated::BlobToTarget),
            ("to_guest", 2, Generated::BlobToGuest),
            ("trap", 3, Generated::Trap),
        ];
        let (mut funcs, mut code, mut exports) = (
            FunctionSection::new(),
            CodeSection::new(),
            ExportSection::new(),
        );
        for (i, (name, ty, kind)) in kinds.iter().enumerate() {
            funcs.function(*ty);
            code.function(&body(*kind, 0, 1, (0, 6), 1));
            exports.export(name, ExportKind::Func, i as u32);
        }
        exports.export("target", ExportKind::Memory, 0);
        exports.export("guest", ExportKind::Memory, 1);
        let mut memories = MemorySection::new();
        let mem = MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        };
        memories.memory(mem).memory(mem);
        let mut data = DataSection::new();
        data.passive(b"CONFIG".iter().copied());
        data.passive(b"0123456789".iter().copied());
        let mut module = Module::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&memories)
            .section(&exports)
            .section(&DataCountSection { count: 2 })
            .section(&code)
            .section(&data);
        let bytes = module.finish();
        wasmparser::Validator::new().validate_all(&bytes).unwrap();

        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let len = instance
            .get_typed_func::<(), i32>(&store, "config_len")
            .unwrap();
        assert_eq!(len.call(&mut store, ()).unwrap(), 6);
        let read = instance
            .get_typed_func::<i32, ()>(&store, "config_read")
            .unwrap();
        read.call(&mut store, 100).unwrap();
        let copy = |store: &mut wasmi::Store<()>, name: &str, args: (i32, i32, i32)| {
            instance
                .get_typed_func::<(i32, i32, i32), ()>(&*store, name)
                .unwrap()
                .call(store, args)
        };
        copy(&mut store, "to_target", (10, 2, 3)).unwrap();
        copy(&mut store, "to_guest", (20, 7, 3)).unwrap();
        assert!(
            copy(&mut store, "to_target", (0, 8, 3)).is_err(),
            "past the blob's end traps"
        );
        let target = instance.get_memory(&store, "target").unwrap();
        let guest = instance.get_memory(&store, "guest").unwrap();
        assert_eq!(&guest.data(&store)[100..106], b"CONFIG");
        assert_eq!(&target.data(&store)[10..13], b"234");
        assert_eq!(&guest.data(&store)[20..23], b"789");
        assert_eq!(&target.data(&store)[100..106], &[0; 6]);
        let trap = instance.get_typed_func::<(), ()>(&store, "trap").unwrap();
        assert!(trap.call(&mut store, ()).is_err());
    }
}
