//! Spans of fields, types and attributes, read without printing them into token streams.

use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;

use crate::diag::Span;

use super::lower::Ctx;

/// `pub name: Type`, without the field's attributes and doc comments.
pub(super) fn field_span(ctx: &Ctx, f: &syn::Field) -> Span {
    // Only where the first token starts matters: `pub`, even of `pub(crate)`.
    let first = match (&f.vis, &f.ident) {
        (syn::Visibility::Public(public), _) => public.span,
        (syn::Visibility::Restricted(restricted), _) => restricted.pub_token.span,
        (syn::Visibility::Inherited, Some(ident)) => ident.span(),
        (syn::Visibility::Inherited, None) => ty_span(&f.ty),
    };
    Span::new(ctx.file, ctx.start(first), ctx.end(ty_span(&f.ty)))
}

/// What `Spanned::span` gives for a type (its first token joined with its last), without
/// printing the type into a token stream first: `Spanned` does, and for a big input that was a
/// visible share of the whole run. Paths (nearly every field type) are read directly.
pub(super) fn ty_span(ty: &syn::Type) -> PmSpan {
    let syn::Type::Path(syn::TypePath {
        qself: None, path, ..
    }) = ty
    else {
        return ty.span();
    };
    let Some(last) = path.segments.last() else {
        return ty.span();
    };
    let first = match (&path.leading_colon, path.segments.first()) {
        (Some(colons), _) => colons.spans[0],
        (None, Some(segment)) => segment.ident.span(),
        (None, None) => return ty.span(),
    };
    let end = match &last.arguments {
        syn::PathArguments::None => last.ident.span(),
        syn::PathArguments::AngleBracketed(args) => args.gt_token.span,
        syn::PathArguments::Parenthesized(args) => match &args.output {
            syn::ReturnType::Type(_, out) => ty_span(out),
            syn::ReturnType::Default => args.paren_token.span.join(),
        },
    };
    first.join(end).unwrap_or(first)
}

/// `Spanned::span` of an attribute (`#` to `]`), read from its delimiters.
pub(super) fn attr_span(attr: &syn::Attribute) -> PmSpan {
    let first = attr.pound_token.span;
    first.join(attr.bracket_token.span.join()).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: PmSpan) -> ((usize, usize), (usize, usize)) {
        let (a, b) = (s.start(), s.end());
        ((a.line, a.column), (b.line, b.column))
    }

    /// The shortcuts give exactly what `Spanned` gives, which diagnostics relied on before.
    #[test]
    fn span_shortcuts_match_spanned() {
        let file: syn::File = syn::parse_str(
            "/// doc\n#[derive(Debug)]\n#[serde(rename_all = \"camelCase\")]\n/** block */\n#[doc = \"x\"]\nstruct S {\n\
             a: String, b: Option<Vec<BTreeMap<String, i32>>>, c: ::std::string::String,\n\
             d: std::collections::BTreeMap<String, Option<Box<S>>>, e: Box<dyn Fn(i32) -> Option<u8>>,\n\
             f: Box<dyn FnMut(u8)>, g: <S as T>::Out, h: [u8; 4], i: (i32, String), j: &'static str,\n\
             k: Option<Vec<u8> >, l: r#type::Kind, m: Vec<Option<i32>\n>,\n}",
        )
        .unwrap();
        let syn::Item::Struct(s) = &file.items[0] else {
            panic!("a struct")
        };
        assert_eq!(s.attrs.len(), 5);
        for attr in &s.attrs {
            assert_eq!(range(attr_span(attr)), range(attr.span()), "{attr:?}");
        }
        let mut types = 0;
        for field in &s.fields {
            assert_eq!(
                range(ty_span(&field.ty)),
                range(field.ty.span()),
                "{:?}",
                field.ident
            );
            types += 1;
        }
        assert_eq!(types, 13);
    }
}
