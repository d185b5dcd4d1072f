//! protobuf-gen: Go's go-to-protobuf for kube-codegen. For a package tagged
//! `+k8s:protobuf-gen=package` it writes
//!
//! - `generated.proto`: a proto2 message per struct (and a `<Kind>List` per kind), in
//!   Kubernetes' style: the package named after the group and version, apimachinery's messages
//!   imported for `ObjectMeta`, `Time`, `Quantity`, `IntOrString`, ...; enums are strings;
//! - `zz_generated.protobuf.rs`: `kube_codegen_protobuf::Message` for every struct and
//!   `kube_codegen_protobuf::Field` for every type a field can hold, field by field.
//!
//! Field numbers are given once: `generated.proto` is the record ([`kube_codegen_model::proto_record`]),
//! read back on the next run, so a field keeps its number when fields are added, reordered or
//! removed (a removed field's number and name become `reserved`); `+protobuf=N` fixes one by
//! hand, and reusing a number is an error naming both fields.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use kube_codegen_model::output::{
    Content, GeneratedFile, Generator, Options, Placement, field_type_tokens, ident, type_path,
};
use kube_codegen_model::proto_record::{self, MessageRecord};
use kube_codegen_model::{
    Diagnostic, Field, FieldType, FloatType, IntType, KnownType, Model, Package, TypeBody, TypeDef,
    VariantShape,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const NAME: &str = "protobuf-gen";
pub const FILE: &str = "zz_generated.protobuf.rs";

pub struct ProtobufGen;

impl Generator for ProtobufGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate_package(&self, _model: &Model, pkg: &Package) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        if pkg.options.protobuf {
            let plan = plan(pkg, &mut diags);
            // Encoding and decoding read and write every field of a message's type (and a
            // newtype's one).
            let types = plan.messages.iter().map(|m| m.ty);
            for t in types.chain(plan.newtypes.iter().map(|(t, _)| *t)) {
                diags.extend(t.unreachable_member_errors(NAME));
            }
            // Messages, enums and newtypes are named by their encoding and decoding.
            let named = plan
                .messages
                .iter()
                .map(|m| m.ty)
                .chain(plan.enums.iter().copied())
                .chain(plan.newtypes.iter().map(|(t, _)| *t))
                .map(|t| t.name.as_str());
            diags.extend(kube_codegen_model::output::unnameable_in_package(
                pkg,
                named,
                [],
            ));
            diags.extend(hand_written_impls(pkg, &plan));
        }
        diags
    }

    fn generate_package(
        &self,
        _model: &Model,
        pkg: &Package,
        opts: &Options,
    ) -> Vec<GeneratedFile> {
        if !pkg.options.protobuf {
            return Vec::new();
        }
        let plan = plan(pkg, &mut Vec::new());
        vec![
            GeneratedFile {
                path: pkg.dir.join(proto_record::FILE),
                content: Content::Text(proto_file(pkg, &plan)),
            },
            GeneratedFile {
                path: pkg.dir.join(FILE),
                content: Content::Rust(rust_file(pkg, &plan, opts)),
            },
        ]
    }
}

