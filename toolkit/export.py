"""``--output FILE.xlsx``: a command's table as an Excel workbook an officer can filter and send.

Codes, phone numbers and every other text stay text (a leading 0 is kept, nothing typed is
ever a formula); numbers stay numbers; moments are Excel dates in Vietnam time.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from toolkit.errors import ToolkitError

Sheet = tuple[str, list[str], list[list]]    # (title, headers, rows)


def check_xlsx_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ToolkitError(f"--output {path}: hãy đặt tên tệp kết thúc bằng .xlsx "
                           f"(ví dụ {path.with_suffix('.xlsx').name})")
    return path


def write_xlsx(path: str | Path, sheets: list[Sheet]) -> Path:
    from openpyxl import Workbook

    from toolkit.excel import fit_columns, put, save_atomically, style_header

    path = check_xlsx_path(path)
    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(headers)
        style_header(sheet[1])
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(r, c)
                put(cell, value)
                if isinstance(value, str):
                    cell.number_format = "@"
                elif isinstance(value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(value, float) and 0 <= value <= 1 and "Tỷ lệ" in headers[c - 1]:
                    cell.number_format = "0%"
        sheet.freeze_panes = "A2"
        if rows:
            sheet.auto_filter.ref = sheet.dimensions
        fit_columns(sheet)
    save_atomically(book, path)
    return path
