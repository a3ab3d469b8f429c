"""status: on time / late / amended / incomplete / missing per commune (DESIGN.md §5).

Single-row periods (a day, a month) are classified for many periods at once with pandas, so a
national year (3,321 communes × 365 days) stays fast; multi-row periods (rosters) go through
``periods.timeliness`` state by state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from toolkit.periods import Proof, Status, key_for, timeliness
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


def timeliness_table(spec: ReportSpec, versions: pd.DataFrame, periods: Iterable[str], *,
                     as_of: datetime, grace: timedelta) -> pd.DataFrame:
    """Status of every (commune, period) that has versions, for single-row periods.

    Columns: commune_code, period, status, first_complete_at, last_change_at. Pairs without any
    version are absent: the caller fills them in as pending or missing.
    """
    periods = list(periods)
    # Only the columns needed: a national year's versions are a few hundred MB.
    needed = ["commune_code", "period", "proven_at", "complete", "blank", "content_hash"]
    known = versions.loc[versions["period"].isin(periods) & (versions["proven_at"] <= as_of),
                         needed]
    columns = KEYS + ["status", "first_complete_at", "last_change_at"]
    if known.empty:
        return pd.DataFrame(columns=columns)
    cutoffs = pd.Series({p: spec.deadline.for_key(p) + grace for p in periods})
    cutoff = known["period"].map(cutoffs)
    content = known["content_hash"].where(~known["blank"], "")
    grouped = known.groupby(KEYS, sort=False)
    table = pd.DataFrame({"last_change_at": grouped["proven_at"].max()})
    table["first_complete_at"] = known[known["complete"]].groupby(KEYS)["proven_at"].min()
    before = content[known["proven_at"] <= cutoff].groupby(
        [known["commune_code"], known["period"]]).last().rename("on_time_content")
    after = known[known["proven_at"] > cutoff][KEYS].assign(content=content)
    after = after.join(before, on=KEYS)
    table["changed_later"] = (after["content"] != after["on_time_content"]).groupby(
        [after["commune_code"], after["period"]]).any()
    table = table.reset_index()
    table_cutoff = table["period"].map(cutoffs)
    first = table["first_complete_at"]
    status = pd.Series(Status.INCOMPLETE.value, index=table.index)
    status[first.notna() & (first > table_cutoff)] = Status.LATE.value
    on_time = first.notna() & (first <= table_cutoff)
    changed = table["changed_later"].astype("boolean").fillna(False).astype(bool)
    status[on_time] = Status.ON_TIME.value
    status[on_time & changed] = Status.AMENDED.value
    table["status"] = status
    return table[columns]


def period_proofs(versions: pd.DataFrame) -> dict[str, list[Proof]]:
    """For each commune, the successive states of a multi-row period (one per changing fetch).

    A roster is complete when it has at least one row and every non-blank row is complete.
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
            complete = bool(rows) and all(c for c, _ in rows.values())
            content = "|".join(f"{k}:{h}" for k, (_, h) in sorted(rows.items()))
            states.append(Proof(pd.Timestamp(proven_at).to_pydatetime(), complete, content))
        proofs[code] = states
    return proofs


def _multi_row_table(spec: ReportSpec, versions: pd.DataFrame, period: str, *,
                     as_of: datetime, grace: timedelta) -> pd.DataFrame:
    deadline = spec.deadline.for_key(period)
    records = []
    for code, proofs in period_proofs(versions[versions["period"] == period]).items():
        known = [p for p in proofs if p.proven_at <= as_of]
        if not known:
            continue
        status, first = timeliness(proofs, deadline, grace=grace, as_of=as_of)
        records.append({"commune_code": code, "period": period, "status": status.value,
                        "first_complete_at": first, "last_change_at": known[-1].proven_at})
    return pd.DataFrame.from_records(
        records, columns=KEYS + ["status", "first_complete_at", "last_change_at"])


def status_table(spec: ReportSpec, registry, versions: pd.DataFrame, periods: list[str], *,
                 as_of: datetime, grace: timedelta) -> pd.DataFrame:
    """One row per (commune, period): every registry commune, every period asked for."""
    if spec.period == "once":
        found = pd.concat([_multi_row_table(spec, versions, p, as_of=as_of, grace=grace)
                           for p in periods], ignore_index=True)
    else:
        found = timeliness_table(spec, versions, periods, as_of=as_of, grace=grace)
    grid = pd.MultiIndex.from_product([[c.code for c in registry.communes], periods],
                                      names=KEYS).to_frame(index=False)
    table = grid.merge(found, on=KEYS, how="left")
    cutoff = table["period"].map({p: spec.deadline.for_key(p) + grace for p in periods})
    waiting = pd.Series(as_of, index=table.index) <= cutoff
    nothing = table["status"].isna()
    table.loc[nothing & waiting, "status"] = Status.PENDING.value
    table.loc[nothing & ~waiting, "status"] = Status.MISSING.value
    return table


def period_status(spec: ReportSpec, registry, versions: pd.DataFrame, day: date, *,
                  as_of: datetime, grace: timedelta) -> StatusReport:
    """Timeliness of the period of ``spec`` that contains ``day``, as known at ``as_of``."""
    period = key_for(spec.period, day)
    deadline = spec.deadline.for_key(period)
    table = status_table(spec, registry, versions, [period], as_of=as_of, grace=grace)
    table = table.set_index("commune_code")
    found = table.loc[[c.code for c in registry.communes]]
    records = []
    for commune, status, first, last in zip(
            registry.communes, found["status"], found["first_complete_at"],
            found["last_change_at"], strict=True):
        records.append({
            "code": commune.code,
            "commune": commune.display_name,
            "district": commune.district or "",
            "households": commune.households,
            "status": status,
            "status_label": Status(status).label,
            "first_complete_at": _moment(first),
            "last_change_at": _moment(last),
        })
    communes = pd.DataFrame.from_records(records)
    return StatusReport(spec.key, period, deadline, as_of, int(grace.total_seconds() // 60),
                        communes, summarize(communes, registry.has_districts))


def _moment(value) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def summarize(communes: pd.DataFrame, by_district: bool) -> pd.DataFrame:
    """Counts and DHIS2-style rates: reported / expected, and on time / expected."""
    rows = []
    if by_district and not communes.empty:
        # One cross-table rather than a value_counts per district (664 old districts nationally).
        table = pd.crosstab(communes["district"], communes["status"])
        for name, numbers in zip(table.index, table.to_numpy().tolist(), strict=True):
            counts = dict(zip(table.columns, numbers, strict=True))
            rows.append(_counts(name or UNKNOWN_DISTRICT, counts, sum(numbers)))
    rows.append(_counts(PROVINCE, communes["status"].value_counts().to_dict(), len(communes)))
    return pd.DataFrame.from_records(rows)


def _counts(area: str, counts: dict, expected: int) -> dict:
    reported = sum(int(counts.get(s.value, 0)) for s in Status if s.reported)
    timely = sum(int(counts.get(s.value, 0)) for s in Status if s.timely)
    row = {"area": area, "expected": expected}
    row.update({s.value: int(counts.get(s.value, 0)) for s in Status})
    row["reporting_rate"] = reported / expected if expected else None
    row["on_time_rate"] = timely / expected if expected else None
    return row
