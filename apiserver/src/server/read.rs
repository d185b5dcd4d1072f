//! get and list: typed options from the query, the registry's answer as JSON or a `Table`.

use super::*;
use crate::registry::{ListOptions, ResourceVersionMatch, decode_continue};
use crate::status::Cause;
use kube_codegen_apimachinery::validation::go_quote;

pub(super) use super::list_body::{ListShape, list_response};

/// The `resourceVersion` query parameter ("" or none: `None`); anything but a non-negative
/// integer is a 400 in Go's words (apimachinery's `ValidateListOptions` since 1.33, where older
/// servers answered a 500): `invalid resource version: resourceVersion: Invalid value: "abc":
/// strconv.ParseUint: parsing "abc": invalid syntax`.
pub(super) fn resource_version(ctx: &Ctx<'_>) -> Result<Option<u64>, ApiError> {
    match ctx.param("resourceVersion") {
        None | Some("") => Ok(None),
        Some(rv) => {
            let why = match rv.parse::<u64>() {
                // Go's `ParseUint` takes digits only, where Rust's also takes a leading `+`.
                Ok(n) if !rv.starts_with('+') => return Ok(Some(n)),
                Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => "value out of range",
                _ => "invalid syntax",
            };
            Err(ApiError::bad_request(format!(
                "invalid resource version: resourceVersion: Invalid value: {q}: \
                 strconv.ParseUint: parsing {q}: {why}",
                q = go_quote(rv)
            )))
        }
    }
}

pub(super) async fn get(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    // `resourceVersion`: the object at that revision or later ("0" or none: any).
    let resource_version = resource_version(ctx)?;
    let obj = t.rest.get(&t.scope, t.name(), resource_version).await?;
    respond_object(StatusCode::OK, &obj, t, output, include)
}

