"""Discovery by the conventions, from API-shaped JSON: no server needed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.kube import recorded
from turnout.backend.config import Conventions
from turnout.backend.kube.discover import discover
from turnout.backend.models import Weights

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CONV = Conventions()


def test_plain_app_has_service_router_and_both_slots() -> None:
    (app,) = discover(recorded.app_objects(), CONV, "ctx", NOW)
    assert (app.name, app.namespace, app.context) == ("checkout", "shop", "ctx")
    assert app.traffic.live == "blue" and app.traffic.router == "service"
    assert app.traffic.weights == Weights(blue=100, green=0)
    assert app.traffic.plan == (10, 50, 100)
    assert (app.blue.desired, app.blue.ready, app.blue.version) == (3, 3, "1.0")
    assert (app.green.desired, app.green.ready, app.green.image) == (2, 1, "reg/checkout:2.0")
    assert [p.name for p in app.green.pods] == [f"checkout-green-{i}" for i in range(3)]


def test_nginx_canary_weight_goes_to_the_preview_color() -> None:
    (app,) = discover(recorded.app_objects(router="nginx", canary=30), CONV, "ctx", NOW)
    assert app.traffic.router == "nginx"
    assert app.traffic.weights == Weights(blue=70, green=30)
    assert "ingress/checkout-canary=rv-checkout-canary" in app.traffic.revision


@pytest.mark.parametrize("live", ["blue", "green"])
def test_gateway_weights_by_backend_color(live: str) -> None:
    objs = recorded.app_objects(live=live, router="gateway", canary=25)
    (app,) = discover(objs, CONV, "ctx", NOW)
    assert app.traffic.router == "gateway" and app.traffic.live == live
    assert app.traffic.canary_weight == 25


def test_no_live_service_means_no_app() -> None:
    objs = recorded.objects(deployments=[recorded.deployment("x", "blue")])
    assert discover(objs, CONV, "ctx", NOW) == ()


def test_missing_color_is_an_empty_slot() -> None:
    objs = recorded.objects(deployments=[recorded.deployment("x", "blue")],
                            services=[recorded.service("x", "x", "blue")])
    (app,) = discover(objs, CONV, "ctx", NOW)
    assert app.green.desired == 0 and app.green.version == ""


def test_conventions_are_configurable() -> None:
    conv = Conventions(color_label="turnout.dev/color", plan_annotation="example.com/plan")
    objs = recorded.app_objects()
    (app,) = discover(objs, conv, "ctx", NOW)
    assert app.traffic.plan == ()


def test_apps_in_two_namespaces_are_separate() -> None:
    a, b = recorded.app_objects(ns="a"), recorded.app_objects(ns="b")
    merged = type(a)(**{f: (*getattr(a, f), *getattr(b, f)) for f in a.__dataclass_fields__})
    assert [(x.namespace, x.name) for x in discover(merged, CONV, "c", NOW)] == [
        ("a", "checkout"), ("b", "checkout")]


def test_invalid_plan_is_ignored_not_fatal() -> None:
    objs = recorded.objects(deployments=[recorded.deployment("x", "blue")],
                            services=[recorded.service("x", "x", "blue",
                                                       annotations={"turnout.dev/canary-plan":
                                                                    "50,10"})])
    (app,) = discover(objs, CONV, "ctx", NOW)
    assert app.traffic.plan == ()
