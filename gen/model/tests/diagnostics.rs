//! Snapshot tests of rendered diagnostics: every input the loader rejects is rejected with a
//! rustc-like message (code, `-->` location, the source line with a caret, a help line), and
//! nothing panics.

use std::path::Path;

use kube_codegen_model::{Input, Loaded, load};
use tempfile::TempDir;

/// Writes `files` (paths relative to the fixture root) into a fresh temporary directory.
fn fixture(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Makes rendered output independent of where the temporary directory is.
fn stable(text: &str, root: &Path) -> String {
    let root = root.display().to_string();
    text.replace(&format!("{root}/"), "")
        .replace(&root, "<tmp>")
}

fn try_load(root: &TempDir, input: &str) -> Result<Loaded, String> {
    let dir = if input.is_empty() {
        root.path().to_path_buf()
    } else {
        root.path().join(input)
    };
    load(&[Input::new(dir)]).map_err(|f| {
        assert!(
            f.diagnostics.iter().any(|d| d.is_error()),
            "a failure carries at least one error"
        );
        stable(&f.sources.render(&f.diagnostics), root.path())
    })
}

/// Loads `files` from `<root>/<input>` and returns the rendered diagnostics of the failure.
fn errors(files: &[(&str, &str)], input: &str) -> String {
    let root = fixture(files);
    match try_load(&root, input) {
        Ok(loaded) => panic!("expected diagnostics, got a model: {:#?}", loaded.model),
        Err(rendered) => rendered,
    }
}

/// Loads `files` from `<root>/<input>`, which must succeed, and returns its rendered warnings.
fn warnings(files: &[(&str, &str)], input: &str) -> String {
    let root = fixture(files);
    let loaded = try_load(&root, input).unwrap_or_else(|e| panic!("{e}"));
    stable(&loaded.sources.render(&loaded.warnings), root.path())
}

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n";

#[test]
fn syntax_error() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
             \n\
             /// +genclient\n\
             pub struct Alert {\n    pub metadata: ObjectMeta\n    pub spec: String,\n}\n",
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn unknown_tag_did_you_mean() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// Alert is a message.\n/// +genclinet\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +optionl\n    pub note: Option<String>,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

/// Other tools' markers (types ported from Go keep them: kubebuilder's, Go generators
/// kube-codegen has no counterpart for, validation markers) are ignored, as Go's code-generator
/// ignores them, with a warning naming the tool and kube-codegen's equivalent: never an error.
/// A typo of kube-codegen's own tags stays an error.
#[test]
fn kubebuilder_marker_is_explained() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n/// +kubebuilder:printcolumn:name=Sent,type=boolean,JSONPath=.status.sent\n/// +kubebuilder:object:root=true\n/// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object\n/// +k8s:prerelease-lifecycle-gen:introduced=1.20\n#[derive(Clone)]\npub struct Alert {{\n    /// +kubebuilder:validation:MaxLength=10\n    /// +k8s:minimum=0\n    pub metadata: ObjectMeta,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("other tools' markers do not fail a run");
    assert_eq!(loaded.warnings.len(), 6);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
}

/// controller-gen's `+versionName` package marker and Crossplane's `+immutable` are other tools'
/// markers (W0116), not unknown tags of ours.
#[test]
fn version_name_and_immutable_markers_are_foreign() {
    let root = fixture(&[
        (
            "apis/pager/v1/mod.rs",
            "//! +versionName=v1\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +immutable\n    pub region: Option<String>,\n}}\n"
            ),
        ),
    ]);
    let loaded = try_load(&root, "apis").expect("warnings only");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(loaded.warnings.len(), 2, "{out}");
    assert!(out.contains("`+versionName` is ignored"), "{out}");
    assert!(out.contains("`+immutable` is ignored"), "{out}");
}

/// controller-gen's `+kubebuilder:default` values are shown as the JSON `+default=` takes, each
/// default of a file on its own (repeats of one marker are otherwise collapsed).
#[test]
fn kubebuilder_defaults_are_translated_to_json() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use std::collections::BTreeMap;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +kubebuilder:default=generic\n    pub provider: Option<String>,\n    /// +kubebuilder:default={{creationPolicy:Owner,deletionPolicy:Retain}}\n    pub target: Option<BTreeMap<String, String>>,\n    /// +kubebuilder:default=3\n    pub replicas: Option<i32>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("other tools' markers do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    for help in [
        r#"kube-codegen's equivalent: `+default="generic"`"#,
        r#"kube-codegen's equivalent: `+default={"creationPolicy":"Owner","deletionPolicy":"Retain"}`"#,
        "kube-codegen's equivalent: `+default=3`",
    ] {
        assert!(out.contains(help), "{help} missing from:\n{out}");
    }
}

#[test]
fn a_typo_of_a_code_generator_tag_is_not_a_foreign_marker() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// +k8s:deepcopygen=false\n/// +k8s:conversion-gen=k8s.io/sample-apiserver/pkg/apis/wardle\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0101]: unknown tag `+k8s:deepcopygen`"),
        "{out}"
    );
    assert!(out.contains("did you mean `+k8s:deepcopy-gen`?"), "{out}");
    assert!(out.contains("that is a Go import path"), "{out}");
}

