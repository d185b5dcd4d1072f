//! +groupName=widgets.example.com
pub mod v1;
