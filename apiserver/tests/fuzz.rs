//! A seeded fuzz of the HTTP API: random request sequences from a grammar (methods, paths,
//! queries, headers, bodies — valid Alerts in both versions, mutated, and plain garbage) against
//! a server serving `pager.k8s.co` v1alpha1 and v1beta1, on the memory store and, for a few
//! cases, the embedded one. After every request:
//!
//! - nothing panicked, here or in a task the server spawned;
//! - no 5xx (but the 504 Go answers for a resourceVersion the store has not reached);
//! - a non-2xx JSON or YAML answer is a meta/v1 `Status` whose `code` is the HTTP status, with a
//!   message;
//! - a watch streams JSON lines, each a watch event;
//! - what is stored is intact: both versions list it, every item decodes as its version's
//!   typed Alert, names are unique, the list's resourceVersion is at least every item's, each
//!   object reads the same by name in both versions, and the two agree;
//! - a create, update or patch that succeeded reads back as it was answered.
//!
//! Deterministic: fixed seeds and a small internal PRNG. `FUZZ_SEED=<n>` runs one more case
//! from that seed, `FUZZ_CASES=<n>` more cases after the fixed ones (for longer hunts); a
//! failure names its case and step.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use apiserver::{ApiServer, Cause, Context, Resource, Strategy};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use futures::{FutureExt, StreamExt};
use http::{Method, Request, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use serde_json::{Value, json};
use tower::ServiceExt;

const GROUP: &str = "pager.k8s.co";
const VERSIONS: [&str; 2] = ["v1alpha1", "v1beta1"];
const TITLE: &str = "pager.k8s.co/title";

// ---------------------------------------------------------------------------------------------
// The PRNG (SplitMix64)
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `p` percent.
    fn chance(&mut self, p: u32) -> bool {
        self.below(100) < p as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// Validation and a selectable field on the hub, so selectors and 422s have work to do.
struct HubRules;

impl Strategy<pager::Alert> for HubRules {
    fn validate(&self, ctx: &Context<'_>, a: &pager::Alert) -> Vec<Cause> {
        if a.spec.content.len() > 2000 {
            let field = match ctx.version {
                "v1alpha1" => "spec.message",
                _ => "spec.content",
            };
            vec![Cause::new(
                "FieldValueTooLong",
                field,
                "Too long: may not be more than 2000 bytes",
            )]
        } else {
            Vec::new()
        }
    }
    fn selectable_fields(&self) -> &'static [&'static str] {
        &["spec.title"]
    }
    fn field_value(&self, a: &pager::Alert, f: &str) -> Option<String> {
        (f == "spec.title").then(|| a.spec.title.clone())
    }
}

fn router(store: AnyStore) -> axum::Router {
    ApiServer::builder(store)
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
                .strategy(HubRules),
        )
        .bookmark_interval(Duration::from_millis(50))
        // Requests from revisions still to come wait for them this long, not 3 s.
        .freshness_wait(Duration::from_millis(20))
        .build()
        .unwrap()
        .into_router()
}

// ---------------------------------------------------------------------------------------------
// Panics anywhere (the server's spawned tasks too)
// ---------------------------------------------------------------------------------------------

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.lock().unwrap().push(info.to_string());
            default(info);
        }));
    });
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Req {
    method: String,
    uri: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    /// Whether the request may open a watch (its body is read briefly, then dropped).
    watch: bool,
}

impl std::fmt::Display for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.uri)?;
        for (k, v) in &self.headers {
            write!(f, " [{k}: {}]", String::from_utf8_lossy(v))?;
        }
        let body = String::from_utf8_lossy(&self.body);
        if body.chars().count() > 300 {
            let head: String = body.chars().take(300).collect();
            write!(f, " body({} bytes): {head}…", self.body.len())
        } else {
            write!(f, " body: {body}")
        }
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
    /// Whether the body was still open when we stopped reading (a watch).
    open: bool,
}

