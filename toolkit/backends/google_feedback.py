"""What the toolkit writes back into a commune workbook on each validate, as request bodies.

The Kiểm tra tab, the banner row of each report tab and a note on each offending cell, all in
the ONE batchUpdate that ``GSheetsStore.write_feedback`` sends. Text goes in as ``stringValue``,
so nothing a commune typed can come back as a live formula.
"""

from __future__ import annotations

from toolkit.backends.google_requests import HEADER_FORMAT, HEADER_ROWS, grid, row, update_cells
from toolkit.layout import BANNER_COLOURS, FEEDBACK_HEADERS, Banner, cell_marks


def feedback_write_requests(sid: int, summary: str, rows: list[list[str]]) -> list[dict]:
    """Replace the whole Kiểm tra tab in one request: size the grid, then rewrite every cell."""
    width = len(FEEDBACK_HEADERS)
    total = HEADER_ROWS + max(len(rows), 1)
    body = [row([summary], {"textFormat": {"bold": True, "fontSize": 12}}),
            row(FEEDBACK_HEADERS, HEADER_FORMAT)]
    body += [row([("" if v is None else str(v)) for v in r[:width]]) for r in rows]
    return [
        {"updateSheetProperties": {
            "properties": {"sheetId": sid, "gridProperties": {"rowCount": total,
                                                              "columnCount": width}},
            "fields": "gridProperties.rowCount,gridProperties.columnCount"}},
        update_cells(grid(sid, 0, total, 0, width), body, "userEnteredValue,userEnteredFormat"),
    ]


def banner_request(sid: int, banner: Banner) -> dict:
    """The first row of a report tab: its title, or a red / amber warning."""
    hex_colour = BANNER_COLOURS.get(banner.tone)
    colour = {name: round(int(hex_colour[i:i + 2], 16) / 255, 3)
              for name, i in (("red", 0), ("green", 2), ("blue", 4))} if hex_colour else {}
    fmt = {"textFormat": {"bold": True, "fontSize": 12, "foregroundColor": colour}}
    return update_cells(grid(sid, 0, 1, 0, 1), [row([banner.text], fmt)],
                        "userEnteredValue,userEnteredFormat.textFormat")


def cell_notes(rows: list[list[str]]) -> dict[str, dict[tuple[int, int], str]]:
    """Kiểm tra rows → for each tab, the note on each offending cell (0-based row, column).

    A cell with several problems gets them all, errors first as the rows are ordered.
    """
    return {tab: {where: text for where, (_level, text) in cells.items()}
            for tab, cells in cell_marks(rows).items()}


def note_requests(sid: int, notes: dict[tuple[int, int], str],
                  marked: set[tuple[int, int]]) -> list[dict]:
    """Notes on a report tab's cells: ``notes`` written, the toolkit's earlier marks on other
    cells (``marked``) cleared — one cell each, so no other cell is touched: a note a person
    put on a cell is theirs, and a value typed meanwhile is never in the request's range."""
    cells = sorted(set(notes) | set(marked))
    return [{"updateCells": {
        "start": {"sheetId": sid, "rowIndex": r, "columnIndex": c},
        "rows": [{"values": [{"note": notes[(r, c)]} if (r, c) in notes else {}]}],
        "fields": "note"}} for r, c in cells]


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

