//! Diagnostics: collected (never fatal-on-first), sorted by position, rendered like rustc by
//! `codespan-reporting`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the input, with where it is and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code such as `E0101`; listed in `docs/diagnostics.md`.
    pub code: &'static str,
    pub message: String,
    /// Where the problem is; `None` only for problems with no file (an empty input directory).
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: String,
    /// Related places (`first declared here`), drawn with `-` under the primary caret's snippet.
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    /// Adds a secondary label: a related place, such as an earlier declaration.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every source file read in a run, for rendering diagnostics. Paths are kept as given (relative
/// paths stay relative, so rendered output is stable across machines).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

#[derive(Clone, Debug)]
struct SourceFile {
    path: PathBuf,
    display: String,
    text: Arc<str>,
    line_starts: Vec<usize>,
    /// Whether every character is one byte: columns are then byte offsets.
    ascii: bool,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, text: Arc<str>) -> FileId {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let display = path.display().to_string();
        let ascii = text.is_ascii();
        self.files.push(SourceFile {
            path,
            display,
            text,
            line_starts,
            ascii,
        });
        FileId(self.files.len() as u32 - 1)
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id.0 as usize].path
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].text
    }

    /// Every file read, by the path it was read from, with its text.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files.iter().map(|f| (f.path.as_path(), &*f.text))
    }

    /// Byte offset of a 1-based line and 0-based character column (what proc-macro2 reports).
    pub fn offset(&self, id: FileId, line: usize, column: usize) -> usize {
        let file = &self.files[id.0 as usize];
        let Some(&start) = file.line_starts.get(line.saturating_sub(1)) else {
            return file.text.len();
        };
        if file.ascii {
            return (start + column).min(file.text.len());
        }
        let rest = &file.text[start..];
        start
            + rest
                .char_indices()
                .nth(column)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }

    /// `file:line:col` (1-based) of a span's start.
    pub fn location(&self, span: Span) -> String {
        let file = &self.files[span.file.0 as usize];
        let line = file.line_starts.partition_point(|&s| s <= span.start) - 1;
        let col = file.text[file.line_starts[line]..span.start]
            .chars()
            .count()
            + 1;
        format!("{}:{}:{}", file.display, line + 1, col)
    }

    /// Renders diagnostics like rustc, in position order.
    pub fn render(&self, diagnostics: &[Diagnostic]) -> String {
        let config = term::Config {
            chars: term::Chars::ascii(),
            ..term::Config::default()
        };
        let mut out = String::new();
        for d in diagnostics {
            let mut c = match d.severity {
                Severity::Error => cs::Diagnostic::error(),
                Severity::Warning => cs::Diagnostic::warning(),
            }
            .with_code(d.code)
            .with_message(&d.message);
            let clipped = self.clip_long_lines(d);
            if let Some(span) = d.span {
                let range = |s: &Span| match clipped.files.get(&(s.file.0 as usize)) {
                    Some(f) => f.to_clipped(s.start)..f.to_clipped(s.end),
                    None => s.start..s.end,
                };
                let mut labels = vec![
                    cs::Label::primary(span.file.0 as usize, range(&span)).with_message(&d.label),
                ];
                labels.extend(d.secondary.iter().map(|(s, l)| {
                    cs::Label::secondary(s.file.0 as usize, range(s)).with_message(l)
                }));
                c = c.with_labels(labels);
            }
            let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
            if let Some(h) = &d.help {
                notes.push(format!("help: {h}"));
            }
            c = c.with_notes(notes);
            match term::emit_into_string(&config, &clipped, &c) {
                Ok(s) => out.push_str(&s),
                Err(e) => out.push_str(&format!("error[{}]: {} ({e})\n", d.code, d.message)),
            }
            // One blank line between diagnostics, as rustc prints them.
            while !out.ends_with("\n\n") {
                out.push('\n');
            }
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        if errors > 0 {
            out.push_str(&format!(
                "error: aborting due to {errors} previous error{}; nothing was written\n",
                if errors == 1 { "" } else { "s" }
            ));
        }
        printable(out)
    }
}

/// A labelled line longer than this (in bytes) is shown around its labels only, as rustc
/// clips long lines: a minified one-line file would otherwise be printed whole, with a line
/// of as many spaces under it for the caret.
const LONG_LINE: usize = 160;
/// Bytes kept either side of the labels on a clipped line.
const CLIP_CONTEXT: usize = 40;

