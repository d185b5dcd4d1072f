//! Snapshot tests of deepcopy-gen: generated `Clone` impls and the validation of fields that would
//! share state between copies.

use std::path::PathBuf;

use deepcopy_gen::DeepcopyGen;
use kube_codegen_model::Loaded;
use kube_codegen_model::output::Generator;

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deepcopy-gen")
}

fn load_fixture(name: &str, files: &[(&str, &str)]) -> Loaded {
    kube_codegen_model::testing::load_fixture(&tmp_root(), name, files)
}

fn render(loaded: &Loaded, diags: &[kube_codegen_model::Diagnostic]) -> String {
    kube_codegen_model::testing::render(&tmp_root(), loaded, diags)
}

fn format(tokens: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("generated code parses");
    prettyplease::unparse(&file)
}

fn generate(name: &str, types_rs: &str) -> String {
    let loaded = load_fixture(name, &[("apis/pager/v1/types.rs", types_rs)]);
    let diags = DeepcopyGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
    format(deepcopy_gen::package(
        &loaded.model.packages[0],
        &Default::default(),
    ))
}

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\nuse std::collections::BTreeMap;\n\n";

#[test]
fn clone_impls_for_every_shape() {
    let out = generate(
        "shapes",
        &format!(
            "{META}/// +genclient\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n    pub status: Option<AlertStatus>,\n}}\n\n\
             pub struct AlertSpec {{\n    pub r#type: String,\n    pub targets: Vec<Target>,\n    pub labels: BTreeMap<String, String>,\n    pub next: Option<Box<AlertSpec>>,\n}}\n\n\
             #[derive(Clone, Debug)]\npub struct AlertStatus {{\n    pub sent: bool,\n}}\n\n\
             pub enum Target {{\n    Nobody,\n    Person(String),\n    Pair(String, Option<i32>),\n    Team {{ name: String, r#ref: Vec<String> }},\n    r#Match,\n}}\n\n\
             pub enum Never {{}}\n\n\
             pub struct Port(pub i32, pub String);\n\n\
             pub struct Marker;\n\n\
             pub struct Empty {{}}\n\n\
             #[derive(Clone)]\npub struct Generic<T> {{\n    pub t: T,\n}}\n\n\
             pub struct HandWritten;\nimpl Clone for HandWritten {{\n    fn clone(&self) -> Self {{ HandWritten }}\n}}\n\n\
             /// +k8s:deepcopy-gen=false\npub struct OptedOut {{\n    pub n: i32,\n}}\n"
        ),
    );
    assert!(
        !out.contains("for self::types::AlertStatus"),
        "derived Clone is kept:\n{out}"
    );
    assert!(
        !out.contains("for self::types::HandWritten"),
        "hand-written Clone is kept:\n{out}"
    );
    assert!(
        !out.contains("for self::types::OptedOut"),
        "opt-out honoured:\n{out}"
    );
    assert!(
        !out.contains("Generic"),
        "generic types must derive Clone:\n{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn package_opt_out_and_roots_assertion() {
    let loaded = load_fixture(
        "opt_out",
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +k8s:deepcopy-gen=false\nmod types;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}pub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n\n/// +k8s:deepcopy-gen=true\npub struct Kept {{\n    pub n: i32,\n}}\n"
                ),
            ),
        ],
    );
    let out = format(deepcopy_gen::package(
        &loaded.model.packages[0],
        &Default::default(),
    ));
    insta::assert_snapshot!(out);
}

#[test]
fn roots_only_get_the_clone_assertion() {
    let out = generate(
        "roots",
        &format!(
            "{META}#[derive(Clone, Default)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n\n#[derive(Clone, Default)]\npub struct Page {{\n    pub metadata: ObjectMeta,\n}}\n"
        ),
    );
    insta::assert_snapshot!(out);
}

