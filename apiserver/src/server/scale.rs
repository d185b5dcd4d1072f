//! The `scale` subresource of kinds tagged `+scale`: an `autoscaling/v1` `Scale` read from the
//! paths the kind's [`ScaleInfo`] names, in the request's version — what kube-apiserver's
//! `ScaleREST` does for custom resources. A write is a merge patch of the object's replicas
//! (with the `Scale`'s `resourceVersion` as its precondition) through the registry, so defaults,
//! admission (subresource `scale`), validation and field ownership apply as to any write.

use k8s_openapi::api::autoscaling::v1::Scale;
use kube_codegen_scheme::ScaleInfo;

use super::*;
use crate::patch::{NoSchema, PatchType};
use crate::registry::Subresource;
use crate::registry::scale::{check_replicas, scale_of, set_replicas};
use crate::status::Cause;

fn info(t: &Target) -> Result<&ScaleInfo, ApiError> {
    // `resolve` serves `/scale` only for kinds that have one.
    t.info
        .scale
        .as_ref()
        .ok_or_else(|| ApiError::internal("no scale subresource"))
}

pub(super) async fn get(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let resource_version = super::read::resource_version(ctx)?;
    let obj = t.rest.get(&t.scope, t.name(), resource_version).await?;
    respond(StatusCode::OK, &scale_of(&obj, info(t)?)?, output, &[])
}

pub(super) async fn update(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let opts = super::write::write_options(ctx, "UpdateOptions", false)?;
    let (scale, mut warnings) = decode_body(ctx, opts.field_validation)?;
    let name = t.name();
    let given = scale.metadata.name.clone().unwrap_or_default();
    if given != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    let (object, more) = write(t, &scale, opts)
        .await
        .map_err(|e| e.with_warnings(warnings.clone()))?;
    warnings.extend(more);
    respond(
        StatusCode::OK,
        &scale_of(&object, info(t)?)?,
        output,
        &warnings,
    )
}

/// A patch of the `Scale` (JSON, merge or strategic merge), applied to the object's current
/// scale and written as an update; retried from a fresh read when the object changed
/// meanwhile, unless the patch names a `resourceVersion` of its own.
pub(super) async fn patch(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let ct = ctx.header(header::CONTENT_TYPE).unwrap_or("");
    let kind = match PatchType::from_content_type(ct) {
        Some(PatchType::Apply) => return apply(ctx, t, output).await,
        Some(k) => k,
        None => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {ct})"
                ),
            ));
        }
    };
    let opts = super::write::write_options(ctx, "PatchOptions", false)?;
    let scale_info = info(t)?;
    let name = t.name();
    // As Go's `GuaranteedUpdate`: a write that lost a race it did not ask for (the patch names
    // no resourceVersion) is made again from a fresh read, for as long as the request may run.
    loop {
        let current = scale_of(&t.rest.get(&t.scope, name, None).await?, scale_info)?;
        let original =
            serde_json::to_value(&current).map_err(|e| ApiError::internal(e.to_string()))?;
        let patched = crate::patch::apply(kind, &original, &ctx.body, &NoSchema)
            .map_err(|e| ApiError::new(e.code(), e.reason(), e.message().to_string()))?;
        let (scale, mut warnings) = read_scale(patched, opts.field_validation, true)?;
        if scale.metadata.name.as_deref() != Some(name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                scale.metadata.name.as_deref().unwrap_or_default()
            )));
        }
        let own_precondition = scale.metadata.resource_version != current.metadata.resource_version;
        match write(t, &scale, opts.clone()).await {
            Err(e) if e.code == 409 && e.reason == "Conflict" && !own_precondition => continue,
            Err(e) => return Err(e.with_warnings(warnings)),
            Ok((object, more)) => {
                warnings.extend(more);
                return respond(
                    StatusCode::OK,
                    &scale_of(&object, scale_info)?,
                    output,
                    &warnings,
                );
            }
        }
    }
}

