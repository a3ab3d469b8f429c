"""Period keys, deadlines and timeliness, all in Asia/Ho_Chi_Minh.

A *period key* names one reporting period of a template: ``2026-11-23`` for a daily report,
``2026-11`` for a monthly one, ``2026-Q4`` for a quarterly one, ``2026`` for a yearly one and
``once`` for a roster. Everything that compares times does so
with timezone-aware datetimes; naive input is taken to be Vietnam time, because that is what the
province office means when it types ``--now "2026-11-23 17:00"``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

ONCE = "once"


class Status(StrEnum):
    """Timeliness of one period of one commune (DESIGN.md §5)."""

    ON_TIME = "on_time"
    LATE = "late"
    AMENDED = "amended"
    INCOMPLETE = "incomplete"
    MISSING = "missing"
    PENDING = "pending"
    #: Not a reporting period for this commune: a weekend or holiday on a working-days
    #: calendar, or before the campaign (or after it). Never missing, never chased, outside
    #: every rate's denominator.
    NOT_EXPECTED = "not_expected"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def reported(self) -> bool:
        return self in (Status.ON_TIME, Status.LATE, Status.AMENDED)

    @property
    def timely(self) -> bool:
        return self in (Status.ON_TIME, Status.AMENDED)

    @property
    def expected(self) -> bool:
        return self is not Status.NOT_EXPECTED

    @property
    def chased(self) -> bool:
        """Someone should remind the commune: nothing or not enough has come in."""
        return self in (Status.PENDING, Status.MISSING, Status.INCOMPLETE)


STATUS_LABELS = {
    Status.ON_TIME: "Đúng hạn",
    Status.LATE: "Trễ hạn",
    Status.AMENDED: "Đúng hạn, sửa sau hạn",
    Status.INCOMPLETE: "Chưa đủ",
    Status.MISSING: "Chưa báo cáo",
    Status.PENDING: "Chưa nhập (còn hạn)",
    Status.NOT_EXPECTED: "Không phải báo cáo",
}


def parse_now(text: str | None) -> datetime:
    """The injectable clock: ``--now`` text, or the real time when absent.

    The day is read as ``--date`` reads it (``parse_date``), then an optional time of day:
    ``2026-12-01 17:00``, ``01/12/2026 17:00``, ``01/12/2026 17h00``; ISO 8601 with an offset
    (``2026-11-23T10:00:00+00:00``) is converted to Vietnam time.
    """
    if not text:
        return datetime.now(VN_TZ)
    text = text.strip()
    try:
        return to_vn(datetime.fromisoformat(text))
    except ValueError:
        pass
    match = _MOMENT.fullmatch(text)
    try:
        day = parse_date(match["day"]) if match else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"{text!r} không phải một thời điểm; hãy viết 2026-11-23 17:00 hoặc "
                         "23/11/2026 17:00")
    at = time(int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0))
    return datetime.combine(day, at, tzinfo=VN_TZ)


_MOMENT = re.compile(r"(?P<day>.+?)(?:[ T,]+(?P<hour>\d{1,2})(?:[:hH](?P<minute>\d{2})?)"
                     r"(?::(?P<second>\d{2}))?)?")


def to_vn(moment: datetime) -> datetime:
    """Attach Vietnam time to a naive datetime, convert an aware one."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


