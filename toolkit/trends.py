"""Rates over windows, the daily series and progress towards targets, for the rollup.

Reporting and on-time rates follow DHIS2's definitions: expected = communes × periods,
actual = periods reported, on time = reported by the deadline. Projections use the last seven
days' pace, the way a province officer would reason about "when will this commune reach 50%".
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd

from toolkit.layout import period_keys
from toolkit.periods import Status
from toolkit.status import PROVINCE, status_table
from toolkit.templates import ReportSpec

WINDOWS = {"day": "Trong ngày", "week": "7 ngày qua", "campaign": "Từ đầu đợt"}
PACE_DAYS = 7
REPORTED = [s.value for s in Status if s.reported]
TIMELY = [s.value for s in Status if s.timely]


def window_periods(spec: ReportSpec, period: str, campaign: tuple[date, date]) -> dict:
    """The periods of each window ending at ``period``: the day, the last 7, the campaign."""
    keys = [k for k in period_keys(spec, *campaign) if k <= period] or [period]
    return {"day": [period], "week": keys[-7:], "campaign": keys}


def rates(spec: ReportSpec, registry, versions: pd.DataFrame, period: str, *,
          as_of: datetime, grace: timedelta, campaign: tuple[date, date]) -> pd.DataFrame:
    """One row per area and window: expected, reported, on time and their rates."""
    windows = window_periods(spec, period, campaign)
    table = status_table(spec, registry, versions, windows["campaign"], as_of=as_of, grace=grace)
    districts = {c.code: c.district or "(chưa rõ huyện)" for c in registry.communes}
    table["area"] = table["commune_code"].map(districts)
    records = []
    areas = sorted(set(districts.values())) if registry.has_districts else []
    for window, keys in windows.items():
        in_window = table[table["period"].isin(keys)]
        for area in areas + [PROVINCE]:
            part = in_window if area == PROVINCE else in_window[in_window["area"] == area]
            expected = len(part)
            reported = int(part["status"].isin(REPORTED).sum())
            timely = int(part["status"].isin(TIMELY).sum())
            records.append({
                "area": area, "window": window, "window_label": WINDOWS[window],
                "periods": len(keys), "expected": expected, "reported": reported,
                "on_time": timely,
                "reporting_rate": reported / expected if expected else None,
                "on_time_rate": timely / expected if expected else None,
            })
    return pd.DataFrame.from_records(records)


def daily_series(spec: ReportSpec, registry, versions: pd.DataFrame, rows: pd.DataFrame,
                 period: str, figures: list[str], *, as_of: datetime, grace: timedelta,
                 campaign: tuple[date, date]) -> pd.DataFrame:
    """Province figures and rates for every period of the campaign up to ``period``."""
    keys = window_periods(spec, period, campaign)["campaign"]
    table = status_table(spec, registry, versions, keys, as_of=as_of, grace=grace)
    by_period = table.groupby("period")["status"]
    series = pd.DataFrame(index=pd.Index(keys, name="period"))
    sums = rows[rows["period"].isin(keys)].groupby("period")[figures].sum()
    series = series.join(sums.round(6)).fillna(0)
    for target in spec.targets:
        series[f"cum_{target.numerator}"] = series[target.numerator].cumsum()
    series["reporting_rate"] = by_period.apply(lambda s: s.isin(REPORTED).mean())
    series["on_time_rate"] = by_period.apply(lambda s: s.isin(TIMELY).mean())
    return series.reset_index()


def target_progress(spec: ReportSpec, communes: pd.DataFrame, rows: pd.DataFrame, period: str,
                    day: date, campaign_start: date) -> pd.DataFrame:
    """Per commune and target: done, goal, gap, the last 7 days' pace and a projected date."""
    pace_days = max(1, min(PACE_DAYS, (day - campaign_start).days + 1))
    recent = rows[(rows["period"] <= period)
                  & (rows["period"] > (day - timedelta(days=PACE_DAYS)).isoformat())]
    records = []
    # Target-major order: each target's communes are contiguous, as the archive's chart needs.
    for target in spec.targets:
        for commune in communes.itertuples():
            households = commune.households if commune.households and commune.households > 0 \
                else None
            done = getattr(commune, f"cum_{target.numerator}")
            goal = math.ceil(households * target.threshold) if households else None
            pace = recent.loc[recent["commune_code"] == commune.code,
                              target.numerator].sum() / pace_days
            records.append({
                "code": commune.code, "commune": commune.commune,
                "district": commune.district, "target": target.label,
                "threshold": target.threshold, "households": households, "done": done,
                "goal": goal, "share": done / households if households else None,
                "gap": max(goal - done, 0) if goal is not None else None,
                "pace": pace,
                "projected": _projection(done, goal, pace, day),
            })
    return pd.DataFrame.from_records(records)


def _projection(done: float, goal: int | None, pace: float, day: date) -> str:
    if goal is None:
        return "Chưa có số hộ"
    if done >= goal:
        return "Đã đạt"
    if pace <= 0:
        return "Chưa có tiến độ 7 ngày qua"
    return (day + timedelta(days=math.ceil((goal - done) / pace))).strftime("%d/%m/%Y")
