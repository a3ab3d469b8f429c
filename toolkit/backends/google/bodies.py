"""Google Sheets v4 / Drive v3 request bodies, built by pure functions.

Nothing here sends anything: the Google store decides *when* to call, these functions decide
*what* to send, so tests compare every body with Google's discovery documents offline. Values
always go in as typed ``userEnteredValue`` fields (``stringValue``, ``numberValue``), which
Sheets stores as they are: text a commune or a rollup holds is never parsed into a formula.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime

from toolkit.backends.base import LOCALE, TIME_ZONE
from toolkit.layout import (
    FEEDBACK_HEADERS,
    FEEDBACK_TAB,
    FEEDBACK_WIDTHS,
    FIRST_DATA_ROW,
    HELP_TAB,
    LISTS_TAB,
    TabLayout,
    column_letter,
    header_height,
)
from toolkit.parse import SERIAL_EPOCH
from toolkit.periods import period_label

VILLAGE_LIST_ROWS = 500
#: The empty tab a new spreadsheet starts with, as Sheets names it in English or Vietnamese.
DEFAULT_TAB = re.compile(r"^(Sheet|Trang tính|Trang tính )1$")
DATE_PATTERN = "dd/mm/yyyy"
HEADER_ROWS = FIRST_DATA_ROW - 1
HEADER_FORMAT = {
    "textFormat": {"bold": True},
    "wrapStrategy": "WRAP",
    "verticalAlignment": "MIDDLE",
    "backgroundColor": {"red": 0.85, "green": 0.92, "blue": 0.83},
}
_NUMBER_FORMATS = {
    "int": {"type": "NUMBER", "pattern": "#,##0"},
    "number": {"type": "NUMBER", "pattern": "#,##0.##"},
    "date": {"type": "DATE", "pattern": DATE_PATTERN},
    "phone": {"type": "TEXT", "pattern": "@"},  # keeps the leading 0 of 0912…
}


@dataclass(frozen=True)
class SheetInfo:
    """One tab as ``spreadsheets.get(fields=sheets.properties)`` describes it."""

    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    column_count: int = 26
    hidden: bool = False

    @classmethod
    def from_properties(cls, p: dict) -> SheetInfo:
        grid = p.get("gridProperties", {})
        return cls(int(p["sheetId"]), p["title"], int(p.get("index", 0)),
                   int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26)),
                   bool(p.get("hidden", False)))


# -- small pieces ---------------------------------------------------------------------------


def sheet_id_for(title: str, taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A stable sheet id per tab title, so later writes can address a tab without reading ids."""
    sheet_id = zlib.crc32(title.encode("utf-8")) % 2_000_000_000 + 1
    while sheet_id in taken:
        sheet_id += 1
    return sheet_id


def grid(sheet_id: int, row0: int | None = None, row1: int | None = None,
         col0: int | None = None, col1: int | None = None) -> dict:
    """A GridRange (0-based, end exclusive); an omitted bound is unbounded."""
    out = {"sheetId": sheet_id}
    for key, value in (("startRowIndex", row0), ("endRowIndex", row1),
                       ("startColumnIndex", col0), ("endColumnIndex", col1)):
        if value is not None:
            out[key] = value
    return out


def serial(day: date | datetime) -> float:
    """Sheets' day number (1899-12-30 is 0), what a date cell holds."""
    if isinstance(day, datetime):
        whole = (day.date() - SERIAL_EPOCH).days
        return whole + (day.hour * 3600 + day.minute * 60 + day.second) / 86400
    return float((day - SERIAL_EPOCH).days)


