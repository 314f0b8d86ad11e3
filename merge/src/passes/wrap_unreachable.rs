//! The rewrite of a target's code: `unreachable` and `proc_exit` unwind back
//! to the guest (`wrap_unreachable!`), and what a target that can be reset
//! needs (a memory size it can be given back, segments that stay).
//!
//! [`analyze`] reads a target's code once and says what changes (for run
//! control); `emit` then calls [`rewrite_body`] for each body that changes
//! and copies every other body as it does for any target. A body is
//! spliced, never rebuilt: its instructions are copied as bytes except
//! those replaced below.
//!
//! Unwinding, `--unwind flags` (runs on every engine): a per-target global
//! `flag` says "unwinding". `unreachable` becomes `call $trap` (which sets
//! `flag` and the exit code 134) and a `return` of zero values of the
//! function's results; after every `call` that can reach an unwind, a
//! `global.get $flag (if (then <zeros> return))`. Calls that cannot are left
//! alone: the call graph is walked from what can unwind (the target's WASI
//! imports, which lead to the guest's `proc_exit`, and `unreachable`)
//! through direct calls and, for `call_indirect`/`call_ref`, through every
//! function whose address is taken and whose type matches. So a leaf (a
//! hash's inner loop) pays nothing. A tail call (`return_call*`) needs no
//! check: its callee returns straight to our caller, which checks. The
//! guest's entry wrapper clears the flag and reads the code.
//!
//! Unwinding, `--unwind exceptions`: `unreachable` becomes `call $trap`,
//! which throws the target's tag (and is followed by the original
//! `unreachable`, never reached); `proc_exit` throws from the guest; the
//! entry wrapper catches with `try_table`. Nothing else changes, so the
//! target runs at full speed. A target whose own `try_table` has a
//! `catch_all` would catch the tag: it is refused (use flags).
//!
//! Zero values: `i32/i64/f32/f64/v128` zeros, `ref.null` for nullable
//! references. A function returning a non-nullable reference cannot return
//! a zero value: there an unwind traps instead (documented limit).
//!
//! Reset: `memory.size` reads, and `memory.grow` goes through, the size the
//! program sees (see `reset`); `data.drop` and `elem.drop`
//! are removed, so that a re-run can apply its segments again.

use std::collections::HashMap;

use anyhow::{Result, bail};
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{BlockType, Encode, Instruction};
use wasmparser::{FunctionBody, Operator, ValType};

use crate::index::{OutOfRange, Probe, Remap, splice_body};
use crate::module::Module;
use crate::types::{Role, Strategy, VirtualMemory};

/// What the rewrite does to one target's bodies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewrite {
    /// Unwinding, for a wrapped target.
    pub unwind: Option<Unwind>,
    /// Per memory of the target: the size the program sees, for a target
    /// that can be reset.
    pub memories: Vec<Option<VirtualMemory>>,
    /// Whether `data.drop` and `elem.drop` are removed (reset).
    pub drop_segments: bool,
    /// Per defined function: whether its body changes.
    pub changes: Vec<bool>,
}

/// How a wrapped target unwinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unwind {
    /// The strategy.
    pub strategy: Strategy,
    /// The output index of the `flag` global (flags).
    pub flag: u32,
    /// The output index of the function an `unreachable` calls.
    pub trap: u32,
    /// Per function of the target (imports first): whether a call to it can
    /// unwind, so that the caller must check (flags).
    pub may_unwind: Vec<bool>,
    /// Per type index of the target: whether a `call_indirect` or
    /// `call_ref` of that type can unwind (flags).
    pub indirect: Vec<bool>,
}

/// What [`analyze`] found.
pub struct Analysis {
    /// `(may_unwind, indirect)` per function and per type, under flags.
    pub flags: Option<(Vec<bool>, Vec<bool>)>,
    /// Per defined function: whether its body changes.
    pub changes: Vec<bool>,
}

