//! Lists of a [`GenericStore`]: pages read at one revision, selectors, items from stored bytes
//! where the version allows, and long lists written while they are read.

use super::*;

impl<H, S> GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    pub(super) async fn list_objects(
        &self,
        scope: &Scope,
        opts: &ListOptions,
    ) -> Result<ObjectList, ApiError> {
        let (_, codec) = self.codec(&scope.version)?;
        let prefix = self.key(scope.namespace.as_deref(), None);
        let ListStart {
            mut start_after,
            revision: mut list_rv,
            not_older_than,
        } = ListStart::of(opts);
        if let Some(asked) = not_older_than.filter(|rv| *rv > 0) {
            self.wait_for_revision(asked).await?;
        }
        // An unlimited list its caller writes as it reads: pages read at the first page's
        // revision while the response is written, so that neither the response nor the list is
        // ever whole in memory. Every store reads recent revisions (the memory store from its
        // bounded event window): a list read for longer than its store keeps that revision ends
        // early with an error, as a paged list's next page would get 410 Gone.
        let this = (opts.streamed && opts.limit.is_none() && opts.continue_from.is_none())
            .then(|| self.me.upgrade())
            .flatten();
        let mut items = Vec::new();
        let mut next = None;
        let mut more_after = None;
        let mut remaining_count;
        // Read pages until the selector-filtered page is full (or the keys run out).
        loop {
            let want = match this {
                Some(_) => Some(LIST_PAGE),
                None => opts.limit.map(|n| n - items.len()),
            };
            let page = self
                .store
                .list(
                    &prefix,
                    apiserver_storage::ListOptions {
                        start_after: start_after.clone(),
                        limit: want,
                        // Later pages read the first one's revision: one snapshot.
                        revision: list_rv,
                        not_older_than,
                        // Pages read while written have no `remainingItemCount` to give.
                        skip_count: this.is_some(),
                    },
                )
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => return Err(self.page_error(e, opts, list_rv).await),
            };
            list_rv.get_or_insert(page.revision);
            remaining_count = page.remaining_count;
            for kv in &page.items {
                if let Some(item) = self.list_item(codec, opts, kv)? {
                    items.push(item);
                }
            }
            let last = page.items.last().map(|kv| kv.key.clone());
            if !page.remaining || last.is_none() {
                break;
            }
            if this.is_some() {
                more_after = last;
                break;
            }
            start_after = last.clone();
            if opts.limit.is_some_and(|n| items.len() >= n) {
                next = last;
                break;
            }
        }
        let resource_version = list_rv.unwrap_or(0);
        check_list_revision(opts, resource_version)?;
        // Only without selectors do the keys left say how many objects are left.
        let unselected = opts.labels.is_empty() && opts.fields.is_empty();
        let continue_token = next.map(|start| encode_continue(resource_version, &start));
        let more = match (this, more_after) {
            (Some(this), Some(after)) => Some(MorePages(this.more_pages(
                scope.version.clone(),
                prefix,
                after,
                resource_version,
                opts.clone(),
            ))),
            _ => None,
        };
        Ok(ObjectList {
            items: ListItems::new(Items { items }),
            more,
            resource_version,
            remaining_item_count: remaining_count
                .filter(|_| unselected && continue_token.is_some()),
            continue_token,
        })
    }

    /// A failed read of a page of a list with `opts`, read at `pinned`: a continue token whose
    /// revision was compacted is a 410 with a token for the rest of the list at the latest
    /// revision (Go's `handleCompactedErrorForPaging`); anything else as [`Self::list_error`].
    pub(super) async fn page_error(
        &self,
        e: StorageError,
        opts: &ListOptions,
        pinned: Option<u64>,
    ) -> ApiError {
        match (&e, &opts.continue_from) {
            (StorageError::Expired { .. }, Some((rv, start))) if *rv > 0 => {
                ApiError::inconsistent_continue(
                    crate::registry::rest::encode_inconsistent_continue(start),
                )
            }
            _ => self.list_error(e, pinned).await,
        }
    }

    /// A failed read of a list at `pinned` (`resourceVersionMatch=Exact`, a continue token): a
    /// revision the store has not reached is the 504 a too new `resourceVersion` gets anywhere.
    pub(super) async fn list_error(&self, e: StorageError, pinned: Option<u64>) -> ApiError {
        if let (StorageError::Timeout(_), Some(at)) = (&e, pinned)
            && let Ok(current) = self.store.revision().await
            && at > current
        {
            return ApiError::too_large_resource_version(at, current);
        }
        // A list pinned to a compacted revision: etcd3's `interpretListError` wording.
        if let (StorageError::Expired { .. }, Some(_)) = (&e, pinned) {
            return ApiError::expired("The resourceVersion for the provided list is too old.");
        }
        self.storage_error(e, "")
    }

    /// The pages of a list after the key `after`, each read at `revision` when asked for. Keys
    /// are read page after page (each page starts after the last key of the one before); the
    /// items of [`PAGES_IN_FLIGHT`] pages are made at once, each page on a task of its own, so
    /// that a list served in another version than the stored one — every item decoded,
    /// converted and encoded — uses every core while the connection writes the pages in order.
    fn more_pages(
        self: std::sync::Arc<Self>,
        version: String,
        prefix: String,
        after: String,
        revision: u64,
        opts: ListOptions,
    ) -> futures::stream::BoxStream<'static, Result<ListItems, ApiError>> {
        use futures::StreamExt;
        let reader = self.clone();
        let pages = futures::stream::unfold(Some(after), move |after| {
            let this = reader.clone();
            let prefix = prefix.clone();
            async move {
                let after = after?;
                let page = this
                    .store
                    .list(
                        &prefix,
                        apiserver_storage::ListOptions {
                            start_after: Some(after),
                            limit: Some(LIST_PAGE),
                            revision: Some(revision),
                            not_older_than: None,
                            skip_count: true,
                        },
                    )
                    .await
                    .map_err(|e| this.storage_error(e, ""));
                Some(match page {
                    Ok(page) => {
                        let next = page
                            .remaining
                            .then(|| page.items.last().map(|kv| kv.key.clone()))
                            .flatten();
                        (Ok(page.items), next)
                    }
                    Err(e) => (Err(e), None),
                })
            }
        });
        pages
            .map(move |page| {
                let this = self.clone();
                let (version, opts) = (version.clone(), opts.clone());
                async move {
                    let kvs = page?;
                    // A list whose client went away stops making its pages.
                    let made = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                        let (_, codec) = this.codec(&version)?;
                        let mut items = Vec::new();
                        for kv in &kvs {
                            if let Some(item) = this.list_item(codec, &opts, kv)? {
                                items.push(item);
                            }
                        }
                        Ok::<_, ApiError>(ListItems::new(Items { items }))
                    }));
                    made.await.map_err(|e| {
                        // The panic's message goes to the log, not to the client.
                        let panic = e.try_into_panic().ok();
                        let message = panic.as_deref().map_or("(cancelled)", crate::panics::message);
                        tracing::error!(panic = %message, "making a page of a list failed");
                        ApiError::internal(
                            "making a page of the list failed; look in the server's logs for details",
                        )
                    })?
                }
            })
            .buffered(PAGES_IN_FLIGHT)
            .boxed()
    }

    /// One stored object of a list, if the selectors select it: served from its stored bytes
    /// when the requested version's codec wrote them (no decoding unless a selector needs a
    /// field other than the name, namespace and labels), else decoded into the hub.
    fn list_item(
        &self,
        codec: &VersionCodec<H>,
        opts: &ListOptions,
        kv: &KeyValue,
    ) -> Result<Option<Item>, ApiError> {
        let opened = self.open(kv)?;
        let splice = opened
            .splice
            .filter(|_| self.serve_stored && opened.fingerprint == Some(codec.fingerprint));
        let Some(splice) = splice else {
            let obj = self.decode_opened(kv, &opened)?;
            if !self.matches(opts, &obj) {
                return Ok(None);
            }
            let mut json = Vec::with_capacity(kv.value.len() + 64);
            (codec.write_json_owned)(obj, &mut json).map_err(|e| self.unwritable(codec, e))?;
            return Ok(Some(Item::Encoded(json)));
        };
        let selected = if opts.labels.is_empty() && opts.fields.is_empty() {
            true
        } else if opts
            .fields
            .requirements()
            .iter()
            .all(|r| matches!(r.field.as_str(), "metadata.name" | "metadata.namespace"))
        {
            let meta = stored::probe_meta(opened.json).map_err(|e| {
                ApiError::internal(format!("{} {}: {e}", self.resource().kind, kv.key))
            })?;
            meta.selected_by(&opts.labels, &opts.fields)
        } else {
            self.matches(opts, &self.decode_opened(kv, &opened)?)
        };
        Ok(selected.then(|| Item::Stored {
            value: kv.value.clone(),
            json_start: opened.json_start,
            splice,
            rv: kv.mod_revision,
        }))
    }
}

