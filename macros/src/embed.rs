//! `embed_dir!`: a host folder baked into the guest.

use std::path::{Component, Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

/// Expands `embed_dir!("folder")`, relative to the invoking crate's
/// `Cargo.toml`.
pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: LitStr = syn::parse2(input)
        .map_err(|e| syn::Error::new(e.span(), "expected a folder: `embed_dir!(\"site\")`"))?;
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let root = base.join(lit.value());
    let root = root.canonicalize().map_err(|e| {
        syn::Error::new(lit.span(), format!("cannot embed {}: {e}", root.display()))
    })?;
    if !root.is_dir() {
        return Err(syn::Error::new(
            lit.span(),
            format!("{} is not a folder", root.display()),
        ));
    }
    embed_path(&root, &root).map_err(|msg| syn::Error::new(lit.span(), msg))
}

/// The `EmbeddedNode` for `path`, which lies inside `root`.
pub fn embed_path(root: &Path, path: &Path) -> Result<TokenStream, String> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        let link = std::fs::read_link(path)
            .map_err(|e| format!("cannot read the symlink {}: {e}", path.display()))?;
        check_link_stays_inside(root, path, &link)?;
        let text = link
            .to_str()
            .ok_or_else(|| format!("the symlink {} is not UTF-8", path.display()))?;
        return Ok(quote!(::wasi_virt::fs::EmbeddedNode::Symlink(#text)));
    }
    if meta.is_file() {
        let abs = path
            .to_str()
            .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
        let lit = LitStr::new(abs, Span::call_site());
        return Ok(quote!(::wasi_virt::fs::EmbeddedNode::File(
            include_bytes!(#lit)
        )));
    }
    if !meta.is_dir() {
        return Err(format!(
            "{} is neither a file, a folder nor a symlink",
            path.display()
        ));
    }
    let mut entries = Vec::new();
    for entry in
        std::fs::read_dir(path).map_err(|e| format!("cannot list {}: {e}", path.display()))?
    {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: the name {n:?} is not UTF-8", path.display()))?;
        entries.push((name, entry.path()));
    }
    entries.sort();
    let children = entries
        .iter()
        .map(|(name, p)| {
            let node = embed_path(root, p)?;
            Ok(quote!((#name, #node)))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(quote!(::wasi_virt::fs::EmbeddedNode::Dir(&[#(#children),*])))
}

/// A symlink may point anywhere inside the embedded folder, never out of it:
/// in the guest it would resolve against another tree than on the host.
fn check_link_stays_inside(root: &Path, link_path: &Path, link: &Path) -> Result<(), String> {
    let outside = || {
        format!(
            "the symlink {} -> {} leads out of the embedded folder {}; replace it by a copy, or embed the folder it points into",
            link_path.display(),
            link.display(),
            root.display()
        )
    };
    if link.is_absolute() {
        return Err(outside());
    }
    // Resolve lexically from the link's folder, relative to the root.
    let parent = link_path.parent().unwrap_or(root);
    let mut depth: Vec<_> = parent
        .strip_prefix(root)
        .map_err(|_| outside())?
        .components()
        .collect();
    for c in link.components() {
        match c {
            Component::ParentDir => {
                depth.pop().ok_or_else(outside)?;
            }
            Component::Normal(_) => depth.push(c),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wasi-virt-embed-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn embeds_files_dirs_and_links_sorted() {
        let dir = tempdir();
        std::fs::write(dir.join("b.txt"), "b").unwrap();
        std::fs::write(dir.join("sub/a.txt"), "a").unwrap();
        std::os::unix::fs::symlink("../b.txt", dir.join("sub/link")).unwrap();
        let out = embed_path(&dir, &dir).unwrap().to_string();
        let b = out.find("\"b.txt\"").unwrap();
        let sub = out.find("\"sub\"").unwrap();
        assert!(b < sub, "{out}");
        assert!(out.contains("Symlink (\"../b.txt\")"));
        assert!(out.contains("include_bytes !"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_leaving_the_folder_are_refused() {
        let dir = tempdir();
        std::os::unix::fs::symlink("../../etc/passwd", dir.join("sub/evil")).unwrap();
        let err = embed_path(&dir, &dir).unwrap_err();
        assert!(err.contains("leads out of the embedded folder"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let dir = tempdir();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("abs")).unwrap();
        assert!(embed_path(&dir, &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
