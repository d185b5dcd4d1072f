//! The pager's deployment manifests (`examples/pager/deploy/*.yaml`) are checked without a
//! cluster: every document decodes strictly (unknown fields anywhere are errors) into its
//! k8s-openapi type, and the objects fit together — selectors and labels, Services and container
//! ports, APIServices and Services, service accounts, Secrets and their keys, RBAC bindings and
//! rights, images, the etcd members pager-apiserver names, and the command lines of
//! pager-apiserver (a fixed list of flags) and pager-controller (the flags and environment
//! variables its `main.rs` defines, read from the source).

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    Container, Namespace, PodSpec, Secret, Service, ServiceAccount, Volume,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use k8s_openapi::{NamespaceResourceScope, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const DEPLOY_DIR: &str = "examples/pager/deploy";
const CONTROLLER_MAIN: &str = "examples/pager/controller/src/main.rs";

const APISERVER: &str = "pager-apiserver";
const CONTROLLER: &str = "pager-controller";
const APISERVER_IMAGE: &str = "kube-codegen/pager-apiserver";
const CONTROLLER_IMAGE: &str = "kube-codegen/pager-controller";

/// The flags pager-apiserver's manifests may use.
const APISERVER_FLAGS: &[&str] = &[
    "listen",
    "storage",
    "etcd-servers",
    "etcd-prefix",
    "cert-dir",
    "tls-names",
    "tls-cert-file",
    "tls-private-key-file",
    "delegate-in-cluster",
    "authentication-kubeconfig",
    "authorization-kubeconfig",
    "authorization-policy-file",
    "client-ca-file",
    "requestheader-client-ca-file",
    "requestheader-allowed-names",
    "anonymous-auth",
    "compaction-interval",
    "shutdown-grace",
    "storage-version",
];

/// Roles a cluster has without these manifests: (kind, namespace of a Role, name).
const BUILT_IN_ROLES: &[(&str, &str, &str)] = &[
    ("ClusterRole", "", "system:auth-delegator"),
    (
        "Role",
        "kube-system",
        "extension-apiserver-authentication-reader",
    ),
];

/// Namespaces objects may live in without the manifests creating them.
const EXISTING_NAMESPACES: &[&str] = &["kube-system"];

// ---------------------------------------------------------------------------------------------
// Decoding.

macro_rules! objects {
    ($($variant:ident($ty:ty),)*) => {
        /// One decoded document.
        enum Object {
            $($variant($ty),)*
        }

        impl Object {
            /// `None`: no type for this apiVersion and kind.
            fn decode(api_version: &str, kind: &str, value: Value) -> Option<Result<Object, String>> {
                $(
                    if api_version == <$ty as Resource>::API_VERSION && kind == <$ty as Resource>::KIND {
                        return Some(strict::<$ty>(value).map(Object::$variant));
                    }
                )*
                None
            }

            fn kind(&self) -> &'static str {
                match self {
                    $(Object::$variant(_) => <$ty as Resource>::KIND,)*
                }
            }

            fn namespaced(&self) -> bool {
                match self {
                    $(Object::$variant(_) => {
                        TypeId::of::<<$ty as Resource>::Scope>() == TypeId::of::<NamespaceResourceScope>()
                    })*
                }
            }

            fn meta(&self) -> &ObjectMeta {
                match self {
                    $(Object::$variant(o) => &o.metadata,)*
                }
            }

            fn known() -> Vec<String> {
                vec![$(format!("{} {}", <$ty as Resource>::API_VERSION, <$ty as Resource>::KIND),)*]
            }
        }
    };
}

objects! {
    Namespace(Namespace),
    Service(Service),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    ServiceAccount(ServiceAccount),
    Secret(Secret),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    Role(Role),
    RoleBinding(RoleBinding),
    APIService(APIService),
    NetworkPolicy(NetworkPolicy),
}

/// Decodes `value` as `T`, failing on any field `T` does not have, at any depth (k8s-openapi's
/// `Deserialize` skips them; `serde_ignored` sees every skipped field and its path).
fn strict<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    let mut unknown = Vec::new();
    let typed = serde_ignored::deserialize(value, |path| unknown.push(path_text(&path)))
        .map_err(|e| e.to_string())?;
    if unknown.is_empty() {
        Ok(typed)
    } else {
        Err(format!("unknown field(s): {}", unknown.join(", ")))
    }
}

/// `spec.template.spec.containers.0.name`: serde_ignored's path without its `?` segments for
/// `Option`s and newtypes.
fn path_text(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    let (parent, segment) = match path {
        Path::Root => return String::new(),
        Path::Seq { parent, index } => (parent, index.to_string()),
        Path::Map { parent, key } => (parent, key.clone()),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            return path_text(parent);
        }
    };
    let parent = path_text(parent);
    if parent.is_empty() {
        segment
    } else {
        format!("{parent}.{segment}")
    }
}

struct Doc {
    file: String,
    object: Object,
}

impl Doc {
    fn name(&self) -> &str {
        self.object.meta().name.as_deref().unwrap_or("")
    }

    fn namespace(&self) -> &str {
        self.object.meta().namespace.as_deref().unwrap_or("")
    }

    /// `file: Kind namespace/name`, the prefix of every message about this object.
    fn what(&self) -> String {
        if self.namespace().is_empty() {
            format!("{}: {} {}", self.file, self.object.kind(), self.name())
        } else {
            format!(
                "{}: {} {}/{}",
                self.file,
                self.object.kind(),
                self.namespace(),
                self.name()
            )
        }
    }
}

/// Every `*.yaml` of the deploy directory as (file name, text), by name.
fn read_deploy_dir() -> Vec<(String, String)> {
    let dir = root().join(DEPLOY_DIR);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push((name, text));
        }
    }
    files.sort();
    files
}

/// Splits every file into its documents and decodes each; errors name the file and document.
fn decode_all(files: &[(String, String)]) -> (Vec<Doc>, Vec<String>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in files {
        let values: Vec<Value> = match serde_saphyr::from_multiple(text) {
            Ok(values) => values,
            Err(e) => {
                errors.push(format!("{file}: not valid YAML: {e}"));
                continue;
            }
        };
        if values.is_empty() {
            errors.push(format!("{file}: no documents"));
        }
        for (index, value) in values.into_iter().enumerate() {
            let field = |key: &str| {
                value
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let (api_version, kind) = (field("apiVersion"), field("kind"));
            let name = value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("<no name>")
                .to_owned();
            let at = format!("{file}: document {} ({kind} {name})", index + 1);
            match Object::decode(&api_version, &kind, value) {
                None => errors.push(format!(
                    "{at}: unknown apiVersion/kind `{api_version}` `{kind}` (known: {})",
                    Object::known().join(", ")
                )),
                Some(Err(e)) => errors.push(format!("{at}: {e}")),
                Some(Ok(object)) => docs.push(Doc {
                    file: file.clone(),
                    object,
                }),
            }
        }
    }
    (docs, errors)
}

// ---------------------------------------------------------------------------------------------
// Views of the decoded objects.

/// A Deployment or StatefulSet.
struct Workload<'a> {
    doc: &'a Doc,
    replicas: i32,
    selector: &'a LabelSelector,
    labels: BTreeMap<String, String>,
    pod: Option<&'a PodSpec>,
    claim_templates: Vec<String>,
    service_name: Option<&'a str>,
}

impl Workload<'_> {
    fn containers(&self) -> impl Iterator<Item = &Container> {
        self.pod.into_iter().flat_map(|p| {
            p.init_containers
                .iter()
                .flatten()
                .chain(p.containers.iter())
        })
    }

    fn volumes(&self) -> &[Volume] {
        self.pod.and_then(|p| p.volumes.as_deref()).unwrap_or(&[])
    }
}

struct Manifests<'a> {
    docs: &'a [Doc],
}

