"""The rollup's numpy readings of commune columns, and its short cuts, against the pandas
steps they stand for, on generated frames: the same values, of the same types and dtypes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.frames import positions, sums_by
from toolkit.periods import Status
from toolkit.rollup import Rollup, _figures_at, _known
from toolkit.status import key_positions
from toolkit.trends import _per_key, _sums_per_key

CODES = [f"0600{n}" for n in range(8)]

numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=False,
                                                          width=64))
objects = st.one_of(numbers, st.none(), st.sampled_from(["", "x", "Nguyễn Văn A"]))


@st.composite
def figure_frames(draw) -> pd.DataFrame:
    """A figures table as ``_aggregate`` gives one: by commune code, or empty as it is for a
    report with no rows yet."""
    keys = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, max_size=4))
    if draw(st.booleans()) and not draw(st.booleans()):
        return pd.DataFrame(columns=keys)
    index = draw(st.lists(st.sampled_from(CODES), unique=True))
    columns = {}
    for key in keys:
        kind = draw(st.sampled_from(["int64", "float64", "object", "float32", "Int64"]))
        if kind in ("int64", "Int64"):
            values = draw(st.lists(st.integers(-10**9, 10**9), min_size=len(index),
                                   max_size=len(index)))
        elif kind in ("float64", "float32"):
            values = draw(st.lists(st.one_of(st.just(math.nan), st.floats(-1e9, 1e9)),
                                   min_size=len(index), max_size=len(index)))
        else:
            values = draw(st.lists(objects, min_size=len(index), max_size=len(index)))
        columns[key] = pd.Series(values, dtype=kind, index=pd.Index(index, dtype="str"))
    return pd.DataFrame(columns, index=pd.Index(index, dtype="str"), columns=keys)


def _cells(frame: pd.DataFrame) -> dict:
    return {key: [(type(v), repr(v)) for v in values.tolist()] for key, values in frame.items()}


@settings(max_examples=300, deadline=None)
@given(figure_frames(), st.lists(st.sampled_from(CODES), unique=True))
def test_figures_at_is_reindex_fillna(figures, codes):
    codes = pd.Index(codes, dtype="str")
    want = pd.DataFrame({key: values.array
                         for key, values in figures.reindex(codes).fillna(0).items()})
    got = pd.DataFrame(_figures_at(figures, codes))
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert _cells(got) == _cells(want)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(math.nan), st.integers(-5, 10**6),
                          st.floats(-10.0, 1e6)), max_size=6),
       st.sampled_from(["float64", "int64", "Int64", "object", "float32"]))
def test_known_is_fillna_above_zero(households, dtype):
    if dtype in ("int64",):
        households = [0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                      for v in households]
    elif dtype == "Int64":
        households = [None if v is None or (isinstance(v, float) and math.isnan(v))
                      else int(v) for v in households]
    column = pd.Series(households, dtype=dtype)
    want = (column.fillna(0) > 0).to_numpy()
    got = _known(column)
    assert got.dtype == np.bool_
    assert got.tolist() == want.tolist()


PERIODS = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]


@st.composite
def period_rows(draw) -> tuple[pd.DataFrame, np.ndarray]:
    """Ledger rows by period with a figure of each kind, and which of them are kept."""
    size = draw(st.integers(0, 6))
    column = st.lists(st.integers(-1000, 1000), min_size=size, max_size=size)
    rows = pd.DataFrame({
        "period": pd.Series(draw(st.lists(st.sampled_from(PERIODS), min_size=size,
                                          max_size=size)), dtype="str"),
        "whole": pd.Series(draw(column), dtype="int64"),
        "part": pd.Series(draw(st.lists(st.one_of(st.just(math.nan), st.floats(-1e3, 1e3)),
                                        min_size=size, max_size=size)), dtype="float64"),
        "text": pd.Series(draw(st.lists(st.one_of(st.none(), st.integers(0, 9)),
                                        min_size=size, max_size=size)), dtype=object),
    })
    kept = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
    return rows, kept


@settings(max_examples=200, deadline=None)
@given(period_rows(), st.lists(st.sampled_from(PERIODS), min_size=1, unique=True).map(sorted),
       st.sampled_from([None, 6]), st.sampled_from([["whole", "part"], ["text"], []]))
def test_sums_per_key_is_sums_by_at_the_keys(drawn, keys, decimals, columns):
    rows, kept = drawn
    periods, period_of = positions(rows, "period")
    sums = sums_by(rows, columns, "period", periods, period_of, kept)
    at = key_positions(keys, sums.index)
    want = {column: _per_key(sums[column].to_numpy(), at, decimals) for column in sums}
    got = _sums_per_key(rows, columns, periods, period_of, kept, keys, decimals)
    assert list(got) == list(want)
    for column in want:
        assert got[column].dtype == want[column].dtype
        assert [repr(v) for v in got[column].tolist()] == [repr(v) for v in want[column].tolist()]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([s.value for s in Status]), st.none(),
                          st.just("khác")), max_size=8),
       st.sampled_from(["str", "object"]))
def test_non_reporters_are_status_isin(statuses, dtype):
    communes = pd.DataFrame({"code": [f"c{n}" for n in range(len(statuses))],
                             "status": pd.Series(statuses, dtype=dtype)})
    waiting = [s.value for s in Status if s.chased]
    got = Rollup.non_reporters.fget(SimpleNamespace(communes=communes))
    pd.testing.assert_frame_equal(got, communes[communes["status"].isin(waiting)])


@st.composite
def mixed_rows(draw) -> tuple[pd.DataFrame, list[str], list[str], np.ndarray | None]:
    """Rows keyed by period with figures of every kind the ledger's frames hold (whole numbers
    as int64 and as float64, fractions, NaN, and object columns where a field holds text),
    some of them counted, and which rows are kept (None: all)."""
    size = draw(st.integers(0, 8))

    def column(values, dtype):
        return pd.Series(draw(st.lists(values, min_size=size, max_size=size)), dtype=dtype)

    whole = st.integers(-10**6, 10**6)
    kinds = {
        "int": lambda: column(whole, "int64"),
        "whole": lambda: column(st.one_of(st.just(math.nan), whole.map(float)), "float64"),
        "part": lambda: column(st.one_of(st.just(math.nan), st.floats(-1e6, 1e6)), "float64"),
        "huge": lambda: column(st.sampled_from([2.0 ** 53, -(2.0 ** 53), 1.0]), "float64"),
        "huge_int": lambda: column(st.sampled_from([2 ** 53 + 1, -(2 ** 62), 3]), "int64"),
        "text": lambda: column(st.one_of(st.none(), st.integers(0, 9)), object),
    }
    names = draw(st.lists(st.sampled_from(sorted(kinds)), max_size=4))
    rows = pd.DataFrame({"period": column(st.sampled_from(PERIODS), "str"),
                         **{f"{name}{i}": kinds[name]() for i, name in enumerate(names)}})
    columns = list(rows.columns[1:])
    counted = [c for c in columns if draw(st.booleans()) and not draw(st.booleans())]
    kept = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=size, max_size=size)
                          .map(lambda k: np.array(k, dtype=bool))))
    return rows, columns, counted, kept


@settings(max_examples=300, deadline=None)
@given(mixed_rows())
def test_sums_by_is_pandas_groupby(drawn):
    """Each column as pandas' groupby adds it (count for the counted ones), to the last bit
    and of the same dtype, whatever mix of whole numbers and fractions sits beside it."""
    rows, columns, counted, kept = drawn
    periods, period_of = positions(rows, "period")
    got = sums_by(rows, columns, "period", periods, period_of, kept, counted=counted)
    chosen = rows if kept is None else rows[kept]
    grouped = chosen.groupby("period")
    want = pd.DataFrame({c: grouped[c].count() if c in counted else grouped[c].sum()
                         for c in columns}, columns=columns)
    if not columns:
        assert list(got.columns) == []
        return
    want.index = want.index.astype(got.index.dtype)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert _cells(got) == _cells(want)
