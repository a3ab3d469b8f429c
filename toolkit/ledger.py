"""The SQLite ledger: every version of every row, when it was seen and what proves when.

Append-only: a row version is added only when its content differs from the latest one, so
collecting twice with no change adds nothing, and history (late entries, amendments) is kept
for timeliness and as-of-deadline rollups. Each workbook's fetch is one transaction, so a run
killed at any point leaves the ledger consistent and a rerun completes the work.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Collection, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from toolkit.periods import to_utc_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS workbooks (
    commune_code TEXT PRIMARY KEY,
    locator TEXT NOT NULL,
    backend TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_modified TEXT,          -- backend's modification stamp at the last read or write
    last_fetched_at TEXT,
    locale TEXT                  -- the spreadsheet's locale (Google), as last seen
);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    modified_at TEXT,            -- what the backend says about the last change
    proven_at TEXT,              -- the instant the rows read are proven to exist
    outcome TEXT NOT NULL,       -- read | error
    error TEXT
);
CREATE TABLE IF NOT EXISTS row_versions (
    id INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL,
    report TEXT NOT NULL,
    period TEXT NOT NULL,
    row_key TEXT NOT NULL,
    sheet_row INTEGER NOT NULL,
    payload TEXT NOT NULL,       -- JSON {field: value}
    problems TEXT NOT NULL,      -- JSON {key: [raw text, message] or a dict, see Problem}
    complete INTEGER NOT NULL,
    blank INTEGER NOT NULL,      -- the row was cleared: no values, no problems
    content_hash TEXT NOT NULL,
    fetch_id INTEGER NOT NULL REFERENCES fetches(id),
    proven_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    commune_code TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,  -- what the Kiểm tra tab shows now, to skip identical rewrites
    written_at TEXT NOT NULL,
    noted TEXT                   -- JSON {tab: [[row, column], ...]}: cells the toolkit noted
);
CREATE TABLE IF NOT EXISTS rollup_publications (
    spreadsheet_id TEXT NOT NULL,
    tab TEXT NOT NULL,           -- the report's tab; its tables are "<tab> · <sheet>"
    digest TEXT NOT NULL,        -- SHA-256 of content
    content BLOB NOT NULL,       -- zlib'd JSON: what the report's tabs must show now
    built_at TEXT NOT NULL,      -- the run that built it
    published_at TEXT,           -- when Google accepted exactly this content; NULL: not yet
    error TEXT,                  -- why the last attempt to publish it failed
    PRIMARY KEY (spreadsheet_id, tab)
);
CREATE TABLE IF NOT EXISTS email_aliases (
    address TEXT PRIMARY KEY,    -- a registry editor's address, canonical (sharing.py)
    account TEXT NOT NULL,       -- the address Drive answered with when it was shared
    seen_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS row_versions_key ON row_versions (report, commune_code, row_key, id);
CREATE INDEX IF NOT EXISTS row_versions_period ON row_versions (report, period);
"""


@dataclass(frozen=True)
class Problem:
    """One stored problem of a row, whichever form it was stored in.

    A cell that could not be read is ``[raw text, message]`` (an error on that row's cell of
    the field named by the key — the form every ledger has). Anything else is a dict with
    ``raw`` and ``message`` and any of ``level`` (warning/error), ``check``, ``cell`` (A1,
    when it is not the row's cell of the field: a header cell, the first pasted row) and
    ``fix``; :meth:`stored` writes it.
    """

    raw: str
    message: str
    level: str = "error"
    check: str | None = None
    cell: str | None = None
    fix: str | None = None

    @classmethod
    def of(cls, entry) -> Problem:
        if isinstance(entry, dict):
            return cls(**entry)
        raw, message = entry
        return cls(raw, message)

    def stored(self):
        """The JSON form: the plain pair when nothing but raw and message is set."""
        if (self.level, self.check, self.cell, self.fix) == ("error", None, None, None):
            return [self.raw, self.message]
        return {k: v for k, v in vars(self).items() if v is not None}

    @property
    def is_error(self) -> bool:
        return self.level == "error"


