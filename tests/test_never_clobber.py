"""P6: the toolkit never writes into a workbook someone has open, never loses a save made
while it writes, and puts right what an interrupted write left behind (real files, real
processes, openpyxl reading back). The random race is tests/test_clobber_race.py."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import copy_province, run, type_row, workbook_of
from toolkit.backends import safe_write
from toolkit.backends.lockfiles import excel_owner, libreoffice_owner
from toolkit.periods import VN_TZ

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
DAY = date(2026, 11, 20)


def excel_lock(user: str) -> bytes:
    """An Excel owner file as Office writes it (the layout LibreOffice writes for Excel too):
    length, the name in the code page padded with spaces to 55, then length and UTF-16-LE."""
    ansi = user.encode("cp1252", "replace")
    data = bytes([len(user)]) + ansi + b" " * (54 - len(ansi))
    data += bytes([len(user), 0]) + user.encode("utf-16-le")
    return (data + b" \x00" * 80)[:165]


def word_lock(user: str) -> bytes:
    """Word's owner file: the name padded with zeros to 54."""
    ansi = user.encode("cp1252", "replace")
    data = bytes([len(user)]) + ansi + b"\x00" * (53 - len(ansi))
    return (data + bytes([len(user), 0]) + user.encode("utf-16-le") + b"\x00" * 80)[:162]


@pytest.fixture(scope="module")
def reported_once(provisioned_once, tmp_path_factory):
    """Provisioned, one commune reported and its Kiểm tra written; it then types again. Made
    once a module (a full `toolkit daily` is most of what it costs); each test gets a copy."""
    config = copy_province(provisioned_once, tmp_path_factory.mktemp("reported"))
    type_row(config, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 5}, at="2026-11-20 09:00")
    assert run("daily", config=config, now="2026-11-20 10:00").exit_code == 0
    type_row(config, "06040", DAILY, DAY, {SHOPS: "ba"}, at="2026-11-20 10:30")
    return config


@pytest.fixture
def reported(reported_once, tmp_path):
    """A test's own copy of ``reported_once``; copy2 keeps the workbooks' modification
    times, which collect compares with the ledger's."""
    return copy_province(reported_once, tmp_path)


def test_owner_files_name_who_has_the_workbook_open():
    assert excel_owner(excel_lock("Nguyễn Văn An")) == "Nguyễn Văn An"
    assert excel_owner(word_lock("Lò Thị Hoa")) == "Lò Thị Hoa"
    assert excel_owner(b"") is None and excel_owner(b"\x00" * 165) is None
    assert libreoffice_owner(",Trần Thị Bình,MAY-XA-01,20.11.2026 10:00,file:///C:/lo/4;") \
        == "Trần Thị Bình (máy MAY-XA-01)"
    assert libreoffice_owner("Trần Thị Bình,binh,MAY-XA-01,20.11.2026 10:00,file:///lo;") \
        == "Trần Thị Bình (máy MAY-XA-01)"


@pytest.mark.parametrize("lock, content, who", [
    ("~${}", excel_lock("Nguyễn Văn An"), "trên máy của Nguyễn Văn An"),
    (".~lock.{}#", ",Trần Thị Bình,MAY-XA-01,20.11.2026 10:00,file:///C:/lo/4;".encode(),
     "trên máy của Trần Thị Bình (máy MAY-XA-01)"),
])
def test_a_workbook_open_beside_its_lock_file_is_deferred_not_rewritten(reported, lock,
                                                                        content, who):
    path = workbook_of(reported, "06040")
    owner = path.with_name(lock.format(path.name))
    owner.write_bytes(content)
    opened = datetime(2026, 11, 20, 10, 58, tzinfo=VN_TZ).timestamp()
    os.utime(owner, (opened, opened))
    result = run("collect", config=reported, now="2026-11-20 11:00")
    assert result.exit_code == 0, result.output      # reading an open workbook is fine
    before = path.read_bytes()
    result = run("validate", config=reported, now="2026-11-20 11:00")
    assert result.exit_code == 0, result.output      # deferred is not a failure
    line = [x for x in result.output.splitlines() if "Xã Thất Khê" in x and "để lần quét sau" in x]
    assert len(line) == 1, result.output
    assert owner.name in line[0]
    assert f"{who} từ 10:58 20/11/2026 (tệp khoá" in line[0]
    assert path.read_bytes() == before
    assert owner.read_bytes() == content               # a person's lock file is theirs
    owner.unlink()                                      # they close the workbook
    again = run("validate", config=reported, now="2026-11-20 11:05")
    assert "0 sổ để lần quét sau" in again.output, again.output
    kiem_tra = load_workbook(path)["Kiểm tra"]
    assert kiem_tra["A1"].value.startswith("Kiểm tra lúc 11:05")


