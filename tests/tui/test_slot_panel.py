"""The pod table redraws nothing while nothing shown would change, and every age on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from turnout.backend.models import Pod, Slot
from turnout.themes import THEMES
from turnout.tui.widgets.slot_panel import SlotPanel

START = datetime(2026, 1, 1, 9, tzinfo=UTC)


class _One(App[None]):
    def __init__(self) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "turnout-dark"

    def compose(self) -> ComposeResult:
        yield SlotPanel("blue")


def _slot(*pods: Pod) -> Slot:
    return Slot(color="blue", version="1", image="i:1", desired=len(pods), ready=len(pods),
                available=len(pods), pods=pods)


def _ages(app: _One) -> list[str]:
    table = app.query_one(DataTable)
    return [str(table.get_row_at(i)[3]) for i in range(table.row_count)]


async def test_ages_turn_over_on_time_and_a_changed_pod_shows_at_once() -> None:
    old = Pod(name="a", color="blue", phase="Running", ready=True, started_at=START - timedelta(hours=2))
    young = Pod(name="b", color="blue", phase="Running", ready=True, started_at=START - timedelta(seconds=50))
    app = _One()
    async with app.run_test() as pilot:
        panel = app.query_one(SlotPanel)

        def show(slot: Slot, seconds: float) -> None:
            panel.show(slot, live=True, weight=100, now=START + timedelta(seconds=seconds), palette={})

        show(_slot(old, young), 0)
        await pilot.pause()
        assert _ages(app) == ["2h", "50s"]
        show(_slot(old, young), 9.5)  # nothing shown changes
        await pilot.pause()
        assert _ages(app) == ["2h", "59s"]
        show(_slot(old, young), 10.2)
        await pilot.pause()
        assert _ages(app) == ["2h", "1m"]
        crashed = msgspec.structs.replace(young, ready=False, waiting_reason="CrashLoopBackOff")
        show(_slot(old, crashed), 10.3)
        await pilot.pause()
        table = app.query_one(DataTable)
        assert str(table.get_row_at(1)[0]) == "CrashLoopBackOff" and str(table.get_row_at(1)[1]) == "✖ no"
