"""collect: read changed commune workbooks into the ledger.

An unchanged workbook (same modification stamp as at the last read) costs nothing. A changed
one is read once, all report tabs together, each as far as its template goes
(``toolkit.sheet_reading``); a cell that cannot be parsed is kept with its raw text and a
message — never dropped, never a silent blank — and a workbook that cannot be read at all is
that commune's failure, never the end of the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from toolkit.backends.base import LOCALE
from toolkit.errors import WorkbookError, unexpected
from toolkit.layout import FEEDBACK_TAB, HELP_TAB, LISTS_TAB, period_keys
from toolkit.ledger import RowVersion
from toolkit.postal import by_reporters
from toolkit.sheet_reading import rows_from_grid, window
from toolkit.templates import ReportSpec

__all__ = ["collect", "rows_from_grid", "CollectResult", "CommuneOutcome"]

Progress = Callable[[str], None]
log = logging.getLogger("toolkit")


@dataclass(frozen=True)
class CommuneOutcome:
    code: str
    name: str
    state: str             # read | unchanged | failed | no_workbook
    new_versions: int = 0
    message: str = ""


@dataclass(frozen=True)
class CollectResult:
    outcomes: tuple[CommuneOutcome, ...]
    warnings: tuple[str, ...] = ()   # e.g. a workbook whose locale is not Vietnamese

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def new_versions(self) -> int:
        return sum(o.new_versions for o in self.outcomes)

    @property
    def failures(self) -> list[CommuneOutcome]:
        return [o for o in self.outcomes if o.state in ("failed", "no_workbook")]


def collect(registry, specs: list[ReportSpec], store, ledger, *, now: datetime,
            campaign: tuple[date, date], always_read: tuple[str, ...] = (),
            confirm: tuple[str, ...] = (), progress: Progress | None = None) -> CollectResult:
    """Read every changed workbook, and the workbooks of ``always_read`` communes first.

    ``campaign`` (first and last day) sets each report tab's period rows, which bound what is
    read. At the deadline the cutoff sweep passes the communes still incomplete as
    ``always_read``: on Google Sheets a row is proven by the time it is fetched, so they are
    fetched soonest, and Drive's modifiedTime lags by minutes, so an unchanged stamp does not
    mean an unchanged workbook — they are read regardless. A store whose stamps are exact (a
    file's mtime) skips them when unchanged, like every other unchanged workbook: those cost
    nothing. The ``confirm`` communes (every commune, around a deadline) are not skipped on
    the listing's word alone: an unchanged listed stamp is checked against the current one
    (``store.current_stamps``), so a figure changed at 16:58 is not hidden past the cutoff.
    """
    for line in store.tidy():
        log.warning("collect: %s", line)
    known = ledger.workbooks()
    windows = {s.tab: window(s, period_keys(s, *campaign)) for s in specs}
    # Communes are read for the commune templates, postal enterprises for theirs.
    groups = by_reporters(registry, specs)
    reporters = [c for who, _ in groups for c in who.communes]
    specs_of = {c.code: chosen for who, chosen in groups for c in who.communes}
    located = {c.code: known[c.code].locator for c in reporters if c.code in known}
    stamps = store.modified_stamps(list(located.values()))
    outcomes: list[CommuneOutcome] = []
    urgent = set(always_read)
    unskippable = set() if store.modified_time_is_proof else urgent
    if not store.modified_time_is_proof:
        doubtful = [located[c] for c in confirm if c in located and c not in unskippable
                    and stamps.get(located[c]) is not None
                    and stamps[located[c]] == known[c].last_modified]
        stamps.update(store.current_stamps(doubtful) if doubtful else {})
    ordered = sorted(reporters, key=lambda c: c.code not in urgent)
    for commune in ordered:
        name = commune.display_name
        locator = located.get(commune.code)
        if locator is None:
            outcomes.append(CommuneOutcome(
                commune.code, name, "no_workbook",
                message=f"{name}: chưa có sổ báo cáo; chạy `toolkit provision` để tạo"))
        elif stamps.get(locator) is None:
            outcomes.append(_failed(commune, ledger, now,
                                    f"{name}: {store.not_found(locator)}", "no_workbook"))
        elif (stamps[locator] == known[commune.code].last_modified
              and commune.code not in unskippable):
            outcomes.append(CommuneOutcome(commune.code, name, "unchanged"))
        else:
            outcomes.append(_read_one(commune, locator, specs_of[commune.code], windows,
                                      store, ledger, now, campaign))
        if progress:
            progress(name)
    warnings = locale_warnings(registry, ledger) + double_warnings(registry, store, located)
    return CollectResult(tuple(outcomes), warnings)


def double_warnings(registry, store, located: dict[str, str]) -> tuple[str, ...]:
    """Communes with more than one workbook (a copy OneDrive made when two computers changed
    the file, a copy saved by hand): which one is read, and what to do with the other."""
    doubles = store.doubles(located)
    out = []
    for commune in registry.communes:
        for other in doubles.get(commune.code, ()):
            read = located[commune.code]
            out.append(f"{commune.display_name}: có hai sổ của xã — toolkit đọc '{read}', "
                       f"không đọc '{other}' (thường là bản OneDrive tạo khi hai máy cùng sửa "
                       f"sổ); nếu xã đã nhập số liệu vào '{other}', hãy chép sang '{read}' rồi "
                       f"xoá '{other}'")
    return tuple(out)


def locale_warnings(registry, ledger) -> tuple[str, ...]:
    """Workbooks whose locale (as provision or a read last saw it) is not Vietnamese."""
    known = ledger.workbooks()
    out = []
    for commune in registry.communes:
        locale = known[commune.code].locale if commune.code in known else None
        if locale is not None and locale != LOCALE:
            out.append(f"{commune.display_name}: sổ đang đặt ngôn ngữ và vùng {locale}, "
                       f"không phải {LOCALE}, nên số nhập vào có thể bị hiểu khác đi (1.5 "
                       "hay 1,5); chạy `toolkit provision` để đặt lại")
    return tuple(out)


def _missing_tabs_message(snapshot) -> str:
    """What to do about missing report tabs. A renamed tab still holds what staff typed, so
    renaming it back comes before provisioning, which would add a new, empty tab."""
    missing = ", ".join(f"'{t}'" for t in snapshot.missing_tabs)
    text = f"không thấy trang {missing}; chạy `toolkit provision` để tạo lại"
    renamed = [t for t in snapshot.other_tabs if t not in (FEEDBACK_TAB, HELP_TAB, LISTS_TAB)]
    if renamed:
        found = ", ".join(f"'{t}'" for t in renamed)
        text += (f" — nhưng nếu trang bị đổi tên (sổ còn có trang {found}), hãy đổi lại tên "
                 "cũ trước, để số liệu đã nhập ở đó được đọc")
    return text


def _read_one(commune, locator, specs, windows, store, ledger, now,
              campaign) -> CommuneOutcome:
    """Read and parse one workbook. Whatever goes wrong doing so is this commune's failure,
    named, with what to do; the other communes are still collected (DESIGN.md §4)."""
    name = commune.display_name
    # This reporter's tabs only; an enterprise's has a row per period and commune served.
    windows = {s.tab: window(s, period_keys(s, *campaign), tuple(commune.villages))
               if s.keyed else windows[s.tab] for s in specs}
    try:
        snapshot = store.read(locator, windows)
        rows = _parse(snapshot, specs, commune, campaign)
    except WorkbookError as exc:
        return _failed(commune, ledger, now, f"{name}: {exc}")
    except Exception as exc:     # on purpose: a bug met on one workbook must not stop the province
        log.exception("collect: reading %s (%s, %s) failed", name, commune.code, locator)
        return _failed(commune, ledger, now, f"{name}: {unexpected('đọc sổ', exc)}")
    for spec in specs:
        if spec.tab in snapshot.grids:
            rows += _gone(ledger, commune.code, spec, rows)
    if snapshot.locale:
        ledger.set_locale(commune.code, snapshot.locale)
    proven_at = snapshot.modified_at if store.modified_time_is_proof else now
    # A workbook with a missing tab keeps no stamp, so it is read (and reported) again next run.
    stamp = None if snapshot.missing_tabs else snapshot.modified_stamp
    added = ledger.record_fetch(
        commune.code, fetched_at=now, modified_stamp=stamp,
        modified_at=snapshot.modified_at, proven_at=min(proven_at, now), rows=rows,
    )
    if snapshot.missing_tabs:
        return CommuneOutcome(commune.code, name, "failed", added,
                              f"{name}: {_missing_tabs_message(snapshot)}")
    return CommuneOutcome(commune.code, name, "read", added)


def _parse(snapshot, specs, commune, campaign) -> list[RowVersion]:
    rows: list[RowVersion] = []
    for spec in specs:
        if spec.tab in snapshot.grids:
            rows += rows_from_grid(spec, snapshot.grids[spec.tab], tuple(commune.villages),
                                   period_keys(spec, *campaign),
                                   last_row=snapshot.last_rows.get(spec.tab))
    return rows


def _gone(ledger, code: str, spec: ReportSpec, rows: list[RowVersion]) -> list[RowVersion]:
    """Blank versions of the stored rows this read no longer found (a period cell retyped,
    rows moved or cleared outside the report rows), so no stale row outlives its cells."""
    seen = {r.row_key for r in rows if r.report == spec.key}
    empty = dict.fromkeys(f.key for f in spec.fields)
    return [RowVersion(spec.key, period, key, sheet_row, dict(empty), {}, False)
            for key, period, sheet_row in ledger.live_rows(code, spec.key) if key not in seen]


def _failed(commune, ledger, now: datetime, message: str,
            state: str = "failed") -> CommuneOutcome:
    ledger.record_failure(commune.code, now, message)
    return CommuneOutcome(commune.code, commune.display_name, state, message=message)
