//! protobuf-gen on small fixtures: the `.proto` and Rust it writes, numbers kept across
//! regenerations through the record, and the diagnostics for what has no protobuf form.

use std::path::PathBuf;

use kube_codegen_model::output::{Content, Generator, Options};
use kube_codegen_model::{Input, Loaded};
use protobuf_gen::ProtobufGen;

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("protobuf-gen")
}

const MOD: &str = "//! +groupName=widgets.example.com\n//! +k8s:protobuf-gen=package\n\nmod types;\npub use types::*;\n";

fn types(body: &str) -> String {
    format!(
        "use k8s_openapi::apimachinery::pkg::apis::meta::v1::{{ObjectMeta, Time, LabelSelector}};\nuse k8s_openapi::apimachinery::pkg::api::resource::Quantity;\nuse k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;\nuse std::collections::{{BTreeMap, BTreeSet}};\nuse serde::{{Deserialize, Serialize}};\n\n{body}"
    )
}

fn fixture(name: &str, body: &str, record: Option<&str>) -> Vec<(String, String)> {
    let mut files = vec![
        ("apis/widgets/v1/mod.rs".to_string(), MOD.to_string()),
        ("apis/widgets/v1/types.rs".to_string(), types(body)),
    ];
    if let Some(r) = record {
        files.push(("apis/widgets/v1/generated.proto".into(), r.into()));
    }
    let _ = name;
    files
}

fn load(name: &str, files: &[(String, String)]) -> Result<Loaded, String> {
    let dir = tmp_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    kube_codegen_model::load(&[Input::new(dir.join("apis"))]).map_err(|f| {
        f.to_string()
            .replace(&format!("{}/", tmp_root().display()), "")
    })
}

/// (generated.proto, zz_generated.protobuf.rs) of the fixture's package.
fn generate(name: &str, body: &str, record: Option<&str>) -> (String, String) {
    let loaded = load(name, &fixture(name, body, record)).unwrap_or_else(|e| panic!("{e}"));
    let diags = ProtobufGen.check(&loaded.model);
    // Warnings are the tests' own to check (`diagnostics`).
    assert!(
        !diags.iter().any(|d| d.is_error()),
        "{}",
        kube_codegen_model::testing::render(&tmp_root(), &loaded, &diags)
    );
    let pkg = &loaded.model.packages[0];
    let (mut proto, mut rust) = (String::new(), String::new());
    for f in ProtobufGen.generate_package(&loaded.model, pkg, &Options::default()) {
        match f.content {
            Content::Text(t) => proto = t,
            Content::Rust(tokens) => {
                rust = prettyplease::unparse(&syn::parse2(tokens).expect("generated Rust parses"))
            }
        }
    }
    (proto, rust)
}

/// The rendered diagnostics protobuf-gen gives for a fixture.
fn diagnostics(name: &str, body: &str, record: Option<&str>) -> String {
    let loaded = load(name, &fixture(name, body, record)).unwrap_or_else(|e| panic!("{e}"));
    let diags = ProtobufGen.check(&loaded.model);
    kube_codegen_model::testing::render(&tmp_root(), &loaded, &diags)
}

const WIDGET: &str = r#"/// Widget is a thing.
/// +genclient
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Widget {
    pub metadata: ObjectMeta,
    pub spec: WidgetSpec,
    pub status: Option<WidgetStatus>,
}

/// WidgetSpec holds every shape a field can have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WidgetSpec {
    /// Plain values.
    pub name: String,
    pub replicas: i32,
    pub big: u64,
    pub ratio: f64,
    pub enabled: bool,
    pub size: Option<Quantity>,
    pub port: IntOrString,
    pub ports: Vec<Port>,
    pub tags: BTreeSet<String>,
    pub labels: BTreeMap<String, String>,
    pub parts: BTreeMap<String, Part>,
    pub first: Option<Box<Part>>,
    pub selector: Option<LabelSelector>,
    pub extra: Option<serde_json::Value>,
    pub mode: Mode,
    pub started: Option<Time>,
    pub grid: Vec<Vec<i32>>,
    pub shape: Option<Shape>,
    pub conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    pub resources: Option<k8s_openapi::api::core::v1::ResourceRequirements>,
    pub secret: k8s_openapi::api::core::v1::SecretKeySelector,
    pub pod: Option<k8s_openapi::api::core::v1::PodSpec>,
    pub job: Option<k8s_openapi::api::batch::v1::JobTemplateSpec>,
    pub schema: Option<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps>,
    #[serde(skip)]
    pub cache: Vec<String>,
}

