//! What an instruction does with memory: which memory, its memarg, and
//! what lies on the stack above the address (what a rewrite must park
//! before it adds a base).

use wasm_encoder::ValType;
use wasmparser::Operator;

/// The kinds of value a rewrite parks in a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TempKind {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl TempKind {
    pub(super) fn val_type(self) -> ValType {
        match self {
            TempKind::I32 => ValType::I32,
            TempKind::I64 => ValType::I64,
            TempKind::F32 => ValType::F32,
            TempKind::F64 => ValType::F64,
            TempKind::V128 => ValType::V128,
        }
    }
}

/// What an instruction with a memarg does with the stack below it.
pub(super) enum Access {
    /// The address is on top.
    Load,
    /// The address is below one value of this kind.
    Store(TempKind),
    /// Atomics: not rewritten.
    Atomic,
}

/// The memarg of an instruction that accesses memory through one, and the
/// shape of its operands.
pub(super) fn memory_access(op: &Operator) -> Option<(u32, wasmparser::MemArg, Access)> {
    let (memarg, access) =
        load_or_store(op).or_else(|| atomic(op).map(|memarg| (memarg, Access::Atomic)))?;
    match memarg.target {
        wasmparser::MemArgTarget::Memory(memory) => Some((memory, memarg, access)),
        // A GC array's payload, not a memory.
        wasmparser::MemArgTarget::Array(_) => None,
    }
}

/// The memarg of a plain load or store (SIMD lanes included), and the
/// shape of its operands.
fn load_or_store(op: &Operator) -> Option<(wasmparser::MemArg, Access)> {
    use Operator as O;
    use TempKind as T;
    Some(match *op {
        O::I32Load { memarg }
        | O::I64Load { memarg }
        | O::F32Load { memarg }
        | O::F64Load { memarg }
        | O::I32Load8S { memarg }
        | O::I32Load8U { memarg }
        | O::I32Load16S { memarg }
        | O::I32Load16U { memarg }
        | O::I64Load8S { memarg }
        | O::I64Load8U { memarg }
        | O::I64Load16S { memarg }
        | O::I64Load16U { memarg }
        | O::I64Load32S { memarg }
        | O::I64Load32U { memarg }
        | O::V128Load { memarg }
        | O::V128Load8x8S { memarg }
        | O::V128Load8x8U { memarg }
        | O::V128Load16x4S { memarg }
        | O::V128Load16x4U { memarg }
        | O::V128Load32x2S { memarg }
        | O::V128Load32x2U { memarg }
        | O::V128Load8Splat { memarg }
        | O::V128Load16Splat { memarg }
        | O::V128Load32Splat { memarg }
        | O::V128Load64Splat { memarg }
        | O::V128Load32Zero { memarg }
        | O::V128Load64Zero { memarg } => (memarg, Access::Load),
        O::I32Store { memarg } | O::I32Store8 { memarg } | O::I32Store16 { memarg } => {
            (memarg, Access::Store(T::I32))
        }
        O::I64Store { memarg }
        | O::I64Store8 { memarg }
        | O::I64Store16 { memarg }
        | O::I64Store32 { memarg } => (memarg, Access::Store(T::I64)),
        O::F32Store { memarg } => (memarg, Access::Store(T::F32)),
        O::F64Store { memarg } => (memarg, Access::Store(T::F64)),
        O::V128Store { memarg }
        | O::V128Load8Lane { memarg, .. }
        | O::V128Load16Lane { memarg, .. }
        | O::V128Load32Lane { memarg, .. }
        | O::V128Load64Lane { memarg, .. }
        | O::V128Store8Lane { memarg, .. }
        | O::V128Store16Lane { memarg, .. }
        | O::V128Store32Lane { memarg, .. }
        | O::V128Store64Lane { memarg, .. } => (memarg, Access::Store(T::V128)),
        _ => return None,
    })
}

