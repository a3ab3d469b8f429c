"""Roster checks: the commune's steering committee (BCĐ) and its village teams (Tổ CNSCĐ).

The rules are the domain guidance's: one team per village, at least 3 people, one leader who
is the village head (Hà Trung; Lạng Sơn's lesson that a busy Youth Union secretary cannot lead
a team); the BCĐ is headed by the commune chairman, never delegated to a deputy, and every
village has a member in charge (Yên Hòa model). A template opts in with a ``[roster]`` table
naming the fields these checks read (``templates.RosterSpec``); see
``sheet_templates/team_roster.toml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from toolkit.checks import issue
from toolkit.layout import a1
from toolkit.ledger import Problem
from toolkit.parse import parse_cell, strip_diacritics
from toolkit.templates import ReportSpec, RosterSpec

if TYPE_CHECKING:
    import pandas as pd


_SPACES = re.compile(r"\s+")
_NORMAL_PHONE = re.compile(r"0[0-9]{9}")       # what parse_cell(..., "phone") returns
_fold = lru_cache(maxsize=1024)(strip_diacritics)   # for the few distinct role values
# Words naming a village unit, without diacritics, longest first so "khu pho" wins over "khu".
_UNITS = ("to dan pho", "khu dan cu", "tieu khu", "khu pho", "thon", "xom", "ap", "lang",
          "buon", "bon", "plei", "soc", "phum", "khoi", "khu")
_UNIT = "|".join(_UNITS)
# "Phó trưởng thôn" (a deputy, in the Gia Cát list) and "Phó Chủ tịch" must not pass.
_VILLAGE_HEAD = re.compile(rf"(?<!pho )\b(truong ({_UNIT})|to truong (to dan pho|tdp))\b")
# "Trưởng bản" and "Trưởng ban công tác Mặt trận" are the same words without diacritics.
_BAN_HEAD = re.compile(r"(?<!phó )\btrưởng bản\b")
_BAN_HEAD_BARE = re.compile(r"(?<!pho )\btruong ban\b(?! (cong tac|mat tran|chi dao|thanh tra))")
_LEVEL = r"(xa|phuong|thi tran|dac khu)"
_CHAIRMAN = re.compile(
    rf"(?<!pho )\b(chu tich|ct) ((ubnd|uy ban nhan dan)( {_LEVEL}\b|(?=$|[,;.(-]))|{_LEVEL}\b)")
# What people put before a village name: "Phụ trách thôn Nà Lầu", "Bản Chắt", "Tổ 5".
_VILLAGE_WORDS = re.compile(rf"^(phu trach )?({_UNIT}|ban|tdp|to)\.? ")


def roster_spec(spec: ReportSpec) -> RosterSpec | None:
    """The roster declaration of ``spec``, or None when the template has none."""
    return spec.roster


def is_village_head(position: str | None) -> bool:
    """Trưởng thôn/bản/xóm/ấp/khối…, Tổ trưởng tổ dân phố; not a deputy (Phó trưởng thôn)."""
    if not position:
        return False
    key = strip_diacritics(position)
    typed = _SPACES.sub(" ", unicodedata.normalize("NFC", position).lower()).strip()
    bare = key == typed                                # typed without any diacritics
    return bool(_VILLAGE_HEAD.search(key) or _BAN_HEAD.search(typed)
                or (bare and _BAN_HEAD_BARE.search(key)))


def is_commune_chairman(position: str | None) -> bool:
    """Chủ tịch UBND xã/phường/thị trấn/đặc khu (also "CT UBND xã"); not Phó Chủ tịch, not HĐND."""
    return bool(position) and bool(_CHAIRMAN.search(strip_diacritics(position)))


def village_finder(villages: Iterable[str]) -> Callable[[str], str | None]:
    """Typed village → its registry spelling, ignoring case, diacritics and a leading "Thôn"."""
    exact = {strip_diacritics(v): v for v in villages}
    loose: dict[str, set[str]] = {}
    for key, village in exact.items():
        for variant in (key, _VILLAGE_WORDS.sub("", key)):
            loose.setdefault(variant, set()).add(village)

    @lru_cache(maxsize=256)
    def find(text: str) -> str | None:
        key = strip_diacritics(text)
        if key in exact:
            return exact[key]
        found = loose.get(key, set()) | loose.get(_VILLAGE_WORDS.sub("", key), set())
        return found.pop() if len(found) == 1 else None    # "Thôn 5" or "Xóm 5"? neither
    return find


@dataclass(frozen=True)
class _Member:
    commune_code: str
    period: str
    row: int
    name: str
    name_key: str              # the name without case and diacritics
    role: str                  # the role without case and diacritics, "" when empty
    position: str | None
    phone: str | None
    village: str | None        # team: the registry spelling of the member's village
    villages: str | None       # committee: the villages-in-charge cell as typed


class _Issues(list):
    """Issue rows shaped like validate.ISSUE_COLUMNS, for one report."""

    def __init__(self, spec: ReportSpec, communes: dict):
        super().__init__()
        self.spec, self.communes = spec, communes
        self.columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}

    def header(self, key: str) -> str:
        return self.spec.field_spec(key).header

    def add(self, member: _Member, key: str | None, value, check: str, level: str,
            message: str, fix: str) -> None:
        """A finding on ``member``'s cell of field ``key``; ``key`` None: the whole commune."""
        commune = self.communes[member.commune_code]
        self.append(issue(self.spec, commune.code, commune.display_name, member.period,
                          a1(member.row, self.columns[key]) if key else "",
                          "" if value is None else str(value), f"roster:{check}", level,
                          message, fix))


