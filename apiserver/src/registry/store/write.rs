//! Writes of a [`GenericStore`]: create, update, patch and apply — decode, admission, the
//! strategy, and a guaranteed update (read, modify, compare-and-swap; retried on conflicts the
//! caller did not cause).

use super::*;

impl<H, S> GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    /// The update rules: status kept or taken alone, system fields kept, generation counted,
    /// validation. Returns whether the result must be deleted instead (the last finalizer of a
    /// deleting object removed).
    fn prepare_update(
        &self,
        ctx: &Context<'_>,
        codec: &VersionCodec<H>,
        subresource: Option<Subresource>,
        request: Request,
        new: &mut H,
        old: &H,
    ) -> Result<bool, ApiError> {
        let name = meta::name(old.metadata()).to_string();
        // Another uid in the written object: an object replaced under the same name is never
        // overwritten by a write meant for its predecessor. For a PUT the uid is a precondition
        // (Go's `Store.Update`: 409), as is a `Scale`'s for `/scale` (its writes come here as
        // patches carrying the `Scale`'s preconditions); a patch or an apply carries none, so
        // Go's update validation finds the changed uid instead (`field is immutable`, 422).
        let changed_uid = new
            .metadata()
            .uid
            .clone()
            .filter(|u| !u.is_empty() && Some(u.as_str()) != old.metadata().uid.as_deref());
        if let Some(uid) = &changed_uid
            && (request == Request::Update || subresource == Some(Subresource::Scale))
        {
            let info = &codec.info;
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                &name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    old.metadata().uid.as_deref().unwrap_or_default()
                ),
            ));
        }
        if subresource == Some(Subresource::Status) {
            // `/status` changes status (and who owns what) and nothing else.
            let rv = new.metadata().resource_version.clone();
            let managed = new.metadata_mut().managed_fields.take();
            let mut merged = old.clone();
            merged.swap_status(new);
            *new = merged;
            new.metadata_mut().resource_version = rv;
            new.metadata_mut().managed_fields = managed;
        } else if codec.info.has_status {
            // The main resource ignores status.
            let mut stored = old.clone();
            new.swap_status(&mut stored);
        }
        meta::keep_system_fields(new.metadata_mut(), old.metadata());
        self.strategy.prepare_for_update(ctx, new, old);
        if !self.same_spec(new, old)? {
            new.metadata_mut().generation = Some(old.metadata().generation.unwrap_or(0) + 1);
        }
        // Go's order: no new finalizers on a deleting object, the immutable fields, then labels,
        // annotations and owner references.
        let mut causes: Vec<Cause> = meta::no_new_finalizers(new.metadata(), old.metadata())
            .into_iter()
            .collect();
        causes.extend(changed_uid.map(|uid| {
            Cause::new(
                "FieldValueInvalid",
                "metadata.uid",
                format!("Invalid value: \"{uid}\": field is immutable"),
            )
        }));
        causes.extend(meta::validate_immutable(new.metadata(), old.metadata()));
        causes.extend(meta::validate_update(new.metadata()));
        causes.extend(self.strategy.validate_update(ctx, new, old));
        if !causes.is_empty() {
            return Err(self.invalid(codec, &name, causes));
        }
        meta::omit_empty(new.metadata_mut());
        Ok(meta::is_deleting(new.metadata()) && !meta::has_finalizers(new.metadata()))
    }

    /// The read-modify-write loop every update shares (PUT, PATCH, apply, `/status`). With
    /// `track`, the write's field ownership is recorded as an update by the field manager
    /// (an apply records its own in `modify`).
    pub(super) async fn guaranteed_update<F>(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        opts: &WriteOptions,
        request: Request,
        mut modify: F,
    ) -> Result<crate::registry::rest::Written, ApiError>
    where
        F: FnMut(&H) -> Result<(H, Vec<String>), ApiError>,
    {
        meta::check_path_name(name)?;
        let (_, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        let k = self.key(scope.namespace.as_deref(), Some(name));
        let ctx = Context {
            version: &scope.version,
            namespace: scope.namespace.as_deref(),
            dry_run: opts.dry_run,
        };
        let mut attempts = Attempts::new();
        while attempts.another().await {
            let current = self.stored(&k, info, name).await?;
            let old = self.decode_stored(&current)?;
            let (new, mut warnings) = modify(&old)?;
            let attempt = self
                .update_attempt(
                    scope,
                    name,
                    subresource,
                    opts,
                    request,
                    &ctx,
                    &current,
                    old,
                    new,
                    &mut warnings,
                )
                .await;
            match attempt {
                Ok(Some(written)) => return Ok(written),
                Ok(None) => continue,
                Err(e) => return Err(e.with_warnings(warnings)),
            }
        }
        Err(Attempts::exhausted(info, name))
    }

    /// One attempt of [`Self::guaranteed_update`] once the new object is made: the written
    /// object, or `None` when another writer came in between and the loop should try again.
    #[allow(clippy::too_many_arguments)]
    async fn update_attempt(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        opts: &WriteOptions,
        request: Request,
        ctx: &Context<'_>,
        current: &apiserver_storage::KeyValue,
        old: H,
        mut new: H,
        warnings: &mut Vec<String>,
    ) -> Result<Option<crate::registry::rest::Written>, ApiError> {
        let (index, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        let k = self.key(scope.namespace.as_deref(), Some(name));
        if request == Request::Update {
            warnings.extend(meta::dedup_owner_references(new.metadata_mut(), false));
        }
        // Go's `checkName`, before anything else looks at the object (preconditions, the
        // status subresource's merge).
        if meta::name(new.metadata()) != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta::name(new.metadata())
            )));
        }
        if request != Request::Apply {
            self.fields.update(
                index,
                subresource,
                Some(&old),
                &mut new,
                &opts.field_manager,
            )?;
        }
        let field_manager = opts.field_manager.as_str();
        let attrs = Attributes {
            operation: Operation::Update,
            resource: info,
            subresource: subresource.map(Subresource::as_str),
            namespace: scope.namespace.as_deref(),
            name,
            user: scope.user.as_deref(),
            dry_run: opts.dry_run,
            options: match request {
                Request::Update => RequestOptions::Update { field_manager },
                Request::Patch => RequestOptions::Patch {
                    field_manager,
                    force: false,
                },
                Request::Apply => RequestOptions::Patch {
                    field_manager,
                    force: opts.force,
                },
            },
        };
        // Mutating admission after the write's defaults, before the update rules.
        self.admission.admit(&attrs, &mut new, Some(&old))?;
        warnings.extend(
            self.webhooks_mutate(codec, &attrs, &mut new, Some(&old))
                .await?,
        );
        warnings.extend(meta::dedup_owner_references(new.metadata_mut(), true));
        // A resourceVersion in the request is a precondition; "0", as in Kubernetes, is
        // none: an unconditional update, if the strategy allows one.
        let precondition = match new.metadata().resource_version.as_deref() {
            None | Some("") | Some("0")
                if request == Request::Update && !self.strategy.allow_unconditional_update() =>
            {
                // Go names the resource where the kind goes (`alerts.pager.k8s.co`).
                return Err(ApiError::invalid(
                    info.plural,
                    info.group,
                    name,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update",
                    )],
                ));
            }
            None | Some("") | Some("0") => None,
            Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                self.invalid(
                    codec,
                    name,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        format!("Invalid value: \"{rv}\": must be an integer"),
                    )],
                )
            })?),
        };
        if let Some(rv) = precondition
            && rv != current.mod_revision
        {
            return Err(self.storage_error(
                StorageError::Conflict {
                    key: k.clone(),
                    current: current.mod_revision,
                },
                name,
            ));
        }
        let delete_now = self.prepare_update(ctx, codec, subresource, request, &mut new, &old)?;
        warnings.extend(meta::finalizer_warnings(
            new.metadata(),
            Some(old.metadata()),
        ));
        self.admission.validate(&attrs, Some(&new), Some(&old))?;
        warnings.extend(
            self.webhooks_validate(codec, &attrs, Some(&new), Some(&old))
                .await?,
        );
        new.metadata_mut().resource_version = Some(current.mod_revision.to_string());
        let written = |obj: &H, warnings: &mut Vec<String>| {
            Ok(Some(crate::registry::rest::Written {
                object: self.encode(codec, obj)?,
                warnings: std::mem::take(warnings),
                created: false,
            }))
        };
        if opts.dry_run {
            return written(&new, warnings);
        }
        let result = if delete_now {
            self.store.delete(&k, Some(current.mod_revision)).await
        } else {
            let bytes = self.to_storage(&mut new)?;
            self.store
                .update(&k, bytes, Some(current.mod_revision))
                .await
        };
        match result {
            Ok(kv) => {
                new.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
                written(&new, warnings)
            }
            // Someone wrote in between: without a precondition of the caller's, try again.
            Err(StorageError::Conflict { .. }) if precondition.is_none() => Ok(None),
            Err(e) => Err(self.storage_error(e, name)),
        }
    }

    pub(super) async fn create_object(
        &self,
        scope: &Scope,
        body: &[u8],
        opts: WriteOptions,
    ) -> Result<crate::registry::rest::Written, ApiError> {
        let (_, codec) = self.codec(&scope.version)?;
        let (obj, warnings) = self.decode_body(codec, scope, body, &opts)?;
        let earned = warnings.clone();
        self.create_decoded(scope, obj, warnings, &opts, false)
            .await
            .map_err(|e| e.with_warnings(earned))
    }

    /// The create path after decoding: system fields, status cleared, ownership (an update by
    /// the writer, or the managed fields an apply worked out: `applied`), validation, storage.
    async fn create_decoded(
        &self,
        scope: &Scope,
        mut obj: H,
        mut warnings: Vec<String>,
        opts: &WriteOptions,
        applied: bool,
    ) -> Result<crate::registry::rest::Written, ApiError> {
        let (index, codec) = self.codec(&scope.version)?;
        let info = &codec.info;
        // Refused after validation and admission, where Go's storage refuses it; an apply's
        // resourceVersion does not stop it creating (Go's create-on-update drops it).
        let refused_rv =
            !applied && meta::has_resource_version(obj.metadata().resource_version.as_deref());
        meta::prepare_for_create(obj.metadata_mut());
        obj.clear_status();
        if !applied {
            self.fields
                .update(index, None, None, &mut obj, &opts.field_manager)?;
        }
        let ctx = Context {
            version: &scope.version,
            namespace: scope.namespace.as_deref(),
            dry_run: opts.dry_run,
        };
        let name = meta::name(obj.metadata()).to_string();
        let attrs = Attributes {
            operation: Operation::Create,
            resource: info,
            subresource: None,
            namespace: scope.namespace.as_deref(),
            name: &name,
            user: scope.user.as_deref(),
            dry_run: opts.dry_run,
            options: if applied {
                RequestOptions::Patch {
                    field_manager: &opts.field_manager,
                    force: opts.force,
                }
            } else {
                RequestOptions::Create {
                    field_manager: &opts.field_manager,
                }
            },
        };
        // Namespace lifecycle first, then mutating admission after defaulting (in decoding),
        // before the strategy and validation.
        if let (Some(source), Some(ns)) = (&self.namespaces, scope.namespace.as_deref())
            && info.namespaced
        {
            crate::registry::namespaces::admit_create(source.as_ref(), info, &name, ns).await?;
        }
        if !applied {
            warnings.extend(meta::dedup_owner_references(obj.metadata_mut(), false));
        }
        self.admission.admit(&attrs, &mut obj, None)?;
        warnings.extend(self.webhooks_mutate(codec, &attrs, &mut obj, None).await?);
        warnings.extend(meta::dedup_owner_references(obj.metadata_mut(), true));
        self.strategy.prepare_for_create(&ctx, &mut obj);
        let name = meta::name(obj.metadata()).to_string();
        let mut causes = meta::validate_create(obj.metadata(), codec.info.namespaced);
        causes.extend(self.strategy.validate(&ctx, &obj));
        if !causes.is_empty() {
            return Err(self.invalid(codec, &name, causes));
        }
        warnings.extend(meta::finalizer_warnings(obj.metadata(), None));
        // Validating admission after validation, before storage (dry runs too).
        self.admission.validate(&attrs, Some(&obj), None)?;
        warnings.extend(
            self.webhooks_validate(codec, &attrs, Some(&obj), None)
                .await?,
        );
        if refused_rv {
            return Err(meta::resource_version_set_on_create());
        }
        meta::omit_empty(obj.metadata_mut());
        let k = self.key(scope.namespace.as_deref(), Some(&name));
        if opts.dry_run {
            let exists = self
                .store
                .get(&k)
                .await
                .map_err(|e| self.storage_error(e, &name))?;
            if exists.is_some() {
                return Err(ApiError::already_exists(info.plural, info.group, &name));
            }
        } else {
            let bytes = self.to_storage(&mut obj)?;
            let kv = self
                .store
                .create(&k, bytes)
                .await
                .map_err(|e| self.storage_error(e, &name))?;
            obj.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
        }
        Ok(crate::registry::rest::Written {
            object: self.encode(codec, &obj)?,
            warnings,
            created: true,
        })
    }

    pub(super) async fn patch_object(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        (kind, body): (PatchType, &[u8]),
        opts: WriteOptions,
    ) -> Result<crate::registry::rest::Written, ApiError> {
        let (index, codec) = self.codec(&scope.version)?;
        if kind == PatchType::Apply {
            return self
                .apply_object(scope, name, subresource, body, &opts)
                .await;
        }
        let schema = &self.patch_schemas[index];
        // Fields the patch itself repeats (or, in a JSON patch, an operation's unknown keys):
        // reported with the patched object's, as Go's patchers decode the patch strictly
        // (`Strict` refuses, `Warn` warns).
        let patch_issues = match opts.field_validation {
            FieldValidation::Strict | FieldValidation::Warn => patch_field_issues(kind, body),
            FieldValidation::Ignore => Vec::new(),
        };
        let with_patch_issues = |issues: &[String]| -> Vec<String> {
            patch_issues.iter().chain(issues).cloned().collect()
        };
        self.guaranteed_update(scope, name, subresource, &opts, Request::Patch, |old| {
            // JSON is the point here: the patch applies to the object as the client sees it.
            let original = self.encode(codec, old)?;
            let patched = crate::patch::apply(kind, &original, body, schema).map_err(|e| {
                let err = ApiError::new(e.code(), e.reason(), e.message().to_string());
                match e.cause() {
                    Some(c) => err.with_cause(Cause::new("UnexpectedServerResponse", "", c)),
                    None => err,
                }
            })?;
            // What the patch made, for a 422 about it: made again, only when there is one.
            let invalid = |detail: String| {
                let value = match kind {
                    PatchType::StrategicMerge => serde_json::from_slice(body)
                        .map(|p: Value| crate::patch::go_format(&p))
                        .unwrap_or_default(),
                    _ => crate::patch::apply(kind, &original, body, schema)
                        .ok()
                        .and_then(|v| serde_json::to_string(&v).ok())
                        .unwrap_or_default(),
                };
                patch_invalid(&value, &detail)
            };
            let Decoded {
                object: mut obj,
                field_issues,
            } = (codec.read_value)(patched).map_err(|e| match e {
                // Go's patchers answer a patched object that does not decode with a 422 naming
                // `patch`: a value of the wrong type, or (Strict) an unknown or repeated field.
                DecodeError::Invalid { .. } => invalid(describe(e)),
                DecodeError::Schema {
                    ref field_issues, ..
                } if opts.field_validation == FieldValidation::Strict
                    && !(field_issues.is_empty() && patch_issues.is_empty()) =>
                {
                    invalid(strict_decoding(&with_patch_issues(field_issues)))
                }
                e => decode_error_in(&codec.info, name, e, opts.field_validation),
            })?;
            let field_issues = with_patch_issues(&field_issues);
            let warnings = match opts.field_validation {
                FieldValidation::Strict if !field_issues.is_empty() => {
                    return Err(invalid(strict_decoding(&field_issues)));
                }
                mode => field_warnings(&codec.info, &field_issues, mode)?,
            };
            // A patch keeps the stored resourceVersion unless it sets one (a precondition).
            if obj.metadata().resource_version == old.metadata().resource_version {
                obj.metadata_mut().resource_version = None;
            }
            self.check_namespace(scope, obj.metadata_mut())?;
            Ok((obj, warnings))
        })
        .await
    }

    /// A server-side apply (`application/apply-patch+yaml`): the configuration merged into
    /// the object by the field manager (409 on fields other managers own, unless forced), then
    /// the update rules; applying to an object that does not exist creates it.
    async fn apply_object(
        &self,
        scope: &Scope,
        name: &str,
        subresource: Option<Subresource>,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<crate::registry::rest::Written, ApiError> {
        meta::check_path_name(name)?;
        let (index, codec) = self.codec(&scope.version)?;
        let (config, repeated) = apply_config(&codec.info, scope, name, body)?;
        // A key the configuration repeats: `fieldValidation` decides, once the apply is made
        // (Go's applyPatcher checks the patch with a strict YAML decoding after applying it).
        let repeated = repeated
            .as_deref()
            .filter(|_| opts.field_validation != FieldValidation::Ignore);
        let manager = &opts.field_manager;
        // Twice at most: a create that loses a race applies to what the other writer created.
        for _ in 0..2 {
            let updated = self
                .guaranteed_update(scope, name, subresource, opts, Request::Apply, |old| {
                    let merged = self.fields.apply(
                        index,
                        subresource,
                        Some(old),
                        &config,
                        manager,
                        opts.force,
                    )?;
                    self.decode_applied(index, codec, scope, merged, &config, repeated, opts)
                })
                .await;
            match updated {
                Err(e) if e.code == 404 && e.reason == "NotFound" && subresource.is_none() => {
                    // Creating needs `create`, not only the `patch` the guard allowed.
                    if let Some(authorized) = &scope.authorized {
                        authorized.may_create(name).await?;
                    }
                    // Go applies to a new, nameless object, then checks its name.
                    if config.pointer("/metadata/name").and_then(Value::as_str) != Some(name) {
                        return Err(ApiError::bad_request(format!(
                            "the name of the object () does not match the name on the URL ({name})"
                        )));
                    }
                    let merged = self
                        .fields
                        .apply(index, None, None, &config, manager, opts.force)?;
                    let (obj, warnings) =
                        self.decode_applied(index, codec, scope, merged, &config, repeated, opts)?;
                    match self.create_decoded(scope, obj, warnings, opts, true).await {
                        Err(e) if e.reason == "AlreadyExists" => continue,
                        created => return created,
                    }
                }
                other => return other,
            }
        }
        Err(ApiError::conflict(
            codec.info.plural,
            codec.info.group,
            name,
            "the object was created and deleted while it was applied; try again",
        ))
    }

    /// The merged object of an apply, decoded as the request's version.
    #[allow(clippy::too_many_arguments)]
    fn decode_applied(
        &self,
        index: usize,
        codec: &VersionCodec<H>,
        scope: &Scope,
        mut merged: Value,
        config: &Value,
        repeated: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<(H, Vec<String>), ApiError> {
        // Fields emptied by pruning are null, as in Kubernetes; a typed object has them unset.
        self.fields.prune_nulls(index, &mut merged);
        let Decoded {
            object: mut obj,
            field_issues,
        } = {
            let name = name_of(&merged).to_string();
            (codec.read_value)(merged)
                .map_err(|e| decode_error_in(&codec.info, &name, e, opts.field_validation))?
        };
        let mut warnings = field_warnings(&codec.info, &field_issues, opts.field_validation)?;
        if let Some(repeated) = repeated {
            if opts.field_validation == FieldValidation::Strict {
                return Err(ApiError::bad_request(format!(
                    "error strict decoding YAML: {repeated}"
                )));
            }
            // A header value holds no newline: Go's net/http writes it as a space.
            warnings.push(repeated.replace('\n', " "));
        }
        // The configuration's resourceVersion, if it has one, is a precondition.
        obj.metadata_mut().resource_version = config
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty())
            .map(str::to_string);
        self.check_namespace(scope, obj.metadata_mut())?;
        Ok((obj, warnings))
    }

    /// The mutating webhooks on `obj`, each seeing it in the version its rules name; what they
    /// changed is decoded back. Returns their warnings.
    async fn webhooks_mutate(
        &self,
        codec: &VersionCodec<H>,
        attrs: &Attributes<'_>,
        obj: &mut H,
        old: Option<&H>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(hooks) = self.webhooks.as_ref().filter(|h| !h.is_empty()) else {
            return Ok(Vec::new());
        };
        let labels = self.namespace_labels(attrs).await?;
        let mut current = (codec.info.version.to_string(), self.encode(codec, obj)?);
        let before = current.clone();
        let warnings = {
            let view = View {
                store: self,
                object: None,
                old,
            };
            hooks.mutate(attrs, &labels, &view, &mut current).await?
        };
        if current != before {
            let (_, last) = self.codec(&current.0)?;
            let name = name_of(&current.1).to_string();
            *obj = (last.read_value)(current.1)
                .map_err(|e| decode_error(&last.info, &name, e))?
                .object;
        }
        Ok(warnings)
    }

    /// The validating webhooks, each seeing the objects in the version its rules name.
    /// Returns their warnings.
    pub(super) async fn webhooks_validate(
        &self,
        _codec: &VersionCodec<H>,
        attrs: &Attributes<'_>,
        obj: Option<&H>,
        old: Option<&H>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(hooks) = self.webhooks.as_ref().filter(|h| !h.is_empty()) else {
            return Ok(Vec::new());
        };
        let labels = self.namespace_labels(attrs).await?;
        let view = View {
            store: self,
            object: obj,
            old,
        };
        hooks.validate(attrs, &labels, &view).await
    }

    /// The labels of the request's namespace, for webhooks' `namespaceSelector`s (none without
    /// a namespace source, or for a namespace it does not know).
    async fn namespace_labels(
        &self,
        attrs: &Attributes<'_>,
    ) -> Result<BTreeMap<String, String>, ApiError> {
        match (&self.namespaces, attrs.namespace) {
            (Some(source), Some(ns)) => Ok(source
                .lookup(ns)
                .await?
                .map(|n| n.labels)
                .unwrap_or_default()),
            _ => Ok(BTreeMap::new()),
        }
    }
}

