//! The validation of names, label keys and values, annotations and object metadata: one
//! implementation for the clients and the API server.
//!
//! Ports of Go's `k8s.io/apimachinery/pkg/util/validation` (the string rules:
//! [`is_qualified_name`], [`is_valid_label_value`], [`is_dns1123_label`],
//! [`is_dns1123_subdomain`]), `pkg/api/validation/path` (names that travel as URL path
//! segments: [`is_valid_path_segment_name`]) and `pkg/api/validation` (`ValidateObjectMeta`:
//! [`validate_object_meta`], [`validate_object_meta_update`], generateName, namespace names,
//! [`TOTAL_ANNOTATION_SIZE_LIMIT_B`]). Messages are the Go ones (Kubernetes 1.32) word for word,
//! because they reach `kubectl` verbatim in the causes of a 422 `Status`.
//!
//! Every function takes any `&str` (lengths are counted in bytes, as Go's `len` does) and never
//! panics: non-ASCII input is simply invalid.

use std::collections::BTreeMap;
use std::fmt;

/// Go's `qualifiedNameMaxLength`: the name part of a label key.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
/// Go's `LabelValueMaxLength`.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Go's `DNS1123LabelMaxLength` (namespace names).
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Go's `DNS1123SubdomainMaxLength` (object names, label key prefixes).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Go's `TotalAnnotationSizeLimitB`: the annotations of one object, keys and values, in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// The finalizers Go refuses together (`metav1.FinalizerOrphanDependents`,
/// `metav1.FinalizerDeleteDependents`).
const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Go's `validation.RegexError`.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

/// Go's `validation.MaxLenError`.
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// Go's `validation.EmptyError`.
pub fn empty_error() -> &'static str {
    "must be non-empty"
}

/// Go's `strconv.Quote` (what `%q` prints for a string), close enough for error messages.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // What Go's `unicode.IsPrint` does not count as printable: C1 controls, format
            // characters (zero-width spaces and joiners, direction marks, the BOM), spaces
            // other than U+0020, line and paragraph separators, private use.
            c if (0x80..0xa0).contains(&(c as u32))
                || matches!(c, '\u{a0}' | '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{feff}')
                || ('\u{2000}'..='\u{200f}').contains(&c)
                || ('\u{2028}'..='\u{202f}').contains(&c)
                || ('\u{205f}'..='\u{206f}').contains(&c)
                || c == '\u{3000}'
                || ('\u{e000}'..='\u{f8ff}').contains(&c)
                || ('\u{fff9}'..='\u{fffb}').contains(&c) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Strings (`pkg/util/validation`)
// ---------------------------------------------------------------------------------------------

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_alnum(first)
                && is_alnum(last)
                && b.iter()
                    .all(|&c| is_alnum(c) || c == b'-' || c == b'_' || c == b'.')
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first)
                && is_lower_alnum(last)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
fn matches_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(matches_dns1123_label)
}

/// Go's `validation.IsQualifiedName`: label keys, annotation keys, finalizers — an optional
/// DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts[..] {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Go's `validation.IsValidLabelValue`: empty, or at most 63 characters of
/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !(value.is_empty() || matches_qualified_name(value)) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Go's `validation.IsDNS1123Label`: namespace names — at most 63 lowercase alphanumerics and
/// `-`, starting and ending with an alphanumeric.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            // A valid subdomain but not a label: the length was checked, so it is the dots.
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Go's `validation.IsDNS1123Subdomain`: object names — at most 253 characters of dot-separated
/// DNS-1123 labels.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Path segments (`pkg/api/validation/path`)
// ---------------------------------------------------------------------------------------------

/// Go's `path.IsValidPathSegmentName`: a name that travels as one URL path segment (and one
/// storage key segment) — not `.` or `..`, no `/` or `%`. What kube-apiserver's storage key
/// functions require of the name in a request path (a 400 `Name parameter invalid` otherwise)
/// and client-go of a namespace or name before it builds a URL.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    if let Some(bad) = [".", ".."].into_iter().find(|b| name == *b) {
        return vec![format!("may not be '{bad}'")];
    }
    is_valid_path_segment_prefix(name)
}

