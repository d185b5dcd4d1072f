#!/usr/bin/env python3
"""Synthetic Rust API surface for benchmarking kube-codegen.

usage: synth.py OUT_DIR KINDS GROUPS

Writes KINDS kinds spread evenly over GROUPS group-versions (KINDS // GROUPS each, numbered
globally Kind0000.. like /work/shared/bench/synth-go.py), mirroring that script's Go surface field
for field (`*T` -> `Option<T>`, `[]T` -> `Vec<T>`, `map[K]V` -> `BTreeMap<K, V>`, nested structs):

    OUT_DIR/lib.rs            `pub mod g0; ...` (crate root, for compiling the surface; not read as input)
    OUT_DIR/g<i>/mod.rs       `//! +groupName=g<i>.example.com` + `pub mod v1;`: the internal hub
    OUT_DIR/g<i>/types.rs     the hub's types: the same kinds without serde (conversion-gen's peer)
    OUT_DIR/g<i>/v1/mod.rs    `+k8s:conversion-gen=crate::g<i>`, `mod types; pub use types::*;` +
                              include! of the generated files
    OUT_DIR/g<i>/v1/types.rs  per kind: Kind, KindSpec (10 fields), KindStatus (10), KindSub (4)

Every generator runs on it: register, deepcopy, openapi, conversion (v1 <-> hub, field by field)
and defaulter (`+default=1` on `spec.replicas`, the declarative mirror of synth-go.py's hand-written
`SetDefaults_KindSpec`, which defaults `Replicas` to 1).

Go's `KindList` is not written: kube-codegen generates it. No `Clone` derive: deepcopy-gen writes
the Clone impls, the counterpart of Go's deepcopy-gen. Roots derive no Serialize/Deserialize.
Existing OUT_DIR content is removed first.
"""
import os
import shutil
import sys

HEADER = """\
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
"""

KIND = """
/// {n}Sub is a nested struct.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct {n}Sub {{
    pub key: String,
    pub weight: Option<i32>,
    pub tags: Vec<String>,
    pub extra: BTreeMap<String, i64>,
}}

/// {n}Spec is the spec.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct {n}Spec {{
    /// +default=1
    pub replicas: Option<i32>,
    pub selector: BTreeMap<String, String>,
    pub image: String,
    pub args: Vec<String>,
    pub ports: Vec<i32>,
    pub template: {n}Sub,
    pub items: Vec<{n}Sub>,
    pub item_map: BTreeMap<String, {n}Sub>,
    pub r#override: Option<{n}Sub>,
    pub paused: bool,
}}

/// {n}Status is the status.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct {n}Status {{
    pub observed_generation: i64,
    pub replicas: i32,
    pub ready: Option<i32>,
    pub conditions: Vec<{n}Sub>,
    pub last_update: Option<Time>,
    pub message: String,
    pub phase: String,
    pub counters: BTreeMap<String, i64>,
    pub nodes: Vec<String>,
    pub detail: Option<{n}Sub>,
}}

/// {n} is a top-level kind.
/// +genclient
#[derive(Debug, Default, PartialEq)]
pub struct {n} {{
    pub metadata: ObjectMeta,
    pub spec: {n}Spec,
    pub status: Option<{n}Status>,
}}
"""

V1_MOD = """\
//! +k8s:conversion-gen=crate::g{g}
mod types;
pub use types::*;

include!("zz_generated.register.rs");
include!("zz_generated.deepcopy.rs");
include!("zz_generated.openapi.rs");
include!("zz_generated.conversion.rs");
include!("zz_generated.defaults.rs");
"""

HUB_MOD = """\
//! +groupName=g{g}.example.com
pub mod v1;
mod types;
pub use types::*;

include!("zz_generated.deepcopy.rs");
include!("zz_generated.register.rs");
"""

HUB_HEADER = """\
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use std::collections::BTreeMap;
"""


def hub_kind(n):
    """The hub's version of a kind: the same fields, no serde, no tags."""
    text = KIND.format(n=n)
    lines = [
        l
        for l in text.splitlines()
        if not l.startswith("#[serde") and "+genclient" not in l and "+default" not in l
    ]
    return "\n".join(lines).replace(", Serialize, Deserialize", "") + "\n"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: synth.py OUT_DIR KINDS GROUPS")
    out, kinds, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if groups < 1 or kinds < groups:
        sys.exit("synth.py: need KINDS >= GROUPS >= 1")
    per = kinds // groups  # as synth-go.py: KINDS // GROUPS kinds per group
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    write(os.path.join(out, "lib.rs"), "".join(f"pub mod g{g};\n" for g in range(groups)))
    k = 0
    for g in range(groups):
        gdir = os.path.join(out, f"g{g}")
        vdir = os.path.join(gdir, "v1")
        os.makedirs(vdir)
        write(os.path.join(gdir, "mod.rs"), HUB_MOD.format(g=g))
        write(os.path.join(vdir, "mod.rs"), V1_MOD.format(g=g))
        parts = [HEADER]
        hub = [HUB_HEADER]
        for _ in range(per):
            parts.append(KIND.format(n=f"Kind{k:04d}"))
            hub.append(hub_kind(f"Kind{k:04d}"))
            k += 1
        write(os.path.join(vdir, "types.rs"), "".join(parts))
        write(os.path.join(gdir, "types.rs"), "".join(hub))
    print(out)


if __name__ == "__main__":
    main()
