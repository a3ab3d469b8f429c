"""Province folders for the oracle harness, cheap per scenario, and a commune typing into them.

Provisioning is the expensive part of a scenario (about 0.1 s on the xlsx folder, 1 s on the
fake Google), so each (backend, campaign start, calendar) is provisioned once, for the longest
campaign a scenario draws, and every scenario gets a copy: the folder by ``copytree`` (file
times kept, so the ledger's stamps still match) and, on Google, the fake's files restored from a
snapshot taken right after provisioning. The scenario then shortens ``[campaign] end``, sets
the monthly due day or drops the monthly template; rows provisioned beyond a shortened end are
periods a commune may still type into, and must not be expected.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from conftest import KEEP, VirtualClock, run, set_phases, trim_registry
from oracle import VN, Report
from toolkit.backends import xlsx_patch
from toolkit.backends.google import http as google_http
from toolkit.backends.google.fake import CellRejected, FakeClock, FakeGoogle
from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW, a1, period_key_of

DAILY = Report("kts_daily", "daily", (("new_shops", "int"), ("new_accounts", "int"),
                                      ("orders", "int"), ("note", "text")),
               ("new_shops", "new_accounts"))
MONTHLY = Report("cds_monthly", "monthly", (("public_service_guided", "int"),
                                            ("vneid_activations", "int"),
                                            ("digital_signatures", "int"), ("note", "text")),
                 ("public_service_guided", "vneid_activations"), due_day=26)
TABS = {"kts_daily": "Báo cáo ngày", "cds_monthly": "Báo cáo tháng"}
HEADER_OF = {
    "kts_daily": {"new_shops": "Số cửa hàng số mở mới",
                  "new_accounts": "Số tài khoản thanh toán điện tử mở mới",
                  "orders": "Số đơn hàng", "note": "Ghi chú"},
    "cds_monthly": {"public_service_guided": "Số người được hướng dẫn dùng dịch vụ công trực "
                                             "tuyến",
                    "vneid_activations": "Số tài khoản VNeID được kích hoạt",
                    "digital_signatures": "Số chữ ký số cấp mới", "note": "Ghi chú"},
}
#: The communes of the conftest registry that have households (so no rule about households
#: can fire on the small figures typed here).
COMMUNES = tuple(code for code, row in KEEP.items() if row["households"])
LONGEST = 4          # days: every base is provisioned for this campaign length
BATCH_GET = "sheets.spreadsheets.values.batchGet"


def vn(moment: datetime | str) -> datetime:
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment.replace(tzinfo=VN) if moment.tzinfo is None else moment.astimezone(VN)


def now_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


@dataclass
class Base:
    folder: Path
    rows: dict[str, dict[str, int]]            # report → period → sheet row
    columns: dict[str, dict[str, int]]         # report → field → column
    locators: dict[str, str]                   # commune → spreadsheet id (Google)
    #: The fake's files, spreadsheets and drives, pickled: unpickling a copy for each scenario
    #: is six times cheaper than deep-copying them.
    snapshot: bytes = b""


@dataclass
class Province:
    """One scenario's copy of a base."""

    config: Path
    base: Base
    pending: dict[str, tuple[datetime, list]] = field(default_factory=dict)   # xlsx edits

    @property
    def archive(self) -> Path:
        return self.config.parent / "archive"


