//! create, update, patch, delete and deletecollection: bodies and typed options from the
//! request, the registry's answer with `Warning` headers.

use super::*;
use crate::registry::{Deleted, FieldValidation, Subresource, WriteOptions};
use crate::status::Cause;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use kube_codegen_apimachinery::validation::go_quote;

/// `dryRun` and `fieldValidation` from the query.
/// The options of a write: `dryRun`, `fieldValidation`, `fieldManager` (validated; else the
/// client's User-Agent up to its first `/`, as Kubernetes names unnamed managers) and `force`.
/// `kind` is the options' kind in errors (`CreateOptions`, `UpdateOptions`, `PatchOptions`);
/// `apply`: a server-side apply, which requires a field manager and alone takes `force`.
pub(super) fn write_options(
    ctx: &Ctx<'_>,
    kind: &str,
    apply: bool,
) -> Result<WriteOptions, ApiError> {
    let given = ctx.param("fieldManager").unwrap_or_default();
    let mut causes = Vec::new();
    let force = match ctx.param("force") {
        // Only patches have the option.
        _ if kind != "PatchOptions" => false,
        None => false,
        Some(_) if !apply => {
            causes.push(Cause::new(
                "FieldValueForbidden",
                "force",
                "Forbidden: may not be specified for non-apply patch",
            ));
            false
        }
        Some(value) => super::query_bool(value),
    };
    if apply && given.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            "fieldManager",
            "Required value: is required for apply patch",
        ));
    }
    if given.len() > 128 {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "fieldManager",
            "Too long: may not be more than 128 bytes",
        ));
    }
    if let Some((i, c)) = given.char_indices().find(|(_, c)| c.is_control()) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "fieldManager",
            format!(
                "Invalid value: {}: invalid character U+{:04X} (at position {i})",
                go_quote(given),
                c as u32
            ),
        ));
    }
    // Go's `Validate{Create,Update,Patch}Options`: the field manager, then `dryRun`, then
    // `fieldValidation`, all in one 422 of the options' kind.
    let dry_run = dry_run(ctx, &mut causes);
    let field_validation = match ctx.param("fieldValidation") {
        None | Some("" | "Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            causes.push(Cause::new(
                "FieldValueNotSupported",
                "fieldValidation",
                format!(
                    "Unsupported value: {}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"",
                    go_quote(other)
                ),
            ));
            FieldValidation::Warn
        }
    };
    if !causes.is_empty() {
        return Err(ApiError::invalid(kind, "meta.k8s.io", "", causes));
    }
    let field_manager = if given.is_empty() {
        let agent = ctx.header(header::USER_AGENT).unwrap_or_default();
        let prefix: String = agent
            .split('/')
            .next()
            .unwrap_or_default()
            .chars()
            .take(128)
            .collect();
        if prefix.is_empty() {
            "unknown".to_string()
        } else {
            prefix
        }
    } else {
        given.to_string()
    };
    Ok(WriteOptions {
        dry_run,
        field_validation,
        field_manager,
        force,
    })
}

/// `dryRun` of the query (and of a DeleteOptions body): every value given (`?dryRun=&dryRun=All`
/// is two), each `All`; anything else — an empty value too — is a cause, worded as Go's
/// `ValidateDryRun` words it, and the request writes nothing.
fn dry_run(ctx: &Ctx<'_>, causes: &mut Vec<Cause>) -> bool {
    dry_run_of(ctx.query.all("dryRun").iter().map(String::as_str), causes)
}

fn dry_run_of<'a>(values: impl Iterator<Item = &'a str>, causes: &mut Vec<Cause>) -> bool {
    let values: Vec<&str> = values.collect();
    if values.iter().any(|v| *v != "All") {
        let listed: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "dryRun",
            format!(
                "Unsupported value: []string{{{}}}: supported values: \"All\"",
                listed.join(", ")
            ),
        ));
        return false;
    }
    !values.is_empty()
}

/// At most this much of `Warning` headers (kube-apiserver's bound): a body with thousands of
/// unknown fields must not make a response no client accepts.
const MAX_WARNINGS_BYTES: usize = 4 * 1024;
/// A warning longer than this is cut (kube-apiserver's length for truncated warnings).
const MAX_WARNING_LEN: usize = 256;

