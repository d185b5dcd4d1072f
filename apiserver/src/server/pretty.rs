//! JSON indented as it streams, as Go's `json.Indent` with two spaces writes it (`{}` and `[]`
//! stay empty): a pretty list is written chunk by chunk, never held whole.

/// The indenting state between chunks.
#[derive(Default)]
pub(super) struct Indenter {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// After `{` or `[`: a newline is due unless the container closes at once.
    opened: bool,
}

impl Indenter {
    /// Appends `input` indented to `out`.
    pub(super) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 4);
        for &c in input {
            if self.in_string {
                out.push(c);
                match c {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                continue;
            }
            if std::mem::take(&mut self.opened) {
                if matches!(c, b'}' | b']') {
                    self.depth = self.depth.saturating_sub(1);
                    out.push(c);
                    continue;
                }
                self.newline(out);
            }
            match c {
                b'{' | b'[' => {
                    out.push(c);
                    self.depth += 1;
                    self.opened = true;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.newline(out);
                    out.push(c);
                }
                b',' => {
                    out.push(c);
                    self.newline(out);
                }
                b':' => out.extend_from_slice(b": "),
                b'"' => {
                    out.push(c);
                    self.in_string = true;
                }
                _ => out.push(c),
            }
        }
    }

    fn newline(&self, out: &mut Vec<u8>) {
        out.push(b'\n');
        out.resize(out.len() + 2 * self.depth, b' ');
    }
}

#[cfg(test)]
mod tests {
    /// Byte for byte what serde_json's pretty printer writes, whatever the chunks.
    #[test]
    fn indents_like_the_pretty_printer_across_chunks() {
        let value = serde_json::json!({
            "a": [1, {"b": "x,{:}\"\\", "e": {}, "f": []}],
            "c": {"d": null, "g": [true, false, 1.5]},
        });
        let compact = serde_json::to_vec(&value).unwrap();
        let expected = serde_json::to_string_pretty(&value).unwrap();
        for size in [1, 2, 3, 7, compact.len()] {
            let mut indenter = super::Indenter::default();
            let mut out = Vec::new();
            for chunk in compact.chunks(size) {
                indenter.feed(chunk, &mut out);
            }
            assert_eq!(
                String::from_utf8(out).unwrap(),
                expected,
                "chunks of {size}"
            );
        }
    }
}
