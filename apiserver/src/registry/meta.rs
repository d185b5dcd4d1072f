//! ObjectMeta conventions every resource shares, on k8s-openapi's typed `ObjectMeta`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    DeleteOptions, ObjectMeta, OwnerReference, Time,
};

use kube_codegen_apimachinery::validation::{self, FieldError, ObjectMetaFields};

use crate::status::{ApiError, Cause};

/// Now, at the second (what Kubernetes stores in timestamps).
pub(crate) fn now() -> Time {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap_or_default())
}

/// The server's fields of a new object: `generateName` resolved, system fields set.
pub(crate) fn prepare_for_create(meta: &mut ObjectMeta) {
    if meta.name.as_deref().is_none_or(str::is_empty)
        && let Some(base) = meta.generate_name.as_deref().filter(|s| !s.is_empty())
    {
        meta.name = Some(crate::object::generate_name(base));
    }
    meta.uid = Some(uuid::Uuid::new_v4().to_string());
    meta.resource_version = None;
    meta.creation_timestamp = Some(now());
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.generation = Some(1);
    meta.self_link = None;
}

/// Whether a create's object carries a `resourceVersion` (Go's etcd3 `store.Create`: one that
/// parses to a revision other than 0; an empty, `"0"` or unparsable one is dropped as before).
pub(crate) fn has_resource_version(rv: Option<&str>) -> bool {
    rv.and_then(|rv| rv.parse::<u64>().ok())
        .is_some_and(|rv| rv != 0)
}

/// The refusal of a create whose object has a `resourceVersion`: Go's
/// `storage.ErrResourceVersionSetOnCreate`, word for word, as a 400 (kube-apiserver answers it
/// as a 500 `InternalError`, but it is the request's fault).
pub(crate) fn resource_version_set_on_create() -> ApiError {
    ApiError::bad_request("resourceVersion should not be set on objects to be created")
}

/// The server's fields of an update, kept from the stored object. The deletion fields follow Go's
/// `rest.BeforeUpdate`: an update can never remove or change a `deletionTimestamp` the object
/// has, nor remove its `deletionGracePeriodSeconds`; any other change to them is left for
/// [`validate_immutable`] to refuse.
pub(crate) fn keep_system_fields(new: &mut ObjectMeta, old: &ObjectMeta) {
    new.uid.clone_from(&old.uid);
    new.creation_timestamp.clone_from(&old.creation_timestamp);
    if old.deletion_timestamp.is_some() {
        new.deletion_timestamp.clone_from(&old.deletion_timestamp);
    }
    if old.deletion_grace_period_seconds.is_some() && new.deletion_grace_period_seconds.is_none() {
        new.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    }
    new.generation = old.generation;
    new.namespace.clone_from(&old.namespace);
    new.self_link = None;
}

/// Go's `ValidateObjectMetaAccessorUpdate` on the deletion fields, after
/// [`keep_system_fields`]: `deletionTimestamp` and `deletionGracePeriodSeconds` are immutable
/// (`metadata.deletionTimestamp: Invalid value: 2025-01-02 03:04:05 +0000 UTC: field is
/// immutable`, the value printed as Go prints it).
pub(crate) fn validate_immutable(new: &ObjectMeta, old: &ObjectMeta) -> Vec<Cause> {
    let immutable = |field: &str, value: String| {
        Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {value}: field is immutable"),
        )
    };
    let mut out = Vec::new();
    if new.deletion_timestamp != old.deletion_timestamp {
        out.push(immutable(
            "metadata.deletionTimestamp",
            new.deletion_timestamp
                .as_ref()
                .map_or_else(|| "\"null\"".to_string(), |t| go_time(&t.0)),
        ));
    }
    if new.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        out.push(immutable(
            "metadata.deletionGracePeriodSeconds",
            new.deletion_grace_period_seconds
                .map_or_else(|| "\"null\"".to_string(), |s| s.to_string()),
        ));
    }
    out
}

