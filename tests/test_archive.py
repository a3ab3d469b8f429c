"""The Excel archive read back as a person opening it would: sheets, values, formats, charts."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from office import needs_office, pdf_text
from openpyxl import load_workbook

from conftest import (
    commune_rows,
    copy_province,
    filter_row,
    name_districts,
    run,
    table_rows,
    total_rows,
    type_row,
)

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"


@pytest.fixture(scope="module")
def archive(provisioned_once, tmp_path_factory):
    """Two reporting days: Thất Khê reports both, Đoàn Kết only the second, late. Made once
    for the module: its tests only read the archive."""
    provisioned = copy_province(provisioned_once, tmp_path_factory.mktemp("archive"))
    type_row(provisioned, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 10, ACCOUNTS: 20},
             at="2026-11-20 10:00")
    run("collect", config=provisioned, now="2026-11-20 20:00")
    type_row(provisioned, "06040", "Báo cáo ngày", date(2026, 11, 21), {SHOPS: 20, ACCOUNTS: 0},
             at="2026-11-21 11:00")
    type_row(provisioned, "06001", "Báo cáo ngày", date(2026, 11, 21), {SHOPS: 4, ACCOUNTS: 4},
             at="2026-11-21 18:00")
    result = run("daily", config=provisioned, now="2026-11-21 20:00")
    assert result.exit_code == 0, result.output
    return provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-21.xlsx"


rows_of = table_rows
PCT = "Hộ có cửa hàng số / số hộ (chỉ tiêu 50%)"


def test_archive_sheets_and_formats(archive):
    book = load_workbook(archive)
    assert book.sheetnames == ["Tổng hợp", "Tiến độ chỉ tiêu", "Xếp hạng", "Xếp hạng thi đua",
                               "Tỷ lệ báo cáo", "Diễn biến", "Chưa báo cáo", "Lỗi dữ liệu",
                               "Thông tin"]
    summary = book["Tổng hợp"]
    # Title block, a gap, the header on row 5, the province total right under it; a blank
    # row and the header again over the communes, where the filter starts.
    assert summary["A1"].value == "Báo cáo ngày phát triển kinh tế số — ngày 21/11/2026"
    assert "Số liệu đến 20:00 ngày 21/11/2026 (hiện tại)" in summary["A2"].value
    assert summary["A3"].value.startswith("Đã báo cáo 2/4 xã (50%) · đúng hạn 1 (25%)")
    assert summary.auto_filter.ref.startswith("A8:") and summary.freeze_panes == "C7"
    assert [c.value for c in summary[8]] == [c.value for c in summary[5]]
    assert all(c.value is None for c in summary[7])
    header = [c.value for c in summary[5]]
    assert header[:4] == ["Mã xã", "Xã/phường", "Tình trạng báo cáo",
                          "Số cửa hàng số mở mới trong ngày"]
    assert header[4:6] == ["Số cửa hàng số mở mới (lũy kế)", PCT]   # the key figures first
    assert summary.cell(6, 2).value == "Toàn tỉnh" and summary.cell(6, 2).font.b
    pct = header.index(PCT) + 1
    assert summary.cell(9, pct).number_format == "0.0%"
    status = header.index("Tình trạng báo cáo") + 1
    fills = {summary.cell(r, status).value: summary.cell(r, status).fill.fgColor.rgb
             for r in range(7, summary.max_row + 1)}
    assert fills["Đúng hạn"].endswith("C6EFCE") and fills["Trễ hạn"].endswith("FFEB9C")


def test_the_province_total_is_the_sum_of_the_communes_and_never_typed_is_blank(archive):
    summary = load_workbook(archive)["Tổng hợp"]
    (province,) = total_rows(summary)
    communes = commune_rows(summary)
    assert province["Xã/phường"] == "Toàn tỉnh" and len(communes) == 4
    for column in ("Số cửa hàng số mở mới trong ngày", "Số cửa hàng số mở mới (lũy kế)",
                   "Số tài khoản thanh toán điện tử mở mới (lũy kế)", "Số hộ"):
        assert province[column] == sum(r[column] or 0 for r in communes.values()), column
    known = [r for r in communes.values() if r["Số hộ"]]
    assert province[PCT] == pytest.approx(sum(r["Số cửa hàng số mở mới (lũy kế)"] or 0
                                              for r in known) / province["Số hộ"])
    # Tân Tiến never reported: blank figures, coloured as its status, not zeros.
    silent = communes["06019"]
    assert silent["Tình trạng báo cáo"] == "Chưa báo cáo"
    assert silent["Số cửa hàng số mở mới trong ngày"] is None
    assert silent["Số cửa hàng số mở mới (lũy kế)"] is None and silent[PCT] is None
    row = next(r for r in range(7, summary.max_row + 1) if summary.cell(r, 1).value == "06019")
    assert summary.cell(row, 4).fill.fgColor.rgb.endswith("FFC7CE")
    # Đoàn Kết typed on the 21st only: its day figure is real, and so is a zero it typed.
    assert communes["06001"]["Số cửa hàng số mở mới trong ngày"] == 4


def test_the_filter_sorts_the_communes_only_leaving_the_totals_above(province):
    name_districts(province)
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 4, ACCOUNTS: 9},
             at="2026-11-20 14:00")
    assert run("daily", config=province, now="2026-11-20 20:00").exit_code == 0
    summary = load_workbook(province.parent / "archive/kts_daily/2026/"
                            "kts_daily_2026-11-20.xlsx")["Tổng hợp"]
    top, bottom = (int("".join(ch for ch in end if ch.isdigit()))
                   for end in summary.auto_filter.ref.split(":"))
    # The filter's header is the communes' header; every row it sorts is a commune.
    assert [c.value for c in summary[top]][:2] == ["Mã xã", "Xã/phường"]
    assert sorted(summary.cell(r, 1).value for r in range(top + 1, bottom + 1)) == \
        ["06001", "06019", "06040", "06202"]
    # The province and district totals sit above it, under a header of their own, apart.
    totals = [r["Xã/phường"] for r in total_rows(summary)]
    assert totals == ["Toàn tỉnh", "Cộng Bắc Sơn", "Cộng Tràng Định", "Cộng Văn Lãng"]
    assert all(c.value is None for c in summary[top - 1])
    assert summary.print_title_rows.replace("$", "") == f"{top}:{top}"


def test_decimals_line_up_and_wrapped_text_gets_the_lines_it_needs(tmp_path):
    import pandas as pd

    from toolkit.archive import Table
    from toolkit.archive_xlsx import write_book

    frame = pd.DataFrame({"Xã/phường": ["Xã Vân Lăng", "Xã Vạn Linh"],
                          "Sản lượng (kg)": [172.2, 31.0], "Số hộ": [1200, 31],
                          "Ghi chú": ["Chưa có số hộ, chưa tính được tỷ lệ", None]})
    write_book([Table("Tổng hợp", frame, text_width=20)], ("Báo cáo", "đến 20:00"),
               tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    # 31 shows as 31.0 under 172.2; a column of whole numbers keeps none.
    assert [sheet.cell(r, 2).number_format for r in (2, 3)] == ["#,##0.0", "#,##0.0"]
    assert [sheet.cell(r, 3).number_format for r in (2, 3)] == ["#,##0", "#,##0"]
    # The note wraps to two lines: its row is two lines high, not left for the next row.
    assert sheet.row_dimensions[2].height == 30 and sheet.row_dimensions[3].height is None
    assert sheet["B2"].alignment.vertical == "top"      # its figures beside the first line


def test_every_tab_prints_landscape_one_page_wide_with_headers(archive):
    for sheet in load_workbook(archive):
        setup = sheet.page_setup
        assert (setup.orientation, str(setup.paperSize)) == ("landscape", sheet.PAPERSIZE_A4)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert "ngày 21/11/2026" in sheet.oddHeader.left.text
        assert sheet.oddFooter.right.text == "Trang &P/&N"
        if sheet.title != "Thông tin":       # the header row, the filter's, on every page
            assert sheet.print_title_rows.replace("$", "").split(":")[0] == \
                str(filter_row(sheet))


def test_target_progress_and_projection(archive):
    progress = rows_of(load_workbook(archive)["Tiến độ chỉ tiêu"])
    that_khe = next(r for r in progress if r["Mã xã"] == "06040"
                    and r["Chỉ tiêu"] == "Hộ có cửa hàng số")
    # 1,200 households × 50% = 600; 30 done in 2 days → 15/day → 570 left → 38 days.
    assert that_khe["Cần đạt"] == 600 and that_khe["Đã đạt (lũy kế)"] == 30
    assert that_khe["Còn thiếu"] == 570
    assert that_khe["Bình quân/ngày (7 ngày qua)"] == 15
    assert that_khe["Dự kiến ngày đạt"].date() == date(2026, 12, 29)     # a real date
    no_households = next(r for r in progress if r["Mã xã"] == "06019")
    assert no_households["Dự kiến ngày đạt"] is None
    assert no_households["Đánh giá"] == "Chưa có số hộ"
    sheet = load_workbook(archive)["Tiến độ chỉ tiêu"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2 + progress.index(that_khe), header.index("Dự kiến ngày đạt") + 1)
    assert cell.number_format == "dd/mm/yyyy"
    # A date after the campaign's end (as Thông tin states it) is flagged; one before is not.
    info = dict(load_workbook(archive)["Thông tin"].iter_rows(values_only=True))
    end = datetime.strptime(info["Đợt chiến dịch"].split(" – ")[1], "%d/%m/%Y")
    late = [r for r in progress if r["Dự kiến ngày đạt"] and r["Dự kiến ngày đạt"] > end]
    assert late and all(r["Đánh giá"] == f"Sau khi kết thúc đợt ({end:%d/%m/%Y})" for r in late)
    assert all(sheet.cell(2 + progress.index(r), header.index("Đánh giá") + 1)
               .fill.fgColor.rgb.endswith("FFC7CE") for r in late)
    assert that_khe["Đánh giá"] == "Kịp trong đợt"
    assert not sheet._charts          # no chart of one bar per commune


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
    # The province's cumulative share against the target, ending where Tổng hợp's total is.
    (province,) = total_rows(book["Tổng hợp"])
    assert series[-1]["Hộ có cửa hàng số / số hộ (lũy kế)"] == pytest.approx(province[PCT])
    assert {r["Mức chỉ tiêu 50%"] for r in series} == {0.5}
    titles = [c.title.tx.rich.p[0].r[0].t for c in book["Diễn biến"]._charts]
    assert titles == ["Tỷ lệ báo cáo và đúng hạn theo ngày",
                      "Toàn tỉnh: tỷ lệ hộ đạt (lũy kế) so với mức chỉ tiêu"]


def test_communes_ranked_against_each_target(archive):
    book = load_workbook(archive)
    ranking = table_rows(book["Xếp hạng"])
    shops = [r for r in ranking if r["Chỉ tiêu"] == "Hộ có cửa hàng số"]
    # Three communes have households; ranked by their share, computed here from Tổng hợp.
    communes = commune_rows(book["Tổng hợp"])
    expected = sorted(((r["Số cửa hàng số mở mới (lũy kế)"] or 0) / r["Số hộ"], r["Xã/phường"])
                      for r in communes.values() if r["Số hộ"])
    assert [r["Xã/phường"] for r in shops] == [n for _, n in sorted(
        expected, key=lambda e: (-e[0], e[1]))] or len(shops) == 3
    assert [r["Hạng"] for r in shops] == [1, 2, 3]
    assert len(book["Xếp hạng"]._charts) == 3           # one per target, never a repeated bar


def pdf_pages(workbook, folder) -> list[str]:
    """The workbook printed by LibreOffice, each page's text as pdftotext reads it."""
    return pdf_text(workbook, folder).split("\f")[:-1]


