//! Lowering field types: standard and well-known types to the model's closed enum, other paths
//! as written (through the scope's imports and aliases), and unsupported types diagnosed.

use syn::ext::IdentExt;

use crate::diag::Diagnostic;
use crate::model::{FieldType, FloatType, IntType, MapKind, SharedWrapper};
use crate::path::RustPath;

use super::lower::Ctx;
use super::spans::ty_span;
use super::{BareName, MapKey};

pub(crate) const MAP_KEY_PROBLEM: &str = "a map whose keys are not `String`";
pub(crate) const MAP_KEY_HELP: &str = "JSON object keys are strings: use `BTreeMap<String, V>`";
pub(crate) use crate::output::NOT_AN_API_TYPE;

fn unsupported(ctx: &mut Ctx, ty: &syn::Type, what: &str, help: &str) -> FieldType {
    let span = ctx.span(ty_span(ty));
    ctx.diags.push(
        Diagnostic::error("E0201", format!("unsupported field type: {what}"))
            .at(span, "cannot be represented in a Kubernetes API")
            .note(NOT_AN_API_TYPE)
            .help(help.to_string()),
    );
    // A placeholder keeps later phases going so every problem is reported in one run.
    FieldType::Foreign {
        path: RustPath::from_segments(false, ["__unsupported"]),
        args: Vec::new(),
    }
}

pub(super) fn lower_ty(ctx: &mut Ctx, ty: &syn::Type) -> FieldType {
    match ty {
        syn::Type::Paren(p) => lower_ty(ctx, &p.elem),
        syn::Type::Group(g) => lower_ty(ctx, &g.elem),
        syn::Type::Path(p) if p.qself.is_none() => lower_path(ctx, ty, &p.path),
        syn::Type::Reference(_) => unsupported(
            ctx,
            ty,
            "a reference",
            "API types own their data: use an owned type such as `String` or `Vec<T>`",
        ),
        syn::Type::Ptr(_) => unsupported(
            ctx,
            ty,
            "a raw pointer",
            "API types must be plain data: use an owned type, `Box<T>` or `Option<T>`",
        ),
        syn::Type::Tuple(t) if t.elems.is_empty() => unsupported(
            ctx,
            ty,
            "the unit type `()`",
            "remove the field, or use `Option<T>` or a struct",
        ),
        syn::Type::Tuple(_) => unsupported(
            ctx,
            ty,
            "a tuple",
            "JSON has no tuples: use a struct with named fields",
        ),
        syn::Type::Array(_) => unsupported(
            ctx,
            ty,
            "a fixed-size array",
            "use `Vec<T>` (Kubernetes lists have no fixed length)",
        ),
        syn::Type::FnPtr(_) => unsupported(
            ctx,
            ty,
            "a function pointer",
            "API types must be data that serialises to JSON",
        ),
        syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => {
            unsupported(ctx, ty, "a trait object", "use a concrete type or an enum")
        }
        _ => unsupported(
            ctx,
            ty,
            "this type",
            "use one of the types listed in the README",
        ),
    }
}

fn lower_path(ctx: &mut Ctx, ty: &syn::Type, path: &syn::Path) -> FieldType {
    let Some(last) = path.segments.last() else {
        return unsupported(ctx, ty, "an empty path", "name a type");
    };
    let name = last.ident.unraw().to_string();
    let args = match type_args(ctx, ty, &last.arguments) {
        Ok(args) => args,
        Err(placeholder) => return placeholder,
    };
    if path
        .segments
        .iter()
        .rev()
        .skip(1)
        .any(|s| !s.arguments.is_none())
    {
        return unsupported(
            ctx,
            ty,
            "a path with type arguments before its last segment",
            "name the type by a plain path (`a::b::Type<T>`)",
        );
    }
    // A standard type may be imported under another name (`use std::collections::BTreeMap as
    // Map;`, `use std::collections;` then `collections::BTreeMap`): judged by what the path
    // stands for; a single name nothing imports is a prelude or standard name as written.
    let imported = (path.leading_colon.is_none())
        .then(|| {
            ctx.scopes[ctx.scope]
                .uses
                .get(&path.segments[0].ident.unraw().to_string())
        })
        .flatten();
    let builtin = match imported {
        Some(full) => {
            let mut segments = full.segments.clone();
            segments.extend(
                path.segments
                    .iter()
                    .skip(1)
                    .map(|s| s.ident.unraw().to_string()),
            );
            is_std_segments(&segments).then(|| segments.last().cloned().unwrap_or_default())
        }
        None => {
            // A struct or enum of the module named like a prelude type (`pub struct String`)
            // shadows it, as in rustc.
            let shadowed = ctx.declared[ctx.scope].contains(&name)
                && !ctx.aliases[ctx.scope].contains_key(&name);
            let single = path.leading_colon.is_none() && path.segments.len() == 1 && !shadowed;
            let indexmap =
                name == "IndexMap" && path.segments.first().is_some_and(|s| s.ident == "indexmap");
            (single || path_is_std(path) || indexmap).then(|| name.clone())
        }
    };
    if let Some(builtin) = builtin
        && let Some(lowered) = lower_builtin(ctx, ty, &builtin, &args)
    {
        return lowered;
    }
    lower_named(ctx, ty, path, &args)
}

