//! [`Object`]: what a generic registry needs of the objects it keeps — metadata and the status
//! subresource — implemented by generated code for every kind and every hub kind (Go's
//! `metav1.Object` accessor, without reflection).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// An API object as a registry handles it: a kind of an external version or of an internal hub.
pub trait Object {
    fn metadata(&self) -> &ObjectMeta;
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    /// Exchanges the `status` of two objects (the status subresource's rules: an update of the
    /// main resource keeps the stored status, an update of `/status` keeps everything else).
    /// A no-op for kinds without status.
    fn swap_status(&mut self, other: &mut Self);
    /// Resets `status` to its default (a create ignores the status it is sent); a no-op for
    /// kinds without status or whose status type has no default.
    fn clear_status(&mut self);
}

/// [`Object`] for a type with a `metadata: ObjectMeta` field: what register-gen writes for every
/// kind (through [`impl_resource!`](crate::impl_resource)) and every hub kind.
///
/// ```
/// # use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
/// use kube_codegen_scheme::Object;
/// #[derive(Default)]
/// pub struct Widget { pub metadata: ObjectMeta, pub status: Option<WidgetStatus> }
/// #[derive(Debug, Default, PartialEq)]
/// pub struct WidgetStatus { pub ready: bool }
/// kube_codegen_scheme::impl_object!(Widget, status);
///
/// let mut a = Widget { status: Some(WidgetStatus { ready: true }), ..Default::default() };
/// let mut b = Widget::default();
/// a.swap_status(&mut b);
/// assert_eq!((a.status, b.status.as_ref().map(|s| s.ready)), (None, Some(true)));
/// b.clear_status();
/// assert_eq!(b.status, None);
/// b.metadata_mut().name = Some("w".into());
/// assert_eq!(b.metadata().name.as_deref(), Some("w"));
///
/// pub struct Gadget { pub metadata: ObjectMeta }
/// kube_codegen_scheme::impl_object!(Gadget);
///
/// pub struct Fixed { pub metadata: ObjectMeta, pub status: FixedStatus }
/// pub struct FixedStatus(pub u8); // no Default: a create keeps what it is sent
/// kube_codegen_scheme::impl_object!(Fixed, status no_default);
/// let mut f = Fixed { metadata: ObjectMeta::default(), status: FixedStatus(3) };
/// f.clear_status();
/// assert_eq!(f.status.0, 3);
/// ```
///
/// `status` clears the status with `Default::default()`; `status no_default` (a status type
/// without `Default`) keeps it on create.
#[macro_export]
macro_rules! impl_object {
    (@impl $ty:path, $mode:ident) => {
        impl $crate::Object for $ty {
            fn metadata(&self) -> &$crate::__private::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut $crate::__private::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
            fn swap_status(&mut self, other: &mut Self) {
                $crate::impl_object!(@swap $mode, self, other);
            }
            fn clear_status(&mut self) {
                $crate::impl_object!(@clear $mode, self);
            }
        }
    };
    (@swap none, $this:ident, $other:ident) => { let _ = $other; };
    (@swap $mode:ident, $this:ident, $other:ident) => {
        ::core::mem::swap(&mut $this.status, &mut $other.status)
    };
    (@clear status, $this:ident) => {
        $this.status = ::core::default::Default::default()
    };
    (@clear $mode:ident, $this:ident) => { let _ = $this; };
    ($ty:path) => {
        $crate::impl_object!(@impl $ty, none);
    };
    ($ty:path, status) => {
        $crate::impl_object!(@impl $ty, status);
    };
    ($ty:path, status no_default) => {
        $crate::impl_object!(@impl $ty, keep);
    };
}
