//! conversion-gen: conversions between each external version and its internal hub.
//!
//! For every type of a version package tagged `+k8s:conversion-gen=<hub module>` that has a
//! type of the same name in the hub, it implements `kube_codegen_scheme::ConvertHub` both ways:
//! field by field where names and types match (recursively through `Option`, `Box`, `Vec`, maps,
//! sets, enums and other converted types). Where they do not — a field renamed, added or
//! dropped — it does not guess: the direction is delegated to a hand-written
//! `convert_<type>_to_hub` / `convert_<type>_from_hub` found by name in the package, and when
//! that function does not exist the run stops with a diagnostic naming each field, its location
//! and the exact signature to write. A generated `auto_convert_<type>_{to,from}_hub(input, out)`
//! converts the fields that do match, for the hand-written function to call.
//!
//! Output: `<version>/zz_generated.conversion.rs`, included by the version's module. Hub types
//! are named `super::…` (a version's module is a child of its hub's).

use kube_codegen_model::output::{
    Content, GeneratedFile, Generator, Options, Placement, ident, type_path,
};
use kube_codegen_model::path::RustPath;
use kube_codegen_model::{
    ConversionTag, Diagnostic, Field, FieldType, Function, Model, Package, Span, TypeBody, TypeDef,
    TypeVisibility, VariantShape, naming,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::{BTreeSet, HashMap};

pub const NAME: &str = "conversion-gen";
pub const FILE: &str = "zz_generated.conversion.rs";

pub struct ConversionGen;

impl Generator for ConversionGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate_package(&self, model: &Model, pkg: &Package) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let Some(tag) = pkg.options.conversion.as_ref() else {
            return diags;
        };
        if pkg.is_internal() || tag.value == ConversionTag::Off {
            return diags;
        }
        let Some(hub) = hub_of(model, pkg) else {
            diags.push(
                    Diagnostic::error(
                        "E0503",
                        format!("{} converts through a hub, but its group has none", pkg.display_name()),
                    )
                    .at(tag.span, "no internal package to convert through")
                    .help("the hub is the group's own module (`<group>/mod.rs` with the hub's types): add it, or remove the tag"),
                );
            return diags;
        };
        // The tag names the hub: `super` from a version's module (any other relative path
        // names something else: `self` is the version, `super::super` the group's parent), or
        // the hub's `crate::` path.
        if let ConversionTag::Through(path) = &tag.value {
            let mismatch = if path.global {
                None
            } else if path.first() != "crate" {
                (path.segments != ["super"]).then(|| {
                    (
                        "from this version's module, the hub is `super`".to_string(),
                        "write `//! +k8s:conversion-gen=super`, or the hub module's `crate::` path"
                            .to_string(),
                    )
                })
            } else {
                hub.rust_path.as_ref().and_then(|hub_path| {
                    let tag_rel: Vec<&str> =
                        path.segments.iter().skip(1).map(String::as_str).collect();
                    let hub_rel: Vec<&str> = hub_path.split("::").skip(1).collect();
                    let hub_crate_path: String =
                        hub_rel.iter().map(|s| format!("::{s}")).collect();
                    (tag_rel != hub_rel).then(|| {
                        (
                            format!("the hub is `crate{hub_crate_path}`"),
                            format!(
                                "write `//! +k8s:conversion-gen=crate{hub_crate_path}`: the group's hub module"
                            ),
                        )
                    })
                })
            };
            if let Some((label, help)) = mismatch {
                diags.push(
                    Diagnostic::error(
                        "E0503",
                        format!(
                            "`+k8s:conversion-gen={path}` does not name the hub of {}",
                            pkg.display_name()
                        ),
                    )
                    .at(tag.span, label)
                    .help(help),
                );
            }
        }
        // A kind the hub does not declare converts to nothing: `register_conversions` leaves
        // it out, and a server serving this version through the hub does not serve it.
        for kind in pkg.types.iter().filter(|t| {
            t.resource.is_some()
                && t.options
                    .conversion
                    .as_ref()
                    .is_none_or(|c| c.value != ConversionTag::Off)
        }) {
            let missing = match hub.type_named(&kind.name) {
                None => "the hub declares no type of this name",
                Some(h) if h.has_generics || kind.has_generics => "a generic type is not converted",
                Some(_) => continue,
            };
            diags.push(
                Diagnostic::warning(
                    "W0506",
                    format!(
                        "kind `{}` of {} has no counterpart in the hub",
                        kind.name,
                        pkg.display_name()
                    ),
                )
                .at(kind.span, missing)
                .note("`register_conversions` leaves it out: a scheme reading and writing this version through the hub, and a server serving it, know nothing of it")
                .help(format!(
                    "declare `{}` in the hub (the group's module), or opt it out with `+k8s:conversion-gen=false` on the kind",
                    kind.name
                )),
            );
        }
        // Conversion functions are named after the snake case of their type: two types of one
        // snake case (`HTTPRoute`, `HttpRoute`) would define one function twice.
        let plans = plans(pkg, hub, &quote!(::kube_codegen_scheme));
        let mut by_function: std::collections::BTreeMap<String, Vec<&TypeDef>> = Default::default();
        for plan in &plans {
            by_function
                .entry(naming::snake_case(&plan.ext.name))
                .or_default()
                .push(plan.ext);
        }
        for (snake, types) in by_function.iter().filter(|(_, t)| t.len() > 1) {
            let names: Vec<String> = types.iter().map(|t| format!("`{}`", t.name)).collect();
            let mut d = Diagnostic::error(
                "E0507",
                format!(
                    "{} would share the conversion functions `convert_{snake}_to_hub` and `convert_{snake}_from_hub`",
                    names.join(" and ")
                ),
            )
            .at(types[1].span, "its functions are named like another type's");
            for t in types.iter().take(1) {
                d = d.also(t.span, "this type's");
            }
            diags.push(d.help(
                "rename one of the types (in the hub too), or opt one out with `+k8s:conversion-gen=false` and convert it by hand where it is held",
            ));
        }
        for plan in plans {
            // Conversions (and the `auto_convert_*` helpers of hand-written ones) read and write
            // the fields of both sides.
            diags.extend(plan.ext.unreachable_member_errors(NAME));
            diags.extend(plan.hub.unreachable_member_errors(NAME));
            // Both sides are named: the version's in its module, the hub's from there.
            diags.extend(plan.ext.unnameable_error());
            diags.extend(plan.hub.unnameable_error());
            // `impl ConvertHub for Ext { type Hub = Hub; }`: rustc's E0446 when `Ext` is `pub`
            // and `Hub` is not.
            if plan.ext.visibility == TypeVisibility::Public
                && plan.hub.visibility != TypeVisibility::Public
                && plan.hub.nameable_in_package()
            {
                diags.push(
                    Diagnostic::error(
                        "E0112",
                        format!(
                            "generated code cannot convert `{}` of {} through the hub's `{}`, which is not `pub`",
                            plan.ext.name,
                            pkg.display_name(),
                            plan.hub.name
                        ),
                    )
                    .at(plan.hub.span, "not `pub`")
                    .also(plan.ext.span, "`pub`")
                    .note(format!(
                        "the generated `impl ConvertHub for {}` names `{}` as its `Hub`, and a `pub` type's impl cannot name a less visible type (rustc's E0446)",
                        plan.ext.name, plan.hub.name
                    ))
                    .help(format!("make the hub's `{}` `pub`", plan.hub.name)),
                );
            }
            // The generated `impl ConvertHub` would be a second one (rustc's E0119).
            if let Some(found) = kube_codegen_model::hand_written_impl(
                plan.ext,
                &["kube_codegen_scheme", "ConvertHub"],
            ) {
                diags.push(
                    Diagnostic::error(
                        "E0302",
                        format!(
                            "`{}` implements `{}` by hand",
                            plan.ext.name,
                            found.path.segments.join("::")
                        ),
                    )
                    .at(found.span, "implemented again by generated code")
                    .note(format!(
                        "conversion-gen writes `ConvertHub` for every type of {} with a counterpart in the hub (rustc's E0119 on two impls)",
                        pkg.display_name()
                    ))
                    .help(format!(
                        "write the conversions as `pub fn {}` and `pub fn {}` instead, which the generated impl calls; or opt the type out with `/// +k8s:conversion-gen=false`",
                        plan.to_hub.fn_name, plan.from_hub.fn_name
                    )),
                );
            }
            for dir in [&plan.to_hub, &plan.from_hub] {
                if let Some(d) = dir.diagnostic(pkg, hub, plan.ext, plan.hub) {
                    diags.push(d);
                }
            }
        }
        diags
    }

    fn generate_package(&self, model: &Model, pkg: &Package, opts: &Options) -> Vec<GeneratedFile> {
        let Some(tag) = &pkg.options.conversion else {
            return Vec::new();
        };
        if pkg.is_internal() || tag.value == ConversionTag::Off {
            return Vec::new();
        }
        let Some(hub) = hub_of(model, pkg) else {
            return Vec::new();
        };
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Rust(package(pkg, hub, opts)),
        }]
    }
}

