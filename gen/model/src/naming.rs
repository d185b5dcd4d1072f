//! Names: plurals, camelCase wire names, DNS and version grammars.

/// Plurals English rules get wrong; the rest follow the rules in [`plural`].
const IRREGULAR_PLURALS: &[(&str, &str)] = &[
    ("chaos", "chaos"),
    ("series", "series"),
    ("species", "species"),
    ("person", "people"),
    ("child", "children"),
];

/// Kind suffixes that are already plural (`Endpoints`, `GKENetworkParams`, `PodMetrics`).
const ALREADY_PLURAL_SUFFIXES: &[&str] = &[
    "endpoints",
    "params",
    "metrics",
    "settings",
    "credentials",
    "details",
];

/// The lower-case plural of a kind: `Policy`→`policies`, `Gateway`→`gateways`,
/// `Ingress`→`ingresses`, `Endpoints`→`endpoints`, `Alert`→`alerts`.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some((_, p)) = IRREGULAR_PLURALS.iter().find(|(s, _)| *s == lower) {
        return p.to_string();
    }
    if ALREADY_PLURAL_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return lower;
    }
    let bytes = lower.as_bytes();
    let n = bytes.len();
    let is_vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    if n >= 2 && bytes[n - 1] == b'y' && !is_vowel(bytes[n - 2]) {
        return format!("{}ies", &lower[..n - 1]);
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with('z')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// `last_update_time` → `lastUpdateTime` (Kubernetes' JSON convention).
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `AlertSpec` → `alert_spec`, `HTTPRoute` → `http_route`, `V1Beta` → `v1_beta`: the name of
/// a type in a function name.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) => p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()),
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `s` can name a Rust module or item (`types`, `v1alpha1`, `_x`).
pub fn is_rust_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && c.all(|c| c.is_alphanumeric() || c == '_')
        && s != "_"
}

