"""spreadsheets.batchUpdate: the requests provisioning and reporting use, applied atomically.

The caller runs :func:`apply` on a copy of the spreadsheet and keeps the copy only when every
request succeeded, as Google does ("If any request is not valid, no requests will be applied").
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from random import Random

from . import dims, fields, objects
from .errors import invalid_request, sheets_error, unimplemented
from .model import Sheet, Spreadsheet
from .render import properties
from .util import mask, sheet_by_id
from .values import Formula

CELL_FIELDS = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")


@dataclass
class Ctx:
    rng: Random
    email: str | None = None

    def new_id(self) -> int:
        return self.rng.randrange(1, 2_147_483_647)


def apply(ss: Spreadsheet, body: dict, ctx: Ctx) -> list[dict]:
    requests = body.get("requests") or []
    if not requests:
        raise sheets_error(400, "Must specify at least one request.")
    replies = []
    for i, request in enumerate(requests):
        kinds = [k for k, v in request.items() if v is not None]
        if len(kinds) != 1:
            raise sheets_error(400, f"Invalid requests[{i}]: exactly one kind of request must "
                                    "be set.")
        kind = kinds[0]
        handler = HANDLERS.get(kind)
        if handler is None:
            raise unimplemented(f"batchUpdate request '{kind}' (requests[{i}])")
        replies.append(handler(ss, i, request[kind] or {}, ctx))
    return replies


def new_sheet(ss: Spreadsheet, props: dict, ctx: Ctx, where=None) -> Sheet:
    props = copy.deepcopy(props)
    title = props.get("title")
    if not title:
        n = len(ss.sheets) + 1
        while ss.by_title(f"Sheet{n}"):
            n += 1
        title = props["title"] = f"Sheet{n}"
    if ss.by_title(title) is not None:
        message = (f'A sheet with the name "{title}" already exists. Please enter another name.')
        raise invalid_request(*where, message) if where else sheets_error(400, message)
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = props["sheetId"] = 0 if not ss.sheets else ctx.new_id()
    elif ss.by_id(sheet_id) is not None:
        message = f"Sheet with id {sheet_id} already exists."
        raise invalid_request(*where, message) if where else sheets_error(400, message)
    grid = props.setdefault("gridProperties", {})
    grid.setdefault("rowCount", 1000)
    grid.setdefault("columnCount", 26)
    props.setdefault("sheetType", "GRID")
    index = min(props.get("index", len(ss.sheets)), len(ss.sheets))
    for other in ss.sheets:
        if other.props.get("index", 0) >= index:
            other.props["index"] = other.props.get("index", 0) + 1
    props["index"] = index
    sheet = Sheet(props)
    ss.sheets.append(sheet)
    ss.reindex()
    _check_grid(sheet, where)
    return sheet


def _check_grid(sheet: Sheet, where) -> None:
    grid = sheet.props["gridProperties"]
    message = None
    if grid.get("frozenRowCount", 0) >= grid["rowCount"] and grid.get("frozenRowCount"):
        message = "You can't freeze all visible rows on the sheet."
    elif grid.get("frozenColumnCount", 0) >= grid["columnCount"] and grid.get(
            "frozenColumnCount"):
        message = "You can't freeze all visible columns on the sheet."
    elif grid["rowCount"] < 1 or grid["columnCount"] < 1:
        message = "Sheets must have at least one row and one column."
    if message:
        raise invalid_request(*where, message) if where else sheets_error(400, message)


# -- sheets and the spreadsheet ---------------------------------------------------------------


def add_sheet(ss, i, req, ctx):
    sheet = new_sheet(ss, req.get("properties", {}), ctx, (i, "addSheet"))
    return {"addSheet": {"properties": properties(sheet)}}


def delete_sheet(ss, i, req, ctx):
    sheet = sheet_by_id(ss, req.get("sheetId"), i, "deleteSheet")
    if len(ss.sheets) == 1:
        raise invalid_request(i, "deleteSheet", "You can't remove all the sheets in a document.")
    if all(s.props.get("hidden") for s in ss.sheets if s is not sheet):
        raise invalid_request(i, "deleteSheet", "You can't remove all the visible sheets in a "
                                                "document.")
    ss.sheets.remove(sheet)
    ss.named_ranges = [n for n in ss.named_ranges if n["range"].get("sheetId", 0) !=
                       sheet.sheet_id]
    ss.reindex()
    return {}


def duplicate_sheet(ss, i, req, ctx):
    source = sheet_by_id(ss, req.get("sourceSheetId"), i, "duplicateSheet")
    props = copy.deepcopy(source.props)
    props["title"] = req.get("newSheetName") or f"Copy of {source.title}"
    props["sheetId"] = req.get("newSheetId") or ctx.new_id()
    props["index"] = req.get("insertSheetIndex", source.props.get("index", 0) + 1)
    sheet = new_sheet(ss, props, ctx, (i, "duplicateSheet"))
    for attr in ("cells", "fmt_layers", "rule_layers", "row_meta", "col_meta", "extras"):
        setattr(sheet, attr, copy.deepcopy(getattr(source, attr)))
    return {"duplicateSheet": {"properties": properties(sheet)}}


def update_sheet_properties(ss, i, req, ctx):
    given = req.get("properties", {})
    sheet = sheet_by_id(ss, given.get("sheetId"), i, "updateSheetProperties")
    paths = mask(req, i, "updateSheetProperties")
    old = sheet.props
    new = fields.merge(old, given, paths)
    new["sheetId"] = old.get("sheetId", 0)
    grid = new.setdefault("gridProperties", {})
    grid.setdefault("rowCount", old["gridProperties"]["rowCount"])
    grid.setdefault("columnCount", old["gridProperties"]["columnCount"])
    new.setdefault("sheetType", "GRID")
    title = new.get("title")
    if not title:
        raise invalid_request(i, "updateSheetProperties", "Sheet title cannot be empty.")
    other = ss.by_title(title)
    if other is not None and other is not sheet:
        raise invalid_request(i, "updateSheetProperties", f'A sheet with the name "{title}" '
                                                          "already exists. Please enter another "
                                                          "name.")
    for plain, style in MIRRORS[2:]:
        if any(p[:1] == (style,) for p in paths) and not new.get(style):
            new.pop(style, None)
            new.pop(plain, None)
    sheet.props = mirror(new)
    if new.get("hidden") and all(s.props.get("hidden") for s in ss.sheets):
        raise invalid_request(i, "updateSheetProperties", "You can't hide all the sheets in a "
                                                          "document.")
    _check_grid(sheet, (i, "updateSheetProperties"))
    rows, cols = grid["rowCount"], grid["columnCount"]
    sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] < rows and k[1] < cols}
    if any(p[:1] == ("index",) for p in paths) and "index" in given:
        order = [s for s in ss.ordered() if s is not sheet]
        before = old.get("index", 0)
        target = given["index"] - (1 if given["index"] > before else 0)
        order.insert(max(0, min(target, len(order))), sheet)
        for n, s in enumerate(order):
            s.props["index"] = n
    else:
        new["index"] = old.get("index", 0)
    return {}


def update_spreadsheet_properties(ss, i, req, ctx):
    paths = mask(req, i, "updateSpreadsheetProperties")
    ss.props = fields.merge(ss.props, req.get("properties", {}), paths)
    ss.props.setdefault("title", "Untitled spreadsheet")
    return {}


# -- cells ------------------------------------------------------------------------------------


def to_value(ev: dict | None):
    if not ev:
        return None
    if "formulaValue" in ev:
        return Formula(ev["formulaValue"])
    if "numberValue" in ev:
        return float(ev["numberValue"])
    if "boolValue" in ev:
        return bool(ev["boolValue"])
    if "stringValue" in ev:
        return ev["stringValue"]
    if "errorValue" in ev:
        raise sheets_error(400, "Invalid value: errorValue is read-only.")
    return None


def _cell_paths(paths: list[tuple]) -> dict[str, list[tuple]]:
    """A CellData mask → {top-level field: sub-paths}."""
    out: dict[str, list[tuple]] = {}
    for path in paths:
        if not path or path[0] == "*":
            return {name: [()] for name in CELL_FIELDS}
        out.setdefault(path[0], []).append(tuple(path[1:]))
    return out


MIRRORS = (("backgroundColor", "backgroundColorStyle"), ("foregroundColor",
                                                          "foregroundColorStyle"),
           ("tabColor", "tabColorStyle"))


def mirror(fmt: dict | None) -> dict | None:
    """Sheets answers a colour both ways (``backgroundColor`` and ``backgroundColorStyle``)."""
    if not fmt:
        return fmt
    for plain, style in MIRRORS:
        if plain in fmt and style not in fmt:
            fmt[style] = {"rgbColor": fields.json_copy(fmt[plain])}
        elif style in fmt and plain not in fmt and "rgbColor" in (fmt[style] or {}):
            fmt[plain] = fields.json_copy(fmt[style]["rgbColor"])
        elif style in fmt and not fmt[style]:
            del fmt[style]
    if isinstance(fmt.get("textFormat"), dict):
        mirror(fmt["textFormat"])
    return fmt


def write_cell(ss: Spreadsheet, sheet: Sheet, r: int, c: int, data: dict, masks: dict,
               seq: int) -> None:
    cell = sheet.cell(r, c)
    if "userEnteredValue" in masks:
        cell.value = to_value(data.get("userEnteredValue"))
        cell.entered = data.get("userEnteredValue")
        cell.how = "CELL_DATA"
    if "userEnteredFormat" in masks:
        paths = masks["userEnteredFormat"]
        if fields.whole(paths):
            # The new format replaces the cell's, which is not asked for. It is taken as it
            # is: the body is this request's own copy (fake.handler_body) and each cell's data
            # is its own, so nothing else holds it.
            fmt = mirror(data.get("userEnteredFormat") or {})
        else:
            fmt = mirror(fields.merge(sheet.user_format(r, c) or {},
                                      data.get("userEnteredFormat") or {}, paths))
        cell.fmt, cell.fmt_seq = (fmt or None), seq
        if cell.fmt is None:
            cell.fmt = {}
    if "note" in masks:
        cell.note = data.get("note") or None
    if "dataValidation" in masks:
        cell.rule, cell.rule_seq = data.get("dataValidation"), seq
    if cell.fmt == {} and not sheet.fmt_layers:
        cell.fmt = None
    sheet.drop_if_empty(r, c)


def update_cells(ss, i, req, ctx):
    masks = _cell_paths(mask(req, i, "updateCells"))
    rows = req.get("rows") or []
    seq = ss.next_seq()
    if "range" in req:
        sheet, r0, r1, c0, c1 = ss.grid_range(req["range"], (i, "updateCells"))
        for (r, c) in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
            write_cell(ss, sheet, r, c, {}, masks, seq)
        if "userEnteredFormat" in masks:
            sheet.fmt_layers.append((seq, r0, r1, c0, c1, masks["userEnteredFormat"], {}))
        if "dataValidation" in masks:
            sheet.rule_layers.append((seq, r0, r1, c0, c1, None))
        seq = ss.next_seq()
    else:
        start = req.get("start", {})
        sheet = sheet_by_id(ss, start.get("sheetId"), i, "updateCells")
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        r1, c1 = sheet.rows, sheet.cols
    for dr, row in enumerate(rows):
        values = (row or {}).get("values") or []
        if values and r0 + dr >= r1:
            raise invalid_request(i, "updateCells", f"Attempting to write row: {r0 + dr}, beyond "
                                                    f"the last requested row of: {r1 - 1}")
        if c0 + len(values) > c1:
            raise invalid_request(i, "updateCells", f"Attempting to write column: "
                                                    f"{c0 + len(values) - 1}, beyond the last "
                                                    f"requested column of: {c1 - 1}")
        for dc, data in enumerate(values):
            write_cell(ss, sheet, r0 + dr, c0 + dc, data or {}, masks, seq)
    return {}


def repeat_cell(ss, i, req, ctx):
    sheet, r0, r1, c0, c1 = ss.grid_range(req.get("range", {}), (i, "repeatCell"))
    masks = _cell_paths(mask(req, i, "repeatCell"))
    data = req.get("cell") or {}
    seq = ss.next_seq()
    if "userEnteredFormat" in masks:
        paths = masks["userEnteredFormat"]
        paths = paths + [(m,) + p[1:] for p in paths for a, b in MIRRORS
                         for n, m in ((a, b), (b, a)) if p[:1] == (n,)]
        sheet.fmt_layers.append((seq, r0, r1, c0, c1, paths,
                                 mirror(copy.deepcopy(data.get("userEnteredFormat") or {}))))
    if "dataValidation" in masks:
        sheet.rule_layers.append((seq, r0, r1, c0, c1, data.get("dataValidation")))
    rest = {k: v for k, v in masks.items() if k in ("userEnteredValue", "note")}
    if rest:
        for r in range(r0, r1):
            for c in range(c0, c1):
                write_cell(ss, sheet, r, c, data, rest, seq)
    return {}


def set_data_validation(ss, i, req, ctx):
    sheet, r0, r1, c0, c1 = ss.grid_range(req.get("range", {}), (i, "setDataValidation"))
    rule = req.get("rule")
    if rule is not None and not (rule.get("condition") or {}).get("type"):
        raise invalid_request(i, "setDataValidation", "Invalid ConditionType: "
                                                      "CONDITION_TYPE_UNSPECIFIED")
    sheet.rule_layers.append((ss.next_seq(), r0, r1, c0, c1, rule))
    return {}


def merge_cells(ss, i, req, ctx):
    sheet, r0, r1, c0, c1 = ss.grid_range(req.get("range", {}), (i, "mergeCells"))
    kind = req.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ALL":
        spans = [(r0, r1, c0, c1)]
    elif kind == "MERGE_COLUMNS":
        spans = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    else:
        spans = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    merges = sheet.extras.setdefault("merges", [])
    for a0, a1, b0, b1 in spans:
        if (a1 - a0) * (b1 - b0) <= 1:
            continue
        merges[:] = [m for m in merges if not _overlaps(m, a0, a1, b0, b1)]
        merges.append({"sheetId": sheet.sheet_id, "startRowIndex": a0, "endRowIndex": a1,
                       "startColumnIndex": b0, "endColumnIndex": b1})
        for (r, c) in [k for k in sheet.cells if a0 <= k[0] < a1 and b0 <= k[1] < b1
                       and k != (a0, b0)]:
            sheet.cells[(r, c)].value = None
            sheet.drop_if_empty(r, c)
    return {}


def _overlaps(m: dict, r0, r1, c0, c1) -> bool:
    return (m["startRowIndex"] < r1 and r0 < m["endRowIndex"] and m["startColumnIndex"] < c1
            and c0 < m["endColumnIndex"])


def unmerge_cells(ss, i, req, ctx):
    sheet, r0, r1, c0, c1 = ss.grid_range(req.get("range", {}), (i, "unmergeCells"))
    merges = sheet.extras.get("merges", [])
    merges[:] = [m for m in merges if not _overlaps(m, r0, r1, c0, c1)]
    return {}


HANDLERS = {
    "addSheet": add_sheet, "deleteSheet": delete_sheet, "duplicateSheet": duplicate_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "updateCells": update_cells, "repeatCell": repeat_cell,
    "setDataValidation": set_data_validation, "mergeCells": merge_cells,
    "unmergeCells": unmerge_cells, "updateBorders": objects.update_borders,
    "addProtectedRange": objects.add_protected_range,
    "updateProtectedRange": objects.update_protected_range,
    "deleteProtectedRange": objects.delete_protected_range,
    "addNamedRange": objects.add_named_range, "updateNamedRange": objects.update_named_range,
    "deleteNamedRange": objects.delete_named_range,
    "addConditionalFormatRule": objects.add_conditional_format_rule,
    "deleteConditionalFormatRule": objects.delete_conditional_format_rule,
    "addChart": objects.add_chart, "deleteEmbeddedObject": objects.delete_embedded_object,
    "createDeveloperMetadata": objects.create_developer_metadata,
    "updateDeveloperMetadata": objects.update_developer_metadata,
    "setBasicFilter": objects.set_basic_filter, "clearBasicFilter": objects.clear_basic_filter,
    "appendDimension": dims.append_dimension, "insertDimension": dims.insert_dimension,
    "deleteDimension": dims.delete_dimension,
    "updateDimensionProperties": dims.update_dimension_properties,
    "autoResizeDimensions": dims.auto_resize,
    "addDimensionGroup": lambda ss, i, r, c: dims.dimension_group(ss, i, r, c, add=True),
    "deleteDimensionGroup": lambda ss, i, r, c: dims.dimension_group(ss, i, r, c, add=False),
    "sortRange": dims.sort_range, "copyPaste": dims.copy_paste,
    "cutPaste": lambda ss, i, r, c: dims.copy_paste(ss, i, r, c, cut=True),
}
