//! Compile tests of generated code, through trybuild: the pager's kinds work with `kube::Api`, and
//! what the types forbid (verbs a kind lacks, changing cached objects) does not compile.
//!
//! One `TestCases` for both: trybuild builds every dependency again in its own target directory,
//! once per `TestCases`, and that build dominates the suite's time and disk.

#[test]
fn generated_code_compiles_where_it_should_and_not_where_it_must_not() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
