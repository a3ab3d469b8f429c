"""Template rules on hand-computed data, through parse → ledger → find_issues."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.collect import rows_from_grid
from toolkit.layout import period_keys
from toolkit.ledger import Ledger
from toolkit.parse import format_vn_number
from toolkit.periods import VN_TZ
from toolkit.registry import Commune, Registry
from toolkit.templates import MISSING_STRATEGIES, load_template
from toolkit.validate import find_issues

TEMPLATE = """\
key = "demo_daily"
title = "Thử"
tab = "Thử"
period = "daily"
deadline = "17:00"

[[fields]]
key = "shops"
header = "Cửa hàng"
type = "int"
required = true
min = 0

[[fields]]
key = "accounts"
header = "Tài khoản"
type = "int"
min = 0

[[rules]]
key = "shops_within_households"
left = "cum(shops)"
op = "<="
right = "households"
level = "error"
message = "Lũy kế cửa hàng vượt số hộ."

[[rules]]
key = "accounts_at_least_shops"
left = "accounts"
op = ">="
right = "shops"
level = "warning"
missing = "{missing}"
message = "Số tài khoản ít hơn số cửa hàng."
"""
NOW = datetime(2026, 11, 3, 20, 0, tzinfo=VN_TZ)
CAMPAIGN = (date(2026, 11, 1), date(2026, 11, 3))


def commune(code: str, households: int | None) -> Commune:
    return Commune(code=code, name=f"Thử {code}", kind="Xã", province="Lạng Sơn", district=None,
                   households=households, villages=(), editors=(), contact_name=None,
                   contact_phone=None)


def issues_for(tmp_path: Path, missing: str, grid_by_commune: dict[str, list[list]],
               households: dict[str, int | None] | None = None):
    template = tmp_path / "demo.toml"
    template.write_text(TEMPLATE.format(missing=missing), encoding="utf-8")
    spec = load_template(template)
    registry = Registry(tmp_path / "registry.xlsx",
                        tuple(commune(code, count) for code, count in (
                            households or {"00001": 10, "00002": None}).items()), ())
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for code, data in grid_by_commune.items():
            ledger.remember_workbook(code, f"{code}.xlsx", "xlsx", NOW)
            grid = [["title"], ["Ngày", "Cửa hàng", "Tài khoản"], *data]
            ledger.record_fetch(code, fetched_at=NOW, modified_stamp="1", modified_at=NOW,
                                proven_at=NOW,
                                rows=rows_from_grid(spec, grid, (), period_keys(spec, *CAMPAIGN)))
        versions = ledger.versions(spec.key)
    return find_issues(spec, registry, versions, date(2026, 11, 3), NOW, CAMPAIGN)


def by_check(issues, check):
    return sorted((r.commune_code, r.cell, r.value) for r in issues.itertuples()
                  if r.check == check)


def test_cumulative_rule_points_at_the_day_the_sum_crosses_households(tmp_path):
    issues = issues_for(tmp_path, "skip_if_any", {
        "00001": [[datetime(2026, 11, 1), 4, 9], [datetime(2026, 11, 2), 5, 9],
                  [datetime(2026, 11, 3), 3, 9]],
        # No households in the registry: the rule cannot be judged, so it is skipped.
        "00002": [[datetime(2026, 11, 1), 400, 900]],
    })
    assert by_check(issues, "rule:shops_within_households") == [("00001", "B5", "12")]
    message = issues[issues["check"] == "rule:shops_within_households"]["message"].iloc[0]
    # The sides in the sheet's words, never the template's keys.
    assert "(Cửa hàng (lũy kế) = 12, Số hộ gia đình = 10)" in message


@pytest.mark.parametrize("missing, expected", [
    ("skip_if_any", [("00001", "C4", "1")]),
    ("skip_if_all", [("00001", "C3", ""), ("00001", "C4", "1")]),
    ("never_skip", [("00001", "C3", ""), ("00001", "C4", "1")]),
])
def test_missing_value_strategies(tmp_path, missing, expected):
    issues = issues_for(tmp_path, missing, {
        "00001": [[datetime(2026, 11, 1), 2, None], [datetime(2026, 11, 2), 3, 1],
                  [datetime(2026, 11, 3), 0, 0]],
    })
    assert by_check(issues, "rule:accounts_at_least_shops") == expected
    assert set(issues.loc[issues["check"].str.startswith("rule:accounts"), "level"]) == {"warning"}


def test_required_and_format_problems_point_at_their_cells(tmp_path):
    issues = issues_for(tmp_path, "skip_if_any", {
        "00001": [[datetime(2026, 11, 1), None, 4], [datetime(2026, 11, 2), "-3", 1],
                  [datetime(2026, 11, 3), "1.5", 2]],
    })
    assert by_check(issues, "required") == [("00001", "B3", "")]
    assert by_check(issues, "format") == [("00001", "B4", "-3"), ("00001", "B5", "1.5")]
    missing = issues[issues["check"] == "missing"]
    # 00001's days were received (incomplete or with bad cells: named cell by cell above);
    # 00002 reported nothing at all, which is an error of each due day.
    assert sorted(zip(missing["commune_code"], missing["period"], strict=True)) == [
        ("00002", "2026-11-01"), ("00002", "2026-11-02"), ("00002", "2026-11-03")]
    assert set(missing["level"]) == {"error"}


# -- every broken row's issue, against a reference worked out row by row --------------------

def reference_rule_issues(missing: str, households: dict, grids: dict) -> list[tuple]:
    """The rule issues of TEMPLATE's two rules, worked out row by row in plain Python: rows
    by commune, day and sheet row; a running sum of shops that a blank leaves blank (and
    goes on past it); a side left blank counts as 0 where the strategy judges the row."""
    def judged(left, right, strategy):
        return {"skip_if_any": left is not None and right is not None,
                "skip_if_all": left is not None or right is not None,
                "never_skip": True}[strategy]

    def text(value):
        return "" if value is None else format_vn_number(value)

    found = {"shops_within_households": [], "accounts_at_least_shops": []}
    for code in sorted(grids):
        total = 0
        for row, (day, shops, accounts) in enumerate(grids[code], start=3):
            period, name = f"{day:%Y-%m-%d}", f"Xã Thử {code}"
            total += shops or 0
            cum = None if shops is None else total
            sides = (cum, households[code])
            if judged(*sides, "skip_if_any") and not (cum or 0) <= (households[code] or 0):
                found["shops_within_households"].append((
                    code, name, period, f"B{row}", text(cum), "error",
                    f"Lũy kế cửa hàng vượt số hộ. (Cửa hàng (lũy kế) = {text(cum)}, "
                    f"Số hộ gia đình = {text(households[code])})"))
            if judged(accounts, shops, missing) and not (accounts or 0) >= (shops or 0):
                found["accounts_at_least_shops"].append((
                    code, name, period, f"C{row}", text(accounts), "warning",
                    f"Số tài khoản ít hơn số cửa hàng. (Tài khoản = {text(accounts)}, "
                    f"Cửa hàng = {text(shops)})"))
    return [(f"rule:{key}", *issue) for key, issues in found.items() for issue in issues]


typed = st.one_of(st.none(), st.integers(0, 3000))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MISSING_STRATEGIES),
       st.fixed_dictionaries({"00001": st.one_of(st.none(), st.integers(0, 5000)),
                              "00002": st.one_of(st.none(), st.integers(0, 5000))}),
       st.fixed_dictionaries({code: st.lists(st.tuples(typed, typed), min_size=3, max_size=3)
                              for code in ("00001", "00002")}))
def test_each_broken_row_is_one_issue_in_the_sheets_words(missing, households, typed_rows):
    grids = {code: [(date(2026, 11, 1 + n), shops, accounts)
                    for n, (shops, accounts) in enumerate(rows)]
             for code, rows in typed_rows.items()}
    with tempfile.TemporaryDirectory() as folder:
        issues = issues_for(Path(folder), missing, {
            code: [[datetime.combine(day, time()), shops, accounts]
                   for day, shops, accounts in rows] for code, rows in grids.items()},
            households=households)
    rules = issues[issues["check"].str.startswith("rule:")]
    assert set(rules["report"]) <= {"demo_daily"} and set(rules["tab"]) <= {"Thử"}
    got = list(zip(rules["check"], rules["commune_code"], rules["commune"], rules["period"],
                   rules["cell"], rules["value"], rules["level"], rules["message"],
                   strict=True))
    assert got == reference_rule_issues(missing, households, grids)
