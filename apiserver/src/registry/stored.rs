//! The stored form of an object: its JSON in the version it was written in, without
//! `resourceVersion` (the store's revision is the truth), behind a short ASCII header that lets a
//! read serve the bytes as they are:
//!
//! ```text
//! kcg1 <codec fingerprint: 8 hex> <CRC-32 of the place and JSON: 8 hex> <resourceVersion offset: 8 hex>
//!      <comma: - < > ?> \n <JSON>
//! ```
//!
//! The fingerprint names the codec that wrote the JSON (version, kind and its generated schema,
//! defaults included). When the codec a request reads with has the same fingerprint, decoding the
//! JSON and encoding it again would give the same bytes (versions round-trip through the hub
//! losslessly, as Kubernetes requires of conversions), so the object is served from the stored
//! bytes with `"resourceVersion":"<revision>"` put back where the serializer writes it (the
//! offset, and on which side its comma goes). A value without the header (written before it
//! existed), or from another codec, is decoded and encoded as before.
//!
//! Bytes are served as stored only when their checksum holds: a value damaged at rest (a flipped
//! bit on disk, an edit in etcd) is decoded instead, which serves a valid edit correctly and
//! fails a damaged one with a 500 — as kube-apiserver, which decodes every object, fails it —
//! never a 200 whose body is not JSON. Values of the first header (`kcg1`, no checksum) are
//! decoded too until they are written again.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::selector::{FieldSelector, LabelSelector};

/// What starts a value with a header (a bare JSON object starts with `{` or whitespace).
const MAGIC: &[u8] = b"kcg1";
const HEADER_LEN: usize = MAGIC.len() + 16 + 8 + 1 + 1;
/// The fingerprint's half of the header's 64-bit field; the other half is the checksum.
const FINGERPRINT_BITS: u64 = 0xffff_ffff_0000_0000;

/// Where the serializer writes `resourceVersion` in the stored JSON, and its comma.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    /// Byte offset in the JSON.
    pub at: usize,
    pub comma: Comma,
}

/// On which side of `"resourceVersion":"…"` a comma goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comma {
    /// The only field of `metadata`.
    None,
    /// The last field: `,"resourceVersion":"…"`.
    Before,
    /// A field follows: `"resourceVersion":"…",`.
    After,
}

/// A stored value, opened.
#[derive(Debug)]
pub(crate) struct Opened<'a> {
    /// Offset of the JSON in the value.
    pub json_start: usize,
    pub json: &'a [u8],
    /// The writing codec's fingerprint (`None`: a bare JSON value).
    pub fingerprint: Option<u64>,
    /// Where `resourceVersion` goes (`None`: unknown; the value is decoded to be served).
    pub splice: Option<Splice>,
}

/// Opens a stored value; a header that is not ours is an error (nothing is guessed).
pub(crate) fn open(value: &[u8]) -> Result<Opened<'_>, String> {
    if !value.starts_with(MAGIC) {
        return Ok(Opened {
            json_start: 0,
            json: value,
            fingerprint: None,
            splice: None,
        });
    }
    let header = value
        .get(..HEADER_LEN)
        .ok_or("stored value: truncated header")?;
    let hex = |range: std::ops::Range<usize>| {
        std::str::from_utf8(&header[range])
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or("stored value: malformed header")
    };
    let field = hex(4..20)?;
    let at = hex(20..28)? as usize;
    let comma = match header[28] {
        b'-' => Some(Comma::None),
        b'<' => Some(Comma::Before),
        b'>' => Some(Comma::After),
        b'?' => None,
        _ => return Err("stored value: malformed header".into()),
    };
    if header[29] != b'\n' {
        return Err("stored value: malformed header".into());
    }
    let json = &value[HEADER_LEN..];
    // Served as stored only when provably what was written.
    let intact = field & !FINGERPRINT_BITS == u64::from(checksum(&header[20..29], &[json]));
    Ok(Opened {
        json_start: HEADER_LEN,
        json,
        fingerprint: Some(field & FINGERPRINT_BITS),
        splice: comma
            .filter(|_| intact && at <= json.len())
            .map(|comma| Splice { at, comma }),
    })
}

/// The `resourceVersion` a codec writes while sealing: unguessable, so it cannot be confused
/// with user data.
pub(crate) fn sentinel() -> &'static str {
    static SENTINEL: OnceLock<String> = OnceLock::new();
    SENTINEL.get_or_init(|| format!("kcg-rv-{}", uuid::Uuid::new_v4().simple()))
}

