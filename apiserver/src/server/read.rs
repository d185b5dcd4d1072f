//! get and list: options from the query, selectors, paging, tables.

use super::*;

pub(super) async fn get(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let name = t.name.as_deref().unwrap_or_default();
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let kv = ctx
        .state
        .store
        .get(&key(info, t.namespace.as_deref(), Some(name)))
        .await
        .map_err(|e| storage_error(e, info, name))?
        .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
    let obj = from_storage(ctx.state, info, &kv)?;
    Ok(respond_object(StatusCode::OK, &obj, info, output, include))
}

/// Parsed list options.
pub(super) struct Listing {
    labels: crate::selector::LabelSelector,
    fields: crate::selector::FieldSelector,
    limit: Option<usize>,
    continue_from: Option<(u64, String)>,
}

pub(super) fn list_options(ctx: &Ctx<'_>, t: &Target) -> Result<Listing, ApiError> {
    let info = t.handler.info();
    let labels = crate::selector::LabelSelector::parse(ctx.param("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = crate::selector::FieldSelector::parse(ctx.param("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let mut allowed: Vec<&str> = vec!["metadata.name"];
    if info.namespaced {
        allowed.push("metadata.namespace");
    }
    allowed.extend(t.handler.selectable_fields());
    fields
        .check_fields(&allowed)
        .map_err(ApiError::bad_request)?;
    let limit = match ctx.param("limit") {
        None | Some("") => None,
        Some(l) => Some(l.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("limit: Invalid value: \"{l}\": must be an integer"))
        })?),
    }
    .filter(|l| *l > 0)
    .map(|l| l as usize);
    if let Some(rv) = ctx.param("resourceVersion")
        && !rv.is_empty()
        && rv.parse::<u64>().is_err()
    {
        return Err(ApiError::invalid_request(format!(
            "resourceVersion: Invalid value: \"{rv}\": must be a non-negative integer"
        )));
    }
    let continue_from = match ctx.param("continue") {
        None | Some("") => None,
        Some(token) => {
            if ctx
                .param("resourceVersion")
                .is_some_and(|rv| !rv.is_empty() && rv != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            Some(decode_continue(token).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            })?)
        }
    };
    Ok(Listing {
        labels,
        fields,
        limit,
        continue_from,
    })
}

pub(super) fn encode_continue(rv: u64, start: &str) -> String {
    use base64::Engine;
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

pub(super) fn decode_continue(token: &str) -> Option<(u64, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    if v.get("v")?.as_str()? != "meta.k8s.io/v1" {
        return None;
    }
    Some((
        v.get("rv")?.as_u64()?,
        v.get("start")?.as_str()?.to_string(),
    ))
}

pub(super) fn matches(t: &Target, l: &Listing, obj: &Value) -> bool {
    if !l.labels.matches(&object::labels(obj)) {
        return false;
    }
    l.fields.matches(|field| match field {
        "metadata.name" => object::name(obj).map(str::to_string),
        "metadata.namespace" => object::namespace(obj).map(str::to_string),
        other => t.handler.field_value(obj, other),
    })
}

pub(super) async fn list(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let l = list_options(ctx, t)?;
    let prefix = key(info, t.namespace.as_deref(), None);
    let (mut start_after, mut list_rv) = match &l.continue_from {
        Some((rv, start)) => (Some(start.clone()), Some(*rv)),
        None => (None, None),
    };
    let mut items = Vec::new();
    let mut next = None;
    // Read pages until the selector-filtered page is full (or the keys run out).
    loop {
        let want = l.limit.map(|n| n - items.len());
        let page = ctx
            .state
            .store
            .list(
                &prefix,
                ListOptions {
                    start_after: start_after.clone(),
                    limit: want,
                },
            )
            .await
            .map_err(|e| storage_error(e, info, ""))?;
        list_rv.get_or_insert(page.revision);
        for kv in &page.items {
            let obj = from_storage(ctx.state, info, kv)?;
            if matches(t, &l, &obj) {
                items.push(obj);
            }
        }
        let last = page.items.last().map(|kv| kv.key.clone());
        if !page.remaining || last.is_none() {
            break;
        }
        start_after = last.clone();
        if l.limit.is_some_and(|n| items.len() >= n) {
            next = last;
            break;
        }
    }
    let rv = list_rv.unwrap_or(0);
    let continue_token = next.map(|start| encode_continue(rv, &start));
    match output {
        Output::Table { beta } => Ok(json_response(
            StatusCode::OK,
            &table::table(
                info,
                &items,
                include,
                beta,
                Some(rv.to_string()),
                continue_token,
                true,
            ),
        )),
        Output::Json => {
            let mut metadata = json!({"resourceVersion": rv.to_string()});
            if let Some(c) = continue_token {
                metadata["continue"] = json!(c);
            }
            // Serialised by reference: a 10,000-item list is not copied into a new `Value`.
            #[derive(serde::Serialize)]
            struct List<'a> {
                #[serde(rename = "apiVersion")]
                api_version: String,
                kind: &'a str,
                metadata: Value,
                items: &'a [Value],
            }
            let list = List {
                api_version: info.api_version(),
                kind: info.list_kind,
                metadata,
                items: &items,
            };
            let body = serde_json::to_vec(&list).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("response"))
        }
    }
}