/// Keys read per storage call by a list written as it is read ([`ListOptions::streamed`]).
const LIST_PAGE: usize = 500;

/// Pages of such a list whose items are made at once (one per core of a small machine).
const PAGES_IN_FLIGHT: usize = 2;

/// A list read at `revision` against the `resourceVersion` it asked for: newer than asked is
/// fine (`NotOlderThan`, or unset); older than asked is a 504 as in Kubernetes ("Too large
/// resource version"). `Exact` lists were read at the revision asked for.
pub(super) fn check_list_revision(opts: &ListOptions, revision: u64) -> Result<(), ApiError> {
    let Some(asked) = opts.resource_version.filter(|rv| *rv > 0) else {
        return Ok(());
    };
    if asked > revision {
        return Err(ApiError::too_large_resource_version(asked, revision));
    }
    Ok(())
}

/// One item of a list.
enum Item {
    /// Stored bytes in the requested version, served with their `resourceVersion` put back.
    Stored {
        value: Bytes,
        json_start: usize,
        splice: stored::Splice,
        rv: u64,
    },
    /// An object decoded and encoded in the requested version (converted as it was read: the
    /// object it was converted from is not kept).
    Encoded(Vec<u8>),
}

/// A list's items.
struct Items {
    items: Vec<Item>,
}

