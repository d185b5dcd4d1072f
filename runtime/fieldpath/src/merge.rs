//! Who owns what after a write (Go's structured-merge-diff `merge.Updater`): an update takes
//! the fields it changed from everyone else; an apply merges its configuration, conflicts with
//! other managers over fields it would change (unless forced), and removes the fields it applied
//! before and no longer applies when nobody else owns them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::path::{Path, display_path};
use crate::set::Set;
use crate::typed::{Comparison, Typed, ValidationError};

/// A manager's fields, the version they are named in, and whether they were applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionedSet {
    pub set: Set,
    pub api_version: String,
    pub applied: bool,
}

/// Every manager's fields, by manager identifier.
pub type ManagedFields = BTreeMap<String, VersionedSet>;

/// The versions an object is served in: the schema of each, and conversion between them.
pub trait Versions {
    /// The schema of objects in `api_version`; `None` when it is not served.
    fn typed(&self, api_version: &str) -> Option<Typed<'_>>;
    /// `object` converted to `api_version`.
    fn convert(&self, object: &Value, api_version: &str) -> Result<Value, ConvertError>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvertError {
    /// The version is not served (any more): its managers are dropped.
    MissingVersion(String),
    Failed(String),
}

/// One field another manager owns that an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub path: Path,
}

/// Why a write's ownership could not be worked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// Fields owned by other managers, in manager then path order.
    Conflicts(Vec<Conflict>),
    /// An object that does not fit its schema.
    Invalid(ValidationError),
    Convert(String),
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateError::Conflicts(conflicts) => {
                let lines: Vec<String> = conflicts
                    .iter()
                    .map(|c| format!("conflict with {:?}: {}", c.manager, display_path(&c.path)))
                    .collect();
                f.write_str(&lines.join("\n"))
            }
            UpdateError::Invalid(e) => write!(f, "{e}"),
            UpdateError::Convert(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for UpdateError {}

impl From<ValidationError> for UpdateError {
    fn from(e: ValidationError) -> Self {
        UpdateError::Invalid(e)
    }
}

/// Works out ownership over the versions of one kind.
pub struct Updater<'a, V> {
    pub versions: &'a V,
    /// Per version, fields nobody owns through this endpoint (e.g. `status` through the main
    /// resource): left out of every manager's set.
    pub ignored: &'a BTreeMap<String, Set>,
}

static NOTHING_IGNORED: BTreeMap<String, Set> = BTreeMap::new();

impl<'a, V: Versions> Updater<'a, V> {
    pub fn new(versions: &'a V) -> Self {
        Updater {
            versions,
            ignored: &NOTHING_IGNORED,
        }
    }

    /// The updater with `ignored` fields per version.
    pub fn ignoring(mut self, ignored: &'a BTreeMap<String, Set>) -> Self {
        self.ignored = ignored;
        self
    }

