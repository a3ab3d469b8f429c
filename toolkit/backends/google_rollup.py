"""The province rollup spreadsheet on Google Sheets: the archive's tables, one tab each.

The tables are those of the Excel archive (:func:`toolkit.archive.archive_tables`), so both
always show the same thing. Each report's tabs are named "<report tab> · <sheet>" (e.g.
"Báo cáo ngày · Tổng hợp"), so every report fits in the one spreadsheet. Publishing costs two
requests whatever the size: one spreadsheets.get (tab ids, our charts), one batchUpdate that
adds, resizes and rewrites every tab and redraws the charts. Values go in as typed cells
(``stringValue``…), the API's equivalent of RAW: commune text is never parsed into a formula.
"""

from __future__ import annotations

from datetime import date, datetime

from toolkit.archive import cell_value, format_of
from toolkit.backends.google_requests import (
    DATE_PATTERN,
    LOCALE,
    TIME_ZONE,
    SheetInfo,
    add_sheet,
    cell,
    column_width,
    delete_sheet,
    grid,
    sheet_id_for,
    spreadsheet_settings,
    update_cells,
)
from toolkit.excel import HEADER_COLOUR, display_width
from toolkit.periods import VN_TZ

SEPARATOR = " · "
CHART_COLUMNS = 8
FIELDS = ("properties(locale,timeZone),sheets(properties(sheetId,title,index,"
          "gridProperties(rowCount,columnCount)),charts(chartId))")
#: The archive's number formats (``archive.format_of``) as Google number formats.
_FORMATS = {"0.0%": {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}},
            "#,##0": {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}},
            "#,##0.0": {"numberFormat": {"type": "NUMBER", "pattern": "#,##0.0"}}}


def tab_title(report_tab: str, name: str) -> str:
    return f"{report_tab}{SEPARATOR}{name}"


def chart_id_for(title: str) -> int:
    """Our chart on a tab has a stable id, so a re-run replaces it instead of adding another."""
    return sheet_id_for(f"chart:{title}")


def url_of(spreadsheet_id: str, sheet_id: int | None = None) -> str:
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"
    return url if sheet_id is None else f"{url}#gid={sheet_id}"


# -- request bodies (pure) ------------------------------------------------------------------


def publish_requests(books: dict[str, list], metadata: dict,
                     known_names: tuple[str, ...] = ()) -> tuple[list[dict], dict[str, int]]:
    """ONE batchUpdate for every report's tables; and the sheet id of each tab.

    ``books`` maps a report's tab to its tables; ``metadata`` is the spreadsheets.get answer
    for :data:`FIELDS`. Tabs of a published report that it no longer has (e.g. "Theo huyện"
    once the registry has no districts) are removed; any other tab is left alone.
    """
    existing = {s["properties"]["title"]: s for s in metadata.get("sheets", [])}
    taken = {s["properties"]["sheetId"] for s in existing.values()}
    out: list[dict] = []
    props = metadata.get("properties", {})
    if (props.get("locale"), props.get("timeZone")) != (LOCALE, TIME_ZONE):
        out.append(spreadsheet_settings())
    ids: dict[str, int] = {}
    position = 0
    for report_tab, tables in books.items():
        for table in tables:
            title = tab_title(report_tab, table.name)
            found = existing.get(title)
            if found is None:
                sid = sheet_id_for(title, taken)
                taken.add(sid)
            else:
                sid = found["properties"]["sheetId"]
            charts = [c["chartId"] for c in (found or {}).get("charts", [])]
            out += table_requests(table, title, sid, position, exists=found is not None,
                                  charts=charts)
            ids[title] = sid
            position += 1
        stale = {tab_title(report_tab, n) for n in known_names} - set(ids)
        out += [delete_sheet(existing[t]["properties"]["sheetId"]) for t in sorted(stale)
                if t in existing]
    return out, ids


def table_requests(table, title: str, sid: int, index: int, *, exists: bool,
                   charts: list[int] = ()) -> list[dict]:
    """One tab: sized to the table, every cell rewritten, header frozen, filter, chart."""
    frame = table.frame
    head = 1 if table.header else 0
    height, width = max(len(frame) + head, head + 1), max(len(frame.columns), 1)  # not all frozen
    frozen = {"frozenRowCount": head, "frozenColumnCount": table.frozen_columns}
    # A chart is anchored to a cell, which must exist: empty columns to its right hold it.
    columns = width + CHART_COLUMNS if table.chart is not None else width
    info = SheetInfo(sid, title, index, height, columns)
    chart_id = chart_id_for(title)
    out = [{"deleteEmbeddedObject": {"objectId": chart_id}}] if chart_id in charts else []
    if exists:
        out += [{"updateSheetProperties": {
            "properties": {"sheetId": sid, "index": index, "gridProperties": {
                "rowCount": height, "columnCount": columns, **frozen}},
            "fields": "index,gridProperties(rowCount,columnCount,frozenRowCount,"
                      "frozenColumnCount)"}}]
    else:
        out += [add_sheet(info, frozen_rows=head, frozen_columns=table.frozen_columns)]
    header = {"textFormat": {"bold": True}, "wrapStrategy": "WRAP",
              "verticalAlignment": "MIDDLE", "backgroundColor": _rgb(HEADER_COLOUR)}
    rows = [{"values": [cell(str(c), header) for c in frame.columns]}] if head else []
    columns = list(frame.columns)
    coloured = columns.index(table.status) if table.status else -1
    for r, record in enumerate(frame.itertuples(index=False, name=None)):
        values = [typed_cell(table, columns[c], v) for c, v in enumerate(record)]
        if coloured >= 0 and table.fills[r]:
            values[coloured].setdefault("userEnteredFormat", {})["backgroundColor"] = \
                _rgb(table.fills[r])
        rows.append({"values": values})
    out.append(update_cells(grid(sid), rows, "userEnteredValue,userEnteredFormat"))
    for c, pixels in enumerate(_widths(table)):
        out.append(column_width(sid, c, c + 1, pixels))
    if head:
        out.append({"setBasicFilter": {"filter": {"range": grid(sid, 0, height, 0, width)}}})
    if table.chart is not None and table.chart.rows:
        out.append(chart_request(table, sid, chart_id))
    return out


