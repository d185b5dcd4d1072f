//! Reading attributes that are not serde's: doc comments (and tags written in plain comments)
//! and `cfg`s.

use crate::diag::{Diagnostic, Span};

use super::lower::Ctx;
use super::spans::attr_span;

/// Whether `#[cfg(test)]` (or any `cfg` that mentions `test`) is on the item: test modules are
/// not part of the API.
pub(super) fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            use quote::ToTokens;
            a.meta
                .to_token_stream()
                .into_iter()
                .any(|t| matches!(t, proc_macro2::TokenTree::Group(g) if g.stream().into_iter().any(|t| t.to_string() == "test")))
        }
    })
}

/// The attributes with each `#[cfg_attr(<predicate>, a, b)]` read as `#[a] #[b]` (nested ones
/// too): kube-codegen cannot know which features a build turns on, and serde attributes written
/// so (`cfg_attr(feature = "serde", serde(rename_all = "camelCase"))`) hold whenever the types
/// are an API at all — serde is how an API is read and written. A `cfg_attr` kube-codegen cannot
/// read is left as it is.
pub(super) fn expand_cfg_attr(attrs: &[syn::Attribute]) -> std::borrow::Cow<'_, [syn::Attribute]> {
    if !attrs.iter().any(|a| a.path().is_ident("cfg_attr")) {
        return std::borrow::Cow::Borrowed(attrs);
    }
    let mut out = Vec::with_capacity(attrs.len());
    for a in attrs {
        push_expanded(a.clone(), &mut out, 0);
    }
    std::borrow::Cow::Owned(out)
}

fn push_expanded(attr: syn::Attribute, out: &mut Vec<syn::Attribute>, depth: usize) {
    let syn::Meta::List(list) = &attr.meta else {
        out.push(attr);
        return;
    };
    if !list.path.is_ident("cfg_attr") || depth > 8 {
        out.push(attr);
        return;
    }
    use syn::parse::Parser;
    let parser = |input: syn::parse::ParseStream<'_>| {
        let _predicate: syn::Meta = input.parse()?;
        let _: syn::Token![,] = input.parse()?;
        syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated(input)
    };
    match parser.parse2(list.tokens.clone()) {
        Ok(metas) => {
            for meta in metas {
                let inner = syn::Attribute {
                    meta,
                    ..attr.clone()
                };
                push_expanded(inner, out, depth + 1);
            }
        }
        Err(_) => out.push(attr),
    }
}

/// The traits `#[cfg_attr(<predicate>, derive(...))]` derives that generated code depends on
/// (deepcopy-gen writes `Clone` when it is not derived; defaults and clients use `Default`),
/// with the attribute: whether they exist depends on the build.
pub(super) fn conditional_derives(attrs: &[syn::Attribute]) -> Vec<(&syn::Attribute, Vec<String>)> {
    derived_under_cfg(attrs, |t| matches!(t, "Clone" | "Default"))
}

/// Traits that derive macros of other crates implement, named in their own attributes:
/// `#[derivative(Clone, Default = "new")]` (derivative), `#[educe(Clone, Default)]` (educe),
/// `#[derive_where(Clone, Debug; T)]` (derive-where). Generated code must not write them again
/// (a second `Clone` impl is E0119).
pub(super) fn derived_by_helper_macros(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs {
        let syn::Meta::List(list) = &attr.meta else {
            continue;
        };
        let Some(name) = list.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        if !matches!(name.as_str(), "derivative" | "educe" | "derive_where") {
            continue;
        }
        // The trait names are the top level's identifiers that start an entry: first, or
        // after a comma (`Default = "new"` and `Debug(bound = "")` carry options; derive-where's
        // bounds follow a `;`).
        let mut entry_start = true;
        for token in list.tokens.clone() {
            match token {
                proc_macro2::TokenTree::Ident(ident) if entry_start => {
                    out.push(ident.to_string());
                    entry_start = false;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => entry_start = true,
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ';' => break,
                _ => entry_start = false,
            }
        }
    }
    out
}

/// Every trait derived under `cfg_attr`, with its attribute.
pub(super) fn derived_under_cfg(
    attrs: &[syn::Attribute],
    keep: impl Fn(&str) -> bool,
) -> Vec<(&syn::Attribute, Vec<String>)> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("cfg_attr")) {
        let expanded = expand_cfg_attr(std::slice::from_ref(a));
        let mut traits = Vec::new();
        for inner in expanded.iter().filter(|i| i.path().is_ident("derive")) {
            let _ = inner.parse_nested_meta(|m| {
                if let Some(last) = m.path.segments.last()
                    && keep(&last.ident.to_string())
                {
                    traits.push(last.ident.to_string());
                }
                Ok(())
            });
        }
        if !traits.is_empty() {
            out.push((a, traits));
        }
    }
    out
}