/// A time as Go's `time.Time.String` prints one in UTC: `2025-01-02 03:04:05.5 +0000 UTC`.
fn go_time(t: &k8s_openapi::jiff::Timestamp) -> String {
    let mut out = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.subsec_nanosecond();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Empty `labels`, `annotations`, `finalizers`, `ownerReferences` and `managedFields` made
/// absent, as Go's `omitempty` writes them: whatever a write left empty (a patch deleting the
/// last label) is stored, served and watched without the key, never as `{}` or `[]`.
pub(crate) fn omit_empty(meta: &mut ObjectMeta) {
    if meta.labels.as_ref().is_some_and(|m| m.is_empty()) {
        meta.labels = None;
    }
    if meta.annotations.as_ref().is_some_and(|m| m.is_empty()) {
        meta.annotations = None;
    }
    if meta.finalizers.as_ref().is_some_and(|v| v.is_empty()) {
        meta.finalizers = None;
    }
    if meta.owner_references.as_ref().is_some_and(|v| v.is_empty()) {
        meta.owner_references = None;
    }
    if meta.managed_fields.as_ref().is_some_and(|v| v.is_empty()) {
        meta.managed_fields = None;
    }
}

pub(crate) fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

pub(crate) fn is_deleting(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
}

/// Warnings for finalizer names that are not domain-qualified with a path, in the words of
/// kube-apiserver's custom resource strategy (`WarningsOnCreate`; on an update, for the
/// finalizers it adds): another writer's finalizer of the same short name would be taken for
/// this one. The garbage collector's and namespaces' own names are standard.
pub(crate) fn finalizer_warnings(new: &ObjectMeta, old: Option<&ObjectMeta>) -> Vec<String> {
    const STANDARD: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];
    let had = |f: &String| old.is_some_and(|o| o.finalizers.iter().flatten().any(|x| x == f));
    new.finalizers
        .iter()
        .flatten()
        .filter(|f| !had(f) && !f.contains('/') && !STANDARD.contains(&f.as_str()))
        .map(|f| {
            let prefer = if f.contains('.') {
                "prefer a domain-qualified finalizer name including a path (/)"
            } else {
                "prefer a domain-qualified finalizer name"
            };
            format!(
                "metadata.finalizers: {}: {prefer} to avoid accidental conflicts with other \
                 finalizer writers",
                validation::go_quote(f)
            )
        })
        .collect()
}

/// An object being deleted takes no new finalizers (Go's `ValidateNoNewFinalizers`, with its
/// message): whatever is finishing it must not be held up by someone arriving late.
pub(crate) fn no_new_finalizers(new: &ObjectMeta, old: &ObjectMeta) -> Option<Cause> {
    if !is_deleting(old) {
        return None;
    }
    let before: std::collections::BTreeSet<&String> = old.finalizers.iter().flatten().collect();
    let mut extra: Vec<&str> = new
        .finalizers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|f| !before.contains(f))
        .map(String::as_str)
        .collect();
    if extra.is_empty() {
        return None;
    }
    extra.sort_unstable();
    extra.dedup();
    let listed: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
    Some(Cause::new(
        "FieldValueForbidden",
        "metadata.finalizers",
        format!(
            "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
            listed.join(", ")
        ),
    ))
}

pub(crate) fn has_finalizers(meta: &ObjectMeta) -> bool {
    meta.finalizers.as_ref().is_some_and(|f| !f.is_empty())
}

/// The garbage collector's finalizers: it orphans the object's dependents, or deletes them
/// first, then removes the finalizer.
const ORPHAN: &str = "orphan";
const FOREGROUND: &str = "foregroundDeletion";

