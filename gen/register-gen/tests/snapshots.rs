//! Snapshot tests of register-gen's output on small fixtures, formatted as the writer formats it.

use std::path::PathBuf;

use kube_codegen_model::Loaded;
use kube_codegen_model::output::{Crates, Generator, Options};
use register_gen::RegisterGen;

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("register-gen")
}

fn load_fixture(name: &str, files: &[(&str, &str)]) -> Loaded {
    kube_codegen_model::testing::load_fixture(&tmp_root(), name, files)
}

fn format(tokens: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("generated code parses");
    prettyplease::unparse(&file)
}

/// The register file of the one external package of a fixture.
fn generate(name: &str, files: &[(&str, &str)], opts: &Options) -> String {
    let loaded = load_fixture(name, files);
    let pkgs: Vec<_> = loaded
        .model
        .packages
        .iter()
        .filter(|p| !p.is_internal())
        .collect();
    assert_eq!(pkgs.len(), 1, "one external package");
    format(register_gen::package(pkgs[0], opts))
}

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n";

fn types(body: &str) -> String {
    format!("{META}use std::collections::BTreeMap;\n\n{body}")
}

#[test]
fn namespaced() {
    let out = generate(
        "namespaced",
        &[
            (
                "apis/pager/v1alpha1/mod.rs",
                "//! +groupName=pager.k8s.co\n\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/pager/v1alpha1/types.rs",
                &types(
                    "/// Alert is a message.\n/// +genclient\n/// +shortName=al\n/// +categories=all\n/// +printcolumn:name=Sent,type=boolean,jsonPath=.status.sent\n/// +printcolumn:name=Age,type=date,jsonPath=.metadata.creationTimestamp,priority=1,description=\"Time since creation\"\n#[derive(Clone, Debug, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n    pub status: Option<AlertStatus>,\n}\n\n#[derive(Clone, Debug, Default)]\npub struct AlertSpec {\n    pub message: String,\n}\n\n#[derive(Clone, Debug, Default)]\npub struct AlertStatus {\n    pub sent: bool,\n}\n",
                ),
            ),
        ],
        &Options::default(),
    );
    insta::assert_snapshot!(out);
}

/// `+scale`: the kind's `ResourceInfo` names its replica paths as JSON field names.
#[test]
fn scale_subresource() {
    let out = generate(
        "scale_subresource",
        &[
            (
                "apis/apps/v1/mod.rs",
                "//! +groupName=apps.example.com\n\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/apps/v1/types.rs",
                &types(
                    "/// +genclient\n/// +scale=specReplicasPath=.spec.replicas,statusReplicasPath=.status.readyReplicas,labelSelectorPath=.status.selector\n#[derive(Clone, Debug, Default)]\npub struct Fleet {\n    pub metadata: ObjectMeta,\n    pub spec: FleetSpec,\n    pub status: Option<FleetStatus>,\n}\n\n#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]\npub struct FleetSpec {\n    pub replicas: Option<i32>,\n}\n\n#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct FleetStatus {\n    pub ready_replicas: i32,\n    pub selector: String,\n}\n",
                ),
            ),
        ],
        &Options::default(),
    );
    let flat: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(r#"status_replicas_path : & ["status", "readyReplicas"]"#),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn cluster_scoped() {
    let out = generate(
        "cluster_scoped",
        &[(
            "apis/infra.example.com/v1/types.rs",
            &types(
                "/// +genclient\n/// +genclient:nonNamespaced\n#[derive(Clone, Default)]\npub struct Cluster {\n    pub metadata: ObjectMeta,\n    pub spec: ClusterSpec,\n}\n\n#[derive(Clone, Default)]\npub struct ClusterSpec {\n    pub nodes: i32,\n}\n",
            ),
        )],
        &Options::default(),
    );
    insta::assert_snapshot!(out);
}

#[test]
fn readonly_without_status() {
    let out = generate(
        "readonly",
        &[(
            "apis/metrics.example.com/v1beta1/types.rs",
            &types(
                "/// +genclient\n/// +genclient:readonly\n#[derive(Clone, Default)]\npub struct PodMetrics {\n    pub metadata: ObjectMeta,\n    pub window: String,\n}\n",
            ),
        )],
        &Options::default(),
    );
    insta::assert_snapshot!(out);
}

#[test]
fn irregular_plurals_and_resource_name() {
    let out = generate(
        "plurals",
        &[(
            "apis/net.example.com/v1/types.rs",
            &types(
                "#[derive(Clone, Default)]\npub struct Policy {\n    pub metadata: ObjectMeta,\n}\n\n#[derive(Clone, Default)]\npub struct Gateway {\n    pub metadata: ObjectMeta,\n}\n\n#[derive(Clone, Default)]\npub struct Ingress {\n    pub metadata: ObjectMeta,\n}\n\n/// +resourceName=leases\n#[derive(Clone, Default)]\npub struct Lease2 {\n    pub metadata: ObjectMeta,\n}\n",
            ),
        )],
        &Options::default(),
    );
    for (kind, plural) in [
        ("Policy", "policies"),
        ("Gateway", "gateways"),
        ("Ingress", "ingresses"),
        ("Lease2", "leases"),
    ] {
        let flat: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!(
                "kind : \"{kind}\", list_kind : \"{kind}List\", plural : \"{plural}\""
            )),
            "{kind} → {plural}:\n{out}"
        );
    }
    insta::assert_snapshot!(out);
}