HOLDER = """
import fcntl, sys, time
with open(sys.argv[1], "rb+") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)          # what LibreOffice takes on a document it edits
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.skipif(os.name == "nt", reason="a record lock is the POSIX way of holding a file")
def test_a_workbook_the_os_reports_in_use_is_deferred(reported):
    path = workbook_of(reported, "06040")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert run("collect", config=reported, now="2026-11-20 11:00").exit_code == 0
        before = path.read_bytes()
        result = run("validate", config=reported, now="2026-11-20 11:00")
        assert result.exit_code == 0, result.output
        assert "Xã Thất Khê: " in result.output and "hệ điều hành báo đang dùng" in result.output
        assert path.read_bytes() == before
    finally:
        holder.communicate("\n", timeout=30)
    assert "0 sổ để lần quét sau" in run("validate", config=reported, now="2026-11-20 11:05").output


def test_provision_leaves_an_open_workbook_and_completes_it_next_time(reported):
    path = workbook_of(reported, "06040")
    owner = path.with_name(f"~${path.name}")
    owner.write_bytes(excel_lock("Nguyễn Văn An"))
    text = reported.read_text(encoding="utf-8")
    reported.write_text(text.replace("end = 2027-01-19", "end = 2027-01-29"), encoding="utf-8")
    before = path.read_bytes()
    result = run("provision", config=reported, now="2026-11-20 11:00")
    assert result.exit_code == 0, result.output
    assert "Xã Thất Khê" in result.output and "Nguyễn Văn An" in result.output
    assert "3 sổ đã thay đổi" in result.output
    assert path.read_bytes() == before
    owner.unlink()
    assert "1 sổ đã thay đổi" in run("provision", config=reported,
                                          now="2026-11-20 11:05").output
    sheet = load_workbook(path)[DAILY]
    assert sheet.cell(sheet.max_row, 1).value.date() == date(2027, 1, 29)
    assert sheet["B3"].value == "ba"                   # what the commune typed is kept


def _person_saves(path: Path, cell: str, value) -> None:
    """A person's Excel saving the workbook: load, type, save, stamped with the real time."""
    book = load_workbook(path)
    book[DAILY][cell].value = value
    book.save(path)
    stamp = time.time_ns()
    os.utime(path, ns=(stamp, stamp))


@pytest.mark.parametrize("step", ["read", "aside", "swap", "placed"])
def test_a_save_landing_inside_provision_is_kept_and_read(reported, monkeypatch, step):
    """Provision's write (here: new period rows) goes through the same protocol: a save that
    lands at any step of it is kept, and collect reads it."""
    path = workbook_of(reported, "06040")
    text = reported.read_text(encoding="utf-8")
    reported.write_text(text.replace("end = 2027-01-19", "end = 2027-01-29"), encoding="utf-8")
    book = load_workbook(path)          # the person opened the workbook before the write

    def hook(at: str, where: Path) -> None:
        if at == step and where == path:
            book[DAILY]["C3"].value = 42
            book.save(path)
            stamp = time.time_ns()
            os.utime(path, ns=(stamp, stamp))

    monkeypatch.setattr(safe_write, "HOOK", hook)
    result = run("provision", config=reported, now="2026-11-20 11:00")
    monkeypatch.setattr(safe_write, "HOOK", None)
    assert result.exit_code == 0, result.output
    assert load_workbook(path)[DAILY]["C3"].value == 42
    assert "để lần quét sau" in result.output and "Xã Thất Khê" in result.output
    collected = run("collect", config=reported, now="2026-11-20 11:10")
    assert collected.exit_code == 0, collected.output
    assert _ledger_value(reported, "06040", "2026-11-20", "new_accounts") == 42
    run("provision", config=reported, now="2026-11-20 11:15")
    assert load_workbook(path)[DAILY]["C3"].value == 42


def _ledger_value(config: Path, code: str, period: str, key: str):
    from toolkit.ledger import Ledger

    with Ledger(config.parent / "ledger.sqlite") as ledger:
        rows = ledger.versions("kts_daily")
    rows = rows[(rows["commune_code"] == code) & (rows["period"] == period)]
    return rows.sort_values("id").iloc[-1]["values"].get(key)


# -- no hard links: the no-replace step still never replaces -----------------------------------

