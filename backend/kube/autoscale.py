"""The HPA that governs a color's Deployment, read for a scale (see `backend/scaling.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from turnout.backend.errors import Forbidden, NotFound
from turnout.backend.kube.http import KubeHttp
from turnout.backend.scaling import BOUNDS_ANNOTATION, Bounds, parse_bounds

HPAS = "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"


@dataclass(frozen=True)
class Governor:
    """One HPA targeting a Deployment, as read."""

    name: str
    resource_version: str
    bounds: Bounds
    saved: Bounds | None
    """Its own bounds, from Turnout's annotation, when Turnout has moved them."""


def governor_in(items: list[Any], deployment: str) -> Governor | None:
    """The HPA among `items` whose scaleTargetRef is the Deployment `deployment`."""
    for hpa in items:
        spec, meta = hpa.get("spec") or {}, hpa.get("metadata") or {}
        ref = spec.get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment" and ref.get("name") == deployment:
            notes = meta.get("annotations") or {}
            return Governor(name=str(meta.get("name", "")),
                            resource_version=str(meta.get("resourceVersion", "")),
                            bounds=Bounds(int(spec.get("minReplicas") or 1),
                                          int(spec.get("maxReplicas") or 1)),
                            saved=parse_bounds(str(notes.get(BOUNDS_ANNOTATION, ""))))
    return None


async def governor(http: KubeHttp, namespace: str, deployment: str) -> Governor | str | None:
    """The HPA governing `deployment`, None when there is none, or why HPAs cannot be read."""
    try:
        body = await http.get(HPAS.format(ns=namespace))
    except NotFound:
        return None  # autoscaling/v2 not served: nothing can govern the Deployment
    except Forbidden as err:
        return f"HPAs not readable ({err}): an HPA, if any, may override this"
    items = msgspec.json.decode(body).get("items") or []
    return governor_in([i for i in items if isinstance(i, dict)], deployment)
