"""The guard on the demo environment: trips, safety rules, incident report, notification."""

from __future__ import annotations

import json
from pathlib import Path

from tests.guard.receiver import Receiver
from turnout.backend.config import GuardSettings
from turnout.backend.demo import build_demo_service
from turnout.backend.gate import WriteGate
from turnout.backend.guard.engine import Guard
from turnout.backend.models import Weights
from turnout.backend.notify import Fanout, Slack

FAST = GuardSettings(interval=0.01)


async def test_a_failing_canary_is_rolled_back_once_and_reported(tmp_path: Path) -> None:
    service = build_demo_service()
    with Receiver() as receiver:
        guard = Guard(service, FAST, Fanout((Slack(receiver.url),)))
        await guard.arm("search")
        assert (await guard.check("search")).decision == "ok"
        await service.fire_drill("search")
        service.cluster.world.tick(30)  # type: ignore[attr-defined]
        result = await guard.check("search")
        assert result.decision == "rollback"
        assert (await service.app("search")).traffic.weights == Weights(blue=100, green=0)
        report = json.loads(Path(result.incident).with_suffix(".json").read_text())
        rates = [t for t in report["triggers"] if t["signal"] == "error-rate"]
        assert rates and rates[0]["value"] > rates[0]["threshold"] == 0.05
        assert receiver.bodies and "search" in receiver.bodies[0]["text"]
        again = await guard.check("search")  # tripped: the guard leaves it alone
        assert (again.state, again.watched) == ("tripped", "blue")
        assert again.decision in ("ok", "wait") and len(receiver.bodies) == 1


async def test_an_unhealthy_stable_color_is_no_safe_target() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await guard.arm("search")
    world = service.cluster.world  # type: ignore[attr-defined]
    world.fire_drill(world.apps[("search", "search")])  # green, the canary
    for slot in world.apps[("search", "search")].slots.values():
        slot.faulty = True
    world.tick(30)
    result = await guard.check("search")
    assert result.decision == "no safe target"
    assert (await service.app("search")).traffic.weights == Weights(blue=90, green=10)


async def test_read_only_guard_only_reports() -> None:
    service = build_demo_service()
    await Guard(service, FAST).arm("search")
    await service.fire_drill("search")
    world = service.cluster.world  # type: ignore[attr-defined]
    world.tick(30)
    read_only = build_demo_service(gate=WriteGate(read_only=True, why="test"))
    read_only.cluster.world = world  # type: ignore[attr-defined]  # the same cluster, read-only
    result = await Guard(read_only, FAST).check("search")
    assert result.decision == "would roll back"
    assert (await service.app("search")).traffic.weights == Weights(blue=90, green=10)


async def test_not_armed_means_no_action() -> None:
    service = build_demo_service()
    await service.fire_drill("search")
    service.cluster.world.tick(30)  # type: ignore[attr-defined]
    result = await Guard(service, FAST).check("search")
    assert result.decision == "skip"
    assert (await service.app("search")).traffic.weights == Weights(blue=90, green=10)
