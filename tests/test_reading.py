"""Collect reads every tab as provisioned, whatever a commune did to it, through the CLI.

Columns are found by their header, only the template's rows are read, formulas and wrong
period cells are named on the Kiểm tra tab, and one broken workbook is that commune's line in
the output, never the end of the province's run. Each scenario runs on both backends where a
commune can do it on both (on Google the header rows and the period column are protected, so
there the province account makes those edits).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import rewrite_cell, run, summary_table, type_row, workbook_of
from desks import desk, make_desk  # noqa: F401  (the pytest fixture: each backend in turn)
from toolkit.ledger import Ledger

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
ORDERS = "Số đơn hàng"
REVENUE = "Doanh số (đồng)"
NOTE = "Ghi chú"
ERROR, WARNING, TAB_ROW = "Lỗi", "Cảnh báo", "—"


def feedback(desk, code: str) -> list[tuple]:  # noqa: F811
    """The commune's Kiểm tra rows: period, tab, cell, value, problem, fix, level."""
    return [tuple(r[:7]) for r in desk.tab_rows(code, "Kiểm tra", first_row=3) if r and r[0]]


def rolled_up(config: Path, code: str, day: str = "2026-11-20") -> dict:
    """One commune's line of the daily report's archive ("Tổng hợp")."""
    book = load_workbook(config.parent / f"archive/kts_daily/2026/kts_daily_{day}.xlsx",
                         read_only=True)        # only values are read: one tab parsed, not all
    try:
        header, rows = summary_table(book["Tổng hợp"].iter_rows(values_only=True))
    finally:
        book.close()
    return {r[0]: dict(zip(header, r, strict=True)) for r in rows}[code]


def daily(desk, now: str):  # noqa: F811
    result = desk.run("daily", now=now)
    assert result.exit_code == 0, result.output
    return result


# -- columns by header --------------------------------------------------------------------------


@pytest.mark.provisioned
def test_an_inserted_column_moves_no_figure_into_another_field(desk):  # noqa: F811
    desk.insert_column("06040", DAILY, 3, at="2026-11-20 08:30")
    desk.set_cells("06040", DAILY, {"C2": "Số hộ đăng ký"}, at="2026-11-20 08:31")
    desk.type_row("06040", DAILY, DAY, {SHOPS: 7, "Số hộ đăng ký": 99, ACCOUNTS: 9, ORDERS: 4},
                  at="2026-11-20 09:00")
    daily(desk, now="2026-11-20 16:00")

    figures = rolled_up(desk.config, "06040")
    assert figures["Số cửa hàng số mở mới trong ngày"] == 7
    assert figures["Số tài khoản thanh toán điện tử mở mới trong ngày"] == 9
    assert figures["Số đơn hàng trong ngày"] == 4
    assert figures["Tình trạng báo cáo"] == "Đúng hạn"
    assert feedback(desk, "06040") == [(
        TAB_ROW, DAILY, "C2", "Số hộ đăng ký",
        'Cột C (tiêu đề "Số hộ đăng ký") không đúng mẫu: 1 ô có dữ liệu ở cột này không được '
        "đọc.",
        "Nếu đây là số liệu của báo cáo, hãy chuyển vào đúng cột theo mẫu; nếu không cần, hãy "
        "xoá cột này.", ERROR)]


@pytest.mark.provisioned
def test_columns_are_found_by_header_wherever_they_stand_and_a_lost_one_is_named(
        desk):  # noqa: F811
    # The trading-households column is deleted; the shop and account columns swap places; the
    # orders header is retyped without diacritics.
    desk.delete_column("06040", DAILY, 4, at="2026-11-20 08:30")
    desk.set_cells("06040", DAILY, {"B2": ACCOUNTS, "C2": SHOPS, "D2": "so don hang"},
                   at="2026-11-20 08:31")
    desk.type_row("06040", DAILY, DAY, {ACCOUNTS: 9, SHOPS: 7, "so don hang": 4, REVENUE: 500},
                  at="2026-11-20 09:00")
    daily(desk, now="2026-11-20 16:00")

    figures = rolled_up(desk.config, "06040")
    assert figures["Số cửa hàng số mở mới trong ngày"] == 7
    assert figures["Số tài khoản thanh toán điện tử mở mới trong ngày"] == 9
    assert figures["Số đơn hàng trong ngày"] == 4
    assert figures["Doanh số (đồng) trong ngày"] == 500
    assert figures["Số hộ mới phát sinh giao dịch trong ngày"] in (None, 0)
    assert feedback(desk, "06040") == [(
        TAB_ROW, DAILY, "D2", "so don hang",
        'Thiếu cột "Số hộ mới phát sinh giao dịch" (theo mẫu, tiêu đề ở ô D2); số liệu của cột '
        "này không được đọc.",
        'Khôi phục cột "Số hộ mới phát sinh giao dịch": gõ lại đúng tiêu đề ở hàng 2 (hoặc đưa '
        "cột về chỗ cũ), rồi nhập lại số liệu nếu đã bị xoá.", ERROR)]