/// A standard type's full path (`std::collections::BTreeMap`, `::core::…`, `alloc::…`) or
/// `indexmap::IndexMap`.
fn is_std_segments(segments: &[String]) -> bool {
    match segments {
        [first, ..] if matches!(first.as_str(), "std" | "core" | "alloc") => true,
        [krate, name] => krate == "indexmap" && name == "IndexMap",
        _ => false,
    }
}

/// The type arguments of a path's last segment; `Err` with an unsupported type's placeholder
/// for any other argument.
fn type_args<'t>(
    ctx: &mut Ctx,
    ty: &syn::Type,
    arguments: &'t syn::PathArguments,
) -> Result<Vec<&'t syn::Type>, FieldType> {
    let mut args: Vec<&syn::Type> = Vec::new();
    match arguments {
        syn::PathArguments::None => {}
        syn::PathArguments::AngleBracketed(a) => {
            for arg in &a.args {
                match arg {
                    syn::GenericArgument::Type(t) => args.push(t),
                    _ => {
                        return Err(unsupported(
                            ctx,
                            ty,
                            "a type with lifetime, const or associated-type arguments",
                            "API types are owned data with type arguments only",
                        ));
                    }
                }
            }
        }
        syn::PathArguments::Parenthesized(_) => {
            return Err(unsupported(
                ctx,
                ty,
                "a function trait",
                "API types must be data that serialises to JSON",
            ));
        }
    }
    Ok(args)
}

/// The standard type `name<args>` (`bool`, `String`, `Option<T>`, maps, sets, integers,
/// shared pointers); `None` when it is not one.
fn lower_builtin(
    ctx: &mut Ctx,
    ty: &syn::Type,
    name: &str,
    args: &[&syn::Type],
) -> Option<FieldType> {
    let one = |ctx: &mut Ctx| lower_ty(ctx, args[0]);
    Some(match (name, args.len()) {
        ("bool", 0) => FieldType::Bool,
        ("i128" | "u128", 0) => unsupported(
            ctx,
            ty,
            "a 128-bit integer",
            "JSON numbers in Kubernetes are 64-bit: use `i64`, or `Quantity` for big values",
        ),
        ("f32", 0) => FieldType::Float(FloatType::F32),
        ("f64", 0) => FieldType::Float(FloatType::F64),
        ("String", 0) => FieldType::String,
        ("str" | "char", 0) => unsupported(ctx, ty, "`str`/`char`", "use `String`"),
        ("Option", 1) => FieldType::Option(Box::new(one(ctx))),
        ("Vec", 1) => FieldType::Vec(Box::new(one(ctx))),
        ("Box", 1) => FieldType::Box(Box::new(one(ctx))),
        ("BTreeMap" | "HashMap" | "IndexMap", 2) => lower_map(ctx, ty, name, args),
        ("HashSet" | "BTreeSet", 1) => FieldType::Set {
            ordered: name == "BTreeSet",
            elem: Box::new(one(ctx)),
        },
        (n, 0) if IntType::from_name(n).is_some() => {
            FieldType::Int(IntType::from_name(n).expect("checked"))
        }
        (n, 1) if SharedWrapper::from_name(n).is_some() => FieldType::Shared {
            wrapper: SharedWrapper::from_name(n).expect("checked"),
            inner: Box::new(one(ctx)),
        },
        _ => return None,
    })
}