/// E0302: a type implementing by hand the trait protobuf-gen implements for it (`Message` for a
/// message, `Field` for an enum or a newtype): two impls do not compile (rustc's E0119).
fn hand_written_impls(pkg: &Package, plan: &Plan<'_>) -> Vec<Diagnostic> {
    let messages = plan.messages.iter().map(|m| (m.ty, "Message"));
    let fields = plan
        .enums
        .iter()
        .copied()
        .chain(plan.newtypes.iter().map(|(t, _)| *t))
        .map(|t| (t, "Field"));
    messages
        .chain(fields)
        .filter_map(|(t, trait_name)| {
            let found =
                kube_codegen_model::hand_written_impl(t, &["kube_codegen_protobuf", trait_name])?;
            Some(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` implements `{}` by hand",
                        t.name,
                        found.path.segments.join("::")
                    ),
                )
                .at(found.span, "implemented again by generated code")
                .note(format!(
                    "protobuf-gen writes `kube_codegen_protobuf::{trait_name}` for every {} of {} (rustc's E0119 on two impls)",
                    if trait_name == "Message" { "struct" } else { "enum and newtype" },
                    pkg.display_name()
                ))
                .help(
                    "remove this impl, or the package's `+k8s:protobuf-gen=package` tag to write its protobuf by hand",
                ),
            )
        })
        .collect()
}

/// What a package's protobuf looks like: its messages with numbered fields, the enums written
/// as strings and the newtypes written as what they wrap.
struct Plan<'a> {
    messages: Vec<Message<'a>>,
    /// `<Kind>List` messages: kinds whose list type the package does not declare itself.
    lists: Vec<&'a str>,
    enums: Vec<&'a TypeDef>,
    newtypes: Vec<(&'a TypeDef, &'a FieldType)>,
    imports: BTreeSet<&'static str>,
}

struct Message<'a> {
    ty: &'a TypeDef,
    fields: Vec<ProtoField<'a>>,
    /// Fields the wire does not carry (`#[serde(skip)]`): defaulted when decoding.
    skipped: Vec<&'a Field>,
    reserved: BTreeSet<u32>,
    reserved_names: BTreeSet<String>,
}

struct ProtoField<'a> {
    field: &'a Field,
    /// The name in `generated.proto`: the wire (JSON) name, as Kubernetes' protos use.
    name: String,
    number: u32,
    label: Label,
}

/// A field's protobuf shape: `optional T`, `repeated T` or `map<string, T>`; or, for a value
/// with no protobuf shape (`Vec<Vec<i32>>`, an enum with data, a k8s-openapi `PodSpec`), its
/// JSON as `bytes` (with why).
enum Label {
    Optional(String),
    Repeated(String),
    Map(String),
    Json(String),
}

fn has_shared(ty: &FieldType) -> bool {
    let mut shared = false;
    ty.walk(&mut |t| shared |= matches!(t, FieldType::Shared { .. }));
    shared
}

const META: &str = "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
const RESOURCE: &str = "k8s.io/apimachinery/pkg/api/resource/generated.proto";
const INTSTR: &str = "k8s.io/apimachinery/pkg/util/intstr/generated.proto";
const RUNTIME: &str = "k8s.io/apimachinery/pkg/runtime/generated.proto";

/// k8s-openapi types encoded as Kubernetes' messages, beyond the model's well-known ones
/// (generated by `runtime/protobuf/k8s/generate.py`, with the runtime's impls).
mod k8s_messages;
use k8s_messages::K8S_MESSAGES as FOREIGN_MESSAGES;

fn is_message_struct(t: &TypeDef) -> bool {
    matches!(t.body, TypeBody::Struct(_)) && t.options.protobuf
}

fn plan<'a>(pkg: &'a Package, diags: &mut Vec<Diagnostic>) -> Plan<'a> {
    let mut plan = Plan {
        messages: Vec::new(),
        lists: Vec::new(),
        enums: Vec::new(),
        newtypes: Vec::new(),
        imports: BTreeSet::new(),
    };
    if pkg.is_internal() {
        if let Some(t) = pkg.types.first() {
            diags.push(
                Diagnostic::error(
                    "E0701",
                    format!(
                        "`+k8s:protobuf-gen=package` on the internal hub {}",
                        pkg.display_name()
                    ),
                )
                .at(t.span, "the hub is never on the wire")
                .help("tag the external versions (`<group>/<version>/`) instead"),
            );
        }
        return plan;
    }
    // Types with a protobuf shape get impls; the others (generic types, enums with data, tuple
    // structs of several fields) are carried as JSON by the fields that hold them.
    for t in pkg
        .types
        .iter()
        .filter(|t| t.options.protobuf && !t.has_generics)
    {
        match &t.body {
            TypeBody::Struct(fields) => {
                let message = message(pkg, t, fields, &mut plan.imports, diags);
                plan.messages.push(message);
            }
            TypeBody::Enum(variants) => {
                if variants
                    .iter()
                    .all(|v| matches!(v.shape, VariantShape::Unit))
                    && !t.serde.untagged
                {
                    plan.enums.push(t);
                }
            }
            TypeBody::Tuple(elems) if elems.len() == 1 => {
                if let Ok(Label::Optional(_)) = proto_label(pkg, &elems[0], &mut BTreeSet::new()) {
                    plan.newtypes.push((t, &elems[0]));
                }
            }
            TypeBody::Tuple(_) | TypeBody::Unit => {}
        }
    }
    for (t, _) in pkg.roots() {
        let list = format!("{}List", t.name);
        if t.options.protobuf && pkg.type_named(&list).is_none() {
            plan.lists.push(&t.name);
            plan.imports.insert(META);
        }
    }
    plan
}

