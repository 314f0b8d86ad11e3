//! `plug_*!` and `plug!`: exported shims from the preview1 table.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, Token};
use wasi_virt_abi::manifest::Record;
use wasi_virt_abi::preview1::{self, Function, Param};
use wasi_virt_abi::{Subsystem, names, snapshot0};

/// `IMPL, target, … [; function = path, …]`
struct Input {
    implementation: Expr,
    targets: Vec<Target>,
    overrides: Vec<(Ident, Path)>,
}

/// A target name from `import_wasm!`, or `self`.
enum Target {
    Named(Ident),
    Own(Token![self]),
}

impl Target {
    fn name(&self) -> String {
        match self {
            Target::Named(i) => i.to_string(),
            Target::Own(_) => names::SELF_TARGET.to_string(),
        }
    }

    /// The `Caller` the shims for this target pass on.
    fn caller(&self) -> TokenStream {
        match self {
            // Spanned at the user's ident, so that a target no
            // `import_wasm!` declared is reported where it is written.
            Target::Named(i) => quote_spanned!(i.span()=> &self::#i::CALLER),
            Target::Own(_) => quote!(&::wasi_virt::Caller::OWN),
        }
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let implementation: Expr = input.parse()?;
        let mut targets = Vec::new();
        while input.parse::<Option<Token![,]>>()?.is_some() {
            if input.is_empty() || input.peek(Token![;]) {
                break;
            }
            if input.peek(Token![self]) {
                targets.push(Target::Own(input.parse()?));
            } else {
                targets.push(Target::Named(input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected a target declared by `import_wasm!`, or `self`",
                    )
                })?));
            }
        }
        let mut overrides = Vec::new();
        if input.parse::<Option<Token![;]>>()?.is_some() {
            let list = Punctuated::<Override, Token![,]>::parse_terminated(input)?;
            overrides = list.into_iter().map(|o| (o.function, o.path)).collect();
        }
        if !input.is_empty() {
            return Err(input
                .error("unexpected tokens; write `plug_xxx!(IMPL, target, …; function = path)`"));
        }
        Ok(Input {
            implementation,
            targets,
            overrides,
        })
    }
}

struct Override {
    function: Ident,
    path: Path,
}

impl Parse for Override {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let function = input.parse()?;
        input.parse::<Token![=]>()?;
        Ok(Override {
            function,
            path: input.parse()?,
        })
    }
}

/// Expands `plug!(subsystem, IMPL, target, …)`.
pub fn expand_by_name(input: TokenStream) -> syn::Result<TokenStream> {
    let mut tokens = input.into_iter();
    let first = tokens.next();
    let name = match &first {
        Some(proc_macro2::TokenTree::Ident(i)) => i.clone(),
        _ => {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "expected a subsystem first: `plug!(fs, FS, app)`",
            ));
        }
    };
    let Some(subsystem) = Subsystem::from_name(&name.to_string()) else {
        let known: Vec<_> = Subsystem::ALL.iter().map(|s| s.name()).collect();
        return Err(syn::Error::new(
            name.span(),
            format!(
                "unknown subsystem `{name}`; write one of: {}",
                known.join(", ")
            ),
        ));
    };
    match tokens.next() {
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ',' => {}
        _ => {
            return Err(syn::Error::new(
                name.span(),
                "expected `,` after the subsystem",
            ));
        }
    }
    expand(subsystem, tokens.collect())
}

