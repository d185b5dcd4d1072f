//! What the loader infers from layout and tags: groups, versions, hubs, roots, plurals, scope,
//! verbs, docs and type resolution.

use kube_codegen_model::tags::{Grammar, TAGS};
use kube_codegen_model::{
    ColumnType, ConversionTag, FieldType, Input, IntType, KnownType, ListType, Loaded, MapKind,
    MapType, Origin, Package, PatchStrategy, Presence, RustPath, TypeBody, TypeDef, Verb, load,
};
use tempfile::TempDir;

fn fixture(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn load_at(files: &[(&str, &str)], input: &str) -> Loaded {
    let root = fixture(files);
    match load(&[Input::new(root.path().join(input))]) {
        Ok(l) => l,
        Err(f) => panic!("unexpected failure:\n{f}"),
    }
}

fn load_ok(files: &[(&str, &str)]) -> Loaded {
    load_at(files, "apis")
}

/// The codes of a failed load.
fn error_codes(files: &[(&str, &str)]) -> Vec<&'static str> {
    let root = fixture(files);
    match load(&[Input::new(root.path().join("apis"))]) {
        Ok(l) => panic!("expected a failure, got {:#?}", l.model),
        Err(f) => f.diagnostics.iter().map(|d| d.code).collect(),
    }
}

fn package<'a>(l: &'a Loaded, dir: &str) -> &'a Package {
    l.model
        .packages
        .iter()
        .find(|p| p.dir.to_str() == Some(dir))
        .unwrap_or_else(|| {
            let dirs: Vec<_> = l.model.packages.iter().map(|p| p.dir.clone()).collect();
            panic!("no package {dir}; have {dirs:?}")
        })
}

fn ty<'a>(p: &'a Package, name: &str) -> &'a TypeDef {
    p.type_named(name)
        .unwrap_or_else(|| panic!("no type {name}"))
}

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n";

/// A root type `name` with the given doc/tag lines.
fn kind(name: &str, tags: &[&str]) -> String {
    let mut s = String::new();
    for t in tags {
        s.push_str(&format!("/// {t}\n"));
    }
    s.push_str(&format!(
        "#[derive(Clone, Debug, Default)]\npub struct {name} {{\n    pub metadata: ObjectMeta,\n    pub spec: String,\n}}\n\n"
    ));
    s
}

fn types_rs(kinds: &[String]) -> String {
    format!("{META}\n{}", kinds.concat())
}

#[test]
fn group_inferred_from_directory() {
    let l = load_ok(&[(
        "apis/pager.example.com/v1/types.rs",
        &types_rs(&[kind("Alert", &[])]),
    )]);
    let p = package(&l, "pager.example.com/v1");
    assert_eq!(p.group, "pager.example.com");
    assert_eq!(
        p.group_origin,
        Origin::Inferred("directory `pager.example.com`".into())
    );
    assert_eq!(p.version.as_deref(), Some("v1"));
    assert!(!p.is_internal());
    assert_eq!(p.module, ["pager.example.com", "v1"]);
}

