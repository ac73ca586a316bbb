"""Each app on its own: malformed annotations, PromQL templates and plans, a hanging
measurement or a broken app are that app's `error` (alerted once), never the guard's crash,
and the other apps are still evaluated and acted on. Demo-backed; Prometheus is a closed
port on this machine where an unreachable one is wanted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from io import StringIO

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.guard.receiver import Receiver
from tests.guard.test_guard_cli import _Ctx
from tests.support.processes import refused_port
from turnout.backend.cli.guard_cmd import EXIT_ERROR, EXIT_ROLLED_BACK, guard
from turnout.backend.config import Config, GuardSettings
from turnout.backend.demo import DemoCluster, build_demo_service
from turnout.backend.demo.world import SimApp
from turnout.backend.errors import InvalidInput
from turnout.backend.guard import Guard
from turnout.backend.guard.measure import CANNOT_EVALUATE, check_endpoint
from turnout.backend.kube.discover import endpoints_of
from turnout.backend.metrics.prometheus import PrometheusMetrics
from turnout.backend.models import Weights
from turnout.backend.notify import Fanout, PagerDuty
from turnout.backend.plans import parse_plan
from turnout.backend.service import ReleaseService

DECISIONS = {"ok", "wait", "unknown", "error", "skip", "rollback", "no safe target", "would roll back",
             "rollback failed", "already alerted"}
MALFORMED = '{"green":"http://[::1"}'
FAST = GuardSettings(interval=0.01)


def closed_port() -> int:
    return refused_port()


def sim(service: ReleaseService, name: str) -> SimApp:
    assert isinstance(service.cluster, DemoCluster)
    return next(app for (_, n), app in service.cluster.world.apps.items() if n == name)


def tick(service: ReleaseService, seconds: float) -> None:
    assert isinstance(service.cluster, DemoCluster)
    service.cluster.world.tick(seconds)


# --- property: no input makes the guard raise -------------------------------------------------

URL_PARTS = st.sampled_from(["http://", "https://", "ftp://", "kube://", "", "http://[", "//", "http:"])
HOSTS = st.sampled_from([f"127.0.0.1:{closed_port()}", "[::1", "", "a b", "\x00", "127.0.0.1:99999",
                         "[::1]:1", ":80", "%zz"])
ENDPOINT = st.one_of(st.builds(lambda a, b, c: a + b + c, URL_PARTS, HOSTS, st.text(max_size=8)),
                     st.text(max_size=30))
ANNOTATION = st.one_of(
    st.dictionaries(st.sampled_from(["blue", "green", "red", ""]),
                    st.one_of(ENDPOINT, st.integers(), st.none()), max_size=3).map(json.dumps),
    st.text(max_size=40), st.just(MALFORMED))
TEMPLATE = st.one_of(st.text(max_size=40), st.sampled_from(
    ["${app", "$nope", "$", "rate(x[$window])", "sum(x{app=\"$app\"})", "$$", "${}"]))


@hsettings(max_examples=60)
@given(annotation=ANNOTATION, template=TEMPLATE, plan=st.text(max_size=20))
def test_no_annotation_plan_or_template_crashes_the_guard(annotation: str, template: str, plan: str) -> None:
    endpoints = endpoints_of(annotation)
    steps: tuple[int, ...] = ()
    with contextlib.suppress(InvalidInput):  # a malformed plan is refused with a one-line error only
        steps = parse_plan(plan)

    async def evaluate() -> None:
        service = build_demo_service()
        service.metrics = PrometheusMetrics(f"http://127.0.0.1:{closed_port()}", timeout=1,
                                            app_queries={"search": {"error_rate": template}})
        sim(service, "search").endpoints = endpoints
        sim(service, "search").plan = steps or sim(service, "search").plan
        try:
            result = await Guard(service, FAST).check("search")
        finally:
            await service.metrics.close()
        assert result.decision in DECISIONS and result.app == "search"
        green = endpoints.get("green")
        if green and not _valid(green):  # an empty URL is no endpoint: cluster health
            [health] = [v for v in result.verdicts if v.signal == "health"]
            assert (health.outcome, result.decision) == ("error", "error")
            assert health.detail.startswith(CANNOT_EVALUATE)

    asyncio.run(evaluate())


def _valid(url: str) -> bool:
    try:
        check_endpoint("green", url)
    except InvalidInput:
        return False
    return True


# --- one app's error is its own ---------------------------------------------------------------


async def test_a_malformed_endpoint_is_that_apps_error_alerted_once_and_resolved_when_fixed() -> None:
    service = build_demo_service()
    sim(service, "search").endpoints = endpoints_of(MALFORMED)
    with Receiver() as pagerduty:
        guard = Guard(service, FAST, Fanout((PagerDuty("key", pagerduty.url),)))
        results = [await guard.check("search") for _ in range(3)]
        assert [r.decision for r in results] == ["error"] * 3
        assert results[0].since == results[2].since is not None
        [health] = [v for v in results[0].verdicts if v.signal == "health"]
        assert health.outcome == "error" and "[::1" in health.detail
        [page] = pagerduty.bodies
        assert page["event_action"] == "trigger" and "search/search cannot be guarded" in \
            page["payload"]["summary"]
        sim(service, "search").endpoints = {}
        assert (await guard.check("search")).decision == "ok"
        assert [b["event_action"] for b in pagerduty.bodies] == ["trigger", "resolve"]
        assert pagerduty.bodies[1]["dedup_key"] == page["dedup_key"]
    report = (await service.app("search")).guard_report
    assert report is not None and report.decision == "ok"


async def test_the_error_is_published_for_every_reader() -> None:
    service = build_demo_service()
    sim(service, "search").endpoints = endpoints_of(MALFORMED)
    await Guard(service, FAST).check("search")
    report = (await service.app("search")).guard_report
    assert report is not None and report.decision == "error"


async def test_once_over_every_app_rolls_back_the_failing_one_beside_a_malformed_one() -> None:
    service = build_demo_service()
    sim(service, "search").endpoints = endpoints_of(MALFORMED)
    await Guard(service, FAST).arm("checkout")
    sim(service, "checkout").slots["green"].faulty = True
    sim(service, "checkout").weights = Weights(blue=90, green=10)
    tick(service, 10)
    args = argparse.Namespace(apps=[], once=True, arm=False, disarm=False, interval=None, output="json",
                              namespace=None, all_namespaces=True)
    out = StringIO()
    code = await guard(args, _Ctx(args=args, config=Config(guard=FAST), out=out, prepared=service))
    items = {item["app"]: item for item in json.loads(out.getvalue())["items"]}
    assert set(items) == {"checkout", "search", "payments"}
    assert (items["search"]["decision"], items["checkout"]["decision"]) == ("error", "rollback")
    assert items["payments"]["decision"] in ("ok", "wait")
    assert EXIT_ERROR > EXIT_ROLLED_BACK and code == EXIT_ERROR  # the worst: an app unguarded
    assert (await service.app("checkout")).traffic.weights == Weights(blue=100, green=0)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hanging health check."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


async def test_a_hanging_measurement_is_that_apps_error_and_the_others_are_evaluated(
        silent_endpoint: str) -> None:
    service = build_demo_service()
    sim(service, "search").endpoints = {"green": silent_endpoint}
    settings = GuardSettings(interval=0.01, evaluation_timeout=1.5)
    guard = Guard(service, settings)
    await guard.arm("checkout")
    sim(service, "checkout").weights = Weights(blue=90, green=10)
    sim(service, "checkout").slots["green"].faulty = True
    tick(service, 10)
    search, checkout = await guard.check_all([("search", None), ("checkout", None)])
    assert search.decision == "error" and "longer than 1.5 s" in search.verdicts[0].detail
    assert checkout.decision == "rollback"


async def test_an_app_that_cannot_be_read_is_an_error_row_not_a_crash() -> None:
    service = build_demo_service()
    result, ok = await Guard(service, FAST).check_all([("nosuch", None), ("checkout", None)])
    assert (result.decision, result.watched, result.app) == ("error", None, "nosuch")
    assert "not found" in result.verdicts[0].detail and ok.decision == "ok"


async def test_the_long_running_guard_keeps_guarding_the_others(silent_endpoint: str) -> None:
    service = build_demo_service()
    sim(service, "search").endpoints = endpoints_of(MALFORMED)
    guard = Guard(service, GuardSettings(interval=0.05, evaluation_timeout=1.5))
    await guard.arm("checkout")
    stop = asyncio.Event()
    seen: dict[str, list[str]] = {}

    def on_result(result: object) -> None:
        from turnout.backend.guard import Evaluation

        assert isinstance(result, Evaluation)
        seen.setdefault(result.app, []).append(result.decision)
        if result.app == "checkout" and len(seen["checkout"]) == 3:
            sim(service, "checkout").weights = Weights(blue=90, green=10)
            sim(service, "checkout").slots["green"].faulty = True
            tick(service, 10)
        if result.decision == "rollback":
            stop.set()

    await asyncio.wait_for(guard.run([], None, stop, on_result), 60)
    assert seen["checkout"][-1] == "rollback" and set(seen["search"]) == {"error"}
