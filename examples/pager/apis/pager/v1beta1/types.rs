use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// Alert is a message to be sent to a person.
/// +genclient
/// +shortName=al
/// +printcolumn:name=Title,type=string,jsonPath=.spec.title
/// +printcolumn:name=Sent,type=boolean,jsonPath=.status.sent
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: AlertSpec,
    pub status: Option<AlertStatus>,
}

/// AlertSpec is the notification to send.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertSpec {
    /// Title of the notification.
    /// +optional
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Body of the notification.
    pub content: String,
    /// How urgent the alert is.
    /// +optional
    /// +default="normal"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// AlertStatus is what happened to the alert.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertStatus {
    /// Whether the alert has been sent.
    /// +optional
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
}

/// How urgent an alert is.
/// +enum
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Whenever convenient.
    Low,
    /// Today.
    Normal,
    /// Now.
    High,
}