/// `Rc`, `Arc`, `RefCell`... are accepted by the loader but rejected by deepcopy-gen's
/// validation, in every position a field can take.
#[test]
fn shared_state_fields_are_rejected() {
    let loaded = load_fixture(
        "shared",
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use std::rc::Rc;\nuse std::sync::{{Arc, Mutex}};\nuse std::cell::RefCell;\n\n\
                 #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub shared: Rc<String>,\n    pub maybe: Option<Arc<Mutex<i32>>>,\n    pub by_name: BTreeMap<String, RefCell<String>>,\n}}\n\n\
                 #[derive(Clone)]\npub struct Wrapper(pub Vec<Rc<u8>>);\n\n\
                 #[derive(Clone)]\npub enum Choice {{\n    A(Arc<String>),\n    B {{ cell: std::cell::Cell<u8> }},\n}}\n\n\
                 pub struct Generic<T> {{\n    pub t: T,\n}}\n\n\
                 /// +k8s:deepcopy-gen=false\n#[derive(Clone)]\npub struct Ignored {{\n    pub n: Rc<u8>,\n}}\n"
            ),
        )],
    );
    let mut diags = DeepcopyGen.check(&loaded.model);
    kube_codegen_model::diag::sort(&mut diags);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [
            "E0401", "E0401", "E0401", "E0401", "E0401", "E0401", "E0402"
        ]
    );
    insta::assert_snapshot!(render(&loaded, &diags));
}

/// Shared state in a type no kind holds (controller-rs's `Context` and `State`, dropped into an
/// API package) is likely no API type at all: E0401 says, as E0201 does, how such a type is
/// left alone. Not said of a type a kind holds, however deep.
#[test]
fn shared_state_in_a_type_no_kind_holds_names_the_opt_out() {
    let loaded = load_fixture(
        "controller-state",
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use std::sync::Arc;\nuse tokio::sync::RwLock;\n\n\
                 #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}}\n\n\
                 #[derive(Clone)]\npub struct AlertSpec {{\n    pub targets: Vec<Target>,\n}}\n\n\
                 #[derive(Clone)]\npub struct Target {{\n    pub held: Arc<String>,\n}}\n\n\
                 #[derive(Clone)]\npub struct Context {{\n    pub state: Arc<RwLock<State>>,\n}}\n\n\
                 #[derive(Clone, Default)]\npub struct State {{\n    pub ready: bool,\n}}\n"
            ),
        )],
    );
    let mut diags = DeepcopyGen.check(&loaded.model);
    kube_codegen_model::diag::sort(&mut diags);
    let out = render(&loaded, &diags);
    let opt_out = kube_codegen_model::output::NOT_AN_API_TYPE;
    let [held, context] = &diags[..] else {
        panic!("two E0401s: {out}");
    };
    assert!(held.message.contains("`Target`"), "{out}");
    assert!(!held.notes.iter().any(|n| n == opt_out), "{out}");
    assert!(
        context.message.contains("field `state` of `Context`"),
        "{out}"
    );
    assert!(out.contains(&format!("= note: {opt_out}")), "{out}");
}

#[test]
fn private_type_in_a_submodule_is_rejected() {
    let loaded = load_fixture(
        "private",
        &[(
            "apis/pager/v1/types.rs",
            "struct Hidden {\n    n: i32,\n}\n\npub struct Shown {\n    pub n: i32,\n}\n",
        )],
    );
    let diags = DeepcopyGen.check(&loaded.model);
    insta::assert_snapshot!(render(&loaded, &diags));

    // `pub(crate)` and `pub(super)` (the package module, from `types.rs`) can be named.
    for vis in ["pub(crate) ", "pub(super) "] {
        let loaded = load_fixture(
            "visible",
            &[(
                "apis/pager/v1/types.rs",
                &format!("{vis}struct Hidden {{\n    pub n: i32,\n}}\n"),
            )],
        );
        let diags = DeepcopyGen.check(&loaded.model);
        assert!(diags.is_empty(), "{vis}: {}", render(&loaded, &diags));
    }
}