impl<'a> Manifests<'a> {
    fn workloads(&self) -> Vec<Workload<'a>> {
        let mut out = Vec::new();
        for doc in self.docs {
            match &doc.object {
                Object::Deployment(d) => {
                    let spec = &d.spec;
                    out.push(Workload {
                        doc,
                        replicas: spec.replicas.unwrap_or(1),
                        selector: &spec.selector,
                        labels: template_labels(&spec.template.metadata),
                        pod: spec.template.spec.as_ref(),
                        claim_templates: Vec::new(),
                        service_name: None,
                    });
                }
                Object::StatefulSet(s) => {
                    let spec = &s.spec;
                    out.push(Workload {
                        doc,
                        replicas: spec.replicas.unwrap_or(1),
                        selector: &spec.selector,
                        labels: template_labels(&spec.template.metadata),
                        pod: spec.template.spec.as_ref(),
                        claim_templates: spec
                            .volume_claim_templates
                            .iter()
                            .flatten()
                            .filter_map(|c| c.metadata.name.clone())
                            .collect(),
                        service_name: spec.service_name.as_deref(),
                    });
                }
                _ => {}
            }
        }
        out
    }

    fn find(&self, kind: &str, namespace: &str, name: &str) -> Option<&'a Doc> {
        self.docs
            .iter()
            .find(|d| d.object.kind() == kind && d.namespace() == namespace && d.name() == name)
    }

    fn services(&self) -> impl Iterator<Item = (&'a Doc, &'a Service)> {
        self.docs.iter().filter_map(|d| match &d.object {
            Object::Service(s) => Some((d, s)),
            _ => None,
        })
    }

    fn service(&self, namespace: &str, name: &str) -> Option<&'a Service> {
        match self.find("Service", namespace, name).map(|d| &d.object) {
            Some(Object::Service(s)) => Some(s),
            _ => None,
        }
    }

    fn secret_keys(&self, namespace: &str, name: &str) -> Option<BTreeSet<String>> {
        match self.find("Secret", namespace, name).map(|d| &d.object) {
            Some(Object::Secret(s)) => Some(
                s.data
                    .iter()
                    .flat_map(|d| d.keys())
                    .chain(s.string_data.iter().flat_map(|d| d.keys()))
                    .cloned()
                    .collect(),
            ),
            _ => None,
        }
    }

    fn cluster_roles(&self) -> impl Iterator<Item = (&'a Doc, &'a ClusterRole)> {
        self.docs.iter().filter_map(|d| match &d.object {
            Object::ClusterRole(r) => Some((d, r)),
            _ => None,
        })
    }

    /// The workload named `name` in `namespace` (a Deployment or StatefulSet).
    fn workload(&self, kind: &str, namespace: &str, name: &str) -> Option<Workload<'a>> {
        self.workloads().into_iter().find(|w| {
            w.doc.object.kind() == kind && w.doc.namespace() == namespace && w.doc.name() == name
        })
    }
}

fn template_labels(meta: &Option<ObjectMeta>) -> BTreeMap<String, String> {
    meta.as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// Whether `selector` selects `labels` (matchLabels and every matchExpressions operator).
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or(&[]);
        match e.operator.as_str() {
            "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            _ => false,
        }
    });
    by_labels && by_expressions
}

fn selector_is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|m| m.is_empty())
}

/// Whether `port` (a number or a name) is a port of `container`.
fn container_has_port(container: &Container, port: &IntOrString) -> bool {
    container.ports.iter().flatten().any(|p| match port {
        IntOrString::Int(n) => p.container_port == *n,
        IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
    })
}

fn port_text(port: &IntOrString) -> String {
    match port {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => format!("`{s}`"),
    }
}

/// The container's command line after the program: `command[1..]` then `args`.
fn command_line(container: &Container) -> Vec<String> {
    container
        .command
        .iter()
        .flatten()
        .skip(1)
        .chain(container.args.iter().flatten())
        .cloned()
        .collect()
}

/// `--name=value`, `--name value` and `--flag` as (name, value); anything else is an error.
fn parse_flags(args: &[String]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut flags = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let Some(flag) = args[i].strip_prefix("--") else {
            return Err(format!("`{}` is not a --flag", args[i]));
        };
        match flag.split_once('=') {
            Some((name, value)) => flags.push((name.to_owned(), Some(value.to_owned()))),
            None => {
                let value = args.get(i + 1).filter(|v| !v.starts_with('-')).cloned();
                if value.is_some() {
                    i += 1;
                }
                flags.push((flag.to_owned(), value));
            }
        }
        i += 1;
    }
    Ok(flags)
}

fn flag<'f>(flags: &'f [(String, Option<String>)], name: &str) -> Option<&'f str> {
    flags
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_deref().unwrap_or(""))
}

/// `repository:tag` → (repository, tag); the tag is `latest` when absent.
fn split_image(image: &str) -> (&str, &str) {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => (&image[..image.len() - tag.len() - 1], tag),
        None => (image, "latest"),
    }
}

/// `host:port` of a socket address flag.
fn split_host_port(address: &str) -> Option<(&str, i32)> {
    let (host, port) = address.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// `scheme://host:port` → (host, port).
fn url_host_port(url: &str) -> Option<(&str, i32)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    split_host_port(authority)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "::1"
}

/// Whether an RBAC rule allows `verb` on `group`/`resource`.
fn rule_allows(rule: &PolicyRule, verb: &str, group: &str, resource: &str) -> bool {
    let has = |list: &Option<Vec<String>>, want: &str| {
        list.iter().flatten().any(|x| x == want || x == "*")
    };
    rule.resource_names.as_ref().is_none_or(|n| n.is_empty())
        && has(&rule.api_groups, group)
        && has(&rule.resources, resource)
        && rule.verbs.iter().any(|v| v == verb || v == "*")
}

// ---------------------------------------------------------------------------------------------
// What pager-controller's main.rs defines.

#[derive(Debug, Default)]
struct ControllerCli {
    /// Long flag names.
    flags: BTreeSet<String>,
    /// Environment variables: clap's `env = "…"`, `std::env::var("…")`, and `RUST_LOG` when the
    /// log filter is read from the environment.
    env: BTreeSet<String>,
    /// Flags that must be given (no `Option`, no `bool`, no default), with their variable.
    required: Vec<(String, Option<String>)>,
    /// Flag → its environment variable.
    env_of: BTreeMap<String, String>,
}

