//! openapi-gen on small fixtures: a snapshot of the schemas plus the points kubectl relies on.

use kube_codegen_model::{Input, load};
use serde_json::Value;

fn schemas(types_rs: &str) -> serde_json::Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("apis/pager/v1/types.rs");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, types_rs).unwrap();
    std::fs::write(
        dir.path().join("apis/pager/mod.rs"),
        "//! +groupName=pager.k8s.co\npub mod v1;\n",
    )
    .unwrap();
    let loaded = load(&[Input::new(dir.path().join("apis"))]).unwrap_or_else(|f| panic!("{f}"));
    let pkg = loaded
        .model
        .packages
        .iter()
        .find(|p| p.version.is_some())
        .unwrap();
    openapi_gen::schemas(&loaded.model, pkg)
}

const TYPES: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Alert is a message to be sent to a person.
/// +genclient
/// +genclient:nonNamespaced
#[derive(Clone, Debug, Default)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: AlertSpec,
    pub status: Option<AlertStatus>,
}

/// AlertSpec is what to send.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// The text of the alert.
    /// +required
    pub message: String,
    /// How urgent it is.
    /// +optional
    /// +default="normal"
    pub priority: Option<Priority>,
    /// Who receives it.
    /// +listType=map
    /// +listMapKey=name
    /// +patchStrategy=merge
    /// +patchMergeKey=name
    #[serde(default)]
    pub receivers: Vec<Receiver>,
    /// Budget for retries.
    pub budget: Option<Quantity>,
    /// Port or name.
    pub target: Option<IntOrString>,
    /// Labels to add.
    /// +mapType=granular
    #[serde(default)]
    pub extra: BTreeMap<String, i64>,
    pub not_before: Option<Time>,
    #[serde(skip)]
    pub cache: String,
}

/// Priority of an alert.
/// +enum
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Wake someone up.
    High,
    /// Business hours.
    Normal,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Receiver {
    pub name: String,
    pub weight: f32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AlertStatus {
    #[serde(default)]
    pub sent: bool,
}
"#;

#[test]
fn pager_like_package() {
    let s = schemas(TYPES);
    let alert = &s["co.k8s.pager.v1.Alert"];
    assert_eq!(alert["x-kubernetes-group-version-kind"][0]["kind"], "Alert");
    assert!(alert["properties"]["apiVersion"].is_object());
    assert!(
        alert.get("required").is_none(),
        "defaultable kind fields are optional"
    );
    let list = &s["co.k8s.pager.v1.AlertList"];
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/co.k8s.pager.v1.Alert"
    );
    let spec = &s["co.k8s.pager.v1.AlertSpec"];
    assert_eq!(spec["required"], serde_json::json!(["message"]));
    let receivers = &spec["properties"]["receivers"];
    assert_eq!(receivers["x-kubernetes-list-type"], "map");
    assert_eq!(
        receivers["x-kubernetes-list-map-keys"],
        serde_json::json!(["name"])
    );
    assert_eq!(receivers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(spec["properties"]["priority"]["default"], "normal");
    assert_eq!(spec["properties"]["notBefore"]["format"], "date-time");
    assert_eq!(
        spec["properties"]["target"]["x-kubernetes-int-or-string"],
        true
    );
    assert!(
        spec["properties"].get("cache").is_none(),
        "skipped fields are not on the wire"
    );
    assert_eq!(
        s["co.k8s.pager.v1.Priority"]["enum"],
        serde_json::json!(["high", "normal"])
    );
    assert_eq!(
        s["co.k8s.pager.v1.Receiver"]["required"],
        serde_json::json!(["name", "weight"])
    );
    insta::assert_json_snapshot!(Value::Object(s));
}

/// What serde writes decides the schema of enums and tuple/unit structs.
#[test]
fn schemas_follow_serde_shapes() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub mode: Mode,
    pub shape: Shape,
    pub any: Any,
    pub range: PortRange,
    pub mixed: Mixed,
    pub marker: Option<Marker>,
}

/// Externally tagged with a unit variant: `"Off"` or `{"Fixed": 3}`.
#[derive(Clone, Serialize, Deserialize)]
pub enum Mode {
    Off,
    Fixed(i32),
}

