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
    let loaded = kube_codegen_model::testing::load_fixture_at(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("applyconfiguration-gen"),
        "kinds",
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/widgets/v1/types.rs", TYPES),
        ],
        Some("widgets_api"),
    );
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
    assert!(!out.contains("UnusedApplyConfiguration"));
    assert!(out.contains("pub fn extract_widget_status("));
    assert!(!out.contains("extract_policy_status"));
    insta::assert_snapshot!(out);
}
