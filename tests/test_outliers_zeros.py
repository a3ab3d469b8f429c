"""Which figures are 0 for the zero-streak check (outliers._zero): numpy's comparison for
numbers gives what pandas' ``fillna(-1) == 0`` gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.checks.outliers import _zero

values = st.lists(st.sampled_from([0, 1, -1, 7, 0.0, -0.0, 0.5, float("nan"), 1e-300]),
                  max_size=12)


@settings(max_examples=300, deadline=None)
@given(values, st.sampled_from(["int64", "uint8", "float64", "float32", "object"]))
def test_zeros_are_found_as_pandas_finds_them(numbers, dtype):
    if dtype in ("int64", "uint8"):
        numbers = [abs(int(x)) for x in numbers if x == x]
    series = pd.Series(np.array(numbers, dtype=dtype))
    expected = (series.fillna(-1) == 0).to_numpy()
    found = _zero(series)
    assert found.dtype == expected.dtype == bool
    assert found.tolist() == expected.tolist()
