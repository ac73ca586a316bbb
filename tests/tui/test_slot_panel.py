"""The pod table redraws nothing while nothing shown would change, and every age on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from turnout.backend.models import Pod, Slot
from turnout.themes import THEMES
from turnout.tui.widgets import slot_panel
from turnout.tui.widgets.slot_panel import SlotPanel
from turnout.tui.widgets.table_sync import sync_rows

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


async def test_ages_turn_over_on_time_and_a_changed_pod_shows_at_once(monkeypatch: Any) -> None:
    synced: list[Any] = []  # every redraw: of all rows, or of the changed ones only
    update = slot_panel.update_rows

    def counting(*args: Any) -> Any:  # the real sync, counted
        synced.append(args)
        return sync_rows(*args)

    def counting_update(*args: Any) -> None:
        synced.append(args)
        update(*args)

    monkeypatch.setattr(slot_panel, "sync_rows", counting)
    monkeypatch.setattr(slot_panel, "update_rows", counting_update)
    old = Pod(name="a", color="blue", phase="Running", ready=True, started_at=START - timedelta(hours=2))
    young = Pod(name="b", color="blue", phase="Running", ready=True, started_at=START - timedelta(seconds=50))
    app = _One()
    async with app.run_test() as pilot:
        panel = app.query_one(SlotPanel)

        def show(slot: Slot, seconds: float) -> None:
            panel.show(slot, live=True, weight=100, now=START + timedelta(seconds=seconds), palette={})

        show(_slot(old, young), 0)
        await pilot.pause()
        assert _ages(app) == ["2h", "50s"] and len(synced) == 1
        show(_slot(old, young), 0.6)  # equal pods, every age reads the same: no work at all
        assert len(synced) == 1
        show(_slot(old, young), 9.5)  # the young pod's age turned over
        await pilot.pause()
        assert _ages(app) == ["2h", "59s"] and len(synced) == 2
        show(_slot(old, young), 10.2)
        await pilot.pause()
        assert _ages(app) == ["2h", "1m"]
        crashed = msgspec.structs.replace(young, ready=False, waiting_reason="CrashLoopBackOff")
        show(_slot(old, crashed), 10.3)  # a changed pod shows before any age turns over
        await pilot.pause()
        table = app.query_one(DataTable)
        assert str(table.get_row_at(1)[0]) == "CrashLoop" and str(table.get_row_at(1)[1]) == "✖ no"


async def test_a_refresh_in_which_few_pods_changed_redraws_those_rows_only(
        monkeypatch: Any) -> None:
    synced, updated = [], []

    def counting(*args: Any) -> Any:  # the real sync and update, counted
        synced.append(args)
        return sync_rows(*args)

    def counting_update(table: Any, changed: Any, shown: Any) -> None:
        updated.append(sorted(changed))
        slot_panel_update(table, changed, shown)

    slot_panel_update = slot_panel.update_rows
    monkeypatch.setattr(slot_panel, "sync_rows", counting)
    monkeypatch.setattr(slot_panel, "update_rows", counting_update)
    pods = tuple(Pod(name=f"p{i:02d}", color="blue", phase="Running", ready=True,
                     started_at=START - timedelta(hours=2)) for i in range(20))
    app = _One()
    async with app.run_test() as pilot:
        panel = app.query_one(SlotPanel)

        def show(*shown: Pod) -> None:
            panel.show(_slot(*shown), live=True, weight=100, now=START, palette={})

        show(*pods)
        await pilot.pause()
        assert len(synced) == 1
        pending = msgspec.structs.replace(pods[7], phase="Pending", ready=False)
        show(*pods[:7], pending, *pods[8:])
        await pilot.pause()
        table = app.query_one(DataTable)
        assert len(synced) == 1 and updated == [["p07"]]
        assert str(table.get_row_at(7)[0]) == "Pending" and str(table.get_row_at(6)[0]) == "Running"
        show(*pods[:7], pending, *pods[9:])  # a pod gone: every row is synced
        await pilot.pause()
        assert len(synced) == 2 and table.row_count == 19
        assert str(table.get_row_at(8)[1]) == str(table.get_row_at(0)[1])


async def test_an_age_out_of_view_is_right_once_scrolled_into_view() -> None:
    young = tuple(Pod(name=f"p{i:02d}", color="blue", phase="Running", ready=True,
                      started_at=START - timedelta(seconds=10)) for i in range(60))
    app = _One()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = app.query_one(SlotPanel)

        def show(seconds: float) -> None:
            panel.show(_slot(*young), live=True, weight=100,
                       now=START + timedelta(seconds=seconds), palette={})

        show(0)
        await pilot.pause()
        table = app.query_one(DataTable)
        assert table.size.height < 60 and _ages(app)[0] == _ages(app)[59] == "10s"
        show(5)  # every age turned over; the first rows are on screen
        await pilot.pause()
        assert _ages(app)[0] == "15s"
        table.scroll_end(animate=False)
        await pilot.pause()
        assert _ages(app)[59] == "15s"
        show(7)  # the last rows are on screen now, the first ones out of view
        table.scroll_home(animate=False)
        await pilot.pause()
        assert _ages(app)[0] == _ages(app)[59] == "17s"
