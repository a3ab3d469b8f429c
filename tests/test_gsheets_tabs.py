"""Tab titles as Google has them: unique ignoring case, so a tab a person re-cased is still
ours, and a tab of theirs that differs from one of ours only in case is never taken over."""

from __future__ import annotations

import pytest
from test_gsheets_store import DAILY, SHEETS_WRITE, office  # noqa: F401  (fixture)

from toolkit.backends.base import RenameTab
from toolkit.layout import FEEDBACK_TAB, STYLE

CLERK = "xa06202@example.gov.vn"


def titles(fake, sid: str) -> list[str]:
    return [s.title for s in fake.spreadsheet(sid).ordered()]


def sheet_of(fake, sid: str, title: str):
    return next(s for s in fake.spreadsheet(sid).ordered() if s.title == title)


def test_google_refuses_a_tab_title_that_differs_only_in_case(office):  # noqa: F811
    """Google's answer to addSheet and to a rename onto another tab's title, ignoring case."""
    from gspread.exceptions import APIError

    office.provision()
    sid = office.locator("06202")
    gc = office.fake.gspread_client(office.fake.service_account_info(
        "tinh@lang-son.iam.gserviceaccount.com"))
    sh = gc.open_by_key(sid)
    with pytest.raises(APIError) as refused:
        sh.batch_update({"requests": [{"addSheet": {"properties": {"title": "báo cáo NGÀY"}}}]})
    assert refused.value.response.status_code == 400
    assert refused.value.error["status"] == "INVALID_ARGUMENT"
    assert refused.value.error["message"] == (
        'Invalid requests[0].addSheet: A sheet with the name "báo cáo NGÀY" already exists. '
        "Please enter another name.")
    help_id = sheet_of(office.fake, sid, "Hướng dẫn").sheet_id
    with pytest.raises(APIError, match="already exists"):
        sh.batch_update({"requests": [{"updateSheetProperties": {
            "properties": {"sheetId": help_id, "title": "KIỂM TRA"}, "fields": "title"}}]})
    # a tab may take its own title in another case
    sh.batch_update({"requests": [{"updateSheetProperties": {
        "properties": {"sheetId": help_id, "title": "hướng dẫn"}, "fields": "title"}}]})
    assert "hướng dẫn" in titles(office.fake, sid)


def test_a_report_tab_a_person_recased_is_ours_and_gets_its_title_back(office):  # noqa: F811
    fake = office.fake
    office.provision()
    sid = office.locator("06202")
    daily = sheet_of(fake, sid, DAILY)
    fake.edit(sid, [{"updateSheetProperties": {
        "properties": {"sheetId": daily.sheet_id, "title": "báo cáo ngày"}, "fields": "title"}}])
    fake.type(sid, "'báo cáo ngày'!B3", "7", as_user=CLERK)
    office.later()

    again = office.provision(office.fresh_store())
    assert not again.failures
    (plan,) = again.changed
    assert plan.actions[0] == RenameTab("báo cáo ngày", DAILY)
    assert plan.actions[0].describe() == "đặt lại tên trang 'báo cáo ngày' thành 'Báo cáo ngày'"
    assert DAILY in titles(fake, sid) and "báo cáo ngày" not in titles(fake, sid)
    assert sheet_of(fake, sid, DAILY).sheet_id == daily.sheet_id          # the same tab
    assert fake.values(sid, f"'{DAILY}'!B3") == [[7]]                   # what was typed stays
    fake.reset_log()
    assert not office.provision(office.fresh_store()).changed
    assert fake.count(SHEETS_WRITE) == 0


