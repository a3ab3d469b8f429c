"""The communes table of a province: built from the official 2025 units, filled in by the
province office (households, villages, editors, contacts) and checked completely on load."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import RegistryError
from toolkit.known import DID_YOU_MEAN, and_list, close_names

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.postal import Enterprise

SHEET = "Danh sách xã"
HELP_SHEET = "Hướng dẫn"
KINDS = ("Xã", "Phường", "Đặc khu")
# Before the July 2025 reform a commune could also be a town; an old registry has them.
OLD_KINDS = ("Xã", "Phường", "Thị trấn")

# key, header in registry.xlsx, required column. A required column must be there even where
# its cells may stay blank: without households every rule and % target on it is skipped, and
# without villages or editors provisioning would empty each workbook's village list and share
# it with nobody — a deleted column would pass silently, one commune at a time.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "Mã xã", True),
    ("name", "Tên xã", True),
    ("kind", "Loại", True),
    ("province", "Tỉnh", True),
    ("district", "Huyện (cũ)", False),
    ("households", "Số hộ gia đình", True),
    ("villages", "Thôn/bản (ngăn cách bằng ;)", True),
    ("editors", "Email người nhập liệu (ngăn cách bằng ;)", True),
    ("contact_name", "Người liên hệ", False),
    ("contact_phone", "Số điện thoại", False),
    ("start", "Ngày bắt đầu", False),
    ("end", "Ngày kết thúc", False),
    ("postal", "Doanh nghiệp bưu chính", False),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
# What goes under a column, said when it is missing: the fix is to restore it and fill it in.
_UNDER = {
    "code": "mã 5 chữ số chính thức của từng xã, ví dụ 06040",
    "name": "tên của từng xã, ví dụ Thất Khê",
    "kind": "Xã, Phường hoặc Đặc khu cho từng xã",
    "province": "tên tỉnh trên mọi dòng",
    "households": "số hộ gia đình của từng xã (được để trống; khi đó các chỉ tiêu % của xã "
                  "để trống)",
    "villages": "các thôn/bản của từng xã, ngăn cách bằng ; (được để trống)",
    "editors": "email của cán bộ nhập liệu từng xã, ngăn cách bằng ; (được để trống)",
}
# What is lost without an optional column, said once as a warning.
_LOST = {
    "district": "bảng tổng hợp không có số liệu theo huyện",
    "contact_name": "lời nhắc không ghi tên người liên hệ",
    "contact_phone": "lời nhắc không ghi số điện thoại liên hệ",
}
# A commune's own reporting window inside the campaign (its phase: the campaign reached
# five districts on 20/7/2021, every commune on 20/9). Without these columns every commune
# reports for the whole campaign, as before they existed, so their absence says nothing.
PHASE = ("start", "end")
# A commune's own target, assigned by its chairman "phù hợp với tình hình thực tế": one
# optional column per template target, headed "Chỉ tiêu: <the target's label>". Blank keeps
# the template's threshold.
TARGET_PREFIX = "Chỉ tiêu:"
SHARE, COUNT = "share", "count"
# Columns whose absence says nothing, so it is not warned about: the phase, and the postal
# enterprise serving the commune (toolkit.postal) in a province where none reports.
_SILENT = (*PHASE, "postal")

_HEADER_ROW = "dòng tiêu đề"
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[A-Za-z]{2,}")
_GROUPED = re.compile(r"\d{1,3}(?:([., ])\d{3})(?:\1\d{3})*")


#: The kind of a postal enterprise seen as a reporter (toolkit.postal.as_reporters).
ENTERPRISE_KIND = "Doanh nghiệp"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    kind: str
    province: str
    district: str | None
    households: int | None
    villages: tuple[str, ...]
    editors: tuple[str, ...]
    contact_name: str | None
    contact_phone: str | None
    #: The commune's phase: before ``start`` or after ``end`` it is not expected to report
    #: (None: from the campaign's start, to its end).
    start: date | None = None
    end: date | None = None
    #: Assigned targets: (label as headed, SHARE of households or COUNT, the value).
    targets: tuple[tuple[str, str, float], ...] = ()
    #: The code of the postal enterprise serving the commune (None: none named).
    postal: str | None = None

    def window(self, campaign: tuple[date, date]) -> tuple[date, date]:
        """The days the commune reports: its own phase within the campaign's."""
        return max(campaign[0], self.start or campaign[0]), min(campaign[1],
                                                                self.end or campaign[1])

    @property
    def display_name(self) -> str:
        """"Xã Tân Tiến"; a postal enterprise reporting (``postal.as_reporters``) by its name."""
        return self.name if self.kind == ENTERPRISE_KIND else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Registry:
    path: Path
    communes: tuple[Commune, ...]
    warnings: tuple[str, ...]
    #: The hash of the bytes it was read from (and of the checking code), for the cache.
    fingerprint: str = field(default="", compare=False)
    #: The postal enterprises of the «Doanh nghiệp bưu chính» sheet (toolkit.postal).
    enterprises: tuple[Enterprise, ...] = ()

    def by_code(self) -> dict[str, Commune]:
        return {c.code: c for c in self.communes}

    def enterprise_of(self, commune: Commune) -> Enterprise | None:
        """The postal enterprise serving ``commune``, if the registry names one."""
        return next((e for e in self.enterprises if e.code == commune.postal), None)

    @property
    def has_phases(self) -> bool:
        return any(c.start or c.end for c in self.communes)

    @property
    def target_labels(self) -> tuple[str, ...]:
        """The labels some commune has an assigned target for, as headed."""
        return tuple(dict.fromkeys(label for c in self.communes for label, _, _ in c.targets))

    @property
    def has_districts(self) -> bool:
        return any(c.district for c in self.communes)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{**c.__dict__, "targets": None, "villages": "; ".join(c.villages),
                 "editors": "; ".join(c.editors)} for c in self.communes]
        frame = pd.DataFrame(rows, columns=[key for key, _, _ in COLUMNS])
        frame["households"] = frame["households"].astype("Int64")
        return frame


