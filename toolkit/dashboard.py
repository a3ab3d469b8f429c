"""The pages a director reads first: Tổng hợp, Tiến độ chỉ tiêu, Diễn biến, Xếp hạng,
Xếp hạng thi đua.

Built as :class:`toolkit.archive.Table` values, so the Excel archive and the Google rollup
spreadsheet show the same pages. Tổng hợp passes the ten-second test: a title block (report,
day, "as of" time, province, the day's reporting in one line), the province total and district
subtotals above the communes, and the figures that matter — status, today's figure, cumulative,
% of target, gap — before the others. A figure a commune never typed is blank and coloured,
never 0.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from toolkit.goals import needed
from toolkit.layout import period_phrase
from toolkit.moment import as_of_words, sentence
from toolkit.periods import PERIOD_WORDS, Status
from toolkit.rollup import NO_HOUSEHOLDS, Rollup, figure_columns
from toolkit.status import PROVINCE, UNKNOWN_DISTRICT
from toolkit.wording import reporter_headers, reporters_word

TOTAL_LABEL = "Toàn tỉnh"
RANKED = 10
SHORT_NO_HOUSEHOLDS = "Chưa có số hộ, chưa tính được tỷ lệ"
LATE_FILL = "FFC7CE"
COMPLETION = "Tỷ lệ hoàn thành chỉ tiêu"
PROGRESS_HEADERS = {
    "code": "Mã xã", "commune": "Xã/phường", "district": "Huyện (cũ)", "target": "Chỉ tiêu",
    "level": "Mức chỉ tiêu", "households": "Số hộ", "done": "Đã đạt (lũy kế)",
    "goal": "Cần đạt", "share": "Tỷ lệ đạt / số hộ", "completion": COMPLETION,
    "gap": "Còn thiếu",
    "pace": "Bình quân/ngày (7 ngày qua)", "projected": "Dự kiến ngày đạt",
    "outlook": "Đánh giá",
}
RANKING_HEADERS = {"target": "Chỉ tiêu", "group": "Nhóm", "rank": "Hạng",
                   "commune": "Xã/phường", "district": "Huyện (cũ)",
                   "completion": COMPLETION, "share": "Tỷ lệ đạt / số hộ",
                   "level": "Mức chỉ tiêu"}
EMULATION = "Xếp hạng thi đua"
SCORE_HEADERS = {"score": "Điểm thi đua", "score_full": "Hoàn thành bình quân (không giới hạn)"}


def report_line(rollup: Rollup) -> str:
    """Report and day, as the title and every printed page's header say them."""
    return f"{rollup.spec.title} — {period_phrase(rollup.spec.period, rollup.period)}"


def title_lines(rollup: Rollup) -> tuple[str, ...]:
    province = rollup.areas.iloc[-1]
    expected = int(province["expected"] or 0)
    reported = sum(int(province[s.value] or 0) for s in Status if s.reported)
    timely = sum(int(province[s.value] or 0) for s in Status if s.timely)
    waiting = sum(int(province[s.value] or 0) for s in Status if s.chased)
    place = f"Tỉnh {rollup.province} · " if rollup.province else ""
    deadline = rollup.status.deadline
    first = place + sentence(as_of_words(rollup.moment)) + f" · hạn nộp {deadline:%H:%M %d/%m/%Y}"
    share = (lambda n: f" ({n / expected:.0%})") if expected else (lambda n: "")
    who = reporters_word(rollup.spec)
    second = (f"Đã báo cáo {reported}/{expected} {who}{share(reported)} · đúng hạn "
              f"{timely}{share(timely)} · chưa báo cáo hoặc chưa đủ {waiting} {who}")
    return report_line(rollup), first, second


def summary_names(rollup: Rollup) -> dict[str, str]:
    """Column → Vietnamese header of Tổng hợp, in the order shown: what matters first."""
    spec = rollup.spec
    day_word = f"trong {PERIOD_WORDS[spec.period]}" if spec.period in PERIOD_WORDS else ""
    once = spec.period == "once"

    def day(key: str) -> str:
        return f"{spec.field_spec(key).header} {day_word}".strip()

    def cum(key: str) -> str:
        header = spec.field_spec(key).header
        return header if once else f"{header} (lũy kế)"

    names = reporter_headers(spec) | {"status_label": "Tình trạng báo cáo"}
    if len(rollup.areas) > 1:
        names["district"] = "Huyện (cũ)"
    figures = figure_columns(spec)
    shown: list[str] = []
    for target in spec.targets:
        if not once:
            names[f"day_{target.numerator}"] = day(target.numerator)
        names[f"cum_{target.numerator}"] = cum(target.numerator)
        assigned = assigned_any(rollup, target)
        names[f"pct_{target.key}"] = f"{target.label} / số hộ" if assigned \
            else f"{target.label} / số hộ (chỉ tiêu {target.threshold:.0%})"
        if assigned:
            names[f"level_{target.key}"] = f"{target.label}: mức chỉ tiêu"
            names[f"completion_{target.key}"] = f"{target.label}: {COMPLETION.lower()}"
        names[f"gap_{target.key}"] = f"{target.label}: còn thiếu (hộ)"
        shown.append(target.numerator)
    if not spec.keyed:          # an enterprise has no households of its own
        names["households"] = "Số hộ"
    for key in figures:
        if key not in shown and not once:
            names[f"day_{key}"] = day(key)
    for key in figures:
        if key not in shown:
            names[f"cum_{key}"] = cum(key)
    if spec.targets:
        names["rank"] = "Xếp hạng thi đua"
    names["errors"] = "Số lỗi"
    names["note"] = "Ghi chú"
    return names


