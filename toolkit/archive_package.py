"""The archive workbook's package written as text: every part as openpyxl saves the workbook
:mod:`toolkit.archive_xlsx` builds of its objects, byte for byte, without building it.

openpyxl's objects — a Workbook, its sheets' widths, panes, print setup and charts, each value
checked by a descriptor, then serialised element by element — were 29 of the 36 ms an archive
of a four-commune province took, and every sweep writes one per due report (the test suite
some 2,500). The archive uses a narrow set of features (fit to page, a frozen pane, widths, a
filter, A4 landscape, a page header and footer, bar and line charts), so each part here is a
template filled with the same values, text escaped as ElementTree escapes it; what never
changes (the theme, app.xml, the stylesheet's borders and colours, each font, fill and
alignment element) is openpyxl's own, made once per process, and the page header and footer
are openpyxl's, made once per workbook. tests/test_archive_package.py holds both packages part
for part, stored bytes and all.

Where a workbook leaves that narrow set, or openpyxl would write it otherwise than these
templates (lxml installed, a sheet name it refuses or renames, a chart title it splits into
paragraphs), :func:`package` declines and openpyxl writes the archive.
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime
from functools import lru_cache

from openpyxl import LXML, Workbook
from openpyxl.packaging.extended import ExtendedProperties
from openpyxl.styles.alignment import Alignment
from openpyxl.styles.fills import DEFAULT_EMPTY_FILL, DEFAULT_GRAY_FILL, PatternFill
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import absolute_coordinate, coordinate_to_tuple, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.writer.theme import theme_xml
from openpyxl.xml.functions import tostring

from toolkit import zipped
from toolkit.archive import Table
from toolkit.archive_patch import STAMP_PROPERTY
from toolkit.archive_xlsx import (
    ALIGNMENTS,
    FONTS,
    PLAIN,
    SHEET_LEVEL,
    Layout,
    Look,
    Placed,
    header_footer,
    layout,
    sheet_data,
    sheet_rows,
)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_OFFICE = "application/vnd.openxmlformats-officedocument"
_CUSTOM = f"{_OFFICE}.custom-properties+xml"
_WORKSHEET = f"{_OFFICE}.spreadsheetml.worksheet+xml"
_DRAWING_TYPE = f"{_OFFICE}.drawing+xml"
_CHART_TYPE = f"{_OFFICE}.drawingml.chart+xml"
_WORKBOOK = f"{_OFFICE}.spreadsheetml.sheet.main+xml"
#: The content types openpyxl's manifest starts with, whatever the package holds.
_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default '
    'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" '
    '/><Default Extension="xml" ContentType="application/xml" /><Override PartName="/xl/'
    f'styles.xml" ContentType="{_OFFICE}.spreadsheetml.styles+xml" /><Override PartName="/xl/'
    f'theme/theme1.xml" ContentType="{_OFFICE}.theme+xml" /><Override PartName="/docProps/'
    'core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
    f'<Override PartName="/docProps/app.xml" ContentType="{_OFFICE}.extended-properties+xml" />')
_SHEET_HEAD = (f'<worksheet xmlns="{_MAIN}"><sheetPr><outlinePr summaryBelow="1" '
               'summaryRight="1" /><pageSetUpPr fitToPage="1" /></sheetPr>')
_PAGE = ('<pageMargins left="0.4" right="0.4" top="0.75" bottom="0.75" header="0.3" '
         'footer="0.3" /><pageSetup orientation="landscape" paperSize="9" fitToHeight="0" '
         'fitToWidth="1" />')
_SERIES_LINE = '<spPr><a:ln><a:prstDash val="solid" /></a:ln></spPr>'
_DASHED_LINE = '<spPr><a:ln w="28575"><a:prstDash val="dash" /></a:ln></spPr>'
_AXES = ('<delete val="0" /><axPos val="l" /><majorTickMark val="none" /><minorTickMark '
         'val="none" /><crossAx val="100" /><lblOffset val="100" /></catAx><valAx><axId '
         'val="100" /><scaling><orientation val="minMax" />{top}<min val="0" /></scaling>'
         '<delete val="0" /><axPos val="l" /><majorGridlines /><numFmt formatCode="0%" '
         'sourceLinked="0" /><majorTickMark val="none" /><minorTickMark val="none" /><crossAx '
         'val="10" /></valAx></plotArea>')


def package(tables: list[Table], page: tuple[str, str], stamp: str | None) -> bytes | None:
    """The archive package of ``tables`` (as :func:`toolkit.archive_xlsx.write_book` takes
    them); None where this module cannot vouch for writing it as openpyxl would."""
    if not _vouched(tables, stamp):
        return None
    parts = _Parts()
    parts.add("docProps/app.xml", _app())
    parts.add("docProps/core.xml", _core(datetime.now(UTC)))
    parts.add("xl/theme/theme1.xml", _theme())
    if stamp is not None:
        parts.add("docProps/custom.xml", _custom(stamp), _CUSTOM)
    styles = _Styles()
    shapes = [layout(table) for table in tables]
    printed = tostring(header_footer(page).to_tree()).decode()
    charts: list[bytes] = []
    for number, (table, shape) in enumerate(zip(tables, shapes, strict=True), start=1):
        rows, ref = sheet_data(sheet_rows(table, shape.widths), styles)
        parts.add(f"xl/worksheets/sheet{number}.xml", _sheet(shape, rows, ref, printed),
                  _WORKSHEET, SHEET_LEVEL)
        if shape.charts:
            drawing = f"xl/drawings/drawing{parts.count(_DRAWING_TYPE) + 1}.xml"
            parts.add(drawing, _drawing(shape.charts), _DRAWING_TYPE)
            parts.add(drawing.replace("drawings/", "drawings/_rels/") + ".rels", _relations(
                (f"{_REL}/chart", f"/xl/charts/chart{len(charts) + i}.xml")
                for i in range(1, len(shape.charts) + 1)))
            parts.add(f"xl/worksheets/_rels/sheet{number}.xml.rels",
                      _relations([(f"{_REL}/drawing", f"/{drawing}")]))
            charts += [_chart(table, placed) for placed in shape.charts]
    for number, chart in enumerate(charts, start=1):
        parts.add(f"xl/charts/chart{number}.xml", chart, _CHART_TYPE)
    parts.add("xl/styles.xml", styles.xml())
    parts.add("_rels/.rels", _relations(
        [(f"{_REL}/officeDocument", "xl/workbook.xml"),
         (f"{_PKG}/metadata/core-properties", "docProps/core.xml"),
         (f"{_REL}/extended-properties", "docProps/app.xml")]
        + ([(f"{_REL}/custom-properties", "docProps/custom.xml")] if stamp is not None else [])))
    parts.add("xl/workbook.xml", _workbook(tables, shapes), _WORKBOOK)
    parts.add("xl/_rels/workbook.xml.rels", _relations(
        [(f"{_REL}/worksheet", f"/xl/worksheets/sheet{n}.xml") for n in range(1, len(tables) + 1)]
        + [(f"{_REL}/styles", "styles.xml"), (f"{_REL}/theme", "theme/theme1.xml")]))
    parts.add("[Content_Types].xml", parts.manifest())
    return zipped.packed(parts.members)


class _Parts:
    """A package's members in the order openpyxl writes them, each compressed as it does
    (the sheets as :func:`toolkit.archive_xlsx._saved` puts them in), and the parts its
    manifest lists after those it always lists, in the order openpyxl lists them."""

    def __init__(self):
        self.members: list[tuple[str, bytes, int]] = []
        self.types: list[tuple[str, str]] = []

    def add(self, name: str, data: bytes | str, kind: str | None = None,
            level: int = zlib.Z_DEFAULT_COMPRESSION) -> None:
        self.members.append((name, data.encode() if isinstance(data, str) else data, level))
        if kind is not None:
            self.types.append((name, kind))

    def count(self, kind: str) -> int:
        return sum(k == kind for _, k in self.types)

    def manifest(self) -> bytes:
        return (_TYPES + "".join(f'<Override PartName="/{name}" ContentType="{kind}" />'
                                 for name, kind in self.types) + "</Types>").encode()


def _vouched(tables: list[Table], stamp: str | None) -> bool:
    """Whether openpyxl would write ``tables`` as the templates here do: with ElementTree
    (lxml writes ``<a/>``), each sheet under its own name (openpyxl refuses some names,
    numbers a repeated one, warns of a long one), each chart a bar or line chart, its title in
    one paragraph (openpyxl splits one at its line breaks), its axis bound a finite number."""
    names = [table.name for table in tables]
    if LXML or not tables or not all(isinstance(n, str) for n in names):
        return False
    if len({n.lower() for n in names}) < len(names) or any(
            not n or len(n) > 31 or INVALID_TITLE_REGEX.search(n) for n in names):
        return False
    for chart in (chart for table in tables for chart in table.all_charts):
        if chart.kind not in ("bar", "line"):
            return False
        if not isinstance(chart.title, str) or not chart.title or "\n" in chart.title:
            return False
        if not all(isinstance(header, str) and header for header in chart.series):
            return False
        if chart.percent_max is not None and not math.isfinite(chart.percent_max):
            return False
    return stamp is None or isinstance(stamp, str)


def _text(value: str) -> str:
    """Text as ElementTree escapes it in an element."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _nested(tag: str, value: str) -> str:
    """An element holding ``value`` as openpyxl writes a text element (``NestedText``):
    escaped, its spaces kept where they surround other text, empty as ``<tag />``."""
    if not value:
        return f"<{tag} />"
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f"<{tag}{space}>{_text(value)}</{tag}>"


