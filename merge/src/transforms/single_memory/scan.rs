//! The scan of a body before its rewrite: whether anything in it changes,
//! whether it touches a memory past address 0 (which the report counts
//! apart), and how many temporary locals of each kind its rewrite needs.

use anyhow::Result;
use wasmparser::{FunctionBody, Operator};

use super::access::{Access, TempKind, memory_access};

/// How many locals of each kind a body needs.
#[derive(Default)]
pub(super) struct TempCounts {
    pub(super) i32: u32,
    pub(super) i64: u32,
    pub(super) f32: u32,
    pub(super) f64: u32,
    pub(super) v128: u32,
}

/// What a body needs rewritten, found before it is written.
pub(super) struct Scan {
    /// Instructions that will be rewritten.
    pub(super) rewrites: usize,
    /// Instructions that use a memory other than the one at address 0.
    pub(super) memories_above_0: usize,
    /// The temporary locals its rewrite needs, by kind.
    pub(super) temps: TempCounts,
}

/// Scans a body; `based[k]` says whether memory `k` has a base (is not at
/// address 0).
pub(super) fn scan(body: &FunctionBody, based: &[bool]) -> Result<Scan> {
    let based = |k: u32| based.get(k as usize).copied().unwrap_or(true);
    use Operator as O;
    let mut s = Scan {
        rewrites: 0,
        memories_above_0: 0,
        temps: TempCounts::default(),
    };
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let op = ops.read()?;
        if let Some((memory, _, access)) = memory_access(&op) {
            // At address 0 but not memory 0: renumbered.
            if !based(memory) && memory != 0 {
                s.rewrites += 1;
            }
            if based(memory) {
                s.memories_above_0 += 1;
                s.rewrites += 1;
                if let Access::Store(kind) = access {
                    let n = match kind {
                        TempKind::I32 => &mut s.temps.i32,
                        TempKind::I64 => &mut s.temps.i64,
                        TempKind::F32 => &mut s.temps.f32,
                        TempKind::F64 => &mut s.temps.f64,
                        TempKind::V128 => &mut s.temps.v128,
                    };
                    *n = (*n).max(1);
                }
            }
            continue;
        }
        match op {
            O::MemorySize { mem } | O::MemoryGrow { mem } => {
                s.rewrites += 1;
                if based(mem) {
                    s.memories_above_0 += 1;
                }
            }
            O::MemoryFill { mem } | O::MemoryInit { mem, .. } if based(mem) => {
                s.rewrites += 1;
                s.memories_above_0 += 1;
                s.temps.i32 = s.temps.i32.max(2);
            }
            O::MemoryCopy { dst_mem, src_mem } if based(dst_mem) || based(src_mem) => {
                s.rewrites += 1;
                s.memories_above_0 += 1;
                s.temps.i32 = s.temps.i32.max(2);
            }
            O::MemoryFill { mem } | O::MemoryInit { mem, .. } if mem != 0 => s.rewrites += 1,
            O::MemoryCopy { dst_mem, src_mem } if dst_mem != 0 || src_mem != 0 => {
                s.rewrites += 1;
            }
            _ => {}
        }
    }
    Ok(s)
}
