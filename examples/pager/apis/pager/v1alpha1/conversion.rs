//! Hand-written conversions of v1alpha1, which conversion-gen names and calls: v1alpha1 has one
//! `message` where the hub has `title` and `content`.
//!
//! Round trips stay lossless the Kubernetes way: a hub `title`, which v1alpha1 cannot hold, rides
//! in the [`TITLE_ANNOTATION`] annotation of a v1alpha1 object and comes back from it. The
//! annotation is conversion's own, as Kubernetes' round-trip annotations are (HPA's
//! `DropRoundTripHorizontalPodAutoscalerAnnotations`): the hub never holds it, so one a client
//! wrote itself never stands in for a title that is not there.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_codegen_scheme::ConversionError;

use super::{
    Alert, AlertSpec, auto_convert_alert_from_hub, auto_convert_alert_spec_from_hub,
    auto_convert_alert_spec_to_hub, auto_convert_alert_to_hub,
};

/// Carries the hub's `spec.title` in a v1alpha1 object.
pub const TITLE_ANNOTATION: &str = "pager.k8s.co/title";

/// Removes [`TITLE_ANNOTATION`] from `meta`: wherever an object comes from, only conversion
/// writes it, and only into v1alpha1 objects.
pub(crate) fn drop_title_annotation(meta: &mut ObjectMeta) {
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(TITLE_ANNOTATION);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

/// v1alpha1's `message` is the hub's `content`; the title is set by [`convert_alert_to_hub`].
pub fn convert_alert_spec_to_hub(
    mut input: AlertSpec,
) -> Result<crate::AlertSpec, ConversionError> {
    let mut out = crate::AlertSpec {
        content: std::mem::take(&mut input.message),
        ..crate::AlertSpec::default()
    };
    auto_convert_alert_spec_to_hub(input, &mut out)?;
    Ok(out)
}

/// The hub's `content` is v1alpha1's `message`; the title goes to an annotation in
/// [`convert_alert_from_hub`].
pub fn convert_alert_spec_from_hub(
    mut input: crate::AlertSpec,
) -> Result<AlertSpec, ConversionError> {
    let mut out = AlertSpec {
        message: std::mem::take(&mut input.content),
        ..AlertSpec::default()
    };
    auto_convert_alert_spec_from_hub(input, &mut out)?;
    Ok(out)
}

/// A v1alpha1 alert in the hub: the title comes back from its annotation.
pub fn convert_alert_to_hub(input: Alert) -> Result<crate::Alert, ConversionError> {
    let mut out = crate::Alert::default();
    auto_convert_alert_to_hub(input, &mut out)?;
    if let Some(annotations) = out.metadata.annotations.as_mut()
        && let Some(title) = annotations.remove(TITLE_ANNOTATION)
    {
        out.spec.title = title;
    }
    drop_title_annotation(&mut out.metadata);
    Ok(out)
}

/// A hub alert as v1alpha1: a title, which v1alpha1 has no field for, is kept in an annotation
/// (and only a title: the annotation is never copied from the hub's metadata).
pub fn convert_alert_from_hub(mut input: crate::Alert) -> Result<Alert, ConversionError> {
    let title = std::mem::take(&mut input.spec.title);
    let mut out = Alert::default();
    auto_convert_alert_from_hub(input, &mut out)?;
    drop_title_annotation(&mut out.metadata);
    if !title.is_empty() {
        out.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(TITLE_ANNOTATION.to_string(), title);
    }
    Ok(out)
}