def _attribute(value: str) -> str:
    """Text as ElementTree escapes it in an attribute."""
    return (_text(value).replace('"', "&quot;").replace("\r", "&#13;")
            .replace("\n", "&#10;").replace("\t", "&#09;"))


def _sheet(shape: Layout, rows: str, ref: str, printed: str) -> str:
    """A worksheet part; ``printed``: its ``<headerFooter>`` element."""
    out = [_SHEET_HEAD, f'<dimension ref="{ref}" /><sheetViews><sheetView workbookViewId="0">',
           _view(shape.freeze), '</sheetView></sheetViews><sheetFormatPr baseColWidth="8" '
           'defaultRowHeight="15" />']
    if shape.widths:
        out.append("<cols>")
        out += [f'<col width="{width:.16g}" customWidth="1" min="{c}" max="{c}" />'
                for c, width in enumerate(shape.widths, start=1)]
        out.append("</cols>")
    out.append(rows)
    if shape.filter:
        out.append(f'<autoFilter ref="{shape.filter}" />')
    out += [_PAGE, printed]
    if shape.charts:
        out.append(f'<drawing xmlns:r="{_REL}" r:id="rId1" />')
    out.append("</worksheet>")
    return "".join(out)


def _view(freeze: str | None) -> str:
    """A sheet view's pane and selections, as openpyxl's ``freeze_panes`` sets them."""
    if not freeze or freeze == "A1":
        return '<selection activeCell="A1" sqref="A1" />'
    row, column = coordinate_to_tuple(freeze)
    active = "bottomRight" if row > 1 and column > 1 else "bottomLeft" if row > 1 \
        else "topRight"
    splits = (f' xSplit="{column - 1}"' if column > 1 else "") + \
        (f' ySplit="{row - 1}"' if row > 1 else "")
    before = '<selection pane="topRight" /><selection pane="bottomLeft" />' \
        if active == "bottomRight" else ""
    return (f'<pane{splits} topLeftCell="{freeze}" activePane="{active}" state="frozen" />'
            f'{before}<selection pane="{active}" activeCell="A1" sqref="A1" />')


