"""Sheets v4 endpoints: spreadsheets.create/get/batchUpdate and the spreadsheets.values family."""

from __future__ import annotations

import copy

from . import a1, batch, dims
from .errors import sheets_error
from .model import Sheet, Spreadsheet
from .render import spreadsheet_json, value_range
from .values import parse_user_entered

INPUT_OPTIONS = ("RAW", "USER_ENTERED")


def spreadsheets_create(call) -> dict:
    body = call.body or {}
    props = body.get("properties") or {}
    ss = call.fake.new_spreadsheet(props.get("title") or "Untitled spreadsheet",
                                   owner=call.principal, via="sheets", locale=props.get("locale"),
                                   time_zone=props.get("timeZone"),
                                   sheets=[s.get("properties") or {} for s in body.get("sheets")
                                           or []])
    extra = {k: v for k, v in props.items() if k not in ("title",)}
    if extra:
        ss.props.update(copy.deepcopy(extra))
    return answer(call, ss)


def answer(call, ss: Spreadsheet, **options) -> dict:
    """The Spreadsheet resource as Google answers it: a time zone under the name Google
    prefers (``FakeGoogle.time_zone_aliases``: CLDR's canonical ids, e.g. Asia/Saigon for the
    Asia/Ho_Chi_Minh a client sent)."""
    out = spreadsheet_json(ss, **options)
    zone = out["properties"].get("timeZone")
    out["properties"]["timeZone"] = call.fake.time_zone_aliases.get(zone, zone)
    return out


def spreadsheets_get(call) -> dict:
    ss = call.fake.open_spreadsheet(call, write=False)
    fields_mask = call.q("fields") or ""
    grid = call.flag("includeGridData") or ".data" in fields_mask.replace("/", ".")
    return answer(call, ss, grid=grid, ranges=call.query.get("ranges"))


