"""The archive written as text (toolkit.archive_package) is the package openpyxl saves for the
workbook toolkit.archive_xlsx builds of its objects: the same members in the same order, each
stored as the same bytes (compressed the same, with the same header but for its time), but
for the times in docProps/core.xml — for every archive a sweep of the test province writes
(each report, as of now and as of the deadline, with and without a stamp) and for tables made
up by hypothesis (titles, totals, shading, charts, no header, no rows, texts with & < > " and
spaces around, odd sheet names and page texts). Where it cannot vouch for a workbook it
declines, and openpyxl writes that one."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import copy_province, run, type_row
from toolkit import archive_xlsx
from toolkit.archive import STATUS_FILLS, TOTAL_COLOUR, Chart, Table
from toolkit.archive_package import package

DAILY = "Báo cáo ngày"
SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_LOCAL = struct.Struct("<4s2B4HL2L2H")


def members(data: bytes) -> list[tuple]:
    """Each member of a package as it is stored: its name, its local header but for the time
    and date, its central directory fields, its stored bytes — and for docProps/core.xml, which
    says when it was made, its XML with the times masked."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as package_:
        for info in package_.infolist():
            fixed = list(_LOCAL.unpack_from(data, info.header_offset))
            start = info.header_offset + _LOCAL.size + fixed[10] + fixed[11]
            stored = data[start:start + info.compress_size]
            fields = (info.flag_bits, info.compress_type, info.create_system,
                      info.create_version, info.extract_version, info.internal_attr,
                      info.external_attr, info.extra, info.comment)
            del fixed[5:7]                                      # time, date
            if info.filename == "docProps/core.xml":
                out.append((info.filename, fields, _TIME.sub(b"T", package_.read(info))))
            else:
                out.append((info.filename, fields, tuple(fixed), info.CRC, stored))
    return out


def assert_same_package(tables: list[Table], page: tuple[str, str], stamp: str | None) -> None:
    ours = package(tables, page, stamp)
    assert ours is not None, "the writer declined a workbook it should write"
    theirs = archive_xlsx._by_openpyxl(tables, page, stamp)
    mine, openpyxls = members(ours), members(theirs)
    assert [m[0] for m in mine] == [m[0] for m in openpyxls]
    for made, saved in zip(mine, openpyxls, strict=True):
        assert made == saved, made[0]


@pytest.fixture(scope="module")
def written(provisioned_once, tmp_path_factory):
    """Everything ``write_book`` was given in the sweeps of three days of the test province:
    each due report (daily, monthly, quarterly, two rosters), as of now and, after the
    deadline, as of the deadline."""
    config = copy_province(provisioned_once, tmp_path_factory.mktemp("package"))
    calls = []
    real = archive_xlsx.write_book

    def spy(tables, page, path, stamp=None):
        calls.append((f"{path.parent.parent.name}/{path.name}", tables, page, stamp))
        real(tables, page, path, stamp)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(archive_xlsx, "write_book", spy)
        for day in (20, 21, 22):
            for i, code in enumerate(("06040", "06001", "06202")):
                values = {SHOPS: day + i, ACCOUNTS: 2 * day}
                if (day, code) == (21, "06001"):
                    values[SHOPS] = "  <5 & > \"mấy\" "       # refused: a problem to list
                type_row(config, code, DAILY, date(2026, 11, day), values,
                         at=f"2026-11-{day} 1{i}:00")
            for hour in ("16:00", "18:30"):
                result = run("daily", config=config, now=f"2026-11-{day} {hour}")
                assert result.exit_code == 0, result.output
    return calls


def test_every_archive_of_a_sweep_is_the_package_openpyxl_saves(written):
    names = {name for name, *_ in written}
    assert any(name.endswith("_theo-han.xlsx") for name in names)
    assert {name.split("/")[0] for name in names} >= {
        "kts_daily", "cds_monthly", "bcd_quarterly", "team_roster", "committee_roster"}
    tables = [t for _, book, _, _ in written for t in book]
    assert any(t.all_charts for t in tables) and any(not t.header for t in tables)
    assert any(t.totals for t in tables) and any(t.title for t in tables)
    assert any(t.frame.empty for t in tables)
    assert any(stamp is None for *_, stamp in written)
    assert any(stamp is not None for *_, stamp in written)
    for _, book, page, stamp in written:
        assert_same_package(book, page, stamp)
        assert_same_package(book, page, None if stamp else "3 một & <dấu> \"x\"")


def test_the_archive_on_disk_is_written_as_text(written, tmp_path):
    _, tables, page, stamp = next(c for c in written if any(t.all_charts for t in c[1]))
    path = tmp_path / "archive.xlsx"
    archive_xlsx.write_book(tables, page, path, stamp)
    assert members(path.read_bytes()) == members(package(tables, page, stamp))
    book = load_workbook(path)
    assert book.sheetnames == [t.name for t in tables]
    assert any(sheet._charts for sheet in book.worksheets)


