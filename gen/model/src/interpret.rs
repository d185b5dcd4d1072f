//! Tags → typed model data, once. Runs after names are resolved and kinds are known, so every
//! check that needs the types (a `+listMapKey` naming a field of the element type, a `+default`
//! of the field's type, a kind-only tag on a kind) is made here, with the tag's location.
//! Generators read only what this module writes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{Diagnostic, FileId, Span};
use crate::model::*;
use crate::path::RustPath;
use crate::tags::{Tag, TagKey, TagValue, bad_value, spec_of};

/// `use` imports of every scope of a package, by (file, scope).
pub(crate) type ScopeUses = BTreeMap<(FileId, usize), BTreeMap<String, RustPath>>;

/// The package tags, typed. Values were checked against their grammar already.
pub(crate) fn package_options(tags: &[Tag]) -> PackageOptions {
    let mut o = PackageOptions::default();
    for t in tags {
        let on = !matches!(t.value, TagValue::Word("false"));
        match t.key {
            TagKey::RegisterGen => o.register = on,
            TagKey::DeepcopyGen => o.deepcopy = on,
            TagKey::ClientGen => o.client = on,
            TagKey::ListerGen => o.lister = on,
            TagKey::InformerGen => o.informer = on,
            TagKey::OpenapiGen => o.openapi = on,
            TagKey::DefaulterGen => o.defaulter = defaulter_mode(t),
            TagKey::ConversionGen => o.conversion = conversion(t),
            TagKey::ProtobufGen => o.protobuf = on,
            // Read when packages are assembled (one group per group directory).
            TagKey::GroupName => {}
            // The tag table allows no other tag on a package.
            _ => {}
        }
    }
    o
}

fn defaulter_mode(t: &Tag) -> Option<Spanned<DefaulterMode>> {
    let value = match t.value {
        TagValue::Word("TypeMeta") => DefaulterMode::Kinds,
        TagValue::Word("true") => DefaulterMode::On,
        TagValue::Word("covers") => DefaulterMode::Covers,
        _ => DefaulterMode::Off,
    };
    Some(Spanned {
        value,
        span: t.span,
    })
}

fn conversion(t: &Tag) -> Option<Spanned<ConversionTag>> {
    let value = match &t.value {
        TagValue::Path(p) => ConversionTag::Through(p.clone()),
        _ => ConversionTag::Off,
    };
    Some(Spanned {
        value,
        span: t.span,
    })
}

/// Interprets the tags of every type and field of `pkg`. `raw` is aligned with `pkg.types`.
pub(crate) fn interpret_package(
    pkg: &mut Package,
    uses: ScopeUses,
    raw: Vec<(Vec<Tag>, FileId, usize)>,
    replacements: &BTreeMap<(FileId, usize, String), FieldType>,
    diags: &mut Vec<Diagnostic>,
) {
    // Field tags come out of the model first; then everything is interpreted against the
    // package as read (no copy of it), then written back.
    let field_tags: Vec<Vec<Vec<Tag>>> = pkg
        .types
        .iter_mut()
        .map(|t| {
            fields_mut(t)
                .into_iter()
                .map(|f| std::mem::take(&mut f.tags))
                .collect()
        })
        .collect();
    let local: BTreeMap<String, Vec<String>> = pkg
        .types
        .iter()
        .rev()
        .map(|t| (t.name.clone(), t.module.clone()))
        .collect();
    let empty = BTreeMap::new();
    let interpreted: Vec<(TypeOptions, Option<Resource>, Vec<FieldOptions>)> = pkg
        .types
        .iter()
        .zip(raw)
        .zip(field_tags)
        .map(|((t, (tags, file, scope)), field_tags)| {
            let resolver = TypeNames {
                local: &local,
                uses: uses.get(&(file, scope)).unwrap_or(&empty),
                replacements,
                file,
                scope,
                module: &t.module,
            };
            let (options, resource) = type_tags(pkg, t, tags, &resolver, diags);
            let fields = fields_of(t)
                .into_iter()
                .zip(field_tags)
                .map(|(f, tags)| field_tags_of(pkg, &t.name, f, tags, diags))
                .collect();
            (options, resource, fields)
        })
        .collect();
    for (t, (options, resource, fields)) in pkg.types.iter_mut().zip(interpreted) {
        t.options = options;
        t.resource = resource;
        for (f, o) in fields_mut(t).into_iter().zip(fields) {
            f.options = o.into();
        }
    }
    generated_name_collisions(pkg, diags);
}

/// The named fields of a type: a struct's, and those of its struct-like variants.
fn fields_of(t: &TypeDef) -> Vec<&Field> {
    match &t.body {
        TypeBody::Struct(fields) => fields.iter().collect(),
        TypeBody::Enum(variants) => variants
            .iter()
            .flat_map(|v| match &v.shape {
                VariantShape::Struct(fs) => fs.iter().collect(),
                _ => Vec::new(),
            })
            .collect(),
        TypeBody::Tuple(_) | TypeBody::Unit => Vec::new(),
    }
}

/// [`fields_of`], mutably (same order).
fn fields_mut(t: &mut TypeDef) -> Vec<&mut Field> {
    match &mut t.body {
        TypeBody::Struct(fields) => fields.iter_mut().collect(),
        TypeBody::Enum(variants) => variants
            .iter_mut()
            .flat_map(|v| match &mut v.shape {
                VariantShape::Struct(fs) => fs.iter_mut().collect(),
                _ => Vec::new(),
            })
            .collect(),
        TypeBody::Tuple(_) | TypeBody::Unit => Vec::new(),
    }
}

/// How names written in a type's tags (`result=Scale`) resolve: as its field types would.
struct TypeNames<'a> {
    local: &'a BTreeMap<String, Vec<String>>,
    uses: &'a BTreeMap<String, RustPath>,
    replacements: &'a BTreeMap<(FileId, usize, String), FieldType>,
    file: FileId,
    scope: usize,
    module: &'a [String],
}

impl TypeNames<'_> {
    fn resolve(&self, path: &RustPath) -> Result<FieldType, String> {
        let mut resolved = path.clone();
        if !path.global
            && let Some(full) = self.uses.get(path.first())
        {
            let mut segs = full.segments.clone();
            segs.extend(path.segments[1..].iter().cloned());
            resolved = RustPath::from_segments(false, segs);
        }
        if resolved.is_single() {
            let name = resolved.last();
            let known = KnownType::ALL.iter().any(|(n, _)| *n == name);
            if !self.local.contains_key(name) && !known {
                if let Some(rep) = self
                    .replacements
                    .get(&(self.file, self.scope, name.to_string()))
                {
                    return Ok(rep.clone());
                }
                return Err(format!(
                    "`{name}` is neither a type of this package nor imported"
                ));
            }
        }
        let mut ty = FieldType::Foreign {
            path: resolved,
            args: Vec::new(),
        };
        crate::resolve::resolve_ty(&mut ty, self.local, self.module);
        Ok(ty)
    }
}

