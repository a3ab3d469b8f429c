"""daily: the scheduler's entry — collect, validate, then roll up and archive every report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from toolkit.collect import CollectResult, collect
from toolkit.errors import ToolkitError
from toolkit.frames import spec_versions
from toolkit.periods import VN_TZ, Status
from toolkit.postal import by_reporters, reporters_of
from toolkit.rollup import Rollup, build_rollup
from toolkit.status import expected_periods
from toolkit.templates import ReportSpec
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
    #: Reports whose period containing the day is not expected (a weekend on a working-days
    #: calendar, outside the campaign): not rolled up, no archive.
    not_due: tuple[tuple[ReportSpec, str], ...] = ()

    #: On a sweep that rolled nothing up (no report due), the rollup spreadsheet published
    #: again from the ledger: it goes on showing what the archives say.
    republished: Publication | None = None

    @property
    def failures(self) -> list[str]:
        published = {r.published.summary for r in self.rollups
                     if r.published is not None and r.published.error}
        if self.republished is not None and self.republished.error:
            published.add(self.republished.summary)
        return [o.message for o in self.collected.failures] + \
            [f"{name}: {message}" for name, message in self.validated.failures] + \
            sorted(published)


@dataclass(frozen=True)
class Publication:
    """A report's rollup on the province's Google spreadsheet, or why it is not there."""

    spreadsheet_id: str
    url: str = ""            # the report's first tab
    requests: int = 0        # what publishing every report of the run cost, together
    reports: int = 0
    error: str = ""
    #: Report tabs whose earlier publication had failed, published again by this one.
    repaired: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        if self.error:
            return (f"Bảng tổng hợp Google Sheets {self.spreadsheet_id}: đăng LỖI: "
                    f"{self.error}. Tệp lưu trữ Excel vẫn đầy đủ, và lần `toolkit daily` sau sẽ "
                    "tự đăng lại")
        repaired = (f"; đã đăng lại sau lần lỗi trước: {', '.join(self.repaired)}"
                    if self.repaired else "")
        return (f"Bảng tổng hợp Google Sheets → {self.url} ({self.requests} yêu cầu cho "
                f"{self.reports} báo cáo{repaired})")


def due_reports(workspace, day: date) -> tuple[list[ReportSpec], list[tuple[ReportSpec, str]]]:
    """The reports whose period containing ``day`` the campaign expects, and the others with
    that period: no rollup and no archive for a weekend on a working-days calendar or a day
    outside the campaign."""
    due, not_due = [], []
    for spec in workspace.specs:
        period = spec.deadline.key_on(day)
        if expected_periods(spec, [period], workspace.campaign):
            due.append(spec)
        else:
            not_due.append((spec, period))
    return due, not_due


def postal_table(workspace, spec: ReportSpec, rollup: Rollup, versions: pd.DataFrame,
                 read: Read | None):
    """The archive's «Đối chiếu bưu chính» tab of an enterprise template's rollup, from the
    latest rows of it and of the commune templates it reconciles with, as of the rollup."""
    from toolkit.archive import Table
    from toolkit.frames import latest_rows
    from toolkit.layout import LEVEL_COLOURS
    from toolkit.postal import COMPARE_TAB, FLAG_HEADER, comparison
    from toolkit.templates import load_templates

    # Every template, also when this run was asked for the enterprise's alone (--template).
    specs = load_templates(workspace.config.templates_dir)
    latest = {spec.key: latest_rows(versions, spec, rollup.as_of)}
    for other in specs:
        if not other.keyed and any(f.reconciles_with and f.reconciles_with.startswith(
                other.key + ".") for f in spec.fields):
            # validate's latest rows are the ledger's as it is; with merged communes the
            # communes' figures are read mapped, as their own rollup reads them.
            latest[other.key] = read.latest[other.key] \
                if read and other.key in read.latest and workspace.merger is None \
                else latest_rows(workspace.report_versions(other), other, rollup.as_of)
    frame = comparison(spec, specs, workspace.registry, latest, rollup.period)
    if frame.empty:
        return Table(COMPARE_TAB, frame)
    # A large difference is coloured as a warning is on a commune's Kiểm tra tab.
    fills = tuple(LEVEL_COLOURS["Cảnh báo"][0] if text else "" for text in frame[FLAG_HEADER])
    return Table(COMPARE_TAB, frame, status=FLAG_HEADER, fills=fills,
                 frozen_columns=2 if len(frame.columns) > 2 else 0)


def rollup_reports(workspace, day: date, *, now: datetime, as_of_mode: str = "now",
                   workbooks_read: int = 0, only: str | None = None,
                   keep_existing: bool = False, publish: bool = True, read: Read | None = None,
                   failed: dict[str, str] | None = None,
                   ) -> tuple[list[Rollup], list[Path]]:
    """Roll up and archive each due report (or ``only`` one) for the period containing ``day``.

    Reports whose period is not expected (``due_reports``) are skipped. ``keep_existing``
    leaves an archive that is already there untouched, and skips that report: the
    as-of-deadline archive is written once, by the first sweep after the deadline. ``read`` is
    what this sweep already has from the ledger, so a national year is read and checked once.
    ``failed`` (commune code → what went wrong) names the communes this sweep could not read
    or check, in the archive's errors. A quiet sweep still writes the as-of-now archive: its
    "số liệu đến" time is the sweep's, as on the Google rollup, so nobody reads an hour-old
    time as a stopped run (where nothing else changed, only that time is patched into the
    workbook on disk: toolkit.archive_patch). On Google Sheets with
    ``[google] rollup_spreadsheet_id`` set, the archived rollups are then also published there
    (``publish``), together with what the ledger remembers of the other reports
    (:func:`publish_rollups`); each carries the outcome as ``published``.
    """
    from toolkit.archive import archive_path, archive_tables, write_archive

    target = _rollup_spreadsheet(workspace)
    rollups, paths, books = [], [], {}
    for spec in due_reports(workspace, day)[0]:
        if only is not None and spec.key != only:
            continue
        existing = archive_path(workspace.config.archive_dir, spec.key,
                                spec.deadline.key_on(day), as_of_mode)
        if keep_existing and existing.exists():
            continue          # written by an earlier sweep: not even rolled up again
        versions = workspace.report_versions(spec, read=read.versions[spec.key] if read
                                             else None)
        # What validate found stands for the rollup unless old communes' rows were mapped.
        now_known = (read is not None and as_of_mode == "now"
                     and versions is read.versions[spec.key])
        rollup = build_rollup(spec, reporters_of(workspace.registry, spec), versions, day,
                              as_of_mode=as_of_mode, now=now, grace=workspace.grace,
                              campaign=workspace.campaign,
                              issues=read.issues.get(spec.key) if now_known else None,
                              latest=read.latest.get(spec.key) if now_known else None,
                              failed=failed)
        rollups.append(rollup)
        if not spec.keyed and not (publish and target):
            # The rollup's own tables, made only if the archive on disk is not of the same
            # rollup (archive.made_of): a report nobody changed costs no tables.
            paths.append(write_archive(rollup, workspace.config.archive_dir,
                                       workbooks_read=workbooks_read))
            continue
        books[spec.tab] = archive_tables(rollup, workbooks_read=workbooks_read)
        if spec.keyed:      # the enterprise's figures beside each commune's own
            books[spec.tab].insert(1, postal_table(workspace, spec, rollup, versions,
                                                   read if now_known else None))
        paths.append(write_archive(rollup, workspace.config.archive_dir,
                                   workbooks_read=workbooks_read, tables=books[spec.tab]))
    if publish and target and books:
        published = publish_rollups(workspace.store, target, books, ledger=workspace.ledger,
                                    now=now, tabs={s.tab for s in workspace.specs})
        rollups = [replace(r, published=published[r.spec.tab]) if r.spec.tab in published
                   else r for r in rollups]
    return rollups, paths


def _rollup_spreadsheet(workspace) -> str | None:
    if getattr(workspace.store, "kind", "") != "gsheets":
        return None
    return workspace.config.google.rollup_spreadsheet_id


def publish_rollups(store, spreadsheet_id: str, books: dict, *, ledger=None,
                    now: datetime | None = None, tabs: set[str] | None = None,
                    ) -> dict[str, Publication]:
    """Every report's archive tables onto the rollup spreadsheet; never raises for Google.

    The archives are already written when this runs, so a failure here loses nothing: it is
    returned as the publication's error. With the ``ledger``, what each report's tabs must
    show is remembered before it is sent, and the reports of ``tabs`` that this run did not
    roll up are published again from there in the same batch — so a publication that failed
    (or a tab a person edited) is put right by the next run, whatever that run rolls up.
    """
    from toolkit.archive import TABLE_NAMES
    from toolkit.backends.google.rollup import digest, publish, render

    contents = {tab: render(tables) for tab, tables in books.items()}
    stored = ledger.rollups(spreadsheet_id) if ledger is not None else {}
    again = {tab: r.content for tab, r in stored.items()
             if tab not in contents and tab in (tabs or ())}
    if not contents and not again:
        return {}
    repaired = tuple(t for t in again if not stored[t].published)
    moment = now or datetime.now(VN_TZ)
    if ledger is not None:
        for tab, content in contents.items():
            ledger.set_rollup(spreadsheet_id, tab, digest(content), content, moment)
    try:
        urls, sent = publish(store.api, spreadsheet_id, contents | again, TABLE_NAMES)
    except ToolkitError as exc:
        if ledger is not None:
            ledger.rollup_published(spreadsheet_id, contents | again, moment, str(exc))
        failed = Publication(spreadsheet_id, error=str(exc))
        return dict.fromkeys(contents | again, failed)
    if ledger is not None:
        ledger.rollup_published(spreadsheet_id, contents | again, moment)
    return {tab: Publication(spreadsheet_id, url, sent, len(urls), repaired=repaired)
            for tab, url in urls.items()}


def republish(workspace, now: datetime) -> Publication | None:
    """On a run that rolled nothing up (no report due: a weekend, a holiday), the reports
    the rollup spreadsheet shows are published again from the ledger: one that failed last
    time is repaired, and a tab edited by hand is rewritten, as on any other day."""
    target = _rollup_spreadsheet(workspace)
    if not target:
        return None
    published = publish_rollups(workspace.store, target, {}, ledger=workspace.ledger, now=now,
                                tabs={s.tab for s in workspace.specs})
    return next(iter(published.values()), None)


def run_daily(workspace, *, now: datetime, day: date | None = None,
              progress: Progress | None = None, step: Progress | None = None) -> DailyResult:
    """One scheduled sweep, decided by the clock and the templates.

    Before a deadline it is an ordinary sweep; near and after the deadline, communes whose
    period is not yet reported are read first and whatever their Drive stamp says (the cutoff
    sweep), and each due report's as-of-deadline archive is written once — later sweeps only
    refresh the current picture. A commune that cannot be read or checked is named in the
    failures and in the archives; the others are rolled up all the same. ``step`` is told
    "collect", "validate" and "rollup" as each begins, so a caller can measure them (the
    gsheets demo counts Google requests per step).
    """
    mark = step or (lambda name: None)
    day = day or now.date()
    mark("collect")
    waiting = waiting_communes(workspace, day, now)
    confirm = tuple(c.code for who, _ in by_reporters(workspace.registry, workspace.specs)
                    for c in who.communes) \
        if near_a_deadline(workspace, day, now) else ()
    collected = collect(workspace.registry, workspace.specs, workspace.store, workspace.ledger,
                        now=now, campaign=workspace.campaign, always_read=waiting,
                        confirm=confirm, progress=progress)
    mark("validate")
    # Read as they are, for validate (see Workspace.report_versions); the rollup maps them.
    versions = {s.key: spec_versions(workspace.ledger, s) for s in workspace.specs}
    validated = validate(workspace.specs, workspace.registry, workspace.store, workspace.ledger,
                         day=day, now=now, campaign=workspace.campaign, versions=versions)
    known = Read(versions, validated.latest, validated.by_report)
    read = collected.count("read")
    failed = {o.code: o.message.removeprefix(f"{o.name}: ") for o in collected.failures}
    failed.update(validated.failed)
    mark("rollup")
    rollups, paths = rollup_reports(workspace, day, now=now, workbooks_read=read, read=known,
                                    failed=failed)
    frozen: list[Path] = []
    for rolled in rollups:
        if past_cutoff(workspace, rolled, now):
            _, written = rollup_reports(workspace, day, now=now, as_of_mode="deadline",
                                        workbooks_read=read, only=rolled.spec.key,
                                        keep_existing=True, publish=False, read=known,
                                        failed=failed)
            frozen += written
    again = republish(workspace, now) if not any(r.published for r in rollups) else None
    return DailyResult(collected, validated, tuple(rollups), tuple(paths), tuple(frozen),
                       tuple(due_reports(workspace, day)[1]), again)


def past_cutoff(workspace, rolled: Rollup, now: datetime) -> bool:
    """Whether ``rolled``'s period has an as-of-deadline archive by ``now``: its cutoff
    (deadline + grace) has passed."""
    return rolled.spec.period != "once" and now >= rolled.status.deadline + workspace.grace


def sweep(workspace, *, now: datetime, day: date, inputs: str | None = None,
          progress: Progress | None = None) -> tuple[DailyResult, list[tuple[bool, str]]]:
    """One sweep as `toolkit daily` runs it: :func:`run_daily`, the lines it prints (to
    stderr, text), and the record that lets the next sweep, if nothing changes, skip all of
    it (:mod:`toolkit.quiet`; ``inputs`` is the digest it took of the inputs before the
    workspace was opened)."""
    from toolkit import quiet
    from toolkit.archive import archive_path
    from toolkit.render import daily_lines

    quiet.forget(workspace.config)
    before = quiet.folder_state(workspace)
    result = run_daily(workspace, now=now, day=day, progress=progress)
    kept = [archive_path(workspace.config.archive_dir, r.spec.key, r.period, "deadline")
            for r in result.rollups if past_cutoff(workspace, r, now)]
    quiet.remember(workspace, result, now=now, day=day, inputs=inputs, before=before,
                   kept=kept)
    return result, daily_lines(result, clock=f"{now:%H:%M}", campaign=workspace.campaign)


def near_a_deadline(workspace, day: date, now: datetime) -> bool:
    """Whether a due period's deadline is within ``settle_minutes`` of now — before it, or
    after its cutoff (deadline + grace). Drive's listing may then still show a workbook as it
    was before an edit made just ahead of the deadline, by a commune that had already reported
    (a figure corrected at 16:58), so every unchanged stamp is confirmed with files.get: one
    Drive request a commune, on the two or three sweeps of that span only."""
    near = timedelta(minutes=workspace.config.google.settle_minutes)
    for spec in due_reports(workspace, day)[0]:
        if spec.period == "once":
            continue
        deadline = spec.deadline.for_key(spec.deadline.key_on(day))
        if deadline - near <= now <= deadline + workspace.grace + near:
            return True
    return False


def waiting_communes(workspace, day: date, now: datetime) -> tuple[str, ...]:
    """Communes a sweep must read whatever their workbook's stamp says.

    On Google Sheets Drive's listing can show an old modification time for minutes after an
    edit (DESIGN §5), so from ``settle_minutes`` before a due period's deadline on, every
    commune that has not reported it (by the ledger before this sweep) is read — a first
    entry at 16:58 is then seen by the 17:00 sweep. (A folder of files has exact times; there
    it only orders the reading.)
    """
    from toolkit.status import status_table

    near = timedelta(minutes=workspace.config.google.settle_minutes)
    codes: set[str] = set()
    for spec in due_reports(workspace, day)[0]:
        period = spec.deadline.key_on(day)
        if spec.period == "once" or now < spec.deadline.for_key(period) - near:
            continue
        table = status_table(spec, reporters_of(workspace.registry, spec),
                             workspace.report_versions(spec, [period]), [period],
                             as_of=now, grace=workspace.grace, campaign=workspace.campaign)
        reported = table["status"].map(lambda s: Status(s).reported)
        codes |= set(table.loc[~reported, "commune_code"])
    return tuple(sorted(codes))
