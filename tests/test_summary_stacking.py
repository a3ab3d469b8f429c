"""dashboard._stacked stacks the totals above the communes as ``pd.concat`` of the two
frames would, value and dtype, for every kind of column pair the Tổng hợp tab can meet and
others it falls back on pandas for. The reference is pd.concat itself, on generated
columns."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.dashboard import _as_given, _stacked, _values

NUMBER = st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), st.none())
TEXT = st.one_of(st.sampled_from(["Xã Kiên Mộc", "Huyện Đình Lập", ""]), st.none())
KINDS = {
    "int": st.integers(-5, 5),
    "float": st.one_of(st.floats(-5, 5, allow_nan=False), st.none()),
    "bool": st.booleans(),
    "text": TEXT,
    "mixed": st.one_of(NUMBER, TEXT),
}


def side(kind: str | None, rows: int):
    """A column of ``kind`` (None: the side lacks the column) and how pandas types it."""
    if kind is None:
        return st.just(None)
    return st.lists(KINDS[kind], min_size=rows, max_size=rows).map(
        lambda values: pd.Series(values, dtype=object if kind == "mixed" else None))


@st.composite
def pairs(draw):
    totals, communes = draw(st.integers(1, 3)), draw(st.integers(0, 5))
    kinds = st.sampled_from([None, *KINDS])
    top, lower = draw(side(draw(kinds), totals)), draw(side(draw(kinds), communes))
    if top is None and lower is None:
        top = draw(side("int", totals))
    return totals, communes, top, lower


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_stacked_is_what_pd_concat_makes(pair):
    totals, communes, top, lower = pair
    frames = [pd.DataFrame(index=range(rows)) if column is None else column.to_frame("x")
              for column, rows in ((top, totals), (lower, communes))]
    want = pd.concat(frames, ignore_index=True)["x"]
    got = pd.DataFrame({"x": _as_given(_stacked(
        "x", None if top is None else _values(top), None if lower is None else _values(lower),
        totals, communes))})["x"]
    assert got.dtype == want.dtype
    assert [repr(v) for v in got.tolist()] == [repr(v) for v in want.tolist()]
