fn main() {
    // Output goes to $OUT_DIR (Config's default inside a build script).
    kube_codegen::Config::new()
        .input("src/apis")
        .generate()
        .unwrap_or_else(|e| panic!("kube-codegen failed:\n{e}"));
}