def fold(text: str) -> str:
    """Lowercase, no diacritics (đ → d), single spaces: how people type names on a phone."""
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def load_registry(path: Path, cache: Path | None = None) -> Registry:
    """The registry, checked completely (RegistryError lists every problem).

    Reading registry.xlsx and comparing it with the official units cost about 0.3 s, on every
    run of every command, for a file that changes a few times a year. With ``cache`` (a file
    beside the ledger, written by :func:`remember_registry` once the whole workspace passed),
    a registry that passed is taken from there while its bytes and the checking code are the
    same."""
    path = Path(path)
    data = _read_bytes(path)
    key = _fingerprint(data)
    known = _remembered(cache, key, path) if cache is not None else None
    if known is not None:
        return known
    registry = _load(path, *_read_rows(path, data))
    return replace(registry, fingerprint=key)


def remember_registry(registry: Registry, cache: Path) -> None:
    """Keep a registry that passed, for :func:`load_registry`; atomically, and only when the
    cache holds another. A folder that refuses it only costs the next run a check."""
    try:
        if registry.fingerprint in cache.read_text(encoding="utf-8")[:120]:
            return
    except OSError:
        pass
    text = json.dumps({"key": registry.fingerprint,
                       "communes": [c.__dict__ for c in registry.communes],
                       "enterprises": [e.__dict__ for e in registry.enterprises],
                       "warnings": list(registry.warnings)}, ensure_ascii=False, default=str)
    new = cache.with_name(f".~{cache.name}.{os.getpid()}")
    try:
        new.write_text(text, encoding="utf-8")
        os.replace(new, cache)
    except OSError:
        new.unlink(missing_ok=True)


def _fingerprint(data: bytes) -> str:
    """The registry's bytes and the code that checks them, hashed."""
    from toolkit import postal, units

    digest = hashlib.sha256(data)
    for module in (__file__, units.__file__, postal.__file__):
        digest.update(str(Path(module).stat().st_mtime_ns).encode())
    return digest.hexdigest()


