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
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let preconditions = opts.preconditions.as_ref();
        let mut attempts = Attempts::new();
        while attempts.another().await {
            let current = self
                .store
                .get(&k)
                .await
                .map_err(|e| self.storage_error(e, name))?
                .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
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
        Err(ApiError::conflict(
            info.plural,
            info.group,
            name,
            "too many concurrent writers; try again",
        ))
    }

    pub(super) async fn delete_selected(
        &self,
        scope: &Scope,
        list: &ListOptions,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<ObjectList, ApiError> {
        self.codec(&scope.version)?;
        let prefix = self.key(scope.namespace.as_deref(), None);
        let page = self
            .store
            .list(&prefix, apiserver_storage::ListOptions::default())
            .await
            .map_err(|e| self.storage_error(e, ""))?;
        let mut deleted = Vec::new();
        for (i, kv) in page.items.iter().enumerate() {
            // A store that deletes without awaiting (memory) would otherwise publish the whole
            // collection's events before any watcher's task runs: let them drain as it goes.
            if i % 64 == 63 {
                tokio::task::yield_now().await;
            }
            let obj = self.decode_stored(kv)?;
            if !self.matches(list, &obj) {
                continue;
            }
            let one = Scope {
                version: scope.version.clone(),
                namespace: obj.metadata().namespace.clone(),
                user: scope.user.clone(),
            };
            match self
                .delete_object(&one, meta::name(obj.metadata()), opts, dry_run)
                .await
            {
                Ok(Deleted::Gone(v) | Deleted::Pending(v)) => deleted.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ObjectList {
            items: ListItems::from_values(deleted),
            more: None,
            resource_version: page.revision,
            continue_token: None,
            remaining_item_count: None,
        })
    }
}