pub(super) fn with_warnings(mut resp: Resp, warnings: &[String]) -> Resp {
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0;
    for w in warnings {
        if !seen.insert(w.as_str()) {
            continue;
        }
        let text: String = if w.chars().count() > MAX_WARNING_LEN {
            w.chars().take(MAX_WARNING_LEN).chain("…".chars()).collect()
        } else {
            w.clone()
        };
        let v = format!("299 - \"{}\"", text.replace('"', "\\\""));
        total += v.len();
        if total > MAX_WARNINGS_BYTES {
            break;
        }
        if let Ok(h) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(header::WARNING, h);
        }
    }
    resp
}

/// The request's `Content-Type` (JSON when there is none) and its media type, lower-cased:
/// media types are case-insensitive (RFC 9110).
pub(super) fn content_type<'a>(ctx: &'a Ctx<'_>) -> (&'a str, String) {
    let ct = ctx
        .header(header::CONTENT_TYPE)
        .unwrap_or("application/json");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (ct, media)
}

/// The request body as JSON bytes: JSON as sent, YAML (`application/yaml`) converted; any other
/// media type is 415.
pub(super) fn body_json(ctx: &Ctx<'_>, t: &Target) -> Result<Bytes, ApiError> {
    let (ct, media) = content_type(ctx);
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; expected an object",
        ));
    }
    if super::protobuf::is_protobuf_body(Some(ct)) {
        return super::protobuf::body_json(t, &ctx.body);
    }
    match text_body(ctx, &media)? {
        Some(json) => Ok(json),
        None => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml{} (got {ct})",
                if t.rest.protobuf(&t.scope.version).is_some() {
                    ", application/vnd.kubernetes.protobuf"
                } else {
                    ""
                }
            ),
        )),
    }
}

/// A JSON or YAML body as JSON bytes (`None` for another media type): JSON as sent, YAML
/// converted.
pub(super) fn text_body(ctx: &Ctx<'_>, media: &str) -> Result<Option<Bytes>, ApiError> {
    match media {
        "" | "application/json" => Ok(Some(ctx.body.clone())),
        "application/yaml" => {
            let text = std::str::from_utf8(&ctx.body)
                .map_err(|_| ApiError::bad_request("the YAML request body is not UTF-8"))?;
            crate::yaml::to_json(text)
                .map(|json| Some(Bytes::from(json)))
                .map_err(|e| {
                    ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
                })
        }
        _ => Ok(None),
    }
}

fn subresource(t: &Target) -> Option<Subresource> {
    // `resolve` admits no other subresource; `/scale` has handlers of its own.
    (t.subresource.as_deref() == Some("status")).then_some(Subresource::Status)
}

/// What of the written object a Table answer holds (`includeObject`, read as for a get): checked
/// before the write, so that a bad parameter writes nothing. Other forms hold the object.
fn include_object(ctx: &Ctx<'_>, output: Output) -> Result<IncludeObject, ApiError> {
    match output {
        Output::Table { .. } => {
            IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)
        }
        _ => Ok(IncludeObject::Object),
    }
}

/// The written object as the client negotiated it: a Table too, as kube-apiserver's
/// `transformResponseObject` answers every write.
fn written(
    code: StatusCode,
    w: crate::registry::Written,
    t: &Target,
    output: Output,
    include: IncludeObject,
) -> Result<Resp, ApiError> {
    let resp = respond_object(code, &w.object, t, output, include)?;
    Ok(with_warnings(resp, &w.warnings))
}

pub(super) async fn create(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let include = include_object(ctx, output)?;
    let opts = write_options(ctx, "CreateOptions", false)?;
    let body = body_json(ctx, t)?;
    if t.scope.namespace.is_none() && t.info.namespaced {
        return Err(not_found_path());
    }
    let w = match t.rest.create(&t.scope, &body, opts.clone()).await {
        Err(e) if json_body(ctx) && super::go_json::refused_for_strings(&e) => {
            match super::go_json::replace_invalid(&body) {
                Some(body) => t.rest.create(&t.scope, &body, opts).await?,
                None => return Err(e),
            }
        }
        w => w?,
    };
    written(StatusCode::CREATED, w, t, output, include)
}

/// Whether the request body is JSON as sent (not YAML or protobuf, whose strings are read by
/// their own rules).
fn json_body(ctx: &Ctx<'_>) -> bool {
    matches!(
        content_type(ctx).1.as_str(),
        "" | "application/json"
            | "application/json-patch+json"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
    )
}

