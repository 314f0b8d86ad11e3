//! Hostile targets at run time: hand-written programs that make raw WASI
//! calls with every kind of bad argument, merged with the example guest
//! (`vfs-demo`) and run with nothing linked.
//!
//! Each program prints one line per call (`label: errno [value]`) through
//! `fd_write`, so a test asserts the whole transcript at once and every line
//! is itself a later normal call that must still work. For every call the
//! test states the errno the project gives; the same program runs unmerged
//! under the wasmtime CLI with host WASI on a temporary copy of the site the
//! guest embeds, and must print the same transcript except on the lines
//! where the project deliberately differs, each listed with wasmtime's line
//! and the reason.
//!
//! What every test checks besides the transcript: the merged program ends
//! without a trap (a hostile call never traps inside the guest), and under
//! wasmtime nothing appears beside the preopened folder (nothing outside the
//! preopen was reachable to write to).
//!
//! To add a case: write it with the project's answer, then run the test with
//! `HOSTILE_EXPLORE=1 -- --nocapture` to see wasmtime's answer to each call.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_virt_abi::preview1;
use wasi_virt_tests::{
    Outcome, Tool, copy_dir_all, have, repo_root, run_in_node, run_in_wasmi, wasi_virt_bin,
    wasm_example,
};

/// The target's memory: two pages, so that a 64 KiB path fits in the second.
const PAGES: u32 = 2;
/// One past the last byte of the target's memory.
const END: u32 = PAGES * 65536;

/// Where the program keeps what: the print helper's iovec, the number
/// buffer, per-call scratch (out-pointers, iovecs), strings, buffers.
const PRINT_SCRATCH: u32 = 0x0;
const NUM_END: u32 = 0x120;
/// Out-pointer for a call's result (8 bytes, enough for a u64).
const R: u32 = 0x200;
/// Per-call iovec arrays.
const IOV: u32 = 0x300;
const STRINGS: u32 = 0x1000;
/// A scratch buffer for reads (up to 0x8000 bytes).
const BUF: u32 = 0x8000;
/// 64 KiB of `a`, filled at start: a path component of 65 536 bytes.
const LONG: u32 = 0x10000;

// preview1 errno values the transcripts show.
const SUCCESS: u32 = 0;
const EBADF: u32 = 8;
const EFAULT: u32 = 21;
const EILSEQ: u32 = 25;
const EINVAL: u32 = 28;
const ELOOP: u32 = 32;
const ENAMETOOLONG: u32 = 37;
const ENOENT: u32 = 44;
const ENOMEM: u32 = 48;
const EPERM: u32 = 63;
const ENOTCAPABLE: u32 = 76;

/// `lookupflags::SYMLINK_FOLLOW`.
const FOLLOW: u32 = 1;

