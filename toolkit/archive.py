"""The Excel archive: one workbook per report and period, written atomically.

Vietnamese headers, frozen header row, autofilter, thousands separators, percentages, status
colours; commune text is always written as text, never as a formula.
"""

from __future__ import annotations

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


def archive_path(archive_dir: Path, rollup: Rollup) -> Path:
    suffix = "_theo-han" if rollup.as_of_mode == "deadline" else ""
    year = rollup.period[:4] if rollup.period[:4].isdigit() else "once"
    key = rollup.spec.key
    return Path(archive_dir) / key / year / f"{key}_{rollup.period}{suffix}.xlsx"


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


def write_archive(rollup: Rollup, archive_dir: Path, *, workbooks_read: int) -> Path:
    book = Workbook()
    summary = book.active
    summary.title = "Tổng hợp"
    names = headers(rollup)
    communes = rollup.communes
    if not rollup.status.summary.shape[0] > 1:
        names.pop("district", None)
    _table(summary, communes, names, rollup)
    if len(rollup.areas) > 1:
        area_names = {"area": "Huyện (cũ)"} | {k: v for k, v in names.items()
                                               if k.startswith(("day_", "cum_", "pct_"))}
        area_names["households"] = "Số hộ (xã đã có số hộ)"
        _table(book.create_sheet("Theo huyện"), rollup.areas, area_names | RATE_HEADERS, rollup)
    if not rollup.progress.empty:
        progress = rollup.progress.assign(threshold=rollup.progress["threshold"])
        sheet = book.create_sheet("Tiến độ chỉ tiêu")
        _table(sheet, progress, PROGRESS_HEADERS, rollup)
        _progress_chart(sheet, rollup)
    if not rollup.rates.empty:
        _table(book.create_sheet("Tỷ lệ báo cáo"), rollup.rates, RATES_BY_WINDOW, rollup)
    if not rollup.series.empty:
        series = rollup.series.assign(period=rollup.series["period"].map(display_period))
        sheet = book.create_sheet("Diễn biến")
        _table(sheet, series, _series_headers(rollup), rollup)
        _series_chart(sheet, rollup)
    province = rollup.areas.iloc[[-1]]
    missing = rollup.non_reporters
    _table(book.create_sheet("Chưa báo cáo"), missing,
           {"code": "Mã xã", "commune": "Xã/phường", "district": "Huyện (cũ)",
            "status_label": "Tình trạng"}, rollup)
    errors = rollup.issues[rollup.issues["period"].isin([rollup.period, "?"])
                           | (rollup.issues["check"] != "missing")]
    errors = errors.assign(level=errors["level"].map(LEVEL_LABELS),
                           period=errors["period"].map(display_period))
    _table(book.create_sheet("Lỗi dữ liệu"), errors,
           {"commune": "Xã/phường", "period": "Kỳ", "tab": "Trang", "cell": "Ô",
            "value": "Giá trị", "message": "Vấn đề", "fix": "Cách sửa", "level": "Mức độ"}, rollup)
    info = book.create_sheet("Thông tin")
    deadline = rollup.status.deadline
    facts = [
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
    for r, (label, value) in enumerate(facts, start=1):
        put(info.cell(r, 1), label)
        put(info.cell(r, 2), value)
    fit_columns(info, maximum=80)
    path = archive_path(archive_dir, rollup)
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


def _progress_chart(sheet, rollup: Rollup) -> None:
    """Bars: each commune's share of households against the first target."""
    first = rollup.spec.targets[0]
    rows = rollup.progress.index[rollup.progress["target"] == first.label]
    if not len(rows):
        return
    columns = [c for c in PROGRESS_HEADERS if c in rollup.progress.columns]
    share_col = columns.index("share") + 1
    name_col = columns.index("commune") + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = f"{first.label} / số hộ (chỉ tiêu {first.threshold:.0%})"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    chart.height = max(8, len(rows) * 0.45)
    chart.width = 18
    count = len(rows)
    data = Reference(sheet, min_col=share_col, min_row=1, max_row=count + 1)
    labels = Reference(sheet, min_col=name_col, min_row=2, max_row=count + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    chart.legend = None
    sheet.add_chart(chart, f"{sheet.cell(1, len(columns) + 2).column_letter}2")


def _series_chart(sheet, rollup: Rollup) -> None:
    """Lines: the province's daily reporting and on-time rates over the campaign."""
    names = _series_headers(rollup)
    columns = [c for c in names if c in rollup.series.columns]
    count = len(rollup.series)
    chart = LineChart()
    chart.title = "Tỷ lệ báo cáo và đúng hạn theo ngày"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.width = 20
    for column in ("reporting_rate", "on_time_rate"):
        index = columns.index(column) + 1
        chart.add_data(Reference(sheet, min_col=index, min_row=1, max_row=count + 1),
                       titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=count + 1))
    sheet.add_chart(chart, f"{sheet.cell(1, len(columns) + 2).column_letter}2")


def _table(sheet, frame: pd.DataFrame, names: dict[str, str], rollup: Rollup) -> None:
    columns = [c for c in names if c in frame.columns]
    for c, column in enumerate(columns, start=1):
        put(sheet.cell(1, c), names[column])
    style_header(sheet[1])
    coloured = "status" in frame.columns and "status_label" in columns
    statuses = frame["status"].tolist() if coloured else []
    fills = {s: PatternFill("solid", fgColor=STATUS_FILLS.get(s, "FFFFFF")) for s in set(statuses)}
    for r, record in enumerate(frame[columns].itertuples(index=False), start=2):
        for c, (column, value) in enumerate(zip(columns, record, strict=True), start=1):
            cell = sheet.cell(r, c)
            put(cell, None if _blank(value) else _plain(value))
            if column.startswith("pct_") or column.endswith("_rate") or column in (
                    "share", "threshold"):
                cell.number_format = "0.0%"
            elif isinstance(cell.value, int | float):
                cell.number_format = "#,##0" if float(cell.value).is_integer() else "#,##0.0"
        if coloured:
            sheet.cell(r, columns.index("status_label") + 1).fill = fills[statuses[r - 2]]
    sheet.freeze_panes = "C2" if "commune" in columns and len(columns) > 2 else "A2"
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


