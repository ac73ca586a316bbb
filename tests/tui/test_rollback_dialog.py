"""The rollback dialog offers the history's versions; picking one no color runs deploys it
through the release flow (the same `preview`/`apply` the CLI's `rollback --to` makes)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import OptionList

from tests.tui.conftest import eventually
from turnout.backend.demo.cluster import DemoCluster
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.rollback import RollbackScreen


def _fast_flow(app: TurnoutApp) -> None:
    """The flow's waits tick the demo world at once instead of sleeping."""
    cluster = app.service.cluster
    assert isinstance(cluster, DemoCluster)

    async def tick(seconds: float) -> None:
        cluster.world.tick(seconds)

    app.service.pace = tick


async def _rollback_dialog(app: TurnoutApp, pilot) -> RollbackScreen:  # type: ignore[no-untyped-def]
    app.push_screen(AppScreen("checkout", "shop"))
    assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen)
                            and app.screen.selected is not None)
    await pilot.press("b")
    # Pushed is not yet composed: wait for its list, not only for the screen.
    assert await eventually(pilot, lambda: isinstance(app.screen, RollbackScreen)
                            and bool(app.screen.query("#versions")))
    assert isinstance(app.screen, RollbackScreen)
    return app.screen


async def test_the_dialog_lists_the_history_and_a_pick_deploys_it(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    _fast_flow(app)
    history = await app.service.history("shop", "checkout")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        dialog = await _rollback_dialog(app, pilot)
        options = dialog.query_one("#versions", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids[0] == "previous"
        assert {f"v:{r.version}" for r in history} <= set(ids)
        chosen = ids.index("v:1.3.9")
        options.highlighted = chosen
        await pilot.press("enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        shown = "\n".join(str(line) for line in app.screen.request.lines)  # type: ignore[attr-defined]
        assert "roll back checkout to 1.3.9: deploy registry.demo/checkout:1.3.9 into green" in shown
        await pilot.click("#typed")
        assert await eventually(pilot, lambda: getattr(app.screen.focused, "id", "") == "typed")
        await pilot.press(*"checkout", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    checkout = await app.service.app("checkout")
    assert (checkout.traffic.live, checkout.green.version) == ("green", "1.3.9")
    assert (await app.service.history("shop", "checkout"))[-1].version == "1.3.9"


async def test_escape_changes_nothing(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    before = (await app.service.app("checkout")).traffic
    async with app.run_test(size=(120, 40)) as pilot:
        await _rollback_dialog(app, pilot)
        await pilot.press("escape")
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)
    assert (await app.service.app("checkout")).traffic == before
