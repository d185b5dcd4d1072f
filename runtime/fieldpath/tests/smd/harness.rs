//! The differential harness (included by `../differential.rs` and by the API server's pager
//! test): the same generated sequences of applies and updates go through this crate and through
//! sigs.k8s.io/structured-merge-diff (Debian's `golang-k8s-sigs-structured-merge-diff-dev`,
//! driven by `main.go` beside this file, built with Debian's Go), and after every step the
//! objects, every manager's field set and the conflicts must be the same.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kube_codegen_fieldpath::merge::{ManagedFields, VersionedSet};
use kube_codegen_fieldpath::{
    Atom, ConvertError, ListKind, Scalar, Schema, TypeRef, Typed, UpdateError, Updater, Versions,
};
use serde_json::{Map, Value, json};

const APPLIERS: [&str; 3] = ["apply-a", "apply-b", "apply-c"];
const UPDATERS: [&str; 2] = ["update-x", "update-y"];
const SMD_SOURCE: &str = "/usr/share/gocode/src/sigs.k8s.io/structured-merge-diff";

/// The schema in structured-merge-diff's own format (JSON is YAML).
fn smd_schema(defs: &Map<String, Value>, schema: &Schema) -> String {
    fn type_ref(schema: &Schema, tr: &TypeRef) -> Value {
        match tr {
            TypeRef::Named(name) => json!({"namedType": name}),
            TypeRef::Untyped => json!({"namedType": "__untyped_deduced_"}),
            TypeRef::Inline(atom) => atom_json(schema, atom),
        }
    }
    fn atom_json(schema: &Schema, atom: &Atom) -> Value {
        match atom {
            Atom::Scalar(s) => json!({"scalar": match s {
                Scalar::String => "string",
                Scalar::Numeric => "numeric",
                Scalar::Boolean => "boolean",
                Scalar::Untyped => "untyped",
            }}),
            Atom::List(list) => {
                let mut l = json!({"elementType": type_ref(schema, &list.element)});
                match &list.kind {
                    ListKind::Atomic => l["elementRelationship"] = json!("atomic"),
                    ListKind::Set => l["elementRelationship"] = json!("associative"),
                    ListKind::Map { keys } => {
                        l["elementRelationship"] = json!("associative");
                        l["keys"] = json!(keys);
                    }
                }
                json!({"list": l})
            }
            Atom::Map(map) => {
                let fields: Vec<Value> = map
                    .fields
                    .iter()
                    .map(|(name, f)| json!({"name": name, "type": type_ref(schema, &f.type_ref)}))
                    .collect();
                let mut m = json!({"fields": fields});
                if let Some(e) = &map.element {
                    m["elementType"] = type_ref(schema, e);
                }
                m["elementRelationship"] = json!(if map.atomic { "atomic" } else { "separable" });
                json!({"map": m})
            }
        }
    }
    let mut types = Vec::new();
    for name in defs.keys() {
        let tr = TypeRef::Named(name.clone());
        let mut t = atom_json(schema, schema.resolve(&tr).expect("defined"));
        t["name"] = json!(name);
        types.push(t);
    }
    types.push(json!({"name": "__untyped_atomic_", "scalar": "untyped",
        "list": {"elementType": {"namedType": "__untyped_atomic_"}, "elementRelationship": "atomic"},
        "map": {"elementType": {"namedType": "__untyped_atomic_"}, "elementRelationship": "atomic"}}));
    types.push(json!({"name": "__untyped_deduced_", "scalar": "untyped",
        "list": {"elementType": {"namedType": "__untyped_atomic_"}, "elementRelationship": "atomic"},
        "map": {"elementType": {"namedType": "__untyped_deduced_"}, "elementRelationship": "separable"}}));
    json!({"types": types}).to_string()
}

/// xorshift64*: a small deterministic generator (sequences are reproducible by seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Random values from small pools, so that managers collide on keys and values.
struct Gen<'a> {
    schema: &'a Schema,
}

