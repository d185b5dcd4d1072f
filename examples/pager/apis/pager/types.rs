use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Alert is a message to be sent to a person (internal hub version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Alert {
    pub metadata: ObjectMeta,
    pub spec: AlertSpec,
    pub status: Option<AlertStatus>,
}

/// AlertSpec is what to send. The hub holds every field any version has.
// No `Clone` here on purpose: deepcopy-gen writes it.
#[derive(Debug, Default, PartialEq)]
pub struct AlertSpec {
    /// Title of the notification.
    pub title: String,
    /// Body of the notification.
    pub content: String,
    /// How urgent the alert is.
    pub priority: Option<Priority>,
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    Low,
    Normal,
    High,
}

/// AlertStatus is what happened to the alert.
#[derive(Debug, Default, PartialEq)]
pub struct AlertStatus {
    /// Whether the alert has been sent.
    pub sent: bool,
}
