"""The Excel archive: one workbook per report and period, written atomically.

Vietnamese headers, thousands separators, percentages, real dates, status colours; commune text
is always written as text, never as a formula. Every tab prints on A4 landscape, one page wide,
its header rows repeated and each page headed with the report, the day and "Trang x/y".
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from toolkit import __version__
from toolkit.dashboard import (
    EMULATION,
    LATE_FILL,
    PROGRESS_HEADERS,
    RANKING_HEADERS,
    SCORE_HEADERS,
    emulation_frames,
    ranking_frame,
    report_line,
    series_names,
    summary_frame,
    summary_names,
    title_lines,
)
from toolkit.feedback import LEVEL_LABELS
from toolkit.goals import RANKING_RULE
from toolkit.layout import display_period
from toolkit.moment import (
    FACTS_SHEET,
    as_of_fact,
    as_of_words,
    made_at_fact,
    sentence,
    sweep_fact,
)
from toolkit.periods import Status
from toolkit.rollup import Rollup
from toolkit.status import StatusReport
from toolkit.templates import ReportSpec
from toolkit.wording import reporter_headers

STATUS_FILLS = {
    Status.ON_TIME.value: "C6EFCE", Status.AMENDED.value: "E2EFDA", Status.LATE.value: "FFEB9C",
    Status.INCOMPLETE.value: "F8CBAD", Status.MISSING.value: "FFC7CE",
    Status.PENDING.value: "EDEDED",
}
TOTAL_COLOUR = "D9E1F2"
RATE_HEADERS = {
    "expected": "Số xã phải báo cáo", "on_time": "Đúng hạn", "late": "Trễ hạn",
    "amended": "Sửa sau hạn", "incomplete": "Chưa đủ", "missing": "Chưa báo cáo",
    "pending": "Chưa nhập (còn hạn)",
    "reporting_rate": "Tỷ lệ báo cáo", "on_time_rate": "Tỷ lệ đúng hạn",
}
RATES_BY_WINDOW = {
    "area": "Địa bàn", "window_label": "Khoảng thời gian", "periods": "Số kỳ",
    "expected": "Số báo cáo phải nộp", "reported": "Đã nộp", "on_time": "Đúng hạn",
    "reporting_rate": "Tỷ lệ báo cáo", "on_time_rate": "Tỷ lệ đúng hạn",
}
DATE_FORMAT = "dd/mm/yyyy"
HEADER_LINES = 6          # a header wraps to at most this many lines


def archive_path(archive_dir: Path, key: str, period: str, as_of_mode: str) -> Path:
    """Where a report's archive for a period lives; known before anything is rolled up."""
    suffix = "_theo-han" if as_of_mode == "deadline" else ""
    year = period[:4] if period[:4].isdigit() else "once"
    return Path(archive_dir) / key / year / f"{key}_{period}{suffix}.xlsx"


def headers(rollup: Rollup) -> dict[str, str]:
    """Column → Vietnamese header, in the order the Tổng hợp sheet shows them."""
    return summary_names(rollup)


@dataclass(frozen=True)
class Chart:
    """A chart over columns of its table; each writer draws it its own way."""

    kind: str                   # "bar": horizontal bars per category; "line": over periods
    title: str
    categories: str             # header of the category column
    series: tuple[str, ...]     # headers of the charted columns
    rows: int                   # data rows charted
    percent_max: float | None = None   # the value axis is a percentage up to this
    start: int = 0              # first charted data row (0: right under the header)