impl Reply {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What a session knows: names it made, namespaces it used.
struct Model {
    names: Vec<String>,
    namespaces: BTreeSet<String>,
    /// The current resourceVersion of each stored object, by (namespace, name).
    rvs: BTreeMap<(String, String), String>,
}

const NAMES: [&str; 4] = ["a1", "a2", "a3", "b-1"];
const GOOD_NAMESPACES: [&str; 3] = ["default", "ns-b", "ns-c"];

fn gen_name(rng: &mut Rng, model: &Model) -> String {
    match rng.below(20) {
        0..=11 => rng.pick(&NAMES).to_string(),
        12..=13 if !model.names.is_empty() => rng.pick(&model.names).clone(),
        14 => rng
            .pick(&[
                "..", ".", "%2E%2E", "a%2Fb", "Bad_Name", "%ff", "%", "a%2525", "%C3%A9", "a%20b",
                "a%00", "-a", "a.", "%2e", "a%3Fb", "a%23",
            ])
            .to_string(),
        15 => "a".repeat(rng.pick(&[63, 64, 253, 254, 300, 5000]).to_owned()),
        16 => "a1".to_string() + "/",
        _ => rng.pick(&NAMES).to_string(),
    }
}

fn gen_namespace(rng: &mut Rng) -> String {
    match rng.below(12) {
        0..=8 => rng.pick(&GOOD_NAMESPACES).to_string(),
        _ => {
            rng.pick(&[
                "Bad_NS",
                "a.b",
                "%2F",
                "..",
                "ns%00",
                "ns%20x",
                "%C3%B1",
                "%zz",
                "-",
                "kube-system",
            ])
            .to_string()
                + if rng.chance(10) { "x" } else { "" }
        }
    }
}

fn gen_version(rng: &mut Rng) -> String {
    if rng.chance(92) {
        rng.pick(&VERSIONS).to_string()
    } else {
        rng.pick(&["v1", "v1alpha2", "", "V1alpha1", "v1beta1 "])
            .to_string()
    }
}

fn gen_group(rng: &mut Rng) -> String {
    if rng.chance(95) {
        GROUP.to_string()
    } else {
        rng.pick(&["PAGER.k8s.co", "pager.k8s.co.", "apps", "", "pager"])
            .to_string()
    }
}

fn gen_resource(rng: &mut Rng) -> String {
    if rng.chance(95) {
        "alerts".into()
    } else {
        rng.pick(&[
            "alert",
            "al",
            "Alerts",
            "alerts.pager.k8s.co",
            "pods",
            "alerts ",
        ])
        .to_string()
    }
}

/// A path, and whether it is the deprecated `/watch/` form.
fn gen_path(rng: &mut Rng, model: &Model) -> (String, bool) {
    let g = gen_group(rng);
    let v = gen_version(rng);
    let r = gen_resource(rng);
    let ns = gen_namespace(rng);
    let name = gen_name(rng, model);
    let base = format!("/apis/{g}/{v}");
    let path = match rng.below(40) {
        0..=9 => format!("{base}/namespaces/{ns}/{r}"),
        10..=21 => format!("{base}/namespaces/{ns}/{r}/{name}"),
        22..=25 => format!("{base}/namespaces/{ns}/{r}/{name}/status"),
        26..=27 => format!("{base}/{r}"),
        28 => format!("{base}/{r}/{name}"),
        29 => {
            return (
                if rng.chance(50) {
                    format!("{base}/watch/namespaces/{ns}/{r}")
                } else {
                    format!("{base}/watch/namespaces/{ns}/{r}/{name}")
                },
                true,
            );
        }
        30 => format!(
            "{base}/namespaces/{ns}/{r}/{name}/{}",
            rng.pick(&["scale", "status/x", "", "Status", "..", "proxy"])
        ),
        31 => rng
            .pick(&[
                "/api",
                "/api/v1",
                "/apis",
                "/apis/pager.k8s.co",
                "/apis/pager.k8s.co/v1beta1",
                "/apis/pager.k8s.co/v1alpha1",
                "/apis/pager.k8s.co/v9",
                "/apis/nope",
                "/version",
                "/version/",
                "/openapi/v2",
                "/openapi/v3",
                "/openapi/v3/apis/pager.k8s.co/v1alpha1",
                "/openapi/v3/apis/pager.k8s.co/v1beta1?hash=abc",
                "/openapi/v3/apis/pager.k8s.co/v9",
                "/openapi/v3/apis",
                "/openapi/v4",
                "/healthz",
                "/healthz/ping",
                "/healthz/x",
                "/livez?verbose",
                "/readyz/",
                "/readyz/storage",
                "/metrics",
                "/",
                "",
                "*",
            ])
            .to_string(),
        32 => format!("{base}/namespaces/{ns}"),
        33 => format!("{base}/namespaces"),
        34 => format!("{base}//namespaces/{ns}//{r}/{name}"),
        35 => format!("{base}/namespaces/{ns}/{r}/../{r}/{name}"),
        36 => format!("{base}/namespaces/{ns}/{r}/{name}/"),
        37 => format!(
            "/apis/{g}/{v}/namespaces/{ns}/{r}/{}",
            "%".to_string() + *rng.pick(&["", "4", "G1", "2", "FF%FE", "E2%82"])
        ),
        38 => format!("{base}/namespaces/{ns}/{r}/{name}/status/extra/more"),
        _ => format!("/apis/{g}/{v}/namespaces/{ns}/{r}/{name}?x=1#frag"),
    };
    (path, false)
}

fn gen_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 10 } else { 13 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!(-1),
        4 => json!(1.5),
        5 => json!(u64::MAX),
        6 => json!(""),
        7 => json!("x".repeat(rng.pick(&[1, 64, 254, 70_000]).to_owned())),
        8 => json!(rng.pick(&[
            "high",
            "low",
            "normal",
            "HIGH",
            "ünïcode",
            "a,b",
            "\u{0}",
            "a b"
        ])),
        9 => json!(rng.pick(&["2024-01-01T00:00:00Z", "yesterday", "0", "1", "-1"])),
        10 => Value::Array(
            (0..rng.below(4))
                .map(|_| gen_value(rng, depth + 1))
                .collect(),
        ),
        11 => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                let k = rng
                    .pick(&["a", "b", "x/y", "", "Bad Key", "a.b/c", "name", "uid"])
                    .to_string();
                m.insert(k, gen_value(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => json!({"a": {"b": [1, {"c": null}]}}),
    }
}

/// A valid alert in `version`, perhaps with labels, annotations, status.
fn valid_alert(rng: &mut Rng, version: &str, name: &str) -> Value {
    let mut o = json!({
        "apiVersion": format!("{GROUP}/{version}"),
        "kind": "Alert",
        "metadata": {"name": name},
    });
    let text = rng
        .pick(&["disk full", "m", "", "ünïcode ✓", "line\nbreak"])
        .to_string();
    o["spec"] = if version == "v1alpha1" {
        json!({"message": text})
    } else {
        json!({"content": text, "title": rng.pick(&["", "Disk", "T"]).to_string()})
    };
    if rng.chance(30) {
        o["spec"]["priority"] = json!(rng.pick(&["low", "normal", "high"]));
    }
    if rng.chance(30) {
        o["metadata"]["labels"] = json!({"team": rng.pick(&["ops", "dev", ""]), "tier": "1"});
    }
    if rng.chance(20) {
        o["metadata"]["annotations"] = json!({"note": "x"});
        if version == "v1alpha1" && rng.chance(30) {
            o["metadata"]["annotations"][TITLE] = json!("From annotation");
        }
    }
    if rng.chance(20) {
        o["status"] = json!({"sent": rng.chance(50)});
    }
    if rng.chance(10) {
        o["metadata"]["finalizers"] = json!(["example.com/hold"]);
    }
    if rng.chance(10) {
        o["metadata"].as_object_mut().unwrap().remove("name");
        o["metadata"]["generateName"] = json!("gen-");
    }
    o
}

const PATHS: [&str; 27] = [
    "spec",
    "spec.message",
    "spec.content",
    "spec.title",
    "spec.priority",
    "status",
    "status.sent",
    "metadata",
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.annotations",
    "metadata.finalizers",
    "metadata.ownerReferences",
    "metadata.managedFields",
    "metadata.creationTimestamp",
    "metadata.deletionTimestamp",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.generateName",
    "metadata.deletionGracePeriodSeconds",
    "metadata.selfLink",
    "apiVersion",
    "kind",
    "unknownField",
    "spec.unknown",
];

fn set_path(o: &mut Value, path: &str, v: Value) {
    let mut cur = o;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        if i + 1 == parts.len() {
            cur[*p] = v;
            return;
        }
        cur = cur.as_object_mut().unwrap().entry(*p).or_insert(json!({}));
    }
}

fn mutate(rng: &mut Rng, o: &mut Value) {
    for _ in 0..rng.below(3) + 1 {
        let path = *rng.pick(&PATHS);
        let v = match path {
            "metadata.ownerReferences" if rng.chance(60) => json!([{
                "apiVersion": rng.pick(&["v1", "apps/v1", "a/b/c", ""]),
                "kind": rng.pick(&["ConfigMap", ""]),
                "name": rng.pick(&["c", ""]),
                "uid": rng.pick(&["u1", ""]),
                "controller": gen_value(rng, 3),
                "blockOwnerDeletion": rng.chance(50),
            }]),
            "metadata.managedFields" if rng.chance(60) => json!([{
                "manager": rng.pick(&["m", "", "x".repeat(200).as_str()]).to_string(),
                "operation": rng.pick(&["Apply", "Update", "Bogus", ""]),
                "apiVersion": rng.pick(&["pager.k8s.co/v1alpha1", "v9", ""]),
                "fieldsType": rng.pick(&["FieldsV1", "FieldsV2", ""]),
                "fieldsV1": gen_value(rng, 1),
                "time": gen_value(rng, 3),
                "subresource": rng.pick(&["", "status", "x"]),
            }]),
            "metadata.labels" | "metadata.annotations" if rng.chance(60) => {
                let k = rng.pick(&["a", "Bad Key", "x/y/z", "example.com/k", TITLE, ""]);
                json!({ *k: gen_value(rng, 3) })
            }
            "metadata.finalizers" if rng.chance(60) => json!([rng.pick(&[
                "example.com/hold",
                "orphan",
                "foregroundDeletion",
                "kubernetes",
                "not valid",
                ""
            ])]),
            "apiVersion" if rng.chance(60) => json!(rng.pick(&[
                "pager.k8s.co/v1alpha1",
                "pager.k8s.co/v1beta1",
                "pager.k8s.co/v2",
                "v1",
                "apps/v1",
                "/",
                ""
            ])),
            "kind" if rng.chance(60) => {
                json!(rng.pick(&["Alert", "AlertList", "Pod", "Status", ""]))
            }
            _ => gen_value(rng, 0),
        };
        set_path(o, path, v);
    }
}

