//! `cargo xtask npm`: the npm package as a tarball (`npm pack`), built by
//! the harness the tests use ([`wasi_virt_tests::npm`]).

use std::process::ExitCode;

use anyhow::Result;

/// Builds the package and prints where its tarball is.
pub fn run() -> Result<ExitCode> {
    let cli = crate::cli_without_binaryen()?;
    let tarball = wasi_virt_tests::npm::build_package(&cli)?;
    println!("{}", tarball.display());
    eprintln!(
        "install it with `npm install {}`, then `npx wasi-virt --help`",
        tarball.display()
    );
    Ok(ExitCode::SUCCESS)
}
