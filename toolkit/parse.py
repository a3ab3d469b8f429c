"""One spreadsheet cell → a typed value, with Vietnamese number and date formats.

Cells come from openpyxl or from Google Sheets read with UNFORMATTED_VALUE, so they are None,
bool, int, float, str, or datetime/date/time. A cell that cannot be read is returned as an error
message (shown to commune staff in their "Kiểm tra" tab), never raised and never turned into a
silent blank. Ambiguous input is refused rather than guessed: in Vietnam "1.200" is twelve
hundred and "2,5" is two and a half, but a sheet in an English locale teaches people the
opposite, so "1.5" and (in counts) "1,200" are sent back to be retyped. Dates are read day
first; 11/23/2026 is month first only because 23 is no month. What is unambiguous is read as
meant: full-width digits and punctuation from phone keyboards, other scripts' digits, odd
spaces and hyphens, and the usual ways of writing a day ("Thứ Hai, ngày 23 tháng 11 năm 2026").
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

KINDS = ("int", "number", "text", "date", "choice", "phone")

# Google Sheets and Excel count days from here (Lotus' 1900 leap-year bug folded in).
SERIAL_EPOCH = date(1899, 12, 30)
# Dates outside this window are typos ("2062", "0226") or a small number typed into a date cell
# that the sheet turned into a 1900s date; they are refused.
DATE_MIN = date(1950, 1, 1)
DATE_MAX = date(2100, 12, 31)
_SERIAL_MIN = (DATE_MIN - SERIAL_EPOCH).days
_SERIAL_MAX = (DATE_MAX - SERIAL_EPOCH).days

INT_UNITS = frozenset({"ho", "ho gia dinh", "cai", "tai khoan", "tk", "cua hang", "gian hang",
                       "don", "don hang", "nguoi", "luot"})
NUMBER_UNITS = frozenset({"kg", "d", "dong", "vnd", "₫"})
SPREADSHEET_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                                "#N/A", "#ERROR!", "#SPILL!", "#CALC!"})
_SHOWN_CHOICES = 10
_SHOWN_CHARS = 40

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Hyphens that keyboards and word processors put where a "-" was typed.
_HYPHENS = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2212\ufe63"), "-")
_SPACES = re.compile(r"\s+")
# Sign, the number (digits, "." or " " thousands groups, "," decimals), then an optional unit;
# read after _folded, so other dashes and digits are already ASCII.
_NUMBER_CELL = re.compile(r"(?P<sign>-)?\s*(?P<num>[0-9](?:[0-9., ]*[0-9])?)"
                          r"\s*(?P<unit>[^0-9]*)", re.ASCII)
_VN_NUMBER = re.compile(r"(?P<int>[0-9]{1,3}(?:[. ][0-9]{3})+|[0-9]+)(?:,(?P<frac>[0-9]+))?")
_DOT_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
# A date as people write it, read after _folded and strip_diacritics: an optional weekday
# ("thu hai", "t2", "cn"), then day/month/year (either order of day and month, see
# _date_in_text), year-month-day, or the long forms "ngay 23 thang 11 nam 2026" and
# "23 thg 11, 2026"; an optional time of day is ignored.
_WEEKDAYS = {
    **{f"{prefix}{n}": i for i, n in enumerate("234567") for prefix in ("thu ", "th ", "t")},
    **{f"thu {word}": i for i, word in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))},
    "chu nhat": 6, "cn": 6,
}
_WEEKDAYS_SHOWN = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_DATE_TEXT = re.compile(
    rf"(?:(?P<weekday>{'|'.join(sorted(_WEEKDAYS, key=len, reverse=True))})(?:, ?| ))?(?:ngay )?"
    r"(?:(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"|(?P<iso_year>\d{4})(?P<iso_sep>[/.-])(?P<iso_month>\d{1,2})(?P=iso_sep)(?P<iso_day>\d{1,2})"
    r"|(?P<day>\d{1,2}) (?:thang|thg) (?P<month>\d{1,2})(?:,? | nam )(?P<long_year>\d{4}))"
    r"(?: (?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?", re.ASCII)
_MONTH_TEXT = re.compile(r"(?:(?P<word>thang|thg|t) ?)?(?P<month>\d{1,2})"
                         r"(?P<sep>[/.-]|,? | nam )(?P<year>\d{4})", re.ASCII)
_PHONE_NOISE = re.compile(r"[\s.\-()]")

_INT_HINT = "một số nguyên (ví dụ 1200)"
_NUMBER_HINT = "một số (ví dụ 1.200 hoặc 2,5)"
_DATE_HINT = "một ngày dạng ngày/tháng/năm (ví dụ 23/11/2026)"


@dataclass(frozen=True)
class Parsed:
    value: object | None      # typed value or None when blank or invalid
    error: str | None = None  # Vietnamese message when the cell is not acceptable, else None
    blank: bool = False       # True when the cell is empty/whitespace only


BLANK = Parsed(None, None, blank=True)


def strip_diacritics(text: str) -> str:
    """Key for comparing Vietnamese typed with or without accents: "  Tổ  Trưởng" → "to truong"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_INVISIBLE))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return _SPACES.sub(" ", bare.lower().replace("đ", "d")).strip()


