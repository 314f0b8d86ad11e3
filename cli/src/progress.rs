//! A progress bar on stderr while the mounted files are read: only when
//! stderr is a terminal, and only once packing has taken a second (a quick
//! pack prints nothing; a pipe or a CI log never gets `\r` noise).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How long a pack runs before the bar appears.
const QUIET_FOR: Duration = Duration::from_secs(1);
/// How often the bar is redrawn.
const EVERY: Duration = Duration::from_millis(100);
/// The bar's width in characters.
const WIDTH: usize = 30;

/// The bar's state.
pub struct Progress {
    enabled: bool,
    started: Instant,
    drawn_at: Option<Instant>,
    files: (u64, u64),
    bytes: (u64, u64),
}

impl Progress {
    /// A bar if stderr is a terminal, else nothing.
    pub fn new(started: Instant) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            started,
            drawn_at: None,
            files: (0, 0),
            bytes: (0, 0),
        }
    }
}

impl wasi_virt_merge::Progress for Progress {
    fn start(&mut self, files: u64, bytes: u64) {
        self.files = (0, files);
        self.bytes = (0, bytes);
    }

    /// One more file read, of `bytes` bytes.
    fn advance(&mut self, bytes: u64) {
        self.files.0 += 1;
        self.bytes.0 += bytes;
        if !self.enabled || self.started.elapsed() < QUIET_FOR {
            return;
        }
        if self.drawn_at.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.drawn_at = Some(Instant::now());
        let (done, total) = self.bytes;
        let share = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let filled = ((share * WIDTH as f64) as usize).min(WIDTH);
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[Kpacking [{}{}] {:3.0}%  {}/{} files  {:.1}/{:.1} MiB",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            share * 100.0,
            self.files.0,
            self.files.1,
            mib(done),
            mib(total),
        );
    }

    /// Reading is done: the bar goes away.
    fn finish(&mut self) {
        if self.drawn_at.take().is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
