#!/usr/bin/env python3
"""Offline structure check of deploy/kubernetes (no cluster needed; kubectl's own dry run needs an
API server for discovery). Run from the repository root: python3 deploy/kubernetes/check.py

Checks the kinds present, required fields, replica count, selector/label agreement, probe paths
against the routes the service serves, the security context, resources, the ConfigMap keys and
*_FILE variables against the table in internal/config (vars.go and the files beside it), and that every *_FILE path is a key of the
mounted Secret."""
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIR = os.path.join(ROOT, "deploy", "kubernetes")
problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def subset(small, big):
    return bool(small) and all(big.get(k) == v for k, v in small.items())


kust = yaml.safe_load(open(os.path.join(DIR, "kustomization.yaml")))
docs = []
for f in kust["resources"]:
    for d in yaml.safe_load_all(open(os.path.join(DIR, f))):
        if d:
            docs.append((f, d))
on_disk = {f for f in os.listdir(DIR) if f.endswith(".yaml")} - {"kustomization.yaml"}
check(on_disk == set(kust["resources"]), f"kustomization resources {kust['resources']} != files {sorted(on_disk)}")

by_kind = {}
for f, d in docs:
    for field in ("apiVersion", "kind", "metadata"):
        check(field in d, f"{f}: no {field}")
    check(bool(d.get("metadata", {}).get("name")), f"{f}: no metadata.name")
    by_kind.setdefault(d.get("kind"), []).append(d)
want = {"ConfigMap": "v1", "Secret": "v1", "Deployment": "apps/v1", "Service": "v1",
        "PodDisruptionBudget": "policy/v1", "NetworkPolicy": "networking.k8s.io/v1"}
for kind, api in want.items():
    if check(len(by_kind.get(kind, [])) == 1, f"want exactly one {kind}, have {len(by_kind.get(kind, []))}"):
        check(by_kind[kind][0]["apiVersion"] == api, f"{kind}: apiVersion {by_kind[kind][0]['apiVersion']}, want {api}")
if problems:
    print("\n".join(problems))
    sys.exit(1)

dep, svc, pdb, netpol = (by_kind[k][0] for k in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"))
cm, secret = by_kind["ConfigMap"][0], by_kind["Secret"][0]
spec = dep["spec"]
labels = spec["template"]["metadata"]["labels"]
check(spec.get("replicas") == 3, f"Deployment replicas {spec.get('replicas')}, want 3")
check(subset(spec["selector"]["matchLabels"], labels), "Deployment selector does not match the pod labels")
check(subset(svc["spec"]["selector"], labels), "Service selector does not match the pod labels")
check(subset(pdb["spec"]["selector"]["matchLabels"], labels), "PodDisruptionBudget selector does not match the pod labels")
check(subset(netpol["spec"]["podSelector"]["matchLabels"], labels), "NetworkPolicy podSelector does not match the pod labels")
check(("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]), "PodDisruptionBudget needs one of minAvailable, maxUnavailable")

pod = spec["template"]["spec"]
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot is not true")
image_user = re.search(r"^USER (\d+)", open(os.path.join(ROOT, "deploy", "Containerfile")).read(), re.M)
check(image_user and psc.get("runAsUser") == int(image_user.group(1)), "pod runAsUser differs from the image's USER")
containers = pod["containers"]
check(len(containers) == 1, "want one container")
c = containers[0]
for field in ("name", "image"):
    check(c.get(field), f"container: no {field}")
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
check(subset({"http": 8080}, ports), f"container ports {ports}, want http: 8080")
check(cm["data"].get("HTTP_ADDR", ":8080").endswith(":8080"), "ConfigMap HTTP_ADDR does not listen on 8080")
check(svc["spec"]["ports"][0]["targetPort"] in ports, "Service targetPort is not a container port name")

# The route table (internal/transport/table.go) is the whole URL surface.
routes = open(os.path.join(ROOT, "internal", "transport", "table.go")).read()
served = set(re.findall(r'Pattern: "GET (/[a-z]+z)"', routes))
for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
    p = c.get(probe)
    if check(p, f"container has no {probe}"):
        got = p.get("httpGet", {}).get("path")
        check(got == path, f"{probe} path {got}, want {path}")
        check(got in served, f"{probe} path {got} is not served (internal/transport/table.go serves {sorted(served)})")
        check(p["httpGet"].get("port") in ports or p["httpGet"].get("port") in ports.values(), f"{probe} port is not a container port")

sc = c.get("securityContext", {})
check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true")
check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities do not drop ALL")
res = c.get("resources", {})
for kind in ("requests", "limits"):
    for r in ("cpu", "memory"):
        check(res.get(kind, {}).get(r), f"resources.{kind}.{r} missing")

# Configuration names against the variable table.
# The variable table is split over several files of internal/config (vars.go, security_vars.go,
# tracing.go, ...): read every non-test Go file there.
_cfg = os.path.join(ROOT, "internal", "config")
vars_go = "".join(
    open(os.path.join(_cfg, f)).read()
    for f in sorted(os.listdir(_cfg))
    if f.endswith(".go") and not f.endswith("_test.go")
)
known = set(re.findall(r'\{Name: "([A-Z0-9_]+)"', vars_go))
file_ok = set(re.findall(r'\{Name: "([A-Z0-9_]+)"[^\n]*File: true', vars_go))
check(any(r.get("configMapRef", {}).get("name") == cm["metadata"]["name"] for r in c.get("envFrom", [])), "envFrom does not reference the ConfigMap")
for k in cm["data"]:
    check(k in known, f"ConfigMap key {k} is not a configuration variable")
mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
secret_vols = {v["name"]: v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
for e in c.get("env", []):
    name, value = e["name"], e.get("value", "")
    if name.endswith("_FILE"):
        check(name in known or name[:-5] in file_ok, f"{name}: neither a variable nor a *_FILE form of one")
        hits = [(v, mounts[v]) for v in secret_vols if v in mounts and value.startswith(mounts[v] + "/")]
        if check(hits, f"{name}={value} is not under a mounted Secret"):
            vol, mp = hits[0]
            check(secret_vols[vol] == secret["metadata"]["name"], f"{name}: volume {vol} mounts another Secret")
            check(value[len(mp) + 1:] in secret_keys, f"{name}: the Secret has no key {value[len(mp) + 1:]}")
    else:
        check(name in known, f"env {name} is not a configuration variable")
        check(not any(s in name for s in ("PASS", "SECRET", "SALT", "KEY")) or "valueFrom" in e, f"env {name} looks secret: use {name}_FILE")

if problems:
    print("deploy/kubernetes: " + "\n  ".join(["problems:"] + problems))
    sys.exit(1)
print(f"deploy/kubernetes: {len(docs)} objects ({', '.join(sorted(by_kind))}) checked")
