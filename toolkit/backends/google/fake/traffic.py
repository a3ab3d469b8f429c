"""What went over the wire: the request log, injected faults and per-minute quotas."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class RequestRecord:
    """One request as the fake saw it; ``status`` 0 means the connection was reset."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: object
    status: int = 0
    api: str = ""             # "sheets", "drive", "oauth2" or "" (no such endpoint)
    method_id: str = ""       # discovery id, e.g. "sheets.spreadsheets.values.batchGet"
    account: str | None = None
    at: float = 0.0
    fault: str | None = None  # what was injected, if anything

    @property
    def kind(self) -> str:
        """Google's quota kind: Sheets "read" / "write", or "drive" / "token"."""
        if self.api == "sheets":
            return "read" if self.method == "GET" else "write"
        return self.api or "unknown"


@dataclass(frozen=True)
class Tally:
    """What a stretch of the request log cost, counted as Google's quotas count it."""

    reads: int = 0
    writes: int = 0
    drive: int = 0
    throttled: int = 0        # answered 429: over a quota

    @classmethod
    def of(cls, records: Iterable[RequestRecord]) -> Tally:
        """The Sheets and Drive calls among ``records`` (token requests are not counted)."""
        calls = [r for r in records if r.api in ("sheets", "drive")]
        kinds = [r.kind for r in calls]
        throttled = sum(1 for r in calls if r.status == 429)
        return cls(kinds.count("read"), kinds.count("write"), kinds.count("drive"), throttled)

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.drive

    def floor(self, reads_per_minute: float, writes_per_minute: float,
              drive_per_minute: float) -> float:
        """Seconds the quota alone forces: the slowest of the three buckets, which a pacer
        fills side by side (requests ÷ quota rate)."""
        return 60 * max(self.reads / reads_per_minute, self.writes / writes_per_minute,
                        self.drive / drive_per_minute)


Match = str | Callable[[RequestRecord], bool] | None


def matches(match: Match, record: RequestRecord) -> bool:
    """None: any API call; a str: a discovery id or its tail ("values.batchGet"), an api name,
    a quota kind ("read", "write"), or a substring of ``"METHOD /path"``; a callable: its
    verdict."""
    if match is None:
        return record.api in ("sheets", "drive")
    if callable(match):
        return bool(match(record))
    return match in (record.method_id, record.api, record.kind) or \
        bool(record.method_id) and record.method_id.endswith("." + match) or \
        match in f"{record.method} {record.path}"


@dataclass
class Fault:
    """One injected failure. ``kind`` is an HTTP status (429, 500, 503…), "429+retry-after"
    (a 429 with a Retry-After header), "reset" (the connection drops; ``applied``: after the
    work was done), "read-timeout" (the work is done but the answer never comes in time: the
    client's read timeout fires at once, as requests raises it), or "timeout"/"slow" (the
    answer comes ``delay`` real seconds late)."""

    kind: int | str
    remaining: int
    match: Match = None
    delay: float = 2.0
    applied: bool = False

    @property
    def label(self) -> str:
        """How the request log names it: "reset-after" for a reset after the work."""
        return "reset-after" if self.kind == "reset" and self.applied else str(self.kind)

    @classmethod
    def of(cls, kind: int | str, remaining: int = 1, match: Match = None, delay: float = 2.0,
           applied: bool = False) -> Fault:
        """A fault by its log name: "reset-after" is a reset after the work was done."""
        if kind == "reset-after":
            kind, applied = "reset", True
        return cls(kind, remaining, match, delay, applied)


@dataclass
class Quotas:
    """Requests per 60-second window of the fake's clock, by kind: ``limits`` per account
    (Sheets' "per minute per user per project") and ``project_limits`` for all accounts of one
    Cloud project together (Sheets' "per minute per project": 300 reads, 300 writes)."""

    limits: dict[str, int] = field(default_factory=dict)
    project_limits: dict[str, int] = field(default_factory=dict)
    used: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, account: str, kind: str, now: float, project: str = ""
             ) -> tuple[int, str] | None:
        """None when allowed (and counted); else the limit hit and "user" or "project"."""
        window = int(now // 60)
        keys = [((project, account, kind, window), self.limits.get(kind), "user"),
                ((project, "", kind, window), self.project_limits.get(kind), "project")]
        keys = [(key, limit, scope) for key, limit, scope in keys if limit is not None]
        if not keys:
            return None
        with self.lock:
            for key, limit, scope in keys:
                if self.used.get(key, 0) >= limit:
                    return limit, scope
            for key, _, _ in keys:
                self.used[key] = self.used.get(key, 0) + 1
            for stale in [k for k in self.used if k[3] < window - 1]:
                del self.used[stale]
        return None
