"""What to type instead: the "Cách sửa" of a cell that could not be read, for its field.

Kiểm tra shows the cell as the commune typed it (``parse.typed_text``: 12,5, "1a"), so the fix
works from that text: it says what to type in its place ("nhập 12 hoặc 13, không nhập 12,5"),
not "see the instructions".
"""

from __future__ import annotations

import math
import re

from toolkit.parse import format_vn_number, parse_cell

_DIGITS = re.compile(r"[0-9]+")
_VN_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{3})*(?:,[0-9]+)?|-?[0-9]+(?:,[0-9]+)?")
_DOT_DECIMAL = re.compile(r"-?[0-9]+\.(?:[0-9]{1,2}|[0-9]{4,})")
_COMMA_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def fix_for(field, typed: str) -> str:
    """The fix for ``typed`` in a cell of ``field`` (templates.FieldSpec)."""
    text = str(typed or "").strip()
    if field.type in ("int", "number"):
        return _number_fix(field, text)
    if field.type == "date":
        return ("Nhập ngày dạng ngày/tháng/năm, ví dụ 23/11/2026 (ngày trước, tháng sau, năm "
                f"đủ 4 chữ số), thay cho {_quoted(text)}.")
    if field.type == "choice":
        if field.choices_from_villages:
            return ("Chọn tên thôn/bản trong danh sách (bấm mũi tên bên phải ô); nếu thôn chưa "
                    "có trong danh sách, báo Sở bổ sung.")
        return f"Chọn một trong: {', '.join(field.choices)} (bấm mũi tên bên phải ô)."
    if field.type == "phone":
        digits = "".join(_DIGITS.findall(text))
        count = f" (đang có {len(digits)} chữ số)" if digits else ""
        return f"Nhập đủ 10 chữ số, bắt đầu bằng 0, ví dụ 0912 345 678{count}."
    return "Gõ lại nội dung vào ô này."


def _number_fix(field, text: str) -> str:
    integer = field.type == "int"
    example = "12" if integer else "2,5"
    if text.startswith(("=", "#")):
        return f"Xoá công thức, gõ thẳng số vào ô, ví dụ {example}."
    if integer and _COMMA_THOUSANDS.fullmatch(text):
        digits = text.replace(",", "")
        return f"Nếu là {format_vn_number(int(digits))}, nhập {digits} (chỉ gõ chữ số)."
    dotted = _DOT_DECIMAL.fullmatch(text)
    if dotted and not integer:
        return f"Nhập {text.replace('.', ',')} (phần lẻ dùng dấu phẩy), không nhập {text}."
    found = _DOT_DECIMAL.match(text) if dotted else _VN_DECIMAL.search(text)
    value = (float(found[0]) if dotted else _vn_value(found[0])) if found else None
    if value is None:
        return (f"Nhập một số{' nguyên' if integer else ''}, ví dụ {example}; không có thì "
                "nhập 0.")
    shown = format_vn_number(value)
    low, high = field.min, field.max
    if low is not None and value < low:
        return f"Nhập số từ {format_vn_number(low)} trở lên, không nhập {shown}."
    if high is not None and value > high:
        return f"Nhập số không quá {format_vn_number(high)}, không nhập {shown}."
    if integer and not value.is_integer():
        return (f"Nhập {format_vn_number(math.floor(value))} hoặc "
                f"{format_vn_number(math.ceil(value))} (số nguyên), không nhập {text}.")
    typed = str(int(value)) if integer else shown
    return f"Chỉ gõ số: nhập {typed} (không kèm chữ hay đơn vị), thay cho {_quoted(text)}."


def _vn_value(text: str) -> float | None:
    """The number a Vietnamese-typed text stands for ("12,5" → 12.5), None when it is not one."""
    if not _VN_DECIMAL.fullmatch(text):
        return None
    parsed = parse_cell(text, "number")
    if parsed.value is not None:
        return float(parsed.value)
    if text.startswith("-"):
        positive = parse_cell(text[1:], "number").value
        return -float(positive) if positive is not None else None
    return None


def _quoted(text: str) -> str:
    return f'"{text}"' if text else "ô trống"
