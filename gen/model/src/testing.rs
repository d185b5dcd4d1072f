//! Helpers for generators' tests (feature `testing`): fixtures written to disk and loaded, and
//! diagnostics rendered without the machine-specific fixture prefix.

use std::path::Path;

use crate::{Diagnostic, Input, Loaded, load};

/// Writes `files` under `<root>/<name>` (emptied first) and loads `<root>/<name>/apis`; panics
/// with the rendered diagnostics when the fixture does not load.
pub fn load_fixture(root: &Path, name: &str, files: &[(&str, &str)]) -> Loaded {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .expect("create the fixture directory");
        std::fs::write(path, text).expect("write the fixture");
    }
    load(&[Input::new(dir.join("apis"))]).unwrap_or_else(|f| panic!("fixture `{name}`:\n{f}"))
}

/// `diags` rendered like rustc, paths relative to `root`.
pub fn render(root: &Path, loaded: &Loaded, diags: &[Diagnostic]) -> String {
    loaded
        .sources
        .render(diags)
        .replace(&format!("{}/", root.display()), "")
}
