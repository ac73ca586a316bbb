"""The flags screen: toggling and staging are confirmed writes; explain shows the bucket."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from tests.tui.conftest import eventually, on_top
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.explain import ExplainScreen
from turnout.tui.screens.flags import FlagsScreen


async def _flags(app: TurnoutApp) -> dict[str, bool]:
    assert app.service.flags is not None
    return {f.key: f.on for f in await app.service.flags.list()}


async def _flags_screen(pilot) -> None:  # type: ignore[no-untyped-def]
    """Open the flags screen and wait for its rows: keys sent before then move nothing."""
    await pilot.press("f")
    screen = await on_top(pilot, FlagsScreen)
    assert await eventually(pilot, lambda: screen.selected is not None)


async def test_kill_switch_is_confirmed_then_flips_the_flag(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _flags_screen(pilot)
        await pilot.press("down", "space")  # rows by key: dark-mode, new-checkout, ...
        await on_top(pilot, ConfirmScreen)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert (await _flags(app))["new-checkout"] is False


async def test_stage_moves_the_rollout_to_the_next_stage(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _flags_screen(pilot)
        await pilot.press("down", "right_square_bracket")
        await on_top(pilot, ConfirmScreen)  # the preview is read in a worker before it opens
        shown = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "25% of users change variant (25% off → on)" in shown
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    assert app.service.flags is not None
    flag = next(f for f in await app.service.flags.list() if f.key == "new-checkout")
    assert flag.rollout["on"] == 50 and flag.plan is not None and flag.plan.stage == 2


async def test_explain_shows_variant_reason_and_bucket(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _flags_screen(pilot)
        await pilot.press("down", "down", "down", "e")  # search-ranking is last
        await on_top(pilot, ExplainScreen)
        await pilot.press(*"alice", "enter")
        assert await eventually(pilot, lambda: "bucket" in str(
            app.screen.query_one("#answer", Static).render()))  # answered in a worker
        answer = str(app.screen.query_one("#answer", Static).render())
    assert "v3" in answer and "TARGETING_MATCH" in answer and "bucket" in answer
    assert "rule     cbor: flagd fractional v3" in answer


async def test_read_only_cannot_toggle(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _flags_screen(pilot)
        await pilot.press("down", "space")
        await pilot.pause()
        assert isinstance(app.screen, FlagsScreen)
    assert (await _flags(app))["new-checkout"] is True


async def test_panic_needs_the_name_then_aborts_and_kills_flags(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert await eventually(pilot, lambda: bool(app.apps))  # the rows, before keys move on them
        await pilot.press("down", "enter")
        await on_top(pilot, AppScreen)
        assert isinstance(app.screen, AppScreen) and app.screen.app_name == "search"
        await pilot.press("exclamation_mark")
        await on_top(pilot, ConfirmScreen)
        await pilot.click("#typed")
        assert await eventually(pilot, lambda: getattr(app.screen.focused, "id", "") == "typed")
        await pilot.press(*"search", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    traffic = (await app.service.app("search")).traffic
    assert traffic.weights.green == 0
    assert (await _flags(app))["search-ranking"] is False
