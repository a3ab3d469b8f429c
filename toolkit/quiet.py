"""A quiet sweep, known as such before anything is read (issue P10, goal 1).

Most of a day's sweeps find nothing new: no commune saved, no rule's answer moved with the
clock. Such a sweep still read the ledger, checked every report and built every rollup with
pandas only to learn that the archives differ from the saved ones in their moment — and
importing pandas and openpyxl alone is most of a second. So each full sweep of a folder of
workbooks (``toolkit daily``) leaves a record beside the ledger of everything its answer was
made from, and the next sweep, before importing either, checks that record against:

- the inputs: toolkit.toml, the registry, the templates, the table of merged communes, the
  toolkit's own code and the installed packages, byte for byte;
- the ledger: what it holds, as one digest (:meth:`toolkit.ledger.Ledger.state`);
- the workbooks: each commune's file still has the stamp the ledger recorded for it (exactly
  what collect compares), and nothing else in the folder came, went or changed (a person's
  lock file, a copy of a workbook, a leftover of an interrupted write);
- the clock: the same day, later than the last sweep, and no instant between the recorded
  sweep and now at which a rule changes its answer — a deadline, its cutoff, the minutes
  around them in which collect reads differently (:func:`boundaries`);
- the archives: each file is the one that sweep left.

When all of it holds, the sweep's answer is the recorded one but for its moment: each as-of-now
archive is brought to this sweep's moment inside the saved file (``archive_patch.restamp``),
and the recorded lines are printed with this sweep's time. Any doubt, and the sweep runs in
full as before; a full sweep first forgets the record, and leaves a new one only when nothing
in it is left for later (no commune failed, no Kiểm tra write deferred, nothing saved while it
ran). Google Sheets keeps its own sweep: there Drive's times are not proof, and the rollup
spreadsheet is published on every sweep.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import sysconfig
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

log = logging.getLogger("toolkit")
#: Bumped whenever what the record holds changes meaning: an older record is ignored.
RECORD_VERSION = 1
#: Stands for the sweep's time (HH:MM) in a recorded line. XML cannot hold it, so no name
#: read from a workbook, the registry or a template carries it.
CLOCK = "\x00"


@dataclass(frozen=True)
class QuietSweep:
    """Whether a sweep was found quiet, and what it then prints."""

    config: object = None
    #: The inputs' digest as the sweep began, before anything was loaded (None: not a folder
    #: of workbooks): a full sweep leaves its record only if they are the same at its end.
    inputs: str | None = None
    #: (to stderr, text) of a quiet sweep, done; None: the sweep is to run in full.
    lines: tuple[tuple[bool, str], ...] | None = None


def record_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".sweep.json")


def quiet_sweep(config_path, *, now: datetime, day: date, wait_seconds: float) -> QuietSweep:
    """The sweep at ``now``, done here if its answer is the recorded one but for its moment
    (``lines`` set); else what the full sweep needs to leave a record (no record, anything
    changed, any doubt)."""
    from toolkit.config import check_config

    config = check_config(config_path).config
    if config is None or config.backend != "xlsx":
        return QuietSweep()
    inputs = inputs_digest(config)
    path = record_path(config.ledger_path)
    if _load(path) is None:
        return QuietSweep(config, inputs)
    from toolkit.ledger import Ledger
    from toolkit.workspace import province_lock

    with province_lock(config, wait_seconds), Ledger(config.ledger_path) as ledger:
        record = _load(path)          # as the run before us left it
        if (record is None or not _clock_allows(record, now, day)
                or record["inputs"] != inputs
                or record["others"] != _others(config, record["locators"])
                or not _workbooks_as_recorded(config, ledger, record["locators"])
                or any(_stat(Path(p)) != [size, mtime] for p, size, mtime, *_ in
                       [*record["archives"], *record["kept"]])
                or record["ledger"] != ledger.state()):
            return QuietSweep(config, inputs)
        if not _restamp(record, now):
            return QuietSweep(config, inputs)       # the full sweep writes them
        record["last"] = now.isoformat()
        record["archives"] = [[p, *_stat(Path(p)), communes]
                              for p, _, _, communes in record["archives"]]
        _save(path, record)
    clock = f"{now:%H:%M}"
    return QuietSweep(config, inputs, tuple((err, text.replace(CLOCK, clock))
                                            for err, text in record["lines"]))


def forget(config) -> None:
    """A full sweep begins: whatever it does, the record no longer says what is. (A record
    left in place all the same is only ever trusted after every check above.)"""
    try:
        record_path(config.ledger_path).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("không xoá được %s: %s", record_path(config.ledger_path), exc)


@dataclass(frozen=True)
class FolderState:
    """The workbooks' folder as a full sweep began: every file that is not a commune's
    workbook the ledger reads."""

    locators: tuple[str, ...]
    others: list


def folder_state(workspace) -> FolderState | None:
    """The folder as the sweep begins (None: not a folder of workbooks)."""
    if getattr(workspace.store, "kind", "") != "xlsx":
        return None
    locators = tuple(sorted(_workbooks(workspace.ledger)))
    return FolderState(locators, _others(workspace.config, locators))


def remember(workspace, result, *, now: datetime, day: date, inputs: str | None,
             before: FolderState | None, kept: list[Path]) -> bool:
    """Leave the record of the sweep at ``now`` that found ``result``, for the next sweep to
    trust if nothing changes; whether it was left. ``inputs`` and ``before`` are the inputs'
    digest and the folder as the sweep began; ``kept`` are the as-of-deadline archives that
    must stay as they are."""
    from toolkit.periods import to_utc_text
    from toolkit.render import daily_lines, registry_warnings

    config = workspace.config
    validated = result.validated
    latest = workspace.ledger.latest()
    if (before is None or inputs is None or day != now.date() or result.failures
            # A sweep run as of an earlier time (--now) sees the ledger only up to then: a
            # later sweep must see what it holds since.
            or (latest is not None and latest > to_utc_text(now))
            or validated.deferred
            or validated.failed or any(o.state not in ("read", "unchanged")
                                       for o in result.collected.outcomes)):
        return False
    # What the next sweep prints if nothing changes, its time left open.
    quiet = quieted(result)
    warned = [(True, text) for text in registry_warnings(workspace.registry,
                                                         config.registry_path)]
    clocked = daily_lines(quiet, clock=CLOCK, campaign=workspace.campaign)
    at = f"{now:%H:%M}"
    if any(CLOCK in text for _, text in warned) or [(err, text.replace(CLOCK, at)) for err, text
                                                    in clocked] != daily_lines(
            quiet, clock=at, campaign=workspace.campaign):
        return False            # a text of the sweep holds the placeholder itself
    lines = warned + clocked
    locators = tuple(sorted(_workbooks(workspace.ledger)))
    if (locators != before.locators or _others(config, locators) != before.others
            or not _workbooks_as_recorded(config, workspace.ledger, locators)
            or inputs_digest(config) != inputs):
        return False            # something was saved while the sweep ran: read it next time
    archives = []
    for rollup, archive in zip(result.rollups, result.archives, strict=True):
        if rollup.as_of_mode != "now" or not _stamped_at(archive, now):
            return False
        archives.append([str(archive), *_stat(archive), rollup.moment.communes])
    if any(not p.is_file() for p in kept):
        return False
    record = {
        "version": RECORD_VERSION, "inputs": inputs,
        "ledger": workspace.ledger.state(), "locators": list(locators),
        "others": before.others, "day": day.isoformat(), "since": now.isoformat(),
        "last": now.isoformat(),
        "boundaries": [b.isoformat() for b in boundaries(workspace, day)],
        "archives": archives, "kept": [[str(p), *_stat(p)] for p in kept],
        "lines": [[err, text] for err, text in lines],
    }
    _save(record_path(config.ledger_path), record)
    return True


def quieted(result):
    """The result the next sweep finds if nothing changes: every workbook unchanged, no Kiểm
    tra written, no as-of-deadline archive written again."""
    from dataclasses import replace

    collected = result.collected
    validated = result.validated
    return replace(
        result,
        collected=replace(collected, outcomes=tuple(
            replace(o, state="unchanged", new_versions=0) for o in collected.outcomes)),
        validated=replace(validated, written=(), deferred=(),
                          unchanged=len(validated.written) + validated.unchanged),
        frozen=())


def boundaries(workspace, day: date) -> list[datetime]:
    """The instants of ``day`` at which a rule of the sweep may change its answer though
    nothing was typed: each period's deadline (not yet due → missing, the Kiểm tra banner),
    its cutoff (deadline + grace: the as-of-deadline archive), and ``settle_minutes`` before
    the one and after the other (the span in which collect reads every waiting commune)."""
    settle = timedelta(minutes=workspace.config.google.settle_minutes)
    return moments_on(day, [spec.deadline for spec in workspace.specs], workspace.grace,
                      settle)


def moments_on(day: date, deadlines, grace: timedelta, settle: timedelta) -> list[datetime]:
    """:func:`boundaries` of ``deadlines`` (``periods.Deadline``), in order."""
    from toolkit.periods import VN_TZ

    start = datetime.combine(day, datetime.min.time(), tzinfo=VN_TZ)
    end = start + timedelta(days=1)
    found = set()
    for deadline in deadlines:
        for due in deadline.latest_first(day):
            moments = (due - settle, due, due + grace, due + grace + settle)
            if max(moments) < start:
                break           # and every period before this one is due earlier still
            found.update(m for m in moments if start <= m < end)
    return sorted(found)


def inputs_digest(config) -> str:
    """Everything besides the ledger and the workbooks that a sweep's answer is made from:
    the config, registry, templates and merged table as bytes, the toolkit's code and the
    packages installed beside it (their dist-info names carry their versions). Each file is
    named by its absolute path: a province folder copied or moved elsewhere sweeps in full
    once, since the record names the archives (and prints them) where they were."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(b"%d:%s:" % (len(data), label.encode("utf-8", "surrogatepass")) + data)

    for path in (config.path, config.registry_path, config.merged_path):
        add(str(path), _bytes(path) if path is not None else b"")
    templates = Path(config.templates_dir)
    for path in sorted(templates.iterdir()) if templates.is_dir() else ():
        add(path.name, _bytes(path))
    add("software", software_digest().encode())
    return digest.hexdigest()


