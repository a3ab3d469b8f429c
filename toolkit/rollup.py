"""rollup: per commune, per district and province figures for one period, as of a moment.

``as_of="deadline"`` gives the picture as it stood at the deadline (reproducible at any later
time from the ledger); ``as_of="now"`` the current one, with late entries and amendments marked
by their status.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from toolkit.checks import issue
from toolkit.frames import latest_rows, plain_numbers, positions, sums_by
from toolkit.goals import completion_ranks, goal_columns
from toolkit.moment import Moment
from toolkit.periods import Status
from toolkit.status import (
    PROVINCE,
    UNKNOWN_DISTRICT,
    StatusReport,
    at_or_before,
    period_status,
)
from toolkit.templates import ReportSpec
from toolkit.trends import campaign_status, daily_series, rates, target_progress
from toolkit.validate import FAILED, ISSUE_COLUMNS, find_issues

AS_OF = ("deadline", "now")
NO_HOUSEHOLDS = "Chưa có số hộ trong danh sách xã (registry) nên chưa tính được tỷ lệ."


@dataclass(frozen=True)
class Rollup:
    spec: ReportSpec
    period: str
    as_of_mode: str
    as_of: datetime
    generated_at: datetime
    communes: pd.DataFrame
    areas: pd.DataFrame
    status: StatusReport
    issues: pd.DataFrame
    rows_used: int
    digest: str          # SHA-256 over the ledger row versions used
    rates: pd.DataFrame      # area × window (day, week, campaign)
    series: pd.DataFrame     # province figures and rates per period of the campaign
    progress: pd.DataFrame   # commune × target: done, goal, gap, pace, projected date
    published: object = None  # a daily.Publication once pushed to Google Sheets
    province: str = ""
    campaign: tuple[date, date] | None = None

    @property
    def moment(self) -> Moment:
        return Moment(self.as_of, self.generated_at, self.as_of_mode, len(self.communes))

    @property
    def non_reporters(self) -> pd.DataFrame:
        waiting = {s.value for s in Status if s.chased}
        # Status.isin's answer on plain Python: a province has a few communes, a nation 3,321.
        return self.communes[np.array([status in waiting for status in
                                       self.communes["status"].tolist()], dtype=bool)]


def figure_columns(spec: ReportSpec) -> list[str]:
    return [f.key for f in spec.fields if f.aggregate in ("sum", "count")]


def build_rollup(spec: ReportSpec, registry, versions: pd.DataFrame, day: date, *,
                 as_of_mode: str, now: datetime, grace: timedelta,
                 campaign: tuple[date, date], issues: pd.DataFrame | None = None,
                 latest: pd.DataFrame | None = None,
                 failed: dict[str, str] | None = None) -> Rollup:
    """The rollup of the period containing ``day``.

    ``latest`` (``latest_rows``) and ``issues`` (``find_issues``) of the same report as of the
    same moment, when the caller (validate, in a daily sweep) already has them: on a national
    year they are most of the work and a large part of the memory. ``failed`` (commune code →
    what went wrong) are communes the sweep could not read or check: each becomes an error
    of the period, so the archive names them beside their last known figures.
    """
    period = spec.deadline.key_on(day)
    deadline = spec.deadline.for_key(period)
    as_of = min(deadline + grace, now) if as_of_mode == "deadline" else now
    status = period_status(spec, registry, versions, day, as_of=as_of, grace=grace,
                           campaign=campaign)
    if latest is None:
        latest = latest_rows(versions, spec, as_of)
    # The rows that count up to this period, found on the period's positions: a national
    # year is a million rows, copied only when some are left out.
    periods, period_of = positions(latest, "period")
    wanted = periods != "?"
    if spec.period != "once":
        wanted &= periods <= period
    kept = wanted[period_of]
    upto = latest if kept.all() else latest[kept]
    figures = figure_columns(spec)
    total = _aggregate(spec, upto, figures)
    # The period's rows are among those up to it: none of them when there are none.
    today = _aggregate(spec, latest[kept & (periods == period)[period_of]], figures) \
        if len(upto) else total
    if issues is None:
        issues = find_issues(spec, registry, versions, day, as_of, campaign, rows=latest)
    named = set(issues["commune_code"].to_numpy()[issues["check"].to_numpy() == FAILED])
    failed = {code: message for code, message in (failed or {}).items() if code not in named}
    if failed:
        issues = pd.concat([issues, _failure_issues(spec, registry, period, failed)],
                           ignore_index=True)
    errors = (issues["level"].to_numpy() == "error") & (issues["period"].to_numpy() == period)
    communes = _commune_frame(spec, registry, status.communes, today, total,
                              issues["commune_code"].to_numpy()[errors])
    rows_used, digest = _fingerprint(versions, as_of)
    single = spec.period != "once"
    table = campaign_status(spec, registry, versions, period, as_of=as_of, grace=grace,
                            campaign=campaign) if single else None
    return Rollup(
        spec, period, as_of_mode, as_of, now, communes,
        _areas(spec, communes, status, figures, registry.has_districts),
        status, issues, rows_used, digest,
        rates=rates(spec, registry, table, period, campaign) if single else pd.DataFrame(),
        series=daily_series(spec, table, upto, period, figures, campaign,
                            _known_households(communes), _goal_shares(spec, communes))
        if single else pd.DataFrame(),
        progress=target_progress(spec, communes, upto, period, day, campaign),
        province=registry.communes[0].province if registry.communes else "",
        campaign=campaign,
    )


def _commune_frame(spec: ReportSpec, registry, listed: pd.DataFrame, today: pd.DataFrame,
                   total: pd.DataFrame, wrong_codes: np.ndarray) -> pd.DataFrame:
    """One row per commune of the status (``listed``): its figures of the period (``day_``)
    and up to it (``cum_``), 0 where it typed none (``typed_day`` and ``typed_any`` say
    which), its errors (one per code in ``wrong_codes``), goals, progress and rank.

    Made in one frame from its columns, each worked out on arrays: a column added to a frame,
    or a pandas step on a Series, costs more than a province's figures (a national one is no
    more than 3,321 rows).
    """
    codes = pd.Index(listed["code"])
    day, cum = _figures_at(today, codes), _figures_at(total, codes)
    wrong = codes.get_indexer(wrong_codes)
    columns = {column: listed[column].array for column in listed}
    columns |= {f"day_{key}": values for key, values in day.items()}
    columns |= {f"cum_{key}": values for key, values in cum.items()}
    # Which figures a commune actually typed: the archive leaves the others blank, never 0.
    columns["typed_day"] = codes.isin(today.index)
    columns["typed_any"] = codes.isin(total.index)
    columns["errors"] = np.bincount(wrong[wrong >= 0], minlength=len(codes)).astype(int)
    households = listed["households"]
    columns |= goal_columns(spec, registry, codes, households)
    if not spec.targets:
        return pd.DataFrame(columns)
    known = households.to_numpy(dtype=float, na_value=np.nan)
    counted = np.nan_to_num(known, nan=0.0) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for target in spec.targets:
            done = np.asarray(cum[target.numerator])
            columns[f"done_{target.key}"] = cum[target.numerator]
            columns[f"pct_{target.key}"] = np.where(counted, done / known, np.nan)
            columns[f"completion_{target.key}"] = done / np.asarray(
                columns[f"goal_{target.key}"], dtype=float)
    columns["note"] = ["" if h and h > 0 else NO_HOUSEHOLDS for h in households.tolist()]
    columns |= completion_ranks(spec, columns, codes.tolist())
    return pd.DataFrame(columns)


def _figures_at(figures: pd.DataFrame, codes: pd.Index) -> dict[str, object]:
    """``figures.reindex(codes).fillna(0)``'s columns (figures by commune code → at each of
    ``codes``, 0 where a commune has none), on numpy where they are int64, float64 (a code
    missing makes them float, as the reindex's NaN does) or objects (a report with no rows
    yet has a column of them); pandas does any other."""
    dtypes = figures.dtypes.tolist()
    if not all(dtype in (np.int64, np.float64, object) for dtype in dtypes):
        return {key: values.array
                for key, values in figures.reindex(codes).fillna(0).items()}
    # No rows (a report nobody typed yet): every code is missing, with no index to look in.
    rows = len(figures.index)
    at = figures.index.get_indexer(codes) if rows else np.full(len(codes), -1, dtype=np.intp)
    missing = at < 0
    columns = {}
    for (key, values), dtype in zip(
            figures.items() if rows else ((key, None) for key in figures.columns), dtypes,
            strict=True):
        if missing.any() and dtype.kind != "O":
            dtype = np.dtype(np.float64)
        found = values.to_numpy().astype(dtype, copy=False)[at] if rows \
            else np.zeros(len(at), dtype)
        found[missing] = 0
        if found.dtype.kind == "f":
            found = np.where(np.isnan(found), 0, found)
        elif found.dtype == object:
            found[pd.isna(found)] = 0
            found = pd.arrays.NumpyExtensionArray(found)
        columns[key] = found
    return columns


def _goal_shares(spec: ReportSpec, communes: pd.DataFrame) -> dict[str, float]:
    """Target key → the goals of the communes whose households are known, as a share of
    those households: the province line the series' % is drawn against."""
    known = _known(communes["households"])
    households = _sum(communes["households"].to_numpy(dtype=float)[known])
    return {t.key: round(_sum(communes[f"goal_{t.key}"].to_numpy()[known]) / households, 6)
            for t in spec.targets} if households else {}


