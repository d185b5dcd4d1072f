//! How one served version of a resource is read into its hub type and written back: the
//! version's generated serde (strict: duplicate keys and trailing data are errors, unknown
//! fields reported), its defaults (defaulter-gen's `SetDefaults`), and its conversion
//! (conversion-gen's `ConvertHub`) — monomorphised per version into plain function pointers.

use kube_codegen_scheme::{ConversionError, ConvertHub, Kind, ResourceInfo, SetDefaults};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A decoded object: the hub value, and what `fieldValidation` judges: fields the version did
/// not know (`unknown field "spec.x"`) and keys given twice (`duplicate field "spec.x"`).
pub(crate) struct Decoded<H> {
    pub object: H,
    pub field_issues: Vec<String>,
}

/// Why bytes did not become a hub object.
pub(crate) enum DecodeError {
    /// Not a valid object of the version: what is wrong, and where (`spec.receivers[0].name`)
    /// when it is inside the object.
    Invalid {
        message: String,
        field: Option<String>,
    },
    /// A field the version requires is missing (its path): a 422 `FieldValueRequired`, as a
    /// CRD's schema validation reports it.
    Required(String),
    /// A value an enum does not have: a 422 `FieldValueNotSupported` listing the ones it has,
    /// as a CRD's schema validation reports a value outside its `enum`.
    NotSupported {
        field: String,
        value: String,
        supported: Vec<String>,
    },
    /// Valid, but it does not convert to the hub.
    Convert(ConversionError),
    /// Defaulting or converting it panicked: a bug in generated or hand-written code (a
    /// `+default` its type refuses, a conversion that panics), logged where it happened; a 500.
    Panicked,
    /// Every missing required field and unsupported enum value of one body (each a `Required`
    /// or a `NotSupported`), in the order a CRD's schema validation lists them — an object's
    /// properties, then its missing required fields — and the body's unknown and duplicate
    /// fields, which `fieldValidation=Strict` refuses first (decoding fails before validation).
    Schema {
        errors: Vec<DecodeError>,
        field_issues: Vec<String>,
    },
}

/// Reads a version's JSON value into the hub.
pub(crate) type ReadValue<H> = fn(Value) -> Result<Decoded<H>, DecodeError>;
/// Writes a hub object as a version's JSON value.
pub(crate) type WriteValue<H> = fn(&H) -> Result<Value, String>;

/// One served version of a resource with hub `H`.
pub(crate) struct VersionCodec<H> {
    pub info: ResourceInfo,
    /// openapi-gen's `OPENAPI_SCHEMAS` of the version (parsed once, for patches).
    pub schemas: &'static str,
    pub read: fn(&[u8]) -> Result<Decoded<H>, DecodeError>,
    pub read_value: ReadValue<H>,
    /// Converts a version's JSON value (maybe a part of an object) into the hub, no defaults.
    pub convert_value: fn(Value) -> Result<H, DecodeError>,
    /// Reads what the server itself stored (no strictness checks: it was written by `write_bytes`).
    pub read_stored: fn(&[u8]) -> Result<H, DecodeError>,
    pub write_value: WriteValue<H>,
    /// Appends the version's JSON of a hub object (no intermediate `Value`).
    pub write_json: fn(&H, &mut Vec<u8>) -> Result<(), String>,
    /// The same for a hub object no longer needed: converted by moving its parts, no copy.
    pub write_json_owned: fn(H, &mut Vec<u8>) -> Result<(), String>,
    /// The version's protobuf message, when protobuf-gen gave it one.
    pub protobuf: Option<ProtobufEdge>,
    /// What decides the bytes this codec writes ([`super::stored::fingerprint`]): stored values
    /// with the same fingerprint are served as they are.
    pub fingerprint: u64,
}