/// Internally tagged: always an object.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Shape {
    Circle { r: i32 },
    Dot,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Any {
    N(i32),
    S(String),
}

#[derive(Clone, Serialize, Deserialize)]
pub struct PortRange(pub i32, pub i32);

#[derive(Clone, Serialize, Deserialize)]
pub struct Mixed(pub i32, pub String);

#[derive(Clone, Serialize, Deserialize)]
pub struct Marker;
"#,
    );
    let def = |n: &str| &s[&format!("co.k8s.pager.v1.{n}")];
    assert!(def("Mode").get("type").is_none(), "{}", def("Mode"));
    assert_eq!(def("Mode")["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(def("Shape")["type"], "object");
    assert!(def("Any").get("type").is_none());
    let range = def("PortRange");
    assert_eq!(range["type"], "array");
    assert_eq!(
        range["items"],
        serde_json::json!({"type": "integer", "format": "int32"})
    );
    assert_eq!(
        (range["minItems"].as_u64(), range["maxItems"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        def("Mixed")["items"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    assert_eq!(def("Marker")["nullable"], true);
}

/// `#[serde(transparent)]` is its field on the wire; types from other crates that serialise as
/// scalars get their scalar schema, and unknown ones no `type` (any JSON value), never a wrong
/// `object` that would make clients refuse a scalar.
#[test]
fn transparent_structs_and_foreign_types() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::num::NonZeroU16;

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub wrapped: Wrapper,
    pub port: NonZeroU16,
    pub big: std::num::NonZeroU64,
    pub addr: IpAddr,
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub other: othercrate::Thing,
    pub values: Option<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON>,
}

/// A count, written as a bare number.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Wrapper {
    pub count: i64,
}
"#,
    );
    let wrapper = &s["co.k8s.pager.v1.Wrapper"];
    assert_eq!(wrapper["type"], "integer", "{wrapper}");
    assert_eq!(wrapper["format"], "int64");
    assert_eq!(wrapper["description"], "A count, written as a bare number.");
    assert!(wrapper.get("properties").is_none());
    let props = &s["co.k8s.pager.v1.Alert"]["properties"];
    assert_eq!(
        props["port"],
        serde_json::json!({"type": "integer", "format": "int32"})
    );
    assert_eq!(
        props["big"],
        serde_json::json!({"type": "integer", "format": "int64"})
    );
    assert_eq!(props["addr"], serde_json::json!({"type": "string"}));
    assert_eq!(
        props["at"],
        serde_json::json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(
        props["other"],
        serde_json::json!({"x-kubernetes-preserve-unknown-fields": true})
    );
    // Kubernetes' definition name: k8s-openapi's `apiextensions_apiserver` module is
    // `apiextensions-apiserver`.
    assert_eq!(
        props["values"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "{}",
        props["values"]
    );
}

/// `#[serde(try_from = "String", into = "String")]` (stackable's `HostName`): a string on the
/// wire, whatever the Rust shape; conversions through other types stay undescribed.
#[test]
fn types_written_as_a_scalar_through_into() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub host: HostName,
    pub level: Level,
    pub odd: Odd,
}

/// An address or a name.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HostName {
    IpAddress(std::net::IpAddr),
    DomainName(String),
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "u8", into = "u8")]
pub struct Level {
    pub value: u8,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "Vec<String>")]
pub struct Odd {
    pub parts: Vec<String>,
}
"#,
    );
    let host = &s["co.k8s.pager.v1.HostName"];
    assert_eq!(host["type"], "string", "{host}");
    assert_eq!(host["description"], "An address or a name.");
    let level = &s["co.k8s.pager.v1.Level"];
    assert_eq!(level["type"], "integer", "{level}");
    assert!(level.get("properties").is_none(), "{level}");
    // Not a scalar: described from the Rust type, as before (and warned about).
    assert_eq!(s["co.k8s.pager.v1.Odd"]["type"], "object");
}