/// A server-side apply of a `Scale` (`application/apply-patch+yaml`). kube-apiserver applies it
/// to the object's `Scale`, whose managed fields are those of the object's managers owning its
/// replicas (its `ScaleHandler`), and maps the result back: so it is the apply of the object
/// configuration holding the `Scale`'s replicas at the kind's path, by the manager through
/// `scale` — the same conflicts with other owners of the replicas (409 unless forced, forcing
/// takes the field from them), the same managed-fields entry (the object's version, subresource
/// `scale`). The object must exist: an apply to `/scale` creates nothing.
async fn apply(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let opts = super::write::write_options(ctx, "PatchOptions", true)?;
    let scale_info = info(t)?;
    let name = t.name();
    let text = std::str::from_utf8(&ctx.body)
        .map_err(|_| ApiError::bad_request("the apply configuration is not UTF-8"))?;
    let json = crate::yaml::to_json(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let json: Value = serde_json::from_slice(&json)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !json.is_object() {
        return Err(ApiError::bad_request(
            "the apply configuration must be an object",
        ));
    }
    // The field manager's own check of the configuration's type, word for word.
    let named = |key: &str| json.get(key).and_then(Value::as_str).unwrap_or_default();
    if named("apiVersion") != "autoscaling/v1" {
        return Err(ApiError::bad_request(format!(
            "Incorrect version specified in apply patch. Specified patch version: {}, expected: autoscaling/v1",
            named("apiVersion")
        )));
    }
    if named("kind") != "Scale" {
        return Err(ApiError::bad_request(format!(
            "Incorrect kind specified in apply patch. Specified patch kind: {}, expected: Scale",
            named("kind")
        )));
    }
    let (scale, warnings) = read_scale(json, opts.field_validation, true)?;
    if let Some(given) = scale.metadata.name.as_deref()
        && given != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    check_namespace(t, &scale)?;
    let replicas = scale.spec.as_ref().and_then(|s| s.replicas);
    if let Some(replicas) = replicas {
        check_replicas(&t.info, name, scale_info.spec_replicas_path, replicas)?;
    }
    let mut meta = serde_json::Map::new();
    meta.insert("name".into(), name.into());
    if let Some(ns) = &t.scope.namespace {
        meta.insert("namespace".into(), ns.as_str().into());
    }
    // A resourceVersion the configuration names is a precondition, as on the object.
    if let Some(rv) = scale
        .metadata
        .resource_version
        .as_deref()
        .filter(|rv| !rv.is_empty())
    {
        meta.insert("resourceVersion".into(), rv.into());
    }
    let mut config = serde_json::Map::new();
    config.insert("apiVersion".into(), t.info.api_version().into());
    config.insert("kind".into(), t.info.kind.into());
    config.insert("metadata".into(), Value::Object(meta));
    let mut config = Value::Object(config);
    if let Some(replicas) = replicas {
        set_replicas(&mut config, scale_info.spec_replicas_path, replicas)?;
    }
    let body = serde_json::to_vec(&config).map_err(|e| ApiError::internal(e.to_string()))?;
    let written = t
        .rest
        .patch(
            &t.scope,
            name,
            Some(Subresource::Scale),
            (PatchType::Apply, &body),
            opts,
        )
        .await
        .map_err(|e| e.with_warnings(warnings.clone()))?;
    let warnings: Vec<String> = warnings.into_iter().chain(written.warnings).collect();
    respond(
        StatusCode::OK,
        &scale_of(&written.object, scale_info)?,
        output,
        &warnings,
    )
}

/// A `Scale` from JSON, as Go's decoder reads one under `fieldValidation`: unknown fields are
/// warnings (`Warn`), an error (`Strict`: 400, or 422 for a patched one) or nothing (`Ignore`).
fn read_scale(
    json: Value,
    validation: crate::registry::FieldValidation,
    patched: bool,
) -> Result<(Scale, Vec<String>), ApiError> {
    use crate::registry::FieldValidation;
    let mut unknown = Vec::new();
    let scale: Scale = serde_ignored::deserialize(json, |path| {
        unknown.push(format!(
            "unknown field \"{}\"",
            crate::registry::codec::field_path(&path)
        ));
    })
    .map_err(|e| {
        if patched {
            ApiError::new(
                422,
                "Invalid",
                format!("the patched Scale is not valid: {e}"),
            )
        } else {
            ApiError::bad_request(format!("the request body is not a valid Scale: {e}"))
        }
    })?;
    match validation {
        FieldValidation::Strict if !unknown.is_empty() => {
            let why = format!("strict decoding error: {}", unknown.join(", "));
            Err(if patched {
                ApiError::new(422, "Invalid", why)
            } else {
                ApiError::bad_request(format!(
                    "Scale in version \"v1\" cannot be handled as a Scale: {why}"
                ))
            })
        }
        FieldValidation::Warn => Ok((scale, unknown)),
        _ => Ok((scale, Vec::new())),
    }
}

/// The body of a PUT: an `autoscaling/v1` `Scale` in JSON, YAML or protobuf, with the
/// warnings its unknown fields earn.
fn decode_body(
    ctx: &Ctx<'_>,
    validation: crate::registry::FieldValidation,
) -> Result<(Scale, Vec<String>), ApiError> {
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; expected an object",
        ));
    }
    let (ct, media) = super::write::content_type(ctx);
    if super::protobuf::is_protobuf_body(Some(ct)) {
        let unknown = kube_codegen_protobuf::envelope::unwrap(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))?;
        if (!unknown.api_version.is_empty() && unknown.api_version != "autoscaling/v1")
            || (!unknown.kind.is_empty() && unknown.kind != "Scale")
        {
            return Err(ApiError::bad_request(format!(
                "the body is a {} {}, not an autoscaling/v1 Scale",
                unknown.api_version, unknown.kind
            )));
        }
        return kube_codegen_protobuf::from_slice(&unknown.raw)
            .map(|scale| (scale, Vec::new()))
            .map_err(|e| {
                ApiError::bad_request(format!("the request body is not a valid Scale: {e}"))
            });
    }
    let json: Value = match super::write::text_body(ctx, &media)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
        })?,
        None => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct})"
                ),
            ));
        }
    };
    // Go decodes the body as the `Scale` it expects: another kind is refused, a missing one
    // taken as `Scale`.
    let named = |key: &str| json.get(key).and_then(Value::as_str).unwrap_or_default();
    if (!named("apiVersion").is_empty() && named("apiVersion") != "autoscaling/v1")
        || (!named("kind").is_empty() && named("kind") != "Scale")
    {
        return Err(ApiError::bad_request(format!(
            "the body is a {} {}, not an autoscaling/v1 Scale",
            named("apiVersion"),
            named("kind")
        )));
    }
    read_scale(json, validation, false)
}

