"""Outliers and suspicious streaks, flagged as warnings with the value, the range and why.

Modified z-scores (Iglewicz & Hoaglin: 0.6745 · (x − median) / MAD, flagged beyond 3.5) are
computed against the commune's own history and against its peers on the same day; the range
they imply is printed as the expected range, so a person sees what "normal" was. Robust
statistics are used because daily counts are skewed and full of zeros, where mean ± 3σ fails.
"""

from __future__ import annotations

import pandas as pd

from toolkit.layout import a1, display_period
from toolkit.parse import format_vn_number
from toolkit.templates import ReportSpec

THRESHOLD = 3.5
MIN_HISTORY = 5        # periods of the commune's own history before judging it
MIN_PEERS = 8          # communes reporting the same day before comparing with peers
RECENT_PERIODS = 7     # periods re-checked on every run, so warnings stay visible a week
ZERO_STREAK = 7        # consecutive all-zero periods worth a question


def _bounds(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Median, MAD and the implied normal range of ``values`` per group, vectorised."""
    grouped = values.groupby(groups)
    median = grouped.median()
    # Counts are whole numbers: a MAD below 1 says more about resolution than about spread.
    mad = (values - grouped.transform("median")).abs().groupby(groups).median().clip(lower=1)
    spread = THRESHOLD * mad / 0.6745
    return pd.DataFrame({"median": median, "mad": mad, "low": (median - spread).clip(lower=0),
                         "high": median + spread, "count": grouped.count()})


def outlier_issues(spec: ReportSpec, rows: pd.DataFrame, names: dict[str, str],
                   upto: str) -> list[dict]:
    """Warnings for values far from the commune's history or from its peers that day."""
    if spec.period == "once" or rows.empty:
        return []
    rows = rows[(rows["period"] != "?") & (rows["period"] <= upto)]
    periods = sorted(rows["period"].unique())[-RECENT_PERIODS:]
    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    issues: list[dict] = []
    for field in (f for f in spec.fields if f.numeric and f.aggregate == "sum"):
        values = rows[["commune_code", "period", "sheet_row", field.key]].dropna()
        for period in periods:
            current = values[values["period"] == period].set_index("commune_code")
            if current.empty:
                continue
            history = values[values["period"] < period]
            own = _bounds(history[field.key], history["commune_code"])
            everyone = pd.Series("all", index=current.index)
            peers = _bounds(current[field.key], everyone).iloc[0]
            joined = current.join(own)
            for code, row in joined.iterrows():
                x = row[field.key]
                if row["count"] >= MIN_HISTORY and x > row["high"]:
                    why = "so với các kỳ trước của xã"
                    low, high = row["low"], row["high"]
                elif peers["count"] >= MIN_PEERS and x > peers["high"]:
                    why = "so với các xã khác cùng kỳ"
                    low, high = peers["low"], peers["high"]
                else:
                    continue
                issues.append(_issue(spec, code, names, period, int(row["sheet_row"]),
                                     columns[field.key], x, f"outlier:{field.key}",
                                     f"\"{field.header}\" = {format_vn_number(x)} cao bất thường "
                                     f"{why} (thường trong khoảng {format_vn_number(round(low))}"
                                     f"–{format_vn_number(round(high))}).",
                                     "Kiểm tra lại số liệu; nếu đúng, ghi lý do ở cột Ghi chú."))
    return issues + _zero_streaks(spec, rows, names, columns)


def _zero_streaks(spec: ReportSpec, rows: pd.DataFrame, names: dict[str, str],
                  columns: dict[str, int]) -> list[dict]:
    """A commune reporting zero everywhere for many periods running is worth a question."""
    required = [f.key for f in spec.fields if f.numeric and f.required]
    if spec.period != "daily" or not required:
        return []
    issues = []
    for code, group in rows.sort_values("period").groupby("commune_code"):
        zeros = (group[required].fillna(-1) == 0).all(axis=1).to_list()
        run = zeros[::-1].index(False) if False in zeros else len(zeros)
        last = group.iloc[-1]
        if run >= ZERO_STREAK:
            issues.append(_issue(
                spec, code, names, last["period"], int(last["sheet_row"]),
                columns[required[0]], 0, "zero_streak",
                f"Xã báo cáo 0 cho tất cả chỉ tiêu {run} kỳ liên tiếp "
                f"(đến {display_period(last['period'])}).",
                "Nếu thực sự không có kết quả, ghi lý do ở cột Ghi chú; nếu chưa nhập, hãy "
                "nhập số liệu đúng."))
    return issues


def _issue(spec, code, names, period, sheet_row, column, value, check, message, fix) -> dict:
    return {"commune_code": code, "commune": names.get(code, code), "report": spec.key,
            "period": period, "tab": spec.tab, "cell": a1(sheet_row, column),
            "value": format_vn_number(value), "check": check, "level": "warning",
            "message": message, "fix": fix}
