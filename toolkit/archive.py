"""The Excel archive: one workbook per report and period, written atomically.

Vietnamese headers, frozen header row, autofilter, thousands separators, percentages, status
colours; commune text is always written as text, never as a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import PatternFill

from toolkit import __version__
from toolkit.excel import fit_columns, put, save_atomically, style_header
from toolkit.feedback import LEVEL_LABELS
from toolkit.layout import display_period
from toolkit.periods import Status
from toolkit.rollup import Rollup, figure_columns

STATUS_FILLS = {
    Status.ON_TIME.value: "C6EFCE", Status.AMENDED.value: "E2EFDA", Status.LATE.value: "FFEB9C",
    Status.INCOMPLETE.value: "F8CBAD", Status.MISSING.value: "FFC7CE",
    Status.PENDING.value: "EDEDED",
}
RATE_HEADERS = {
    "expected": "Số xã phải báo cáo", "on_time": "Đúng hạn", "late": "Trễ hạn",
    "amended": "Sửa sau hạn", "incomplete": "Chưa đủ", "missing": "Chưa báo cáo",
    "pending": "Chưa nhập (còn hạn)",
    "reporting_rate": "Tỷ lệ báo cáo", "on_time_rate": "Tỷ lệ đúng hạn",
}


PROGRESS_HEADERS = {
    "code": "Mã xã", "commune": "Xã/phường", "district": "Huyện (cũ)", "target": "Chỉ tiêu",
    "threshold": "Mức chỉ tiêu", "households": "Số hộ", "done": "Đã đạt (lũy kế)",
    "goal": "Cần đạt", "share": "Tỷ lệ đạt / số hộ", "gap": "Còn thiếu",
    "pace": "Bình quân/ngày (7 ngày qua)", "projected": "Dự kiến ngày đạt",
}
RATES_BY_WINDOW = {
    "area": "Địa bàn", "window_label": "Khoảng thời gian", "periods": "Số kỳ",
    "expected": "Số báo cáo phải nộp", "reported": "Đã nộp", "on_time": "Đúng hạn",
    "reporting_rate": "Tỷ lệ báo cáo", "on_time_rate": "Tỷ lệ đúng hạn",
}


def archive_path(archive_dir: Path, key: str, period: str, as_of_mode: str) -> Path:
    """Where a report's archive for a period lives; known before anything is rolled up."""
    suffix = "_theo-han" if as_of_mode == "deadline" else ""
    year = period[:4] if period[:4].isdigit() else "once"
    return Path(archive_dir) / key / year / f"{key}_{period}{suffix}.xlsx"


def headers(rollup: Rollup) -> dict[str, str]:
    """Column → Vietnamese header, in the order the Tổng hợp sheet shows them."""
    spec = rollup.spec
    day_word = {"daily": "trong ngày", "monthly": "trong tháng"}.get(spec.period, "")
    names = {"code": "Mã xã", "commune": "Xã/phường", "district": "Huyện (cũ)",
             "households": "Số hộ", "status_label": "Tình trạng báo cáo"}
    for key in figure_columns(spec):
        header = spec.field_spec(key).header
        if spec.period != "once":
            names[f"day_{key}"] = f"{header} {day_word}".strip()
        names[f"cum_{key}"] = f"{header} (lũy kế)" if spec.period != "once" else header
    for target in spec.targets:
        names[f"pct_{target.key}"] = f"{target.label} / số hộ (chỉ tiêu {target.threshold:.0%})"
    if spec.targets:
        names["rank"] = "Xếp hạng"
    names["errors"] = "Số lỗi"
    names["note"] = "Ghi chú"
    return names


@dataclass(frozen=True)
class Chart:
    """A chart over columns of its table; each writer draws it its own way."""

    kind: str                   # "bar": one bar per commune; "line": one point per period
    title: str
    categories: str             # header of the category column
    series: tuple[str, ...]     # headers of the charted columns
    rows: int                   # data rows charted, from the first
    percent_max: float | None = None   # the value axis is a percentage up to this


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
    chart: Chart | None = None


TABLE_NAMES = ("Tổng hợp", "Theo huyện", "Tiến độ chỉ tiêu", "Tỷ lệ báo cáo", "Diễn biến",
               "Chưa báo cáo", "Lỗi dữ liệu", "Thông tin")


