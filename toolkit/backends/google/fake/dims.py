"""batchUpdate requests that move cells: rows and columns inserted, deleted, resized, grouped;
sorting, copy-paste and cut-paste."""

from __future__ import annotations

import copy
import functools

from .errors import invalid_request
from .model import Cell, Sheet, Spreadsheet, shift
from .values import Formula

_KEYS = {"ROWS": ("startRowIndex", "endRowIndex"), "COLUMNS": ("startColumnIndex",
                                                                "endColumnIndex")}


def dimension_span(ss: Spreadsheet, rng: dict, where: tuple[int, str]) -> tuple[Sheet, str, int,
                                                                                int]:
    sheet = ss.by_id(rng.get("sheetId", 0))
    if sheet is None:
        raise invalid_request(*where, f"No grid with id: {rng.get('sheetId', 0)}")
    dim = rng.get("dimension")
    if dim not in _KEYS:
        raise invalid_request(*where, "dimension must be ROWS or COLUMNS")
    size = sheet.rows if dim == "ROWS" else sheet.cols
    start = rng.get("startIndex", 0)
    end = rng.get("endIndex", size)
    if start < 0 or end > size or start > end:
        raise invalid_request(*where, f"Invalid dimension range: start {start}, end {end}, "
                                      f"{dim.lower()} in the sheet: {size}")
    return sheet, dim, start, end


def _grid(key: str) -> str:
    return "rowCount" if key == "ROWS" else "columnCount"


def shift_range(rng: dict, dim: str, index: int, count: int) -> dict | None:
    lo_key, hi_key = _KEYS[dim]
    lo, hi = rng.get(lo_key), rng.get(hi_key)
    moved = shift((lo or 0, hi if hi is not None else 10 ** 9), index, count)
    if moved is None:
        return None
    out = dict(rng)
    if lo is not None:
        out[lo_key] = moved[0]
    if hi is not None:
        out[hi_key] = moved[1]
    return out


def _shift_all(ss: Spreadsheet, sheet: Sheet, dim: str, index: int, count: int) -> None:
    """Everything positioned on ``sheet`` follows rows/columns inserted or deleted."""
    axis = 0 if dim == "ROWS" else 1
    end = index - count if count < 0 else index
    cells: dict = {}
    for key, cell in sheet.cells.items():
        pos = key[axis]
        if count < 0 and index <= pos < end:
            continue
        if pos >= index:
            pos += count
        cells[(pos, key[1]) if axis == 0 else (key[0], pos)] = cell
    sheet.cells = cells

    def layers(items: list[tuple]) -> list[tuple]:
        out = []
        for item in items:
            bounds = list(item[1:5])
            moved = shift((bounds[2 * axis], bounds[2 * axis + 1]), index, count)
            if moved is not None:
                bounds[2 * axis:2 * axis + 2] = moved
                out.append((item[0], *bounds, *item[5:]))
        return out

    sheet.fmt_layers = layers(sheet.fmt_layers)
    sheet.rule_layers = layers(sheet.rule_layers)
    meta = sheet.row_meta if axis == 0 else sheet.col_meta
    moved_meta = {}
    for pos, value in meta.items():
        if count < 0 and index <= pos < end:
            continue
        moved_meta[pos + count if pos >= index else pos] = value
    meta.clear()
    meta.update(moved_meta)
    for key in ("merges", "protectedRanges", "conditionalFormats"):
        kept = []
        for item in sheet.extras.get(key, []):
            if key == "merges":
                item = shift_range(item, dim, index, count)
            elif key == "protectedRanges" and "range" in item:
                rng = shift_range(item["range"], dim, index, count)
                item = None if rng is None else {**item, "range": rng}
            elif key == "conditionalFormats":
                ranges = [r for r in (shift_range(r, dim, index, count)
                                      for r in item.get("ranges", [])) if r is not None]
                item = {**item, "ranges": ranges} if ranges else None
            if item is not None:
                kept.append(item)
        if key in sheet.extras:
            sheet.extras[key] = kept
    ss.named_ranges = [n for n in (
        {**n, "range": shift_range(n["range"], dim, index, count)}
        if n["range"].get("sheetId", 0) == sheet.sheet_id else n for n in ss.named_ranges)
        if n["range"] is not None]