/// A `#[serde(other)]` variant takes any string (no `enum` list to refuse it); a variant's
/// `alias`es are values too; a field serde never reads (`skip_deserializing`) is not required.
#[test]
fn catch_all_variants_and_fields_never_read() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Spec,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Spec {
    pub mode: Mode,
    pub level: Level,
    #[serde(skip_deserializing)]
    pub written_only: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub enum Mode {
    Fast,
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Serialize, Deserialize)]
pub enum Level {
    Low,
    #[serde(rename = "HEAD", alias = "head", alias = "Head")]
    High,
}
"#,
    );
    let mode = &s["co.k8s.pager.v1.Mode"];
    assert_eq!(mode["type"], "string", "{mode}");
    assert!(mode.get("enum").is_none(), "{mode}");
    assert_eq!(
        s["co.k8s.pager.v1.Level"]["enum"],
        serde_json::json!(["Low", "HEAD", "head", "Head"]),
        "serde reads a variant by its aliases too"
    );
    let required = &s["co.k8s.pager.v1.Spec"]["required"];
    assert_eq!(
        required,
        &serde_json::json!(["mode", "level"]),
        "{required}"
    );
}

/// kube-rs's multi-version layout: `v2` reuses `v1`'s status type. The field is a `$ref` to
/// `v1`'s definition, and `v2`'s schemas carry that definition and what it references in turn,
/// so that a server serving only `v2` publishes a whole document.
#[test]
fn another_versions_types_are_referenced_and_carried() {
    let s = v2_schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use serde::{Deserialize, Serialize};
#[derive(Clone)]
pub struct Order { pub metadata: ObjectMeta, pub spec: String }
/// What the shop saw.
#[derive(Clone, Serialize, Deserialize)]
pub struct OrderStatus { pub phase: Phase, pub conditions: Vec<Condition> }
#[derive(Clone, Serialize, Deserialize)]
pub enum Phase { Open, Shipped }
"#,
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
#[derive(Clone)]
pub struct Order {
    pub metadata: ObjectMeta,
    pub spec: Spec,
    pub status: Option<super::super::v1::OrderStatus>,
}
#[derive(Clone, Serialize, Deserialize)]
pub struct Spec { pub phases: Vec<crate::apis::shop::v1::Phase> }
"#,
    );
    let order = &s["com.example.shop.v2.Order"]["properties"];
    assert_eq!(
        order["status"]["allOf"][0]["$ref"], "#/components/schemas/com.example.shop.v1.OrderStatus",
        "{order}"
    );
    // A string enum, of this version or another, is inline (as Go writes enums).
    assert_eq!(
        s["com.example.shop.v2.Spec"]["properties"]["phases"]["items"],
        serde_json::json!({"type": "string", "enum": ["Open", "Shipped"]})
    );
    let status = &s["com.example.shop.v1.OrderStatus"];
    assert_eq!(status["description"], "What the shop saw.");
    assert_eq!(
        status["properties"]["phase"]["enum"],
        serde_json::json!(["Open", "Shipped"])
    );
    // Only what is referenced: v1's kind stays in v1's document.
    assert!(!s.contains_key("com.example.shop.v1.Order"));
}

/// Every `$ref` to a definition of this document (not Kubernetes' own `io.k8s.*`) names a key of
/// it.
fn assert_no_dangling_references(s: &serde_json::Map<String, Value>) {
    fn walk(v: &Value, s: &serde_json::Map<String, Value>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && !r.starts_with("#/components/schemas/io.k8s.")
                {
                    let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
                    assert!(s.contains_key(name), "dangling `$ref` {r}");
                }
                m.values().for_each(|v| walk(v, s));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, s)),
            _ => {}
        }
    }
    s.values().for_each(|v| walk(v, s));
}

