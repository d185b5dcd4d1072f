//! The tag spec: one declarative table of every tag any generator understands.
//!
//! Tags live in doc comments (`/// +genclient`, `//! +groupName=pager.k8s.co`). A line is a tag
//! when it starts with `+` followed by a letter; the tag is `+name[:sub...][=value]`.

use crate::diag::{Diagnostic, Span};
use crate::path::RustPath;

/// Where a tag may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `//!` inner doc of any file of an API package (Go's `doc.go`).
    Package,
    /// `///` on a struct or enum.
    Type,
    /// `///` on a struct field.
    Field,
    /// `///` on an enum variant.
    Variant,
    /// `///` on a type alias (`type X = String;`): no tag belongs there (the alias is replaced by
    /// its target wherever it is used).
    Alias,
}

impl Place {
    pub fn describe(self) -> &'static str {
        match self {
            Place::Package => "a package (an `//!` comment in the package's mod.rs or types.rs)",
            Place::Type => "a type (a `///` comment on a struct or enum)",
            Place::Field => "a field (a `///` comment on a struct field)",
            Place::Variant => "an enum variant",
            Place::Alias => "a type alias",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Place::Package => "package",
            Place::Type => "type",
            Place::Field => "field",
            Place::Variant => "variant",
            Place::Alias => "type alias",
        }
    }
}

/// The grammar of a tag's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grammar {
    /// No value: `+optional`.
    Flag,
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// A comma-separated, non-empty subset of a fixed set of words.
    SubsetOf(&'static [&'static str]),
    /// A DNS-1123 subdomain (`pager.k8s.co`).
    DnsSubdomain,
    /// A DNS-1123 label (`alerts`).
    DnsLabel,
    /// Comma-separated DNS-1123 labels (`al,alr`).
    DnsLabels,
    /// `key=value` pairs separated by commas; `required` keys must be present.
    KeyValues {
        keys: &'static [&'static str],
        required: &'static [&'static str],
    },
    /// A JSON value (`"normal"`, `3`, `{"a":1}`).
    Json,
    /// A Rust path (`crate::apis::pager`) or `false`.
    RustPathOrFalse,
    /// A field name (`name`).
    Identifier,
    /// A protobuf field number: 1 to 536870911, except 19000–19999.
    FieldNumber,
}

impl Grammar {
    /// How the grammar is shown in help text and the README's table.
    pub fn describe(self) -> String {
        match self {
            Grammar::Flag => "(no value)".into(),
            Grammar::OneOf(words) => words.join(" \\| "),
            Grammar::SubsetOf(words) => format!("comma list of {}", words.join(", ")),
            Grammar::DnsSubdomain => "DNS subdomain, e.g. `example.com`".into(),
            Grammar::DnsLabel => "DNS label, e.g. `alerts`".into(),
            Grammar::DnsLabels => "comma list of DNS labels".into(),
            Grammar::KeyValues { keys, required } => {
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        if required.contains(k) {
                            format!("{k}=…")
                        } else {
                            format!("[{k}=…]")
                        }
                    })
                    .collect();
                parts.join(",")
            }
            Grammar::Json => "JSON value".into(),
            Grammar::RustPathOrFalse => "Rust module path, or `false`".into(),
            Grammar::Identifier => "field name".into(),
            Grammar::FieldNumber => "protobuf field number".into(),
        }
    }
}

/// Every tag, as a closed set: the model interprets tags by key, never by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TagKey {
    GroupName,
    Genclient,
    NonNamespaced,
    NoVerbs,
    NoStatus,
    Readonly,
    OnlyVerbs,
    SkipVerbs,
    Method,
    ResourceName,
    ShortName,
    Categories,
    PrintColumn,
    Scale,
    DeepcopyGen,
    RegisterGen,
    ClientGen,
    ListerGen,
    InformerGen,
    DefaulterGen,
    ConversionGen,
    OpenapiGen,
    Default,
    Optional,
    Required,
    Enum,
    ListType,
    ListMapKey,
    MapType,
    StructType,
    PatchStrategy,
    PatchMergeKey,
    ProtobufGen,
    Protobuf,
}

impl TagKey {
    /// `+genclient:*` options: they shape a client, so they need `+genclient`.
    pub fn is_client_option(self) -> bool {
        matches!(
            self,
            TagKey::NoVerbs
                | TagKey::NoStatus
                | TagKey::Readonly
                | TagKey::OnlyVerbs
                | TagKey::SkipVerbs
                | TagKey::Method
        )
    }

    /// Tags only a kind reads (scope, names, columns, client options).
    pub fn is_kind_only(self) -> bool {
        self.is_client_option()
            || matches!(
                self,
                TagKey::NonNamespaced
                    | TagKey::ResourceName
                    | TagKey::ShortName
                    | TagKey::Categories
                    | TagKey::PrintColumn
                    | TagKey::Scale
            )
    }
}

/// One row of the tag table.
#[derive(Clone, Copy, Debug)]
pub struct TagSpec {
    pub key: TagKey,
    pub name: &'static str,
    pub places: &'static [Place],
    pub grammar: Grammar,
    /// May appear more than once on one item.
    pub repeatable: bool,
    /// The generators (or runtime parts) that read it.
    pub consumers: &'static [&'static str],
    pub doc: &'static str,
}

const VERBS: &[&str] = &[
    "create",
    "update",
    "updateStatus",
    "delete",
    "deleteCollection",
    "get",
    "list",
    "watch",
    "patch",
    "apply",
    "applyStatus",
];

use Place::*;

