"""Period keys, deadlines and timeliness, all in Asia/Ho_Chi_Minh.

A *period key* names one reporting period of a template: ``2026-11-23`` for a daily report,
``2026-11`` for a monthly one and ``once`` for a roster. Everything that compares times does so
with timezone-aware datetimes; naive input is taken to be Vietnam time, because that is what the
province office means when it types ``--now "2026-11-23 17:00"``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
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


def key_for(period: str, day: date) -> str:
    """The period key of a template's period that contains ``day``."""
    if period == "daily":
        return daily_key(day)
    if period == "monthly":
        return monthly_key(day)
    return ONCE


@dataclass(frozen=True)
class Deadline:
    """When a period is due: a time of day, a day of the month, or a fixed moment."""

    period: str
    at: time
    day_of_month: int | None = None
    once_due: datetime | None = None

    def for_key(self, key: str) -> datetime:
        if self.period == "daily":
            return datetime.combine(date.fromisoformat(key), self.at, VN_TZ)
        if self.period == "monthly":
            year, month = (int(part) for part in key.split("-"))
            last = calendar.monthrange(year, month)[1]
            day = min(self.day_of_month or last, last)
            return datetime.combine(date(year, month, day), self.at, VN_TZ)
        if self.once_due is None:
            raise ValueError("a 'once' report needs a due date")
        return to_vn(self.once_due)


CALENDARS = ("every_day", "working_days")


def campaign_days(start: date, end: date, calendar: str = "every_day") -> list[date]:
    """The reporting days from start to end: every day, or Monday–Friday without holidays."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if calendar == "every_day":
        return days
    off = public_holidays(start.year, end.year)
    return [d for d in days if d.weekday() < 5 and d not in off]


def public_holidays(first_year: int, last_year: int) -> dict[date, str]:
    """Vietnamese public holidays (Tết by the lunar calendar included), named in Vietnamese.

    From the maintained ``holidays`` package rather than a hand-typed list: Tết and the
    substituted days off move every year.
    """
    import holidays

    return dict(holidays.country_holidays("VN", years=range(first_year, last_year + 1),
                                          language="vi"))


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
