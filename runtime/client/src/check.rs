//! Checks made before a request is sent: what the server would refuse anyway, refused without
//! a round trip and with the field named.

use kube::api::ListParams;
use kube::core::ObjectMeta;
use kube_codegen_apimachinery::selector::{FieldSelector, LabelSelector};
use kube_codegen_apimachinery::validation::{self, FieldError, ObjectMetaFields};

use crate::Error;

/// How an object must be named for a verb.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    /// `create`: a name, or a `generateName` for the server to complete.
    NameOrGenerate,
    /// Every other write: the object's name.
    Name,
}

/// The field paths the checks report (the error carries a `&'static str`).
fn static_field(field: &str) -> &'static str {
    [
        "metadata.name",
        "metadata.generateName",
        "metadata.namespace",
        "metadata.labels",
        "metadata.annotations",
        "metadata.finalizers",
    ]
    .into_iter()
    .find(|f| *f == field)
    .unwrap_or("metadata")
}

fn refused(kind: &'static str, e: &FieldError) -> Error {
    Error::InvalidObject {
        kind,
        field: static_field(&e.field),
        message: e.body(),
    }
}

/// An object's namespace (`None`: unset) against the client's (`None`: a cluster-scoped
/// client): the same, or unset.
pub(crate) fn namespaces(
    kind: &'static str,
    client: Option<&str>,
    object: Option<&str>,
) -> Result<(), Error> {
    let invalid = |message: String| Error::InvalidObject {
        kind,
        field: "metadata.namespace",
        message,
    };
    match (client, object) {
        (Some(client), Some(object)) if client != object => Err(invalid(format!(
            "the object is in namespace {object:?}, the client in {client:?}"
        ))),
        (None, Some(object)) => Err(invalid(format!(
            "{kind} is cluster-scoped: it has no namespace (got {object:?})"
        ))),
        _ => Ok(()),
    }
}

/// The object's namespace against the client's (`None`: a cluster-scoped client), its name, and
/// the metadata rules the server applies (the same implementation:
/// `kube_codegen_apimachinery::validation`): labels, annotations, and on create the
/// `generateName`, the namespace (a DNS-1123 label) and finalizers.
pub(crate) fn object(
    kind: &'static str,
    meta: &ObjectMeta,
    client_namespace: Option<&str>,
    naming: Naming,
) -> Result<(), Error> {
    let invalid = |field, message: String| Error::InvalidObject {
        kind,
        field,
        message,
    };
    let object_namespace = meta.namespace.as_deref().filter(|n| !n.is_empty());
    namespaces(kind, client_namespace, object_namespace)?;
    if let Some(ns) = client_namespace {
        namespace(kind, ns)?;
    }
    let name = meta.name.as_deref().unwrap_or_default();
    let generate_name = meta.generate_name.as_deref().unwrap_or_default();
    if name.is_empty() {
        match (naming, generate_name.is_empty()) {
            (Naming::NameOrGenerate, false) => {}
            (Naming::NameOrGenerate, true) => {
                return Err(invalid(
                    "metadata.name",
                    "name or generateName is required".into(),
                ));
            }
            (Naming::Name, _) => return Err(invalid("metadata.name", "name is required".into())),
        }
    }
    let fields = ObjectMetaFields {
        name,
        generate_name,
        namespace: client_namespace.unwrap_or_default(),
        labels: meta.labels.as_ref(),
        annotations: meta.annotations.as_ref(),
        finalizers: meta.finalizers.as_deref().unwrap_or_default(),
    };
    let errs = match naming {
        Naming::NameOrGenerate => validation::validate_object_meta(
            &fields,
            client_namespace.is_some(),
            validation::name_is_dns_subdomain,
        )
        .into_iter()
        // The server completes a `generateName` before it checks the name.
        .filter(|e| !(name.is_empty() && e.field == "metadata.name"))
        .collect(),
        Naming::Name => {
            let mut errs = name_errors(name);
            errs.extend(validation::validate_object_meta_update(&fields));
            errs
        }
    };
    match errs.first() {
        None => Ok(()),
        Some(e) => Err(refused(kind, e)),
    }
}

fn name_errors(name: &str) -> Vec<FieldError> {
    validation::name_is_dns_subdomain(name, false)
        .into_iter()
        .map(|m| FieldError::invalid("metadata.name", name, m))
        .collect()
}

/// A name given to a call (`get`, `delete`, `patch`, …): what can be one segment of a URL path,
/// as client-go's `Request.Name` checks. Whether it is a valid object name is the server's to
/// say: a `get` of `"UPPER"` is its 404, which `is_not_found()` tells, not a local error. (An
/// object a write carries is checked whole: [`object`].)
pub(crate) fn name(kind: &'static str, name: &str) -> Result<(), Error> {
    let msgs = validation::is_valid_path_segment_name(name);
    if name.is_empty() || !msgs.is_empty() {
        let why = if name.is_empty() {
            "name is required".to_string()
        } else {
            format!("invalid resource name {name:?}: {}", msgs.join(", "))
        };
        return Err(Error::InvalidObject {
            kind,
            field: "metadata.name",
            message: why,
        });
    }
    Ok(())
}