/// How a version's type `V` meets the hub `H`: itself (a resource served in one version without
/// a hub) or through its `ConvertHub` impl.
pub(crate) trait Conversion<V, H>: 'static {
    fn to_hub(v: V) -> Result<H, ConversionError>;
    fn with_version<R>(h: &H, f: impl FnOnce(&V) -> R) -> Result<R, ConversionError>;
    fn into_version<R>(h: H, f: impl FnOnce(&V) -> R) -> Result<R, ConversionError>;
}

/// `V` is its own hub.
pub(crate) struct Identity;

impl<K: 'static> Conversion<K, K> for Identity {
    fn to_hub(v: K) -> Result<K, ConversionError> {
        Ok(v)
    }
    fn with_version<R>(h: &K, f: impl FnOnce(&K) -> R) -> Result<R, ConversionError> {
        Ok(f(h))
    }
    fn into_version<R>(h: K, f: impl FnOnce(&K) -> R) -> Result<R, ConversionError> {
        Ok(f(&h))
    }
}

/// `V` converts through its `ConvertHub` impl.
pub(crate) struct ThroughHub;

impl<V: ConvertHub + 'static> Conversion<V, V::Hub> for ThroughHub
where
    V::Hub: Clone,
{
    fn to_hub(v: V) -> Result<V::Hub, ConversionError> {
        v.into_hub()
    }
    fn with_version<R>(h: &V::Hub, f: impl FnOnce(&V) -> R) -> Result<R, ConversionError> {
        Self::into_version(h.clone(), f)
    }
    fn into_version<R>(h: V::Hub, f: impl FnOnce(&V) -> R) -> Result<R, ConversionError> {
        Ok(f(&V::from_hub(h)?))
    }
}

impl<H: 'static> VersionCodec<H> {
    pub(crate) fn new<V, C>(schemas: &'static str) -> Self
    where
        V: Kind + Serialize + DeserializeOwned + SetDefaults + 'static,
        C: Conversion<V, H>,
    {
        let info = V::INFO;
        VersionCodec {
            fingerprint: super::stored::fingerprint(&[
                "kube-codegen stored JSON 1",
                &info.api_version(),
                info.kind,
                schemas,
            ]),
            info,
            schemas,
            read: read::<V, H, C>,
            read_value: read_value::<V, H, C>,
            convert_value: convert_value::<V, H, C>,
            read_stored: read_stored::<V, H, C>,
            write_value: write_value::<V, H, C>,
            write_json: write_json::<V, H, C>,
            write_json_owned: write_json_owned::<V, H, C>,
            protobuf: V::PROTOBUF.map(|_| ProtobufEdge {
                to_protobuf: json_to_protobuf::<V>,
                value_to_protobuf: value_to_protobuf::<V>,
                from_protobuf: protobuf_to_json::<V>,
            }),
        }
    }
}

/// Protobuf at the HTTP edge: a version's protobuf message ↔ its JSON. The registry reads and
/// writes JSON; requests in protobuf are read into it and answers written from it, through the
/// version's typed object (nothing is lost: both are the same type's encodings).
#[derive(Clone, Copy, Debug)]
pub struct ProtobufEdge {
    /// The version's JSON of an object → its protobuf message (no envelope).
    pub to_protobuf: fn(&[u8]) -> Result<Vec<u8>, String>,
    /// The same from the JSON value a handler holds (no text in between).
    pub value_to_protobuf: fn(&Value) -> Result<Vec<u8>, String>,
    /// A protobuf message (no envelope) → the version's JSON.
    pub from_protobuf: fn(&[u8]) -> Result<Vec<u8>, String>,
}

fn json_to_protobuf<V: Kind + DeserializeOwned>(json: &[u8]) -> Result<Vec<u8>, String> {
    let pb = V::PROTOBUF.ok_or("no protobuf message")?;
    let v: V = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(json.len());
    (pb.encode)(&v, &mut out);
    Ok(out)
}