/// The JSON text of `v`, maybe damaged at the text level.
fn damage_text(rng: &mut Rng, v: &Value) -> Vec<u8> {
    let text = v.to_string();
    match rng.below(16) {
        0 => {
            // A duplicate key.
            let mut t = text.clone();
            if t.starts_with('{') {
                t.insert_str(
                    1,
                    r#""kind":"Alert","spec":{"message":"dup","content":"dup"},"#,
                );
            }
            t.into_bytes()
        }
        1 => text
            .replacen(
                "{",
                r#"{"n":1e999999,"i":123456789012345678901234567890,"#,
                1,
            )
            .into_bytes(),
        2 => {
            let n = rng.below(text.len().max(1));
            text.as_bytes()[..n].to_vec()
        }
        3 => {
            let mut b = text.into_bytes();
            let at = rng.below(b.len());
            b.insert(at, 0xFF);
            b
        }
        4 => {
            let mut b = vec![0xEF, 0xBB, 0xBF];
            b.extend(text.into_bytes());
            b
        }
        5 => (text + " trailing").into_bytes(),
        6 => text
            .replacen(r#""name":"#, r#""name":"a\ud800","x":"#, 1)
            .into_bytes(),
        _ => text.into_bytes(),
    }
}

fn deep_json(levels: usize, object: bool) -> Vec<u8> {
    let mut s = String::with_capacity(levels * 6 + 100);
    s.push_str(r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"deep"},"spec":"#);
    for _ in 0..levels {
        s.push_str(if object { r#"{"a":"# } else { "[" });
    }
    s.push('1');
    for _ in 0..levels {
        s.push(if object { '}' } else { ']' });
    }
    s.push('}');
    s.into_bytes()
}

fn deep_yaml(levels: usize, flow: bool) -> Vec<u8> {
    let mut s = String::from(
        "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: deep\nspec: ",
    );
    if flow {
        s.push_str(&"[".repeat(levels));
        s.push('1');
        s.push_str(&"]".repeat(levels));
        s.push('\n');
    } else {
        s.push('\n');
        for i in 0..levels.min(3000) {
            s.push_str(&" ".repeat(i + 2));
            s.push_str("a:\n");
        }
    }
    s.into_bytes()
}

fn to_yaml(rng: &mut Rng, v: &Value) -> Vec<u8> {
    let base = serde_saphyr::to_string(v).unwrap_or_default();
    if rng.chance(60) {
        return base.into_bytes();
    }
    match rng.below(8) {
        0 => format!("{base}---\n{base}").into_bytes(),
        1 => b"apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata: &m\n  name: a1\n  labels: &l {team: ops}\nspec:\n  message: *l\n"
            .to_vec(),
        2 => {
            // Aliases that expand a lot (a small "billion laughs").
            let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
            for i in 1..9 {
                let p = i - 1;
                s.push_str(&format!(
                    "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
                ));
            }
            s.push_str("apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata: {name: laughs}\nspec: {message: *a8}\n");
            s.into_bytes()
        }
        3 => format!("{base}\n: bad: [\n").into_bytes(),
        4 => format!("%YAML 1.2\n---\n{base}").into_bytes(),
        5 => format!("---\n---\n{base}").into_bytes(),
        6 => b"!!binary AAAA\n".to_vec(),
        _ => base.into_bytes(),
    }
}

fn gen_json_patch(rng: &mut Rng) -> Value {
    if rng.chance(3) {
        // Copies of a value into itself, doubling it each time.
        return (0..40)
            .map(|i| json!({"op": "copy", "from": "/metadata", "path": format!("/metadata/x{i}")}))
            .collect();
    }
    let mut ops = Vec::new();
    for _ in 0..rng.below(4) + 1 {
        let op = *rng.pick(&[
            "add", "remove", "replace", "move", "copy", "test", "bogus", "",
        ]);
        let path = *rng.pick(&[
            "/spec/message",
            "/spec/content",
            "/spec/title",
            "/spec",
            "/metadata/labels",
            "/metadata/labels/a",
            "/metadata/labels/~1x",
            "/metadata/annotations/pager.k8s.co~1title",
            "/metadata/name",
            "/metadata/namespace",
            "/metadata/finalizers/-",
            "/metadata/finalizers/0",
            "/metadata/finalizers/99999999999999999999",
            "/metadata/resourceVersion",
            "/metadata/uid",
            "/metadata",
            "/status/sent",
            "/kind",
            "/apiVersion",
            "",
            "/",
            "spec",
            "/~2",
            "/a/b/c",
            "/metadata/labels/-",
        ]);
        let mut o = json!({"op": op, "path": path});
        if rng.chance(80) {
            o["value"] = gen_value(rng, 1);
        }
        if matches!(op, "move" | "copy") || rng.chance(5) {
            o["from"] = json!(rng.pick(&["/spec", "/metadata", "/spec/message", "/", "", "/x"]));
        }
        if rng.chance(5) {
            o = gen_value(rng, 2);
        }
        ops.push(o);
    }
    if rng.chance(5) {
        return json!({"op": "add", "path": "/spec/message", "value": "x"});
    }
    Value::Array(ops)
}

fn gen_merge_patch(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => json!({"metadata": {"labels": null}}),
        1 => json!({"spec": null}),
        2 => json!({"metadata": null}),
        3 => json!({"apiVersion": "pager.k8s.co/v2"}),
        4 => json!({"kind": "Other"}),
        5 => json!({"metadata": {"name": "other"}}),
        6 => json!({"metadata": {"resourceVersion": "1"}}),
        7 => Value::Null,
        8 => json!([]),
        9 => json!("x"),
        10 => {
            json!({"metadata": {"finalizers": null, "$patch": "delete"}, "$retainKeys": ["spec"]})
        }
        11 => {
            json!({"$setElementOrder/finalizers": [{"x": 1}], "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
        }
        _ => {
            let mut o = json!({});
            mutate(rng, &mut o);
            o
        }
    }
}

fn gen_query(rng: &mut Rng) -> (String, bool) {
    let mut params: Vec<String> = Vec::new();
    let mut watch = false;
    let n = if rng.chance(40) { 0 } else { rng.below(5) + 1 };
    for _ in 0..n {
        let p = match rng.below(24) {
            0 => format!(
                "labelSelector={}",
                rng.pick(&[
                    "team%3Dops",
                    "team!%3Dops",
                    "team+in+(ops,dev)",
                    "team+notin+(ops)",
                    "!team",
                    "team",
                    "team%3D%3D",
                    "%3D%3D%3D",
                    "team+in+(",
                    "a%2Cb%2C",
                    "x%3D",
                    "Bad+Key%3Dv",
                    "team%3Dops,tier%3E1",
                    "tier%3E1",
                    "tier%3Cx",
                    "%ZZ",
                ])
            ),
            1 => format!(
                "fieldSelector={}",
                rng.pick(&[
                    "metadata.name%3Da1",
                    "metadata.name!%3Da1",
                    "metadata.namespace%3Ddefault",
                    "spec.title%3DDisk",
                    "spec.message%3Dx",
                    "status.sent%3Dtrue",
                    "metadata.name",
                    "%3D",
                    "metadata.name%3D%3Da1",
                    "metadata.name%3Da%5C",
                    "metadata.name%3Da1,metadata.name%3Da2",
                    "metadata.name+in+(a1)",
                ])
            ),
            2 => format!(
                "limit={}",
                rng.pick(&[
                    "1",
                    "2",
                    "0",
                    "-1",
                    "abc",
                    "99999999999999999999",
                    "1.5",
                    ""
                ])
            ),
            3 => format!(
                "continue={}",
                rng.pick(&[
                    "abc",
                    "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhIn0",
                    "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiLi4vIn0",
                    "%FF",
                    "e30",
                    "",
                ])
            ),
            4 => format!(
                "resourceVersion={}",
                rng.pick(&[
                    "0",
                    "1",
                    "",
                    "abc",
                    "-1",
                    "18446744073709551615",
                    "99999999",
                    "2"
                ])
            ),
            5 => format!(
                "resourceVersionMatch={}",
                rng.pick(&["NotOlderThan", "Exact", "exact", "Bogus", ""])
            ),
            6 | 7 => {
                watch = true;
                format!(
                    "watch={}",
                    rng.pick(&["true", "1", "", "false", "0", "yes", "TRUE"])
                )
            }
            8 => format!("allowWatchBookmarks={}", rng.pick(&["true", "false", "x"])),
            9 => format!(
                "timeoutSeconds={}",
                rng.pick(&["1", "0", "-5", "abc", "99999999999999999999", ""])
            ),
            10 => format!("sendInitialEvents={}", rng.pick(&["true", "false"])),
            11 => format!("dryRun={}", rng.pick(&["All", "all", "", "x"])),
            12 => format!(
                "fieldValidation={}",
                rng.pick(&["Strict", "Warn", "Ignore", "strict", ""])
            ),
            13 => format!(
                "fieldManager={}",
                rng.pick(&["fuzz", "", "a%00b", "m%0A", &"x".repeat(129)])
            ),
            14 => format!("force={}", rng.pick(&["true", "false", "x"])),
            15 => format!(
                "propagationPolicy={}",
                rng.pick(&["Orphan", "Foreground", "Background", "bogus", ""])
            ),
            16 => format!(
                "gracePeriodSeconds={}",
                rng.pick(&["0", "30", "-1", "x", "99999999999999999999"])
            ),
            17 => format!("pretty={}", rng.pick(&["true", "1", "false", "x"])),
            18 => format!(
                "includeObject={}",
                rng.pick(&["None", "Object", "Metadata", "Bogus"])
            ),
            19 => format!("timeout={}", rng.pick(&["10s", "1ms", "soon", "-1s", "0"])),
            20 => format!("orphanDependents={}", rng.pick(&["true", "false", "x"])),
            21 => rng
                .pick(&[
                    "%",
                    "=",
                    "&&",
                    "a=%zz",
                    "%FF=%FE",
                    "watch=true&watch=false",
                    "x",
                ])
                .to_string(),
            22 => format!("hash={}", rng.pick(&["abc", ""])),
            _ => "limit=1&limit=2".to_string(),
        };
        params.push(p);
    }
    if params.is_empty() {
        (String::new(), false)
    } else {
        (format!("?{}", params.join("&")), watch)
    }
}

const CONTENT_TYPES: [&str; 18] = [
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin1",
    "application/yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
    "garbage;;",
    "application/json;;=",
    "application/cbor",
    "*/*",
];

const ACCEPTS: [&str; 25] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadataList;v=v1beta1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io",
    "*/*",
    "application/*",
    "text/html",
    "application/json;as=Table;v=v9;g=meta.k8s.io",
    "application/json;as=Foo",
    ";;;",
    "application/json;q=0",
    "application/json, application/yaml;q=0.9",
    "application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io",
    "application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io",
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "",
];

fn gen_body(rng: &mut Rng, method: &str, ct: Option<&str>, model: &Model) -> Vec<u8> {
    if rng.chance(4) {
        return match rng.below(9) {
            0 => Vec::new(),
            1 => b"null".to_vec(),
            2 => {
                let n = rng.below(200);
                rng.bytes(n)
            }
            3 => deep_json(10_000, rng.chance(50)),
            4 => deep_yaml(10_000, rng.chance(50)),
            5 => {
                // A protobuf envelope with garbage after the magic.
                let mut b = b"k8s\0".to_vec();
                let n = rng.below(64);
                b.extend(rng.bytes(n));
                b
            }
            6 => json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "AlertList", "items": [valid_alert(rng, "v1alpha1", "l1")]}).to_string().into_bytes(),
            7 => json!({"kind": "Status", "apiVersion": "v1", "status": "Failure"}).to_string().into_bytes(),
            _ => "x".repeat(rng.pick(&[70_000usize, 3 * 1024 * 1024 + 1]).to_owned()).into_bytes(),
        };
    }
    let ct = ct.unwrap_or("");
    let version = *rng.pick(&VERSIONS);
    let name = gen_name(rng, model);
    match method {
        "PATCH" => {
            if ct.contains("json-patch") {
                let p = gen_json_patch(rng);
                damage_or_plain(rng, &p)
            } else if ct.contains("apply-patch") {
                let mut o = valid_alert(rng, version, &name);
                if rng.chance(40) {
                    mutate(rng, &mut o);
                }
                to_yaml(rng, &o)
            } else {
                let p = if rng.chance(50) {
                    gen_merge_patch(rng)
                } else {
                    let mut o = valid_alert(rng, version, &name);
                    o.as_object_mut().unwrap().remove("metadata");
                    o
                };
                if ct.contains("yaml") {
                    to_yaml(rng, &p)
                } else {
                    damage_or_plain(rng, &p)
                }
            }
        }
        "DELETE" => {
            if rng.chance(60) {
                return Vec::new();
            }
            let mut o = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
            if rng.chance(50) {
                o["propagationPolicy"] =
                    json!(rng.pick(&["Orphan", "Foreground", "Background", "x"]));
            }
            if rng.chance(40) {
                o["gracePeriodSeconds"] = gen_value(rng, 3);
            }
            if rng.chance(30) {
                o["preconditions"] =
                    json!({"uid": gen_value(rng, 3), "resourceVersion": gen_value(rng, 3)});
            }
            if rng.chance(20) {
                o["dryRun"] = json!(rng.pick(&[json!(["All"]), json!(["x"]), json!("All")]));
            }
            if rng.chance(20) {
                o["orphanDependents"] = gen_value(rng, 3);
            }
            if rng.chance(20) {
                mutate(rng, &mut o);
            }
            damage_or_plain(rng, &o)
        }
        _ => {
            let mut o = valid_alert(rng, version, &name);
            if rng.chance(45) {
                mutate(rng, &mut o);
            }
            if ct.contains("yaml") {
                to_yaml(rng, &o)
            } else {
                damage_or_plain(rng, &o)
            }
        }
    }
}

fn damage_or_plain(rng: &mut Rng, v: &Value) -> Vec<u8> {
    if rng.chance(25) {
        damage_text(rng, v)
    } else {
        v.to_string().into_bytes()
    }
}

/// A request: most start well-formed (a create, update, patch, read, watch or delete that the
/// server should take), then get a few faults; the rest are wild from the first byte.
fn gen_request(rng: &mut Rng, model: &Model) -> Req {
    if rng.chance(20) {
        return wild_request(rng, model);
    }
    let v = *rng.pick(&VERSIONS);
    let stored: Vec<&(String, String)> = model.rvs.keys().collect();
    let (ns, name) = if !stored.is_empty() && rng.chance(60) {
        let (ns, name) = *rng.pick(&stored);
        (ns.as_str(), name.clone())
    } else if !model.names.is_empty() && rng.chance(20) {
        (*rng.pick(&GOOD_NAMESPACES), rng.pick(&model.names).clone())
    } else {
        (*rng.pick(&GOOD_NAMESPACES), rng.pick(&NAMES).to_string())
    };
    let base = format!("/apis/{GROUP}/{v}/namespaces/{ns}/alerts");
    let item = format!("{base}/{name}");
    let mut query: Vec<String> = Vec::new();
    let mut ct: Option<&str> = None;
    let mut accept: Option<&str> = None;
    let mut body: Option<Value> = None;
    let mut yaml = false;
    let mut watch = false;
    let text = rng.pick(&["changed", "m", "ünï ✓", ""]).to_string();
    let spec_field = if v == "v1alpha1" {
        "message"
    } else {
        "content"
    };
    let (method, mut path) = match rng.below(100) {
        0..=24 => {
            yaml = rng.chance(15);
            ct = Some(if yaml {
                "application/yaml"
            } else {
                "application/json"
            });
            body = Some(valid_alert(rng, v, &name));
            ("POST", base.clone())
        }
        25..=37 => {
            yaml = rng.chance(10);
            ct = Some(if yaml {
                "application/yaml"
            } else {
                "application/json"
            });
            let mut o = valid_alert(rng, v, &name);
            o["metadata"]["name"] = json!(name);
            match model.rvs.get(&(ns.to_string(), name.clone())) {
                Some(rv) if rng.chance(85) => o["metadata"]["resourceVersion"] = json!(rv),
                _ if rng.chance(50) => {
                    o["metadata"]["resourceVersion"] = json!(rng.pick(&["1", "2", "999999"]))
                }
                _ => {}
            }
            body = Some(o);
            if rng.chance(25) {
                ("PUT", format!("{item}/status"))
            } else {
                ("PUT", item.clone())
            }
        }
        38..=54 => {
            let kind = rng.below(4);
            let patch = match kind {
                0 | 2 => match rng.below(5) {
                    0 => json!({"spec": {spec_field: text}}),
                    1 => json!({"metadata": {"labels": {"team": rng.pick(&["ops", "dev"])}}}),
                    2 => json!({"metadata": {"labels": null, "annotations": {"k": "v"}}}),
                    3 => json!({"status": {"sent": rng.chance(50)}}),
                    _ => json!({"metadata": {"finalizers": null}}),
                },
                1 => match rng.below(4) {
                    0 => {
                        json!([{"op": "replace", "path": format!("/spec/{spec_field}"), "value": text}])
                    }
                    1 => {
                        json!([{"op": "add", "path": "/metadata/labels", "value": {"team": "ops"}}])
                    }
                    2 => {
                        json!([{"op": "test", "path": "/metadata/name", "value": name}, {"op": "remove", "path": "/metadata/finalizers"}])
                    }
                    _ => {
                        json!([{"op": "add", "path": "/metadata/finalizers", "value": ["example.com/hold"]}])
                    }
                },
                _ => {
                    query.push("fieldManager=fuzz".into());
                    if rng.chance(30) {
                        query.push("force=true".into());
                    }
                    yaml = true;
                    valid_alert(rng, v, &name)
                }
            };
            if kind == 3 {
                let mut p = patch;
                p["metadata"]["name"] = json!(name);
                body = Some(p);
            } else {
                body = Some(patch);
            }
            ct = Some(match kind {
                0 => "application/merge-patch+json",
                1 => "application/json-patch+json",
                2 => "application/strategic-merge-patch+json",
                _ => "application/apply-patch+yaml",
            });
            if rng.chance(20) {
                ("PATCH", format!("{item}/status"))
            } else {
                ("PATCH", item.clone())
            }
        }
        55..=69 => {
            if rng.chance(40) {
                ("GET", item.clone())
            } else {
                for _ in 0..rng.below(3) {
                    query.push(
                        rng.pick(&[
                            "labelSelector=team%3Dops",
                            "labelSelector=team+in+(ops,dev),tier",
                            "fieldSelector=spec.title%3DDisk",
                            "fieldSelector=metadata.name%3Da1",
                            "limit=1",
                            "limit=2",
                            "resourceVersion=0",
                            "resourceVersion=1&resourceVersionMatch=NotOlderThan",
                        ])
                        .to_string(),
                    );
                }
                if rng.chance(20) {
                    ("GET", format!("/apis/{GROUP}/{v}/alerts"))
                } else {
                    ("GET", base.clone())
                }
            }
        }
        70..=77 => {
            watch = true;
            query.push("watch=true".into());
            query.push(
                rng.pick(&[
                    "timeoutSeconds=1",
                    "resourceVersion=0",
                    "allowWatchBookmarks=true",
                    "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
                    "labelSelector=team%3Dops",
                    "fieldSelector=metadata.name%3Da1",
                    "resourceVersion=1",
                ])
                .to_string(),
            );
            ("GET", base.clone())
        }
        78..=89 => {
            if rng.chance(30) {
                ct = Some("application/json");
                body = Some(json!({"kind": "DeleteOptions", "apiVersion": "v1",
                    "propagationPolicy": rng.pick(&["Orphan", "Foreground", "Background"])}));
            } else if rng.chance(20) {
                query.push("gracePeriodSeconds=0".into());
            }
            ("DELETE", item.clone())
        }
        90..=93 => {
            query.push(
                rng.pick(&[
                    "labelSelector=team%3Ddev",
                    "limit=1",
                    "fieldSelector=metadata.name%3Da2",
                ])
                .to_string(),
            );
            ("DELETE", base.clone())
        }
        _ => (
            "GET",
            rng.pick(&[
                "/apis",
                "/apis/pager.k8s.co/v1beta1",
                "/openapi/v3/apis/pager.k8s.co/v1alpha1",
                "/openapi/v2",
            ])
            .to_string(),
        ),
    };
    if rng.chance(15) {
        accept = Some(*rng.pick(&[
            "application/yaml",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            "application/vnd.kubernetes.protobuf",
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
        ]));
    }
    if rng.chance(5) {
        query.push("dryRun=All".into());
    }
    if rng.chance(5) {
        query.push("fieldValidation=Strict".into());
    }
    let mut method = method.to_string();
    let mut raw: Option<Vec<u8>> = None;
    let faults = if rng.chance(45) { 0 } else { rng.below(3) + 1 };
    for _ in 0..faults {
        match rng.below(8) {
            0 => {
                let (p, w) = gen_path(rng, model);
                path = p;
                watch |= w;
            }
            1 => {
                let (q, w) = gen_query(rng);
                if let Some(q) = q.strip_prefix('?') {
                    query.push(q.to_string());
                }
                watch |= w;
            }
            2 => ct = Some(*rng.pick(&CONTENT_TYPES)),
            3 => accept = Some(*rng.pick(&ACCEPTS)),
            4 => {
                if let Some(b) = body.as_mut() {
                    mutate(rng, b);
                } else {
                    body = Some(valid_alert(rng, v, &name));
                }
            }
            5 => raw = Some(gen_body(rng, &method, ct, model)),
            6 => {
                method = rng
                    .pick(&[
                        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND",
                    ])
                    .to_string()
            }
            _ => {
                if let Some(b) = &body
                    && !yaml
                {
                    raw = Some(damage_text(rng, b));
                }
            }
        }
    }
    let body = match (raw, body) {
        (Some(raw), _) => raw,
        (None, Some(b)) if yaml => to_yaml(rng, &b),
        (None, Some(b)) => b.to_string().into_bytes(),
        (None, None) => Vec::new(),
    };
    let mut headers = Vec::new();
    if let Some(ct) = ct {
        headers.push(("content-type", ct.as_bytes().to_vec()));
    }
    if let Some(a) = accept {
        headers.push(("accept", a.as_bytes().to_vec()));
    }
    let uri = match (path.contains('?'), query.is_empty()) {
        (_, true) => path,
        (true, false) => format!("{path}&{}", query.join("&")),
        (false, false) => format!("{path}?{}", query.join("&")),
    };
    Req {
        method,
        uri,
        headers,
        body,
        watch,
    }
}

fn wild_request(rng: &mut Rng, model: &Model) -> Req {
    let method = match rng.below(100) {
        0..=29 => "GET",
        30..=47 => "POST",
        48..=59 => "PUT",
        60..=76 => "PATCH",
        77..=86 => "DELETE",
        87..=89 => "HEAD",
        90..=92 => "OPTIONS",
        _ => *rng.pick(&["PROPFIND", "TRACE", "get", "CONNECT", "Patch", "WATCH"]),
    }
    .to_string();
    let (path, watch_path) = gen_path(rng, model);
    let (query, watch_query) = gen_query(rng);
    let uri = if path.contains('?') && !query.is_empty() {
        format!("{path}&{}", &query[1..])
    } else {
        format!("{path}{query}")
    };
    let mut headers = Vec::new();
    let ct = if rng.chance(90) {
        let ct = match method.as_str() {
            "PATCH" if rng.chance(75) => *rng.pick(&[
                "application/merge-patch+json",
                "application/json-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ]),
            "POST" | "PUT" if rng.chance(75) => {
                *rng.pick(&["application/json", "application/yaml"])
            }
            _ => *rng.pick(&CONTENT_TYPES),
        };
        Some(ct)
    } else {
        None
    };
    if let Some(ct) = ct {
        headers.push(("content-type", ct.as_bytes().to_vec()));
    }
    if rng.chance(40) {
        let accept = if rng.chance(3) {
            let mut b = b"application/".to_vec();
            b.extend([0xC3, 0xA9, b'x']);
            b
        } else {
            rng.pick(&ACCEPTS).as_bytes().to_vec()
        };
        headers.push(("accept", accept));
    }
    if rng.chance(5) {
        headers.push((
            "user-agent",
            rng.pick(&["curl/8", "kubectl/v1.32", "", "/x"])
                .as_bytes()
                .to_vec(),
        ));
    }
    let body = if matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") && rng.chance(90) {
        Vec::new()
    } else {
        gen_body(rng, &method, ct, model)
    };
    Req {
        watch: watch_path || watch_query,
        method,
        uri,
        headers,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// Sends `req`; `None` when it cannot be an HTTP request at all (a URI `http` refuses).
async fn send(app: &axum::Router, req: &mut Req) -> Option<Result<Reply, String>> {
    req.watch |= opens_watch(&req.uri);
    let method = Method::from_bytes(req.method.as_bytes()).ok()?;
    let mut b = Request::builder().method(method).uri(req.uri.as_str());
    for (k, v) in &req.headers {
        let v = http::HeaderValue::from_bytes(v).ok()?;
        b = b.header(*k, v);
    }
    let request = b.body(Body::from(req.body.clone())).ok()?;
    let answered = tokio::time::timeout(
        Duration::from_secs(10),
        AssertUnwindSafe(app.clone().oneshot(request)).catch_unwind(),
    )
    .await;
    let Ok(outcome) = answered else {
        return Some(Err("no answer within 10s".to_string()));
    };
    let resp = match outcome {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => return Some(Err(format!("service error: {e}"))),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Some(Err(format!("panicked: {msg}")));
        }
    };
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    // A watch is read for a moment; anything else must end promptly.
    let limit = if req.watch {
        Duration::from_millis(40)
    } else {
        Duration::from_secs(10)
    };
    let deadline = Instant::now() + limit;
    let mut stream = resp.into_body().into_data_stream();
    let mut body = Vec::new();
    let mut open = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(chunk))) => body.extend_from_slice(&chunk),
            Ok(Some(Err(e))) => return Some(Err(format!("body error: {e}"))),
            Ok(None) => break,
            Err(_) => {
                open = true;
                break;
            }
        }
    }
    if open && !req.watch {
        return Some(Err(format!(
            "the response ({status}) did not end within {limit:?}"
        )));
    }
    Some(Ok(Reply {
        status,
        content_type,
        body,
        open,
    }))
}

