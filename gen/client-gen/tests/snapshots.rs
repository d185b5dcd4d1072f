//! client-gen on small fixtures: the generated clientset (snapshots), the naming of group/version
//! clients and accessors, the fake's registrations (through the hub when versions convert), and
//! the diagnostics for types it cannot name and methods it cannot write.

use std::path::PathBuf;

use client_gen::ClientGen;
use kube_codegen_model::Loaded;
use kube_codegen_model::output::{Content, Generator, Options};

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("client-gen")
}

/// Loads a fixture whose input is the crate module `rust_path`, or without a Rust path.
fn load(name: &str, files: &[(&str, &str)], rust_path: Option<&str>) -> Loaded {
    kube_codegen_model::testing::load_fixture_at(&tmp_root(), name, files, rust_path)
}

fn render_files(loaded: &Loaded) -> String {
    let mut out = String::new();
    for f in ClientGen.generate_model(&loaded.model, &Options::default()) {
        let Content::Rust(tokens) = f.content else {
            panic!("client-gen writes Rust")
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

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n";

const WIDGETS: &str = r#"
/// A widget, scaled through `scale`.
/// +genclient
/// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale
/// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s_openapi::api::autoscaling::v1::Scale,result=k8s_openapi::api::autoscaling::v1::Scale
/// +genclient:method=Evict,verb=create,subresource=eviction,input=Eviction,result=Eviction
#[derive(Clone, Debug, Default)]
pub struct Widget {
    pub metadata: ObjectMeta,
    pub spec: WidgetSpec,
    pub status: Option<WidgetStatus>,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WidgetSpec {
    pub size: i32,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WidgetStatus {
    pub ready: bool,
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Eviction {
    pub reason: String,
}

/// Cluster-wide rules: `policies`.
/// +genclient
/// +genclient:nonNamespaced
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub metadata: ObjectMeta,
}

/// +genclient
/// +genclient:readonly
#[derive(Clone, Debug, Default)]
pub struct WidgetSnapshot {
    pub metadata: ObjectMeta,
    pub status: Option<WidgetStatus>,
}

/// +genclient
/// +genclient:noStatus
#[derive(Clone, Debug, Default)]
pub struct Reservation {
    pub metadata: ObjectMeta,
    pub status: Option<WidgetStatus>,
}

/// +genclient
/// +genclient:onlyVerbs=get,list
#[derive(Clone, Debug, Default)]
pub struct Gauge {
    pub metadata: ObjectMeta,
}

/// Not a client kind: no `+genclient`.
#[derive(Clone, Debug, Default)]
pub struct Internal {
    pub metadata: ObjectMeta,
}
"#;

#[test]
fn clientset_for_every_client_flavour() {
    let types = format!("{META}{WIDGETS}");
    let loaded = load(
        "flavours",
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/widgets/v1/types.rs", &types),
        ],
        Some("widgets_api"),
    );
    let diags = ClientGen.check(&loaded.model);
    assert!(diags.is_empty(), "{diags:?}");
    let out = render_files(&loaded);
    // Verb sets follow the tags.
    assert!(out.contains("pub enum WidgetSnapshotVerbs {}"), "{out}");
    assert!(
        !out.contains("verbs::Create for WidgetSnapshotVerbs"),
        "{out}"
    );
    assert!(
        !out.contains("verbs::UpdateStatus for ReservationVerbs"),
        "{out}"
    );
    assert!(out.contains("verbs::Update for ReservationVerbs"), "{out}");
    assert!(out.contains("verbs::Get for GaugeVerbs"), "{out}");
    assert!(!out.contains("verbs::Delete for GaugeVerbs"), "{out}");
    assert!(!out.contains("InternalVerbs"), "{out}");
    // Scope: cluster-scoped kinds have no namespace and no all-namespaces client.
    assert!(
        out.contains("pub fn policies(&self) -> PolicyClient"),
        "{out}"
    );
    assert!(!out.contains("policies_all_namespaces"), "{out}");
    assert!(
        out.contains("pub fn widget_snapshots(&self, namespace: &str)"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn groups_sharing_a_first_label_and_versions_through_the_hub() {
    let kind = |extra: &str| {
        format!(
            "{META}/// +genclient\n#[derive(Clone, Debug, Default)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n{extra}}}\n"
        )
    };
    let loaded = load(
        "groups",
        &[
            (
                "apis/apps/mod.rs",
                "//! +groupName=apps.example.com\npub mod v1;\npub mod v2;\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/apps/types.rs",
                &format!(
                    "{META}#[derive(Clone, Debug, Default)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
            (
                "apis/apps/v1/mod.rs",
                "//! +k8s:conversion-gen=crate::apps\nmod types;\npub use types::*;\n",
            ),
            ("apis/apps/v1/types.rs", &kind("")),
            (
                "apis/apps/v2/mod.rs",
                "//! +k8s:conversion-gen=crate::apps\nmod types;\npub use types::*;\n",
            ),
            ("apis/apps/v2/types.rs", &kind("")),
            (
                "apis/otherapps/v1beta1/mod.rs",
                "//! +groupName=apps.other.io\nmod types;\npub use types::*;\n",
            ),
            ("apis/otherapps/v1beta1/types.rs", &kind("")),
        ],
        Some("crate::apis"),
    );
    assert!(ClientGen.check(&loaded.model).is_empty());
    let out = render_files(&loaded);
    // Both groups start with `apps`: their clients are named by the whole group.
    assert!(out.contains("pub fn apps_example_com_v1(&self)"), "{out}");
    assert!(out.contains("pub fn apps_other_io_v1beta1(&self)"), "{out}");
    // Paths inside the crate stay `crate::…`.
    assert!(out.contains("crate::apis::apps::v1::Thing"), "{out}");
    // v1 and v2 convert through the hub: one resource kept as the hub type.
    assert!(
        out.contains("Resource::<crate::apis::apps::Thing>::hub()"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn types_it_cannot_name_and_methods_it_cannot_write() {
    let types = format!(
        "{META}/// +genclient\n/// +genclient:method=ListScales,verb=list,subresource=scale\n/// +genclient:method=Get,verb=get,subresource=scale\n#[derive(Clone, Debug, Default)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let loaded = load(
        "diagnostics",
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/widgets/v1/types.rs", &types),
        ],
        None,
    );
    let diags = ClientGen.check(&loaded.model);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0701", "E0702", "E0710"]);
    let rendered = loaded
        .sources
        .render(&diags)
        .replace(&format!("{}/", tmp_root().display()), "");
    insta::assert_snapshot!(rendered);
}

/// A group directory whose name is no Rust identifier (`example.com/v1/`) gives no module path:
/// E0701 names the directory and the identifier to rename it to, and nothing else is reported
/// (no E0703 asking for a re-export that is there).
#[test]
fn a_directory_that_is_no_rust_identifier() {
    let types = format!(
        "{META}/// +genclient\n#[derive(Clone, Debug, Default)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let loaded = load(
        "dotted",
        &[
            (
                "apis/example.com/v1/mod.rs",
                "//! +groupName=example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/example.com/v1/types.rs", &types),
        ],
        Some("crate::apis"),
    );
    let diags = ClientGen.check(&loaded.model);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0701"], "{diags:?}");
    let rendered = loaded.sources.render(&diags);
    assert!(
        rendered.contains("its directory `example.com` is not a Rust identifier, so `crate::apis::example.com::v1` is no module path"),
        "{rendered}"
    );
    assert!(
        rendered
            .contains("rename the directory `example.com` to a Rust identifier (`example_com`)"),
        "{rendered}"
    );
}

#[test]
fn nothing_without_client_kinds() {
    let loaded = load(
        "none",
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/widgets/v1/types.rs",
                &format!(
                    "{META}#[derive(Clone, Debug)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
        ],
        Some("widgets_api"),
    );
    assert!(
        ClientGen
            .generate_model(&loaded.model, &Options::default())
            .is_empty()
    );
}
