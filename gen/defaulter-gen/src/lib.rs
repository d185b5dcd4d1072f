//! defaulter-gen: `kube_codegen_scheme::SetDefaults` for the kinds of every external version and
//! every type that has defaults somewhere inside it, and a per-version `register_defaults`.
//!
//! A type's defaults are, in order: its hand-written `set_defaults_<type>(&mut T)` (found by name
//! in the package, like Go's `SetDefaults_<Type>`), then the `+default=` value of every field that
//! is unset (`None`, or the zero value of a string, number or collection), then the defaults of
//! nested objects, through `Option`, `Box`, `Vec` and maps. `+k8s:defaulter-gen=false` on a type
//! opts it out; `=covers` means its hand-written function covers its fields (no recursion).
//!
//! `+default=` values were parsed and checked against the field's type by the model; scalars and
//! string enums become literals, compound values are decoded from their JSON at run time.
//!
//! Output: `<version>/zz_generated.defaults.rs`, included by the version's module.

use std::collections::{BTreeMap, BTreeSet};

use kube_codegen_model::output::{
    Content, GeneratedFile, Generator, Options, Placement, field_type_tokens, ident, type_path,
};
use kube_codegen_model::{
    DefaulterMode, Diagnostic, Field, FieldType, Model, Package, TypeBody, TypeDef, Variant,
    VariantShape, naming,
};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use serde_json::Value;

pub const NAME: &str = "defaulter-gen";
pub const FILE: &str = "zz_generated.defaults.rs";

pub struct DefaulterGen;

fn enabled(pkg: &Package) -> bool {
    !pkg.is_internal()
        && pkg
            .options
            .defaulter
            .as_ref()
            .is_none_or(|d| d.value != DefaulterMode::Off)
}

