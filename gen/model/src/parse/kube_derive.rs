//! kube-rs's `#[derive(CustomResource)]`: the kind it declares lives inside the derive, where
//! kube-codegen cannot see it. Its `#[kube(...)]` attributes say what that kind is, so the
//! warning can show the plain struct, with its tags, that declares the same kind here.

use syn::ext::IdentExt;

use crate::diag::{Diagnostic, Span};

/// What `#[kube(...)]` says about the derived kind.
#[derive(Default)]
struct KubeAttrs {
    kind: Option<String>,
    group: Option<String>,
    version: Option<String>,
    namespaced: bool,
    status: Option<String>,
    plural: Option<String>,
    short_names: Vec<String>,
    categories: Vec<String>,
    /// `+printcolumn:…` values translated from kube's JSON, or the JSON when it does not read.
    print_columns: Vec<Result<String, String>>,
    /// The `+scale=` value from `scale = "<json>"` or `scale(spec_replicas_path = …, …)`, or
    /// what did not read.
    scale: Option<Result<String, String>>,
    /// `root = "…"`: the Rust name kube-rs gives the kind's struct.
    root: Option<String>,
    /// `selectable = "…"`: fields kube-rs declares selectable in the CRD.
    selectable: Vec<String>,
    /// Why an attribute did not read (rustc reports it too when the crate builds).
    unread: Vec<String>,
    /// `doc = "…"`: the kind's description.
    doc: Option<String>,
    /// Keys with no tag here (`singular`, `validation`, `attr`, …), as written, each once.
    dropped: Vec<String>,
    /// `derive = "…"`: the traits kube-rs derives on the kind beyond `Clone`, `Debug` and serde.
    derives: Vec<String>,
}

