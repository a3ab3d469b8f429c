"""The archive workbook: each table a sheet with its title block, header, totals, colours and
charts, and the print setup every tab shares (A4 landscape, one page wide, header rows on every
page).

:func:`sheet_rows` is the one description of every cell of a tab: its value and its look;
:func:`layout` of the rest of it but the print setup (:func:`header_footer` and
:func:`_print_setup`). Half a million cells set through openpyxl's cell objects and serialised
by it took 14–18 s for the national archive (issue 15); as sheet XML text, about a second.

The package is written as text (:mod:`toolkit.archive_package`) wherever that module vouches
for writing it as openpyxl saves it; else openpyxl makes everything but the cells — styles.xml,
the charts, panes, filter, widths, print setup — and the rows go into the package it saved
(:func:`_by_openpyxl`), which is also the reference the text is tested against.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.header_footer import HeaderFooter

from toolkit import zipped
from toolkit.archive import (
    DATE_FORMAT,
    TOTAL_COLOUR,
    Chart,
    Table,
    column_widths,
    format_of,
    header_lines,
    text_lines,
    wraps,
)
from toolkit.archive_patch import STAMP_PROPERTY
from toolkit.excel import TITLE_FONT, WRAP, workbook_bytes
from toolkit.layout import HEADER_COLOUR
from toolkit.moment import sentence

BOLD = Font(bold=True)
SMALL_BOLD = Font(bold=True, size=9)
CENTRE = Alignment(horizontal="center")
BIG = Font(bold=True, size=14)
TOP = Alignment(vertical="top", wrap_text=True)
RAISED = Alignment(vertical="top")
CENTRE_TOP = Alignment(horizontal="center", vertical="top")
CHART_ROWS = 20           # rows a chart takes beside its table (about 10 cm)
SHEET_LEVEL = 1           # the compression of the sheets, big ones fast rather than small
LINE_HEIGHT = 15          # points per line of body text (openpyxl's default row height)
#: Letters of body text per unit of column width: a unit is a digit's width, and the average
#: letter is narrower ("Đúng hạn, sửa sau hạn" fits in a column 20 wide).
LETTERS_PER_UNIT = 1.1
FONTS = {"bold": BOLD, "small_bold": SMALL_BOLD, "big": BIG, "title": TITLE_FONT}
ALIGNMENTS = {"top": TOP, "raised": RAISED, "centre": CENTRE, "centre_top": CENTRE_TOP,
              "wrap": WRAP}
#: What openpyxl gives a date or time that has no number format of its own.
DATE_DEFAULTS = {"datetime": "yyyy-mm-dd h:mm:ss", "date": "yyyy-mm-dd", "time": "h:mm:ss"}

#: A cell's look by names — font (:data:`FONTS`), fill colour, alignment (:data:`ALIGNMENTS`),
#: number format — "" for none: cheap to build and compare for every cell.
Look = tuple[str, str, str, str]
PLAIN: Look = ("", "", "", "")
HEADER: Look = ("small_bold", HEADER_COLOUR, "wrap", "")


@dataclass(frozen=True)
class Row:
    index: int                       # 1-based sheet row
    cells: list[tuple[object, Look]]  # from column A: value (None: blank) and look
    height: float | None = None


@dataclass(frozen=True)
class Placed:
    """A chart where its sheet holds it: the cell of its top-left corner, its size in cm, and
    the sheet rows (1-based) of its first and last data row."""

    spec: Chart
    anchor: str
    width: float
    height: float
    low: int
    high: int


@dataclass(frozen=True)
class Layout:
    """Everything of a table's sheet but its cells and print setup, for both ways of writing
    it (:func:`write_book`)."""

    widths: list[int]                 # the columns', which the cells are laid out for
    freeze: str | None = None         # the first cell that scrolls
    filter: str | None = None         # the autofilter's range
    title_row: int | None = None      # the header printed atop every page
    charts: tuple[Placed, ...] = ()


#: False: every archive built with openpyxl's objects and saved by openpyxl, its sheets' cells
#: put in as text (the benchmark's baseline, the tests' reference); True: its parts written
#: as text (:mod:`toolkit.archive_package`) wherever that module vouches for them.
BY_TEXT = True


def write_book(tables: list[Table], page: tuple[str, str], path: Path,
               stamp: str | None = None) -> None:
    """The workbook of ``tables``, saved atomically at ``path``; ``page``: the report and day,
    and the "as of" words, for every printed page's header; ``stamp``: the archive's
    (:mod:`toolkit.archive_patch`), kept as a custom document property."""
    data = None
    if BY_TEXT:
        from toolkit.archive_package import package

        data = package(tables, page, stamp)
    if data is None:
        data = _by_openpyxl(tables, page, stamp)
    zipped.write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))


def _by_openpyxl(tables: list[Table], page: tuple[str, str], stamp: str | None) -> bytes:
    """The package of :func:`write_book` as openpyxl saves the workbook built of its objects,
    each sheet's cells put in as text."""
    book = Workbook()
    book.remove(book.active)
    if stamp is not None:
        book.custom_doc_props.append(StringProperty(name=STAMP_PROPERTY, value=stamp))
    looks = _Looks(book)
    cells = {}
    for table in tables:
        sheet = book.create_sheet(table.name)
        cells[sheet] = sheet_data(sheet_rows(table, write_sheet(sheet, table, page)), looks)
    return _saved(book, cells)


