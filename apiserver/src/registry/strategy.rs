//! What a resource's server-side behaviour adds to the generic conventions: Go's
//! `RESTCreateStrategy`/`RESTUpdateStrategy`, written once against the hub type.

use crate::status::Cause;

/// What a strategy knows about the request it is called for.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The version the client speaks (field paths it understands are that version's).
    pub version: &'a str,
    /// The request's namespace (`None` for cluster-scoped resources and all-namespace lists).
    pub namespace: Option<&'a str>,
    /// Whether the write will not be persisted (`dryRun=All`).
    pub dry_run: bool,
}

/// A resource's rules, over its hub type `H` (Go's strategies validate internal objects): one
/// strategy serves every version. Every method has a default, so `DefaultStrategy` is empty.
pub trait Strategy<H>: Send + Sync + 'static {
    /// Changes a new object before it is validated (Go's `PrepareForCreate`), after the
    /// server's own metadata rules and status reset.
    fn prepare_for_create(&self, _ctx: &Context<'_>, _obj: &mut H) {}

    /// Changes an updated object before it is validated (Go's `PrepareForUpdate`), after the
    /// server kept the stored status (or everything but status, for `/status`).
    fn prepare_for_update(&self, _ctx: &Context<'_>, _new: &mut H, _old: &H) {}

    /// Field problems of a new object (422 `Invalid` when non-empty).
    fn validate(&self, _ctx: &Context<'_>, _obj: &H) -> Vec<Cause> {
        Vec::new()
    }

    /// Field problems of an update; defaults to [`Strategy::validate`] of the new object.
    fn validate_update(&self, ctx: &Context<'_>, new: &H, _old: &H) -> Vec<Cause> {
        self.validate(ctx, new)
    }

    /// Whether an update (PUT) without `metadata.resourceVersion` overwrites whatever is stored
    /// (Go's `AllowUnconditionalUpdate`). `false` by default, as for a CRD and sample-apiserver's
    /// types: such an update is 422 `metadata.resourceVersion: must be specified for an update`,
    /// so that no client overwrites a change it never saw. Patches and applies are unaffected.
    fn allow_unconditional_update(&self) -> bool {
        false
    }

    /// Extra fields usable in `fieldSelector` besides `metadata.name` and `metadata.namespace`.
    fn selectable_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// The value of a selectable field, as a string.
    fn field_value(&self, _obj: &H, _field: &str) -> Option<String> {
        None
    }
}

/// The strategy of a resource with no rules of its own.
pub struct DefaultStrategy;

impl<H> Strategy<H> for DefaultStrategy {}
