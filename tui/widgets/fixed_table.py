"""A DataTable whose columns all have fixed widths: new rows are not measured."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets._data_table import CellKey, RowKey


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
        """`DataTable.update_cell`, measuring the new value only for an auto-width column.

        DataTable keys its row order and line offsets on a counter every cell update bumps,
        so one changed cell made the next paint rebuild both for every row (10 000 pods: most
        of a frame under churn). A cell's value changes neither: they are carried over."""
        column = self.columns.get(column_key)
        before, rows = self._update_count, self.row_count
        super().update_cell(row_key, column_key,
                            value, update_width=update_width and bool(column and column.auto_width))
        if self._require_update_dimensions:
            return  # a row's height may change: let DataTable recompute
        offsets = self._offset_cache.get(before)
        if offsets is not None:
            self._offset_cache[self._update_count] = offsets
        ordered = self._ordered_row_cache.get((rows, before))
        if ordered is not None:
            self._ordered_row_cache[(rows, self._update_count)] = ordered

    def remove_rows(self, keys: Iterable[RowKey | str]) -> None:
        """Remove many rows at once. `DataTable.remove_row` renumbers every row left, so
        removing half of 10 000 pod rows one by one (a scale-down) was quadratic; here the
        rows left are renumbered once."""
        gone = {RowKey(k) if isinstance(k, str) else k for k in keys} & self.rows.keys()
        if len(gone) <= 1:
            for key in gone:
                self.remove_row(key)
            return
        # Mirrors DataTable.remove_row (pinned Textual) for a set of rows.
        self._require_update_dimensions = True
        self.check_idle()
        left = sorted((index, key) for key in self._row_locations
                      if key not in gone and (index := self._row_locations.get(key)) is not None)
        self._row_locations = TwoWayDict({key: i for i, (_, key) in enumerate(left)})
        for key in gone:
            for column_key in self._data.get(key, {}):
                self._updated_cells.discard(CellKey(key, column_key))
            del self.rows[key]
            del self._data[key]
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)
