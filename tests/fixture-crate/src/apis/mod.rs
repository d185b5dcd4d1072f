//! The fixture's API groups.

pub mod fleet;
