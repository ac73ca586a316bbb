"""The long-running guard's endpoints and metrics, on the demo: /healthz, /readyz, /metrics
with evaluations, latency, last evaluation time, rollbacks by reason, leader status and
measurement errors; and the settings it refuses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.guard.test_guard_isolation import sim, tick
from turnout.backend.config import GuardSettings
from turnout.backend.demo import build_demo_service
from turnout.backend.errors import InvalidInput
from turnout.backend.guard import Guard
from turnout.backend.guard.daemon import GuardDaemon
from turnout.backend.guard.endpoints import parse_listen
from turnout.backend.guard.leader import check_timings
from turnout.backend.models import Weights


async def until(condition: Callable[[], Awaitable[object]], what: str, seconds: float = 30) -> None:
    """Poll `condition` (no fixed sleep decides anything) until true, else fail naming `what`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.02)


async def test_probes_and_metrics_while_guarding() -> None:
    service = build_demo_service()
    said: list[str] = []
    guard = Guard(service, GuardSettings(interval=0.05))
    daemon = GuardDaemon.build(guard, ["search", "checkout"], None, leader_elect=False, say=said.append)
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop, "127.0.0.1:0"))
    try:
        async def listening() -> bool:
            return any("endpoints on port" in line for line in said)

        await until(listening, "endpoints listening")
        port = int(re.findall(r"port (\d+)", next(line for line in said if "endpoints" in line))[0])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code == 200
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and "no leader election" in ready.text
            assert (await http.get("/nope")).status_code == 404
            assert (await http.post("/metrics")).status_code == 405

            async def scraped(what: str) -> bool:
                return what in (await http.get("/metrics")).text

            await until(lambda: scraped('turnout_guard_evaluations_total{app="search"'),
                        "evaluations counted")
            sim(service, "search").slots["green"].faulty = True
            tick(service, 10)
            await until(lambda: scraped("turnout_guard_rollbacks_total{"), "a rollback counted")
            text = (await http.get("/metrics")).text
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert re.search(r'turnout_guard_rollbacks_total\{app="search",namespace="search",reason="[^"]*'
                     r'(error-rate|log-errors|health)[^"]*"\} 1\.0', text)
    assert "turnout_guard_leader 1.0" in text
    # Recovery is timed from the incident the guard wrote: one rollback, restored.
    assert 'turnout_guard_detect_seconds_count{app="search",namespace="search"} 1.0' in text
    assert 'turnout_guard_restore_seconds_count{app="search",namespace="search"} 1.0' in text
    assert 'turnout_guard_last_evaluation_timestamp_seconds{app="checkout",namespace="shop"}' in text
    assert 'turnout_guard_evaluation_seconds_bucket{app="search"' in text
    assert "turnout_guard_measurement_errors_total" in text
    assert (await service.app("search")).traffic.weights == Weights(blue=100, green=0)
    assert any("guarding search (armed)" in line for line in said)


async def test_leader_election_needs_a_cluster_with_leases() -> None:
    guard = Guard(build_demo_service(), GuardSettings())
    with pytest.raises(InvalidInput, match="--leader-elect needs a Kubernetes cluster"):
        GuardDaemon.build(guard, [], None, leader_elect=True)


@pytest.mark.parametrize(("lease", "renew", "retry"), [(8, 8, 1), (8, 5, 5), (8, 9, 1), (8, 5, 0)])
def test_timings_that_could_allow_two_leaders_are_refused(lease: float, renew: float, retry: float) -> None:
    with pytest.raises(InvalidInput, match="retry_period < renew_deadline < lease_duration"):
        check_timings(GuardSettings(lease_duration=lease, renew_deadline=renew, retry_period=retry))


def test_listen_addresses() -> None:
    assert parse_listen(":8080") == ("0.0.0.0", 8080)
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:9") == ("::1", 9)
    for bad in ("nope", ":99999", "host:"):
        with pytest.raises(InvalidInput):
            parse_listen(bad)