/// Splits an attribute's arguments at top-level commas (not inside strings or brackets).
fn split_args(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

fn string_value(part: &str, key: &str) -> Option<String> {
    let (k, v) = part.split_once('=')?;
    (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
}

/// Reads the `#[arg(...)]` fields of the clap struct in `source`: each attribute (possibly over
/// several lines) belongs to the next field (`name: Type,`).
fn parse_controller_cli(source: &str) -> ControllerCli {
    let mut cli = ControllerCli::default();
    let mut pending: Option<String> = None;
    let mut open: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some(mut text) = open.take() {
            text.push(' ');
            text.push_str(line);
            if line.ends_with(")]") {
                pending = Some(text);
            } else {
                open = Some(text);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("#[arg(") {
            if line.ends_with(")]") {
                pending = Some(rest.to_owned());
            } else {
                open = Some(rest.to_owned());
            }
            continue;
        }
        if line.starts_with("///") || line.starts_with("#[") || line.is_empty() {
            continue;
        }
        let Some(attr) = pending.take() else { continue };
        let Some((field, ty)) = line.trim_end_matches(',').split_once(':') else {
            continue;
        };
        let field = field.trim().trim_start_matches("pub ").trim();
        let ty = ty.trim();
        let attr = attr.trim_end_matches(")]");
        let parts = split_args(attr);
        let long = parts.iter().find_map(|p| {
            if p == "long" {
                Some(field.replace('_', "-"))
            } else {
                string_value(p, "long")
            }
        });
        let env = parts.iter().find_map(|p| string_value(p, "env"));
        if let Some(env) = &env {
            cli.env.insert(env.clone());
        }
        let Some(long) = long else { continue };
        cli.flags.insert(long.clone());
        if let Some(env) = &env {
            cli.env_of.insert(long.clone(), env.clone());
        }
        let has_default = parts.iter().any(|p| p.starts_with("default_value"));
        if !ty.starts_with("Option<") && ty != "bool" && !has_default {
            cli.required.push((long, env));
        }
    }
    // Variables the program reads itself.
    for piece in source.split("env::var(\"").skip(1) {
        if let Some((name, _)) = piece.split_once('"') {
            cli.env.insert(name.to_owned());
        }
    }
    if source.contains("EnvFilter::try_from_default_env")
        || source.contains("EnvFilter::from_default_env")
    {
        cli.env.insert("RUST_LOG".to_owned());
    }
    cli
}

// ---------------------------------------------------------------------------------------------
// The checks.

/// Every problem of the manifests, each naming the file and object.
fn check(docs: &[Doc], controller_source: &str) -> Vec<String> {
    let m = Manifests { docs };
    let mut errors = Vec::new();
    check_metadata(&m, &mut errors);
    check_workloads(&m, &mut errors);
    check_services(&m, &mut errors);
    check_api_services(&m, &mut errors);
    check_rbac(&m, &mut errors);
    check_images(&m, &mut errors);
    check_etcd(&m, &mut errors);
    check_apiserver(&m, &mut errors);
    check_controller(&m, &parse_controller_cli(controller_source), &mut errors);
    errors
}

fn check_metadata(m: &Manifests, errors: &mut Vec<String>) {
    let namespaces: BTreeSet<&str> = m
        .docs
        .iter()
        .filter(|d| matches!(d.object, Object::Namespace(_)))
        .map(|d| d.name())
        .collect();
    let mut seen = BTreeMap::new();
    for doc in m.docs {
        let what = doc.what();
        if doc.name().is_empty() {
            errors.push(format!("{what}: metadata.name is missing"));
        }
        if doc.object.namespaced() {
            if doc.namespace().is_empty() {
                errors.push(format!(
                    "{what}: metadata.namespace is missing (the object would land in kubectl's current namespace)"
                ));
            } else if !namespaces.contains(doc.namespace())
                && !EXISTING_NAMESPACES.contains(&doc.namespace())
            {
                errors.push(format!(
                    "{what}: namespace `{}` is neither created by the manifests nor one of {EXISTING_NAMESPACES:?}",
                    doc.namespace()
                ));
            }
        } else if !doc.namespace().is_empty() {
            errors.push(format!(
                "{what}: a {} is cluster-scoped but has metadata.namespace",
                doc.object.kind()
            ));
        }
        let key = (doc.object.kind(), doc.namespace(), doc.name());
        if let Some(first) = seen.insert(key, &doc.file) {
            errors.push(format!("{what}: defined twice (also in {first})"));
        }
    }
}

fn check_workloads(m: &Manifests, errors: &mut Vec<String>) {
    for w in m.workloads() {
        let what = w.doc.what();
        let ns = w.doc.namespace();
        if selector_is_empty(w.selector) {
            errors.push(format!("{what}: spec.selector is empty"));
        } else if !selects(w.selector, &w.labels) {
            errors.push(format!(
                "{what}: spec.selector {:?} does not match the pod template's labels {:?}",
                w.selector.match_labels, w.labels
            ));
        }
        let Some(pod) = w.pod else {
            errors.push(format!("{what}: the pod template has no spec"));
            continue;
        };
        if let Some(sa) = pod
            .service_account_name
            .as_deref()
            .filter(|sa| *sa != "default")
            && m.find("ServiceAccount", ns, sa).is_none()
        {
            errors.push(format!(
                "{what}: serviceAccountName `{sa}` is not a ServiceAccount of namespace `{ns}` in the manifests"
            ));
        }
        let pod_run_as_non_root = pod
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_non_root)
            .unwrap_or(false);
        // Volumes: Secrets and their keys exist; every mount names a volume or claim template.
        let volume_names: BTreeSet<&str> = w.volumes().iter().map(|v| v.name.as_str()).collect();
        for volume in w.volumes() {
            let Some(secret) = &volume.secret else {
                continue;
            };
            if secret.optional == Some(true) {
                continue;
            }
            let name = secret.secret_name.as_deref().unwrap_or("");
            match m.secret_keys(ns, name) {
                None => errors.push(format!(
                    "{what}: volume `{}` mounts Secret `{name}`, which is not in namespace `{ns}` in the manifests",
                    volume.name
                )),
                Some(keys) => {
                    for item in secret.items.iter().flatten() {
                        if !keys.contains(&item.key) {
                            errors.push(format!(
                                "{what}: volume `{}` mounts key `{}` of Secret `{name}`, which has only {keys:?}",
                                volume.name, item.key
                            ));
                        }
                    }
                }
            }
        }
        for c in w.containers() {
            let at = format!("{what}: container `{}`", c.name);
            for mount in c.volume_mounts.iter().flatten() {
                if !volume_names.contains(mount.name.as_str())
                    && !w.claim_templates.contains(&mount.name)
                {
                    errors.push(format!(
                        "{at}: volumeMount `{}` names no volume of the pod{}",
                        mount.name,
                        if w.doc.object.kind() == "StatefulSet" {
                            " nor a volumeClaimTemplate"
                        } else {
                            ""
                        }
                    ));
                }
            }
            for env in c.env.iter().flatten() {
                let Some(r) = env
                    .value_from
                    .as_ref()
                    .and_then(|f| f.secret_key_ref.as_ref())
                else {
                    continue;
                };
                if r.optional == Some(true) {
                    continue;
                }
                match m.secret_keys(ns, &r.name) {
                    None => errors.push(format!(
                        "{at}: env `{}` reads Secret `{}`, which is not in namespace `{ns}` in the manifests",
                        env.name, r.name
                    )),
                    Some(keys) if !keys.contains(&r.key) => errors.push(format!(
                        "{at}: env `{}` reads key `{}` of Secret `{}`, which has only {keys:?}",
                        env.name, r.key, r.name
                    )),
                    Some(_) => {}
                }
            }
            for from in c.env_from.iter().flatten() {
                if let Some(r) = &from.secret_ref
                    && r.optional != Some(true)
                    && m.secret_keys(ns, &r.name).is_none()
                {
                    errors.push(format!(
                        "{at}: envFrom reads Secret `{}`, which is not in namespace `{ns}` in the manifests",
                        r.name
                    ));
                }
            }
            // Probes point at ports of the container.
            for (probe, which) in [
                (&c.readiness_probe, "readinessProbe"),
                (&c.liveness_probe, "livenessProbe"),
                (&c.startup_probe, "startupProbe"),
            ] {
                let Some(probe) = probe else { continue };
                let port = probe
                    .http_get
                    .as_ref()
                    .map(|h| &h.port)
                    .or(probe.tcp_socket.as_ref().map(|t| &t.port));
                if let Some(port) = port
                    && !container_has_port(c, port)
                {
                    errors.push(format!(
                        "{at}: {which} port {} is not a port of the container",
                        port_text(port)
                    ));
                }
            }
            // Hardening and resources.
            let sc = c.security_context.as_ref();
            if !(sc
                .and_then(|s| s.run_as_non_root)
                .unwrap_or(pod_run_as_non_root))
            {
                errors.push(format!("{at}: runAsNonRoot is not set"));
            }
            if sc.and_then(|s| s.read_only_root_filesystem) != Some(true) {
                errors.push(format!(
                    "{at}: securityContext.readOnlyRootFilesystem is not true"
                ));
            }
            if sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
                errors.push(format!(
                    "{at}: securityContext.allowPrivilegeEscalation is not false"
                ));
            }
            let drops_all = sc
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            if !drops_all {
                errors.push(format!(
                    "{at}: securityContext.capabilities.drop does not hold ALL"
                ));
            }
            let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
            for resource in ["cpu", "memory"] {
                if !requests.is_some_and(|r| r.contains_key(resource)) {
                    errors.push(format!("{at}: no resources.requests.{resource}"));
                }
            }
        }
    }
}

fn check_services(m: &Manifests, errors: &mut Vec<String>) {
    let workloads = m.workloads();
    for (doc, service) in m.services() {
        let what = doc.what();
        let Some(spec) = &service.spec else {
            errors.push(format!("{what}: no spec"));
            continue;
        };
        let selector = spec.selector.clone().unwrap_or_default();
        if selector.is_empty() {
            errors.push(format!("{what}: spec.selector is empty"));
            continue;
        }
        let selector = LabelSelector {
            match_labels: Some(selector),
            ..LabelSelector::default()
        };
        let selected: Vec<&Workload> = workloads
            .iter()
            .filter(|w| w.doc.namespace() == doc.namespace() && selects(&selector, &w.labels))
            .collect();
        if selected.is_empty() {
            errors.push(format!(
                "{what}: spec.selector {:?} matches no Deployment or StatefulSet pod template of namespace `{}`",
                selector.match_labels.unwrap_or_default(),
                doc.namespace()
            ));
            continue;
        }
        if spec.ports.as_ref().is_none_or(|p| p.is_empty()) {
            errors.push(format!("{what}: no ports"));
        }
        for port in spec.ports.iter().flatten() {
            let target = port
                .target_port
                .clone()
                .unwrap_or(IntOrString::Int(port.port));
            for w in &selected {
                if !w.containers().any(|c| container_has_port(c, &target)) {
                    errors.push(format!(
                        "{what}: port {} targets {}, which no container of {} declares",
                        port.port,
                        port_text(&target),
                        w.doc.what()
                    ));
                }
            }
        }
    }
}

fn check_api_services(m: &Manifests, errors: &mut Vec<String>) {
    // group → (version, versionPriority, groupPriorityMinimum)
    let mut groups: BTreeMap<String, Vec<(String, i32, i32)>> = BTreeMap::new();
    for doc in m.docs {
        let Object::APIService(api) = &doc.object else {
            continue;
        };
        let what = doc.what();
        let Some(spec) = &api.spec else {
            errors.push(format!("{what}: no spec"));
            continue;
        };
        let group = spec.group.clone().unwrap_or_default();
        let version = spec.version.clone().unwrap_or_default();
        if doc.name() != format!("{version}.{group}") {
            errors.push(format!(
                "{what}: the name must be `<version>.<group>` = `{version}.{group}`"
            ));
        }
        groups.entry(group).or_default().push((
            version,
            spec.version_priority,
            spec.group_priority_minimum,
        ));
        if spec.version_priority <= 0 || spec.group_priority_minimum <= 0 {
            errors.push(format!(
                "{what}: versionPriority and groupPriorityMinimum must be positive"
            ));
        }
        let skip = spec.insecure_skip_tls_verify == Some(true);
        let ca = spec.ca_bundle.as_ref().is_some_and(|b| !b.0.is_empty());
        if skip == ca {
            errors.push(format!(
                "{what}: exactly one of insecureSkipTLSVerify: true and caBundle must be set"
            ));
        }
        let Some(reference) = &spec.service else {
            errors.push(format!(
                "{what}: no spec.service (a local APIService is served by kube-apiserver itself)"
            ));
            continue;
        };
        let ns = reference.namespace.as_deref().unwrap_or("");
        let name = reference.name.as_deref().unwrap_or("");
        let port = reference.port.unwrap_or(443);
        match m.service(ns, name) {
            None => errors.push(format!(
                "{what}: spec.service {ns}/{name} is not a Service of the manifests"
            )),
            Some(service) => {
                let ports = service.spec.iter().flat_map(|s| s.ports.iter().flatten());
                if !ports.clone().any(|p| p.port == port) {
                    errors.push(format!(
                        "{what}: spec.service.port {port} is not a port of Service {ns}/{name} (it has {:?})",
                        ports.map(|p| p.port).collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    // The pager's group: every version the pager crate defines, v1beta1 preferred.
    let group = pager::v1beta1::GROUP_NAME;
    let expected: BTreeSet<&str> = [pager::v1alpha1::VERSION, pager::v1beta1::VERSION].into();
    let versions = groups.get(group).cloned().unwrap_or_default();
    let registered: BTreeSet<&str> = versions.iter().map(|(v, ..)| v.as_str()).collect();
    if registered != expected {
        errors.push(format!(
            "APIServices of {group}: versions {registered:?}, the pager serves {expected:?}"
        ));
    }
    let priority = |v: &str| versions.iter().find(|(x, ..)| x == v).map(|(_, p, _)| *p);
    if let (Some(alpha), Some(beta)) = (
        priority(pager::v1alpha1::VERSION),
        priority(pager::v1beta1::VERSION),
    ) && beta <= alpha
    {
        errors.push(format!(
            "APIServices of {group}: v1beta1 must be preferred (versionPriority {beta} > v1alpha1's {alpha})"
        ));
    }
    for (group, versions) in &groups {
        let minimums: BTreeSet<i32> = versions.iter().map(|(.., g)| *g).collect();
        if minimums.len() > 1 {
            errors.push(format!(
                "APIServices of {group}: groupPriorityMinimum differs between versions: {minimums:?}"
            ));
        }
    }
}

fn check_rbac(m: &Manifests, errors: &mut Vec<String>) {
    let built_in = |kind: &str, ns: &str, name: &str| BUILT_IN_ROLES.contains(&(kind, ns, name));
    for doc in m.docs {
        let what = doc.what();
        let (role_ref, subjects, binding_ns) = match &doc.object {
            Object::ClusterRoleBinding(b) => (&b.role_ref, &b.subjects, None),
            Object::RoleBinding(b) => (&b.role_ref, &b.subjects, Some(doc.namespace())),
            _ => continue,
        };
        for s in subjects.iter().flatten() {
            if s.kind != "ServiceAccount" {
                continue;
            }
            let ns = s.namespace.as_deref().or(binding_ns).unwrap_or("");
            if m.find("ServiceAccount", ns, &s.name).is_none() {
                errors.push(format!(
                    "{what}: subject ServiceAccount {ns}/{} is not in the manifests",
                    s.name
                ));
            }
        }
        if role_ref.api_group.as_deref() != Some("rbac.authorization.k8s.io") {
            errors.push(format!(
                "{what}: roleRef.apiGroup must be rbac.authorization.k8s.io"
            ));
        }
        let role_ns = match role_ref.kind.as_str() {
            "ClusterRole" => "",
            "Role" => match binding_ns {
                Some(ns) => ns,
                None => {
                    errors.push(format!(
                        "{what}: a ClusterRoleBinding cannot refer to a Role"
                    ));
                    continue;
                }
            },
            other => {
                errors.push(format!("{what}: roleRef.kind `{other}` is not a role kind"));
                continue;
            }
        };
        if m.find(&role_ref.kind, role_ns, &role_ref.name).is_none()
            && !built_in(&role_ref.kind, role_ns, &role_ref.name)
        {
            errors.push(format!(
                "{what}: roleRef {} `{}` is neither in the manifests nor a built-in role ({BUILT_IN_ROLES:?})",
                role_ref.kind, role_ref.name
            ));
        }
    }

    // Rules naming the pager's group name its resources.
    let group = <pager::v1beta1::Alert as Resource>::GROUP;
    let plural = <pager::v1beta1::Alert as Resource>::URL_PATH_SEGMENT;
    let resources: BTreeSet<String> = [
        "*".to_owned(),
        plural.to_owned(),
        format!("{plural}/status"),
    ]
    .into();
    for doc in m.docs {
        let rules = match &doc.object {
            Object::ClusterRole(r) => &r.rules,
            Object::Role(r) => &r.rules,
            _ => continue,
        };
        for rule in rules.iter().flatten() {
            if rule.api_groups.iter().flatten().any(|g| g == group) {
                for r in rule.resources.iter().flatten() {
                    if !resources.contains(r) {
                        errors.push(format!(
                            "{}: a rule of {group} names resource `{r}`; the group has {resources:?}",
                            doc.what()
                        ));
                    }
                }
            }
        }
    }

    // Alerts in the built-in admin, edit and view roles, through aggregation labels.
    const AGGREGATE: &str = "rbac.authorization.k8s.io/aggregate-to-";
    let mut aggregated: BTreeMap<&str, Vec<&PolicyRule>> = BTreeMap::new();
    for (doc, role) in m.cluster_roles() {
        for (key, value) in role.metadata.labels.iter().flatten() {
            let Some(target) = key.strip_prefix(AGGREGATE) else {
                continue;
            };
            if !["admin", "edit", "view"].contains(&target) {
                errors.push(format!(
                    "{}: label `{key}` aggregates into `{target}`, not a built-in user-facing role",
                    doc.what()
                ));
                continue;
            }
            if value != "true" {
                errors.push(format!("{}: label `{key}` must be \"true\"", doc.what()));
            }
            if target == "view" {
                for rule in role.rules.iter().flatten() {
                    for verb in &rule.verbs {
                        if !["get", "list", "watch"].contains(&verb.as_str()) {
                            errors.push(format!(
                                "{}: aggregated into `view` but grants `{verb}`",
                                doc.what()
                            ));
                        }
                    }
                }
            }
            aggregated
                .entry(target)
                .or_default()
                .extend(role.rules.iter().flatten());
        }
    }
    let wants: &[(&str, &[&str])] = &[
        (
            "admin",
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        ),
        (
            "edit",
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        ),
        ("view", &["get", "list", "watch"]),
    ];
    for (target, verbs) in wants {
        let rules = aggregated.get(target).cloned().unwrap_or_default();
        for verb in *verbs {
            if !rules.iter().any(|r| rule_allows(r, verb, group, plural)) {
                errors.push(format!(
                    "RBAC: no ClusterRole aggregated into `{target}` (label {AGGREGATE}{target}) grants `{verb}` on {group} {plural}"
                ));
            }
        }
    }

    // pager-controller's rights, and no more: it watches alerts in every namespace, claims them
    // (update) and sets status.sent (a server-side apply of alerts/status: patch).
    for (verb, resource) in [
        ("get", plural.to_owned()),
        ("list", plural.to_owned()),
        ("watch", plural.to_owned()),
        ("update", plural.to_owned()),
        ("patch", format!("{plural}/status")),
    ] {
        if !cluster_wide_allows(m, "pager", CONTROLLER, verb, group, &resource) {
            errors.push(format!(
                "RBAC: ServiceAccount pager/{CONTROLLER} may not `{verb}` {group} {resource} in every namespace"
            ));
        }
    }
    for (verb, group, resource) in [
        ("create", group, plural.to_owned()),
        ("delete", group, plural.to_owned()),
        ("patch", group, plural.to_owned()),
        ("update", group, format!("{plural}/status")),
        ("create", "", "events".to_owned()),
    ] {
        if cluster_wide_allows(m, "pager", CONTROLLER, verb, group, &resource) {
            errors.push(format!(
                "RBAC: ServiceAccount pager/{CONTROLLER} may `{verb}` {group} {resource}, which it never does (least privilege)"
            ));
        }
    }
}

/// Whether a ClusterRoleBinding of the manifests gives the service account a ClusterRole of the
/// manifests allowing `verb`.
fn cluster_wide_allows(
    m: &Manifests,
    sa_ns: &str,
    sa: &str,
    verb: &str,
    group: &str,
    resource: &str,
) -> bool {
    m.docs.iter().any(|doc| {
        let Object::ClusterRoleBinding(b) = &doc.object else {
            return false;
        };
        let bound = b.subjects.iter().flatten().any(|s| {
            s.kind == "ServiceAccount" && s.name == sa && s.namespace.as_deref() == Some(sa_ns)
        });
        bound
            && b.role_ref.kind == "ClusterRole"
            && m.cluster_roles().any(|(d, r)| {
                d.name() == b.role_ref.name
                    && r.rules
                        .iter()
                        .flatten()
                        .any(|rule| rule_allows(rule, verb, group, resource))
            })
    })
}

/// The single container of the Deployment `name` in namespace `pager`.
fn deployment_container<'a>(
    m: &Manifests<'a>,
    name: &str,
    errors: &mut Vec<String>,
) -> Option<(Workload<'a>, Container)> {
    let Some(w) = m.workload("Deployment", "pager", name) else {
        errors.push(format!("no Deployment pager/{name} in the manifests"));
        return None;
    };
    let container = w
        .pod
        .and_then(|p| {
            p.containers
                .iter()
                .find(|c| c.name == name)
                .or(p.containers.first())
        })
        .cloned();
    match container {
        Some(c) => Some((w, c)),
        None => {
            errors.push(format!("{}: no container", w.doc.what()));
            None
        }
    }
}

fn check_images(m: &Manifests, errors: &mut Vec<String>) {
    let mut tags = Vec::new();
    for (name, repository) in [(APISERVER, APISERVER_IMAGE), (CONTROLLER, CONTROLLER_IMAGE)] {
        let Some((w, c)) = deployment_container(m, name, errors) else {
            continue;
        };
        let image = c.image.as_deref().unwrap_or("");
        let (repo, tag) = split_image(image);
        if repo != repository {
            errors.push(format!(
                "{}: container `{}` runs image `{image}`, expected `{repository}:<tag>`",
                w.doc.what(),
                c.name
            ));
        }
        tags.push((w.doc.what(), tag.to_owned()));
    }
    if let [(a, ta), (b, tb)] = &tags[..]
        && ta != tb
    {
        errors.push(format!(
            "the pager images must have one tag: `{ta}` in {a}, `{tb}` in {b}"
        ));
    }
    // No other workload runs a pager image.
    for w in m.workloads() {
        for c in w.containers() {
            let (repo, _) = split_image(c.image.as_deref().unwrap_or(""));
            let expected = match repo {
                APISERVER_IMAGE => APISERVER,
                CONTROLLER_IMAGE => CONTROLLER,
                _ => continue,
            };
            if w.doc.name() != expected {
                errors.push(format!(
                    "{}: container `{}` runs {repo}, which belongs to Deployment {expected}",
                    w.doc.what(),
                    c.name
                ));
            }
        }
    }
}

/// The etcd StatefulSets: their members, the URLs they advertise and --initial-cluster agree.
fn check_etcd(m: &Manifests, errors: &mut Vec<String>) {
    for w in m.workloads() {
        let Some(service_name) = w.service_name else {
            continue;
        };
        let what = w.doc.what();
        let ns = w.doc.namespace();
        check_etcd_network_policy(m, &w, errors);
        // The governing Service is headless and selects the set's pods.
        match m.service(ns, service_name) {
            None => errors.push(format!(
                "{what}: serviceName `{service_name}` is not a Service of namespace `{ns}`"
            )),
            Some(s) => {
                let spec = s.spec.clone().unwrap_or_default();
                if spec.cluster_ip.as_deref() != Some("None") {
                    errors.push(format!(
                        "{what}: Service `{service_name}` must be headless (clusterIP: None) to give each pod a DNS name"
                    ));
                }
                let selector = LabelSelector {
                    match_labels: spec.selector,
                    ..LabelSelector::default()
                };
                if selector_is_empty(&selector) || !selects(&selector, &w.labels) {
                    errors.push(format!(
                        "{what}: Service `{service_name}` does not select the set's pods"
                    ));
                }
            }
        }
        for c in w.containers() {
            if !c.image.as_deref().unwrap_or("").contains("/etcd:") {
                continue;
            }
            let at = format!("{what}: container `{}`", c.name);
            let flags = match parse_flags(&command_line(c)) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let peer_port = c
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some("peer"))
                .map(|p| p.container_port)
                .unwrap_or(2380);
            let expected: Vec<String> = (0..w.replicas)
                .map(|i| {
                    let pod = format!("{}-{i}", w.doc.name());
                    format!("{pod}=http://{pod}.{service_name}.{ns}.svc:{peer_port}")
                })
                .collect();
            let initial: Vec<String> = flag(&flags, "initial-cluster")
                .unwrap_or("")
                .split(',')
                .map(str::to_owned)
                .collect();
            if initial != expected {
                errors.push(format!(
                    "{at}: --initial-cluster is {initial:?}, the set's {} members are {expected:?}",
                    w.replicas
                ));
            }
            // What each pod advertises, with $(POD_NAME) expanded, is its member URL.
            let pod_name_is_metadata_name = c.env.iter().flatten().any(|e| {
                e.name == "POD_NAME"
                    && e.value_from
                        .as_ref()
                        .and_then(|f| f.field_ref.as_ref())
                        .is_some_and(|f| f.field_path == "metadata.name")
            });
            let uses_pod_name = command_line(c).iter().any(|a| a.contains("$(POD_NAME)"));
            if uses_pod_name && !pod_name_is_metadata_name {
                errors.push(format!(
                    "{at}: the arguments use $(POD_NAME) but env POD_NAME is not the fieldRef metadata.name"
                ));
            }
            for i in 0..w.replicas {
                let pod = format!("{}-{i}", w.doc.name());
                let expand = |v: &str| v.replace("$(POD_NAME)", &pod);
                let name = flag(&flags, "name").map(expand);
                let advertised = flag(&flags, "initial-advertise-peer-urls").map(expand);
                if name.as_deref() != Some(pod.as_str()) {
                    errors.push(format!("{at}: pod {pod} would run as member {name:?}"));
                }
                let url = format!("http://{pod}.{service_name}.{ns}.svc:{peer_port}");
                if advertised.as_deref() != Some(url.as_str()) {
                    errors.push(format!(
                        "{at}: pod {pod} would advertise peer URL {advertised:?}, not {url}"
                    ));
                }
            }
        }
    }
}

/// A NetworkPolicy guards the etcd set: it selects the set's pods, and admits only pods (of
/// its namespace, by label) to them — pager-apiserver's on the client port among them. Any
/// other pod writing to etcd would go around authorization, admission and validation.
fn check_etcd_network_policy(m: &Manifests, w: &Workload, errors: &mut Vec<String>) {
    let what = w.doc.what();
    let ns = w.doc.namespace();
    let guarding: Vec<&NetworkPolicy> = m
        .docs
        .iter()
        .filter(|d| d.namespace() == ns)
        .filter_map(|d| match &d.object {
            Object::NetworkPolicy(p) => Some(p),
            _ => None,
        })
        .filter(|p| {
            p.spec.as_ref().is_some_and(|s| {
                s.pod_selector
                    .as_ref()
                    .is_some_and(|sel| !selector_is_empty(sel) && selects(sel, &w.labels))
                    && s.policy_types
                        .as_ref()
                        .is_some_and(|t| t.iter().any(|t| t == "Ingress"))
            })
        })
        .collect();
    if guarding.is_empty() {
        errors.push(format!(
            "{what}: no NetworkPolicy of `{ns}` selects its pods for Ingress: any pod could read and write the store around pager-apiserver"
        ));
        return;
    }
    let apiserver_labels = m
        .workloads()
        .into_iter()
        .find(|a| a.doc.name() == APISERVER)
        .map(|a| a.labels.clone());
    let mut admits_apiserver = false;
    for p in &guarding {
        let rules = p
            .spec
            .as_ref()
            .and_then(|s| s.ingress.clone())
            .unwrap_or_default();
        for rule in rules {
            let peers = rule.from.clone().unwrap_or_default();
            if peers.is_empty() {
                errors.push(format!(
                    "{what}: NetworkPolicy `{}` has an ingress rule from anywhere",
                    p.metadata.name.as_deref().unwrap_or("")
                ));
            }
            for peer in &peers {
                if peer.ip_block.is_some()
                    || peer.namespace_selector.is_some()
                    || peer.pod_selector.as_ref().is_none_or(selector_is_empty)
                {
                    errors.push(format!(
                        "{what}: NetworkPolicy `{}` admits more than labelled pods of `{ns}`",
                        p.metadata.name.as_deref().unwrap_or("")
                    ));
                }
            }
            let client_port = rule.ports.as_ref().is_none_or(|ports| {
                ports
                    .iter()
                    .any(|port| port.port == Some(IntOrString::Int(2379)))
            });
            if client_port
                && let Some(labels) = &apiserver_labels
                && peers.iter().any(|peer| {
                    peer.pod_selector
                        .as_ref()
                        .is_some_and(|sel| selects(sel, labels))
                })
            {
                admits_apiserver = true;
            }
        }
    }
    if !admits_apiserver {
        errors.push(format!(
            "{what}: its NetworkPolicy does not admit {APISERVER}'s pods to the client port 2379"
        ));
    }
}

fn check_apiserver(m: &Manifests, errors: &mut Vec<String>) {
    let Some((w, c)) = deployment_container(m, APISERVER, errors) else {
        return;
    };
    let at = format!("{}: container `{}`", w.doc.what(), c.name);
    let flags = match parse_flags(&command_line(&c)) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!("{at}: {e}"));
            return;
        }
    };
    for (name, _) in &flags {
        if !APISERVER_FLAGS.contains(&name.as_str()) {
            errors.push(format!(
                "{at}: unknown pager-apiserver flag --{name} (known: --{})",
                APISERVER_FLAGS.join(" --")
            ));
        }
    }
    // Listens where the Service and the probes send traffic.
    match flag(&flags, "listen").and_then(split_host_port) {
        None => errors.push(format!("{at}: no --listen=<host>:<port>")),
        Some((host, port)) => {
            if is_loopback(host) {
                errors.push(format!(
                    "{at}: --listen on loopback is unreachable from other pods"
                ));
            }
            if !container_has_port(&c, &IntOrString::Int(port)) {
                errors.push(format!("{at}: --listen port {port} is not a containerPort"));
            }
        }
    }
    // etcd: every server is a member pod of an etcd StatefulSet, through its headless Service.
    if flag(&flags, "storage") == Some("etcd") {
        let servers = flag(&flags, "etcd-servers").unwrap_or("");
        let sets: Vec<Workload> = m
            .workloads()
            .into_iter()
            .filter(|s| s.service_name.is_some())
            .collect();
        let mut named: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
        for url in servers.split(',').filter(|s| !s.is_empty()) {
            let Some((host, port)) = url_host_port(url) else {
                errors.push(format!(
                    "{at}: --etcd-servers entry `{url}` is not scheme://host:port"
                ));
                continue;
            };
            let host = host.strip_suffix(".cluster.local").unwrap_or(host);
            let member = sets.iter().find_map(|s| {
                let suffix = format!(
                    ".{}.{}.svc",
                    s.service_name.unwrap_or(""),
                    s.doc.namespace()
                );
                let pod = host.strip_suffix(&suffix)?;
                let index: i32 = pod
                    .strip_prefix(&format!("{}-", s.doc.name()))?
                    .parse()
                    .ok()?;
                Some((s, index))
            });
            let Some((set, index)) = member else {
                errors.push(format!(
                    "{at}: --etcd-servers host `{host}` is not `<set>-<i>.<service>.<namespace>.svc` of a StatefulSet in the manifests"
                ));
                continue;
            };
            if index >= set.replicas {
                errors.push(format!(
                    "{at}: --etcd-servers host `{host}`: {} has {} replicas, so no pod {}-{index}",
                    set.doc.what(),
                    set.replicas,
                    set.doc.name()
                ));
            }
            let service = m.service(set.doc.namespace(), set.service_name.unwrap_or(""));
            let client_port = service
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.ports.as_ref())
                .and_then(|ports| ports.iter().find(|p| p.port == port))
                .map(|p| p.target_port.clone().unwrap_or(IntOrString::Int(p.port)))
                .unwrap_or(IntOrString::Int(port));
            // Pod DNS names reach container ports directly: the port must be the client port.
            if !set
                .containers()
                .any(|c| container_has_port(c, &IntOrString::Int(port)))
            {
                errors.push(format!(
                    "{at}: --etcd-servers `{url}`: port {port} is not a container port of {} (its Service maps to {})",
                    set.doc.what(),
                    port_text(&client_port)
                ));
            }
            named.entry(set.doc.what()).or_default().insert(index);
        }
        if named.is_empty() {
            errors.push(format!("{at}: --storage=etcd without --etcd-servers"));
        }
        for set in &sets {
            if let Some(indexes) = named.get(&set.doc.what()) {
                let all: BTreeSet<i32> = (0..set.replicas).collect();
                if *indexes != all {
                    errors.push(format!(
                        "{at}: --etcd-servers names members {indexes:?} of {}, which has {all:?}",
                        set.doc.what()
                    ));
                }
            }
        }
    }
    // The serving certificate is written to --cert-dir: a writable volume when the root
    // filesystem is read-only.
    if let Some(dir) = flag(&flags, "cert-dir") {
        let mounted = c.volume_mounts.iter().flatten().any(|v| {
            (dir == v.mount_path || dir.starts_with(&format!("{}/", v.mount_path)))
                && v.read_only != Some(true)
        });
        if !mounted {
            errors.push(format!(
                "{at}: --cert-dir {dir} is not on a writable volumeMount (the root filesystem is read-only)"
            ));
        }
    }
    // The certificate covers the name the aggregator dials: <service>.<namespace>.svc.
    if let Some(names) = flag(&flags, "tls-names") {
        let names: BTreeSet<&str> = names.split(',').collect();
        for doc in m.docs {
            let Object::APIService(api) = &doc.object else {
                continue;
            };
            if let Some(s) = api.spec.as_ref().and_then(|s| s.service.as_ref()) {
                let dns = format!(
                    "{}.{}.svc",
                    s.name.as_deref().unwrap_or(""),
                    s.namespace.as_deref().unwrap_or("")
                );
                if !names.contains(dns.as_str()) {
                    errors.push(format!(
                        "{at}: --tls-names {names:?} lacks `{dns}`, the name {} dials",
                        doc.what()
                    ));
                }
            }
        }
    }
    // Delegation through the pod's service account needs its two bindings.
    if flag(&flags, "delegate-in-cluster").is_some() {
        let sa = w
            .pod
            .and_then(|p| p.service_account_name.as_deref())
            .unwrap_or("default");
        let ns = w.doc.namespace();
        let bound = |kind: &str, role: &str| {
            m.docs.iter().any(|d| {
                let (role_ref, subjects) = match &d.object {
                    Object::ClusterRoleBinding(b) if kind == "ClusterRole" => {
                        (&b.role_ref, &b.subjects)
                    }
                    Object::RoleBinding(b) if kind == "Role" && d.namespace() == "kube-system" => {
                        (&b.role_ref, &b.subjects)
                    }
                    _ => return false,
                };
                role_ref.kind == kind
                    && role_ref.name == role
                    && subjects.iter().flatten().any(|s| {
                        s.kind == "ServiceAccount"
                            && s.name == sa
                            && s.namespace.as_deref() == Some(ns)
                    })
            })
        };
        for (kind, role, place) in [
            (
                "ClusterRole",
                "system:auth-delegator",
                "a ClusterRoleBinding",
            ),
            (
                "Role",
                "extension-apiserver-authentication-reader",
                "a RoleBinding in kube-system",
            ),
            // NamespaceLifecycle watches the cluster's namespaces.
            (
                "ClusterRole",
                "pager-apiserver:namespace-reader",
                "a ClusterRoleBinding",
            ),
        ] {
            if !bound(kind, role) {
                errors.push(format!(
                    "{at}: --delegate-in-cluster needs {place} of ServiceAccount {ns}/{sa} to {kind} {role}"
                ));
            }
        }
    }
}

fn check_controller(m: &Manifests, cli: &ControllerCli, errors: &mut Vec<String>) {
    if cli.flags.is_empty() {
        errors.push(format!(
            "{CONTROLLER_MAIN}: no #[arg(long ...)] fields found"
        ));
        return;
    }
    let Some((w, c)) = deployment_container(m, CONTROLLER, errors) else {
        return;
    };
    let at = format!("{}: container `{}`", w.doc.what(), c.name);
    let flags = match parse_flags(&command_line(&c)) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!("{at}: {e}"));
            return;
        }
    };
    for (name, _) in &flags {
        if !cli.flags.contains(name) {
            errors.push(format!(
                "{at}: pager-controller has no flag --{name} ({CONTROLLER_MAIN} defines --{})",
                cli.flags.iter().cloned().collect::<Vec<_>>().join(" --")
            ));
        }
    }
    let env: BTreeMap<&str, Option<&str>> = c
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.as_str(), e.value.as_deref()))
        .collect();
    for name in env.keys() {
        if !cli.env.contains(*name) {
            errors.push(format!(
                "{at}: env {name} is read by nothing in {CONTROLLER_MAIN} (it reads {:?})",
                cli.env
            ));
        }
    }
    // A flag given twice (as a flag and through its variable) is confusing.
    let given = |long: &str| {
        let by_flag = flag(&flags, long).map(str::to_owned);
        let by_env = cli
            .env_of
            .get(long)
            .and_then(|v| env.get(v.as_str()))
            .map(|v| v.unwrap_or("").to_owned());
        (by_flag, by_env)
    };
    for (long, _) in cli.env_of.iter() {
        if let (Some(_), Some(_)) = given(long) {
            errors.push(format!(
                "{at}: --{long} is given both as a flag and as {}",
                cli.env_of[long]
            ));
        }
    }
    for (long, var) in &cli.required {
        let (by_flag, by_env) = given(long);
        if by_flag.is_none() && by_env.is_none() {
            errors.push(format!(
                "{at}: pager-controller needs --{long}{}",
                var.as_ref()
                    .map(|v| format!(" or env {v}"))
                    .unwrap_or_default()
            ));
        }
    }
    // The token: a file (which must be a key of a mounted Secret) or the environment.
    for needed in ["token-file", "token-from-env", "metrics-listen"] {
        if !cli.flags.contains(needed) {
            errors.push(format!(
                "{CONTROLLER_MAIN}: no --{needed} any more; update this test"
            ));
        }
    }
    let (file_flag, file_env) = given("token-file");
    match file_flag.or(file_env) {
        Some(path) => check_mounted_secret_file(m, &w, &c, &path, &at, errors),
        None if flag(&flags, "token-from-env").is_some() => {
            if !env.contains_key("PAGER_NOTIFIER_TOKEN") {
                errors.push(format!(
                    "{at}: --token-from-env without env PAGER_NOTIFIER_TOKEN"
                ));
            }
        }
        None => errors.push(format!(
            "{at}: no notifier token: --token-file (or {}) or --token-from-env",
            cli.env_of
                .get("token-file")
                .map(String::as_str)
                .unwrap_or("its variable")
        )),
    }
    // /healthz and /metrics are served on --metrics-listen: reachable, and a container port
    // when probes use it.
    let listen = flag(&flags, "metrics-listen").unwrap_or("127.0.0.1:9090");
    match split_host_port(listen) {
        None => errors.push(format!(
            "{at}: --metrics-listen `{listen}` is not host:port"
        )),
        Some((host, port)) => {
            let probed = c.readiness_probe.is_some() || c.liveness_probe.is_some();
            if probed && is_loopback(host) {
                errors.push(format!(
                    "{at}: probes cannot reach /healthz on {listen}: give --metrics-listen=0.0.0.0:<port>"
                ));
            }
            if !container_has_port(&c, &IntOrString::Int(port)) {
                errors.push(format!(
                    "{at}: --metrics-listen port {port} is not a containerPort"
                ));
            }
            for probe in [&c.readiness_probe, &c.liveness_probe]
                .into_iter()
                .flatten()
            {
                if let Some(h) = &probe.http_get {
                    let same =
                        match &h.port {
                            IntOrString::Int(p) => *p == port,
                            IntOrString::String(name) => c.ports.iter().flatten().any(|p| {
                                p.name.as_deref() == Some(name) && p.container_port == port
                            }),
                        };
                    if !same || !matches!(h.path.as_deref(), Some("/healthz" | "/readyz")) {
                        errors.push(format!(
                            "{at}: a probe asks {:?} on port {}, the controller serves /healthz and /readyz on {port}",
                            h.path,
                            port_text(&h.port)
                        ));
                    }
                }
            }
        }
    }
}

