"""toolkit.excel.workbook_bytes: the same package ``Workbook.save`` writes, part for part, for
the workbooks the toolkit builds (an archive with charts, frozen panes, print setup and a
custom property; a commune's workbook as provision builds it), without a temporary file."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet import _writer

from toolkit.excel import workbook_bytes
from toolkit.periods import VN_TZ
from toolkit.workspace import open_workspace


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        return {name: package.read(name) for name in package.namelist()}


def _same_parts(build) -> None:
    """``build()`` twice (openpyxl's writer changes a sheet as it saves it), saved both ways."""
    saved = io.BytesIO()
    build().save(saved)
    theirs, ours = _parts(saved.getvalue()), _parts(workbook_bytes(build()))
    assert list(ours) == list(theirs)
    # core.xml holds the second of the save.
    assert {n: b for n, b in ours.items() if n != "docProps/core.xml"} == \
        {n: b for n, b in theirs.items() if n != "docProps/core.xml"}


def test_an_archive_and_a_communes_workbook_are_the_parts_openpyxl_saves(provisioned):
    from toolkit.archive import archive_tables
    from toolkit.archive_xlsx import write_book
    from toolkit.daily import run_daily

    ws = open_workspace(provisioned)
    try:
        result = run_daily(ws, now=datetime(2026, 11, 20, 16, 0, tzinfo=VN_TZ))
        tables = archive_tables(result.rollups[0], workbooks_read=4)
    finally:
        ws.close()
    archive = provisioned.parent / "archive.xlsx"
    write_book(tables, ("Báo cáo", "đến 16:00"), archive, stamp="3|x")
    assert any(n.startswith("xl/charts/") for n in _parts(archive.read_bytes()))
    _same_parts(lambda: load_workbook(archive))
    (workbook,) = sorted((provisioned.parent / "workbooks").glob("06040 *.xlsx"))
    _same_parts(lambda: load_workbook(workbook))


def test_no_temporary_file_is_left_or_made():
    made = []
    before = _writer.create_temporary_file

    def counted(*args, **kwargs):
        made.append(before(*args, **kwargs))
        return made[-1]

    book = Workbook()
    book.active["A1"] = "Xã Kiên Mộc"
    book.create_sheet("Kiểm tra")["B2"] = 3
    _writer.create_temporary_file = counted
    try:
        data = workbook_bytes(book)
    finally:
        _writer.create_temporary_file = before
    assert made == []
    again = load_workbook(io.BytesIO(data))
    assert again.sheetnames == ["Sheet", "Kiểm tra"]
    assert again["Sheet"]["A1"].value == "Xã Kiên Mộc" and again["Kiểm tra"]["B2"].value == 3