impl Gen<'_> {
    fn scalar(&self, rng: &mut Rng, s: Scalar, name: &str) -> Value {
        match (s, name) {
            (Scalar::Numeric, "port") => json!(*rng.pick(&[80, 443])),
            (_, "protocol") => json!(*rng.pick(&["TCP", "UDP"])),
            (_, "name" | "type") => json!(*rng.pick(&["a", "b", "c"])),
            (Scalar::Numeric, _) => json!(rng.below(3)),
            (Scalar::Boolean, _) => json!(rng.chance(50)),
            _ => json!(*rng.pick(&["x", "y", "z"])),
        }
    }

    fn value(&self, rng: &mut Rng, tr: &TypeRef, name: &str, depth: usize) -> Value {
        match self.schema.resolve(tr).expect("resolves") {
            Atom::Scalar(s) => self.scalar(rng, *s, name),
            Atom::List(list) => {
                let n = rng.below(3);
                let mut items: Vec<Value> = Vec::new();
                for _ in 0..n {
                    let item = self.value(rng, &list.element, name, depth + 1);
                    let dup = match &list.kind {
                        ListKind::Atomic => false,
                        ListKind::Set => items.contains(&item),
                        ListKind::Map { keys } => items
                            .iter()
                            .any(|i| keys.iter().all(|k| i.get(k) == item.get(k))),
                    };
                    if !dup {
                        items.push(item);
                    }
                }
                Value::Array(items)
            }
            Atom::Map(map) => {
                let mut out = Map::new();
                if map.fields.is_empty() {
                    for _ in 0..rng.below(3) {
                        let key = rng.pick(&["k1", "k2", "k3"]).to_string();
                        let e = map.element.clone().unwrap_or(TypeRef::Untyped);
                        out.insert(key.clone(), self.value(rng, &e, &key, depth + 1));
                    }
                }
                for (field, f) in &map.fields {
                    // List-map keys are always given; other fields sometimes.
                    let is_key = matches!(field.as_str(), "port" | "protocol" | "uid")
                        || (field == "name" && depth > 0)
                        || field == "type";
                    if is_key || (depth < 4 && rng.chance(45)) {
                        out.insert(
                            field.clone(),
                            self.value(rng, &f.type_ref, field, depth + 1),
                        );
                    }
                }
                Value::Object(out)
            }
        }
    }

    /// `value` changed a little: fields dropped, changed and added, items too.
    fn mutate(
        &self,
        rng: &mut Rng,
        tr: &TypeRef,
        value: &Value,
        name: &str,
        depth: usize,
    ) -> Value {
        match (self.schema.resolve(tr).expect("resolves"), value) {
            (Atom::Map(map), Value::Object(entries)) if !map.atomic => {
                let mut out = Map::new();
                for (k, v) in entries {
                    let t = map.type_of(k).unwrap_or(TypeRef::Untyped);
                    let is_key = matches!(k.as_str(), "port" | "protocol" | "type" | "uid")
                        || (k == "name" && depth > 0);
                    if is_key {
                        out.insert(k.clone(), v.clone());
                    } else if rng.chance(15) {
                        continue;
                    } else if rng.chance(40) {
                        out.insert(k.clone(), self.mutate(rng, &t, v, k, depth + 1));
                    } else {
                        out.insert(k.clone(), v.clone());
                    }
                }
                if rng.chance(25) {
                    let fresh = self.value(rng, tr, name, depth);
                    if let Value::Object(fresh) = fresh {
                        for (k, v) in fresh {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
                Value::Object(out)
            }
            (Atom::List(list), Value::Array(items)) if list.kind != ListKind::Atomic => {
                let mut out: Vec<Value> = Vec::new();
                for item in items {
                    if rng.chance(20) {
                        continue;
                    }
                    out.push(if rng.chance(40) {
                        self.mutate(rng, &list.element, item, name, depth + 1)
                    } else {
                        item.clone()
                    });
                }
                if rng.chance(30) {
                    let item = self.value(rng, &list.element, name, depth + 1);
                    let dup = match &list.kind {
                        ListKind::Map { keys } => out
                            .iter()
                            .any(|i| keys.iter().all(|k| i.get(k) == item.get(k))),
                        _ => out.contains(&item),
                    };
                    if !dup {
                        out.push(item);
                    }
                }
                Value::Array(out)
            }
            _ if rng.chance(50) => self.value(rng, tr, name, depth),
            _ => value.clone(),
        }
    }
}

struct One<'a> {
    schema: &'a Schema,
    root: &'a TypeRef,
}

impl Versions for One<'_> {
    fn typed(&self, _: &str) -> Option<Typed<'_>> {
        Some(Typed::new(self.schema, self.root))
    }
    fn convert(&self, object: &Value, _: &str) -> Result<Value, ConvertError> {
        Ok(object.clone())
    }
}

