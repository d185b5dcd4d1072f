//! Version `v1beta1` of the wardle API.
//!
//! +k8s:conversion-gen=crate::apis::wardle
//! +k8s:protobuf-gen=package

mod conversion;
mod types;
pub use types::*;

include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.register.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.deepcopy.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.openapi.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.conversion.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.defaults.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/wardle/v1beta1/zz_generated.protobuf.rs"
));
