"""The operator's verbs decide in the service whether they steer a deploy in flight, so every
front end gets the same answer (the CLI and the TUI only call these)."""

from __future__ import annotations

import pytest

from tests.release.conftest import Demo, flow_of
from tests.release.test_steer_demo import crashed_at
from turnout.backend.errors import InvalidInput
from turnout.backend.models import ActionResult, Weights
from turnout.backend.release.model import Steered
from turnout.backend.service import confirmation


async def test_abort_previews_dry_runs_then_stops_the_deploy(demo: Demo) -> None:
    await crashed_at(demo, "analyse", 10)
    preview = await demo.service.preview("abort", "checkout")
    assert preview.message == "abort the deploy of 1.5.0 to checkout and restore blue"
    assert confirmation(preview, "demo").startswith("abort the deploy of 1.5.0 to checkout")
    dry = await demo.service.abort("checkout", dry_run=True)
    assert isinstance(dry, Steered) and dry.dry_run and dry.release is None
    assert await flow_of(demo) is not None  # a dry run wrote nothing
    done = await demo.service.abort("checkout")
    assert isinstance(done, Steered) and done.release is not None
    assert (done.release.outcome, done.exit_code) == ("aborted", 0)
    assert await flow_of(demo) is None
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=100, green=0)


async def test_what_a_deploy_in_flight_forbids_is_refused_before_anything_is_written(
        demo: Demo) -> None:
    await crashed_at(demo, "analyse", 50)
    with pytest.raises(InvalidInput, match="in flight"):
        await demo.service.promote("checkout", full=True)
    with pytest.raises(InvalidInput, match="--back"):
        await demo.service.resume("checkout", back=True)
    assert (await demo.service.app("checkout")).traffic.weights == Weights(blue=50, green=50)


async def test_without_a_deploy_the_verbs_move_traffic_as_before(demo: Demo) -> None:
    result = await demo.service.abort("search")
    assert isinstance(result, ActionResult) and result.after.weights == Weights(blue=100, green=0)
    with pytest.raises(InvalidInput, match="needs a Kubernetes cluster"):
        await demo.service.resume("search")  # the demo keeps no intent journal


async def test_panic_stops_the_deploy_and_turns_the_apps_flags_off(demo: Demo) -> None:
    await crashed_at(demo, "analyse", 10)
    assert demo.service.flags is not None
    linked = {f.key for f in await demo.service.flags.linked("checkout")}
    preview, shown = await demo.service.panic_preview("checkout")
    assert set(shown) == linked and preview.message.startswith("abort the deploy")
    outcome, killed = await demo.service.panic("checkout")
    assert isinstance(outcome, Steered) and outcome.release is not None
    assert set(killed) == linked and not await demo.service.flags.linked("checkout")
    assert [e.action for e in demo.service.audit.tail()][-len(linked):] == ["flag-off"] * len(linked)