@pytest.mark.provisioned
def test_a_retyped_or_cleared_header_at_its_place_is_read_and_named(desk):  # noqa: F811
    desk.type_row("06040", DAILY, DAY, {SHOPS: 1, ACCOUNTS: 2, REVENUE: 1_500_000,
                                        NOTE: "đã xác minh"}, at="2026-11-20 09:00")
    desk.set_cells("06040", DAILY, {"G2": "Doanh thu (đ)", "I2": ""}, at="2026-11-20 09:30")
    daily(desk, now="2026-11-20 16:00")

    figures = rolled_up(desk.config, "06040")
    assert figures["Doanh số (đồng) trong ngày"] == 1_500_000
    assert figures["Tình trạng báo cáo"] == "Đúng hạn"     # warnings leave a row complete
    assert sorted(feedback(desk, "06040")) == [
        (TAB_ROW, DAILY, "G2", "Doanh thu (đ)",
         'Tiêu đề ở ô G2 là "Doanh thu (đ)", không đúng mẫu "Doanh số (đồng)"; số liệu cột G '
         'vẫn được đọc là "Doanh số (đồng)".',
         'Gõ lại tiêu đề "Doanh số (đồng)" vào ô G2 như mẫu.', WARNING),
        (TAB_ROW, DAILY, "I2", "",
         'Tiêu đề "Ghi chú" ở ô I2 đã bị xoá; số liệu cột I vẫn được đọc là "Ghi chú".',
         'Gõ lại tiêu đề "Ghi chú" vào ô I2 như mẫu.', WARNING)]


# -- rows outside the template -----------------------------------------------------------------


@pytest.mark.provisioned
def test_rows_pasted_below_the_report_are_one_issue_and_go_when_cleared(desk):  # noqa: F811
    desk.type_row("06040", DAILY, DAY, {SHOPS: 2, ACCOUNTS: 3}, at="2026-11-20 09:00")
    # The report rows are 3–63 (61 campaign days); a commune pastes a table under them.
    desk.paste("06040", DAILY, "B64", [["xem file", "chưa rõ"]] * 3, at="2026-11-20 10:00")
    daily(desk, now="2026-11-20 16:00")
    fix = ("Báo cáo chỉ đọc các dòng 3–63 và các cột theo mẫu: chuyển số liệu vào đúng dòng "
           "của kỳ báo cáo, rồi xoá phần thừa.")
    assert feedback(desk, "06040") == [(
        TAB_ROW, DAILY, "B64", "xem file",
        'Có dữ liệu ở 3 dòng bên dưới vùng báo cáo (dòng 64–66) của trang "Báo cáo ngày"; '
        "không được tính — hãy xoá hoặc chuyển vào đúng dòng.", fix, ERROR)]

    desk.paste("06040", DAILY, "B67", [["xem file", "chưa rõ"]] * 5000, at="2026-11-20 10:30")
    result = daily(desk, now="2026-11-20 16:30")
    assert "validate: 1 lỗi, 0 cảnh báo" in result.output
    (only,) = feedback(desk, "06040")
    more = (", bảng tính dùng đến dòng 5066" if desk.kind == "xlsx"    # the file's dimension
            else ", có thể còn nữa")                                  # Google says nothing
    assert only[2:5] == (
        "B64", "xem file",
        f"Có dữ liệu ở ít nhất 1.000 dòng bên dưới vùng báo cáo (dòng 64–1063{more}) của "
        'trang "Báo cáo ngày"; không được tính — hãy xoá hoặc chuyển vào đúng dòng.')
    assert rolled_up(desk.config, "06040")["Số cửa hàng số mở mới trong ngày"] == 2

    desk.paste("06040", DAILY, "B64", [["", ""]] * 5003, at="2026-11-20 11:00")
    daily(desk, now="2026-11-20 16:45")
    assert feedback(desk, "06040") == []


@pytest.mark.provisioned
def test_a_member_typed_below_a_roster_is_named_not_read(desk):  # noqa: F811
    # The team roster has 200 rows (3–202); a 201st member goes below them.
    desk.paste("06040", "Tổ CNSCĐ", "B203", [["Hoàng Văn Páo", "Tổ trưởng"]],
               at="2026-11-20 09:00")
    daily(desk, now="2026-11-20 16:00")
    (issue,) = [r for r in feedback(desk, "06040") if r[1] == "Tổ CNSCĐ"]
    assert issue[2:5] == (
        "B203", "Hoàng Văn Páo",
        'Có dữ liệu ở 1 dòng bên dưới vùng báo cáo (dòng 203–203) của trang "Tổ CNSCĐ"; '
        "không được tính — hãy xoá hoặc chuyển vào đúng dòng.")


