"""status: on time / late / amended / incomplete / missing per commune (DESIGN.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from toolkit.periods import Proof, Status, key_for, timeliness
from toolkit.templates import ReportSpec

PROVINCE = "Toàn tỉnh"


@dataclass(frozen=True)
class StatusReport:
    report: str
    period: str
    deadline: datetime
    as_of: datetime
    grace_minutes: int
    communes: pd.DataFrame   # one row per commune
    summary: pd.DataFrame    # one row per district (when known) and one for the province


def period_proofs(versions: pd.DataFrame) -> dict[str, list[Proof]]:
    """For each commune, the successive states of a period (one per fetch that changed it).

    A daily period is one row; a roster is many rows, complete when it has at least one row and
    every non-blank row is complete.
    """
    proofs: dict[str, list[Proof]] = {}
    for code, group in versions.groupby("commune_code", sort=False):
        rows: dict[str, tuple[bool, str]] = {}
        states: list[Proof] = []
        for proven_at, fetch in group.groupby("proven_at", sort=True):
            for row in fetch.itertuples():
                blank = not row.problems and all(v in (None, "") for v in row.values.values())
                if blank:
                    rows.pop(row.row_key, None)
                else:
                    rows[row.row_key] = (bool(row.complete), row.content_hash)
            complete = bool(rows) and all(c for c, _ in rows.values())
            content = "|".join(f"{k}:{h}" for k, (_, h) in sorted(rows.items()))
            states.append(Proof(proven_at.to_pydatetime() if hasattr(proven_at, "to_pydatetime")
                                else proven_at, complete, content))
        proofs[code] = states
    return proofs


def period_status(spec: ReportSpec, registry, versions: pd.DataFrame, day: date, *,
                  as_of: datetime, grace: timedelta) -> StatusReport:
    """Timeliness of the period of ``spec`` that contains ``day``, as known at ``as_of``."""
    period = key_for(spec.period, day)
    deadline = spec.deadline.for_key(period)
    proofs = period_proofs(versions[versions["period"] == period])
    records = []
    for commune in registry.communes:
        status, first = timeliness(proofs.get(commune.code, []), deadline, grace=grace,
                                   as_of=as_of)
        known = [p for p in proofs.get(commune.code, []) if p.proven_at <= as_of]
        records.append({
            "code": commune.code,
            "commune": commune.display_name,
            "district": commune.district or "",
            "households": commune.households,
            "status": status.value,
            "status_label": status.label,
            "first_complete_at": first,
            "last_change_at": known[-1].proven_at if known else None,
        })
    communes = pd.DataFrame.from_records(records)
    return StatusReport(spec.key, period, deadline, as_of, int(grace.total_seconds() // 60),
                        communes, summarize(communes, registry.has_districts))


def summarize(communes: pd.DataFrame, by_district: bool) -> pd.DataFrame:
    """Counts and DHIS2-style rates: reported / expected, and on time / expected."""
    groups = [(d, g) for d, g in communes.groupby("district", sort=True)] if by_district else []
    rows = [_counts(name or "(chưa rõ huyện)", g) for name, g in groups]
    rows.append(_counts(PROVINCE, communes))
    return pd.DataFrame.from_records(rows)


def _counts(area: str, group: pd.DataFrame) -> dict:
    counts = group["status"].value_counts()
    expected = len(group)
    reported = sum(int(counts.get(s.value, 0)) for s in Status if s.reported)
    timely = sum(int(counts.get(s.value, 0)) for s in Status if s.timely)
    row = {"area": area, "expected": expected}
    row.update({s.value: int(counts.get(s.value, 0)) for s in Status})
    row["reporting_rate"] = reported / expected if expected else None
    row["on_time_rate"] = timely / expected if expected else None
    return row