/// A type left out of OpenAPI (`+k8s:openapi-gen=false`), or generic, has no definition: a
/// field of that type may hold any value, and is no `$ref` to a definition nobody writes. A kind
/// left out has no list definition either.
#[test]
fn types_without_a_definition_are_never_referenced() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Widget {
    pub metadata: ObjectMeta,
    pub spec: WidgetSpec,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct WidgetSpec {
    pub h: Hidden,
    pub hs: Vec<Hidden>,
    pub maybe: Option<Hidden>,
    pub by_name: BTreeMap<String, Hidden>,
    pub mode: HiddenMode,
    pub wrapped: Wrapper<String>,
    pub shown: Shown,
}

/// +k8s:openapi-gen=false
#[derive(Clone, Serialize, Deserialize)]
pub struct Hidden {
    pub x: i32,
}

/// +k8s:openapi-gen=false
#[derive(Clone, Serialize, Deserialize)]
pub enum HiddenMode {
    A,
    B,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Wrapper<T> {
    pub inner: T,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Shown {
    pub y: i32,
}

/// +k8s:openapi-gen=false
#[derive(Clone)]
pub struct Secret {
    pub metadata: ObjectMeta,
    pub hidden: Hidden,
}
"#,
    );
    let any = serde_json::json!({"x-kubernetes-preserve-unknown-fields": true});
    let props = &s["co.k8s.pager.v1.WidgetSpec"]["properties"];
    assert_eq!(props["h"], any, "{props}");
    assert_eq!(
        props["hs"],
        serde_json::json!({"type": "array", "items": any})
    );
    assert_eq!(props["maybe"], any);
    assert_eq!(
        props["by_name"],
        serde_json::json!({"type": "object", "additionalProperties": any})
    );
    assert_eq!(props["mode"], any);
    assert_eq!(props["wrapped"], any);
    assert_eq!(
        props["shown"]["allOf"][0]["$ref"],
        "#/components/schemas/co.k8s.pager.v1.Shown"
    );
    for left_out in ["Hidden", "HiddenMode", "Wrapper", "Secret", "SecretList"] {
        assert!(
            !s.contains_key(&format!("co.k8s.pager.v1.{left_out}")),
            "{left_out}"
        );
    }
    assert!(s.contains_key("co.k8s.pager.v1.WidgetList"));
    assert_no_dangling_references(&s);
}

/// Another version's type carried into this document references its own package's types
/// alike: a type left out of OpenAPI there is neither referenced nor carried.
#[test]
fn carried_types_never_reference_definitions_left_out() {
    let s = v2_schemas(
        r#"use serde::{Deserialize, Serialize};
#[derive(Clone, Serialize, Deserialize)]
pub struct OrderStatus { pub note: Note, pub notes: Vec<Note> }
/// +k8s:openapi-gen=false
#[derive(Clone, Serialize, Deserialize)]
pub struct Note { pub text: String }
"#,
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
#[derive(Clone)]
pub struct Order {
    pub metadata: ObjectMeta,
    pub status: Option<super::super::v1::OrderStatus>,
    pub note: Option<super::super::v1::Note>,
}
"#,
    );
    let any = serde_json::json!({"x-kubernetes-preserve-unknown-fields": true});
    assert_eq!(s["com.example.shop.v2.Order"]["properties"]["note"], any);
    let status = &s["com.example.shop.v1.OrderStatus"]["properties"];
    assert_eq!(status["note"], any, "{status}");
    assert_eq!(status["notes"]["items"], any);
    assert!(!s.contains_key("com.example.shop.v1.Note"));
    assert_no_dangling_references(&s);
}

/// `#[serde(flatten)]` as structural schemas want it: a flattened struct's fields inline (its
/// required ones required unless the flattened field is an `Option`), a flattened map's values
/// as `additionalProperties` — never an `allOf` beside `properties`.
#[test]
fn flattened_fields_are_inlined() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Spec,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub extra: Option<Extra>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Common {
    pub owner: String,
    pub note: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Extra {
    pub level: i32,
}
"#,
    );
    let spec = &s["co.k8s.pager.v1.Spec"];
    assert!(spec.get("allOf").is_none(), "{spec}");
    let props = spec["properties"].as_object().unwrap();
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(names, ["name", "owner", "note", "level"], "{spec}");
    assert_eq!(
        spec["required"],
        serde_json::json!(["name", "owner"]),
        "{spec}"
    );
    assert_eq!(
        spec["additionalProperties"],
        serde_json::json!({"x-kubernetes-preserve-unknown-fields": true}),
        "{spec}"
    );
}

