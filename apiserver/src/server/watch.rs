//! watch: options from the query, the registry's event stream written as watch events (JSON
//! lines or `Table`s) straight into the response body, bookmarks and the timeout: a client that
//! stops reading ends its watch (see [`super::watch_body`]) rather than holding it forever.

use super::watch_body::Lines;
use super::*;
use crate::registry::{EventKind, Seen, WatchItem};
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
    let bookmarks = ctx
        .param("allowWatchBookmarks")
        .is_some_and(super::query_bool);
    let timeout = match super::read::timeout_seconds(ctx)? {
        // 0, as unset, is the default (as in Kubernetes), not a watch that ends at once.
        None | Some(0) => default_timeout(),
        // A negative one has passed already: Go's timer fires at once, ending the watch.
        Some(s) if s < 0 => Duration::ZERO,
        Some(s) => Duration::from_secs(s as u64),
    };
    let resource_version = opts.resource_version;
    // Validated with the list options: only with NotOlderThan; defaulted as Kubernetes 1.32+
    // defaults it. A streaming list in Table form too, as Go's: its initial events are
    // Tables, and so is the BOOKMARK ending them (with a Table as its blueprint).
    let send_initial_events = super::read::send_initial_events(ctx);
    let bookmark_interval = ctx.state.bookmark_interval;
    let protobuf = match output {
        Output::Protobuf => t.rest.protobuf(&t.scope.version),
        _ => None,
    };
    let frames = protobuf.is_some() || matches!(output, Output::Metadata { protobuf: true, .. });
    let content_type = if frames {
        super::protobuf::WATCH_MEDIA_TYPE
    } else {
        "application/json"
    };
    let watch = t
        .rest
        .clone()
        .watch(t.scope.clone(), opts, resource_version, send_initial_events)
        .await?;
    // The open-watch slot the limits layer reserved: kept until the stream ends.
    let slot = crate::limits::take_watch_slot();
    let send_timeout = slot
        .as_ref()
        .map_or(crate::limits::DEFAULT_WATCH_SEND_TIMEOUT, |s| {
            s.send_timeout
        });
    let mut shutdown = ctx.state.shutdown.subscribe();
    if *shutdown.borrow() {
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is shutting down",
        ));
    }
    let progress = watch.progress;
    let lines = Watching {
        events: watch.events,
        encoder: Encoder {
            info,
            output,
            include,
            headers: true,
            protobuf,
        },
        last_rv: watch.from,
        bookmarks,
        done: false,
    };
    let (body, control) = super::watch_body::watch_body(lines);
    // The watch's clocks; its events go from the store to the connection without it.
    tokio::spawn(async move {
        let _slot = slot;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        // One BOOKMARK 2 s before the deadline as well (kube-apiserver's watch cache does the
        // same): a client re-watching after the timeout resumes from a recent revision even
        // when nothing changed meanwhile.
        let mut pretimeout_pending = bookmarks && timeout > PRETIMEOUT_BOOKMARK;
        let pretimeout = tokio::time::sleep(timeout.saturating_sub(PRETIMEOUT_BOOKMARK));
        tokio::pin!(pretimeout);
        let mut bookmark = tokio::time::interval(bookmark_interval);
        bookmark.tick().await;
        // Two looks a send timeout at a connection that may owe the body a poll.
        let mut stall_check =
            tokio::time::interval((send_timeout / 2).max(Duration::from_millis(1)));
        stall_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        stall_check.tick().await;
        let mut stall = control.stall();
        // The store answers a progress request with a progress event in order with the
        // changes, so the BOOKMARK carries its current revision even when nothing here
        // changes; without one, the BOOKMARK names the last revision sent.
        let request_bookmark = || match &progress {
            Some(progress) => progress.request(),
            None => control.bookmark(),
        };
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = bookmark.tick(), if bookmarks => request_bookmark(),
                _ = &mut pretimeout, if pretimeout_pending => {
                    pretimeout_pending = false;
                    request_bookmark();
                }
                _ = stall_check.tick() => if control.stalled(&mut stall, send_timeout) {
                    tracing::debug!(
                        resource = info.plural,
                        "watch ended: its client did not read its events"
                    );
                    break;
                },
                // The client went away, or the server is shutting down: end the stream
                // cleanly (clients re-watch).
                _ = control.closed() => return,
                _ = shut_down(&mut shutdown) => break,
            }
        }
        control.end();
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache, private")
        .extension(crate::compression::Streaming)
        .body(Body::from_stream(body))
        .expect("response"))
}