fn value_to_protobuf<V: Kind + DeserializeOwned>(value: &Value) -> Result<Vec<u8>, String> {
    let pb = V::PROTOBUF.ok_or("no protobuf message")?;
    let v = V::deserialize(value).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    (pb.encode)(&v, &mut out);
    Ok(out)
}

fn protobuf_to_json<V: Kind + Serialize>(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let pb = V::PROTOBUF.ok_or("no protobuf message")?;
    let v = (pb.decode)(bytes)?;
    serde_json::to_vec(&v).map_err(|e| e.to_string())
}

impl DecodeError {
    /// Whether a required field is missing (alone or among others).
    pub(crate) fn is_required(&self) -> bool {
        match self {
            DecodeError::Required(_) => true,
            DecodeError::Schema { errors, .. } => errors.iter().any(DecodeError::is_required),
            _ => false,
        }
    }

    /// A body that is not JSON (or not one value): no field to name.
    fn syntax(e: impl std::fmt::Display) -> Self {
        DecodeError::Invalid {
            message: e.to_string(),
            field: None,
        }
    }

    /// A typed decoding error with the path serde was at.
    fn typed(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = e.path().to_string();
        let at = (path != ".").then_some(path);
        let inner = e.into_inner();
        let (line, column) = (inner.line(), inner.column());
        let message = inner.to_string();
        if let Some(name) = missing_field(&message) {
            return DecodeError::Required(match at {
                Some(parent) => format!("{parent}.{name}"),
                None => name.to_string(),
            });
        }
        if let (Some(field), Some((value, supported))) = (&at, unknown_variant(&message)) {
            return DecodeError::NotSupported {
                field: field.clone(),
                value,
                supported,
            };
        }
        // The path says where; serde_json's position is in the JSON the server read, which for
        // a YAML body, or kubectl's request made from a manifest, is not what the user wrote.
        let message = match (&at, line) {
            (Some(_), 1..) => message
                .strip_suffix(&format!(" at line {line} column {column}"))
                .map_or(message.clone(), str::to_string),
            _ => message,
        };
        DecodeError::Invalid { message, field: at }
    }
}

/// The field of serde's `missing_field` error: serde reports a missing field only in words
/// ("missing field `name`"), and its fixed wording is the one place the field is named.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// serde's `unknown_variant` error in its fixed wording ("unknown variant `x`, expected one of
/// `a`, `b`"; "expected `a` or `b`"; "expected `a`"), with serde_json's position after it: the
/// value and the variants there are.
fn unknown_variant(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown variant `")?;
    let (value, expected) = rest.split_once("`, ")?;
    let expected = match expected.rfind(" at line ") {
        Some(at) => &expected[..at],
        None => expected,
    };
    let listed = expected
        .strip_prefix("expected one of ")
        .or_else(|| expected.strip_prefix("expected "))?;
    let supported: Vec<String> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    (!supported.is_empty()).then(|| (value.to_string(), supported))
}

