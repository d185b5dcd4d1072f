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

/// A `+default=` value of a compound type, decoded from the JSON of the tag on `field`
/// (`Type.field`), which kube-codegen checked against the field's type where it could.
///
/// # Panics
///
/// When the JSON does not decode as `T` — only possible for a type kube-codegen cannot check
/// (another crate's, whose serde disagrees with the tag): a mistake in `types.rs` that would
/// otherwise leave the field unset on every object without a word. It names the field, the
/// JSON and serde's error, as Go's defaulter-gen panics on a default that does not unmarshal
/// (the API server answers such a request with a 500 and logs it).
///
/// ```
/// let ports: Vec<u16> = kube_codegen_scheme::default_from_json("[80,443]", "Spec.ports");
/// assert_eq!(ports, [80, 443]);
/// ```
pub fn default_from_json<T: serde::de::DeserializeOwned>(json: &str, field: &str) -> T {
    match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => panic!(
            "the `+default={json}` tag of `{field}` does not decode as `{}`: {e} \
             (fix the tag in types.rs and generate again)",
            std::any::type_name::<T>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::default_from_json;

    #[test]
    fn a_default_its_type_refuses_names_the_field_the_json_and_the_error() {
        let panic = std::panic::catch_unwind(|| {
            let _: std::collections::BTreeMap<String, u16> =
                default_from_json(r#"{"port":"eighty"}"#, "Spec.endpoint");
        })
        .expect_err("a default that does not decode panics");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        for part in [
            r#"the `+default={"port":"eighty"}` tag of `Spec.endpoint` does not decode as `"#,
            "BTreeMap<",
            r#"invalid type: string "eighty", expected u16"#,
            "fix the tag in types.rs",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
    }
}
