//! A property test of the whole pipeline: real API crates (the pager's, the test fixtures'),
//! mutated at random but reproducibly, run through `Config::render` (parse, validate, generate,
//! format; nothing written). Whatever the input, kube-codegen must
//!
//! - never panic (rayon re-raises a worker's panic on the caller, where it is caught);
//! - never report `Error::Internal` (invalid generated Rust), nor a configuration error the
//!   input caused;
//! - give every diagnostic a span inside its file that renders (`file:line:col` and snippet);
//! - on success, write Rust that parses.
//!
//! Mutations know the shape of the input: lines, tags (from the tag spec, with good, typo'd,
//! empty and absurd values, in the right and wrong places), identifiers, field types (odd but
//! valid Rust), serde attributes, enum shapes, modules, files, and plain garbage (bytes,
//! invalid UTF-8, NUL, huge comments, deep nesting). Seeds are fixed: a failure prints its seed
//! and the mutated files, and `KUBE_CODEGEN_FUZZ_SEED=<seed>` runs that case alone.
//! `KUBE_CODEGEN_FUZZ_CASES=<n>` runs more cases (exploration); the default keeps the test
//! within seconds in a debug build.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use kube_codegen::model::{Diagnostic, Sources, tags};
use kube_codegen::{Config, Error};

