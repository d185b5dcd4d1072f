//! A group laid out as kopium writes Rust for CRDs (gateway-api-rs, kube-custom-resources-rs):
//! one public module per kind, not re-exported by the version module, and a `prelude` module
//! re-exporting the k8s-openapi types the files glob-import.

pub mod v1;
