//! The official Kubernetes Python client (kubernetes-client/python, pinned in `test.sh`) against
//! `pager-apiserver` on the embedded store: typed and dynamic clients, watches, apply, paging
//! and Tables across both served versions. The checks live in `python/official_client.py`.

use crate::common;

use std::process::Command;

/// The Python that has the `kubernetes` package: `$KUBE_PYTHON_CLIENT` (set by `test.sh`) or
/// `python3`. `None` outside CI when neither has it.
fn python_with_client() -> Option<String> {
    let python = std::env::var("KUBE_PYTHON_CLIENT").unwrap_or_else(|_| "python3".into());
    let has_client = Command::new(&python)
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_client {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{python} cannot import the `kubernetes` client (test.sh installs it)"
    );
    eprintln!("skipped: {python} has no `kubernetes` client (run ./test.sh to install it)");
    None
}

#[test]
fn official_python_client_works_against_the_server() {
    let Some(python) = python_with_client() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::embedded(&data.path().join("pager.db"), &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/official_client.py"
    );
    let out = Command::new(&python)
        .arg(script)
        .arg(&server.addr)
        .output()
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}{stderr}");
}
