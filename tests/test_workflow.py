"""The CLI on the embedded default (xlsx folder + SQLite): provisioning, status, errors, help.

The reporting-day scenarios that run on both backends are in test_reporting_day.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import name_districts, run, type_row, workbook_of
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
    assert "4 sổ đã thay đổi, 0 sổ đã đủ" in first.output
    path = workbook_of(province, "06040")
    assert path.name == "06040 Xã Thất Khê.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["Báo cáo ngày", "Báo cáo tháng", "Báo cáo quý BCĐ", "BCĐ CĐS",
                               "Tổ CNSCĐ", "Kiểm tra", "Hướng dẫn", "Danh mục"]
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
    assert village_rule.errorStyle == "stop"               # no other words for a village
    role_rule = next(dv for dv in roster.data_validations.dataValidation
                     if "C3" in str(dv.sqref))
    assert role_rule.formula1 == '"Tổ trưởng,Tổ phó,Tổ viên"'
    assert role_rule.errorStyle == "warning"               # "Thành viên tổ" is accepted
    assert [c.value for c in book["Danh mục"]["A"]][1:4] == ["Thôn Nà Lầu", "Thôn Bản Chắt",
                                                             "Thôn Pác Lũng"]
    before = path.stat().st_mtime_ns
    again = run("provision", config=province, now="2026-11-21 08:00")
    assert again.exit_code == 0
    assert "0 sổ đã thay đổi, 4 sổ đã đủ" in again.output
    assert path.stat().st_mtime_ns == before


def test_provision_extends_rows_when_the_campaign_grows_and_keeps_typed_values(provisioned):
    type_row(provisioned, "06040", "Báo cáo ngày", DAY, {SHOPS: 7}, at="2026-11-20 10:00")
    text = provisioned.read_text(encoding="utf-8")
    provisioned.write_text(text.replace("end = 2027-01-19", "end = 2027-01-29"), encoding="utf-8")
    dry = run("provision", "--dry-run", config=provisioned, now="2026-11-20 11:00")
    assert "sẽ thêm 10 dòng kỳ báo cáo vào trang 'Báo cáo ngày' (từ 2027-01-20)" in dry.output
    assert "4 sổ sẽ thay đổi" in dry.output
    result = run("provision", config=provisioned, now="2026-11-20 11:00")
    assert result.exit_code == 0
    sheet = load_workbook(workbook_of(provisioned, "06040"))["Báo cáo ngày"]
    assert sheet["B3"].value == 7
    assert sheet.cell(sheet.max_row, 1).value.date() == date(2027, 1, 29)


def test_collect_before_provision_names_each_commune_without_a_workbook(province):
    result = run("collect", config=province, now="2026-11-20 12:00")
    assert result.exit_code == 1
    assert ("LỖI Xã Thất Khê: chưa có sổ báo cáo; chạy `toolkit provision` để tạo"
            in result.output)


def test_a_renamed_tab_fails_that_commune_only_with_exit_code_1(provisioned):
    path = workbook_of(provisioned, "06040")
    book = load_workbook(path)
    book["Báo cáo ngày"].title = "Bao cao"
    book.save(path)
    type_row(provisioned, "06001", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 10:00")
    result = run("collect", config=provisioned, now="2026-11-20 12:00")
    assert result.exit_code == 1
    assert "đã đọc 3 sổ" in result.output and "1 sổ lỗi" in result.output
    assert ("LỖI Xã Thất Khê: không thấy trang 'Báo cáo ngày'; chạy `toolkit provision` để "
            "tạo lại" in result.output)
    assert ("nếu trang bị đổi tên (sổ còn có trang 'Bao cao'), hãy đổi lại tên cũ trước"
            in result.output)
    # It is reported again on the next run, not silently skipped.
    assert run("collect", config=provisioned, now="2026-11-20 12:05").exit_code == 1


def test_status_formats(provisioned):
    table = run("status", "--date", "20/11/2026", "--template", "kts_daily",
                config=provisioned, now="2026-11-20 18:00")
    assert table.exit_code == 0
    assert "06040  Xã Thất Khê" in table.output
    assert ("Toàn tỉnh (4 xã phải báo cáo): 4 chưa báo cáo — đã báo cáo 0%, đúng hạn 0%"
            in table.output)
    csv = run("status", "--date", "2026-11-20", "--template", "kts_daily", "--format", "csv",
              config=provisioned, now="2026-11-20 18:00")
    assert csv.stdout.splitlines()[0].startswith('\ufeff"Mã báo cáo","Báo cáo","Kỳ"')


def test_status_json_equals_the_library_result(province):
    from toolkit.periods import parse_now
    from toolkit.render import status_json
    from toolkit.status import period_status
    from toolkit.workspace import open_workspace

    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 09:00")
    run("collect", config=province, now="2026-11-20 10:00")
    printed, _ = statuses(province, now="2026-11-20 18:00")
    with open_workspace(province, "kts_daily") as ws:
        library = period_status(ws.specs[0], ws.registry, ws.ledger.versions("kts_daily"), DAY,
                                as_of=parse_now("2026-11-20 18:00"), grace=ws.grace,
                                campaign=ws.campaign)
    assert printed == json.loads(json.dumps(status_json(library, ws.specs[0].title),
                                            ensure_ascii=False))


@pytest.mark.parametrize("args, message", [
    (["collect"], "không có tệp cấu hình tại"),
    (["status", "--date", "31/02/2026"], "không phải một ngày"),
    (["rollup", "--as-of", "yesterday"], "giá trị của '--as-of' không hợp lệ"),
    (["collect", "--now", "tomorrow"], "hãy viết 2026-11-23 17:00 hoặc 23/11/2026 17:00"),
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
    assert "dòng 3" in result.output and "nhiều" in result.output
    assert not (province.parent / "workbooks").exists()


def test_init_accepts_names_without_diacritics_and_refuses_unknown(tmp_path):
    ok = run("init", str(tmp_path / "a"), "--province", "LẠNG SƠN")
    assert ok.exit_code == 0 and "65 xã, phường của Lạng Sơn" in ok.output
    bad = run("init", str(tmp_path / "b"), "--province", "Lang Sonn Xyz")
    assert bad.exit_code == 2 and "Lỗi:" in bad.output


def test_every_command_has_help_with_an_example():
    import click

    leaves = [([name], command) for name, command in main.commands.items()
              if not isinstance(command, click.Group)]
    leaves += [([name, sub], command) for name, group in main.commands.items()
               if isinstance(group, click.Group) for sub, command in group.commands.items()]
    assert len(leaves) > 10
    for words, _ in leaves:
        result = run(*words, "--help")
        assert result.exit_code == 0
        example = "Example:" in result.output or "Ví dụ:" in result.output
        assert example and f"toolkit {' '.join(words)}" in result.output, words
        assert "--now" in result.output
        # merge names the province folders it reads: a --config there would do nothing.
        assert ("--config" in result.output) == (words != ["merge"]), words


def test_districts_get_their_own_counts_and_archive_sheet(province):
    name_districts(province)
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
