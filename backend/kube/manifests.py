"""The objects the app checklist reads, as the API server sends them (whole, not lean).

Each kind is read once for the app's namespace; a kind this user may not read, or
a kind the cluster does not serve, becomes an `unreadable` entry that the
checklist shows as an unknown item, never as a pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from turnout.backend.checklist import Manifests
from turnout.backend.config import Conventions
from turnout.backend.errors import Forbidden, NotFound
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.routing import color_of
from turnout.backend.models import App, Color

KINDS = {
    "deployments": "/apis/apps/v1/namespaces/{ns}/deployments",
    "horizontalpodautoscalers": "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
    "poddisruptionbudgets": "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    "networkpolicies": "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
    "ingresses": "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
}


async def _items(http: KubeHttp, kind: str, namespace: str,
                 params: dict[str, str] | None = None) -> list[dict[str, Any]] | str:
    """The kind's items in `namespace`, or why they cannot be read."""
    try:
        body = await http.get(KINDS[kind].format(ns=namespace), params)
    except (Forbidden, NotFound) as err:
        return str(err)
    items = msgspec.json.decode(body).get("items") or []
    return [i for i in items if isinstance(i, dict)]


async def _namespace_labels(http: KubeHttp, namespace: str) -> dict[str, str] | str:
    try:
        body = await http.get(f"/api/v1/namespaces/{namespace}")
    except (Forbidden, NotFound) as err:
        return str(err)
    labels = (msgspec.json.decode(body).get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


async def read_manifests(http: KubeHttp, app: App, conv: Conventions) -> Manifests:
    """Everything the checklist audits about `app`, read concurrently."""
    ns = app.namespace
    selector = {"labelSelector": f"{conv.app_label}={app.name}"}
    kinds = ("horizontalpodautoscalers", "poddisruptionbudgets", "networkpolicies", "ingresses")
    deployments, labels, *others = await asyncio.gather(
        _items(http, "deployments", ns, selector), _namespace_labels(http, ns),
        *(_items(http, kind, ns) for kind in kinds))
    unreadable = {kind: found for kind, found in zip(kinds, others, strict=True)
                  if isinstance(found, str)}
    if isinstance(labels, str):
        unreadable["namespaces"] = labels
    if isinstance(deployments, str):
        raise Forbidden(f"{ns}/{app.name}: cannot read its Deployments: {deployments}")
    by_color: dict[Color, dict[str, Any] | None] = {"blue": None, "green": None}
    for dep in deployments:
        color = color_of((dep.get("metadata") or {}).get("labels"), conv)
        if color is not None and by_color[color] is None:
            by_color[color] = dep
    listed = dict(zip(kinds, others, strict=True))

    def found(kind: str) -> list[dict[str, Any]]:
        value = listed[kind]
        return value if isinstance(value, list) else []

    return Manifests(app=app.name, namespace=ns, live=app.traffic.live, deployments=by_color,
                     hpas=found("horizontalpodautoscalers"), pdbs=found("poddisruptionbudgets"),
                     policies=found("networkpolicies"), ingresses=found("ingresses"),
                     namespace_labels=None if isinstance(labels, str) else labels,
                     live_service=conv.live_name(app.name), gateway=app.traffic.router == "gateway",
                     unreadable=unreadable)