/// The type's options and its kind facts (short names, columns, client), from its tags.
fn type_tags(
    pkg: &Package,
    t: &TypeDef,
    tags: Vec<Tag>,
    names: &TypeNames,
    diags: &mut Vec<Diagnostic>,
) -> (TypeOptions, Option<Resource>) {
    let is_kind = t.resource.is_some();
    let genclient = tags.iter().any(|x| x.key == TagKey::Genclient);
    let mut options = TypeOptions {
        deepcopy: pkg.options.deepcopy,
        ..TypeOptions::default()
    };
    let mut resource = t.resource.clone();
    let mut client_tags = Vec::new();
    let mut column_names: Vec<(String, Span)> = Vec::new();
    for tag in tags {
        let name = tag.name();
        let kind_only = tag.key.is_kind_only();
        if kind_only && !is_kind {
            diags.push(
                Diagnostic::error(
                    "E0310",
                    format!("`+{name}` on `{}`, which is not a kind", t.name),
                )
                .at(tag.span, "only a kind reads this tag")
                .note("a kind is a struct with a `metadata: ObjectMeta` field that no other type embeds, or one tagged `+genclient`")
                .help("move the tag to the kind, or remove it"),
            );
            continue;
        }
        let client_only = tag.key.is_client_option();
        if client_only && !genclient {
            diags.push(
                Diagnostic::error(
                    "E0311",
                    format!("`+{name}` without `+genclient` on `{}`", t.name),
                )
                .at(tag.span, "no client is generated for this kind")
                .help("add `/// +genclient` to the kind, or remove this tag"),
            );
            continue;
        }
        match tag.key {
            TagKey::DeepcopyGen => {
                options.deepcopy = !matches!(tag.value, TagValue::Word("false"));
            }
            TagKey::OpenapiGen => {
                options.openapi = !matches!(tag.value, TagValue::Word("false"));
            }
            TagKey::DefaulterGen => options.defaulter = defaulter_mode(&tag),
            TagKey::ConversionGen => options.conversion = conversion(&tag),
            TagKey::ProtobufGen => {
                options.protobuf = !matches!(tag.value, TagValue::Word("false"));
            }
            TagKey::Enum => {
                let string_enum = match &t.body {
                    TypeBody::Enum(vs) => vs.iter().all(|v| matches!(v.shape, VariantShape::Unit)),
                    _ => false,
                };
                if string_enum {
                    options.is_enum = true;
                } else {
                    diags.push(misfit(
                        &tag,
                        &t.name,
                        "an enum whose variants carry no data",
                    ));
                }
            }
            TagKey::StructType => {
                if matches!(t.body, TypeBody::Struct(_)) {
                    options.struct_type = Some(map_type(&tag));
                } else {
                    diags.push(misfit(&tag, &t.name, "a struct with named fields"));
                }
            }
            TagKey::ShortName | TagKey::Categories => {
                let values = match &tag.value {
                    TagValue::Texts(v) => v.clone(),
                    _ => Vec::new(),
                };
                if let Some(r) = &mut resource {
                    if tag.key == TagKey::ShortName {
                        r.short_names = values;
                    } else {
                        r.categories = values;
                    }
                }
            }
            TagKey::PrintColumn => match printer_column(&tag) {
                // Two columns of one name: a CRD's validation refuses them, and kubectl would
                // show two headers it cannot tell apart.
                Ok(c) if column_names.iter().any(|(n, _)| *n == c.name) => {
                    let first = column_names
                        .iter()
                        .find(|(n, _)| *n == c.name)
                        .map(|(_, s)| *s)
                        .expect("checked");
                    diags.push(
                        bad_value(
                            spec_of(tag.key),
                            tag.span,
                            &format!("a column named `{}` is already given", c.name),
                        )
                        .also(first, "first given here"),
                    );
                }
                Ok(c) => {
                    column_names.push((c.name.clone(), tag.span));
                    if let Some(r) = &mut resource {
                        r.printer_columns.push(c);
                    }
                }
                Err(why) => diags.push(bad_value(spec_of(tag.key), tag.span, &why)),
            },
            TagKey::Scale => match scale_subresource(pkg, t, &tag) {
                Ok(scale) => {
                    if let Some(r) = &mut resource {
                        r.scale = Some(scale);
                    }
                }
                Err(d) => diags.push(*d),
            },
            TagKey::NoVerbs
            | TagKey::NoStatus
            | TagKey::Readonly
            | TagKey::OnlyVerbs
            | TagKey::SkipVerbs
            | TagKey::Method
            | TagKey::Genclient => client_tags.push(tag),
            // Read while finding kinds (scope, plural).
            TagKey::NonNamespaced | TagKey::ResourceName => {}
            // The tag table allows no other tag on a type.
            _ => {}
        }
    }
    if genclient && let Some(r) = &mut resource {
        r.client = Some(client_spec(&client_tags, r.has_status, names, diags));
    }
    (options, resource)
}

/// E0312: a tag on an item of a shape it does not apply to.
fn misfit(tag: &Tag, item: &str, wants: &str) -> Diagnostic {
    Diagnostic::error(
        "E0312",
        format!("`+{}` does not apply to `{item}`", tag.name()),
    )
    .at(tag.span, format!("applies to {wants}"))
    .help("remove the tag, or change the type it describes")
}

fn map_type(tag: &Tag) -> MapType {
    match tag.value {
        TagValue::Word("atomic") => MapType::Atomic,
        _ => MapType::Granular,
    }
}

fn printer_column(tag: &Tag) -> Result<PrinterColumn, String> {
    let v = &tag.value;
    let get = |k: &str| v.pair(k).map(str::to_string);
    let type_text = get("type").unwrap_or_default();
    let type_ = ColumnType::ALL
        .into_iter()
        .find(|c| c.as_str() == type_text)
        .ok_or_else(|| {
            let all: Vec<&str> = ColumnType::ALL.iter().map(|c| c.as_str()).collect();
            format!("column type `{type_text}` is not one of {}", all.join(", "))
        })?;
    let json_path = get("jsonPath").unwrap_or_default();
    if !json_path.starts_with('.') {
        return Err(format!(
            "`jsonPath={json_path}` is not a JSONPath into the object (e.g. `.status.phase`)"
        ));
    }
    // The API server evaluates `$` + the path with jsonpath-rust: anything it cannot parse
    // would make the column empty on every row (kube-apiserver rejects such a CRD).
    if jsonpath_rust::parser::parse_json_path(&format!("${json_path}")).is_err() {
        return Err(format!(
            "`jsonPath={json_path}` is not a valid JSONPath (e.g. `.spec.items[0].name`, `.status.conditions[?(@.type==\"Ready\")].status`)"
        ));
    }
    let priority = match get("priority") {
        None => 0,
        Some(p) => p
            .parse::<i32>()
            .ok()
            .filter(|p| *p >= 0)
            .ok_or_else(|| format!("`priority={p}` is not a non-negative integer"))?,
    };
    Ok(PrinterColumn {
        name: get("name").unwrap_or_default(),
        type_,
        json_path,
        description: get("description"),
        format: get("format"),
        priority,
    })
}