/// A port number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Port(pub i32);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Part {
    pub weight: Option<i64>,
    pub children: Vec<Part>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WidgetStatus {
    pub ready: bool,
}

/// An enum with data: carried as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    Circle(f64),
    Square { side: f64 },
}

/// How a widget runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    #[default]
    Fast,
    SlowAndSteady,
}
"#;

#[test]
fn every_field_shape() {
    let (proto, rust) = generate("shapes", WIDGET, None);
    insta::assert_snapshot!("shapes_proto", proto);
    insta::assert_snapshot!("shapes_rust", rust);
    protoc_compiles("shapes", &proto);
}

/// protoc compiles a generated `.proto` against the runtime's apimachinery and core files.
fn protoc_compiles(name: &str, proto: &str) {
    if std::process::Command::new("protoc")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "protoc is not installed");
        return;
    }
    let dir = tmp_root().join(format!("{name}-protoc"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("widgets/v1")).unwrap();
    std::fs::write(dir.join("widgets/v1/generated.proto"), proto).unwrap();
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../runtime/protobuf/proto");
    let out = std::process::Command::new("protoc")
        .current_dir(&dir)
        .arg("-I.")
        .arg(format!("-I{}", include.display()))
        .arg("--descriptor_set_out=/dev/null")
        .arg("widgets/v1/generated.proto")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "protoc: {}\n{proto}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn numbers_are_kept_when_fields_move_come_and_go() {
    let v1 = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub a: String,\n    pub b: String,\n    pub c: String,\n}\n";
    let (first, _) = generate("numbers1", v1, None);
    assert!(first.contains("optional string a = 2;") && first.contains("optional string c = 4;"));
    // `b` removed, `c` moved first, `d` added: c keeps 4, b's 3 is reserved, d gets 5.
    let v2 = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub c: String,\n    pub metadata: ObjectMeta,\n    pub d: String,\n    pub a: String,\n}\n";
    let (second, _) = generate("numbers2", v2, Some(&first));
    assert!(second.contains("reserved 3;"), "{second}");
    assert!(second.contains("reserved \"b\";"), "{second}");
    for line in [
        "optional string c = 4;",
        "optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;",
        "optional string d = 5;",
        "optional string a = 2;",
    ] {
        assert!(second.contains(line), "{line} in:\n{second}");
    }
    // `b` comes back: a new number, never its old one.
    let v3 = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub a: String,\n    pub b: String,\n}\n";
    let (third, _) = generate("numbers3", v3, Some(&second));
    assert!(third.contains("optional string b = 6;"), "{third}");
    assert!(third.contains("reserved 3, 4, 5;"), "{third}");
    // Regenerating from the record changes nothing.
    let (again, _) = generate("numbers4", v3, Some(&third));
    assert_eq!(again, third);
}

#[test]
fn a_number_is_never_reused_or_changed() {
    let record = "message Thing {\n  reserved 3;\n  reserved \"b\";\n  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;\n  optional string a = 2;\n}\n";
    let reuse = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub a: String,\n    /// +protobuf=3\n    pub e: String,\n}\n";
    insta::assert_snapshot!("reuse", diagnostics("reuse", reuse, Some(record)));
    let renumber = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    /// +protobuf=7\n    pub a: String,\n}\n";
    insta::assert_snapshot!("renumber", diagnostics("renumber", renumber, Some(record)));
    let twice = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    /// +protobuf=9\n    pub a: String,\n    /// +protobuf=9\n    pub b: String,\n}\n";
    insta::assert_snapshot!("twice", diagnostics("twice", twice, None));
    // A hand-fixed number that is free is used; the other fields are numbered around it.
    let fixed = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    /// +protobuf=10\n    pub a: String,\n    pub b: String,\n}\n";
    let (proto, _) = generate("fixed", fixed, None);
    assert!(
        proto.contains("optional string a = 10;") && proto.contains("optional string b = 2;"),
        "{proto}"
    );
}

