"""A quiet `toolkit daily` known as such from the record its last full sweep left (issue 15,
goal 1: a quiet sweep of a province in under a second, imports included).

The reference is the full sweep itself: every sweep here is run twice, on two copies of one
province folder — once as the scheduler runs it, free to find the sweep quiet from the record,
and once with the record removed first, so it collects, validates and rolls up everything
again. Whatever the quiet path prints, writes into the archives and leaves in the ledger and
the workbooks must be what the full sweep does, at deadlines, cutoffs and day changes alike.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import copy_province, run, type_row, workbook_of
from toolkit import archive, archive_patch
from toolkit import daily as daily_module
from toolkit.quiet import record_path

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
CODES = ("06040", "06001", "06019", "06202")
DAY = date(2026, 11, 20)
PROGRESS = re.compile(r"^\d\d:\d\d:\d\d collect \d+/\d+$")


def record(config: Path) -> dict | None:
    path = record_path(config.parent / "ledger.sqlite")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def swept_in_full(config: Path, now: str) -> bool:
    """Whether the sweep at ``now`` ran in full: the record it left starts there (a quiet
    sweep keeps the full sweep's record and moves only its last time)."""
    kept = record(config)
    return kept is None or kept["since"].startswith(now.replace(" ", "T"))


def sweep(config: Path, now: str, *, full: bool = False):
    if full:
        record_path(config.parent / "ledger.sqlite").unlink(missing_ok=True)
    return run("daily", config=config, now=now)


def printed(result, folder: Path) -> tuple[int, str, list[str]]:
    """Exit code, what went to stdout and to stderr (the progress lines of a full sweep's
    collect left out: a quiet sweep collects nothing), with the folder's own path cut."""
    err = [line for line in result.stderr.splitlines() if not PROGRESS.match(line)]
    return (result.exit_code, result.stdout.replace(str(folder), "…"),
            [line.replace(str(folder), "…") for line in err])


def parts(folder: Path, pattern: str) -> dict:
    """Every part of each workbook of ``folder`` matching ``pattern``, but core.xml (its
    modified time is the write's clock)."""
    out = {}
    for path in sorted(folder.glob(pattern)):
        with zipfile.ZipFile(path) as book:
            out[str(path.relative_to(folder))] = {
                name: book.read(name) for name in book.namelist()
                if name != "docProps/core.xml"}
    return out


def archive_parts(folder: Path) -> dict:
    return parts(folder, "archive/**/*.xlsx")


def workbook_parts(folder: Path) -> dict:
    """The communes' workbooks part for part: stricter than their cells, and a tenth of the
    time openpyxl takes to load them."""
    return parts(folder, "workbooks/[0-9]*.xlsx")     # not a lock file


def ledger_dump(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "ledger.sqlite") as db:
        return list(db.iterdump())


def assert_same_folders(quiet: Path, full: Path) -> None:
    assert archive_parts(quiet.parent) == archive_parts(full.parent)
    assert ledger_dump(quiet.parent) == ledger_dump(full.parent)
    assert workbook_parts(quiet.parent) == workbook_parts(full.parent)


def twins(provisioned: Path, folder: Path) -> tuple[Path, Path]:
    return provisioned, copy_province(provisioned, folder)


@pytest.fixture(scope="module")
def swept_once(provisioned_once, tmp_path_factory) -> tuple[Path, Path]:
    """``provisioned_once`` swept in full at 10:00 (the record left), and a copy of that
    folder kept aside. Most tests here start from that sweep; it is a full sweep, the dearest
    third of such a test, so it is made once a module (a worker) and put back for each."""
    base = tmp_path_factory.mktemp("swept")
    config = copy_province(provisioned_once, base / "live")
    result = sweep(config, "2026-11-20 10:00")
    assert result.exit_code == 0, result.output
    assert record(config) is not None
    kept = copy_province(config, base / "kept")
    return config, kept


@pytest.fixture
def swept(swept_once) -> Path:
    """A province swept in full at 10:00 by ``toolkit daily``, the record it left intact.
    The record names the folder by its absolute path (a copy sweeps in full), so the folder
    is put back where it was swept, from the copy kept aside: copy2 keeps every file's size
    and modification time, all the record compares. Tests on one worker run one at a time,
    so one place serves them all."""
    config, kept = swept_once
    shutil.rmtree(config.parent)
    shutil.copytree(kept.parent, config.parent)
    return config


def test_a_quiet_sweep_says_and_writes_what_the_full_sweep_would(provisioned, tmp_path):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4},
             at="2026-11-20 09:00")
    first = sweep(provisioned, "2026-11-20 10:00")
    assert first.exit_code == 0, first.output
    assert record(provisioned) is not None
    quiet, full = twins(provisioned, tmp_path / "twin")
    books = {p: p.stat().st_mtime_ns for p in (quiet.parent / "workbooks").iterdir()}

    for now in ("2026-11-20 10:30", "2026-11-20 11:45"):
        mine, theirs = sweep(quiet, now), sweep(full, now, full=True)
        assert not swept_in_full(quiet, now) and swept_in_full(full, now)
        assert printed(mine, quiet.parent) == printed(theirs, full.parent)
        assert "collect: đã đọc 0 sổ, 4 sổ không đổi" in mine.stdout
        assert f"đến {now[-5:]}:" in mine.stdout
        assert_same_folders(quiet, full)
    # Nothing in the commune workbooks was touched, and the archive says the last sweep.
    assert {p: p.stat().st_mtime_ns for p in (quiet.parent / "workbooks").iterdir()} == books
    archive = quiet.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    facts = dict(load_workbook(archive)["Thông tin"].iter_rows(values_only=True))
    assert facts["Số liệu tính đến"] == "11:45:00 20/11/2026 (hiện tại)"
    assert facts["Lần quét gần nhất"].startswith("Lần quét gần nhất đọc 0 sổ có thay đổi / 4")


