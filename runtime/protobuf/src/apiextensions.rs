//! apiextensions-apiserver's messages whose Go types marshal themselves (k8s-openapi makes
//! enums and a JSON newtype of them), written as Kubernetes writes them. The rest of
//! `CustomResourceDefinition` is generated (`k8s_api.rs`).
//!
//! - `JSON { bytes raw = 1 }`: the value's JSON text.
//! - `JSONSchemaPropsOrArray { schema = 1; repeated jSONSchemas = 2 }`: one schema or a list
//!   (the list when both are set, as Go marshals it).
//! - `JSONSchemaPropsOrBool { bool allows = 1; schema = 2 }`: Go reads a schema as
//!   `allows: true` with the schema, so both are written for one.
//! - `JSONSchemaPropsOrStringArray { schema = 1; repeated string property = 2 }`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSON, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
    JSONSchemaPropsOrStringArray,
};

use crate::wire::{self, Depth, Field, context, decode_key, skip};
use crate::{DecodeError, Message, message_field};

impl Message for JSON {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        wire::encode_bytes(1, &json_text(&self.0), buf);
    }
    fn fields_len(&self) -> usize {
        wire::bytes_len(1, json_text(&self.0).len())
    }
    fn decode_fields(buf: &mut &[u8], _depth: Depth) -> Result<Self, DecodeError> {
        let mut raw = None;
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => raw = Some(wire::decode_bytes(wire, buf)?),
                _ => skip(wire, tag, buf)?,
            }
        }
        // Go's `JSON` with no bytes marshals as `null`.
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(JSON(serde_json::Value::Null));
        };
        serde_json::from_slice(&raw)
            .map(JSON)
            .map_err(|e| context(DecodeError::new(format!("not JSON: {e}")), "JSON", "raw"))
    }
}

fn json_text(value: &serde_json::Value) -> Vec<u8> {
    // A `Value` always serializes.
    serde_json::to_vec(value).unwrap_or_default()
}

impl Message for JSONSchemaPropsOrArray {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        match self {
            JSONSchemaPropsOrArray::Schema(schema) => schema.encode(1, buf),
            JSONSchemaPropsOrArray::Schemas(schemas) => schemas.encode(2, buf),
        }
    }
    fn fields_len(&self) -> usize {
        match self {
            JSONSchemaPropsOrArray::Schema(schema) => schema.encoded_len(1),
            JSONSchemaPropsOrArray::Schemas(schemas) => schemas.encoded_len(2),
        }
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut schema: Option<Box<JSONSchemaProps>> = None;
        let mut schemas: Vec<JSONSchemaProps> = Vec::new();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => schema
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrArray", "schema"))?,
                2 => schemas
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrArray", "jSONSchemas"))?,
                _ => skip(wire, tag, buf)?,
            }
        }
        // Go marshals the list when it has items, else the schema.
        Ok(match schema {
            Some(schema) if schemas.is_empty() => JSONSchemaPropsOrArray::Schema(schema),
            _ => JSONSchemaPropsOrArray::Schemas(schemas),
        })
    }
}

impl Message for JSONSchemaPropsOrBool {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        match self {
            JSONSchemaPropsOrBool::Schema(schema) => {
                true.encode(1, buf);
                schema.encode(2, buf);
            }
            JSONSchemaPropsOrBool::Bool(allows) => allows.encode(1, buf),
        }
    }
    fn fields_len(&self) -> usize {
        match self {
            JSONSchemaPropsOrBool::Schema(schema) => true.encoded_len(1) + schema.encoded_len(2),
            JSONSchemaPropsOrBool::Bool(allows) => allows.encoded_len(1),
        }
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut allows = false;
        let mut schema: Option<Box<JSONSchemaProps>> = None;
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => allows
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrBool", "allows"))?,
                2 => schema
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrBool", "schema"))?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(match schema {
            Some(schema) => JSONSchemaPropsOrBool::Schema(schema),
            None => JSONSchemaPropsOrBool::Bool(allows),
        })
    }
}

impl Message for JSONSchemaPropsOrStringArray {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        match self {
            JSONSchemaPropsOrStringArray::Schema(schema) => schema.encode(1, buf),
            JSONSchemaPropsOrStringArray::Strings(property) => property.encode(2, buf),
        }
    }
    fn fields_len(&self) -> usize {
        match self {
            JSONSchemaPropsOrStringArray::Schema(schema) => schema.encoded_len(1),
            JSONSchemaPropsOrStringArray::Strings(property) => property.encoded_len(2),
        }
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut schema: Option<Box<JSONSchemaProps>> = None;
        let mut property: Vec<String> = Vec::new();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => schema
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrStringArray", "schema"))?,
                2 => property
                    .merge(wire, buf, depth)
                    .map_err(|e| context(e, "JSONSchemaPropsOrStringArray", "property"))?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(match schema {
            Some(schema) => JSONSchemaPropsOrStringArray::Schema(schema),
            None => JSONSchemaPropsOrStringArray::Strings(property),
        })
    }
}

message_field!(
    JSON,
    JSONSchemaPropsOrArray,
    JSONSchemaPropsOrBool,
    JSONSchemaPropsOrStringArray
);
