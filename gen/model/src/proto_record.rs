//! The protobuf field numbers a package gave out before, read back from the `generated.proto`
//! protobuf-gen wrote for it. A number, once given to a field, stays that field's: fields added
//! or moved keep theirs and new ones get numbers never used; a removed field's number and name
//! stay `reserved`. The file is the record, so numbers survive regeneration as long as it is
//! kept (committed) beside the types.

use std::collections::{BTreeMap, BTreeSet};

/// The file protobuf-gen writes in each package directory, and reads back.
pub const FILE: &str = "generated.proto";

/// Numbers by message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtoRecord {
    pub messages: BTreeMap<String, MessageRecord>,
}

/// One message's numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageRecord {
    /// Field name → number.
    pub fields: BTreeMap<String, u32>,
    /// Numbers of removed fields.
    pub reserved: BTreeSet<u32>,
    /// Names of removed fields.
    pub reserved_names: BTreeSet<String>,
}

impl MessageRecord {
    /// The highest number this message ever used (fields and reserved ones).
    pub fn max_number(&self) -> u32 {
        self.fields
            .values()
            .chain(self.reserved.iter())
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// Reads a record from a `generated.proto` protobuf-gen wrote: `message` blocks, their fields
/// (`optional T name = N;`, `repeated …`, `map<K, V> name = N;`) and `reserved` lines. Returns
/// the 1-based line of the first line it cannot read, with why.
pub fn parse(text: &str) -> Result<ProtoRecord, (usize, String)> {
    let mut record = ProtoRecord::default();
    let mut current: Option<(String, MessageRecord)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match &mut current {
            None => {
                if let Some(rest) = line.strip_prefix("message ") {
                    let name = rest.trim_end_matches('{').trim();
                    if !is_identifier(name) || !rest.ends_with('{') {
                        return Err((
                            line_no,
                            format!("expected `message Name {{`, found `{line}`"),
                        ));
                    }
                    current = Some((name.to_string(), MessageRecord::default()));
                }
                // `syntax`, `package`, `import`, `option` lines say nothing about numbers.
            }
            Some((name, message)) => {
                if line == "}" {
                    let (name, message) = (std::mem::take(name), std::mem::take(message));
                    if record.messages.insert(name.clone(), message).is_some() {
                        return Err((line_no, format!("message `{name}` is declared twice")));
                    }
                    current = None;
                } else if let Some(rest) = line.strip_prefix("reserved ") {
                    let rest = rest
                        .strip_suffix(';')
                        .ok_or_else(|| (line_no, "expected `;` after `reserved`".to_string()))?;
                    for item in rest.split(',').map(str::trim) {
                        if let Some(quoted) =
                            item.strip_prefix('"').and_then(|s| s.strip_suffix('"'))
                        {
                            message.reserved_names.insert(quoted.to_string());
                        } else {
                            let n = number(item).map_err(|why| (line_no, why))?;
                            message.reserved.insert(n);
                        }
                    }
                } else {
                    let (field, n) = field_line(line).map_err(|why| (line_no, why))?;
                    if let Some(old) = message.fields.insert(field.clone(), n) {
                        return Err((
                            line_no,
                            format!("field `{field}` is numbered twice ({old} and {n})"),
                        ));
                    }
                }
            }
        }
    }
    match current {
        Some((name, _)) => Err((
            text.lines().count(),
            format!("message `{name}` is not closed with `}}`"),
        )),
        None => Ok(record),
    }
}

fn number(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| (1..=536_870_911).contains(n))
        .ok_or_else(|| format!("`{s}` is not a field number"))
}

/// `optional string name = 1;` → (`name`, 1).
fn field_line(line: &str) -> Result<(String, u32), String> {
    let body = line
        .strip_suffix(';')
        .ok_or_else(|| format!("expected a field (`optional T name = N;`), found `{line}`"))?;
    let (decl, n) = body
        .rsplit_once('=')
        .ok_or_else(|| format!("expected `= N` in `{line}`"))?;
    let name = decl
        .split_whitespace()
        .last()
        .filter(|n| is_identifier(n))
        .ok_or_else(|| format!("expected a field name in `{line}`"))?;
    Ok((name.to_string(), number(n.trim())?))
}

/// A protobuf identifier: a letter or `_`, then letters, digits or `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_protobuf_gen_writes() {
        let text = "// Code generated by kube-codegen. DO NOT EDIT.\nsyntax = \"proto2\";\n\npackage a.v1;\n\nimport \"k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto\";\n\n// Spec is the spec.\nmessage Spec {\n  reserved 2, 5;\n  reserved \"old\", \"older\";\n\n  // Comment.\n  optional string title = 1;\n  repeated int32 ports = 3;\n  map<string, Sub> items = 4;\n}\n\nmessage Sub {\n}\n";
        let r = parse(text).unwrap();
        let spec = &r.messages["Spec"];
        assert_eq!(
            spec.fields,
            BTreeMap::from([
                ("title".into(), 1),
                ("ports".into(), 3),
                ("items".into(), 4)
            ])
        );
        assert_eq!(spec.reserved, BTreeSet::from([2, 5]));
        assert!(spec.reserved_names.contains("older"));
        assert_eq!(spec.max_number(), 5);
        assert!(r.messages["Sub"].fields.is_empty());
    }

    #[test]
    fn says_where_it_cannot_read() {
        assert_eq!(
            parse("message A {\n  optional string a = x;\n}\n")
                .unwrap_err()
                .0,
            2
        );
        assert!(parse("message A {\n").unwrap_err().1.contains("not closed"));
        assert!(
            parse("message A {\n optional string a = 1;\n optional string a = 2;\n}\n")
                .unwrap_err()
                .1
                .contains("twice")
        );
    }
}
