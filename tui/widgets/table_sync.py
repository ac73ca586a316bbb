"""Keep a DataTable equal to a keyed set of rows by changing only what changed."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from turnout.tui.widgets.fixed_table import FixedTable

Rows = Mapping[str, tuple[Text, ...]]


def sync_rows(table: DataTable[Text], rows: Rows, shown: Rows) -> dict[str, tuple[Text, ...]]:
    """Remove gone rows, add new ones, update changed cells; return what is now shown.

    Re-laying the whole table on every refresh costs seconds at thousands of rows and
    moves the operator's cursor; a keyed diff costs only the changed cells.
    """
    gone = [key for key in table.rows if key.value not in rows]
    if isinstance(table, FixedTable):
        table.remove_rows(gone)
    else:
        for key in gone:
            table.remove_row(key)
    columns = list(table.columns)
    for key, cells in rows.items():
        before = shown.get(key) if key in table.rows else None
        if before is None:
            table.add_row(*cells, key=key)
            continue
        if before is cells:  # callers cache unchanged rows: skip the cell-by-cell compare
            continue
        for column, old, new in zip(columns, before, cells, strict=True):
            if old is not new and old != new:
                table.update_cell(key, column, new, update_width=True)
    return dict(rows)


def update_rows(table: DataTable[Text], changed: Rows, shown: dict[str, tuple[Text, ...]]) -> None:
    """Update the cells of the `changed` rows (all already in the table) that differ from
    what `shown` has for them, and record them there: a refresh in which a few of thousands
    of rows changed costs those rows."""
    columns = list(table.columns)
    for key, cells in changed.items():
        before = shown[key]
        if before is cells:
            continue
        for column, old, new in zip(columns, before, cells, strict=True):
            if old is not new and old != new:
                table.update_cell(key, column, new, update_width=True)
        shown[key] = cells
