//! Compile tests of generated code, through trybuild: what the types forbid (verbs a kind lacks,
//! changing cached objects) does not compile. What must compile is an ordinary test
//! (`tests/kube_api.rs`).
//!
//! Only cases that must fail, in one `TestCases`: trybuild checks every dependency again in its own
//! target directory, once per `TestCases`, and that check dominates the suite's time and disk. A
//! single `pass` case would make it build them instead (code generation and linking too).

#[test]
fn what_the_types_forbid_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