/// E0204 for a `#[cfg(...)]` on an API type, field or variant: generated code names every field
/// and type unconditionally, so it would fail to compile (cryptically) whenever the `cfg` is off.
pub(super) fn reject_cfg(ctx: &mut Ctx, attrs: &[syn::Attribute], what: &str) {
    for a in attrs.iter().filter(|a| a.path().is_ident("cfg")) {
        let span = ctx.span(attr_span(a));
        ctx.diags.push(
            Diagnostic::error("E0204", format!("`#[cfg]` on {what}"))
                .at(span, "generated code cannot follow a `cfg`")
                .help("the generated codec, deep copies, defaults, conversions, schemas and apply configurations name every field and type: gate the whole package module (or the `include!`s) instead, or make the field an `Option`"),
        );
    }
}

/// `// +genclient` in a plain comment is invisible to the parser; Go read it, so people write it.
/// Say so instead of silently generating nothing.
pub(super) fn plain_comment_tags(ctx: &Ctx, text: &str, diags: &mut Vec<Diagnostic>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("//")
            && !rest.starts_with('/')
            && !rest.starts_with('!')
        {
            let body = rest.trim_start();
            if body.starts_with('+') && body[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                let start = offset + (line.len() - trimmed.len());
                let end = offset + line.trim_end().len();
                // Another tool's marker (`// +kubebuilder:…`) is ignored in a doc comment too:
                // say that, not "use `///`".
                let marker_start = end - body.trim_end().len();
                if let Some(d) =
                    crate::tags::foreign_marker(body, Span::new(ctx.file, marker_start, end))
                {
                    diags.push(d);
                    offset += line.len();
                    continue;
                }
                diags.push(
                    Diagnostic::warning("W0105", "tag in a plain `//` comment is ignored")
                        .at(Span::new(ctx.file, start, end), "not a doc comment")
                        .help(
                            "tags live in doc comments: use `///` above the type or field, \
                             or `//!` at the top of the file for package tags",
                        ),
                );
            }
        }
        offset += line.len();
    }
}

/// Doc comment lines with the span of each line's text.
pub(super) fn doc_lines(ctx: &Ctx, attrs: &[syn::Attribute], inner: bool) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for attr in attrs {
        let is_inner = matches!(attr.style, syn::AttrStyle::Inner(_));
        if is_inner != inner || !attr.path().is_ident("doc") {
            continue;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        else {
            continue;
        };
        let value = s.value();
        let whole = ctx.span(attr_span(attr));
        let text = ctx.sources.text(ctx.file);
        let written = &text[whole.start..whole.end.min(text.len())];
        if written.starts_with("///") || written.starts_with("//!") {
            out.push((value, Span::new(ctx.file, whole.start + 3, whole.end)));
        } else if written.starts_with("/**") || written.starts_with("/*!") {
            // Block docs: locate each line in the written comment. Like rustdoc, a leading
            // ` * ` decoration is not part of the text, so `* +genclient` is a tag.
            let mut cursor = whole.start + 3;
            let end = whole.end.min(text.len());
            for line in value.lines() {
                let line = match line.trim_start().strip_prefix('*') {
                    Some(rest) if !rest.starts_with('/') => rest,
                    _ => line,
                };
                let at = text
                    .get(cursor..end)
                    .and_then(|t| t.find(line))
                    .map_or(cursor, |i| cursor + i);
                out.push((line.to_string(), Span::new(ctx.file, at, at + line.len())));
                cursor = (at + line.len()).min(end);
            }
        } else {
            // `#[doc = "..."]`: point into the literal when it is written without escapes, so a
            // tag's span covers just the tag; otherwise at the whole literal.
            let lit = ctx.span(s.span());
            let written = &text[lit.start..lit.end.min(text.len())];
            if written.len() == value.len() + 2
                && written.starts_with('"')
                && written.get(1..written.len() - 1) == Some(value.as_str())
            {
                let mut at = lit.start + 1;
                for line in value.split('\n') {
                    out.push((line.to_string(), Span::new(ctx.file, at, at + line.len())));
                    at += line.len() + 1;
                }
            } else {
                for line in value.lines() {
                    out.push((line.to_string(), lit));
                }
            }
        }
    }
    out
}
