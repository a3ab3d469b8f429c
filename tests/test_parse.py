import math
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.parse import (
    Parsed,
    format_vn_number,
    parse_cell,
    read_date,
    read_month,
    strip_diacritics,
)

ROLES = ("Tổ trưởng", "Tổ phó", "Thành viên")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0", "\t\n", "\u200b"])
@pytest.mark.parametrize("kind", ["int", "number", "text", "date", "choice", "phone"])
def test_blank_cells_are_blank_for_every_kind(raw, kind):
    assert parse_cell(raw, kind, choices=ROLES) == Parsed(None, None, blank=True)


@pytest.mark.parametrize("raw, expected", [
    (12, 12),
    (0, 0),
    (12.0, 12),
    ("12", 12),
    (" 12 ", 12),
    ("\u00a012\u00a0", 12),
    ("1.200", 1200),
    ("1 200", 1200),
    ("1\u00a0200", 1200),
    ("1.200.000", 1_200_000),
    ("12,0", 12),
    ("12.0", 12),
    ("007", 7),
    ("35 hộ", 35),
    ("35 ho", 35),
    ("3 cái", 3),
    ("1.200 tài khoản", 1200),
    ("4 cửa hàng", 4),
    ("15 đơn", 15),
    ("-0", 0),
    ("１２", 12),  # full-width, as phones and IMEs type them
    ("１.２００", 1200),
    ("１．２００．０００", 1_200_000),
    ("１\u3000２００", 1200),
    ("١٢", 12),  # any script's decimal digits
    ("𝟏𝟐", 12),
    ("１２ hộ", 12),
])
def test_int_accepts(raw, expected):
    parsed = parse_cell(raw, "int")
    assert parsed == Parsed(expected)
    assert type(parsed.value) is int


