//! The files a command would read and write, listed without running it
//! (`WASI_VIRT_LIST_FILES=PATH`), for a front end that must copy a command's
//! inputs into a filesystem of its own first and its outputs back after: the
//! npm package runs this CLI compiled to WebAssembly with no host files at
//! all. Taken from the parsed options, so the list and the command can never
//! disagree about which argument is a file.
//!
//! The list is written to PATH as NUL-terminated pairs, a kind then a path:
//! `read` (a file), `folder` (a folder read whole, `pack --dir`) or `write`
//! (an output; the command writes it atomically, or not at all).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The environment variable that asks for the list instead of a run.
pub const LIST_FILES_ENV: &str = "WASI_VIRT_LIST_FILES";

/// What one command reads and writes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Touched {
    pub read: Vec<PathBuf>,
    pub folders: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
}

impl Touched {
    /// The list, as written to the file `WASI_VIRT_LIST_FILES` names.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let kinds = [
            ("read", &self.read),
            ("folder", &self.folders),
            ("write", &self.write),
        ];
        for (kind, paths) in kinds {
            for path in paths {
                out.extend_from_slice(kind.as_bytes());
                out.push(0);
                out.extend_from_slice(path.to_string_lossy().as_bytes());
                out.push(0);
            }
        }
        out
    }

    /// Writes the list to `list`.
    pub fn write_to(&self, list: &Path) -> Result<()> {
        fs::write(list, self.encode())
            .with_context(|| format!("{}: cannot write the list of files", list.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_kind_and_path_pairs() {
        let touched = Touched {
            read: vec!["app.wasm".into()],
            folders: vec!["./site".into()],
            write: vec!["out.wasm".into(), "out.js".into()],
        };
        assert_eq!(
            touched.encode(),
            b"read\0app.wasm\0folder\0./site\0write\0out.wasm\0write\0out.js\0"
        );
    }
}
