//! Fuzzing `wasi-virt merge` on stable Rust.
//!
//! `cargo fuzz` needs nightly; this crate does the same job with the same
//! building blocks on stable: bytes from a seeded generator drive
//! [`wasm_smith`] (through `arbitrary`) to build a random **valid** preview1
//! target — it imports WASI functions with their exact signatures, exports
//! `_start`, has one 32-bit memory, and uses multi-value, reference types,
//! bulk memory and tail calls; an `unreachable` or a `proc_exit` call is
//! planted at the start of one of its functions in two cases out of three
//! (see [`target`]). Each target is merged with the example guest
//! (`vfs-demo`) by the `wasi-virt` binary three ways, and checked:
//!
//! 1. **no crash**: every merge ends with an output or a clean refusal (exit
//!    code 1, one `error:` line) of a kind a valid target may get (it imports
//!    no WASI function at all); a panic, a signal or another refusal is a
//!    finding. Each target is also merged once damaged (cut short, a bit
//!    flipped, a byte inserted, bytes set to `0xff`): any clean refusal that
//!    names it will do, but no crash;
//! 2. **every output validates** (plain, `wrap_unreachable`, and
//!    `wrap_unreachable` with `--unwind exceptions`);
//! 3. **wrap_unreachable keeps the target's behaviour**: the plain and the
//!    wrapped (`--unwind flags`) outputs run in wasmi with a fuel limit and
//!    nothing linked; in wasmtime (Cranelift, fuel), the plain output runs
//!    again and is compared the same way with both wrapped outputs, flags
//!    and exceptions (wasmi has no exception handling). Every case runs in
//!    wasmi; wasmtime, which compiles each output whole first (a few hundred
//!    milliseconds), runs every case of the full run and every
//!    [`Fuzzer::wasmtime_every`]th of the CI smoke. Where
//!    the plain run returns, the wrapped one returns with the same stdout,
//!    stderr and target memory; where the plain run stops at `proc_exit` or
//!    `unreachable`, the wrapped one unwinds back to the guest and returns,
//!    with the same stdout, stderr and memory; where it traps otherwise, the
//!    wrapped one traps the same way. Runs that exhaust their fuel or the
//!    stack are not compared. When wasmi's comparison fails, wasmtime first
//!    runs the plain output: if the two engines disagree on it, wasmi is
//!    wrong (`fuzz/engine-bugs/` has one such module) and the case is
//!    judged in wasmtime alone.
//!
//! The wrapped guest is `vfs-demo` with one more manifest record,
//! `wrap_unreachable app`, as `wrap_unreachable!(app)` would write it.
//!
//! `cargo xtask fuzz --time 600` runs it for ten minutes (the binary
//! `wasi-virt-fuzz`); `tests/smoke.rs` runs a fixed set of seeds on CI.

#![deny(missing_docs)]

mod generate;
mod merge;
mod run;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

pub use generate::{config, target};
pub use merge::{Merge, Merged};
pub use run::{End, Engine, Run, Trap};

/// The fuel the plain run of a target gets (both engines count about one
/// unit per instruction): enough for any loop-free program wasm-smith writes, and
/// small enough that an endless loop costs a few milliseconds.
pub const FUEL: u64 = 2_000_000;

/// What one case came to, when nothing was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// wasm-smith could not build a module from the bytes.
    NotGenerated,
    /// The target was refused as a valid target may be (no WASI import).
    Refused,
    /// Merged and validated, and both runs compared equal.
    Compared,
    /// As `Compared`, where the plain run stopped at `proc_exit` or
    /// `unreachable`, so the wrapped one had to unwind.
    Unwound,
    /// Merged and validated; the runs were not compared (fuel or stack
    /// exhausted).
    NotCompared,
}

