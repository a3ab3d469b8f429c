"""Report tabs read with calamine (Rust) where it reads everything a tab holds, else None.

openpyxl spends most of a collect building Python objects for every cell and style; calamine
reads the same values about twenty times faster. It gives no formula text and turns error cells
(#DIV/0!) into blanks, and a commune's formula must be named on its Kiểm tra tab, so a tab whose
XML holds a formula or an error cell — or anything this module does not recognise — is left to
openpyxl (``None``): the answer is the same either way, only the time differs. Values come back
as openpyxl gives them: whole numbers as int, dates as datetime, blanks as None.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time
from xml.etree import ElementTree

from toolkit.backends.base import Window
from toolkit.backends.xlsx_patch import sheet_parts

#: A formula (<f>, <f t="shared" .../>, <f/>), an error cell (t="e"), or text of spaces only
#: without xml:space="preserve" (openpyxl writes it so; calamine drops the spaces): openpyxl's.
#: Three searches, each from a literal: one pattern of the three, its middle one starting at
#: any white space, took a tenth of the demo's reading.
_FORMULA = re.compile(rb"<f[\s>/]")
_ERROR_TYPE = re.compile(rb"t=[\"']e[\"']")
_SPACES_ONLY = re.compile(rb"<t>\s+</t>")
_DIMENSION = re.compile(rb"<dimension\s+ref=\"(?:[A-Z]+\d+:)?[A-Z]+(\d+)\"")
_ROW_NUMBER = re.compile(rb"<row\s[^>]*?\br=\"(\d+)\"")
#: Excel writes whole numbers below 10^15 without a point, which openpyxl reads as int.
_WHOLE = 1e15

Result = tuple[dict[str, list[list]], dict[str, int], tuple[str, ...]]


def read_windows(data: bytes, windows: dict[str, Window]) -> Result | None:
    """Each present tab's window (grids), its last used row (from the sheet's dimension, as
    openpyxl reports it) and the workbook's other tabs; None when openpyxl must read it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = sheet_parts(package)
            if _needs_openpyxl(_member(package, "xl/sharedStrings.xml")):
                return None
            last_rows, heights = {}, {}
            for tab in windows:
                if tab in parts:
                    sizes = _plain_sizes(package.read(parts[tab]))
                    if sizes is None:
                        return None
                    last_rows[tab], heights[tab] = sizes
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return None     # openpyxl reads it again and says what is wrong, as it always has
    from python_calamine import CalamineError, CalamineWorkbook

    grids: dict[str, list[list]] = {}
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = book.sheet_names
        for tab, window in windows.items():
            if tab in last_rows:
                rows = book.get_sheet_by_name(tab).to_python(skip_empty_area=False,
                                                             nrows=window.rows)
                grids[tab] = _grid(rows, window, heights[tab])
        book.close()
    except (CalamineError, ValueError, OSError):
        return None     # e.g. text where a number belongs: openpyxl names the damage
    if set(names) != set(parts):
        return None
    others = tuple(t for t in names if t not in windows)
    return grids, {t: r for t, r in last_rows.items() if r}, others


def _member(package: zipfile.ZipFile, name: str) -> bytes:
    return package.read(name) if name in package.NameToInfo else b""


def _needs_openpyxl(xml: bytes) -> bool:
    return bool(_FORMULA.search(xml) or _SPACES_ONLY.search(xml)
                or any(xml[m.start() - 1:m.start()].isspace() for m in _ERROR_TYPE.finditer(xml)))


def _plain_sizes(xml: bytes) -> tuple[int, int] | None:
    """For a sheet calamine reads in full: the dimension's last row, and the number of the
    last <row> element (styled empty rows count for openpyxl's grid); else None."""
    if b"<sheetData" not in xml or _needs_openpyxl(xml):
        return None     # prefixed XML (x:sheetData) is rare: openpyxl knows it
    dimension = _DIMENSION.search(xml)
    tail = xml.rfind(b"<row ")
    last = _ROW_NUMBER.match(xml, tail) if tail >= 0 else None
    if dimension is None or (tail >= 0 and last is None):
        return None
    return int(dimension.group(1)), int(last.group(1)) if last else 0


def _grid(rows: list[list], window: Window, height: int) -> list[list]:
    """As openpyxl's iter_rows gives them: up to the last row element, at most the window,
    every row as wide as the window."""
    wanted = min(height, window.rows)
    grid = [_row(r, window.width) for r in rows[:wanted]]
    return grid + [[None] * window.width for _ in range(wanted - len(grid))]


def _row(cells: list, width: int) -> list:
    cells = cells[:width]
    if cells.count("") == len(cells):          # most rows are empty (a roster's 200 lines)
        return [None] * width
    row = [None if v == "" else _value(v) for v in cells]   # most cells are empty
    return row + [None] * (width - len(row))


def _value(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < _WHOLE:
        return int(value)
    if value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value
