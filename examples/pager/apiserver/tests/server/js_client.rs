//! The official Kubernetes JavaScript client (`@kubernetes/client-node`, pinned in `test.sh`)
//! against `pager-apiserver` on the embedded store: `CustomObjectsApi` and `KubernetesObjectApi`
//! in both served versions, merge patch and server-side apply, paging, `Watch`, an informer,
//! error Statuses and discovery. The checks live in `js/official_client.mjs`.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

/// The directory `npm install --prefix` put `@kubernetes/client-node` in: `$KUBE_JS_CLIENT_DIR`
/// (set by `test.sh`), else `target/js-client` of this workspace. `None` outside CI when `node`
/// or the client is missing.
fn js_client_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KUBE_JS_CLIENT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../target/js-client"
            ))
        });
    let has_node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    let has_client = dir
        .join("node_modules/@kubernetes/client-node/package.json")
        .is_file();
    if has_node && has_client {
        return Some(dir);
    }
    let why = if has_node {
        format!("no @kubernetes/client-node in {}", dir.display())
    } else {
        "no `node` on the PATH".to_string()
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{why} (test.sh installs the JavaScript client)"
    );
    eprintln!("skipped: {why} (run ./test.sh to install it)");
    None
}

#[test]
fn official_js_client_works_against_the_server() {
    let Some(client) = js_client_dir() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::embedded(&data.path().join("pager.db"), &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/official_client.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(&server.addr)
        .env("KUBE_JS_CLIENT_DIR", &client)
        .env("NODE_PATH", client.join("node_modules"))
        .env_remove("KUBECONFIG")
        .output()
        .expect("run the JavaScript client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}{stderr}");
}
