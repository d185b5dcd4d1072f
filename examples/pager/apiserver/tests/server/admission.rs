//! pager-apiserver's admission plugins, through the binary: alerts without a title get their
//! content's first line (mutating), and `--alerts-per-minute` refuses creates over the limit per
//! namespace (validating; dry runs not counted).

use crate::common;

use kube_codegen_client::PostParams;
use pager_client::Clientset;

fn alpha(name: &str, message: &str) -> pager::v1alpha1::Alert {
    let mut a = pager::v1alpha1::Alert::default();
    a.metadata.name = Some(name.into());
    a.spec.message = message.into();
    a
}

#[tokio::test]
async fn titles_are_defaulted_and_creates_rate_limited_per_namespace() {
    let server = common::Server::start(&["--storage", "memory", "--alerts-per-minute", "3"]);
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    let cs = Clientset::new(kube::Client::try_from(config).unwrap());
    let alerts = cs.pager_v1alpha1().alerts("default");
    // A dry run is admitted but not counted.
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    alerts
        .create(&dry, &alpha("dry", "not counted"))
        .await
        .unwrap();
    for i in 0..3 {
        alerts
            .create(
                &PostParams::default(),
                &alpha(&format!("a{i}"), "Disk full\nsda1 at 99%"),
            )
            .await
            .unwrap();
    }
    // Read in v1beta1: the title is the first line of the message.
    let beta = cs
        .pager_v1beta1()
        .alerts("default")
        .get("a0")
        .await
        .unwrap();
    assert_eq!(beta.spec.title, "Disk full");
    // The fourth in a minute is refused, and not stored.
    let err = alerts
        .create(&PostParams::default(), &alpha("a3", "one too many"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(403), "{err}");
    let status = err.status().unwrap();
    assert_eq!(status.reason, "Forbidden");
    assert!(
        status.message.starts_with(
            "alerts.pager.k8s.co \"a3\" is forbidden: namespace default created 3 alerts"
        ),
        "{}",
        status.message
    );
    assert!(alerts.get("a3").await.unwrap_err().is_not_found());
    // Another namespace has its own budget.
    cs.pager_v1alpha1()
        .alerts("ops")
        .create(&PostParams::default(), &alpha("b0", "elsewhere"))
        .await
        .unwrap();
}

#[tokio::test]
async fn creates_only_in_the_configured_namespaces() {
    let server = common::Server::start(&["--storage", "memory", "--namespaces", "default,ops"]);
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    let cs = Clientset::new(kube::Client::try_from(config).unwrap());
    cs.pager_v1alpha1()
        .alerts("ops")
        .create(&PostParams::default(), &alpha("fine", "m"))
        .await
        .unwrap();
    let err = cs
        .pager_v1alpha1()
        .alerts("nope")
        .create(&PostParams::default(), &alpha("lost", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(404), "{err}");
    assert_eq!(
        err.status().unwrap().message,
        "namespaces \"nope\" not found"
    );
}

#[test]
fn an_unusable_webhook_file_stops_the_server_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webhooks.yaml");
    std::fs::write(
        &file,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: x\nwebhooks:\n- name: x.example.com\n  clientConfig: {}\n  sideEffects: None\n  admissionReviewVersions: [v1]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pager-apiserver"))
        .args([
            "--plain-http",
            "--storage",
            "memory",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--admission-webhooks")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("clientConfig.url is required"), "{err}");
}
