//! The `wasi-virt.merged` custom section: why each import of a merged module
//! is still there, so that `inspect` can say so long after the merge.
//!
//! Only the CLI writes and reads it: a first line `wasi-virt/1 merged`, then
//! one line per import, `<origin>\t<module>\t<name>\n`, with origin
//! `passthrough`, `guest` or `target:<name>`. Every merged module has it,
//! with no import lines when the module imports nothing.

use crate::passes::check_imports::Origin;

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
            Origin::Target(t) => format!("target:{t}"),
        };
        out.push_str(&format!("{origin}\t{}\t{}\n", e.module, e.name));
    }
    out
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
}
