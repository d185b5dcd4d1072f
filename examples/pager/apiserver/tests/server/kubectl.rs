//! kubectl as the judge: the real `kubectl` on the PATH against a running `pager-apiserver`
//! through a generated kubeconfig. Every command's outcome is asserted, not just its exit code.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use crate::etcd_process as etcd;
use common::Server;

/// kubectl with its own kubeconfig and discovery cache.
struct Kubectl {
    bin: String,
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(bin: &str, server: &Server) -> Kubectl {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: pager\n  cluster:\n    server: http://{}\nusers:\n- name: dev\n  user: {{}}\ncontexts:\n- name: pager\n  context: {{cluster: pager, user: dev, namespace: default}}\ncurrent-context: pager\n",
            server.addr
        );
        std::fs::write(dir.path().join("kubeconfig"), config).unwrap();
        Kubectl {
            bin: bin.to_string(),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.path("cache"))
            .args(args)
            .env_remove("KUBECONFIG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run kubectl")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{} {args:?} failed:\nstdout: {}\nstderr: {}",
            self.bin,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

fn kubectl_available(bin: &str) -> bool {
    let found = Command::new(bin)
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!(
            "{bin} is not installed; CI never skips a component (run ./test.sh as root to install it)"
        );
    }
    found
}

/// Alerts addressed in v1alpha1 (`kubectl` uses the preferred version, v1beta1, otherwise).
const V1ALPHA1: &str = "alerts.v1alpha1.pager.k8s.co";

const ALERT_A1: &str = "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: a1\n  labels:\n    team: sre\nspec:\n  message: \"Hello KubeCon :wave:\"\n";

