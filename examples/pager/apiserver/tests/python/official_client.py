"""The official Kubernetes Python client (kubernetes-client/python) against pager-apiserver.

usage: official_client.py HOST:PORT

Every call's outcome is checked; the first mismatch raises, and the script exits non-zero with
the call that failed. Covers the typed CustomObjectsApi, watch.Watch, the discovery-driven
DynamicClient, server-side apply, paging and Tables, across both served versions.
"""

import sys
import threading
import time

from kubernetes import client, dynamic, watch
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ConflictError

GROUP, ALPHA, BETA, PLURAL, NS = "pager.k8s.co", "v1alpha1", "v1beta1", "alerts", "python"


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def api_error(call):
    """The ApiException a call raises (it must raise one)."""
    try:
        call()
    except ApiException as e:
        return e
    raise AssertionError("the call succeeded; an error was expected")


def alpha(name, message, **meta):
    return {
        "apiVersion": f"{GROUP}/{ALPHA}",
        "kind": "Alert",
        "metadata": dict(name=name, **meta),
        "spec": {"message": message},
    }


def main(addr):
    config = Configuration()
    config.host = f"http://{addr}"
    api = ApiClient(config)
    custom = client.CustomObjectsApi(api)

    # Discovery through the typed APIs.
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    expect("preferred version", groups[GROUP].preferred_version.version, BETA)
    expect(
        "served versions",
        sorted(v.version for v in groups[GROUP].versions),
        [ALPHA, BETA],
    )
    if not client.VersionApi(api).get_code().git_version.startswith("v1."):
        raise AssertionError("/version has no Kubernetes-style gitVersion")

    # A watch in v1beta1, opened before the writes made in v1alpha1.
    events = []
    opened = threading.Event()

    def watch_beta():
        w = watch.Watch()
        opened.set()
        for ev in w.stream(
            custom.list_namespaced_custom_object, GROUP, BETA, NS, PLURAL, timeout_seconds=5
        ):
            obj = ev["object"]
            events.append((ev["type"], obj["metadata"]["name"], obj["apiVersion"]))
            if ev["type"] == "DELETED":
                w.stop()

    watcher = threading.Thread(target=watch_beta)
    watcher.start()
    opened.wait()
    time.sleep(0.5)

    # CRUD through CustomObjectsApi, written in v1alpha1, read in v1beta1.
    created = custom.create_namespaced_custom_object(
        GROUP, ALPHA, NS, PLURAL, alpha("disk", "disk full", labels={"team": "storage"})
    )
    expect("created name", created["metadata"]["name"], "disk")
    expect("defaulted priority", created["spec"]["priority"], "normal")
    beta = custom.get_namespaced_custom_object(GROUP, BETA, NS, PLURAL, "disk")
    expect("apiVersion read in v1beta1", beta["apiVersion"], f"{GROUP}/{BETA}")
    expect("message becomes content", beta["spec"]["content"], "disk full")
    expect("resourceVersion across versions", beta["metadata"]["resourceVersion"],
           created["metadata"]["resourceVersion"])

    listed = custom.list_namespaced_custom_object(
        GROUP, ALPHA, NS, PLURAL, label_selector="team=storage"
    )
    expect("label-selected list", [i["metadata"]["name"] for i in listed["items"]], ["disk"])
    expect("list kind", listed["kind"], "AlertList")

    patched = custom.patch_namespaced_custom_object(
        GROUP, BETA, NS, PLURAL, "disk", {"spec": {"title": "Disk"}}
    )
    expect("merge patch in v1beta1", patched["spec"]["title"], "Disk")
    expect("generation after a spec change", patched["metadata"]["generation"], 2)

    status = custom.patch_namespaced_custom_object_status(
        GROUP, ALPHA, NS, PLURAL, "disk", {"status": {"sent": True}}
    )
    expect("status patch", status["status"]["sent"], True)
    expect("status leaves generation", status["metadata"]["generation"], 2)
    ignored = custom.patch_namespaced_custom_object_status(
        GROUP, ALPHA, NS, PLURAL, "disk", {"spec": {"message": "ignored"}}
    )
    expect("status endpoint ignores spec", ignored["spec"]["message"], "disk full")

    current = custom.get_namespaced_custom_object(GROUP, ALPHA, NS, PLURAL, "disk")
    current["spec"]["message"] = "disk replaced"
    replaced = custom.replace_namespaced_custom_object(GROUP, ALPHA, NS, PLURAL, "disk", current)
    expect("replace", replaced["spec"]["message"], "disk replaced")
    expect("title kept through v1alpha1", replaced["metadata"]["annotations"]
           .get(f"{GROUP}/title"), "Disk")
    stale = api_error(lambda: custom.replace_namespaced_custom_object(
        GROUP, ALPHA, NS, PLURAL, "disk", current))
    expect("stale replace", stale.status, 409)

    exists = api_error(lambda: custom.create_namespaced_custom_object(
        GROUP, ALPHA, NS, PLURAL, alpha("disk", "again")))
    expect("duplicate create", exists.status, 409)
    invalid = api_error(lambda: custom.create_namespaced_custom_object(
        GROUP, ALPHA, NS, PLURAL, alpha("Not_A_Name", "x")))
    expect("invalid name", invalid.status, 422)
    missing = api_error(lambda: custom.get_namespaced_custom_object(
        GROUP, BETA, NS, PLURAL, "nope"))
    expect("missing object", missing.status, 404)


    deleted = custom.delete_namespaced_custom_object(GROUP, ALPHA, NS, PLURAL, "disk")
    expect("delete answers a Status", (deleted["kind"], deleted["status"]), ("Status", "Success"))

    watcher.join(timeout=10)
    expect("watch in v1beta1 of writes in v1alpha1", events, [
        ("ADDED", "disk", f"{GROUP}/{BETA}"),
        ("MODIFIED", "disk", f"{GROUP}/{BETA}"),
        ("MODIFIED", "disk", f"{GROUP}/{BETA}"),
        ("MODIFIED", "disk", f"{GROUP}/{BETA}"),
        ("DELETED", "disk", f"{GROUP}/{BETA}"),
    ])

    # A dict body sends its Nones as nulls: dropped where the field may be absent, as a CRD's
    # structural schema prunes them.
    nones = custom.create_namespaced_custom_object(GROUP, BETA, NS, PLURAL, {
        "apiVersion": f"{GROUP}/{BETA}", "kind": "Alert",
        "metadata": {"name": "nones", "labels": None},
        "spec": {"content": "c", "title": None, "priority": None},
        "status": {"sent": None},
    })
    expect("nulls dropped, then defaulted", (nones["spec"]["content"], nones["spec"]["priority"]),
           ("c", "normal"))
    custom.delete_namespaced_custom_object(GROUP, BETA, NS, PLURAL, "nones")

    # The DynamicClient: everything it does starts from discovery.
    dyn = dynamic.DynamicClient(api)
    alerts = dyn.resources.get(api_version=f"{GROUP}/{BETA}", kind="Alert")
    expect("dynamic: namespaced", alerts.namespaced, True)
    expect("dynamic: verbs", sorted(alerts.verbs), sorted(
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]))
    if "status" not in alerts.subresources:
        raise AssertionError(f"dynamic: no status subresource in {alerts.subresources}")

    def beta_alert(name, content, title):
        return {
            "apiVersion": f"{GROUP}/{BETA}",
            "kind": "Alert",
            "metadata": {"name": name, "labels": {"app": "py"}},
            "spec": {"content": content, "title": title},
        }

    applied = alerts.server_side_apply(
        namespace=NS, body=beta_alert("cpu", "cpu hot", "CPU"), field_manager="python"
    )
    expect("apply creates", applied.spec.content, "cpu hot")
    managers = {(f.manager, f.operation) for f in applied.metadata.managedFields}
    expect("apply records its manager", managers, {("python", "Apply")})
    try:
        alerts.server_side_apply(
            namespace=NS, body=beta_alert("cpu", "cpu cool", "CPU"), field_manager="other"
        )
        raise AssertionError("a conflicting apply succeeded")
    except ConflictError as e:
        if "conflict" not in str(e.body):
            raise AssertionError(f"apply conflict names no conflict: {e.body}")
    forced = alerts.server_side_apply(
        namespace=NS, body=beta_alert("cpu", "cpu cool", "CPU"), field_manager="other",
        force_conflicts=True,
    )
    expect("forced apply", forced.spec.content, "cpu cool")

    json_patched = alerts.patch(
        namespace=NS, name="cpu", content_type="application/json-patch+json",
        body=[{"op": "replace", "path": "/spec/title", "value": "Hot"}],
    )
    expect("JSON patch", json_patched.spec.title, "Hot")

    # Paging: five more objects read two at a time with continue tokens.
    for i in range(5):
        alerts.create(namespace=NS, body=beta_alert(f"page-{i}", "x", "y"))
    names, token, pages = [], None, 0
    while True:
        page = alerts.get(namespace=NS, limit=2, _continue=token)
        names += [i.metadata.name for i in page.items]
        pages += 1
        token = page.metadata["continue"]
        if not token:
            break
    expect("paged list", sorted(names), ["cpu"] + [f"page-{i}" for i in range(5)])
    expect("pages", pages, 3)

    # kubectl's Table, asked for by the Accept header.
    table = dyn.request(
        "GET", f"/apis/{GROUP}/{ALPHA}/namespaces/{NS}/{PLURAL}",
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
    )
    expect("Table kind", table.kind, "Table")
    expect("Table rows", len(table.rows), 6)
    if table.columnDefinitions[0].name != "Name":
        raise AssertionError(f"first column {table.columnDefinitions[0].name}")

    # deletecollection by label, then nothing left.
    alerts.delete(namespace=NS, label_selector="app=py")
    expect("after deletecollection", alerts.get(namespace=NS).items, [])
    print("python client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
