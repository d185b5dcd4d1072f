//! Admission (Go's `k8s.io/apiserver/pkg/admission`): plugins a resource registers that see every
//! write with Kubernetes' attributes — mutating plugins may change the object after defaulting
//! and before validation, validating plugins may refuse it after validation and before storage —
//! on creates, updates, patches, applies, deletes and subresources. Plugins are written against
//! the hub type, like strategies, and run in registration order.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use kube_codegen_scheme::ResourceInfo;

use crate::auth::User;
use crate::status::ApiError;

/// What a request does (Go's `admission.Operation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    /// `CREATE`, `UPDATE`, `DELETE`: as an `AdmissionReview` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// The options a request came with (Go passes the typed `CreateOptions`, `UpdateOptions`,
/// `PatchOptions` or `DeleteOptions`).
#[derive(Clone, Copy, Debug)]
pub enum RequestOptions<'a> {
    Create {
        field_manager: &'a str,
    },
    Update {
        field_manager: &'a str,
    },
    /// A patch, and whether it is a forced server-side apply.
    Patch {
        field_manager: &'a str,
        force: bool,
    },
    Delete(&'a DeleteOptions),
}

/// What admission is told about a write (Go's `admission.Attributes`).
#[derive(Clone, Copy, Debug)]
pub struct Attributes<'a> {
    pub operation: Operation,
    /// The resource in the version of the request (group, version, kind, plural, scope).
    pub resource: &'a ResourceInfo,
    /// `status` for the status subresource.
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// Who asks (`None` when the server runs without authentication).
    pub user: Option<&'a User>,
    /// Nothing will be stored (`dryRun=All`): a plugin with side effects must not have them.
    pub dry_run: bool,
    pub options: RequestOptions<'a>,
}

/// A plugin that may change objects before they are validated. `old` is the stored object
/// for updates.
pub trait MutatingAdmission<H>: Send + Sync + 'static {
    /// The plugin's name (in errors and logs).
    fn name(&self) -> &str;
    /// Changes `object` or refuses the write (its error is the answer).
    fn admit(
        &self,
        attrs: &Attributes<'_>,
        object: &mut H,
        old: Option<&H>,
    ) -> Result<(), ApiError>;
}

/// A plugin that may refuse a write after validation. For a delete, `object` is `None` and
/// `old` the object being deleted.
pub trait ValidatingAdmission<H>: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn validate(
        &self,
        attrs: &Attributes<'_>,
        object: Option<&H>,
        old: Option<&H>,
    ) -> Result<(), ApiError>;
}

/// A resource's plugins, in registration order.
pub(crate) struct Chain<H> {
    pub mutating: Vec<Box<dyn MutatingAdmission<H>>>,
    pub validating: Vec<Box<dyn ValidatingAdmission<H>>>,
}

impl<H> Default for Chain<H> {
    fn default() -> Self {
        Chain {
            mutating: Vec::new(),
            validating: Vec::new(),
        }
    }
}

impl<H: 'static> Chain<H> {
    pub(crate) fn admit(
        &self,
        attrs: &Attributes<'_>,
        object: &mut H,
        old: Option<&H>,
    ) -> Result<(), ApiError> {
        for plugin in &self.mutating {
            plugin.admit(attrs, object, old).inspect_err(|e| {
                tracing::debug!(plugin = plugin.name(), error = %e.message, "admission refused");
            })?;
        }
        Ok(())
    }

    pub(crate) fn validate(
        &self,
        attrs: &Attributes<'_>,
        object: Option<&H>,
        old: Option<&H>,
    ) -> Result<(), ApiError> {
        for plugin in &self.validating {
            plugin.validate(attrs, object, old).inspect_err(|e| {
                tracing::debug!(plugin = plugin.name(), error = %e.message, "admission refused");
            })?;
        }
        Ok(())
    }
}

impl ApiError {
    /// 403 `<plural>.<group> "<name>" is forbidden: <why>`: how Kubernetes answers a write an
    /// admission plugin refuses.
    pub fn forbidden(resource: &ResourceInfo, name: &str, why: impl std::fmt::Display) -> Self {
        let qualified = if resource.group.is_empty() {
            resource.plural.to_string()
        } else {
            format!("{}.{}", resource.plural, resource.group)
        };
        ApiError::new(
            403,
            "Forbidden",
            format!("{qualified} \"{name}\" is forbidden: {why}"),
        )
    }
}