def _remembered(cache: Path, key: str, path: Path) -> Registry | None:
    from toolkit.postal import Enterprise

    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept.get("key") != key:
            return None
        communes = tuple(Commune(**{**c, "villages": tuple(c["villages"]),
                                    "editors": tuple(c["editors"]),
                                    "targets": tuple(tuple(t) for t in c["targets"]),
                                    **{k: c[k] and date.fromisoformat(c[k]) for k in PHASE}})
                         for c in kept["communes"])
        enterprises = tuple(Enterprise(**{**e, "editors": tuple(e["editors"])})
                            for e in kept["enterprises"])
        return Registry(path, communes, tuple(kept["warnings"]), key, enterprises)
    except (OSError, ValueError, KeyError, TypeError):
        return None       # no cache yet, or one from another version: check the file


def load_old_registry(path: Path) -> list[tuple[int, Commune]]:
    """A registry of pre-2025 communes (towns, "Thị trấn", included), each with its spreadsheet
    row, checked as completely as a 2025 one except against the official 2025 units: what
    ``toolkit init --old-registry`` maps to the communes that replaced them."""
    path = Path(path)
    rows, _ = _read_rows(path, _read_bytes(path))
    communes, _, problems, _ = _numbered(rows, OLD_KINDS)
    if problems:
        raise RegistryError(path, sorted(problems, key=_row_of))
    return communes


def _load(path: Path, rows: list[tuple[Any, ...]],
          postal_rows: list[tuple[Any, ...]] | None = None) -> Registry:
    communes, warnings, problems, shown = _numbered(rows, KINDS)
    from toolkit.postal import read_enterprises, served

    found = read_enterprises(postal_rows)
    problems += found.problems
    serving = served(((n, c, c.postal) for n, c in communes if c.postal), found,
                     shown.get("postal", HEADERS["postal"]), problems, warnings)
    if problems:
        raise RegistryError(path, sorted(problems, key=_row_of))
    from toolkit.units import compare_official

    communes = [(n, replace(c, postal=serving.get(c.code))) for n, c in communes]
    warnings += compare_official(communes)
    return Registry(path, tuple(c for _, c in communes), tuple(sorted(warnings, key=_row_of)),
                    enterprises=found.enterprises)


def _numbered(rows: list[tuple[Any, ...]], kinds: tuple[str, ...],
              ) -> tuple[list[tuple[int, Commune]], list[str], list[str], dict[str, str]]:
    """The communes with their rows, the warnings, every problem (each naming its row), and
    the headers as the sheet spells them."""
    problems: list[str] = []
    warnings: list[str] = []
    top = _header_index(rows)
    columns = _match_headers(rows[top] if rows else (), problems, warnings)
    shown = {key: header for key, (_, header) in columns.items()}
    communes: list[tuple[int, Commune]] = []
    coded: list[tuple[int, str, str]] = []     # every row whose code reads, even with problems
    filled = 0
    for number, values in enumerate(rows[top + 1:], start=top + 2):
        if all(_text(v) is None for v in values):
            continue
        filled += 1
        cells = {key: values[i] if i < len(values) else None for key, (i, _) in columns.items()}
        commune = _parse_row(number, cells, shown, problems, warnings, coded, kinds)
        if commune is not None:
            communes.append((number, commune))
    if not filled:
        problems.append("chưa có xã nào: thêm mỗi xã một dòng dưới dòng tiêu đề "
                        "(`toolkit init` ghi sẵn danh sách chính thức)")
    _check_duplicates(communes, coded, problems, warnings)
    return communes, warnings, problems, shown


def _header_index(rows: list[tuple[Any, ...]]) -> int:
    """The header row: the first of the top ten naming two known columns, so a title typed
    above it ("DANH SÁCH XÃ TỈNH LẠNG SƠN") is not read as the header; else the first row."""
    exact, folded = _aliases()
    for index, row in enumerate(rows[:10]):
        typed = [_header_key(t) for t in map(_text, row) if t is not None]
        if sum(1 for t in typed if exact.get(t) or folded.get(_compact(t))) >= 2:
            return index
    return 0


