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
use super::{BareName, InputFile, LoweredFile, MapKey, Scope};

/// Parses and lowers files in parallel.
pub(crate) fn lower_all(files: &[InputFile], sources: &Sources) -> Vec<LoweredFile> {
    files.par_iter().map(|f| lower_file(f, sources)).collect()
}

pub(super) struct Ctx<'a> {
    pub(super) file: FileId,
    pub(super) sources: &'a Sources,
    pub(super) scopes: Vec<Scope>,
    /// The scope being lowered.
    pub(super) scope: usize,
    /// Type aliases per scope: name → the aliased type, substituted where the alias is used.
    pub(super) aliases: Vec<BTreeMap<String, FieldType>>,
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
        declared: Vec::new(),
        generic_params: Vec::new(),
        self_type: None,
        bare_names: Vec::new(),
        map_keys: Vec::new(),
        diags: Vec::new(),
    };
    plain_comment_tags(&ctx, &f.text, &mut out.diags);
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
        public: true,
        ..Scope::default()
    };
    lower_items(&mut ctx, &file.items, root, None, &mut out);
    out.scopes = ctx.scopes;
    out.bare_names = ctx.bare_names;
    out.map_keys = ctx.map_keys;
    out.diags.append(&mut ctx.diags);
    out
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