/// Every tag kube-codegen understands. The README's tag table is generated from (and tested
/// against) this table.
pub const TAGS: &[TagSpec] = &[
    TagSpec {
        key: TagKey::GroupName,
        name: "groupName",
        places: &[Package],
        grammar: Grammar::DnsSubdomain,
        repeatable: false,
        consumers: &["model", "register-gen", "client-gen"],
        doc: "API group of the package; overrides the group inferred from the directory name.",
    },
    TagSpec {
        key: TagKey::Genclient,
        name: "genclient",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["client-gen", "lister-gen", "informer-gen"],
        doc: "Generate a typed client (and lister, informer) for this root type.",
    },
    TagSpec {
        key: TagKey::NonNamespaced,
        name: "genclient:nonNamespaced",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["model", "register-gen", "client-gen"],
        doc: "The kind is cluster-scoped (default: namespaced).",
    },
    TagSpec {
        key: TagKey::NoVerbs,
        name: "genclient:noVerbs",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["client-gen"],
        doc: "Generate a client with no verbs.",
    },
    TagSpec {
        key: TagKey::NoStatus,
        name: "genclient:noStatus",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["client-gen"],
        doc: "No `updateStatus`/`applyStatus` even though the type has `status`.",
    },
    TagSpec {
        key: TagKey::Readonly,
        name: "genclient:readonly",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["client-gen"],
        doc: "Only `get`, `list` and `watch`.",
    },
    TagSpec {
        key: TagKey::OnlyVerbs,
        name: "genclient:onlyVerbs",
        places: &[Type],
        grammar: Grammar::SubsetOf(VERBS),
        repeatable: false,
        consumers: &["client-gen"],
        doc: "Generate only these verbs.",
    },
    TagSpec {
        key: TagKey::SkipVerbs,
        name: "genclient:skipVerbs",
        places: &[Type],
        grammar: Grammar::SubsetOf(VERBS),
        repeatable: false,
        consumers: &["client-gen"],
        doc: "Generate every verb but these.",
    },
    TagSpec {
        key: TagKey::Method,
        name: "genclient:method",
        places: &[Type],
        grammar: Grammar::KeyValues {
            keys: &["name", "verb", "subresource", "input", "result"],
            required: &["name", "verb"],
        },
        repeatable: true,
        consumers: &["client-gen"],
        doc: "An extra client method, e.g. `name=GetScale,verb=get,subresource=scale,result=Scale`.",
    },
    TagSpec {
        key: TagKey::ResourceName,
        name: "resourceName",
        places: &[Type],
        grammar: Grammar::DnsLabel,
        repeatable: false,
        consumers: &["model", "register-gen", "client-gen"],
        doc: "The plural resource name (URL segment); overrides the inferred plural.",
    },
    TagSpec {
        key: TagKey::ShortName,
        name: "shortName",
        places: &[Type],
        grammar: Grammar::DnsLabels,
        repeatable: false,
        consumers: &["register-gen", "apiserver"],
        doc: "Short names for discovery and kubectl (`+shortName=al`).",
    },
    TagSpec {
        key: TagKey::Categories,
        name: "categories",
        places: &[Type],
        grammar: Grammar::DnsLabels,
        repeatable: false,
        consumers: &["register-gen", "apiserver"],
        doc: "Discovery categories (`+categories=all`).",
    },
    TagSpec {
        key: TagKey::PrintColumn,
        name: "printcolumn",
        places: &[Type],
        grammar: Grammar::KeyValues {
            keys: &[
                "name",
                "type",
                "jsonPath",
                "description",
                "format",
                "priority",
            ],
            required: &["name", "type", "jsonPath"],
        },
        repeatable: true,
        consumers: &["register-gen", "apiserver"],
        doc: "An extra column in `kubectl get` tables. Values may be quoted (`\"…\"`, `` `…` ``); an optional key given as `\"\"` (controller-gen's `description=\"\"`) is left out.",
    },
    TagSpec {
        key: TagKey::Scale,
        name: "scale",
        places: &[Type],
        grammar: Grammar::KeyValues {
            keys: &[
                "specReplicasPath",
                "statusReplicasPath",
                "labelSelectorPath",
            ],
            required: &["specReplicasPath", "statusReplicasPath"],
        },
        repeatable: false,
        consumers: &["model", "register-gen", "apiserver"],
        doc: "Serve the `scale` subresource (`autoscaling/v1` `Scale`, for `kubectl scale` and autoscalers), as a CRD's `subresources.scale`: `specReplicasPath=.spec.replicas,statusReplicasPath=.status.replicas,labelSelectorPath=.status.selector`. Paths name integer fields under `.spec` and `.status`; the selector is a string or a `LabelSelector`.",
    },
    TagSpec {
        key: TagKey::DeepcopyGen,
        name: "k8s:deepcopy-gen",
        places: &[Package, Type],
        // `package,register`: what Go's deepcopy-gen also accepts (its registration half is
        // register-gen's work here).
        grammar: Grammar::OneOf(&["package", "package,register", "true", "false"]),
        repeatable: false,
        consumers: &["deepcopy-gen"],
        doc: "Opt a package or type in or out of deep-copy checks (default: on).",
    },
    TagSpec {
        key: TagKey::RegisterGen,
        name: "k8s:register-gen",
        places: &[Package],
        grammar: Grammar::OneOf(&["true", "false"]),
        repeatable: false,
        consumers: &["register-gen"],
        doc: "`false` opts the package out of register/codec generation.",
    },
    TagSpec {
        key: TagKey::ClientGen,
        name: "k8s:client-gen",
        places: &[Package],
        grammar: Grammar::OneOf(&["true", "false"]),
        repeatable: false,
        consumers: &["client-gen"],
        doc: "`false` opts the package out of client generation.",
    },
    TagSpec {
        key: TagKey::ListerGen,
        name: "k8s:lister-gen",
        places: &[Package],
        grammar: Grammar::OneOf(&["true", "false"]),
        repeatable: false,
        consumers: &["lister-gen"],
        doc: "`false` opts the package out of lister generation.",
    },
    TagSpec {
        key: TagKey::InformerGen,
        name: "k8s:informer-gen",
        places: &[Package],
        grammar: Grammar::OneOf(&["true", "false"]),
        repeatable: false,
        consumers: &["informer-gen"],
        doc: "`false` opts the package out of informer generation.",
    },
    TagSpec {
        key: TagKey::DefaulterGen,
        name: "k8s:defaulter-gen",
        places: &[Package, Type],
        grammar: Grammar::OneOf(&["TypeMeta", "true", "false", "covers"]),
        repeatable: false,
        consumers: &["defaulter-gen"],
        doc: "Which types get `set_object_defaults` (Go's meaning).",
    },
    TagSpec {
        key: TagKey::ConversionGen,
        name: "k8s:conversion-gen",
        places: &[Package, Type, Field],
        grammar: Grammar::RustPathOrFalse,
        repeatable: false,
        consumers: &["conversion-gen"],
        doc: "On a package: the hub module this version converts through. `false` opts out.",
    },
    TagSpec {
        key: TagKey::OpenapiGen,
        name: "k8s:openapi-gen",
        places: &[Package, Type, Field],
        grammar: Grammar::OneOf(&["true", "false"]),
        repeatable: false,
        consumers: &["openapi-gen"],
        doc: "Opt in or out of OpenAPI definitions.",
    },
    TagSpec {
        key: TagKey::Default,
        name: "default",
        places: &[Field],
        grammar: Grammar::Json,
        repeatable: false,
        consumers: &["defaulter-gen", "openapi-gen"],
        doc: "Default value, as JSON (`+default=\"normal\"`).",
    },
    TagSpec {
        key: TagKey::Optional,
        name: "optional",
        places: &[Field],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["openapi-gen"],
        doc: "The field is not required in OpenAPI (an `Option` is optional anyway).",
    },
    TagSpec {
        key: TagKey::Required,
        name: "required",
        places: &[Field],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["openapi-gen"],
        doc: "The field is required in OpenAPI.",
    },
    TagSpec {
        key: TagKey::Enum,
        name: "enum",
        places: &[Type],
        grammar: Grammar::Flag,
        repeatable: false,
        consumers: &["openapi-gen"],
        doc: "A string enum: OpenAPI lists its values.",
    },
    TagSpec {
        key: TagKey::ListType,
        name: "listType",
        places: &[Field],
        grammar: Grammar::OneOf(&["atomic", "set", "map"]),
        repeatable: false,
        consumers: &["openapi-gen", "apiserver"],
        doc: "`x-kubernetes-list-type`; `map` needs `+listMapKey`; a `set` holds scalars only.",
    },
    TagSpec {
        key: TagKey::ListMapKey,
        name: "listMapKey",
        places: &[Field],
        grammar: Grammar::Identifier,
        repeatable: true,
        consumers: &["openapi-gen", "apiserver"],
        doc: "`x-kubernetes-list-map-keys`: a key field of a `+listType=map` list.",
    },
    TagSpec {
        key: TagKey::MapType,
        name: "mapType",
        places: &[Field],
        grammar: Grammar::OneOf(&["atomic", "granular"]),
        repeatable: false,
        consumers: &["openapi-gen", "apiserver"],
        doc: "`x-kubernetes-map-type`.",
    },
    TagSpec {
        key: TagKey::StructType,
        name: "structType",
        places: &[Field, Type],
        grammar: Grammar::OneOf(&["atomic", "granular"]),
        repeatable: false,
        consumers: &["openapi-gen", "apiserver"],
        doc: "`x-kubernetes-map-type` of a struct.",
    },
    TagSpec {
        key: TagKey::PatchStrategy,
        name: "patchStrategy",
        places: &[Field],
        grammar: Grammar::SubsetOf(&["merge", "retainKeys", "replace"]),
        repeatable: false,
        consumers: &["openapi-gen", "apiserver"],
        doc: "Strategic-merge-patch strategy of a list or map.",
    },
    TagSpec {
        key: TagKey::PatchMergeKey,
        name: "patchMergeKey",
        places: &[Field],
        grammar: Grammar::Identifier,
        repeatable: false,
        consumers: &["openapi-gen", "apiserver"],
        doc: "Strategic-merge-patch merge key of a list of objects.",
    },
    TagSpec {
        key: TagKey::ProtobufGen,
        name: "k8s:protobuf-gen",
        places: &[Package, Type],
        grammar: Grammar::OneOf(&["package", "false"]),
        repeatable: false,
        consumers: &["protobuf-gen"],
        doc: "`package` gives the package's types protobuf messages (`generated.proto`); `false` leaves a type out.",
    },
    TagSpec {
        key: TagKey::Protobuf,
        name: "protobuf",
        places: &[Field],
        grammar: Grammar::FieldNumber,
        repeatable: false,
        consumers: &["protobuf-gen"],
        doc: "The field's protobuf number, fixed by hand (otherwise numbers are assigned once and kept by `generated.proto`).",
    },
];