/// Whether the server reads `uri` as a watch: the first `watch` parameter, as Go's parameter
/// codec reads it, true unless `0` or `false`; or a `/watch/` path.
fn opens_watch(uri: &str) -> bool {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let first = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "watch"))
        .is_some_and(|(_, v)| !(v == "0" || v.eq_ignore_ascii_case("false")));
    first || uri.contains("/watch/")
}

/// A plain request (for the invariant checks).
async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

// ---------------------------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------------------------

/// The problems one answer shows.
fn check_reply(req: &Req, r: &Reply) -> Vec<String> {
    let mut problems = Vec::new();
    let code = r.status.as_u16();
    if code >= 500 {
        let too_large = code == 504
            && r.body
                .windows(26)
                .any(|w| w == b"Too large resource version");
        if !too_large {
            problems.push(format!("5xx: {code} {}", String::from_utf8_lossy(&r.body)));
        }
    }
    let head = req.method == "HEAD";
    if !r.status.is_success() && !head && code != 301 {
        let status: Option<Status> = if r.content_type.starts_with("application/json") {
            match serde_json::from_slice(&r.body) {
                Ok(s) => Some(s),
                Err(e) => {
                    problems.push(format!(
                        "a {code} JSON body that is no Status ({e}): {}",
                        String::from_utf8_lossy(&r.body)
                    ));
                    None
                }
            }
        } else if r.content_type.starts_with("application/yaml") {
            match serde_saphyr::from_slice::<Value>(&r.body)
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value::<Status>(v).map_err(|e| e.to_string()))
            {
                Ok(s) => Some(s),
                Err(e) => {
                    problems.push(format!("a {code} YAML body that is no Status ({e})"));
                    None
                }
            }
        } else if r
            .content_type
            .starts_with("application/vnd.kubernetes.protobuf")
        {
            None
        } else {
            problems.push(format!(
                "a {code} answered as {:?}: {}",
                r.content_type,
                String::from_utf8_lossy(&r.body)
            ));
            None
        };
        if let Some(s) = status {
            if s.code != Some(i32::from(code)) {
                problems.push(format!("Status code {:?} for HTTP {code}", s.code));
            }
            if s.message.as_deref().unwrap_or("").is_empty() {
                problems.push(format!("a {code} Status without a message"));
            }
            if s.status.as_deref() != Some("Failure") {
                problems.push(format!("a {code} Status with status {:?}", s.status));
            }
            if s.reason.as_deref().unwrap_or("").is_empty() {
                problems.push(format!("a {code} Status without a reason"));
            }
        }
    }
    // A watch's answer (not a document that a `watch` parameter did not make one).
    let events = r.body.starts_with(b"{\"type\"");
    if r.status.is_success()
        && req.watch
        && events
        && r.content_type.starts_with("application/json")
    {
        // JSON lines; the last may be cut when we stopped reading.
        let text = String::from_utf8_lossy(&r.body);
        let mut lines: Vec<&str> = text.split('\n').collect();
        let last = lines.pop().unwrap_or("");
        if !last.is_empty() && !r.open {
            problems.push(format!("a watch that ended mid-line: {last}"));
        }
        for line in lines {
            match serde_json::from_str::<Value>(line) {
                Ok(ev) if ev["type"].is_string() && ev["object"].is_object() => {
                    let o = &ev["object"];
                    let typed = match o["apiVersion"].as_str() {
                        _ if o["kind"] != "Alert" => None,
                        Some("pager.k8s.co/v1alpha1") => {
                            serde_json::from_value::<pager::v1alpha1::Alert>(o.clone()).err()
                        }
                        Some("pager.k8s.co/v1beta1") => {
                            serde_json::from_value::<pager::v1beta1::Alert>(o.clone()).err()
                        }
                        _ => None,
                    };
                    if let Some(e) = typed {
                        problems.push(format!(
                            "a watch event whose object is no Alert ({e}): {line}"
                        ));
                    }
                    if ev["type"] == "ERROR"
                        && serde_json::from_value::<Status>(ev["object"].clone()).is_err()
                    {
                        problems.push(format!("an ERROR event that is no Status: {line}"));
                    }
                }
                _ => problems.push(format!("a watch line that is no event: {line}")),
            }
        }
    }
    problems
}

