"""Monthly figures that restate daily ones must agree with the sum of the daily entries.

Declared in a monthly template with ``reconciles_with = "kts_daily.new_shops"``; a difference
is a warning on the monthly cell, with both numbers, because either side may be the one to fix.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from toolkit.checks import issue
from toolkit.layout import a1, display_period
from toolkit.parse import format_vn_number
from toolkit.templates import ReportSpec


def reconcile_issues(specs: list[ReportSpec], latest: dict[str, pd.DataFrame],
                     names: dict[str, str], day: date) -> list[dict]:
    """``latest``: each template's latest rows (frames.latest_rows) as of the same moment."""
    issues = []
    by_key = {s.key: s for s in specs}
    for spec in specs:
        columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
        for field in (f for f in spec.fields if f.reconciles_with):
            daily_key, daily_field = field.reconciles_with.split(".")
            if daily_key not in by_key or spec.key not in latest or daily_key not in latest:
                continue
            monthly = latest[spec.key]
            # The stated rows' cells as lists: itertuples built a Series per column of the
            # frame (a few dozen) to read four of them.
            kept = np.flatnonzero(pd.notna(monthly[field.key].array))
            if not len(kept):       # nothing stated: the daily sums would be asked nothing
                continue
            rows = zip(*(monthly[name].to_numpy()[kept].tolist() for name in (
                "commune_code", "period", "sheet_row", field.key)), strict=True)
            daily = latest[daily_key]
            daily = daily[(daily["period"] != "?") & (daily["period"] <= day.isoformat())]
            totals = daily.assign(month=daily["period"].str[:7]) \
                .groupby(["commune_code", "month"])[daily_field].sum()
            daily_header = by_key[daily_key].field_spec(daily_field).header
            for code, period, sheet_row, stated in rows:
                summed = totals.get((code, period), 0)
                if stated == summed:
                    continue
                issues.append(issue(
                    spec, code, names.get(code, code),
                    period, a1(sheet_row, columns[field.key]),
                    format_vn_number(stated), f"reconcile:{field.key}", "warning",
                    f"\"{field.header}\" tháng {display_period(period)} là "
                    f"{format_vn_number(stated)}, nhưng tổng \"{daily_header}\" các "
                    f"báo cáo ngày trong tháng (đến {day:%d/%m/%Y}) là "
                    f"{format_vn_number(summed)}.",
                    "Đối chiếu và sửa báo cáo tháng hoặc các báo cáo ngày cho khớp."))
    return issues
