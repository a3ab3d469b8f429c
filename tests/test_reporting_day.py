"""A whole reporting day through the CLI, the same scenario on both backends.

The embedded default (a folder of .xlsx files) and Google Sheets (the real gspread and
google-auth talking to the loopback fake) must give the same statuses, issues, feedback tabs
and archive for the same typing. Where the backends differ for a person, the test says why.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import commune_rows, total_rows
from desks import desk  # noqa: F401  (the pytest fixture: each backend in turn)

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
REVENUE = "Doanh số (đồng)"
NOTE = "Ghi chú"


def statuses(desk, now: str, day: str = "2026-11-20", template: str = "kts_daily"):  # noqa: F811
    result = desk.run("status", "--date", day, "--template", template, "--format", "json",
                      now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return report, {c["code"]: c["status"] for c in report["communes"]}


def feedback_rows(desk, code: str) -> list[tuple]:  # noqa: F811
    return [r for r in desk.tab_rows(code, "Kiểm tra", first_row=3) if r and r[0]]


@pytest.mark.provisioned
def test_a_reporting_day_statuses_issues_and_rollup(desk):  # noqa: F811
    # Thất Khê reports on time, with Vietnamese thousands separators. Google's number
    # validation refuses the currency word a person may add; Excel takes it as text we parse.
    revenue = "1.500.000" if desk.refuses_bad_numbers else "1.500.000 đ"
    assert desk.type_row("06040", DAILY, DAY, {SHOPS: 12, ACCOUNTS: "1.200", REVENUE: revenue},
                         at="2026-11-20 16:30") == []
    # Tân Tiến types text in a number cell. Excel keeps it (an issue for us, the day stays
    # incomplete); Google refuses it at the keyboard, so the cell stays empty (incomplete too).
    refused = desk.type_row("06019", DAILY, DAY, {SHOPS: "12a", ACCOUNTS: 3},
                            at="2026-11-20 10:00")
    assert refused == ([SHOPS] if desk.refuses_bad_numbers else [])
    # Ba Sơn reports a formula-looking note; it must stay text everywhere.
    desk.type_row("06202", DAILY, DAY, {SHOPS: 2, ACCOUNTS: 4, NOTE: "=1+1"},
                  at="2026-11-20 11:00")

    first = desk.run("collect", now="2026-11-20 17:00")
    assert first.exit_code == 0, first.output
    assert "collect: đã đọc 4 sổ, 0 sổ không đổi, 0 sổ lỗi; 3 phiên bản dòng mới" in first.output

    # Đoàn Kết reports after the deadline; Ba Sơn amends its figure in the evening.
    desk.type_row("06001", DAILY, DAY, {SHOPS: 5, ACCOUNTS: 6}, at="2026-11-20 17:40")
    desk.type_row("06202", DAILY, DAY, {SHOPS: 3}, at="2026-11-20 18:10")
    second = desk.run("collect", now="2026-11-20 20:00")
    assert "collect: đã đọc 2 sổ, 2 sổ không đổi, 0 sổ lỗi; 2 phiên bản dòng mới" in second.output
    third = desk.run("collect", now="2026-11-20 20:05")
    assert "collect: đã đọc 0 sổ, 4 sổ không đổi, 0 sổ lỗi; 0 phiên bản dòng mới" in third.output

    report, status = statuses(desk, now="2026-11-20 20:00")
    assert status == {"06040": "on_time", "06001": "late", "06019": "incomplete",
                      "06202": "amended"}
    province_row = report["summary"][-1]
    assert province_row["area"] == "Toàn tỉnh"
    assert (province_row["reporting_rate"], province_row["on_time_rate"]) == (0.75, 0.5)
    # As of the deadline, the late and the amended figures are not known yet.
    _, at_deadline = statuses(desk, now="2026-11-20 17:10")
    assert at_deadline == {"06040": "on_time", "06001": "missing", "06019": "incomplete",
                           "06202": "on_time"}

    checked = desk.run("validate", "--date", "2026-11-20", now="2026-11-20 20:10")
    assert checked.exit_code == 0, checked.output
    (problem,) = [r for r in feedback_rows(desk, "06019") if r[6] == "Lỗi"]
    assert problem[:3] == ("20/11/2026", DAILY, "B3") and problem[6] == "Lỗi"
    if desk.refuses_bad_numbers:
        assert "Xã Tân Tiến · Báo cáo ngày!B3 ·  · " in checked.output
        assert problem[3] == "" and problem[4] == f"Chưa nhập \"{SHOPS}\"."
    else:
        assert "Xã Tân Tiến · Báo cáo ngày!B3 · 12a" in checked.output
        assert problem[3] == "12a" and "số nguyên" in problem[4]
    assert "1 lỗi" in desk.title("06019", "Kiểm tra")
    assert "không có lỗi" in desk.title("06040", "Kiểm tra")
    # Writing Kiểm tra is not a change by staff. A file's modified time proves that; Drive's
    # modifiedTime cannot tell our write from an edit made meanwhile, so Google re-reads the
    # workbooks we wrote to once (finding nothing new), then nothing.
    if desk.kind == "gsheets":
        once = desk.run("collect", now="2026-11-20 20:30")
        assert "đã đọc 4 sổ, 0 sổ không đổi, 0 sổ lỗi; 0 phiên bản dòng mới" in once.output
    after = desk.run("collect", now="2026-11-20 20:35")
    assert "đã đọc 0 sổ, 4 sổ không đổi" in after.output, after.output

    now_rollup = desk.run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                          now="2026-11-20 20:40")
    assert now_rollup.exit_code == 0, now_rollup.output
    archive = desk.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    assert str(archive) in now_rollup.output
    if desk.kind == "gsheets":   # the province rollup spreadsheet gets the same tables
        assert "Bảng tổng hợp Google Sheets → https://docs.google.com/spreadsheets/d/" \
            f"{desk.rollup_id}" in now_rollup.output
        published = desk.fake.values(desk.rollup_id, "'Báo cáo ngày · Tổng hợp'!A1:B14")
        # Title, blank, header, province total, blank, the header again, the communes.
        assert published[7] == published[4]
        assert sorted(r[0] for r in published[8:]) == ["06001", "06019", "06040", "06202"]
        assert published[5][1] == "Toàn tỉnh"
    book = load_workbook(archive)
    summary = book["Tổng hợp"]
    by_code = commune_rows(summary)
    assert total_rows(summary)[0]["Số cửa hàng số mở mới trong ngày"] == 12 + 5 + 3
    assert by_code["06040"]["Số cửa hàng số mở mới trong ngày"] == 12
    assert by_code["06040"]["Số tài khoản thanh toán điện tử mở mới (lũy kế)"] == 1200
    assert by_code["06040"]["Doanh số (đồng) trong ngày"] == 1_500_000
    assert by_code["06040"]["Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"] == pytest.approx(0.01)
    assert by_code["06019"]["Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"] is None  # no households
    assert by_code["06202"]["Số cửa hàng số mở mới trong ngày"] == 3
    assert by_code["06202"]["Tình trạng báo cáo"] == "Đúng hạn, sửa sau hạn"
    assert by_code["06019"]["Số lỗi"] == 1  # the one bad cell, counted once
    assert sum(r["Số cửa hàng số mở mới trong ngày"] for r in by_code.values()) == 12 + 5 + 3
    rates = [r for r in book["Tỷ lệ báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert rates[-1][0] == "Toàn tỉnh" and rates[-1][-2:] == (0.75, 0.5)
    errors = book["Lỗi dữ liệu"]
    assert any(r[3] == "B3" for r in errors.iter_rows(values_only=True))
    missing = [r[1] for r in book["Chưa báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert missing == ["Xã Tân Tiến"]
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    assert len(info["SHA-256 của các dòng đã dùng"]) == 64

    deadline = desk.run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                        "--as-of", "deadline", now="2026-11-21 09:00")
    assert deadline.exit_code == 0
    book = load_workbook(archive.with_name("kts_daily_2026-11-20_theo-han.xlsx"))
    rows = commune_rows(book["Tổng hợp"])
    shops = "Số cửa hàng số mở mới trong ngày"
    assert (rows["06202"][shops], rows["06001"][shops]) == (2, None)    # not typed by then


# On Google a person cannot get "=1+1" into a number cell (the sheet evaluates or refuses it);
# the store's own tests check that Kiểm tra and the rollup sheet are written as plain text.
@pytest.mark.parametrize("desk", ["xlsx"], indirect=True)
@pytest.mark.provisioned
def test_text_typed_by_a_commune_never_becomes_a_formula(desk):  # noqa: F811
    desk.type_row("06202", DAILY, DAY, {SHOPS: "=1+1", ACCOUNTS: 1}, at="2026-11-20 11:00")
    desk.run("collect", now="2026-11-20 12:00")
    desk.run("validate", "--date", "2026-11-20", now="2026-11-20 12:00")
    desk.run("rollup", "--date", "2026-11-20", now="2026-11-20 12:00")
    (row,) = feedback_rows(desk, "06202")
    assert row[3] == "=1+1"
    archive = desk.config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    book = load_workbook(archive)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)


@pytest.mark.provisioned
def test_daily_runs_collect_validate_and_rollup(desk):  # noqa: F811
    desk.type_row("06040", DAILY, DAY, {SHOPS: 4, ACCOUNTS: 9}, at="2026-11-20 14:00")
    result = desk.run("daily", now="2026-11-20 15:00")
    assert result.exit_code == 0, result.output
    assert "collect: đã đọc 4 sổ" in result.output
    assert ("rollup kts_daily 20/11/2026 (đến hiện tại): đã báo cáo 25%, đúng hạn 25%"
            in result.output)
    folder = desk.config.parent / "archive"
    assert (folder / "kts_daily/2026/kts_daily_2026-11-20.xlsx").is_file()
    assert (folder / "cds_monthly/2026/cds_monthly_2026-11.xlsx").is_file()
    _, status = statuses(desk, now="2026-11-20 15:00")
    assert status["06001"] == "pending"
