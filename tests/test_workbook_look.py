"""P7: what a commune officer sees in an .xlsx workbook — number formats, one font, headers
that fit, input hints, problem cells highlighted where they were typed, a Kiểm tra that says
what to type instead — read back with openpyxl and printed by LibreOffice."""

from __future__ import annotations

import math
from datetime import date

from office import needs_office, pdf_text
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from conftest import run, type_row, workbook_of
from toolkit.backends.xlsx import MARK_AUTHOR, STYLE_PROPERTY

DAILY, MONTHLY, CHECK = "Báo cáo ngày", "Báo cáo tháng", "Kiểm tra"
DAY = date(2026, 11, 20)
SHOPS, ACCOUNTS = "Số cửa hàng số mở mới", "Số tài khoản thanh toán điện tử mở mới"
VOLUME, REVENUE, NOTE = "Sản lượng (kg)", "Doanh số (đồng)", "Ghi chú"
LIGHT_RED = "00FFC7CE"


def _columns(sheet) -> dict[str, str]:
    return {c.value: c.column_letter for c in sheet[2] if c.value}


def _row_of(sheet, day: date) -> int:
    return next(r for r in range(3, sheet.max_row + 1)
                if getattr(sheet.cell(r, 1).value, "date", lambda: None)() == day)


def _sweep(province, at: str):
    assert run("collect", config=province, now=at).exit_code == 0
    result = run("validate", config=province, now=at)
    assert result.exit_code == 0, result.output
    return load_workbook(workbook_of(province, "06040"))


def test_a_provisioned_workbook_formats_numbers_fits_headers_and_hints_every_column(provisioned):
    book = load_workbook(workbook_of(provisioned, "06040"))
    daily = book[DAILY]
    col = _columns(daily)
    row = _row_of(daily, DAY)
    assert daily[f"{col[SHOPS]}{row}"].number_format == "#,##0"
    assert daily[f"{col[REVENUE]}{row}"].number_format == "#,##0"       # đồng: no decimals
    assert daily[f"{col[VOLUME]}{row}"].number_format == "#,##0.0"      # kg: one decimal
    fonts = {daily[f"{col[SHOPS]}2"].font.name, daily[f"{col[SHOPS]}{row}"].font.name,
             daily["A1"].font.name, daily[f"A{row}"].font.name,
             daily[f"{col[NOTE]}{row}"].font.name}
    assert fonts == {"Calibri"}
    # The tallest header needs at least len / width lines, at about 12 points a line.
    monthly = book[MONTHLY]
    need = max(math.ceil(len(c.value) / monthly.column_dimensions[c.column_letter].width)
               for c in monthly[2] if c.value)
    assert need >= 3 and monthly.row_dimensions[2].height >= need * 12
    hints = {}
    for validation in daily.data_validations.dataValidation:
        for rng in validation.sqref.ranges:
            assert validation.allow_blank, validation     # an empty cell is not "invalid"
            assert validation.showInputMessage and validation.prompt
            hints[rng.coord.split(":")[0].rstrip("0123456789")] = validation.prompt
    assert set(hints) >= {col[h] for h in (SHOPS, ACCOUNTS, VOLUME, REVENUE, NOTE)}
    assert "số nguyên" in hints[col[SHOPS]] and "Bắt buộc" in hints[col[SHOPS]]
    assert "đơn vị đồng" in hints[col[REVENUE]] and "đơn vị kg" in hints[col[VOLUME]]
    assert "dấu phẩy" in hints[col[VOLUME]]


