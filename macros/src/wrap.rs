//! `wrap_unreachable!`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::{Ident, Token};
use wasi_virt_abi::manifest::Record;
use wasi_virt_abi::names;

/// Expands `wrap_unreachable!(app, …)`: one `wrap_unreachable` manifest
/// record per target, and a reference to each target's `CALLER`, so that a
/// target no `import_wasm!` declares is a compile error at its name.
pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let targets =
        syn::parse::Parser::parse2(Punctuated::<Ident, Token![,]>::parse_terminated, input)
            .map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected targets declared by `import_wasm!`: `wrap_unreachable!(app)`",
                )
            })?;
    if targets.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "wrap_unreachable! needs at least one target: `wrap_unreachable!(app)`",
        ));
    }
    let mut records = String::new();
    let mut checks = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for target in &targets {
        let name = target.to_string();
        if name == names::SELF_TARGET {
            return Err(syn::Error::new(
                target.span(),
                "the guest itself cannot be wrapped: name a target declared by `import_wasm!`",
            ));
        }
        if seen.contains(&name) {
            return Err(syn::Error::new(
                target.span(),
                format!("target `{name}` is listed twice"),
            ));
        }
        seen.push(name.clone());
        records.push_str(&Record::WrapUnreachable(name).encode());
        checks.push(
            quote_spanned!(target.span()=> let _: &::wasi_virt::Caller = &self::#target::CALLER;),
        );
    }
    let manifest = crate::import::manifest_static(&records);
    Ok(quote! {
        const _: () = {
            // Each target must be declared with `import_wasm!`.
            #[allow(dead_code)]
            fn __wasi_virt_wrapped() {
                #(#checks)*
            }
            #manifest
        };
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_target() {
        let out = expand(quote!(app, lib)).unwrap().to_string();
        assert!(out.contains("wasi-virt/1 wrap_unreachable app\\n"), "{out}");
        assert!(out.contains("wasi-virt/1 wrap_unreachable lib\\n"), "{out}");
        assert!(out.contains("& self :: app :: CALLER"), "{out}");
        assert!(out.contains("\"wasi-virt.manifest\""), "{out}");
    }

    #[test]
    fn misuse_says_what_to_write() {
        let err = |input| expand(input).unwrap_err().to_string();
        assert!(err(quote!()).contains("wrap_unreachable!(app)"));
        assert!(err(quote!(app, app)).contains("listed twice"));
        assert!(err(quote!(app; x)).contains("import_wasm!"));
    }
}