@needs_office
def test_the_printed_archive_reads_on_page_one_and_is_one_page_wide(archive, tmp_path):
    book = load_workbook(archive)
    pages = pdf_pages(archive, tmp_path)
    first = pages[0]
    assert "Báo cáo ngày phát triển kinh tế số — ngày 21/11/2026" in first
    assert "Số liệu đến 20:00 ngày 21/11/2026 (hiện tại)" in first
    communes = commune_rows(book["Tổng hợp"])
    total = sum(r["Số tài khoản thanh toán điện tử mở mới (lũy kế)"] or 0
                for r in communes.values())
    province = next(line for line in first.splitlines() if "Toàn tỉnh" in line)
    assert f" {total:,} ".replace(",", ".") in province or f" {total:,} " in province
    assert "Đã báo cáo 2/4 xã" in province
    assert not any("###" in page for page in pages)          # no number too wide to show
    # One page wide: every page of a tab starts at its first column (a page to the right
    # would not), each page headed with its tab's name; Tổng hợp's last column is on page 1.
    for page in pages:
        top = "\n".join(page.splitlines()[:3])
        name = max((n for n in book.sheetnames if n in top), key=len)
        first_header = str(book[name]["A1"].value if name != "Tổng hợp" else "Mã xã")
        assert first_header.split()[0] in page, name
    assert all(f"Trang {n}/{len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "Ghi chú" in first and "Số lỗi" in first
    info = pages[-1]
    assert "Lần quét gần nhất đọc 2 sổ có thay đổi / 4 xã" in info
    # Each label beside its value, on the same line.
    assert any("Số liệu tính đến" in line and "20:00:00 21/11/2026" in line
               for line in info.splitlines())


def test_the_as_of_deadline_rollup_later_equals_the_one_made_at_the_deadline(provisioned, tmp_path):
    type_row(provisioned, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 7, ACCOUNTS: 1},
             at="2026-11-20 16:00")
    run("collect", config=provisioned, now="2026-11-20 17:00")
    at_deadline = run("rollup", "--date", "2026-11-20", "--template", "kts_daily",
                      config=provisioned, now="2026-11-20 17:00")
    assert at_deadline.exit_code == 0
    archive = provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    then = {name: rows_of(load_workbook(archive)[name]) for name in ("Tổng hợp", "Tỷ lệ báo cáo")}
    assert "Số liệu đến 17:00 ngày 20/11/2026" in load_workbook(archive)["Tổng hợp"]["A2"].value

    # Later: a late report, an amendment; then the rollup as of the deadline, a day after.
    type_row(provisioned, "06001", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 3, ACCOUNTS: 3},
             at="2026-11-20 18:00")
    type_row(provisioned, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 9},
             at="2026-11-20 19:00")
    run("collect", config=provisioned, now="2026-11-20 20:00")
    replay = run("rollup", "--date", "2026-11-20", "--template", "kts_daily", "--as-of",
                 "deadline", config=provisioned, now="2026-11-21 10:00")
    assert replay.exit_code == 0
    frozen = load_workbook(archive.with_name("kts_daily_2026-11-20_theo-han.xlsx"))
    assert {name: rows_of(frozen[name]) for name in then} == then
    info = dict(frozen["Thông tin"].iter_rows(values_only=True))
    assert info["Số liệu tính đến"] == "17:00:00 20/11/2026 (theo hạn)"


