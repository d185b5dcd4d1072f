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
            if let Some(span) = d.span {
                let mut labels = vec![
                    cs::Label::primary(span.file.0 as usize, span.start..span.end)
                        .with_message(&d.label),
                ];
                labels.extend(d.secondary.iter().map(|(s, l)| {
                    cs::Label::secondary(s.file.0 as usize, s.start..s.end).with_message(l)
                }));
                c = c.with_labels(labels);
            }
            let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
            if let Some(h) = &d.help {
                notes.push(format!("help: {h}"));
            }
            c = c.with_notes(notes);
            match term::emit_into_string(&config, self, &c) {
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
        let start = *f
            .line_starts
            .get(line_index)
            .ok_or(FilesError::LineTooLarge {
                given: line_index,
                max: f.line_starts.len() - 1,
            })?;
        let end = f
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(f.text.len());
        Ok(start..end)
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
