"""The province office and its communes on either backend, seen the same way by the tests.

A desk runs the real CLI at a given moment and lets a commune officer type into their own
workbook: an .xlsx file opened with openpyxl on the embedded default, or a spreadsheet on the
fake Google (through the Sheets UI's rules: a strict validation or a protected cell refuses the
entry). The end-to-end scenarios are written once against this interface and run on both.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import run, type_row, workbook_of
from toolkit.backends.google.fake import province as fake_province
from toolkit.layout import TITLE_ROW
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ

#: The province's service account on the fake Google: an editor of every protected range.
PROVINCE_ACCOUNT = "bao-cao@lang-son.iam.gserviceaccount.com"


def vn(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=VN_TZ)


class XlsxDesk:
    """The embedded default: a folder of .xlsx workbooks beside the ledger."""

    kind = "xlsx"
    #: Excel lets a person type text into a number cell; Google's strict validation refuses it.
    refuses_bad_numbers = False

    def __init__(self, config: Path):
        self.config = config

    def run(self, *args: str, now: str):
        return run(*args, config=self.config, now=now)

    def type_row(self, code: str, tab: str, first_cell, values: dict, at: str) -> list[str]:
        type_row(self.config, code, tab, first_cell, values, at=at)
        return []

    def edit(self, code: str, tab: str, change, at: str) -> None:
        """Open the workbook in Excel, ``change(sheet)``, save at ``at``."""
        path = workbook_of(self.config, code)
        book = load_workbook(path)
        change(book[tab])
        book.save(path)
        stamp = vn(at).timestamp()
        os.utime(path, (stamp, stamp))

    def set_cells(self, code: str, tab: str, cells: dict[str, object], at: str) -> None:
        """Overwrite cells as they are (headers, period cells: Excel's sheet protection has no
        password, so a person can lift it)."""
        def change(sheet):
            for where, value in cells.items():
                sheet[where].value = value
        self.edit(code, tab, change, at)

    def insert_column(self, code: str, tab: str, column: int, at: str) -> None:
        self.edit(code, tab, lambda sheet: sheet.insert_cols(column), at)

    def delete_column(self, code: str, tab: str, column: int, at: str) -> None:
        self.edit(code, tab, lambda sheet: sheet.delete_cols(column), at)

    def paste(self, code: str, tab: str, where: str, rows: list[list], at: str) -> None:
        """Rows of values with their top-left cell at ``where`` ("" clears a cell)."""
        def change(sheet):
            top = sheet[where]
            for r, values in enumerate(rows, start=top.row):
                for c, value in enumerate(values, start=top.column):
                    sheet.cell(r, c).value = None if value == "" else value
        self.edit(code, tab, change, at)

    def tab_rows(self, code: str, tab: str, first_row: int = 1) -> list[tuple]:
        with self._reading(code) as book:
            rows = [tuple("" if v is None else v for v in row)
                    for row in book[tab].iter_rows(min_row=first_row, values_only=True)]
        width = max((len(r) for r in rows), default=0)       # as wide as GoogleDesk's
        return [r + ("",) * (width - len(r)) for r in rows]

    def title(self, code: str, tab: str) -> str:
        with self._reading(code) as book:
            rows = book[tab].iter_rows(min_row=TITLE_ROW, max_row=TITLE_ROW, max_col=1,
                                       values_only=True)
            return next(rows, (None,))[0] or ""

    def tabs(self, code: str) -> list[str]:
        with self._reading(code) as book:
            return book.sheetnames

    @contextmanager
    def _reading(self, code: str):
        """The commune's workbook opened to read (openpyxl's read-only mode parses only the
        tab asked for: a whole workbook loaded per look was a second of the suite's time)."""
        book = load_workbook(workbook_of(self.config, code), read_only=True)
        try:
            yield book
        finally:
            book.close()

    def close(self) -> None:
        pass