def append_dimension(ss, i, req, ctx):
    sheet = ss.by_id(req.get("sheetId", 0))
    if sheet is None:
        raise invalid_request(i, "appendDimension", f"No grid with id: {req.get('sheetId', 0)}")
    length = req.get("length", 0)
    if length <= 0:
        raise invalid_request(i, "appendDimension", "length must be positive")
    sheet.props["gridProperties"][_grid(req.get("dimension"))] += length
    return {}


def insert_dimension(ss, i, req, ctx):
    rng = req.get("range", {})
    sheet = ss.by_id(rng.get("sheetId", 0))
    if sheet is None:
        raise invalid_request(i, "insertDimension", f"No grid with id: {rng.get('sheetId', 0)}")
    dim = rng.get("dimension")
    size = sheet.rows if dim == "ROWS" else sheet.cols
    start, end = rng.get("startIndex", 0), rng.get("endIndex", 0)
    if dim not in _KEYS or start > size or end <= start:
        raise invalid_request(i, "insertDimension", "Invalid dimension range.")
    sheet.props["gridProperties"][_grid(dim)] += end - start
    _shift_all(ss, sheet, dim, start, end - start)
    return {}


def delete_dimension(ss, i, req, ctx):
    sheet, dim, start, end = dimension_span(ss, req.get("range", {}), (i, "deleteDimension"))
    size = sheet.rows if dim == "ROWS" else sheet.cols
    if end - start >= size:
        what = "rows" if dim == "ROWS" else "columns"
        raise invalid_request(i, "deleteDimension", f"You can't delete all the {what} on the "
                                                    "sheet.")
    grid = sheet.props["gridProperties"]
    frozen = grid.get("frozenRowCount" if dim == "ROWS" else "frozenColumnCount", 0)
    if frozen and size - (end - start) <= frozen:
        raise invalid_request(i, "deleteDimension", "You can't delete all the rows on the sheet.")
    grid[_grid(dim)] -= end - start
    _shift_all(ss, sheet, dim, start, start - end)
    return {}


def update_dimension_properties(ss, i, req, ctx):
    from . import fields

    sheet, dim, start, end = dimension_span(ss, req.get("range", {}),
                                            (i, "updateDimensionProperties"))
    mask = req.get("fields")
    if not mask:
        raise invalid_request(i, "updateDimensionProperties", "At least one field must be "
                                                               "updated. Use '*' for all fields.")
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    paths = fields.parse(mask)
    for pos in range(start, end):
        meta[pos] = fields.merge(meta.get(pos, {}), req.get("properties", {}), paths)
    return {}


def auto_resize(ss, i, req, ctx):
    rng = req.get("dimensions") or {}
    sheet, dim, start, end = dimension_span(ss, rng, (i, "autoResizeDimensions"))
    for pos in range(start, end):
        if dim == "COLUMNS":
            widths = [len(str(c.value)) for (r, col), c in sheet.cells.items()
                      if col == pos and c.value is not None]
            sheet.col_meta.setdefault(pos, {})["pixelSize"] = max([10, *widths]) * 7 + 10
        else:
            sheet.row_meta.setdefault(pos, {})["pixelSize"] = 21
    return {}