impl Generator for DefaulterGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate_package(&self, model: &Model, pkg: &Package) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        if enabled(pkg) {
            let mut analysis = Analysis::new(model, pkg);
            for t in &pkg.types {
                // Generated defaults live in the package module: a private field of a type
                // declared in another file (or an inline module) is out of their reach.
                let skipped = t.has_generics || mode(t) == Some(DefaulterMode::Off);
                if !skipped && !t.module.is_empty() {
                    for f in fields(t).iter().filter(|f| !f.is_pub) {
                        if f.options.default.is_some() || analysis.nested(&f.ty) {
                            diags.push(
                                Diagnostic::error(
                                    "E0604",
                                    format!("generated defaults cannot reach `{}.{}`", t.name, f.name),
                                )
                                .at(f.span, format!("private to `{}`, which declares `{}`", t.module.join("::"), t.name))
                                .help(format!("make it `pub {}` (or `pub(super)`), or declare `{}` in the package's own module", f.name, t.name)),
                            );
                        }
                    }
                }
                // Kinds and types with defaults get an `impl SetDefaults`, which names them
                // (and the types of the values it sets).
                if !skipped
                    && (t.resource.is_some() || analysis.has_defaults(&t.name))
                    && let Some(found) = kube_codegen_model::hand_written_impl(
                        t,
                        &["kube_codegen_scheme", "SetDefaults"],
                    )
                {
                    diags.push(
                        Diagnostic::error(
                            "E0302",
                            format!("`{}` implements `{}` by hand", t.name, found.path.segments.join("::")),
                        )
                        .at(found.span, "implemented again by generated code")
                        .note(format!("defaulter-gen writes `SetDefaults` for {} (rustc's E0119 on two impls)", if t.resource.is_some() { "every kind" } else { "every type with defaults inside it" }))
                        .help(format!("write the defaults in `pub fn {}(obj: &mut {})` instead, which the generated impl calls first; or opt the type out with `/// +k8s:defaulter-gen=false`", hand_written_name(t), ident(&t.name))),
                    );
                }
                if !skipped && (t.resource.is_some() || analysis.has_defaults(&t.name)) {
                    diags.extend(kube_codegen_model::output::unnameable_in_package(
                        pkg,
                        [t.name.as_str()],
                        fields(t)
                            .iter()
                            .filter(|f| f.options.default.is_some())
                            .map(|f| &f.ty),
                    ));
                }
                let name = hand_written_name(t);
                if let Some(f) = pkg.function_named(&name)
                    && !f.reachable
                {
                    diags.push(
                        Diagnostic::error(
                            "E0602",
                            format!("`{name}` cannot be called by generated code"),
                        )
                        .at(f.span, "private to its module")
                        .help(format!("make it `pub fn {name}`")),
                    );
                }
                // Fields of enum variants are not defaulted (nor in OpenAPI: such enums are
                // opaque there): say so rather than drop the tag.
                if let TypeBody::Enum(variants) = &t.body {
                    for v in variants {
                        let VariantShape::Struct(vfields) = &v.shape else {
                            continue;
                        };
                        for f in vfields {
                            if let Some(d) = &f.options.default {
                                diags.push(
                                    Diagnostic::warning(
                                        "W0606",
                                        format!("the `+default` of `{}::{}.{}` is not applied", t.name, v.name, f.name),
                                    )
                                    .at(d.span, "a field of an enum variant")
                                    .note("defaulter-gen defaults fields of structs; OpenAPI has no schema for enums carrying data, so the default is not published either")
                                    .help(format!("set it in `pub fn {}(obj: &mut {})`, or make the variant's data a struct of its own", hand_written_name(t), ident(&t.name))),
                                );
                            }
                        }
                    }
                }
                for f in fields(t) {
                    // A default that is not a literal is read from its JSON by the type's serde.
                    if let Some(d) = &f.options.default
                        && unset_check(pkg, f).is_some()
                        && literal(pkg, f.ty.unwrapped(), &d.value).is_none()
                    {
                        let mut missing = Vec::new();
                        f.ty.walk(&mut |ft| {
                            if let FieldType::Local(n) = ft
                                && pkg
                                    .type_named(n)
                                    .is_some_and(|l| !l.implements("Deserialize"))
                                && !missing.contains(n)
                            {
                                missing.push(n.clone());
                            }
                        });
                        if let Some(n) = missing.first() {
                            diags.push(
                                Diagnostic::error(
                                    "E0603",
                                    format!("the `+default` of `{}.{}` needs `{n}` to implement `Deserialize`", t.name, f.name),
                                )
                                .at(d.span, "read from its JSON by the type's serde")
                                .help(format!("derive `Deserialize` for `{n}`, or set the value in `pub fn {}(obj: &mut {})`", hand_written_name(t), ident(&t.name))),
                            );
                        }
                    }
                    if let Some(d) = &f.options.default
                        && let Some(zero) = overwritten_zero(&f.ty, &d.value)
                    {
                        diags.push(
                            Diagnostic::warning(
                                "W0605",
                                format!("an explicit {zero} in `{}.{}` is taken for unset and replaced by its `+default`", t.name, f.name),
                            )
                            .at(d.span, "the field is not an `Option`")
                            .note("defaulter-gen, like Go's for a non-pointer field, cannot tell a value a client sent from an unset one when it is the zero value")
                            .help(format!("make the field an `Option<…>` (a pointer in Go's API conventions for fields with defaults), or set it in `pub fn {}(obj: &mut {})`", hand_written_name(t), ident(&t.name))),
                        );
                    }
                    if let Some(d) = &f.options.default
                        && mode(t) != Some(DefaulterMode::Covers)
                        && let Some(path) = default_reaches_itself(pkg, t, f, &d.value)
                    {
                        diags.push(
                            Diagnostic::error(
                                "E0607",
                                format!("the `+default` of `{}.{}` is applied again inside itself, without end", t.name, f.name),
                            )
                            .at(d.span, "this value is defaulted in turn")
                            .note(format!(
                                "defaulting the value reaches `{}` unset, which gets this default again, and so on: `set_defaults` would overflow the stack on the first object decoded (the API server defaults every one)",
                                path.join(".")
                            ))
                            .help("drop this `+default` (the fields inside keep theirs), or give it a value without elements of the field's own type in its lists: a value that sets the field holds it unset one level down"),
                        );
                    }
                    if let Some(d) = &f.options.default
                        && unset_check(pkg, f).is_none()
                    {
                        diags.push(
                            Diagnostic::warning(
                                "W0601",
                                format!("the `+default` of `{}.{}` is published in OpenAPI but not applied", t.name, f.name),
                            )
                            .at(d.span, "defaulter-gen cannot tell this field unset")
                            .note("a default applies to an unset field: `None`, an empty string, zero, an empty list or map, or a struct equal to its type's `Default` (a struct of the package deriving `Default` and `PartialEq`); an enum's `Default` is one of its values")
                            .help(format!("make the field an `Option<…>`, or set it in `pub fn {}(obj: &mut {})`", hand_written_name(t), ident(&t.name))),
                        );
                    }
                }
            }
        }
        diags
    }

    fn generate_package(&self, model: &Model, pkg: &Package, opts: &Options) -> Vec<GeneratedFile> {
        if !enabled(pkg) {
            return Vec::new();
        }
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Rust(package(model, pkg, opts)),
        }]
    }
}

