"""Vietnamese text on any console: never an encoding traceback, as faithful as the stream allows.

A Windows console or redirection may use a legacy code page (cp1252, cp1258, cp437…) that
cannot hold every Vietnamese letter:
- output redirected to a file or a pipe (``> status.txt``, ``| clip``) with no encoding asked
  for is switched to UTF-8, and documents meant for people (tables, CSV) start with a BOM,
  which Notepad and Excel need to read UTF-8 as such;
- a console, or an encoding asked for explicitly (``PYTHONIOENCODING``), keeps its encoding and
  each letter it lacks is written as close as it can: composed from a base letter and the
  code page's combining marks (cp1258), else without its marks ("ế" → "e"), else "?".
"""

from __future__ import annotations

import codecs
import os
import sys
import unicodedata

ERRORS = "toolkit-vietnamese"
_SIMILAR = {"đ": "d", "Đ": "D", "→": "->", "←": "<-", "…": "...", "—": "-", "–": "-",
            "✓": "v", "✗": "x", "·": ".", "«": '"', "»": '"', "“": '"', "”": '"',
            "‘": "'", "’": "'", "\ufeff": ""}
#: Streams switched to UTF-8 here, which still owe the reader a BOM before their first text.
_bom_owed: set[int] = set()


def handler(encoding: str) -> str:
    """The name of a codec error handler that writes, for each letter ``encoding`` lacks, the
    nearest text it can hold. (Per encoding: charmap codecs report "charmap", not their name.)"""
    name = f"{ERRORS}-{codecs.lookup(encoding).name}"

    def closest(exc: UnicodeEncodeError) -> tuple[str, int]:
        text = exc.object[exc.start:exc.end]
        return "".join(_closest_char(c, encoding) for c in text), exc.end

    codecs.register_error(name, closest)
    return name


def _closest_char(char: str, encoding: str) -> str:
    base, *marks = unicodedata.normalize("NFD", char)
    for kept in range(len(marks), -1, -1):
        candidate = unicodedata.normalize("NFC", base + "".join(marks[:kept])) + \
            "".join(marks[kept:])
        if _fits(candidate, encoding):
            return candidate
    for kept in range(len(marks) - 1, 0, -1):      # "ế" → "ê" where "ê" exists
        candidate = unicodedata.normalize("NFC", base + "".join(marks[:kept]))
        if _fits(candidate, encoding):
            return candidate
    for candidate in (_SIMILAR.get(char), _SIMILAR.get(base), base):
        if candidate is not None and _fits(candidate, encoding):
            return candidate
    return "?"


def _fits(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def prepare(stream) -> None:
    """Make ``stream`` (sys.stdout or sys.stderr) safe for Vietnamese; see the module doc."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    if not hasattr(stream, "reconfigure") or encoding.startswith("utf"):
        return
    try:
        console = stream.isatty()
    except (ValueError, OSError):
        console = False
    if not console and not os.environ.get("PYTHONIOENCODING"):
        stream.reconfigure(encoding="utf-8", errors="replace")
        _bom_owed.add(id(stream))
    else:
        stream.reconfigure(errors=handler(stream.encoding))


def prepare_all() -> None:
    prepare(sys.stdout)
    prepare(sys.stderr)


def bom(stream=None) -> str:
    """"\\ufeff" once for a stream switched to UTF-8 here (a file Notepad will open), else ""."""
    stream = stream or sys.stdout
    if id(stream) in _bom_owed:
        _bom_owed.discard(id(stream))
        return "\ufeff"
    return ""


def started(stream=None) -> None:
    """Something was already written: a BOM now would sit mid-file."""
    _bom_owed.discard(id(stream or sys.stdout))
