"""The outage policy and re-arming, on the demo: an unreachable metrics source holds (no
rollback, `unknown` since when, one notification per outage, resolved when it answers again)
unless the app's policy is `fail`; after a re-arm the windowed error rate cannot trip on data
from before it. Prometheus is a closed port on this machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from tests.guard.receiver import Receiver
from tests.guard.test_guard_isolation import sim, tick
from tests.support.processes import refused_port
from turnout.backend.config import GuardSettings
from turnout.backend.demo import build_demo_service
from turnout.backend.guard import Guard
from turnout.backend.guard.policy import Rearms, outage_policy
from turnout.backend.metrics.prometheus import PrometheusMetrics
from turnout.backend.models import Verdict, Weights
from turnout.backend.notify import Fanout, PagerDuty
from turnout.backend.service import ReleaseService

CANARY = Weights(blue=90, green=10)
RESTORED = Weights(blue=100, green=0)
ERRORS_ONLY = GuardSettings(interval=0.01, health_failures=1000, restarts_5m=1000, log_errors_per_100=100)
"""Only the error rate can trip."""


def dead_prometheus() -> PrometheusMetrics:
    return PrometheusMetrics(f"http://127.0.0.1:{refused_port()}", timeout=1)


def failing_canary(service: ReleaseService) -> None:
    sim(service, "search").slots["green"].faulty = True
    tick(service, 10)


async def test_an_outage_holds_shows_unknown_since_when_and_pages_once() -> None:
    service = build_demo_service()
    working, service.metrics = service.metrics, dead_prometheus()
    with Receiver() as pagerduty:
        guard = Guard(service, GuardSettings(interval=0.01, error_rate=1.0),
                      Fanout((PagerDuty("key", pagerduty.url),)))
        await guard.arm("search")
        results = [await guard.check("search") for _ in range(8)]
        assert {r.decision for r in results} == {"unknown"}
        assert len({r.since for r in results}) == 1 and results[0].since is not None
        rates = [next(v for v in r.verdicts if v.signal == "error-rate") for r in results]
        assert {v.outcome for v in rates} == {"error"} and "holding since" in rates[-1].detail
        assert (await service.app("search")).traffic.weights == CANARY
        [page] = pagerduty.bodies
        assert "metrics unreachable" in page["payload"]["summary"] and page["event_action"] == "trigger"
        guard.measure.metrics = working  # the source answers again
        assert (await guard.check("search")).decision in ("ok", "wait")
        assert [b["event_action"] for b in pagerduty.bodies] == ["trigger", "resolve"]
        assert pagerduty.bodies[1]["dedup_key"] == page["dedup_key"]
    report = (await service.app("search")).guard_report
    assert report is not None and report.decision != "unknown"
    await service.metrics.close()


async def test_an_outage_never_hides_a_failure_measured_otherwise() -> None:
    service = build_demo_service()
    service.metrics = dead_prometheus()
    guard = Guard(service, GuardSettings(interval=0.01))
    await guard.arm("search")
    sim(service, "search").slots["green"].faulty = True  # its logs and health checks fail
    decisions = [(await guard.check("search")).decision for _ in range(3)]
    assert "rollback" in decisions
    await service.metrics.close()


async def test_the_per_app_policy_fail_rolls_back_after_k_unreachable_reads() -> None:
    service = build_demo_service()
    service.metrics = dead_prometheus()
    settings = GuardSettings(interval=0.01, app_outage={"search": "fail"})
    guard = Guard(service, settings)
    await guard.arm("search")
    decisions = [(await guard.check("search")).decision for _ in range(4)]
    assert decisions == ["unknown"] * 3 + ["rollback"]
    assert (await service.app("search")).traffic.weights == RESTORED
    other = Guard(service, GuardSettings(interval=0.01, outage="fail"))
    assert outage_policy(other.settings, await service.app("checkout")) == "fail"
    await service.metrics.close()


async def test_re_arming_waits_for_the_window_to_hold_only_fresh_data() -> None:
    service = build_demo_service()
    guard = Guard(service, ERRORS_ONLY)
    await guard.arm("search")
    failing_canary(service)
    assert (await guard.check("search")).decision == "rollback"
    await guard.arm("search")
    sim(service, "search").weights = CANARY  # a new canary at once, errors still in the window
    tick(service, 2)
    held = await guard.check("search")
    [rate] = [v for v in held.verdicts if v.signal == "error-rate"]
    assert (held.decision, rate.outcome) == ("wait", "inconclusive") and "re-armed" in rate.detail
    assert rate.value is not None and rate.threshold is not None and rate.value > rate.threshold
    assert (await service.app("search")).traffic.weights == CANARY
    tick(service, 10)  # the window now holds only what was measured since the re-arm
    assert (await guard.check("search")).decision == "rollback"


def _verdict(signal: str, outcome: str, at: datetime) -> Verdict:
    return Verdict(signal=signal, color="green", outcome=outcome, value=0.5,  # type: ignore[arg-type]
                   threshold=0.05, source="q", at=at, detail="50% > 5%")


def test_a_re_arm_by_another_process_is_seen_as_the_state_changes() -> None:
    from turnout.backend.demo import DemoCluster

    service = build_demo_service()
    assert isinstance(service.cluster, DemoCluster)
    rearms = Rearms()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    app = service.cluster._record(sim(service, "search"))
    rearms.seen_state(msgspec.structs.replace(app, guard="tripped"), t0)
    rearms.seen_state(msgspec.structs.replace(app, guard="armed"), t0)
    fails = [_verdict("error-rate", "fail", t0), _verdict("health", "fail", t0)]
    held = rearms.fresh_only(app, fails, t0 + timedelta(seconds=3), 10)
    assert [v.outcome for v in held] == ["inconclusive", "fail"]  # only the windowed signal waits
    assert [v.outcome for v in rearms.fresh_only(app, fails, t0 + timedelta(seconds=10), 10)] == \
        ["fail", "fail"]


def test_a_color_seen_clean_after_the_re_arm_trips_on_new_errors_at_once() -> None:
    service = build_demo_service()
    app = service.cluster._record(sim(service, "search"))  # type: ignore[attr-defined]
    rearms = Rearms()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rearms.rearmed(app, t0)
    clean = msgspec.structs.replace(_verdict("error-rate", "pass", t0), value=0.0)
    assert rearms.fresh_only(app, [clean], t0 + timedelta(seconds=1), 10)[0].outcome == "pass"
    fresh = rearms.fresh_only(app, [_verdict("error-rate", "fail", t0)], t0 + timedelta(seconds=3), 10)
    assert fresh[0].outcome == "fail"  # measured clean since the re-arm: these errors are new