fn hand_written_name(t: &TypeDef) -> String {
    format!("set_defaults_{}", naming::snake_case(&t.name))
}

fn fields(t: &TypeDef) -> &[Field] {
    t.fields()
}

fn mode(t: &TypeDef) -> Option<DefaulterMode> {
    t.options.defaulter.as_ref().map(|d| d.value)
}

/// Which types of a package have defaults anywhere inside them (following types of other
/// versions its types hold, whose defaults files implement `SetDefaults` for them).
struct Analysis<'a> {
    model: &'a Model,
    pkg: &'a Package,
    /// By package (its address, as types of several versions are analysed together), then
    /// type name.
    memo: BTreeMap<usize, BTreeMap<String, bool>>,
    visiting: BTreeSet<(usize, String)>,
}

impl<'a> Analysis<'a> {
    fn new(model: &'a Model, pkg: &'a Package) -> Self {
        Analysis {
            model,
            pkg,
            memo: BTreeMap::new(),
            visiting: BTreeSet::new(),
        }
    }

    fn has_defaults(&mut self, name: &str) -> bool {
        self.has_defaults_in(self.pkg, name)
    }

    fn has_defaults_in(&mut self, pkg: &'a Package, name: &str) -> bool {
        let at = std::ptr::from_ref(pkg) as usize;
        if let Some(v) = self.memo.get(&at).and_then(|m| m.get(name)) {
            return *v;
        }
        let key = (at, name.to_string());
        // A recursive type: its other fields decide.
        if !self.visiting.insert(key.clone()) {
            return false;
        }
        let result = match pkg.type_named(name) {
            None => false,
            Some(t) if mode(t) == Some(DefaulterMode::Off) || t.has_generics => false,
            Some(t) => {
                let hand = pkg.function_named(&hand_written_name(t)).is_some();
                hand || (mode(t) != Some(DefaulterMode::Covers)
                    && (fields(t).iter().any(|f| f.options.default.is_some())
                        || fields(t).iter().any(|f| self.nested_in(pkg, &f.ty))
                        || tuple_types(t).iter().any(|ty| self.nested_in(pkg, ty))
                        || variant_types(t).any(|ty| self.nested_in(pkg, ty))))
            }
        };
        self.visiting.remove(&key);
        self.memo.entry(at).or_default().insert(key.1, result);
        result
    }

    /// Whether a field of this type holds an object with defaults that `SetDefaults` can reach.
    fn nested(&mut self, ty: &FieldType) -> bool {
        self.nested_in(self.pkg, ty)
    }

