"""Postal enterprises: Viettel Post and the provincial post office (Bưu điện tỉnh).

Lạng Sơn's letter 1057/UBND-KGVX has them report beside the communes, and its guidance 1966
names each commune's Zalo group after the enterprise serving it (``KTS_KienMoc_DinhLap_Viettel``
or ``_Buudien``). A commune is served by one of them, so the registry says it in one column of
«Danh sách xã» ("Doanh nghiệp bưu chính": the enterprise's code), and the enterprises
themselves — who they are and whose e-mails edit their workbook — on a second sheet of the
same file, which the province office fills in once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from toolkit.known import and_list
from toolkit.parse import format_vn_number
from toolkit.registry import (
    _EMAIL,
    _header_key,
    _phone,
    _split,
    _text,
    fold,
)

SHEET = "Doanh nghiệp bưu chính"
#: The two kinds the letters name, and the ending of the Zalo group of a commune each serves.
KINDS = {"Viettel Post": "Viettel", "Bưu điện": "Buudien"}
# How officers write the kinds: "Bưu chính Viettel", "Chi nhánh Viettel Post", "VNPost"…
_KIND_WORDS = (("viettel", "Viettel Post"), ("buu dien", "Bưu điện"), ("vnpost", "Bưu điện"),
               ("vietnam post", "Bưu điện"))
# key, header, required
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "Mã doanh nghiệp", True),
    ("name", "Tên doanh nghiệp", True),
    ("kind", "Loại", True),
    ("editors", "Email người nhập liệu (ngăn cách bằng ;)", True),
    ("contact_name", "Người liên hệ", False),
    ("contact_phone", "Số điện thoại", False),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
_WHERE = f'trang "{SHEET}"'


@dataclass(frozen=True)
class Enterprise:
    code: str
    name: str
    kind: str                      # one of KINDS
    editors: tuple[str, ...]
    contact_name: str | None = None
    contact_phone: str | None = None

    @property
    def zalo_suffix(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Enterprises:
    """The enterprises sheet read: who they are, and every problem and warning, by row."""

    enterprises: tuple[Enterprise, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    def find(self, typed: str) -> Enterprise | None:
        """The enterprise a commune's cell names, by its code or its name as typed."""
        wanted = fold(typed)
        return next((e for e in self.enterprises if wanted in (fold(e.code), fold(e.name))),
                    None)


def read_enterprises(rows: list[tuple[Any, ...]] | None) -> Enterprises:
    """The «Doanh nghiệp bưu chính» sheet's rows (None: the file has no such sheet)."""
    if not rows:
        return Enterprises((), (), ())
    problems: list[str] = []
    header = [_header_key(t) if (t := _text(v)) else "" for v in rows[0]]
    index = {key: header.index(_header_key(h)) for key, h, _ in COLUMNS
             if _header_key(h) in header}
    for key, shown, required in COLUMNS:
        if required and key not in index:
            problems.append(f'{_WHERE}, dòng tiêu đề: thiếu cột "{shown}" — gõ lại tiêu đề các '
                            f"cột: {', '.join(HEADERS.values())}")
    if problems:
        return Enterprises((), tuple(problems), ())
    found: list[tuple[int, Enterprise]] = []
    for number, values in enumerate(rows[1:], start=2):
        cells = {key: _text(values[i]) if i < len(values) else None for key, i in index.items()}
        if not any(cells.values()):
            continue
        raw = {key: values[i] if i < len(values) else None for key, i in index.items()}
        enterprise = _enterprise(number, cells, raw, problems)
        if enterprise is not None:
            found.append((number, enterprise))
    codes: dict[str, list[int]] = {}
    for number, enterprise in found:
        codes.setdefault(fold(enterprise.code), []).append(number)
    for code, numbers in codes.items():
        if len(numbers) > 1:
            problems.append(f"{_WHERE}, dòng {and_list(map(str, numbers))}: mã doanh nghiệp "
                            f'"{code.upper()}" có trên {len(numbers)} dòng — mỗi doanh nghiệp '
                            "một mã riêng")
    return Enterprises(tuple(e for _, e in found), tuple(problems), ())


