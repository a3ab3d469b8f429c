"""latest_rows of versions without rows (made once per shape, then copied) is the frame the
rows' own path makes for that shape, whatever was asked before it."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.frames import _latest, latest_rows
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=VN_TZ)
names = st.lists(st.sampled_from(["shops", "kg", "note", "reporter", "orders"]), unique=True,
                 max_size=4)


def assert_same(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert found.index.equals(expected.index) and type(found.index) is type(expected.index)
    for column in expected:
        assert repr(found[column].dtype) == repr(expected[column].dtype)
        if isinstance(expected[column].dtype, pd.CategoricalDtype):
            assert found[column].cat.categories.tolist() == \
                expected[column].cat.categories.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(names, st.data()), min_size=1, max_size=4))
def test_an_empty_report_has_the_frame_of_its_shape(asked):
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "ledger.sqlite") as ledger:
        for fields, data in asked:
            numeric = data.draw(st.lists(st.sampled_from(fields), unique=True)) if fields \
                else []
            spec = SimpleNamespace(fields=[SimpleNamespace(key=k, numeric=k in numeric)
                                           for k in fields])
            shaped = data.draw(st.sampled_from(["read", "values", "reordered"]))
            if shaped == "values":        # read without fields: the payloads' dicts
                versions = ledger.versions("kts_daily")
            else:
                versions = ledger.versions("kts_daily", fields=fields, numeric=numeric)
            if shaped == "reordered":     # categories of a filtered frame, in another order
                versions["code:period"] = pd.Categorical(
                    [], categories=data.draw(st.permutations(["2026-11-21", "2026-11-20"])))
            first = latest_rows(versions, spec, NOW)
            expected = _latest(versions, spec, np.flatnonzero(np.zeros(0, bool)))
            assert_same(first, expected)
            first["mine"] = []                 # a caller's changes stay in its own copy
            first.index.name = "mine"
            first.columns.name = "mine"
            assert_same(latest_rows(versions, spec, NOW), expected)