# -- period cells (Excel only: on Google the period column is protected) ------------------------


def test_a_retyped_date_keeps_its_figures_apart_and_names_the_cell(provisioned):
    excel = make_desk("xlsx", provisioned)
    excel.type_row("06040", DAILY, DAY, {SHOPS: 2, ACCOUNTS: 3}, at="2026-11-20 09:00")
    # Row 5 is 22/11 and row 6 is 23/11 as provisioned; the commune types other dates over them.
    excel.set_cells("06040", DAILY, {"A5": date(2026, 11, 20), "B5": 50, "C5": 60,
                                    "A6": date(2027, 12, 15), "B6": 1}, at="2026-11-20 09:30")
    daily(excel, now="2026-11-20 16:00")

    assert rolled_up(provisioned, "06040")["Số cửa hàng số mở mới trong ngày"] == 2
    assert feedback(excel, "06040") == [
        (TAB_ROW, DAILY, "A5", "20/11/2026",
         "Ngày 20/11/2026 ở ô A5 trùng với dòng 3; số liệu dòng 5 không được tính.",
         "Sửa ô A5 về đúng ngày 22/11/2026 của dòng này (như mẫu đã điền sẵn), hoặc chuyển "
         "số liệu sang dòng 3.", ERROR),
        (TAB_ROW, DAILY, "A6", "15/12/2027",
         "Ngày 15/12/2027 ở ô A6 không thuộc đợt báo cáo (20/11/2026–19/01/2027); số liệu "
         "dòng 6 không được tính.",
         "Sửa ô A6 về đúng ngày 23/11/2026 của dòng này (như mẫu đã điền sẵn).", ERROR)]
    with Ledger(provisioned.parent / "ledger.sqlite") as ledger:      # nothing typed is lost
        kept = ledger.versions("kts_daily")
    row5 = kept[kept["row_key"] == "row5"].iloc[-1]
    assert (row5["period"], row5["values"]["new_shops"]) == ("?", 50)

    excel.set_cells("06040", DAILY, {"A5": date(2026, 11, 22), "A6": date(2026, 11, 23)},
                   at="2026-11-22 09:00")
    daily(excel, now="2026-11-22 16:00")
    assert not [r for r in feedback(excel, "06040") if r[2] in ("A5", "A6")]
    assert rolled_up(provisioned, "06040", "2026-11-22")["Số cửa hàng số mở mới trong ngày"] == 50


# -- formulas ------------------------------------------------------------------------------------


@pytest.mark.provisioned
def test_a_formula_is_never_dropped_silently(desk):  # noqa: F811
    formulas = {"C3": "=B3*2", "I3": '=B3&" cửa hàng"'}
    if desk.kind == "xlsx":      # openpyxl saves a formula without the value it computes
        desk.set_cells("06040", DAILY, {"B3": 7, **formulas}, at="2026-11-20 09:00")
    else:                        # a person types them; Sheets computes 14, which validates
        desk.type_row("06040", DAILY, DAY, {SHOPS: 7, ACCOUNTS: formulas["C3"],
                                            NOTE: formulas["I3"]}, at="2026-11-20 09:00")
    daily(desk, now="2026-11-20 16:00")
    assert feedback(desk, "06040") == [
        ("20/11/2026", DAILY, "C3", "=B3*2",
         "Ô C3 có công thức =B3*2, không đọc được số liệu từ công thức; hãy gõ số thay cho "
         "công thức.", "Hãy gõ số thay cho công thức.", ERROR),
        ("20/11/2026", DAILY, "I3", '=B3&" cửa hàng"',
         'Ô I3 có công thức =B3&" cửa hàng"; giá trị nó tính ra không đọc được, nên đã lấy '
         "nguyên văn công thức làm nội dung.", "Hãy gõ nội dung thay cho công thức.",
         WARNING)]


def test_a_formula_with_the_value_excel_kept_is_read_with_a_warning(provisioned):
    excel = make_desk("xlsx", provisioned)
    excel.set_cells("06040", DAILY, {"B3": 7, "C3": "=B3*2"}, at="2026-11-20 09:00")
    path = workbook_of(provisioned, "06040")
    rewrite_cell(path, "C3", lambda xml: xml.replace("<v />", "<v>14</v>"), at="2026-11-20 09:00")
    daily(excel, now="2026-11-20 16:00")

    figures = rolled_up(provisioned, "06040")
    assert figures["Số tài khoản thanh toán điện tử mở mới trong ngày"] == 14
    assert figures["Tình trạng báo cáo"] == "Đúng hạn"
    assert feedback(excel, "06040") == [(
        "20/11/2026", DAILY, "C3", "=B3*2",
        "Ô C3 có công thức =B3*2; đã đọc giá trị nó tính ra (14).",
        "Hãy gõ thẳng giá trị vào ô thay cho công thức, để số liệu không tự đổi khi ô khác "
        "thay đổi.", WARNING)]