/// An ignored (unknown) field's path as Go's strict decoding names it (`spec.items[0].x`):
/// serde_ignored's own `Display` writes `items.0.x`, and `status.?.x` through an `Option`.
pub(crate) fn field_path(path: &serde_ignored::Path<'_>) -> String {
    fn write(path: &serde_ignored::Path<'_>, out: &mut String) {
        use serde_ignored::Path;
        match path {
            Path::Root => {}
            Path::Seq { parent, index } => {
                write(parent, out);
                out.push_str(&format!("[{index}]"));
            }
            Path::Map { parent, key } => {
                write(parent, out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => write(parent, out),
        }
    }
    let mut out = String::new();
    write(path, &mut out);
    out
}

/// Deserializes `de` as `V`, collecting unknown fields into `unknown` and naming the field of an
/// error by its path.
fn typed<'de, V, D>(de: D, unknown: &mut Vec<String>) -> Result<V, DecodeError>
where
    V: serde::Deserialize<'de>,
    D: serde::Deserializer<'de, Error = serde_json::Error>,
{
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(field_path(&path));
    let strict = super::strict::Deserializer(de);
    serde_path_to_error::deserialize(serde_ignored::Deserializer::new(strict, &mut record))
        .map_err(DecodeError::typed)
}

fn finish<V, H, C>(
    typed: Result<V, DecodeError>,
    unknown: Vec<String>,
) -> Result<Decoded<H>, DecodeError>
where
    V: SetDefaults,
    C: Conversion<V, H>,
{
    let mut typed = typed?;
    let object = guarded(move || {
        // Defaults on every read of a version: what defaulter-gen generated for it.
        typed.set_defaults();
        C::to_hub(typed)
    })?;
    Ok(Decoded {
        object,
        field_issues: unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect(),
    })
}

fn read<V, H, C>(bytes: &[u8]) -> Result<Decoded<H>, DecodeError>
where
    V: DeserializeOwned + SetDefaults,
    C: Conversion<V, H>,
{
    // Trailing garbage is an error; a key given twice counts as its last value and is reported
    // (`fieldValidation` decides: Strict refuses, Warn warns), as in Go's decoding.
    let duplicates = duplicate_keys(bytes).map_err(DecodeError::syntax)?;
    if !duplicates.is_empty() {
        let value: Value = serde_json::from_slice(bytes).map_err(DecodeError::syntax)?;
        let found = duplicates
            .iter()
            .map(|p| format!("duplicate field \"{p}\""));
        return match read_value::<V, H, C>(value) {
            Ok(mut decoded) => {
                decoded.field_issues.splice(0..0, found);
                Ok(decoded)
            }
            Err(DecodeError::Schema {
                errors,
                mut field_issues,
            }) => {
                field_issues.splice(0..0, found);
                Err(DecodeError::Schema {
                    errors,
                    field_issues,
                })
            }
            Err(e) => Err(e),
        };
    }
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let typed = typed::<V, _>(&mut de, &mut unknown)
        .and_then(|v| de.end().map(|()| v).map_err(DecodeError::syntax));
    match typed {
        // The slow path: every such problem of the body, and all its unknown fields.
        // A big body gets its first problem only: the slow path decodes it again per problem.
        Err(first @ (DecodeError::Required(_) | DecodeError::NotSupported { .. }))
            if bytes.len() > SLOW_PATH_MAX_BYTES =>
        {
            Err(first)
        }
        Err(first @ (DecodeError::Required(_) | DecodeError::NotSupported { .. })) => {
            match serde_json::from_slice::<Value>(bytes) {
                Ok(value) => Err(collect::<V>(value, first)),
                Err(_) => Err(first),
            }
        }
        typed => finish::<V, H, C>(typed, unknown),
    }
}

/// The largest body whose every schema problem is collected (see [`collect`]): above it, the
/// first problem alone, so that a request costs a bounded number of full decodes of a small body.
const SLOW_PATH_MAX_BYTES: usize = 256 * 1024;

fn read_value<V, H, C>(value: Value) -> Result<Decoded<H>, DecodeError>
where
    V: DeserializeOwned + SetDefaults,
    C: Conversion<V, H>,
{
    let mut unknown = Vec::new();
    match typed::<V, _>(&value, &mut unknown) {
        Err(first @ (DecodeError::Required(_) | DecodeError::NotSupported { .. })) => {
            Err(collect::<V>(value, first))
        }
        typed => finish::<V, H, C>(typed, unknown),
    }
}

/// One step of a path into a JSON value.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// serde_path_to_error's path as steps into a `Value`; `None` through an enum variant or a
/// step it could not name.
fn steps(path: &serde_path_to_error::Path) -> Option<Vec<Step>> {
    path.iter()
        .map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
            _ => None,
        })
        .collect()
}

