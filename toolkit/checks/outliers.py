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
from toolkit.frames import plain_numbers, positions
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
    rows, last = np.arange(len(count)), ordered.shape[1] - 1
    # np.minimum and np.maximum are what ndarray.clip calls, without its Python wrapper (a
    # third of this function's cost on a small province's few rows).
    upper = ordered[rows, np.minimum(np.maximum(count // 2, 0), last)]
    lower = ordered[rows, np.minimum(np.maximum((count - 1) // 2, 0), last)]
    middle = np.where(count % 2 == 1, upper, (lower + upper) / 2)
    return np.where(count > 0, middle, np.nan)


def _bounds(values: np.ndarray) -> dict[str, np.ndarray]:
    """Median, MAD and the implied normal range of each row of ``values`` (NaN = no value)."""
    if values.shape[1] == 0:
        values = np.full((len(values), 1), np.nan)
    count = (~np.isnan(values)).sum(axis=1)
    median = _middle(np.sort(values, axis=1), count)
    return _limits(median, _mad(values, median, count), count)


def _mad(values: np.ndarray, median: np.ndarray, count: np.ndarray) -> np.ndarray:
    # Counts are whole numbers: a MAD below 1 says more about resolution than about spread.
    return np.maximum(_middle(np.sort(np.abs(values - median[:, None]), axis=1), count), 1)


def _limits(median: np.ndarray, mad: np.ndarray, count: np.ndarray) -> dict[str, np.ndarray]:
    spread = THRESHOLD * mad / 0.6745
    return {"low": np.maximum(median - spread, 0), "high": median + spread, "count": count}


class _History:
    """Each commune's values of one field before the recent periods, sorted once.

    The recent periods are judged against all the periods before each of them. With ``j``
    values added to a sorted history, the k-th smallest of all is the j-th smallest of the
    history's k-j … k-th and the added ones; so each recent period costs sorting a few
    values per commune instead of its whole year. Padding (j values of -inf before, +inf
    after, +inf for no value) keeps every such window inside the row.
    """

    def __init__(self, grid: np.ndarray, start: int):
        self.grid, self.start = grid, start
        # Sorted in place inside the padded array: a national year's history is 10 MB, and
        # sorting it apart then stacking the pads around it held it three times over.
        pad = RECENT_PERIODS - 1
        self.sorted = np.full((len(grid), start + 2 * pad), np.inf)
        self.sorted[:, :pad] = -np.inf
        head = self.sorted[:, pad:pad + start]
        head[:] = grid[:, :start]
        self.count = (~np.isnan(head)).sum(axis=1)
        head[np.isnan(head)] = np.inf
        head.sort(axis=1)

    def middle(self, rows: np.ndarray, upto: int) -> tuple[np.ndarray, np.ndarray]:
        """Median and count of the values of ``rows`` (of the grid) before column ``upto``."""
        added = self.grid[rows, self.start:upto]
        count = self.count[rows] + (~np.isnan(added)).sum(axis=1)
        added = np.where(np.isnan(added), np.inf, added)
        j = added.shape[1]

        def smallest(k: np.ndarray) -> np.ndarray:
            at = (k + RECENT_PERIODS - 1 - j)[:, None] + np.arange(j + 1)
            window = self.sorted[rows[:, None], at]
            return np.sort(np.hstack([window, added]), axis=1)[:, j]

        upper = smallest(count // 2)
        lower = smallest(np.maximum(count - 1, 0) // 2)
        with np.errstate(invalid="ignore"):
            middle = np.where(count % 2 == 1, upper, (lower + upper) / 2)
        return np.where(count > 0, middle, np.nan), count

    def bounds(self, rows: np.ndarray, upto: int, judged: np.ndarray) -> dict[str, np.ndarray]:
        """``_bounds`` of the values of ``rows`` before column ``upto``, for judging ``judged``.

        The MAD is worked out only for the rows whose value lies above the narrowest range
        there can be (MAD 1); the others cannot be above theirs and get an unbounded one.
        """
        median, count = self.middle(rows, upto)
        mad = np.full(len(rows), np.inf)
        some = np.flatnonzero(judged > median + THRESHOLD * 1 / 0.6745)
        if len(some):
            mad[some] = _mad(self.grid[rows[some], :upto], median[some], count[some])
        return _limits(median, mad, count)


def outlier_issues(spec: ReportSpec, rows: pd.DataFrame, names: dict[str, str],
                   upto: str) -> list[dict]:
    """Warnings for values far from the commune's history or from its peers that day."""
    if spec.period == "once" or rows.empty:
        return []
    names_of, period_of = positions(rows, "period")
    kept = np.flatnonzero(((names_of != "?") & (names_of <= upto))[period_of])
    communes, commune_of = positions(rows, "commune_code", kept)
    periods, period_of = positions(rows, "period", kept)
    sheet_rows = rows["sheet_row"].to_numpy()[kept]
    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    issues: list[dict] = []
    recent = np.flatnonzero(period_of >= len(periods) - RECENT_PERIODS)
    shape = (len(communes), len(periods))
    cells = _cells(commune_of, period_of, shape)
    for field in (f for f in spec.fields if f.numeric and f.aggregate == "sum"):
        series = rows[field.key].array
        typed = series.to_numpy(dtype=float, na_value=np.nan)[kept]
        grid = np.full(shape, np.nan)
        grid.reshape(-1)[cells] = typed
        history = _History(grid, start := max(0, len(periods) - RECENT_PERIODS))
        for p in range(start, len(periods)):
            here = recent[(period_of[recent] == p) & ~np.isnan(typed[recent])]
            if not len(here):
                continue
            own = history.bounds(commune_of[here], p, typed[here])
            peers = _bounds(typed[here][None, :])
            by_own = (own["count"] >= MIN_HISTORY) & (typed[here] > own["high"])
            by_peers = ~by_own & (peers["count"][0] >= MIN_PEERS) & (typed[here] > peers["high"][0])
            for i in np.flatnonzero(by_own | by_peers):
                mine = bool(by_own[i])
                why = "so với các kỳ trước của xã" if mine else "so với các xã khác cùng kỳ"
                low, high = (own["low"][i], own["high"][i]) if mine else \
                    (peers["low"][0], peers["high"][0])
                x = series[kept[here[i]]]
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
    zeros = np.ones(len(kept), dtype=bool)
    for key in (f.key for f in spec.fields if f.numeric and f.required):
        zeros &= _zero(rows[key])[kept]
    return issues + _zero_streaks(spec, (communes, commune_of), (periods, period_of),
                                  sheet_rows, zeros, names, columns)


def _cells(commune_of: np.ndarray, period_of: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Where each row sits in a flattened commune × period grid of ``shape``. Filling a grid
    through this one index is 4 ms a national field; through the two small-integer position
    arrays numpy converts and combines them again for each field, 13 ms."""
    return np.ravel_multi_index((commune_of, period_of), shape)


def _zero(values: pd.Series) -> np.ndarray:
    """Where ``values`` holds 0, a missing value never counting as 0: for numbers numpy's
    ``== 0`` (what pandas compares them with, NaN never equal), without the two Series of
    ``fillna(-1) == 0``, kept for any other dtype. A hypothesis test holds the two together.
    """
    if plain_numbers(values):
        return values.to_numpy() == 0
    return (values.fillna(-1) == 0).to_numpy()


def _zero_streaks(spec: ReportSpec, communes: tuple[np.ndarray, np.ndarray],
                  periods: tuple[np.ndarray, np.ndarray], sheet_rows: np.ndarray,
                  zeros: np.ndarray, names: dict[str, str],
                  columns: dict[str, int]) -> list[dict]:
    """A commune reporting zero everywhere for many periods running is worth a question.

    ``communes`` and ``periods`` are ``frames.positions`` of the rows checked (one per
    commune and period); ``zeros`` says which rows hold 0 in every required figure. The run
    is counted back from each commune's newest row, over the rows it has, on the commune ×
    period grid.
    """
    required = [f.key for f in spec.fields if f.numeric and f.required]
    if spec.period != "daily" or not required or not len(zeros):
        return []
    (codes, commune_of), (keys, period_of) = communes, periods
    row_at = np.full((len(codes), len(keys)), -1)
    row_at.reshape(-1)[_cells(commune_of, period_of, row_at.shape)] = np.arange(len(zeros))
    present = row_at >= 0
    column = np.arange(len(keys))
    newest = np.where(present, column, -1).max(axis=1)
    broken = np.zeros_like(present)
    broken[commune_of[~zeros], period_of[~zeros]] = True
    last_break = np.where(broken, column, -1).max(axis=1)
    run = (present & (column > last_break[:, None])).sum(axis=1)
    issues = []
    for c in np.flatnonzero(run >= ZERO_STREAK):
        period = keys[newest[c]]
        issues.append(_issue(
            spec, codes[c], names, period, int(sheet_rows[row_at[c, newest[c]]]),
            columns[required[0]], 0, "zero_streak",
            f"Xã báo cáo 0 cho tất cả chỉ tiêu {run[c]} kỳ liên tiếp "
            f"(đến {display_period(period)}).",
            "Nếu thực sự không có kết quả, ghi lý do ở cột Ghi chú; nếu chưa nhập, hãy "
            "nhập số liệu đúng."))
    return issues


def _issue(spec, code, names, period, sheet_row, column, value, check, message, fix) -> dict:
    return issue(spec, code, names.get(code, code), period, a1(sheet_row, column),
                 format_vn_number(value), check, "warning", message, fix)
