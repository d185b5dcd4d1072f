//! Version `v1alpha1` of the pager API: an alert is a single message.
//!
//! +groupName=pager.k8s.co
//! +k8s:conversion-gen=crate
//! +k8s:protobuf-gen=package

mod conversion;
mod types;
pub use conversion::TITLE_ANNOTATION;
pub(crate) use conversion::drop_title_annotation;
pub use types::*;

include!("zz_generated.register.rs");
include!("zz_generated.deepcopy.rs");
include!("zz_generated.openapi.rs");
include!("zz_generated.conversion.rs");
include!("zz_generated.defaults.rs");
include!("zz_generated.protobuf.rs");
