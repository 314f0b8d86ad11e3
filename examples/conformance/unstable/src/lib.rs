//! A `wasi_unstable` (WASI snapshot 0) program: `_start` exercises the
//! calls whose snapshot-0 layout differs from preview1 (`fd_seek`'s
//! `whence`, the 56-byte `filestat`, the 56-byte clock `subscription`) and
//! a few that are the same, and prints what it sees. The conformance suite
//! runs it under wasmtime (which still links `wasi_unstable`) and merged.
#![cfg_attr(not(test), no_std)]

use core::fmt::Write;

#[link(wasm_import_module = "wasi_unstable")]
unsafe extern "C" {
    fn fd_write(fd: u32, iovs: *const u32, iovs_len: u32, n: *mut u32) -> i32;
    fn fd_read(fd: u32, iovs: *const u32, iovs_len: u32, n: *mut u32) -> i32;
    fn fd_seek(fd: u32, offset: i64, whence: u32, out: *mut u64) -> i32;
    fn fd_tell(fd: u32, out: *mut u64) -> i32;
    fn fd_filestat_get(fd: u32, out: *mut u8) -> i32;
    fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: u32, out: *mut u8) -> i32;
    fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        len: u32,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        out: *mut u32,
    ) -> i32;
    fn fd_prestat_get(fd: u32, out: *mut u8) -> i32;
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, nevents: *mut u32) -> i32;
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
    fn args_sizes_get(argc: *mut u32, size: *mut u32) -> i32;
    fn proc_exit(code: u32) -> !;
}

/// A fixed buffer that `write!` fills; flushed to stdout.
struct Out {
    buf: [u8; 4096],
    len: usize,
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(core::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Out {
    fn flush(&mut self) {
        let iov = [self.buf.as_ptr() as u32, self.len as u32];
        let mut n = 0;
        unsafe { fd_write(1, iov.as_ptr(), 1, &mut n) };
        self.len = 0;
    }
}

static mut OUT: Out = Out {
    buf: [0; 4096],
    len: 0,
};

fn out() -> &'static mut Out {
    // SAFETY: one thread; `_start` is the only entry.
    unsafe { &mut *core::ptr::addr_of_mut!(OUT) }
}

const ROOT: u32 = 3;
/// Every snapshot-0 right (it has no `SOCK_ACCEPT`, bit 29).
const RIGHTS: u64 = (1 << 29) - 1;

/// Snapshot 0's whence values.
const CUR: u32 = 0;
const END: u32 = 1;
const SET: u32 = 2;

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(x)
}

