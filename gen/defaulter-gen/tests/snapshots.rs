//! defaulter-gen on a small fixture: the generated `SetDefaults` impls (a snapshot) and the
//! diagnostics for defaults it cannot apply and hand-written functions it cannot call.

use std::path::PathBuf;

use defaulter_gen::DefaulterGen;
use kube_codegen_model::Loaded;
use kube_codegen_model::output::Generator;

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("defaulter-gen")
}

fn load_fixture(name: &str, files: &[(&str, &str)]) -> Loaded {
    kube_codegen_model::testing::load_fixture(&tmp_root(), name, files)
}

fn render(loaded: &Loaded, diags: &[kube_codegen_model::Diagnostic]) -> String {
    kube_codegen_model::testing::render(&tmp_root(), loaded, diags)
}

const TYPES: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: AlertSpec,
    pub status: Option<AlertStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertSpec {
    /// +default="normal"
    pub priority: Option<String>,
    /// +default=3
    pub retries: i32,
    /// +default=-1.5
    pub weight: Option<f64>,
    /// +default="slow"
    pub mode: Option<Mode>,
    /// +default={"team": "ops"}
    pub labels: BTreeMap<String, String>,
    pub targets: Vec<Target>,
    /// +default={"name": "x", "enabled": true}
    pub extra: Option<Target>,
    /// +default="fast"
    pub plain: Mode,
}

// `plain: Mode` cannot be told unset: `Fast`, its `Default`, is also a value a client sends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Fast,
    Slow,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    /// +default=true
    pub enabled: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertStatus {
    pub sent: bool,
}

/// Hand-written, found by name.
pub fn set_defaults_alert_status(obj: &mut AlertStatus) {
    let _ = obj;
}

fn set_defaults_target(obj: &mut Target) {
    let _ = obj;
}
"#;

#[test]
fn set_defaults_impls() {
    let loaded = load_fixture(
        "alerts",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.k8s.co\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                &TYPES.replace("fn set_defaults_target", "pub fn set_defaults_target"),
            ),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    // Non-`Option` fields with defaults also warn that an explicit zero is replaced (W0605).
    let codes: Vec<&str> = diags
        .iter()
        .map(|d| d.code)
        .filter(|c| *c != "W0605")
        .collect();
    assert_eq!(codes, ["W0601"], "{}", render(&loaded, &diags));
    assert!(
        diags
            .iter()
            .any(|d| d.code == "W0605" && d.message.contains("`0` in `AlertSpec.retries`")),
        "{}",
        render(&loaded, &diags)
    );
    let pkg = &loaded.model.packages[0];
    let file: syn::File = syn::parse2(defaulter_gen::package(
        &loaded.model,
        pkg,
        &Default::default(),
    ))
    .unwrap();
    let out = prettyplease::unparse(&file);
    assert!(out.contains("if self.retries == 0 {"), "{out}");
    assert!(
        out.contains("self::types::set_defaults_alert_status(self);"),
        "{out}"
    );
    assert!(
        !out.contains("self.plain ="),
        "a default it cannot apply is not applied: {out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn defaults_it_cannot_apply_and_private_functions() {
    let loaded = load_fixture(
        "diagnostics",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.k8s.co\nmod types;\npub use types::*;\n",
            ),
            ("apis/pager/v1/types.rs", TYPES),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    insta::assert_snapshot!(render(&loaded, &diags));
}

#[test]
fn private_fields_out_of_reach() {
    // `Spec` lives in `types.rs`: its private fields are out of the package module's reach.
    // `Local`, declared in `mod.rs` itself, may keep its field private.
    let loaded = load_fixture(
        "private",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.k8s.co\nmod types;\npub use types::*;\n\n#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Local {\n    /// +default=2\n    level: i32,\n}\n",
            ),
            (
                "apis/pager/v1/types.rs",
                "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n    pub local: super::Local,\n}\n\n#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Spec {\n    /// +default=3\n    retries: i32,\n    target: Option<Target>,\n    pub(super) visible: Option<Target>,\n}\n\n#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Target {\n    /// +default=\"x\"\n    pub name: String,\n}\n",
            ),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    assert_eq!(
        diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        ["E0604", "E0604"]
    );
    insta::assert_snapshot!(render(&loaded, &diags));
}

#[test]
fn a_json_default_needs_the_types_serde() {
    let loaded = load_fixture(
        "no_serde",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.k8s.co\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    /// +default={\"level\": 2}\n    pub escalation: Option<Escalation>,\n}\n\n#[derive(Clone, Default)]\npub struct Escalation {\n    pub level: i32,\n}\n",
            ),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0603"]);
    insta::assert_snapshot!(render(&loaded, &diags));
}

/// A `+default` on a field of an enum variant is not applied: a warning says so.
#[test]
fn defaults_inside_enum_variants_warn() {
    let loaded = load_fixture(
        "variants",
        &[(
            "apis/pager/v1/types.rs",
            "//! +groupName=pager.k8s.co\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(tag = \"type\")]\npub enum Strategy {\n    Recreate,\n    RollingUpdate {\n        /// +default=5\n        max_surge: Option<i32>,\n    },\n}\n",
        )],
    );
    let diags = DefaulterGen.check(&loaded.model);
    let rendered = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["W0606"],
        "{rendered}"
    );
    assert!(
        rendered.contains("the `+default` of `Strategy::RollingUpdate.max_surge` is not applied"),
        "{rendered}"
    );
}

