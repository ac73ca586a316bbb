"""The guard against the lab (issue 6's acceptance list): real API server, real Prometheus,
real demo services; each test drives its own copy of `search` in its own namespace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from tests.guard.conftest import APP, Canary
from tests.guard.receiver import Receiver
from tests.kube.conftest import kubectl
from tests.support.processes import refused_port
from turnout.backend.config import GuardSettings
from turnout.backend.guard import Evaluation, Guard
from turnout.backend.guard import incident as reports
from turnout.backend.models import Color
from turnout.backend.notify import Fanout, PagerDuty
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
SETTINGS = GuardSettings(interval=1.0)


async def until(guard: Guard, canary: Canary, decision: str, seconds: float = 30) -> Evaluation:
    """Evaluate every second until `decision` (or fail with the last evaluation)."""
    last = None
    for _ in range(int(seconds)):
        last = await guard.check(APP, canary.namespace)
        if last.decision == decision:
            return last
        await asyncio.sleep(1)
    raise AssertionError(f"never {decision!r}; last: {last}")


async def error_rate_above(service: ReleaseService, canary: Canary, color: Color, level: float) -> None:
    """Wait until Prometheus shows `color`'s error rate above `level`."""
    assert service.metrics is not None
    app = await service.app(APP, canary.namespace)
    deadline = asyncio.get_running_loop().time() + 60  # a loaded machine scrapes late
    while asyncio.get_running_loop().time() < deadline:
        measured = {m.color: m for m in await service.metrics.golden_signals(app)}[color]
        if measured.error_rate is not None and measured.error_rate > level:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{color} error rate never above {level}")