#[test]
fn misplaced_tags() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// +optional\n/// +groupName=pager.example.com\n#[derive(Clone)]\npub struct Alert {{\n    /// +genclient\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn genclient_without_metadata() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            "/// +genclient\n#[derive(Clone)]\npub struct Alert {\n    pub message: String,\n}\n\n\
             /// +genclient\n#[derive(Clone)]\npub struct Page {\n    pub metadata: String,\n}\n",
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn duplicate_kind_in_one_version() {
    let foo = format!(
        "{META}\n/// +genclient\n#[derive(Clone)]\npub struct Foo {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let out = errors(
        &[("apis/pager/v1/a.rs", &foo), ("apis/pager/v1/b.rs", &foo)],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn unsupported_field_types() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use std::collections::BTreeMap;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub raw: *const u8,\n    pub borrowed: &'static str,\n    pub by_number: BTreeMap<i32, String>,\n    pub pair: (String, String),\n    pub fixed: [u8; 4],\n    pub big: u128,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn cfg_on_api_types_fields_and_variants() {
    // Test-only types are not part of the API and pass.
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    #[cfg(feature = \"zones\")]\n    pub zone: String,\n}}\n\n#[cfg(feature = \"extra\")]\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Extra {{}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Mode {{\n    On,\n    #[cfg(unix)]\n    Off,\n}}\n\n#[cfg(test)]\npub struct OnlyInTests {{}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn group_not_inferable_from_container_dir() {
    // `apis/v1/types.rs`: the version's parent is the input directory itself, `apis`.
    let out = errors(
        &[(
            "apis/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn group_not_inferable_from_bad_dir_name() {
    let out = errors(
        &[(
            "apis/My_Group/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn empty_input_dir() {
    let root = fixture(&[]);
    std::fs::create_dir(root.path().join("apis")).unwrap();
    let out = try_load(&root, "apis").expect_err("an empty input is an error");
    insta::assert_snapshot!(out);
}

#[test]
fn input_dir_with_only_lib_rs() {
    let out = errors(&[("apis/lib.rs", "pub mod nothing {}\n")], "apis");
    insta::assert_snapshot!(out);
}

#[test]
fn input_dir_does_not_exist() {
    let out = errors(&[], "missing");
    insta::assert_snapshot!(out);
}

#[test]
fn package_without_types() {
    let out = errors(
        &[(
            "apis/pager/v1/mod.rs",
            "//! +groupName=pager.example.com\n\nmod types;\n",
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn stray_genclient_outside_a_package() {
    let out = errors(
        &[(
            "apis/types.rs",
            &format!(
                "{META}\n/// +genclient\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn bad_tag_values() {
    let out = errors(
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=Pager_Group\n//! +k8s:deepcopy-gen=maybe\n\nmod types;\n",
            ),
            (
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}\n/// +genclient\n/// +genclient:onlyVerbs=get,fly\n/// +resourceName=Alerts\n/// +shortName=al,AL\n/// +printcolumn:name=Sent,type=boolean\n/// +genclient:nonNamespaced=true\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// +default=normal\n    /// +listType=bag\n    pub priority: Option<String>,\n}}\n"
                ),
            ),
        ],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn tag_in_plain_comment() {
    // A warning, not an error: Go read `// +tags`, rustc drops them; say so loudly but keep going.
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n// +genclient\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    //+optional\n    // +kubebuilder:validation:MinLength=1\n    pub note: Option<String>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    // Another tool's marker in a plain comment gets W0116 (ignored in a doc comment too), not
    // W0105's "use `///`".
    assert_eq!(loaded.warnings.len(), 3);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
}

/// `+ genclient`: a tag but for the blank after its `+` is reported, not silently taken as
/// description (the group would change, the client vanish); a Markdown list item starting with
/// `+` is description.
#[test]
fn tag_with_a_blank_after_the_plus() {
    let root = fixture(&[
        (
            "apis/pager/v1/mod.rs",
            "//! + groupName=pager.example.com\n\nmod types;\npub use types::*;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// An alert.\n///\n/// + first item of a list\n/// + optional fields are left out\n/// +  genclient\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    /// + optional\n    pub note: Option<String>,\n}}\n"
            ),
        ),
    ]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(loaded.warnings.len(), 3, "{out}");
    assert!(
        out.contains("warning[W0122]: `+ groupName` is not read as a tag"),
        "{out}"
    );
    assert!(
        out.contains("warning[W0122]: `+ genclient` is not read as a tag"),
        "{out}"
    );
    assert!(
        out.contains("warning[W0122]: `+ optional` is not read as a tag"),
        "{out}"
    );
    assert!(
        out.contains("write `+genclient` (no blank after `+`)"),
        "{out}"
    );
    // Neither read: the group is the directory's, the kind has no client.
    let pkg = &loaded.model.packages[0];
    assert_eq!(pkg.group, "pager");
    let alert = pkg.types.iter().find(|t| t.name == "Alert").unwrap();
    assert!(
        alert
            .docs
            .iter()
            .any(|l| l.contains("first item of a list")),
        "{:?}",
        alert.docs
    );
    assert!(alert.resource.as_ref().unwrap().client.is_none());
}

#[test]
fn duplicate_tags() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// +genclient\n/// +resourceName=alerts\n/// +resourceName=pages\n/// +genclient:onlyVerbs=get\n/// +genclient:skipVerbs=list\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

/// Tags that each choose the whole verb set, or a status verb `+genclient:noStatus` removes,
/// conflict as onlyVerbs and skipVerbs do: one of them would be dropped without a word.
#[test]
fn conflicting_verb_tags() {
    for (tags, conflict) in [
        (
            "+genclient:readonly\n/// +genclient:onlyVerbs=create",
            "`+genclient:readonly` and `+genclient:onlyVerbs` together",
        ),
        (
            "+genclient:noVerbs\n/// +genclient:onlyVerbs=create",
            "`+genclient:noVerbs` and `+genclient:onlyVerbs` together",
        ),
        (
            "+genclient:onlyVerbs=get,updateStatus\n/// +genclient:noStatus",
            "`+genclient:noStatus` with `updateStatus` in `+genclient:onlyVerbs`",
        ),
    ] {
        let out = errors(
            &[(
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}\n/// +genclient\n/// {tags}\n#[derive(Clone, Debug)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub status: Option<String>,\n}}\n"
                ),
            )],
            "apis",
        );
        assert!(out.contains(&format!("error[E0307]: {conflict}")), "{out}");
        if tags.starts_with("+genclient:readonly") {
            insta::assert_snapshot!(out);
        }
    }
}

/// A printer column's JSONPath is parsed as the API server evaluates it: one it cannot parse is
/// E0103 (kube-apiserver rejects such a CRD column), the usual ones are accepted.
#[test]
fn printcolumn_json_paths_the_server_cannot_parse() {
    let kind = |path: &str| {
        format!(
            "{META}\n/// +printcolumn:name=A,type=string,jsonPath={path}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
        )
    };
    let out = errors(&[("apis/pager/v1/types.rs", &kind(".spec["))], "apis");
    assert!(out.contains("error[E0103]"), "{out}");
    assert!(
        out.contains("`jsonPath=.spec[` is not a valid JSONPath"),
        "{out}"
    );
    for good in [
        ".status.phase",
        ".spec.items[0].name",
        "`.status.conditions[?(@.type==\"Ready\")].status`",
    ] {
        let root = fixture(&[("apis/pager/v1/types.rs", &kind(good))]);
        if let Err(out) = try_load(&root, "apis") {
            panic!("{good}: {out}");
        }
    }
}

/// The same tag twice says nothing new: a warning, not an error. Go sources have it where a
/// commented-out field's doc lines run into the next field's (a Spark operator's types).
#[test]
fn a_repeated_tag_saying_the_same_is_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\npub struct AlertSpec {{\n    /// GPU specifies the GPU the pod needs.\n    /// +optional\n    // pub gpu: Option<String>,\n    /// Memory is the memory to request.\n    /// +optional\n    pub memory: String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0106]: tag `+optional` is given twice"),
        "{out}"
    );
    insta::assert_snapshot!(out);
    let spec = loaded.model.packages[0]
        .type_named("AlertSpec")
        .expect("AlertSpec");
    assert_eq!(
        spec.fields()[0].options.presence,
        Some(kube_codegen_model::Presence::Optional),
        "the tag is read once"
    );
}

#[test]
fn root_rules() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use serde::{{Deserialize, Serialize}};\n\n#[derive(Clone, Serialize, Deserialize)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n\n#[derive(Clone)]\nstruct Hidden {{\n    pub metadata: ObjectMeta,\n}}\n\n#[derive(Clone)]\npub struct Generic<T> {{\n    pub metadata: ObjectMeta,\n    pub item: Option<T>,\n}}\n\n/// +resourceName=alerts\n#[derive(Clone)]\npub struct Other {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn conflicting_group_names() {
    let body = format!(
        "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let out = errors(
        &[
            (
                "apis/pager/v1/mod.rs",
                "//! +groupName=pager.example.com\n\nmod types;\n",
            ),
            ("apis/pager/v1/types.rs", &body),
            (
                "apis/pager/v2/mod.rs",
                "//! +groupName=paging.example.com\n\nmod types;\n",
            ),
            ("apis/pager/v2/types.rs", &body),
        ],
        "apis",
    );
    insta::assert_snapshot!(out);
}

/// One run reports every problem of every file, sorted by file and position.
#[test]
fn all_problems_reported_together() {
    let out = errors(
        &[
            (
                "apis/zeta/v1/types.rs",
                &format!(
                    "{META}\n/// +genclinet\n#[derive(Clone)]\npub struct Zed {{\n    pub metadata: ObjectMeta,\n    pub p: *mut u8,\n}}\n"
                ),
            ),
            ("apis/alpha/v1/broken.rs", "pub struct Broken {\n"),
            (
                "apis/alpha/v1/types.rs",
                &format!(
                    "{META}\n/// +optional\n#[derive(Clone)]\npub struct Alpha {{\n    pub metadata: ObjectMeta,\n    /// +genclient\n    pub spec: String,\n}}\n\n// +genclient\npub struct Beta {{}}\n"
                ),
            ),
            (
                "apis/Bad_Group/v1/types.rs",
                &format!(
                    "{META}\n#[derive(Clone)]\npub struct Gamma {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
        ],
        "apis",
    );
    // Every file with a problem appears, in path order.
    let order: Vec<usize> = [
        "apis/Bad_Group/v1/types.rs",
        "apis/alpha/v1/broken.rs",
        "apis/alpha/v1/types.rs",
        "apis/zeta/v1/types.rs",
    ]
    .iter()
    .map(|f| {
        out.find(&format!("{f}:"))
            .unwrap_or_else(|| panic!("{f} missing:\n{out}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "not sorted:\n{out}");
    insta::assert_snapshot!(out);
}

/// Malformed or unusual input never panics the loader: it returns a model or diagnostics.
#[test]
fn never_panics() {
    let cases: &[(&str, &str)] = &[
        ("empty", ""),
        ("whitespace", "\n\n   \n"),
        ("binaryish", "\u{0}\u{1}\u{7f}ÿþ\u{feff}garbage \u{fffd}{{{"),
        ("unbalanced", "pub struct A {\n    pub x: Vec<String>,\n"),
        ("closing", "}}}\n)]"),
        ("unterminated_doc", "/** +genclient\npub struct A {}"),
        (
            "only_tags",
            "//! +groupName=\n//! +\n//! +=\n//! + genclient\n",
        ),
        (
            "generics_and_lifetimes",
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
             /// +genclient\npub struct A<'a, T: Clone + 'a, const N: usize> where T: Default {\n    pub metadata: ObjectMeta,\n    pub x: &'a [T; N],\n    pub y: Option<Vec<T>>,\n    pub z: std::collections::BTreeMap<String, Box<T>>,\n}\n",
        ),
        (
            "tuple_and_unit_structs",
            "pub struct T(pub String, Vec<u8>, );\npub struct U;\npub struct E {}\n/// +genclient\npub struct Root(pub k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta);\n",
        ),
        (
            "enums",
            "/// +enum\npub enum E {\n    /// +optional\n    Unit,\n    Tuple(String, Option<i32>),\n    Struct { a: String, r#type: u8 },\n    Disc = 3,\n}\npub enum Never {}\n",
        ),
        (
            "raw_idents",
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
             pub struct r#Kind {\n    pub metadata: ObjectMeta,\n    pub r#type: String,\n    pub r#match: Option<String>,\n    pub r#ref: std::rc::Rc<String>,\n}\n",
        ),
        (
            "odd_types",
            "pub struct A {\n    pub a: <Vec<u8> as IntoIterator>::Item,\n    pub b: fn(u8) -> u8,\n    pub c: dyn std::any::Any,\n    pub d: impl Sized,\n    pub e: !,\n    pub f: _,\n    pub g: (),\n    pub h: Option,\n    pub i: Vec<u8, u8, u8>,\n    pub j: BTreeMap<String>,\n    pub k: HashMap<&str, Rc<RefCell<u8>>>,\n    pub l: ::Foo,\n    pub m: self::super::crate::X,\n    pub n: Box<dyn Fn()>,\n    pub o: Option<()>,\n}\n",
        ),
        (
            "macros_and_items",
            "macro_rules! m { () => {} }\nm!();\nimpl<T> Clone for Wrapper<T> { fn clone(&self) -> Self { loop {} } }\nimpl Default for crate::X {}\nunion U { a: u8 }\ntype Alias = String;\nconst C: u8 = 0;\nmod inner { pub struct Hidden; }\n#[doc = \"+genclient\"]\n#[doc = 42]\n#[doc(hidden)]\npub struct D;\n",
        ),
        ("bom", "\u{feff}//! +groupName=x.io\npub struct A;\n"),
        (
            "crlf",
            "//! +groupName=crlf.io\r\n/// +genclient\r\npub struct A {\r\n    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,\r\n}\r\n",
        ),
        (
            "multibyte",
            "/// Ünïcödé — +genclient\n/// +grüpName=ü\npub struct Ä { pub métadata: String }\n",
        ),
        (
            "garbage_tag_values",
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\
             //! +k8s:conversion-gen=::\n\
             /// +genclient\n/// +genclient:method=,,,=\n/// +genclient:method=name=x,verb=get,result=a::<b>\n\
             /// +genclient:method=N,verb=update,input=crate::,result=9\n/// +genclient:onlyVerbs=,\n\
             /// +printcolumn:name=,type=,jsonPath=\n/// +printcolumn:name=a,type=date,jsonPath=.x,priority=99999999999999\n\
             /// +printcolumn:name=a=b,type=string,jsonPath=.a,jsonPath=.b\n/// +shortName=,,\n/// +resourceName=\u{1F600}\n\
             /// +k8s:conversion-gen=a::b::\n/// +structType=\n\
             #[derive(Clone)]\npub struct A {\n    pub metadata: ObjectMeta,\n\
             /// +default={\"a\":[1,{\"b\":null}]}\n/// +listType=map\n/// +listMapKey=\n/// +listMapKey=x-y\n    pub a: Vec<B>,\n\
             /// +default=18446744073709551616\n/// +patchMergeKey=a.b\n/// +patchStrategy=merge,merge,\n    pub b: u8,\n\
             /// +default=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n    pub c: Vec<Vec<i32>>,\n\
             /// +default=\"\\u0000\"\n/// +k8s:conversion-gen=crate::x\n    pub d: Option<Box<C>>,\n}\n\
             pub struct B { pub x: String }\npub enum C { X, Y(String) }\n",
        ),
        (
            "scopes",
            "pub mod a { use super::*; pub mod b { use super::*; pub struct X { pub y: Y, pub z: Zed } } }\n\
             mod p { pub struct Y; }\nuse nothing::*;\nuse other::*;\nmacro_rules! m {() => {}}\n\
             pub struct Y(Vec<Box<Option<Q>>>);\npub type Q = Q;\npub type R = Vec<R>;\npub struct S { pub r: R, pub t: T }\n",
        ),
    ];
    for (name, text) in cases {
        for rel in ["apis/grp/v1/types.rs", "apis/types.rs", "apis/grp/mod.rs"] {
            let root = fixture(&[(rel, text)]);
            let result = std::panic::catch_unwind(|| {
                let _ = try_load(&root, "apis");
            });
            assert!(result.is_ok(), "load panicked on `{name}` at {rel}");
        }
    }
}

/// Carets stay on the tag text with multi-byte characters, CRLF line ends and `#[doc]` attributes.
#[test]
fn carets_in_unusual_text() {
    let out = errors(
        &[
            (
                "apis/pager/v1/crlf.rs",
                "//! Ünïcödé — package docs\r\n//! +grupName=pager.example.com\r\n\r\n/// Ä kind.\r\n/// +genclinet\r\n#[derive(Clone)]\r\npub struct Crlf {\r\n    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,\r\n}\r\n",
            ),
            (
                "apis/pager/v1/docattr.rs",
                "#[doc = \"Größe.\"]\n#[doc = \" +optionl\"]\n#[derive(Clone)]\npub struct Attr {\n    /**\n     * Block docs.\n     * +genclient\n     */\n    pub größe: String,\n}\n",
            ),
        ],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn lexer_errors() {
    let out = errors(
        &[
            ("apis/pager/v1/a.rs", "pub struct A {}\n}\n"),
            ("apis/pager/v1/b.rs", "pub const S: &str = \"abc;\n"),
            ("apis/pager/v1/c.rs", "/* open\npub struct C;\n"),
            ("apis/pager/v1/d.rs", "pub struct D { x: u8 )\n"),
            ("apis/pager/v1/e.rs", "/// a\u{1b}[2J\rb\npub struct E;\n"),
        ],
        "apis",
    );
    // No control character reaches the terminal.
    assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
    insta::assert_snapshot!(out);
}

#[test]
fn root_fields_clashing_on_the_wire() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub api_version: String,\n    pub kind: String,\n    pub last_seen: String,\n    #[allow(non_snake_case)]\n    pub lastSeen: String,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn version_without_kinds_is_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        "/// Shared by nothing.\n#[derive(Clone)]\npub struct Spec {\n    pub a: String,\n}\n",
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    assert_eq!(loaded.warnings.len(), 1);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
}

/// `#[serde(with)]` on a field and `#[serde(try_from)]` on a type give values wire shapes the
/// schemas cannot see: a warning at each.
#[test]
fn custom_serde_shapes_are_warned_about() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    #[serde(with = \"humantime_serde\")]\n    pub every: std::time::Duration,\n    pub level: Level,\n    pub host: Host,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(try_from = \"String\", into = \"Vec<u8>\")]\npub struct Level(u8);\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(try_from = \"String\", into = \"String\")]\npub struct Host(Vec<u8>);\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings are not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(
        out.matches("warning[W0204]").count(),
        3,
        "with, try_from and into (a string both ways is described, not warned about):\n{out}"
    );
    assert!(
        out.contains("`#[serde(with = …)]` gives this field a wire shape of its own"),
        "{out}"
    );
    assert!(
        out.contains("`#[serde(try_from = …)]` gives this type a wire shape of its own"),
        "{out}"
    );
}

#[test]
fn two_fields_of_any_type_with_one_wire_name_are_an_error() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct Spec {{\n    pub foo_bar: String,\n    #[serde(rename = \"fooBar\")]\n    pub other: String,\n    #[serde(skip)]\n    pub hidden: String,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains(
            "error[E0308]: fields `foo_bar` and `other` of `Spec` are both `fooBar` on the wire"
        ),
        "{out}"
    );
}

/// Go kinds embed `metav1.TypeMeta`; a port that keeps it as a field would read no object that
/// Kubernetes writes (its wire name is not `apiVersion`/`kind`): E0308 says why.
#[test]
fn a_type_meta_field_on_a_kind_is_an_error() {
    let out = errors(
        &[(
            "apis/batch/v1/types.rs",
            &format!(
                "{META}
/// +genclient
#[derive(Clone)]
pub struct Job {{
    pub type_meta: kube::core::TypeMeta,
    pub metadata: ObjectMeta,
    pub spec: Option<String>,
}}
"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0308]: root type `Job` has a `TypeMeta` field `type_meta`"),
        "{out}"
    );
    assert!(
        out.contains("would be a field `typeMeta` on the wire"),
        "{out}"
    );
}

/// kube-codegen's own `include!` lines do not hide a misspelt type name (they declare none a
/// field names): E0110 as without them.
#[test]
fn a_misspelt_type_beside_generated_includes_is_an_error() {
    let out = errors(
        &[(
            "apis/al/v1/mod.rs",
            &format!(
                "//! +groupName=al.example.com\n{META}\n\n/// +genclient\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub typo: Strng,\n}}\n\ninclude!(\"zz_generated.deepcopy.rs\");\n"
            ),
        )],
        "apis",
    );
    assert!(out.contains("error[E0110]"), "{out}");
    assert!(out.contains("Strng"), "{out}");
}

/// A type kept beside the API types and opted out of deepcopy-gen and openapi-gen (an error
/// enum with `&'static str`, a helper with a tuple or a `u32`-keyed map) is read by no generator:
/// its field types are no error (E0201 was, and stopped the run); opted out of one, they are.
/// Left out of OpenAPI, W0204 (a wire shape of its own code) does not apply to it either, nor
/// to a field left out; nor does W0119 to a test module's `#[path]` file that is not there.
#[test]
fn types_no_generator_reads_may_hold_any_field_type() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[cfg(test)]\n#[path = \"types_tests.rs\"]\nmod tests;\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    /// +k8s:openapi-gen=false\n    #[serde(with = \"x\")]\n    pub hidden: String,\n}}\n\n\
             /// +k8s:deepcopy-gen=false\n/// +k8s:openapi-gen=false\n#[derive(Debug)]\npub enum Error {{\n    MissingObjectKey(&'static str),\n    Pair((i32, i32)),\n}}\n\n\
             /// +k8s:deepcopy-gen=false\n/// +k8s:openapi-gen=false\npub struct Helper {{\n    pub by_port: std::collections::HashMap<u32, String>,\n    #[serde(deserialize_with = \"from_ts\")]\n    pub at: String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("no error");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(!out.contains("W0204"), "{out}");
    assert!(!out.contains("W0119"), "{out}");
    // Opted out of deepcopy-gen alone, its schema still needs every field.
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n\n/// +k8s:deepcopy-gen=false\n#[derive(Debug)]\npub enum Error {{\n    MissingObjectKey(&'static str),\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(out.contains("error[E0201]"), "{out}");
}

/// Two modules of a package each with their own `Error` enum (snafu's habit), opted out of
/// deepcopy-gen and openapi-gen: no generated name or definition collides, so not E0305; two
/// that a generator reads (one opted out of deepcopy-gen alone) still are.
#[test]
fn types_no_generator_reads_may_share_a_name() {
    let error = "/// +k8s:deepcopy-gen=false\n/// +k8s:openapi-gen=false\n#[derive(Debug)]\npub enum Error {\n    Missing(&'static str),\n}\n";
    let root = fixture(&[
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        ),
        ("apis/pager/v1/resources.rs", error),
        ("apis/pager/v1/images.rs", error),
    ]);
    try_load(&root, "apis").expect("no error");
    let out = errors(
        &[
            (
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
            (
                "apis/pager/v1/resources.rs",
                "/// +k8s:deepcopy-gen=false\n#[derive(Clone)]\npub struct Error {\n    pub n: i32,\n}\n",
            ),
            (
                "apis/pager/v1/images.rs",
                "#[derive(Clone)]\npub struct Error {\n    pub n: i32,\n}\n",
            ),
        ],
        "apis",
    );
    assert!(out.contains("error[E0305]"), "{out}");
    assert!(out.contains("tag both `+k8s:deepcopy-gen=false`"), "{out}");
}

/// Aliases that reach themselves (rustc's E0391): E0123 once per cycle, at the alias that
/// closes it, rather than a field silently left an unknown type.
#[test]
fn an_alias_defined_in_terms_of_itself_is_an_error() {
    let out = errors(
        &[(
            "apis/al/v1/types.rs",
            &format!(
                "{META}\npub type A = Vec<B>;\npub type B = Option<A>;\npub type S = Box<S>;\npub type Fine = String;\n\n/// +genclient\n#[derive(Clone)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub a: A,\n    pub f: Fine,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0123]: type alias `B` is defined in terms of itself"),
        "{out}"
    );
    assert!(
        out.contains("`B` names `A`, which leads back to `B`"),
        "{out}"
    );
    assert!(
        out.contains("error[E0123]: type alias `S` is defined in terms of itself"),
        "{out}"
    );
    assert!(out.contains("`S` names itself"), "{out}");
    assert_eq!(out.matches("E0123").count(), 2, "{out}");
    assert!(!out.contains("`Fine`"), "{out}");
}

/// A tag on a type alias is never read (the alias is replaced by its target): E0102, and for
/// Go's `+enum` on a string type, how such an enum is written here.
#[test]
fn a_tag_on_a_type_alias_is_an_error() {
    let out = errors(
        &[(
            "apis/apps/v1/types.rs",
            &format!(
                "{META}\n/// +enum\npub type DeploymentStrategyType = String;\n\n/// +genclient\n#[derive(Clone)]\npub struct Deployment {{\n    pub metadata: ObjectMeta,\n    pub strategy: Option<DeploymentStrategyType>,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0102]: tag `+enum` is not allowed on a type alias"),
        "{out}"
    );
    assert!(
        out.contains("is a Rust `enum` of unit variants here"),
        "{out}"
    );
}

/// Go's apps/v1 names the scale subresource's type by its import path; the error names the
/// k8s-openapi path to write instead.
#[test]
fn a_go_import_path_in_a_method_tag_is_named_as_such() {
    let out = errors(
        &[(
            "apis/apps/v1/types.rs",
            &format!(
                "{META}\n/// +genclient\n/// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale\n#[derive(Clone)]\npub struct Deployment {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("`result=k8s.io/api/autoscaling/v1.Scale` is a Go import path: name the type as Rust does, `result=k8s_openapi::api::autoscaling::v1::Scale`"),
        "{out}"
    );
}

#[test]
fn the_core_group_is_named_as_such() {
    let out = errors(
        &[(
            "apis/core/v1/types.rs",
            &format!(
                "//! +groupName=\n{META}\n/// +genclient\n#[derive(Clone)]\npub struct Pod {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(out.contains("error[E0103]"), "{out}");
    assert!(
        out.contains("the empty (core) group is Kubernetes' own"),
        "{out}"
    );
}

#[test]
fn kube_rs_custom_resource_gets_a_specific_note() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        "use kube::CustomResource;\n/// A spec.\n#[derive(CustomResource, Clone)]\n#[kube(group = \"kube.rs\", version = \"v1\", kind = \"Document\")]\npub struct DocumentSpec {\n    pub title: String,\n}\n",
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("warning[W0110]"), "{out}");
    assert!(out.contains("derives kube-rs's `CustomResource`"), "{out}");
}

/// The kind W0118 shows is Rust to paste: a keyword-named spec is written raw.
#[test]
fn kube_rs_custom_resource_note_writes_raw_identifiers() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        "use kube::CustomResource;\n#[allow(non_camel_case_types)]\n#[derive(CustomResource, Clone)]\n#[kube(group = \"kube.rs\", version = \"v1\", kind = \"Match\")]\npub struct r#match {\n    pub title: String,\n}\n",
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("pub spec: r#match,"), "{out}");
    assert!(
        out.contains("pub fn new(name: &str, spec: r#match)"),
        "{out}"
    );
}

/// A name kube-rs's derive declares, used elsewhere (akri's `pub type ConfigurationList =
/// ObjectList<Configuration>;`): E0110 points at the derive and W0118, not at a look-alike
/// (`did you mean `ConfigurationSpec`?`).
#[test]
fn a_kind_a_derive_declares_is_named_in_e0110() {
    let out = errors(
        &[(
            "apis/akri/v0/types.rs",
            "use kube::CustomResource;\nuse serde::{Deserialize, Serialize};\n#[derive(CustomResource, Clone, Debug, Serialize, Deserialize)]\n#[kube(group = \"akri.sh\", version = \"v0\", kind = \"Configuration\", namespaced)]\npub struct ConfigurationSpec {\n    pub capacity: i32,\n}\n\npub type ConfigurationList = Vec<Configuration>;\n\n#[derive(Clone, Serialize, Deserialize)]\npub struct Holder {\n    pub all: ConfigurationList,\n}\n",
        )],
        "apis",
    );
    assert!(out.contains("error[E0110]"), "{out}");
    assert!(
        out.contains("`#[derive(CustomResource)]` on `ConfigurationSpec` declares `Configuration` (warning W0118)"),
        "{out}"
    );
    assert!(!out.contains("did you mean"), "{out}");
}

/// W0118 shows the plain kind to write instead of a `CustomResource` derive, its tags read from
/// the `#[kube(...)]` attributes; what it shows is valid input that declares that kind.
#[test]
fn a_custom_resource_derive_is_shown_as_the_kind_to_write() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        concat!(
            "use kube::CustomResource;\nuse serde::{Deserialize, Serialize};\n",
            "/// A spec.\n#[derive(CustomResource, Clone, Debug, Default, Serialize, Deserialize)]\n",
            "#[kube(group = \"kube.rs\", version = \"v1\", kind = \"Document\", plural = \"docs\")]\n",
            "#[kube(status = \"DocumentStatus\", shortname = \"doc\", shortname = \"dc\", category = \"all\")]\n",
            "#[kube(printcolumn = r#\"{\"name\":\"Title\", \"type\":\"string\", \"jsonPath\":\".spec.title\", \"description\":\"The title, as written\"}\"#)]\n",
            "#[kube(printcolumn(name = \"Replicas\", type_ = \"integer\", json_path = \".spec.replicas\", priority = 1))]\n",
            "#[kube(scale(spec_replicas_path = \".spec.replicas\", status_replicas_path = \".status.replicas\"), crates(kube_core = \"::kube::core\"))]\n",
            "pub struct DocumentSpec {\n    pub title: String,\n    pub replicas: i32,\n}\n\n",
            "#[derive(Clone, Debug, Default, Serialize, Deserialize)]\npub struct DocumentStatus {\n    pub seen: bool,\n    pub replicas: i32,\n}\n",
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
    let shown: String = out
        .lines()
        .skip_while(|l| !l.contains("remove `CustomResource`"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            format!(
                "{}\n",
                l.trim_start().strip_prefix("  ").unwrap_or(l.trim_start())
            )
        })
        .collect();
    assert!(shown.contains("pub struct Document {"), "{out}");
    // kube's derive makes a cluster-scoped kind unless told `namespaced`.
    assert!(shown.contains("+genclient:nonNamespaced"), "{shown}");

    // The struct shown, in place of the derive, declares the kind.
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        &format!(
            "use serde::{{Deserialize, Serialize}};\n/// A spec.\n#[derive(Clone, Debug, Default, Serialize, Deserialize)]\npub struct DocumentSpec {{\n    pub title: String,\n    pub replicas: i32,\n}}\n\n#[derive(Clone, Debug, Default, Serialize, Deserialize)]\npub struct DocumentStatus {{\n    pub seen: bool,\n    pub replicas: i32,\n}}\n\n{shown}"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("the kind shown loads");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let pkg = &loaded.model.packages[0];
    let kind = pkg.type_named("Document").expect("Document");
    let r = kind.resource.as_ref().expect("a kind");
    assert_eq!(r.plural, "docs");
    assert_eq!(r.short_names, ["doc", "dc"]);
    // A description with a comma, quoted in the tag shown.
    assert_eq!(
        r.printer_columns[0].description.as_deref(),
        Some("The title, as written")
    );
    // The derive's constructor, shown with the kind.
    assert!(
        shown.contains("pub fn new(name: &str, spec: DocumentSpec) -> Self {"),
        "{shown}"
    );
    assert_eq!(r.categories, ["all"]);
    assert_eq!(r.printer_columns.len(), 2);
    assert_eq!(r.printer_columns[1].priority, 1);
    assert!(!r.namespaced && r.has_status);
    let scale = r.scale.as_ref().expect("kube's scale(...) as +scale");
    assert_eq!(
        (&scale.spec_replicas_path, &scale.status_replicas_path),
        (
            &vec!["spec".to_string(), "replicas".to_string()],
            &vec!["status".to_string(), "replicas".to_string()]
        )
    );
}

/// W0118 carries the derive's `doc` into the kind shown, reads the older `subresource_scale`,
/// and names the attributes that have no tag here (`singular`, CEL `validation`, `attr`,
/// `storage`) rather than leaving them out without a word.
#[test]
fn custom_resource_hints_carry_the_doc_and_name_what_they_leave_out() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        concat!(
            "use kube::CustomResource;\nuse serde::{Deserialize, Serialize};\n",
            "#[derive(CustomResource, Clone, Debug, Serialize, Deserialize)]\n",
            "#[kube(group = \"kube.rs\", version = \"v1\", kind = \"Foo\", namespaced, doc = \"Foo does things.\")]\n",
            "#[kube(singular = \"fooo\", attr = \"allow(missing_docs)\", storage)]\n",
            "#[kube(validation = Rule::new(\"self.replicas > 0\"))]\n",
            "#[kube(subresource_scale = r#\"{\"specReplicasPath\":\".spec.replicas\", \"statusReplicasPath\":\".status.replicas\"}\"#)]\n",
            "pub struct FooSpec {\n    pub replicas: i32,\n}\n",
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("/// Foo does things."), "{out}");
    assert!(
        out.contains("/// +scale=specReplicasPath=.spec.replicas"),
        "{out}"
    );
    assert!(
        out.contains("`singular`, `attr`, `storage`, `validation` have no tag here"),
        "{out}"
    );
    // A field's CEL rule (kube-rs's `#[x_kube(validation = …)]`) is named too.
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Foo {{\n    pub metadata: ObjectMeta,\n    pub spec: FooSpec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct FooSpec {{\n    #[x_kube(validation = Rule::new(\"self == oldSelf\").message(\"is immutable\"))]\n    pub name: String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0207]: `#[x_kube(…)]` is not read: its CEL rules are not published"),
        "{out}"
    );
    // So is one written `#[validate(rule = …)]` beside kube-rs's `KubeSchema` derive; a bare
    // `#[schemars(default)]` on a field serde does not require loses nothing and says nothing.
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Foo {{\n    pub metadata: ObjectMeta,\n    pub spec: FooSpec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct FooSpec {{\n    #[validate(rule = \"self.size() > 0\", message = \"must not be empty\")]\n    pub name: String,\n    #[schemars(default)]\n    pub nick: Option<String>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains(
            "warning[W0207]: `#[validate(rule …)]` is not read: its CEL rule is not published"
        ),
        "{out}"
    );
    assert_eq!(out.matches("warning[W0207]").count(), 1, "{out}");
    // A schema written by hand for schemars is not read either.
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Foo {{\n    pub metadata: ObjectMeta,\n    pub spec: FooSpec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct FooSpec {{\n    pub name: String,\n}}\n\nimpl schemars::JsonSchema for FooSpec {{}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0207]: `impl JsonSchema for FooSpec` is not read"),
        "{out}"
    );
    // A kind's schema written by hand (kube-rs's `crd_derive_custom_schema`) neither.
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Foo {{\n    pub metadata: ObjectMeta,\n    pub spec: FooSpec,\n}}\n\n#[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct FooSpec {{\n    pub name: String,\n}}\n\nimpl schemars::JsonSchema for Foo {{}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0207]: `impl JsonSchema for Foo` is not read"),
        "{out}"
    );
    assert!(out.contains("a kind's schema is made from them"), "{out}");
}

/// W0118 as real projects write `#[kube(...)]`: several columns in one `printcolumn` string
/// (shulker), `root` differing from `kind` and `selectable` (gateway-api-rs), and a spec deriving
/// `Default` only under `cfg_attr(test)` (controller-rs) — the kind shown does not derive it.
#[test]
fn custom_resource_hints_read_several_columns_root_selectable_and_conditional_derives() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        concat!(
            "use kube::CustomResource;\nuse serde::{Deserialize, Serialize};\n",
            "#[derive(CustomResource, Clone, Debug, Serialize, Deserialize)]\n",
            "#[cfg_attr(test, derive(Default, PartialEq))]\n",
            "#[kube(group = \"x.io\", version = \"v1\", kind = \"HTTPRoute\", root = \"HttpRoute\", namespaced)]\n",
            "#[kube(selectable = \".spec.name\")]\n",
            "#[kube(printcolumn = r#\"{\"name\":\"Ready\",\"type\":\"string\",\"jsonPath\":\".status.ready\"}, {\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":\".metadata.creationTimestamp\"}\"#)]\n",
            "pub struct HttpRouteSpec {\n    pub name: String,\n}\n",
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("+printcolumn:name=Ready,type=string,jsonPath=.status.ready"),
        "{out}"
    );
    assert!(
        out.contains("+printcolumn:name=Age,type=date,jsonPath=.metadata.creationTimestamp"),
        "{out}"
    );
    assert!(!out.contains("printcolumn to translate"), "{out}");
    assert!(out.contains("#[derive(Clone, Debug)]"), "{out}");
    assert!(out.contains("pub struct HTTPRoute {"), "{out}");
    assert!(
        out.contains("the derive names the struct `HttpRoute`"),
        "{out}"
    );
    assert!(
        out.contains("`selectable` (.spec.name) has no tag"),
        "{out}"
    );
}

/// W0118's kind derives what kube-rs's derive gives its kind — `Clone`, `Debug` and what
/// `derive = …` lists — not what the spec derives: a spec's `PartialEq` on a kind whose status
/// lacks it would not compile (E0369). `derive` is read, so it is not named as left out; a key
/// given twice is named once; a `kube(doc = …)` under `cfg_attr` is the kind's description.
#[test]
fn custom_resource_hints_derive_what_kube_derives_on_the_kind() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        concat!(
            "use kube::CustomResource;\nuse serde::{Deserialize, Serialize};\n",
            "#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]\n",
            "#[kube(group = \"ex.example.com\", version = \"v1\", kind = \"Thing\", namespaced, status = \"ThingStatus\", derive = \"Default\")]\n",
            "#[kube(derive = \"Default\", derive = \"schemars::JsonSchema\", attr = \"a\", attr = \"b\")]\n",
            "#[cfg_attr(not(doctest), kube(doc = r#\"A thing, documented.\"#))]\n",
            "pub struct ThingSpec {\n    pub size: i32,\n}\n\n",
            "#[derive(Serialize, Deserialize, Clone, Debug, Default)]\npub struct ThingStatus {\n    pub ready: bool,\n}\n",
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("#[derive(Clone, Debug, Default, schemars::JsonSchema)]\n"),
        "{out}"
    );
    assert!(out.contains("/// A thing, documented."), "{out}");
    assert!(out.contains("`attr` has no tag here"), "{out}");
    assert!(!out.contains("`derive`"), "{out}");
}

#[test]
fn unresolved_types() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub inner: NotDefinedAnywhere,\n    pub spec: Option<AlertSpc>,\n    pub meta: Vec<ObjectMet>,\n}}\n\n#[derive(Clone)]\npub struct AlertSpec {{\n    pub message: String,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn two_kinds_of_one_name_in_an_inline_module() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\n/// +genclient\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n\npub mod again {{\n    use super::*;\n\n    /// +genclient\n    #[derive(Clone)]\n    pub struct Widget {{\n        pub metadata: ObjectMeta,\n    }}\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn private_inline_module_with_types() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    pub part: hidden::Part,\n}}\n\nmod hidden {{\n    #[derive(Clone)]\n    pub struct Part {{\n        pub n: i32,\n    }}\n}}\n\n#[cfg(test)]\nmod tests {{\n    struct Fixture;\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn ambiguous_glob_imports() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\nuse k8s_openapi::api::core::v1::*;\nuse k8s_openapi::api::apps::v1::*;\n\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    pub template: PodTemplateSpec,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn user_types_colliding_with_generated_names() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    pub spec: WidgetSpec,\n}}\n\n#[derive(Clone)]\npub struct WidgetSpec {{\n    pub size: i32,\n}}\n\n#[derive(Clone)]\npub struct WidgetList {{\n    pub items: Vec<String>,\n}}\n\n#[derive(Clone)]\npub struct WidgetSpecApplyConfiguration {{\n    pub size: Option<i32>,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn kind_and_client_tags_in_the_wrong_place() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\n/// +genclient:readonly\n/// +genclient:method=GetScale,verb=get,subresource=scale\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    pub spec: WidgetSpec,\n}}\n\n/// +shortName=ws\n/// +printcolumn:name=Size,type=integer,jsonPath=.size\n#[derive(Clone)]\npub struct WidgetSpec {{\n    pub size: i32,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn tags_that_do_not_fit_their_item() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    /// +listType=atomic\n    pub name: String,\n    /// +mapType=atomic\n    pub tags: Vec<String>,\n    /// +listType=map\n    pub ports: Vec<Port>,\n    /// +listMapKey=port\n    pub more: Vec<Port>,\n    /// +listType=map\n    pub set: std::collections::BTreeSet<String>,\n    /// +listType=set\n    pub port_set: Vec<Port>,\n    /// +listType=atomic\n    pub atomic_set: std::collections::BTreeSet<Port>,\n    /// +optional\n    /// +required\n    pub size: i32,\n    /// +patchStrategy=merge\n    /// +patchMergeKey=port\n    pub count: i32,\n}}\n\n/// +enum\n#[derive(Clone)]\npub struct Port {{\n    pub port: i32,\n}}\n\n/// +structType=atomic\n#[derive(Clone)]\npub enum Mode {{\n    A,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn defaults_of_the_wrong_type() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\nuse serde::{{Deserialize, Serialize}};\n\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    /// +default=\"three\"\n    pub replicas: i32,\n    /// +default=300\n    pub small: Option<u8>,\n    /// +default=\"Bogus\"\n    pub mode: Option<Mode>,\n    /// +default={{\"size\": 1, \"colour\": \"red\"}}\n    pub spec: Option<Spec>,\n    /// +default=[\"a\", 2]\n    pub names: Vec<String>,\n    /// +default=\"normal\"\n    pub priority: Option<String>,\n    /// +default=\"1Gi\"\n    pub memory: Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub enum Mode {{\n    Fast,\n    #[serde(rename = \"slow-ish\")]\n    Slow,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\npub struct Spec {{\n    pub size: i32,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn list_keys_that_are_not_fields() {
    let out = errors(
        &[(
            "apis/widgets/v1/types.rs",
            &format!(
                "{META}\nuse serde::{{Deserialize, Serialize}};\n\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    /// +listType=map\n    /// +listMapKey=container_port\n    /// +listMapKey=protocol\n    pub ports: Vec<Port>,\n    /// +patchStrategy=merge\n    /// +patchMergeKey=nmae\n    pub volumes: Vec<Volume>,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct Port {{\n    pub container_port: i32,\n    pub protocol: Option<String>,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\npub struct Volume {{\n    pub name: String,\n}}\n"
            ),
        )],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn typed_tag_values_that_do_not_parse() {
    let out = errors(
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +k8s:conversion-gen=crate::apis::9widgets\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/widgets/v1/types.rs",
                &format!(
                    "{META}\n/// +genclient\n/// +printcolumn:name=Size,type=int,jsonPath=.spec.size\n/// +printcolumn:name=Age,type=date,jsonPath=metadata.creationTimestamp\n/// +printcolumn:name=X,type=string,jsonPath=.x,priority=-1\n/// +genclient:method=Watch,verb=watch\n/// +genclient:method=GetScale,verb=get,subresource=scale,input=Scale\n/// +genclient:method=GetThing,verb=get,result=Thing\n/// +genclient:method=GetScale,verb=get,subresource=Scale\n#[derive(Clone)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n    /// +k8s:conversion-gen=crate::x\n    pub size: i32,\n}}\n"
                ),
            ),
        ],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn unreadable_serde_attributes_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\nuse serde::{{Deserialize, Serialize}};\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = camelCase, bound(serialize = \"T: Clone\"))]\npub struct Spec {{\n    #[serde(rename = 5)]\n    pub a_b: String,\n    #[serde(default, skip_serializing_if = \"String::is_empty\", deserialize_with = \"x\")]\n    pub c: String,\n}}\n\n#[derive(Clone, = Debug)]\npub struct Odd;\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    // Two unreadable serde attributes, one unreadable derive, and `deserialize_with` (W0204).
    assert_eq!(loaded.warnings.len(), 4, "{:?}", loaded.warnings);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
}

#[test]
fn version_without_types_is_a_warning() {
    let root = fixture(&[
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        ),
        ("apis/pager/v2/mod.rs", "//! Nothing here yet.\n"),
    ]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    assert_eq!(loaded.warnings.len(), 1);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);
}

#[test]
fn directories_named_like_versions_but_not_spelled_as_one_are_warned() {
    let kind = format!(
        "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let root = fixture(&[
        (
            "apis/pager/mod.rs",
            "pub mod V1;\npub mod v1beta1;\nmod v1_helpers;\n",
        ),
        ("apis/pager/types.rs", ""),
        ("apis/pager/v1_helpers.rs", ""),
        ("apis/pager/V1/mod.rs", "mod types;\npub use types::*;\n"),
        ("apis/pager/V1/types.rs", &kind),
        ("apis/pager/v1.2/types.rs", &kind.replace("Alert", "Page")),
        (
            "apis/pager/v1beta1/mod.rs",
            "mod types;\npub use types::*;\n",
        ),
        ("apis/pager/v1beta1/types.rs", &kind),
        // A module of a real version may be named as its author likes.
        ("apis/pager/v1beta1/V2/types.rs", ""),
    ]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0112]: `pager/V1` is named like a version but is not one"),
        "{out}"
    );
    assert!(out.contains("help: rename `pager/V1` to `v1`"), "{out}");
    assert!(
        out.contains("read as part of the internal hub package `pager`"),
        "{out}"
    );
    assert!(
        out.contains("`pager/v1.2` is named like a version"),
        "{out}"
    );
    assert!(out.contains("`v<N>alpha<M>`"), "{out}");
    assert_eq!(out.matches("W0112").count(), 2, "{out}");
    for (name, yes) in [
        ("V1", true),
        // CRDs serve `v1alpha` (mirrord does): a version.
        ("v1alpha", false),
        ("v1-beta1", true),
        ("v1.2", true),
        ("V2Alpha1", true),
        ("v1", false),
        ("v2beta3", false),
        ("v1_helpers", false),
        ("values", false),
        ("vendor", false),
    ] {
        assert_eq!(
            kube_codegen_model::naming::looks_like_version(name),
            yes,
            "{name}"
        );
    }
    assert_eq!(
        kube_codegen_model::naming::version_spelling("v1-beta1").as_deref(),
        Some("v1beta1")
    );
}

#[test]
fn a_file_that_is_not_utf8_is_named_with_line_and_column() {
    let root = fixture(&[("apis/pager/v1/mod.rs", "mod types;\n")]);
    let mut bytes = b"// Pager types.\n/// caf".to_vec();
    bytes.push(0xE9); // Latin-1 `é`
    bytes.extend_from_slice(b"\npub struct Alert;\n");
    std::fs::write(root.path().join("apis/pager/v1/types.rs"), bytes).unwrap();
    let out = try_load(&root, "apis").unwrap_err();
    assert!(
        out.contains("error[E0003]: cannot read apis/pager/v1/types.rs: not UTF-8 at 2:8 (byte 23); Rust source files are UTF-8"),
        "{out}"
    );
    // Shown like any other error: where, with the line (the byte replaced) and a caret.
    assert!(
        out.contains(" --> apis/pager/v1/types.rs:2:8") && out.contains("/// caf\u{FFFD}"),
        "{out}"
    );
}

#[test]
fn a_value_listed_twice_in_a_comma_list_tag_is_an_error() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// +genclient\n/// +genclient:skipVerbs=watch,watch\n/// +shortName=al,pg,al\n/// +categories=all\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(out.contains("`watch` is listed twice"), "{out}");
    assert!(out.contains("`al` is listed twice"), "{out}");
    assert_eq!(out.matches("error[E0103]").count(), 2, "{out}");
}

/// Positions count characters as an editor does, after a byte-order mark, a shebang line and
/// multi-byte text alike.
#[test]
fn positions_survive_a_bom_a_shebang_and_wide_characters() {
    for (prefix, line) in [("\u{feff}", 3), ("#!/usr/bin/env run\n", 4), ("", 3)] {
        let out = errors(
            &[(
                "apis/pager/v1/types.rs",
                &format!(
                    "{prefix}{META}/// Ünïcödé — “quoted” 🚨\n#[derive(Clone)] pub struct Alert {{ pub metadata: ObjectMeta, pub spec: Missing }}\n"
                ),
            )],
            "apis",
        );
        let want = format!("apis/pager/v1/types.rs:{line}:");
        assert!(out.contains(&want), "{prefix:?}: {out}");
        assert!(out.contains("^^^^^^^ not declared"), "{prefix:?}: {out}");
        // `Missing` starts at its character column on that line.
        let col = "#[derive(Clone)] pub struct Alert { pub metadata: ObjectMeta, pub spec: "
            .chars()
            .count()
            + 1;
        assert!(out.contains(&format!("{want}{col}")), "{prefix:?}: {out}");
    }
}

/// A file cut short (a dangling attribute at its end) is reported where it ends, not at 1:1.
#[test]
fn unexpected_end_of_input_points_at_the_end() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!("{META}/// A kind.\n#[derive(Clone)]\n"),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0001]: this file is not valid Rust: unexpected end of input"),
        "{out}"
    );
    assert!(out.contains("apis/pager/v1/types.rs:3:16"), "{out}");
}

#[test]
fn map_keys_must_resolve_to_string() {
    // `String` aliases and re-exports from another module of the package are keys like
    // `String` (no error for `by_name`, `by_nested`, `by_reexport`); a newtype, an enum and a
    // path into another crate are not.
    let out = errors(
        &[
            (
                "apis/pager/v1/mod.rs",
                "mod names;\nmod types;\npub use types::*;\npub use names::Zone;\n",
            ),
            (
                "apis/pager/v1/names.rs",
                "pub type AlertName = String;\npub type Nested = AlertName;\npub use std::string::String as Text;\n\
                 #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Zone(pub String);\n\
                 #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Tier { Gold, Silver }\n",
            ),
            (
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}use std::collections::BTreeMap;\nuse super::names::{{AlertName, Nested, Tier}};\n\n\
                     #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    \
                     pub by_name: BTreeMap<AlertName, String>,\n    \
                     pub by_nested: BTreeMap<Nested, i32>,\n    \
                     pub by_reexport: BTreeMap<super::names::Text, i32>,\n    \
                     pub by_zone: BTreeMap<super::Zone, String>,\n    \
                     pub by_tier: BTreeMap<Tier, String>,\n    \
                     pub by_crate: BTreeMap<other_crate::Name, String>,\n}}\n"
                ),
            ),
        ],
        "apis",
    );
    insta::assert_snapshot!(out);
}

#[test]
fn files_no_module_declares_are_not_read() {
    // `stray.rs` is in the package directory but `mod.rs` does not declare it: rustc never
    // compiles it, so its types are not part of the API (generated code naming them would not
    // compile). `tests.rs` is declared under `#[cfg(test)]`: left out without a word.
    let root = fixture(&[
        (
            "apis/pager/v1/mod.rs",
            "mod types;\npub use types::*;\n#[cfg(test)]\nmod tests;\n",
        ),
        (
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        ),
        (
            "apis/pager/v1/stray.rs",
            "#[derive(Clone)]\npub struct Leftover {\n    pub name: String,\n}\n",
        ),
        (
            "apis/pager/v1/tests.rs",
            "#[derive(Clone)]\npub struct Fixture {\n    pub name: String,\n}\n",
        ),
    ]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let pkg = &loaded.model.packages[0];
    let names: Vec<&str> = pkg.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Alert"]);
    assert_eq!(loaded.warnings.len(), 1);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    insta::assert_snapshot!(out);

    // A package whose only module file is undeclared: W0115 says why there are no types.
    let out = errors(
        &[
            ("apis/pager/v1/mod.rs", "//! +groupName=pager.k8s.co\n"),
            (
                "apis/pager/v1/types.rs",
                &format!(
                    "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
        ],
        "apis",
    );
    assert!(out.contains("warning[W0115]"), "{out}");
    assert!(out.contains("error[E0100]"), "{out}");
}

/// A version written as an inline module of the group's file (`pub mod v1alpha1 { … }`) is no
/// package: E0108 (the group's file then holds no package) says so and where; so does E0100.
#[test]
fn an_inline_version_module_is_named_as_no_package() {
    let out = errors(
        &[(
            "apis/shop/mod.rs",
            &format!(
                "//! +groupName=shop.example.com\npub mod v1alpha1 {{\n    {META}\n    #[derive(Clone)]\n    pub struct Order {{\n        pub metadata: ObjectMeta,\n    }}\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(out.contains("error[E0108]"), "{out}");
    assert!(
        out.contains(
            "`mod v1alpha1 { … }` in shop/mod.rs is an inline module, not a version package"
        ),
        "{out}"
    );
}

/// A group that cannot be told is one E0106, not one per package of the group (the group's own
/// module and each version): a tag in any of their files names it.
#[test]
fn an_unknown_group_is_one_error() {
    let out = errors(
        &[
            ("src/lib.rs", "pub mod v1alpha1;\n"),
            (
                "src/v1alpha1/mod.rs",
                &format!(
                    "{META}\n#[derive(Clone)]\npub struct Order {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
        ],
        "src",
    );
    assert_eq!(out.matches("error[E0106]").count(), 1, "{out}");
}

/// A version directory the group's module does not declare is not compiled by rustc (unless a
/// module outside the input declares it): W0117 names the module file to declare it in
/// (generated clients and apply configurations would name a module that does not exist). A
/// declaration under `#[cfg]`, through `#[path]` or inline counts.
#[test]
fn a_version_directory_the_group_module_does_not_declare() {
    let alert = format!(
        "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let group = "//! +groupName=pager.k8s.co\npub mod v1;\n";
    let root_with = |group: &str| {
        fixture(&[
            ("apis/pager/mod.rs", group),
            ("apis/pager/v1/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/pager/v1/types.rs", &alert),
            ("apis/pager/v2/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/pager/v2/types.rs", &alert),
        ])
    };
    let root = root_with(group);
    let loaded = try_load(&root, "apis").expect("a warning: v2 may be declared from outside");
    assert_eq!(loaded.model.packages.len(), 3, "v2 is generated anyway");
    insta::assert_snapshot!(stable(
        &loaded.sources.render(&loaded.warnings),
        root.path()
    ));

    for declared in [
        "//! +groupName=pager.k8s.co\npub mod v1;\n#[cfg(feature = \"v2\")]\npub mod v2;\n",
        "//! +groupName=pager.k8s.co\npub mod v1;\n#[path = \"v2/mod.rs\"]\npub mod second;\n",
        "//! +groupName=pager.k8s.co\npub mod v1;\npub mod v2 {\n    mod types;\n    pub use types::*;\n}\n",
    ] {
        let loaded = try_load(&root_with(declared), "apis").expect("declared");
        assert_eq!(loaded.model.packages.len(), 3, "{declared}");
        assert!(
            loaded.warnings.is_empty(),
            "{declared}: {:?}",
            loaded.warnings
        );
    }
}

/// A kind namespaced in one version and cluster-scoped in another is E0316: the versions are
/// one resource over one storage, with one scope.
#[test]
fn a_kinds_scope_must_agree_across_versions() {
    let kind = |tags: &str| {
        format!(
            "{META}\n{tags}#[derive(Clone)]\npub struct Fischer {{\n    pub metadata: ObjectMeta,\n}}\n"
        )
    };
    let cluster = kind("/// +genclient\n/// +genclient:nonNamespaced\n");
    let namespaced = kind("/// +genclient\n");
    let out = errors(
        &[
            ("apis/wardle/v1alpha1/types.rs", &namespaced),
            ("apis/wardle/v1beta1/types.rs", &cluster),
        ],
        "apis",
    );
    assert!(out.contains("error[E0316]"), "{out}");
    assert!(out.contains("kind `Fischer` is"), "{out}");
    assert!(out.contains("namespaced here"), "{out}");
    assert!(out.contains("cluster-scoped here"), "{out}");
    // Agreeing versions are fine.
    let root = fixture(&[
        ("apis/wardle/v1alpha1/types.rs", &cluster),
        ("apis/wardle/v1beta1/types.rs", &cluster),
    ]);
    try_load(&root, "apis").expect("one scope");
}

/// A group directory the input's module file does not declare (`src/apis/mod.rs` without
/// `pub mod pager;`) is W0117 too; nested directories are checked at each level, and an input
/// without a module file of its own says nothing.
#[test]
fn a_group_directory_the_inputs_module_does_not_declare() {
    let alert = format!(
        "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let root_with = |root_module: Option<&str>| {
        let mut files = vec![
            (
                "apis/pager/mod.rs",
                "//! +groupName=pager.k8s.co\npub mod v1;\n",
            ),
            ("apis/pager/v1/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/pager/v1/types.rs", alert.as_str()),
            (
                "apis/fleet/mod.rs",
                "//! +groupName=fleet.k8s.co\npub mod v1;\n",
            ),
            ("apis/fleet/v1/mod.rs", "mod types;\npub use types::*;\n"),
            ("apis/fleet/v1/types.rs", alert.as_str()),
        ];
        if let Some(m) = root_module {
            files.push(("apis/mod.rs", m));
        }
        fixture(&files)
    };
    let root = root_with(Some("pub mod fleet;\n"));
    let loaded = try_load(&root, "apis").expect("a warning only");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(loaded.warnings.len(), 1, "{out}");
    assert!(out.contains("warning[W0117]"), "{out}");
    assert!(out.contains("does not declare `mod pager;`"), "{out}");
    assert!(out.contains("(`pub mod pager;`)"), "{out}");
    for quiet in [Some("pub mod fleet;\npub mod pager;\n"), None] {
        let loaded = try_load(&root_with(quiet), "apis").expect("declared");
        assert!(
            loaded.warnings.is_empty(),
            "{quiet:?}: {:?}",
            loaded.warnings
        );
    }
}

/// An optional string, list, map or set that serde writes even when empty, or a `bool` or a
/// number written when false or zero (no `skip_serializing_if`, Go's `omitempty`) is W0318: a write sends it, so server-side apply
/// makes the writer its owner. An `Option`, a field that is skipped when empty, and a required
/// field are fine.
#[test]
fn an_optional_field_written_when_empty_is_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, Serialize, Deserialize)]\npub struct Spec {{\n    \
             /// +optional\n    #[serde(default)]\n    pub title: String,\n    \
             /// +optional\n    #[serde(default, skip_serializing_if = \"Vec::is_empty\")]\n    pub tags: Vec<String>,\n    \
             /// +optional\n    pub note: Option<String>,\n    \
             /// +optional\n    #[serde(default)]\n    pub labels: std::collections::BTreeMap<String, String>,\n    \
             /// +optional\n    #[serde(default)]\n    pub paused: bool,\n    \
             /// +optional\n    #[serde(default)]\n    pub replicas: i32,\n    \
             /// +optional\n    #[serde(default, skip_serializing_if = \"std::ops::Not::not\")]\n    pub silenced: bool,\n    \
             /// +optional\n    pub ratio: Option<f64>,\n    \
             pub content: String,\n    pub count: u32,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let codes: Vec<&str> = loaded.warnings.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["W0318", "W0318", "W0318", "W0318"],
        "{:?}",
        loaded.warnings
    );
    insta::assert_snapshot!(stable(
        &loaded.sources.render(&loaded.warnings),
        root.path()
    ));
}

#[test]
fn different_serialize_and_deserialize_names_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    \
             #[serde(rename(deserialize = \"fooBar\"))]\n    pub foo_bar: String,\n    \
             #[serde(rename(serialize = \"same\", deserialize = \"same\"))]\n    pub same: String,\n    pub level: Level,\n}}\n\n\
             #[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(rename_all(serialize = \"lowercase\", deserialize = \"UPPERCASE\"))]\npub enum Level {{\n    Low,\n    High,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(out.matches("warning[W0205]").count(), 2, "{out}");
    insta::assert_snapshot!(out);
}

/// A `#[path]` module whose file lies outside the input is W0119: its types would get no
/// generated code, silently.
#[test]
fn a_path_module_outside_the_input_is_a_warning() {
    let root = fixture(&[
        (
            "apis/pager/v1/mod.rs",
            "#[path = \"../../../shared/types.rs\"]\nmod types;\npub use types::*;\nmod inside;\n",
        ),
        (
            "apis/pager/v1/inside.rs",
            &format!(
                "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        ),
        ("shared/types.rs", "pub struct Elsewhere {}\n"),
    ]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("warning[W0119]"), "{out}");
    assert!(out.contains("apis/pager/v1/mod.rs:1:1"), "{out}");
}

/// An `+optional` field serde cannot leave out (not an `Option`, no serde default) is W0319:
/// clients leave it out as the schema allows, and decoding refuses the object.
#[test]
fn optional_fields_serde_requires_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    \
             /// +optional\n    #[serde(skip_serializing_if = \"String::is_empty\")]\n    pub note: String,\n    \
             /// +optional\n    #[serde(default, skip_serializing_if = \"String::is_empty\")]\n    pub fine: String,\n    \
             /// +optional\n    pub maybe: Option<String>,\n    \
             /// +optional\n    #[serde(skip_deserializing, skip_serializing_if = \"String::is_empty\")]\n    pub computed: String,\n}}\n\n\
             #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\n#[serde(default)]\npub struct Defaulted {{\n    \
             /// +optional\n    #[serde(skip_serializing_if = \"String::is_empty\")]\n    pub note: String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(out.matches("warning[").count(), 1, "{out}");
    assert!(
        out.contains("warning[W0319]: optional field `Spec.note`"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

/// A `+default` on a field serde requires is W0319 too: the schema publishes the default and
/// leaves the field out of `required`, and decoding refuses an object without it before any
/// default applies. With `#[serde(default)]`, `+required` or an `Option` (boxed too: serde reads
/// an absent `Box<Option<_>>` as `None`), nothing to say.
#[test]
fn defaults_on_fields_serde_requires_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    \
             /// +default=20\n    pub max_players: u32,\n    \
             /// +default=20\n    #[serde(default)]\n    pub fine: u32,\n    \
             /// +default=20\n    pub maybe: Option<u32>,\n    \
             /// +default=\"x\"\n    pub boxed: Box<Option<String>>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0319]: field `Spec.max_players` has a `+default` but is required when serde reads it"),
        "{out}"
    );
    assert_eq!(out.matches("W0319").count(), 1, "{out}");
}

/// An `+optional` `Option` read by a deserializer of its own is W0319 too, with the fix that
/// applies to it (`default` beside `with`, not "make it an `Option`").
#[test]
fn optional_options_with_a_deserializer_of_their_own_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n    \
             /// +optional\n    #[serde(skip_serializing_if = \"Option::is_none\", with = \"x\")]\n    pub w: Option<String>,\n    \
             /// +optional\n    #[serde(default, skip_serializing_if = \"Option::is_none\", with = \"x\")]\n    pub fine: Option<String>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(out.matches("warning[W0319]").count(), 1, "{out}");
    assert!(out.contains("optional field `Spec.w`"), "{out}");
    assert!(out.contains("add `default` beside its `with`"), "{out}");
}

/// A type serialised by hand or by another crate's derive is W0208 (its schema comes from its
/// Rust shape); a type that derives serde, and one left out of OpenAPI, are not.
#[test]
fn serde_written_by_hand_is_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\nuse serde::{{Deserialize, Deserializer, Serialize, Serializer}};\n\n\
             #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Clone, Serialize, Deserialize)]\npub struct Spec {{\n    pub port: Port,\n    pub level: Level,\n    pub hidden: Hidden,\n    pub pair: Pair,\n}}\n\n\
             #[derive(Clone, Serialize)]\npub struct Pair {{\n    pub name: String,\n    pub value: String,\n}}\n\
             impl<'de> Deserialize<'de> for Pair {{\n    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{ let (name, value) = <(String, String)>::deserialize(d)?; Ok(Pair {{ name, value }}) }}\n}}\n\n\
             #[derive(Clone)]\npub struct Port(pub u16);\n\
             impl Serialize for Port {{\n    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{ s.serialize_str(&self.0.to_string()) }}\n}}\n\
             impl<'de> Deserialize<'de> for Port {{\n    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{ let s = String::deserialize(d)?; s.parse().map(Port).map_err(serde::de::Error::custom) }}\n}}\n\n\
             #[derive(Clone, serde_repr::Serialize_repr, serde_repr::Deserialize_repr)]\n#[repr(u8)]\npub enum Level {{\n    A = 1,\n    B = 2,\n}}\n\n\
             /// +k8s:openapi-gen=false\n#[derive(Clone)]\npub struct Hidden(pub u16);\nimpl Serialize for Hidden {{\n    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{ s.serialize_u16(self.0) }}\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(out.matches("warning[W0208]").count(), 3, "{out}");
    // A struct with fields: derive serde on it, not a string's `into`.
    assert!(out.contains("derive serde on the struct"), "{out}");
    assert!(
        out.contains("`Port` is not (de)serialised by serde's derive"),
        "{out}"
    );
    assert!(
        out.contains("written by `impl Serialize` and `impl Deserialize`"),
        "{out}"
    );
    assert!(
        out.contains("written by `#[derive(Deserialize_repr)]` and `#[derive(Serialize_repr)]`"),
        "{out}"
    );
    assert!(!out.contains("`Hidden`"), "{out}");
    assert!(!out.contains("`Spec` is not"), "{out}");
}

/// `#[cfg_attr(<predicate>, …)]` is read as if the predicate held: its serde attributes name
/// the wire (no warning), and a `Clone` or `Default` derived under it is W0206 — generated code
/// would rely on a trait some builds lack.
#[test]
fn cfg_attr_is_read_and_conditional_derives_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
             #[derive(Debug)]\n#[cfg_attr(feature = \"serde\", derive(serde::Serialize, serde::Deserialize))]\n\
             #[cfg_attr(feature = \"x\", derive(Clone, Default), cfg_attr(test, serde(rename_all = \"camelCase\")))]\n\
             pub struct Spec {{\n    pub max_surge: i32,\n    #[cfg_attr(feature = \"serde\", serde(rename = \"URL\"))]\n    pub url: String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("warnings do not fail a run");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert_eq!(out.matches("warning[").count(), 1, "{out}");
    assert!(out.contains("warning[W0206]"), "{out}");
    let spec = loaded
        .model
        .packages
        .iter()
        .find_map(|p| p.type_named("Spec"))
        .expect("Spec");
    assert!(spec.derives.contains("Serialize") && spec.derives.contains("Clone"));
    let wire: Vec<&str> = spec.fields().iter().map(|f| f.wire.as_str()).collect();
    assert_eq!(wire, ["maxSurge", "URL"]);
    insta::assert_snapshot!(out);
}

#[test]
fn serde_attributes_on_a_kind_are_refused() {
    // A kind deriving `JsonSchema` (whose derive accepts `#[serde]` helpers) with attributes the
    // generated codec would not apply; `default` and `skip_serializing_if` change nothing.
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}use std::collections::BTreeMap;\n\n/// +genclient\n#[derive(Clone, schemars::JsonSchema)]\n#[serde(rename_all = \"snake_case\")]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    \
                 #[serde(rename = \"specification\")]\n    pub spec: Option<String>,\n    \
                 #[serde(skip)]\n    pub cache: Option<String>,\n    \
                 #[serde(flatten)]\n    pub extra: BTreeMap<String, String>,\n    \
                 #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub status: Option<String>,\n}}\n"
            ),
        )],
        "apis",
    );
    assert_eq!(out.matches("error[E0315]").count(), 4, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn defaults_are_checked_as_serde_reads_them() {
    // Each `bad_*` default would fail to deserialize when the defaulter runs; each `good_*`
    // one deserializes.
    let types = format!(
        "{META}use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;\nuse k8s_openapi::ByteString;\n\n\
         #[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n\
         \x20   /// +default=\"yesterday\"\n    pub bad_time: Option<Time>,\n\
         \x20   /// +default=\"2024-01-02T15:04:05Z\"\n    pub good_time: Option<Time>,\n\
         \x20   /// +default=\"5 seconds\"\n    pub bad_duration: Option<kube::core::Duration>,\n\
         \x20   /// +default=\"1h30m0.5s\"\n    pub good_duration: Option<kube::core::Duration>,\n\
         \x20   /// +default=\"not base64!\"\n    pub bad_bytes: Option<ByteString>,\n\
         \x20   /// +default=\"aGVsbG8=\"\n    pub good_bytes: Option<ByteString>,\n\
         \x20   /// +default=\"100 MB\"\n    pub bad_quantity: Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,\n\
         \x20   /// +default=\"1.5Gi\"\n    pub good_quantity: Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,\n\
         \x20   /// +default=\"-2e3\"\n    pub good_exponent: Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,\n\
         \x20   /// +default={{\"type\":\"Triangle\"}}\n    pub bad_internal: Option<Shape>,\n\
         \x20   /// +default={{\"type\":\"Circle\",\"radius\":2}}\n    pub good_internal: Option<Shape>,\n\
         \x20   /// +default={{\"Unknown\":1}}\n    pub bad_external: Option<Action>,\n\
         \x20   /// +default={{\"Wait\":5}}\n    pub good_external: Option<Action>,\n\
         \x20   /// +default=true\n    pub bad_untagged: Option<NumOrText>,\n\
         \x20   /// +default=\"seven\"\n    pub good_untagged: Option<NumOrText>,\n\
         \x20   /// +default={{}}\n    pub bad_struct: Option<Needs>,\n\
         \x20   /// +default={{\"name\":\"n\"}}\n    pub good_struct: Option<Needs>,\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(tag = \"type\")]\npub enum Shape {{\n    Circle {{ radius: i32 }},\n    Square {{ side: i32 }},\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Action {{\n    Stop,\n    Wait(i32),\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\n#[serde(untagged)]\npub enum NumOrText {{\n    N(i32),\n    S(String),\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Needs {{\n    pub name: String,\n    pub extra: Option<String>,\n}}\n"
    );
    let out = errors(&[("apis/pager/v1/types.rs", &types)], "apis");
    for field in [
        "bad_time",
        "bad_duration",
        "bad_bytes",
        "bad_quantity",
        "bad_internal",
        "bad_external",
        "bad_untagged",
        "bad_struct",
    ] {
        assert!(
            out.contains(&format!(
                "the default of `Spec.{field}` does not fit its type"
            )),
            "{field} not reported:\n{out}"
        );
    }
    assert!(!out.contains("good_"), "{out}");
    assert_eq!(out.matches("error[E0313]").count(), 8, "{out}");
    insta::assert_snapshot!(out);
}

/// Defaults of other crates' scalar types (the ones openapi-gen publishes as scalars) are read
/// as serde reads them; a unit enum's default may be a `#[serde(alias)]` name, or any string
/// when a variant is `#[serde(other)]`.
#[test]
fn defaults_of_foreign_scalars_and_enum_aliases_are_checked_as_serde_reads_them() {
    let types = format!(
        "{META}\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: Spec,\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub struct Spec {{\n\
         \x20   /// +default=\"abc\"\n    pub bad_nz: Option<std::num::NonZeroU32>,\n\
         \x20   /// +default=0\n    pub bad_nz_zero: Option<std::num::NonZeroU32>,\n\
         \x20   /// +default=300\n    pub bad_nz_range: Option<std::num::NonZeroU8>,\n\
         \x20   /// +default=3\n    pub good_nz: Option<std::num::NonZeroU32>,\n\
         \x20   /// +default=\"10.0.0.300\"\n    pub bad_ip: Option<std::net::IpAddr>,\n\
         \x20   /// +default=\"10.0.0.3\"\n    pub good_ip: Option<std::net::IpAddr>,\n\
         \x20   /// +default=\"old\"\n    pub good_alias: Option<Mode>,\n\
         \x20   /// +default=\"gone\"\n    pub bad_mode: Option<Mode>,\n\
         \x20   /// +default=\"anything\"\n    pub good_other: Option<Open>,\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Mode {{\n    #[serde(alias = \"old\")]\n    New,\n    Other,\n}}\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\npub enum Open {{\n    Known,\n    #[serde(other)]\n    Unknown,\n}}\n"
    );
    let out = errors(&[("apis/pager/v1/types.rs", &types)], "apis");
    for field in [
        "bad_nz",
        "bad_nz_zero",
        "bad_nz_range",
        "bad_ip",
        "bad_mode",
    ] {
        assert!(
            out.contains(&format!(
                "the default of `Spec.{field}` does not fit its type"
            )),
            "{field} not reported:\n{out}"
        );
    }
    assert!(!out.contains("good_"), "{out}");
    assert_eq!(out.matches("error[E0313]").count(), 5, "{out}");
    assert!(out.contains("0 does not read as `NonZeroU32`"), "{out}");
    assert!(
        out.contains("\"10.0.0.300\" does not read as `IpAddr`"),
        "{out}"
    );
}

#[test]
fn two_printer_columns_of_one_name_are_refused() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}\n/// +genclient\n/// +printcolumn:name=Sent,type=boolean,jsonPath=.status.sent\n/// +printcolumn:name=Age,type=date,jsonPath=.metadata.creationTimestamp\n/// +printcolumn:name=Sent,type=string,jsonPath=.spec.message\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert_eq!(out.matches("error[E0103]").count(), 1, "{out}");
    assert!(
        out.contains("a column named `Sent` is already given"),
        "{out}"
    );
    assert!(out.contains("first given here"), "{out}");
}

/// A `#[serde]` attribute on a kind (or its fields) that no derive declares is rustc's unknown
/// attribute: said with what to do. A derive that declares it (`JsonSchema`) is fine.
#[test]
fn serde_attributes_on_a_kind_without_a_serde_derive() {
    let kind = |derives: &str| {
        format!(
            "{META}\n#[derive({derives})]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub status: Option<String>,\n}}\n"
        )
    };
    let root = fixture(&[("apis/pager/v1/types.rs", &kind("Clone"))]);
    let loaded = try_load(&root, "apis").expect("a warning");
    let codes: Vec<&str> = loaded.warnings.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["W0317"]);
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("remove the `#[serde]` attributes"), "{out}");
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &kind("Clone, schemars::JsonSchema"),
    )]);
    let loaded = try_load(&root, "apis").expect("fine");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// A `#[kube(...)]` value W0118 cannot read is named, not left out silently.
#[test]
fn a_custom_resource_attribute_that_does_not_read_is_named() {
    let root = fixture(&[(
        "apis/stable/v1/types.rs",
        "use kube::CustomResource;\nconst KIND: &str = \"Doc\";\n/// A spec.\n#[derive(CustomResource, Clone, Debug)]\n#[kube(group = \"kube.rs\", version = \"v1\", kind = KIND, namespaced)]\n#[kube(shortname = )]\npub struct DocSpec {\n    pub title: String,\n}\n",
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(out.contains("warning[W0118]"), "{out}");
    assert!(out.contains("`kind` is not a string literal"), "{out}");
    assert!(
        out.contains("a `#[kube(...)]` attribute did not read (unexpected end of input"),
        "{out}"
    );
    assert!(
        out.contains("pub struct Doc {"),
        "the spec's name without `Spec`: {out}"
    );
}

/// A list-map key may come from a `#[serde(flatten)]`ed struct of the element (Go's embedded
/// struct): one of the package is looked through, a foreign one (`Container`) cannot be and is
/// trusted. A key none of them has is still E0314, listing the JSON names the element really has.
#[test]
fn list_map_keys_are_looked_for_through_flattened_fields() {
    let types = |key: &str| {
        format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct AlertSpec {{\n    /// +listType=map\n    /// +listMapKey={key}\n    pub sidecars: Vec<Sidecar>,\n    /// +listType=map\n    /// +listMapKey=name\n    pub containers: Vec<UserContainer>,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct Sidecar {{\n    #[serde(flatten)]\n    pub named: Option<Box<Named>>,\n    pub mirror: bool,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct Named {{\n    pub name: String,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct UserContainer {{\n    #[serde(flatten)]\n    pub container: k8s_openapi::api::core::v1::Container,\n    pub mirror: bool,\n}}\n"
        )
    };
    let root = fixture(&[("apis/pager/v1/types.rs", &types("name"))]);
    if let Err(out) = try_load(&root, "apis") {
        panic!("{out}");
    }
    let out = errors(&[("apis/pager/v1/types.rs", &types("nmae"))], "apis");
    assert!(
        out.contains("error[E0314]: `+listMapKey=nmae` on `AlertSpec.sidecars`"),
        "{out}"
    );
    assert!(
        out.contains("keys are JSON names of `Sidecar`'s fields: `name`, `mirror`"),
        "{out}"
    );
    assert!(out.contains("did you mean `name`?"), "{out}");
    assert_eq!(out.matches("error[E0314]").count(), 1, "{out}");
}

/// `+scale` paths are followed through the kind's fields as JSON names (camelCase through
/// `rename_all`, into `Option`s and nested structs, looked up in flattened ones) and must end
/// at an integer (replicas) or a string or `LabelSelector` (selector); a path into a foreign
/// type is taken as written. Anything else is E0320, with a near name when there is one.
#[test]
fn scale_paths_are_checked_against_the_kind() {
    let types = |tag: &str| {
        format!(
            "{META}use serde::{{Deserialize, Serialize}};\n/// +scale={tag}\n#[derive(Clone)]\npub struct Fleet {{\n    pub metadata: ObjectMeta,\n    pub spec: FleetSpec,\n    pub status: Option<FleetStatus>,\n}}\n#[derive(Clone, Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct FleetSpec {{\n    pub desired_replicas: Option<i32>,\n    pub selector: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,\n    pub template: k8s_openapi::api::core::v1::PodTemplateSpec,\n    pub mode: String,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct FleetStatus {{\n    #[serde(flatten)]\n    pub counts: Counts,\n    pub selector: String,\n}}\n#[derive(Clone, Serialize, Deserialize)]\npub struct Counts {{\n    pub replicas: i64,\n}}\n"
        )
    };
    for ok in [
        "specReplicasPath=.spec.desiredReplicas,statusReplicasPath=.status.replicas",
        "specReplicasPath=.spec.desiredReplicas,statusReplicasPath=.status.replicas,labelSelectorPath=.status.selector",
        "specReplicasPath=.spec.desiredReplicas,statusReplicasPath=.status.replicas,labelSelectorPath=.spec.selector",
        // Into a foreign type: its fields are not known here.
        "specReplicasPath=.spec.template.spec.replicas,statusReplicasPath=.status.replicas",
    ] {
        let root = fixture(&[("apis/fleet/v1/types.rs", &types(ok))]);
        let loaded = try_load(&root, "apis").unwrap_or_else(|out| panic!("{ok}:\n{out}"));
        let scale = loaded.model.packages[0]
            .types
            .iter()
            .find_map(|t| t.resource.as_ref())
            .and_then(|r| r.scale.clone())
            .expect("a scale");
        assert_eq!(scale.status_replicas_path, ["status", "replicas"]);
    }
    for (tag, wants) in [
        (
            "specReplicasPath=.spec.replicas,statusReplicasPath=.status.replicas",
            "error[E0320]: `+scale` specReplicasPath: `FleetSpec` has no field `replicas`",
        ),
        (
            "specReplicasPath=.spec.desiredReplica,statusReplicasPath=.status.replicas",
            "did you mean `.spec.desiredReplicas`?",
        ),
        (
            "specReplicasPath=.spec.mode,statusReplicasPath=.status.replicas",
            "`.spec.mode` holds a string, not an integer",
        ),
        (
            "specReplicasPath=.spec.desiredReplicas,statusReplicasPath=.status.replicas,labelSelectorPath=.status.replicas",
            "`.status.replicas` holds an integer that fits `i64`, not a string",
        ),
        (
            "specReplicasPath=.spec.mode.x,statusReplicasPath=.status.replicas",
            "`.spec.mode` holds a string, which has no fields",
        ),
        (
            "specReplicasPath=.status.replicas,statusReplicasPath=.status.replicas",
            "`specReplicasPath=.status.replicas` must be under `.spec`",
        ),
        (
            "specReplicasPath=.spec,statusReplicasPath=.status.replicas",
            "is not a field path such as `.spec.replicas`",
        ),
        (
            "specReplicasPath=.spec.items[0],statusReplicasPath=.status.replicas",
            "is not a field path such as `.spec.replicas`",
        ),
        (
            "statusReplicasPath=.status.replicas",
            "missing `specReplicasPath=`",
        ),
    ] {
        let out = errors(&[("apis/fleet/v1/types.rs", &types(tag))], "apis");
        assert!(out.contains(wants), "{tag}: {out}");
        assert!(out.contains("types.rs:3:5"), "{tag}: {out}");
    }
    // Only a kind has a scale.
    let out = errors(
        &[(
            "apis/fleet/v1/types.rs",
            &format!(
                "{META}/// +scale=specReplicasPath=.spec.a,statusReplicasPath=.status.b\npub struct Spec {{\n    pub a: i32,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0310]: `+scale` on `Spec`, which is not a kind"),
        "{out}"
    );
}

/// Custom methods are written in snake case: two names that read alike there are one method.
#[test]
fn custom_methods_alike_in_snake_case_are_one() {
    let out = errors(
        &[(
            "apis/pager/v1/types.rs",
            &format!(
                "{META}/// +genclient\n/// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale\n/// +genclient:method=getScale,verb=get,subresource=scale,result=k8s_openapi::api::autoscaling::v1::Scale\n#[derive(Clone, Debug)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0104]: `+genclient:method` `GetScale` and `getScale` are both the method `get_scale`"),
        "{out}"
    );
}

/// A default must be a literal of the field's type: 1e39 is no `f32`.
#[test]
fn a_float_default_out_of_range_is_an_error() {
    let types = |v: &str| {
        format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}}\n#[derive(Clone, Default, Serialize, Deserialize)]\npub struct AlertSpec {{\n    /// +default={v}\n    pub ratio: Option<f32>,\n}}\n"
        )
    };
    let out = errors(&[("apis/pager/v1/types.rs", &types("1e39"))], "apis");
    assert!(out.contains("error[E0313]"), "{out}");
    assert!(out.contains("within `f32`'s range"), "{out}");
    let root = fixture(&[("apis/pager/v1/types.rs", &types("3.4e38"))]);
    try_load(&root, "apis").unwrap_or_else(|e| panic!("{e}"));
}

/// Only regular files are read: a FIFO named `*.rs` would block the run, a link to `/dev/zero`
/// never end.
#[cfg(unix)]
#[test]
fn files_that_are_not_regular_are_errors() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n}}\n"
        ),
    )]);
    let fifo = root.path().join("apis/pager/v1/fifo.rs");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", root.path().join("apis/pager/v1/zero.rs")).unwrap();
    let out = match try_load(&root, "apis") {
        Ok(_) => panic!("a FIFO and a device are not sources"),
        Err(out) => out,
    };
    assert!(out.contains("fifo.rs: not a regular file"), "{out}");
    assert!(out.contains("zero.rs: not a regular file"), "{out}");
}

/// A schema schemars would take from elsewhere (`schema_with`) is not read: W0207 names the
/// tags that carry its list semantics (kube-rs's `conditions` with a `list-type: map` schema).
#[test]
fn a_schemars_schema_of_its_own_is_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub status: Option<AlertStatus>,\n}}\n#[derive(Clone, Default, Serialize, Deserialize)]\npub struct AlertStatus {{\n    #[schemars(schema_with = \"conditions\")]\n    #[serde(default)]\n    pub conditions: Vec<String>,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0207]: `#[schemars(schema_with …)]` is not read"),
        "{out}"
    );
    assert!(
        out.contains("`+listType=map` with `+listMapKey=<field>`"),
        "{out}"
    );
}

/// A default schemars would publish from Rust code (`#[schemars(default = "…")]`, as shulker's
/// CRDs write) is not read: W0207 says the field stays required and names `+default`.
#[test]
fn a_schemars_default_is_a_warning_naming_the_tag() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}}\nfn twenty() -> i64 {{ 20 }}\n#[derive(Clone, Default, Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct AlertSpec {{\n    #[schemars(default = \"twenty\")]\n    pub max_players: i64,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    assert!(
        out.contains("warning[W0207]: `#[schemars(default …)]` is not read"),
        "{out}"
    );
    assert!(out.contains("`/// +default=<JSON value>`"), "{out}");
    assert!(out.contains("stays required"), "{out}");
    assert!(out.contains("types.rs:"), "{out}");
}

