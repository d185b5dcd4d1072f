//! The fixture's API groups.

pub mod fleet;
pub mod wardle;
