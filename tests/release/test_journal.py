"""The flow journal on the demo's store: conditional saves, merged requests, take-overs."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from tests.release.conftest import Demo
from turnout.backend.errors import Conflict
from turnout.backend.release import Flow, plan_stages
from turnout.backend.release.journal import (
    AbortRequested,
    FlowJournal,
    Superseded,
    driver_alive,
    driver_id,
)


def a_flow(demo: Demo, driver: str) -> Flow:
    now = demo.service.clock()
    return Flow(id="f1", app="checkout", namespace="shop", context="demo",
                image="registry.demo/checkout:1.5.0", version="1.5.0", strategy="canary",
                steps=(10, 100), pause=0, manual=False, analysis=10, monitor=10, deadline=60,
                interval=1, scale_down_to=1, old="blue", new="green", old_image="a", old_version="1",
                old_replicas=3, new_prev_image="b", new_prev_replicas=3, by="tester",
                started_at=now, stages=plan_stages("canary", (10, 100), pause=0, manual=False),
                stage_started=now, driver=driver, heartbeat=now)


async def test_a_stale_save_is_a_conflict(demo: Demo) -> None:
    port = demo.console().port
    stored = await port.create_flow(a_flow(demo, "me"))
    await port.save_flow(stored)
    with pytest.raises(Conflict):
        await port.save_flow(stored)
    with pytest.raises(Conflict, match="changed by someone else"):
        await port.create_flow(stored)


async def test_the_driver_keeps_an_abort_recorded_between_its_read_and_save(demo: Demo) -> None:
    port = demo.console().port
    journal = FlowJournal(port, demo.service.clock, "me")
    local = await journal.save(await port.create_flow(a_flow(demo, "me")))
    await port.save_flow(msgspec.structs.replace(local, abort_requested=True, abort_by="ops"))
    saved = await journal.save(msgspec.structs.replace(local, at=3))
    assert (saved.at, saved.abort_requested, saved.abort_by) == (3, True, "ops")
    with pytest.raises(AbortRequested, match="ops"):
        await journal.pulse(saved)


async def test_a_taken_over_flow_stops_its_old_driver(demo: Demo) -> None:
    port = demo.console().port
    journal = FlowJournal(port, demo.service.clock, "me")
    local = await journal.save(await port.create_flow(a_flow(demo, "me")))
    await port.save_flow(msgspec.structs.replace(local, driver="someone@else:1"))
    with pytest.raises(Superseded, match="taken over"):
        await journal.pulse(local)
    await port.clear_flow(local)
    with pytest.raises(Superseded, match="removed"):
        await journal.pulse(local)


async def test_a_dead_pid_here_or_a_stale_heartbeat_means_the_driver_died(demo: Demo) -> None:
    now = demo.service.clock()
    assert driver_alive(a_flow(demo, driver_id()), now)
    dead_here = driver_id().rpartition(":")[0] + ":999999999"
    assert not driver_alive(a_flow(demo, dead_here), now)
    elsewhere = a_flow(demo, "ci@build-host-7:1")
    assert driver_alive(elsewhere, now + timedelta(seconds=10))
    assert not driver_alive(elsewhere, now + timedelta(seconds=31))


async def test_a_driver_holding_the_lock_renews_it_while_it_waits(demo: Demo) -> None:
    port = demo.console().port
    renewed: list[str] = []

    async def renew(flow: Flow) -> None:
        renewed.append(flow.id)

    journal = FlowJournal(port, demo.service.clock, "me", renew=renew)
    flow = msgspec.structs.replace(a_flow(demo, "me"), locked=True)
    flow = await journal.save(await port.create_flow(flow))
    flow = await journal.pulse(flow)
    demo.cluster.world.tick(301)
    await journal.pulse(flow)
    assert renewed == ["f1"]
