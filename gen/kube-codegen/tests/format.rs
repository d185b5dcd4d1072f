//! The formatter's shortcut (item macros built without `syn` parsing them) against `syn`
//! parsing every token, on everything every generator writes for real inputs: the pager, the
//! fixture crate (three groups: fleet, wardle, gateway) and the synthetic benchmark surface's
//! shape. And that nothing generated can give a `dead_code` warning.

use std::path::{Path, PathBuf};

use kube_codegen::format::{rust_file, rust_file_parsed};
use kube_codegen::model::output::{Content, Options};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every Rust file every generator writes for the types under `dir`, formatted both ways.
/// Returns how many files were compared.
fn compare_all(dir: &Path) -> usize {
    let loaded = kube_codegen::Config::new()
        .input(dir)
        .load()
        .unwrap_or_else(|e| panic!("{} loads: {e}", dir.display()));
    let options = Options::default();
    let mut compared = 0;
    for generator in kube_codegen::generators() {
        let mut files = generator.generate_model(&loaded.model, &options);
        for pkg in &loaded.model.packages {
            files.extend(generator.generate_package(&loaded.model, pkg, &options));
        }
        for file in files {
            let Content::Rust(tokens) = file.content else {
                continue;
            };
            let expected = rust_file_parsed(tokens.clone()).unwrap_or_else(|e| {
                panic!("{} for {}: {e}", generator.name(), file.path.display())
            });
            let got = rust_file(tokens).expect("parses when syn parses it");
            assert_eq!(
                got,
                expected,
                "{} for {} formats differently",
                generator.name(),
                file.path.display()
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn pager_output_formats_the_same_either_way() {
    assert!(compare_all(&repo().join("examples/pager/apis")) >= 10);
}

#[test]
fn fixture_crate_output_formats_the_same_either_way() {
    assert!(compare_all(&repo().join("tests/fixture-crate/src/apis")) >= 10);
}

#[test]
fn benchmark_surface_output_formats_the_same_either_way() {
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(repo().join("bench/synth.py"))
        .arg(tmp.path())
        .args(["12", "2"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs bench/synth.py");
    assert!(status.success());
    assert!(compare_all(tmp.path()) >= 8);
}

/// Whether `attrs` hold `#[allow(<lint>)]` (among other lints or not).
fn allows(attrs: &[syn::Attribute], lint: &str) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("allow") && {
            let mut found = false;
            let _ = a.parse_nested_meta(|m| {
                found |= m.path.is_ident(lint);
                Ok(())
            });
            found
        }
    })
}

fn allows_dead_code(attrs: &[syn::Attribute]) -> bool {
    allows(attrs, "dead_code")
}

fn shown(item: &syn::Item) -> String {
    use quote::ToTokens;
    item.to_token_stream()
        .to_string()
        .chars()
        .take(80)
        .collect()
}

/// The items of a generated file that rustc may find unused and that carry no
/// `#[allow(dead_code)]`. Trait impls, `const _` blocks and the runtime's item macros (which
/// expand to trait impls) are never unused; imports are [`imports_that_may_warn`]'s.
fn items_that_may_warn(items: &[syn::Item]) -> Vec<String> {
    items
        .iter()
        .filter(|item| match item {
            syn::Item::Impl(i) => i.trait_.is_none() && !allows_dead_code(&i.attrs),
            syn::Item::Const(c) if c.ident == "_" => false,
            syn::Item::Macro(_) | syn::Item::Use(_) => false,
            syn::Item::Const(syn::ItemConst { attrs, .. })
            | syn::Item::Fn(syn::ItemFn { attrs, .. })
            | syn::Item::Mod(syn::ItemMod { attrs, .. })
            | syn::Item::Static(syn::ItemStatic { attrs, .. })
            | syn::Item::Struct(syn::ItemStruct { attrs, .. })
            | syn::Item::Enum(syn::ItemEnum { attrs, .. })
            | syn::Item::Type(syn::ItemType { attrs, .. })
            | syn::Item::Trait(syn::ItemTrait { attrs, .. })
            | syn::Item::Union(syn::ItemUnion { attrs, .. }) => !allows_dead_code(attrs),
            _ => true,
        })
        .map(shown)
        .collect()
}

/// The `use`s, also in inline modules (the clientset's `fake`), without
/// `#[allow(unused_imports)]`: a `pub use` nothing names is an unused import too.
fn imports_that_may_warn(items: &[syn::Item]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        match item {
            syn::Item::Use(u) if !allows(&u.attrs, "unused_imports") => out.push(shown(item)),
            syn::Item::Mod(m) if !allows(&m.attrs, "unused_imports") => {
                if let Some((_, inner)) = &m.content {
                    out.extend(imports_that_may_warn(inner));
                }
            }
            _ => {}
        }
    }
    out
}

/// Generated items never warn, however the crate uses them: mayastor declares its versions
/// `pub(crate) mod v1alpha1;` in a binary, where `GROUP_NAME`, `<Kind>List`, `add_to_scheme`,
/// `register_defaults`, … were each a `dead_code` warning (an error under `-D warnings`, in
/// code the crate cannot edit). Every item of every generator's output for the fixture crate
/// (every generator has output there) carries `#[allow(dead_code)]`, each import
/// `#[allow(unused_imports)]`; a client file is covered by its `mod` declaration's. (The
/// fixture's types compiled as a binary crate gave 247 such warnings in generated code; none
/// now, `fake` feature included.)
#[test]
fn generated_items_never_warn_when_unused() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixture-crate/src/apis"), tmp.path());
    // The versions as mayastor declares them.
    for group in ["fleet", "wardle", "gateway"] {
        let module = tmp.path().join(group).join("mod.rs");
        let text = std::fs::read_to_string(&module).unwrap();
        std::fs::write(&module, text.replace("pub mod v", "pub(crate) mod v")).unwrap();
    }
    let loaded = kube_codegen::Config::new()
        .input_at(tmp.path(), "crate::apis")
        .load()
        .unwrap_or_else(|e| panic!("the fixture loads: {e}"));
    let options = Options::default();
    let mut files = Vec::new();
    for generator in kube_codegen::generators() {
        let mut generated = generator.generate_model(&loaded.model, &options);
        for pkg in &loaded.model.packages {
            generated.extend(generator.generate_package(&loaded.model, pkg, &options));
        }
        for file in generated {
            let tree = match file.content {
                Content::Rust(tokens) => kube_codegen::format::syntax_tree(tokens).unwrap(),
                Content::Text(text) if file.path.extension().is_some_and(|e| e == "rs") => {
                    syn::parse_file(&text).unwrap()
                }
                Content::Text(_) => continue,
            };
            files.push((generator.name(), file.path, tree));
        }
    }
    // Files a `mod` declaration with the allow brings in (`clientset/<group>_<version>.rs`).
    let covered: Vec<PathBuf> = files
        .iter()
        .flat_map(|(_, path, tree)| {
            tree.items.iter().filter_map(move |item| match item {
                syn::Item::Mod(m) if m.content.is_none() && allows_dead_code(&m.attrs) => {
                    Some(path.with_file_name(format!("{}.rs", m.ident)))
                }
                _ => None,
            })
        })
        .collect();
    let mut generators = std::collections::BTreeSet::new();
    let mut warn = Vec::new();
    for (generator, path, tree) in &files {
        generators.insert(*generator);
        if covered.contains(path) {
            continue;
        }
        let items = items_that_may_warn(&tree.items);
        for item in items.into_iter().chain(imports_that_may_warn(&tree.items)) {
            warn.push(format!("{generator}: {}: {item}", path.display()));
        }
    }
    assert_eq!(
        generators.len(),
        kube_codegen::generators().len(),
        "every generator has output: {generators:?}"
    );
    assert!(warn.is_empty(), "items that may warn:\n{}", warn.join("\n"));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
