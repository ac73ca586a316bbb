"""The deploy flow end to end on the demo: promoted, rolled back, failed; what it records."""

from __future__ import annotations

import pytest

from tests.release.conftest import Demo, flow_of, request
from turnout.backend.demo import build_demo_service
from turnout.backend.errors import InvalidInput, ReadOnly
from turnout.backend.gate import WriteGate
from turnout.backend.models import Weights
from turnout.backend.release import EXIT_CODES, DeployConsole


async def test_a_good_canary_is_promoted_and_the_old_color_kept_warm(demo: Demo) -> None:
    release = await demo.console().deploy(request(steps=(10, 50, 100)))
    app = await demo.service.app("checkout")
    assert (release.outcome, EXIT_CODES[release.outcome]) == ("promoted", 0)
    assert (app.traffic.live, app.traffic.weights) == ("green", Weights(blue=0, green=100))
    assert (app.green.version, app.green.desired, app.blue.desired) == ("1.5.0", 3, 1)
    assert (release.from_color, release.to_color, release.previous_version) == ("blue", "green", "1.4.2")
    assert release.exposed_at is not None and release.restored_at is None and not release.reason
    assert await flow_of(demo) is None
    assert demo.said[:4] == ["[1/10] deploy into the idle color", "[2/10] wait until ready",
                             "[3/10] check the preview color", "[4/10] shift 10 %"]


async def test_the_release_is_recorded_in_the_history(demo: Demo) -> None:
    console = demo.console()
    before = await console.history(None, "checkout")
    release = await console.deploy(request())
    after = await console.history(None, "checkout")
    assert after[-1] == release and len(after) == len(before) + 1
    assert {r.app for r in await console.history("shop")} == {"checkout"}


async def test_each_canary_step_is_analysed_for_the_whole_window(demo: Demo) -> None:
    start = demo.service.clock()
    release = await demo.console().deploy(request(steps=(10, 50, 100), analysis=30.0, monitor=5.0))
    # two steps of 30 s, a 5 s monitor and the rollout: well over a minute of demo time
    assert (release.finished_at - start).total_seconds() >= 65


async def test_a_crash_looping_version_is_rolled_back_with_its_verdicts(demo: Demo) -> None:
    release = await demo.console().deploy(request("registry.demo/checkout:1.5.0-bad"))
    app = await demo.service.app("checkout")
    assert (release.outcome, EXIT_CODES[release.outcome]) == ("rolled-back", 20)
    assert (app.traffic.live, app.traffic.weights) == ("blue", Weights(blue=100, green=0))
    assert app.green.desired == 3  # the idle color back at its replicas before the deploy
    failing = [v for v in release.verdicts if v.outcome == "fail"]
    assert failing and all(v.color == "green" and v.value is not None for v in failing)
    assert any(v.detail in release.reason for v in failing)
    assert release.restored_at is not None


async def test_errors_on_the_canary_roll_back_at_that_step(demo: Demo) -> None:
    async def errors_at_half(seconds: float) -> None:
        await demo.tick(seconds)
        sim = demo.cluster.world.apps[("shop", "checkout")]
        sim.slots["green"].faulty = sim.weights.green == 50  # 35 % errors, no crash loop

    console = demo.console()
    console.sleep = errors_at_half
    release = await console.deploy(request(steps=(10, 50, 100)))
    [failing] = [v for v in release.verdicts if v.outcome == "fail"]
    assert (release.outcome, release.stage) == ("rolled-back", "analyse at 50 %")
    assert failing.signal == "error-rate" and failing.value is not None
    assert failing.threshold is not None and failing.value > failing.threshold
    assert release.detected_at is not None and release.restored_at is not None
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=100, green=0)


async def test_instant_switches_the_service_at_once(demo: Demo) -> None:
    release = await demo.console().deploy(request(strategy="instant"))
    assert release.outcome == "promoted" and release.steps == (100,)
    assert not any("shift" in line for line in demo.said)
    assert (await demo.service.app("checkout")).traffic.live == "green"


async def test_someone_switching_live_mid_flow_fails_it_and_restores(demo: Demo) -> None:
    async def meddle(seconds: float) -> None:
        await demo.tick(seconds)
        app = await demo.service.app("checkout")
        if app.traffic.canary_weight == 10:
            await demo.service.switch("checkout", "green")

    console = demo.console()
    console.sleep = meddle
    release = await console.deploy(request(steps=(10, 50, 100)))
    assert release.outcome == "failed" and "traffic changed by someone else" in release.reason
    assert (await demo.service.app("checkout")).traffic.live == "blue"


@pytest.mark.parametrize(("when", "revert", "stage"), [
    (lambda w: w.green == 50, "abort", "analyse at 50 %"),
    (lambda w: w.green == 100, "switch", "monitor")])
async def test_traffic_sent_back_by_the_guard_is_never_re_exposed(
        demo: Demo, when: object, revert: str, stage: str) -> None:
    async def guard_trips(seconds: float) -> None:
        await demo.tick(seconds)
        if when(demo.cluster.world.apps[("shop", "checkout")].weights):  # type: ignore[operator]
            if revert == "abort":
                await demo.service.abort_traffic("checkout")  # the guard: traffic only
            else:
                await demo.service.switch("checkout", "blue")

    console = demo.console()
    console.sleep = guard_trips
    release = await console.deploy(request(steps=(10, 50, 100)))
    assert (release.outcome, release.stage) == ("rolled-back", stage)
    assert "sent back to blue by someone else" in release.reason
    app = await demo.service.app("checkout")
    assert (app.traffic.live, app.traffic.weights.blue, app.blue.desired) == ("blue", 100, 3)


@pytest.mark.parametrize(("change", "message"), [
    ({"image": "registry.demo/checkout:1.4.2"}, "already live"),
    ({"image": "bad image"}, "expected a reference"),
    ({"app": "search"}, "mid-canary"),
])
async def test_deploy_refuses_what_cannot_start(demo: Demo, change: dict[str, str],
                                                message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        await demo.console().deploy(request(**change))
    assert await flow_of(demo) is None


async def test_read_only_refuses_before_any_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = build_demo_service(gate=WriteGate(read_only=True, why="test"),
                                 audit_path=tmp_path / "audit.jsonl")
    with pytest.raises(ReadOnly):
        await DeployConsole(service).deploy(request())
    assert (await service.app("checkout")).green.version == "1.4.1"


async def test_the_guards_triggers_join_the_analysis(demo: Demo) -> None:
    from turnout.backend.config import GuardSettings
    from turnout.backend.release.guard_link import guard_triggers

    triggers = guard_triggers(demo.service, GuardSettings())
    assert triggers
    good = await demo.console(triggers=triggers).deploy(request())
    assert good.outcome == "promoted"
    assert {"health", "error-rate", "restarts"} <= {v.signal for v in good.verdicts}
    assert len({v.signal for v in good.verdicts}) == len(good.verdicts)  # one verdict per signal