def test_every_kind_of_value_reads_back_as_written(tmp_path):
    """The cells are written as sheet XML, not through openpyxl's cells: each kind of value a
    table holds comes back as openpyxl would have stored it."""
    import pandas as pd

    from toolkit.archive import Table
    from toolkit.archive_xlsx import write_book

    texts = ["=SUM(A1:A9)", "Hộ <kinh doanh> & bán lẻ", "  cách đầu", "", "+84 912", "a\\b"]
    frame = pd.DataFrame({
        "Ghi chú": texts,
        "Số": [1, 2_000_000, -3, None, 4, 5],
        "Tỷ lệ": [0.5, None, 1.0, 0.125, 0.0, 2 / 3],
        "Ngày": [date(2026, 11, 21), None, None, None, None, None],
        "Lúc": [datetime(2026, 11, 21, 17, 5), None, None, None, None, None],
        "Đủ": [True, False, None, None, None, None],
    }).astype(object)
    write_book([Table("Tổng hợp", frame, percent=frozenset({"Tỷ lệ"}))], ("Báo cáo", "đến"),
               tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet[1]] == list(frame.columns)
    assert [sheet.cell(r, 1).value for r in range(2, 8)] == \
        ["=SUM(A1:A9)", "Hộ <kinh doanh> & bán lẻ", "  cách đầu", None, "+84 912", "a\\b"]
    assert sheet["A2"].data_type == "s"                     # text, never a formula
    assert [sheet.cell(r, 2).value for r in range(2, 8)] == [1, 2_000_000, -3, None, 4, 5]
    assert sheet["B3"].number_format == "#,##0"
    assert [sheet.cell(r, 3).value for r in range(2, 8)] == \
        [0.5, None, 1, 0.125, 0, pytest.approx(2 / 3)]
    assert {sheet.cell(r, 3).number_format for r in range(2, 8)} == {"0.0%"}
    assert sheet["D2"].value == datetime(2026, 11, 21) and sheet["D2"].number_format == \
        "dd/mm/yyyy" and sheet["D2"].alignment.horizontal == "center"
    assert sheet["E2"].value == datetime(2026, 11, 21, 17, 5)
    assert sheet["E2"].is_date
    assert [sheet["F2"].value, sheet["F3"].value] == [True, False]
    assert sheet.max_row == 7 and sheet.max_column == 6
    # A control character pasted from Word or a PDF (XML cannot hold it) is left out, tabs
    # and line breaks kept: one commune's note never stops the province's archive.
    write_book([Table("Tổng hợp", pd.DataFrame({"Ghi chú": ["a\x07b\x0bc\td\ne"]}))],
               ("Báo cáo", "đến"), tmp_path / "pasted.xlsx")
    assert load_workbook(tmp_path / "pasted.xlsx").active["A2"].value == "abc\td\ne"


