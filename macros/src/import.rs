//! `import_wasm!`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitByteStr, LitStr, Token, braced};
use wasi_virt_abi::manifest::Record;
use wasi_virt_abi::names;

/// `app` or `app { fn name(args) -> ret; … }`.
struct Input {
    target: Ident,
    exports: Option<Vec<syn::ForeignItemFn>>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let target: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a target name: `import_wasm!(app)`")
        })?;
        let exports = if input.peek(syn::token::Brace) {
            let body;
            braced!(body in input);
            let mut fns = Vec::new();
            while !body.is_empty() {
                fns.push(body.parse()?);
            }
            Some(fns)
        } else {
            None
        };
        let _: Option<Token![;]> = input.parse()?;
        Ok(Input { target, exports })
    }
}

/// Expands `import_wasm!(…)`.
pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let Input { target, exports } = syn::parse2(input)?;
    let name = target.to_string();
    if name == names::SELF_TARGET || !names::is_valid_target_name(&name) {
        return Err(syn::Error::new(
            target.span(),
            format!("`{name}` cannot name a target: use a plain identifier such as `app`"),
        ));
    }
    let exports = match exports {
        Some(fns) => fns,
        None => vec![
            syn::parse_quote!(
                fn _start();
            ),
            syn::parse_quote!(
                fn _initialize();
            ),
        ],
    };
    let target_module = names::target_module(&name);
    let (imports, wrappers, has_start) = target_exports(&name, &exports)?;
    let bridge = bridge_items(&name);

    let run = if has_start {
        quote! {
            /// Runs the target as a command: `_start()`, then its exit code
            /// as a process would have it: 0 if `_start` returned, else the
            /// code it unwound with (see [`exit_code`]).
            pub fn run() -> u32 {
                _start();
                exit_code().unwrap_or(0)
            }
        }
    } else {
        quote!()
    };
    let record = Record::Target(name.clone()).encode();
    let manifest = manifest_static(&record);
    let mod_doc = format!("The target `{name}` (declared by `import_wasm!`).");
    Ok(quote! {
        #[doc = #mod_doc]
        #[allow(non_snake_case, dead_code)]
        pub mod #target {
            #bridge

            /// The caller every `plug_*!` shim for this target passes on.
            // SAFETY: on wasm the bridge functions are the target's
            // `wasi-virt:bridge/<target>` imports, which the merge implements
            // as single `memory.size`/`memory.copy`/`memory.fill`
            // instructions on the target's memory (never the guest's own),
            // and `unwind` is its `wasi-virt:control/<target>::unwind`: what
            // `Memory::new` asks. Off wasm the memory is empty (size 0, no
            // range is inside it) and `unwind` returns `false`.
            pub static CALLER: ::wasi_virt::Caller = unsafe {
                ::wasi_virt::Caller::new(
                    #name,
                    ::wasi_virt::Bridge {
                        size: bridge::size,
                        read: bridge::read,
                        write: bridge::write,
                        fill: bridge::fill,
                        unwind: bridge::unwind,
                    },
                )
            };

            /// How the guest's last call into this target ended, when the
            /// target is under `wrap_unreachable!`: `Some(code)` if it
            /// unwound (the code it passed to `proc_exit`, or
            /// `wasi_virt::process::TRAP_EXIT_CODE` for a trap), `None` if
            /// it returned. Always `None` for a target that is not wrapped,
            /// whose exit stops everything instead.
            pub fn exit_code() -> Option<u32> {
                u32::try_from(bridge::exit_code()).ok()
            }

            /// Puts the target back into the state of a fresh instance, so
            /// that it can run again: its memory (contents, and the size it
            /// sees), its mutable globals and its tables; then its start
            /// function runs, if it has one.
            ///
            /// What the guest keeps for the target is the guest's to reset,
            /// since only it knows what is shared: its fds
            /// (`Vfs::reset_fds(&CALLER)`), files, clock, random numbers,
            /// arguments and environment.
            pub fn reset() {
                bridge::reset()
            }

            #run

            #[cfg(target_family = "wasm")]
            #[link(wasm_import_module = #target_module)]
            unsafe extern "C" {
                #(#imports)*
            }

            #(#wrappers)*

            #manifest
        }
    })
}