/// An apply configuration: YAML or JSON, an object of the URL's version and kind (both
/// required), named as the URL names it (or not at all), without managed fields of its own.
fn apply_config(
    info: &ResourceInfo,
    scope: &Scope,
    name: &str,
    body: &[u8],
) -> Result<(Value, Option<String>), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the apply configuration is not UTF-8"))?;
    // Read as a YAML body is (the first document; a repeated key's last value).
    let json = crate::yaml::to_json(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    // A key it repeats (its JSON keeps both): go-yaml's words for it, the text parsed again for
    // them only then.
    let repeated = match super::super::codec::duplicate_keys(&json) {
        Ok(found) if !found.is_empty() => Some(
            crate::yaml::repeated_key(text)
                .unwrap_or_else(|| format!("duplicate field \"{}\"", found[0])),
        ),
        _ => None,
    };
    let mut config: Value = serde_json::from_slice(&json)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let Some(obj) = config.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the apply configuration must be an object",
        ));
    };
    let field = |obj: &serde_json::Map<String, Value>, f: &str| {
        obj.get(f).and_then(Value::as_str).map(str::to_string)
    };
    match (field(obj, "apiVersion"), field(obj, "kind")) {
        (Some(av), Some(kind)) if av == info.api_version() && kind == info.kind => {}
        // The field manager's own check, word for word.
        (Some(av), Some(_)) if av != info.api_version() => {
            return Err(ApiError::bad_request(format!(
                "Incorrect version specified in apply patch. Specified patch version: {av}, expected: {}",
                info.api_version()
            )));
        }
        (Some(av), Some(kind)) => {
            return Err(ApiError::bad_request(format!(
                "the apply configuration is a {av}, Kind={kind}; expected a {}, Kind={}",
                info.api_version(),
                info.kind
            )));
        }
        _ => {
            return Err(ApiError::bad_request(
                "the apply configuration must set apiVersion and kind",
            ));
        }
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    if meta.get("managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        // Left out: applied to an existing object it keeps its name; a create refuses it.
        Some(_) | None => {}
    }
    if let Some(ns) = &scope.namespace
        && meta.get("namespace").is_none()
    {
        meta.insert("namespace".into(), Value::String(ns.clone()));
    }
    Ok((config, repeated))
}