/// What one body does that matters here.
#[derive(Default)]
struct Scan {
    unreachable: bool,
    /// Functions called with `call` (a check may follow).
    calls: Vec<u32>,
    /// Functions called with `return_call` (no check, but unwinds if they do).
    tail_calls: Vec<u32>,
    /// Types of `call_indirect`/`call_ref`.
    indirect: Vec<u32>,
    /// Types of `return_call_indirect`/`return_call_ref`.
    tail_indirect: Vec<u32>,
    /// `memory.size`/`memory.grow`/`data.drop`/`elem.drop` (reset only).
    reset_ops: bool,
}

/// Reads target `m`'s code once: with `strategy` (a wrapped target), which
/// functions can unwind and which calls need a check; with `reset`, which
/// bodies touch its memory size or drop segments. `roles` are the target's
/// import roles: its WASI imports lead to the guest, where `proc_exit`
/// unwinds.
pub fn analyze(
    m: &Module,
    roles: &[Role],
    strategy: Option<Strategy>,
    reset: bool,
) -> Result<Analysis> {
    let imported = m.func_imports as usize;
    let mut scans = Vec::with_capacity(m.bodies.len());
    let mut address_taken = vec![false; m.func_types.len()];
    for (i, body) in m.bodies.iter().enumerate() {
        let scan = scan_body(m, i as u32, body, strategy, reset, &mut address_taken)?;
        scans.push(scan);
    }
    for f in element_functions(m)? {
        if let Some(slot) = address_taken.get_mut(f as usize) {
            *slot = true;
        }
    }

    let flags = (strategy == Some(Strategy::Flags))
        .then(|| may_unwind(m, roles, &scans, &address_taken))
        .transpose()?;
    let changes = scans
        .iter()
        .map(|scan| {
            let unwinds = match (&flags, strategy) {
                (Some((may, indirect)), _) => {
                    scan.unreachable
                        || scan.calls.iter().any(|&f| flag_at(may, f))
                        || scan.indirect.iter().any(|&t| flag_at(indirect, t))
                }
                (None, Some(Strategy::Exceptions)) => scan.unreachable,
                _ => false,
            };
            unwinds || scan.reset_ops
        })
        .collect();
    debug_assert_eq!(scans.len() + imported, m.func_types.len());
    Ok(Analysis { flags, changes })
}

fn scan_body(
    m: &Module,
    index: u32,
    body: &FunctionBody,
    strategy: Option<Strategy>,
    reset: bool,
    address_taken: &mut [bool],
) -> Result<Scan> {
    let mut scan = Scan::default();
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        match reader.read()? {
            Operator::Unreachable => scan.unreachable = true,
            Operator::Call { function_index } => scan.calls.push(function_index),
            Operator::ReturnCall { function_index } => scan.tail_calls.push(function_index),
            Operator::CallIndirect { type_index, .. } | Operator::CallRef { type_index } => {
                scan.indirect.push(type_index)
            }
            Operator::ReturnCallIndirect { type_index, .. }
            | Operator::ReturnCallRef { type_index } => scan.tail_indirect.push(type_index),
            Operator::RefFunc { function_index } => {
                if let Some(slot) = address_taken.get_mut(function_index as usize) {
                    *slot = true;
                }
            }
            Operator::MemorySize { .. }
            | Operator::MemoryGrow { .. }
            | Operator::DataDrop { .. }
            | Operator::ElemDrop { .. }
                if reset =>
            {
                scan.reset_ops = true
            }
            Operator::TryTable { try_table }
                if strategy == Some(Strategy::Exceptions)
                    && try_table.catches.iter().any(|c| {
                        matches!(
                            c,
                            wasmparser::Catch::All { .. } | wasmparser::Catch::AllRef { .. }
                        )
                    }) =>
            {
                bail!(
                    "{}: function {} catches every exception (`try_table` with `catch_all`), which would catch the unwinding of --unwind exceptions; merge with --unwind flags",
                    m.name,
                    m.func_imports + index
                );
            }
            _ => {}
        }
    }
    Ok(scan)
}

