//! Pass 6b: threads, for a target built for `wasm32-wasip1-threads` (it
//! imports a shared memory and `wasi.thread-spawn`, and exports
//! `wasi_thread_start`).
//!
//! A wasi-threads host runs one instance of the output per thread, each
//! importing the same memories; a memory a module *defines* is a fresh copy
//! in every instance. So that every thread sees one filesystem, one fd
//! table, one stdout, the guest's memory becomes a shared memory the output
//! imports too ([`GUEST_MEMORY`]), one page larger than the guest's: that
//! page, which the guest never sees, holds the lock and the once-flag below.
//! The guest's active data segments become passive, applied once by the
//! first instance (a once-flag, as wasm-ld does for a threads module).
//!
//! The guest is not built for threads, and must not be entered by two
//! threads at once: every way into guest code takes one process-wide lock
//! (`memory.atomic.wait32`/`notify` on a word of that page), every way out
//! releases it. In: a target's WASI call (its plug), the host's call of a
//! guest export. Out: the guest's call of a target export, and its real
//! sleep in the host (`poll_oneoff` under `--clock host`), so that a thread
//! that sleeps does not hold the others up. A thread's
//! guest frames stay live while it is out, so each thread has a guest stack
//! of its own: `wasi_thread_start`, which the output exports, takes
//! [`STACK_PAGES`] pages of the guest's memory for the new thread's guest
//! stack (or the stack of a thread that has ended) before it enters the
//! target's, and lists it as free when the thread ends. Per instance stay what must: the
//! stack pointer, the run control globals.

use anyhow::{Result, bail};
use wasm_encoder::{BlockType, Function, Instruction, MemArg, MemArgTarget, MemoryType};
use wasmparser::{DataKind, FuncType, Operator};

use super::layout::{FuncKind, Plan};
use crate::module::Module;
use crate::types::{Origin, Role};

/// The import of the guest's shared memory: (module, name).
pub const GUEST_MEMORY: (&str, &str) = ("wasi-virt", "guest-memory");

/// The target's export the host calls in each new thread.
pub const THREAD_START: &str = "wasi_thread_start";

/// The export a host calls once every thread of a run has ended, trapped
/// or not, to free the lock around the guest: a thread that trapped inside
/// guest code (an exit under `--exit virtual` traps there) never released
/// it, and the host still reads the output through the guest.
pub const RELEASE_LOCK: &str = "wasi_virt_release_lock";

/// A guest stack per spawned thread: 4 pages (256 KiB).
pub const STACK_PAGES: u32 = 4;

/// The guest memory's maximum when the guest declares none (1 GiB, as
/// wasm-ld gives a threads module): a shared memory must have one.
const DEFAULT_MAXIMUM: u64 = 16384;

/// What this pass decided, for `emit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threads {
    /// The guest's memory as the output imports it.
    pub guest_memory: MemoryType,
    /// Exports the output adds: (name, function index).
    pub exports: Vec<(String, u32)>,
    /// Guest function exports that go through a wrapper that takes the
    /// lock: (the guest's function index, the wrapper's output index).
    pub entries: Vec<(u32, u32)>,
}

impl Threads {
    /// The wrapper of guest function `func`, if it has one.
    pub fn entry(&self, func: u32) -> Option<u32> {
        self.entries.iter().find(|e| e.0 == func).map(|e| e.1)
    }
}

/// The addresses this pass keeps in the guest memory's extra page.
#[derive(Clone, Copy)]
struct Words {
    /// The guest memory's output index.
    memory: u32,
    /// The lock: 0 free, 1 held.
    lock: u32,
    /// The once-flag of the guest's data: 0, 1 being applied, 2 applied.
    once: u32,
    /// How many spawned threads run, under a thread limit.
    running: u32,
    /// How many guest stacks of ended threads wait for a new thread, and
    /// (from the next word) their first pages.
    free_stacks: u32,
    /// The function that takes the lock.
    lock_fn: u32,
    /// The function that releases it.
    unlock_fn: u32,
}

