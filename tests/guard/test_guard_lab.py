"""The guard against the lab: real API server, real Prometheus, real demo services."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.guard.conftest import APP, NS, fault
from tests.guard.receiver import Receiver
from tests.kube.conftest import Lab, get, kubectl
from turnout.backend.config import GuardSettings
from turnout.backend.guard.engine import Evaluation, Guard
from turnout.backend.notify import Fanout, PagerDuty
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
SETTINGS = GuardSettings(interval=1.0)


def canary_weight(lab: Lab) -> str:
    return str(get(lab, NS, f"ingress/{APP}-canary")["metadata"]["annotations"]
               ["nginx.ingress.kubernetes.io/canary-weight"])


async def until(guard: Guard, decision: str, seconds: float = 30) -> Evaluation:
    """Evaluate every second until `decision` (or fail with the last evaluation)."""
    last = None
    for _ in range(int(seconds)):
        last = await guard.check(APP, NS)
        if last.decision == decision:
            return last
        await asyncio.sleep(1)
    raise AssertionError(f"never {decision!r}; last: {last}")


async def test_errors_in_the_canary_roll_back_with_a_report_and_a_page(
        search: Lab, lab_service: Callable[..., ReleaseService]) -> None:
    with Receiver() as pagerduty:
        guard = Guard(lab_service(), SETTINGS, Fanout((PagerDuty("routing-key", pagerduty.url),)))
        await guard.arm(APP, NS)
        fault(search, "green", error_rate=0.5)
        result = await until(guard, "rollback")
        assert canary_weight(search) == "0"
        report = json.loads(Path(result.incident).with_suffix(".json").read_text())
        [rate] = [t for t in report["triggers"] if t["signal"] == "error-rate"]
        assert rate["value"] > rate["threshold"] == 0.05
        assert "http_requests_total" in rate["source"]
        assert pagerduty.bodies[0]["payload"]["summary"].startswith("Turnout: rollback")
        assert pagerduty.bodies[0]["routing_key"] == "routing-key"
        # A second trip right after does nothing until re-armed.
        kubectl(search, "-n", NS, "annotate", "--overwrite", "ingress", f"{APP}-canary",
                "nginx.ingress.kubernetes.io/canary-weight=10")
        again = await guard.check(APP, NS)
        assert again.state == "tripped" and again.decision == "skip"
        assert canary_weight(search) == "10"


async def test_three_failed_health_checks_roll_back_two_do_not(
        search: Lab, lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, NS)
    fault(search, "green", health="fail")
    first, second = await guard.check(APP, NS), await guard.check(APP, NS)
    assert {first.decision, second.decision} == {"wait"}
    fault(search, "green", health="ok")
    assert (await guard.check(APP, NS)).decision == "ok"
    assert canary_weight(search) == "10"
    fault(search, "green", health="fail")
    decisions = [(await guard.check(APP, NS)).decision for _ in range(3)]
    assert decisions == ["wait", "wait", "rollback"]
    assert canary_weight(search) == "0"


async def test_prometheus_unreachable_is_error_until_k_times(
        search: Lab, lab_service: Callable[..., ReleaseService]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    guard = Guard(lab_service(prometheus_url=dead), SETTINGS)
    await guard.arm(APP, NS)
    outcomes = []
    for _ in range(4):
        result = await guard.check(APP, NS)
        outcomes.append(next(v.outcome for v in result.verdicts if v.signal == "error-rate"))
        if result.decision == "rollback":
            break
    assert outcomes == ["error", "error", "error", "fail"]
    assert result.decision == "rollback"


async def test_no_safe_target_when_the_stable_color_is_unhealthy_too(
        search: Lab, lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, NS)
    fault(search, "blue", error_rate=0.6)
    await asyncio.sleep(8)  # the stable color's errors reach Prometheus first
    fault(search, "green", error_rate=0.6)
    result = await until(guard, "no safe target")
    assert canary_weight(search) == "10"
    assert "no safe target" in Path(result.incident).read_text()


async def test_a_crash_looping_canary_is_rolled_back_with_its_restarts(
        search: Lab, lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, NS)
    pods = get(search, NS, "pods")["items"]
    green = [p["metadata"]["name"] for p in pods
             if p["metadata"]["labels"].get("turnout.dev/color") == "green"]
    kubectl(search, "-n", NS, "label", "pod", *green, "lab.turnout.dev/crashloop=true")
    try:
        result = await until(guard, "rollback", seconds=45)
        [restarts] = [v for v in result.verdicts if v.signal == "restarts"]
        assert restarts.outcome == "fail" and restarts.value is not None and restarts.value > 3
        assert canary_weight(search) == "0"
    finally:
        kubectl(search, "-n", NS, "delete", "pod", "--wait=false", *green)
