//! applyconfiguration-gen on a fixture: a namespaced kind with nested structs, lists, maps, sets,
//! an enum and a status; a cluster-scoped kind without status; a type no kind reaches (not
//! configured). A snapshot of what users read.

use std::path::PathBuf;

use applyconfiguration_gen::ApplyConfigurationGen;
use kube_codegen_model::output::{Content, Generator, Options};

const TYPES: &str = r#"use std::collections::{BTreeMap, BTreeSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

/// +genclient
#[derive(Clone, Default)]
pub struct Widget {
    pub metadata: ObjectMeta,
    pub spec: WidgetSpec,
    pub status: Option<WidgetStatus>,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSpec {
    pub replicas: Option<i32>,
    pub display_name: String,
    pub ports: Vec<Port>,
    pub selector: BTreeMap<String, String>,
    pub tags: BTreeSet<String>,
    pub size: Size,
    pub template: Option<Box<Template>>,
    /// Arbitrary JSON: named through the client crate (a client crate of its own may not
    /// depend on serde_json).
    pub config: Option<serde_json::Value>,
    /// Written beside the spec's own fields, as the type's serde does.
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
    /// Not on the wire: no configuration either.
    #[serde(skip)]
    pub cache: String,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Common {
    pub owner: Option<String>,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Port {
    pub name: String,
    pub port: i32,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Template {
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Size {
    #[default]
    Small,
    Large,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    pub ready: bool,
    pub last_seen: Option<Time>,
}

/// +genclient
/// +genclient:nonNamespaced
#[derive(Clone, Default)]
pub struct Policy {
    pub metadata: ObjectMeta,
    pub rules: Vec<String>,
}

/// Reached by no kind.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Unused {
    pub x: i32,
}
"#;

#[test]
fn configurations_of_kinds_and_what_they_reach() {
    let loaded = load("kinds", "widgets", TYPES);
    let out = rendered(&loaded);
    assert!(!out.contains("UnusedApplyConfiguration"));
    assert!(out.contains("pub fn extract_widget_status("));
    assert!(!out.contains("extract_policy_status"));
    insta::assert_snapshot!(out);
}

/// Two groups: `queues` holds `fleets`' `FleetRef` as it is (another package's type); the
/// configurations derive `PartialEq` only as that type does, and a held type that does not
/// deserialize is E0801 (the configuration could not derive `Deserialize`).
fn two_groups(fixture: &str, fleet_ref_derives: &str) -> kube_codegen_model::Loaded {
    kube_codegen_model::testing::load_fixture_at(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("applyconfiguration-gen"),
        fixture,
        &[
            ("apis/mod.rs", "pub mod fleets;\npub mod queues;\n"),
            ("apis/fleets/mod.rs", "pub mod v1;\n"),
            (
                "apis/fleets/v1/mod.rs",
                &format!(
                    "//! +groupName=fleets.example.com\n\n#[derive({fleet_ref_derives})]\npub struct FleetRef {{\n    pub name: String,\n}}\n"
                ),
            ),
            ("apis/queues/mod.rs", "pub mod v1;\n"),
            (
                "apis/queues/v1/mod.rs",
                "//! +groupName=queues.example.com\nuse k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n/// +genclient\n#[derive(Clone, Default)]\npub struct Queue {\n    pub metadata: ObjectMeta,\n    pub spec: QueueSpec,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct QueueSpec {\n    pub fleet: Option<super::super::fleets::v1::FleetRef>,\n}\n",
            ),
        ],
        Some("two_api"),
    )
}

#[test]
fn another_packages_type_held_as_it_is_decides_the_derives() {
    let with = |derives: &str| {
        let loaded = two_groups("sibling-derives", derives);
        let diags = ApplyConfigurationGen.check(&loaded.model);
        assert!(diags.is_empty(), "{diags:?}");
        let out: String = rendered(&loaded).split_whitespace().collect();
        out.contains("#[derive(Clone,Debug,Default,PartialEq,")
    };
    assert!(with(
        "Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize"
    ));
    assert!(
        !with("Clone, Debug, Default, serde::Serialize, serde::Deserialize"),
        "no PartialEq where the held type has none"
    );
}

#[test]
fn a_held_type_that_does_not_deserialize_is_an_error() {
    let loaded = two_groups("sibling-serde", "Clone, Debug, Default, serde::Serialize");
    let diags = ApplyConfigurationGen.check(&loaded.model);
    let shown = kube_codegen_model::testing::render(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("applyconfiguration-gen"),
        &loaded,
        &diags,
    );
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0801"],
        "{shown}"
    );
    assert!(
        shown.contains("`FleetRef` does not implement `Deserialize`, which the apply configuration `QueueSpecApplyConfiguration` holding it needs"),
        "{shown}"
    );
}

/// A type an item macro declares is one the loader cannot see: its field keeps the bare name,
/// which the client crate cannot name. The configuration holds it as JSON, as it holds paths
/// relative to the API crate; a foreign generic type with such an argument too. Paths that do
/// name a type from anywhere stay as written.
const MACRO_TYPES: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

macro_rules! make_struct {
    ($name:ident) => {
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            pub x: i32,
        }
    };
}

make_struct!(FromMacro);

/// +genclient
#[derive(Clone, Default)]
pub struct Gadget {
    pub metadata: ObjectMeta,
    pub spec: GadgetSpec,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GadgetSpec {
    pub from_macro: Option<FromMacro>,
    pub many: Vec<FromMacro>,
    pub wrapped: Option<other::Wrapper<FromMacro>>,
    pub named: Option<other::Wrapper<String>>,
    pub outcome: Option<Result<String, i32>>,
}
"#;

#[test]
fn unresolved_bare_names_are_held_as_json() {
    let loaded = load("macro-types", "gadgets", MACRO_TYPES);
    let spec = loaded.model.packages[0]
        .type_named("GadgetSpec")
        .expect("GadgetSpec");
    assert!(
        matches!(
            &spec.fields()[0].ty,
            kube_codegen_model::FieldType::Option(t)
                if matches!(&**t, kube_codegen_model::FieldType::Foreign { path, .. } if path.is_single())
        ),
        "{:?}",
        spec.fields()[0].ty
    );
    let out = rendered(&loaded);
    // Fields as written, whitespace aside (the unparser wraps long lines, with a trailing comma
    // in wrapped type arguments).
    let compact = out
        .split_whitespace()
        .collect::<String>()
        .replace(",>", ">");
    let field = |name: &str, ty: &str| {
        let want = format!("pub{name}:::core::option::Option<{ty}>,");
        assert!(compact.contains(&want), "{name}: {ty}\n{out}");
    };
    let json = "::kube_codegen_client::__private::serde_json::Value";
    field("from_macro", json);
    field("many", &format!("::std::vec::Vec<{json}>"));
    field("wrapped", json);
    field("named", "other::Wrapper<::std::string::String>");
    field("outcome", "Result<::std::string::String,i32>");
    assert!(!out.contains("FromMacro"), "{out}");
    insta::assert_snapshot!(out);
}

/// A field named in camelCase (ported from Go, beside `rename_all = "camelCase"`) keeps its name
/// in the configuration and its setter, which allow `non_snake_case` as the user's code does;
/// configurations of snake_case types carry no such allowance.
#[test]
fn camel_case_fields_do_not_warn() {
    let loaded = load(
        "camel-types",
        "camels",
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// +genclient
#[derive(Clone, Default)]
pub struct Camel {
    pub metadata: ObjectMeta,
    pub spec: CamelSpec,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(non_snake_case)]
pub struct CamelSpec {
    pub ociDigest: String,
}
"#,
    );
    let out = rendered(&loaded);
    let compact: String = out.split_whitespace().collect();
    assert!(
        compact.contains("#[allow(non_snake_case)]#[derive(")
            && compact.contains("pubstructCamelSpecApplyConfiguration"),
        "{out}"
    );
    assert!(
        compact.contains(
            "#[allow(non_snake_case)]#[allow(clippy::type_complexity)]implCamelSpecApplyConfiguration"
        ),
        "{out}"
    );
    assert!(compact.contains("pubfnociDigest("), "{out}");
    assert_eq!(
        out.matches("non_snake_case").count(),
        2,
        "only the camelCase type's configuration allows it:\n{out}"
    );
}

/// A type named in lower case (a raw identifier, `r#match`) has a configuration
/// `matchApplyConfiguration` that allows `non_camel_case_types` as the user's type does; others
/// carry no such allowance.
#[test]
fn a_lower_case_type_s_configuration_does_not_warn() {
    let loaded = load(
        "lower-types",
        "lowers",
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// +genclient
#[derive(Clone, Default)]
pub struct Lower {
    pub metadata: ObjectMeta,
    pub spec: r#match,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[allow(non_camel_case_types)]
pub struct r#match {
    pub value: String,
}
"#,
    );
    let out = rendered(&loaded);
    let compact: String = out.split_whitespace().collect();
    assert!(
        compact.contains("#[allow(non_camel_case_types)]#[derive(")
            && compact.contains("pubstructmatchApplyConfiguration"),
        "{out}"
    );
    assert_eq!(
        out.matches("non_camel_case_types").count(),
        1,
        "only the lower-case type's configuration allows it:\n{out}"
    );
}

/// A field named `new` keeps the constructor's name free: its setter is `with_new` (Go's
/// `WithNew`); two inherent `new`s would not compile.
#[test]
fn a_field_named_new_has_a_setter_that_is_not_the_constructor() {
    let loaded = load(
        "new-field",
        "news",
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// +genclient
#[derive(Clone, Default)]
pub struct Release {
    pub metadata: ObjectMeta,
    pub spec: ReleaseSpec,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ReleaseSpec {
    pub new: bool,
    pub old: bool,
}
"#,
    );
    let out = rendered(&loaded);
    let compact: String = out.split_whitespace().collect();
    let spec = compact
        .split("implReleaseSpecApplyConfiguration{")
        .nth(1)
        .expect("the spec's configuration");
    assert_eq!(spec.matches("pubfnnew(").count(), 1, "{out}");
    assert!(spec.contains("pubfnwith_new(mutself,value:"), "{out}");
    assert!(
        spec.contains("self.new=::core::option::Option::Some"),
        "{out}"
    );
    assert!(spec.contains("pubfnold(mutself"), "{out}");
}

/// A kind's configuration has `metadata`'s setters itself (Go's `WithName`, `WithFinalizers`,
/// …), each writing into `metadata` (made when unset) through `ObjectMetaApplyConfiguration`'s
/// setter of the same name, so the name and namespace `new` set stay; `.metadata(m)` merges `m`
/// into it rather than dropping them. A cluster-scoped kind has no `namespace` setter, and a
/// kind's own field keeps its setter.
#[test]
fn metadata_setters_on_the_kind_keep_what_new_set() {
    let loaded = load("kinds", "widgets", TYPES);
    let out = rendered(&loaded);
    let compact: String = out.split_whitespace().collect();
    let widget = compact
        .split("implWidgetApplyConfiguration{")
        .nth(1)
        .and_then(|s| s.split("impl::kube_codegen_client").next())
        .expect("the kind's configuration");
    for setter in [
        "name",
        "generate_name",
        "namespace",
        "uid",
        "resource_version",
        "labels",
        "annotations",
        "finalizers",
        "owner_references",
    ] {
        let body = format!(
            "self.metadata=::core::option::Option::Some(self.metadata.take().unwrap_or_default().{setter}({setter}),);"
        );
        assert!(
            widget.contains(&format!("pubfn{setter}")) && widget.contains(&body),
            "{setter}:\n{out}"
        );
    }
    assert!(
        widget.contains(
            "pubfnmetadata(mutself,value:impl::core::convert::Into<::kube_codegen_client::apply::ObjectMetaApplyConfiguration,>,)->Self{self.metadata=::core::option::Option::Some(self.metadata.take().unwrap_or_default().merge(value.into()),);"
        ),
        "{out}"
    );
    let policy = compact
        .split("implPolicyApplyConfiguration{")
        .nth(1)
        .expect("the cluster-scoped kind's configuration");
    assert!(policy.contains("pubfnfinalizers<"), "{out}");
    assert!(!policy.contains("pubfnnamespace("), "{out}");

    // A kind's own field `finalizers` keeps its setter; the others are still there.
    let loaded = load(
        "own-finalizers",
        "owns",
        r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// +genclient
#[derive(Clone, Default)]
pub struct Own {
    pub metadata: ObjectMeta,
    pub finalizers: Vec<String>,
}
"#,
    );
    let out = rendered(&loaded);
    let compact: String = out.split_whitespace().collect();
    assert_eq!(compact.matches("pubfnfinalizers").count(), 1, "{out}");
    assert!(
        compact.contains("pubfnfinalizers(mutself,value:impl::core::convert::Into<::std::vec::Vec<::std::string::String>>,)->Self{self.finalizers="),
        "{out}"
    );
    assert!(compact.contains("pubfnuid(mutself,uid:"), "{out}");
}

/// One version `v1` of `<group>.example.com` holding `types`, in crate `<group>_api`.
fn load(fixture: &str, group: &str, types: &str) -> kube_codegen_model::Loaded {
    kube_codegen_model::testing::load_fixture_at(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("applyconfiguration-gen"),
        fixture,
        &[
            (
                &format!("apis/{group}/v1/mod.rs"),
                &format!("//! +groupName={group}.example.com\nmod types;\npub use types::*;\n"),
            ),
            (&format!("apis/{group}/v1/types.rs"), types),
        ],
        Some(&format!("{group}_api")),
    )
}

/// Every file the generator writes for the model, formatted, each after a `==> path` line.
fn rendered(loaded: &kube_codegen_model::Loaded) -> String {
    let mut out = String::new();
    for f in ApplyConfigurationGen.generate_model(&loaded.model, &Options::default()) {
        let Content::Rust(tokens) = f.content else {
            panic!("Rust")
        };
        let file: syn::File = syn::parse2(tokens).unwrap();
        out.push_str(&format!(
            "==> {}\n{}\n",
            f.path.display(),
            prettyplease::unparse(&file)
        ));
    }
    out
}
