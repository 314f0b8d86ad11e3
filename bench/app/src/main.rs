//! The syscall-heavy target of `cargo xtask bench`: `bench-app WORKLOAD
//! [DIR]` runs one workload against the folder DIR (default `/data`) and
//! prints a checksum, so that every setup can be checked to have done the
//! same work.
//!
//! It also prints, on stderr, `elapsed_ns N`: the monotonic clock read
//! around the workload. Under a host's WASI (wasmtime) that is the real time
//! the workload took, with no process start-up in it; under `pack`'s virtual
//! clock it means nothing (each reading advances 1 µs), and the host times
//! the call instead.
//!
//! - `empty`: nothing (the baseline: start-up and exit);
//! - `read`: `DIR/big.bin` (64 MiB) read sequentially in 64 KiB reads;
//! - `open`: 10,000 × (open, fstat, read 1 KiB, close) of `DIR/small.bin`;
//! - `append`: 10,000 appends of 16 bytes to `DIR/log.txt` (opened once
//!   with `O_APPEND`, each a `fd_write`);
//! - `readdir`: the 5,000 entries of `DIR/many`;
//! - `clock`: 100,000 `clock_time_get`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("empty");
    let dir = args.get(2).map(String::as_str).unwrap_or("/data");
    let started = Instant::now();
    let sum: u64 = match workload {
        "empty" => 0,
        "read" => {
            let mut file = File::open(format!("{dir}/big.bin")).expect("open big.bin");
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            loop {
                let n = file.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                total += n as u64 + u64::from(buf[n - 1]);
            }
            total
        }
        "open" => {
            let path = format!("{dir}/small.bin");
            let mut buf = [0u8; 1024];
            let mut total = 0u64;
            for _ in 0..10_000 {
                let mut file = File::open(&path).expect("open small.bin");
                total += file.metadata().expect("fstat").len();
                let n = file.read(&mut buf).expect("read");
                total += n as u64 + u64::from(buf[0]);
            }
            total
        }
        "append" => {
            let mut file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(format!("{dir}/log.txt"))
                .expect("open log.txt");
            for i in 0..10_000u64 {
                file.write_all(format!("{i:015}\n").as_bytes())
                    .expect("append");
            }
            file.metadata().expect("fstat").len()
        }
        "readdir" => std::fs::read_dir(format!("{dir}/many"))
            .expect("read_dir")
            .map(|entry| entry.expect("entry").file_name().len() as u64)
            .sum(),
        "clock" => {
            let start = Instant::now();
            let mut last = start;
            for _ in 0..100_000 {
                last = Instant::now();
            }
            u64::from(last >= start)
        }
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    };
    let elapsed = started.elapsed();
    println!("{workload} {sum}");
    eprintln!("elapsed_ns {}", elapsed.as_nanos());
}