#[test]
fn group_name_tag_overrides_directory_for_every_package_of_the_group() {
    let l = load_ok(&[
        (
            "apis/pager/mod.rs",
            "mod types;\npub mod v1;\npub mod v2;\n",
        ),
        ("apis/pager/types.rs", &types_rs(&[kind("Alert", &[])])),
        (
            "apis/pager/v1/mod.rs",
            "//! Version one.\n//!\n//! +groupName=pager.k8s.co\n\nmod types;\n",
        ),
        ("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])])),
        ("apis/pager/v2/types.rs", &types_rs(&[kind("Alert", &[])])),
    ]);
    for dir in ["pager", "pager/v1", "pager/v2"] {
        let p = package(&l, dir);
        assert_eq!(p.group, "pager.k8s.co", "{dir}");
        assert!(matches!(p.group_origin, Origin::Tag(_)), "{dir}");
    }
    assert_eq!(l.model.packages.len(), 3);
}

#[test]
fn conflicting_group_names_are_an_error() {
    let codes = error_codes(&[
        (
            "apis/pager/v1/mod.rs",
            "//! +groupName=a.example.com\nmod types;\n",
        ),
        ("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])])),
        (
            "apis/pager/v2/mod.rs",
            "//! +groupName=b.example.com\nmod types;\n",
        ),
        ("apis/pager/v2/types.rs", &types_rs(&[kind("Alert", &[])])),
    ]);
    assert_eq!(codes, ["E0107"]);
}

#[test]
fn version_files_and_version_dirs() {
    let l = load_ok(&[
        ("apis/pager/v1.rs", &types_rs(&[kind("Alert", &[])])),
        (
            "apis/pager/v2beta1/mod.rs",
            "mod types;\npub use types::*;\npub mod extra {\n    pub mod more;\n}\n",
        ),
        (
            "apis/pager/v2beta1/types.rs",
            &types_rs(&[kind("Alert", &[])]),
        ),
        (
            "apis/pager/v2beta1/extra/more.rs",
            "#[derive(Clone)]\npub struct More;\n",
        ),
    ]);
    let v1 = package(&l, "pager/v1");
    assert_eq!(v1.version.as_deref(), Some("v1"));
    assert_eq!(v1.root_file.to_str(), Some("pager/v1.rs"));
    assert!(
        ty(v1, "Alert").module.is_empty(),
        "v1.rs is the package module itself"
    );

    let v2 = package(&l, "pager/v2beta1");
    assert_eq!(v2.version.as_deref(), Some("v2beta1"));
    assert_eq!(v2.root_file.to_str(), Some("pager/v2beta1/mod.rs"));
    assert_eq!(ty(v2, "Alert").module, ["types"]);
    assert_eq!(ty(v2, "More").module, ["extra", "more"]);
    assert_eq!(l.model.packages.len(), 2, "no hub without hub files");
}

#[test]
fn internal_hub_detected() {
    let l = load_ok(&[
        (
            "apis/pager/mod.rs",
            "//! +groupName=pager.k8s.co\npub mod v1;\nmod types;\n",
        ),
        ("apis/pager/types.rs", &types_rs(&[kind("Alert", &[])])),
        ("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])])),
    ]);
    let hub = package(&l, "pager");
    assert!(hub.is_internal());
    assert_eq!(hub.version, None);
    assert_eq!(hub.display_name(), "pager.k8s.co (internal)");
    assert_eq!(hub.root_file.to_str(), Some("pager/mod.rs"));
    assert_eq!(ty(hub, "Alert").module, ["types"]);
    assert!(
        ty(hub, "Alert").resource.is_some(),
        "hub kinds are roots too"
    );
    let v1 = package(&l, "pager/v1");
    assert_eq!(v1.display_name(), "pager.k8s.co/v1");
}

#[test]
fn hub_rooted_at_group_file_beside_group_dir() {
    let l = load_ok(&[
        ("apis/pager.rs", &types_rs(&[kind("Alert", &[])])),
        ("apis/pager/v1.rs", &types_rs(&[kind("Alert", &[])])),
    ]);
    let hub = package(&l, "pager");
    assert!(hub.is_internal());
    assert_eq!(hub.root_file.to_str(), Some("pager.rs"));
}

#[test]
fn input_may_be_a_version_directory() {
    let l = load_at(
        &[(
            "apis/pager/v1alpha1/types.rs",
            &types_rs(&[kind("Alert", &[])]),
        )],
        "apis/pager/v1alpha1",
    );
    assert_eq!(l.model.packages.len(), 1);
    let p = &l.model.packages[0];
    assert_eq!(p.group, "pager");
    assert_eq!(p.version.as_deref(), Some("v1alpha1"));
}

#[test]
fn rust_path_from_given_module_path() {
    let root = fixture(&[("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])]))]);
    let l = load(&[Input {
        dir: root.path().join("apis"),
        rust_path: Some("crate::apis".into()),
    }])
    .unwrap();
    assert_eq!(
        l.model.packages[0].rust_path.as_deref(),
        Some("crate::apis::pager::v1")
    );
}

#[test]
fn plurals_inferred_and_overridden() {
    let l = load_ok(&[(
        "apis/net.example.com/v1/types.rs",
        &types_rs(&[
            kind("Policy", &[]),
            kind("Gateway", &[]),
            kind("Ingress", &[]),
            kind("Endpoints", &[]),
            kind("Alert", &["+resourceName=pagerz"]),
        ]),
    )]);
    let p = package(&l, "net.example.com/v1");
    for (k, plural) in [
        ("Policy", "policies"),
        ("Gateway", "gateways"),
        ("Ingress", "ingresses"),
        ("Endpoints", "endpoints"),
        ("Alert", "pagerz"),
    ] {
        let r = ty(p, k).resource.as_ref().unwrap();
        assert_eq!(r.plural, plural, "{k}");
        assert_eq!(r.kind, k);
        assert_eq!(r.singular, k.to_ascii_lowercase());
    }
    let policy = ty(p, "Policy").resource.as_ref().unwrap();
    assert_eq!(
        policy.plural_origin,
        Origin::Inferred("kind `Policy`".into())
    );
    let alert = ty(p, "Alert").resource.as_ref().unwrap();
    assert!(matches!(alert.plural_origin, Origin::Tag(_)));
}

#[test]
fn scope_short_names_categories_and_printer_columns() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &types_rs(&[
            kind(
                "Alert",
                &[
                    "+genclient",
                    "+shortName=al,alr",
                    "+categories=all,pager",
                    "+printcolumn:name=Sent,type=boolean,jsonPath=.status.sent",
                    "+printcolumn:name=Age,type=date,jsonPath=.metadata.creationTimestamp,priority=1,description=\"How old\"",
                ],
            ),
            kind("Node", &["+genclient", "+genclient:nonNamespaced"]),
        ]),
    )]);
    let p = package(&l, "pager/v1");
    let alert = ty(p, "Alert").resource.as_ref().unwrap();
    assert!(alert.namespaced);
    assert_eq!(alert.scope_origin, Origin::Inferred("default".into()));
    assert_eq!(alert.short_names, ["al", "alr"]);
    assert_eq!(alert.categories, ["all", "pager"]);
    assert_eq!(alert.printer_columns.len(), 2);
    let sent = &alert.printer_columns[0];
    assert_eq!(
        (
            sent.name.as_str(),
            sent.type_.as_str(),
            sent.json_path.as_str(),
            sent.priority
        ),
        ("Sent", "boolean", ".status.sent", 0)
    );
    let age = &alert.printer_columns[1];
    assert_eq!(age.priority, 1);
    assert_eq!(age.description.as_deref(), Some("How old"));
    assert_eq!(age.json_path, ".metadata.creationTimestamp");

    let node = ty(p, "Node").resource.as_ref().unwrap();
    assert!(!node.namespaced);
    assert!(matches!(node.scope_origin, Origin::Tag(_)));
}

fn verbs_of(tags: &[&str], with_status: bool) -> Vec<&'static str> {
    let status = if with_status {
        "    pub status: Option<String>,\n"
    } else {
        ""
    };
    let mut src = format!("{META}\n");
    for t in tags {
        src.push_str(&format!("/// {t}\n"));
    }
    src.push_str(&format!(
        "#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n{status}}}\n"
    ));
    let l = load_ok(&[("apis/pager/v1/types.rs", &src)]);
    let r = l.model.packages[0].types[0].resource.clone().unwrap();
    r.client
        .expect("+genclient gives a client")
        .verbs
        .iter()
        .map(|v| v.as_str())
        .collect()
}

#[test]
fn client_verbs() {
    let all = [
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
    assert_eq!(verbs_of(&["+genclient"], true), all);
    let no_status: Vec<&str> = all
        .iter()
        .copied()
        .filter(|v| !v.ends_with("Status"))
        .collect();
    assert_eq!(verbs_of(&["+genclient"], false), no_status);
    assert_eq!(
        verbs_of(&["+genclient", "+genclient:noStatus"], true),
        no_status
    );
    assert_eq!(
        verbs_of(&["+genclient", "+genclient:readonly"], true),
        ["get", "list", "watch"]
    );
    assert_eq!(
        verbs_of(
            &["+genclient", "+genclient:onlyVerbs=watch,create,get"],
            true
        ),
        ["create", "get", "watch"],
        "client-go order, whatever the tag's order"
    );
    assert_eq!(
        verbs_of(
            &[
                "+genclient",
                "+genclient:skipVerbs=delete,deleteCollection,patch,apply,applyStatus"
            ],
            true
        ),
        ["create", "update", "updateStatus", "get", "list", "watch"]
    );
    assert!(verbs_of(&["+genclient", "+genclient:noVerbs"], true).is_empty());

    // No `+genclient`: a root without a client.
    let l = load_ok(&[("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])]))]);
    let r = l.model.packages[0].types[0].resource.as_ref().unwrap();
    assert!(r.client.is_none());
}

#[test]
fn custom_client_methods() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &types_rs(&[kind(
            "Alert",
            &[
                "+genclient",
                "+genclient:method=GetScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale",
                "+genclient:method=name=Ack,verb=update,subresource=ack",
            ],
        )]),
    )]);
    let client = l.model.packages[0].types[0]
        .resource
        .as_ref()
        .unwrap()
        .client
        .clone()
        .unwrap();
    assert_eq!(client.methods.len(), 2);
    assert_eq!(client.methods[0].name, "GetScale");
    assert_eq!(client.methods[0].subresource.as_deref(), Some("scale"));
    assert_eq!(
        client.methods[0].result,
        Some(FieldType::foreign(
            "k8s_openapi::api::autoscaling::v1::Scale"
        ))
    );
    assert_eq!(client.methods[0].verb, Verb::Get);
    assert_eq!(client.methods[1].name, "Ack");
    assert_eq!(client.methods[1].verb, Verb::Update);
    assert_eq!(client.methods[1].result, None, "the kind itself");
}

#[test]
fn docs_have_tag_lines_removed() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n/// Alert is a message to be sent to a person.\n///\n/// It has two paragraphs.\n/// +genclient\n/// +shortName=al\n///\n#[derive(Clone)]\npub struct Alert {{\n    /// Standard object metadata.\n    pub metadata: ObjectMeta,\n    /// The text.\n    /// +optional\n    ///   indented line\n    pub message: Option<String>,\n}}\n"
        ),
    )]);
    let t = &l.model.packages[0].types[0];
    assert_eq!(
        t.docs,
        [
            "Alert is a message to be sent to a person.",
            "",
            "It has two paragraphs."
        ]
    );
    let r = t.resource.as_ref().unwrap();
    assert!(r.client.is_some());
    assert_eq!(r.short_names, ["al"]);
    let message = &t.fields()[1];
    assert_eq!(message.docs, ["The text.", "  indented line"]);
    assert_eq!(message.options.presence, Some(Presence::Optional));
    assert_eq!(t.fields()[0].docs, ["Standard object metadata."]);
}

#[test]
fn package_tags_from_inner_docs() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "//! The pager API.\n//!\n//! +groupName=pager.k8s.co\n//! +k8s:conversion-gen=crate::apis::pager\n//! +k8s:deepcopy-gen=package\n\nmod types;\n",
        ),
        ("apis/pager/v1/types.rs", &types_rs(&[kind("Alert", &[])])),
    ]);
    let p = &l.model.packages[0];
    assert_eq!(
        p.options.conversion.as_ref().map(|c| &c.value),
        Some(&ConversionTag::Through(
            RustPath::parse("crate::apis::pager").unwrap()
        ))
    );
    assert!(p.options.deepcopy);
    assert!(p.options.register && p.options.openapi);
}

#[test]
fn template_with_metadata_is_not_a_root() {
    let l = load_ok(&[(
        "apis/apps.example.com/v1/types.rs",
        &format!(
            "{META}\n/// +genclient\n#[derive(Clone)]\npub struct Deployment {{\n    pub metadata: ObjectMeta,\n    pub spec: DeploymentSpec,\n}}\n\n#[derive(Clone)]\npub struct DeploymentSpec {{\n    pub template: PodTemplate,\n    pub templates: Vec<Option<Box<PodTemplate>>>,\n}}\n\n#[derive(Clone)]\npub struct PodTemplate {{\n    pub metadata: ObjectMeta,\n    pub spec: String,\n}}\n\n/// +genclient\n#[derive(Clone)]\npub struct Forced {{\n    pub metadata: ObjectMeta,\n}}\n\n#[derive(Clone)]\npub struct Holder {{\n    pub forced: Forced,\n}}\n"
        ),
    )]);
    let p = &l.model.packages[0];
    let roots: Vec<&str> = p.roots().map(|(t, _)| t.name.as_str()).collect();
    assert_eq!(
        roots,
        ["Deployment", "Forced"],
        "+genclient makes an embedded type a root"
    );
    assert!(ty(p, "PodTemplate").resource.is_none());
}