/// `ListOptions` from the query: selectors (field selectors checked against the resource's
/// selectable fields), `limit`, `continue`, `resourceVersion`.
pub(super) fn list_options(ctx: &Ctx<'_>, t: &Target) -> Result<ListOptions, ApiError> {
    let labels = crate::selector::LabelSelector::parse(ctx.param("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = crate::selector::FieldSelector::parse(ctx.param("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let mut allowed: Vec<&str> = vec!["metadata.name"];
    if t.info.namespaced {
        allowed.push("metadata.namespace");
    }
    allowed.extend(t.rest.selectable_fields());
    fields
        .check_fields(&allowed)
        .map_err(ApiError::bad_request)?;
    timeout_seconds(ctx)?;
    let limit = super::query_int(ctx, "limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let resource_version = resource_version(ctx)?;
    // Go's legacy exact match: a paged list at a resourceVersion other than "0" with no
    // `resourceVersionMatch` reads that revision exactly (a reflector relisting from where it
    // was), or is 410 when it was compacted.
    let resource_version_match = match resource_version_match(ctx, resource_version)? {
        ResourceVersionMatch::Unset
            if resource_version.is_some_and(|rv| rv > 0)
                && limit.is_some()
                && !is_watch(ctx.query) =>
        {
            ResourceVersionMatch::Exact
        }
        rvm => rvm,
    };
    let continue_from = match ctx.param("continue") {
        None | Some("") => None,
        // A watch has no pages: Go's watch path never reads the token.
        Some(_) if is_watch(ctx.query) => None,
        Some(token) => {
            if ctx
                .param("resourceVersion")
                .is_some_and(|rv| !rv.is_empty() && rv != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            Some(decode_continue(token).map_err(ApiError::bad_request)?)
        }
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_from,
        resource_version,
        resource_version_match,
        streamed: false,
    })
}

/// `timeoutSeconds` of a list or watch: a number of seconds, or a 400 as the parameter codec
/// refuses what is not an integer.
pub(super) fn timeout_seconds(ctx: &Ctx<'_>) -> Result<Option<i64>, ApiError> {
    super::query_int(ctx, "timeoutSeconds")
}

/// `resourceVersionMatch` and `sendInitialEvents` checked as apimachinery's
/// `ValidateListOptions` does (422 `ListOptions.meta.k8s.io`): never silently ignored.
/// `sendInitialEvents` as Kubernetes 1.32+ reads it, its WatchList feature on by default
/// (`SetListOptionsDefaults`): as given; unset on a watch from no `resourceVersion` (or "0")
/// without a `resourceVersionMatch`, true — a streaming list, whose initial ADDEDs (sent to any
/// watch from now) end with a BOOKMARK annotated `k8s.io/initial-events-end` when BOOKMARKs are
/// allowed; client-go's watch-list waits for that BOOKMARK even when a wrapper dropped the
/// parameter.
pub(super) fn send_initial_events(ctx: &Ctx<'_>) -> Option<bool> {
    let given = ctx.param("sendInitialEvents").map(super::query_bool);
    if given.is_some() || !is_watch(ctx.query) {
        return given;
    }
    let no_match = matches!(ctx.param("resourceVersionMatch"), None | Some(""));
    let from_now = matches!(ctx.param("resourceVersion"), None | Some("" | "0"));
    (no_match && from_now).then_some(true)
}

fn resource_version_match(
    ctx: &Ctx<'_>,
    resource_version: Option<u64>,
) -> Result<ResourceVersionMatch, ApiError> {
    let watch = is_watch(ctx.query);
    let send_initial_events = send_initial_events(ctx);
    let defaulted = send_initial_events.is_some() && ctx.param("sendInitialEvents").is_none();
    let asked = if defaulted {
        Some("NotOlderThan")
    } else {
        ctx.param("resourceVersionMatch").filter(|m| !m.is_empty())
    };
    let continued = ctx.param("continue").is_some_and(|c| !c.is_empty());
    // Every rule broken, in apimachinery's order (`ValidateListOptions`, `validateWatchOptions`):
    // one 422 naming them all.
    let mut causes = Vec::new();
    let forbidden = |field: &str, message: &str| {
        Cause::new(
            "FieldValueForbidden",
            field,
            format!("Forbidden: {message}"),
        )
    };
    let not_supported = |value: &str, supported: &str| {
        Cause::new(
            "FieldValueNotSupported",
            "resourceVersionMatch",
            format!(
                "Unsupported value: {}: supported values: {supported}",
                go_quote(value)
            ),
        )
    };
    const RVM: &str = "resourceVersionMatch";
    if watch {
        if send_initial_events.is_some() && asked != Some("NotOlderThan") {
            causes.push(forbidden(
                RVM,
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if let Some(m) = asked {
            if send_initial_events.is_none() {
                causes.push(forbidden(
                    RVM,
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            if m != "NotOlderThan" {
                causes.push(not_supported(m, "\"NotOlderThan\""));
            }
            if continued {
                causes.push(forbidden(
                    RVM,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
        }
    } else {
        if let Some(m) = asked {
            if resource_version.is_none() {
                causes.push(forbidden(
                    RVM,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if continued {
                causes.push(forbidden(
                    RVM,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if !matches!(m, "Exact" | "NotOlderThan") {
                causes.push(not_supported(m, "\"Exact\", \"NotOlderThan\", \"\""));
            }
            if m == "Exact" && resource_version == Some(0) {
                causes.push(forbidden(
                    RVM,
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if send_initial_events.is_some() {
            causes.push(forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list",
            ));
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid("ListOptions", "meta.k8s.io", "", causes));
    }
    Ok(match asked {
        None => ResourceVersionMatch::Unset,
        Some("Exact") => ResourceVersionMatch::Exact,
        Some(_) => ResourceVersionMatch::NotOlderThan,
    })
}

pub(super) async fn list(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let mut opts = list_options(ctx, t)?;
    // JSON is written as it is read: a long list may come page by page.
    opts.streamed = matches!(output, Output::Json | Output::Metadata { .. });
    let list = t.rest.list(&t.scope, &opts).await?;
    let rv = list.resource_version.to_string();
    match output {
        Output::Table { beta } => Ok(json_response(
            StatusCode::OK,
            &table::table(
                &t.info,
                &list.items.to_values()?,
                include,
                beta,
                Some(rv),
                list.continue_token,
                list.remaining_item_count,
                true,
            ),
        )),
        // Protobuf metadata is v1 only (negotiation): its list is read and sent like an
        // object list's, each item reduced to its metadata.
        Output::Metadata { protobuf: true, .. } => {
            let meta =
                super::protobuf::list_meta(rv, list.continue_token, list.remaining_item_count);
            super::protobuf::list_of(
                super::metadata::api_version(false),
                "PartialObjectMetadataList",
                meta,
                list.items,
                list.more,
                &super::metadata::message_of_json,
            )
            .await
        }
        Output::Protobuf => match t.rest.protobuf(&t.scope.version) {
            Some(edge) => {
                super::protobuf::list(
                    edge,
                    &t.info,
                    list.items,
                    list.more,
                    rv,
                    list.continue_token,
                    list.remaining_item_count,
                )
                .await
            }
            None => Err(ApiError::internal("protobuf negotiated without a message")),
        },
        // JSON, of the objects or of their metadata: written as the pages are read.
        Output::Json | Output::Metadata { .. } => {
            let shape = match output {
                Output::Metadata { beta, .. } => ListShape::Metadata { beta },
                _ => ListShape::Objects,
            };
            list_response(
                &t.info,
                shape,
                list.items,
                list.more,
                rv,
                list.continue_token,
                list.remaining_item_count,
            )
            .await
        }
    }
}
