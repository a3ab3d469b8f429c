"""Roster checks on rosters typed the way communes type them, read through the real pipeline:
collect's parser → a SQLite ledger → the latest rows validate sees."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from toolkit.checks.rosters import (
    is_commune_chairman,
    is_village_head,
    roster_issues,
    village_finder,
)
from toolkit.collect import rows_from_grid
from toolkit.config import PACKAGED_TEMPLATES
from toolkit.errors import TemplateError
from toolkit.frames import latest_rows
from toolkit.ledger import Ledger
from toolkit.periods import VN_TZ
from toolkit.registry import Commune, Registry
from toolkit.templates import RosterSpec, load_template, parse_roster
from toolkit.validate import ISSUE_COLUMNS

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
TEAM = load_template(PACKAGED_TEMPLATES / "team_roster.toml")
COMMITTEE = load_template(PACKAGED_TEMPLATES / "committee_roster.toml")


def commune(code: str, name: str, *villages: str) -> Commune:
    return Commune(code, name, "Xã", "Lạng Sơn", None, 1000, villages, (), None, None)


THAT_KHE = commune("06040", "Thất Khê", "Thôn Nà Lầu", "Thôn Bản Chắt", "Thôn Pác Lũng",
                   "Thôn Khau Ràng")
TAN_TIEN = commune("06001", "Tân Tiến", "Thôn Đồng Tâm", "Thôn Tân Hội")
BINH_AN = commune("06019", "Tân Đoàn", "Thôn Bình An")
REGISTRY = Registry(Path("registry.xlsx"), (THAT_KHE, TAN_TIEN, BINH_AN), ())


def latest(folder: Path, spec, typed: dict[str, list[list]], villages=None):
    """Each commune's typed rows (from row 3) parsed by collect, stored and read back."""
    with Ledger(folder / "ledger.sqlite") as ledger:
        for code, cells in typed.items():
            known = (villages or {}).get(code) or REGISTRY.by_code()[code].villages
            grid = [[spec.title], spec.headers, *cells]
            ledger.record_fetch(code, fetched_at=NOW, modified_stamp="1", modified_at=NOW,
                                proven_at=NOW, rows=rows_from_grid(spec, grid, known, ()))
        return latest_rows(ledger.versions(spec.key), spec, NOW)


def found(issues: list[dict]) -> list[tuple[str, str, str, str]]:
    assert all(list(issue) == ISSUE_COLUMNS for issue in issues)
    return sorted((i["commune_code"], i["cell"], i["check"], i["level"]) for i in issues)


def by_cell(issues: list[dict], code: str, cell: str, check: str) -> dict:
    (issue,) = [i for i in issues if (i["commune_code"], i["cell"], i["check"]) ==
                (code, cell, "roster:" + check)]
    return issue


#                 village            full name          role          position         phone
MESSY_TEAMS = [
    ["Thôn Nà Lầu", "Hoàng Văn Páo", "Tổ trưởng", "Trưởng thôn", "0912 345 678"],      # 3
    ["Thôn Nà Lầu", "Lâm Thị Loan", "Thành viên", None, "0912000001"],                # 4
    ["Thôn Nà Lầu", "Chu Thị Hợp", "Tổ phó", "Bí thư chi đoàn", None],                # 5
    ["thon na lau", "HOANG VAN PAO", "thành viên", None, "+84 912 345 678"],          # 6 twice
    ["Thôn Bản Chắt", "Đặng Văn Bội", "Tổ trưởng", "Phó trưởng thôn", "0987 654 321"],  # 7
    ["Thôn Bản Chắt", "Đặng Thị Hiệu", "Thành viên", None, 912000001],                # 8 = row 4
    ["Pác Lũng", "Lý Văn Trung", "Tổ trưởng", "Trưởng thôn", None],                   # 9 pasted
    ["Thôn Pác Lũng", "Lý Thanh Hoa", "Tổ trưởng", None, None],                       # 10
    ["Thôn Pác Lũng", "Lý Văn Tới", "Thành viên", None, None],                        # 11
    ["Thôn Cũ", "Nguyễn Văn Định", "Tổ trưởng", "Trưởng thôn", None],                 # 12 renamed
    ["Thôn Không Có", "Trần Văn Bình", "Thành viên", None, None],                     # 13 pasted
    [None, None, None, None, None, "chỉ có ghi chú"],                                 # 14
]
CLEAN_TEAMS = [
    ["Thôn Đồng Tâm", "Vi Thị Ánh", "Tổ trưởng", "truong thon", "0987654321"],
    ["Thôn Đồng Tâm", "Dương Quốc Anh", "Thành viên", None, None],
    ["Thôn Đồng Tâm", "Nông Thị Hợi", "Tổ phó", "Bí thư chi đoàn", None],
    ["Thôn Tân Hội", "Hứa Văn Ngân", "Tổ Trưởng", "Bí thư chi bộ, Trưởng thôn", None],
    ["Thôn Tân Hội", "Chu Thị Chiều", "Thành viên", "TB CTMT", None],
    # Two people of the same name: different phones, so not a repeat.
    ["Thôn Tân Hội", "Trương Văn Thọ", "Thành viên", None, "0911 111 111"],
    ["Thôn Tân Hội", "Trương Văn Thọ", "Thành viên", None, "0922 222 222"],
]