#[test]
fn roots_deriving_serde_are_rejected() {
    let codes = error_codes(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone, serde::Serialize)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n#[derive(Clone, Deserialize)]\npub struct Page {{\n    pub metadata: ObjectMeta,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct Spec {{\n    pub text: String,\n}}\n"
        ),
    )]);
    assert_eq!(codes, ["E0302", "E0302"], "non-roots may derive serde");
}

#[test]
fn use_paths_resolve_to_known_and_local_types() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "mod types;\npub use types::*;\nmod common;\n\n#[derive(Clone)]\npub struct Shared {\n    pub n: i32,\n}\n",
        ),
        (
            "apis/pager/v1/common.rs",
            "#[derive(Clone)]\npub struct Common {\n    pub n: u8,\n}\n",
        ),
        (
            "apis/pager/v1/types.rs",
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};\n\
             use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;\n\
             use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;\n\
             use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;\n\
             use k8s_openapi::api::core::v1::PodSpec;\n\
             use super::common::Common;\n\
             use std::collections::{BTreeMap, HashMap};\n\n\
             #[derive(Clone)]\n\
             pub struct Alert {\n\
             \x20   pub metadata: ObjectMeta,\n\
             \x20   pub sent: Option<Time>,\n\
             \x20   pub micro: metav1::MicroTime,\n\
             \x20   pub size: Q,\n\
             \x20   pub port: IntOrString,\n\
             \x20   pub raw: serde_json::Value,\n\
             \x20   pub pod: PodSpec,\n\
             \x20   pub shared: super::Shared,\n\
             \x20   pub common: Common,\n\
             \x20   pub me: self::Part,\n\
             \x20   pub parts: BTreeMap<String, Part>,\n\
             \x20   pub fast: HashMap<String, Vec<u8>>,\n\
             \x20   pub elsewhere: super::super::Other,\n\
             \x20   pub absolute: crate::Thing,\n\
             }\n\n\
             #[derive(Clone)]\n\
             pub struct Part {\n\
             \x20   pub n: i64,\n\
             }\n",
        ),
    ]);
    let p = &l.model.packages[0];
    let alert = ty(p, "Alert");
    let field = |n: &str| field_type(alert, n);
    assert_eq!(field("metadata"), FieldType::Known(KnownType::ObjectMeta));
    assert_eq!(
        field("sent"),
        FieldType::Option(Box::new(FieldType::Known(KnownType::Time)))
    );
    assert_eq!(field("micro"), FieldType::Known(KnownType::MicroTime));
    assert_eq!(field("size"), FieldType::Known(KnownType::Quantity));
    assert_eq!(field("port"), FieldType::Known(KnownType::IntOrString));
    assert_eq!(field("raw"), FieldType::Known(KnownType::Json));
    assert_eq!(
        field("pod"),
        FieldType::foreign("k8s_openapi::api::core::v1::PodSpec")
    );
    // `super::X` written in types.rs means `self::X` from the package module: a local type here.
    assert_eq!(field("shared"), FieldType::Local("Shared".into()));
    assert_eq!(field("common"), FieldType::Local("Common".into()));
    assert_eq!(field("me"), FieldType::Local("Part".into()));
    assert_eq!(
        field("parts"),
        FieldType::Map {
            kind: MapKind::BTree,
            value: Box::new(FieldType::Local("Part".into()))
        }
    );
    assert_eq!(
        field("fast"),
        FieldType::Map {
            kind: MapKind::Hash,
            value: Box::new(FieldType::Vec(Box::new(FieldType::Int(IntType::U8))))
        }
    );
    // Paths leaving the package are rebased but stay foreign.
    assert_eq!(field("elsewhere"), FieldType::foreign("super::Other"));
    assert_eq!(field("absolute"), FieldType::foreign("crate::Thing"));
}

#[test]
fn super_path_to_a_foreign_module_is_rebased_to_self() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub x: super::common::X,\n    pub y: Option<self::inner::Y>,\n}}\n"
        ),
    )]);
    let alert = &l.model.packages[0].types[0];
    assert_eq!(alert.fields()[1].ty, FieldType::foreign("self::common::X"));
    assert_eq!(
        alert.fields()[2].ty,
        FieldType::Option(Box::new(FieldType::foreign("self::types::inner::Y")))
    );
}

#[test]
fn known_type_names_need_the_right_crate() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub mine: my_crate::Time,\n    pub theirs: kube::core::Duration,\n}}\n"
        ),
    )]);
    let f = l.model.packages[0].types[0].fields();
    assert_eq!(f[1].ty, FieldType::foreign("my_crate::Time"));
    assert_eq!(f[2].ty, FieldType::Known(KnownType::Duration));
}