def format_vn_number(x) -> str:
    """A number as Vietnamese readers write it, for messages: 1200000 → "1.200.000", 2.5 → "2,5".

    numpy scalars (what pandas sums and cells give) are written as the Python numbers they
    hold; repr() of numpy's float64 is not a number Decimal can read.
    """
    if hasattr(x, "item") and not isinstance(x, Decimal):
        x = x.item()
    # Whole numbers, most of what messages hold, without Decimal: a quarter of the time,
    # which counts where a rule fails on most rows of a national year. -0.0 keeps its sign
    # below, and from 2**53 on a float's shortest digits are not the integer it holds.
    if type(x) is int or (type(x) is float and x.is_integer() and 0 < abs(x) < 2 ** 53):
        return f"{int(x):,}".replace(",", ".")
    if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    # repr() gives the shortest digits that read back as the same float.
    text = format(Decimal(repr(x)) if isinstance(x, float) else Decimal(x), "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    frac = frac.rstrip("0")
    whole = whole.lstrip("0") or "0"
    head = len(whole) % 3 or 3
    grouped = ".".join([whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)])
    return f"{sign}{grouped},{frac}" if frac else f"{sign}{grouped}"


def typed_text(raw) -> str:
    """A cell's value as the commune sees it in a Vietnamese sheet, for Kiểm tra: 12,5 and
    1.200.000, "Có"/"Không" for a TRUE/FALSE cell, dates dd/mm/yyyy; text as typed."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "Có" if raw else "Không"
    if isinstance(raw, int | float | Decimal) or hasattr(raw, "item"):
        return format_vn_number(raw)
    if isinstance(raw, datetime):
        return f"{raw:%d/%m/%Y %H:%M}" if raw.time() != time() else f"{raw:%d/%m/%Y}"
    if isinstance(raw, date):
        return f"{raw:%d/%m/%Y}"
    if isinstance(raw, time):
        return f"{raw:%H:%M}"
    return str(raw)


def parse_cell(raw, kind: str, *, minimum: float | None = None, maximum: float | None = None,
               choices: tuple[str, ...] = (),
               aliases: tuple[tuple[str, str], ...] = ()) -> Parsed:
    """Read one cell as ``kind``; problems come back in ``Parsed.error``, never as exceptions.

    An unknown ``kind`` is a programming error (templates are checked on load) and raises.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown field type {kind!r}; expected one of {', '.join(KINDS)}")
    if isinstance(raw, str):
        raw = unicodedata.normalize("NFC", raw.translate(_INVISIBLE))
        if not raw.strip():
            return BLANK
    elif raw is None:
        return BLANK
    if isinstance(raw, float) and not math.isfinite(raw):
        return _error(f"Ô này chứa giá trị lỗi ({raw}); hãy gõ lại.")
    if kind in ("int", "number"):
        parsed = _parse_int(raw) if kind == "int" else _parse_number(raw)
        return _check_bounds(parsed, minimum, maximum)
    if kind == "text":
        return Parsed(_as_text(raw))
    if kind == "date":
        return _parse_date(raw)
    if kind == "choice":
        return _parse_choice(_as_text(raw), choices, aliases)
    return _parse_phone(raw)


def _error(message: str) -> Parsed:
    return Parsed(None, message)


