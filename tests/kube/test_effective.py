"""Effective traffic: what the routing objects send to each color, checked against a
reference written apart from the adapter (plain JSON, fractions, its own rules)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.kube import recorded
from turnout.backend.config import Conventions
from turnout.backend.kube.discover import discover
from turnout.backend.kube.effective import read_routing
from turnout.backend.kube.routing import TrafficObjects

CONV = Conventions()
APP = "shop"

SELECTOR = st.sampled_from(["blue", "green", None])
"""A Service selecting blue, green, or no color (a selector without the color label)."""


def _service(name: str, color: str | None) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": APP}
    if color:
        selector["turnout.dev/color"] = color
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": f"rv-{name}"},
            "spec": {"selector": selector}}


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A random routing: live and preview selectors, and an NGINX or Gateway router or none."""
    world: dict[str, Any] = {"live": draw(st.sampled_from(["blue", "green"])),
                             "preview": draw(st.one_of(st.just("missing"), SELECTOR)),
                             "router": draw(st.sampled_from(["none", "nginx", "gateway"]))}
    if world["router"] == "nginx":
        world["canary"] = draw(st.integers(0, 100))
    if world["router"] == "gateway":
        world["refs"] = draw(st.lists(st.tuples(st.sampled_from(["blue", "green"]), SELECTOR,
                                                st.integers(0, 1000)),
                                      min_size=1, max_size=4, unique_by=lambda r: r[0]))
    return world


def objects_of(world: dict[str, Any]) -> TrafficObjects:
    services = [_service(APP, world["live"])]
    if world["preview"] != "missing":
        services.append(_service(f"{APP}-preview", world["preview"]))
    ingresses, routes = [], []
    if world["router"] == "nginx":
        ingresses = [recorded.ingress(f"{APP}-canary", f"{APP}-preview", "ns", {
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": str(world["canary"])})]
    if world["router"] == "gateway":
        refs = [{"name": f"{APP}-{named}", "weight": weight}
                for named, _, weight in world["refs"]]
        services += [_service(f"{APP}-{named}", selects) for named, selects, _ in world["refs"]]
        routes = [{"metadata": {"name": APP, "namespace": "ns", "resourceVersion": "1"},
                   "spec": {"rules": [{"backendRefs": refs}]}}]
    objs = recorded.objects(services=services, ingresses=ingresses, routes=routes)
    return TrafficObjects(services={s.metadata.name: s for s in objs.services},
                          ingresses=list(objs.ingresses), routes=list(objs.routes))


def reference(world: dict[str, Any]) -> tuple[dict[str, Fraction], bool]:
    """Requests per color and whether the objects disagree, from the world's own terms."""
    sent = {"blue": Fraction(0), "green": Fraction(0)}
    live, preview = world["live"], world["preview"]
    disagree = preview == live
    if world["router"] == "none":
        sent[live] = Fraction(1)
    elif world["router"] == "nginx":
        canary = Fraction(world["canary"], 100)
        sent[live] += 1 - canary
        if preview in sent:
            sent[preview] += canary
        elif canary:
            disagree = True
    else:
        for named, selects, weight in world["refs"]:
            if selects is None:
                disagree = True
                continue
            disagree |= selects != named
            sent[selects] += weight
        disagree |= sum(sent.values()) == 0
    return sent, disagree


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_effective_traffic_matches_the_reference(world: dict[str, Any]) -> None:
    read = read_routing(APP, objects_of(world), CONV)
    assert read is not None
    sent, disagree = reference(world)
    total = sum(sent.values())
    if total:
        share = sent["blue"] / total * 100
        assert abs(read.traffic.weights.blue - share) <= Fraction(1, 2)
    else:
        assert read.traffic.weights.of(world["live"]) == 100
    assert read.traffic.live == world["live"]
    assert bool(read.conflicts) == disagree, (read.conflicts, world)


def test_both_services_on_green_is_all_green_and_drifted() -> None:
    objs = recorded.app_objects(router="nginx", canary=50)
    services = [recorded.service("checkout", "checkout", "green"),
                recorded.service("checkout-preview", "checkout", "green")]
    objs = recorded.objects(deployments=[recorded.deployment("checkout", c) for c in
                                         ("blue", "green")],
                            services=services, ingresses=[
                                recorded.ingress("checkout-canary", "checkout-preview", "shop", {
                                    "nginx.ingress.kubernetes.io/canary": "true",
                                    "nginx.ingress.kubernetes.io/canary-weight": "50"})])
    (app,) = discover(objs, CONV, "lab", recorded_now())
    assert (app.traffic.live, app.traffic.weights.blue, app.traffic.weights.green) == (
        "green", 0, 100)
    assert app.drift is not None and app.drifted
    assert "service/checkout selects green" in app.drift.objects
    assert "service/checkout-preview selects green" in app.drift.objects
    assert any("both select green" in r for r in app.drift.reasons)


def test_consistent_objects_are_not_drifted() -> None:
    for router in ("none", "nginx", "gateway"):
        (app,) = discover(recorded.app_objects(router=router, canary=10), CONV, "lab",
                          recorded_now())
        assert app.drift is None, (router, app.drift)


def recorded_now() -> Any:
    from datetime import UTC, datetime
    return datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_the_status_table_says_drifted_and_why() -> None:
    import io

    from turnout.backend.cli.output import write_apps

    services = [recorded.service("checkout", "checkout", "green"),
                recorded.service("checkout-preview", "checkout", "green")]
    objs = recorded.objects(deployments=[recorded.deployment("checkout", c) for c in
                                         ("blue", "green")], services=services)
    (app,) = discover(objs, CONV, "lab", recorded_now())
    out = io.StringIO()
    write_apps([app], "table", out, single=True)
    assert "100/0" not in out.getvalue() and "0/100 drifted" in out.getvalue()
    assert "both select green" in out.getvalue()
    data = io.StringIO()
    write_apps([app], "json", data, single=True)
    assert '"drift": {' in data.getvalue()
