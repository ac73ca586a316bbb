"""A DataTable whose columns all have fixed widths: new rows are not measured."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey


class FixedTable(DataTable[Text]):
    """`DataTable` that skips measuring the cells of new rows while every column has a fixed
    width and every row a fixed height.

    DataTable measures each cell of every added row to widen auto-width columns; a column
    given a width never reads that measure. At 5 000 pod rows the measuring (a terminal-size
    query per cell) was most of the time to open an app screen, and every churned pod paid
    it again.
    """

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Textual's private hook (pinned Textual): the virtual size is still computed by it,
        # only the per-cell measuring of rows that need none is left out.
        rows = list(new_rows)
        fixed = not self._labelled_row_exists and not any(
            column.auto_width for column in self.columns.values())
        if fixed and not any(
                (row := self.rows.get(key)) is not None and (row.auto_height or row.label)
                for key in rows):
            rows = []
        super()._update_dimensions(rows)

    def update_cell(self, row_key: RowKey | str, column_key: object, value: object, *,
                    update_width: bool = False) -> None:
        """`DataTable.update_cell`, measuring the new value only for an auto-width column."""
        column = self.columns.get(column_key)
        super().update_cell(row_key, column_key,
                            value, update_width=update_width and bool(column and column.auto_width))
