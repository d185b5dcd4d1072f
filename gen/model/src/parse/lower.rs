//! Lowering one file: parsing it and turning its items into a [`LoweredFile`], with the state
//! lowering carries through a file.

use std::collections::BTreeMap;

use proc_macro2::Span as PmSpan;
use rayon::prelude::*;

use crate::diag::{Diagnostic, FileId, Sources, Span};
use crate::model::FieldType;
use crate::tags::{self, Place};

use super::attrs::{doc_lines, plain_comment_tags};
use super::items::lower_items;
use super::{BareName, InputFile, LoweredFile, LoweredType, MapKey, Scope};

/// Parses and lowers files in parallel.
pub(crate) fn lower_all(files: &[InputFile], sources: &Sources) -> Vec<LoweredFile> {
    // One task per file: files differ in size a thousandfold, and long runs of them would
    // leave a thread idle at the end (see `with_max_len` in kube-codegen's render).
    files
        .par_iter()
        .with_max_len(1)
        .map(|f| lower_file(f, sources))
        .collect()
}

/// A generic type alias (`type Maybe<T> = Option<Vec<T>>;`).
#[derive(Clone)]
pub(super) struct GenericAlias {
    pub(super) params: Vec<String>,
    /// The aliased type, each parameter a single-segment foreign path.
    pub(super) ty: FieldType,
    /// The parameters that are a map's key: their arguments must be strings.
    pub(super) map_key_params: std::collections::BTreeSet<String>,
}

pub(super) struct Ctx<'a> {
    pub(super) file: FileId,
    pub(super) sources: &'a Sources,
    pub(super) scopes: Vec<Scope>,
    /// The scope being lowered.
    pub(super) scope: usize,
    /// Type aliases per scope: name → the aliased type, substituted where the alias is used.
    pub(super) aliases: Vec<BTreeMap<String, FieldType>>,
    /// Generic type aliases per scope (`type Maybe<T> = Option<Vec<T>>;`): name → their type
    /// parameters and the aliased type, in which each parameter is a single-segment foreign
    /// path, replaced by the arguments where the alias is used.
    pub(super) generic_aliases: Vec<BTreeMap<String, GenericAlias>>,
    /// While a generic alias's type is lowered: its parameters that are a map's key
    /// (`type Two<K, V> = BTreeMap<K, V>`), checked where the alias is used, with its arguments.
    pub(super) alias_map_key_params: Option<std::collections::BTreeSet<String>>,
    /// Names declared in each scope (structs, enums, unions, aliases, traits).
    pub(super) declared: Vec<std::collections::BTreeSet<String>>,
    /// Generic parameters of the type being lowered (`T` is not a type to resolve).
    pub(super) generic_params: Vec<String>,
    /// The name of the struct or enum being lowered: what `Self` in its fields means.
    pub(super) self_type: Option<String>,
    pub(super) bare_names: Vec<BareName>,
    pub(super) map_keys: Vec<MapKey>,
    pub(super) diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub(super) fn span(&self, s: PmSpan) -> Span {
        Span::new(self.file, self.start(s), self.end(s))
    }

    /// The file offset where `s` starts.
    pub(super) fn start(&self, s: PmSpan) -> usize {
        let at = s.start();
        self.sources.offset(self.file, at.line, at.column)
    }

    /// The file offset where `s` ends.
    pub(super) fn end(&self, s: PmSpan) -> usize {
        let at = s.end();
        self.sources.offset(self.file, at.line, at.column)
    }
}

fn lower_file(f: &InputFile, sources: &Sources) -> LoweredFile {
    let mut out = LoweredFile::default();
    let mut ctx = Ctx {
        file: f.id,
        sources,
        scopes: Vec::new(),
        scope: 0,
        aliases: Vec::new(),
        generic_aliases: Vec::new(),
        alias_map_key_params: None,
        declared: Vec::new(),
        generic_params: Vec::new(),
        self_type: None,
        bare_names: Vec::new(),
        map_keys: Vec::new(),
        diags: Vec::new(),
    };
    plain_comment_tags(&ctx, &f.text, &mut out.diags);
    // Nesting deeper than any API type needs would overflow the parser's stack (an abort, not a
    // diagnostic) and make generation quadratic: refused before parsing.
    if let Some(at) = too_deep(&f.text, MAX_NESTING) {
        out.diags.push(
            Diagnostic::error(
                "E0004",
                format!("this file nests more than {MAX_NESTING} levels deep"),
            )
            .at(Span::new(f.id, at, at + 1), "this bracket goes too deep")
            .help("API types nest a few levels: flatten the type or split it into named types"),
        );
        return out;
    }
    let file = match syn::parse_file(&f.text) {
        Ok(file) => file,
        Err(e) => {
            let mut span = ctx.span(e.span());
            // syn's "unexpected end of input" has no position (the call site): point at the
            // end of the text, where the item was cut short (a dangling attribute, say).
            if e.to_string().starts_with("unexpected end of input") && span.start == 0 {
                let end = f.text.trim_end().len();
                let last = f.text[..end].chars().next_back().map_or(0, char::len_utf8);
                span = Span::new(f.id, end - last, end);
            }
            // proc-macro2's lexer says only "cannot parse string into token stream": name the
            // problem from the text at the position it stopped, as rustc would.
            let (message, label) = match lex_problem(&f.text, span.start) {
                Some((m, l)) if e.to_string() == "cannot parse string into token stream" => (m, l),
                _ => (e.to_string(), e.to_string()),
            };
            out.diags.push(
                Diagnostic::error("E0001", format!("this file is not valid Rust: {message}"))
                    .at(span, label)
                    .help("fix the syntax error; kube-codegen reads the file as rustc would"),
            );
            return out;
        }
    };
    let docs = doc_lines(&ctx, &file.attrs, true);
    let (_, raw_tags) = tags::split_docs(&docs);
    out.package_tags = tags::check(raw_tags, Place::Package, &mut ctx.diags);
    let root = Scope {
        reachable: true,
        reachable_from_file: true,
        public: true,
        ..Scope::default()
    };
    lower_items(&mut ctx, &file.items, root, None, &mut out);
    kinds_declared_twice(&ctx, &out.types, &mut out.diags);
    out.scopes = ctx.scopes;
    out.bare_names = ctx.bare_names;
    out.map_keys = ctx.map_keys;
    out.diags.append(&mut ctx.diags);
    out
}