/// What schemars would publish from other attributes — `extend` (kube-rs's CEL rules as
/// `x-kubernetes-validations`, on a type or a field) and validator's `length`/`regex` (the
/// schema's `minLength`, `maxLength`, `pattern`) — is W0207, not dropped silently; a
/// `schemars(default)` on an `Option` does not say the field stays required.
#[test]
fn schema_extensions_and_validator_rules_are_a_warning() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &[
            META,
            "use serde::{Deserialize, Serialize};\n#[derive(Clone)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n    pub spec: AlertSpec,\n}\n",
            "#[derive(Clone, Default, Serialize, Deserialize)]\n",
            "#[schemars(extend(\"x-kubernetes-validations\" = [{\"rule\": \"self.a < self.b\"}]))]\n",
            "pub struct AlertSpec {\n",
            "    #[schemars(extend(\"x-kubernetes-validations\" = [{\"rule\": \"self == oldSelf\"}]))]\n    pub a: i32,\n",
            "    #[validate(length(min = 1, max = 100))]\n    pub b: i32,\n",
            "    #[validate(regex = \"NAME\")]\n    pub name: String,\n",
            "    #[schemars(default = \"twenty\")]\n    pub limit: Option<i64>,\n",
            "}\n",
        ]
        .concat(),
    )]);
    let loaded = try_load(&root, "apis").expect("a warning is not a failure");
    let out = stable(&loaded.sources.render(&loaded.warnings), root.path());
    let count = |s: &str| out.matches(s).count();
    assert_eq!(
        count("warning[W0207]: `#[schemars(extend …)]` is not read"),
        2,
        "{out}"
    );
    assert!(out.contains("types.rs:9:12"), "the type's `extend`: {out}");
    assert!(
        out.contains("warning[W0207]: `#[validate(length …)]` is not published"),
        "{out}"
    );
    assert!(
        out.contains("warning[W0207]: `#[validate(regex …)]` is not published"),
        "{out}"
    );
    assert_eq!(count("= help: check"), 4, "{out}");
    assert!(
        out.contains("warning[W0207]: `#[schemars(default …)]` is not read"),
        "{out}"
    );
    assert!(
        !out.contains("stays required"),
        "an `Option` is optional: {out}"
    );
}