/// W0118 for a type deriving `CustomResource`, with the plain struct to write instead; the name
/// of the struct the derive declares (its `root`, else the kind); and the group it serves.
pub(super) fn custom_resource_warning(
    attrs: &[syn::Attribute],
    spec_name: &str,
    spec_fields: Option<&[&str]>,
    span: Span,
) -> (Diagnostic, String, Option<String>) {
    let kube = read_kube_attrs(attrs);
    let kind = kube.kind.clone().unwrap_or_else(|| {
        spec_name
            .strip_suffix("Spec")
            .unwrap_or(spec_name)
            .to_string()
    });
    let mut decl: Vec<String> = kube
        .doc
        .iter()
        .flat_map(|doc| doc.lines())
        .map(|line| format!("/// {line}").trim_end().to_string())
        .collect();
    decl.push("/// +genclient".to_string());
    if !kube.namespaced {
        decl.push("/// +genclient:nonNamespaced".into());
    }
    if let Some(p) = &kube.plural {
        decl.push(format!("/// +resourceName={p}"));
    }
    if !kube.short_names.is_empty() {
        decl.push(format!("/// +shortName={}", kube.short_names.join(",")));
    }
    if !kube.categories.is_empty() {
        decl.push(format!("/// +categories={}", kube.categories.join(",")));
    }
    for column in &kube.print_columns {
        match column {
            Ok(tag) => decl.push(format!("/// +printcolumn:{tag}")),
            Err(json) => decl.push(format!("// printcolumn to translate: {json}")),
        }
    }
    // kube-rs does not check its scale paths against the spec; `+scale` does (E0320).
    let missing_replicas = match (&kube.scale, spec_fields) {
        (Some(Ok(tag)), Some(fields)) => tag
            .split(',')
            .find_map(|p| p.strip_prefix("specReplicasPath=.spec."))
            .map(|path| path.split('.').next().unwrap_or(path))
            .filter(|first| !fields.contains(first))
            .map(str::to_string),
        _ => None,
    };
    match &kube.scale {
        Some(Ok(tag)) if missing_replicas.is_some() => {
            decl.push(format!("// +scale to check (see the note): {tag}"))
        }
        Some(Ok(tag)) => decl.push(format!("/// +scale={tag}")),
        Some(Err(given)) => decl.push(format!("// scale to translate: {given}")),
        None => {}
    }
    // The derive's kind has `Clone`, `Debug` and what `derive = …` asks for (its serde is
    // generated here); no generated code asks a kind for more.
    let mut derives = vec!["Clone".to_string(), "Debug".to_string()];
    let trait_name = |path: &str| path.rsplit("::").next().unwrap_or(path).trim().to_string();
    for d in &kube.derives {
        let name = trait_name(d);
        if !matches!(name.as_str(), "Serialize" | "Deserialize")
            && !derives.iter().any(|x| trait_name(x) == name)
        {
            derives.push(d.clone());
        }
    }
    // The declaration is Rust: a keyword name is written raw (`r#match`).
    let kind_ident = crate::output::ident(&kind);
    let spec_ident = crate::output::ident(spec_name);
    decl.push(format!("#[derive({})]", derives.join(", ")));
    // Documented, as a crate under `#![deny(missing_docs)]` (kube-rs's `crd_apply`) needs.
    decl.push(format!("pub struct {kind_ident} {{"));
    decl.push("    /// Standard object's metadata.".into());
    decl.push(
        "    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,".into(),
    );
    decl.push("    /// The desired state.".into());
    decl.push(format!("    pub spec: {spec_ident},"));
    if let Some(status) = &kube.status {
        decl.push("    /// The observed state.".into());
        decl.push(format!("    pub status: Option<{status}>,"));
    }
    decl.push("}".into());
    // The derive's constructor, which code using the kind calls.
    decl.push(format!("impl {kind_ident} {{"));
    decl.push(format!(
        "    /// The derive's `{kind_ident}::new`: named, with this spec."
    ));
    decl.push(format!(
        "    pub fn new(name: &str, spec: {spec_ident}) -> Self {{"
    ));
    decl.push("        Self {".into());
    decl.push(
        "            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {".into(),
    );
    decl.push("                name: Some(name.to_string()),".into());
    decl.push("                ..Default::default()".into());
    decl.push("            },".into());
    decl.push("            spec,".into());
    if kube.status.is_some() {
        decl.push("            status: None,".into());
    }
    decl.push("        }".into());
    decl.push("    }".into());
    decl.push("}".into());
    let mut d = Diagnostic::warning(
        "W0118",
        format!("`{spec_name}` derives kube-rs's `CustomResource`: its kind `{kind}` is not seen"),
    )
    .at(span, "the derive declares the kind where kube-codegen cannot read it")
    .note("kube-codegen reads a kind as a plain struct with `metadata`, `spec` and `status`; register-gen then writes its serde codec and its `k8s_openapi::Resource` (so `kube::Api` works), which the derive would write too")
    .help(format!(
        "declare the kind beside `{spec_name}`, and remove `CustomResource` and the `#[kube(...)]` attributes:\n{}",
        decl.join("\n")
    ));
    if let (Some(group), Some(version)) = (&kube.group, &kube.version) {
        d = d.note(format!(
            "the derive serves it as `{group}/{version}`; kube-codegen takes the group from the package's `+groupName` and the version from its directory: keep it in a `{version}` package whose module says `//! +groupName={group}`"
        ));
    }
    if let Some(field) = &missing_replicas {
        d = d.note(format!(
            "the derive's scale counts replicas at `.spec.{field}`, which `{spec_name}` has no field for (kube-rs does not check it; `+scale` does, E0320): add the field, or leave the scale out"
        ));
    }
    if let Some(root) = kube.root.as_ref().filter(|r| **r != kind) {
        d = d.note(format!(
            "the derive names the struct `{root}` (`root`); here the struct is named as its kind, `{kind}`: code that names `{root}` can import it so (`use …::{kind} as {root};`)"
        ));
    }
    if !kube.selectable.is_empty() {
        d = d.note(format!(
            "`selectable` ({}) has no tag: the fields a server selects by are its strategy's (`Strategy::selectable_fields` in `apiserver`)",
            kube.selectable.join(", ")
        ));
    }
    if !kube.dropped.is_empty() {
        let keys: Vec<String> = kube.dropped.iter().map(|k| format!("`{k}`")).collect();
        d = d.note(format!(
            "{} ha{} no tag here: the kind shown leaves {} out (CEL `validation` rules are not published: a server's strategy validates; the singular name is the kind's lowercased)",
            keys.join(", "),
            if keys.len() == 1 { "s" } else { "ve" },
            if keys.len() == 1 { "it" } else { "them" }
        ));
    }
    for why in &kube.unread {
        d = d.note(format!(
            "a `#[kube(...)]` attribute did not read ({why}): the kind shown lacks what it says"
        ));
    }
    // The struct the derive declares: named `root` when given, else as the kind.
    let declared = kube.root.clone().unwrap_or(kind);
    (d, declared, kube.group)
}

