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

/// A `+default=` value of a compound type, decoded from the JSON kube-codegen checked against the
/// field's type. `None` only for a type kube-codegen could not check (a foreign type whose serde
/// disagrees with the JSON), which then stays unset.
pub fn default_from_json<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}
