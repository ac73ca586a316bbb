"""Every key answers, and outside text stays text on every path to the screen: toasts, the
palette, any theme."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from textual.command import CommandPalette
from textual.widgets._toast import Toast

from tests.tui.conftest import eventually
from turnout.backend.config import Config, GuardSettings
from turnout.backend.demo import build_demo_service
from turnout.tui.app import TurnoutApp
from turnout.tui.commands import AppsProvider
from turnout.tui.messages import ActionFinished, RefreshFailed
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.flags import FlagsScreen

HOSTILE = "mallory [/] [@click=app.quit]x[/] \x1b]0;TITLE\x07end"
"""A Lease holder as an attacker spells it: an unbalanced close tag (a MarkupError if parsed),
a click action, and an escape sequence."""
SHOWN = "mallory [/] [@click=app.quit]x[/] end"


def toasts(app: TurnoutApp) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def _open_search(app: TurnoutApp, pilot) -> None:  # type: ignore[no-untyped-def]
    assert await eventually(pilot, lambda: bool(app.apps))
    await pilot.press("down", "enter")  # payments, search, shop
    assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)


async def test_every_toast_path_shows_outside_text_as_text(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _open_search(app, pilot)
        app.post_message(RefreshFailed(f"locked by {HOSTILE}", "Conflict"))
        app.post_message(ActionFinished(f"refused: {HOSTILE}", ok=False, title=HOSTILE))
        app.screen.notify(f"screen: {HOSTILE}")  # a screen's own toast (the flags screen's)
        app.screen.query_one("#traffic").notify(f"widget: {HOSTILE}", markup=True)
        assert await eventually(pilot, lambda: len(toasts(app)) >= 4)
        shown = "\n".join(toasts(app))
        assert app.is_running, "markup in a toast was parsed (MarkupError) or run (app.quit)"
        for prefix in ("locked by ", "refused: ", "screen: ", "widget: "):
            assert prefix + SHOWN in shown
        assert "\x1b" not in shown and "TITLE" not in shown


async def test_palette_entries_show_outside_names_as_text(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        assert await eventually(pilot, lambda: bool(app.apps))
        app.apps = tuple(msgspec.structs.replace(a, namespace=f"[@click=app.quit]{a.namespace}[/]")
                         for a in app.apps)
        provider = AppsProvider(app.screen)
        prompts = [str(hit.prompt) async for hit in provider.search("click")]
        found = [str(hit.prompt) async for hit in provider.discover()]
    assert "Open [@click=app.quit]search[/]/search" in prompts
    assert "Open [@click=app.quit]search[/]/search" in found


async def test_ctrl_p_opens_the_command_palette(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        assert await eventually(pilot, lambda: CommandPalette.is_open(app))


READ_ONLY_KEYS = ["s", "w", "P", "a", "b", "exclamation_mark", "x", "g", "D"]


@pytest.mark.parametrize("key", READ_ONLY_KEYS)
async def test_a_refused_release_key_says_read_only(make_app: Callable[..., TurnoutApp], key: str) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _open_search(app, pilot)
        await pilot.press(key)
        # The refusal's own toast, not any toast: another one would end the wait too soon.
        assert await eventually(pilot, lambda: any("Read-only mode: demo is only watched" in t
                                                   for t in toasts(app)))
        assert isinstance(app.screen, AppScreen), "a refused key opened something"
    assert app.service.audit.tail() == ()


@pytest.mark.parametrize("key", ["space", "right_square_bracket", "left_square_bracket"])
async def test_a_refused_flag_key_says_read_only(make_app: Callable[..., TurnoutApp], key: str) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("f")
        assert await eventually(pilot, lambda: isinstance(app.screen, FlagsScreen)
                                and app.screen.selected is not None)
        await pilot.press(key)
        assert await eventually(pilot, lambda: any("Read-only mode: flags cannot be changed" in t
                                                   for t in toasts(app)))
        assert isinstance(app.screen, FlagsScreen)


async def test_a_release_key_on_the_flags_screen_says_where_it_applies(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("f")
        assert await eventually(pilot, lambda: isinstance(app.screen, FlagsScreen)
                                and app.screen.selected is not None)
        await pilot.press("b")
        assert await eventually(pilot, lambda: any("Release keys act on an app" in t for t in toasts(app)))


async def test_a_fire_drill_under_an_armed_guard_does_not_ask_for_a_rollback() -> None:
    service = build_demo_service(tick_seconds=10_000)
    app = TurnoutApp(service, Config(guard=GuardSettings(interval=3600)), live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _open_search(app, pilot)
        await pilot.press("g")
        assert await eventually(pilot, lambda: any(a.guard == "armed" for a in app.apps
                                                   if a.name == "search"))
        await pilot.press("x")
        assert await eventually(pilot, lambda: any("now failing" in t for t in toasts(app)))
        drill = next(t for t in toasts(app) if "now failing" in t)
    assert "Roll back with b" not in drill
    assert "armed guard will roll it back" in drill


BUILT_IN = ["textual-dark", "textual-light", "nord", "ansi-dark"]


@pytest.mark.parametrize("theme", BUILT_IN)
async def test_a_textual_theme_opens_every_screen(make_app: Callable[..., TurnoutApp], theme: str) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.theme = theme
        await _open_search(app, pilot)
        assert await eventually(pilot, lambda: "search/search" in str(
            app.screen.query_one("#traffic").render()))
        for keys, opened in ((("enter",), "PodScreen"), (("escape", "h"), "HistoryScreen"),
                             (("escape", "b"), "RollbackScreen"), (("enter",), "ConfirmScreen"),
                             (("escape", "w"), "WeightScreen"),
                             (("escape", "D"), "DeployScreen"), (("escape", "question_mark"), "HelpScreen"),
                             (("escape", "escape", "f"), "FlagsScreen"), (("space",), "ConfirmScreen")):
            for key in keys:
                below = app.screen
                await pilot.press(key)
                if key == "escape":  # the next key is for the screen below, once it is on top
                    assert await eventually(pilot, lambda b=below: app.screen is not b)
                await pilot.pause()
            assert await eventually(pilot, lambda o=opened: type(app.screen).__name__ == o
                                    and app.screen.is_mounted), opened
            await pilot.pause(0.2)  # the screen's first read lands and is drawn in this theme
            assert app.is_running
        assert app.theme == theme


async def test_the_palettes_themes_are_turnouts_and_textuals(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True):
        names = set(app.available_themes)
    assert {"turnout-dark", "turnout-light", "turnout-high-contrast", "turnout-ansi"} <= names
    assert {"textual-dark", "textual-light", "nord", "dracula"} <= names

