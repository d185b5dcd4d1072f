//! Rewriting type paths as written in a file so they mean the same from the package module:
//! `self::`/`super::` rebasing, sibling-package globs, the package's aliases, and paths naming
//! the package's own or well-known types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::model::*;
use crate::parse::Scope;
use crate::path::RustPath;

use super::names::Names;

/// Rewrites `self::`/`super::` paths written in a file at `module` (relative to the package) so
/// they mean the same from the package module, where generated code lives.
pub(super) fn rebase(ty: &mut FieldType, module: &[String]) {
    ty.walk_mut(&mut |ft| {
        if let FieldType::Foreign { path, .. } = ft {
            rebase_path(path, module);
        }
    });
}

fn rebase_path(path: &mut RustPath, module: &[String]) {
    {
        if path.global {
            return;
        }
        let mut segs: &[String] = &path.segments;
        let mut depth = module.to_vec();
        let mut changed = false;
        loop {
            match segs.first().map(String::as_str) {
                Some("self") if segs.len() > 1 => {
                    segs = &segs[1..];
                    changed = true;
                }
                Some("super") if !depth.is_empty() => {
                    segs = &segs[1..];
                    depth.pop();
                    changed = true;
                }
                _ => break,
            }
        }
        if changed {
            // `super::super::X` in `types.rs` is `super::X` from the package module.
            let mut out: Vec<String> =
                if depth.is_empty() && segs.first().map(String::as_str) == Some("super") {
                    Vec::new()
                } else {
                    vec!["self".to_string()]
                };
            out.extend(depth);
            out.extend(segs.iter().cloned());
            *path = RustPath::from_segments(false, out);
        }
    }
}

/// `v1::Status` written under `use super::super::*;` where `v1` is a sibling package (kube-rs's
/// multi-version layout): the glob's path in front (`super::super::v1::Status`), as Rust resolves
/// it, so that generated code elsewhere names it. Only a first segment that is a package
/// directory of the input is taken this way (`chrono::DateTime` stays an extern crate's).
pub(super) fn through_sibling_globs(
    ty: &mut FieldType,
    names: &Names,
    scope: &Scope,
    module: &[String],
) {
    if scope.globs.is_empty() {
        return;
    }
    let written: Vec<String> = names
        .dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .chain(module.iter().cloned())
        .collect();
    ty.walk_mut(&mut |ft| {
        let FieldType::Foreign { path, .. } = ft else {
            return;
        };
        if path.global
            || path.segments.len() < 2
            || matches!(path.first(), "self" | "super" | "crate")
        {
            return;
        }
        let providing: Vec<&RustPath> = scope
            .globs
            .iter()
            .filter(|g| {
                glob_dir(&written, g)
                    .is_some_and(|d| names.package_dirs.contains(&d.join(path.first())))
            })
            .collect();
        if let [glob] = providing[..] {
            let segments: Vec<String> = glob
                .segments
                .iter()
                .chain(&path.segments)
                .cloned()
                .collect();
            *path = RustPath::from_segments(false, segments);
        }
    });
}

/// The directory (relative to the input) a glob import written in module `written` (its path
/// from the input's root) points at; `None` when it leaves the input or starts at `crate`.
fn glob_dir(written: &[String], glob: &RustPath) -> Option<PathBuf> {
    if glob.global {
        return None;
    }
    let mut at = written.to_vec();
    for segment in &glob.segments {
        match segment.as_str() {
            "self" => {}
            "super" => {
                at.pop()?;
            }
            "crate" => return None,
            other => at.push(other.to_string()),
        }
    }
    Some(at.iter().collect())
}

/// Paths naming types of this package become `Local`; well-known types become `Known`.
/// `module` is where the path was written (a relative `spec::X` starts there).
pub(crate) fn resolve_ty(
    ty: &mut FieldType,
    local: &BTreeMap<String, Vec<String>>,
    module: &[String],
) {
    ty.walk_mut(&mut |ft| resolve_node(ft, local, module));
}

/// Package type aliases by (module, name): the aliased type and the module declaring it.
pub(super) type Aliases = BTreeMap<(Vec<String>, String), (FieldType, Vec<String>)>;

