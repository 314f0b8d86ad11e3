//! A WASI preview1 *target* program that ends in every way a program can,
//! for guests that stay in control of their target (`wrap_unreachable!`):
//!
//! ```text
//! unwind-app                  panics ("no command"): a Rust panic ends in
//!                             `unreachable`, the simplest trap there is
//! unwind-app ok               prints "ok" and returns (exit code 0)
//! unwind-app exit N           prints a line, then `std::process::exit(N)`
//! unwind-app panic MESSAGE    panics with MESSAGE
//! unwind-app echo WORD…       the re-run workload (below)
//! unwind-app write PATH TEXT  writes TEXT to PATH (creating its folder),
//!                             and leaves it open
//! unwind-app cat PATH         prints PATH and the fd it was opened as
//! ```
//!
//! `echo` prints everything a reset could forget: how many times this
//! instance ran `main` (a static), its arguments and environment, the
//! contents of `/data/in.txt`, the fd a new file gets (one is left open on
//! purpose), the clock, a random-seeded hash, and a heap allocation sized
//! by its arguments (which grows memory); it writes `/data/out.txt` and
//! reads it back. Then `END=exit:N` in the environment exits with N,
//! `END=panic` panics, anything else returns. Its output on a fresh
//! instance is a function of its arguments, environment and files (and of
//! the guest's clock and random numbers), so a guest that resets the
//! program correctly gets the same output on every run.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::process;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How many times `main` ran in this instance: 1 on a fresh one.
static RUNS: AtomicU32 = AtomicU32::new(0);

fn main() {
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    match command {
        None => panic!("no command"),
        Some("ok") => println!("ok"),
        Some("exit") => {
            let code: i32 = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(1);
            println!("exiting with {code}");
            io::stdout().flush().ok();
            process::exit(code);
        }
        Some("panic") => panic!("{}", args[1..].join(" ")),
        Some("echo") => echo(runs, &args[1..]),
        Some("write") => {
            let (path, text) = (&args[1], &args[2]);
            if let Some((dir, _)) = path.rsplit_once('/')
                && !dir.is_empty()
            {
                fs::create_dir_all(dir).expect("cannot create the folder");
            }
            let mut file = fs::File::create(path).expect("cannot create");
            file.write_all(text.as_bytes()).expect("cannot write");
            println!(
                "wrote {} bytes to {path} as fd {}",
                text.len(),
                file.as_raw_fd()
            );
            // Left open: each program has fds of its own, so this one does
            // not change the fd another program's next open gets.
            std::mem::forget(file);
        }
        Some("cat") => {
            let path = &args[1];
            let file = fs::File::open(path).expect("cannot open");
            println!("opened {path} as fd {}", file.as_raw_fd());
            print!("{}", io::read_to_string(file).expect("cannot read"));
            println!();
        }
        Some(other) => {
            eprintln!("unwind-app: unknown command {other:?}");
            process::exit(2);
        }
    }
}

fn echo(runs: u32, words: &[String]) {
    println!("runs: {runs}");
    println!("args: {}", words.join(" "));
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (key, value) in &vars {
        println!("env: {key}={value}");
    }
    match fs::read_to_string("/data/in.txt") {
        Ok(text) => println!("in: {text}"),
        Err(error) => println!("in: {error}"),
    }
    // Left open on purpose: a guest that does not reset its fds shows it
    // in the next run's number.
    match fs::File::open("/data") {
        Ok(dir) => {
            println!("fd: {}", dir.as_raw_fd());
            std::mem::forget(dir);
        }
        Err(error) => println!("fd: {error}"),
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    println!("time: {nanos}");
    println!("hash: {:016x}", RandomState::new().hash_one("wasi-virt"));
    // A heap block sized by the words: enough to grow memory now and then.
    // One byte a page is written and summed: the growth is the point, and
    // an interpreter runs this 2,000 times in the tests.
    let size = words.iter().map(String::len).sum::<usize>() * 20_000;
    let mut block = vec![0u8; size];
    for i in (0..size).step_by(4096) {
        block[i] = (i % 251) as u8;
    }
    let sum: u64 = block.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    println!("heap: {size} bytes, sum {sum}");
    match fs::write("/data/out.txt", words.join("\n"))
        .and_then(|()| fs::read_to_string("/data/out.txt"))
    {
        Ok(text) => println!("out: {} lines", text.lines().count()),
        Err(error) => println!("out: {error}"),
    }
    io::stdout().flush().ok();
    match std::env::var("END").as_deref() {
        Ok("panic") => panic!("END=panic"),
        Ok(end) if end.starts_with("exit:") => {
            process::exit(end["exit:".len()..].parse().unwrap_or(1));
        }
        _ => {}
    }
}
