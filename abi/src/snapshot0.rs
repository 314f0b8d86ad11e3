//! `wasi_unstable` (WASI snapshot 0), described against the preview1 table.
//!
//! Snapshot 0 has the preview1 functions minus `sock_accept`, each with the
//! same name and the same core signature. Four of them read or write
//! memory laid out differently, or take an enum numbered differently:
//!
//! | function | snapshot 0 | preview1 |
//! |---|---|---|
//! | `fd_seek` | `whence`: `cur` 0, `end` 1, `set` 2 | `set` 0, `cur` 1, `end` 2 |
//! | `fd_filestat_get`, `path_filestat_get` | `filestat` of 56 bytes: `nlink` a `u32` at 20, `size` at 24, times at 32/40/48 | 64 bytes: `nlink` a `u64` at 24, `size` at 32, times at 40/48/56 |
//! | `poll_oneoff` | `subscription` of 56 bytes: a clock has an extra `identifier` (`u64`) before its `id`, so `id` at 24, `timeout` at 32, `precision` at 40, `flags` at 48 | 48 bytes: `id` at 16, `timeout` at 24, `precision` at 32, `flags` at 40 |
//!
//! Everything else (errno, rights, flags, `fdstat`, `prestat`, `dirent`,
//! `event`, `iovec`) is the same. So a snapshot-0 import of a function of
//! the first kind is wired to the preview1 plug itself, and one of the four
//! to an *adapter* the `plug_*!` macros export next to the preview1 shim for
//! every named target: [`adapter_export`]. The CLI relies on that pairing:
//! a guest that plugs `fd_seek` for `app` also exports the snapshot-0
//! `fd_seek` for `app`.

use alloc::format;
use alloc::string::String;

use crate::names::INTERNAL_EXPORT_PREFIX;
use crate::preview1::{self, Function};

/// The import module of every snapshot-0 function.
pub const MODULE: &str = "wasi_unstable";

/// The functions whose snapshot-0 form needs an adapter.
pub const ADAPTED: [&str; 4] = [
    "fd_seek",
    "fd_filestat_get",
    "path_filestat_get",
    "poll_oneoff",
];

/// How a snapshot-0 import is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// By the preview1 plug of the same function, as is.
    Same(&'static Function),
    /// By the adapter the macros export next to that plug.
    Adapted(&'static Function),
}

impl Mapping {
    /// The preview1 function (whose plug, or whose adapter, answers).
    pub fn preview1(self) -> &'static Function {
        match self {
            Mapping::Same(f) | Mapping::Adapted(f) => f,
        }
    }
}

/// The snapshot-0 function `name`, if snapshot 0 has one.
pub fn function(name: &str) -> Option<Mapping> {
    if name == "sock_accept" {
        return None;
    }
    let f = preview1::function(name)?;
    Some(if ADAPTED.contains(&name) {
        Mapping::Adapted(f)
    } else {
        Mapping::Same(f)
    })
}

/// The name under `__wasi_virt/plug/<target>/` of the adapter for
/// `function` (one of [`ADAPTED`]): `wasi_unstable/<function>`.
pub fn adapter_name(function: &str) -> Option<&'static str> {
    Some(match function {
        "fd_seek" => "wasi_unstable/fd_seek",
        "fd_filestat_get" => "wasi_unstable/fd_filestat_get",
        "path_filestat_get" => "wasi_unstable/path_filestat_get",
        "poll_oneoff" => "wasi_unstable/poll_oneoff",
        _ => return None,
    })
}

/// The guest export of the snapshot-0 adapter of `function` for `target`:
/// `__wasi_virt/plug/<target>/wasi_unstable/<function>`.
pub fn adapter_export(target: &str, function: &str) -> String {
    format!("{INTERNAL_EXPORT_PREFIX}plug/{target}/{MODULE}/{function}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::plug_export;

    #[test]
    fn snapshot0_is_preview1_without_sock_accept() {
        let count = preview1::FUNCTIONS
            .iter()
            .filter(|f| function(f.name).is_some())
            .count();
        assert_eq!(count, 45);
        assert!(matches!(function("fd_seek"), Some(Mapping::Adapted(_))));
        assert!(matches!(function("fd_write"), Some(Mapping::Same(_))));
        assert_eq!(function("sock_accept"), None);
    }

    #[test]
    fn adapter_names_are_plug_exports() {
        for f in ADAPTED {
            assert_eq!(
                plug_export("app", adapter_name(f).unwrap()),
                adapter_export("app", f)
            );
        }
        assert_eq!(adapter_name("fd_write"), None);
    }
}