async def test_errors_in_the_canary_roll_back_with_a_report_and_a_page(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    with Receiver() as pagerduty:
        guard = Guard(lab_service(), SETTINGS, Fanout((PagerDuty("routing-key", pagerduty.url),)))
        await guard.arm(APP, canary.namespace)
        assert (await guard.check(APP, canary.namespace)).decision == "ok"
        injected = datetime.now(UTC)
        canary.fault("green", error_rate=0.5)
        result = await until(guard, canary, "rollback")
        assert canary.canary_weight == "0"
        report = json.loads(Path(result.incident).with_suffix(".json").read_text())
        incident = msgspec.json.decode(Path(result.incident).with_suffix(".json").read_bytes(),
                                       type=reports.Incident)
        # The first bad point: Prometheus' own first sample over the threshold (a range query),
        # or, when the ratio crossed it only at the detecting query, that measurement itself.
        # Either is after the fault (a scrape begun just before it may carry its first errors,
        # hence a second's grace) and not after detection.
        [first] = [v for v in incident.first_bad if v.signal == "error-rate"]
        assert injected - timedelta(seconds=1) <= first.at == incident.first_bad_at
        assert incident.first_bad_at <= incident.detected_at
        assert first.value is not None and first.value > 0.05
        assert incident.restored_at is not None and incident.seconds_to_restore is not None
        assert incident.seconds_to_restore >= incident.seconds_to_detect
        [rate] = [t for t in report["triggers"] if t["signal"] == "error-rate"]
        assert rate["value"] > rate["threshold"] == 0.05
        assert 'http_requests_total{app="search",color="green"' in rate["source"]
        assert f"{rate['value']:.4g} | 0.05 |" in Path(result.incident).read_text()
        [page] = pagerduty.bodies
        assert page["payload"]["summary"].startswith(f"Turnout: rollback: {canary.namespace}/search green")
        assert page["routing_key"] == "routing-key"
        assert "error-rate" in page["payload"]["custom_details"]["report"]
        events = kubectl(canary.lab, "-n", canary.namespace, "get", "events", "-o", "json")
        assert "TurnoutIncident" in events
        annotations = json.loads(kubectl(canary.lab, "-n", canary.namespace, "get", "service", APP,
                                         "-o", "json"))["metadata"]["annotations"]
        assert annotations["turnout.dev/guard"] == "tripped"


async def test_a_second_trip_right_after_a_rollback_does_nothing_until_re_armed(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    service = lab_service()
    guard = Guard(service, SETTINGS)
    await guard.arm(APP, canary.namespace)
    canary.fault("green", health="fail")
    await until(guard, canary, "rollback")
    canary.set_canary_weight(10)
    for _ in range(600):  # until the watch brings the change in (generous: a loaded machine)
        if (await service.app(APP, canary.namespace)).traffic.weights.green == 10:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the watch never showed the canary weight of 10")
    for _ in range(4):
        again = await guard.check(APP, canary.namespace)
        assert (again.state, again.decision) == ("tripped", "skip")
    assert canary.canary_weight == "10"
    await guard.arm(APP, canary.namespace)
    await until(guard, canary, "rollback")
    assert canary.canary_weight == "0"


async def test_three_failed_health_checks_roll_back_two_then_a_success_do_not(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, canary.namespace)
    canary.fault("green", health="fail")
    decisions = [(await guard.check(APP, canary.namespace)).decision for _ in range(2)]
    canary.fault("green", health="ok")
    decisions.append((await guard.check(APP, canary.namespace)).decision)
    assert decisions == ["wait", "wait", "ok"] and canary.canary_weight == "10"
    canary.fault("green", health="fail")
    decisions = [(await guard.check(APP, canary.namespace)).decision for _ in range(3)]
    assert decisions == ["wait", "wait", "rollback"] and canary.canary_weight == "0"


async def test_prometheus_stopped_is_error_and_no_rollback_until_k_errors_under_policy_fail(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    dead = f"http://127.0.0.1:{refused_port()}"
    guard = Guard(lab_service(prometheus_url=dead), GuardSettings(interval=1.0, outage="fail"))
    await guard.arm(APP, canary.namespace)
    seen = []
    for _ in range(4):
        result = await guard.check(APP, canary.namespace)
        [rate] = [v for v in result.verdicts if v.signal == "error-rate"]
        seen.append((rate.outcome, result.decision, canary.canary_weight))
    assert seen == [("error", "unknown", "10")] * 3 + [("fail", "rollback", "0")]
    assert "unreachable 4 time(s) in a row >= 4" in rate.detail


async def test_low_traffic_is_inconclusive_and_never_rolls_back(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    service = lab_service()
    guard = Guard(service, GuardSettings(interval=1.0, min_requests=1e9))
    await guard.arm(APP, canary.namespace)
    canary.fault("green", error_rate=0.5)
    await error_rate_above(service, canary, "green", 0.05)  # the errors measured, not hoped for
    for _ in range(3):
        result = await guard.check(APP, canary.namespace)
        [rate] = [v for v in result.verdicts if v.signal == "error-rate"]
        assert (rate.outcome, result.decision) == ("inconclusive", "wait") and "low traffic" in rate.detail
    assert rate.value is not None and rate.value > 0.05 and canary.canary_weight == "10"


async def test_no_safe_target_when_the_stable_color_is_unhealthy_too(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    with Receiver() as pagerduty:
        service = lab_service()
        guard = Guard(service, SETTINGS, Fanout((PagerDuty("key", pagerduty.url),)))
        await guard.arm(APP, canary.namespace)
        canary.fault("blue", error_rate=0.6)
        await error_rate_above(service, canary, "blue", 0.3)  # the stable color is bad first
        canary.fault("green", error_rate=0.6)
        result = await until(guard, canary, "no safe target")
        assert canary.canary_weight == "10"
        assert "none: no safe target" in Path(result.incident).read_text()
        assert (await guard.check(APP, canary.namespace)).decision == "already alerted"
        assert len(pagerduty.bodies) == 1 and pagerduty.bodies[0]["payload"]["severity"] == "critical"


async def test_a_crash_looping_canary_is_rolled_back_with_its_restarts(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, canary.namespace)
    kubectl(canary.lab, "-n", canary.namespace, "label", "pod", *canary.pods("green"),
            "lab.turnout.dev/crashloop=true")
    result = await until(guard, canary, "rollback", seconds=60)
    [restarts] = [v for v in result.verdicts if v.signal == "restarts"]
    assert restarts.outcome == "fail" and restarts.value is not None and restarts.value > 3
    assert canary.canary_weight == "0"
    report = Path(result.incident).read_text()
    assert f"| green | restarts | fail | {restarts.value:g} | 3 | {restarts.source} |" in report


async def test_read_only_reports_what_it_would_do(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    await Guard(lab_service(), SETTINGS).arm(APP, canary.namespace)
    guard = Guard(lab_service(read_only=True), SETTINGS)
    canary.fault("green", health="fail")
    result = await until(guard, canary, "would roll back")
    assert canary.canary_weight == "10" and "would roll back (read-only)" in Path(result.incident).read_text()