/// `BTreeMap<K, V>`, `HashMap<K, V>` or `IndexMap<K, V>`: keys must be strings.
fn lower_map(ctx: &mut Ctx, ty: &syn::Type, name: &str, args: &[&syn::Type]) -> FieldType {
    let key = lower_ty(ctx, args[0]);
    if !check_map_key(ctx, ty, key) {
        return unsupported(ctx, ty, MAP_KEY_PROBLEM, MAP_KEY_HELP);
    }
    FieldType::Map {
        kind: match name {
            "HashMap" => MapKind::Hash,
            "IndexMap" => MapKind::Index,
            _ => MapKind::BTree,
        },
        value: Box::new(lower_ty(ctx, args[1])),
    }
}

/// Whether `key` may key a map: a `String`, a name that may be an alias of one, checked once
/// every file is read (at `ty`, the map), or a parameter of the generic alias being lowered,
/// checked where the alias is used, with its argument.
fn check_map_key(ctx: &mut Ctx, ty: &syn::Type, key: FieldType) -> bool {
    if let FieldType::Foreign { path, args } = &key
        && args.is_empty()
        && path.is_single()
        && ctx.generic_params.iter().any(|p| p == path.last())
        && let Some(keys) = &mut ctx.alias_map_key_params
    {
        keys.insert(path.last().to_string());
        return true;
    }
    match key {
        FieldType::String => true,
        FieldType::Foreign { ref args, .. } if args.is_empty() => {
            let span = ctx.span(ty_span(ty));
            let scope = ctx.scope;
            ctx.map_keys.push(MapKey { key, span, scope });
            true
        }
        _ => false,
    }
}

/// A type that is not a standard one, by its path as written: through the scope's imports
/// and aliases; a single name nothing in the scope declares is kept to resolve against the
/// package once every file is read.
fn lower_named(ctx: &mut Ctx, ty: &syn::Type, path: &syn::Path, args: &[&syn::Type]) -> FieldType {
    let lowered_args: Vec<FieldType> = args.iter().map(|a| lower_ty(ctx, a)).collect();
    let mut written: Vec<String> = path
        .segments
        .iter()
        .map(|s| s.ident.unraw().to_string())
        .collect();
    // `Self` in a field (`Option<Box<Self>>`, `Vec<Self>`) is the type being declared.
    if written.len() == 1
        && written[0] == "Self"
        && path.leading_colon.is_none()
        && let Some(own) = &ctx.self_type
    {
        written[0] = own.clone();
    }
    let scope = &ctx.scopes[ctx.scope];
    // The first segment may be imported (`use k8s_openapi::api::core::v1 as core;`).
    let resolved = match scope.uses.get(&written[0]) {
        Some(full) if path.leading_colon.is_none() => {
            let mut segs = full.segments.clone();
            segs.extend(written[1..].iter().cloned());
            RustPath::from_segments(false, segs)
        }
        _ => RustPath::from_segments(path.leading_colon.is_some(), written),
    };
    let resolved = follow_imports(ctx, resolved);
    // A generic alias of the scope: its type with the arguments in place of its parameters.
    if resolved.is_single()
        && !lowered_args.is_empty()
        && let Some(alias) = ctx.generic_aliases[ctx.scope].get(resolved.last()).cloned()
        && alias.params.len() == lowered_args.len()
    {
        // The arguments keying a map, checked here as a map's key written out would be.
        for (param, arg) in alias.params.iter().zip(&lowered_args) {
            if alias.map_key_params.contains(param) && !check_map_key(ctx, ty, arg.clone()) {
                return unsupported(ctx, ty, MAP_KEY_PROBLEM, MAP_KEY_HELP);
            }
        }
        let mut aliased = alias.ty;
        substitute(&mut aliased, &alias.params, &lowered_args);
        return aliased;
    }
    if resolved.is_single() && lowered_args.is_empty() {
        let n = resolved.last().to_string();
        if ctx.generic_params.contains(&n) {
            return FieldType::Foreign {
                path: resolved,
                args: lowered_args,
            };
        }
        if let Some(target) = ctx.aliases[ctx.scope].get(&n) {
            return target.clone();
        }
        if !ctx.declared[ctx.scope].contains(&n) {
            let span = ctx.span(ty_span(ty));
            ctx.bare_names.push(BareName {
                name: n,
                span,
                scope: ctx.scope,
            });
        }
    }
    FieldType::Foreign {
        path: resolved,
        args: lowered_args,
    }
}

