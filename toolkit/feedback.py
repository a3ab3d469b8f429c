"""What goes back into each commune's workbook: the Kiểm tra tab and a banner on report tabs.

The toolkit writes only what it owns. Both are rewritten only when their content changed, so
a quiet day costs no writes, and a workbook edited since it was read is left for the next run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import namedtuple
from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pandas as pd

from toolkit.checks import error_rows
from toolkit.errors import WorkbookBusy, WorkbookError, unexpected
from toolkit.layout import STYLE, Banner, display_period, parse_a1, period_phrase, tab_layout
from toolkit.periods import Status
from toolkit.templates import ReportSpec

LEVEL_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
#: The Kiểm tra tab lists at most this many problems, most important first, then a count of
#: the rest: what a commune pastes must not decide what a sweep costs.
FEEDBACK_LIMIT = 200
#: Cells named in an amber banner before "…".
BANNER_CELLS = 5
Progress = Callable[[str], None]
log = logging.getLogger("toolkit")
#: Why a write was deferred when the workbook changed since it was read or while it was written.
EDITED = "sổ vừa được xã sửa (sau lần đọc, hoặc trong lúc ghi); bản xã lưu được giữ nguyên"


def feedback_rows(issues: pd.DataFrame, limit: int = FEEDBACK_LIMIT) -> list[list[str]]:
    """A commune's Kiểm tra rows: errors before warnings, newest period first within each;
    past ``limit``, one last row says how many more there are."""
    return _rows(list(_ordered(issues).itertuples()), limit)


def _ordered(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues in Kiểm tra's order (see ``_order``)."""
    return issues.take(_order(issues))


def _order(issues: pd.DataFrame) -> np.ndarray:
    """Positions of ``issues`` in Kiểm tra's order: errors, then warnings, then any other
    level; newest period first; then tab and cell; a missing value after all others.

    The sort is stable, so a commune's rows come out the same whether its issues are sorted
    alone or with the whole province's (one sort a sweep). It is ``sort_values`` of those
    keys (``[True, False, True, True]``) as one ``np.lexsort`` of their ranks, which is how
    pandas sorts by several columns, without the frame's own overhead: that was most of a
    small province's feedback when nothing changed.
    """
    level = np.asarray(issues["level"].to_numpy(), dtype=object)
    rank = np.where(level == "error", 0, np.where(level == "warning", 1, 2))
    return np.lexsort((_ranked(issues["cell"]), _ranked(issues["tab"]),
                       _ranked(issues["period"], descending=True), rank))


def _ranked(values: pd.Series, descending: bool = False) -> np.ndarray:
    """Each value's rank among the distinct values in sorted (or reversed) order; missing
    values rank last either way, as in ``sort_values``."""
    codes, uniques = pd.factorize(values)
    order = np.argsort(np.asarray(uniques, dtype=object), kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.intp)
    steps = np.arange(len(order))
    rank[order] = len(order) - 1 - steps if descending else steps
    rank[-1] = len(order)                  # code -1: a missing value
    return rank[codes]


_Issue = namedtuple("_Issue", ["commune_code", "period", "tab", "cell", "value", "message",
                               "fix", "level"])


def _as_tuples(issues: pd.DataFrame) -> list[_Issue]:
    """The issues as tuples of what a Kiểm tra row shows, read column by column: itertuples
    made a Series of every column first, most of a province's write when nothing changed."""
    return list(map(_Issue._make, zip(
        *(issues[name].tolist() for name in _Issue._fields), strict=True)))


def _rows(ordered: list, limit: int = FEEDBACK_LIMIT) -> list[list[str]]:
    rows = [[display_period(r.period), r.tab, r.cell, r.value, r.message, r.fix,
             LEVEL_LABELS.get(r.level, r.level)] for r in ordered[:limit]]
    if len(ordered) > limit:
        rest = ordered[limit:]
        errors = sum(1 for r in rest if r.level == "error")
        rows.append(["", "", "", "", f"… và {len(rest)} vấn đề khác ({errors} lỗi) chưa liệt kê "
                     "ở đây.", "Sửa các lỗi ở trên trước; danh sách cập nhật ở lần kiểm tra sau.",
                     ""])
    return rows