#[test]
fn kubectl_session() {
    if !kubectl_available("kubectl") {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    session(Server::start(&["--storage", "memory"]));
}

/// The same kubectl session with the server on a real etcd.
#[test]
fn kubectl_session_on_etcd() {
    if !kubectl_available("kubectl") {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    let etcd = etcd::Etcd::start();
    let endpoint = etcd.client_url();
    session(Server::start(&[
        "--storage",
        "etcd",
        "--etcd-servers",
        &endpoint,
    ]));
}

fn session(server: Server) {
    session_with("kubectl", server)
}

fn session_with(bin: &str, server: Server) {
    let k = Kubectl::new(bin, &server);

    // Discovery.
    let versions = k.ok(&["api-versions"]);
    for v in ["pager.k8s.co/v1alpha1", "pager.k8s.co/v1beta1"] {
        assert!(versions.lines().any(|l| l == v), "{versions}");
    }
    let resources = k.ok(&["api-resources", "--api-group=pager.k8s.co"]);
    let line = resources
        .lines()
        .find(|l| l.starts_with("alerts"))
        .unwrap_or_else(|| panic!("{resources}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols,
        ["alerts", "al", "pager.k8s.co/v1beta1", "true", "Alert"],
        "the preferred version: {resources}"
    );

    // create -f (with default, server-side validation) and get as a table.
    let a1 = k.write("a1.yaml", ALERT_A1);
    let out = k.ok(&["create", "-f", &a1]);
    assert_eq!(out.trim(), "alert.pager.k8s.co/a1 created");
    let table = k.ok(&["get", "alerts"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "TITLE", "SENT", "AGE"],
        "v1beta1's columns: {table}"
    );
    let line = lines.next().unwrap();
    let row: Vec<&str> = line.split_whitespace().collect();
    // Created in v1alpha1 (no title): the default-title admission plugin gave it the first line
    // of its message; without status, SENT is empty.
    assert_eq!(row[0], "a1");
    assert!(line.contains("Hello KubeCon :wave:"), "{table}");
    assert!(row.last().unwrap().ends_with('s'), "{table}");
    let short = k.ok(&["get", "al", "a1", "-o", "name"]);
    assert_eq!(short.trim(), "alert.pager.k8s.co/a1");

    // get -o yaml|json, in both versions: created as v1alpha1, read as v1beta1 and back.
    let yaml = k.ok(&["get", V1ALPHA1, "a1", "-o", "yaml"]);
    assert!(
        yaml.contains("message: 'Hello KubeCon :wave:'")
            || yaml.contains("message: Hello KubeCon :wave:"),
        "{yaml}"
    );
    let beta = k.json(&["get", "alert", "a1"]);
    assert_eq!(beta["apiVersion"], "pager.k8s.co/v1beta1");
    assert_eq!(beta["spec"]["content"], "Hello KubeCon :wave:");
    let obj = k.json(&["get", V1ALPHA1, "a1"]);
    assert_eq!(obj["apiVersion"], "pager.k8s.co/v1alpha1");
    assert_eq!(
        obj["metadata"]["resourceVersion"],
        beta["metadata"]["resourceVersion"]
    );
    assert_eq!(obj["metadata"]["generation"], 1);
    assert!(obj["metadata"]["uid"].is_string());

    // What `get -o yaml` saved (a `kind: List`) applies and replaces back: client-go maps the
    // List kind only when discovery has the core `v1`, which the server lists with no resources.
    let saved = k.write("saved.yaml", &k.ok(&["get", "alerts", "-o", "yaml"]));
    let out = k.ok(&["replace", "-f", &saved]);
    assert_eq!(out.trim(), "alert.pager.k8s.co/a1 replaced");
    let saved = k.write("saved.yaml", &k.ok(&["get", "alerts", "-o", "yaml"]));
    let out = k.ok(&["apply", "-f", &saved]);
    assert_eq!(out.trim(), "alert.pager.k8s.co/a1 configured");
    assert!(k.ok(&["api-versions"]).lines().any(|l| l == "v1"));

    // Strict validation rejects unknown fields; --validate=false lets them through (dropped).
    let bad = k.write("bad.yaml", "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: bad\nspec:\n  message: m\n  bogus: 1\n");
    let o = k.run(&["create", "-f", &bad, "--validate=strict"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown field \"spec.bogus\""), "{err}");
    let o = k.run(&["create", "-f", &bad]);
    assert!(!o.status.success(), "default validation is strict");
    k.ok(&["create", "-f", &bad, "--validate=false"]);
    assert!(
        k.json(&["get", "alert", "bad"])["spec"]
            .get("bogus")
            .is_none()
    );

    // Invalid objects: 422 with the field.
    let empty = k.write("empty.yaml", "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: empty\nspec:\n  message: \"\"\n");
    let o = k.run(&["create", "-f", &empty]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("spec.message: Required value"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // explain prints field docs from each version's OpenAPI v3 document.
    let explain = k.ok(&[
        "explain",
        "alerts.spec",
        "--api-version=pager.k8s.co/v1alpha1",
    ]);
    assert!(
        explain.contains("message") && explain.contains("The text of the alert."),
        "{explain}"
    );
    let explain = k.ok(&[
        "explain",
        "alerts.spec",
        "--api-version=pager.k8s.co/v1beta1",
    ]);
    assert!(
        explain.contains("title")
            && explain.contains("content")
            && explain.contains("Title of the notification.")
            && !explain.contains("message"),
        "{explain}"
    );
    let explain = k.ok(&["explain", "alerts.status.sent"]);
    assert!(
        explain.contains("Whether the alert has been sent."),
        "{explain}"
    );

    // describe.
    let described = k.ok(&["describe", "alert", "a1"]);
    assert!(
        described.contains("Name:")
            && described.contains("a1")
            && described.contains("Hello KubeCon"),
        "{described}"
    );

    // get -w sees a later change.
    let mut watch = k
        .command(&["get", "alerts", "-w", "--request-timeout=30s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let watch_out = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(watch_out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait for the initial listing, then change something.
    wait_for(&rx, |l| l.starts_with("a1 "));
    k.ok(&["label", "alert", "a1", "seen=yes"]);
    k.ok(&["annotate", "alert", "a1", "note=watched"]);
    let obj = k.json(&["get", "alert", "a1"]);
    assert_eq!(obj["metadata"]["labels"]["seen"], "yes");
    assert_eq!(obj["metadata"]["annotations"]["note"], "watched");
    k.ok(&[
        "patch",
        "alert",
        "a1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"sent":true}}"#,
    ]);
    wait_for(&rx, |l| l.starts_with("a1 ") && l.contains("true"));
    let _ = watch.kill();
    let _ = watch.wait();

    // apply twice with a change: the second is a patch.
    let applied = k.write("applied.yaml", "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: applied\nspec:\n  message: first\n");
    assert_eq!(
        k.ok(&["apply", "-f", &applied]).trim(),
        "alert.pager.k8s.co/applied created"
    );
    std::fs::write(&applied, "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: applied\nspec:\n  message: second\n").unwrap();
    assert_eq!(
        k.ok(&["apply", "-f", &applied]).trim(),
        "alert.pager.k8s.co/applied configured"
    );
    let obj = k.json(&["get", V1ALPHA1, "applied"]);
    assert_eq!(obj["spec"]["message"], "second");
    assert_eq!(obj["metadata"]["generation"], 2);
    assert!(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    // patch: strategic (kubectl's default), merge and json.
    k.ok(&[
        "patch",
        V1ALPHA1,
        "applied",
        "-p",
        r#"{"spec":{"message":"strategic"}}"#,
    ]);
    assert_eq!(
        k.json(&["get", V1ALPHA1, "applied"])["spec"]["message"],
        "strategic"
    );
    k.ok(&[
        "patch",
        V1ALPHA1,
        "applied",
        "--type=merge",
        "-p",
        r#"{"spec":{"message":"merge"}}"#,
    ]);
    assert_eq!(
        k.json(&["get", V1ALPHA1, "applied"])["spec"]["message"],
        "merge"
    );
    k.ok(&[
        "patch",
        V1ALPHA1,
        "applied",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/message","value":"json"}]"#,
    ]);
    assert_eq!(
        k.json(&["get", V1ALPHA1, "applied"])["spec"]["message"],
        "json"
    );

    // edit with EDITOR set to a script.
    let editor = k.path("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/message: json/message: edited/' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = k
        .command(&["edit", V1ALPHA1, "applied"])
        .env("EDITOR", &editor)
        .env("KUBE_EDITOR", &editor)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        k.json(&["get", V1ALPHA1, "applied"])["spec"]["message"],
        "edited"
    );

    // --dry-run=server stores nothing.
    let dry = k.write("dry.yaml", &ALERT_A1.replace("name: a1", "name: dry"));
    let out = k.ok(&["create", "-f", &dry, "--dry-run=server"]);
    assert!(out.contains("(server dry run)"), "{out}");
    let o = k.run(&["get", "alert", "dry"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"dry\" not found"));

    // Label selectors.
    for name in ["s1", "s2", "s3"] {
        let text = ALERT_A1
            .replace("name: a1", &format!("name: {name}"))
            .replace(
                "team: sre",
                if name == "s2" {
                    "team: web"
                } else {
                    "team: sre"
                },
            );
        let f = k.write(&format!("{name}.yaml"), &text);
        k.ok(&["create", "-f", &f]);
    }
    let names = k.ok(&["get", "alerts", "-l", "team=sre", "-o", "name"]);
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(
        names,
        [
            "alert.pager.k8s.co/a1",
            "alert.pager.k8s.co/s1",
            "alert.pager.k8s.co/s3"
        ]
    );
    // `notin` also matches objects without the label, as in Kubernetes.
    let names = k.ok(&["get", "alerts", "-l", "team notin (sre)", "-o", "name"]);
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(
        names,
        [
            "alert.pager.k8s.co/applied",
            "alert.pager.k8s.co/bad",
            "alert.pager.k8s.co/s2"
        ]
    );
    let names = k.ok(&["get", "alerts", "-l", "team,team!=sre", "-o", "name"]);
    assert_eq!(names.trim(), "alert.pager.k8s.co/s2");

    // delete, wait --for=delete, delete --all.
    let mut waiter = k
        .command(&["wait", "--for=delete", "alert/s1", "--timeout=30s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        k.ok(&["delete", "alert", "s1"]).trim(),
        "alert.pager.k8s.co \"s1\" deleted"
    );
    let status = waiter.wait().unwrap();
    assert!(status.success(), "wait --for=delete");
    let out = k.ok(&["delete", "alerts", "--all"]);
    assert!(
        out.contains("\"a1\" deleted") && out.contains("\"s3\" deleted"),
        "{out}"
    );
    let o = k.run(&["get", "alerts"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("No resources found in default namespace.")
    );
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if pred(&line) {
                return;
            }
            seen.push(line);
        }
    }
    panic!("kubectl get -w never printed the expected line; saw {seen:?}");
}

/// Server-side apply as kubectl drives it: `apply --server-side` twice, a second manager's
/// conflict with kubectl's message, `--force-conflicts`, `--show-managed-fields`, and a
/// client-side apply migrated to server-side apply the way kubectl migrates it.
#[test]
fn kubectl_server_side_apply() {
    if !kubectl_available("kubectl") {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    let server = Server::start(&["--storage", "memory"]);
    let k = Kubectl::new("kubectl", &server);
    let first = k.write(
        "ssa.yaml",
        "apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: ssa\n  labels:\n    team: sre\nspec:\n  title: Disk\n  content: full\n",
    );
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", &first]).trim(),
        "alert.pager.k8s.co/ssa serverside-applied"
    );
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", &first]).trim(),
        "alert.pager.k8s.co/ssa serverside-applied"
    );
    // Another manager changing kubectl's field.
    let other = k.write(
        "other.yaml",
        "apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: ssa\nspec:\n  content: empty\n",
    );
    let o = k.run(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        &other,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(r#"Apply failed with 1 conflict: conflict with "kubectl": .spec.content"#),
        "{err}"
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    assert_eq!(
        k.ok(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            &other
        ])
        .trim(),
        "alert.pager.k8s.co/ssa serverside-applied"
    );
    let obj = k.json(&["get", "alert", "ssa", "--show-managed-fields"]);
    assert_eq!(obj["spec"]["content"], "empty");
    let entries = obj["metadata"]["managedFields"].as_array().unwrap();
    let owned = |manager: &str| {
        entries
            .iter()
            .find(|e| e["manager"] == manager)
            .map(|e| (e["operation"].clone(), e["fieldsV1"].clone()))
            .unwrap_or_else(|| panic!("no entry for {manager}: {entries:?}"))
    };
    assert_eq!(
        owned("kubectl"),
        (
            "Apply".into(),
            serde_json::json!({"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:title": {}}})
        )
    );
    assert_eq!(
        owned("other"),
        (
            "Apply".into(),
            serde_json::json!({"f:spec": {"f:content": {}}})
        )
    );
    // Without the flag, kubectl hides managed fields.
    assert!(k.json(&["get", "alert", "ssa"])["metadata"]["managedFields"].is_null());

    // Client-side apply first, then server-side: kubectl moves the client-side manager's
    // fields to its server-side manager.
    let csa = k.write(
        "csa.yaml",
        "apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: csa\nspec:\n  title: T\n  content: c\n",
    );
    assert_eq!(
        k.ok(&["apply", "-f", &csa]).trim(),
        "alert.pager.k8s.co/csa created"
    );
    let before = k.json(&["get", "alert", "csa", "--show-managed-fields"]);
    assert!(
        before["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["manager"] == "kubectl-client-side-apply" && e["operation"] == "Update"),
        "{before}"
    );
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", &csa]).trim(),
        "alert.pager.k8s.co/csa serverside-applied"
    );
    let after = k.json(&["get", "alert", "csa", "--show-managed-fields"]);
    let entries = after["metadata"]["managedFields"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e["manager"] != "kubectl-client-side-apply"),
        "{entries:?}"
    );
    let ssa = entries
        .iter()
        .find(|e| e["manager"] == "kubectl" && e["operation"] == "Apply")
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert_eq!(ssa["fieldsV1"]["f:spec"]["f:title"], serde_json::json!({}));
    // Now a change dropped from the file is pruned, as server-side apply does.
    std::fs::write(
        &csa,
        "apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: csa\n  labels:\n    a: b\nspec:\n  content: c\n",
    )
    .unwrap();
    k.ok(&["apply", "--server-side", "-f", &csa]);
    let pruned = k.json(&["get", "alert", "csa"]);
    assert_eq!(pruned["metadata"]["labels"]["a"], "b");
    // The title nobody applies any more was removed, then defaulted again by admission from
    // the content's first line.
    assert_eq!(pruned["spec"]["title"], "c", "{pruned}");
}

/// Oldest kubectl minor version supported: 1.27 and 1.28 validate and patch with the protobuf
/// OpenAPI v2 document (gnostic's), 1.29+ with OpenAPI v3; this server serves both.
const OLDEST_MINOR: u32 = 27;

/// Every supported kubectl version installed beside the dispatcher works for the basics.
#[test]
fn kubectl_versions_smoke() {
    let Some(dir) = which("kubectl")
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        if std::env::var_os("CI").is_some() {
            panic!("kubectl is not installed");
        }
        return;
    };
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("kubectl.1."))
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| m >= OLDEST_MINOR)
        })
        .collect();
    versions.sort();
    if versions.is_empty() {
        versions.push(which("kubectl").unwrap());
    }
    let server = Server::start(&["--storage", "memory"]);
    for (i, bin) in versions.iter().enumerate() {
        let k = Kubectl::new(&bin.display().to_string(), &server);
        let name = format!("v{i}");
        let f = k.write(
            "a.yaml",
            &ALERT_A1.replace("name: a1", &format!("name: {name}")),
        );
        let label = bin.display();
        let res = k.ok(&["api-resources", "--api-group=pager.k8s.co"]);
        assert!(res.contains("alerts"), "{label}: {res}");
        assert_eq!(
            k.ok(&["create", "-f", &f]).trim(),
            format!("alert.pager.k8s.co/{name} created"),
            "{label}"
        );
        let table = k.ok(&["get", "alerts", &name]);
        assert!(table.starts_with("NAME"), "{label}: {table}");
        k.ok(&[
            "patch",
            V1ALPHA1,
            &name,
            "-p",
            r#"{"spec":{"message":"patched"}}"#,
        ]);
        assert_eq!(
            k.json(&["get", V1ALPHA1, &name])["spec"]["message"],
            "patched",
            "{label}"
        );
        assert_eq!(
            k.json(&["get", "alert", &name])["spec"]["content"],
            "patched",
            "{label}: the same object in v1beta1"
        );
        k.ok(&["delete", "alert", &name]);
        // Client-side apply: create, then a patch computed from the served OpenAPI (v2 in
        // protobuf for 1.27 and 1.28).
        let applied = format!("{name}-applied");
        let f = k.write(
            "apply.yaml",
            &ALERT_A1.replace("name: a1", &format!("name: {applied}")),
        );
        k.ok(&["apply", "-f", &f]);
        let f = k.write(
            "apply.yaml",
            &ALERT_A1
                .replace("name: a1", &format!("name: {applied}"))
                .replace("Hello KubeCon :wave:", "Goodbye KubeCon"),
        );
        let out = k.ok(&["apply", "-f", &f]);
        assert!(out.contains("configured"), "{label}: {out}");
        let got = k.json(&["get", "alert", &applied]);
        assert!(
            got["spec"]["content"]
                .as_str()
                .is_some_and(|c| c.contains("Goodbye KubeCon")),
            "{label}: {got}"
        );
        k.ok(&["delete", "alert", &applied]);
    }
    let _ = std::io::stdout().flush();
}

/// `kubectl delete --cascade=orphan|foreground`: a standalone server (no garbage collector
/// beside it) deletes at once, so kubectl's wait ends; told a collector runs, the object waits
/// with the collector's finalizer, as on kube-apiserver.
#[test]
fn kubectl_delete_cascade_follows_the_garbage_collector_setting() {
    if !kubectl_available("kubectl") {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    let standalone = Server::start(&["--storage", "memory"]);
    let k = Kubectl::new("kubectl", &standalone);
    let file = k.write("a1.yaml", ALERT_A1);
    for cascade in ["orphan", "foreground"] {
        k.ok(&["create", "-f", &file]);
        let out = k.ok(&[
            "delete",
            V1ALPHA1,
            "a1",
            &format!("--cascade={cascade}"),
            "--timeout=20s",
        ]);
        assert!(out.contains("deleted"), "{out}");
        let gone = k.run(&["get", V1ALPHA1, "a1"]);
        assert!(
            !gone.status.success(),
            "a1 still there after --cascade={cascade}"
        );
    }

    let collected = Server::start(&["--storage", "memory", "--enable-garbage-collector=true"]);
    let k = Kubectl::new("kubectl", &collected);
    let file = k.write("a1.yaml", ALERT_A1);
    k.ok(&["create", "-f", &file]);
    k.ok(&["delete", V1ALPHA1, "a1", "--cascade=orphan", "--wait=false"]);
    let a1 = k.json(&["get", V1ALPHA1, "a1"]);
    assert_eq!(
        a1["metadata"]["finalizers"],
        serde_json::json!(["orphan"]),
        "{a1}"
    );
    assert!(a1["metadata"]["deletionTimestamp"].is_string(), "{a1}");
    // The collector's part, by hand: its finalizer removed, the object goes.
    k.ok(&[
        "patch",
        V1ALPHA1,
        "a1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    assert!(!k.run(&["get", V1ALPHA1, "a1"]).status.success());
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    })
}

/// HTTPS with rustls: kubectl trusts the server through the kubeconfig's CA data; plain HTTP is
/// refused off loopback.
#[test]
fn tls_serving_and_plain_http_only_on_loopback() {
    use base64::Engine;
    if !kubectl_available("kubectl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let cert_file = dir.path().join("tls.crt");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&cert_file, &cert_pem).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    // HTTPS on a port the server picks and prints (a port chosen here and bound later could be
    // taken by a test running beside this one in the meantime).
    let server = Server::start_https(&[
        "--storage",
        "memory",
        "--tls-cert-file",
        cert_file.to_str().unwrap(),
        "--tls-private-key-file",
        key_file.to_str().unwrap(),
    ]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let ca = base64::engine::general_purpose::STANDARD.encode(cert_pem);
    // (With no credentials over HTTPS kubectl would prompt for a username: give it a token.)
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: pager\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {ca}\nusers:\n- name: dev\n  user: {{token: dev-token}}\ncontexts:\n- name: pager\n  context: {{cluster: pager, user: dev, namespace: default}}\ncurrent-context: pager\n"
    );
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, config).unwrap();
    let a1 = dir.path().join("a1.yaml");
    std::fs::write(&a1, ALERT_A1).unwrap();
    let run = |args: &[&str]| {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kc)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["create", "-f", a1.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["get", "alert", "a1", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "alert.pager.k8s.co/a1"
    );
    drop(server);

    // Plain HTTP anywhere but loopback is refused with a clear message.
    let o = Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
        .args([
            "--plain-http",
            "--storage",
            "memory",
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refusing to serve plain HTTP on 0.0.0.0:0"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // So is serving everyone unauthenticated (HTTPS without authentication or authorization):
    // it fails closed anywhere but loopback, before anything starts (no store is opened: the
    // etcd named here does not exist).
    let certs = tempfile::tempdir().unwrap();
    let cert_dir = certs.path().to_str().unwrap();
    let stderr = common::refused_start(&[
        "--storage",
        "etcd",
        "--etcd-servers",
        "http://127.0.0.1:9",
        "--listen",
        "0.0.0.0:0",
        "--cert-dir",
        cert_dir,
    ]);
    assert!(
        stderr.contains("refusing to serve every request unauthenticated on 0.0.0.0:0"),
        "{stderr}"
    );
}

/// The whole session with the oldest kubectl minor versions, which read the protobuf OpenAPI v2
/// document (the dispatcher's default reads v3).
#[test]
fn kubectl_session_oldest_versions() {
    let Some(dir) = which("kubectl")
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        assert!(std::env::var_os("CI").is_none(), "kubectl is not installed");
        return;
    };
    for minor in [27, 28] {
        let bin = dir.join(format!("kubectl.1.{minor}"));
        if !bin.is_file() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is not installed",
                bin.display()
            );
            continue;
        }
        session_with(
            &bin.display().to_string(),
            Server::start(&["--storage", "memory"]),
        );
    }
}

/// After a `NotFound` in a namespace, kubectl asks for the namespace (`GET
/// /api/v1/namespaces/<ns>`) to say which is missing: the object, or the namespace. The server
/// answers from its namespace list (a bare 404 there made kubectl print "the server could not
/// find the requested resource" for both).
#[test]
fn kubectl_tells_a_missing_object_from_a_missing_namespace() {
    if !kubectl_available("kubectl") {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    let server = Server::start(&["--storage", "memory", "--namespaces", "default,ops"]);
    let k = Kubectl::new("kubectl", &server);
    let o = k.run(&["get", "alert", "nope", "-n", "ops"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Error from server (NotFound): alerts.pager.k8s.co \"nope\" not found"),
        "{err}"
    );
    let o = k.run(&["get", "alert", "nope", "-n", "gone"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Error from server (NotFound): namespaces \"gone\" not found"),
        "{err}"
    );
}