# -- one commune never stops the province ----------------------------------------------------------


def test_a_broken_workbook_is_that_communes_failure_and_the_rest_is_archived(provisioned):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 4, ACCOUNTS: 5}, at="2026-11-20 09:00")
    type_row(provisioned, "06001", DAILY, DAY, {SHOPS: 1, ACCOUNTS: 1}, at="2026-11-20 09:00")
    # Another program saved a number cell holding text: openpyxl fails only while reading rows.
    rewrite_cell(workbook_of(provisioned, "06001"), "B3",
                 lambda xml: re.sub(r"<v>1</v>", "<v>abc</v>", xml), at="2026-11-20 09:30")

    result = run("daily", config=provisioned, now="2026-11-20 16:00")
    assert result.exit_code == 1
    name = workbook_of(provisioned, "06001").name
    assert (f"LỖI Xã Đoàn Kết: {name}: không đọc được sổ, nội dung bị hỏng (ValueError: "
            "invalid literal for int() with base 10: 'abc'); hãy mở sổ bằng Excel, lưu lại "
            "dạng .xlsx rồi chạy lại") in result.output
    assert "collect: đã đọc 3 sổ, 0 sổ không đổi, 1 sổ lỗi" in result.output
    assert rolled_up(provisioned, "06040")["Số cửa hàng số mở mới trong ngày"] == 4
    with sqlite3.connect(provisioned.parent / "ledger.sqlite") as db:
        errors = db.execute("SELECT commune_code, error FROM fetches WHERE outcome='error'")
        assert [(code, "không đọc được sổ" in error) for code, error in errors] == [
            ("06001", True)]


def test_an_unexpected_error_on_one_workbook_is_named_and_logged(provisioned, monkeypatch):
    import toolkit.collect

    real = toolkit.collect.rows_from_grid

    def parse(spec, grid, villages, keys, **kwargs):
        if grid[2:] and grid[2][1:2] == [13]:   # what Đoàn Kết typed: a bug meets it
            raise RuntimeError("a bug")
        return real(spec, grid, villages, keys, **kwargs)

    monkeypatch.setattr(toolkit.collect, "rows_from_grid", parse)
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 4, ACCOUNTS: 5}, at="2026-11-20 09:00")
    type_row(provisioned, "06001", DAILY, DAY, {SHOPS: 13, ACCOUNTS: 1}, at="2026-11-20 09:00")
    result = run("daily", "--verbose", config=provisioned, now="2026-11-20 16:00")
    assert result.exit_code == 1
    assert "Traceback" in result.output and "RuntimeError: a bug" in result.output
    assert ("LỖI Xã Đoàn Kết: lỗi không lường trước khi đọc sổ (RuntimeError: a bug) — lỗi "
            "của toolkit, không phải do xã nhập; các xã khác vẫn được xử lý. Chi tiết ở "
            "logs/toolkit.log") in result.output
    assert rolled_up(provisioned, "06040")["Số cửa hàng số mở mới trong ngày"] == 4
    log = (provisioned.parent / "logs" / "toolkit.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "RuntimeError: a bug" in log


# -- the cutoff sweep ------------------------------------------------------------------------------


def test_the_cutoff_sweep_reads_a_waiting_commune_whose_drive_stamp_lags(province):
    google = make_desk("gsheets", province)
    try:
        google.fake.list_lag = timedelta(minutes=10)    # files.list's modifiedTime lags
        assert google.run("provision", now="2026-11-20 08:00").exit_code == 0
        for code in ("06001", "06019", "06202"):
            google.type_row(code, DAILY, DAY, {SHOPS: 1, ACCOUNTS: 1}, at="2026-11-20 09:00")
        daily(google, now="2026-11-20 16:00")
        daily(google, now="2026-11-20 16:45")
        google.type_row("06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 16:58")
        cutoff = daily(google, now="2026-11-20 17:00")
    finally:
        google.close()
    # Drive still lists 06040 as it was at 16:45; it is waiting, so it is read anyway — and
    # only it: the others reported and are unchanged.
    assert "collect: đã đọc 1 sổ, 3 sổ không đổi, 0 sổ lỗi" in cutoff.output
    assert "Toàn tỉnh (4 xã phải báo cáo): 4 đúng hạn" in cutoff.output
    assert rolled_up(province, "06040")["Số cửa hàng số mở mới trong ngày"] == 3

