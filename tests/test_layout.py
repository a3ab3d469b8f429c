"""A1 cell names: what issues print and what the Google notes are placed by."""

from hypothesis import given
from hypothesis import strategies as st

from toolkit.layout import a1, parse_a1


@given(st.integers(1, 1_048_576), st.integers(1, 18_278))
def test_parse_a1_inverts_a1(row, column):
    assert parse_a1(a1(row, column)) == (row, column)


def test_parse_a1_refuses_what_is_not_one_cell():
    assert [parse_a1(t) for t in ("", "B", "12", "b3", "B3:C4", "'Tab'!B3", "AAAA1")] == \
        [None] * 7
    assert parse_a1("AA10") == (10, 27)
