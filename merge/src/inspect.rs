//! [`inspect`] (`wasi-virt inspect FILE`): what a module imports and
//! exports, its manifest if it is a guest, and for a merged module why each
//! remaining import is still there. "Import-free" is the promise of a
//! merge; this is where a user checks it.

use std::fmt::Write as _;

use anyhow::Result;
use wasi_virt_abi::Subsystem;
use wasi_virt_abi::manifest::{self, Manifest};
use wasi_virt_abi::names::SELF_TARGET;
use wasi_virt_abi::preview1;
use wasmparser::{ExternalKind, TypeRef};

use crate::Input;
use crate::json::string as json_string;
use crate::module::{Module, Signature};
use crate::pack::{Recorded, parse_record};
use crate::provenance;
use crate::types::{Origin, TargetSummary};

/// How [`inspect`] writes what it finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// Width that manifest lists wrap at.
const WIDTH: usize = 80;

/// One import, described.
struct ImportLine {
    module: String,
    name: String,
    kind: &'static str,
    ty: String,
    reason: Option<String>,
}

/// What `input` imports and exports, its manifest if it is a guest, and
/// for a merged or packed module why each remaining import is there.
pub fn inspect(input: Input, format: Format) -> Result<String> {
    let name = input.name;
    let module = Module::parse(name, input.bytes)?;
    let manifest = match module.custom_sections(manifest::SECTION) {
        Some(section) => {
            Some(Manifest::parse(&section).map_err(|e| anyhow::anyhow!("{name}: {e}"))?)
        }
        None => None,
    };
    let merged = module
        .custom_sections(provenance::SECTION)
        .map(|s| provenance::parse(&s));
    let mut imports = describe_imports(&module, merged.as_deref());
    let packed = module
        .custom_sections(wasi_virt_abi::pack::SECTION)
        .map(|s| parse_record(&s));
    if let Some(packed) = &packed {
        explain_packed(&mut imports, packed);
    }
    let targets = module
        .custom_sections(provenance::SECTION)
        .map(|s| provenance::parse_targets(&s))
        .unwrap_or_default();
    let text = if format == Format::Json {
        let text = json(&module, &imports, manifest.as_ref());
        // `{…}\n` → `{…,"targets":[…]}\n`
        let body = text.trim_end().trim_end_matches('}');
        format!("{body},\"targets\":{}}}\n", targets_json(&targets))
    } else {
        text(&module, &imports, manifest.as_ref(), merged.is_some())
            + &targets_text(&targets)
            + &packed.as_deref().map(packed_text).unwrap_or_default()
    };
    Ok(text)
}

/// A packed output says which option keeps each host import.
fn explain_packed(imports: &mut [ImportLine], packed: &[Recorded]) {
    for import in imports {
        let why = packed.iter().find_map(|r| match r {
            Recorded::Keep { module, name, why }
                if *module == import.module && *name == import.name =>
            {
                Some(why)
            }
            _ => None,
        });
        if let Some(why) = why {
            import.reason = Some(format!("host passthrough: {why}"));
        }
    }
}

/// What `pack` mounted and stubbed.
fn packed_text(packed: &[Recorded]) -> String {
    use Recorded;
    let mut out = String::from("packed by wasi-virt pack:\n");
    for r in packed {
        match r {
            Recorded::Dir { path, summary } => {
                let _ = writeln!(out, "  folder {path} <- {summary}");
            }
            Recorded::Stub { module } => {
                let _ = writeln!(
                    out,
                    "  imports from {module}: stubbed (they trap if called; --stub-imports {module})"
                );
            }
            Recorded::Keep { .. } => {}
        }
    }
    out
}