def test_a_messy_team_roster_gives_every_team_finding(tmp_path):
    # The roster was typed while "Thôn Cũ" was still in the village list.
    rows = latest(tmp_path, TEAM, {"06040": MESSY_TEAMS, "06001": CLEAN_TEAMS},
                  villages={"06040": THAT_KHE.villages + ("Thôn Cũ",)})
    issues = roster_issues(TEAM, REGISTRY, rows)
    assert found(issues) == [
        ("06001", "E3", "roster:phone_shared", "warning"),
        ("06040", "", "roster:team_missing", "error"),
        ("06040", "A12", "roster:unknown_village", "error"),
        ("06040", "A7", "roster:team_size", "error"),
        ("06040", "B6", "roster:duplicate_person", "warning"),
        ("06040", "C10", "roster:team_leader", "error"),
        ("06040", "C9", "roster:team_leader", "error"),
        ("06040", "D7", "roster:leader_not_village_head", "warning"),
        ("06040", "E4", "roster:phone_shared", "warning"),
        ("06040", "E7", "roster:phone_shared", "warning"),
        ("06040", "E8", "roster:phone_shared", "warning"),
    ]
    missing = by_cell(issues, "06040", "", "team_missing")
    assert missing | {"fix": ""} == {
        "commune_code": "06040", "commune": "Xã Thất Khê", "report": "team_roster",
        "period": "once", "tab": "Tổ CNSCĐ", "cell": "", "value": "",
        "check": "roster:team_missing", "level": "error",
        "message": "1/4 thôn chưa có Tổ công nghệ số cộng đồng: Thôn Khau Ràng.", "fix": ""}
    assert by_cell(issues, "06040", "A7", "team_size")["message"] == (
        "Tổ Thôn Bản Chắt mới có 2 người (dòng 7, 8); mỗi tổ cần ít nhất 3 người.")
    assert by_cell(issues, "06040", "C9", "team_leader")["message"] == (
        "Tổ Thôn Pác Lũng có 2 Tổ trưởng (dòng 9, 10); chỉ được có một Tổ trưởng.")
    head = by_cell(issues, "06040", "D7", "leader_not_village_head")
    assert head["value"] == "Phó trưởng thôn"
    assert head["message"].startswith('Tổ trưởng tổ Thôn Bản Chắt (Đặng Văn Bội) chức vụ ghi là '
                                      '"Phó trưởng thôn"')
    assert by_cell(issues, "06040", "B6", "duplicate_person")["message"] == (
        "HOANG VAN PAO có tên hai lần trong tổ Thôn Nà Lầu (dòng 3 và 6).")
    assert by_cell(issues, "06040", "A12", "unknown_village")["value"] == "Thôn Cũ"
    # Phones are compared normalised: 912000001 typed as a number is 0912000001.
    assert by_cell(issues, "06040", "E8", "phone_shared")["message"] == (
        "Số điện thoại của Đặng Thị Hiệu cũng có ở tổ Thôn Nà Lầu (dòng 4).")
    assert by_cell(issues, "06040", "E7", "phone_shared")["message"] == (
        "Số điện thoại của Đặng Văn Bội cũng có ở danh sách của Xã Tân Tiến.")
    assert by_cell(issues, "06001", "E3", "phone_shared")["value"] == "0987654321"


def test_pasted_villages_are_left_to_the_format_check(tmp_path):
    rows = latest(tmp_path, TEAM, {"06040": MESSY_TEAMS})
    # "Pác Lũng" (no "Thôn") and "Thôn Không Có" did not parse: collect kept them as problems,
    # which validate reports as "format" errors. The first still counts in its village's team.
    assert rows.loc[rows["sheet_row"] == 9, "problems"].item()["village"][0] == "Pác Lũng"
    issues = roster_issues(TEAM, REGISTRY, rows)
    assert not [i for i in issues if i["cell"] in ("A9", "A13")]
    assert "Thôn Pác Lũng" not in by_cell(issues, "06040", "", "team_missing")["message"]


