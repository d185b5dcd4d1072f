#!/usr/bin/env python3
"""Generates the protobuf impls of k8s-openapi's `api` types (kube-codegen-protobuf).

Inputs:
  - Kubernetes' own message definitions: the `<group>/<version>/generated.proto` files of a
    checkout of https://github.com/kubernetes/api (field numbers and shapes);
  - k8s-openapi's sources, one directory per Kubernetes version it supports (`src/v1_NN/`):
    which struct has which field, with which JSON name and Rust type, in each version.

Outputs (committed; rerun after upgrading either):
  - runtime/protobuf/src/k8s_api.rs: `Message` + `Field` impls, each field's lines guarded by
    k8s-openapi's `k8s_if_*` macros when it exists in some versions only;
  - runtime/protobuf/proto/k8s.io/api/<group>/<version>/generated.proto: the same messages for
    protoc (only the ones implemented);
  - gen/protobuf-gen/src/k8s_messages.rs: the table protobuf-gen reads (types implemented in
    every supported version, so generated code compiles whichever version a user selects).

A message is implemented for a version only when every field k8s-openapi has maps to a field
of the message with the same JSON name and a matching shape: nothing is ever dropped. Go's
embedded structs (`EphemeralContainerCommon`, `LocalObjectReference` in key selectors), which
k8s-openapi flattens, are written as the nested message Kubernetes sends.

Fields a Kubernetes release had and a later one dropped (alpha fields) are missing from a
newer checkout; k8s-pb's sources (prost structs generated from an older release) fill them in,
matched by field name and never over a number the checkout uses.

Besides k8s.io/api, the messages of other repositories k8s-openapi has types of
(apiextensions-apiserver's CustomResourceDefinition, kube-aggregator's APIService) are read from
`--proto IMPORT_PREFIX=DIR[@COMMIT]` (every `generated.proto` below DIR, imported as
IMPORT_PREFIX/<its path below DIR>; COMMIT is named in what is written from them).

usage: generate.py KUBERNETES_API_CHECKOUT K8S_OPENAPI_SRC REPO_ROOT [COMMIT [K8S_PB_SRC]]
                   [--proto IMPORT_PREFIX=DIR[@COMMIT] ...]
"""

import os
import re
import sys
from collections import defaultdict

args = [a for a in sys.argv[1:]]
extra_roots = []  # (import prefix, directory)
while "--proto" in args:
    i = args.index("--proto")
    prefix, _, directory = args[i + 1].partition("=")
    directory, _, source_commit = directory.partition("@")
    extra_roots.append((prefix, directory, source_commit or "unknown"))
    del args[i : i + 2]
api_dir, openapi_src, root = args[0], args[1], args[2]
commit = args[3] if len(args) > 3 else "unknown"
k8s_pb_src = args[4] if len(args) > 4 else None
# Package → the path other `.proto` files import it by, and the source it was read from.
PROTO_FILES = {}
PROTO_SOURCES = {}

VERSIONS = sorted(
    int(d[len("v1_"):]) for d in os.listdir(openapi_src) if re.fullmatch(r"v1_\d+", d)
)

# Messages kube-codegen-protobuf implements by hand (apimachinery's, which k8s.io/api imports),
# by full proto name → Rust path below `k8s_openapi::`.
HANDWRITTEN = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta": "apimachinery::pkg::apis::meta::v1::ObjectMeta",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta": "apimachinery::pkg::apis::meta::v1::ListMeta",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "apimachinery::pkg::apis::meta::v1::Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "apimachinery::pkg::apis::meta::v1::MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector": "apimachinery::pkg::apis::meta::v1::LabelSelector",
    "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement": "apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement": "apimachinery::pkg::apis::meta::v1::FieldSelectorRequirement",
    "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions": "apimachinery::pkg::apis::meta::v1::DeleteOptions",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions": "apimachinery::pkg::apis::meta::v1::Preconditions",
    "k8s.io.apimachinery.pkg.apis.meta.v1.GroupResource": "apimachinery::pkg::apis::meta::v1::GroupResource",
    "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference": "apimachinery::pkg::apis::meta::v1::OwnerReference",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": "apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "apimachinery::pkg::apis::meta::v1::FieldsV1",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Condition": "apimachinery::pkg::apis::meta::v1::Condition",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Status": "apimachinery::pkg::apis::meta::v1::Status",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "apimachinery::pkg::api::resource::Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "apimachinery::pkg::util::intstr::IntOrString",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "apimachinery::pkg::runtime::RawExtension",
    # Go types that marshal themselves (k8s-openapi: a JSON newtype and enums).
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON": "apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": "apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrArray",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": "apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrBool",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": "apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrStringArray",
}
# Hand-written apimachinery messages, as the proto files in runtime/protobuf/proto declare them.
APIMACHINERY_FILES = {
    "k8s.io.apimachinery.pkg.apis.meta.v1": "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    "k8s.io.apimachinery.pkg.api.resource": "k8s.io/apimachinery/pkg/api/resource/generated.proto",
    "k8s.io.apimachinery.pkg.util.intstr": "k8s.io/apimachinery/pkg/util/intstr/generated.proto",
    "k8s.io.apimachinery.pkg.runtime": "k8s.io/apimachinery/pkg/runtime/generated.proto",
}
SCALARS = {"string", "int32", "int64", "bool", "double", "bytes"}


