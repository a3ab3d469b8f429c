"""A1 notation: parse what clients send, write ranges back the way Google does.

Google quotes a sheet title in the ranges it returns unless the title is a plain identifier
that cannot be mistaken for a cell (``Sheet1!A1:D4``, but ``'D3'!A1`` and
``'Báo cáo ngày'!A1:J63``). Indexes here are 0-based and half-open, like a GridRange; ``None``
means unbounded on that side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELLISH = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|[A-Za-z]{1,3}|\d+)$")
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})?\$?(\d+)?$")


@dataclass(frozen=True)
class A1:
    """A parsed range: the sheet title as written (or None) and bounds, None = open."""

    title: str | None
    r0: int | None = None
    r1: int | None = None
    c0: int | None = None
    c1: int | None = None
    whole: bool = False     # no cell part at all: the whole sheet


def col_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    if _PLAIN.match(title) and not _CELLISH.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_title(text: str) -> tuple[str | None, str]:
    """``'It''s'!A1`` → ("It's", "A1"); ``A1:B2`` → (None, "A1:B2"); ``Tab`` → (None, "Tab")."""
    text = text.strip()
    if text.startswith("'"):
        i, out = 1, []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if text[i + 1:i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                rest = text[i + 1:]
                if rest == "":
                    return "".join(out), ""
                if rest.startswith("!"):
                    return "".join(out), rest[1:]
                raise ValueError(text)
            out.append(ch)
            i += 1
        raise ValueError(text)
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def parse_cells(cells: str) -> tuple[int | None, int | None, int | None, int | None]:
    """``A3:J`` → (2, None, 0, 10); ``B3`` → (2, 3, 1, 2); ``2:5`` → (1, 5, None, None)."""
    parts = cells.split(":")
    if len(parts) > 2 or not cells:
        raise ValueError(cells)
    ends = []
    for part in parts:
        m = _CELL.match(part.strip())
        if not m or (m.group(1) is None and m.group(2) is None):
            raise ValueError(cells)
        col = col_index(m.group(1)) if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            raise ValueError(cells)
        ends.append((row, col))
    (ra, ca) = ends[0]
    if len(ends) == 1:
        if ra is None or ca is None:    # "A" or "3" alone is not a range
            raise ValueError(cells)
        return ra, ra + 1, ca, ca + 1
    (rb, cb) = ends[1]
    if (ca is None) != (cb is None) and ra is None and rb is None:
        raise ValueError(cells)
    r0 = None if ra is None and rb is None else min(x for x in (ra, rb) if x is not None)
    if ra is not None and rb is not None:
        r1 = max(ra, rb) + 1
    elif ra is None and rb is None:
        r1 = None
    else:   # A3:J (open rows below), or A:J3 style
        r1 = None if rb is None else rb + 1
        r0 = ra if ra is not None else 0
    if ca is not None and cb is not None:
        c0, c1 = min(ca, cb), max(ca, cb) + 1
    elif ca is None and cb is None:
        c0 = c1 = None
    else:   # A3:5 → columns from A to the end
        c0, c1 = (ca if ca is not None else cb), None
    return r0, r1, c0, c1


def parse(text: str) -> A1:
    """Parse a range; a bare word without '!' is a title or a named range (caller decides)."""
    title, cells = split_title(text)
    if title is not None and cells == "":
        return A1(title, whole=True)
    if title is None:
        try:
            return A1(None, *parse_cells(cells))
        except ValueError:
            return A1(cells, whole=True)
    return A1(title, *parse_cells(cells))


def cell_name(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def format_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """Bounded 0-based half-open indexes → ``'Tab'!A1:D4`` (a single cell stays ``A1``)."""
    start = cell_name(r0, c0)
    if r1 - r0 <= 1 and c1 - c0 <= 1:
        return f"{quote_title(title)}!{start}"
    return f"{quote_title(title)}!{start}:{cell_name(r1 - 1, c1 - 1)}"