/// Makes the output a threads output when the first target is a threads
/// program; `None` (and nothing changed) otherwise.
pub fn run(plan: &mut Plan, modules: &[&Module], roles: &[Vec<Role>]) -> Result<Option<Threads>> {
    if !modules.first().is_some_and(|m| m.is_threads()) {
        return Ok(None);
    }
    let guest = plan.guest();
    let g = modules[guest];
    let Some(memory) = g.memories.first() else {
        bail!("{}: a guest for a threads program needs a memory", g.name);
    };
    if g.start.is_some() {
        bail!(
            "{}: a guest with a start function cannot run with a threads program (it would run again in every thread)",
            g.name
        );
    }
    let reserved = u32::try_from(memory.initial * 65536)
        .map_err(|_| anyhow::anyhow!("{}: the guest's memory is too large", g.name))?;
    let words = Words {
        memory: plan.maps[guest].memories[0],
        lock: reserved,
        once: reserved + 4,
        running: reserved + 8,
        free_stacks: reserved + 12,
        lock_fn: 0,
        unlock_fn: 0,
    };
    let words = lock_functions(plan, words);
    let guest_memory = MemoryType {
        minimum: memory.initial + 1,
        maximum: Some(
            memory
                .maximum
                .unwrap_or(DEFAULT_MAXIMUM)
                .max(memory.initial + 1),
        ),
        memory64: false,
        shared: true,
        page_size_log2: None,
    };
    wrap_target_imports(plan, modules[0], &roles[0], words);
    wrap_guest_imports(plan, g, &roles[guest], words);
    let entries = wrap_guest_exports(plan, g, words);
    let init = init_guest_data(plan, g, words)?;
    plan.start_wrapper();
    plan.start.first.push(init);
    if let Some(limit) = plan.thread_limit {
        limit_spawns(plan, modules[0], limit, words);
    }
    let thread_start = thread_start(plan, modules, words)?;
    Ok(Some(Threads {
        guest_memory,
        exports: vec![
            (THREAD_START.to_string(), thread_start),
            (RELEASE_LOCK.to_string(), words.unlock_fn),
        ],
        entries,
    }))
}

/// Which way a wrapper crosses into or out of the guest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Crossing {
    /// Into guest code: take the lock, call, release it.
    In,
    /// Out of guest code: release the lock, call, take it again.
    Out,
}

/// A function of type `ty` (an input's type, of output index `ty_out`)
/// that crosses `way` around a call of `callee`; its index.
fn wrapper(
    plan: &mut Plan,
    ty: &FuncType,
    ty_out: u32,
    callee: u32,
    way: Crossing,
    words: Words,
) -> u32 {
    let mut f = Function::new([]);
    let (before, after) = match way {
        Crossing::In => (
            lock as fn(&mut Function, Words),
            unlock as fn(&mut Function, Words),
        ),
        Crossing::Out => (
            unlock as fn(&mut Function, Words),
            lock as fn(&mut Function, Words),
        ),
    };
    before(&mut f, words);
    for p in 0..ty.params().len() as u32 {
        f.instruction(&Instruction::LocalGet(p));
    }
    f.instruction(&Instruction::Call(callee));
    after(&mut f, words);
    f.instruction(&Instruction::End);
    let index = plan.add_func(ty_out, FuncKind::Threads);
    plan.new_func_mut(index)
        .expect("a function the plan just allocated")
        .body = Some(f);
    index
}

/// Each WASI import of the target calls its plug through a wrapper that
/// takes the lock.
fn wrap_target_imports(plan: &mut Plan, m: &Module, roles: &[Role], words: Words) {
    for (fi, position, _, ty) in m.func_imports() {
        if !matches!(roles[position], Role::Plug { .. }) {
            continue;
        }
        let Some(func_type) = m.types[ty as usize].clone() else {
            continue;
        };
        let callee = plan.maps[0].funcs[fi as usize];
        let ty_out = plan.maps[0].type_offset + ty;
        let w = wrapper(plan, &func_type, ty_out, callee, Crossing::In, words);
        plan.maps[0].funcs[fi as usize] = w;
    }
}

/// The guest's calls of a target's export, and its real sleeps in the
/// host, release the lock while they run.
///
/// Only `poll_oneoff` of the host imports: guest code is not reentrant at
/// any call, and the runtime calls the others (the host's clock, an
/// inherited stdout) in the middle of its own work (stamping a file it
/// holds borrowed), where another thread must not come in. It sleeps in
/// `poll_oneoff` with nothing borrowed.
fn wrap_guest_imports(plan: &mut Plan, g: &Module, roles: &[Role], words: Words) {
    let guest = plan.guest();
    for (fi, position, import, ty) in g.func_imports() {
        let out = match &roles[position] {
            Role::TargetExport { .. } => true,
            Role::Keep { origin, .. } => {
                *origin == Origin::Passthrough && import.name == "poll_oneoff"
            }
            _ => false,
        };
        let Some(func_type) = g.types[ty as usize].clone().filter(|_| out) else {
            continue;
        };
        let callee = plan.maps[guest].funcs[fi as usize];
        let ty_out = plan.maps[guest].type_offset + ty;
        let w = wrapper(plan, &func_type, ty_out, callee, Crossing::Out, words);
        plan.maps[guest].funcs[fi as usize] = w;
    }
}