def _chart(table: Table, placed: Placed) -> str:
    """The chart part of ``placed``, as :func:`toolkit.archive_xlsx._write_chart` draws it."""
    spec = placed.spec
    columns = list(table.frame.columns)

    def reference(header: str) -> str:
        letter = get_column_letter(columns.index(header) + 1)
        cells = f"${letter}${placed.low}" if placed.low == placed.high \
            else f"${letter}${placed.low}:${letter}${placed.high}"
        return _nested("f", f"{quote_sheetname(table.name)}!{cells}")

    categories = reference(spec.categories)
    series = []
    for i, header in enumerate(spec.series):
        head = f'<ser><idx val="{i}" /><order val="{i}" /><tx>{_nested("v", header)}</tx>'
        data = (f"<cat><numRef>{categories}</numRef></cat><val><numRef>{reference(header)}"
                "</numRef></val>")
        if spec.kind == "bar":
            series.append(f"{head}{_SERIES_LINE}{data}</ser>")
        else:
            line = _DASHED_LINE if "Mức chỉ tiêu" in header else _SERIES_LINE
            series.append(f'{head}{line}<marker><symbol val="none" />{_SERIES_LINE}</marker>'
                          f'{data}<smooth val="0" /></ser>')
    if spec.kind == "bar":
        plot = ('<barChart><barDir val="bar" /><grouping val="clustered" />' + "".join(series)
                + '<dLbls><showLegendKey val="0" /><showVal val="1" /><showCatName val="0" />'
                '<showSerName val="0" /><showPercent val="0" /></dLbls><gapWidth val="40" />'
                '<axId val="10" /><axId val="100" /></barChart>')
        order, legend = "maxMin", ""
    else:
        plot = ('<lineChart><grouping val="standard" />' + "".join(series)
                + '<axId val="10" /><axId val="100" /></lineChart>')
        order, legend = "minMax", '<legend><legendPos val="b" /></legend>'
    top = "" if spec.percent_max is None else f'<max val="{spec.percent_max:.16g}" />'
    return (f'<chartSpace xmlns:a="{_DRAWING}" xmlns="{_CHART}"><chart><title><tx><rich>'
            '<a:bodyPr /><a:p><a:pPr><a:defRPr /></a:pPr><a:r>' + _nested("a:t", spec.title)
            + f'</a:r></a:p></rich></tx></title><plotArea>{plot}'
            f'<catAx><axId val="10" /><scaling><orientation val="{order}" /></scaling>'
            + _AXES.format(top=top) + legend
            + '<plotVisOnly val="1" /><dispBlanksAs val="gap" /></chart></chartSpace>')


