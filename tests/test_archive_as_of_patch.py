"""A quiet sweep brings the archive's moment (its time, and how many workbooks the sweep read)
up to date inside the saved workbook (issue P10, goal 1): what it leaves is the workbook a
full write at that moment makes; a sweep in which anything else changed, and an archive the
patch cannot vouch for, are written in full."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from office import needs_office, pdf_text
from openpyxl import Workbook, load_workbook

from conftest import copy_province, run, type_row
from toolkit import archive
from toolkit.archive_patch import STAMP_PROPERTY, STAMP_VERSION
from toolkit.periods import VN_TZ
from toolkit.rollup import build_rollup
from toolkit.workspace import open_workspace

DAY = date(2026, 11, 20)
DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
#: The creation time a full write replaces and a patch keeps: how a test tells them apart.
MARK = b"2001-02-03T04:05:06Z"
_CREATED = re.compile(rb"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)")


def archives(config: Path) -> list[Path]:
    """The as-of-now archives of the province."""
    return sorted(p for p in (config.parent / "archive").rglob("*.xlsx")
                  if not p.stem.endswith("_theo-han"))


def daily_archive(config: Path) -> Path:
    return config.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"


def sweep(config: Path, now: str):
    result = run("daily", config=config, now=now)
    assert result.exit_code == 0, result.output
    return result


def edit_part(path: Path, name: str, change) -> None:
    """Change one part of an .xlsx package, the rest kept as it is."""
    with zipfile.ZipFile(path) as book:
        parts = [(info, book.read(info)) for info in book.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, change(data) if info.filename == name else data)
    path.write_bytes(buffer.getvalue())


def mark(path: Path) -> None:
    edit_part(path, "docProps/core.xml", lambda data: _CREATED.sub(
        rb"\g<1>" + MARK + rb"\g<2>", data, count=1))


def patched(path: Path) -> bool:
    """Whether the archive at ``path`` is the marked one, patched, rather than written anew."""
    with zipfile.ZipFile(path) as book:
        return MARK in book.read("docProps/core.xml")


def facts(path: Path) -> dict:
    book = load_workbook(path, read_only=True)
    rows = {r[0]: r[1] for r in book["Thông tin"].iter_rows(values_only=True)}
    book.close()
    return rows


def stamp_of(path: Path) -> str | None:
    """The archive's stamp as openpyxl reads it (read-only: the properties are read all the
    same, the sheets not parsed)."""
    book = load_workbook(path, read_only=True)
    try:
        return next((p.value for p in book.custom_doc_props if p.name == STAMP_PROPERTY), None)
    finally:
        book.close()


def look(path: Path) -> dict:
    """Everything openpyxl reads back of a workbook: every cell's value and style, the
    columns, rows, panes, filter, print titles, page setup, header and footer, the charts."""
    book = load_workbook(path)
    out: dict = {"sheets": book.sheetnames,
                 "properties": [(p.name, p.value) for p in book.custom_doc_props]}
    for sheet in book.worksheets:
        # (a style compares equal only within its workbook: its repr, across two)
        cells = {c.coordinate: (c.value, c.data_type, c.number_format, *map(repr, (
                     c.font, c.fill, c.alignment, c.border, c.protection)))
                 for row in sheet.iter_rows() for c in row}
        headers = [(part.text, part.size) for hf in (sheet.oddHeader, sheet.oddFooter)
                   for part in (hf.left, hf.center, hf.right)]
        out[sheet.title] = dict(
            cells=cells,
            widths={k: d.width for k, d in sheet.column_dimensions.items()},
            heights={k: d.height for k, d in sheet.row_dimensions.items()},
            panes=sheet.freeze_panes, filter=sheet.auto_filter.ref,
            titles=sheet.print_title_rows, headers=headers,
            setup=(sheet.page_setup.orientation, sheet.page_setup.paperSize,
                   sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight,
                   sheet.sheet_properties.pageSetUpPr.fitToPage),
            charts=[(type(c).__name__, c.anchor._from.row, c.anchor._from.col)
                    for c in sheet._charts])
    return out


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()
                if name != "docProps/core.xml"}


@pytest.fixture(scope="module")
def swept_twice_once(provisioned_once, tmp_path_factory) -> tuple[Path, Path]:
    """``provisioned_once`` swept at 10:00 (in full) and 10:05 (quiet, its archives patched),
    and a copy of that folder kept aside: three tests start there, made once a module."""
    base = tmp_path_factory.mktemp("swept-twice")
    config = copy_province(provisioned_once, base / "live")
    sweep(config, "2026-11-20 10:00")
    sweep(config, "2026-11-20 10:05")
    return config, copy_province(config, base / "kept")


@pytest.fixture
def swept_twice(swept_twice_once) -> Path:
    """The province swept at 10:00 and 10:05, put back where it was swept from the copy kept
    aside: the sweeps' record names the folder by its absolute path (a copy elsewhere sweeps
    in full), and copy2 keeps the sizes and modification times it compares. Tests on one
    worker run one at a time, so one place serves them all."""
    config, kept = swept_twice_once
    shutil.rmtree(config.parent)
    shutil.copytree(kept.parent, config.parent)
    return config


def test_a_quiet_sweep_patches_the_moment_into_what_a_full_write_makes(provisioned, tmp_path,
                                                                       monkeypatch):
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 09:00")
    sweep(provisioned, "2026-11-20 10:00")               # the first: reads the four workbooks
    for path in archives(provisioned):
        mark(path)
    twin = copy_province(provisioned, tmp_path / "twin")
    assert facts(daily_archive(provisioned))["Lần quét gần nhất"].startswith(
        "Lần quét gần nhất đọc 4 sổ có thay đổi / 4 xã")

    # Nothing typed since: the time and Thông tin's count of workbooks read (4, now 0) are
    # all that change.
    quiet = sweep(provisioned, "2026-11-20 11:15")
    assert archives(provisioned) and all(patched(p) for p in archives(provisioned))
    assert str(daily_archive(provisioned)) in quiet.output
    monkeypatch.setattr(archive, "PATCH_MOMENT", False)
    sweep(twin, "2026-11-20 11:15")
    assert not any(patched(p) for p in archives(twin))

    assert [p.relative_to(provisioned.parent) for p in archives(provisioned)] == \
        [p.relative_to(twin.parent) for p in archives(twin)]
    for mine, full in zip(archives(provisioned), archives(twin), strict=True):
        assert look(mine) == look(full), mine.name
        assert parts(mine) == parts(full), mine.name       # byte for byte, but core.xml
    info = facts(daily_archive(provisioned))
    assert info["Số liệu tính đến"] == "11:15:00 20/11/2026 (hiện tại)"
    assert info["Lập lúc"] == "11:15:00 20/11/2026"
    assert info["Lần quét gần nhất"].startswith("Lần quét gần nhất đọc 0 sổ có thay đổi / 4 xã")
    book = load_workbook(daily_archive(provisioned))
    assert "Số liệu đến 11:15 ngày 20/11/2026 (hiện tại)" in book["Tổng hợp"]["A2"].value
    assert book["Tổng hợp"].oddFooter.left.text == "Số liệu đến 11:15 ngày 20/11/2026 (hiện tại)"
    assert stamp_of(daily_archive(provisioned)).split(" ")[2:5] == [
        "2026-11-20T11:15:00+07:00", "2026-11-20T11:15:00+07:00", "0"]


def test_a_commune_typing_is_written_in_full_and_other_reports_patched(provisioned):
    sweep(provisioned, "2026-11-20 10:00")
    path = daily_archive(provisioned)
    monthly = provisioned.parent / "archive/cds_monthly/2026/cds_monthly_2026-11.xlsx"
    mark(path)
    sweep(provisioned, "2026-11-20 10:45")
    assert patched(path)
    mark(monthly)
    type_row(provisioned, "06001", DAILY, DAY, {SHOPS: 5, ACCOUNTS: 6}, at="2026-11-20 11:00")
    sweep(provisioned, "2026-11-20 11:30")
    assert not patched(path)
    book = load_workbook(path)
    (row,) = [r for r in book["Tổng hợp"].iter_rows(values_only=True) if r[0] == "06001"]
    assert 5 in row and 6 in row
    assert facts(path)["Số liệu tính đến"] == "11:30:00 20/11/2026 (hiện tại)"
    # The monthly report's figures did not change: its archive is patched, and says that the
    # sweep read one workbook.
    assert patched(monthly)
    info = facts(monthly)
    assert info["Số liệu tính đến"] == "11:30:00 20/11/2026 (hiện tại)"
    assert info["Lần quét gần nhất"].startswith("Lần quét gần nhất đọc 1 sổ có thay đổi / 4 xã")


def test_a_report_nobody_changed_is_restamped_without_making_its_tables(provisioned, tmp_path,
                                                                       monkeypatch):
    """A commune types its day: the daily report's archive is made anew; the other reports'
    rollups are made of what their archives were (archive.made_of), so their tables are not
    even made, and each archive is still the workbook a full write at that moment makes."""
    sweep(provisioned, "2026-11-20 10:00")
    twin = copy_province(provisioned, tmp_path / "twin")
    made, make = [], archive.archive_tables
    monkeypatch.setattr(archive, "archive_tables", lambda rollup, **kwargs: (
        made.append(rollup.spec.key), make(rollup, **kwargs))[1])
    for config in (provisioned, twin):
        type_row(config, "06001", DAILY, DAY, {SHOPS: 5, ACCOUNTS: 6}, at="2026-11-20 11:00")
    sweep(provisioned, "2026-11-20 11:30")
    assert made == ["kts_daily"]
    monkeypatch.setattr(archive, "PATCH_MOMENT", False)
    sweep(twin, "2026-11-20 11:30")
    assert len(made) == 1 + len(archives(twin))
    assert [p.relative_to(provisioned.parent) for p in archives(provisioned)] == \
        [p.relative_to(twin.parent) for p in archives(twin)]
    for mine, full in zip(archives(provisioned), archives(twin), strict=True):
        assert look(mine) == look(full), mine.name
        assert parts(mine) == parts(full), mine.name       # byte for byte, but core.xml


def test_the_deadline_passing_is_written_in_full(provisioned):
    """Statuses move with the clock (not yet due → missing): no patch says that."""
    sweep(provisioned, "2026-11-20 15:00")     # reads the four workbooks
    path = daily_archive(provisioned)
    mark(path)
    sweep(provisioned, "2026-11-20 16:00")
    assert patched(path)
    sweep(provisioned, "2026-11-20 17:30")
    assert not patched(path)
    assert facts(path)["Số liệu tính đến"] == "17:30:00 20/11/2026 (hiện tại)"
    # The as-of-deadline archive is written once and never patched: it carries no stamp.
    frozen = path.with_name("kts_daily_2026-11-20_theo-han.xlsx")
    assert frozen.exists() and stamp_of(frozen) is None
    assert stamp_of(path) is not None


def test_an_archive_the_patch_cannot_vouch_for_is_written_in_full(swept_twice):
    path = daily_archive(swept_twice)
    good = path.read_bytes()

    def quiet_sweep_writes_in_full(now: str) -> None:
        sweep(swept_twice, now)
        assert not patched(path)
        assert facts(path)["Số liệu tính đến"] == f"{now[-5:]}:00 20/11/2026 (hiện tại)"
        assert stamp_of(path) is not None

    path.write_bytes(b"not a workbook")                             # corrupted
    quiet_sweep_writes_in_full("2026-11-20 10:10")
    path.write_bytes(good[: len(good) // 2])                         # cut short
    quiet_sweep_writes_in_full("2026-11-20 10:20")
    foreign = Workbook()                                            # someone else's, no stamp
    foreign.active["A1"] = "Số liệu đến 10:20 ngày 20/11/2026 (hiện tại)"
    foreign.save(path)
    mark(path)
    quiet_sweep_writes_in_full("2026-11-20 10:30")
    assert load_workbook(path).sheetnames[0] == "Tổng hợp"

    # The stamp vouches for the tables, but a text of the moment was changed by hand: it is
    # no longer where (and as often as) the tables put it.
    mark(path)
    edit_part(path, "xl/worksheets/sheet1.xml",
              lambda data: data.replace("Số liệu đến 10:30".encode(),
                                        "Số liệu đến 10:29".encode(), 1))
    quiet_sweep_writes_in_full("2026-11-20 10:40")
    assert "10:40" in load_workbook(path)["Tổng hợp"]["A2"].value
    # Said to be made of another rollup: the tables are made after all, found the same as
    # the stamp's, and the moment patched in; the stamp names this rollup again.
    mark(path)
    made_of = stamp_of(path).split(" ")[-1]
    edit_part(path, "docProps/custom.xml", lambda data: data.replace(made_of.encode(),
                                                                     b"0" * 64))
    sweep(swept_twice, "2026-11-20 10:45")
    assert patched(path) and stamp_of(path).split(" ")[-1] == made_of
    # Another digest, and no rollup named (as its tables were handed to the writer): the
    # stamp of other tables.
    mark(path)
    edit_part(path, "docProps/custom.xml", lambda data: re.sub(
        rb" [0-9a-f]{64}(</vt:lpwstr>)", rb" -\g<1>", re.sub(
            rb"(<vt:lpwstr>" + STAMP_VERSION.encode() + rb" )[0-9a-f]{8}", rb"\g<1>00000000",
            data)))
    quiet_sweep_writes_in_full("2026-11-20 10:50")
    # Untouched, the next quiet sweep patches it again.
    mark(path)
    sweep(swept_twice, "2026-11-20 11:00")
    assert patched(path)


@needs_office
def test_libreoffice_opens_the_patched_archive_and_prints_its_new_time(swept_twice, tmp_path):
    path = daily_archive(swept_twice)
    mark(path)
    sweep(swept_twice, "2026-11-20 10:35")
    assert patched(path)
    first = pdf_text(path, tmp_path / "pdf").split("\f")[0]
    assert "Số liệu đến 10:35 ngày 20/11/2026 (hiện tại)" in first
    assert "10:00" not in first


def test_seconds_apart_the_minute_stays_and_the_seconds_move(swept_twice, tmp_path, monkeypatch):
    """A sweep at 10:05:30 after one at 10:05:00: the "Số liệu đến 10:05" words are the same,
    Thông tin's times (to the second) are not; the patch brings those alone."""
    from toolkit.daily import run_daily
    from toolkit.periods import VN_TZ
    from toolkit.workspace import open_workspace

    path = daily_archive(swept_twice)
    mark(path)
    twin = copy_province(swept_twice, tmp_path / "twin")
    moment = datetime(2026, 11, 20, 10, 5, 30, tzinfo=VN_TZ)
    with open_workspace(swept_twice) as ws:
        run_daily(ws, now=moment)
    assert patched(path)
    monkeypatch.setattr(archive, "PATCH_MOMENT", False)
    with open_workspace(twin) as ws:
        run_daily(ws, now=moment)
    assert look(path) == look(daily_archive(twin))
    assert parts(path) == parts(daily_archive(twin))
    info = facts(path)
    assert info["Số liệu tính đến"] == "10:05:30 20/11/2026 (hiện tại)"
    assert info["Lập lúc"] == "10:05:30 20/11/2026"
    assert "Số liệu đến 10:05 ngày" in load_workbook(path)["Tổng hợp"]["A2"].value


