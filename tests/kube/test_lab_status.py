"""`turnout status` against a real API server agrees with kubectl."""

from __future__ import annotations

import json

import pytest

from tests.kube.conftest import get, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("router", ["none", "nginx", "gateway"])
def test_status_agrees_with_kubectl(lab: Lab, lab_namespace: str, router: str) -> None:
    seed_app(lab, lab_namespace, "shop", router)
    run = turnout(lab, "-n", lab_namespace, "status", "shop", "-o", "json")
    assert run.code == 0, run.err
    shown = json.loads(run.out)
    live = get(lab, lab_namespace, "service/shop")["spec"]["selector"]["turnout.dev/color"]
    assert shown["live"] == live == "blue"
    for color in ("blue", "green"):
        status = get(lab, lab_namespace, f"deployment/shop-{color}")["status"]
        assert shown["colors"][color]["ready"] == status.get("readyReplicas", 0)
    expected = {"none": 0, "gateway": 0, "nginx": int(get(
        lab, lab_namespace, "ingress/shop-canary")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/canary-weight"]) if router == "nginx" else 0}[router]
    assert shown["weights"]["green"] == expected
    assert shown["router"] == {"none": "service"}.get(router, router)


def test_status_lists_apps_across_namespaces(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "cart", "nginx")
    run = turnout(lab, "-A", "status", "-o", "json")
    assert run.code == 0, run.err
    found = {(a["namespace"], a["name"]) for a in json.loads(run.out)["items"]}
    assert (lab_namespace, "cart") in found


def test_unknown_app_is_not_found(lab: Lab, lab_namespace: str) -> None:
    run = turnout(lab, "-n", lab_namespace, "status", "nope")
    assert run.code == 4 and "not found" in run.err
