"""The Vietnamese words officers read for units and statuses, in one place.

Status labels themselves live with the statuses (``periods.STATUS_LABELS``); this module says
how a commune is named inside a sentence, how a set of communes is counted, and in which order
statuses are shown (what needs chasing first).
"""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.periods import Status

#: Problem communes first: nothing in, then not enough, then still open, then late; the
#: communes that need nothing last.
STATUS_ORDER = (Status.MISSING, Status.INCOMPLETE, Status.PENDING, Status.LATE,
                Status.AMENDED, Status.ON_TIME, Status.NOT_EXPECTED)
RANK = {s.value: i for i, s in enumerate(STATUS_ORDER)}

_UNITS = ("xã", "phường", "đặc khu", "doanh nghiệp")


def unit(commune) -> str:
    """"xã", "phường" or "đặc khu": the commune's kind as written inside a sentence; a
    postal enterprise reporting (toolkit.postal) is a "doanh nghiệp"."""
    kind = (commune.kind or "xã").strip().lower()
    return kind if kind in _UNITS else "xã"


def in_sentence(commune) -> str:
    """"phường Đông Kinh": the name as it reads after "UBND", "của", "Kính gửi"…"""
    return f"{unit(commune)} {commune.name}"


def addressee(commune) -> str:
    """Who a reminder is addressed to: "UBND xã Tân Tiến", or the enterprise by its name
    ("Bưu điện tỉnh Lạng Sơn") — an enterprise has no people's committee."""
    if unit(commune) == "doanh nghiệp":
        return commune.name
    return f"UBND {in_sentence(commune)}"


def reporter_headers(spec) -> dict[str, str]:
    """The code and name columns of a table of reporters: communes, or for an enterprise's
    report (``spec.keyed``) the postal enterprises — "Mã xã" over VTP would mislead."""
    if spec.keyed:
        return {"code": "Mã doanh nghiệp", "commune": "Doanh nghiệp"}
    return {"code": "Mã xã", "commune": "Xã/phường"}


def reporters_word(spec) -> str:
    """How a report's reporters are counted in a sentence: "xã", or "doanh nghiệp"."""
    return "doanh nghiệp" if spec.keyed else "xã"


def units_word(communes: Iterable) -> str:
    """How to count a set of communes: "xã", or "xã, phường" when there are wards, …"""
    present = {unit(c) for c in communes}
    return ", ".join(u for u in _UNITS if u in present) or "xã"


def status_counts(counts: dict[str, int]) -> str:
    """"6 chưa báo cáo · 6 chưa đủ · 45 đúng hạn": non-zero counts, problems first."""
    parts = [f"{counts[s.value]} {s.label.lower()}" for s in STATUS_ORDER
             if s is not Status.NOT_EXPECTED and counts.get(s.value)]
    return " · ".join(parts) or "chưa có xã nào"


def units_of_names(names: Iterable[str]) -> str:
    """``units_word`` from display names ("Xã Ba Sơn", "Phường Đông Kinh", "Đặc khu Cô Tô")."""
    present = set()
    for name in names:
        folded = str(name).lower()
        present |= {u for u in _UNITS if folded.startswith(u + " ")}
    return ", ".join(u for u in _UNITS if u in present) or "xã"