fn read_kube_attrs(attrs: &[syn::Attribute]) -> KubeAttrs {
    let mut out = KubeAttrs::default();
    // `#[cfg_attr(not(doctest), kube(doc = …))]` says what the kind is in every real build.
    let attrs = super::attrs::expand_cfg_attr(attrs);
    for attr in attrs.iter().filter(|a| a.path().is_ident("kube")) {
        // What does not read is named in the warning: the kind shown may lack what it says.
        let read = attr.parse_nested_meta(|m| {
            let key = m.path.get_ident().map(|i| i.unraw().to_string());
            if m.input.peek(syn::Token![=]) {
                let value: syn::Expr = m.value()?.parse()?;
                let text = match &value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                };
                match (key.as_deref(), text) {
                    (Some("kind"), Some(t)) => out.kind = Some(t),
                    (Some("group"), Some(t)) => out.group = Some(t),
                    (Some("version"), Some(t)) => out.version = Some(t),
                    (Some("status"), Some(t)) => out.status = Some(t),
                    (Some("plural"), Some(t)) => out.plural = Some(t),
                    (Some("shortname"), Some(t)) => out.short_names.push(t),
                    (Some("category"), Some(t)) => out.categories.push(t),
                    (Some("printcolumn"), Some(t)) => out.print_columns.extend(print_columns(&t)),
                    (Some("root"), Some(t)) => out.root = Some(t),
                    (Some("selectable"), Some(t)) => out.selectable.push(t),
                    // `subresource_scale` is the attribute's older name.
                    (Some("scale" | "subresource_scale"), Some(t)) => {
                        out.scale = Some(scale_from_json(&t))
                    }
                    (Some("doc"), Some(t)) => out.doc = Some(t),
                    (Some("derive"), Some(t)) => out.derives.push(t.trim().to_string()),
                    // A key the kind is made of, given as something other than a string
                    // literal (a constant): the hint cannot know its value.
                    (
                        Some(
                            k @ ("kind" | "status" | "plural" | "shortname" | "category"
                            | "printcolumn" | "scale"),
                        ),
                        None,
                    ) => out.unread.push(format!("`{k}` is not a string literal")),
                    // Read elsewhere (the package's group and version), or not about the kind.
                    (Some("group" | "version" | "root" | "selectable" | "crates"), _)
                    | (None, _) => {}
                    (Some(k), _) => push_once(&mut out.dropped, k),
                }
            } else if m.input.peek(syn::token::Paren) && key.as_deref() == Some("scale") {
                // `scale(spec_replicas_path = "...", status_replicas_path = "...", ...)`.
                let mut paths = Vec::new();
                let mut unread = None;
                m.parse_nested_meta(|p| {
                    let name = p.path.get_ident().map(|i| i.unraw().to_string());
                    let value: syn::Expr = p.value()?.parse()?;
                    match (name.as_deref(), &value) {
                        (
                            Some(n),
                            syn::Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(s),
                                ..
                            }),
                        ) => paths.push((n.to_string(), s.value())),
                        _ => unread = Some(quote::ToTokens::to_token_stream(&value).to_string()),
                    }
                    Ok(())
                })?;
                out.scale = Some(match unread {
                    Some(v) => Err(v),
                    None => scale_tag(paths.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                });
            } else if m.input.peek(syn::token::Paren) && key.as_deref() == Some("printcolumn") {
                // `printcolumn(name = "…", type_ = "…", json_path = "…", …)`.
                let mut parts = Vec::new();
                let mut unread = None;
                m.parse_nested_meta(|p| {
                    let name = p.path.get_ident().map(|i| i.unraw().to_string());
                    let value: syn::Expr = p.value()?.parse()?;
                    let text = match &value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(i),
                            ..
                        }) => Some(i.base10_digits().to_string()),
                        _ => None,
                    };
                    let key = match name.as_deref() {
                        Some("name") => Some("name"),
                        Some("type_" | "type") => Some("type"),
                        Some("json_path" | "jsonPath") => Some("jsonPath"),
                        Some("description") => Some("description"),
                        Some("format") => Some("format"),
                        Some("priority") => Some("priority"),
                        _ => None,
                    };
                    match (key, text) {
                        (Some(k), Some(t)) if !t.contains(',') => parts.push(format!("{k}={t}")),
                        _ => unread = Some(quote::ToTokens::to_token_stream(&value).to_string()),
                    }
                    Ok(())
                })?;
                out.print_columns.push(match unread {
                    Some(v) => Err(v),
                    None => Ok(parts.join(",")),
                });
            } else if m.input.peek(syn::token::Paren) {
                // `crates(...)`: nothing the hint uses; any other has no tag here.
                let content;
                syn::parenthesized!(content in m.input);
                content.parse::<proc_macro2::TokenStream>()?;
                if let Some(k) = key.as_deref().filter(|k| *k != "crates") {
                    push_once(&mut out.dropped, k);
                }
            } else if key.as_deref() == Some("namespaced") {
                out.namespaced = true;
            } else if let Some(k) = key {
                // A flag (`cel`, `storage`, `served`, `deprecated`): no tag here either.
                push_once(&mut out.dropped, &k);
            }
            Ok(())
        });
        if let Err(e) = read {
            out.unread.push(e.to_string());
        }
    }
    out
}

