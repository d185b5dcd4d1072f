//! create, update, patch, delete and deletecollection: decoding and validating bodies, object
//! conventions (uid, generation, finalizers), optimistic concurrency, dry-run.

use super::*;

/// Checks `fieldValidation` and unknown fields: Strict rejects, Warn answers with `Warning`
/// headers, Ignore drops them. Returns the warnings.
pub(super) fn field_validation(
    ctx: &Ctx<'_>,
    info: &kube_codegen_scheme::ResourceInfo,
    unknown: &[String],
) -> Result<Vec<String>, ApiError> {
    let mode = ctx.param("fieldValidation").unwrap_or("Warn");
    let mode = match mode {
        "" | "Warn" => "Warn",
        "Strict" => "Strict",
        "Ignore" => "Ignore",
        other => {
            return Err(ApiError::invalid_request(format!(
                "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
            )));
        }
    };
    if unknown.is_empty() || mode == "Ignore" {
        return Ok(Vec::new());
    }
    let msgs: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if mode == "Strict" {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            msgs.join(", "),
            kind = info.kind,
            version = info.version
        )));
    }
    Ok(msgs)
}

pub(super) fn with_warnings(mut resp: Resp, warnings: &[String]) -> Resp {
    for w in warnings {
        let v = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(h) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(header::WARNING, h);
        }
    }
    resp
}

/// The request body as JSON bytes: JSON as sent, YAML (`application/yaml`) converted; any other
/// media type is 415.
pub(super) fn body_json(ctx: &Ctx<'_>) -> Result<Bytes, ApiError> {
    let ct = ctx
        .header(header::CONTENT_TYPE)
        .unwrap_or("application/json");
    let media = ct.split(';').next().unwrap_or("").trim();
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; expected an object",
        ));
    }
    match media {
        "" | "application/json" | "*/*" => Ok(ctx.body.clone()),
        "application/yaml" => {
            let text = std::str::from_utf8(&ctx.body)
                .map_err(|_| ApiError::bad_request("the YAML request body is not UTF-8"))?;
            let value: Value = serde_saphyr::from_str(text).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
            })?;
            Ok(Bytes::from(serde_json::to_vec(&value).unwrap_or_default()))
        }
        _ => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct})"
            ),
        )),
    }
}

/// Decodes a create/update body and checks type meta and namespace against the URL.
pub(super) fn decode_body(ctx: &Ctx<'_>, t: &Target) -> Result<(Value, Vec<String>), ApiError> {
    let body = body_json(ctx)?;
    let info = t.handler.info();
    let raw: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !raw.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    if let Some(av) = raw.get("apiVersion").and_then(Value::as_str)
        && av != info.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    if let Some(kind) = raw.get("kind").and_then(Value::as_str)
        && kind != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            info.kind
        )));
    }
    let decoded = t.handler.decode(&body)?;
    let warnings = field_validation(ctx, info, &decoded.unknown_fields)?;
    let mut obj = decoded.object;
    check_namespace(t, &mut obj)?;
    Ok((obj, warnings))
}

pub(super) fn check_namespace(t: &Target, obj: &mut Value) -> Result<(), ApiError> {
    let info = t.handler.info();
    match (&t.namespace, object::namespace(obj).map(str::to_string)) {
        (Some(url), Some(body)) if *url != body => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(url), None) => {
            object::meta_mut(obj).insert("namespace".into(), json!(url));
            Ok(())
        }
        (None, Some(_)) if !info.namespaced => {
            object::meta_mut(obj).remove("namespace");
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) fn invalid(t: &Target, name: &str, causes: Vec<Cause>) -> ApiError {
    let info = t.handler.info();
    ApiError::invalid(info.kind, info.group, name, causes)
}

/// ObjectMeta rules every kind shares.
pub(super) fn validate_meta(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    match object::name(obj) {
        None => causes.push(Cause::new(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required",
        )),
        Some(n) if !object::is_dns_subdomain(n) => causes.push(Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{n}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        )),
        _ => {}
    }
    for (k, v) in object::labels(obj) {
        if crate::selector::LabelSelector::parse(&format!("{k}={v}")).is_err() {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "metadata.labels",
                format!("Invalid value: \"{k}={v}\": not a valid label"),
            ));
        }
    }
    causes
}