/// A kind declared as a struct beside the spec whose `#[derive(CustomResource)]` declares it
/// too (W0118's kind written, the derive kept): rustc's duplicate definition, said first.
fn kinds_declared_twice(ctx: &Ctx, types: &[LoweredType], diags: &mut Vec<Diagnostic>) {
    for t in types {
        let Some(spec) = ctx
            .scopes
            .get(t.scope)
            .and_then(|s| s.derived_kinds.get(&t.name))
        else {
            continue;
        };
        let mut d = Diagnostic::error(
            "E0305",
            format!(
                "`{}` is declared twice: by this struct and by `#[derive(CustomResource)]` on `{spec}`",
                t.name
            ),
        )
        .at(t.span, "declared here");
        if let Some(derive) = types.iter().find(|s| s.name == *spec && s.scope == t.scope) {
            d = d.also(derive.span, "its derive declares it too");
        }
        diags.push(d.help(format!(
            "remove `CustomResource` and the `#[kube(...)]` attributes from `{spec}`: kube-codegen reads the struct (W0118)"
        )));
    }
}

/// What stopped the lexer at byte `at` of `text`: (message, label).
fn lex_problem(text: &str, at: usize) -> Option<(String, String)> {
    let rest = text.get(at..)?;
    let c = rest.chars().next();
    Some(match c {
        Some(d @ ('{' | '(' | '[')) => (format!("unclosed delimiter `{d}`"), "never closed".into()),
        Some(d @ ('}' | ')' | ']')) => (
            format!("unexpected closing delimiter `{d}`"),
            "does not match an open delimiter".into(),
        ),
        Some('"') => (
            "unterminated string literal".into(),
            "string starts here".into(),
        ),
        Some('\'') => (
            "unterminated character literal".into(),
            "starts here".into(),
        ),
        // A doc comment with a carriage return not followed by a newline: rustc's "bare CR
        // not allowed in doc-comment".
        Some('/')
            if (rest.starts_with("///") || rest.starts_with("//!"))
                && rest
                    .split('\n')
                    .next()
                    .is_some_and(|line| line.trim_end_matches('\r').contains('\r')) =>
        {
            (
                "bare CR not allowed in doc-comment".into(),
                "this doc comment holds a carriage return that ends no line".into(),
            )
        }
        Some('/') if rest.starts_with("/*") => (
            "unterminated block comment".into(),
            "comment starts here".into(),
        ),
        Some('r' | 'b' | 'c') if rest[1..].starts_with(['"', '#', '\'']) => {
            ("unterminated literal".into(), "literal starts here".into())
        }
        Some(ch) if !ch.is_whitespace() => (
            format!("unexpected character `{}`", ch.escape_debug()),
            "not valid here".into(),
        ),
        _ => (
            "unexpected end of file".into(),
            "cannot read further".into(),
        ),
    })
}

/// How deep brackets and generics may nest in an input file.
pub(crate) const MAX_NESTING: usize = 6_000;

/// Where `text` first nests `(`, `[`, `{` and `<` more than `limit` deep, outside comments
/// and literals (`->`, `=>` and comparisons are not brackets); `None` when it never does.
fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut nest = 1;
                i += 2;
                while i < b.len() && nest > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        nest += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        nest -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'r' if matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                // A raw string: `r#*"` … `"#*`.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) == Some(&b'"') {
                    j += 1;
                    while j < b.len() {
                        if b[j] == b'"'
                            && b[j + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|&&c| c == b'#')
                                .count()
                                == hashes
                        {
                            j += 1 + hashes;
                            break;
                        }
                        j += 1;
                    }
                    i = j;
                    continue;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' => {
                // A char literal (`'x'`, `'\n'`, `'\u{…}'`), or a lifetime (`'a`): skipped.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if let Some(c) = text[i + 1..].chars().next()
                    && b.get(i + 1 + c.len_utf8()) == Some(&b'\'')
                {
                    i += 1 + c.len_utf8();
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'<' if !matches!(b.get(i + 1), Some(b'=') | Some(b'<')) => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'>' if i > 0 && matches!(b[i - 1], b'-' | b'=') => {}
            b')' | b']' | b'}' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod nesting_tests {
    #[test]
    fn nesting_is_measured_outside_comments_and_literals() {
        let deep = |n: usize| format!("type T = {}u8{};", "Option<".repeat(n), ">".repeat(n));
        assert_eq!(super::too_deep(&deep(50), 100), None);
        assert!(super::too_deep(&deep(150), 100).is_some());
        // Brackets in comments, strings, chars and arrows do not count; lifetimes are no chars.
        let noise = "/// a < b ( [ {\n// <<<<\n/* < /* ( */ < */\nconst S: &str = \"((((<<<<\";\nconst C: char = '(';\nfn f<'a>(x: &'a u8) -> u8 { *x }\nconst R: &str = r#\"<<<(\"#;\n";
        assert_eq!(super::too_deep(&noise.repeat(200), 10), None);
        // `>>` closes two.
        assert_eq!(
            super::too_deep(&"type A = Vec<Vec<u8>>;\n".repeat(500), 3),
            None
        );
    }
}