def _sum(values: np.ndarray):
    """``Series.sum()`` of numbers on numpy: NaN as 0 (pandas' nansum), in the same order."""
    return np.nansum(values) if values.dtype.kind == "f" else values.sum()


def _known_households(communes: pd.DataFrame) -> pd.Series:
    """Commune code → households, for the communes whose households are known."""
    known = _known(communes["households"])
    return pd.Series(communes["households"].to_numpy(dtype=float)[known],
                     index=pd.Index(communes["code"].array[known], name="code"),
                     name="households")


def _known(households: pd.Series) -> np.ndarray:
    """Which communes' households are known (``households.fillna(0) > 0``): on numpy where
    they are plain numbers, where NaN is never above 0 either."""
    if plain_numbers(households):
        return households.to_numpy() > 0
    return (households.fillna(0) > 0).to_numpy()


def _failure_issues(spec: ReportSpec, registry, period: str,
                    failed: dict[str, str]) -> pd.DataFrame:
    names = {c.code: c.display_name for c in registry.communes}
    return pd.DataFrame.from_records(
        [issue(spec, code, names.get(code, code), period, "", "", FAILED, "error",
               f"Lần chạy lúc này chưa xử lý được sổ của xã: {message}",
               "Số liệu của xã là lần đọc được gần nhất; sửa theo hướng dẫn rồi chạy lại "
               "toolkit daily.") for code, message in failed.items()],
        columns=ISSUE_COLUMNS)