def noted_cells(rows: list[list[str]]) -> dict[str, list[list[int]]]:
    """tab → the cells (0-based row, column) the Kiểm tra rows name: where a store that notes
    offending cells (Google) put its notes, so the next write clears those and no other."""
    cells: dict[str, set[tuple[int, int]]] = {}
    for row in rows:
        where = parse_a1(str(row[2] or "")) if len(row) >= 7 else None
        if where is not None:
            cells.setdefault(str(row[1]), set()).add((where[0] - 1, where[1] - 1))
    return {tab: [list(c) for c in sorted(found)] for tab, found in cells.items()}


def feedback_summary(errors: int, warnings: int, now: datetime) -> str:
    stamp = f"{now:%H:%M %d/%m/%Y}"
    if not errors and not warnings:
        return f"Kiểm tra lúc {stamp}: không có lỗi. Cảm ơn xã đã báo cáo đầy đủ!"
    return (f"Kiểm tra lúc {stamp}: {errors} lỗi, {warnings} cảnh báo — sửa các ô dưới đây trong "
            "trang báo cáo; trang này tự cập nhật ở lần kiểm tra sau.")


def banner_texts(specs: list[ReportSpec], registry, versions: dict[str, pd.DataFrame],
                 issues: pd.DataFrame, *, day: date, now: datetime,
                 campaign: tuple[date, date]) -> dict[str, dict[str, Banner]]:
    """For each commune, the first line of each periodic report tab, in three states.

    Nothing received for the current period: red, with the deadline ("⚠ Chưa báo cáo ngày
    23/11/2026 — hạn 17:00"). Received but incomplete or with errors in its cells: amber,
    naming the cells. Received and complete, or a period not expected (a weekend on a
    working-days calendar): the tab's title. The commune's deadline is the deadline itself,
    without the province's grace. ``versions`` maps report keys to the rows validate already
    read from the ledger; ``issues`` are validate's.
    """
    from toolkit.status import STATUSES, status_grid

    banners: dict[str, dict[str, Banner]] = {c.code: {} for c in registry.communes}
    wrong_cells = _wrong_cells(issues)
    for spec in specs:
        if spec.period == "once":
            continue
        period = spec.deadline.key_on(day)
        deadline = spec.deadline.for_key(period)
        rows = versions[spec.key]
        rows = rows[rows["period"] == period]
        # status_table's rules, read off the grid of one period: its rows are the
        # registry's communes in order.
        grid = status_grid(spec, registry, rows, [period], as_of=now, grace=pd.Timedelta(0),
                           campaign=campaign)
        for commune, code in zip(registry.communes, grid.status[:, 0].tolist(), strict=True):
            status = STATUSES[code]
            wrong = wrong_cells.get((spec.key, period, commune.code), [])
            if status in (Status.PENDING, Status.MISSING):
                banner = Banner(_not_received(spec.period, period, deadline, now), "missing")
            elif status is Status.INCOMPLETE or (status.reported and wrong):
                banner = Banner(_to_fix(spec.period, period, wrong), "problems")
            else:
                banner = Banner(tab_layout(spec, commune.display_name, *campaign).title)
            banners[commune.code][spec.tab] = banner
    return banners