def dimension_group(ss, i, req, ctx, add: bool):
    kind = "addDimensionGroup" if add else "deleteDimensionGroup"
    sheet, dim, start, end = dimension_span(ss, req.get("range", {}), (i, kind))
    key = "rowGroups" if dim == "ROWS" else "columnGroups"
    groups = sheet.extras.setdefault(key, [])
    rng = {"sheetId": sheet.sheet_id, "dimension": dim, "startIndex": start, "endIndex": end}
    if add:
        depth = 1 + sum(1 for g in groups if g["range"]["startIndex"] <= start and
                        g["range"]["endIndex"] >= end)
        groups.append({"range": rng, "depth": depth})
        control = "rowGroupControlAfter" if dim == "ROWS" else "columnGroupControlAfter"
        sheet.props["gridProperties"].setdefault(control, True)
    else:
        match = [g for g in groups if g["range"]["startIndex"] == start and
                 g["range"]["endIndex"] == end]
        if not match:
            raise invalid_request(i, kind, "No dimension group found for the range.")
        groups.remove(match[-1])
    groups.sort(key=lambda g: (g["range"]["startIndex"], g["depth"]))
    return {kind: {"dimensionGroups": copy.deepcopy(groups)}}


def sort_range(ss, i, req, ctx):
    sheet, r0, r1, c0, c1 = ss.grid_range(req.get("range", {}), (i, "sortRange"))
    rows = [[sheet.cells.get((r, c)) for c in range(c0, c1)] for r in range(r0, r1)]
    specs = req.get("sortSpecs", [])

    def rank(row, spec):
        cell = row[spec.get("dimensionIndex", 0) - c0]
        value = None if cell is None else cell.value
        if value is None:
            return None
        return (0, float(value)) if isinstance(value, int | float) else (1, str(value).lower())

    def compare(a, b) -> int:
        for spec in specs:
            x, y = rank(a, spec), rank(b, spec)
            if x == y:
                continue
            if x is None or y is None:      # blanks go last in either order
                return 1 if x is None else -1
            result = -1 if x < y else 1
            return -result if spec.get("sortOrder") == "DESCENDING" else result
        return 0

    rows.sort(key=functools.cmp_to_key(compare))
    for dr, row in enumerate(rows):
        for dc, cell in enumerate(row):
            pos = (r0 + dr, c0 + dc)
            if cell is None:
                sheet.cells.pop(pos, None)
            else:
                sheet.cells[pos] = cell
    return {}


def copy_paste(ss, i, req, ctx, cut: bool = False):
    kind = "cutPaste" if cut else "copyPaste"
    src, r0, r1, c0, c1 = ss.grid_range(req.get("source", {}), (i, kind))
    dest = req.get("destination", {})
    if cut:
        dsheet = ss.by_id(dest.get("sheetId", 0))
        dr, dc = dest.get("rowIndex", 0), dest.get("columnIndex", 0)
    else:
        dsheet, dr, _, dc, _ = ss.grid_range(dest, (i, kind))
    if dsheet is None:
        raise invalid_request(i, kind, "No grid with id")
    paste = req.get("pasteType", "PASTE_NORMAL")
    block = {(r - r0, c - c0): src.cells.get((r, c)) for r in range(r0, r1) for c in range(c0, c1)}
    if cut:
        for r in range(r0, r1):
            for c in range(c0, c1):
                src.cells.pop((r, c), None)
    for (r, c), cell in block.items():
        target = (dr + r, dc + c)
        if target[0] >= dsheet.rows or target[1] >= dsheet.cols:
            continue
        if cell is None:
            if paste in ("PASTE_NORMAL", "PASTE_VALUES"):
                dsheet.cells.pop(target, None)
            continue
        new = dsheet.cells.get(target) or Cell()
        if paste in ("PASTE_NORMAL", "PASTE_VALUES"):
            new.value, new.entered, new.how = cell.value, cell.entered, cell.how
            if isinstance(cell.value, Formula):
                new.value = cell.value
        if paste in ("PASTE_NORMAL", "PASTE_FORMAT"):
            new.fmt, new.fmt_seq = copy.deepcopy(cell.fmt), ss.next_seq()
        dsheet.cells[target] = new
    return {}