def _fingerprint(versions: pd.DataFrame, as_of: datetime) -> tuple[int, str]:
    """How many versions were known at ``as_of``, and their ``_digest``; worked out before
    the campaign's status so that a national year's 22 MB of hashes is not held through it,
    and copied only when some versions are left out."""
    used = versions["content_hash"].to_numpy()
    if len(used):       # a report nobody typed yet has no instants to compare
        known = at_or_before(versions["proven_at"], as_of)
        if not known.all():
            used = used[known]
    return len(used), _digest(used)


def _digest(hashes: np.ndarray) -> str:
    """SHA-256 of the content hashes, one a line.

    The cache holds them as fixed-width bytes: when every one fills the width (no padding
    to strip), the lines are laid out in one numpy buffer instead of a million bytes objects.
    """
    hashes = np.asarray(hashes, dtype="S")
    width = hashes.dtype.itemsize
    table = hashes.view(np.uint8).reshape(len(hashes), width) if width else None
    if table is None or not len(hashes) or not table[:, -1].all():
        return hashlib.sha256(b"\n".join(hashes.tolist())).hexdigest()
    lines = np.empty((len(hashes), width + 1), dtype=np.uint8)
    lines[:, :width] = table
    lines[:, width] = ord("\n")
    return hashlib.sha256(lines.data.cast("B")[:-1]).hexdigest()


def _aggregate(spec: ReportSpec, rows: pd.DataFrame, figures: list[str]) -> pd.DataFrame:
    if rows.empty:
        # What DataFrame(columns=figures) makes (object columns, no rows), as one block.
        return pd.DataFrame(np.empty((0, len(figures)), dtype=object), columns=figures)
    codes, commune_of = positions(rows, "commune_code")
    counted = [key for key in figures if spec.field_spec(key).aggregate == "count"]
    return sums_by(rows, figures, "commune_code", codes, commune_of, counted=counted)