def _no_links(*_args, **_kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")


@pytest.mark.parametrize("way", ["rename_noreplace", "exclusive_copy"])
def test_placing_without_hard_links_never_replaces(tmp_path, monkeypatch, way):
    """Some SMB shares and FAT drives have no hard links: the placement falls back to an
    atomic no-replace rename, or to an exclusively created copy, and still never replaces."""
    monkeypatch.setattr(safe_write.os, "link", _no_links)
    if way == "exclusive_copy":
        def unsupported(*_args):
            raise safe_write._NoAtomicNoReplace(errno.ENOSYS, "renameat2 not available")
        monkeypatch.setattr(safe_write, "_rename_noreplace", unsupported)
    new, taken, free = tmp_path / "new", tmp_path / "taken", tmp_path / "free"
    new.write_bytes(b"toolkit")
    taken.write_bytes(b"commune")
    os.utime(new, ns=(1_700_000_000_000_000_000,) * 2)
    assert safe_write.place(new, taken) is False
    assert taken.read_bytes() == b"commune"
    assert safe_write.place(new, free) is True
    assert free.read_bytes() == b"toolkit"
    assert free.stat().st_mtime_ns == 1_700_000_000_000_000_000


def test_feedback_is_written_where_there_are_no_hard_links(reported, monkeypatch):
    monkeypatch.setattr(safe_write.os, "link", _no_links)
    result = run("daily", config=reported, now="2026-11-20 11:00")
    assert result.exit_code == 0, result.output
    assert "0 sổ để lần quét sau" in result.output, result.output
    path = workbook_of(reported, "06040")
    assert load_workbook(path)["Kiểm tra"]["A1"].value.startswith("Kiểm tra lúc 11:00")
    assert not [n for n in os.listdir(path.parent) if n.startswith(".~")]


# -- an interrupted write is put right on the next run --------------------------------------------

KILLED_AT = """
import os, sys
from pathlib import Path
from toolkit.backends import safe_write
from toolkit.workspace import open_workspace
from toolkit.validate import validate
from toolkit.collect import collect
from datetime import datetime
from toolkit.periods import VN_TZ

def die(step, path):
    if step == sys.argv[2]:
        os._exit(9)                      # killed: no finally, no clean-up

safe_write.HOOK = die
ws = open_workspace(sys.argv[1])
now = datetime(2026, 11, 20, 11, 0, tzinfo=VN_TZ)
collect(ws.registry, ws.specs, ws.store, ws.ledger, now=now, campaign=ws.campaign)
validate(ws.specs, ws.registry, ws.store, ws.ledger, day=now.date(), now=now,
         campaign=ws.campaign)
"""


@pytest.mark.parametrize("step", ["aside", "swap", "placed"])
def test_a_write_killed_midway_is_put_right_on_the_next_run(reported, step):
    path = workbook_of(reported, "06040")
    folder = path.parent
    before = path.read_bytes()
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(reported), step],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    left = sorted(n for n in os.listdir(folder) if n.startswith(".~toolkit-"))
    assert left, "the killed write left nothing behind"
    assert path.exists() == (step != "swap")    # killed with the workbook aside
    (folder / ".~ab12cd34.xlsx").write_bytes(b"PK")          # an earlier version's temp file
    mine = folder / f"~${path.name}"
    result = run("collect", config=reported, now="2026-11-20 11:05")
    assert result.exit_code == 0, result.output
    assert not [n for n in os.listdir(folder) if n.startswith(".~")]
    if step == "swap":
        assert path.read_bytes() == before              # back as it was, byte for byte
    assert load_workbook(path)[DAILY]["B3"].value == "ba"
    mine.write_bytes(excel_lock("Nguyễn Văn An"))
    run("collect", config=reported, now="2026-11-20 11:06")
    assert mine.exists()                                # a person's lock file is never touched


def test_recent_leftovers_wait_unless_the_province_lock_is_held(reported):
    """Without the province's lock (collect called from Python) only leftovers older than a
    few minutes go: a run still writing may own a younger one."""
    from toolkit.collect import collect
    from toolkit.workspace import open_workspace

    folder = workbook_of(reported, "06040").parent
    young = folder / ".~toolkit-new-0badf00d-06040 Xã Thất Khê.xlsx"
    old = folder / ".~0ld0ne12.xlsx"
    young.write_bytes(b"PK")
    old.write_bytes(b"PK")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    with open_workspace(reported) as ws:
        from datetime import datetime

        from toolkit.periods import VN_TZ
        collect(ws.registry, ws.specs, ws.store, ws.ledger,
                now=datetime(2026, 11, 20, 11, 0, tzinfo=VN_TZ), campaign=ws.campaign)
    assert young.exists() and not old.exists()
    assert run("collect", config=reported, now="2026-11-20 11:05").exit_code == 0
    assert not young.exists()


