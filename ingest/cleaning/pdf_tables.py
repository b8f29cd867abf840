"""Table header rows in PDF lines: pypdf reports the cells of a bold header row as separate lines, and taken one
by one each looked like a heading of its own ("Kardinalität"). `merge_table_headers` turns each such row into
one plain line of its cells, so the column names stay content next to the rows they head."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.cleaning.paragraphs import Line, join_lines

#: A table's header row: at least this many columns of short bold cells side by side.
TABLE_MIN_COLUMNS = 3
_CELL_MAX_CHARS = 40


def _header_row_at(page: Sequence[Line], start: int) -> tuple[int, Line] | None:
    """The bold header row of a table that starts at line `start`, as (lines used, one line "Nr. | … |
    Kardinalität"), or None. pypdf reports the cells of a header row as separate bold lines (cells set at
    different heights, wrapped cells); taken one by one, each looked like a heading of its own ("Kardinalität")."""
    run: list[Line] = []
    i = start
    while i < len(page):
        ln = page[i]
        text = ln.text.strip()
        if not (ln.bold and ln.x is not None and ln.y is not None and 0 < len(text) <= _CELL_MAX_CHARS):
            break
        if run and (
            abs(ln.size - run[0].size) >= 0.5 or abs(ln.y - run[0].y) > 6 * max(ln.size, 1.0)  # type: ignore[operator]
        ):
            break
        run.append(ln)
        i += 1
    if len(run) < TABLE_MIN_COLUMNS or i >= len(page) or page[i].bold:
        return None  # a table's header row is followed by its (regular) body rows
    columns: list[list[Line]] = []
    for ln in sorted(run, key=lambda ln: ln.x or 0.0):
        if columns and (ln.x or 0.0) - (columns[-1][-1].x or 0.0) <= max(ln.size, 1.0):
            columns[-1].append(ln)  # a wrapped cell ("Referenz/Typ/" over "Wertebereich")
        else:
            columns.append([ln])
    if len(columns) < TABLE_MIN_COLUMNS:
        return None
    if not any(
        abs((a.y or 0.0) - (b.y or 0.0)) < 0.6 * max(a.size, 1.0)
        for i, left in enumerate(columns)
        for right in columns[i + 1 :]
        for a in left
        for b in right
    ):
        return None  # no two cells side by side at one height: a centred heading over several lines, not a row
    cells = []
    for column in columns:
        text = ""
        for ln in sorted(column, key=lambda ln: -(ln.y or 0.0)):
            text = join_lines(text, ln.text.strip()) if text else ln.text.strip()
        cells.append(text)
    top = max(run, key=lambda ln: ln.y or 0.0)
    return len(run), Line(" | ".join(cells), run[0].size, False, run[0].x, top.y, True)


def merge_table_headers(page: Sequence[Line]) -> list[Line]:
    """Each table header row of a page as one plain line of its cells, left to right (see `_header_row_at`):
    the column names stay content next to the rows they head, and none of them becomes a heading."""
    out: list[Line] = []
    i = 0
    while i < len(page):
        found = _header_row_at(page, i) if page[i].bold else None
        if found is None:
            out.append(page[i])
            i += 1
            continue
        used, line = found
        out.append(line)
        i += used
        if i < len(page):  # the first body row starts a paragraph of its own
            nxt = page[i]
            out.append(Line(nxt.text, nxt.size, nxt.bold, nxt.x, nxt.y, True))
            i += 1
    return out