/// The memarg of an atomic access (not rewritten: refused past address 0).
fn atomic(op: &Operator) -> Option<wasmparser::MemArg> {
    use Operator as O;
    match *op {
        O::MemoryAtomicNotify { memarg }
        | O::MemoryAtomicWait32 { memarg }
        | O::MemoryAtomicWait64 { memarg }
        | O::I32AtomicLoad { memarg }
        | O::I64AtomicLoad { memarg }
        | O::I32AtomicLoad8U { memarg }
        | O::I32AtomicLoad16U { memarg }
        | O::I64AtomicLoad8U { memarg }
        | O::I64AtomicLoad16U { memarg }
        | O::I64AtomicLoad32U { memarg }
        | O::I32AtomicStore { memarg }
        | O::I64AtomicStore { memarg }
        | O::I32AtomicStore8 { memarg }
        | O::I32AtomicStore16 { memarg }
        | O::I64AtomicStore8 { memarg }
        | O::I64AtomicStore16 { memarg }
        | O::I64AtomicStore32 { memarg }
        | O::I32AtomicRmwAdd { memarg }
        | O::I64AtomicRmwAdd { memarg }
        | O::I32AtomicRmw8AddU { memarg }
        | O::I32AtomicRmw16AddU { memarg }
        | O::I64AtomicRmw8AddU { memarg }
        | O::I64AtomicRmw16AddU { memarg }
        | O::I64AtomicRmw32AddU { memarg }
        | O::I32AtomicRmwSub { memarg }
        | O::I64AtomicRmwSub { memarg }
        | O::I32AtomicRmw8SubU { memarg }
        | O::I32AtomicRmw16SubU { memarg }
        | O::I64AtomicRmw8SubU { memarg }
        | O::I64AtomicRmw16SubU { memarg }
        | O::I64AtomicRmw32SubU { memarg }
        | O::I32AtomicRmwAnd { memarg }
        | O::I64AtomicRmwAnd { memarg }
        | O::I32AtomicRmw8AndU { memarg }
        | O::I32AtomicRmw16AndU { memarg }
        | O::I64AtomicRmw8AndU { memarg }
        | O::I64AtomicRmw16AndU { memarg }
        | O::I64AtomicRmw32AndU { memarg }
        | O::I32AtomicRmwOr { memarg }
        | O::I64AtomicRmwOr { memarg }
        | O::I32AtomicRmw8OrU { memarg }
        | O::I32AtomicRmw16OrU { memarg }
        | O::I64AtomicRmw8OrU { memarg }
        | O::I64AtomicRmw16OrU { memarg }
        | O::I64AtomicRmw32OrU { memarg }
        | O::I32AtomicRmwXor { memarg }
        | O::I64AtomicRmwXor { memarg }
        | O::I32AtomicRmw8XorU { memarg }
        | O::I32AtomicRmw16XorU { memarg }
        | O::I64AtomicRmw8XorU { memarg }
        | O::I64AtomicRmw16XorU { memarg }
        | O::I64AtomicRmw32XorU { memarg }
        | O::I32AtomicRmwXchg { memarg }
        | O::I64AtomicRmwXchg { memarg }
        | O::I32AtomicRmw8XchgU { memarg }
        | O::I32AtomicRmw16XchgU { memarg }
        | O::I64AtomicRmw8XchgU { memarg }
        | O::I64AtomicRmw16XchgU { memarg }
        | O::I64AtomicRmw32XchgU { memarg }
        | O::I32AtomicRmwCmpxchg { memarg }
        | O::I64AtomicRmwCmpxchg { memarg }
        | O::I32AtomicRmw8CmpxchgU { memarg }
        | O::I32AtomicRmw16CmpxchgU { memarg }
        | O::I64AtomicRmw8CmpxchgU { memarg }
        | O::I64AtomicRmw16CmpxchgU { memarg }
        | O::I64AtomicRmw32CmpxchgU { memarg } => Some(memarg),
        _ => None,
    }
}