def _drawing(charts: tuple[Placed, ...]) -> bytes:
    anchors = []
    for i, placed in enumerate(charts, start=1):
        row, column = coordinate_to_tuple(placed.anchor)
        anchors.append(
            f"<oneCellAnchor><from><col>{column - 1}</col><colOff>0</colOff><row>{row - 1}"
            f'</row><rowOff>0</rowOff></from><ext cx="{int(placed.width * 360000)}" '
            f'cy="{int(placed.height * 360000)}" /><graphicFrame><nvGraphicFramePr><cNvPr '
            f'id="{i}" name="Chart {i}" /><cNvGraphicFramePr /></nvGraphicFramePr><xfrm />'
            f'<a:graphic><a:graphicData uri="{_CHART}"><c:chart r:id="rId{i}" />'
            "</a:graphicData></a:graphic></graphicFrame><clientData /></oneCellAnchor>")
    return (f'<wsDr xmlns:a="{_DRAWING}" xmlns:c="{_CHART}" xmlns:r="{_REL}" xmlns="http://'
            'schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">'
            + "".join(anchors) + "</wsDr>").encode()


def _relations(targets) -> bytes:
    return (f'<Relationships xmlns="{_PKG}">' + "".join(
        f'<Relationship Type="{kind}" Target="{target}" Id="rId{i}" />'
        for i, (kind, target) in enumerate(targets, start=1)) + "</Relationships>").encode()


def _workbook(tables: list[Table], shapes: list[Layout]) -> bytes:
    sheets, names = [], []
    for i, (table, shape) in enumerate(zip(tables, shapes, strict=True)):
        sheets.append(f'<sheet name="{_attribute(table.name)}" sheetId="{i + 1}" '
                      f'state="visible" r:id="rId{i + 1}" />')
        quoted = quote_sheetname(table.name)
        if shape.filter:
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" '
                         f'hidden="1">{_text(quoted)}!{absolute_coordinate(shape.filter)}'
                         "</definedName>")
        if shape.title_row:
            row = shape.title_row
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
                         f"{_text(quoted)}!${row}:${row}</definedName>")
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else "<definedNames />"
    return (f'<workbook xmlns:r="{_REL}" xmlns="{_MAIN}"><workbookPr /><workbookProtection />'
            '<bookViews><workbookView visibility="visible" minimized="0" showHorizontalScroll='
            '"1" showVerticalScroll="1" showSheetTabs="1" tabRatio="600" firstSheet="0" '
            'activeTab="0" autoFilterDateGrouping="1" /></bookViews><sheets>'
            + "".join(sheets) + "</sheets>" + defined
            + '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>').encode()


def _core(now: datetime) -> bytes:
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/'
            'XMLSchema-instance"><dc:creator>openpyxl</dc:creator><dcterms:created xsi:type='
            f'"dcterms:W3CDTF">{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:'
            f'W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>').encode()


def _custom(stamp: str) -> bytes:
    return ('<Properties xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
            'docPropsVTypes" xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'custom-properties"><property name="{_attribute(STAMP_PROPERTY)}" fmtid="'
            '{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2">'
            + _nested("vt:lpwstr", stamp) + "</property></Properties>").encode()


