"""daily: the scheduler's entry — collect, validate, then roll up and archive every report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from toolkit.collect import CollectResult, collect
from toolkit.rollup import Rollup, build_rollup
from toolkit.validate import ValidateResult, validate

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DailyResult:
    collected: CollectResult
    validated: ValidateResult
    rollups: tuple[Rollup, ...]
    archives: tuple[Path, ...]

    @property
    def failures(self) -> list[str]:
        return [o.message for o in self.collected.failures] + \
            [f"{name}: {message}" for name, message in self.validated.failures]


def rollup_reports(workspace, day: date, *, now: datetime, as_of_mode: str = "now",
                   workbooks_read: int = 0) -> tuple[list[Rollup], list[Path]]:
    """Roll up and archive each report whose period containing ``day`` has begun."""
    from toolkit.archive import write_archive

    rollups, paths = [], []
    for spec in workspace.specs:
        versions = workspace.ledger.versions(spec.key)
        rollup = build_rollup(spec, workspace.registry, versions, day, as_of_mode=as_of_mode,
                              now=now, grace=workspace.grace, campaign=workspace.campaign)
        rollups.append(rollup)
        paths.append(write_archive(rollup, workspace.config.archive_dir,
                                   workbooks_read=workbooks_read))
    return rollups, paths


def run_daily(workspace, *, now: datetime, day: date | None = None,
              progress: Progress | None = None) -> DailyResult:
    day = day or now.date()
    collected = collect(workspace.registry, workspace.specs, workspace.store, workspace.ledger,
                        now=now, progress=progress)
    validated = validate(workspace.specs, workspace.registry, workspace.store, workspace.ledger,
                         day=day, now=now, campaign=workspace.campaign)
    rollups, paths = rollup_reports(workspace, day, now=now,
                                    workbooks_read=collected.count("read"))
    return DailyResult(collected, validated, tuple(rollups), tuple(paths))