/// Go's `path.IsValidPathSegmentPrefix`: what a name that gets a suffix must not contain.
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .into_iter()
        .filter(|bad| name.contains(bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// Go's `path.ValidatePathSegmentName`.
pub fn validate_path_segment_name(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_valid_path_segment_prefix(name)
    } else {
        is_valid_path_segment_name(name)
    }
}

// ---------------------------------------------------------------------------------------------
// Names (`pkg/api/validation/generic.go`)
// ---------------------------------------------------------------------------------------------

/// Go's `ValidateNameFunc`: the problems of a name; `prefix` when it is a `generateName` that a
/// random suffix will complete (a trailing `-` is then fine).
pub type NameFn = fn(&str, bool) -> Vec<String>;

/// Go's `maskTrailingDash`, byte for byte (it drops the last *two* bytes before appending `a`);
/// a cut inside a multi-byte character leaves an invalid name, as it is.
fn mask_trailing_dash(name: &str) -> std::borrow::Cow<'_, str> {
    let b = name.as_bytes();
    if b.len() > 1 && b.ends_with(b"-") {
        let mut masked = b[..b.len() - 2].to_vec();
        masked.push(b'a');
        return String::from_utf8_lossy(&masked).into_owned().into();
    }
    name.into()
}

/// Go's `NameIsDNSSubdomain`: object names (every custom resource's).
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        return is_dns1123_subdomain(&mask_trailing_dash(name));
    }
    is_dns1123_subdomain(name)
}

/// Go's `NameIsDNSLabel`.
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        return is_dns1123_label(&mask_trailing_dash(name));
    }
    is_dns1123_label(name)
}

/// Go's `ValidateNamespaceName`: a namespace name is a DNS-1123 label.
pub fn validate_namespace_name(name: &str, prefix: bool) -> Vec<String> {
    name_is_dns_label(name, prefix)
}

// ---------------------------------------------------------------------------------------------
// Field errors (`pkg/util/validation/field`)
// ---------------------------------------------------------------------------------------------

/// Go's `field.ErrorType`, for the kinds object metadata produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    Required,
    Invalid,
    Forbidden,
    TooLong,
}

impl ErrorType {
    /// The `reason` of a `StatusCause` (`FieldValueInvalid`, …).
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
        }
    }

    fn text(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
        }
    }
}

/// Go's `field.Error`: which field, what is wrong with it. [`FieldError::body`] is the
/// `message` of a `StatusCause`, `Display` the `field: body` of Go's `Error()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub error_type: ErrorType,
    /// The field path: `metadata.labels`.
    pub field: String,
    /// The offending value as Go renders it (`%q` for strings, JSON otherwise); only
    /// [`ErrorType::Invalid`] shows it.
    pub bad_value: String,
    pub detail: String,
}

impl FieldError {
    /// `field.Required(path, detail)`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, String::new(), detail)
    }

    /// `field.Invalid(path, value, detail)` for a string value.
    pub fn invalid(field: impl Into<String>, value: &str, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, field, go_quote(value), detail)
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, String::new(), detail)
    }

    /// `field.TooLong(path, _, max)`.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        Self::new(
            ErrorType::TooLong,
            field,
            String::new(),
            format!("may not be more than {max_bytes} {unit}"),
        )
    }

    fn new(
        error_type: ErrorType,
        field: impl Into<String>,
        bad_value: String,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            error_type,
            field: field.into(),
            bad_value,
            detail: detail.into(),
        }
    }

    /// The `reason` of a `StatusCause`.
    pub fn reason(&self) -> &'static str {
        self.error_type.reason()
    }

    /// Go's `ErrorBody()`: `Invalid value: "a,b": a valid label must …`.
    pub fn body(&self) -> String {
        let mut s = self.error_type.text().to_string();
        if self.error_type == ErrorType::Invalid {
            s.push_str(": ");
            s.push_str(&self.bad_value);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

// ---------------------------------------------------------------------------------------------
// Object metadata (`pkg/api/validation/objectmeta.go`, `pkg/apis/meta/v1/validation`)
// ---------------------------------------------------------------------------------------------

/// Go's `v1validation.ValidateLabels`: every key a qualified name, every value a label value;
/// both reported at `field` (Go names the map, not the key).
pub fn validate_labels(labels: &BTreeMap<String, String>, field: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        for m in is_qualified_name(k) {
            errs.push(FieldError::invalid(field, k, m));
        }
        for m in is_valid_label_value(v) {
            errs.push(FieldError::invalid(field, v, m));
        }
    }
    errs
}

/// The size Go's `ValidateAnnotationsSize` counts: every key and value, in bytes.
pub fn annotations_size(annotations: &BTreeMap<String, String>) -> usize {
    annotations.iter().fold(0usize, |n, (k, v)| {
        n.saturating_add(k.len()).saturating_add(v.len())
    })
}

/// Go's `ValidateAnnotations`: every key a qualified name once lowercased, and at most
/// [`TOTAL_ANNOTATION_SIZE_LIMIT_B`] bytes in all.
pub fn validate_annotations(
    annotations: &BTreeMap<String, String>,
    field: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for k in annotations.keys() {
        // A qualified name except that case does not matter.
        for m in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(field, k, m));
        }
    }
    if annotations_size(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT_B));
    }
    errs
}