/// How long before a watch's deadline its last BOOKMARK is sent (kube-apiserver's cacher:
/// `nextBookmarkTime`).
const PRETIMEOUT_BOOKMARK: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a watch that names no `timeoutSeconds` lasts: kube-apiserver's
/// `--min-request-timeout` (1800 s) times a random factor in [1, 2), so that watches opened
/// together (every informer after a restart) do not all end, and relist, together.
fn default_timeout() -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // Each `RandomState` has keys of its own (random per thread, then stepped): its hash of
    // nothing is a number no other watch shares.
    let random = std::hash::RandomState::new().build_hasher().finish();
    let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
    Duration::from_secs_f64(MIN_REQUEST_TIMEOUT_SECS * (1.0 + fraction))
}

/// kube-apiserver's default `--min-request-timeout`, in seconds.
const MIN_REQUEST_TIMEOUT_SECS: f64 = 1800.0;

/// Resolves once the server shuts down.
async fn shut_down(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// One watch's lines: the registry's events, encoded as the watcher asked.
struct Watching {
    events: futures::stream::BoxStream<'static, (u64, WatchItem)>,
    encoder: Encoder,
    /// The last revision sent (or the watch's start).
    last_rv: u64,
    /// Whether the watcher asked for BOOKMARKs.
    bookmarks: bool,
    /// An ERROR was sent, or the events ended: the watch ends.
    done: bool,
}

impl Lines for Watching {
    fn poll_line(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Bytes>> {
        use std::task::Poll;
        while !self.done {
            let Some((rv, item)) = std::task::ready!(self.events.poll_next_unpin(cx)) else {
                // Never polled again once it ended.
                self.done = true;
                break;
            };
            self.last_rv = self.last_rv.max(rv);
            // BOOKMARKs only when asked for, a streaming list's last one too (kube-apiserver
            // sends its initial events without it then).
            if matches!(item, WatchItem::Progress | WatchItem::InitialEventsEnd) && !self.bookmarks
            {
                continue;
            }
            self.done = matches!(item, WatchItem::Error(_));
            return Poll::Ready(Some(self.encoder.event(self.last_rv, &item)));
        }
        Poll::Ready(None)
    }

    fn bookmark(&mut self) -> Option<Bytes> {
        (!self.done).then(|| self.encoder.bookmark(self.last_rv, false))
    }
}

/// Writes one watcher's events: k8s-openapi's typed `WatchEvent`s (errors as typed `Status`es).
struct Encoder {
    info: ResourceInfo,
    output: Output,
    include: IncludeObject,
    /// Whether the next `Table` carries column definitions (only the first does).
    headers: bool,
    /// The version's protobuf message, for a protobuf watch.
    protobuf: Option<crate::registry::ProtobufEdge>,
}

impl Encoder {
    fn event(&mut self, rv: u64, item: &WatchItem) -> Bytes {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::WatchEvent;
        let (kind, seen): (EventKind, &Seen) = match item {
            WatchItem::Added(s) => (EventKind::Added, s),
            WatchItem::Modified(s) => (EventKind::Modified, s),
            WatchItem::Deleted(s) => (EventKind::Deleted, s),
            WatchItem::Error(e) => return self.error(e),
            WatchItem::InitialEventsEnd => return self.bookmark(rv, true),
            WatchItem::Progress => return self.bookmark(rv, false),
        };
        match self.output {
            // The version's shared event line: the same bytes for every watcher.
            Output::Json => seen.line(kind),
            // Made per watcher: metadata watches are few (controllers' garbage collection).
            Output::Metadata { beta, protobuf, .. } => {
                match seen
                    .object()
                    .and_then(|o| super::metadata::watch_event(kind.as_str(), o, beta, protobuf))
                {
                    Ok(bytes) => bytes,
                    Err(e) => self.error(&e),
                }
            }
            // Likewise the version's shared frame.
            Output::Protobuf => {
                let Some(edge) = self.protobuf else {
                    return self.error(&ApiError::internal("protobuf watch without a message"));
                };
                let info = &self.info;
                match seen.frame(kind, |event_type, json| {
                    let object =
                        super::protobuf::object_bytes(edge, info, json).map_err(|e| e.message)?;
                    let mut frame = Vec::with_capacity(object.len() + 24);
                    kube_codegen_protobuf::envelope::watch_frame(event_type, &object, &mut frame);
                    Ok(frame)
                }) {
                    Ok(frame) => frame,
                    Err(e) => self.error(&e),
                }
            }
            Output::Table { beta } => {
                let object = match seen.object() {
                    Ok(object) => object,
                    Err(e) => {
                        return line(serde_json::to_vec(&WatchEvent::<Value>::ErrorStatus(
                            e.typed_status(),
                        )));
                    }
                };
                let table = table::table(
                    &self.info,
                    std::slice::from_ref(object),
                    self.include,
                    beta,
                    object::resource_version(object).map(str::to_string),
                    None,
                    None,
                    self.headers,
                );
                self.headers = false;
                line(serde_json::to_vec(&match kind {
                    EventKind::Added => WatchEvent::Added(table),
                    EventKind::Modified => WatchEvent::Modified(table),
                    EventKind::Deleted => WatchEvent::Deleted(table),
                }))
            }
        }
    }

    /// The empty list a streaming list's client builds its list from, in the watch's format
    /// (Kubernetes 1.33's `kubernetes.io/initial-events-list-blueprint`, which client-go's
    /// watch-list requires): the resource's list, a `PartialObjectMetadataList` or a `Table`, in
    /// JSON or in protobuf.
    fn blueprint(&self) -> Vec<u8> {
        use kube_codegen_protobuf::envelope;
        let info = &self.info;
        let list_kind = format!("{}List", info.kind);
        let (api_version, kind, protobuf) = match self.output {
            Output::Json => (info.api_version(), list_kind.as_str(), false),
            Output::Protobuf => (info.api_version(), list_kind.as_str(), true),
            Output::Metadata { beta, protobuf, .. } => (
                super::metadata::api_version(beta).to_string(),
                "PartialObjectMetadataList",
                protobuf,
            ),
            Output::Table { beta } => (
                super::metadata::api_version(beta).to_string(),
                "Table",
                false,
            ),
        };
        if protobuf {
            let raw = envelope::list_message(&Default::default(), std::iter::empty());
            let mut out = Vec::with_capacity(raw.len() + 64);
            envelope::wrap(&api_version, kind, &raw, &mut out);
            return out;
        }
        let mut list = json!({"kind": kind, "apiVersion": api_version, "metadata": {}});
        match kind {
            "Table" => {
                list["columnDefinitions"] = json!([]);
                list["rows"] = json!([]);
            }
            _ => list["items"] = json!([]),
        }
        serde_json::to_vec(&list).expect("a JSON value serialises")
    }

    /// An ERROR event carrying the error's `Status`.
    fn error(&self, e: &ApiError) -> Bytes {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::WatchEvent;
        if matches!(
            self.output,
            Output::Protobuf | Output::Metadata { protobuf: true, .. }
        ) {
            let status = kube_codegen_protobuf::envelope::encode_status(&e.typed_status());
            let mut frame = Vec::new();
            kube_codegen_protobuf::envelope::watch_frame("ERROR", &status, &mut frame);
            return Bytes::from(frame);
        }
        line(serde_json::to_vec(&WatchEvent::<Value>::ErrorStatus(
            e.typed_status(),
        )))
    }

    /// A BOOKMARK, written by hand because k8s-openapi's omits the `apiVersion` and `kind` that
    /// kube-apiserver sends with it; the end of a streaming list's initial events is annotated
    /// `k8s.io/initial-events-end: "true"`, and carries the list's blueprint.
    fn bookmark(&mut self, rv: u64, initial_events_end: bool) -> Bytes {
        let info = &self.info;
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            use base64::Engine as _;
            let blueprint = base64::engine::general_purpose::STANDARD.encode(self.blueprint());
            metadata["annotations"] = json!({
                "k8s.io/initial-events-end": "true",
                "kubernetes.io/initial-events-list-blueprint": blueprint,
            });
        }
        if let Output::Metadata { beta, protobuf, .. } = self.output {
            let obj = json!({ "metadata": metadata });
            return super::metadata::watch_event("BOOKMARK", &obj, beta, protobuf)
                .unwrap_or_else(|e| self.error(&e));
        }
        let obj =
            json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": metadata});
        if let Output::Table { beta } = self.output {
            // Go's watch encoder makes every event's object a Table, a BOOKMARK's too (its row
            // the bookmark's empty object), the column definitions going with the first event
            // of any type.
            let table = table::table(
                info,
                std::slice::from_ref(&obj),
                self.include,
                beta,
                Some(rv.to_string()),
                None,
                None,
                self.headers,
            );
            self.headers = false;
            return line(serde_json::to_vec(
                &json!({"type": "BOOKMARK", "object": table}),
            ));
        }
        if let (Output::Protobuf, Some(edge)) = (self.output, self.protobuf) {
            let object = serde_json::to_vec(&obj)
                .map_err(|e| ApiError::internal(e.to_string()))
                .and_then(|json| super::protobuf::object_bytes(edge, info, &json));
            return match object {
                Ok(object) => {
                    let mut frame = Vec::new();
                    kube_codegen_protobuf::envelope::watch_frame("BOOKMARK", &object, &mut frame);
                    Bytes::from(frame)
                }
                Err(e) => self.error(&e),
            };
        }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn default_timeouts_spread_over_30_to_60_minutes() {
        let timeouts: Vec<Duration> = (0..200).map(|_| super::default_timeout()).collect();
        assert!(
            timeouts
                .iter()
                .all(|t| (Duration::from_secs(1800)..Duration::from_secs(3600)).contains(t)),
            "{timeouts:?}"
        );
        let early = timeouts.iter().filter(|t| t.as_secs() < 2700).count();
        assert!(
            (40..=160).contains(&early),
            "{early} of 200 in the first half"
        );
    }
}
