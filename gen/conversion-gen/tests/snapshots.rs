//! conversion-gen on small fixtures: generated conversions (a snapshot), hand-written functions
//! found by name, and the diagnostics that name the function a human must write.

use std::path::PathBuf;

use conversion_gen::ConversionGen;
use kube_codegen_model::Loaded;
use kube_codegen_model::output::Generator;

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conversion-gen")
}

fn load_fixture(name: &str, files: &[(&str, &str)]) -> Loaded {
    kube_codegen_model::testing::load_fixture(&tmp_root(), name, files)
}

fn render(loaded: &Loaded, diags: &[kube_codegen_model::Diagnostic]) -> String {
    kube_codegen_model::testing::render(&tmp_root(), loaded, diags)
}

/// The conversion file of the fixture's version package, formatted.
fn generated(loaded: &Loaded) -> String {
    let pkg = loaded
        .model
        .packages
        .iter()
        .find(|p| p.version.is_some())
        .unwrap();
    let hub = conversion_gen::hub_of(&loaded.model, pkg).unwrap();
    let tokens = conversion_gen::package(pkg, hub, &Default::default());
    prettyplease::unparse(&syn::parse2(tokens).expect("generated code parses"))
}

const HUB: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flunder {
    pub metadata: ObjectMeta,
    pub spec: FlunderSpec,
    pub status: Option<FlunderStatus>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlunderSpec {
    pub flunder_reference: String,
    pub fischer_reference: String,
    pub reference_type: Option<ReferenceType>,
    pub tags: Vec<Tag>,
    pub limits: HashMap<String, Option<Box<Tag>>>,
    pub zones: HashSet<String>,
    pub port: Port,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceType {
    Flunder,
    Fischer,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tag {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Port(pub i32, pub String);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlunderStatus {}
"#;

const V1ALPHA1: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flunder {
    pub metadata: ObjectMeta,
    pub spec: FlunderSpec,
    pub status: Option<FlunderStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlunderSpec {
    pub reference: String,
    pub reference_type: Option<ReferenceType>,
    pub tags: Vec<Tag>,
    pub limits: BTreeMap<String, Option<Box<Tag>>>,
    pub zones: BTreeSet<String>,
    pub port: Port,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReferenceType {
    Flunder,
    Fischer,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Port(pub i32, pub String);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlunderStatus {}
"#;

const HAND_WRITTEN: &str = r#"use kube_codegen_scheme::ConversionError;

pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {
    Err(ConversionError::new(format!("not read by this test: {}", input.reference)))
}

pub fn convert_flunder_spec_from_hub(input: crate::FlunderSpec) -> Result<super::FlunderSpec, ConversionError> {
    let (a, b) = (&input.flunder_reference, &input.fischer_reference);
    Err(ConversionError::new(format!("not read by this test: {a} {b}")))
}
"#;

/// [`HAND_WRITTEN`] as a user who forgot the fields that do not match writes it.
const HAND_WRITTEN_FORGETTING: &str = r#"use kube_codegen_scheme::ConversionError;

pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {
    let mut out = crate::FlunderSpec::default();
    auto_convert_flunder_spec_to_hub(input, &mut out)?;
    Ok(out)
}

pub fn convert_flunder_spec_from_hub(mut input: crate::FlunderSpec) -> Result<super::FlunderSpec, ConversionError> {
    let mut out = super::FlunderSpec { reference: std::mem::take(&mut input.flunder_reference), ..Default::default() };
    auto_convert_flunder_spec_from_hub(input, &mut out)?;
    Ok(out)
}
"#;

/// The wardle group: the hub and v1alpha1, each module file with `more` after its usual lines
/// (`mod conversion;`, an inline module), and `extra` files.
fn wardle_layout(name: &str, hub_more: &str, version_more: &str, extra: &[(&str, &str)]) -> Loaded {
    let hub_mod = format!(
        "//! +groupName=wardle.example.com\npub mod v1alpha1;\nmod types;\npub use types::*;\n{hub_more}"
    );
    let version_mod =
        format!("//! +k8s:conversion-gen=crate\nmod types;\npub use types::*;\n{version_more}");
    let mut files = vec![
        ("apis/wardle/mod.rs", hub_mod.as_str()),
        ("apis/wardle/types.rs", HUB),
        ("apis/wardle/v1alpha1/mod.rs", version_mod.as_str()),
        ("apis/wardle/v1alpha1/types.rs", V1ALPHA1),
    ];
    files.extend_from_slice(extra);
    load_fixture(name, &files)
}

fn wardle(with_hand_written: bool) -> Loaded {
    if with_hand_written {
        wardle_layout(
            "wardle_done",
            "",
            "mod conversion;\npub use conversion::*;\n",
            &[("apis/wardle/v1alpha1/conversion.rs", HAND_WRITTEN)],
        )
    } else {
        wardle_layout("wardle", "", "", &[])
    }
}

#[test]
fn names_the_functions_to_write() {
    let loaded = wardle(false);
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0501", "E0501"]
    );
    insta::assert_snapshot!(render(&loaded, &diags));
}

#[test]
fn generates_field_by_field_and_calls_hand_written_functions() {
    let loaded = wardle(true);
    let diags = ConversionGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
    let out = generated(&loaded);
    assert!(
        out.contains("self::conversion::convert_flunder_spec_to_hub(self)"),
        "{out}"
    );
    assert!(
        out.contains("pub fn auto_convert_flunder_spec_to_hub("),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

/// Hand-written conversions that never name a field the generated helper leaves out get W0505
/// (Go's conversion-gen writes a `WARNING: … requires manual conversion` comment for them): the
/// value would be lost without a word.
#[test]
fn fields_no_hand_written_conversion_mentions_are_named() {
    let loaded = wardle_converted_by("wardle_forgetting", HAND_WRITTEN_FORGETTING);
    let diags = ConversionGen.check(&loaded.model);
    let out = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["W0505", "W0505"],
        "{out}"
    );
    assert!(
        out.contains("`convert_flunder_spec_to_hub` never mentions `reference`"),
        "{out}"
    );
    // `flunder_reference` is read; `fischer_reference` is not.
    assert!(
        out.contains("`convert_flunder_spec_from_hub` never mentions `fischer_reference`,"),
        "{out}"
    );
    assert!(!out.contains("mentions `flunder_reference`"), "{out}");
}

/// Only the type's own function and those of the types holding it can carry a field its
/// helper leaves out: a word of the same name in another conversion does not hide the loss
/// (it did: any `convert_*_to_hub` mentioning `reference` silenced W0505).
#[test]
fn only_conversions_that_can_carry_a_field_count_as_mentioning_it() {
    let unrelated = format!(
        "{HAND_WRITTEN_FORGETTING}\npub fn convert_gadget_to_hub(reference: i32) -> i32 {{\n    reference\n}}\n"
    );
    let loaded = wardle_converted_by("wardle_unrelated_mention", &unrelated);
    let out = render(&loaded, &ConversionGen.check(&loaded.model));
    assert!(
        out.contains("`convert_flunder_spec_to_hub` never mentions `reference`"),
        "{out}"
    );
    // The kind holding the spec carries it (as an annotation, say): no warning then.
    let holder = format!(
        "{HAND_WRITTEN_FORGETTING}\npub fn convert_flunder_to_hub(input: super::Flunder) -> Result<crate::Flunder, ConversionError> {{\n    let reference = input.spec.reference.clone();\n    Err(ConversionError::new(reference))\n}}\n"
    );
    let loaded = wardle_converted_by("wardle_holder_mention", &holder);
    let out = render(&loaded, &ConversionGen.check(&loaded.model));
    assert!(!out.contains("never mentions `reference`"), "{out}");
}

/// A kind of the version the hub does not declare is W0506: `register_conversions` leaves it
/// out without a word otherwise.
#[test]
fn a_kind_without_a_hub_counterpart_is_a_warning() {
    let loaded = wardle_layout(
        "wardle_gizmo",
        "",
        "mod conversion;\npub use conversion::*;\n\n/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Gizmo {\n    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,\n}\n",
        &[("apis/wardle/v1alpha1/conversion.rs", HAND_WRITTEN)],
    );
    let diags = ConversionGen.check(&loaded.model);
    let out = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["W0506"],
        "{out}"
    );
    assert!(
        out.contains("kind `Gizmo` of wardle.example.com/v1alpha1 has no counterpart in the hub"),
        "{out}"
    );
}

/// A type shared by the hub and a version through a `crate::` path (Flux's `meta` types, a
/// module of their own) names one type from both: it is moved across, not refused. A `super::` path
/// names a different thing from each side and is still not.
#[test]
fn shared_types_named_from_the_crate_root_are_moved() {
    let with = |field_ty: &str| {
        let hub = format!(
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Repo {{\n    pub metadata: ObjectMeta,\n    pub spec: RepoSpec,\n}}\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct RepoSpec {{\n    pub secret_ref: Option<{field_ty}>,\n}}\n"
        );
        load_fixture(
            &format!("shared_{}", field_ty.len()),
            &[
                (
                    "apis/source/mod.rs",
                    "//! +groupName=source.example.io\npub mod v1;\nmod types;\npub use types::*;\n",
                ),
                ("apis/source/types.rs", &hub),
                (
                    "apis/source/v1/mod.rs",
                    "//! +k8s:conversion-gen=crate::apis::source\nmod types;\npub use types::*;\n",
                ),
                ("apis/source/v1/types.rs", &hub),
            ],
        )
    };
    let loaded = with("crate::meta::LocalObjectReference");
    let diags = ConversionGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
    let loaded = with("super::LocalObjectReference");
    let diags = ConversionGen.check(&loaded.model);
    assert!(
        diags.iter().any(|d| d.code == "E0501"),
        "{}",
        render(&loaded, &diags)
    );
}

/// A hub field holding a version's own type (one the hub has no counterpart of): the very same
/// Rust type on both sides, however each spells it, so it is moved as is.
#[test]
fn a_versions_own_type_held_by_the_hub_is_moved() {
    let with = |hub_ty: &str, v2_ty: &str| {
        let hub = format!(
            "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Bolt {{\n    pub metadata: ObjectMeta,\n    pub spec: BoltSpec,\n}}\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct BoltSpec {{\n    pub legacy: Option<{hub_ty}>,\n}}\n"
        );
        let v1 = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Bolt {\n    pub metadata: ObjectMeta,\n    pub spec: BoltSpec,\n}\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct BoltSpec {\n    pub legacy: Option<Legacy>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Legacy {\n    pub old: String,\n}\n";
        let v2 = v1
            .replace("Option<Legacy>", &format!("Option<{v2_ty}>"))
            .replace("\n\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Legacy {\n    pub old: String,\n}\n", "\n");
        kube_codegen_model::testing::load_fixture_at(
            &tmp_root(),
            &format!("own_type_{}_{}", hub_ty.len(), v2_ty.len()),
            &[
                (
                    "apis/bolts/mod.rs",
                    "//! +groupName=bolts.example.io\npub mod v1;\npub mod v2;\nmod types;\npub use types::*;\n",
                ),
                ("apis/bolts/types.rs", &hub),
                (
                    "apis/bolts/v1/mod.rs",
                    "//! +k8s:conversion-gen=crate::apis::bolts\nmod types;\npub use types::*;\n",
                ),
                ("apis/bolts/v1/types.rs", v1),
                (
                    "apis/bolts/v2/mod.rs",
                    "//! +k8s:conversion-gen=crate::apis::bolts\nmod types;\npub use types::*;\n",
                ),
                ("apis/bolts/v2/types.rs", &v2),
            ],
            Some("crate::apis"),
        )
    };
    for (hub_ty, v2_ty) in [
        (
            "crate::apis::bolts::v1::Legacy",
            "crate::apis::bolts::v1::Legacy",
        ),
        ("super::v1::Legacy", "super::super::v1::Legacy"),
        ("crate::apis::bolts::v1::Legacy", "super::super::v1::Legacy"),
    ] {
        let loaded = with(hub_ty, v2_ty);
        let diags = ConversionGen.check(&loaded.model);
        assert!(
            diags.is_empty(),
            "hub {hub_ty}, v2 {v2_ty}: {}",
            render(&loaded, &diags)
        );
    }
    // Another type of the same name is not the same type.
    let loaded = with("super::v2::Legacy", "super::super::v1::Legacy");
    let diags = ConversionGen.check(&loaded.model);
    assert!(
        diags.iter().any(|d| d.code == "E0501"),
        "{}",
        render(&loaded, &diags)
    );
}

/// The wardle group with v1alpha1's hand-written conversions given as `conversion`.
fn wardle_converted_by(name: &str, conversion: &str) -> Loaded {
    wardle_layout(
        name,
        "",
        "mod conversion;\n",
        &[("apis/wardle/v1alpha1/conversion.rs", conversion)],
    )
}

#[test]
fn a_private_hand_written_function_is_named() {
    let loaded = wardle_converted_by(
        "private",
        &HAND_WRITTEN.replace(
            "pub fn convert_flunder_spec_to_hub",
            "fn convert_flunder_spec_to_hub",
        ),
    );
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0502"]);
    insta::assert_snapshot!(render(&loaded, &diags));
}

/// `pub(self)` and `pub(in <its own module>)` are private (rustc's E0603 where generated code
/// calls them): E0502 as for a plain `fn`; `pub(super)`, `pub(crate)` and `pub(in <the package
/// module>)` reach the package module, where generated code calls them.
#[test]
fn restricted_hand_written_functions_are_private_or_not_as_rustc_reads_them() {
    for (vis, private) in [
        ("pub(self)", true),
        ("pub(in crate::apis::wardle::v1alpha1::conversion)", true),
        ("pub(super)", false),
        ("pub(crate)", false),
        ("pub(in crate::apis::wardle::v1alpha1)", false),
    ] {
        let loaded = wardle_converted_by(
            "restricted",
            &HAND_WRITTEN.replace(
                "pub fn convert_flunder_spec_to_hub",
                &format!("{vis} fn convert_flunder_spec_to_hub"),
            ),
        );
        let diags = ConversionGen.check(&loaded.model);
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        if private {
            assert_eq!(codes, ["E0502"], "{vis}: {}", render(&loaded, &diags));
        } else {
            assert!(codes.is_empty(), "{vis}: {}", render(&loaded, &diags));
        }
    }
}

/// Hand-written functions in a private inline module: the package module's own are visible to
/// generated code (which lives there) and are called through it; one a file module keeps in a
/// private module of its own is not, and E0502 says so rather than to make a `pub fn` public.
#[test]
fn hand_written_functions_in_private_inline_modules() {
    let inline = |body: &str| format!("mod pins {{\n    use super::*;\n{body}\n}}\n");
    // In the package module's own file.
    let loaded = wardle_layout("inline_package", "", &inline(HAND_WRITTEN), &[]);
    let diags = ConversionGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
    let out = generated(&loaded);
    assert!(
        out.contains("self::pins::convert_flunder_spec_to_hub(self)"),
        "{out}"
    );
    // In a private module of a file module: unreachable, and said so.
    let loaded = wardle_converted_by("inline_file", &inline(HAND_WRITTEN));
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0502", "E0502"]
    );
    let out = render(&loaded, &diags);
    assert!(
        out.contains("make the modules it is declared in `pub(crate) mod`"),
        "{out}"
    );
    assert!(!out.contains("make it `pub fn"), "{out}");
    // … unless the file module re-exports them: called through the re-export.
    for reexport in [
        "pub use pins::{convert_flunder_spec_from_hub, convert_flunder_spec_to_hub};\n",
        "pub(crate) use self::pins::convert_flunder_spec_from_hub;\npub(crate) use self::pins::convert_flunder_spec_to_hub;\n",
    ] {
        let loaded = wardle_converted_by(
            &format!("reexported_{}", reexport.len()),
            &format!("{}{reexport}", inline(HAND_WRITTEN)),
        );
        let diags = ConversionGen.check(&loaded.model);
        assert!(diags.is_empty(), "{}", render(&loaded, &diags));
        let out = generated(&loaded);
        assert!(
            out.contains("self::conversion::convert_flunder_spec_to_hub(self)"),
            "{out}"
        );
        assert!(
            out.contains("self::conversion::convert_flunder_spec_from_hub(hub)"),
            "{out}"
        );
    }
}

/// A hand-written function written in the hub package instead of the version's is pointed at.
#[test]
fn a_hand_written_function_in_the_hub_package_is_pointed_at() {
    let in_hub = HAND_WRITTEN
        .replace("super::FlunderSpec", "v1alpha1::FlunderSpec")
        .replace("crate::FlunderSpec", "FlunderSpec");
    let loaded = wardle_layout(
        "in_hub",
        "mod conversion;\n",
        "",
        &[(
            "apis/wardle/conversion.rs",
            &format!("use super::*;\n{in_hub}"),
        )],
    );
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0501", "E0501"]
    );
    let out = render(&loaded, &diags);
    for f in [
        "convert_flunder_spec_to_hub",
        "convert_flunder_spec_from_hub",
    ] {
        assert!(
            out.contains(&format!(
                "`{f}` is here, in the hub package: generated code calls it in"
            )),
            "{out}"
        );
    }
    assert!(out.contains("apis/wardle/conversion.rs"), "{out}");
}

/// A hand-written function in a file of the version that no `mod` declares is pointed at by
/// E0501, beside W0115 for the file.
#[test]
fn a_hand_written_function_in_an_undeclared_file_is_pointed_at() {
    let loaded = wardle_layout(
        "undeclared",
        "",
        "",
        &[("apis/wardle/v1alpha1/conversion.rs", HAND_WRITTEN)],
    );
    let mut diags = loaded.warnings.clone();
    diags.extend(ConversionGen.check(&loaded.model));
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"W0115"), "{codes:?}");
    let out = render(&loaded, &diags);
    for f in [
        "convert_flunder_spec_to_hub",
        "convert_flunder_spec_from_hub",
    ] {
        assert!(
            out.contains(&format!(
                "`{f}` is here, in a file no `mod` declares: rustc does not compile it"
            )),
            "{out}"
        );
    }
}

/// A hand-written function under a misspelt name is pointed at: generated code looks for the
/// exact name.
#[test]
fn a_misspelt_hand_written_function_is_pointed_at() {
    let loaded = wardle_converted_by(
        "misspelt",
        &HAND_WRITTEN.replace(
            "pub fn convert_flunder_spec_from_hub",
            "pub fn convert_flunder_spec_from_hubb",
        ),
    );
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0501"]);
    let out = render(&loaded, &diags);
    assert!(
        out.contains(
            "did you mean `convert_flunder_spec_from_hub`? generated code calls it by name"
        ),
        "{out}"
    );
    // A conversion generated code calls for something else, however close its name, is not
    // taken for a typo: with `from_hub` missing, `convert_flunder_spec_to_hub` is not pointed at.
    let loaded = wardle_converted_by(
        "another",
        &HAND_WRITTEN.replace(
            "pub fn convert_flunder_spec_from_hub",
            "pub fn not_read_from_hub",
        ),
    );
    let out = render(&loaded, &ConversionGen.check(&loaded.model));
    assert!(out.contains("E0501"), "{out}");
    assert!(!out.contains("did you mean"), "{out}");
}

/// A hand-written function whose signature is not what generated code calls (no `Result`, or
/// its input borrowed) is named with the signature to write, rather than left to a rustc error
/// in the generated file.
#[test]
fn a_hand_written_function_of_another_signature_is_named() {
    let no_result = "pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> crate::FlunderSpec {\n    crate::FlunderSpec { flunder_reference: input.reference, ..Default::default() }";
    // As written before conversions took their input by value.
    let borrowed = "pub fn convert_flunder_spec_to_hub(input: &super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {\n    Ok(crate::FlunderSpec { flunder_reference: input.reference.clone(), ..Default::default() })";
    for (name, replacement) in [("signature", no_result), ("borrowed", borrowed)] {
        let loaded = wardle_converted_by(
            name,
            &HAND_WRITTEN.replace(
                "pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {\n    Err(ConversionError::new(format!(\"not read by this test: {}\", input.reference)))",
                replacement,
            ),
        );
        let diags = ConversionGen.check(&loaded.model);
        assert_eq!(
            diags.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["W0504"],
            "{name}"
        );
        let out = render(&loaded, &diags);
        assert!(
            out.contains(
                "write it as `pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<"
            ),
            "{name}: {out}"
        );
    }
}

/// A hand-written function whose input or output names the type of the wrong side (`super::`
/// from the version's `conversion.rs` is the version, not the hub): rustc would report it inside
/// the generated file.
#[test]
fn a_hand_written_function_naming_the_wrong_sides_type_is_named() {
    let to_hub = "pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {";
    let cases = [
        (
            "own_output",
            to_hub,
            "pub fn convert_flunder_spec_to_hub(input: super::FlunderSpec) -> Result<super::FlunderSpec, ConversionError> {",
            "its output type `super::FlunderSpec` names this version's `FlunderSpec`, where the hub's belongs",
        ),
        (
            "own_input",
            "pub fn convert_flunder_spec_from_hub(input: crate::FlunderSpec) -> Result<super::FlunderSpec, ConversionError> {",
            "pub fn convert_flunder_spec_from_hub(input: self::super::FlunderSpec) -> Result<super::FlunderSpec, ConversionError> {",
            "its input type `self::super::FlunderSpec` names this version's `FlunderSpec`, where the hub's belongs",
        ),
        (
            "hub_input",
            to_hub,
            "pub fn convert_flunder_spec_to_hub(input: super::super::FlunderSpec) -> Result<crate::FlunderSpec, ConversionError> {",
            "its input type `super::super::FlunderSpec` names the hub's `FlunderSpec`, where this version's belongs",
        ),
    ];
    for (name, written, replacement, note) in cases {
        let loaded = wardle_converted_by(name, &HAND_WRITTEN.replace(written, replacement));
        let diags = ConversionGen.check(&loaded.model);
        assert_eq!(
            diags.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["W0504"],
            "{name}: {}",
            render(&loaded, &diags)
        );
        let out = render(&loaded, &diags);
        assert!(out.contains(note), "{name}: {out}");
    }
}

#[test]
fn a_tag_naming_another_module_is_an_error() {
    let loaded = load_fixture(
        "wrong_hub",
        &[
            (
                "apis/Cargo.toml",
                "[package]\nname = \"wardle\"\n\n[lib]\npath = \"wardle/mod.rs\"\n",
            ),
            (
                "apis/wardle/mod.rs",
                "//! +groupName=wardle.example.com\npub mod v1alpha1;\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/wardle/types.rs",
                "#[derive(Clone)]\npub struct Thing {}\n",
            ),
            (
                "apis/wardle/v1alpha1/mod.rs",
                "//! +k8s:conversion-gen=crate::apis::wardle\nmod types;\npub use types::*;\n",
            ),
            (
                "apis/wardle/v1alpha1/types.rs",
                "#[derive(Clone)]\npub struct Thing {}\n",
            ),
        ],
    );
    let diags = ConversionGen.check(&loaded.model);
    assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0503"]);
    insta::assert_snapshot!(render(&loaded, &diags));
}

/// Two types of one snake case would define their conversion functions twice: E0507.
#[test]
fn types_of_one_snake_case_are_an_error() {
    let types = "#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct HTTPRoute {\n    pub a: i64,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct HttpRoute {\n    pub a: i64,\n}\n";
    let loaded = load_fixture(
        "snake_clash",
        &[
            (
                "apis/g/mod.rs",
                &format!("//! +groupName=g.example.com\npub mod v1;\n{types}"),
            ),
            (
                "apis/g/v1/mod.rs",
                &format!("//! +k8s:conversion-gen=crate\n{types}"),
            ),
        ],
    );
    let diags = ConversionGen.check(&loaded.model);
    let out = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0507"],
        "{out}"
    );
    assert!(
        out.contains("`HTTPRoute` and `HttpRoute` would share the conversion functions `convert_http_route_to_hub`"),
        "{out}"
    );
}

/// A hand-written `impl ConvertHub` would be a second impl of the generated one (rustc's E0119):
/// E0302, naming the functions to write instead.
#[test]
fn a_hand_written_convert_hub_impl_is_an_error() {
    let types = "#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Route {\n    pub a: i64,\n}\n";
    let loaded = load_fixture(
        "hand_convert_hub",
        &[
            (
                "apis/g/mod.rs",
                &format!("//! +groupName=g.example.com\npub mod v1;\n{types}"),
            ),
            (
                "apis/g/v1/mod.rs",
                &format!(
                    "//! +k8s:conversion-gen=crate\n{types}\nimpl kube_codegen_scheme::ConvertHub for Route {{\n    type Hub = super::Route;\n}}\n"
                ),
            ),
        ],
    );
    let diags = ConversionGen.check(&loaded.model);
    let out = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["E0302"],
        "{out}"
    );
    assert!(
        out.contains("`Route` implements `kube_codegen_scheme::ConvertHub` by hand")
            && out.contains("`pub fn convert_route_to_hub` and `pub fn convert_route_from_hub`"),
        "{out}"
    );
}

/// A field holding a type opted out of conversion says so, rather than that its type differs.
#[test]
fn a_field_of_an_opted_out_type_says_why() {
    let hub = "#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct WidgetSpec {\n    pub secret: Option<Secret>,\n}\n\n#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct Secret {\n    pub value: String,\n}\n";
    let version = hub.replace(
        "pub struct Secret",
        "/// +k8s:conversion-gen=false\npub struct Secret",
    );
    let loaded = load_fixture(
        "opted_out",
        &[
            (
                "apis/g/mod.rs",
                &format!("//! +groupName=g.example.com\npub mod v1;\n{hub}"),
            ),
            (
                "apis/g/v1/mod.rs",
                &format!("//! +k8s:conversion-gen=crate\n{version}"),
            ),
        ],
    );
    let out = render(&loaded, &ConversionGen.check(&loaded.model));
    assert!(
        out.contains("`secret` holds `Secret`, which is opted out of conversion"),
        "{out}"
    );
    assert!(!out.contains("has another type"), "{out}");
}

/// Conversions take their input by value: an `Arc` (or another shared wrapper) the same on both
/// sides is moved across, at the top of a field as inside an `Option` or a `Vec`.
#[test]
fn shared_wrappers_are_moved_at_any_depth() {
    let types = "#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]\npub struct WidgetSpec {\n    pub a: std::sync::Arc<String>,\n    pub b: Option<std::sync::Arc<String>>,\n    pub c: Vec<std::sync::Arc<String>>,\n}\n";
    let loaded = load_fixture(
        "arcs",
        &[
            (
                "apis/g/mod.rs",
                &format!("//! +groupName=g.example.com\npub mod v1;\n{types}"),
            ),
            (
                "apis/g/v1/mod.rs",
                &format!("//! +k8s:conversion-gen=crate\n{types}"),
            ),
        ],
    );
    let diags = ConversionGen.check(&loaded.model);
    assert!(diags.is_empty(), "{}", render(&loaded, &diags));
}

/// Two shapes that do not convert are named, tuple lengths included.
#[test]
fn shapes_that_differ_are_named() {
    let loaded = load_fixture(
        "shapes",
        &[
            (
                "apis/g/mod.rs",
                "//! +groupName=g.example.com\npub mod v1;\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Pair(pub String, pub String, pub String);\n",
            ),
            (
                "apis/g/v1/mod.rs",
                "//! +k8s:conversion-gen=crate\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Pair(pub String, pub String);\n",
            ),
        ],
    );
    let out = render(&loaded, &ConversionGen.check(&loaded.model));
    assert!(
        out.contains(
            "`Pair` is a tuple struct of 2 fields here and a tuple struct of 3 fields in the hub"
        ),
        "{out}"
    );
}

/// A field of an enum's variant that the other side's variant lacks is named by W0505 when
/// the hand-written conversion never mentions it, as a struct's field is.
#[test]
fn variant_fields_no_hand_written_conversion_mentions_are_named() {
    let hub = "#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]\npub enum Source {\n    Git { url: String, branch: String },\n    None,\n}\n";
    let version = "#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]\npub enum Source {\n    Git { url: String },\n    None,\n}\n";
    let conversion = "use kube_codegen_scheme::ConversionError;\n\npub fn convert_source_to_hub(input: super::Source) -> Result<crate::apis::g::Source, ConversionError> {\n    Ok(match input {\n        super::Source::Git { url } => crate::apis::g::Source::Git { url, branch: String::new() },\n        super::Source::None => crate::apis::g::Source::None,\n    })\n}\n\npub fn convert_source_from_hub(input: crate::apis::g::Source) -> Result<super::Source, ConversionError> {\n    Ok(match input {\n        crate::apis::g::Source::Git { url, .. } => super::Source::Git { url },\n        crate::apis::g::Source::None => super::Source::None,\n    })\n}\n";
    let loaded = load_fixture(
        "variant_fields",
        &[
            (
                "apis/g/mod.rs",
                &format!("//! +groupName=g.example.com\npub mod v1;\n{hub}"),
            ),
            (
                "apis/g/v1/mod.rs",
                &format!("//! +k8s:conversion-gen=crate::apis::g\nmod conversion;\n{version}"),
            ),
            ("apis/g/v1/conversion.rs", conversion),
        ],
    );
    let diags = ConversionGen.check(&loaded.model);
    let out = render(&loaded, &diags);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["W0505"],
        "{out}"
    );
    assert!(
        out.contains("`convert_source_from_hub` never mentions `branch`"),
        "{out}"
    );
    assert!(
        out.contains("`branch` of variant `Git` has no counterpart"),
        "{out}"
    );
}

/// A relative hub path other than `super` names something else from a version's module: E0503.
#[test]
fn a_relative_tag_other_than_super_is_an_error() {
    for (tag, wrong) in [("self", true), ("super::super", true), ("super", false)] {
        let loaded = load_fixture(
            "relative_tag",
            &[
                (
                    "apis/g/mod.rs",
                    "//! +groupName=g.example.com\npub mod v1;\n#[derive(Clone)]\npub struct Thing {}\n",
                ),
                (
                    "apis/g/v1/mod.rs",
                    &format!(
                        "//! +k8s:conversion-gen={tag}\n#[derive(Clone)]\npub struct Thing {{}}\n"
                    ),
                ),
            ],
        );
        let diags = ConversionGen.check(&loaded.model);
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        if wrong {
            assert_eq!(codes, ["E0503"], "{tag}: {}", render(&loaded, &diags));
        } else {
            assert!(codes.is_empty(), "{tag}: {}", render(&loaded, &diags));
        }
    }
}