/// Every function the guest exports to the host takes the lock.
fn wrap_guest_exports(plan: &mut Plan, g: &Module, words: Words) -> Vec<(u32, u32)> {
    let guest = plan.guest();
    let mut entries = Vec::new();
    for export in &g.exports {
        if export.kind != wasmparser::ExternalKind::Func
            || export
                .name
                .starts_with(wasi_virt_abi::names::INTERNAL_EXPORT_PREFIX)
            || entries.iter().any(|(f, _)| *f == export.index)
        {
            continue;
        }
        let Some(func_type) = g.func_type(export.index).cloned() else {
            continue;
        };
        let ty_out = plan.maps[guest].type_offset + g.func_types[export.index as usize];
        let callee = plan.maps[guest].funcs[export.index as usize];
        let w = wrapper(plan, &func_type, ty_out, callee, Crossing::In, words);
        entries.push((export.index, w));
    }
    entries
}

/// The function that applies the guest's active data segments once, in
/// the first instance to start; the others wait until it is done.
fn init_guest_data(plan: &mut Plan, g: &Module, words: Words) -> Result<u32> {
    use Instruction as I;
    let guest = plan.guest();
    let mut segments = Vec::new();
    if let Some(section) = &g.data_section {
        for (k, data) in section.clone().into_iter().enumerate() {
            let data = data?;
            let DataKind::Active { offset_expr, .. } = data.kind else {
                continue;
            };
            let mut ops = offset_expr.get_operators_reader();
            let Ok(Operator::I32Const { value }) = ops.read() else {
                bail!(
                    "{}: data segment {k} has an offset that is not a constant; a guest for a threads program needs constant ones",
                    g.name
                );
            };
            let index = plan.maps[guest].data_offset + k as u32;
            segments.push((value, data.data.len() as i32, index));
        }
    }
    let arg = memarg(words.memory);
    let mut f = Function::new([]);
    f.instruction(&I::Block(BlockType::Empty)); // $done
    f.instruction(&I::Block(BlockType::Empty)); // $wait
    f.instruction(&I::Block(BlockType::Empty)); // $apply
    f.instruction(&I::I32Const(words.once as i32));
    f.instruction(&I::I32Const(0));
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I32AtomicRmwCmpxchg(arg));
    f.instruction(&I::BrTable([0, 1].as_slice().into(), 2));
    f.instruction(&I::End);
    for (offset, len, index) in segments {
        f.instruction(&I::I32Const(offset));
        f.instruction(&I::I32Const(0));
        f.instruction(&I::I32Const(len));
        f.instruction(&I::MemoryInit {
            mem: words.memory,
            data_index: index,
        });
    }
    f.instruction(&I::I32Const(words.once as i32));
    f.instruction(&I::I32Const(2));
    f.instruction(&I::I32AtomicStore(arg));
    f.instruction(&I::I32Const(words.once as i32));
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::MemoryAtomicNotify(arg));
    f.instruction(&I::Drop);
    f.instruction(&I::Br(1));
    f.instruction(&I::End);
    // Another instance is applying them: wait while the flag says 1.
    f.instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::I32Const(words.once as i32));
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I64Const(-1));
    f.instruction(&I::MemoryAtomicWait32(arg));
    f.instruction(&I::Drop);
    f.instruction(&I::I32Const(words.once as i32));
    f.instruction(&I::I32AtomicLoad(arg));
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I32Eq);
    f.instruction(&I::BrIf(0));
    f.instruction(&I::End);
    f.instruction(&I::End);
    f.instruction(&I::End);
    let ty = plan.func_type(FuncType::new([], []));
    let index = plan.add_func(ty, FuncKind::Threads);
    plan.new_func_mut(index)
        .expect("a function the plan just allocated")
        .body = Some(f);
    Ok(index)
}

