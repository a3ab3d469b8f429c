"""Communes merged in the July 2025 reform (about 10,600 communes became 3,321): the table from
pre-2025 commune codes to 2025 ones, which lets `toolkit init` turn an old registry into a 2025
one and lets the rollup show a series begun under old codes under the commune that now holds
them.

The table is the one the province supplies (the official transition list, or its own): no
maintained package ships old → new commune codes. vietnam-provinces, which gives us the 2025
units, lists only those; vietnamadminunits converts addresses by name keys and gives a split
commune's new wards without the share each received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import FileProblems, RegistryError, ToolkitError
from toolkit.parse import format_vn_number
from toolkit.registry import KINDS, Commune, fold

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.registry import Registry

# key, header as the province's table names it, required
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("old_code", "Mã xã cũ", True),
    ("old_name", "Tên xã cũ", True),
    ("new_code", "Mã xã mới", True),
    ("new_name", "Tên xã mới", True),
    ("share", "Tỷ lệ (%)", False),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
_WHAT = " trong bảng xã sáp nhập"


@dataclass(frozen=True)
class Part:
    """Where (part of) an old commune went: a 2025 commune, and the share of the old
    commune's figures it takes (1.0 when the old commune went to it whole)."""

    code: str
    name: str
    share: float | None     # None: a split whose shares the table does not give
    row: int


@dataclass(frozen=True)
class Merger:
    path: Path
    old_names: dict[str, str]              # old code → old name
    parts: dict[str, tuple[Part, ...]]     # old code → the 2025 communes it went to

    def describe(self, code: str) -> str:
        """"Xã A (06041, 60%) và Xã B (06042, 40%)": where an old commune went."""
        parts = self.parts[code]
        shown = [f"{p.name} ({p.code}" + (f", {p.share * 100:g}%" if p.share is not None
                                          and len(parts) > 1 else "") + ")" for p in parts]
        return " và ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)


def province_merger(config) -> Merger | None:
    """The table of ``[paths] merged``, checked; None when the province has none."""
    return None if config.merged_path is None else load_merger(config.merged_path)


def load_merger(path: Path) -> Merger:
    """The province's table of merged communes (.xlsx or .csv, its first sheet), checked
    completely: every problem is listed with its row.

    An old commune split between several 2025 communes may give each one's share: the
    rollup divides its figures by them (and refuses to guess without them); `toolkit init`
    refuses such a commune, whose editors and villages no share can divide."""
    from toolkit.registry import _read_bytes, _read_rows

    path = Path(path)
    try:
        rows, _ = _read_rows(path, _read_bytes(path))
    except RegistryError as error:
        raise ToolkitError.of_files([FileProblems(path, tuple(error.problems), _WHAT)]) from None
    problems: list[str] = []
    top, columns = _columns(rows, problems)
    old_names: dict[str, str] = {}
    parts: dict[str, list[Part]] = {}
    for number, values in enumerate(rows[top + 1:], start=top + 2):
        cells = {key: _text(values[i]) if i < len(values) else None
                 for key, i in columns.items()}
        if not any(cells.values()):
            continue
        found = _row(number, cells, problems)
        if found is None:
            continue
        old, old_name, part = found
        old_names.setdefault(old, old_name)
        if any(p.code == part.code for p in parts.get(old, [])):
            problems.append(f"dòng {number}: xã cũ {old_name} ({old}) → {part.name} "
                            f"({part.code}) đã có ở dòng "
                            f"{next(p.row for p in parts[old] if p.code == part.code)} — "
                            "xoá một dòng")
            continue
        parts.setdefault(old, []).append(part)
    if not old_names and not problems:
        problems.append("chưa có dòng nào: mỗi xã cũ một dòng (hoặc một dòng cho mỗi xã mới "
                        f"nhận một phần xã cũ), với các cột {', '.join(HEADERS.values())}")
    for old, split in parts.items():
        _check_shares(old, old_names[old], split, problems)
    if problems:
        raise ToolkitError.of_files([FileProblems(path, tuple(problems), _WHAT)])
    whole = {old: tuple(Part(p.code, p.name, 1.0 if len(ps) == 1 else p.share, p.row)
                        for p in ps) for old, ps in parts.items()}
    return Merger(path, old_names, whole)


