//! Generated tokens → formatted Rust text (`prettyplease`).
//!
//! `prettyplease` prints a `syn` tree, so generated tokens are parsed back into one. Most of what
//! the generators write is item macros (`::kube_codegen_scheme::deep_clone!(…);`, one per type):
//! for those the tree is built directly from the tokens — a path, a `!`, a delimited body — which
//! is the tree `syn` would build, without copying every token into a parse buffer twice. Every
//! other item is parsed by `syn`. Should the split ever go wrong, the whole stream is parsed by
//! `syn` instead; tests hold both paths to the same text.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use syn::punctuated::Punctuated;

/// The formatted text of a generated file's tokens.
pub fn rust_file(tokens: TokenStream) -> syn::Result<String> {
    Ok(prettyplease::unparse(&syntax_tree(tokens)?))
}

/// The `syn` tree of a generated file's tokens (see the module docs).
pub fn syntax_tree(tokens: TokenStream) -> syn::Result<syn::File> {
    // Cheap: a token stream is a shared vector.
    let whole = tokens.clone();
    match split(tokens) {
        Some(file) => Ok(file),
        None => syn::parse2(whole),
    }
}

/// The straightforward path: `syn` parses every token. What [`rust_file`] must equal.
pub fn rust_file_parsed(tokens: TokenStream) -> syn::Result<String> {
    Ok(prettyplease::unparse(&syn::parse2::<syn::File>(tokens)?))
}

/// Item macros built directly, the runs of tokens between them parsed by `syn`; `None` when a
/// run does not parse on its own.
fn split(tokens: TokenStream) -> Option<syn::File> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut file: syn::File = syn::parse2(TokenStream::new()).ok()?;
    let mut run_start = 0;
    let mut at_item_start = true;
    let mut i = 0;
    while i < trees.len() {
        if at_item_start && let Some((item, next)) = item_macro(&trees, i) {
            parse_run(&trees[run_start..i], run_start == 0, &mut file)?;
            file.items.push(syn::Item::Macro(item));
            i = next;
            run_start = next;
            continue;
        }
        // An item ends with `;` or with a braced body (`impl … { … }`). A brace group in the
        // middle of an item (`const X: T = T { … };`) is followed by something no item macro
        // starts with, or by the `;` that ends the item.
        at_item_start = match &trees[i] {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
            _ => false,
        };
        i += 1;
    }
    parse_run(&trees[run_start..], run_start == 0, &mut file)?;
    Some(file)
}

/// Parses `run` as items into `file`; the file's inner attributes may only open the first run.
fn parse_run(run: &[TokenTree], first: bool, file: &mut syn::File) -> Option<()> {
    if run.is_empty() {
        return Some(());
    }
    let parsed: syn::File = syn::parse2(run.iter().cloned().collect()).ok()?;
    if !parsed.attrs.is_empty() && !first {
        return None;
    }
    file.attrs.extend(parsed.attrs);
    file.items.extend(parsed.items);
    Some(())
}

/// `path!(…);`, `path![…];` or `path! { … }` starting at `trees[i]`: the item and the index
/// after it. Anything else (`macro_rules! name { … }`, attributes, a keyword) is left to `syn`.
fn item_macro(trees: &[TokenTree], mut i: usize) -> Option<(syn::ItemMacro, usize)> {
    let leading_colon = is_path_sep(trees, i);
    if leading_colon {
        i += 2;
    }
    let mut segments: Punctuated<syn::PathSegment, syn::Token![::]> = Punctuated::new();
    loop {
        let TokenTree::Ident(ident) = trees.get(i)? else {
            return None;
        };
        let name = ident.to_string();
        let first = segments.is_empty() && !leading_colon;
        let allowed = match name.as_str() {
            "self" | "super" | "crate" => first,
            "Self" | "macro_rules" | "union" | "auto" | "default" | "safe" => false,
            other => !kube_codegen_model::output::is_keyword(other),
        };
        if !allowed {
            return None;
        }
        segments.push(syn::PathSegment::from(ident.clone()));
        i += 1;
        if is_path_sep(trees, i) {
            i += 2;
            continue;
        }
        break;
    }
    match trees.get(i)? {
        TokenTree::Punct(p) if p.as_char() == '!' => i += 1,
        _ => return None,
    }
    let TokenTree::Group(body) = trees.get(i)? else {
        return None;
    };
    i += 1;
    let delimiter = match body.delimiter() {
        Delimiter::Parenthesis => syn::MacroDelimiter::Paren(Default::default()),
        Delimiter::Bracket => syn::MacroDelimiter::Bracket(Default::default()),
        Delimiter::Brace => syn::MacroDelimiter::Brace(Default::default()),
        Delimiter::None => return None,
    };
    let semi = matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ';');
    let semi_token = match (&delimiter, semi) {
        (syn::MacroDelimiter::Brace(_), false) => None,
        // A `;` after a braced item macro is an item of its own: left to `syn`.
        (syn::MacroDelimiter::Brace(_), true) => return None,
        (_, true) => {
            i += 1;
            Some(Default::default())
        }
        (_, false) => return None,
    };
    Some((
        syn::ItemMacro {
            attrs: Vec::new(),
            ident: None,
            mac: syn::Macro {
                path: syn::Path {
                    leading_colon: leading_colon.then(Default::default),
                    segments,
                },
                bang_token: Default::default(),
                delimiter,
                tokens: body.stream(),
            },
            semi_token,
        },
        i,
    ))
}

