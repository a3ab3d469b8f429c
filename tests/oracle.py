"""A small, independent reference model of report statuses, from the typing timeline alone.

It shares no code with the toolkit on purpose (no import of ``toolkit`` here): it is the check.
What it knows is what the brief of the timeliness rules says (DESIGN.md §5, made precise):

* which periods a commune is expected to report (campaign, calendar, the due day of a month,
  quarter or year, counted in months after the period's last month, and the commune's own
  phase: the days from its start to its end, when the registry gives them);
* what each row holds at each moment (every entry typed, in order), parsed the simple way;
  a postal enterprise's period is one row per commune it serves, reported once every one of
  them is complete (partly typed: incomplete);
* which row versions the toolkit can know: on the xlsx folder the last save before each sweep,
  proven at the file's time; on Google Sheets what each fetch saw, proven at the fetch;
* the status of a (commune, period) as of a moment A, knowing what sweeps up to K saw.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")

ON_TIME, LATE, AMENDED = "on_time", "late", "amended"
INCOMPLETE, MISSING, PENDING, NOT_EXPECTED = "incomplete", "missing", "pending", "not_expected"
WAITING = (PENDING, MISSING, INCOMPLETE)
LABELS = {
    ON_TIME: "Đúng hạn", LATE: "Trễ hạn", AMENDED: "Đúng hạn, sửa sau hạn",
    INCOMPLETE: "Chưa đủ", MISSING: "Chưa báo cáo", PENDING: "Chưa nhập (còn hạn)",
    NOT_EXPECTED: "Không phải báo cáo",
}
NOTHING, COMPLETE, PARTIAL = "nothing", "complete", "incomplete"
#: How long before a deadline a Google sweep must read every commune still waiting (Drive's
#: files.list lags up to about ten minutes, so its stamps cannot tell who changed).
READ_WINDOW = timedelta(minutes=10)

# Vietnamese public holidays from April 2026 to January 2027, the span the generated campaigns
# reach. Printed once from holidays.country_holidays("VN", years=(2026, 2027)) (holidays 0.109)
# and checked against the weekday each falls on; Hùng Kings' day 26/4/2026 is a Sunday, hence
# the observed Monday, and 31/8/2026 is the Monday given for the National Day bridge (the
# Saturday 22/8 worked for it is not a reporting day here: Monday–Friday only).
HOLIDAYS = frozenset({
    date(2026, 4, 26), date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1),
    date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2), date(2026, 11, 24),
    date(2027, 1, 1),
})


@dataclass(frozen=True)
class Report:
    key: str
    period: str                        # "daily", "monthly", "quarterly" or "yearly"
    fields: tuple[tuple[str, str], ...]  # (field, "int" | "text"), in the tab's order
    required: tuple[str, ...]
    due_day: int = 0                   # the day of the month the deadline falls on
    calendar: str = "every_day"        # daily: "every_day" or "working_days"
    at: time = time(17, 0)
    months_after: int = 0              # the deadline's month, after the period's last month
    #: An enterprise's report: under each period one row per commune the reporter serves
    #: (``Oracle(serves=...)``), and the period is reported when every one of them is.
    keyed: bool = False

    def period_of(self, day: date) -> str:
        if self.period == "daily":
            return day.isoformat()
        if self.period == "quarterly":
            return f"{day.year}-Q{(day.month + 2) // 3}"
        if self.period == "yearly":
            return str(day.year)
        return f"{day:%Y-%m}"

    def months(self, period: str) -> tuple[date, date]:
        """The first day and the last day of a monthly, quarterly or yearly period."""
        if self.period == "quarterly":
            year, quarter = int(period[:4]), int(period[-1])
            first, last = date(year, quarter * 3 - 2, 1), (year, quarter * 3)
        elif self.period == "yearly":
            first, last = date(int(period), 1, 1), (int(period), 12)
        else:
            year, month = (int(p) for p in period.split("-"))
            first, last = date(year, month, 1), (year, month)
        return first, date(*last, month_calendar.monthrange(*last)[1])

    def deadline(self, period: str) -> datetime:
        if self.period == "daily":
            return datetime.combine(date.fromisoformat(period), self.at, VN)
        _, last = self.months(period)
        month = last.month + self.months_after
        year, month = last.year + (month - 1) // 12, (month - 1) % 12 + 1
        day = min(self.due_day, month_calendar.monthrange(year, month)[1])
        return datetime.combine(date(year, month, day), self.at, VN)


def working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def expected(report: Report, period: str, start: date, end: date) -> bool:
    if report.period == "daily":
        day = date.fromisoformat(period)
        return start <= day <= end and (report.calendar == "every_day" or working_day(day))
    first, last = report.months(period)
    overlaps = first <= end and last >= start
    return overlaps and report.deadline(period) >= datetime.combine(start, time(0), VN)


def why_not_expected(report: Report, period: str, start: date, end: date) -> str:
    """Why a period is not expected ("" when it is), to tell disagreements apart."""
    if expected(report, period, start, end):
        return ""
    if report.period != "daily":
        first, last = report.months(period)
        word = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}[report.period]
        if first > end or last < start:
            return f"a {word} outside the campaign"
        return f"a {word} due before the campaign starts"
    day = date.fromisoformat(period)
    if day < start:
        return "a day before the campaign"
    if day > end:
        return "a day after the campaign"
    return "a weekend day" if day.weekday() >= 5 else "a public holiday"


@dataclass(frozen=True)
class Unreadable:
    """A cell whose text is not a value of its field's type ("12a" in a whole-number field)."""

    raw: str