@dataclass(frozen=True)
class Table:
    """One sheet of the archive — and tab of the Google rollup spreadsheet: ONE home for both."""

    name: str
    frame: pd.DataFrame          # Vietnamese headers; NaN/None are blank cells
    percent: frozenset[str] = frozenset()   # headers of columns shown as percentages
    status: str | None = None    # header of the column coloured by each row's status
    fills: tuple[str, ...] = ()  # that colour per row, RRGGBB ("" for none)
    frozen_columns: int = 0
    header: bool = True          # False: label/value pairs without a header row
    chart: Chart | None = None   # kept for one-chart callers; ``all_charts`` has every one
    title: tuple[str, ...] = ()  # lines above the table (the first in large bold), then a gap
    totals: int = 0              # leading rows that are totals: bold, shaded
    shade: frozenset[str] = frozenset()   # headers whose BLANK cells take ``blank_fills``
    blank_fills: tuple[str, ...] = ()     # per row, RRGGBB ("" for none)
    charts: tuple[Chart, ...] = ()
    text_width: int = 40         # text wraps beyond this many characters

    @cached_property
    def fractional(self) -> frozenset[str]:
        """Headers of number columns holding a fraction somewhere: every number in them shows
        one decimal, so 31 reads 31.0 under 172.2 and the decimal points line up."""
        return frozenset(
            column for column, values in zip(self.frame.columns, self.values, strict=True)
            if column not in self.percent
            and any(isinstance(v, float) and not v.is_integer() for v in values))

    @cached_property
    def values(self) -> list[list]:
        """Each column's values as a sheet holds them (:func:`cell_value`), made once for the
        column widths and the cells."""
        # One object array of the whole frame rather than a Series a column: the same Python
        # values (numpy's ints, floats and bools as Python's, Timestamps, pd.NA), a third
        # faster, and this runs for every table of every archive a sweep writes.
        return [[cell_value(v) for v in column]
                for column in self.frame.to_numpy(dtype=object).T.tolist()]

    @property
    def all_charts(self) -> tuple[Chart, ...]:
        return ((self.chart,) if self.chart is not None else ()) + self.charts

    @property
    def header_index(self) -> int:
        """0-based row of the header (or of the first pair) in the sheet."""
        return len(self.title) + 1 if self.title else 0

    @property
    def filter_index(self) -> int:
        """0-based row of the header the filter starts on. Under totals it is the header again,
        after a blank row: sorting or filtering the communes (in Excel, LibreOffice, by the
        filter or by Data › Sort on a commune cell) then never moves the province and district
        totals, which sit above it."""
        return self.header_index + (self.totals + 2 if self.header and self.totals else 0)

    def sheet_index(self, row: int) -> int:
        """0-based sheet row of the frame's ``row``: totals under the first header, the other
        rows under the filter's."""
        if not self.header:
            return self.header_index + row
        if row < self.totals:
            return self.header_index + 1 + row
        return self.filter_index + 1 + row - self.totals

    @property
    def frozen_rows(self) -> int:
        """Rows kept in view: the title, the header and the first total (the province)."""
        return self.header_index + 1 + min(self.totals, 1) if self.header else 0


TABLE_NAMES = ("Tổng hợp", "Đối chiếu bưu chính", "Theo huyện", "Tiến độ chỉ tiêu", "Xếp hạng",
               EMULATION, f"{EMULATION} (huyện)", "Tỷ lệ báo cáo", "Diễn biến", "Chưa báo cáo",
               "Lỗi dữ liệu", FACTS_SHEET)


def archive_tables(rollup: Rollup, *, workbooks_read: int) -> list[Table]:
    """Every sheet of the archive, in order, as tables with Vietnamese headers."""
    tables = [_summary_table(rollup)]
    if len(rollup.areas) > 1:
        names = summary_names(rollup)
        area_names = {"area": "Huyện (cũ)"} | {k: v for k, v in names.items()
                                               if k.startswith(("day_", "cum_", "pct_",
                                                                "completion_"))}
        area_names["households"] = "Số hộ (xã đã có số hộ)"
        tables.append(_table("Theo huyện", rollup.areas, area_names | RATE_HEADERS))
    if not rollup.progress.empty:
        tables.append(_progress_table(rollup))
    ranking = _ranking_table(rollup)
    if ranking is not None:
        tables.append(ranking)
        tables += _emulation_tables(rollup)
    if not rollup.rates.empty:
        tables.append(_table("Tỷ lệ báo cáo", rollup.rates, RATES_BY_WINDOW))
    if not rollup.series.empty:
        tables.append(_series_table(rollup))
    district = {} if rollup.spec.keyed else {"district": "Huyện (cũ)"}   # enterprises: none
    tables.append(_table("Chưa báo cáo", rollup.non_reporters, reporter_headers(rollup.spec)
                         | district | {"status_label": "Tình trạng"}))
    errors = rollup.issues[rollup.issues["period"].isin([rollup.period, "?"])
                           | (rollup.issues["check"] != "missing")]
    errors = errors.assign(level=errors["level"].map(LEVEL_LABELS),
                           period=errors["period"].map(display_period))
    tables.append(_table("Lỗi dữ liệu", errors, {
        "commune": "Xã/phường", "period": "Kỳ", "tab": "Trang", "cell": "Ô", "value": "Giá trị",
        "message": "Vấn đề", "fix": "Cách sửa", "level": "Mức độ"}))
    tables.append(Table(FACTS_SHEET, pd.DataFrame(_facts(rollup, workbooks_read),
                                                  columns=["Mục", "Giá trị"]), header=False))
    return tables