/// The guest's imports of the target's `exports` and their safe wrappers,
/// and whether one of them is a command's `_start`.
fn target_exports(
    name: &str,
    exports: &[syn::ForeignItemFn],
) -> syn::Result<(Vec<TokenStream>, Vec<TokenStream>, bool)> {
    let mut imports = Vec::new();
    let mut wrappers = Vec::new();
    let mut has_start = false;
    for f in exports {
        let sig = &f.sig;
        let export_name = export_name(f)?;
        if let Some(helper) = CONTROL_HELPERS.iter().find(|h| sig.ident == **h) {
            return Err(syn::Error::new(
                sig.ident.span(),
                format!(
                    "`{helper}` is the name of `{name}::{helper}()`, which wasi-virt provides; to call the target's own export `{helper}`, give it another name: `#[link_name = \"{helper}\"] fn {name}_{helper}(…);`"
                ),
            ));
        }
        has_start |= export_name == "_start"
            && sig.inputs.is_empty()
            && matches!(sig.output, syn::ReturnType::Default);
        let raw = format_ident!("__wasi_virt_target_{}", sig.ident);
        let inputs = &sig.inputs;
        let output = &sig.output;
        let args: Vec<_> = inputs
            .iter()
            .map(|arg| match arg {
                syn::FnArg::Typed(pat) => Ok(&pat.pat),
                syn::FnArg::Receiver(r) => Err(syn::Error::new_spanned(
                    r,
                    "a target export takes no `self`",
                )),
            })
            .collect::<syn::Result<_>>()?;
        let ident = &sig.ident;
        let doc = format!("Calls the target's export `{export_name}`.");
        imports.push(quote! {
            #[link_name = #export_name]
            fn #raw(#inputs) #output;
        });
        wrappers.push(quote! {
            #[doc = #doc]
            #[allow(clippy::missing_safety_doc)]
            pub fn #ident(#inputs) #output {
                #[cfg(target_family = "wasm")]
                // SAFETY: the CLI links this import to the target's export
                // of the same name and checks that the signatures match.
                return unsafe { #raw(#(#args),*) };
                #[cfg(not(target_family = "wasm"))]
                unreachable!("target exports exist only in a merged wasm module")
            }
        });
    }

    Ok((imports, wrappers, has_start))
}

/// The target's memory bridge and run control: the imports
/// (`wasi-virt:bridge/<target>`, `wasi-virt:control/<target>`) and the
/// `bridge` module over them (empty off wasm).
fn bridge_items(name: &str) -> TokenStream {
    let bridge_module = names::bridge_module(name);
    let control_module = names::control_module(name);
    let (control_unwind, control_exit_code, control_reset) = (
        names::CONTROL_UNWIND,
        names::CONTROL_EXIT_CODE,
        names::CONTROL_RESET,
    );
    let (size, read, write, fill) = (
        names::BRIDGE_SIZE,
        names::BRIDGE_READ,
        names::BRIDGE_WRITE,
        names::BRIDGE_FILL,
    );

    quote! {
            #[cfg(target_family = "wasm")]
            #[link(wasm_import_module = #bridge_module)]
            unsafe extern "C" {
                #[link_name = #size]
                fn __wasi_virt_bridge_size() -> u32;
                #[link_name = #read]
                fn __wasi_virt_bridge_read(dst: *mut u8, src: u32, len: u32);
                #[link_name = #write]
                fn __wasi_virt_bridge_write(dst: u32, src: *const u8, len: u32);
                #[link_name = #fill]
                fn __wasi_virt_bridge_fill(dst: u32, value: u32, len: u32);
            }

            #[cfg(target_family = "wasm")]
            mod bridge {
                // SAFETY (all four): the CLI implements these imports as
                // single `memory.size`/`memory.copy`/`memory.fill`
                // instructions; `wasi_virt::Memory` checks every range first.
                pub fn size() -> u32 { unsafe { super::__wasi_virt_bridge_size() } }
                pub unsafe fn read(dst: *mut u8, src: u32, len: u32) { unsafe { super::__wasi_virt_bridge_read(dst, src, len) } }
                pub unsafe fn write(dst: u32, src: *const u8, len: u32) { unsafe { super::__wasi_virt_bridge_write(dst, src, len) } }
                pub unsafe fn fill(dst: u32, value: u8, len: u32) { unsafe { super::__wasi_virt_bridge_fill(dst, value as u32, len) } }
                // SAFETY (all three): the CLI generates these functions for
                // every target; they touch only the target's state.
                pub fn unwind(code: u32) -> bool { unsafe { super::__wasi_virt_control_unwind(code) != 0 } }
                pub fn exit_code() -> i64 { unsafe { super::__wasi_virt_control_exit_code() } }
                pub fn reset() { unsafe { super::__wasi_virt_control_reset() } }
            }

            // The run-control imports (`wasi-virt:control/<target>`). Only
            // `unwind` throws, and only under `--unwind exceptions`: through
            // `proc_exit` back into the target, never to a guest frame that
            // expects to continue.
            #[cfg(target_family = "wasm")]
            #[link(wasm_import_module = #control_module)]
            unsafe extern "C-unwind" {
                #[link_name = #control_unwind]
                fn __wasi_virt_control_unwind(code: u32) -> u32;
                #[link_name = #control_exit_code]
                fn __wasi_virt_control_exit_code() -> i64;
                #[link_name = #control_reset]
                fn __wasi_virt_control_reset();
            }

            // Off wasm (a host-side `cargo check` or test of the guest
            // crate) there is no target: its memory is empty.
            #[cfg(not(target_family = "wasm"))]
            mod bridge {
                pub fn size() -> u32 { 0 }
                pub unsafe fn read(_: *mut u8, _: u32, _: u32) {}
                pub unsafe fn write(_: u32, _: *const u8, _: u32) {}
                pub unsafe fn fill(_: u32, _: u8, _: u32) {}
                pub fn unwind(_: u32) -> bool { false }
                pub fn exit_code() -> i64 { -1 }
                pub fn reset() {}
            }
    }
}

