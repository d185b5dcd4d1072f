//! The formatter's shortcut (item macros built without `syn` parsing them) against `syn`
//! parsing every token, on everything every generator writes for real inputs: the pager, the
//! fixture crate (three groups: fleet, wardle, gateway) and the synthetic benchmark surface's
//! shape.

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
