//! Deletes of a [`GenericStore`]: preconditions, finalizers and the garbage collector's
//! propagation policies, and deletecollection.

use super::*;

impl<H, S> GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    pub(super) async fn delete_object(
        &self,
        scope: &Scope,
        name: &str,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        meta::check_path_name(name)?;
        let (_, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        if self.unsafe_delete_asked(opts) {
            return self
                .delete_malformed(scope, info, name, opts, dry_run)
                .await;
        }
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let preconditions = opts.preconditions.as_ref();
        let mut attempts = Attempts::new();
        while attempts.another().await {
            let current = self.stored(&k, info, name).await?;
            let mut obj = self.decode_stored(&current)?;
            if let Some(uid) = preconditions.and_then(|p| p.uid.as_deref())
                && Some(uid) != obj.metadata().uid.as_deref()
            {
                return Err(ApiError::conflict(
                    info.plural,
                    info.group,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        obj.metadata().uid.as_deref().unwrap_or_default()
                    ),
                ));
            }
            if let Some(rv) = preconditions.and_then(|p| p.resource_version.as_deref())
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
            let attrs = Attributes {
                operation: Operation::Delete,
                resource: info,
                subresource: None,
                namespace: scope.namespace.as_deref(),
                name,
                user: scope.user.as_deref(),
                dry_run,
                options: RequestOptions::Delete(opts),
            };
            self.admission.validate(&attrs, None, Some(&obj))?;
            self.webhooks_validate(codec, &attrs, None, Some(&obj))
                .await?;
            // A garbage collector watching this server orphans the object's dependents, or
            // deletes them first, when asked to by a finalizer of its own.
            let gc_changed =
                self.garbage_collection && meta::set_gc_finalizers(obj.metadata_mut(), opts);
            if meta::has_finalizers(obj.metadata()) {
                // Finalizers pending: mark, answer with the object; deletion happens when
                // they are gone.
                if !meta::is_deleting(obj.metadata()) || gc_changed {
                    meta::mark_deleting(obj.metadata_mut());
                    if !dry_run {
                        let bytes = self.to_storage(&mut obj)?;
                        match self
                            .store
                            .update(&k, bytes, Some(current.mod_revision))
                            .await
                        {
                            Ok(kv) => {
                                obj.metadata_mut().resource_version =
                                    Some(kv.mod_revision.to_string())
                            }
                            Err(StorageError::Conflict { .. }) => continue,
                            Err(e) => return Err(self.storage_error(e, name)),
                        }
                    }
                }
                return Ok(Deleted::Pending(self.encode(codec, &obj)?));
            }
            if dry_run {
                return Ok(Deleted::Gone(self.encode(codec, &obj)?));
            }
            match self.store.delete(&k, Some(current.mod_revision)).await {
                Ok(kv) => {
                    obj.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
                    return Ok(Deleted::Gone(self.encode(codec, &obj)?));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(self.storage_error(e, name)),
            }
        }
        Err(Attempts::exhausted(info, name))
    }

    /// Whether a delete asks for the unsafe delete of an object that does not decode (only
    /// when the server allows it: otherwise the option is ignored, as kube-apiserver drops it
    /// with its feature gate off).
    fn unsafe_delete_asked(&self, opts: &DeleteOptions) -> bool {
        self.unsafe_delete
            && opts.ignore_store_read_error_with_cluster_breaking_potential == Some(true)
    }

    /// kube-apiserver's unsafe delete (KEP-3926, `ignoreStoreReadErrorWithClusterBreakingPotential`):
    /// removes an object whose stored value does not decode — which fails every list of the
    /// resource, and so every informer — without admission or finalizers, which cannot read it.
    /// Needs the `unsafe-delete-ignore-read-errors` verb; options it cannot honour
    /// (preconditions, a grace period, a propagation policy) are a 422, as Go's
    /// `ValidateIgnoreStoreReadError` answers; an object that decodes is a 409 (it is deleted
    /// the ordinary way).
    async fn delete_malformed(
        &self,
        scope: &Scope,
        info: &ResourceInfo,
        name: &str,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        let field = "ignoreStoreReadErrorWithClusterBreakingPotential";
        let together = |other: &str| {
            Cause::new(
                "FieldValueInvalid",
                field,
                format!("Invalid value: true: cannot be set together with .{other}"),
            )
        };
        let mut causes = Vec::new();
        if opts.propagation_policy.is_some() {
            causes.push(together("propagationPolicy"));
        }
        if opts.orphan_dependents.is_some() {
            causes.push(together("orphanDependents"));
        }
        if opts.grace_period_seconds.is_some() {
            causes.push(together("gracePeriodSeconds"));
        }
        if opts.preconditions.is_some() {
            causes.push(together("preconditions"));
        }
        if !causes.is_empty() {
            return Err(ApiError::invalid_delete_options(causes));
        }
        if let Some(authorized) = &scope.authorized {
            authorized.may_unsafe_delete().await?;
        }
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let mut attempts = Attempts::new();
        while attempts.another().await {
            let current = self.stored(&k, info, name).await?;
            if self.decode_stored(&current).is_ok() {
                return Err(ApiError::conflict(
                    info.plural,
                    info.group,
                    name,
                    &format!("the object is not corrupt: delete it without {field}"),
                ));
            }
            if dry_run {
                return Ok(Deleted::Gone(Value::Null));
            }
            match self.store.delete(&k, Some(current.mod_revision)).await {
                Ok(_) => {
                    tracing::warn!(key = %k, user = scope.user.as_deref().map_or("", |u| u.name.as_str()), "an object that did not decode was deleted ({field})");
                    return Ok(Deleted::Gone(Value::Null));
                }
                // Changed meanwhile: read it again, as Go's conditional delete does.
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(self.storage_error(e, name)),
            }
        }
        Err(Attempts::exhausted(info, name))
    }

    /// Go's `Store.DeleteCollection`: deletes what a list with the same options returns. With
    /// `limit`, that is one page (its `continue` token returned for the next call); without,
    /// every page, read at the first page's revision. Objects are read before any is deleted,
    /// so deleting cannot move the list's pinned revision out of the store's history.
    pub(super) async fn delete_selected(
        &self,
        scope: &Scope,
        list: &ListOptions,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<ObjectList, ApiError> {
        if self.unsafe_delete_asked(opts) {
            return Err(ApiError::invalid_delete_options(vec![Cause::new(
                "FieldValueInvalid",
                "ignoreStoreReadErrorWithClusterBreakingPotential",
                "Invalid value: true: is not allowed with DELETECOLLECTION, try again after removing the option",
            )]));
        }
        let (_, codec) = self.codec(&scope.version)?;
        let (selected, resource_version, next) = self.select_for_delete(scope, list).await?;
        // Answered with the list as it was read, before the deletes (those another client
        // deleted meanwhile too), as Go's `DeleteCollection` returns its list.
        let mut listed = Vec::with_capacity(selected.len());
        for (i, obj) in selected.into_iter().enumerate() {
            // A store that deletes without awaiting (memory) would otherwise publish the whole
            // collection's events before any watcher's task runs: let them drain as it goes.
            if i % 64 == 63 {
                tokio::task::yield_now().await;
            }
            let one = Scope {
                version: scope.version.clone(),
                namespace: obj.metadata().namespace.clone(),
                user: scope.user.clone(),
                authorized: scope.authorized.clone(),
            };
            listed.push(self.encode(codec, &obj)?);
            match self
                .delete_object(&one, meta::name(obj.metadata()), opts, dry_run)
                .await
            {
                Ok(Deleted::Gone(_) | Deleted::Pending(_)) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ObjectList {
            items: ListItems::from_values(listed),
            more: None,
            resource_version,
            continue_token: next.map(|start| encode_continue(resource_version, &start)),
            remaining_item_count: None,
        })
    }

    /// The objects a deletecollection with `list` deletes, the revision they were read at, and
    /// the key to continue after when `limit` cut the list short.
    async fn select_for_delete(
        &self,
        scope: &Scope,
        list: &ListOptions,
    ) -> Result<(Vec<H>, u64, Option<String>), ApiError> {
        let prefix = self.key(scope.namespace.as_deref(), None);
        let super::list::ListStart {
            mut start_after,
            mut revision,
            not_older_than,
        } = super::list::ListStart::of(list);
        if let Some(asked) = not_older_than.filter(|rv| *rv > 0) {
            self.wait_for_revision(asked).await?;
        }
        let mut selected = Vec::new();
        let mut next = None;
        loop {
            let want = list
                .limit
                .map_or(DELETE_COLLECTION_PAGE, |n| n - selected.len());
            let page = self
                .store
                .list(
                    &prefix,
                    apiserver_storage::ListOptions {
                        start_after: start_after.clone(),
                        limit: Some(want),
                        revision,
                        not_older_than,
                        skip_count: true,
                    },
                )
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => return Err(self.page_error(e, list, revision).await),
            };
            revision.get_or_insert(page.revision);
            for kv in &page.items {
                let obj = self.decode_stored(kv)?;
                if self.matches(list, &obj) {
                    selected.push(obj);
                }
            }
            let last = page.items.last().map(|kv| kv.key.clone());
            if !page.remaining || last.is_none() {
                break;
            }
            if list.limit.is_some_and(|n| selected.len() >= n) {
                next = last;
                break;
            }
            start_after = last;
        }
        let revision = revision.unwrap_or(0);
        super::list::check_list_revision(list, revision)?;
        Ok((selected, revision, next))
    }
}

/// The page a deletecollection without `limit` reads at a time (Go's `deleteCollectionPageSize`).
const DELETE_COLLECTION_PAGE: usize = 10_000;