@functools.cache
def software_digest() -> str:
    """The toolkit's code, the Python and the packages installed beside it, as one digest.

    Worked out once a process: it is what this process runs, whatever is installed over it
    meanwhile (a scheduler's sweep is a process of its own), and reading every module again
    cost a sweep as much as the rest of the record."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(b"%d:%s:" % (len(data), label.encode("utf-8", "surrogatepass")) + data)

    here = Path(__file__).parent
    for path in sorted(here.rglob("*.py")):
        add(str(path.relative_to(here)), path.read_bytes())
    add("python", sys.version.encode())
    # Where packages are installed, not sys.path: that begins with the working directory.
    paths = sysconfig.get_paths()
    for folder in sorted({paths["purelib"], paths["platlib"]}):
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".dist-info"))
        except OSError:
            continue
        add(folder, "\n".join(names).encode())
    return digest.hexdigest()


def _clock_allows(record: dict, now: datetime, day: date) -> bool:
    """The same day (the one rolled up, and today), not before the last sweep, and no
    boundary from the recorded sweep on."""
    try:
        since = datetime.fromisoformat(record["since"])
        last = datetime.fromisoformat(record["last"])
        marks = [datetime.fromisoformat(b) for b in record["boundaries"]]
    except (KeyError, TypeError, ValueError):
        return False
    return (record.get("day") == day.isoformat() == now.date().isoformat() and since <= last <= now
            and not any(since <= b <= now for b in marks))


def _restamp(record: dict, now: datetime) -> bool:
    from toolkit.archive_patch import restamp
    from toolkit.moment import Moment

    return all(restamp(Path(path), Moment(now, now, "now", communes), workbooks_read=0)
               for path, _, _, communes in record["archives"])


def _stamped_at(archive: Path, now: datetime) -> bool:
    """The archive was written or patched by this sweep, with a stamp restamp can use."""
    import zipfile

    from toolkit.archive_patch import Stamp

    try:
        with zipfile.ZipFile(archive) as book:
            stamp = Stamp.in_custom(book.read("docProps/custom.xml"))
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return stamp is not None and stamp.as_of == now and stamp.generated_at == now


def _others(config, locators) -> list:
    """Every entry of the workbooks' folder but the communes' workbooks: name, size, mtime."""
    skip = set(locators)
    try:
        entries = sorted(os.scandir(config.workbooks_dir), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name in skip:
            continue
        try:
            stat = entry.stat()
        except OSError:
            continue
        out.append([entry.name, stat.st_size, stat.st_mtime_ns])
    return out


def _workbooks(ledger) -> dict[str, str | None]:
    """The communes' workbooks in the folder, as the ledger knows them: locator → stamp."""
    return {r.locator: r.last_modified for r in ledger.workbooks().values()
            if r.backend == "xlsx"}


