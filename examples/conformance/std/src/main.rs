//! Conformance cases written with Rust's standard library:
//! `conformance-std CASE`. Each prints what it sees; nothing printed
//! depends on timestamps, inode numbers or the order a host lists a
//! directory in. Errors print as `io::ErrorKind` and the raw OS error.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant, SystemTime};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match CASES.iter().find(|(name, _)| *name == case) {
        Some((_, run)) => run(),
        None => {
            eprintln!("unknown case {case:?}");
            std::process::exit(2);
        }
    }
}

const CASES: &[(&str, fn())] = &[
    ("files", files),
    ("dirs", dirs),
    ("links", links),
    ("errors", errors),
    ("env", env),
    ("time", time),
    ("stdin", stdin),
    ("exit", exit),
    ("overlay", overlay),
];

fn show<T: std::fmt::Debug>(label: &str, r: io::Result<T>) {
    match r {
        Ok(v) => println!("{label}: ok {v:?}"),
        Err(e) => println!("{label}: {:?} (os error {:?})", e.kind(), e.raw_os_error()),
    }
}

/// The entries of `dir`, sorted, with their types.
fn listing(dir: &str) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let t = entry.file_type()?;
        let kind = if t.is_dir() {
            "dir"
        } else if t.is_symlink() {
            "symlink"
        } else {
            "file"
        };
        names.push(format!("{}:{kind}", entry.file_name().to_string_lossy()));
    }
    names.sort();
    Ok(names)
}

fn files() {
    show("write", fs::write("/out.txt", "first\n"));
    show("read", fs::read_to_string("/out.txt"));
    let mut f = OpenOptions::new().append(true).open("/out.txt").unwrap();
    show("append", f.write_all(b"second\n"));
    show("read after append", fs::read_to_string("/out.txt"));
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/digits.txt")
        .unwrap();
    show("seek end", f.seek(SeekFrom::End(-5)));
    let mut s = String::new();
    show("read rest", f.read_to_string(&mut s).map(|_| s.clone()));
    show("seek start", f.seek(SeekFrom::Start(3)));
    show("overwrite", f.write_all(b"XYZ"));
    show("set_len", f.set_len(12));
    show("sync_all", f.sync_all());
    show("metadata len", f.metadata().map(|m| m.len()));
    show("content", fs::read_to_string("/digits.txt"));
    show("copy", fs::copy("/hello.txt", "/tmp/hello-copy.txt"));
    show("copied", fs::read_to_string("/tmp/hello-copy.txt"));
    show(
        "create_new existing",
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("/hello.txt")
            .map(|_| ()),
    );
    show(
        "truncate",
        File::create("/empty.txt").and_then(|mut f| f.write_all(b"now full")),
    );
    show(
        "metadata",
        fs::metadata("/empty.txt").map(|m| (m.is_file(), m.len())),
    );
    show("remove_file", fs::remove_file("/dir/a.txt"));
    show("read removed", fs::read("/dir/a.txt"));
    let big = vec![7u8; 300_000];
    show("write big", fs::write("/tmp/big.bin", &big));
    show(
        "read big",
        fs::read("/tmp/big.bin").map(|b| (b.len(), b == big)),
    );
}

fn dirs() {
    show("listing /", listing("/"));
    show("listing /dir", listing("/dir"));
    show("create_dir_all", fs::create_dir_all("/a/b/c"));
    show("create_dir existing", fs::create_dir("/a"));
    show("write deep", fs::write("/a/b/c/d.txt", "deep"));
    show("listing /a/b/c", listing("/a/b/c"));
    show("remove_dir non-empty", fs::remove_dir("/a"));
    show("remove_dir_all", fs::remove_dir_all("/a"));
    show("exists after", fs::exists("/a"));
    show("rename dir", fs::rename("/dir", "/tmp/moved"));
    show("listing /tmp/moved", listing("/tmp/moved"));
    show("listing /tmp/moved/sub", listing("/tmp/moved/sub"));
    show(
        "rename file over file",
        fs::rename("/hello.txt", "/empty.txt"),
    );
    show("read", fs::read_to_string("/empty.txt"));
    show("remove_dir_all embedded", fs::remove_dir_all("/notempty"));
    show("listing / after", listing("/"));
    show(
        "metadata dir",
        fs::metadata("/tmp/moved").map(|m| m.is_dir()),
    );
    show(
        "read_dir of a file",
        fs::read_dir("/digits.txt").map(|_| ()),
    );
}