/// Leaves on a deleted object the garbage collector's finalizer its delete asks for (Go's
/// `deletionFinalizersForGarbageCollection`, with background deletion as the resource's
/// default): `orphan` for `propagationPolicy=Orphan` or `orphanDependents=true`,
/// `foregroundDeletion` for `Foreground`, neither for `Background` or `orphanDependents=false`,
/// and without a policy whichever the object already carries. Whether the finalizers changed.
pub(crate) fn set_gc_finalizers(meta: &mut ObjectMeta, opts: &DeleteOptions) -> bool {
    let current = meta.finalizers.as_deref().unwrap_or_default();
    let has = |f: &str| current.iter().any(|c| c == f);
    let (orphan, foreground) = match (opts.orphan_dependents, opts.propagation_policy.as_deref()) {
        (Some(orphan), _) => (orphan, false),
        (None, Some("Orphan")) => (true, false),
        (None, Some("Foreground")) => (false, true),
        (None, Some(_)) => (false, false),
        (None, None) => (has(ORPHAN), has(FOREGROUND)),
    };
    if (orphan, foreground) == (has(ORPHAN), has(FOREGROUND)) {
        return false;
    }
    let mut finalizers: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND)
        .cloned()
        .collect();
    finalizers.extend(orphan.then(|| ORPHAN.to_string()));
    finalizers.extend(foreground.then(|| FOREGROUND.to_string()));
    meta.finalizers = Some(finalizers);
    true
}

/// Marks an object whose finalizers hold up its deletion (Go's `markAsDeleting`): the first time,
/// `deletionTimestamp` is set and `generation` counts the change.
pub(crate) fn mark_deleting(meta: &mut ObjectMeta) {
    if meta.deletion_timestamp.is_none() {
        meta.generation = meta.generation.map(|g| if g > 0 { g + 1 } else { g });
        meta.deletion_timestamp = Some(now());
    }
    meta.deletion_grace_period_seconds = Some(0);
}

/// The rules of `ObjectMeta` as the shared validation (`kube_codegen_apimachinery::validation`,
/// also what the clients check before sending) sees them.
fn fields(meta: &ObjectMeta) -> ObjectMetaFields<'_> {
    ObjectMetaFields {
        name: meta.name.as_deref().unwrap_or_default(),
        generate_name: meta.generate_name.as_deref().unwrap_or_default(),
        namespace: meta.namespace.as_deref().unwrap_or_default(),
        labels: meta.labels.as_ref(),
        annotations: meta.annotations.as_ref(),
        finalizers: meta.finalizers.as_deref().unwrap_or_default(),
    }
}

fn causes(errs: Vec<FieldError>) -> Vec<Cause> {
    errs.into_iter()
        .map(|e| Cause::new(e.reason(), e.field.clone(), e.body()))
        .collect()
}

/// ObjectMeta rules of a new object (Go's `ValidateObjectMetaAccessor` with
/// `NameIsDNSSubdomain`, as for every custom resource): `generateName`, `name`, the namespace (a
/// DNS-1123 label, required when `namespaced`), labels, annotations (keys and total size) and
/// finalizers.
pub(crate) fn validate_create(meta: &ObjectMeta, namespaced: bool) -> Vec<Cause> {
    let mut all = causes(validation::validate_object_meta(
        &fields(meta),
        namespaced,
        validation::name_is_dns_subdomain,
    ));
    all.extend(validate_owner_references(meta));
    all
}

