"""The province rollup spreadsheet on Google Sheets: the archive's tables, one tab each.

The tables are those of the Excel archive (:func:`toolkit.archive.archive_tables`), so both
always show the same thing. Each report's tabs are named "<report tab> · <sheet>" (e.g.
"Báo cáo ngày · Tổng hợp"), so every report fits in the one spreadsheet. Values go in as typed
cells (``stringValue``…), the API's equivalent of RAW: commune text is never parsed into a
formula.

A publication is all-or-nothing: every tab of every report is rewritten by ONE
spreadsheets.batchUpdate, which Google applies atomically ("it is guaranteed that the updates
in the request will be applied together atomically"), so readers see the previous complete
version or the new one, never a mix. It costs two requests — one spreadsheets.get (tabs, our
charts), one batchUpdate — planned from what the get found. When the batch's answer is lost
(connection dropped, read timeout, 5xx) it is never resent as it was: the spreadsheet is looked
at again and the batch planned anew from what is there. That is safe whether or not the lost
one was applied, because every tab and chart it adds carries its own id and Google refuses an
id that already exists — a batch applied twice fails whole instead of adding twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from toolkit.archive import TOTAL_COLOUR, cell_value, column_widths, format_of, wraps
from toolkit.backends.base import vietnamese
from toolkit.backends.google.bodies import (
    DATE_PATTERN,
    DEFAULT_TAB,
    SheetInfo,
    add_sheet,
    cell,
    column_width,
    delete_sheet,
    grid,
    quote_tab,
    sheet_id_for,
    spreadsheet_settings,
    update_cells,
)
from toolkit.excel import HEADER_COLOUR
from toolkit.periods import VN_TZ

SEPARATOR = " · "
CHART_COLUMNS = 8
MAX_CHARTS = 4          # charts on one tab, at most
#: Looks (spreadsheets.get) and plans a publication may take when answers are lost.
ROUNDS = 4
FIELDS = ("properties(locale,timeZone),sheets(properties(sheetId,title,index,"
          "gridProperties(rowCount,columnCount)),charts(chartId),merges)")
#: The archive's number formats (``archive.format_of``) as Google number formats.
_FORMATS = {"0.0%": {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}},
            "#,##0": {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}},
            "#,##0.0": {"numberFormat": {"type": "NUMBER", "pattern": "#,##0.0"}}}


def tab_title(report_tab: str, name: str) -> str:
    return f"{report_tab}{SEPARATOR}{name}"


def chart_id_for(title: str, index: int = 0) -> int:
    """Our charts on a tab have stable ids, so a re-run replaces them instead of adding more."""
    return sheet_id_for(f"chart:{title}" if index == 0 else f"chart:{title}#{index}")


def chart_ids(title: str) -> list[int]:
    """The ids our charts of a tab may have, the first chart's first."""
    return [chart_id_for(title, i) for i in range(MAX_CHARTS)]


def url_of(spreadsheet_id: str, sheet_id: int | None = None) -> str:
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"
    return url if sheet_id is None else f"{url}#gid={sheet_id}"


# -- what a report's tabs hold (pure, JSON) -------------------------------------------------


def render(tables) -> list[dict]:
    """A report's tables as the tabs that show them: typed cells, sizes, widths, chart.

    Plain JSON, independent of any spreadsheet's sheet ids: the ledger keeps the last one of
    each report (:func:`digest` names it), so a later sweep can publish it again.
    """
    return [_tab(table) for table in tables]


