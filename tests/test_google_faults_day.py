"""A province's whole reporting day on Google with a fifth of all API calls failing.

DESIGN §7: "with 20% of API calls failing (429, 500, 503, reset, timeout) the result equals
the fault-free result". Twenty-five communes are provisioned once (enough for ~50 faults of every
kind a day; sixty took minutes); the same day — the same commune
staff typing at the same moments, the scheduler running `toolkit daily` at 15:00, 17:00, 17:06
and 20:00 — is then played twice on the fake Google from that same start: once with no faults,
once with 20% of Sheets and Drive calls failing. The ledger, every archive and every tab of the
published rollup spreadsheet must come out the same.

The pacer runs on a virtual clock (as in test_gsheets_quota.py and scripts/bench_requests.py):
the quota of 25 reads and 25 writes a minute (one per commune, so sweeps wait for it as a
province's do) and every backoff are waited out in no real time.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import sqlite3
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import VirtualClock, run
from desks import GoogleDesk
from toolkit.backends.google import http as google_http
from toolkit.backends.google.fake import ALL_FAULT_KINDS
from toolkit.backends.google.fake.render import spreadsheet_json
from toolkit.registry import HEADERS

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
COMMUNES = 25
SWEEPS = ("15:00", "17:00", "17:06", "20:00")



def fill_registry(path: Path, count: int) -> list[str]:
    """The first ``count`` communes of the province, each with households, villages and an
    editor; the rest removed, as an officer trims the registry."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    kept = []
    for row in range(sheet.max_row, 1, -1):
        code = sheet.cell(row, columns[HEADERS["code"]]).value
        if row - 1 > count:
            sheet.delete_rows(row)
            continue
        kept.append(code)
        sheet.cell(row, columns[HEADERS["households"]]).value = 900 + 10 * row
        sheet.cell(row, columns[HEADERS["villages"]]).value = "Thôn Nà Lầu; Thôn Bản Chắt"
        sheet.cell(row, columns[HEADERS["editors"]]).value = f"xa{code}@example.gov.vn"
    book.save(path)
    return sorted(kept)


def typing_plan(codes: list[str]) -> dict[str, list[tuple[str, dict]]]:
    """Who types what before each sweep: on time, incomplete, inside the grace, late,
    amended after the deadline, and two communes that never report."""
    day = "2026-11-20"
    return {
        "15:00": [(c, {SHOPS: 1 + i % 4, ACCOUNTS: 2 + i % 3}) for i, c in enumerate(codes[:12])],
        "17:00": [(c, {SHOPS: 2, ACCOUNTS: 1}) for c in codes[12:17]]
                 + [(c, {SHOPS: 3}) for c in codes[17:20]],
        "17:06": [(c, {SHOPS: 1, ACCOUNTS: 1}) for c in codes[20:22]],
        "20:00": [(c, {SHOPS: 4, ACCOUNTS: 4}) for c in codes[22:23]]
                 + [(c, {SHOPS: 9}) for c in codes[:3]]
                 + [(c, {ACCOUNTS: 5}) for c in codes[17:19]],
    } | {"day": day}


TYPED_AT = {"15:00": "10:30", "17:00": "16:30", "17:06": "17:02", "20:00": "19:00"}
#: How each sweep's publication is interrupted in the middle, whatever else fails.
LOST = {"15:00": "reset-after", "17:00": "read-timeout", "17:06": 500, "20:00": "reset"}


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    """The communes provisioned once on the fake Google; each day starts from a copy."""
    root = tmp_path_factory.mktemp("faults-day")
    folder = root / "base"
    assert run("init", str(folder), "--province", "lang son", now="2026-11-20 07:00"
               ).exit_code == 0
    for name in ("team_roster.toml", "committee_roster.toml"):
        (folder / "sheet_templates" / name).unlink()
    codes = fill_registry(folder / "registry.xlsx", COMMUNES)
    desk = GoogleDesk(folder / "toolkit.toml", start="2026-11-20 07:00")
    config = desk.config
    config.write_text(config.read_text(encoding="utf-8").replace(
        "reads_per_minute = 6000\nwrites_per_minute = 6000",
        f"reads_per_minute = {COMMUNES}\nwrites_per_minute = {COMMUNES}"), encoding="utf-8")
    clock = VirtualClock()
    patch = pytest.MonkeyPatch()
    patch.setattr(google_http, "Pacer", functools.partial(
        google_http.Pacer, clock=clock.seconds, sleep=clock.sleep))
    result = desk.run("provision", now="2026-11-20 07:30")
    assert result.exit_code == 0, result.output
    snapshot = copy.deepcopy((desk.fake.files, desk.fake.spreadsheets, desk.fake.drives))
    yield desk, folder, codes, snapshot, clock
    patch.undo()
    desk.close()


