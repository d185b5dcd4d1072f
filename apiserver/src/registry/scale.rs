//! The `autoscaling/v1` `Scale` view of an object of a kind tagged `+scale`, read from and
//! written to the paths its [`ScaleInfo`] names: what the `/scale` handlers answer and what
//! admission webhooks on `<plural>/scale` see (Go's `scaleFromCustomResource` and the replicas
//! its `scaleUpdatedObjectInfo` writes back).

use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec, ScaleStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube_codegen_scheme::ScaleInfo;
use serde_json::Value;

use crate::status::ApiError;

/// The object's `Scale`, as Go's `scaleFromCustomResource` makes it: a missing count is 0.
pub(crate) fn scale_of(obj: &Value, info: &ScaleInfo) -> Result<Scale, ApiError> {
    let meta: ObjectMeta = obj
        .get("metadata")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| ApiError::internal(format!("the object's metadata: {e}")))?
        .unwrap_or_default();
    let spec = replicas(obj, info.spec_replicas_path)?;
    let status = replicas(obj, info.status_replicas_path)?;
    // A selector with no text form (a stored `LabelSelector` the server accepted but cannot
    // write as a selector) is left out: it never fails a read, nor the answer to a write made.
    let selector = match info.label_selector_path {
        Some(path) => selector(obj, path).unwrap_or_else(|e| {
            tracing::warn!(reason = %e.message, "the scale's selector has no text form");
            None
        }),
        None => None,
    };
    Ok(Scale {
        metadata: ObjectMeta {
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resource_version: meta.resource_version,
            creation_timestamp: meta.creation_timestamp,
            ..ObjectMeta::default()
        },
        // Go's `replicas,omitempty`.
        spec: Some(ScaleSpec {
            replicas: (spec != 0).then_some(spec),
        }),
        status: Some(ScaleStatus {
            replicas: status,
            selector,
        }),
    })
}

fn at<'v>(obj: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter()
        .try_fold(obj, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

pub(crate) fn replicas(obj: &Value, path: &[&str]) -> Result<i32, ApiError> {
    match at(obj, path) {
        None => Ok(0),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::internal(format!(
                    ".{} is not an integer replica count: {v}",
                    path.join(".")
                ))
            }),
    }
}

/// The selector at `path`, in its text form: a string as stored, or a `LabelSelector` written
/// as Go's `LabelSelectorAsSelector(…).String()` writes it.
fn selector(obj: &Value, path: &[&str]) -> Result<Option<String>, ApiError> {
    let bad = |why: String| ApiError::internal(format!(".{}: {why}", path.join(".")));
    match at(obj, path) {
        None => Ok(None),
        Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
        Some(v @ Value::Object(_)) => {
            let s: LabelSelector =
                serde_json::from_value(v.clone()).map_err(|e| bad(e.to_string()))?;
            let text = crate::registry::meta::label_selector(&s)
                .map_err(bad)?
                .to_string();
            Ok((!text.is_empty()).then_some(text))
        }
        Some(v) => Err(bad(format!("not a label selector: {v}"))),
    }
}

/// Sets the replicas at `path` (under `.spec`) of `obj`, making the objects on the way.
pub(crate) fn set_replicas(obj: &mut Value, path: &[&str], replicas: i32) -> Result<(), ApiError> {
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| ApiError::internal("an empty scale path"))?;
    let mut at = obj;
    for key in parents {
        let map = at
            .as_object_mut()
            .ok_or_else(|| ApiError::internal("scale paths overlap"))?;
        at = map
            .entry(*key)
            .or_insert_with(|| Value::Object(Default::default()));
    }
    at.as_object_mut()
        .ok_or_else(|| ApiError::internal("scale paths overlap"))?
        .insert((*last).into(), Value::from(replicas));
    Ok(())
}

/// What kube-apiserver says of a custom resource's `Scale` asking for fewer than no replicas
/// (`ValidateScaleSpec`): a 422 naming the kind's replicas path.
pub(crate) fn check_replicas(
    info: &kube_codegen_scheme::ResourceInfo,
    name: &str,
    path: &[&str],
    replicas: i32,
) -> Result<(), ApiError> {
    if replicas >= 0 {
        return Ok(());
    }
    Err(ApiError::invalid(
        info.kind,
        info.group,
        name,
        vec![crate::status::Cause::new(
            "FieldValueInvalid",
            format!(".{}", path.join(".")),
            format!("Invalid value: {replicas}: should be a non-negative integer"),
        )],
    ))
}