/// [`resolve_ty`], and a path naming a type alias of the package (`inner::Labels` written in
/// `types.rs`, `self::Name`, `super::Name` from an inline module) replaced by what the alias
/// stands for, itself resolved where the alias is declared. (Bare alias names were replaced
/// where they were written.)
pub(super) fn resolve_with_aliases(
    ty: &mut FieldType,
    local: &BTreeMap<String, Vec<String>>,
    aliases: &Aliases,
    module: &[String],
    depth: usize,
) {
    // Rust refuses alias cycles; a chain this deep is not one to follow.
    if let Some((aliased, declared_in)) = alias_named(ty, aliases, module).filter(|_| depth < 16) {
        let mut aliased = aliased.clone();
        resolve_with_aliases(&mut aliased, local, aliases, declared_in, depth + 1);
        *ty = aliased;
        return;
    }
    resolve_node(ty, local, module);
    match ty {
        FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => {
            resolve_with_aliases(t, local, aliases, module, depth)
        }
        FieldType::Map { value, .. } => resolve_with_aliases(value, local, aliases, module, depth),
        FieldType::Set { elem, .. } => resolve_with_aliases(elem, local, aliases, module, depth),
        FieldType::Shared { inner, .. } => {
            resolve_with_aliases(inner, local, aliases, module, depth)
        }
        FieldType::Foreign { args, .. } => args
            .iter_mut()
            .for_each(|a| resolve_with_aliases(a, local, aliases, module, depth)),
        _ => {}
    }
}

/// The name of a placeholder for a resolved type held aside while the rest of a type resolves
/// (no Rust type can be named with it).
pub(super) const HELD: &str = "\0held:";

/// The alias of the package a path written in `module` names, if it names one.
fn alias_named<'a>(
    ty: &FieldType,
    aliases: &'a Aliases,
    module: &[String],
) -> Option<&'a (FieldType, Vec<String>)> {
    let FieldType::Foreign { path, args } = ty else {
        return None;
    };
    if aliases.is_empty() || !args.is_empty() || path.global || path.is_single() {
        return None;
    }
    let segments = &path.segments;
    // `self::a::Name`/`super::Name` rebased to the package module; `a::Name` relative to where
    // it is written.
    let mut rebased = path.clone();
    rebase_path(&mut rebased, module);
    let target = if rebased.segments.first().map(String::as_str) == Some("self") {
        rebased.segments[1..rebased.segments.len() - 1].to_vec()
    } else if !matches!(segments[0].as_str(), "self" | "super" | "crate") {
        let mut m = module.to_vec();
        m.extend(segments[..segments.len() - 1].iter().cloned());
        m
    } else {
        return None;
    };
    aliases.get(&(target, path.last().to_string()))
}

/// [`resolve_ty`] of one node, not its children.
fn resolve_node(ft: &mut FieldType, local: &BTreeMap<String, Vec<String>>, module: &[String]) {
    {
        let FieldType::Foreign { path, args } = ft else {
            return;
        };
        if !args.is_empty() {
            // A generic type of this package: named through its module, as `Local`s are.
            if path.is_single()
                && let Some(m) = local.get(path.last())
            {
                let mut segs = vec!["self".to_string()];
                segs.extend(m.iter().cloned());
                segs.push(path.last().to_string());
                *path = RustPath::from_segments(false, segs);
            } else {
                rebase_path(path, module);
            }
            return;
        }
        // A relative `spec::X` or a single name first, as written; then `self::`/`super::`
        // paths rebased to the package module, where generated code lives.
        let written = path.clone();
        rebase_path(path, module);
        let rebased = std::mem::replace(path, written);
        let segments = &path.segments;
        let last = path.last().to_string();
        let single = path.is_single();
        // `self::types::X` (after rebasing) names the local `X` declared in `types.rs`.
        // `self::X` (a name the package module sees, e.g. through `pub use status::*`) is the
        // package's own `X` too: a package is one namespace.
        let rs = &rebased.segments;
        let via_self = !rebased.global
            && rs.len() >= 2
            && rs[0] == "self"
            && local.get(&last).is_some_and(|m| {
                rs.len() == 2
                    || m.iter()
                        .map(String::as_str)
                        .eq(rs[1..rs.len() - 1].iter().map(String::as_str))
            });
        // `spec::X` written in `types.rs` names `X` of its inline module `types::spec`.
        let relative = !path.global
            && segments.len() >= 2
            && !matches!(segments[0].as_str(), "self" | "super" | "crate")
            && local.get(&last).is_some_and(|m| {
                m.len() == module.len() + segments.len() - 1
                    && m.starts_with(module)
                    && m[module.len()..]
                        .iter()
                        .eq(segments[..segments.len() - 1].iter())
            });
        if (single && local.contains_key(&last)) || via_self || relative {
            *ft = FieldType::Local(last);
            return;
        }
        if let Some((_, known)) = KnownType::ALL.iter().find(|(n, _)| *n == last) {
            let from_k8s = segments[0] == "k8s_openapi"
                || segments[0] == "kube"
                || path.k8s_openapi_tail().is_some();
            let ok = match known {
                KnownType::Json => segments[0] == "serde_json" || single,
                _ => single || from_k8s,
            };
            if ok && !(single && local.contains_key(&last)) {
                *ft = FieldType::Known(*known);
                return;
            }
        }
        *path = rebased;
    }
}