def _row_of(message: str) -> int:
    """Sort key: file-wide messages first, then the header row, then by spreadsheet row."""
    match = re.match(r"dòng (\d+)", message)
    return 1 if message.startswith(_HEADER_ROW) else int(match[1]) if match else 0


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise RegistryError(path, ["không tìm thấy tệp — `toolkit init` tạo registry.xlsx; "
                                   "nếu tệp của bạn ở chỗ khác, đặt [paths] registry trong "
                                   "toolkit.toml"]) from None
    except OSError as exc:
        raise RegistryError(path, [f"không đọc được tệp ({exc.strerror or exc}) — kiểm tra "
                                   "quyền đọc tệp, hoặc đóng chương trình đang giữ tệp"]) from None


def _read_rows(path: Path, data: bytes) -> tuple[list[tuple[Any, ...]],
                                                 list[tuple[Any, ...]] | None]:
    """The rows of «Danh sách xã», and of «Doanh nghiệp bưu chính» when the file has it (a
    CSV holds one sheet: a province whose enterprises report keeps its registry in .xlsx)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RegistryError(path, ["tệp CSV không ở dạng UTF-8 — trong Excel chọn Save As › "
                                       "CSV UTF-8, hoặc lưu thành .xlsx"]) from None
        first = text.splitlines()[0] if text.strip() else ""
        delimiter = max(",;", key=lambda d: len(next(csv.reader([first], delimiter=d), [])))
        return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""),
                                             delimiter=delimiter)], None
    if suffix not in (".xlsx", ".xlsm"):
        raise RegistryError(path, [f'không đọc được tệp "{suffix}" — lưu danh sách xã thành '
                                   ".xlsx hoặc .csv"])
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise RegistryError(path, [f"không mở được như một tệp Excel ({exc}) — "
                                   "lưu lại thành .xlsx"]) from None
    from toolkit.postal import SHEET as POSTAL_SHEET

    def rows(sheet) -> list[tuple[Any, ...]]:
        sheet.reset_dimensions()  # some tools write a wrong <dimension>; read every row
        return [tuple(map(_as_typed, r)) for r in sheet.iter_rows()]

    try:
        # "Danh sách xã" wherever it is among the sheets (a guide tab may have been put first)
        sheet = next((s for s in book.worksheets if fold(s.title) == fold(SHEET)),
                     book.worksheets[0])
        postal = next((s for s in book.worksheets if fold(s.title) == fold(POSTAL_SHEET)), None)
        return rows(sheet), rows(postal) if postal is not None else None
    finally:
        book.close()


def _as_typed(cell: Any) -> Any:
    """A cell's value; a number formatted as % as it shows ("60%"), so an assigned target
    typed as 100% is a share, not a count of one."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool) \
            and "%" in (getattr(cell, "number_format", None) or ""):
        return f"{value * 100:g}%"
    return value


def _header_key(text: str) -> str:
    """A header as people retype it: case, spaces, punctuation and the "(…)" note ignored."""
    text = re.sub(r"\(.*?\)", " ", unicodedata.normalize("NFC", str(text)).lower())
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _aliases() -> tuple[dict[str, str], dict[str, str]]:
    """Names of each column, as typed and without diacritics or spaces; a name so folded that
    could be two columns is left out, so only the exact spelling finds either."""
    names: dict[str, str] = {}
    for key, header, _ in COLUMNS:
        for alias in (header, key):
            names[_header_key(alias)] = key
    names |= {"phone": "contact_phone", "email": "editors", "emails": "editors"}
    folded: dict[str, set[str]] = {}
    for alias, key in names.items():
        folded.setdefault(_compact(alias), set()).add(key)
    return names, {alias: keys.pop() for alias, keys in folded.items() if len(keys) == 1}


