"""calamine and openpyxl read the same workbooks to the same grids.

Collect reads report tabs with calamine where it can (toolkit/backends/xlsx_calamine.py) and
with openpyxl where a tab holds a formula or an error cell; whichever reads it, the cells a
commune typed must come back identical. Each test reads real .xlsx files both ways: one saved by
LibreOffice (shared strings, cached formula values, error cells), one written by openpyxl with
every kind of value a commune types, and a provisioned commune workbook after typing.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook

from conftest import run, type_row, workbook_of
from toolkit.backends.base import Formula, Window
from toolkit.backends.xlsx import XlsxStore
from toolkit.backends.xlsx_calamine import read_windows

SAVED = Path(__file__).parent / "data" / "libreoffice-saved.xlsx"
DAILY = "Báo cáo ngày"


def both_ways(folder: Path, name: str, windows: dict[str, Window]):
    fast, slow = XlsxStore(folder), XlsxStore(folder)
    slow.calamine = False
    data = (folder / name).read_bytes()
    return fast._windows(name, data, windows), slow._windows(name, data, windows)


def test_a_libreoffice_workbook_reads_the_same_and_formulas_go_to_openpyxl(tmp_path):
    shutil.copy(SAVED, tmp_path / "saved.xlsx")
    data = SAVED.read_bytes()
    plain = {DAILY: Window(6, 5), "Hướng dẫn": Window(3, 2)}
    everything = {**plain, "Công thức": Window(4, 3), "Không có": Window(3, 3)}

    fast, slow = both_ways(tmp_path, "saved.xlsx", everything)
    assert fast == slow
    grids, last_rows, others = read_windows(data, plain)
    assert (grids, last_rows, others) == (
        {t: slow[0][t] for t in plain}, {DAILY: 20, "Hướng dẫn": 1}, ("Công thức",))
    assert read_windows(data, {"Công thức": Window(4, 3)}) is None
    daily = grids[DAILY]
    assert daily[2][:5] == [datetime(2026, 11, 20), 7, 1250000.5, "đã nhập", time(9, 30)]
    assert daily[3][:4] == [datetime(2026, 11, 21), "12", -3, "  có khoảng trắng  "]
    assert daily[4][:3] == [datetime(2026, 11, 22, 14, 5), 0, 10**14]
    assert daily[6][:4] == ["23/11/2026", "1.200", "2,5", "=không phải công thức"]
    assert daily[7][:3] == ["ô gộp", None, None]
    assert daily[19][1] == "dán thêm bên dưới" and len(daily) == 20
    formulas = slow[0]["Công thức"]
    assert formulas[1][2] == Formula("=B2*2", 14, True)
    assert formulas[2][2] == Formula("=1/B3", "#DIV/0!", True)


def test_every_kind_of_typed_value_reads_the_same(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = DAILY
    sheet.append(["Báo cáo", None, None])
    sheet.append(["Ngày", "Số", "Ghi chú"])
    values = [7, 7.5, -3, 0, 10**14, 1e20, True, False, "123", "0123", "1.200,5", "  ", " a ",
              "", "Đoàn Kết", datetime(2026, 11, 20), date(2026, 11, 21),
              datetime(2026, 11, 22, 9, 30), time(17, 0), timedelta(hours=30)]
    for i, value in enumerate(values, start=3):
        sheet.cell(i, 1, date(2026, 11, 1) + timedelta(days=i))
        sheet.cell(i, 2, value)
    sheet.merge_cells("A30:C31")
    sheet["A30"] = "gộp"
    sheet.cell(40, 2).number_format = "0"       # a styled empty row the window reaches
    sheet.cell(1500, 1, "xa bên dưới")          # beyond the window: at most a capped scan
    book.create_sheet("Kiểm tra")["A1"] = "Kiểm tra"
    book.save(tmp_path / "typed.xlsx")
    data = (tmp_path / "typed.xlsx").read_bytes()

    for windows in ({DAILY: Window(25, 3)}, {DAILY: Window(10, 2)}, {DAILY: Window(2, 1)},
                    {DAILY: Window(25, 3), "Kiểm tra": Window(3, 7)}):
        fast, slow = both_ways(tmp_path, "typed.xlsx", windows)
        assert fast == slow, windows
    assert len(slow[0][DAILY]) == 25 + 1000 and slow[1] == {DAILY: 1500, "Kiểm tra": 1}
    # Text of spaces alone, written by openpyxl without xml:space, is left to openpyxl.
    assert read_windows(data, {DAILY: Window(25, 3)}) is None
    sheet.cell(values.index("  ") + 3, 2).value = None
    book.save(tmp_path / "typed.xlsx")
    data = (tmp_path / "typed.xlsx").read_bytes()
    assert read_windows(data, {DAILY: Window(25, 3)})[0][DAILY] == both_ways(
        tmp_path, "typed.xlsx", {DAILY: Window(25, 3)})[1][0][DAILY]


def test_a_provisioned_workbook_after_typing_is_read_by_calamine_the_same(province):
    assert run("provision", config=province, now="2026-11-20 08:00").exit_code == 0
    type_row(province, "06040", DAILY, date(2026, 11, 20),
             {"Số cửa hàng số mở mới": 4, "Số tài khoản thanh toán điện tử mở mới": "5",
              "Doanh số (đồng)": 1250000.5, "Ghi chú": "đã báo"}, at="2026-11-20 09:00")
    path = workbook_of(province, "06040")
    tabs = both_ways(path.parent, path.name, {DAILY: Window(40, 9)})[1][2]
    windows = {tab: Window(40, 9) for tab in (DAILY, *tabs)}

    fast, slow = both_ways(path.parent, path.name, windows)
    assert fast == slow
    assert read_windows(path.read_bytes(), windows) == fast
    assert fast[0][DAILY][2][1:3] == [4, "5"]
