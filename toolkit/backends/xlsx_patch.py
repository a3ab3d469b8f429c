"""Kiểm tra written straight into the .xlsx package, every other part copied as it was.

Loading and saving a whole workbook with openpyxl to rewrite one tab costs about 200 ms a
commune (issue 15); a sweep where every commune's feedback changed spent most of its time
there. The toolkit owns the Kiểm tra sheet outright and, on report tabs, only the banner in A1
and its marks on problem cells, so a write needs only: the Kiểm tra sheet's XML, made afresh
as openpyxl would make it; the A1 cell of each banner tab; the marked and unmarked cells'
style and the sheets' comment parts (``xlsx_marks``); and the few styles these use, added to
styles.xml once. Every other part of the zip keeps its bytes. Anything this module does not
recognise (another writer's styles.xml, a Kiểm tra sheet with drawings or comments of its
own, a banner tab without an A1 cell, a value that is not text, a report sheet with drawings)
returns None, and the caller writes the openpyxl way.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from xml.etree import ElementTree

from toolkit import zipped
from toolkit.backends import xlsx_marks
from toolkit.backends.xlsx_marks import ILLEGAL, escape
from toolkit.layout import (
    BANNER_COLOURS,
    FEEDBACK_HEADERS,
    FEEDBACK_TAB,
    FEEDBACK_WIDTHS,
    FIRST_DATA_ROW,
    FONT_NAME,
    FONT_SIZE,
    HEADER_COLOUR,
    HEADER_ROW,
    LEVEL_COLOURS,
    TITLE_ROW,
    Banner,
    column_letter,
    feedback_row_height,
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_A1 = re.compile(rb'<c\s[^>]*?\br="A1"[^>]*?(?:/>|(?<!/)>.*?</c>)', re.S)
_STYLE_OF = re.compile(rb'\bs="(\d+)"')
_WRAP = '<alignment vertical="top" wrapText="1" />'


def patched(data: bytes, rows: list[list], summary: str, banners: dict[str, Banner],
            marker: str, marks: dict[str, dict[tuple[int, int], tuple[str, str]]] | None = None,
            noted: dict[str, list] | None = None) -> bytes | None:
    """The workbook ``data`` with Kiểm tra holding ``summary`` and ``rows``, each banner
    tab's A1 set, and on each tab of ``marks`` its cells marked and the other marks by
    ``marker`` taken off (``noted``: the cells the last write marked, None when not known),
    as openpyxl would have written them; None when the package is not one this can change
    safely (the caller then loads and saves it with openpyxl): among others, when the bytes
    are not a whole zip (a save caught halfway: the openpyxl way says so)."""
    texts = [summary, *(b.text for b in banners.values())]
    texts += [v for row in rows for v in row if v is not None]
    if any(len(row) != len(FEEDBACK_HEADERS) for row in rows) or \
            not all(isinstance(t, str) and not ILLEGAL.search(t) for t in texts):
        return None
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        parts = sheet_parts(package)
        if _names_feedback(package):
            parts.pop(FEEDBACK_TAB, None)   # a print area or filter on Kiểm tra: openpyxl's way
        feedback = parts.get(FEEDBACK_TAB)
        if feedback is None or xlsx_marks.rels_of(feedback) in package.NameToInfo:
            return None
        styles = _Styles(package.read("xl/styles.xml"))
        changed = {feedback: _feedback_xml(package.read(feedback), rows, summary, styles)}
        for tab, banner in banners.items():
            if tab in parts:
                sheet = changed.get(parts[tab]) or package.read(parts[tab])
                changed[parts[tab]] = _with_banner(sheet, banner, styles)
        if not all(changed.values()) or styles.failed:
            return None
        edits = xlsx_marks.Edits(package)
        edits.changed.update(changed)
        for tab, cells in (marks or {}).items():
            was = None if noted is None else {tuple(c) for c in noted.get(tab, [])}
            if tab == FEEDBACK_TAB or (tab in parts and not xlsx_marks.mark(
                    edits, parts[tab], cells, was, marker, styles)):
                return None
        if styles.failed:
            return None
        edits.changed["xl/styles.xml"] = styles.xml()
        if edits.types:
            edits.changed["[Content_Types].xml"] = edits.content_types()
        return zipped.replaced(data, edits.changed, package=package)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, zlib.error, EOFError,
            UnicodeDecodeError):
        return None


def typed(data: bytes, tab: str, cells: dict[str, object]) -> bytes | None:
    """The workbook ``data`` with ``cells`` (A1 reference → int, float, text or None) typed into
    ``tab`` as a person's save leaves them, each cell keeping its style; None when a cell is not
    in the sheet's XML yet, or a value is of another kind (openpyxl then types it). The demo's
    simulated staff type so: a twentieth of loading and saving the workbook."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        part = sheet_parts(package).get(tab)
        if part is None:
            return None
        xml = package.read(part)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, zlib.error, EOFError):
        return None
    for ref, value in cells.items():
        found = re.search(rb'<c\s[^>]*?\br="' + ref.encode() + rb'"[^>]*?(?:/>|(?<!/)>.*?</c>)',
                          xml, re.S)
        cell = _typed_cell(found.group(0), ref, value) if found else None
        if cell is None:
            return None
        xml = xml[:found.start()] + cell + xml[found.end():]
    return zipped.replaced(data, {part: xml}, package=package)