def test_a_tab_of_theirs_named_like_ours_fails_that_commune_only_in_plain_words(office):  # noqa: F811
    fake = office.fake
    office.provision()
    sid = office.locator("06202")
    # The commune deleted Kiểm tra and made a tab of its own, "kiểm tra", for its notes.
    fake.edit(sid, [{"deleteSheet": {"sheetId": sheet_of(fake, sid, FEEDBACK_TAB).sheet_id}},
                    {"addSheet": {"properties": {"title": "kiểm tra"}}}])
    fake.type(sid, "'kiểm tra'!A1", "Ghi chú của xã", as_user=CLERK)
    office.later()

    again = office.provision(office.fresh_store())
    name = office.registry.by_code()["06202"].display_name
    assert again.failures == ((name, (
        f"{name}: bảng tính đã có trang 'kiểm tra' của xã, trùng tên với trang 'Kiểm tra' mà "
        "công cụ cần (Google Sheets và Excel không phân biệt chữ hoa, chữ thường trong tên trang); "
        "hãy đổi tên trang 'kiểm tra' (ví dụ thành 'kiểm tra (xã)') rồi chạy lại "
        "`toolkit provision`")
    ),)
    assert fake.values(sid, "'kiểm tra'!A1") == [["Ghi chú của xã"]]
    assert len(again.plans) == len(office.registry.communes) - 1        # the others went on

    fake.edit(sid, [{"updateSheetProperties": {"properties": {
        "sheetId": sheet_of(fake, sid, "kiểm tra").sheet_id, "title": "kiểm tra (xã)"},
        "fields": "title"}}])
    repaired = office.provision(office.fresh_store())
    assert not repaired.failures
    assert {FEEDBACK_TAB, "kiểm tra (xã)"} <= set(titles(fake, sid))


def look_of(fake, sid: str, tab: str) -> dict:
    """What a person sees of a report tab apart from values: per column of the header and
    the first data rows, the format and the validation (with its input hint); header height."""
    sheet = sheet_of(fake, sid, tab)
    return {"cells": {(r, c): (sheet.user_format(r, c), sheet.rule_at(r, c))
                      for r in (1, 2, 3, sheet.rows - 1) for c in range(sheet.cols)},
            "header": sheet.row_meta.get(1)}


def to_the_old_look(fake, sid: str, recorded: bool = False) -> None:
    """A workbook as an earlier version provisioned it: no recorded look (or look "1"), plain
    number cells, validation without hints, a header without wrap or height."""
    with fake.lock:
        spreadsheet = fake.spreadsheet(sid)
        for entry in spreadsheet.metadata:
            entry["metadataValue"] = "1"
        if not recorded:
            spreadsheet.metadata.clear()
        for sheet in spreadsheet.ordered():
            if sheet.title in (FEEDBACK_TAB, "Hướng dẫn", "Danh mục"):
                continue
            sheet.fmt_layers.clear()
            sheet.rule_layers.clear()
            sheet.row_meta.clear()
            for cell in sheet.cells.values():
                cell.fmt = None


def test_an_old_look_is_brought_up_to_date_in_one_batch_and_then_left_alone(office):  # noqa: F811
    fake = office.fake
    office.provision()
    sid = office.locator("06202")
    tabs = [s.tab for s in office.specs if not s.keyed]     # a commune's tabs
    current = {tab: look_of(fake, sid, tab) for tab in tabs}
    assert any(rule and rule.get("inputMessage") for fmt, rule in
               current[DAILY]["cells"].values())
    for code in (c.code for c in office.registry.communes):
        to_the_old_look(fake, office.locator(code), recorded=code == "06202")
    assert look_of(fake, sid, DAILY) != current[DAILY]
    fake.type(sid, f"'{DAILY}'!B3", "1200000", as_user=CLERK)
    fake.type(sid, f"'{DAILY}'!C4", "3", as_user=CLERK)
    office.later()

    fake.reset_log()
    restyled = office.provision(office.fresh_store())
    assert not restyled.failures
    assert fake.count("sheets.spreadsheets.batchUpdate") == len(office.registry.communes)
    assert fake.count(SHEETS_WRITE) == len(office.registry.communes)
    assert {tab: look_of(fake, sid, tab) for tab in tabs} == current
    for code in (c.code for c in office.registry.communes):
        (entry,) = fake.spreadsheet(office.locator(code)).metadata
        assert (entry["metadataKey"], entry["metadataValue"]) == ("toolkit_style", STYLE)
    assert fake.values(sid, f"'{DAILY}'!B3:C4") == [[1200000], ["", 3]]   # typed, kept
    assert fake.values(sid, f"'{DAILY}'!B3", render="FORMATTED_VALUE") == [["1.200.000"]]

    fake.reset_log()
    third = office.provision(office.fresh_store())
    assert not third.failures and not third.changed
    assert fake.count(SHEETS_WRITE) == 0
