"""A sweep costs what changed: a quiet `toolkit daily` rewrites no commune workbook (issue 15,
goal 1); the as-of-now archive is written again, to say the sweep's time."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook

from conftest import run, type_row, workbook_of

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"


def facts(path) -> dict:
    book = load_workbook(path, read_only=True)
    rows = {r[0]: r[1] for r in book["Thông tin"].iter_rows(values_only=True)}
    book.close()
    return rows


def test_a_quiet_sweep_rewrites_no_workbook_and_the_archive_says_its_time(provisioned):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 09:00")
    first = run("daily", config=provisioned, now="2026-11-20 10:00")
    assert first.exit_code == 0, first.output
    archive = provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    books = sorted((provisioned.parent / "workbooks").glob("*.xlsx"))
    before = {p: p.stat().st_mtime_ns for p in [archive, *books]}

    quiet = run("daily", config=provisioned, now="2026-11-20 10:30")
    assert quiet.exit_code == 0, quiet.output
    assert "collect: đã đọc 0 sổ, 4 sổ không đổi" in quiet.output
    assert "trang Kiểm tra đã ghi cho 0 sổ, 4 sổ không đổi" in quiet.output
    assert {p: p.stat().st_mtime_ns for p in books} == {p: before[p] for p in books}
    # The archive says the sweep's time, as the Google rollup does: an hour-old time on a
    # quiet afternoon would read as a run that stopped.
    assert facts(archive)["Số liệu tính đến"] == "10:30:00 20/11/2026 (hiện tại)"
    assert str(archive) in quiet.output

    # A commune types: the next sweep writes the archive again, with the new figure.
    type_row(provisioned, "06001", DAILY, DAY, {SHOPS: 5, ACCOUNTS: 6}, at="2026-11-20 11:00")
    changed = run("daily", config=provisioned, now="2026-11-20 11:30")
    assert changed.exit_code == 0, changed.output
    assert archive.stat().st_mtime_ns != before[archive]
    assert facts(archive)["Số liệu tính đến"] == "11:30:00 20/11/2026 (hiện tại)"
    assert workbook_of(provisioned, "06040").stat().st_mtime_ns == before[
        workbook_of(provisioned, "06040")]


def test_the_deadline_passing_is_a_change_though_nobody_typed(provisioned):
    """Statuses move with the clock (not yet due → missing): the archive says so at once."""
    assert run("daily", config=provisioned, now="2026-11-20 16:00").exit_code == 0
    archive = provisioned.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"
    stamp = archive.stat().st_mtime_ns
    run("daily", config=provisioned, now="2026-11-20 17:30")
    assert archive.stat().st_mtime_ns != stamp
    assert facts(archive)["Số liệu tính đến"] == "17:30:00 20/11/2026 (hiện tại)"