pub(super) async fn create(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let dry_run = ctx.dry_run()?;
    let (mut obj, warnings) = decode_body(ctx, t)?;
    if t.namespace.is_none() && info.namespaced {
        return Err(not_found_path());
    }
    {
        let meta = object::meta_mut(&mut obj);
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && let Some(base) = meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        {
            let name = object::generate_name(base);
            meta.insert("name".into(), json!(name));
        }
        // System fields are the server's.
        for f in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            meta.remove(f);
        }
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(object::now()));
        meta.insert("generation".into(), json!(1));
    }
    if info.has_status
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    let name = object::name(&obj).unwrap_or_default().to_string();
    let mut causes = validate_meta(&obj);
    causes.extend(t.handler.validate(&obj));
    if !causes.is_empty() {
        return Err(invalid(t, &name, causes));
    }
    let k = key(info, t.namespace.as_deref(), Some(&name));
    if dry_run {
        if ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, &name))?
            .is_some()
        {
            return Err(ApiError::already_exists(info.plural, info.group, &name));
        }
        return Ok(with_warnings(
            json_response(StatusCode::CREATED, &obj),
            &warnings,
        ));
    }
    let kv = ctx
        .state
        .store
        .create(&k, to_storage(ctx.state, info, &obj)?)
        .await
        .map_err(|e| storage_error(e, info, &name))?;
    object::set_resource_version(&mut obj, kv.mod_revision);
    Ok(with_warnings(
        json_response(StatusCode::CREATED, &obj),
        &warnings,
    ))
}

/// Applies the update conventions to `new` given the stored `old`; returns whether the result
/// must be deleted instead (last finalizer removed from a deleting object).
pub(super) fn prepare_update(t: &Target, new: &mut Value, old: &Value) -> Result<bool, ApiError> {
    let info = t.handler.info();
    let name = object::name(old).unwrap_or_default().to_string();
    let status_update = t.subresource.as_deref() == Some("status");
    if status_update {
        // `/status` changes status and nothing else.
        let status = new.get("status").cloned();
        let rv = object::resource_version(new).map(str::to_string);
        *new = old.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
        if let Some(rv) = rv {
            object::meta_mut(new).insert("resourceVersion".into(), json!(rv));
        }
    } else if info.has_status {
        // The main resource ignores status.
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    if object::name(new) != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object::name(new).unwrap_or_default()
        )));
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    {
        let meta = object::meta_mut(new);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
        ] {
            match old_meta.get(f) {
                Some(v) => meta.insert(f.into(), v.clone()),
                None => meta.remove(f),
            };
        }
    }
    if !object::spec_equal(new, old) {
        let g = object::generation(old) + 1;
        object::meta_mut(new).insert("generation".into(), json!(g));
    }
    let mut causes = validate_meta(new);
    causes.extend(t.handler.validate_update(new, old));
    if !causes.is_empty() {
        return Err(invalid(t, &name, causes));
    }
    Ok(object::is_deleting(new) && object::finalizers(new).is_empty())
}

