"""P9 item 2: each commune's own target (registry "Chỉ tiêu: <label>") in every progress figure,
and the thi đua ranking by completion of those targets — checked against the independent
model in tests/oracle.py, on generated communes and end to end on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_gsheets_rollup import (
    START,
    reported,  # noqa: F401  (fixture)
    workspace,
)
from test_gsheets_store import DAILY, office  # noqa: F401  (fixture)

from conftest import (
    assign_targets,
    commune_rows,
    name_districts,
    run,
    table_rows,
    total_rows,
    type_row,
)
from oracle import district_units, goal_of, ranking
from toolkit.backends.google.rollup import SEPARATOR
from toolkit.daily import rollup_reports
from toolkit.goals import commune_goals, rank_by_completion
from toolkit.registry import Commune, Registry
from toolkit.templates import load_templates
from toolkit.workspace import Workspace

SHOPS = "Số cửa hàng số mở mới"
ACCOUNTS = "Số tài khoản thanh toán điện tử mở mới"
SPEC = next(s for s in load_templates(Path(__file__).parents[1] / "sheet_templates")
            if s.key == "kts_daily")
# Assigned in the registry: Đoàn Kết 10% of its 800 households with a shop (80), Tân Tiến
# (households unknown) 50 shops as a count, Ba Sơn 20% accounts; Thất Khê keeps the 50%.
ASSIGNED = {"06001": {"Chỉ tiêu: Hộ có cửa hàng số": "10%"},
            "06019": {"Chỉ tiêu: Hộ có cửa hàng số": 50},
            "06202": {"Chỉ tiêu: Hộ có tài khoản thanh toán điện tử": "0,2"}}
HOUSEHOLDS = {"06040": 1200, "06001": 800, "06019": None, "06202": 1500}


def oracle_goals(code: str) -> dict:
    """What the oracle asks of a commune, from ASSIGNED as the registry holds it."""
    own = {"Hộ có cửa hàng số": ("share", Fraction(1, 10))} if code == "06001" else \
        {"Hộ có cửa hàng số": ("count", 50)} if code == "06019" else \
        {"Hộ có tài khoản thanh toán điện tử": ("share", Fraction(1, 5))} if code == "06202" \
        else {}
    return {t.label: goal_of(HOUSEHOLDS[code], Fraction(str(t.threshold)), own.get(t.label))
            for t in SPEC.targets}


@pytest.fixture
def assigned_archive(province):
    """Two days of figures in a province with districts and assigned targets."""
    name_districts(province)
    assign_targets(province.parent / "registry.xlsx", ASSIGNED)
    run("provision", config=province, now="2026-11-20 08:00")
    typed = {"06040": {SHOPS: 30, ACCOUNTS: 20}, "06001": {SHOPS: 8, ACCOUNTS: 4},
             "06019": {SHOPS: 25, ACCOUNTS: 3}, "06202": {SHOPS: 30, ACCOUNTS: 60}}
    for code, values in typed.items():
        type_row(province, code, "Báo cáo ngày", date(2026, 11, 20), values,
                 at="2026-11-20 10:00")
    result = run("daily", config=province, now="2026-11-20 20:00")
    assert result.exit_code == 0, result.output
    return province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx"


def done_of(row: dict) -> dict:
    names = {t.label: SPEC.field_spec(t.numerator).header + " (lũy kế)" for t in SPEC.targets}
    return {label: row[header] or 0 for label, header in names.items()}


def test_progress_totals_and_the_thi_dua_ranking_use_each_communes_own_target(assigned_archive):
    book = load_workbook(assigned_archive)
    communes = commune_rows(book["Tổng hợp"])
    progress = {(r["Mã xã"], r["Chỉ tiêu"]): r for r in table_rows(book["Tiến độ chỉ tiêu"])}
    # Tân Tiến has no households, yet its count target of 50 shops is progress all the same.
    tan_tien = progress["06019", "Hộ có cửa hàng số"]
    assert (tan_tien["Mức chỉ tiêu"], tan_tien["Cần đạt"], tan_tien["Còn thiếu"]) == \
        ("50 (giao riêng)", 50, 25)
    assert tan_tien["Tỷ lệ hoàn thành chỉ tiêu"] == 0.5
    doan_ket = progress["06001", "Hộ có cửa hàng số"]
    assert (doan_ket["Mức chỉ tiêu"], doan_ket["Cần đạt"]) == ("10% số hộ (giao riêng)", 80)
    assert progress["06040", "Hộ có cửa hàng số"]["Mức chỉ tiêu"] == "50% số hộ"
    assert communes["06001"]["Hộ có cửa hàng số: tỷ lệ hoàn thành chỉ tiêu"] == 0.1
    assert communes["06001"]["Hộ có cửa hàng số: còn thiếu (hộ)"] == 72
    # The province's gap is the sum of the communes' goals less what they did.
    units = {code: {"district": row["Huyện (cũ)"], "done": done_of(row),
                    "goals": oracle_goals(code)} for code, row in communes.items()}
    province = total_rows(book["Tổng hợp"])[0]
    shop_goal = sum(u["goals"]["Hộ có cửa hàng số"] for u in units.values())
    assert province["Hộ có cửa hàng số: còn thiếu (hộ)"] == shop_goal - 30 - 8 - 25 - 30
    assert province["Hộ có cửa hàng số: tỷ lệ hoàn thành chỉ tiêu"] == \
        pytest.approx(float(Fraction(93) / shop_goal))
    # Communes, then districts, ranked as the independent model ranks them.
    names = {code: row["Xã/phường"] for code, row in communes.items()}
    expected = [names[c] for c in ranking({c: (u["done"], u["goals"]) for c, u in units.items()})]
    thi_dua = table_rows(book["Xếp hạng thi đua"])
    assert [r["Xã/phường"] for r in thi_dua] == expected
    assert [r["Hạng"] for r in thi_dua] == [1, 2, 3, 4]
    assert thi_dua[0]["Xã/phường"] == "Xã Tân Tiến"        # 25 of its 50: the best completion
    assert {r["Xã/phường"]: r["Xếp hạng thi đua"] for r in communes.values()} == \
        {r["Xã/phường"]: r["Hạng"] for r in thi_dua}
    districts = table_rows(book["Xếp hạng thi đua (huyện)"])
    assert [r["Huyện (cũ)"] for r in districts] == ranking(district_units(units))
    # Theo huyện: each district's completion is its communes' shops over their goals' sum.
    by_district = {r["Huyện (cũ)"]: r for r in table_rows(book["Theo huyện"])}
    for name, (done, goals) in district_units(units).items():
        assert by_district[name]["Hộ có cửa hàng số: tỷ lệ hoàn thành chỉ tiêu"] == \
            pytest.approx(float(done["Hộ có cửa hàng số"] / goals["Hộ có cửa hàng số"]))
    sheet = book["Xếp hạng thi đua"]
    assert any("Điểm thi đua = trung bình" in str(c.value) for c in sheet["A"][:6])


def test_without_assigned_targets_the_ranking_is_by_share_of_households(province):
    """A registry without the columns works to the template's threshold: completion is the
    share over 50%, so Xếp hạng orders as before."""
    run("provision", config=province, now="2026-11-20 08:00")
    type_row(province, "06040", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 60, ACCOUNTS: 1},
             at="2026-11-20 10:00")
    type_row(province, "06202", "Báo cáo ngày", date(2026, 11, 20), {SHOPS: 30, ACCOUNTS: 1},
             at="2026-11-20 10:00")
    assert run("daily", config=province, now="2026-11-20 20:00").exit_code == 0
    book = load_workbook(province.parent / "archive/kts_daily/2026/kts_daily_2026-11-20.xlsx")
    shops = [r for r in table_rows(book["Xếp hạng"]) if r["Chỉ tiêu"] == "Hộ có cửa hàng số"]
    assert [(r["Xã/phường"], r["Tỷ lệ hoàn thành chỉ tiêu"])
            for r in shops][:2] == [("Xã Thất Khê", pytest.approx(0.1)),
                                    ("Xã Ba Sơn", pytest.approx(0.04))]
    assert all(r["Mức chỉ tiêu"] == "50% số hộ" for r in shops)


share = st.fractions(min_value=Fraction(1, 100), max_value=1).map(
    lambda f: Fraction(round(f * 100), 100))
assigned = st.none() | st.tuples(st.just("share"), share) | \
    st.tuples(st.just("count"), st.integers(1, 300))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Huyện A", "Huyện B", "Huyện C"]),
                          st.none() | st.integers(1, 2000),
                          st.lists(st.integers(0, 400), min_size=3, max_size=3),
                          st.lists(assigned, min_size=3, max_size=3)),
                min_size=1, max_size=12))
def test_completion_and_ranking_match_the_independent_model(rows):
    """Generated communes: the toolkit's goals and thi đua order of communes and districts
    equal the model's."""
    communes = []
    for i, (district, households, _, own) in enumerate(rows):
        targets = tuple((t.label, o[0], float(o[1])) for t, o in zip(SPEC.targets, own,
                                                                       strict=True) if o)
        communes.append(Commune(f"{i:05d}", f"X{i}", "Xã", "T", district, households, (), (),
                                None, None, targets=targets))
    registry = Registry(Path("r.xlsx"), tuple(communes), ())
    codes = pd.Index([c.code for c in communes])
    households = pd.Series([c.households for c in communes], index=codes, dtype="Int64")
    frame = commune_goals(SPEC, registry, codes, households)
    units = {}
    for commune, (_, households_, done, own) in zip(communes, rows, strict=True):
        goals = {t.label: goal_of(households_, Fraction(str(t.threshold)), o)
                 for t, o in zip(SPEC.targets, own, strict=True)}
        units[commune.code] = {"district": commune.district, "done": dict(zip(
            (t.label for t in SPEC.targets), done, strict=True)), "goals": goals}
        for target in SPEC.targets:
            expected = goals[target.label]
            got = frame.loc[commune.code, f"goal_{target.key}"]
            assert (got != got) if expected is None else got == pytest.approx(float(expected))
    for target, column in zip(SPEC.targets, range(3), strict=True):
        frame[f"done_{target.key}"] = [r[2][column] for r in rows]
    rank_by_completion(SPEC, frame, list(codes))
    ranked = frame[frame["rank"].notna()].sort_values("rank").index.tolist()
    assert ranked == ranking({c: (u["done"], u["goals"]) for c, u in units.items()})
    records = []
    for district in sorted({c.district for c in communes}):
        members = frame[[c.district == district for c in communes]]
        record = {"area": district}
        for target in SPEC.targets:
            had = members[members[f"goal_{target.key}"].notna()]
            record[f"goal_{target.key}"] = had[f"goal_{target.key}"].sum() if len(had) else None
            record[f"done_{target.key}"] = had[f"done_{target.key}"].sum()
        records.append(record)
    areas = pd.DataFrame(records)
    rank_by_completion(SPEC, areas, areas["area"].tolist())
    assert areas[areas["rank"].notna()].sort_values("rank")["area"].tolist() == \
        ranking(district_units(units))


