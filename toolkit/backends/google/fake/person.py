"""What a test does as a person: set up Drive, type into a cell, look at a tab.

Typing goes through the same USER_ENTERED parsing as the API, in the spreadsheet's locale, and
is refused like the Sheets UI refuses it: a strict data-validation rule rejects bad input, and a
protected range rejects anyone not among its editors.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from . import a1, drive
from .drive import DriveFile, SharedDrive
from .model import Cell, Spreadsheet
from .render import read_grid
from .values import Formula, serial


class CellRejected(ValueError):
    """The sheet refused what the person typed (validation or protection)."""


class PersonMixin:
    default_owner = "chu-so-huu@so-tt.gov.vn"

    # -- Drive set-up -------------------------------------------------------------------------

    def add_shared_drive_folder(self, name: str = "Báo cáo xã",
                                members: dict[str, str] | None = None) -> str:
        """A folder inside a new Shared Drive; ``members`` (e-mail → role) default: everyone
        is an organizer. Service accounts may create files only in such folders."""
        with self.lock:
            drive_id = self.new_id(19, "0A") + "Uk9PVA"
            members = None if members is None else {k.lower(): v for k, v in members.items()}
            self.drives[drive_id] = SharedDrive(drive_id, name, members)
            folder = self.new_file(name, drive.FOLDER, [drive_id], None, drive_id)
            return folder.id

    def add_folder(self, name: str, parent: str | None = None, owner: str | None = None) -> str:
        with self.lock:
            parent_file = self.files.get(parent) if parent else None
            drive_id = parent_file.drive_id if parent_file else None
            f = self.new_file(name, drive.FOLDER, [parent] if parent else [],
                              None if drive_id else (owner or self.default_owner), drive_id)
            return f.id

    def share(self, file_id: str, email: str, role: str = "writer") -> None:
        self.grant(file_id, "user", role, email=email)

    def grant(self, file_id: str, kind: str, role: str = "writer", *, email: str = "",
              domain: str = "", discoverable: bool = False, view: str | None = None,
              expires: str | None = None, deleted: bool = False) -> str:
        """A permission someone added in Drive's Share dialog (no request logged): ``kind``
        user, group, domain or anyone; ``view="published"`` is File → Publish to the web.
        Returns the permission's id."""
        with self.lock:
            f = self.files[file_id]
            perm = drive.new_permission(kind, role, email, domain, discoverable, view)
            if expires:
                perm["expirationTime"] = expires
            if deleted:
                perm["deleted"] = True
            f.permissions = [p for p in f.permissions if p["id"] != perm["id"]] + [perm]
            return perm["id"]

    def set_drive_members(self, folder_id: str, members: dict[str, str]) -> None:
        """Who is a member of the Shared Drive holding ``folder_id`` (e-mail → role), from now
        on instead of "everyone is an organizer": name the province's account too."""
        with self.lock:
            shared = self.drives[self.files[folder_id].drive_id]
            shared.members = {k.lower(): v for k, v in members.items()}

    def create_spreadsheet(self, title: str, parent: str | None = None, owner: str | None = None,
                           tabs: tuple[str, ...] = (), locale: str | None = None) -> str:
        """A spreadsheet made by a person (no request logged); returns its id. Without
        ``tabs`` it has the one empty tab Sheets starts with, named in its locale."""
        with self.lock:
            parent_file = self.files.get(parent) if parent else None
            drive_id = parent_file.drive_id if parent_file else None
            f = self.new_file(title, drive.SPREADSHEET, [parent] if parent else [],
                              None if drive_id else (owner or self.default_owner), drive_id,
                              creator=owner or self.default_owner)
            self.new_spreadsheet(title, file=f, locale=locale,
                                 sheets=[{"title": t} for t in tabs] or None)
            return f.id

    def file(self, file_id: str) -> DriveFile:
        return self.files[file_id]

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        return self.spreadsheets[spreadsheet_id]

    def modified_time(self, file_id: str) -> datetime:
        return self.files[file_id].modified

    def set_modified_time(self, file_id: str, when: datetime) -> None:
        with self.lock:
            f = self.files[file_id]
            f.modified = when
            f.writes = [w for w in f.writes if w < when] + [when]

    # -- a person at the sheet ----------------------------------------------------------------

    def type(self, spreadsheet_id: str, where: str, value, as_user: str | None = None) -> None:
        """Type ``value`` into one cell as a person does in the Sheets UI (USER_ENTERED, the
        spreadsheet's locale); raises :class:`CellRejected` when the sheet refuses it."""
        from .sheets_api import store

        with self.lock:
            ss = self.spreadsheets[spreadsheet_id]
            sheet, r0, r1, c0, c1 = ss.resolve(where)
            if r1 - r0 < 1 or c1 - c0 < 1:
                raise CellRejected(f"{where} is outside the sheet")
            self._set_today(ss)
            self._check_protection(ss, sheet, r0, c0, as_user)
            if isinstance(value, datetime | date):
                typed = serial(value)
            else:
                typed = value
            rule = sheet.rule_at(r0, c0)
            if rule and rule.get("strict") and value not in (None, ""):
                _check_rule(ss, sheet, r0, c0, typed, rule)
            store(ss, sheet, r0, c0, typed, "PERSON")
            if isinstance(value, datetime | date) and sheet.number_format(r0, c0) is None:
                cell = sheet.cell(r0, c0)
                cell.fmt = {"numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}}
                cell.fmt_seq = ss.next_seq()
            self.touch_file(self.files[spreadsheet_id])

    def note(self, spreadsheet_id: str, where: str, text: str | None,
             as_user: str | None = None) -> None:
        """Insert → Note on one cell, as a person does in the Sheets UI (None removes it);
        raises :class:`CellRejected` on a cell the person may not edit."""
        with self.lock:
            ss = self.spreadsheets[spreadsheet_id]
            sheet, r0, r1, c0, c1 = ss.resolve(where)
            if r1 - r0 < 1 or c1 - c0 < 1:
                raise CellRejected(f"{where} is outside the sheet")
            self._check_protection(ss, sheet, r0, c0, as_user)
            sheet.cell(r0, c0).note = text or None
            sheet.drop_if_empty(r0, c0)
            self.touch_file(self.files[spreadsheet_id])

    def paste(self, spreadsheet_id: str, where: str, rows: list[list],
              as_user: str | None = None) -> None:
        """Paste a block of values with its top-left cell at ``where``, as Ctrl+V in the Sheets
        UI does: the grid grows to hold the block, each value is parsed as typed text, and the
        whole paste is refused if it touches a protected cell (an unbounded protected range
        covers the rows it adds)."""
        import copy

        from .sheets_api import store

        with self.lock:
            ss = self.spreadsheets[spreadsheet_id]
            sheet, r0, _, c0, _ = ss.resolve(where, clip=False)
            self._set_today(ss)
            grid = sheet.props["gridProperties"]
            before = copy.deepcopy(grid)
            grid["rowCount"] = max(grid["rowCount"], r0 + len(rows))
            grid["columnCount"] = max(grid["columnCount"], c0 + max(map(len, rows), default=0))
            try:
                for r, values in enumerate(rows, start=r0):
                    for c in range(c0, c0 + len(values)):
                        self._check_protection(ss, sheet, r, c, as_user)
            except CellRejected:
                sheet.props["gridProperties"] = before
                raise
            for r, values in enumerate(rows, start=r0):
                for c, value in enumerate(values, start=c0):
                    store(ss, sheet, r, c, value, "PERSON")
            self.touch_file(self.files[spreadsheet_id])

    def edit(self, spreadsheet_id: str, requests: list[dict]) -> None:
        """A change of the sheet's structure made in the UI (insert, move or delete columns),
        carried out as the batchUpdate requests it amounts to."""
        from . import batch

        with self.lock:
            ss = self.spreadsheets[spreadsheet_id]
            self._set_today(ss)
            batch.apply(ss, {"requests": requests}, batch.Ctx(self.rng))
            self.touch_file(self.files[spreadsheet_id])

    def _check_protection(self, ss, sheet, r: int, c: int, as_user: str | None) -> None:
        f = self.files[ss.id]
        for item in sheet.extras.get("protectedRanges", []):
            rng = item.get("range") or {}
            r0, r1, c0, c1 = sheet.grid(rng.get("startRowIndex"), rng.get("endRowIndex"),
                                        rng.get("startColumnIndex"), rng.get("endColumnIndex"))
            if not (r0 <= r < r1 and c0 <= c < c1) or item.get("warningOnly"):
                continue
            editors = [e.lower() for e in (item.get("editors") or {}).get("users", [])]
            who = (as_user or "").lower()
            if who and (who in editors or who == (f.owner or "")):
                continue
            raise CellRejected(f"{a1.cell_name(r, c)} is protected: "
                               f"{item.get('description') or 'protected range'}")

    def cell(self, spreadsheet_id: str, where: str) -> Cell | None:
        """The stored cell (value as entered, how it was entered, its own format) or None."""
        ss = self.spreadsheets[spreadsheet_id]
        sheet, r0, _, c0, _ = ss.resolve(where)
        return sheet.cells.get((r0, c0))

    def values(self, spreadsheet_id: str, where: str, render: str = "UNFORMATTED_VALUE",
               date_time: str = "SERIAL_NUMBER") -> list[list]:
        """A range as values.get would return it (rows, trailing empties dropped)."""
        with self.lock:
            ss = self.spreadsheets[spreadsheet_id]
            self._set_today(ss)
            sheet, r0, r1, c0, c1 = ss.resolve(where)
            return read_grid(ss, sheet, r0, r1, c0, c1, render, date_time)

    def formula(self, spreadsheet_id: str, where: str) -> str | None:
        found = self.cell(spreadsheet_id, where)
        return str(found.value) if found is not None and isinstance(found.value, Formula) \
            else None


def _check_rule(ss: Spreadsheet, sheet, r: int, c: int, typed, rule: dict) -> None:
    """A strict DataValidationRule, judged on what USER_ENTERED would store."""
    from .values import parse_user_entered

    value = typed
    if isinstance(typed, str):
        value, _ = parse_user_entered(typed, ss.locale, (sheet.number_format(r, c) or {})
                                      .get("type"))
    if isinstance(value, Formula):      # Sheets judges a formula by what it computes
        typed = value = _computed(ss, sheet, value)
    cond = rule.get("condition") or {}
    kind = cond.get("type", "")
    args = [v.get("userEnteredValue", "") for v in cond.get("values", [])]
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def num(text: str) -> float:
        parsed, _ = parse_user_entered(text, ss.locale)
        return float(parsed) if isinstance(parsed, int | float) else float("nan")

    ok = True
    if kind.startswith("NUMBER_"):
        ok = number is not None and {
            "NUMBER_GREATER": lambda: number > num(args[0]),
            "NUMBER_GREATER_THAN_EQ": lambda: number >= num(args[0]),
            "NUMBER_LESS": lambda: number < num(args[0]),
            "NUMBER_LESS_THAN_EQ": lambda: number <= num(args[0]),
            "NUMBER_EQ": lambda: number == num(args[0]),
            "NUMBER_NOT_EQ": lambda: number != num(args[0]),
            "NUMBER_BETWEEN": lambda: num(args[0]) <= number <= num(args[1]),
            "NUMBER_NOT_BETWEEN": lambda: not num(args[0]) <= number <= num(args[1]),
        }.get(kind, lambda: True)()
    elif kind in ("DATE_IS_VALID",):
        nf = (sheet.number_format(r, c) or {}).get("type")
        ok = number is not None and (nf in ("DATE", "DATE_TIME") or not isinstance(typed, str)
                                     or _looks_like_date(typed, ss))
    elif kind == "ONE_OF_LIST":
        ok = str(typed) in args
    elif kind == "ONE_OF_RANGE" and args:
        source = args[0].lstrip("=")
        allowed = {str(v) for row in ss_values(ss, source) for v in row if v not in ("", None)}
        ok = str(typed) in allowed
    elif kind == "TEXT_IS_EMAIL":
        ok = isinstance(value, str) and "@" in value and "." in value.rpartition("@")[2]
    elif kind == "CUSTOM_FORMULA":
        ok = _formula_holds(ss, sheet, r, c, value, args[0] if args else "")
    if not ok:
        raise CellRejected(f"{a1.cell_name(r, c)}: {typed!r} violates the validation rule "
                           f"{kind} {args}: {rule.get('inputMessage', '')}".rstrip(": "))


def _computed(ss: Spreadsheet, sheet, formula: Formula):
    from .formulas import Evaluator, FormulaError
    from .values import locale_of

    try:
        return Evaluator(lambda ref: ss._ref(sheet, ref), locale_of(ss.locale).decimal,
                         ss.today).run(formula)
    except FormulaError as exc:
        return exc


_RELATIVE_REF = re.compile(r"(?<![A-Za-z0-9_'!$])(\$?)([A-Za-z]{1,3})(\$?)(\d+)(?![A-Za-z0-9_(])")


def _formula_holds(ss: Spreadsheet, sheet, r: int, c: int, value, formula: str) -> bool:
    """Sheets' check of a custom-formula rule: the formula, its relative references moved from
    the range's top-left cell to the edited one, evaluated with the new value in place; an
    error (INT of text, say) or a false result rejects the entry."""
    from .formulas import Evaluator, FormulaError, _truthy
    from .values import locale_of

    r0, c0 = sheet.rule_anchor(r, c)

    def moved(m: re.Match) -> str:
        col_abs, col, row_abs, row = m.groups()
        col_index = a1.col_index(col) + (0 if col_abs else c - c0)
        row_number = int(row) + (0 if row_abs else r - r0)
        return f"{col_abs}{a1.col_letter(col_index)}{row_abs}{row_number}"

    own = a1.cell_name(r, c)

    def resolve(ref: str):
        return value if ref.replace("$", "").upper() == own else ss._ref(sheet, ref)

    try:
        result = Evaluator(resolve, locale_of(ss.locale).decimal, ss.today).run(
            _RELATIVE_REF.sub(moved, formula))
        return _truthy(result)
    except FormulaError:
        return False


def _looks_like_date(text: str, ss: Spreadsheet) -> bool:
    from .values import parse_user_entered

    _, fmt = parse_user_entered(text, ss.locale)
    return bool(fmt) and fmt.get("type") in ("DATE", "DATE_TIME")


def ss_values(ss: Spreadsheet, where: str) -> list[list]:
    sheet, r0, r1, c0, c1 = ss.resolve(where)
    return read_grid(ss, sheet, r0, r1, c0, c1, "FORMATTED_VALUE", "SERIAL_NUMBER")
