"""Effective traffic, pure: what every routing object of an app says, and where requests go.

The live Service, the preview Service and the canary router (NGINX canary Ingress or
HTTPRoute) each say something about routing; the share each color really gets follows
from all of them together. When they disagree with each other (both Services select
one color, a backendRef's Service selects the other color than its name says, a weight
that is not a number), the read says so: the app is drifted and each object's view is
kept, so nobody acts on a plausible-looking number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from turnout.backend.config import Conventions
from turnout.backend.errors import InvalidInput
from turnout.backend.kube import wire
from turnout.backend.kube.routing import (
    CANARY_WEIGHT,
    TrafficObjects,
    canary_ingress,
    color_of,
    route_refs,
    weighted_route,
)
from turnout.backend.models import COLORS, Color, RouterKind, Traffic, Weights
from turnout.backend.plans import parse_plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoutingRead:
    """The app's effective traffic, what each routing object says, and any disagreement."""

    traffic: Traffic
    says: tuple[str, ...]
    conflicts: tuple[str, ...]
    revisions: Mapping[str, str]
    """kind/name -> resourceVersion of every object that routes the app."""


class _Shares:
    """Per-color request shares collected object by object, with what each said."""

    def __init__(self) -> None:
        self.share: dict[Color, float] = dict.fromkeys(COLORS, 0.0)
        self.says: list[str] = []
        self.conflicts: list[str] = []

    def weights(self, live: Color) -> Weights:
        total = sum(self.share.values())
        if total <= 0:
            return Weights.all_to(live)
        blue = round(100 * self.share["blue"] / total)
        return Weights(blue=blue, green=100 - blue)


def _selects(service: wire.Service | None, conv: Conventions) -> Color | None:
    return color_of(service.spec.selector, conv) if service else None


def _describe(kind_name: str, color: Color | None) -> str:
    return f"{kind_name} selects {color or 'no color'}"


def _nginx(app: str, ingress: wire.Ingress, objs: TrafficObjects, live: Color,
           conv: Conventions, acc: _Shares) -> None:
    text = ingress.metadata.annotations.get(CANARY_WEIGHT, "0")
    name = f"ingress/{ingress.metadata.name}"
    try:
        weight = int(text)
    except ValueError:
        weight = 0
        acc.conflicts.append(f"{name}: canary-weight {text!r} is not a number (NGINX sends 0%)")
    if not 0 <= weight <= 100:
        acc.conflicts.append(f"{name}: canary-weight {weight} is outside 0..100")
        weight = min(max(weight, 0), 100)
    preview_name = conv.preview_name(app)
    preview = _selects(objs.services.get(preview_name), conv)
    acc.says.append(f"{name} sends {weight}% to service/{preview_name}")
    acc.share[live] += 100 - weight
    if preview is None:
        if weight:
            acc.conflicts.append(f"{name} sends {weight}% to service/{preview_name}, which "
                                 "selects no color")
        return
    acc.share[preview] += weight


def _gateway(route: wire.HTTPRoute, objs: TrafficObjects, conv: Conventions,
             acc: _Shares) -> None:
    name = f"httproute/{route.metadata.name}"
    for ref in route_refs(route):
        target = str(ref.get("name", ""))
        weight = int(ref.get("weight", 1))
        service = objs.services.get(target)
        named = next((c for c in COLORS if target.endswith(f"-{c}")), None)
        color = _selects(service, conv) if service else named
        acc.says.append(f"{name} sends weight {weight} to service/{target}")
        if service is None:
            acc.conflicts.append(f"{name} refers to service/{target}, which does not exist")
            continue
        if color is None:
            acc.conflicts.append(f"{name} sends weight {weight} to service/{target}, which "
                                 "selects no color")
            continue
        if named is not None and named != color:
            acc.conflicts.append(f"service/{target} selects {color}, not the {named} its name says")
        acc.share[color] += weight
    if sum(acc.share.values()) <= 0:
        acc.conflicts.append(f"{name} sends no weight to any color")


def _plan(service: wire.Service, conv: Conventions) -> tuple[int, ...]:
    text = service.metadata.annotations.get(conv.plan_annotation, "")
    try:
        return parse_plan(text) if text else ()
    except InvalidInput as err:
        log.warning("%s/%s: %s", service.metadata.namespace, service.metadata.name, err)
        return ()


def _revisions(app: str, objs: TrafficObjects, ingress: wire.Ingress | None,
               route: wire.HTTPRoute | None, conv: Conventions) -> dict[str, str]:
    found: dict[str, str] = {}
    names = [conv.live_name(app), conv.preview_name(app)]
    if route is not None:
        found[f"route/{route.metadata.name}"] = route.metadata.resource_version
        names += [str(ref.get("name", "")) for ref in route_refs(route)]
    if ingress is not None:
        found[f"ingress/{ingress.metadata.name}"] = ingress.metadata.resource_version
    for name in names:
        service = objs.services.get(name)
        if service is not None:
            found[f"service/{name}"] = service.metadata.resource_version
    return found


def read_routing(app: str, objs: TrafficObjects, conv: Conventions) -> RoutingRead | None:
    """The app's routing read from every object, or None without a live Service of a color."""
    live_name, preview_name = conv.live_name(app), conv.preview_name(app)
    service = objs.services.get(live_name)
    live = _selects(service, conv)
    if service is None or live is None:
        return None
    acc = _Shares()
    acc.says.append(_describe(f"service/{live_name}", live))
    preview_service = objs.services.get(preview_name)
    if preview_service is not None:
        preview = _selects(preview_service, conv)
        acc.says.append(_describe(f"service/{preview_name}", preview))
        if preview == live:
            acc.conflicts.append(f"service/{live_name} and service/{preview_name} both select "
                                 f"{live}")
    router: RouterKind = "service"
    ingress, route = canary_ingress(app, objs, conv), weighted_route(app, objs, conv)
    if ingress is not None:
        router = "nginx"
        _nginx(app, ingress, objs, live, conv, acc)
    elif route is not None:
        router = "gateway"
        _gateway(route, objs, conv, acc)
    else:
        acc.share[live] = 100
    revisions = _revisions(app, objs, ingress, route, conv)
    traffic = Traffic(live=live, weights=acc.weights(live), router=router,
                      plan=_plan(service, conv),
                      revision=",".join(f"{k}={v}" for k, v in revisions.items()))
    return RoutingRead(traffic=traffic, says=tuple(acc.says), conflicts=tuple(acc.conflicts),
                       revisions=revisions)


def read_traffic(app: str, objs: TrafficObjects, conv: Conventions) -> Traffic | None:
    """The app's effective traffic, or None when it has no live Service selecting a color."""
    found = read_routing(app, objs, conv)
    return found.traffic if found else None


def operation_conflict(traffic: Traffic, target_live: Color, target: Weights, what: str) -> str:
    """Why the objects disagree with an unfinished operation's target, or empty."""
    if (traffic.live, traffic.weights) == (target_live, target):
        return ""
    now, goal = traffic.weights, target
    return (f"{what} is unfinished: it targets live {target_live} {goal.blue}/{goal.green}, "
            f"the objects say live {traffic.live} {now.blue}/{now.green}")


__all__ = ["RoutingRead", "operation_conflict", "read_routing", "read_traffic"]