#[test]
fn raw_identifiers_and_shapes() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub r#type: String,\n    pub last_update_time: Option<String>,\n}}\n\n#[derive(Clone)]\npub struct Tuple(pub String, pub i32);\n\n#[derive(Clone)]\npub enum Shape {{\n    Unit,\n    Tuple(String),\n    Struct {{ r#ref: String }},\n}}\n"
        ),
    )]);
    let p = &l.model.packages[0];
    let f = &ty(p, "Alert").fields()[1];
    assert_eq!(f.name, "type");
    assert!(f.raw);
    assert_eq!(f.wire_name(), "type");
    assert_eq!(ty(p, "Alert").fields()[2].wire_name(), "lastUpdateTime");
    assert_eq!(
        ty(p, "Tuple").body,
        TypeBody::Tuple(vec![FieldType::String, FieldType::Int(IntType::I32)])
    );
    match &ty(p, "Shape").body {
        TypeBody::Enum(v) => assert_eq!(v.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tag_table_is_consistent() {
    let mut names: Vec<&str> = TAGS.iter().map(|t| t.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate tag names");
    for t in TAGS {
        assert!(!t.places.is_empty(), "+{} has no place", t.name);
        assert!(!t.consumers.is_empty(), "+{} has no consumer", t.name);
        assert!(!t.doc.is_empty(), "+{} has no doc", t.name);
        assert!(
            !t.name.starts_with('+') && !t.name.contains('='),
            "+{} is written without `+`/`=`",
            t.name
        );
        match t.grammar {
            Grammar::KeyValues { keys, required } => {
                for r in required {
                    assert!(
                        keys.contains(r),
                        "+{}: required key `{r}` not in keys",
                        t.name
                    );
                }
                let mut k = keys.to_vec();
                k.sort_unstable();
                k.dedup();
                assert_eq!(k.len(), keys.len(), "+{}: duplicate keys", t.name);
            }
            Grammar::OneOf(words) | Grammar::SubsetOf(words) => {
                assert!(!words.is_empty(), "+{}: empty word list", t.name)
            }
            _ => {}
        }
    }
    let table = kube_codegen_model::tags::markdown_table();
    assert_eq!(table.lines().count(), TAGS.len() + 2);
}

#[test]
fn wire_names_follow_serde_attributes_and_camel_case_for_kinds() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n\
             /// +genclient\n\
             pub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n    pub last_seen: Option<String>,\n}}\n\
             #[derive(Serialize, Deserialize)]\n\
             #[serde(rename_all = \"camelCase\", deny_unknown_fields)]\n\
             pub struct AlertSpec {{\n    pub retry_count: i32,\n    #[serde(rename = \"URL\")]\n    pub url: String,\n    #[serde(skip)]\n    pub cache: String,\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub note: Option<String>,\n}}\n\
             #[derive(Serialize, Deserialize)]\n\
             #[serde(rename_all = \"SCREAMING_SNAKE_CASE\")]\n\
             pub enum Phase {{\n    NotReady,\n    #[serde(rename = \"ok\")]\n    Ready,\n}}\n\
             #[derive(Serialize, Deserialize)]\n\
             pub struct Plain {{\n    pub some_field: i32,\n}}\n"
        ),
    )]);
    let p = package(&l, "pager/v1");
    let wires = |t: &TypeDef| {
        t.fields()
            .iter()
            .map(|f| f.wire.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(wires(ty(p, "Alert")), ["metadata", "spec", "lastSeen"]);
    let spec = ty(p, "AlertSpec");
    assert_eq!(wires(spec), ["retryCount", "URL", "cache", "note"]);
    assert!(spec.serde.deny_unknown_fields);
    assert!(spec.fields()[2].serde.skip);
    assert!(spec.fields()[3].serde.default);
    assert_eq!(
        spec.fields()[3].serde.skip_serializing_if.as_deref(),
        Some("Option::is_none")
    );
    assert_eq!(wires(ty(p, "Plain")), ["some_field"]);
    let TypeBody::Enum(variants) = &ty(p, "Phase").body else {
        panic!("enum");
    };
    let names: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    assert_eq!(names, ["NOT_READY", "ok"]);
}

#[test]
fn inline_modules_are_part_of_the_package() {
    let l = load_ok(&[
        (
            "apis/pager/mod.rs",
            "//! +groupName=pager.k8s.co\npub mod v1;\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/pager/types.rs",
            "#[derive(Clone)]\npub struct HubOnly {\n    pub n: i32,\n}\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\nuse super::super::*;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: spec::AlertSpec,\n    pub hub: HubOnly,\n    pub alias: Labels,\n}}\n\npub type Labels = std::collections::BTreeMap<String, String>;\n\npub mod spec {{\n    use super::*;\n\n    #[derive(Clone)]\n    pub struct AlertSpec {{\n        pub meta: ObjectMeta,\n        pub wrapped: Wrapper<String>,\n        pub labels: Labels,\n    }}\n\n    #[derive(Clone)]\n    pub struct Wrapper<T> {{\n        pub inner: T,\n    }}\n}}\n\n#[cfg(test)]\nmod tests {{\n    pub struct NotAnApiType;\n}}\n"
            ),
        ),
    ]);
    let p = package(&l, "pager/v1");
    let alert = ty(p, "Alert");
    assert_eq!(alert.fields()[1].ty, FieldType::Local("AlertSpec".into()));
    assert_eq!(
        alert.fields()[2].ty,
        FieldType::foreign("super::HubOnly"),
        "a hub type through `use super::super::*`, named from the package module"
    );
    let labels = FieldType::Map {
        kind: MapKind::BTree,
        value: Box::new(FieldType::String),
    };
    assert_eq!(alert.fields()[3].ty, labels, "aliases are their target");
    let spec = ty(p, "AlertSpec");
    assert_eq!(spec.module, ["types", "spec"]);
    assert_eq!(spec.fields()[0].ty, FieldType::Known(KnownType::ObjectMeta));
    assert_eq!(
        spec.fields()[1].ty,
        FieldType::Foreign {
            path: RustPath::parse("self::types::spec::Wrapper").unwrap(),
            args: vec![FieldType::String]
        },
        "a generic type of the package, named through its module"
    );
    assert_eq!(
        spec.fields()[2].ty,
        labels,
        "the parent's alias through `use super::*`"
    );
    let wrapper = ty(p, "Wrapper");
    assert_eq!(
        wrapper.fields()[0].ty,
        FieldType::foreign("T"),
        "a type parameter"
    );
    assert!(
        p.type_named("NotAnApiType").is_none(),
        "test modules are not API"
    );
}

/// Standard types imported under other names (`use std::collections::BTreeMap as Map;`, a module
/// import) are the standard types; a name imported from elsewhere is not, even one that spells a
/// standard type.
#[test]
fn renamed_standard_imports_are_the_standard_types() {
    let l = load_ok(&[(
        "apis/ren/v1/types.rs",
        &format!(
            "{META}use std::collections::{{BTreeMap as Map, BTreeSet as Set, HashMap as Dict}};\nuse std::collections;\nuse std::sync::Arc as Shared;\nuse self::mine::Vec;\n\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub a: Map<String, String>,\n    pub b: Set<String>,\n    pub c: Dict<String, i32>,\n    pub d: collections::BTreeMap<String, Set<String>>,\n    pub e: Shared<String>,\n    pub f: Vec,\n}}\n\npub mod mine {{\n    #[derive(Clone)]\n    pub struct Vec {{\n        pub n: i32,\n    }}\n}}\n"
        ),
    )]);
    let thing = ty(package(&l, "ren/v1"), "Thing");
    let set = FieldType::Set {
        ordered: true,
        elem: Box::new(FieldType::String),
    };
    assert_eq!(
        thing.fields()[1].ty,
        FieldType::Map {
            kind: MapKind::BTree,
            value: Box::new(FieldType::String)
        }
    );
    assert_eq!(thing.fields()[2].ty, set);
    assert_eq!(
        thing.fields()[3].ty,
        FieldType::Map {
            kind: MapKind::Hash,
            value: Box::new(FieldType::Int(IntType::I32))
        }
    );
    assert_eq!(
        thing.fields()[4].ty,
        FieldType::Map {
            kind: MapKind::BTree,
            value: Box::new(set)
        }
    );
    assert!(matches!(thing.fields()[5].ty, FieldType::Shared { .. }));
    assert_eq!(thing.fields()[6].ty, FieldType::Local("Vec".into()));
    // The checks of standard types hold through a rename too.
    assert_eq!(
        error_codes(&[(
            "apis/ren/v1/types.rs",
            &format!(
                "{META}use std::collections::BTreeMap as Map;\n\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub a: Map<u32, String>,\n}}\n"
            ),
        )]),
        ["E0201"]
    );
}

/// A type an inline module imports from its parent, which imports it in turn (`use
/// self::other::Tls;` above `mod spec { use super::Tls; }`), is the package's type, as Rust
/// follows the chain.
#[test]
fn import_chains_within_a_file_are_followed() {
    let l = load_ok(&[(
        "apis/rn/v1/types.rs",
        &format!(
            "{META}use self::other::Tls;\nuse k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;\n\n#[derive(Clone)]\npub struct Site {{\n    pub metadata: ObjectMeta,\n    pub spec: spec::SiteSpec,\n}}\n\npub mod other {{\n    #[derive(Clone)]\n    pub struct Tls {{\n        pub secret: String,\n    }}\n}}\n\npub mod spec {{\n    use super::{{Time, Tls}};\n\n    #[derive(Clone)]\n    pub struct SiteSpec {{\n        pub tls: Option<Tls>,\n        pub since: Time,\n        pub deep: deep::Deep,\n    }}\n\n    pub mod deep {{\n        use super::Tls as Again;\n\n        #[derive(Clone)]\n        pub struct Deep {{\n            pub tls: Again,\n        }}\n    }}\n}}\n"
        ),
    )]);
    let p = package(&l, "rn/v1");
    let spec = ty(p, "SiteSpec");
    assert_eq!(
        spec.fields()[0].ty,
        FieldType::Option(Box::new(FieldType::Local("Tls".into())))
    );
    assert_eq!(spec.fields()[1].ty, FieldType::Known(KnownType::Time));
    assert_eq!(ty(p, "Deep").fields()[0].ty, FieldType::Local("Tls".into()));
}

/// Aliases named by a path (`self::Name`, `inner::Labels`, `super::Port` from an inline module)
/// are what they stand for, read where they are declared.
#[test]
fn aliases_named_by_path_are_their_target() {
    let l = load_ok(&[(
        "apis/al/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub a: self::Name,\n    pub b: inner::Labels,\n    pub c: self::inner::Ports,\n    pub d: Option<inner::deeper::Up>,\n}}\n\npub type Name = String;\n\n#[derive(Clone)]\npub struct Port {{\n    pub n: i32,\n}}\n\npub mod inner {{\n    pub type Labels = std::collections::BTreeMap<String, String>;\n    pub type Ports = Vec<super::Port>;\n    pub mod deeper {{\n        pub type Up = super::Labels;\n    }}\n}}\n"
        ),
    )]);
    let thing = ty(package(&l, "al/v1"), "Thing");
    let labels = FieldType::Map {
        kind: MapKind::BTree,
        value: Box::new(FieldType::String),
    };
    assert_eq!(thing.fields()[1].ty, FieldType::String);
    assert_eq!(thing.fields()[2].ty, labels);
    assert_eq!(
        thing.fields()[3].ty,
        FieldType::Vec(Box::new(FieldType::Local("Port".into()))),
        "the alias's own `super::Port`, from where it is declared"
    );
    assert_eq!(
        thing.fields()[4].ty,
        FieldType::Option(Box::new(labels)),
        "an alias of an alias"
    );
}