def spreadsheets_batch_update(call) -> dict:
    body = call.body or {}

    def change(ss: Spreadsheet):
        return batch.apply(ss, body, batch.Ctx(call.fake.rng, call.principal.email))

    ss, replies = call.fake.modify(call, change)
    out = {"spreadsheetId": ss.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = answer(
            call, ss, grid=bool(body.get("responseIncludeGridData")),
            ranges=body.get("responseRanges"))
    return out


# -- values -----------------------------------------------------------------------------------


def _render_options(call, prefix: str = "") -> tuple[str, str, str]:
    option = call.q(f"{prefix}valueRenderOption" if not prefix else
                    "responseValueRenderOption") or "FORMATTED_VALUE"
    dt_option = call.q("dateTimeRenderOption" if not prefix else
                       "responseDateTimeRenderOption") or "SERIAL_NUMBER"
    return option, dt_option, call.q("majorDimension") or "ROWS"


def values_get(call) -> dict:
    ss = call.fake.open_spreadsheet(call, write=False)
    option, dt_option, major = _render_options(call)
    return value_range(ss, call.path["range"], major, option, dt_option)


def values_batch_get(call) -> dict:
    ss = call.fake.open_spreadsheet(call, write=False)
    option, dt_option, major = _render_options(call)
    out: dict = {"spreadsheetId": ss.id}
    ranges = call.query.get("ranges") or []
    if ranges:
        out["valueRanges"] = [value_range(ss, r, major, option, dt_option) for r in ranges]
    return out


def _input_option(value: str | None) -> str:
    if value not in INPUT_OPTIONS:
        raise sheets_error(400, f"Invalid valueInputOption: "
                                f"{value or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
    return value


def store(ss: Spreadsheet, sheet: Sheet, r: int, c: int, value, option: str) -> None:
    """One cell written through the values API (or typed by a person: option "PERSON")."""
    cell = sheet.cell(r, c)
    cell.entered, cell.how = value, option
    if value == "" or value is None:
        cell.value = None
    elif isinstance(value, bool | int | float):
        cell.value = value if isinstance(value, bool) else float(value)
    elif option == "RAW":
        cell.value = str(value)
    else:
        nf = sheet.number_format(r, c)
        parsed, auto = parse_user_entered(str(value), ss.locale, (nf or {}).get("type"))
        cell.value = parsed
        if auto is not None and nf is None:
            fmt = sheet.user_format(r, c) or {}
            cell.fmt, cell.fmt_seq = {**fmt, "numberFormat": auto}, ss.next_seq()
    sheet.drop_if_empty(r, c)


def write(ss: Spreadsheet, text: str, body: dict, option: str, anchor_only: bool = False,
          grow: bool = False) -> dict:
    """Write a ValueRange's values into ``text``; returns an UpdateValuesResponse."""
    try:
        parsed = a1.parse(text)
    except ValueError:
        raise ss.unparsable(text) from None
    sheet, r0, r1, c0, c1 = ss.resolve(text, clip=False)
    values = body.get("values") or []
    if body.get("majorDimension") == "COLUMNS":
        width = max((len(v) for v in values), default=0)
        values = [[col[r] if r < len(col) else None for col in values] for r in range(width)]
    height, width = len(values), max((len(v) for v in values), default=0)
    single = parsed.r1 is not None and parsed.r1 - (parsed.r0 or 0) == 1 and \
        parsed.c1 is not None and parsed.c1 - (parsed.c0 or 0) == 1
    if not (single or anchor_only or parsed.whole):
        if height > r1 - r0:
            raise sheets_error(400, f"Requested writing within range [{text}], but tried "
                                    f"writing to row [{r0 + r1 - r0 + 1}]")
        if width > c1 - c0:
            raise sheets_error(400, f"Requested writing within range [{text}], but tried "
                                    f"writing to column [{a1.col_letter(c1)}]")
    grid = sheet.props["gridProperties"]
    if grow:
        grid["rowCount"] = max(grid["rowCount"], r0 + height)
        grid["columnCount"] = max(grid["columnCount"], c0 + width)
    if r0 + max(height, 1) > sheet.rows or c0 + max(width, 1) > sheet.cols:
        end = a1.format_range(sheet.title, r0, r0 + max(height, 1), c0, c0 + max(width, 1))
        raise sheets_error(400, f"Range ({end}) exceeds grid limits. Max rows: {sheet.rows}, "
                                f"max columns: {sheet.cols}")
    for dr, row in enumerate(values):
        if not isinstance(row, list):
            raise sheets_error(400, f"Invalid values[{dr}]: expected a list of cell values")
        for dc, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dict | list):
                raise sheets_error(400, f"Invalid values[{dr}][{dc}]: {value}")
            store(ss, sheet, r0 + dr, c0 + dc, value, option)
    out: dict = {"spreadsheetId": ss.id}
    if height and width:
        out.update(updatedRange=a1.format_range(sheet.title, r0, r0 + height, c0, c0 + width),
                   updatedRows=height, updatedColumns=width,
                   updatedCells=sum(len(v) for v in values))
    else:
        out["updatedRange"] = a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0,
                                              max(c1, c0 + 1))
    return out


def _with_data(call, ss: Spreadsheet, result: dict, wanted: bool) -> dict:
    if wanted and "updatedRows" in result:
        option, dt_option, _ = _render_options(call, prefix="response")
        result["updatedData"] = value_range(ss, result["updatedRange"], "ROWS", option,
                                            dt_option)
    return result


def values_update(call) -> dict:
    option = _input_option(call.q("valueInputOption"))
    body = call.body or {}
    _check_body_range(body.get("range"), call.path["range"])
    ss, result = call.fake.modify(call, lambda ss: write(ss, call.path["range"], body, option))
    return _with_data(call, ss, result, call.flag("includeValuesInResponse"))


def _check_body_range(given: str | None, url_range: str) -> None:
    if given and given.replace("'", "") != url_range.replace("'", ""):
        raise sheets_error(400, f"Invalid ValueRange.range: the range in the body [{given}] "
                                f"does not match the range in the URL [{url_range}].")


