"""The checklist of what reaches an app: the NetworkPolicy selecting its pods, TLS on the
Ingress in front of its live Service, and the namespace's Pod Security Standards label."""

from __future__ import annotations

from collections.abc import Mapping

from turnout.backend.checklist.model import (
    PSS_LABEL,
    Items,
    Json,
    Manifests,
    Status,
    get,
    name,
    pod_labels,
    ref,
    selects,
)


def policy_items(items: Items, m: Manifests, dep: Json) -> None:
    owner = f"deployment/{name(dep)}"
    if "networkpolicies" in m.unreadable:
        items.add("NetworkPolicy", "fail", owner, "networkpolicies", "default deny",
                  f"unknown: {m.unreadable['networkpolicies']}")
        return
    labels = pod_labels(dep)
    chosen = [p for p in m.policies if selects(get(p, "spec.podSelector"), labels)]
    types = {t for p in chosen for t in get(p, "spec.policyTypes") or ["Ingress"]}
    if "Ingress" not in types:
        items.add("NetworkPolicy", "fail", owner, "networkpolicy.spec.podSelector",
                  "a policy selecting its pods (deny by default)", None)
        return
    names = ", ".join(sorted(ref("networkpolicy", p) for p in chosen))
    items.add("NetworkPolicy", "pass" if "Egress" in types else "warn", names,
              "spec.policyTypes", "Ingress, Egress", ", ".join(sorted(types)))


def ingress_items(items: Items, m: Manifests) -> None:
    service = m.live_service or m.app
    if "ingresses" in m.unreadable:
        items.add("Ingress TLS", "fail", f"service/{service}", "ingresses", "TLS",
                  f"unknown: {m.unreadable['ingresses']}")
        return
    front = [i for i in m.ingresses if service in _backends(i)
             and (get(i, "metadata.annotations") or {}).get(
                 "nginx.ingress.kubernetes.io/canary") != "true"]
    if not front:
        actual = "TLS ends at the Gateway (not checked)" if m.gateway else None
        items.add("Ingress TLS", "warn", f"service/{service}", "ingress.spec.tls",
                  "an Ingress with TLS", actual)
        return
    for ingress in front:
        tls = get(ingress, "spec.tls")
        items.add("Ingress TLS", "pass" if tls else "fail", ref("ingress", ingress), "spec.tls",
                  "set", "set" if tls else None)


def _backends(ingress: Json) -> set[str]:
    refs = [get(ingress, "spec.defaultBackend")]
    refs += [p.get("backend") for r in get(ingress, "spec.rules") or []
             for p in get(r, "http.paths") or [] if isinstance(p, Mapping)]
    return {str(get(b, "service.name")) for b in refs if get(b, "service.name")}


def namespace_items(items: Items, m: Manifests) -> None:
    obj = f"namespace/{m.namespace}"
    path = f"metadata.labels[{PSS_LABEL}]"
    if m.namespace_labels is None:
        reason = m.unreadable.get("namespaces", "not read")
        items.add("Pod Security Standards", "fail", obj, path, "restricted", f"unknown: {reason}")
        return
    enforce = m.namespace_labels.get(PSS_LABEL)
    warned = "restricted" in (m.namespace_labels.get("pod-security.kubernetes.io/warn"),
                              m.namespace_labels.get("pod-security.kubernetes.io/audit"))
    status: Status = "pass" if enforce == "restricted" else "warn" if warned else "fail"
    items.add("Pod Security Standards", status, obj, path, "restricted", enforce)