@pytest.mark.parametrize("raw, message", [
    ("12a", 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là "12a".'),
    ("mười", 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là "mười".'),
    ("1,200", 'Không rõ "1,200" là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.'),
    ("1.5", 'Không rõ "1.5" là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.'),
    ("12,5", 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là "12,5".'),
    (12.5, "Ô này cần một số nguyên (ví dụ 1200), nhưng đang là 12,5."),
    (-3, "Số không được âm, nhưng đang là -3; hãy gõ số từ 0 trở lên."),
    ("-3", 'Số không được âm, nhưng đang là "-3"; hãy gõ số từ 0 trở lên.'),
    (True, 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là "TRUE".'),
    ("=SUM(A1)", 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là công thức "=SUM(A1)"; '
                 "hãy gõ số thay cho công thức."),
    ("#DIV/0!", "Ô này đang báo lỗi #DIV/0!; hãy sửa công thức hoặc gõ lại số."),
    (date(2026, 11, 23), "Ô này cần một số nguyên (ví dụ 1200), nhưng đang là ngày 23/11/2026."),
    ("１，２００", 'Không rõ "１，２００" là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.'),
    ("１．５", 'Không rõ "１．５" là bao nhiêu; hãy chỉ gõ chữ số, ví dụ 1200.'),
    ("－３", 'Số không được âm, nhưng đang là "－３"; hãy gõ số từ 0 trở lên.'),
    ("＝SUM(A1)", 'Ô này cần một số nguyên (ví dụ 1200), nhưng đang là công thức "＝SUM(A1)"; '
                 "hãy gõ số thay cho công thức."),
])
def test_int_refuses_with_a_message(raw, message):
    assert parse_cell(raw, "int") == Parsed(None, message)


@pytest.mark.parametrize("raw", [
    "12 kg", "1.2000", "1200.", ".5", "1,200,000", "12%", "1 2", "+5", "12 hộ 5", "-",
])
def test_int_refuses_other_shapes(raw):
    parsed = parse_cell(raw, "int")
    assert parsed.value is None and parsed.error and not parsed.blank


@pytest.mark.parametrize("raw, expected", [
    ("1.200.000 đ", 1_200_000),
    ("1.200.000đ", 1_200_000),
    ("1.200.000 VNĐ", 1_200_000),
    ("1.200.000 vnd", 1_200_000),
    ("500.000 đồng", 500_000),
    ("500.000 ₫", 500_000),
    ("500.000 đ.", 500_000),
    ("1.200,5", 1200.5),
    ("2,5 kg", 2.5),
    ("2,5kg", 2.5),
    ("0,25", 0.25),
    ("1,200", 1.2),  # "," is the decimal mark in a number field
    ("1 200,75", 1200.75),
    ("12.0", 12),
    (2.5, 2.5),
    (12.0, 12),
    (1_500_000, 1_500_000),
    ("２，５", 2.5),
    ("１.２００.０００ đ", 1_200_000),
    ("１\u202f２００，７５", 1200.75),
    ("２,５ ｋｇ", 2.5),
])
def test_number_accepts(raw, expected):
    parsed = parse_cell(raw, "number")
    assert parsed == Parsed(expected)
    assert type(parsed.value) is type(expected)


@pytest.mark.parametrize("raw, fragment", [
    ("1.5", 'Không rõ "1.5" là bao nhiêu'),
    ("1,200.50", 'đang là "1,200.50"'),
    ("2 tấn", 'đang là "2 tấn"'),
    ("-2,5", "Số không được âm"),
    (-0.5, "Số không được âm"),
    ("=A1*2", "công thức"),
    ("abc", 'Ô này cần một số (ví dụ 1.200 hoặc 2,5), nhưng đang là "abc".'),
    (False, '"FALSE"'),
    ("１.５", 'Không rõ "１.５" là bao nhiêu; số thập phân dùng dấu phẩy'),
    ("－２，５", 'Số không được âm, nhưng đang là "－２，５"'),
])
def test_number_refuses_with_a_message(raw, fragment):
    parsed = parse_cell(raw, "number")
    assert parsed.value is None and fragment in parsed.error


@pytest.mark.parametrize("kind", ["int", "number", "phone"])
@pytest.mark.parametrize("raw", ["10²", "①", "½", "1⁄2", "١٫٥"])
def test_digits_that_are_not_decimal_digits_stay_refused(raw, kind):
    # NFKC would read "10²" as 102 and "①" as 1: not what anybody typed.
    parsed = parse_cell(raw, kind)
    assert parsed.value is None and parsed.error


@pytest.mark.parametrize("raw, kind, bounds, message", [
    (5, "int", {"maximum": 3}, "Số không được lớn hơn 3, nhưng đang là 5."),
    ("0", "int", {"minimum": 1}, "Số phải từ 1 trở lên, nhưng đang là 0."),
    ("1.500.000 đ", "number", {"maximum": 1_000_000},
     "Số không được lớn hơn 1.000.000, nhưng đang là 1.500.000."),
    ("0,5", "number", {"minimum": 1.5}, "Số phải từ 1,5 trở lên, nhưng đang là 0,5."),
    (3, "int", {"minimum": 3, "maximum": 3}, None),
])
def test_bounds(raw, kind, bounds, message):
    parsed = parse_cell(raw, kind, **bounds)
    assert parsed.error == message
    assert (parsed.value is None) == (message is not None)


@pytest.mark.parametrize("raw, expected", [
    ("  Nguyễn Văn A  ", "Nguyễn Văn A"),
    ("=SUM(A1)", "=SUM(A1)"),
    (12, "12"),
    (12.0, "12"),
    (12.5, "12.5"),
    (True, "TRUE"),
    (date(2026, 11, 23), "23/11/2026"),
    (datetime(2026, 11, 23), "23/11/2026"),
    (datetime(2026, 11, 23, 8, 30), "23/11/2026 08:30"),
    (time(8, 30), "08:30"),
    ("Nguye\u0302\u0303n", "Nguyễn"),  # decomposed input comes back composed (NFC)
    ("２３/１１/２０２６", "２３/１１/２０２６"),  # text keeps what was typed, not what it means
    ("10²", "10²"),
])
def test_text(raw, expected):
    assert parse_cell(raw, "text") == Parsed(expected)


@pytest.mark.parametrize("raw, expected", [
    (46349, date(2026, 11, 23)),
    (46349.75, date(2026, 11, 23)),
    ("23/11/2026", date(2026, 11, 23)),
    (" 3/1/2026 ", date(2026, 1, 3)),
    ("2026-11-23", date(2026, 11, 23)),
    (date(2026, 11, 23), date(2026, 11, 23)),
    (datetime(2026, 11, 23, 17, 5), date(2026, 11, 23)),
    ("23-11-2026", date(2026, 11, 23)),
    ("23.11.2026", date(2026, 11, 23)),
    ("2026/11/23", date(2026, 11, 23)),
    ("2026.11.23", date(2026, 11, 23)),
    ("2026-1-5", date(2026, 1, 5)),
    ("23/11/26", date(2026, 11, 23)),
    ("1/2/00", date(2000, 2, 1)),
    ("ngày 23 tháng 11 năm 2026", date(2026, 11, 23)),
    ("Ngày 23 tháng 11 năm 2026", date(2026, 11, 23)),
    ("23 tháng 11 năm 2026", date(2026, 11, 23)),
    ("23 tháng 11, 2026", date(2026, 11, 23)),
    ("23 thg 11, 2026", date(2026, 11, 23)),
    ("23 Thg 11 2026", date(2026, 11, 23)),
    ("Ngay 23 thang 11 nam 2026", date(2026, 11, 23)),
    ("NGÀY 23 THÁNG 11 NĂM 2026", date(2026, 11, 23)),
    ("23\u00a0tháng\u00a011\u00a0năm\u00a02026", date(2026, 11, 23)),
    ("Thứ Hai, 23/11/2026", date(2026, 11, 23)),
    ("thu hai, 23/11/2026", date(2026, 11, 23)),
    ("Thứ 2, 23/11/2026", date(2026, 11, 23)),
    ("T2 23/11/2026", date(2026, 11, 23)),
    ("Th 2, 23/11/2026", date(2026, 11, 23)),
    ("Chủ nhật, 22/11/2026", date(2026, 11, 22)),
    ("CN 22/11/2026", date(2026, 11, 22)),
    ("Thứ Hai, ngày 23 tháng 11 năm 2026", date(2026, 11, 23)),
    ("Thứ Hai, 23 thg 11, 2026", date(2026, 11, 23)),
    ("23/11/2026 08:30", date(2026, 11, 23)),
    ("23/11/2026 8:30:15", date(2026, 11, 23)),
    ("2026-11-23 08:30:00", date(2026, 11, 23)),
    ("T2 23/11/2026 23:59", date(2026, 11, 23)),
    ("11/23/2026", date(2026, 11, 23)),  # the day cannot be 11/23: an English-locale habit
    ("12/13/2026", date(2026, 12, 13)),
    ("２３/１１/２０２６", date(2026, 11, 23)),
    ("２３－１１－２０２６", date(2026, 11, 23)),
    ("Thứ Hai，２３／１１／２０２６\u3000０８：３０", date(2026, 11, 23)),
    ("٢٣/١١/٢٠٢٦", date(2026, 11, 23)),
])
def test_date_accepts(raw, expected):
    assert parse_cell(raw, "date") == Parsed(expected)


@pytest.mark.parametrize("raw, fragment", [
    ("hôm nay", 'đang là "hôm nay"'),
    ("31/02/2026", 'Ngày "31/02/2026" không có trong lịch'),
    ("23/11/0226", "nằm ngoài khoảng 1950–2100"),
    (5, "đang là 5"),  # a small number typed into a date cell, not 04/01/1900
    (True, '"TRUE"'),
    (time(8, 0), "giờ 08:00"),
    ("31-02-2026", 'Ngày "31-02-2026" không có trong lịch'),
    ("２９/０２/２０２６", 'Ngày "２９/０２/２０２６" không có trong lịch'),
    ("30 tháng 2 năm 2026", 'Ngày "30 tháng 2 năm 2026" không có trong lịch'),
    ("23 tháng 13 năm 2026", "không có trong lịch"),
    ("23-11-1949", "Ngày 23/11/1949 nằm ngoài khoảng 1950–2100"),
    ("1/1/2101 08:00", "Ngày 01/01/2101 nằm ngoài khoảng 1950–2100"),
    ("Thứ Ba, 23/11/2026", "Ngày 23/11/2026 là thứ Hai, không phải thứ Ba; hãy kiểm tra lại ngày."),
    ("CN 23/11/2026", "Ngày 23/11/2026 là thứ Hai, không phải Chủ nhật"),
])
def test_date_refuses(raw, fragment):
    parsed = parse_cell(raw, "date")
    assert parsed.value is None and fragment in parsed.error


@pytest.mark.parametrize("raw", [
    "23-11-26",  # two-digit years only after "/": "26-11-23" may as well be ISO
    "23.11.26", "23/11", "11/2026", "23112026", "2026-11-23-", "23/11/2026 25:00",
    "23/11/2026 lúc 8h", "Thứ Hai", "T8 23/11/2026", "ngày 23 tháng 11", "23 tháng 11 2026 năm",
])
def test_date_still_refuses_what_is_not_clearly_one_day(raw):
    assert parse_cell(raw, "date") == Parsed(
        None, f'Ô này cần một ngày dạng ngày/tháng/năm (ví dụ 23/11/2026), nhưng đang là "{raw}".')


@pytest.mark.parametrize("raw, expected", [
    ("11/2026", (2026, 11)),
    ("1/2026", (2026, 1)),
    ("01/2026", (2026, 1)),
    ("11-2026", (2026, 11)),
    ("11.2026", (2026, 11)),
    ("tháng 11/2026", (2026, 11)),
    ("Tháng 11 năm 2026", (2026, 11)),
    ("thang 11, 2026", (2026, 11)),
    ("T11/2026", (2026, 11)),
    ("t 11/2026", (2026, 11)),
    ("thg 11 2026", (2026, 11)),
    ("Thg 11, 2026", (2026, 11)),
    ("１１/２０２６", (2026, 11)),
    ("ｔháng １１／２０２６", (2026, 11)),
])
def test_read_month(raw, expected):
    assert read_month(raw) == expected


def test_read_month_refuses_what_is_not_a_month():
    cells = ["11 2026", "13/2026", "0/2026", "11/1949", "2026-11", "11/26", "tháng 11", "",
             None, 46349, date(2026, 11, 1), "23/11/2026"]
    assert [read_month(c) for c in cells] == [None] * len(cells)


def test_read_date_reads_what_a_date_field_reads():
    cells = ["23-11-2026", "２３/１１/２０２６", 46349, datetime(2026, 11, 23, 8), "31/02/2026",
             "Thứ Ba, 23/11/2026", "hôm nay", 5, None]
    assert [read_date(c) for c in cells] == [date(2026, 11, 23)] * 4 + [None] * 5


@pytest.mark.parametrize("raw, expected", [
    ("Tổ trưởng", "Tổ trưởng"),
    ("  tổ   TRƯỞNG ", "Tổ trưởng"),
    ("to truong", "Tổ trưởng"),
    ("TO PHO", "Tổ phó"),
    ("thanh vien", "Thành viên"),
])
def test_choice_accepts(raw, expected):
    assert parse_cell(raw, "choice", choices=ROLES) == Parsed(expected)


@pytest.mark.parametrize("raw, expected", [
    ("Tổ viên", "Thành viên"),
    ("to vien", "Thành viên"),
    ("Thành viên tổ", "Thành viên"),
    ("Tổ phó", "Tổ phó"),
])
def test_choice_accepts_the_template_s_other_words_and_stores_the_choice(raw, expected):
    aliases = (("Tổ viên", "Thành viên"), ("Thành viên tổ", "Thành viên"))
    assert parse_cell(raw, "choice", choices=ROLES, aliases=aliases) == Parsed(expected)


@pytest.mark.parametrize("raw, expected", [("Thôn １", "Thôn 1"), ("thon ２", "Thôn 2"),
                                           ("Ｔhôn\u00a0１", "Thôn 1")])
def test_choice_reads_full_width_digits(raw, expected):
    assert parse_cell(raw, "choice", choices=("Thôn 1", "Thôn 2")) == Parsed(expected)


def test_choice_refuses_listing_the_choices():
    assert parse_cell("Trưởng thôn", "choice", choices=ROLES) == Parsed(
        None, 'Hãy chọn một trong: Tổ trưởng, Tổ phó, Thành viên; ô này đang là "Trưởng thôn".')


def test_choice_prefers_exact_spelling_and_refuses_to_guess_between_lookalikes():
    villages = ("Bản Hồ", "Bản Hổ")
    assert parse_cell("bản hồ", "choice", choices=villages) == Parsed("Bản Hồ")
    parsed = parse_cell("Ban Ho", "choice", choices=villages)
    assert parsed.value is None and '"Bản Hồ" hay "Bản Hổ"' in parsed.error


def test_choice_lists_only_the_first_ten_choices():
    villages = tuple(f"Thôn {i}" for i in range(1, 26))
    error = parse_cell("x", "choice", choices=villages).error
    assert "Thôn 10" in error and "Thôn 11" not in error and "và 15 giá trị khác" in error


def test_choice_without_choices_asks_for_the_list():
    assert "báo cho Sở" in parse_cell("Thôn 1", "choice").error


@pytest.mark.parametrize("raw, expected", [
    ("0912345678", "0912345678"),
    ("0912 345 678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("0912-345-678", "0912345678"),
    ("+84 912 345 678", "0912345678"),
    ("+84912345678", "0912345678"),
    ("84912345678", "0912345678"),
    ("(+84) 0912 345 678", "0912345678"),
    (912345678, "0912345678"),
    (912345678.0, "0912345678"),
    (84912345678, "0912345678"),
    ("０９１２ ３４５ ６７８", "0912345678"),
    ("＋８４ ９１２ ３４５ ６７８", "0912345678"),
    ("0912\u2011345\u2011678", "0912345678"),  # non-breaking hyphens from a word processor
    ("（+84）０９１２．３４５．６７８", "0912345678"),
])
def test_phone_accepts(raw, expected):
    assert parse_cell(raw, "phone") == Parsed(expected)


@pytest.mark.parametrize("raw, shown", [
    ("12345", '"12345"'),
    ("09123456789", '"09123456789"'),
    ("0912 345 67a", '"0912 345 67a"'),
    (12345, "12345"),
    (-912345678, "-912345678"),
    (9123456.5, "9.123.456,5"),
    (True, '"TRUE"'),
])
def test_phone_refuses(raw, shown):
    assert parse_cell(raw, "phone") == Parsed(
        None, "Số điện thoại cần 10 chữ số bắt đầu bằng 0 (ví dụ 0912 345 678), "
              f"nhưng đang là {shown}.")


@pytest.mark.parametrize("kind", ["int", "number", "text", "date", "choice", "phone"])
@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_errors(raw, kind):
    parsed = parse_cell(raw, kind, choices=ROLES)
    assert parsed.value is None and parsed.error and not parsed.blank


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_cell("1", "integer")


@pytest.mark.parametrize("text, expected", [
    ("  Tổ  Trưởng ", "to truong"),
    ("ĐỒNG ĐĂNG", "dong dang"),
    ("Nguye\u0302\u0303n\u00a0Văn", "nguyen van"),
])
def test_strip_diacritics(text, expected):
    assert strip_diacritics(text) == expected


@pytest.mark.parametrize("x, expected", [
    (0, "0"), (999, "999"), (1200, "1.200"), (1_200_000, "1.200.000"), (2.5, "2,5"),
    (12.0, "12"), (1200.75, "1.200,75"), (-1234.5, "-1.234,5"),
    (1e20, "100.000.000.000.000.000.000"),
])
def test_format_vn_number(x, expected):
    assert format_vn_number(x) == expected


# --- properties ------------------------------------------------------------------------------

@given(st.integers(min_value=0))
def test_int_round_trips_with_thousands_dots(n):
    assert parse_cell(format_vn_number(n), "int") == Parsed(n)


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from([".", " ", "\u00a0"]))
def test_int_round_trips_with_any_thousands_separator(n, sep):
    assert parse_cell(f"{n:,}".replace(",", sep), "int") == Parsed(n)


@given(st.integers(min_value=0, max_value=10**12), st.from_regex(r"[0-9]{1,6}", fullmatch=True))
def test_number_with_decimal_comma_round_trips(whole, frac):
    text = f"{format_vn_number(whole)},{frac}"
    expected = float(f"{whole}.{frac}")
    parsed = parse_cell(text, "number")
    assert parsed.error is None and parsed.value == expected


def reference_vn_number(x) -> str:
    """Digits as Decimal writes them, grouped by hand: dots between thousands, a comma before
    the decimals, no trailing zeros."""
    from decimal import Decimal

    text = format(Decimal(repr(x)), "f")
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = digits.partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    groups = []
    while whole:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return sign + ".".join(groups) + (f",{frac}" if frac else "")


@given(st.integers(-10**30, 10**30) | st.floats(allow_nan=False, allow_infinity=False)
       | st.integers(-2**60, 2**60).map(float) | st.sampled_from([0.0, -0.0, 2.0**53, -2.0**53,
                                                                 2.0**53 - 1, 1e16, 1e22]))
def test_format_vn_number_is_the_decimal_digits_grouped(x):
    assert format_vn_number(x) == reference_vn_number(x)


def test_numpy_scalars_are_written_as_the_python_numbers_they_hold():
    import numpy as np

    assert [format_vn_number(v) for v in (np.int64(-1234567), np.float32(2.5),
                                          np.float64(1200.0), np.bool_(True))] == [
        "-1.234.567", "2,5", "1.200", "True"]


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_number_round_trips_through_format_vn_number(x):
    # Whole numbers come back as int (the exact digits written), so compare as floats.
    assert float(parse_cell(format_vn_number(x), "number").value) == x


# Look-alikes, written out here rather than taken from toolkit.parse so the tests check it.
# ASCII, full-width, Arabic-Indic, Devanagari and mathematical bold digits.
DIGIT_STYLES = (0x30, 0xFF10, 0x660, 0x966, 0x1D7CE)
LOOKALIKES = {".": ".．", ",": ",，", "-": "-－−\u2011", "/": "/／", ":": ":：",
              " ": " \u00a0\u202f\u2007\u3000"}


def restyled(text: str, digits: int, marks: str = "", space: str = " ") -> str:
    """``text`` with ASCII digits in another script, ``marks`` full-width and spaces ``space``."""
    out = "".join(chr(digits + int(c)) if c in "0123456789" else c for c in text)
    return "".join(chr(ord(c) + 0xFEE0) if c in marks else c for c in out).replace(" ", space)


@given(st.data(), st.from_regex(r"-?[0-9]{1,7}([., ][0-9]{1,4}){0,3}( ?(kg|đ|hộ))?",
                                fullmatch=True), st.sampled_from(["int", "number"]))
def test_lookalike_digits_and_separators_read_as_their_ascii(data, ascii_text, kind):
    typed = "".join(
        data.draw(st.sampled_from([chr(style + int(c)) for style in DIGIT_STYLES]))
        if c.isdigit() else data.draw(st.sampled_from(LOOKALIKES.get(c, c)))
        for c in ascii_text)
    meant, read = parse_cell(ascii_text, kind), parse_cell(typed, kind)
    assert (read.value, read.error is None) == (meant.value, meant.error is None)


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(DIGIT_STYLES),
       st.sampled_from([".", "．", " ", "\u00a0", "\u202f", "\u2007"]))
def test_int_round_trips_in_any_digits(n, digits, sep):
    assert parse_cell(restyled(f"{n:,}".replace(",", sep), digits), "int") == Parsed(n)


@given(st.integers(min_value=0, max_value=10**9), st.from_regex(r"[0-9]{1,4}", fullmatch=True),
       st.sampled_from(DIGIT_STYLES))
def test_number_with_full_width_decimal_comma_round_trips(whole, frac, digits):
    text = restyled(f"{whole:,}".replace(",", ".") + "," + frac, digits, marks=".,")
    assert parse_cell(text, "number") == Parsed(float(f"{whole}.{frac}"))


WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
SHORT_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
DATE_FORMS = {
    "dd/mm/yyyy": lambda d: d.strftime("%d/%m/%Y"),
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "dd-mm-yyyy": lambda d: d.strftime("%d-%m-%Y"),
    "dd.mm.yyyy": lambda d: d.strftime("%d.%m.%Y"),
    "yyyy-mm-dd": lambda d: d.strftime("%Y-%m-%d"),
    "yyyy/mm/dd": lambda d: d.strftime("%Y/%m/%d"),
    "yyyy.mm.dd": lambda d: d.strftime("%Y.%m.%d"),
    "ngày … tháng … năm": lambda d: f"ngày {d.day} tháng {d.month} năm {d.year}",
    "… tháng … năm": lambda d: f"{d.day} tháng {d.month} năm {d.year}",
    "… tháng …, yyyy": lambda d: f"{d.day} tháng {d.month}, {d.year}",
    "… thg …, yyyy": lambda d: f"{d.day} thg {d.month}, {d.year}",
    "… Thg … yyyy": lambda d: f"{d.day:02} Thg {d.month} {d.year}",
    "no accents": lambda d: f"Ngay {d.day} thang {d.month} nam {d.year}",
    "capitals": lambda d: f"NGÀY {d.day} THÁNG {d.month:02} NĂM {d.year}",
}
WEEKDAY_FORMS = (lambda d: "", lambda d: f"{WEEKDAYS[d.weekday()]}, ",
                 lambda d: f"{SHORT_WEEKDAYS[d.weekday()]} ")


@given(st.dates(date(1950, 1, 1), date(2100, 12, 31)), st.sampled_from(sorted(DATE_FORMS)),
       st.sampled_from(WEEKDAY_FORMS), st.one_of(st.none(), st.times()),
       st.sampled_from(DIGIT_STYLES[:3]), st.sampled_from(["", "/-.,:"]),
       st.sampled_from(LOOKALIKES[" "]))
def test_date_round_trips_in_every_accepted_form(day, form, weekday, clock, digits, marks, space):
    text = weekday(day) + DATE_FORMS[form](day)
    if clock is not None:
        text += f" {clock.hour}:{clock:%M}" + (f":{clock:%S}" if clock.second else "")
    assert parse_cell(restyled(text, digits, marks, space), "date") == Parsed(day)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_two_digit_years_are_this_century(day):
    assert parse_cell(day.strftime("%d/%m/%y"), "date") == Parsed(day)


@given(st.dates(date(1950, 1, 1), date(2100, 12, 31)))
def test_month_first_only_when_the_day_cannot_be_a_month(day):
    parsed = parse_cell(f"{day.month}/{day.day}/{day.year}", "date")
    if day.day > 12:
        assert parsed == Parsed(day)
    elif day.day != day.month:
        assert parsed.value != day


cells = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=True), st.booleans(),
                  st.dates(), st.datetimes(), st.times())


@given(cells, st.sampled_from(["int", "number", "text", "date", "choice", "phone"]))
def test_parse_cell_never_raises_and_never_drops_silently(raw, kind):
    parsed = parse_cell(raw, kind, choices=ROLES, minimum=0, maximum=10**9)
    assert isinstance(parsed, Parsed)
    # Exactly one of: a value, an error, or a genuinely blank cell.
    assert (parsed.value is not None) + (parsed.error is not None) + parsed.blank == 1
    if isinstance(raw, float) and not math.isfinite(raw):
        assert parsed.error
