"""What the province sends upward at 17:00 must be true (P5): statuses at and after the
deadline, periods nobody owes, banners and Kiểm tra that say what happened, and one commune's
failure costing that commune only. Each test failed on the code before P5.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import rewrite_cell, run, summary_table, type_row, workbook_of
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)

DAY = date(2026, 11, 20)          # a Friday
DAILY = "Báo cáo ngày"
MONTHLY = "Báo cáo tháng"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
ORDERS = "Số đơn hàng"
CODES = ("06001", "06019", "06040", "06202")


def statuses(config, day: str, now: str, template: str = "kts_daily") -> dict[str, str]:
    result = run("status", "--date", day, "--template", template, "--format", "json",
                 config=config, now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return {c["code"]: c["status"] for c in report["communes"]}


def archive_statuses(path) -> dict[str, str]:
    header, rows = summary_table(load_workbook(path)["Tổng hợp"].iter_rows(values_only=True))
    code, label = header.index("Mã xã"), header.index("Tình trạng báo cáo")
    return {r[code]: r[label] for r in rows}


def set_campaign(config, start: date, end: date | None = None) -> None:
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"start = \S+", f"start = {start.isoformat()}", text, count=1)
    end = end or start + timedelta(days=20)
    config.write_text(re.sub(r"end = \S+", f"end = {end.isoformat()}", text, count=1),
                      encoding="utf-8")


def use_working_days(config) -> None:
    template = config.parent / "sheet_templates" / "kts_daily.toml"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace('deadline = "17:00"\n',
                                     'deadline = "17:00"\ncalendar = "working_days"\n', 1),
                        encoding="utf-8")


# -- the as-of-deadline archive ---------------------------------------------------------------

@pytest.mark.provisioned
def test_the_deadline_archive_says_missing_for_communes_that_never_reported(desk):  # noqa: F811
    desk.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:15")
    desk.type_row("06019", DAILY, DAY, {SHOPS: 1}, at="2026-11-20 10:00")
    for moment in ("15:00", "17:10"):
        result = desk.run("daily", "--date", "2026-11-20", now=f"2026-11-20 {moment}")
        assert result.exit_code == 0, result.output
    frozen = desk.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20_theo-han.xlsx"
    assert archive_statuses(frozen) == {"06040": "Đúng hạn", "06019": "Chưa đủ",
                                        "06001": "Chưa báo cáo", "06202": "Chưa báo cáo"}
    # Reproducible later from the ledger, by hand, with the same answer.
    frozen.unlink()
    assert desk.run("rollup", "--date", "2026-11-20", "--as-of", "deadline",
                    now="2026-11-23 09:00").exit_code == 0
    assert archive_statuses(frozen)["06001"] == "Chưa báo cáo"


# -- periods nobody owes ------------------------------------------------------------------------

def test_a_saturday_on_a_working_days_calendar_is_owed_by_nobody(province):
    use_working_days(province)
    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    saturday = "2026-11-21"
    assert statuses(province, saturday, "2026-11-21 18:00") == dict.fromkeys(
        CODES, "not_expected")
    reminded = run("remind", "--date", saturday, config=province, now="2026-11-21 16:00")
    assert reminded.exit_code == 0, reminded.output
    assert "remind: 0 xã cần nhắc" in reminded.output
    assert "không phải kỳ báo cáo" in reminded.output
    swept = run("daily", config=province, now="2026-11-21 18:00")
    assert swept.exit_code == 0, swept.output
    assert "kts_daily 21/11/2026: không phải kỳ báo cáo — ngày nghỉ" in swept.output
    assert not list((province.parent / "archive").glob("kts_daily/2026/*2026-11-21*"))
    # Friday and Monday are owed as usual.
    assert set(statuses(province, "2026-11-20", "2026-11-21 18:00").values()) == {"missing"}
    assert set(statuses(province, "2026-11-23", "2026-11-23 09:00").values()) == {"pending"}


def test_days_before_the_campaign_and_months_due_before_it_are_owed_by_nobody(province):
    set_campaign(province, date(2026, 11, 27))     # after November's monthly due day, the 26th
    assert run("provision", config=province, now="2026-11-27 08:00").exit_code == 0
    assert statuses(province, "2026-11-26", "2026-11-27 09:00") == dict.fromkeys(
        CODES, "not_expected")
    assert statuses(province, "2026-11-27", "2026-11-28 09:00", "cds_monthly") == dict.fromkeys(
        CODES, "not_expected")
    reminded = run("remind", "--date", "2026-11-26", config=province, now="2026-11-27 09:00")
    assert "remind: 0 xã cần nhắc" in reminded.output
    swept = run("daily", config=province, now="2026-11-28 18:00")
    assert swept.exit_code == 0, swept.output
    issues = [r for r in feedback_tab(province, "06040") if r[1]]
    assert not [r for r in issues if r[1] == MONTHLY], issues     # nothing owed for 11/2026
    assert not list((province.parent / "archive").glob("cds_monthly/2026/*2026-11*"))
    # The days since the start are owed: the Kiểm tra tab says so, as errors.
    missing = sorted(r[0] for r in issues if r[4].startswith("Chưa báo cáo kỳ"))
    assert missing == ["27/11/2026", "28/11/2026"]
    assert {r[6] for r in issues if r[4].startswith("Chưa báo cáo kỳ")} == {"Lỗi"}


def feedback_tab(config, code: str) -> list[tuple]:
    sheet = load_workbook(workbook_of(config, code))["Kiểm tra"]
    return [tuple("" if v is None else v for v in row)
            for row in sheet.iter_rows(min_row=1, values_only=True)]


# -- a monthly figure against blank daily cells -------------------------------------------------

def test_a_monthly_figure_against_blank_daily_cells_is_a_warning_not_a_crash(provisioned):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: None, ACCOUNTS: 2}, at="2026-11-20 09:00")
    type_row(provisioned, "06040", DAILY, DAY + timedelta(days=1), {SHOPS: "12a", ACCOUNTS: 1},
             at="2026-11-21 09:00")
    type_row(provisioned, "06040", DAILY, DAY + timedelta(days=2), {SHOPS: 2, ACCOUNTS: 1},
             at="2026-11-22 09:00")
    type_row(provisioned, "06040", MONTHLY, "11/2026", {
        "Số người được hướng dẫn dùng dịch vụ công trực tuyến": 1,
        "Số tài khoản VNeID được kích hoạt": 1, "Số cửa hàng số mở mới trong tháng": 7},
        at="2026-11-22 10:00")
    result = run("daily", config=provisioned, now="2026-11-22 18:00")
    assert result.exit_code == 0, result.output
    assert (provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-22.xlsx").is_file()
    rows = feedback_tab(provisioned, "06040")
    assert any("tháng 11/2026 là 7, nhưng tổng" in r[4] and r[4].endswith("là 2.")
               for r in rows), rows


# -- banners and Kiểm tra ----------------------------------------------------------------------

@pytest.mark.provisioned
def test_banners_say_not_received_received_with_problems_or_nothing(desk):  # noqa: F811
    desk.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:15")
    desk.type_row("06019", DAILY, DAY, {SHOPS: 1}, at="2026-11-20 10:00")
    if desk.kind == "xlsx":      # Google's sheet refuses "12a" as it is typed
        desk.type_row("06202", DAILY, DAY, {SHOPS: 1, ACCOUNTS: 1, ORDERS: "12a"},
                      at="2026-11-20 10:30")
    assert desk.run("daily", "--date", "2026-11-20", now="2026-11-20 17:10").exit_code == 0
    assert desk.title("06040", DAILY).startswith("Báo cáo ngày phát triển kinh tế số — Xã")
    assert desk.title("06019", DAILY) == (
        "⚠ Đã nhận báo cáo ngày 20/11/2026 nhưng còn 1 ô cần sửa: C3 — xem trang Kiểm tra")
    assert desk.title("06001", DAILY) == (
        "⚠ Chưa báo cáo ngày 20/11/2026 — đã quá hạn 17:00, đề nghị nhập ngay")
    if desk.kind == "xlsx":
        assert desk.title("06202", DAILY) == (
            "⚠ Đã nhận báo cáo ngày 20/11/2026 nhưng còn 1 ô cần sửa: E3 — xem trang Kiểm tra")
    # Never reported is an error in the commune's own Kiểm tra tab, not "0 lỗi".
    rows = desk.tab_rows("06001", "Kiểm tra")
    assert rows[0][0].endswith("1 lỗi, 0 cảnh báo — sửa các ô dưới đây trong trang báo cáo; "
                               "trang này tự cập nhật ở lần kiểm tra sau.")
    assert rows[2][:2] == ("20/11/2026", DAILY)
    assert rows[2][4:7] == ("Chưa báo cáo kỳ 20/11/2026 (hạn 17:00 20/11/2026).",
                            "Nhập số liệu vào dòng của kỳ này trong trang \"Báo cáo ngày\" ngay.",
                            "Lỗi")


def test_banner_colours_by_state(provisioned):
    type_row(provisioned, "06019", DAILY, DAY, {SHOPS: 1}, at="2026-11-20 10:00")
    assert run("daily", config=provisioned, now="2026-11-20 17:10").exit_code == 0

    def colour(code):
        return load_workbook(workbook_of(provisioned, code))[DAILY]["A1"].font.color.rgb[-6:]

    assert (colour("06001"), colour("06019")) == ("C00000", "B35C00")


def test_the_kiem_tra_list_is_capped_most_important_first():
    from toolkit.feedback import FEEDBACK_LIMIT, feedback_rows

    issues = pd.DataFrame({
        "period": [f"2026-11-{d:02d}" for d in range(1, 31)] * 20,
        "tab": DAILY, "cell": [f"B{n}" for n in range(600)], "value": "",
        "message": "x", "fix": "y", "level": ["warning"] * 590 + ["error"] * 10,
    })
    rows = feedback_rows(issues)
    assert len(rows) == FEEDBACK_LIMIT + 1
    assert [r[6] for r in rows[:10]] == ["Lỗi"] * 10 and rows[10][6] == "Cảnh báo"
    assert rows[-1][4] == f"… và {600 - FEEDBACK_LIMIT} vấn đề khác (0 lỗi) chưa liệt kê ở đây."


# -- one commune never takes the province down --------------------------------------------------

def _fail_checks_of(code):
    import toolkit.validate as validate

    real = validate.outlier_issues

    def failing(spec, rows, names, upto):
        if (rows["commune_code"] == code).any():
            raise ZeroDivisionError("float division by zero")
        return real(spec, rows, names, upto)

    return validate, "outlier_issues", failing


def _fail_saving_into(path):
    """The folder refuses the new file beside this workbook (a read-only share, a full disk).
    A workbook someone has open is deferred, not failed (test_never_clobber)."""
    import toolkit.backends.safe_write as safe_write

    real = os.utime

    def refusing(target, *args, **kwargs):
        if os.fspath(target).endswith(path.name):
            raise PermissionError(13, "Permission denied", os.fspath(target))
        return real(target, *args, **kwargs)

    return safe_write.os, "utime", refusing


def _break_the_file_of(path):
    """Another program saved a number cell holding text: openpyxl fails only while reading."""
    rewrite_cell(path, "B3", lambda xml: re.sub(r"<v>\d+</v>", "<v>abc</v>", xml),
                 at="2026-11-20 09:30")


def _fail_parsing(code_typed):
    import toolkit.collect as collect

    real = collect.rows_from_grid

    def failing(spec, grid, villages, keys, **kwargs):
        if grid[2:] and grid[2][1:2] == [code_typed]:     # what the victim typed meets a bug
            raise KeyError("a bug")
        return real(spec, grid, villages, keys, **kwargs)

    return collect, "rows_from_grid", failing


STAGES = {
    "read": "không đọc được sổ, nội dung bị hỏng",
    "parse": "lỗi không lường trước khi đọc sổ (KeyError: 'a bug')",
    "check": "lỗi không lường trước khi kiểm tra số liệu (ZeroDivisionError",
    "feedback": "không ghi được vào thư mục",
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_one_commune_failing_is_named_and_the_others_are_archived(provisioned, monkeypatch, stage):
    """An error reading, parsing, checking or writing feedback for one commune: that commune
    is named with the reason on the terminal and in the archive; the others are collected,
    checked, written and archived; the run exits 1."""
    for code, shops in (("06040", 3), ("06202", 2), ("06001", 4)):
        type_row(provisioned, code, DAILY, DAY, {SHOPS: shops, ACCOUNTS: 1}, at="2026-11-20 09:00")
    victim = "06202"
    if stage == "read":
        _break_the_file_of(workbook_of(provisioned, victim))
    else:
        monkeypatch.setattr(*{"parse": lambda: _fail_parsing(2),
                              "check": lambda: _fail_checks_of(victim),
                              "feedback": lambda: _fail_saving_into(
                                  workbook_of(provisioned, victim))}[stage]())
    result = run("daily", config=provisioned, now="2026-11-20 18:00")
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("LỖI")]
    assert len(failed) == 1 and "Xã Ba Sơn" in failed[0], result.output
    assert STAGES[stage] in failed[0]
    archive = provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    book = load_workbook(archive)
    header, rows = summary_table(book["Tổng hợp"].iter_rows(values_only=True))
    column = header.index("Số cửa hàng số mở mới trong ngày")
    shops = {r[0]: r[column] for r in rows}
    assert (shops["06040"], shops["06001"]) == (3, 4)
    # Ba Sơn's figures are its last good read: none (blank) when it was never read.
    assert shops["06202"] == (None if stage in ("read", "parse") else 2)
    named = [r[5] for r in book["Lỗi dữ liệu"].iter_rows(min_row=2, values_only=True)
             if r[0] == "Xã Ba Sơn" and STAGES[stage] in r[5]]
    assert len(named) == 1, named
    # The others' Kiểm tra tabs were written.
    assert feedback_tab(provisioned, "06040")[0][0].startswith("Kiểm tra lúc 18:00")


# -- Google: the cutoff sweep does not trust a lagging Drive listing -----------------------------

def test_the_cutoff_sweep_reads_waiting_communes_the_lagging_drive_listing_hides(province):
    """Drive's files.list can show the previous modifiedTime for minutes (P8): an entry typed
    at 16:58 must still be seen by the 17:00 sweep, not counted late."""
    from desks import GoogleDesk

    google = GoogleDesk(province)
    try:
        google.fake.list_lag = timedelta(minutes=10)
        assert google.run("provision", now="2026-11-20 08:00").exit_code == 0
        google.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:15")
        for moment in ("15:00", "16:30"):
            assert google.run("daily", now=f"2026-11-20 {moment}").exit_code == 0
        google.type_row("06202", DAILY, DAY, {SHOPS: 2, ACCOUNTS: 2}, at="2026-11-20 16:58")
        google.fake.reset_log()
        assert google.run("daily", now="2026-11-20 17:00").exit_code == 0
        read = {r.path.split("/")[3] for r in google.fake.requests
                if r.method_id == "sheets.spreadsheets.values.batchGet"}
        waiting = {google.spreadsheet_id(code) for code in ("06001", "06019", "06202")}
        assert read == waiting         # the commune that had reported is not read again
        assert google.run("daily", now="2026-11-20 17:06").exit_code == 0
        assert statuses(google.config, "2026-11-20", "2026-11-20 17:06")["06202"] == "on_time"
    finally:
        google.close()


def test_a_campaign_starting_after_the_monthly_due_day_provisions_an_empty_monthly_tab(desk):  # noqa: F811, E501
    set_campaign(desk.config, date(2026, 11, 27), date(2026, 11, 30))
    result = desk.run("provision", now="2026-11-27 08:00")
    assert result.exit_code == 0, result.output
    assert [r[0] for r in desk.tab_rows("06040", MONTHLY, first_row=2) if r and r[0]] == [
        "Tháng"]                                    # the header, and no month owed
    again = desk.run("provision", now="2026-11-27 09:00")
    assert "0 sổ đã thay đổi, 4 sổ đã đủ" in again.output


def test_a_report_cleared_after_the_deadline_is_amended_not_chased(provisioned):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 16:00")
    assert run("daily", config=provisioned, now="2026-11-20 17:00").exit_code == 0
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: None, ACCOUNTS: None}, at="2026-11-20 19:00")
    assert run("daily", config=provisioned, now="2026-11-20 20:00").exit_code == 0
    assert statuses(provisioned, "2026-11-20", "2026-11-20 20:00")["06040"] == "amended"
    reminded = run("remind", "--date", "2026-11-20", config=provisioned, now="2026-11-20 20:00")
    assert "Thất Khê" not in reminded.output
    assert not [r for r in feedback_tab(provisioned, "06040") if r[4].startswith("Chưa báo cáo")]
