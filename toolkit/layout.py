"""What a commune workbook looks like, independent of the backend that renders it.

Both backends draw the same tabs from these descriptions, and validation points at cells with
the same A1 notation, so a message "Báo cáo ngày!C14" means the same cell everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from toolkit.parse import format_vn_number, read_date, read_month
from toolkit.periods import (
    PERIOD_WORDS,
    campaign_days,
    campaign_periods,
    label_key,
    period_label,
)
from toolkit.templates import FIRST_DATA_ROW, HEADER_ROW, SERVED_HEADER, TITLE_ROW, ReportSpec

HELP_TAB = "Hướng dẫn"
FEEDBACK_TAB = "Kiểm tra"
LISTS_TAB = "Danh mục"
FEEDBACK_HEADERS = ("Kỳ báo cáo", "Trang", "Ô", "Giá trị", "Vấn đề", "Cách sửa", "Mức độ")
#: Kiểm tra's column widths (characters); its cells wrap, so a message is never cut.
FEEDBACK_WIDTHS = (11, 14, 6, 14, 55, 50, 10)

__all__ = ["TITLE_ROW", "HEADER_ROW", "FIRST_DATA_ROW"]


@cache
def column_letter(index: int) -> str:
    """1 → A, 27 → AA. Cached: a national year's issues name ~30,000 cells in a few columns."""
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


#: The header rows' fill, RRGGBB.
HEADER_COLOUR = "DDEBF7"
#: Font colours of the banner tones (RRGGBB); the title keeps the sheet's title style.
BANNER_COLOURS = {"missing": "C00000", "problems": "B35C00"}
#: Kiểm tra's level labels → (fill, text colour) RRGGBB: errors light red, warnings amber. A
#: problem cell on a report tab is filled with the same colour.
LEVEL_COLOURS = {"Lỗi": ("FFC7CE", "9C0006"), "Cảnh báo": ("FFE699", "7F6000")}


#: Who the notes the toolkit puts on problem cells are by, and the line each ends with: how it
#: knows them from a person's notes, which it never touches.
MARK_AUTHOR = "Kiểm tra tự động (Sở)"
MARK_FOOTER = "— Sở kiểm tra tự động; xem trang Kiểm tra."


def is_mark(author: str | None, text: str | None) -> bool:
    """Whether a cell's note is the toolkit's mark: by its author, or, with no author, by the
    line every mark ends with — LibreOffice saves notes without their author, and a mark
    left on a fixed cell forever would say the figure is still wrong."""
    return author == MARK_AUTHOR or (not (author or "").strip()
                                     and (text or "").rstrip().endswith(MARK_FOOTER))


def cell_marks(rows: list[list[str]]) -> dict[str, dict[tuple[int, int], tuple[str, str]]]:
    """Kiểm tra rows → for each tab, each offending cell (0-based row, column) with its
    level label (the worst of its problems) and the note to show on it, all its problems,
    errors first as the rows are ordered."""
    found: dict[str, dict[tuple[int, int], list]] = {}
    for period, tab, ref, _value, message, fix, level in (r[:7] for r in rows if len(r) >= 7):
        cell = parse_a1(str(ref or ""))
        if cell is None:
            continue
        where = (cell[0] - 1, cell[1] - 1)
        text = f"⚠ {level} ({period}): {message}\nCách sửa: {fix}"
        found.setdefault(str(tab), {}).setdefault(where, []).append((level, text))
    return {tab: {where: (marks[0][0], "\n\n".join(t for _, t in marks) + "\n" + MARK_FOOTER)
                  for where, marks in cells.items()}
            for tab, cells in found.items()}


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
    #: What the cell shows when selected: what to type, unit, range (Vietnamese).
    hint: str = ""
    #: The cells' number format ("#,##0" for counts and money), None for text.
    number_format: str | None = None
    #: Characters wide the column is drawn.
    width: int = 16