def _edit_toml(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# sửa tay\n", encoding="utf-8")


def _edit_registry(config: Path) -> None:
    path = config.parent / "registry.xlsx"
    book = load_workbook(path)
    sheet = book.worksheets[0]
    sheet.cell(2, 1).value = sheet.cell(2, 1).value     # saved again, as a person would
    sheet.cell(sheet.max_row, sheet.max_column + 1).value = "ghi chú"
    book.save(path)


def _lock_file(config: Path) -> None:
    book = workbook_of(config, "06001")
    (book.parent / f"~${book.name}").write_bytes(b"\x0cnguoi nhap")


def _copy_of_workbook(config: Path) -> None:
    book = workbook_of(config, "06202")
    shutil.copy2(book, book.with_name(book.stem + " (1).xlsx"))


def _archive_gone(config: Path) -> None:
    (config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx").unlink()


def _archive_edited(config: Path) -> None:
    path = config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    book = load_workbook(path)
    book["Tổng hợp"]["A1"] = "sửa tay"
    book.save(path)


def _commune_saved(config: Path) -> None:
    type_row(config, "06001", DAILY, DAY, {SHOPS: 1, ACCOUNTS: 2},
             at="2026-11-20 10:10")


def _collected_apart(config: Path) -> None:
    """A commune saved and `toolkit collect` read it: its workbook's stamp is the ledger's
    again, and only the ledger says something changed."""
    _commune_saved(config)
    assert run("collect", config=config, now="2026-11-20 10:15").exit_code == 0


def _record_damaged(config: Path) -> None:
    record_path(config.parent / "ledger.sqlite").write_text("{", encoding="utf-8")


def _record_edited(config: Path) -> None:
    """Valid JSON, but not what the toolkit writes: an entry gone, another of a wrong kind."""
    path = record_path(config.parent / "ledger.sqlite")
    kept = json.loads(path.read_text(encoding="utf-8"))
    del kept["kept"]
    kept["archives"] = [[1]]
    path.write_text(json.dumps(kept), encoding="utf-8")


CHANGES = {
    "a commune saved its workbook": (_commune_saved, "2026-11-20 10:30"),
    "a save read by toolkit collect": (_collected_apart, "2026-11-20 10:30"),
    "toolkit.toml edited": (lambda c: _edit_toml(c), "2026-11-20 10:30"),
    "a template edited": (lambda c: _edit_toml(c.parent / "sheet_templates/kts_daily.toml"),
                          "2026-11-20 10:30"),
    "the registry saved again": (_edit_registry, "2026-11-20 10:30"),
    "a workbook opened (lock file)": (_lock_file, "2026-11-20 10:30"),
    "a copy of a workbook": (_copy_of_workbook, "2026-11-20 10:30"),
    "the archive deleted": (_archive_gone, "2026-11-20 10:30"),
    "the archive edited": (_archive_edited, "2026-11-20 10:30"),
    "the record damaged": (_record_damaged, "2026-11-20 10:30"),
    "the record edited": (_record_edited, "2026-11-20 10:30"),
    "the deadline passed": (lambda c: None, "2026-11-20 17:00"),
    "the cutoff's settle span began": (lambda c: None, "2026-11-20 16:50"),
    "the next day": (lambda c: None, "2026-11-21 08:00"),
    "a time before the last sweep": (lambda c: None, "2026-11-20 09:30"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_what_the_record_cannot_vouch_for_makes_the_sweep_run_in_full(swept, tmp_path,
                                                                      change):
    make, now = CHANGES[change]
    quiet, full = twins(swept, tmp_path / "twin")
    for config in (quiet, full):
        make(config)
    mine, theirs = sweep(quiet, now), sweep(full, now, full=True)
    assert swept_in_full(quiet, now), change
    assert printed(mine, quiet.parent) == printed(theirs, full.parent)
    assert_same_folders(quiet, full)


def test_the_schedulers_new_process_finds_the_sweep_quiet(swept, tmp_path):
    """A scheduler starts `toolkit daily` as a new process, from a working directory of its
    own: the record left by a sweep started elsewhere still holds."""
    done = subprocess.run([sys.executable, "-m", "toolkit", "daily", "--config", str(swept),
                           "--now", "2026-11-20 10:30"], cwd=tmp_path, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
    assert not swept_in_full(swept, "2026-11-20 10:30")
    assert "đến 10:30:" in done.stdout


def test_a_copied_province_folder_sweeps_its_own_archives(swept, tmp_path):
    archives = {p: p.stat().st_mtime_ns for p in (swept.parent / "archive").rglob("*")}
    copy = copy_province(swept, tmp_path / "copy")
    result = sweep(copy, "2026-11-20 10:30")
    assert result.exit_code == 0 and swept_in_full(copy, "2026-11-20 10:30")
    assert str(copy.parent / "archive") in result.stdout
    assert str(swept.parent) not in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (swept.parent / "archive").rglob("*")} == \
        archives


def test_a_sweep_run_as_of_an_earlier_time_leaves_no_record(provisioned, tmp_path):
    """An officer re-runs 16:00 at 16:30 (--now): that sweep sees the ledger only up to 16:00,
    so the sweeps after it must not take its picture for theirs."""
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4},
             at="2026-11-20 11:00")
    assert sweep(provisioned, "2026-11-20 12:00").exit_code == 0
    assert sweep(provisioned, "2026-11-20 10:00").exit_code == 0     # as of earlier
    assert record(provisioned) is None
    quiet, full = twins(provisioned, tmp_path / "twin")
    mine, theirs = sweep(quiet, "2026-11-20 12:30"), sweep(full, "2026-11-20 12:30", full=True)
    assert printed(mine, quiet.parent) == printed(theirs, full.parent)
    assert "1 đúng hạn" in mine.stdout
    assert_same_folders(quiet, full)


@pytest.mark.parametrize("typed", ["10:00:00 20/11/2026", "10:30:00 20/11/2026"])
def test_a_commune_typing_a_sweeps_time_keeps_its_text(provisioned, tmp_path, typed):
    """The text a commune typed is quoted in Lỗi dữ liệu; when it reads like a sweep's time
    (this one's or the next's) the archive is written in full, never patched over it."""
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: typed, ACCOUNTS: 4},
             at="2026-11-20 09:00")
    assert sweep(provisioned, "2026-11-20 10:00").exit_code == 0
    quiet, full = twins(provisioned, tmp_path / "twin")
    mine, theirs = sweep(quiet, "2026-11-20 10:30"), sweep(full, "2026-11-20 10:30", full=True)
    assert printed(mine, quiet.parent) == printed(theirs, full.parent)
    assert_same_folders(quiet, full)
    archive = quiet.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    quoted = [c.value for row in load_workbook(archive)["Lỗi dữ liệu"].iter_rows()
              for c in row if isinstance(c.value, str) and typed in c.value]
    assert quoted


