"""One results table for every list of the counter, driven by a column spec.

A screen describes its columns once (``Column``: key, French header, a fixed
width or a share of what the fixed columns leave, how to read a cell from a
row); ``ResultsTable`` lays them out for the terminal's width (80 columns at
least), shows rows as plain text (never markup: names and addresses are
external text, see ``plain``), keeps the cursor on a row the screen names, and
says which row is highlighted.

Widths: a fixed column is as wide as it says (never narrower than its
header); the others share the free width — the table's width less the fixed
columns, two cells of padding per column and one for the scroll bar: a
``share`` column gets that fraction of it (``minimum`` at least), a ``fit``
column as much as its longest cell needs (``minimum`` at least, its ``share``
at most), a ``rest`` column what the others leave (``minimum`` at least), or
is left out when that is below ``drop_below``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Generic, Literal, TypeVar

from rich.text import Text
from textual.widgets import DataTable

from counter.domain.text import MAX_SHOWN, shown

Row = TypeVar("Row")

# Two cells of padding per column (DataTable's cell_padding of 1 on each side), one for the scroll bar.
PADDING = 2
SCROLLBAR = 1


@dataclass(frozen=True)
class Column(Generic[Row]):
    key: str
    header: str
    cell: Callable[[Any], object]  # the row -> the cell's value, shown as plain text
    width: int | None = None  # fixed width
    share: float | Fraction | None = None  # a share of the free width (a cap for ``fit``)
    fit: bool = False  # as wide as the longest cell (``minimum`` to ``share`` of the free width)
    rest: bool = False  # what the other columns leave
    minimum: int = 8
    drop_below: int | None = None  # a ``rest`` column left out when narrower than this
    style: str | Callable[[Any], str] = ""  # Rich style of the cell ("bold"), or the row -> its style
    justify: Literal["left", "center", "right"] | None = None  # None: as Rich lays text out (left)
    limit: int = MAX_SHOWN  # characters kept of a long cell (cut with …, as ``shown`` does)

    def text(self, row) -> Text:
        """The cell of ``row``: plain text (``screens.widgets.plain``), never markup."""
        style = self.style(row) if callable(self.style) else self.style
        return Text(shown(self.cell(row), self.limit), style=style, no_wrap=True, overflow="ellipsis",
                    justify=self.justify)


def column_widths(columns: Sequence[Column], width: int, rows: Iterable = ()) -> dict[str, int]:
    """The width of each column shown in a table ``width`` cells wide (a dropped one is absent)."""
    fixed = {c.key: max(c.width, len(c.header)) for c in columns if c.width is not None}
    free = width - sum(fixed.values()) - PADDING * len(columns) - SCROLLBAR
    widths = dict(fixed)
    rows = list(rows)
    for column in columns:
        if column.width is not None or column.rest:
            continue
        if column.fit:
            longest = max((len(shown(column.cell(row))) for row in rows), default=0)
            cap = int(free * column.share) if column.share is not None else free
            widths[column.key] = min(max(longest, column.minimum), max(column.minimum, cap))
        else:
            widths[column.key] = max(column.minimum, int(free * column.share))
    taken = sum(w for key, w in widths.items() if key not in fixed)
    for column in columns:
        if column.rest:
            left = free - taken
            if column.drop_below is not None and left < column.drop_below:
                continue
            widths[column.key] = max(column.minimum, left)
    return {c.key: widths[c.key] for c in columns if c.key in widths}


class ResultsTable(DataTable, Generic[Row]):
    """A DataTable of rows described by a column spec; the cursor is a row."""

    def __init__(self, columns: Sequence[Column], *, row_key: Callable[[Any], object] | None = None,
                 headers: Callable[[Column], str] | None = None, **kwargs) -> None:
        """``row_key``: a row's key in the table (its id); ``headers``: a column's header
        when it depends on the day (« Rentrée 2026 »)."""
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self.spec = tuple(columns)
        self.key_of = row_key
        self.headers = headers
        self.items: list = []
        self._laid_out: tuple | None = None

    def header_of(self, column: Column) -> str:
        return self.headers(column) if self.headers is not None else column.header

    def shown_columns(self) -> list[Column]:
        return [c for c in self.spec if self._laid_out is not None and c.key in self._laid_out[0]]

    def lay_out(self, width: int, rows: Iterable = ()) -> None:
        """Columns for a table ``width`` cells wide (``rows``: for the columns that fit their cells).
        Nothing is redone when the widths are those already laid out; else the rows are
        cleared, for the screen to show them again."""
        spec = [replace(c, header=self.header_of(c)) for c in self.spec]
        widths = column_widths(spec, width, rows)
        laid = (widths, tuple(c.header for c in spec))
        if laid == self._laid_out:
            return
        self._laid_out = laid
        self.clear(columns=True)
        for column in spec:
            if column.key in widths:
                self.add_column(column.header, width=widths[column.key], key=column.key)

    def show(self, rows: Sequence, cursor: int = 0) -> None:
        """The rows, in order; the cursor on row ``cursor`` (kept within the rows)."""
        self.items = list(rows)
        self.clear()
        columns = self.shown_columns()
        for row in self.items:
            key = str(self.key_of(row)) if self.key_of is not None else None
            self.add_row(*(c.text(row) for c in columns), key=key)
        if self.items:
            self.move_cursor(row=min(max(cursor, 0), len(self.items) - 1))

    def highlighted(self):
        """The row under the cursor, or None."""
        index = self.cursor_row
        if not self.row_count or not 0 <= index < len(self.items):
            return None
        return self.items[index]
