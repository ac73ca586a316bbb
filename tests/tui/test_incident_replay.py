"""The incident replay screen: the guard's recording played back on the app screen's widgets,
its time cursor driven by keys and by ticks the test gives it (never by the wall clock)."""

from __future__ import annotations

from tests.guard.test_guard_demo import FAST
from tests.guard.test_incident_recording import _drill
from tests.tui.conftest import FROZEN, eventually
from turnout.backend.config import Config
from turnout.backend.demo import build_demo_service
from turnout.backend.guard import Guard
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.incident import IncidentScreen
from turnout.tui.widgets.chart_panel import ChartPanel
from turnout.tui.widgets.slot_panel import SlotPanel


async def _replayed() -> tuple[TurnoutApp, int]:
    service = build_demo_service(tick_seconds=FROZEN)
    await _drill(service, Guard(service, FAST), calm_after=3)
    [record] = await service.incident_records()
    app = TurnoutApp(service, Config(), live=False)
    app.animation_level = "none"
    return app, len(record.recording.frames)


def _green(screen: IncidentScreen) -> str:
    return str(screen.query_one("#slot-green", SlotPanel).border_title)


async def test_the_cursor_moves_by_keys_and_ticks_over_the_app_screens_widgets() -> None:
    app, frames = await _replayed()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(AppScreen("search", "search"))
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen)
                                and app.screen.selected is not None)
        await pilot.press("I")
        assert await eventually(pilot, lambda: isinstance(app.screen, IncidentScreen)
                                               and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        await pilot.pause()
        assert (screen.index, screen.playing, screen.speed) == (0, False, 1)
        assert _green(screen) == "green · idle · 10%"  # the canary before the drill
        assert "decided ok" in str(screen.query_one("#verdicts").render())

        await pilot.press("right", "right")
        assert screen.index == 2
        assert len(screen.query_one("#chart-errors", ChartPanel).series["green"]) == 3
        await pilot.press("left")
        assert screen.index == 1

        await pilot.press("n")  # the next mark: the first bad measurement, detected, rollback
        detected = screen.index
        assert screen.at(detected) >= screen.record.incident.first_bad_at
        assert "first bad measurement" in str(screen.query_one("#verdicts").render())
        await pilot.press("end")
        assert screen.index == frames - 1 and _green(screen) == "green · idle · 0%"
        await pilot.press("home")
        assert screen.index == 0

        await pilot.press("plus", "plus", "plus")
        assert screen.speed == 10
        screen.advance(0.5)  # half a real second at 10x: five recorded seconds
        assert screen.position == 5.0 and screen.index == 2  # frames every 2 s of demo time
        await pilot.press(*["plus"] * 5)
        assert screen.speed == 60
        await pilot.press(*["minus"] * 9)
        assert screen.speed == 1

        await pilot.press("space")
        assert screen.playing
        await pilot.press("space")
        assert not screen.playing
        screen.advance(10_000)  # played to the end: it stops there
        assert (screen.index, screen.playing) == (frames - 1, False)
        await pilot.press("escape")
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)


async def test_an_app_without_an_incident_says_so(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        app.push_screen(AppScreen("checkout", "shop"))
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen)
                                and app.screen.selected is not None)
        await pilot.press("I")
        # Its own notification, not any: another one would end the wait too soon.
        assert await eventually(pilot, lambda: any("No incident recording for shop/checkout" in str(n.message)
                                                   for n in app._notifications))
        assert not isinstance(app.screen, IncidentScreen)
