//! watch: initial events, store events filtered by selectors and converted to the watcher's
//! version, bookmarks, and 410 for a history that is gone.

use super::*;

/// Watch: initial ADDEDs (for RV unset or "0"), then events from the store, filtered by the
/// selectors (an object leaving the selection is DELETED, entering it ADDED), with bookmarks and
/// a 410 ERROR event for a resourceVersion older than the history.
pub(super) async fn watch_collection(
    ctx: &Ctx<'_>,
    t: &Target,
    output: Output,
) -> Result<Resp, ApiError> {
    let info = *t.handler.info();
    let l = list_options(ctx, t)?;
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
    let prefix = key(&info, t.namespace.as_deref(), None);
    let rv = ctx.param("resourceVersion").unwrap_or("");
    let store = ctx.state.store.clone();
    let st = ctx.state.clone();
    let bookmark_interval = ctx.state.bookmark_interval;

    let mut initial = Vec::new();
    let from = if rv.is_empty() || rv == "0" {
        let page = store
            .list(&prefix, ListOptions::default())
            .await
            .map_err(|e| storage_error(e, &info, ""))?;
        for kv in &page.items {
            let obj = from_storage(ctx.state, &info, kv)?;
            if matches(t, &l, &obj) {
                initial.push(obj);
            }
        }
        page.revision
    } else {
        rv.parse::<u64>().map_err(|_| {
            ApiError::invalid_request(format!(
                "resourceVersion: Invalid value: \"{rv}\": must be a non-negative integer"
            ))
        })?
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let stream_result = store.watch(&prefix, from).await;
    let handler = t.handler.clone();
    let target = Target {
        handler: handler.clone(),
        namespace: t.namespace.clone(),
        name: None,
        subresource: None,
    };
    tokio::spawn(async move {
        let mut headers = true;
        // Events are k8s-openapi's typed `WatchEvent`s (objects as JSON values, errors as typed
        // `Status`es); a bookmark is written by hand because k8s-openapi's omits the
        // `apiVersion` and `kind` that kube-apiserver sends with it.
        let mut encode = |ev: Event<'_>| -> Bytes {
            use k8s_openapi::apimachinery::pkg::apis::meta::v1::WatchEvent;
            let mut object = |obj: &Value| match output {
                Output::Table { beta } => {
                    let tbl = table::table(
                        &info,
                        std::slice::from_ref(obj),
                        include,
                        beta,
                        object::resource_version(obj).map(str::to_string),
                        None,
                        headers,
                    );
                    headers = false;
                    tbl
                }
                Output::Json => obj.clone(),
            };
            let line = match ev {
                Event::Added(obj) => serde_json::to_vec(&WatchEvent::Added(object(obj))),
                Event::Modified(obj) => serde_json::to_vec(&WatchEvent::Modified(object(obj))),
                Event::Deleted(obj) => serde_json::to_vec(&WatchEvent::Deleted(object(obj))),
                Event::Error(e) => {
                    serde_json::to_vec(&WatchEvent::<Value>::ErrorStatus(e.typed_status()))
                }
                Event::Bookmark(obj) => {
                    serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj}))
                }
            };
            let mut line = line.unwrap_or_default();
            line.push(b'\n');
            Bytes::from(line)
        };
        for obj in &initial {
            if tx.send(encode(Event::Added(obj))).await.is_err() {
                return;
            }
        }
        let mut stream = match stream_result {
            Ok(s) => s,
            Err(e) => {
                let err = storage_error(e, &info, "");
                let _ = tx.send(encode(Event::Error(&err))).await;
                return;
            }
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmark = tokio::time::interval(bookmark_interval);
        bookmark.tick().await;
        let mut last_rv = from;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = bookmark.tick(), if bookmarks => {
                    let obj = json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(encode(Event::Bookmark(&obj))).await.is_err() { return; }
                }
                _ = tx.closed() => return,
                item = stream.next() => {
                    let Some(item) = item else { return };
                    let ev = match item {
                        Ok(ev) => ev,
                        Err(e) => {
                            let err = storage_error(e, &info, "");
                            let _ = tx.send(encode(Event::Error(&err))).await;
                            return;
                        }
                    };
                    last_rv = ev.revision;
                    // Converted (and encoded) once per version for every watcher of it.
                    let new = match st.events.seen(&st, &info, &ev.kv, ev.revision) {
                        Ok(new) => new,
                        Err(e) => {
                            let _ = tx.send(encode(Event::Error(&e))).await;
                            return;
                        }
                    };
                    let old = ev
                        .prev
                        .as_ref()
                        .and_then(|p| st.events.seen(&st, &info, p, p.mod_revision).ok());
                    let new_matches = matches(&target, &l, &new.object);
                    let old_matches = old.as_ref().is_some_and(|o| matches(&target, &l, &o.object));
                    let kind = match ev.kind {
                        apiserver_storage::EventType::Deleted if old_matches || new_matches => "DELETED",
                        apiserver_storage::EventType::Deleted => continue,
                        _ if new_matches && old_matches => "MODIFIED",
                        _ if new_matches => "ADDED",
                        _ if old_matches => "DELETED",
                        _ => continue,
                    };
                    let line = match output {
                        // The shared encoding, spliced into the event: no JSON work per watcher.
                        Output::Json => new.event_line(kind),
                        Output::Table { .. } => encode(match kind {
                            "ADDED" => Event::Added(&new.object),
                            "MODIFIED" => Event::Modified(&new.object),
                            _ => Event::Deleted(&new.object),
                        }),
                    };
                    if tx.send(line).await.is_err() { return; }
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

/// One event of a watch, before it is encoded.
enum Event<'a> {
    Added(&'a Value),
    Modified(&'a Value),
    Deleted(&'a Value),
    Bookmark(&'a Value),
    Error(&'a ApiError),
}

/// Store events as each served version sees them, shared by all watchers: an event is converted
/// to a version and encoded once, however many watch it in that version (bounded, most recent
/// kept).
#[derive(Default)]
pub(crate) struct EventCache {
    entries: std::sync::Mutex<EventEntries>,
}

#[derive(Default)]
struct EventEntries {
    map: HashMap<(String, u64, &'static str), Arc<Seen>>,
    order: std::collections::VecDeque<(String, u64, &'static str)>,
}

/// How many converted events are kept: enough for every watcher to catch up on a burst.
const EVENT_CACHE_CAPACITY: usize = 4096;

/// A stored object as one version sees it at one revision.
pub(crate) struct Seen {
    pub object: Value,
    /// `object` as JSON.
    pub json: Bytes,
}

impl Seen {
    /// `{"type":"<kind>","object":<object>}` and a newline, as k8s-openapi's `WatchEvent` writes it.
    fn event_line(&self, kind: &str) -> Bytes {
        let mut line = Vec::with_capacity(self.json.len() + 40);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&self.json);
        line.extend_from_slice(b"}\n");
        Bytes::from(line)
    }
}

impl EventCache {
    /// `kv` in `info`'s version with `resourceVersion` = `revision`, converted at most once.
    pub(crate) fn seen(
        &self,
        st: &State,
        info: &kube_codegen_scheme::ResourceInfo,
        kv: &apiserver_storage::KeyValue,
        revision: u64,
    ) -> Result<Arc<Seen>, ApiError> {
        let key = (kv.key.clone(), revision, info.version);
        if let Some(seen) = self.lock().map.get(&key) {
            return Ok(seen.clone());
        }
        let mut object = from_storage(st, info, kv)?;
        object::set_resource_version(&mut object, revision);
        let json = Bytes::from(
            serde_json::to_vec(&object).map_err(|e| ApiError::internal(e.to_string()))?,
        );
        let seen = Arc::new(Seen { object, json });
        let mut entries = self.lock();
        if !entries.map.contains_key(&key) {
            entries.map.insert(key.clone(), seen.clone());
            entries.order.push_back(key);
            while entries.order.len() > EVENT_CACHE_CAPACITY {
                if let Some(old) = entries.order.pop_front() {
                    entries.map.remove(&old);
                }
            }
        }
        Ok(seen)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EventEntries> {
        // A panic while holding the lock leaves nothing half-written worth refusing.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
