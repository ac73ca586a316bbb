"""Steering a flow in flight on the demo: promote a pause, abort, resume after a crash, holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import pytest

from tests.release.conftest import Demo, flow_of, request
from turnout.backend.errors import InvalidInput
from turnout.backend.models import App, Color, Verdict, Weights
from turnout.backend.release import Release, RestoreIncomplete

ELSEWHERE = "ci@build-host-7:4242"
"""A driver on another host: only its heartbeat says whether it still runs."""


async def until(check: Callable[[], Awaitable[bool]], tries: int = 20000) -> None:
    """Let other tasks run until `check` holds."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def at_stage(demo: Demo, kind: str, weight: int | None = None,
             status: str | None = None) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        flow = await flow_of(demo)
        return (flow is not None and flow.stage is not None and flow.stage.kind == kind
                and weight in (None, flow.stage.weight) and status in (None, flow.status))
    return check


async def crashed_at(demo: Demo, kind: str, weight: int) -> None:
    """A deploy driven from another host, killed at a stage; its heartbeat then goes stale."""
    task = asyncio.create_task(demo.console(me=ELSEWHERE).deploy(
        request(steps=(10, 50, 100), analysis=300.0)))
    await until(at_stage(demo, kind, weight))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    demo.cluster.world.tick(60)


async def test_a_manual_pause_waits_for_promote_at_each_step(demo: Demo) -> None:
    task = asyncio.create_task(demo.console().deploy(request(steps=(10, 50, 100), manual=True)))
    await until(at_stage(demo, "pause", 10, "paused"))
    demo.cluster.world.tick(3600)  # however long it waits, a manual pause never moves on
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=90, green=10)
    assert await demo.console().promote("checkout") is not None
    await until(at_stage(demo, "pause", 50, "paused"))
    await demo.console().promote("checkout")
    release = await task
    assert release.outcome == "promoted"
    assert any(line.startswith("paused: turnout promote checkout") for line in demo.said)


async def test_promote_without_a_pause_is_refused(demo: Demo) -> None:
    task = asyncio.create_task(demo.console().deploy(request(analysis=300.0)))
    await until(at_stage(demo, "analyse", 10))
    with pytest.raises(InvalidInput, match="not paused"):
        await demo.console().promote("checkout")
    await demo.console().abort("checkout")
    await task


async def test_abort_asks_the_running_driver_which_restores(demo: Demo) -> None:
    task = asyncio.create_task(demo.console().deploy(request(steps=(10, 50, 100), analysis=300.0)))
    await until(at_stage(demo, "analyse", 50))
    release = await demo.console().abort("checkout")
    assert release is not None and release == await task
    assert (release.outcome, release.reason) == ("aborted", "aborted by demo-operator")
    assert release.stage == "analyse at 50 %" and release.restored_at is not None
    app = await demo.service.app("checkout")
    assert (app.traffic.live, app.traffic.weights) == ("blue", Weights(blue=100, green=0))


async def test_abort_restores_itself_when_the_driver_died(demo: Demo) -> None:
    await crashed_at(demo, "analyse", 10)
    release = await demo.console().abort("checkout")
    assert release is not None and release.outcome == "aborted"
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=100, green=0)
    assert await flow_of(demo) is None


async def test_resume_finishes_a_flow_whose_driver_died(demo: Demo) -> None:
    await crashed_at(demo, "analyse", 50)
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=50, green=50)
    release = await demo.console().resume("checkout")
    assert release is not None and release.outcome == "promoted"
    assert (await demo.service.app("checkout")).traffic.live == "green"
    history = await demo.console().history(None, "checkout")
    assert [r.id for r in history].count(release.id) == 1
    assert await demo.console().resume("checkout") is None  # a second resume has nothing to do


async def test_resume_refuses_while_the_driver_runs(demo: Demo) -> None:
    task = asyncio.create_task(demo.console().deploy(request(analysis=300.0)))
    await until(at_stage(demo, "analyse", 10))
    with pytest.raises(InvalidInput, match="is running"):
        await demo.console().resume("checkout")
    await demo.console().abort("checkout")
    assert (await task).outcome == "aborted"


async def test_steering_without_a_flow_does_nothing(demo: Demo) -> None:
    console = demo.console()
    assert (await console.abort("checkout"), await console.promote("checkout"),
            await console.resume("checkout")) == (None, None, None)


class Undecided:
    """A trigger whose checks give no answer until told otherwise (a smoke test timing out)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.outcome = "inconclusive"

    async def __call__(self, app: App, color: Color) -> Sequence[Verdict]:
        return [Verdict(signal="smoke", color=color, outcome=self.outcome,  # type: ignore[arg-type]
                        value=None, threshold=None, source="smoke/checkout", at=self.clock(),
                        detail="no answer within 2s")]


async def test_inconclusive_verdicts_hold_the_canary_and_never_roll_back(demo: Demo) -> None:
    smoke = Undecided(demo.service.clock)
    console = demo.console(triggers=(smoke,))
    start = demo.service.clock()
    task = asyncio.create_task(console.deploy(request(steps=(10, 100), analysis=10.0)))
    await until(at_stage(demo, "preview", status="paused"))
    smoke.outcome = "pass"
    await until(at_stage(demo, "analyse", 10))
    smoke.outcome = "inconclusive"
    await until(at_stage(demo, "analyse", 10, "paused"))
    assert demo.service.clock() - start > timedelta(seconds=70)  # the window, then a minute's hold
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=90, green=10)
    assert await demo.console().promote("checkout") is not None  # the operator decides
    smoke.outcome = "pass"
    release: Release = await task
    assert release.outcome == "promoted"
    assert any("inconclusive" in line and "waiting for an operator" in line for line in demo.said)


async def test_an_outage_mid_flow_keeps_the_record_until_resume_restores(demo: Demo) -> None:
    async def outage_at_canary(seconds: float) -> None:
        await demo.tick(seconds)
        if demo.cluster.world.apps[("shop", "checkout")].weights.green == 10:
            demo.cluster.outage(3600)  # the API server stops answering, until the test ends it

    console = demo.console(me=ELSEWHERE)
    console.sleep = outage_at_canary
    with pytest.raises(RestoreIncomplete, match="turnout resume checkout") as raised:
        await console.deploy(request(steps=(10, 100), analysis=300.0))
    assert raised.value.exit_code == 22
    demo.cluster.outage(0)  # the outage ends (a short one could end, on a loaded machine,
    # before the flow's next call)
    kept = await flow_of(demo)
    assert kept is not None and (kept.status, kept.outcome) == ("restoring", "failed")
    demo.cluster.world.tick(60)
    release = await demo.console().resume("checkout")
    assert release is not None and release.outcome == "failed" and "unreachable" in release.reason
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=100, green=0)


async def test_restoring_scales_a_shrunk_old_color_back_up_before_it_gets_traffic(demo: Demo) -> None:
    task = asyncio.create_task(demo.console().deploy(request(steps=(10, 100), analysis=300.0)))
    await until(at_stage(demo, "analyse", 10))
    await demo.service.scale("checkout", "blue", 1)  # someone shrank the stable color
    release = await demo.console().abort("checkout")
    assert release is not None and release == await task
    app = await demo.service.app("checkout")
    assert (app.traffic.live, app.blue.desired, app.blue.ready) == ("blue", 3, 3)