TEXT = st.text(st.sampled_from("aăâđêôơưxyzÀẠỹ0 &<>\"'\t\n;"), max_size=24)
HEADER = st.text(st.sampled_from("aăđêxyz &<>\"'%"), min_size=1, max_size=14)
NAME = st.sampled_from(["Tổng hợp", "Xếp hạng", "O'Brien & Co", "A <b> \"c\"", "Thông tin",
                        "Diễn biến", "x" * 31, "'đầu", "Lỗi dữ liệu"])
VALUE = st.one_of(st.none(), TEXT, st.integers(-10**9, 10**9),
                  st.floats(allow_nan=True, allow_infinity=False, width=32),
                  st.dates(date(1990, 1, 1), date(2040, 1, 1)),
                  st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1)), st.booleans())
FILL = st.sampled_from(["", TOTAL_COLOUR, *STATUS_FILLS.values()])


@st.composite
def tables(draw, name: str) -> Table:
    headers = draw(st.lists(HEADER | st.just("Mức chỉ tiêu 50%"), max_size=5, unique=True))
    rows = draw(st.integers(0, 6))
    frame = pd.DataFrame({h: pd.Series([draw(VALUE) for _ in range(rows)], dtype=object)
                          for h in headers}, columns=headers)
    header = draw(st.booleans()) if headers else True
    charts = []
    if headers and rows:
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["bar", "line"]))
            count = draw(st.integers(0, rows))
            charts.append(Chart(
                kind, draw(HEADER), draw(st.sampled_from(headers)),
                tuple(draw(st.lists(st.sampled_from(headers), max_size=3))),
                count, draw(st.none() | st.floats(0.01, 1.5)),
                draw(st.integers(0, rows - count))))
    status = draw(st.none() | st.sampled_from(headers)) if headers else None
    return Table(
        name, frame, percent=frozenset(draw(st.lists(st.sampled_from(headers)))) if headers
        else frozenset(), status=status,
        fills=tuple(draw(FILL) for _ in range(rows)) if status else (),
        frozen_columns=draw(st.integers(0, 2)), header=header,
        title=tuple(draw(st.lists(TEXT.filter(bool), max_size=3))),
        totals=draw(st.integers(0, rows)) if header else 0,
        shade=frozenset(headers[:2]), blank_fills=tuple(draw(FILL) for _ in range(rows)),
        charts=tuple(charts), text_width=draw(st.integers(12, 40)))


@st.composite
def books(draw) -> list[Table]:
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique=True))
    return [draw(tables(name)) for name in names]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.tuples(TEXT, TEXT | st.just("&[Tab] &&[Page] &")),
       st.none() | st.text(st.sampled_from("3 a&<>\"é:+-0"), max_size=20))
def test_made_up_tables_are_the_package_openpyxl_saves(tables, page, stamp):
    assert_same_package(tables, page, stamp)


def _table(name="Tổng hợp", **chart) -> Table:
    frame = pd.DataFrame({"Xã": ["A", "B"], "Tỷ lệ": [0.5, 0.7]})
    spec = Chart(chart.get("kind", "bar"), chart.get("title", "Tỷ lệ"), "Xã", ("Tỷ lệ",), 2,
                 chart.get("percent_max"))
    return Table(name, frame, percent=frozenset({"Tỷ lệ"}), charts=(spec,))


@pytest.mark.parametrize("tables", [
    [],
    [_table(), _table()],                                  # openpyxl numbers the second
    [_table("Tổng hợp"), _table("TỔNG HỢP")],
    [_table("a/b")],                                       # openpyxl refuses
    [_table("x" * 32)],                                    # openpyxl warns
    [_table(title="hai\ndòng")],                           # two paragraphs
    [_table(percent_max=float("inf"))],
    [_table(kind="pie")],                                  # drawn as lines, unsmoothed
], ids=["none", "twice", "case", "slash", "long", "lines", "infinite", "kind"])
def test_what_it_cannot_vouch_for_is_declined(tables):
    assert package(tables, ("Báo cáo", "đến 16:00"), None) is None


def test_a_declined_workbook_is_written_by_openpyxl(tmp_path):
    path = tmp_path / "archive.xlsx"
    archive_xlsx.write_book([_table(title="hai\ndòng")], ("Báo cáo", "đến 16:00"), path)
    (chart,) = load_workbook(path)["Tổng hợp"]._charts
    assert [p.r[0].t for p in chart.title.tx.rich.p] == ["hai", "dòng"]
