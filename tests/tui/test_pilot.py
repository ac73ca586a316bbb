"""Keys in, backend effects out: what the operator's keystrokes actually change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.command import CommandList, CommandPalette

from tests.tui.conftest import eventually
from turnout.backend.config import Config
from turnout.backend.demo import build_demo_service
from turnout.backend.models import Weights
from turnout.backend.service import ReleaseService
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.deploy import DeployScreen
from turnout.tui.screens.rollback import RollbackScreen
from turnout.tui.screens.weight import WeightScreen


async def _open_search(app: TurnoutApp, pilot) -> None:  # type: ignore[no-untyped-def]
    # The overview's rows first (a worker reads them), or the keys find nothing to open.
    assert await eventually(pilot, lambda: bool(app.apps))
    await pilot.pause()
    await pilot.press("down", "enter")  # rows sorted by namespace: payments, search, shop
    assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)
    assert isinstance(app.screen, AppScreen) and app.screen.app_name == "search"


def _asking(app: TurnoutApp, screen: type) -> Callable[[], bool]:
    """`screen` is on top and mounted: keys sent before then reach the screen below."""
    return lambda: isinstance(app.screen, screen) and app.screen.is_mounted


def _live_demo(**config: Any) -> tuple[ReleaseService, TurnoutApp]:
    """A demo whose clock runs (a world second every 50 ms) under a live app."""
    service = build_demo_service(tick_seconds=0.05)
    return service, TurnoutApp(service, Config(**config))


async def _loaded(app: TurnoutApp, pilot) -> None:  # type: ignore[no-untyped-def]
    assert await eventually(pilot, lambda: bool(app.apps), seconds=60)
    await pilot.pause()  # the rows reach the table


async def test_step_confirmed_changes_the_weights(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("s")
        assert await eventually(pilot, _asking(app, ConfirmScreen))
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert (await app.service.app("search")).traffic.weights == Weights(blue=75, green=25)
    assert [e.action for e in app.service.audit.tail()] == ["step"]


async def test_cancel_changes_nothing(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("b")
        assert await eventually(pilot, lambda: isinstance(app.screen, RollbackScreen)
                                               and app.screen.is_mounted)
        await pilot.press("enter")  # the previous color
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        await pilot.press("enter")  # focus is on Cancel
        await app.workers.wait_for_complete()
    assert (await app.service.app("search")).traffic.weights == Weights(blue=90, green=10)
    assert app.service.audit.tail() == ()


async def test_rollback_needs_the_app_name_typed(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("b")
        assert await eventually(pilot, lambda: isinstance(app.screen, RollbackScreen)
                                               and app.screen.is_mounted)
        await pilot.press("enter")  # the first choice: the previous color
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        confirm = app.screen.query_one("#confirm")
        assert confirm.disabled
        await pilot.click("#typed")
        assert await eventually(pilot, lambda: getattr(app.screen.focused, "id", "") == "typed")
        await pilot.press(*"searc")
        assert confirm.disabled
        await pilot.press("h", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    traffic = (await app.service.app("search")).traffic
    assert (traffic.live, traffic.weights) == ("blue", Weights(blue=100, green=0))


async def test_read_only_offers_no_action(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        for key in ("s", "b", "a", "P", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, AppScreen)
        assert "READ-ONLY" in str(app.screen.query_one("#status").render())
    assert app.service.audit.tail() == ()


async def test_resize_during_a_confirmation_keeps_it(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("s")
        assert await eventually(pilot, _asking(app, ConfirmScreen))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    assert (await app.service.app("search")).traffic.weights == Weights(blue=75, green=25)


async def test_hostile_names_are_shown_as_text(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    world = app.service.cluster.world  # type: ignore[attr-defined]
    world.apps[("search", "search")].slots["green"].pods[0].name = "x\x1b]0;pwned\x07[@click=app.quit]"
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        table = app.screen.query_one("#pods-green")
        names = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert any(name.endswith("[@click=app.quit]") for name in names)  # the name's distinct end
        assert app.is_running


async def test_set_weight_asks_a_percent_then_confirms(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("w")
        assert await eventually(pilot, _asking(app, WeightScreen))
        await pilot.press("1", "5", "0", "enter")  # out of range: refused, nothing asked
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("backspace", "backspace", "backspace", "4", "0", "enter")
        assert await eventually(pilot, _asking(app, ConfirmScreen))
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    assert (await app.service.app("search")).traffic.weights == Weights(blue=60, green=40)


async def test_palette_jumps_to_an_app(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("colon")
        assert await eventually(pilot, lambda: CommandPalette.is_open(app) and app.screen.is_mounted)
        await pilot.press(*"open payments")
        assert await eventually(pilot, lambda: "payments" in str(
            getattr(app.screen.query(CommandList).first().highlighted_option, "prompt", "")))
        await pilot.press("enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)
        assert isinstance(app.screen, AppScreen) and app.screen.app_name == "payments"


async def test_the_chosen_theme_persists(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("T")
        await pilot.pause()
        chosen = app.theme
    assert chosen != "turnout-dark"
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.theme == chosen


async def test_an_api_outage_shows_stale_then_recovers_without_exiting() -> None:
    service, app = _live_demo(refresh_seconds=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await eventually(pilot, lambda: app.connection.startswith("● live"), seconds=60)
        # The outage lasts until the app has been seen stale: one of a fixed second can pass
        # between two refreshes of a loaded machine, unseen.
        service.cluster.outage(3600)  # type: ignore[attr-defined]
        assert await eventually(pilot, lambda: "stale since" in app.connection, seconds=60)
        assert "Unavailable" in app.connection and app.is_running
        service.cluster.outage(0)  # type: ignore[attr-defined]
        assert await eventually(pilot, lambda: app.connection.startswith("● live"), seconds=60)
        assert app.is_running


async def test_help_lists_the_apps_own_keys_readable_and_grouped(
        make_app: Callable[..., TurnoutApp]) -> None:
    from turnout.tui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert await eventually(pilot, _asking(app, HelpScreen))
        text = str(app.screen.query_one("#keys").render())
        assert "Rollback" in text and "Flags" in text
        lines = text.splitlines()
        assert lines[0] == "release", "the app's own keys come first, not a table's cursor keys"
        assert lines.index("release") < lines.index("flags") < lines.index("view")
        assert any(line.split()[:2] == ["!", "Panic"] for line in lines)
        assert any(line.split()[:2] == ["?", "Help"] for line in lines)
        assert "question_mark" not in text and "exclamation_mark" not in text
        assert "colon" not in text and "Cursor" not in text
        await pilot.press("escape")
        assert await eventually(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_user_keymap_rebinds_an_action() -> None:
    app = TurnoutApp(build_demo_service(tick_seconds=10_000), Config(keymap={"rollback": "ctrl+r"}),
                     live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+r")
        assert await eventually(pilot, lambda: isinstance(app.screen, RollbackScreen)
                                               and app.screen.is_mounted)


async def test_armed_demo_guard_rolls_back_a_fire_drill_and_shows_the_clock() -> None:
    from turnout.backend.config import GuardSettings

    service, app = _live_demo(refresh_seconds=0.2, guard=GuardSettings(interval=0.1))
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await _open_search(app, pilot)
        await pilot.press("g")
        for _ in range(1200):  # 60 s: a loaded machine runs the demo late
            if (await service.app("search")).guard == "armed":
                break
            await pilot.pause(0.05)
        await pilot.press("x")
        for _ in range(1200):  # 60 s: a loaded machine runs the demo late
            if (await service.app("search")).traffic.canary_weight == 0:
                break
            await pilot.pause(0.05)
        assert (await service.app("search")).traffic.canary_weight == 0
        assert (await service.app("search")).guard == "tripped"
        app.screen.load_audit()  # type: ignore[attr-defined]
        await eventually(pilot, lambda: "incident" in str(app.screen.query_one("#verdicts").render()))
        shown = str(app.screen.query_one("#verdicts").render())
        assert "incident" in shown and "traffic restored" in shown
        assert "guard tripped · checked" in shown  # the report the guard published


async def test_history_shows_releases_and_delivery_figures(make_app: Callable[..., TurnoutApp]) -> None:
    from textual.widgets import Static

    from turnout.tui.screens.history import HistoryScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("h")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        figures = str(app.screen.query_one("#figures", Static).render())
        releases = str(app.screen.query_one("#releases", Static).render())
        flow = str(app.screen.query_one("#flow", Static).render())
    assert "releases" in figures and "change failure rate" in figures
    assert "search" in releases and ("promoted" in releases or "rolled-back" in releases)
    assert "No deploy in flight" in flow


async def test_deploy_plans_confirms_and_runs_the_flow_on_the_demo() -> None:
    from textual.widgets import Static

    from turnout.backend.release import DeployConsole

    service, app = _live_demo(refresh_seconds=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("down", "down", "enter")  # checkout (namespace shop sorts last)
        assert await eventually(pilot, _asking(app, AppScreen))
        await pilot.press("D")
        assert await eventually(pilot, _asking(app, DeployScreen))
        await pilot.press(*"registry.demo/checkout:1.5.0", "enter")
        for _ in range(1200):  # 60 s: a loaded machine runs the demo late
            if isinstance(app.screen, ConfirmScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        flow = None
        for _ in range(1200):  # 60 s: a loaded machine runs the demo late
            flow = await DeployConsole(service).flow("checkout")
            if flow is not None and (await service.app("checkout")).green.version == "1.5.0":
                break
            await pilot.pause(0.05)
        assert flow is not None and flow.version == "1.5.0"
        await pilot.press("h")
        assert await eventually(pilot, lambda: any(
            "Deploy in flight" in str(flow.render()) for flow in app.screen.query("#flow").results(Static)))

        def shown() -> str:
            return str(app.screen.query_one("#flow", Static).render())

        first = shown()
        assert await eventually(pilot, lambda: shown() != first, seconds=60), \
            "the history screen did not follow the deploy in flight"


async def test_app_detail_shows_the_clusters_events_with_warnings_marked() -> None:
    service, app = _live_demo(refresh_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await _open_search(app, pilot)
        assert "events" not in str(app.screen.query_one("#verdicts").render())  # a quiet cluster
        await pilot.press("x")  # the demo's fire drill: the canary's pods start crash-looping
        shown = ""
        for _ in range(1200):  # 60 s: a loaded machine runs the demo late
            shown = str(app.screen.query_one("#verdicts").render())
            if "BackOff" in shown:
                break
            await pilot.pause(0.05)
        assert "⚠ BackOff Pod/search-green-" in shown
        assert (await service.events("search", "search"))[-1].reason == "BackOff"


async def test_enter_on_a_pod_row_describes_that_pod_and_escape_returns(
        make_app: Callable[..., TurnoutApp]) -> None:
    from turnout.tui.screens.pod import PodScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        second_blue = (await app.service.app("search")).blue.pods[1].name
        await pilot.press("down", "enter")  # the blue table has the focus: its second pod
        assert await eventually(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.is_mounted)
        assert await eventually(pilot, lambda: "Labels:" in str(app.screen.query_one("#pod").render()))
        shown = str(app.screen.query_one("#pod").render())
        assert f"Name:        {second_blue}" in shown and "turnout.dev/color=blue" in shown
        assert "Logs of search:" in shown and "GET /api/items" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, AppScreen) and app.screen.app_name == "search"


async def test_a_pod_read_slower_than_the_refresh_still_lands(
        make_app: Callable[..., TurnoutApp], monkeypatch: Any) -> None:
    from turnout.tui.screens import pod as pod_screen

    monkeypatch.setattr(pod_screen, "REFRESH_SECONDS", 0.2)
    app = make_app()
    real = app.service.pod
    calls = []

    async def slow(*args: Any, **kwargs: Any) -> Any:  # a kubelet that takes its time
        calls.append(args)
        await asyncio.sleep(0.5)
        return await real(*args, **kwargs)

    monkeypatch.setattr(app.service, "pod", slow)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_search(app, pilot)
        await pilot.press("enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, pod_screen.PodScreen))
        assert await eventually(pilot, lambda: "Labels:" in str(app.screen.query_one("#pod").render()))
        await pilot.press("r")
        await pilot.pause(1.5)
        assert len(calls) <= 5  # one read at a time: neither a storm nor a stall
