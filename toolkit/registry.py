"""The communes table of a province: built from the official 2025 units, filled in by the
province office (households, villages, editors, contacts) and checked completely on load."""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import RegistryError, ToolkitError

if TYPE_CHECKING:
    import pandas as pd

SHEET = "Danh sách xã"
HELP_SHEET = "Hướng dẫn"
KINDS = ("Xã", "Phường", "Đặc khu")

# key, header in registry.xlsx, required column
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "Mã xã", True),
    ("name", "Tên xã", True),
    ("kind", "Loại", True),
    ("province", "Tỉnh", True),
    ("district", "Huyện (cũ)", False),
    ("households", "Số hộ gia đình", False),
    ("villages", "Thôn/bản (ngăn cách bằng ;)", False),
    ("editors", "Email người nhập liệu (ngăn cách bằng ;)", False),
    ("contact_name", "Người liên hệ", False),
    ("contact_phone", "Số điện thoại", False),
)
HEADERS = {key: header for key, header, _ in COLUMNS}

HELP_LINES = (
    "Trang «Danh sách xã» liệt kê các xã, phường, đặc khu chính thức của tỉnh từ 01/7/2025; "
    "không sửa các cột Mã xã, Tên xã, Loại, Tỉnh.",
    "Huyện (cũ): không bắt buộc — ghi tên huyện cũ nếu muốn tổng hợp theo huyện.",
    "Số hộ gia đình: nhập số nguyên, ví dụ 1250 hoặc 1.250; để trống thì các chỉ tiêu % "
    "của xã sẽ để trống.",
    "Thôn/bản: tên các thôn, bản, tổ dân phố, ngăn cách bằng dấu chấm phẩy, "
    "ví dụ: Thôn Nà Pàn; Bản Chang.",
    "Email người nhập liệu: email (Google) của cán bộ xã được nhập số liệu, ngăn cách bằng "
    "dấu chấm phẩy; chỉ các email này được chia sẻ bảng tính của xã.",
    "Người liên hệ, Số điện thoại: cán bộ đầu mối của xã, dùng để nhắc báo cáo.",
    "Không thêm, xoá hay đổi tên cột; có thể xoá dòng của xã không tham gia.",
    "Điền xong, lưu tệp rồi chạy: toolkit provision --dry-run để kiểm tra trước khi tạo bảng tính.",
)

_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[A-Za-z]{2,}")
_GROUPED = re.compile(r"\d{1,3}(?:([., ])\d{3})(?:\1\d{3})*")


@dataclass(frozen=True)
class Province:
    code: int
    name: str


@dataclass(frozen=True)
class OfficialCommune:
    code: str
    name: str
    kind: str
    province: str


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

    @property
    def display_name(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Registry:
    path: Path
    communes: tuple[Commune, ...]
    warnings: tuple[str, ...]

    def by_code(self) -> dict[str, Commune]:
        return {c.code: c for c in self.communes}

    @property
    def has_districts(self) -> bool:
        return any(c.district for c in self.communes)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{**c.__dict__, "villages": "; ".join(c.villages),
                 "editors": "; ".join(c.editors)} for c in self.communes]
        frame = pd.DataFrame(rows, columns=[key for key, _, _ in COLUMNS])
        frame["households"] = frame["households"].astype("Int64")
        return frame


def fold(text: str) -> str:
    """Lowercase, no diacritics (đ → d), single spaces: how people type names on a phone."""
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


# Other names people use for a 2025 province → its code.
_ALIASES = {"hcm": 79, "tphcm": 79, "sai gon": 79, "thua thien hue": 46}
# Provinces merged into another on 1 July 2025 (Resolution 202/2025/QH15) → the new province.
_MERGED = {
    "ha giang": 8, "yen bai": 15, "bac kan": 19, "vinh phuc": 25, "hoa binh": 25, "bac giang": 24,
    "thai binh": 33, "hai duong": 31, "ha nam": 37, "nam dinh": 37, "quang binh": 44,
    "quang nam": 48, "kon tum": 51, "binh dinh": 52, "ninh thuan": 56, "phu yen": 66,
    "dak nong": 68, "binh thuan": 68, "binh duong": 79, "ba ria vung tau": 79, "binh phuoc": 75,
    "long an": 80, "ben tre": 86, "tra vinh": 86, "tien giang": 82, "soc trang": 92,
    "hau giang": 92, "bac lieu": 96, "kien giang": 91,
}


def _province_key(name: str) -> str:
    key = fold(re.sub(r"[-.–,]", " ", name))
    for prefix in ("thanh pho ", "tinh ", "tp "):
        key = key.removeprefix(prefix)
    return key