/// Expands `plug_<subsystem>!(…)`.
pub fn expand(subsystem: Subsystem, input: TokenStream) -> syn::Result<TokenStream> {
    let Input {
        implementation,
        targets,
        overrides,
    } = syn::parse2(input)?;
    let macro_name = format!("plug_{}!", subsystem.name());
    if targets.is_empty() {
        return Err(syn::Error::new_spanned(
            &implementation,
            format!(
                "{macro_name} needs at least one target: `{macro_name}(IMPL, app)` or `{macro_name}(IMPL, self)`"
            ),
        ));
    }
    for (function, _) in &overrides {
        check_override(subsystem, function)?;
    }
    let mut seen = Vec::new();
    for t in &targets {
        if seen.contains(&t.name()) {
            let span = match t {
                Target::Named(i) => i.span(),
                Target::Own(s) => s.span,
            };
            return Err(syn::Error::new(
                span,
                format!("target `{}` is listed twice", t.name()),
            ));
        }
        seen.push(t.name());
    }

    let trait_path = {
        let t = format_ident!("{}", subsystem.trait_name());
        quote!(::wasi_virt::#t)
    };
    let mut shims = Vec::new();
    let mut records = String::new();
    for target in &targets {
        for function in subsystem.functions() {
            let callee = match overrides.iter().find(|(f, _)| f == function.name) {
                Some((_, path)) => quote!(#path),
                None => {
                    let method = format_ident!("{}", function.name);
                    quote!(#trait_path::#method)
                }
            };
            if let Target::Named(_) = target
                && snapshot0::ADAPTED.contains(&function.name)
            {
                shims.push(snapshot0_adapter(
                    &target.name(),
                    target.caller(),
                    function,
                    &implementation,
                    callee.clone(),
                ));
            }
            shims.push(shim(
                &target.name(),
                target.caller(),
                function,
                &implementation,
                callee,
            ));
            let record = Record::Plug {
                target: target.name(),
                function: function.name.into(),
            };
            records.push_str(&record.encode());
        }
    }
    let manifest = crate::import::manifest_static(&records);
    Ok(quote! {
        const _: () = {
            #(#shims)*
            #manifest
        };
    })
}

fn check_override(subsystem: Subsystem, function: &Ident) -> syn::Result<()> {
    let name = function.to_string();
    match preview1::function(&name) {
        Some(f) if f.subsystem == subsystem => Ok(()),
        Some(f) => Err(syn::Error::new(
            function.span(),
            format!(
                "`{name}` is plugged by {}, not plug_{}!",
                f.subsystem,
                subsystem.name()
            ),
        )),
        None => {
            let known: Vec<_> = subsystem.functions().map(|f| f.name).collect();
            Err(syn::Error::new(
                function.span(),
                format!(
                    "`{name}` is not a preview1 function of plug_{}!; it has: {}",
                    subsystem.name(),
                    known.join(", ")
                ),
            ))
        }
    }
}

/// The `wasi_unstable` adapter of one of [`snapshot0::ADAPTED`] for a named
/// target, exported as [`snapshot0::adapter_export`]: the same core
/// signature as preview1's, the same trait call, with snapshot 0's
/// `whence`, `filestat` or `subscription` converted at the edge (by
/// `wasi_virt::snapshot0`).
fn snapshot0_adapter(
    target: &str,
    caller: TokenStream,
    function: &Function,
    implementation: &Expr,
    callee: TokenStream,
) -> TokenStream {
    let export_name = snapshot0::adapter_export(target, function.name);
    let fn_name = format_ident!("__wasi_virt_plug0_{}_{}", target, function.name);
    let body = match function.name {
        "fd_seek" => quote! {
            ::wasi_virt::outputs::call(caller, &[out as u32], || {
                #callee(&#implementation, caller, a as u32, b, ::wasi_virt::snapshot0::whence(c as u32))
            })
        },
        "fd_filestat_get" => quote! {
            ::wasi_virt::outputs::call(caller, &[out as u32], || {
                #callee(&#implementation, caller, a as u32).map(::wasi_virt::snapshot0::Filestat0)
            })
        },
        "path_filestat_get" => quote! {
            ::wasi_virt::outputs::call(caller, &[out as u32], || {
                #callee(&#implementation, caller, a as u32, b as u32, c as u32, d as u32)
                    .map(::wasi_virt::snapshot0::Filestat0)
            })
        },
        "poll_oneoff" => quote! {
            ::wasi_virt::outputs::call(caller, &[out as u32], || {
                ::wasi_virt::snapshot0::poll_oneoff(caller, a as u32, b as u32, c as u32, |own, s, e, n| {
                    #callee(&#implementation, own, s, e, n)
                })
            })
        },
        other => unreachable!("snapshot0::ADAPTED lists {other}, which has no adapter here"),
    };
    let params = match function.name {
        "fd_seek" => quote!(a: i32, b: i64, c: i32, out: i32),
        "fd_filestat_get" => quote!(a: i32, out: i32),
        "path_filestat_get" => quote!(a: i32, b: i32, c: i32, d: i32, out: i32),
        _ => quote!(a: i32, b: i32, c: i32, out: i32),
    };
    quote! {
        #[unsafe(export_name = #export_name)]
        extern "C" fn #fn_name(#params) -> i32 {
            let caller: &::wasi_virt::Caller = #caller;
            #body
        }
    }
}

/// One exported shim: preview1 core signature in, trait call, results out.
fn shim(
    target: &str,
    caller: TokenStream,
    function: &Function,
    implementation: &Expr,
    callee: TokenStream,
) -> TokenStream {
    let export_name = names::plug_export(target, function.name);
    let fn_name = format_ident!("__wasi_virt_plug_{}_{}", target, function.name);
    let params: Vec<_> = function
        .params
        .iter()
        .map(|(n, _)| format_ident!("{}", n))
        .collect();
    let param_decls = function
        .params
        .iter()
        .zip(&params)
        .map(|((_, ty), ident)| match ty {
            Param::U32 => quote!(#ident: i32),
            Param::U64 | Param::I64 => quote!(#ident: i64),
        });
    let args = function
        .params
        .iter()
        .zip(&params)
        .map(|((_, ty), ident)| match ty {
            Param::U32 => quote!(#ident as u32),
            Param::U64 => quote!(#ident as u64),
            Param::I64 => quote!(#ident),
        });
    let outs: Vec<_> = function
        .results
        .iter()
        .map(|(n, _)| format_ident!("{}_out", n))
        .collect();
    if function.noreturn {
        // `proc_exit` returns only when the target is unwinding back to the
        // guest (`wasi_virt::process::exit`): the shim then returns into it.
        return quote! {
            #[unsafe(export_name = #export_name)]
            extern "C" fn #fn_name(#(#param_decls),*) {
                let _: ::wasi_virt::process::Unwinding =
                    #callee(&#implementation, #caller, #(#args),*);
            }
        };
    }
    quote! {
        #[unsafe(export_name = #export_name)]
        extern "C" fn #fn_name(#(#param_decls,)* #(#outs: i32),*) -> i32 {
            let caller: &::wasi_virt::Caller = #caller;
            ::wasi_virt::outputs::call(caller, &[#(#outs as u32),*], || {
                #callee(&#implementation, caller, #(#args),*)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(sub: Subsystem, input: TokenStream) -> String {
        expand(sub, input).unwrap().to_string()
    }

    #[test]
    fn one_shim_and_record_per_function_and_target() {
        let out = expand_str(Subsystem::Args, quote!(ARGS, app, self));
        for name in [
            "__wasi_virt/plug/app/args_get",
            "__wasi_virt/plug/app/args_sizes_get",
            "__wasi_virt/plug/self/args_get",
            "__wasi_virt/plug/self/args_sizes_get",
        ] {
            assert!(
                out.contains(&format!("\"{name}\"")),
                "{name} missing in {out}"
            );
        }
        assert!(out.contains("wasi-virt/1 plug app args_get\\n"));
        assert!(out.contains("wasi-virt/1 plug self args_sizes_get\\n"));
        assert!(out.contains("& :: wasi_virt :: Caller :: OWN"));
        assert!(out.contains(":: wasi_virt :: Args :: args_get (& ARGS"));
    }

    #[test]
    fn shim_signature_is_preview1s() {
        let out = expand_str(Subsystem::Fs, quote!(FS, app));
        assert!(out.contains(
            "fn __wasi_virt_plug_app_fd_seek (fd : i32 , offset : i64 , whence : i32 , newoffset_out : i32) -> i32"
        ), "{out}");
        assert!(out.contains("& [newoffset_out as u32]"));
        // 35 preview1 shims, and the snapshot-0 adapters of fd_seek,
        // fd_filestat_get and path_filestat_get.
        assert_eq!(out.matches("extern \"C\" fn").count(), 38);
        assert!(out.contains("\"__wasi_virt/plug/app/wasi_unstable/fd_seek\""));
        assert!(out.contains(":: wasi_virt :: snapshot0 :: whence (c as u32)"));
    }

    #[test]
    fn proc_exit_returns_nothing() {
        let out = expand_str(Subsystem::Process, quote!(EXIT, app));
        assert!(
            out.contains("fn __wasi_virt_plug_app_proc_exit (rval : i32) {"),
            "{out}"
        );
    }

    #[test]
    fn a_single_function_can_be_replaced() {
        let out = expand_str(Subsystem::Fs, quote!(FS, app; fd_write = my_write));
        assert!(out.contains("my_write (& FS"));
        assert!(out.contains(":: wasi_virt :: Fs :: fd_read (& FS"));
    }

    #[test]
    fn misuse_says_what_to_write() {
        let err = |sub, input| expand(sub, input).unwrap_err().to_string();
        assert!(err(Subsystem::Fs, quote!(FS)).contains("plug_fs!(IMPL, app)"));
        assert!(err(Subsystem::Env, quote!(E, app; fd_write = f)).contains("plugged by plug_fs!"));
        assert!(err(Subsystem::Fs, quote!(FS, app; fd_wrte = f)).contains("it has: fd_advise"));
        assert!(err(Subsystem::Fs, quote!(FS, app, app)).contains("listed twice"));
        let unknown = expand_by_name(quote!(fss, FS, app))
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown subsystem `fss`"), "{unknown}");
        assert!(expand_by_name(quote!(fs, FS, app)).is_ok());
    }
}