def test_a_save_landing_while_a_full_sweep_runs_is_read_by_the_next(provisioned, monkeypatch):
    """The workbook changed after collect read it: the sweep leaves no record, so the next
    sweep compares stamps as collect does, and reads it."""
    real = daily_module.run_daily

    def saved_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)
        _commune_saved(provisioned)
        return result

    monkeypatch.setattr(daily_module, "run_daily", saved_meanwhile)
    assert sweep(provisioned, "2026-11-20 10:00").exit_code == 0
    monkeypatch.undo()
    assert record(provisioned) is None
    after = sweep(provisioned, "2026-11-20 10:20")
    assert "collect: đã đọc 1 sổ, 3 sổ không đổi" in after.stdout


class Killed(BaseException):
    """The process stopping between two archives (a power cut, the scheduler's kill)."""


def test_a_quiet_sweep_killed_halfway_is_put_right_by_the_next(swept, tmp_path,
                                                               monkeypatch):
    quiet, full = twins(swept, tmp_path / "twin")
    real, calls = archive_patch.restamp, []

    def dies_on_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(archive_patch, "restamp", dies_on_the_second)
    with pytest.raises(Killed):
        sweep(quiet, "2026-11-20 10:30")
    monkeypatch.undo()
    mine, theirs = sweep(quiet, "2026-11-20 10:40"), sweep(full, "2026-11-20 10:40", full=True)
    assert swept_in_full(quiet, "2026-11-20 10:40")
    assert printed(mine, quiet.parent) == printed(theirs, full.parent)
    assert_same_folders(quiet, full)


