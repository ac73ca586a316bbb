"""Discovery, pure: from listed objects to `App` records by the conventions.

An app is a live Service `<app>` whose selector names the app and a color,
Deployments labelled with the app and each color, an optional preview Service
`<app>-preview`, and optionally a canary router (NGINX canary Ingress or
HTTPRoute). Nothing here performs I/O, so every rule is unit-tested on JSON.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import msgspec

from turnout.backend.config import Conventions
from turnout.backend.errors import InvalidInput
from turnout.backend.kube import wire
from turnout.backend.kube.deploys import deploy_of
from turnout.backend.kube.effective import RoutingRead, operation_conflict, read_routing
from turnout.backend.kube.health import RestartSample
from turnout.backend.kube.journal import Entry, entry_in
from turnout.backend.kube.lock import lock_holder
from turnout.backend.kube.pod_records import PodRecords
from turnout.backend.kube.routing import TrafficObjects, color_of
from turnout.backend.models import COLORS, App, Color, Drift, GuardReport, Pod, Slot, Weights

log = logging.getLogger(__name__)
GUARD_ANNOTATION = "turnout.dev/guard"
GUARD_REPORT_KEY = "report"
"""Key of the guard's latest evaluation (JSON) in its ConfigMap `turnout-guard-APP`."""


def guard_report_name(app: str) -> str:
    """The ConfigMap holding the guard's latest evaluation of `app`."""
    return f"turnout-guard-{app}"
"""On the live Service: the rollback guard's state, so every operator sees the same."""
ENDPOINTS_ANNOTATION = "turnout.dev/endpoints"
"""On the live Service: JSON {"blue": URL, "green": URL} for health checks and smoke tests."""


def endpoints_of(text: str) -> dict[str, str]:
    """The per-color endpoints annotation; anything malformed is ignored, not fatal."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {c: u for c, u in found.items() if c in COLORS and isinstance(u, str)}


@dataclass(frozen=True)
class Objects:
    """Everything listed from one scope (a namespace or the whole cluster)."""

    deployments: Sequence[wire.Deployment] = ()
    pods: Sequence[wire.Pod] = ()
    services: Sequence[wire.Service] = ()
    ingresses: Sequence[wire.Ingress] = ()
    routes: Sequence[wire.HTTPRoute] = ()
    leases: Sequence[wire.Lease] = ()
    journals: Sequence[wire.ConfigMap] = ()
    events: Sequence[wire.Event] = ()
    """Only from the watch cache: one-shot reads list no events."""


def by_namespace(objects: Objects, own: set[str]) -> list[tuple[str, Objects]]:
    """`objects` split into each namespace of `own` (which has conventions of its own) and the
    rest (under ""), so each part is discovered by its namespace's conventions."""
    def part(keep: Callable[[str], bool]) -> Objects:
        return Objects(**{f.name: tuple(o for o in getattr(objects, f.name)
                                        if keep(o.metadata.namespace))
                          for f in fields(Objects)})
    return [("", part(lambda n: n not in own)), *((ns, part(ns.__eq__)) for ns in sorted(own))]


def version_of(deployment: wire.Deployment) -> str:
    """The version label, else the image tag."""
    label = deployment.metadata.labels.get("app.kubernetes.io/version")
    if label:
        return label
    image = image_of(deployment)
    return image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else image


def image_of(deployment: wire.Deployment) -> str:
    """The first container's image: the app's own (sidecars come after it by convention)."""
    containers = deployment.spec.template.spec.containers
    return containers[0].image if containers else ""


def slot_record(color: Color, deployment: wire.Deployment | None, pods: Sequence[Pod],
                pods_loading: bool = False) -> Slot:
    """One color's slot; an absent Deployment is an empty slot, not an error."""
    if deployment is None:
        return Slot(color=color, version="", image="", desired=0, ready=0, available=0,
                    pods_loading=pods_loading)
    status = deployment.status
    return Slot(color=color, version=version_of(deployment), image=image_of(deployment),
                desired=deployment.spec.replicas, ready=status.ready_replicas,
                available=status.available_replicas, pods=tuple(pods),
                revision=deployment.metadata.resource_version, pods_loading=pods_loading)


Key = tuple[str, str]


PodsOf = Callable[[tuple[str, str, Color]], Sequence[Pod]]
"""The pods of one (namespace, app, color), sorted by name: the watch cache's groups."""


