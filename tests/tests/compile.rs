//! Compile-pass tests of generated code, through trybuild.

#[test]
fn generated_pager_code_compiles_and_works_with_kube_api() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
}
