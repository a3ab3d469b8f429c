"""A commune officer saving their workbook, run as a separate process by test_clobber_race.

Reads one command a line on stdin and answers on stdout:

- ``load``: open the workbook as it is on disk now (Excel's File → Open); answers ``loaded``.
- ``save VALUE ROW COLUMN DELAY MODE``: after DELAY seconds, type VALUE into the report tab's
  cell and save the whole workbook, the file's mtime set to the real save time. MODE
  ``inplace`` rewrites the file where it is (LibreOffice, openpyxl); ``rename`` writes a
  temporary file and renames it over the workbook (Excel). Answers
  ``saved VALUE ROW COLUMN START_NS END_NS MODE``.
- ``quit``.

The workbook is held as the bytes opened and saved with the one cell changed in the sheet's
XML (openpyxl when the cell is not there yet): what reaches the disk is what a save writes —
a whole new workbook — at a hundredth of openpyxl's cost, so hundreds of races fit in a test.
Every wait is bounded, so a broken test ends instead of hanging.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

TAB = "Báo cáo ngày"


def load(path: Path) -> bytes:
    """The workbook as on disk; the name can be free for an instant while the toolkit swaps
    files (a person's Excel would show the folder a moment later)."""
    for _ in range(400):
        try:
            return path.read_bytes()
        except FileNotFoundError:
            time.sleep(0.005)
    raise SystemExit(f"{path} never came back")


def typed(data: bytes, row: int, column: int, value: int) -> bytes:
    """The workbook ``data`` with ``value`` typed into the report tab's cell."""
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = _sheet_part(source)
    ref = f"{get_column_letter(column)}{row}"
    xml = source.read(sheet).decode("utf-8")
    cell = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)\s*(?:/>|>.*?</c>)', re.DOTALL)
    found = cell.search(xml)
    if found is None:                       # not written yet: let openpyxl add it
        book = load_workbook(io.BytesIO(data))
        book[TAB].cell(row, column).value = value
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    attrs = re.sub(r'\s+t="[^"]*"', "", found["attrs"])
    xml = f'{xml[:found.start()]}<c r="{ref}"{attrs} t="n"><v>{value}</v></c>{xml[found.end():]}'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = xml.encode("utf-8") if item.filename == sheet else source.read(item)
            target.writestr(item, body)
    return out.getvalue()


def _sheet_part(archive: zipfile.ZipFile) -> str:
    book = archive.read("xl/workbook.xml").decode("utf-8")
    rid = re.search(rf'<sheet name="{TAB}"[^>]*?r:id="([^"]+)"', book)[1]
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = re.search(rf'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="{rid}"', rels)[1]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def save(data: bytes, path: Path, mode: str) -> tuple[int, int]:
    start = time.time_ns()
    if mode == "rename":
        temp = path.with_name(f"~W{os.getpid()}.tmp")
        temp.write_bytes(data)
        stamp = time.time_ns()
        os.utime(temp, ns=(stamp, stamp))
        os.replace(temp, path)
    else:
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            stamp = time.time_ns()
            os.utime(file.fileno(), ns=(stamp, stamp))
    return start, time.time_ns()


def main(path: Path) -> None:
    opened = None
    for line in sys.stdin:
        command, *args = line.split()
        if command == "quit":
            break
        if command == "load":
            opened = load(path)
            print("loaded", flush=True)
        elif command == "save":
            value, row, column, delay, mode = int(args[0]), int(args[1]), int(args[2]), \
                float(args[3]), args[4]
            new = typed(opened if opened is not None else load(path), row, column, value)
            time.sleep(delay)
            start, end = save(new, path, mode)
            opened = None
            print("saved", value, row, column, start, end, mode, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