def _columns(rows: list[tuple[Any, ...]], problems: list[str]) -> tuple[int, dict[str, int]]:
    """The header row (the first of the top ten naming a column) and each column's index."""
    aliases = {fold(re.sub(r"\(.*?\)", "", h)).strip(): k for k, h, _ in COLUMNS}
    aliases |= {"ma cu": "old_code", "ten cu": "old_name", "ma moi": "new_code",
                "ten moi": "new_name", "ty le": "share", "ti le": "share"}
    aliases |= {k.replace("_", " "): k for k, _, _ in COLUMNS}
    top, found = 0, {}
    for number, row in enumerate(rows[:10]):
        named: dict[str, int] = {}
        for index, raw in enumerate(row):
            key = aliases.get(fold(re.sub(r"\(.*?\)|[%_]", " ", _text(raw) or "")).strip())
            if key is not None and key not in named:
                named[key] = index
        if len(named) >= 2:
            top, found = number, named
            break
    for key, header, required in COLUMNS:
        if required and key not in found:
            problems.append(f'thiếu cột "{header}" — dòng tiêu đề cần các cột '
                            f"{', '.join(HEADERS.values())} (cột Tỷ lệ (%) chỉ cần cho xã cũ "
                            "được chia cho nhiều xã mới)")
    return top, found


def _row(number: int, cells: dict[str, str | None],
         problems: list[str]) -> tuple[str, str, Part] | None:
    found = []
    codes = {}
    for key in ("old_code", "new_code"):
        text = (cells.get(key) or "").lstrip("'").replace(" ", "")
        if text.isdigit() and len(text) <= 5:
            codes[key] = text.zfill(5)
        else:
            found.append(f'"{HEADERS[key]}" là "{cells.get(key) or ""}", không phải mã xã — '
                         "dùng mã 5 chữ số, ví dụ 06040")
    for key in ("old_name", "new_name"):
        if not cells.get(key):
            found.append(f'"{HEADERS[key]}" đang trống — ghi tên xã, ví dụ Xã Đề Thám')
    share = None
    if cells.get("share"):
        text = cells["share"].replace("%", "").replace(",", ".").strip()
        try:
            share = float(text) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            found.append(f'"{HEADERS["share"]}" là "{cells["share"]}" — ghi phần trăm của xã '
                         "cũ mà xã mới nhận, lớn hơn 0 và không quá 100, ví dụ 60")
    problems.extend(f"dòng {number}: {message}" for message in found)
    if found:
        return None
    return codes["old_code"], cells["old_name"], Part(codes["new_code"], cells["new_name"],
                                                      share, number)


def _check_shares(old: str, name: str, parts: list[Part], problems: list[str]) -> None:
    rows = ", ".join(str(p.row) for p in parts)
    given = [p.share for p in parts if p.share is not None]
    if len(parts) == 1 or not given:
        return
    if len(given) < len(parts) or abs(sum(given) - 1) > 0.0001:
        total = f"{sum(given) * 100:g}" if given else "0"
        problems.append(f"dòng {rows}: xã cũ {name} ({old}) được chia cho {len(parts)} xã mới "
                        f"nhưng cột \"{HEADERS['share']}\" cộng lại {total}, không phải 100 — "
                        "ghi phần trăm của xã cũ mà mỗi xã mới nhận (cộng lại 100), để bảng "
                        "tổng hợp chia số liệu cũ của xã theo tỷ lệ đó")


def _text(raw: Any) -> str | None:
    """A cell as the registry reads one, its spaces single."""
    from toolkit.registry import _text as cell_text

    text = cell_text(raw)
    return " ".join(text.split()) if text else None


# toolkit init --old-registry ---------------------------------------------------------------

