"""Template rules on hand-computed data, through parse → ledger → find_issues."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from toolkit.collect import rows_from_grid
from toolkit.layout import period_keys
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ
from toolkit.registry import Commune, Registry
from toolkit.templates import load_template
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


def issues_for(tmp_path: Path, missing: str, grid_by_commune: dict[str, list[list]]):
    template = tmp_path / "demo.toml"
    template.write_text(TEMPLATE.format(missing=missing), encoding="utf-8")
    spec = load_template(template)
    registry = Registry(tmp_path / "registry.xlsx",
                        (commune("00001", 10), commune("00002", None)), ())
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
