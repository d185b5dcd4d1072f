//! The generated impls of k8s-openapi's `api` types (`src/k8s_api.rs`, from Kubernetes'
//! `generated.proto` files) checked against k8s-pb — generated from the same files by another
//! tool — both ways, and the `.proto` files for protoc compiled by protoc.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_codegen_protobuf::{from_slice, to_vec};
use prost::Message as _;

fn container() -> core::Container {
    core::Container {
        name: "app".into(),
        image: Some("nginx:1.27".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into()]),
        args: Some(vec!["echo hi".into()]),
        ports: Some(vec![core::ContainerPort {
            container_port: 8080,
            name: Some("http".into()),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        env: Some(vec![
            core::EnvVar {
                name: "PLAIN".into(),
                value: Some("v".into()),
                ..Default::default()
            },
            core::EnvVar {
                name: "SECRET".into(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: "creds".into(),
                        key: "token".into(),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]),
        resources: Some(core::ResourceRequirements {
            limits: Some(BTreeMap::from([("cpu".into(), Quantity("500m".into()))])),
            ..Default::default()
        }),
        liveness_probe: Some(core::Probe {
            http_get: Some(core::HTTPGetAction {
                path: Some("/healthz".into()),
                port: IntOrString::String("http".into()),
                ..Default::default()
            }),
            period_seconds: Some(10),
            ..Default::default()
        }),
        security_context: Some(core::SecurityContext {
            run_as_non_root: Some(true),
            capabilities: Some(core::Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: Some(vec![core::VolumeMount {
            name: "data".into(),
            mount_path: "/data".into(),
            read_only: Some(true),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

#[test]
fn a_container_reads_the_same_in_k8s_pb() {
    let c = container();
    let bytes = to_vec(&c);
    let theirs = k8s_pb::api::core::v1::Container::decode(&bytes[..]).unwrap();
    assert_eq!(theirs.name.as_deref(), Some("app"));
    assert_eq!(theirs.ports[0].container_port, Some(8080));
    let secret = theirs.env[1]
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!(
        secret
            .local_object_reference
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("creds")
    );
    let get = theirs
        .liveness_probe
        .as_ref()
        .unwrap()
        .handler
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    assert_eq!(get.port.as_ref().unwrap().str_val.as_deref(), Some("http"));
    assert_eq!(
        theirs
            .security_context
            .as_ref()
            .unwrap()
            .capabilities
            .as_ref()
            .unwrap()
            .drop,
        vec!["ALL"]
    );
    // k8s-pb's bytes read back to the same container, and ours too.
    assert_eq!(
        from_slice::<core::Container>(&theirs.encode_to_vec()).unwrap(),
        c
    );
    assert_eq!(from_slice::<core::Container>(&bytes).unwrap(), c);
}

/// Go embeds `EphemeralContainerCommon` in `EphemeralContainer`; k8s-openapi flattens it: the
/// fields travel in the nested message Kubernetes sends.
#[test]
fn embedded_structs_travel_nested() {
    let e = core::EphemeralContainer {
        name: "debug".into(),
        image: Some("busybox".into()),
        target_container_name: Some("app".into()),
        stdin: Some(true),
        ..Default::default()
    };
    let theirs = k8s_pb::api::core::v1::EphemeralContainer::decode(&to_vec(&e)[..]).unwrap();
    let common = theirs.ephemeral_container_common.as_ref().unwrap();
    assert_eq!(common.name.as_deref(), Some("debug"));
    assert_eq!(common.stdin, Some(true));
    assert_eq!(theirs.target_container_name.as_deref(), Some("app"));
    assert_eq!(
        from_slice::<core::EphemeralContainer>(&theirs.encode_to_vec()).unwrap(),
        e
    );
}

#[test]
fn a_service_reads_the_same_in_k8s_pb() {
    let s = core::Service {
        metadata: Default::default(),
        spec: Some(core::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(BTreeMap::from([("app".into(), "web".into())])),
            ports: Some(vec![core::ServicePort {
                port: 80,
                target_port: Some(IntOrString::Int(8080)),
                name: Some("http".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    };
    let theirs = k8s_pb::api::core::v1::Service::decode(&to_vec(&s)[..]).unwrap();
    let spec = theirs.spec.as_ref().unwrap();
    assert_eq!(spec.r#type.as_deref(), Some("ClusterIP"));
    assert_eq!(
        spec.ports[0].target_port.as_ref().unwrap().int_val,
        Some(8080)
    );
    assert_eq!(
        from_slice::<core::Service>(&theirs.encode_to_vec()).unwrap(),
        s
    );
}

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            proto_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
}

/// Every `.proto` file the runtime ships compiles with protoc (they are imported by the files
/// protobuf-gen writes).
#[test]
fn protoc_compiles_every_shipped_proto_file() {
    if std::process::Command::new("protoc")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "protoc is not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let mut files = Vec::new();
    proto_files(&root, &mut files);
    assert!(files.len() > 10, "{files:?}");
    let rel: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    let out = std::process::Command::new("protoc")
        .current_dir(&root)
        .arg("-I.")
        .arg("--descriptor_set_out=/dev/null")
        .args(&rel)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pod template (PodSpec and everything in it, with a field that only some Kubernetes versions
/// have) reads the same in k8s-pb, whose release had the same numbers.
#[test]
fn a_pod_template_reads_the_same_in_k8s_pb() {
    let t = core::PodTemplateSpec {
        metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            containers: vec![container()],
            init_containers: Some(vec![core::Container {
                name: "init".into(),
                ..Default::default()
            }]),
            node_selector: Some(BTreeMap::from([("disk".into(), "ssd".into())])),
            tolerations: Some(vec![core::Toleration {
                key: Some("k".into()),
                operator: Some("Exists".into()),
                ..Default::default()
            }]),
            volumes: Some(vec![core::Volume {
                name: "data".into(),
                empty_dir: Some(core::EmptyDirVolumeSource {
                    size_limit: Some(Quantity("1Gi".into())),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            restart_policy: Some("Always".into()),
            termination_grace_period_seconds: Some(30),
            ..Default::default()
        }),
    };
    let bytes = to_vec(&t);
    let theirs = k8s_pb::api::core::v1::PodTemplateSpec::decode(&bytes[..]).unwrap();
    let spec = theirs.spec.as_ref().unwrap();
    assert_eq!(spec.containers[0].name.as_deref(), Some("app"));
    assert_eq!(spec.init_containers[0].name.as_deref(), Some("init"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    let volume = &spec.volumes[0];
    assert_eq!(volume.name.as_deref(), Some("data"));
    let empty = volume
        .volume_source
        .as_ref()
        .unwrap()
        .empty_dir
        .as_ref()
        .unwrap();
    assert_eq!(
        empty.size_limit.as_ref().unwrap().string.as_deref(),
        Some("1Gi")
    );
    assert_eq!(
        from_slice::<core::PodTemplateSpec>(&theirs.encode_to_vec()).unwrap(),
        t
    );
    assert_eq!(from_slice::<core::PodTemplateSpec>(&bytes).unwrap(), t);
}

/// batch/v1 travels as Kubernetes numbers it in every supported version, including 1.37's
/// `scheduling` block, whose disruption modes are messages without fields (k8s-openapi holds
/// them as JSON): they are written empty and read back as `{}`.
#[test]
fn a_cron_job_reads_the_same_in_k8s_pb() {
    use k8s_openapi::api::batch::v1 as batch;
    let mut job = batch::JobSpec {
        parallelism: Some(2),
        completions: Some(4),
        backoff_limit: Some(3),
        template: core::PodTemplateSpec {
            metadata: None,
            spec: Some(core::PodSpec {
                containers: vec![container()],
                restart_policy: Some("OnFailure".into()),
                ..Default::default()
            }),
        },
        ..Default::default()
    };
    k8s_openapi::k8s_if_ge_1_37! {
        use k8s_openapi::api::scheduling::v1alpha3 as scheduling;
        job.scheduling = Some(batch::JobSchedulingConfiguration {
            disruption_mode: Some(scheduling::WorkloadPodGroupDisruptionMode {
                all: Some(scheduling::WorkloadPodGroupAllDisruptionMode(serde_json::json!({}))),
                single: None,
            }),
            ..Default::default()
        });
    }
    let cron = batch::CronJob {
        metadata: Default::default(),
        spec: batch::CronJobSpec {
            schedule: "*/5 * * * *".into(),
            concurrency_policy: Some("Forbid".into()),
            job_template: batch::JobTemplateSpec {
                metadata: None,
                spec: Some(job),
            },
            ..Default::default()
        },
        status: None,
    };
    let bytes = to_vec(&cron);
    let theirs = k8s_pb::api::batch::v1::CronJob::decode(&bytes[..]).unwrap();
    let spec = theirs.spec.as_ref().unwrap();
    assert_eq!(spec.schedule.as_deref(), Some("*/5 * * * *"));
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    let job = spec.job_template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!((job.parallelism, job.completions), (Some(2), Some(4)));
    let pod = job.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(pod.containers[0].name.as_deref(), Some("app"));
    // Ours reads back everything, the scheduling block too.
    assert_eq!(from_slice::<batch::CronJob>(&bytes).unwrap(), cron);
    // And what k8s-pb writes reads the same (it predates `scheduling`).
    let mut without = cron.clone();
    k8s_openapi::k8s_if_ge_1_37! {
        if let Some(spec) = without.spec.job_template.spec.as_mut() {
            spec.scheduling = None;
        }
    }
    assert_eq!(
        from_slice::<batch::CronJob>(&theirs.encode_to_vec()).unwrap(),
        without
    );
}

/// A message without fields (k8s-openapi: `struct X(pub serde_json::Value)`) is empty on the
/// wire whatever the JSON holds — Kubernetes' Go struct has nowhere to keep more — and reads as
/// `{}`.
#[test]
fn messages_without_fields_are_empty() {
    k8s_openapi::k8s_if_ge_1_37! {
        use k8s_openapi::api::scheduling::v1alpha3::WorkloadPodGroupAllDisruptionMode as All;
        assert!(to_vec(&All(serde_json::json!({}))).is_empty());
        assert!(to_vec(&All(serde_json::json!({"x": 1}))).is_empty());
        assert_eq!(from_slice::<All>(&[]).unwrap(), All(serde_json::json!({})));
        // Unknown fields (a newer server's) are skipped.
        assert_eq!(
            from_slice::<All>(&[0x0a, 0x01, b'x']).unwrap(),
            All(serde_json::json!({}))
        );
    }
}

/// Maps of lists (Go's `map[string]ExtraValue`, `type ExtraValue []string`) are written with
/// the wrapper message Kubernetes uses.
#[test]
fn maps_of_lists_read_the_same_in_k8s_pb() {
    use k8s_openapi::api::authentication::v1 as authn;
    let review = authn::TokenReview {
        metadata: Default::default(),
        spec: authn::TokenReviewSpec {
            token: "t0k3n".into(),
            audiences: Some(vec!["api".into()]),
        },
        status: Some(authn::TokenReviewStatus {
            authenticated: Some(true),
            user: Some(authn::UserInfo {
                username: Some("alice".into()),
                groups: Some(vec!["dev".into(), "ops".into()]),
                extra: Some(BTreeMap::from([
                    ("scopes".into(), vec!["read".into(), "write".into()]),
                    ("empty".into(), vec![]),
                ])),
                uid: None,
            }),
            ..Default::default()
        }),
    };
    let bytes = to_vec(&review);
    let theirs = k8s_pb::api::authentication::v1::TokenReview::decode(&bytes[..]).unwrap();
    let user = theirs.status.as_ref().unwrap().user.as_ref().unwrap();
    assert_eq!(user.extra["scopes"].items, vec!["read", "write"]);
    assert!(user.extra["empty"].items.is_empty());
    assert_eq!(from_slice::<authn::TokenReview>(&bytes).unwrap(), review);
    assert_eq!(
        from_slice::<authn::TokenReview>(&theirs.encode_to_vec()).unwrap(),
        review
    );
}

/// Embedded structs that embed more (`NamedRuleWithOperations` ⊃ `RuleWithOperations` ⊃
/// `Rule`, all flattened by k8s-openapi) travel nested at every level.
#[test]
fn embedded_structs_nest_at_every_level() {
    use k8s_openapi::api::admissionregistration::v1 as admission;
    let rules = admission::MatchResources {
        resource_rules: Some(vec![admission::NamedRuleWithOperations {
            resource_names: Some(vec!["one".into()]),
            operations: Some(vec!["CREATE".into(), "UPDATE".into()]),
            api_groups: Some(vec!["pager.k8s.co".into()]),
            api_versions: Some(vec!["v1beta1".into()]),
            resources: Some(vec!["alerts".into()]),
            scope: Some("Namespaced".into()),
        }]),
        match_policy: Some("Equivalent".into()),
        ..Default::default()
    };
    let bytes = to_vec(&rules);
    let theirs =
        k8s_pb::api::admissionregistration::v1::MatchResources::decode(&bytes[..]).unwrap();
    let named = &theirs.resource_rules[0];
    assert_eq!(named.resource_names, vec!["one"]);
    let with_ops = named.rule_with_operations.as_ref().unwrap();
    assert_eq!(with_ops.operations, vec!["CREATE", "UPDATE"]);
    let rule = with_ops.rule.as_ref().unwrap();
    assert_eq!(rule.api_groups, vec!["pager.k8s.co"]);
    assert_eq!(rule.resources, vec!["alerts"]);
    assert_eq!(rule.scope.as_deref(), Some("Namespaced"));
    assert_eq!(
        from_slice::<admission::MatchResources>(&bytes).unwrap(),
        rules
    );
    assert_eq!(
        from_slice::<admission::MatchResources>(&theirs.encode_to_vec()).unwrap(),
        rules
    );
}

/// apimachinery's DeleteOptions (with Preconditions), embedded in policy's Eviction, reads the
/// same in k8s-pb; its `apiVersion`/`kind` have no protobuf field, as in Kubernetes.
#[test]
fn an_eviction_reads_the_same_in_k8s_pb() {
    use k8s_openapi::api::policy::v1::Eviction;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    let eviction = Eviction {
        metadata: meta::ObjectMeta {
            name: Some("web-0".into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        delete_options: Some(meta::DeleteOptions {
            grace_period_seconds: Some(30),
            preconditions: Some(meta::Preconditions {
                uid: Some("6f1c".into()),
                resource_version: Some("42".into()),
            }),
            propagation_policy: Some("Foreground".into()),
            dry_run: Some(vec!["All".into()]),
            ..Default::default()
        }),
    };
    let bytes = to_vec(&eviction);
    let theirs = k8s_pb::api::policy::v1::Eviction::decode(&bytes[..]).unwrap();
    let options = theirs.delete_options.as_ref().unwrap();
    assert_eq!(options.grace_period_seconds, Some(30));
    assert_eq!(
        options
            .preconditions
            .as_ref()
            .unwrap()
            .resource_version
            .as_deref(),
        Some("42")
    );
    assert_eq!(options.dry_run, vec!["All"]);
    assert_eq!(from_slice::<Eviction>(&bytes).unwrap(), eviction);
    assert_eq!(
        from_slice::<Eviction>(&theirs.encode_to_vec()).unwrap(),
        eviction
    );
}

/// apiextensions-apiserver's CustomResourceDefinition, with a schema using every self-marshalling
/// type (`JSON` defaults and enums, schema-or-array items, schema-or-bool additional properties,
/// schema-or-strings dependencies, `$ref`, `x-kubernetes-*`), reads the same in k8s-pb.
#[test]
fn a_custom_resource_definition_reads_the_same_in_k8s_pb() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    let string = ext::JSONSchemaProps {
        type_: Some("string".into()),
        enum_: Some(vec![ext::JSON("low".into()), ext::JSON("high".into())]),
        default: Some(ext::JSON("low".into())),
        ..Default::default()
    };
    let schema = ext::JSONSchemaProps {
        type_: Some("object".into()),
        required: Some(vec!["spec".into()]),
        properties: Some(BTreeMap::from([
            (
                "spec".into(),
                ext::JSONSchemaProps {
                    type_: Some("object".into()),
                    properties: Some(BTreeMap::from([
                        ("priority".into(), string.clone()),
                        (
                            "tags".into(),
                            ext::JSONSchemaProps {
                                type_: Some("array".into()),
                                items: Some(ext::JSONSchemaPropsOrArray::Schema(Box::new(
                                    string.clone(),
                                ))),
                                x_kubernetes_list_type: Some("set".into()),
                                ..Default::default()
                            },
                        ),
                        (
                            "labels".into(),
                            ext::JSONSchemaProps {
                                type_: Some("object".into()),
                                additional_properties: Some(ext::JSONSchemaPropsOrBool::Schema(
                                    Box::new(string.clone()),
                                )),
                                ..Default::default()
                            },
                        ),
                    ])),
                    additional_properties: Some(ext::JSONSchemaPropsOrBool::Bool(false)),
                    dependencies: Some(BTreeMap::from([(
                        "tags".into(),
                        ext::JSONSchemaPropsOrStringArray::Strings(vec!["priority".into()]),
                    )])),
                    ..Default::default()
                },
            ),
            (
                "status".into(),
                ext::JSONSchemaProps {
                    x_kubernetes_preserve_unknown_fields: Some(true),
                    ref_path: None,
                    default: Some(ext::JSON(serde_json::json!({"phase": "New", "n": 1}))),
                    ..Default::default()
                },
            ),
        ])),
        ..Default::default()
    };
    let crd = ext::CustomResourceDefinition {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("alerts.pager.k8s.co".into()),
            ..Default::default()
        },
        spec: ext::CustomResourceDefinitionSpec {
            group: "pager.k8s.co".into(),
            names: ext::CustomResourceDefinitionNames {
                plural: "alerts".into(),
                kind: "Alert".into(),
                short_names: Some(vec!["al".into()]),
                ..Default::default()
            },
            scope: "Namespaced".into(),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: "v1beta1".into(),
                served: true,
                storage: true,
                schema: Some(ext::CustomResourceValidation {
                    open_api_v3_schema: Some(schema),
                }),
                subresources: Some(ext::CustomResourceSubresources {
                    status: Some(ext::CustomResourceSubresourceStatus(serde_json::json!({}))),
                    scale: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
        status: None,
    };
    let bytes = to_vec(&crd);
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as pb;
    let theirs = pb::CustomResourceDefinition::decode(&bytes[..]).unwrap();
    let spec = theirs.spec.as_ref().unwrap();
    assert_eq!(spec.group.as_deref(), Some("pager.k8s.co"));
    let version = &spec.versions[0];
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    let root = version
        .schema
        .as_ref()
        .unwrap()
        .open_apiv3_schema
        .as_ref()
        .unwrap();
    let spec_schema = &root.properties["spec"];
    let priority = &spec_schema.properties["priority"];
    assert_eq!(
        priority
            .r#enum
            .iter()
            .map(|j| j.raw.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![b"\"low\"".to_vec(), b"\"high\"".to_vec()]
    );
    let tags = &spec_schema.properties["tags"];
    assert_eq!(
        tags.items
            .as_ref()
            .unwrap()
            .schema
            .as_ref()
            .unwrap()
            .r#type
            .as_deref(),
        Some("string")
    );
    let labels = spec_schema.properties["labels"]
        .additional_properties
        .as_ref()
        .unwrap();
    assert_eq!(labels.allows, Some(true));
    assert!(labels.schema.is_some());
    let closed = spec_schema.additional_properties.as_ref().unwrap();
    assert_eq!(
        (closed.allows, closed.schema.is_none()),
        (Some(false), true)
    );
    assert_eq!(spec_schema.dependencies["tags"].property, vec!["priority"]);
    assert_eq!(
        root.properties["status"].x_kubernetes_preserve_unknown_fields,
        Some(true)
    );
    assert_eq!(
        from_slice::<ext::CustomResourceDefinition>(&bytes).unwrap(),
        crd
    );
    assert_eq!(
        from_slice::<ext::CustomResourceDefinition>(&theirs.encode_to_vec()).unwrap(),
        crd
    );
}

/// kube-aggregator's APIService (what registers an aggregated API server) reads the same in
/// k8s-pb.
#[test]
fn an_api_service_reads_the_same_in_k8s_pb() {
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as reg;
    let service = reg::APIService {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("v1beta1.pager.k8s.co".into()),
            ..Default::default()
        },
        spec: Some(reg::APIServiceSpec {
            group: Some("pager.k8s.co".into()),
            version: Some("v1beta1".into()),
            group_priority_minimum: 1000,
            version_priority: 15,
            service: Some(reg::ServiceReference {
                namespace: Some("pager".into()),
                name: Some("pager-apiserver".into()),
                port: Some(443),
            }),
            ca_bundle: Some(k8s_openapi::ByteString(
                b"-----BEGIN CERTIFICATE-----".to_vec(),
            )),
            ..Default::default()
        }),
        status: None,
    };
    let bytes = to_vec(&service);
    use k8s_pb::kube_aggregator::pkg::apis::apiregistration::v1 as pb;
    let theirs = pb::APIService::decode(&bytes[..]).unwrap();
    let spec = theirs.spec.as_ref().unwrap();
    assert_eq!(spec.group_priority_minimum, Some(1000));
    assert_eq!(spec.service.as_ref().unwrap().port, Some(443));
    assert_eq!(from_slice::<reg::APIService>(&bytes).unwrap(), service);
    assert_eq!(
        from_slice::<reg::APIService>(&theirs.encode_to_vec()).unwrap(),
        service
    );
}

/// A schema nested far deeper than any real one (`not` inside `not`, 100,000 levels) is refused
/// with an error, not a stack overflow.
#[test]
fn deeply_nested_schemas_are_refused() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    let mut bytes: Vec<u8> = Vec::new();
    for _ in 0..100_000 {
        let mut outer = Vec::with_capacity(bytes.len() + 8);
        kube_codegen_protobuf::encode_bytes(28, &bytes, &mut outer);
        bytes = outer;
    }
    let err = from_slice::<JSONSchemaProps>(&bytes).unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}

proptest::proptest! {
    /// Whatever the bytes, the generated and hand-written decoders of today's shapes (wrapper
    /// maps, empty messages, multi-level embedding, required fields read into locals, schemas
    /// and their self-marshalling parts, discovery documents) answer or refuse: never a panic.
    #[test]
    fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
        let _ = from_slice::<ext::CustomResourceDefinition>(&bytes);
        let _ = from_slice::<ext::JSONSchemaProps>(&bytes);
        let _ = from_slice::<ext::JSONSchemaPropsOrBool>(&bytes);
        let _ = from_slice::<ext::JSON>(&bytes);
        let _ = from_slice::<k8s_openapi::api::authentication::v1::TokenReview>(&bytes);
        let _ = from_slice::<k8s_openapi::api::admissionregistration::v1::MatchResources>(&bytes);
        let _ = from_slice::<k8s_openapi::api::events::v1::Event>(&bytes);
        let _ = from_slice::<k8s_openapi::api::batch::v1::CronJob>(&bytes);
        let _ = from_slice::<k8s_openapi::api::policy::v1::Eviction>(&bytes);
        let _ = from_slice::<meta::APIResourceList>(&bytes);
        let _ = from_slice::<meta::APIGroupList>(&bytes);
        let _ = from_slice::<k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService>(&bytes);
    }

    /// A valid encoding with one byte changed still decodes or is refused, never a panic.
    #[test]
    fn corrupted_encodings_decode_without_panicking(at in 0usize..4096, to in proptest::prelude::any::<u8>()) {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
        let schema = ext::JSONSchemaProps {
            type_: Some("object".into()),
            properties: Some(BTreeMap::from([(
                "a".into(),
                ext::JSONSchemaProps {
                    items: Some(ext::JSONSchemaPropsOrArray::Schemas(vec![Default::default()])),
                    additional_properties: Some(ext::JSONSchemaPropsOrBool::Bool(true)),
                    default: Some(ext::JSON(serde_json::json!({"x": [1, 2]}))),
                    ..Default::default()
                },
            )])),
            dependencies: Some(BTreeMap::from([(
                "a".into(),
                ext::JSONSchemaPropsOrStringArray::Strings(vec!["b".into()]),
            )])),
            ..Default::default()
        };
        let mut bytes = to_vec(&schema);
        let i = at % bytes.len();
        bytes[i] = to;
        let _ = from_slice::<ext::JSONSchemaProps>(&bytes);
    }
}

/// A `JSONSchemaPropsOrArray` with both a schema and a list (which Go can hold) reads as the
/// list, as Go marshals it.
#[test]
fn schema_or_array_with_both_reads_as_the_list() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as pb;
    let string = pb::JsonSchemaProps {
        r#type: Some("string".into()),
        ..Default::default()
    };
    let both = pb::JsonSchemaPropsOrArray {
        schema: Some(Box::new(pb::JsonSchemaProps::default())),
        j_son_schemas: vec![string.clone(), string],
    };
    match from_slice::<ext::JSONSchemaPropsOrArray>(&both.encode_to_vec()).unwrap() {
        ext::JSONSchemaPropsOrArray::Schemas(list) => assert_eq!(list.len(), 2),
        other => panic!("read as {other:?}"),
    }
}
