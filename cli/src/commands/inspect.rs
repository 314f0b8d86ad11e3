//! `wasi-virt inspect FILE`: the library's `inspect`, printed.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use wasi_virt_merge::{Format, Input};

use crate::files::read;
use crate::touched::Touched;

/// Print a module's imports, exports and wasi-virt manifest.
#[derive(clap::Args)]
pub struct Opts {
    /// The module to inspect.
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The file `inspect` would read.
pub fn touched(opts: &Opts) -> Touched {
    Touched {
        read: vec![opts.file.clone()],
        ..Touched::default()
    }
}

/// Runs `inspect`.
pub fn run(opts: Opts) -> Result<()> {
    let name = opts.file.display().to_string();
    let bytes = read(&opts.file)?;
    let format = if opts.json {
        Format::Json
    } else {
        Format::Text
    };
    let text = wasi_virt_merge::inspect(Input::new(&name, &bytes), format)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