def summary_frame(rollup: Rollup, only: Collection[str] | None = None,
                  ) -> tuple[pd.DataFrame, int]:
    """Totals (province, then districts) above the communes; and how many total rows.

    With ``only``, just those of its columns, in the same order and of the same types: the
    tab shows half of the forty-odd. Each column is what ``pd.concat`` of the totals
    (``DataFrame.from_records``) above the communes made of it, values and dtype, but stacked
    on arrays and the frame made at once: on a few communes, concatenating the frames cost
    more than all their figures.
    """
    spec = rollup.spec
    communes = rollup.communes
    gaps = {}
    for target in spec.targets:
        # On the values as lists: Series.map and a Series' iteration give the same ones.
        goal = map(needed, communes[f"goal_{target.key}"].tolist())
        gaps[f"gap_{target.key}"] = pd.Series([
            None if g is None else max(g - done, 0)
            for g, done in zip(goal, communes[f"cum_{target.numerator}"].tolist(),
                               strict=True)])
    errors = _area_errors(rollup)
    totals = [_total_row(rollup, area, sum(errors.values()) if area["area"] == PROVINCE
                         else errors.get(area["area"], 0))
              for area in _area_order(rollup)]
    # The communes' columns, then the gaps (as communes.assign would add them), then any the
    # totals have alone.
    order = [column for column in [*communes.columns, *gaps, *totals[0]]
             if only is None or column in only]
    order = list(dict.fromkeys(order))
    # Never typed: blank, not a zero that reads like a real one. Column by column on plain
    # arrays: DataFrame.where on a few rows cost more than the rest of the tab.
    typed_day = communes["typed_day"].to_numpy(dtype=bool)
    typed_any = communes["typed_any"].to_numpy(dtype=bool)
    lower = {}
    for column in order:
        values = gaps[column] if column in gaps else communes.get(column)
        if values is None:
            lower[column] = None
        elif column.startswith("day_"):
            lower[column] = _blank_where(values, typed_day)
        elif column.startswith(("cum_", "pct_", "gap_", "completion_")) or column == "rank":
            lower[column] = _blank_where(values, typed_any)
        elif column == "note":
            lower[column] = _values(values.replace(NO_HOUSEHOLDS, SHORT_NO_HOUSEHOLDS))
        else:
            lower[column] = _values(values)
    top = {column: _values(values) for column, values in pd.DataFrame.from_records(
        [{k: v for k, v in row.items() if k in lower} for row in totals]).items()}
    frame = pd.DataFrame({column: _as_given(_stacked(column, top.get(column), lower[column],
                                                     len(totals), len(communes)))
                          for column in order})
    return frame, len(totals)


def _values(column: pd.Series):
    """A column's values: a numpy array for a numpy dtype, else its extension array."""
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def _stacked(column: str, top, lower, totals: int, communes: int):
    """The totals' values ``top`` above the communes' ``lower`` (None: a side without the
    column) as ``pd.concat`` stacks two frames' column: of their common dtype, NaN where a side
    has none. The pairs Tổng hợp meets are stacked on the arrays; any other, by pd.concat."""
    if top is None and lower is not None and isinstance(lower.dtype, np.dtype) \
            and lower.dtype.kind in "biu":
        # A side without the column upcasts the other: whole numbers to float, booleans to
        # objects (the communes' typed_day, assigned_<key>), each filled with NaN then.
        lower = lower.astype(object if lower.dtype.kind == "b" else np.float64)
    if top is None and lower is not None and _holds_nan(lower.dtype):
        top = _blanks(lower.dtype, totals)
    if top is not None and lower is not None:
        if top.dtype == lower.dtype:
            return np.concatenate([top, lower]) if isinstance(top, np.ndarray) \
                else type(top)._concat_same_type([top, lower])
        dtypes = (top.dtype, lower.dtype)
        if object in dtypes and all(isinstance(dtype, pd.StringDtype) or (
                isinstance(dtype, np.dtype) and dtype.kind in "iufbO") for dtype in dtypes):
            # One side is objects: both become objects, each value as its dtype gives it.
            return np.concatenate([np.asarray(top.astype(object)),
                                   np.asarray(lower.astype(object))])
    sides = [pd.DataFrame(index=range(rows)) if values is None
             else pd.DataFrame({column: pd.Series(values, dtype=values.dtype, copy=False)})
             for values, rows in ((top, totals), (lower, communes))]
    return _values(pd.concat(sides, ignore_index=True)[column])