/// Rust lets an alias name one declared after it, in any order and through other types
/// (`Option<B>`); each is its target, not an unknown type.
#[test]
fn aliases_naming_aliases_declared_later_are_their_target() {
    let l = load_ok(&[(
        "apis/al/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub a: A,\n    pub c: C,\n    pub m: inner::M,\n}}\n\npub type A = Option<B>;\npub type C = Vec<A>;\npub type B = r#Name;\npub type Name = String;\n\npub mod inner {{\n    pub type M = std::collections::BTreeMap<String, N>;\n    pub type N = super::B;\n}}\n"
        ),
    )]);
    let thing = ty(package(&l, "al/v1"), "Thing");
    let a = FieldType::Option(Box::new(FieldType::String));
    assert_eq!(thing.fields()[1].ty, a);
    assert_eq!(thing.fields()[2].ty, FieldType::Vec(Box::new(a)));
    assert_eq!(
        thing.fields()[3].ty,
        FieldType::Map {
            kind: MapKind::BTree,
            value: Box::new(FieldType::String),
        }
    );
}

/// A generic alias (`type Maybe<T> = Option<Vec<T>>;`) is its type with the arguments in place
/// of its parameters, wherever and in whatever order it is declared.
#[test]
fn generic_aliases_are_their_target_with_the_arguments() {
    let l = load_ok(&[(
        "apis/al/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub ml: MaybeList<String>,\n    pub n: Opt<i32>,\n    pub m: ByName<Opt<Sub>>,\n    pub later: Later,\n}}\n\npub type Later = Opt<Sub>;\npub type MaybeList<T> = Option<Vec<T>>;\npub type Opt<T> = Option<T>;\npub type ByName<V> = std::collections::BTreeMap<String, V>;\n\n#[derive(Clone)]\npub struct Sub {{\n    pub x: i32,\n}}\n"
        ),
    )]);
    let thing = ty(package(&l, "al/v1"), "Thing");
    let sub = || Box::new(FieldType::Local("Sub".into()));
    assert_eq!(
        thing.fields()[1].ty,
        FieldType::Option(Box::new(FieldType::Vec(Box::new(FieldType::String))))
    );
    assert_eq!(
        thing.fields()[2].ty,
        FieldType::Option(Box::new(FieldType::Int(IntType::I32)))
    );
    assert_eq!(
        thing.fields()[3].ty,
        FieldType::Map {
            kind: MapKind::BTree,
            value: Box::new(FieldType::Option(sub())),
        }
    );
    assert_eq!(thing.fields()[4].ty, FieldType::Option(sub()));
}

#[test]
fn typed_field_and_type_tags() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\nuse serde::{{Deserialize, Serialize}};\n\n/// +genclient\n/// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale\n/// +genclient:method=UpdateScale,verb=update,subresource=scale,input=Scale,result=Scale\n/// +printcolumn:name=Ready,type=boolean,jsonPath=.status.ready,priority=1\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +listType=map\n    /// +listMapKey=containerPort\n    /// +listMapKey=protocol\n    /// +patchStrategy=merge,retainKeys\n    /// +patchMergeKey=containerPort\n    pub ports: Vec<Port>,\n    /// +default=3\n    /// +optional\n    pub replicas: Option<i32>,\n    /// +default=\"fast\"\n    pub mode: Option<Mode>,\n    /// +mapType=atomic\n    pub labels: std::collections::BTreeMap<String, String>,\n    /// +k8s:conversion-gen=false\n    /// +k8s:openapi-gen=false\n    pub internal: i32,\n}}\n\nuse k8s_openapi::api::autoscaling::v1::Scale;\n\n/// +structType=atomic\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct Port {{\n    pub container_port: i32,\n    pub protocol: String,\n}}\n\n/// +enum\n/// +k8s:deepcopy-gen=false\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = \"lowercase\")]\npub enum Mode {{\n    Fast,\n    Slow,\n}}\n"
        ),
    )]);
    let p = &l.model.packages[0];
    let alert = ty(p, "Alert");
    let f = |name: &str| {
        &alert
            .fields()
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .options
    };
    let ports = f("ports");
    assert_eq!(ports.list_type, Some(ListType::Map));
    assert_eq!(ports.list_map_keys, ["containerPort", "protocol"]);
    assert_eq!(
        ports.patch_strategy,
        [PatchStrategy::Merge, PatchStrategy::RetainKeys]
    );
    assert_eq!(ports.patch_merge_key.as_deref(), Some("containerPort"));
    assert_eq!(f("replicas").default.as_ref().unwrap().value, 3);
    assert_eq!(f("replicas").presence, Some(Presence::Optional));
    assert_eq!(f("mode").default.as_ref().unwrap().value, "fast");
    assert_eq!(f("labels").map_type, Some(MapType::Atomic));
    assert!(!f("internal").convert && !f("internal").openapi);
    assert!(f("ports").convert && f("ports").openapi);
    assert_eq!(ty(p, "Port").options.struct_type, Some(MapType::Atomic));
    let mode = &ty(p, "Mode").options;
    assert!(mode.is_enum && !mode.deepcopy);
    let r = alert.resource.as_ref().unwrap();
    assert_eq!(r.printer_columns[0].type_, ColumnType::Boolean);
    assert_eq!(r.printer_columns[0].priority, 1);
    let client = r.client.as_ref().unwrap();
    let scale = FieldType::foreign("k8s_openapi::api::autoscaling::v1::Scale");
    assert_eq!(client.methods[1].verb, Verb::Update);
    assert_eq!(
        client.methods[1].input.as_ref(),
        Some(&scale),
        "resolved through `use`"
    );
    assert_eq!(client.methods[1].result.as_ref(), Some(&scale));
    assert!(client.has(Verb::UpdateStatus) == r.has_status);
}

#[test]
fn glob_imports_resolve_what_they_can() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\nuse k8s_openapi::api::core::v1::*;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub template: PodTemplateSpec,\n}}\n"
        ),
    )]);
    assert_eq!(
        l.model.packages[0].types[0].fields()[1].ty,
        FieldType::foreign("k8s_openapi::api::core::v1::PodTemplateSpec"),
        "one glob that can provide the name: its full path, which generated code can use"
    );
}

/// Item macros no longer hide what glob imports bring: not kube-codegen's own `include!`s of
/// generated files, not `lazy_static!`; and an item macro kube-codegen cannot expand still lets
/// a name one glob alone brings resolve (it only keeps a name nothing brings from being an
/// error, since the macro may declare it).
#[test]
fn glob_imports_resolve_beside_item_macros() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            &format!(
                "//! +groupName=pager.example.com\n{META}\nuse k8s_openapi::api::core::v1::*;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub template: PodSpec,\n}}\n\ninclude!(\"zz_generated.deepcopy.rs\");\ninclude!(concat!(env!(\"OUT_DIR\"), \"/pager/v1/zz_generated.register.rs\"));\n"
            ),
        ),
        (
            "apis/pager/v2/mod.rs",
            &format!(
                "{META}\nuse k8s_openapi::api::core::v1::*;\n\nlazy_static::lazy_static! {{\n    static ref X: u8 = 1;\n}}\nstatic_assertions::assert_impl_all!(Alert: Clone);\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub env: Vec<EnvVar>,\n}}\n"
            ),
        ),
        (
            "apis/pager/v3/mod.rs",
            &format!(
                "{META}\nuse k8s_openapi::api::core::v1::*;\n\nmy_types! {{ Hidden }}\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub pod: PodSpec,\n    pub hidden: Hidden,\n}}\n"
            ),
        ),
        (
            "apis/pager/v4/mod.rs",
            &format!(
                "{META}\n\nmy_types! {{ Hidden }}\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub hidden: Hidden,\n    pub again: Vec<Hidden>,\n}}\n"
            ),
        ),
    ]);
    let field = |dir: &str, i: usize| ty(package(&l, dir), "Alert").fields()[i].ty.clone();
    assert_eq!(
        field("pager/v1", 1),
        FieldType::foreign("k8s_openapi::api::core::v1::PodSpec")
    );
    assert_eq!(
        field("pager/v2", 1),
        FieldType::Vec(Box::new(FieldType::foreign(
            "k8s_openapi::api::core::v1::EnvVar"
        )))
    );
    assert_eq!(
        field("pager/v3", 1),
        FieldType::foreign("k8s_openapi::api::core::v1::PodSpec")
    );
    // A name nothing brings, which the macro may declare, is no error, but never silent: one
    // W0121 pointing at both.
    assert_eq!(field("pager/v4", 1), FieldType::foreign("Hidden"));
    let w0121: Vec<_> = l.warnings.iter().filter(|d| d.code == "W0121").collect();
    assert_eq!(w0121.len(), 1, "{:#?}", l.warnings);
    let shown = l.sources.render(&l.warnings);
    assert!(
        shown.contains("type `Hidden` is declared nowhere kube-codegen can read")
            && shown.contains("my_types! { Hidden }")
            && shown.contains("pub hidden: Hidden,"),
        "{shown}"
    );
}