@dataclass(frozen=True)
class RowVersion:
    """One parsed row as read from a commune's sheet."""

    report: str
    period: str
    row_key: str
    sheet_row: int
    values: dict
    problems: dict
    complete: bool

    @cached_property
    def content_hash(self) -> str:
        body = json.dumps([self.values, self.problems, self.sheet_row], sort_keys=True,
                          ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:20]

    @property
    def blank(self) -> bool:
        return not any(v not in (None, "") for v in self.values.values()) and not self.problems


@dataclass(frozen=True)
class RollupRecord:
    """What one report's tabs on the rollup spreadsheet must show, and whether they do."""

    tab: str
    digest: str
    content: list
    built_at: str
    published_at: str | None
    error: str | None

    @property
    def published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True)
class WorkbookRecord:
    commune_code: str
    locator: str
    backend: str
    last_modified: str | None
    last_fetched_at: str | None
    locale: str | None = None


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Ledgers made by earlier versions gain the columns added since; data is kept."""
        for table, column in (("workbooks", "locale"), ("feedback", "noted")):
            columns = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column in columns:
                continue
            try:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
            except sqlite3.OperationalError as exc:     # another run migrated it just now
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def state(self) -> str:
        """What the ledger holds, as one digest: equal digests mean nothing was read, checked,
        written or published in between (``toolkit.quiet``). Fetches and row versions are
        only ever added, so their count and last id stand for them; the other tables are
        small and taken whole."""
        digest = hashlib.sha256()
        for query in ("SELECT count(*), max(id) FROM fetches",
                      "SELECT count(*), max(id) FROM row_versions",
                      "SELECT * FROM workbooks ORDER BY commune_code",
                      "SELECT * FROM feedback ORDER BY commune_code",
                      "SELECT spreadsheet_id, tab, digest, built_at, published_at, error "
                      "FROM rollup_publications ORDER BY spreadsheet_id, tab",
                      "SELECT * FROM email_aliases ORDER BY address"):
            digest.update(repr(self.db.execute(query).fetchall()).encode())
        return digest.hexdigest()

    def latest(self) -> str | None:
        """The latest instant anything in the ledger is timed at (a fetch, a row's proof, a
        Kiểm tra write), as the ledger stores instants; None when it holds nothing."""
        row = self.db.execute(
            "SELECT max(t) FROM (SELECT max(fetched_at) AS t FROM fetches "
            "UNION ALL SELECT max(proven_at) FROM row_versions "
            "UNION ALL SELECT max(written_at) FROM feedback)").fetchone()
        return row[0]

    # workbooks -----------------------------------------------------------------------------

    def workbooks(self) -> dict[str, WorkbookRecord]:
        rows = self.db.execute(
            "SELECT commune_code, locator, backend, last_modified, last_fetched_at, locale "
            "FROM workbooks")
        return {r[0]: WorkbookRecord(*r) for r in rows}

    def remember_workbook(self, code: str, locator: str, backend: str, now: datetime,
                          locale: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO workbooks (commune_code, locator, backend, created_at, locale) "
            "VALUES (?,?,?,?,?) ON CONFLICT(commune_code) DO UPDATE SET "
            "locator=excluded.locator, backend=excluded.backend, "
            "locale=COALESCE(excluded.locale, workbooks.locale)",
            (code, locator, backend, to_utc_text(now), locale),
        )

    def set_locale(self, code: str, locale: str) -> None:
        self.db.execute("UPDATE workbooks SET locale=? WHERE commune_code=?", (locale, code))

    def mark_modified(self, code: str, stamp: str | None) -> None:
        """Record a modification stamp the toolkit itself caused (e.g. writing Kiểm tra)."""
        self.db.execute("UPDATE workbooks SET last_modified=? WHERE commune_code=?", (stamp, code))

    def email_aliases(self) -> dict[str, str]:
        """Registry address → the account address Drive lists its permission under."""
        return dict(self.db.execute("SELECT address, account FROM email_aliases"))

    def remember_alias(self, address: str, account: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO email_aliases (address, account, seen_at) VALUES (?,?,?) "
            "ON CONFLICT(address) DO UPDATE SET account=excluded.account, "
            "seen_at=excluded.seen_at", (address, account, to_utc_text(now)))

    # fetches -------------------------------------------------------------------------------

    def record_fetch(
        self,
        code: str,
        *,
        fetched_at: datetime,
        modified_stamp: str | None,
        modified_at: datetime | None,
        proven_at: datetime,
        rows: Iterable[RowVersion],
    ) -> int:
        """Store one successful read of a workbook; returns how many row versions were new."""
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO fetches (commune_code, fetched_at, modified_at, proven_at, outcome) "
                "VALUES (?,?,?,?, 'read')",
                (code, to_utc_text(fetched_at),
                 to_utc_text(modified_at) if modified_at else None, to_utc_text(proven_at)),
            )
            fetch_id = cur.lastrowid
            rows = list(rows)
            latest = self._latest_hashes(code, rows)
            added = 0
            for row in rows:
                previous = latest.get((row.report, row.row_key))
                # A blank row never stored (a future day, a roster's empty line: most rows)
                # is skipped before its hash is computed.
                if (previous is None and row.blank) or previous == row.content_hash:
                    continue
                self.db.execute(
                    "INSERT INTO row_versions (commune_code, report, period, row_key, sheet_row,"
                    " payload, problems, complete, blank, content_hash, fetch_id, proven_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (code, row.report, row.period, row.row_key, row.sheet_row,
                     json.dumps(row.values, ensure_ascii=False, default=str),
                     json.dumps(row.problems, ensure_ascii=False), int(row.complete),
                     int(row.blank), row.content_hash, fetch_id, to_utc_text(proven_at)),
                )
                added += 1
            self.db.execute(
                "UPDATE workbooks SET last_modified=?, last_fetched_at=? WHERE commune_code=?",
                (modified_stamp, to_utc_text(fetched_at), code),
            )
        return added

    def live_rows(self, code: str, report: str) -> list[tuple[str, str, int]]:
        """(row_key, period, sheet_row) of a commune's rows of a report whose latest version
        holds something: after a read, those the read did not see are gone from the tab."""
        return self.db.execute(
            "SELECT row_key, period, sheet_row FROM row_versions WHERE id IN ("
            " SELECT MAX(id) FROM row_versions WHERE report=? AND commune_code=?"
            " GROUP BY row_key) AND blank=0", (report, code)).fetchall()

    def record_failure(self, code: str, fetched_at: datetime, error: str) -> None:
        self.db.execute(
            "INSERT INTO fetches (commune_code, fetched_at, outcome, error) VALUES (?,?,'error',?)",
            (code, to_utc_text(fetched_at), error),
        )

    def _latest_hashes(self, code: str, rows: list[RowVersion]) -> dict[tuple[str, str], str]:
        """The stored hash of each of ``rows``' keys, read through row_versions_key.

        Naming the report and the keys lets SQLite seek the index (report, commune_code,
        row_key, id) instead of scanning all of it: on a national year that is milliseconds
        per workbook instead of most of a second.
        """
        wanted: dict[str, list[str]] = {}
        for row in rows:
            wanted.setdefault(row.report, []).append(row.row_key)
        latest: dict[tuple[str, str], str] = {}
        for report, keys in wanted.items():
            keys = list(dict.fromkeys(keys))
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                found = self.db.execute(
                    "SELECT row_key, content_hash FROM row_versions WHERE id IN ("
                    " SELECT MAX(id) FROM row_versions WHERE report=? AND commune_code=?"
                    f" AND row_key IN ({','.join('?' * len(chunk))}) GROUP BY row_key)",
                    (report, code, *chunk),
                )
                latest.update(((report, key), digest) for key, digest in found)
        return latest

    # feedback ------------------------------------------------------------------------------

    def feedback_hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT commune_code, content_hash FROM feedback"))

    def feedback_notes(self) -> dict[str, dict[str, list] | None]:
        """commune → the cells (tab → [row, column], 0-based) the toolkit last put a note on;
        None when a version that did not keep them wrote the feedback."""
        rows = self.db.execute("SELECT commune_code, noted FROM feedback")
        return {code: None if noted is None else json.loads(noted) for code, noted in rows}

    def record_feedback(self, code: str, content_hash: str, stamp: str, now: datetime,
                        noted: dict[str, list] | None = None) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO feedback VALUES (?,?,?,?) ON CONFLICT(commune_code) DO UPDATE SET "
                "content_hash=excluded.content_hash, written_at=excluded.written_at, "
                "noted=excluded.noted",
                (code, content_hash, to_utc_text(now),
                 None if noted is None else json.dumps(noted, ensure_ascii=False)),
            )
            self.mark_modified(code, stamp)

    # the rollup spreadsheet ----------------------------------------------------------------

    def rollups(self, spreadsheet_id: str) -> dict[str, RollupRecord]:
        """Per report tab, the content the rollup spreadsheet must show (see set_rollup)."""
        rows = self.db.execute(
            "SELECT tab, digest, content, built_at, published_at, error FROM "
            "rollup_publications WHERE spreadsheet_id=?", (spreadsheet_id,))
        return {tab: RollupRecord(tab, digest, json.loads(zlib.decompress(content)), built,
                                  published, error)
                for tab, digest, content, built, published, error in rows}

    def set_rollup(self, spreadsheet_id: str, tab: str, digest: str, content: list,
                   now: datetime) -> None:
        """Remember what a report's tabs must show from now on, before it is sent: a run that
        fails or is killed while publishing leaves it here for the next one to publish."""
        blob = zlib.compress(json.dumps(content, ensure_ascii=False).encode("utf-8"))
        self.db.execute(
            "INSERT INTO rollup_publications (spreadsheet_id, tab, digest, content, built_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT(spreadsheet_id, tab) DO UPDATE SET "
            "published_at=CASE WHEN digest=excluded.digest THEN published_at END, "
            "digest=excluded.digest, content=excluded.content, built_at=excluded.built_at",
            (spreadsheet_id, tab, digest, blob, to_utc_text(now)))

    def rollup_published(self, spreadsheet_id: str, tabs: Iterable[str], now: datetime,
                         error: str | None = None) -> None:
        """Google accepted the publication of ``tabs`` (or, with ``error``, did not)."""
        for tab in tabs:
            if error is None:
                self.db.execute("UPDATE rollup_publications SET published_at=?, error=NULL "
                                "WHERE spreadsheet_id=? AND tab=?",
                                (to_utc_text(now), spreadsheet_id, tab))
            else:
                self.db.execute("UPDATE rollup_publications SET error=? "
                                "WHERE spreadsheet_id=? AND tab=?", (error, spreadsheet_id, tab))

    # reading back --------------------------------------------------------------------------

    def versions(self, report: str, periods: Iterable[str] | None = None,
                 fields: Sequence[str] | None = None, numeric: Collection[str] = ()):
        """Every stored version of a report as a DataFrame, oldest first.

        Without ``fields`` each row's values are one dict in the ``values`` column. With a
        template's field keys each value has a column of its own (see ``toolkit.versions``):
        on a national year that is a million dicts fewer to build and hold, and a whole
        report read by field goes through the columnar cache beside the ledger.
        """
        from toolkit.versions import read_versions

        return read_versions(self.db, report, None if periods is None else list(periods),
                             fields, numeric, cache=self.cache_folder)

    @property
    def cache_folder(self) -> Path:
        """Where ``versions`` keeps its columnar copies of the row versions (see versions.py)."""
        return self.path.with_name(self.path.name + ".columns")

    def fetch_count(self, since: datetime | None = None) -> int:
        sql, params = "SELECT COUNT(*) FROM fetches WHERE outcome='read'", ()
        if since is not None:
            sql, params = sql + " AND fetched_at >= ?", (to_utc_text(since),)
        return self.db.execute(sql, params).fetchone()[0]

