//! Rust paths, parsed once: a crate override (`::k8s_openapi`), a foreign field type
//! (`k8s_openapi::api::core::v1::PodSpec`), a hub module (`crate::apis::pager`). Generators turn
//! them into tokens without parsing anything, so a path in the model can never fail to quote.

use std::fmt;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// A path without generic arguments: `::a::b`, `crate::x`, `super::super::Y`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RustPath {
    /// Written with a leading `::` (an extern crate, never a local module).
    pub global: bool,
    /// Identifiers as written, without `r#`.
    pub segments: Vec<String>,
}

/// Path segments that are keywords yet valid in a path (and never written `r#`).
const PATH_KEYWORDS: &[&str] = &["crate", "self", "super", "Self"];

/// k8s-openapi's `api::<group>` modules.
const K8S_API_GROUPS: [&str; 21] = [
    "admissionregistration",
    "apiserverinternal",
    "apps",
    "authentication",
    "authorization",
    "autoscaling",
    "batch",
    "certificates",
    "coordination",
    "core",
    "discovery",
    "events",
    "flowcontrol",
    "networking",
    "node",
    "policy",
    "rbac",
    "resource",
    "scheduling",
    "storage",
    "storagemigration",
];

impl RustPath {
    /// Parses `::a::b`, `crate::a`, `super::super::b`, `r#type::x`. Errors say what is wrong.
    pub fn parse(text: &str) -> Result<RustPath, String> {
        let trimmed = text.trim();
        let (global, rest) = match trimmed.strip_prefix("::") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if rest.is_empty() {
            return Err(format!("`{text}` is not a Rust path"));
        }
        let mut segments = Vec::new();
        for (i, raw) in rest.split("::").enumerate() {
            let seg = raw.trim();
            let (name, is_raw) = match seg.strip_prefix("r#") {
                Some(n) => (n, true),
                None => (seg, false),
            };
            if !crate::naming::is_rust_ident(name) {
                return Err(if seg.is_empty() {
                    format!("`{text}` has an empty path segment")
                } else {
                    format!("`{seg}` in `{text}` is not an identifier")
                });
            }
            if PATH_KEYWORDS.contains(&name) {
                let leading_ok = match name {
                    "super" => segments
                        .iter()
                        .all(|s: &String| s == "super" || s == "self"),
                    "Self" => false,
                    _ => i == 0,
                };
                if is_raw || global || !leading_ok {
                    return Err(format!("`{name}` can only start a path (in `{text}`)"));
                }
            } else if matches!(name, "true" | "false") && !is_raw && text.trim() == name {
                // A flag's value where a path belongs (`+k8s:conversion-gen=true`): `r#true`
                // would be no better.
                return Err(format!("`{name}` is not a path"));
            } else if crate::output::is_keyword(name) && !is_raw {
                return Err(format!(
                    "`{name}` in `{text}` is a Rust keyword: write `r#{name}`"
                ));
            }
            segments.push(name.to_string());
        }
        Ok(RustPath { global, segments })
    }

    /// A path from segments known to be identifiers (model-internal construction).
    pub fn from_segments<S: Into<String>>(
        global: bool,
        segments: impl IntoIterator<Item = S>,
    ) -> RustPath {
        RustPath {
            global,
            segments: segments.into_iter().map(Into::into).collect(),
        }
    }

    /// The last segment (the type's name for a type path).
    pub fn last(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or_default()
    }

    /// `std::string::String` (or through `alloc`): the `String` type by its full path.
    pub fn is_std_string(&self) -> bool {
        matches!(
            self.segments.iter().map(String::as_str).collect::<Vec<_>>()[..],
            ["std" | "alloc", "string", "String"]
        )
    }

    /// `Foo`: one segment, no leading `::`.
    pub fn is_single(&self) -> bool {
        !self.global && self.segments.len() == 1
    }

    /// Whether the path starts with `crate`, `self` or `super` (it names something in this crate).
    pub fn is_relative(&self) -> bool {
        !self.global
            && self
                .segments
                .first()
                .is_some_and(|s| matches!(s.as_str(), "crate" | "self" | "super"))
    }

