//! The functions the pass adds: `$grow_k` for every memory, which grows
//! the one memory and moves the regions placed after `k` up, and
//! `wasi_virt_memory_base`, which says where the exported memory starts.

use wasm_encoder::{CodeSection, Function, Instruction as I, ValType};

use super::layout::{Layout, MAX_PAGES};

/// `$grow_k` for every memory, then `wasi_virt_memory_base`.
pub(super) fn add_functions(layout: &Layout, code: &mut CodeSection) {
    for k in 0..layout.regions.len() {
        code.function(&grow_function(layout, k));
    }
    let mut base = Function::new([]);
    match layout.regions[layout.exported_memory].base {
        Some(g) => base.instruction(&I::GlobalGet(g)),
        None => base.instruction(&I::I32Const(0)),
    };
    base.instruction(&I::End);
    code.function(&base);
}

/// `(delta: i32) -> i32`: memory `k` grows by `delta` pages, or -1.
fn grow_function(layout: &Layout, k: usize) -> Function {
    let r = layout.regions[k];
    // Locals: 0 = delta, 1 = old size, 2 = start of what moves, 3 = bytes added.
    let mut f = Function::new([(3, ValType::I32)]);
    let max = r.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES) as i32;
    let fail = |f: &mut Function| {
        f.instruction(&I::If(wasm_encoder::BlockType::Empty));
        f.instruction(&I::I32Const(-1));
        f.instruction(&I::Return);
        f.instruction(&I::End);
    };
    f.instruction(&I::GlobalGet(r.size));
    f.instruction(&I::LocalSet(1));
    // delta > max - old (unsigned: a negative delta is huge)
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Const(max));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32GtU);
    fail(&mut f);
    // The one memory must stay within MAX_PAGES too.
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Const(MAX_PAGES as i32));
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32GtU);
    fail(&mut f);
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::I32Eq);
    fail(&mut f);
    let position = layout
        .order
        .iter()
        .position(|&m| m == k)
        .expect("invariant: every memory is placed");
    let later = &layout.order[position + 1..];
    if let Some(&next) = later.first() {
        let next_base = layout.regions[next]
            .base
            .expect("invariant: every memory but the first has a base");
        // memory.copy(start + bytes, start, old_total - start)
        f.instruction(&I::GlobalGet(next_base));
        f.instruction(&I::LocalTee(2));
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::I32Const(16));
        f.instruction(&I::I32Shl);
        f.instruction(&I::LocalTee(3));
        f.instruction(&I::I32Add);
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::MemorySize(0));
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::I32Sub);
        f.instruction(&I::I32Const(16));
        f.instruction(&I::I32Shl);
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Sub);
        f.instruction(&I::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        });
        // The pages memory k gained held what moved: zero them.
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Const(0));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::MemoryFill(0));
        for &m in later {
            let g = layout.regions[m]
                .base
                .expect("invariant: every memory but the first has a base");
            f.instruction(&I::GlobalGet(g));
            f.instruction(&I::LocalGet(3));
            f.instruction(&I::I32Add);
            f.instruction(&I::GlobalSet(g));
        }
    }
    f.instruction(&I::GlobalGet(r.size));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Add);
    f.instruction(&I::GlobalSet(r.size));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::End);
    f
}