/// The read-modify-write loop every update shares (PUT, PATCH, status, finalizer removal).
pub(super) async fn guaranteed_update<F>(
    ctx: &Ctx<'_>,
    t: &Target,
    mut modify: F,
) -> Result<Resp, ApiError>
where
    F: FnMut(&Value) -> Result<(Value, Vec<String>), ApiError>,
{
    let info = t.handler.info();
    let name = t.name.clone().unwrap_or_default();
    let k = key(info, t.namespace.as_deref(), Some(&name));
    let dry_run = ctx.dry_run()?;
    for _ in 0..16 {
        let current = ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, &name))?
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, &name))?;
        let old = from_storage(ctx.state, info, &current)?;
        let (mut new, warnings) = modify(&old)?;
        // A resourceVersion in the request is a precondition.
        let precondition = match object::resource_version(&new) {
            Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                invalid(
                    t,
                    &name,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        format!("Invalid value: \"{rv}\": must be an integer"),
                    )],
                )
            })?),
            None => None,
        };
        if let Some(rv) = precondition
            && rv != current.mod_revision
        {
            return Err(storage_error(
                StorageError::Conflict {
                    key: k.clone(),
                    current: current.mod_revision,
                },
                info,
                &name,
            ));
        }
        let delete_now = prepare_update(t, &mut new, &old)?;
        if dry_run {
            return Ok(with_warnings(
                json_response(StatusCode::OK, &new),
                &warnings,
            ));
        }
        if delete_now {
            match ctx.state.store.delete(&k, Some(current.mod_revision)).await {
                Ok(kv) => {
                    object::set_resource_version(&mut new, kv.mod_revision);
                    return Ok(with_warnings(
                        json_response(StatusCode::OK, &new),
                        &warnings,
                    ));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(storage_error(e, info, &name)),
            }
        }
        match ctx
            .state
            .store
            .update(
                &k,
                to_storage(ctx.state, info, &new)?,
                Some(current.mod_revision),
            )
            .await
        {
            Ok(kv) => {
                object::set_resource_version(&mut new, kv.mod_revision);
                return Ok(with_warnings(
                    json_response(StatusCode::OK, &new),
                    &warnings,
                ));
            }
            // Someone wrote in between: without a precondition of the caller's, try again.
            Err(StorageError::Conflict { .. }) if precondition.is_none() => continue,
            Err(e) => return Err(storage_error(e, info, &name)),
        }
    }
    Err(ApiError::conflict(
        info.plural,
        info.group,
        &name,
        "too many concurrent writers; try again",
    ))
}

pub(super) async fn update(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let (new, warnings) = decode_body(ctx, t)?;
    guaranteed_update(ctx, t, |_old| Ok((new.clone(), warnings.clone()))).await
}

pub(super) async fn patch(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let ct = ctx.header(header::CONTENT_TYPE).unwrap_or("");
    let kind = crate::patch::PatchType::from_content_type(ct).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct})"),
        )
    })?;
    if ctx.param("force").is_some() {
        return Err(ApiError::invalid_request(
            "force: Forbidden: may not be specified for non-apply patch".into(),
        ));
    }
    let schemas: serde_json::Map<String, Value> =
        serde_json::from_str(t.handler.schemas()).unwrap_or_default();
    let root = ctx.state.openapi.definition_for(info);
    let patch_schema = crate::patch::OpenApiPatchSchema::new(&schemas, &root);
    let body = ctx.body.clone();
    guaranteed_update(ctx, t, move |old| {
        let patched = crate::patch::apply(kind, old, &body, &patch_schema).map_err(|e| {
            let err = ApiError::new(e.code(), e.reason(), e.message().to_string());
            match e.cause() {
                Some(c) => err.with_cause(Cause::new("UnexpectedServerResponse", "", c)),
                None => err,
            }
        })?;
        let decoded = t.handler.normalize(&patched)?;
        let warnings = field_validation(ctx, info, &decoded.unknown_fields)?;
        let mut obj = decoded.object;
        // A patch keeps the stored resourceVersion unless it sets one (a precondition).
        let patched_rv = object::resource_version(&patched).map(str::to_string);
        let old_rv = object::resource_version(old).map(str::to_string);
        match patched_rv.filter(|rv| Some(rv) != old_rv.as_ref()) {
            Some(rv) => {
                object::meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
            }
            None => {
                object::meta_mut(&mut obj).remove("resourceVersion");
            }
        }
        check_namespace(t, &mut obj)?;
        Ok((obj, warnings))
    })
    .await
}

/// `DeleteOptions` from the body and query.
pub(super) struct DeleteOpts {
    uid: Option<String>,
    resource_version: Option<String>,
}

