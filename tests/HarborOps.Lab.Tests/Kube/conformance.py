#!/usr/bin/env python3
"""A second, independent client judges the Kubernetes emulator: Debian's python3-kubernetes (the official Python
client) runs the API server's basic contract against it. Run by KubePythonConformanceTests with
KUBE_SERVER, KUBE_TOKEN, KUBE_CA (a PEM file) and KUBE_NAMESPACE (an existing, empty namespace) in the environment.
Prints one line per check and exits 1 when any check fails."""
import os
import sys

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

failures = []


def check(name, condition, detail=""):
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))
    if not condition:
        failures.append(name)


def expect_status(name, status, call):
    try:
        call()
        check(name, False, f"no error, expected {status}")
    except ApiException as e:
        check(name, e.status == status, f"status {e.status}, expected {status}: {e.body or e.reason}")


configuration = client.Configuration()
configuration.host = os.environ["KUBE_SERVER"]
configuration.ssl_ca_cert = os.environ["KUBE_CA"]
configuration.api_key = {"authorization": "Bearer " + os.environ["KUBE_TOKEN"]}
api_client = client.ApiClient(configuration)
core = client.CoreV1Api(api_client)
ns = os.environ["KUBE_NAMESPACE"]


def secret(name, labels):
    return client.V1Secret(metadata=client.V1ObjectMeta(name=name, labels=labels), type="Opaque", data={"key": "dmFsdWU="})


def patch(name, body, content_type):
    # The generated patch methods of this client release choose the content type themselves; name it explicitly so
    # each patch type reaches the server (the call still goes through the client's serialization and model decoding).
    return api_client.call_api(f"/api/v1/namespaces/{ns}/secrets/{name}", "PATCH",
                               header_params={"Content-Type": content_type, "Accept": "application/json"},
                               body=body, response_type="V1Secret", auth_settings=["BearerToken"],
                               _return_http_data_only=True)


# create and get
created = core.create_namespaced_secret(ns, secret("alpha", {"app": "conformance", "tier": "one"}))
check("create answers the stored object", created.metadata.name == "alpha" and created.metadata.resource_version)
for name, tier in (("bravo", "one"), ("charlie", "two"), ("delta", "one"), ("echo", "two")):
    core.create_namespaced_secret(ns, secret(name, {"app": "conformance", "tier": tier}))
got = core.read_namespaced_secret("alpha", ns)
check("get reads it back", got.metadata.uid == created.metadata.uid and got.data["key"] == "dmFsdWU=")
expect_status("get of a missing secret is 404", 404, lambda: core.read_namespaced_secret("missing", ns))
expect_status("create of an existing name is 409", 409, lambda: core.create_namespaced_secret(ns, secret("alpha", {})))

# list with selectors and chunks
ones = core.list_namespaced_secret(ns, label_selector="app=conformance,tier=one")
check("list with an equality selector", sorted(s.metadata.name for s in ones.items) == ["alpha", "bravo", "delta"],
      [s.metadata.name for s in ones.items])
twos = core.list_namespaced_secret(ns, label_selector="tier in (two),app")
check("list with a set selector", sorted(s.metadata.name for s in twos.items) == ["charlie", "echo"], [s.metadata.name for s in twos.items])
names, token, pages = [], None, 0
while True:
    page = core.list_namespaced_secret(ns, label_selector="app=conformance", limit=2, _continue=token)
    pages += 1
    names += [s.metadata.name for s in page.items]
    token = page.metadata._continue
    if not token:
        break
    check(f"page {pages} counts what remains", (page.metadata.remaining_item_count or 0) > 0)
check("limit and continue page through the list", names == ["alpha", "bravo", "charlie", "delta", "echo"] and pages == 3, (names, pages))

# patch with each content type
merged = patch("alpha", {"metadata": {"labels": {"merge": "yes"}}}, "application/merge-patch+json")
check("merge patch", merged.metadata.labels.get("merge") == "yes" and merged.metadata.labels.get("tier") == "one")
strategic = patch("alpha", {"metadata": {"annotations": {"strategic": "yes"}}}, "application/strategic-merge-patch+json")
check("strategic merge patch", strategic.metadata.annotations.get("strategic") == "yes" and strategic.metadata.labels.get("merge") == "yes")
json_patched = patch("alpha", [{"op": "add", "path": "/metadata/labels/json", "value": "yes"},
                               {"op": "remove", "path": "/metadata/labels/merge"}], "application/json-patch+json")
check("json patch", json_patched.metadata.labels.get("json") == "yes" and "merge" not in json_patched.metadata.labels)
expect_status("a json patch whose test fails is 422", 422,
              lambda: patch("alpha", [{"op": "test", "path": "/type", "value": "kubernetes.io/tls"}], "application/json-patch+json"))

# optimistic concurrency
stale = core.read_namespaced_secret("bravo", ns)
fresh = core.read_namespaced_secret("bravo", ns)
fresh.metadata.labels["round"] = "1"
core.replace_namespaced_secret("bravo", ns, fresh)
stale.metadata.labels["round"] = "stale"
expect_status("a replace with a stale resourceVersion is 409", 409, lambda: core.replace_namespaced_secret("bravo", ns, stale))

# watch: current state, then a stale resourceVersion is 410 Gone
events = list(watch.Watch().stream(core.list_namespaced_secret, ns, label_selector="tier=two", timeout_seconds=1))
check("watch lists the current objects as ADDED", sorted(e["object"].metadata.name for e in events if e["type"] == "ADDED") == ["charlie", "echo"],
      [(e["type"], e["object"].metadata.name) for e in events])
try:
    list(watch.Watch().stream(core.list_namespaced_secret, ns, resource_version="1", timeout_seconds=1))
    check("watch from a compacted resourceVersion is 410 Gone", False, "no error")
except ApiException as e:
    check("watch from a compacted resourceVersion is 410 Gone", e.status == 410, f"status {e.status}: {e.reason}")

# delete with preconditions
current = core.read_namespaced_secret("charlie", ns)
stale_version = current.metadata.resource_version
current.metadata.labels["changed"] = "yes"
core.replace_namespaced_secret("charlie", ns, current)
expect_status("delete with a stale resourceVersion precondition is 409", 409, lambda: core.delete_namespaced_secret(
    "charlie", ns, body=client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version=stale_version))))
check("the failed delete deleted nothing", core.read_namespaced_secret("charlie", ns).metadata.name == "charlie")
expect_status("delete with another uid precondition is 409", 409, lambda: core.delete_namespaced_secret(
    "charlie", ns, body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="00000000-0000-0000-0000-000000000000"))))
live = core.read_namespaced_secret("charlie", ns)
status = core.delete_namespaced_secret("charlie", ns, body=client.V1DeleteOptions(
    preconditions=client.V1Preconditions(resource_version=live.metadata.resource_version, uid=live.metadata.uid)))
check("delete with current preconditions answers a Status", status.status == "Success" and status.details.name == "charlie", status)
expect_status("the deleted secret is gone", 404, lambda: core.read_namespaced_secret("charlie", ns))
dry = core.delete_namespaced_secret("delta", ns, dry_run="All")
check("a dry-run delete deletes nothing", core.read_namespaced_secret("delta", ns).metadata.name == "delta", dry)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