def archive_tables(rollup: Rollup, *, workbooks_read: int) -> list[Table]:
    """Every sheet of the archive, in order, as tables with Vietnamese headers."""
    names = headers(rollup)
    if not rollup.status.summary.shape[0] > 1:
        names.pop("district", None)
    tables = [_table("Tổng hợp", rollup.communes, names)]
    if len(rollup.areas) > 1:
        area_names = {"area": "Huyện (cũ)"} | {k: v for k, v in names.items()
                                               if k.startswith(("day_", "cum_", "pct_"))}
        area_names["households"] = "Số hộ (xã đã có số hộ)"
        tables.append(_table("Theo huyện", rollup.areas, area_names | RATE_HEADERS))
    if not rollup.progress.empty:
        tables.append(_table("Tiến độ chỉ tiêu", rollup.progress, PROGRESS_HEADERS,
                             chart=_progress_chart(rollup)))
    if not rollup.rates.empty:
        tables.append(_table("Tỷ lệ báo cáo", rollup.rates, RATES_BY_WINDOW))
    if not rollup.series.empty:
        series = rollup.series.assign(period=rollup.series["period"].map(display_period))
        names = _series_headers(rollup)
        chart = Chart("line", "Tỷ lệ báo cáo và đúng hạn theo ngày", names["period"],
                      (names["reporting_rate"], names["on_time_rate"]), len(series), 1.0)
        tables.append(_table("Diễn biến", series, names, chart=chart))
    tables.append(_table("Chưa báo cáo", rollup.non_reporters,
                         {"code": "Mã xã", "commune": "Xã/phường", "district": "Huyện (cũ)",
                          "status_label": "Tình trạng"}))
    errors = rollup.issues[rollup.issues["period"].isin([rollup.period, "?"])
                           | (rollup.issues["check"] != "missing")]
    errors = errors.assign(level=errors["level"].map(LEVEL_LABELS),
                           period=errors["period"].map(display_period))
    tables.append(_table("Lỗi dữ liệu", errors, {
        "commune": "Xã/phường", "period": "Kỳ", "tab": "Trang", "cell": "Ô", "value": "Giá trị",
        "message": "Vấn đề", "fix": "Cách sửa", "level": "Mức độ"}))
    tables.append(Table("Thông tin", pd.DataFrame(_facts(rollup, workbooks_read),
                                                  columns=["Mục", "Giá trị"]), header=False))
    return tables


def _facts(rollup: Rollup, workbooks_read: int) -> list[tuple[str, object]]:
    deadline = rollup.status.deadline
    province = rollup.areas.iloc[[-1]]
    return [
        ("Báo cáo", rollup.spec.title), ("Kỳ", display_period(rollup.period)),
        ("Hạn", f"{deadline:%H:%M %d/%m/%Y}"),
        ("Số liệu tính đến", f"{rollup.as_of:%H:%M:%S %d/%m/%Y}"
         + (" (theo hạn)" if rollup.as_of_mode == "deadline" else " (hiện tại)")),
        ("Thời gian ân hạn (phút)", rollup.status.grace_minutes),
        ("Lập lúc", f"{rollup.generated_at:%H:%M:%S %d/%m/%Y}"),
        ("Số sổ (workbook) đã đọc", workbooks_read),
        ("Số phiên bản dòng đã dùng", rollup.rows_used),
        ("SHA-256 của các dòng đã dùng", rollup.digest),
        ("Tổng số xã", int(province["expected"].iloc[0] or 0)),
        ("Phiên bản toolkit", __version__),
    ]


def _table(name: str, frame: pd.DataFrame, names: dict[str, str],
           chart: Chart | None = None) -> Table:
    columns = [c for c in names if c in frame.columns]
    percent = frozenset(names[c] for c in columns if c.startswith("pct_")
                        or c.endswith("_rate") or c in ("share", "threshold"))
    status, fills = None, ()
    if "status" in frame.columns and "status_label" in columns:
        status = names["status_label"]
        fills = tuple(STATUS_FILLS.get(s, "") for s in frame["status"])
    frozen = 2 if "commune" in columns and len(columns) > 2 else 0
    headed = frame[columns].set_axis([names[c] for c in columns], axis=1).reset_index(drop=True)
    return Table(name, headed, percent, status, fills, frozen, chart=chart)