def _holds_nan(dtype) -> bool:
    """Whether pd.concat fills a side without the column in this dtype (else it upcasts)."""
    return not isinstance(dtype, np.dtype) or dtype.kind in "fO"


def _blanks(dtype, rows: int):
    """``rows`` missing values of ``dtype``, as pd.concat fills a side without the column."""
    if isinstance(dtype, np.dtype):
        return np.full(rows, np.nan, dtype=dtype)
    return pd.array([], dtype=dtype).take(np.full(rows, -1), allow_fill=True)


def _as_given(values):
    """``values`` as the DataFrame constructor keeps them: an array of objects holding other
    than numbers and None (text, say) in a Series of objects, which it takes as it is (a bare
    one of text and None it would read as text)."""
    if isinstance(values, np.ndarray) and values.dtype == object \
            and not all(v is None or type(v) in (float, int) for v in values):
        return pd.Series(values, dtype=object, copy=False)
    return values


def _blank_where(column: pd.Series, typed: np.ndarray) -> np.ndarray:
    """``column`` as objects, None where ``typed`` does not hold."""
    values = column.to_numpy().astype(object) if isinstance(column.dtype, np.dtype) \
        else np.array(column.astype(object).to_numpy())
    values[~typed] = None
    return values


def _area_order(rollup: Rollup) -> list[dict]:
    """The rollup's area rows, as ``DataFrame.iterrows`` gives their values: the province
    first, then its districts."""
    areas = rollup.areas
    rows = [dict(zip(areas.columns, values, strict=True)) for values in areas.to_numpy()]
    return [rows[-1], *rows[:-1]]


def _area_errors(rollup: Rollup) -> dict[str, int]:
    """District → its communes' errors (the targets' goals and what was done toward them are
    on the rollup's area rows already)."""
    errors: dict[str, int] = {}
    for district, count in zip(rollup.communes["district"], rollup.communes["errors"],
                               strict=True):
        area = district if isinstance(district, str) and district else UNKNOWN_DISTRICT
        errors[area] = errors.get(area, 0) + int(count)
    return errors


def _total_row(rollup: Rollup, area: dict, errors: int) -> dict:
    """The totals of ``area`` (a row of the rollup's areas), with its communes' ``errors``."""
    spec = rollup.spec
    province = area["area"] == PROVINCE
    expected = int(area["expected"] or 0)
    reported = sum(int(area[s.value] or 0) for s in Status if s.reported)
    row = {"code": None,
           "commune": TOTAL_LABEL if province else f"Cộng {area['area']}",
           "district": None if province else area["area"],
           "status_label": f"Đã báo cáo {reported}/{expected} {reporters_word(spec)}",
           "households": area["households"] or None}
    for column in area:
        if column.startswith(("day_", "cum_", "pct_", "completion_")):
            row[column] = area[column]
    for target in spec.targets:
        goal = needed(area[f"goal_{target.key}"])
        row[f"gap_{target.key}"] = None if goal is None \
            else max(goal - area[f"done_{target.key}"], 0)
    row["errors"] = errors
    return row


def progress_frame(rollup: Rollup) -> pd.DataFrame:
    """Tiến độ chỉ tiêu: commune × target, the projected date a real date."""
    return rollup.progress


def assigned_any(rollup: Rollup, target) -> bool:
    """Whether some commune was assigned its own level of ``target`` (registry)."""
    column = f"assigned_{target.key}"
    return column in rollup.communes and bool(rollup.communes[column].any())


