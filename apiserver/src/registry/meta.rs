//! ObjectMeta conventions every resource shares, on k8s-openapi's typed `ObjectMeta`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::selector::{is_qualified_name, is_valid_label_value};
use crate::status::Cause;

/// Now, at the second (what Kubernetes stores in timestamps).
pub(crate) fn now() -> Time {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap_or_default())
}

/// The server's fields of a new object: `generateName` resolved, system fields set.
pub(crate) fn prepare_for_create(meta: &mut ObjectMeta) {
    if meta.name.as_deref().is_none_or(str::is_empty)
        && let Some(base) = meta.generate_name.as_deref().filter(|s| !s.is_empty())
    {
        meta.name = Some(crate::object::generate_name(base));
    }
    meta.uid = Some(uuid::Uuid::new_v4().to_string());
    meta.resource_version = None;
    meta.creation_timestamp = Some(now());
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.generation = Some(1);
    meta.self_link = None;
}

/// The server's fields of an update, kept from the stored object.
pub(crate) fn keep_system_fields(new: &mut ObjectMeta, old: &ObjectMeta) {
    new.uid.clone_from(&old.uid);
    new.creation_timestamp.clone_from(&old.creation_timestamp);
    new.deletion_timestamp.clone_from(&old.deletion_timestamp);
    new.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    new.generation = old.generation;
    new.namespace.clone_from(&old.namespace);
    new.self_link = None;
}

pub(crate) fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

pub(crate) fn is_deleting(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
}

pub(crate) fn has_finalizers(meta: &ObjectMeta) -> bool {
    meta.finalizers.as_ref().is_some_and(|f| !f.is_empty())
}

/// ObjectMeta rules every kind shares.
pub(crate) fn validate(meta: &ObjectMeta) -> Vec<Cause> {
    let mut causes = Vec::new();
    match meta.name.as_deref().filter(|n| !n.is_empty()) {
        None => causes.push(Cause::new(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required",
        )),
        Some(n) if !crate::object::is_dns_subdomain(n) => causes.push(Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{n}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        )),
        _ => {}
    }
    for (k, v) in meta.labels.iter().flatten() {
        for e in is_qualified_name(k) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "metadata.labels",
                format!("Invalid value: \"{k}\": {e}"),
            ));
        }
        for e in is_valid_label_value(v) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("metadata.labels[{k}]"),
                format!("Invalid value: \"{v}\": {e}"),
            ));
        }
    }
    causes
}
