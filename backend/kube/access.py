"""RBAC preflight: ask the API server (SelfSubjectAccessReview) before writing.

A multi-object change that the user may only half make would leave the app
half switched; asking first turns that into a clean `Forbidden` before any
write. The server's own 403 on the write itself is still handled as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import msgspec

from turnout.backend.errors import Forbidden
from turnout.backend.kube.http import KubeHttp

REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
GROUPS = {"service": ("", "services"), "ingress": ("networking.k8s.io", "ingresses"),
          "route": ("gateway.networking.k8s.io", "httproutes"),
          "deployment": ("apps", "deployments"), "configmap": ("", "configmaps"),
          "lease": ("coordination.k8s.io", "leases"), "event": ("", "events"),
          "hpa": ("autoscaling", "horizontalpodautoscalers")}
"""Write kinds to (API group, resource)."""


class _Status(msgspec.Struct):
    allowed: bool = False
    reason: str = ""


class _Review(msgspec.Struct):
    status: _Status = msgspec.field(default_factory=_Status)


async def denied(http: KubeHttp, namespace: str, verb: str, kind: str) -> str:
    """Why `verb` on `kind` in `namespace` is not allowed, or empty when it is."""
    group, resource = GROUPS[kind]
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb,
                                            "group": group, "resource": resource}}}
    reply = msgspec.json.decode(await http.write("POST", REVIEW, body,
                                                 content_type="application/json"), type=_Review)
    if reply.status.allowed:
        return ""
    return f"may not {verb} {resource} in namespace {namespace}" + (
        f" ({reply.status.reason})" if reply.status.reason else "")


async def require(http: KubeHttp, namespace: str, needs: Iterable[tuple[str, str]]) -> None:
    """Raise `Forbidden` naming every (verb, kind) in `needs` the user may not do."""
    wanted = sorted(set(needs))
    reasons = await asyncio.gather(*(denied(http, namespace, v, k) for v, k in wanted))
    refused = [r for r in reasons if r]
    if refused:
        raise Forbidden("RBAC preflight: " + "; ".join(refused) + ". Nothing was written")
