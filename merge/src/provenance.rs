//! The `wasi-virt.merged` custom section: why each import of a merged module
//! is still there, so that `inspect` can say so long after the merge.
//!
//! Only the CLI writes and reads it: a first line `wasi-virt/1 merged`, then
//! one line per import, `<origin>\t<module>\t<name>\n`, with origin
//! `passthrough`, `guest` or `target:<name>`. Every merged module has it,
//! with no import lines when the module imports nothing. Then one line per
//! merged target, `merged-target\t<name>\t<file>\t<unwind>\t<reset>\n`
//! (`unwind`: `flags`, `exceptions` or `-`; `reset`: `reset` or `-`), which
//! readers of the import lines skip.

use crate::types::{Origin, Strategy, TargetSummary};

/// The section's name.
pub const SECTION: &str = "wasi-virt.merged";

/// One import of a merged module and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Why it stays.
    pub origin: Origin,
    /// The import module.
    pub module: String,
    /// The import name.
    pub name: String,
}

/// The section's text.
pub fn encode(entries: &[Entry]) -> String {
    let mut out = String::from("wasi-virt/1 merged\n");
    for e in entries {
        let origin = match &e.origin {
            Origin::Passthrough => "passthrough".to_string(),
            Origin::Guest => "guest".to_string(),
            Origin::SharedGuestMemory => "shared-guest-memory".to_string(),
            Origin::Target(t) => format!("target:{t}"),
        };
        out.push_str(&format!("{origin}\t{}\t{}\n", e.module, e.name));
    }
    out
}

/// The lines of the merged targets, appended to [`encode`]'s text.
pub fn encode_targets(targets: &[TargetSummary]) -> String {
    let mut out = String::new();
    for t in targets {
        out.push_str(&format!(
            "merged-target\t{}\t{}\t{}\t{}\n",
            t.name,
            t.file,
            t.unwind.map_or("-", Strategy::name),
            if t.reset { "reset" } else { "-" }
        ));
    }
    out
}

/// The merged targets the section lists.
pub fn parse_targets(bytes: &[u8]) -> Vec<TargetSummary> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let ["merged-target", name, file, unwind, reset] = fields.as_slice() else {
                return None;
            };
            Some(TargetSummary {
                name: name.to_string(),
                file: file.to_string(),
                unwind: match *unwind {
                    "flags" => Some(Strategy::Flags),
                    "exceptions" => Some(Strategy::Exceptions),
                    _ => None,
                },
                reset: *reset == "reset",
            })
        })
        .collect()
}

/// Reads the section; lines it does not understand are skipped, since the
/// section only ever explains and never decides.
pub fn parse(bytes: &[u8]) -> Vec<Entry> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let origin = match fields.next()? {
                "passthrough" => Origin::Passthrough,
                "guest" => Origin::Guest,
                "shared-guest-memory" => Origin::SharedGuestMemory,
                other => Origin::Target(other.strip_prefix("target:")?.to_string()),
            };
            Some(Entry {
                origin,
                module: fields.next()?.to_string(),
                name: fields.next()?.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let entries = vec![
            Entry {
                origin: Origin::Passthrough,
                module: "wasi_snapshot_preview1".into(),
                name: "clock_time_get".into(),
            },
            Entry {
                origin: Origin::Target("app".into()),
                module: "env".into(),
                name: "js call".into(),
            },
            Entry {
                origin: Origin::Guest,
                module: "env".into(),
                name: "log".into(),
            },
        ];
        assert_eq!(parse(encode(&entries).as_bytes()), entries);
    }

    #[test]
    fn targets_round_trip_and_do_not_disturb_imports() {
        let targets = vec![
            TargetSummary {
                name: "app".into(),
                file: "app.wasm".into(),
                unwind: Some(Strategy::Exceptions),
                reset: true,
            },
            TargetSummary {
                name: "lib".into(),
                file: "dir/lib.wasm".into(),
                unwind: None,
                reset: false,
            },
        ];
        let text = encode(&[]) + &encode_targets(&targets);
        assert_eq!(parse_targets(text.as_bytes()), targets);
        assert_eq!(parse(text.as_bytes()), []);
    }
}