def roster_issues(spec: ReportSpec, registry, rows: pd.DataFrame,
                  all_rosters: dict[str, pd.DataFrame] | None = None) -> list[dict]:
    """Roster findings for the communes in ``rows`` (``frames.latest_rows`` of ``spec``).

    Only communes of the registry that typed at least one member are checked; a roster not
    sent at all is the "missing" check's business. ``all_rosters`` ({commune code: rows of this
    report}) widens the shared-phone check to communes not in ``rows``.
    """
    roster = roster_spec(spec)
    if roster is None or rows.empty:
        return []
    communes = registry.by_code()
    issues = _Issues(spec, communes)
    members: list[_Member] = []
    for code, records in _records(rows, roster).items():
        if code not in communes:
            continue
        find = village_finder(communes[code].villages)
        mine = _members(records, roster, find, issues)
        if roster.kind == "team":
            _team_checks(mine, communes[code].villages, roster, issues)
        else:
            _committee_checks(mine, communes[code].villages, roster, find, issues)
        members += mine
    if roster.kind == "team" and roster.phone:
        _shared_phones(members, roster, all_rosters or {}, communes, issues)
    return list(issues)


def _records(rows: pd.DataFrame, roster: RosterSpec) -> dict[str, list[dict]]:
    """The columns the checks read as plain dicts, by commune in sheet order (a national roster
    goes several times faster than with DataFrame.to_dict)."""
    fields = [k for k in (roster.name, roster.role, roster.village, roster.villages,
                          roster.position, roster.phone) if k]
    columns = ["commune_code", "period", "sheet_row", "problems", *fields]
    table = rows.sort_values(["commune_code", "sheet_row"])
    by_commune: dict[str, list[dict]] = {}
    for values in zip(*(table[c].tolist() for c in columns), strict=True):
        by_commune.setdefault(values[0], []).append(dict(zip(columns, values, strict=True)))
    return by_commune


def _text(value) -> str | None:
    if value is None or value != value:        # None or NaN
        return None
    return str(value).strip() or None


def _cell(record: dict, key: str | None) -> str | None:
    return _text(record[key]) if key else None


def _phone(value) -> str | None:
    text = _text(value)
    return text if text and _NORMAL_PHONE.fullmatch(text) else parse_cell(text, "phone").value