#[test]
fn imports_of_the_package_module_name_package_types() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "mod status;\nmod types;\npub use status::*;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/status.rs",
            "#[derive(Clone)]\npub struct ThingStatus {\n    pub ok: bool,\n}\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\nuse super::ThingStatus;\n\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub status: Option<ThingStatus>,\n    pub again: super::ThingStatus,\n}}\n"
            ),
        ),
    ]);
    let thing = ty(&l.model.packages[0], "Thing");
    let local = FieldType::Local("ThingStatus".into());
    assert_eq!(
        thing.fields()[1].ty,
        FieldType::Option(Box::new(local.clone()))
    );
    assert_eq!(thing.fields()[2].ty, local);
}

/// A glob of the group's module from a version (`use super::super::*` in `v1/types.rs`,
/// `use super::*` in `v1/mod.rs`) brings that module's imports too, as rustc sees them: not an
/// unknown type (E0110) but the imported one; a relative import is named from the version.
#[test]
fn a_glob_of_the_group_module_brings_its_imports() {
    let l = load_ok(&[
        (
            "apis/shop/mod.rs",
            "//! +groupName=shop.example.com\nuse k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};\nuse self::common::Money;\npub mod common;\npub mod v1;\n",
        ),
        (
            "apis/shop/common.rs",
            "#[derive(Clone)]\npub struct Money {\n    pub cents: i64,\n}\n",
        ),
        (
            "apis/shop/v1/mod.rs",
            "use super::*;\nmod types;\npub use types::*;\n\n#[derive(Clone)]\npub struct Note {\n    pub condition: Condition,\n}\n",
        ),
        (
            "apis/shop/v1/types.rs",
            "use super::super::*;\n\n#[derive(Clone)]\npub struct Order {\n    pub metadata: ObjectMeta,\n    pub conditions: Vec<Condition>,\n    pub price: Money,\n}\n",
        ),
    ]);
    let p = package(&l, "shop/v1");
    let order = ty(p, "Order");
    let condition = FieldType::foreign("k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition");
    assert_eq!(
        order.fields()[1].ty,
        FieldType::Vec(Box::new(condition.clone()))
    );
    // The hub's type, as the hub's module imports it.
    assert_eq!(order.fields()[2].ty, FieldType::foreign("super::Money"));
    assert_eq!(ty(p, "Note").fields()[0].ty, condition);
}

#[test]
fn crate_paths_to_the_package_itself_are_local() {
    let root = fixture(&[
        (
            "apis/pager/mod.rs",
            "//! +groupName=pager.k8s.co\npub mod v1;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub spec: crate::apis::pager::v1::ThingSpec,\n    pub other: crate::apis::pager::OtherThing,\n    pub param: crate::apis::pager::v1::params::Param,\n}}\n\n#[derive(Clone)]\npub struct ThingSpec {{\n    pub n: i32,\n}}\n"
            ),
        ),
        (
            "apis/pager/v1/mod.rs",
            "mod params;\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/params.rs",
            "#[derive(Clone)]\npub struct Param {\n    pub value: String,\n}\n",
        ),
    ]);
    let l = load(&[Input {
        dir: root.path().join("apis"),
        rust_path: Some("crate::apis".into()),
    }])
    .unwrap_or_else(|f| panic!("{f}"));
    let thing = ty(package(&l, "pager/v1"), "Thing");
    assert_eq!(thing.fields()[1].ty, FieldType::Local("ThingSpec".into()));
    assert_eq!(
        thing.fields()[2].ty,
        FieldType::foreign("crate::apis::pager::OtherThing"),
        "another package's type stays a path"
    );
    assert_eq!(
        thing.fields()[3].ty,
        FieldType::Local("Param".into()),
        "a path to the module of the package that declares it"
    );
}

/// kube-rs's multi-version layout: `v1::Status` written under `use super::super::*;` names the
/// sibling version's type, through the glob (generated code in the package module names it as
/// `super::v1::Status`); an extern crate's path is left alone.
#[test]
fn paths_through_a_glob_into_a_sibling_version() {
    let l = load_ok(&[
        (
            "apis/g/mod.rs",
            "//! +groupName=g.example.com\npub mod v1;\npub mod v2;\n",
        ),
        (
            "apis/g/v1/types.rs",
            &format!("{META}#[derive(Clone, Debug)]\npub struct Status {{ pub ready: bool }}\n"),
        ),
        (
            "apis/g/v2/types.rs",
            &format!(
                "use super::super::*;\n{META}#[derive(Clone, Debug)]\npub struct W {{\n    pub metadata: ObjectMeta,\n    pub status: Option<v1::Status>,\n    pub at: Option<chrono::DateTime<chrono::Utc>>,\n}}\n"
            ),
        ),
    ]);
    let w = ty(package(&l, "g/v2"), "W");
    let path_of = |i: usize| match &w.fields()[i].ty {
        FieldType::Option(t) => match &**t {
            FieldType::Foreign { path, .. } => path.segments.join("::"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(path_of(1), "super::v1::Status");
    assert_eq!(path_of(2), "chrono::DateTime");
}

/// Where other crates name each type: through the package module's `pub use` (a glob keeps the
/// public modules below it), through plain `pub` modules, or nowhere (`pub(crate)`, private).
#[test]
fn where_other_crates_name_each_type() {
    let l = load_ok(&[
        (
            "apis/g/v1/mod.rs",
            "//! +groupName=g.example.com\nmod types;\npub use types::*;\npub mod extra;\npub(crate) mod internal;\n",
        ),
        (
            "apis/g/v1/types.rs",
            &format!(
                "{META}{}pub mod spec {{\n    #[derive(Clone, Debug)]\n    pub enum Size {{ Small }}\n}}\npub(crate) mod hidden {{\n    #[derive(Clone, Debug)]\n    pub struct Secret {{ pub a: i32 }}\n}}\n",
                kind("Widget", &["+genclient"])
            ),
        ),
        (
            "apis/g/v1/extra.rs",
            "#[derive(Clone, Debug)]\npub struct Extra { pub a: i32 }\n",
        ),
        (
            "apis/g/v1/internal.rs",
            "#[derive(Clone, Debug)]\npub struct Internal { pub a: i32 }\n",
        ),
    ]);
    let p = package(&l, "g/v1");
    let public = |name: &str| ty(p, name).public_module.clone();
    assert_eq!(public("Widget"), Some(vec![]));
    assert_eq!(public("Size"), Some(vec!["spec".to_string()]));
    assert_eq!(public("Secret"), None);
    assert_eq!(public("Extra"), Some(vec!["extra".to_string()]));
    assert_eq!(public("Internal"), None);
}

/// A map keyed by a `String` alias declared, or re-exported, in another module of the package
/// (`use super::names::AlertName`) is a map with string keys, as one keyed by `String` is.
#[test]
fn map_keys_through_string_aliases() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "mod names;\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/names.rs",
            "pub type AlertName = String;\npub type Nested = AlertName;\npub use std::string::String as Text;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use std::collections::{{BTreeMap, HashMap}};\nuse super::names::{{AlertName, Nested}};\n\n\
                 #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    \
                 pub by_name: BTreeMap<AlertName, String>,\n    \
                 pub by_nested: HashMap<Nested, i32>,\n    \
                 pub by_reexport: BTreeMap<super::names::Text, Vec<AlertName>>,\n    \
                 pub by_insertion: indexmap::IndexMap<AlertName, String>,\n}}\n"
            ),
        ),
    ]);
    let alert = ty(package(&l, "pager/v1"), "Alert");
    let map = |kind: MapKind, value: FieldType| FieldType::Map {
        kind,
        value: Box::new(value),
    };
    assert_eq!(alert.fields()[1].ty, map(MapKind::BTree, FieldType::String));
    assert_eq!(
        alert.fields()[2].ty,
        map(MapKind::Hash, FieldType::Int(IntType::I32))
    );
    assert_eq!(
        alert.fields()[3].ty,
        map(MapKind::BTree, FieldType::Vec(Box::new(FieldType::String)))
    );
    assert_eq!(alert.fields()[4].ty, map(MapKind::Index, FieldType::String));
}

