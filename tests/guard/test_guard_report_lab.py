"""The guard's verdicts live in the cluster: another process's `status` shows them."""

from __future__ import annotations

import json

import pytest

from tests.kube.conftest import get, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab


def test_verdicts_published_by_one_guard_are_read_by_another_process(
        lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    before = turnout(lab, "-n", lab_namespace, "status", "shop", "-o", "json")
    assert json.loads(before.out)["guard_report"] is None

    run = turnout(lab, "-n", lab_namespace, "guard", "--once", "shop", "-o", "json")
    assert run.code in (0, 32), run.err
    evaluation = json.loads(run.out)["items"][0]

    status = json.loads(turnout(lab, "-n", lab_namespace, "status", "shop", "-o", "json").out)
    report = status["guard_report"]
    assert (report["watched"], report["decision"]) == (evaluation["watched"], evaluation["decision"])
    assert [(v["signal"], v["outcome"]) for v in report["verdicts"]] == \
        [(v["signal"], v["outcome"]) for v in evaluation["verdicts"]]
    stored = get(lab, lab_namespace, "configmap/turnout-guard-shop")
    assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "turnout"

    version = stored["metadata"]["resourceVersion"]
    quiet = turnout(lab, "-n", lab_namespace, "--read-only", "guard", "--once", "shop")
    assert quiet.code in (0, 32), quiet.err
    after = get(lab, lab_namespace, "configmap/turnout-guard-shop")["metadata"]["resourceVersion"]
    assert after == version  # read-only: evaluated, nothing published