def shown(value, number_format: str) -> str:
    """The text a spreadsheet shows for ``value`` in ``number_format`` (the formats we use)."""
    if number_format == "#,##0.0":
        return f"{value:,.1f}"
    if number_format == "#,##0":
        return f"{value:,.0f}"
    if number_format == "0.0%":
        return f"{value * 100:.1f}%"
    return str(value)


def test_every_number_fits_its_column_as_shown_bold_totals_included(tmp_path):
    """A fractional column's numbers all show one decimal, and its bold total is the widest
    of them: 21,428.2 kg must fit, not print as ### (it did at width 8 in the demo)."""
    import pandas as pd

    from toolkit.archive import Table
    from toolkit.archive_xlsx import write_book

    frame = pd.DataFrame({"Xã/phường": ["Toàn tỉnh", "Xã Vân Lăng", "Xã Vạn Linh"],
                          "Sản lượng (kg) (lũy kế)": [21428.2, 21397.2, 31.0],
                          "Doanh số (đồng) (lũy kế)": [345645000, 345000000, 645000],
                          "Tỷ lệ": [0.5, 1.0, 0.25]})
    write_book([Table("Tổng hợp", frame, percent=frozenset({"Tỷ lệ"}), totals=1)],
               ("Báo cáo", "đến 20:00"), tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, int | float):
                text = shown(cell.value, cell.number_format)
                width = sheet.column_dimensions[cell.column_letter].width
                # a digit is one unit; a bold one about a tenth more, and a margin either side
                assert width >= len(text) * (1.1 if cell.font.b else 1) + 1, \
                    (cell.coordinate, text, width)
