//! YAML request bodies as JSON, read as Go's `yaml.YAMLToJSON` reads them: the first document,
//! and a key repeated in a mapping kept repeated, so that `fieldValidation` treats it as it
//! treats a JSON body's (the last value wins, with a warning under `Warn`, a 400 under `Strict`).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A YAML document as written: mappings keep every entry, repeated keys included.
enum Node {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// What a request body's YAML may make: about one node per byte of the body (what a body
/// without aliases can make at most) plus 10,000, within serde-saphyr's own 250,000, and scalars
/// of the body's size plus 64 KiB in all. Aliases repeat nodes and scalars without input — a
/// 750-byte body of nested aliases made 250,000 nodes (a quarter of a second of a request worker
/// and 50 MB), a 50 KB one of a long scalar aliased a thousand times 55 MB of JSON — so an
/// expansion beyond the body's own size is refused, as Go's go-yaml refuses "excessive
/// aliasing", at the cost of a body of its size.
pub(crate) fn node_budget(text: &str) -> Option<serde_saphyr::Budget> {
    serde_saphyr::budget! {
        max_nodes: text.len().saturating_add(10_000).min(250_000),
        max_total_scalar_bytes: text.len().saturating_add(64 << 10),
    }
}

/// The first document of `text` as JSON bytes.
pub(crate) fn to_json(text: &str) -> Result<Vec<u8>, String> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        budget: node_budget(text),
    };
    let docs: Vec<Node> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| e.to_string())?;
    let first = docs
        .into_iter()
        .next()
        .ok_or_else(|| "it holds no YAML document".to_string())?;
    serde_json::to_vec(&first).map_err(|e| e.to_string())
}

/// The first key `text` repeats in a mapping, as Go's strict YAML decoding reports it
/// (sigs.k8s.io/yaml's `UnmarshalStrict` over go-yaml's): `error converting YAML to JSON: yaml:
/// unmarshal errors:\n  line 3: key "content" already set in map`. `None` when no key is
/// repeated, or the text does not parse (reading it says why).
pub(crate) fn repeated_key(text: &str) -> Option<String> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        budget: node_budget(text),
    };
    let mut e = serde_saphyr::from_multiple_with_options::<Node>(text, options).err()?;
    // Unwrapped from what adds a source snippet or an alias's place to it.
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = e
    {
        e = *error;
    }
    let serde_saphyr::Error::DuplicateMappingKey { key, location } = e else {
        return None;
    };
    let key = key.map_or_else(|| "a key".to_string(), |k| format!("key {k:?}"));
    Some(format!(
        "error converting YAML to JSON: yaml: unmarshal errors:\n  line {}: {key} already set in map",
        location.line()
    ))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::U64(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::F64(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::F64(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(v) => s.serialize_bool(*v),
            Node::I64(v) => s.serialize_i64(*v),
            Node::U64(v) => s.serialize_u64(*v),
            Node::F64(v) => s.serialize_f64(*v),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            // Entries in order, a repeated key written again (JSON text may repeat keys).
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_keys_stay_and_only_the_first_document_counts() {
        let json = super::to_json("a: 1\nb: {c: x, c: z}\nnone: ~\nl: [1, 2.5, true]\n---\nz: 1\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"a":1,"b":{"c":"x","c":"z"},"none":null,"l":[1,2.5,true]}"#
        );
        assert!(super::to_json("a: [").is_err());
    }

    #[test]
    fn a_repeated_key_is_reported_with_its_line_as_go_yaml_does() {
        assert_eq!(
            super::repeated_key("a: 1\nspec:\n  content: a\n  content: b\n").as_deref(),
            Some(
                "error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key \"content\" already set in map"
            )
        );
        assert_eq!(
            super::repeated_key(r#"{"spec": {"x": 1, "x": 2}}"#).as_deref(),
            Some(
                "error converting YAML to JSON: yaml: unmarshal errors:\n  line 1: key \"x\" already set in map"
            )
        );
        assert_eq!(super::repeated_key("a: 1\nb: {c: 2}\n"), None);
        assert_eq!(super::repeated_key("a: ["), None);
    }

    /// Aliases nested `levels` deep, each level ten of the one below: a few hundred bytes that
    /// make 10^`levels` nodes.
    fn laughs(levels: usize) -> String {
        let mut text = String::from("spec:\n  title: &a0 \"lol\"\n");
        for i in 1..=levels {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            text.push_str(&format!("  x{i}: &a{i} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn aliases_expand_to_no_more_nodes_than_the_body_could_hold() {
        // 100,000 nodes from 300 bytes (within serde-saphyr's own budget), 10^11, and a
        // 50 KB scalar repeated a thousand times by 1,110 nodes.
        let long = format!(
            "s: &s \"{}\"\na: &a [*s,*s,*s,*s,*s,*s,*s,*s,*s,*s]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
            "x".repeat(50_000)
        );
        for bomb in [laughs(5), laughs(11), long] {
            assert!(bomb.len() < 60_000);
            let e = match super::to_json(&bomb) {
                Ok(json) => panic!("the bomb was read: {} bytes of JSON", json.len()),
                Err(e) => e,
            };
            assert!(e.contains("budget"), "{e}");
            assert!(super::repeated_key(&bomb).is_none());
        }
        // 10,000 nodes of aliases are still read, as a body without aliases of any size is,
        // up to 250,000 nodes.
        let small = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n";
        assert_eq!(
            super::to_json(small).unwrap().len(),
            r#"{"a":[1,2,3,4,5,6,7,8,9,10],"b":[[1,2,3,4,5,6,7,8,9,10],[1,2,3,4,5,6,7,8,9,10],[1,2,3,4,5,6,7,8,9,10],[1,2,3,4,5,6,7,8,9,10],[1,2,3,4,5,6,7,8,9,10]]}"#.len()
        );
        let dense = format!("[{}1]", "1,".repeat(200_000));
        assert!(dense.len() < 500_000);
        let json = super::to_json(&dense).unwrap();
        assert_eq!(json.len(), dense.len());
    }
}
