//! The fleet API, group `fleet.example.com`: fleets of pods, the policies that govern them, and
//! a few kinds that exercise every client flavour.
//!
//! This module is the internal (hub) version every external version converts through; the
//! external versions are [`v1alpha1`] and [`v1beta1`]. The group is named here only: the versions
//! inherit it.
//!
//! +groupName=fleet.example.com

pub mod v1alpha1;
pub mod v1beta1;

mod types;
pub use types::*;

include!(concat!(env!("OUT_DIR"), "/fleet/zz_generated.deepcopy.rs"));
include!(concat!(env!("OUT_DIR"), "/fleet/zz_generated.register.rs"));
