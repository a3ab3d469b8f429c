"""Generated reporting days for the oracle harness: a campaign, sweeps and what staff type.

A scenario is a short campaign around weekends and Vietnamese holidays (the monthly report due
around its start, sometimes before it), the scheduler's sweeps on one or two days, and three
communes each telling a story about one row — typed, completed, amended, cleared, "12a" — some
time before one of the sweeps, plus a stray entry or two; sometimes a commune reports only
from a later start, or up to an earlier end, than the campaign's (its phase, in the registry).
It prints as a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hypothesis import strategies as st

from oracle_bench import COMMUNES, DAILY, MONTHLY, vn

STARTS = (date(2026, 4, 29), date(2026, 8, 28), date(2026, 9, 1), date(2026, 11, 20),
          date(2026, 12, 30), date(2027, 1, 1))
SWEEP_TIMES = ("17:00", "16:50", "16:55", "17:03", "17:05", "17:06", "20:00", "15:00",
               "09:00", "16:59", "17:01", "17:10")
#: How long before a sweep an entry is typed: seconds before it, across the deadline or the
#: grace, hours or a day before, or any number of minutes up to a day (always 30 s off the
#: minute, so never at a sweep's own second).
BEFORE = st.one_of(st.sampled_from((30, 90, 150, 270, 450, 630, 1830, 7230, 86430)),
                   st.integers(0, 1440).map(lambda m: m * 60 + 30)).map(
                       lambda s: timedelta(seconds=s))


@dataclass(frozen=True)
class Entry:
    at: datetime
    commune: str
    report: str
    period: str
    values: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Scenario:
    start: date
    end: date
    calendar: str
    due_day: int                 # 0: no monthly report
    lag: int                     # Drive listing lag, minutes (Google)
    sweeps: tuple[datetime, ...]
    entries: tuple[Entry, ...]
    asked: date                  # the day the CLI is asked about at the end
    #: (commune, first day, last day) of the communes with their own phase; None: the campaign's
    phases: tuple[tuple[str, date | None, date | None], ...] = ()

    def _repr_pretty_(self, printer, cycle) -> None:     # how hypothesis prints it
        printer.text(repr(self))

    def __repr__(self) -> str:
        lines = [f"campaign {self.start}..{self.end} {self.calendar}, monthly due day "
                 f"{self.due_day or '-'}, Drive lag {self.lag} min, CLI asked {self.asked}"]
        lines += [f"  {code} reports from {first or 'the start'} to {last or 'the end'}"
                  for code, first, last in self.phases]
        events = [(s, f"  {s:%a %d/%m %H:%M:%S} sweep") for s in self.sweeps]
        events += [(e.at, f"  {e.at:%a %d/%m %H:%M:%S} {e.commune} types {e.report} "
                          f"{e.period} {dict(e.values)}") for e in self.entries]
        return "\n".join(lines + [text for _, text in sorted(events, key=lambda x: x[0])])


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def moments(choices: tuple[str, ...]):
    """A time of day: one of the moments around a deadline, or any minute from 7:00 to 23:00."""
    return st.one_of(st.sampled_from(choices).map(_clock),
                     st.integers(7 * 60, 23 * 60).map(lambda m: time(m // 60, m % 60)))


INT = st.one_of(st.integers(0, 20), st.integers(0, 20).map(str), st.none(), st.just("12a"))
TEXT = st.one_of(st.none(), st.sampled_from(("đủ", "đã sửa")))


def values(report):
    """An entry: the required figures, some fields (any of them cleared or unreadable), or the
    whole row cleared."""
    kinds = dict(report.fields)
    complete = st.tuples(*(st.tuples(st.just(k), st.integers(0, 20)) for k in report.required))
    some = st.lists(st.sampled_from(list(kinds)), min_size=1, max_size=len(kinds),
                    unique=True).flatmap(lambda keys: st.tuples(
                        *(st.tuples(st.just(k), TEXT if kinds[k] == "text" else INT)
                          for k in keys)))
    return st.one_of(complete, some, st.just(tuple((k, None) for k in kinds)))


@st.composite
def scenarios(draw, backend: str) -> Scenario:
    start = draw(st.sampled_from(STARTS))
    end = start + timedelta(days=draw(st.integers(2, 4)) - 1)
    calendar = draw(st.sampled_from(("every_day", "working_days")))
    near = st.integers(-3, 4).map(lambda o: min(28, max(1, start.day + o)))   # around start
    due_day = draw(st.one_of(near, st.integers(1, 28))) if draw(st.booleans()) else 0
    lag = draw(st.integers(0, 10)) if backend == "gsheets" else 0
    days = [start + timedelta(days=n) for n in range(-1, (end - start).days + 2)]
    index = st.integers(0, len(days) - 1)
    sweeps = []      # the scheduler's runs: on one or two days, one to three a day, four at most
    for day in draw(st.sampled_from((1, 1, 1, 2)).flatmap(
            lambda n: st.lists(index, min_size=n, max_size=n, unique=True))):
        times = draw(st.sampled_from((1, 2, 1, 3)).flatmap(
            lambda n: st.lists(moments(SWEEP_TIMES), min_size=n, max_size=n, unique=True)))
        sweeps += [vn(datetime.combine(days[day], moment)) for moment in times]
    sweeps = sorted(sweeps[:4])
    reports = (DAILY, MONTHLY) if due_day else (DAILY,)

    def entry(commune: str, report, period: str, sweep: int) -> Entry:
        # Typed some time before sweep number ``sweep`` (that one or a later one reads it,
        # unless it is typed over first).
        at = sweeps[sweep] - draw(BEFORE)
        return Entry(at, commune, report.key, period, draw(values(report)))

    def near(sweep: int, report) -> str:
        """The period of a sweep's day, or of a day or two before."""
        day = sweeps[sweep].date() - timedelta(days=draw(st.sampled_from((0, 0, 1, 2))))
        return report.period_of(day)

    which = st.integers(0, len(sweeps) - 1)
    entries = []
    for commune in COMMUNES:
        # Each commune's story about one row, told across the sweeps: typed, completed,
        # amended after the deadline, cleared…
        report = draw(st.sampled_from(reports))
        told = sorted(draw(st.lists(which, max_size=3)))
        if told:
            period = near(told[0], report)
            entries += [entry(commune, report, period, sweep) for sweep in told]
    for _ in range(draw(st.integers(0, 2))):       # and a stray entry elsewhere
        report, sweep = draw(st.sampled_from(reports)), draw(which)
        entries.append(entry(draw(st.sampled_from(COMMUNES)), report, near(sweep, report),
                             sweep))
    entries.sort(key=lambda e: e.at)
    return Scenario(start, end, calendar, due_day, lag, tuple(sweeps), tuple(entries),
                    draw(st.sampled_from(days)), draw(phases(start, end)))


