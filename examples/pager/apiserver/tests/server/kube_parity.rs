//! The black-box probe's steps with the real `kubectl`, answered as kube-apiserver answers them:
//! an object read back and POSTed as it is refused for its resourceVersion, the deletion fields
//! immutable, a GET at a resourceVersion the server has not reached a 504, and a label patch
//! that deletes the last label leaving no `labels: {}` behind.

use serde_json::Value;

use crate::common;
use common::{Kubectl, Server};

const ALERT: &str = "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: r1\n  labels:\n    a: \"1\"\nspec:\n  message: probe\n";

#[test]
fn kubectl_meets_kube_apiservers_answers() {
    let server = Server::start(&["--storage", "memory"]);
    let k = Kubectl::new(&server, "v");
    let created = k.file("alert.yaml", ALERT);
    k.ok(&["create", "-f", &created]);

    // 1. An object read back and POSTed as it is, resourceVersion and all (`kubectl create -f`
    // clears it, as client-go's resource helper does; `--raw`, curl and client libraries do
    // not).
    let exported = k.file("e.json", &k.ok(&["get", "alerts", "r1", "-o", "json"]));
    k.ok(&["delete", "alerts", "r1"]);
    let collection = "/apis/pager.k8s.co/v1beta1/namespaces/v/alerts";
    let err = k.fails(&["create", "--raw", collection, "-f", &exported]);
    assert!(
        err.contains("Error from server (BadRequest)")
            && err.contains("resourceVersion should not be set on objects to be created"),
        "{err}"
    );
    let err = k.fails(&["get", "alerts", "r1"]);
    assert!(err.contains("NotFound"), "{err}");
    k.ok(&["create", "-f", &exported]);

    // 2. The deletion fields of a live object cannot be set.
    let err = k.fails(&[
        "patch",
        "alerts",
        "r1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"deletionTimestamp":"2030-01-02T03:04:05Z"}}"#,
    ]);
    assert!(
        err.contains("metadata.deletionTimestamp: Invalid value: 2030-01-02 03:04:05 +0000 UTC: field is immutable"),
        "{err}"
    );
    let err = k.fails(&[
        "patch",
        "alerts",
        "r1",
        "-p",
        r#"{"metadata":{"deletionGracePeriodSeconds":30}}"#,
    ]);
    assert!(
        err.contains("metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"),
        "{err}"
    );

    // 3. A resourceVersion the server has not reached.
    let err = k.fails(&[
        "get",
        "--raw",
        "/apis/pager.k8s.co/v1beta1/namespaces/v/alerts/r1?resourceVersion=999999",
    ]);
    assert!(err.contains("Too large resource version: 999999"), "{err}");

    // 4. The last label deleted by a strategic merge patch (kubectl's default).
    k.ok(&[
        "patch",
        "alerts",
        "r1",
        "-p",
        r#"{"metadata":{"labels":{"$patch":"delete"}}}"#,
    ]);
    let got: Value = serde_json::from_str(&k.ok(&["get", "alerts", "r1", "-o", "json"])).unwrap();
    assert!(got["metadata"].get("labels").is_none(), "{got}");
}