/// Builds the Go harness once; `None` when Go or the library is not installed (outside CI).
/// The workspace root (`file!()` paths are relative to it).
fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").exists() {
        if !dir.pop() {
            break;
        }
    }
    dir
}

fn harness() -> Option<PathBuf> {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("smd-harness");
    let bin = tmp.join("smd-harness");
    let missing =
        Command::new("go").arg("version").output().is_err() || !Path::new(SMD_SOURCE).is_dir();
    if missing {
        assert!(
            std::env::var("CI").is_err(),
            "the differential test needs Debian's golang-go and golang-k8s-sigs-structured-merge-diff-dev (./test.sh installs them)"
        );
        eprintln!("skipping: go or {SMD_SOURCE} missing");
        return None;
    }
    let src = tmp.join("gopath/src");
    std::fs::create_dir_all(src.join("smdharness")).unwrap();
    std::fs::create_dir_all(src.join("sigs.k8s.io/structured-merge-diff")).unwrap();
    // Debian installs the v4 module at its GOPATH path without the major version.
    let link = src.join("sigs.k8s.io/structured-merge-diff/v4");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(SMD_SOURCE, &link).unwrap();
    }
    std::fs::copy(
        Path::new(file!())
            .parent()
            .map(|dir| workspace_root().join(dir).join("main.go"))
            .unwrap(),
        src.join("smdharness/main.go"),
    )
    .unwrap();
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(src.join("smdharness"))
        .env("GO111MODULE", "off")
        .env(
            "GOPATH",
            format!("{}:/usr/share/gocode", tmp.join("gopath").display()),
        )
        .env("GOCACHE", tmp.join("gocache"))
        .env("GOFLAGS", "")
        .status()
        .expect("go build");
    assert!(
        status.success(),
        "building the structured-merge-diff harness failed"
    );
    Some(bin)
}

#[derive(Debug, Clone)]
struct Op {
    apply: bool,
    manager: &'static str,
    object: Value,
    force: bool,
}

/// What one step left: the object, every manager's set (FieldsV1) and whether applied, and the
/// conflicts (manager, path) or an error.
#[derive(Debug)]
struct Step {
    object: Value,
    managers: Map<String, Value>,
    conflicts: Vec<(String, String)>,
    error: bool,
}

impl PartialEq for Step {
    /// Conflicts compare exactly, except where the reference's list repeats an entry:
    /// structured-merge-diff 4.1.2 builds conflicts from `Set::Iterate`, whose path buffer is
    /// reused, so two conflicts under one list item alias and both print the last path. Then
    /// only the managers and the number of conflicts can be compared.
    fn eq(&self, other: &Self) -> bool {
        let aliased = |c: &[(String, String)]| c.windows(2).any(|w| w[0] == w[1]);
        let conflicts = if aliased(&other.conflicts) || aliased(&self.conflicts) {
            let managers =
                |c: &[(String, String)]| c.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>();
            managers(&self.conflicts) == managers(&other.conflicts)
        } else {
            self.conflicts == other.conflicts
        };
        conflicts
            && self.object == other.object
            && self.managers == other.managers
            && self.error == other.error
    }
}