def layout(table: Table) -> Layout:
    """How ``table``'s sheet is laid out: widths, the frozen pane and filter under the
    header, the header printed on every page, the charts beside the table."""
    columns = len(table.frame.columns)
    widths = column_widths(table)
    charts, row = [], table.header_index + 2
    for spec in table.all_charts:
        if spec.rows:
            if spec.kind == "bar":
                width, height = 16, max(7.5, 0.55 * spec.rows + 2)
            else:
                width, height = 18, 8.5 + 0.5 * len(spec.series)     # room for the legend
            charts.append(Placed(spec, f"{get_column_letter(columns + 2)}{row}", width, height,
                                 table.sheet_index(spec.start) + 1,
                                 table.sheet_index(spec.start + spec.rows - 1) + 1))
            row += max(CHART_ROWS, round(height * 2) + 2)
    if not table.header:
        return Layout(widths, charts=tuple(charts))
    below = table.filter_index + 1                     # 1-based row of the filter's header
    freeze = f"{get_column_letter(table.frozen_columns + 1)}{table.frozen_rows + 1}"
    if not columns:
        return Layout(widths, freeze, None, below, tuple(charts))
    frame = table.frame
    end = table.sheet_index(len(frame) - 1) + 1 if len(frame) > table.totals else below
    return Layout(widths, freeze, f"A{below}:{get_column_letter(columns)}{end}", below,
                  tuple(charts))