fn links() {
    // (Creating a symlink is unstable in std on WASI: the raw cases do it.)
    show("read_link", fs::read_link("/link-file"));
    show("read through", fs::read_to_string("/link-file"));
    show(
        "symlink_metadata",
        fs::symlink_metadata("/link-file").map(|m| m.file_type().is_symlink()),
    );
    show(
        "metadata follows",
        fs::metadata("/link-file").map(|m| m.is_file()),
    );
    show("read_link link-dir", fs::read_link("/link-dir"));
    show("read via link-dir", fs::read_to_string("/link-dir/b.txt"));
    show("dangling metadata", fs::metadata("/dangling").map(|_| ()));
    show("loop metadata", fs::metadata("/loop").map(|_| ()));
    show("hard_link", fs::hard_link("/hello.txt", "/hard.txt"));
    show(
        "write through hard link",
        OpenOptions::new()
            .append(true)
            .open("/hard.txt")
            .and_then(|mut f| f.write_all(b"more\n")),
    );
    show("read original", fs::read_to_string("/hello.txt"));
    show("remove link", fs::remove_file("/link-file"));
    show(
        "original still there",
        fs::read_to_string("/hello.txt").map(|s| s.len()),
    );
}

fn errors() {
    show("open missing", File::open("/missing.txt").map(|_| ()));
    show(
        "open a dir for writing",
        OpenOptions::new().write(true).open("/dir").map(|_| ()),
    );
    show("remove_file a dir", fs::remove_file("/dir"));
    show("remove_dir a file", fs::remove_dir("/hello.txt"));
    show("create_dir under a file", fs::create_dir("/hello.txt/x"));
    show("rename dir into itself", fs::rename("/dir", "/dir/sub/x"));
    show(
        "rename onto non-empty dir",
        fs::rename("/dir/sub", "/notempty"),
    );
    show("read_link of a file", fs::read_link("/hello.txt"));
    show(
        "open nothing preopened",
        File::open("/nowhere/else").map(|_| ()),
    );
    show(
        "read_to_string of binary",
        fs::write("/bin", [0xffu8, 0xfe]).and_then(|_| fs::read_to_string("/bin")),
    );
}

fn env() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    println!("vars: {vars:?}");
    println!("var GREETING: {:?}", std::env::var("GREETING"));
    println!("var MISSING: {:?}", std::env::var("MISSING"));
    show("current_dir", std::env::current_dir());
}

fn time() {
    let now = SystemTime::now();
    println!(
        "after 2000: {}",
        now.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            >= 946_684_800
    );
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    println!("slept 5ms: {}", start.elapsed() >= Duration::from_millis(5));
    let a = Instant::now();
    let b = Instant::now();
    println!("monotonic: {}", b >= a);
}

fn stdin() {
    let mut s = String::new();
    show(
        "read stdin",
        io::stdin().read_to_string(&mut s).map(|n| (n, s.clone())),
    );
    eprintln!("to stderr");
    println!("done");
}

fn exit() {
    println!("exiting with 7");
    io::stdout().flush().unwrap();
    std::process::exit(7);
}

fn overlay() {
    show(
        "append to an embedded file",
        OpenOptions::new()
            .append(true)
            .open("/dir/b.txt")
            .and_then(|mut f| f.write_all(b"changed\n")),
    );
    show("read it", fs::read_to_string("/dir/b.txt"));
    show(
        "remove an embedded dir's file",
        fs::remove_file("/dir/sub/c.txt"),
    );
    show("remove the emptied dir", fs::remove_dir("/dir/sub"));
    show("recreate it", fs::create_dir("/dir/sub"));
    show("listing /dir", listing("/dir"));
    show(
        "rename an embedded file across preopens",
        fs::rename("/digits.txt", "/tmp/digits.txt"),
    );
    show("read it there", fs::read_to_string("/tmp/digits.txt"));
    show("listing /", listing("/"));
}
