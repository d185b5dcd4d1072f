//! The wardle API, shaped like Kubernetes' sample-apiserver: `Flunder` refers to a flunder or a
//! fischer; the hub keeps both references, the versions keep one `reference` and its type, so
//! their conversions are written by hand (`v1alpha1/conversion.rs`, `v1beta1/conversion.rs`) and
//! everything else is generated.
//!
//! +groupName=wardle.example.com

pub mod v1alpha1;
pub mod v1beta1;

mod types;
pub use types::*;

include!(concat!(env!("OUT_DIR"), "/wardle/zz_generated.deepcopy.rs"));
include!(concat!(env!("OUT_DIR"), "/wardle/zz_generated.register.rs"));
