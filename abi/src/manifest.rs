//! The guest manifest: a custom section the macros emit and the CLI reads.
//!
//! Each macro invocation contributes its own records to the section
//! [`SECTION`]; the linker concatenates sections of one name, so the section
//! is a sequence of records. A record is one line of text,
//! `wasi-virt/<version> <kind> <fields…>\n`, readable in `inspect` and in a
//! hex dump alike. Every record carries the version, so a guest whose parts
//! were built by two versions of the macros is refused too.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::names::{SELF_TARGET, is_valid_target_name};
use crate::preview1;

/// The custom section's name.
pub const SECTION: &str = "wasi-virt.manifest";

/// The manifest version these macros write and this CLI reads.
pub const VERSION: u32 = 1;

/// One fact a guest states about itself.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Record {
    /// `import_wasm!(name)`: the guest expects a target called `name`.
    Target(String),
    /// A `plug_*!` exports `function` for `target` (or [`SELF_TARGET`]).
    Plug {
        /// the target name, or `self`
        target: String,
        /// the preview1 function name
        function: String,
    },
    /// `wrap_unreachable!(name)`: the target's traps unwind to the guest.
    WrapUnreachable(String),
}

impl Record {
    /// The record as the line the macros emit, newline included.
    pub fn encode(&self) -> String {
        let body = match self {
            Record::Target(t) => format!("target {t}"),
            Record::Plug { target, function } => format!("plug {target} {function}"),
            Record::WrapUnreachable(t) => format!("wrap_unreachable {t}"),
        };
        format!("wasi-virt/{VERSION} {body}\n")
    }
}

/// A guest's manifest, as read from its custom section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Targets declared by `import_wasm!`, in declaration order.
    pub targets: Vec<String>,
    /// `(target, function)` pairs the guest exports a shim for.
    pub plugs: BTreeSet<(String, String)>,
    /// Targets whose `unreachable` unwinds to the guest.
    pub wrapped: BTreeSet<String>,
}

impl Manifest {
    /// Whether the guest plugs `function` for `target`.
    pub fn plugs(&self, target: &str, function: &str) -> bool {
        // A tuple of `&str` cannot borrow-query a set of `(String, String)`;
        // the set is small, so a scan is fine.
        self.plugs.iter().any(|(t, f)| t == target && f == function)
    }

    /// Parses the concatenated records of one or more [`SECTION`]s.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, Error> {
        let text = core::str::from_utf8(bytes).map_err(|_| Error::NotUtf8)?;
        let mut manifest = Manifest::default();
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            match parse_record(line)? {
                Record::Target(t) => {
                    if !manifest.targets.contains(&t) {
                        manifest.targets.push(t);
                    }
                }
                Record::Plug { target, function } => {
                    manifest.plugs.insert((target, function));
                }
                Record::WrapUnreachable(t) => {
                    manifest.wrapped.insert(t);
                }
            }
        }
        for (target, _) in &manifest.plugs {
            if target != SELF_TARGET && !manifest.targets.contains(target) {
                return Err(Error::UndeclaredTarget(target.clone()));
            }
        }
        for target in &manifest.wrapped {
            if !manifest.targets.contains(target) {
                return Err(Error::UndeclaredTarget(target.clone()));
            }
        }
        Ok(manifest)
    }

    /// The records that describe this manifest, in a stable order.
    pub fn records(&self) -> Vec<Record> {
        let targets = self.targets.iter().cloned().map(Record::Target);
        let plugs = self.plugs.iter().map(|(target, function)| Record::Plug {
            target: target.clone(),
            function: function.clone(),
        });
        let wrapped = self.wrapped.iter().cloned().map(Record::WrapUnreachable);
        targets.chain(plugs).chain(wrapped).collect()
    }
}

fn parse_record(line: &str) -> Result<Record, Error> {
    let mut fields = line.split(' ');
    let head = fields.next().unwrap_or_default();
    let version = head
        .strip_prefix("wasi-virt/")
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| Error::Malformed(line.to_string()))?;
    if version != VERSION {
        return Err(Error::Version(version));
    }
    let fields: Vec<&str> = fields.collect();
    let target = |name: &str| {
        if is_valid_target_name(name) {
            Ok(name.to_string())
        } else {
            Err(Error::Malformed(line.to_string()))
        }
    };
    match fields.as_slice() {
        ["target", t] => Ok(Record::Target(target(t)?)),
        ["plug", t, f] => {
            if preview1::function(f).is_none() {
                return Err(Error::UnknownFunction(f.to_string()));
            }
            Ok(Record::Plug {
                target: target(t)?,
                function: f.to_string(),
            })
        }
        ["wrap_unreachable", t] => Ok(Record::WrapUnreachable(target(t)?)),
        _ => Err(Error::Malformed(line.to_string())),
    }
}

/// Why a manifest could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The section is not UTF-8 text.
    NotUtf8,
    /// A record of another manifest version.
    Version(u32),
    /// A line that is not a record.
    Malformed(String),
    /// A plug of a function preview1 does not have.
    UnknownFunction(String),
    /// A record names a target that no `import_wasm!` declares.
    UndeclaredTarget(String),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotUtf8 => write!(f, "the manifest section is not UTF-8 text"),
            Error::Version(v) => write!(
                f,
                "the guest was built with manifest version {v}, but this wasi-virt reads version {VERSION}; rebuild the guest against the same wasi-virt version as the CLI"
            ),
            Error::Malformed(line) => write!(f, "malformed manifest record {line:?}"),
            Error::UnknownFunction(name) => {
                write!(
                    f,
                    "the manifest plugs `{name}`, which is not a preview1 function"
                )
            }
            Error::UndeclaredTarget(t) => {
                write!(
                    f,
                    "the manifest names target `{t}`, which no import_wasm! declares"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = [
            Record::Target("app".into()),
            Record::Plug {
                target: "app".into(),
                function: "fd_write".into(),
            },
            Record::Plug {
                target: "self".into(),
                function: "proc_exit".into(),
            },
            Record::WrapUnreachable("app".into()),
        ];
        let text: String = records.iter().map(Record::encode).collect();
        let manifest = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.targets, ["app"]);
        assert!(manifest.plugs("app", "fd_write"));
        assert!(manifest.plugs("self", "proc_exit"));
        assert!(!manifest.plugs("app", "proc_exit"));
        assert!(manifest.wrapped.contains("app"));
        let again: String = manifest.records().iter().map(Record::encode).collect();
        assert_eq!(Manifest::parse(again.as_bytes()).unwrap(), manifest);
    }

    #[test]
    fn another_version_is_refused() {
        let err = Manifest::parse(b"wasi-virt/7 target app\n").unwrap_err();
        assert_eq!(err, Error::Version(7));
        assert!(err.to_string().contains("version 7"));
    }

    #[test]
    fn plugs_for_undeclared_targets_are_refused() {
        let err = Manifest::parse(b"wasi-virt/1 plug app fd_write\n").unwrap_err();
        assert_eq!(err, Error::UndeclaredTarget("app".into()));
    }

    #[test]
    fn unknown_functions_are_refused() {
        let text = "wasi-virt/1 target app\nwasi-virt/1 plug app fd_frobnicate\n";
        let err = Manifest::parse(text.as_bytes()).unwrap_err();
        assert_eq!(err, Error::UnknownFunction("fd_frobnicate".into()));
    }
}
