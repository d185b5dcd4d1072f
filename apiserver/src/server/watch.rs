//! watch: options from the query, the registry's event stream written as watch events (JSON
//! lines or `Table`s), bookmarks and the timeout.

use super::*;
use crate::registry::{Seen, WatchItem};
use futures::StreamExt;

/// Watch: what the registry streams (initial ADDEDs for no resourceVersion or "0", then
/// changes in the selection), with BOOKMARKs when allowed and a 410 ERROR event for a history
/// that is gone.
pub(super) async fn watch_collection(
    ctx: &Ctx<'_>,
    t: &Target,
    output: Output,
) -> Result<Resp, ApiError> {
    let info = t.info;
    let opts = list_options(ctx, t)?;
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let bookmarks = matches!(ctx.param("allowWatchBookmarks"), Some("true" | "1"));
    let timeout = match ctx.param("timeoutSeconds") {
        None | Some("") => Duration::from_secs(1800),
        Some(s) => s.parse::<u64>().map(Duration::from_secs).map_err(|_| {
            ApiError::invalid_request(format!(
                "timeoutSeconds: Invalid value: \"{s}\": must be a non-negative integer"
            ))
        })?,
    };
    let resource_version = opts.resource_version;
    // Validated with the list options: true only with NotOlderThan and bookmarks.
    let send_initial_events = matches!(ctx.param("sendInitialEvents"), Some("true" | "1"));
    if send_initial_events && matches!(output, Output::Table { .. }) {
        return Err(ApiError::new(
            406,
            "NotAcceptable",
            "Table output is not supported for streaming lists (sendInitialEvents)",
        ));
    }
    let bookmark_interval = ctx.state.bookmark_interval;
    let watch = t
        .rest
        .clone()
        .watch(t.scope.clone(), opts, resource_version, send_initial_events)
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let mut shutdown = ctx.state.shutdown.subscribe();
    if *shutdown.borrow() {
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is shutting down",
        ));
    }
    tokio::spawn(async move {
        let mut encoder = Encoder {
            info,
            output,
            include,
            headers: true,
        };
        let mut events = watch.events;
        let progress = watch.progress;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmark = tokio::time::interval(bookmark_interval);
        bookmark.tick().await;
        let mut last_rv = watch.from;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                // The store answers with a progress event in order with the changes, so the
                // BOOKMARK carries its current revision even when nothing here changes.
                _ = bookmark.tick(), if bookmarks => match &progress {
                    Some(progress) => progress.request(),
                    None => {
                        if tx.send(encoder.bookmark(last_rv, false)).await.is_err() { return; }
                    }
                },
                _ = tx.closed() => return,
                // The server is shutting down: end the stream cleanly (clients re-watch).
                changed = shutdown.changed() => {
                    let down = changed.is_err() || *shutdown.borrow();
                    if down { return; }
                }
                item = events.next() => {
                    let Some((rv, item)) = item else { return };
                    let last = matches!(item, WatchItem::Error(_));
                    last_rv = last_rv.max(rv);
                    if matches!(item, WatchItem::Progress) && !bookmarks {
                        continue;
                    }
                    if tx.send(encoder.event(last_rv, &item)).await.is_err() || last { return; }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream_from(rx));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(body)
        .expect("response"))
}

pub(super) fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok)))
}

/// Writes one watcher's events: k8s-openapi's typed `WatchEvent`s (errors as typed `Status`es).
struct Encoder {
    info: ResourceInfo,
    output: Output,
    include: IncludeObject,
    /// Whether the next `Table` carries column definitions (only the first does).
    headers: bool,
}

impl Encoder {
    fn event(&mut self, rv: u64, item: &WatchItem) -> Bytes {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::WatchEvent;
        let (kind, seen): (&str, &Seen) = match item {
            WatchItem::Added(s) => ("ADDED", s),
            WatchItem::Modified(s) => ("MODIFIED", s),
            WatchItem::Deleted(s) => ("DELETED", s),
            WatchItem::Error(e) => {
                return line(serde_json::to_vec(&WatchEvent::<Value>::ErrorStatus(
                    e.typed_status(),
                )));
            }
            WatchItem::InitialEventsEnd => return self.bookmark(rv, true),
            WatchItem::Progress => return self.bookmark(rv, false),
        };
        match self.output {
            // The version's shared encoding, spliced into the event: no JSON work per watcher.
            Output::Json => splice(kind, &seen.json),
            Output::Table { beta } => {
                let table = table::table(
                    &self.info,
                    std::slice::from_ref(&seen.object),
                    self.include,
                    beta,
                    object::resource_version(&seen.object).map(str::to_string),
                    None,
                    self.headers,
                );
                self.headers = false;
                line(serde_json::to_vec(&match kind {
                    "ADDED" => WatchEvent::Added(table),
                    "MODIFIED" => WatchEvent::Modified(table),
                    _ => WatchEvent::Deleted(table),
                }))
            }
        }
    }

    /// A BOOKMARK, written by hand because k8s-openapi's omits the `apiVersion` and `kind` that
    /// kube-apiserver sends with it; the end of a streaming list's initial events is annotated
    /// `k8s.io/initial-events-end: "true"`.
    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let info = &self.info;
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": metadata});
        line(serde_json::to_vec(
            &json!({"type": "BOOKMARK", "object": obj}),
        ))
    }
}

fn line(encoded: Result<Vec<u8>, serde_json::Error>) -> Bytes {
    let mut line = encoded.unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// `{"type":"<kind>","object":<object>}` and a newline, as k8s-openapi's `WatchEvent` writes it.
fn splice(kind: &str, json: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(json.len() + 40);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(json);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}
