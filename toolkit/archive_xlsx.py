"""One archive table as an openpyxl sheet: title block, header, totals, colours, charts, and
the print setup every tab shares (A4 landscape, one page wide, header rows on every page)."""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from toolkit.archive import (
    DATE_FORMAT,
    TOTAL_COLOUR,
    Chart,
    Table,
    cell_value,
    column_widths,
    format_of,
    header_lines,
    text_lines,
    wraps,
)
from toolkit.excel import TITLE_FONT, WRAP, put, style_header

BOLD = Font(bold=True)
SMALL_BOLD = Font(bold=True, size=9)
CENTRE = Alignment(horizontal="center")
BIG = Font(bold=True, size=14)
TOP = Alignment(vertical="top", wrap_text=True)
RAISED = Alignment(vertical="top")
CENTRE_TOP = Alignment(horizontal="center", vertical="top")
CHART_ROWS = 20           # rows a chart takes beside its table (about 10 cm)
LINE_HEIGHT = 15          # points per line of body text (openpyxl's default row height)
#: Letters of body text per unit of column width: a unit is a digit's width, and the average
#: letter is narrower ("Đúng hạn, sửa sau hạn" fits in a column 20 wide).
LETTERS_PER_UNIT = 1.1


def write_sheet(sheet, table: Table, page: tuple[str, str]) -> None:
    """``page``: the report and day, and the "as of" words, for every printed page's header."""
    frame = table.frame
    columns = list(frame.columns)
    for i, line in enumerate(table.title, start=1):
        put(sheet.cell(i, 1), line)
        sheet.cell(i, 1).font = BIG if i == 1 else TITLE_FONT if i == 2 else BOLD
    head = table.header_index + 1                      # 1-based row of the header
    below = table.filter_index + 1                     # …and of the one the filter is on
    widths = column_widths(table)
    if table.header:
        for row in sorted({head, below}):
            _write_header(sheet, row, columns, table, widths)
    # One style object per colour: openpyxl keeps each distinct style once anyway, and building
    # one per row costs seconds on a national archive.
    colours = set(table.fills) | set(table.blank_fills) | {TOTAL_COLOUR}
    fills = {colour: PatternFill("solid", fgColor=colour) for colour in colours if colour}
    status = columns.index(table.status) + 1 if table.status else 0
    shaded = [c for c, column in enumerate(columns, start=1) if column in table.shade]
    for i, record in enumerate(frame.itertuples(index=False)):
        r = table.sheet_index(i) + 1
        lines = 1
        for c, (column, value) in enumerate(zip(columns, record, strict=True), start=1):
            cell = sheet.cell(r, c)
            put(cell, cell_value(value))
            if table.header and wraps(cell.value, widths[c - 1]):
                cell.alignment = TOP
                lines = max(lines, text_lines(cell.value,
                                              round(widths[c - 1] * LETTERS_PER_UNIT)))
            number_format = format_of(table, column, cell.value)
            if number_format:
                cell.number_format = number_format
                if number_format == DATE_FORMAT:
                    cell.alignment = CENTRE
        if lines > 1:         # LibreOffice keeps the row one line high and the rest spills over
            sheet.row_dimensions[r].height = LINE_HEIGHT * lines
            for c in range(1, len(columns) + 1):      # the figures beside its first line
                cell = sheet.cell(r, c)
                if cell.alignment != TOP:
                    cell.alignment = CENTRE_TOP if cell.alignment == CENTRE else RAISED
        if i < table.totals:
            for c in range(1, len(columns) + 1):
                sheet.cell(r, c).font = BOLD
                sheet.cell(r, c).fill = fills[TOTAL_COLOUR]
            continue
        if status and table.fills[i]:
            sheet.cell(r, status).fill = fills[table.fills[i]]
        if table.blank_fills and table.blank_fills[i]:
            for c in shaded:
                cell = sheet.cell(r, c)
                if cell.value is None:
                    cell.fill = fills[table.blank_fills[i]]
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    if not table.header:
        for row in sheet.iter_rows(min_col=1, max_col=len(columns)):
            for cell in row:
                cell.alignment = TOP
            row[0].font = BOLD
    else:
        sheet.freeze_panes = sheet.cell(table.frozen_rows + 1, table.frozen_columns + 1)
        if columns:
            end = table.sheet_index(len(frame) - 1) + 1 if len(frame) > table.totals else below
            sheet.auto_filter.ref = f"A{below}:{sheet.cell(end, len(columns)).coordinate}"
        sheet.print_title_rows = f"{below}:{below}"
    _print_setup(sheet, page)
    row = head + 1
    for chart in table.all_charts:
        if chart.rows:
            height = _write_chart(sheet, table, chart, sheet.cell(row, len(columns) + 2))
            row += height


def _write_header(sheet, row: int, columns: list, table: Table, widths: list[int]) -> None:
    for c, column in enumerate(columns, start=1):
        put(sheet.cell(row, c), column)
    style_header(sheet[row])
    for cell in sheet[row]:
        cell.alignment = WRAP
        cell.font = SMALL_BOLD
    sheet.row_dimensions[row].height = 11 * header_lines(table, widths) + 6


def _print_setup(sheet, page: tuple[str, str]) -> None:
    report, as_of = (text.replace("&", "&&") for text in page)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.oddHeader.left.text = report
    sheet.oddHeader.left.size = 9
    sheet.oddHeader.right.text = "&A"
    sheet.oddHeader.right.size = 9
    sheet.oddFooter.left.text = as_of[0].upper() + as_of[1:]
    sheet.oddFooter.left.size = 9
    sheet.oddFooter.right.text = "Trang &P/&N"
    sheet.oddFooter.right.size = 9


def _write_chart(sheet, table: Table, spec: Chart, anchor) -> int:
    """Draw ``spec`` at ``anchor``; the rows it covers."""
    columns = list(table.frame.columns)
    low = table.sheet_index(spec.start) + 1
    high = table.sheet_index(spec.start + spec.rows - 1) + 1
    if spec.kind == "bar":
        chart = BarChart()
        chart.type = "bar"
        chart.x_axis.scaling.orientation = "maxMin"      # the first category on top
        chart.height = max(7.5, 0.55 * spec.rows + 2)
        chart.width = 16
        chart.legend = None
        chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                         showLegendKey=False, showPercent=False)
        chart.gapWidth = 40
    else:
        chart = LineChart()
        chart.width, chart.height = 18, 8.5 + 0.5 * len(spec.series)     # room for the legend
        chart.legend.position = "b"
    chart.title = spec.title
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    if spec.percent_max is not None:
        chart.y_axis.scaling.max = spec.percent_max
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for header in spec.series:
        index = columns.index(header) + 1
        values = Reference(sheet, min_col=index, min_row=low, max_row=high)
        chart.series.append(Series(values, title=header))
    if spec.kind == "line":
        for series in chart.series:
            series.smooth = False
            if "Mức chỉ tiêu" in str(series.tx.v if series.tx else ""):
                series.graphicalProperties = GraphicalProperties(
                    ln=LineProperties(prstDash="dash", w=28575))
    labels = columns.index(spec.categories) + 1
    chart.set_categories(Reference(sheet, min_col=labels, min_row=low, max_row=high))
    sheet.add_chart(chart, anchor.coordinate)
    return max(CHART_ROWS, round(chart.height * 2) + 2)