/// Cases run by default: enough to cover every mutation often, within the time budget.
const CASES: u64 = 300;

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One API crate to start from: its files (relative to `root`) and its input directory.
struct Corpus {
    name: &'static str,
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// The input directory, relative to the crate root.
    input: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` and `.proto` file under `dir` that kube-codegen did not generate.
fn read_tree(dir: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            read_tree(&path, &rel.join(&name), out);
        } else if (name.ends_with(".rs") || name.ends_with(".proto"))
            && !name.starts_with("zz_generated")
        {
            out.insert(rel.join(&name), std::fs::read(&path).unwrap());
        }
    }
}

fn corpora() -> Vec<Corpus> {
    let root = repo_root();
    let mut out = Vec::new();
    // The pager: the crate root is the hub module (`[lib] path = "pager/mod.rs"`).
    let mut files = BTreeMap::new();
    read_tree(
        &root.join("examples/pager/apis/pager"),
        Path::new("pager"),
        &mut files,
    );
    files.insert(
        "Cargo.toml".into(),
        b"[package]\nname = \"pager\"\nversion = \"0.1.0\"\n\n[lib]\npath = \"pager/mod.rs\"\n"
            .to_vec(),
    );
    out.push(Corpus {
        name: "pager",
        files,
        input: PathBuf::new(),
    });
    for (name, dir, krate) in [
        ("fixture-crate", "tests/fixture-crate/src", "fixture-crate"),
        ("buildrs-crate", "tests/buildrs-crate/src", "buildrs-crate"),
    ] {
        let mut files = BTreeMap::new();
        read_tree(&root.join(dir), Path::new("src"), &mut files);
        files.insert(
            "Cargo.toml".into(),
            format!("[package]\nname = \"{krate}\"\nversion = \"0.1.0\"\n").into_bytes(),
        );
        out.push(Corpus {
            name,
            files,
            input: "src/apis".into(),
        });
    }
    for c in &out {
        assert!(
            c.files
                .keys()
                .any(|p| p.file_name().is_some_and(|n| n == "types.rs")),
            "corpus {} has no types.rs: the inputs moved?",
            c.name
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// What mutations insert.

/// Values for tags: good ones, typo'd, empty, absurd.
const TAG_VALUES: &[&str] = &[
    "",
    "=",
    "=true",
    "=false",
    "=package",
    "=package,register",
    "=TypeMeta",
    "=covers",
    "=crate",
    "=super",
    "=self::nope",
    "=k8s.io/api/core/v1",
    "=example.com",
    "=Example.COM",
    "=alerts",
    "=al,al",
    "=al,,x",
    "=all",
    "=atomic",
    "=set",
    "=map",
    "=granular",
    "=merge",
    "=merge,retainKeys",
    "=replace,bogus",
    "=name",
    "=message",
    "=type",
    "=metadata",
    "=1",
    "=0",
    "=-1",
    "=18446744073709551616",
    "=536870912",
    "=19000",
    "=\"normal\"",
    "=\"\"",
    "=null",
    "=[]",
    "={}",
    "={\"a\":1,\"a\":2}",
    "=[1,2,3]",
    "=1e400",
    "=\"2024-01-01T00:00:00Z\"",
    "=\"1h30m\"",
    "=\"aGVsbG8=\"",
    "={\"message\":\"x\"}",
    "=create,get",
    "=create,create",
    "=get,list,watch",
    "=fly",
    "=name=GetScale,verb=get,subresource=scale,result=Scale",
    "=name=UpdateScale,verb=update,subresource=scale,input=Scale,result=Scale",
    "=name=X,verb=fly",
    "=name=,verb=get",
    "=name=Sent,type=boolean,jsonPath=.status.sent",
    "=name=Age,type=date,jsonPath=.metadata.creationTimestamp,priority=1",
    "=name=Bad,type=nope,jsonPath=status",
    "=name=Q,type=string,jsonPath=`.status.conditions[?(@.type==\"Ready\")].status`",
    "=name=\"unterminated,type=string,jsonPath=.a",
    "=name=P,type=integer,jsonPath=.spec.x,priority=-3",
    ":=atomic",
    ":=",
    ":=true",
    "=\u{1F980}\u{0}\u{7f}",
    "=ü",
    "=a b c",
    "=\\",
    "=\"\\",
    "=`",
];

/// Field types: odd but valid Rust, and a few of the supported set.
const FIELD_TYPES: &[&str] = &[
    "(i32, String)",
    "()",
    "[u8; 4]",
    "[String; 0]",
    "&'static str",
    "&'a str",
    "Box<dyn std::fmt::Debug>",
    "Box<dyn Fn(i32) -> i32 + Send>",
    "fn(i32) -> i32",
    "*const u8",
    "impl Clone",
    "HashMap<i32, String>",
    "BTreeMap<u8, String>",
    "BTreeMap<String, Option<Vec<BTreeMap<String, i64>>>>",
    "std::collections::HashMap<String, Self>",
    "Option<Option<String>>",
    "Option<Option<Option<Vec<Option<i32>>>>>",
    "Vec<u8>",
    "Vec<Vec<u8>>",
    "Vec<Self>",
    "Option<Box<Self>>",
    "Box<Self>",
    "Self",
    "Box<Box<Box<String>>>",
    "std::rc::Rc<String>",
    "std::sync::Arc<String>",
    "std::cell::RefCell<i32>",
    "std::sync::Mutex<i32>",
    "std::marker::PhantomData<u8>",
    "BTreeSet<String>",
    "HashSet<Self>",
    "Vec<T>",
    "T",
    "Option<T>",
    "u128",
    "i8",
    "usize",
    "isize",
    "f32",
    "char",
    "str",
    "!",
    "_",
    "bool",
    "serde_json::Value",
    "Quantity",
    "IntOrString",
    "Time",
    "MicroTime",
    "Duration",
    "ByteString",
    "ObjectMeta",
    "ListMeta",
    "Option<ObjectMeta>",
    "k8s_openapi::api::core::v1::PodSpec",
    "crate::Nope",
    "super::super::Nope",
    "self::Missing",
    "Missing",
    "<Self as Trait>::Assoc",
    "<Vec<u8> as IntoIterator>::Item",
    "Ünïcödé",
    "r#type",
    "r#Self",
    "dyn Send",
    "Vec<dyn Send>",
    "Option<fn()>",
    "Result<String, String>",
    "Cow<'static, str>",
    "std::borrow::Cow<'a, str>",
    "Vec<(String, i32)>",
    "BTreeMap<(String, String), i32>",
    "BTreeMap<String>",
    "Option<>",
    "Vec<String, String>",
    "HashMap<String, String, std::collections::hash_map::RandomState>",
    "Option<[u8; 32]>",
    "i32::MAX",
    "String::new",
    "Box<str>",
    "Box<[u8]>",
    "Arc<str>",
    "AlertSpec",
    "Alert",
    "Priority",
    "Option<Alert>",
    "Vec<Alert>",
    "v1alpha1::AlertSpec",
    "super::v1alpha1::AlertSpec",
    "super::super::v1::Nope",
];

/// `#[serde(...)]` contents, on types and fields.
const SERDE_ATTRS: &[&str] = &[
    "rename = \"x\"",
    "rename = \"\"",
    "rename = \"apiVersion\"",
    "rename = \"kind\"",
    "rename = \"metadata\"",
    "rename = \"spec\"",
    "rename = \"\u{1F980}\"",
    "rename(serialize = \"a\", deserialize = \"b\")",
    "rename(serialize = \"a\")",
    "rename_all = \"camelCase\"",
    "rename_all = \"snake_case\"",
    "rename_all = \"SCREAMING-KEBAB-CASE\"",
    "rename_all = \"bogus\"",
    "rename_all(serialize = \"lowercase\", deserialize = \"UPPERCASE\")",
    "flatten",
    "skip",
    "skip_serializing",
    "skip_deserializing",
    "skip_serializing_if = \"Option::is_none\"",
    "skip_serializing_if = \"Vec::is_empty\"",
    "default",
    "default = \"Default::default\"",
    "default = \"nope\"",
    "untagged",
    "tag = \"type\"",
    "tag = \"kind\"",
    "tag = \"t\", content = \"c\"",
    "content = \"c\"",
    "transparent",
    "deny_unknown_fields",
    "with = \"m\"",
    "serialize_with = \"s\"",
    "deserialize_with = \"d\"",
    "from = \"String\"",
    "try_from = \"String\"",
    "into = \"String\"",
    "remote = \"Other\"",
    "alias = \"y\"",
    "bound = \"\"",
    "crate = \"serde\"",
    "other",
    "borrow",
    "getter = \"x\"",
    "",
    "rename",
    "rename = 3",
    "skip, rename = \"z\"",
    "default, flatten",
    "rename = \"a\", rename = \"b\"",
    "\"literal\"",
    "a::b",
    "rename = r#\"x\"#",
];

const DERIVES: &[&str] = &[
    "Clone",
    "Debug",
    "Default",
    "PartialEq",
    "Eq",
    "Hash",
    "Copy",
    "Serialize",
    "Deserialize",
    "serde::Serialize",
    "serde::Deserialize",
    "JsonSchema",
    "schemars::JsonSchema",
    "PartialOrd",
    "Ord",
    "CustomResource",
    "crate::Nope",
    "std::clone::Clone",
];

const IDENTS: &[&str] = &[
    "Foo",
    "foo",
    "r#type",
    "r#match",
    "r#fn",
    "Ünïcödé",
    "ñame",
    "_",
    "_x",
    "Self_",
    "A",
    "a",
    "ObjectMeta",
    "ListMeta",
    "String",
    "Option",
    "Vec",
    "Alert",
    "AlertList",
    "AlertApplyConfiguration",
    "AlertSpec",
    "WidgetList",
    "Scale",
    "Status",
    "metadata",
    "spec",
    "status",
    "api_version",
    "kind",
    "r#kind",
    "type_",
    "HTTPRoute",
    "URLs",
    "ABC",
    "X9",
    "x9",
    "Policy",
    "Endpoints",
    "Ingress",
    "Mutex",
    "Rc",
    "Default",
    "Clone",
    "deep_copy",
    "set_defaults",
    "convert",
    "Box",
    "T",
];

/// Whole items dropped in between others.
const ITEMS: &[&str] = &[
    "mod missing;",
    "pub mod missing;",
    "#[path = \"nope.rs\"] mod nope;",
    "#[path = \"../../../../../../etc/passwd\"] mod passwd;",
    "#[path = \"types.rs\"] pub mod again;",
    "#[path = \"\"] mod empty;",
    "#[cfg(test)] mod tests;",
    "#[cfg(test)]\nmod tests { use super::*; #[test] fn t() {} }",
    "mod a { pub use super::b::*; }\nmod b { pub use super::a::*; }\nuse a::*;",
    "pub use self::*;",
    "pub use super::*;",
    "use super::super::super::super::*;",
    "use crate::*;",
    "pub use self::inner::Thing as Alert;",
    "use std::collections::BTreeMap as HashMap;",
    "use serde::Serialize as Deserialize;",
    "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta as ObjectMeta;",
    "type Alias = Vec<Alias>;",
    "pub type Name = String;",
    "pub type Pair = (String, String);",
    "pub type Labels<T> = BTreeMap<String, T>;",
    "impl Default for Nope { fn default() -> Self { Nope } }",
    "impl<T> Trait for Vec<T> {}",
    "trait Trait { type Assoc; }",
    "pub struct Unit;",
    "pub struct Tuple(pub String, i32);",
    "pub struct Empty {}",
    "#[derive(Clone)] pub struct Generic<T> { pub t: T }",
    "#[derive(Clone)] pub struct Life<'a> { pub s: &'a str }",
    "#[derive(Clone, Debug, Default)] pub struct Konst<const N: usize> { pub a: [u8; N] }",
    "pub union U { a: u32, b: f32 }",
    "extern \"C\" { fn f(); }",
    "macro_rules! m { () => {} }\nm!();",
    "const X: u32 = 1;",
    "static Y: &str = \"y\";",
    "pub fn deep_copy_alert() {}",
    "fn set_defaults_alert_spec(_: &mut AlertSpec) {}",
    "pub fn convert_alert_to_hub(a: &Alert) -> Alert { a.clone() }",
    "pub mod inner {\n    use super::*;\n    /// +genclient\n    #[derive(Clone, Debug, Default, PartialEq)]\n    pub struct Inner {\n        pub metadata: ObjectMeta,\n    }\n}",
    "mod private_inner {\n    #[derive(Clone, Debug)]\n    pub struct Hidden { pub x: i32 }\n}",
    "pub mod inline { pub mod deeper { pub struct Deep { pub v: Vec<super::super::Deep> } } }",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Widget {\n    pub metadata: ObjectMeta,\n    pub spec: WidgetSpec,\n}\n#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct WidgetSpec {\n    pub r#type: String,\n    pub size: Option<i64>,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Alert {\n    pub metadata: ObjectMeta,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default)]\npub struct Generic<T> {\n    pub metadata: ObjectMeta,\n    pub t: T,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\nstruct Private {\n    pub metadata: ObjectMeta,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Serdy {\n    pub metadata: ObjectMeta,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct Ünïcödé {\n    pub metadata: ObjectMeta,\n    pub r#type: Option<String>,\n}",
    "/// +genclient\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct r#Match {\n    pub metadata: ObjectMeta,\n}",
    "/// +genclient\n#[derive(Clone, Debug, PartialEq)]\npub enum EnumKind {\n    A { metadata: ObjectMeta },\n}",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub enum Shape {\n    Unit,\n    Tuple(i32, String),\n    Newtype(String),\n    Struct { a: i32, #[serde(rename = \"b\")] b: Option<String> },\n}",
    "#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]\n#[repr(u8)]\npub enum Disc {\n    A = 1,\n    B = 2,\n    C = 255,\n}",
    "/// +enum\n#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\n#[serde(tag = \"type\")]\npub enum Tagged {\n    A { x: i32 },\n    B(Inner2),\n    #[serde(other)]\n    Unknown,\n}\n#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub struct Inner2 { pub y: String }",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\n#[serde(untagged)]\npub enum Untagged {\n    N(i64),\n    S(String),\n    L(Vec<Untagged>),\n}",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\n#[serde(tag = \"t\", content = \"c\")]\npub enum Adjacent {\n    A(i32),\n    B { s: String },\n    C,\n}",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub enum Empty2 {}",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub enum Recursive {\n    Leaf,\n    Node(Box<Recursive>, Box<Recursive>),\n}",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\npub struct Wrap(pub Vec<Wrap>);",
    "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]\n#[serde(transparent)]\npub struct Transparent { pub inner: String }",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Flat {\n    #[serde(flatten)]\n    pub extra: BTreeMap<String, serde_json::Value>,\n    #[serde(flatten)]\n    pub other: Flat2,\n}\n#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Flat2 { pub a: i32 }",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Clash {\n    pub a_b: i32,\n    #[serde(rename = \"aB\")]\n    pub other: i32,\n}",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Raw {\n    pub r#type: String,\n    pub r#match: Option<i32>,\n    pub r#ref: Vec<String>,\n    pub r#self_: bool,\n}",
    "#[cfg(feature = \"x\")]\n#[derive(Clone, Debug)]\npub struct Cfg { pub a: i32 }",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct CfgField {\n    #[cfg(feature = \"x\")]\n    pub a: i32,\n}",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Private2 {\n    a: i32,\n    pub(crate) b: String,\n    pub(super) c: bool,\n    pub(in crate::x) d: bool,\n}",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct WithDefaults {\n    /// +default=5\n    pub n: i32,\n    /// +default=\"x\"\n    pub s: Option<String>,\n    /// +default={\"a\":\"b\"}\n    pub m: BTreeMap<String, String>,\n    /// +default=[1,2]\n    pub v: Vec<u8>,\n    /// +default=\"1h\"\n    pub d: Option<Duration>,\n}",
    "#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Lists {\n    /// +listType=map\n    /// +listMapKey=name\n    pub items: Vec<Item>,\n    /// +listType=set\n    pub set: Vec<String>,\n    /// +mapType=atomic\n    pub m: BTreeMap<String, String>,\n    /// +patchStrategy=merge\n    /// +patchMergeKey=name\n    pub p: Vec<Item>,\n}\n#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\npub struct Item { pub name: String }",
    "impl Alert { pub fn new() -> Self { Default::default() } }",
    "impl std::fmt::Display for Alert { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { Ok(()) } }",
    "#![allow(dead_code)]",
    "//! +groupName=other.example.com",
    "//! +k8s:protobuf-gen=package",
    "//! +k8s:conversion-gen=crate::nope",
    "//! +k8s:deepcopy-gen=false",
    "//! +k8s:defaulter-gen=TypeMeta",
    "//! +k8s:openapi-gen=false",
    "// +genclient",
    "// +groupName=x.y",
    "/* /// +genclient */",
    "/** +genclient */",
    "#[doc = \"+genclient\"]",
    "#[doc = \" +shortName=zz\"]",
    "#[doc = concat!(\"+gen\", \"client\")]",
    "/// ```\n/// +genclient\n/// ```",
    "include!(\"zz_generated.deepcopy.rs\");",
    "include!(\"nope.rs\");",
    "extern crate self as this;",
    "compile_error!(\"x\");",
];

/// Where a tag line goes, and how it is written.
const TAG_PREFIXES: &[&str] = &[
    "/// +",
    "//! +",
    "// +",
    "///+",
    "/// + ",
    "///  +",
    "/**+",
    "/// -",
    "/// ++",
    "/// +k8s:",
    "/// +genclient:",
];

// ---------------------------------------------------------------------------------------------
// The mutations.

/// A mutated crate and what was done to it.
struct Mutant {
    files: BTreeMap<PathBuf, Vec<u8>>,
    log: Vec<String>,
}

fn lines_of(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn line_text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

fn indent_of(line: &[u8]) -> Vec<u8> {
    line.iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .copied()
        .collect()
}

/// Lines that look like fields: `pub name: Type,` (or private ones).
fn field_lines(lines: &[Vec<u8>]) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let t = line_text(l);
            let t = t.trim();
            t.ends_with(',')
                && t.contains(": ")
                && !t.starts_with("//")
                && !t.starts_with("#")
                && t.split(": ")
                    .next()
                    .is_some_and(|head| head.split_whitespace().count() <= 2)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Lines that start a type: `pub struct X {`, `pub enum Y {`.
fn item_lines(lines: &[Vec<u8>]) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let t = line_text(l);
            let t = t.trim_start();
            [
                "pub struct ",
                "pub enum ",
                "struct ",
                "enum ",
                "pub(crate) struct ",
            ]
            .iter()
            .any(|p| t.starts_with(p))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Identifiers in a text (ASCII words not starting with a digit), longest first for variety.
fn identifiers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() > 1 && !w.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Replaces whole-word occurrences of `from` (every one, or only the `only`-th).
fn replace_word(text: &str, from: &str, to: &str, only: Option<usize>) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut seen = 0;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        let whole = !before.is_some_and(is_word) && !after.is_some_and(is_word);
        out.push_str(&rest[..i]);
        if whole && only.is_none_or(|n| n == seen) {
            out.push_str(to);
        } else {
            out.push_str(from);
        }
        if whole {
            seen += 1;
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

fn nested(depth: usize, wrappers: &[&str], leaf: &str) -> String {
    let mut s = String::new();
    let mut closes = 0;
    for i in 0..depth {
        s.push_str(wrappers[i % wrappers.len()]);
        s.push('<');
        if wrappers[i % wrappers.len()].ends_with("Map") {
            s.push_str("String, ");
        }
        closes += 1;
    }
    s.push_str(leaf);
    s.push_str(&">".repeat(closes));
    s
}

fn tag_line(rng: &mut Rng) -> String {
    let spec = rng.pick(tags::TAGS);
    let mut name = spec.name.to_string();
    match rng.below(10) {
        // A typo: a letter dropped, doubled or swapped.
        0 if name.len() > 2 => {
            let i = rng.below(name.len() - 1);
            let mut b = name.into_bytes();
            match rng.below(3) {
                0 => {
                    b.remove(i);
                }
                1 => b.insert(i, b[i]),
                _ => b.swap(i, i + 1),
            }
            name = String::from_utf8(b).unwrap();
        }
        1 => name = name.to_uppercase(),
        2 => {
            name = rng
                .pick(&[
                    "kubebuilder:printcolumn",
                    "kubebuilder:default",
                    "kubebuilder:validation:Minimum",
                    "k8s:deepcopy-gen:interfaces",
                    "nullable",
                    "union",
                    "featureGate",
                    "protobuf.options.(gogoproto.goproto_stringer)",
                    "groupGoName",
                    "k8s:prerelease-lifecycle-gen:introduced",
                    "operator-sdk:csv",
                    "",
                    ":",
                    "genclient:",
                    "genclient:nope",
                    "k8s:",
                    "k8s:nope-gen",
                ])
                .to_string()
        }
        _ => {}
    }
    let prefix = if rng.chance(75) {
        "/// +"
    } else {
        rng.pick(TAG_PREFIXES)
    };
    let value = if rng.chance(5) {
        format!("={}", "x".repeat(5000))
    } else {
        rng.pick(TAG_VALUES).to_string()
    };
    format!("{prefix}{name}{value}")
}

fn odd_type(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => {
            let depth = *rng.pick(&[2, 10, 64, 200, 500]);
            let wrappers: &[&[&str]] = &[
                &["Option"],
                &["Vec"],
                &["Box"],
                &["Option", "Vec", "Box", "BTreeMap"],
                &["HashMap"],
            ];
            let wrappers = *rng.pick(wrappers);
            let leaf = *rng.pick(&["String", "i32", "Self", "Quantity", "(i32, i32)"]);
            nested(depth, wrappers, leaf)
        }
        1 => {
            let a = odd_type_flat(rng);
            let b = odd_type_flat(rng);
            format!("BTreeMap<String, ({a}, {b})>")
        }
        _ => odd_type_flat(rng),
    }
}

fn odd_type_flat(rng: &mut Rng) -> String {
    rng.pick(FIELD_TYPES).to_string()
}

/// Files that hold Rust in the package directories, or any file.
fn pick_file(rng: &mut Rng, files: &BTreeMap<PathBuf, Vec<u8>>, prefer_types: bool) -> PathBuf {
    let rs: Vec<&PathBuf> = files
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let types: Vec<&PathBuf> = rs
        .iter()
        .copied()
        .filter(|p| p.file_name().is_some_and(|n| n == "types.rs"))
        .collect();
    if prefer_types && !types.is_empty() && rng.chance(70) {
        return rng.pick(&types).to_path_buf();
    }
    if !rs.is_empty() && rng.chance(90) {
        return rng.pick(&rs).to_path_buf();
    }
    let all: Vec<&PathBuf> = files.keys().collect();
    rng.pick(&all).to_path_buf()
}

/// A position to insert at: a line index (0..=len).
fn insert_at(rng: &mut Rng, lines: &[Vec<u8>]) -> usize {
    rng.below(lines.len() + 1)
}

fn mutate(rng: &mut Rng, m: &mut Mutant) {
    let path = pick_file(rng, &m.files, true);
    let text = m.files[&path].clone();
    let mut lines = lines_of(&text);
    let kind = rng.below(30);
    let desc;
    match kind {
        // Lines: drop, duplicate, swap.
        0 | 1 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            desc = format!("drop line {}: {:?}", i + 1, line_text(&lines[i]));
            lines.remove(i);
        }
        2 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            desc = format!("duplicate line {}: {:?}", i + 1, line_text(&lines[i]));
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        3 if lines.len() > 1 => {
            let i = rng.below(lines.len());
            let j = rng.below(lines.len());
            desc = format!("swap lines {} and {}", i + 1, j + 1);
            lines.swap(i, j);
        }
        // Truncate anywhere (a byte, so possibly inside a UTF-8 sequence).
        4 => {
            let at = rng.below(text.len() + 1);
            desc = format!("truncate at byte {at}");
            lines = vec![text[..at].to_vec()];
        }
        // Tags, anywhere: before a type, a field, at the top, at random.
        5..=8 => {
            let line = tag_line(rng);
            let targets: Vec<usize> = match kind {
                5 => item_lines(&lines),
                6 => field_lines(&lines),
                7 => vec![0],
                _ => (0..=lines.len()).collect(),
            };
            let i = if targets.is_empty() {
                insert_at(rng, &lines)
            } else {
                *rng.pick(&targets)
            };
            let indent = lines.get(i).map(|l| indent_of(l)).unwrap_or_default();
            let mut new = indent;
            new.extend_from_slice(line.as_bytes());
            new.push(b'\n');
            desc = format!("insert tag {:?} at line {}", short(&line), i + 1);
            lines.insert(i.min(lines.len()), new);
        }
        // Rename an identifier (everywhere, or once).
        9 | 10 => {
            let s = String::from_utf8_lossy(&text).into_owned();
            let ids = identifiers(&s);
            if ids.is_empty() {
                desc = "rename: no identifiers".into();
            } else {
                let from = rng.pick(&ids).clone();
                let to = if rng.chance(30) {
                    rng.pick(&ids).clone()
                } else {
                    rng.pick(IDENTS).to_string()
                };
                let only = if rng.chance(50) {
                    Some(rng.below(3))
                } else {
                    None
                };
                desc = format!("rename {from} -> {to} ({only:?})");
                lines = lines_of(replace_word(&s, &from, &to, only).as_bytes());
            }
        }
        // Field types.
        11..=13 => {
            let fields = field_lines(&lines);
            if fields.is_empty() {
                desc = "retype: no fields".into();
            } else {
                let i = *rng.pick(&fields);
                let l = line_text(&lines[i]);
                let (head, _) = l.split_once(": ").unwrap();
                let ty = odd_type(rng);
                desc = format!("retype line {} ({}) as {}", i + 1, head.trim(), short(&ty));
                lines[i] = format!("{head}: {ty},\n").into_bytes();
            }
        }
        // Serde attributes: add on a type or field, or remove one.
        14 | 15 => {
            let existing: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| line_text(l).trim_start().starts_with("#[serde"))
                .map(|(i, _)| i)
                .collect();
            if !existing.is_empty() && rng.chance(30) {
                let i = *rng.pick(&existing);
                desc = format!("remove {:?}", line_text(&lines[i]));
                lines.remove(i);
            } else {
                let mut targets = field_lines(&lines);
                targets.extend(item_lines(&lines));
                let i = if targets.is_empty() {
                    insert_at(rng, &lines)
                } else {
                    *rng.pick(&targets)
                };
                let n = 1 + rng.below(2);
                let attrs: Vec<&str> = (0..n).map(|_| *rng.pick(SERDE_ATTRS)).collect();
                let line = format!("#[serde({})]", attrs.join(", "));
                let mut new = lines.get(i).map(|l| indent_of(l)).unwrap_or_default();
                new.extend_from_slice(line.as_bytes());
                new.push(b'\n');
                desc = format!("insert {line} at line {}", i + 1);
                lines.insert(i.min(lines.len()), new);
            }
        }
        // Derives: add, remove, replace.
        16 => {
            let derives: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| line_text(l).trim_start().starts_with("#[derive("))
                .map(|(i, _)| i)
                .collect();
            if derives.is_empty() {
                desc = "derive: none".into();
            } else {
                let i = *rng.pick(&derives);
                let l = line_text(&lines[i]);
                let indent = String::from_utf8(indent_of(&lines[i])).unwrap_or_default();
                let inner = l
                    .trim()
                    .trim_start_matches("#[derive(")
                    .trim_end_matches(")]")
                    .to_string();
                let mut names: Vec<String> = inner
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                match rng.below(3) {
                    0 if !names.is_empty() => {
                        let j = rng.below(names.len());
                        names.remove(j);
                    }
                    1 => names.push(rng.pick(DERIVES).to_string()),
                    _ => {
                        names = (0..rng.below(4))
                            .map(|_| rng.pick(DERIVES).to_string())
                            .collect()
                    }
                }
                let new = format!("{indent}#[derive({})]\n", names.join(", "));
                desc = format!("derive line {} -> {}", i + 1, new.trim());
                lines[i] = new.into_bytes();
            }
        }
        // Whole items: modules, uses, impls, odd types, enums.
        17..=19 => {
            let item = rng.pick(ITEMS);
            // Between items: before a line at column 0 that starts an item, or at the end.
            let starts: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    let t = line_text(l);
                    t.starts_with("pub ")
                        || t.starts_with("#[")
                        || t.starts_with("///")
                        || t.starts_with("mod ")
                        || t.starts_with("use ")
                })
                .map(|(i, _)| i)
                .chain(std::iter::once(lines.len()))
                .collect();
            let i = if rng.chance(85) {
                *rng.pick(&starts)
            } else {
                insert_at(rng, &lines)
            };
            desc = format!("insert item at line {}: {}", i + 1, short(item));
            lines.insert(i.min(lines.len()), format!("{item}\n").into_bytes());
        }
        // Garbage: random bytes, invalid UTF-8, NUL, control characters.
        20 => {
            let at = rng.below(text.len() + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    *rng.pick(&[
                        0u8, 0xff, 0xfe, 0xc3, 0x80, b'{', b'}', b'<', b'>', b'"', b'\'', b'\\',
                        b'#', b'/', b'*', b'\r', b'\t', 0x0b, 0x1b, b'+', b'!', 0xe2, 0x80, 0xa8,
                    ])
                })
                .collect();
            desc = format!("insert bytes {bytes:?} at {at}");
            let mut t = text.clone();
            t.splice(at..at, bytes);
            lines = vec![t];
        }
        // A huge doc comment, or a huge line.
        21 => {
            let targets = item_lines(&lines);
            let i = if targets.is_empty() {
                insert_at(rng, &lines)
            } else {
                *rng.pick(&targets)
            };
            let block = if rng.chance(50) {
                "/// Lorem ipsum dolor sit amet, ünïcödé \u{1F980} +notatag\n".repeat(3000)
            } else {
                format!("/// {}\n", "x".repeat(200_000))
            };
            desc = format!("insert {} bytes of docs at line {}", block.len(), i + 1);
            lines.insert(i.min(lines.len()), block.into_bytes());
        }
        // Deeply nested generics as a field's type, or an alias.
        22 => {
            let depth = *rng.pick(&[100, 300, 500]);
            let ty = nested(depth, &["Option", "Vec", "Box"], "String");
            let fields = field_lines(&lines);
            if fields.is_empty() || rng.chance(20) {
                desc = format!("insert alias nested {depth} deep");
                lines.push(format!("pub type Deep = {ty};\n").into_bytes());
            } else {
                let i = *rng.pick(&fields);
                let l = line_text(&lines[i]);
                let (head, _) = l.split_once(": ").unwrap();
                desc = format!("retype line {} nested {depth} deep", i + 1);
                lines[i] = format!("{head}: {ty},\n").into_bytes();
            }
        }
        // Visibility, generics, cfg on a type or a field.
        23 => {
            let mut targets = field_lines(&lines);
            targets.extend(item_lines(&lines));
            if targets.is_empty() {
                desc = "visibility: nothing".into();
            } else {
                let i = *rng.pick(&targets);
                let l = line_text(&lines[i]);
                let new = match rng.below(7) {
                    0 => l.replacen("pub ", "", 1),
                    1 => l.replacen("pub ", "pub(crate) ", 1),
                    2 => l.replacen("pub ", "pub(super) ", 1),
                    6 => {
                        let narrow: &[&str] = &["pub(self) ", "pub(in crate) ", "pub(in self) "];
                        let to = *rng.pick(narrow);
                        l.replacen("pub ", to, 1)
                    }
                    3 => {
                        let indent = String::from_utf8(indent_of(&lines[i])).unwrap_or_default();
                        format!("{indent}#[cfg(test)]\n{l}")
                    }
                    4 => {
                        let indent = String::from_utf8(indent_of(&lines[i])).unwrap_or_default();
                        format!("{indent}#[cfg(feature = \"x\")]\n{l}")
                    }
                    _ => l.replacen(" {", "<T: Clone> {", 1),
                };
                desc = format!("line {}: {:?} -> {:?}", i + 1, l.trim(), new.trim());
                lines[i] = new.into_bytes();
            }
        }
        // Add a field of an odd type to a type.
        24 => {
            let targets = item_lines(&lines);
            if targets.is_empty() {
                desc = "add field: no types".into();
            } else {
                let i = *rng.pick(&targets);
                let name = rng.pick(IDENTS).to_lowercase();
                let ty = odd_type(rng);
                let attr = if rng.chance(30) {
                    format!("    #[serde({})]\n", rng.pick(SERDE_ATTRS))
                } else {
                    String::new()
                };
                let tag = if rng.chance(30) {
                    format!("    {}\n", tag_line(rng))
                } else {
                    String::new()
                };
                let field = format!("{tag}{attr}    pub {name}: {ty},\n");
                desc = format!("add field after line {}: {}", i + 1, short(&field));
                lines.insert((i + 1).min(lines.len()), field.into_bytes());
            }
        }
        // Whole files: remove, add, rename.
        25 => {
            let choice = rng.below(4);
            match choice {
                0 => {
                    desc = format!("remove file {}", path.display());
                    m.files.remove(&path);
                    m.log.push(desc);
                    return;
                }
                1 => {
                    let dir = path.parent().unwrap_or(Path::new(""));
                    let name = rng.pick(&[
                        "extra.rs",
                        "my-types.rs",
                        "r#type.rs",
                        "mod.rs",
                        "v2/types.rs",
                        "v2/mod.rs",
                        "V1/types.rs",
                        "v1alpha/types.rs",
                        "v1.rs",
                        "v3.rs",
                        "ünï.rs",
                        "types/mod.rs",
                        "nope.rs",
                        "missing.rs",
                        "lib.rs",
                        "generated.proto",
                    ]);
                    let new = dir.join(name);
                    let body = if name.ends_with(".proto") {
                        b"syntax = \"proto2\";\nmessage Alert {\n  optional string x = 1;\n}\n"
                            .to_vec()
                    } else {
                        let mut b = b"use super::*;\n".to_vec();
                        b.extend_from_slice(rng.pick(ITEMS).as_bytes());
                        b.push(b'\n');
                        if rng.chance(50) {
                            b.extend_from_slice(text.as_slice());
                        }
                        b
                    };
                    desc = format!("add file {}", new.display());
                    m.files.insert(new, body);
                    m.log.push(desc);
                    return;
                }
                2 => {
                    let to = path.with_file_name(rng.pick(&["types2.rs", "mod.rs", "v9.rs"]));
                    desc = format!("move {} to {}", path.display(), to.display());
                    let body = m.files.remove(&path).unwrap();
                    m.files.insert(to, body);
                    m.log.push(desc);
                    return;
                }
                _ => {
                    desc = format!("empty {}", path.display());
                    lines.clear();
                }
            }
        }
        // Protobuf records: mutate a `generated.proto`.
        26 => {
            let protos: Vec<PathBuf> = m
                .files
                .keys()
                .filter(|p| p.extension().is_some_and(|e| e == "proto"))
                .cloned()
                .collect();
            if protos.is_empty() {
                desc = "proto: none".into();
            } else {
                let p = rng.pick(&protos).clone();
                let s = String::from_utf8_lossy(&m.files[&p]).into_owned();
                let mut pl: Vec<String> = s.lines().map(str::to_string).collect();
                let d = if pl.is_empty() {
                    "proto: empty".to_string()
                } else {
                    let i = rng.below(pl.len());
                    match rng.below(5) {
                        0 => {
                            let l = pl.remove(i);
                            format!("drop {l:?}")
                        }
                        1 => {
                            let l = pl[i].clone();
                            pl.insert(i, l.clone());
                            format!("duplicate {l:?}")
                        }
                        2 => {
                            let l = pl[i].clone();
                            let n = rng.pick(&["0", "1", "2", "-1", "536870912", "19000", "x"]);
                            let new = l
                                .split(" = ")
                                .next()
                                .map(|h| format!("{h} = {n};"))
                                .unwrap_or_default();
                            pl[i] = new.clone();
                            format!("renumber {l:?} -> {new:?}")
                        }
                        3 => {
                            let l = rng.pick(&[
                                "  optional string nope = 3;",
                                "  repeated Alert self = 1;",
                                "message {",
                                "}",
                                "  optional string \u{0} = 9;",
                                "  map<string, string> m = 77;",
                                "  reserved 1 to 3;",
                            ]);
                            pl.insert(i, l.to_string());
                            format!("insert {l:?}")
                        }
                        _ => {
                            pl.truncate(i);
                            format!("truncate at line {i}")
                        }
                    }
                };
                desc = format!("{}: {d}", p.display());
                m.files.insert(p, (pl.join("\n") + "\n").into_bytes());
                m.log.push(desc);
                return;
            }
        }
        // Enum shapes: turn a unit variant into a tuple or struct variant, add discriminants.
        27 => {
            let variants: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    let t = line_text(l);
                    let t = t.trim();
                    t.ends_with(',')
                        && !t.contains(':')
                        && !t.contains('(')
                        && t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                })
                .map(|(i, _)| i)
                .collect();
            if variants.is_empty() {
                desc = "variant: none".into();
            } else {
                let i = *rng.pick(&variants);
                let l = line_text(&lines[i]);
                let name = l.trim().trim_end_matches(',');
                let indent = String::from_utf8(indent_of(&lines[i])).unwrap_or_default();
                let shape = rng.pick(&[
                    "(String)",
                    "(i32, i32)",
                    "()",
                    "{}",
                    "{ a: i32 }",
                    "{ r#type: Option<String>, #[serde(rename = \"x\")] b: Vec<u8> }",
                    "(Box<Self>)",
                    " = 7",
                    " = -1",
                    "(#[serde(skip)] i32)",
                    "(&'static str)",
                    "{ metadata: ObjectMeta }",
                ]);
                let attr = if rng.chance(30) {
                    format!("{indent}#[serde({})]\n", rng.pick(SERDE_ATTRS))
                } else {
                    String::new()
                };
                let new = format!("{attr}{indent}{name}{shape},\n");
                desc = format!("variant line {}: {}", i + 1, short(new.trim()));
                lines[i] = new.into_bytes();
            }
        }
        // A line of one file into another (moves code between packages and files).
        28 => {
            let other = pick_file(rng, &m.files, false);
            let olines = lines_of(&m.files[&other]);
            if olines.is_empty() {
                desc = "graft: empty".into();
            } else {
                let a = rng.below(olines.len());
                let b = (a + 1 + rng.below(12)).min(olines.len());
                let i = insert_at(rng, &lines);
                desc = format!(
                    "graft lines {}..{} of {} at line {}",
                    a + 1,
                    b,
                    other.display(),
                    i + 1
                );
                for (k, l) in olines[a..b].iter().enumerate() {
                    lines.insert(i + k, l.clone());
                }
            }
        }
        // CRLF line endings, tabs, a BOM, a shebang.
        _ => {
            let s = String::from_utf8_lossy(&text).into_owned();
            let (d, new) = match rng.below(4) {
                0 => ("CRLF", s.replace('\n', "\r\n")),
                1 => ("tabs", s.replace("    ", "\t")),
                2 => ("BOM", format!("\u{feff}{s}")),
                _ => ("shebang", format!("#!/usr/bin/env run\n{s}")),
            };
            desc = d.to_string();
            lines = vec![new.into_bytes()];
        }
    }
    m.log.push(format!("{}: {desc}", path.display()));
    m.files.insert(path, lines.concat());
}