fn rv_of(o: &Value) -> Option<u64> {
    o["metadata"]["resourceVersion"].as_str()?.parse().ok()
}

/// Everything stored is intact and the same in both versions.
async fn check_store(app: &axum::Router, model: &mut Model) -> Vec<String> {
    let namespaces = &model.namespaces;
    let mut problems = Vec::new();
    let mut by_version: Vec<BTreeMap<(String, String), Value>> = Vec::new();
    for v in VERSIONS {
        let uri = format!("/apis/{GROUP}/{v}/alerts");
        let (code, list) = get(app, &uri).await;
        if code != StatusCode::OK {
            problems.push(format!("LIST {uri}: {code} {list}"));
            return problems;
        }
        if list["kind"] != "AlertList" || list["apiVersion"] != format!("{GROUP}/{v}") {
            problems.push(format!(
                "LIST {uri}: kind/apiVersion {} {}",
                list["kind"], list["apiVersion"]
            ));
        }
        let list_rv: u64 = list["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                problems.push(format!("LIST {uri}: no resourceVersion"));
                0
            });
        let mut items = BTreeMap::new();
        for item in list["items"].as_array().cloned().unwrap_or_default() {
            let typed = if v == "v1alpha1" {
                serde_json::from_value::<pager::v1alpha1::Alert>(item.clone()).err()
            } else {
                serde_json::from_value::<pager::v1beta1::Alert>(item.clone()).err()
            };
            if let Some(e) = typed {
                problems.push(format!(
                    "LIST {uri}: an item that is no {v} Alert ({e}): {item}"
                ));
            }
            let ns = item["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
            match rv_of(&item) {
                Some(rv) if rv <= list_rv => {}
                rv => problems.push(format!(
                    "LIST {uri}: item {ns}/{name} at {rv:?}, list at {list_rv}"
                )),
            }
            if items.insert((ns.clone(), name.clone()), item).is_some() {
                problems.push(format!("LIST {uri}: {ns}/{name} twice"));
            }
        }
        // Each namespace's list is the all-namespaces list's share.
        for ns in namespaces {
            let uri = format!("/apis/{GROUP}/{v}/namespaces/{ns}/alerts");
            let (code, l) = get(app, &uri).await;
            if code != StatusCode::OK {
                problems.push(format!("LIST {uri}: {code} {l}"));
                continue;
            }
            let here: BTreeSet<String> = l["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect();
            let all: BTreeSet<String> = items
                .keys()
                .filter(|(n, _)| n == ns)
                .map(|(_, name)| name.clone())
                .collect();
            if here != all {
                problems.push(format!(
                    "LIST {uri}: {here:?}, but all namespaces say {all:?}"
                ));
            }
        }
        by_version.push(items);
    }
    let (alpha, beta) = (&by_version[0], &by_version[1]);
    model.rvs = alpha
        .iter()
        .filter_map(|(k, o)| {
            Some((
                k.clone(),
                o["metadata"]["resourceVersion"].as_str()?.to_string(),
            ))
        })
        .collect();
    if alpha.keys().ne(beta.keys()) {
        problems.push(format!(
            "the versions list different objects: {:?} vs {:?}",
            alpha.keys().collect::<Vec<_>>(),
            beta.keys().collect::<Vec<_>>()
        ));
        return problems;
    }
    problems.extend(check_queries(app, alpha, beta).await);
    for ((ns, name), a) in alpha {
        let b = &beta[&(ns.clone(), name.clone())];
        // Each reads by name as it lists.
        for (v, listed) in [("v1alpha1", a), ("v1beta1", b)] {
            let uri = format!("/apis/{GROUP}/{v}/namespaces/{ns}/alerts/{name}");
            let (code, got) = get(app, &uri).await;
            if code != StatusCode::OK || &got != listed {
                problems.push(format!("GET {uri}: {code} {got}, listed as {listed}"));
            }
        }
        problems.extend(compare_versions(a, b));
    }
    problems.extend(check_round_trip(app, alpha).await);
    problems
}

/// The names a list answers, following its continue tokens (`limit` a page).
async fn names_paged(app: &axum::Router, uri: &str, limit: usize) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let sep = if uri.contains('?') { '&' } else { '?' };
        let page_uri = match &token {
            Some(t) => format!("{uri}{sep}limit={limit}&continue={t}"),
            None => format!("{uri}{sep}limit={limit}"),
        };
        let (code, page) = get(app, &page_uri).await;
        if code != StatusCode::OK {
            return Err(format!("GET {page_uri}: {code} {page}"));
        }
        names.extend(page["items"].as_array().into_iter().flatten().map(|i| {
            format!(
                "{}/{}",
                i["metadata"]["namespace"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap_or("")
            )
        }));
        match page["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(names),
        }
    }
    Err(format!("{uri}: more than 100 pages"))
}

