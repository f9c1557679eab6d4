#!/usr/bin/env python3
"""Trims the Kubernetes 1.32 OpenAPI documents to the resources the lab's Kubernetes emulator serves.

Usage: vendor.py CORE_V3 APPS_V3 SWAGGER_V2 OUTDIR
  CORE_V3, APPS_V3: testdata/openapi/v3/api/v1.json and testdata/openapi/v3/apis/apps/v1.json of kubernetes/kubectl at
                    tag v0.32.4 (the kubectl staging repository's copies of the API server's OpenAPI v3 documents)
  SWAGGER_V2:       kubernetes/swagger.json.unprocessed of kubernetes-client/python at tag v32.0.1 (release-1.32)
Keeps every path of the kept resources (and their watch/ and subresource paths) and every schema those paths reach,
unchanged. batch/v1 and rbac.authorization.k8s.io/v1 have no v3 copy reachable here, so their v3 documents are built
from the v2 spec the way kube-openapi lays out v3 (definitions -> components/schemas, body parameter -> requestBody,
response schema -> content per produced media type); the schemas themselves are copied unchanged.
"""
import json, re, sys

RESOURCES = {
    "/api/v1": ["namespaces", "secrets", "serviceaccounts", "pods", "configmaps"],
    "/apis/apps/v1": ["deployments", "statefulsets", "daemonsets", "replicasets"],
    "/apis/batch/v1": ["jobs", "cronjobs"],
    "/apis/rbac.authorization.k8s.io/v1": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
}

def kept(prefix, path):
    if path in (prefix + "/", prefix):
        return True
    rest = path[len(prefix):]
    rest = re.sub(r"^/watch", "", rest)
    rest = re.sub(r"^/namespaces/\{namespace\}", "", rest)
    first = rest.strip("/").split("/")[0]
    if prefix == "/api/v1" and rest.startswith("/namespaces"):
        first = "namespaces"
    return first in RESOURCES[prefix]

def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.add(v.rsplit("/", 1)[1])
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)

def closure(start, schemas):
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs(schemas[name], found)
        todo.extend(found - seen)
    return seen

def trim_v3(doc, prefix):
    paths = {p: v for p, v in doc["paths"].items() if p.startswith(prefix) and kept(prefix, p)}
    names = set()
    refs(paths, names)
    schemas = doc["components"]["schemas"]
    keep = closure(names, schemas)
    return {"openapi": doc["openapi"], "info": doc["info"], "paths": paths,
            "components": {"schemas": {n: schemas[n] for n in sorted(keep)},
                           **({"securitySchemes": doc["components"]["securitySchemes"]} if "securitySchemes" in doc["components"] else {})}}

def v3_refs(node):
    if isinstance(node, dict):
        return {k: (v.replace("#/definitions/", "#/components/schemas/") if k == "$ref" and isinstance(v, str) else v3_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [v3_refs(v) for v in node]
    return node

def from_v2(v2, prefix):
    def param(p):
        if "$ref" in p:
            p = v2["parameters"][p["$ref"].rsplit("/", 1)[1]]
        q = {k: v for k, v in p.items() if k not in ("type", "uniqueItems", "schema", "items", "default", "collectionFormat")}
        schema = {k: p[k] for k in ("type", "uniqueItems", "items", "default") if k in p}
        q["schema"] = schema
        return q
    paths = {}
    for path, item in v2["paths"].items():
        if not (path.startswith(prefix) and kept(prefix, path)):
            continue
        out = {}
        for method, op in item.items():
            if method == "parameters":
                out["parameters"] = [param(p) for p in op if (v2["parameters"].get(p.get("$ref", "").rsplit("/", 1)[-1], p)).get("in") != "body"]
                continue
            new = {k: v for k, v in op.items() if k not in ("consumes", "produces", "parameters", "responses", "schemes")}
            params = op.get("parameters", [])
            body = None
            plain = []
            for p in params:
                resolved = v2["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                if resolved.get("in") == "body":
                    body = resolved
                else:
                    plain.append(param(p))
            if plain:
                new["parameters"] = plain
            if body is not None:
                media = op.get("consumes", ["*/*"])
                new["requestBody"] = {"content": {m: {"schema": body["schema"]} for m in media}, "required": True}
            responses = {}
            for code, response in op["responses"].items():
                r = {"description": response["description"]}
                if "schema" in response:
                    r["content"] = {m: {"schema": response["schema"]} for m in op.get("produces", ["application/json"])}
                responses[code] = r
            new["responses"] = responses
            out[method] = new
        paths[path] = out
    paths = v3_refs(paths)
    names = set()
    refs(paths, names)
    schemas = v3_refs(v2["definitions"])
    keep = closure(names, schemas)
    return {"openapi": "3.0.0", "info": v2["info"], "paths": paths,
            "components": {"schemas": {n: schemas[n] for n in sorted(keep)},
                           "securitySchemes": {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}}}}

def main():
    core, apps, v2, outdir = sys.argv[1:5]
    v2doc = json.load(open(v2))
    docs = {
        "api__v1_openapi.json": trim_v3(json.load(open(core)), "/api/v1"),
        "apis__apps__v1_openapi.json": trim_v3(json.load(open(apps)), "/apis/apps/v1"),
        "apis__batch__v1_openapi.json": from_v2(v2doc, "/apis/batch/v1"),
        "apis__rbac.authorization.k8s.io__v1_openapi.json": from_v2(v2doc, "/apis/rbac.authorization.k8s.io/v1"),
    }
    for name, doc in docs.items():
        with open(f"{outdir}/{name}", "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print(name, len(doc["paths"]), "paths", len(doc["components"]["schemas"]), "schemas")

main()