pub(super) fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOpts, ApiError> {
    let mut opts = DeleteOpts {
        uid: None,
        resource_version: None,
    };
    if !ctx.body.is_empty() {
        let v: Value = serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("DeleteOptions is not valid JSON: {e}")))?;
        if let Some(p) = v.get("preconditions") {
            opts.uid = p.get("uid").and_then(Value::as_str).map(str::to_string);
            opts.resource_version = p
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(pp) = v.get("propagationPolicy").and_then(Value::as_str)
            && !matches!(pp, "Background" | "Foreground" | "Orphan")
        {
            return Err(ApiError::invalid_request(format!(
                "propagationPolicy: Unsupported value: \"{pp}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    }
    if let Some(pp) = ctx.param("propagationPolicy")
        && !matches!(pp, "Background" | "Foreground" | "Orphan")
    {
        return Err(ApiError::invalid_request(format!(
            "propagationPolicy: Unsupported value: \"{pp}\""
        )));
    }
    Ok(opts)
}

pub(super) async fn delete_one(
    ctx: &Ctx<'_>,
    t: &Target,
    name: &str,
    opts: &DeleteOpts,
) -> Result<(Value, bool), ApiError> {
    let info = t.handler.info();
    let k = key(info, t.namespace.as_deref(), Some(name));
    let dry_run = ctx.dry_run()?;
    for _ in 0..16 {
        let current = ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, name))?
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
        let mut obj = from_storage(ctx.state, info, &current)?;
        if let Some(uid) = &opts.uid
            && Some(uid.as_str()) != object::uid(&obj)
        {
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    object::uid(&obj).unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && rv.parse::<u64>().ok() != Some(current.mod_revision)
        {
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    current.mod_revision
                ),
            ));
        }
        if !object::finalizers(&obj).is_empty() {
            // Finalizers pending: mark, answer with the object; deletion happens when they're gone.
            if !object::is_deleting(&obj) {
                let meta = object::meta_mut(&mut obj);
                meta.insert("deletionTimestamp".into(), json!(object::now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
                if dry_run {
                    return Ok((obj, false));
                }
                match ctx
                    .state
                    .store
                    .update(
                        &k,
                        to_storage(ctx.state, info, &obj)?,
                        Some(current.mod_revision),
                    )
                    .await
                {
                    Ok(kv) => object::set_resource_version(&mut obj, kv.mod_revision),
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(e) => return Err(storage_error(e, info, name)),
                }
            }
            return Ok((obj, false));
        }
        if dry_run {
            return Ok((obj, true));
        }
        match ctx.state.store.delete(&k, Some(current.mod_revision)).await {
            Ok(kv) => {
                object::set_resource_version(&mut obj, kv.mod_revision);
                return Ok((obj, true));
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(storage_error(e, info, name)),
        }
    }
    Err(ApiError::conflict(
        info.plural,
        info.group,
        name,
        "too many concurrent writers; try again",
    ))
}

pub(super) async fn delete(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let name = t.name.clone().unwrap_or_default();
    let opts = delete_options(ctx)?;
    let (obj, deleted) = delete_one(ctx, t, &name, &opts).await?;
    if !deleted {
        return Ok(json_response(StatusCode::OK, &obj));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": info.group, "kind": info.plural, "uid": object::uid(&obj)},
        }),
    ))
}

pub(super) async fn delete_collection(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let opts = delete_options(ctx)?;
    let l = list_options(ctx, t)?;
    let prefix = key(info, t.namespace.as_deref(), None);
    let page = ctx
        .state
        .store
        .list(&prefix, ListOptions::default())
        .await
        .map_err(|e| storage_error(e, info, ""))?;
    let mut deleted = Vec::new();
    for kv in &page.items {
        let obj = from_storage(ctx.state, info, kv)?;
        if !matches(t, &l, &obj) {
            continue;
        }
        let name = object::name(&obj).unwrap_or_default().to_string();
        let target = Target {
            handler: t.handler.clone(),
            namespace: object::namespace(&obj).map(str::to_string),
            name: Some(name.clone()),
            subresource: None,
        };
        match delete_one(ctx, &target, &name, &opts).await {
            Ok((obj, _)) => deleted.push(obj),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "apiVersion": info.api_version(), "kind": info.list_kind,
            "metadata": {"resourceVersion": page.revision.to_string()}, "items": deleted,
        }),
    ))
}