/// Whether `trees[i..]` starts with `::`.
fn is_path_sep(trees: &[TokenTree], i: usize) -> bool {
    matches!(
        (trees.get(i), trees.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn same(tokens: TokenStream) -> String {
        assert!(split(tokens.clone()).is_some(), "the shortcut applies");
        let expected = rust_file_parsed(tokens.clone()).expect("valid Rust");
        let got = rust_file(tokens).expect("valid Rust");
        assert_eq!(got, expected);
        got
    }

    #[test]
    fn item_macros_are_built_as_syn_would_parse_them() {
        let out = same(quote! {
            ::kube_codegen_scheme::deep_clone!(self::types::A { a, b, r#type });
            ::kube_codegen_scheme::convert_hub!(
                self::types::A => super::types::A { a, b : seq(hub), c : opt(hub) }
            );
            scheme::impl_object!(self::types::A, status);
            self::m![1, 2];
            crate::m! { x => y }
            super::m!();
            m!(a; b);
        });
        assert!(
            out.contains("::kube_codegen_scheme::deep_clone!(self::types::A { a, b, r#type });"),
            "{out}"
        );
        assert!(out.contains("crate::m! {"), "{out}");
    }

    #[test]
    fn other_items_around_macros_are_parsed() {
        same(quote! {
            #![allow(clippy::all)]
            /// Docs.
            pub const GROUP_NAME: &str = "g";
            pub type AList = ::k8s_openapi::List<self::types::A>;
            const _: () = {
                use ::kube_codegen_scheme as scheme;
                scheme::impl_resource!(self::types::A, "g/v1", NamespaceResourceScope, status);
                impl scheme::Kind for self::types::A {
                    const INFO: scheme::ResourceInfo = scheme::ResourceInfo { group: "g" };
                }
            };
            m!(1);
            impl ::kube_codegen_scheme::SetDefaults for self::types::A {
                fn set_defaults(&mut self) {
                    if self.replicas.is_none() {
                        self.replicas = ::core::option::Option::Some(1);
                    }
                }
            }
            n!(2);
            pub const X: T = T { a: 1 };
            o!(3);
            pub fn f() -> u8 { 1 }
            #[doc(hidden)]
            p!(4);
            macro_rules! q { () => {} }
            q!();
        });
    }

    #[test]
    fn what_is_not_an_item_macro_is_left_to_syn() {
        // A braced macro followed by `;`, `Self`, keywords, a lone `!`: parsed by syn throughout.
        for tokens in [
            quote! { m! { a } ; n!(1); },
            quote! { union!(1); },
            quote! { pub m!(1); },
        ] {
            let parsed = rust_file_parsed(tokens.clone());
            let fast = rust_file(tokens);
            assert_eq!(fast.is_ok(), parsed.is_ok());
            if let (Ok(a), Ok(b)) = (fast, parsed) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn invalid_tokens_are_an_error_either_way() {
        assert!(rust_file(quote! { m!(1) }).is_err());
        assert!(rust_file(quote! { m!(1); struct }).is_err());
        assert!(rust_file(quote! { fn f() }).is_err());
    }
}