def _shown(raw) -> str:
    """The cell as staff saw it, for messages."""
    if isinstance(raw, bool):
        return f'"{str(raw).upper()}"'
    if isinstance(raw, int | float | Decimal):
        return format_vn_number(raw)
    if isinstance(raw, datetime | date):
        return f"ngày {raw:%d/%m/%Y}"
    if isinstance(raw, time):
        return f"giờ {raw:%H:%M}"
    return f'"{_clip(_SPACES.sub(" ", str(raw)).strip())}"'


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 1] + "…"


def _as_text(raw) -> str:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return str(raw).upper()
    if isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer()):
        return _digits_of(raw)
    if isinstance(raw, datetime):
        return f"{raw:%d/%m/%Y %H:%M}" if raw.time() != time() else f"{raw:%d/%m/%Y}"
    if isinstance(raw, date):
        return f"{raw:%d/%m/%Y}"
    if isinstance(raw, time):
        return f"{raw:%H:%M:%S}" if raw.second else f"{raw:%H:%M}"
    return str(raw)


class _FoldTable(dict):
    """A str.translate table from look-alikes to the ASCII they stand for, filled as needed."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            plain = str(digit)
        elif unicodedata.category(char) == "Zs":
            plain = " "
        elif unicodedata.decomposition(char).startswith(("<wide>", "<narrow>")):
            plain = unicodedata.normalize("NFKC", char)
        else:
            plain = _HYPHENS.get(code, char)
        self[code] = plain
        return plain


_FOLDS = _FoldTable()


def _folded(text: str) -> str:
    """Digits, punctuation and spaces as a person meant them: "２３／１１" → "23/11", "١٢" → "12".

    Phones and IMEs type full-width forms and other scripts' digits. Only those (NFKC of
    width variants, any Unicode decimal digit, space separators, hyphens) are folded: NFKC at
    large would also read "10²" as 102 and "①" as 1, which is not what anybody typed.
    """
    return text if text.isascii() else text.translate(_FOLDS)


# --- numbers ---------------------------------------------------------------------------------

def _numeric_cell(raw, hint: str) -> Decimal | Parsed:
    """A non-text cell as an exact Decimal, or the error for cells that are not numbers."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        return _error(f"Ô này cần {hint}, nhưng đang là {_shown(raw)}.")
    value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if value < 0:
        return _error(f"Số không được âm, nhưng đang là {_shown(raw)}; hãy gõ số từ 0 trở lên.")
    return value


def _split_number_text(raw: str, hint: str, units: frozenset[str]):
    """Text → (sign, number text) or the error Parsed; the unit, if any, must be one we know."""
    typed = _SPACES.sub(" ", raw).strip()
    text = _folded(typed)
    if text.startswith("="):
        return _error(f"Ô này cần {hint}, nhưng đang là công thức {_shown(typed)}; "
                      "hãy gõ số thay cho công thức.")
    if text.upper() in SPREADSHEET_ERRORS:
        return _error(f"Ô này đang báo lỗi {text.upper()}; hãy sửa công thức hoặc gõ lại số.")
    match = _NUMBER_CELL.fullmatch(text)
    unit = strip_diacritics(match["unit"]) if match else ""
    # A unit may end a sentence ("500.000 đ."), a bare number may not ("1200." is a typo).
    if not match or (unit and unit.removesuffix(".").strip() not in units):
        return _error(f"Ô này cần {hint}, nhưng đang là {_shown(typed)}.")
    return match["sign"], match["num"]


def _parse_int(raw) -> Parsed:
    if not isinstance(raw, str):
        value = _numeric_cell(raw, _INT_HINT)
        if isinstance(value, Parsed):
            return value
        if value != value.to_integral_value():
            return _error(f"Ô này cần {_INT_HINT}, nhưng đang là {_shown(raw)}.")
        return Parsed(int(value))
    split = _split_number_text(raw, _INT_HINT, INT_UNITS)
    if isinstance(split, Parsed):
        return split
    sign, num = split
    shown = _shown(raw)
    vn = _VN_NUMBER.fullmatch(num)
    if vn:
        frac = vn["frac"] or ""
        grouped = len(vn["int"]) != len(_digits(vn["int"]))
        # "1,200": twelve hundred to an English-locale eye, 1.2 to a Vietnamese one.
        if len(frac) == 3 and not grouped and _digits(vn["int"]).lstrip("0"):
            return _error(f"Không rõ {shown} là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.")
        if frac.strip("0"):
            return _error(f"Ô này cần {_INT_HINT}, nhưng đang là {shown}.")
        return _signed(sign, Decimal(_digits(vn["int"])), shown)
    if _DOT_DECIMAL.fullmatch(num):
        whole, _, frac = num.partition(".")
        # "12.0" is what str(12.0) writes; both readings agree, so it is safe.
        if len(frac) <= 2 and not frac.strip("0"):
            return _signed(sign, Decimal(whole), shown)
        return _error(f"Không rõ {shown} là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.")
    return _error(f"Ô này cần {_INT_HINT}, nhưng đang là {shown}.")