/// Go's `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
pub fn validate_finalizers(finalizers: &[String], field: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in finalizers {
        for m in is_qualified_name(f) {
            errs.push(FieldError::invalid(field, f, m));
        }
    }
    let has = |name: &str| finalizers.iter().any(|f| f == name);
    if has(FINALIZER_ORPHAN_DEPENDENTS) && has(FINALIZER_DELETE_DEPENDENTS) {
        let rendered: Vec<String> = finalizers.iter().map(|f| go_quote(f)).collect();
        errs.push(FieldError::new(
            ErrorType::Invalid,
            field,
            format!("[{}]", rendered.join(",")),
            format!(
                "finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set"
            ),
        ));
    }
    errs
}

/// The fields of an `ObjectMeta` the rules look at, borrowed (so that this crate needs no
/// Kubernetes types: fill it from k8s-openapi's `ObjectMeta`). Empty strings are unset.
#[derive(Clone, Copy, Debug, Default)]
pub struct ObjectMetaFields<'a> {
    pub name: &'a str,
    pub generate_name: &'a str,
    pub namespace: &'a str,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub annotations: Option<&'a BTreeMap<String, String>>,
    pub finalizers: &'a [String],
}

/// Go's `ValidateObjectMetaAccessor` (create), under `metadata`: `generateName` and `name` by
/// `name_fn` (every custom resource's is [`name_is_dns_subdomain`]), the namespace required and
/// a DNS-1123 label for a namespaced kind and forbidden otherwise, labels, annotations (keys and
/// total size) and finalizers. Expects `generateName` to have been resolved into `name`.
pub fn validate_object_meta(
    meta: &ObjectMetaFields<'_>,
    requires_namespace: bool,
    name_fn: NameFn,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !meta.generate_name.is_empty() {
        for m in name_fn(meta.generate_name, true) {
            errs.push(FieldError::invalid(
                "metadata.generateName",
                meta.generate_name,
                m,
            ));
        }
    }
    if meta.name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for m in name_fn(meta.name, false) {
            errs.push(FieldError::invalid("metadata.name", meta.name, m));
        }
    }
    if requires_namespace {
        if meta.namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for m in validate_namespace_name(meta.namespace, false) {
                errs.push(FieldError::invalid("metadata.namespace", meta.namespace, m));
            }
        }
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    errs.extend(validate_object_meta_update(meta));
    errs.extend(validate_finalizers(meta.finalizers, "metadata.finalizers"));
    errs
}

