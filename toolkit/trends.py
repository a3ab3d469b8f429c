"""Rates over windows, the daily series and progress towards targets, for the rollup.

Reporting and on-time rates follow DHIS2's definitions: expected = communes × periods,
actual = periods reported, on time = reported by the deadline. Projections use the last seven
days' pace, the way a province officer would reason about "when will this commune reach 50%".
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from toolkit.frames import positions, sums_by
from toolkit.goals import needed
from toolkit.layout import period_keys
from toolkit.status import (
    PROVINCE,
    UNKNOWN_DISTRICT,
    StatusGrid,
    key_positions,
    status_flags,
    status_grid,
)
from toolkit.templates import ReportSpec

WINDOWS = {"day": "Trong ngày", "week": "7 ngày qua", "campaign": "Từ đầu đợt"}
PACE_DAYS = 7
PROGRESS_COLUMNS = ("code", "commune", "district", "target", "level", "households", "done",
                    "goal", "share", "completion", "gap", "pace", "projected", "outlook", "late")


def window_periods(spec: ReportSpec, period: str, campaign: tuple[date, date]) -> dict:
    """The periods of each window ending at ``period``: the day, the last 7, the campaign."""
    keys = [k for k in period_keys(spec, *campaign) if k <= period] or [period]
    return {"day": [period], "week": keys[-7:], "campaign": keys}


def campaign_status(spec: ReportSpec, registry, versions: pd.DataFrame, period: str, *,
                    as_of: datetime, grace: timedelta, campaign: tuple[date, date]) -> StatusGrid:
    """Status of every commune for every campaign period up to ``period``.

    ``rates`` and ``daily_series`` both read it; it is the costly part, so it is built once.
    """
    keys = window_periods(spec, period, campaign)["campaign"]
    return status_grid(spec, registry, versions, keys, as_of=as_of, grace=grace,
                       campaign=campaign)


def rates(spec: ReportSpec, registry, grid: StatusGrid, period: str,
          campaign: tuple[date, date]) -> pd.DataFrame:
    """One row per area and window: expected, reported, on time and their rates.

    ``grid`` is ``campaign_status`` for the same period.
    """
    windows = window_periods(spec, period, campaign)
    areas = sorted({c.district or UNKNOWN_DISTRICT for c in registry.communes}) \
        if registry.has_districts else []
    # Each commune's area as a number, on plain Python and numpy: a province has a few.
    numbers: dict[str, int] = {}
    area_of = np.array([numbers.setdefault(c.district or UNKNOWN_DISTRICT, len(numbers))
                        for c in registry.communes], dtype=np.intp)
    area_names = list(numbers)
    area_at = [numbers.get(area, -1) for area in areas]
    flags = _status_flags(grid)
    records = []
    for window, keys in windows.items():
        in_window = _among(grid.periods, keys)
        counts = {area: [0, 0, 0] for area in areas + [PROVINCE]}
        for column, flag in enumerate(flags.values()):
            per_commune = flag[:, in_window].sum(axis=1)
            by_area = np.bincount(area_of, weights=per_commune, minlength=len(area_names))
            for area, at in zip(areas, area_at, strict=True):
                counts[area][column] = int(by_area[at]) if at >= 0 else 0
            counts[PROVINCE][column] = int(per_commune.sum())
        for area in areas + [PROVINCE]:
            expected, reported, timely = counts[area]
            records.append({
                "area": area, "window": window, "window_label": WINDOWS[window],
                "periods": len(keys), "expected": expected, "reported": reported,
                "on_time": timely,
                "reporting_rate": reported / expected if expected else None,
                "on_time_rate": timely / expected if expected else None,
            })
    return pd.DataFrame.from_records(records)


def daily_series(spec: ReportSpec, grid: StatusGrid, rows: pd.DataFrame, period: str,
                 figures: list[str], campaign: tuple[date, date],
                 households: pd.Series | None = None,
                 goals: dict[str, float] | None = None) -> pd.DataFrame:
    """Province figures and rates for every period of the campaign up to ``period``.

    ``grid`` is ``campaign_status`` for the same period. With ``households`` (commune code →
    households, known ones only) each target's cumulative share of those households too, over
    the same communes as the rollup's province % — so the last point equals it — and beside
    it ``goals`` (target key → what those communes were asked for, as a share of them).
    """
    keys = window_periods(spec, period, campaign)["campaign"]
    periods, period_of = positions(rows, "period")
    in_keys = _among(periods, keys)[period_of]
    # Built column by column into one frame: a province's series is a few short columns,
    # where each pandas step on a frame cost more than the figures.
    series: dict[str, object] = {"period": keys}
    series.update(_sums_per_key(rows, figures, periods, period_of, in_keys, keys, decimals=6))
    for target in spec.targets:
        series[f"cum_{target.numerator}"] = np.cumsum(series[target.numerator])
    known_households = households.sum() if households is not None else 0
    if known_households > 0:
        communes, commune_of = positions(rows, "commune_code")
        known = in_keys & _among(communes, households.index)[commune_of]
        numerators = list(dict.fromkeys(t.numerator for t in spec.targets))
        done_per_key = {key: np.cumsum(done) for key, done in _sums_per_key(
            rows, numerators, periods, period_of, known, keys).items()}
        for target in spec.targets:
            cumulative = done_per_key[target.numerator]
            series[f"pct_{target.key}"] = cumulative / known_households
            series[f"goal_{target.key}"] = (goals or {}).get(target.key, target.threshold)
    flags = _status_flags(grid)
    expected = flags["expected"].sum(axis=0)
    expected = np.where(expected > 0, expected, np.nan)
    series["reporting_rate"] = flags["reported"].sum(axis=0) / expected
    series["on_time_rate"] = flags["on_time"].sum(axis=0) / expected
    return pd.DataFrame(series)


def _among(values, wanted) -> np.ndarray:
    """Which of ``values`` are ``wanted``, as ``Index.isin`` says, for a province's few on
    plain Python rather than through an index made for them."""
    wanted = set(wanted)
    return np.array([value in wanted for value in values], dtype=bool)


def _sums_per_key(rows: pd.DataFrame, columns: list[str], periods: np.ndarray,
                  period_of: np.ndarray, kept: np.ndarray, keys: list[str],
                  decimals: int | None = None) -> dict[str, np.ndarray]:
    """Each column's totals of the ``kept`` rows by period (``positions(rows, "period")``),
    at each of ``keys`` as ``_per_key`` gives them: with no row kept (a report nobody typed
    yet) every key has none, and there is nothing to add up."""
    if not kept.any():
        return {column: _per_key(np.zeros(0), np.full(len(keys), -1)) for column in columns}
    sums = sums_by(rows, columns, "period", periods, period_of, kept)
    at = key_positions(keys, sums.index)
    return {column: _per_key(sums[column].to_numpy(), at, decimals) for column in sums}


def _per_key(values: np.ndarray, at: np.ndarray, decimals: int | None = None) -> np.ndarray:
    """``values`` at the positions ``at`` (``status.key_positions``), 0 where a key has none —
    in float then, as a join on the keys and ``fillna(0)`` make it; rounded to ``decimals``."""
    if decimals is not None and values.dtype.kind == "f":
        values = values.round(decimals)
    if (at >= 0).all():
        return values[at]
    found = np.zeros(len(at))
    found[at >= 0] = values[at[at >= 0]]
    return found


def _status_flags(grid: StatusGrid) -> dict[str, np.ndarray]:
    """Which cells of a campaign status grid are expected, reported, on time."""
    return {"expected": status_flags(lambda s: s.expected)[grid.status],
            "reported": status_flags(lambda s: s.reported)[grid.status],
            "on_time": status_flags(lambda s: s.timely)[grid.status]}


def target_progress(spec: ReportSpec, communes: pd.DataFrame, rows: pd.DataFrame, period: str,
                    day: date, campaign: tuple[date, date]) -> pd.DataFrame:
    """Per commune and target: done, goal, gap, the last 7 days' pace, a projected date and
    what it means against the campaign's end (``outlook``; ``late`` when after it)."""
    if not spec.targets:
        # Nothing to read for a report without targets: the empty frame a loop of none makes.
        return pd.DataFrame.from_records([])
    campaign_start, campaign_end = campaign
    pace_days = max(1, min(PACE_DAYS, (day - campaign_start).days + 1))
    periods, period_of = positions(rows, "period")
    since = (day - timedelta(days=PACE_DAYS)).isoformat()
    recent = ((periods <= period) & (periods > since))[period_of]
    codes, commune_of = positions(rows, "commune_code")
    # Each numerator's paces read once, and the commune columns as lists of what iterating
    # them gives, rather than once a target: a province's targets share them.
    numerators = list(dict.fromkeys(t.numerator for t in spec.targets))
    recent_sums = sums_by(rows, numerators, "commune_code", codes, commune_of, recent)
    pace_of = {key: dict(zip(recent_sums.index, recent_sums[key].to_numpy() / pace_days,
                             strict=True)) for key in numerators}
    shared = [communes[c].tolist() for c in ("code", "commune", "district", "households")]
    records = []
    # Target-major order: each target's communes are contiguous, as the archive's chart needs.
    for target in spec.targets:
        paces = pace_of[target.numerator]
        for code, name, district, known, done, exact, level in zip(*shared, *(
                communes[c].tolist() for c in (f"cum_{target.numerator}", f"goal_{target.key}",
                                               f"level_{target.key}")), strict=True):
            households = known if known and known > 0 else None
            goal = needed(exact)
            pace = paces.get(code, 0 / pace_days)
            projected, outlook = _projection(done, goal, pace, day)
            late = projected is not None and projected > campaign_end
            if late:
                outlook = f"Sau khi kết thúc đợt ({campaign_end:%d/%m/%Y})"
            records.append((code, name, district, target.label, level, households,
                            done, goal, done / households if households else None,
                            done / exact if goal else None,
                            max(goal - done, 0) if goal is not None else None, pace,
                            projected, outlook, late))
    return pd.DataFrame.from_records(records, columns=PROGRESS_COLUMNS if records else None)


def _projection(done: float, goal: int | None, pace: float, day: date) -> tuple[date | None, str]:
    if goal is None:
        return None, "Chưa có số hộ"
    if done >= goal:
        return None, "Đã đạt"
    if pace <= 0:
        return None, "Chưa có tiến độ 7 ngày qua"
    return day + timedelta(days=math.ceil((goal - done) / pace)), "Kịp trong đợt"
