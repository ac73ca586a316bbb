"""Planning traffic writes: conditional merge patches in a safe order."""

from __future__ import annotations

import pytest

from tests.kube import recorded
from turnout.backend import plans
from turnout.backend.config import Conventions
from turnout.backend.errors import InvalidInput
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.effective import read_traffic
from turnout.backend.kube.routing import CANARY_WEIGHT, TrafficObjects, traffic_writes

CONV = Conventions()


def _routing(objs: Objects) -> TrafficObjects:
    return TrafficObjects(services={s.metadata.name: s for s in objs.services},
                          ingresses=list(objs.ingresses), routes=list(objs.routes))


def test_nginx_weight_is_one_conditional_annotation_patch() -> None:
    routing = _routing(recorded.app_objects(router="nginx", canary=10))
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    (write,) = traffic_writes("checkout", routing, plans.with_weight(current, 50), CONV)
    assert write.path == "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/checkout-canary"
    assert write.patch == {"metadata": {"resourceVersion": "rv-checkout-canary",
                                        "annotations": {CANARY_WEIGHT: "50"}}}


def test_promote_moves_live_first_then_weight_then_preview() -> None:
    routing = _routing(recorded.app_objects(router="nginx", canary=50))
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    writes = traffic_writes("checkout", routing, plans.promoted(current), CONV)
    assert [(w.kind, w.name) for w in writes] == [
        ("service", "checkout"), ("ingress", "checkout-canary"), ("service", "checkout-preview")]
    assert writes[0].patch["spec"] == {"selector": {"turnout.dev/color": "green"}}
    assert writes[0].patch["metadata"] == {"resourceVersion": "rv-checkout"}
    assert writes[1].patch["metadata"]["annotations"] == {CANARY_WEIGHT: "0"}
    assert writes[2].patch["spec"] == {"selector": {"turnout.dev/color": "blue"}}


def test_gateway_weights_rewrite_rules_and_keep_other_fields() -> None:
    routing = _routing(recorded.app_objects(router="gateway", canary=0))
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    (write,) = traffic_writes("checkout", routing, plans.with_weight(current, 10), CONV)
    (rule,) = write.patch["spec"]["rules"]
    assert rule["matches"] == [{"path": {"value": "/"}}]
    assert {r["name"]: r["weight"] for r in rule["backendRefs"]} == {
        "checkout-blue": 90, "checkout-green": 10}
    assert write.patch["metadata"] == {"resourceVersion": "rv-route-checkout"}


def test_weight_without_router_is_refused() -> None:
    routing = _routing(recorded.app_objects())
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    with pytest.raises(InvalidInput, match="no canary router"):
        traffic_writes("checkout", routing, plans.with_weight(current, 10), CONV)


def test_switch_without_router_is_two_service_patches() -> None:
    routing = _routing(recorded.app_objects())
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    writes = traffic_writes("checkout", routing, plans.switched(current, "green"), CONV)
    assert [(w.kind, w.name) for w in writes] == [("service", "checkout"),
                                                   ("service", "checkout-preview")]


def test_no_change_is_no_write() -> None:
    routing = _routing(recorded.app_objects(router="gateway", canary=10))
    current = read_traffic("checkout", routing, CONV)
    assert current is not None
    assert traffic_writes("checkout", routing, plans.with_weight(current, 10), CONV) == []
