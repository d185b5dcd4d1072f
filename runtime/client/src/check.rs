//! Checks made before a request is sent: what the server would refuse anyway, refused without
//! a round trip and with the field named.

use kube::api::ListParams;
use kube::core::ObjectMeta;
use kube_codegen_apimachinery::selector::{FieldSelector, LabelSelector, is_dns1123_subdomain};

use crate::Error;

/// How an object must be named for a verb.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    /// `create`: a name, or a `generateName` for the server to complete.
    NameOrGenerate,
    /// Every other write: the object's name.
    Name,
}

/// The object's namespace against the client's (`None`: a cluster-scoped client), and its name.
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
    match (client_namespace, object_namespace) {
        (Some(client), Some(object)) if client != object => {
            return Err(invalid(
                "metadata.namespace",
                format!("the object is in namespace {object:?}, the client in {client:?}"),
            ));
        }
        (None, Some(object)) => {
            return Err(invalid(
                "metadata.namespace",
                format!("{kind} is cluster-scoped: it has no namespace (got {object:?})"),
            ));
        }
        _ => {}
    }
    match meta.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => self::name(kind, name),
        None => {
            let generate = meta.generate_name.as_deref().filter(|g| !g.is_empty());
            match (naming, generate) {
                (Naming::NameOrGenerate, Some(_)) => Ok(()),
                (Naming::NameOrGenerate, None) => Err(invalid(
                    "metadata.name",
                    "name or generateName is required".into(),
                )),
                (Naming::Name, _) => Err(invalid("metadata.name", "name is required".into())),
            }
        }
    }
}

/// A name given to a call (`get`, `delete`, …) or carried by an object.
pub(crate) fn name(kind: &'static str, name: &str) -> Result<(), Error> {
    let problems = is_dns1123_subdomain(name);
    if name.is_empty() {
        return Err(Error::InvalidObject {
            kind,
            field: "metadata.name",
            message: "name is required".into(),
        });
    }
    match problems.first() {
        None => Ok(()),
        Some(p) => Err(Error::InvalidObject {
            kind,
            field: "metadata.name",
            message: format!("{name:?}: {p}"),
        }),
    }
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
