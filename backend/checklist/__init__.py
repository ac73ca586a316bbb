"""The app checklist, pure: a running app's objects audited against the production shape.

The shape (README, "What makes an app production-ready") is the one the Helm chart
renders: per color 3 replicas, RollingUpdate with maxSurge 1 and maxUnavailable 0,
liveness/readiness/startup probes, requests and limits, the restricted security
context, an HPA, a PodDisruptionBudget; a default-deny NetworkPolicy, TLS on the
Ingress and the namespace labelled for Pod Security Standards `restricted`.

`audit(manifests)` turns the objects read (plain JSON mappings, as the API server
sent them) into one `CheckItem` per rule and object: pass, warn or fail, with the
object and the field at fault. Nothing here performs I/O. An object that could not
be read is a failed item that says so: unknown is never a pass.
"""

from __future__ import annotations

from turnout.backend.checklist.availability import hpa_items, pdb_items, targets
from turnout.backend.checklist.deployment import deployment_items
from turnout.backend.checklist.model import (
    PSS_LABEL,
    RANK,
    CheckItem,
    Checklist,
    Items,
    Manifests,
    Status,
    lines,
    name,
    quantity,
    selects,
)
from turnout.backend.checklist.network import ingress_items, namespace_items, policy_items
from turnout.backend.models import COLORS

__all__ = ["PSS_LABEL", "RANK", "CheckItem", "Checklist", "Manifests", "Status", "audit", "lines",
           "quantity", "selects"]


def audit(m: Manifests, context: str = "") -> Checklist:
    """The checklist of one app: every rule on each color's objects, then the app's own."""
    items = Items()
    for color in COLORS:
        dep = m.deployments.get(color)
        if dep is None:
            items.add("Deployment", "fail", f"{color} color", "deployment", "present", None)
            continue
        hpa = next((h for h in m.hpas if targets(h, name(dep))), None)
        deployment_items(items, m, color, dep, hpa)
        hpa_items(items, m, dep, hpa)
        pdb_items(items, m, dep)
        policy_items(items, m, dep)
    ingress_items(items, m)
    namespace_items(items, m)
    return Checklist(app=m.app, namespace=m.namespace, context=context, items=tuple(items.out))