def test_a_record_that_cannot_be_written_costs_only_the_shortcut(provisioned):
    (record_path(provisioned.parent / "ledger.sqlite").with_suffix(".json.tmp")).mkdir()
    first = sweep(provisioned, "2026-11-20 10:00")
    assert first.exit_code == 0, first.output
    assert "rollup kts_daily 20/11/2026" in first.stdout
    assert record(provisioned) is None
    log = (provisioned.parent / "logs" / "toolkit.log").read_text(encoding="utf-8")
    assert "không ghi được" in log and "ledger.sqlite.sweep.json" in log
    assert "collect: đã đọc 0 sổ" in sweep(provisioned, "2026-11-20 10:30").stdout


def test_a_sweep_with_a_failure_leaves_no_record_and_the_next_says_it_again(provisioned):
    broken = workbook_of(provisioned, "06019")
    broken.write_bytes(b"not a workbook")
    first = sweep(provisioned, "2026-11-20 10:00")
    assert first.exit_code == 1
    assert record(provisioned) is None
    again = sweep(provisioned, "2026-11-20 10:10")
    assert again.exit_code == 1
    assert printed(again, provisioned.parent)[2] == printed(first, provisioned.parent)[2]


def test_a_quiet_sweep_waits_for_the_province_lock_like_any_run(swept):
    with FileLock(swept.parent / "ledger.sqlite.lock"):
        result = run("daily", "--wait", "0.2", config=swept, now="2026-11-20 10:30")
    assert result.exit_code == 1
    assert "một lần chạy toolkit khác đang dùng ledger.sqlite" in result.output
    assert record(swept)["last"].startswith("2026-11-20T10:00")


# A day's sweeps begin in quiet hours or around the daily report's 17:00 deadline (and its
# settle span, 10 minutes each side) and follow each other by minutes to hours, across the night
# to the next day's deadline.
STARTS = ("2026-11-20 08:05", "2026-11-20 12:00", "2026-11-20 16:41", "2026-11-20 16:49",
          "2026-11-20 16:58", "2026-11-20 17:00", "2026-11-20 17:08", "2026-11-20 23:50")
GAPS = st.sampled_from((1, 2, 5, 9, 10, 30, 120, 600))
STEP = st.tuples(GAPS, st.sampled_from(("sweep",) * 5 + ("type", "lock", "unlock")),
                 st.sampled_from(CODES), st.integers(0, 40))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(STARTS), steps=st.lists(STEP, min_size=3, max_size=5))
def test_on_any_day_the_quiet_path_equals_the_full_sweep(provisioned_once, start, steps):
    with tempfile.TemporaryDirectory() as tmp:
        quiet = copy_province(provisioned_once, Path(tmp) / "quiet")
        full = copy_province(provisioned_once, Path(tmp) / "full")
        moment, took = datetime.fromisoformat(start), 0
        for gap, kind, code, figure in steps:
            now = f"{moment:%Y-%m-%d %H:%M}"
            for config in (quiet, full):
                if kind == "type":
                    type_row(config, code, DAILY, moment.date(),
                             {SHOPS: figure, ACCOUNTS: figure + 1}, at=now)
                elif kind in ("lock", "unlock"):
                    book = workbook_of(config, code)
                    lock = book.parent / f".~lock.{book.name}#"
                    lock.write_text("x") if kind == "lock" else lock.unlink(missing_ok=True)
            mine = sweep(quiet, now)
            with pytest.MonkeyPatch.context() as written_in_full:
                # The reference writes every archive in full: neither restamped as made of
                # the same rollup (archive.made_of) nor patched.
                written_in_full.setattr(archive, "PATCH_MOMENT", False)
                theirs = sweep(full, now, full=True)
            took += not swept_in_full(quiet, now)
            assert printed(mine, quiet.parent) == printed(theirs, full.parent), now
            moment += timedelta(minutes=gap)
        event(f"quiet sweeps taken: {took if took < 2 else '2 or more'}")
        assert_same_folders(quiet, full)
