"""status: on time / late / amended / incomplete / missing per commune (DESIGN.md §5).

Single-row periods (a day, a month) are classified for many periods at once with pandas, so a
national year (3,321 communes × 365 days) stays fast; multi-row periods (rosters) go through
``periods.timeliness`` state by state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from toolkit.frames import positions
from toolkit.layout import period_keys, row_key
from toolkit.periods import VN_TZ, Proof, Status, timeliness
from toolkit.templates import ReportSpec

PROVINCE = "Toàn tỉnh"
#: The area of communes whose registry row names no district (when others do).
UNKNOWN_DISTRICT = "(chưa rõ huyện)"
KEYS = ["commune_code", "period"]


@dataclass(frozen=True)
class StatusReport:
    report: str
    period: str
    deadline: datetime
    as_of: datetime
    grace_minutes: int
    communes: pd.DataFrame   # one row per commune
    summary: pd.DataFrame    # one row per district (when known) and one for the province


#: Statuses as small integers: a national campaign is 1.2 million commune × period cells.
STATUSES = list(Status)
_VALUES = np.array([s.value for s in STATUSES], dtype=object)
NO_TIME = np.iinfo(np.int64).max


def status_code(status: Status) -> int:
    return STATUSES.index(status)


def status_flags(test) -> np.ndarray:
    """``test(status)`` for every status, by its integer code: ``status_flags(...)[codes]``."""
    return np.array([bool(test(s)) for s in STATUSES])


@dataclass(frozen=True)
class _Found:
    """The status of every (commune, period) pair that has versions, one entry per pair in
    commune, period order; ``table`` (for multi-row periods) or the arrays of
    ``first`` and ``last`` instants give the rows of ``timeliness_table``."""

    communes: np.ndarray        # distinct commune codes
    commune: np.ndarray         # each pair's position in ``communes``
    periods: list[str]
    period: np.ndarray          # each pair's position in ``periods``
    status: np.ndarray          # each pair's position in STATUSES
    first: np.ndarray | None = None       # instants in ``unit``; NO_TIME for none
    last: np.ndarray | None = None
    unit: np.dtype | None = None
    table: pd.DataFrame | None = None

    def as_table(self) -> pd.DataFrame:
        if self.table is not None:
            return self.table
        columns = KEYS + ["status", "first_complete_at", "last_change_at"]
        if not len(self.status):
            return pd.DataFrame(columns=columns)
        return pd.DataFrame({
            "commune_code": self.communes[self.commune],
            "period": np.asarray(self.periods, dtype=object)[self.period],
            "status": _VALUES[self.status],
            "first_complete_at": _moments(self.first, self.unit),
            "last_change_at": _moments(self.last, self.unit),
        }, columns=columns)

    def moments(self, column: str) -> pd.Series | pd.DatetimeIndex:
        """One of ``as_table``'s instant columns (first_complete_at, last_change_at) alone:
        ``period_status`` reads only those, and a table costs a province more than they do;
        so does a Series around the timestamps, which it would only unwrap."""
        if self.table is not None:
            return self.table[column]
        if not len(self.status):
            return pd.Series(dtype=object)
        return _stamps({"first_complete_at": self.first, "last_change_at": self.last}[column],
                       self.unit)

    @classmethod
    def of_table(cls, table: pd.DataFrame, periods: list[str]) -> _Found:
        commune, communes = pd.factorize(table["commune_code"])
        status = key_positions(table["status"], _VALUES)
        return cls(np.asarray(communes, dtype=object), commune, periods,
                   key_positions(table["period"], periods), status, table=table)


def key_positions(keys: Iterable, among: Sequence) -> np.ndarray:
    """Where each of ``keys`` is in ``among`` (-1 where absent), as ``Index.get_indexer``
    says, by a plain dict: an Index built for a province's one period cost 50 times more, and
    a nation's 3,321 communes cost no less. Repeated values in ``among`` are get_indexer's
    to refuse."""
    where = {value: position for position, value in enumerate(among)}
    if len(where) != len(among):
        return pd.Index(among).get_indexer(keys)
    return np.array([where.get(key, -1) for key in keys], dtype=np.intp)


def timeliness_table(spec: ReportSpec, versions: pd.DataFrame, periods: Iterable[str], *,
                     as_of: datetime, grace: timedelta) -> pd.DataFrame:
    """Status of every (commune, period) that has versions, for single-row periods.

    Columns: commune_code, period, status, first_complete_at, last_change_at. Pairs without
    any version are absent: the caller fills them in as pending or missing.
    """
    return _timeliness(spec, versions, list(periods), as_of=as_of, grace=grace).as_table()


def _timeliness(spec: ReportSpec, versions: pd.DataFrame, periods: list[str], *,
                as_of: datetime, grace: timedelta) -> _Found:
    """The rules of ``periods.timeliness``, array by array: a national year is a million
    versions, so each (commune, period) pair is an integer group and every "last state before
    the cutoff" or "first complete after it" is one scattered maximum or minimum over the
    versions (oldest first, so the last of a group is its highest position)."""
    period_names, period_rank = positions(versions, "period")
    asked = key_positions(period_names, periods).astype(np.int32)
    proven_at = versions["proven_at"]
    known = np.flatnonzero((asked >= 0)[period_rank] & at_or_before(proven_at, as_of))
    if not len(known):
        none = np.zeros(0, np.int64)
        return _Found(np.zeros(0, object), none, periods, none, none.astype(np.int8))
    proven, unit = _instants(proven_at, known)
    complete = versions["complete"].to_numpy(dtype=bool)[known]
    blank = versions["blank"].to_numpy(dtype=bool)[known]
    period_of = asked[period_rank[known]]
    commune_names, commune_rank = positions(versions, "commune_code")
    code_of = commune_rank[known]
    groups = _Groups.of_cells(code_of.astype(np.int64) * len(periods) + period_of,
                              len(commune_names) * len(periods))
    group = groups.group
    cutoffs = np.array([_instant(spec.deadline.for_key(p) + grace, unit) for p in periods],
                       dtype=np.int64)
    before = proven <= cutoffs[period_of]
    current = groups.last(np.ones(len(group), bool))
    at_cutoff = groups.last(before)
    cutoff_complete = (at_cutoff >= 0) & complete[at_cutoff]
    after = np.flatnonzero(~before)
    content = _contents(versions["content_hash"].to_numpy(), known, blank,
                        np.concatenate([after, at_cutoff[group[after]]]))
    changed = np.zeros(groups.count, bool)
    changed[group[after][content[:len(after)] != content[len(after):]]] = True
    del known, after, content, at_cutoff   # not needed below (known: 9 MB on a national year)
    first_late = groups.first_time(complete & ~before, proven)
    waiting = _instant(as_of, unit) < cutoffs[period_of[current]]
    conditions = [
        waiting & blank[current],
        waiting & complete[current],
        waiting,
        cutoff_complete & changed,
        cutoff_complete,
        first_late != NO_TIME,
        blank[current],
    ]
    choices = [Status.PENDING, Status.ON_TIME, Status.INCOMPLETE, Status.AMENDED,
               Status.ON_TIME, Status.LATE, Status.MISSING]
    status = np.select(conditions, [np.int8(status_code(c)) for c in choices],
                       default=np.int8(status_code(Status.INCOMPLETE)))
    first = np.where(cutoff_complete, groups.first_time(complete & before, proven), first_late)
    first = np.where(waiting, groups.first_time(complete, proven), first)
    first = np.where(status_flags(lambda s: s.reported)[status], first, NO_TIME)
    return _Found(commune_names, code_of[current], periods, period_of[current], status,
                  first, groups.last_time(proven), unit)


def _instants(proven_at: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    """The instants of ``rows`` as int64 in UTC, in the column's own unit, and that unit."""
    if isinstance(proven_at.dtype, pd.DatetimeTZDtype):   # as read: no conversion to copy
        return proven_at.array.asi8[rows], np.dtype(f"M8[{proven_at.dtype.unit}]")
    utc = pd.to_datetime(proven_at.iloc[rows], utc=True).dt.tz_localize(None).to_numpy()
    return utc.view("int64"), utc.dtype