/// A struct's message: its wire fields, numbered from the record and the `+protobuf` tags.
fn message<'a>(
    pkg: &'a Package,
    t: &'a TypeDef,
    fields: &'a [Field],
    imports: &mut BTreeSet<&'static str>,
    diags: &mut Vec<Diagnostic>,
) -> Message<'a> {
    let empty = MessageRecord::default();
    let record = pkg
        .protobuf_record
        .as_ref()
        .and_then(|r| r.messages.get(&t.name))
        .unwrap_or(&empty);
    let mut out = Message {
        ty: t,
        fields: Vec::new(),
        skipped: Vec::new(),
        reserved: record.reserved.clone(),
        reserved_names: record.reserved_names.clone(),
    };
    let mut unnumbered = Vec::new();
    let mut taken: BTreeMap<u32, &str> = BTreeMap::new();
    for f in fields {
        if f.serde.skip {
            out.skipped.push(f);
            continue;
        }
        if f.serde.flatten {
            diags.push(
                Diagnostic::error("E0705", format!("`{}.{}` is flattened", t.name, f.name))
                    .at(f.span, "protobuf has no flattened fields")
                    .help(format!(
                        "leave `{}` out with `/// +k8s:protobuf-gen=false`",
                        t.name
                    )),
            );
            continue;
        }
        let label = match proto_label(pkg, &f.ty, imports) {
            Ok(l) => l,
            // Shared state is not data in any encoding.
            Err(why) if has_shared(&f.ty) => {
                diags.push(
                    Diagnostic::error(
                        "E0706",
                        format!("field `{}.{}` has no protobuf form: {why}", t.name, f.name),
                    )
                    .at(f.span, "not encodable as protobuf")
                    .help(format!(
                        "change the field's type, or leave `{}` out with `/// +k8s:protobuf-gen=false`",
                        t.name
                    )),
                );
                continue;
            }
            // Anything else serde can write travels as its JSON, in a `bytes` field.
            Err(why) => {
                // A Kubernetes type that way is one Go clients cannot read: say so.
                if let Some(k8s) = k8s_type_without_message(&f.ty) {
                    diags.push(
                        Diagnostic::warning(
                            "W0709",
                            format!(
                                "field `{}.{}` carries `{k8s}` as JSON bytes in protobuf",
                                t.name, f.name
                            ),
                        )
                        .at(f.span, "Go clients expect Kubernetes' message here")
                        .note(why.clone())
                        .help(format!(
                            "clients built from this `generated.proto` read it, Go's typed clients cannot; leave `{}` out with `/// +k8s:protobuf-gen=false` to keep it JSON-only",
                            t.name
                        )),
                    );
                }
                Label::Json(why)
            }
        };
        let name = if proto_record::is_identifier(&f.wire) {
            f.wire.clone()
        } else {
            f.name.clone()
        };
        let recorded = record.fields.get(&name).copied();
        let number = match (&f.options.protobuf_number, recorded) {
            (Some(tag), Some(old)) if tag.value != old => {
                diags.push(
                    Diagnostic::error(
                        "E0707",
                        format!(
                            "`{}.{}` was field number {old}; `+protobuf={}` would renumber it",
                            t.name, f.name, tag.value
                        ),
                    )
                    .at(tag.span, "a field's number never changes")
                    .note("every protobuf object already written or sent carries the old number")
                    .help(format!("write `+protobuf={old}`, or remove the tag")),
                );
                Some(old)
            }
            (Some(tag), _) => Some(tag.value),
            (None, old) => old,
        };
        let span = f
            .options
            .protobuf_number
            .as_ref()
            .map_or(f.span, |s| s.span);
        match number {
            Some(n) => {
                if record.reserved.contains(&n) {
                    diags.push(
                        Diagnostic::error(
                            "E0708",
                            format!(
                                "`{}.{}` would reuse field number {n} of a removed field",
                                t.name, f.name
                            ),
                        )
                        .at(span, format!("{n} is reserved in {}", proto_record::FILE))
                        .note("clients and stored objects may still carry the removed field under that number")
                        .help(format!(
                            "remove `+protobuf={n}`: the field gets a number never used"
                        )),
                    );
                } else if let Some(other) = taken.insert(n, &f.name) {
                    diags.push(
                        Diagnostic::error(
                            "E0708",
                            format!(
                                "`{}.{}` and `{}.{other}` both have field number {n}",
                                t.name, f.name, t.name
                            ),
                        )
                        .at(span, "a number names one field")
                        .help("remove one of the `+protobuf` tags"),
                    );
                }
                out.fields.push(ProtoField {
                    field: f,
                    name,
                    number: n,
                    label,
                });
            }
            None => unnumbered.push((f, name, label)),
        }
    }
    // New fields: the lowest free numbers above every number the record ever gave out, in
    // declaration order (without a record: from 1, around the numbers fixed by hand).
    let mut next = record.max_number() + 1;
    for (f, name, label) in unnumbered {
        while (19000..=19999).contains(&next)
            || record.reserved.contains(&next)
            || taken.contains_key(&next)
        {
            next += 1;
        }
        out.fields.push(ProtoField {
            field: f,
            name,
            number: next,
            label,
        });
        next += 1;
    }
    // Removed fields keep their numbers and names, reserved.
    for (name, n) in &record.fields {
        if !out.fields.iter().any(|f| &f.name == name) {
            out.reserved.insert(*n);
            out.reserved_names.insert(name.clone());
        }
    }
    // Declaration order in the file, as written in the struct.
    out.fields
        .sort_by_key(|f| fields.iter().position(|x| std::ptr::eq(x, f.field)));
    out
}