/// A `+scale`: each path read (`.spec.replicas`) and followed through the kind's fields as
/// their JSON names: the replicas must be integers, the selector a string or a
/// `LabelSelector` (E0320 otherwise). A path into a type whose fields are not known here (a
/// foreign type, a map, `serde_json::Value`) is taken as written.
fn scale_subresource(
    pkg: &Package,
    kind: &TypeDef,
    tag: &Tag,
) -> Result<ScaleSubresource, Box<Diagnostic>> {
    let path = |key: &str, roots: &[&str]| -> Result<Option<Vec<String>>, Box<Diagnostic>> {
        let Some(text) = tag.value.pair(key) else {
            return Ok(None);
        };
        let segments: Vec<String> = text.split('.').skip(1).map(str::to_string).collect();
        let simple = text.starts_with('.')
            && segments.len() >= 2
            && segments.iter().all(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !simple {
            return Err(Box::new(bad_value(
                spec_of(tag.key),
                tag.span,
                &format!(
                    "`{key}={text}` is not a field path such as `.{}.replicas` (field names after dots; no indexes)",
                    roots[0]
                ),
            )));
        }
        if !roots.contains(&segments[0].as_str()) {
            let under: Vec<String> = roots.iter().map(|r| format!("`.{r}`")).collect();
            return Err(Box::new(bad_value(
                spec_of(tag.key),
                tag.span,
                &format!("`{key}={text}` must be under {}", under.join(" or ")),
            )));
        }
        let wants = if key == "labelSelectorPath" {
            "a string (a label selector in its text form) or a `LabelSelector`"
        } else {
            "an integer"
        };
        match reach_field(pkg, kind, &segments) {
            Err(why) => Err(Box::new(scale_path_error(tag, key, text, &why.0, why.1))),
            Ok(None) => Ok(Some(segments)),
            Ok(Some(ty)) => {
                let fits = match ty.unwrapped() {
                    FieldType::Known(KnownType::Json) => true,
                    FieldType::Int(_) => key != "labelSelectorPath",
                    FieldType::String => key == "labelSelectorPath",
                    FieldType::Foreign { path, .. } => {
                        key == "labelSelectorPath" && path.last() == "LabelSelector"
                    }
                    _ => false,
                };
                if fits {
                    Ok(Some(segments))
                } else {
                    Err(Box::new(scale_path_error(
                        tag,
                        key,
                        text,
                        &format!("`{text}` holds {}, not {wants}", describe_type(ty)),
                        None,
                    )))
                }
            }
        }
    };
    let required = |p: Option<Vec<String>>| p.expect("the grammar requires the key");
    Ok(ScaleSubresource {
        spec_replicas_path: required(path("specReplicasPath", &["spec"])?),
        status_replicas_path: required(path("statusReplicasPath", &["status"])?),
        label_selector_path: path("labelSelectorPath", &["status", "spec"])?,
    })
}

fn scale_path_error(
    tag: &Tag,
    key: &str,
    text: &str,
    why: &str,
    guess: Option<String>,
) -> Diagnostic {
    let d = Diagnostic::error("E0320", format!("`+scale` {key}: {why}"))
        .at(tag.span, format!("`{text}` does not fit"));
    match guess {
        Some(g) => d.help(format!("did you mean `{g}`?")),
        None => d.help("name an integer field for the replicas (`.spec.replicas`, `.status.replicas`) and a string or `LabelSelector` field for the selector"),
    }
}

/// The type of the field `segments` (JSON names) reach from `root`; `None` when the path goes
/// through a type whose fields are not known here. An error says why not, with a near name.
fn reach_field<'p>(
    pkg: &'p Package,
    root: &'p TypeDef,
    segments: &[String],
) -> Result<Option<&'p FieldType>, (String, Option<String>)> {
    let mut here = root;
    for (i, seg) in segments.iter().enumerate() {
        let mut wires = Vec::new();
        let mut seen = vec![here.name.as_str()];
        let known = flattened_wires(pkg, here, &mut wires, &mut seen);
        let Some(field) = find_wire(pkg, here, seg, &mut Vec::new()) else {
            if !known {
                // A flattened type whose fields are not known here may hold it.
                return Ok(None);
            }
            let guess = wires
                .iter()
                .map(|w| (strsim::jaro_winkler(seg, w), *w))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(score, _)| *score > 0.7)
                .map(|(_, w)| {
                    let mut p: Vec<&str> = segments[..i].iter().map(String::as_str).collect();
                    p.push(w);
                    format!(".{}", p.join("."))
                });
            return Err((format!("`{}` has no field `{seg}`", here.name), guess));
        };
        if i + 1 == segments.len() {
            return Ok(Some(&field.ty));
        }
        match field.ty.unwrapped() {
            FieldType::Local(name) => match pkg.type_named(name) {
                Some(t) if matches!(t.body, TypeBody::Struct(_)) => here = t,
                Some(_) => {
                    return Err((
                        format!(
                            "`.{}` holds a `{name}`, which is not a struct with named fields",
                            segments[..=i].join(".")
                        ),
                        None,
                    ));
                }
                None => return Ok(None),
            },
            FieldType::Foreign { .. }
            | FieldType::Map { .. }
            | FieldType::Known(KnownType::Json) => {
                return Ok(None);
            }
            other => {
                return Err((
                    format!(
                        "`.{}` holds {}, which has no fields",
                        segments[..=i].join("."),
                        describe_type(other)
                    ),
                    None,
                ));
            }
        }
    }
    Ok(None)
}

/// The field of `t` whose JSON name is `wire`, looking into flattened structs of the package.
fn find_wire<'p>(
    pkg: &'p Package,
    t: &'p TypeDef,
    wire: &str,
    seen: &mut Vec<&'p str>,
) -> Option<&'p Field> {
    for f in t.fields() {
        if !f.serde.flatten {
            if f.wire == wire {
                return Some(f);
            }
            continue;
        }
        if let FieldType::Local(inner) = f.ty.unwrapped()
            && !seen.contains(&inner.as_str())
        {
            seen.push(inner.as_str());
            if let Some(found) = pkg
                .type_named(inner)
                .and_then(|it| find_wire(pkg, it, wire, seen))
            {
                return Some(found);
            }
        }
    }
    None
}