/// Prints a snapshot-0 filestat (56 bytes) and that the 8 bytes after it
/// were left alone.
fn print_stat(o: &mut Out, what: &str, errno: i32, b: &[u8; 64]) {
    if errno != 0 {
        let _ = writeln!(o, "{what}: errno {errno}");
        return;
    }
    // A directory's size is the host filesystem's choice: left out.
    let size = if b[16] == 3 { 0 } else { u64_at(b, 24) };
    let _ = writeln!(
        o,
        "{what}: type={} nlink={} size={size} bytes 56..64 untouched={}",
        b[16],
        u32_at(b, 20),
        b[56..].iter().all(|&x| x == 0xAA)
    );
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let o = out();
    let (mut argc, mut size) = (0, 0);
    let e = unsafe { args_sizes_get(&mut argc, &mut size) };
    let _ = writeln!(o, "args_sizes_get: errno {e} argc={argc}");
    let mut prestat = [0u8; 8];
    let e = unsafe { fd_prestat_get(ROOT, prestat.as_mut_ptr()) };
    let _ = writeln!(
        o,
        "fd_prestat_get(3): errno {e} name_len={}",
        u32_at(&prestat, 4)
    );

    let path = b"digits.txt";
    let mut fd = 0;
    let e = unsafe {
        path_open(
            ROOT,
            0,
            path.as_ptr(),
            path.len() as u32,
            0,
            RIGHTS,
            RIGHTS,
            0,
            &mut fd,
        )
    };
    let _ = writeln!(o, "path_open digits.txt: errno {e}");

    let mut pos = 0u64;
    for (name, offset, whence) in [
        ("SET 10", 10, SET),
        ("CUR 5", 5, CUR),
        ("END -3", -3, END),
        ("CUR -1", -1, CUR),
    ] {
        let e = unsafe { fd_seek(fd, offset, whence, &mut pos) };
        let _ = writeln!(o, "fd_seek {name}: errno {e} at {pos}");
    }
    let e = unsafe { fd_seek(fd, -100, CUR, &mut pos) };
    let _ = writeln!(o, "fd_seek CUR -100: errno {e}");
    let e = unsafe { fd_tell(fd, &mut pos) };
    let _ = writeln!(o, "fd_tell: errno {e} at {pos}");
    let mut buf = [0u8; 8];
    let iov = [buf.as_mut_ptr() as u32, 8];
    let mut n = 0;
    unsafe { fd_seek(fd, 2, SET, &mut pos) };
    let e = unsafe { fd_read(fd, iov.as_ptr(), 1, &mut n) };
    let _ = writeln!(
        o,
        "fd_read after SET 2: errno {e} {:?}",
        core::str::from_utf8(&buf[..n as usize]).unwrap_or("?")
    );

    let mut st = [0xAAu8; 64];
    let e = unsafe { fd_filestat_get(fd, st.as_mut_ptr()) };
    print_stat(o, "fd_filestat_get digits.txt", e, &st);
    for (p, flags) in [
        (&b"hello.txt"[..], 0),
        (b"link-file", 0),
        (b"link-file", 1),
        (b"dir", 0),
        (b"missing", 0),
    ] {
        let mut st = [0xAAu8; 64];
        let e =
            unsafe { path_filestat_get(ROOT, flags, p.as_ptr(), p.len() as u32, st.as_mut_ptr()) };
        let name = core::str::from_utf8(p).unwrap_or("?");
        let what = if flags == 1 {
            "path_filestat_get (follow)"
        } else {
            "path_filestat_get"
        };
        let mut label = Out {
            buf: [0; 4096],
            len: 0,
        };
        let _ = write!(label, "{what} {name}");
        print_stat(
            o,
            core::str::from_utf8(&label.buf[..label.len]).unwrap_or("?"),
            e,
            &st,
        );
    }

    // A snapshot-0 clock subscription: userdata, tag 0, identifier at 16,
    // clock id at 24, timeout at 32, precision at 40, flags at 48.
    let mut before = 0;
    unsafe { clock_time_get(1, 1, &mut before) };
    let mut subs = [0u8; 112];
    subs[0] = 42;
    subs[16] = 0x77;
    subs[24] = 1;
    subs[32..40].copy_from_slice(&3_000_000u64.to_le_bytes());
    // The second: fd_read of the file, userdata 43, fd at 16.
    subs[56] = 43;
    subs[64] = 1;
    subs[72..76].copy_from_slice(&fd.to_le_bytes());
    let mut events = [0u8; 64];
    let mut nevents = 0;
    let e = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 1, &mut nevents) };
    let mut after = 0;
    unsafe { clock_time_get(1, 1, &mut after) };
    let _ = writeln!(
        o,
        "poll_oneoff clock +3ms: errno {e} nevents={nevents} userdata={} type={} error={} slept 3ms={}",
        u64_at(&events, 0),
        events[10],
        events[8],
        after - before >= 3_000_000
    );
    let e = unsafe { poll_oneoff(subs[56..].as_ptr(), events.as_mut_ptr(), 1, &mut nevents) };
    let _ = writeln!(
        o,
        "poll_oneoff fd_read: errno {e} nevents={nevents} userdata={} type={} error={}",
        u64_at(&events, 0),
        events[10],
        events[8]
    );
    o.flush();
    unsafe { proc_exit(0) }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