def _typed_cell(old: bytes, ref: str, value) -> bytes | None:
    style = _STYLE_OF.search(old)
    attrs = f'r="{ref}"' + (f' s="{style.group(1).decode()}"' if style else "")
    if value is None:
        return f"<c {attrs} />".encode()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c {attrs} t="n"><v>{value!r}</v></c>'.encode()
    if isinstance(value, str) and value.strip() == value and value \
            and not ILLEGAL.search(value):
        return f'<c {attrs} t="inlineStr"><is><t>{escape(value)}</t></is></c>'.encode()
    return None


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Tab name → the zip member of its sheet (``xlsx_calamine`` finds the tabs so too)."""
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG}Relationship")}
    parts = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_REL), "")
        parts[sheet.get("name")] = (target.lstrip("/") if target.startswith("/")
                                    else posixpath.normpath(posixpath.join("xl", target)))
    return parts


def _names_feedback(package: zipfile.ZipFile) -> bool:
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    return any(FEEDBACK_TAB in (name.text or "") for name in book.iter(f"{_MAIN}definedName"))


class _Styles:
    """styles.xml, with the fonts, fills and cell formats Kiểm tra, the banners and the marked
    cells need added once (found again by their exact text on later writes). Only the three
    lists change."""

    def __init__(self, xml: bytes):
        self.text = xml.decode("utf-8")
        self.failed = False
        self.lists = {name: self._items(name, item)
                      for name, item in (("fonts", "font"), ("fills", "fill"), ("cellXfs", "xf"))}
        self.added: dict[str, list[str]] = {name: [] for name in self.lists}
        self._fill_kinds: dict[int, tuple[bool, bool | None] | None] = {}
        self._refilled: dict[tuple[int, str | None], int | None] = {}

    def _items(self, name: str, item: str) -> list[str] | None:
        found = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", self.text, re.S)
        if found is None:
            self.failed = True
            return None
        return [_plain(m) for m in re.findall(rf"<{item}\b[^>]*?/>|<{item}\b.*?</{item}>",
                                              found.group(1), re.S)]

    def index(self, name: str, xml: str) -> int:
        if self.failed:
            return 0
        known = self.lists[name] + self.added[name]
        xml = _plain(xml)
        if xml not in known:
            self.added[name].append(xml)
            known.append(xml)
        return known.index(xml)

    def xf_of(self, index: int) -> str | None:
        xfs = self.known("cellXfs")
        return xfs[index] if index < len(xfs) else None

    def known(self, name: str) -> list[str]:
        """The list's items, those this write added included."""
        return (self.lists[name] or []) + self.added[name]

    def fill_of(self, xf_index: int) -> tuple[bool, bool | None] | None:
        """Whether cell format ``xf_index`` has one of the marks' solid fills, and whether it
        has a person's own fill (None: a gradient), as ``_mark_cells`` tells them apart from
        what openpyxl reads; None when the format or its fill is not there."""
        if xf_index not in self._fill_kinds:
            self._fill_kinds[xf_index] = self._fill_kind(xf_index)
        return self._fill_kinds[xf_index]

    def _fill_kind(self, xf_index: int) -> tuple[bool, bool | None] | None:
        xf = self.xf_of(xf_index)
        fills = self.known("fills")
        if xf is None:
            return None
        found = re.search(r'\bfillId="(\d+)"', xf.split(">", 1)[0])
        fill_id = int(found.group(1)) if found else 0
        if fill_id >= len(fills):
            return None
        fill = ElementTree.fromstring(fills[fill_id])
        if fill.find("gradientFill") is not None:
            return False, None
        pattern = fill.find("patternFill")
        if pattern is None:
            return None
        kind = pattern.get("patternType")
        kind = None if kind in (None, "none") else kind
        colour = pattern.find("fgColor")
        rgb = "00000000" if colour is None else colour.get("rgb")
        rgb = "00" + rgb if rgb and len(rgb) == 6 else rgb
        return kind == "solid" and rgb in xlsx_marks.OURS, kind is not None and \
            rgb not in xlsx_marks.OURS

    def marked_formats(self) -> set[int]:
        """The cell formats with one of the marks' solid fills."""
        return {i for i in range(len(self.lists["cellXfs"] or []))
                if (self.fill_of(i) or (False,))[0]}

    def with_fill(self, xf_index: int, colour: str | None) -> int | None:
        """Cell format ``xf_index`` with a solid fill of ``colour`` (None: no fill), all else
        kept, as openpyxl sets a cell's fill."""
        key = (xf_index, colour)
        if key not in self._refilled:
            xf = self.xf_of(xf_index)
            if xf is None:
                return None
            fill = self.index("fills", _fill(colour)) if colour else self._no_fill()
            head, rest = re.match(r"(<xf\b[^>]*?)(\s*/?>.*)", xf, re.S).groups()
            head, swaps = re.subn(r'\bfillId="\d+"', f'fillId="{fill}"', head, count=1)
            head += "" if swaps else f' fillId="{fill}"'
            head = re.sub(r'\bapplyFill="[^"]*"', 'applyFill="1"', head)
            self._refilled[key] = self.index("cellXfs", head + rest)
        return self._refilled[key]

    def _no_fill(self) -> int:
        for i, fill in enumerate(self.known("fills")):
            pattern = ElementTree.fromstring(fill).find("patternFill")
            if pattern is not None and len(pattern) == 0 and \
                    pattern.get("patternType") in (None, "none"):
                return i
        return self.index("fills", "<fill><patternFill /></fill>")

    def cell(self, font: str, fill: str | None = None, wrap: bool = False) -> int:
        """The cell format of ``font`` (and ``fill``, wrapped text) as openpyxl writes it."""
        font_id = self.index("fonts", font)
        fill_id = self.index("fills", fill) if fill else 0
        wrapped = ' applyAlignment="1"' if wrap else ""
        body = f">{_WRAP}</xf>" if wrap else " />"
        return self.index("cellXfs", f'<xf numFmtId="0" fontId="{font_id}" fillId="{fill_id}" '
                                     f'borderId="0"{wrapped} pivotButton="0" quotePrefix="0" '
                                     f'xfId="0"{body}')

    def xml(self) -> bytes:
        text = self.text
        for name, items in self.added.items():
            if not items:
                continue
            total = len(self.lists[name]) + len(items)
            found = re.search(rf"<{name}\b[^>]*>", text)
            opening = re.sub(r'\scount="\d+"', "", found.group(0)[:-1]).rstrip()
            text = (text[:found.start()] + f'{opening} count="{total}">' + text[found.end():])
            text = text.replace(f"</{name}>", "".join(items) + f"</{name}>", 1)
        return text.encode("utf-8")


