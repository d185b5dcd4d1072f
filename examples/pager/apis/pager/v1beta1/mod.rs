//! Version `v1beta1` of the pager API: an alert has a title and content.
//!
//! +groupName=pager.k8s.co
//! +k8s:conversion-gen=crate
//! +k8s:protobuf-gen=package

mod conversion;
mod types;
pub use types::*;

include!("zz_generated.register.rs");
include!("zz_generated.deepcopy.rs");
include!("zz_generated.openapi.rs");
include!("zz_generated.conversion.rs");
include!("zz_generated.defaults.rs");
include!("zz_generated.protobuf.rs");