def _parse_number(raw) -> Parsed:
    if not isinstance(raw, str):
        value = _numeric_cell(raw, _NUMBER_HINT)
        return value if isinstance(value, Parsed) else Parsed(_plain(value))
    split = _split_number_text(raw, _NUMBER_HINT, NUMBER_UNITS)
    if isinstance(split, Parsed):
        return split
    sign, num = split
    shown = _shown(raw)
    vn = _VN_NUMBER.fullmatch(num)
    if vn:
        return _signed(sign, Decimal(f"{_digits(vn['int'])}.{vn['frac'] or 0}"), shown)
    if _DOT_DECIMAL.fullmatch(num):
        whole, _, frac = num.partition(".")
        if len(frac) <= 2 and not frac.strip("0"):
            return _signed(sign, Decimal(whole), shown)
        return _error(f"Không rõ {shown} là bao nhiêu; số thập phân dùng dấu phẩy (2,5), "
                      "hàng nghìn dùng dấu chấm (1.200).")
    return _error(f"Ô này cần {_NUMBER_HINT}, nhưng đang là {shown}.")


def _digits(text: str) -> str:
    return text.replace(".", "").replace(" ", "")


def _signed(sign: str | None, value: Decimal, shown: str) -> Parsed:
    if sign and value:
        return _error(f"Số không được âm, nhưng đang là {shown}; hãy gõ số từ 0 trở lên.")
    return Parsed(_plain(value))


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _check_bounds(parsed: Parsed, minimum, maximum) -> Parsed:
    value = parsed.value
    if value is None:
        return parsed
    if minimum is not None and value < minimum:
        return _error(f"Số phải từ {format_vn_number(minimum)} trở lên, "
                      f"nhưng đang là {format_vn_number(value)}.")
    if maximum is not None and value > maximum:
        return _error(f"Số không được lớn hơn {format_vn_number(maximum)}, "
                      f"nhưng đang là {format_vn_number(value)}.")
    return parsed


# --- dates, choices, phones ------------------------------------------------------------------

def _parse_date(raw) -> Parsed:
    weekday = None
    if isinstance(raw, datetime):
        day = raw.date()
    elif isinstance(raw, date):
        day = raw
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        # A serial number: Google's UNFORMATTED_VALUE for a date cell.
        if not _SERIAL_MIN <= raw < _SERIAL_MAX + 1:
            return _not_a_date(raw)
        return Parsed(SERIAL_EPOCH + timedelta(days=math.floor(raw)))
    elif isinstance(raw, str):
        found = _date_in_text(raw)
        if found is None:
            return _not_a_date(raw)
        year, month, day_of_month, weekday = found
        try:
            day = date(year, month, day_of_month)
        except ValueError:
            return _error(f"Ngày {_shown(raw)} không có trong lịch; hãy kiểm tra ngày và tháng.")
    else:
        return _not_a_date(raw)
    if not DATE_MIN <= day <= DATE_MAX:
        return _error(f"Ngày {day:%d/%m/%Y} nằm ngoài khoảng {DATE_MIN.year}–{DATE_MAX.year}; "
                      "hãy kiểm tra lại năm.")
    if weekday is not None and weekday != day.weekday():
        # "Thứ Hai, 24/11/2026": the weekday or the date is a typo, and nothing says which.
        return _error(f"Ngày {day:%d/%m/%Y} là {_WEEKDAYS_SHOWN[day.weekday()]}, không phải "
                      f"{_WEEKDAYS_SHOWN[weekday]}; hãy kiểm tra lại ngày.")
    return Parsed(day)


def _not_a_date(raw) -> Parsed:
    return _error(f"Ô này cần {_DATE_HINT}, nhưng đang là {_shown(raw)}.")