@dataclass(frozen=True)
class TabLayout:
    tab: str
    title: str
    headers: tuple[str, ...]
    period: str
    period_keys: tuple[str, ...]
    free_rows: int
    columns: tuple[ColumnRule, ...]
    #: An enterprise's tab (``ReportSpec.keyed``): the communes it serves, one pre-filled row
    #: each (column B) under every period; () for a commune's tab, one row per period.
    served: tuple[str, ...] = ()

    @property
    def periodic(self) -> bool:
        """A tab of period rows (pre-filled dates or months in column A), even while the
        campaign expects none of them yet; a roster tab has free rows instead."""
        return self.period != "once"

    @property
    def key_columns(self) -> int:
        """The pre-filled columns before the fields: the period's, and the commune's."""
        return (1 if self.periodic else 0) + (1 if self.served else 0)

    def rows_of(self, keys: tuple[str, ...]) -> list[tuple[str, str | None]]:
        """The rows ``keys`` take, in order: (period, served commune or None)."""
        return [(key, name) for key in keys for name in (self.served or (None,))]

    @property
    def last_row(self) -> int:
        return FIRST_DATA_ROW + max(len(self.rows_of(self.period_keys)), self.free_rows) - 1


def period_keys(spec: ReportSpec, start: date, end: date) -> tuple[str, ...]:
    """The periods a campaign from ``start`` to ``end`` expects of every commune, oldest first.

    These are the rows a report tab is provisioned with, and the only periods that can be
    missing or chased: a daily report's campaign days (working days only on a
    ``working_days`` calendar), a monthly (quarterly, yearly) report's months (quarters, years)
    that overlap the campaign and whose deadline is not before it starts (a campaign starting
    on the 27th owes nothing for a month due on the 26th).
    """
    if spec.period == "daily":
        return tuple(d.isoformat() for d in campaign_days(start, end, spec.calendar))
    if spec.period in ("monthly", "quarterly", "yearly"):
        return tuple(k for k in campaign_periods(spec.period, start, end)
                     if spec.deadline.for_key(k).date() >= start)
    return ()


def served_name(value) -> str:
    """The commune an enterprise's row names in its column B, spaced as a row key holds it."""
    return re.sub(r"\s+", " ", "" if value is None else str(value)).strip()


def row_keys_of(cells) -> tuple[str, ...]:
    """An enterprise tab's rows as they are, from each row's (day, commune) cells: the keys
    (``row_key``) of the rows whose day cell holds a period. Provision compares them with the
    rows the communes served now need, so a commune newly served gets its earlier days too."""
    keys = ((period_key_of(day), served_name(name)) for day, name in cells)
    return tuple(row_key(k, name or None) for k, name in keys if k)


def row_key(period: str, served: str | None) -> str:
    """The ledger's key of a report row: its period, and the commune an enterprise's row is
    for ("2026-11-23|Xã Kiên Mộc")."""
    return period if served is None else f"{period}|{served}"


def tab_layout(spec: ReportSpec, commune_title: str, start: date, end: date,
               served: tuple[str, ...] = ()) -> TabLayout:
    """``served``: for an enterprise's tab (``spec.keyed``), the communes it serves."""
    offset = spec.first_field_column
    columns = tuple(
        ColumnRule(offset + i, f.type, f.min, f.max, f.choices, f.choices_from_villages,
                   refuses_others=not f.aliases, hint=input_hint(f),
                   number_format=number_format(f),
                   width=28 if f.type in ("text", "choice") else 16)
        for i, f in enumerate(spec.fields)
    )
    deadline = spec.deadline
    if spec.period == "daily":
        due = f"hạn {deadline.at:%H:%M} hằng ngày"
    elif spec.period == "monthly" and not deadline.months_after:
        due = f"hạn {deadline.at:%H:%M} ngày {deadline.day_of_month} hằng tháng"
    elif spec.period == "once":
        due = f"hạn {deadline.once_due:%H:%M %d/%m/%Y}"
    else:
        due = "hạn " + deadline.describe().replace(", trước", "")
    return TabLayout(
        tab=spec.tab,
        title=f"{spec.title} — {commune_title} ({due})",
        headers=tuple(spec.headers),
        period=spec.period,
        period_keys=period_keys(spec, start, end),
        free_rows=spec.free_rows,
        columns=columns,
        served=tuple(served) if spec.keyed else (),
    )


