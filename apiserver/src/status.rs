//! Every error is a Kubernetes `Status` object with the right `reason` and `code`.

use serde_json::{Value, json};

/// A field-level problem, reported in `details.causes` of a 422 `Invalid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueDuplicate`,
    /// `FieldValueForbidden`, `FieldValueTooLong`, `FieldValueTypeInvalid`, `UnknownField`.
    pub reason: String,
    pub message: String,
    /// The field path: `spec.message`, `metadata.labels[app]`.
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answered as a `Status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, `Expired`, `Gone`,
    /// `MethodNotAllowed`, `UnsupportedMediaType`, `RequestEntityTooLarge`, `NotAcceptable`,
    /// `InternalError`, `Timeout`, `Forbidden`, `Unauthorized`.
    pub reason: &'static str,
    pub message: String,
    /// `details`, boxed so errors stay small on the happy path.
    pub details: Option<Box<Details>>,
    /// `metadata.continue`: the token a 410 for a compacted `continue` offers instead.
    pub list_continue: Option<String>,
    /// Warnings the request earned before it failed (an unknown field under
    /// `fieldValidation=Warn`): `Warning` headers on the error too, as Go's warning recorder
    /// writes them as they come.
    pub warnings: Vec<String>,
}

/// `details` of a `Status`: which object, and field causes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    pub name: Option<String>,
    pub group: Option<String>,
    /// The resource (plural) or kind.
    pub kind: Option<String>,
    pub causes: Vec<Cause>,
    /// `retryAfterSeconds`: when the client may try again.
    pub retry_after_seconds: Option<i32>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            list_continue: None,
            warnings: Vec::new(),
        }
    }

    /// The error with `warnings` before its own.
    pub fn with_warnings(mut self, mut warnings: Vec<String>) -> Self {
        warnings.append(&mut self.warnings);
        self.warnings = warnings;
        self
    }

    /// 410 for a `continue` token whose revision was compacted, offering `token` (the rest of
    /// the list at the latest revision), with Go's message word for word.
    pub fn inconsistent_continue(token: String) -> Self {
        let mut e = ApiError::new(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
        e.list_continue = Some(token);
        e
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// `alerts.pager.k8s.co "a1" not found`
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(resource, group)),
        )
        .details(name, group, resource)
    }

    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(resource, group)),
        )
        .details(name, group, resource)
    }

    pub fn conflict(resource: &str, group: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                qualified(resource, group)
            ),
        )
        .details(name, group, resource)
    }

    /// 422 with field causes: `Alert.pager.k8s.co "a1" is invalid: spec.message: Required value`.
    /// A `DeleteOptions` that does not validate (Go's `ValidateDeleteOptions`): the 422 naming
    /// it, as Go's delete handler answers.
    pub fn invalid_delete_options(causes: Vec<Cause>) -> Self {
        Self::invalid("DeleteOptions", "meta.k8s.io", "", causes)
    }

    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let summary: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let mut e = Self::new(
            422,
            "Invalid",
            format!(
                "{} {} is invalid: {}",
                qualified(kind, group),
                kube_codegen_apimachinery::validation::go_quote(name),
                if summary.len() == 1 {
                    summary[0].clone()
                } else {
                    format!("[{}]", summary.join(", "))
                }
            ),
        );
        e.details = Some(Box::new(Details {
            name: Some(name.into()),
            group: Some(group.into()),
            kind: Some(kind.into()),
            causes,
            retry_after_seconds: None,
        }));
        e
    }

    /// 410 Gone, reason `Expired`: the resourceVersion is older than the retained history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 504 `Timeout` for a `resourceVersion` the store has not reached, as Go's
    /// `storage.NewTooLargeResourceVersionError` builds it (a `ResourceVersionTooLarge` cause,
    /// which client-go's reflector looks for to list again without one; retry after 1 s).
    pub(crate) fn too_large_resource_version(asked: u64, current: u64) -> Self {
        let mut e = Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {asked}, current: {current}"),
        );
        e.details = Some(Box::new(Details {
            causes: vec![Cause::new(
                "ResourceVersionTooLarge",
                "",
                "Too large resource version",
            )],
            retry_after_seconds: Some(1),
            ..Details::default()
        }));
        e
    }

    pub(crate) fn details(mut self, name: &str, group: &str, kind: &str) -> Self {
        self.details = Some(Box::new(Details {
            name: Some(name.into()),
            group: Some(group.into()),
            kind: Some(kind.into()),
            causes: Vec::new(),
            retry_after_seconds: None,
        }));
        self
    }

    /// Adds a field cause (e.g. the detail of a failed JSON-patch `test`).
    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.details
            .get_or_insert_with(Default::default)
            .causes
            .push(cause);
        self
    }

    /// The `Status` object: k8s-openapi's typed `Status`, as JSON.
    pub fn to_status(&self) -> Value {
        serde_json::to_value(self.typed_status()).unwrap_or_else(|e| json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": e.to_string()}))
    }

    /// The `Status` object, typed (k8s-openapi's).
    pub fn typed_status(&self) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Status {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
        // Every string of `details` is `omitempty` in Go: an empty one is left out.
        let given = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let text = |s: &String| (!s.is_empty()).then(|| s.clone());
        let details = self.details.as_deref().map(|d| meta::StatusDetails {
            name: given(&d.name),
            group: given(&d.group),
            kind: given(&d.kind),
            causes: (!d.causes.is_empty()).then(|| {
                d.causes
                    .iter()
                    .map(|c| meta::StatusCause {
                        reason: text(&c.reason),
                        message: text(&c.message),
                        field: text(&c.field),
                    })
                    .collect()
            }),
            retry_after_seconds: d.retry_after_seconds,
            ..meta::StatusDetails::default()
        });
        meta::Status {
            status: Some("Failure".into()),
            // `omitempty` in Go, as `details`' strings.
            message: text(&self.message),
            reason: (!self.reason.is_empty()).then(|| self.reason.into()),
            code: Some(i32::from(self.code)),
            details,
            metadata: meta::ListMeta {
                continue_: self.list_continue.clone(),
                ..meta::ListMeta::default()
            },
        }
    }
}

fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}
