//! The bounded fuzzing run CI does: a fixed seed, a fixed number of cases
//! (well under two minutes). Any finding fails the
//! test with the seed and case that reproduce it.

use wasi_virt_fuzz::{Fuzzer, Stats, case_bytes};

const SEED: u64 = 0x5eed;
const CASES: u64 = 100;

#[test]
fn smoke() {
    // Two fuzzers, one a core, take every other case: the same cases, in
    // half the time on two cores.
    let halves: Vec<(Vec<String>, Stats)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|half| scope.spawn(move || fuzz((half..CASES).step_by(2))))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let findings: Vec<String> = halves.iter().flat_map(|(f, _)| f.clone()).collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    let compared: u64 = halves.iter().map(|(_, stats)| stats.compared).sum();
    let unwound: u64 = halves.iter().map(|(_, stats)| stats.unwound).sum();
    assert!(
        compared >= CASES / 3 && unwound > 0,
        "too few runs compared ({compared}), or none that unwinds ({unwound}), to mean anything"
    );
}

/// Runs the cases `indices`: the findings, each with how to reproduce it.
fn fuzz(indices: impl Iterator<Item = u64>) -> (Vec<String>, Stats) {
    let mut fuzzer = Fuzzer::new().unwrap();
    // wasmtime compiles each output whole: a fifth of the targets keeps
    // the smoke well under two minutes.
    fuzzer.wasmtime_every = 5;
    let mut findings = Vec::new();
    for index in indices {
        if let Err(finding) = fuzzer.one(&case_bytes(SEED, index)) {
            findings.push(format!(
                "case {index} (reproduce: cargo run -p wasi-virt-fuzz -- --seed {SEED} --first {index} --cases 1): {finding}"
            ));
        }
    }
    eprintln!("{}", fuzzer.stats);
    (findings, fuzzer.stats)
}