def values_batch_update(call) -> dict:
    body = call.body or {}
    option = _input_option(body.get("valueInputOption"))

    def change(ss: Spreadsheet):
        return [write(ss, vr.get("range", ""), vr, option) for vr in body.get("data") or []]

    ss, responses = call.fake.modify(call, change)
    out: dict = {"spreadsheetId": ss.id}
    done = [r for r in responses if "updatedRows" in r]
    if done:
        out.update(totalUpdatedRows=sum(r["updatedRows"] for r in done),
                   totalUpdatedColumns=sum(r["updatedColumns"] for r in done),
                   totalUpdatedCells=sum(r["updatedCells"] for r in done),
                   totalUpdatedSheets=len({r["updatedRange"].rpartition("!")[0] for r in done}))
    if responses:
        want = bool(body.get("includeValuesInResponse"))
        out["responses"] = [_with_data(call, ss, r, want) for r in responses]
    return out


def clear(ss: Spreadsheet, text: str) -> str:
    sheet, r0, r1, c0, c1 = ss.resolve(text)
    for (r, c) in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
        cell = sheet.cells[(r, c)]
        cell.value = cell.entered = cell.how = None
        sheet.drop_if_empty(r, c)
    return a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))


def values_clear(call) -> dict:
    ss, cleared = call.fake.modify(call, lambda ss: clear(ss, call.path["range"]))
    return {"spreadsheetId": ss.id, "clearedRange": cleared}


def values_batch_clear(call) -> dict:
    ranges = (call.body or {}).get("ranges") or []
    ss, cleared = call.fake.modify(call, lambda ss: [clear(ss, r) for r in ranges])
    out: dict = {"spreadsheetId": ss.id}
    if cleared:
        out["clearedRanges"] = cleared
    return out


def _table(ss: Spreadsheet, sheet: Sheet, r0: int, r1: int, c0: int, c1: int, anchor: bool):
    """The 'table' values.append appends to, found as Sheets finds it: the run of filled cells
    in the first filled row (the one at the anchor cell, else the last run), extended down
    while rows below hold data in those columns."""
    filled: dict[int, set[int]] = {}
    for (r, c), cell in sheet.cells.items():
        if cell.value is not None and r0 <= r < r1 and c0 <= c < c1:
            filled.setdefault(r, set()).add(c)
    if not filled or (anchor and c0 not in filled.get(r0, ())):
        return None
    top = min(filled)
    runs, run = [], []
    for c in range(c0, max(filled[top]) + 1):
        if c in filled[top]:
            run.append(c)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    chosen = next((x for x in runs if c0 in x), None) if anchor else None
    chosen = chosen or runs[-1]
    first, last = chosen[0], chosen[-1] + 1
    end = top + 1
    while end < r1 and any(first <= c < last for c in filled.get(end, ())):
        end += 1
    return top, end, first, last


def values_append(call) -> dict:
    option = _input_option(call.q("valueInputOption"))
    body = call.body or {}
    insert = call.q("insertDataOption") == "INSERT_ROWS"

    def change(ss: Spreadsheet):
        sheet, r0, r1, c0, c1 = ss.resolve(call.path["range"])
        parsed = a1.parse(call.path["range"])
        anchor = not parsed.whole and parsed.r1 is not None and parsed.r1 - (parsed.r0 or 0) \
            == 1 and parsed.c1 is not None and parsed.c1 - (parsed.c0 or 0) == 1
        if anchor:
            r1, c1 = sheet.rows, sheet.cols
        table = _table(ss, sheet, r0, r1, c0, c1, anchor)
        out: dict = {"spreadsheetId": ss.id}
        if table is None:
            row, col = r0, c0
        else:
            out["tableRange"] = a1.format_range(sheet.title, *table)
            row, col = table[1], table[2]
        values = body.get("values") or []
        if insert and values:
            req = {"range": {"sheetId": sheet.sheet_id, "dimension": "ROWS", "startIndex": row,
                             "endIndex": row + len(values)}}
            dims.insert_dimension(ss, 0, req, None)
        target = a1.format_range(sheet.title, row, row + 1, col, col + 1)
        out["updates"] = write(ss, target, body, option, anchor_only=True, grow=True)
        return out

    ss, result = call.fake.modify(call, change)
    _with_data(call, ss, result["updates"], call.flag("includeValuesInResponse"))
    return result