def _font(bold: bool = False, size: int = FONT_SIZE, colour: str | None = None) -> str:
    parts = [f'<name val="{FONT_NAME}" />']
    if bold:
        parts.append('<b val="1" />')
    if colour:
        parts.append(f'<color rgb="00{colour}" />')
    parts.append(f'<sz val="{size}" />')
    return f"<font>{''.join(parts)}</font>"


def _fill(colour: str) -> str:
    return (f'<fill><patternFill patternType="solid"><fgColor rgb="00{colour}" />'
            '</patternFill></fill>')


def _feedback_xml(old: bytes, rows: list[list], summary: str, styles: _Styles) -> bytes:
    """The Kiểm tra sheet as ``toolkit.backends.xlsx`` builds it with openpyxl."""
    title = styles.cell(_font(bold=True, size=13))
    header = styles.cell(_font(bold=True), _fill(HEADER_COLOUR), wrap=True)
    body = styles.cell(_font(), wrap=True)
    levels = {label: styles.cell(_font(bold=True, colour=ink), _fill(fill), wrap=True)
              for label, (fill, ink) in LEVEL_COLOURS.items()}
    out = [f'<row r="{TITLE_ROW}">{cell_xml(f"A{TITLE_ROW}", title, summary)}</row>',
           f'<row r="{HEADER_ROW}">'
           + "".join(cell_xml(f"{column_letter(c)}{HEADER_ROW}", header, h)
                     for c, h in enumerate(FEEDBACK_HEADERS, start=1)) + "</row>"]
    for r, values in enumerate(rows, start=FIRST_DATA_ROW):
        level = levels.get(values[-1], body)
        cells = [cell_xml(f"{column_letter(c)}{r}", level if c == len(values) else body, value)
                 for c, value in enumerate(values, start=1)]
        out.append(f'<row r="{r}" ht="{feedback_row_height(values):.16g}" customHeight="1">'
                   + "".join(cells) + "</row>")
    last_row = max(HEADER_ROW, FIRST_DATA_ROW + len(rows) - 1)
    selected = ' tabSelected="1"' if b'tabSelected="1"' in old[:2000] else ""
    cols = "".join(f'<col width="{w}" customWidth="1" min="{c}" max="{c}" />'
                   for c, w in enumerate(FEEDBACK_WIDTHS, start=1))
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr fitToPage="1" />'
        f'</sheetPr><dimension ref="A1:{column_letter(len(FEEDBACK_HEADERS))}{last_row}" />'
        f'<sheetViews><sheetView{selected} workbookViewId="0"><pane ySplit="{HEADER_ROW}" '
        f'topLeftCell="A{FIRST_DATA_ROW}" activePane="bottomLeft" state="frozen" />'
        '<selection pane="bottomLeft" activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
        f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>{cols}</cols>'
        f'<sheetData>{"".join(out)}</sheetData>'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" />'
        '<pageSetup orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1" />'
        '</worksheet>').encode()