def _members(records: list[dict], roster: RosterSpec, find, issues: _Issues) -> list[_Member]:
    """Named rows as members; a stored village the registry no longer lists is an error here.

    A pasted village that did not parse is already a "format" error; it still places the member
    in a team when it names a registry village loosely ("Nà Lầu" for "Thôn Nà Lầu").
    """
    members = []
    for record in records:
        if (name := _cell(record, roster.name)) is None:
            continue
        stored = _cell(record, roster.village)
        problem = record["problems"].get(roster.village) if roster.village else None
        pasted = Problem.of(problem).raw if problem else None
        member = _Member(record["commune_code"], record["period"], int(record["sheet_row"]),
                         name, strip_diacritics(name), _fold(_cell(record, roster.role) or ""),
                         _cell(record, roster.position), _phone(_cell(record, roster.phone)),
                         find(stored or pasted or ""), _cell(record, roster.villages))
        if stored and member.village is None:
            issues.add(member, roster.village, stored, "unknown_village", "error",
                       f'Thôn "{stored}" không có trong danh sách thôn của xã.',
                       "Chọn thôn trong danh sách thả xuống; nếu thôn đã đổi tên hoặc sáp nhập, "
                       "báo Sở cập nhật danh sách thôn.")
        members.append(member)
    return members


def _rows(members: Iterable[_Member]) -> str:
    return ", ".join(str(m.row) for m in members)


def _said(member: _Member) -> str:
    return f'chức vụ ghi là "{member.position}"' if member.position else "chưa ghi chức vụ"


def _team_checks(members: list[_Member], villages: tuple[str, ...], roster: RosterSpec,
                 issues: _Issues) -> None:
    teams: dict[str, list[_Member]] = {}
    for member in members:
        if member.village:
            teams.setdefault(member.village, []).append(member)
    missing = [v for v in villages if v not in teams]
    if missing and members:
        issues.add(members[0], None, None, "team_missing", "error",
                   f"{len(missing)}/{len(villages)} thôn chưa có Tổ công nghệ số cộng đồng: "
                   f"{', '.join(missing)}.",
                   "Mỗi thôn lập một tổ: thêm các thành viên của tổ (trưởng thôn làm Tổ trưởng "
                   f"và ít nhất {roster.min_members - 1} người khác), mỗi người một dòng.")
    for village, team in teams.items():
        people = _without_duplicates(team, village, roster, issues)
        if len(people) < roster.min_members:
            issues.add(people[0], roster.village, len(people), "team_size", "error",
                       f"Tổ {village} mới có {len(people)} người (dòng {_rows(people)}); mỗi tổ "
                       f"cần ít nhất {roster.min_members} người.",
                       "Bổ sung thành viên cho tổ, mỗi người một dòng.")
        head = _the_leader(people, f"Tổ {village}", "trưởng thôn", "team_leader", roster, issues)
        if head and roster.position and not is_village_head(head.position):
            issues.add(head, roster.position, head.position, "leader_not_village_head",
                       "warning",
                       f"{roster.leader} tổ {village} ({head.name}) {_said(head)}; theo hướng dẫn, "
                       f"{roster.leader} là trưởng thôn (bản, tổ dân phố).",
                       "Ghi đúng chức vụ (ví dụ \"Trưởng thôn\"); nếu xã chọn người khác, "
                       "ghi lý do ở cột Ghi chú.")


def _the_leader(people: list[_Member], group: str, who: str, check: str, roster: RosterSpec,
                issues: _Issues) -> _Member | None:
    """The one leader of a team or committee; none or several is an error on the role cells."""
    leaders = [m for m in people if m.role == _fold(roster.leader)]
    if not leaders:
        issues.add(people[0], roster.role, None, check, "error",
                   f"{group} chưa có {roster.leader}.",
                   f'Chọn "{roster.leader}" ở cột "{issues.header(roster.role)}" trên dòng '
                   f"của {who}.")
    for member in leaders if len(leaders) > 1 else ():
        issues.add(member, roster.role, roster.leader, check, "error",
                   f"{group} có {len(leaders)} {roster.leader} (dòng {_rows(leaders)}); chỉ "
                   f"được có một {roster.leader}.",
                   f"Giữ một {roster.leader} ({who}); đổi vai trò của những người còn lại.")
    return leaders[0] if len(leaders) == 1 else None


def _without_duplicates(team: list[_Member], village: str, roster: RosterSpec,
                        issues: _Issues) -> list[_Member]:
    """The team with repeated people removed: same name, same phone (or a phone missing)."""
    people: list[_Member] = []
    for member in team:
        first = next((p for p in people if p.name_key == member.name_key and (
            not p.phone or not member.phone or p.phone == member.phone)), None)
        if first is None:
            people.append(member)
            continue
        issues.add(member, roster.name, member.name, "duplicate_person", "warning",
                   f"{member.name} có tên hai lần trong tổ {village} (dòng {first.row} và "
                   f"{member.row}).",
                   "Xoá dòng lặp lại; nếu là hai người trùng tên, ghi số điện thoại của từng "
                   "người.")
    return people