def _compact(header_key: str) -> str:
    """Without diacritics or spaces: "Mãxã" and "E-mail" as retyped still find their column."""
    return fold(header_key).replace(" ", "")


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _match_headers(header: tuple[Any, ...], problems: list[str],
                   warnings: list[str]) -> dict[str, tuple[int, str]]:
    """Map column key → (index, header as typed); report unknown, duplicate and missing ones.

    A missing column is one problem naming it, never one per commune; an unknown header that
    is close to a missing one is that one problem, with the header to type.
    """
    exact, folded = _aliases()
    columns: dict[str, tuple[int, str]] = {}
    unknown: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        text = _text(raw)
        if text is None:
            continue
        typed = _header_key(text)
        key = exact.get(typed) or folded.get(_compact(typed)) or _target_key(text)
        if key is None:
            unknown.append((index, text))
        elif key in columns:
            first, shown = columns[key]
            problems.append(f'{_HEADER_ROW}, cột {_letter(index)}: cột "{text}" xuất hiện hai '
                            f'lần (cả cột {_letter(first)} "{shown}") — chỉ giữ một cột')
        else:
            columns[key] = (index, text)
    missing = {fold(_header_key(h)): k for k, h, _ in COLUMNS if k not in columns}
    allowed = ", ".join(HEADERS.values())
    for index, text in unknown:
        typed = fold(_header_key(text))
        close = [m for m in missing if m.startswith(typed + " ") or typed.startswith(m + " ")] \
            or close_names(typed, missing)
        where = f"{_HEADER_ROW}, cột {_letter(index)}: cột \"{text}\" không phải một cột đã biết"
        if close and missing[close[0]] not in columns:
            meant = HEADERS[missing.pop(close[0])]
            problems.append(f'{where} — {DID_YOU_MEAN} "{meant}"? Gõ tiêu đề đúng như '
                            f'"{meant}"')
        else:
            problems.append(f"{where} — xoá cột này, hoặc đổi tên thành một trong: {allowed}")
    for key, header_text, required in COLUMNS:
        if key in columns or key in _SILENT or fold(_header_key(header_text)) not in missing:
            continue
        if required:
            problems.append(f'thiếu cột bắt buộc "{header_text}" — thêm lại: gõ "{header_text}" '
                            "vào dòng tiêu đề, trên một cột trống, và điền bên dưới "
                            f"{_UNDER[key]}")
        else:
            warnings.append(f'thiếu cột "{header_text}", nên {_LOST[key]} — thêm lại cột này '
                            "vào dòng tiêu đề nếu cần")
    return columns


