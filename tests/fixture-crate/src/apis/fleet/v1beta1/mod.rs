//! Version `v1beta1` of the fleet API: the rich shape. Types live in two files, `types.rs` (kinds
//! and specs) and `status.rs` (observed state), both re-exported here.
//!
//! Conversion through the hub is not exercised here (the hub is deliberately smaller than the
//! versions; the pager and the wardle fixture cover conversions):
//! +k8s:conversion-gen=false
//!
//! Protobuf too, where every field shape meets protobuf-gen (k8s-openapi types without a
//! message, enums with data and tuple structs of two fields travel as JSON):
//! +k8s:protobuf-gen=package

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
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1beta1/zz_generated.defaults.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/fleet/v1beta1/zz_generated.protobuf.rs"
));