#: The look of a commune workbook this version provisions: number formats, fonts, header
#: heights, input hints, validation. Bump it when they change, and ``toolkit provision``
#: brings workbooks recorded with another one up to date (values untouched).
STYLE = "2"
#: The one typeface of a commune .xlsx workbook (headers, body, Kiểm tra): openpyxl's and
#: Excel's default body font, so cells a person adds match. Google Sheets keeps its default.
FONT_NAME = "Calibri"
FONT_SIZE = 11
#: Points per line of wrapped text at FONT_SIZE (Vietnamese diacritics stand tall).
_LINE_POINTS = 15


def number_format(field) -> str | None:
    """The cells' format: thousands grouped ("#,##0", shown 1.200.000 in a Vietnamese
    locale), with the field's decimals; dates day first; None for text."""
    if field.type == "int" or (field.type == "number" and field.decimals == 0):
        return "#,##0"
    if field.type == "number":
        return "#,##0." + "0" + "#" * (field.decimals - 1)
    if field.type == "date":
        return "DD/MM/YYYY"
    return None


def _unit(header: str) -> str:
    """"Doanh số (đồng)" → "đồng"; "" when the header names no unit."""
    match = re.search(r"\(([^()]{1,12})\)\s*$", header)
    return match[1] if match and not match[1].startswith("ví dụ") else ""


def _range(field) -> str:
    low, high = field.min, field.max
    if low is not None and high is not None:
        return f"từ {format_vn_number(low)} đến {format_vn_number(high)}"
    if high is not None:
        return f"không quá {format_vn_number(high)}"
    return f"từ {format_vn_number(0 if low is None else low)} trở lên"


def input_hint(field) -> str:
    """What a cell of ``field`` says when selected: what to type, the unit, the range.
    Excel limits an input message to 255 characters, Google shows it as help text."""
    unit = _unit(field.header)
    unit_text = f", đơn vị {unit}" if unit else ""
    empty = ("Bắt buộc; nếu không có thì nhập 0." if field.numeric and field.required
             else "Bắt buộc." if field.required else "Có thể để trống.")
    if field.type == "int":
        text = f"Nhập số nguyên {_range(field)}{unit_text}, ví dụ 12 (không nhập 12,5)."
    elif field.type == "number":
        example = "1.250.000" if field.decimals == 0 else "2,5"
        fraction = "" if field.decimals == 0 else "; phần lẻ dùng dấu phẩy"
        text = f"Nhập số {_range(field)}{unit_text}, ví dụ {example}{fraction}."
    elif field.type == "date":
        text = "Nhập ngày dạng ngày/tháng/năm, ví dụ 23/11/2026."
    elif field.type == "phone":
        text = "Nhập số điện thoại 10 chữ số, bắt đầu bằng 0, ví dụ 0912 345 678."
    elif field.type == "choice":
        if field.choices_from_villages:
            text = "Chọn thôn/bản trong danh sách (bấm mũi tên bên phải ô)."
        else:
            listed = ", ".join(field.choices[:6]) + (", …" if len(field.choices) > 6 else "")
            text = f"Chọn trong danh sách: {listed}."
    else:
        text = "Nhập chữ (nội dung tự do)."
    return f"{text} {empty}"[:255]


def header_lines(headers, widths) -> int:
    """Lines the longest header wraps to, word by word, in its column (about one bold
    character per width unit, as LibreOffice drew them): the header row is drawn that tall,
    so no header is cut off."""
    lines = 1
    for header, width in zip(headers, widths, strict=False):
        words, line, count = str(header).split(), 0, 1
        for word in words:
            need = len(word) + (1 if line else 0)
            if line and line + need > width - 0.5:
                count, line = count + 1, len(word)
            else:
                line += need
        lines = max(lines, count)
    return lines


