"""A rule's verdict on sides of numbers (validate._broken, numpy) is the verdict of the
pandas steps it stands for (validate._broken_by_pandas), for every operator and strategy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.templates import MISSING_STRATEGIES
from toolkit.validate import _OPS, _broken, _broken_by_pandas

number = st.one_of(st.integers(-10**6, 10**6), st.sampled_from(
    [0.0, -0.0, 0.5, 1e15, 2.0**53 + 1, float("inf"), -float("inf"), float("nan")]))
dtype = st.sampled_from(["int64", "float64", "float32", "uint8"])


@st.composite
def sides(draw):
    count = draw(st.integers(0, 12))
    pair = []
    for _ in range(2):
        kind = draw(dtype)
        if kind in ("int64", "uint8"):
            values = draw(st.lists(st.integers(0, 255) if kind == "uint8"
                                   else st.integers(-2**62, 2**62), min_size=count,
                                   max_size=count))
        else:
            values = draw(st.lists(number, min_size=count, max_size=count))
        pair.append(pd.Series(np.array(values, dtype=kind)))
    return pair


@settings(max_examples=400, deadline=None)
@given(sides(), st.sampled_from(sorted(_OPS)), st.sampled_from(MISSING_STRATEGIES))
def test_numbers_are_judged_as_pandas_judges_them(pair, op, missing):
    rule = SimpleNamespace(op=op, missing=missing)
    left, right = pair
    expected = _broken_by_pandas(rule, left, right)
    found = _broken(rule, left, right)
    assert found.dtype == expected.dtype == bool
    assert found.tolist() == expected.tolist()

