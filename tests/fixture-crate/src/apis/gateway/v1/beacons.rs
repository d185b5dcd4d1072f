//! A kind of metadata alone: a marker object whose labels and annotations are all it says.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A beacon.
/// +genclient
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Beacon {
    pub metadata: ObjectMeta,
}
