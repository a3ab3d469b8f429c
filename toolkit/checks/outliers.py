"""Outliers and suspicious streaks, flagged as warnings with the value, the range and why.

Modified z-scores (Iglewicz & Hoaglin: 0.6745 · (x − median) / MAD, flagged beyond 3.5) are
computed against the commune's own history and against its peers on the same day; the range
they imply is printed as the expected range, so a person sees what "normal" was. Robust
statistics are used because daily counts are skewed and full of zeros, where mean ± 3σ fails.

A national year is 3,321 communes × 365 periods × 6 figures re-judged over the last seven
periods, so the medians are taken with numpy over a commune × period grid (a periodic report has
one row per commune and period: its row key is the period) instead of one pandas groupby per
field and period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.checks import issue
from toolkit.layout import a1, display_period
from toolkit.parse import format_vn_number
from toolkit.templates import ReportSpec

THRESHOLD = 3.5
MIN_HISTORY = 5        # periods of the commune's own history before judging it
MIN_PEERS = 8          # communes reporting the same day before comparing with peers
RECENT_PERIODS = 7     # periods re-checked on every run, so warnings stay visible a week
ZERO_STREAK = 7        # consecutive all-zero periods worth a question


def _middle(ordered: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of each row of ``ordered`` (sorted, NaN last) over its first ``count`` values.

    Same arithmetic as pandas' groupby median: the middle value, or the mean of the two.
    """
    rows = np.arange(len(count))
    upper = ordered[rows, np.maximum(count // 2, 0).clip(max=ordered.shape[1] - 1)]
    lower = ordered[rows, np.maximum((count - 1) // 2, 0).clip(max=ordered.shape[1] - 1)]
    middle = np.where(count % 2 == 1, upper, (lower + upper) / 2)
    return np.where(count > 0, middle, np.nan)


def _bounds(values: np.ndarray) -> dict[str, np.ndarray]:
    """Median, MAD and the implied normal range of each row of ``values`` (NaN = no value)."""
    if values.shape[1] == 0:
        values = np.full((len(values), 1), np.nan)
    count = (~np.isnan(values)).sum(axis=1)
    median = _middle(np.sort(values, axis=1), count)
    # Counts are whole numbers: a MAD below 1 says more about resolution than about spread.
    mad = _middle(np.sort(np.abs(values - median[:, None]), axis=1), count).clip(min=1)
    spread = THRESHOLD * mad / 0.6745
    return {"low": (median - spread).clip(min=0), "high": median + spread, "count": count}


def outlier_issues(spec: ReportSpec, rows: pd.DataFrame, names: dict[str, str],
                   upto: str) -> list[dict]:
    """Warnings for values far from the commune's history or from its peers that day."""
    if spec.period == "once" or rows.empty:
        return []
    figures = [f.key for f in spec.fields if f.numeric and (f.aggregate == "sum" or f.required)]
    wanted = ((rows["period"] != "?") & (rows["period"] <= upto)).to_numpy()
    rows = rows.loc[wanted, ["commune_code", "period", "sheet_row", *figures]]
    communes, commune_of = _sorted_codes(rows["commune_code"])
    periods, period_of = _sorted_codes(rows["period"])
    sheet_rows = rows["sheet_row"].to_numpy()
    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    issues: list[dict] = []
    for field in (f for f in spec.fields if f.numeric and f.aggregate == "sum"):
        series = rows[field.key]
        typed = series.to_numpy(dtype=float, na_value=np.nan)
        grid = np.full((len(communes), len(periods)), np.nan)
        grid[commune_of, period_of] = typed
        for p in range(max(0, len(periods) - RECENT_PERIODS), len(periods)):
            here = np.flatnonzero((period_of == p) & ~np.isnan(typed))
            if not len(here):
                continue
            own = _bounds(grid[commune_of[here], :p])
            peers = _bounds(typed[here][None, :])
            by_own = (own["count"] >= MIN_HISTORY) & (typed[here] > own["high"])
            by_peers = ~by_own & (peers["count"][0] >= MIN_PEERS) & (typed[here] > peers["high"][0])
            for i in np.flatnonzero(by_own | by_peers):
                mine = bool(by_own[i])
                why = "so với các kỳ trước của xã" if mine else "so với các xã khác cùng kỳ"
                low, high = (own["low"][i], own["high"][i]) if mine else \
                    (peers["low"][0], peers["high"][0])
                x = series.iloc[here[i]]
                x = x.item() if hasattr(x, "item") else x
                usual = (f"{format_vn_number(round(float(low)))}–"
                         f"{format_vn_number(round(float(high)))}")
                issues.append(_issue(spec, communes[commune_of[here[i]]], names, periods[p],
                                     int(sheet_rows[here[i]]), columns[field.key], x,
                                     f"outlier:{field.key}",
                                     f"\"{field.header}\" = {format_vn_number(x)} cao bất thường "
                                     f"{why} (thường trong khoảng {usual}).",
                                     f"Số thường trong khoảng {usual}: nếu gõ nhầm (thừa chữ "
                                     "số 0, gõ cả tổng lũy kế), sửa lại ô này; nếu đúng, ghi lý "
                                     "do ở cột Ghi chú."))
    return issues + _zero_streaks(spec, rows, names, columns)


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values in order and each row's position among them (np.unique's answer,
    by hashing a million strings and sorting only the few distinct ones)."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return uniques[order], rank[codes]


def _zero_streaks(spec: ReportSpec, rows: pd.DataFrame, names: dict[str, str],
                  columns: dict[str, int]) -> list[dict]:
    """A commune reporting zero everywhere for many periods running is worth a question."""
    required = [f.key for f in spec.fields if f.numeric and f.required]
    if spec.period != "daily" or not required or rows.empty:
        return []
    ordered = rows.sort_values(["commune_code", "period"], kind="stable")
    zeros = (ordered[required].fillna(-1) == 0).all(axis=1).to_numpy()
    code = ordered["commune_code"].to_numpy()
    last = np.append(code[1:] != code[:-1], True)          # the newest row of each commune
    # Zeros running up to each row, restarted by every row that is not all zero.
    position = np.arange(len(zeros))
    restart = np.maximum.accumulate(np.where(~zeros | np.append(True, last[:-1]), position, 0))
    run = position - restart + zeros[restart]
    issues = []
    for i in np.flatnonzero(last & (run >= ZERO_STREAK)):
        period = ordered["period"].iloc[i]
        issues.append(_issue(
            spec, code[i], names, period, int(ordered["sheet_row"].iloc[i]),
            columns[required[0]], 0, "zero_streak",
            f"Xã báo cáo 0 cho tất cả chỉ tiêu {run[i]} kỳ liên tiếp "
            f"(đến {display_period(period)}).",
            "Nếu thực sự không có kết quả, ghi lý do ở cột Ghi chú; nếu chưa nhập, hãy "
            "nhập số liệu đúng."))
    return issues


def _issue(spec, code, names, period, sheet_row, column, value, check, message, fix) -> dict:
    return issue(spec, code, names.get(code, code), period, a1(sheet_row, column),
                 format_vn_number(value), check, "warning", message, fix)