def find_province(name: str) -> Province:
    from vietnam_provinces import Province as VPProvince

    provinces = {int(p.code): Province(int(p.code), p.name) for p in VPProvince.iter_all()}
    keys = {_province_key(p.name): p for p in provinces.values()}
    wanted = _province_key(name)
    code = _ALIASES.get(wanted) or (int(wanted) if wanted.isdigit() else None)
    if wanted in keys or code in provinces:
        return keys.get(wanted) or provinces[code]
    if wanted in _MERGED:
        new = provinces[_MERGED[wanted]].name
        raise ToolkitError(f'"{name.strip()}" was merged into {new} on 1 July 2025; '
                           f'use "{new}", whose registry includes its former communes')
    close = [keys[k].name for k in difflib.get_close_matches(wanted, list(keys), n=3)]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    listing = ", ".join(sorted((p.name for p in provinces.values()), key=fold))
    raise ToolkitError(f'no province named "{name.strip()}" among the {len(provinces)} provinces '
                       f"of 2025.{hint} Use one of these names (diacritics optional): {listing}")


def official_communes(province: Province) -> list[OfficialCommune]:
    from vietnam_provinces import Ward

    communes = []
    for ward in Ward.iter_all():
        if int(ward.province_code) == province.code:
            kind = ward.division_type.value.capitalize()
            name = " ".join(ward.name.split()).removeprefix(kind + " ")  # some have 2 spaces
            communes.append(OfficialCommune(f"{int(ward.code):05d}", name, kind, province.name))
    return sorted(communes, key=lambda c: (fold(c.name), c.name))


def write_registry_template(path: Path, province: Province) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.exists():
        raise ToolkitError(f"{path} already exists and may hold households and editors typed by "
                           "hand; move it away or choose another folder")
    communes = official_communes(province)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append([header for _, header, _ in COLUMNS])
    for commune in communes:
        sheet.append([commune.code, commune.name, commune.kind, commune.province])
    last = len(communes) + 1
    for row in sheet.iter_rows(min_row=2, max_row=last):
        row[0].number_format = "@"
        row[9].number_format = "@"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        width = max(len(str(c.value)) for c in column if c.value is not None)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 12), 50)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:J{last}"
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                           error="Nhập số hộ là số nguyên, ví dụ 1250", showErrorMessage=True)
    kind = DataValidation(type="list", formula1=f'"{",".join(KINDS)}"', showErrorMessage=True)
    sheet.add_data_validation(whole)
    sheet.add_data_validation(kind)
    whole.add(f"F2:F{last}")
    kind.add(f"C2:C{last}")
    guide = book.create_sheet(HELP_SHEET)
    guide.append([f"Hướng dẫn điền danh sách xã — {province.name}"])
    guide["A1"].font = Font(bold=True)
    for line in HELP_LINES:
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return len(communes)


def load_registry(path: Path) -> Registry:
    path = Path(path)
    rows = _read_rows(path)
    problems: list[str] = []
    warnings: list[str] = []
    columns = _match_headers(rows[0] if rows else (), problems)
    shown = {key: header for key, (_, header) in columns.items()}
    communes: list[tuple[int, Commune]] = []
    filled = 0
    for number, values in enumerate(rows[1:], start=2):
        if all(_text(v) is None for v in values):
            continue
        filled += 1
        cells = {key: values[i] if i < len(values) else None for key, (i, _) in columns.items()}
        commune = _parse_row(number, cells, shown, problems, warnings)
        if commune is not None:
            communes.append((number, commune))
    if not filled:
        problems.append("no communes: add one row per commune under the header row "
                        "(`toolkit init` writes the official list)")
    _check_duplicates(communes, problems)
    if problems:
        raise RegistryError(path, sorted(problems, key=_row_of))
    warnings += _compare_official(communes)
    return Registry(path, tuple(c for _, c in communes), tuple(sorted(warnings, key=_row_of)))


def _row_of(message: str) -> int:
    """Sort key: file-wide messages first, then by spreadsheet row."""
    match = re.match(r"row (\d+):", message)
    return int(match[1]) if match else 0