fn short(s: &str) -> String {
    let s = s.replace('\n', "⏎");
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle.

/// Writes a mutant under `root`, renders it, and returns what is wrong with the result.
fn check(corpus: &Corpus, mutant: &Mutant, root: &Path) -> Result<Outcome, String> {
    let _ = std::fs::remove_dir_all(root);
    for (rel, bytes) in &mutant.files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let input = root.join(&corpus.input);
    std::fs::create_dir_all(&input).unwrap();
    let mut config = Config::new();
    config
        .input(&input)
        .in_source_tree()
        .client_out(root.join("client"))
        .use_stamp(false)
        .emit_rerun_if_changed(false);
    let result = catch_unwind(AssertUnwindSafe(|| config.render()))
        .map_err(|p| format!("panicked: {}", panic_message(&*p)))?;
    match result {
        Ok((files, loaded)) => {
            check_diagnostics(&loaded.sources, &loaded.warnings)?;
            for f in &files {
                if f.path.extension().is_some_and(|e| e == "rs")
                    && let Err(e) = syn::parse_file(&f.text)
                {
                    return Err(format!(
                        "{} wrote Rust that does not parse ({e}): {}",
                        f.generator,
                        f.path.display()
                    ));
                }
            }
            Ok(Outcome::Rendered)
        }
        Err(Error::Diagnostics(failure)) => {
            check_diagnostics(&failure.sources, &failure.diagnostics)?;
            if !failure.diagnostics.iter().any(Diagnostic::is_error) {
                return Err("a failure without an error".into());
            }
            Ok(Outcome::Rejected(
                failure
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.code)
                    .collect(),
            ))
        }
        Err(e) => Err(format!("{e}")),
    }
}