/// A field name under serde's `rename_all` rule (`None`: unchanged), exactly as serde_derive
/// renames it (`RenameRule::apply_to_field`): ASCII case changes only, `lowercase` and
/// `snake_case` leave a field as written, and `camelCase` lowercases the first character of
/// the PascalCase form (`URL` → `uRL`).
pub fn rename_field(name: &str, rule: Option<&str>) -> String {
    let pascal = || {
        let mut out = String::with_capacity(name.len());
        let mut capitalize = true;
        for c in name.chars() {
            if c == '_' {
                capitalize = true;
            } else if capitalize {
                out.push(c.to_ascii_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    match rule {
        Some("UPPERCASE") | Some("SCREAMING_SNAKE_CASE") => name.to_ascii_uppercase(),
        Some("PascalCase") => pascal(),
        Some("camelCase") => lower_first(&pascal()),
        Some("kebab-case") => name.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => name.to_ascii_uppercase().replace('_', "-"),
        _ => name.to_string(),
    }
}

/// A variant name under serde's `rename_all` rule (`None`: unchanged), exactly as serde_derive
/// renames it (`RenameRule::apply_to_variant`): ASCII case changes only, a `_` before every
/// uppercase character but the first for the snake and kebab rules.
pub fn rename_variant(name: &str, rule: Option<&str>) -> String {
    let snake = || {
        let mut out = String::with_capacity(name.len() + 4);
        for (i, c) in name.char_indices() {
            if i > 0 && c.is_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    match rule {
        Some("lowercase") => name.to_ascii_lowercase(),
        Some("UPPERCASE") => name.to_ascii_uppercase(),
        Some("camelCase") => lower_first(name),
        Some("snake_case") => snake(),
        Some("SCREAMING_SNAKE_CASE") => snake().to_ascii_uppercase(),
        Some("kebab-case") => snake().replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => snake().to_ascii_uppercase().replace('_', "-"),
        _ => name.to_string(),
    }
}

/// The first character ASCII-lowercased, the rest as written. (serde_derive slices the first
/// byte, so a name starting with a non-ASCII character does not compile with it; left as is.)
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|f| {
            std::iter::once(f.to_ascii_lowercase())
                .chain(chars)
                .collect()
        })
        .unwrap_or_default()
}

/// `^v[0-9]+((alpha|beta)[0-9]*)?$`: the Kubernetes version grammar (code-generator's
/// `gen_client` and apimachinery's `kubeVersionRegex`), and `v<N>alpha`/`v<N>beta`, which CRDs
/// serve too (mirrord's `v1alpha`; Kubernetes orders them after the versions of its grammar).
/// `v0` is a version (akri serves `v0`).
pub fn is_version(s: &str) -> bool {
    let Some(rest) = after_major(s) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(n) = rest
        .strip_prefix("alpha")
        .or_else(|| rest.strip_prefix("beta"))
    else {
        return false;
    };
    n.bytes().all(|b| b.is_ascii_digit())
}

/// A name meant as a version but not spelled as one (`V1`, `v1alpha`, `v1-beta1`, `v1.2`):
/// lower-cased and without `-`/`_`, it is `v<N>`, `v<N>alpha[<M>]`, `v<N>beta[<M>]` or
/// `v<N>.<M>…`, yet not [`is_version`]. Such a directory is not a package of its own.
pub fn looks_like_version(s: &str) -> bool {
    if is_version(s) {
        return false;
    }
    let joined = without_separators(s);
    let Some(rest) = after_major(&joined) else {
        return false;
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    rest.is_empty()
        || rest
            .strip_prefix("alpha")
            .or_else(|| rest.strip_prefix("beta"))
            .is_some_and(all_digits)
        || rest
            .strip_prefix('.')
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The Kubernetes spelling of a name [`looks_like_version`] accepts, when one is evident
/// (`V1` → `v1`, `v1-beta1` → `v1beta1`, `V2Alpha1` → `v2alpha1`).
pub fn version_spelling(s: &str) -> Option<String> {
    let fixed = without_separators(s);
    is_version(&fixed).then_some(fixed)
}

/// What follows `v<digits>` in a name that starts so (`beta1` of `v1beta1`).
fn after_major(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('v')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| &rest[digits..])
}

fn without_separators(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// RFC 1123 label: lower-case alphanumerics and `-`, starting and ending alphanumeric, ≤ 63.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated labels, ≤ 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Directory names that hold API packages but are never a group (code-generator#167 read `api/`
/// as the core group).
pub fn is_container_dir(name: &str) -> bool {
    matches!(name, "api" | "apis" | "src" | "pkg" | "types" | "lib")
}

/// Names generated code declares in an external version package for a type: `(name, generator)`.
/// Every generator that declares a per-type name in the package lists it here, so a user type
/// that would collide with it is an error (E0309) rather than a compile failure.
pub fn generated_names(type_name: &str, is_kind: bool) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if is_kind {
        out.push((format!("{type_name}List"), "register-gen"));
    }
    out.push((
        format!("{type_name}ApplyConfiguration"),
        "applyconfiguration-gen",
    ));
    out
}

#[cfg(test)]
mod snake_tests {
    #[test]
    fn snake_case() {
        for (n, s) in [
            ("AlertSpec", "alert_spec"),
            ("HTTPRoute", "http_route"),
            ("Alert", "alert"),
            ("V1Beta", "v1_beta"),
            ("PodIP", "pod_ip"),
            ("already_snake", "already_snake"),
        ] {
            assert_eq!(super::snake_case(n), s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        for (kind, want) in [
            ("Alert", "alerts"),
            ("Policy", "policies"),
            ("NetworkPolicy", "networkpolicies"),
            ("Gateway", "gateways"),
            ("FabricGateway", "fabricgateways"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("GKENetworkParams", "gkenetworkparams"),
            ("Box", "boxes"),
            ("Patch", "patches"),
            ("Mesh", "meshes"),
            ("Key", "keys"),
            ("Proxy", "proxies"),
        ] {
            assert_eq!(plural(kind), want, "{kind}");
        }
    }

    #[test]
    fn camel() {
        assert_eq!(camel_case("last_update_time"), "lastUpdateTime");
        assert_eq!(camel_case("spec"), "spec");
        assert_eq!(camel_case("type"), "type");
        assert_eq!(camel_case("ip_v6"), "ipV6");
    }

    #[test]
    fn serde_renames() {
        assert_eq!(rename_field("last_sent", Some("camelCase")), "lastSent");
        assert_eq!(rename_field("last_sent", Some("PascalCase")), "LastSent");
        assert_eq!(rename_field("last_sent", Some("kebab-case")), "last-sent");
        assert_eq!(rename_field("last_sent", None), "last_sent");
        assert_eq!(rename_variant("NotReady", Some("camelCase")), "notReady");
        assert_eq!(rename_variant("NotReady", Some("snake_case")), "not_ready");
        assert_eq!(
            rename_variant("NotReady", Some("SCREAMING_SNAKE_CASE")),
            "NOT_READY"
        );
        assert_eq!(rename_variant("NotReady", None), "NotReady");
        // What serde_derive 1.0.229 makes of names that are not snake_case (fields) or
        // PascalCase (variants), and of non-ASCII letters: its case changes are ASCII only.
        let fields = [
            ("URL", "camelCase", "uRL"),
            ("Name_Of", "camelCase", "nameOf"),
            ("apiVersion", "lowercase", "apiVersion"),
            ("kind_Of", "lowercase", "kind_Of"),
            ("kind_Of", "snake_case", "kind_Of"),
            ("ñ", "UPPERCASE", "ñ"),
            ("ß_x", "SCREAMING-KEBAB-CASE", "ß-X"),
            ("ünï_x", "PascalCase", "ünïX"),
            ("a__b", "camelCase", "aB"),
            ("_x", "camelCase", "x"),
            ("x_2_y", "camelCase", "x2Y"),
        ];
        for (name, rule, wire) in fields {
            assert_eq!(rename_field(name, Some(rule)), wire, "{name} {rule}");
        }
        let variants = [
            ("Ñandu", "snake_case", "Ñandu"),
            ("AÑo", "snake_case", "a_Ño"),
            ("HTTPRoute", "snake_case", "h_t_t_p_route"),
            ("HTTPRoute", "camelCase", "hTTPRoute"),
            ("HTTPRoute", "kebab-case", "h-t-t-p-route"),
            ("V1", "lowercase", "v1"),
        ];
        for (name, rule, wire) in variants {
            assert_eq!(rename_variant(name, Some(rule)), wire, "{name} {rule}");
        }
    }

    #[test]
    fn versions() {
        // The regex Go's tools use: digits, leading zeros included.
        for ok in [
            "v1", "v1alpha1", "v2beta3", "v10", "v0", "v01", "v1beta0", "v1alpha", "v2beta",
        ] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["1", "v1gamma1", "version", "v", "v1.0", "V1", "v1alpha-1"] {
            assert!(!is_version(bad), "{bad}");
        }
    }

    #[test]
    fn dns() {
        assert!(is_dns_subdomain("pager.k8s.co"));
        assert!(!is_dns_subdomain("Pager.k8s.co"));
        assert!(!is_dns_subdomain("pager_k8s"));
        assert!(!is_dns_subdomain("a..b"));
    }
}
