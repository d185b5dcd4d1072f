//! Defaulting: what defaulter-gen implements for every type of a version that has defaults
//! somewhere inside it (`+default=` on a field, or a hand-written `set_defaults_<type>`).

/// Fills in defaults: hand-written `set_defaults_<type>` first, then `+default=` values of fields
/// that are unset, then the defaults of nested objects (through `Option`, `Vec`, maps).
pub trait SetDefaults {
    fn set_defaults(&mut self);
}

impl<T: SetDefaults> SetDefaults for Option<T> {
    fn set_defaults(&mut self) {
        if let Some(v) = self {
            v.set_defaults();
        }
    }
}

impl<T: SetDefaults> SetDefaults for Box<T> {
    fn set_defaults(&mut self) {
        (**self).set_defaults();
    }
}

impl<T: SetDefaults> SetDefaults for Vec<T> {
    fn set_defaults(&mut self) {
        self.iter_mut().for_each(SetDefaults::set_defaults);
    }
}

impl<K, T: SetDefaults> SetDefaults for std::collections::BTreeMap<K, T> {
    fn set_defaults(&mut self) {
        self.values_mut().for_each(SetDefaults::set_defaults);
    }
}

impl<K, T: SetDefaults, S> SetDefaults for std::collections::HashMap<K, T, S> {
    fn set_defaults(&mut self) {
        self.values_mut().for_each(SetDefaults::set_defaults);
    }
}

/// [`SetDefaults`] for a type whose defaults all lie in the types of its fields: what
/// defaulter-gen writes for such a type, one line (the expansion defaults each field named, in
/// order; none for a kind with nothing to default).
///
/// ```
/// use kube_codegen_scheme::SetDefaults;
/// #[derive(Default)]
/// pub struct Spec { pub replicas: Option<i32> }
/// impl SetDefaults for Spec {
///     fn set_defaults(&mut self) { self.replicas.get_or_insert(1); }
/// }
/// #[derive(Default)]
/// pub struct Widget { pub spec: Spec, pub r#type: Vec<Spec> }
/// kube_codegen_scheme::default_fields!(Widget { spec, r#type });
/// pub struct Empty;
/// kube_codegen_scheme::default_fields!(Empty {});
/// let mut w = Widget { r#type: vec![Spec::default()], ..Default::default() };
/// w.set_defaults();
/// assert_eq!((w.spec.replicas, w.r#type[0].replicas), (Some(1), Some(1)));
/// ```
#[macro_export]
macro_rules! default_fields {
    ($ty:path { $($field:ident),* $(,)? }) => {
        impl $crate::SetDefaults for $ty {
            fn set_defaults(&mut self) {
                $($crate::SetDefaults::set_defaults(&mut self.$field);)*
            }
        }
    };
}

/// A `+default=` value of a compound type, decoded from the JSON kube-codegen checked against the
/// field's type. `None` only for a type kube-codegen could not check (a foreign type whose serde
/// disagrees with the JSON), which then stays unset.
pub fn default_from_json<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}