/// Paging and selectors select what they say, in both versions.
async fn check_queries(
    app: &axum::Router,
    alpha: &BTreeMap<(String, String), Value>,
    beta: &BTreeMap<(String, String), Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let key = |(ns, name): &(String, String)| format!("{ns}/{name}");
    for v in VERSIONS {
        let all: Vec<String> = alpha.keys().map(key).collect();
        let uri = format!("/apis/{GROUP}/{v}/alerts");
        match names_paged(app, &uri, 2).await {
            Ok(paged) if paged == all => {}
            Ok(paged) => problems.push(format!("{uri} paged by 2: {paged:?}, listed {all:?}")),
            Err(e) => problems.push(e),
        }
        let ops: Vec<String> = alpha
            .iter()
            .filter(|(_, o)| o["metadata"]["labels"]["team"] == "ops")
            .map(|(k, _)| key(k))
            .collect();
        let uri = format!("/apis/{GROUP}/{v}/alerts?labelSelector=team%3Dops");
        match names_paged(app, &uri, 1).await {
            Ok(got) if got == ops => {}
            Ok(got) => problems.push(format!("{uri}: {got:?}, expected {ops:?}")),
            Err(e) => problems.push(e),
        }
        let disk: Vec<String> = beta
            .iter()
            .filter(|(_, o)| o["spec"]["title"] == "Disk")
            .map(|(k, _)| key(k))
            .collect();
        let uri = format!("/apis/{GROUP}/{v}/alerts?fieldSelector=spec.title%3DDisk");
        match names_paged(app, &uri, 1).await {
            Ok(got) if got == disk => {}
            Ok(got) => problems.push(format!("{uri}: {got:?}, expected {disk:?}")),
            Err(e) => problems.push(e),
        }
    }
    problems
}