/// Verbs from `+genclient:*`, and the `+genclient:method`s.
fn client_spec(
    tags: &[Tag],
    has_status: bool,
    names: &TypeNames,
    diags: &mut Vec<Diagnostic>,
) -> ClientSpec {
    let find = |k: TagKey| tags.iter().find(|t| t.key == k);
    let verbs_of = |t: &Tag| -> Vec<Verb> {
        match &t.value {
            TagValue::Words(ws) => ws.iter().filter_map(|w| Verb::from_name(w)).collect(),
            _ => Vec::new(),
        }
    };
    let only = find(TagKey::OnlyVerbs);
    let skip = find(TagKey::SkipVerbs);
    if let (Some(o), Some(s)) = (only, skip) {
        diags.push(
            Diagnostic::error(
                "E0307",
                "`+genclient:onlyVerbs` and `+genclient:skipVerbs` together",
            )
            .at(s.span, "conflicts with onlyVerbs")
            .also(o.span, "verbs listed here")
            .help("use one of them"),
        );
    }
    // Each of these sets the whole verb set: a second one would be dropped without a word.
    let mut setters: Vec<&Tag> = [TagKey::NoVerbs, TagKey::Readonly, TagKey::OnlyVerbs]
        .into_iter()
        .filter_map(find)
        .collect();
    setters.sort_by_key(|t| t.span.start);
    if let [first, second, ..] = setters[..] {
        diags.push(
            Diagnostic::error(
                "E0307",
                format!("`+{}` and `+{}` together", first.name(), second.name()),
            )
            .at(second.span, format!("conflicts with `+{}`", first.name()))
            .also(first.span, "verbs chosen here")
            .help(format!(
                "keep one of them: `+{}` or `+{}`",
                first.name(),
                second.name()
            )),
        );
    }
    let status_verbs: Vec<Verb> = only
        .map(verbs_of)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| matches!(v, Verb::UpdateStatus | Verb::ApplyStatus))
        .collect();
    if let (Some(no_status), Some(o), Some(v)) =
        (find(TagKey::NoStatus), only, status_verbs.first())
    {
        diags.push(
            Diagnostic::error(
                "E0307",
                format!(
                    "`+genclient:noStatus` with `{}` in `+genclient:onlyVerbs`",
                    v.as_str()
                ),
            )
            .at(no_status.span, format!("removes `{}`", v.as_str()))
            .also(o.span, "verbs listed here")
            .help(format!(
                "remove `+genclient:noStatus`, or `{}` from onlyVerbs",
                v.as_str()
            )),
        );
    }
    let mut verbs: std::collections::BTreeSet<Verb> = if find(TagKey::NoVerbs).is_some() {
        Default::default()
    } else if find(TagKey::Readonly).is_some() {
        [Verb::Get, Verb::List, Verb::Watch].into()
    } else if let Some(o) = only {
        verbs_of(o).into_iter().collect()
    } else {
        Verb::ALL.into_iter().collect()
    };
    if let Some(s) = skip {
        for v in verbs_of(s) {
            verbs.remove(&v);
        }
    }
    if !has_status || find(TagKey::NoStatus).is_some() {
        verbs.remove(&Verb::UpdateStatus);
        verbs.remove(&Verb::ApplyStatus);
    }
    let mut methods: Vec<CustomMethod> = Vec::new();
    for tag in tags.iter().filter(|t| t.key == TagKey::Method) {
        match custom_method(tag, names) {
            Ok(m) => {
                // Methods are written in snake case: `GetScale` and `getScale` are one.
                let snake = crate::naming::snake_case(&m.name);
                if let Some(prev) = methods
                    .iter()
                    .find(|p| crate::naming::snake_case(&p.name) == snake)
                {
                    diags.push(
                        Diagnostic::error(
                            "E0104",
                            if prev.name == m.name {
                                format!("`+genclient:method` `{}` is given twice", m.name)
                            } else {
                                format!(
                                    "`+genclient:method` `{}` and `{}` are both the method `{snake}`",
                                    prev.name, m.name
                                )
                            },
                        )
                        .at(tag.span, "second method of this name")
                        .also(prev.span, "first given here")
                        .help("give each method its own name"),
                    );
                } else {
                    methods.push(m);
                }
            }
            Err(why) => diags.push(bad_value(spec_of(TagKey::Method), tag.span, &why)),
        }
    }
    ClientSpec { verbs, methods }
}

fn custom_method(tag: &Tag, names: &TypeNames) -> Result<CustomMethod, String> {
    let v = &tag.value;
    let name = v.pair("name").unwrap_or_default().to_string();
    if !crate::naming::is_rust_ident(&name) {
        return Err(format!("method name `{name}` is not an identifier"));
    }
    let verb_text = v.pair("verb").unwrap_or_default();
    // client-go's extension verbs: no updateStatus, deleteCollection, watch or delete.
    const BASE: [Verb; 6] = [
        Verb::Create,
        Verb::Update,
        Verb::Get,
        Verb::List,
        Verb::Patch,
        Verb::Apply,
    ];
    let verb = BASE
        .into_iter()
        .find(|b| b.as_str() == verb_text)
        .ok_or_else(|| {
            let all: Vec<&str> = BASE.iter().map(|b| b.as_str()).collect();
            format!(
                "`verb={verb_text}` is not a verb a method can extend ({})",
                all.join(", ")
            )
        })?;
    let subresource = match v.pair("subresource") {
        None => None,
        Some(s) if crate::naming::is_dns_label(s) => Some(s.to_string()),
        Some(s) => return Err(format!("`subresource={s}` is not a lower-case DNS label")),
    };
    let ty = |key: &str| -> Result<Option<FieldType>, String> {
        match v.pair(key) {
            None => Ok(None),
            // Copied from a `types.go` (`result=k8s.io/api/autoscaling/v1.Scale`).
            Some(text) if text.contains('/') => Err(format!(
                "`{key}={text}` is a Go import path: name the type as Rust does, {}",
                match rust_path_of_go_type(text) {
                    Some(rust) => format!("`{key}={rust}`"),
                    None => "e.g. `Scale` (declared or imported in the package) or \
                             `k8s_openapi::api::autoscaling::v1::Scale`"
                        .to_string(),
                }
            )),
            Some(text) => {
                let path = RustPath::parse(text).map_err(|e| format!("`{key}=`: {e}"))?;
                names
                    .resolve(&path)
                    .map(Some)
                    .map_err(|e| format!("`{key}=`: {e}"))
            }
        }
    };
    let input = ty("input")?;
    if input.is_some() && !verb.takes_input() {
        return Err(format!(
            "`input=` needs a verb that sends an object (create, update, apply), not `{}`",
            verb.as_str()
        ));
    }
    Ok(CustomMethod {
        name,
        verb,
        subresource,
        input,
        result: ty("result")?,
        span: tag.span,
    })
}

/// The k8s-openapi path of a Kubernetes type named by its Go import path
/// (`k8s.io/api/autoscaling/v1.Scale` → `k8s_openapi::api::autoscaling::v1::Scale`); `None` for
/// a package k8s-openapi does not mirror.
fn rust_path_of_go_type(go: &str) -> Option<String> {
    let (package, name) = go.rsplit_once('.')?;
    let module = package
        .strip_prefix("k8s.io/api/")
        .map(|rest| format!("k8s_openapi::api::{}", rest.replace('/', "::")))
        .or_else(|| {
            package
                .strip_prefix("k8s.io/apimachinery/")
                .map(|rest| format!("k8s_openapi::apimachinery::{}", rest.replace('/', "::")))
        })?;
    (crate::naming::is_rust_ident(name) && module.split("::").all(crate::naming::is_rust_ident))
        .then(|| format!("{module}::{name}"))
}

