"""daily: the scheduler's entry — collect, validate, then roll up and archive every report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from toolkit.collect import CollectResult, collect
from toolkit.frames import spec_versions
from toolkit.rollup import Rollup, build_rollup
from toolkit.validate import ValidateResult, validate

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Read:
    """What a sweep read from the ledger after collecting, and its latest rows and issues as
    of now."""

    versions: dict[str, pd.DataFrame]
    latest: dict[str, pd.DataFrame]
    issues: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class DailyResult:
    collected: CollectResult
    validated: ValidateResult
    rollups: tuple[Rollup, ...]
    archives: tuple[Path, ...]       # one per rollup: the current picture
    frozen: tuple[Path, ...] = ()    # as-of-deadline archives written by this sweep

    @property
    def failures(self) -> list[str]:
        return [o.message for o in self.collected.failures] + \
            [f"{name}: {message}" for name, message in self.validated.failures]


def rollup_reports(workspace, day: date, *, now: datetime, as_of_mode: str = "now",
                   workbooks_read: int = 0, only: str | None = None,
                   keep_existing: bool = False, read: Read | None = None,
                   ) -> tuple[list[Rollup], list[Path]]:
    """Roll up and archive each report (or ``only`` one) for the period containing ``day``.

    ``keep_existing`` leaves an archive that is already there untouched: the as-of-deadline
    archive is written once, by the first sweep after the deadline. ``read`` is what this
    sweep already has from the ledger, so a national year is read and checked once.
    """
    from toolkit.archive import archive_path, write_archive

    rollups, paths = [], []
    for spec in workspace.specs:
        if only is not None and spec.key != only:
            continue
        versions = read.versions[spec.key] if read else spec_versions(workspace.ledger, spec)
        now_known = read is not None and as_of_mode == "now"
        rollup = build_rollup(spec, workspace.registry, versions, day, as_of_mode=as_of_mode,
                              now=now, grace=workspace.grace, campaign=workspace.campaign,
                              issues=read.issues.get(spec.key) if now_known else None,
                              latest=read.latest.get(spec.key) if now_known else None)
        rollups.append(rollup)
        if keep_existing and archive_path(workspace.config.archive_dir, rollup).exists():
            continue
        paths.append(write_archive(rollup, workspace.config.archive_dir,
                                   workbooks_read=workbooks_read))
    return rollups, paths


def run_daily(workspace, *, now: datetime, day: date | None = None,
              progress: Progress | None = None) -> DailyResult:
    """One scheduled sweep, decided by the clock and the templates.

    Before a deadline it is an ordinary sweep; from the deadline on, communes whose period is
    still incomplete are read first (the cutoff sweep), and each report's as-of-deadline
    archive is written once — later sweeps only refresh the current picture.
    """
    day = day or now.date()
    waiting = _not_reported(workspace, day, now)
    collected = collect(workspace.registry, workspace.specs, workspace.store, workspace.ledger,
                        now=now, first=waiting, progress=progress)
    versions = {s.key: spec_versions(workspace.ledger, s) for s in workspace.specs}
    validated = validate(workspace.specs, workspace.registry, workspace.store, workspace.ledger,
                         day=day, now=now, campaign=workspace.campaign, versions=versions)
    known = Read(versions, validated.latest, validated.by_report)
    read = collected.count("read")
    rollups, paths = rollup_reports(workspace, day, now=now, workbooks_read=read, read=known)
    frozen: list[Path] = []
    for spec in workspace.specs:
        rolled = next(r for r in rollups if r.spec.key == spec.key)
        cutoff = rolled.status.deadline + workspace.grace
        if spec.period != "once" and now >= cutoff:
            _, written = rollup_reports(workspace, day, now=now, as_of_mode="deadline",
                                        workbooks_read=read, only=spec.key, keep_existing=True,
                                        read=known)
            frozen += written
    return DailyResult(collected, validated, tuple(rollups), tuple(paths), tuple(frozen))


def _not_reported(workspace, day: date, now: datetime) -> tuple[str, ...]:
    """Communes whose daily period is not yet complete, by the ledger before this sweep."""
    from toolkit.periods import Status, key_for
    from toolkit.status import status_table

    codes: set[str] = set()
    for spec in workspace.specs:
        if spec.period != "daily":
            continue
        period = key_for(spec.period, day)
        table = status_table(spec, workspace.registry,
                             spec_versions(workspace.ledger, spec, [period]), [period],
                             as_of=now, grace=workspace.grace)
        reported = table["status"].map(lambda s: Status(s).reported)
        codes |= set(table.loc[~reported, "commune_code"])
    return tuple(sorted(codes))
