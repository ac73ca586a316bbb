"""Snapshots of each screen, dark and ANSI, at 80x24 and 120x40, on the frozen demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from turnout.tui.app import TurnoutApp

SIZES = [(80, 24), (120, 40)]
THEMES = ["turnout-dark", "turnout-ansi"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestOverview:
    def test_overview(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                      size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), run_before=_with_footer, terminal_size=size)


async def _with_footer(pilot) -> None:  # type: ignore[no-untyped-def]
    """The overview settled: its footer is mounted just after the first frame (not in it)."""
    for _ in range(200):
        await pilot.pause()
        if pilot.app.screen.query("Footer"):
            return
    raise AssertionError("the overview's footer never mounted")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestAppDetail:
    def test_app_detail(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                        size: tuple[int, int], theme: str) -> None:
        opened = _then_settle("down", "enter", shows=("#traffic", "search/search"))  # not a blank crash
        assert snap_compare(make_app(theme=theme), run_before=opened, terminal_size=size)


class TestConfirm:
    def test_rollback_confirmation(self, snap_compare, make_app: Callable[..., TurnoutApp]) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(), press=["down", "enter", "b", "enter"],
                            terminal_size=(80, 24))

    def test_read_only_banner(self, snap_compare, make_app: Callable[..., TurnoutApp]) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(read_only=True), run_before=_with_footer,
                            terminal_size=(120, 40))


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestFlags:
    def test_flags(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                   size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), run_before=_then_settle("f"), terminal_size=size)


def _then_settle(*keys: str, shows: tuple[str, str] | None = None) -> Callable[..., Any]:
    """Press `keys`, then wait for the workers (and until widget `shows[0]` shows `shows[1]`):
    the snapshot's own `press` runs after `run_before`, too late to wait for what it opens."""
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(1200):  # the overview's rows first, or the keys find nothing to open
            if pilot.app.apps:
                break
            await pilot.pause(0.05)
        for key in keys:  # one at a time, as a person types: a screen opens between two keys
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
            await pilot.press(key)
        for _ in range(200):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            found = pilot.app.screen.query(shows[0]) if shows else None
            if shows is None or (found and shows[1] in str(found.first().render())):
                return
        raise AssertionError(f"{shows} never shown")
    return run


OPENED = {  # a screen reached from the search app: the keys, then what shows it has loaded
    "pod": (("down", "enter", "enter"), ("#pod", "Labels:")),
    "history": (("down", "enter", "h"), ("#figures", "Last 30 days")),
}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", sorted(OPENED))
class TestOpened:
    def test_opened(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                    size: tuple[int, int], theme: str, screen: str) -> None:
        keys, shows = OPENED[screen]
        opened = _then_settle(*keys, shows=shows)
        assert snap_compare(make_app(theme=theme), run_before=opened, terminal_size=size)


CONFIRMATIONS = {  # every question the operator is asked, at the design size
    "step": (("down", "enter", "s"), "ConfirmScreen"),
    "weight-prompt": (("down", "enter", "w"), "WeightScreen"),
    "weight": (("down", "enter", "w", "4", "0", "enter"), "ConfirmScreen"),
    "promote": (("down", "enter", "P"), "ConfirmScreen"),
    "abort": (("down", "enter", "a"), "ConfirmScreen"),
    "panic": (("down", "enter", "exclamation_mark"), "ConfirmScreen"),
    "deploy-prompt": (("down", "enter", "D"), "DeployScreen"),
    "flag-toggle": (("f", "space"), "ConfirmScreen"),
}


@pytest.mark.parametrize("question", sorted(CONFIRMATIONS))
class TestConfirmations:
    def test_confirmation(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                          question: str) -> None:
        keys, screen = CONFIRMATIONS[question]
        asked = _then_ask(*keys, screen=screen)
        assert snap_compare(make_app(), run_before=asked, terminal_size=(80, 24))


def _then_ask(*keys: str, screen: str) -> Callable[..., Any]:
    """Press `keys` one at a time (a screen opens between two), until `screen` asks."""
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(1200):  # 60 s: the rows come late on a loaded machine
            if pilot.app.apps:
                break
            await pilot.pause(0.05)
        for key in keys:
            await pilot.pause()
            await pilot.press(key)
        for _ in range(1200):  # 60 s
            await pilot.pause(0.05)
            if type(pilot.app.screen).__name__ == screen:
                for box in pilot.app.screen.query("Input"):
                    box.cursor_blink = False  # a blinking cursor would be caught either way
                await pilot.pause()
                return
        raise AssertionError(f"{screen} never asked")
    return run


@pytest.mark.parametrize("size", SIZES)
class TestHelp:
    def test_help(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                  size: tuple[int, int]) -> None:
        assert snap_compare(make_app(), press=["down", "enter", "question_mark"], terminal_size=size)