impl Sources {
    /// The files of `d`'s labels with their long labelled lines cut to a window around the
    /// labels (`...` where text is left out); no copy when no line is long.
    fn clip_long_lines(&self, d: &Diagnostic) -> Clipped<'_> {
        let spans = d.span.iter().chain(d.secondary.iter().map(|(s, _)| s));
        // The label ends on each long line: (file, line) → lowest and highest byte.
        let mut points: std::collections::BTreeMap<(usize, usize), (usize, usize)> =
            Default::default();
        for s in spans {
            let Some(file) = self.files.get(s.file.0 as usize) else {
                continue;
            };
            for p in [s.start, s.end] {
                let p = p.min(file.text.len());
                let line = file.line_starts.partition_point(|&at| at <= p) - 1;
                if file.line_text(line).len() > LONG_LINE {
                    let e = points.entry((s.file.0 as usize, line)).or_insert((p, p));
                    *e = (e.0.min(p), e.1.max(p));
                }
            }
        }
        let mut clipped = Clipped {
            sources: self,
            files: Default::default(),
        };
        let mut windows_of: std::collections::BTreeMap<usize, Vec<(usize, usize, usize)>> =
            Default::default();
        for ((id, line), (lo, hi)) in points {
            let file = &self.files[id];
            let start = file.line_starts[line];
            let end = start + file.line_text(line).len();
            let from = floor_char(&file.text, lo.saturating_sub(CLIP_CONTEXT).max(start));
            let to = ceil_char(
                &file.text,
                (hi + CLIP_CONTEXT).min(end).min(from + LONG_LINE),
            );
            windows_of.entry(id).or_default().push((from, to, end));
        }
        for (id, windows) in windows_of {
            let file = &self.files[id];
            let mut text = String::new();
            let mut segments = Vec::new();
            let mut copy = |text: &mut String, from: usize, to: usize| {
                if from < to {
                    segments.push((from..to, text.len()));
                    text.push_str(&file.text[from..to]);
                }
            };
            let mut cursor = 0;
            for (from, to, line_end) in windows {
                let line_start =
                    file.line_starts[file.line_starts.partition_point(|&s| s <= from) - 1];
                copy(&mut text, cursor, line_start);
                if from > line_start {
                    text.push_str("...");
                }
                copy(&mut text, from, to);
                if to < line_end {
                    text.push_str("...");
                }
                cursor = line_end;
            }
            copy(&mut text, cursor, file.text.len());
            let line_starts = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            clipped.files.insert(
                id,
                ClippedFile {
                    text,
                    line_starts,
                    segments,
                },
            );
        }
        clipped
    }
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

impl SourceFile {
    /// A line's text without its line break.
    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// [`Sources`] as one diagnostic is rendered: some files with long lines clipped.
struct Clipped<'a> {
    sources: &'a Sources,
    files: std::collections::HashMap<usize, ClippedFile>,
}

/// A file's text with parts of long lines left out. Line numbers are unchanged.
struct ClippedFile {
    text: String,
    line_starts: Vec<usize>,
    /// The original bytes kept, in order, each with where it begins in `text`.
    segments: Vec<(std::ops::Range<usize>, usize)>,
}

impl ClippedFile {
    /// Where an original byte is in the clipped text (a left-out one: the end of the text kept
    /// before it).
    fn to_clipped(&self, at: usize) -> usize {
        let i = self
            .segments
            .partition_point(|(orig, _)| orig.start <= at)
            .saturating_sub(1);
        let (orig, new) = &self.segments[i];
        new + at.min(orig.end).saturating_sub(orig.start)
    }

    /// Which original byte a byte of the clipped text is (in `...`: the one before it).
    fn to_original(&self, at: usize) -> usize {
        let i = self
            .segments
            .partition_point(|(_, new)| *new <= at)
            .saturating_sub(1);
        let (orig, new) = &self.segments[i];
        (orig.start + at.saturating_sub(*new)).min(orig.end)
    }
}

impl<'a> Files<'a> for Clipped<'a> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        self.sources.name(id)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        match self.files.get(&id) {
            Some(f) => Ok(&f.text),
            None => self.sources.source(id),
        }
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        match self.files.get(&id) {
            Some(f) => Ok(f.line_starts.partition_point(|&s| s <= byte_index) - 1),
            None => self.sources.line_index(id, byte_index),
        }
    }

    fn line_range(
        &'a self,
        id: usize,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let Some(f) = self.files.get(&id) else {
            return self.sources.line_range(id, line_index);
        };
        line_range(&f.line_starts, f.text.len(), line_index)
    }

    /// The column in the original line, which `location` shows (`-->  file:1:838915`).
    fn column_number(
        &'a self,
        id: usize,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        let Some(f) = self.files.get(&id) else {
            return self.sources.column_number(id, line_index, byte_index);
        };
        let file = &self.sources.files[id];
        let at = f.to_original(byte_index);
        let start = file.line_starts[line_index];
        Ok(file.text[start..at.max(start)].chars().count() + 1)
    }
}

