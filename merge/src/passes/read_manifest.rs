//! Pass 1: read the guest's manifest, the versioned custom section the
//! macros emit.
//!
//! The linker concatenates sections of one name, but a guest linked by other
//! means may carry several; they are read in order as one sequence of records.

use anyhow::{Result, anyhow};
use wasi_virt_abi::manifest::{self, Manifest};

use crate::module::Module;

/// The manifest of `guest`, or an error that says the file is not a guest.
pub fn run(guest: &Module) -> Result<Manifest> {
    let bytes = guest.custom_sections(manifest::SECTION).ok_or_else(|| {
        anyhow!(
            "{}: not a wasi-virt guest: it has no `{}` section (build it with the wasi-virt macros)",
            guest.name,
            manifest::SECTION
        )
    })?;
    Manifest::parse(&bytes).map_err(|e| anyhow!("{}: {e}", guest.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::wasm;

    #[test]
    fn several_sections_are_concatenated() {
        let bytes = wasm(
            r#"(module
                (@custom "wasi-virt.manifest" "wasi-virt/1 target app\n")
                (@custom "wasi-virt.manifest" "wasi-virt/1 plug app fd_write\n"))"#,
        );
        let guest = Module::parse("vfs.wasm", &bytes).unwrap();
        let manifest = run(&guest).unwrap();
        assert_eq!(manifest.targets, ["app"]);
        assert!(manifest.plugs("app", "fd_write"));
    }

    #[test]
    fn a_module_without_manifest_is_not_a_guest() {
        let bytes = wasm("(module)");
        let guest = Module::parse("vfs.wasm", &bytes).unwrap();
        assert_eq!(
            run(&guest).unwrap_err().to_string(),
            "vfs.wasm: not a wasi-virt guest: it has no `wasi-virt.manifest` section (build it with the wasi-virt macros)"
        );
    }

    #[test]
    fn another_version_names_the_file() {
        let bytes = wasm(r#"(module (@custom "wasi-virt.manifest" "wasi-virt/9 target app\n"))"#);
        let guest = Module::parse("vfs.wasm", &bytes).unwrap();
        let err = run(&guest).unwrap_err().to_string();
        assert!(
            err.starts_with("vfs.wasm: the guest was built with manifest version 9"),
            "{err}"
        );
    }
}