class Bench:
    """Bases per (start, calendar) on one backend; on Google one fake for all of them."""

    def __init__(self, root: Path, backend: str):
        self.root, self.backend = root, backend
        self.bases: dict[tuple[date, str], Base] = {}
        self.count = 0
        self.fake = self._routing = None
        if backend == "gsheets":
            self.fake = FakeGoogle(seed=2026, clock=FakeClock(vn("2026-01-01 07:00"),
                                                              frozen=True),
                                   locale="vi_VN", time_zone="Asia/Ho_Chi_Minh").start()
            self._routing = self.fake.patch_google_auth()
            self._routing.__enter__()
            # The pacer waits out its quota on a virtual clock: no real sleeps (a tenth of
            # the scenarios' time went there).
            clock = VirtualClock()
            self._pacing = pytest.MonkeyPatch()
            self._pacing.setattr(google_http, "Pacer", functools.partial(
                google_http.Pacer, clock=clock.seconds, sleep=clock.sleep))
            self.key = json.dumps(self.fake.service_account_info(
                "bao-cao@lang-son.iam.gserviceaccount.com"))

    def close(self) -> None:
        if self.fake is not None:
            self._pacing.undo()
            self._routing.__exit__(None, None, None)
            self.fake.stop()

    # -- bases --------------------------------------------------------------------------------

    def base(self, start: date, calendar: str) -> Base:
        if (start, calendar) not in self.bases:
            self.bases[start, calendar] = self._provision(start, calendar)
        return self.bases[start, calendar]

    def _provision(self, start: date, calendar: str) -> Base:
        folder = self.root / f"base-{self.backend}-{start}-{calendar}"
        at = f"{start - timedelta(days=3)} 08:00"
        assert run("init", str(folder), "--province", "lang son", now=at).exit_code == 0
        trim_registry(folder / "registry.xlsx", COMMUNES)
        templates = folder / "sheet_templates"
        for name in ("team_roster.toml", "committee_roster.toml", "bcd_quarterly.toml"):
            (templates / name).unlink()
        daily = templates / "kts_daily.toml"
        daily.write_text(daily.read_text(encoding="utf-8").replace(
            'period = "daily"', f'period = "daily"\ncalendar = "{calendar}"'), encoding="utf-8")
        config = folder / "toolkit.toml"
        text = _campaign(config.read_text(encoding="utf-8"), start,
                         start + timedelta(days=LONGEST - 1))
        if self.fake is not None:
            self.fake.clock.set(vn(at))
            drive_folder = self.fake.add_shared_drive_folder(f"Báo cáo xã {start} {calendar}")
            key = folder / "google-key.json"
            key.write_text(self.key, encoding="utf-8")
            key.chmod(0o600)
            text = text.replace('kind = "xlsx"', 'kind = "gsheets"').replace(
                "[paths]", f'[google]\ncredentials = "google-key.json"\nfolder_id = '
                f'"{drive_folder}"\nreads_per_minute = 6000\nwrites_per_minute = 6000\n\n'
                "[paths]", 1)
        config.write_text(text, encoding="utf-8")
        result = run("provision", config=config, now=at)
        assert result.exit_code == 0, result.output
        if self.fake is None:
            return Base(folder, *_xlsx_layout(folder), {})
        from toolkit.ledger import Ledger

        ledger = Ledger(folder / "ledger.sqlite")
        locators = {code: w.locator for code, w in ledger.workbooks().items()}
        ledger.close()
        rows, columns = _google_layout(self.fake, locators[COMMUNES[0]])
        mine = {drive_folder} | {f.id for f in self.fake.files.values()
                                 if drive_folder in f.parents}
        drive_id = self.fake.files[drive_folder].drive_id
        snapshot = pickle.dumps((
            {i: self.fake.files[i] for i in mine},
            {i: s for i, s in self.fake.spreadsheets.items() if i in mine},
            {drive_id: self.fake.drives[drive_id]}), protocol=pickle.HIGHEST_PROTOCOL)
        return Base(folder, rows, columns, locators, snapshot)

    # -- a scenario's province ---------------------------------------------------------------

    def province(self, start: date, end: date, calendar: str, due_day: int,
                 lag_minutes: int = 0, phases: tuple = ()) -> Province:
        base = self.base(start, calendar)
        self.count += 1
        folder = self.root / f"scenario-{self.count}"
        shutil.copytree(base.folder, folder)
        if phases:
            set_phases(folder / "registry.xlsx", phases)
        config = folder / "toolkit.toml"
        config.write_text(_campaign(config.read_text(encoding="utf-8"), start, end),
                          encoding="utf-8")
        monthly = folder / "sheet_templates" / "cds_monthly.toml"
        if due_day:
            monthly.write_text(monthly.read_text(encoding="utf-8").replace(
                "due_day = 26", f"due_day = {due_day}"), encoding="utf-8")
        else:
            monthly.unlink()
        if self.fake is not None:
            files, sheets, drives = pickle.loads(base.snapshot)
            with self.fake.lock:
                self.fake.files, self.fake.spreadsheets, self.fake.drives = files, sheets, drives
                self.fake.requests.clear()
                self.fake.list_lag = timedelta(minutes=lag_minutes)
        return Province(config, base)

    def discard(self, province: Province) -> None:
        shutil.rmtree(province.config.parent, ignore_errors=True)

    # -- a commune at its workbook ------------------------------------------------------------

    def type(self, province: Province, code: str, report: str, period: str, values: dict,
             at: datetime) -> dict | None:
        """Type ``values`` (field → value, None clears) into the period's row at ``at``.

        Returns what the sheet kept (Google refuses "12a" in a number cell), or None when the
        workbook has no row for that period. On xlsx the edits are saved together, stamped
        with the last one's time, when the next sweep comes (``flush``): a file shows a
        sweep only its last save anyway.
        """
        row = province.base.rows[report].get(period)
        if row is None:
            return None
        columns = province.base.columns[report]
        if self.fake is None:
            edits = province.pending.setdefault(code, (at, []))[1]
            edits += [(TABS[report], row, columns[k], v) for k, v in values.items()]
            province.pending[code] = (at, edits)
            return dict(values)
        self.fake.clock.set(at)
        sid = province.base.locators[code]
        kept = {}
        for key, value in values.items():
            where = f"'{TABS[report]}'!{a1(row, columns[key])}"
            try:
                self.fake.type(sid, where, value, as_user=f"xa{code}@example.gov.vn")
            except CellRejected:
                continue
            kept[key] = value
        return kept

    def flush(self, province: Province) -> None:
        for code, (at, edits) in province.pending.items():
            (path,) = (province.config.parent / "workbooks").glob(f"{code} *.xlsx")
            data = path.read_bytes()
            for tab, row, column, value in edits:      # into the sheet's XML, as the demo types
                data = data and xlsx_patch.typed(data, tab, {a1(row, column): value})
            if data:
                path.write_bytes(data)
            else:                                       # a cell not in the XML: openpyxl types
                book = load_workbook(path)
                for tab, row, column, value in edits:
                    cell = book[tab].cell(row, column)
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"
                book.save(path)
            os.utime(path, (at.timestamp(), at.timestamp()))
        province.pending.clear()

    def clock(self, at: datetime) -> None:
        if self.fake is not None:
            self.fake.clock.set(at)

    def mark(self) -> int:
        return len(self.fake.requests) if self.fake is not None else 0

    def fetched(self, province: Province, since: int) -> set[str]:
        """Communes whose spreadsheet a values.batchGet read after request ``since``."""
        by_id = {sid: code for code, sid in province.base.locators.items()}
        return {by_id[sid] for r in self.fake.requests[since:] if r.method_id == BATCH_GET
                for sid in by_id if sid in r.path}


