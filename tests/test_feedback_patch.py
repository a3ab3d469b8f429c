"""Issue 15: a Kiểm tra write that marks no cell rewrites only Kiểm tra, the banners and the
styles inside the .xlsx zip; read back, it is what the openpyxl way writes, cell for cell."""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime

from openpyxl import load_workbook

from conftest import workbook_of
from toolkit.backends.xlsx import XlsxStore
from toolkit.layout import Banner
from toolkit.periods import VN_TZ

DAILY, MONTHLY, CHECK = "Báo cáo ngày", "Báo cáo tháng", "Kiểm tra"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=VN_TZ)
ROWS = [
    ["20/11/2026", DAILY, "", "", "Chưa báo cáo ngày 20/11/2026.", "Nhập ngay.", "Lỗi"],
    ["11/2026", MONTHLY, "", "  12 & <13> ", "Hai dòng:\ndòng hai", " Sửa lại. ", "Cảnh báo"],
    ["19/11/2026", DAILY, "", "=1+1", "Giá trị bắt đầu bằng dấu bằng.", "Gõ số.", "Lỗi"],
    ["", "", "", "", "… và 3 vấn đề khác (1 lỗi) chưa liệt kê ở đây.", "Sửa các lỗi.", ""],
]
BANNERS = {DAILY: Banner("⚠ Chưa báo cáo ngày 20/11/2026 — hạn 17:00", "missing"),
           MONTHLY: Banner("⚠ Đã nhận báo cáo tháng 11/2026 nhưng chưa đủ", "problems"),
           "Tổ CNSCĐ": Banner("Danh sách Tổ công nghệ số cộng đồng"),
           "Không có trang này": Banner("bỏ qua")}


def _write(path, rows, noted, now=NOW) -> str | None:
    store = XlsxStore(path.parent)
    return store.write_feedback(path.name, rows, "Kiểm tra lúc 10:00 20/11/2026: 2 lỗi",
                                str(path.stat().st_mtime_ns), now, banners=BANNERS,
                                report_tabs=(DAILY, MONTHLY), noted=noted)


def _look(cell) -> tuple:
    """A cell's value and look. (openpyxl's style proxies compare unequal to one another, so
    each style is compared by what it holds.)"""
    return (cell.value, cell.number_format,
            *(repr(s) for s in (cell.font, cell.fill, cell.alignment, cell.border,
                                cell.protection)))


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_a_write_without_cell_marks_is_the_openpyxl_write_cell_for_cell(provisioned, tmp_path):
    original = workbook_of(provisioned, "06040")
    # A part openpyxl does not keep (SharePoint's metadata, say): the patch keeps it.
    with zipfile.ZipFile(original, "a") as package:
        package.writestr("customXml/item1.xml", "<metadata>giữ nguyên</metadata>")
    slow = tmp_path / "slow" / original.name
    slow.parent.mkdir()
    shutil.copy2(original, slow)
    before = _members(original)

    assert _write(original, ROWS, noted={}) is not None        # the ledger knows: no marks
    assert _write(slow, ROWS, noted=None) is not None          # not known: the openpyxl way

    fast = _members(original)
    assert fast.keys() == before.keys()
    touched = {name for name in fast if fast[name] != before[name]}
    # The banners of the two report tabs and the feedback parts (the quarterly tab comes first).
    assert touched == {"xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                       "xl/worksheets/sheet5.xml", "xl/worksheets/sheet6.xml"}, touched
    ours, theirs = load_workbook(original), load_workbook(slow)
    assert ours.sheetnames == theirs.sheetnames
    a, b = ours[CHECK], theirs[CHECK]
    assert (a.max_row, a.max_column) == (b.max_row, b.max_column) == (2 + len(ROWS), 7)
    for row in range(1, b.max_row + 1):
        for column in range(1, b.max_column + 1):
            assert _look(a.cell(row, column)) == _look(b.cell(row, column)), (row, column)
        assert a.row_dimensions[row].height == b.row_dimensions[row].height, row
    assert a.cell(4, 4).value == "  12 & <13> " and a.cell(5, 4).value == "=1+1"
    assert a.cell(3, 7).fill.fgColor.rgb == "00FFC7CE"
    for letter in "ABCDEFG":
        assert a.column_dimensions[letter].width == b.column_dimensions[letter].width
    assert a.freeze_panes == b.freeze_panes == "A3"
    assert (a.page_setup.orientation, a.page_setup.fitToWidth, a.page_setup.fitToHeight,
            a.sheet_properties.pageSetUpPr.fitToPage) == \
        (b.page_setup.orientation, b.page_setup.fitToWidth, b.page_setup.fitToHeight,
         b.sheet_properties.pageSetUpPr.fitToPage)
    for tab in (DAILY, MONTHLY, "Tổ CNSCĐ"):
        assert _look(ours[tab]["A1"]) == _look(theirs[tab]["A1"]), tab
        assert ours[tab]["A1"].value == BANNERS[tab].text
    assert ours[DAILY]["A1"].font.color.rgb == "00C00000"
    # What staff typed and the report tabs' other cells are the same on both ways.
    for tab in (DAILY, MONTHLY):
        assert [[_look(c) for c in r] for r in ours[tab].iter_rows(min_row=2)] == \
            [[_look(c) for c in r] for r in theirs[tab].iter_rows(min_row=2)]

    # The styles it needs are added once: writing again finds them.
    styles = _members(original)["xl/styles.xml"]
    assert _write(original, ROWS[:1], noted={}, now=NOW.replace(hour=11)) is not None
    assert _members(original)["xl/styles.xml"] == styles
    again = load_workbook(original)[CHECK]
    assert again.max_row == 3 and again.cell(3, 5).value == ROWS[0][4]


def test_a_cell_to_mark_or_unmark_goes_the_openpyxl_way(provisioned):
    path = workbook_of(provisioned, "06040")
    marked = [["20/11/2026", DAILY, "B25", "1a", "Không phải số.", "Gõ số.", "Lỗi"]]
    assert _write(path, marked, noted={}) is not None
    assert load_workbook(path)[DAILY]["B25"].comment is not None
    # The ledger lost what it marked: the mark is found in the file and taken off.
    assert _write(path, ROWS, noted={}, now=NOW.replace(hour=11)) is not None
    book = load_workbook(path)
    assert book[DAILY]["B25"].comment is None
    assert book[CHECK].cell(3, 5).value == ROWS[0][4]
