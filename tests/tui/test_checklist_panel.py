"""The app screen's checklist panel (`k`) shows the items `turnout check` prints."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.tui.conftest import eventually, on_top
from tests.unit.test_cli import turnout
from turnout.backend.checklist import CheckItem, Checklist, lines
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.widgets.live_text import LiveText


def _cli_lines(app: str) -> tuple[str, list[str]]:
    """The CLI's checklist of `app` on the demo: its status and every non-passing item's line."""
    done = turnout("--demo", "check", app, "-o", "json")
    data = json.loads(done.stdout)
    items = tuple(CheckItem(**i) for i in data["items"] if i["status"] != "pass")
    found = Checklist(app=app, namespace=data["namespace"], context="demo", items=items)
    return data["status"], list(lines(found))


async def test_k_shows_the_same_items_as_the_cli(make_app: Callable[..., TurnoutApp]) -> None:
    status, expected = _cli_lines("checkout")
    assert status == "fail" and expected  # the demo's checkout has no PodDisruptionBudget
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        assert await eventually(pilot, lambda: bool(app.apps))  # the rows, before keys move on them
        await pilot.press("down", "down", "enter")  # payments, search, shop/checkout
        screen = await on_top(pilot, AppScreen)
        assert isinstance(screen, AppScreen) and screen.app_name == "checkout"
        panel = screen.query_one("#checklist", LiveText)
        assert not panel.display
        await pilot.press("k")

        def shown() -> str:
            content = panel.content
            return content.plain if hasattr(content, "plain") else str(content)
        assert await eventually(pilot, lambda: "checklist" in shown())
        assert panel.display
        text = shown()
        assert text.startswith(f"checklist {status}")
        assert [line for line in text.splitlines()[1:] if not line.startswith("✓ pass")] == expected
        await pilot.press("k")
        assert await eventually(pilot, lambda: not panel.display)