def _parse_row(number: int, cells: dict[str, Any], shown: dict[str, str], problems: list[str],
               warnings: list[str], coded: list[tuple[int, str, str]],
               kinds: tuple[str, ...] = KINDS) -> Commune | None:
    found: list[str] = []

    def problem(message: str) -> None:
        found.append(f"dòng {number}: {message}")

    code, name, kind, province = (_text(cells.get(k)) for k in ("code", "name", "kind", "province"))
    for key, value in (("code", code), ("name", name), ("province", province)):
        if key in shown and value is None:
            problem(f'"{shown[key]}" đang trống — xã nào cũng cần {HEADERS[key]}')
    if code is not None:
        digits = code.lstrip("'").replace(" ", "")
        if digits.isdigit() and len(digits) <= 5:
            code = digits.zfill(5)
        else:
            problem(f'"{shown["code"]}" là "{code}", không phải mã xã — dùng mã 5 chữ số '
                    "chính thức, ví dụ 06040")
    if name is not None:
        kind = kind or next((k for k in kinds if fold(name).startswith(fold(k) + " ")), None)
    if kind is not None:
        typed, kind = kind, next((k for k in kinds if fold(k) == fold(kind)), None)
        if kind is None:
            problem(f'"{shown["kind"]}" là "{typed}", không phải một trong {", ".join(kinds)}')
        elif name and fold(name).startswith(fold(kind) + " "):
            name = name[len(kind) + 1:].strip()
    elif "kind" in shown:
        problem(f'"{shown["kind"]}" đang trống — gõ {", ".join(kinds)}')
    if code is not None and code.isdigit() and len(code) == 5:
        coded.append((number, code, f"{kind or ''} {name or '?'}".strip()))
    households = _households(cells.get("households"), shown.get("households"), problem)
    villages = _split(_text(cells.get("villages")), r"[;\n]+")
    editors = _split(_text(cells.get("editors")), r"[;,\s]+")
    for label, items in (("thôn/bản", villages), ("email người nhập liệu", editors)):
        counts = Counter(fold(i) for i in items)
        first = {fold(i): i for i in reversed(items)}
        for key, count in counts.items():
            if count > 1:
                problem(f'{label} "{first[key]}" được ghi {count} lần — chỉ giữ một lần')
    for email in editors:
        if not _EMAIL.fullmatch(email):
            problem(f'email người nhập liệu "{email}" không phải địa chỉ email hợp lệ')
    targets = tuple((key[len(TARGET_PREFIX):], *value) for key in cells
                    if key.startswith(TARGET_PREFIX)
                    if (value := _assigned(cells[key], shown[key], problem)) is not None)
    start, end = (_day(cells.get(k), shown.get(k), problem) for k in PHASE)
    postal = _text(cells.get("postal"))
    if start and end and end < start:
        problem(f'"{shown["end"]}" {end:%d/%m/%Y} sớm hơn "{shown["start"]}" {start:%d/%m/%Y} '
                "— sửa một trong hai ngày, hoặc để trống ngày kết thúc")
    problems.extend(found)
    if found or not (code and name and kind and province):
        return None
    commune = Commune(code, name, kind, province, _text(cells.get("district")), households,
                      villages, editors, _text(cells.get("contact_name")),
                      _phone(cells.get("contact_phone")), start, end, targets, postal)
    if households is None:
        warnings.append(f"dòng {number}: {commune.display_name} chưa có số hộ gia đình — "
                        "các chỉ tiêu % của xã sẽ để trống")
    return commune


def _households(raw: Any, header: str | None, problem: Callable[[str], None]) -> int | None:
    if _text(raw) is None:
        return None
    value: int | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        text = raw.replace("\u00a0", " ").strip()
        sign, digits = (-1, text[1:].strip()) if text.startswith("-") else (1, text)
        if digits.isdigit() or _GROUPED.fullmatch(digits):
            value = sign * int(re.sub(r"\D", "", digits))
    if value is None:
        problem(f'"{header}" là "{_text(raw)}", không phải số nguyên — gõ số hộ gia đình, '
                "ví dụ 1250")
    elif value < 0:
        problem(f'"{header}" là {value} — số hộ gia đình không thể âm')
        return None
    return value


def _day(raw: Any, header: str | None, problem: Callable[[str], None]) -> date | None:
    """A phase's day as the report tabs read a date cell (a date, 20/9/2021, 2021-09-20)."""
    from toolkit.parse import read_date

    if _text(raw) is None:
        return None
    day = read_date(raw)
    if day is None:
        problem(f'"{header}" là "{_text(raw)}", không phải một ngày — gõ ngày như 20/09/2021, '
                "hoặc để trống nếu xã báo cáo suốt đợt")
    return day


def _target_key(header: str) -> str | None:
    """ "Chỉ tiêu: Hộ có cửa hàng số" (any case, diacritics, spaces) → its key, keyed by the
    label as headed; the templates' check says whether a target has that label."""
    head, colon, label = unicodedata.normalize("NFC", header).partition(":")
    if not colon or fold(head) != fold(TARGET_PREFIX[:-1]) or not label.strip():
        return None
    return TARGET_PREFIX + " ".join(label.split())


