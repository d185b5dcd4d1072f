//! The pager API, group `pager.k8s.co`: an `Alert` is a message to be sent to a person.
//!
//! This module is the internal (hub) version every external version converts through; the
//! external versions are [`v1alpha1`] and [`v1beta1`].
//!
//! +groupName=pager.k8s.co

pub mod v1alpha1;
pub mod v1beta1;

mod types;
pub use types::*;

include!("zz_generated.deepcopy.rs");
include!("zz_generated.register.rs");