/// The text with control characters from the input (an escape sequence in a name, a comment
/// or a snippet of the source) shown as `?`: a diagnostic never drives the terminal. Newlines
/// and tabs stay; a carriage return is shown as `?` too.
fn printable(text: String) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

impl<'a> Files<'a> for Sources {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        self.files
            .get(id)
            .map(|f| f.display.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        self.files
            .get(id)
            .map(|f| &*f.text)
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        let f = self.files.get(id).ok_or(FilesError::FileMissing)?;
        Ok(f.line_starts.partition_point(|&s| s <= byte_index) - 1)
    }

    fn line_range(
        &'a self,
        id: usize,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let f = self.files.get(id).ok_or(FilesError::FileMissing)?;
        line_range(&f.line_starts, f.text.len(), line_index)
    }
}

/// The diagnostics of a failed phase, with the sources needed to render them.
#[derive(Clone, Debug)]
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sources.render(&self.diagnostics))
    }
}

impl std::error::Error for Failure {}

/// Sorts diagnostics by file and position so output is deterministic and reads top to bottom.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span, a.code, &a.message)
            .cmp(&(b.span, b.code, &b.message))
            .then(a.severity.cmp(&b.severity))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ASCII file's columns are read as byte offsets; the answer is the one counting
    /// characters gives, past the end of a line or of the file too.
    #[test]
    fn offsets_of_ascii_and_wide_text_agree_with_counting_characters() {
        let mut sources = Sources::default();
        for text in ["ab\ncde\n\nf", "aé\n🚨cd\n\nf"] {
            let id = sources.add(PathBuf::from("x.rs"), text.into());
            for line in 0..7 {
                for column in 0..8 {
                    let counted = text
                        .split_inclusive('\n')
                        .scan(0, |start, l| {
                            let at = *start;
                            *start += l.len();
                            Some(at)
                        })
                        .nth(line.max(1) - 1)
                        .map_or(text.len(), |start| {
                            text[start..]
                                .char_indices()
                                .nth(column)
                                .map_or(text.len(), |(i, _)| start + i)
                        });
                    assert_eq!(
                        sources.offset(id, line, column),
                        counted,
                        "{text:?} {line}:{column}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod long_line_tests {
    use super::*;

    /// An error far into a very long line shows the line around it only, with its column.
    #[test]
    fn long_lines_are_clipped_around_the_label() {
        let mut sources = Sources::default();
        let line = format!("{}pub f: &str,{}", "x ".repeat(5_000), " y".repeat(5_000));
        let text = format!("// first\n{line}\n// last\n");
        let id = sources.add(PathBuf::from("x.rs"), text.clone().into());
        let start = text.find("&str").unwrap();
        let d = Diagnostic::error("E0201", "unsupported field type: a reference")
            .at(Span::new(id, start, start + 4), "a reference")
            .also(Span::new(id, start - 7, start - 1), "this field");
        let out = sources.render(&[d]);
        assert!(out.len() < 1_000, "{out}");
        assert!(out.contains("--> x.rs:2:10008"), "{out}");
        assert!(out.contains("2 | ...x x x"), "{out}");
        assert!(out.contains("x x pub f: &str, y y"), "{out}");
        assert!(out.contains("y y ...\n"), "{out}");
        assert!(out.contains("------ ^^^^ a reference"), "{out}");
        assert!(out.contains("this field"), "{out}");
    }
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(
            super::printable("a\u{1b}[2Jb\r\n\tc\u{7}".into()),
            "a?[2Jb?\n\tc?"
        );
        assert_eq!(super::printable("plain\n".into()), "plain\n");
    }
}

/// The byte range of line `line_index` of a text `len` bytes long whose lines start at
/// `line_starts`.
fn line_range(
    line_starts: &[usize],
    len: usize,
    line_index: usize,
) -> Result<std::ops::Range<usize>, FilesError> {
    let start = *line_starts
        .get(line_index)
        .ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: line_starts.len().saturating_sub(1),
        })?;
    let end = line_starts.get(line_index + 1).copied().unwrap_or(len);
    Ok(start..end)
}
