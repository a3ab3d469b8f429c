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


def chart_id_for(title: str) -> int:
    """Our chart on a tab has a stable id, so a re-run replaces it instead of adding another."""
    return sheet_id_for(f"chart:{title}")


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
    height, width = max(len(frame) + head, head + 1), max(len(frame.columns), 1)  # not all frozen
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
    chart = _chart(table) if table.chart is not None and table.chart.rows else None
    return {
        "name": table.name, "rows": rows, "height": height, "width": width,
        # A chart is anchored to a cell, which must exist: empty columns to its right hold it.
        "columns": width + CHART_COLUMNS if table.chart is not None else width,
        "frozen_rows": head, "frozen_columns": table.frozen_columns,
        "widths": _widths(table), "chart": chart,
    }


def _chart(table) -> dict:
    """Horizontal bars per commune, or lines over periods, beside the table."""
    spec = table.chart
    columns = list(table.frame.columns)
    bar = spec.kind == "bar"
    return {"type": "BAR" if bar else "LINE", "title": spec.title, "rows": spec.rows,
            "domain": columns.index(spec.categories),
            "series": [columns.index(h) for h in spec.series],
            "axis": "BOTTOM_AXIS" if bar else "LEFT_AXIS",
            "height": max(320, 20 * spec.rows + 120) if bar else 360,
            "anchor_column": len(columns) + 1}


# -- request bodies (pure) ------------------------------------------------------------------


def publish_requests(contents: dict[str, list[dict]], metadata: dict,
                     known_names: tuple[str, ...] = ()) -> tuple[list[dict], dict[str, int]]:
    """ONE batchUpdate for every report's tabs; and the sheet id of each tab.

    ``contents`` maps a report's tab to its rendered tabs (:func:`render`); ``metadata`` is
    the spreadsheets.get answer for :data:`FIELDS`. Tabs of a published report that it no
    longer has (e.g. "Theo huyện" once the registry has no districts) are removed; any other
    tab is left alone.
    """
    existing = {s["properties"]["title"]: s for s in metadata.get("sheets", [])}
    taken = {s["properties"]["sheetId"] for s in existing.values()}
    # Wherever our chart is now (a person may have moved it to a sheet of its own), it goes:
    # adding it again under its id while it exists would fail the whole batch.
    charts = {c["chartId"] for s in existing.values() for c in s.get("charts", [])}
    out: list[dict] = []
    props = metadata.get("properties", {})
    if (props.get("locale"), props.get("timeZone")) != (LOCALE, TIME_ZONE):
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
            out += tab_requests(tab, title, sid, position, found,
                                chart_id_for(title) in charts)
            ids[title] = sid
            position += 1
        stale = {tab_title(report_tab, n) for n in known_names} - set(ids)
        out += [delete_sheet(existing[t]["properties"]["sheetId"]) for t in sorted(stale)
                if t in existing]
    return out, ids


def tab_requests(tab: dict, title: str, sid: int, index: int, found: dict | None,
                 has_chart: bool = False) -> list[dict]:
    """One tab rewritten whole: sized to the table, every cell (value, format, note,
    validation) rewritten, cells a person merged split again, shown if hidden, header frozen,
    filter, chart. ``found`` is the tab as spreadsheets.get described it (None: add it);
    ``has_chart``: our chart for this tab exists somewhere and is drawn anew."""
    height, width, columns = tab["height"], tab["width"], tab["columns"]
    head = tab["frozen_rows"]
    frozen = {"frozenRowCount": head, "frozenColumnCount": tab["frozen_columns"]}
    chart_id = chart_id_for(title)
    out: list[dict] = []
    if has_chart:
        out.append({"deleteEmbeddedObject": {"objectId": chart_id}})
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
    if head:
        out.append({"setBasicFilter": {"filter": {"range": grid(sid, 0, height, 0, width)}}})
    if tab["chart"] is not None:
        out.append(chart_request(tab["chart"], sid, chart_id))
    return out


def chart_request(chart: dict, sid: int, chart_id: int) -> dict:
    """addChart with our stable id: Google refuses an id that exists, so never two."""
    def source(column: int) -> dict:
        return {"sourceRange": {"sources": [grid(sid, 0, chart["rows"] + 1, column,
                                                 column + 1)]}}

    basic = {
        "chartType": chart["type"],
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": 1,
        "domains": [{"domain": source(chart["domain"])}],
        "series": [{"series": source(c), "targetAxis": chart["axis"]} for c in chart["series"]],
    }
    return {"addChart": {"chart": {
        "chartId": chart_id,
        "spec": {"title": chart["title"], "basicChart": basic},
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sid, "rowIndex": 1, "columnIndex": chart["anchor_column"]},
            "widthPixels": 640, "heightPixels": chart["height"]}},
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

    from toolkit.backends.google_api import SHEETS_URL
    from toolkit.backends.google_http import AmbiguousWriteError
    from toolkit.errors import WorkbookError

    before = api.requests_sent
    http = api.http_for(spreadsheet_id)
    lost = ""
    for round_ in range(ROUNDS):
        if round_:
            http.pacer.pause(http.policy.backoff(round_ - 1, http.rng))
        requests, ids = publish_requests(contents, _look(api, spreadsheet_id), known_names)
        try:
            api.send(http, "post", f"{SHEETS_URL}/{spreadsheet_id}:batchUpdate",
                     spreadsheet_id, json={"requests": requests}, safe=False,
                     tolerate=(400,) if lost else ())
        except AmbiguousWriteError as exc:
            lost = str(exc).removeprefix(f"spreadsheet {spreadsheet_id}: ")
            continue
        except APIError as exc:
            lost = f"Google refused the new plan ({exc.error.get('message', exc.code)})"
            continue
        urls = {tab: url_of(spreadsheet_id, ids[tab_title(tab, tabs[0]["name"])])
                for tab, tabs in contents.items() if tabs}
        return urls, api.requests_sent - before
    raise WorkbookError(f"spreadsheet {spreadsheet_id}: writing the rollup could not be "
                        f"confirmed in {ROUNDS} tries (last: {lost}); Google applies each write "
                        "whole or not at all, so it shows a complete version, the previous one "
                        "or this one")


def _look(api, spreadsheet_id: str) -> dict:
    """The spreadsheets.get the plan starts from; a spreadsheet we cannot reach is a setup
    problem, said in full."""
    from gspread.exceptions import APIError

    from toolkit.backends.google_api import SHEETS_URL
    from toolkit.errors import WorkbookError

    http = api.http_for(spreadsheet_id)
    try:
        return api.call(http, "get", f"{SHEETS_URL}/{spreadsheet_id}", spreadsheet_id,
                        params={"fields": FIELDS}, tolerate=(403, 404))
    except APIError as exc:
        account = api.email_of(http)
        raise WorkbookError(
            f"the rollup spreadsheet {spreadsheet_id} is not there or not shared with {account} "
            f"(Google answered {exc.code}); check [google] rollup_spreadsheet_id in "
            f"toolkit.toml and share the spreadsheet with {account} as Editor") from exc
