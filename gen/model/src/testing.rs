//! Helpers for generators' tests (feature `testing`): fixtures written to disk and loaded, and
//! diagnostics rendered without the machine-specific fixture prefix.

use std::path::Path;

use crate::{Diagnostic, Input, Loaded, load};

/// Writes `files` under `<root>/<name>` (emptied first) and loads `<root>/<name>/apis`; panics
/// with the rendered diagnostics when the fixture does not load.
pub fn load_fixture(root: &Path, name: &str, files: &[(&str, &str)]) -> Loaded {
    load_fixture_at(root, name, files, None)
}

/// [`load_fixture`] with the input's Rust module path given (`crate::apis`, `widgets_api`), as
/// generators that name types from another crate need.
pub fn load_fixture_at(
    root: &Path,
    name: &str,
    files: &[(&str, &str)],
    rust_path: Option<&str>,
) -> Loaded {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .expect("create the fixture directory");
        std::fs::write(path, text).expect("write the fixture");
    }
    let mut input = Input::new(dir.join("apis"));
    input.rust_path = rust_path.map(str::to_string);
    load(&[input]).unwrap_or_else(|f| panic!("fixture `{name}`:\n{f}"))
}

/// `diags` rendered like rustc, paths relative to `root`.
pub fn render(root: &Path, loaded: &Loaded, diags: &[Diagnostic]) -> String {
    loaded
        .sources
        .render(diags)
        .replace(&format!("{}/", root.display()), "")
}