/// A write's objects as every served version sees them, for webhooks.
struct View<'a, H, S> {
    store: &'a GenericStore<H, S>,
    object: Option<&'a H>,
    old: Option<&'a H>,
}

impl<H, S> crate::registry::webhooks::VersionedView for View<'_, H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    fn served(&self) -> Vec<&ResourceInfo> {
        self.store.versions.iter().map(|c| &c.info).collect()
    }

    fn object(&self, version: &str) -> Result<Option<Value>, ApiError> {
        let (_, codec) = self.store.codec(version)?;
        self.object.map(|o| self.store.encode(codec, o)).transpose()
    }

    fn old(&self, version: &str) -> Result<Option<Value>, ApiError> {
        let (_, codec) = self.store.codec(version)?;
        self.old.map(|o| self.store.encode(codec, o)).transpose()
    }

    fn convert(&self, object: &Value, from: &str, to: &str) -> Result<Value, ApiError> {
        let (_, from) = self.store.codec(from)?;
        let hub = (from.read_value)(object.clone())
            .map_err(|e| decode_error(&from.info, name_of(object), e))?
            .object;
        let (_, to) = self.store.codec(to)?;
        self.store.encode(to, &hub)
    }
}

/// What a strict decoding of a merge, strategic or JSON patch finds in the patch itself (Go's patchers
/// decode it with `UnmarshalStrict`): repeated keys, and a JSON patch operation's keys other than
/// `op`, `path`, `from` and `value` (`json patch ` before each, as Go words them). A patch that
/// is no JSON is left to the patcher's own error.
fn patch_field_issues(kind: PatchType, body: &[u8]) -> Vec<String> {
    let duplicates = match kind {
        PatchType::Merge | PatchType::StrategicMerge | PatchType::Json => {
            super::super::codec::duplicate_keys(body).unwrap_or_default()
        }
        PatchType::Apply => return Vec::new(),
    };
    if kind != PatchType::Json {
        return duplicates
            .iter()
            .map(|p| format!("duplicate field \"{p}\""))
            .collect();
    }
    // Go's decoder names a field by the keys leading to it, not the operation's index.
    let in_op = |path: &str| -> String {
        path.split_once("].")
            .map_or(path, |(_, rest)| rest)
            .to_string()
    };
    let mut issues: Vec<String> = duplicates
        .iter()
        .map(|p| format!("json patch duplicate field \"{}\"", in_op(p)))
        .collect();
    if let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(body) {
        for op in ops.iter().filter_map(Value::as_object) {
            issues.extend(
                op.keys()
                    .filter(|k| !matches!(k.as_str(), "op" | "path" | "from" | "value"))
                    .map(|k| format!("json patch unknown field \"{k}\"")),
            );
        }
    }
    issues
}

/// Go's `runtime.NewStrictDecodingError` wording.
fn strict_decoding(issues: &[String]) -> String {
    format!("strict decoding error: {}", issues.join(", "))
}

/// The 422 Go's patchers give a patch whose result does not decode: no kind and no name, one
/// `patch` cause holding the patched object (or a strategic patch, as Go prints its map).
fn patch_invalid(value: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        "",
        "",
        "",
        vec![Cause::new(
            "FieldValueInvalid",
            "patch",
            format!("Invalid value: {value:?}: {detail}"),
        )],
    )
}
