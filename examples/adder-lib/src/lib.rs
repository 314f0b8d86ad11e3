//! A WASI preview1 *reactor*: a library with `_initialize` and exports, and
//! no `_start`. `_initialize` reads `GREETING` from the environment; `add`
//! prints a line and adds, panicking on overflow.

use std::sync::Mutex;

static GREETING: Mutex<String> = Mutex::new(String::new());
static CALLS: Mutex<u32> = Mutex::new(0);

/// Sets the library up: what a reactor's host calls once, first.
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "hello".into());
    *GREETING.lock().unwrap() = greeting;
}

/// `a + b`, announced on stdout; panics on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    let calls = {
        let mut calls = CALLS.lock().unwrap();
        *calls += 1;
        *calls
    };
    println!("{} (call {calls}): {a} + {b}", GREETING.lock().unwrap());
    a.checked_add(b).expect("add overflowed")
}
