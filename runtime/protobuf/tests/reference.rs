//! The apimachinery messages and the envelope checked against k8s-pb, whose prost messages are
//! generated from Kubernetes' own `generated.proto` files: what this crate writes, k8s-pb reads
//! to the same values, and the other way round; random objects round-trip; hostile bytes are
//! errors, never panics.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    FieldsV1, ListMeta, ManagedFieldsEntry, ObjectMeta, OwnerReference, Status, StatusCause,
    StatusDetails, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube_codegen_protobuf::{Message, envelope, from_slice, to_vec};
use proptest::prelude::*;
use prost::Message as _;

use k8s_pb::apimachinery::pkg::apis::meta::v1 as pb;

fn time(seconds: i64) -> Time {
    Time(Timestamp::from_second(seconds).unwrap())
}

fn rich_meta() -> ObjectMeta {
    ObjectMeta {
        name: Some("a1".into()),
        generate_name: Some("a-".into()),
        namespace: Some("default".into()),
        uid: Some("0b4f6f4e-2c44-4a5b-9d1c-5f1b0a7e9c11".into()),
        resource_version: Some("42".into()),
        generation: Some(3),
        creation_timestamp: Some(time(1_700_000_000)),
        deletion_timestamp: Some(time(1_700_000_100)),
        deletion_grace_period_seconds: Some(30),
        labels: Some(BTreeMap::from([("app".into(), "pager".into())])),
        annotations: Some(BTreeMap::from([
            ("empty".into(), String::new()),
            ("note".into(), "ünïcode".into()),
        ])),
        owner_references: Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "cm".into(),
            uid: "u".into(),
            controller: Some(true),
            block_owner_deletion: Some(false),
        }]),
        finalizers: Some(vec!["a/b".into(), "c".into()]),
        managed_fields: Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl".into()),
            operation: Some("Apply".into()),
            api_version: Some("pager.k8s.co/v1beta1".into()),
            time: Some(time(1_700_000_050)),
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(serde_json::json!({"f:spec": {"f:content": {}}}))),
            subresource: Some("status".into()),
        }]),
        self_link: None,
    }
}

#[test]
fn object_meta_reads_the_same_in_k8s_pb() {
    let meta = rich_meta();
    let bytes = to_vec(&meta);
    let theirs = pb::ObjectMeta::decode(&bytes[..]).unwrap();
    assert_eq!(theirs.name.as_deref(), Some("a1"));
    assert_eq!(theirs.generate_name.as_deref(), Some("a-"));
    assert_eq!(theirs.namespace.as_deref(), Some("default"));
    assert_eq!(theirs.uid, meta.uid);
    assert_eq!(theirs.resource_version.as_deref(), Some("42"));
    assert_eq!(theirs.generation, Some(3));
    assert_eq!(
        theirs.creation_timestamp.unwrap().seconds,
        Some(1_700_000_000)
    );
    assert_eq!(
        theirs.deletion_timestamp.unwrap().seconds,
        Some(1_700_000_100)
    );
    assert_eq!(theirs.deletion_grace_period_seconds, Some(30));
    assert_eq!(theirs.labels, meta.labels.clone().unwrap());
    assert_eq!(theirs.annotations, meta.annotations.clone().unwrap());
    let owner = &theirs.owner_references[0];
    assert_eq!(owner.api_version.as_deref(), Some("v1"));
    assert_eq!(owner.kind.as_deref(), Some("ConfigMap"));
    assert_eq!(owner.name.as_deref(), Some("cm"));
    assert_eq!(owner.uid.as_deref(), Some("u"));
    assert_eq!(owner.controller, Some(true));
    assert_eq!(owner.block_owner_deletion, Some(false));
    assert_eq!(theirs.finalizers, vec!["a/b", "c"]);
    let managed = &theirs.managed_fields[0];
    assert_eq!(managed.manager.as_deref(), Some("kubectl"));
    assert_eq!(managed.operation.as_deref(), Some("Apply"));
    assert_eq!(managed.api_version.as_deref(), Some("pager.k8s.co/v1beta1"));
    assert_eq!(managed.time.as_ref().unwrap().seconds, Some(1_700_000_050));
    assert_eq!(managed.fields_type.as_deref(), Some("FieldsV1"));
    assert_eq!(managed.subresource.as_deref(), Some("status"));
    let raw = managed.fields_v1.as_ref().unwrap().raw.as_ref().unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(raw).unwrap(),
        serde_json::json!({"f:spec": {"f:content": {}}})
    );
    // And k8s-pb's bytes read back to the same object.
    assert_eq!(
        from_slice::<ObjectMeta>(&theirs.encode_to_vec()).unwrap(),
        meta
    );
    assert_eq!(from_slice::<ObjectMeta>(&bytes).unwrap(), meta);
}