/// A struct of the package named like a prelude type shadows it, as in rustc: a field `String`
/// is that struct (the generated codec compiled against std's `String` and failed).
#[test]
fn a_package_type_named_like_a_prelude_type_shadows_it() {
    let root = fixture(&[(
        "apis/pager/v1/types.rs",
        &format!(
            "{META}use serde::{{Deserialize, Serialize}};\n#[derive(Clone)]\npub struct Alert {{\n    pub metadata: ObjectMeta,\n    pub name: String,\n    pub plain: std::string::String,\n}}\n#[derive(Clone, Default, Serialize, Deserialize)]\npub struct String {{\n    pub inner: std::string::String,\n}}\n"
        ),
    )]);
    let loaded = try_load(&root, "apis").unwrap_or_else(|e| panic!("{e}"));
    let alert = loaded.model.packages[0].type_named("Alert").unwrap();
    let ty = |n: &str| {
        alert
            .fields()
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .ty
            .clone()
    };
    assert_eq!(
        ty("name"),
        kube_codegen_model::FieldType::Local("String".into())
    );
    assert_eq!(ty("plain"), kube_codegen_model::FieldType::String);
}

/// A struct flattening itself (through `Option`/`Box`, or through another struct) has fields
/// beside themselves without end: E0201 once per cycle at the field starting it, rather than
/// a stack overflow in every walk through flattened fields (OpenAPI's inlining).
#[test]
fn a_flattened_field_leading_back_to_its_own_type_is_an_error() {
    let out = errors(
        &[(
            "apis/fl/v1/types.rs",
            &format!(
                "{META}use serde::{{Deserialize, Serialize}};\n\n/// +genclient\n#[derive(Clone, Debug)]\npub struct Thing {{\n    pub metadata: ObjectMeta,\n    pub n: Option<N>,\n    pub b: Option<B>,\n    pub fa: Option<FA>,\n}}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct N {{ pub x: i32, #[serde(flatten)] pub next: Option<Box<N>> }}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct B {{ pub x: i32, #[serde(flatten)] pub next: Box<Option<B>> }}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct FA {{ pub a: i32, #[serde(flatten)] pub fb: FB }}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct FB {{ pub b: i32, #[serde(flatten)] pub fa: Box<FA> }}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct Fine {{ pub x: i32, #[serde(flatten)] pub inner: Inner, pub nested: Option<Box<Fine>> }}\n\n#[derive(Clone, Debug, Serialize, Deserialize)]\npub struct Inner {{ pub y: i32 }}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0201]: unsupported field type: flattened field `N.next` leads back to its own type"),
        "{out}"
    );
    assert!(
        out.contains("`N` flattens itself through `N.next` without end"),
        "{out}"
    );
    assert!(out.contains("flattened field `B.next` leads back"), "{out}");
    assert!(out.contains("flattened field `FA.fb` leads back"), "{out}");
    assert!(
        out.contains("`FA.fb` → `FB.fa` flatten into one another"),
        "{out}"
    );
    assert!(out.contains("flattened into `FB` here"), "{out}");
    assert_eq!(out.matches("error[E0201]").count(), 3, "{out}");
    assert!(!out.contains("`Fine"), "{out}");
}

/// Items of a version's package module named like what generated code declares there
/// (`VERSION`, `add_to_scheme`, `OPENAPI_SCHEMAS`, a kind's `…List` alias) would be declared
/// twice once the generated files are `include!`d: E0309 at each. The same names in a file
/// module or an inline module are other modules' items.
#[test]
fn package_module_items_named_like_generated_ones_are_errors() {
    let out = errors(
        &[
            (
                "apis/w/v1/mod.rs",
                "//! +groupName=w.example.com\nmod types;\npub use types::*;\npub const VERSION: &str = \"mine\";\npub fn add_to_scheme() {}\npub static OPENAPI_SCHEMAS: &str = \"\";\npub type WidgetList = Vec<Widget>;\npub const GROUP: &str = \"fine\";\npub mod inner {\n    pub fn register_defaults() {}\n}\n",
            ),
            (
                "apis/w/v1/types.rs",
                &format!(
                    "{META}\n/// +genclient\n#[derive(Clone, Debug)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n\npub const GROUP_NAME: &str = \"types' own\";\n"
                ),
            ),
        ],
        "apis",
    );
    for name in ["VERSION", "add_to_scheme", "OPENAPI_SCHEMAS", "WidgetList"] {
        assert!(
            out.contains(&format!("error[E0309]: `{name}` collides with an item")),
            "{name}: {out}"
        );
    }
    assert!(
        out.contains("also declared by register-gen's `include!`d file"),
        "{out}"
    );
    assert_eq!(out.matches("error[E0309]").count(), 4, "{out}");
}

/// `#[cfg(feature = "x")]` on the `mod types;` holding a package's API types (or on its
/// `pub use types::*;`): generated code names those types in every build, so a build without
/// the feature fails to compile it. E0204 at each `cfg`; a `cfg(test)` module, a gated module
/// without API types and a gated single re-export are fine.
#[test]
fn cfg_on_a_module_holding_api_types_is_an_error() {
    let out = errors(
        &[
            (
                "apis/w/v1/mod.rs",
                "//! +groupName=w.example.com\n#[cfg(feature = \"fake\")]\nmod types;\n#[cfg(feature = \"fake\")]\npub use types::*;\n#[cfg(feature = \"extra\")]\nmod helpers;\n#[cfg(feature = \"extra\")]\npub use helpers::Helper;\n#[cfg(test)]\nmod tests;\n",
            ),
            (
                "apis/w/v1/types.rs",
                &format!(
                    "{META}\n/// +genclient\n#[derive(Clone, Debug)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n"
                ),
            ),
            ("apis/w/v1/helpers.rs", "pub fn helper() {}\n"),
            ("apis/w/v1/tests.rs", "#[test]\nfn t() {}\n"),
        ],
        "apis",
    );
    assert!(
        out.contains("error[E0204]: `#[cfg]` on module `types`, which holds API types"),
        "{out}"
    );
    assert!(
        out.contains(
            "error[E0204]: `#[cfg]` on a re-export of module `types`, which holds API types"
        ),
        "{out}"
    );
    assert!(out.contains("`Widget` is declared in it"), "{out}");
    assert_eq!(out.matches("error[E0204]").count(), 2, "{out}");
}

/// A file in no API package — a helper module beside the groups, a directory with no version —
/// is read by no generator (as Go's generators read only the packages they are given): its
/// types may hold what no API can (a trait object, a tuple, `#[cfg]`), and the API packages
/// load. A type of an API package holding the same is still an error; so is a tag in a loose
/// file (E0108).
#[test]
fn types_in_no_api_package_are_not_checked() {
    let kind = format!(
        "//! +groupName=example.com\n{META}/// +genclient\n#[derive(Clone, Default)]\npub struct Widget {{ pub metadata: ObjectMeta, pub spec: WidgetSpec }}\n#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]\npub struct WidgetSpec {{ pub size: i32 }}\n"
    );
    let helper = "#[derive(Debug)]\npub enum Error { Io { source: Box<dyn std::error::Error> } }\n#[cfg(feature = \"x\")]\npub struct Extra { pub pair: (i32, i32) }\n";
    let root = fixture(&[
        (
            "apis/mod.rs",
            "mod helper;\npub mod util;\npub mod widgets;\n",
        ),
        ("apis/helper.rs", helper),
        (
            "apis/util/mod.rs",
            "pub struct Pair { pub t: (i32, i32) }\n",
        ),
        ("apis/widgets/mod.rs", "pub mod v1;\n"),
        ("apis/widgets/v1.rs", &kind),
    ]);
    let loaded = try_load(&root, "apis").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        loaded
            .model
            .packages
            .iter()
            .any(|p| p.version.as_deref() == Some("v1")),
        "{:#?}",
        loaded.model
    );
    // Inside the package, the same field is an error.
    let out = errors(
        &[
            ("apis/widgets/mod.rs", "pub mod v1;\n"),
            (
                "apis/widgets/v1.rs",
                &format!("{kind}#[derive(Clone)]\npub struct Pair {{ pub t: (i32, i32) }}\n"),
            ),
        ],
        "apis",
    );
    assert!(out.contains("error[E0201]"), "{out}");
    // A tag in a loose file is still said to be unread.
    let out = errors(
        &[
            (
                "apis/util/mod.rs",
                "/// +genclient\npub struct Pair { pub t: (i32, i32) }\n",
            ),
            ("apis/widgets/mod.rs", "pub mod v1;\n"),
            ("apis/widgets/v1.rs", &kind),
        ],
        "apis",
    );
    assert!(out.contains("error[E0108]"), "{out}");
    assert!(!out.contains("E0201"), "{out}");
}

/// W0118's kind written beside a spec still deriving `CustomResource` declares the kind twice
/// (rustc's E0428 once the crate builds): said at once, with the derive to remove.
#[test]
fn a_kind_declared_beside_its_derive() {
    let out = errors(
        &[(
            "apis/example/v1/types.rs",
            &format!(
                "//! +groupName=example.com\n{META}/// +genclient\n#[derive(Clone, Debug)]\npub struct Widget {{ pub metadata: ObjectMeta, pub spec: WidgetSpec }}\n#[derive(kube::CustomResource, Clone, Debug, serde::Serialize, serde::Deserialize)]\n#[kube(group = \"example.com\", version = \"v1\", kind = \"Widget\", namespaced)]\npub struct WidgetSpec {{ pub size: i32 }}\n"
            ),
        )],
        "apis",
    );
    assert!(
        out.contains("error[E0305]: `Widget` is declared twice: by this struct and by `#[derive(CustomResource)]` on `WidgetSpec`"),
        "{out}"
    );
    assert!(out.contains("remove `CustomResource`"), "{out}");
    // With `root`, the derive's struct has that name: a kind of the kind's name beside it is no
    // duplicate; one named as the root is.
    let files = |kind_struct: &str| {
        format!(
            "//! +groupName=example.com\n{META}/// +genclient\n#[derive(Clone, Debug)]\npub struct {kind_struct} {{ pub metadata: ObjectMeta, pub spec: WidgetSpec }}\n#[derive(kube::CustomResource, Clone, Debug, serde::Serialize, serde::Deserialize)]\n#[kube(group = \"example.com\", version = \"v1\", kind = \"Widget\", root = \"WidgetCrd\", namespaced)]\npub struct WidgetSpec {{ pub size: i32 }}\n"
        )
    };
    let root = fixture(&[("apis/example/v1/types.rs", &files("Widget"))]);
    let loaded = try_load(&root, "apis").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        loaded
            .model
            .packages
            .iter()
            .any(|p| p.type_named("Widget").is_some())
    );
    let out = errors(&[("apis/example/v1/types.rs", &files("WidgetCrd"))], "apis");
    assert!(
        out.contains("error[E0305]: `WidgetCrd` is declared twice"),
        "{out}"
    );
}