pub fn spec(name: &str) -> Option<&'static TagSpec> {
    TAGS.iter().find(|t| t.name == name)
}

/// A tag as written in a doc comment: `+name[=value]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawTag {
    /// The full name, sub-tags included (`genclient:nonNamespaced`).
    pub name: String,
    pub value: Option<String>,
    pub span: Span,
    /// Written with blanks after the `+` (`+ genclient`): reported (W0122), not read.
    pub spaced: bool,
}

/// A tag that passed the spec: known, in its place, its value parsed by its grammar.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub key: TagKey,
    pub value: TagValue,
    pub span: Span,
}

impl Tag {
    pub fn name(&self) -> &'static str {
        TAGS.iter()
            .find(|s| s.key == self.key)
            .map_or("?", |s| s.name)
    }
}

/// A tag value parsed by its [`Grammar`].
#[derive(Clone, Debug, PartialEq)]
pub enum TagValue {
    /// [`Grammar::Flag`].
    Flag,
    /// [`Grammar::OneOf`]: the word, from the grammar's own list.
    Word(&'static str),
    /// [`Grammar::SubsetOf`]: the words, from the grammar's list, in the order written.
    Words(Vec<&'static str>),
    /// [`Grammar::DnsSubdomain`], [`Grammar::DnsLabel`], [`Grammar::Identifier`].
    Text(String),
    /// [`Grammar::DnsLabels`].
    Texts(Vec<String>),
    /// [`Grammar::KeyValues`]: each key from the grammar's list, with its value.
    Pairs(Vec<(&'static str, String)>),
    /// [`Grammar::Json`].
    Json(serde_json::Value),
    /// [`Grammar::RustPathOrFalse`], a path.
    Path(RustPath),
    /// [`Grammar::RustPathOrFalse`], `false`.
    False,
    /// [`Grammar::FieldNumber`].
    Number(u32),
}

impl TagValue {
    /// The value of `key` among [`TagValue::Pairs`].
    pub fn pair(&self, key: &str) -> Option<&str> {
        match self {
            TagValue::Pairs(pairs) => pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

/// Splits doc lines into description lines and raw tags. `lines` are `(text, span of the text)`.
/// Lines of a fenced code block (a diff or a YAML example in the docs) are description, never
/// tags.
pub fn split_docs(lines: &[(String, Span)]) -> (Vec<String>, Vec<RawTag>) {
    let mut docs = Vec::new();
    let mut tags = Vec::new();
    let fenced = fenced_lines(lines);
    for ((text, span), fenced) in lines.iter().zip(fenced) {
        let trimmed = text.trim_start();
        let is_tag = !fenced
            && trimmed.starts_with('+')
            && trimmed[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic());
        let spaced = !fenced && !is_tag && is_spaced_tag(trimmed);
        if !is_tag && !spaced {
            docs.push(
                text.strip_prefix(' ')
                    .unwrap_or(text)
                    .trim_end()
                    .to_string(),
            );
            continue;
        }
        let body = trimmed[1..].trim();
        let lead = text.len() - trimmed.len();
        let tag_span = Span::new(
            span.file,
            span.start + lead,
            span.start + lead + trimmed.trim_end().len(),
        );
        let (mut name, mut value) = match body.split_once('=') {
            // `+mapType:=atomic`: the `:=` some markers are written with is `=`.
            Some((n, v)) => (n.trim().trim_end_matches(':'), Some(v.trim().to_string())),
            None => (body, None),
        };
        // `+printcolumn:name=Sent,type=boolean`: a key-value tag whose first key follows a colon.
        if spec(name).is_none()
            && let Some(kv) = TAGS.iter().find(|s| {
                matches!(s.grammar, Grammar::KeyValues { .. })
                    && body.starts_with(s.name)
                    && body[s.name.len()..].starts_with(':')
            })
        {
            name = kv.name;
            value = Some(body[kv.name.len() + 1..].trim().to_string());
        }
        tags.push(RawTag {
            name: name.to_string(),
            value,
            span: tag_span,
            spaced,
        });
    }
    // Blank lines at the ends of a description carry no meaning.
    while docs.last().is_some_and(|l| l.is_empty()) {
        docs.pop();
    }
    while docs.first().is_some_and(|l| l.is_empty()) {
        docs.remove(0);
    }
    (docs, tags)
}

/// `+ genclient`, `+  groupName=example.com`: a line that is a known tag but for the blanks
/// after its `+` (a Markdown list item starting with `+` goes on with words, and is left alone).
fn is_spaced_tag(trimmed: &str) -> bool {
    let Some(rest) = trimmed.strip_prefix('+') else {
        return false;
    };
    if !rest.starts_with([' ', '\t']) {
        return false;
    }
    let rest = rest.trim();
    let name = match rest.split_once('=') {
        Some((n, _)) => n.trim_end_matches(':'),
        None => rest,
    };
    let well_formed = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_' | '/'));
    well_formed
        && (spec(name).is_some() || TAGS.iter().any(|s| name.split(':').next() == Some(s.name)))
}

/// Which lines belong to a fenced code block (its fences included). A fence left open is not
/// one: tags after a stray ```` ``` ```` are still read.
fn fenced_lines(lines: &[(String, Span)]) -> Vec<bool> {
    let mut fenced = vec![false; lines.len()];
    let mut open: Option<(usize, &str)> = None;
    for (i, (text, _)) in lines.iter().enumerate() {
        let trimmed = text.trim_start();
        let Some(mark) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) else {
            continue;
        };
        match open {
            None => open = Some((i, mark)),
            Some((start, m)) if m == mark => {
                fenced[start..=i].fill(true);
                open = None;
            }
            Some(_) => {}
        }
    }
    fenced
}

/// Checks tags found at `place`: known name, right place, value grammar, no duplicates.
/// Returns the tags that passed, their values parsed.
pub fn check(tags: Vec<RawTag>, place: Place, diags: &mut Vec<Diagnostic>) -> Vec<Tag> {
    let mut ok: Vec<Tag> = Vec::with_capacity(tags.len());
    for tag in tags {
        if tag.spaced {
            diags.push(
                Diagnostic::warning(
                    "W0122",
                    format!(
                        "`+ {}` is not read as a tag: blanks follow the `+`",
                        tag.name
                    ),
                )
                .at(tag.span, "a blank after `+`")
                .help(format!(
                    "write `+{}` (no blank after `+`) to have it read",
                    tag.name
                )),
            );
            continue;
        }
        let Some(spec) = spec(&tag.name) else {
            diags.push(foreign(&tag).unwrap_or_else(|| unknown(&tag, place)));
            continue;
        };
        if !spec.places.contains(&place) {
            let places: Vec<&str> = spec.places.iter().map(|p| p.describe()).collect();
            let mut d = Diagnostic::error(
                "E0102",
                format!("tag `+{}` is not allowed on {}", tag.name, place.describe()),
            )
            .at(tag.span, format!("misplaced on a {}", place.short()))
            .help(format!(
                "`+{}` belongs on {}: move it there",
                tag.name,
                places.join(" or ")
            ));
            if place == Place::Alias {
                d = d.note("an alias is replaced by its target wherever it is used: nothing it carries is read");
                if tag.name == "enum" {
                    d = d.note("Go's string type with constants (`type Phase string`) is a Rust `enum` of unit variants here, deriving serde, with `#[serde(rename = \"…\")]` where a value is not the variant's name");
                }
            }
            diags.push(d);
            continue;
        }
        let value = match parse_value(spec.grammar, tag.value.as_deref()) {
            Ok(v) => v,
            Err(why) => {
                let mut d = bad_value(spec, tag.span, &why);
                // A `types.go` port keeps Go's import path (`k8s.io/…/apis/wardle`).
                if matches!(spec.grammar, Grammar::RustPathOrFalse)
                    && tag.value.as_deref().is_some_and(|v| v.contains('/'))
                {
                    d = d.note(
                        "that is a Go import path: name the module as Rust does, e.g. `super` \
                         for the group's hub above a version, or `crate::apis::wardle`",
                    );
                }
                // Go's core group (`// +groupName=` in k8s.io/api/core/v1).
                if spec.key == TagKey::GroupName && tag.value.as_deref().is_none_or(str::is_empty) {
                    d = d.note(
                        "the empty (core) group is Kubernetes' own (pods, services, …): \
                         types served by an aggregated API server or as CRDs live in a named \
                         group, a DNS subdomain such as `pager.k8s.co`",
                    );
                }
                diags.push(d);
                continue;
            }
        };
        if !spec.repeatable
            && let Some(first) = ok.iter().find(|t| t.key == spec.key)
        {
            // The same tag again says nothing new (a commented-out field's doc lines run into
            // the next field's, as in Go sources; gengo reads both): a warning, the first kept.
            let same = first.value == value;
            diags.push(if same {
                Diagnostic::warning("W0106", format!("tag `+{}` is given twice", tag.name))
                    .at(tag.span, "the same tag again")
                    .also(first.span, "first given here")
                    .help("remove one of them (both say the same: the first is read)")
            } else {
                Diagnostic::error("E0104", format!("tag `+{}` is given twice", tag.name))
                    .at(tag.span, "second occurrence, with another value")
                    .also(first.span, "first given here")
                    .help("remove one of them")
            });
            continue;
        }
        ok.push(Tag {
            key: spec.key,
            value,
            span: tag.span,
        });
    }
    ok
}

/// E0103 for a value that does not fit the tag (its grammar, or what the model makes of it).
pub fn bad_value(spec: &TagSpec, span: Span, why: &str) -> Diagnostic {
    Diagnostic::error(
        "E0103",
        format!("bad value for tag `+{}`: {why}", spec.name),
    )
    .at(span, "invalid value")
    .help(format!(
        "the value of `+{}` is: {}",
        spec.name,
        spec.grammar.describe()
    ))
}

/// The spec row of a key.
pub fn spec_of(key: TagKey) -> &'static TagSpec {
    TAGS.iter()
        .find(|s| s.key == key)
        .expect("every TagKey has a row in TAGS")
}

fn unknown(tag: &RawTag, place: Place) -> Diagnostic {
    let d = Diagnostic::error("E0101", format!("unknown tag `+{}`", tag.name))
        .at(tag.span, "not a kube-codegen tag");
    // Prefer names valid here, then any name.
    let best = TAGS
        .iter()
        .map(|s| {
            let score =
                strsim::jaro_winkler(&tag.name.to_ascii_lowercase(), &s.name.to_ascii_lowercase());
            (
                score + if s.places.contains(&place) { 0.05 } else { 0.0 },
                s.name,
            )
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, name)) if score > 0.8 => d.help(format!("did you mean `+{name}`?")),
        _ => d.help("see the tag table in the README for the tags kube-codegen understands"),
    }
}

/// Markers of other tools that types ported from Go carry (controller-gen's kubebuilder
/// markers, the Go code-generators kube-codegen has no counterpart for, kube-openapi's and
/// validation-gen's validation markers, OLM's and OpenShift's): ignored as Go's code-generator
/// ignores them, with a warning naming the tool and kube-codegen's equivalent where there is
/// one. `None` for anything else: an unknown tag (a typo of ours, most likely).
/// Another tool's marker (`+kubebuilder:…`) written at `span` as `body` (`+name=value`, the
/// `+` included): W0116, the diagnostic a doc comment would get. `None` for anything else.
pub(crate) fn foreign_marker(body: &str, span: Span) -> Option<Diagnostic> {
    let body = body.strip_prefix('+')?.trim_end();
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n.trim().trim_end_matches(':'), Some(v.trim().to_string())),
        None => (body, None),
    };
    foreign(&RawTag {
        name: name.to_string(),
        value,
        span,
        spaced: false,
    })
}

fn foreign(tag: &RawTag) -> Option<Diagnostic> {
    let name = tag.name.as_str();
    let value = tag.value.as_deref().unwrap_or_default();
    const VALIDATION: &str = "kube-codegen does not write it into OpenAPI: enforce it in the \
                              resource's strategy (`validate`), or remove the marker";
    let (tool, equivalent): (&str, Option<String>) = if let Some(marker) =
        name.strip_prefix("kubebuilder:")
    {
        let equivalent = match marker {
            "printcolumn" | "printcolumn:name" => Some(
                "`+printcolumn:name=…,type=…,jsonPath=…` (`JSONPath` is spelled `jsonPath`)".into(),
            ),
            "default" => Some(match controller_gen_value(value) {
                Some(json) => format!("`+default={json}`"),
                None => format!("`+default={value}` rewritten as JSON"),
            }),
            "validation:Optional" => Some("`+optional`".into()),
            "validation:Required" => Some("`+required`".into()),
            "validation:Enum" => Some("a Rust `enum` of unit variants (OpenAPI lists them)".into()),
            "validation:XPreserveUnknownFields" | "pruning:PreserveUnknownFields" => {
                Some("a `serde_json::Value` field (any JSON, kept as sent)".into())
            }
            "subresource:status" => {
                Some("a `status` field on the kind (it gets the status subresource)".into())
            }
            "object:root" => Some("a struct with a `metadata: ObjectMeta` field is a kind".into()),
            "object:generate" => Some(
                "deepcopy-gen runs for every type (`+k8s:deepcopy-gen=false` to skip one)".into(),
            ),
            "resource"
            | "resource:path"
            | "resource:shortName"
            | "resource:scope"
            | "resource:categories"
            | "resource:singular" => Some(
                "`+resourceName=…`, `+shortName=a,b`, `+categories=…`, and \
                 `+genclient:nonNamespaced` for `scope=Cluster`"
                    .into(),
            ),
            "storageversion" => Some(
                "the API server's storage version (`ApiServerBuilder`, `--storage-version`)".into(),
            ),
            m if m.starts_with("validation:") => Some(VALIDATION.into()),
            _ => None,
        };
        ("controller-gen (a kubebuilder marker)", equivalent)
    } else if name.starts_with("k8s:deepcopy-gen:interfaces")
        || name.starts_with("k8s:deepcopy-gen:nonpointer-interfaces")
    {
        (
            "Go's deepcopy-gen (Go interfaces)",
            Some("none needed: a kind implements the runtime's traits (`Resource`, `Kind`) through register-gen".into()),
        )
    } else if name.starts_with("k8s:prerelease-lifecycle-gen") {
        ("Go's prerelease-lifecycle-gen", None)
    } else if name == "k8s:openapi-model-package" {
        (
            "Go's openapi-gen (model package names)",
            Some(
                "none needed: definition names come from the group (`+groupName`) and version"
                    .into(),
            ),
        )
    } else if name.starts_with("gencrdrefdocs") || name.starts_with("crd-ref-docs") {
        ("an API reference documentation generator", None)
    } else if name.starts_with("k8s:conversion-fn")
        || name.starts_with("k8s:conversion-gen-external-types")
        || name.starts_with("k8s:conversion-gen:explicit-from")
    {
        (
            "Go's conversion-gen",
            Some("a hand-written `convert_<type>_to_hub`/`convert_<type>_from_hub` function (conversion-gen finds it by name), or `+k8s:conversion-gen=false` on the field".into()),
        )
    } else if name.starts_with("k8s:validation:") || name == "nullable" {
        (
            "kube-openapi's openapi-gen (a validation marker)",
            Some(VALIDATION.into()),
        )
    } else if is_validation_gen(name) {
        (
            "Go's validation-gen (declarative validation)",
            Some(VALIDATION.into()),
        )
    } else if matches!(name, "union" | "unionDiscriminator" | "unionMember") {
        ("kube-openapi's openapi-gen (unions)", None)
    } else if name == "featureGate" {
        ("Kubernetes' feature gates", None)
    } else if name == "versionName" {
        (
            "controller-gen (a package marker)",
            Some("none needed: the version is the package's directory name".into()),
        )
    } else if name == "immutable" {
        (
            "Crossplane's API tooling (immutable fields)",
            Some(VALIDATION.into()),
        )
    } else if name == "groupGoName" {
        (
            "Go's client-gen (a Go identifier)",
            Some("none needed: Rust names come from the module path".into()),
        )
    } else if name.starts_with("protobuf.") {
        ("Go's go-to-protobuf", None)
    } else if name.starts_with("operator-sdk:") {
        ("operator-sdk (OLM's CSV)", None)
    } else if name.starts_with("openshift:") {
        ("OpenShift's API tooling", None)
    } else {
        return None;
    };
    // Each default is a value of its own to carry over: say which (a file's repeats of one
    // message are collapsed into one diagnostic).
    let shown = match name {
        "kubebuilder:default" => format!("`+{name}={value}` is ignored"),
        _ => format!("`+{name}` is ignored"),
    };
    let d = Diagnostic::warning("W0116", shown)
        .at(tag.span, format!("read by {tool}, not kube-codegen"))
        .note("kube-codegen generates from its own tags, as Go's code-generator ignores other tools' markers");
    Some(match equivalent {
        Some(e) if e == VALIDATION => d.help(e),
        Some(e) => d.help(format!("kube-codegen's equivalent: {e}")),
        None => d.help("kube-codegen has no counterpart: remove the marker to silence this"),
    })
}

/// A controller-gen marker value (`generic`, `"a b"`, `3`, `true`, `{a,b}`, `{key: value}`,
/// nested) as the JSON it stands for; `None` when it does not read as one.
fn controller_gen_value(value: &str) -> Option<String> {
    fn convert(v: &str) -> Option<serde_json::Value> {
        let v = v.trim();
        if let Some(inner) = v.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            let parts = split_top_level(inner, ',')?;
            let parts: Vec<&str> = parts.into_iter().filter(|p| !p.trim().is_empty()).collect();
            let pairs: Option<Vec<(&str, &str)>> = parts
                .iter()
                .map(|p| {
                    split_top_level(p, ':')
                        .filter(|kv| kv.len() == 2)
                        .map(|kv| (kv[0], kv[1]))
                })
                .collect();
            return match pairs {
                Some(pairs) if !pairs.is_empty() || parts.is_empty() => {
                    let mut map = serde_json::Map::new();
                    for (k, val) in pairs {
                        map.insert(unquote(k.trim()), convert(val)?);
                    }
                    Some(serde_json::Value::Object(map))
                }
                _ => parts
                    .iter()
                    .map(|p| convert(p))
                    .collect::<Option<Vec<_>>>()
                    .map(serde_json::Value::Array),
            };
        }
        if v.is_empty() || v.contains(['{', '}']) {
            return None;
        }
        if (v.starts_with('"') && v.ends_with('"') && v.len() >= 2)
            || (v.starts_with('`') && v.ends_with('`') && v.len() >= 2)
        {
            return Some(serde_json::Value::String(unquote(v)));
        }
        match serde_json::from_str::<serde_json::Value>(v) {
            Ok(json @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => Some(json),
            _ => Some(serde_json::Value::String(v.to_string())),
        }
    }
    // Already JSON (`1`, `"x"`, `{"a":1}`, `[1]`): as written.
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(value.trim()) {
        return Some(json.to_string());
    }
    convert(value).map(|json| json.to_string())
}

/// `s` split at `sep` outside quotes and braces; `None` when a quote or brace is left open.
fn split_top_level(s: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 0);
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => depth = depth.checked_sub(1)?,
            (None, c) if c == sep && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if quote.is_some() || depth != 0 {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

/// Go's validation-gen markers (declarative validation, Kubernetes 1.33+): `+k8s:minimum=0`,
/// `+k8s:maxLength=…`, `+k8s:eachVal=…`, ….
fn is_validation_gen(name: &str) -> bool {
    const MARKERS: &[&str] = &[
        "alpha",
        "beta",
        "declarativeValidationNative",
        "eachKey",
        "eachVal",
        "enum",
        "forbidden",
        "format",
        "ifDisabled",
        "ifEnabled",
        "ifOptionDisabled",
        "ifOptionEnabled",
        "immutable",
        "item",
        "listMapKey",
        "listType",
        "maxBytes",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "neq",
        "opaqueType",
        "optional",
        "required",
        "subfield",
        "supportsSubresource",
        "unionDiscriminator",
        "unionMember",
        "validation-gen",
        "zeroOrOneOfMember",
    ];
    name.strip_prefix("k8s:").is_some_and(|rest| {
        let marker = rest.split([':', '(']).next().unwrap_or_default();
        MARKERS.contains(&marker)
    })
}

fn parse_value(grammar: Grammar, value: Option<&str>) -> Result<TagValue, String> {
    let need = |v: Option<&str>| -> Result<String, String> {
        match v {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => Err("a value is required".into()),
        }
    };
    let word = |words: &'static [&'static str], w: &str| -> Result<&'static str, String> {
        words.iter().copied().find(|x| *x == w).ok_or_else(|| {
            let listed: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
            format!("`{w}` is not one of {}", listed.join(", "))
        })
    };
    match grammar {
        Grammar::Flag => match value {
            None => Ok(TagValue::Flag),
            Some(v) => Err(format!("takes no value, got `{v}`")),
        },
        Grammar::OneOf(words) => Ok(TagValue::Word(word(words, &need(value)?)?)),
        Grammar::SubsetOf(words) => {
            let v = need(value)?;
            let mut out: Vec<&'static str> = Vec::new();
            for w in v.split(',').map(str::trim) {
                let w = word(words, w)?;
                if out.contains(&w) {
                    return Err(format!("`{w}` is listed twice"));
                }
                out.push(w);
            }
            Ok(TagValue::Words(out))
        }
        Grammar::DnsSubdomain => {
            let v = need(value)?;
            if crate::naming::is_dns_subdomain(&v) {
                Ok(TagValue::Text(v))
            } else {
                Err(format!("`{v}` is not a lower-case DNS subdomain"))
            }
        }
        Grammar::DnsLabel => {
            let v = need(value)?;
            if crate::naming::is_dns_label(&v) {
                Ok(TagValue::Text(v))
            } else {
                Err(format!("`{v}` is not a lower-case DNS label"))
            }
        }
        Grammar::DnsLabels => {
            let v = need(value)?;
            let labels: Vec<String> = v.split(',').map(|l| l.trim().to_string()).collect();
            if let Some(bad) = labels.iter().find(|l| !crate::naming::is_dns_label(l)) {
                return Err(format!("`{bad}` is not a lower-case DNS label"));
            }
            match labels
                .iter()
                .enumerate()
                .find(|(i, l)| labels[..*i].contains(l))
            {
                Some((_, twice)) => Err(format!("`{twice}` is listed twice")),
                None => Ok(TagValue::Texts(labels)),
            }
        }
        Grammar::KeyValues { keys, required } => {
            let v = need(value)?;
            let mut pairs: Vec<(&'static str, String)> = Vec::new();
            let mut seen: Vec<&'static str> = Vec::new();
            for (k, written, val) in key_values(&v)? {
                let Some(key) = keys.iter().copied().find(|x| *x == k) else {
                    return Err(format!("unknown key `{k}` (keys: {})", keys.join(", ")));
                };
                if seen.contains(&key) {
                    return Err(format!("`{key}=` is given twice"));
                }
                seen.push(key);
                if written.is_empty() {
                    return Err(format!("`{key}=` has no value"));
                }
                // An explicitly empty optional value (`description=""`, as controller-gen's
                // printcolumns often carry) is the same as leaving the key out.
                if val.is_empty() {
                    if required.contains(&key) {
                        return Err(format!("`{key}=` is empty"));
                    }
                    continue;
                }
                pairs.push((key, val));
            }
            for r in required {
                if !pairs.iter().any(|(k, _)| k == r) {
                    return Err(format!("missing `{r}=`"));
                }
            }
            Ok(TagValue::Pairs(pairs))
        }
        Grammar::Json => {
            let v = need(value)?;
            // The span already shows the value: a long one is echoed by its ends.
            let shown = elided(&v);
            let parsed = serde_json::from_str::<serde_json::Value>(&v).map_err(|e| {
                // Something meant as JSON (a number, an object, ...) is told what is wrong with
                // it; a bare word most likely wants quotes.
                if v.starts_with(|c: char| c.is_ascii_digit() || "-{[\"".contains(c)) {
                    format!("`{shown}` is not a JSON value: {e}")
                } else {
                    format!("`{shown}` is not a JSON value (quote strings: `\"{shown}\"`)")
                }
            })?;
            // serde_json keeps the last of two equal keys: a value written twice is a mistake
            // that would otherwise be dropped without a word.
            serde_json::from_str::<json_keys::Unique>(&v).map_err(|e| format!("`{shown}`: {e}"))?;
            Ok(TagValue::Json(parsed))
        }
        Grammar::RustPathOrFalse => {
            let v = need(value)?;
            if v == "false" {
                Ok(TagValue::False)
            } else {
                RustPath::parse(&v).map(TagValue::Path)
            }
        }
        Grammar::Identifier => {
            let v = need(value)?;
            if crate::naming::is_rust_ident(&v) {
                Ok(TagValue::Text(v))
            } else {
                Err(format!("`{v}` is not a field name"))
            }
        }
        Grammar::FieldNumber => {
            let v = need(value)?;
            match v.parse::<u32>() {
                Ok(n) if (19000..=19999).contains(&n) => Err(format!(
                    "{n} is in 19000–19999, which protobuf reserves for itself"
                )),
                Ok(n @ 1..=536_870_911) => Ok(TagValue::Number(n)),
                _ => Err(format!(
                    "`{v}` is not a protobuf field number (1 to 536870911)"
                )),
            }
        }
    }
}

/// `a=1,b=two` → pairs. A value may be quoted, as kubebuilder markers are: `"…"` (with `\"` and
/// `\\` escapes) or `` `…` `` (raw), and then hold commas. A leading item without `=` is the
/// `name` (Go's `+genclient:method=GetScale,verb=get`).
pub fn parse_key_values(v: &str) -> Result<Vec<(String, String)>, String> {
    Ok(key_values(v)?
        .into_iter()
        .map(|(k, _, value)| (k, value))
        .collect())
}

/// [`parse_key_values`] with each value also as written (quotes and all): `key=` has nothing
/// written, `key=""` an empty value.
fn key_values(v: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        let part = parts.last_mut().expect("one part at least");
        match (quote, c) {
            (Some('"'), '\\') => {
                part.push(c);
                part.extend(chars.next());
            }
            (Some(q), c) if c == q => {
                quote = None;
                part.push(c);
            }
            (None, '"' | '`') => {
                quote = Some(c);
                part.push(c);
            }
            (None, ',') => parts.push(String::new()),
            _ => part.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("a value opened with {q} is never closed"));
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| match part.split_once('=') {
            Some((k, v)) => Ok((
                k.trim().to_string(),
                v.trim().to_string(),
                unquote(v.trim()),
            )),
            None if i == 0 && !part.trim().is_empty() => Ok((
                "name".to_string(),
                part.trim().to_string(),
                part.trim().to_string(),
            )),
            None => Err(format!("`{part}` is not `key=value`")),
        })
        .collect()
}

/// A value without its quotes: `"…"` unescaped, `` `…` `` as written, anything else as is.
fn unquote(v: &str) -> String {
    if let Some(raw) = v.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return raw.to_string();
    }
    let Some(quoted) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The README's tag table, rendered from [`TAGS`].
pub fn markdown_table() -> String {
    let mut out =
        String::from("| Tag | Where | Value | Read by | Meaning |\n|---|---|---|---|---|\n");
    for t in TAGS {
        let places: Vec<&str> = t.places.iter().map(|p| p.short()).collect();
        out.push_str(&format!(
            "| `+{}` | {} | {} | {} | {} |\n",
            t.name,
            places.join(", "),
            t.grammar.describe(),
            t.consumers.join(", "),
            t.doc.replace('|', "\\|")
        ));
    }
    out
}

/// A JSON value read only to refuse an object that gives one key twice.
mod json_keys {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    pub(super) struct Unique;

    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(UniqueVisitor)
        }
    }

    struct UniqueVisitor;

    impl<'de> Visitor<'de> for UniqueVisitor {
        type Value = Unique;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
            let mut seen = std::collections::BTreeSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(format!(
                        "the key \"{key}\" is given twice"
                    )));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }
}