/// Something wrong, with the target that shows it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What went wrong.
    pub what: String,
    /// The target module.
    pub target: Vec<u8>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Counts over a run of the fuzzer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Cases tried.
    pub cases: u64,
    /// Cases wasm-smith built a module for.
    pub generated: u64,
    /// Merges run (one of the damaged target, then three per generated
    /// target that merges).
    pub merges: u64,
    /// Damaged targets merged (each must merge or be refused cleanly).
    pub damaged: u64,
    /// Targets refused as expected.
    pub refused: u64,
    /// Cases whose plain and wrapped runs were compared.
    pub compared: u64,
    /// Of those, the cases where the wrapped run had to unwind.
    pub unwound: u64,
    /// Cases also compared in wasmtime, with both wrapped outputs.
    pub wasmtime_compared: u64,
    /// Cases merged but not compared (fuel or stack exhausted).
    pub not_compared: u64,
    /// Cases where wasmi ran the plain output differently from wasmtime
    /// (an engine's bug, not the merge's): checked in wasmtime only.
    pub wasmi_disagreed: u64,
    /// Findings.
    pub findings: u64,
    /// Time spent.
    pub elapsed: Duration,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "{} cases in {:.1} s ({:.1}/s): {} targets generated, {} merges ({} of damaged targets), {} refused as expected, {} runs compared ({} unwinding; {} in wasmtime too, flags and exceptions), {} not compared (fuel or stack), {} where wasmi disagreed with wasmtime on the plain output, {} findings",
            self.cases,
            secs,
            self.cases as f64 / secs.max(1e-9),
            self.generated,
            self.merges,
            self.damaged,
            self.refused,
            self.compared,
            self.unwound,
            self.wasmtime_compared,
            self.not_compared,
            self.wasmi_disagreed,
            self.findings
        )
    }
}

/// The fuzzer: the guests written once into a scratch folder, and the CLI.
pub struct Fuzzer {
    dir: tempfile::TempDir,
    cli: PathBuf,
    wasmi: Engine,
    wasmtime: Engine,
    /// Which generated targets also run in wasmtime: every one (1, the
    /// default), every second one (2)… or none (0).
    pub wasmtime_every: u64,
    /// Counts so far.
    pub stats: Stats,
}

/// Environment variable naming a `wasi-virt` binary to use instead of
/// building one (`cargo xtask fuzz` passes a release build).
pub const CLI_ENV: &str = "WASI_VIRT_FUZZ_CLI";

