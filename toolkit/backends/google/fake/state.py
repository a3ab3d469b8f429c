"""The account's state and the rules on it: who may see a file, where files may be created,
how Drive's modifiedTime moves, and atomic changes to a spreadsheet."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import drive, errors
from .drive import RANK, DriveFile
from .model import Spreadsheet
from .values import serial

_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


#: The first tab of a new spreadsheet, named in its locale's language: "Sheet1" in the
#: recorded exchanges (en_US), "シート1" for ja_JP in Google's answers quoted by clients'
#: documentation, "Trang tính1" in Sheets' Vietnamese interface.
FIRST_SHEET = {"en": "Sheet1", "vi": "Trang tính1", "ja": "シート1"}


def first_sheet_title(locale: str) -> str:
    return FIRST_SHEET.get(locale.split("_")[0], "Sheet1")


class StateMixin:
    """Mixed into FakeGoogle; expects ``files``, ``spreadsheets``, ``drives``, ``rng``, ``lock``
    and ``clock``."""

    def new_id(self, length: int = 44, first: str = "1") -> str:
        return first + "".join(self.rng.choice(_ID) for _ in range(length - len(first)))

    def now(self) -> datetime:
        return self.clock.now()

    def role(self, f: DriveFile, email: str) -> str | None:
        email = (email or "").lower()
        best = 0
        if f.owner and f.owner.lower() == email:
            return "owner"
        if f.drive_id:
            shared = self.drives.get(f.drive_id)
            if shared is not None:
                role = "organizer" if shared.members is None else shared.members.get(email)
                best = RANK.get(role or "", 0)
        node, depth = f, 0
        while node is not None and depth < 50:
            for perm in node.permissions:
                if perm.get("view") == "published":     # the published view, not the file
                    continue
                if perm["type"] == "anyone" or perm.get("emailAddress") == email:
                    best = max(best, RANK[perm["role"]])
            if node is not f and node.owner and node.owner.lower() == email:
                best = max(best, RANK["writer"])
            node = self.files.get(node.parents[0]) if node.parents else None
            depth += 1
        return next((r for r, n in RANK.items() if n == best), None) if best else None

    def new_file(self, name: str, mime: str, parents: list[str], owner: str | None,
                 drive_id: str | None = None, *, creator: str | None = None,
                 file_id: str | None = None) -> DriveFile:
        """A file; ``file_id`` one that files.generateIds handed out (checked by the caller)."""
        now = self.now()
        length = 44 if mime == drive.SPREADSHEET else 33
        maker = creator or owner
        f = DriveFile(file_id or self.new_id(length), name, mime, list(parents), now, now,
                      owner.lower() if owner else None, drive_id, writes=[now],
                      creator=maker.lower() if maker else None)
        self.files[f.id] = f
        return f

    def new_spreadsheet(self, title: str, *, owner=None, via: str | None = None,
                        file: DriveFile | None = None, locale: str | None = None,
                        time_zone: str | None = None, sheets: list[dict] | None = None
                        ) -> Spreadsheet:
        from .batch import Ctx, new_sheet

        if file is None:
            if owner is not None and owner.service_account:
                raise errors.sheets_error(403, "The user's Drive storage quota has been "
                                               "exceeded.")
            file = self.new_file(title, drive.SPREADSHEET, [], owner.email if owner else None)
        ss = Spreadsheet(file.id, title, locale or self.default_locale,
                         time_zone or self.default_time_zone)
        ctx = Ctx(self.rng)
        for props in sheets or [{"title": first_sheet_title(ss.locale)}]:
            new_sheet(ss, props, ctx)
        self.spreadsheets[ss.id] = ss
        return ss

    def copy_spreadsheet(self, source_id: str, f: DriveFile) -> Spreadsheet:
        ss = _copied(self.spreadsheets[source_id])
        ss.id = f.id
        ss.props["title"] = f.name
        self.spreadsheets[f.id] = ss
        return ss

    def delete_file(self, file_id: str) -> None:
        doomed, seen = [file_id], 0
        while doomed and seen < 100_000:
            current = doomed.pop()
            seen += 1
            self.files.pop(current, None)
            self.spreadsheets.pop(current, None)
            doomed += [f.id for f in self.files.values() if current in f.parents]

    def touch_file(self, f: DriveFile, when: datetime | None = None) -> None:
        """A write: Drive's modifiedTime moves on (strictly, even on a frozen clock)."""
        when = when or self.now()
        if when <= f.modified:
            when = f.modified + timedelta(milliseconds=1)
        f.modified = when
        f.version += 1
        f.writes = (f.writes + [when])[-50:]

    def listed_modified(self, f: DriveFile) -> datetime:
        """modifiedTime as files.list shows it: with ``list_lag``, an older write's time.

        Drive's search index trails the file: other clients see files.list report the
        previous modifiedTime for up to about ten minutes after an edit, while files.get
        catches up within a second (gspread's recorded files.get after a rename)."""
        if not self.list_lag:
            return f.modified
        cutoff = self.now() - self.list_lag
        older = [w for w in f.writes if w <= cutoff]
        return older[-1] if older else f.writes[0]

    def indexed(self, f: DriveFile) -> bool:
        """Whether files.list finds the file yet: a new file joins the index ``list_lag``
        after it was made (files.get finds it at once)."""
        return not self.list_lag or f.created <= self.now() - self.list_lag

    def open_spreadsheet(self, call, write: bool) -> Spreadsheet:
        sid = call.path["spreadsheetId"]
        ss, f = self.spreadsheets.get(sid), self.files.get(sid)
        if ss is None or f is None:
            raise errors.not_found("sheets")
        role = self.role(f, call.principal.email)
        if role is None or (write and RANK[role] < RANK["writer"]):
            raise errors.forbidden("sheets")
        self._set_today(ss)
        return ss

    def _set_today(self, ss: Spreadsheet) -> None:
        try:
            zone = ZoneInfo(ss.props.get("timeZone") or "UTC")
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        ss.today = serial(self.now().astimezone(zone).replace(tzinfo=None))

    def modify(self, call, change):
        """Apply ``change`` to a copy; keep it only if it succeeds (Google's atomic batches)."""
        with self.lock:
            ss = self.open_spreadsheet(call, write=True)
            work = _copied(ss)
            result = change(work)
            self.spreadsheets[ss.id] = work
            self.touch_file(self.files[ss.id])
            return work, result


def _copied(spreadsheet: Spreadsheet) -> Spreadsheet:
    """A deep copy of ``spreadsheet``, through pickle: the same copy as ``copy.deepcopy``
    (shared parts stay shared, nothing of it is kept) in under half the time; every request
    that changes a spreadsheet makes one, and a province's rollup spreadsheet holds tens of
    thousands of cells."""
    return pickle.loads(pickle.dumps(spreadsheet, pickle.HIGHEST_PROTOCOL))