/// W0118 says when a derive's `#[kube(group = …)]` is not its package's group: the kind, once
/// written, would be served elsewhere (agones' `FleetAutoscaler` beside `Fleet`; brupop's group
/// lost to its directory's name).
#[test]
fn a_derives_group_other_than_the_packages_is_said() {
    let spec = |group: &str| {
        format!(
            "#[derive(kube::CustomResource, Clone, Debug, serde::Serialize, serde::Deserialize)]\n#[kube(group = \"{group}\", version = \"v1\", kind = \"Shelf\", namespaced)]\npub struct ShelfSpec {{ pub size: i32 }}\n"
        )
    };
    let tagged = warnings(
        &[(
            "apis/agones/v1/types.rs",
            &format!(
                "//! +groupName=agones.dev\n{}",
                spec("autoscaling.agones.dev")
            ),
        )],
        "apis",
    );
    assert!(
        tagged.contains("the derive serves group `autoscaling.agones.dev`; this package's group is `agones.dev` (from its `+groupName`)"),
        "{tagged}"
    );
    assert_eq!(
        tagged.matches("the derive serves group").count(),
        1,
        "{tagged}"
    );
    assert!(
        tagged.contains("move the type to a package of group `autoscaling.agones.dev`"),
        "{tagged}"
    );
    let inferred = warnings(
        &[("apis/crd/v1/types.rs", &spec("brupop.bottlerocket.aws"))],
        "apis",
    );
    assert!(
        inferred.contains(
            "the derive serves group `brupop.bottlerocket.aws`; this package's group is `crd`"
        ),
        "{inferred}"
    );
    assert!(
        inferred.contains("`//! +groupName=brupop.bottlerocket.aws` at the top of"),
        "{inferred}"
    );
    // No group could be told (E0106): the derive's is the one to write.
    let out = errors(
        &[("apis/v1/types.rs", &spec("brupop.bottlerocket.aws"))],
        "apis",
    );
    assert!(out.contains("error[E0106]"), "{out}");
    assert!(
        out.contains(
            "the derive serves group `brupop.bottlerocket.aws`; this package has no group"
        ),
        "{out}"
    );
    assert!(
        out.contains("`//! +groupName=brupop.bottlerocket.aws` at the top of"),
        "{out}"
    );
    // The package's own group: nothing more than W0118's hint.
    let same = warnings(
        &[(
            "apis/agones/v1/types.rs",
            &format!("//! +groupName=agones.dev\n{}", spec("agones.dev")),
        )],
        "apis",
    );
    assert!(!same.contains("the derive serves group"), "{same}");
    assert!(same.contains("warning[W0118]"), "{same}");
}