/// Keys are named once in the note, however often they are given (`attr = …` twice).
fn push_once(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|k| k == key) {
        keys.push(key.to_string());
    }
}

/// kube's `printcolumn` string as `+printcolumn:` values: one object, or several separated by
/// commas (kube-rs splices the string into a JSON array, so `{…}, {…}` declares two columns).
fn print_columns(json: &str) -> Vec<Result<String, String>> {
    if serde_json::from_str::<serde_json::Value>(json).is_err()
        && let Ok(serde_json::Value::Array(columns)) =
            serde_json::from_str::<serde_json::Value>(&format!("[{json}]"))
    {
        return columns
            .iter()
            .map(|c| print_column(&c.to_string()))
            .collect();
    }
    vec![print_column(json)]
}

/// kube's `printcolumn = r#"{"name":"Team","type":"string","jsonPath":".spec.team"}"#` as the
/// value of `+printcolumn:` (`name=Team,type=string,jsonPath=.spec.team`).
fn print_column(json: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| json.to_string())?;
    let object = value.as_object().ok_or_else(|| json.to_string())?;
    let mut parts = Vec::new();
    for key in [
        "name",
        "type",
        "jsonPath",
        "format",
        "priority",
        "description",
    ] {
        match object.get(key) {
            Some(serde_json::Value::String(s)) if !s.contains(',') => {
                parts.push(format!("{key}={s}"))
            }
            // A comma inside a value: quoted, as the tag reads quoted values.
            Some(serde_json::Value::String(s)) if !s.contains('"') => {
                parts.push(format!("{key}=\"{s}\""))
            }
            Some(serde_json::Value::String(s)) if !s.contains('`') => {
                parts.push(format!("{key}=`{s}`"))
            }
            Some(serde_json::Value::Number(n)) => parts.push(format!("{key}={n}")),
            Some(_) => return Err(json.to_string()),
            None => {}
        }
    }
    Ok(parts.join(","))
}

/// kube's `scale = r#"{"specReplicasPath":".spec.replicas",…}"#` as the value of `+scale=`.
fn scale_from_json(json: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| json.to_string())?;
    let object = value.as_object().ok_or_else(|| json.to_string())?;
    let mut pairs = Vec::new();
    for (k, v) in object {
        pairs.push((k.as_str(), v.as_str().ok_or_else(|| json.to_string())?));
    }
    scale_tag(pairs.into_iter()).map_err(|_| json.to_string())
}

/// `+scale=` from kube's keys, camelCase (the JSON form) or snake_case (`scale(...)`).
fn scale_tag<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<String, String> {
    let mut parts = Vec::new();
    for (key, value) in pairs {
        let key = match key {
            "specReplicasPath" | "spec_replicas_path" => "specReplicasPath",
            "statusReplicasPath" | "status_replicas_path" => "statusReplicasPath",
            "labelSelectorPath" | "label_selector_path" => "labelSelectorPath",
            other => return Err(format!("{other} = {value:?}")),
        };
        if value.contains(',') {
            return Err(format!("{key} = {value:?}"));
        }
        parts.push(format!("{key}={value}"));
    }
    // A CRD's scale needs both counts; without them the tag would not read either.
    if !parts.iter().any(|p| p.starts_with("specReplicasPath="))
        || !parts.iter().any(|p| p.starts_with("statusReplicasPath="))
    {
        return Err(parts.join(","));
    }
    Ok(parts.join(","))
}