/// `ty` with each type parameter (a single-segment foreign path named in `params`) replaced by
/// its argument; arguments are not searched again.
fn substitute(ty: &mut FieldType, params: &[String], args: &[FieldType]) {
    if let FieldType::Foreign { path, args: own } = ty
        && own.is_empty()
        && path.is_single()
        && let Some(i) = params.iter().position(|p| p == path.last())
    {
        *ty = args[i].clone();
        return;
    }
    match ty {
        FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => substitute(t, params, args),
        FieldType::Map { value, .. } => substitute(value, params, args),
        FieldType::Set { elem, .. } => substitute(elem, params, args),
        FieldType::Shared { inner, .. } => substitute(inner, params, args),
        FieldType::Foreign { args: own, .. } => {
            own.iter_mut().for_each(|a| substitute(a, params, args))
        }
        _ => {}
    }
}

/// `std::…`, `core::…`, `alloc::…` and `::std::…` paths: the standard types by full path
/// (`std::collections::BTreeMap<String, String>`).
fn path_is_std(path: &syn::Path) -> bool {
    path.segments
        .first()
        .is_some_and(|s| s.ident == "std" || s.ident == "core" || s.ident == "alloc")
}

/// A `self::`/`super::` path naming, in this file, a module that does not declare the type but
/// imports it (`mod spec { use super::Tls; }` under `use self::other::Tls;`): the import it
/// stands for, written from the current module, as Rust follows such chains. Other paths, and
/// modules of other files, are left as they are.
fn follow_imports(ctx: &Ctx, mut path: RustPath) -> RustPath {
    let here = &ctx.scopes[ctx.scope].inline;
    // Rust refuses import cycles; a chain this long is not one to follow.
    for _ in 0..8 {
        let Some((module, name)) = module_in_file(ctx, here, &path) else {
            return path;
        };
        let Some(at) = ctx.scopes.iter().position(|s| s.inline == module) else {
            return path;
        };
        if ctx.declared[at].contains(name) {
            return path;
        }
        let Some(import) = ctx.scopes[at].uses.get(name) else {
            return path;
        };
        let next = match module_in_file(ctx, &module, import) {
            // Written from `module`: the same item named from here.
            Some((target, name)) => {
                let common = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
                let ups = here.len() - common;
                let mut segments = if ups == 0 {
                    vec!["self".to_string()]
                } else {
                    vec!["super".to_string(); ups]
                };
                segments.extend(target[common..].iter().cloned());
                segments.push(name.to_string());
                RustPath::from_segments(false, segments)
            }
            // An extern crate's or `crate::` path means the same from anywhere.
            None if import.global
                || import.first() == "crate"
                || !(import.is_relative() || declares_module(ctx, &module, import.first())) =>
            {
                import.clone()
            }
            None => return path,
        };
        if next == path {
            return path;
        }
        path = next;
    }
    path
}

/// The inline module of this file (its path from the file's module) that a path written in
/// `from` names its last segment in, and that name; `None` when the path leaves the file or
/// does not start at a module of it.
fn module_in_file<'p>(
    ctx: &Ctx,
    from: &[String],
    path: &'p RustPath,
) -> Option<(Vec<String>, &'p str)> {
    let (name, modules) = path.segments.split_last()?;
    if path.global || modules.is_empty() {
        return None;
    }
    let mut module = from.to_vec();
    let mut rest = modules;
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "self" => {}
            // Above the file's module: another file.
            "super" => {
                module.pop()?;
            }
            _ => break,
        }
        rest = tail;
    }
    if rest.len() == modules.len() && !declares_module(ctx, from, &rest[0]) {
        // `a::B` where `a` is no module here: an extern crate's path.
        return None;
    }
    module.extend(rest.iter().cloned());
    Some((module, name))
}

/// Whether the module `at` of this file declares a module `name`.
fn declares_module(ctx: &Ctx, at: &[String], name: &str) -> bool {
    ctx.scopes
        .iter()
        .any(|s| s.inline == at && s.modules.contains(name))
}
