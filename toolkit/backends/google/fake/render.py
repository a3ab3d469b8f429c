"""Spreadsheet state → Google's JSON: spreadsheets.get bodies and values.get ValueRanges."""

from __future__ import annotations

import copy

from . import a1, fields
from .errors import sheets_error
from .model import COLUMN_PIXELS, DEFAULT_FORMAT, ROW_PIXELS, Sheet, Spreadsheet

_FALSY_PROPS = (("hidden", False), ("rightToLeft", False))
_FALSY_GRID = (("frozenRowCount", 0), ("frozenColumnCount", 0), ("hideGridlines", False),
               ("rowGroupControlAfter", False), ("columnGroupControlAfter", False))
SHEET_LISTS = ("merges", "conditionalFormats", "filterViews", "protectedRanges", "bandedRanges",
               "charts", "rowGroups", "columnGroups", "slicers", "tables")


def properties(sheet: Sheet) -> dict:
    props = copy.deepcopy(sheet.props)
    for key, falsy in _FALSY_PROPS:
        if props.get(key, falsy) == falsy:
            props.pop(key, None)
    grid = props.get("gridProperties", {})
    for key, falsy in _FALSY_GRID:
        if grid.get(key, falsy) == falsy:
            grid.pop(key, None)
    order = ["sheetId", "title", "index", "sheetType", "gridProperties"]
    return {k: props[k] for k in order if k in props} | {k: v for k, v in props.items()
                                                         if k not in order}


def sheet_json(ss: Spreadsheet, sheet: Sheet, data: list[tuple] | None) -> dict:
    out: dict = {"properties": properties(sheet)}
    if data is not None:
        out["data"] = [grid_data(ss, sheet, *bounds) for bounds in data]
    for key in SHEET_LISTS:
        if sheet.extras.get(key):
            out[key] = copy.deepcopy(sheet.extras[key])
    if sheet.basic_filter:
        out["basicFilter"] = copy.deepcopy(sheet.basic_filter)
    return out


def spreadsheet_json(ss: Spreadsheet, grid: bool = False, ranges: list[str] | None = None) -> dict:
    """The Spreadsheet resource; with ``grid`` each sheet (or each of ``ranges``) has data."""
    wanted: dict[int, list] = {}
    if ranges:
        for text in ranges:
            sheet, r0, r1, c0, c1 = ss.resolve(text)
            wanted.setdefault(sheet.sheet_id, []).append((r0, r1, c0, c1))
    sheets = []
    for sheet in ss.ordered():
        if ranges and sheet.sheet_id not in wanted:
            continue
        data = None
        if grid:
            data = wanted.get(sheet.sheet_id) or [(0, sheet.rows, 0, sheet.cols)]
        sheets.append(sheet_json(ss, sheet, data))
    out = {"spreadsheetId": ss.id, "properties": copy.deepcopy(ss.props), "sheets": sheets}
    if ss.named_ranges:
        out["namedRanges"] = copy.deepcopy(ss.named_ranges)
    if ss.metadata:
        out["developerMetadata"] = copy.deepcopy(ss.metadata)
    out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{ss.id}/edit"
    return out


def cell_data(ss: Spreadsheet, sheet: Sheet, r: int, c: int, formats: dict) -> dict:
    """One cell's CellData; ``formats`` keeps the formats worked out so far in one answer
    (see ``_formats``)."""
    out: dict = {}
    cell = sheet.cells.get((r, c))
    if cell is not None and cell.value is not None:
        out["userEnteredValue"] = ss.extended(cell.value)
        out["effectiveValue"] = ss.extended(ss.effective(sheet, r, c))
        shown = ss.render(sheet, r, c, "FORMATTED_VALUE", "FORMATTED_STRING")
        if shown is not None:
            out["formattedValue"] = shown
    known = _formats(sheet, r, c, cell, formats)
    fmt = known[0]
    if fmt:
        out["userEnteredFormat"] = fmt
    if out:
        if known[1] is None:
            known[1] = fields.merge(DEFAULT_FORMAT, fmt or {}, [(k,) for k in (fmt or {})])
        out["effectiveFormat"] = known[1]
    if cell is not None and cell.note:
        out["note"] = cell.note
    rule = sheet.rule_at(r, c)
    if rule:
        out["dataValidation"] = copy.deepcopy(rule)
    return out