def _progress_chart(rollup: Rollup) -> Chart | None:
    """Bars: each commune's share of households against the first target (its first rows)."""
    first = rollup.spec.targets[0]
    count = int((rollup.progress["target"] == first.label).sum())
    if not count:
        return None
    return Chart("bar", f"{first.label} / số hộ (chỉ tiêu {first.threshold:.0%})",
                 PROGRESS_HEADERS["commune"],
                 (PROGRESS_HEADERS["share"], PROGRESS_HEADERS["threshold"]), count)


def write_archive(rollup: Rollup, archive_dir: Path, *, workbooks_read: int,
                  tables: list[Table] | None = None) -> Path:
    """The archive workbook of ``tables`` (by default those of ``rollup``), saved atomically."""
    book = Workbook()
    book.remove(book.active)
    for table in tables or archive_tables(rollup, workbooks_read=workbooks_read):
        _write_sheet(book.create_sheet(table.name), table)
    path = archive_path(archive_dir, rollup.spec.key, rollup.period, rollup.as_of_mode)
    save_atomically(book, path)
    return path


def _series_headers(rollup: Rollup) -> dict[str, str]:
    spec = rollup.spec
    names = {"period": "Kỳ"}
    for key in figure_columns(spec):
        names[key] = spec.field_spec(key).header
    for target in spec.targets:
        names[f"cum_{target.numerator}"] = f"{spec.field_spec(target.numerator).header} (lũy kế)"
    names["reporting_rate"] = "Tỷ lệ báo cáo"
    names["on_time_rate"] = "Tỷ lệ đúng hạn"
    return names


def _write_sheet(sheet, table: Table) -> None:
    frame = table.frame
    columns = list(frame.columns)
    first = 1
    if table.header:
        for c, column in enumerate(columns, start=1):
            put(sheet.cell(1, c), column)
        style_header(sheet[1])
        first = 2
    # One fill object per colour: openpyxl keeps each distinct style once anyway, and building
    # one per row costs seconds on a national archive.
    fills = {colour: PatternFill("solid", fgColor=colour) for colour in set(table.fills) if colour}
    for r, record in enumerate(frame.itertuples(index=False), start=first):
        for c, (column, value) in enumerate(zip(columns, record, strict=True), start=1):
            cell = sheet.cell(r, c)
            put(cell, cell_value(value))
            number_format = format_of(table, column, cell.value)
            if number_format:
                cell.number_format = number_format
        if table.status and table.fills[r - first]:
            sheet.cell(r, columns.index(table.status) + 1).fill = fills[table.fills[r - first]]
    if not table.header:
        fit_columns(sheet, maximum=80)
        return
    sheet.freeze_panes = "C2" if table.frozen_columns == 2 else "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{sheet.cell(max(1, len(frame) + 1), len(columns)).coordinate}"
    fit_columns(sheet, maximum=45)
    sheet.row_dimensions[1].height = 48
    # Printed on A4 landscape, one page wide, headers repeated on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = "1:1"
    if table.chart is not None:
        _write_chart(sheet, table)


def _write_chart(sheet, table: Table) -> None:
    spec = table.chart
    columns = list(table.frame.columns)
    chart = BarChart() if spec.kind == "bar" else LineChart()
    if spec.kind == "bar":
        chart.type = "bar"
        chart.height = max(8, spec.rows * 0.45)
        chart.width = 18
    else:
        chart.width = 20
    chart.title = spec.title
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    if spec.percent_max is not None:
        chart.y_axis.scaling.max = spec.percent_max
    for header in spec.series:
        index = columns.index(header) + 1
        chart.add_data(Reference(sheet, min_col=index, min_row=1, max_row=spec.rows + 1),
                       titles_from_data=True)
    labels = columns.index(spec.categories) + 1
    chart.set_categories(Reference(sheet, min_col=labels, min_row=2, max_row=spec.rows + 1))
    sheet.add_chart(chart, f"{sheet.cell(1, len(columns) + 2).column_letter}2")


def cell_value(value):
    """What a table value is in a sheet, for both writers: None for blanks, Python numbers
    for numpy ones."""
    return None if _blank(value) else _plain(value)


def format_of(table: Table, column: str, value) -> str | None:
    """The number format a value gets, for both writers: percentages, thousands separators."""
    if column in table.percent:
        return "0.0%"
    if table.header and isinstance(value, int | float) and not isinstance(value, bool):
        return "#,##0" if float(value).is_integer() else "#,##0.0"
    return None


def _blank(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value):
    """numpy scalars → Python numbers, so openpyxl writes them as numbers."""
    if hasattr(value, "item"):
        return value.item()
    return value


