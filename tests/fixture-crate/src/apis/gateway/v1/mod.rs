//! Version `v1` of `gateway.example.com`, kopium's layout: `pub mod` per kind.
//!
//! +groupName=gateway.example.com

pub mod beacons;
pub mod httproutes;

include!(concat!(
    env!("OUT_DIR"),
    "/gateway/v1/zz_generated.register.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/gateway/v1/zz_generated.deepcopy.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/gateway/v1/zz_generated.openapi.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/gateway/v1/zz_generated.defaults.rs"
));