/// The rules of Go's `ValidateObjectMetaAccessorUpdate` on the new object's content: labels and
/// annotations (its name and namespace cannot change; the caller keeps those).
pub fn validate_object_meta_update(meta: &ObjectMetaFields<'_>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(labels) = meta.labels {
        errs.extend(validate_labels(labels, "metadata.labels"));
    }
    if let Some(annotations) = meta.annotations {
        errs.extend(validate_annotations(annotations, "metadata.annotations"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    fn ok(errs: Vec<String>, input: &str) {
        assert!(errs.is_empty(), "{input:?} should be valid: {errs:?}");
    }

    fn bad(errs: Vec<String>, input: &str) {
        assert!(!errs.is_empty(), "{input:?} should be invalid");
    }

    #[test]
    fn label_values() {
        let long = "a".repeat(63);
        for v in [
            "",
            "a",
            "A",
            "1",
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "1234",
            "MixedCase",
            "with_underscore",
            "with.dot",
            "a.b-c_d",
            &long,
        ] {
            ok(is_valid_label_value(v), v);
        }
        let too_long = "a".repeat(64);
        for v in [
            "a,b", "a b", " a", "a ", "-a", "a-", "_a", "a_", ".a", "a.", "a/b", "a:b", "a=b",
            "a!", "é", "a\u{0}b", "(a)", "a,", ",", &too_long,
        ] {
            bad(is_valid_label_value(v), v);
        }
        assert_eq!(
            is_valid_label_value("a,b"),
            vec![LABEL_VALUE_MSG.to_string()]
        );
        assert_eq!(
            is_valid_label_value(&too_long),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            is_valid_label_value(&format!("-{too_long}")),
            vec![
                "must be no more than 63 characters".to_string(),
                LABEL_VALUE_MSG.to_string()
            ]
        );
    }

    #[test]
    fn qualified_names() {
        let name63 = "a".repeat(63);
        let prefix253 = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(prefix253.len(), 253);
        let long_prefixed = format!("{prefix253}/{name63}");
        for k in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now-with-dashes/now-with-dashes",
            "now.with.dots/simple",
            "now-with.dashes-and.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            "requests.storage-foo",
            "kubernetes.io/role",
            "app.kubernetes.io/name",
            &name63,
            &long_prefixed,
        ] {
            ok(is_qualified_name(k), k);
        }
        let name64 = "a".repeat(64);
        let prefix254 = format!("{}/a", "a".repeat(254));
        for k in [
            "",
            "nospecialchars%^=@",
            "cantendwithadash-",
            "-cantstartwithadash-",
            "only/one/slash",
            "Example.com/abc",
            "example_com/abc",
            "example.com/",
            "/simple",
            "a,b",
            "a b",
            "example.com/a,b",
            "é",
            "a/é",
            "é/a",
            ".",
            "..",
            &name64,
            &prefix254,
        ] {
            bad(is_qualified_name(k), k);
        }
        assert_eq!(is_qualified_name("a,b"), vec![NAME_PART_MSG.to_string()]);
        assert_eq!(
            is_qualified_name("/x"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert_eq!(
            is_qualified_name("p/"),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART_MSG.to_string()
            ]
        );
        assert_eq!(
            is_qualified_name("Example.com/x"),
            vec![format!("prefix part {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string()]
        );
        assert_eq!(
            is_qualified_name(&name64),
            vec!["name part must be no more than 63 characters".to_string()]
        );
    }

    #[test]
    fn dns1123_labels_and_subdomains() {
        let l63 = "a".repeat(63);
        for v in [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            &l63,
        ] {
            ok(is_dns1123_label(v), v);
            ok(is_dns1123_subdomain(v), v);
        }
        let l64 = "a".repeat(64);
        for v in [
            "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_",
            "_a", "a_b", "1_", "_1", "1_2", "*", "a*", "*a", "a*b", "1*", "*1", "1*2", "a.b", "é",
            "a b", "a,b", &l64,
        ] {
            bad(is_dns1123_label(v), v);
        }
        assert_eq!(
            is_dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert_eq!(is_dns1123_label("Bad_NS"), vec![LABEL_MSG.to_string()]);

        let s253 = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        for v in [
            "a.a",
            "ab.a",
            "a-1.a",
            "a.b.c.d.e",
            "0.0",
            "1.a",
            "aaa.bbb.ccc",
            &l64,
            &s253,
        ] {
            ok(is_dns1123_subdomain(v), v);
        }
        let s254 = format!("{s253}d");
        for v in [
            "", ".", "..", "a.", ".a", "a..b", "A.a", "a.-", "-.a", "a_b.c", "a.b_c", "é.a", "a,b",
            "a/b", "a%b", &s254,
        ] {
            bad(is_dns1123_subdomain(v), v);
        }
        assert_eq!(
            is_dns1123_subdomain("Bad_Name"),
            vec![SUBDOMAIN_MSG.to_string()]
        );
        assert_eq!(
            is_dns1123_subdomain(&s254),
            vec!["must be no more than 253 characters".to_string()]
        );
    }

    #[test]
    fn path_segments() {
        for v in ["a", "a.b", "...", ".a", "a..", "A_b", "é", " "] {
            ok(is_valid_path_segment_name(v), v);
        }
        assert_eq!(is_valid_path_segment_name("."), vec!["may not be '.'"]);
        assert_eq!(is_valid_path_segment_name(".."), vec!["may not be '..'"]);
        assert_eq!(
            is_valid_path_segment_name("a/b"),
            vec!["may not contain '/'"]
        );
        assert_eq!(
            is_valid_path_segment_name("a%2F"),
            vec!["may not contain '%'"]
        );
        assert_eq!(
            is_valid_path_segment_name("/%"),
            vec!["may not contain '/'", "may not contain '%'"]
        );
        // A prefix may be `.` or `..`: a suffix follows.
        ok(validate_path_segment_name("..", true), "..");
        bad(validate_path_segment_name("a/", true), "a/");
    }

    #[test]
    fn generate_name_prefixes() {
        for g in [
            "a-",
            "al-",
            "my-alert-",
            "a",
            "x.y-",
            &format!("{}-", "a".repeat(252)),
        ] {
            ok(name_is_dns_subdomain(g, true), g);
        }
        for g in [
            "-",
            "Bad-",
            "a_b-",
            "a/b-",
            "a..b-",
            &format!("{}-", "a".repeat(254)),
        ] {
            bad(name_is_dns_subdomain(g, true), g);
        }
        // Go's mask drops two bytes: "ab-" is checked as "aa" (so "a_-" passes, as in Go); a cut
        // inside a character leaves an invalid name.
        ok(name_is_dns_label("ab-", true), "ab-");
        ok(name_is_dns_subdomain("a_-", true), "a_-");
        bad(name_is_dns_label("a.b-", true), "a.b-");
        bad(name_is_dns_subdomain("é-", true), "é-");
        bad(name_is_dns_subdomain("aé-", true), "aé-");
        // Not a prefix: the trailing dash counts.
        bad(name_is_dns_subdomain("a-", false), "a-");
        ok(validate_namespace_name("default", false), "default");
        bad(validate_namespace_name("kube.system", false), "kube.system");
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_and_annotations() {
        let errs = validate_labels(&map(&[("team", "a,b"), ("a b", "x")]), "metadata.labels");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].field, "metadata.labels");
        assert_eq!(errs[0].reason(), "FieldValueInvalid");
        assert_eq!(
            errs[0].body(),
            format!("Invalid value: \"a b\": {NAME_PART_MSG}")
        );
        assert_eq!(
            errs[1].body(),
            format!("Invalid value: \"a,b\": {LABEL_VALUE_MSG}")
        );
        assert_eq!(
            errs[1].to_string(),
            format!("metadata.labels: Invalid value: \"a,b\": {LABEL_VALUE_MSG}")
        );
        assert!(
            validate_labels(&map(&[("app.kubernetes.io/name", ""), ("x", "Y_1")]), "l").is_empty()
        );

        // Annotation keys: case does not matter; values are free.
        assert!(
            validate_annotations(&map(&[("Example.COM/Key", "any thing, at all: é")]), "a")
                .is_empty()
        );
        let errs = validate_annotations(&map(&[("a,b", "")]), "metadata.annotations");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "metadata.annotations");

        // The total counts keys and values, in bytes.
        let at_limit = map(&[("k", &"v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B - 1))]);
        assert_eq!(annotations_size(&at_limit), 262_144);
        assert!(validate_annotations(&at_limit, "a").is_empty());
        let over = map(&[
            ("k", &"v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B - 2)),
            ("kk", ""),
        ]);
        assert_eq!(annotations_size(&over), 262_145);
        let errs = validate_annotations(&over, "metadata.annotations");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].reason(), "FieldValueTooLong");
        assert_eq!(
            errs[0].body(),
            "Too long: may not be more than 262144 bytes"
        );
        let multibyte = map(&[("k", &"é".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B / 2))]);
        assert_eq!(validate_annotations(&multibyte, "a").len(), 1);
    }

    #[test]
    fn object_meta() {
        let labels = map(&[("team", "a,b")]);
        let meta = ObjectMetaFields {
            name: "Bad_Name",
            generate_name: "Bad_",
            namespace: "Bad_NS",
            labels: Some(&labels),
            ..Default::default()
        };
        let errs = validate_object_meta(&meta, true, name_is_dns_subdomain);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.generateName",
                "metadata.name",
                "metadata.namespace",
                "metadata.labels"
            ]
        );
        assert_eq!(
            errs[2].body(),
            format!("Invalid value: \"Bad_NS\": {LABEL_MSG}")
        );

        let missing =
            validate_object_meta(&ObjectMetaFields::default(), true, name_is_dns_subdomain);
        let bodies: Vec<String> = missing.iter().map(FieldError::to_string).collect();
        assert_eq!(
            bodies,
            [
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value"
            ]
        );

        let cluster = ObjectMetaFields {
            name: "a",
            namespace: "default",
            ..Default::default()
        };
        let errs = validate_object_meta(&cluster, false, name_is_dns_subdomain);
        assert_eq!(
            errs[0].to_string(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );

        let finalizers = vec![
            "orphan".to_string(),
            "foregroundDeletion".to_string(),
            "bad finalizer".to_string(),
        ];
        let good = ObjectMetaFields {
            name: "a",
            namespace: "default",
            finalizers: &finalizers,
            ..Default::default()
        };
        let errs = validate_object_meta(&good, true, name_is_dns_subdomain);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[1].to_string(),
            "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\",\"bad finalizer\"]: finalizer orphan and foregroundDeletion cannot be both set"
        );

        let fine = ObjectMetaFields {
            name: "a.b-c",
            generate_name: "a.b-",
            namespace: "kube-system",
            ..Default::default()
        };
        assert!(validate_object_meta(&fine, true, name_is_dns_subdomain).is_empty());
    }

    /// A small deterministic generator (no dependency): xorshift.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn string(&mut self) -> String {
            // Mostly the characters the rules care about, plus arbitrary Unicode.
            const INTERESTING: &[char] = &[
                'a', 'Z', '0', '9', '-', '_', '.', '/', '%', ',', ' ', '=', '!', 'é', '€', '𝄞',
                '\u{0}', '\u{7f}', '\u{ad}', '\u{200b}', '\u{feff}',
            ];
            let len = (self.next() % 300) as usize;
            (0..len)
                .map(|_| {
                    let r = self.next();
                    if r.is_multiple_of(3) {
                        char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('\u{fffd}')
                    } else {
                        INTERESTING[(r >> 8) as usize % INTERESTING.len()]
                    }
                })
                .collect()
        }
    }

    /// Nothing panics on arbitrary Unicode, and what is accepted is ASCII of the right length.
    #[test]
    fn arbitrary_unicode_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let s = rng.string();
            let v = is_valid_label_value(&s);
            if v.is_empty() {
                assert!(s.is_ascii() && s.len() <= 63, "{s:?}");
            }
            if is_qualified_name(&s).is_empty() {
                assert!(s.is_ascii() && s.len() <= 253 + 1 + 63, "{s:?}");
            }
            if is_dns1123_label(&s).is_empty() {
                assert!(s.is_ascii() && !s.contains('.') && s.len() <= 63, "{s:?}");
            }
            if is_dns1123_subdomain(&s).is_empty() {
                assert!(s.is_ascii() && s.len() <= 253, "{s:?}");
            }
            let _ = is_valid_path_segment_name(&s);
            for prefix in [true, false] {
                let _ = name_is_dns_subdomain(&s, prefix);
                let _ = name_is_dns_label(&s, prefix);
            }
            let _ = go_quote(&s);
            let m = map(&[(&s, &s)]);
            let meta = ObjectMetaFields {
                name: &s,
                generate_name: &s,
                namespace: &s,
                labels: Some(&m),
                annotations: Some(&m),
                finalizers: std::slice::from_ref(&s),
            };
            for e in validate_object_meta(&meta, true, name_is_dns_subdomain) {
                let _ = e.to_string();
            }
        }
        // Every multi-byte character cut by the trailing-dash mask.
        for c in ['é', '€', '𝄞'] {
            for n in 0..4 {
                let g = format!("{}{}-", "a".repeat(n), c);
                bad(name_is_dns_subdomain(&g, true), &g);
            }
        }
    }
}
