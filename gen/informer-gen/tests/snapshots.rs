//! informer-gen on a small fixture: namespaced and cluster-scoped kinds over two versions (a snapshot).

use std::path::PathBuf;

use informer_gen::InformerGen;
use kube_codegen_model::output::{Content, Generator, Options};

const META: &str = "use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;\n";

#[test]
fn namespaced_and_cluster_scoped_kinds() {
    let types = format!(
        "{META}/// +genclient\n#[derive(Clone, Default)]\npub struct Widget {{\n    pub metadata: ObjectMeta,\n}}\n\n/// +genclient\n/// +genclient:nonNamespaced\n#[derive(Clone, Default)]\npub struct Policy {{\n    pub metadata: ObjectMeta,\n}}\n"
    );
    let loaded = kube_codegen_model::testing::load_fixture_at(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("informer-gen"),
        "kinds",
        &[
            (
                "apis/widgets/v1/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/widgets/v1/types.rs", &types),
            (
                "apis/widgets/v2/mod.rs",
                "//! +groupName=widgets.example.com\nmod types;\npub use types::*;\n",
            ),
            ("apis/widgets/v2/types.rs", &types),
        ],
        Some("widgets_api"),
    );
    let mut out = String::new();
    for f in InformerGen.generate_model(&loaded.model, &Options::default()) {
        let Content::Rust(tokens) = f.content else {
            panic!("Rust")
        };
        let file: syn::File = syn::parse2(tokens).unwrap();
        out.push_str(&format!(
            "==> {}\n{}\n",
            f.path.display(),
            prettyplease::unparse(&file)
        ));
    }
    insta::assert_snapshot!(out);
}