# ------------------------------------------------------------------------------------------------
# Kubernetes' messages.

def parse_protos():
    """package → {message: [(label, type, name, number)]} (types fully qualified, no dot)."""
    out = {}
    files = []
    for prefix, base, source_commit in [("k8s.io/api", api_dir, commit)] + extra_roots:
        source = f"{prefix.replace('k8s.io/', 'kubernetes/')}@{source_commit}"
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if "generated.proto" in filenames:
                rel = os.path.relpath(os.path.join(dirpath, "generated.proto"), base)
                path = os.path.join(dirpath, "generated.proto")
                files.append((path, f"{prefix}/{rel}", source))
    for path, import_path, source in sorted(files):
        text = open(path).read()
        pkg = re.search(r"^package ([\w.]+);", text, re.M).group(1)
        PROTO_FILES[pkg] = import_path
        PROTO_SOURCES[pkg] = source
        messages = {}
        for m in re.finditer(r"^message (\w+) \{(.*?)^\}", text, re.M | re.S):
            fields = []
            for line in m.group(2).splitlines():
                line = line.strip()
                f = re.fullmatch(r"(optional|repeated) ([\w.]+) (\w+) = (\d+);", line)
                if f:
                    label, ty, name, n = f.groups()
                else:
                    f = re.fullmatch(r"map<string, ([\w.]+)> (\w+) = (\d+);", line)
                    if not f:
                        if line and not line.startswith("//"):
                            raise SystemExit(f"{path}: cannot read `{line}`")
                        continue
                    label, (ty, name, n) = "map", f.groups()
                if ty not in SCALARS:
                    ty = ty.lstrip(".") if ty.startswith(".") else f"{pkg}.{ty}"
                fields.append((label, ty, name, int(n)))
            messages[m.group(1)] = fields
        out[pkg] = messages
    return out


# ------------------------------------------------------------------------------------------------
# k8s-openapi's structs.

def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def parse_struct(path, name):
    """(derives Default, [(rust field, json name, rust type)]) of struct `name`, or None."""
    if not os.path.isfile(path):
        return None
    text = open(path).read()
    m = re.search(r"#\[derive\(([^)]*)\)\]\s*pub struct (\w+) \{(.*?)\n\}", text, re.S)
    if not m or m.group(2) != name:
        return None
    default = "Default" in m.group(1)
    fields = re.findall(r"^    pub (\w+): (.+),$", m.group(3), re.M)
    keys = dict((rust, json) for json, rust in re.findall(r'"([^"]+)" => Field::Key_(\w+),', text))
    out = []
    for rust, ty in fields:
        if rust not in keys:
            return None
        out.append((rust, keys[rust], ty))
    return default, out


def generated_package(pkg):
    """Whether `pkg`'s messages are generated here: k8s.io/api's and the other repositories'
    read with `--proto` (k8s.io/apimachinery's are written by hand)."""
    return pkg.startswith("k8s.io.") and not pkg.startswith("k8s.io.apimachinery.")


def openapi_path(version, pkg, name):
    """k8s-openapi mirrors the Go packages: `k8s.io.api.apps.v1` → `src/v1_NN/api/apps/v1/`."""
    if not generated_package(pkg):
        return None
    return os.path.join(openapi_src, f"v1_{version}", *pkg.split(".")[2:], snake(name) + ".rs")


def openapi_struct(version, pkg, name):
    """k8s-openapi's struct for message `name` of `pkg` in `version`."""
    path = openapi_path(version, pkg, name)
    return parse_struct(path, name) if path else None


def openapi_empty(version, pkg, name):
    """Whether k8s-openapi has message `name` as `struct Name(pub serde_json::Value)`: what it
    makes of a Go struct without fields (an OpenAPI object without properties)."""
    path = openapi_path(version, pkg, name)
    if not path or not os.path.isfile(path):
        return False
    pattern = rf"^pub struct {name}\(pub crate::serde_json::Value\);$"
    return re.search(pattern, open(path).read(), re.M) is not None


