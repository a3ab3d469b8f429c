"""Cell marks written straight into a report sheet's XML and its comment parts.

A mark is a fill in the level's colour and a note (an Excel comment) by the toolkit's author on
a problem cell. ``toolkit.backends.xlsx._mark_cells`` sets and clears them through openpyxl;
this module does the same inside the .xlsx zip, so a Kiểm tra write that marks cells costs
what the patch costs, not a load and save of the whole workbook. What it writes mirrors
openpyxl's writer (``openpyxl/comments``, ``openpyxl/writer/excel.py``): a comments part, a
legacy VML drawing that makes Excel and LibreOffice show the notes, the sheet's relationships
and ``<legacyDrawing>``, and the content types; so either writer can take up what the other
left. A person's own note and fill are never touched: their comment is copied as it was, its
VML shape too. Anything else in a sheet's relationships (drawings, tables, threaded comments,
form controls), a VML that is not well-formed XML, a gradient fill on a cell to mark or a
cell to mark that the sheet's XML does not hold: ``mark`` answers False and the caller writes
the openpyxl way.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

from toolkit.layout import FIRST_DATA_ROW, LEVEL_COLOURS, a1, is_mark, parse_a1

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_COMMENTS = f"{_DOC_RELS}/comments"
_VML = f"{_DOC_RELS}/vmlDrawing"
_COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_V = "{urn:schemas-microsoft-com:vml}"
_X = "{urn:schemas-microsoft-com:office:excel}"
#: The fill colours of the marks, as openpyxl reads them back (``Color.rgb``).
OURS = frozenset("00" + fill for fill, _ in LEVEL_COLOURS.values())
#: Characters XML 1.0 cannot hold (openpyxl refuses them too: the openpyxl way reports it).
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_COMMENT = re.compile(r"<comment\b[^>]*?(?:/>|(?<!/)>.*?</comment>)", re.S)
_LEGACY = re.compile(rb"<legacyDrawing\b[^>]*?(?:/>|(?<!/)>.*?</legacyDrawing>)", re.S)
#: The worksheet's children that come after ``legacyDrawing`` (ECMA-376 CT_Worksheet).
_AFTER_LEGACY = (b"<legacyDrawingHF", b"<drawingHF", b"<picture", b"<oleObjects", b"<controls",
                 b"<webPublishItems", b"<tableParts")


def note_size(text: str) -> tuple[int, int]:
    """A mark's note box, width and height in pixels: tall enough for its text."""
    return 320, min(60 + 16 * (len(text) // 45 + text.count("\n")), 400)


class Edits:
    """The zip members a write changes (bytes), removes (None) or adds, and the content types
    to add or drop with them."""

    def __init__(self, package: zipfile.ZipFile):
        self.package = package
        self.changed: dict[str, bytes | None] = {}
        self.types: dict[str, str | None] = {}

    def read(self, name: str) -> bytes | None:
        if name in self.changed:
            return self.changed[name]
        return self.package.read(name) if name in self.package.NameToInfo else None

    def content_types(self) -> bytes:
        text = self.package.read("[Content_Types].xml").decode("utf-8")
        for part, kind in self.types.items():
            text = re.sub(rf'<Override\b[^>]*\bPartName="/{re.escape(part)}"[^>]*/>', "", text)
            vml_default = re.search(r'<Default\b[^>]*\bExtension="vml"', text, re.I)
            if kind and not (kind == _VML_TYPE and vml_default):
                text = text.replace("</Types>", f'<Override PartName="/{part}" '
                                                f'ContentType="{kind}" /></Types>', 1)
        return text.encode("utf-8")


def mark(edits: Edits, part: str, marks: dict[tuple[int, int], tuple[str, str]],
         was: set[tuple[int, int]] | None, author: str, styles) -> bool:
    """Put ``marks`` (0-based row, column → level label, note) on the sheet ``part`` and take
    the marks by ``author`` off every other cell, as ``_mark_cells`` does; the changed parts
    go into ``edits``. False when the sheet holds what this cannot change safely."""
    if any(ILLEGAL.search(text) for _, text in marks.values()):
        return False
    xml = edits.read(part)
    if xml is None or not re.match(rb"(<\?xml[^>]*>\s*)?<worksheet\b", xml):
        return False
    wanted = {(r + 1, c + 1): level for (r, c), (level, _) in marks.items()}
    parts = _CommentParts.read(edits, part, xml)
    if parts is None:
        return False
    if not wanted and was == set() and not parts.old:
        return True             # nothing marked now, nor before: the sheet stays as it is
    refilled = _refilled(xml, wanted, was, styles)
    if refilled is None:
        return False
    parts.sheet = refilled
    new = parts.write(edits, parts.notes(marks, author))
    if new is None:
        return False
    if new != xml:
        edits.changed[part] = new
    return True


def _refilled(xml: bytes, wanted: dict[tuple[int, int], str],
              was: set[tuple[int, int]] | None, styles) -> bytes | None:
    """The sheet with each cell to mark in its level's fill (a person's own fill kept) and the
    toolkit's fill taken off the data cells it marked before (any cell in one of its fills
    when ``was`` is None); None when a cell to mark is not in the sheet's XML or has a fill
    this does not know. Only the cells that may change are looked at."""
    start, end = xml.find(b"<sheetData"), xml.find(b"</sheetData>")
    if start < 0 or end < 0:
        return None if wanted or start < 0 else xml
    found: dict[tuple[int, int], re.Match] = {}
    for row, column in set(wanted) | {(r + 1, c + 1) for r, c in was or ()}:
        cell = re.compile(rb'<c\s[^>]*?\br="' + a1(row, column).encode()
                          + rb'"[^>]*?(/?)>').search(xml, start, end)
        if cell is None and (row, column) in wanted:
            return None
        if cell is not None:
            found[(row, column)] = cell
    marked = styles.marked_formats()
    if was is None and marked:
        formats = b"|".join(b"%d" % i for i in sorted(marked))
        pattern = re.compile(rb'<c\s[^>]*?\bs="(?:' + formats + rb')"[^>]*?(/?)>')
        for cell in pattern.finditer(xml, start, end):
            ref = _REF.search(cell.group(0))
            if ref is None:
                return None
            found.setdefault(parse_a1(ref.group(1).decode() + ref.group(2).decode()), cell)
    edits = []
    for where, cell in found.items():
        style = _STYLE.search(cell.group(0))
        old = int(style.group(1)) if style else 0
        fill = styles.fill_of(old)
        if fill is None:
            return None
        solid_ours, own = fill
        new = old
        if where in wanted:
            if own is None:          # a gradient: openpyxl's way says what happens
                return None
            if not own:
                new = styles.with_fill(old, LEVEL_COLOURS.get(wanted[where],
                                                              LEVEL_COLOURS["Lỗi"])[0])
        elif where[0] >= FIRST_DATA_ROW and solid_ours:
            new = styles.with_fill(old, None)
        if new is None:
            return None
        if new != old:
            tag = cell.group(0)
            tag = (_STYLE.sub(b's="%d"' % new, tag) if style else
                   tag[:cell.start(1) - cell.start()].rstrip() + b' s="%d"' % new
                   + tag[cell.start(1) - cell.start():])
            edits.append((cell.start(), cell.end(), tag))
    for begin, finish, tag in sorted(edits, reverse=True):
        xml = xml[:begin] + tag + xml[finish:]
    return xml


class _CommentParts:
    """A sheet's notes as its comments part, VML drawing and relationships hold them."""

    def __init__(self, part: str, sheet: bytes):
        self.part, self.sheet = part, sheet
        self.rels_part = rels_of(part)
        self.rels: list[dict[str, str]] = []
        self.comments_part: str | None = None
        self.vml_part: str | None = None
        #: (row, column) → (author, the comment's XML as it is in the part, whether it is
        #: the toolkit's mark: ``layout.is_mark``)
        self.old: dict[tuple[int, int], tuple[str, str, bool]] = {}
        self.opening = '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        self.declaration = ""
        self.vml: ElementTree.Element | None = None

    @classmethod
    def read(cls, edits: Edits, part: str, sheet: bytes) -> _CommentParts | None:
        self = cls(part, sheet)
        rels = edits.read(self.rels_part)
        legacy = _LEGACY.search(sheet)
        if rels is None:
            return None if legacy else self
        for rel in ElementTree.fromstring(rels).iter(f"{{{_RELS_NS}}}Relationship"):
            kind, target = rel.get("Type"), rel.get("Target", "")
            if kind not in (_COMMENTS, _VML) or rel.get("TargetMode") == "External" or \
                    any(r["Type"] == kind for r in self.rels):
                return None
            self.rels.append({"Id": rel.get("Id", ""), "Type": kind, "Target": target})
            resolved = (target.lstrip("/") if target.startswith("/") else
                        posixpath.normpath(posixpath.join(posixpath.dirname(part), target)))
            if kind == _COMMENTS:
                self.comments_part = resolved
            else:
                self.vml_part = resolved
        vml_id = next((r["Id"] for r in self.rels if r["Type"] == _VML), None)
        said = re.search(rb'\bid="([^"]*)"', legacy.group(0)) if legacy else None
        if (vml_id is None) != (legacy is None) or (said and said.group(1).decode() != vml_id) \
                or (self.comments_part is None) != (self.vml_part is None):
            return None
        if self.comments_part and not (self._read_comments(edits) and self._read_vml(edits)):
            return None
        return self

    def _read_comments(self, edits: Edits) -> bool:
        data = edits.read(self.comments_part)
        if data is None:
            return False
        root = ElementTree.fromstring(data)
        if root.tag != f"{_MAIN}comments" or \
                any(c.tag not in (f"{_MAIN}authors", f"{_MAIN}commentList") for c in root):
            return False
        authors = [a.text or "" for a in root.iter(f"{_MAIN}author")]
        text = data.decode("utf-8")
        opening = re.search(r"<comments\b[^>]*>", text)
        raws = _COMMENT.findall(text)
        records = list(root.iter(f"{_MAIN}comment"))
        if opening is None or len(raws) != len(records):
            return False
        self.opening = opening.group(0)
        declaration = re.match(r"<\?xml[^>]*\?>", text)
        self.declaration = declaration.group(0) if declaration else ""
        for record, raw in zip(records, raws, strict=True):
            where = parse_a1(record.get("ref", ""))
            index = record.get("authorId", "0")
            if where is None or not index.isdigit() or int(index) >= len(authors):
                return False
            who = authors[int(index)]
            text = "".join(t.text or "" for t in record.iter(f"{_MAIN}t"))
            self.old[where] = (who, raw, is_mark(who, text))
        return True

    def _read_vml(self, edits: Edits) -> bool:
        data = edits.read(self.vml_part)
        if data is None:
            return False
        try:
            self.vml = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            return False        # Excel's VML is not always XML: openpyxl's way rewrites it
        return self.vml.tag == "xml"

    def notes(self, marks: dict[tuple[int, int], tuple[str, str]],
              author: str) -> dict[tuple[int, int], tuple[str, str | None, str]]:
        """(row, column) → (author, a person's comment XML or None, our note's text): the
        notes the sheet keeps, as ``_mark_cells`` leaves them."""
        wanted = {(r + 1, c + 1): text for (r, c), (_, text) in marks.items()}
        notes = {}
        ours = set()
        for where, (who, raw, mark) in self.old.items():
            if mark and (where in wanted or where[0] >= FIRST_DATA_ROW):
                continue
            notes[where] = (who, raw, "")
            if mark:
                ours.add(where)
        for where, text in wanted.items():
            if where not in notes or where in ours:
                notes[where] = (author, None, text)
        return notes

    def write(self, edits: Edits, notes: dict) -> bytes | None:
        """The sheet's XML, its notes written into ``edits`` (or their parts removed)."""
        sheet = self.sheet
        if not notes:
            for gone in (self.comments_part, self.vml_part):
                if gone:
                    edits.changed[gone] = None
                    edits.types[gone] = None
            if self.rels:
                edits.changed[self.rels_part] = None
            return _LEGACY.sub(b"", sheet)
        vml = self._vml(notes)
        if vml is None:
            return None
        if self.comments_part is None:
            number = 1
            while any(edits.read(name) is not None for name in _new_parts(number)):
                number += 1
            self.comments_part, self.vml_part = _new_parts(number)
            edits.types[self.comments_part] = _COMMENTS_TYPE
            edits.types[self.vml_part] = _VML_TYPE
            self.rels = [{"Id": "comments", "Type": _COMMENTS, "Target": "/" + self.comments_part},
                         {"Id": "anysvml", "Type": _VML, "Target": "/" + self.vml_part}]
            sheet = _with_legacy(sheet, "anysvml")
            if sheet is None:
                return None
            edits.changed[self.rels_part] = (
                f'<Relationships xmlns="{_RELS_NS}">'
                + "".join(f'<Relationship Type="{r["Type"]}" Target="{r["Target"]}" '
                          f'Id="{r["Id"]}" />' for r in self.rels)
                + "</Relationships>").encode("utf-8")
        edits.changed[self.comments_part] = self._comments_xml(notes)
        edits.changed[self.vml_part] = vml
        return sheet

    def _comments_xml(self, notes: dict) -> bytes:
        authors: list[str] = []
        records = []
        for (row, column), (who, raw, text) in sorted(notes.items()):
            if who not in authors:
                authors.append(who)
            index = authors.index(who)
            if raw is not None:
                records.append(re.sub(r'\bauthorId="\d+"', f'authorId="{index}"', raw, count=1))
                continue
            space = ' xml:space="preserve"' if text.strip() != text else ""
            records.append(f'<comment ref="{a1(row, column)}" authorId="{index}" shapeId="0">'
                           f"<text><t{space}>{escape(text)}</t></text></comment>")
        names = "".join(f"<author>{escape(a)}</author>" for a in authors)
        return (f"{self.declaration}{self.opening}<authors>{names}</authors>"
                f"<commentList>{''.join(records)}</commentList></comments>").encode()

    def _vml(self, notes: dict) -> bytes | None:
        """The VML drawing: a person's note keeps its shape, each of ours gets openpyxl's."""
        from openpyxl.comments.shape_writer import ShapeWriter, _shape_factory

        root = self.vml if self.vml is not None else ElementTree.Element("xml")
        kept: set[tuple[int, int]] = set()
        for shape in root.findall(f"{_V}shape"):
            data = shape.find(f"{_X}ClientData")
            if data is None or data.get("ObjectType") != "Note":
                return None     # a form control: openpyxl's way
            try:
                where = (int(data.findtext(f"{_X}Row")) + 1, int(data.findtext(f"{_X}Column")) + 1)
            except (TypeError, ValueError):
                return None
            if where in notes and notes[where][1] is not None and where not in kept:
                kept.add(where)
            else:
                root.remove(shape)
        if root.find(f"{_V}shapetype[@id='_x0000_t202']") is None:
            ShapeWriter(()).add_comment_shapetype(root)
        used = {shape.get("id") for shape in root.iter(f"{_V}shape")}
        number = 1026
        for (row, column), (_, raw, text) in sorted(notes.items()):
            if (row, column) in kept:
                continue
            width, height = note_size(text) if raw is None else (144, 79)   # openpyxl's default
            while f"_x0000_s{number:04d}" in used:
                number += 1
            shape = _shape_factory(row - 1, column - 1, height, width)
            shape.set("id", f"_x0000_s{number:04d}")
            used.add(shape.get("id"))
            root.append(shape)
        return ElementTree.tostring(root)


def _new_parts(number: int) -> tuple[str, str]:
    """The comments part and VML drawing openpyxl would name ``number``."""
    return f"xl/comments/comment{number}.xml", f"xl/drawings/commentsDrawing{number}.vml"


def _with_legacy(sheet: bytes, rel_id: str) -> bytes | None:
    """The sheet with ``<legacyDrawing>`` where the schema puts it: before the parts that
    follow it, else before a worksheet-level extLst, else last."""
    element = (f'<legacyDrawing xmlns:r="{_DOC_RELS}" r:id="{rel_id}" />').encode()
    tail = sheet.find(b"</sheetData>")
    places = [p for p in (sheet.find(tag, tail) for tag in _AFTER_LEGACY) if p >= 0]
    ext = sheet.rfind(b"<extLst")
    if ext > tail and re.fullmatch(rb"<extLst\b.*</extLst>\s*</worksheet>\s*", sheet[ext:],
                                   re.S) and sheet.count(b"<extLst", tail) == 1:
        places.append(ext)
    elif ext > tail:
        return None
    end = sheet.rfind(b"</worksheet>")
    place = min(places, default=end)
    if place < 0:
        return None
    return sheet[:place] + element + sheet[place:]


def rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return f"{folder}/_rels/{name}.rels"


def escape(text: str) -> str:
    """``text`` as element content in XML (``xlsx_patch`` writes its cells with it too)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