/// Every function an element segment, a global's initializer or a table's
/// initializer names: those whose address is taken.
fn element_functions(m: &Module) -> Result<Vec<u32>> {
    fn from_expr(expr: &wasmparser::ConstExpr, out: &mut Vec<u32>) -> Result<()> {
        let mut ops = expr.get_operators_reader();
        while !ops.eof() {
            if let Operator::RefFunc { function_index } = ops.read()? {
                out.push(function_index);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if let Some(section) = &m.element_section {
        for element in section.clone() {
            match element?.items {
                wasmparser::ElementItems::Functions(funcs) => {
                    for func in funcs {
                        out.push(func?);
                    }
                }
                wasmparser::ElementItems::Expressions(_, exprs) => {
                    for expr in exprs {
                        from_expr(&expr?, &mut out)?;
                    }
                }
            }
        }
    }
    if let Some(section) = &m.global_section {
        for global in section.clone() {
            from_expr(&global?.init_expr, &mut out)?;
        }
    }
    if let Some(section) = &m.table_section {
        for table in section.clone() {
            if let wasmparser::TableInit::Expr(expr) = table?.init {
                from_expr(&expr, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// The call graph walk: which functions can unwind, and which types of
/// indirect call can reach one.
fn may_unwind(
    m: &Module,
    roles: &[Role],
    scans: &[Scan],
    address_taken: &[bool],
) -> Result<(Vec<bool>, Vec<bool>)> {
    let imported = m.func_imports as usize;
    let count = m.func_types.len();
    let (canon, conservative) = canonical_types(m)?;
    let key = |ty: u32| -> usize {
        if conservative {
            0
        } else {
            canon.get(ty as usize).copied().unwrap_or(usize::MAX)
        }
    };
    let mut callers: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut indirect_callers: HashMap<usize, Vec<u32>> = HashMap::new();
    let mut may = vec![false; count];
    let mut queue = Vec::new();
    for (fi, position, _, _) in m.func_imports() {
        // A WASI import leads to the guest's plug, where `proc_exit` (or
        // any plug that ends the program) unwinds. Other imports stay
        // host imports, which cannot.
        if matches!(roles[position], Role::Plug { .. }) {
            may[fi as usize] = true;
            queue.push(fi);
        }
    }
    for (i, scan) in scans.iter().enumerate() {
        let f = (imported + i) as u32;
        for &callee in scan.calls.iter().chain(&scan.tail_calls) {
            if let Some(list) = callers.get_mut(callee as usize) {
                list.push(f);
            }
        }
        for &ty in scan.indirect.iter().chain(&scan.tail_indirect) {
            indirect_callers.entry(key(ty)).or_default().push(f);
        }
        if scan.unreachable {
            may[f as usize] = true;
            queue.push(f);
        }
    }
    let mut type_may: HashMap<usize, bool> = HashMap::new();
    while let Some(f) = queue.pop() {
        let mut reached = std::mem::take(&mut callers[f as usize]);
        if address_taken.get(f as usize) == Some(&true) {
            let k = key(m.func_types[f as usize]);
            if !type_may.insert(k, true).unwrap_or(false) {
                reached.extend(indirect_callers.get(&k).into_iter().flatten());
            }
        }
        for caller in reached {
            if !may[caller as usize] {
                may[caller as usize] = true;
                queue.push(caller);
            }
        }
    }
    let indirect = (0..m.types.len() as u32)
        .map(|ty| type_may.get(&key(ty)).copied().unwrap_or(false))
        .collect();
    Ok((may, indirect))
}

/// A canonical id per type index (equal function types share one), and
/// whether the module declares subtypes, in which case an indirect call of
/// one type can reach a function of another and every indirect call is
/// treated alike.
fn canonical_types(m: &Module) -> Result<(Vec<usize>, bool)> {
    let mut conservative = false;
    if let Some(section) = &m.type_section {
        for group in section.clone() {
            conservative |= group?.types().any(|t| !t.supertype_idxs.is_empty());
        }
    }
    let mut ids: HashMap<(Vec<ValType>, Vec<ValType>), usize> = HashMap::new();
    let canon = m
        .types
        .iter()
        .enumerate()
        .map(|(i, ty)| match ty {
            Some(f) => {
                let next = ids.len() + m.types.len();
                *ids.entry((f.params().to_vec(), f.results().to_vec()))
                    .or_insert(next)
            }
            None => i,
        })
        .collect();
    Ok((canon, conservative))
}

/// Zero values of `results`, as instructions; `None` when one of them is a
/// non-nullable reference, which has no zero value.
pub fn zeros(
    remap: &mut Remap,
    results: &[ValType],
) -> Result<Option<Vec<Instruction<'static>>>, reencode::Error<OutOfRange>> {
    let mut out = Vec::with_capacity(results.len());
    for ty in results {
        out.push(match ty {
            ValType::I32 => Instruction::I32Const(0),
            ValType::I64 => Instruction::I64Const(0),
            ValType::F32 => Instruction::F32Const(0.0.into()),
            ValType::F64 => Instruction::F64Const(0.0.into()),
            ValType::V128 => Instruction::V128Const(0),
            ValType::Ref(r) if r.is_nullable() => {
                Instruction::RefNull(remap.heap_type(r.heap_type())?)
            }
            ValType::Ref(_) => return Ok(None),
        });
    }
    Ok(Some(out))
}

/// Rewrites body `index` (a defined function) of target `m` as `rewrite`
/// says, appending it, size-prefixed, to `out`: spliced, so that only the
/// instructions replaced below (and those whose indices change) are
/// encoded anew.
pub fn rewrite_body(
    rewrite: &Rewrite,
    remap: Remap,
    m: &Module,
    index: u32,
    body: &FunctionBody,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<(), reencode::Error<OutOfRange>> {
    let results = m
        .func_type(m.func_imports + index)
        .map(|t| t.results().to_vec())
        .unwrap_or_default();
    let zeros = zeros(&mut Remap { map: remap.map }, &results)?;
    // After an unwind is seen: return zeros, or trap where there are none.
    let leave = |code: &mut Vec<u8>| match &zeros {
        Some(zeros) => {
            for z in zeros {
                z.encode(code);
            }
            Instruction::Return.encode(code);
        }
        None => Instruction::Unreachable.encode(code),
    };
    let check = |code: &mut Vec<u8>, flag: u32| {
        Instruction::GlobalGet(flag).encode(code);
        Instruction::If(BlockType::Empty).encode(code);
        leave(code);
        Instruction::End.encode(code);
    };
    let unwind = rewrite.unwind.as_ref();
    let flags = unwind.filter(|u| u.strategy == Strategy::Flags);
    // The instruction itself (its own bytes unless its indices change),
    // then a check.
    let checked = |op: &Operator, raw: &[u8], probe: &mut Probe, code: &mut Vec<u8>, flag| {
        probe.changed = false;
        let instruction = probe.instruction(op.clone())?;
        if probe.changed {
            instruction.encode(code);
        } else {
            code.extend_from_slice(raw);
        }
        check(code, flag);
        Ok(true)
    };
    let mut edit = |op: &Operator, raw: &[u8], probe: &mut Probe, code: &mut Vec<u8>| match *op {
        Operator::Unreachable if unwind.is_some() => {
            let u = unwind.expect("matched is_some");
            Instruction::Call(u.trap).encode(code);
            match u.strategy {
                Strategy::Flags => leave(code),
                Strategy::Exceptions => Instruction::Unreachable.encode(code),
            }
            Ok(true)
        }
        Operator::Call { function_index }
            if flags.is_some_and(|u| flag_at(&u.may_unwind, function_index)) =>
        {
            checked(op, raw, probe, code, flags.expect("matched is_some").flag)
        }
        Operator::CallIndirect { type_index, .. } | Operator::CallRef { type_index }
            if flags.is_some_and(|u| flag_at(&u.indirect, type_index)) =>
        {
            checked(op, raw, probe, code, flags.expect("matched is_some").flag)
        }
        Operator::MemorySize { mem } if virtual_memory(rewrite, mem).is_some() => {
            let v = virtual_memory(rewrite, mem).expect("matched is_some");
            Instruction::GlobalGet(v.pages).encode(code);
            Ok(true)
        }
        Operator::MemoryGrow { mem } if virtual_memory(rewrite, mem).is_some() => {
            let v = virtual_memory(rewrite, mem).expect("matched is_some");
            Instruction::Call(v.grow).encode(code);
            Ok(true)
        }
        // Removed: the replacement is nothing.
        Operator::DataDrop { .. } | Operator::ElemDrop { .. } if rewrite.drop_segments => Ok(true),
        _ => Ok(false),
    };
    splice_body(remap, body, out, scratch, &mut edit)
}

fn flag_at(flags: &[bool], index: u32) -> bool {
    flags.get(index as usize).copied().unwrap_or(false)
}

fn virtual_memory(rewrite: &Rewrite, mem: u32) -> Option<&VirtualMemory> {
    rewrite.memories.get(mem as usize).and_then(Option::as_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::wasm;

    /// Functions: 0 `proc_exit` (a WASI import), 1 `$leaf`, 2 `$calls_leaf`,
    /// 3 `$exits`, 4 `$via_exits`, 5 `$indirect_safe` (the table's only
    /// function of its type is `$leaf`), 6 `$indirect_unsafe` (can reach
    /// `$exits`), 7 `$traps`, 8 `$grows`.
    const TARGET: &str = r#"(module
      (type $ii (func (param i32) (result i32)))
      (type $v (func))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory 1)
      (table 2 funcref)
      (elem (i32.const 0) $leaf $exits)
      (func $leaf (type $ii) (i32.add (local.get 0) (i32.const 1)))
      (func $calls_leaf (result i32) (call $leaf (i32.const 1)))
      (func $exits (type $v) (call $exit (i32.const 3)))
      (func $via_exits (call $exits) (drop (i32.const 0)))
      (func $indirect_safe (result i32) (call_indirect (type $ii) (i32.const 1) (i32.const 0)))
      (func $indirect_unsafe (call_indirect (type $v) (i32.const 1)))
      (func $traps unreachable)
      (func $grows (result i32) (memory.grow (i32.const 1))))"#;

    fn analysis(strategy: Option<Strategy>, reset: bool) -> Analysis {
        let bytes = wasm(TARGET);
        let m = Module::parse("app.wasm", &bytes).unwrap();
        let roles = [Role::Plug {
            target: "app".into(),
            function: "proc_exit",
            plug: 0,
        }];
        analyze(&m, &roles, strategy, reset).unwrap()
    }

    #[test]
    fn flags_check_only_calls_that_can_reach_an_unwind() {
        let a = analysis(Some(Strategy::Flags), false);
        let (may, indirect) = a.flags.unwrap();
        assert_eq!(
            may,
            [true, false, false, true, true, false, true, true, false]
        );
        // Types: $ii, $v, then those WAT adds for `proc_exit` and
        // `(result i32)`; only `$v` can reach `$exits`.
        assert_eq!(indirect, [false, true, false, false]);
        assert_eq!(
            a.changes,
            [false, false, true, true, false, true, true, false]
        );
    }

    #[test]
    fn exceptions_touch_only_unreachable() {
        let a = analysis(Some(Strategy::Exceptions), false);
        assert!(a.flags.is_none());
        assert_eq!(
            a.changes,
            [false, false, false, false, false, false, true, false]
        );
    }

    #[test]
    fn reset_touches_memory_size_and_segment_drops() {
        let a = analysis(None, true);
        assert_eq!(
            a.changes,
            [false, false, false, false, false, false, false, true]
        );
    }
}
