//! The pager API's server side, shared by `pager-apiserver` and by tests: the Alert resource
//! as the server registers it — kept as the hub, served in v1alpha1 and v1beta1, with its
//! strategy. The fake clientset registers the same resource, so it enforces the same rules.
//!
//! ```
//! let fake = pager_client::clientset::fake::builder().resource(pager_apiserver::alerts());
//! ```

use apiserver::{Cause, Context, Resource, Strategy};
use pager::{v1alpha1, v1beta1};

/// The Alert resource: kept as the hub type, served in both versions, with [`AlertStrategy`].
pub fn alerts() -> Resource<pager::Alert, AlertStrategy> {
    Resource::<pager::Alert>::hub()
        .version::<v1alpha1::Alert>(v1alpha1::OPENAPI_SCHEMAS)
        .version::<v1beta1::Alert>(v1beta1::OPENAPI_SCHEMAS)
        .strategy(AlertStrategy)
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
