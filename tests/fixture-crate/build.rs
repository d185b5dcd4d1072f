fn main() {
    // In-crate output goes to $OUT_DIR (Config's default inside a build script); the clientset
    // to $OUT_DIR/client, included by `src/lib.rs`.
    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR in a build script"));
    kube_codegen::Config::new()
        .input("src/apis")
        .client_out(out.join("client"))
        .generate()
        .unwrap_or_else(|e| panic!("kube-codegen failed:\n{e}"));
}
