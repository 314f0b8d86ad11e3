//! A WASI preview1 *target* program: an ordinary Rust `main` that touches
//! what a wasi-virt guest virtualises (args, env, a directory tree, reading,
//! writing, `stat`, stdout, stderr, the exit code) and prints it all.
//!
//! The output is deterministic (sorted listings, no clocks, no randomness) so
//! that a run under wasmtime with real host WASI and a run of the merged
//! module can be compared byte for byte.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip1 --manifest-path examples/Cargo.toml -p demo-app
//! cp -r examples/site /tmp/site
//! wasmtime run --dir /tmp/site::/ --env GREETING=hi \
//!     examples/target/wasm32-wasip1/release/demo-app.wasm a b
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::process;

/// The code `main` exits with when neither `EXIT_CODE` nor the last argument
/// names one: non-zero, so that a host which loses the exit code shows it.
const DEFAULT_EXIT_CODE: i32 = 3;

fn main() {
    // argv[0] is left out: hosts disagree on it (wasmtime passes the path it
    // was given), and it would make runs on different hosts differ.
    let args: Vec<String> = std::env::args().skip(1).collect();

    println!("== args");
    for arg in &args {
        println!("{arg}");
    }

    println!("== env");
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (key, value) in &vars {
        println!("{key}={value}");
    }

    println!("== tree /");
    report(tree("/"));

    println!("== read /hello.txt");
    report(fs::read_to_string("/hello.txt").map(|text| print!("{text}")));

    println!("== write /out/notes.txt");
    report(write_notes());

    println!("== stat");
    for path in ["/docs/guide.txt", "/docs", "/out/notes.txt", "/missing.txt"] {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => println!("{path}: dir"),
            Ok(meta) => println!("{path}: file, {} bytes", meta.len()),
            Err(error) => println!("{path}: error: {error}"),
        }
    }

    let code = exit_code(&args);
    eprintln!("demo-app: exiting with code {code}");
    // `process::exit` skips destructors; flush what `println!` buffered.
    io::stdout().flush().ok();
    process::exit(code);
}

/// Prints every entry under `dir`, depth first, sorted by name; a directory
/// is marked with a trailing `/`.
fn tree(dir: &str) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            let is_dir = entry.file_type()?.is_dir();
            Ok((entry.file_name().to_string_lossy().into_owned(), is_dir))
        })
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    for (name, is_dir) in entries {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        if is_dir {
            println!("{path}/");
            tree(&path)?;
        } else {
            println!("{path}");
        }
    }
    Ok(())
}

/// Creates `/out/notes.txt` (and `/out`), writes it in two steps (create,
/// then append) and prints what reading it back gives.
fn write_notes() -> io::Result<()> {
    fs::create_dir_all("/out")?;
    fs::write("/out/notes.txt", "first line\n")?;
    let mut file = OpenOptions::new().append(true).open("/out/notes.txt")?;
    file.write_all(b"second line, appended\n")?;
    drop(file);
    print!("{}", fs::read_to_string("/out/notes.txt")?);
    Ok(())
}

/// `EXIT_CODE` if set, else the last argument if it is a number, else
/// [`DEFAULT_EXIT_CODE`].
fn exit_code(args: &[String]) -> i32 {
    std::env::var("EXIT_CODE")
        .ok()
        .and_then(|code| code.parse().ok())
        .or_else(|| args.last().and_then(|arg| arg.parse().ok()))
        .unwrap_or(DEFAULT_EXIT_CODE)
}

/// Prints a failed step's error on stdout, so that the output says what
/// failed and the remaining steps still run.
fn report(result: io::Result<()>) {
    if let Err(error) = result {
        println!("error: {error}");
    }
}