def test_the_model_breaks_ties_by_uncapped_completion_then_name():
    units = {"B": ({"t": 60}, {"t": Fraction(50)}), "A": ({"t": 50}, {"t": Fraction(50)}),
             "C": ({"t": 60}, {"t": Fraction(50)})}
    assert ranking(units) == ["B", "C", "A"]
    frame = pd.DataFrame({"done_t": [60, 50, 60], "goal_t": [50.0, 50.0, 50.0]},
                         index=["B", "A", "C"])
    rank_by_completion(replace(SPEC, targets=(replace(SPEC.targets[0], key="t"),)), frame,
                       ["B", "A", "C"])
    assert frame.sort_values("rank").index.tolist() == ["B", "C", "A"]


def test_the_google_rollup_ranks_by_the_assigned_targets_too(reported):  # noqa: F811
    """On Google Sheets: Thất Khê typed 12 shops; assigned 24 shops as a count, its
    completion is 50% in the rollup spreadsheet's Xếp hạng thi đua, as in the archive."""
    google = reported
    fake = google.fake
    target = fake.create_spreadsheet("Tổng hợp báo cáo xã", parent=google.google.folder_id)
    communes = tuple(replace(c, targets=(("Hộ có cửa hàng số", "count", 24.0),))
                     if c.code == "06040" else c for c in google.registry.communes)
    ws = workspace(google, target)
    ws = Workspace(ws.config, replace(ws.registry, communes=communes), ws.specs, ws.store,
                   ws.ledger)
    _, paths = rollup_reports(ws, START.date(), now=google.now())
    archive = load_workbook(next(p for p in paths if "kts_daily" in p.name))
    expected = [[c.value for c in r] for r in archive["Xếp hạng thi đua"].iter_rows()]
    width = len(expected[0])
    got = fake.values(target, f"'{DAILY}{SEPARATOR}Xếp hạng thi đua'!A1:{chr(64 + width)}20")
    header = expected.index(next(r for r in expected if r[0] == "Hạng"))
    assert got[header] == expected[header]
    first = dict(zip(got[header], got[header + 1], strict=False))
    assert first["Xã/phường"] == "Xã Thất Khê"
    assert first["Hộ có cửa hàng số: tỷ lệ hoàn thành chỉ tiêu"] == 0.5
    progress = table_rows(archive["Tiến độ chỉ tiêu"])
    that_khe = next(r for r in progress if r["Mã xã"] == "06040")
    assert (that_khe["Mức chỉ tiêu"], that_khe["Cần đạt"]) == ("24 (giao riêng)", 24)
