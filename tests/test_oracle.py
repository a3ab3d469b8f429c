"""The toolkit against the independent oracle (tests/oracle.py), on both backends.

Each scenario (tests/oracle_scenarios.py) is played against the real toolkit — one open
workspace, ``toolkit.daily.run_daily`` at each sweep — and the oracle. After every sweep: the
status of the day's periods that no archive shows and of the day before, the archives just
written (as of now, and as of the deadline by the first sweep after the cutoff), the reminders
and, on Google, whether every commune still waiting was read from ten minutes before the
deadline on (from the fake's request log). At the end: every period's status, and for one day
the CLI's ``status --format json`` and ``rollup --as-of deadline``.

``ORACLE_SCENARIOS=2000`` runs more scenarios; a failure prints one small scenario with every
disagreement at its first checkpoint. ``ORACLE_ONLY=regex`` looks at one kind only,
``ORACLE_ALL_BUGS=1`` shrinks and reports each kind apart, ``ORACLE_SURVEY=file.jsonl`` records
every disagreement and each scenario's cost without failing (scripts/oracle_survey.py sums it
up), ``ORACLE_SHRINK_SECONDS`` bounds shrinking (60).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from time import perf_counter, process_time

import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conftest import run
from oracle import LABELS, Oracle
from oracle_bench import COMMUNES, DAILY, MONTHLY, Bench, Province, archive_labels, now_text, vn
from oracle_scenarios import Entry, Scenario, scenarios, timeline

STATUS_OF = {label: status for status, label in LABELS.items()}
GRACE_MINUTES = 5            # [timeliness] grace_minutes as `toolkit init` writes it

EXAMPLES = int(os.environ.get("ORACLE_SCENARIOS", "200"))
#: The generated scenarios run as this many tests, each with its own seed (see the test).
SHARDS = 4
ALL_BUGS = bool(os.environ.get("ORACLE_ALL_BUGS"))
SHRINK_SECONDS = int(os.environ.get("ORACLE_SHRINK_SECONDS", "60"))
#: Only disagreements whose kind matches this regular expression fail the test (to shrink one
#: kind at a time).
ONLY = os.environ.get("ORACLE_ONLY", "")
#: Write every disagreement to this JSON-lines file instead of failing (a survey of all kinds).
SURVEY = os.environ.get("ORACLE_SURVEY", "")
SCENARIO: list = [None]


# -- disagreements ---------------------------------------------------------------------------

class Discrepancy(AssertionError):
    """The toolkit and the oracle disagree."""


_KINDS: dict[str, type] = {}


def kind_of(name: str) -> type:
    """One exception type per kind of disagreement: hypothesis shrinks and reports each."""
    if name not in _KINDS:
        _KINDS[name] = type(re.sub(r"\W+", "_", name).strip("_"), (Discrepancy,), {})
    return _KINDS[name]


class Checks:
    def __init__(self, where: str, oracle: Oracle, only: str = ""):
        self.where, self.oracle, self.only = where, oracle, only
        self.found: list[tuple[str, str]] = []

    def status(self, status: str, report: str, period: str, code: str | None = None) -> str:
        """A status as a kind names it: not_expected says why."""
        why = self.oracle.why_not_expected(report, period, code) \
            if status == "not_expected" else ""
        return f"{status} ({why})" if why else status

    def differ(self, kind: str, detail: str) -> None:
        self.found.append((kind, detail))

    def statuses(self, surface: str, report: str, period: str, want: dict, got: dict) -> None:
        for code in sorted(want):
            if want[code] != got.get(code):
                self.differ(f"{surface}: {self.status(want[code], report, period, code)} shown as "
                            f"{got.get(code)}",
                            f"{code} {report} {period}: oracle {want[code]}, toolkit "
                            f"{got.get(code)}")

    def done(self) -> None:
        if self.only:
            self.found = [(k, d) for k, d in self.found if re.search(self.only, k)]
        if SURVEY and self.found:
            with open(SURVEY, "a", encoding="utf-8") as out:
                out.write(json.dumps({"where": self.where, "found": self.found,
                                      "scenario": repr(SCENARIO[0])}, ensure_ascii=False))
                out.write("\n")
            return
        if self.found:
            lines = [f"at {self.where}:"] + [f"  [{k}] {d}" for k, d in self.found]
            # One exception type per kind only when asked for every kind: otherwise hypothesis
            # would chase each and slip between them while shrinking, for many minutes.
            error = kind_of(self.found[0][0]) if ALL_BUGS else Discrepancy
            raise error("\n".join(lines))


def tell(text: str) -> None:
    """A line printed with the falsifying example (and nowhere else)."""
    try:
        note(text)
    except InvalidArgument:      # played outside hypothesis (a timing script)
        pass


# -- one scenario ----------------------------------------------------------------------------

class Run:
    """A scenario played against the real toolkit (one open workspace) and the oracle."""

    def __init__(self, bench: Bench, scenario: Scenario, only: str = ONLY):
        from toolkit.workspace import open_workspace

        self.bench, self.scenario, self.only = bench, scenario, only
        self.province: Province = bench.province(scenario.start, scenario.end, scenario.calendar,
                                                 scenario.due_day, scenario.lag, scenario.phases)
        self.ws = open_workspace(self.province.config)
        self.specs = {s.key: s for s in self.ws.specs}
        reports = [replace(DAILY, calendar=scenario.calendar)]
        if scenario.due_day:
            reports.append(replace(MONTHLY, due_day=scenario.due_day))
        grace = timedelta(minutes=GRACE_MINUTES if bench.backend == "gsheets" else 0)
        self.oracle = Oracle(reports, list(COMMUNES), start=scenario.start, end=scenario.end,
                             grace=grace, backend=bench.backend,
                             phases={c: (first, last) for c, first, last in scenario.phases})
        self.frozen: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.ws.close()
        self.bench.discard(self.province)

    def play(self) -> None:
        entries = sorted(self.scenario.entries, key=lambda e: e.at)
        for sweep in self.scenario.sweeps:
            while entries and entries[0].at < sweep:
                self.type(entries.pop(0))
            self.sweep(sweep)
        self.finish()

    def type(self, entry: Entry) -> None:
        kept = self.bench.type(self.province, entry.commune, entry.report, entry.period,
                               dict(entry.values), entry.at)
        if kept is not None:
            self.oracle.type(entry.commune, entry.at, entry.report, entry.period, kept)
            if len(kept) < len(entry.values):
                tell(f"{entry.at:%d/%m %H:%M:%S} the sheet refused {entry.commune}'s "
                     f"{sorted(set(dict(entry.values)) - set(kept))}")

    def sweep(self, at: datetime) -> None:
        from toolkit.daily import run_daily

        self.bench.flush(self.province)
        checks = Checks(f"the sweep of {at:%a %d/%m %H:%M}", self.oracle, self.only)
        google = self.bench.fake is not None
        must = self.oracle.must_fetch(at) if google else set()
        self.bench.clock(at)
        mark = self.bench.mark()
        result = run_daily(self.ws, now=at)
        fetched = self.bench.fetched(self.province, mark) if google else None
        if google:
            tell(f"{at:%d/%m %H:%M} sweep read {sorted(fetched)}")
        self.oracle.sweep(at, fetched)
        day = at.date()
        for key in self.specs:
            if not self.oracle.expected(key, self.period(key, day)):
                self.check_status(checks, "status", key, day, at)   # no archive shows it
            self.check_archives(checks, key, day, at, result)
            self.check_remind(checks, key, day, at)
        self.check_status(checks, "status", "kts_daily", day - timedelta(days=1), at)
        for code in sorted(must - (fetched or set())):
            checks.differ("read policy: a waiting commune not read at a sweep from deadline "
                          "- 10 min", f"{code} not read at {at:%d/%m %H:%M} (Drive lag "
                          f"{self.scenario.lag} min)")
        checks.done()

    # -- the surfaces ----------------------------------------------------------------------

    def period(self, key: str, day: date) -> str:
        return self.oracle.reports[key].period_of(day)

    def check_status(self, checks: Checks, surface: str, key: str, day: date,
                     at: datetime) -> None:
        from toolkit.frames import spec_versions
        from toolkit.status import period_status

        spec = self.specs[key]
        period = self.period(key, day)
        report = period_status(spec, self.ws.registry, spec_versions(self.ws.ledger, spec,
                                                                     [period]),
                               day, as_of=at, grace=self.ws.grace, campaign=self.ws.campaign)
        got = dict(zip(report.communes["code"], report.communes["status"], strict=True))
        checks.statuses(surface, key, period, self.oracle.statuses(key, period, at), got)

    def check_archives(self, checks: Checks, key: str, day: date, at: datetime,
                       result) -> None:
        period = self.period(key, day)
        now_path = self.path(key, period, "")
        frozen_path = self.path(key, period, "_theo-han")
        written = set(result.archives) | set(result.frozen)
        if not self.oracle.expected(key, period):
            for path in (now_path, frozen_path):
                if path in written or path.exists():
                    checks.differ("an archive written for "
                                  f"{self.oracle.why_not_expected(key, period)}",
                                  f"{path.name} at {at:%d/%m %H:%M}")
            return
        if now_path not in set(result.archives) or not now_path.exists():
            checks.differ("no archive written for an expected period", now_path.name)
        else:
            checks.statuses("archive (as of now)", key, period,
                            self.oracle.statuses(key, period, at), self.labels(now_path))
        cutoff = self.oracle.cutoff(key, period)
        due = at >= cutoff and (key, period) not in self.frozen
        if due:
            self.frozen.add((key, period))
        if due and frozen_path not in set(result.frozen):
            checks.differ("as-of-deadline archive not written by the first sweep at or after "
                          "the cutoff", f"{frozen_path.name} at {at:%d/%m %H:%M}")
        elif not due and frozen_path in set(result.frozen):
            checks.differ("as-of-deadline archive written before the cutoff or again",
                          f"{frozen_path.name} at {at:%d/%m %H:%M}")
        elif due:
            checks.statuses("as-of-deadline archive", key, period,
                            self.oracle.statuses(key, period, cutoff, known_by=at),
                            self.labels(frozen_path))

    def check_remind(self, checks: Checks, key: str, day: date, at: datetime) -> None:
        from toolkit.remind import remind

        got = set(remind(self.ws, self.specs[key], day, at).communes["code"])
        want = self.oracle.chased(key, day, at)
        period = self.period(key, day)
        for code in sorted(want ^ got):
            status = checks.status(self.oracle.status(code, key, period, at), key, period, code)
            error = self.oracle.expected(key, period, code) and \
                self.oracle.has_error(code, key, period, at)
            what = status + (" with an unreadable cell" if error else "")
            verb = "chases" if code in got else "does not chase"
            checks.differ(f"remind {verb} a commune {what}",
                          f"{code} {key} {period} at {at:%d/%m %H:%M}")

    def path(self, key: str, period: str, suffix: str):
        return self.province.archive / key / period[:4] / f"{key}_{period}{suffix}.xlsx"

    def labels(self, path) -> dict[str, str]:
        return {code: STATUS_OF.get(label, f"label {label!r}")
                for code, label in archive_labels(path).items()}

    # -- the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        """At the end: every period's status; for one day (drawn) the CLI's status and
        ``toolkit rollup --as-of deadline``. One day, not all: a rollup costs as much as a
        sweep, and across scenarios every kind of day is asked."""
        last = self.scenario.sweeps[-1].date() if self.scenario.sweeps else self.scenario.start
        end = vn(datetime.combine(last + timedelta(days=1), time(9)))
        checks = Checks(f"the end, {end:%a %d/%m %H:%M}", self.oracle, self.only)
        asked = self.scenario.asked
        days = [self.scenario.start + timedelta(days=n)
                for n in range(-1, (self.scenario.end - self.scenario.start).days + 2)]
        cli = run("status", "--date", f"{asked}", "--format", "json",
                  config=self.province.config, now=now_text(end))
        assert cli.exit_code == 0, cli.output
        for report in json.loads(cli.stdout):
            period = self.period(report["report"], asked)
            checks.statuses("CLI status", report["report"], period,
                            self.oracle.statuses(report["report"], period, end),
                            {c["code"]: c["status"] for c in report["communes"]})
        for key in self.specs:
            for period, day in {self.period(key, d): d for d in days}.items():
                if period != self.period(key, asked):
                    self.check_status(checks, "status", key, day, end)
            period = self.period(key, asked)
            cutoff = self.oracle.cutoff(key, period)
            if self.oracle.expected(key, period) and cutoff <= end:
                result = run("rollup", "--date", f"{asked}", "--template", key, "--as-of",
                             "deadline", config=self.province.config, now=now_text(end))
                assert result.exit_code == 0, result.output
                checks.statuses("as-of-deadline rollup", key, period,
                                self.oracle.statuses(key, period, cutoff, known_by=end),
                                self.labels(self.path(key, period, "_theo-han")))
        for path in sorted(self.province.archive.glob("*/*/*.xlsx")):
            key, period = re.fullmatch(r"(.+)_(\d{4}-\d{2}(?:-\d{2})?)(?:_theo-han)?",
                                       path.stem).groups()
            if not self.oracle.expected(key, period):
                checks.differ("an archive written for "
                              f"{self.oracle.why_not_expected(key, period)}", path.name)
        checks.done()


# -- timelines written by hand: the smallest of each kind the generated ones found -------------

FULL = {"new_shops": 1, "new_accounts": 2}
CLEARED = {"new_shops": None, "new_accounts": None}
#: name → (the kinds of disagreement it is about, a regular expression; the timeline)
KNOWN = {
    # Nobody reported: as of the deadline they are missing ("Chưa báo cáo"), not pending.
    "never-reported-as-of-deadline": ("as-of-deadline", timeline(
        "2026-11-20..2026-11-21", "2026-11-20 17:06")),
    # A Saturday on a working-days calendar is no reporting day: not missing, not chased, no
    # archive.
    "saturday-on-working-days": ("weekend", timeline(
        "2026-11-20..2026-11-23", "2026-11-21 17:30", calendar="working_days")),
    "day-before-the-campaign": ("before the campaign", timeline(
        "2026-11-20..2026-11-21", "2026-11-19 17:30")),
    # November's report is due on the 18th, before the campaign starts on the 20th.
    "month-due-before-the-start": ("month due before", timeline(
        "2026-11-20..2026-11-21", "2026-11-20 12:00", due_day=18)),
    # A phase-2 commune before its start, and one whose phase ended: not expected, not chased
    # ("Không phải báo cáo"), while the others are missing.
    "outside-a-communes-phase": ("phase", timeline(
        "2026-11-20..2026-11-23", "2026-11-21 17:30, 2026-11-22 17:30",
        ("2026-11-21 10:00:30", "06040", "kts_daily", "2026-11-21", FULL),
        phases=(("06040", "2026-11-22", None), ("06001", None, "2026-11-21")))),
    # Complete at 10:00, emptied at 15:00: nothing is there, pending, chased.
    "complete-then-cleared-before-the-deadline": ("^(?!.*not_expected)", timeline(
        "2026-11-20..2026-11-21", "2026-11-20 12:00, 2026-11-20 16:00",
        ("2026-11-20 10:00:30", "06040", "kts_daily", "2026-11-20", FULL),
        ("2026-11-20 15:00:30", "06040", "kts_daily", "2026-11-20", CLEARED))),
    # A half-typed row emptied again is missing, not incomplete.
    "partial-then-cleared": ("^(?!.*not_expected)(?!as-of-deadline.*pending)", timeline(
        "2026-11-20..2026-11-21", "2026-11-20 12:00, 2026-11-20 17:30",
        ("2026-11-20 10:00:30", "06040", "kts_daily", "2026-11-20", {"new_shops": 1}),
        ("2026-11-20 15:00:30", "06040", "kts_daily", "2026-11-20", CLEARED))),
    # Google: Drive's listing lags 5 minutes, so at 17:00 it still shows the workbook as it
    # was; the cutoff sweep must read the waiting communes anyway (DESIGN.md §5), or the
    # entry typed at 16:58 is proven only at 17:10, late.
    "cutoff-sweep-behind-a-lagging-drive": ("read policy", timeline(
        "2026-11-20..2026-11-21", "2026-11-20 12:00, 2026-11-20 12:30, 2026-11-20 17:00, "
        "2026-11-20 17:10",
        ("2026-11-20 16:58:30", "06040", "kts_daily", "2026-11-20", FULL), lag=5)),
}


# -- the tests -------------------------------------------------------------------------------



@pytest.fixture(scope="module", params=[
    pytest.param(backend, marks=pytest.mark.xdist_group(f"oracle-{backend}"))
    for backend in ("xlsx", "gsheets")])
def bench(request, tmp_path_factory):
    """One bench per backend, its tests on one pytest-xdist worker (``--dist loadgroup``): a
    bench provisions each of its bases once, and a second worker would provision them all
    again."""
    made = Bench(tmp_path_factory.mktemp(f"oracle-{request.param}"), request.param)
    yield made
    made.close()


@pytest.mark.parametrize("name", KNOWN)
def test_known_timelines(bench, name):
    """Each of these is one kind of disagreement, on its own (others are left to the
    generated scenarios)."""
    kinds, scenario = KNOWN[name]
    played = Run(bench, scenario, only=kinds)
    try:
        played.play()
    finally:
        played.close()


@pytest.fixture(autouse=True, scope="module")
def shrink_budget():
    """Hypothesis shrinks a failure for up to five minutes, which is 300 scenarios here: give it
    SHRINK_SECONDS (a private constant of hypothesis: left alone if it is not there)."""
    from hypothesis.internal.conjecture import engine

    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if before is not None:
        engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS
    yield
    if before is not None:
        engine.MAX_SHRINKING_SECONDS = before


@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_toolkit_agrees_with_the_oracle(bench, shard):
    """EXAMPLES generated scenarios per backend, in SHARDS parts of their own seed: pytest-xdist
    spreads the parts over the workers, where one test of 200 scenarios held one worker for
    minutes after the others had finished."""

    @seed(shard)
    @settings(max_examples=-(-EXAMPLES // SHARDS), deadline=None, database=None,
              phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
              report_multiple_bugs=ALL_BUGS, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(data=st.data())
    def agrees(data):
        play_generated(bench, data.draw(scenarios(bench.backend), label="scenario"))

    agrees()


def play_generated(bench, scenario: Scenario) -> None:
    SCENARIO[0] = scenario
    began, cpu = perf_counter(), process_time()
    played = Run(bench, scenario)
    try:
        played.play()
    finally:
        played.close()
    if SURVEY:
        with open(SURVEY, "a", encoding="utf-8") as out:
            out.write(json.dumps({"backend": bench.backend, "seconds": perf_counter() - began,
                                  "cpu": process_time() - cpu,
                                  "sweeps": len(scenario.sweeps),
                                  "entries": len(scenario.entries)}) + "\n")