impl ItemSource for Items {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn write_json(&self, i: usize, out: &mut Vec<u8>) -> Result<(), String> {
        match &self.items[i] {
            Item::Stored {
                value,
                json_start,
                splice,
                rv,
            } => {
                stored::write_served(out, &value[*json_start..], *splice, *rv);
                Ok(())
            }
            Item::Encoded(json) => {
                out.extend_from_slice(json);
                Ok(())
            }
        }
    }
}

/// Where a list with some options starts reading, and at which revision.
pub(super) struct ListStart {
    /// The key a `continue` token resumes after.
    pub start_after: Option<String>,
    /// The revision to read: a continue token's (every page after the first reads the first
    /// page's, a consistent snapshot), or the one `resourceVersionMatch=Exact` asks for.
    pub revision: Option<u64>,
    /// Kubernetes' "any" (`resourceVersion="0"`) and "not older than" lists may be answered from
    /// a watch cache; a list without a resourceVersion is a consistent read.
    pub not_older_than: Option<u64>,
}

impl ListStart {
    pub(super) fn of(opts: &ListOptions) -> Self {
        let (start_after, mut revision) = match &opts.continue_from {
            // An inconsistent continuation (revision 0 here): the rest at the latest revision.
            Some((0, start)) => (Some(start.clone()), None),
            Some((rv, start)) => (Some(start.clone()), Some(*rv)),
            None => (None, None),
        };
        if revision.is_none()
            && opts.resource_version_match == crate::registry::rest::ResourceVersionMatch::Exact
        {
            revision = opts.resource_version.filter(|rv| *rv > 0);
        }
        let not_older_than = match (revision, opts.resource_version) {
            (None, Some(rv)) => Some(rv),
            _ => None,
        };
        ListStart {
            start_after,
            revision,
            not_older_than,
        }
    }
}
