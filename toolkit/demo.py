"""demo: a whole reporting stretch on the embedded default, with simulated commune staff.

Builds a province from the official list, provisions the workbooks, then for each simulated day
lets commune staff type into their workbooks at realistic times — most before 17:00, some late,
some never, a few typos — and runs ``daily`` at 15:00, 17:00 and 20:00 through the injected
clock. It ends by checking that the archive's totals equal what the simulation typed.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW
from toolkit.periods import VN_TZ

DEMO_MARK = "# toolkit demo"
SWEEPS = (time(15, 0), time(17, 0), time(20, 0))
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
    counted: dict[str, int]         # field → value a correct parser counts (typos excluded)


def type_into(path: Path, tab: str, period_cell_value, cells: dict[str, object],
              at: datetime) -> None:
    """Type values into the row of a period, as a person in Excel would, then save at ``at``."""
    import os

    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book[tab]
    headers = {c.value: c.column for c in sheet[HEADER_ROW] if c.value}
    for row in range(FIRST_DATA_ROW, sheet.max_row + 1):
        value = sheet.cell(row, 1).value
        day = value.date() if hasattr(value, "date") else value
        if day == period_cell_value:
            break
    else:
        raise ValueError(f"{path.name}: no row for {period_cell_value} in {tab}")
    for header, typed in cells.items():
        sheet.cell(row, headers[header]).value = typed
    book.save(path)
    os.utime(path, (at.timestamp(), at.timestamp()))


def simulate_day(registry, day: date, rng: random.Random, profiles: dict[str, str]) -> list[Entry]:
    """The day's entries: on time for most, late for some, never for a few, with typos."""
    entries: list[Entry] = []
    for commune in registry.communes:
        profile = profiles[commune.code]
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
            "Số cửa hàng số mở mới": shops,
            "Số tài khoản thanh toán điện tử mở mới": accounts,
            "Số hộ mới phát sinh giao dịch": rng.randint(0, 5),
            "Số đơn hàng": orders,
            "Sản lượng (kg)": round(orders * rng.uniform(1, 8), 1),
            "Doanh số (đồng)": orders * rng.choice((45_000, 60_000, 120_000)),
            "Người báo cáo": commune.contact_name or "Cán bộ văn hoá xã",
        }
        counted = {"new_shops": shops, "new_accounts": accounts}
        slip = rng.random()
        if slip < 0.04:
            cells["Số cửa hàng số mở mới"] = f"{shops}a"          # a typo: kept as an issue
            counted["new_shops"] = 0
        elif slip < 0.08:
            typed = f"{accounts:,}".replace(",", ".") + " tài khoản"   # unit typed along
            cells["Số tài khoản thanh toán điện tử mở mới"] = typed
        elif slip < 0.10:
            cells["Doanh số (đồng)"] = f"{cells['Doanh số (đồng)']:,} đ".replace(",", ".")
        elif slip < 0.12:
            del cells["Số tài khoản thanh toán điện tử mở mới"]   # forgot a required field
            counted["new_accounts"] = 0
        entries.append(Entry(commune.code, day, at, cells, counted))
        if profile == "punctual" and at.hour < 17 and rng.random() < 0.06:
            # Someone notices a mistake in the evening and corrects the day's figure: amended.
            fixed = at.replace(hour=rng.randint(18, 19), minute=rng.randint(0, 59))
            correction = {"Số cửa hàng số mở mới": shops + 1}
            counted_fix = {"new_shops": shops + 1 - counted["new_shops"], "new_accounts": 0}
            entries.append(Entry(commune.code, day, fixed, correction, counted_fix))
    return entries


