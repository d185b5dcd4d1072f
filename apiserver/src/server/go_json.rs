//! Strings in JSON bodies as Go's `encoding/json` reads them: an invalid UTF-8 byte, or a
//! surrogate escape that is not half of a pair (`\ud800` alone), is U+FFFD there, where
//! serde_json refuses the body. A write refused for that alone is read again with them replaced
//! — the slow path only: a body that decodes is never scanned.

/// serde_json's errors for what Go reads as U+FFFD.
const REPLACED: [&str; 3] = [
    "invalid unicode code point",
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
];

/// Whether `e` may be a JSON body refused for what Go would have read as U+FFFD.
pub(super) fn refused_for_strings(e: &crate::ApiError) -> bool {
    e.code == 400 && REPLACED.iter().any(|m| e.message.contains(m))
}

/// The four hex digits of a `\u` escape at `at`, as a UTF-16 code unit.
fn hex4(body: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(body.get(at..at + 4)?).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

const HIGH: std::ops::Range<u16> = 0xD800..0xDC00;
const LOW: std::ops::Range<u16> = 0xDC00..0xE000;

/// `body` with every invalid UTF-8 byte inside a JSON string (each byte one U+FFFD, as Go's
/// `utf8.DecodeRune` steps over it) and every unpaired surrogate escape replaced by U+FFFD, as Go
/// decodes them; `None` when there is nothing to replace. Only strings (keys too) are touched:
/// anything outside them is copied, and a `\\` is an escaped backslash, not the start of an
/// escape.
pub(super) fn replace_invalid(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut changed = false;
    let mut in_string = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if !in_string {
            in_string = b == b'"';
            out.push(b);
            i += 1;
            continue;
        }
        // A `\uXXXX` escape starting here: its code unit.
        let escape = (b == b'\\' && body.get(i + 1) == Some(&b'u'))
            .then(|| hex4(body, i + 2))
            .flatten();
        match (b, escape) {
            (b'"', _) => {
                in_string = false;
                out.push(b);
                i += 1;
            }
            (_, Some(unit)) => {
                let paired = HIGH.contains(&unit)
                    && body.get(i + 6..i + 8) == Some(b"\\u")
                    && hex4(body, i + 8).is_some_and(|low| LOW.contains(&low));
                if paired {
                    out.extend_from_slice(&body[i..i + 12]);
                    i += 12;
                } else if HIGH.contains(&unit) || LOW.contains(&unit) {
                    out.extend_from_slice(b"\\ufffd");
                    changed = true;
                    i += 6;
                } else {
                    out.extend_from_slice(&body[i..i + 6]);
                    i += 6;
                }
            }
            // Any other escape is two bytes (a bad one stays, for the decoder to refuse).
            (b'\\', None) => {
                let end = (i + 2).min(body.len());
                out.extend_from_slice(&body[i..end]);
                i = end;
            }
            (0..0x80, None) => {
                out.push(b);
                i += 1;
            }
            _ => {
                let len = match b {
                    0xC2..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF4 => 4,
                    _ => 0,
                };
                match body.get(i..i + len) {
                    Some(char) if len > 0 && std::str::from_utf8(char).is_ok() => {
                        out.extend_from_slice(char);
                        i += len;
                    }
                    _ => {
                        out.extend_from_slice("\u{FFFD}".as_bytes());
                        changed = true;
                        i += 1;
                    }
                }
            }
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::replace_invalid;

    fn read(body: &[u8]) -> Option<String> {
        replace_invalid(body).map(|b| {
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            v["s"].as_str().unwrap().to_string()
        })
    }

    #[test]
    fn replaced_as_go_reads_them() {
        assert_eq!(read(br#"{"s":"a \ud800"}"#).as_deref(), Some("a \u{FFFD}"));
        assert_eq!(read(br#"{"s":"\udc00x"}"#).as_deref(), Some("\u{FFFD}x"));
        // A high surrogate before another escape that is not its low half: each on its own.
        assert_eq!(
            read(br#"{"s":"\ud800\ud800\udc00\n"}"#).as_deref(),
            Some("\u{FFFD}\u{10000}\n")
        );
        assert_eq!(
            read(b"{\"s\":\"\xff\xfe ok\"}").as_deref(),
            Some("\u{FFFD}\u{FFFD} ok")
        );
        // A truncated sequence is one U+FFFD per byte, as Go's DecodeRune steps; an encoded
        // surrogate (ED A0 80) is not UTF-8 either.
        assert_eq!(
            read(b"{\"s\":\"\xe2\x82x\"}").as_deref(),
            Some("\u{FFFD}\u{FFFD}x")
        );
        assert_eq!(
            read(b"{\"s\":\"\xed\xa0\x80\"}").as_deref(),
            Some("\u{FFFD}\u{FFFD}\u{FFFD}")
        );
        // Keys are strings too.
        let fixed = replace_invalid(b"{\"k\xff\":1,\"s\":\"\"}").unwrap();
        assert_eq!(fixed, "{\"k\u{FFFD}\":1,\"s\":\"\"}".as_bytes());
    }

    #[test]
    fn nothing_else_is_touched() {
        // An escaped backslash before `ud800` is a backslash and text.
        assert_eq!(replace_invalid(br#"{"s":"\\ud800"}"#), None);
        // A backslash, then an escape.
        assert_eq!(
            replace_invalid(br#"{"s":"\\\ud800"}"#).as_deref(),
            Some(br#"{"s":"\\\ufffd"}"#.as_slice())
        );
        // Valid pairs, other escapes, multi-byte characters, quotes inside strings.
        let fine = "{\"s\":\"\\ud83d\\ude00 \\\" é 😀 \\u00e9\",\"n\":[1,2]}";
        assert_eq!(replace_invalid(fine.as_bytes()), None);
        // Outside strings nothing is replaced (Go refuses such a body too).
        assert_eq!(replace_invalid(b"{\"s\":1\xff}"), None);
    }
}
