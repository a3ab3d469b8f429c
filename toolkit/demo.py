"""demo: a whole reporting stretch on the embedded default, with simulated commune staff.

Builds a province from the official list, provisions the workbooks, then for each simulated day
lets commune staff type into their workbooks at realistic times — most before 17:00, some late,
some never, a few typos — and runs ``daily`` at 15:00, 17:00 and 20:00 through the injected
clock. It ends by checking that the archive's totals equal what the simulation typed.

``backend="gsheets"`` plays the same days on Google Sheets without a Google account: the fake
Google (``toolkit.backends.google.fake``) serves Sheets and Drive on 127.0.0.1 for the run, and
each step says what it cost in requests (``toolkit.demo_google``).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW, a1
from toolkit.parse import format_vn_number
from toolkit.periods import VN_TZ

DEMO_MARK = "# toolkit demo"
SWEEPS = (time(15, 0), time(17, 0), time(20, 0))
DAILY_TAB = "Báo cáo ngày"
#: The postal enterprises' tab (template buu_chinh_daily) and the file of its archive.
POSTAL_KEY, POSTAL_TAB = "buu_chinh_daily", "Báo cáo bưu chính"
SHOPS, ACCOUNTS = "Số cửa hàng số mở mới", "Số tài khoản thanh toán điện tử mở mới"
#: The figures the demo checks in the archive, by the header they are typed under.
COUNTED = {SHOPS: "new_shops", ACCOUNTS: "new_accounts"}
VILLAGE_NAMES = ("Nà Lầu", "Khuổi Phầy", "Bản Chắt", "Pác Lũng", "Nà Pàn", "Còn Nưa", "Làng Mới",
                 "Đồng Tâm", "Phai Xả", "Tân Hội", "Nà Slảng", "Bình An", "Kéo Coong", "Pò Mã")
FAMILY = ("Nguyễn", "Hoàng", "Lương", "Vi", "Nông", "Lâm", "Hà", "Triệu", "Lộc", "Đinh")
GIVEN = ("Văn An", "Thị Hoa", "Văn Bình", "Thị Lan", "Đức Minh", "Thị Mai", "Văn Tú", "Thu Hà")


@dataclass
class Entry:
    """What one commune types for one day, when, and the value that should count."""

    code: str
    day: date
    at: datetime
    cells: dict[str, object]        # header → what the person typed
    counted: dict[str, int]         # field → the row's value a correct parser counts after
    #                                 this entry (typos excluded); fields it leaves alone absent
    meant: dict[str, object] = field(default_factory=dict)   # header → the plain number a
    #                                 slip stood for: what the person types when refused
    tab: str = DAILY_TAB
    served: str | None = None       # an enterprise's row: the commune it is for


def type_into(path: Path, tab: str, period_cell_value, cells: dict[str, object],
              at: datetime, served: str | None = None) -> None:
    """Type values into the row of a period, as a person in Excel would, then save at ``at``;
    on an enterprise's tab (``served``) the period's row of that commune.

    The cells are found with calamine and written into the sheet's XML (``xlsx_patch.typed``),
    every other part kept: loading and saving each workbook with openpyxl was a third of the
    demo's time. openpyxl types them where that cannot (a cell not yet in the XML)."""
    import os

    from toolkit.backends import xlsx_calamine, xlsx_patch
    from toolkit.backends.base import Window

    data = path.read_bytes()
    read = xlsx_calamine.read_windows(data, {tab: Window(HEADER_ROW, len(cells) + 2)})
    new = None
    if read is not None and tab in read[0]:
        grid = read[0][tab]
        row = _period_row(path, tab, [tuple(r[:2]) for r in grid], period_cell_value, served)
        headers = {v: c for c, v in enumerate(grid[HEADER_ROW - 1], start=1) if v}
        new = xlsx_patch.typed(data, tab, {a1(row, headers[h]): v for h, v in cells.items()})
    if new is None:
        new = _typed_with_openpyxl(path, data, tab, period_cell_value, cells, served)
    path.write_bytes(new)
    os.utime(path, (at.timestamp(), at.timestamp()))