/// `wasi_thread_start(tid, start_arg)`: gives the new thread a guest stack
/// of its own, then enters the target's `wasi_thread_start`.
fn thread_start(plan: &mut Plan, modules: &[&Module], words: Words) -> Result<u32> {
    use Instruction as I;
    let t = modules[0];
    let Some(target_start) = t.exported_func(THREAD_START) else {
        bail!(
            "{} imports a shared memory but exports no `{THREAD_START}`: not a wasi-threads program",
            t.name
        );
    };
    let expected = FuncType::new([wasmparser::ValType::I32; 2], []);
    if t.func_type(target_start) != Some(&expected) {
        bail!("{}: its `{THREAD_START}` is not (i32, i32) -> ()", t.name);
    }
    let guest = plan.guest();
    let stack_pointer = modules[guest]
        .stack_pointer()
        .map(|g| plan.maps[guest].globals[g as usize]);
    let callee = plan.maps[0].funcs[target_start as usize];
    // Locals: tid, start_arg, the first page of the thread's guest stack,
    // and the count of free stacks.
    let mut f = Function::new([(2, wasm_encoder::ValType::I32)]);
    if let Some(sp) = stack_pointer {
        lock(&mut f, words);
        take_stack(&mut f, words);
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Const(STACK_PAGES as i32));
        f.instruction(&I::I32Add);
        f.instruction(&I::I32Const(16));
        f.instruction(&I::I32Shl);
        f.instruction(&I::GlobalSet(sp));
        unlock(&mut f, words);
    }
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::Call(callee));
    if stack_pointer.is_some() {
        // The thread is done: its stack waits for the next one.
        lock(&mut f, words);
        give_stack_back(&mut f, words);
        unlock(&mut f, words);
    }
    if plan.thread_limit.is_some() {
        // The thread is done: it no longer counts against the limit.
        running_add(&mut f, words, -1);
    }
    f.instruction(&I::End);
    let ty = plan.maps[0].type_offset + t.func_types[target_start as usize];
    let index = plan.add_func(ty, FuncKind::Threads);
    plan.new_func_mut(index)
        .expect("a function the plan just allocated")
        .body = Some(f);
    Ok(index)
}

/// How many ended threads' stacks the extra page can list.
const FREE_STACKS_MAX: i32 = (65536 - 16) / 4;

/// Local 2 := the first page of a guest stack: an ended thread's, or
/// [`STACK_PAGES`] new pages (a trap if the memory is full). Under the lock.
fn take_stack(f: &mut Function, words: Words) {
    use Instruction as I;
    let (count, list) = (words.free_stacks as i32, words.free_stacks as i32 + 4);
    for i in [
        I::I32Const(count),
        I::I32Load(memarg(words.memory)),
        I::LocalTee(3),
        I::If(BlockType::Empty),
        I::I32Const(count),
        I::LocalGet(3),
        I::I32Const(1),
        I::I32Sub,
        I::LocalTee(3),
        I::I32Store(memarg(words.memory)),
        I::LocalGet(3),
        I::I32Const(2),
        I::I32Shl,
        I::I32Const(list),
        I::I32Add,
        I::I32Load(memarg(words.memory)),
        I::LocalSet(2),
        I::Else,
        I::I32Const(STACK_PAGES as i32),
        I::MemoryGrow(words.memory),
        I::LocalTee(2),
        I::I32Const(-1),
        I::I32Eq,
        I::If(BlockType::Empty),
        I::Unreachable, // no memory left for a stack
        I::End,
        I::End,
    ] {
        f.instruction(&i);
    }
}

/// Lists local 2's stack as free, if the list has room. Under the lock.
fn give_stack_back(f: &mut Function, words: Words) {
    use Instruction as I;
    let (count, list) = (words.free_stacks as i32, words.free_stacks as i32 + 4);
    for i in [
        I::I32Const(count),
        I::I32Load(memarg(words.memory)),
        I::LocalTee(3),
        I::I32Const(FREE_STACKS_MAX),
        I::I32LtU,
        I::If(BlockType::Empty),
        I::LocalGet(3),
        I::I32Const(2),
        I::I32Shl,
        I::I32Const(list),
        I::I32Add,
        I::LocalGet(2),
        I::I32Store(memarg(words.memory)),
        I::I32Const(count),
        I::LocalGet(3),
        I::I32Const(1),
        I::I32Add,
        I::I32Store(memarg(words.memory)),
        I::End,
    ] {
        f.instruction(&i);
    }
}

/// The errno a refused spawn gives, negated as `wasi.thread-spawn` returns
/// errors: `EAGAIN`, which wasi-libc's `pthread_create` returns too.
const EAGAIN: i32 = 6;