def _formats(sheet: Sheet, r: int, c: int, cell, formats: dict) -> list:
    """[userEnteredFormat, effectiveFormat or None until asked] of the cell at (r, c).

    Both follow from the format layers covering the cell and the cell's own format, merged
    in the order of their writes, so the cells of one answer that share those share them
    (``formats``): a rollup tab's thousand cells have a few formats, and merging them again
    for every cell was most of the time of reading it with its grid. Within one answer
    nothing changes (the fake's lock is held)."""
    covering = [(i, seq) for i, (seq, top, bottom, left, right, _, _)
                in enumerate(sheet.fmt_layers) if top <= r < bottom and left <= c < right]
    own = None
    if cell is not None and cell.fmt is not None:
        # Its place among the layers (user_format sorts by write, the cell's after a tie).
        own = (repr(cell.fmt), sum(seq <= cell.fmt_seq for _, seq in covering))
    key = (own, *(i for i, _ in covering))
    known = formats.get(key)
    if known is None:
        known = formats[key] = [sheet.user_format(r, c), None]
    return known


def grid_data(ss: Spreadsheet, sheet: Sheet, r0: int, r1: int, c0: int, c1: int) -> dict:
    out: dict = {}
    formats: dict = {}
    if r0:
        out["startRow"] = r0
    if c0:
        out["startColumn"] = c0
    rows: list[dict] = []
    has_layers = bool(sheet.fmt_layers or sheet.rule_layers)
    occupied = {r for (r, c) in sheet.cells if r0 <= r < r1 and c0 <= c < c1}
    for r in range(r0, r1):
        if not has_layers and r not in occupied:
            rows.append({})
            continue
        values = [cell_data(ss, sheet, r, c, formats) for c in range(c0, c1)]
        while values and not values[-1]:
            values.pop()
        rows.append({"values": values} if values else {})
    while rows and not rows[-1]:
        rows.pop()
    if rows:
        out["rowData"] = rows
    out["rowMetadata"] = [_meta(sheet.row_meta.get(r), ROW_PIXELS) for r in range(r0, r1)]
    out["columnMetadata"] = [_meta(sheet.col_meta.get(c), COLUMN_PIXELS) for c in range(c0, c1)]
    return out


def _meta(meta: dict | None, pixels: int) -> dict:
    out = {"pixelSize": pixels}
    if meta:
        out.update({k: v for k, v in meta.items() if v not in (False, None)})
    return out


def value_range(ss: Spreadsheet, text: str, major: str = "ROWS",
                option: str = "FORMATTED_VALUE", dt_option: str = "SERIAL_NUMBER") -> dict:
    """values.get: trailing empty cells and rows omitted; no ``values`` key when empty.

    A range that starts inside the grid and runs past its edge is cut there; one that starts
    beyond the edge is refused, as Google does ("Range (Mass!151154:151354) exceeds grid
    limits. Max rows: 151000, max columns: 26" for a batchGet, airbytehq/airbyte#1740)."""
    sheet, r0, _, c0, _ = ss.resolve(text, clip=False)
    if r0 >= sheet.rows or c0 >= sheet.cols:
        raise sheets_error(400, f"Range ({text}) exceeds grid limits. Max rows: {sheet.rows}, "
                                f"max columns: {sheet.cols}")
    sheet, r0, r1, c0, c1 = ss.resolve(text)
    rows = read_grid(ss, sheet, r0, r1, c0, c1, option, dt_option)
    out = {"range": a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1)),
           "majorDimension": major or "ROWS"}
    if major == "COLUMNS":
        width = max((len(row) for row in rows), default=0)
        rows = [_trim([row[c] if c < len(row) else "" for row in rows]) for c in range(width)]
        rows = _trim_rows(rows)
    if rows:
        out["values"] = rows
    return out


def read_grid(ss: Spreadsheet, sheet: Sheet, r0: int, r1: int, c0: int, c1: int, option: str,
              dt_option: str) -> list[list]:
    by_row: dict[int, dict[int, object]] = {}
    for (r, c), cell in sheet.cells.items():
        if cell.value is not None and r0 <= r < r1 and c0 <= c < c1:
            shown = ss.render(sheet, r, c, option, dt_option)
            if shown is not None:
                by_row.setdefault(r, {})[c] = shown
    if not by_row:
        return []
    rows = []
    for r in range(r0, max(by_row) + 1):
        found = by_row.get(r, {})
        row = [found.get(c, "") for c in range(c0, max(found) + 1)] if found else []
        rows.append(_trim(row))
    return _trim_rows(rows)


def _trim(row: list) -> list:
    while row and row[-1] in ("", None):
        row.pop()
    return row


def _trim_rows(rows: list[list]) -> list[list]:
    while rows and not rows[-1]:
        rows.pop()
    return rows
