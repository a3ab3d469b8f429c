"""Outliers and zero streaks on seeded series, through the real validate pipeline."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.checks.outliers import (
    MIN_HISTORY,
    RECENT_PERIODS,
    _bounds,
    _History,
    _middle,
    outlier_issues,
)
from toolkit.config import PACKAGED_TEMPLATES
from toolkit.templates import load_template

SPEC = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
NAMES = {f"{n:05d}": f"Xã {n}" for n in range(12)}


def series(values_by_commune: dict[str, list[int]]) -> pd.DataFrame:
    """Rows as frames.latest_rows returns them: one per commune and day."""
    records = []
    for code, values in values_by_commune.items():
        for day, value in enumerate(values):
            records.append({"commune_code": code, "period": f"2026-11-{day + 1:02d}",
                            "sheet_row": 3 + day, "new_shops": value, "new_accounts": value,
                            "new_trading_households": None, "orders": None, "volume_kg": None,
                            "revenue": None})
    return pd.DataFrame.from_records(records)


def test_a_spike_against_the_communes_own_history_is_a_warning_with_the_range():
    rng = random.Random(7)
    history = {code: [rng.randint(3, 9) for _ in range(10)] for code in NAMES}
    history["00003"][-1] = 240
    issues = outlier_issues(SPEC, series(history), NAMES, "2026-11-10")
    spikes = [i for i in issues if i["commune_code"] == "00003" and i["period"] == "2026-11-10"]
    assert {i["check"] for i in spikes} == {"outlier:new_shops", "outlier:new_accounts"}
    shops = next(i for i in spikes if i["check"] == "outlier:new_shops")
    assert shops["cell"] == "B12" and shops["level"] == "warning" and shops["value"] == "240"
    assert "so với các kỳ trước của xã" in shops["message"]
    assert "thường trong khoảng" in shops["message"]
    assert all(i["commune_code"] == "00003" for i in issues)


def test_a_new_commune_is_compared_with_its_peers_that_day():
    rng = random.Random(3)
    values = {code: [rng.randint(3, 9)] for code in NAMES}
    values["00005"] = [400]
    issues = outlier_issues(SPEC, series(values), NAMES, "2026-11-01")
    assert {i["commune_code"] for i in issues} == {"00005"}
    assert "so với các xã khác cùng kỳ" in issues[0]["message"]


def test_steady_series_raise_nothing():
    values = {code: [5, 6, 5, 7, 6, 5, 6, 7, 5, 6] for code in NAMES}
    assert outlier_issues(SPEC, series(values), NAMES, "2026-11-10") == []


def test_seven_zero_days_in_a_row_are_questioned():
    values = {"00001": [4, 2, 0, 0, 0, 0, 0, 0, 0], "00002": [0, 0, 0, 5, 0, 0, 0, 0, 0]}
    issues = outlier_issues(SPEC, series(values), NAMES, "2026-11-09")
    streaks = [i for i in issues if i["check"] == "zero_streak"]
    assert [(i["commune_code"], i["period"]) for i in streaks] == [("00001", "2026-11-09")]
    assert "7 kỳ liên tiếp" in streaks[0]["message"]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 12), st.integers(1, 5), st.randoms(use_true_random=False))
def test_recent_periods_are_judged_as_against_their_whole_history_sorted(days, rows, rng):
    """_History reads each recent period's median from a few values around the middle of
    the history sorted once; the ranges and verdicts are those of sorting it all again."""
    grid = np.array([[rng.choice([np.nan, 0.0, 1.0, 2.5, 7.0, 40.0, rng.uniform(0, 9)])
                      for _ in range(days + RECENT_PERIODS)] for _ in range(rows)])
    start = max(0, grid.shape[1] - RECENT_PERIODS)
    history = _History(grid, start)
    everyone = np.arange(rows)
    for upto in range(start, grid.shape[1]):
        judged = grid[:, upto]
        judged = np.where(np.isnan(judged), 30.0, judged)
        median, count = history.middle(everyone, upto)
        before = grid[:, :upto]
        assert count.tolist() == (~np.isnan(before)).sum(axis=1).tolist()
        sorted_median = _middle(np.sort(before, axis=1), count) if upto else np.full(rows, np.nan)
        assert np.array_equal(median, sorted_median, equal_nan=True)
        fast, plain = history.bounds(everyone, upto, judged), _bounds(before)
        assert fast["count"].tolist() == plain["count"].tolist()
        flagged = (plain["count"] >= MIN_HISTORY) & (judged > plain["high"])
        assert ((fast["count"] >= MIN_HISTORY) & (judged > fast["high"])).tolist() == \
            flagged.tolist()
        for key in ("low", "high"):
            assert fast[key][flagged].tolist() == plain[key][flagged].tolist()
