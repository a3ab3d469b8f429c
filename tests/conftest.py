"""Shared fixtures: a small province folder made with the real CLI, and a person typing."""

from __future__ import annotations

import atexit
import functools
import gc
import io
import os
import re
import shutil
import tempfile
import weakref
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import strategies as st
from openpyxl import load_workbook

from toolkit.backends.google import http as google_http
from toolkit.backends.google.fake import FakeGoogle
from toolkit.cli import main
from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW
from toolkit.periods import VN_TZ
from toolkit.registry import HEADERS

# Four communes of Lạng Sơn are enough to meet every status; the rest of the rows are removed
# the way an officer trimming the registry would.
KEEP = {
    "06040": dict(households=1200, villages="Thôn Nà Lầu; Thôn Bản Chắt; Thôn Pác Lũng"),
    "06001": dict(households=800, villages="Thôn Đồng Tâm; Thôn Tân Hội"),
    "06019": dict(households=None, villages="Thôn Bình An"),
    "06202": dict(households=1500, villages="Thôn Còn Nưa; Thôn Phai Xả"),
}


def run(*args: str, now: str | None = None, config: Path | None = None):
    """Invoke the CLI in-process the way a user would type it."""
    argv = list(args)
    if config is not None:
        argv += ["--config", str(config)]
    if now is not None:
        argv += ["--now", now]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "provisioned: the desk fixture starts after `toolkit provision` at 08:00 "
        "on 20/11/2026 (tests/desks.py)")


#: Allocations between two young-generation collections (Python's default is 700).
YOUNG_GC_THRESHOLD = 10_000


def pytest_collection_finish(session):
    """Keep the garbage collector off what every test shares, and off short-lived objects.

    A test process holds pandas, openpyxl, gspread, hypothesis and every test module, about
    146,000 objects, and the collector walked all of them at each full collection, while
    openpyxl's cells and the fake Google's cells made young collections run every 700
    allocations. Measured over the whole suite on two workers, alternating runs before and
    after: 48-51 s of collector time in 385-413 s of the workers' CPU before, 15-19 s after.
    Those objects are frozen after collection (they live as long as the process) and young
    collections run every 10,000 allocations; cyclic garbage is still collected, only less
    often, and a worker's peak memory was 227-320 MB against 262-389 MB before. The toolkit's
    own processes keep Python's defaults: in ``toolkit demo`` the collector takes 0.6 s of
    12.5 s.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


_LOOSE_GROUPS = pytest.StashKey[set]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n auto --dist loadgroup`` each worker names a grouped test
    ``nodeid@group``, and that suffix is all pytest-xdist schedules a group by. Where the names
    come out without it (pytest 9.2 with pytest-xdist 3.8: pytest-dev/pytest-xdist#1386) every
    group is spread over the workers and their module fixtures are built once per worker, with
    nothing failing: such tests fail (``grouped_on_one_worker``) and say why."""
    if os.environ.get("PYTEST_XDIST_WORKER") and config.getoption("loadgroup", False):
        config.stash[_LOOSE_GROUPS] = {
            item.nodeid for item in items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid}


@pytest.fixture(autouse=True)
def grouped_on_one_worker(request):
    if request.node.nodeid in request.config.stash.get(_LOOSE_GROUPS, ()):
        pytest.fail(f"pytest-xdist did not keep this test's xdist_group on one worker under "
                    f"pytest {pytest.__version__}: install the test extras again (pip install "
                    "-e '.[test]'), which ask for a pytest it works with.", pytrace=False)


@pytest.fixture
def province(tmp_path) -> Path:
    """An initialised Lạng Sơn folder (campaign from 20/11/2026) with four communes filled."""
    return make_province(tmp_path)


