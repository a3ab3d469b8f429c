"""Workbook locale: set to vi_VN on provision, recorded in the ledger, warned about in collect."""

from __future__ import annotations

import sqlite3

from test_gsheets_store import DAILY, office  # noqa: F401  (fixture)

from toolkit.backends.base import Localize
from toolkit.ledger import Ledger


def locales(office) -> dict[str, str | None]:  # noqa: F811
    return {code: record.locale for code, record in office.ledger.workbooks().items()}


def test_provisioned_workbooks_are_vietnamese_and_the_ledger_says_so(office):  # noqa: F811
    office.provision()
    assert set(locales(office).values()) == {"vi_VN"}
    for code in locales(office):
        props = office.fake.spreadsheet(office.locator(code)).props
        assert (props["locale"], props["timeZone"]) == ("vi_VN", "Asia/Ho_Chi_Minh")
    office.later()
    assert office.collect().warnings == ()


def test_a_locale_changed_by_staff_is_warned_about_and_provision_sets_it_back(office):  # noqa: F811
    fake = office.fake
    office.provision()
    sid = office.locator("06202")
    fake.spreadsheet(sid).props["locale"] = "en_US"          # File › Settings, by someone
    fake.spreadsheet(sid).by_title(DAILY).props["title"] = "Báo cáo ngày (cũ)"
    fake.touch_file(fake.file(sid))
    office.later()
    fake.reset_log()
    collected = office.collect()
    # the renamed tab made collect look at the spreadsheet: the locale came with that look
    assert fake.count("sheets.spreadsheets.get") == 1
    name = office.registry.by_code()["06202"].display_name
    assert collected.warnings == (
        f"{name}: sổ đang đặt ngôn ngữ và vùng en_US, không phải vi_VN, nên số nhập vào có "
        "thể bị hiểu khác đi (1.5 hay 1,5); chạy `toolkit provision` để đặt lại",)
    assert locales(office)["06202"] == "en_US"

    repaired = office.provision(office.fresh_store())
    (plan,) = repaired.changed
    assert Localize("en_US") in plan.actions
    assert "đặt lại ngôn ngữ vi_VN và múi giờ Asia/Ho_Chi_Minh (đang là en_US)" in [
        a.describe() for a in plan.actions]
    assert fake.spreadsheet(sid).props["locale"] == "vi_VN"
    assert locales(office)["06202"] == "vi_VN"
    office.later()
    assert office.collect(office.fresh_store()).warnings == ()


def test_an_older_ledger_gains_the_locale_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE workbooks (commune_code TEXT PRIMARY KEY, locator TEXT NOT NULL, "
               "backend TEXT NOT NULL, created_at TEXT NOT NULL, last_modified TEXT, "
               "last_fetched_at TEXT)")
    db.execute("INSERT INTO workbooks VALUES ('06040', 'sheet-1', 'gsheets', "
               "'2026-11-20T01:00:00Z', 'stamp', NULL)")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        record = ledger.workbooks()["06040"]
        assert (record.locator, record.last_modified, record.locale) == ("sheet-1", "stamp", None)
        ledger.set_locale("06040", "en_US")
    with Ledger(path) as again:                                   # migrating twice is a no-op
        assert again.workbooks()["06040"].locale == "en_US"


def test_vietnam_time_answered_as_asia_saigon_is_not_localised_again(office):  # noqa: F811
    """CLDR's canonical id for Vietnam is Asia/Saigon: Sheets may answer it for the
    Asia/Ho_Chi_Minh it was sent. Both are Vietnam's time; provision must not re-send it."""
    fake = office.fake
    fake.time_zone_aliases["Asia/Ho_Chi_Minh"] = "Asia/Saigon"
    office.provision()
    sid = office.locator("06202")
    got = fake.gspread_client(fake.service_account_info(
        "tinh@lang-son.iam.gserviceaccount.com")).open_by_key(sid)
    assert got.timezone == "Asia/Saigon"
    fake.reset_log()
    again = office.provision(office.fresh_store())
    assert not again.failures and not again.changed
    assert fake.count("sheets.spreadsheets.batchUpdate") == 0
    office.later()
    assert office.collect(office.fresh_store()).warnings == ()
