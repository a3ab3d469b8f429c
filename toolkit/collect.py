"""collect: read changed commune workbooks into the ledger.

An unchanged workbook (same modification stamp as at the last read) costs nothing. A changed
one is read once, all report tabs together; every cell is parsed, and a cell that cannot be
parsed is kept with its raw text and a message — never dropped, never a silent blank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from toolkit.backends.base import LOCALE
from toolkit.errors import WorkbookError
from toolkit.layout import FEEDBACK_TAB, FIRST_DATA_ROW, HELP_TAB, LISTS_TAB, a1, period_key_of
from toolkit.ledger import RowVersion
from toolkit.parse import parse_cell
from toolkit.periods import ONCE
from toolkit.templates import ReportSpec

Progress = Callable[[str], None]


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


def rows_from_grid(spec: ReportSpec, grid: list[list],
                   villages: tuple[str, ...]) -> list[RowVersion]:
    """Parse one tab's cells into row versions; bad cells become problems on the row."""
    offset = spec.first_field_column - 1
    rows: list[RowVersion] = []
    for index, cells in enumerate(grid[FIRST_DATA_ROW - 1:], start=FIRST_DATA_ROW):
        values: dict = {}
        problems: dict = {}
        for i, field in enumerate(spec.fields):
            raw = cells[offset + i] if offset + i < len(cells) else None
            choices = villages if field.choices_from_villages else field.choices
            parsed = parse_cell(raw, field.type, minimum=field.min, maximum=field.max,
                                choices=choices, aliases=field.aliases)
            values[field.key] = parsed.value
            if parsed.error:
                problems[field.key] = [str(raw), parsed.error]
        if spec.period_header:
            key = period_key_of(cells[0] if cells else None)
            if key is None:
                if all(v is None for v in values.values()) and not problems:
                    continue
                lead = cells[0] if cells else None
                problems["_period"] = [
                    str(lead),
                    f"Dòng {index} không có {spec.period_header.lower()} hợp lệ ở ô "
                    f"{a1(index, 1)}; hãy nhập số liệu vào dòng của kỳ báo cáo đã có sẵn.",
                ]
                period, row_key = "?", f"row{index}"
            else:
                period, row_key = key, key
        else:
            period, row_key = ONCE, f"row{index}"
        complete = ("_period" not in problems
                    and all(values[k] is not None for k in spec.required_keys))
        rows.append(RowVersion(spec.key, period, row_key, index, values, problems, complete))
    return rows


def collect(registry, specs: list[ReportSpec], store, ledger, *, now: datetime,
            first: tuple[str, ...] = (), progress: Progress | None = None) -> CollectResult:
    """Read every changed workbook; communes named in ``first`` are read before the others.

    At the deadline the cutoff sweep passes the communes still incomplete as ``first``: on
    Google Sheets a row is proven by the time it is fetched, so they must be fetched soonest.
    """
    known = ledger.workbooks()
    tabs = [s.tab for s in specs]
    located = {c.code: known[c.code].locator for c in registry.communes if c.code in known}
    stamps = store.modified_stamps(list(located.values()))
    outcomes: list[CommuneOutcome] = []
    urgent = set(first)
    ordered = sorted(registry.communes, key=lambda c: c.code not in urgent)
    for commune in ordered:
        name = commune.display_name
        locator = located.get(commune.code)
        if locator is None or stamps.get(locator) is None:
            outcomes.append(CommuneOutcome(commune.code, name, "no_workbook",
                                           message=f"{name}: no workbook; run `toolkit provision`"))
        elif stamps[locator] == known[commune.code].last_modified:
            outcomes.append(CommuneOutcome(commune.code, name, "unchanged"))
        else:
            outcomes.append(_read_one(commune, locator, specs, tabs, store, ledger, now))
        if progress:
            progress(name)
    return CollectResult(tuple(outcomes), locale_warnings(registry, ledger))


def locale_warnings(registry, ledger) -> tuple[str, ...]:
    """Workbooks whose locale (as provision or a read last saw it) is not Vietnamese."""
    known = ledger.workbooks()
    out = []
    for commune in registry.communes:
        locale = known[commune.code].locale if commune.code in known else None
        if locale is not None and locale != LOCALE:
            out.append(f"{commune.display_name}: the workbook's locale is {locale}, not "
                       f"{LOCALE}, so numbers typed there may be read differently (1.5 or "
                       "1,5); run `toolkit provision` to set it back")
    return tuple(out)


def _missing_tabs_message(snapshot) -> str:
    """What to do about missing report tabs. A renamed tab still holds what staff typed, so
    renaming it back comes before provisioning, which would add a new, empty tab."""
    missing = ", ".join(f"'{t}'" for t in snapshot.missing_tabs)
    text = f"tab {missing} not found; run `toolkit provision` to repair"
    renamed = [t for t in snapshot.other_tabs if t not in (FEEDBACK_TAB, HELP_TAB, LISTS_TAB)]
    if renamed:
        found = ", ".join(f"'{t}'" for t in renamed)
        text += (f" — but if it was renamed (the workbook also has {found}), rename it back "
                 "first, so the figures typed there are read")
    return text


def _read_one(commune, locator, specs, tabs, store, ledger, now) -> CommuneOutcome:
    name = commune.display_name
    try:
        snapshot = store.read(locator, tabs)
    except WorkbookError as exc:
        ledger.record_failure(commune.code, now, str(exc))
        return CommuneOutcome(commune.code, name, "failed", message=f"{name}: {exc}")
    rows: list[RowVersion] = []
    for spec in specs:
        if spec.tab in snapshot.grids:
            rows += rows_from_grid(spec, snapshot.grids[spec.tab], tuple(commune.villages))
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