def _index(objects: Objects, conv: Conventions, now: datetime,
           histories: Mapping[str, Sequence[RestartSample]], records: PodRecords,
           pods_of: PodsOf | None = None,
           ) -> tuple[dict[tuple[str, str, Color], wire.Deployment],
                      dict[tuple[str, str, Color], Sequence[Pod]]]:
    deployments: dict[tuple[str, str, Color], wire.Deployment] = {}
    for d in objects.deployments:
        color, app = color_of(d.metadata.labels, conv), d.metadata.labels.get(conv.app_label)
        if color and app:
            deployments.setdefault((d.metadata.namespace, app, color), d)
    if pods_of is not None:
        return deployments, {key: pods_of(key) for key in deployments}
    pods: dict[tuple[str, str, Color], list[Pod]] = defaultdict(list)
    for p in objects.pods:
        color, app = color_of(p.metadata.labels, conv), p.metadata.labels.get(conv.app_label)
        if color and app and (p.metadata.namespace, app, color) in deployments:
            record = records.record(p, color, now, histories.get(p.metadata.uid, ()))
            pods[(p.metadata.namespace, app, color)].append(record)
    for found in pods.values():
        found.sort(key=lambda p: p.name)
    return deployments, dict(pods)


def guard_report_of(maps: Sequence[wire.ConfigMap], namespace: str, app: str) -> GuardReport | None:
    """The published guard report; anything unreadable is no report (its text is untrusted)."""
    name = guard_report_name(app)
    raw = next((cm.data.get(GUARD_REPORT_KEY, "") for cm in maps
                if (cm.metadata.namespace, cm.metadata.name) == (namespace, name)), "")
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw, type=GuardReport)
    except msgspec.MsgspecError:
        return None


def drift_of(routing: RoutingRead, entry: Entry | None) -> Drift | None:
    """Why the routing cannot be trusted as a release state, or None when it can."""
    reasons = list(routing.conflicts)
    if entry is not None:
        target = entry.target
        reasons.append(operation_conflict(
            routing.traffic, target.live, Weights(blue=target.blue, green=target.green),
            f"operation {entry.id} ({entry.kind}, step {entry.step}/{len(entry.steps)})"))
    reasons = [r for r in reasons if r]
    return Drift(reasons=tuple(reasons), objects=routing.says) if reasons else None


def discover(objects: Objects, conv: Conventions, context: str, now: datetime,
             histories: Mapping[str, Sequence[RestartSample]] | None = None,
             records: PodRecords | None = None, *, pods_loading: bool = False,
             pods_of: PodsOf | None = None) -> tuple[App, ...]:
    """Every app found in `objects`, sorted by namespace and name; `records` keeps pod
    records between calls (the watch cache's reads), so unchanged pods are not rebuilt.
    With `pods_loading`, the pods are those of a first list still arriving (each slot says so);
    with `pods_of`, each slot's pods come from it rather than from `objects.pods`."""
    records = records if records is not None else PodRecords()
    deployments, pods = _index(objects, conv, now, histories or {}, records, pods_of)
    records.sweep()
    by_ns: dict[str, TrafficObjects] = defaultdict(TrafficObjects)
    for s in objects.services:
        by_ns[s.metadata.namespace].services[s.metadata.name] = s
    for i in objects.ingresses:
        by_ns[i.metadata.namespace].ingresses.append(i)
    for r in objects.routes:
        by_ns[r.metadata.namespace].routes.append(r)
    apps = []
    for ns, name in sorted({(ns, app) for ns, app, _ in deployments}):
        try:
            routing = read_routing(name, by_ns[ns], conv)
        except InvalidInput as err:
            log.warning("%s/%s skipped: %s", ns, name, err)
            continue
        if routing is None:
            continue
        entry = entry_in(objects.journals, ns, name)
        slots = {c: slot_record(c, deployments.get((ns, name, c)),
                                pods.get((ns, name, c), ()), pods_loading)
                 for c in COLORS}
        live = by_ns[ns].services.get(conv.live_name(name))
        notes = live.metadata.annotations if live else {}
        apps.append(App(name=name, namespace=ns, context=context, blue=slots["blue"],
                        green=slots["green"], traffic=routing.traffic,
                        lock_holder=lock_holder(objects.leases, ns, name, conv, now),
                        operation=entry.operation() if entry else None,
                        deploy=deploy_of(objects.journals, ns, name),
                        drift=drift_of(routing, entry),
                        guard=notes.get(GUARD_ANNOTATION, "disarmed"),
                        guard_report=guard_report_of(objects.journals, ns, name),
                        endpoints=endpoints_of(notes.get(ENDPOINTS_ANNOTATION, ""))))
    return tuple(apps)