# -- a save caught halfway is a save in progress, not a damaged workbook -----------------------

def _saved_halfway(path: Path, stamp: int, cell: str, value, monkeypatch) -> list:
    """A save that rewrites the file where it is (LibreOffice, a sync client), caught halfway:
    half the new bytes under ``stamp`` — the kernel may still show the stamp of the save
    before — until the toolkit has taken them, and the whole file a moment later."""
    book = load_workbook(path)
    book[DAILY][cell].value = value
    whole = io.BytesIO()
    book.save(whole)
    data = whole.getvalue()
    path.write_bytes(data[:len(data) // 2])
    os.utime(path, ns=(stamp, stamp))
    timers: list[threading.Timer] = []
    taken = safe_write.snapshot

    def finish() -> None:
        path.write_bytes(data)
        now = time.time_ns()
        os.utime(path, ns=(now, now))

    def snapshot(where: Path):
        got = taken(where)
        if where == path and not timers:
            timers.append(threading.Timer(0.05, finish))
            timers[0].start()
        return got

    monkeypatch.setattr(safe_write, "snapshot", snapshot)
    return timers


def test_collect_reads_a_save_caught_halfway_once_it_is_done(reported, monkeypatch):
    path = workbook_of(reported, "06040")
    timers = _saved_halfway(path, time.time_ns(), "C3", 7, monkeypatch)
    result = run("collect", config=reported, now="2026-11-20 11:00")
    assert len(timers) == 1 and not timers[0].join()
    assert result.exit_code == 0, result.output
    assert _ledger_value(reported, "06040", "2026-11-20", "new_accounts") == 7


def test_feedback_defers_a_save_caught_halfway(reported, monkeypatch):
    path = workbook_of(reported, "06040")
    assert run("collect", config=reported, now="2026-11-20 11:00").exit_code == 0
    timers = _saved_halfway(path, path.stat().st_mtime_ns, "C3", 7,   # the stamp collect saw
                            monkeypatch)
    result = run("validate", config=reported, now="2026-11-20 11:01")
    assert len(timers) == 1 and not timers[0].join()
    assert result.exit_code == 0, result.output          # deferred, not FAILED
    (line,) = [x for x in result.output.splitlines() if x.startswith("  để lần quét sau")]
    assert line == (f"  để lần quét sau — Xã Thất Khê: {path.name}: xã đang lưu "
                    "sổ đúng lúc toolkit đọc (tệp đang được ghi dở); sổ được đọc lại ở lượt "
                    "sau, không cần làm gì")
    assert load_workbook(path)[DAILY]["C3"].value == 7
    assert run("daily", config=reported, now="2026-11-20 11:05").exit_code == 0
    assert _ledger_value(reported, "06040", "2026-11-20", "new_accounts") == 7
    assert load_workbook(path)["Kiểm tra"]["A1"].value.startswith("Kiểm tra lúc 11:05")


def test_a_workbook_left_aside_is_kept_when_a_newer_one_has_its_name(reported):
    """A write interrupted with the workbook aside, and a save under the name since: the one
    aside may hold figures the ledger has not read, so it is kept under a name of its own,
    and collect names both files."""
    path = workbook_of(reported, "06040")
    aside = path.with_name(f".~toolkit-aside-0badf00d-{path.name}")
    aside.write_bytes(path.read_bytes())
    _person_saves(path, "C3", 9)
    result = run("collect", config=reported, now="2026-11-20 11:00")
    assert result.exit_code == 0, result.output
    kept = path.with_name(f"{path.stem} (bản giữ lại 1).xlsx")
    assert not aside.exists() and kept.exists()
    assert load_workbook(kept)[DAILY]["B3"].value == "ba"
    assert f"toolkit đọc '{path.name}', không đọc '{kept.name}'" in result.output
    assert _ledger_value(reported, "06040", "2026-11-20", "new_accounts") == 9
    same = path.with_name(f".~toolkit-aside-0badf00d-{path.name}")
    same.write_bytes(path.read_bytes())                  # the same as the workbook: removed
    run("collect", config=reported, now="2026-11-20 11:05")
    assert not same.exists()
    assert sorted(p.name for p in path.parent.glob("06040 *")) == sorted([path.name, kept.name])