fn at_mut<'v>(mut v: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    for s in steps {
        v = match s {
            Step::Key(k) => v.as_object_mut()?.get_mut(k)?,
            Step::Index(i) => v.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Values tried, in turn, in place of a missing required field, until one has its type.
fn placeholder(attempt: usize) -> Option<Value> {
    Some(match attempt {
        0 => Value::String(String::new()),
        1 => Value::Object(Default::default()),
        2 => Value::from(0),
        3 => Value::Bool(false),
        4 => Value::Array(Vec::new()),
        _ => return None,
    })
}

/// The slow path of a body with a missing required field or a value its enum does not have
/// (`first`): a CRD's schema validation reports every such problem of the body at once, so the
/// body is decoded again with each one repaired (a placeholder for a missing field, a supported
/// value for an unsupported one) until it decodes, each new one collected — in serde's order,
/// which is a CRD's: an object's properties, then its missing required fields. Problems inside
/// a placeholder are not the body's and are not reported; another kind of error (a wrong type)
/// ends the search (it is reported, as a 400, once these are fixed). The unknown fields of the
/// last decoding come along: `fieldValidation=Strict` refuses them before any of these.
fn collect<V: DeserializeOwned>(value: Value, first: DecodeError) -> DecodeError {
    let repaired = repair::<V>(value);
    if repaired.problems.is_empty() {
        return first;
    }
    DecodeError::Schema {
        errors: repaired.problems,
        field_issues: repaired
            .unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect(),
    }
}

/// What [`repair`] made of a value.
struct Repaired<V> {
    /// The object, when the repairs made the value decode.
    decoded: Option<V>,
    /// The problems repaired, in serde's order (none inside a placeholder).
    problems: Vec<DecodeError>,
    /// The unknown fields of the last decoding.
    unknown: Vec<String>,
}

/// Decodes `value` again and again, repairing each missing required field with a placeholder and
/// each unsupported enum value with a supported one, until it decodes or an error cannot be
/// repaired (a wrong type ends the search).
fn repair<V: DeserializeOwned>(mut value: Value) -> Repaired<V> {
    /// Decodings at most: a body with more problems than this reports the first ones.
    const MAX_DECODES: usize = 32;
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    // Where placeholders went, and which one each is.
    let mut placed: Vec<(Vec<Step>, usize)> = Vec::new();
    for _ in 0..MAX_DECODES {
        unknown.clear();
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(field_path(&path));
        let strict = super::strict::Deserializer(&value);
        let decoded: Result<V, _> =
            serde_path_to_error::deserialize(serde_ignored::Deserializer::new(strict, &mut record));
        let e = match decoded {
            Ok(v) => {
                return Repaired {
                    decoded: Some(v),
                    problems,
                    unknown,
                };
            }
            Err(e) => e,
        };
        let Some(path) = steps(e.path()) else { break };
        let message = e.inner().to_string();
        let inside = placed.iter().any(|(p, _)| path.starts_with(p));
        let repaired = if let Some(name) = missing_field(&message) {
            let mut target = path.clone();
            target.push(Step::Key(name.to_string()));
            let put = at_mut(&mut value, &path)
                .and_then(Value::as_object_mut)
                .map(|o| o.insert(name.to_string(), placeholder(0).unwrap_or_default()));
            placed.push((target, 0));
            put.is_some()
        } else if let Some((_, supported)) = unknown_variant(&message) {
            match (at_mut(&mut value, &path), supported.first()) {
                (Some(v), Some(s)) => {
                    *v = Value::String(s.clone());
                    true
                }
                _ => false,
            }
        } else {
            // A placeholder of the wrong type: the next one.
            match placed.iter_mut().find(|(p, _)| *p == path) {
                Some((_, attempt)) => {
                    *attempt += 1;
                    match (placeholder(*attempt), at_mut(&mut value, &path)) {
                        (Some(next), Some(v)) => {
                            *v = next;
                            continue;
                        }
                        _ => false,
                    }
                }
                None => false,
            }
        };
        if !repaired {
            break;
        }
        if !inside {
            problems.push(DecodeError::typed(e));
        }
    }
    Repaired {
        decoded: None,
        problems,
        unknown,
    }
}

/// Converts a version's JSON value into the hub as kube-apiserver's converter does: without
/// defaults, and a part of an object too (server-side apply converts what it pruned, which may
/// lack required fields: they take placeholders, as Go's zero values). A field left out stays
/// out, so that pruning in another version sees it gone.
fn convert_value<V, H, C>(value: Value) -> Result<H, DecodeError>
where
    V: DeserializeOwned,
    C: Conversion<V, H>,
{
    let mut unknown = Vec::new();
    let typed = match typed::<V, _>(&value, &mut unknown) {
        Err(first @ (DecodeError::Required(_) | DecodeError::NotSupported { .. })) => {
            repair::<V>(value).decoded.ok_or(first)?
        }
        typed => typed?,
    };
    guarded(move || C::to_hub(typed))
}

/// Runs a version's defaulting and conversion, which is code of the resource's crate: a panic
/// there becomes [`DecodeError::Panicked`], logged, instead of unwinding through whatever is
/// decoding — a watch or a list writing its response, where it would end the connection and,
/// over HTTP/2, every other request on it.
fn guarded<H>(f: impl FnOnce() -> Result<H, ConversionError>) -> Result<H, DecodeError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(converted) => converted.map_err(DecodeError::Convert),
        Err(panic) => {
            let message = crate::panics::message(&*panic);
            tracing::error!(panic = %message, "defaulting or converting an object panicked");
            Err(DecodeError::Panicked)
        }
    }
}