def extended_value(value) -> dict:
    """ExtendedValue for a Python value; empty (clears the cell) for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    if isinstance(value, datetime | date):
        return {"numberValue": serial(value)}
    return {"stringValue": str(value)}


def cell(value, fmt: dict | None = None) -> dict:
    data: dict = {}
    ev = extended_value(value)
    if ev:
        data["userEnteredValue"] = ev
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


def row(values, fmt: dict | None = None) -> dict:
    return {"values": [cell(v, fmt) for v in values]}


def update_cells(rng: dict, rows: list[dict], fields: str = "userEnteredValue") -> dict:
    """Cells of ``rng`` that ``rows`` leave out are cleared for ``fields``: a rewrite."""
    return {"updateCells": {"range": rng, "rows": rows, "fields": fields}}


def number_text(value: float) -> str:
    """A number as a vi_VN user types it (decimal comma): conditions are parsed in that locale."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", ",")


#: The descriptions of our protected ranges, after the tab's title: they say who fills what,
#: and they name the tab as the toolkit made it, whatever a person renames it to.
PERIOD_COLUMN = ": cột kỳ báo cáo do Sở điền sẵn"
HEADER_ROW = ": dòng tiêu đề"
OWNED = ": do Sở cập nhật tự động"


def protected_tab(description: str) -> str | None:
    """The tab a protected range of ours was made for (None: not one of ours)."""
    for ending in (PERIOD_COLUMN, HEADER_ROW, OWNED):
        if description.endswith(ending) and len(description) > len(ending):
            return description[:-len(ending)]
    return None


def protect(rng: dict, description: str, editors: tuple[str, ...]) -> dict:
    """Only the province account edits; ``warningOnly`` false makes Sheets refuse, not warn."""
    protected: dict = {"range": rng, "description": description, "warningOnly": False}
    if editors:
        protected["editors"] = {"users": list(editors)}
    return {"addProtectedRange": {"protectedRange": protected}}


def column_width(sheet_id: int, col0: int, col1: int, pixels: int) -> dict:
    return {"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col0,
                  "endIndex": col1},
        "properties": {"pixelSize": pixels}, "fields": "pixelSize"}}


def add_sheet(info: SheetInfo, frozen_rows: int = 0, frozen_columns: int = 0) -> dict:
    grid_properties = {"rowCount": info.row_count, "columnCount": info.column_count}
    if frozen_rows:
        grid_properties["frozenRowCount"] = frozen_rows
    if frozen_columns:
        grid_properties["frozenColumnCount"] = frozen_columns
    return {"addSheet": {"properties": {
        "sheetId": info.sheet_id, "title": info.title, "index": info.index,
        "hidden": info.hidden, "gridProperties": grid_properties}}}


def spreadsheet_settings() -> dict:
    """Vietnamese number/date parsing and Vietnam time for NOW() and edit history."""
    return {"updateSpreadsheetProperties": {
        "properties": {"locale": LOCALE, "timeZone": TIME_ZONE}, "fields": "locale,timeZone"}}


def move_sheet(sheet_id: int, index: int) -> dict:
    return {"updateSheetProperties": {"properties": {"sheetId": sheet_id, "index": index},
                                      "fields": "index"}}


def rename_sheet(sheet_id: int, title: str) -> dict:
    return {"updateSheetProperties": {"properties": {"sheetId": sheet_id, "title": title},
                                      "fields": "title"}}


def delete_sheet(sheet_id: int) -> dict:
    return {"deleteSheet": {"sheetId": sheet_id}}


