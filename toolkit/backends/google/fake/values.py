"""Cell values in and out: what USER_ENTERED makes of typed text, and how values render.

Typed text is parsed in the spreadsheet's locale, as Sheets does: in ``vi_VN`` "1.200" is one
thousand two hundred, "2,5" is two and a half and "23/11/2026" is a date (serial 46349); in
``en_US`` the same date is written 11/23/2026. Dates are numbers (days since 1899-12-30) with a
DATE number format; rendering follows valueRenderOption and dateTimeRenderOption.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

EPOCH = datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "TIME", "DATE_TIME")


@dataclass(frozen=True)
class Locale:
    group: str
    decimal: str
    order: str          # "DMY" or "MDY"
    date: str           # Sheets pattern given to an auto-detected date
    date_time: str
    time: str = "h:mm:ss"


LOCALES = {
    "en_US": Locale(",", ".", "MDY", "m/d/yyyy", "m/d/yyyy h:mm:ss", "h:mm:ss am/pm"),
    "en_GB": Locale(",", ".", "DMY", "dd/mm/yyyy", "dd/mm/yyyy hh:mm:ss", "hh:mm:ss"),
    "vi_VN": Locale(".", ",", "DMY", "dd/mm/yyyy", "dd/mm/yyyy hh:mm:ss", "hh:mm:ss"),
    "fr_FR": Locale("\u202f", ",", "DMY", "dd/mm/yyyy", "dd/mm/yyyy hh:mm:ss", "hh:mm:ss"),
    "de_DE": Locale(".", ",", "DMY", "dd.mm.yyyy", "dd.mm.yyyy hh:mm:ss", "hh:mm:ss"),
}


def locale_of(name: str | None) -> Locale:
    return LOCALES.get(name or "en_US", LOCALES["en_US"])


def serial(moment: date | datetime) -> float:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    delta = moment.replace(tzinfo=None) - EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


def from_serial(value: float) -> datetime:
    return EPOCH + timedelta(days=float(value))


def plain(value):
    """A number as Google's JSON writes it: 46349, not 46349.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


# -- typed text → value -----------------------------------------------------------------------


def _number_re(loc: Locale) -> re.Pattern:
    g, d = re.escape(loc.group), re.escape(loc.decimal)
    return re.compile(rf"^([+-]?)(\d{{1,3}}(?:{g}\d{{3}})+|\d+)?(?:{d}(\d+))?([eE][+-]?\d+)?"
                      r"\s?(%?)$")


_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*([AaPp][Mm])?$")


def parse_user_entered(text: str, locale: str | None, number_type: str | None = None):
    """Typed text → (value, auto number format or None); value None means an empty cell.

    A formula comes back as the formula text (it starts with '='), a leading apostrophe forces
    text, and a cell formatted as plain text (``@``) keeps what was typed.
    """
    if text == "":
        return None, None
    if text.startswith("'"):
        return text[1:], None
    if text.startswith("=") and len(text) > 1:
        return Formula(text), None
    if number_type == "TEXT":
        return text, None
    loc = locale_of(locale)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return stripped.upper() == "TRUE", None
    number = _parse_number(stripped, loc)
    if number is not None:
        return number
    moment = _parse_date(stripped, loc)
    if moment is not None:
        return moment
    return text, None


def _parse_number(text: str, loc: Locale):
    m = _number_re(loc).match(text)
    if not m or (m.group(2) is None and m.group(3) is None):
        return None
    sign, whole, frac, exp, pct = m.groups()
    digits = (whole or "0").replace(loc.group, "") + ("." + frac if frac else "") + (exp or "")
    value = float(digits) * (-1 if sign == "-" else 1)
    if pct:
        pattern = "0%" if not frac else "0." + "0" * len(frac) + "%"
        return value / 100, {"type": "PERCENT", "pattern": pattern}
    if whole and loc.group in whole:
        pattern = "#,##0" if not frac else "#,##0." + "0" * len(frac)
        return value, {"type": "NUMBER", "pattern": pattern}
    if exp:
        return value, {"type": "SCIENTIFIC", "pattern": "0.00E+00"}
    return value, None


def _parse_date(text: str, loc: Locale):
    date_part, _, time_part = text.partition(" ")
    day = _date(date_part, loc)
    pattern = loc.date
    if day is not None and re.match(r"^\d{4}-", date_part):
        pattern = "yyyy-mm-dd"             # Sheets keeps the form an ISO date was typed in
    if day is None:
        clock = _time(text)
        if clock is None:
            return None
        return clock, {"type": "TIME", "pattern": loc.time}
    if not time_part:
        return serial(day), {"type": "DATE", "pattern": pattern}
    clock = _time(time_part.strip())
    if clock is None:
        return None
    return serial(day) + clock, {"type": "DATE_TIME", "pattern": loc.date_time}


def _date(text: str, loc: Locale) -> date | None:
    m = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$", text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.match(r"^(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?$", text)
        if not m:
            return None
        a, b = int(m.group(1)), int(m.group(3))
        day, month = (a, b) if loc.order == "DMY" else (b, a)
        if m.group(4) is None:
            if m.group(2) != "/":
                return None
            year = date.today().year
        else:
            year = int(m.group(4))
            if len(m.group(4)) == 2:
                year += 2000 if year < 30 else 1900
        return date(year, month, day)
    except ValueError:
        return None


def _time(text: str) -> float | None:
    m = _TIME.match(text)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3) or 0)
    if m.group(5):
        if hour > 12:
            return None
        hour = hour % 12 + (12 if m.group(5).lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (hour * 3600 + minute * 60 + second) / 86400


class Formula(str):
    """Formula text, told apart from a string that merely starts with '='."""


# -- value → text -----------------------------------------------------------------------------


def general(value: float, loc: Locale) -> str:
    if math.isinf(value) or math.isnan(value):
        return "#NUM!"
    if value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    elif abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-9):
        text = f"{value:.5E}".replace("E+0", "E+").replace("E-0", "E-")
    else:
        text = f"{value:.10f}".rstrip("0").rstrip(".")
        digits = len(text.replace("-", "").replace(".", "").lstrip("0"))
        if digits > 15:
            text = f"{value:.15g}"
    return text.replace(".", loc.decimal)