/// An object read in one version and written back unchanged (a PUT of what was read) is
/// unchanged, in both versions: nothing is lost converting through the hub.
async fn check_round_trip(
    app: &axum::Router,
    alpha: &BTreeMap<(String, String), Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    // The first object not being deleted (a PUT could finish its deletion).
    let Some((ns, name)) = alpha
        .iter()
        .find(|(_, o)| o["metadata"]["deletionTimestamp"].is_null())
        .map(|(k, _)| k.clone())
    else {
        return problems;
    };
    let strip = |o: &Value| {
        let mut o = o.clone();
        if let Some(m) = o["metadata"].as_object_mut() {
            m.remove("managedFields");
            m.remove("resourceVersion");
        }
        o
    };
    for (v, other) in [("v1alpha1", "v1beta1"), ("v1beta1", "v1alpha1")] {
        let uri = format!("/apis/{GROUP}/{v}/namespaces/{ns}/alerts/{name}");
        let other_uri = format!("/apis/{GROUP}/{other}/namespaces/{ns}/alerts/{name}");
        let (_, object) = get(app, &uri).await;
        let (_, was) = get(app, &other_uri).await;
        let req = Request::put(&uri)
            .header("content-type", "application/json")
            .body(Body::from(object.to_string()))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let code = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if code != StatusCode::OK {
            problems.push(format!("PUT {uri} of what was read: {code} {answer}"));
            continue;
        }
        if strip(&answer) != strip(&object) {
            problems.push(format!(
                "PUT {uri} of what was read changed it: {object} -> {answer}"
            ));
        }
        let (_, after) = get(app, &other_uri).await;
        if strip(&after) != strip(&was) {
            problems.push(format!(
                "a PUT of the {v} reading changed the {other} one: {was} -> {after}"
            ));
        }
    }
    problems
}

/// A v1alpha1 and a v1beta1 reading of one object agree.
fn compare_versions(a: &Value, b: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut ma, mut mb) = (a["metadata"].clone(), b["metadata"].clone());
    let title = b["spec"]["title"].as_str().unwrap_or("");
    // The annotation carries the title into v1alpha1, and only the title: it is conversion's
    // own, never stored (a client's is dropped on the way into the hub).
    let alpha_title = ma["annotations"][TITLE].as_str().map(str::to_string);
    if alpha_title.as_deref() != (!title.is_empty()).then_some(title) {
        problems.push(format!(
            "v1beta1 title {title:?}, v1alpha1 annotation {alpha_title:?}"
        ));
    }
    if !mb["annotations"][TITLE].is_null() {
        problems.push(format!("v1beta1 holds the round-trip annotation: {b}"));
    }
    for m in [&mut ma, &mut mb] {
        if let Some(ann) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(TITLE);
            if ann.is_empty() {
                m.as_object_mut().unwrap().remove("annotations");
            }
        }
    }
    if ma != mb {
        problems.push(format!("metadata differs by version: {ma} vs {mb}"));
    }
    if a["spec"]["message"] != b["spec"]["content"]
        || a["spec"]["priority"] != b["spec"]["priority"]
        || a["status"] != b["status"]
    {
        problems.push(format!("versions disagree: {a} vs {b}"));
    }
    problems
}

