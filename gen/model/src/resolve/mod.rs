//! Phase 2: lowered files → packages; group/version/scope/plural inference; validation.

mod assemble;
mod checks;
mod crate_info;
mod declared;
mod kinds;
mod names;
mod package;
mod paths;
mod place;
mod types;

pub(crate) use assemble::{assemble, warn_undeclared_groups};
pub(crate) use checks::{hub_kinds_take_their_versions_scope, kind_scopes_agree};
pub use crate_info::CrateInfo;
pub(crate) use paths::resolve_ty;
pub(crate) use place::{Placed, follow_path_attributes, module_files_found_twice, place};
