//! Tiny WAT fixtures shared by the passes' unit tests: a guest that plugs
//! `fd_write` for target `app` and a target that writes through it.

use anyhow::Result;
use wasi_virt_abi::manifest::Manifest;

use super::{check_imports, read_manifest};
use crate::module::Module;
use crate::types::{Extras, Role, Strategy, Stubs, Target};

/// The fixture guest's manifest.
pub const MANIFEST: &str = "wasi-virt/1 target app\nwasi-virt/1 plug app fd_write\n";

/// WAT text to wasm bytes.
pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap_or_else(|e| panic!("fixture does not parse: {e}\n{wat}"))
}

/// A guest whose `fd_write` copies the target's first iovec into its own
/// memory at 16 + (bytes so far), counts the bytes in global `$written`, and
/// writes the count back through the target's `nwritten` pointer.
pub fn guest_wat(manifest: &str, imports: &str, items: &str) -> String {
    format!(
        r#"(module
  (@custom "wasi-virt.manifest" "{manifest}")
  {imports}
  (import "wasi-virt:bridge/app" "read" (func $read (param i32 i32 i32)))
  (import "wasi-virt:bridge/app" "write" (func $write (param i32 i32 i32)))
  (import "wasi-virt:target/app" "_start" (func $start))
  (memory (export "memory") 1)
  (global $written (mut i32) (i32.const 0))
  (data (i32.const 1000) "guest data")
  (func (export "__wasi_virt/plug/app/fd_write")
        (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nwritten i32) (result i32)
    (call $read (i32.const 0) (local.get $iovs) (i32.const 8))
    (call $read (i32.add (i32.const 16) (global.get $written)) (i32.load (i32.const 0)) (i32.load (i32.const 4)))
    (global.set $written (i32.add (global.get $written) (i32.load (i32.const 4))))
    (call $write (local.get $nwritten) (i32.const 4) (i32.const 4))
    (i32.const 0))
  (func (export "run") (call $start))
  (func (export "written") (result i32) (global.get $written))
  {items}
)"#,
        manifest = manifest.replace('\n', "\\n"),
    )
}

/// A target whose `_start` writes "hello" (its length comes through a
/// `call_indirect`), then writes the 4-byte `nwritten` the guest stored.
pub fn target_wat(imports: &str, items: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  {imports}
  (memory (export "memory") 2)
  (global $g (mut i32) (i32.const 7))
  (table 1 funcref)
  (elem (i32.const 0) $five)
  (data (i32.const 100) "hello")
  (func $five (result i32) (i32.const 5))
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (call_indirect (result i32) (i32.const 0)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 8))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12))))
  {items}
)"#
    )
}

/// A guest and a target, each with room for extra imports and items.
pub struct Fixture {
    /// The guest's manifest text.
    pub manifest: String,
    /// Extra guest imports (placed before the fixture's own).
    pub guest_imports: String,
    /// Extra guest definitions.
    pub guest_items: String,
    /// Extra target imports.
    pub target_imports: String,
    /// Extra target definitions.
    pub target_items: String,
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture {
            manifest: MANIFEST.into(),
            guest_imports: String::new(),
            guest_items: String::new(),
            target_imports: String::new(),
            target_items: String::new(),
        }
    }
}

impl Fixture {
    /// Assembles both modules.
    pub fn build(&self) -> Built {
        Built {
            guest: wasm(&guest_wat(
                &self.manifest,
                &self.guest_imports,
                &self.guest_items,
            )),
            target: wasm(&target_wat(&self.target_imports, &self.target_items)),
        }
    }
}

/// The fixture's bytes.
pub struct Built {
    /// `vfs.wasm`
    pub guest: Vec<u8>,
    /// `app.wasm`
    pub target: Vec<u8>,
}

impl Built {
    /// Parses both and reads the manifest.
    pub fn parse(&self) -> Parsed<'_> {
        let guest = Module::parse("vfs.wasm", &self.guest).unwrap();
        let manifest = read_manifest::run(&guest).unwrap();
        let target = Module::parse("app.wasm", &self.target).unwrap();
        Parsed {
            guest,
            manifest,
            targets: vec![Target {
                name: "app".into(),
                module: target,
            }],
        }
    }
}

/// The parsed fixture.
pub struct Parsed<'a> {
    /// The guest.
    pub guest: Module<'a>,
    /// Its manifest.
    pub manifest: Manifest,
    /// The one target.
    pub targets: Vec<Target<'a>>,
}

impl<'a> Parsed<'a> {
    /// The inputs in pipeline order: targets, then the guest.
    pub fn modules(&self) -> Vec<&Module<'a>> {
        let mut modules: Vec<&Module<'a>> = self.targets.iter().map(|t| &t.module).collect();
        modules.push(&self.guest);
        modules
    }

    /// The roles `check_imports` gives, which must succeed.
    pub fn roles(&self) -> Vec<Vec<Role>> {
        self.check().unwrap()
    }

    /// Runs `check_imports`.
    pub fn check(&self) -> Result<Vec<Vec<Role>>> {
        check_imports::run(
            &self.manifest,
            &self.guest,
            &self.targets,
            &Stubs::default(),
        )
    }

    /// Runs the whole merge.
    pub fn merge(&self) -> Result<Vec<u8>> {
        super::merge(
            &self.guest,
            &self.manifest,
            &self.targets,
            Extras::default(),
            Strategy::Flags,
        )
        .map(|(bytes, _)| bytes)
    }
}
