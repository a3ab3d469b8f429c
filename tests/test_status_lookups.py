"""status's plain-Python lookups answer as the pandas calls they replace, on generated keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.status import key_positions

CODES = st.text(alphabet="0123456789ađ-", max_size=5)


@given(among=st.lists(CODES, unique=True), keys=st.lists(CODES))
def test_key_positions_are_get_indexers(among, keys):
    expected = pd.Index(among, dtype=object).get_indexer(np.array(keys, dtype=object))
    found = key_positions(np.array(keys, dtype=object), among)
    assert found.dtype == expected.dtype
    assert found.tolist() == expected.tolist()


INSTANTS = st.integers(min_value=1_700_000_000_000_000_000, max_value=1_900_000_000_000_000_000)


@given(stamps=st.lists(st.one_of(st.none(), INSTANTS), max_size=8),
       unit=st.sampled_from(["s", "ms", "us", "ns"]),
       zone=st.sampled_from(["UTC", "Asia/Ho_Chi_Minh"]),
       moment=INSTANTS, as_python=st.booleans())
def test_at_or_before_is_pandas_comparison(stamps, unit, zone, moment, as_python):
    """On the column's integers, with NaT and a moment finer than the column's unit."""
    from toolkit.status import at_or_before

    nanoseconds = pd.to_datetime(pd.array(stamps, dtype="Int64"), unit="ns", utc=True)
    column = pd.Series(nanoseconds.floor(unit).as_unit(unit).tz_convert(zone))
    at = pd.Timestamp(moment, tz="UTC").tz_convert("Asia/Ho_Chi_Minh")
    if as_python:
        at = at.to_pydatetime(warn=False)
    assert at_or_before(column, at).tolist() == (column <= at).to_numpy().tolist()


def test_at_or_before_a_moment_past_nanoseconds_reach():
    """A moment beyond 2262 (out of an int64 of nanoseconds) compares as pandas compares it."""
    from datetime import datetime

    from toolkit.periods import VN_TZ
    from toolkit.status import at_or_before

    column = pd.Series(pd.DatetimeIndex(["2026-11-20 09:00", None], tz=VN_TZ).as_unit("us"))
    for at in (datetime(3000, 1, 1, tzinfo=VN_TZ), datetime(1900, 1, 1, tzinfo=VN_TZ)):
        assert at_or_before(column, at).tolist() == (column <= at).to_numpy().tolist()


def _instant_through_timestamp(moment, unit):
    """``status._instant`` as it was: through a UTC Timestamp and numpy's datetime64."""
    return int(np.datetime64(pd.Timestamp(moment).tz_convert("UTC").tz_localize(None))
               .astype(unit).view("int64"))


@given(moment=st.integers(min_value=-2_000_000_000_000_000_000,
                          max_value=7_000_000_000_000_000_000),
       unit=st.sampled_from(["s", "ms", "us", "ns"]),
       zone=st.sampled_from(["UTC", "Asia/Ho_Chi_Minh", "America/New_York"]),
       kind=st.sampled_from(["datetime", "Timestamp", "Timestamp + Timedelta"]))
def test_instant_is_the_timestamps(moment, unit, zone, kind):
    """Before 1970 too, and a Timestamp's nanoseconds dropped as numpy drops them."""
    from toolkit.status import _instant

    at = pd.Timestamp(moment, tz="UTC").tz_convert(zone)
    if kind == "datetime":
        at = at.to_pydatetime(warn=False)
    elif kind == "Timestamp + Timedelta":
        at = at.to_pydatetime(warn=False) + pd.Timedelta(0)
    dtype = np.dtype(f"M8[{unit}]")
    assert _instant(at, dtype) == _instant_through_timestamp(at, dtype)


def test_instant_refuses_a_naive_moment():
    from datetime import datetime

    from toolkit.status import _instant

    with pytest.raises(TypeError):
        _instant(datetime(2026, 11, 20, 17), np.dtype("M8[us]"))
