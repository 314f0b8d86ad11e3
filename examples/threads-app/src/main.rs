//! One case per run: `threads-app CASE`. Each prints what it saw, in an
//! order that does not depend on scheduling, so that the same program under
//! wasmtime's own WASI and packed prints the same bytes.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "spawn" => spawn(),
        "sync" => sync(),
        "append" => append(),
        "fs" => fs_from_threads(),
        "panic" => panic_in_thread(),
        "exit" => exit_from_thread(),
        "sleep" => sleep_across_threads(),
        "rayon" => rayon_sum(),
        "race" => race(),
        "limit" => limit(),
        "work" => work(),
        "many" => many(),
        "calls" => calls(),
        other => {
            eprintln!("unknown case `{other}`");
            std::process::exit(2);
        }
    }
}

/// Spawn and join, with results.
fn spawn() {
    let handles: Vec<_> = (1..=4u64)
        .map(|i| thread::spawn(move || (i, (1..=i * 1000).sum::<u64>())))
        .collect();
    for h in handles {
        let (i, sum) = h.join().unwrap();
        println!("thread {i}: {sum}");
    }
}

/// Mutex, Condvar, Barrier, mpsc, thread_local!.
fn sync() {
    thread_local!(static MINE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let counter = Arc::new(Mutex::new(0u32));
    let barrier = Arc::new(Barrier::new(4));
    let ready = Arc::new((Mutex::new(false), Condvar::new()));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..4u32)
        .map(|i| {
            let (counter, barrier, ready, tx) =
                (counter.clone(), barrier.clone(), ready.clone(), tx.clone());
            thread::spawn(move || {
                MINE.with(|m| m.set(i * 10));
                for _ in 0..1000 {
                    *counter.lock().unwrap() += 1;
                }
                barrier.wait();
                let (lock, cvar) = &*ready;
                let mut go = lock.lock().unwrap();
                while !*go {
                    go = cvar.wait(go).unwrap();
                }
                tx.send((i, MINE.with(|m| m.get()))).unwrap();
            })
        })
        .collect();
    drop(tx);
    thread::sleep(Duration::from_millis(10));
    *ready.0.lock().unwrap() = true;
    ready.1.notify_all();
    let mut got: Vec<(u32, u32)> = rx.iter().collect();
    got.sort();
    for h in handles {
        h.join().unwrap();
    }
    println!("counter: {}", counter.lock().unwrap());
    println!("thread locals: {got:?}");
    MINE.with(|m| println!("main's own: {}", m.get()));
}

/// 8 threads append to one file each opens, and to a file main opened.
fn append() {
    let dir = work_dir();
    let shared = dir.join("shared.log");
    let own = dir.join("own.log");
    let main_file = Arc::new(Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&shared)
            .unwrap(),
    ));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (main_file, own) = (main_file.clone(), own.clone());
            thread::spawn(move || {
                for j in 0..20 {
                    let line = format!("thread {i} line {j}\n");
                    main_file
                        .lock()
                        .unwrap()
                        .write_all(line.as_bytes())
                        .unwrap();
                    let mut f = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&own)
                        .unwrap();
                    f.write_all(line.as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for path in [&shared, &own] {
        let text = fs::read_to_string(path).unwrap();
        let mut per_thread: BTreeMap<String, usize> = BTreeMap::new();
        for line in text.lines() {
            *per_thread
                .entry(line.split(" line").next().unwrap().to_string())
                .or_default() += 1;
        }
        println!(
            "{}: {} bytes, {} lines, {per_thread:?}",
            path.display(),
            text.len(),
            text.lines().count()
        );
    }
}

/// std::fs from threads: create, rename, readdir.
fn fs_from_threads() {
    let dir = work_dir().join("work");
    fs::create_dir_all(&dir).unwrap();
    // Each thread lists the folder once every rename is done: a host's
    // readdir of a real folder that another thread renames in can fail
    // (wasmtime stats each entry it lists).
    let renamed = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (dir, renamed) = (dir.clone(), renamed.clone());
            thread::spawn(move || {
                let a = dir.join(format!("new-{i}.txt"));
                fs::write(&a, format!("file of thread {i}\n")).unwrap();
                fs::rename(&a, dir.join(format!("done-{i}.txt"))).unwrap();
                renamed.wait();
                fs::read_dir(&dir).unwrap().count()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 4);
    }
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let mut text = String::new();
        File::open(dir.join(&name))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        print!("{name}: {text}");
    }
}

/// A panic in a thread: the program aborts (134).
fn panic_in_thread() {
    println!("before");
    let h = thread::spawn(|| panic!("a thread panics"));
    let _ = h.join();
    thread::sleep(Duration::from_secs(5));
    println!("not reached");
}

/// process::exit(42) from a thread while main waits.
fn exit_from_thread() {
    println!("main waits");
    thread::spawn(|| {
        thread::sleep(Duration::from_millis(50));
        std::process::exit(42);
    });
    thread::sleep(Duration::from_secs(5));
    println!("not reached");
}

/// Sleeps and a receive with a timeout across threads.
fn sleep_across_threads() {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<u32>();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        tx.send(7).unwrap();
    });
    let early = rx.recv_timeout(Duration::from_millis(50));
    println!("early: {early:?}");
    let later = rx.recv_timeout(Duration::from_secs(5));
    println!("later: {later:?}");
    h.join().unwrap();
    println!(
        "took at least 200 ms: {}",
        started.elapsed() >= Duration::from_millis(200)
    );
}

