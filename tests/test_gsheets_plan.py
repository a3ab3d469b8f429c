"""The Google store turns a provisioning plan into ONE batchUpdate: checked offline.

These need no server: the requests are built from the plan and what the workbook already has,
then compared with the Sheets discovery document and with the layout staff will see.
"""

from __future__ import annotations

from datetime import date

from test_gsheets_requests import all_of, check_batch

from toolkit.backends.base import Grant, WorkbookState
from toolkit.backends.google.bodies import SheetInfo, sheet_id_for
from toolkit.backends.google.http import Account
from toolkit.backends.google.store import GSheetsStore, _Meta
from toolkit.config import PACKAGED_TEMPLATES, GoogleConfig
from toolkit.layout import FEEDBACK_TAB, HELP_TAB, LISTS_TAB, tab_layout
from toolkit.provision import plan_commune
from toolkit.registry import Commune
from toolkit.templates import load_templates

SPECS = load_templates(PACKAGED_TEMPLATES)
START, END = date(2026, 11, 20), date(2026, 12, 31)
ACCOUNT = "province@lang-son.iam.gserviceaccount.com"
COMMUNE = Commune("06040", "Hoàng Văn Thụ", "Xã", "Lạng Sơn", None, 1200,
                  ("Thôn Nà Lầu", "Thôn Bản Chắt"), ("xa06040@example.gov.vn",), None, None)


def store() -> GSheetsStore:
    return GSheetsStore([Account(http=None, email=ACCOUNT)], GoogleConfig(folder_id="f1"))


def titles_in_order(requests: list[dict], start: dict[int, str]) -> list[str]:
    """Replay addSheet/deleteSheet/index moves to get the final tab order."""
    names = dict(start)
    order = list(start)
    for r in requests:
        if "addSheet" in r:
            p = r["addSheet"]["properties"]
            names[p["sheetId"]] = p["title"]
            order.insert(p["index"], p["sheetId"])
        elif "deleteSheet" in r:
            order.remove(r["deleteSheet"]["sheetId"])
        elif "updateSheetProperties" in r and r["updateSheetProperties"]["fields"] == "index":
            p = r["updateSheetProperties"]["properties"]
            order.remove(p["sheetId"])
            order.insert(p["index"], p["sheetId"])
    return [names[i] for i in order]


def test_a_new_workbook_is_one_valid_batch_in_the_right_order():
    actions = plan_commune(COMMUNE, SPECS, START, END, None, shares=True)
    meta = _Meta({"Sheet1": SheetInfo(0, "Sheet1", 0)})
    requests = store()._requests(meta, actions, settings=True, blank=True)
    check_batch(requests)
    assert requests[0]["updateSpreadsheetProperties"]["properties"]["locale"] == "vi_VN"
    assert titles_in_order(requests, {0: "Sheet1"}) == [
        s.tab for s in SPECS] + [FEEDBACK_TAB, HELP_TAB, LISTS_TAB]
    hidden = [a["properties"] for a in all_of(requests, "addSheet") if a["properties"]["hidden"]]
    assert [h["title"] for h in hidden] == [LISTS_TAB]
    villages = [u for u in all_of(requests, "updateCells")
                if u["range"]["sheetId"] == sheet_id_for(LISTS_TAB)][0]
    assert [r["values"][0]["userEnteredValue"]["stringValue"] for r in villages["rows"]] == [
        "Thôn/bản", "Thôn Nà Lầu", "Thôn Bản Chắt"]
    editors = {tuple(p["protectedRange"]["editors"]["users"])
               for p in all_of(requests, "addProtectedRange")}
    assert editors == {(ACCOUNT,)}
    # sharing is Drive's business: nothing in the batch widens access
    assert not any("anyone" in str(r) for r in requests)


def test_a_complete_workbook_needs_no_request():
    sheets = {t: SheetInfo(sheet_id_for(t), t, i) for i, t in enumerate(
        [s.tab for s in SPECS] + [FEEDBACK_TAB, HELP_TAB, LISTS_TAB])}
    state = WorkbookState(
        tabs={**{s.tab: tab_layout(s, COMMUNE.display_name, START, END).period_keys
                 for s in SPECS}, FEEDBACK_TAB: (), HELP_TAB: (), LISTS_TAB: ()},
        villages=COMMUNE.villages, grants=(Grant("1", "user", "writer", "xa06040@example.gov.vn",
                                                 direct_role="writer"),))
    actions = plan_commune(COMMUNE, SPECS, START, END, state, shares=True)
    assert actions == []
    assert store()._requests(_Meta(sheets), actions, settings=False, blank=False) == []


def test_extending_a_workbook_appends_rows_and_slots_a_new_tab_before_the_owned_ones():
    daily = next(s for s in SPECS if s.period == "daily")
    monthly = next(s for s in SPECS if s.period == "monthly")
    short = tab_layout(daily, COMMUNE.display_name, START, date(2026, 11, 30)).period_keys
    state = WorkbookState(tabs={daily.tab: short, FEEDBACK_TAB: (), HELP_TAB: (), LISTS_TAB: ()},
                          villages=COMMUNE.villages)
    actions = plan_commune(COMMUNE, [daily, monthly], START, END, state, shares=False)
    sheets = {daily.tab: SheetInfo(11, daily.tab, 0, 13, 9), FEEDBACK_TAB: SheetInfo(12,
              FEEDBACK_TAB, 1), HELP_TAB: SheetInfo(13, HELP_TAB, 2),
              LISTS_TAB: SheetInfo(14, LISTS_TAB, 3, hidden=True)}
    meta = _Meta(sheets, last_rows={daily.tab: 13})
    requests = store()._requests(meta, actions, settings=False, blank=False)
    check_batch(requests)
    grow = all_of(requests, "appendDimension")
    assert grow[0] == {"sheetId": 11, "dimension": "ROWS", "length": 31}
    first_new = [u for u in all_of(requests, "updateCells") if u["range"]["sheetId"] == 11][0]
    assert first_new["range"]["startRowIndex"] == 13          # row 14, after the last used
    assert titles_in_order(requests, {11: daily.tab, 12: FEEDBACK_TAB, 13: HELP_TAB,
                                      14: LISTS_TAB}) == [
        daily.tab, monthly.tab, FEEDBACK_TAB, HELP_TAB, LISTS_TAB]
    assert not all_of(requests, "deleteSheet")
    assert not all_of(requests, "updateSpreadsheetProperties")


def test_a_leftover_blank_default_tab_is_removed_on_repair():
    actions = plan_commune(COMMUNE, SPECS, START, END, None, shares=False)[1:]  # no create
    meta = _Meta({"Trang tính1": SheetInfo(0, "Trang tính1", 0)}, last_rows={"Trang tính1": 0})
    requests = store()._requests(meta, actions, settings=False, blank=False)
    assert {"sheetId": 0} in all_of(requests, "deleteSheet")
    meta = _Meta({"Trang tính1": SheetInfo(0, "Trang tính1", 0)}, last_rows={"Trang tính1": 4})
    requests = store()._requests(meta, actions, settings=False, blank=False)
    assert not all_of(requests, "deleteSheet")           # someone typed there: keep it
