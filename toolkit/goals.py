"""A commune's goal for each target of a report, and the thi đua (emulation) ranking by it.

A template's target is one share of households for every commune (50% with a digital shop);
district and commune chairmen assign each commune its own "phù hợp với tình hình thực tế"
(registry column "Chỉ tiêu: <label>"): a share of its households or a count. Progress, gaps,
projections, area totals and the ranking all divide by the goal this module decides, so a
commune is never judged against a target it was not given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from toolkit.parse import format_vn_number
from toolkit.registry import COUNT, TARGET_PREFIX, fold

#: How the thi đua ranking orders, said in the tab's note.
RANKING_RULE = (
    "Điểm thi đua = trung bình các chỉ tiêu của tỷ lệ hoàn thành chỉ tiêu được giao "
    "(đã đạt ÷ chỉ tiêu; mỗi chỉ tiêu tính tối đa 100%).",
    "Bằng điểm: đơn vị vượt chỉ tiêu nhiều hơn (tỷ lệ hoàn thành bình quân không giới hạn) "
    "đứng trước; vẫn bằng: theo mã xã (tên huyện).",
    "Đơn vị chưa tính được chỉ tiêu nào (chưa có số hộ, không được giao số lượng) không được "
    "xếp hạng.")


def assigned(target, commune) -> tuple[str, float] | None:
    """The commune's own (kind, value) for ``target``, or None: the template's threshold."""
    wanted = fold(target.label)
    return next(((kind, value) for label, kind, value in commune.targets
                 if fold(label) == wanted), None)


def level_words(target, own: tuple[str, float] | None) -> str:
    """The target a commune works to, in words: "50% số hộ", "60% số hộ (giao riêng)"."""
    if own is None:
        return f"{target.threshold:.0%} số hộ"
    kind, value = own
    shown = format_vn_number(round(value)) if kind == COUNT else f"{value:.0%} số hộ"
    return f"{shown} (giao riêng)"


def commune_goals(spec, registry, codes: pd.Index, households: pd.Series) -> pd.DataFrame:
    """Per commune (``codes``) and target: ``goal_<key>``, the count that reaches it (a share
    times the households, not rounded, so completion orders exactly as the share did; NaN when
    the households of a share are unknown), ``level_<key>`` in words and ``assigned_<key>``."""
    return pd.DataFrame(goal_columns(spec, registry, codes, households), index=codes)


def goal_columns(spec, registry, codes, households: pd.Series) -> dict[str, list]:
    """:func:`commune_goals`'s columns as lists, for a caller that puts them in its own frame
    (the rollup's communes): a frame of its own costs a province more than its goals."""
    if not spec.targets:
        return {}
    by_code = registry.by_code()
    known = households.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    known = np.where(known > 0, known, np.nan)
    columns: dict[str, list] = {}
    for target in spec.targets:
        own = [assigned(target, commune) if (commune := by_code.get(code)) is not None
               and commune.targets else None for code in codes]
        columns[f"goal_{target.key}"] = [
            o[1] if o is not None and o[0] == COUNT
            else h * (target.threshold if o is None else o[1])
            for o, h in zip(own, known, strict=True)]
        usual = level_words(target, None)
        columns[f"level_{target.key}"] = [usual if o is None else level_words(target, o)
                                          for o in own]
        columns[f"assigned_{target.key}"] = [o is not None for o in own]
    return columns


def needed(goal: float) -> int | None:
    """What a goal asks for in whole households or units (60% of 1,001 is 601)."""
    return None if goal is None or goal != goal else math.ceil(round(goal, 9))


def unknown_labels(registry, specs) -> list[str]:
    """Registry problems: a "Chỉ tiêu: …" column naming no target of any report."""
    labels = {fold(t.label): t.label for s in specs for t in s.targets}
    known = ", ".join(f'"{TARGET_PREFIX} {label}"' for label in labels.values()) or "(không có)"
    return [f'dòng tiêu đề: cột "{TARGET_PREFIX} {label}" không khớp chỉ tiêu nào của các mẫu '
            f"báo cáo — đổi tiêu đề thành một trong: {known}"
            for label in registry.target_labels if fold(label) not in labels]


def completion_score(done: np.ndarray, goals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows × targets of what is done and goals → each row's (capped, uncapped) mean
    completion over the targets it has a goal for; NaN where it has none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(goals > 0, done / goals, np.nan)
        counted = (~np.isnan(ratio)).sum(axis=1)
        capped = np.where(counted, np.nansum(np.minimum(ratio, 1.0), axis=1) / counted, np.nan)
        full = np.where(counted, np.nansum(ratio, axis=1) / counted, np.nan)
    return capped, full


def rank_by_completion(spec, frame: pd.DataFrame, names: list[str]) -> None:
    """Add ``score``, ``score_full`` and the thi đua ``rank`` to rows (communes or areas)
    holding ``done_<key>`` and ``goal_<key>`` of every target; ``names`` break the last ties."""
    for column, values in completion_ranks(spec, frame, names).items():
        frame[column] = values


def completion_ranks(spec, frame: Mapping, names: list[str]) -> dict[str, object]:
    """The ``score``, ``score_full`` and ``rank`` columns of :func:`rank_by_completion`, for a
    caller that adds them with others at once. ``frame`` may be a frame or the columns of one
    being made (name → array), one row per name: each column is read on its own, as a
    province's few rows cost less that way than a sub-frame of them."""
    done = _float_table([frame[f"done_{t.key}"] for t in spec.targets], len(names))
    goals = _float_table([frame[f"goal_{t.key}"] for t in spec.targets], len(names))
    capped, full = completion_score(done, goals)
    order = emulation_order(capped, full, names)
    places = np.zeros(len(names), dtype=np.int64)
    places[order] = np.arange(1, len(order) + 1)
    # Unranked rows are <NA> in an Int64 column.
    return {"score": capped, "score_full": full,
            "rank": pd.arrays.IntegerArray(places, places == 0)}


def _float_table(columns: list, rows: int) -> np.ndarray:
    """Columns (Series or arrays) side by side as one rows × columns float array."""
    table = np.empty((rows, len(columns)))
    for at, column in enumerate(columns):
        table[:, at] = np.asarray(column, dtype=float)
    return table


def emulation_order(capped: np.ndarray, full: np.ndarray, names: list[str]) -> list[int]:
    """Positions of the ranked rows, best first, by :data:`RANKING_RULE`; unranked left out."""
    rows = np.flatnonzero(~np.isnan(capped))
    first, second = -np.round(capped[rows], 9), -np.round(full[rows], 9)
    ties = np.array(names, dtype=object)[rows]
    return rows[np.lexsort((ties, second, first))].tolist()
