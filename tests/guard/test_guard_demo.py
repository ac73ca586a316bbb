"""The guard on the demo environment (deterministic clock: `DemoWorld.tick`): trips, safety
rules, the incident timeline, notifications, and `turnout guard`."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import msgspec

from tests.guard.receiver import Receiver
from turnout.backend.config import GuardSettings
from turnout.backend.demo import DemoCluster, DemoWorld, build_demo_service
from turnout.backend.demo.world import EPOCH, SimApp
from turnout.backend.gate import WriteGate
from turnout.backend.guard import Evaluation, Guard
from turnout.backend.guard import incident as reports
from turnout.backend.models import Weights
from turnout.backend.notify import Fanout, PagerDuty, Slack
from turnout.backend.service import ReleaseService

FAST = GuardSettings(interval=0.01)
HEALTH_ONLY = GuardSettings(interval=0.01, error_rate=1.0, log_errors_per_100=100)
"""Thresholds nothing can exceed, so only health checks and restarts can trip."""
CANARY = Weights(blue=90, green=10)
RESTORED = Weights(blue=100, green=0)


def world_of(service: ReleaseService) -> DemoWorld:
    assert isinstance(service.cluster, DemoCluster)
    return service.cluster.world


def search(service: ReleaseService) -> SimApp:
    return world_of(service).apps[("search", "search")]


async def weights(service: ReleaseService) -> Weights:
    return (await service.app("search")).traffic.weights


async def test_a_failing_canary_is_rolled_back_once_with_a_timeline_and_a_notification() -> None:
    service = build_demo_service()
    with Receiver(status=200) as slack:
        guard = Guard(service, FAST, Fanout((Slack(slack.url),)))
        await guard.arm("search")
        assert (await guard.check("search")).decision == "ok"
        await service.fire_drill("search")
        decisions = []
        for _ in range(3):
            world_of(service).tick(2)
            decisions.append((result := await guard.check("search")).decision)
            if result.decision == "rollback":
                break
        assert decisions[-1] == "rollback" and result.state == "tripped"
        assert await weights(service) == RESTORED
        report = json.loads(Path(result.incident).with_suffix(".json").read_text())
        [rate] = [t for t in report["triggers"] if t["signal"] == "error-rate"]
        assert rate["value"] > rate["threshold"] == 0.05 and rate["outcome"] == "fail"
        assert report["first_bad_at"] <= report["detected_at"] <= report["restored_at"]
        assert report["action"] == "rollback" and report["color"] == "green"
        markdown = Path(result.incident).read_text()
        assert "first bad measurement" in markdown and "traffic restored" in markdown
        assert len(slack.bodies) == 1 and "rollback: search/search green failed" in slack.bodies[0]["text"]
        assert (await service.app("search")).guard == "tripped"


async def test_a_second_trip_after_a_rollback_does_nothing_until_re_armed() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await guard.arm("search")
    await service.fire_drill("search")
    world_of(service).tick(5)
    assert (await guard.check("search")).decision == "rollback"
    await service.set_weight("search", 10)  # someone sends traffic to the bad color again
    world_of(service).tick(5)
    again = await guard.check("search")
    assert (again.decision, again.state, await weights(service)) == ("skip", "tripped", CANARY)
    await guard.arm("search")
    assert (await guard.check("search")).decision == "rollback"
    assert await weights(service) == RESTORED


async def test_three_failed_health_checks_trip_two_then_a_success_do_not() -> None:
    service = build_demo_service()
    guard = Guard(service, HEALTH_ONLY)
    await guard.arm("search")
    green = search(service).slots["green"]
    outcomes = []
    for healthy in (False, False, True, False, False):
        green.faulty = not healthy
        outcomes.append((await guard.check("search")).decision)
    assert outcomes == ["wait", "wait", "ok", "wait", "wait"]
    assert await weights(service) == CANARY
    result = await guard.check("search")
    assert result.decision == "rollback" and await weights(service) == RESTORED
    [health] = [v for v in result.verdicts if v.signal == "health"]
    assert (health.outcome, health.value, health.threshold) == ("fail", 3.0, 3.0)


async def test_the_timeline_starts_at_the_first_failed_health_check() -> None:
    service = build_demo_service()
    guard = Guard(service, HEALTH_ONLY)
    await guard.arm("search")
    search(service).slots["green"].faulty = True
    first = await guard.check("search")
    world_of(service).tick(2)
    await guard.check("search")
    world_of(service).tick(2)
    result = await guard.check("search")
    report = json.loads(Path(result.incident).with_suffix(".json").read_text())
    first_health = next(v for v in first.verdicts if v.signal == "health")
    assert report["first_bad_at"] == first_health.at.isoformat().replace("+00:00", "Z")
    assert report["first_bad"][0]["value"] == 1.0  # one failure then, three at detection


async def test_a_crash_looping_canary_is_rolled_back_with_its_restart_counts() -> None:
    service = build_demo_service()
    guard = Guard(service, HEALTH_ONLY)
    await guard.arm("search")
    world = world_of(service)
    for pod in search(service).slots["green"].pods:
        pod.crashing, pod.next_crash = True, world.now + 1
    results: list[Evaluation] = []
    while not results or results[-1].decision != "rollback":
        assert len(results) < 30, results[-1]
        world.tick(10)
        results.append(await guard.check("search"))
    [restarts] = [v for v in results[-1].verdicts if v.signal == "restarts"]
    assert restarts.outcome == "fail" and restarts.value is not None and restarts.value > 3
    assert f"| green | restarts | fail | {restarts.value:g} | 3 |" in Path(results[-1].incident).read_text()


async def test_an_unhealthy_stable_color_is_no_safe_target_alerted_once() -> None:
    service = build_demo_service()
    with Receiver() as pagerduty:
        guard = Guard(service, FAST, Fanout((PagerDuty("key", pagerduty.url),)))
        await guard.arm("search")
        for slot in search(service).slots.values():
            slot.faulty = True
        world_of(service).tick(10)
        decisions = [(await guard.check("search")).decision for _ in range(3)]
        assert decisions == ["no safe target", "already alerted", "already alerted"]
        assert await weights(service) == CANARY and len(pagerduty.bodies) == 1
        assert pagerduty.bodies[0]["payload"]["severity"] == "critical"
        search(service).slots["blue"].faulty = False  # the stable color recovers: now it is safe
        for _ in range(6):  # one metric sample per tick: let the faulty ones leave the window
            world_of(service).tick(1)
        assert (await guard.check("search")).decision == "rollback"
        assert await weights(service) == RESTORED


async def test_read_only_guard_only_reports() -> None:
    service = build_demo_service()
    await Guard(service, FAST).arm("search")
    await service.fire_drill("search")
    world_of(service).tick(10)
    read_only = build_demo_service(gate=WriteGate(read_only=True, why="test"))
    assert isinstance(read_only.cluster, DemoCluster)
    read_only.cluster.world = world_of(service)  # the same cluster, seen read-only
    result = await Guard(read_only, FAST).check("search")
    assert result.decision == "would roll back" and result.state == "armed"
    assert "would roll back (read-only)" in Path(result.incident).read_text()
    assert await weights(service) == CANARY


async def test_not_armed_means_no_action_and_disarm_is_shared_through_the_cluster() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await guard.arm("search")
    await guard.disarm("search")
    assert (await service.app("search")).guard == "disarmed"
    await service.fire_drill("search")
    world_of(service).tick(10)
    result = await guard.check("search")
    assert result.decision == "skip" and await weights(service) == CANARY


async def test_the_loop_evaluates_every_app_until_stopped() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    stop, seen = asyncio.Event(), []

    def collect(result: Evaluation) -> None:
        seen.append(result.app)
        if len(seen) >= 6:
            stop.set()

    await asyncio.wait_for(guard.run(["search", "checkout", "payments"], None, stop, collect), 10)
    assert sorted(seen[:3]) == ["checkout", "payments", "search"]


async def test_an_unwritable_state_dir_still_rolls_back_and_notifies(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    service = build_demo_service(audit_path=tmp_path / "not-a-dir" / "audit.jsonl")
    with Receiver(status=200) as slack:
        guard = Guard(service, FAST, Fanout((Slack(slack.url),)))
        await guard.arm("search")
        await service.fire_drill("search")
        world_of(service).tick(10)
        result = await guard.check("search")
    assert (result.decision, result.incident) == ("rollback", "")
    assert await weights(service) == RESTORED and len(slack.bodies) == 1


async def test_each_demo_run_keeps_its_own_records_as_each_starts_at_the_same_moment() -> None:
    first, second = build_demo_service(), build_demo_service()
    guard = Guard(first, FAST)
    await guard.arm("search")
    await first.fire_drill("search")
    world_of(first).tick(10)
    assert (await guard.check("search")).decision == "rollback"
    incident = first.latest_incident("search", "search")
    assert incident is not None and incident.action == "rollback"
    assert any(e.action == "rollback" for e in first.audit.tail(50))
    world_of(second).tick(60)  # later in its own simulated time than the first run's incident
    assert second.latest_incident("search", "search") is None
    assert second.audit.tail(50) == ()


async def drill_until_rolled_back(service: ReleaseService) -> tuple[Evaluation, float]:
    """Arm, fire a drill, tick the world a second at a time until the guard rolls back; the
    evaluation and the world time of the drill."""
    guard = Guard(service, FAST)
    await guard.arm("search")
    assert (await guard.check("search")).decision == "ok"
    world = world_of(service)
    await service.fire_drill("search")
    drilled = world.now
    assert (await guard.check("search")).decision != "rollback"  # nothing sampled since the drill
    result = None
    for _ in range(10):
        world.tick(1)
        if world.now - drilled >= 2 and (result := await guard.check("search")).decision == "rollback":
            break
    assert result is not None and result.decision == "rollback", result
    return result, drilled


async def test_the_incident_starts_at_the_first_bad_sample_not_the_evaluation_that_saw_it() -> None:
    service = build_demo_service()
    result, drilled = await drill_until_rolled_back(service)
    incident = msgspec.json.decode(Path(result.incident).with_suffix(".json").read_bytes(),
                                   type=reports.Incident)
    world = world_of(service)
    samples = search(service).history["green"]
    first = next((at, rate) for at, rate, *_ in samples if at > drilled and rate > FAST.error_rate)
    assert all(rate > FAST.error_rate for at, rate, *_ in samples if at >= first[0])
    assert incident.first_bad_at == EPOCH + timedelta(seconds=first[0])
    assert incident.detected_at == world.clock  # the evaluation after the last tick
    assert incident.seconds_to_detect == world.now - first[0] > 0
    [sample] = [v for v in incident.first_bad if v.signal == "error-rate"]
    assert (sample.at, sample.value) == (incident.first_bad_at, first[1])
    # The rollback is read back within the same simulated second (the world did not tick).
    assert incident.restored_at == incident.action_at == world.clock
    assert incident.seconds_to_restore == incident.seconds_to_detect > 0
    markdown = Path(result.incident).read_text()
    assert f"(+{incident.seconds_to_detect:.1f} s)" in markdown
    assert f"(+{incident.seconds_to_restore:.1f} s after the first bad measurement)" in markdown


async def test_the_demo_clock_moves_between_ticks_while_it_runs_and_never_backwards() -> None:
    service = build_demo_service()
    cluster = service.cluster
    assert isinstance(cluster, DemoCluster)
    assert service.clock() == cluster.world.clock  # stopped: the world's own time
    watch = cluster.changes()
    await asyncio.wait_for(anext(watch), 30)  # the clock runs and has ticked
    tick = timedelta(seconds=cluster.tick_seconds)
    readings = []
    for _ in range(3):  # across ticks: between two ticks the time moves on, never back
        at = service.clock()
        assert cluster.world.clock <= at <= cluster.world.clock + tick
        readings.append(at)
        await asyncio.wait_for(anext(watch), 30)
    assert readings == sorted(readings) and service.clock() >= readings[-1]
    await watch.aclose()