/// A kind holding a type of another version (`pub use super::super::v1::Shared`) defaults it through
/// that version's `SetDefaults`, when that version generates defaults; two versions holding
/// each other's types do not loop.
#[test]
fn types_of_other_versions_are_defaulted_through_them() {
    let v1 = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\n\
        pub struct Shared {\n    /// +default=\"d\"\n    pub opt: Option<String>,\n    pub back: Option<Box<super::super::v2::Loop>>,\n}\n\n\
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\n\
        pub struct Plain {\n    pub x: i32,\n    pub back: Option<Box<super::super::v2::Loop>>,\n}\n\n\
        #[derive(Clone, Debug, Default, PartialEq)]\npub struct Foo {\n    pub metadata: ObjectMeta,\n}\n";
    let v2 = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
        pub use super::super::v1::{Plain, Shared};\n\n\
        #[derive(Clone, Debug, Default, PartialEq)]\npub struct Bar {\n    pub metadata: ObjectMeta,\n    pub spec: BarSpec,\n}\n\n\
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\n\
        pub struct BarSpec {\n    pub a: Shared,\n    pub many: Vec<super::super::v1::Shared>,\n    pub plain: Plain,\n}\n\n\
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\n\
        pub struct Loop {\n    pub plain: Option<super::super::v1::Plain>,\n}\n";
    let loaded = load_fixture(
        "siblings",
        &[
            (
                "apis/g/mod.rs",
                "//! +groupName=g.example.com\npub mod v1;\npub mod v2;\n",
            ),
            ("apis/g/v1/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/g/v1/types.rs", v1),
            ("apis/g/v2/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/g/v2/types.rs", v2),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
    let v2 = loaded
        .model
        .packages
        .iter()
        .find(|p| p.version.as_deref() == Some("v2"))
        .unwrap();
    let file: syn::File = syn::parse2(defaulter_gen::package(
        &loaded.model,
        v2,
        &Default::default(),
    ))
    .unwrap();
    let out = prettyplease::unparse(&file);
    // `BarSpec` defaults its fields of v1's types, and only those.
    assert!(
        out.contains("default_fields!(self::types::BarSpec { a, many });"),
        "{out}"
    );
    assert!(!out.contains("plain"), "{out}");
    assert!(!out.contains("Loop"), "{out}");
}

/// A `+default` whose value, defaulted in turn, leaves the same field unset again (a tree's
/// `child` defaulted to a child without one) would recurse until the stack overflows: E0607,
/// naming the path. A default that fills the recursion once through a list, or that a type
/// holding itself never reaches unset, is fine.
#[test]
fn a_default_applied_again_inside_itself_is_an_error() {
    let loaded = load_fixture(
        "default_cycle",
        &[(
            "apis/pager/v1/types.rs",
            "//! +groupName=pager.k8s.co\nuse k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub tree: Option<Tree>,\n    pub node: Option<Node>,\n    pub fine: Option<Fine>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Tree {\n    /// +default={\"name\":\"root\"}\n    #[serde(default)]\n    pub child: Option<Box<Tree>>,\n    /// +default=\"n\"\n    #[serde(default)]\n    pub name: Option<String>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Node {\n    /// +default={\"kids\":[{}]}\n    #[serde(default)]\n    pub wrap: Option<Wrap>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Wrap {\n    #[serde(default)]\n    pub kids: Vec<Node>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Fine {\n    /// +default={}\n    #[serde(default)]\n    pub wrap: Option<FineWrap>,\n    #[serde(default)]\n    pub next: Option<Box<Fine>>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct FineWrap {\n    #[serde(default)]\n    pub kids: Vec<Fine>,\n}\n",
        )],
    );
    let diags = DefaulterGen.check(&loaded.model);
    let rendered = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0607", "E0607"],
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "error[E0607]: the `+default` of `Tree.child` is applied again inside itself, without end"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("reaches `Tree.child.child` unset"),
        "{rendered}"
    );
    assert!(
        rendered.contains("reaches `Node.wrap.kids.wrap` unset"),
        "{rendered}"
    );
}

/// A hand-written `impl SetDefaults` for a kind (or a type with defaults inside) clashes with
/// the generated one: E0302, pointing at `set_defaults_<type>` and the opt-out. A kind opted
/// out with `+k8s:defaulter-gen=false` gets no generated impl, so its own is fine.
#[test]
fn a_hand_written_set_defaults_impl_is_an_error() {
    let loaded = load_fixture(
        "hand_impl",
        &[(
            "apis/pager/v1/types.rs",
            "//! +groupName=pager.k8s.co\nuse k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\nuse kube_codegen_scheme::SetDefaults;\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n}\n\nimpl SetDefaults for Alert {\n    fn set_defaults(&mut self) {}\n}\n\n/// +k8s:defaulter-gen=false\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Page {\n    pub metadata: ObjectMeta,\n}\n\nimpl kube_codegen_scheme::SetDefaults for Page {\n    fn set_defaults(&mut self) {}\n}\n",
        )],
    );
    let diags = DefaulterGen.check(&loaded.model);
    let rendered = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0302"],
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "error[E0302]: `Alert` implements `kube_codegen_scheme::SetDefaults` by hand"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("pub fn set_defaults_alert(obj: &mut Alert)"),
        "{rendered}"
    );
}

/// Hints that print a signature print a raw identifier as Rust needs it: `&mut r#match`.
#[test]
fn hints_write_raw_identifiers() {
    let loaded = load_fixture(
        "raw_ident",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.k8s.co\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\nuse serde::{Deserialize, Serialize};\n\n#[derive(Clone, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub spec: r#match,\n}\n\n#[allow(non_camel_case_types)]\n#[derive(Clone, Default, Serialize, Deserialize)]\npub struct r#match {\n    /// +default=3\n    pub retries: i32,\n}\n",
            ),
        ],
    );
    let diags = DefaulterGen.check(&loaded.model);
    let w0605 = diags
        .iter()
        .find(|d| d.code == "W0605")
        .expect("a W0605 for the non-Option field");
    let help = w0605.help.as_deref().unwrap_or_default();
    assert!(help.contains("(obj: &mut r#match)"), "{help}");
}