def archive_labels(path: Path) -> dict[str, str]:
    """Mã xã → Tình trạng báo cáo on the archive's Tổng hợp sheet, as calamine (not the
    toolkit's writer, nor openpyxl, which took 26 ms an archive against 0.7 ms) reads it;
    an empty cell reads None."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Tổng hợp").to_python()
    rows = [[None if v == "" else v for v in r] for r in rows]
    at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã xã")
    header, rows = list(rows[at]), rows[at + 1:]
    code, label = header.index("Mã xã"), header.index("Tình trạng báo cáo")
    return {r[code]: r[label] for r in rows if r and r[code] and r[code] != "Mã xã"}


def _campaign(text: str, start: date, end: date) -> str:
    lines = text.splitlines()
    at = lines.index("[campaign]")
    for i in range(at + 1, len(lines)):
        if lines[i].startswith("start = "):
            lines[i] = f"start = {start}"
        elif lines[i].startswith("end = "):
            lines[i] = f"end = {end}"
            break
    return "\n".join(lines) + "\n"


def _layout(grids: dict[str, list]) -> tuple[dict, dict]:
    rows, columns = {}, {}
    for report, grid in grids.items():
        header = list(grid[HEADER_ROW - 1])
        columns[report] = {k: header.index(h) + 1 for k, h in HEADER_OF[report].items()}
        rows[report] = {}
        for number, cells in enumerate(grid[FIRST_DATA_ROW - 1:], FIRST_DATA_ROW):
            key = period_key_of(cells[0]) if cells else None
            if key:
                rows[report][key] = number
    return rows, columns


def _xlsx_layout(folder: Path) -> tuple[dict, dict]:
    (path,) = (folder / "workbooks").glob(f"{COMMUNES[0]} *.xlsx")
    book = load_workbook(path, read_only=True)
    try:
        return _layout({r: [list(x) for x in book[t].iter_rows(values_only=True)]
                        for r, t in TABS.items()})
    finally:
        book.close()


def _google_layout(fake, sid: str) -> tuple[dict, dict]:
    return _layout({r: fake.values(sid, f"'{t}'!A1:Z100") for r, t in TABS.items()})