def test_clean_rosters_give_no_issues(tmp_path):
    teams = latest(tmp_path / "teams", TEAM, {"06001": CLEAN_TEAMS})
    assert roster_issues(TEAM, REGISTRY, teams) == []
    committee = latest(tmp_path / "committee", COMMITTEE, {"06001": [
        ["Vi Văn Sơn", "Trưởng ban", "Chủ tịch UBND xã", None, "0912 345 678"],
        ["Hứa Thị Chia", "Phó Trưởng ban", "Phó Chủ tịch UBND xã", "Thôn Đồng Tâm", None],
        ["Lý Văn Tới", "Thành viên", "Chủ tịch Hội Nông dân xã", "Tân Hội", None],
    ]})
    assert roster_issues(COMMITTEE, REGISTRY, committee) == []


def test_phones_are_compared_with_rosters_of_other_communes(tmp_path):
    teams = latest(tmp_path / "here", TEAM, {"06001": CLEAN_TEAMS})
    other = latest(tmp_path / "there", TEAM, {"06019": [
        ["Thôn Bình An", "Vi Thị Ánh", "Tổ trưởng", "Trưởng thôn", "+84987654321"]]})
    issues = roster_issues(TEAM, REGISTRY, teams, all_rosters={"08123": other})
    assert found(issues) == [("06001", "E3", "roster:phone_shared", "warning")]
    assert issues[0]["message"] == (
        "Số điện thoại của Vi Thị Ánh cũng có ở danh sách của xã mã 08123.")


def test_a_messy_committee_gives_every_committee_finding(tmp_path):
    rows = latest(tmp_path, COMMITTEE, {
        "06040": [  # name, BCĐ role, position, villages in charge, phone
            ["Hoàng Văn Cảnh", "Trưởng ban", "Phó Chủ tịch UBND xã", None, None],
            ["Nông Thị Bình", "Phó Trưởng ban", "Phó Chủ tịch UBND xã", None, None],
            ["Lê Văn Chinh", "Thành viên", "Chủ tịch MTTQ xã", "Thôn Nà Lầu; Bản Chắt", None],
            ["Lê Thị Hà", "Thành viên", "Bí thư Đoàn xã", "thôn nà lầu, Thôn Phai Xả", None],
        ],
        "06001": [
            ["Vi Văn Sơn", "Trưởng ban", "Chủ tịch UBND xã", "Thôn Đồng Tâm", None],
            ["Hứa Thị Chia", "Trưởng ban", "Chủ tịch HĐND xã", "Thôn Tân Hội", None],
        ],
        "06019": [["Lý Văn Tới", "Thành viên", "Công chức văn hoá xã", "Bình An", None]],
    })
    issues = roster_issues(COMMITTEE, REGISTRY, rows)
    assert found(issues) == [
        ("06001", "B3", "roster:committee_head", "error"),
        ("06001", "B4", "roster:committee_head", "error"),
        ("06019", "B3", "roster:committee_head", "error"),
        ("06040", "", "roster:village_uncovered", "error"),
        ("06040", "C3", "roster:head_not_chairman", "error"),
        ("06040", "D6", "roster:unknown_village", "error"),
        ("06040", "D6", "roster:village_shared", "warning"),
    ]
    no_head = by_cell(issues, "06019", "B3", "committee_head")
    assert (no_head["message"], no_head["fix"]) == (
        "Ban chỉ đạo chưa có Trưởng ban.",
        'Chọn "Trưởng ban" ở cột "Chức vụ trong Ban chỉ đạo" trên dòng của Chủ tịch UBND xã.')
    assert by_cell(issues, "06040", "C3", "head_not_chairman")["message"] == (
        'Trưởng ban (Hoàng Văn Cảnh) chức vụ ghi là "Phó Chủ tịch UBND xã"; Trưởng ban phải '
        "là Chủ tịch UBND xã, không giao cho Phó Chủ tịch.")
    assert by_cell(issues, "06040", "", "village_uncovered")["message"] == (
        "2/4 thôn chưa có thành viên Ban chỉ đạo phụ trách: Thôn Pác Lũng, Thôn Khau Ràng.")
    shared = by_cell(issues, "06040", "D6", "village_shared")
    assert shared["message"] == ("Thôn Nà Lầu được phân công cho 2 thành viên: "
                                 "Lê Văn Chinh (dòng 5), Lê Thị Hà (dòng 6).")
    unknown = by_cell(issues, "06040", "D6", "unknown_village")
    assert unknown["value"] == "thôn nà lầu, Thôn Phai Xả"
    assert unknown["message"] == ('Không có thôn "Thôn Phai Xả" trong danh sách thôn của xã '
                                  "(trang Danh mục).")


def test_reports_without_a_roster_table_and_empty_rosters_give_nothing(tmp_path):
    daily = load_template(PACKAGED_TEMPLATES / "kts_daily.toml")
    rows = latest(tmp_path, TEAM, {"06040": MESSY_TEAMS[:1]})
    assert roster_issues(daily, REGISTRY, rows) == []
    assert roster_issues(TEAM, REGISTRY, rows.iloc[0:0]) == []