/// Go's `ValidateOwnerReferences`: each reference names its owner fully (a version, a kind, a
/// name and a uid; never a core Event), and at most one is the controller.
fn validate_owner_references(meta: &ObjectMeta) -> Vec<Cause> {
    const FIELD: &str = "metadata.ownerReferences";
    let invalid = |field: String, value: &str, message: &str| {
        Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {}: {message}", validation::go_quote(value)),
        )
    };
    let mut out = Vec::new();
    let mut controller: Option<String> = None;
    for r in meta.owner_references.iter().flatten() {
        // `schema.FromAPIVersionAndKind` over `ParseGroupVersion`: the version is what follows
        // the group's `/`; with two or more `/` there is none.
        let version = match r.api_version.matches('/').count() {
            0 => r.api_version.as_str(),
            1 => r.api_version.split_once('/').map_or("", |(_, v)| v),
            _ => "",
        };
        if version.is_empty() {
            out.push(invalid(
                format!("{FIELD}.apiVersion"),
                &r.api_version,
                "version must not be empty",
            ));
        }
        if r.kind.is_empty() {
            out.push(invalid(
                format!("{FIELD}.kind"),
                &r.kind,
                "must not be empty",
            ));
        }
        if r.name.is_empty() {
            out.push(invalid(
                format!("{FIELD}.name"),
                &r.name,
                "must not be empty",
            ));
        }
        if r.uid.is_empty() {
            out.push(invalid(format!("{FIELD}.uid"), &r.uid, "must not be empty"));
        }
        // Go's `BannedOwners`: the core group's v1 Event.
        if r.api_version == "v1" && r.kind == "Event" {
            out.push(invalid(
                FIELD.to_string(),
                "v1/Event",
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.controller == Some(true) {
            let this = format!("{}/{}", r.kind, r.name);
            match &controller {
                Some(first) => out.push(Cause::new(
                    "FieldValueInvalid",
                    FIELD,
                    format!("Invalid value: \"\": Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"),
                )),
                None => controller = Some(this),
            }
        }
    }
    out
}

/// Go's `dedupOwnerReferencesAndAddWarning`: an owner reference equal to one before it with the
/// same uid is dropped, and the warning names the uids. Creates and updates dedup before
/// mutating admission and again after it; patches only after (`after_admission` picks the
/// text, as Go's handlers do).
pub(crate) fn dedup_owner_references(
    meta: &mut ObjectMeta,
    after_admission: bool,
) -> Option<String> {
    let refs = meta.owner_references.as_mut()?;
    let mut kept: Vec<OwnerReference> = Vec::with_capacity(refs.len());
    // Where the references of each uid are in `kept`: a long list costs n log n.
    let mut by_uid: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    let mut duplicates = Vec::new();
    for r in refs.drain(..) {
        let same_uid = by_uid.entry(r.uid.clone()).or_default();
        if same_uid.iter().any(|&i| kept[i] == r) {
            duplicates.push(r.uid);
        } else {
            same_uid.push(kept.len());
            kept.push(r);
        }
    }
    *refs = kept;
    if duplicates.is_empty() {
        return None;
    }
    let when = if after_admission {
        " after mutating admission happens"
    } else {
        ""
    };
    Some(format!(
        ".metadata.ownerReferences contains duplicate entries{when}; API server dedups owner references in 1.20+, and may reject such requests as early as 1.24; please fix your requests; duplicate UID(s) observed: {}",
        duplicates.join(", ")
    ))
}

/// ObjectMeta rules of an update: labels, annotations, finalizers and owner references, which
/// Go's `rest.BeforeUpdate` checks again on every update (`validateCommonFields` runs
/// `ValidateObjectMetaAccessor` beside `ValidateObjectMetaAccessorUpdate`); the name and
/// namespace are the stored object's.
pub(crate) fn validate_update(meta: &ObjectMeta) -> Vec<Cause> {
    let fields = fields(meta);
    let mut all = causes(validation::validate_object_meta_update(&fields));
    all.extend(causes(validation::validate_finalizers(
        fields.finalizers,
        "metadata.finalizers",
    )));
    all.extend(validate_owner_references(meta));
    all
}

/// A name from a request path (Go's storage key functions): 400 `Name parameter invalid` when it
/// cannot be one path segment.
pub(crate) fn check_path_name(name: &str) -> Result<(), ApiError> {
    let msgs = validation::is_valid_path_segment_name(name);
    if msgs.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "Name parameter invalid: {}: {}",
        validation::go_quote(name),
        msgs.join(";")
    )))
}

/// A `metav1.LabelSelector` as a selector (Go's `LabelSelectorAsSelector`): its text form is
/// what a `Scale`'s `status.selector` holds.
pub(crate) fn label_selector(
    s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
) -> Result<crate::selector::LabelSelector, String> {
    use crate::selector::{Operator, Requirement};
    let mut reqs = Vec::new();
    for (k, v) in s.match_labels.iter().flatten() {
        reqs.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
    }
    for e in s.match_expressions.iter().flatten() {
        let op = match e.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => return Err(format!("{other:?} is not a valid label selector operator")),
        };
        reqs.push(Requirement::new(
            &e.key,
            op,
            e.values.clone().unwrap_or_default(),
        )?);
    }
    Ok(crate::selector::LabelSelector::from_requirements(reqs))
}