def ranking_frame(rollup: Rollup) -> tuple[pd.DataFrame, list[tuple[str, int, int]]]:
    """Per target the top and bottom communes by completion of their own target (all, when
    few), and each block's (title, first row, rows) for its chart: the columns of
    RANKING_HEADERS, each stacked at once from the communes' arrays (taking, assigning and
    concatenating a frame per target cost more than the rest of the tab)."""
    communes = rollup.communes
    codes = communes["code"].to_numpy(dtype=object)
    blocks, picks, start = [], [], 0
    for target in rollup.spec.targets:
        completion = communes[f"completion_{target.key}"].to_numpy(dtype=float)
        # Best first, then by code.
        scored = np.flatnonzero(~np.isnan(completion))
        ranked = scored[np.lexsort((codes[scored], -completion[scored]))]
        places = np.arange(1, len(ranked) + 1)
        if len(ranked) > 2 * RANKED:
            shown = np.r_[:RANKED, len(ranked) - RANKED:len(ranked)]
            group = [f"{RANKED} xã cao nhất"] * RANKED + [f"{RANKED} xã thấp nhất"] * RANKED
            what = f"{RANKED} xã cao nhất và {RANKED} xã thấp nhất"
        else:
            shown, what = np.arange(len(ranked)), "các xã"
            group = ["Tất cả các xã"] * len(ranked)
        if not len(shown):
            continue
        level = "chỉ tiêu giao cho từng xã" if assigned_any(rollup, target) \
            else f"chỉ tiêu {target.threshold:.0%} số hộ"
        blocks.append((f"{target.label}: {what} ({level})", start, len(shown)))
        picks.append((target, ranked[shown], places[shown], group))
        start += len(shown)
    if not picks:
        return pd.DataFrame(), []
    rows = [taken for _, taken, _, _ in picks]
    columns = {"target": [target.label for target, taken, _, _ in picks for _ in taken],
               "group": [label for *_, group in picks for label in group],
               "rank": np.concatenate([places for _, _, places, _ in picks])}
    for column in ("commune", "district"):
        if column in communes:
            columns[column] = _taken([communes[column]] * len(picks), rows)
    for column, kind in (("completion", "completion"), ("share", "pct"), ("level", "level")):
        columns[column] = _taken([communes[f"{kind}_{target.key}"] for target, *_ in picks],
                                 rows)
    return pd.DataFrame(columns), blocks


def _taken(sources: list[pd.Series], rows: list[np.ndarray]):
    """The ``rows`` of each source one after another, as concatenating their takes would
    stack them (by pd.concat itself where the sources' dtypes differ), ready for the
    DataFrame constructor (:func:`_as_given`)."""
    if len({source.dtype for source in sources}) > 1:
        return _as_given(_values(pd.concat([source.take(taken).to_frame("values")
                                            for source, taken in zip(sources, rows, strict=True)],
                                           ignore_index=True)["values"]))
    values = [_values(source) for source in sources]
    if isinstance(values[0], np.ndarray):
        return _as_given(np.concatenate([array[taken] for array, taken
                                         in zip(values, rows, strict=True)]))
    return type(values[0])._concat_same_type([array.take(taken) for array, taken
                                              in zip(values, rows, strict=True)])


def emulation_frames(rollup: Rollup) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Xếp hạng thi đua: every ranked commune, then every ranked district, best first, with
    each target's completion and the score; and the Vietnamese headers."""
    names = {"rank": "Hạng", "commune": "Xã/phường", "district": "Huyện (cũ)"}
    for target in rollup.spec.targets:
        names[f"completion_{target.key}"] = f"{target.label}: {COMPLETION.lower()}"
    names |= SCORE_HEADERS
    communes = _by_rank(rollup.communes, names)
    areas = rollup.areas
    districts = _by_rank(areas, [*names, "area"]).rename(columns={"area": "district"}) \
        if "rank" in areas and len(areas) > 1 else areas.iloc[0:0]
    return communes, districts, names


def _by_rank(frame: pd.DataFrame, shown: Collection[str]) -> pd.DataFrame:
    """The ranked rows of ``frame``, best first, as filtering it on its rank and sorting by it
    would order them, of just its ``shown`` columns: taken once, not copied whole twice."""
    rank = frame["rank"].reset_index(drop=True)
    best_first = rank[rank.notna()].sort_values().index.to_numpy()
    return frame[[column for column in shown if column in frame]].take(best_first)


def series_names(rollup: Rollup) -> dict[str, str]:
    spec = rollup.spec
    names = {"period": "Kỳ", "reporting_rate": "Tỷ lệ báo cáo",
             "on_time_rate": "Tỷ lệ đúng hạn"}
    for target in spec.targets:
        names[f"pct_{target.key}"] = f"{target.label} / số hộ (lũy kế)"
    # One line per level the province works to (the targets at 50% share one).
    levels: dict[float, str] = {}
    for target in spec.targets:
        column = f"goal_{target.key}"
        if column in rollup.series and len(rollup.series):
            levels.setdefault(round(float(rollup.series[column].iloc[-1]), 4), target.key)
    for level, key in sorted(levels.items(), reverse=True):
        names[f"goal_{key}"] = f"Mức chỉ tiêu {level:.0%}"
    for key in figure_columns(spec):
        names[key] = spec.field_spec(key).header
    for target in spec.targets:
        names[f"cum_{target.numerator}"] = f"{spec.field_spec(target.numerator).header} (lũy kế)"
    return names
