"""New commune workbooks copied from one prototype per shape instead of each built by openpyxl.

Provisioning a province makes the same workbook again and again: every commune of a template
set gets the same report tabs, Kiểm tra, print setup and styles, and only a few texts differ —
each report tab's title and Hướng dẫn's first line (they name the commune) and the hidden
list of its villages.
openpyxl builds and saves a commune workbook in 120–250 ms, most of `toolkit demo`'s
provisioning and of every test that provisions a province. So the first workbook of a shape
is built the openpyxl way with a placeholder letter for each of those texts and no villages,
and each commune's workbook is that prototype with its texts in the placeholders' places and
its villages written into the list's sheet, each cell as openpyxl writes it: a few
milliseconds.

Anything this cannot vouch for — another kind of action, a first line that would wrap to
another row height than the placeholder's, text XML cannot hold — returns None, and the
caller builds the workbook the openpyxl way.

The title row keeps no height of its own, so any title fits the placeholder's row; Hướng dẫn's
rows have heights by their length, so a first line that would wrap is built the openpyxl way.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from toolkit import zipped
from toolkit.backends.base import (
    Action,
    AddFeedbackTab,
    AddHelpTab,
    AddTab,
    CreateWorkbook,
    SetVillages,
)
from toolkit.backends.xlsx_marks import ILLEGAL
from toolkit.backends.xlsx_patch import cell_xml, sheet_parts, text_element
from toolkit.layout import HELP_TAB, LISTS_TAB, help_row_height

#: The first of the private-use letters that stand for a commune's texts in a prototype (no
#: title or line holds one; the area has 6,400).
PLACEHOLDER = 0xE000
_DIMENSION = re.compile(rb'<dimension ref="A1(?::A1)?"\s*/>')


@dataclass(frozen=True)
class _Commune:
    """What one commune's workbook has of its own."""

    title: str                                 # the workbook's name
    texts: tuple[tuple[str, str, str], ...]    # (tab, placeholder, text): each tab's title
    villages: tuple[str, ...] | None           # None: no village list


class Prototypes:
    """The prototypes made so far (the last few shapes), and the workbooks copied from them.

    ``build`` makes a workbook's bytes from its actions the openpyxl way."""

    def __init__(self, build: Callable[[list[Action]], bytes], keep: int = 8):
        self._build, self._keep = build, keep
        self._made: OrderedDict[str, bytes] = OrderedDict()
        self.built = 0                   # prototypes built (the tests count them)

    def workbook(self, actions: list[Action]) -> tuple[str, bytes] | None:
        """The new workbook's title and bytes for ``actions``; None when they are not a new
        commune workbook this can make (build it the openpyxl way)."""
        shaped = _shape(actions)
        if shaped is None:
            return None
        shape, commune = shaped
        key = repr(shape)
        if key not in self._made:
            self._made[key] = self._build(shape)
            self.built += 1
            while len(self._made) > self._keep:
                self._made.popitem(last=False)
        self._made.move_to_end(key)
        data = _filled(self._made[key], commune)
        return None if data is None else (commune.title, data)


def _shape(actions: list[Action]) -> tuple[list[Action], _Commune] | None:
    """The actions with the commune's own texts — each report tab's title, Hướng dẫn's first
    line, the villages — taken out, and those texts."""
    shape: list[Action] = []
    title = villages = None
    texts: list[tuple[str, str, str]] = []
    for action in actions:
        mark = chr(PLACEHOLDER + len(texts))
        if isinstance(action, CreateWorkbook) and not shape:
            title = action.title
            shape.append(CreateWorkbook(""))
        elif isinstance(action, AddTab):
            texts.append((action.layout.tab, mark, action.layout.title))
            shape.append(AddTab(replace(action.layout, title=mark)))
        elif isinstance(action, AddHelpTab) and action.lines \
                and help_row_height(action.lines[0]) == help_row_height(mark):
            texts.append((HELP_TAB, mark, action.lines[0]))
            shape.append(AddHelpTab((mark, *action.lines[1:])))
        elif isinstance(action, SetVillages) and villages is None:
            villages = action.villages
            shape.append(SetVillages(()))
        elif isinstance(action, AddFeedbackTab):
            shape.append(action)
        else:
            return None
    own = [text for _, _, text in texts] + list(villages or ())
    if title is None or len(texts) > 256 or not all(own) or any(
            ILLEGAL.search(t) or any(0xE000 <= ord(c) <= 0xF8FF for c in t) for t in own):
        return None
    return shape, _Commune(title, tuple(texts), villages)


def _filled(prototype: bytes, commune: _Commune) -> bytes | None:
    """The prototype with the commune's texts and villages; None when its parts are not as
    openpyxl writes them (text inline in each cell)."""
    package = zipfile.ZipFile(io.BytesIO(prototype))
    parts = sheet_parts(package)
    changed: dict[str, bytes] = {}
    for tab, mark, text in commune.texts:
        sheet = changed.get(parts[tab]) or package.read(parts[tab])
        placeholder = f"<t>{mark}</t>".encode()
        if sheet.count(placeholder) != 1:
            return None
        changed[parts[tab]] = sheet.replace(placeholder, text_element(text).encode())
    if commune.villages:
        sheet = package.read(parts[LISTS_TAB])
        if sheet.count(b"</sheetData>") != 1 or len(_DIMENSION.findall(sheet)) != 1:
            return None
        last = len(commune.villages) + 1
        rows = "".join(f'<row r="{r}">{cell_xml(f"A{r}", 0, village)}</row>'
                       for r, village in enumerate(commune.villages, start=2))
        sheet = _DIMENSION.sub(f'<dimension ref="A1:A{last}" />'.encode(), sheet)
        changed[parts[LISTS_TAB]] = sheet.replace(b"</sheetData>",
                                                  rows.encode() + b"</sheetData>")
    return zipped.replaced(prototype, changed, package=package)
