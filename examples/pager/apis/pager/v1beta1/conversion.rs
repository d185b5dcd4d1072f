//! Hand-written conversion of v1beta1 into the hub, which conversion-gen calls: the fields all
//! match (`auto_convert_alert_to_hub` converts them); what it adds is dropping v1alpha1's
//! round-trip annotation.
//!
//! [`crate::v1alpha1::TITLE_ANNOTATION`] carries the title of an object read as v1alpha1. A
//! v1beta1 object holds its title in `spec.title`, so the annotation on one is not conversion's
//! and must not become the title when the object is next read as v1alpha1 and written back: as
//! Kubernetes' versions drop each other's round-trip annotations on the way into the hub (HPA's
//! `autoscaling/v2` conversion), the hub never holds it.

use kube_codegen_scheme::ConversionError;

use super::{Alert, auto_convert_alert_to_hub};

/// A v1beta1 alert in the hub, without v1alpha1's round-trip annotation.
pub fn convert_alert_to_hub(input: Alert) -> Result<crate::Alert, ConversionError> {
    let mut out = crate::Alert::default();
    auto_convert_alert_to_hub(input, &mut out)?;
    crate::v1alpha1::drop_title_annotation(&mut out.metadata);
    Ok(out)
}