/// The stored value of `json`, serialized with `resourceVersion` = [`sentinel`]: the field is cut
/// out (with one comma) and its place recorded. `None` when the sentinel is not found exactly
/// once (a type whose metadata does not serialize `resourceVersion`): write the JSON without a
/// resourceVersion then, with [`seal_unspliced`].
pub(crate) fn seal(json: &[u8], fingerprint: u64) -> Option<Vec<u8>> {
    let field = format!("\"resourceVersion\":\"{}\"", sentinel());
    let finder = memchr::memmem::Finder::new(field.as_bytes());
    let start = finder.find(json)?;
    let end = start + field.len();
    if finder.find(&json[end..]).is_some() {
        return None;
    }
    let (cut, at, comma) = if json.get(end) == Some(&b',') {
        (start..end + 1, start, Comma::After)
    } else if start > 0 && json[start - 1] == b',' {
        (start - 1..end, start - 1, Comma::Before)
    } else {
        (start..end, start, Comma::None)
    };
    let mut out = Vec::with_capacity(HEADER_LEN + json.len() - cut.len());
    header(
        &mut out,
        fingerprint,
        Some(Splice { at, comma }),
        &[&json[..cut.start], &json[cut.end..]],
    );
    out.extend_from_slice(&json[..cut.start]);
    out.extend_from_slice(&json[cut.end..]);
    Some(out)
}

/// The stored value of `json` (serialized without `resourceVersion`) when its place is unknown.
pub(crate) fn seal_unspliced(json: &[u8], fingerprint: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + json.len());
    header(&mut out, fingerprint, None, &[json]);
    out.extend_from_slice(json);
    out
}

/// The checksum of a value: its place (`resourceVersion`'s offset and comma, as the header
/// writes them) and its JSON, so that neither is trusted damaged.
fn checksum(place: &[u8], json: &[&[u8]]) -> u32 {
    let mut sum = crc32fast::Hasher::new();
    sum.update(place);
    for part in json {
        sum.update(part);
    }
    sum.finalize()
}

fn header(out: &mut Vec<u8>, fingerprint: u64, splice: Option<Splice>, json: &[&[u8]]) {
    use std::io::Write;
    let (at, comma) = match splice {
        Some(s) => (
            s.at,
            match s.comma {
                Comma::None => '-',
                Comma::Before => '<',
                Comma::After => '>',
            },
        ),
        None => (0, '?'),
    };
    // A JSON object over 4 GiB is far beyond any storage's value limit.
    let at = u32::try_from(at).unwrap_or(0);
    let place = format!("{at:08x}{comma}");
    let field = (fingerprint & FINGERPRINT_BITS) | u64::from(checksum(place.as_bytes(), json));
    writeln!(out, "kcg1{field:016x}{place}").expect("write to a Vec");
}

/// Writes the stored JSON with `"resourceVersion":"<rv>"` back in its place.
pub(crate) fn write_served(out: &mut Vec<u8>, json: &[u8], splice: Splice, rv: u64) {
    use std::io::Write;
    out.extend_from_slice(&json[..splice.at]);
    let _ = match splice.comma {
        Comma::None => write!(out, "\"resourceVersion\":\"{rv}\""),
        Comma::Before => write!(out, ",\"resourceVersion\":\"{rv}\""),
        Comma::After => write!(out, "\"resourceVersion\":\"{rv}\","),
    };
    out.extend_from_slice(&json[splice.at..]);
}

/// What selectors read from a stored object's metadata, parsed without the rest of it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ProbedMeta<'a> {
    #[serde(borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    namespace: Option<std::borrow::Cow<'a, str>>,
    labels: Option<BTreeMap<String, String>>,
}

impl ProbedMeta<'_> {
    /// The label selector and a field selector on `metadata.name`/`metadata.namespace` only.
    pub(crate) fn selected_by(&self, labels: &LabelSelector, fields: &FieldSelector) -> bool {
        let none = BTreeMap::new();
        labels.matches(self.labels.as_ref().unwrap_or(&none))
            && fields.matches(|field| match field {
                "metadata.name" => self.name.as_deref().map(str::to_string),
                "metadata.namespace" => self.namespace.as_deref().map(str::to_string),
                _ => None,
            })
    }
}

/// The name, namespace and labels of stored JSON.
pub(crate) fn probe_meta(json: &[u8]) -> Result<ProbedMeta<'_>, String> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        metadata: ProbedMeta<'a>,
    }
    serde_json::from_slice::<Probe>(json)
        .map(|p| p.metadata)
        .map_err(|e| format!("stored object is not JSON: {e}"))
}