/// A generic alias whose map key is one of its parameters (`type Two<K, V> = BTreeMap<K, V>`)
/// is a map where its argument there is a string (or a string alias, or a parameter of another
/// generic alias passing it on); another argument is the error a map keyed by it written out is.
#[test]
fn generic_aliases_keying_maps_by_a_parameter() {
    let files = |bad: &str| {
        vec![(
            "apis/al/v1/types.rs".to_string(),
            format!(
                "{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub two: Two<String, i32>,\n    pub named: Two<Name, bool>,\n    pub by_name: ByName<String>,\n{bad}}}\n\npub type Name = String;\npub type Two<K, V> = std::collections::BTreeMap<K, V>;\npub type ByName<K> = Two<K, Vec<K>>;\n"
            ),
        )]
    };
    let good = files("");
    let good: Vec<(&str, &str)> = good.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let l = load_ok(&good);
    let thing = ty(package(&l, "al/v1"), "Thing");
    let map = |value: FieldType| FieldType::Map {
        kind: MapKind::BTree,
        value: Box::new(value),
    };
    assert_eq!(thing.fields()[1].ty, map(FieldType::Int(IntType::I32)));
    assert_eq!(thing.fields()[2].ty, map(FieldType::Bool));
    assert_eq!(
        thing.fields()[3].ty,
        map(FieldType::Vec(Box::new(FieldType::String)))
    );
    for bad in [
        "    pub by_number: Two<i32, String>,\n",
        "    pub by_list: ByName<Vec<String>>,\n",
        "    pub by_struct: Two<Thing, String>,\n",
    ] {
        let files = files(bad);
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(error_codes(&files), ["E0201"], "{bad}");
    }
}

/// A package's `src/` read whole: its `main.rs` (beside `lib.rs`) and `bin/` are other crates'
/// roots (the package's binaries), never read as the library's modules — no W0115 for them, no
/// `Cli` of a binary among the API's types.
#[test]
fn binaries_beside_the_library_are_not_read() {
    let l = load_at(
        &[
            ("src/lib.rs", "pub mod v1;\n"),
            (
                "src/v1/mod.rs",
                &format!(
                    "//! +groupName=things.example.com\n{META}\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
            (
                "src/main.rs",
                "struct Cli {\n    verbose: bool,\n}\nfn main() {}\n",
            ),
            ("src/bin/crdgen.rs", "fn main() {}\n"),
            (
                "src/bin/tool/main.rs",
                "pub struct Flags {\n    pub x: i32,\n}\nfn main() {}\n",
            ),
        ],
        "src",
    );
    assert!(
        l.warnings.iter().all(|d| d.code != "W0115"),
        "{}",
        l.sources.render(&l.warnings)
    );
    let names: Vec<&str> = l
        .model
        .packages
        .iter()
        .flat_map(|p| p.types.iter().map(|t| t.name.as_str()))
        .collect();
    assert!(names.contains(&"Thing"), "{names:?}");
    assert!(
        !names.contains(&"Cli") && !names.contains(&"Flags"),
        "{names:?}"
    );
}

/// `Self` in a field is the type being declared, in structs and enums alike.
#[test]
fn self_in_fields_is_the_declared_type() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub tree: Option<Tree>,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Tree {{\n    pub children: Vec<Self>,\n    pub parent: Option<Box<Self>>,\n    pub expr: Option<Expr>,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Expr {{\n    Not(Box<Self>),\n    Lit(String),\n}}\n"
        ),
    )]);
    let pkg = package(&l, "pager/v1");
    let tree = ty(pkg, "Tree");
    let local = |n: &str| FieldType::Local(n.into());
    assert_eq!(tree.fields()[0].ty, FieldType::Vec(Box::new(local("Tree"))));
    assert_eq!(
        tree.fields()[1].ty,
        FieldType::Option(Box::new(FieldType::Box(Box::new(local("Tree")))))
    );
    let TypeBody::Enum(variants) = &ty(pkg, "Expr").body else {
        panic!("an enum")
    };
    assert_eq!(
        format!("{:?}", variants[0].shape),
        format!("Tuple([Box({:?})])", local("Expr"))
    );
}

/// `#[serde]` on a kind that only says what the generated codec does anyway is fine (kube-rs
/// code puts `rename_all = "camelCase"` on every type, `JsonSchema` accepting the attribute).
#[test]
fn serde_attributes_a_kinds_codec_agrees_with_are_accepted() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n/// +genclient\n#[derive(Clone, schemars::JsonSchema)]\n#[serde(rename_all = \"camelCase\")]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    \
             #[serde(rename = \"observedGeneration\")]\n    pub observed_generation: Option<i64>,\n    \
             #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub status: Option<String>,\n}}\n"
        ),
    )]);
    let alert = ty(package(&l, "pager/v1"), "Alert");
    assert_eq!(alert.fields()[1].wire, "observedGeneration");
}

/// A type written as a scalar (`#[serde(into = "String", try_from = "String")]`) takes a
/// default of that scalar, whatever its Rust shape.
#[test]
fn defaults_of_types_written_as_scalars() {
    load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    /// +default=\"50%\"\n    pub scale: Option<Scale>,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(try_from = \"String\", into = \"String\")]\npub enum Scale {{\n    Auto,\n    Percent(u8),\n}}\n"
        ),
    )]);
}

/// A module declared with `#[path = "…"]` is the file the attribute names, under the module
/// name rustc gives it (generated code names its types `self::types::Alert`), and so are the
/// files below it; a file the attribute may name but kube-codegen cannot match is read too.
#[test]
fn path_attributes_give_files_their_module_names() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "#[path = \"types_v1.rs\"]\nmod types;\npub use types::*;\n#[path = \"./more/../extra/mod.rs\"]\npub mod added;\n",
        ),
        (
            "apis/pager/v1/types_v1.rs",
            &types_rs(&[kind("Alert", &[])]),
        ),
        (
            "apis/pager/v1/extra/mod.rs",
            "pub mod deep;\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Extra { pub a: i32 }\n",
        ),
        (
            "apis/pager/v1/extra/deep.rs",
            "#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Deep { pub b: i32 }\n",
        ),
    ]);
    let pkg = package(&l, "pager/v1");
    let module = |name: &str| pkg.type_named(name).unwrap().module.clone();
    assert_eq!(module("Alert"), ["types"]);
    assert_eq!(module("Extra"), ["added"]);
    assert_eq!(module("Deep"), ["added", "deep"]);
}

/// The fields of struct-like variants are named by the variant's `rename_all`, else by the
/// enum's `rename_all_fields` (and a `+default` written with those names fits).
#[test]
fn struct_variant_fields_follow_their_renaming() {
    let l = load_ok(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    \
             /// +default={{\"Fixed\":{{\"maxReplicas\":3}}}}\n    pub mode: Option<Mode>,\n    \
             /// +default={{\"Band\":{{\"LOW_MARK\":1}}}}\n    pub range: Option<Range>,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Mode {{\n    #[serde(rename_all = \"camelCase\")]\n    Fixed {{ max_replicas: i32 }},\n    Auto,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(rename_all_fields = \"SCREAMING_SNAKE_CASE\")]\npub enum Range {{\n    Band {{ low_mark: i32 }},\n}}\n"
        ),
    )]);
    let pkg = package(&l, "pager/v1");
    let wires = |ty_name: &str| -> Vec<String> {
        let TypeBody::Enum(variants) = &ty(pkg, ty_name).body else {
            panic!("an enum")
        };
        variants
            .iter()
            .flat_map(|v| match &v.shape {
                kube_codegen_model::VariantShape::Struct(fields) => {
                    fields.iter().map(|f| f.wire.clone()).collect()
                }
                _ => Vec::new(),
            })
            .collect()
    };
    assert_eq!(wires("Mode"), ["maxReplicas"]);
    assert_eq!(wires("Range"), ["LOW_MARK"]);
}

/// Aliases declared in a sibling file and reached through `use super::*` (the package module's
/// `pub use names::*`) resolve as rustc resolves them: a `Hostname` is its `String`, and a
/// package's own `Duration` or `Time` beats the well-known type of that name, which an unimported
/// name could only be the fallback for. Without such an alias the well-known type stays.
#[test]
fn aliases_through_globs_beat_well_known_names() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "mod names;\nmod types;\npub use names::*;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/names.rs",
            "/// A host.\npub type Hostname = String;\n/// Seconds.\npub type Time = i64;\n/// Go-style.\npub type Duration = String;\n/// A path.\npub type MicroTime = std::time::SystemTime;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use super::*;\nuse super::names::*;\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub host: Hostname,\n    pub since: Option<Time>,\n    pub every: Duration,\n    pub micro: MicroTime,\n    pub size: Quantity,\n}}\n"
            ),
        ),
    ]);
    let alert = ty(package(&l, "pager/v1"), "Alert");
    let field = |n: &str| field_type(alert, n);
    assert_eq!(field("host"), FieldType::String);
    assert_eq!(
        field("since"),
        FieldType::Option(Box::new(FieldType::Int(IntType::I64)))
    );
    assert_eq!(field("every"), FieldType::String);
    // An alias naming a path beats the well-known name too; one alias through two globs is one.
    let FieldType::Foreign { path, .. } = field("micro") else {
        panic!("{:?}", field("micro"))
    };
    assert_eq!(path.to_string(), "std::time::SystemTime");
    assert_eq!(field("size"), FieldType::Known(KnownType::Quantity));
}

