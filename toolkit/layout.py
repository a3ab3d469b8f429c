"""What a commune workbook looks like, independent of the backend that renders it.

Both backends draw the same tabs from these descriptions, and validation points at cells with
the same A1 notation, so a message "Báo cáo ngày!C14" means the same cell everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from toolkit.parse import read_date, read_month
from toolkit.periods import campaign_days, campaign_months
from toolkit.templates import FIRST_DATA_ROW, HEADER_ROW, TITLE_ROW, ReportSpec

HELP_TAB = "Hướng dẫn"
FEEDBACK_TAB = "Kiểm tra"
LISTS_TAB = "Danh mục"
FEEDBACK_HEADERS = ("Kỳ báo cáo", "Trang", "Ô", "Giá trị", "Vấn đề", "Cách sửa", "Mức độ")

__all__ = ["TITLE_ROW", "HEADER_ROW", "FIRST_DATA_ROW"]


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, column: int) -> str:
    return f"{column_letter(column)}{row}"


_A1 = re.compile(r"([A-Z]{1,3})([0-9]+)")


def parse_a1(ref: str) -> tuple[int, int] | None:
    """The inverse of :func:`a1`: "C12" → (12, 3), 1-based; None for anything else."""
    match = _A1.fullmatch(ref or "")
    if not match:
        return None
    column = 0
    for letter in match[1]:
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


@dataclass(frozen=True)
class Banner:
    """The first row of a report tab: the tab's title, or what is wrong with the current
    period — nothing received yet (``missing``, red) or received with cells to fix
    (``problems``, amber)."""

    text: str
    tone: str = "title"


#: Font colours of the banner tones (RRGGBB); the title keeps the sheet's title style.
BANNER_COLOURS = {"missing": "C00000", "problems": "B35C00"}


@dataclass(frozen=True)
class ColumnRule:
    """Input rules the sheet itself enforces on one field column."""

    column: int
    kind: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    uses_village_list: bool
    #: False when the template lists other words for its choices ("Phó ban"): the sheet then
    #: only warns about them, and collect stores them as the choice they stand for.
    refuses_others: bool = True


@dataclass(frozen=True)
class TabLayout:
    tab: str
    title: str
    headers: tuple[str, ...]
    period: str
    period_keys: tuple[str, ...]
    free_rows: int
    columns: tuple[ColumnRule, ...]

    @property
    def periodic(self) -> bool:
        """A tab of period rows (pre-filled dates or months in column A), even while the
        campaign expects none of them yet; a roster tab has free rows instead."""
        return self.period != "once"

    @property
    def last_row(self) -> int:
        return FIRST_DATA_ROW + max(len(self.period_keys), self.free_rows) - 1


def period_keys(spec: ReportSpec, start: date, end: date) -> tuple[str, ...]:
    """The periods a campaign from ``start`` to ``end`` expects of every commune, oldest first.

    These are the rows a report tab is provisioned with, and the only periods that can be
    missing or chased: a daily report's campaign days (working days only on a
    ``working_days`` calendar), a monthly report's months whose deadline is not before the
    campaign starts (a campaign starting on the 27th owes nothing for a month due on the 26th).
    """
    if spec.period == "daily":
        return tuple(d.isoformat() for d in campaign_days(start, end, spec.calendar))
    if spec.period == "monthly":
        return tuple(k for k in campaign_months(start, end)
                     if spec.deadline.for_key(k).date() >= start)
    return ()


def tab_layout(spec: ReportSpec, commune_title: str, start: date, end: date) -> TabLayout:
    offset = spec.first_field_column
    columns = tuple(
        ColumnRule(offset + i, f.type, f.min, f.max, f.choices, f.choices_from_villages,
                   refuses_others=not f.aliases)
        for i, f in enumerate(spec.fields)
    )
    deadline = spec.deadline
    if spec.period == "daily":
        due = f"hạn {deadline.at:%H:%M} hằng ngày"
    elif spec.period == "monthly":
        due = f"hạn {deadline.at:%H:%M} ngày {deadline.day_of_month} hằng tháng"
    else:
        due = f"hạn {deadline.once_due:%H:%M %d/%m/%Y}"
    return TabLayout(
        tab=spec.tab,
        title=f"{spec.title} — {commune_title} ({due})",
        headers=tuple(spec.headers),
        period=spec.period,
        period_keys=period_keys(spec, start, end),
        free_rows=spec.free_rows,
        columns=columns,
    )


def display_period(key: str) -> str:
    """2026-11-23 → 23/11/2026, 2026-11 → 11/2026, as staff read them."""
    parts = key.split("-")
    if len(parts) == 3:
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2:
        return f"{parts[1]}/{parts[0]}"
    return "—"


def help_lines(specs: list[ReportSpec], commune_title: str) -> list[str]:
    """The instructions tab: short, in Vietnamese, one idea per line."""
    lines = [
        f"Sổ báo cáo của {commune_title}",
        "",
        "Cách nhập số liệu:",
        "1. Mỗi trang (tab) là một báo cáo. Ngày và tháng đã có sẵn ở cột đầu tiên — chỉ nhập "
        "vào dòng của kỳ báo cáo.",
        "2. Nhập số nguyên, không nhập chữ, không nhập dấu chấm/phẩy: ví dụ 1200 (không phải "
        "\"1.200 hộ\").",
        "3. Ô tiền (đồng) và sản lượng (kg) nhập số; phần lẻ dùng dấu phẩy, ví dụ 2,5.",
        "4. Không sửa, xoá hay đổi tên các dòng tiêu đề và các trang.",
        "5. Trang \"Kiểm tra\" do Sở cập nhật tự động: xem ở đó những ô còn thiếu hoặc sai và "
        "sửa lại trong trang báo cáo.",
        "",
        "Các báo cáo:",
    ]
    for spec in specs:
        if spec.period == "daily":
            when = f"hằng ngày, trước {spec.deadline.at:%H:%M}"
        elif spec.period == "monthly":
            when = f"hằng tháng, trước {spec.deadline.at:%H:%M} ngày {spec.deadline.day_of_month}"
        else:
            when = (f"một lần, trước {spec.deadline.once_due:%H:%M ngày %d/%m/%Y}; "
                    "cập nhật khi có thay đổi")
        required = ", ".join(f.header for f in spec.fields if f.required)
        lines.append(f"- Trang \"{spec.tab}\": {spec.title} — {when}. Bắt buộc: {required}.")
    return lines


def period_key_of(value) -> str | None:
    """The period key in a first-column cell, whichever way the backend returns it.

    Daily rows hold a date (openpyxl: datetime; Google: a serial number, or text when a person
    retyped it, in any way a date field accepts); monthly rows hold the text "11/2026". Reading
    both with parse's readers keeps a retyped period and a typed date field in agreement.
    """
    day = read_date(value)
    if day is not None:
        return day.isoformat()
    month = read_month(value)
    return f"{month[0]}-{month[1]:02d}" if month else None
