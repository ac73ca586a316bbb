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


def _pods(app: App[None], count: int) -> FixedTable:
    """The app's table with one POD column and `count` rows `pod-NN`, keyed `pNN`."""
    table = app.query_one(FixedTable)
    table.add_column("POD", width=8, key="pod")
    for i in range(count):
        table.add_row(Text(f"pod-{i:02d}"), key=f"p{i}")
    return table


def _line(table: FixedTable, row: int) -> str:
    """The text the table paints for `row` (scrolled to the top)."""
    return table.render_line(table.header_height + row).text.strip()


async def test_many_rows_removed_at_once_leave_the_rest_in_order_and_painted() -> None:
    app = _One()
    async with app.run_test() as pilot:
        table = _pods(app, 40)
        table.move_cursor(row=39)
        await pilot.pause()
        table.remove_rows([f"p{i}" for i in range(0, 40, 2)] + ["not-there"])
        await pilot.pause()
        assert table.row_count == 20
        assert [str(table.get_row_at(i)[0]) for i in range(20)] == [
            f"pod-{i:02d}" for i in range(1, 40, 2)]
        assert _line(table, 0).startswith("pod-01") and _line(table, 19).startswith("pod-39")
        assert table.cursor_row == 19  # the cursor stays within the rows left
        assert table.virtual_size.height == 20 + table.header_height


async def test_a_cell_updated_after_a_paint_is_painted_with_its_new_value() -> None:
    app = _One()
    async with app.run_test() as pilot:
        table = _pods(app, 30)
        await pilot.pause()
        assert _line(table, 3).startswith("pod-03")
        table.update_cell("p3", "pod", Text("changed"))
        table.update_cell("p4", "pod", Text("too"))
        await pilot.pause()
        assert _line(table, 3).startswith("changed") and _line(table, 4).startswith("too")
        table.add_row(Text("last"), key="last")  # rows added after in-place updates
        table.remove_rows(["p0", "p1"])
        await pilot.pause()
        assert _line(table, 1).startswith("changed") and table.row_count == 29
        assert str(table.get_row_at(28)[0]) == "last"
