//! Version `v1beta1` of the fleet API: the rich shape. Types live in two files, `types.rs` (kinds
//! and specs) and `status.rs` (observed state), both re-exported here.
//!
//! +k8s:conversion-gen=crate::apis::fleet

mod status;
mod types;
pub use status::*;
pub use types::*;

include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1beta1/zz_generated.register.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1beta1/zz_generated.deepcopy.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1beta1/zz_generated.openapi.rs"
));
