//! Version `v1alpha1` of the fleet API: the first shape of `Fleet` and `Policy`.
//!
//! +k8s:conversion-gen=crate::apis::fleet

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