/// The target's `wasi.thread-spawn` goes through a function that counts
/// the running spawned threads and refuses a spawn past `limit`.
fn limit_spawns(plan: &mut Plan, m: &Module, limit: u32, words: Words) {
    use Instruction as I;
    let Some((fi, _, _, ty)) = m
        .func_imports()
        .find(|(_, _, i, _)| i.module == "wasi" && i.name == "thread-spawn")
    else {
        return;
    };
    let arg = memarg(words.memory);
    let spawn = plan.maps[0].funcs[fi as usize];
    // Locals: start_arg, then the count seen, then the tid.
    let mut f = Function::new([(2, wasm_encoder::ValType::I32)]);
    f.instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::I32Const(words.running as i32));
    f.instruction(&I::I32AtomicLoad(arg));
    f.instruction(&I::LocalTee(1));
    f.instruction(&I::I32Const(limit as i32));
    f.instruction(&I::I32GeU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(-EAGAIN));
    f.instruction(&I::Return);
    f.instruction(&I::End);
    // Taken only if no other spawn took it first.
    f.instruction(&I::I32Const(words.running as i32));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I32Add);
    f.instruction(&I::I32AtomicRmwCmpxchg(arg));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::I32Ne);
    f.instruction(&I::BrIf(0));
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::Call(spawn));
    f.instruction(&I::LocalTee(2));
    f.instruction(&I::I32Const(0));
    f.instruction(&I::I32LtS);
    f.instruction(&I::If(BlockType::Empty));
    running_add(&mut f, words, -1);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::End);
    let ty_out = plan.maps[0].type_offset + ty;
    let index = plan.add_func(ty_out, FuncKind::Threads);
    plan.new_func_mut(index)
        .expect("a function the plan just allocated")
        .body = Some(f);
    plan.maps[0].funcs[fi as usize] = index;
}

/// Adds `delta` to the count of running spawned threads.
fn running_add(f: &mut Function, words: Words, delta: i32) {
    let arg = memarg(words.memory);
    f.instruction(&Instruction::I32Const(words.running as i32));
    f.instruction(&Instruction::I32Const(delta));
    f.instruction(&Instruction::I32AtomicRmwAdd(arg));
    f.instruction(&Instruction::Drop);
}

/// The lock's two functions, `() -> ()` each, a futex mutex: the word is
/// 0 free, 1 held, 2 held with threads waiting, so that releasing an
/// uncontended lock wakes nobody (a `notify` costs a call into the engine).
/// The release is also [`RELEASE_LOCK`], which a host calls once every
/// thread has ended.
fn lock_functions(plan: &mut Plan, words: Words) -> Words {
    use Instruction as I;
    let arg = memarg(words.memory);
    let at = words.lock as i32;
    // Locals: what the word held.
    let mut take = Function::new([(1, wasm_encoder::ValType::I32)]);
    for i in [
        I::I32Const(at),
        I::I32Const(0),
        I::I32Const(1),
        I::I32AtomicRmwCmpxchg(arg),
        I::LocalTee(0),
        I::If(BlockType::Empty),
        // Held: say there is a waiter, unless it says so already.
        I::LocalGet(0),
        I::I32Const(2),
        I::I32Ne,
        I::If(BlockType::Empty),
        I::I32Const(at),
        I::I32Const(2),
        I::I32AtomicRmwXchg(arg),
        I::LocalSet(0),
        I::End,
        I::Block(BlockType::Empty),
        I::Loop(BlockType::Empty),
        I::LocalGet(0),
        I::I32Eqz,
        I::BrIf(1),
        I::I32Const(at),
        I::I32Const(2),
        I::I64Const(-1),
        I::MemoryAtomicWait32(arg),
        I::Drop,
        I::I32Const(at),
        I::I32Const(2),
        I::I32AtomicRmwXchg(arg),
        I::LocalSet(0),
        I::Br(0),
        I::End,
        I::End,
        I::End,
        I::End,
    ] {
        take.instruction(&i);
    }
    let mut release = Function::new([]);
    for i in [
        I::I32Const(at),
        I::I32Const(0),
        I::I32AtomicRmwXchg(arg),
        I::I32Const(2),
        I::I32Eq,
        I::If(BlockType::Empty),
        I::I32Const(at),
        I::I32Const(1),
        I::MemoryAtomicNotify(arg),
        I::Drop,
        I::End,
        I::End,
    ] {
        release.instruction(&i);
    }
    let ty = plan.func_type(FuncType::new([], []));
    let mut add = |body: Function| {
        let index = plan.add_func(ty, FuncKind::Threads);
        plan.new_func_mut(index)
            .expect("a function the plan just allocated")
            .body = Some(body);
        index
    };
    Words {
        lock_fn: add(take),
        unlock_fn: add(release),
        ..words
    }
}

/// Takes the lock.
fn lock(f: &mut Function, words: Words) {
    f.instruction(&Instruction::Call(words.lock_fn));
}

/// Releases the lock, waking a waiter if there is one.
fn unlock(f: &mut Function, words: Words) {
    f.instruction(&Instruction::Call(words.unlock_fn));
}

/// A naturally aligned 32-bit access to `memory` at the address on the stack.
fn memarg(memory: u32) -> MemArg {
    MemArg {
        offset: 0,
        align: 2,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    }
}