def chart_request(table, sid: int, chart_id: int) -> dict:
    """addChart: horizontal bars per commune, or lines over periods, beside the table."""
    spec = table.chart
    columns = list(table.frame.columns)

    def source(header: str) -> dict:
        c = columns.index(header)
        return {"sourceRange": {"sources": [grid(sid, 0, spec.rows + 1, c, c + 1)]}}

    bar = spec.kind == "bar"
    value_axis = "BOTTOM_AXIS" if bar else "LEFT_AXIS"
    basic = {
        "chartType": "BAR" if bar else "LINE",
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": 1,
        "domains": [{"domain": source(spec.categories)}],
        "series": [{"series": source(h), "targetAxis": value_axis} for h in spec.series],
    }
    height = max(320, 20 * spec.rows + 120) if bar else 360
    return {"addChart": {"chart": {
        "chartId": chart_id,
        "spec": {"title": spec.title, "basicChart": basic},
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sid, "rowIndex": 1, "columnIndex": len(columns) + 1},
            "widthPixels": 640, "heightPixels": height}},
    }}}


def typed_cell(table, column: str, value) -> dict:
    """A table value as a typed cell with the archive's number format."""
    if hasattr(value, "to_pydatetime"):          # pandas Timestamp
        value = value.to_pydatetime()
    value = cell_value(value)
    if value is None:
        return {}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VN_TZ)
        return cell(value.replace(tzinfo=None), {"numberFormat": {
            "type": "DATE_TIME", "pattern": "dd/mm/yyyy hh:mm"}})
    if isinstance(value, date):
        return cell(value, {"numberFormat": {"type": "DATE", "pattern": DATE_PATTERN}})
    number_format = format_of(table, column, value)
    if number_format is None or isinstance(value, bool) or not isinstance(value, int | float):
        return cell(value)
    return cell(value, _FORMATS[number_format])


def _rgb(hex_colour: str) -> dict:
    red, green, blue = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 3), "green": round(green, 3), "blue": round(blue, 3)}


def _widths(table, minimum: int = 8, maximum: int = 45) -> list[int]:
    """Column widths that fit the longest value, as the archive's fit_columns does."""
    out = []
    for column in table.frame.columns:
        values = [v for v in table.frame[column] if cell_value(v) is not None]
        chars = max((display_width(v) for v in ([column] if table.header else []) + values),
                    default=minimum)
        out.append(7 * max(minimum, min(maximum if table.header else 80, chars)))
    return out


# -- sending --------------------------------------------------------------------------------


def publish(api, spreadsheet_id: str, books: dict[str, list],
            known_names: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """Write every report's tables to the rollup spreadsheet in two requests.

    Returns the address of each report's first tab and the number of requests sent.
    """
    from gspread.exceptions import APIError

    from toolkit.backends.google_api import SHEETS_URL
    from toolkit.errors import WorkbookError

    before = api.requests_sent
    try:
        metadata = api.call(api.http_for(spreadsheet_id), "get",
                            f"{SHEETS_URL}/{spreadsheet_id}", spreadsheet_id,
                            params={"fields": FIELDS}, tolerate=(403, 404))
    except APIError as exc:
        account = api.email_of(api.http_for(spreadsheet_id))
        raise WorkbookError(
            f"the rollup spreadsheet {spreadsheet_id} is not there or not shared with {account} "
            f"(Google answered {exc.code}); check [google] rollup_spreadsheet_id in "
            f"toolkit.toml and share the spreadsheet with {account} as Editor") from exc
    requests, ids = publish_requests(books, metadata, known_names)
    api.batch_update(spreadsheet_id, requests,
                     what="while the rollup was being written; run `toolkit rollup` again")
    urls = {tab: url_of(spreadsheet_id, ids[tab_title(tab, tables[0].name)])
            for tab, tables in books.items() if tables}
    return urls, api.requests_sent - before
