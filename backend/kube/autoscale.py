"""The HPA that governs a color's Deployment: read for a scale, and `HpaScaling`, the scale
through its bounds that `KubeCluster` delegates to (the rules are `backend/scaling.py`'s)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from turnout.backend.config import Conventions
from turnout.backend.errors import Conflict, Forbidden, NotFound, TurnoutError
from turnout.backend.kube import wire
from turnout.backend.kube.access import require
from turnout.backend.kube.discover import Objects, slot_record
from turnout.backend.kube.guard_records import MERGE
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.record import Recorder
from turnout.backend.kube.resources import list_objects
from turnout.backend.kube.routing import Write, color_of
from turnout.backend.models import App, Color, Slot
from turnout.backend.scaling import (
    BOUNDS_ANNOTATION,
    Bounds,
    ScalePlan,
    hpa_patch,
    parse_bounds,
    restore_plan,
)
from turnout.backend.scaling import plan as plan_scale

log = logging.getLogger(__name__)

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


Fresh = Callable[[App], Awaitable[tuple[App, Objects]]]
"""Re-read an app and check it is what the operator saw (`ConditionalWrites.fresh`)."""
Apply = Callable[[App, list[Write], bool], Awaitable[list[bytes]]]
"""Send writes in order, each conditional (`ConditionalWrites.apply`)."""


class HpaScaling:
    """A color's scale under the HPA governing it: planned through its bounds, written
    conditionally (HPA and Deployment, loosening first), and its own bounds given back."""

    def __init__(self, http: KubeHttp, conv: Callable[[str], Conventions], recorder: Recorder,
                 clock: Callable[[], datetime], context: str, *, fresh: Fresh,
                 apply: Apply) -> None:
        self.http = http
        self.conv = conv
        self.recorder = recorder
        self.clock = clock
        self.context = context
        self._fresh = fresh
        self._apply = apply

    async def governed(self, app: App, color: Color
                       ) -> tuple[wire.Deployment | None, Governor | str | None]:
        """The color's Deployment and the HPA governing it (or why HPAs cannot be read)."""
        objects = await list_objects(self.http, app.namespace,
                                     f"{self.conv(app.namespace).app_label}={app.name}")
        conv = self.conv(app.namespace)
        dep = next((d for d in objects.deployments
                    if color_of(d.metadata.labels, conv) == color
                    and d.metadata.labels.get(conv.app_label) == app.name), None)
        return dep, (None if dep is None else
                     await governor(self.http, app.namespace, dep.metadata.name))

    async def plan(self, app: App, color: Color, replicas: int, *,
                   restore: bool = False) -> ScalePlan:
        """What scaling `color` to `replicas` will do, the HPA governing it considered."""
        dep, gov = await self.governed(app, color)
        before = dep.spec.replicas if dep else app.slot(color).desired
        if not isinstance(gov, Governor):
            return plan_scale(app.name, app.namespace, color, replicas, before, note=gov or "")
        return plan_scale(app.name, app.namespace, color, replicas, before, hpa=gov.name,
                          bounds=gov.bounds, saved=gov.saved, restore=restore)

    async def scale(self, app: App, color: Color, p: ScalePlan, dry_run: bool) -> Slot:
        """The HPA's bounds and the Deployment's replicas, each written conditionally on what
        was read; loosening first, so the HPA never pulls the count back in between."""
        fresh, _ = await self._fresh(app)
        dep, gov = await self.governed(fresh, color)
        if dep is None or not isinstance(gov, Governor) or (gov.bounds, gov.saved) != (
                p.bounds, p.own if p.pinned else None):
            raise Conflict(f"{app.namespace}/{app.name} {color}: its HPA changed since the plan "
                           "was read. Nothing was written; re-read and retry")
        writes = [Write("hpa", app.namespace, gov.name, hpa_patch(p, gov.resource_version))
                  ] if p.moves_hpa else []
        if dep.spec.replicas != p.replicas:
            scale = Write("deployment", app.namespace, dep.metadata.name, {
                "metadata": {"resourceVersion": dep.metadata.resource_version},
                "spec": {"replicas": p.replicas}})
            writes = [scale, *writes] if p.replicas > p.before else [*writes, scale]
        if writes and not dry_run:
            await require(self.http, app.namespace, {("patch", w.kind) for w in writes})
        await self._apply(app, writes, dry_run)
        if not dry_run and writes:
            await self.recorder.event(app, "TurnoutSlot", p.line(self.context), self.clock())
        after, _ = await self.governed(fresh, color)
        return slot_record(color, after, fresh.slot(color).pods)

    async def give_back_bounds(self, app: App, color: Color) -> None:
        """A color made live gets its HPA's own bounds back, if Turnout had moved them."""
        try:
            dep, gov = await self.governed(app, color)
            if not isinstance(gov, Governor) or gov.saved is None or dep is None:
                return
            p = restore_plan(app.name, app.namespace, color, dep.spec.replicas, gov.name,
                             gov.bounds, gov.saved)
            await self.http.write("PATCH", Write("hpa", app.namespace, gov.name, {}).path,
                                  hpa_patch(p, gov.resource_version), content_type=MERGE)
            await self.recorder.event(app, "TurnoutSlot", p.line(self.context), self.clock())
        except TurnoutError as err:  # the traffic change stands; the HPA stays as it was
            log.warning("%s/%s: %s made live, but its HPA keeps Turnout's bounds: %s",
                        app.namespace, app.name, color, err)