def _assigned(raw: Any, header: str, problem: Callable[[str], None]) -> tuple[str, float] | None:
    """An assigned target: a share of households (60%, 0,6 or a cell formatted as %) or a
    count (120: reached when the figure reaches 120). A fraction below 1 can only be a share,
    a whole number only a count; 100% must carry its % sign (1 is a count of one)."""
    text = _text(raw)
    if text is None:
        return None
    value: tuple[str, float] | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = float(raw)
        value = (COUNT, number) if number.is_integer() else (SHARE, number)
    elif isinstance(raw, str):
        typed = text.replace("\u00a0", "").replace(" ", "")
        percent = typed.endswith("%")
        digits = typed.rstrip("%")
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", digits) and not percent:
            digits = re.sub(r"\D", "", digits)
        number = _decimal(digits)
        if number is not None:
            value = (SHARE, number / 100) if percent else \
                (COUNT, number) if number.is_integer() else (SHARE, number)
    hint = ("gõ tỷ lệ số hộ như 60% (hoặc 0,6), hoặc số lượng như 120; để trống thì xã dùng "
            "mức chung của mẫu báo cáo")
    if value is None:
        problem(f'"{header}" là "{text}", không phải một chỉ tiêu — {hint}')
    elif value[1] <= 0 or (value[0] == SHARE and value[1] > 1):
        problem(f'"{header}" là "{text}" — chỉ tiêu phải lớn hơn 0 và tỷ lệ không quá 100%; '
                f"{hint}")
        value = None
    return value


def _decimal(text: str) -> float | None:
    """"0,6" or "0.6" or "60" as a number (Vietnamese decimal comma)."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _phone(raw: Any) -> str | None:
    """Excel drops the leading 0 of a phone typed as a number; put it back."""
    text = _text(raw)
    if text and isinstance(raw, int | float) and len(text) == 9:
        return "0" + text
    return text


def _split(text: str | None, separators: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(separators, text or "") if p.strip())


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = unicodedata.normalize("NFC", str(raw)).replace("\u200b", "").strip()
    return text or None


def _check_duplicates(communes: list[tuple[int, Commune]], coded: list[tuple[int, str, str]],
                      problems: list[str], warnings: list[str]) -> None:
    """A code on two rows is an error (which row is the commune?), said in the same run as
    any other problem of those rows; one name twice in a district is only suspicious (two
    communes may share a name), so a warning."""
    by_code: dict[str, list[tuple[int, str]]] = {}
    by_name: dict[tuple[str, str, str], list[tuple[int, Commune]]] = {}
    for number, code, display in coded:
        by_code.setdefault(code, []).append((number, display))
    for number, commune in communes:
        key = (fold(commune.province), fold(commune.district or ""), fold(commune.display_name))
        by_name.setdefault(key, []).append((number, commune))
    from toolkit import units

    official = None
    for code, rows in by_code.items():
        if len(rows) < 2:
            continue
        official = official or units.official()
        numbers = [str(n) for n, _ in rows]
        listing = ", ".join(f"dòng {n} {display}" for n, display in rows)
        hint = ""
        if code in official.names:
            hint = f" ({code} là {official.names[code]} trong danh sách chính thức 2025" + "".join(
                f"; mã của {display} là {other}" for _, display in rows
                if (other := official.code_of(display, code)) not in (None, code)) + ")"
        problems.append(f"dòng {and_list(numbers)}: mã xã {code} có trên {len(rows)} dòng "
                        f"({listing}) — mỗi xã chỉ một dòng, với mã xã 5 chữ số chính thức ở "
                        f'"{HEADERS["code"]}"{hint}')
    for rows in by_name.values():
        codes = list(dict.fromkeys(c.code for _, c in rows))
        if len(codes) < 2:
            continue
        first = rows[0][1]
        where = f" ở {HEADERS['district']} {first.district}" if first.district else ""
        numbers = and_list(str(n) for n, _ in rows)
        warnings.append(f"dòng {numbers}: {first.display_name} được ghi {len(rows)} lần"
                        f"{where} (mã {', '.join(codes)}) — nếu là cùng một xã, chỉ giữ một "
                        "dòng; nếu không, đối chiếu tên với danh sách chính thức")
