"""A province folder pointed at the fake Google, and its commune staff typing into their sheets.

`toolkit demo --backend gsheets` and the tests' Google desk set up the same thing, so it is
made here once: the fake as a Vietnamese office meets Google, a Drive folder for the commune
workbooks, the province rollup spreadsheet, a key file for the province's account, and the
``[google]`` settings in toolkit.toml that name them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW, a1

from .clock import FakeClock
from .fake import FakeGoogle
from .person import CellRejected
from .values import serial


@dataclass(frozen=True)
class FakeProvince:
    """What ``connect_province`` made on the fake and wrote into toolkit.toml."""

    folder_id: str
    rollup_id: str
    credentials: Path
    account: str


def vietnamese_google(start: datetime, seed: int = 2026) -> FakeGoogle:
    """A started fake whose new spreadsheets are in vi_VN and Asia/Ho_Chi_Minh, its clock
    frozen at ``start``: only whoever drives it (a test, the demo's pacer) moves time."""
    return FakeGoogle(seed=seed, clock=FakeClock(start, frozen=True), locale="vi_VN",
                      time_zone="Asia/Ho_Chi_Minh").start()


def connect_province(fake: FakeGoogle, config_path: Path, credentials: dict, *,
                     per_minute: int = 60) -> FakeProvince:
    """Switch an initialised toolkit.toml (``toolkit init``'s xlsx one) to Google Sheets on
    ``fake``, signed in with ``credentials`` (a key file's contents).

    A service account owns no files, so its workbooks go into a Shared Drive folder; a person
    (an ``authorized_user`` token, what `toolkit auth login` saves) uses a folder of their own
    Drive. ``per_minute`` is the reads and writes quota the pacer keeps under.
    """
    text = config_path.read_text(encoding="utf-8")
    province = tomllib.loads(text)["province"]["name"]
    service = credentials.get("type") == "service_account"
    account = credentials["client_email"] if service else credentials["account"]
    name = f"Báo cáo xã {province}"
    folder = (fake.add_shared_drive_folder(name) if service
              else fake.add_folder(name, owner=account))
    rollup = fake.create_spreadsheet(f"Tổng hợp tỉnh {province}", parent=folder,
                                     owner=None if service else account)
    key = config_path.parent / ("google-key.json" if service else "authorized_user.json")
    key.write_text(json.dumps(credentials), encoding="utf-8")
    key.chmod(0o600)
    text = text.replace('kind = "xlsx"', 'kind = "gsheets"')
    text = text.replace("[paths]", f'''[google]
credentials = "{key.name}"
folder_id = "{folder}"
rollup_spreadsheet_id = "{rollup}"
reads_per_minute = {per_minute}
writes_per_minute = {per_minute}

[paths]''', 1)
    config_path.write_text(text, encoding="utf-8")
    return FakeProvince(folder, rollup, key, account)


def type_row(fake: FakeGoogle, spreadsheet_id: str, tab: str, first_cell, values: dict, *,
             as_user: str, served: str | None = None) -> list[str]:
    """Type ``values`` (header → what the person types) into the row of ``tab`` whose first
    cell is ``first_cell`` (a date is found by its serial; None: the first empty row) and, on
    an enterprise's tab, whose second cell is the commune ``served``, one cell at a time as
    ``as_user`` in the Sheets UI. Returns the headers whose entry the sheet refused (a strict
    validation, a protected cell): those cells are left as they were.
    """
    rows = fake.values(spreadsheet_id, f"'{tab}'!A1:Z1000")
    headers = {h: i for i, h in enumerate(rows[HEADER_ROW - 1]) if h}
    wanted = serial(first_cell) if isinstance(first_cell, date) else first_cell
    index = next((i for i, row in enumerate(rows[FIRST_DATA_ROW - 1:], FIRST_DATA_ROW - 1)
                  if ((row[0] if row else None) == wanted
                      and (served is None or (row[1] if len(row) > 1 else None) == served))
                  or (first_cell is None and not (row and row[0]))), len(rows))
    refused = []
    for header, value in values.items():
        try:
            fake.type(spreadsheet_id, f"'{tab}'!{a1(index + 1, headers[header] + 1)}", value,
                      as_user=as_user)
        except CellRejected:
            refused.append(header)
    return refused