def header_height(headers, widths) -> float:
    """The header row's height in points."""
    return round(header_lines(headers, widths) * _LINE_POINTS + 6, 1)


def help_row_height(line: str) -> int:
    """Points a Hướng dẫn line needs, wrapped in its column 100 wide (about 95 letters a
    line)."""
    return _LINE_POINTS * max(1, -(-len(line) * 11 // 10 // 95))


def feedback_row_height(values) -> float:
    """Points a Kiểm tra row needs for its longest wrapped cell (set explicitly: Excel does
    not grow a row to its wrapped text when it opens a file)."""
    lines = 1
    for value, width in zip(values, FEEDBACK_WIDTHS, strict=False):
        text = "" if value is None else str(value)
        lines = max(lines, sum(-(-max(len(part), 1) * 11 // (10 * (width - 1)))
                               for part in text.split("\n")))
    return round(lines * _LINE_POINTS + 4, 1)


def display_period(key: str) -> str:
    """2026-11-23 → 23/11/2026, 2026-11 → 11/2026, 2026-Q4 → Quý IV/2026, 2026 → Năm 2026,
    as staff read them."""
    parts = key.split("-")
    if len(parts) == 3:
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2 and parts[1].startswith("Q"):
        return period_label("quarterly", key)
    if len(parts) == 2:
        return f"{parts[1]}/{parts[0]}"
    return period_label("yearly", key) if key.isdigit() else "—"


def period_phrase(period: str, key: str) -> str:
    """A period inside a sentence: "ngày 23/11/2026", "tháng 11/2026", "quý IV/2026",
    "năm 2026" (``period`` is the template's: daily, monthly, quarterly, yearly)."""
    shown = display_period(key)
    word = PERIOD_WORDS.get(period, "kỳ")
    return shown[0].lower() + shown[1:] if shown.lower().startswith(word) else f"{word} {shown}"


def help_lines(specs: list[ReportSpec], commune_title: str) -> list[str]:
    """The instructions tab: short, in Vietnamese, one idea per line."""
    lines = [
        f"Sổ báo cáo của {commune_title}",
        "",
        "Cách nhập số liệu:",
        "1. Mỗi trang (tab) là một báo cáo. Ngày, tháng, quý đã có sẵn ở cột đầu tiên — chỉ nhập "
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
        when = spec.deadline.describe()
        if spec.period == "once":
            when += "; cập nhật khi có thay đổi"
        required = ", ".join(f.header for f in spec.fields if f.required)
        lines.append(f"- Trang \"{spec.tab}\": {spec.title} — {when}. Bắt buộc: {required}.")
        if spec.keyed:
            lines.append(f"  Mỗi {PERIOD_WORDS.get(spec.period, 'kỳ')} có sẵn một dòng cho mỗi xã "
                         f"doanh nghiệp phục vụ (cột \"{SERVED_HEADER}\"): nhập số liệu của "
                         "doanh nghiệp tại xã đó vào đúng dòng; xã nào không có thì nhập 0.")
            lines.append(f"  Báo cáo {PERIOD_WORDS.get(spec.period, 'kỳ')} chỉ đủ khi dòng của "
                         "mọi xã đều có số liệu; còn xã nào để trống là \"Chưa đủ\".")
    return lines


def period_key_of(value) -> str | None:
    """The period key in a first-column cell, whichever way the backend returns it.

    Daily rows hold a date (openpyxl: datetime; Google: a serial number, or text when a person
    retyped it, in any way a date field accepts); monthly rows hold the text "11/2026",
    quarterly and yearly ones "Quý IV/2026" and "Năm 2026" (``periods.period_label``). Reading
    both with parse's readers keeps a retyped period and a typed date field in agreement.
    """
    day = read_date(value)
    if day is not None:
        return day.isoformat()
    month = read_month(value)
    if month:
        return f"{month[0]}-{month[1]:02d}"
    return label_key(value) if isinstance(value, str) else None
