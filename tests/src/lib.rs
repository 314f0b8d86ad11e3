//! The harness shared by wasi-virt's end-to-end tests and `cargo xtask`: it
//! builds the example programs and the CLI, and runs a module three ways.
//!
//! - [`run_in_wasmi`] and [`run_in_node`] run a merged module with **no
//!   imports at all** (an empty linker, an empty import object), which proves
//!   it is import-free, and read its exit code and captured stdio through the
//!   runtime's host API ([`wasi_virt_abi::names::host_api`]).
//! - [`run_in_wasmtime_host`] runs an unmerged target under the wasmtime CLI
//!   with real host WASI: the reference a merged module must match.
//!
//! ```no_run
//! use wasi_virt_tests::{copy_dir_all, repo_root, run_in_wasmtime_host, wasm_example};
//!
//! let app = wasm_example("demo-app", "wasm32-wasip1");
//! let site = tempfile::tempdir().unwrap();
//! copy_dir_all(&repo_root().join("examples/site"), site.path()).unwrap();
//! let reference = run_in_wasmtime_host(&app, &[(site.path(), "/")], &["a"], &[]).unwrap();
//! assert_eq!(reference.exit_code, Some(3));
//! ```
//!
//! Node ≥ 22 and the wasmtime CLI come from `cargo xtask setup` (see
//! [`tools`]); a test that needs one calls [`have`] first, which fails the
//! test on CI and skips it, with a note, elsewhere.

#![deny(missing_docs)]

mod build;
pub mod conformance;
pub mod npm;
mod outcome;
mod run_node;
mod run_wasmi;
mod run_wasmtime;
pub mod third_party;
pub mod tools;
pub mod trees;

pub use build::{
    copy_dir_all, repo_root, target_dir, try_wasi_virt_bin, try_wasm_example, wasi_virt,
    wasi_virt_bin, wasm_example, wasm_example_workspace,
};
pub use outcome::Outcome;
pub use run_node::{run_in_node, run_in_node_entry, run_js_plan};
pub use run_wasmi::{call_host_api_i32, captured_stdio, run_in_wasmi};
pub use run_wasmtime::run_in_wasmtime_host;
pub use tools::{Tool, have};