def _workbooks_as_recorded(config, ledger, locators) -> bool:
    """Every commune's workbook has the stamp the ledger recorded at its last read or write:
    what collect compares, so a save made at any moment since is never skipped."""
    known = _workbooks(ledger)
    if set(known) != set(locators):
        return False
    for locator, stamp in known.items():
        try:
            if str((Path(config.workbooks_dir) / locator).stat().st_mtime_ns) != stamp:
                return False
        except OSError:
            return False
    return True


def _stat(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b"\x00missing"


#: What each entry of a record holds; a record otherwise (damaged, edited by hand) is ignored.
_SHAPE = {"version": int, "inputs": str, "ledger": str, "locators": list, "others": list,
          "day": str, "since": str, "last": str, "boundaries": list, "archives": list,
          "kept": list, "lines": list}


def _load(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(record, dict) or record.get("version") != RECORD_VERSION
            or set(record) != set(_SHAPE)
            or any(not isinstance(record[k], kind) for k, kind in _SHAPE.items())
            or not all(isinstance(e, list) and len(e) == 4 and isinstance(e[0], str)
                       and all(isinstance(n, int) for n in e[1:]) for e in record["archives"])
            or not all(isinstance(e, list) and len(e) == 3 and isinstance(e[0], str)
                       and all(isinstance(n, int) for n in e[1:]) for e in record["kept"])
            or not all(isinstance(e, list) and len(e) == 2 and isinstance(e[0], bool)
                       and isinstance(e[1], str) for e in record["lines"])
            or not all(isinstance(e, str) for e in record["locators"])):
        return None
    return record


def _save(path: Path, record: dict) -> None:
    """The record in one rename. One that cannot be written costs the next sweep its
    shortcut, never this sweep's work: it is logged, not raised."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        # A record left from before names the archives as they were: it no longer holds.
        log.warning("không ghi được %s (lần quét sau sẽ kiểm tra lại đầy đủ): %s", path, exc)
