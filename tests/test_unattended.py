"""Runs nobody watches: one run at a time, a killed run loses nothing, a log file is kept."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock

from conftest import run, type_row

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
DAY = date(2026, 11, 20)


def ledger_rows(folder: Path) -> set[tuple]:
    with sqlite3.connect(folder / "ledger.sqlite") as db:
        return set(db.execute("SELECT commune_code, report, row_key, content_hash, proven_at "
                              "FROM row_versions"))


def toolkit(*args: str) -> subprocess.Popen:
    """The CLI as a scheduler starts it: a separate process, no terminal."""
    return subprocess.Popen([sys.executable, "-m", "toolkit", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)


def test_a_run_waits_for_the_lock_then_gives_up_with_exit_1(provisioned):
    lock = provisioned.parent / "ledger.sqlite.lock"
    with FileLock(lock):
        result = run("daily", "--wait", "0.2", config=provisioned, now="2026-11-20 15:00")
    assert result.exit_code == 1
    assert "một lần chạy toolkit khác đang dùng ledger.sqlite" in result.output
    assert "đã chờ 0.2 giây và không làm gì" in result.output
    assert not (provisioned.parent / "archive").exists()


def test_results_go_to_a_log_file_beside_the_ledger(provisioned):
    run("daily", config=provisioned, now="2026-11-20 15:00")
    log = (provisioned.parent / "logs" / "toolkit.log").read_text(encoding="utf-8")
    assert "INFO toolkit daily" in log
    assert "collect: đã đọc 4 sổ" in log and "rollup kts_daily 20/11/2026" in log


def test_two_schedulers_at_once_do_not_corrupt_the_ledger(provisioned):
    type_row(provisioned, "06040", "Báo cáo ngày", DAY, {SHOPS: 3, ACCOUNTS: 4},
             at="2026-11-20 10:00")
    args = ("daily", "--config", str(provisioned), "--now", "2026-11-20 15:00")
    first, second = toolkit(*args), toolkit(*args)
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    # One of them read the four workbooks; the other, after waiting, found nothing changed.
    assert sorted(o.count("collect: đã đọc 4 sổ") for o in outputs) == [0, 1]
    assert len(ledger_rows(provisioned.parent)) == 1


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_run_killed_mid_collect_loses_nothing_and_a_rerun_completes_it(tmp_path):
    reference, victim = tmp_path / "reference", tmp_path / "victim"
    assert run("init", str(reference), "--province", "Lạng Sơn",
               now="2026-11-20 08:00").exit_code == 0
    assert run("provision", config=reference / "toolkit.toml",
               now="2026-11-20 08:00").exit_code == 0
    for path in sorted((reference / "workbooks").glob("*.xlsx"))[:40]:
        type_row(reference / "toolkit.toml", path.name[:5], "Báo cáo ngày", DAY,
                 {SHOPS: int(path.name[:5]) % 7, ACCOUNTS: 2}, at="2026-11-20 11:00")
    shutil.copytree(reference, victim)      # the same 65 workbooks, typed the same, times kept
    args = ("--now", "2026-11-20 15:00")
    assert run("daily", config=reference / "toolkit.toml", now="2026-11-20 15:00").exit_code == 0

    process = toolkit("collect", "--config", str(victim / "toolkit.toml"), *args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill as soon as some, not all, fetches are stored
        time.sleep(0.05)
        try:
            with sqlite3.connect(victim / "ledger.sqlite") as db:
                fetched = db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if fetched >= 3 or process.poll() is not None:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    partial = ledger_rows(victim)
    assert partial < ledger_rows(reference)

    rerun = run("daily", config=victim / "toolkit.toml", now="2026-11-20 15:00")
    assert rerun.exit_code == 0, rerun.output
    assert ledger_rows(victim) == ledger_rows(reference)


def test_daily_freezes_the_deadline_archive_once_and_reads_waiting_communes_first(provisioned):
    type_row(provisioned, "06202", "Báo cáo ngày", DAY, {SHOPS: 1, ACCOUNTS: 1},
             at="2026-11-20 09:00")
    before = run("daily", config=provisioned, now="2026-11-20 15:00")
    assert "đã lưu bản tổng hợp tại giờ hạn" not in before.output
    assert "Toàn tỉnh (4 xã phải báo cáo): 3 chưa nhập (còn hạn) · 1 đúng hạn" in before.output
    frozen = provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-20_theo-han.xlsx"
    assert not frozen.exists()

    cutoff = run("daily", config=provisioned, now="2026-11-20 17:00")
    assert f"đã lưu bản tổng hợp tại giờ hạn → {frozen}" in cutoff.output
    stamp = frozen.stat().st_mtime_ns
    type_row(provisioned, "06040", "Báo cáo ngày", DAY, {SHOPS: 5, ACCOUNTS: 5},
             at="2026-11-20 18:00")
    late = run("daily", config=provisioned, now="2026-11-20 20:00")
    assert "đã lưu bản tổng hợp tại giờ hạn" not in late.output
    assert frozen.stat().st_mtime_ns == stamp


def test_the_cutoff_sweep_reads_incomplete_communes_first(province):
    from toolkit.collect import collect
    from toolkit.periods import parse_now
    from toolkit.workspace import open_workspace

    run("provision", config=province, now="2026-11-20 08:00")
    with open_workspace(province) as ws:
        result = collect(ws.registry, ws.specs, ws.store, ws.ledger,
                         now=parse_now("2026-11-20 17:00"), campaign=ws.campaign,
                         always_read=("06202", "06019"))
    assert {o.code for o in result.outcomes[:2]} == {"06019", "06202"}