def _typed_with_openpyxl(path: Path, data: bytes, tab: str, period_cell_value,
                         cells: dict[str, object], served: str | None = None) -> bytes:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    sheet = book[tab]
    headers = {c.value: c.column for c in sheet[HEADER_ROW] if c.value}
    firsts = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value)
              for r in range(1, sheet.max_row + 1)]
    row = _period_row(path, tab, firsts, period_cell_value, served)
    for header, typed in cells.items():
        sheet.cell(row, headers[header]).value = typed
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _period_row(path: Path, tab: str, firsts: list[tuple], period_cell_value,
                served: str | None = None) -> int:
    """The row whose first cell holds the period (a date, or the period's text) and, on an
    enterprise's tab, whose second cell names the commune ``served``."""
    for row in range(FIRST_DATA_ROW, len(firsts) + 1):
        value, second = (tuple(firsts[row - 1]) + (None, None))[:2]
        if (value.date() if hasattr(value, "date") else value) == period_cell_value \
                and (served is None or second == served):
            return row
    raise ValueError(f"{path.name}: no row for {period_cell_value} {served or ''} in {tab}")


def simulate_day(registry, day: date, rng: random.Random, profiles: dict[str, str]) -> list[Entry]:
    """The communes' entries of the day: on time for most, late for some, never for a few,
    with typos."""
    entries: list[Entry] = []
    for commune in registry.communes:
        profile = profiles[commune.code]
        if commune.start and day < commune.start:
            continue                    # its phase has not begun: nothing to report yet
        if profile == "silent" or (profile == "erratic" and rng.random() < 0.5):
            continue
        if profile == "late" or (profile == "erratic" and rng.random() < 0.5):
            minute = rng.randint(17 * 60 + 5, 19 * 60 + 30)
        else:
            minute = rng.randint(8 * 60, 16 * 60 + 50)
        at = datetime.combine(day, time(minute // 60, minute % 60), VN_TZ)
        shops, accounts = rng.randint(0, 25), rng.randint(0, 40)
        orders = rng.randint(0, 60)
        cells: dict[str, object] = {
            SHOPS: shops,
            ACCOUNTS: accounts,
            "Số hộ mới phát sinh giao dịch": rng.randint(0, 5),
            "Số đơn hàng": orders,
            "Sản lượng (kg)": round(orders * rng.uniform(1, 8), 1),
            "Doanh số (đồng)": orders * rng.choice((45_000, 60_000, 120_000)),
            "Người báo cáo": commune.contact_name or "Cán bộ văn hoá xã",
        }
        counted = {"new_shops": shops, "new_accounts": accounts}
        meant: dict[str, object] = {}
        slip = rng.random()
        if slip < 0.04:
            cells[SHOPS] = f"{shops}a"          # a typo: kept as an issue
            counted["new_shops"], meant[SHOPS] = 0, shops
        elif slip < 0.08:
            typed = f"{accounts:,}".replace(",", ".") + " tài khoản"   # unit typed along
            cells[ACCOUNTS], meant[ACCOUNTS] = typed, accounts
        elif slip < 0.10:
            revenue = cells["Doanh số (đồng)"]
            cells["Doanh số (đồng)"] = f"{revenue:,} đ".replace(",", ".")
            meant["Doanh số (đồng)"] = revenue
        elif slip < 0.12:
            del cells[ACCOUNTS]   # forgot a required field
            counted["new_accounts"] = 0
        entries.append(Entry(commune.code, day, at, cells, counted, meant))
        if profile == "punctual" and at.hour < 17 and rng.random() < 0.06:
            # Someone notices a mistake in the evening and corrects the day's figure: amended.
            fixed = at.replace(hour=rng.randint(18, 19), minute=rng.randint(0, 59))
            entries.append(Entry(commune.code, day, fixed, {SHOPS: shops + 1},
                                 {"new_shops": shops + 1}))
    return entries


#: When each enterprise types the day's rows (all of them, before the 17:00 deadline).
POSTAL_AT = {"VTP": time(16, 20), "BDT": time(16, 40)}
#: What the enterprise counts in the first commune Viettel Post serves beyond the commune's
#: own count, every day: the difference the archive's «Đối chiếu bưu chính» tab flags.
POSTAL_EXTRA_SHOPS = 15


def simulate_postal(registry, day: date, entries: list[Entry]) -> list[Entry]:
    """The enterprises' rows of the day: for each commune served, the shops, accounts and
    orders the commune itself reports that day (0 where it reports none) — they count the
    same shops — but in the first commune Viettel Post serves ``POSTAL_EXTRA_SHOPS`` more."""
    own: dict[str, dict] = {}
    for e in entries:           # a commune's first entry of the day: its later fix aside
        own.setdefault(e.code, {**e.cells, **e.meant})
    flagged = next((c.code for c in registry.communes if c.postal == "VTP"), None)
    out = []
    for commune in registry.communes:
        if commune.postal not in POSTAL_AT:
            continue
        typed = own.get(commune.code, {})
        cells = {header: int(typed.get(header) or 0)
                 for header in (SHOPS, ACCOUNTS, "Số đơn hàng")}
        if commune.code == flagged:
            cells[SHOPS] += POSTAL_EXTRA_SHOPS
        at = datetime.combine(day, POSTAL_AT[commune.postal], VN_TZ)
        out.append(Entry(commune.postal, day, at, cells, {}, tab=POSTAL_TAB,
                         served=commune.display_name))
    return out


def run_demo(folder: Path, *, province: str, days: int, seed: int, now: datetime,
             echo: Callable[[str], None], backend: str = "xlsx") -> dict:
    """Run the demo in ``folder`` on ``backend`` ("xlsx" or "gsheets"); returns the figures it
    checked (on gsheets also the fake Google, its request log and what each step cost)."""
    from toolkit.daily import run_daily
    from toolkit.provision import provision
    from toolkit.registry import load_registry
    from toolkit.workspace import init_province

    _prepare(folder)
    first = now.date() - timedelta(days=days)
    rng = random.Random(seed)
    result = init_province(folder, province, today=first, campaign_days=30)
    config_text = result.config_path.read_text(encoding="utf-8")
    result.config_path.write_text(f"{DEMO_MARK}\n{config_text}", encoding="utf-8")
    _fill_registry(result.registry_path, rng, phase_two=first + timedelta(days=1))
    echo(f"Tỉnh {result.province}: {result.communes} xã, phường tại {folder}")

    registry = load_registry(result.registry_path)
    profiles = {c.code: rng.choices(("punctual", "late", "silent", "erratic"),
                                    weights=(78, 10, 6, 6))[0] for c in registry.communes}
    setup_at = datetime.combine(first, time(7, 30), VN_TZ)
    office = _office(backend, result.config_path, setup_at, seed)
    try:
        with office.open() as ws:
            office.step("provision")
            planned = provision(ws.config, ws.registry, ws.specs, ws.store, ws.ledger,
                                now=setup_at)
            for line in office.provisioned(ws, len(planned.changed)):
                echo(line)
            for line in office.cost():
                echo(line)
            locators = {code: rec.locator for code, rec in ws.ledger.workbooks().items()}
            rows: dict[tuple[str, date], dict[str, int]] = {}
            last_day = first
            for offset in range(days):
                day = first + timedelta(days=offset)
                last_day = day
                typed = simulate_day(ws.registry, day, rng, profiles)
                pending = sorted(typed + simulate_postal(ws.registry, day, typed),
                                 key=lambda e: e.at)
                for sweep in SWEEPS:
                    run_at = datetime.combine(day, sweep, VN_TZ)
                    while pending and pending[0].at <= run_at:
                        entry = pending.pop(0)
                        counted = office.type(ws, locators[entry.code], entry)
                        rows.setdefault((entry.code, entry.day), {}).update(counted)
                    office.at(run_at)
                    daily = run_daily(ws, now=run_at, day=day, step=office.step)
                    kts = next(r for r in daily.rollups if r.spec.key == "kts_daily")
                    province_row = kts.areas.iloc[-1]
                    echo(f"{day:%d/%m} {sweep:%H:%M} daily: đọc {daily.collected.count('read')} "
                         f"sổ, đã báo cáo {province_row['reporting_rate']:.0%}, đúng hạn "
                         f"{province_row['on_time_rate']:.0%}, "
                         f"{int((daily.validated.issues['level'] == 'error').sum())} lỗi")
                    for line in office.cost():
                        echo(line)
            archive = next(p for p, r in zip(daily.archives, daily.rollups, strict=True)
                           if r.spec.key == "kts_daily")
            archived = _archive_totals(archive)
            postal = next(p for p, r in zip(daily.archives, daily.rollups, strict=True)
                          if r.spec.key == POSTAL_KEY)
            flagged = _flagged(postal)
        typed_total = {key: sum(row.get(key, 0) for row in rows.values())
                       for key in COUNTED.values()}
        ok = archived == typed_total
        echo("")
        echo(f"Tệp lưu trữ: {archive}")
        for key, label in (("new_shops", "cửa hàng số"), ("new_accounts",
                                                           "tài khoản thanh toán điện tử")):
            echo(f"  {label}: tệp lưu trữ {format_vn_number(archived[key])}, đã nhập "
                 f"{format_vn_number(typed_total[key])} "
                 f"{'✓' if archived[key] == typed_total[key] else '✗ KHÔNG KHỚP'}")
        echo(f"Đối chiếu bưu chính: {postal} — {len(flagged)} xã chênh lệch lớn giữa số liệu "
             "của xã và của doanh nghiệp bưu chính"
             + (f" ({flagged[0]})" if flagged else ""))
        shown = office.summary(archived)
        for line in shown.lines:
            echo(line)
        echo(f"Xem tình hình: toolkit status --config {result.config_path} --date {last_day} "
             f"--now '{last_day} 20:00'")
    finally:
        office.close()
    if not (ok and shown.ok):
        raise ToolkitError("tệp lưu trữ không khớp với số liệu mô phỏng đã nhập")
    return {"archive": archive, "typed": typed_total, "archived": archived,
            "postal_archive": postal, "flagged": flagged, **shown.data}


@dataclass(frozen=True)
class Shown:
    """What a backend adds to the demo's last lines, whether it checked out, and its data."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True
    data: dict = field(default_factory=dict)


class ExcelOffice:
    """The embedded default: commune staff type into their .xlsx files and save them."""

    def __init__(self, config_path: Path):
        self.config_path = config_path

    def open(self):
        from toolkit.workspace import open_workspace

        return open_workspace(self.config_path)

    def provisioned(self, ws, count: int) -> list[str]:
        return [f"Đã tạo {count} sổ báo cáo tại {ws.config.workbooks_dir}"]

    def type(self, ws, locator: str, entry: Entry) -> dict[str, int]:
        type_into(ws.store.path(locator), entry.tab, entry.day, entry.cells, entry.at,
                  entry.served)
        return entry.counted

    def at(self, moment: datetime) -> None:
        """A file's time is its save time: nothing to move."""

    def step(self, name: str) -> None:
        """Nothing to measure: a folder of files costs no requests."""

    def cost(self) -> list[str]:
        return []

    def summary(self, archived: dict[str, int]) -> Shown:
        return Shown()

    def close(self) -> None:
        pass


def _office(backend: str, config_path: Path, start: datetime, seed: int):
    if backend == "gsheets":
        from toolkit.demo_google import GoogleOffice

        return GoogleOffice(config_path, start, seed)
    return ExcelOffice(config_path)


def _prepare(folder: Path) -> None:
    config = folder / "toolkit.toml"
    if config.is_file() and config.read_text(encoding="utf-8").startswith(DEMO_MARK):
        shutil.rmtree(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise ToolkitError(f"{folder} không trống và không phải thư mục demo trước đó; "
                           "hãy chọn thư mục khác")


#: Every how many communes joins in phase 2, the demo's second day (the campaign of the
#: sources started in five districts, and everywhere two months later).
PHASE_TWO_EVERY = 5
#: Targets the demo's chairmen assigned (registry "Chỉ tiêu: …"): every seventh commune a
#: share of its households below the template's 50%, every eleventh a count of shops.
ASSIGNED_SHOPS = "Chỉ tiêu: Hộ có cửa hàng số"
ASSIGNED = {7: "40%", 11: 120}


#: The demo's postal enterprises (rows of «Doanh nghiệp bưu chính»); they take the communes in
#: turn, as the sources split them between Viettel Post and the provincial post office.
DEMO_ENTERPRISES = (
    ("VTP", "Chi nhánh Bưu chính Viettel", "Viettel Post", "buuchinh@viettelpost.example.vn",
     "Hoàng Mạnh Tuân", "0912000222"),
    ("BDT", "Bưu điện tỉnh", "Bưu điện", "kinhdoanh@buudien.example.vn", "Phạm Thị Xuân",
     "0912000333"),
)


def _fill_registry(path: Path, rng: random.Random, phase_two: date) -> None:
    """Fill households, villages, editors and contacts as a province officer would, the
    start of the communes that join in phase 2, the targets some were assigned, and the
    postal enterprise serving each."""
    from openpyxl import load_workbook

    from toolkit.postal import SHEET as POSTAL_SHEET

    book = load_workbook(path)
    for enterprise in DEMO_ENTERPRISES:
        book[POSTAL_SHEET].append(enterprise)
    sheet = book.active
    columns = {c.value: c.column for c in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        code = sheet.cell(row, columns["Mã xã"]).value
        villages = rng.sample(VILLAGE_NAMES, rng.randint(4, 9))
        households = rng.randint(900, 4200) if rng.random() > 0.03 else None
        values = {
            "Số hộ gia đình": households,
            "Thôn/bản (ngăn cách bằng ;)": "; ".join(f"Thôn {v}" for v in villages),
            "Email người nhập liệu (ngăn cách bằng ;)": f"vanthu.{code}@example.gov.vn",
            "Người liên hệ": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
            "Số điện thoại": f"09{rng.randint(10_000_000, 99_999_999)}",
        }
        if row % PHASE_TWO_EVERY == 0:
            values["Ngày bắt đầu"] = phase_two
        for every, target in ASSIGNED.items():
            if row % every == 0:
                values[ASSIGNED_SHOPS] = target
        if ASSIGNED_SHOPS not in columns:
            columns[ASSIGNED_SHOPS] = sheet.max_column + 1
            sheet.cell(1, columns[ASSIGNED_SHOPS]).value = ASSIGNED_SHOPS
        values["Doanh nghiệp bưu chính"] = DEMO_ENTERPRISES[row % 2][0]
        for header, value in values.items():
            sheet.cell(row, columns[header]).value = value
    book.save(path)


def _archive_totals(path: Path) -> dict[str, int]:
    """The province totals of the archive, as a person opening it would see them."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    book.close()
    return province_totals(rows, f"{path.name}: trang Tổng hợp")


def _flagged(path: Path) -> list[str]:
    """The communes the archive's «Đối chiếu bưu chính» tab flags, as "Xã …: what differs"."""
    from openpyxl import load_workbook

    from toolkit.postal import COMPARE_TAB, FLAG_HEADER

    book = load_workbook(path, read_only=True)
    rows = [r for r in book[COMPARE_TAB].iter_rows(values_only=True)
            if any(v is not None for v in r)]
    book.close()
    at = next(i for i, r in enumerate(rows) if FLAG_HEADER in r)
    header = rows[at]
    name, flag = header.index("Xã, phường"), header.index(FLAG_HEADER)
    return [f"{r[name]}: {r[flag]}" for r in rows[at + 1:] if r != header and r[flag]]


def province_totals(rows: list, where: str) -> dict[str, int]:
    """The Toàn tỉnh row of a Tổng hợp table (the archive's sheet, or the rollup
    spreadsheet's tab), which must be the sum of the communes below it."""
    from toolkit.dashboard import TOTAL_LABEL

    rows = [tuple(r) + (None,) * 2 for r in rows]
    at = next(i for i, r in enumerate(rows) if r[0] == "Mã xã")
    header = rows[at]
    body = [r for r in rows[at + 1:] if r != header]     # the archive repeats its header
    province = next(r for r in body if r[1] == TOTAL_LABEL)
    wanted = {"new_shops": f"{SHOPS} (lũy kế)", "new_accounts": f"{ACCOUNTS} (lũy kế)"}
    totals = {}
    for key, name in wanted.items():
        column = header.index(name)
        communes = sum(_cell(r, column) for r in body if r[0])
        total = _cell(province, column)
        if total != communes:
            raise ToolkitError(f"{where}: dòng {TOTAL_LABEL} ghi {name} là "
                               f"{format_vn_number(total)}, nhưng cộng các xã được "
                               f"{format_vn_number(communes)}")
        totals[key] = int(total)
    return totals


def _cell(row: tuple, column: int):
    """A number cell of a table row; empty (or cut off, as Google leaves trailing blanks)
    counts 0."""
    return (row[column] if column < len(row) else None) or 0