def _committee_checks(members: list[_Member], villages: tuple[str, ...], roster: RosterSpec,
                      find, issues: _Issues) -> None:
    if not members:
        return
    head = _the_leader(members, "Ban chỉ đạo", "Chủ tịch UBND xã", "committee_head", roster,
                       issues)
    if head and roster.position and not is_commune_chairman(head.position):
        issues.add(head, roster.position, head.position, "head_not_chairman", "error",
                   f"{roster.leader} ({head.name}) {_said(head)}; {roster.leader} phải là Chủ tịch "
                   "UBND xã, không giao cho Phó Chủ tịch.",
                   f'Đưa Chủ tịch UBND xã vào làm {roster.leader} và ghi chức vụ "Chủ tịch UBND '
                   'xã"; Phó Chủ tịch làm Phó Trưởng ban.')
    assigned: dict[str, list[_Member]] = {}
    for member in members:
        names = [t.strip() for t in re.split(r"[;,\n]+", member.villages or "") if t.strip()]
        found = [(name, find(name)) for name in names]
        if unknown := [name for name, village in found if village is None]:
            issues.add(member, roster.villages, member.villages, "unknown_village", "error",
                       "Không có thôn " + ", ".join(f'"{n}"' for n in unknown)
                       + " trong danh sách thôn của xã (trang Danh mục).",
                       "Chỉ ghi tên thôn như trong danh sách, ngăn cách bằng dấu chấm phẩy; "
                       "thôn mới hoặc đổi tên thì báo Sở cập nhật.")
        for village in dict.fromkeys(v for _, v in found if v):
            assigned.setdefault(village, []).append(member)
    if uncovered := [v for v in villages if v not in assigned]:
        issues.add(members[0], None, None, "village_uncovered", "error",
                   f"{len(uncovered)}/{len(villages)} thôn chưa có thành viên Ban chỉ đạo "
                   f"phụ trách: {', '.join(uncovered)}.",
                   "Phân công mỗi thôn cho một thành viên: ghi tên thôn ở cột "
                   f'"{issues.header(roster.villages)}".')
    for village, owners in assigned.items():
        for member in owners[1:]:
            issues.add(member, roster.villages, member.villages, "village_shared", "warning",
                       f"{village} được phân công cho {len(owners)} thành viên: "
                       f"{', '.join(f'{m.name} (dòng {m.row})' for m in owners)}.",
                       "Nếu không cố ý, giữ mỗi thôn cho một thành viên phụ trách.")


def _shared_phones(members: list[_Member], roster: RosterSpec,
                   all_rosters: dict[str, pd.DataFrame], communes: dict,
                   issues: _Issues) -> None:
    """The same phone in two teams of a commune, or in two communes' rosters."""
    seen: dict[str, list[tuple[str, str | None, int]]] = {}
    for m in members:
        if m.phone:
            seen.setdefault(m.phone, []).append((m.commune_code, m.village, m.row))
    checked = {m.commune_code for m in members}
    for code, frame in all_rosters.items():
        if code in checked or frame.empty:
            continue
        for phone, row in zip(frame[roster.phone].map(_phone), frame["sheet_row"], strict=True):
            if phone:
                seen.setdefault(phone, []).append((code, None, int(row)))
    for m in members:
        elsewhere = [(code, village, row) for code, village, row in seen.get(m.phone or "", [])
                     if code != m.commune_code or (village and m.village and village != m.village)]
        if not elsewhere:
            continue
        places = list(dict.fromkeys(
            f"tổ {village} (dòng {row})" if code == m.commune_code else
            f"danh sách của {communes[code].display_name if code in communes else f'xã mã {code}'}"
            for code, village, row in elsewhere))
        more = f" và {len(places) - 3} nơi khác" if len(places) > 3 else ""
        issues.add(m, roster.phone, m.phone, "phone_shared", "warning",
                   f"Số điện thoại của {m.name} cũng có ở {'; '.join(places[:3])}{more}.",
                   "Sửa nếu nhập nhầm; mỗi người chỉ nên ở một tổ.")