/// `path` is a file of a Secret volume mounted in `container`, and that key exists.
fn check_mounted_secret_file(
    m: &Manifests,
    w: &Workload,
    container: &Container,
    path: &str,
    at: &str,
    errors: &mut Vec<String>,
) {
    let mount = container
        .volume_mounts
        .iter()
        .flatten()
        .filter(|v| path.starts_with(&format!("{}/", v.mount_path.trim_end_matches('/'))))
        .max_by_key(|v| v.mount_path.len());
    let Some(mount) = mount else {
        errors.push(format!("{at}: the token file {path} is on no volumeMount"));
        return;
    };
    let relative = &path[mount.mount_path.trim_end_matches('/').len() + 1..];
    let volume = w.volumes().iter().find(|v| v.name == mount.name);
    let Some(secret) = volume.and_then(|v| v.secret.as_ref()) else {
        errors.push(format!(
            "{at}: the token file {path} is on volume `{}`, which is not a Secret",
            mount.name
        ));
        return;
    };
    let name = secret.secret_name.as_deref().unwrap_or("");
    let key = match &secret.items {
        Some(items) => match items.iter().find(|i| i.path == relative) {
            Some(item) => item.key.clone(),
            None => {
                errors.push(format!(
                    "{at}: the token file {path}: volume `{}` projects no item to `{relative}`",
                    mount.name
                ));
                return;
            }
        },
        None => relative.to_owned(),
    };
    match m.secret_keys(w.doc.namespace(), name) {
        Some(keys) if keys.contains(&key) => {}
        Some(keys) => errors.push(format!(
            "{at}: the token file {path} would be key `{key}` of Secret `{name}`, which has {keys:?}"
        )),
        None => errors.push(format!(
            "{at}: the token file {path} comes from Secret `{name}`, which is not in the manifests"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

fn controller_source() -> String {
    let path = root().join(CONTROLLER_MAIN);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decoding and cross-reference errors of a set of files.
fn problems(files: &[(String, String)]) -> Vec<String> {
    let (docs, mut errors) = decode_all(files);
    errors.extend(check(&docs, &controller_source()));
    errors
}

#[test]
fn the_deploy_manifests_decode_strictly_and_fit_together() {
    let files = read_deploy_dir();
    assert!(!files.is_empty(), "no *.yaml in {DEPLOY_DIR}");
    let (docs, _) = decode_all(&files);
    let errors = problems(&files);
    assert!(
        errors.is_empty(),
        "{} problem(s) in {DEPLOY_DIR}:\n  {}",
        errors.len(),
        errors.join("\n  ")
    );
    // Everything the walkthrough relies on is there (a Role of its own the pager does not need:
    // it binds kube-system's extension-apiserver-authentication-reader).
    let kinds: BTreeSet<&str> = docs.iter().map(|d| d.object.kind()).collect();
    for kind in Object::known() {
        let kind = kind.rsplit(' ').next().unwrap();
        assert!(
            kind == "Role" || kinds.contains(kind),
            "no {kind} in {DEPLOY_DIR}"
        );
    }
}

/// The real manifests with the first `from` outside a comment replaced by `to` in `file`.
fn edited(file: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let mut files = read_deploy_dir();
    let (_, text) = files
        .iter_mut()
        .find(|(name, _)| name == file)
        .unwrap_or_else(|| panic!("no {file}"));
    // The first occurrence outside a comment: an edit of a comment would prove nothing.
    let at = text
        .match_indices(from)
        .map(|(i, _)| i)
        .find(|&i| {
            let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
            !text[line_start..i].contains('#')
        })
        .unwrap_or_else(|| panic!("{file} has no `{from}` outside comments"));
    text.replace_range(at..at + from.len(), to);
    files
}

fn assert_problem(files: &[(String, String)], expected: &[&str]) {
    let errors = problems(files);
    assert!(
        errors
            .iter()
            .any(|e| expected.iter().all(|part| e.contains(part))),
        "expected a problem containing {expected:?}, got:\n  {}",
        errors.join("\n  ")
    );
}

#[test]
fn a_misspelled_field_at_any_depth_is_rejected() {
    let cases = [
        // (file, from, to, the path reported)
        (
            "00-namespace.yaml",
            "  labels:",
            "  lables:",
            "metadata.lables",
        ),
        (
            "41-notifier-secret.yaml",
            "stringData:",
            "stringdata:",
            "stringdata",
        ),
        (
            "21-apiserver.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesytem: true",
            "spec.template.spec.containers.0.securityContext.readOnlyRootFilesytem",
        ),
        (
            "21-apiserver.yaml",
            "scheme: HTTPS",
            "schema: HTTPS",
            "spec.template.spec.containers.0.readinessProbe.httpGet.schema",
        ),
        (
            "22-apiservice.yaml",
            "  insecureSkipTLSVerify: true\n  service:",
            "  insecureSkipTlsVerify: true\n  service:",
            "spec.insecureSkipTlsVerify",
        ),
        (
            "10-etcd.yaml",
            "          requests:\n            storage: 1Gi",
            "          requets:\n            storage: 1Gi",
            "spec.volumeClaimTemplates.0.spec.resources.requets",
        ),
        (
            "42-controller.yaml",
            "secretName: pager-notifier",
            "secretNmae: pager-notifier",
            "spec.template.spec.volumes.0.secret.secretNmae",
        ),
        ("40-controller-rbac.yaml", "roleRef:", "roleref:", "roleref"),
    ];
    for (file, from, to, path) in cases {
        assert_problem(&edited(file, from, to), &[file, "unknown field", path]);
    }
}

#[test]
fn an_unknown_kind_or_api_version_is_rejected() {
    let mut files = read_deploy_dir();
    files.push((
        "99-extra.yaml".into(),
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: x\n  namespace: pager\n".into(),
    ));
    assert_problem(
        &files,
        &["99-extra.yaml", "unknown apiVersion/kind", "DaemonSet"],
    );
    let files = edited("00-namespace.yaml", "apiVersion: v1", "apiVersion: v2");
    assert_problem(
        &files,
        &[
            "00-namespace.yaml",
            "unknown apiVersion/kind `v2` `Namespace`",
        ],
    );
    let files = edited(
        "22-apiservice.yaml",
        "apiregistration.k8s.io/v1",
        "apiregistration.k8s.io/v1beta2",
    );
    assert_problem(&files, &["22-apiservice.yaml", "unknown apiVersion/kind"]);
}

#[test]
fn broken_cross_references_are_reported() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "21-apiserver.yaml",
            "  selector:\n    app.kubernetes.io/name: pager-apiserver",
            "  selector:\n    app.kubernetes.io/name: pager-api",
            &[
                "21-apiserver.yaml: Service pager/pager-apiserver",
                "matches no Deployment",
            ],
        ),
        (
            "21-apiserver.yaml",
            "    matchLabels:\n      app.kubernetes.io/name: pager-apiserver",
            "    matchLabels:\n      app.kubernetes.io/name: pager",
            &[
                "Deployment pager/pager-apiserver",
                "does not match the pod template",
            ],
        ),
        (
            "21-apiserver.yaml",
            "targetPort: 8443",
            "targetPort: 8444",
            &["Service pager/pager-apiserver", "targets 8444"],
        ),
        (
            "10-etcd.yaml",
            "targetPort: peer",
            "targetPort: peers",
            &["Service pager/etcd", "targets `peers`"],
        ),
        (
            "22-apiservice.yaml",
            "    port: 443",
            "    port: 444",
            &["APIService v1beta1.pager.k8s.co", "spec.service.port 444"],
        ),
        (
            "22-apiservice.yaml",
            "  name: v1alpha1.pager.k8s.co",
            "  name: v1alpha2.pager.k8s.co",
            &["APIService v1alpha2.pager.k8s.co", "`<version>.<group>`"],
        ),
        (
            "22-apiservice.yaml",
            "  versionPriority: 20",
            "  versionPriority: 5",
            &["v1beta1 must be preferred"],
        ),
        (
            "22-apiservice.yaml",
            "    name: pager-apiserver\n    namespace: pager\n    port: 443\n---",
            "    name: pager-server\n    namespace: pager\n    port: 443\n---",
            &[
                "APIService v1beta1.pager.k8s.co",
                "pager/pager-server is not a Service",
            ],
        ),
        (
            "42-controller.yaml",
            "serviceAccountName: pager-controller",
            "serviceAccountName: pager-ctrl",
            &[
                "Deployment pager/pager-controller",
                "serviceAccountName `pager-ctrl`",
            ],
        ),
        (
            "42-controller.yaml",
            "- key: token",
            "- key: tokn",
            &[
                "Deployment pager/pager-controller",
                "key `tokn` of Secret `pager-notifier`",
            ],
        ),
        (
            "42-controller.yaml",
            "secretName: pager-notifier",
            "secretName: pager-notify",
            &["Secret `pager-notify`"],
        ),
        (
            "42-controller.yaml",
            "- --workers=4",
            "- --worker=4",
            &["Deployment pager/pager-controller", "no flag --worker"],
        ),
        (
            "42-controller.yaml",
            "- name: PAGER_NOTIFIER_URL",
            "- name: PAGER_NOTIFY_URL",
            &[
                "Deployment pager/pager-controller",
                "env PAGER_NOTIFY_URL is read by nothing",
            ],
        ),
        (
            "42-controller.yaml",
            "            - name: PAGER_NOTIFIER_URL\n              value: https://api.pushbullet.com\n",
            "",
            &[
                "Deployment pager/pager-controller",
                "needs --notifier-url or env PAGER_NOTIFIER_URL",
            ],
        ),
        (
            "42-controller.yaml",
            "value: /var/run/secrets/pager-notifier/token",
            "value: /var/run/secrets/pager-notifier/tok",
            &["the token file /var/run/secrets/pager-notifier/tok"],
        ),
        (
            "42-controller.yaml",
            "--metrics-listen=0.0.0.0:9090",
            "--metrics-listen=127.0.0.1:9090",
            &["probes cannot reach /healthz"],
        ),
        (
            "42-controller.yaml",
            "image: kube-codegen/pager-controller:latest",
            "image: kube-codegen/pager-controller:v2",
            &["one tag", "`latest`", "`v2`"],
        ),
        (
            "21-apiserver.yaml",
            "image: kube-codegen/pager-apiserver:latest",
            "image: example/pager-apiserver:latest",
            &[
                "Deployment pager/pager-apiserver",
                "expected `kube-codegen/pager-apiserver:<tag>`",
            ],
        ),
        (
            "21-apiserver.yaml",
            "- --storage=etcd",
            "- --storage=etcd\n            - --data=/tmp/pager.db",
            &["unknown pager-apiserver flag --data"],
        ),
        (
            "21-apiserver.yaml",
            "http://etcd-2.etcd.pager.svc:2379",
            "http://etcd-3.etcd.pager.svc:2379",
            &["etcd-3.etcd.pager.svc", "3 replicas, so no pod etcd-3"],
        ),
        (
            "21-apiserver.yaml",
            "http://etcd-1.etcd.pager.svc:2379",
            "http://etcd-1.etcd.default.svc:2379",
            &[
                "etcd-1.etcd.default.svc",
                "is not `<set>-<i>.<service>.<namespace>.svc`",
            ],
        ),
        (
            "21-apiserver.yaml",
            "pager-apiserver.pager.svc,",
            "pager-apiserver.default.svc,",
            &["--tls-names", "lacks `pager-apiserver.pager.svc`"],
        ),
        (
            "21-apiserver.yaml",
            "mountPath: /var/run/pager-apiserver/certs",
            "mountPath: /var/run/certs",
            &["--cert-dir /var/run/pager-apiserver/certs is not on a writable volumeMount"],
        ),
        (
            "10-etcd.yaml",
            "  replicas: 3",
            "  replicas: 4",
            &["StatefulSet pager/etcd", "--initial-cluster"],
        ),
        (
            "20-apiserver-rbac.yaml",
            "  name: extension-apiserver-authentication-reader",
            "  name: extension-apiserver-authentication-writer",
            &[
                "RoleBinding kube-system/pager-apiserver-auth-reader",
                "roleRef Role `extension-apiserver-authentication-writer`",
            ],
        ),
        (
            "40-controller-rbac.yaml",
            "  - kind: ServiceAccount\n    name: pager-controller",
            "  - kind: ServiceAccount\n    name: pager-controllers",
            &[
                "ClusterRoleBinding pager-controller",
                "ServiceAccount pager/pager-controllers",
            ],
        ),
        (
            "10-etcd.yaml",
            "              app.kubernetes.io/name: pager-apiserver",
            "              app.kubernetes.io/name: pager-apiservers",
            &["does not admit pager-apiserver's pods to the client port 2379"],
        ),
        (
            "10-etcd.yaml",
            "  policyTypes: [\"Ingress\"]",
            "  policyTypes: [\"Egress\"]",
            &["no NetworkPolicy of `pager` selects its pods for Ingress"],
        ),
        (
            "40-controller-rbac.yaml",
            "verbs: [\"patch\"]",
            "verbs: [\"update\"]",
            &["pager/pager-controller may not `patch` pager.k8s.co alerts/status"],
        ),
        (
            "40-controller-rbac.yaml",
            "verbs: [\"get\", \"list\", \"watch\", \"update\"]",
            "verbs: [\"get\", \"list\", \"watch\", \"update\", \"patch\", \"delete\"]",
            &["pager/pager-controller may `delete` pager.k8s.co alerts, which it never does"],
        ),
        (
            "30-alerts-aggregated-roles.yaml",
            "verbs: [\"get\", \"list\", \"watch\"]",
            "verbs: [\"get\", \"list\", \"watch\", \"delete\"]",
            &[
                "ClusterRole pager-alerts-view",
                "aggregated into `view` but grants `delete`",
            ],
        ),
        (
            "41-notifier-secret.yaml",
            "  namespace: pager\n",
            "",
            &["Secret pager-notifier", "metadata.namespace is missing"],
        ),
    ];
    for (file, from, to, expected) in cases {
        assert_problem(&edited(file, from, to), expected);
    }
}

#[test]
fn the_controller_flags_are_read_from_its_source() {
    let cli = parse_controller_cli(&controller_source());
    for f in [
        "notifier-url",
        "token-file",
        "token-from-env",
        "metrics-listen",
        "id",
    ] {
        assert!(cli.flags.contains(f), "--{f} not found in {cli:?}");
    }
    for v in [
        "PAGER_NOTIFIER_URL",
        "PAGER_NOTIFIER_TOKEN_FILE",
        "POD_NAME",
        "PAGER_NOTIFIER_TOKEN",
        "RUST_LOG",
    ] {
        assert!(cli.env.contains(v), "{v} not found in {cli:?}");
    }
    assert_eq!(cli.env_of.get("id").map(String::as_str), Some("POD_NAME"));
    assert!(
        cli.required.iter().any(|(f, _)| f == "notifier-url"),
        "{cli:?}"
    );
    assert!(
        !cli.required
            .iter()
            .any(|(f, _)| f == "workers" || f == "id"),
        "{cli:?}"
    );
    // Multi-line attributes and `long = "…"`.
    let cli = parse_controller_cli(
        "struct Cli {\n    #[arg(\n        long = \"from-env\",\n        env = \"X_Y\",\n    )]\n    some_thing: bool,\n    /// doc\n    #[arg(long, default_value = \"a,b\")]\n    other_flag: String,\n}\n",
    );
    assert_eq!(
        cli.flags,
        ["from-env".to_owned(), "other-flag".to_owned()].into()
    );
    assert!(
        cli.env.contains("X_Y") && cli.required.is_empty(),
        "{cli:?}"
    );
}