/// `None` written as `null` (inside lists and maps, and `Option<Option<T>>`) is `nullable`.
#[test]
fn nulls_serde_writes_are_nullable() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Spec,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Spec {
    pub twice: Option<Option<String>>,
    pub holes: Vec<Option<i32>>,
    pub maybe: BTreeMap<String, Option<Item>>,
    pub once: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Item {
    pub x: i32,
}
"#,
    );
    let p = &s["co.k8s.pager.v1.Spec"]["properties"];
    assert_eq!(p["twice"]["nullable"], true, "{p}");
    assert_eq!(p["holes"]["items"]["nullable"], true, "{p}");
    assert_eq!(p["maybe"]["additionalProperties"]["nullable"], true, "{p}");
    assert_eq!(
        p["maybe"]["additionalProperties"]["allOf"][0]["$ref"],
        "#/components/schemas/co.k8s.pager.v1.Item",
        "{p}"
    );
    assert!(p["once"].get("nullable").is_none(), "{p}");
}

/// An `Option` with a deserializer of its own (`with`, `deserialize_with`) and no serde default
/// is required: serde_derive fails on its absent key rather than reading `None`. A transparent
/// struct over an `Option` is not.
#[test]
fn options_read_by_a_deserializer_of_their_own_are_required() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Spec,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Spec {
    #[serde(deserialize_with = "de_opt")]
    pub custom: Option<String>,
    #[serde(with = "opt")]
    pub with: Option<String>,
    #[serde(default, with = "opt")]
    pub defaulted: Option<String>,
    pub plain: Option<String>,
    pub transparent: Note,
    pub transparent_required: Named,
    pub object: serde_json::Map<String, serde_json::Value>,
}

/// serde reads an absent `Note` as `Note(None)`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Note(Option<String>);

#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Named {
    pub name: String,
}
"#,
    );
    let required = &s["co.k8s.pager.v1.Spec"]["required"];
    assert_eq!(
        required,
        &serde_json::json!(["custom", "with", "transparent_required", "object"])
    );
    assert_eq!(
        s["co.k8s.pager.v1.Spec"]["properties"]["object"],
        serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
    );
}

/// The schemas of `v2` in group `shop.example.com` (crate path `crate::apis`), with `v1`.
fn v2_schemas(v1_types: &str, v2_types: &str) -> serde_json::Map<String, Value> {
    v2_schemas_in("shop.example.com", v1_types, v2_types)
}

/// The schemas of `v2` in `group` (directory `shop`, crate path `crate::apis`), with `v1`.
fn v2_schemas_in(group: &str, v1_types: &str, v2_types: &str) -> serde_json::Map<String, Value> {
    v2_schemas_at("crate::apis", group, v1_types, v2_types)
}

/// The same, the input's module path given (`shop_api::apis`, as inferred from a crate's
/// `Cargo.toml`).
fn v2_schemas_at(
    rust_path: &str,
    group: &str,
    v1_types: &str,
    v2_types: &str,
) -> serde_json::Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "apis/shop/mod.rs",
        &format!("//! +groupName={group}\npub mod v1;\npub mod v2;\n"),
    );
    for (version, types) in [("v1", v1_types), ("v2", v2_types)] {
        write(
            &format!("apis/shop/{version}/mod.rs"),
            "mod types;\npub use types::*;\n",
        );
        write(&format!("apis/shop/{version}/types.rs"), types);
    }
    let input = Input {
        dir: dir.path().join("apis"),
        rust_path: Some(rust_path.into()),
    };
    let loaded = load(&[input]).unwrap_or_else(|f| panic!("{f}"));
    let v2 = loaded
        .model
        .packages
        .iter()
        .find(|p| p.version.as_deref() == Some("v2"))
        .unwrap();
    openapi_gen::schemas(&loaded.model, v2)
}

