//! The fixture's API groups.

pub mod fleet;
pub mod gateway;
pub mod wardle;
