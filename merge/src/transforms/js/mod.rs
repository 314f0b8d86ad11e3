//! `--js OUT.js`: an ES module (and its `.d.ts`) that runs an output through
//! its guest's host API, with no dependencies: `instantiate(bytesOrUrl)`,
//! `app.run({ args, env, stdin })`, `app.fs.*`. The JavaScript is a fixed
//! template ([`wrapper.js`](./wrapper.js)); only the names of the files
//! change, so that the module finds its `.wasm` next to it.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};

use crate::json::string as json_string;
use crate::module::Module;

const WRAPPER_JS: &str = include_str!("wrapper.js");
const WRAPPER_DTS: &str = include_str!("wrapper.d.ts");

/// The `.d.ts` path beside `js`: `out.js` → `out.d.ts`, `out.mjs` → `out.d.mts`.
pub fn dts_path(js: &Path) -> PathBuf {
    let stem = js.file_stem().unwrap_or_default().to_string_lossy();
    let ext = match js.extension().and_then(|e| e.to_str()) {
        Some("mjs") => "d.mts",
        _ => "d.ts",
    };
    js.with_file_name(format!("{stem}.{ext}"))
}

/// The ES module and its `.d.ts` for the module `bytes` written to `wasm`,
/// the module written to `js`. A threads output's shared memories are
/// created by the module, from the limits written into it here.
pub fn wrapper(js: &Path, wasm: &Path, bytes: &[u8]) -> Result<(String, String)> {
    let Some(js_name) = js.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        bail!("{}: --js takes a file name", js.display());
    };
    let wasm_url = relative_url(js, wasm);
    let quoted = json_string(&wasm_url);
    let memories = shared_memories(bytes)?;
    let fill = |template: &str| {
        template
            .replace("__WASI_VIRT_SHARED_MEMORIES__", &memories)
            .replace("__WASI_VIRT_WASM_JSON__", &quoted)
            .replace("__WASI_VIRT_WASM__", &wasm_url)
            .replace("__WASI_VIRT_JS__", &js_name)
    };
    Ok((fill(WRAPPER_JS), fill(WRAPPER_DTS)))
}

/// The shared memories `bytes` imports, as a JSON array of
/// `{module, name, initial, maximum}` (pages): empty but for a threads
/// output.
fn shared_memories(bytes: &[u8]) -> Result<String> {
    let m = Module::parse("output", bytes)?;
    let mut items = Vec::new();
    for import in &m.imports {
        if let wasmparser::TypeRef::Memory(t) = import.ty
            && t.shared
        {
            items.push(format!(
                "{{\"module\":{},\"name\":{},\"initial\":{},\"maximum\":{}}}",
                json_string(import.module),
                json_string(import.name),
                t.initial,
                t.maximum.unwrap_or(t.initial)
            ));
        }
    }
    Ok(format!("[{}]", items.join(",")))
}

/// The URL of `wasm` relative to the folder of `js` (`out.wasm`,
/// `../build/out.wasm`), with `/` separators and each segment
/// percent-encoded where a URL needs it.
fn relative_url(js: &Path, wasm: &Path) -> String {
    let absolute = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        normalize(&p)
    };
    let from = absolute(js.parent().unwrap_or(Path::new("")));
    let to = absolute(wasm);
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut segments: Vec<String> = vec!["..".to_string(); from.len() - common];
    segments.extend(
        to[common..]
            .iter()
            .map(|c| encode_segment(&c.as_os_str().to_string_lossy())),
    );
    let url = segments.join("/");
    // A bare `out.wasm` would also resolve; `./` makes the intent plain.
    if url.starts_with("..") {
        url
    } else {
        format!("./{url}")
    }
}

/// `a/./b/../c` → `a/c`, without touching the filesystem (the files may not
/// exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn encode_segment(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_finds_its_wasm_beside_it_or_elsewhere() {
        assert_eq!(
            relative_url(Path::new("/w/out.js"), Path::new("/w/out.wasm")),
            "./out.wasm"
        );
        assert_eq!(
            relative_url(Path::new("/w/web/app.js"), Path::new("/w/build/a b.wasm")),
            "../build/a%20b.wasm"
        );
        assert_eq!(
            relative_url(Path::new("/w/./app.js"), Path::new("/w/x/../out.wasm")),
            "./out.wasm"
        );
    }

    #[test]
    fn the_declarations_sit_beside_the_module() {
        assert_eq!(dts_path(Path::new("a/out.js")), Path::new("a/out.d.ts"));
        assert_eq!(dts_path(Path::new("out.mjs")), Path::new("out.d.mts"));
    }

    #[test]
    fn the_template_is_filled_in() {
        let (js, dts) = wrapper(
            Path::new("/w/demo.js"),
            Path::new("/w/demo.wasm"),
            &wat::parse_str("(module)").unwrap(),
        )
        .unwrap();
        assert!(
            js.contains(r#"new URL("./demo.wasm", import.meta.url)"#),
            "{js}"
        );
        assert!(!js.contains("__WASI_VIRT"), "every placeholder is replaced");
        assert!(
            !dts.contains("__WASI_VIRT"),
            "every placeholder is replaced"
        );
        assert!(dts.contains("demo.js"));
    }
}
