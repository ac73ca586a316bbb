"""TUI fixtures: the app on a seeded, frozen demo (no clock ticks during a test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from turnout.backend.config import Config
from turnout.backend.demo import build_demo_service
from turnout.backend.gate import WriteGate
from turnout.tui.app import TurnoutApp

FROZEN = 10_000.0
"""A demo tick far longer than any test: the world does not move under a snapshot."""


@pytest.fixture
def make_app() -> Callable[..., TurnoutApp]:
    def build(*, read_only: bool = False, theme: str = "turnout-dark") -> TurnoutApp:
        service = build_demo_service(gate=WriteGate(read_only=read_only, why="test"),
                                     tick_seconds=FROZEN)
        app = TurnoutApp(service, Config(theme=theme), live=False)
        app.animation_level = "none"
        return app
    return build


async def on_top(pilot, kind: type, seconds: float = 30.0) -> Any:  # type: ignore[no-untyped-def]
    """Wait until a `kind` screen is on top and mounted, and return it: keys sent before
    then reach the screen below."""
    app = pilot.app
    assert await eventually(pilot, lambda: isinstance(app.screen, kind) and app.screen.is_mounted,
                            seconds), f"{kind.__name__} never on top ({type(app.screen).__name__} is)"
    return app.screen


async def eventually(pilot, check: Callable[[], bool], seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    """Let the app run until `check()` holds (True) or `seconds` pass (False): workers
    finish when the machine lets them, so a fixed pause would race a loaded CI box. A screen
    is checked with `is_mounted` too: pushed is not yet composed."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await pilot.pause(0.05)
    return check()
