//! `Clientset::try_default()` reads the usual kubeconfig (`$KUBECONFIG`) and talks to a running
//! `pager-apiserver`. (A file of its own: it sets a process-wide environment variable.)

mod common;

use kube_codegen_client::{ListParams, PostParams};

#[tokio::test]
async fn try_default_reads_kubeconfig() {
    let server = common::Server::start(&["--storage", "memory"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: pager\n  cluster:\n    server: http://{}\ncontexts:\n- name: pager\n  context:\n    cluster: pager\n    user: me\n    namespace: team-a\nusers:\n- name: me\n  user: {{}}\ncurrent-context: pager\n",
            server.addr
        ),
    )
    .unwrap();
    // SAFETY: the only test of this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("KUBECONFIG", &path) };
    let cs = pager_client::Clientset::try_default().await.unwrap();
    assert_eq!(cs.client().default_namespace(), "team-a");
    let alerts = cs.pager_v1alpha1().alerts("team-a");
    let mut a = pager::v1alpha1::Alert::default();
    a.metadata.name = Some("hello".into());
    a.spec.message = "from kubeconfig".into();
    alerts.create(&PostParams::default(), &a).await.unwrap();
    let listed = alerts.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}