def _date_in_text(text: str) -> tuple[int, int, int, int | None] | None:
    """(year, month, day, weekday or None) of a date written in one of the ways people do."""
    match = _DATE_TEXT.fullmatch(strip_diacritics(_folded(text)))
    if not match:
        return None
    weekday = _WEEKDAYS[match["weekday"]] if match["weekday"] else None
    if match["iso_year"]:
        return int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"]), weekday
    if match["long_year"]:
        return int(match["long_year"]), int(match["month"]), int(match["day"]), weekday
    year = match["year"]
    # Only after "/" is day-first a habit strong enough for two digits: "26-11-23" may be ISO.
    if len(year) == 2 and match["sep"] != "/":
        return None
    first, second = int(match["first"]), int(match["second"])
    # Day first, as Vietnamese write it; only an English-locale habit writes 11/23/2026.
    day, month = (second, first) if first <= 12 < second else (first, second)
    return int(year) + (2000 if len(year) == 2 else 0), month, day, weekday


def read_date(raw) -> date | None:
    """The day in a cell as a date field reads it, or None: for the period column's keys."""
    value = parse_cell(raw, "date").value
    return value if isinstance(value, date) else None


def read_month(raw) -> tuple[int, int] | None:
    """(year, month) of a month cell such as "11/2026", "tháng 11/2026" or "T11/2026", or None."""
    if not isinstance(raw, str):
        return None
    match = _MONTH_TEXT.fullmatch(strip_diacritics(_folded(raw)))
    # Without "tháng" in front, "11 2026" could as well be a number with a thousands space.
    if not match or (not match["word"] and match["sep"] not in ("/", ".", "-")):
        return None
    year, month = int(match["year"]), int(match["month"])
    if 1 <= month <= 12 and DATE_MIN.year <= year <= DATE_MAX.year:
        return year, month
    return None


def _parse_choice(text: str, choices: tuple[str, ...],
                  aliases: tuple[tuple[str, str], ...] = ()) -> Parsed:
    if not choices:
        return _error("Ô này chưa có danh sách giá trị để chọn; hãy báo cho Sở để bổ sung.")
    words = [(c, c) for c in choices] + list(aliases)
    exact = {c for word, c in words if _exact_key(word) == _exact_key(text)}
    loose = {c for word, c in words if _loose_key(word) == _loose_key(text)}
    found = [c for c in choices if c in (exact or loose)]
    if len(found) == 1:
        return Parsed(found[0])
    if found:
        options = " hay ".join(f'"{c}"' for c in found)
        return _error(f"Không rõ {_shown(text)} là {options}; hãy chọn trong danh sách.")
    listed = ", ".join(choices[:_SHOWN_CHOICES])
    if len(choices) > _SHOWN_CHOICES:
        listed += f" (và {len(choices) - _SHOWN_CHOICES} giá trị khác)"
    return _error(f"Hãy chọn một trong: {listed}; ô này đang là {_shown(text)}.")


def _exact_key(text: str) -> str:
    return _SPACES.sub(" ", _folded(unicodedata.normalize("NFC", text))).strip().lower()


def _loose_key(text: str) -> str:
    return strip_diacritics(_folded(text))


def _parse_phone(raw) -> Parsed:
    wrong = _error("Số điện thoại cần 10 chữ số bắt đầu bằng 0 (ví dụ 0912 345 678), "
                   f"nhưng đang là {_phone_shown(raw)}.")
    if isinstance(raw, bool):
        return wrong
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        digits = _digits_of(raw) if raw >= 0 else ""
    elif isinstance(raw, str):
        digits = _PHONE_NOISE.sub("", _folded(raw))
        if digits.startswith("+84"):
            digits = digits[3:]
    else:
        return wrong
    if not digits.isascii() or not digits.isdigit():
        return wrong
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = digits[2:]
    if not digits.startswith("0"):
        # A number cell drops the leading zero: 912345678 was typed as 0912345678.
        digits = "0" + digits
    return Parsed(digits) if len(digits) == 10 else wrong


def _phone_shown(raw) -> str:
    if (isinstance(raw, int) and not isinstance(raw, bool)) or (
            isinstance(raw, float) and raw.is_integer()):
        return _clip(_digits_of(raw))
    return _shown(raw)


def _digits_of(whole: int | float) -> str:
    """str() of a whole number, also past Python's 4,300-digit int→str limit."""
    return format(Decimal(int(whole)), "f")