def _enterprise(number: int, cells: dict[str, str | None], raw: dict[str, Any],
                problems: list[str]) -> Enterprise | None:
    where = f"{_WHERE}, dòng {number}"
    before = len(problems)
    for key in ("code", "name", "kind"):
        if cells.get(key) is None:
            problems.append(f'{where}: "{HEADERS[key]}" đang trống — doanh nghiệp nào cũng cần '
                            f"{HEADERS[key].lower()}")
    code = cells.get("code")
    if code is not None and not re.search(r"[^\W\d_]", code):
        problems.append(f'{where}: mã doanh nghiệp "{code}" cần có chữ cái (ví dụ VTP, BDLS), '
                        "để không trùng với mã xã")
    kind = cells.get("kind")
    if kind is not None:
        kind = next((k for word, k in _KIND_WORDS if word in fold(kind)), None)
        if kind is None:
            problems.append(f'{where}: "{HEADERS["kind"]}" là "{cells["kind"]}" — gõ '
                            f"{' hoặc '.join(KINDS)}")
    editors = _split(cells.get("editors"), r"[;,\s]+")
    for email in editors:
        if not _EMAIL.fullmatch(email):
            problems.append(f'{where}: email người nhập liệu "{email}" không phải địa chỉ '
                            "email hợp lệ")
    if len(problems) > before:
        return None
    return Enterprise(code, cells["name"], kind, editors, cells.get("contact_name"),
                      _phone(raw.get("contact_phone")))


def served(communes: Iterable[tuple[int, Any]], found: Enterprises, header: str,
           problems: list[str], warnings: list[str]) -> dict[str, str]:
    """commune code → the code of the enterprise serving it, from «Danh sách xã»'s column.

    ``communes`` are (row, commune, as typed) triples; a cell naming no enterprise is a
    problem of that row, and an enterprise no commune names only a warning (it has nothing
    to report yet)."""
    codes = ", ".join(dict.fromkeys(e.code for e in found.enterprises))
    serving: dict[str, str] = {}
    # An enterprise's rows are keyed by the commune's name: two it serves may not share one.
    named: dict[tuple[str, str], int] = {}
    for number, commune, typed in communes:
        enterprise = found.find(typed)
        if enterprise is not None:
            serving[commune.code] = enterprise.code
            earlier = named.setdefault((enterprise.code, commune.display_name), number)
            if earlier != number:
                problems.append(
                    f"dòng {number}: {commune.display_name} trùng tên với xã ở dòng {earlier}, "
                    f"cùng do {enterprise.name} ({enterprise.code}) phụ trách — sổ của doanh "
                    "nghiệp ghi số liệu theo tên xã nên không phân biệt được hai xã; ghi thêm "
                    "tên huyện vào tên xã (ví dụ «Tân Thành (Hữu Lũng)») hoặc để doanh nghiệp "
                    "khác phụ trách một trong hai xã")
        elif not found.enterprises:
            problems.append(f'dòng {number}: "{header}" là "{typed}" nhưng tệp chưa có trang '
                            f'"{SHEET}" — thêm trang đó (cột {", ".join(HEADERS.values())}) '
                            "và ghi doanh nghiệp vào, hoặc xoá ô này")
        else:
            problems.append(f'dòng {number}: "{header}" là "{typed}", không phải mã doanh '
                            f'nghiệp nào trên trang "{SHEET}" — gõ một trong: {codes}')
    for enterprise in found.enterprises:
        if enterprise.code not in serving.values():
            warnings.append(f'{_WHERE}: {enterprise.name} ({enterprise.code}) chưa phục vụ xã '
                            f'nào — ghi mã {enterprise.code} vào cột "{header}" của các xã '
                            "doanh nghiệp phụ trách")
    return serving


def as_reporters(registry):
    """The enterprises as reporters, each like a commune with a workbook of its own.

    Provision, collect, status and remind run over ``registry.communes``; an enterprise
    template (``reporters = "enterprises"``) is run over this registry instead, whose
    "communes" are the enterprises: their editors edit the workbook, and their ``villages``
    are the communes each serves (display names, in registry order), the pre-filled rows of
    its keyed tab. An enterprise serving no commune has nothing to report and is left out.
    """
    from dataclasses import replace

    from toolkit.registry import ENTERPRISE_KIND, Commune

    province = registry.communes[0].province if registry.communes else ""
    reporters = []
    for enterprise in registry.enterprises:
        served = tuple(c.display_name for c in registry.communes
                       if c.postal == enterprise.code)
        if served:
            reporters.append(Commune(
                code=enterprise.code, name=enterprise.name, kind=ENTERPRISE_KIND,
                province=province, district=None, households=None, villages=served,
                editors=enterprise.editors, contact_name=enterprise.contact_name,
                contact_phone=enterprise.contact_phone))
    return replace(registry, communes=tuple(reporters), warnings=(), enterprises=())


