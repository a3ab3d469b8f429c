"""A commune officer saving their workbook, run as a separate process by test_clobber_race.

Reads one command a line on stdin and answers on stdout:

- ``load``: open the workbook as it is on disk now (Excel's File → Open); answers ``loaded``.
- ``save VALUE ROW COLUMN DELAY MODE``: after DELAY seconds, type VALUE into the report tab's
  cell and save, the file's mtime set to the real save time. MODE ``inplace`` rewrites the
  file where it is (LibreOffice, openpyxl); ``rename`` writes a temporary file and renames it
  over the workbook (Excel). Answers ``saved VALUE ROW COLUMN START_NS END_NS MODE``.
- ``quit``.

Every wait is bounded, so a broken test ends instead of hanging.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from openpyxl import load_workbook

TAB = "Báo cáo ngày"


def load(path: Path):
    """The workbook as on disk; the name can be free for an instant while the toolkit swaps
    files (a person's Excel would show the folder a moment later)."""
    for _ in range(400):
        try:
            return load_workbook(path)
        except FileNotFoundError:
            time.sleep(0.005)
    raise SystemExit(f"{path} never came back")


def save(book, path: Path, mode: str) -> tuple[int, int]:
    start = time.time_ns()
    if mode == "rename":
        temp = path.with_name(f"~W{os.getpid()}.tmp")
        book.save(temp)
        stamp = time.time_ns()
        os.utime(temp, ns=(stamp, stamp))
        os.replace(temp, path)
    else:
        with open(path, "wb") as file:
            book.save(file)
            file.flush()
            stamp = time.time_ns()
            os.utime(file.fileno(), ns=(stamp, stamp))
    return start, time.time_ns()


def main(path: Path) -> None:
    book = None
    for line in sys.stdin:
        command, *args = line.split()
        if command == "quit":
            break
        if command == "load":
            book = load(path)
            print("loaded", flush=True)
        elif command == "save":
            value, row, column, delay, mode = int(args[0]), int(args[1]), int(args[2]), \
                float(args[3]), args[4]
            time.sleep(delay)
            if book is None:
                book = load(path)
            book[TAB].cell(row, column).value = value
            start, end = save(book, path, mode)
            book = None
            print("saved", value, row, column, start, end, mode, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