def _with_banner(sheet: bytes | None, banner: Banner, styles: _Styles) -> bytes | None:
    """The report sheet with A1 holding the banner: its cell format kept, the font changed,
    as openpyxl does when a font is set."""
    if sheet is None:
        return None
    found = _A1.search(sheet)
    if found is None:
        return None
    style = _STYLE_OF.search(found.group(0).split(b">", 1)[0])
    xf = styles.xf_of(int(style.group(1)) if style else 0)
    if xf is None:
        return None
    colour = BANNER_COLOURS.get(banner.tone)
    font = styles.index("fonts", _font(bold=True, size=13, colour=colour))
    new_xf, swaps = re.subn(r'\bfontId="\d+"', f'fontId="{font}"', xf, count=1)
    if not swaps:
        return None
    cell = cell_xml("A1", styles.index("cellXfs", new_xf), banner.text).encode("utf-8")
    return sheet[:found.start()] + cell + sheet[found.end():]


def cell_xml(ref: str, style: int, value: str | None) -> str:
    if value is None:
        return f'<c r="{ref}" s="{style}" t="n" />'
    if value == "":
        return f'<c r="{ref}" s="{style}" t="inlineStr" />'
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is>{text_element(value)}</is></c>'


def text_element(value: str) -> str:
    """``<t>`` holding ``value``, its spaces kept where they lead or trail."""
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f"<t{space}>{escape(value)}</t>"


def _plain(xml: str) -> str:
    """One spelling of an element's text, so the same style is found again."""
    return re.sub(r"\s*/>", " />", re.sub(r">\s+<", "><", xml.strip()))
