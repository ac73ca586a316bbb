"""`turnout check APP` against the lab: an app created to the specification passes in a
namespace that enforces Pod Security Standards `restricted`; a weakened one fails with the
right items."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kube.conftest import kubectl, turnout
from tests.lab.conftest import Lab
from tests.unit.test_checklist import _weakened
from turnout.backend.config import Conventions
from turnout.backend.demo.manifests import app_objects

pytestmark = pytest.mark.lab


def create(lab: Lab, ns: str, objects: list[dict[str, Any]]) -> None:
    kubectl(lab, "-n", ns, "apply", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


def shaped() -> list[dict[str, Any]]:
    return app_objects("shop", {"blue": "1.4.2", "green": "1.5.0"}, Conventions())


def checklist(lab: Lab, ns: str) -> tuple[int, dict[str, Any]]:
    run = turnout(lab, "-n", ns, "check", "shop", "-o", "json")
    assert run.code in (0, 40), run.err
    return run.code, json.loads(run.out)


def test_an_app_to_the_specification_passes(lab: Lab, kube: object, lab_namespace: str) -> None:
    kubectl(lab, "label", "namespace", lab_namespace,
            "pod-security.kubernetes.io/enforce=restricted")
    create(lab, lab_namespace, shaped())
    # The restricted namespace admits the spec's pods: the Deployments become available.
    kubectl(lab, "-n", lab_namespace, "wait", "--for=condition=Available", "--timeout=90s",
            "deployment/shop-blue", "deployment/shop-green")
    code, found = checklist(lab, lab_namespace)
    assert code == 0
    assert found["status"] == "pass"
    assert [i for i in found["items"] if i["status"] != "pass"] == []
    assert {"PodDisruptionBudget", "NetworkPolicy", "Ingress TLS", "HPA minimum",
            "Pod Security Standards"} <= {i["item"] for i in found["items"]}


def test_a_weakened_app_fails_with_the_right_items(lab: Lab, kube: object,
                                                   lab_namespace: str) -> None:
    create(lab, lab_namespace, _weakened(shaped()))
    code, found = checklist(lab, lab_namespace)
    assert code == 40
    failed = {(i["item"], i["object"]) for i in found["items"] if i["status"] == "fail"}
    assert {("PodDisruptionBudget", "deployment/shop-blue"),
            ("PodDisruptionBudget", "deployment/shop-green"),
            ("non-root user", "deployment/shop-blue"),
            ("liveness probe", "deployment/shop-green"),
            ("readiness probe", "deployment/shop-green"),
            ("Pod Security Standards", f"namespace/{lab_namespace}")} <= failed
    run = turnout(lab, "-n", lab_namespace, "check", "shop")
    assert run.code == 40 and len(run.err.strip().splitlines()) == 1
    assert "PodDisruptionBudget" in run.err
