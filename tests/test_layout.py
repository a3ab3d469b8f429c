"""A1 cell names (what issues print, what the Google notes are placed by) and period keys."""

from datetime import date, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from toolkit.layout import a1, parse_a1, period_key_of


@given(st.integers(1, 1_048_576), st.integers(1, 18_278))
def test_parse_a1_inverts_a1(row, column):
    assert parse_a1(a1(row, column)) == (row, column)


def test_parse_a1_refuses_what_is_not_one_cell():
    assert [parse_a1(t) for t in ("", "B", "12", "b3", "B3:C4", "'Tab'!B3", "AAAA1")] == \
        [None] * 7
    assert parse_a1("AA10") == (10, 27)


# --- the period column ------------------------------------------------------------------------

EPOCH = date(1899, 12, 30)  # day 0 of Excel's and Google Sheets' serial dates
FULL_WIDTH = str.maketrans("0123456789/-.", "０１２３４５６７８９／－．")


def daily_cells(day: date) -> list:
    """A daily row's first cell as each backend may return it: what the toolkit wrote, or a
    person's retyping of it."""
    serial = (day - EPOCH).days
    typed = [f"{day:%d/%m/%Y}", f"{day.day}/{day.month}/{day.year}", f"{day:%d-%m-%Y}",
             f"{day:%d.%m.%Y}", f"{day:%Y-%m-%d}", f"{day.day} tháng {day.month} năm {day.year}",
             f"{day.day} thg {day.month}, {day.year}"]
    return [datetime.combine(day, time()), day,  # openpyxl
            serial, float(serial), serial + 0.75,  # Google's UNFORMATTED_VALUE
            *typed, *(t.translate(FULL_WIDTH) for t in typed)]


@given(st.dates(date(1950, 1, 1), date(2100, 12, 31)))
def test_period_key_of_reads_a_day_however_the_cell_holds_it(day):
    cells = daily_cells(day)
    assert [period_key_of(c) for c in cells] == [day.isoformat()] * len(cells)


@given(st.integers(1950, 2100), st.integers(1, 12))
def test_period_key_of_reads_a_month_however_it_is_typed(year, month):
    cells = [f"{month:02}/{year}", f"{month}/{year}", f"{month}-{year}", f"tháng {month}/{year}",
             f"T{month}/{year}", f"thg {month} {year}", f"Tháng {month} năm {year}"]
    cells += [c.translate(FULL_WIDTH) for c in cells]
    assert [period_key_of(c) for c in cells] == [f"{year}-{month:02}"] * len(cells)


def test_period_key_of_is_none_for_what_is_not_a_period():
    cells = [None, "", "  ", True, "Ngày", "Tổng", "x", 1200, 5, 1.5, -3, float("nan"),
             "11 2026", "13/2026", "31/02/2026", "Thứ Ba, 23/11/2026", "23/11", time(8, 30)]
    assert [period_key_of(c) for c in cells] == [None] * len(cells)