/// The protobuf shape of a field type, or why it has none.
fn proto_label(
    pkg: &Package,
    ty: &FieldType,
    imports: &mut BTreeSet<&'static str>,
) -> Result<Label, String> {
    match ty {
        FieldType::Option(t) | FieldType::Box(t) => proto_label(pkg, t, imports),
        FieldType::Vec(t) | FieldType::Set { elem: t, .. } => match proto_label(pkg, t, imports)? {
            Label::Optional(elem) if !matches!(**t, FieldType::Option(_)) => {
                Ok(Label::Repeated(elem))
            }
            Label::Optional(_) => Err("a list of optional values has no protobuf form".into()),
            _ => Err("a list of lists or maps has no protobuf form".into()),
        },
        FieldType::Map { value, .. } => match proto_label(pkg, value, imports)? {
            Label::Optional(v) if !matches!(**value, FieldType::Option(_)) => Ok(Label::Map(v)),
            Label::Optional(_) => Err("a map of optional values has no protobuf form".into()),
            _ => Err("a map of lists or maps has no protobuf form".into()),
        },
        other => scalar_or_message(pkg, other, imports).map(Label::Optional),
    }
}

/// The k8s-openapi type in `ty` (through `Option`, `Box`, lists and maps) that has no Kubernetes
/// message here, if any.
fn k8s_type_without_message(ty: &FieldType) -> Option<String> {
    match ty {
        FieldType::Foreign { path, .. } => {
            let written = path.to_string();
            let written = written.trim_start_matches("::");
            let known = FOREIGN_MESSAGES
                .iter()
                .any(|(rust, _, _)| written == *rust || rust.ends_with(&format!("::{written}")));
            (written.starts_with("k8s_openapi::") && !known).then(|| written.to_string())
        }
        FieldType::Option(inner) | FieldType::Box(inner) | FieldType::Vec(inner) => {
            k8s_type_without_message(inner)
        }
        FieldType::Map { value, .. } => k8s_type_without_message(value),
        FieldType::Set { elem, .. } => k8s_type_without_message(elem),
        _ => None,
    }
}

