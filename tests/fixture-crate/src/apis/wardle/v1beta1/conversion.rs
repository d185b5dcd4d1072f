//! The conversions conversion-gen asked for: one `reference` here, two in the hub.

use kube_codegen_scheme::ConversionError;

use super::{
    FlunderSpec, ReferenceType, auto_convert_flunder_spec_from_hub,
    auto_convert_flunder_spec_to_hub,
};
use crate::apis::wardle as hub;

/// The reference goes to the hub field its type names.
pub fn convert_flunder_spec_to_hub(
    mut input: FlunderSpec,
) -> Result<hub::FlunderSpec, ConversionError> {
    let mut out = hub::FlunderSpec::default();
    let reference = std::mem::take(&mut input.reference);
    match input.reference_type {
        Some(ReferenceType::Flunder) => out.flunder_reference = reference,
        Some(ReferenceType::Fischer) => out.fischer_reference = reference,
        None if reference.is_empty() => {}
        None => {
            return Err(
                ConversionError::new("referenceType is required with a reference").at("spec"),
            );
        }
    }
    auto_convert_flunder_spec_to_hub(input, &mut out)?;
    Ok(out)
}

/// Written in a private module and re-exported: generated code calls it through the
/// re-export.
pub use from_hub::convert_flunder_spec_from_hub;

mod from_hub {
    use super::*;

    /// The hub field `reference_type` names becomes the reference.
    pub fn convert_flunder_spec_from_hub(
        mut input: hub::FlunderSpec,
    ) -> Result<FlunderSpec, ConversionError> {
        let reference = match input.reference_type {
            Some(hub::ReferenceType::Flunder) => std::mem::take(&mut input.flunder_reference),
            Some(hub::ReferenceType::Fischer) => std::mem::take(&mut input.fischer_reference),
            None => String::new(),
        };
        let mut out = FlunderSpec {
            reference,
            ..FlunderSpec::default()
        };
        auto_convert_flunder_spec_from_hub(input, &mut out)?;
        Ok(out)
    }
}

/// A status without a phase is pending (what defaulter-gen calls before field defaults).
pub fn set_defaults_flunder_status(obj: &mut super::FlunderStatus) {
    if obj.phase.is_none() {
        obj.phase = Some(super::Phase::Pending);
    }
}