fn field_tags_of(
    pkg: &Package,
    type_name: &str,
    f: &Field,
    tags: Vec<Tag>,
    diags: &mut Vec<Diagnostic>,
) -> FieldOptions {
    let item = format!("{type_name}.{}", f.name);
    let ty = f.ty.unwrapped().clone();
    let mut o = FieldOptions::default();
    let mut list_map_keys: Vec<(String, Span)> = Vec::new();
    let mut list_type_tag: Option<Span> = None;
    let mut merge_key_tag: Option<(String, Span)> = None;
    let mut presence_tag: Option<(Presence, Span)> = None;
    for tag in &tags {
        match tag.key {
            TagKey::Optional | TagKey::Required => {
                let p = if tag.key == TagKey::Optional {
                    Presence::Optional
                } else {
                    Presence::Required
                };
                if let Some((prev, span)) = presence_tag
                    && prev != p
                {
                    diags.push(
                        Diagnostic::error(
                            "E0312",
                            format!("`{item}` is tagged both `+optional` and `+required`"),
                        )
                        .at(tag.span, "conflicts with the other tag")
                        .also(span, "given here")
                        .help("keep one of them"),
                    );
                    continue;
                }
                presence_tag = Some((p, tag.span));
                o.presence = Some(p);
            }
            TagKey::Default => {
                if let TagValue::Json(value) = &tag.value {
                    match check_default(pkg, &f.ty, value, 0) {
                        Ok(()) => {
                            o.default = Some(Spanned {
                                value: value.clone(),
                                span: tag.span,
                            })
                        }
                        Err(why) => diags.push(
                            Diagnostic::error(
                                "E0313",
                                format!("the default of `{item}` does not fit its type"),
                            )
                            .at(tag.span, why)
                            .help(format!(
                                "give a JSON value of the field's type ({})",
                                describe_type(&f.ty)
                            )),
                        ),
                    }
                }
            }
            TagKey::ListType => {
                let lt = match tag.value {
                    TagValue::Word("set") => ListType::Set,
                    TagValue::Word("map") => ListType::Map,
                    _ => ListType::Atomic,
                };
                let fits = match &ty {
                    FieldType::Vec(_) => true,
                    FieldType::Set { .. } => lt != ListType::Map,
                    _ => false,
                };
                if !fits {
                    let wants = if matches!(ty, FieldType::Set { .. }) {
                        "a `Vec` (a set field is `+listType=set`, or `atomic`)"
                    } else {
                        "a list (`Vec<T>`)"
                    };
                    diags.push(misfit(tag, &item, wants));
                    continue;
                }
                // structured-merge-diff keeps sets of scalars only: server-side apply (and
                // kube-apiserver's CRD validation) refuse a set of objects or lists.
                if lt == ListType::Set
                    && let FieldType::Vec(elem) | FieldType::Set { elem, .. } = &ty
                    && pkg.is_object_or_list(elem)
                {
                    diags.push(
                        misfit(tag, &item, "a list of scalars (strings, numbers, booleans)").help(
                            "server-side apply keeps sets of scalars only: make a list of \
                                 objects `+listType=map` with `+listMapKey=<field>` (items told \
                                 apart by that field), or `+listType=atomic` (replaced whole)",
                        ),
                    );
                    continue;
                }
                list_type_tag = Some(tag.span);
                o.list_type = Some(lt);
            }
            TagKey::ListMapKey => {
                if let TagValue::Text(k) = &tag.value {
                    list_map_keys.push((k.clone(), tag.span));
                }
            }
            TagKey::MapType => {
                if matches!(ty, FieldType::Map { .. }) {
                    o.map_type = Some(map_type(tag));
                } else {
                    diags.push(misfit(tag, &item, "a map (`BTreeMap<String, V>`)"));
                }
            }
            TagKey::StructType => {
                let is_struct = match &ty {
                    FieldType::Local(n) => pkg
                        .type_named(n)
                        .is_some_and(|t| matches!(t.body, TypeBody::Struct(_))),
                    FieldType::Foreign { .. } | FieldType::Known(KnownType::ObjectMeta) => true,
                    _ => false,
                };
                if is_struct {
                    o.struct_type = Some(map_type(tag));
                } else {
                    diags.push(misfit(tag, &item, "a field whose type is a struct"));
                }
            }
            TagKey::PatchStrategy => {
                if let TagValue::Words(ws) = &tag.value {
                    o.patch_strategy = ws
                        .iter()
                        .map(|w| match *w {
                            "merge" => PatchStrategy::Merge,
                            "retainKeys" => PatchStrategy::RetainKeys,
                            _ => PatchStrategy::Replace,
                        })
                        .collect();
                }
            }
            TagKey::PatchMergeKey => {
                if let TagValue::Text(k) = &tag.value {
                    merge_key_tag = Some((k.clone(), tag.span));
                }
            }
            TagKey::ConversionGen => match &tag.value {
                TagValue::False => o.convert = false,
                _ => diags.push(bad_value(
                    spec_of(tag.key),
                    tag.span,
                    "on a field the only value is `false` (convert it by hand)",
                )),
            },
            TagKey::OpenapiGen => o.openapi = !matches!(tag.value, TagValue::Word("false")),
            TagKey::Protobuf => {
                if let TagValue::Number(n) = tag.value {
                    o.protobuf_number = Some(Spanned {
                        value: n,
                        span: tag.span,
                    });
                }
            }
            // The tag table allows no other tag on a field.
            _ => {}
        }
    }
    let elem = match &ty {
        FieldType::Vec(e) | FieldType::Set { elem: e, .. } => Some(e.unwrapped().clone()),
        _ => None,
    };
    if o.list_type == Some(ListType::Map) && list_map_keys.is_empty() {
        diags.push(
            Diagnostic::error(
                "E0312",
                format!("`+listType=map` on `{item}` without `+listMapKey`"),
            )
            .at(list_type_tag.unwrap_or(f.span), "a map list needs its keys")
            .help("add `/// +listMapKey=<field>` for each key field of the element type"),
        );
    }
    for (key, span) in list_map_keys {
        if o.list_type != Some(ListType::Map) {
            diags.push(
                Diagnostic::error(
                    "E0312",
                    format!("`+listMapKey` on `{item}`, which is not `+listType=map`"),
                )
                .at(span, "keys are read only for map lists")
                .help("add `/// +listType=map` to the field, or remove the key"),
            );
            continue;
        }
        if let Some(d) = check_key(pkg, elem.as_ref(), &item, &key, span, "+listMapKey") {
            diags.push(d);
        } else {
            o.list_map_keys.push(key);
        }
    }
    if let Some((key, span)) = merge_key_tag {
        if let Some(d) = check_key(pkg, elem.as_ref(), &item, &key, span, "+patchMergeKey") {
            diags.push(d);
        } else {
            o.patch_merge_key = Some(key);
        }
    }
    o
}