enum Outcome {
    Rendered,
    Rejected(Vec<&'static str>),
}

/// Every span lies in its file, on character boundaries, and every diagnostic renders.
fn check_diagnostics(sources: &Sources, diags: &[Diagnostic]) -> Result<(), String> {
    for d in diags {
        let spans = d.span.iter().chain(d.secondary.iter().map(|(s, _)| s));
        for span in spans {
            let text = catch_unwind(AssertUnwindSafe(|| sources.text(span.file).to_string()))
                .map_err(|_| format!("{} {}: span in no file: {span:?}", d.code, d.message))?;
            if span.start > span.end
                || span.end > text.len()
                || !text.is_char_boundary(span.start)
                || !text.is_char_boundary(span.end)
            {
                return Err(format!(
                    "{} {}: span {}..{} outside its file of {} bytes or not on a character boundary",
                    d.code,
                    d.message,
                    span.start,
                    span.end,
                    text.len()
                ));
            }
            catch_unwind(AssertUnwindSafe(|| sources.location(*span)))
                .map_err(|p| format!("{}: location panicked: {}", d.code, panic_message(&*p)))?;
        }
        if d.span.is_none() && !matches!(d.code, "E0100" | "E0002") {
            return Err(format!(
                "{} {} has no span: say where the problem is",
                d.code, d.message
            ));
        }
        let rendered =
            catch_unwind(AssertUnwindSafe(|| sources.render(std::slice::from_ref(d))))
                .map_err(|p| format!("{}: rendering panicked: {}", d.code, panic_message(&*p)))?;
        if d.span.is_some() && !rendered.contains(" --> ") {
            return Err(format!(
                "{} {} has a span that does not render: {rendered}",
                d.code, d.message
            ));
        }
    }
    Ok(())
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic>".into())
}

// ---------------------------------------------------------------------------------------------

fn run_case(corpora: &[Corpus], seed: u64, root: &Path) -> (String, Result<Outcome, String>) {
    let mut rng = Rng::new(seed);
    let corpus = &corpora[rng.below(corpora.len())];
    let mut mutant = Mutant {
        files: corpus.files.clone(),
        log: Vec::new(),
    };
    let n = 1 + rng.below(4);
    for _ in 0..n {
        mutate(&mut rng, &mut mutant);
    }
    let result = check(corpus, &mutant, root);
    // Mutants that rendered, for compiling their output elsewhere (exploration).
    if let (Ok(Outcome::Rendered), Ok(dir)) = (&result, std::env::var("KUBE_CODEGEN_FUZZ_DUMP")) {
        let keep = Path::new(&dir).join(format!("{}-{seed}", corpus.name));
        let _ = std::fs::remove_dir_all(&keep);
        for (rel, bytes) in &mutant.files {
            let p = keep.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        std::fs::write(keep.join("MUTATIONS"), mutant.log.join("\n") + "\n").unwrap();
    }
    if result.is_err() {
        // Show the files that changed.
        let mut shown = String::new();
        for (rel, bytes) in &mutant.files {
            if corpus.files.get(rel) != Some(bytes) && bytes.len() < 20_000 {
                shown.push_str(&format!(
                    "--- {} ---\n{}\n",
                    rel.display(),
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
        if let Ok(dir) = std::env::var("KUBE_CODEGEN_FUZZ_KEEP") {
            let keep = Path::new(&dir).join(format!("seed-{seed}"));
            let _ = std::fs::remove_dir_all(&keep);
            for (rel, bytes) in &mutant.files {
                let p = keep.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
        }
        let log = format!(
            "seed {seed}, corpus {}:\n  {}\n{shown}",
            corpus.name,
            mutant.log.join("\n  ")
        );
        return (log, result);
    }
    (format!("{} {}", corpus.name, mutant.log.join("; ")), result)
}

#[test]
fn mutated_inputs_never_break_the_pipeline() {
    // syn, the model and prettyplease recurse as deep as the input nests; the checks here
    // (syn on the output) too: a thread with a large stack, as the library's own.
    std::thread::Builder::new()
        .stack_size(kube_codegen::STACK_BYTES)
        .spawn(fuzz)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
}

fn fuzz() {
    let corpora = corpora();
    let tmp = tempfile::tempdir().unwrap();
    let seeds: Vec<u64> = match std::env::var("KUBE_CODEGEN_FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("KUBE_CODEGEN_FUZZ_SEED is a number")],
        Err(_) => {
            let cases = std::env::var("KUBE_CODEGEN_FUZZ_CASES")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(CASES);
            let start = std::env::var("KUBE_CODEGEN_FUZZ_START")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            (start..start + cases).collect()
        }
    };
    // Panics are caught and reported with their case; the default hook would print each one
    // again from every thread.
    let quiet = std::env::var_os("KUBE_CODEGEN_FUZZ_VERBOSE").is_none();
    if quiet {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let mut failures = Vec::new();
    let (mut rendered, mut rejected) = (0, 0);
    let mut codes: BTreeMap<&'static str, usize> = BTreeMap::new();
    let started = std::time::Instant::now();
    for seed in seeds {
        let root = tmp.path().join("case");
        let (log, result) = run_case(&corpora, seed, &root);
        match result {
            Ok(Outcome::Rendered) => rendered += 1,
            Ok(Outcome::Rejected(c)) => {
                rejected += 1;
                for code in c {
                    *codes.entry(code).or_default() += 1;
                }
            }
            Err(e) => failures.push(format!("{e}\n{log}")),
        }
        if std::env::var_os("KUBE_CODEGEN_FUZZ_VERBOSE").is_some() {
            eprintln!("{log}");
        }
    }
    if quiet {
        let _ = std::panic::take_hook();
    }
    eprintln!(
        "fuzz: {rendered} rendered, {rejected} rejected ({codes:?}), {} failed, in {:.1?}",
        failures.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of the mutated inputs broke the pipeline:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The mutations must leave enough inputs valid to exercise the generators.
    assert!(
        rendered * 5 >= rendered + rejected || std::env::var_os("KUBE_CODEGEN_FUZZ_SEED").is_some(),
        "only {rendered} of {} mutants rendered: the mutations no longer reach the generators",
        rendered + rejected
    );
}