def write_sheet(sheet, table: Table, page: tuple[str, str]) -> list[int]:
    """Everything of ``table``'s sheet but its cells, on openpyxl's worksheet ``sheet``; the
    column widths the cells are laid out for."""
    shape = layout(table)
    for c, width in enumerate(shape.widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    if shape.freeze:
        sheet.freeze_panes = shape.freeze
    if shape.filter:
        sheet.auto_filter.ref = shape.filter
    if shape.title_row:
        sheet.print_title_rows = f"{shape.title_row}:{shape.title_row}"
    _print_setup(sheet, page)
    for placed in shape.charts:
        _write_chart(sheet, table, placed)
    return shape.widths


def sheet_rows(table: Table, widths: list[int]) -> Iterator[Row]:
    """Every non-empty row of ``table``'s sheet, top to bottom."""
    for i, line in enumerate(table.title, start=1):
        font = "big" if i == 1 else "title" if i == 2 else "bold"
        yield Row(i, [(line, (font, "", "", "") if table.header else ("bold", "", "top", ""))])
    head, below = table.header_index + 1, table.filter_index + 1
    if table.header:
        yield _header(table, widths, head)
    body = _body(table, widths)
    for i, record in enumerate(zip(*table.values, strict=True)):
        if i == table.totals and below != head:
            yield _header(table, widths, below)
        yield Row(table.sheet_index(i) + 1, *body(i, record))
    if table.header and below != head and len(table.frame) <= table.totals:
        yield _header(table, widths, below)


def _header(table: Table, widths: list[int], index: int) -> Row:
    return Row(index, [(column, HEADER) for column in table.frame.columns],
               11 * header_lines(table, widths) + 6)


def _body(table: Table, widths: list[int]):
    """The cells and height of the frame's row ``i``, given its values ``record``."""
    columns = list(table.frame.columns)
    status = columns.index(table.status) if table.status else -1
    shaded = [c for c, column in enumerate(columns) if column in table.shade]
    raised = {"top": "top", "centre": "centre_top"}      # the figures beside a first line
    wrapping = [round(width * LETTERS_PER_UNIT) for width in widths]

    def row(i: int, record: tuple) -> tuple[list[tuple[object, Look]], float | None]:
        cells: list[tuple[object, Look]] = []
        lines = 1
        for c, (column, value) in enumerate(zip(columns, record, strict=True)):
            align = ""
            if table.header and wraps(value, widths[c]):
                align = "top"
                lines = max(lines, text_lines(value, wrapping[c]))
            number_format = format_of(table, column, value) or ""
            if number_format == DATE_FORMAT:
                align = "centre"
            cells.append((value, ("", "", align, number_format)))
        if not table.header:
            return [(v, ("bold" if c == 0 else "", "", "top", look[3]))
                    for c, (v, look) in enumerate(cells)], None
        height = None
        if lines > 1:     # LibreOffice keeps the row one line high and the rest spills over
            height = LINE_HEIGHT * lines
            cells = [(v, (f, fill, raised.get(a, "raised"), n)) for v, (f, fill, a, n) in cells]
        if i < table.totals:
            return [(v, ("bold", TOTAL_COLOUR, a, n)) for v, (_, _, a, n) in cells], height
        if status >= 0 and table.fills[i]:
            value, (font, _, align, number_format) = cells[status]
            cells[status] = (value, (font, table.fills[i], align, number_format))
        if table.blank_fills and table.blank_fills[i]:
            for c in shaded:
                value, (font, _, align, number_format) = cells[c]
                if value is None:
                    cells[c] = (None, (font, table.blank_fills[i], align, number_format))
        return cells, height

    return row


class _Looks:
    """Look → the index of its cell format in the workbook's styles.xml, each made once by
    openpyxl."""

    def __init__(self, book: Workbook):
        self.scratch = book.create_sheet("scratch")   # owns the probe cells, then leaves
        book.remove(self.scratch)
        self.ids: dict[Look, int] = {PLAIN: 0}

    def id(self, look: Look) -> int:
        found = self.ids.get(look)
        if found is None:
            font, fill, align, number_format = look
            probe = Cell(self.scratch)
            if font:
                probe.font = FONTS[font]
            if fill:
                probe.fill = PatternFill("solid", fgColor=fill)
            if align:
                probe.alignment = ALIGNMENTS[align]
            if number_format:
                probe.number_format = number_format
            found = self.ids[look] = probe.style_id
        return found


def sheet_data(rows: Iterator[Row], looks) -> tuple[str, str]:
    """The ``<sheetData>`` element of ``rows``, and the range they cover; ``looks``: the
    workbook's cell formats (``id(look)``: the index of ``look``'s)."""
    out, letters, last_row, last_column = ["<sheetData>"], [], 1, 1
    for row in rows:
        while len(letters) < len(row.cells):
            letters.append(get_column_letter(len(letters) + 1))
        height = f' ht="{row.height:g}" customHeight="1"' if row.height else ""
        out.append(f'<row r="{row.index}"{height}>')
        r = row.index
        for letter, (value, look) in zip(letters, row.cells, strict=False):
            if value is None or value == "":         # openpyxl, too, keeps "" as a blank
                if look != PLAIN:
                    out.append(f'<c r="{letter}{r}" s="{looks.id(look)}"/>')
                continue
            if isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    raise IllegalCharacterError(f"{value!r} cannot be used in worksheets.")
                space = ' xml:space="preserve"' if value != value.strip() else ""
                text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                out.append(f'<c r="{letter}{r}" s="{looks.id(look)}" t="inlineStr">'
                           f"<is><t{space}>{text}</t></is></c>")
            elif isinstance(value, bool):
                out.append(f'<c r="{letter}{r}" s="{looks.id(look)}" t="b"><v>{value:d}</v></c>')
            elif isinstance(value, int | float):
                out.append(f'<c r="{letter}{r}" s="{looks.id(look)}"><v>{value:.16g}</v></c>')
            else:
                if not look[3]:
                    look = (*look[:3], DATE_DEFAULTS[type(value).__name__])
                out.append(f'<c r="{letter}{r}" s="{looks.id(look)}"><v>'
                           f"{to_excel(value):.16g}</v></c>")
        out.append("</row>")
        last_row, last_column = r, max(last_column, len(row.cells))
    out.append("</sheetData>")
    return "".join(out), f"A1:{get_column_letter(last_column)}{last_row}"


def _saved(book: Workbook, cells: dict) -> bytes:
    """``book`` as openpyxl saves it, each sheet's cells put in place of its empty
    ``<sheetData>``; the big sheets compressed fast rather than small (:data:`SHEET_LEVEL`),
    the other parts kept as openpyxl compressed them."""
    saved = workbook_bytes(book)
    changed = {}
    with zipfile.ZipFile(io.BytesIO(saved)) as package:
        for sheet, (rows, ref) in cells.items():
            name = sheet.path.lstrip("/")
            data = _SHEET_DATA.sub(rows.encode().replace(b"\\", b"\\\\"), package.read(name),
                                   count=1)
            changed[name] = _DIMENSION.sub(f'<dimension ref="{ref}"'.encode(), data, count=1)
        return zipped.replaced(saved, changed, level=SHEET_LEVEL, package=package)


_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>.*?</sheetData>", re.S)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"')


def _print_setup(sheet, page: tuple[str, str]) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.HeaderFooter = header_footer(page)


def header_footer(page: tuple[str, str]) -> HeaderFooter:
    """Every printed page's header — the report and day, the tab — and footer — the "as of"
    sentence, the page of pages."""
    report, as_of = (text.replace("&", "&&") for text in page)
    made = HeaderFooter()
    made.oddHeader.left.text = report
    made.oddHeader.left.size = 9
    made.oddHeader.right.text = "&A"
    made.oddHeader.right.size = 9
    made.oddFooter.left.text = sentence(as_of)
    made.oddFooter.left.size = 9
    made.oddFooter.right.text = "Trang &P/&N"
    made.oddFooter.right.size = 9
    return made


def _write_chart(sheet, table: Table, placed: Placed) -> None:
    columns = list(table.frame.columns)
    spec, low, high = placed.spec, placed.low, placed.high
    if spec.kind == "bar":
        chart = BarChart()
        chart.type = "bar"
        chart.x_axis.scaling.orientation = "maxMin"      # the first category on top
        chart.legend = None
        chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                         showLegendKey=False, showPercent=False)
        chart.gapWidth = 40
    else:
        chart = LineChart()
        chart.legend.position = "b"
    chart.width, chart.height = placed.width, placed.height
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
    sheet.add_chart(chart, placed.anchor)
