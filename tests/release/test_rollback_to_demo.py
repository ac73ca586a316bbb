"""`rollback --to VERSION` on the demo: a version no color runs is deployed from the history
through the flow; a running one keeps the traffic switch; an unknown one changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.release.conftest import Demo, request
from turnout.backend.cli import main
from turnout.backend.errors import NotFound
from turnout.backend.models import ActionResult, App, Weights
from turnout.backend.release import DeployRequest
from turnout.backend.release.model import Steered
from turnout.backend.release.rollback import known_versions

FAST = DeployRequest(app="checkout", image="", analysis=4.0, monitor=2.0, interval=1.0,
                     steps=(50, 100))


async def released(demo: Demo, *versions: str) -> App:
    """checkout after deploying each version in turn (blue 1.4.2 live at the seed)."""
    demo.service.pace = demo.tick
    for version in versions:
        await demo.service.deploy(request(f"registry.demo/checkout:{version}", steps=(50, 100),
                                          analysis=4.0, monitor=2.0))
    return await demo.service.app("checkout")


async def test_a_version_no_color_runs_is_deployed_from_the_history(demo: Demo) -> None:
    app = await released(demo, "1.5.0", "1.6.0")
    assert (app.blue.version, app.green.version, app.traffic.live) == ("1.6.0", "1.5.0", "blue")
    preview = await demo.service.preview("rollback", "checkout", to_version="1.4.2", redeploy=FAST)
    assert preview.message.startswith("roll back checkout to 1.4.2: deploy "
                                      "registry.demo/checkout:1.4.2 into green (blue 1.6.0 -> green")
    outcome = await demo.service.apply("rollback", "checkout", to_version="1.4.2", redeploy=FAST,
                                       say=lambda flow, line: demo.said.append(line))
    assert isinstance(outcome, Steered) and outcome.release is not None
    assert (outcome.verb, outcome.release.outcome, outcome.exit_code) == ("rollback", "promoted", 0)
    assert outcome.release.reason == "" and outcome.release.image == "registry.demo/checkout:1.4.2"
    app = await demo.service.app("checkout")
    assert (app.traffic.live, app.traffic.weights, app.green.version) == (
        "green", Weights(blue=0, green=100), "1.4.2")
    assert any("analyse at 50 %" in line for line in demo.said)  # the flow's own checks ran
    history = await demo.service.history(None, "checkout")
    assert history[-1].version == "1.4.2" and history[-1].strategy == "canary"


async def test_a_bad_version_from_the_history_is_rolled_back_by_the_flow(demo: Demo) -> None:
    await released(demo, "1.5.0-bad", "1.5.0")
    outcome = await demo.service.apply("rollback", "checkout", to_version="1.5.0-bad", redeploy=FAST)
    assert isinstance(outcome, Steered) and outcome.release is not None
    assert (outcome.release.outcome, outcome.exit_code) == ("rolled-back", 20)
    app = await demo.service.app("checkout")
    assert (app.traffic.live, app.slot(app.traffic.live).version) == ("green", "1.5.0")


async def test_a_version_a_color_runs_keeps_the_traffic_switch(demo: Demo) -> None:
    await released(demo, "1.5.0", "1.6.0")
    before = len(await demo.service.history(None, "checkout"))
    outcome = await demo.service.apply("rollback", "checkout", to_version="1.5.0", redeploy=FAST)
    assert isinstance(outcome, ActionResult)
    assert (outcome.after.live, outcome.after.weights) == ("green", Weights(blue=0, green=100))
    assert len(await demo.service.history(None, "checkout")) == before  # no deploy ran


async def test_an_unknown_version_is_refused_with_the_known_ones(demo: Demo) -> None:
    before = await demo.service.app("checkout")
    history = await demo.service.history(None, "checkout")
    for call in (demo.service.preview, demo.service.apply):
        with pytest.raises(NotFound, match=r"no version '9\.9'.*known versions, newest first: "
                                           r"1\.4\.2, 1\.4\.1, "):
            await call("rollback", "checkout", to_version="9.9")
    with pytest.raises(NotFound):
        await demo.service.rollback("checkout", to_version="9.9")
    after = await demo.service.app("checkout")
    assert (after.traffic, after.blue.image, after.green.image) == (
        before.traffic, before.blue.image, before.green.image)
    assert await demo.service.history(None, "checkout") == history


async def test_known_versions_prefer_the_running_and_the_promoted_image(demo: Demo) -> None:
    app = await released(demo, "1.5.0")
    known = known_versions(app, await demo.service.history(None, "checkout"))
    assert list(known)[:3] == ["1.5.0", "1.4.2", "1.4.1"]
    assert known["1.5.0"] == app.green.image


def test_cli_rollback_to_an_unknown_version_exits_4_listing_the_known(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--demo", "rollback", "checkout", "--to", "9.9", "--yes"])
    err = capsys.readouterr().err
    assert code == 4 and "no version '9.9'" in err and "1.4.2, 1.4.1" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_rollback_to_a_version_from_the_history_runs_the_deploy(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--demo", "rollback", "checkout", "--to", "1.3.9", "--steps", "100",
                 "--analysis", "2s", "--interval", "1s", "--yes", "-o", "json"])
    captured = capsys.readouterr()
    release = json.loads(captured.out)
    assert (code, release["outcome"], release["version"], release["exit_code"]) == (
        0, "promoted", "1.3.9", 0)
    assert "deploy into the idle color" in captured.err
