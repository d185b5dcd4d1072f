//! What clients and the API server share, as Go's `k8s.io/apimachinery` is shared by client-go
//! and the apiserver: label and field selectors ([`selector`]) parsed and matched the same way on
//! both sides, and the validation of object names, label keys and values, annotations and object
//! metadata ([`validation`]), so that a client refuses what the server would; and the order of
//! API versions ([`version`]).

pub mod selector;
pub mod validation;
pub mod version;

pub use selector::{FieldSelector, LabelSelector};
pub use version::version_priority;
