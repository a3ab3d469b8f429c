"""How a rollup says its sweep: the moment its figures are as of, when it was made and how many
workbooks that sweep read.

Kept apart from the tables (``toolkit.dashboard``) because these are the only words a quiet
sweep changes: ``toolkit.archive_patch`` replaces them inside a saved archive, and
``toolkit.quiet`` does so without importing pandas or openpyxl at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: The archive's sheet that states the moment as data (Số liệu tính đến, Lập lúc, Lần quét gần
#: nhất); anywhere else in a table's cells the moment's words can only be somebody's text.
FACTS_SHEET = "Thông tin"


@dataclass(frozen=True)
class Moment:
    as_of: datetime
    generated_at: datetime
    as_of_mode: str          # "now" | "deadline"
    communes: int            # communes listed in the rollup


def as_of_words(moment: Moment) -> str:
    return f"số liệu đến {moment.as_of:%H:%M} ngày {moment.as_of:%d/%m/%Y} ({_mode(moment)})"


def as_of_fact(moment: Moment) -> str:
    """The moment the figures are as of, to the second, as the archive's Thông tin says it."""
    return f"{moment.as_of:%H:%M:%S %d/%m/%Y} ({_mode(moment)})"


def made_at_fact(moment: Moment) -> str:
    """When the rollup was made, as the archive's Thông tin says it."""
    return f"{moment.generated_at:%H:%M:%S %d/%m/%Y}"


def sentence(words: str) -> str:
    """``words`` opening a line: the first letter upper case, the others as they are."""
    return words[:1].upper() + words[1:]


def sweep_fact(moment: Moment, workbooks_read: int) -> str:
    """What the sweep that made the rollup read, as the archive's Thông tin says it."""
    return (f"Lần quét gần nhất đọc {workbooks_read} sổ có thay đổi / {moment.communes} "
            "xã (các sổ không đổi dùng số liệu đã đọc trước đó)")


def moment_texts(moment: Moment, workbooks_read: int) -> tuple[str, ...]:
    """Every form in which a rollup's tables and printed pages say their sweep: what a later
    sweep of the same figures says differently (toolkit.archive_patch)."""
    words = as_of_words(moment)
    return (words, sentence(words), as_of_fact(moment), made_at_fact(moment),
            sweep_fact(moment, workbooks_read))


def _mode(moment: Moment) -> str:
    return "theo hạn" if moment.as_of_mode == "deadline" else "hiện tại"