    /// [`Analysis::nested`] for a field of a type of `pkg`: a type of `pkg`, or of another
    /// version whose defaults file implements `SetDefaults` for it.
    fn nested_in(&mut self, pkg: &'a Package, ty: &FieldType) -> bool {
        match ty {
            FieldType::Option(t) | FieldType::Box(t) | FieldType::Vec(t) => self.nested_in(pkg, t),
            FieldType::Map { value, .. } => self.nested_in(pkg, value),
            FieldType::Local(n) => self.has_defaults_in(pkg, n),
            FieldType::Foreign { path, args } if args.is_empty() => {
                match self.model.sibling_type(pkg, path) {
                    Some((sibling, t)) if enabled(sibling) => {
                        self.has_defaults_in(sibling, &t.name)
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// The types of a tuple struct's fields (`pub struct Pair(pub A, pub Option<B>)`; none for other
/// shapes): defaults inside them are applied through `self.0`, `self.1`, ...
fn tuple_types(t: &TypeDef) -> &[FieldType] {
    match &t.body {
        TypeBody::Tuple(types) => types,
        _ => &[],
    }
}

/// The types an enum's variants hold (none for a struct): defaults inside them are applied
/// through the variant that holds them.
fn variant_types(t: &TypeDef) -> impl Iterator<Item = &FieldType> {
    let variants: &[Variant] = match &t.body {
        TypeBody::Enum(variants) => variants,
        _ => &[],
    };
    variants
        .iter()
        .flat_map(|v| -> Box<dyn Iterator<Item = &FieldType>> {
            match &v.shape {
                VariantShape::Unit => Box::new(std::iter::empty()),
                VariantShape::Tuple(types) => Box::new(types.iter()),
                VariantShape::Struct(fields) => Box::new(fields.iter().map(|f| &f.ty)),
            }
        })
}

/// `match self { … }` applying the defaults inside whichever variant an enum holds (`if let`
/// when one variant alone holds any, as clippy's `single_match` wants); `None` when no variant
/// holds anything with defaults.
fn variant_defaults(
    t: &TypeDef,
    analysis: &mut Analysis,
    scheme: &TokenStream,
) -> Option<TokenStream> {
    let TypeBody::Enum(variants) = &t.body else {
        return None;
    };
    let mut arms = Vec::new();
    for v in variants {
        let name = ident(&v.name);
        match &v.shape {
            VariantShape::Unit => {}
            VariantShape::Tuple(types) => {
                let bound: Vec<Option<proc_macro2::Ident>> = types
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| analysis.nested(ty).then(|| ident(&format!("v{i}"))))
                    .collect();
                if bound.iter().all(Option::is_none) {
                    continue;
                }
                let patterns = bound.iter().map(|b| match b {
                    Some(id) => quote!(#id),
                    None => quote!(_),
                });
                let calls = bound.iter().flatten();
                arms.push((
                    quote!(Self::#name(#(#patterns),*)),
                    quote!(#(#scheme::SetDefaults::set_defaults(#calls);)*),
                ));
            }
            VariantShape::Struct(fields) => {
                let nested: Vec<proc_macro2::Ident> = fields
                    .iter()
                    .filter(|f| analysis.nested(&f.ty))
                    .map(field_ident)
                    .collect();
                if nested.is_empty() {
                    continue;
                }
                arms.push((
                    quote!(Self::#name { #(#nested,)* .. }),
                    quote!(#(#scheme::SetDefaults::set_defaults(#nested);)*),
                ));
            }
        }
    }
    let every_variant = arms.len() == variants.len();
    match arms.as_slice() {
        [] => None,
        [(pattern, calls)] if !every_variant => Some(quote! {
            if let #pattern = self {
                #calls
            }
        }),
        _ => {
            let arms = arms
                .iter()
                .map(|(pattern, calls)| quote!(#pattern => { #calls }));
            // A catch-all only where some variant has no arm (one more would be unreachable).
            let rest = (!every_variant).then(|| quote!(_ => {}));
            Some(quote! {
                match self {
                    #(#arms)*
                    #rest
                }
            })
        }
    }
}

/// The defaults file of one version (of `model`, whose other versions' types its types may
/// hold).
pub fn package(model: &Model, pkg: &Package, opts: &Options) -> TokenStream {
    let scheme = opts.crates.scheme.to_tokens();
    let mut analysis = Analysis::new(model, pkg);
    let mut impls = Vec::new();
    for t in &pkg.types {
        if t.has_generics || mode(t) == Some(DefaulterMode::Off) {
            continue;
        }
        // Every kind gets an impl (a no-op when it has no defaults), so a registry can default
        // any kind; other types only when they have something to do.
        if t.resource.is_none() && !analysis.has_defaults(&t.name) {
            continue;
        }
        let ty = type_path(pkg, &t.name);
        let mut body = Vec::new();
        // The fields recursed into, while that is all the impl does: then it is one line.
        let mut only_fields = Some(Vec::new());
        if let Some(f) = pkg.function_named(&hand_written_name(t)) {
            let segments = f
                .module
                .iter()
                .map(|m| ident(m))
                .chain(std::iter::once(ident(&f.name)));
            body.push(quote!(self #(:: #segments)*(self);));
            only_fields = None;
        }
        if mode(t) != Some(DefaulterMode::Covers) {
            for f in fields(t) {
                let id = field_ident(f);
                if let Some(d) = &f.options.default
                    && let Some(unset) = unset_check(pkg, f)
                {
                    let field = format!("{}.{}", t.name, f.name);
                    let value = default_value(pkg, &f.ty, &d.value, quote!(self.#id), &field, opts);
                    body.push(quote! {
                        if #unset {
                            #value
                        }
                    });
                    only_fields = None;
                }
                if analysis.nested(&f.ty) {
                    body.push(quote!(#scheme::SetDefaults::set_defaults(&mut self.#id);));
                    if let Some(fields) = &mut only_fields {
                        fields.push(id);
                    }
                }
            }
            for (i, ty) in tuple_types(t).iter().enumerate() {
                if analysis.nested(ty) {
                    let idx = proc_macro2::Literal::usize_unsuffixed(i);
                    body.push(quote!(#scheme::SetDefaults::set_defaults(&mut self.#idx);));
                    only_fields = None;
                }
            }
            if let Some(variants) = variant_defaults(t, &mut analysis, &scheme) {
                body.push(variants);
                only_fields = None;
            }
        }
        // Like deepcopy-gen's `deep_clone!`: the runtime's macro writes the obvious impl (and the
        // formatter need not parse one).
        if let Some(fields) = only_fields {
            impls.push(quote!(#scheme::default_fields!(#ty { #(#fields),* });));
            continue;
        }
        impls.push(quote! {
            impl #scheme::SetDefaults for #ty {
                fn set_defaults(&mut self) {
                    #(#body)*
                }
            }
        });
    }
    let kinds: Vec<TokenStream> = pkg
        .roots()
        .filter(|(t, _)| mode(t) != Some(DefaulterMode::Off) && !t.has_generics)
        .map(|(t, _)| type_path(pkg, &t.name))
        .collect();
    let register_doc = format!(
        " Registers the defaulting of every kind of `{}` in a scheme.",
        pkg.display_name()
    );
    // A package without kinds registers nothing: its parameter is unused.
    let param = if kinds.is_empty() {
        quote::format_ident!("_scheme")
    } else {
        quote::format_ident!("scheme")
    };
    let allow = kube_codegen_model::output::allow_unused();
    quote! {
        #(#impls)*
        #[doc = #register_doc]
        #allow
        pub fn register_defaults(#param: &mut #scheme::Scheme) {
            #(scheme.add_defaults::<#kinds>();)*
        }
    }
}

fn field_ident(f: &Field) -> proc_macro2::Ident {
    if f.raw {
        proc_macro2::Ident::new_raw(&f.name, proc_macro2::Span::call_site())
    } else {
        ident(&f.name)
    }
}

/// Whether applying `field`'s `+default` (`value`, on `owner`) reaches that same field unset
/// again once the new value is defaulted in turn (`Tree { +default={"name":"root"} child:
/// Option<Box<Tree>> }`: the new child's `child` is unset, so it gets the default, …): the
/// path from `owner` to where it does (`Tree.child.child`). Walked with the value, as generated
/// code does: an `Option` the value leaves out stays `None` and is not entered, a list holds
/// the value's elements only.
fn default_reaches_itself(
    pkg: &Package,
    owner: &TypeDef,
    field: &Field,
    value: &Value,
) -> Option<Vec<String>> {
    let mut walk = DefaultWalk {
        pkg,
        target: (owner.name.as_str(), field.name.as_str()),
        applying: vec![(owner.name.as_str(), field.name.as_str())],
        path: vec![owner.name.clone(), field.name.clone()],
        walked_absent: BTreeSet::new(),
    };
    walk.reaches(&field.ty, Some(value), 0).then_some(walk.path)
}

/// The state of [`default_reaches_itself`]'s walk through a default's value.
struct DefaultWalk<'p> {
    pkg: &'p Package,
    /// The field whose default is followed.
    target: (&'p str, &'p str),
    /// Defaults being applied on the way (another one's cycle is reported at its own field).
    applying: Vec<(&'p str, &'p str)>,
    /// Field names from the owner to where the walk is.
    path: Vec<String>,
    /// Types walked as absent (their `Default`): every such walk is the same.
    walked_absent: BTreeSet<&'p str>,
}

impl<'p> DefaultWalk<'p> {
    /// Whether defaulting a `ty` read from `value` (`None`: absent, its `Default`) reaches the
    /// target field unset.
    fn reaches(&mut self, ty: &'p FieldType, value: Option<&'p Value>, depth: usize) -> bool {
        // A type holding itself without an `Option` or a list has no value; stop somewhere.
        if depth > 64 {
            return false;
        }
        match ty {
            FieldType::Option(inner) => match value {
                None | Some(Value::Null) => false,
                Some(_) => self.reaches(inner, value, depth + 1),
            },
            FieldType::Box(inner) => self.reaches(inner, value, depth + 1),
            FieldType::Vec(elem) | FieldType::Set { elem, .. } => match value {
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|item| self.reaches(elem, Some(item), depth + 1)),
                _ => false,
            },
            FieldType::Map { value: v, .. } => match value {
                Some(Value::Object(m)) => m
                    .values()
                    .any(|item| self.reaches(v, Some(item), depth + 1)),
                _ => false,
            },
            FieldType::Local(name) => {
                let Some(t) = self.pkg.type_named(name) else {
                    return false;
                };
                if t.has_generics
                    || matches!(mode(t), Some(DefaulterMode::Off | DefaulterMode::Covers))
                    || (value.is_none() && !self.walked_absent.insert(t.name.as_str()))
                {
                    return false;
                }
                for g in fields(t).iter().filter(|g| !g.serde.skip) {
                    let held = if g.serde.flatten {
                        value
                    } else {
                        value.and_then(|v| v.get(&g.wire))
                    };
                    self.path.push(g.name.clone());
                    let found = match &g.options.default {
                        Some(d) if is_unset(&g.ty, held) && unset_check(self.pkg, g).is_some() => {
                            let here = (t.name.as_str(), g.name.as_str());
                            if here == self.target {
                                return true;
                            }
                            if self.applying.contains(&here) {
                                false
                            } else {
                                self.applying.push(here);
                                let found = self.reaches(&g.ty, Some(&d.value), depth + 1);
                                self.applying.pop();
                                found
                            }
                        }
                        _ => self.reaches(&g.ty, held, depth + 1),
                    };
                    if found {
                        return true;
                    }
                    self.path.pop();
                }
                false
            }
            _ => false,
        }
    }
}

/// Whether a field holding `value` (`None`: absent) is unset to generated defaults: `None`,
/// or its type's zero value.
fn is_unset(ty: &FieldType, value: Option<&Value>) -> bool {
    match (ty, value) {
        (_, None | Some(Value::Null)) => true,
        (FieldType::String, Some(Value::String(s))) => s.is_empty(),
        (FieldType::Vec(_) | FieldType::Set { .. }, Some(Value::Array(a))) => a.is_empty(),
        (FieldType::Map { .. }, Some(Value::Object(m))) => m.is_empty(),
        _ => false,
    }
}

/// The condition under which a field is unset, or `None` when it cannot be told.
fn unset_check(pkg: &Package, f: &Field) -> Option<TokenStream> {
    let id = field_ident(f);
    Some(match &f.ty {
        // An enum's `Default` is one of its values, which a client may have sent: only a struct
        // equal to its `Default` (Go's zero value) counts as unset.
        FieldType::Local(n)
            if pkg.type_named(n).is_some_and(|t| {
                !matches!(t.body, TypeBody::Enum(_))
                    && t.implements("Default")
                    && t.implements("PartialEq")
            }) =>
        {
            quote!(self.#id == ::core::default::Default::default())
        }
        FieldType::Option(_) => quote!(self.#id.is_none()),
        FieldType::String | FieldType::Vec(_) | FieldType::Map { .. } | FieldType::Set { .. } => {
            quote!(self.#id.is_empty())
        }
        FieldType::Int(_) => quote!(self.#id == 0),
        FieldType::Float(_) => quote!(self.#id == 0.0),
        FieldType::Bool => quote!(!self.#id),
        _ => return None,
    })
}

/// What a client may send in a non-`Option` field that its `+default` would replace: the
/// zero value of a scalar or an empty collection, when the default is not that zero itself.
fn overwritten_zero(ty: &FieldType, default: &Value) -> Option<&'static str> {
    match (ty, default) {
        (FieldType::Bool, Value::Bool(true)) => Some("`false`"),
        (FieldType::Int(_) | FieldType::Float(_), Value::Number(n)) if n.as_f64() != Some(0.0) => {
            Some("`0`")
        }
        (FieldType::String, Value::String(s)) if !s.is_empty() => Some("empty string"),
        (FieldType::Vec(_) | FieldType::Set { .. }, Value::Array(a)) if !a.is_empty() => {
            Some("empty list")
        }
        (FieldType::Map { .. }, Value::Object(m)) if !m.is_empty() => Some("empty map"),
        _ => None,
    }
}

/// The statement that sets the default `value` on `field` (of type `ty`, named `name` in a
/// panic of `default_from_json`): reached only through `unset_check`, so `ty` is an `Option`,
/// a scalar or a collection.
fn default_value(
    pkg: &Package,
    ty: &FieldType,
    value: &Value,
    field: TokenStream,
    name: &str,
    opts: &Options,
) -> TokenStream {
    let (inner, wrap) = match ty {
        FieldType::Option(inner) => (&**inner, true),
        other => (other, false),
    };
    let value = match literal(pkg, inner, value) {
        Some(lit) => lit,
        None => {
            let ty = field_type_tokens(pkg, inner, opts);
            let json = value.to_string();
            let scheme = opts.crates.scheme.to_tokens();
            quote!(#scheme::default_from_json::<#ty>(#json, #name))
        }
    };
    if wrap {
        quote!(#field = ::core::option::Option::Some(#value);)
    } else {
        quote!(#field = #value;)
    }
}

/// A Rust literal for a scalar, string or string-enum default.
fn literal(pkg: &Package, ty: &FieldType, value: &Value) -> Option<TokenStream> {
    match (ty, value) {
        (FieldType::String, Value::String(s)) => Some(quote!(::std::string::String::from(#s))),
        (FieldType::Bool, Value::Bool(b)) => Some(quote!(#b)),
        (FieldType::Int(_), Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                let lit = Literal::u64_unsuffixed(u);
                Some(quote!(#lit))
            } else {
                let i = n.as_i64()?;
                let lit = Literal::u64_unsuffixed(i.unsigned_abs());
                Some(quote!(-#lit))
            }
        }
        (FieldType::Float(_), Value::Number(n)) => {
            let f = n.as_f64()?;
            let lit = Literal::f64_unsuffixed(f.abs());
            Some(if f < 0.0 { quote!(-#lit) } else { quote!(#lit) })
        }
        (FieldType::Local(name), Value::String(s)) => {
            let t = pkg.type_named(name)?;
            let TypeBody::Enum(variants) = &t.body else {
                return None;
            };
            let v = variants
                .iter()
                .find(|v| v.wire == *s && matches!(v.shape, VariantShape::Unit))?;
            let path = type_path(pkg, name);
            let variant = ident(&v.name);
            Some(quote!(#path::#variant))
        }
        _ => None,
    }
}