fn read_stored<V, H, C>(bytes: &[u8]) -> Result<H, DecodeError>
where
    V: DeserializeOwned + SetDefaults,
    C: Conversion<V, H>,
{
    finish::<V, H, C>(
        serde_json::from_slice(bytes).map_err(DecodeError::syntax),
        Vec::new(),
    )
    .map(|d| d.object)
}

fn write_value<V, H, C>(h: &H) -> Result<Value, String>
where
    V: Serialize + 'static,
    C: Conversion<V, H>,
{
    C::with_version(h, |v| serde_json::to_value(v))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn write_json<V, H, C>(h: &H, out: &mut Vec<u8>) -> Result<(), String>
where
    V: Serialize + 'static,
    C: Conversion<V, H>,
{
    C::with_version(h, |v| serde_json::to_writer(&mut *out, v))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn write_json_owned<V, H, C>(h: H, out: &mut Vec<u8>) -> Result<(), String>
where
    V: Serialize + 'static,
    C: Conversion<V, H>,
{
    C::into_version(h, |v| serde_json::to_writer(&mut *out, v))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// The keys given twice in JSON objects of `body` (`spec.x`), which serde_json would resolve to
/// the last value and the typed decoding refuses; an error for JSON that is not valid.
pub(crate) fn duplicate_keys(body: &[u8]) -> Result<Vec<String>, String> {
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    use std::fmt;

    struct Check<'a>(String, &'a RefCell<Vec<String>>);
    impl<'de> DeserializeSeed<'de> for Check<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Check<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.0.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.0)
                };
                if !seen.insert(key) {
                    self.1.borrow_mut().push(path.clone());
                }
                map.next_value_seed(Check(path, self.1))?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq
                .next_element_seed(Check(format!("{}[{i}]", self.0), self.1))?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    let found = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    Check(String::new(), &found)
        .deserialize(&mut de)
        .and_then(|_| de.end())
        .map_err(|e| e.to_string())?;
    Ok(found.into_inner())
}

#[cfg(test)]
mod tests {
    use super::duplicate_keys;