#[test]
fn shared_state_is_refused() {
    let body = "use std::sync::Arc;\n\n#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub grid: Vec<Vec<i32>>,\n    pub pod: Option<k8s_openapi::api::core::v1::PodSpec>,\n    pub shared: Arc<String>,\n}\n\n#[derive(Clone, Debug)]\npub enum Shape {\n    Circle(f64),\n    Square { side: f64 },\n}\n\n/// +k8s:protobuf-gen=false\n#[derive(Clone, Debug)]\npub enum Skipped {\n    Circle(f64),\n}\n";
    let out = diagnostics("unsupported", body, None);
    assert!(
        out.contains("E0706") && out.contains("Thing.shared"),
        "{out}"
    );
    assert!(
        !out.contains("grid") && !out.contains("Shape"),
        "JSON carries these: {out}"
    );
}

/// A hand-written `Message` (for a struct) or `Field` (for an enum) is a second impl of the one
/// generated: E0302 on each, at the impl.
#[test]
fn hand_written_protobuf_impls_are_an_error() {
    let body = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub mode: Mode,\n}\n\n#[derive(Clone, Debug, Default, Serialize, Deserialize)]\npub enum Mode {\n    #[default]\n    On,\n}\n\nimpl kube_codegen_protobuf::Message for Thing {}\nimpl kube_codegen_protobuf::Field for Mode {}\n";
    let out = diagnostics("hand-written", body, None);
    assert_eq!(out.matches("error[E0302]").count(), 2, "{out}");
    assert!(
        out.contains("`Thing` implements `kube_codegen_protobuf::Message` by hand")
            && out.contains("`Mode` implements `kube_codegen_protobuf::Field` by hand"),
        "{out}"
    );
}

/// A Kubernetes type with no message here (k8s-openapi has it in some versions only) is carried
/// as JSON, with a warning: Go's typed clients could not read that field.
#[test]
fn k8s_types_without_a_message_warn() {
    let body = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub node: Option<k8s_openapi::api::core::v1::NodeSystemInfo>,\n    pub pods: Vec<k8s_openapi::api::core::v1::PodSpec>,\n}\n";
    let out = diagnostics("k8s-json", body, None);
    assert!(out.contains("W0709") && out.contains("Thing.node"), "{out}");
    assert!(
        out.contains("NodeSystemInfo") && !out.contains("Thing.pods"),
        "{out}"
    );
    let (proto, _) = generate("k8s-json", body, None);
    assert!(proto.contains("optional bytes node = "), "{proto}");
    assert!(
        proto.contains("repeated .k8s.io.api.core.v1.PodSpec pods = "),
        "{proto}"
    );
}

#[test]
fn an_unreadable_record_is_an_error() {
    let files = fixture(
        "badrecord",
        "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n}\n",
        Some("message Thing {\n  optional string a = two;\n}\n"),
    );
    let e = load("badrecord", &files).unwrap_err();
    assert!(
        e.contains("E0120") && e.contains("generated.proto:2"),
        "{e}"
    );
}

/// An enum without variants (valid Rust: no value of it exists) gets a `Field` impl whose
/// encoding rustc can type: `match *self {}` is of type `!`, so `.len()` cannot be called on it
/// directly (E0599 in the generated file).
#[test]
fn an_enum_without_variants_encodes() {
    let body = "#[derive(Clone, Debug, Default)]\npub struct Thing {\n    pub metadata: ObjectMeta,\n    pub never: Option<Never>,\n}\n\n#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub enum Never {}\n";
    let (_, rust) = generate("empty-enum", body, None);
    assert!(
        rust.contains("let text: &'static str = match *self {};"),
        "{rust}"
    );
    assert!(!rust.contains("match *self {}.len()"), "{rust}");
    let allow = rust.find("#[allow(unreachable_code, unused_variables)]");
    let impl_ = rust.find("impl pb::Field for self::types::Never");
    assert!(
        allow
            .zip(impl_)
            .is_some_and(|(a, i)| a < i && rust[a..i].trim_end().ends_with(']')),
        "{rust}"
    );
}
