"""Traffic writes, pure: find an app's routing objects and plan the writes that change it.

Reading what they say together is `effective.py`.

Writes are JSON merge patches that carry the resourceVersion read, so the API
server refuses them with 409 if the object changed in between. Their order
keeps every intermediate state safe: the live Service moves first (while the
canary still points at the color that becomes live), the router weight second,
the preview Service last.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from turnout.backend.config import Conventions
from turnout.backend.errors import InvalidInput
from turnout.backend.kube import wire
from turnout.backend.models import COLORS, Color, Traffic, Weights, other

log = logging.getLogger(__name__)

CANARY = "nginx.ingress.kubernetes.io/canary"
CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
PATHS = {
    "service": "/api/v1/namespaces/{ns}/services/{name}",
    "ingress": "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/{name}",
    "route": "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes/{name}",
    "deployment": "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
    "hpa": "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}",
}


@dataclass
class TrafficObjects:
    """The routing objects of one namespace."""

    services: dict[str, wire.Service] = field(default_factory=dict)
    ingresses: list[wire.Ingress] = field(default_factory=list)
    routes: list[wire.HTTPRoute] = field(default_factory=list)


class Listed(Protocol):
    """Listed objects of a namespace (discovery's `Objects`)."""

    @property
    def services(self) -> Sequence[wire.Service]: ...
    @property
    def ingresses(self) -> Sequence[wire.Ingress]: ...
    @property
    def routes(self) -> Sequence[wire.HTTPRoute]: ...


def routing_objects(listed: Listed) -> TrafficObjects:
    """The routing objects among those listed from one namespace."""
    return TrafficObjects(services={s.metadata.name: s for s in listed.services},
                          ingresses=list(listed.ingresses), routes=list(listed.routes))


@dataclass(frozen=True)
class Write:
    """One conditional merge patch."""

    kind: str
    namespace: str
    name: str
    patch: dict[str, Any]

    @property
    def path(self) -> str:
        """The object's REST path."""
        return PATHS[self.kind].format(ns=self.namespace, name=self.name)


def color_of(labels: Mapping[str, str] | None, conv: Conventions) -> Color | None:
    """The color a label set or selector names, if any."""
    return conv.color((labels or {}).get(conv.color_label))


def canary_ingress(app: str, objs: TrafficObjects, conv: Conventions) -> wire.Ingress | None:
    """The NGINX canary Ingress sending to the app's preview Service."""
    for ingress in objs.ingresses:
        if ingress.metadata.annotations.get(CANARY) == "true" and (
                conv.preview_name(app) in ingress.backends()):
            return ingress
    return None


def ref_color(name: str, objs: TrafficObjects, conv: Conventions) -> Color | None:
    """The color a backendRef's Service selects, else the one its name ends with."""
    service = objs.services.get(name)
    found = color_of(service.spec.selector, conv) if service else None
    return found or next((c for c in COLORS if name.endswith(f"-{c}")), None)


def route_refs(route: wire.HTTPRoute) -> list[dict[str, Any]]:
    return [ref for rule in route.spec.rules for ref in rule.get("backendRefs") or []]


def weighted_route(app: str, objs: TrafficObjects, conv: Conventions) -> wire.HTTPRoute | None:
    """The HTTPRoute with backendRefs to the app's colored Services."""
    for route in objs.routes:
        names = {str(ref.get("name", "")) for ref in route_refs(route)}
        if names & {f"{app}-{c}" for c in COLORS} or route.metadata.name == app:
            return route
    return None


def _canary_weight(ingress: wire.Ingress) -> int:
    text = ingress.metadata.annotations.get(CANARY_WEIGHT, "0")
    try:
        return min(max(int(text), 0), 100)
    except ValueError:
        log.warning("ingress %s: canary-weight %r is not a number", ingress.metadata.name, text)
        return 0


def _conditional(obj: wire.Service | wire.Ingress | wire.HTTPRoute,
                 patch: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that the server applies only at the resourceVersion read."""
    meta = dict(patch.pop("metadata", {}))
    meta["resourceVersion"] = obj.metadata.resource_version
    return {"metadata": meta, **patch}


def _service_write(svc: wire.Service, color: Color, conv: Conventions) -> Write:
    patch = _conditional(svc, {"spec": {"selector": {conv.color_label: conv.value(color)}}})
    return Write("service", svc.metadata.namespace, svc.metadata.name, patch)


def _router_write(app: str, objs: TrafficObjects, target: Traffic,
                  conv: Conventions) -> Write | None:
    ingress, route = canary_ingress(app, objs, conv), weighted_route(app, objs, conv)
    canary = target.weights.of(other(target.live))
    if ingress is not None:
        if _canary_weight(ingress) == canary and CANARY_WEIGHT in ingress.metadata.annotations:
            return None
        patch = _conditional(ingress, {"metadata": {"annotations": {CANARY_WEIGHT: str(canary)}}})
        return Write("ingress", ingress.metadata.namespace, ingress.metadata.name, patch)
    if route is not None:
        rules = [_reweighted(rule, target.weights, objs, conv) for rule in route.spec.rules]
        if rules == route.spec.rules:
            return None
        patch = _conditional(route, {"spec": {"rules": rules}})
        return Write("route", route.metadata.namespace, route.metadata.name, patch)
    if canary:
        raise InvalidInput(f"{app} has no canary router (NGINX canary Ingress or HTTPRoute): "
                           "only switch is possible")
    return None


def _reweighted(rule: dict[str, Any], weights: Weights, objs: TrafficObjects,
                conv: Conventions) -> dict[str, Any]:
    """The rule with each colored backendRef's weight set; other refs untouched."""
    refs = []
    for ref in rule.get("backendRefs") or []:
        color = ref_color(str(ref.get("name", "")), objs, conv)
        refs.append({**ref, "weight": weights.of(color)} if color else ref)
    return {**rule, "backendRefs": refs} if "backendRefs" in rule else rule


def traffic_writes(app: str, objs: TrafficObjects, target: Traffic,
                   conv: Conventions) -> list[Write]:
    """The ordered conditional writes that bring the objects to `target`.

    Each object is compared with the target rather than with a traffic summary, so
    the same call converges from any half-applied state (resume after a crash).
    """
    writes: list[Write] = []
    live = objs.services[conv.live_name(app)]
    if color_of(live.spec.selector, conv) != target.live:
        writes.append(_service_write(live, target.live, conv))
    router = _router_write(app, objs, target, conv)
    writes += [router] if router else []
    preview = objs.services.get(conv.preview_name(app))
    if preview is not None and color_of(preview.spec.selector, conv) != other(target.live):
        writes.append(_service_write(preview, other(target.live), conv))
    return writes
