"""Google request bodies, checked offline against Google's own discovery documents.

Every key we send must exist in the API schema (a typo like ``frozenRowsCount`` is silently
ignored by Google, so only a schema check catches it), enums must be valid, and text must go in
as ``stringValue`` so nothing a commune typed can become a live formula.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import googleapiclient
import pandas as pd
import pytest

from toolkit.backends.google import bodies as gr
from toolkit.backends.google import drive as gd
from toolkit.backends.google import feedback as gf
from toolkit.backends.google import rollup as grl
from toolkit.config import PACKAGED_TEMPLATES
from toolkit.layout import FEEDBACK_TAB, HELP_TAB, LISTS_TAB, tab_layout
from toolkit.periods import VN_TZ
from toolkit.templates import load_templates

DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
SHEETS = json.loads((DOCS / "sheets.v4.json").read_text(encoding="utf-8"))
DRIVE = json.loads((DOCS / "drive.v3.json").read_text(encoding="utf-8"))
START, END = date(2026, 11, 20), date(2026, 12, 31)
EDITORS = ("province@lang-son.iam.gserviceaccount.com",)


def check_schema(doc: dict, schema: dict | str, value, path: str = "$") -> None:
    """Assert ``value`` fits ``schema`` of discovery document ``doc``: keys, types, enums."""
    if isinstance(schema, str):
        schema = {"$ref": schema}
    while "$ref" in schema:
        schema = doc["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                check_schema(doc, props[key], item, f"{path}.{key}")
            elif extra is not None:
                check_schema(doc, extra, item, f"{path}.{key}")
            else:
                raise AssertionError(f"{path}: '{key}' is not in the schema "
                                     f"(known: {', '.join(sorted(props))})")
    elif kind == "array":
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        for i, item in enumerate(value):
            check_schema(doc, schema["items"], item, f"{path}[{i}]")
    elif kind == "string":
        if schema.get("format") in ("int64", "uint64") and isinstance(value, int):
            return
        assert isinstance(value, str), f"{path}: expected text, got {value!r}"
        if "enum" in schema:
            assert value in schema["enum"], f"{path}: {value!r} not one of {schema['enum']}"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: {value!r}"
    elif kind == "number":
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{path}: {value!r}"
        assert math.isfinite(value), f"{path}: {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: expected true/false, got {value!r}"


def check_batch(requests: list[dict]) -> None:
    check_schema(SHEETS, "BatchUpdateSpreadsheetRequest", {"requests": requests})
    for request in requests:
        assert len(request) == 1, f"one kind per Request, got {sorted(request)}"


def layouts() -> dict:
    specs = load_templates(PACKAGED_TEMPLATES)
    return {s.key: tab_layout(s, "Xã Hoàng Văn Thụ", START, END) for s in specs}


def all_of(requests: list[dict], kind: str) -> list[dict]:
    return [r[kind] for r in requests if kind in r]


def test_the_walker_catches_a_misspelt_key_and_a_bad_enum():
    with pytest.raises(AssertionError, match="frozenRowsCount"):
        check_batch([{"addSheet": {"properties": {"gridProperties": {"frozenRowsCount": 2}}}}])
    with pytest.raises(AssertionError, match="WHOLE_NUMBER"):
        check_batch([{"setDataValidation": {"range": {"sheetId": 1}, "rule": {
            "condition": {"type": "WHOLE_NUMBER"}}}}])


@pytest.mark.parametrize("key", ["kts_daily", "cds_monthly", "team_roster"])
def test_every_report_tab_fits_the_sheets_schema(key):
    layout = layouts()[key]
    rows, columns = gr.tab_size(layout)
    info = gr.SheetInfo(gr.sheet_id_for(layout.tab), layout.tab, 0, rows, columns)
    requests = gr.add_tab_requests(layout, info, EDITORS)
    check_batch(requests)
    (added,) = all_of(requests, "addSheet")
    grid = added["properties"]["gridProperties"]
    assert grid["frozenRowCount"] == 2
    assert grid["rowCount"] == layout.last_row
    for protected in all_of(requests, "addProtectedRange"):
        assert protected["protectedRange"]["warningOnly"] is False
        assert protected["protectedRange"]["editors"] == {"users": list(EDITORS)}


def test_daily_rows_are_real_dates_shown_day_first():
    layout = layouts()["kts_daily"]
    info = gr.SheetInfo(7, layout.tab, 0, *gr.tab_size(layout))
    requests = gr.add_tab_requests(layout, info, EDITORS)
    periods = [u for u in all_of(requests, "updateCells") if u["range"].get("startRowIndex") == 2]
    first = periods[0]["rows"][0]["values"][0]
    assert first["userEnteredValue"] == {"numberValue": 46346.0}          # 20/11/2026
    assert first["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "dd/mm/yyyy"}
    assert len(periods[0]["rows"]) == len(layout.period_keys) == 42
    ranges = [p["protectedRange"]["range"] for p in all_of(requests, "addProtectedRange")]
    assert {"sheetId": 7, "startRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 1} in ranges
    assert {"sheetId": 7, "startRowIndex": 0, "endRowIndex": 2} in ranges


def test_monthly_rows_are_month_text():
    layout = layouts()["cds_monthly"]
    info = gr.SheetInfo(8, layout.tab, 0, *gr.tab_size(layout))
    cells = [u for u in all_of(gr.add_tab_requests(layout, info, EDITORS), "updateCells")
             if u["range"].get("startRowIndex") == 2][0]
    assert [r["values"][0]["userEnteredValue"] for r in cells["rows"]] == [
        {"stringValue": "11/2026"}, {"stringValue": "12/2026"}]


def test_validation_whole_numbers_decimals_and_drop_downs():
    daily, roster = layouts()["kts_daily"], layouts()["team_roster"]
    rules = {r["range"]["startColumnIndex"]: r["rule"] for r in all_of(
        gr.add_tab_requests(daily, gr.SheetInfo(1, daily.tab, 0, 44, 9), EDITORS),
        "setDataValidation")}
    whole = rules[1]["condition"]
    assert whole["type"] == "CUSTOM_FORMULA"
    formula = whole["values"][0]["userEnteredValue"]
    assert formula == "=(INT(B3)=B3)*(B3>=0)=1"
    assert "," not in formula and ";" not in formula   # parses in vi_VN and en_US alike
    assert rules[5]["condition"] == {"type": "NUMBER_GREATER_THAN_EQ",
                                     "values": [{"userEnteredValue": "0"}]}
    assert all(r["strict"] for r in rules.values())
    rules = {r["range"]["startColumnIndex"]: r["rule"] for r in all_of(
        gr.add_tab_requests(roster, gr.SheetInfo(2, roster.tab, 0, 42, 6), EDITORS),
        "setDataValidation")}
    assert rules[0]["condition"] == {"type": "ONE_OF_RANGE", "values": [
        {"userEnteredValue": "='Danh mục'!$A$2:$A$500"}]}
    assert [v["userEnteredValue"] for v in rules[2]["condition"]["values"]] == [
        "Tổ trưởng", "Tổ phó", "Tổ viên"]


def test_phone_column_is_text_so_the_leading_zero_stays():
    roster = layouts()["team_roster"]
    formats = {r["range"]["startColumnIndex"]: r["cell"]["userEnteredFormat"]
               for r in all_of(gr.add_tab_requests(roster, gr.SheetInfo(2, roster.tab, 0, 42, 6),
                                                   EDITORS), "repeatCell")}
    assert formats[4]["numberFormat"] == {"type": "TEXT", "pattern": "@"}


def test_appending_periods_grows_the_grid_and_continues_after_the_last_row():
    layout = layouts()["kts_daily"]
    info = gr.SheetInfo(3, layout.tab, 0, row_count=44, column_count=9)
    keys = ("2027-01-01", "2027-01-02")
    requests = gr.append_periods_requests(layout, info, last_used=44, keys=keys)
    check_batch(requests)
    assert requests[0] == {"appendDimension": {"sheetId": 3, "dimension": "ROWS", "length": 2}}
    assert requests[1]["updateCells"]["range"] == {
        "sheetId": 3, "startRowIndex": 44, "endRowIndex": 46, "startColumnIndex": 0,
        "endColumnIndex": 1}


@pytest.mark.parametrize("tab", [FEEDBACK_TAB, HELP_TAB, LISTS_TAB])
def test_owned_tabs_are_protected_whole(tab):
    info = gr.SheetInfo(gr.sheet_id_for(tab), tab, 5, 50, 7, hidden=tab == LISTS_TAB)
    requests = gr.owned_tab_requests(tab, info, EDITORS, lines=("Hướng dẫn", "1. …"),
                                     villages=("Thôn Nà Lầu", "Thôn Bản Chắt"))
    check_batch(requests)
    (protected,) = all_of(requests, "addProtectedRange")
    assert protected["protectedRange"]["range"] == {"sheetId": info.sheet_id}
    assert all_of(requests, "addSheet")[0]["properties"]["hidden"] is (tab == LISTS_TAB)


def test_feedback_is_written_as_text_never_as_a_formula():
    rows = [["23/11/2026", "Báo cáo ngày", "C14", "=IMPORTXML(\"http://x\")", "Sai", "Sửa", "Lỗi"],
            ["", "", "", "+84 912", "", "", ""]]
    requests = gf.feedback_write_requests(99, "Kiểm tra lúc 17:05", rows)
    check_batch(requests)
    body = requests[1]["updateCells"]
    assert body["range"] == {"sheetId": 99, "startRowIndex": 0, "endRowIndex": 4,
                             "startColumnIndex": 0, "endColumnIndex": 7}
    values = [c.get("userEnteredValue", {}) for r in body["rows"] for c in r["values"]]
    assert {"stringValue": "=IMPORTXML(\"http://x\")"} in values
    assert not any("formulaValue" in v for v in values)
    assert requests[0]["updateSheetProperties"]["properties"]["gridProperties"]["rowCount"] == 4


def test_rollup_tables_become_typed_cells_with_a_chart_that_fits_the_schema():
    from toolkit.archive import Chart, Table

    frame = pd.DataFrame({
        "Xã": ["Xã A", "=HYPERLINK(\"x\")"],
        "Số cửa hàng": [12, None],
        "Tỉ lệ": [0.5, float("nan")],
        "Ngày": [pd.Timestamp("2026-11-23"), pd.NaT],
        "Lúc": [datetime(2026, 11, 23, 17, 0, tzinfo=VN_TZ), None],
        "Đạt": [True, False],
    })
    chart = Chart("bar", "Tỉ lệ / số hộ", "Xã", ("Tỉ lệ",), 2)
    table = Table("Tổng hợp", frame, percent=frozenset({"Tỉ lệ"}), status="Xã",
                  fills=("C6EFCE", ""), frozen_columns=2, chart=chart)
    empty = Table("Chưa báo cáo", frame.iloc[0:0])
    stale = grl.tab_title("Báo cáo ngày", "Theo huyện")
    metadata = {"properties": {"locale": "en_US", "timeZone": "Etc/GMT"}, "sheets": [
        {"properties": {"sheetId": 5, "title": grl.tab_title("Báo cáo ngày", "Chưa báo cáo")}},
        {"properties": {"sheetId": 6, "title": stale}},
        {"properties": {"sheetId": 7, "title": "Ghi chú của Sở"}}]}
    requests, ids = grl.publish_requests({"Báo cáo ngày": grl.render([table, empty])},
                                         metadata, ("Theo huyện", "Chưa báo cáo"))
    check_batch(requests)
    assert requests[0] == gr.spreadsheet_settings()
    cells = all_of(requests, "updateCells")[0]["rows"]
    assert [c.get("userEnteredValue") for c in cells[2]["values"]] == [
        {"stringValue": "=HYPERLINK(\"x\")"}, None, None, None, None, {"boolValue": False}]
    assert cells[1]["values"][0]["userEnteredFormat"]["backgroundColor"]["green"] > 0.9
    assert cells[1]["values"][2]["userEnteredFormat"]["numberFormat"]["type"] == "PERCENT"
    assert cells[1]["values"][1]["userEnteredFormat"]["numberFormat"]["pattern"] == "#,##0"
    assert cells[1]["values"][3]["userEnteredValue"] == {"numberValue": 46349.0}
    assert cells[1]["values"][4]["userEnteredValue"]["numberValue"] == pytest.approx(
        46349 + 17 / 24)
    resize = all_of(requests, "updateSheetProperties")[0]
    assert resize["properties"]["sheetId"] == 5
    assert resize["properties"]["gridProperties"]["rowCount"] == 2   # header + a blank row
    assert all_of(requests, "deleteSheet") == [{"sheetId": 6}]        # ours, gone; theirs kept
    (added,) = all_of(requests, "addChart")
    assert added["chart"]["chartId"] == grl.chart_id_for(grl.tab_title("Báo cáo ngày",
                                                                       "Tổng hợp"))
    assert ids[grl.tab_title("Báo cáo ngày", "Chưa báo cáo")] == 5
    anchor = added["chart"]["position"]["overlayPosition"]["anchorCell"]["columnIndex"]
    tab = all_of(requests, "addSheet")[0]["properties"]
    assert anchor < tab["gridProperties"]["columnCount"]           # the anchor cell exists


def test_a_rollup_tab_is_rewritten_whole_whatever_a_person_did_to_it():
    """Merged cells are split, the tab shown, notes and validation cleared with the values,
    and our chart deleted wherever it was moved before it is drawn again under its id."""
    from toolkit.archive import Chart, Table

    frame = pd.DataFrame({"Xã": ["Xã A", "Xã B"], "Tỉ lệ": [0.5, 0.25]})
    table = Table("Tổng hợp", frame, percent=frozenset({"Tỉ lệ"}),
                  chart=Chart("bar", "Tỉ lệ", "Xã", ("Tỉ lệ",), 2))
    title = grl.tab_title("Báo cáo ngày", "Tổng hợp")
    chart_id = grl.chart_id_for(title)
    metadata = {"properties": {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}, "sheets": [
        {"properties": {"sheetId": 5, "title": title, "hidden": True},
         "merges": [{"sheetId": 5, "startRowIndex": 1, "endRowIndex": 3}]},
        {"properties": {"sheetId": 9, "title": "Biểu đồ 1", "sheetType": "OBJECT"},
         "charts": [{"chartId": chart_id}]}]}
    tabs = grl.render([table])
    requests, ids = grl.publish_requests({"Báo cáo ngày": tabs}, metadata)
    check_batch(requests)
    kinds = [next(iter(r)) for r in requests]
    assert kinds[:4] == ["deleteEmbeddedObject", "unmergeCells", "updateSheetProperties",
                         "updateCells"]
    assert requests[0]["deleteEmbeddedObject"]["objectId"] == chart_id
    assert kinds[-1] == "addChart" and requests[-1]["addChart"]["chart"]["chartId"] == chart_id
    shown = requests[2]["updateSheetProperties"]
    assert shown["properties"]["hidden"] is False and "hidden" in shown["fields"]
    assert requests[3]["updateCells"]["fields"] == \
        "userEnteredValue,userEnteredFormat,note,dataValidation"
    assert ids == {title: 5}
    assert grl.digest(tabs) == grl.digest(json.loads(json.dumps(tabs)))   # JSON, as stored


def test_spreadsheet_settings_are_vietnamese():
    check_batch([gr.spreadsheet_settings(), gr.move_sheet(3, 0), gr.delete_sheet(0),
                 *gr.villages_requests(("Thôn A",), 4), *gr.help_requests(("A", "B"), 6)])
    assert gr.spreadsheet_settings()["updateSpreadsheetProperties"]["properties"] == {
        "locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}


def test_drive_bodies_fit_the_drive_schema_and_never_share_with_anyone():
    made = gd.create_file_body("06040 Xã Hoàng Văn Thụ", "folder1", "1generatedId")
    check_schema(DRIVE, "File", made)
    check_schema(DRIVE, "File", gd.copy_file_body("06040 Xã Hoàng Văn Thụ", "folder1", "1x"))
    assert made["id"] == "1generatedId"      # chosen beforehand: a lost answer is looked up
    body = gd.permission_body(" XA06040@Example.gov.vn ")
    check_schema(DRIVE, "Permission", body)
    assert body == {"type": "user", "role": "writer", "emailAddress": "xa06040@example.gov.vn"}
    for bad in ("anyone", "", "a b@c.vn"):
        with pytest.raises(ValueError):
            gd.permission_body(bad)


def test_drive_queries_escape_quotes():
    query = gd.files_query("f'1")
    assert query == ("mimeType = 'application/vnd.google-apps.spreadsheet' and trashed = false "
                     "and 'f\\'1' in parents")
    assert gd.drive_literal("06040 Xã Nà'Lầu") == "'06040 Xã Nà\\'Lầu'"
    assert "'me' in owners" in gd.files_query(None)


def test_sheet_ids_are_stable_and_avoid_taken_ones():
    first = gr.sheet_id_for(FEEDBACK_TAB)
    assert first == gr.sheet_id_for(FEEDBACK_TAB) and 0 < first < 2**31
    assert gr.sheet_id_for(FEEDBACK_TAB, {first}) == first + 1
    assert gr.quote_tab("Xã 'A'") == "'Xã ''A'''"


def test_number_text_uses_the_vietnamese_decimal_comma():
    assert gr.number_text(0) == "0" and gr.number_text(2.5) == "2,5"
    assert gr.serial(date(1899, 12, 31)) == 1.0


def test_notes_name_the_problem_and_the_fix_and_clear_the_rest_of_the_data_rows():
    rows = [["21/11/2026", "Báo cáo ngày", "C4", "hai", "Không phải số.", "Nhập số.", "Lỗi"],
            ["21/11/2026", "Báo cáo ngày", "C4", "hai", "Thiếu.", "Nhập đủ.", "Cảnh báo"],
            ["21/11/2026", "Báo cáo ngày", "", "", "Chưa có số liệu.", "Nhập.", "Cảnh báo"]]
    notes = gf.cell_notes(rows)
    assert list(notes) == ["Báo cáo ngày"] and list(notes["Báo cáo ngày"]) == [(3, 2)]
    text = notes["Báo cáo ngày"][(3, 2)]
    assert text.startswith("⚠ Lỗi (21/11/2026): Không phải số.\nCách sửa: Nhập số.\n\n⚠ Cảnh")
    request = gf.notes_request(7, notes["Báo cáo ngày"])
    check_batch([request, gf.notes_request(8, {})])
    body = request["updateCells"]
    assert body["fields"] == "note" and body["range"] == {"sheetId": 7, "startRowIndex": 2}
    assert body["rows"][1]["values"][2] == {"note": text} and body["rows"][0] == {"values": []}


def test_note_requests_touch_only_the_cells_marked_now_or_last_time():
    """One cell each: a note a person put on another cell, or a value typed meanwhile, is
    never inside a feedback request's range. A marked cell gets its note and the level's
    background (light red #FFC7CE for an error); a fixed one loses both, and nothing else."""
    text = "⚠ Lỗi (21/11/2026): Không phải số."
    marks = {(3, 2): ("Lỗi", text), (4, 2): ("Cảnh báo", "⚠ Cảnh báo")}
    requests = gf.note_requests(7, marks, {(3, 2), (9, 1)})
    check_batch(requests)
    cells = [(r["updateCells"]["start"], r["updateCells"]["rows"]) for r in requests]
    red = {"red": 1.0, "green": round(0xC7 / 255, 3), "blue": round(0xCE / 255, 3)}
    amber = {"red": 1.0, "green": round(0xE6 / 255, 3), "blue": round(0x99 / 255, 3)}
    assert cells == [
        ({"sheetId": 7, "rowIndex": 3, "columnIndex": 2}, [{"values": [
            {"note": text, "userEnteredFormat": {"backgroundColorStyle": {"rgbColor": red}}}]}]),
        ({"sheetId": 7, "rowIndex": 4, "columnIndex": 2}, [{"values": [
            {"note": "⚠ Cảnh báo",
             "userEnteredFormat": {"backgroundColorStyle": {"rgbColor": amber}}}]}]),
        ({"sheetId": 7, "rowIndex": 9, "columnIndex": 1}, [{"values": [{}]}]),
    ]
    assert {r["updateCells"]["fields"] for r in requests} == {
        "note,userEnteredFormat.backgroundColor,userEnteredFormat.backgroundColorStyle"}
    assert not any("range" in r["updateCells"] for r in requests)
    assert gf.note_requests(7, {}, set()) == []