@dataclass(frozen=True)
class Mapped:
    """An old registry mapped to 2025 communes: registry.xlsx rows (cells in the order of
    ``registry.COLUMNS``) and one line for each 2025 commune saying what it came from."""

    rows: list[list]
    lines: list[str]


def map_registry(old_path: Path, merger: Merger, province: str) -> Mapped:
    """Each old commune onto the 2025 commune it became; several old ones that became one
    pool their villages, editors and households. Every old commune missing from the table,
    or split between several 2025 communes, is a problem naming its row (RegistryError)."""
    from toolkit.registry import load_old_registry
    from toolkit.units import official

    problems: list[str] = []
    into: dict[str, list[tuple[int, Commune]]] = {}
    for number, commune in load_old_registry(old_path):
        parts = merger.parts.get(commune.code)
        if parts is None:
            problems.append(f"dòng {number}: mã {commune.code} ({commune.display_name}) không có "
                            f"trong bảng xã sáp nhập {merger.path.name} — thêm dòng cho xã này "
                            "vào bảng (Mã xã cũ, Tên xã cũ, Mã xã mới, Tên xã mới), hoặc sửa "
                            "mã cho đúng mã xã trước sáp nhập")
        elif len(parts) > 1:
            problems.append(f"dòng {number}: {commune.display_name} ({commune.code}) được chia "
                            f"cho {merger.describe(commune.code)} — không thể tự chia thôn/bản "
                            "và người nhập liệu của xã; xoá dòng này, rồi sau khi tạo "
                            "registry.xlsx ghi chúng vào từng xã mới")
        else:
            into.setdefault(parts[0].code, []).append((number, commune))
    if problems:
        raise RegistryError(Path(old_path), problems)
    names = official().names
    rows, lines = [], []
    for code, olds in sorted(into.items(), key=lambda item: fold(_name_of(*item, merger,
                                                                          names)[1])):
        kind, name = _name_of(code, olds, merger, names)
        row, said = _pooled(olds)
        rows.append([code, name, kind, province, *row])
        came = ", ".join(f"{c.display_name} (mã {c.code}, dòng {n})" for n, c in olds)
        verb = f"gộp {len(olds)} xã cũ: " if len(olds) > 1 else "từ "
        lines.append(f"{kind} {name} ({code}) — {verb}{came}; {said}")
    return Mapped(rows, lines)


def _name_of(code: str, olds, merger: Merger, names: dict[str, str]) -> tuple[str, str]:
    """Kind and name of a 2025 commune: the official ones, else as the table writes it."""
    written = names.get(code) or next(p.name for p in merger.parts[olds[0][1].code])
    for kind in KINDS:
        if fold(written).startswith(fold(kind) + " "):
            return kind, written[len(kind) + 1:].strip()
    return "Xã", written


def _pooled(olds: list[tuple[int, Commune]]) -> tuple[list, str]:
    """The registry cells from District on of the old communes pooled, and what was done."""
    communes = [c for _, c in olds]
    districts = list(dict.fromkeys(c.district for c in communes if c.district))
    known = [c.households for c in communes if c.households is not None]
    households = sum(known) if len(known) == len(communes) else None
    villages, editors = _union(c.villages for c in communes), _union(c.editors for c in communes)
    contact = next((c for c in communes if c.contact_name or c.contact_phone), None)
    starts = [c.start for c in communes]
    ends = [c.end for c in communes]
    said = []
    if households is not None:
        said.append(f"số hộ {format_vn_number(households)}" + (
            f" ({' + '.join(format_vn_number(h) for h in known)})" if len(known) > 1 else ""))
    else:
        missing = ", ".join(c.display_name for c in communes if c.households is None)
        said.append(f"chưa có số hộ vì {missing} chưa có — điền số hộ của xã mới")
    said.append(f"{len(villages)} thôn/bản, {len(editors)} người nhập liệu")
    if contact is not None and len(communes) > 1:
        said.append(f"người liên hệ của {contact.display_name}")
    row = [" + ".join(districts) or None, households, "; ".join(villages),
           "; ".join(editors), contact.contact_name if contact else None,
           contact.contact_phone if contact else None,
           None if None in starts else min(starts), None if None in ends else max(ends)]
    return row, "; ".join(said)