def _areas(spec: ReportSpec, communes: pd.DataFrame, status: StatusReport, figures: list[str],
           by_district: bool) -> pd.DataFrame:
    """District and province totals; % targets over communes whose households are known."""
    # Each district's rows as positions into plain arrays: a national rollup has 664 old
    # districts, too many for a pandas sub-frame each.
    everyone = np.arange(len(communes))
    groups = []
    if by_district:
        names = communes["district"].to_numpy(dtype=object)
        order = np.argsort(names, kind="stable")
        starts = np.flatnonzero(np.r_[True, names[order][1:] != names[order][:-1]]) \
            if len(order) else np.zeros(0, np.int64)
        groups = [(names[order[a]], rows) for a, rows in
                  zip(starts, np.split(order, starts[1:]), strict=True)]
    column = communes["households"]
    households, known_of = _summable(column), _known(column)
    columns = {c: _summable(communes[c]) for c in dict.fromkeys(
               [p + k for p in ("day_", "cum_") for k in figures]
               + [f"cum_{t.numerator}" for t in spec.targets]
               + [f"goal_{t.key}" for t in spec.targets])}
    # A goal is met by the figures of the communes that have it: a count target counts
    # even where households are unknown.
    has_goal = {t.key: pd.notna(communes[f"goal_{t.key}"].array) for t in spec.targets}
    # Each area's counts as summary.loc[area] gives them: one type for all its values, the
    # columns' common one, read from the columns rather than a frame indexed by area.
    summary = status.summary
    count_columns = ("expected", *(s.value for s in Status), "reporting_rate", "on_time_rate")
    counts_of = {c: summary[c].to_numpy() for c in summary.columns if c != "area"}
    common = np.result_type(*counts_of.values())
    counts_of = {c: counts.astype(common, copy=False) for c, counts in counts_of.items()}
    summary_row = {area: at for at, area in enumerate(summary["area"].tolist())}
    records = []
    for name, rows in groups + [(PROVINCE, everyone)]:
        area = name or UNKNOWN_DISTRICT
        row: dict = {"area": area}
        for prefix in ("day_", "cum_"):
            for key in figures:
                row[prefix + key] = _total(columns[prefix + key], rows)
        known = rows[known_of[rows]]
        row["households"] = _total(households, known)
        for target in spec.targets:
            numerator = _total(columns[f"cum_{target.numerator}"], known)
            row[f"pct_{target.key}"] = numerator / row["households"] if row["households"] else None
            goaled = rows[has_goal[target.key][rows]]
            goal = _total(columns[f"goal_{target.key}"], goaled)
            row[f"goal_{target.key}"] = goal if len(goaled) else None
            row[f"done_{target.key}"] = _total(columns[f"cum_{target.numerator}"], goaled)
            row[f"completion_{target.key}"] = row[f"done_{target.key}"] / goal \
                if len(goaled) and goal else None
        at = summary_row.get(area)
        for column in count_columns:
            row[column] = None if at is None else counts_of[column][at]
        records.append(row)
    # The frame made at once from its columns, each a list typed as from_records types it.
    table = {name: [row[name] for row in records] for name in records[0]}
    if spec.targets:
        # The districts ranked, the province (the last row) not: as joining the districts'
        # ranks would add them, without copying the districts' rows to join them back.
        districts = {name: values[:-1] for name, values in table.items()}
        ranks = completion_ranks(spec, districts, districts["area"])
        rank = ranks["rank"]
        table.update(
            score=np.append(ranks["score"], np.nan),
            score_full=np.append(ranks["score_full"], np.nan),
            rank=pd.arrays.IntegerArray(np.append(rank.to_numpy(dtype=np.int64, na_value=0), 0),
                                        np.append(rank.isna(), True)))
    return pd.DataFrame(table)


def _summable(column: pd.Series):
    """A column as numpy when its values are numbers (NaN as 0, what ``np.nansum`` adds, done
    once rather than for every area) or plain objects, for ``_total``; else as it is."""
    if column.dtype.kind == "f":
        values = column.to_numpy()
        return np.where(np.isnan(values), 0, values)
    return column.to_numpy() if column.dtype.kind in "biufO" else column


def _total(values, rows: np.ndarray):
    """``Series.sum()`` of ``rows``: NaN counted as 0 (skipna), summed in the same order."""
    if isinstance(values, pd.Series):
        return values.take(rows).sum()
    values = values[rows]
    if values.dtype == object:
        # As pandas adds objects: the missing ones put to 0, the rest added in order. A
        # report with no figures yet has a column of them; a Series each cost more.
        missing = pd.isna(values)
        if missing.any():
            np.putmask(values, missing, 0)
        return values.sum(dtype=object)
    return values.sum()