def _summary_table(rollup: Rollup) -> Table:
    names = summary_names(rollup)
    frame, totals = summary_frame(rollup, only={*names, "status"})
    table = _table("Tổng hợp", frame, names)
    waiting = {s.value for s in Status if not s.reported}
    blank_fills = tuple("" if i < totals or status not in waiting else STATUS_FILLS.get(status, "")
                        for i, status in enumerate(frame["status"]))
    fills = tuple("" if i < totals else f for i, f in enumerate(table.fills))
    shade = frozenset(names[c] for c in names
                      if c.startswith(("day_", "cum_", "pct_", "gap_")) and c in frame)
    return Table(table.name, table.frame, table.percent, table.status, fills, 2,
                 title=title_lines(rollup), totals=totals, shade=shade, blank_fills=blank_fills,
                 text_width=20)


def _progress_table(rollup: Rollup) -> Table:
    names = PROGRESS_HEADERS if len(rollup.areas) > 1 else \
        {k: v for k, v in PROGRESS_HEADERS.items() if k != "district"}
    table = _table("Tiến độ chỉ tiêu", rollup.progress, names)
    fills = tuple(LATE_FILL if late else "" for late in rollup.progress["late"])
    return Table(table.name, table.frame, table.percent, PROGRESS_HEADERS["outlook"], fills,
                 table.frozen_columns)


def _ranking_table(rollup: Rollup) -> Table | None:
    frame, blocks = ranking_frame(rollup)
    if frame.empty:
        return None
    names = RANKING_HEADERS if len(rollup.areas) > 1 else \
        {k: v for k, v in RANKING_HEADERS.items() if k != "district"}
    table = _table("Xếp hạng", frame, names)
    charts = tuple(Chart("bar", title, RANKING_HEADERS["commune"],
                         (RANKING_HEADERS["completion"],), rows, start=start)
                   for title, start, rows in blocks)
    return Table(table.name, table.frame, table.percent, frozen_columns=0, charts=charts)


def _emulation_tables(rollup: Rollup) -> list[Table]:
    """Xếp hạng thi đua of the communes (and of the districts, where the province has them),
    the rule that orders them written above each."""
    communes, districts, names = emulation_frames(rollup)
    tables = []
    for name, frame, drop in ((EMULATION, communes, () if len(rollup.areas) > 1
                               else ("district",)),
                              (f"{EMULATION} (huyện)", districts, ("commune",))):
        if frame.empty:
            continue
        table = _table(name, frame, {k: v for k, v in names.items() if k not in drop})
        title = (f"{name} — {report_line(rollup)}", sentence(as_of_words(rollup.moment)),
                 *RANKING_RULE)
        tables.append(Table(table.name, table.frame, table.percent | frozenset(
            SCORE_HEADERS.values()), frozen_columns=2, title=title, text_width=24))
    return tables


def _series_table(rollup: Rollup) -> Table:
    series = rollup.series.assign(period=rollup.series["period"].map(display_period))
    names = series_names(rollup)
    table = _table("Diễn biến", series, names)
    rows = len(series)
    charts = [Chart("line", "Tỷ lệ báo cáo và đúng hạn theo ngày", names["period"],
                    (names["reporting_rate"], names["on_time_rate"]), rows, 1.0)]
    shares = tuple(names[c] for c in names if c.startswith(("pct_", "goal_")) and c in series)
    if shares:
        top = max(rollup.series[c].max() for c in rollup.series if c.startswith("goal_"))
        charts.append(Chart("line", "Toàn tỉnh: tỷ lệ hộ đạt (lũy kế) so với mức chỉ tiêu",
                            names["period"], shares, rows, min(1.0, round(top * 1.2, 2))))
    return Table(table.name, table.frame, table.percent, frozen_columns=1, charts=tuple(charts))