def quote_tab(title: str) -> str:
    """A tab title as an A1 range prefix: 'Báo cáo ngày', quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


# -- report tabs ----------------------------------------------------------------------------


def validation_rule(rule, column: int, first_row: int) -> dict | None:
    """The DataValidationRule the sheet enforces on one field column (None: free text)."""
    minimum = 0 if rule.minimum is None else rule.minimum
    if rule.kind == "int":
        ref = f"{column_letter(column)}{first_row}"
        # No argument separators: vi_VN formulas use ';' where en_US uses ','.
        formula = f"=(INT({ref})={ref})*({ref}>={number_text(math.ceil(minimum))})=1"
        return {"condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                "inputMessage": rule.hint, "strict": True}
    if rule.kind == "number":
        return {"condition": {"type": "NUMBER_GREATER_THAN_EQ",
                              "values": [{"userEnteredValue": number_text(minimum)}]},
                "inputMessage": rule.hint, "strict": True}
    if rule.kind == "date":
        return {"condition": {"type": "DATE_IS_VALID"},
                "inputMessage": rule.hint, "strict": True}
    if rule.kind == "choice":
        if rule.uses_village_list:
            source = f"={quote_tab(LISTS_TAB)}!$A$2:$A${VILLAGE_LIST_ROWS}"
            condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": source}]}
        else:
            condition = {"type": "ONE_OF_LIST",
                         "values": [{"userEnteredValue": c} for c in rule.choices]}
        return {"condition": condition, "inputMessage": rule.hint,
                "strict": rule.refuses_others, "showCustomUi": True}
    return None


def field_rows_requests(layout: TabLayout, sheet_id: int, first: int, last: int) -> list[dict]:
    """Formats and validation on the field cells of sheet rows ``first``..``last`` (1-based)."""
    out: list[dict] = []
    for rule in layout.columns:
        rng = grid(sheet_id, first - 1, last, rule.column - 1, rule.column)
        fmt = _NUMBER_FORMATS.get(rule.kind)
        if rule.number_format and rule.kind != "date":
            fmt = {"type": "NUMBER", "pattern": rule.number_format}
        if fmt is not None:
            out.append({"repeatCell": {"range": rng, "cell": {"userEnteredFormat": {
                "numberFormat": fmt}}, "fields": "userEnteredFormat.numberFormat"}})
        elif rule.kind == "text":
            out.append({"repeatCell": {"range": rng, "cell": {"userEnteredFormat": {
                "wrapStrategy": "WRAP"}}, "fields": "userEnteredFormat.wrapStrategy"}})
        validation = validation_rule(rule, rule.column, first)
        if validation is not None:
            out.append({"setDataValidation": {"range": rng, "rule": validation}})
    return out


def period_cells(layout: TabLayout, keys: tuple[str, ...]) -> list[dict]:
    """Daily rows hold real dates shown dd/mm/yyyy; others their label: "11/2026", "Quý IV/2026"."""
    fmt = period_format(layout)
    rows = []
    for key, served in layout.rows_of(keys):
        shown = date.fromisoformat(key) if layout.period == "daily" else \
            period_label(layout.period, key)
        named = [] if served is None else [cell(served, {"textFormat": {"bold": True}})]
        rows.append({"values": [cell(shown, fmt), *named]})
    return rows


def period_format(layout: TabLayout) -> dict:
    bold = {"textFormat": {"bold": True}}
    if layout.period == "daily":
        return {**bold, "numberFormat": {"type": "DATE", "pattern": DATE_PATTERN}}
    return bold


def append_periods_requests(layout: TabLayout, info: SheetInfo, last_used: int,
                            keys: tuple[str, ...]) -> list[dict]:
    """Period rows after the last used row (as the xlsx store does), growing the grid first."""
    first = max(last_used + 1, FIRST_DATA_ROW)
    last = first + len(layout.rows_of(keys)) - 1
    out: list[dict] = []
    if last > info.row_count:
        out.append({"appendDimension": {"sheetId": info.sheet_id, "dimension": "ROWS",
                                        "length": last - info.row_count}})
    fields = "userEnteredValue,userEnteredFormat(numberFormat,textFormat)"
    out.append(update_cells(grid(info.sheet_id, first - 1, last, 0, layout.key_columns),
                            period_cells(layout, keys), fields))
    return out + field_rows_requests(layout, info.sheet_id, first, last)


#: The look (layout.STYLE) a workbook was given, kept as developer metadata on the
#: spreadsheet: read with the spreadsheets.get provision makes anyway, so knowing that a
#: workbook is up to date costs nothing. DOCUMENT visibility: every account of the province
#: (each may be of another Cloud project) sees it. The id is ours, so it is updated in place.
STYLE_KEY = "toolkit_style"
STYLE_METADATA_ID = 20_261_120
STYLE_FIELDS = "developerMetadata(metadataId,metadataKey,metadataValue)"


def style_of(spreadsheet: dict) -> str | None:
    """The look recorded in a spreadsheets.get answer (None: none recorded)."""
    return next((m.get("metadataValue") for m in spreadsheet.get("developerMetadata", [])
                 if m.get("metadataKey") == STYLE_KEY), None)


def record_style(style: str, recorded: bool) -> dict:
    """Record the look given; ``recorded``: an earlier look is recorded, and is replaced."""
    if recorded:
        return {"updateDeveloperMetadata": {
            "dataFilters": [{"developerMetadataLookup": {"metadataId": STYLE_METADATA_ID}}],
            "developerMetadata": {"metadataValue": style}, "fields": "metadataValue"}}
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": STYLE_METADATA_ID, "metadataKey": STYLE_KEY, "metadataValue": style,
        "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}}


def look_requests(layout: TabLayout, sid: int) -> list[dict]:
    """What a report tab looks like beyond its cells' values: the header row's style and
    height, the column widths."""
    out = [
        {"repeatCell": {"range": grid(sid, 1, HEADER_ROWS, 0, len(layout.headers)),
                        "cell": {"userEnteredFormat": HEADER_FORMAT},
                        "fields": ",".join(f"userEnteredFormat.{f}" for f in (
                            "textFormat.bold", "wrapStrategy", "verticalAlignment",
                            "backgroundColor"))}},
        {"updateDimensionProperties": {
            "range": {"sheetId": sid, "dimension": "ROWS", "startIndex": 1, "endIndex": 2},
            "properties": {"pixelSize": header_pixels(layout)}, "fields": "pixelSize"}},
        column_width(sid, 0, 1, 100),
        *([column_width(sid, 1, 2, 24 * 7)] if layout.served else []),
    ]
    for rule in layout.columns:
        out.append(column_width(sid, rule.column - 1, rule.column, rule.width * 7))
    return out


def restyle_requests(layout: TabLayout, info: SheetInfo) -> list[dict]:
    """An existing report tab brought up to the current look — header, widths, number
    formats, input hints and validation on every data row — with no value rewritten."""
    last = max(info.row_count, FIRST_DATA_ROW)
    out = look_requests(layout, info.sheet_id)
    if layout.periodic:
        out.append({"repeatCell": {
            "range": grid(info.sheet_id, FIRST_DATA_ROW - 1, last, 0, 1),
            "cell": {"userEnteredFormat": period_format(layout)},
            "fields": "userEnteredFormat(numberFormat,textFormat)"}})
    return out + field_rows_requests(layout, info.sheet_id, FIRST_DATA_ROW, last)


def add_tab_requests(layout: TabLayout, info: SheetInfo, editors: tuple[str, ...], *,
                     exists: bool = False) -> list[dict]:
    """A report tab: title, header, frozen panes, period rows, formats, validation, protection.

    ``exists``: the tab came with a template; keep its look, fill in what the toolkit needs.
    """
    sid = info.sheet_id
    lead = layout.key_columns
    width = len(layout.headers)
    if exists:
        first = {"updateSheetProperties": {
            "properties": {"sheetId": sid, "gridProperties": {
                "frozenRowCount": HEADER_ROWS, "frozenColumnCount": lead}},
            "fields": "gridProperties(frozenRowCount,frozenColumnCount)"}}
    else:
        first = add_sheet(info, frozen_rows=HEADER_ROWS, frozen_columns=lead)
    out = [
        first,
        update_cells(grid(sid, 0, HEADER_ROWS, 0, width), [
            row([layout.title], {"textFormat": {"bold": True, "fontSize": 12}}),
            row(layout.headers, HEADER_FORMAT),
        ], "userEnteredValue,userEnteredFormat"),
        *look_requests(layout, sid)[1:],
    ]
    if layout.periodic:
        if layout.period_keys:
            out += append_periods_requests(layout, info, HEADER_ROWS, layout.period_keys)
        out.append(protect(grid(sid, FIRST_DATA_ROW - 1, None, 0, lead),
                           layout.tab + PERIOD_COLUMN, editors))
    else:
        out += field_rows_requests(layout, sid, FIRST_DATA_ROW,
                                   FIRST_DATA_ROW + layout.free_rows - 1)
    out.append(protect(grid(sid, 0, HEADER_ROWS), layout.tab + HEADER_ROW, editors))
    return out


def header_pixels(layout: TabLayout) -> int:
    """The header row tall enough for its wrapped headers (the widths drawn: 7 px a
    character), at least the 60 px it always had."""
    widths = {1: 100 / 7, **{r.column: r.width for r in layout.columns}}
    points = header_height(layout.headers, [widths.get(c, 16)
                                            for c in range(1, len(layout.headers) + 1)])
    return max(60, round(points * 4 / 3))


def tab_size(layout: TabLayout) -> tuple[int, int]:
    """Rows and columns of a new report tab: exactly what it holds, no stray blank rows."""
    return max(layout.last_row, FIRST_DATA_ROW), max(len(layout.headers), 1)


# -- owned tabs -----------------------------------------------------------------------------


def villages_requests(villages: tuple[str, ...], sid: int) -> list[dict]:
    """Rewrite the hidden list that feeds the village drop-downs (old names are cleared)."""
    rows = [row(["Thôn/bản"])] + [row([v]) for v in villages[:VILLAGE_LIST_ROWS - 1]]
    return [update_cells(grid(sid, 0, VILLAGE_LIST_ROWS, 0, 1), rows)]


def help_requests(lines: tuple[str, ...], sid: int) -> list[dict]:
    rows = [row([line]) for line in lines]
    if rows:
        rows[0] = row([lines[0]], {"textFormat": {"bold": True, "fontSize": 12}})
    return [update_cells(grid(sid, 0, len(rows), 0, 1), rows, "userEnteredValue,userEnteredFormat"),
            column_width(sid, 0, 1, 800)]


def help_rewrite(lines: tuple[str, ...], info: SheetInfo) -> list[dict]:
    """Hướng dẫn rewritten whole, the grid cut to the new lines (no old line left below)."""
    return [{"updateSheetProperties": {
        "properties": {"sheetId": info.sheet_id,
                       "gridProperties": {"rowCount": max(len(lines), 1)}},
        "fields": "gridProperties.rowCount"}}, *help_requests(lines, info.sheet_id)]


def feedback_tab_requests(sid: int) -> list[dict]:
    out = [update_cells(grid(sid, 0, HEADER_ROWS, 0, len(FEEDBACK_HEADERS)), [
        row(["Chưa kiểm tra lần nào."], {"textFormat": {"bold": True, "fontSize": 12}}),
        row(FEEDBACK_HEADERS, HEADER_FORMAT),
    ], "userEnteredValue,userEnteredFormat")]
    for col, chars in enumerate(FEEDBACK_WIDTHS):
        out.append(column_width(sid, col, col + 1, chars * 8))
    return out


def owned_tab_requests(tab: str, info: SheetInfo, editors: tuple[str, ...],
                       lines: tuple[str, ...] = (), villages: tuple[str, ...] = ()) -> list[dict]:
    """Kiểm tra, Hướng dẫn or Danh mục: the toolkit owns them, so staff cannot edit them."""
    frozen = HEADER_ROWS if tab == FEEDBACK_TAB else 0
    out = [add_sheet(info, frozen_rows=frozen)]
    if tab == FEEDBACK_TAB:
        out += feedback_tab_requests(info.sheet_id)
    elif tab == HELP_TAB:
        out += help_requests(lines, info.sheet_id)
    else:
        out += villages_requests(villages, info.sheet_id)
    out.append(protect(grid(info.sheet_id), tab + OWNED, editors))
    return out
