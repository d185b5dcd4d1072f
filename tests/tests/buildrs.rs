//! build.rs mode end to end: `tests/buildrs-crate` generates into OUT_DIR from its build script
//! and `include!`s the result.

use buildrs_crate::apis::widgets::v1::{Gizmo, GizmoList, GizmoSpec};
use k8s_openapi::{ClusterResourceScope, Resource};

#[test]
fn generated_in_out_dir_and_included() {
    fn cluster_scoped<K: Resource<Scope = ClusterResourceScope>>() {}
    cluster_scoped::<Gizmo>();
    assert_eq!(Gizmo::API_VERSION, "widgets.example.com/v1");
    assert_eq!(Gizmo::URL_PATH_SEGMENT, "gizmos");
    // Gizmo derives no Clone: deepcopy-gen wrote it into OUT_DIR.
    let g = Gizmo {
        spec: GizmoSpec { size: 3 },
        ..Default::default()
    };
    assert_eq!(g.clone(), g);
    let json = serde_json::to_string(&g).unwrap();
    assert_eq!(
        json,
        r#"{"apiVersion":"widgets.example.com/v1","kind":"Gizmo","metadata":{},"spec":{"size":3}}"#,
        "an empty set is omitted"
    );
    let mut tagged = g.clone();
    tagged.tags.extend(["b".to_string(), "a".to_string()]);
    let json = serde_json::to_string(&tagged).unwrap();
    assert!(json.ends_with(r#""tags":["a","b"]}"#), "{json}");
    assert_eq!(serde_json::from_str::<Gizmo>(&json).unwrap(), tagged);
    // An `IndexMap` keeps its insertion order on the wire and back.
    let mut stepped = g.clone();
    stepped.steps.insert("z".into(), "first".into());
    stepped.steps.insert("a".into(), "second".into());
    let json = serde_json::to_string(&stepped).unwrap();
    assert!(
        json.contains(r#""steps":{"z":"first","a":"second"}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Gizmo>(&json).unwrap(), stepped);
    let schemas: serde_json::Value =
        serde_json::from_str(buildrs_crate::apis::widgets::v1::OPENAPI_SCHEMAS).unwrap();
    assert_eq!(
        schemas["com.example.widgets.v1.Gizmo"]["properties"]["tags"]["x-kubernetes-list-type"],
        "set"
    );
    let list = GizmoList {
        items: vec![g],
        metadata: Default::default(),
    };
    assert_eq!(list.items.len(), 1);
    // Nothing was written into the source tree.
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("buildrs-crate/src/apis/widgets/v1");
    assert!(!src.join("zz_generated.register.rs").exists());
}