/// The hub of a version: the internal package of its group directory.
pub fn hub_of<'a>(model: &'a Model, pkg: &Package) -> Option<&'a Package> {
    let group_dir = pkg.dir.parent()?;
    model
        .packages
        .iter()
        .find(|p| p.input == pkg.input && p.is_internal() && p.dir == group_dir)
}

/// How one type converts, both ways.
struct Plan<'a> {
    ext: &'a TypeDef,
    hub: &'a TypeDef,
    to_hub: Direction,
    from_hub: Direction,
}

/// One direction of a conversion.
struct Direction {
    to_hub: bool,
    /// The body of the conversion when it needs no hand: an expression of the target type.
    auto: Option<TokenStream>,
    /// `out.field = <expr>;` for every field that converts (structs only).
    assignments: Vec<TokenStream>,
    /// What keeps the direction from being generated: (where, why).
    problems: Vec<(Span, String)>,
    /// Fields of the source the `auto_convert_*` helper cannot carry over, which the hand-written
    /// function has to: (where, the field, why).
    manual: Vec<(Span, String, String)>,
    /// The hand-written function, when the package has one.
    hand_written: Option<TokenStream>,
    /// Its name.
    fn_name: String,
    /// Whether the types are structs with named fields (an `auto_convert_*` helper applies).
    structs: bool,
}

impl Direction {
    /// Why the hand-written `f`'s input or output names the type of the wrong side (this
    /// version's `Spec` where the hub's belongs, or the reverse), as far as its paths tell.
    fn wrong_side(&self, pkg: &Package, hub: &Package, f: &Function, name: &str) -> Option<String> {
        let from: Vec<String> = pkg.module.iter().chain(&f.module).cloned().collect();
        let side = |path: &RustPath| {
            let (module, found) = path_declared_at(pkg, &from, path)?;
            if found != name {
                return None;
            }
            if module == pkg.module {
                Some("this version's")
            } else if module == hub.module {
                Some("the hub's")
            } else {
                None
            }
        };
        let (input_side, output_side) = if self.to_hub {
            ("this version's", "the hub's")
        } else {
            ("the hub's", "this version's")
        };
        let check = |path: Option<&RustPath>, role: &str, want: &str| {
            let path = path?;
            let got = side(path)?;
            (got != want).then(|| {
                format!(
                    "its {role} type `{}` names {got} `{name}`, where {want} belongs",
                    path.segments.join("::")
                )
            })
        };
        check(f.input.as_ref(), "input", input_side)
            .or_else(|| check(f.output.as_ref(), "output", output_side))
    }