pub(super) async fn update(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let include = include_object(ctx, output)?;
    let opts = write_options(ctx, "UpdateOptions", false)?;
    let body = body_json(ctx, t)?;
    check_name(&body, t.name())?;
    let w = match t
        .rest
        .update(&t.scope, t.name(), subresource(t), &body, opts.clone())
        .await
    {
        Err(e) if json_body(ctx) && super::go_json::refused_for_strings(&e) => {
            match super::go_json::replace_invalid(&body) {
                Some(body) => {
                    check_name(&body, t.name())?;
                    t.rest
                        .update(&t.scope, t.name(), subresource(t), &body, opts)
                        .await?
                }
                None => return Err(e),
            }
        }
        w => w?,
    };
    written(StatusCode::OK, w, t, output, include)
}

/// Go's `checkName` before storage: an update's body names the URL's object (a missing one is
/// a 400, not the 404 of looking it up). A body that is not an object with metadata is left to
/// the decoder, which says what is wrong with it.
fn check_name(body: &[u8], name: &str) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Body {
        metadata: Option<Meta>,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        name: Option<String>,
    }
    let Ok(Body { metadata }) = serde_json::from_slice::<Body>(body) else {
        return Ok(());
    };
    let given = metadata.and_then(|m| m.name).unwrap_or_default();
    if given != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

pub(super) async fn patch(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let include = include_object(ctx, output)?;
    let ct = ctx.header(header::CONTENT_TYPE).unwrap_or("");
    let kind = crate::patch::PatchType::from_content_type(ct).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {ct})"),
        )
    })?;
    let opts = write_options(ctx, "PatchOptions", kind == crate::patch::PatchType::Apply)?;
    // An apply is YAML, where Go refuses what JSON reads as U+FFFD.
    let w = match t
        .rest
        .patch(
            &t.scope,
            t.name(),
            subresource(t),
            (kind, &ctx.body),
            opts.clone(),
        )
        .await
    {
        Err(e)
            if kind != crate::patch::PatchType::Apply
                && json_body(ctx)
                && super::go_json::refused_for_strings(&e) =>
        {
            match super::go_json::replace_invalid(&ctx.body) {
                Some(body) => {
                    t.rest
                        .patch(&t.scope, t.name(), subresource(t), (kind, &body), opts)
                        .await?
                }
                None => return Err(e),
            }
        }
        w => w?,
    };
    let code = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    written(code, w, t, output, include)
}

/// A JSON or YAML `DeleteOptions` body: another media type is 415, another kind 400 (Go decodes
/// it with the meta scheme, which knows no other kind).
fn delete_options_body(ctx: &Ctx<'_>) -> Result<DeleteOptions, ApiError> {
    let (ct, media) = content_type(ctx);
    let invalid = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(format!("DeleteOptions is not valid: {e}"))
    };
    let opts: DeleteOptions = match media.as_str() {
        "" | "application/json" => serde_json::from_slice(&ctx.body).map_err(|e| invalid(&e))?,
        "application/yaml" => {
            let text = std::str::from_utf8(&ctx.body)
                .map_err(|_| ApiError::bad_request("the YAML request body is not UTF-8"))?;
            let options = serde_saphyr::options! { budget: crate::yaml::node_budget(text) };
            serde_saphyr::from_str_with_options(text, options).map_err(|e| invalid(&e))?
        }
        _ => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct})"
                ),
            ));
        }
    };
    match opts.kind.as_deref() {
        None | Some("" | "DeleteOptions") => Ok(opts),
        Some(kind) => Err(ApiError::bad_request(format!(
            "no kind {kind:?} is registered for version {:?}: the body of a DELETE is a DeleteOptions",
            opts.api_version.as_deref().unwrap_or_default()
        ))),
    }
}

/// `DeleteOptions` from the query of a DELETE without a body (Go's parameter codec).
fn delete_options_query(ctx: &Ctx<'_>) -> Result<DeleteOptions, ApiError> {
    Ok(DeleteOptions {
        propagation_policy: ctx.param("propagationPolicy").map(str::to_string),
        orphan_dependents: ctx.param("orphanDependents").map(super::query_bool),
        grace_period_seconds: super::query_int(ctx, "gracePeriodSeconds")?,
        dry_run: Some(ctx.query.all("dryRun").to_vec()).filter(|v| !v.is_empty()),
        ignore_store_read_error_with_cluster_breaking_potential: ctx
            .param("ignoreStoreReadErrorWithClusterBreakingPotential")
            .map(super::query_bool),
        ..DeleteOptions::default()
    })
}