    #[test]
    fn duplicate_keys_are_found_with_their_path() {
        assert_eq!(duplicate_keys(br#"{"a":1,"b":{"c":1}}"#), Ok(vec![]));
        assert_eq!(
            duplicate_keys(br#"{"spec":{"x":1,"x":2,"l":[{"y":1,"y":2}]}}"#),
            Ok(vec!["spec.x".to_string(), "spec.l[0].y".to_string()])
        );
        assert!(duplicate_keys(b"{").is_err());
    }
}

#[cfg(test)]
mod unknown_variant_tests {
    /// Every wording serde gives the expected variants, with serde_json's position after it.
    #[test]
    fn serdes_wordings_are_read() {
        let read = |m: &str| super::unknown_variant(m);
        assert_eq!(
            read("unknown variant `x`, expected one of `a`, `b`, `c` at line 1 column 9"),
            Some(("x".into(), vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(
            read("unknown variant `x`, expected `a` or `b`"),
            Some(("x".into(), vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            read("unknown variant `x`, expected `a`"),
            Some(("x".into(), vec!["a".into()]))
        );
        assert_eq!(read("unknown variant `x`, there are no variants"), None);
        assert_eq!(read("invalid type: integer `1`, expected a string"), None);
    }
}

#[cfg(test)]
mod collect_tests {
    use super::{DecodeError, collect};
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Root {
        spec: Spec,
        #[serde(default)]
        items: Vec<Item>,
        extra: Option<Vec<Inner>>,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Spec {
        count: u32,
        mode: Mode,
        inner: Inner,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Item {
        mode: Mode,
        name: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Slow,
    }

    fn report(value: serde_json::Value) -> (Vec<String>, Vec<String>) {
        let first = DecodeError::Required("?".into());
        match collect::<Root>(value, first) {
            DecodeError::Schema {
                errors,
                field_issues,
            } => (
                errors
                    .iter()
                    .map(|e| match e {
                        DecodeError::Required(f) => format!("required {f}"),
                        DecodeError::NotSupported { field, value, .. } => {
                            format!("unsupported {field}={value}")
                        }
                        _ => "other".into(),
                    })
                    .collect(),
                field_issues,
            ),
            _ => panic!("not collected"),
        }
    }

    #[test]
    fn every_problem_in_order_none_inside_placeholders() {
        // Properties (in document order) before the missing fields of their object; a missing
        // struct is one problem, not one per field inside it; unknown fields all come along.
        let (errors, unknown) = report(json!({
            "items": [{"mode": "odd", "x": 1}, {"name": "b", "mode": "fast"}],
            "spec": {"mode": "medium", "y": true},
            "extra": [{"name": "e"}, {"name": "f", "w": 1}],
            "z": 0
        }));
        assert_eq!(
            errors,
            [
                "unsupported items[0].mode=odd",
                "required items[0].name",
                "unsupported spec.mode=medium",
                "required spec.count",
                "required spec.inner",
            ]
        );
        assert_eq!(
            unknown,
            [
                "unknown field \"items[0].x\"",
                "unknown field \"spec.y\"",
                "unknown field \"extra[1].w\"",
                "unknown field \"z\""
            ]
        );
        let (errors, _) = report(json!({}));
        assert_eq!(errors, ["required spec"]);
    }

    #[test]
    fn a_type_error_ends_the_search() {
        let (errors, _) = report(json!({"spec": {"mode": "medium", "count": "many"}}));
        assert_eq!(errors, ["unsupported spec.mode=medium"]);
    }
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    /// A version whose defaulting panics on one name, as a `+default` its type refuses does.
    #[derive(serde::Deserialize, Debug)]
    struct Panicky {
        name: String,
    }

    impl SetDefaults for Panicky {
        fn set_defaults(&mut self) {
            if self.name == "boom" {
                panic!("a +default its type refuses");
            }
        }
    }

    #[test]
    fn a_panic_in_defaulting_is_a_decode_error_not_an_unwind() {
        let read = read_stored::<Panicky, Panicky, Identity>;
        assert!(matches!(
            read(br#"{"name":"boom"}"#),
            Err(DecodeError::Panicked)
        ));
        assert!(matches!(read(br#"{"name":"fine"}"#), Ok(p) if p.name == "fine"));
    }
}