def to_utc_text(moment: datetime) -> str:
    """How the ledger stores instants: ISO 8601 in UTC, sortable as text."""
    return to_vn(moment).astimezone(UTC).isoformat(timespec="seconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(VN_TZ)


def parse_date(text: str) -> date:
    """A day as staff write it: ``2026-11-23``, ``23/11/2026``, ``23.11.2026``… — the cell
    reader's rules (``parse.read_date``), so every command reads a date the same way."""
    from toolkit.parse import read_date

    day = read_date(text.strip())
    if day is None:
        raise ValueError(f"{text.strip()!r} không phải một ngày; hãy viết 2026-11-23 hoặc "
                         "23/11/2026")
    return day


def daily_key(day: date) -> str:
    return day.isoformat()


def monthly_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarterly_key(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def yearly_key(day: date) -> str:
    return f"{day.year:04d}"


def key_for(period: str, day: date) -> str:
    """The period key of a template's period that contains ``day``."""
    if period == "daily":
        return daily_key(day)
    if period == "monthly":
        return monthly_key(day)
    if period == "quarterly":
        return quarterly_key(day)
    if period == "yearly":
        return yearly_key(day)
    return ONCE


#: How a period is named in a sentence ("báo cáo quý") and how many months it spans.
PERIOD_WORDS = {"daily": "ngày", "monthly": "tháng", "quarterly": "quý", "yearly": "năm"}
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_ROMAN = ("I", "II", "III", "IV")
_QUARTER = re.compile(r"(?P<year>\d{4})-Q(?P<quarter>[1-4])")


def months_of(period: str, key: str) -> tuple[date, date]:
    """The first day of the first month and the first day of the last month of a monthly,
    quarterly or yearly key."""
    if period == "quarterly":
        match = _QUARTER.fullmatch(key)
        year, first = int(match["year"]), 3 * int(match["quarter"]) - 2
    elif period == "yearly":
        year, first = int(key), 1
    else:
        year, first = (int(part) for part in key.split("-"))
    last = first + _MONTHS[period] - 1
    return date(year, first, 1), date(year, last, 1)


def period_label(period: str, key: str) -> str:
    """What the first column of a monthly, quarterly or yearly row shows: "11/2026",
    "Quý IV/2026", "Năm 2026" — the words a commune officer writes on a report."""
    first, _ = months_of(period, key)
    if period == "quarterly":
        return f"Quý {_ROMAN[(first.month - 1) // 3]}/{first.year}"
    if period == "yearly":
        return f"Năm {first.year}"
    return f"{first.month:02d}/{first.year}"


_LABEL = re.compile(r"(?:(?P<q>quy|q)\s*(?P<quarter>iv|iii|ii|i|[1-4])\s*[/.-]?\s*"
                    r"|nam\s*)(?P<year>\d{4})")


def label_key(text: str) -> str | None:
    """The quarterly or yearly key of a retyped label ("Quý 4/2026", "Q4-2026", "Năm 2026")."""
    from toolkit.parse import strip_diacritics

    match = _LABEL.fullmatch(strip_diacritics(text).strip())
    if match is None:
        return None
    if match["q"] is None:
        return match["year"]
    quarter = match["quarter"]
    number = int(quarter) if quarter.isdigit() else _ROMAN.index(quarter.upper()) + 1
    return f"{match['year']}-Q{number}"


@dataclass(frozen=True)
class Deadline:
    """When a period is due: a time of day, a day of a month, or a fixed moment.

    A monthly, quarterly or yearly period is due on ``day_of_month`` of its last month, or
    ``months_after`` months later: "the 5th of the month after the quarter" is day 5, one month
    after. A day past the month's end is its last day (due 31 in February: the 28th or 29th).
    """

    period: str
    at: time
    day_of_month: int | None = None
    once_due: datetime | None = None
    months_after: int = 0

    def for_key(self, key: str) -> datetime:
        if self.period == "daily":
            return datetime.combine(date.fromisoformat(key), self.at, VN_TZ)
        if self.period in _MONTHS:
            _, last_month = months_of(self.period, key)
            index = last_month.year * 12 + last_month.month - 1 + self.months_after
            year, month = divmod(index, 12)
            last = calendar.monthrange(year, month + 1)[1]
            day = min(self.day_of_month or last, last)
            return datetime.combine(date(year, month + 1, day), self.at, VN_TZ)
        if self.once_due is None:
            raise ValueError("a 'once' report needs a due date")
        return to_vn(self.once_due)

    def key_on(self, day: date) -> str:
        """The period a command run on ``day`` works on: the one containing it, or the one
        before while that is still open — on 1–5 January a quarterly report due on the 5th of
        the month after the quarter is the fourth quarter's, from the 6th the first's."""
        key = key_for(self.period, day)
        if self.months_after and self.period in _MONTHS:
            first, _ = months_of(self.period, key)
            before = key_for(self.period, first - timedelta(days=1))
            if day <= self.for_key(before).date():
                return before
        return key

    def latest_first(self, day: date) -> Iterator[datetime]:
        """The deadline of the period a command works on the day after ``day``, then those of
        the periods before it, latest first. A later period is never due earlier, so a caller
        looking for the deadlines near ``day`` stops at the first one well before it, having
        asked a handful of periods rather than every day of a horizon."""
        key = self.key_on(day + timedelta(days=1))
        while True:
            yield self.for_key(key)
            if self.period == "daily":
                key = daily_key(date.fromisoformat(key) - timedelta(days=1))
            elif self.period in _MONTHS:
                key = key_for(self.period, months_of(self.period, key)[0] - timedelta(days=1))
            else:
                return

    def describe(self) -> str:
        """The deadline in the words of a report's title and the Hướng dẫn tab."""
        at = f"{self.at:%H:%M}"
        if self.period == "daily":
            return f"hằng ngày, trước {at}"
        if self.period not in _MONTHS:
            return f"một lần, trước {to_vn(self.once_due):%H:%M ngày %d/%m/%Y}"
        word = PERIOD_WORDS[self.period]
        day = f"ngày {self.day_of_month}"
        if self.period == "monthly":
            month = {0: "", 1: " tháng sau"}.get(self.months_after,
                                                   f", {self.months_after} tháng sau tháng đó")
            return f"hằng tháng, trước {at} {day}{month}"
        if self.months_after == 0:
            month = f"tháng cuối {word}"
        elif self.period == "yearly":
            month = f"tháng {(self.months_after - 1) % 12 + 1} năm sau"
        else:
            month = ("tháng đầu quý sau" if self.months_after == 1
                     else f"tháng thứ {self.months_after} sau quý")
        return f"hằng {word}, trước {at} {day} {month}"


CALENDARS = ("every_day", "working_days")


def campaign_days(start: date, end: date, calendar: str = "every_day") -> list[date]:
    """The reporting days from start to end: every day, or Monday–Friday without holidays."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if calendar == "every_day":
        return days
    off = public_holidays(start.year, end.year)
    return [d for d in days if d.weekday() < 5 and d not in off]


@lru_cache(maxsize=32)
def public_holidays(first_year: int, last_year: int) -> Mapping[date, str]:
    """Vietnamese public holidays (Tết by the lunar calendar included), named in Vietnamese.

    From the maintained ``holidays`` package rather than a hand-typed list: Tết and the
    substituted days off move every year. Worked out once per span of years and read-only:
    the package takes 7 ms for it, and a sweep asks for every working-days report, at each
    step that lists the campaign's days.
    """
    import holidays

    return MappingProxyType(dict(holidays.country_holidays(
        "VN", years=range(first_year, last_year + 1), language="vi")))


def campaign_periods(period: str, start: date, end: date) -> list[str]:
    """The monthly, quarterly or yearly keys of every period that overlaps the campaign."""
    keys = dict.fromkeys(key_for(period, date(int(k[:4]), int(k[5:]), 1))
                         for k in campaign_months(start, end))
    return list(keys)


def campaign_months(start: date, end: date) -> list[str]:
    keys: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


@dataclass(frozen=True)
class Proof:
    """One state of a commune's period: when it is proven to exist and what it held.

    ``blank`` is a period with nothing in it (never typed, or cleared); ``complete`` one whose
    required fields are all readable."""

    proven_at: datetime
    complete: bool
    content: str
    blank: bool = False


def timeliness(
    versions: list[Proof], deadline: datetime, *, grace: timedelta, as_of: datetime
) -> tuple[Status, datetime | None]:
    """Classify an expected period from its states (oldest first) as of a moment (§5).

    What counts is the state at the cutoff (deadline + grace): complete then is on time (or
    amended, when it changed afterwards); otherwise the first complete state after it is
    late, and without one the state now says incomplete or missing. Before the cutoff the
    state now decides: nothing yet is pending. A period typed complete and cleared before the
    deadline is therefore not on time. Versions proven after ``as_of`` are not known yet; that
    is what makes a rollup as of the deadline reproducible later.

    Returns the status and the moment the complete state it counts was first proven.
    """
    known = [v for v in versions if v.proven_at <= as_of]
    cutoff = deadline + grace
    current = known[-1] if known else None
    if as_of < cutoff:
        if current is None or current.blank:
            return Status.PENDING, None
        if not current.complete:
            return Status.INCOMPLETE, None
        return Status.ON_TIME, next(v.proven_at for v in known if v.complete)
    before = [v for v in known if v.proven_at <= cutoff]
    after = [v for v in known if v.proven_at > cutoff]
    at_cutoff = before[-1] if before else None
    if at_cutoff is not None and at_cutoff.complete:
        first = next(v.proven_at for v in before if v.complete)
        changed = any(v.content != at_cutoff.content for v in after)
        return (Status.AMENDED if changed else Status.ON_TIME), first
    late = next((v.proven_at for v in after if v.complete), None)
    if late is not None:
        return Status.LATE, late
    if current is None or current.blank:
        return Status.MISSING, None
    return Status.INCOMPLETE, None
