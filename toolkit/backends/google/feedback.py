"""What the toolkit writes back into a commune workbook on each validate, as request bodies.

The Kiểm tra tab, the banner row of each report tab and a note on each offending cell, all in
the ONE batchUpdate that ``GSheetsStore.write_feedback`` sends. Text goes in as ``stringValue``,
so nothing a commune typed can come back as a live formula.
"""

from __future__ import annotations

from toolkit.backends.google.bodies import (
    HEADER_FORMAT,
    HEADER_ROWS,
    cell,
    grid,
    row,
    update_cells,
)
from toolkit.layout import BANNER_COLOURS, FEEDBACK_HEADERS, LEVEL_COLOURS, Banner, cell_marks


def feedback_write_requests(sid: int, summary: str, rows: list[list[str]]) -> list[dict]:
    """Replace the whole Kiểm tra tab in one request: size the grid, then rewrite every cell."""
    width = len(FEEDBACK_HEADERS)
    total = HEADER_ROWS + max(len(rows), 1)
    body = [row([summary], {"textFormat": {"bold": True, "fontSize": 12}}),
            row(FEEDBACK_HEADERS, HEADER_FORMAT)]
    body += [_feedback_row(r[:width]) for r in rows]
    return [
        {"updateSheetProperties": {
            "properties": {"sheetId": sid, "gridProperties": {"rowCount": total,
                                                              "columnCount": width}},
            "fields": "gridProperties.rowCount,gridProperties.columnCount"}},
        update_cells(grid(sid, 0, total, 0, width), body, "userEnteredValue,userEnteredFormat"),
    ]


def _feedback_row(values: list) -> dict:
    """A Kiểm tra row: every cell wrapped (the whole message shows, Sheets grows the row),
    the level in its colour."""
    wrapped = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
    cells = [cell("" if v is None else str(v), wrapped) for v in values]
    colours = LEVEL_COLOURS.get(str(values[-1]) if values else "")
    if colours and cells:
        cells[-1] = cell(str(values[-1]), {**wrapped, "backgroundColor": rgb(colours[0]),
                                           "textFormat": {"bold": True,
                                                          "foregroundColor": rgb(colours[1])}})
    return {"values": cells}


def banner_request(sid: int, banner: Banner) -> dict:
    """The first row of a report tab: its title, or a red / amber warning."""
    hex_colour = BANNER_COLOURS.get(banner.tone)
    colour = rgb(hex_colour) if hex_colour else {}
    fmt = {"textFormat": {"bold": True, "fontSize": 12, "foregroundColor": colour}}
    return update_cells(grid(sid, 0, 1, 0, 1), [row([banner.text], fmt)],
                        "userEnteredValue,userEnteredFormat.textFormat")


def cell_notes(rows: list[list[str]]) -> dict[str, dict[tuple[int, int], str]]:
    """Kiểm tra rows → for each tab, the note on each offending cell (0-based row, column).

    A cell with several problems gets them all, errors first as the rows are ordered.
    """
    return {tab: {where: text for where, (_level, text) in cells.items()}
            for tab, cells in cell_marks(rows).items()}


def rgb(hex_colour: str) -> dict:
    """"FFC7CE" → Sheets' Color (0–1 per channel)."""
    return {name: round(int(hex_colour[i:i + 2], 16) / 255, 3)
            for name, i in (("red", 0), ("green", 2), ("blue", 4))}


#: A mark is a note and a background: Sheets keeps the colour both as backgroundColor and
#: backgroundColorStyle, so clearing one alone leaves the other on the cell.
MARK_FIELDS = "note,userEnteredFormat.backgroundColor,userEnteredFormat.backgroundColorStyle"


def note_requests(sid: int, marks: dict[tuple[int, int], tuple[str, str]],
                  marked: set[tuple[int, int]]) -> list[dict]:
    """Marks on a report tab's cells: a note and the level's background on each cell of
    ``marks`` (level label, note); the toolkit's earlier marks on other cells (``marked``)
    cleared — one cell each, formats and notes only, so no other cell is touched: a note a
    person put on a cell is theirs, and a value typed meanwhile is never in the request."""
    out = []
    for r, c in sorted(set(marks) | set(marked)):
        if (r, c) in marks:
            level, text = marks[(r, c)]
            fill = LEVEL_COLOURS.get(level, LEVEL_COLOURS["Lỗi"])[0]
            value = {"note": text,
                     "userEnteredFormat": {"backgroundColorStyle": {"rgbColor": rgb(fill)}}}
        else:
            value = {}
        out.append({"updateCells": {
            "start": {"sheetId": sid, "rowIndex": r, "columnIndex": c},
            "rows": [{"values": [value]}],
            "fields": MARK_FIELDS}})
    return out


def notes_request(sid: int, notes: dict[tuple[int, int], str]) -> dict:
    """Notes on the data rows of a report tab: exactly ``notes``; every other note there goes.

    Only for feedback an earlier version wrote, whose marks were not kept (``note_requests``
    otherwise): a fixed cell loses its note with the same request that writes the new ones.
    """
    rows: list[dict] = []
    for r in range(HEADER_ROWS, max((r + 1 for r, _ in notes), default=HEADER_ROWS)):
        width = max((c + 1 for (rr, c) in notes if rr == r), default=0)
        rows.append({"values": [{"note": notes[(r, c)]} if (r, c) in notes else {}
                                for c in range(width)]})
    return update_cells(grid(sid, HEADER_ROWS), rows, "note")