def _facts(rollup: Rollup, workbooks_read: int) -> list[tuple[str, object]]:
    deadline = rollup.status.deadline
    province = rollup.areas.iloc[[-1]]
    communes = int(province["expected"].iloc[0] or 0)
    listed = len(rollup.communes)
    facts = [
        ("Báo cáo", rollup.spec.title), ("Kỳ", display_period(rollup.period)),
        ("Tỉnh", rollup.province or "—"),
        ("Hạn nộp", f"{deadline:%H:%M ngày %d/%m/%Y}"),
        ("Số liệu tính đến", as_of_fact(rollup.moment)),
        ("Thời gian ân hạn", f"{rollup.status.grace_minutes} phút sau hạn"),
        ("Lập lúc", made_at_fact(rollup.moment)),
        ("Lần quét gần nhất", sweep_fact(rollup.moment, workbooks_read)),
        ("Số xã phải báo cáo kỳ này", f"{communes} / {listed} xã trong danh sách"),
        ("Số phiên bản dòng đã dùng", f"{rollup.rows_used:,} phiên bản".replace(",", ".")),
        ("SHA-256 của các dòng đã dùng", rollup.digest),
        ("Phiên bản toolkit", __version__),
    ]
    if rollup.campaign is not None:
        start, end = rollup.campaign
        facts.insert(4, ("Đợt chiến dịch", f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"))
    return facts


def _table(name: str, frame: pd.DataFrame, names: dict[str, str],
           chart: Chart | None = None) -> Table:
    columns = [c for c in names if c in frame.columns]
    percent = frozenset(names[c] for c in columns if c.startswith(("pct_", "goal_"))
                        or c.startswith("completion_") or c.endswith("_rate")
                        or c in ("share", "completion"))
    status, fills = None, ()
    if "status" in frame.columns and "status_label" in columns:
        status = names["status_label"]
        fills = tuple(STATUS_FILLS.get(s, "") for s in frame["status"])
    frozen = 2 if "commune" in columns and len(columns) > 2 else 0
    # A new frame: naming its columns leaves ``frame``'s alone. Taken by position where the
    # names are unique (always, for the rollup's frames): half the time of ``frame[columns]``.
    # The positions from a dict of the few names: pandas' own lookup (get_indexer, is_unique)
    # builds a hash table for each new frame, ten times the time.
    position = {name: at for at, name in enumerate(frame.columns.tolist())}
    headed = frame.take([position[c] for c in columns], axis=1) \
        if len(position) == len(frame.columns) else frame[columns]
    headed.columns = [names[c] for c in columns]
    # Most frames are numbered 0, 1, … already; renumbering copied every tab once more.
    index = headed.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None):
        headed = headed.reset_index(drop=True)
    return Table(name, headed, percent, status, fills, frozen, chart=chart)


#: False: an archive the same as the one on disk but for its moment is written in full all
#: the same, not patched (the benchmark's baseline, the tests' reference).
PATCH_MOMENT = True


#: Above this many cells in its frames a rollup's :func:`made_of` is not taken: writing them
#: out as text costs about a second for a national year, whose archive changes every sweep.
MADE_OF_CELLS = 200_000
#: Fields left out of :func:`made_of`, each read by the tables as the moment (texts the patch
#: brings up to date) or not at all: the publication on Google, and where the template file
#: lies (a province folder copied elsewhere makes the same archives).
_NOT_MADE_OF = {Rollup: {"as_of", "generated_at", "published"}, StatusReport: {"as_of"},
                ReportSpec: {"source"}}


def made_of(rollup: Rollup) -> str:
    """A digest of everything the rollup's archive tables are made of but its moment ("" for
    a rollup too large to be worth it): every field of the rollup and of its status — each
    frame's columns, types, index and values written out — and the toolkit's code and the
    packages it runs with.

    Equal digests mean equal tables but for the moment, so a sweep in which a report did not
    change restamps its archive without making its tables (:func:`write_archive`). Written
    out with repr(), which tells 1 from 1.0, "1" and True and a missing value from "nan", and
    is the same in every process (no set is written: their order follows the process)."""
    values = _fields(rollup)
    if sum(v.size for v in values if isinstance(v, pd.DataFrame)) > MADE_OF_CELLS:
        return ""
    from toolkit.quiet import software_digest

    digest = hashlib.sha256(software_digest().encode())
    for value in values:
        if isinstance(value, pd.DataFrame):
            value = (value.columns.tolist(), [repr(t) for t in value.dtypes.tolist()],
                     value.index.tolist(), value.to_numpy(dtype=object).tolist())
        digest.update(repr(value).encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def _fields(value) -> list:
    """The values of a rollup's fields, its status's and template's in place of those, but
    for :data:`_NOT_MADE_OF`."""
    out = []
    for field in dataclasses.fields(value):
        if field.name not in _NOT_MADE_OF.get(type(value), ()):
            item = getattr(value, field.name)
            out += _fields(item) if type(item) in _NOT_MADE_OF else [item]
    return out


def write_archive(rollup: Rollup, archive_dir: Path, *, workbooks_read: int,
                  tables: list[Table] | None = None) -> Path:
    """The archive workbook of ``tables`` (by default those of ``rollup``), saved atomically.
    Where only its moment differs from the archive on disk (a quiet sweep), that moment is
    brought up to date inside the saved workbook (:mod:`toolkit.archive_patch`); where the
    tables are the rollup's own and it is made of what the archive on disk was
    (:func:`made_of`), without making the tables at all."""
    from toolkit.archive_patch import archive_stamp, patch_archive, restamp

    path = archive_path(archive_dir, rollup.spec.key, rollup.period, rollup.as_of_mode)
    made = made_of(rollup) if tables is None and rollup.as_of_mode == "now" else ""
    if made and PATCH_MOMENT and restamp(path, rollup.moment, workbooks_read, made):
        return path
    tables = tables or archive_tables(rollup, workbooks_read=workbooks_read)
    page = (report_line(rollup), as_of_words(rollup.moment))
    stamp = archive_stamp(rollup, tables, page, workbooks_read, made_of=made)
    if stamp is not None and PATCH_MOMENT and patch_archive(path, rollup.moment, stamp):
        return path
    from toolkit.archive_xlsx import write_book

    write_book(tables, page, path, stamp=stamp.text if stamp else None)
    return path


def column_widths(table: Table, minimum: int = 7) -> list[int]:
    """Characters each column needs, for both writers: its longest value (text wraps beyond
    ``table.text_width``), and its header wrapped on up to :data:`HEADER_LINES` lines (never
    narrower than its longest word)."""
    out = []
    maximum = table.text_width
    for column, cells in zip(table.frame.columns, table.values, strict=True):
        values = [v for v in cells if v is not None]
        texts = [len(v) for v in values if type(v) is str]      # the many, counted fast
        numbers = {v for v in values if type(v) is not str}
        shown = display_width if column not in table.fractional else _one_decimal_width
        chars = max(max(texts, default=0) + 2 if texts else 0,
                    max((shown(v) for v in numbers), default=0))
        if table.totals and numbers:
            chars += 1                          # the totals are bold, and bold is wider
        if len(texts) < len(values):
            maximum = max(maximum, 16)          # numbers are never cut
        if table.header:
            text = str(column)
            longest = max((len(w) for w in text.split()), default=0)
            chars = max(chars, longest + 2, -(-len(text) // HEADER_LINES) + 3)
        out.append(max(minimum, min(maximum if table.header else 90, chars)))
        maximum = table.text_width
    return out


def wraps(value, width: int) -> bool:
    """A text cell wider than its column wraps, for both writers."""
    return isinstance(value, str) and len(value) + 2 > width


def header_lines(table: Table, widths: list[int]) -> int:
    """Lines the wrapped header row needs at ``widths``."""
    return max((text_lines(column, width)
                for column, width in zip(table.frame.columns, widths, strict=True)), default=1)


@lru_cache(maxsize=4096)       # the same messages and notes come back row after row
def text_lines(text, width: int) -> int:
    """Lines ``text`` wraps to, word by word, in a column ``width`` characters wide."""
    lines, used = 1, 0
    for word in str(text).split():
        if used and used + 1 + len(word) > width - 1:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def _one_decimal_width(value) -> int:
    """Characters a number of a :attr:`Table.fractional` column needs: one decimal always."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(f"{value:,.1f}") + 2
    return display_width(value)


def display_width(value) -> int:
    if isinstance(value, datetime | date):
        return 12
    if isinstance(value, float) and not value.is_integer() and abs(value) < 1000:
        return len(f"{value:,.1f}") + 2
    from toolkit.excel import display_width as plain

    return plain(value)


def cell_value(value):
    """What a table value is in a sheet, for both writers: None for blanks, Python numbers
    for numpy ones, text without the control characters a sheet cannot hold (a note pasted
    from Word or a PDF brings \x07 or \x0b; invisible anyway, and one must not stop the
    province's archive)."""
    kind = type(value)
    if kind is str:
        return _SHEETLESS.sub("", value) if _SHEETLESS.search(value) else value
    if kind is int or value is None:
        return value
    if kind is float:
        return None if value != value else value
    if hasattr(value, "to_pydatetime"):          # pandas Timestamp
        value = value.to_pydatetime()
    return None if _blank(value) else _plain(value)


def format_of(table: Table, column: str, value) -> str | None:
    """The number format a value gets, for both writers: percentages, dates, thousands."""
    if column in table.percent:
        return "0.0%"
    if isinstance(value, date) and not isinstance(value, datetime):
        return DATE_FORMAT
    if table.header and isinstance(value, int | float) and not isinstance(value, bool):
        return "#,##0.0" if column in table.fractional or not float(value).is_integer() \
            else "#,##0"
    return None


def _blank(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


#: Characters XML 1.0 — and so an .xlsx cell — cannot hold (openpyxl's own pattern).
_SHEETLESS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _plain(value):
    """numpy scalars → Python numbers, so openpyxl writes them as numbers."""
    if hasattr(value, "item"):
        return value.item()
    return value