def format_number(value: float, number_format: dict | None, loc: Locale) -> str:
    kind = (number_format or {}).get("type")
    pattern = (number_format or {}).get("pattern")
    if kind in DATE_TYPES:
        default = {"DATE": loc.date, "TIME": loc.time, "DATE_TIME": loc.date_time}[kind]
        return format_date(value, pattern or default)
    if not pattern or kind in (None, "TEXT", "NUMBER_FORMAT_TYPE_UNSPECIFIED") and not pattern:
        if kind == "PERCENT":
            return format_pattern(value, "0.00%", loc)
        return general(value, loc)
    if pattern in ("@", "General", "general"):
        return general(value, loc)
    return format_pattern(value, pattern, loc)


_NUM_PART = re.compile(r"[#0?][#0?,]*(?:\.[#0?]*)?|\.[#0?]+")


def format_pattern(value: float, pattern: str, loc: Locale) -> str:
    sections = pattern.split(";")
    core = sections[0]
    negative = value < 0
    if negative and len(sections) > 1 and sections[1]:
        core, value = sections[1], -value
    elif value == 0 and len(sections) > 2 and sections[2]:
        core = sections[2]
    core = re.sub(r"\[\$([^\]-]*)[^\]]*\]", lambda m: m.group(1), core)
    core = re.sub(r'"([^"]*)"', lambda m: m.group(1).replace("0", "\0"), core)
    core = re.sub(r"\\(.)", lambda m: m.group(1), core)
    if re.search(r"[dmyhs]", core, re.I) and not _NUM_PART.search(core):
        return format_date(value, pattern)
    m = _NUM_PART.search(core)
    if not m:
        return core.replace("\0", "0")
    number = m.group(0)
    whole, _, frac = number.partition(".")
    scaled = abs(value) * (100 if "%" in core else 1)
    max_frac = sum(frac.count(c) for c in "0#?")
    min_frac = frac.count("0")
    text = f"{round(scaled + 0.0, max_frac):.{max_frac}f}"
    int_text, _, frac_text = text.partition(".")
    while len(frac_text) > min_frac and frac_text.endswith("0"):
        frac_text = frac_text[:-1]
    min_int = whole.count("0")
    int_text = int_text.lstrip("0").rjust(min_int, "0")
    if "," in whole:
        int_text = f"{int(int_text or 0):,}".replace(",", loc.group) if int_text else int_text
    body = int_text + (loc.decimal + frac_text if frac_text else "")
    sign = "-" if negative and len(sections) == 1 and scaled != 0 else ""
    out = core[:m.start()] + sign + body + core[m.end():]
    return out.replace("\0", "0")


_DATE_TOKEN = re.compile(r'"[^"]*"|\\.|am/pm|AM/PM|a/p|A/P|yyyy|yy|dddd|ddd|dd|d|mmmmm|mmmm|mmm|'
                         r'mm|m|hh|h|ss|s|\.0+|[^"\\]', re.I)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def format_date(value: float, pattern: str) -> str:
    moment = from_serial(value)
    moment = moment + timedelta(microseconds=500) if not re.search(r"\.0", pattern) else moment
    tokens = _DATE_TOKEN.findall(pattern)
    lowered = [t.lower() for t in tokens]
    twelve = any(t in ("am/pm", "a/p") for t in lowered)
    out = []
    for i, (tok, low) in enumerate(zip(tokens, lowered, strict=True)):
        if low in ("m", "mm"):
            before = [t for t in lowered[:i] if t.strip() and t not in (":", "/", "-", ".", " ")]
            after = [t for t in lowered[i + 1:] if t.strip() and t not in (":", "/", "-", ".")]
            is_minute = (before and before[-1] in ("h", "hh")) or (after and after[0] in
                                                                     ("s", "ss"))
            number = moment.minute if is_minute else moment.month
            out.append(f"{number:02d}" if low == "mm" else str(number))
        elif low == "yyyy":
            out.append(f"{moment.year:04d}")
        elif low == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif low in ("d", "dd"):
            out.append(f"{moment.day:02d}" if low == "dd" else str(moment.day))
        elif low == "ddd":
            out.append(_DAYS[moment.weekday()][:3])
        elif low == "dddd":
            out.append(_DAYS[moment.weekday()])
        elif low == "mmm":
            out.append(_MONTHS[moment.month - 1][:3])
        elif low == "mmmm":
            out.append(_MONTHS[moment.month - 1])
        elif low == "mmmmm":
            out.append(_MONTHS[moment.month - 1][0])
        elif low in ("h", "hh"):
            hour = moment.hour % 12 or 12 if twelve else moment.hour
            out.append(f"{hour:02d}" if low == "hh" else str(hour))
        elif low in ("s", "ss"):
            out.append(f"{moment.second:02d}" if low == "ss" else str(moment.second))
        elif low in ("am/pm", "a/p"):
            text = "AM" if moment.hour < 12 else "PM"
            out.append(text if low == "am/pm" else text[0])
        elif low.startswith(".0"):
            out.append("." + f"{moment.microsecond:06d}"[:len(low) - 1])
        elif tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        else:
            out.append(tok)
    return "".join(out)


def number_of(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def time_of(value: float) -> time:
    return from_serial(value).time()