@pytest.fixture(scope="session")
def provisioned_once(tmp_path_factory) -> Path:
    """The `province` folder after `toolkit provision` at 08:00 on 20/11/2026, built once a
    session: most tests start there, and provisioning four workbooks costs seconds."""
    config = make_province(tmp_path_factory.mktemp("provisioned"))
    result = run("provision", config=config, now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture
def provisioned(provisioned_once, tmp_path) -> Path:
    """A test's own copy of ``provisioned_once`` (as if it had run `toolkit provision` at
    08:00 on 20/11/2026 itself); copytree's copy2 keeps the workbooks' modification times,
    which collect compares with the ledger's."""
    return copy_province(provisioned_once, tmp_path)


def copy_province(config: Path, folder: Path) -> Path:
    """A copy of ``config``'s province folder inside ``folder``; its toolkit.toml. The folder
    names only relative paths, so the copy works on its own."""
    shutil.copytree(config.parent, folder / config.parent.name)
    return folder / config.parent.name / config.name


def make_province(tmp_path: Path) -> Path:
    """The `province` fixture's folder in ``tmp_path``, for scripts that build one outside
    pytest too. `toolkit init` writes the same folder every time, so it runs once a process
    and each caller gets a copy."""
    return copy_province(_initialised(), tmp_path)


@functools.lru_cache(maxsize=1)
def _initialised() -> Path:
    """`toolkit init` for Lạng Sơn at 08:00 on 20/11/2026, the registry trimmed to KEEP."""
    root = Path(tempfile.mkdtemp(prefix="toolkit-init-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    folder = root / "lang-son"
    result = run("init", str(folder), "--province", "lang son", now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    trim_registry(folder / "registry.xlsx", KEEP)
    return folder / "toolkit.toml"


def trim_registry(path: Path, keep) -> None:
    """Keep only the communes of ``keep`` in a registry, filled with their households and
    villages (``keep``'s when it is a dict, else KEEP's) and an editor each, the way an
    officer trims and fills it. The same registry trimmed the same way is trimmed once a
    process (most tests start from `toolkit init`'s Lạng Sơn and KEEP)."""
    filled = keep if isinstance(keep, dict) else KEEP
    data = path.read_bytes()
    key = (data, tuple(keep), repr(sorted(filled.items())))
    if key not in _TRIMMED:
        _TRIMMED[key] = _trim(data, keep, filled)
    path.write_bytes(_TRIMMED[key])


_TRIMMED: dict[tuple, bytes] = {}


def _trim(data: bytes, keep, filled: dict) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    for row in range(sheet.max_row, 1, -1):
        code = sheet.cell(row, columns[HEADERS["code"]]).value
        if code not in keep:
            sheet.delete_rows(row)
            continue
        sheet.cell(row, columns[HEADERS["households"]]).value = filled[code]["households"]
        sheet.cell(row, columns[HEADERS["villages"]]).value = filled[code]["villages"]
        sheet.cell(row, columns[HEADERS["editors"]]).value = f"xa{code}@example.gov.vn"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def set_postal(path: Path, enterprises, serving) -> None:
    """Type the postal ``enterprises`` (rows of «Doanh nghiệp bưu chính»: code, name, kind,
    editors) and, in "Doanh nghiệp bưu chính" of «Danh sách xã», the enterprise serving each
    commune of ``serving`` (code → enterprise as typed), as an officer fills them in."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    rows = {sheet.cell(r, columns[HEADERS["code"]]).value: r for r in range(2, sheet.max_row + 1)}
    for code, enterprise in serving.items():
        sheet.cell(rows[code], columns[HEADERS["postal"]]).value = enterprise
    for row in enterprises:
        book["Doanh nghiệp bưu chính"].append(list(row))
    book.save(path)


def set_phases(path: Path, phases) -> None:
    """Type each (commune, first day, last day) into the registry's "Ngày bắt đầu" and
    "Ngày kết thúc" (None leaves a cell blank), as an officer types a commune's phase."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    rows = {sheet.cell(r, columns[HEADERS["code"]]).value: r for r in range(2, sheet.max_row + 1)}
    for code, first, last in phases:
        sheet.cell(rows[code], columns[HEADERS["start"]]).value = first
        sheet.cell(rows[code], columns[HEADERS["end"]]).value = last
    book.save(path)


def assign_targets(path: Path, targets: dict[str, dict[str, object]]) -> None:
    """Type each commune's assigned targets ({code: {"Chỉ tiêu: <label>": "60%" or 120}})
    into the registry, adding a column per target the way an officer adds one."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {c.value: c.column for c in sheet[1]}
    rows = {sheet.cell(r, columns[HEADERS["code"]]).value: r for r in range(2, sheet.max_row + 1)}
    for code, values in targets.items():
        for header, value in values.items():
            if header not in columns:
                columns[header] = sheet.max_column + 1
                sheet.cell(1, columns[header]).value = header
            sheet.cell(rows[code], columns[header]).value = value
    book.save(path)


def name_districts(config: Path) -> None:
    """Give the test province's four communes old districts (two in Tràng Định), as a
    registry with the pre-2025 "Huyện (cũ)" column filled in."""
    book = load_workbook(config.parent / "registry.xlsx")
    sheet = book.worksheets[0]
    for row, district in zip(range(2, 6), ["Tràng Định", "Tràng Định", "Văn Lãng", "Bắc Sơn"],
                             strict=True):
        sheet.cell(row, 5).value = district
    book.save(config.parent / "registry.xlsx")


def cell_look(cell) -> tuple:
    """A cell's value, look and note. (openpyxl's style proxies compare unequal to one
    another, so each style is compared by what it holds; an attribute said false is one not
    said, as openpyxl writes it and as Excel reads it: LibreOffice says wrapText="false".)"""
    note = cell.comment and (cell.comment.text, cell.comment.author)
    return (cell.value, *_style_look(cell), note)


#: workbook → a cell's style record (its indices into the workbook's fonts, fills, ...) →
#: what that record looks like. Many cells share a record, and writing out a style's repr
#: for each cell was a third of the time of the tests comparing whole workbooks.
_LOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _style_look(cell) -> tuple:
    """The number format and the styles, as they read (see cell_look), of ``cell``: the same
    for every cell of a workbook with the same style record, which openpyxl never changes in
    place (a style set on a cell gives it another record)."""
    looks = _LOOKS.setdefault(cell.parent.parent, {})
    record = tuple(cell._style) if cell._style is not None else None
    if record not in looks:
        looks[record] = (cell.number_format, *(
            re.sub(r"=False\b", "=None", repr(s))
            for s in (cell.font, cell.fill, cell.alignment, cell.border, cell.protection)))
    return looks[record]


def workbook_of(config: Path, code: str) -> Path:
    (path,) = (config.parent / "workbooks").glob(f"{code} *.xlsx")
    return path


def type_row(config: Path, code: str, tab: str, first_cell, values: dict, at: str) -> None:
    """Open the commune's workbook, type into the row whose first cell matches, save at ``at``.

    The cells go straight into the sheet's XML (``xlsx_patch.typed``, as the demo's staff type)
    where that can type them, else through openpyxl: loading and saving a workbook with
    openpyxl for each typed row was a tenth of the suite's time."""
    path = workbook_of(config, code)
    data = path.read_bytes()
    new = _typed_in_xml(data, tab, first_cell, values)
    if new is None:
        book = load_workbook(path)
        sheet = book[tab]
        headers = {c.value: c.column for c in sheet[HEADER_ROW] if c.value}
        firsts = [sheet.cell(r, 1).value for r in range(1, sheet.max_row + 2)]
        row = _row_of(firsts, first_cell) or len(firsts)
        for header, value in values.items():
            cell = sheet.cell(row, headers[header])
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # typed text, even "=1+1", as Excel keeps a quoted entry
        book.save(path)
    else:
        path.write_bytes(new)
    moment = datetime.fromisoformat(at).replace(tzinfo=VN_TZ).timestamp()
    os.utime(path, (moment, moment))


def _row_of(firsts: list, first_cell) -> int | None:
    """The 1-based row whose first cell is ``first_cell`` (a date matches a datetime), or the
    first empty one when ``first_cell`` is None."""
    for row in range(FIRST_DATA_ROW, len(firsts) + 1):
        cell = firsts[row - 1]
        day = cell.date() if isinstance(cell, datetime) else cell
        if day == first_cell or (first_cell is None and cell is None):
            return row
    return None


def _typed_in_xml(data: bytes, tab: str, first_cell, values: dict) -> bytes | None:
    """``values`` typed into the sheet's XML, or None when the row or a cell is not there."""
    from toolkit.backends import xlsx_calamine, xlsx_patch
    from toolkit.backends.base import Window
    from toolkit.layout import a1

    if first_cell is None:
        return None
    read = xlsx_calamine.read_windows(data, {tab: Window(HEADER_ROW, 40)})
    if read is None or tab not in read[0]:
        return None
    grid = read[0][tab]
    firsts = [r[0] if r else None for r in grid]
    row = _row_of(firsts, first_cell)
    if row is None:
        return None
    headers = {v: c for c, v in enumerate(grid[HEADER_ROW - 1], start=1) if v}
    if any(h not in headers for h in values):
        return None
    return xlsx_patch.typed(data, tab, {a1(row, headers[h]): v for h, v in values.items()})


def rewrite_cell(path: Path, ref: str, change, at: str) -> None:
    """Edit one cell's XML in the first sheet of an .xlsx file, as another program might
    have written it."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    cell = re.search(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', sheet)
    parts["xl/worksheets/sheet1.xml"] = (sheet[:cell.start()] + change(cell.group(0))
                                         + sheet[cell.end():]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    stamp = datetime.fromisoformat(at).replace(tzinfo=VN_TZ).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


def use_smtp(config: Path, inbox) -> None:
    """Point the province's [smtp] at the local test server."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text + f'\n[smtp]\nhost = "127.0.0.1"\nport = {inbox.port}\n'
                      'sender = "so-khcn@example.gov.vn"\nsecurity = "none"\n',
                      encoding="utf-8")


@st.composite
def one_letter_changed(draw, name: str) -> str:
    """``name`` with one letter replaced, added, dropped or swapped with the next."""
    letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    at = draw(st.integers(0, len(name) - 1))
    how = draw(st.sampled_from(["replace", "add", "drop", "swap"]))
    if how == "replace":
        return name[:at] + draw(letters) + name[at + 1:]
    if how == "add":
        return name[:at] + draw(letters) + name[at:]
    if how == "drop":
        return name[:at] + name[at + 1:]
    return name[:at] + name[at + 1:at + 2] + name[at] + name[at + 2:]


def filter_row(sheet) -> int:
    """The row an archive tab's filter starts on (its header); 1 when it has none."""
    ref = sheet.auto_filter.ref
    return int("".join(ch for ch in ref.split(":")[0] if ch.isdigit())) if ref else 1


def table_rows(sheet) -> list[dict]:
    """An archive tab's table read back as a person would: from its header row (the row its
    filter starts on; the first row when it has none) down, one dict per row. On Tổng hợp
    those are the communes; ``total_rows`` has the totals above them."""
    rows = list(sheet.iter_rows(min_row=filter_row(sheet), values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def total_rows(sheet) -> list[dict]:
    """Tổng hợp's totals (the province, then its districts): under the first header, above
    the filter's."""
    rows = list(sheet.iter_rows(max_row=filter_row(sheet) - 1, values_only=True))
    at = next(i for i, r in enumerate(rows) if r[0] == "Mã xã")
    return [dict(zip(rows[at], r, strict=True)) for r in rows[at + 1:]
            if any(v is not None for v in r)]


def commune_rows(sheet) -> dict[str, dict]:
    """Tổng hợp's communes by code (the province and district totals have no code)."""
    return {r["Mã xã"]: r for r in table_rows(sheet) if r["Mã xã"]}


def summary_table(rows) -> tuple[list, list[tuple]]:
    """Tổng hợp as rows of values (a sheet's, or a Google tab's): its header (the row starting
    "Mã xã", below the title block) and the commune rows under it (the totals have no code;
    the header may be repeated above the communes)."""
    rows = [tuple(r) for r in rows]
    at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã xã")
    return list(rows[at]), [r for r in rows[at + 1:] if r and r[0] and r[0] != "Mã xã"]


@pytest.fixture
def fake_google():
    """A started FakeGoogle (seeded, real-time clock), stopped after the test; it checks every
    request against Google's discovery documents (the [test] extra installs them)."""
    fake = FakeGoogle(seed=1234)
    assert fake.validating, "google-api-python-client is missing: pip install -e '.[test]'"
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(autouse=True)
def virtual_pacing(monkeypatch):
    """The Google client's pacer waits on a virtual clock in every test, its quota waits and
    its backoffs alike: Drive's quota (600 a minute, not set by toolkit.toml) spaced a
    province's Drive calls 100 ms apart in real time, half of provisioning four communes on
    the fake. A test that builds its own Pacer, or patches this one, keeps its own clock."""
    clock = VirtualClock()
    monkeypatch.setattr(google_http, "Pacer", functools.partial(
        google_http.Pacer, clock=clock.seconds, sleep=clock.sleep))


class VirtualClock:
    """The Google pacer's time: sleeping (backoff, Retry-After) moves it on, and nothing else
    does — so tests wait out quotas and retries without really sleeping."""

    def __init__(self):
        self.now = 0.0

    def seconds(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