    /// The error for a direction that needs a hand-written function the package lacks.
    fn diagnostic(
        &self,
        pkg: &Package,
        hub: &Package,
        ext: &TypeDef,
        hub_ty: &TypeDef,
    ) -> Option<Diagnostic> {
        // A hand-written function generated code will call: one input, a `Result` out (else
        // rustc's error would point into the generated file).
        if self.hand_written.is_some()
            && let Some(f) = pkg.function_named(&self.fn_name)
        {
            let wrong_side = self.wrong_side(pkg, hub, f, &ext.name);
            if f.params != 1
                || f.borrows_input
                || f.returns.as_deref().is_none_or(|r| !r.ends_with("Result"))
                || wrong_side.is_some()
            {
                // Written from the function's own module (`conversion.rs` is a child of the
                // package module): a path from the package module goes up as many levels.
                let from_here = |path: String| {
                    if path.starts_with("crate::") || path.starts_with("::") {
                        path
                    } else {
                        format!("{}{path}", "super::".repeat(f.module.len()))
                    }
                };
                let (input, output) = self.signature_types(pkg, ext, hub_ty);
                let (input, output) = (from_here(input), from_here(output));
                // A warning: a `Result` behind an alias of another name is a right signature.
                let mut d = Diagnostic::warning(
                    "W0504",
                    format!(
                        "`{}` does not have the signature generated code calls",
                        self.fn_name
                    ),
                )
                .at(f.span, "called as `convert(input)?`, with the input moved in")
                .help(format!(
                    "write it as `pub fn {}(input: {input}) -> Result<{output}, kube_codegen_scheme::ConversionError>`",
                    self.fn_name
                ));
                d = match wrong_side {
                    Some(why) => d.note(why),
                    None => d.note("conversions take their input by value, as `From` does: what is the same on both sides moves across without a copy"),
                };
                return Some(d);
            }
        }
        // A field the generated helper leaves out that no hand-written conversion of this
        // direction names is most likely dropped (Go's conversion-gen leaves a `WARNING: …
        // requires manual conversion` comment in the generated code for these). The enclosing
        // type's function counts: a kind's conversion keeps what its spec's cannot hold in an
        // annotation.
        if self.hand_written.is_some()
            && let Some(f) = pkg.function_named(&self.fn_name)
        {
            // This type's function, and those of the types that hold it (on either side,
            // however deep): the functions a field of it can be carried by.
            let suffix = if self.to_hub { "_to_hub" } else { "_from_hub" };
            let carriers: BTreeSet<String> = holders(&[pkg, hub], &ext.name)
                .iter()
                .map(|t| format!("convert_{}{suffix}", naming::snake_case(t)))
                .collect();
            let mentioned = |field: &str| {
                pkg.functions
                    .iter()
                    .any(|g| carriers.contains(&g.name) && g.body_idents.contains(field))
            };
            let unmentioned: Vec<&(Span, String, String)> = self
                .manual
                .iter()
                .filter(|(_, field, _)| !mentioned(field))
                .collect();
            if unmentioned.is_empty() {
                return None;
            }
            let names: Vec<String> = unmentioned
                .iter()
                .map(|(_, n, _)| format!("`{n}`"))
                .collect();
            let from = if self.to_hub {
                "input"
            } else {
                "the hub's input"
            };
            let mut d = Diagnostic::warning(
                "W0505",
                format!(
                    "`{}` never mentions {}, which the generated conversion leaves out",
                    self.fn_name,
                    names.join(", ")
                ),
            )
            .at(f.span, "hand-written here");
            for (span, _, why) in &unmentioned {
                d = d.also(*span, why.clone());
            }
            let helper = self.fn_name.replacen("convert_", "auto_convert_", 1);
            return Some(
                d.note(format!(
                    "`{helper}` converts only the fields that match: the values of these in {from} are lost unless `{}` carries them",
                    self.fn_name
                ))
                .help("convert them in this function or the one of the type that holds it (an annotation keeps what the other side cannot hold), or name them there to show they are dropped on purpose"),
            );
        }
        if self.auto.is_some() || self.hand_written.is_some() {
            return None;
        }
        if let Some(f) = pkg.function_named(&self.fn_name) {
            return Some(
                Diagnostic::error(
                    "E0502",
                    format!("`{}` cannot be called by generated code", self.fn_name),
                )
                .at(
                    f.span,
                    if f.is_pub {
                        "in a module generated code in the package module cannot name"
                    } else {
                        "private to its module"
                    },
                )
                .help(if f.is_pub {
                    format!(
                        "make the modules it is declared in `pub(crate) mod` from the package module down, or declare `{}` in the package module or a file module it declares",
                        self.fn_name
                    )
                } else {
                    format!("make it `pub fn {}`", self.fn_name)
                }),
            );
        }
        let (from, to) = if self.to_hub {
            (pkg.display_name(), hub.display_name())
        } else {
            (hub.display_name(), pkg.display_name())
        };
        let hub_name = hub_type_path(pkg, hub_ty);
        let (input, output) = self.signature_types(pkg, ext, hub_ty);
        let mut d = Diagnostic::error(
            "E0501",
            format!(
                "`{}` cannot be converted from {from} to {to} field by field",
                ext.name
            ),
        )
        .at(ext.span, format!("needs a hand-written `{}`", self.fn_name));
        for (span, why) in &self.problems {
            d = d.also(*span, why.clone());
        }
        // Written, but under another name: the closest one is probably it (unless it is the
        // conversion of another type, which generated code calls too).
        let another_types = |name: &str| {
            pkg.types.iter().any(|t| {
                let snake = naming::snake_case(&t.name);
                name == format!("convert_{snake}_to_hub")
                    || name == format!("convert_{snake}_from_hub")
            })
        };
        if let Some(near) = pkg
            .function_like(&self.fn_name)
            .filter(|f| !another_types(&f.name))
        {
            d = d.also(
                near.span,
                format!(
                    "did you mean `{}`? generated code calls it by name",
                    self.fn_name
                ),
            );
        }
        // Written, but in a file of the package that rustc does not compile (W0115 says which
        // `mod` is missing).
        if let Some(unread) = pkg.unread_functions.iter().find(|f| f.name == self.fn_name) {
            d = d.also(
                unread.span,
                format!(
                    "`{}` is here, in a file no `mod` declares: rustc does not compile it",
                    self.fn_name
                ),
            );
        }
        // Written, but in the hub package: generated code calls it in the version's.
        if let Some(in_hub) = hub.function_named(&self.fn_name) {
            d = d.also(
                in_hub.span,
                format!(
                    "`{}` is here, in the hub package: generated code calls it in {}",
                    self.fn_name,
                    pkg.display_name()
                ),
            );
        }
        d = d.help(format!(
            "write in {}: `pub fn {}(input: {input}) -> Result<{output}, kube_codegen_scheme::ConversionError>`",
            pkg.display_name(),
            self.fn_name
        ));
        if self.structs {
            let helper = self.fn_name.replacen("convert_", "auto_convert_", 1);
            d = d.note(format!(
                "the generated `{helper}(input, &mut out)` moves and converts every field that matches; the function sets the rest, taking what it needs out of `input` first (`std::mem::take(&mut input.field)`) (the helper is in the package's own module: from a file of its own such as `conversion.rs` or `types.rs`, call `super::{helper}`)"
            ));
        }
        if hub_name.starts_with("super::") {
            d = d.note(format!(
                "`{hub_name}` as seen from the package's own module (its `mod.rs`); from a file of its own such as `conversion.rs`, the hub type is `super::{hub_name}`, or write the hub's `crate::` path in `+k8s:conversion-gen`"
            ));
        }
        Some(d.note("conversions go through the hub: every version converts to and from it, so any version converts to any other"))
    }
}