def _read_rows(path: Path) -> list[tuple[Any, ...]]:
    if not path.is_file():
        raise RegistryError(path, ["file not found — `toolkit init` creates registry.xlsx"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise RegistryError(path, ["the CSV is not UTF-8 — in Excel use Save As › "
                                       "CSV UTF-8, or save as .xlsx"]) from None
        first = text.splitlines()[0] if text.strip() else ""
        delimiter = max(",;", key=lambda d: len(next(csv.reader([first], delimiter=d), [])))
        return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    if suffix not in (".xlsx", ".xlsm"):
        raise RegistryError(path, [f'"{suffix}" files are not read — save the registry as .xlsx '
                                   "or .csv"])
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise RegistryError(path, [f"cannot open it as an Excel workbook ({exc}) — "
                                   "save it again as .xlsx"]) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some tools write a wrong <dimension>; read every row
        return [tuple(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _aliases() -> dict[str, str]:
    names: dict[str, str] = {}
    for key, header, _ in COLUMNS:
        for alias in (header, header.split(" (")[0], key, key.replace("_", " ")):
            names[fold(alias)] = key
    return names | {"phone": "contact_phone", "email": "editors", "emails": "editors"}


def _match_headers(header: tuple[Any, ...], problems: list[str]) -> dict[str, tuple[int, str]]:
    """Map column key → (index, header as typed); report unknown, duplicate and missing ones."""
    aliases, columns = _aliases(), {}
    allowed = ", ".join(HEADERS.values())
    for index, raw in enumerate(header):
        text = _text(raw)
        if text is None:
            continue
        key = aliases.get(fold(text))
        if key is None:
            problems.append(f'unknown column "{text}" — remove it or rename it to one of: '
                            f"{allowed}")
        elif key in columns:
            problems.append(f'column "{text}" appears twice (also "{columns[key][1]}") — '
                            "keep one of them")
        else:
            columns[key] = (index, text)
    for key, header_text, required in COLUMNS:
        if required and key not in columns:
            problems.append(f'missing required column "{header_text}" — add it to the header row')
    return columns


def _parse_row(number: int, cells: dict[str, Any], shown: dict[str, str],
               problems: list[str], warnings: list[str]) -> Commune | None:
    found: list[str] = []

    def problem(message: str) -> None:
        found.append(f"row {number}: {message}")

    code, name, kind, province = (_text(cells.get(k)) for k in ("code", "name", "kind", "province"))
    for key, value in (("code", code), ("name", name), ("province", province)):
        if key in shown and value is None:
            problem(f'"{shown[key]}" is empty — every commune needs its {HEADERS[key]}')
    if code is not None:
        digits = code.lstrip("'").replace(" ", "")
        if digits.isdigit() and len(digits) <= 5:
            code = digits.zfill(5)
        else:
            problem(f'"{shown["code"]}" is "{code}", not a commune code — use the official '
                    "5-digit code, e.g. 06040")
    if name is not None:
        kind = kind or next((k for k in KINDS if fold(name).startswith(fold(k) + " ")), None)
    if kind is not None:
        typed, kind = kind, next((k for k in KINDS if fold(k) == fold(kind)), None)
        if kind is None:
            problem(f'"{shown["kind"]}" is "{typed}", not one of {", ".join(KINDS)}')
        elif name and fold(name).startswith(fold(kind) + " "):
            name = name[len(kind) + 1:].strip()
    elif "kind" in shown:
        problem(f'"{shown["kind"]}" is empty — type {", ".join(KINDS)}')
    households = _households(cells.get("households"), shown.get("households"), problem)
    villages = _split(_text(cells.get("villages")), r"[;\n]+")
    editors = _split(_text(cells.get("editors")), r"[;,\s]+")
    for label, items in (("village", villages), ("editor email", editors)):
        counts = Counter(fold(i) for i in items)
        first = {fold(i): i for i in reversed(items)}
        for key, count in counts.items():
            if count > 1:
                problem(f'{label} "{first[key]}" is listed {count} times — keep it once')
    for email in editors:
        if not _EMAIL.fullmatch(email):
            problem(f'editor email "{email}" is not a valid e-mail address')
    problems.extend(found)
    if found or not (code and name and kind and province):
        return None
    commune = Commune(code, name, kind, province, _text(cells.get("district")), households,
                      villages, editors, _text(cells.get("contact_name")),
                      _phone(cells.get("contact_phone")))
    if households is None:
        warnings.append(f"row {number}: {commune.display_name} has no households — "
                        "its % targets will show blank")
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
        problem(f'"{header}" is "{_text(raw)}", not a whole number — type the number of '
                "households, e.g. 1250")
    elif value < 0:
        problem(f'"{header}" is {value} — the number of households cannot be negative')
        return None
    return value


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


def _check_duplicates(communes: list[tuple[int, Commune]], problems: list[str]) -> None:
    codes: dict[str, int] = {}
    names: dict[tuple[str, str], tuple[int, str]] = {}
    for number, commune in communes:
        if commune.code in codes:
            problems.append(f"row {number}: duplicate commune code {commune.code} "
                            f"(also on row {codes[commune.code]})")
            continue
        codes[commune.code] = number
        key = (fold(commune.province), fold(commune.display_name))
        if key in names:
            first, code = names[key]
            problems.append(f"row {number}: {commune.display_name} is listed twice "
                            f"(also on row {first} with code {code})")
        names.setdefault(key, (number, commune.code))


def _spelling(name: str) -> list[tuple[str, str]]:
    """Words with their diacritics, case-free; old and new tone placement ("Hòa", "Hoà") match."""
    words = unicodedata.normalize("NFD", name.lower()).split()
    return [(fold(w), "".join(sorted(c for c in w if unicodedata.combining(c) or c == "đ")))
            for w in words]


def _compare_official(communes: list[tuple[int, Commune]]) -> list[str]:
    """Warn when a code is not an official 2025 unit or its name differs from the official one."""
    from vietnam_provinces import Ward

    official = {f"{int(w.code):05d}": w.name for w in Ward.iter_all()}
    warnings = []
    for number, commune in communes:
        name = " ".join(official.get(commune.code, "").split())
        if not name:
            warnings.append(f"row {number}: code {commune.code} ({commune.display_name}) is not "
                            "an official 2025 commune code — check it")
        elif _spelling(name) != _spelling(commune.display_name):
            warnings.append(f"row {number}: code {commune.code} is {name} in the official 2025 "
                            f"list, but the registry says {commune.display_name}")
    return warnings
