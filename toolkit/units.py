"""The official 2025 administrative units (34 provinces, 3,321 communes): finding a province
by any spelling, the registry `toolkit init` writes from them, and comparing a filled-in
registry against them."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from toolkit import postal
from toolkit.errors import ToolkitError
from toolkit.registry import COLUMNS, HELP_SHEET, KINDS, SHEET, Commune, fold

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
    "Ngày bắt đầu, Ngày kết thúc: không bắt buộc — khi xã tham gia đợt sau (ví dụ giai đoạn 2 "
    "từ 20/09/2021), ghi ngày xã bắt đầu báo cáo; trước ngày đó (và sau ngày kết thúc) xã "
    "«Không phải báo cáo»: không bị tính thiếu, không bị nhắc, không vào tỷ lệ. Để trống thì "
    "xã báo cáo suốt đợt. Sổ báo cáo của xã vẫn được tạo ngay.",
    "Chỉ tiêu giao riêng: không bắt buộc — thêm một cột tiêu đề «Chỉ tiêu: <tên chỉ tiêu trong "
    "mẫu báo cáo>», ví dụ «Chỉ tiêu: Hộ có cửa hàng số», rồi ghi cho từng xã tỷ lệ số hộ (60% "
    "hoặc 0,6) hoặc số lượng (120: đạt khi số lũy kế đủ 120). Để trống thì xã dùng mức chung "
    "của mẫu (ví dụ 50% số hộ). Tiến độ, còn thiếu, dự kiến ngày đạt và xếp hạng thi đua đều "
    "tính theo chỉ tiêu của từng xã.",
    "Doanh nghiệp bưu chính: không bắt buộc — mã doanh nghiệp (Viettel Post hoặc Bưu điện) "
    "phụ trách xã, chọn trong danh sách; mỗi doanh nghiệp ghi một dòng ở trang «Doanh nghiệp "
    "bưu chính» (mã có chữ cái, ví dụ VTP; tên; loại Viettel Post hoặc Bưu điện; email người "
    "nhập liệu; người liên hệ). Nhóm Zalo của xã khi đó có đuôi theo doanh nghiệp: "
    "KTS_TenXa_TenHuyen_Viettel hoặc KTS_TenXa_TenHuyen_Buudien. Mỗi doanh nghiệp phụ trách ít "
    "nhất một xã có sổ báo cáo riêng (trang «Báo cáo bưu chính», chia sẻ cho email người nhập "
    "liệu của doanh nghiệp): mỗi ngày một dòng cho mỗi xã doanh nghiệp phụ trách.",
    "Ngoài các cột «Chỉ tiêu: …», không thêm, xoá hay đổi tên cột; có thể xoá dòng của xã "
    "không tham gia.",
    "Điền xong, lưu tệp rồi chạy: toolkit provision --dry-run để kiểm tra trước khi tạo bảng tính.",
)

# Above what each 2025 commune came from, in the guide of a registry made from an old one.
MERGED_NOTE = (
    "Danh sách này được tạo từ danh sách xã cũ (toolkit init --old-registry … --merged …): mỗi "
    "xã mới góp thôn/bản, người nhập liệu và số hộ của các xã cũ gộp vào nó; hãy kiểm tra lại. "
    "Bảng xã sáp nhập (Mã xã cũ, Tên xã cũ, Mã xã mới, Tên xã mới, Tỷ lệ (%)) được giữ trong "
    "thư mục của tỉnh ([paths] merged trong toolkit.toml): bảng tổng hợp cộng số liệu các xã "
    "cũ đã báo cáo vào xã mới; xã cũ được chia cho nhiều xã mới thì chia theo Tỷ lệ (%).")


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
        raise ToolkitError(f'"{name.strip()}" đã sáp nhập vào {new} từ ngày 1/7/2025; '
                           f'dùng "{new}", danh sách xã của tỉnh này gồm cả các xã cũ')
    close = [keys[k].name for k in difflib.get_close_matches(wanted, list(keys), n=3)]
    hint = f" Có phải ý bạn là: {', '.join(close)}?" if close else ""
    listing = ", ".join(sorted((p.name for p in provinces.values()), key=fold))
    raise ToolkitError(f'không có tỉnh nào tên "{name.strip()}" trong {len(provinces)} tỉnh, '
                       f"thành phố năm 2025.{hint} Dùng một trong các tên sau (có thể gõ không "
                       f"dấu): {listing}")


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
    communes = official_communes(province)
    write_registry(path, province.name, [[c.code, c.name, c.kind, c.province] for c in communes])
    return len(communes)


def write_registry(path: Path, province: str, rows: list[list],
                   notes: tuple[str, ...] = ()) -> None:
    """registry.xlsx with ``rows`` (cells in the order of ``COLUMNS``) and its guide tab:
    the official list as `toolkit init` writes it, or communes mapped from an old registry,
    with ``notes`` (what each came from) under the guide for the officer who checks it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.exists():
        raise ToolkitError(f"{path} đã có và có thể chứa số hộ, email người nhập liệu đã gõ "
                           "tay; hãy chuyển tệp đi chỗ khác hoặc chọn thư mục khác")
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append([header for _, header, _ in COLUMNS])
    for row in rows:
        sheet.append(row)
    last = len(rows) + 1
    for row in sheet.iter_rows(min_row=2, max_row=last):
        row[0].number_format = "@"
        row[9].number_format = "@"
        row[10].number_format = row[11].number_format = "DD/MM/YYYY"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        width = max(len(str(c.value)) for c in column if c.value is not None)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 12), 50)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{sheet.cell(1, len(COLUMNS)).column_letter}{last}"
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                           error="Nhập số hộ là số nguyên, ví dụ 1250", showErrorMessage=True)
    kind = DataValidation(type="list", formula1=f'"{",".join(KINDS)}"', showErrorMessage=True)
    sheet.add_data_validation(whole)
    sheet.add_data_validation(kind)
    whole.add(f"F2:F{last}")
    kind.add(f"C2:C{last}")
    _enterprise_sheet(book, sheet, last)
    guide = book.create_sheet(HELP_SHEET)
    guide.append([f"Hướng dẫn điền danh sách xã — {province}"])
    guide["A1"].font = Font(bold=True)
    for line in HELP_LINES:
        guide.append([line])
    if notes:
        guide.append([])
        guide.append(["Các xã cũ đã chuyển sang xã mới:"])
        guide.cell(guide.max_row, 1).font = Font(bold=True)
        guide.append([MERGED_NOTE])
        for line in notes:
            guide.append([line])
    guide.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _enterprise_sheet(book, communes, last: int) -> None:
    """The «Doanh nghiệp bưu chính» sheet, empty under its headers, and a drop-down of its
    codes on the communes' "Doanh nghiệp bưu chính" column."""
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from toolkit.registry import HEADERS

    sheet = book.create_sheet(postal.SHEET)
    sheet.append(list(postal.HEADERS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(len(cell.value) + 2, 16)
    sheet.freeze_panes = "A2"
    kinds = DataValidation(type="list", formula1=f'"{",".join(postal.KINDS)}"',
                           showErrorMessage=True)
    sheet.add_data_validation(kinds)
    kinds.add("C2:C50")
    column = next(c.column_letter for c in communes[1] if c.value == HEADERS["postal"])
    served = DataValidation(type="list", formula1=f"'{postal.SHEET}'!$A$2:$A$50",
                            showErrorMessage=True, allow_blank=True,
                            error=f"Chọn mã doanh nghiệp ghi ở trang «{postal.SHEET}»")
    communes.add_data_validation(served)
    served.add(f"{column}2:{column}{last}")


@dataclass(frozen=True)
class Official:
    names: Mapping[str, str]                   # code → "Xã Thất Khê"
    provinces: Mapping[str, str]               # code → province code

    def code_of(self, display_name: str, near: str) -> str | None:
        """The official code of a commune of this name in the province of ``near``."""
        wanted, province = fold(display_name), self.provinces.get(near)
        found = [c for c, n in self.names.items()
                 if fold(n) == wanted and self.provinces[c] == province]
        return found[0] if len(found) == 1 else None


@functools.cache
def official() -> Official:
    """The official 2025 units, made once a process (read-only, shared): every workspace
    opened compares its registry with them, and listing the country's 3,321 took 10 ms."""
    from vietnam_provinces import Ward

    wards = list(Ward.iter_all())
    return Official(
        MappingProxyType({f"{int(w.code):05d}": " ".join(w.name.split()) for w in wards}),
        MappingProxyType({f"{int(w.code):05d}": str(w.province_code) for w in wards}))


def _spelling(name: str) -> list[tuple[str, str]]:
    """Words with their diacritics, case-free; old and new tone placement ("Hòa", "Hoà") match."""
    words = unicodedata.normalize("NFD", name.lower()).split()
    return [(fold(w), "".join(sorted(c for c in w if unicodedata.combining(c) or c == "đ")))
            for w in words]


def compare_official(communes: list[tuple[int, Commune]]) -> list[str]:
    """Warn when a code is not an official 2025 unit or its name differs from the official one."""
    names = official().names
    warnings = []
    for number, commune in communes:
        name = names.get(commune.code, "")
        if not name:
            warnings.append(f"dòng {number}: mã {commune.code} ({commune.display_name}) không "
                            "phải mã xã chính thức năm 2025 — hãy kiểm tra lại")
        elif _spelling(name) != _spelling(commune.display_name):
            warnings.append(f"dòng {number}: mã {commune.code} là {name} trong danh sách chính "
                            f"thức 2025, nhưng danh sách xã ghi {commune.display_name}")
    return warnings
