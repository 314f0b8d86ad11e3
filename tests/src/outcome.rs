//! What one run of a program gives: the thing two runs are compared on.

use std::borrow::Cow;
use std::fmt;

/// How a run ended and what it printed.
///
/// Exactly one of `exit_code` and `trap` is set for a run that finished.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code: the one passed to `proc_exit`, or 0 when the entry
    /// point returned without calling it.
    pub exit_code: Option<i32>,
    /// The engine's message when the program trapped (not by `proc_exit`).
    pub trap: Option<String>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

impl Outcome {
    /// stdout as text (invalid UTF-8 replaced), for assertions and messages.
    pub fn stdout_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// stderr as text (invalid UTF-8 replaced), for assertions and messages.
    pub fn stderr_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

/// Shows stdout and stderr as text, so that a failed `assert_eq!` between
/// two outcomes is readable rather than two lists of bytes.
impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("exit_code", &self.exit_code)
            .field("trap", &self.trap)
            .field("stdout", &self.stdout_text())
            .field("stderr", &self.stderr_text())
            .finish()
    }
}