impl Fuzzer {
    /// Builds the example guest and the CLI (or takes `$WASI_VIRT_FUZZ_CLI`)
    /// and writes the plain and wrapped guests into a scratch folder.
    pub fn new() -> Result<Fuzzer> {
        let guest_path = wasi_virt_tests::try_wasm_example("vfs-demo", "wasm32-wasip1")?;
        let guest = std::fs::read(&guest_path)
            .with_context(|| format!("cannot read {}", guest_path.display()))?;
        let cli = match std::env::var_os(CLI_ENV) {
            Some(path) => PathBuf::from(path),
            None => wasi_virt_tests::try_wasi_virt_bin()?,
        };
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(merge::GUEST), &guest)?;
        std::fs::write(dir.path().join(merge::WRAPPED_GUEST), wrapped(&guest))?;
        Ok(Fuzzer {
            dir,
            cli,
            wasmi: Engine::wasmi(),
            wasmtime: Engine::wasmtime()?,
            wasmtime_every: 1,
            stats: Stats::default(),
        })
    }

    /// The scratch folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs one case from `data` (the bytes wasm-smith draws from).
    pub fn one(&mut self, data: &[u8]) -> Result<Verdict, Finding> {
        let started = std::time::Instant::now();
        let result = self.check(data);
        self.stats.elapsed += started.elapsed();
        self.stats.cases += 1;
        match &result {
            Ok(Verdict::NotGenerated) => {}
            Ok(Verdict::Refused) => self.stats.refused += 1,
            Ok(Verdict::Compared) => self.stats.compared += 1,
            Ok(Verdict::Unwound) => {
                self.stats.compared += 1;
                self.stats.unwound += 1;
            }
            Ok(Verdict::NotCompared) => self.stats.not_compared += 1,
            Err(_) => self.stats.findings += 1,
        }
        result
    }

    fn check(&mut self, data: &[u8]) -> Result<Verdict, Finding> {
        let Ok(target) = generate::target(data) else {
            return Ok(Verdict::NotGenerated);
        };
        self.stats.generated += 1;
        let finding = |what: String| Finding {
            what,
            target: target.clone(),
        };
        // The same target damaged first: whatever the merge makes of it, it
        // must not crash.
        let damaged = damage(&target, data);
        let damaged_finding = |what: String| Finding {
            what: format!("damaged target: {what}"),
            target: damaged.clone(),
        };
        let merge = Merge::new(self.dir.path(), &self.cli, &damaged)
            .map_err(|e| damaged_finding(format!("{e:#}")))?;
        self.stats.merges += 1;
        self.stats.damaged += 1;
        merge
            .anything()
            .map_err(|e| damaged_finding(format!("{e:#}")))?;
        let merge = Merge::new(self.dir.path(), &self.cli, &target)
            .map_err(|e| finding(format!("{e:#}")))?;
        self.stats.merges += 1;
        let plain = match merge.plain().map_err(|e| finding(format!("{e:#}")))? {
            Merged::Output(bytes) => bytes,
            Merged::Refused(_) => return Ok(Verdict::Refused),
        };
        self.stats.merges += 2;
        let wrapped = merge.wrapped().map_err(|e| finding(format!("{e:#}")))?;
        let with_exceptions = merge
            .wrapped_with_exceptions()
            .map_err(|e| finding(format!("{e:#}")))?;
        let mut in_wasmtime = self.wasmtime_every != 0
            && (self.stats.generated - 1).is_multiple_of(self.wasmtime_every);
        let verdict = match differential(&self.wasmi, &plain, &[("flags", &wrapped)]) {
            Ok(verdict) => verdict,
            // Before blaming the merge, ask whether wasmi runs the plain
            // output as wasmtime does; if not, wasmtime alone decides.
            Err(what) => match engines_agree(&self.wasmi, &self.wasmtime, &plain) {
                Ok(false) => {
                    self.stats.wasmi_disagreed += 1;
                    in_wasmtime = true;
                    Verdict::NotCompared
                }
                _ => return Err(finding(what)),
            },
        };
        if in_wasmtime {
            let again = differential(
                &self.wasmtime,
                &plain,
                &[("flags", &wrapped), ("exceptions", &with_exceptions)],
            )
            .map_err(&finding)?;
            if again != Verdict::NotCompared {
                self.stats.wasmtime_compared += 1;
            }
        }
        Ok(verdict)
    }
}

/// `target` damaged as the last bytes of `data` say: cut short, a bit
/// flipped, a byte inserted, or a run of bytes set to `0xff` (an endless
/// LEB128, a huge count).
fn damage(target: &[u8], data: &[u8]) -> Vec<u8> {
    let mut pick = [0u8; 8];
    for (i, b) in data.iter().rev().take(8).enumerate() {
        pick[i] = *b;
    }
    let pick = u64::from_le_bytes(pick);
    // Past the 8-byte header: its errors are few, and the bad-inputs tests
    // check them.
    let at = 8 + (pick >> 8) as usize % target.len().saturating_sub(8).max(1);
    let mut out = target.to_vec();
    match pick % 4 {
        0 => out.truncate(at),
        1 => {
            if let Some(b) = out.get_mut(at) {
                *b ^= 1 << ((pick >> 4) % 8);
            }
        }
        2 => out.insert(at.min(out.len()), (pick >> 40) as u8),
        _ => {
            let end = (at + 1 + (pick >> 40) as usize % 5).min(out.len());
            out[at.min(end)..end].fill(0xff);
        }
    }
    out
}

/// `guest` with a second manifest section saying `wrap_unreachable app`
/// (the merge reads all manifest sections as one).
fn wrapped(guest: &[u8]) -> Vec<u8> {
    let record = wasi_virt_abi::manifest::Record::WrapUnreachable("app".into()).encode();
    let mut module = wasm_encoder::Module::new();
    module.section(&wasm_encoder::CustomSection {
        name: wasi_virt_abi::manifest::SECTION.into(),
        data: record.as_bytes().into(),
    });
    let mut out = guest.to_vec();
    out.extend_from_slice(&module.finish()[8..]);
    out
}