# the templates -------------------------------------------------------------------------------

def test_the_committee_template_loads():
    assert (COMMITTEE.key, COMMITTEE.tab, COMMITTEE.period) == (
        "committee_roster", "BCĐ CĐS", "once")
    assert COMMITTEE.required_keys == ["full_name", "committee_role"]
    assert COMMITTEE.field_spec("committee_role").choices == (
        "Trưởng ban", "Phó Trưởng ban", "Ủy viên")
    # The words commune decisions use are accepted and stored as the choice.
    aliases = COMMITTEE.field_spec("committee_role").aliases
    assert ("Phó ban", "Phó Trưởng ban") in aliases and ("Thành viên", "Ủy viên") in aliases
    assert COMMITTEE.field_spec("phone").private
    assert COMMITTEE.deadline.for_key("once").isoformat() == "2026-12-15T17:00:00+07:00"


def test_roster_tables_declare_the_fields_the_checks_read():
    problems: list[str] = []
    assert parse_roster({"kind": "committee", "name": "full_name", "role": "committee_role",
                         "position": "position", "villages": "villages_in_charge",
                         "phone": "phone", "leader": "Trưởng ban"},
                        COMMITTEE.fields, problems) == RosterSpec(
        "committee", "full_name", "committee_role", "Trưởng ban",
        villages="villages_in_charge", position="position", phone="phone")
    assert problems == []
    parse_roster({"kind": "team", "name": "nom", "role": "team_role", "village": "phone",
                  "leader": "Trưởng tổ", "colour": "red", "min_members": 0},
                 TEAM.fields, problems)
    assert problems == [
        "[roster]: name = 'nom' không phải một trường của mẫu này",
        "[roster]: village = 'phone' là trường phone; phải là choice hoặc text",
        '[roster]: colour không phải thiết lập đã biết khi kind = "team"',
        "[roster]: leader 'Trưởng tổ' phải là vai trò của tổ trưởng, một trong "
        "Tổ trưởng, Tổ phó, Tổ viên",
        "[roster]: min_members 0 phải là số nguyên ≥ 1",
    ]


def test_a_broken_roster_table_names_the_file(tmp_path):
    path = tmp_path / "team_roster.toml"
    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('kind = "team"', 'kind = "teams"'), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"(?s)team_roster.toml: .*kind 'teams' phải là"):
        spec = load_template(path)
        roster_issues(spec, REGISTRY, latest(tmp_path, spec, {"06040": MESSY_TEAMS[:1]}))


# the Vietnamese the checks read --------------------------------------------------------------

@pytest.mark.parametrize("position, head", [
    ("Trưởng thôn", True), ("truong thon", True), ("Bí thư chi bộ kiêm Trưởng thôn", True),
    ("Trưởng bản", True), ("truong ban", True), ("Tổ trưởng tổ dân phố", True),
    ("Tổ trưởng TDP số 3", True), ("Trưởng khối", True), ("Trưởng ấp", True),
    ("Trưởng bon", True),
    ("Phó trưởng thôn", False), ("Phó  Trưởng  thôn", False), ("Tổ trưởng", False),
    ("Trưởng ban công tác Mặt trận", False), ("truong ban cong tac mat tran", False),
    ("Bí thư Đoàn xã", False), ("", False), (None, False),
])
def test_village_head(position, head):
    assert is_village_head(position) is head


@pytest.mark.parametrize("position, chairman", [
    ("Chủ tịch UBND xã", True), ("CT UBND xã", True), ("Chủ tịch xã", True),
    ("chu tich ubnd phuong", True), ("Chủ tịch Ủy ban nhân dân xã Yên Hòa", True),
    ("Bí thư Đảng ủy, Chủ tịch UBND xã", True), ("Chủ tịch UBND", True),
    ("Chủ tịch UBND đặc khu", True),
    ("Phó Chủ tịch UBND xã", False), ("PCT UBND xã", False), ("Chủ tịch HĐND xã", False),
    ("Chủ tịch MTTQ xã", False), ("Chủ tịch UBND huyện", False), ("", False), (None, False),
])
def test_commune_chairman(position, chairman):
    assert is_commune_chairman(position) is chairman


def test_village_names_match_without_case_diacritics_or_the_unit_word():
    find = village_finder(["Thôn Nà Lầu", "Thôn Bản Chắt", "Thôn 5", "Xóm 5"])
    assert [find(t) for t in ("thon na lau", "Nà Lầu", "Bản Chắt", "phụ trách thôn Nà Lầu",
                              "5", "Nà Pàn")] == [
        "Thôn Nà Lầu", "Thôn Nà Lầu", "Thôn Bản Chắt", "Thôn Nà Lầu", None, None]
