"""Health that says what it knows, against the lab: an unreachable or black-holed
Prometheus is an error (never a pass) within the request timeout; a crash-looping canary
is seen by the one-shot commands."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.kube.conftest import get, seed_app, turnout
from tests.lab.conftest import Lab
from tests.support.processes import refused_port

pytestmark = pytest.mark.lab
CRASHLOOP = "lab.turnout.dev/crashloop"
SLOW_CONFIG = {"TURNOUT_REQUEST_TIMEOUT": "120"}
"""The config's timeout is far beyond the test's patience: only --request-timeout can end
the command in time."""


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    return refused_port()


def status(lab: Lab, ns: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    run = turnout(lab, "-n", ns, *args, "status", "shop", "-o", "json", env=env)
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def test_prometheus_unreachable_is_an_error_not_a_pass(lab: Lab, lab_namespace: str,
                                                      closed_port: int) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    shown = status(lab, lab_namespace,
                   env={"TURNOUT_PROMETHEUS_URL": f"http://127.0.0.1:{closed_port}"})
    assert shown["health"] == "error"
    rates = [v for v in shown["verdicts"] if v["signal"] == "error-rate"]
    assert {v["color"] for v in rates} == {"blue", "green"}
    assert {v["outcome"] for v in rates} == {"error"}


def test_a_black_holed_prometheus_is_bounded_by_the_request_timeout(
        lab: Lab, lab_namespace: str, black_hole: int) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    env = {**SLOW_CONFIG, "TURNOUT_PROMETHEUS_URL": f"http://127.0.0.1:{black_hole}"}
    shown = status(lab, lab_namespace, "--request-timeout", "2s", env=env)
    assert shown["health"] == "error"
    once = turnout(lab, "-n", lab_namespace, "--request-timeout", "2s", "guard", "--once",
                   "shop", "-o", "json", env=env)
    assert once.code == 32, once.err  # hold: the error rate could not be measured
    verdicts = json.loads(once.out)["items"][0]["verdicts"]
    assert [v["outcome"] for v in verdicts if v["signal"] == "error-rate"] == ["error"]


def test_a_crash_looping_canary_is_seen_by_status_and_guard_once(lab: Lab, lab_namespace: str,
                                                                 kube: Any) -> None:
    from kubernetes import client

    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")  # green takes 10 % as the canary
    core = client.CoreV1Api(kube)
    green = [p["metadata"]["name"] for p in get(lab, ns, "pods")["items"]
             if p["metadata"]["labels"].get("turnout.dev/color") == "green"]
    for name in green:
        core.patch_namespaced_pod(name, ns, {"metadata": {"labels": {CRASHLOOP: "true"}}})

    def restarts() -> int:
        pods = core.list_namespaced_pod(ns, label_selector=f"{CRASHLOOP}=true").items
        return max((c.restart_count for p in pods for c in p.status.container_statuses or []),
                   default=0)

    deadline = time.monotonic() + 90
    while restarts() <= 4:
        assert time.monotonic() < deadline, "the crash loop never restarted the pods"
        time.sleep(0.5)
    shown = status(lab, ns)
    [verdict] = [v for v in shown["verdicts"] if v["signal"] == "restarts"
                 and v["color"] == "green"]
    assert verdict["outcome"] == "fail" and verdict["value"] > 3, verdict
    assert shown["health"] == "fail"
    once = turnout(lab, "-n", ns, "guard", "--once", "shop", "-o", "json")
    [item] = json.loads(once.out)["items"]
    [guarded] = [v for v in item["verdicts"] if v["signal"] == "restarts"]
    assert guarded["outcome"] == "fail" and guarded["value"] > 3, guarded