#[test]
fn small_messages_read_the_same_in_k8s_pb() {
    let list = ListMeta {
        resource_version: Some("7".into()),
        continue_: Some("token".into()),
        remaining_item_count: Some(12),
        ..Default::default()
    };
    let theirs = pb::ListMeta::decode(&to_vec(&list)[..]).unwrap();
    assert_eq!(theirs.r#continue.as_deref(), Some("token"));
    assert_eq!(theirs.remaining_item_count, Some(12));
    assert_eq!(
        from_slice::<ListMeta>(&theirs.encode_to_vec()).unwrap(),
        list
    );

    for v in [IntOrString::Int(-5), IntOrString::String("50%".into())] {
        let theirs =
            k8s_pb::apimachinery::pkg::util::intstr::IntOrString::decode(&to_vec(&v)[..]).unwrap();
        match &v {
            IntOrString::Int(i) => {
                assert_eq!((theirs.r#type, theirs.int_val), (Some(0), Some(*i)))
            }
            IntOrString::String(s) => {
                assert_eq!(
                    (theirs.r#type, theirs.str_val.as_deref()),
                    (Some(1), Some(&**s))
                )
            }
        }
        assert_eq!(
            from_slice::<IntOrString>(&theirs.encode_to_vec()).unwrap(),
            v
        );
    }

    let q = Quantity("1500m".into());
    let theirs =
        k8s_pb::apimachinery::pkg::api::resource::Quantity::decode(&to_vec(&q)[..]).unwrap();
    assert_eq!(theirs.string.as_deref(), Some("1500m"));

    let t = Time(Timestamp::new(1_700_000_000, 123_000_000).unwrap());
    let theirs = pb::Time::decode(&to_vec(&t)[..]).unwrap();
    assert_eq!(
        (theirs.seconds, theirs.nanos),
        (Some(1_700_000_000), Some(123_000_000))
    );
    assert_eq!(from_slice::<Time>(&theirs.encode_to_vec()).unwrap(), t);
}

#[test]
fn durations_read_the_same_in_k8s_pb() {
    // metav1.Duration is kube's `Duration`: signed nanoseconds on the wire.
    for (text, nanos) in [
        ("0s", 0i64),
        ("90m", 5_400_000_000_000),
        ("-1.5s", -1_500_000_000),
        ("1ns", 1),
        ("-8150163s797452109ns", -8_150_163_797_452_109),
        ("-9223372036s854775808ns", i64::MIN),
    ] {
        let d: kube_core::Duration = text.parse().unwrap();
        let theirs = pb::Duration::decode(to_vec(&d).as_slice()).unwrap();
        assert_eq!(theirs.duration.unwrap_or_default(), nanos, "{text}");
        let back: kube_core::Duration = from_slice(
            &pb::Duration {
                duration: Some(nanos),
            }
            .encode_to_vec(),
        )
        .unwrap();
        assert_eq!(back, d, "{text}");
    }
}

#[test]
fn status_and_envelope_read_the_same_in_k8s_pb() {
    let status = Status {
        status: Some("Failure".into()),
        message: Some("alerts \"a1\" not found".into()),
        reason: Some("NotFound".into()),
        code: Some(404),
        details: Some(StatusDetails {
            name: Some("a1".into()),
            group: Some("pager.k8s.co".into()),
            kind: Some("alerts".into()),
            causes: Some(vec![StatusCause {
                reason: Some("FieldValueRequired".into()),
                message: Some("Required value".into()),
                field: Some("spec.content".into()),
            }]),
            retry_after_seconds: None,
            uid: None,
        }),
        metadata: ListMeta::default(),
    };
    let bytes = envelope::encode_status(&status);
    assert_eq!(&bytes[..4], b"k8s\0");
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(&bytes[4..]).unwrap();
    let tm = unknown.type_meta.unwrap();
    assert_eq!(tm.api_version.as_deref(), Some("v1"));
    assert_eq!(tm.kind.as_deref(), Some("Status"));
    assert_eq!(unknown.content_encoding.as_deref(), Some(""));
    let theirs = pb::Status::decode(&unknown.raw.unwrap()[..]).unwrap();
    assert_eq!(theirs.code, Some(404));
    assert_eq!(theirs.reason.as_deref(), Some("NotFound"));
    let details = theirs.details.unwrap();
    assert_eq!(details.causes[0].field.as_deref(), Some("spec.content"));
    // Read back through this crate.
    let (u, back): (_, Status) = envelope::decode_object(&bytes).unwrap();
    assert_eq!((u.api_version.as_str(), u.kind.as_str()), ("v1", "Status"));
    assert_eq!(back, status);
}

#[test]
fn watch_frames_read_the_same_in_k8s_pb() {
    let object = envelope::encode_object("v1", "Status", &Status::default());
    let mut stream = Vec::new();
    envelope::watch_frame("ADDED", &object, &mut stream);
    envelope::watch_frame("DELETED", &object, &mut stream);
    let (frames, used) = envelope::split_frames(&stream[..stream.len() - 1]);
    assert_eq!(frames.len(), 1, "an incomplete frame waits for its bytes");
    let (frames, used_all) = envelope::split_frames(&stream);
    assert_eq!((frames.len(), used_all), (2, stream.len()));
    assert!(used < used_all);
    for (frame, expected) in frames.iter().zip(["ADDED", "DELETED"]) {
        let theirs = pb::WatchEvent::decode(*frame).unwrap();
        assert_eq!(theirs.r#type.as_deref(), Some(expected));
        assert_eq!(theirs.object.unwrap().raw.unwrap(), object);
        let (event_type, raw) = envelope::decode_watch_event(frame).unwrap();
        assert_eq!((event_type.as_str(), raw), (expected, object.clone()));
    }
}

#[test]
fn lists_hold_item_messages() {
    let items = [to_vec(&rich_meta()), to_vec(&ObjectMeta::default())];
    let meta = ListMeta {
        resource_version: Some("9".into()),
        ..Default::default()
    };
    let bytes = envelope::list_message(&meta, items.iter().map(Vec::as_slice));
    let (back, back_items) = envelope::decode_list(&bytes).unwrap();
    assert_eq!(back, meta);
    assert_eq!(back_items, items);
}

#[test]
fn bad_bytes_are_errors() {
    assert!(
        envelope::unwrap(b"{\"kind\":\"Status\"}")
            .unwrap_err()
            .to_string()
            .contains("k8s")
    );
    let bytes = to_vec(&rich_meta());
    for cut in 1..bytes.len() {
        // Every proper prefix either fails or reads fewer fields; none panics.
        let _ = from_slice::<ObjectMeta>(&bytes[..cut]);
    }
    // A string that is not UTF-8 names the field it was in.
    let mut bad = Vec::new();
    kube_codegen_protobuf::encode_bytes(1, &[0xff, 0xfe], &mut bad);
    let e = from_slice::<ObjectMeta>(&bad).unwrap_err();
    assert!(e.to_string().contains("ObjectMeta.name"), "{e}");
    // Deeply nested bytes in a field a message skips are skipped without recursion.
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        let mut outer = Vec::new();
        kube_codegen_protobuf::encode_bytes(13, &deep, &mut outer);
        deep = outer;
    }
    assert!(from_slice::<ObjectMeta>(&deep).is_ok());
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9./-]{1,12}", "\\PC{0,8}"]
}

fn arb_time() -> impl Strategy<Value = Time> {
    (0i64..4_000_000_000, 0i32..1_000_000_000)
        .prop_map(|(s, n)| Time(Timestamp::new(s, n).unwrap()))
}

fn arb_meta() -> impl Strategy<Value = ObjectMeta> {
    (
        (
            proptest::option::of(arb_string()),
            proptest::option::of(arb_string()),
            proptest::option::of(arb_string()),
            proptest::option::of(any::<i64>()),
            proptest::option::of(arb_time()),
        ),
        (
            proptest::option::of(proptest::collection::btree_map(
                arb_string(),
                arb_string(),
                0..4,
            )),
            proptest::option::of(proptest::collection::vec(arb_string(), 0..3)),
            proptest::option::of(proptest::collection::vec(
                (
                    arb_string(),
                    arb_string(),
                    proptest::option::of(any::<bool>()),
                ),
                0..3,
            )),
            proptest::option::of(any::<i64>()),
        ),
    )
        .prop_map(
            |((name, namespace, uid, generation, created), (labels, finalizers, owners, grace))| {
                ObjectMeta {
                    name,
                    namespace,
                    uid,
                    generation,
                    creation_timestamp: created,
                    labels,
                    finalizers,
                    owner_references: owners.map(|o| {
                        o.into_iter()
                            .map(|(name, kind, controller)| OwnerReference {
                                name,
                                kind,
                                controller,
                                ..Default::default()
                            })
                            .collect()
                    }),
                    deletion_grace_period_seconds: grace,
                    ..Default::default()
                }
            },
        )
}

/// What survives protobuf: an empty list or map is not on the wire, so it reads back as unset
/// (as in Go, where nil and empty are one).
fn normalize(mut meta: ObjectMeta) -> ObjectMeta {
    if meta.labels.as_ref().is_some_and(|l| l.is_empty()) {
        meta.labels = None;
    }
    if meta.finalizers.as_ref().is_some_and(|l| l.is_empty()) {
        meta.finalizers = None;
    }
    if meta.owner_references.as_ref().is_some_and(|l| l.is_empty()) {
        meta.owner_references = None;
    }
    meta
}

proptest! {
    #[test]
    fn object_meta_round_trips_here_and_through_k8s_pb(meta in arb_meta().prop_map(normalize)) {
        let bytes = to_vec(&meta);
        prop_assert_eq!(bytes.len(), meta.fields_len());
        prop_assert_eq!(&from_slice::<ObjectMeta>(&bytes).unwrap(), &meta);
        let theirs = pb::ObjectMeta::decode(&bytes[..]).unwrap();
        prop_assert_eq!(&from_slice::<ObjectMeta>(&theirs.encode_to_vec()).unwrap(), &meta);
    }

    #[test]
    fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = from_slice::<ObjectMeta>(&bytes);
        let _ = envelope::unwrap(&bytes);
        let _ = envelope::decode_list(&bytes);
        let _ = envelope::decode_watch_event(&bytes);
    }
}

#[test]
fn condition_and_core_messages_read_the_same_in_k8s_pb() {
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    use k8s_pb::api::core::v1 as pb_core;

    let c = Condition {
        type_: "Ready".into(),
        status: "True".into(),
        observed_generation: Some(4),
        last_transition_time: time(1_700_000_000),
        reason: "Synced".into(),
        message: "all good".into(),
    };
    let theirs = pb::Condition::decode(&to_vec(&c)[..]).unwrap();
    assert_eq!(theirs.r#type.as_deref(), Some("Ready"));
    assert_eq!(theirs.observed_generation, Some(4));
    assert_eq!(
        theirs.last_transition_time.unwrap().seconds,
        Some(1_700_000_000)
    );
    assert_eq!(from_slice::<Condition>(&to_vec(&c)).unwrap(), c);
    // Without its timestamp a condition is not whole: an error, not a made-up time.
    let mut no_time = Vec::new();
    kube_codegen_protobuf::encode_str(1, "Ready", &mut no_time);
    assert!(from_slice::<Condition>(&no_time).is_err());

    let secret = core::SecretKeySelector {
        name: "creds".into(),
        key: "token".into(),
        optional: Some(true),
    };
    let theirs = pb_core::SecretKeySelector::decode(&to_vec(&secret)[..]).unwrap();
    assert_eq!(
        theirs
            .local_object_reference
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("creds")
    );
    assert_eq!(
        (theirs.key.as_deref(), theirs.optional),
        (Some("token"), Some(true))
    );
    assert_eq!(
        from_slice::<core::SecretKeySelector>(&theirs.encode_to_vec()).unwrap(),
        secret
    );

    let reqs = core::ResourceRequirements {
        limits: Some(BTreeMap::from([("cpu".into(), Quantity("2".into()))])),
        requests: Some(BTreeMap::from([("memory".into(), Quantity("1Gi".into()))])),
        claims: Some(vec![core::ResourceClaim {
            name: "gpu".into(),
            request: Some("one".into()),
        }]),
    };
    let theirs = pb_core::ResourceRequirements::decode(&to_vec(&reqs)[..]).unwrap();
    assert_eq!(theirs.limits["cpu"].string.as_deref(), Some("2"));
    assert_eq!(theirs.claims[0].request.as_deref(), Some("one"));
    assert_eq!(
        from_slice::<core::ResourceRequirements>(&theirs.encode_to_vec()).unwrap(),
        reqs
    );

    let tol = core::Toleration {
        key: Some("k".into()),
        operator: Some("Exists".into()),
        effect: Some("NoSchedule".into()),
        toleration_seconds: Some(30),
        value: None,
    };
    let theirs = pb_core::Toleration::decode(&to_vec(&tol)[..]).unwrap();
    assert_eq!(theirs.toleration_seconds, Some(30));
    assert_eq!(
        from_slice::<core::Toleration>(&theirs.encode_to_vec()).unwrap(),
        tol
    );

    let r = core::ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("p".into()),
        namespace: Some("ns".into()),
        field_path: Some("spec.containers{a}".into()),
        ..Default::default()
    };
    let theirs = pb_core::ObjectReference::decode(&to_vec(&r)[..]).unwrap();
    assert_eq!(theirs.field_path.as_deref(), Some("spec.containers{a}"));
    assert_eq!(
        from_slice::<core::ObjectReference>(&theirs.encode_to_vec()).unwrap(),
        r
    );
}

/// A JSON-carried field whose value serde refuses is not dropped silently: the bytes carry the
/// writer's error and the reader reports it.
#[test]
fn a_json_field_that_cannot_be_written_fails_loudly_when_read() {
    use kube_codegen_protobuf::{WireType, decode_key, json};
    struct Refuses;
    impl serde::Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("a map key that is not a string"))
        }
    }
    let mut buf = Vec::new();
    json::encode(&Refuses, 3, &mut buf);
    assert_eq!(buf.len(), json::encoded_len(&Refuses, 3));
    let mut at = &buf[..];
    let (tag, wire) = decode_key(&mut at).unwrap();
    assert_eq!((tag, wire), (3, WireType::LengthDelimited));
    let mut slot: Option<serde_json::Value> = None;
    let err = json::merge(&mut slot, wire, &mut at, Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("could not write this field as JSON")
            && err.to_string().contains("a map key that is not a string"),
        "{err}"
    );
    // `null` (an unset Option) is still simply absent.
    let mut none = Vec::new();
    json::encode(&None::<i32>, 3, &mut none);
    assert!(none.is_empty());
}

/// An `IndexMap` field is written as Kubernetes writes a map, in key order (the same bytes as a
/// `BTreeMap` of the same entries), and read back keeping the order of the wire.
#[test]
fn index_maps_encode_as_sorted_maps_and_read_back() {
    use kube_codegen_protobuf::{Depth, Field, decode_key};
    let index: indexmap::IndexMap<String, String> = [("b", "2"), ("a", "1"), ("c", "3")]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
    let sorted: BTreeMap<String, String> = index.clone().into_iter().collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    Field::encode(&index, 7, &mut a);
    Field::encode(&sorted, 7, &mut b);
    assert_eq!(a, b);
    assert_eq!(Field::encoded_len(&index, 7), a.len());
    let mut read = indexmap::IndexMap::<String, String>::default();
    let mut buf = a.as_slice();
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf).unwrap();
        assert_eq!(tag, 7);
        Field::merge(&mut read, wire, &mut buf, Depth::default()).unwrap();
    }
    assert_eq!(read.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(read, index);
}
