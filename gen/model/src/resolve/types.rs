//! Resolving one package's types: names to local/known types, kinds found, tags interpreted,
//! the package validated.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, FileId};
use crate::model::*;
use crate::tags::Tag;

use super::checks::{
    duplicate_type_names, duplicate_wire_names, flatten_cycles, hand_written_serde,
    map_keys_not_strings, optional_fields_serde_requires, optional_fields_written_when_empty,
};
use super::kinds::{embedded_types, find_kinds};
use super::names::{Names, WrittenTypes, glob_imported_names, package_aliases};

/// What a type brought from lowering that the model does not keep: its raw tags and its scope.
pub(super) struct RawType {
    pub(super) tags: Vec<Tag>,
    pub(super) file: FileId,
    pub(super) scope: usize,
}

/// Resolves names to local/known types, finds roots, fills `Resource`, interprets tags,
/// validates.
pub(super) fn resolve_types(
    pkg: &mut Package,
    names: &Names,
    raw: Vec<RawType>,
    diags: &mut Vec<Diagnostic>,
) {
    // Local type name → module of its declaration within the package.
    let local: BTreeMap<String, Vec<String>> = pkg
        .types
        .iter()
        .rev()
        .map(|t| (t.name.clone(), t.module.clone()))
        .collect();
    let aliases = package_aliases(names);
    let replacements = glob_imported_names(names, &local, &aliases, diags);
    let written = WrittenTypes::new(pkg, names, &local, &aliases, &replacements);
    // `super::X`/`self::X` first mean the same from the package module, then any path naming a
    // type of this package becomes `Local`.
    for (t, r) in pkg.types.iter_mut().zip(&raw) {
        let module = t.module.clone();
        for ty in t.field_types_mut() {
            written.resolve(ty, r.file, r.scope, &module);
        }
    }
    map_keys_not_strings(names, &written, &local, diags);
    let embedded = embedded_types(pkg);
    duplicate_wire_names(pkg, diags);
    flatten_cycles(pkg, diags);
    find_kinds(pkg, &raw, &embedded, diags);

    // Tags, typed: needs every type resolved and every kind known.
    crate::interpret::interpret_package(
        pkg,
        names.scope_lookup(),
        raw.into_iter().map(|r| (r.tags, r.file, r.scope)).collect(),
        &replacements,
        diags,
    );
    duplicate_type_names(pkg, diags);
    optional_fields_written_when_empty(pkg, diags);
    optional_fields_serde_requires(pkg, diags);
    hand_written_serde(pkg, diags);
}
