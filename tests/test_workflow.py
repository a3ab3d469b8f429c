"""A whole reporting day through the CLI on the embedded default (xlsx folder + SQLite)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import run, type_row, workbook_of
from toolkit.cli import main

DAY = date(2026, 11, 20)
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
REVENUE = "Doanh số (đồng)"
NOTE = "Ghi chú"


def statuses(config, day="2026-11-20", now="2026-11-20 20:00", template="kts_daily"):
    result = run("status", "--date", day, "--template", template, "--format", "json",
                 config=config, now=now)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    return report, {c["code"]: c["status"] for c in report["communes"]}


def test_provision_creates_one_workbook_per_commune_and_is_idempotent(province):
    first = run("provision", config=province, now="2026-11-20 08:00")
    assert first.exit_code == 0, first.output
    assert "4 workbook(s) changed, 0 already complete" in first.output
    path = workbook_of(province, "06040")
    assert path.name == "06040 Xã Thất Khê.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["Báo cáo ngày", "Báo cáo tháng", "BCĐ CĐS", "Tổ CNSCĐ",
                               "Kiểm tra", "Hướng dẫn", "Danh mục"]
    daily = book["Báo cáo ngày"]
    assert daily["A2"].value == "Ngày" and daily["B2"].value == SHOPS
    assert daily["A3"].value.date() == DAY and daily["A3"].number_format == "DD/MM/YYYY"
    assert daily.protection.sheet and not daily["B3"].protection.locked
    assert daily["A2"].protection.locked
    rules = {str(dv.sqref): dv for dv in daily.data_validations.dataValidation}
    assert rules["B3:B63"].type == "whole" and rules["B3:B63"].formula1 == "0"
    assert book["Báo cáo tháng"]["A3"].value == "11/2026"
    roster = book["Tổ CNSCĐ"]
    village_rule = next(dv for dv in roster.data_validations.dataValidation
                        if "A3" in str(dv.sqref))
    assert village_rule.formula1 == "'Danh mục'!$A$2:$A$500"
    assert [c.value for c in book["Danh mục"]["A"]][1:4] == ["Thôn Nà Lầu", "Thôn Bản Chắt",
                                                             "Thôn Pác Lũng"]
    before = path.stat().st_mtime_ns
    again = run("provision", config=province, now="2026-11-21 08:00")
    assert again.exit_code == 0
    assert "0 workbook(s) changed, 4 already complete" in again.output
    assert path.stat().st_mtime_ns == before


def test_provision_extends_rows_when_the_campaign_grows_and_keeps_typed_values(province):
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 7}, at="2026-11-20 10:00")
    text = province.read_text(encoding="utf-8")
    province.write_text(text.replace("end = 2027-01-19", "end = 2027-01-29"), encoding="utf-8")
    dry = run("provision", "--dry-run", config=province, now="2026-11-20 11:00")
    assert "would add 10 period rows to 'Báo cáo ngày' (2027-01-20…)" in dry.output
    assert "4 workbook(s) to change" in dry.output
    result = run("provision", config=province, now="2026-11-20 11:00")
    assert result.exit_code == 0
    sheet = load_workbook(workbook_of(province, "06040"))["Báo cáo ngày"]
    assert sheet["B3"].value == 7
    assert sheet.cell(sheet.max_row, 1).value.date() == date(2027, 1, 29)


def test_a_reporting_day_statuses_issues_and_rollup(province):
    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    # Thất Khê reports on time, with Vietnamese thousands separators in revenue.
    type_row(province, "06040", "Báo cáo ngày", DAY,
             {SHOPS: 12, ACCOUNTS: "1.200", REVENUE: "1.500.000 đ"}, at="2026-11-20 16:30")
    # Tân Tiến types text in a number cell: kept as an issue, the day stays incomplete.
    type_row(province, "06019", "Báo cáo ngày", DAY, {SHOPS: "12a", ACCOUNTS: 3},
             at="2026-11-20 10:00")
    # Ba Sơn reports a formula-looking note; it must stay text everywhere.
    type_row(province, "06202", "Báo cáo ngày", DAY, {SHOPS: 2, ACCOUNTS: 4, NOTE: "=1+1"},
             at="2026-11-20 11:00")

    first = run("collect", config=province, now="2026-11-20 17:00")
    assert first.exit_code == 0, first.output
    assert "collect: 4 read, 0 unchanged, 0 failed; 3 new row version(s)" in first.output

    # Đoàn Kết reports after the deadline; Ba Sơn amends its figure in the evening.
    type_row(province, "06001", "Báo cáo ngày", DAY, {SHOPS: 5, ACCOUNTS: 6},
             at="2026-11-20 17:40")
    type_row(province, "06202", "Báo cáo ngày", DAY, {SHOPS: 3}, at="2026-11-20 18:10")
    second = run("collect", config=province, now="2026-11-20 20:00")
    assert "collect: 2 read, 2 unchanged, 0 failed; 2 new row version(s)" in second.output
    third = run("collect", config=province, now="2026-11-20 20:05")
    assert "collect: 0 read, 4 unchanged, 0 failed; 0 new row version(s)" in third.output

    report, status = statuses(province)
    assert status == {"06040": "on_time", "06001": "late", "06019": "incomplete",
                      "06202": "amended"}
    province_row = report["summary"][-1]
    assert province_row["area"] == "Toàn tỉnh"
    assert (province_row["reporting_rate"], province_row["on_time_rate"]) == (0.75, 0.5)
    # As of the deadline, the late and the amended figures are not known yet.
    _, at_deadline = statuses(province, now="2026-11-20 17:01")
    assert at_deadline == {"06040": "on_time", "06001": "missing", "06019": "incomplete",
                           "06202": "on_time"}

    checked = run("validate", "--date", "2026-11-20", config=province, now="2026-11-20 20:10")
    assert checked.exit_code == 0, checked.output
    assert "Xã Tân Tiến · Báo cáo ngày!B3 · 12a" in checked.output
    feedback = load_workbook(workbook_of(province, "06019"))["Kiểm tra"]
    rows = [r for r in feedback.iter_rows(min_row=3, values_only=True) if r[0]]
    assert rows[0][:4] == ("20/11/2026", "Báo cáo ngày", "B3", "12a")
    assert "số nguyên" in rows[0][4] and rows[0][6] == "Lỗi"
    assert "1 lỗi" in feedback["A1"].value
    clean = load_workbook(workbook_of(province, "06040"))["Kiểm tra"]
    assert "không có lỗi" in clean["A1"].value
    # Writing Kiểm tra is not a change by staff: the next collect reads nothing.
    after = run("collect", config=province, now="2026-11-20 20:15")
    assert "0 read, 4 unchanged" in after.output

    now_rollup = run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                     config=province, now="2026-11-20 20:20")
    assert now_rollup.exit_code == 0, now_rollup.output
    archive = province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    assert str(archive) in now_rollup.output
    book = load_workbook(archive)
    summary = book["Tổng hợp"]
    header = [c.value for c in summary[1]]
    by_code = {r[0]: dict(zip(header, r, strict=True))
               for r in summary.iter_rows(min_row=2, values_only=True)}
    assert by_code["06040"]["Số cửa hàng số mở mới trong ngày"] == 12
    assert by_code["06040"]["Số tài khoản thanh toán điện tử mở mới (lũy kế)"] == 1200
    assert by_code["06040"]["Doanh số (đồng) trong ngày"] == 1_500_000
    assert by_code["06040"]["Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"] == pytest.approx(0.01)
    assert by_code["06019"]["Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"] is None  # no households
    assert by_code["06202"]["Số cửa hàng số mở mới trong ngày"] == 3
    assert by_code["06202"]["Tình trạng báo cáo"] == "Đúng hạn, sửa sau hạn"
    assert by_code["06019"]["Số lỗi"] == 1  # the bad cell (not also "required")
    assert sum(r["Số cửa hàng số mở mới trong ngày"] for r in by_code.values()) == 12 + 5 + 3
    rates = [r for r in book["Tỷ lệ báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert rates[-1][0] == "Toàn tỉnh" and rates[-1][-2:] == (0.75, 0.5)
    errors = book["Lỗi dữ liệu"]
    assert any(r[3] == "B3" and r[4] == "12a" for r in errors.iter_rows(values_only=True))
    missing = [r[1] for r in book["Chưa báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert missing == ["Xã Tân Tiến"]
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    assert len(info["SHA-256 của các dòng đã dùng"]) == 64

    deadline = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", "--as-of",
                   "deadline", config=province, now="2026-11-21 09:00")
    assert deadline.exit_code == 0
    book = load_workbook(archive.with_name("kts_daily_2026-11-20_theo-han.xlsx"))
    rows = {r[0]: r for r in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in book["Tổng hợp"][1]]
    shops = header.index("Số cửa hàng số mở mới trong ngày")
    assert (rows["06202"][shops], rows["06001"][shops]) == (2, 0)


def test_text_typed_by_a_commune_never_becomes_a_formula(province):
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06202", "Báo cáo ngày", DAY, {SHOPS: "=1+1", ACCOUNTS: 1},
             at="2026-11-20 11:00")
    run("collect", config=province, now="2026-11-20 12:00")
    run("validate", "--date", "2026-11-20", config=province, now="2026-11-20 12:00")
    run("rollup", "--date", "2026-11-20", config=province, now="2026-11-20 12:00")
    feedback = load_workbook(workbook_of(province, "06202"))["Kiểm tra"]
    assert feedback["D3"].value == "=1+1" and feedback["D3"].data_type == "s"
    archive = province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    errors = load_workbook(archive)["Lỗi dữ liệu"]
    cells = [c for row in errors.iter_rows() for c in row if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_renamed_tab_fails_that_commune_only_with_exit_code_1(province):
    run("provision", config=province, now="2026-11-20 08:00")
    path = workbook_of(province, "06040")
    book = load_workbook(path)
    book["Báo cáo ngày"].title = "Bao cao"
    book.save(path)
    type_row(province, "06001", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 10:00")
    result = run("collect", config=province, now="2026-11-20 12:00")
    assert result.exit_code == 1
    assert "3 read" in result.output and "1 failed" in result.output
    assert ("FAILED Xã Thất Khê: tab 'Báo cáo ngày' not found; run `toolkit provision` to repair"
            in result.output)
    # It is reported again on the next run, not silently skipped.
    assert run("collect", config=province, now="2026-11-20 12:05").exit_code == 1


def test_daily_runs_collect_validate_and_rollup(province):
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 4, ACCOUNTS: 9},
             at="2026-11-20 14:00")
    result = run("daily", config=province, now="2026-11-20 15:00")
    assert result.exit_code == 0, result.output
    assert "collect: 4 read" in result.output
    assert "rollup kts_daily 20/11/2026 (as of now): reporting 25%, on time 25%" in result.output
    assert (province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx").is_file()
    assert (province.parent / "archive/cds_monthly/2026/cds_monthly_2026-11.xlsx").is_file()
    _, status = statuses(province, now="2026-11-20 15:00")
    assert status["06001"] == "pending"


def test_status_formats(province):
    run("provision", config=province, now="2026-11-20 08:00")
    table = run("status", "--date", "20/11/2026", "--template", "kts_daily",
                config=province, now="2026-11-20 18:00")
    assert table.exit_code == 0
    assert "06040  Xã Thất Khê" in table.output
    assert "Toàn tỉnh: 0 on time, 0 amended, 0 late, 0 incomplete, 4 missing of 4" in table.output
    csv = run("status", "--date", "2026-11-20", "--template", "kts_daily", "--format", "csv",
              config=province, now="2026-11-20 18:00")
    assert csv.stdout.splitlines()[0].startswith("code,commune,district,households,status")


def test_status_json_equals_the_library_result(province):
    from toolkit.cli import status_json
    from toolkit.periods import parse_now
    from toolkit.status import period_status
    from toolkit.workspace import open_workspace

    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 09:00")
    run("collect", config=province, now="2026-11-20 10:00")
    printed, _ = statuses(province, now="2026-11-20 18:00")
    with open_workspace(province, "kts_daily") as ws:
        library = period_status(ws.specs[0], ws.registry, ws.ledger.versions("kts_daily"), DAY,
                                as_of=parse_now("2026-11-20 18:00"), grace=ws.grace)
    assert printed == json.loads(json.dumps(status_json(library), ensure_ascii=False))


@pytest.mark.parametrize("args, message", [
    (["collect"], "no configuration at"),
    (["status", "--date", "31/02/2026"], "is not a date"),
    (["rollup", "--as-of", "yesterday"], "Invalid value for '--as-of'"),
    (["collect", "--now", "tomorrow"], "write it as '2026-11-23 17:00'"),
])
def test_usage_and_config_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLKIT_CONFIG", raising=False)
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_broken_registry_is_reported_with_rows_before_anything_is_written(province):
    book = load_workbook(province.parent / "registry.xlsx")
    book.worksheets[0]["F3"] = "nhiều"
    book.save(province.parent / "registry.xlsx")
    result = run("provision", config=province, now="2026-11-20 08:00")
    assert result.exit_code == 2
    assert "row 3" in result.output and "nhiều" in result.output
    assert not (province.parent / "workbooks").exists()


def test_init_accepts_names_without_diacritics_and_refuses_unknown(tmp_path):
    ok = run("init", str(tmp_path / "a"), "--province", "LẠNG SƠN")
    assert ok.exit_code == 0 and "65 communes of Lạng Sơn" in ok.output
    bad = run("init", str(tmp_path / "b"), "--province", "Lang Sonn Xyz")
    assert bad.exit_code == 2 and "Error:" in bad.output


def test_every_command_has_help_with_an_example():
    for name in main.commands:
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output and f"toolkit {name}" in result.output, name
        assert "--now" in result.output and "--config" in result.output


def test_districts_get_their_own_counts_and_archive_sheet(province):
    book = load_workbook(province.parent / "registry.xlsx")
    sheet = book.worksheets[0]
    for row, district in zip(range(2, 6), ["Tràng Định", "Tràng Định", "Văn Lãng", "Bắc Sơn"],
                             strict=True):
        sheet.cell(row, 5).value = district
    book.save(province.parent / "registry.xlsx")
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 4, ACCOUNTS: 9},
             at="2026-11-20 14:00")
    run("collect", config=province, now="2026-11-20 18:00")
    report, _ = statuses(province, now="2026-11-20 18:00")
    areas = {row["area"]: row for row in report["summary"]}
    assert set(areas) == {"Bắc Sơn", "Tràng Định", "Văn Lãng", "Toàn tỉnh"}
    assert sum(areas[a]["expected"] for a in ("Bắc Sơn", "Tràng Định", "Văn Lãng")) == 4
    assert areas["Toàn tỉnh"]["on_time"] == 1
    result = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", config=province,
                 now="2026-11-20 18:00")
    assert result.exit_code == 0
    archive = load_workbook(province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx")
    by_district = [r for r in archive["Theo huyện"].iter_rows(values_only=True)]
    assert by_district[0][0] == "Huyện (cũ)" and by_district[-1][0] == "Toàn tỉnh"
    assert len(by_district) == 5


def test_daily_reuses_what_validate_read_and_rolls_up_as_a_fresh_read_would(province):
    import pandas as pd

    from toolkit.daily import run_daily
    from toolkit.periods import parse_now
    from toolkit.rollup import build_rollup
    from toolkit.workspace import open_workspace

    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 4, ACCOUNTS: 9},
             at="2026-11-20 14:00")
    type_row(province, "06202", "Báo cáo ngày", DAY, {SHOPS: "4a", ACCOUNTS: 2, REVENUE: 1500},
             at="2026-11-20 16:30")
    now = parse_now("2026-11-20 18:00")
    with open_workspace(province) as ws:
        swept = run_daily(ws, now=now, day=DAY)
        daily = next(r for r in swept.rollups if r.spec.key == "kts_daily")
        fresh = build_rollup(daily.spec, ws.registry, ws.ledger.versions("kts_daily"), DAY,
                             as_of_mode="now", now=now, grace=ws.grace, campaign=ws.campaign)
    for part in ("communes", "areas", "issues", "rates", "series", "progress"):
        pd.testing.assert_frame_equal(getattr(daily, part), getattr(fresh, part))
    assert (daily.digest, daily.rows_used) == (fresh.digest, fresh.rows_used)
    assert set(daily.issues["check"]) >= {"format", "missing"}