/// Runs the plain output and each wrapped one (named by its `--unwind`
/// strategy) in `engine` and compares them (see the crate's documentation).
fn differential(
    engine: &Engine,
    plain: &[u8],
    wrapped: &[(&str, &[u8])],
) -> Result<Verdict, String> {
    let name = engine.name();
    let a = engine
        .run(plain, FUEL)
        .map_err(|e| format!("the plain output does not run in {name}: {e:#}"))?;
    if matches!(a.end, End::OutOfFuel | End::Trap(Trap::StackOverflow)) {
        return Ok(Verdict::NotCompared);
    }
    let mut verdict = Verdict::Compared;
    for (strategy, wrapped) in wrapped {
        verdict = compare(engine, &a, wrapped)
            .map_err(|e| format!("in {name}, with --unwind {strategy}: {e}"))?;
    }
    Ok(verdict)
}

/// Whether two engines run the output `bytes` the same way: the same end,
/// stdout, stderr and target memory. Running out of fuel, whose accounting
/// differs between engines, counts as agreeing (nothing can be decided).
fn engines_agree(one: &Engine, other: &Engine, bytes: &[u8]) -> Result<bool> {
    let (a, b) = (one.run(bytes, FUEL)?, other.run(bytes, FUEL)?);
    if a.end == End::OutOfFuel || b.end == End::OutOfFuel {
        return Ok(true);
    }
    let same_end = match (&a.end, &b.end) {
        // The engines name other traps differently.
        (End::Trap(Trap::Other(_)), End::Trap(Trap::Other(_))) => true,
        (End::StartTrap(Trap::Other(_)), End::StartTrap(Trap::Other(_))) => true,
        (x, y) => x == y,
    };
    Ok(same_end && a.stdout == b.stdout && a.stderr == b.stderr && a.memory == b.memory)
}

/// Runs one wrapped output and compares it with the plain run `a`.
fn compare(engine: &Engine, a: &Run, wrapped: &[u8]) -> Result<Verdict, String> {
    // The wrapped code checks a flag after calls that can unwind.
    let fuel = a.fuel_used.saturating_mul(4).saturating_add(FUEL);
    let b = engine
        .run(wrapped, fuel)
        .map_err(|e| format!("the wrapped output does not run: {e:#}"))?;
    let expected_end = match &a.end {
        // In the target's start function no guest call is under way to
        // unwind to: both stop for real.
        End::StartTrap(trap) => End::StartTrap(trap.clone()),
        // An exit or an `unreachable` unwinds back to the guest's call.
        End::Exit(_) | End::Trap(Trap::Unreachable) => End::Returned,
        other => other.clone(),
    };
    let mut differences = Vec::new();
    if b.end != expected_end {
        differences.push(format!(
            "the plain run ended with {:?}, so the wrapped one should end with {expected_end:?}, not {:?}",
            a.end, b.end
        ));
    }
    if a.stdout != b.stdout {
        differences.push(format!(
            "stdout differs: {:?} / {:?}",
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout)
        ));
    }
    if a.stderr != b.stderr {
        differences.push(format!(
            "stderr differs: {:?} / {:?}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        ));
    }
    if a.memory != b.memory {
        let at = a.memory.iter().zip(&b.memory).position(|(x, y)| x != y);
        differences.push(format!(
            "the target's memory differs ({} / {} bytes, first at {at:?})",
            a.memory.len(),
            b.memory.len()
        ));
    }
    if differences.is_empty() && expected_end != a.end {
        Ok(Verdict::Unwound)
    } else if differences.is_empty() {
        Ok(Verdict::Compared)
    } else {
        Err(format!(
            "wrap_unreachable changed the target's behaviour:\n  {}",
            differences.join("\n  ")
        ))
    }
}

/// The bytes of case `index` of a run seeded with `seed`: 256 B to 16 KiB
/// from SplitMix64, so that a case is reproducible from two numbers.
pub fn case_bytes(seed: u64, index: u64) -> Vec<u8> {
    let mut state = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let len = 256 + (next() % (16 * 1024 - 256)) as usize;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&next().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