/// Aliases a sibling file declares, imported by name through the package module's glob
/// (`use super::{Duration, Params};` beside `pub use params::*;`) or named by path
/// (`super::Duration`), are their target: a list, a string.
#[test]
fn aliases_imported_by_name_through_the_package_glob_are_their_target() {
    let l = load_ok(&[
        (
            "apis/pager/v1/mod.rs",
            "mod params;\nmod types;\npub use params::*;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/params.rs",
            "/// Params.\npub type Params = Vec<super::Param>;\n/// Go-style.\npub type Duration = String;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use super::{{Duration, Params}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +listType=atomic\n    pub params: Params,\n    pub every: Option<Duration>,\n    pub other: super::Duration,\n}}\n#[derive(Clone)]\npub struct Param {{\n    pub name: String,\n}}\n"
            ),
        ),
    ]);
    let alert = ty(package(&l, "pager/v1"), "Alert");
    let field = |n: &str| field_type(alert, n);
    let FieldType::Vec(item) = field("params") else {
        panic!("{:?}", field("params"))
    };
    assert_eq!(*item, FieldType::Local("Param".into()));
    assert_eq!(
        field("every"),
        FieldType::Option(Box::new(FieldType::String))
    );
    assert_eq!(field("other"), FieldType::String);
}

/// The type of `t`'s field `name`.
fn field_type(t: &TypeDef, name: &str) -> FieldType {
    t.fields()
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
        .ty
        .clone()
}

/// A hub kind without a scope tag takes its versions' scope: it is the same resource, and the
/// hub's registration and `--explain` say what the served versions say.
#[test]
fn a_hub_kind_takes_its_versions_scope() {
    let kind = |tags: &str| {
        format!(
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n{tags}#[derive(Clone)]\npub struct Fischer {{\n    pub metadata: ObjectMeta,\n}}\n"
        )
    };
    let l = load_ok(&[
        (
            "apis/wardle/mod.rs",
            "//! +groupName=wardle.example.com\npub mod v1alpha1;\nmod types;\npub use types::*;\n",
        ),
        ("apis/wardle/types.rs", &kind("")),
        (
            "apis/wardle/v1alpha1/mod.rs",
            "//! +k8s:conversion-gen=crate::wardle\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/wardle/v1alpha1/types.rs",
            &kind("/// +genclient\n/// +genclient:nonNamespaced\n"),
        ),
    ]);
    let scope = |dir: &str| {
        let r = package(&l, dir).types[0].resource.as_ref().expect("a kind");
        r.namespaced
    };
    assert!(!scope("wardle/v1alpha1"));
    assert!(
        !scope("wardle"),
        "the hub is cluster-scoped like its version"
    );
}

/// An inferred resource name is checked as `+resourceName` is: a kind named with other than
/// ASCII letters gets a plural that is no DNS label (a URL segment, client method names).
#[test]
fn an_inferred_resource_name_must_be_a_dns_label() {
    for name in ["Ñandú", "Größe", "Big_Thing"] {
        let codes = error_codes(&[
            ("apis/zoo/v1/mod.rs", "mod types;\n"),
            ("apis/zoo/v1/types.rs", &types_rs(&[kind(name, &[])])),
        ]);
        assert_eq!(codes, ["E0317"], "{name}");
        let named = load_ok(&[
            ("apis/zoo/v1/mod.rs", "mod types;\n"),
            (
                "apis/zoo/v1/types.rs",
                &types_rs(&[kind(name, &["+resourceName=animals"])]),
            ),
        ]);
        let t = ty(package(&named, "zoo/v1"), name);
        assert_eq!(t.resource.as_ref().unwrap().plural, "animals");
    }
}

/// `v1.rs` beside `v1/mod.rs`: rustc compiles neither (E0761); one error says so, rather than
/// every item of the version declared twice.
#[test]
fn a_module_in_two_files_is_one_error() {
    let codes = error_codes(&[
        (
            "apis/pager/v1.rs",
            &types_rs(&[kind("Alert", &["+shortName=al"])]),
        ),
        ("apis/pager/v1/mod.rs", "mod types;\npub use types::*;\n"),
        (
            "apis/pager/v1/types.rs",
            &types_rs(&[kind("Alert", &["+shortName=al"])]),
        ),
    ]);
    assert_eq!(codes, ["E0122"]);
}

/// Traits other crates' derive macros implement, named in their own attributes (derivative,
/// educe, derive-where, also under `cfg_attr`): deepcopy-gen must not write a second `Clone`
/// (E0119), nor defaults and clients assume a `Default` is missing.
#[test]
fn traits_derived_by_other_crates_macros_are_read() {
    let types = format!(
        "{META}\
         /// +genclient\n\
         #[derive(Clone, Debug, Default)]\n\
         pub struct Widget {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n    pub status: Option<St>,\n    pub w: Option<Where>,\n    pub plain: Option<Plain>,\n}}\n\
         #[derive(derivative::Derivative)]\n\
         #[derivative(Clone, Default = \"new\", Debug(bound = \"\"))]\n\
         pub struct Spec {{\n    pub x: i32,\n}}\n\
         #[derive(educe::Educe)]\n\
         #[cfg_attr(feature = \"x\", educe(Clone, Default))]\n\
         pub struct St {{\n    pub x: i32,\n}}\n\
         #[derive_where::derive_where(Clone, PartialEq; T)]\n\
         pub struct Where {{\n    pub x: i32,\n}}\n\
         /// An `#[educe]`-free type, a list whose words are not traits.\n\
         #[doc = \"educe(Clone)\"]\n\
         pub struct Plain {{\n    pub x: i32,\n}}\n"
    );
    let l = load_ok(&[("apis/widgets/v1/types.rs", &types)]);
    let p = package(&l, "widgets/v1");
    assert!(ty(p, "Spec").implements("Clone") && ty(p, "Spec").implements("Default"));
    assert!(ty(p, "Spec").implements("Debug"));
    assert!(!ty(p, "Spec").implements("new"));
    assert!(ty(p, "St").implements("Clone") && ty(p, "St").implements("Default"));
    assert!(ty(p, "Where").implements("Clone") && ty(p, "Where").implements("PartialEq"));
    assert!(!ty(p, "Where").implements("T"));
    assert!(!ty(p, "Plain").implements("Clone"));
}

/// A re-export that names the package module by another path than `self` — its own name from
/// its parent (`super::v1::types::*`), or its whole path (`crate::apis::g::v1::types::…`, or
/// with the crate's name) — makes the types nameable from other crates as `types::*` does; a
/// path outside the package does not.
#[test]
fn re_exports_naming_the_package_module_by_its_path() {
    for (reexport, widget_public) in [
        ("pub use super::v1::types::*;", true),
        ("pub use crate::apis::g::v1::types::*;", true),
        ("pub use crate::apis::g::v1::types::{Widget};", true),
        ("pub use crate::apis::g::v2::types::*;", false),
        ("pub use super::v2::types::*;", false),
    ] {
        let root = fixture(&[
            (
                "apis/g/v1/mod.rs",
                &format!("//! +groupName=g.example.com\nmod types;\n{reexport}\n"),
            ),
            (
                "apis/g/v1/types.rs",
                &format!("{META}{}", kind("Widget", &["+genclient"])),
            ),
        ]);
        // Inside the crate `crate::` names it whatever the crate's name.
        for module_path in ["crate::apis", "my_crate::apis"] {
            let mut input = Input::new(root.path().join("apis"));
            input.rust_path = Some(module_path.to_string());
            let l = load(&[input]).unwrap_or_else(|f| panic!("{reexport}: {f}"));
            let p = package(&l, "g/v1");
            let expected = widget_public.then(Vec::new);
            assert_eq!(
                ty(p, "Widget").public_module,
                expected,
                "{reexport} in {module_path}"
            );
        }
    }
}