def play_day(provisioned, name: str, fault_rate: float) -> dict:
    """The day from the provisioned start, in a copy of the province folder."""
    desk, base, codes, snapshot, clock = provisioned
    folder = base.parent / name
    shutil.copytree(base, folder)
    fake = desk.fake
    files, sheets, drives = copy.deepcopy(snapshot)
    with fake.lock:
        fake.files, fake.spreadsheets, fake.drives = files, sheets, drives
        fake.requests.clear()
        fake.fault_rate, fake.fault_kinds = 0.0, ALL_FAULT_KINDS
    desk.config = folder / "toolkit.toml"
    plan = typing_plan(codes)
    outputs, published, started, virtual = [], [], time.perf_counter(), clock.now
    for sweep in SWEEPS:
        for code, values in plan[sweep]:
            desk.type_row(code, DAILY, date(2026, 11, 20), values,
                          at=f"2026-11-20 {TYPED_AT[sweep]}")
        if fault_rate:
            # On top of the random ones, each sweep loses the answer to its rollup batch once.
            fake.fail_next(1, LOST[sweep], match=lambda r, sid=desk.rollup_id: (
                r.method_id == "sheets.spreadsheets.batchUpdate" and sid in r.path))
        fake.fault_rate = fault_rate
        result = desk.run("daily", now=f"2026-11-20 {sweep}")
        fake.fault_rate = 0.0
        outputs.append((sweep, result.exit_code, result.output))
        published.append(rollup_tabs(fake, desk.rollup_id))
    status = desk.run("status", "--date", "2026-11-20", "--format", "json",
                      now="2026-11-20 20:00")
    faults = Counter(r.fault for r in fake.requests if r.fault)
    ours = [r for r in fake.requests if desk.rollup_id in r.path]
    return {
        "folder": folder, "outputs": outputs,
        "ledger": ledger_rows(folder), "status": json.loads(status.stdout),
        "archives": archives(folder), "published": published,
        "requests": len(fake.requests), "faults": faults,
        "retried": sum(faults.values()),
        "looks": sum(1 for r in ours if r.method_id == "sheets.spreadsheets.get"),
        "batches": sum(1 for r in ours if r.method_id == "sheets.spreadsheets.batchUpdate"),
        "seconds": time.perf_counter() - started, "virtual": clock.now - virtual,
    }


def ledger_rows(folder: Path) -> dict[str, list[tuple]]:
    """What the ledger knows: every row version, what each Kiểm tra tab shows, what the
    rollup spreadsheet must show and whether Google took it."""
    with sqlite3.connect(folder / "ledger.sqlite") as db:
        return {
            "rows": sorted(db.execute(
                "SELECT commune_code, report, period, row_key, content_hash, complete, "
                "proven_at FROM row_versions")),
            "feedback": sorted(db.execute("SELECT commune_code, content_hash FROM feedback")),
            "rollup": sorted(db.execute(
                "SELECT spreadsheet_id, tab, digest, built_at, published_at, error "
                "FROM rollup_publications")),
        }


def archives(folder: Path) -> dict[str, dict[str, list]]:
    out = {}
    for path in sorted((folder / "archive").rglob("*.xlsx")):
        book = load_workbook(path, read_only=True)
        out[path.name] = {s.title: [list(r) for r in s.iter_rows(values_only=True)]
                          for s in book.worksheets}
        book.close()
    return out


def rollup_tabs(fake, sid: str) -> dict:
    """The whole published spreadsheet: every tab with every cell's value, formatted value,
    format and note, the grid, frozen panes, merges, filters and charts."""
    with fake.lock:
        return spreadsheet_json(fake.spreadsheet(sid), grid=True)


def test_a_day_with_a_fifth_of_google_calls_failing_ends_as_the_fault_free_day(provisioned):
    clean = play_day(provisioned, "clean", 0.0)
    faulty = play_day(provisioned, "faulty", 0.2)
    figures = (f"{COMMUNES} communes, sweeps {', '.join(SWEEPS)}: fault-free "
               f"{clean['requests']} requests; with faults {faulty['requests']} requests, "
               f"{faulty['retried']} faults {dict(faulty['faults'])}; rollup publication: "
               f"{clean['looks']} looks + {clean['batches']} batches fault-free, "
               f"{faulty['looks']} + {faulty['batches']} with faults; "
               f"{faulty['seconds']:.1f} s real, {faulty['virtual'] / 60:.1f} min virtual")
    print(figures)
    for sweep, code, output in faulty["outputs"]:
        print(f"--- {sweep} exit {code}\n{output}")
    assert faulty["ledger"] == clean["ledger"], figures
    assert faulty["status"] == clean["status"], figures
    assert faulty["archives"] == clean["archives"], figures
    assert faulty["published"] == clean["published"], figures
    assert [code for _, code, _ in faulty["outputs"]] == [0] * len(SWEEPS), figures
    assert set(faulty["faults"]) == {str(k) for k in ALL_FAULT_KINDS}, figures   # every kind
    assert faulty["retried"] >= 0.15 * faulty["requests"], figures