def test_a_problem_is_marked_where_it_was_typed_and_unmarked_when_fixed(provisioned):
    path = workbook_of(provisioned, "06040")
    type_row(provisioned, "06040", DAILY, DAY,
             {SHOPS: "1a", ACCOUNTS: 12.5, REVENUE: 6_600_000, NOTE: "đủ"}, at="2026-11-20 09:00")
    # A person's own comment and fill, on cells the toolkit also marks or never marks.
    book = load_workbook(path)
    daily = book[DAILY]
    col, row = _columns(daily), _row_of(daily, DAY)
    daily[f"{col[NOTE]}{row}"].comment = Comment("Hỏi lại anh Hùng", "Chị Lan")
    daily[f"{col[REVENUE]}{row}"].fill = PatternFill("solid", fgColor="FFFF00")
    book.save(path)
    book = _sweep(provisioned, "2026-11-20 10:00")
    daily, check = book[DAILY], book[CHECK]
    rows = {r[2]: r for r in check.iter_rows(min_row=3, values_only=True) if r[2]}
    shops, accounts = f"{col[SHOPS]}{row}", f"{col[ACCOUNTS]}{row}"
    assert rows[shops][3] == "1a" and rows[shops][5].startswith("Chỉ gõ số: nhập 1 ")
    assert rows[accounts][3] == "12,5"                      # as typed, not Python's 12.5
    assert rows[accounts][5] == "Nhập 12 hoặc 13 (số nguyên), không nhập 12,5."
    for ref in (shops, accounts):
        cell = daily[ref]
        assert cell.fill.fgColor.rgb == LIGHT_RED
        assert cell.comment.author == MARK_AUTHOR and "Cách sửa: " in cell.comment.text
    r = next(i for i in range(3, check.max_row + 1) if check.cell(i, 3).value == shops)
    assert check.cell(r, 7).value == "Lỗi" and check.cell(r, 7).fill.fgColor.rgb == LIGHT_RED
    assert check.cell(r, 5).alignment.wrap_text and check.cell(r, 6).alignment.wrap_text
    assert daily[f"{col[NOTE]}{row}"].comment.author == "Chị Lan"          # theirs, kept
    assert daily[f"{col[REVENUE]}{row}"].fill.fgColor.rgb == "00FFFF00"

    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 1, ACCOUNTS: 12}, at="2026-11-20 11:00")
    book = _sweep(provisioned, "2026-11-20 11:30")
    daily = book[DAILY]
    for ref in (shops, accounts):
        assert daily[ref].comment is None and daily[ref].fill.fill_type is None
    assert [daily[shops].value, daily[accounts].value] == [1, 12]
    assert daily[f"{col[REVENUE]}{row}"].value == 6_600_000
    assert daily[f"{col[NOTE]}{row}"].comment.author == "Chị Lan"
    assert daily[f"{col[REVENUE]}{row}"].fill.fgColor.rgb == "00FFFF00"


def test_reprovisioning_an_old_workbook_restyles_it_and_keeps_what_was_typed(provisioned):
    path = workbook_of(provisioned, "06040")
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, REVENUE: 1_920_000},
             at="2026-11-20 09:00")
    # As an earlier version left it: no style record, no formats, no hints, a bare header.
    book = load_workbook(path)
    book.custom_doc_props.props = [p for p in book.custom_doc_props.props
                                   if p.name != STYLE_PROPERTY]
    daily = book[DAILY]
    col, row = _columns(daily), _row_of(daily, DAY)
    daily.data_validations.dataValidation = []
    for cells in daily.iter_rows(min_row=3, min_col=2):
        for cell in cells:
            cell.number_format = "General"
    daily[f"{col[SHOPS]}2"].font = Font(bold=True)
    book.save(path)

    result = run("provision", "--dry-run", config=provisioned, now="2026-11-20 12:00")
    assert (f"cập nhật định dạng, gợi ý nhập và kiểm tra dữ liệu của trang '{DAILY}' "
            "(giữ nguyên số liệu đã nhập)") in result.output
    assert run("provision", config=provisioned, now="2026-11-20 12:00").exit_code == 0
    book = load_workbook(path)
    daily = book[DAILY]
    assert daily[f"{col[SHOPS]}{row}"].value == 3
    assert daily[f"{col[REVENUE]}{row}"].value == 1_920_000
    assert daily[f"{col[REVENUE]}{row}"].number_format == "#,##0"
    assert daily[f"{col[SHOPS]}2"].font.name == "Calibri"
    prompts = [v.prompt for v in daily.data_validations.dataValidation]
    assert len(prompts) == len(col) - 1 and all(prompts)          # one per field column
    assert book.custom_doc_props[STYLE_PROPERTY].value
    again = run("provision", "--dry-run", config=provisioned, now="2026-11-20 12:05")
    assert "update formats" not in again.output


@needs_office
def test_libreoffice_prints_no_hashes_and_the_whole_kiem_tra_message(provisioned, tmp_path):
    type_row(provisioned, "06040", DAILY, DAY,
             {SHOPS: "1a", ACCOUNTS: 15, VOLUME: 307.3, REVENUE: 6_600_000},
             at="2026-11-20 09:00")
    book = _sweep(provisioned, "2026-11-20 10:00")
    messages = [(r[4], r[5]) for r in book[CHECK].iter_rows(min_row=3, values_only=True)
                if r[4]]
    assert messages
    text = pdf_text(workbook_of(provisioned, "06040"), tmp_path / "pdf")
    assert "###" not in text
    flat = " ".join(text.split())
    assert "6600000" not in flat and ("6.600.000" in flat or "6,600,000" in flat)
    for message, fix in messages:
        for sentence in (message, fix):
            words = sentence.split()
            # Wrapped text prints line by line; every word of it is there, in order.
            at = 0
            for word in words:
                at = flat.find(word, at)
                assert at >= 0, (word, sentence)