impl Direction {
    /// The input and output types of this direction's hand-written function, as written in it.
    fn signature_types(&self, pkg: &Package, ext: &TypeDef, hub_ty: &TypeDef) -> (String, String) {
        let hub_name = hub_type_path(pkg, hub_ty);
        // Printed as Rust: a raw identifier (`r#match`) keeps its `r#`.
        let ext_name = ident(&ext.name).to_string();
        if self.to_hub {
            (ext_name, hub_name)
        } else {
            (hub_name, ext_name)
        }
    }
}

/// The hub type's path for a hand-written function: absolute when `+k8s:conversion-gen` names the
/// hub by an absolute path (right from any file of the package), else from the package's module.
fn hub_type_path(pkg: &Package, hub_ty: &TypeDef) -> String {
    // Through the hub module's re-export (`pub use types::*;`) where there is one: the path a
    // user writes, not the private module the type is declared in.
    let module: Vec<&str> = hub_ty
        .public_module
        .as_ref()
        .unwrap_or(&hub_ty.module)
        .iter()
        .map(String::as_str)
        .collect();
    let through = pkg
        .options
        .conversion
        .as_ref()
        .and_then(|tag| match &tag.value {
            ConversionTag::Through(path) if path.global || path.first() == "crate" => Some(path),
            _ => None,
        });
    let prefix = match through {
        Some(path) => path.to_string(),
        None => "super".to_string(),
    };
    let name = ident(&hub_ty.name).to_string();
    std::iter::once(prefix.as_str())
        .chain(module)
        .chain(std::iter::once(name.as_str()))
        .collect::<Vec<_>>()
        .join("::")
}

/// Conversion plans for every type of `pkg` with a counterpart in `hub`.
fn plans<'a>(pkg: &'a Package, hub: &'a Package, scheme: &TokenStream) -> Vec<Plan<'a>> {
    let ctx = Ctx::new(pkg, hub, scheme.clone(), false);
    pkg.types
        .iter()
        .filter(|t| {
            !t.has_generics
                && t.options
                    .conversion
                    .as_ref()
                    .is_none_or(|c| c.value != ConversionTag::Off)
        })
        .filter_map(|ext| {
            let hub_ty = *ctx.hub_types.get(ext.name.as_str())?;
            if hub_ty.has_generics {
                return None;
            }
            let snake = naming::snake_case(&ext.name);
            let to_hub = direction(&ctx, ext, hub_ty, true, format!("convert_{snake}_to_hub"));
            let from_hub = direction(
                &ctx,
                ext,
                hub_ty,
                false,
                format!("convert_{snake}_from_hub"),
            );
            Some(Plan {
                ext,
                hub: hub_ty,
                to_hub,
                from_hub,
            })
        })
        .collect()
}

#[derive(Clone)]
struct Ctx<'a> {
    pkg: &'a Package,
    hub: &'a Package,
    /// The runtime crate's path (`::kube_codegen_scheme`).
    scheme: TokenStream,
    /// Whether to build the tokens of field-by-field conversions (analysis alone needs none:
    /// `validate` and the `convert_hub!` fast path skip them).
    emit: bool,
    /// The types of each side by name, looked up for every field of every type (the first
    /// declaration of a name, as `Package::type_named` finds it).
    ext_types: HashMap<&'a str, &'a TypeDef>,
    hub_types: HashMap<&'a str, &'a TypeDef>,
}

impl<'a> Ctx<'a> {
    fn new(pkg: &'a Package, hub: &'a Package, scheme: TokenStream, emit: bool) -> Self {
        let by_name = |p: &'a Package| {
            let mut types = HashMap::with_capacity(p.types.len());
            for t in &p.types {
                types.entry(t.name.as_str()).or_insert(t);
            }
            types
        };
        Ctx {
            pkg,
            hub,
            scheme,
            emit,
            ext_types: by_name(pkg),
            hub_types: by_name(hub),
        }
    }
}

impl Ctx<'_> {
    /// A type of the version, named from the version's module.
    fn ext_path(&self, name: &str) -> TokenStream {
        type_path(self.pkg, name)
    }

    /// A type of the hub, named from the version's module.
    fn hub_path(&self, name: &str) -> TokenStream {
        let module = self.hub_types.get(name).map_or(&[][..], |t| &t.module[..]);
        let segments = module
            .iter()
            .map(|m| ident(m))
            .chain(std::iter::once(ident(name)));
        quote!(super #(:: #segments)*)
    }

    /// Whether a type of this name converts (it exists on both sides and is not opted out).
    /// A type of the package `ty` holds that is opted out of conversion on either side
    /// (`+k8s:conversion-gen=false`): why a field of it is not converted.
    fn opted_out_in(&self, ty: &FieldType) -> Option<String> {
        let off = |p: &Package, n: &str| {
            p.type_named(n).is_some_and(|t| {
                t.options
                    .conversion
                    .as_ref()
                    .is_some_and(|c| c.value == ConversionTag::Off)
            })
        };
        let mut found = None;
        ty.walk(&mut |t| {
            if let FieldType::Local(n) = t
                && found.is_none()
                && (off(self.pkg, n) || off(self.hub, n))
            {
                found = Some(n.clone());
            }
        });
        found
    }

    fn converts(&self, name: &str) -> bool {
        self.ext_types.get(name).is_some_and(|t| {
            !t.has_generics
                && t.options
                    .conversion
                    .as_ref()
                    .is_none_or(|c| c.value != ConversionTag::Off)
        }) && self.hub_types.get(name).is_some_and(|t| !t.has_generics)
    }
}

