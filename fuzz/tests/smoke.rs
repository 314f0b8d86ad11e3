//! The bounded fuzzing run CI does: a fixed seed, a fixed number of cases
//! (well under two minutes). Any finding fails the
//! test with the seed and case that reproduce it.

use wasi_virt_fuzz::{Fuzzer, case_bytes};

const SEED: u64 = 0x5eed;
const CASES: u64 = 100;

#[test]
fn smoke() {
    let mut fuzzer = Fuzzer::new().unwrap();
    // wasmtime compiles each output whole: a fifth of the targets keeps
    // the smoke well under two minutes.
    fuzzer.wasmtime_every = 5;
    let mut findings = Vec::new();
    for index in 0..CASES {
        if let Err(finding) = fuzzer.one(&case_bytes(SEED, index)) {
            let file = fuzzer.dir().join(format!("case{index}.wasm"));
            std::fs::write(&file, &finding.target).unwrap();
            findings.push(format!(
                "case {index} (reproduce: cargo run -p wasi-virt-fuzz -- --seed {SEED} --first {index} --cases 1): {finding}"
            ));
        }
    }
    eprintln!("{}", fuzzer.stats);
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    let stats = fuzzer.stats;
    assert!(
        stats.compared >= CASES / 3 && stats.unwound > 0,
        "too few runs compared, or none that unwinds, to mean anything: {stats}"
    );
}
