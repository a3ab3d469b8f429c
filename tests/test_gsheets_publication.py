"""The rollup spreadsheet is all-or-nothing and heals itself, through `toolkit daily`.

Four communes on the fake Google (tests/desks.py), the scheduler's sweeps run with the real
CLI. A connection dropped in the middle of a publication — after the spreadsheets.get, on the
batchUpdate that rewrites every tab — must leave the spreadsheet showing one complete version,
the previous or the new; the run that lost the answer looks again and finishes the job, and
when Google keeps failing, the next sweep publishes it without anyone running `toolkit rollup`.
What the spreadsheet must show is what the ledger remembers for each report (the archive's
tables, rendered), so every check compares the cells as entered with that.
"""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import summary_table
from desks import GoogleDesk
from toolkit.backends.google.rollup import ROUNDS, SEPARATOR, tab_title
from toolkit.ledger import Ledger

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
FRIDAY, SATURDAY = date(2026, 11, 20), date(2026, 11, 21)
SUMMARY = tab_title(DAILY, "Tổng hợp")



@pytest.fixture
def google(province):
    """The `province` folder on the fake Google, its daily report due on working days only
    (so Saturday's sweeps roll up no day of it), provisioned, one commune reported. Backoffs
    are waited out on a virtual clock (conftest.virtual_pacing)."""
    template = province.parent / "sheet_templates" / "kts_daily.toml"
    template.write_text(template.read_text(encoding="utf-8").replace(
        'period = "daily"', 'period = "daily"\ncalendar = "working_days"'), encoding="utf-8")
    desk = GoogleDesk(province)
    assert desk.run("provision", now="2026-11-20 07:30").exit_code == 0
    desk.type_row("06040", DAILY, FRIDAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:15")
    yield desk
    desk.close()


def rollup_batch(desk):
    """A request filter: the batchUpdate that writes the rollup spreadsheet."""
    return lambda r: r.method_id == "sheets.spreadsheets.batchUpdate" and \
        desk.rollup_id in r.path


def daily(desk, at: str, expect: int = 0):
    result = desk.run("daily", now=at)
    assert result.exit_code == expect, result.output
    return result.output


def shown(desk) -> dict[str, dict]:
    """Our tabs as the spreadsheet holds them: cells as entered, grid, hidden, charts, merges."""
    out = {}
    for sheet in desk.fake.spreadsheet(desk.rollup_id).ordered():
        if SEPARATOR not in sheet.title:
            continue
        cells = {k: c.entered for k, c in sheet.cells.items() if c.entered is not None}
        out[sheet.title] = {"cells": cells, "grid": (sheet.rows, sheet.cols),
                            "hidden": bool(sheet.props.get("hidden")),
                            "charts": len(sheet.extras.get("charts", [])),
                            "merges": len(sheet.extras.get("merges", [])),
                            "notes": sum(1 for c in sheet.cells.values() if c.note)}
    return out


def remembered(desk) -> dict[str, dict]:
    """What the ledger says the spreadsheet must show, in the shape of :func:`shown`."""
    ledger = Ledger(desk.config.parent / "ledger.sqlite")
    try:
        records = ledger.rollups(desk.rollup_id)
    finally:
        ledger.close()
    out = {}
    for report_tab, record in records.items():
        for tab in record.content:
            cells = {(r, c): value["userEnteredValue"]
                     for r, row in enumerate(tab["rows"])
                     for c, value in enumerate(row.get("values", []))
                     if "userEnteredValue" in value}
            out[tab_title(report_tab, tab["name"])] = {
                "cells": cells, "grid": (tab["height"], tab["columns"]), "hidden": False,
                "charts": len(tab["charts"]), "merges": 0, "notes": 0}
    return out


def built_at(desk, report_tab: str = DAILY) -> str:
    ledger = Ledger(desk.config.parent / "ledger.sqlite")
    try:
        return ledger.rollups(desk.rollup_id)[report_tab].built_at
    finally:
        ledger.close()


def of_report(tabs: dict, report_tab: str = DAILY) -> dict:
    return {t: v for t, v in tabs.items() if t.startswith(report_tab + SEPARATOR)}


def statuses(desk) -> dict[str, str]:
    """Mã xã → Tình trạng báo cáo on the spreadsheet's Tổng hợp tab."""
    header, rows = summary_table(desk.fake.values(desk.rollup_id, f"'{SUMMARY}'!A1:Z100"))
    column = header.index("Tình trạng báo cáo")
    return {r[0]: r[column] for r in rows}


def archived_statuses(desk, name: str) -> dict[str, str]:
    book = load_workbook(desk.config.parent / "archive" / "kts_daily" / "2026" / name)
    header, rows = summary_table(book["Tổng hợp"].iter_rows(values_only=True))
    column = header.index("Tình trạng báo cáo")
    return {r[0]: r[column] for r in rows}


@pytest.mark.parametrize("kind", ["reset", "reset-after", "read-timeout", 500])
def test_a_lost_answer_to_the_rollup_batch_is_looked_at_and_the_same_run_finishes(google, kind):
    """Old behaviour: a batch that adds a chart was never resent, so one dropped answer
    failed the run (exit 1) and left the 15:00 rollup up until the next sweep."""
    daily(google, "2026-11-20 15:00")
    google.type_row("06001", DAILY, FRIDAY, {SHOPS: 1, ACCOUNTS: 1}, at="2026-11-20 16:30")
    google.fake.reset_log()
    google.fake.fail_next(1, kind, match=rollup_batch(google))
    out = daily(google, "2026-11-20 17:00")
    assert "(4 yêu cầu cho 5 báo cáo)" in out     # get, lost batch, get again, batch
    assert google.fake.count(rollup_batch(google)) == 2
    assert built_at(google) == "2026-11-20T10:00:00+00:00"  # 17:00 in Vietnam
    assert shown(google) == remembered(google)          # every tab whole, each chart once
    assert statuses(google) == archived_statuses(google, "kts_daily_2026-11-20.xlsx")


@pytest.mark.parametrize(("kind", "others"), [("reset", True), ("reset-after", False),
                                              ("read-timeout", True)])
def test_when_google_keeps_dropping_the_publication_a_complete_version_stays_and_the_next_sweep_repairs_it(  # noqa: E501
        google, kind, others):
    """Friday 20:00: every try to publish loses its answer. The spreadsheet shows one
    complete version — 17:06's if no try was applied, 20:00's if one was — and Saturday's
    first sweep, which rolls up no day of the daily report, publishes Friday 20:00's from
    the ledger: exactly what Friday's archive says. With ``others`` the monthly report and the
    rosters (due every day) are published fresh in the same batch; without them nothing is
    due on Saturday at all."""
    if not others:
        for name in ("cds_monthly", "team_roster", "committee_roster"):
            (google.config.parent / "sheet_templates" / f"{name}.toml").unlink()
    daily(google, "2026-11-20 17:06")
    before = remembered(google)
    google.type_row("06001", DAILY, FRIDAY, {SHOPS: 2, ACCOUNTS: 2}, at="2026-11-20 19:00")
    google.fake.fail_next(ROUNDS, kind, match=rollup_batch(google))
    failed = google.run("daily", now="2026-11-20 20:00")
    assert failed.exit_code == 1, failed.output
    assert f"Bảng tổng hợp Google Sheets {google.rollup_id}: đăng LỖI" in failed.output
    assert "lần `toolkit daily` sau sẽ tự đăng lại" in failed.output
    after = remembered(google)
    assert of_report(before) != of_report(after)        # 06001 reported late meanwhile
    applied = kind != "reset"
    assert of_report(shown(google)) == of_report(after if applied else before)
    assert statuses(google)["06001"] == ("Trễ hạn" if applied else "Chưa báo cáo")

    out = daily(google, "2026-11-21 15:00")
    assert f"đã đăng lại sau lần lỗi trước: {DAILY}" in out
    assert shown(google) == remembered(google)
    assert of_report(shown(google)) == of_report(after)   # Friday 20:00, not rolled up again
    assert built_at(google) == "2026-11-20T13:00:00+00:00"
    assert statuses(google) == archived_statuses(google, "kts_daily_2026-11-20.xlsx")
    assert not (google.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-21.xlsx"
                ).exists()


def test_a_rollup_tab_edited_by_hand_is_rewritten_by_the_next_sweep(google):
    """Someone types over a figure, adds a note, merges cells and hides the tab on Saturday;
    Saturday's sweep (no day of the daily report to roll up) puts the tab back as the
    archive has it."""
    daily(google, "2026-11-20 20:00")
    fake, sid = google.fake, google.rollup_id
    sheet = fake.spreadsheet(sid).by_title(SUMMARY)
    fake.clock.set(fake.clock.now().replace(day=21, hour=2))
    fake.type(sid, f"'{SUMMARY}'!A2", "sửa tay", as_user="chuyen-vien@so-tt.gov.vn")
    fake.edit(sid, [
        {"updateCells": {"range": {"sheetId": sheet.sheet_id, "startRowIndex": 2,
                                   "endRowIndex": 3, "startColumnIndex": 1,
                                   "endColumnIndex": 2},
                         "rows": [{"values": [{"note": "ghi chú tay"}]}], "fields": "note"}},
        {"mergeCells": {"range": {"sheetId": sheet.sheet_id, "startRowIndex": 3,
                                  "endRowIndex": 5, "startColumnIndex": 0,
                                  "endColumnIndex": 2}, "mergeType": "MERGE_ALL"}},
        {"updateSheetProperties": {"properties": {"sheetId": sheet.sheet_id, "hidden": True},
                                   "fields": "hidden"}}])
    edited = shown(google)[SUMMARY]
    assert edited["hidden"] and edited["merges"] == 1 and edited["notes"] == 1
    assert shown(google) != remembered(google)

    daily(google, "2026-11-21 09:00")
    assert shown(google) == remembered(google)
    assert statuses(google) == archived_statuses(google, "kts_daily_2026-11-20.xlsx")


def test_toolkit_rollup_on_a_day_nothing_is_due_publishes_what_failed(google):
    """Only the daily report, due on working days: on Saturday `toolkit rollup` rolls up
    nothing, and publishes Friday's last rollup, which Google never took."""
    for name in ("cds_monthly", "team_roster", "committee_roster"):
        (google.config.parent / "sheet_templates" / f"{name}.toml").unlink()
    daily(google, "2026-11-20 17:06")
    before = of_report(shown(google))
    google.type_row("06001", DAILY, FRIDAY, {SHOPS: 2, ACCOUNTS: 2}, at="2026-11-20 19:00")
    google.fake.fail_next(ROUNDS, "reset", match=rollup_batch(google))
    daily(google, "2026-11-20 20:00", expect=1)
    assert of_report(shown(google)) == before != of_report(remembered(google))

    result = google.run("rollup", "--date", "2026-11-21", now="2026-11-21 08:00")
    assert result.exit_code == 0, result.output
    assert f"đã đăng lại sau lần lỗi trước: {DAILY}" in result.output
    assert shown(google) == remembered(google)
    assert statuses(google) == archived_statuses(google, "kts_daily_2026-11-20.xlsx")
    assert google.fake.count(rollup_batch(google)) == ROUNDS + 2    # 17:06, 20:00, Saturday


def test_toolkit_rollup_whose_publication_fails_exits_partial_and_keeps_the_archive(google):
    """`toolkit rollup` by hand: the archive is written, Google never takes the publication —
    exit 1 (partial) as `daily` does, so the person or the scheduler notices."""
    google.fake.fail_next(ROUNDS, "reset", match=rollup_batch(google))
    result = google.run("rollup", "--date", "2026-11-20", now="2026-11-20 20:00")
    assert result.exit_code == 1, result.output
    assert f"Bảng tổng hợp Google Sheets {google.rollup_id}: đăng LỖI" in result.output
    assert (google.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx").exists()