def _wrong_cells(issues: pd.DataFrame) -> dict[tuple[str, str, str], list[str]]:
    """(report, period, commune) → the distinct cells of its errors, in sheet order: picked
    from the issues once, not grouped again for every report."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for report, period, code, cell in error_rows(issues, ("report", "period", "commune_code",
                                                          "cell")):
        if cell != "":
            found.setdefault((report, period, code), []).append(cell)
    return {key: sorted(set(cells), key=lambda ref: parse_a1(ref) or (0, 0))
            for key, cells in found.items()}


def _not_received(spec_period: str, period: str, deadline: datetime, now: datetime) -> str:
    if now <= deadline:
        day_of = {"daily": "", "monthly": f" ngày {deadline:%d/%m}"}.get(
            spec_period, f" ngày {deadline:%d/%m/%Y}")
        return (f"⚠ Chưa báo cáo {period_phrase(spec_period, period)} — hạn "
                f"{deadline:%H:%M}{day_of}")
    return (f"⚠ Chưa báo cáo {period_phrase(spec_period, period)} — đã quá hạn "
            f"{deadline:%H:%M}, đề nghị nhập ngay")


def _to_fix(spec_period: str, period: str, cells: list[str]) -> str:
    if not cells:
        return (f"⚠ Đã nhận báo cáo {period_phrase(spec_period, period)} nhưng chưa đủ các "
                "cột bắt buộc — xem trang Kiểm tra")
    named = ", ".join(cells[:BANNER_CELLS]) + (", …" if len(cells) > BANNER_CELLS else "")
    return (f"⚠ Đã nhận báo cáo {period_phrase(spec_period, period)} nhưng còn {len(cells)} "
            f"ô cần sửa: {named} — xem trang Kiểm tra")


def write_feedback(issues: pd.DataFrame, banners: dict[str, dict[str, Banner]], registry,
                   store, ledger, *, now: datetime, report_tabs: tuple[str, ...] = (),
                   progress: Progress | None = None) -> tuple[list, int, list, list]:
    """Rewrite each commune's Kiểm tra tab and banners whose content changed.

    A workbook someone has open, or edited since it was read or while it was written, is
    deferred (commune name, why): nothing was written, and the next run tries again. A
    commune whose write fails — the folder refuses it, Google refuses, or a bug — is in the
    failures (commune code, what to do); the others are still written.
    """
    known = ledger.workbooks()
    previous = ledger.feedback_hashes()
    noted = ledger.feedback_notes()
    written, deferred, failures, unchanged = [], [], [], 0
    by_commune: dict[str, list] = {}
    listed = _as_tuples(issues)
    for issue in map(listed.__getitem__, _order(issues).tolist()):
        by_commune.setdefault(issue.commune_code, []).append(issue)
    for commune in registry.communes:
        record = known.get(commune.code)
        if record is None:
            continue
        mine = by_commune.get(commune.code, [])
        rows = _rows(mine)
        mine_banners = banners.get(commune.code, {})
        # STYLE: a new look of Kiểm tra and the cell marks is written once to every commune.
        content = json.dumps([STYLE, rows,
                              sorted((t, b.text, b.tone) for t, b in mine_banners.items())],
                             ensure_ascii=False)
        digest = hashlib.sha256(content.encode()).hexdigest()[:20]
        if previous.get(commune.code) == digest:
            unchanged += 1
            continue
        try:
            levels = [i.level for i in mine]
            summary = feedback_summary(levels.count("error"), levels.count("warning"), now)
            stamp = store.write_feedback(record.locator, rows, summary,
                                         record.last_modified or "", now, banners=mine_banners,
                                         report_tabs=report_tabs,
                                         noted=noted.get(commune.code, {}))
        except WorkbookBusy as exc:
            deferred.append((commune.display_name, str(exc)))
            continue
        except WorkbookError as exc:
            failures.append((commune.code, f"không ghi được trang Kiểm tra: {exc}"))
            continue
        except Exception as exc:      # one commune's bug must not stop the province's run
            log.exception("ghi trang Kiểm tra cho xã %s: lỗi", commune.code)
            failures.append((commune.code, unexpected("ghi trang Kiểm tra", exc)))
            continue
        if stamp is None:
            deferred.append((commune.display_name, EDITED))
        else:
            ledger.record_feedback(commune.code, digest, stamp, now, noted=noted_cells(rows))
            written.append(commune.display_name)
        if progress:
            progress(commune.display_name)
    return written, unchanged, deferred, failures