fn direction(ctx: &Ctx, ext: &TypeDef, hub: &TypeDef, to_hub: bool, fn_name: String) -> Direction {
    let (src, dst) = if to_hub { (ext, hub) } else { (hub, ext) };
    let src_name = if to_hub { "this version" } else { "the hub" };
    let dst_name = if to_hub { "the hub" } else { "this version" };
    let dst_path = if !ctx.emit {
        TokenStream::new()
    } else if to_hub {
        ctx.hub_path(&hub.name)
    } else {
        ctx.ext_path(&ext.name)
    };
    let mut problems = Vec::new();
    let mut manual = Vec::new();
    let mut assignments = Vec::new();
    let mut structs = false;
    let auto = match (&src.body, &dst.body) {
        (TypeBody::Struct(sf), TypeBody::Struct(df)) => {
            structs = true;
            let mut inits = Vec::new();
            let mut complete = true;
            for (i, d) in df.iter().enumerate() {
                let Some(s) = counterpart(sf, i, &d.name) else {
                    problems.push((
                        d.span,
                        format!("`{}` has no counterpart in {src_name}", d.name),
                    ));
                    complete = false;
                    continue;
                };
                if !s.options.convert || !d.options.convert {
                    let f = if s.options.convert { d } else { s };
                    let why = format!(
                        "`{}` is converted by hand (`+k8s:conversion-gen=false`)",
                        f.name
                    );
                    manual.push((f.span, s.name.clone(), why.clone()));
                    problems.push((f.span, why));
                    complete = false;
                    continue;
                }
                match conv(ctx, &s.ty, &d.ty, to_hub) {
                    Some(_) if !ctx.emit => {}
                    Some(c) => {
                        let (id, sid) = (field_ident(d), field_ident(s));
                        let e = c.value(ctx, quote!(input.#sid));
                        assignments.push(quote!(out.#id = #e;));
                        inits.push(quote!(#id: #e));
                    }
                    None => {
                        let why = match ctx.opted_out_in(&s.ty) {
                            Some(t) => format!(
                                "`{}` holds `{t}`, which is opted out of conversion (`+k8s:conversion-gen=false`)",
                                s.name
                            ),
                            None => format!("`{}` has another type in {dst_name}", s.name),
                        };
                        manual.push((s.span, s.name.clone(), why.clone()));
                        problems.push((s.span, why));
                        complete = false;
                    }
                }
            }
            for (i, s) in sf.iter().enumerate() {
                if counterpart(df, i, &s.name).is_none() {
                    let why = format!("`{}` has no counterpart in {dst_name}", s.name);
                    manual.push((s.span, s.name.clone(), why.clone()));
                    problems.push((s.span, why));
                    complete = false;
                }
            }
            complete.then(|| quote!(#dst_path { #(#inits),* }))
        }
        (TypeBody::Tuple(st), TypeBody::Tuple(dt)) if st.len() == dt.len() => {
            let items: Option<Vec<TokenStream>> = st
                .iter()
                .zip(dt)
                .enumerate()
                .map(|(i, (s, d))| {
                    let idx = proc_macro2::Literal::usize_unsuffixed(i);
                    convert(ctx, s, d, to_hub, quote!(input.#idx))
                })
                .collect();
            if items.is_none() {
                problems.push((
                    src.span,
                    format!(
                        "the fields of `{}` have other types in {dst_name}",
                        src.name
                    ),
                ));
            }
            items.map(|items| quote!(#dst_path(#(#items),*)))
        }
        (TypeBody::Unit, TypeBody::Unit) => Some(quote!(#dst_path)),
        (TypeBody::Enum(sv), TypeBody::Enum(dv)) => {
            let src_path = if to_hub {
                ctx.ext_path(&ext.name)
            } else {
                ctx.hub_path(&hub.name)
            };
            let mut arms = Vec::new();
            let mut complete = true;
            for v in sv {
                let Some(d) = dv.iter().find(|d| d.name == v.name) else {
                    problems.push((
                        v.span,
                        format!("variant `{}` has no counterpart in {dst_name}", v.name),
                    ));
                    complete = false;
                    continue;
                };
                let name = ident(&v.name);
                match variant_arm(ctx, &v.shape, &d.shape, to_hub) {
                    Some((pattern, value)) => {
                        arms.push(quote!(#src_path::#name #pattern => #dst_path::#name #value))
                    }
                    None => {
                        problems.push((
                            v.span,
                            format!("variant `{}` has other fields in {dst_name}", v.name),
                        ));
                        // Named fields the other side's variant lacks: a hand-written
                        // conversion that never names them drops them (W0505).
                        if let (VariantShape::Struct(sf), VariantShape::Struct(df)) =
                            (&v.shape, &d.shape)
                        {
                            for f in sf.iter().filter(|f| !df.iter().any(|g| g.name == f.name)) {
                                manual.push((
                                    f.span,
                                    f.name.clone(),
                                    format!(
                                        "`{}` of variant `{}` has no counterpart in {dst_name}",
                                        f.name, v.name
                                    ),
                                ));
                            }
                        }
                        complete = false;
                    }
                }
            }
            for d in dv {
                if !sv.iter().any(|v| v.name == d.name) {
                    problems.push((
                        d.span,
                        format!("variant `{}` has no counterpart in {src_name}", d.name),
                    ));
                }
            }
            // A variant only the target has loses nothing on the way there.
            (complete).then(|| {
                if sv.is_empty() {
                    quote!(match input {})
                } else {
                    quote!(match input { #(#arms),* })
                }
            })
        }
        _ => {
            let shape = |t: &TypeDef| match &t.body {
                TypeBody::Struct(_) => "a struct".to_string(),
                TypeBody::Tuple(ts) => format!(
                    "a tuple struct of {} field{}",
                    ts.len(),
                    if ts.len() == 1 { "" } else { "s" }
                ),
                TypeBody::Unit => "a unit struct".to_string(),
                TypeBody::Enum(_) => "an enum".to_string(),
            };
            problems.push((
                src.span,
                format!(
                    "`{}` is {} here and {} in {dst_name}",
                    src.name,
                    shape(src),
                    shape(dst)
                ),
            ));
            None
        }
    };
    let hand_written = ctx
        .pkg
        .function_named(&fn_name)
        .filter(|f| f.reachable)
        .map(|f| {
            let segments = f
                .module
                .iter()
                .map(|m| ident(m))
                .chain(std::iter::once(ident(&f.name)));
            quote!(self #(:: #segments)*)
        });
    Direction {
        to_hub,
        auto,
        assignments,
        problems,
        manual,
        hand_written,
        fn_name,
        structs,
    }
}

/// The field of `fields` named `name`, looked for first at `index`: the versions of a type
/// mostly list their fields in one order.
fn counterpart<'a>(fields: &'a [Field], index: usize, name: &str) -> Option<&'a Field> {
    fields
        .get(index)
        .filter(|f| f.name == name)
        .or_else(|| fields.iter().find(|f| f.name == name))
}

/// The pattern and value of one enum variant's arm.
fn variant_arm(
    ctx: &Ctx,
    s: &VariantShape,
    d: &VariantShape,
    to_hub: bool,
) -> Option<(TokenStream, TokenStream)> {
    match (s, d) {
        (VariantShape::Unit, VariantShape::Unit) => Some((quote!(), quote!())),
        (VariantShape::Tuple(st), VariantShape::Tuple(dt)) if st.len() == dt.len() => {
            let binds: Vec<_> = (0..st.len()).map(|i| format_ident!("f{i}")).collect();
            let values: Option<Vec<TokenStream>> = st
                .iter()
                .zip(dt)
                .zip(&binds)
                .map(|((s, d), b)| convert(ctx, s, d, to_hub, quote!(#b)))
                .collect();
            let values = values?;
            Some((quote!((#(#binds),*)), quote!((#(#values),*))))
        }
        (VariantShape::Struct(sf), VariantShape::Struct(df)) if sf.len() == df.len() => {
            let mut binds = Vec::new();
            let mut values = Vec::new();
            for d in df {
                let s = sf.iter().find(|s| s.name == d.name)?;
                let sid = field_ident(s);
                let did = field_ident(d);
                let c = conv(ctx, &s.ty, &d.ty, to_hub)?;
                // A field moved as it is: the shorthand (clippy's redundant_field_names).
                if matches!(c, Conv::Same) {
                    values.push(quote!(#did));
                } else {
                    let e = c.value(ctx, quote!(#sid));
                    values.push(quote!(#did: #e));
                }
                binds.push(sid);
            }
            Some((quote!({ #(#binds),* }), quote!({ #(#values),* })))
        }
        _ => None,
    }
}

fn field_ident(f: &Field) -> proc_macro2::Ident {
    if f.raw {
        proc_macro2::Ident::new_raw(&f.name, proc_macro2::Span::call_site())
    } else {
        ident(&f.name)
    }
}

/// An expression converting `expr` (a `src`, moved) into a `dst`, or `None` when the
/// types do not convert without a hand.
fn convert(
    ctx: &Ctx,
    src: &FieldType,
    dst: &FieldType,
    to_hub: bool,
    expr: TokenStream,
) -> Option<TokenStream> {
    Some(conv(ctx, src, dst, to_hub)?.value(ctx, expr))
}

/// How a value converts: written so the generated code reads plainly and stays clippy-clean
/// (whole values moved, converters passed by path, no `Ok(x?)`).
enum Conv {
    /// The same type on both sides (nothing converts inside): moved.
    Same,
    /// A converted type: `<T as ConvertHub>::to_hub`/`from_hub`.
    /// The version's type of that name, and the direction.
    Hub {
        name: String,
        to_hub: bool,
    },
    Option(Box<Conv>),
    Box(Box<Conv>),
    /// A `Vec` or a set.
    Seq(Box<Conv>),
    Map(Box<Conv>),
}

impl Conv {
    /// An expression of the target type.
    fn value(&self, ctx: &Ctx, e: TokenStream) -> TokenStream {
        match self {
            Conv::Same => e,
            // Another kind of collection of the same items (`BTreeSet` → `HashSet`): collected.
            Conv::Seq(c) | Conv::Map(c) if matches!(**c, Conv::Same) => quote! {
                ::core::iter::Iterator::collect(::core::iter::IntoIterator::into_iter(#e))
            },
            _ => {
                let r = self.result(ctx, e);
                quote!(#r?)
            }
        }
    }

    /// An expression of `Result<target, ConversionError>` (never for `Clone`).
    fn result(&self, ctx: &Ctx, e: TokenStream) -> TokenStream {
        let scheme = &ctx.scheme;
        let err = quote!(#scheme::ConversionError);
        match self {
            Conv::Same => quote!(::core::result::Result::Ok::<_, #err>(#e)),
            // Collected into the other kind (`BTreeSet` → `HashSet`): nothing can fail.
            Conv::Seq(c) | Conv::Map(c) if matches!(**c, Conv::Same) => {
                let v = self.value(ctx, e);
                quote!(::core::result::Result::Ok::<_, #err>(#v))
            }
            Conv::Hub { .. } => {
                let f = self.function(ctx);
                quote!(#f(#e))
            }
            Conv::Option(c) => {
                let f = c.function(ctx);
                quote!(::core::option::Option::map(#e, #f).transpose())
            }
            Conv::Box(c) => {
                let r = c.result(ctx, quote!(*#e));
                quote!(#r.map(::std::boxed::Box::new))
            }
            Conv::Seq(c) => {
                let f = c.function(ctx);
                quote!(::core::iter::IntoIterator::into_iter(#e).map(#f).collect::<::core::result::Result<_, #err>>())
            }
            Conv::Map(c) => {
                let r = c.result(ctx, quote!(v));
                quote!(::core::iter::IntoIterator::into_iter(#e).map(|(k, v)| #r.map(|v| (k, v))).collect::<::core::result::Result<_, #err>>())
            }
        }
    }

    /// Something to `.map()` with: `A -> Result<B, ConversionError>`.
    fn function(&self, ctx: &Ctx) -> TokenStream {
        match self {
            Conv::Hub { name, to_hub } => {
                let ext = ctx.ext_path(name);
                let scheme = &ctx.scheme;
                if *to_hub {
                    quote!(<#ext as #scheme::ConvertHub>::into_hub)
                } else {
                    quote!(<#ext as #scheme::ConvertHub>::from_hub)
                }
            }
            other => {
                let r = other.result(ctx, quote!(v));
                quote!(|v| #r)
            }
        }
    }
}

fn conv(ctx: &Ctx, src: &FieldType, dst: &FieldType, to_hub: bool) -> Option<Conv> {
    // The very same type, with nothing of either package inside: cloned whole. `self::`/`super::`
    // name different things from the hub and the version; `crate::` (a shared type elsewhere in
    // the crate, Flux's `meta` types say) names one thing from both.
    let same_everywhere = src == dst && !mentions_local(src) && {
        let mut relative = false;
        src.walk(&mut |t| {
            if let FieldType::Foreign { path, .. } = t {
                relative |= path.is_relative() && path.first() != "crate";
            }
        });
        !relative
    };
    if same_everywhere {
        return Some(Conv::Same);
    }
    // One type, spelt from each side (`Legacy` in the version, `crate::apis::g::v1::Legacy` or
    // `super::v1::Legacy` in the hub, which has no `Legacy` of its own): moved as is.
    let (src_pkg, dst_pkg) = if to_hub {
        (ctx.pkg, ctx.hub)
    } else {
        (ctx.hub, ctx.pkg)
    };
    // (Two local types are never one: the packages differ.)
    let both_local = matches!((src, dst), (FieldType::Local(_), FieldType::Local(_)));
    if !both_local
        && let (Some(a), Some(b)) = (declared_at(src_pkg, src), declared_at(dst_pkg, dst))
        && a == b
    {
        return Some(Conv::Same);
    }
    let inner = |a: &FieldType, b: &FieldType| conv(ctx, a, b, to_hub).map(Box::new);
    match (src, dst) {
        (FieldType::Option(a), FieldType::Option(b)) => Some(Conv::Option(inner(a, b)?)),
        (FieldType::Box(a), FieldType::Box(b)) => Some(Conv::Box(inner(a, b)?)),
        (FieldType::Vec(a), FieldType::Vec(b)) => Some(Conv::Seq(inner(a, b)?)),
        // A map or a set holds the same data whatever its Rust kind (`BTreeMap` in a version,
        // `HashMap` in the hub): the entries are collected into the other kind.
        (FieldType::Set { elem: a, .. }, FieldType::Set { elem: b, .. }) => {
            Some(Conv::Seq(inner(a, b)?))
        }
        (FieldType::Map { value: a, .. }, FieldType::Map { value: b, .. }) => {
            Some(Conv::Map(inner(a, b)?))
        }
        (FieldType::Local(a), FieldType::Local(b)) if a == b && ctx.converts(a) => {
            Some(Conv::Hub {
                name: a.clone(),
                to_hub,
            })
        }
        _ => None,
    }
}

/// The fields of a struct pair for `convert_hub!` (`name` or `name: shape`), when both
/// directions convert field by field and no hand-written function takes over.
fn macro_fields(ctx: &Ctx, plan: &Plan) -> Option<Vec<TokenStream>> {
    let complete = |d: &Direction| d.auto.is_some() && d.hand_written.is_none();
    if !complete(&plan.to_hub) || !complete(&plan.from_hub) {
        return None;
    }
    let (TypeBody::Struct(ext), TypeBody::Struct(hub)) = (&plan.ext.body, &plan.hub.body) else {
        return None;
    };
    ext.iter()
        .enumerate()
        .map(|(i, f)| {
            let h = counterpart(hub, i, &f.name)?;
            let id = field_ident(f);
            match conv(ctx, &f.ty, &h.ty, true)? {
                Conv::Same => Some(quote!(#id)),
                c => {
                    let shape = c.shape();
                    Some(quote!(#id: #shape))
                }
            }
        })
        .collect()
}

/// The variants of an enum pair for `convert_enum!`: data-less, the same on both sides, and
/// converted without a hand.
fn unit_variants(plan: &Plan) -> Option<Vec<proc_macro2::Ident>> {
    let complete = |d: &Direction| d.auto.is_some() && d.hand_written.is_none();
    if !complete(&plan.to_hub) || !complete(&plan.from_hub) {
        return None;
    }
    let (TypeBody::Enum(ext), TypeBody::Enum(hub)) = (&plan.ext.body, &plan.hub.body) else {
        return None;
    };
    let unit = |vs: &[kube_codegen_model::Variant]| {
        vs.iter().all(|v| matches!(v.shape, VariantShape::Unit))
    };
    if ext.is_empty() || !unit(ext) || !unit(hub) || ext.len() != hub.len() {
        return None;
    }
    Some(ext.iter().map(|v| ident(&v.name)).collect())
}

impl Conv {
    /// The `convert_hub!` shape of this conversion.
    fn shape(&self) -> TokenStream {
        match self {
            Conv::Same => quote!(same),
            Conv::Hub { .. } => quote!(hub),
            Conv::Option(c) => {
                let s = c.shape();
                quote!(opt(#s))
            }
            Conv::Box(c) => {
                let s = c.shape();
                quote!(boxed(#s))
            }
            Conv::Seq(c) => {
                let s = c.shape();
                quote!(seq(#s))
            }
            Conv::Map(c) => {
                let s = c.shape();
                quote!(map(#s))
            }
        }
    }
}

/// Where the named type `ty` (written in `pkg`) is declared: its module, from the input
/// directory's root as [`Package::module`] counts, and its name. Two spellings of one type give
/// the same answer; `None` for any other type, or a path leading out of the input.
fn declared_at(pkg: &Package, ty: &FieldType) -> Option<(Vec<String>, String)> {
    match ty {
        FieldType::Local(name) => Some((pkg.module.clone(), name.clone())),
        // The model rebases paths to the package module.
        FieldType::Foreign { path, args } if args.is_empty() => {
            path_declared_at(pkg, &pkg.module, path)
        }
        _ => None,
    }
}

/// Where `path`, written in module `from` of `pkg`, says its type is declared (see
/// [`declared_at`]); `None` for a path that is not `crate::`, `super::` or `self::`.
fn path_declared_at(
    pkg: &Package,
    from: &[String],
    path: &RustPath,
) -> Option<(Vec<String>, String)> {
    if path.global {
        return None;
    }
    let (name, module) = path.segments.split_last()?;
    let (first, rest) = module.split_first()?;
    let module: Vec<String> = match first.as_str() {
        // From the crate root: past the input directory's own module path, which the package's
        // absolute path (`crate::apis::g::v1` for `["g", "v1"]`) ends with.
        "crate" => {
            let absolute: Vec<&str> = pkg.rust_path.as_deref()?.split("::").skip(1).collect();
            let root = absolute.get(..absolute.len().checked_sub(pkg.module.len())?)?;
            let inside = rest.get(root.len()..)?;
            if !rest.iter().zip(root).all(|(a, b)| a == b) {
                return None;
            }
            inside.to_vec()
        }
        "super" | "self" => path.module_from(from)?,
        _ => return None,
    };
    Some((module, name.clone()))
}

fn mentions_local(t: &FieldType) -> bool {
    let mut found = false;
    t.walk(&mut |f| found |= matches!(f, FieldType::Local(_)));
    found
}

/// `name` and the names of the types of `packages` that hold it, directly or through others
/// (`Alert` holds `AlertSpec` holds `Target`: all three for `Target`).
fn holders(packages: &[&Package], name: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::from([name.to_string()]);
    loop {
        let before = found.len();
        for t in packages.iter().flat_map(|p| &p.types) {
            if found.contains(&t.name) {
                continue;
            }
            let mut holds = false;
            for ty in t.field_types() {
                ty.walk(&mut |f| holds |= matches!(f, FieldType::Local(n) if found.contains(n)));
            }
            if holds {
                found.insert(t.name.clone());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// The conversion file of one version.
pub fn package(pkg: &Package, hub: &Package, opts: &Options) -> TokenStream {
    let scheme = opts.crates.scheme.to_tokens();
    let plans = plans(pkg, hub, &scheme);
    let kinds: Vec<TokenStream> = plans
        .iter()
        .filter(|p| p.ext.resource.is_some())
        .map(|p| type_path(pkg, &p.ext.name))
        .collect();
    let register_doc = format!(
        " Registers the kinds of `{}` in a scheme's versioned codec: read and written as this version, converted through the hub.",
        pkg.display_name()
    );
    // A package without kinds registers nothing: its parameter is unused.
    let param = if kinds.is_empty() {
        quote::format_ident!("_scheme")
    } else {
        quote::format_ident!("scheme")
    };
    let allow = kube_codegen_model::output::allow_unused();
    let register = quote! {
        #[doc = #register_doc]
        #allow
        pub fn register_conversions(#param: &mut #scheme::Scheme) {
            #(scheme.add_version::<#kinds>();)*
        }
    };
    let analysis = Ctx::new(pkg, hub, scheme.clone(), false);
    let items = plans.into_iter().map(|plan| {
        let ctx = &analysis;
        let ext = ctx.ext_path(&plan.ext.name);
        let hub_ty = ctx.hub_path(&plan.hub.name);
        // The common case, a struct converting field by field both ways: one line for the
        // runtime's `convert_hub!` (the output's size is the generator's time budget).
        if let Some(fields) = macro_fields(ctx, &plan) {
            return quote! { #scheme::convert_hub!(#ext => #hub_ty { #(#fields),* }); };
        }
        if let Some(variants) = unit_variants(&plan) {
            return quote! { #scheme::convert_enum!(#ext => #hub_ty { #(#variants),* }); };
        }
        // Everything else is written out: its directions again, with tokens this time.
        let ctx = &Ctx {
            emit: true,
            ..analysis.clone()
        };
        let snake = naming::snake_case(&plan.ext.name);
        let plan = Plan {
            to_hub: direction(ctx, plan.ext, plan.hub, true, format!("convert_{snake}_to_hub")),
            from_hub: direction(ctx, plan.ext, plan.hub, false, format!("convert_{snake}_from_hub")),
            ..plan
        };
        let body = |d: &Direction, arg: TokenStream| -> TokenStream {
            match (&d.hand_written, &d.auto) {
                (Some(f), _) => quote!(#f(#arg)),
                // A unit struct reads nothing of its input; an enum without variants has no
                // value to convert (its `match` is the whole body: nothing after it is reached).
                (None, Some(auto)) => match &(if d.to_hub { plan.ext } else { plan.hub }).body {
                    TypeBody::Unit => quote! {
                        let _ = #arg;
                        ::core::result::Result::Ok(#auto)
                    },
                    TypeBody::Enum(variants) if variants.is_empty() => quote! {
                        let input = #arg;
                        #auto
                    },
                    _ => quote! {
                        let input = #arg;
                        ::core::result::Result::Ok(#auto)
                    },
                },
                // Reported by `validate` (E0501), so never generated; an error, not a panic, if
                // it ever were.
                (None, None) => {
                    let msg = format!("no conversion of {} (kube-codegen E0501)", plan.ext.name);
                    quote!(::core::result::Result::Err(#scheme::ConversionError::new(#msg)))
                }
            }
        };
        let to = body(&plan.to_hub, quote!(self));
        let from = body(&plan.from_hub, quote!(hub));
        let helpers = [(&plan.to_hub, &ext, &hub_ty), (&plan.from_hub, &hub_ty, &ext)]
            .into_iter()
            .filter(|(d, _, _)| d.structs && (d.auto.is_none() || d.hand_written.is_some()))
            .map(|(d, input, output)| {
                let name = format_ident!("{}", d.fn_name.replacen("convert_", "auto_convert_", 1));
                let assignments = &d.assignments;
                let doc = format!(" Converts the fields of `{}` that match; `{}` sets the rest.", plan.ext.name, d.fn_name);
                // Called by hand-written conversions, which may convert otherwise.
                quote! {
                    #[doc = #doc]
                    #[allow(unused_variables, dead_code)]
                    pub fn #name(input: #input, out: &mut #output) -> ::core::result::Result<(), #scheme::ConversionError> {
                        #(#assignments)*
                        ::core::result::Result::Ok(())
                    }
                }
            });
        quote! {
            impl #scheme::ConvertHub for #ext {
                type Hub = #hub_ty;
                fn into_hub(self) -> ::core::result::Result<Self::Hub, #scheme::ConversionError> {
                    #to
                }
                fn from_hub(hub: Self::Hub) -> ::core::result::Result<Self, #scheme::ConversionError> {
                    #from
                }
            }
            #(#helpers)*
        }
    });
    let items: Vec<TokenStream> = items.collect();
    quote! {
        #(#items)*
        #register
    }
}