/// E0314 when `key` is not the wire name of a field of the list's element type.
fn check_key(
    pkg: &Package,
    elem: Option<&FieldType>,
    item: &str,
    key: &str,
    span: Span,
    tag: &str,
) -> Option<Diagnostic> {
    let Some(elem) = elem else {
        return Some(
            Diagnostic::error("E0312", format!("`{tag}` on `{item}`, which is not a list"))
                .at(span, "keys name fields of list elements")
                .help("remove the tag"),
        );
    };
    let FieldType::Local(name) = elem else {
        // A foreign element type: its fields are not known here.
        return None;
    };
    let t = pkg.type_named(name)?;
    // The JSON names of the element's fields, those of `#[serde(flatten)]`ed structs included;
    // a flattened type whose fields are not known here (a foreign `Container`) may hold the key.
    let mut wires: Vec<&str> = Vec::new();
    let mut seen = vec![name.as_str()];
    if !flattened_wires(pkg, t, &mut wires, &mut seen) || wires.contains(&key) {
        return None;
    }
    let best = wires
        .iter()
        .map(|w| (strsim::jaro_winkler(key, w), *w))
        .chain(
            t.fields()
                .iter()
                .filter(|f| f.name == key)
                .map(|f| (2.0, f.wire.as_str())),
        )
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let d = Diagnostic::error(
        "E0314",
        format!("`{tag}={key}` on `{item}`: `{name}` has no field `{key}`"),
    )
    .at(span, format!("not a field of `{name}`"))
    .note(format!(
        "keys are JSON names of `{name}`'s fields: {}",
        wires
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Some(match best {
        Some((score, w)) if score > 0.7 => d.help(format!("did you mean `{w}`?")),
        _ => d.help(format!("name a field of `{name}`")),
    })
}

/// Appends the JSON names `t`'s fields give its objects, through flattened structs of the
/// package (`seen` guards against a flattening cycle); `false` when a flattened field's type is
/// not a struct of the package, whose names cannot be known here.
fn flattened_wires<'p>(
    pkg: &'p Package,
    t: &'p TypeDef,
    wires: &mut Vec<&'p str>,
    seen: &mut Vec<&'p str>,
) -> bool {
    for f in t.fields() {
        if !f.serde.flatten {
            wires.push(f.wire.as_str());
            continue;
        }
        let mut ty = &f.ty;
        while let FieldType::Option(inner) | FieldType::Box(inner) = ty {
            ty = inner;
        }
        let FieldType::Local(inner) = ty else {
            return false;
        };
        if seen.contains(&inner.as_str()) {
            continue;
        }
        seen.push(inner.as_str());
        match pkg.type_named(inner) {
            Some(inner) if !inner.fields().is_empty() => {
                if !flattened_wires(pkg, inner, wires, seen) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// A short description of what JSON a field type takes, for help text.
fn describe_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Bool => "a boolean".into(),
        FieldType::Int(i) => format!("an integer that fits `{}`", i.name()),
        FieldType::Float(_) => "a number".into(),
        FieldType::String => "a string".into(),
        FieldType::Option(t) | FieldType::Box(t) => describe_type(t),
        FieldType::Vec(_) | FieldType::Set { .. } => "an array".into(),
        FieldType::Map { .. } => "an object".into(),
        FieldType::Known(KnownType::Quantity) => "a quantity such as `\"1Gi\"`".into(),
        FieldType::Known(KnownType::IntOrString) => "an integer or a string".into(),
        FieldType::Known(KnownType::Json) => "any JSON".into(),
        FieldType::Known(KnownType::ObjectMeta | KnownType::ListMeta) => "an object".into(),
        FieldType::Known(_) => "a string".into(),
        FieldType::Local(n) => format!("a `{n}`"),
        FieldType::Foreign { path, .. } => format!("a `{}`", path.last()),
        FieldType::Shared { inner, .. } => describe_type(inner),
    }
}

/// Whether `value` is a JSON value of type `ty` (as the type's serde would read it).
fn check_default(pkg: &Package, ty: &FieldType, value: &Value, depth: usize) -> Result<(), String> {
    if depth > 32 {
        return Ok(());
    }
    let wrong = |want: &str| wrong_default(value, want);
    match ty {
        FieldType::Option(t) | FieldType::Box(t) | FieldType::Shared { inner: t, .. } => {
            check_default(pkg, t, value, depth + 1)
        }
        FieldType::Bool => match value {
            Value::Bool(_) => Ok(()),
            _ => wrong("a boolean"),
        },
        FieldType::Int(i) => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                if i.holds(n) {
                    Ok(())
                } else {
                    Err(format!("{n} does not fit `{}`", i.name()))
                }
            }
            _ => wrong(&format!("an integer (`{}`)", i.name())),
        },
        FieldType::Float(f) => match value {
            // The generated default is a literal of the field's type: one out of its range
            // does not compile (serde would read it as infinity).
            Value::Number(n)
                if *f == FloatType::F32
                    && n.as_f64().is_some_and(|x| x.abs() > f32::MAX as f64) =>
            {
                wrong("a number within `f32`'s range")
            }
            Value::Number(_) => Ok(()),
            _ => wrong("a number"),
        },
        FieldType::String => match value {
            Value::String(_) => Ok(()),
            _ => wrong("a string"),
        },
        FieldType::Vec(e) | FieldType::Set { elem: e, .. } => match value {
            Value::Array(items) => items
                .iter()
                .try_for_each(|i| check_default(pkg, e, i, depth + 1)),
            _ => wrong("an array"),
        },
        FieldType::Map { value: v, .. } => match value {
            Value::Object(m) => m
                .values()
                .try_for_each(|i| check_default(pkg, v, i, depth + 1)),
            _ => wrong("an object"),
        },
        FieldType::Known(k) => match (k, value) {
            (KnownType::Json, _) => Ok(()),
            // A quantity as Kubernetes parses it (`resource.ParseQuantity`); the API server's
            // schema publishes the same grammar as a `pattern`.
            (KnownType::Quantity, Value::String(s)) if !is_quantity(s) => Err(format!(
                "\"{s}\" is not a quantity (`100Mi`, `0.5`, `2G`, `1e3`: a number and one suffix, no space)"
            )),
            (KnownType::Quantity | KnownType::IntOrString, Value::String(_) | Value::Number(_)) => {
                Ok(())
            }
            (KnownType::Quantity, _) => wrong("a quantity (a string or a number)"),
            (KnownType::IntOrString, _) => wrong("an integer or a string"),
            (KnownType::ObjectMeta | KnownType::ListMeta, Value::Object(_)) => Ok(()),
            (KnownType::ObjectMeta | KnownType::ListMeta, _) => wrong("an object"),
            // As k8s-openapi reads them: an RFC 3339 timestamp, standard base64, and (kube's
            // metav1.Duration) a Go duration.
            (KnownType::Time | KnownType::MicroTime, Value::String(s)) => s
                .parse::<jiff::Timestamp>()
                .map(drop)
                .map_err(|_| format!("\"{s}\" is not an RFC 3339 time (`2024-01-02T15:04:05Z`)")),
            (KnownType::Bytes, Value::String(s)) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map(drop)
                    .map_err(|_| format!("\"{s}\" is not base64 (the wire form of bytes)"))
            }
            (KnownType::Duration, Value::String(s)) => {
                if is_go_duration(s) {
                    Ok(())
                } else {
                    Err(format!(
                        "\"{s}\" is not a Go duration (`30s`, `1h30m`, `250ms`)"
                    ))
                }
            }
            _ => wrong("a string"),
        },
        FieldType::Local(name) => {
            let Some(t) = pkg.type_named(name) else {
                return Ok(());
            };
            // `#[serde(into = "String", try_from = "String")]`: read as that scalar, whatever
            // the Rust shape (its own `TryFrom` may refuse more; that is the user's code).
            if let Some(scalar) = &t.serde.into_scalar {
                return check_default(pkg, scalar, value, depth + 1);
            }
            match &t.body {
                TypeBody::Struct(fields) if t.serde.transparent => {
                    match fields.iter().filter(|f| !f.serde.skip).collect::<Vec<_>>()[..] {
                        [only] => check_default(pkg, &only.ty, value, depth + 1),
                        _ => Ok(()),
                    }
                }
                TypeBody::Struct(fields) => match value {
                    Value::Object(m) => check_struct_default(pkg, t, name, fields, m, depth),
                    _ => wrong(&format!("an object (`{name}`)")),
                },
                TypeBody::Enum(vs)
                    if vs.iter().all(|v| matches!(v.shape, VariantShape::Unit))
                        && t.serde.tag.is_none()
                        && !t.serde.untagged =>
                {
                    let values: Vec<&str> = vs
                        .iter()
                        .filter(|v| !v.serde.skip)
                        .map(|v| v.wire.as_str())
                        .collect();
                    // serde reads a variant by its `#[serde(alias = …)]` names too, and any
                    // other string as the `#[serde(other)]` variant.
                    let alias = |s: &str| {
                        vs.iter().any(|v| {
                            !v.serde.skip
                                && (v.serde.other || v.serde.aliases.iter().any(|a| a == s))
                        })
                    };
                    match value {
                        Value::String(s) if values.contains(&s.as_str()) || alias(s) => Ok(()),
                        _ => Err(format!(
                            "{} is not a value of `{name}` ({})",
                            value,
                            values
                                .iter()
                                .map(|v| format!("\"{v}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    }
                }
                TypeBody::Tuple(ts) if ts.len() == 1 => {
                    check_default(pkg, &ts[0], value, depth + 1)
                }
                TypeBody::Enum(vs) => check_enum_default(pkg, t, name, vs, value, depth),
                _ => Ok(()),
            }
        }
        FieldType::Foreign { path, args } if args.is_empty() => check_foreign_default(path, value),
        FieldType::Foreign { .. } => Ok(()),
    }
}

/// A default of another JSON kind than the type reads: "a string where an integer is expected".
fn wrong_default(value: &Value, want: &str) -> Result<(), String> {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Err(format!("{kind} where {want} is expected"))
}

/// A default for a type of another crate that serialises as a scalar — the standard library's
/// `NonZero*`, addresses and paths, chrono's `DateTime` (the types openapi-gen publishes as
/// scalars) — read as serde reads it. Other foreign types may be any JSON value.
fn check_foreign_default(path: &RustPath, value: &Value) -> Result<(), String> {
    let std = matches!(path.first(), "std" | "core" | "alloc") || path.is_single();
    let last = path.last();
    if std
        && let Some(int) = last.strip_prefix("NonZero").and_then(|n| {
            IntType::ALL
                .into_iter()
                .find(|i| i.name().eq_ignore_ascii_case(n))
        })
    {
        return match value {
            Value::Number(n) if (n.is_i64() || n.is_u64()) && int.holds(n) => {
                if n.as_i64() == Some(0) {
                    Err(format!("0 does not read as `{last}`"))
                } else {
                    Ok(())
                }
            }
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                Err(format!("{n} does not fit `{last}`"))
            }
            _ => wrong_default(value, &format!("a non-zero integer (`{last}`)")),
        };
    }
    let parses = |s: &str| -> Option<bool> {
        Some(match last {
            "IpAddr" => s.parse::<std::net::IpAddr>().is_ok(),
            "Ipv4Addr" => s.parse::<std::net::Ipv4Addr>().is_ok(),
            "Ipv6Addr" => s.parse::<std::net::Ipv6Addr>().is_ok(),
            "SocketAddr" => s.parse::<std::net::SocketAddr>().is_ok(),
            "SocketAddrV4" => s.parse::<std::net::SocketAddrV4>().is_ok(),
            "SocketAddrV6" => s.parse::<std::net::SocketAddrV6>().is_ok(),
            "PathBuf" => true,
            _ => return None,
        })
    };
    if std && parses("").is_some() {
        return match value {
            Value::String(s) if parses(s) == Some(true) => Ok(()),
            Value::String(s) => Err(format!("\"{s}\" does not read as `{last}`")),
            _ => wrong_default(value, &format!("a string (`{last}`)")),
        };
    }
    if last == "DateTime" && (path.first() == "chrono" || path.is_single()) {
        return match value {
            Value::String(s) => s
                .parse::<jiff::Timestamp>()
                .map(drop)
                .map_err(|_| format!("\"{s}\" is not an RFC 3339 time (`2024-01-02T15:04:05Z`)")),
            _ => wrong_default(value, "a string (`DateTime`)"),
        };
    }
    Ok(())
}

/// A struct's default, as serde reads it: known fields of the right types, and every field
/// serde requires present (not an `Option`, no serde default). (A `#[serde(flatten)]` field
/// takes what the others do not: then unknown keys and absent fields are not judged.)
fn check_struct_default(
    pkg: &Package,
    t: &TypeDef,
    name: &str,
    fields: &[Field],
    m: &serde_json::Map<String, Value>,
    depth: usize,
) -> Result<(), String> {
    let flattened = fields.iter().any(|f| f.serde.flatten);
    for (k, v) in m {
        match fields.iter().find(|f| &f.wire == k && !f.serde.skip) {
            Some(f) => {
                check_default(pkg, &f.ty, v, depth + 1).map_err(|e| format!("`{k}`: {e}"))?
            }
            None if flattened => {}
            None => return Err(format!("`{name}` has no field `{k}`")),
        }
    }
    if flattened || t.serde.default {
        return Ok(());
    }
    let missing: Vec<String> = fields
        .iter()
        .filter(|f| !f.serde.skip && !f.may_be_absent(false) && !m.contains_key(&f.wire))
        .map(|f| format!("`{}`", f.wire))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`{name}` needs {} (serde refuses the value without)",
            missing.join(", ")
        ))
    }
}

/// An enum's default in the enum's serde representation: externally tagged (a unit variant's
/// name, or `{"Variant": …}`), internally tagged (`{"<tag>": "Variant", …}`), adjacently
/// tagged (`{"<tag>": "Variant", "<content>": …}`) or untagged (whatever one variant takes).
fn check_enum_default(
    pkg: &Package,
    t: &TypeDef,
    name: &str,
    variants: &[Variant],
    value: &Value,
    depth: usize,
) -> Result<(), String> {
    let live: Vec<&Variant> = variants.iter().filter(|v| !v.serde.skip).collect();
    let names = || {
        live.iter()
            .map(|v| format!("\"{}\"", v.wire))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let named = |wire: &str| {
        live.iter()
            .copied()
            .find(|v| v.wire == wire || v.serde.aliases.iter().any(|a| a == wire))
    };
    // A variant's content as serde reads it (its fields, its one value, or its values).
    let content = |v: &Variant, value: &Value| -> Result<(), String> {
        match (&v.shape, value) {
            (VariantShape::Unit, Value::Null) => Ok(()),
            (VariantShape::Unit, _) => Err(format!("`{}` holds no value", v.name)),
            (VariantShape::Tuple(ts), _) if ts.len() == 1 => {
                check_default(pkg, &ts[0], value, depth + 1)
            }
            (VariantShape::Tuple(ts), Value::Array(items)) if items.len() == ts.len() => ts
                .iter()
                .zip(items)
                .try_for_each(|(t, i)| check_default(pkg, t, i, depth + 1)),
            (VariantShape::Tuple(ts), _) => Err(format!("`{}` holds {} values", v.name, ts.len())),
            (VariantShape::Struct(fields), Value::Object(m)) => {
                check_struct_default(pkg, t, &v.name, fields, m, depth)
            }
            (VariantShape::Struct(_), _) => Err(format!("`{}` holds an object", v.name)),
        }
    };
    match (&t.serde.tag, &t.serde.content, t.serde.untagged) {
        (_, _, true) => {
            if live.iter().any(|v| content(v, value).is_ok()) {
                Ok(())
            } else {
                Err(format!("{value} is a value of no variant of `{name}`"))
            }
        }
        (Some(tag), Some(inner), false) => {
            let Value::Object(m) = value else {
                return Err(format!(
                    "an object `{{\"{tag}\": …, \"{inner}\": …}}` (`{name}`) is expected"
                ));
            };
            let Some(v) = m.get(tag).and_then(Value::as_str).and_then(named) else {
                return Err(format!(
                    "`{tag}` must name a variant of `{name}` ({})",
                    names()
                ));
            };
            match m.get(inner) {
                Some(c) => content(v, c),
                None if matches!(v.shape, VariantShape::Unit) => Ok(()),
                None => Err(format!("`{}` needs `{inner}`", v.name)),
            }
        }
        (Some(tag), None, false) => {
            let Value::Object(m) = value else {
                return Err(format!("an object with `{tag}` (`{name}`) is expected"));
            };
            let Some(v) = m.get(tag).and_then(Value::as_str).and_then(named) else {
                return Err(format!(
                    "`{tag}` must name a variant of `{name}` ({})",
                    names()
                ));
            };
            let mut rest = m.clone();
            rest.remove(tag);
            match &v.shape {
                VariantShape::Struct(fields) => {
                    check_struct_default(pkg, t, &v.name, fields, &rest, depth)
                }
                // A newtype's fields sit beside the tag; a unit variant has only the tag.
                VariantShape::Tuple(ts) if ts.len() == 1 => {
                    check_default(pkg, &ts[0], &Value::Object(rest), depth + 1)
                }
                _ => Ok(()),
            }
        }
        (None, _, false) => match value {
            Value::String(s) => match named(s) {
                Some(v) if matches!(v.shape, VariantShape::Unit) => Ok(()),
                Some(v) => Err(format!(
                    "`{}` holds a value: write `{{\"{s}\": …}}`",
                    v.name
                )),
                None if live.iter().any(|v| v.serde.other) => Ok(()),
                None => Err(format!(
                    "{value} is not a variant of `{name}` ({})",
                    names()
                )),
            },
            Value::Object(m) if m.len() == 1 => {
                let (k, c) = m.iter().next().expect("one entry");
                match named(k) {
                    Some(v) => content(v, c),
                    None => Err(format!(
                        "\"{k}\" is not a variant of `{name}` ({})",
                        names()
                    )),
                }
            }
            _ => Err(format!(
                "a variant's name, or an object with one variant's name as its key (`{name}`), is expected"
            )),
        },
    }
}

/// A Go `time.Duration` string as `ParseDuration` (and kube's `Duration`) reads it: an optional
/// sign, then one or more decimal numbers each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`); `0` alone.
/// Kubernetes' quantity grammar: a signed decimal number, then nothing, a binary suffix
/// (`Ki` … `Ei`), a decimal one (`n`, `u`, `m`, `k`, `M` … `E`) or an exponent (`e3`, `E-2`).
fn is_quantity(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || number.matches('.').count() > 1 {
        return false;
    }
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T"
        | "P" | "E" => true,
        _ => suffix
            .strip_prefix(['e', 'E'])
            .map(|exp| exp.strip_prefix(['-', '+']).unwrap_or(exp))
            .is_some_and(|exp| !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit())),
    }
}

fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// E0309: a user type named like something generated code declares in the package.
fn generated_name_collisions(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    if pkg.is_internal() {
        return;
    }
    for t in &pkg.types {
        let reserved = crate::naming::generated_names(&t.name, t.resource.is_some());
        for (generated, generator) in reserved {
            if let Some(user) = pkg.type_named(&generated) {
                diags.push(
                    Diagnostic::error(
                        "E0309",
                        format!(
                            "`{generated}` collides with a name {generator} generates for `{}`",
                            t.name
                        ),
                    )
                    .at(
                        user.span,
                        format!("{generator} declares `{generated}` in this package"),
                    )
                    .also(t.span, format!("because of `{}`", t.name))
                    .help(format!(
                        "rename `{generated}`: generated code declares that name next to `{}`",
                        t.name
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_quantity;

    #[test]
    fn quantities_follow_kubernetes_grammar() {
        for good in [
            "1", "0.5", ".5", "1.", "+1", "-2", "100Mi", "1.5Gi", "500m", "2k", "3E", "1e3",
            "1E-2", "7e+1",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in [
            "", "Mi", "1 Gi", "1GB", "1.2.3", "1e", "1e-", "1mi", "--1", "1Ki2", ".",
        ] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