def _union(lists) -> list[str]:
    """Each name once, as first written, however it was spelled or cased in the others."""
    first: dict[str, str] = {}
    for items in lists:
        for item in items:
            first.setdefault(fold(item), item)
    return list(first.values())


# reading reports ---------------------------------------------------------------------------

def merged_versions(versions: pd.DataFrame, merger: Merger | None,
                    registry: Registry) -> pd.DataFrame:
    """The row versions with those of old communes under the 2025 communes they became.

    Every reader that decides statuses or figures for the province (status, remind, the
    rollup and archive, the daily sweep, the national merge) gets its versions through here
    — in a province folder through ``Workspace.report_versions`` — so a commune is not
    "chưa báo cáo" in one answer and reported in another. ``merger`` None (no ``[paths]
    merged``) returns ``versions`` as they are.

    Applied when the ledger is read, never written back: the ledger keeps what each old
    workbook said under its own code. A code the registry lists is a 2025 commune's own, so
    only codes it does not list are mapped. Each old row keeps a key of its own (its row key
    and old code), so two old communes' rows of one day are both counted; a split commune's
    row goes to each of its 2025 communes with its figures times that one's share. Returns
    ``versions`` itself when no row is an old commune's."""
    import numpy as np
    import pandas as pd

    from toolkit.versions import CODE_PREFIX, INTEGER_SUFFIX, VALUE_PREFIX

    if merger is None:
        return versions
    current = {c.code for c in registry.communes}
    old = {code: parts for code, parts in merger.parts.items() if code not in current}
    codes = np.asarray(versions["commune_code"], dtype=object)
    at = np.flatnonzero(pd.Series(codes).isin(list(old)).to_numpy())
    if not len(at):
        return versions
    unshared = [code for code in dict.fromkeys(codes[at]) if old[code][0].share is None]
    if unshared:
        listing = "; ".join(f"{merger.old_names[c]} ({c}) → {merger.describe(c)}, dòng "
                            f"{', '.join(str(p.row) for p in old[c])}" for c in unshared)
        raise ToolkitError(f"{merger.path.name}: xã cũ đã báo cáo nhưng được chia cho nhiều xã "
                           f"mới mà chưa ghi \"{HEADERS['share']}\": {listing} — ghi phần trăm "
                           "của xã cũ mà mỗi xã mới nhận (cộng lại 100), để bảng tổng hợp chia "
                           "số liệu cũ của xã theo tỷ lệ đó")
    counts = np.ones(len(codes), dtype=np.int64)
    counts[at] = [len(old[codes[i]]) for i in at]
    index = np.repeat(np.arange(len(codes)), counts)
    first = np.cumsum(counts) - counts
    new_codes = codes[index]
    row_keys = np.asarray(versions["row_key"], dtype=object)[index]
    share = np.ones(len(index))
    for i in at:
        for offset, part in enumerate(old[codes[i]]):
            k = first[i] + offset
            new_codes[k], share[k] = part.code, part.share
            row_keys[k] = f"{row_keys[k]} ({codes[i]})"
    frame = versions.iloc[index].reset_index(drop=True)
    frame["commune_code"], frame["row_key"] = new_codes, row_keys
    for key in ("commune_code", "row_key"):
        if CODE_PREFIX + key in frame:
            values = frame[key].to_numpy(dtype=object)
            frame[CODE_PREFIX + key] = pd.Categorical(values, categories=sorted(set(values)))
    scaled = share != 1
    if scaled.any():
        for name in [c for c in frame if c.startswith(VALUE_PREFIX)
                     and c + INTEGER_SUFFIX in frame]:
            values = frame[name].to_numpy(dtype=float) * share
            frame[name] = values
            whole = np.isnan(values) | (values == np.round(values))
            frame[name + INTEGER_SUFFIX] = frame[name + INTEGER_SUFFIX].to_numpy() & whole
    return frame
