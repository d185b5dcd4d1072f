//! The pager's protobuf (protobuf-gen): random objects of every version round-trip, and protoc
//! — a tool nobody here wrote — compiles the generated `generated.proto` files, reads the bytes
//! the generated code writes, and writes bytes the generated code reads back to the same object.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube_codegen_protobuf::{Message, from_slice, to_vec};
use pager::{v1alpha1, v1beta1};
use proptest::prelude::*;

fn apis_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn proto_include() -> PathBuf {
    apis_dir().join("../../../runtime/protobuf/proto")
}

/// protoc, or `None` outside CI when it is not installed (CI installs it: `./test.sh`).
fn protoc() -> Option<&'static str> {
    match Command::new("protoc").arg("--version").output() {
        Ok(o) if o.status.success() => Some("protoc"),
        _ if std::env::var_os("CI").is_some() => {
            panic!("protoc is not installed (apt-get install protobuf-compiler)")
        }
        _ => None,
    }
}

/// Runs protoc with `mode` (`--decode=T` or `--encode=T`) on `input`, against both versions'
/// generated.proto.
fn run_protoc(mode: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("protoc")
        .current_dir(apis_dir())
        .arg("-I.")
        .arg(format!("-I{}", proto_include().display()))
        .arg(mode)
        .arg("pager/v1alpha1/generated.proto")
        .arg("pager/v1beta1/generated.proto")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start protoc");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "protoc {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn rich_meta() -> ObjectMeta {
    ObjectMeta {
        name: Some("a1".into()),
        namespace: Some("default".into()),
        uid: Some("7c8e3c1e-0f00-4b8e-9a55-2d7e1f6a9b10".into()),
        resource_version: Some("17".into()),
        generation: Some(2),
        creation_timestamp: Some(Time(Timestamp::from_second(1_700_000_000).unwrap())),
        labels: Some(BTreeMap::from([("team".into(), "sre".into())])),
        annotations: Some(BTreeMap::from([(
            "note".into(),
            "ünïcode \"quoted\"".into(),
        )])),
        finalizers: Some(vec!["pager.k8s.co/sent".into()]),
        ..Default::default()
    }
}

#[test]
fn protoc_compiles_and_reads_the_generated_messages() {
    let Some(_) = protoc() else { return };
    let alert = v1beta1::Alert {
        metadata: rich_meta(),
        spec: v1beta1::AlertSpec {
            title: "Disk full".into(),
            content: "node-3: /var at 99%".into(),
            priority: Some(v1beta1::Priority::High),
        },
        status: Some(v1beta1::AlertStatus { sent: true }),
    };
    let bytes = to_vec(&alert);
    let text =
        String::from_utf8(run_protoc("--decode=pager.k8s.co.v1beta1.Alert", &bytes)).unwrap();
    for expected in [
        "name: \"a1\"",
        "namespace: \"default\"",
        "resourceVersion: \"17\"",
        "generation: 2",
        "seconds: 1700000000",
        "key: \"team\"",
        "value: \"sre\"",
        "finalizers: \"pager.k8s.co/sent\"",
        "title: \"Disk full\"",
        "content: \"node-3: /var at 99%\"",
        "priority: \"high\"",
        "sent: true",
    ] {
        assert!(
            text.contains(expected),
            "protoc's reading lacks {expected:?}:\n{text}"
        );
    }
    // protoc writes the same object back from its reading: every field number and type of
    // generated.proto agrees with the generated code.
    let again = run_protoc("--encode=pager.k8s.co.v1beta1.Alert", text.as_bytes());
    assert_eq!(from_slice::<v1beta1::Alert>(&again).unwrap(), alert);

    let list = String::from_utf8(run_protoc(
        "--decode=pager.k8s.co.v1alpha1.AlertList",
        &kube_codegen_protobuf::envelope::list_message(
            &Default::default(),
            [to_vec(&v1alpha1::Alert::default()).as_slice()],
        ),
    ))
    .unwrap();
    assert!(list.contains("items {"), "{list}");
}

#[test]
fn unknown_enum_values_and_bad_bytes_are_errors() {
    let mut spec = Vec::new();
    kube_codegen_protobuf::encode_str(3, "urgent", &mut spec);
    let e = from_slice::<v1beta1::AlertSpec>(&spec)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AlertSpec.priority") && e.contains("urgent"),
        "{e}"
    );
    let bytes = to_vec(&v1beta1::Alert {
        metadata: rich_meta(),
        ..Default::default()
    });
    for cut in 0..bytes.len() {
        let _ = from_slice::<v1beta1::Alert>(&bytes[..cut]);
    }
}

fn meta() -> impl Strategy<Value = ObjectMeta> {
    (
        "[a-z][a-z0-9-]{0,12}",
        proptest::option::of("[a-z]{1,8}"),
        proptest::option::of(proptest::collection::btree_map(
            "[a-z]{1,8}",
            ".{0,8}",
            1..3,
        )),
        proptest::option::of(1i64..1000),
        proptest::option::of(0i64..4_000_000_000),
    )
        .prop_map(
            |(name, namespace, labels, generation, created)| ObjectMeta {
                name: Some(name),
                namespace,
                labels,
                generation,
                creation_timestamp: created.map(|s| Time(Timestamp::from_second(s).unwrap())),
                ..Default::default()
            },
        )
}

fn beta() -> impl Strategy<Value = v1beta1::Alert> {
    (
        meta(),
        ".{0,20}",
        ".{0,40}",
        proptest::option::of(prop_oneof![
            Just(v1beta1::Priority::Low),
            Just(v1beta1::Priority::Normal),
            Just(v1beta1::Priority::High),
        ]),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(metadata, title, content, priority, sent)| v1beta1::Alert {
                metadata,
                spec: v1beta1::AlertSpec {
                    title,
                    content,
                    priority,
                },
                status: sent.map(|sent| v1beta1::AlertStatus { sent }),
            },
        )
}

fn alpha() -> impl Strategy<Value = v1alpha1::Alert> {
    (
        meta(),
        ".{0,40}",
        proptest::option::of(prop_oneof![
            Just(v1alpha1::Priority::Low),
            Just(v1alpha1::Priority::Normal),
            Just(v1alpha1::Priority::High),
        ]),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(metadata, message, priority, sent)| v1alpha1::Alert {
            metadata,
            spec: v1alpha1::AlertSpec { message, priority },
            status: sent.map(|sent| v1alpha1::AlertStatus { sent }),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn v1beta1_round_trips(alert in beta()) {
        let bytes = to_vec(&alert);
        prop_assert_eq!(bytes.len(), alert.fields_len());
        prop_assert_eq!(from_slice::<v1beta1::Alert>(&bytes).unwrap(), alert);
    }

    #[test]
    fn v1alpha1_round_trips(alert in alpha()) {
        let bytes = to_vec(&alert);
        prop_assert_eq!(bytes.len(), alert.fields_len());
        prop_assert_eq!(from_slice::<v1alpha1::Alert>(&bytes).unwrap(), alert);
    }

    #[test]
    fn any_bytes_are_an_alert_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = from_slice::<v1beta1::Alert>(&bytes);
        let _ = from_slice::<v1alpha1::Alert>(&bytes);
    }
}
