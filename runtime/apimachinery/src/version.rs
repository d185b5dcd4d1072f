//! The order of API versions (Go's `version.CompareKubeAwareVersionStrings`), which discovery
//! lists versions in and by which the preferred version is chosen.

/// A sort key, higher first: GA before beta before alpha, each by major then minor number,
/// highest first (`v2`, `v1`, `v2beta1`, `v1beta2`, `v1beta1`, `v1alpha1`); a name that is not a
/// Kubernetes version (`^v\d+((alpha|beta)\d+)?$`: `v1beta`, `foo`) after every version.
pub fn version_priority(v: &str) -> (u8, u64, u64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(major) = rest[..digits].parse::<u64>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let numbered = |n: &str| {
        (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| n.parse::<u64>().ok())
            .flatten()
    };
    match (tail.strip_prefix("beta"), tail.strip_prefix("alpha")) {
        (Some(n), _) => numbered(n).map_or((0, 0, 0), |minor| (2, major, minor)),
        (_, Some(n)) => numbered(n).map_or((0, 0, 0), |minor| (1, major, minor)),
        _ => (0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::version_priority;

    #[test]
    fn kubernetes_order() {
        // Go's TestCompareKubeAwareVersionStrings order, highest first.
        let ordered = [
            "v10",
            "v2",
            "v1",
            "v11beta2",
            "v10beta3",
            "v3beta1",
            "v12alpha1",
            "v11alpha2",
        ];
        for w in ordered.windows(2) {
            assert!(version_priority(w[0]) > version_priority(w[1]), "{w:?}");
        }
        for not_a_version in ["foo1", "v1beta", "v1alpha", "vx", "", "V1"] {
            assert_eq!(
                version_priority(not_a_version),
                (0, 0, 0),
                "{not_a_version}"
            );
            assert!(version_priority("v1alpha1") > version_priority(not_a_version));
        }
    }
}