def rust_path_of(full):
    """The Rust path (below `k8s_openapi::`) of a message, or None."""
    if full in HANDWRITTEN:
        return HANDWRITTEN[full]
    pkg, name = full.rsplit(".", 1)
    if generated_package(pkg):
        return "::".join(pkg.split(".")[2:] + [name])
    return None


def same_name(proto_name, json_name):
    """go-to-protobuf names fields after Go's (`APIGroup` → `aPIGroup`, `XPreserveUnknownFields`)
    where JSON says `apiGroup`, `x-kubernetes-preserve-unknown-fields`, `$ref`: names are
    compared without case and without what is not a letter or a digit."""
    return norm(proto_name) == norm(json_name)


def norm(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


# ------------------------------------------------------------------------------------------------
# Matching.

def strip_option(ty):
    m = re.fullmatch(r"Option<(.+)>", ty)
    return m.group(1) if m else ty


def shape_of(ty):
    """('scalar', s) | ('message', rust path) | ('repeated', inner) | ('map', inner) | None."""
    ty = strip_option(ty)
    m = re.fullmatch(r"std::boxed::Box<(.+)>", ty)
    if m:
        return shape_of(m.group(1))
    m = re.fullmatch(r"std::vec::Vec<(.+)>", ty)
    if m:
        return ("repeated", shape_of(m.group(1)))
    m = re.fullmatch(r"std::collections::BTreeMap<std::string::String, (.+)>", ty)
    if m:
        return ("map", shape_of(m.group(1)))
    simple = {
        "std::string::String": "string",
        "i32": "int32",
        "i64": "int64",
        "bool": "bool",
        "f64": "double",
        "crate::ByteString": "bytes",
    }
    if ty in simple:
        return ("scalar", simple[ty])
    if ty.startswith("crate::"):
        return ("message", ty[len("crate::"):])
    return None


def matches(label, pty, shape, supported):
    """Whether k8s-openapi's field shape carries the proto field, given the messages supported."""
    if shape is None:
        return False

    def single(pty, shape):
        if shape is None:
            return False
        if pty in SCALARS:
            return shape == ("scalar", pty)
        rust = rust_path_of(pty)
        return shape[0] == "message" and rust is not None and shape[1] == rust and (
            pty in HANDWRITTEN or pty in supported
        )

    if label == "optional":
        return single(pty, shape)
    if label == "repeated":
        return shape[0] == "repeated" and single(pty, shape[1])
    return shape[0] == "map" and single(pty, shape[1])


def list_wrapper(pty, protos):
    """The element type of a message that only wraps a list (`message ExtraValue { repeated
    string items = 1; }`, Go's `type ExtraValue []string` as a map value), or None."""
    if pty in SCALARS:
        return None
    pkg, name = pty.rsplit(".", 1)
    fields = protos.get(pkg, {}).get(name)
    if fields and len(fields) == 1:
        label, ty, fname, n = fields[0]
        if (label, fname, n) == ("repeated", "items", 1) and ty in SCALARS:
            return ty
    return None


def embedded_parts(pty, rust_by_json, ty_of, used, supported, protos, depth=0):
    """The fields of the embedded message `pty` that the flattened struct has: [('field', rust,
    number) | ('embedded', number, parts)], or None when one cannot be carried."""
    epkg, ename = pty.rsplit(".", 1)
    inner = protos.get(epkg, {}).get(ename)
    if inner is None or depth > 4:
        return None
    parts = []
    for ilabel, ity, iname, inum in inner:
        rust = rust_by_json.get(norm(iname))
        if rust is None:
            if ilabel == "optional" and ity not in SCALARS:
                sub = embedded_parts(ity, rust_by_json, ty_of, used, supported, protos, depth + 1)
                if sub:
                    parts.append(("embedded", inum, sub))
            continue  # otherwise a field this version does not have: never written
        if rust in used or not matches(ilabel, ity, shape_of(ty_of[rust]), supported):
            return None
        parts.append(("field", rust, inum))
    return parts or None


def embedded_rust(parts):
    """The Rust fields an embedded plan writes."""
    for part in parts:
        if part[0] == "field":
            yield part[1]
        else:
            yield from embedded_rust(part[2])


def plan_message(pkg, name, fields, version, supported, protos):
    """For a version: [(kind, ...)] field plan, or None when the message is not implemented.

    kinds: ('field', rust, number) and ('embedded', number, [(rust, inner number)]). A message
    without fields that k8s-openapi holds as JSON is [('empty',)]: nothing is written, and it
    reads as `{}` (all Kubernetes' decoder makes of the Go struct: it has no field for more)."""
    if not fields and openapi_empty(version, pkg, name):
        return [("empty",)]
    s = openapi_struct(version, pkg, name)
    if s is None:
        return None
    default, rust_fields = s
    # go-to-protobuf names fields after Go's (`APIGroup` → `aPIGroup`) where JSON says
    # `apiGroup`: names are compared without case.
    by_json = {norm(f[2]): f for f in fields}
    plan, used = [], set()
    for rust, json, ty in rust_fields:
        f = by_json.get(norm(json))
        if f is None:
            continue
        label, pty, pname, n = f
        element = list_wrapper(pty, protos) if label == "map" else None
        if element is not None:
            # `map<string, ExtraValue>`, ExtraValue being `repeated string items = 1`.
            if shape_of(ty) != ("map", ("repeated", ("scalar", element))):
                return None
            plan.append(("listmap", rust, n))
            used.add(rust)
            continue
        if not matches(label, pty, shape_of(ty), supported):
            return None
        plan.append(("field", rust, n))
        used.add(rust)
    # Go's embedded structs: a message field k8s-openapi flattens into the struct (embedded
    # structs may embed more: admissionregistration's NamedRuleWithOperations).
    rust_by_json = {norm(json): rust for rust, json, _ in rust_fields}
    ty_of = {rust: ty for rust, _, ty in rust_fields}
    for label, pty, pname, n in fields:
        if norm(pname) in rust_by_json or label != "optional" or pty in SCALARS:
            continue
        parts = embedded_parts(pty, rust_by_json, ty_of, used, supported, protos)
        if parts:
            plan.append(("embedded", n, parts))
            used.update(embedded_rust(parts))
    if used != {r for r, _, _ in rust_fields}:
        return None
    if not default:
        # No `Default` (a required `MicroTime`): decoded into a local per field, a required
        # field absent from the wire is an error. Plain fields only.
        if any(item[0] != "field" for item in plan):
            return None
        return [("nodefault",)] + plan
    return plan


def k8s_pb_fields(pkg):
    """{message: [(label, type, rust name, number)]} of k8s-pb's structs for a package."""
    if not k8s_pb_src:
        return {}
    if not generated_package(pkg):
        return {}
    path = os.path.join(k8s_pb_src, *pkg.split(".")[2:], "mod.rs")
    if not os.path.isfile(path):
        return {}
    text = open(path).read()
    out = {}
    for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", text, re.S):
        fields = []
        for attrs, name, ty in re.findall(
            r"#\[prost\(([^\]]*)\)\]\s*pub ((?:r#)?\w+): ([^\n]+),", m.group(2)
        ):
            kind = attrs.split(",")[0].strip()
            tag = int(re.search(r'tag = "(\d+)"', attrs).group(1))
            label = "repeated" if "repeated" in attrs else "optional"
            if kind == "message":
                inner = re.findall(r"<(\w+)>+$", ty.strip()) or [ty.strip()]
                if "::" in inner[0] and not inner[0].startswith("::"):
                    continue
                t = f"{pkg}.{inner[0].split('::')[-1]}"
            elif kind in SCALARS:
                t = kind
            else:
                continue  # maps and others: not needed for dropped fields
            fields.append((label, t, name.removeprefix("r#"), tag))
        out[m.group(1)] = fields
    return out


def fill_dropped_fields(protos):
    """Adds fields k8s-openapi has (in some version) that the checkout no longer declares, from
    k8s-pb, by Rust field name, when their number is free."""
    for pkg, messages in protos.items():
        older = k8s_pb_fields(pkg)
        # Messages the checkout dropped altogether, for the versions whose structs use them.
        for name in older:
            if name not in messages and any(openapi_struct(v, pkg, name) for v in VERSIONS):
                messages[name] = []
        for name, fields in messages.items():
            names = {norm(f[2]) for f in fields}
            numbers = {f[3] for f in fields}
            json_of = {}
            for v in VERSIONS:
                st = openapi_struct(v, pkg, name)
                for rust, json, _ in (st[1] if st else []):
                    json_of.setdefault(rust.removesuffix("_"), json)
            for label, ty, rust, n in older.get(name, []):
                json = json_of.get(rust)
                if json and norm(json) not in names and n not in numbers:
                    fields.append((label, ty, json, n))
                    names.add(norm(json))
                    numbers.add(n)


def main():
    protos = parse_protos()
    fill_dropped_fields(protos)
    # Per version, the greatest fixpoint: every message k8s-openapi has is assumed supported, and
    # one whose fields do not all map is dropped, until none is (a recursive message, such as
    # scheduling's CompositePodGroupTemplate, is supported when the rest of it is).
    supported_in = {}
    plans = defaultdict(dict)  # full → version → plan
    for v in VERSIONS:
        supported = {
            f"{pkg}.{name}"
            for pkg, messages in protos.items()
            for name in messages
            if f"{pkg}.{name}" not in HANDWRITTEN
            and (openapi_struct(v, pkg, name) or openapi_empty(v, pkg, name))
        }
        while True:
            dropped = {
                f"{pkg}.{name}"
                for pkg, messages in protos.items()
                for name, fields in messages.items()
                if f"{pkg}.{name}" in supported
                and plan_message(pkg, name, fields, v, supported, protos) is None
            }
            if not dropped:
                break
            supported -= dropped
        for pkg, messages in protos.items():
            for name, fields in messages.items():
                if f"{pkg}.{name}" in supported:
                    plans[f"{pkg}.{name}"][v] = plan_message(pkg, name, fields, v, supported, protos)
        supported_in[v] = supported
    # Implemented in every version k8s-openapi has the type in: a user's types.rs naming it
    # compiles only with those versions, so protobuf-gen may use it.
    exists = {}
    for full in plans:
        pkg, name = full.rsplit(".", 1)
        exists[full] = {
            v for v in VERSIONS if openapi_struct(v, pkg, name) or openapi_empty(v, pkg, name)
        }
    everywhere = {f for f in plans if set(plans[f]) == exists[f]}
    write_rust(plans, everywhere, exists)
    write_table(everywhere)
    write_protos(protos, everywhere)
    print(
        f"k8s messages: {len(plans)} implemented in some version, {len(everywhere)} in every "
        f"version of 1.{VERSIONS[0]}–1.{VERSIONS[-1]} that has them",
        file=sys.stderr,
    )


def guard(versions, body, indent, universe):
    """`body` wrapped in the k8s_if macro of a contiguous version range; unwrapped when the range
    is all of `universe` (what the surrounding code already covers)."""
    vs = sorted(versions)
    if vs == sorted(universe):
        return body
    lo, hi = vs[0], vs[-1]
    if vs != list(range(lo, hi + 1)):
        # One guard per contiguous run of versions.
        runs, run = [], [vs[0]]
        for v in vs[1:]:
            if v == run[-1] + 1:
                run.append(v)
            else:
                runs.append(run)
                run = [v]
        runs.append(run)
        return "".join(guard(r, body, indent, [None]) for r in runs)
    if lo == VERSIONS[0]:
        mac = f"k8s_if_le_1_{hi}"
    elif hi == VERSIONS[-1]:
        mac = f"k8s_if_ge_1_{lo}"
    elif lo == hi:
        mac = f"k8s_if_1_{lo}"
    else:
        inner = f"{indent}    k8s_openapi::k8s_if_le_1_{hi}! {{\n{body}{indent}    }}\n"
        return f"{indent}k8s_openapi::k8s_if_ge_1_{lo}! {{\n{inner}{indent}}}\n"
    return f"{indent}k8s_openapi::{mac}! {{\n{body}{indent}}}\n"


def field_lines(plan_by_version, render, indent):
    """Lines for each field of a message across versions, each guarded by the versions it is in."""
    seen = {}
    order = []
    for v in VERSIONS:
        for item in plan_by_version.get(v, []):
            key = repr(item)
            if key not in seen:
                seen[key] = set()
                order.append(item)
            seen[key].add(v)
    universe = set(plan_by_version)
    out = ""
    for item in order:
        vs = seen[repr(item)]
        inner_indent = indent if vs == universe else indent + "    "
        out += guard(vs, render(item, inner_indent), indent, universe)
    return out


def embedded_encode(item, ind, buf, level):
    """Writes an embedded message: its fields into a buffer of their own, then as one field."""
    _, number, parts = item
    own = f"embedded{level}"
    lines = f"{ind}{{\n{ind}    let mut {own} = Vec::new();\n"
    for part in parts:
        if part[0] == "field":
            lines += f"{ind}    Field::encode(&self.{part[1]}, {part[2]}, &mut {own});\n"
        else:
            lines += embedded_encode(part, ind + "    ", own, level + 1)
    return lines + f"{ind}    wire::encode_bytes({number}, &{own}, {'' if buf == 'buf' else '&mut '}{buf});\n{ind}}}\n"


def embedded_len(item):
    _, number, parts = item
    inner = " + ".join(
        f"Field::encoded_len(&self.{p[1]}, {p[2]})" if p[0] == "field" else embedded_len(p)
        for p in parts
    )
    return f"wire::bytes_len({number}, {inner})"


def embedded_decode(item, ind, buf, level):
    """Reads an embedded message's fields into the flattened struct."""
    _, number, parts = item
    inner = f"inner{level}"
    arms = ""
    for part in parts:
        if part[0] == "field":
            arms += f"{ind}            {part[2]} => Field::merge(&mut m.{part[1]}, wire, &mut {inner}, depth)?,\n"
        else:
            nested = embedded_decode(part, ind + "            ", inner, level + 1)
            arms += f"{ind}            {part[1]} => {{\n{nested}{ind}            }}\n"
    read = (
        f"{ind}    let bytes = wire::decode_bytes(wire, {buf if buf == 'buf' else '&mut ' + buf})?;\n"
        f"{ind}    let mut {inner} = &bytes[..];\n"
        f"{ind}    while !{inner}.is_empty() {{\n"
        f"{ind}        let (tag, wire) = decode_key(&mut {inner})?;\n"
        f"{ind}        match tag {{\n{arms}"
        f"{ind}            _ => skip(wire, tag, &mut {inner})?,\n"
        f"{ind}        }}\n{ind}    }}\n"
    )
    if level == 0:
        return f"{ind}if tag == {number} {{\n{read}{ind}    continue;\n{ind}}}\n"
    return read


def all_sources():
    """The message sources read: `kubernetes/api@<commit>, ...`."""
    return ", ".join(
        sorted(set(PROTO_SOURCES.values()), key=lambda s: (not s.startswith("kubernetes/api@"), s))
    )


def write_rust(plans, everywhere, exists):
    out = [
        "// Generated by runtime/protobuf/k8s/generate.py from " + all_sources(),
        "// and k8s-openapi 0.29's sources. DO NOT EDIT.",
        "//",
        "// `Message` and `Field` for k8s-openapi's `api` types, numbered as Kubernetes numbers them;",
        "// fields that exist in some Kubernetes versions only are guarded by k8s-openapi's",
        "// `k8s_if_*` macros.",
        "",
        "use crate::wire::{self, Depth, Field, context, decode_key, skip};",
        "use crate::{DecodeError, Message, message_field};",
        "",
    ]

    def emit(versions, body):
        """Appends an impl, guarded by the versions it is for; skipped when they are not one
        contiguous range (k8s_if_* macros name ranges; the table's check then fails loudly)."""
        try:
            out.append(guard(versions, body, "", VERSIONS).rstrip("\n"))
        except ValueError:
            return
        out.append("")

    for full in sorted(plans):
        by_version = plans[full]
        versions = sorted(by_version)
        rust = "k8s_openapi::" + rust_path_of(full)
        name = full.rsplit(".", 1)[1]

        def enc(item, ind):
            if item[0] == "listmap":
                return f"{ind}wire::list_map::encode(&self.{item[1]}, {item[2]}, buf);\n"
            if item[0] == "field":
                return f"{ind}Field::encode(&self.{item[1]}, {item[2]}, buf);\n"
            return embedded_encode(item, ind, "buf", 0)

        def length(item, ind):
            if item[0] == "listmap":
                return f"{ind}n += wire::list_map::encoded_len(&self.{item[1]}, {item[2]});\n"
            if item[0] == "field":
                return f"{ind}n += Field::encoded_len(&self.{item[1]}, {item[2]});\n"
            return f"{ind}n += {embedded_len(item)};\n"

        def dec(item, ind):
            if item[0] == "listmap":
                return (
                    f"{ind}if tag == {item[2]} {{\n"
                    f"{ind}    wire::list_map::merge(&mut m.{item[1]}, wire, buf, depth)\n"
                    f"{ind}        .map_err(|e| context(e, \"{name}\", \"{item[1]}\"))?;\n"
                    f"{ind}    continue;\n{ind}}}\n"
                )
            if item[0] == "field":
                return (
                    f"{ind}if tag == {item[2]} {{\n"
                    f"{ind}    Field::merge(&mut m.{item[1]}, wire, buf, depth)\n"
                    f"{ind}        .map_err(|e| context(e, \"{name}\", \"{item[1]}\"))?;\n"
                    f"{ind}    continue;\n{ind}}}\n"
                )
            return embedded_decode(item, ind, "buf", 0)

        empties = [plan == [("empty",)] for plan in by_version.values()]
        if any(empties) and not all(empties):
            # Never seen: a type k8s-openapi holds as JSON in some versions and as a struct in
            # others. Fail loudly rather than write a wrong impl.
            raise SystemExit(f"{full}: a message without fields in some versions only")
        if all(empties):
            body = (
                f"impl Message for {rust} {{\n"
                f"    fn encode_fields(&self, _buf: &mut Vec<u8>) {{}}\n"
                f"    fn fields_len(&self) -> usize {{\n"
                f"        0\n"
                f"    }}\n"
                f"    fn decode_fields(buf: &mut &[u8], _depth: Depth) -> Result<Self, DecodeError> {{\n"
                f"        while !buf.is_empty() {{\n"
                f"            let (tag, wire) = decode_key(buf)?;\n"
                f"            skip(wire, tag, buf)?;\n"
                f"        }}\n"
                f"        Ok(Self(serde_json::Value::Object(Default::default())))\n"
                f"    }}\n"
                f"}}\n"
                f"message_field!({rust});\n"
            )
            emit(versions, body)
            continue
        if any(plan[:1] == [("nodefault",)] for plan in by_version.values()):
            # No guards inside a struct literal: one impl per run of versions with the same
            # fields.
            groups = defaultdict(list)
            for v in versions:
                groups[repr(by_version[v])].append(v)
            for group in groups.values():
                fields = [item for item in by_version[group[0]] if item != ("nodefault",)]
                if any(item[0] != "field" for item in fields):
                    # Never seen: a type without `Default` in some versions whose fields in
                    # another are embedded or wrapped. Fail loudly rather than write a wrong impl.
                    raise SystemExit(f"{full}: read into locals, but not every field is plain")
                ty = dict(
                    (r, t) for r, _, t in openapi_struct(group[-1], *full.rsplit(".", 1))[1]
                )
                locals_ = "".join(
                    f"        let mut {r}: Option<{ty[r].replace('crate::', 'k8s_openapi::')}> = None;\n"
                    for _, r, _ in fields
                )
                arms = "".join(
                    f"                {n} => Field::merge(&mut {r}, wire, buf, depth)\n"
                    f"                    .map_err(|e| context(e, \"{name}\", \"{r}\"))?,\n"
                    for _, r, n in fields
                )
                build = "".join(
                    f"            {r}: {r}.or_else(Field::absent).ok_or_else(|| {{\n"
                    f"                DecodeError::new(\"missing field {name}.{r}\")\n"
                    f"            }})?,\n"
                    for _, r, _ in fields
                )
                body = (
                    f"impl Message for {rust} {{\n"
                    f"    fn encode_fields(&self, buf: &mut Vec<u8>) {{\n"
                    + "".join(enc(("field", r, n), "        ") for _, r, n in fields)
                    + f"    }}\n"
                    f"    fn fields_len(&self) -> usize {{\n"
                    f"        let mut n = 0;\n"
                    + "".join(length(("field", r, num), "        ") for _, r, num in fields)
                    + f"        n\n"
                    f"    }}\n"
                    f"    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {{\n"
                    f"{locals_}"
                    f"        while !buf.is_empty() {{\n"
                    f"            let (tag, wire) = decode_key(buf)?;\n"
                    f"            match tag {{\n"
                    f"{arms}"
                    f"                _ => skip(wire, tag, buf)?,\n"
                    f"            }}\n"
                    f"        }}\n"
                    f"        Ok(Self {{\n"
                    f"{build}"
                    f"        }})\n"
                    f"    }}\n"
                    f"}}\n"
                    f"message_field!({rust});\n"
                )
                emit(group, body)
            continue
        body = (
            f"impl Message for {rust} {{\n"
            f"    fn encode_fields(&self, buf: &mut Vec<u8>) {{\n"
            f"{field_lines(by_version, enc, '        ')}"
            f"    }}\n"
            f"    fn fields_len(&self) -> usize {{\n"
            f"        let mut n = 0;\n"
            f"{field_lines(by_version, length, '        ')}"
            f"        n\n"
            f"    }}\n"
            f"    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {{\n"
            f"        let mut m = Self::default();\n"
            f"        while !buf.is_empty() {{\n"
            f"            let (tag, wire) = decode_key(buf)?;\n"
            f"{field_lines(by_version, dec, '            ')}"
            f"            skip(wire, tag, buf)?;\n"
            f"        }}\n"
            f"        Ok(m)\n"
            f"    }}\n"
            f"}}\n"
            f"message_field!({rust});\n"
        )
        emit(versions, body)
    # protobuf-gen's table promises these in every version: checked by the compiler, whichever
    # version is selected.
    checks = "".join(
        guard(exists[f], f"        is_field::<k8s_openapi::{rust_path_of(f)}>();\n"
              if set(exists[f]) != set(VERSIONS) else f"    is_field::<k8s_openapi::{rust_path_of(f)}>();\n",
              "    ", VERSIONS)
        for f in sorted(everywhere)
    )
    out.append(
        "/// Every type protobuf-gen's table names has its impl in every supported version.\n"
        "#[allow(dead_code)]\n"
        "fn table_types_are_fields() {\n"
        "    fn is_field<T: Field>() {}\n"
        + checks
        + "}\n"
    )
    path = os.path.join(root, "runtime/protobuf/src/k8s_api.rs")
    open(path, "w").write("\n".join(out))


def write_table(everywhere):
    rows = []
    for full in sorted(everywhere | set(HANDWRITTEN)):
        pkg = full.rsplit(".", 1)[0]
        if full in HANDWRITTEN and full.startswith("k8s.io.apimachinery"):
            # The model's well-known types are mapped by protobuf-gen itself.
            continue
        file = APIMACHINERY_FILES.get(pkg) or PROTO_FILES[pkg]
        rows.append(f'    ("k8s_openapi::{rust_path_of(full)}", ".{full}", "{file}"),')
    extra = [
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition", ".k8s.io.apimachinery.pkg.apis.meta.v1.Condition", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector", ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement", ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference", ".k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry", ".k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::FieldSelectorRequirement", ".k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions", ".k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::apis::meta::v1::Preconditions", ".k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions", "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),',
        '    ("k8s_openapi::apimachinery::pkg::runtime::RawExtension", ".k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io/apimachinery/pkg/runtime/generated.proto"),',
    ]
    text = "\n".join([
        "// Generated by runtime/protobuf/k8s/generate.py from " + all_sources(),
        "// and k8s-openapi 0.29's sources. DO NOT EDIT.",
        "",
        "/// k8s-openapi types kube-codegen-protobuf encodes as Kubernetes' messages in every",
        "/// Kubernetes version k8s-openapi supports: (Rust path, proto message, the `.proto` declaring it).",
        "pub const K8S_MESSAGES: &[(&str, &str, &str)] = &[",
        *extra,
        *rows,
        "];",
        "",
    ])
    open(os.path.join(root, "gen/protobuf-gen/src/k8s_messages.rs"), "w").write(text)


def write_protos(protos, everywhere):
    # The messages that only wrap a list, which the supported messages' maps hold.
    wrappers = set()
    for full in everywhere:
        pkg, name = full.rsplit(".", 1)
        for label, ty, _, _ in protos[pkg][name]:
            if label == "map" and list_wrapper(ty, protos) is not None:
                wrappers.add(ty)
    files = defaultdict(list)
    handwritten = {f for f in HANDWRITTEN if generated_package(f.rsplit(".", 1)[0])}
    for full in sorted(everywhere | handwritten | wrappers):
        pkg, name = full.rsplit(".", 1)
        files[pkg].append(name)
    for pkg, names in files.items():
        imports = set()
        body = []
        for name in sorted(names):
            lines = [f"message {name} {{"]
            for label, ty, fname, n in protos[pkg][name]:
                if ty in SCALARS:
                    t = ty
                else:
                    tpkg = ty.rsplit(".", 1)[0]
                    if ty not in everywhere and ty not in HANDWRITTEN and ty not in wrappers:
                        continue  # a field no supported version has (never written)
                    if tpkg != pkg:
                        imports.add(APIMACHINERY_FILES.get(tpkg) or PROTO_FILES[tpkg])
                    t = "." + ty
                if label == "map":
                    lines.append(f"  map<string, {t}> {fname} = {n};")
                else:
                    lines.append(f"  {label} {t} {fname} = {n};")
            lines.append("}")
            body.append("\n".join(lines))
        rel = PROTO_FILES[pkg]
        head = [
            f"// Generated by runtime/protobuf/k8s/generate.py from {PROTO_SOURCES[pkg]}.",
            "// The messages kube-codegen-protobuf encodes, with Kubernetes' package name and field",
            "// numbers, so that protoc compiles and decodes what protobuf-gen writes. DO NOT EDIT.",
            "",
            'syntax = "proto2";',
            "",
            f"package {pkg};",
            "",
        ] + [f'import "{i}";' for i in sorted(imports)] + [""]
        path = os.path.join(root, "runtime/protobuf/proto", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write("\n".join(head) + "\n" + "\n\n".join(body) + "\n")


main()