/// The namespace a namespaced client works in: what can be one segment of a URL path (client-go
/// refuses the same before it builds a request).
pub(crate) fn namespace(kind: &'static str, namespace: &str) -> Result<(), Error> {
    let msgs = validation::is_valid_path_segment_name(namespace);
    if namespace.is_empty() || !msgs.is_empty() {
        let why = if namespace.is_empty() {
            "must be non-empty".to_string()
        } else {
            msgs.join(", ")
        };
        return Err(Error::InvalidObject {
            kind,
            field: "metadata.namespace",
            message: format!("invalid namespace {namespace:?}: {why}"),
        });
    }
    Ok(())
}

/// The selectors of a list, watch or deletecollection.
pub(crate) fn selectors(
    label_selector: Option<&str>,
    field_selector: Option<&str>,
) -> Result<(), Error> {
    if let Some(s) = label_selector {
        LabelSelector::parse(s).map_err(|message| Error::InvalidSelector {
            parameter: "labelSelector",
            selector: s.to_string(),
            message,
        })?;
    }
    if let Some(s) = field_selector {
        FieldSelector::parse(s).map_err(|message| Error::InvalidSelector {
            parameter: "fieldSelector",
            selector: s.to_string(),
            message,
        })?;
    }
    Ok(())
}

pub(crate) fn list_params(lp: &ListParams) -> Result<(), Error> {
    selectors(lp.label_selector.as_deref(), lp.field_selector.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()).filter(|n: &String| !n.is_empty()),
            ..ObjectMeta::default()
        }
    }

    fn field(r: Result<(), Error>) -> (&'static str, String) {
        match r {
            Err(Error::InvalidObject { field, message, .. }) => (field, message),
            other => panic!("expected InvalidObject, got {other:?}"),
        }
    }

    #[test]
    fn objects_are_refused_as_the_server_would() {
        let create = |m: &ObjectMeta, ns| object("Alert", m, ns, Naming::NameOrGenerate);
        let update = |m: &ObjectMeta, ns| object("Alert", m, ns, Naming::Name);
        assert!(create(&meta("a1"), Some("default")).is_ok());

        // The label value the selector syntax would split: the server's own message.
        let mut m = meta("a1");
        m.labels = Some([("team".to_string(), "a,b".to_string())].into());
        let (f, message) = field(create(&m, Some("default")));
        assert_eq!(f, "metadata.labels");
        let server = validation::validate_labels(m.labels.as_ref().unwrap(), "metadata.labels");
        assert_eq!(message, server[0].body());
        assert!(message.starts_with("Invalid value: \"a,b\": a valid label must be"));
        assert_eq!(field(update(&m, Some("default"))).0, "metadata.labels");

        let mut m = meta("a1");
        m.annotations = Some([("k".to_string(), "v".repeat(300 * 1024))].into());
        let (f, message) = field(update(&m, Some("default")));
        assert_eq!(
            (f, message.as_str()),
            (
                "metadata.annotations",
                "Too long: may not be more than 262144 bytes"
            )
        );

        // generateName: completed by the server, checked as a prefix.
        let mut m = meta("");
        m.generate_name = Some("al-".into());
        assert!(create(&m, Some("default")).is_ok());
        m.generate_name = Some("Bad_".into());
        assert_eq!(
            field(create(&m, Some("default"))).0,
            "metadata.generateName"
        );

        // The namespace an object is created in is a DNS-1123 label.
        assert_eq!(
            field(create(&meta("a1"), Some("Bad_NS"))).0,
            "metadata.namespace"
        );
        assert_eq!(
            field(create(&meta("Bad_Name"), Some("default"))).0,
            "metadata.name"
        );

        let mut m = meta("a1");
        m.finalizers = Some(vec!["not a finalizer".into()]);
        assert_eq!(field(create(&m, Some("default"))).0, "metadata.finalizers");

        // Cluster-scoped: no namespace at all.
        assert!(create(&meta("a1"), None).is_ok());
    }

    #[test]
    fn namespaces_must_be_path_segments() {
        for ok in ["default", "kube-system", "Upper_Is_Not_Checked_Here"] {
            assert!(namespace("Alert", ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a%2Fb"] {
            let (f, message) = field(namespace("Alert", bad));
            assert_eq!(f, "metadata.namespace");
            assert!(message.starts_with("invalid namespace"), "{message}");
        }
        assert_eq!(
            field(namespace("Alert", "a/b")).1,
            "invalid namespace \"a/b\": may not contain '/'"
        );
        assert!(name("Alert", "a1").is_ok());
        assert_eq!(field(name("Alert", "..")).0, "metadata.name");
        assert_eq!(field(name("Alert", "")).1, "name is required");
    }
}