    fn typed(&self, version: &str) -> Result<Typed<'a>, UpdateError> {
        self.versions
            .typed(version)
            .ok_or_else(|| UpdateError::Convert(format!("no schema for {version}")))
    }

    fn ignored(&self, version: &str) -> &Set {
        static NONE: Set = Set::EMPTY;
        self.ignored.get(version).unwrap_or(&NONE)
    }

    /// After a create, update or non-apply patch by `manager` in `version` (`live` is `null`
    /// for a create): the manager takes every field the write added or changed.
    pub fn update(
        &self,
        live: &Value,
        new: &Value,
        version: &str,
        mut managers: ManagedFields,
        manager: &str,
    ) -> Result<ManagedFields, UpdateError> {
        let (mut managers, compare) = self.update_managers(
            live,
            new,
            version,
            std::mem::take(&mut managers),
            manager,
            true,
        )?;
        let previous = managers.remove(manager).map(|s| s.set).unwrap_or_default();
        let set = previous
            .union(&compare.modified)
            .union(&compare.added)
            .difference(&compare.removed)
            .recursive_difference(self.ignored(version));
        if !set.is_empty() {
            managers.insert(
                manager.to_string(),
                VersionedSet {
                    set,
                    api_version: version.to_string(),
                    applied: false,
                },
            );
        }
        Ok(managers)
    }

    /// Applies `config` (in `version`) onto `live` (`null` when the object does not exist) as
    /// `manager`: the new object (`None` when unchanged) and the new ownership.
    pub fn apply(
        &self,
        live: &Value,
        config: &Value,
        version: &str,
        mut managers: ManagedFields,
        manager: &str,
        force: bool,
    ) -> Result<(Option<Value>, ManagedFields), UpdateError> {
        let typed = self.typed(version)?;
        let merged = typed.merge(live, config)?;
        let last = managers.get(manager).cloned();
        let mut set = typed.to_field_set(config)?;
        if let Some(ignored) = self.ignored.get(version) {
            set = set.recursive_difference(ignored);
        }
        managers.insert(
            manager.to_string(),
            VersionedSet {
                set,
                api_version: version.to_string(),
                applied: true,
            },
        );
        let pruned = self.prune(&merged, &managers, manager, last.as_ref())?;
        let (managers, compare) =
            self.update_managers(live, &pruned, version, managers, manager, force)?;
        Ok(((!compare.is_same()).then_some(pruned), managers))
    }

    /// Compares `old` and `new` for every other manager in its version: fields they own that
    /// changed are conflicts (taken from them when forced), fields removed leave their sets.
    fn update_managers(
        &self,
        old: &Value,
        new: &Value,
        version: &str,
        mut managers: ManagedFields,
        workflow: &str,
        force: bool,
    ) -> Result<(ManagedFields, Comparison), UpdateError> {
        let mut comparisons: BTreeMap<String, Comparison> = BTreeMap::new();
        let own = self
            .typed(version)?
            .compare(old, new)?
            .exclude(self.ignored(version));
        comparisons.insert(version.to_string(), own.clone());
        let mut conflicts: BTreeMap<String, Set> = BTreeMap::new();
        let mut removed: BTreeMap<String, Set> = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, owned) in &managers {
            if name == workflow {
                continue;
            }
            let compare = match comparisons.get(&owned.api_version) {
                Some(c) => c,
                None => {
                    let typed = match self.versions.typed(&owned.api_version) {
                        Some(t) => t,
                        None => {
                            missing.push(name.clone());
                            continue;
                        }
                    };
                    let convert = |v: &Value| -> Result<Option<Value>, UpdateError> {
                        if v.is_null() {
                            return Ok(Some(Value::Null));
                        }
                        match self.versions.convert(v, &owned.api_version) {
                            Ok(v) => Ok(Some(v)),
                            Err(ConvertError::MissingVersion(_)) => Ok(None),
                            Err(ConvertError::Failed(e)) => Err(UpdateError::Convert(e)),
                        }
                    };
                    let (Some(o), Some(n)) = (convert(old)?, convert(new)?) else {
                        missing.push(name.clone());
                        continue;
                    };
                    let c = typed
                        .compare(&o, &n)?
                        .exclude(self.ignored(&owned.api_version));
                    comparisons.entry(owned.api_version.clone()).or_insert(c)
                }
            };
            let conflict = owned
                .set
                .intersection(&compare.modified.union(&compare.added));
            if !conflict.is_empty() {
                conflicts.insert(name.clone(), conflict);
            }
            if !compare.removed.is_empty() {
                removed.insert(name.clone(), compare.removed.clone());
            }
        }
        for name in missing {
            managers.remove(&name);
        }
        if !force && !conflicts.is_empty() {
            return Err(UpdateError::Conflicts(
                conflicts
                    .into_iter()
                    .flat_map(|(manager, set)| {
                        set.paths().into_iter().map(move |path| Conflict {
                            manager: manager.clone(),
                            path,
                        })
                    })
                    .collect(),
            ));
        }
        for (name, taken) in conflicts.iter().chain(&removed) {
            if let Some(owned) = managers.get_mut(name) {
                owned.set = owned.set.difference(taken);
            }
        }
        managers.retain(|_, owned| !owned.set.is_empty());
        Ok((managers, own))
    }

    /// Removes what `manager` applied last time and no longer applies, unless someone else
    /// owns it.
    fn prune(
        &self,
        merged: &Value,
        managers: &ManagedFields,
        manager: &str,
        last: Option<&VersionedSet>,
    ) -> Result<Value, UpdateError> {
        let Some(last) = last.filter(|l| !l.set.is_empty()) else {
            return Ok(merged.clone());
        };
        let Some(typed) = self.versions.typed(&last.api_version) else {
            return Ok(merged.clone());
        };
        let current = &managers[manager].api_version;
        let in_last = match self.convert(merged, &last.api_version)? {
            Some(v) => v,
            None => return Ok(merged.clone()),
        };
        let named = |s: &Set, t: &Typed<'_>| s.ensure_named_fields_are_members(t.schema, t.root);
        let pruned = typed.remove_items(&in_last, &named(&last.set, &typed));
        let pruned = self.add_back_owned(&in_last, pruned, managers, &last.api_version)?;
        let pruned = self.add_back_dangling(&in_last, &pruned, last, &typed)?;
        Ok(self.convert(&pruned, current)?.unwrap_or(pruned))
    }

    /// Puts back what pruning removed that a manager (the applier's new configuration
    /// included) owns.
    fn add_back_owned(
        &self,
        merged: &Value,
        mut pruned: Value,
        managers: &ManagedFields,
        at: &str,
    ) -> Result<Value, UpdateError> {
        let mut by_version: BTreeMap<&str, Set> = BTreeMap::new();
        for owned in managers.values() {
            let set = by_version.entry(owned.api_version.as_str()).or_default();
            *set = set.union(&owned.set);
        }
        let mut merged = merged.clone();
        let mut current = at.to_string();
        for (version, owned) in by_version {
            let Some(typed) = self.versions.typed(version) else {
                continue;
            };
            let (Some(m), Some(p)) = (
                self.convert_from(&merged, &current, version)?,
                self.convert_from(&pruned, &current, version)?,
            ) else {
                continue;
            };
            let converted = current != version;
            merged = m;
            current = version.to_string();
            let named = |s: &Set| s.ensure_named_fields_are_members(typed.schema, typed.root);
            let merged_set = named(&typed.to_field_set(&merged)?);
            let mut pruned_set = typed.to_field_set(&p)?;
            if converted {
                // Conversion may fill in what pruning took out (a required field's zero
                // value): a field whose value pruning changed was pruned in this version too.
                pruned_set = pruned_set.difference(&typed.compare(&merged, &p)?.modified);
            }
            let pruned_set = named(&pruned_set);
            pruned = typed.remove_items(
                &merged,
                &merged_set.difference(&pruned_set.union(&named(&owned))),
            );
        }
        Ok(self.convert_from(&pruned, &current, at)?.unwrap_or(pruned))
    }

    /// Keeps what pruning removed that the applier did not own last time (owned by nobody, or
    /// by updaters).
    fn add_back_dangling(
        &self,
        merged: &Value,
        pruned: &Value,
        last: &VersionedSet,
        typed: &Typed<'_>,
    ) -> Result<Value, UpdateError> {
        let named = |s: &Set| s.ensure_named_fields_are_members(typed.schema, typed.root);
        // Pruning only removes: a field whose value differs was removed and filled back in by a
        // conversion on the way (a required field's zero value), so it was pruned too.
        let refilled = typed.compare(merged, pruned)?.modified;
        let pruned_set = named(&typed.to_field_set(pruned)?.difference(&refilled));
        let merged_set = named(&typed.to_field_set(merged)?);
        let last = named(&last.set);
        Ok(typed.remove_items(
            merged,
            &merged_set.difference(&pruned_set).intersection(&last),
        ))
    }

    /// `value` in `version` (`None`: that version is not served).
    fn convert(&self, value: &Value, version: &str) -> Result<Option<Value>, UpdateError> {
        if value.is_null() || api_version(value) == Some(version) {
            return Ok(Some(value.clone()));
        }
        match self.versions.convert(value, version) {
            Ok(v) => Ok(Some(v)),
            Err(ConvertError::MissingVersion(_)) => Ok(None),
            Err(ConvertError::Failed(e)) => Err(UpdateError::Convert(e)),
        }
    }

    fn convert_from(
        &self,
        value: &Value,
        from: &str,
        to: &str,
    ) -> Result<Option<Value>, UpdateError> {
        if from == to {
            return Ok(Some(value.clone()));
        }
        self.convert(value, to)
    }
}

fn api_version(value: &Value) -> Option<&str> {
    value.get("apiVersion").and_then(Value::as_str)
}