/// The functions `import_wasm!` adds to a target's module besides its
/// exports; an export of one of these names must be renamed.
const CONTROL_HELPERS: [&str; 3] = ["exit_code", "reset", "run"];

/// The export a listed function calls: its `#[link_name = "…"]`, else its
/// own name.
fn export_name(f: &syn::ForeignItemFn) -> syn::Result<String> {
    // Only one attribute may be written, and it must be `link_name`.
    if let Some(attr) = f.attrs.first() {
        if attr.path().is_ident("link_name") {
            let value: LitStr = match &attr.meta {
                syn::Meta::NameValue(nv) => syn::parse2(nv.value.to_token_stream())?,
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "write `#[link_name = \"export\"]`",
                    ));
                }
            };
            return Ok(value.value());
        }
        return Err(syn::Error::new_spanned(
            attr,
            "only `#[link_name = \"export\"]` may be written on a target export",
        ));
    }
    Ok(f.sig.ident.to_string())
}

/// A static whose bytes the linker appends to the manifest section.
///
/// Not `#[used]`: rustc emits every static with a `link_section` on wasm
/// as a custom section already, and `#[used]` would also keep a copy of
/// the bytes in the guest's memory (1.6 KB in the default guest).
pub fn manifest_static(records: &str) -> TokenStream {
    let section = wasi_virt_abi::manifest::SECTION;
    let len = records.len();
    let bytes = LitByteStr::new(records.as_bytes(), Span::call_site());
    quote! {
        #[cfg_attr(target_family = "wasm", unsafe(link_section = #section))]
        static __WASI_VIRT_MANIFEST: [u8; #len] = *#bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_bridge_caller_exports_and_manifest() {
        let out = expand(quote!(app)).unwrap().to_string();
        assert!(out.contains("pub mod app"));
        assert!(out.contains("\"wasi-virt:bridge/app\""));
        assert!(out.contains("\"wasi-virt:target/app\""));
        assert!(out.contains("link_name = \"_start\""));
        assert!(out.contains("pub fn _initialize ()"));
        assert!(out.contains("pub static CALLER"));
        assert!(
            out.contains("= unsafe { :: wasi_virt :: Caller :: new (\"app\""),
            "{out}"
        );
        assert!(out.contains("wasi-virt/1 target app\\n"));
        assert!(out.contains("\"wasi-virt.manifest\""));
    }

    #[test]
    fn lists_chosen_exports() {
        let out = expand(quote!(lib { fn add(a: i32, b: i32) -> i32; }))
            .unwrap()
            .to_string();
        assert!(out.contains("link_name = \"add\""));
        assert!(out.contains("pub fn add (a : i32 , b : i32) -> i32"));
        assert!(!out.contains("_start"));
    }

    #[test]
    fn control_functions_come_with_every_target() {
        let out = expand(quote!(app)).unwrap().to_string();
        assert!(out.contains("\"wasi-virt:control/app\""), "{out}");
        assert!(
            out.contains("pub fn exit_code () -> Option < u32 >"),
            "{out}"
        );
        assert!(out.contains("pub fn reset ()"), "{out}");
        assert!(out.contains("pub fn run () -> u32"), "{out}");
        assert!(out.contains("unwind : bridge :: unwind"), "{out}");
        // A reactor without `_start` has no `run`.
        let lib = expand(quote!(lib { fn add(a: i32) -> i32; }))
            .unwrap()
            .to_string();
        assert!(!lib.contains("pub fn run"), "{lib}");
    }

    #[test]
    fn an_export_named_like_a_control_function_is_renamed() {
        let err = expand(quote!(lib { fn reset(); })).unwrap_err().to_string();
        assert!(
            err.contains("#[link_name = \"reset\"] fn lib_reset"),
            "{err}"
        );
        let out = expand(quote!(lib { #[link_name = "reset"] fn lib_reset(); }))
            .unwrap()
            .to_string();
        assert!(out.contains("link_name = \"reset\""), "{out}");
        assert!(out.contains("pub fn lib_reset ()"), "{out}");
    }

    #[test]
    fn self_is_not_a_target() {
        let err = expand(quote!(self)).unwrap_err().to_string();
        assert!(err.contains("target name"), "{err}");
    }
}
