//! `sleep-app MODE MS`: waits about MS milliseconds and prints how long it
//! took, as the monotonic clock measured it (`slept N ms`).
//!
//! - `relative`: `std::thread::sleep` (a relative clock subscription);
//! - `absolute`: one `poll_oneoff` on an absolute monotonic deadline;
//! - `stdin`: one `poll_oneoff` on stdin being readable, with an MS
//!   timeout; also prints which subscription fired (`fired clock` when
//!   nothing came on stdin).

use std::time::{Duration, Instant};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> i32;
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
}

const MONOTONIC: u32 = 1;
const ABSTIME: u16 = 1;

/// A clock subscription (48 bytes, preview1's layout).
fn clock(userdata: u64, timeout: u64, flags: u16) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[16..20].copy_from_slice(&MONOTONIC.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&flags.to_le_bytes());
    b
}

/// An fd-read subscription.
fn fd_read(userdata: u64, fd: u32) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = 1;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    b
}

/// Polls `subs`; returns the userdata of each event.
fn poll(subs: &[[u8; 48]]) -> Vec<u64> {
    let mut events = vec![0u8; 32 * subs.len()];
    let mut n = 0;
    let raw = unsafe {
        poll_oneoff(
            subs.as_ptr().cast(),
            events.as_mut_ptr(),
            subs.len() as u32,
            &mut n,
        )
    };
    assert_eq!(raw, 0, "poll_oneoff failed with errno {raw}");
    events
        .chunks_exact(32)
        .take(n as usize)
        .map(|e| u64::from_le_bytes(e[0..8].try_into().unwrap()))
        .collect()
}

fn now_ns() -> u64 {
    let mut t = 0;
    assert_eq!(unsafe { clock_time_get(MONOTONIC, 1, &mut t) }, 0);
    t
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(ms)) = (args.get(1), args.get(2).and_then(|m| m.parse::<u64>().ok()))
    else {
        eprintln!("usage: sleep-app relative|absolute|stdin MS");
        std::process::exit(2);
    };
    let ns = ms * 1_000_000;
    let start = Instant::now();
    match mode.as_str() {
        "relative" => std::thread::sleep(Duration::from_millis(ms)),
        "absolute" => {
            poll(&[clock(7, now_ns() + ns, ABSTIME)]);
        }
        "stdin" => {
            let fired = poll(&[fd_read(1, 0), clock(2, ns, 0)]);
            let names: Vec<&str> = fired
                .iter()
                .map(|&u| if u == 1 { "stdin" } else { "clock" })
                .collect();
            println!("fired {}", names.join(" "));
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
    println!("slept {} ms", start.elapsed().as_millis());
}
