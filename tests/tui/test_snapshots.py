"""Snapshots of each screen, dark and ANSI, at 80x24 and 120x40, on the frozen demo."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from turnout.tui.app import TurnoutApp

SIZES = [(80, 24), (120, 40)]
THEMES = ["turnout-dark", "turnout-ansi"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestOverview:
    def test_overview(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                      size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), terminal_size=size)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestAppDetail:
    def test_app_detail(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                        size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), press=["down", "enter"], terminal_size=size)


class TestConfirm:
    def test_rollback_confirmation(self, snap_compare, make_app: Callable[..., TurnoutApp]) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(), press=["down", "enter", "b"], terminal_size=(80, 24))

    def test_read_only_banner(self, snap_compare, make_app: Callable[..., TurnoutApp]) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(read_only=True), terminal_size=(120, 40))


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestFlags:
    def test_flags(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                   size: tuple[int, int], theme: str) -> None:
        async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        assert snap_compare(make_app(theme=theme), press=["f"], run_before=settle,
                            terminal_size=size)


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestPod:
    def test_pod(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                 size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), press=["down", "enter", "enter"], run_before=_settle,
                            terminal_size=size)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
class TestHistory:
    def test_history(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                     size: tuple[int, int], theme: str) -> None:
        assert snap_compare(make_app(theme=theme), press=["down", "enter", "h"], run_before=_settle,
                            terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
class TestHelp:
    def test_help(self, snap_compare, make_app: Callable[..., TurnoutApp],  # type: ignore[no-untyped-def]
                  size: tuple[int, int]) -> None:
        assert snap_compare(make_app(), press=["down", "enter", "question_mark"], terminal_size=size)