/// `crate::apis::…` names another package of the crate whatever the crate's module path is
/// written as (its name, inferred from `Cargo.toml`, or `crate`).
#[test]
fn crate_paths_name_sibling_packages_of_a_named_crate() {
    let s = v2_schemas_at(
        "shop_api::apis",
        "shop.example.com",
        "use serde::{Deserialize, Serialize};\n#[derive(Clone, Serialize, Deserialize)]\npub struct Listener { pub port: i32 }\n",
        "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\nuse crate::apis::shop::v1 as old;\n#[derive(Clone)]\npub struct Gateway {\n    pub metadata: ObjectMeta,\n    pub a: Option<crate::apis::shop::v1::Listener>,\n    pub b: Option<old::Listener>,\n}\n",
    );
    let g = &s["com.example.shop.v2.Gateway"]["properties"];
    for field in ["a", "b"] {
        assert_eq!(
            g[field]["allOf"][0]["$ref"], "#/components/schemas/com.example.shop.v1.Listener",
            "{g}"
        );
    }
    assert!(s.contains_key("com.example.shop.v1.Listener"));
}

/// A group under `k8s.io` has definitions named `io.k8s.…` like Kubernetes' own: another
/// version's type is carried all the same.
#[test]
fn siblings_are_carried_in_groups_under_k8s_io() {
    let s = v2_schemas_in(
        "gateway.networking.k8s.io",
        "use serde::{Deserialize, Serialize};\n#[derive(Clone, Serialize, Deserialize)]\npub struct Listener { pub port: i32 }\n",
        "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n#[derive(Clone)]\npub struct Gateway {\n    pub metadata: ObjectMeta,\n    pub listener: Option<super::super::v1::Listener>,\n}\n",
    );
    assert!(
        s.contains_key("io.k8s.networking.gateway.v1.Listener"),
        "{:?}",
        s.keys().collect::<Vec<_>>()
    );
}

/// A flattened struct that itself flattens a type written as a `$ref` brings that `$ref` along.
#[test]
fn flattened_refs_inside_flattened_structs_are_kept() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Outer,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Outer {
    #[serde(flatten)]
    pub inner: Inner,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Inner {
    pub x: i32,
    #[serde(flatten)]
    pub selector: LabelSelector,
}
"#,
    );
    let outer = &s["co.k8s.pager.v1.Outer"];
    assert_eq!(outer["properties"]["x"]["type"], "integer", "{outer}");
    assert_eq!(
        outer["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "{outer}"
    );
}

/// A flattened type by reference inside an `Option` (serde reads `None` when its fields are
/// absent) is not an `allOf`, which would make its required fields the struct's: its fields
/// are kept as unknown fields instead. Through an optional flattened struct, the same.
#[test]
fn optional_flattened_refs_do_not_require_their_fields() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: Outer,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Outer {
    pub name: String,
    #[serde(flatten)]
    pub pod: Option<k8s_openapi::api::core::v1::PodSpec>,
    #[serde(flatten)]
    pub inner: Option<Inner>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Inner {
    pub x: i32,
    #[serde(flatten)]
    pub selector: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
}
"#,
    );
    let outer = &s["co.k8s.pager.v1.Outer"];
    assert!(outer.get("allOf").is_none(), "{outer}");
    assert_eq!(
        outer["x-kubernetes-preserve-unknown-fields"], true,
        "{outer}"
    );
    assert_eq!(outer["required"], serde_json::json!(["name"]), "{outer}");
    assert_eq!(outer["properties"]["x"]["type"], "integer", "{outer}");
}

/// Integers publish the range their format does not say: an `i8`'s, a `u16`'s, an unsigned
/// type's minimum of 0 (what the server's decoding refuses is what the schema excludes).
#[test]
fn integers_publish_the_range_their_format_does_not() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub port: u16,
    pub small: i8,
    pub count: u64,
    pub plain: i32,
}
"#,
    );
    let props = &s["co.k8s.pager.v1.Alert"]["properties"];
    assert_eq!(
        props["port"],
        serde_json::json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535})
    );
    assert_eq!(props["small"]["minimum"], -128);
    assert_eq!(props["small"]["maximum"], 127);
    assert_eq!(props["count"]["minimum"], 0);
    assert!(props["count"].get("maximum").is_none());
    assert_eq!(
        props["plain"],
        serde_json::json!({"type": "integer", "format": "int32"})
    );
}