/// A write that succeeded reads back as answered.
async fn check_written(app: &axum::Router, req: &Req, r: &Reply) -> Vec<String> {
    let writes = matches!(req.method.as_str(), "POST" | "PUT" | "PATCH");
    if !writes
        || !r.status.is_success()
        || req.uri.contains("dryRun")
        || !r.content_type.starts_with("application/json")
    {
        return Vec::new();
    }
    let Some(answer) = r.json() else {
        return vec![format!(
            "a {} write answered {:?} that is no JSON",
            r.status, r.content_type
        )];
    };
    if answer["kind"] != "Alert" {
        return Vec::new();
    }
    let meta = &answer["metadata"];
    // An update that took the last finalizer off an object being deleted deleted it.
    if meta["deletionTimestamp"].is_string()
        && meta["finalizers"].as_array().is_none_or(|f| f.is_empty())
    {
        return Vec::new();
    }
    let Some(version) = answer["apiVersion"]
        .as_str()
        .and_then(|v| v.strip_prefix("pager.k8s.co/"))
    else {
        return vec![format!(
            "a write answered with apiVersion {}",
            answer["apiVersion"]
        )];
    };
    let (ns, name) = (
        meta["namespace"].as_str().unwrap_or(""),
        meta["name"].as_str().unwrap_or(""),
    );
    let uri = format!("/apis/{GROUP}/{version}/namespaces/{ns}/alerts/{name}");
    let (code, got) = get(app, &uri).await;
    if code != StatusCode::OK || got != answer {
        return vec![format!("written {answer}, read back {code} {got}")];
    }
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Findings {
    /// Answers by method and code, to see what the grammar reaches.
    stats: BTreeMap<(String, u16), usize>,
    /// By signature: (count, first example).
    seen: BTreeMap<String, (usize, String)>,
}

impl Findings {
    fn add(&mut self, case: &str, step: usize, req: &Req, problem: &str) {
        let signature: String = problem
            .chars()
            .take(90)
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let signature = format!("{} | {signature}", req.method);
        let entry = self.seen.entry(signature).or_insert((0, String::new()));
        if entry.0 == 0 {
            let problem: String = problem.chars().take(1500).collect();
            entry.1 = format!("{case} step {step}: {req}\n    => {problem}");
        }
        entry.0 += 1;
    }
}

async fn run_case(app: axum::Router, seed: u64, steps: usize, case: &str, findings: &mut Findings) {
    let mut rng = Rng(seed);
    let mut model = Model {
        names: Vec::new(),
        namespaces: GOOD_NAMESPACES.iter().map(|s| s.to_string()).collect(),
        rvs: BTreeMap::new(),
    };
    for step in 0..steps {
        let panics_before = PANICS.lock().unwrap().len();
        if rng.chance(8) {
            // A burst of writes at once, on the same few objects: they race.
            let mut reqs: Vec<Req> = (0..rng.below(3) + 2)
                .map(|_| gen_request(&mut rng, &model))
                .collect();
            let outcomes = futures::future::join_all(reqs.iter_mut().map(|r| {
                let app = app.clone();
                async move { send(&app, r).await }
            }))
            .await;
            let mut problems = Vec::new();
            for (req, outcome) in reqs.iter().zip(outcomes) {
                match outcome {
                    Some(Err(e)) => problems.push((req, e)),
                    Some(Ok(r)) => {
                        problems.extend(check_reply(req, &r).into_iter().map(|p| (req, p)))
                    }
                    None => {}
                }
            }
            let store = check_store(&app, &mut model).await;
            let panics: Vec<String> = PANICS.lock().unwrap()[panics_before..].to_vec();
            let first = &reqs[0];
            problems.extend(
                store
                    .into_iter()
                    .map(|p| (first, format!("after a burst: {p}"))),
            );
            problems.extend(panics.into_iter().map(|p| (first, format!("panic: {p}"))));
            for (req, p) in problems {
                findings.add(case, step, req, &p);
            }
            continue;
        }
        let mut req = gen_request(&mut rng, &model);
        let Some(outcome) = send(&app, &mut req).await else {
            continue;
        };
        let mut problems = match outcome {
            Err(e) => vec![e],
            Ok(r) => {
                *findings
                    .stats
                    .entry((req.method.clone(), r.status.as_u16()))
                    .or_default() += 1;
                if std::env::var_os("FUZZ_TRACE").is_some() {
                    let body: String = String::from_utf8_lossy(&r.body).chars().take(200).collect();
                    eprintln!("{case} {step}: {req}\n  -> {} {body}", r.status);
                }
                let mut p = check_reply(&req, &r);
                p.extend(check_written(&app, &req, &r).await);
                if r.status.is_success()
                    && let Some(v) = r.json()
                    && let Some(name) = v["metadata"]["name"].as_str()
                    && v["kind"] == "Alert"
                    && !model.names.iter().any(|n| n == name)
                {
                    model.names.push(name.to_string());
                }
                p
            }
        };
        // Let the server's tasks (watches) run, then look for their panics too.
        tokio::task::yield_now().await;
        problems.extend(check_store(&app, &mut model).await);
        let panics: Vec<String> = PANICS.lock().unwrap()[panics_before..].to_vec();
        problems.extend(panics.into_iter().map(|p| format!("panic: {p}")));
        for p in problems {
            findings.add(case, step, &req, &p);
        }
    }
}

fn report(findings: &Findings) {
    if findings.seen.is_empty() {
        return;
    }
    let mut out = String::new();
    for (count, example) in findings.seen.values() {
        out.push_str(&format!("\n[{count}x] {example}\n"));
    }
    panic!("{} kinds of failure:{out}", findings.seen.len());
}

/// Seeds of the memory-store cases, and steps each.
const MEMORY_CASES: u64 = 16;
const MEMORY_STEPS: usize = 60;
/// The embedded store's cases (slower: every write is a transaction on disk).
const EMBEDDED_CASES: u64 = 3;
const EMBEDDED_STEPS: usize = 40;

fn extra_seeds() -> Vec<u64> {
    let mut seeds = Vec::new();
    if let Some(s) = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()) {
        seeds.push(s);
    }
    if let Some(n) = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        seeds.extend((0..n).map(|i| 0xF00D_0000 + i));
    }
    seeds
}

#[tokio::test]
async fn random_requests_keep_the_api_and_the_store_sound() {
    record_panics();
    let started = Instant::now();
    let mut findings = Findings::default();
    let seeds: Vec<u64> = (1..=MEMORY_CASES).chain(extra_seeds()).collect();
    for seed in seeds {
        let app = router(AnyStore::Memory(MemoryStore::new()));
        run_case(
            app,
            seed,
            MEMORY_STEPS,
            &format!("memory seed {seed}"),
            &mut findings,
        )
        .await;
    }
    for seed in 1..=EMBEDDED_CASES {
        let dir = tempfile::tempdir().unwrap();
        let store = apiserver_storage::EmbeddedStore::open(dir.path().join("db")).unwrap();
        let app = router(AnyStore::Embedded(store));
        let seed = 1000 + seed;
        run_case(
            app,
            seed,
            EMBEDDED_STEPS,
            &format!("embedded seed {seed}"),
            &mut findings,
        )
        .await;
    }
    eprintln!(
        "fuzz: {:?}; answers: {:?}",
        started.elapsed(),
        findings.stats
    );
    report(&findings);
}