def at_or_before(proven_at: pd.Series, moment: datetime) -> np.ndarray:
    """``(proven_at <= moment).to_numpy()``: NaT never is. A column read with its time zone
    is compared on its integers, ``moment`` floored to the column's unit (exact, as the
    column's instants are whole units): pandas' comparison was an eighth of a province's
    ``period_status``."""
    if not isinstance(proven_at.dtype, pd.DatetimeTZDtype):
        return (proven_at <= moment).to_numpy()
    stamps = proven_at.array.asi8
    per_unit = int(np.timedelta64(1, proven_at.dtype.unit).astype("m8[ns]").view("int64"))
    nanoseconds = (moment - _EPOCH) // _MICROSECOND * 1000 + getattr(moment, "nanosecond", 0)
    return (stamps <= nanoseconds // per_unit) & (stamps != np.iinfo(np.int64).min)


def _contents(hashes: np.ndarray, known: np.ndarray, blank: np.ndarray,
              at: np.ndarray) -> np.ndarray:
    """The content of the known versions at ``at`` (positions among ``known``), every
    cleared state being one content (str, or bytes from versions.py)."""
    content = hashes[known[at]]
    content[blank[at]] = content.dtype.type()
    return content


class _Groups:
    """Rows numbered by group (0 … count-1); each question is one scattered max or min.

    ``ufunc.at`` takes its fast path only when the indices are ``intp`` and the values are of
    the output's own dtype; any cast makes it ~15× slower (165 against 9 ms a national
    question), so each question hands it exactly those.
    """

    def __init__(self, group: np.ndarray, count: int):
        self.group, self.count = group, count

    @classmethod
    def of_cells(cls, cell: np.ndarray, cells: int) -> _Groups:
        """Rows grouped by their cell of a dense grid (commune × period: ``cells`` of them),
        the groups numbered in cell order. The grid is small enough to number directly;
        hashing a national year's million keys (``pd.factorize``) was the sweep's largest
        transient allocation."""
        present = np.zeros(cells, bool)
        present[cell] = True
        number = np.cumsum(present, dtype=np.int32) - 1
        return cls(number[cell], int(number[-1]) + 1 if cells else 0)

    def _of(self, where: np.ndarray | None = None) -> np.ndarray:
        group = self.group if where is None else self.group[where]
        return group.astype(np.intp)

    def last(self, where: np.ndarray) -> np.ndarray:
        """Each group's last row where ``where`` holds; -1 for groups without one."""
        out = np.full(self.count, -1, np.int32)      # a million rows fit
        rows = np.flatnonzero(where)
        np.maximum.at(out, self._of(rows), rows.astype(np.int32))
        return out

    def first_time(self, where: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Each group's earliest time where ``where`` holds; NO_TIME for groups without one."""
        out = np.full(self.count, NO_TIME, np.int64)
        np.minimum.at(out, self._of(where), times[where].astype(np.int64, copy=False))
        return out

    def last_time(self, times: np.ndarray) -> np.ndarray:
        out = np.full(self.count, np.iinfo(np.int64).min, np.int64)
        np.maximum.at(out, self._of(), times.astype(np.int64, copy=False))
        return out


def _instant(moment: datetime, unit: np.dtype) -> int:
    """``moment``'s whole microseconds since the epoch, in ``unit`` (floored) as int64.

    By datetime arithmetic rather than through a UTC Timestamp: a national year asks it
    for each of 365 deadlines, and the Timestamp cost four times as much (14 against 3.6 us).
    A naive moment is refused (TypeError) as tz_convert refused it."""
    micro = (moment - _EPOCH) // _MICROSECOND
    return int(np.datetime64(micro, "us").astype(unit).view("int64"))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)



def _moments(values: np.ndarray, unit: np.dtype) -> pd.Series:
    """``_stamps`` as a table's column."""
    return pd.Series(_stamps(values, unit))


def _stamps(values: np.ndarray, unit: np.dtype) -> pd.DatetimeIndex:
    """int64 instants (NO_TIME for none) → Vietnam-time timestamps (NaT for none)."""
    stamps = np.where(values == NO_TIME, np.iinfo(np.int64).min, values).view(unit)
    return pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(VN_TZ)


def period_proofs(versions: pd.DataFrame,
                  wanted: dict[str, frozenset[str]] | None = None) -> dict[str, list[Proof]]:
    """For each commune, the successive states of a multi-row period (one per changing fetch).

    A roster is complete when it has at least one row and every non-blank row is complete.
    ``wanted`` (reporter code → row keys) is an enterprise's period: the province expects a
    row for every commune it serves, so it is complete only when each of those rows is there
    and complete, and partly typed it is incomplete.
    """
    proofs: dict[str, list[Proof]] = {}
    for code, group in versions.groupby("commune_code", sort=False):
        rows: dict[str, tuple[bool, str]] = {}
        states: list[Proof] = []
        for proven_at, fetch in group.groupby("proven_at", sort=True):
            for row in fetch.itertuples():
                if row.blank:
                    rows.pop(row.row_key, None)
                else:
                    rows[row.row_key] = (bool(row.complete), row.content_hash)
            complete = bool(rows) and all(c for c, _ in rows.values()) and (
                wanted is None or wanted.get(code, frozenset()) <= rows.keys())
            content = "|".join(f"{k}:{h}" for k, (_, h) in sorted(rows.items()))
            states.append(Proof(pd.Timestamp(proven_at).to_pydatetime(), complete, content,
                                blank=not rows))
        proofs[code] = states
    return proofs


def _multi_row_table(spec: ReportSpec, registry, versions: pd.DataFrame, period: str, *,
                     as_of: datetime, grace: timedelta) -> pd.DataFrame:
    deadline = spec.deadline.for_key(period)
    records = []
    wanted = {c.code: frozenset(row_key(period, name) for name in c.villages)
              for c in registry.communes} if spec.keyed else None
    for code, proofs in period_proofs(versions[versions["period"] == period], wanted).items():
        known = [p for p in proofs if p.proven_at <= as_of]
        if not known:
            continue
        status, first = timeliness(proofs, deadline, grace=grace, as_of=as_of)
        records.append({"commune_code": code, "period": period, "status": status.value,
                        "first_complete_at": first, "last_change_at": known[-1].proven_at})
    return pd.DataFrame.from_records(
        records, columns=KEYS + ["status", "first_complete_at", "last_change_at"])


def expected_periods(spec: ReportSpec, periods: Iterable[str],
                     campaign: tuple[date, date]) -> set[str]:
    """Which of ``periods`` the campaign expects: its days on the template's calendar, its
    months due after it starts; a once-only report is always expected."""
    if spec.period == "once":
        return set(periods)
    return set(periods) & set(period_keys(spec, *campaign))


def expected_grid(spec: ReportSpec, communes, periods: list[str],
                  campaign: tuple[date, date]) -> np.ndarray:
    """Commune × period: which periods each commune is expected to report — the campaign's,
    within the commune's own phase (registry "Ngày bắt đầu" / "Ngày kết thúc"). Judged once
    per distinct phase, as few as the campaign has waves. A roster is expected of everyone."""
    if spec.period == "once":
        return np.ones((len(communes), len(periods)), bool)
    windows = [c.window(campaign) for c in communes]
    rows = {}
    for window in dict.fromkeys(windows):
        keys = set(period_keys(spec, *window)) if window[0] <= window[1] else set()
        rows[window] = np.array([p in keys for p in periods], bool)
    return np.array([rows[w] for w in windows], bool).reshape(len(communes), len(periods))


@dataclass(frozen=True)
class StatusGrid:
    """The status of every registry commune (rows, in registry order) for every period asked
    (columns), as positions in ``STATUSES``: what the rollup's rates and series count."""

    codes: list[str]
    periods: list[str]
    status: np.ndarray          # int8, communes × periods
    expected: np.ndarray        # communes × periods: is the commune expected to report it
    found: _Found
    cell_of: np.ndarray         # each cell's entry in ``found`` (flat, commune-major); -1


def status_grid(spec: ReportSpec, registry, versions: pd.DataFrame, periods: list[str], *,
                as_of: datetime, grace: timedelta, campaign: tuple[date, date]) -> StatusGrid:
    """Every registry commune × every period asked for, by the rules of ``status_table``."""
    if spec.period == "once" or spec.keyed:     # periods of many rows
        found = _Found.of_table(pd.concat(
            [_multi_row_table(spec, registry, versions, p, as_of=as_of, grace=grace)
             for p in periods],
            ignore_index=True), periods)
    else:
        found = _timeliness(spec, versions, periods, as_of=as_of, grace=grace)
    # Each cell found by arithmetic on the two positions: a national campaign is 1.2 million
    # cells, too many to merge on text keys.
    codes = [c.code for c in registry.communes]
    commune_of = key_positions(found.communes, codes)[found.commune] \
        if len(found.commune) else np.zeros(0, np.int64)
    kept = (commune_of >= 0) & (found.period >= 0)
    cell_of = np.full(len(codes) * len(periods), -1, np.int64)
    cell_of[commune_of[kept] * len(periods) + found.period[kept]] = np.flatnonzero(kept)
    waiting = np.array([as_of < spec.deadline.for_key(p) + grace for p in periods], bool)
    expected = expected_grid(spec, registry.communes, periods, campaign)
    status = np.where(cell_of >= 0, found.status[cell_of] if len(found.status) else 0,
                      np.where(np.tile(waiting, len(codes)), status_code(Status.PENDING),
                               status_code(Status.MISSING))).astype(np.int8)
    status = status.reshape(len(codes), len(periods))
    status[~expected] = status_code(Status.NOT_EXPECTED)
    return StatusGrid(codes, list(periods), status, expected, found, cell_of)


def status_table(spec: ReportSpec, registry, versions: pd.DataFrame, periods: list[str], *,
                 as_of: datetime, grace: timedelta,
                 campaign: tuple[date, date]) -> pd.DataFrame:
    """One row per (commune, period): every registry commune, every period asked for.

    A period the campaign does not expect of a commune (a weekend on a working-days calendar,
    a day before the start, or before the commune's own phase starts) is ``not_expected``
    whatever was typed; an expected one without any version is pending until its cutoff,
    then missing.
    """
    grid = status_grid(spec, registry, versions, periods, as_of=as_of, grace=grace,
                       campaign=campaign)
    table = grid.found.as_table().drop(columns=KEYS).reindex(grid.cell_of) \
        .reset_index(drop=True)
    table.insert(0, "commune_code", np.repeat(np.array(grid.codes, dtype=object),
                                              len(periods)))
    table.insert(1, "period", np.tile(np.array(periods, dtype=object), len(grid.codes)))
    table["status"] = _VALUES[grid.status.ravel()]
    unexpected = ~grid.expected.ravel()
    if unexpected.any():
        table.loc[unexpected, "first_complete_at"] = None
    return table


def period_status(spec: ReportSpec, registry, versions: pd.DataFrame, day: date, *,
                  as_of: datetime, grace: timedelta,
                  campaign: tuple[date, date]) -> StatusReport:
    """Timeliness of the period of ``spec`` that contains ``day``, as known at ``as_of``."""
    period = spec.deadline.key_on(day)
    deadline = spec.deadline.for_key(period)
    # status_table's rules, read off the grid of one period: its table's rows are the
    # registry's communes in order, and a province is a few of them.
    grid = status_grid(spec, registry, versions, [period], as_of=as_of, grace=grace,
                       campaign=campaign)
    status = _VALUES[grid.status[:, 0]].tolist()
    at = grid.cell_of
    # Column by column: a national registry is 3,321 communes, one Python record each was
    # the larger part of this call.
    communes = pd.DataFrame({
        "code": [c.code for c in registry.communes],
        "commune": [c.display_name for c in registry.communes],
        "district": [c.district or "" for c in registry.communes],
        "households": [c.households for c in registry.communes],
        "status": status,
        "status_label": [_LABELS[s] for s in status],
        "first_complete_at": _moments_at(grid.found.moments("first_complete_at"),
                                         np.where(grid.expected[:, 0], at, -1)),
        "last_change_at": _moments_at(grid.found.moments("last_change_at"), at),
    })
    return StatusReport(spec.key, period, deadline, as_of, int(grace.total_seconds() // 60),
                        communes, summarize(communes, registry.has_districts))


_LABELS = {s.value: s.label for s in Status}


def _moments_at(column: pd.Series | pd.DatetimeIndex, at: np.ndarray) -> list[datetime | None]:
    """The moments of ``column`` at the positions ``at`` (-1: none), as ``_moments_of``."""
    moments = _moments_of(column) if len(column) else []
    return [moments[i] if i >= 0 else None for i in at.tolist()]


def _moments_of(column: pd.Series | pd.DatetimeIndex) -> list[datetime | None]:
    """Timestamps (NaT or None for none) → datetimes (None for none)."""
    stamps = column if isinstance(column, pd.DatetimeIndex) else pd.DatetimeIndex(column)
    moments = stamps.to_pydatetime().astype(object)
    moments[stamps.isna()] = None
    return moments.tolist()


def summarize(communes: pd.DataFrame, by_district: bool) -> pd.DataFrame:
    """Counts and DHIS2-style rates: reported / expected, and on time / expected."""
    rows = []
    if by_district and not communes.empty:
        # One pass over the communes rather than a value_counts per district (664 old
        # districts nationally), in the districts' sorted order.
        by_district_counts: dict[str, Counter] = {}
        for district, status in zip(communes["district"], communes["status"], strict=True):
            by_district_counts.setdefault(district, Counter())[status] += 1
        for name in sorted(by_district_counts):
            rows.append(_counts(name or UNKNOWN_DISTRICT, by_district_counts[name]))
    rows.append(_counts(PROVINCE, Counter(communes["status"].tolist())))
    return pd.DataFrame.from_records(rows)


_EXPECTED = {s.value for s in Status if s.expected}
_REPORTED = [s.value for s in Status if s.reported]
_TIMELY = [s.value for s in Status if s.timely]


def _counts(area: str, counts: dict) -> dict:
    """One area's counts; communes not expected this period are outside every denominator."""
    expected = sum(int(n) for s, n in counts.items() if Status(s).value in _EXPECTED)
    reported = sum(int(counts.get(s, 0)) for s in _REPORTED)
    timely = sum(int(counts.get(s, 0)) for s in _TIMELY)
    row = {"area": area, "expected": expected}
    row.update({s: int(counts.get(s, 0)) for s in _VALUES})
    row["reporting_rate"] = reported / expected if expected else None
    row["on_time_rate"] = timely / expected if expected else None
    return row
