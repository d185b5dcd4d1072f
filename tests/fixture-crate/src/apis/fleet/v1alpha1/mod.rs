//! Version `v1alpha1` of the fleet API: the first shape of `Fleet` and `Policy`.
//!
//! Conversion through the hub is not exercised here (the hub is deliberately smaller than the
//! versions; the pager and the wardle fixture cover conversions):
//! +k8s:conversion-gen=false

mod types;
pub use types::*;

include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1alpha1/zz_generated.register.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1alpha1/zz_generated.deepcopy.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1alpha1/zz_generated.openapi.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1alpha1/zz_generated.defaults.rs"
));