def phases(start: date, end: date):
    """Some communes' own phases: a later start (phase 2), an earlier end, or both; days
    drawn around the campaign's, outside it too."""
    offset = st.integers(-1, (end - start).days + 1)
    day = st.one_of(st.none(), offset.map(lambda n: start + timedelta(days=n)))
    phase = st.tuples(st.sampled_from(COMMUNES), day, day).filter(
        lambda p: (p[1] or p[2]) and not (p[1] and p[2] and p[2] < p[1]))
    return st.one_of(st.just(()), st.lists(phase, max_size=2, unique_by=lambda p: p[0])
                     .map(tuple))


def timeline(campaign: str, sweeps: str, *typed: tuple, calendar: str = "every_day",
             due_day: int = 0, lag: int = 0, phases: tuple = ()) -> Scenario:
    """``campaign`` "2026-11-20..2026-11-21"; ``sweeps`` "2026-11-20 12:00, 2026-11-20 16:00";
    each of ``typed`` (moment, commune, report, period, values); ``phases`` (commune, first
    day or None, last day or None)."""
    start, end = (date.fromisoformat(d) for d in campaign.split(".."))
    moments = tuple(vn(s.strip()) for s in sweeps.split(","))
    entries = tuple(Entry(vn(at), code, report, period, tuple(values.items()))
                    for at, code, report, period, values in typed)
    phases = tuple((code, first and date.fromisoformat(first), last and date.fromisoformat(last))
                   for code, first, last in phases)
    return Scenario(start, end, calendar, due_day, lag, moments, entries, moments[-1].date(),
                    phases)
