//! A syscall-heavy WASI program, for benchmarks: every step is one small
//! preview1 call, so that the run time is dominated by the call boundary
//! (the guest's shims and the copies between memories), not by the program.
//!
//! `syscall-app [N]` (default 10000) does N rounds of: write 32 bytes to a
//! file (one `fd_write`), seek back and read them (`fd_seek`, `fd_read`),
//! stat it (`fd_filestat_get`); then prints a checksum and the call count.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open("/bench.bin")
        .expect("cannot open /bench.bin");
    let mut record = [0u8; 32];
    let mut sum = 0u64;
    for round in 0..rounds {
        record[..8].copy_from_slice(&round.to_le_bytes());
        file.write_all(&record).expect("write");
        file.seek(SeekFrom::Current(-32)).expect("seek");
        let mut back = [0u8; 32];
        file.read_exact(&mut back).expect("read");
        sum = sum.wrapping_add(u64::from_le_bytes(back[..8].try_into().unwrap()));
        sum = sum.wrapping_add(file.metadata().expect("stat").len());
    }
    println!("rounds {rounds} calls {} checksum {sum}", rounds * 4);
}