/// A codec's fingerprint: FNV-1a over what decides the bytes it writes (stable across builds and
/// platforms, unlike `std`'s hasher), its upper 32 bits (the header's field holds the checksum
/// beside them).
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(&[0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash & FINGERPRINT_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fingerprint as [`fingerprint`] makes them (its lower half is the checksum's).
    const FP: u64 = 7 << 32;

    fn roundtrip(with: &str, without: &str, rv: u64) {
        let json = with.replace("S", sentinel());
        let sealed = seal(json.as_bytes(), FP).expect("sealed");
        let opened = open(&sealed).unwrap();
        assert_eq!(opened.fingerprint, Some(FP));
        assert_eq!(std::str::from_utf8(opened.json).unwrap(), without);
        let mut out = Vec::new();
        write_served(&mut out, opened.json, opened.splice.unwrap(), rv);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            with.replace("S", &rv.to_string())
        );
    }

    #[test]
    fn resource_version_is_cut_and_put_back_in_every_position() {
        roundtrip(
            r#"{"metadata":{"name":"a","resourceVersion":"S","uid":"u"}}"#,
            r#"{"metadata":{"name":"a","uid":"u"}}"#,
            12,
        );
        roundtrip(
            r#"{"metadata":{"name":"a","resourceVersion":"S"},"spec":{}}"#,
            r#"{"metadata":{"name":"a"},"spec":{}}"#,
            3,
        );
        roundtrip(
            r#"{"metadata":{"resourceVersion":"S"}}"#,
            r#"{"metadata":{}}"#,
            99,
        );
        roundtrip(
            r#"{"metadata":{"resourceVersion":"S","uid":"x"}}"#,
            r#"{"metadata":{"uid":"x"}}"#,
            1,
        );
    }

    #[test]
    fn bare_json_and_unknown_places_are_not_spliced() {
        let opened = open(br#"{"a":1}"#).unwrap();
        assert_eq!((opened.fingerprint, opened.splice), (None, None));
        let sealed = seal_unspliced(br#"{"a":1}"#, FP);
        let opened = open(&sealed).unwrap();
        assert_eq!(opened.json, br#"{"a":1}"#);
        assert_eq!((opened.fingerprint, opened.splice), (Some(FP), None));
        assert!(seal(br#"{"metadata":{}}"#, 1).is_none());
        let twice = format!(
            r#"{{"a":{{"resourceVersion":"{0}"}},"b":{{"resourceVersion":"{0}"}}}}"#,
            sentinel()
        );
        assert!(seal(twice.as_bytes(), 1).is_none());
    }

    #[test]
    fn malformed_headers_are_errors() {
        for bad in [
            &b"kcg1"[..],
            b"kcg1zzzzzzzzzzzzzzzz00000000>\n{}",
            b"kcg100000000000000010000000X\n{}",
            b"kcg1000000000000000100000000>x{}",
        ] {
            assert!(open(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // An offset past the JSON is not trusted.
        let sum = checksum(b"000000ff>", &[b"{}"]);
        let value = format!("kcg100000007{sum:08x}000000ff>\n{{}}");
        assert_eq!(open(value.as_bytes()).unwrap().splice, None);
    }

    #[test]
    fn damaged_or_unchecked_bytes_are_not_served_as_stored() {
        let json = format!(
            r#"{{"metadata":{{"name":"a","resourceVersion":"{}"}}}}"#,
            sentinel()
        );
        let sealed = seal(json.as_bytes(), FP).unwrap();
        assert!(open(&sealed).unwrap().splice.is_some());
        let mut turned = sealed.clone();
        turned[28] = match turned[28] {
            b'>' => b'<',
            _ => b'>',
        };
        assert_eq!(open(&turned).unwrap().splice, None, "the comma's side");
        // One byte changed in the JSON, or in the place of `resourceVersion` (a `<` turned `>`
        // by one bit): decoded instead (the codec still known).
        for i in (20..28).chain(HEADER_LEN..sealed.len()) {
            let mut damaged = sealed.clone();
            // Another hex digit in the offset, a flipped bit in the JSON.
            damaged[i] = if i < 28 {
                b"0123456789abcdef"[(damaged[i] as usize + 1) % 16]
            } else {
                damaged[i] ^ 0x20
            };
            let opened = open(&damaged).unwrap();
            assert_eq!(
                (opened.fingerprint, opened.splice),
                (Some(FP), None),
                "byte {i}"
            );
        }
        // A value from before the checksum (a whole 64-bit fingerprint there): its checksum
        // does not hold and its fingerprint names no codec here, so it is decoded.
        let before = b"kcg1a1b2c3d4e5f6071800000000-\n{\"metadata\":{}}";
        let opened = open(before).unwrap();
        assert_eq!(opened.json, b"{\"metadata\":{}}");
        assert_eq!(opened.splice, None);
        assert_eq!(opened.fingerprint, Some(0xa1b2_c3d4_0000_0000));
        // Fingerprints leave the checksum's half free.
        assert_eq!(fingerprint(&["a", "b"]) & !FINGERPRINT_BITS, 0);
    }
}