/// How wasmtime's host WASI answers a call, compared with the project.
#[derive(Clone)]
enum Host {
    /// It prints the same line.
    Same,
    /// It prints this line instead, for this reason (a deliberate
    /// difference of the project, documented where it is decided).
    Differs(String, &'static str),
    /// It traps (`Pointer out of bounds` and the like: wasmtime ends the
    /// program where the project answers `EFAULT`, as the design asks).
    Traps(&'static str),
}

/// One step of a program.
enum Item {
    /// Instructions with no output (setting up memory, opening files).
    Raw(String),
    /// Instructions that print one line.
    Case {
        wat: String,
        /// What the merged program prints.
        line: String,
        host: Host,
    },
}

/// A WAT program under construction, and the transcript it must print.
struct Program {
    data: Vec<(u32, Vec<u8>)>,
    next_string: u32,
    items: Vec<Item>,
}

impl Program {
    fn new() -> Program {
        Program {
            data: Vec::new(),
            next_string: STRINGS,
            items: Vec::new(),
        }
    }

    /// Places `bytes` in the string area; returns `(ptr, len)`.
    fn bytes(&mut self, bytes: &[u8]) -> (u32, u32) {
        let at = self.next_string;
        self.next_string += (bytes.len() as u32).div_ceil(8) * 8 + 8;
        assert!(self.next_string < BUF, "the string area is full");
        self.data.push((at, bytes.to_vec()));
        (at, bytes.len() as u32)
    }

    /// `(i32.const ptr) (i32.const len)` of a string placed in memory.
    fn s(&mut self, text: &str) -> String {
        let (p, l) = self.bytes(text.as_bytes());
        format!("(i32.const {p}) (i32.const {l})")
    }

    /// Emits instructions whose stack effect is empty and that print nothing.
    fn raw(&mut self, wat: &str) -> &mut Program {
        self.items.push(Item::Raw(wat.to_string()));
        self
    }

    /// A call whose errno is printed: `label: errno`.
    fn call(&mut self, label: &str, errno_expr: &str, expect: u32) -> &mut Program {
        let (lp, ll) = self.bytes(label.as_bytes());
        self.items.push(Item::Case {
            wat: format!("(call $report (i32.const {lp}) (i32.const {ll}) {errno_expr})"),
            line: format!("{label}: {expect}"),
            host: Host::Same,
        });
        self
    }

    /// A call whose errno and then the u32 at `at` are printed:
    /// `label: errno value`.
    fn call_then(
        &mut self,
        label: &str,
        errno_expr: &str,
        at: u32,
        expect: u32,
        value: u32,
    ) -> &mut Program {
        let (lp, ll) = self.bytes(label.as_bytes());
        self.items.push(Item::Case {
            wat: format!(
                "(call $report2 (i32.const {lp}) (i32.const {ll}) {errno_expr} (i32.load (i32.const {at})))"
            ),
            line: format!("{label}: {expect} {value}"),
            host: Host::Same,
        });
        self
    }

    /// Prints `len` bytes at `ptr` and a newline; they must read `expect`.
    fn show(&mut self, ptr: u32, len: u32, expect: &str) -> &mut Program {
        self.items.push(Item::Case {
            wat: format!("(call $print (i32.const {ptr}) (i32.const {len})) (call $nl)"),
            line: expect.to_string(),
            host: Host::Same,
        });
        self
    }

    fn last_host(&mut self) -> &mut Host {
        match self.items.last_mut() {
            Some(Item::Case { host, .. }) => host,
            _ => panic!("no line to qualify"),
        }
    }

    /// Under wasmtime the last line reads `line` instead, for `reason`.
    fn wasmtime(&mut self, line: &str, reason: &'static str) -> &mut Program {
        *self.last_host() = Host::Differs(line.to_string(), reason);
        self
    }

    /// Under wasmtime the last line differs only by its errno.
    fn wasmtime_errno(&mut self, errno: u32, reason: &'static str) -> &mut Program {
        let Some(Item::Case { line, .. }) = self.items.last() else {
            panic!("no line to qualify")
        };
        let (label, rest) = line.split_once(": ").expect("a call line");
        let tail = rest.split_once(' ').map(|(_, v)| format!(" {v}"));
        let line = format!("{label}: {errno}{}", tail.unwrap_or_default());
        self.wasmtime(&line, reason)
    }

    /// wasmtime traps on the last call (an out-of-range pointer).
    fn wasmtime_traps(&mut self, message: &'static str) -> &mut Program {
        *self.last_host() = Host::Traps(message);
        self
    }

    /// The module with the cases `keep` selects (by index among cases).
    fn wat(&self, keep: impl Fn(usize, &Host) -> bool) -> String {
        let mut body = String::new();
        let mut case = 0;
        for item in &self.items {
            match item {
                Item::Raw(wat) => body.push_str(wat),
                Item::Case { wat, host, .. } => {
                    if keep(case, host) {
                        body.push_str(wat);
                    }
                    case += 1;
                }
            }
            body.push('\n');
        }
        let mut wat = String::from("(module\n");
        for f in preview1::FUNCTIONS {
            let _ = writeln!(
                wat,
                "  (import \"{}\" \"{}\" (func ${} {}))",
                preview1::MODULE,
                f.name,
                f.name,
                f.signature()
            );
        }
        let _ = write!(
            wat,
            r#"
  (memory (export "memory") {PAGES})
  (func $print (param $p i32) (param $l i32)
    (i32.store (i32.const {PRINT_SCRATCH}) (local.get $p))
    (i32.store (i32.const {iov_len}) (local.get $l))
    (drop (call $fd_write (i32.const 1) (i32.const {PRINT_SCRATCH}) (i32.const 1) (i32.const {nwritten}))))
  (func $nl (i32.store8 (i32.const {nl}) (i32.const 10)) (call $print (i32.const {nl}) (i32.const 1)))
  (func $num (param $n i32)
    (local $at i32)
    (local.set $at (i32.const {NUM_END}))
    (loop $digits
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (call $print (local.get $at) (i32.sub (i32.const {NUM_END}) (local.get $at))))
  (func $label (param $p i32) (param $l i32)
    (call $print (local.get $p) (local.get $l))
    (i32.store16 (i32.const {sep}) (i32.const 0x203a))
    (call $print (i32.const {sep}) (i32.const 2)))
  (func $report (param $p i32) (param $l i32) (param $errno i32)
    (call $label (local.get $p) (local.get $l))
    (call $num (local.get $errno))
    (call $nl))
  (func $report2 (param $p i32) (param $l i32) (param $errno i32) (param $value i32)
    (call $label (local.get $p) (local.get $l))
    (call $num (local.get $errno))
    (i32.store8 (i32.const {sep}) (i32.const 32))
    (call $print (i32.const {sep}) (i32.const 1))
    (call $num (local.get $value))
    (call $nl))
  (func (export "_start") (local i32)
    (memory.fill (i32.const {LONG}) (i32.const 97) (i32.const 65536))
{body}  )
"#,
            iov_len = PRINT_SCRATCH + 4,
            nwritten = PRINT_SCRATCH + 8,
            nl = PRINT_SCRATCH + 12,
            sep = NUM_END + 4,
        );
        for (at, bytes) in &self.data {
            let _ = write!(wat, "  (data (i32.const {at}) \"");
            for b in bytes {
                let _ = write!(wat, "\\{b:02x}");
            }
            wat.push_str("\")\n");
        }
        wat.push_str(")\n");
        wat
    }

    fn cases(&self) -> impl Iterator<Item = (&String, &Host)> {
        self.items.iter().filter_map(|item| match item {
            Item::Case { line, host, .. } => Some((line, host)),
            Item::Raw(_) => None,
        })
    }

    /// What the merged program prints.
    fn expected(&self) -> String {
        self.cases().map(|(line, _)| format!("{line}\n")).collect()
    }

    /// What the program without its trapping calls prints under wasmtime,
    /// up to case `upto` (excluded).
    fn expected_under_wasmtime(&self, upto: usize) -> String {
        self.cases()
            .take(upto)
            .filter_map(|(line, host)| match host {
                Host::Same => Some(format!("{line}\n")),
                Host::Differs(line, _) => Some(format!("{line}\n")),
                Host::Traps(_) => None,
            })
            .collect()
    }

    /// The deliberate differences from wasmtime, one per line, for messages.
    fn differences(&self) -> String {
        let mut out = String::from("deliberate differences from wasmtime:\n");
        for (line, host) in self.cases() {
            match host {
                Host::Same => {}
                Host::Differs(theirs, why) => {
                    let _ = writeln!(out, "  `{line}` (wasmtime: `{theirs}`): {why}");
                }
                Host::Traps(message) => {
                    let _ = writeln!(out, "  `{line}` (wasmtime traps: {message})");
                }
            }
        }
        out
    }
}

/// Every right preview1 defines.
const ALL_RIGHTS: u64 = (1 << 30) - 1;
/// `fd_write`: a directory opened with it is `EISDIR`.
const FD_WRITE: u64 = 1 << 6;

/// `path_open` from directory `fd` with every right, into `R`.
fn open(fd: u32, dirflags: u32, path: &str, oflags: u32) -> String {
    format!(
        "(call $path_open (i32.const {fd}) (i32.const {dirflags}) {path} (i32.const {oflags}) (i64.const {ALL_RIGHTS}) (i64.const {ALL_RIGHTS}) (i32.const 0) (i32.const {R}))"
    )
}

/// `path_open` of a directory (`oflags::DIRECTORY`, no `FD_WRITE`), into `R`.
fn open_dir(fd: u32, path: &str) -> String {
    format!(
        "(call $path_open (i32.const {fd}) (i32.const 0) {path} (i32.const 2) (i64.const {}) (i64.const {ALL_RIGHTS}) (i32.const 0) (i32.const {R}))",
        ALL_RIGHTS & !FD_WRITE
    )
}

/// Stores an iovec `{buf, len}` at `at`.
fn iovec(at: u32, buf: u32, len: u32) -> String {
    format!(
        "(i32.store (i32.const {at}) (i32.const {buf})) (i32.store (i32.const {}) (i32.const {len}))",
        at + 4
    )
}

/// Merges the program with `vfs-demo`, runs it with nothing linked (wasmi,
/// and Node when there), and under wasmtime on a copy of the site; checks
/// every transcript and that nothing escaped.
fn check(program: &Program) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("hostile.wasm");
    write_wat(&target, &program.wat(|_, _| true));
    let merged = merge(&target, dir.path());
    let outcome = run_in_wasmi(&std::fs::read(&merged).unwrap(), "_start").unwrap();
    assert_transcript("merged, in wasmi", &outcome, &program.expected());
    if have(Tool::Node22) {
        let outcome = run_in_node(&merged).unwrap();
        assert_transcript("merged, in Node", &outcome, &program.expected());
    }
    if !have(Tool::Wasmtime) {
        return;
    }
    if std::env::var_os("HOSTILE_EXPLORE").is_some() {
        explore(program, dir.path());
    }
    // The whole program but the calls on which wasmtime traps.
    let reference = dir.path().join("reference.wasm");
    write_wat(
        &reference,
        &program.wat(|_, host| !matches!(host, Host::Traps(_))),
    );
    let outcome = in_wasmtime(&reference);
    assert_eq!(
        outcome.status, 0,
        "under wasmtime: the program did not end normally: {}",
        outcome.stderr
    );
    assert_lines(
        "unmerged, under wasmtime with host WASI",
        &outcome.stdout,
        &program.expected_under_wasmtime(usize::MAX),
        &program.differences(),
    );
    // Each call on which wasmtime traps, after the others before it.
    let traps = program
        .cases()
        .enumerate()
        .filter_map(|(i, (line, host))| match host {
            Host::Traps(message) => Some((i, line, *message)),
            _ => None,
        });
    for (i, line, message) in traps {
        write_wat(
            &reference,
            &program.wat(|j, host| j == i || (j < i && !matches!(host, Host::Traps(_)))),
        );
        let outcome = in_wasmtime(&reference);
        assert!(
            outcome.status != 0 && outcome.stderr.contains(message),
            "under wasmtime, `{line}` should trap with `{message}`: {}",
            outcome.stderr
        );
        // What the trapping call itself wrote before trapping (wasmtime
        // writes `fd_write`'s data, then traps on `nwritten`) may follow.
        let expected = program.expected_under_wasmtime(i);
        let before = outcome
            .stdout
            .get(..expected.len())
            .unwrap_or(&outcome.stdout);
        assert_lines(
            &format!("under wasmtime, before `{line}`"),
            before,
            &expected,
            &program.differences(),
        );
    }
}

fn write_wat(path: &Path, wat: &str) {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    std::fs::write(path, bytes).unwrap();
}

/// What a wasmtime run printed.
struct HostRun {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `wasm` under the wasmtime CLI with a fresh copy of the site as `/`
/// and the environment and arguments `vfs-demo` gives,
/// one level down in a folder of its own, and checks that nothing appeared
/// beside it.
fn in_wasmtime(wasm: &Path) -> HostRun {
    let jail = tempfile::tempdir().unwrap();
    let site = jail.path().join("site");
    copy_dir_all(&repo_root().join("examples/site"), &site).unwrap();
    let wasmtime = Tool::Wasmtime.locate().unwrap();
    let output = Command::new(wasmtime)
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/", site.display()))
        .args([
            "--env",
            "GREETING=hello from vfs-demo",
            "--env",
            "EXIT_CODE=3",
        ])
        .arg(wasm)
        .args(["hello", "wörld"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let beside: Vec<_> = std::fs::read_dir(jail.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        beside,
        ["site"],
        "something was written outside the preopen"
    );
    HostRun {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `HOSTILE_EXPLORE=1`: prints what wasmtime answers to each call, run
/// after the calls before it on which it does not trap (to fill in a new
/// case's `Host`).
fn explore(program: &Program, dir: &Path) {
    let wasm = dir.join("explore.wasm");
    let cases: Vec<_> = program.cases().collect();
    let mut trapped = Vec::new();
    for (i, (line, _)) in cases.iter().enumerate() {
        write_wat(
            &wasm,
            &program.wat(|j, _| j == i || (j < i && !trapped.contains(&j))),
        );
        let run = in_wasmtime(&wasm);
        let answer = match run.status {
            0 => run.stdout.lines().last().unwrap_or("").to_string(),
            _ => {
                trapped.push(i);
                let last = run.stderr.lines().rev().find(|l| !l.trim().is_empty());
                format!("TRAP {}", last.unwrap_or("").trim())
            }
        };
        eprintln!("{line:<60} | {answer}");
    }
}

/// Merges `target` with the example guest into `dir`; returns the output.
fn merge(target: &Path, dir: &Path) -> PathBuf {
    let guest = wasm_example("vfs-demo", "wasm32-wasip1");
    let out = dir.join("merged.wasm");
    let output = Command::new(wasi_virt_bin())
        .arg("merge")
        .arg(&guest)
        .arg(target)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "merge failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// The run ended normally (no trap: a hostile call never traps inside the
/// guest) and printed `expected`.
fn assert_transcript(run: &str, outcome: &Outcome, expected: &str) {
    assert_eq!(
        (outcome.exit_code, &outcome.trap),
        (Some(0), &None),
        "{run}: the program did not end normally: {outcome:?}"
    );
    assert_lines(run, &outcome.stdout_text(), expected, "");
}

/// `actual` is `expected`; otherwise the panic shows both side by side.
fn assert_lines(run: &str, actual: &str, expected: &str, note: &str) {
    if actual == expected {
        return;
    }
    let mut diff = String::new();
    let (a, e): (Vec<_>, Vec<_>) = (actual.lines().collect(), expected.lines().collect());
    for i in 0..a.len().max(e.len()) {
        let (a, e) = (a.get(i).copied(), e.get(i).copied());
        let mark = if a == e { ' ' } else { '!' };
        let _ = writeln!(
            diff,
            "{mark} {:<60} | {}",
            e.unwrap_or("<none>"),
            a.unwrap_or("<none>")
        );
    }
    panic!("{run}: the transcript differs (expected | actual):\n{diff}{note}");
}

/// Pointers and lengths outside the target's memory, wrapping around
/// `u32`, straddling its end; iovec arrays, buffers and out-pointers alike.
/// wasmtime ends the program on most of these (`Pointer out of bounds`);
/// the project answers `EFAULT` and the program goes on.
#[test]
fn pointers_and_lengths_out_of_range_are_efault() {
    const OOB: &str = "Pointer out of bounds";
    let mut p = Program::new();
    let write = |iovs: u32, len: u32| {
        format!(
            "(call $fd_write (i32.const 1) (i32.const {iovs}) (i32.const {len}) (i32.const {R}))"
        )
    };
    // The iovec array itself.
    p.call("fd_write iovs at the end", &write(END, 1), EFAULT)
        .wasmtime_traps(OOB);
    p.call(
        "fd_write iovs straddling the end",
        &write(END - 4, 1),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "fd_write iovs wrapping u32",
        &write(u32::MAX - 7, 2),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "fd_write iovs_len*8 wrapping u32",
        &write(IOV, 0x2000_0001),
        EFAULT,
    )
    .wasmtime_errno(ENOMEM, "wasmtime sizes a host buffer first");
    p.call("fd_write 3 million iovecs", &write(IOV, 3_000_000), EFAULT)
        .wasmtime_errno(ENOMEM, "wasmtime sizes a host buffer first");
    // The buffers an iovec names.
    for (label, buf, len) in [
        ("fd_write buffer at the end", END, 1),
        ("fd_write buffer straddling the end", END - 2, 4),
        ("fd_write buffer wrapping u32", u32::MAX, 2),
    ] {
        p.raw(&iovec(IOV, buf, len));
        p.call(label, &write(IOV, 1), EFAULT).wasmtime_traps(OOB);
    }
    p.raw(&iovec(IOV, 0, u32::MAX));
    p.call("fd_write buffer of 4 GiB", &write(IOV, 1), EFAULT)
        .wasmtime_errno(ENOMEM, "wasmtime sizes a host buffer first");
    // An empty buffer right at the end is inside memory.
    p.raw(&iovec(IOV, END, 0));
    p.call_then(
        "fd_write empty buffer at the end",
        &write(IOV, 1),
        R,
        SUCCESS,
        0,
    );
    // Out-pointers.
    p.call(
        "fd_fdstat_get out-pointer straddling the end",
        &format!(
            "(call $fd_fdstat_get (i32.const 1) (i32.const {}))",
            END - 4
        ),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "clock_time_get out-pointer at the end",
        &format!("(call $clock_time_get (i32.const 0) (i64.const 0) (i32.const {END}))"),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "fd_prestat_dir_name at the end",
        &format!("(call $fd_prestat_dir_name (i32.const 3) (i32.const {END}) (i32.const 1))"),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "fd_prestat_dir_name in the last byte",
        &format!(
            "(call $fd_prestat_dir_name (i32.const 3) (i32.const {}) (i32.const 1))",
            END - 1
        ),
        SUCCESS,
    );
    // random_get, args_get and environ_get into memory that is not there.
    let random =
        |buf: u32, len: u32| format!("(call $random_get (i32.const {buf}) (i32.const {len}))");
    p.call("random_get straddling the end", &random(END - 1, 2), EFAULT)
        .wasmtime_traps(OOB);
    p.call("random_get of 4 GiB", &random(0, u32::MAX), EFAULT)
        .wasmtime_traps("exceeds limit");
    p.call("random_get wrapping u32", &random(u32::MAX, 2), EFAULT)
        .wasmtime_traps(OOB);
    p.call("random_get of nothing at the end", &random(END, 0), SUCCESS);
    for (label, function, list, buf) in [
        ("args_get argv at the end", "args_get", END, BUF),
        ("args_get argv_buf at the end", "args_get", BUF, END),
        ("args_get both wrapping u32", "args_get", u32::MAX, u32::MAX),
        ("environ_get environ at the end", "environ_get", END, BUF),
        (
            "environ_get environ_buf straddling",
            "environ_get",
            BUF,
            END - 8,
        ),
    ] {
        p.call(
            label,
            &format!("(call ${function} (i32.const {list}) (i32.const {buf}))"),
            EFAULT,
        )
        .wasmtime_traps(OOB);
    }
    p.call(
        "args_sizes_get out-pointer at the end",
        &format!("(call $args_sizes_get (i32.const {END}) (i32.const {R}))"),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call(
        "poll_oneoff subscriptions wrapping u32",
        &format!(
            "(call $poll_oneoff (i32.const {BUF}) (i32.const {IOV}) (i32.const 0x10000000) (i32.const {R}))"
        ),
        EFAULT,
    )
    .wasmtime_errno(ENOMEM, "wasmtime sizes a host buffer first");
    p.call(
        "path_open path straddling the end",
        &open(3, 0, &format!("(i32.const {}) (i32.const 4)", END - 2), 0),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    // A call whose out-pointer is bad fails before it does anything: no
    // half-written results, no data consumed or written, no fd opened.
    p.raw(&format!("(i32.store (i32.const {R}) (i32.const 77))"));
    p.call_then(
        "args_sizes_get argv_buf_size at the end",
        &format!("(call $args_sizes_get (i32.const {R}) (i32.const {END}))"),
        R,
        EFAULT,
        77,
    )
    .wasmtime_traps(OOB);
    let hello = p.s("hello.txt");
    p.call(
        "path_open opened_fd at the end",
        &format!(
            "(call $path_open (i32.const 3) (i32.const 0) {hello} (i32.const 0) (i64.const {ALL_RIGHTS}) (i64.const {ALL_RIGHTS}) (i32.const 0) (i32.const {END}))"
        ),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    p.call_then(
        "open hello.txt: no fd was used",
        &open(3, 0, &hello, 0),
        R,
        SUCCESS,
        4,
    );
    p.raw(&iovec(IOV, BUF, 5));
    p.call(
        "fd_read nread at the end",
        &format!("(call $fd_read (i32.const 4) (i32.const {IOV}) (i32.const 1) (i32.const {END}))"),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    let shout = p.bytes(b"NOT PRINTED\n");
    p.raw(&iovec(IOV, shout.0, shout.1));
    p.call(
        "fd_write nwritten at the end",
        &format!(
            "(call $fd_write (i32.const 1) (i32.const {IOV}) (i32.const 1) (i32.const {END}))"
        ),
        EFAULT,
    )
    .wasmtime_traps(OOB);
    // Still consistent: the guest answers normal calls as before.
    p.raw(&iovec(IOV, BUF, 64));
    p.call_then(
        "fd_read it",
        &format!("(call $fd_read (i32.const 4) (i32.const {IOV}) (i32.const 1) (i32.const {R}))"),
        R,
        SUCCESS,
        28,
    );
    p.show(BUF, 27, "Hello from the site folder!");
    check(&p);
}

/// fds that were never opened, were closed, or were renumbered away:
/// `EBADF`, and the fds around them keep working.
#[test]
fn fds_never_opened_closed_or_renumbered_are_ebadf() {
    let mut p = Program::new();
    let x = p.bytes(b"x");
    p.raw(&iovec(IOV, x.0, x.1));
    let write = |fd: i64| {
        format!("(call $fd_write (i32.const {fd}) (i32.const {IOV}) (i32.const 1) (i32.const {R}))")
    };
    let read = |fd: u32, len: u32| {
        format!(
            "{} (call $fd_read (i32.const {fd}) (i32.const {}) (i32.const 1) (i32.const {R}))",
            iovec(IOV + 8, BUF, len),
            IOV + 8
        )
    };
    p.call("fd_write fd 99", &write(99), EBADF);
    p.call("fd_write fd -1", &write(-1), EBADF);
    p.call("fd_write stdin", &write(0), EBADF);
    p.call("fd_read fd 99", &read(99, 8), EBADF);
    p.call("fd_read stdout", &read(1, 8), EBADF);
    p.call("fd_close fd 99", "(call $fd_close (i32.const 99))", EBADF);
    p.call(
        "fd_fdstat_get fd 0x7fffffff",
        &format!("(call $fd_fdstat_get (i32.const 0x7fffffff) (i32.const {R}))"),
        EBADF,
    );
    p.call(
        "fd_seek fd 99",
        &format!("(call $fd_seek (i32.const 99) (i64.const 0) (i32.const 0) (i32.const {R}))"),
        EBADF,
    );
    p.call(
        "fd_renumber 99 to 1",
        "(call $fd_renumber (i32.const 99) (i32.const 1))",
        EBADF,
    );
    p.call(
        "fd_renumber 1 to 99",
        "(call $fd_renumber (i32.const 1) (i32.const 99))",
        EBADF,
    );
    let hello = p.s("hello.txt");
    let docs = p.s("docs");
    p.call_then("open hello.txt", &open(3, 0, &hello, 0), R, SUCCESS, 4);
    p.call_then("open docs", &open_dir(3, &docs), R, SUCCESS, 5);
    p.call("fd_close 4", "(call $fd_close (i32.const 4))", SUCCESS);
    p.call("fd_read closed 4", &read(4, 8), EBADF);
    p.call("fd_close closed 4", "(call $fd_close (i32.const 4))", EBADF);
    p.call(
        "fd_renumber closed 4 to 5",
        "(call $fd_renumber (i32.const 4) (i32.const 5))",
        EBADF,
    );
    p.call_then(
        "open hello.txt again",
        &open(3, 0, &hello, 0),
        R,
        SUCCESS,
        4,
    );
    p.call(
        "fd_renumber 4 to 5",
        "(call $fd_renumber (i32.const 4) (i32.const 5))",
        SUCCESS,
    );
    p.call("fd_read renumbered-away 4", &read(4, 8), EBADF);
    p.call_then("fd_read 5", &read(5, 5), R, SUCCESS, 5);
    p.show(BUF, 5, "Hello");
    p.call(
        "fd_renumber 5 to itself",
        "(call $fd_renumber (i32.const 5) (i32.const 5))",
        SUCCESS,
    );
    p.call_then("fd_read 5 goes on", &read(5, 6), R, SUCCESS, 6);
    p.show(BUF, 6, " from ");
    p.call_then("open docs again", &open_dir(3, &docs), R, SUCCESS, 4);
    p.call("fd_read a directory", &read(4, 8), EBADF);
    p.call(
        "fd_readdir a file",
        &format!("(call $fd_readdir (i32.const 5) (i32.const {BUF}) (i32.const 64) (i64.const 0) (i32.const {R}))"),
        EBADF,
    );
    p.call(
        "fd_close the preopen",
        "(call $fd_close (i32.const 3))",
        SUCCESS,
    );
    p.call(
        "path_open in the closed preopen",
        &open(3, 0, &hello, 0),
        EBADF,
    );
    p.call(
        "fd_prestat_get the closed preopen",
        &format!("(call $fd_prestat_get (i32.const 3) (i32.const {R}))"),
        EBADF,
    );
    p.call_then("fd_read 5 still", &read(5, 4), R, SUCCESS, 4);
    p.show(BUF, 4, "the ");
    p.call_then(
        "fd_write stdout still",
        &format!("(call $fd_write (i32.const 2) (i32.const {IOV}) (i32.const 1) (i32.const {R}))"),
        R,
        SUCCESS,
        1,
    );
    check(&p);
}

/// `..`, absolute paths and paths through a sub-directory's fd: nothing
/// outside the directory fd is reachable, for any `path_*` function.
/// wasmtime answers `EPERM` (cap-std's "a path led outside"), the project
/// `ENOTCAPABLE`, preview1's own capability error, as the design asks.
#[test]
fn paths_cannot_leave_their_directory_fd() {
    const WHY: &str =
        "an escape is ENOTCAPABLE (runtime/src/fs/path.rs, ESCAPE); wasmtime says EPERM";
    let mut p = Program::new();
    for path in [
        "..",
        "../etc/passwd",
        "docs/../../etc/passwd",
        "./docs/../..",
        "/etc/passwd",
        "/",
        "//hello.txt",
    ] {
        let arg = p.s(path);
        p.call(
            &format!("path_open {path}"),
            &open(3, 0, &arg, 0),
            ENOTCAPABLE,
        )
        .wasmtime_errno(EPERM, WHY);
    }
    let up_down = p.s("docs/../hello.txt");
    p.call_then(
        "path_open docs/../hello.txt",
        &open(3, 0, &up_down, 0),
        R,
        SUCCESS,
        4,
    );
    let docs = p.s("docs");
    p.call_then("open docs", &open_dir(3, &docs), R, SUCCESS, 5);
    let out_of_docs = p.s("../hello.txt");
    p.call(
        "path_open ../hello.txt from docs",
        &open(5, 0, &out_of_docs, 0),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    let faq = p.s("faq.txt");
    p.call_then(
        "path_open faq.txt from docs",
        &open(5, 0, &faq, 0),
        R,
        SUCCESS,
        6,
    );
    let dotdot = p.s("..");
    let outside = p.s("../outside");
    let hello = p.s("hello.txt");
    p.call(
        "path_filestat_get ..",
        &format!(
            "(call $path_filestat_get (i32.const 3) (i32.const 0) {dotdot} (i32.const {BUF}))"
        ),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_create_directory ../outside",
        &format!("(call $path_create_directory (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_open ../outside with CREAT",
        &open(3, 0, &outside, 1),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_unlink_file ../outside",
        &format!("(call $path_unlink_file (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_remove_directory ../outside",
        &format!("(call $path_remove_directory (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_rename hello.txt to ../outside",
        &format!("(call $path_rename (i32.const 3) {hello} (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_link hello.txt to ../outside",
        &format!("(call $path_link (i32.const 3) (i32.const 0) {hello} (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_symlink hello.txt at ../outside",
        &format!("(call $path_symlink {hello} (i32.const 3) {outside})"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call(
        "path_readlink ../outside",
        &format!("(call $path_readlink (i32.const 3) {outside} (i32.const {BUF}) (i32.const 64) (i32.const {R}))"),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    // Still consistent.
    p.raw(&iovec(IOV, BUF, 27));
    p.call_then(
        "fd_read 4",
        &format!("(call $fd_read (i32.const 4) (i32.const {IOV}) (i32.const 1) (i32.const {R}))"),
        R,
        SUCCESS,
        27,
    );
    p.show(BUF, 27, "Hello from the site folder!");
    check(&p);
}

/// Symlinks created at run time (the embedded site has none) that point
/// out of the preopen, or out of a sub-directory's fd: creating them works
/// as on a host, following them is refused.
#[test]
fn symlinks_cannot_lead_out_of_the_preopen() {
    const WHY: &str =
        "an escape is ENOTCAPABLE (runtime/src/fs/path.rs, ESCAPE); wasmtime says EPERM";
    let mut p = Program::new();
    let symlink = |p: &mut Program, target: &str, at: &str| {
        let (t, a) = (p.s(target), p.s(at));
        format!("(call $path_symlink {t} (i32.const 3) {a})")
    };
    let etc = "../../../../../../../../etc/passwd";
    let call = symlink(&mut p, etc, "esc");
    p.call("symlink esc -> ../../etc/passwd", &call, SUCCESS);
    let esc = p.s("esc");
    p.call(
        "path_open esc, following",
        &open(3, FOLLOW, &esc, 0),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call("path_open esc, not following", &open(3, 0, &esc, 0), ELOOP);
    p.call(
        "path_filestat_get esc, following",
        &format!(
            "(call $path_filestat_get (i32.const 3) (i32.const {FOLLOW}) {esc} (i32.const {BUF}))"
        ),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    p.call_then(
        "path_readlink esc",
        &format!("(call $path_readlink (i32.const 3) {esc} (i32.const {BUF}) (i32.const 64) (i32.const {R}))"),
        R,
        SUCCESS,
        etc.len() as u32,
    );
    p.show(BUF, etc.len() as u32, etc);
    let call = symlink(&mut p, "/etc/passwd", "abs");
    p.call("symlink abs -> /etc/passwd", &call, ENOTCAPABLE)
        .wasmtime_errno(EPERM, WHY);
    let call = symlink(&mut p, "..", "up");
    p.call("symlink up -> ..", &call, SUCCESS);
    let through = p.s("up/etc/passwd");
    p.call(
        "path_open up/etc/passwd",
        &open(3, 0, &through, 0),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    let up = p.s("up/");
    p.call("path_open up/", &open(3, 0, &up, 0), ENOTCAPABLE)
        .wasmtime_errno(EPERM, WHY);
    let call = symlink(&mut p, "../..", "docs/up2");
    p.call("symlink docs/up2 -> ../..", &call, SUCCESS);
    let up2 = p.s("docs/up2/x");
    p.call("path_open docs/up2/x", &open(3, 0, &up2, 0), ENOTCAPABLE)
        .wasmtime_errno(EPERM, WHY);
    // A link that stays inside the preopen works, except from the fd of
    // the directory it climbs out of.
    let call = symlink(&mut p, "../hello.txt", "docs/h");
    p.call("symlink docs/h -> ../hello.txt", &call, SUCCESS);
    let h = p.s("docs/h");
    p.call_then("path_open docs/h", &open(3, FOLLOW, &h, 0), R, SUCCESS, 4);
    let docs = p.s("docs");
    p.call_then("open docs", &open_dir(3, &docs), R, SUCCESS, 5);
    let h = p.s("h");
    p.call(
        "path_open h from docs",
        &open(5, FOLLOW, &h, 0),
        ENOTCAPABLE,
    )
    .wasmtime_errno(EPERM, WHY);
    let call = symlink(&mut p, "loop", "loop");
    p.call("symlink loop -> loop", &call, SUCCESS);
    let lp = p.s("loop");
    p.call("path_open loop", &open(3, FOLLOW, &lp, 0), ELOOP);
    // Still consistent.
    p.raw(&iovec(IOV, BUF, 5));
    p.call_then(
        "fd_read docs/h",
        &format!("(call $fd_read (i32.const 4) (i32.const {IOV}) (i32.const 1) (i32.const {R}))"),
        R,
        SUCCESS,
        5,
    );
    p.show(BUF, 5, "Hello");
    check(&p);
}

/// Paths with NUL bytes, invalid UTF-8, components of 256 bytes and of
/// 64 KiB, more than `PATH_MAX` bytes, or none.
#[test]
fn malformed_and_overlong_paths() {
    let mut p = Program::new();
    for (label, path, expect) in [
        ("NUL at the end", &b"hello.txt\0"[..], EINVAL),
        ("NUL inside", b"hel\0lo.txt", EINVAL),
        ("invalid UTF-8", b"hello\xff.txt", EILSEQ),
        ("empty", b"", ENOENT),
    ] {
        let (ptr, len) = p.bytes(path);
        p.call(
            &format!("path_open {label}"),
            &open(3, 0, &format!("(i32.const {ptr}) (i32.const {len})"), 0),
            expect,
        );
    }
    let long = |len: u32| format!("(i32.const {LONG}) (i32.const {len})");
    p.call(
        "path_open a 64 KiB component",
        &open(3, 0, &long(65536), 0),
        ENAMETOOLONG,
    );
    p.call(
        "path_open a 256-byte component",
        &open(3, 0, &long(256), 0),
        ENAMETOOLONG,
    );
    p.call(
        "path_open a 255-byte component",
        &open(3, 0, &long(255), 0),
        ENOENT,
    );
    p.call(
        "path_create_directory a 64 KiB component",
        &format!(
            "(call $path_create_directory (i32.const 3) {})",
            long(65536)
        ),
        ENAMETOOLONG,
    );
    let deep = format!("{}hello.txt", "./".repeat(2048));
    let deep = p.s(&deep);
    p.call(
        "path_open 4105 bytes of ./",
        &open(3, 0, &deep, 0),
        ENAMETOOLONG,
    );
    let ok_deep = format!("{}hello.txt", "./".repeat(2000));
    let ok_deep = p.s(&ok_deep);
    p.call_then(
        "path_open 4009 bytes of ./",
        &open(3, 0, &ok_deep, 0),
        R,
        SUCCESS,
        4,
    );
    p.call_then(
        "create a 255-byte name",
        &open(3, 0, &long(255), 1),
        R,
        SUCCESS,
        5,
    );
    p.call(
        "unlink it",
        &format!("(call $path_unlink_file (i32.const 3) {})", long(255)),
        SUCCESS,
    );
    check(&p);
}

/// `fd_readdir` with a zero-length buffer, a buffer at or straddling the
/// end of memory, a cookie past the end, a buffer too small for one entry.
#[test]
fn readdir_with_small_or_absent_buffers() {
    let mut p = Program::new();
    let readdir = |fd: u32, buf: u32, len: u32, cookie: i64| {
        format!(
            "(call $fd_readdir (i32.const {fd}) (i32.const {buf}) (i32.const {len}) (i64.const {cookie}) (i32.const {R}))"
        )
    };
    p.call_then(
        "fd_readdir into 0 bytes",
        &readdir(3, BUF, 0, 0),
        R,
        SUCCESS,
        0,
    );
    p.call_then(
        "fd_readdir into 0 bytes at the end",
        &readdir(3, END, 0, 0),
        R,
        SUCCESS,
        0,
    );
    p.call_then(
        "fd_readdir into 1 byte",
        &readdir(3, BUF, 1, 0),
        R,
        SUCCESS,
        1,
    );
    p.call_then(
        "fd_readdir into 23 bytes",
        &readdir(3, BUF, 23, 0),
        R,
        SUCCESS,
        23,
    );
    p.call_then(
        "fd_readdir from cookie 2^64-1",
        &readdir(3, BUF, 4096, -1),
        R,
        SUCCESS,
        0,
    );
    p.call(
        "fd_readdir straddling the end",
        &readdir(3, END - 8, 64, 0),
        EFAULT,
    )
    .wasmtime_traps("Pointer out of bounds");
    p.call_then(
        "fd_readdir all of /",
        &readdir(3, BUF, 4096, 0),
        R,
        SUCCESS,
        112,
    );
    check(&p);
}

/// Buffers that overlap each other, the iovec array that names them, or
/// the out-pointer of the same call.
#[test]
fn overlapping_buffers() {
    let mut p = Program::new();
    let hello = p.s("hello.txt");
    p.call_then("open hello.txt", &open(3, 0, &hello, 0), R, SUCCESS, 4);
    // The iovec array inside the buffer it names, nread inside it too.
    p.raw(&iovec(BUF, BUF, 16));
    p.call(
        "fd_read over its own iovec and nread",
        &format!(
            "(call $fd_read (i32.const 4) (i32.const {BUF}) (i32.const 1) (i32.const {}))",
            BUF + 4
        ),
        SUCCESS,
    );
    p.show(BUF, 16, "Hell\u{10}\0\0\0om the s");
    // Two iovecs naming the same bytes.
    p.raw(&format!(
        "{} {}",
        iovec(IOV, BUF, 5),
        iovec(IOV + 8, BUF, 5)
    ));
    p.call_then(
        "fd_pread into one buffer twice",
        &format!("(call $fd_pread (i32.const 4) (i32.const {IOV}) (i32.const 2) (i64.const 0) (i32.const {R}))"),
        R,
        SUCCESS,
        10,
    )
    .wasmtime("fd_pread into one buffer twice: 0 5", "wasmtime reads into the first non-empty iovec only; the project fills them all, as readv");
    p.show(BUF, 5, " from").wasmtime(
        "Hello",
        "wasmtime reads into the first non-empty iovec only; the project fills them all, as readv",
    );
    // The data of a write under its own nwritten out-pointer.
    let out = p.s("out.txt");
    p.call_then("create out.txt", &open(3, 0, &out, 1), R, SUCCESS, 5);
    let (data, _) = p.bytes(b"abcdefgh");
    p.raw(&iovec(IOV, data, 8));
    p.call(
        "fd_write with nwritten over its data",
        &format!(
            "(call $fd_write (i32.const 5) (i32.const {IOV}) (i32.const 1) (i32.const {data}))"
        ),
        SUCCESS,
    );
    p.raw(&iovec(IOV, BUF, 8));
    p.call_then(
        "fd_pread out.txt",
        &format!("(call $fd_pread (i32.const 5) (i32.const {IOV}) (i32.const 1) (i64.const 0) (i32.const {R}))"),
        R,
        SUCCESS,
        8,
    );
    p.show(BUF, 8, "abcdefgh");
    // A path under its own opened_fd out-pointer.
    let (path, len) = p.bytes(b"hello.txt");
    p.call_then(
        "path_open with opened_fd over its path",
        &format!("(call $path_open (i32.const 3) (i32.const 0) (i32.const {path}) (i32.const {len}) (i32.const 0) (i64.const {ALL_RIGHTS}) (i64.const {ALL_RIGHTS}) (i32.const 0) (i32.const {path}))"),
        path,
        SUCCESS,
        6,
    );
    check(&p);
}

/// A million iovecs at once (the memory grown to hold them): all of them are
/// honoured, and a total past 4 GiB is refused rather than truncated.
#[test]
fn a_million_iovecs() {
    const N: u32 = 1_000_000;
    let mut p = Program::new();
    // Grown by 130 pages: the array starts at the old end.
    p.raw("(drop (memory.grow (i32.const 130)))");
    let fill_n = |buf: u32, len: u32, count: u32| {
        format!(
            "(local.set 0 (i32.const 0))
             (loop $fill
               (i32.store (i32.add (i32.const {END}) (i32.shl (local.get 0) (i32.const 3))) (i32.const {buf}))
               (i32.store (i32.add (i32.const {}) (i32.shl (local.get 0) (i32.const 3))) (i32.const {len}))
               (local.set 0 (i32.add (local.get 0) (i32.const 1)))
               (br_if $fill (i32.lt_u (local.get 0) (i32.const {count}))))",
            END + 4
        )
    };
    let fill = |buf: u32, len: u32| fill_n(buf, len, N);
    let hello = p.s("hello.txt");
    p.call_then("open hello.txt", &open(3, 0, &hello, 0), R, SUCCESS, 4);
    p.raw(&fill(BUF, 1));
    p.call_then(
        "fd_read into a million 1-byte iovecs",
        &format!("(call $fd_read (i32.const 4) (i32.const {END}) (i32.const {N}) (i32.const {R}))"),
        R,
        SUCCESS,
        28,
    )
    .wasmtime(
        "fd_read into a million 1-byte iovecs: 0 1",
        "wasmtime reads into the first non-empty iovec only; the project fills them all, as readv",
    );
    let out = p.s("big.txt");
    p.call_then("create big.txt", &open(3, 0, &out, 1), R, SUCCESS, 5);
    p.raw(&fill(0, 0x2000));
    p.call(
        "fd_write a million 8 KiB iovecs (8 GB)",
        &format!("(call $fd_write (i32.const 5) (i32.const {END}) (i32.const {N}) (i32.const {R}))"),
        EINVAL,
    )
    .wasmtime("fd_write a million 8 KiB iovecs (8 GB): 0", "wasmtime writes the first non-empty iovec only; the project writes all or, past u32::MAX bytes (what nwritten can say), nothing: EINVAL, as writev past SSIZE_MAX");
    // Just under 4 GiB to stderr from one 4 KiB buffer named 2^20 - 1
    // times: more than the guest can ever hold, whatever the engine.
    p.raw(&fill_n(0, 4096, (1 << 20) - 1));
    p.raw(&format!("(i32.store (i32.const {R}) (i32.const 0))"));
    p.call_then(
        "fd_write 4 GiB to stderr from 4 KiB",
        &format!(
            "(call $fd_write (i32.const 2) (i32.const {END}) (i32.const {}) (i32.const {R}))",
            (1 << 20) - 1
        ),
        R,
        ENOMEM,
        0,
    )
    .wasmtime("fd_write 4 GiB to stderr from 4 KiB: 0 4096", "wasmtime writes the first non-empty iovec only; the project gathers them all, and answers ENOMEM when the guest cannot hold them");
    check(&p);
}

/// Flags and enum values preview1 does not define: `EINVAL` (wasmtime
/// traps on most: `Invalid enum value`), and the fd goes on working.
#[test]
fn unknown_flags_and_enum_values_are_einval() {
    let mut p = Program::new();
    let hello = p.s("hello.txt");
    p.call_then("open hello.txt", &open(3, 0, &hello, 0), R, SUCCESS, 4);
    p.call(
        "fd_seek whence 3",
        &format!("(call $fd_seek (i32.const 4) (i64.const 0) (i32.const 3) (i32.const {R}))"),
        EINVAL,
    )
    .wasmtime_traps("Invalid enum value");
    p.call(
        "fd_seek before the start",
        &format!("(call $fd_seek (i32.const 4) (i64.const -1) (i32.const 0) (i32.const {R}))"),
        EINVAL,
    );
    p.call(
        "fd_advise advice 6",
        "(call $fd_advise (i32.const 4) (i64.const 0) (i64.const 0) (i32.const 6))",
        EINVAL,
    )
    .wasmtime_traps("Invalid enum value");
    p.call(
        "clock_time_get clock 4",
        &format!("(call $clock_time_get (i32.const 4) (i64.const 0) (i32.const {R}))"),
        EINVAL,
    )
    .wasmtime_traps("Invalid enum value");
    p.call(
        "clock_res_get clock 99",
        &format!("(call $clock_res_get (i32.const 99) (i32.const {R}))"),
        EINVAL,
    )
    .wasmtime_traps("Invalid enum value");
    p.call("path_open lookupflags 2", &open(3, 2, &hello, 0), EINVAL)
        .wasmtime_traps("Invalid flag value");
    p.call("path_open oflags 16", &open(3, 0, &hello, 16), EINVAL)
        .wasmtime_traps("Invalid flag value");
    p.call("path_open DIRECTORY|CREAT", &open(3, 0, &hello, 3), EINVAL);
    p.call(
        "fd_filestat_set_times ATIM|ATIM_NOW",
        "(call $fd_filestat_set_times (i32.const 4) (i64.const 0) (i64.const 0) (i32.const 3))",
        EINVAL,
    );
    p.call(
        "poll_oneoff no subscriptions",
        &format!(
            "(call $poll_oneoff (i32.const {BUF}) (i32.const {IOV}) (i32.const 0) (i32.const {R}))"
        ),
        EINVAL,
    );
    p.raw(&iovec(IOV, BUF, 5));
    p.call_then(
        "fd_read still reads from the start",
        &format!("(call $fd_read (i32.const 4) (i32.const {IOV}) (i32.const 1) (i32.const {R}))"),
        R,
        SUCCESS,
        5,
    );
    p.show(BUF, 5, "Hello");
    check(&p);
}