def reporters_of(registry, spec):
    """Who reports ``spec``: the communes, or for an enterprise template the enterprises."""
    return as_reporters(registry) if spec.keyed else registry


def by_reporters(registry, specs) -> list:
    """(reporters, their templates) for each kind of reporter that has a template, communes
    first: a verb run once per pair gives communes only commune tabs, enterprises only theirs."""
    groups = [(registry, [s for s in specs if not s.keyed])]
    if any(s.keyed for s in specs):
        groups.append((as_reporters(registry), [s for s in specs if s.keyed]))
    return [(who, chosen) for who, chosen in groups if chosen]


#: The archive's tab setting each commune's own figures beside its enterprise's.
COMPARE_TAB = "Đối chiếu bưu chính"
#: A difference worth the province's look: the two figures, campaign to date, differ by more
#: than FLAG_SHARE of the larger one AND by more than FLAG_UNITS — small counts differ by a
#: shop or two from who counted first, and a large count by a few percent from rounding off.
FLAG_SHARE, FLAG_UNITS = 0.2, 5
FLAG_HEADER = "Chênh lệch lớn (lũy kế)"


def differs(commune: float, enterprise: float) -> bool:
    gap = abs(commune - enterprise)
    return gap > FLAG_UNITS and gap > FLAG_SHARE * max(abs(commune), abs(enterprise))


def comparison(spec, specs, registry, latest: dict, period: str):
    """One row per commune an enterprise serves: for each field of the enterprise template
    ``spec`` that reconciles with a commune's (``reconciles_with = "kts_daily.new_shops"``),
    the commune's figure and the enterprise's for the period and campaign to date, and the
    fields whose campaign-to-date figures differ (``differs``): compared to date, a shop the
    commune counts on Monday and the post office on Tuesday is no difference.

    ``latest``: report key → its latest rows (``frames.latest_rows``) as of the rollup's
    moment. Problem communes first, then in registry order."""
    import pandas as pd

    by_key = {s.key: s for s in specs}
    pairs = [(f, *f.reconciles_with.split(".")) for f in spec.fields
             if f.reconciles_with and f.reconciles_with.split(".")[0] in by_key
             and f.reconciles_with.split(".")[0] in latest]
    names = {c.display_name: c.code for c in registry.communes}
    own = latest[spec.key]
    own = own[own["period"] != "?"]
    own = own.assign(served=[names.get(str(k).partition("|")[2]) for k in own["row_key"]])

    def sums(rows, by: str, field: str):
        rows = rows[rows["period"] <= period]
        return (rows[rows["period"] == period].groupby(by)[field].sum(),
                rows.groupby(by)[field].sum())

    columns: dict[str, tuple] = {}
    for field, other, other_field in pairs:
        theirs = latest[other]
        columns[field.key] = (sums(theirs[theirs["period"] != "?"], "commune_code", other_field),
                              sums(own, "served", field.key))
    serving = {e.code: e.name for e in registry.enterprises}
    records = []
    for commune in registry.communes:
        if commune.postal not in serving:
            continue
        record = {"Mã xã": commune.code, "Xã, phường": commune.display_name,
                  "Doanh nghiệp": serving[commune.postal]}
        flagged = []
        for field, _, _ in pairs:
            (c_day, c_cum), (e_day, e_cum) = columns[field.key]
            values = [float(s.get(commune.code, 0)) for s in (c_day, e_day, c_cum, e_cum)]
            for label, value in zip(("xã, kỳ này", "doanh nghiệp, kỳ này", "xã, lũy kế",
                                     "doanh nghiệp, lũy kế"), values, strict=True):
                record[f"{field.header} — {label}"] = value
            if differs(values[2], values[3]):
                flagged.append(f"{field.header}: xã {format_vn_number(values[2])}, doanh "
                               f"nghiệp {format_vn_number(values[3])}")
        record[FLAG_HEADER] = "; ".join(flagged)
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    return frame.sort_values(FLAG_HEADER, key=lambda s: s == "", kind="stable") \
        .reset_index(drop=True)