    pub fn first(&self) -> &str {
        self.segments
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The segments of a k8s-openapi type's path from its top module on (`apimachinery::pkg::…`,
    /// `api::core::v1::…`): after `k8s_openapi::`, or after any prefix that re-exports those
    /// modules (`crate::apimachinery::pkg::apis::meta::v1::Time`, as linkerd's `k8s-api` crate
    /// writes them). `None` for other paths.
    pub fn k8s_openapi_tail(&self) -> Option<&[String]> {
        let s = &self.segments;
        if s.first().is_some_and(|f| f == "k8s_openapi") && s.len() > 1 {
            return Some(&s[1..]);
        }
        let version = |v: &str| crate::naming::is_version(v);
        (1..s.len()).find_map(|i| {
            let rest = &s[i..];
            let k8s = match rest {
                [a, p, _, ..] if a == "apimachinery" && p == "pkg" => true,
                // `api::<group>::<version>::<Type>`, one of k8s-openapi's group modules (a crate
                // of the user's own may well have an `api::<group>::<version>` of its own).
                [a, group, v, _ty] if a == "api" => {
                    K8S_API_GROUPS.contains(&group.as_str()) && version(v)
                }
                _ => false,
            };
            k8s.then_some(rest)
        })
    }

    /// The module of the item this path names, for a path written in module `from` that starts
    /// with `self` or `super` (`super::v1::Spec` in `["g", "types"]` is in `["g", "v1"]`), both
    /// counted from the same root; `None` for any other path, or one climbing above the root.
    pub fn module_from(&self, from: &[String]) -> Option<Vec<String>> {
        let (_, module) = self.segments.split_last()?;
        let relative = match module.first().map(String::as_str) {
            _ if self.global => return None,
            Some("self") => &module[1..],
            Some("super") => module,
            _ => return None,
        };
        let ups = relative.iter().take_while(|s| *s == "super").count();
        let keep = from.len().checked_sub(ups)?;
        Some(
            from[..keep]
                .iter()
                .chain(&relative[ups..])
                .cloned()
                .collect(),
        )
    }

    /// `a::b` joined with `c`: `a::b::c`.
    pub fn join(&self, name: &str) -> RustPath {
        let mut p = self.clone();
        p.segments.push(name.to_string());
        p
    }

    /// Tokens for `quote!`; infallible because every segment is an identifier.
    pub fn to_tokens(&self) -> TokenStream {
        let segments = self.segments.iter().map(|s| segment_ident(s));
        if self.global {
            quote!(#(:: #segments)*)
        } else {
            quote!(#(#segments)::*)
        }
    }
}

fn segment_ident(s: &str) -> Ident {
    if PATH_KEYWORDS.contains(&s) {
        Ident::new(s, Span::call_site())
    } else {
        crate::output::ident(s)
    }
}

impl fmt::Display for RustPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.global {
            f.write_str("::")?;
        }
        f.write_str(&self.segments.join("::"))
    }
}

impl std::str::FromStr for RustPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RustPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::RustPath;

    #[test]
    fn self_and_super_paths_name_a_module_from_where_they_are_written() {
        let from = |p: &str, m: &[&str]| {
            let m: Vec<String> = m.iter().map(|s| s.to_string()).collect();
            RustPath::parse(p).unwrap().module_from(&m)
        };
        let owned = |m: &[&str]| Some(m.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            from("super::v1::Spec", &["g", "types"]),
            owned(&["g", "v1"])
        );
        assert_eq!(
            from("self::super::Spec", &["g", "v1", "conversion"]),
            owned(&["g", "v1"])
        );
        assert_eq!(
            from("self::inner::f", &["conversion"]),
            owned(&["conversion", "inner"])
        );
        assert_eq!(from("super::super::Spec", &["g"]), None, "above the root");
        assert_eq!(from("crate::g::Spec", &["g"]), None);
        assert_eq!(from("inner::f", &["g"]), None);
    }

    #[test]
    fn parses_and_quotes() {
        for (text, quoted) in [
            ("::k8s_openapi", ":: k8s_openapi"),
            ("crate::apis::pager", "crate :: apis :: pager"),
            ("super::super::X", "super :: super :: X"),
            ("self::types::r#type", "self :: types :: r#type"),
        ] {
            let p = RustPath::parse(text).unwrap();
            assert_eq!(p.to_tokens().to_string(), quoted);
            assert_eq!(p.to_string(), text.replace("r#", ""));
        }
    }

    #[test]
    fn rejects_what_is_not_a_path() {
        for bad in [
            "",
            "::",
            "a::",
            "a b",
            "a::9x",
            "not a path!",
            "a::crate",
            "::crate",
            "type::x",
            "a<b>",
            "self::crate",
        ] {
            assert!(RustPath::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn k8s_openapi_paths_through_re_exports() {
        let tail = |p: &str| {
            RustPath::parse(p)
                .unwrap()
                .k8s_openapi_tail()
                .map(|t| t.join("::"))
        };
        assert_eq!(
            tail("k8s_openapi::api::core::v1::PodSpec").as_deref(),
            Some("api::core::v1::PodSpec")
        );
        assert_eq!(
            tail("crate::apimachinery::pkg::apis::meta::v1::Time").as_deref(),
            Some("apimachinery::pkg::apis::meta::v1::Time")
        );
        assert_eq!(
            tail("crate::api::core::v1::PodSpec").as_deref(),
            Some("api::core::v1::PodSpec")
        );
        // A crate's own `api::<group>::<version>` is not k8s-openapi's.
        assert_eq!(tail("crate::api::shop::v1::Order"), None);
        assert_eq!(tail("chrono::DateTime"), None);
    }
}
