//! The pager API's server side, shared by `pager-apiserver` and by tests: the Alert resource
//! as the server registers it — kept as the hub, served in v1alpha1 and v1beta1, with its
//! strategy. The fake clientset registers the same resource, so it enforces the same rules.
//!
//! ```
//! let fake = pager_client::clientset::fake::builder().resource(pager_apiserver::alerts());
//! ```

use apiserver::{
    ApiError, Attributes, Cause, Context, MutatingAdmission, Operation, Resource, Strategy,
    ValidatingAdmission,
};
use pager::{v1alpha1, v1beta1};

/// The Alert resource: kept as the hub type, served in both versions, with [`AlertStrategy`]
/// and the [`DefaultTitle`] admission plugin.
pub fn alerts() -> Resource<pager::Alert, AlertStrategy> {
    Resource::<pager::Alert>::hub()
        .version::<v1alpha1::Alert>(v1alpha1::OPENAPI_SCHEMAS)
        .version::<v1beta1::Alert>(v1beta1::OPENAPI_SCHEMAS)
        .strategy(AlertStrategy)
        .mutating(DefaultTitle)
}

/// Alert rules, written once against the hub for every version: content is required and
/// bounded; `status.sent` is selectable, so a controller can list unsent alerts with
/// `fieldSelector=status.sent=false`.
pub struct AlertStrategy;

impl Strategy<pager::Alert> for AlertStrategy {
    fn validate(&self, ctx: &Context<'_>, alert: &pager::Alert) -> Vec<Cause> {
        // v1alpha1 calls the content `message`: causes name the field the client sent.
        let path = if ctx.version == "v1alpha1" {
            "spec.message"
        } else {
            "spec.content"
        };
        let mut causes = Vec::new();
        if alert.spec.content.trim().is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                path,
                "Required value: an alert needs a message",
            ));
        } else if alert.spec.content.len() > 4096 {
            causes.push(Cause::new(
                "FieldValueTooLong",
                path,
                "Too long: may not be more than 4096 bytes",
            ));
        }
        causes
    }

    fn selectable_fields(&self) -> &'static [&'static str] {
        &["status.sent"]
    }

    fn field_value(&self, alert: &pager::Alert, field: &str) -> Option<String> {
        match field {
            "status.sent" => Some(alert.status.as_ref().is_some_and(|s| s.sent).to_string()),
            _ => None,
        }
    }
}

/// The Alert resource with a per-namespace creation limit ([`RateLimit`]); `None`: no limit
/// (what [`alerts`] is).
pub fn alerts_limited(per_minute: Option<u32>) -> Resource<pager::Alert, AlertStrategy> {
    let alerts = alerts();
    match per_minute {
        Some(n) => alerts.validating(RateLimit::new(n, std::time::Duration::from_secs(60))),
        None => alerts,
    }
}

/// Mutating admission: an alert created or updated without a title gets the first line of its
/// content (at most 80 characters) as its title.
pub struct DefaultTitle;

impl MutatingAdmission<pager::Alert> for DefaultTitle {
    fn name(&self) -> &str {
        "pager.k8s.co/default-title"
    }

    fn admit(
        &self,
        attrs: &Attributes<'_>,
        alert: &mut pager::Alert,
        _old: Option<&pager::Alert>,
    ) -> Result<(), ApiError> {
        if attrs.subresource.is_none() && alert.spec.title.trim().is_empty() {
            let first = alert.spec.content.lines().next().unwrap_or_default().trim();
            alert.spec.title = first.chars().take(80).collect();
        }
        Ok(())
    }
}

/// Validating admission: at most `limit` alerts created per namespace within `window`; more
/// are refused (403) until older ones leave the window. Dry runs are not counted.
pub struct RateLimit {
    limit: u32,
    window: std::time::Duration,
    created: std::sync::Mutex<
        std::collections::HashMap<String, std::collections::VecDeque<std::time::Instant>>,
    >,
}

impl RateLimit {
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        RateLimit {
            limit,
            window,
            created: Default::default(),
        }
    }
}

impl ValidatingAdmission<pager::Alert> for RateLimit {
    fn name(&self) -> &str {
        "pager.k8s.co/rate-limit"
    }

    fn validate(
        &self,
        attrs: &Attributes<'_>,
        _alert: Option<&pager::Alert>,
        _old: Option<&pager::Alert>,
    ) -> Result<(), ApiError> {
        if attrs.operation != Operation::Create || attrs.dry_run {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let mut created = self.created.lock().unwrap_or_else(|p| p.into_inner());
        let recent = created
            .entry(attrs.namespace.unwrap_or_default().to_string())
            .or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            recent.pop_front();
        }
        if recent.len() >= self.limit as usize {
            return Err(ApiError::forbidden(
                attrs.resource,
                attrs.name,
                format!(
                    "namespace {} created {} alerts in the last {}s (the limit)",
                    attrs.namespace.unwrap_or_default(),
                    recent.len(),
                    self.window.as_secs()
                ),
            ));
        }
        recent.push_back(now);
        Ok(())
    }
}
