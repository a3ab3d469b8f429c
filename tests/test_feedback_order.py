"""Kiểm tra's order of issues (feedback._order) is the stable sort_values it stands for."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.feedback import _ordered
from toolkit.validate import ISSUE_COLUMNS

text = st.sampled_from(["", "B12", "B3", "C3", "2026-11-20", "2026-11-21", "2026-12", "once",
                        "Báo cáo ngày", "Báo cáo tháng", "Ä", "a"])
maybe = st.one_of(text, st.sampled_from([None, np.nan]))
issue = st.fixed_dictionaries({
    "level": st.one_of(st.sampled_from(["error", "warning", "info", ""]),
                       st.sampled_from([None, np.nan])),
    "period": maybe, "tab": maybe, "cell": maybe})


def by_sort_values(issues: pd.DataFrame) -> pd.DataFrame:
    """The order as it was written first, with pandas' own sort."""
    return issues.assign(_rank=issues["level"].map({"error": 0, "warning": 1})) \
        .sort_values(["_rank", "period", "tab", "cell"], ascending=[True, False, True, True],
                     kind="stable").drop(columns="_rank")


@settings(max_examples=300, deadline=None)
@given(st.lists(issue, max_size=40), st.sampled_from([object, "str"]), st.booleans())
def test_the_order_is_the_stable_sort_of_level_newest_period_tab_and_cell(rows, dtype, shift):
    issues = pd.DataFrame.from_records(
        [{**dict.fromkeys(ISSUE_COLUMNS, "x"), **row, "message": str(i)}
         for i, row in enumerate(rows)], columns=ISSUE_COLUMNS).astype(dtype)
    if shift:           # an index of its own, as a concatenation or a filter leaves one
        issues.index = issues.index * 3 + 7
    pd.testing.assert_frame_equal(_ordered(issues), by_sort_values(issues))