@lru_cache(maxsize=1)
def _app() -> bytes:
    return tostring(ExtendedProperties().to_tree())


@lru_cache(maxsize=1)
def _theme() -> bytes:
    return theme_xml.encode()


class _Styles:
    """Look → the index of its cell format, each font, fill, alignment and number format
    registered as openpyxl registers a cell's: in the order of first use, once however many
    looks share it. A font, fill or alignment is known by its element in styles.xml (equal
    where openpyxl's values are equal, and cheaper to compare than they are)."""

    def __init__(self):
        self.fonts = IndexedList([_font(None)])
        self.fills = IndexedList(_default_fills())
        self.alignments = IndexedList([_alignment(None)])
        self.formats = IndexedList()
        self.cells = IndexedList([(0, 0, 0, 0)])      # number format, font, fill, alignment
        self.ids: dict[Look, int] = {PLAIN: 0}

    def id(self, look: Look) -> int:
        found = self.ids.get(look)
        if found is None:
            font, fill, align, number_format = look
            cell = (self._format(number_format) if number_format else 0,
                    self.fonts.add(_font(font)) if font else 0,
                    self.fills.add(_fill(fill)) if fill else 0,
                    self.alignments.add(_alignment(align)) if align else 0)
            found = self.ids[look] = self.cells.add(cell)
        return found

    def _format(self, code: str) -> int:
        if code in BUILTIN_FORMATS_REVERSE:
            return BUILTIN_FORMATS_REVERSE[code]
        return self.formats.add(code) + BUILTIN_FORMATS_MAX_SIZE

    def xml(self) -> bytes:
        middle, end = _stylesheet_frame()
        formats = "".join(f'<numFmt numFmtId="{i}" formatCode="{_attribute(code)}" />'
                          for i, code in enumerate(self.formats, BUILTIN_FORMATS_MAX_SIZE))
        cells = []
        for number_format, font, fill, align in self.cells:
            ids = f'numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="0"'
            if align:
                cells.append(f'<xf {ids} applyAlignment="1" {_XF_TAIL}>'
                             f"{self.alignments[align]}</xf>")
            else:
                cells.append(f"<xf {ids} {_XF_TAIL} />")
        return "".join([
            f'<styleSheet xmlns="{_MAIN}">',
            f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if self.formats
            else '<numFmts count="0" />',
            f'<fonts count="{len(self.fonts)}">{"".join(self.fonts)}</fonts>',
            f'<fills count="{len(self.fills)}">{"".join(self.fills)}</fills>', middle,
            f'<cellXfs count="{len(cells)}">{"".join(cells)}</cellXfs>', end]).encode()


_XF_TAIL = 'pivotButton="0" quotePrefix="0" xfId="0"'


@lru_cache(maxsize=64)
def _font(name: str | None) -> str:
    """The ``<font>`` of :data:`FONTS`' ``name`` (None: openpyxl's default) in styles.xml."""
    return tostring((FONTS[name] if name else DEFAULT_FONT).to_tree()).decode()


@lru_cache(maxsize=1024)
def _fill(colour: str) -> str:
    """The ``<fill>`` of a solid ``colour`` in styles.xml."""
    return tostring(PatternFill("solid", fgColor=colour).to_tree()).decode()


@lru_cache(maxsize=1)
def _default_fills() -> tuple[str, str]:
    """The two fills openpyxl's styles.xml starts with."""
    return tuple(tostring(fill.to_tree()).decode()
                 for fill in (DEFAULT_EMPTY_FILL, DEFAULT_GRAY_FILL))


@lru_cache(maxsize=64)
def _alignment(name: str | None) -> str:
    """The ``<alignment>`` of :data:`ALIGNMENTS`' ``name`` (None: none)."""
    return tostring((ALIGNMENTS[name] if name else Alignment()).to_tree()).decode()


@lru_cache(maxsize=1)
def _stylesheet_frame() -> tuple[str, str]:
    """What styles.xml holds, as openpyxl writes it for any workbook, between its fills and
    cell formats (borders, the Normal style's format), and after them (the Normal style,
    table styles, the indexed colours)."""
    xml = tostring(write_stylesheet(Workbook())).decode()
    end = "</cellXfs>"
    return xml[xml.index("<borders"):xml.index("<cellXfs")], xml[xml.index(end) + len(end):]