/// W0118 checks the derive's scale against the spec (kube-rs does not): a replicas path naming
/// no field of the spec is shown commented out, with a note, not as a `+scale` that would be
/// E0320 on the next run (kube-rs's `crd_derive` example).
#[test]
fn custom_resource_hints_check_the_scale_against_the_spec() {
    let spec = |fields: &str| {
        format!(
            "#[derive(kube::CustomResource, Clone, Debug, serde::Serialize, serde::Deserialize)]\n#[kube(group = \"example.com\", version = \"v1\", kind = \"Foo\", namespaced, status = \"FooStatus\", scale(spec_replicas_path = \".spec.replicas\", status_replicas_path = \".status.replicas\"))]\n#[serde(rename_all = \"camelCase\")]\npub struct FooSpec {{ {fields} }}\n#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]\npub struct FooStatus {{ pub replicas: i32 }}\n"
        )
    };
    let of = |fields: &str| {
        let text = format!("//! +groupName=example.com\n{}", spec(fields));
        warnings(&[("apis/example/v1/types.rs", &text)], "apis")
    };
    let without = of("pub name: String");
    assert!(
        without.contains("// +scale to check (see the note): specReplicasPath=.spec.replicas"),
        "{without}"
    );
    assert!(!without.contains("/// +scale="), "{without}");
    assert!(
        without.contains("the derive's scale counts replicas at `.spec.replicas`, which `FooSpec` has no field for"),
        "{without}"
    );
    let with = of("pub replicas: i32");
    assert!(
        with.contains("/// +scale=specReplicasPath=.spec.replicas"),
        "{with}"
    );
    assert!(!with.contains("has no field for"), "{with}");
}
