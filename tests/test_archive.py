"""The Excel archive read back as a person opening it would: sheets, values, formats, charts."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from conftest import run, type_row

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"


@pytest.fixture
def archive(province):
    """Two reporting days: Thất Khê reports both, Đoàn Kết only the second, late."""
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 10, ACCOUNTS: 20},
             at="2026-11-20 10:00")
    run("collect", config=province, now="2026-11-20 20:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 21), {SHOPS: 20, ACCOUNTS: 0},
             at="2026-11-21 11:00")
    type_row(province, "06001", "Báo cáo ngày", date(2026, 11, 21), {SHOPS: 4, ACCOUNTS: 4},
             at="2026-11-21 18:00")
    result = run("daily", config=province, now="2026-11-21 20:00")
    assert result.exit_code == 0, result.output
    return province.parent / "archive/kts_daily/2026/kts_daily_2026-11-21.xlsx"


def rows_of(sheet):
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_archive_sheets_and_formats(archive):
    book = load_workbook(archive)
    assert book.sheetnames == ["Tổng hợp", "Tiến độ chỉ tiêu", "Tỷ lệ báo cáo", "Diễn biến",
                               "Chưa báo cáo", "Lỗi dữ liệu", "Thông tin"]
    summary = book["Tổng hợp"]
    assert summary.freeze_panes == "C2" and summary.auto_filter.ref.startswith("A1:")
    header = [c.value for c in summary[1]]
    pct = header.index("Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)") + 1
    assert summary.cell(2, pct).number_format == "0.0%"
    status = header.index("Tình trạng báo cáo") + 1
    fills = {summary.cell(r, status).value: summary.cell(r, status).fill.fgColor.rgb
             for r in range(2, summary.max_row + 1)}
    assert fills["Đúng hạn"].endswith("C6EFCE") and fills["Trễ hạn"].endswith("FFEB9C")


def test_target_progress_and_projection(archive):
    progress = rows_of(load_workbook(archive)["Tiến độ chỉ tiêu"])
    that_khe = next(r for r in progress if r["Mã xã"] == "06040"
                    and r["Chỉ tiêu"] == "Hộ có cửa hàng số")
    # 1,200 households × 50% = 600; 30 done in 2 days → 15/day → 570 left → 38 days.
    assert that_khe["Cần đạt"] == 600 and that_khe["Đã đạt (lũy kế)"] == 30
    assert that_khe["Còn thiếu"] == 570
    assert that_khe["Bình quân/ngày (7 ngày qua)"] == 15
    assert that_khe["Dự kiến ngày đạt"] == "29/12/2026"
    no_households = next(r for r in progress if r["Mã xã"] == "06019")
    assert no_households["Dự kiến ngày đạt"] == "Chưa có số hộ"
    assert len(load_workbook(archive)["Tiến độ chỉ tiêu"]._charts) == 1


def test_rates_by_window_and_daily_series(archive):
    book = load_workbook(archive)
    rates = {r["Khoảng thời gian"]: r for r in rows_of(book["Tỷ lệ báo cáo"])}
    assert rates["Trong ngày"]["Số báo cáo phải nộp"] == 4
    assert (rates["Trong ngày"]["Đã nộp"], rates["Trong ngày"]["Đúng hạn"]) == (2, 1)
    assert rates["Từ đầu đợt"]["Số báo cáo phải nộp"] == 8
    assert (rates["Từ đầu đợt"]["Đã nộp"], rates["Từ đầu đợt"]["Đúng hạn"]) == (3, 2)
    series = rows_of(book["Diễn biến"])
    assert [r["Kỳ"] for r in series] == ["20/11/2026", "21/11/2026"]
    assert [r[SHOPS] for r in series] == [10, 24]
    assert [r["Số cửa hàng số mở mới (lũy kế)"] for r in series] == [10, 34]
    assert [r["Tỷ lệ báo cáo"] for r in series] == [0.25, 0.5]
    assert len(book["Diễn biến"]._charts) == 1


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_archive_converts_to_pdf_with_libreoffice(archive, tmp_path):
    subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(archive)], check=True, capture_output=True, timeout=120)
    pdf = tmp_path / archive.with_suffix(".pdf").name
    assert pdf.stat().st_size > 10_000


def test_the_as_of_deadline_rollup_later_equals_the_one_made_at_the_deadline(province, tmp_path):
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 7, ACCOUNTS: 1},
             at="2026-11-20 16:00")
    run("collect", config=province, now="2026-11-20 17:00")
    at_deadline = run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                      config=province, now="2026-11-20 17:00")
    assert at_deadline.exit_code == 0
    archive = province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    then = {name: rows_of(load_workbook(archive)[name]) for name in ("Tổng hợp", "Tỷ lệ báo cáo")}

    # Later: a late report, an amendment; then the rollup as of the deadline, a day after.
    type_row(province, "06001", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 3, ACCOUNTS: 3},
             at="2026-11-20 18:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 9},
             at="2026-11-20 19:00")
    run("collect", config=province, now="2026-11-20 20:00")
    replay = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", "--as-of",
                 "deadline", config=province, now="2026-11-21 10:00")
    assert replay.exit_code == 0
    frozen = load_workbook(archive.with_name("kts_daily_2026-11-20_theo-han.xlsx"))
    assert {name: rows_of(frozen[name]) for name in then} == then
    info = dict(frozen["Thông tin"].iter_rows(values_only=True))
    assert info["Số liệu tính đến"] == "17:00:00 20/11/2026 (theo hạn)"