def digest(tabs: list[dict]) -> str:
    body = json.dumps(tabs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _tab(table) -> dict:
    frame = table.frame
    head = 1 if table.header else 0
    top = table.header_index                       # title lines and a gap above the header
    # Under totals the header comes again after a blank row, and the filter sits on it, as in
    # the archive: sorting the communes never moves the province and district totals.
    again = 2 if table.filter_index != top else 0
    height = max(top + len(frame) + head + again, top + head + 1)  # never all frozen
    width = max(len(frame.columns), 1)
    header = {"textFormat": {"bold": True}, "wrapStrategy": "WRAP",
              "verticalAlignment": "MIDDLE", "backgroundColor": _rgb(HEADER_COLOUR)}
    rows = [{"values": [cell(line, {"textFormat": {"bold": True,
                                                   "fontSize": 14 if i == 0 else 11}})]}
            for i, line in enumerate(table.title)]
    rows += [{"values": []}] if table.title else []
    header_row = [{"values": [cell(str(c), header) for c in frame.columns]}] if head else []
    rows += header_row
    columns = list(frame.columns)
    coloured = columns.index(table.status) if table.status else -1
    shaded = [c for c, column in enumerate(columns) if column in table.shade]
    total = {"textFormat": {"bold": True}, "backgroundColor": _rgb(TOTAL_COLOUR)}
    widths = column_widths(table)
    for r, record in enumerate(frame.itertuples(index=False, name=None)):
        if again and r == table.totals:
            rows += [{"values": []}] + header_row
        values = [typed_cell(table, columns[c], v) for c, v in enumerate(record)]
        for c, v in enumerate(record):
            if table.header and wraps(cell_value(v), widths[c]):
                values[c].setdefault("userEnteredFormat", {}).update(
                    {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"})
        if r < table.totals:
            for value in values:
                value.setdefault("userEnteredFormat", {}).update(total)
        else:
            if coloured >= 0 and table.fills[r]:
                values[coloured].setdefault("userEnteredFormat", {})["backgroundColor"] = \
                    _rgb(table.fills[r])
            if table.blank_fills and table.blank_fills[r]:
                for c in shaded:
                    if "userEnteredValue" not in values[c]:
                        values[c].setdefault("userEnteredFormat", {})["backgroundColor"] = \
                            _rgb(table.blank_fills[r])
        rows.append({"values": values})
    charts = [_chart(table, chart, i) for i, chart in enumerate(table.all_charts) if chart.rows]
    return {
        "name": table.name, "rows": rows, "height": height, "width": width,
        # A chart is anchored to a cell, which must exist: empty columns to its right hold it.
        "columns": width + CHART_COLUMNS if table.all_charts else width,
        "header_row": table.filter_index if head else None,
        "frozen_rows": table.frozen_rows, "frozen_columns": table.frozen_columns,
        "widths": [7 * w for w in widths], "charts": charts,
    }


def _chart(table, spec, index: int) -> dict:
    """Horizontal bars per category, or lines over periods, beside the table; the charts of
    one tab stacked from the top."""
    columns = list(table.frame.columns)
    bar = spec.kind == "bar"
    height = max(320, 20 * spec.rows + 120) if bar else 360
    above = sum(max(320, 20 * c.rows + 120) if c.kind == "bar" else 360
                for c in table.all_charts[:index] if c.rows)
    return {"type": "BAR" if bar else "LINE", "title": spec.title, "rows": spec.rows,
            "header_row": table.header_index, "start": spec.start,
            "domain": columns.index(spec.categories),
            "series": [columns.index(h) for h in spec.series],
            "axis": "BOTTOM_AXIS" if bar else "LEFT_AXIS",
            "height": height, "anchor_column": len(columns) + 1,
            "anchor_row": table.header_index + 1 + (above + 20) // 21, "index": index}


# -- request bodies (pure) ------------------------------------------------------------------


def strays(metadata: dict, contents: dict[str, list[dict]]) -> list[str]:
    """The tab a new spreadsheet starts with ("Sheet1", "Trang tính1"), still there beside
    the rollup's own: to go once it is known to be empty. Not ours, and without a chart."""
    ours = {tab_title(r, t["name"]) for r, tabs in contents.items() for t in tabs}
    return [s["properties"]["title"] for s in metadata.get("sheets", [])
            if DEFAULT_TAB.match(s["properties"]["title"])
            and s["properties"]["title"] not in ours and not s.get("charts")]


def publish_requests(contents: dict[str, list[dict]], metadata: dict,
                     known_names: tuple[str, ...] = (), empty: tuple[str, ...] = ()
                     ) -> tuple[list[dict], dict[str, int]]:
    """ONE batchUpdate for every report's tabs; and the sheet id of each tab.

    ``contents`` maps a report's tab to its rendered tabs (:func:`render`); ``metadata`` is
    the spreadsheets.get answer for :data:`FIELDS`. Tabs of a published report that it no
    longer has (e.g. "Theo huyện" once the registry has no districts) are removed, and so are
    the ``empty`` tabs of :func:`strays` (once ours exist, so one tab always remains); any
    other tab is left alone.
    """
    existing = {s["properties"]["title"]: s for s in metadata.get("sheets", [])}
    taken = {s["properties"]["sheetId"] for s in existing.values()}
    # Wherever our chart is now (a person may have moved it to a sheet of its own), it goes:
    # adding it again under its id while it exists would fail the whole batch.
    charts = {c["chartId"] for s in existing.values() for c in s.get("charts", [])}
    out: list[dict] = []
    props = metadata.get("properties", {})
    if not vietnamese(props.get("locale"), props.get("timeZone")):
        out.append(spreadsheet_settings())
    ids: dict[str, int] = {}
    position = 0
    for report_tab, tabs in contents.items():
        for tab in tabs:
            title = tab_title(report_tab, tab["name"])
            found = existing.get(title)
            if found is None:
                sid = sheet_id_for(title, taken)
                taken.add(sid)
            else:
                sid = found["properties"]["sheetId"]
            out += tab_requests(tab, title, sid, position, found, charts)
            ids[title] = sid
            position += 1
        stale = {tab_title(report_tab, n) for n in known_names} - set(ids)
        out += [delete_sheet(existing[t]["properties"]["sheetId"]) for t in sorted(stale)
                if t in existing]
    if ids:
        out += [delete_sheet(existing[t]["properties"]["sheetId"])
                for t in strays(metadata, contents) if t in empty]
    return out, ids


def tab_requests(tab: dict, title: str, sid: int, index: int, found: dict | None,
                 charts: set[int] | frozenset[int] = frozenset()) -> list[dict]:
    """One tab rewritten whole: sized to the table, every cell (value, format, note,
    validation) rewritten, cells a person merged split again, shown if hidden, header frozen,
    filter, charts. ``found`` is the tab as spreadsheets.get described it (None: add it);
    ``charts``: the chart ids that exist somewhere; ours among them are drawn anew."""
    height, width, columns = tab["height"], tab["width"], tab["columns"]
    head = tab["frozen_rows"]
    frozen = {"frozenRowCount": head, "frozenColumnCount": tab["frozen_columns"]}
    out: list[dict] = [{"deleteEmbeddedObject": {"objectId": chart_id}}
                       for chart_id in chart_ids(title) if chart_id in charts]
    if found is not None:
        if found.get("merges"):
            out.append({"unmergeCells": {"range": grid(sid)}})
        out.append({"updateSheetProperties": {
            "properties": {"sheetId": sid, "index": index, "hidden": False, "gridProperties": {
                "rowCount": height, "columnCount": columns, **frozen}},
            "fields": "index,hidden,gridProperties(rowCount,columnCount,frozenRowCount,"
                      "frozenColumnCount)"}})
    else:
        out.append(add_sheet(SheetInfo(sid, title, index, height, columns), frozen_rows=head,
                             frozen_columns=tab["frozen_columns"]))
    out.append(update_cells(grid(sid), tab["rows"],
                            "userEnteredValue,userEnteredFormat,note,dataValidation"))
    for c, pixels in enumerate(tab["widths"]):
        out.append(column_width(sid, c, c + 1, pixels))
    header_row = tab.get("header_row", 0 if head else None)
    if header_row is not None:
        out.append({"setBasicFilter": {"filter": {
            "range": grid(sid, header_row, height, 0, width)}}})
    for chart in _charts_of(tab):
        out.append(chart_request(chart, sid, chart_ids(title)[chart["index"]]))
    return out


def _charts_of(tab: dict) -> list[dict]:
    """A tab's charts; a tab the ledger kept from before tabs had several has one."""
    if "charts" in tab:
        return tab["charts"]
    legacy = tab.get("chart")
    return [] if legacy is None else [
        {"start": 0, "header_row": 0, "anchor_row": 1, "index": 0} | legacy]


def chart_request(chart: dict, sid: int, chart_id: int) -> dict:
    """addChart with our stable id: Google refuses an id that exists, so never two."""
    # Data right under the header: the header names the series. A block further down has no
    # header of its own; its one series is named by the chart's title, without a legend.
    headed = chart["start"] == 0
    low = chart["header_row"] + (0 if headed else 1 + chart["start"])
    high = chart["header_row"] + 1 + chart["start"] + chart["rows"]

    def source(column: int) -> dict:
        return {"sourceRange": {"sources": [grid(sid, low, high, column, column + 1)]}}

    basic = {
        "chartType": chart["type"],
        "legendPosition": "BOTTOM_LEGEND" if headed and chart["type"] == "LINE"
        else "NO_LEGEND",
        "headerCount": 1 if headed else 0,
        "domains": [{"domain": source(chart["domain"])}],
        "series": [{"series": source(c), "targetAxis": chart["axis"]} for c in chart["series"]],
    }
    return {"addChart": {"chart": {
        "chartId": chart_id,
        "spec": {"title": chart["title"], "basicChart": basic},
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sid, "rowIndex": chart["anchor_row"],
                           "columnIndex": chart["anchor_column"]},
            "widthPixels": 640, "heightPixels": chart["height"]}},
    }}}


def typed_cell(table, column: str, value) -> dict:
    """A table value as a typed cell with the archive's number format."""
    value = cell_value(value)
    if value is None:
        return {}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VN_TZ)
        return cell(value.replace(tzinfo=None), {"numberFormat": {
            "type": "DATE_TIME", "pattern": "dd/mm/yyyy hh:mm"}})
    if isinstance(value, date):
        return cell(value, {"numberFormat": {"type": "DATE", "pattern": DATE_PATTERN},
                            "horizontalAlignment": "CENTER"})
    number_format = format_of(table, column, value)
    if number_format is None or isinstance(value, bool) or not isinstance(value, int | float):
        return cell(value)
    return cell(value, _FORMATS[number_format])