def parse(kind: str, raw):
    """A cell as a value: blank → None; 12 and "12" are the same; "12a" is unreadable."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if kind == "text":
        return str(raw).strip()
    if isinstance(raw, bool):
        return Unreadable(str(raw))
    if isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer()):
        return int(raw) if raw >= 0 else Unreadable(str(raw))
    text = str(raw).strip()
    return int(text) if text.isdigit() else Unreadable(text)


def content(report: Report, row: dict) -> tuple:
    return tuple(parse(kind, row.get(name)) for name, kind in report.fields)


def state(report: Report, values: tuple) -> str:
    if all(v is None for v in values):
        return NOTHING
    by_name = dict(zip((name for name, _ in report.fields), values, strict=True))
    readable = all(by_name[k] is not None and not isinstance(by_name[k], Unreadable)
                   for k in report.required)
    return COMPLETE if readable else PARTIAL


def period_state(report: Report, values: tuple) -> str:
    """A period's state: its one row's, or for an enterprise's report (a tuple of rows, one
    per commune served) nothing when all are blank, complete when all are, else partial."""
    if not report.keyed:
        return state(report, values)
    states = {state(report, row) for row in values}
    return states.pop() if len(states) == 1 and states <= {NOTHING, COMPLETE} else PARTIAL


@dataclass(frozen=True)
class Version:
    seen_at: datetime      # the sweep that saw it: known from then on
    proven_at: datetime    # when it is proven to exist
    rows: dict             # (report, period) → {field: typed value}


class Oracle:
    """Feed it what staff typed and when the sweeps ran; ask it any status."""

    def __init__(self, reports: list[Report], communes: list[str], *, start: date, end: date,
                 grace: timedelta, backend: str,
                 phases: dict[str, tuple[date | None, date | None]] | None = None,
                 serves: dict[str, tuple[str, ...]] | None = None):
        self.reports = {r.key: r for r in reports}
        self.communes = list(communes)
        self.start, self.end, self.grace, self.backend = start, end, grace, backend
        #: commune → (first day, last day) it reports, either None for the campaign's own
        self.phases = dict(phases or {})
        #: an enterprise → the communes it serves: the rows of its keyed reports
        self.serves = dict(serves or {})
        self.saves: dict[str, list[tuple[datetime, dict]]] = {c: [] for c in communes}
        self.seen: dict[str, list[Version]] = {c: [] for c in communes}

    # -- the timeline ------------------------------------------------------------------------

    def type(self, commune: str, at: datetime, report: str, period: str, values: dict,
             served: str | None = None) -> None:
        """A save of the commune's workbook at ``at`` (entries the sheet refused left out);
        ``served``: on an enterprise's keyed report, the commune whose row it is."""
        saves = self.saves[commune]
        rows = {k: dict(v) for k, v in saves[-1][1].items()} if saves else {}
        key = (report, period) if served is None else (report, period, served)
        rows.setdefault(key, {}).update(values)
        saves.append((at, rows))

    def typed(self, commune: str, at: datetime) -> tuple[datetime, dict] | None:
        """The last save at or before ``at``."""
        found = [s for s in self.saves[commune] if s[0] <= at]
        return found[-1] if found else None

    def sweep(self, at: datetime, fetched: set[str] | None = None) -> None:
        """A sweep at ``at``. xlsx: every workbook changed since it was last read is read and
        its file time proves it. Google: ``fetched`` (from the request log) are read, proven at
        ``at``."""
        for commune in self.communes:
            save = self.typed(commune, at)
            if self.backend == "xlsx":
                previous = self.seen[commune][-1].proven_at if self.seen[commune] else None
                if save is not None and save[0] != previous:
                    self.seen[commune].append(Version(at, save[0], save[1]))
            elif commune in (fetched or ()):
                self.seen[commune].append(Version(at, at, save[1] if save else {}))

    # -- what the toolkit should say -----------------------------------------------------------

    def window(self, commune: str | None) -> tuple[date, date]:
        """The days a commune reports: the campaign's, cut to its phase (None: the campaign)."""
        first, last = self.phases.get(commune, (None, None))
        start = self.start if first is None or first < self.start else first
        end = self.end if last is None or last > self.end else last
        return start, end

    def expected(self, report: str, period: str, commune: str | None = None) -> bool:
        """Of ``commune``, or (None) of the campaign: an archive is written for the period."""
        start, end = self.window(commune)
        return start <= end and expected(self.reports[report], period, start, end)

    def why_not_expected(self, report: str, period: str, commune: str | None = None) -> str:
        if self.expected(report, period, commune):
            return ""
        if self.expected(report, period):
            return "outside the commune's phase"
        return why_not_expected(self.reports[report], period, self.start, self.end)

    def cutoff(self, report: str, period: str) -> datetime:
        return self.reports[report].deadline(period) + self.grace

    def versions(self, commune: str, report: str, period: str, *, as_of: datetime,
                 known_by: datetime) -> list[tuple[datetime, tuple]]:
        spec = self.reports[report]
        known = [v for v in self.seen[commune] if v.seen_at <= known_by and v.proven_at <= as_of]
        known.sort(key=lambda v: v.proven_at)
        return [(v.proven_at, self.content(commune, spec, v.rows, period)) for v in known]

    def content(self, commune: str, spec: Report, rows: dict, period: str) -> tuple:
        if not spec.keyed:
            return content(spec, rows.get((spec.key, period), {}))
        return tuple(content(spec, rows.get((spec.key, period, served), {}))
                     for served in self.serves[commune])

    def status(self, commune: str, report: str, period: str, as_of: datetime,
               known_by: datetime | None = None) -> str:
        if not self.expected(report, period, commune):
            return NOT_EXPECTED
        spec = self.reports[report]
        known = self.versions(commune, report, period, as_of=as_of,
                              known_by=as_of if known_by is None else known_by)
        nothing = self.content(commune, spec, {}, period)

        def at(moment: datetime) -> tuple:
            before = [c for proven, c in known if proven <= moment]
            return before[-1] if before else nothing

        cutoff = self.cutoff(report, period)
        if as_of < cutoff:
            return {NOTHING: PENDING, COMPLETE: ON_TIME, PARTIAL: INCOMPLETE}[
                period_state(spec, at(as_of))]
        on_time = at(cutoff)
        later = [c for proven, c in known if cutoff < proven <= as_of]
        if period_state(spec, on_time) == COMPLETE:
            return AMENDED if any(c != on_time for c in later) else ON_TIME
        if any(period_state(spec, c) == COMPLETE for c in later):
            return LATE
        return MISSING if period_state(spec, at(as_of)) == NOTHING else INCOMPLETE

    def statuses(self, report: str, period: str, as_of: datetime,
                 known_by: datetime | None = None) -> dict[str, str]:
        return {c: self.status(c, report, period, as_of, known_by) for c in self.communes}

    def has_error(self, commune: str, report: str, period: str, now: datetime) -> bool:
        """The latest known version of the row holds an unreadable cell, or holds something
        but leaves a required field empty (a report amended after the deadline can)."""
        known = self.versions(commune, report, period, as_of=now, known_by=now)
        if not known:
            return False
        latest = known[-1][1]
        spec = self.reports[report]
        cells = [v for row in latest for v in row] if spec.keyed else latest
        return any(isinstance(v, Unreadable) for v in cells) or \
            period_state(spec, latest) == PARTIAL

    def chased(self, report: str, day: date, now: datetime) -> set[str]:
        """Whom remind names for the period containing ``day``, as of ``now``."""
        period = self.reports[report].period_of(day)
        return {c for c in self.communes if self.expected(report, period, c)
                and (self.status(c, report, period, now) in WAITING
                     or self.has_error(c, report, period, now))}

    def must_fetch(self, at: datetime) -> set[str]:
        """Google: communes a sweep at ``at`` has to read whatever Drive says, judged by what
        the earlier sweeps saw (call it before ``sweep(at)``)."""
        wanted: set[str] = set()
        for key, spec in self.reports.items():
            period = spec.period_of(at.date())
            if not self.expected(key, period) or at < spec.deadline(period) - READ_WINDOW:
                continue
            wanted |= {c for c in self.communes
                       if self.status(c, key, period, at, known_by=at) in WAITING}
        return wanted