class GoogleDesk:
    """Google Sheets on the loopback fake: the real gspread and google-auth, a Shared Drive
    folder, a service-account key file, and the fake's clock held at the CLI's ``--now``."""

    kind = "gsheets"
    refuses_bad_numbers = True

    def __init__(self, config: Path, start: str = "2026-11-20 07:00"):
        self.config = config
        self.fake = fake_province.vietnamese_google(vn(start))
        assert self.fake.validating, "google-api-python-client is missing: pip install '.[test]'"
        self._routing = self.fake.patch_google_auth()
        self._routing.__enter__()
        # Quotas far above what a test sends; the pacer waits on a virtual clock (conftest).
        made = fake_province.connect_province(
            self.fake, config, self.fake.service_account_info(PROVINCE_ACCOUNT), per_minute=6000)
        self.rollup_id = made.rollup_id

    def run(self, *args: str, now: str):
        self.fake.clock.set(vn(now))
        return run(*args, config=self.config, now=now)

    def spreadsheet_id(self, code: str) -> str:
        ledger = Ledger(self.config.parent / "ledger.sqlite")
        try:
            return ledger.workbooks()[code].locator
        finally:
            ledger.close()

    def type_row(self, code: str, tab: str, first_cell, values: dict, at: str) -> list[str]:
        """Type into the row whose first cell matches, as the commune's editor, at ``at``.

        Returns the headers whose entry the sheet refused."""
        self.fake.clock.set(vn(at))
        return fake_province.type_row(self.fake, self.spreadsheet_id(code), tab, first_cell,
                                      values, as_user=f"xa{code}@example.gov.vn")

    def set_cells(self, code: str, tab: str, cells: dict[str, object], at: str) -> None:
        """Overwrite cells; headers and period cells are protected, so as the province account
        (a commune cannot)."""
        self.fake.clock.set(vn(at))
        for where, value in cells.items():
            self.fake.type(self.spreadsheet_id(code), f"'{tab}'!{where}", value,
                           as_user=PROVINCE_ACCOUNT)

    def _dimension(self, code: str, tab: str, kind: str, column: int, at: str) -> None:
        self.fake.clock.set(vn(at))
        sid = self.spreadsheet_id(code)
        sheet_id = self.fake.spreadsheet(sid).by_title(tab).sheet_id
        self.fake.edit(sid, [{kind: {"range": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                               "startIndex": column - 1,
                                               "endIndex": column}}}])

    def insert_column(self, code: str, tab: str, column: int, at: str) -> None:
        self._dimension(code, tab, "insertDimension", column, at)

    def delete_column(self, code: str, tab: str, column: int, at: str) -> None:
        self._dimension(code, tab, "deleteDimension", column, at)

    def paste(self, code: str, tab: str, where: str, rows: list[list], at: str) -> None:
        """Rows of values pasted by the commune's editor at ``where`` ("" clears a cell)."""
        self.fake.clock.set(vn(at))
        self.fake.paste(self.spreadsheet_id(code), f"'{tab}'!{where}", rows,
                        as_user=f"xa{code}@example.gov.vn")

    def tab_rows(self, code: str, tab: str, first_row: int = 1) -> list[tuple]:
        rows = self.fake.values(self.spreadsheet_id(code), f"'{tab}'!A{first_row}:Z1000",
                                render="FORMATTED_VALUE")
        width = max((len(r) for r in rows), default=0)
        return [tuple(r) + ("",) * (width - len(r)) for r in rows]

    def title(self, code: str, tab: str) -> str:
        rows = self.fake.values(self.spreadsheet_id(code), f"'{tab}'!A{TITLE_ROW}")
        return rows[0][0] if rows and rows[0] else ""

    def tabs(self, code: str) -> list[str]:
        return [s.title for s in self.fake.spreadsheet(self.spreadsheet_id(code)).sheets]

    def close(self) -> None:
        self._routing.__exit__(None, None, None)
        self.fake.stop()


def make_desk(kind: str, config: Path):
    return XlsxDesk(config) if kind == "xlsx" else GoogleDesk(config)


@pytest.fixture(params=["xlsx", "gsheets"])
def desk(request):
    """The `province` folder on each backend in turn; for a test marked ``provisioned``, as
    `toolkit provision` left it at 08:00 on 20/11/2026. On xlsx that is a copy of conftest's
    ``provisioned_once`` (provisioning four workbooks costs half a second, the same each
    time); on Google it is run here, on the test's own fake."""
    provisioned = request.node.get_closest_marker("provisioned") is not None
    if request.param == "xlsx" and provisioned:
        made = make_desk("xlsx", request.getfixturevalue("provisioned"))
    else:
        made = make_desk(request.param, request.getfixturevalue("province"))
    try:
        if provisioned and made.kind == "gsheets":
            result = made.run("provision", now="2026-11-20 08:00")
            assert result.exit_code == 0, result.output
        yield made
    finally:
        made.close()