def _rgb(hex_colour: str) -> dict:
    red, green, blue = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 3), "green": round(green, 3), "blue": round(blue, 3)}


# -- sending --------------------------------------------------------------------------------


def publish(api, spreadsheet_id: str, contents: dict[str, list[dict]],
            known_names: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """Make the rollup spreadsheet show ``contents`` (report tab → :func:`render`), whole.

    Normally two requests. A batch whose answer was lost may or may not have been applied;
    rather than resend it, look again and plan anew from what is there (up to
    :data:`ROUNDS` times, with the jittered backoff of any retry in between). A 400 after a
    lost answer means the lost batch landed in the meantime (its ids now exist), so that is
    looked at again too. Returns the address of each report's first tab and the number of
    requests sent.
    """
    from gspread.exceptions import APIError

    from toolkit.backends.google.api import SHEETS_URL
    from toolkit.backends.google.http import AmbiguousWriteError
    from toolkit.errors import WorkbookError

    before = api.requests_sent
    http = api.http_for(spreadsheet_id)
    lost = ""
    for round_ in range(ROUNDS):
        if round_:
            http.pacer.pause(http.policy.backoff(round_ - 1, http.rng))
        metadata = _look(api, spreadsheet_id)
        requests, ids = publish_requests(contents, metadata, known_names,
                                         _empty(api, spreadsheet_id, strays(metadata, contents)))
        try:
            api.send(http, "post", f"{SHEETS_URL}/{spreadsheet_id}:batchUpdate",
                     spreadsheet_id, json={"requests": requests}, safe=False,
                     tolerate=(400,) if lost else ())
        except AmbiguousWriteError as exc:
            lost = str(exc).removeprefix(f"spreadsheet {spreadsheet_id}: ")
            continue
        except APIError as exc:
            lost = f"Google từ chối lần ghi mới ({exc.error.get('message', exc.code)})"
            continue
        urls = {tab: url_of(spreadsheet_id, ids[tab_title(tab, tabs[0]["name"])])
                for tab, tabs in contents.items() if tabs}
        return urls, api.requests_sent - before
    raise WorkbookError(f"bảng tổng hợp {spreadsheet_id}: chưa xác nhận được lần ghi sau "
                        f"{ROUNDS} lần thử (lần cuối: {lost}); Google ghi mỗi lần trọn vẹn hoặc "
                        "không ghi gì, nên bảng vẫn là một bản đầy đủ — bản trước hoặc bản này; "
                        "lần chạy sau sẽ ghi lại")


def _empty(api, spreadsheet_id: str, titles: list[str]) -> tuple[str, ...]:
    """Which of ``titles`` hold no value: ONE values.batchGet, only while a stray tab is
    there (the first publication into a new spreadsheet, or a tab someone typed into)."""
    if not titles:
        return ()
    grids = api.batch_get(spreadsheet_id, [quote_tab(t) for t in titles])
    return tuple(t for t, rows in zip(titles, grids, strict=True)
                 if not any(v not in (None, "") for row in rows for v in row))


def _look(api, spreadsheet_id: str) -> dict:
    """The spreadsheets.get the plan starts from; a spreadsheet we cannot reach is a setup
    problem, said in full."""
    from gspread.exceptions import APIError

    from toolkit.backends.google.api import SHEETS_URL
    from toolkit.errors import WorkbookError

    http = api.http_for(spreadsheet_id)
    try:
        return api.call(http, "get", f"{SHEETS_URL}/{spreadsheet_id}", spreadsheet_id,
                        params={"fields": FIELDS}, tolerate=(403, 404))
    except APIError as exc:
        account = api.email_of(http)
        raise WorkbookError(
            f"không thấy bảng tổng hợp {spreadsheet_id}, hoặc bảng chưa được chia sẻ với "
            f"{account} (Google trả lời {exc.code}); hãy kiểm tra [google] rollup_spreadsheet_id "
            f"trong toolkit.toml và chia sẻ bảng tính với {account} quyền Người chỉnh sửa "
            "(Editor)") from exc