/// `DeleteOptions` from the body (typed; kubectl and client-go send one) or, without a body, from
/// the query — never both: kube-apiserver reads the query only when the body is empty, so a query
/// parameter beside a body is ignored there and here. Returns them with whether this is a dry
/// run.
pub(super) fn delete_options(ctx: &Ctx<'_>) -> Result<(DeleteOptions, bool), ApiError> {
    let opts: DeleteOptions = if ctx.body.is_empty() {
        delete_options_query(ctx)?
    } else if super::protobuf::is_protobuf_body(ctx.header(header::CONTENT_TYPE)) {
        // client-go set up for protobuf sends its DeleteOptions enveloped, as protobuf.
        super::protobuf::delete_options(&ctx.body)?
    } else {
        delete_options_body(ctx)?
    };
    // Go's `ValidateDeleteOptions`.
    let mut causes = Vec::new();
    if let Some(pp) = &opts.propagation_policy {
        if opts.orphan_dependents.is_some() {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "propagationPolicy",
                format!(
                    "Invalid value: \"{pp}\": orphanDependents and deletionPropagation cannot be both set"
                ),
            ));
        }
        if !matches!(pp.as_str(), "Background" | "Foreground" | "Orphan") {
            causes.push(Cause::new(
                "FieldValueNotSupported",
                "propagationPolicy",
                format!(
                    "Unsupported value: {}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
                    go_quote(pp)
                ),
            ));
        }
    }
    let dry_run = dry_run_of(
        opts.dry_run.iter().flatten().map(String::as_str),
        &mut causes,
    );
    if !causes.is_empty() {
        return Err(ApiError::invalid_delete_options(causes));
    }
    Ok((opts, dry_run))
}

pub(super) async fn delete(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let (opts, dry_run) = delete_options(ctx)?;
    let output = match output {
        Output::Table { .. } => Output::Json,
        other => other,
    };
    match t.rest.delete(&t.scope, t.name(), &opts, dry_run).await? {
        Deleted::Pending(obj) => {
            // Kubernetes' one exception to 200: a cascading delete asked for the old way that
            // has not happened yet.
            let code = if opts.orphan_dependents == Some(false) {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            respond_object(code, &obj, t, output, IncludeObject::Object)
        }
        Deleted::Gone(obj) => {
            use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Status, StatusDetails};
            let status = Status {
                status: Some("Success".into()),
                details: Some(StatusDetails {
                    name: Some(t.name().to_string()),
                    group: Some(t.info.group.to_string()),
                    kind: Some(t.info.plural.to_string()),
                    uid: object::uid(&obj).map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            };
            // k8s-openapi's `Status` writes its own `kind` and `apiVersion`.
            let body =
                serde_json::to_value(&status).map_err(|e| ApiError::internal(e.to_string()))?;
            if output == Output::Protobuf {
                return Ok(super::protobuf::status(StatusCode::OK, &body));
            }
            Ok(json_response(StatusCode::OK, &body))
        }
    }
}

pub(super) async fn delete_collection(
    ctx: &Ctx<'_>,
    t: &Target,
    output: Output,
) -> Result<Resp, ApiError> {
    let (opts, dry_run) = delete_options(ctx)?;
    let list = list_options(ctx, t)?;
    let deleted = t
        .rest
        .delete_collection(&t.scope, &list, &opts, dry_run)
        .await?;
    if let Output::Metadata { beta, protobuf, .. } = output {
        return super::metadata::list(
            &deleted.items.to_values()?,
            beta,
            protobuf,
            deleted.resource_version.to_string(),
            deleted.continue_token,
            None,
        );
    }
    if let (Output::Protobuf, Some(edge)) = (output, t.rest.protobuf(&t.scope.version)) {
        return super::protobuf::list(
            edge,
            &t.info,
            deleted.items,
            None,
            deleted.resource_version.to_string(),
            deleted.continue_token,
            None,
        )
        .await;
    }
    read::list_response(
        &t.info,
        read::ListShape::Objects,
        deleted.items,
        None,
        deleted.resource_version.to_string(),
        deleted.continue_token,
        None,
    )
    .await
}