# Assigned targets and the thi đua ranking (P9 item 2), from the registry and the figures alone.
#
# A target asks each commune for a share of its households (the template's threshold, or the
# share its chairman assigned) or for a count it assigned. Completion is what was done over
# that goal. A commune's (or district's) score is the mean, over the targets it has a goal for,
# of its completion capped at 100%; ties go to the larger uncapped mean, then to the name.
# Scores equal to 9 decimals are ties: the archive shows them as percentages.

def goal_of(households: int | None, threshold: Fraction, assigned) -> Fraction | None:
    """``assigned``: None, ("share", Fraction) or ("count", int)."""
    if assigned is not None and assigned[0] == "count":
        return Fraction(assigned[1])
    share = threshold if assigned is None else assigned[1]
    return households * share if households else None


def score(done: dict, goals: dict) -> tuple[Fraction, Fraction] | None:
    """(capped, uncapped) mean completion over the targets with a goal; None without one."""
    ratios = [Fraction(done[t]) / goals[t] for t in goals if goals[t]]
    if not ratios:
        return None
    return (sum(min(r, 1) for r in ratios) / len(ratios), sum(ratios) / len(ratios))


def ranking(units: dict[str, tuple[dict, dict]]) -> list[str]:
    """Names of the units (name → (done per target, goal per target)) best first."""
    scored = {name: s for name, (done, goals) in units.items()
              if (s := score(done, goals)) is not None}
    return sorted(scored, key=lambda n: (-round(float(scored[n][0]), 9),
                                         -round(float(scored[n][1]), 9), n))


def district_units(communes: dict[str, dict]) -> dict[str, tuple[dict, dict]]:
    """Each district's done and goals: the sums over its communes that have the goal."""
    units: dict[str, tuple[dict, dict]] = {}
    for commune in communes.values():
        done, goals = units.setdefault(commune["district"], ({}, {}))
        for target, goal in commune["goals"].items():
            if goal is not None:
                goals[target] = goals.get(target, 0) + goal
                done[target] = done.get(target, 0) + commune["done"][target]
    return units