fn ours(schema: &Schema, root: &TypeRef, ops: &[Op]) -> Vec<Step> {
    let versions = One { schema, root };
    let updater = Updater::new(&versions);
    let mut live = json!({});
    let mut managers = ManagedFields::new();
    let mut out = Vec::new();
    for op in ops {
        let result = if op.apply {
            updater.apply(
                &live,
                &op.object,
                "v1",
                managers.clone(),
                op.manager,
                op.force,
            )
        } else {
            updater
                .update(&live, &op.object, "v1", managers.clone(), op.manager)
                .map(|m| (Some(op.object.clone()), m))
        };
        let mut conflicts = Vec::new();
        let mut error = false;
        match result {
            Ok((obj, m)) => {
                managers = m;
                if let Some(obj) = obj {
                    live = obj;
                }
            }
            Err(UpdateError::Conflicts(cs)) => {
                conflicts = cs
                    .iter()
                    .map(|c| {
                        (
                            c.manager.clone(),
                            kube_codegen_fieldpath::path::display_path(&c.path),
                        )
                    })
                    .collect();
                conflicts.sort();
            }
            Err(_) => error = true,
        }
        out.push(Step {
            object: live.clone(),
            managers: managers
                .iter()
                .map(|(name, VersionedSet { set, applied, .. })| {
                    (
                        name.clone(),
                        json!({"set": set.to_fields_v1(), "applied": applied}),
                    )
                })
                .collect(),
            conflicts,
            error,
        });
    }
    out
}

fn reference(harness: &Path, schema_yaml: &str, root: &str, ops: &[Op]) -> Vec<Step> {
    let input = json!({
        "schema": schema_yaml, "type": root, "version": "v1",
        "ops": ops.iter().map(|o| json!({
            "op": if o.apply { "apply" } else { "update" },
            "manager": o.manager, "object": o.object, "force": o.force
        })).collect::<Vec<_>>()
    });
    let mut child = Command::new(harness)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the harness failed on {input}");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    results
        .into_iter()
        .map(|r| {
            let mut conflicts: Vec<(String, String)> = r["conflicts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["manager"].as_str().unwrap().to_string(),
                        c["path"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            conflicts.sort();
            Step {
                object: r["object"].clone(),
                managers: r["managers"].as_object().cloned().unwrap_or_default(),
                conflicts,
                error: r.get("error").is_some(),
            }
        })
        .collect()
}

/// Runs `sequences` generated sequences of ten applies and updates over the type `root` of
/// `defs` through both implementations; `shape` trims each generated object (fields a test
/// leaves out). Returns (steps compared, steps with conflicts, steps refused, steps that
/// changed the object).
pub fn compare_sequences(
    defs: &Map<String, Value>,
    root_name: &str,
    sequences: u64,
    shape: &dyn Fn(&mut Value),
) -> Option<(usize, usize, usize, usize)> {
    let harness = harness()?;
    let schema = Schema::from_openapi(defs);
    let root = TypeRef::Named(root_name.into());
    let yaml = smd_schema(defs, &schema);
    let generator = Gen { schema: &schema };
    let mut compared = 0;
    let mut conflicts_seen = 0;
    let mut errors = 0;
    let mut changed = 0;
    for seed in 1..=sequences {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut ops = Vec::new();
        let mut live = json!({});
        for _ in 0..10 {
            let apply = rng.chance(65);
            let mut object = if apply {
                generator.value(&mut rng, &root, "", 0)
            } else {
                generator.mutate(&mut rng, &root, &live, "", 0)
            };
            shape(&mut object);
            ops.push(Op {
                apply,
                manager: if apply {
                    APPLIERS[rng.below(APPLIERS.len())]
                } else {
                    UPDATERS[rng.below(UPDATERS.len())]
                },
                object,
                force: apply && rng.chance(30),
            });
            live = ours(&schema, &root, &ops).last().unwrap().object.clone();
        }
        let mine = ours(&schema, &root, &ops);
        let theirs = reference(&harness, &yaml, root_name, &ops);
        for (i, (m, t)) in mine.iter().zip(&theirs).enumerate() {
            assert_eq!(
                m, t,
                "seed {seed}, step {i}: {:?}\nops so far: {}",
                ops[i],
                serde_json::to_string_pretty(&ops[..=i].iter().map(|o| json!({
                    "apply": o.apply, "manager": o.manager, "object": o.object, "force": o.force
                })).collect::<Vec<_>>()).unwrap()
            );
            compared += 1;
            conflicts_seen += usize::from(!m.conflicts.is_empty());
            errors += usize::from(m.error);
            changed += usize::from(i > 0 && m.object != mine[i - 1].object);
        }
    }
    Some((compared, conflicts_seen, errors, changed))
}