/// rayon's par_iter over a few threads.
fn rayon_sum() {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let sum: u64 = pool.install(|| (1..=2_000_000u64).into_par_iter().map(|x| x % 7).sum());
    println!("sum: {sum}");
}

/// Threads racing on an atomic and on the guest (every thread writes to
/// stdout at once); run many times by the tests.
fn race() {
    let total = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let total = total.clone();
            thread::spawn(move || {
                for _ in 0..100 {
                    total.fetch_add(1, Ordering::Relaxed);
                }
                // The same line from every thread: the bytes do not depend
                // on the order.
                let mut out = std::io::stdout().lock();
                writeln!(out, "a thread is done").unwrap();
                i
            })
        })
        .collect();
    let mut ids: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ids.sort();
    println!("total {} from {ids:?}", total.load(Ordering::Relaxed));
}

/// 5,000 short threads, one after the other: a host that kept each
/// thread's resources (a guest stack) after it ended would run out.
fn many() {
    let mut sum = 0u64;
    for i in 0..5000u64 {
        sum += thread::spawn(move || i * 2).join().unwrap();
    }
    println!("5000 threads, sum {sum}");
}

/// The benchmark's CPU-bound workload: `work THREADS`, rayon counting the
/// primes below 2,000,000 on a pool of THREADS; prints the count and the
/// time it took (the program's own clock).
fn work() {
    use rayon::prelude::*;
    let threads: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let started = Instant::now();
    let primes = pool.install(|| {
        (2..2_000_000u32)
            .into_par_iter()
            .with_min_len(1000)
            .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
            .count()
    });
    println!("{primes} primes, {} ms", started.elapsed().as_millis());
}

/// The benchmark's per-call workload: `calls N`, N rounds of open, read
/// 16 bytes, close of one file; prints the time per round in ns.
fn calls() {
    let rounds: u32 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let path = work_dir().join("calls.txt");
    fs::write(&path, "sixteen bytes!!\n").unwrap();
    let mut buf = [0u8; 16];
    let started = Instant::now();
    for _ in 0..rounds {
        let mut f = File::open(&path).unwrap();
        f.read_exact(&mut buf).unwrap();
    }
    let ns = started.elapsed().as_nanos() / u128::from(rounds.max(1));
    println!("{ns} ns per open + read + close");
}

/// Spawns threads that wait until told, until six run or a spawn fails;
/// says how many ran and why the next could not.
fn limit() {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(Mutex::new(rx));
    let mut handles = Vec::new();
    let mut refused = None;
    for _ in 0..6 {
        let rx = rx.clone();
        match thread::Builder::new().spawn(move || {
            let _ = rx.lock().unwrap().recv();
        }) {
            Ok(h) => handles.push(h),
            Err(e) => {
                refused = Some(e.kind());
                break;
            }
        }
    }
    println!("{} threads ran; then {refused:?}", handles.len());
    drop(tx);
    for h in handles {
        h.join().unwrap();
    }
}

/// Where the cases write: `/tmp`, a folder the host or `pack` mounts.
fn work_dir() -> std::path::PathBuf {
    std::path::PathBuf::from("/tmp")
}