/// A set of scalars is a `set` list; a set of objects an atomic list (server-side apply keeps
/// sets of scalars only: a `set` of objects made every non-empty value a 422); `+listType=atomic`
/// makes any set atomic.
#[test]
fn a_set_of_objects_is_an_atomic_list() {
    let s = schemas(
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeSet, HashSet};

#[derive(Clone)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub tags: BTreeSet<String>,
    pub ports: HashSet<u16>,
    pub levels: BTreeSet<Level>,
    pub grants: BTreeSet<Grant>,
    pub nested: BTreeSet<Vec<String>>,
    /// +listType=atomic
    pub names: BTreeSet<String>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Low,
    High,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub group: String,
}
"#,
    );
    let props = &s["co.k8s.pager.v1.Alert"]["properties"];
    let list_type = |field: &str| props[field]["x-kubernetes-list-type"].clone();
    assert_eq!(list_type("tags"), "set");
    assert_eq!(list_type("ports"), "set");
    assert_eq!(list_type("levels"), "set");
    assert_eq!(list_type("grants"), "atomic");
    assert_eq!(list_type("nested"), "atomic");
    assert_eq!(list_type("names"), "atomic");
}

/// Bidi controls in doc comments are written as JSON escapes: raw, they would trip rustc's
/// deny-by-default `text_direction_codepoint_in_literal` in the generated literal.
#[test]
fn bidi_controls_are_escaped_in_the_generated_literal() {
    let docs = "/// Left \u{202E}right\u{2066} and back\u{2069}.";
    let schemas = schemas(&format!(
        "use serde::{{Deserialize, Serialize}};\n\n{docs}\n#[derive(Clone, Debug, Default, Serialize, Deserialize)]\npub struct Note {{\n    pub text: String,\n}}\n"
    ));
    let text = openapi_gen::module_text(&schemas);
    assert!(
        !text.contains(['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}']),
        "{text}"
    );
    assert!(
        text.contains(r"Left \u202eright\u2066 and back\u2069."),
        "{text}"
    );
    // The escapes read back as the characters written.
    let json = text
        .split_once("r#\"")
        .and_then(|(_, rest)| rest.rsplit_once("\"#"))
        .unwrap()
        .0;
    let parsed: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
    assert_eq!(parsed, schemas);
}

/// A type the group's hub shares between its versions (`crate::apis::shop::common::Money`, in a
/// file module of the group's module, or named `super::super::common::Money`) is published and
/// referenced as another version's is — never an any-value schema — and a string enum of it is
/// inline.
#[test]
fn the_hubs_shared_types_are_referenced_and_carried() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "apis/shop/mod.rs",
        "//! +groupName=shop.example.com\npub mod common;\npub mod v1;\n",
    );
    write(
        "apis/shop/common.rs",
        "use serde::{Deserialize, Serialize};\n/// An amount.\n#[derive(Clone, Serialize, Deserialize)]\npub struct Money { pub cents: i64, pub currency: Currency }\n#[derive(Clone, Serialize, Deserialize)]\npub enum Currency { Eur, Usd }\n",
    );
    write(
        "apis/shop/v1/mod.rs",
        "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n#[derive(Clone)]\npub struct Order {\n    pub metadata: ObjectMeta,\n    pub price: Option<crate::apis::shop::common::Money>,\n    pub refund: Option<super::common::Money>,\n    pub currency: super::common::Currency,\n}\n",
    );
    let input = Input {
        dir: dir.path().join("apis"),
        rust_path: Some("crate::apis".into()),
    };
    let loaded = load(&[input]).unwrap_or_else(|f| panic!("{f}"));
    let v1 = loaded
        .model
        .packages
        .iter()
        .find(|p| p.version.as_deref() == Some("v1"))
        .unwrap();
    let s = openapi_gen::schemas(&loaded.model, v1);
    let order = &s["com.example.shop.v1.Order"]["properties"];
    for field in ["price", "refund"] {
        assert_eq!(
            order[field]["allOf"][0]["$ref"],
            "#/components/schemas/com.example.shop.internal.Money",
            "{order}"
        );
    }
    assert_eq!(
        order["currency"],
        serde_json::json!({"type": "string", "enum": ["Eur", "Usd"]}),
        "{order}"
    );
    let money = &s["com.example.shop.internal.Money"];
    assert_eq!(money["description"], "An amount.");
    assert_eq!(money["properties"]["cents"]["type"], "integer");
    assert_no_dangling_references(&s);
}