/// `text`, or its first and last 40 characters around `…` when it is longer than 100.
fn elided(text: &str) -> std::borrow::Cow<'_, str> {
    const ENDS: usize = 40;
    let count = text.chars().count();
    if count <= 100 {
        return text.into();
    }
    let head: String = text.chars().take(ENDS).collect();
    let tail: String = text.chars().skip(count - ENDS).collect();
    format!("{head}…{tail}").into()
}

#[cfg(test)]
mod tests {
    /// Lines of a fenced block in the docs are description; a fence never closed is not one.
    #[test]
    fn fenced_code_blocks_hold_no_tags() {
        let span = crate::diag::Span::new(crate::diag::FileId(0), 0, 0);
        let lines = |text: &str| -> Vec<(String, crate::diag::Span)> {
            text.lines().map(|l| (format!(" {l}"), span)).collect()
        };
        let (docs, tags) = super::split_docs(&lines(
            "Widget.\n```diff\n+replicas: 3\n```\n~~~\n+k8s:foo\n~~~\n+optional",
        ));
        assert_eq!(
            docs,
            [
                "Widget.",
                "```diff",
                "+replicas: 3",
                "```",
                "~~~",
                "+k8s:foo",
                "~~~"
            ]
        );
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["optional"]);
        let (_, tags) = super::split_docs(&lines("Widget.\n```\n+optional"));
        assert_eq!(tags.len(), 1, "an unclosed fence hides nothing");
    }

    /// The value is under the diagnostic's caret already: a long one is echoed by its ends.
    #[test]
    fn a_long_invalid_json_value_is_echoed_by_its_ends() {
        let long = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let Err(why) = super::parse_value(super::Grammar::Json, Some(&long)) else {
            panic!("5,000 nested lists are past serde_json's recursion limit");
        };
        assert!(why.len() < 300, "{why}");
        assert!(why.contains("[[[…]]]"), "{why}");
        assert!(why.contains("recursion limit"), "{why}");
        let Err(why) = super::parse_value(super::Grammar::Json, Some("{nope")) else {
            panic!("not JSON");
        };
        assert!(why.starts_with("`{nope` is not a JSON value"), "{why}");
    }

    #[test]
    fn verb_grammar_is_the_verb_enum() {
        let names: Vec<&str> = crate::model::Verb::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(super::VERBS, names.as_slice());
    }

    #[test]
    fn key_values_may_be_quoted() {
        let kv = super::parse_key_values(
            r#"name=Ready,type=string,jsonPath=`.status.conditions[?(@.type=="Ready")].status`,description="Desired pods, in total \"now\"",priority=1"#,
        )
        .unwrap();
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("jsonPath"),
            Some(r#".status.conditions[?(@.type=="Ready")].status"#)
        );
        assert_eq!(get("description"), Some(r#"Desired pods, in total "now""#));
        assert_eq!(get("priority"), Some("1"));
        assert_eq!(
            super::parse_key_values(r#"name=A,description="open"#).unwrap_err(),
            "a value opened with \" is never closed"
        );
        assert_eq!(
            super::parse_key_values("GetScale,verb=get").unwrap()[0],
            ("name".to_string(), "GetScale".to_string())
        );
    }

    #[test]
    fn controller_gen_values_become_json() {
        let json = |v: &str| super::controller_gen_value(v);
        assert_eq!(json("generic").as_deref(), Some(r#""generic""#));
        assert_eq!(json("*").as_deref(), Some(r#""*""#));
        assert_eq!(json(r#""a b""#).as_deref(), Some(r#""a b""#));
        assert_eq!(json("3").as_deref(), Some("3"));
        assert_eq!(json("true").as_deref(), Some("true"));
        assert_eq!(json(r#"{"a":1}"#).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(json("{}").as_deref(), Some("{}"));
        assert_eq!(
            json(r#"{consolidateAfter: "0s"}"#).as_deref(),
            Some(r#"{"consolidateAfter":"0s"}"#)
        );
        assert_eq!(
            json("{creationPolicy:Owner,deletionPolicy:Retain}").as_deref(),
            Some(r#"{"creationPolicy":"Owner","deletionPolicy":"Retain"}"#)
        );
        assert_eq!(json("{a,b}").as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(
            json("{nodes: \"10%\", reasons: {Empty, Drifted}}").as_deref(),
            Some(r#"{"nodes":"10%","reasons":["Empty","Drifted"]}"#)
        );
        assert_eq!(json("{a: 1"), None);
    }

    #[test]
    fn an_explicitly_empty_optional_value_is_left_out() {
        use super::{Grammar, TagValue, parse_value};
        let columns = Grammar::KeyValues {
            keys: &["name", "type", "jsonPath", "description"],
            required: &["name", "type", "jsonPath"],
        };
        // controller-gen's printcolumns often carry `description=""`.
        let parsed = parse_value(
            columns,
            Some(r#"name="Age",type="date",jsonPath=".metadata.creationTimestamp",description="""#),
        )
        .unwrap();
        let TagValue::Pairs(pairs) = parsed else {
            panic!("{parsed:?}")
        };
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["name", "type", "jsonPath"]);
        // Nothing written at all is still a mistake, and so is an empty required value.
        assert_eq!(
            parse_value(columns, Some("name=A,type=date,jsonPath=.x,description=")).unwrap_err(),
            "`description=` has no value"
        );
        assert_eq!(
            parse_value(columns, Some(r#"name="",type=date,jsonPath=.x"#)).unwrap_err(),
            "`name=` is empty"
        );
        assert_eq!(
            parse_value(
                columns,
                Some(r#"name=A,type=date,jsonPath=.x,description="",description=b"#)
            )
            .unwrap_err(),
            "`description=` is given twice"
        );
    }

    #[test]
    fn json_values_are_read_whole() {
        use super::{Grammar, parse_value};
        let err = |v: &str| parse_value(Grammar::Json, Some(v)).unwrap_err();
        assert!(err(r#"{"x":1,"x":2}"#).contains(r#"the key "x" is given twice"#));
        assert!(err(r#"[{"a":{"b":1,"b":1}}]"#).contains(r#"the key "b" is given twice"#));
        assert!(err("1e400").contains("out of range"), "{}", err("1e400"));
        assert!(err("hello").contains(r#"quote strings: `"hello"`"#));
        assert!(parse_value(Grammar::Json, Some(r#"{"x":1,"y":{"x":2}}"#)).is_ok());
    }

    #[test]
    fn every_key_has_one_row() {
        for t in super::TAGS {
            assert_eq!(super::spec_of(t.key).name, t.name);
            assert_eq!(super::TAGS.iter().filter(|x| x.key == t.key).count(), 1);
        }
    }
}
