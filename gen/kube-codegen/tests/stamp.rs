//! The no-op fast path (docs/0009-no-op-regeneration-stamp.md): a second run with nothing to do is
//! answered from the stamp; any change to inputs, options or outputs means a full run with the
//! right result; `verify` never trusts a stamp.

use std::path::{Path, PathBuf};

use kube_codegen::{Config, Error, Report};

const TYPES: &str = r#"use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A widget.
/// +genclient
#[derive(Debug, Default, PartialEq)]
pub struct Widget {
    pub metadata: ObjectMeta,
    pub spec: WidgetSpec,
}

#[derive(Debug, Default, PartialEq)]
pub struct WidgetSpec {
    pub size: i32,
}
"#;

struct Fixture {
    _tmp: tempfile::TempDir,
    apis: PathBuf,
    cache: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let apis = tmp.path().join("apis");
        write(
            &apis.join("widgets/mod.rs"),
            "//! +groupName=widgets.example.com\npub mod v1;\n",
        );
        write(
            &apis.join("widgets/v1/mod.rs"),
            "mod types;\npub use types::*;\ninclude!(\"zz_generated.register.rs\");\ninclude!(\"zz_generated.deepcopy.rs\");\n",
        );
        write(&apis.join("widgets/v1/types.rs"), TYPES);
        let cache = tmp.path().join("cache");
        Fixture {
            _tmp: tmp,
            apis,
            cache,
        }
    }

    /// A config writing beside the types, its stamps in this fixture's cache directory.
    fn config(&self) -> Config {
        let mut c = Config::new();
        c.input_at(&self.apis, "crate::apis")
            .in_source_tree()
            .stamp_dir(&self.cache);
        c
    }

    fn generate(&self) -> Report {
        self.config().generate().unwrap_or_else(|e| panic!("{e}"))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.apis.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn stamps(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.cache)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const REGISTER: &str = "widgets/v1/zz_generated.register.rs";
const DEEPCOPY: &str = "widgets/v1/zz_generated.deepcopy.rs";

/// Asserts a full run that wrote exactly `changed` (relative to `apis`).
/// Files a full run of the fixture generates (register, deepcopy, openapi, defaults).
const GENERATED: usize = 4;

fn assert_full(f: &Fixture, r: &Report, changed: &[&str], removed: &[&str]) {
    assert!(!r.from_stamp, "expected a full run: {r:?}");
    let rel = |ps: &[PathBuf]| -> Vec<String> {
        ps.iter()
            .map(|p| p.strip_prefix(&f.apis).unwrap().display().to_string())
            .collect()
    };
    assert_eq!(rel(&r.outcome.changed), changed, "{r:?}");
    assert_eq!(rel(&r.outcome.removed), removed, "{r:?}");
}

fn assert_fast(r: &Report, files: usize) {
    assert!(r.from_stamp, "expected the fast path: {r:?}");
    assert_eq!(r.files, files);
    assert_eq!(r.outcome.unchanged, files);
    assert!(r.outcome.is_clean());
}

#[test]
fn second_run_takes_the_fast_path_and_writes_nothing() {
    let f = Fixture::new();
    let first = f.generate();
    assert_full(
        &f,
        &first,
        &[
            DEEPCOPY,
            "widgets/v1/zz_generated.defaults.rs",
            "widgets/v1/zz_generated.openapi.rs",
            REGISTER,
        ],
        &[],
    );
    assert_eq!(f.stamps().len(), 1, "one stamp, in the cache directory");
    let mtime = std::fs::metadata(f.path(REGISTER))
        .unwrap()
        .modified()
        .unwrap();

    let second = f.generate();
    assert_fast(&second, GENERATED);
    assert_eq!(second.warnings, first.warnings);
    assert_eq!(
        std::fs::metadata(f.path(REGISTER))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
    // Nothing of the stamp in the source tree.
    let mut tree = Vec::new();
    list(&f.apis, &f.apis, &mut tree);
    assert_eq!(
        tree,
        [
            "widgets/mod.rs",
            "widgets/v1/mod.rs",
            "widgets/v1/types.rs",
            DEEPCOPY,
            "widgets/v1/zz_generated.defaults.rs",
            "widgets/v1/zz_generated.openapi.rs",
            REGISTER,
        ]
    );
}

fn list(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_type().unwrap().is_dir() {
            list(&e.path(), root, out);
        } else {
            out.push(e.path().strip_prefix(root).unwrap().display().to_string());
        }
    }
}

#[test]
fn warnings_are_replayed_from_the_stamp() {
    let f = Fixture::new();
    write(
        &f.path("widgets/v1/mod.rs"),
        "mod types;\npub use types::*;\ninclude!(\"zz_generated.register.rs\");\n",
    );
    let first = f.generate();
    assert!(
        first
            .warnings
            .contains("does not include the generated zz_generated.deepcopy.rs"),
        "{}",
        first.warnings
    );
    let second = f.generate();
    assert_fast(&second, GENERATED);
    assert_eq!(second.warnings, first.warnings);
}

#[test]
fn a_changed_or_new_input_file_means_a_full_run() {
    let f = Fixture::new();
    f.generate();
    write(
        &f.path("widgets/v1/types.rs"),
        &TYPES.replace("pub size: i32,", "pub size: i32,\n    pub colour: String,"),
    );
    let r = f.generate();
    assert_full(
        &f,
        &r,
        &[DEEPCOPY, "widgets/v1/zz_generated.openapi.rs"],
        &[],
    );
    assert!(f.read(DEEPCOPY).contains("colour"));
    assert_fast(&f.generate(), GENERATED);

    // A new file that holds a new kind.
    write(
        &f.path("widgets/v1/gadget.rs"),
        "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n/// +genclient\n#[derive(Debug, Default)]\npub struct Gadget {\n    pub metadata: ObjectMeta,\n}\n",
    );
    write(
        &f.path("widgets/v1/mod.rs"),
        "mod types;\nmod gadget;\npub use types::*;\npub use gadget::*;\ninclude!(\"zz_generated.register.rs\");\ninclude!(\"zz_generated.deepcopy.rs\");\n",
    );
    let r = f.generate();
    assert!(!r.from_stamp);
    assert!(f.read(REGISTER).contains("Gadget"), "{}", f.read(REGISTER));
    assert_fast(&f.generate(), GENERATED);
}

#[test]
fn a_deleted_or_edited_output_is_regenerated() {
    let f = Fixture::new();
    f.generate();
    let good = f.read(REGISTER);

    std::fs::remove_file(f.path(REGISTER)).unwrap();
    assert_full(&f, &f.generate(), &[REGISTER], &[]);
    assert_eq!(f.read(REGISTER), good);

    // Same length, different bytes.
    let edited = good.replacen("Widget", "Wodget", 1);
    assert_eq!(edited.len(), good.len());
    std::fs::write(f.path(REGISTER), &edited).unwrap();
    assert_full(&f, &f.generate(), &[REGISTER], &[]);
    assert_eq!(f.read(REGISTER), good);

    assert_fast(&f.generate(), GENERATED);
}

#[test]
fn a_new_stale_generated_file_is_removed() {
    let f = Fixture::new();
    f.generate();
    let stale = "widgets/v2/zz_generated.register.rs";
    write(
        &f.path(stale),
        "// Code generated by kube-codegen. DO NOT EDIT.\n// kube-codegen generator: register-gen\n",
    );
    assert_full(&f, &f.generate(), &[], &[stale]);
    assert!(!f.path(stale).exists());
    assert_fast(&f.generate(), GENERATED);

    // Another generator's file (not part of this run) is not stale: the fast path still applies.
    write(
        &f.path("widgets/v1/zz_generated.client.rs"),
        "// Code generated by kube-codegen. DO NOT EDIT.\n// kube-codegen generator: client-gen\n",
    );
    assert_fast(&f.generate(), GENERATED);
}

#[test]
fn changed_options_mean_a_full_run() {
    let f = Fixture::new();
    f.generate();

    // `only`: a different selection is a different configuration.
    let mut only = f.config();
    only.only(&["deepcopy"]);
    let r = only.generate().unwrap();
    assert!(!r.from_stamp);
    assert_eq!((r.files, r.outcome.unchanged), (1, 1));
    assert_fast(&only.generate().unwrap(), 1);

    // Each configuration keeps its own stamp; the disk still matches the first one's.
    assert_fast(&f.generate(), GENERATED);

    // Crate path overrides change the output.
    let mut crates = f.config();
    crates.crates(kube_codegen::model::output::Crates {
        scheme: "::my_scheme".into(),
        ..Default::default()
    });
    let r = crates.generate().unwrap();
    assert!(!r.from_stamp);
    assert!(!r.outcome.changed.is_empty());
    assert!(f.read(REGISTER).contains("my_scheme"));
    assert_fast(&crates.generate().unwrap(), GENERATED);

    // Back to the defaults: the files differ from its stamp, so a full run restores them.
    let r = f.generate();
    assert!(!r.from_stamp);
    assert!(!f.read(REGISTER).contains("my_scheme"));

    // Another output directory.
    let out = f.apis.parent().unwrap().join("out");
    let mut elsewhere = f.config();
    elsewhere.out_dir(&out);
    let r = elsewhere.generate().unwrap();
    assert!(!r.from_stamp);
    assert_eq!(r.outcome.changed.len(), GENERATED);
    assert!(out.join(REGISTER).exists());
    assert_fast(&elsewhere.generate().unwrap(), GENERATED);
}

#[test]
fn verify_never_trusts_the_stamp() {
    let f = Fixture::new();
    f.generate();
    assert_fast(&f.generate(), GENERATED);
    let clean = f.config().verify().unwrap();
    assert!(!clean.from_stamp);

    std::fs::write(
        f.path(REGISTER),
        "// Code generated by kube-codegen. DO NOT EDIT.\n// kube-codegen generator: register-gen\n// edited by hand\n",
    )
    .unwrap();
    match f.config().verify() {
        Err(Error::Verify { outcome: o, .. }) => assert_eq!(o.changed, [f.path(REGISTER)]),
        other => panic!("verify must fail: {other:?}"),
    }
    assert!(
        f.read(REGISTER).contains("edited by hand"),
        "verify writes nothing"
    );
}

#[test]
fn use_stamp_false_always_runs_every_phase() {
    let f = Fixture::new();
    let mut c = f.config();
    c.use_stamp(false);
    c.generate().unwrap();
    let r = c.generate().unwrap();
    assert!(!r.from_stamp);
    assert_eq!(r.outcome.unchanged, GENERATED);
    assert!(f.stamps().is_empty(), "{:?}", f.stamps());
}

#[test]
fn a_corrupt_or_unwritable_stamp_only_costs_a_full_run() {
    let f = Fixture::new();
    f.generate();
    let [stamp] = &f.stamps()[..] else {
        panic!("{:?}", f.stamps())
    };
    let mut bytes = std::fs::read(stamp).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(stamp, &bytes).unwrap();
    let r = f.generate();
    assert!(!r.from_stamp);
    assert_eq!(r.outcome.unchanged, GENERATED);
    assert_fast(&f.generate(), GENERATED);

    std::fs::write(stamp, b"").unwrap();
    assert!(!f.generate().from_stamp);

    // A stamp directory that cannot be created: runs still succeed.
    let blocked = f.apis.parent().unwrap().join("blocked");
    std::fs::write(&blocked, "a file, not a directory").unwrap();
    let mut c = f.config();
    c.stamp_dir(blocked.join("stamps"));
    let r = c.generate().unwrap();
    assert!(!r.from_stamp);
    assert!(!c.generate().unwrap().from_stamp);
}

#[test]
fn the_crate_manifest_is_part_of_the_key() {
    // Without a module path, the crate layout decides module paths: a changed Cargo.toml means a
    // full run.
    let f = Fixture::new();
    let root = f.apis.parent().unwrap();
    write(
        &root.join("Cargo.toml"),
        "[package]\nname = \"widgets\"\n\n[lib]\npath = \"lib.rs\"\n",
    );
    let mut c = Config::new();
    c.input(&f.apis).in_source_tree().stamp_dir(&f.cache);
    assert!(!c.generate().unwrap().from_stamp);
    assert_fast(&c.generate().unwrap(), GENERATED);
    write(
        &root.join("Cargo.toml"),
        "[package]\nname = \"gadgets\"\n\n[lib]\npath = \"lib.rs\"\n",
    );
    let r = c.generate().unwrap();
    assert!(!r.from_stamp);
    assert_fast(&c.generate().unwrap(), GENERATED);
}