def _other(value):
    """A value of the same kind as ``value`` and not equal to it (None: none made here)."""
    if isinstance(value, bool | np.bool_):
        return not value
    if isinstance(value, int | np.integer):
        return value + 1
    if isinstance(value, float | np.floating):
        return 0.5 if value != value else value + 0.5
    if isinstance(value, str):
        return value + "·"
    return None


def test_made_of_tells_apart_every_cell_of_a_rollup_but_not_its_moment(provisioned):
    """What a report's rollup is made of (archive.made_of) changes with any one cell of any of
    its frames, and not with its moment: two rollups of one digest make the same tables."""
    type_row(provisioned, "06040", DAILY, DAY, {SHOPS: 3, ACCOUNTS: 4}, at="2026-11-20 09:00")
    sweep(provisioned, "2026-11-20 10:00")
    ws = open_workspace(provisioned)
    try:
        spec = next(s for s in ws.specs if s.key == "kts_daily")
        now = datetime(2026, 11, 20, 10, 30, tzinfo=VN_TZ)
        rollup = build_rollup(spec, ws.registry, ws.report_versions(spec), DAY, as_of_mode="now",
                              now=now, grace=ws.grace, campaign=ws.campaign)
    finally:
        ws.close()
    base = archive.made_of(rollup)
    later = now + timedelta(minutes=5)
    assert archive.made_of(replace(rollup, as_of=later, generated_at=later,
                                   status=replace(rollup.status, as_of=later))) == base
    owners = [(rollup, name) for name in ("communes", "areas", "issues", "rates", "series",
                                          "progress")] + \
             [(rollup.status, name) for name in ("communes", "summary")]
    told = 0
    for owner, name in owners:
        frame = getattr(owner, name)
        for at in range(len(frame.columns) if len(frame) else 0):
            other = _other(frame.iat[0, at])
            if other is None:
                continue
            changed = frame.copy()
            changed.iat[0, at] = other
            if not changed.dtypes.equals(frame.dtypes):
                continue
            made = replace(owner, **{name: changed})
            if owner is rollup.status:
                made = replace(rollup, status=made)
            assert archive.made_of(made) != base, (name, frame.columns[at])
            told += 1
    assert told >= 40
