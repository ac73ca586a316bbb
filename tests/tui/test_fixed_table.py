"""A table of fixed-width columns shows its rows without measuring their cells; a column
left to size itself is still widened by what it holds."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import _data_table

from turnout.tui.widgets.fixed_table import FixedTable


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield FixedTable(id="t")


async def test_fixed_columns_are_not_measured_and_auto_columns_are(monkeypatch: Any) -> None:
    measured: list[object] = []
    real = _data_table.measure

    def counting(console: Any, renderable: Any, default: int, **kw: Any) -> int:
        measured.append(renderable)
        return real(console, renderable, default, **kw)

    monkeypatch.setattr(_data_table, "measure", counting)
    app = _One()
    async with app.run_test() as pilot:
        table = app.query_one(FixedTable)
        table.add_column("POD", width=6, key="pod")
        measured.clear()  # the header's label is measured once, as in any table
        for i in range(50):
            table.add_row(Text(f"pod-{i:03d}-long-name"), key=f"p{i}")
        await pilot.pause()
        assert table.row_count == 50 and measured == []
        assert str(table.get_row_at(7)[0]) == "pod-007-long-name"
        assert table.virtual_size.height == 50 + table.header_height
        table.update_cell("p7", "pod", Text("renamed"), update_width=True)
        await pilot.pause()
        assert str(table.get_row_at(7)[0]) == "renamed" and measured == []

        table.add_column("NOTE", key="note")  # no width: sized by its cells
        table.add_row(Text("x"), Text("a rather long note"), key="q")
        await pilot.pause()
        assert measured and table.columns["note"].content_width >= len("a rather long note")
