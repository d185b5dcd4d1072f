//! What clients and the API server share, as Go's `k8s.io/apimachinery` is shared by client-go
//! and the apiserver: label and field selectors ([`selector`]) parsed and matched the same way on
//! both sides, and the validation of object names, label keys and label values.

pub mod selector;

pub use selector::{FieldSelector, LabelSelector};