/// Writes `scale`'s desired replicas into the object (its `resourceVersion`, when given, a
/// precondition): the object written and the write's warnings.
async fn write(
    t: &Target,
    scale: &Scale,
    opts: crate::registry::WriteOptions,
) -> Result<(Value, Vec<String>), ApiError> {
    let scale_info = info(t)?;
    check_namespace(t, scale)?;
    let replicas = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let invalid = |field: String, why: String| {
        ApiError::invalid(
            t.info.kind,
            t.info.group,
            t.name(),
            vec![Cause::new("FieldValueInvalid", field, why)],
        )
    };
    check_replicas(&t.info, t.name(), scale_info.spec_replicas_path, replicas)?;
    let mut meta = serde_json::Map::new();
    match scale.metadata.resource_version.as_deref() {
        None | Some("") => {}
        // A precondition of revision 0 names no object: an update needs one.
        Some("0") => {
            return Err(invalid(
                "metadata.resourceVersion".into(),
                "Invalid value: 0x0: must be specified for an update".into(),
            ));
        }
        Some(rv) => {
            meta.insert("resourceVersion".into(), rv.into());
        }
    }
    // The uid is a precondition too (Go's `Preconditions` of the update).
    if let Some(uid) = scale.metadata.uid.as_deref().filter(|u| !u.is_empty()) {
        meta.insert("uid".into(), uid.into());
    }
    let mut patch = serde_json::Map::new();
    if !meta.is_empty() {
        patch.insert("metadata".into(), Value::Object(meta));
    }
    let mut patch = Value::Object(patch);
    set_replicas(&mut patch, scale_info.spec_replicas_path, replicas)?;
    let body = serde_json::to_vec(&patch).map_err(|e| ApiError::internal(e.to_string()))?;
    let written = t
        .rest
        .patch(
            &t.scope,
            t.name(),
            Some(Subresource::Scale),
            (PatchType::Merge, &body),
            opts,
        )
        .await?;
    Ok((written.object, written.warnings))
}

fn respond(
    code: StatusCode,
    scale: &Scale,
    output: Output,
    warnings: &[String],
) -> Result<Resp, ApiError> {
    let resp = match output {
        Output::Protobuf => {
            let message = kube_codegen_protobuf::to_vec(scale);
            let mut out = Vec::with_capacity(message.len() + 48);
            kube_codegen_protobuf::envelope::wrap("autoscaling/v1", "Scale", &message, &mut out);
            Response::builder()
                .status(code)
                .header(header::CONTENT_TYPE, super::protobuf::MEDIA_TYPE)
                .body(Body::from(out))
                .map_err(|e| ApiError::internal(e.to_string()))?
        }
        Output::Metadata { beta, protobuf, .. } => {
            let value =
                serde_json::to_value(scale).map_err(|e| ApiError::internal(e.to_string()))?;
            metadata::object(code, &value, beta, protobuf)?
        }
        // A `Scale` has no columns of its own: the object.
        Output::Json | Output::Table { .. } => {
            let value =
                serde_json::to_value(scale).map_err(|e| ApiError::internal(e.to_string()))?;
            json_response(code, &value)
        }
    };
    Ok(super::write::with_warnings(resp, warnings))
}

/// Go's `EnsureObjectNamespaceMatchesRequestNamespace` for a `Scale`.
fn check_namespace(t: &Target, scale: &Scale) -> Result<(), ApiError> {
    match scale.metadata.namespace.as_deref() {
        Some(ns) if !ns.is_empty() && Some(ns) != t.scope.namespace.as_deref() => {
            Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ))
        }
        _ => Ok(()),
    }
}