def run_demo(folder: Path, *, province: str, days: int, seed: int, now: datetime,
             echo: Callable[[str], None]) -> dict:
    """Run the demo in ``folder``; returns the figures it checked."""
    from toolkit.daily import run_daily
    from toolkit.provision import provision
    from toolkit.registry import load_registry
    from toolkit.workspace import init_province, open_workspace

    _prepare(folder)
    first = now.date() - timedelta(days=days)
    rng = random.Random(seed)
    result = init_province(folder, province, today=first, campaign_days=30)
    config_text = result.config_path.read_text(encoding="utf-8")
    result.config_path.write_text(f"{DEMO_MARK}\n{config_text}", encoding="utf-8")
    _fill_registry(result.registry_path, rng)
    echo(f"Tỉnh {result.province}: {result.communes} xã, phường tại {folder}")

    registry = load_registry(result.registry_path)
    profiles = {c.code: rng.choices(("punctual", "late", "silent", "erratic"),
                                    weights=(78, 10, 6, 6))[0] for c in registry.communes}
    with open_workspace(result.config_path) as ws:
        setup_at = datetime.combine(first, time(7, 30), VN_TZ)
        planned = provision(ws.config, ws.registry, ws.specs, ws.store, ws.ledger, now=setup_at)
        echo(f"Đã tạo {len(planned.changed)} sổ báo cáo tại {ws.config.workbooks_dir}")
        locators = {code: rec.locator for code, rec in ws.ledger.workbooks().items()}
        typed_total = {"new_shops": 0, "new_accounts": 0}
        last_day = first
        for offset in range(days):
            day = first + timedelta(days=offset)
            last_day = day
            pending = sorted(simulate_day(ws.registry, day, rng, profiles), key=lambda e: e.at)
            for key in typed_total:
                typed_total[key] += sum(e.counted[key] for e in pending)
            for sweep in SWEEPS:
                run_at = datetime.combine(day, sweep, VN_TZ)
                while pending and pending[0].at <= run_at:
                    entry = pending.pop(0)
                    type_into(ws.store.path(locators[entry.code]), "Báo cáo ngày", entry.day,
                              entry.cells, entry.at)
                daily = run_daily(ws, now=run_at, day=day)
                kts = next(r for r in daily.rollups if r.spec.key == "kts_daily")
                province_row = kts.areas.iloc[-1]
                echo(f"{day:%d/%m} {sweep:%H:%M} daily: đọc {daily.collected.count('read')} sổ, "
                     f"đã báo cáo {province_row['reporting_rate']:.0%}, đúng hạn "
                     f"{province_row['on_time_rate']:.0%}, "
                     f"{int((daily.validated.issues['level'] == 'error').sum())} lỗi")
        archive = next(p for p, r in zip(daily.archives, daily.rollups, strict=True)
                       if r.spec.key == "kts_daily")
        archived = _archive_totals(archive)
    ok = all(archived[k] == typed_total[k] for k in typed_total)
    echo("")
    echo(f"Tệp lưu trữ: {archive}")
    for key, label in (("new_shops", "cửa hàng số"), ("new_accounts",
                                                       "tài khoản thanh toán điện tử")):
        echo(f"  {label}: tệp lưu trữ {archived[key]:,}, đã nhập {typed_total[key]:,} "
             f"{'✓' if archived[key] == typed_total[key] else '✗ KHÔNG KHỚP'}")
    echo(f"Xem tình hình: toolkit status --config {result.config_path} --date {last_day} "
         f"--now '{last_day} 20:00'")
    if not ok:
        raise ToolkitError("tệp lưu trữ không khớp với số liệu mô phỏng đã nhập")
    return {"archive": archive, "typed": typed_total, "archived": archived}


def _prepare(folder: Path) -> None:
    config = folder / "toolkit.toml"
    if config.is_file() and config.read_text(encoding="utf-8").startswith(DEMO_MARK):
        shutil.rmtree(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise ToolkitError(f"{folder} không trống và không phải thư mục demo trước đó; "
                           "hãy chọn thư mục khác")


def _fill_registry(path: Path, rng: random.Random) -> None:
    """Fill households, villages, editors and contacts as a province officer would."""
    from openpyxl import load_workbook

    book = load_workbook(path)
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
        for header, value in values.items():
            sheet.cell(row, columns[header]).value = value
    book.save(path)


def _archive_totals(path: Path) -> dict[str, int]:
    """Read the province totals back from the archive, as a person opening it would see them:
    the Toàn tỉnh row of Tổng hợp, which must be the sum of the communes below it."""
    from openpyxl import load_workbook

    from toolkit.dashboard import TOTAL_LABEL

    book = load_workbook(path, read_only=True)
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    book.close()
    at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã xã")
    header, body = rows[at], rows[at + 1:]
    province = next(r for r in body if r[1] == TOTAL_LABEL)
    wanted = {"new_shops": "Số cửa hàng số mở mới (lũy kế)",
              "new_accounts": "Số tài khoản thanh toán điện tử mở mới (lũy kế)"}
    totals = {}
    for key, name in wanted.items():
        column = header.index(name)
        communes = sum(r[column] or 0 for r in body if r[0])
        total = province[column] or 0
        if total != communes:
            raise ToolkitError(f"{path.name}: dòng {TOTAL_LABEL} của trang Tổng hợp ghi "
                               f"{name} là {total:,}, nhưng cộng các xã được {communes:,}")
        totals[key] = int(total)
    return totals