/// Root fields go on the wire in camelCase; `Option`s and empty collections are omitted, and so
/// are `+optional` strings, bools and numbers holding their zero value (Go's `omitempty`); fields
/// read as their default when absent only when their type has one.
#[test]
fn root_field_codec() {
    let out = generate(
        "root_fields",
        &[(
            "apis/pager/v1/types.rs",
            &types(
                "use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;\nuse k8s_openapi::apimachinery::pkg::api::resource::Quantity;\n\n/// +genclient\n#[derive(Clone)]\npub struct Page {\n    pub metadata: ObjectMeta,\n    pub r#type: String,\n    pub last_sent_time: Option<Time>,\n    pub recipients: Vec<String>,\n    pub labels_by_team: BTreeMap<String, String>,\n    pub fast: std::collections::HashMap<String, Vec<i64>>,\n    pub budget: Quantity,\n    pub nested: Nested,\n    pub no_default: NoDefault,\n    pub boxed: Box<Nested>,\n    pub count: u32,\n    pub ratio: f64,\n    pub pod: k8s_openapi::api::core::v1::PodSpec,\n    /// +optional\n    pub description: String,\n    /// +optional\n    pub global_default: bool,\n    /// +optional\n    pub weight: i32,\n    pub in_order: indexmap::IndexMap<String, String>,\n}\n\n#[derive(Clone, Default)]\npub struct Nested {\n    pub deep: Option<Box<Nested>>,\n}\n\n#[derive(Clone)]\npub enum NoDefault {\n    A,\n}\n",
            ),
        )],
        &Options::default(),
    );
    // Spot checks of the review points (whitespace-insensitive); the snapshot shows the rest.
    let flat: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "r#type : ::std::string::String = \"type\", always, [default];",
        "recipients : ::std::vec::Vec < ::std::string::String > = \"recipients\", empty, [default];",
        "\"labelsByTeam\", empty, [rename = \"labelsByTeam\", default];",
        "\"lastSentTime\", none, [rename = \"lastSentTime\", default];",
        "no_default : self::types::NoDefault = \"noDefault\", always, [rename = \"noDefault\"];",
        "pod : k8s_openapi::api::core::v1::PodSpec = \"pod\", always, [];",
        "count : u32 = \"count\", always, [default];",
        "description : ::std::string::String = \"description\", empty, [default];",
        "\"globalDefault\", zero, [rename = \"globalDefault\", default];",
        "weight : i32 = \"weight\", zero, [default];",
        "in_order : ::indexmap::IndexMap < ::std::string::String, ::std::string::String > = \"inOrder\", empty, [rename = \"inOrder\", default];",
    ] {
        assert!(flat.contains(expected), "{expected}\n{out}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn types_in_nested_modules_and_crate_overrides() {
    let opts = Options {
        crates: Crates {
            k8s_openapi: "::my_k8s".into(),
            scheme: "crate::scheme".into(),
            ..Crates::default()
        }
        .paths()
        .unwrap(),
    };
    let out = generate(
        "nested_modules",
        &[
            (
                "apis/pager/v2/mod.rs",
                "mod kinds;\npub use kinds::alert::*;\n",
            ),
            (
                "apis/pager/v2/kinds/alert.rs",
                &types(
                    "use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;\n\n#[derive(Clone, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub at: Time,\n    pub spec: super::spec::Spec,\n}\n",
                ),
            ),
            (
                "apis/pager/v2/kinds/spec.rs",
                "#[derive(Clone, Default)]\npub struct Spec {\n    pub text: String,\n}\n",
            ),
        ],
        &opts,
    );
    assert!(
        !out.contains("::k8s_openapi"),
        "the k8s-openapi path is overridable:\n{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn hubs_get_object_impls_and_opted_out_packages_nothing() {
    let loaded = load_fixture(
        "skips",
        &[
            ("apis/pager/mod.rs", "mod types;\n"),
            (
                "apis/pager/types.rs",
                &types("#[derive(Clone)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n}\n"),
            ),
            (
                "apis/pager/v1/mod.rs",
                "//! +k8s:register-gen=false\nmod types;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                &types("#[derive(Clone)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n}\n"),
            ),
            (
                "apis/pager/v2/types.rs",
                &types("#[derive(Clone)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n}\n"),
            ),
        ],
    );
    let files: Vec<String> = loaded
        .model
        .packages
        .iter()
        .flat_map(|p| RegisterGen.generate_package(&loaded.model, p, &Options::default()))
        .map(|f| f.path.display().to_string())
        .collect();
    // The hub gets its kinds' `Object` impls only; the opted-out v1 nothing.
    assert_eq!(
        files,
        [
            "pager/zz_generated.register.rs",
            "pager/v2/zz_generated.register.rs"
        ]
    );
    let hub = loaded
        .model
        .packages
        .iter()
        .find(|p| p.is_internal())
        .unwrap();
    let tokens = register_gen::hub_package(hub, &Options::default()).to_string();
    assert_eq!(
        tokens,
        ":: kube_codegen_scheme :: impl_object ! (self :: types :: Alert) ;"
    );
}

/// Whatever the loader accepts, generation neither panics nor emits tokens that do not parse.
#[test]
fn odd_but_valid_inputs_generate_parsable_code() {
    let loaded = load_fixture(
        "odd",
        &[(
            "apis/odd/v1/types.rs",
            &types(
                "#[derive(Clone)]\npub struct r#Kind {\n    pub metadata: ObjectMeta,\n    pub r#match: Option<String>,\n    pub r#struct: Vec<Vec<Option<Box<String>>>>,\n    pub generic: Option<k8s_openapi::List<String>>,\n}\n\n#[derive(Clone)]\npub struct Empty {\n    pub metadata: ObjectMeta,\n}\n",
            ),
        )],
    );
    for p in &loaded.model.packages {
        let _ = format(register_gen::package(p, &Options::default()));
    }
}

/// A kind implementing by hand a trait register-gen implements for it (its serde, k8s-openapi's
/// `Resource`/`Metadata`, kube's `Resource`) would not compile next to the generated impl:
/// E0302 at the impl, whether the trait is named by its path or through a `use`. A trait of the
/// module's own of the same name, or such an impl for a type that is not a kind, is fine.
#[test]
fn hand_written_impls_of_generated_kind_traits_are_errors() {
    let loaded = load_fixture(
        "hand_impls",
        &[(
            "apis/pager/v1/types.rs",
            &[
                "//! +groupName=pager.k8s.co\n",
                META,
                "use serde::Serialize;\n\n/// +genclient\n#[derive(Clone, Debug, Default)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}\n\n#[derive(Clone, Debug, Default)]\npub struct AlertSpec {\n    pub message: String,\n}\n\nimpl Serialize for Alert {\n    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_unit() }\n}\n\nimpl k8s_openapi::Metadata for Alert {\n    type Ty = ObjectMeta;\n    fn metadata(&self) -> &ObjectMeta { &self.metadata }\n    fn metadata_mut(&mut self) -> &mut ObjectMeta { &mut self.metadata }\n}\n\npub trait Kind {}\nimpl Kind for Alert {}\n\nimpl k8s_openapi::Resource for AlertSpec {\n    const API_VERSION: &'static str = \"x\"; const GROUP: &'static str = \"\"; const KIND: &'static str = \"K\"; const VERSION: &'static str = \"v\"; const URL_PATH_SEGMENT: &'static str = \"x\"; type Scope = k8s_openapi::NamespaceResourceScope;\n}\n",
            ].concat(),
        )],
    );
    let diags = RegisterGen.check(&loaded.model);
    let rendered = kube_codegen_model::testing::render(&tmp_root(), &loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0302", "E0302"],
        "{rendered}"
    );
    assert!(
        rendered.contains("error[E0302]: kind `Alert` implements `serde::Serialize` by hand"),
        "{rendered}"
    );
    assert!(
        rendered.contains("kind `Alert` implements `k8s_openapi::Metadata` by hand"),
        "{rendered}"
    );
    assert!(rendered.contains("impl Serialize for Alert"), "{rendered}");
    assert!(!rendered.contains("AlertSpec"), "{rendered}");
}