fn scalar_or_message(
    pkg: &Package,
    ty: &FieldType,
    imports: &mut BTreeSet<&'static str>,
) -> Result<String, String> {
    let known = |imports: &mut BTreeSet<&'static str>, file: &'static str, name: &str| {
        imports.insert(file);
        Ok(name.to_string())
    };
    match ty {
        FieldType::Bool => Ok("bool".into()),
        FieldType::Int(IntType::I8 | IntType::I16 | IntType::I32) => Ok("int32".into()),
        FieldType::Int(IntType::I64 | IntType::Isize) => Ok("int64".into()),
        FieldType::Int(IntType::U8 | IntType::U16 | IntType::U32) => Ok("uint32".into()),
        FieldType::Int(IntType::U64 | IntType::Usize) => Ok("uint64".into()),
        FieldType::Float(FloatType::F32) => Ok("float".into()),
        FieldType::Float(FloatType::F64) => Ok("double".into()),
        FieldType::String => Ok("string".into()),
        FieldType::Known(k) => match k {
            KnownType::ObjectMeta => known(
                imports,
                META,
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            KnownType::ListMeta => known(
                imports,
                META,
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta",
            ),
            KnownType::Time => known(imports, META, ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            KnownType::MicroTime => known(
                imports,
                META,
                ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            ),
            KnownType::Quantity => known(
                imports,
                RESOURCE,
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
            KnownType::IntOrString => known(
                imports,
                INTSTR,
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            KnownType::Json => known(
                imports,
                RUNTIME,
                ".k8s.io.apimachinery.pkg.runtime.RawExtension",
            ),
            KnownType::Bytes => Ok("bytes".into()),
            KnownType::Duration => known(
                imports,
                META,
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
            ),
        },
        FieldType::Local(name) => match pkg.type_named(name) {
            Some(t) if !t.options.protobuf => Err(format!(
                "`{name}` is left out of protobuf (`+k8s:protobuf-gen=false`)"
            )),
            Some(t) if is_message_struct(t) && !t.has_generics => Ok(name.clone()),
            Some(t) if t.has_generics => Err(format!("`{name}` is generic")),
            Some(t) => match &t.body {
                TypeBody::Enum(vs)
                    if vs.iter().all(|v| matches!(v.shape, VariantShape::Unit))
                        && !t.serde.untagged =>
                {
                    Ok("string".into())
                }
                TypeBody::Enum(_) => Err(format!("`{name}` is an enum with data")),
                TypeBody::Tuple(elems) if elems.len() == 1 => {
                    scalar_or_message(pkg, &elems[0], imports)
                }
                _ => Err(format!("`{name}` has no named fields")),
            },
            None => Err(format!("`{name}` is not a type of this package")),
        },
        FieldType::Foreign { path, args } if args.is_empty() => {
            let written = path.to_string();
            let written = written.trim_start_matches("::");
            match FOREIGN_MESSAGES
                .iter()
                .find(|(rust, _, _)| written == *rust || rust.ends_with(&format!("::{written}")))
            {
                Some((_, proto, file)) => known(imports, file, proto),
                None => Err(format!(
                    "kube-codegen-protobuf has no message for `{written}` in every Kubernetes version k8s-openapi supports"
                )),
            }
        }
        FieldType::Foreign { path, .. } => Err(format!("`{path}` is generic")),
        FieldType::Shared { .. } => {
            Err("shared state (`Rc`, `Arc`, cells, locks) is not data".into())
        }
        FieldType::Option(_)
        | FieldType::Box(_)
        | FieldType::Vec(_)
        | FieldType::Set { .. }
        | FieldType::Map { .. } => {
            Err("nested optional values, lists or maps have no protobuf form".into())
        }
    }
}

/// The proto package: the group and version, as a dotted path (Go's import path plays this
/// role in Kubernetes' protos).
pub fn proto_package(pkg: &Package) -> String {
    let mut segments: Vec<String> = pkg.group.split('.').map(str::to_string).collect();
    segments.extend(pkg.version.clone());
    segments
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s.replace('-', "_");
            if s.starts_with(|c: char| c.is_ascii_digit()) {
                format!("_{s}")
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn comment(out: &mut String, indent: &str, docs: &[String]) {
    for line in docs {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}//");
        } else {
            let _ = writeln!(out, "{indent}// {line}");
        }
    }
}

fn proto_file(pkg: &Package, plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Protobuf messages of {}. Field numbers are kept here for good: regeneration reads them\n// back, so fields may be added, reordered or removed without renumbering.\n",
        pkg.display_name()
    );
    out.push_str("syntax = \"proto2\";\n\n");
    let _ = writeln!(out, "package {};\n", proto_package(pkg));
    for import in &plan.imports {
        let _ = writeln!(out, "import \"{import}\";");
    }
    if !plan.imports.is_empty() {
        out.push('\n');
    }
    let mut blocks = Vec::new();
    for m in &plan.messages {
        let mut b = String::new();
        comment(&mut b, "", &m.ty.docs);
        let _ = writeln!(b, "message {} {{", m.ty.name);
        if !m.reserved.is_empty() {
            let numbers: Vec<String> = m.reserved.iter().map(u32::to_string).collect();
            let _ = writeln!(b, "  reserved {};", numbers.join(", "));
        }
        if !m.reserved_names.is_empty() {
            let names: Vec<String> = m
                .reserved_names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect();
            let _ = writeln!(b, "  reserved {};", names.join(", "));
        }
        for (i, f) in m.fields.iter().enumerate() {
            if i > 0 || !m.reserved.is_empty() {
                b.push('\n');
            }
            comment(&mut b, "  ", &f.field.docs);
            let decl = match &f.label {
                Label::Optional(t) => format!("optional {t}"),
                Label::Repeated(t) => format!("repeated {t}"),
                Label::Map(t) => format!("map<string, {t}>"),
                Label::Json(why) => {
                    let _ = writeln!(b, "  // Carried as JSON: {why}.");
                    "optional bytes".to_string()
                }
            };
            let _ = writeln!(b, "  {decl} {} = {};", f.name, f.number);
        }
        b.push_str("}\n");
        blocks.push(b);
    }
    for kind in &plan.lists {
        blocks.push(format!(
            "// {kind}List is a list of {kind}.\nmessage {kind}List {{\n  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;\n\n  repeated {kind} items = 2;\n}}\n"
        ));
    }
    out.push_str(&blocks.join("\n"));
    out
}

fn rust_file(pkg: &Package, plan: &Plan, opts: &Options) -> TokenStream {
    let pb = opts.crates.protobuf.to_tokens();
    let messages = plan.messages.iter().map(|m| message_impl(pkg, m, opts));
    let enums = plan.enums.iter().map(|t| enum_impl(pkg, t));
    let newtypes = plan
        .newtypes
        .iter()
        .map(|(t, inner)| newtype_impl(pkg, t, inner, opts));
    if plan.messages.is_empty() && plan.enums.is_empty() && plan.newtypes.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: () = {
            use #pb as pb;
            #(#messages)*
            #(#enums)*
            #(#newtypes)*
        };
    }
}

fn message_impl(pkg: &Package, m: &Message, opts: &Options) -> TokenStream {
    let path = type_path(pkg, &m.ty.name);
    let name = &m.ty.name;
    let members: Vec<_> = m.fields.iter().map(|f| ident(&f.field.name)).collect();
    let locals: Vec<_> = m
        .fields
        .iter()
        .map(|f| format_ident!("field_{}", f.field.name.trim_start_matches("r#")))
        .collect();
    let numbers: Vec<_> = m
        .fields
        .iter()
        .map(|f| proc_macro2::Literal::u32_unsuffixed(f.number))
        .collect();
    let types: Vec<_> = m
        .fields
        .iter()
        .map(|f| field_type_tokens(pkg, &f.field.ty, opts))
        .collect();
    let field_names: Vec<&str> = m.fields.iter().map(|f| f.field.name.as_str()).collect();
    let missing: Vec<String> = m
        .fields
        .iter()
        .map(|f| format!("missing field {name}.{}", f.name))
        .collect();
    let skipped = m.skipped.iter().map(|f| ident(&f.name));
    // How each field is written: its `Field` impl, or JSON bytes.
    let json: Vec<bool> = m
        .fields
        .iter()
        .map(|f| matches!(f.label, Label::Json(_)))
        .collect();
    let encode = json.iter().map(|j| {
        if *j {
            quote!(pb::json::encode)
        } else {
            quote!(pb::Field::encode)
        }
    });
    let lens: Vec<TokenStream> = json
        .iter()
        .zip(&members)
        .zip(&numbers)
        .map(|((j, member), number)| {
            let len = if *j {
                quote!(pb::json::encoded_len)
            } else {
                quote!(pb::Field::encoded_len)
            };
            quote!(#len(&self.#member, #number))
        })
        .collect();
    let fields_len = if lens.is_empty() {
        quote!(0)
    } else {
        quote!(#(#lens)+*)
    };
    let merge = json.iter().map(|j| {
        if *j {
            quote!(pb::json::merge)
        } else {
            quote!(pb::Field::merge)
        }
    });
    let absent = json.iter().zip(&types).map(|(j, ty)| {
        if *j {
            quote!(pb::json::absent::<#ty>)
        } else {
            quote!(<#ty as pb::Field>::absent)
        }
    });
    if m.fields.is_empty() {
        // A struct with no field on the wire (`pub struct SelfSigned {}`): every key skipped,
        // and no parameter or match left unused (warnings under `-D warnings`).
        return quote! {
            impl pb::Message for #path {
                fn encode_fields(&self, _buf: &mut ::std::vec::Vec<u8>) {}
                fn fields_len(&self) -> usize {
                    0
                }
                fn decode_fields(
                    buf: &mut &[u8],
                    _depth: pb::Depth,
                ) -> ::core::result::Result<Self, pb::DecodeError> {
                    while !buf.is_empty() {
                        let (tag, wire) = pb::decode_key(buf)?;
                        pb::skip(wire, tag, buf)?;
                    }
                    ::core::result::Result::Ok(Self {
                        #( #skipped: ::core::default::Default::default(), )*
                    })
                }
            }
            pb::message_field!(#path);
        };
    }
    quote! {
        // Decoding holds each field in an `Option` of its type, written out (a user's alias
        // expanded): deeply nested types are past clippy's `type_complexity` here.
        #[allow(clippy::type_complexity)]
        impl pb::Message for #path {
            fn encode_fields(&self, buf: &mut ::std::vec::Vec<u8>) {
                #( #encode(&self.#members, #numbers, buf); )*
            }
            fn fields_len(&self) -> usize {
                #fields_len
            }
            fn decode_fields(
                buf: &mut &[u8],
                depth: pb::Depth,
            ) -> ::core::result::Result<Self, pb::DecodeError> {
                #( let mut #locals: ::core::option::Option<#types> = ::core::option::Option::None; )*
                while !buf.is_empty() {
                    let (tag, wire) = pb::decode_key(buf)?;
                    match tag {
                        #( #numbers => #merge(&mut #locals, wire, buf, depth)
                            .map_err(|e| pb::context(e, #name, #field_names))?, )*
                        _ => pb::skip(wire, tag, buf)?,
                    }
                }
                ::core::result::Result::Ok(Self {
                    #( #members: #locals
                        .or_else(#absent)
                        .ok_or_else(|| pb::DecodeError::new(#missing))?, )*
                    #( #skipped: ::core::default::Default::default(), )*
                })
            }
        }
        pb::message_field!(#path);
    }
}

fn enum_impl(pkg: &Package, t: &TypeDef) -> TokenStream {
    let path = type_path(pkg, &t.name);
    let TypeBody::Enum(variants) = &t.body else {
        return TokenStream::new();
    };
    let names: Vec<_> = variants.iter().map(|v| ident(&v.name)).collect();
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    let expected = wires
        .iter()
        .map(|w| format!("{w:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let unknown = format!(
        "unknown {} value {{:?}} (expected one of {expected})",
        t.name
    );
    // An enum without variants has no value to encode: its `match` is of type `!`, given a
    // type here so that `.len()` can be called on it (in code rustc knows is unreachable).
    let (text, allow) = if variants.is_empty() {
        (
            quote!({
                let text: &'static str = match *self {};
                text
            }),
            quote!(#[allow(unreachable_code, unused_variables)]),
        )
    } else {
        (
            quote!(match self { #( Self::#names => #wires, )* }),
            TokenStream::new(),
        )
    };
    // Every value is unknown to an enum without variants (a `match` with one catch-all arm
    // is clippy's match_single_binding).
    let decode = if variants.is_empty() {
        quote!(::core::result::Result::Err(pb::DecodeError::new(
            format!(#unknown, value)
        )))
    } else {
        quote! {
            match value.as_str() {
                #( #wires => ::core::result::Result::Ok(Self::#names), )*
                other => ::core::result::Result::Err(pb::DecodeError::new(format!(#unknown, other))),
            }
        }
    };
    quote! {
        #allow
        impl pb::Field for #path {
            const WIRE: pb::WireType = pb::WireType::LengthDelimited;
            fn encode(&self, tag: u32, buf: &mut ::std::vec::Vec<u8>) {
                pb::encode_str(tag, #text, buf)
            }
            fn encoded_len(&self, tag: u32) -> usize {
                pb::bytes_len(tag, #text.len())
            }
            fn decode(
                wire: pb::WireType,
                buf: &mut &[u8],
                _depth: pb::Depth,
            ) -> ::core::result::Result<Self, pb::DecodeError> {
                let value = pb::decode_string(wire, buf)?;
                #decode
            }
        }
    }
}

fn newtype_impl(pkg: &Package, t: &TypeDef, inner: &FieldType, opts: &Options) -> TokenStream {
    let path = type_path(pkg, &t.name);
    let inner = field_type_tokens(pkg, inner, opts);
    quote! {
        impl pb::Field for #path {
            const WIRE: pb::WireType = <#inner as pb::Field>::WIRE;
            fn encode(&self, tag: u32, buf: &mut ::std::vec::Vec<u8>) {
                pb::Field::encode(&self.0, tag, buf)
            }
            fn encoded_len(&self, tag: u32) -> usize {
                pb::Field::encoded_len(&self.0, tag)
            }
            fn decode(
                wire: pb::WireType,
                buf: &mut &[u8],
                depth: pb::Depth,
            ) -> ::core::result::Result<Self, pb::DecodeError> {
                <#inner as pb::Field>::decode(wire, buf, depth).map(Self)
            }
            fn absent() -> ::core::option::Option<Self> {
                <#inner as pb::Field>::absent().map(Self)
            }
        }
    }
}