/// The targets a merged module holds, and how the guest controls each.
fn targets_text(targets: &[TargetSummary]) -> String {
    let mut out = String::new();
    if targets.is_empty() {
        return out;
    }
    let _ = writeln!(out, "targets ({}):", targets.len());
    for t in targets {
        let mut how = Vec::new();
        if let Some(strategy) = t.unwind {
            how.push(format!("wrap_unreachable, --unwind {}", strategy.name()));
        }
        if t.reset {
            how.push("reset".to_string());
        }
        let how = if how.is_empty() {
            String::new()
        } else {
            format!("  [{}]", how.join("; "))
        };
        let _ = writeln!(out, "  {} from {}{how}", t.name, t.file);
    }
    out
}

fn targets_json(targets: &[TargetSummary]) -> String {
    let items: Vec<String> = targets
        .iter()
        .map(|t| {
            format!(
                "{{\"name\":{},\"file\":{},\"unwind\":{},\"reset\":{}}}",
                json_string(&t.name),
                json_string(&t.file),
                t.unwind
                    .map_or("null".to_string(), |s| json_string(s.name())),
                t.reset
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn describe_imports(m: &Module, merged: Option<&[provenance::Entry]>) -> Vec<ImportLine> {
    m.imports
        .iter()
        .map(|i| {
            let (kind, ty) = type_ref(m, &i.ty);
            let reason = merged.map(|entries| {
                let entry = entries
                    .iter()
                    .find(|e| e.module == i.module && e.name == i.name);
                match entry.map(|e| &e.origin) {
                    Some(Origin::Passthrough) => "host passthrough".to_string(),
                    Some(Origin::Guest) => "kept from the guest".to_string(),
                    Some(Origin::SharedGuestMemory) => {
                        "the guest's memory, shared by every thread".to_string()
                    }
                    Some(Origin::Target(t)) => format!("kept from target `{t}`"),
                    None if i.module == preview1::MODULE => "host passthrough".to_string(),
                    None => "kept".to_string(),
                }
            });
            ImportLine {
                module: i.module.into(),
                name: i.name.into(),
                kind,
                ty,
                reason,
            }
        })
        .collect()
}

fn type_ref(m: &Module, ty: &TypeRef) -> (&'static str, String) {
    match ty {
        TypeRef::Func(t) | TypeRef::FuncExact(t) => (
            "func",
            match m.types.get(*t as usize) {
                Some(Some(f)) => Signature(f).to_string(),
                _ => format!("(type {t})"),
            },
        ),
        TypeRef::Table(t) => ("table", format!("{} {}", t.initial, t.element_type)),
        TypeRef::Memory(mem) => (
            "memory",
            format!(
                "{}{} pages",
                if mem.memory64 { "i64 " } else { "" },
                mem.initial
            ),
        ),
        TypeRef::Global(g) => (
            "global",
            format!("{}{}", if g.mutable { "mut " } else { "" }, g.content_type),
        ),
        TypeRef::Tag(t) => ("tag", format!("(type {})", t.func_type_idx)),
    }
}

fn export_line(m: &Module, kind: ExternalKind, index: u32) -> (&'static str, String) {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => (
            "func",
            m.func_type(index)
                .map(|f| Signature(f).to_string())
                .unwrap_or_default(),
        ),
        ExternalKind::Table => ("table", String::new()),
        ExternalKind::Memory => ("memory", String::new()),
        ExternalKind::Global => ("global", String::new()),
        ExternalKind::Tag => ("tag", String::new()),
    }
}

fn text(m: &Module, imports: &[ImportLine], manifest: Option<&Manifest>, merged: bool) -> String {
    let mut out = String::new();
    let what = if merged {
        "a module merged by wasi-virt"
    } else if manifest.is_some() {
        "a wasi-virt guest"
    } else {
        "a core module"
    };
    let _ = writeln!(out, "{}: {what}", m.name);
    if imports.is_empty() {
        let _ = writeln!(
            out,
            "imports: none{}",
            if merged {
                " (it runs with an empty import object)"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(out, "imports ({}):", imports.len());
        for i in imports {
            let _ = write!(out, "  {}::{} {} {}", i.module, i.name, i.kind, i.ty);
            if let Some(reason) = &i.reason {
                let _ = write!(out, "  [{reason}]");
            }
            out.push('\n');
        }
    }
    if m.exports.is_empty() {
        let _ = writeln!(out, "exports: none");
    } else {
        let _ = writeln!(out, "exports ({}):", m.exports.len());
        for e in &m.exports {
            let (kind, ty) = export_line(m, e.kind, e.index);
            let _ = writeln!(
                out,
                "  {} {kind}{}{ty}",
                e.name,
                if ty.is_empty() { "" } else { " " }
            );
        }
    }
    if let Some(manifest) = manifest {
        write_manifest(&mut out, manifest);
    }
    out
}

fn write_manifest(out: &mut String, manifest: &Manifest) {
    let _ = writeln!(out, "manifest (wasi-virt/{}):", manifest::VERSION);
    let targets = if manifest.targets.is_empty() {
        "none".to_string()
    } else {
        manifest.targets.join(", ")
    };
    let _ = writeln!(out, "  targets: {targets}");
    let mut plugged: Vec<&str> = manifest.targets.iter().map(String::as_str).collect();
    if manifest.plugs.iter().any(|(t, _)| t == SELF_TARGET) {
        plugged.push(SELF_TARGET);
    }
    for target in plugged {
        let _ = writeln!(out, "  plugs for {target}:");
        let mut any = false;
        for subsystem in Subsystem::ALL {
            let functions: Vec<&str> = subsystem
                .functions()
                .filter(|f| manifest.plugs(target, f.name))
                .map(|f| f.name)
                .collect();
            if functions.is_empty() {
                continue;
            }
            any = true;
            let head = format!("    {subsystem}");
            wrap(out, &head, &functions);
        }
        if !any {
            let _ = writeln!(out, "    none");
        }
    }
    if !manifest.wrapped.is_empty() {
        let wrapped: Vec<&str> = manifest.wrapped.iter().map(String::as_str).collect();
        let _ = writeln!(out, "  wrap_unreachable: {}", wrapped.join(", "));
    }
}

/// `head word word…`, wrapped at [`WIDTH`] with continuation lines
/// aligned under the first word.
fn wrap(out: &mut String, head: &str, words: &[&str]) {
    let indent = head.len() + 1;
    let mut line = head.to_string();
    for (i, w) in words.iter().enumerate() {
        if i > 0 && line.len() + 1 + w.len() > WIDTH {
            let _ = writeln!(out, "{line}");
            line = " ".repeat(indent - 1);
        }
        line.push(' ');
        line.push_str(w);
    }
    let _ = writeln!(out, "{line}");
}

fn json(m: &Module, imports: &[ImportLine], manifest: Option<&Manifest>) -> String {
    let s = |v: &str| json_string(v);
    let mut out = format!("{{\"file\":{},\"imports\":[", s(&m.name));
    for (n, i) in imports.iter().enumerate() {
        let _ = write!(
            out,
            "{}{{\"module\":{},\"name\":{},\"kind\":{},\"type\":{},\"reason\":{}}}",
            if n > 0 { "," } else { "" },
            s(&i.module),
            s(&i.name),
            s(i.kind),
            s(&i.ty),
            i.reason.as_deref().map_or("null".to_string(), s)
        );
    }
    out.push_str("],\"exports\":[");
    for (n, e) in m.exports.iter().enumerate() {
        let (kind, ty) = export_line(m, e.kind, e.index);
        let _ = write!(
            out,
            "{}{{\"name\":{},\"kind\":{},\"type\":{}}}",
            if n > 0 { "," } else { "" },
            s(e.name),
            s(kind),
            s(&ty)
        );
    }
    out.push_str("],\"manifest\":");
    match manifest {
        None => out.push_str("null"),
        Some(manifest) => {
            let list =
                |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(",");
            let _ = write!(
                out,
                "{{\"version\":{},\"targets\":[{}],\"plugs\":[{}],\"wrap_unreachable\":[{}]}}",
                manifest::VERSION,
                list(&mut manifest.targets.iter().map(|t| s(t))),
                list(&mut manifest.plugs.iter().map(|(t, f)| format!(
                    "{{\"target\":{},\"function\":{},\"macro\":{}}}",
                    s(t),
                    s(f),
                    s(&preview1::function(f).map(|f| f.subsystem.to_string()).unwrap_or_default())
                ))),
                list(&mut manifest.wrapped.iter().map(|t| s(t))),
            );
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::Fixture;

    #[test]
    fn a_merged_module_says_it_has_no_imports() {
        let built = Fixture::default().build();
        let bytes = built.parse().merge().unwrap();
        let m = Module::parse("out.wasm", &bytes).unwrap();
        let merged = m
            .custom_sections(provenance::SECTION)
            .map(|s| provenance::parse(&s));
        assert_eq!(
            merged,
            Some(Vec::new()),
            "a merged module is marked even with no imports"
        );
        let out = text(&m, &describe_imports(&m, merged.as_deref()), None, true);
        assert!(
            out.contains("imports: none (it runs with an empty import object)"),
            "{out}"
        );
    }

    #[test]
    fn kept_imports_say_why() {
        let built = Fixture {
            guest_imports: r#"(import "wasi-virt:passthrough" "random_get" (func (param i32 i32) (result i32)))"#
                .into(),
            target_imports: r#"(import "env" "js" (func))"#.into(),
            ..Fixture::default()
        }
        .build();
        let bytes = built.parse().merge().unwrap();
        let m = Module::parse("out.wasm", &bytes).unwrap();
        let merged = m
            .custom_sections(provenance::SECTION)
            .map(|s| provenance::parse(&s));
        let out = text(&m, &describe_imports(&m, merged.as_deref()), None, true);
        assert!(
            out.contains("env::js func (param) (result)  [kept from target `app`]"),
            "{out}"
        );
        assert!(
            out.contains("wasi_snapshot_preview1::random_get func (param i32 i32) (result i32)  [host passthrough]"),
            "{out}"
        );
    }

    #[test]
    fn the_manifest_is_grouped_by_target_and_macro() {
        let mut manifest = Manifest {
            targets: vec!["app".into()],
            ..Manifest::default()
        };
        for f in ["fd_write", "fd_read", "random_get"] {
            manifest.plugs.insert(("app".into(), f.into()));
        }
        manifest.plugs.insert(("self".into(), "proc_exit".into()));
        let mut out = String::new();
        write_manifest(&mut out, &manifest);
        assert_eq!(
            out,
            "manifest (wasi-virt/1):\n  targets: app\n  plugs for app:\n    plug_random! random_get\n    plug_fs! fd_read fd_write\n  plugs for self:\n    plug_process! proc_exit\n"
        );
    }

    #[test]
    fn long_lists_wrap_under_the_first_word() {
        let mut out = String::new();
        let words: Vec<&str> = preview1::FUNCTIONS.iter().map(|f| f.name).collect();
        wrap(&mut out, "    plug_fs!", &words);
        assert!(out.lines().all(|l| l.len() <= WIDTH), "{out}");
        assert!(
            out.lines()
                .skip(1)
                .all(|l| l.starts_with("             ") && !l.starts_with("              "))
        );
    }

    #[test]
    fn merged_targets_say_how_the_guest_controls_them() {
        let targets = [
            TargetSummary {
                name: "app".into(),
                file: "app.wasm".into(),
                unwind: Some(crate::types::Strategy::Flags),
                reset: true,
            },
            TargetSummary {
                name: "lib".into(),
                file: "lib.wasm".into(),
                unwind: None,
                reset: false,
            },
        ];
        assert_eq!(
            targets_text(&targets),
            "targets (2):\n  app from app.wasm  [wrap_unreachable, --unwind flags; reset]\n  lib from lib.wasm\n"
        );
        assert_eq!(
            targets_json(&targets[1..]),
            r#"[{"name":"lib","file":"lib.wasm","unwind":null,"reset":false}]"#
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }
}
