"""The embedded default store: a folder of .xlsx workbooks, one per commune.

A file's modification time is exact, so it proves when the rows in it existed. The toolkit
writes only what it owns (Kiểm tra, banners), only into a workbook nobody has open and that
is unchanged since it was read, and never over a save made while it writes: every write into
an existing workbook goes through ``safe_write``'s protocol, else it is deferred to the next
run.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from contextlib import contextmanager
from copy import copy
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from toolkit.backends import safe_write, xlsx_calamine, xlsx_marks, xlsx_patch, xlsx_prototype
from toolkit.backends.base import (
    Action,
    AddFeedbackTab,
    AddHelpTab,
    AddTab,
    AppendPeriods,
    CreateWorkbook,
    Formula,
    Restyle,
    SetVillages,
    Snapshot,
    Window,
    WorkbookState,
)
from toolkit.backends.lockfiles import holder
from toolkit.errors import WorkbookBusy, WorkbookError
from toolkit.excel import (
    BODY_FONT,
    HEADER_FONT,
    TITLE_FONT,
    WRAP,
    put,
    style_header,
    workbook_bytes,
)
from toolkit.layout import (
    BANNER_COLOURS,
    FEEDBACK_HEADERS,
    FEEDBACK_TAB,
    FEEDBACK_WIDTHS,
    FIRST_DATA_ROW,
    FONT_NAME,
    FONT_SIZE,
    HEADER_ROW,
    HELP_TAB,
    LEVEL_COLOURS,
    LISTS_TAB,
    MARK_AUTHOR,
    STYLE,
    TITLE_ROW,
    Banner,
    TabLayout,
    a1,
    cell_marks,
    column_letter,
    feedback_row_height,
    header_height,
    help_row_height,
    is_mark,
    period_key_of,
    row_keys_of,
)
from toolkit.periods import VN_TZ, period_label

UNLOCKED = Protection(locked=False)
#: The document property that records which look (layout.STYLE) the workbook was given.
STYLE_PROPERTY = "toolkit_style"
VILLAGE_LIST_ROWS = 500
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
#: What openpyxl raises on a malformed part of a file while reading it lazily: a cell whose
#: value does not fit its type, a shared string that is not there, broken XML (ParseError is a
#: SyntaxError, lxml's too), a damaged zip member.
_MALFORMED = (ValueError, KeyError, IndexError, TypeError, SyntaxError, zipfile.BadZipFile,
              zlib.error, EOFError, OSError)


class XlsxStore:
    kind = "xlsx"
    modified_time_is_proof = True
    shares_with_editors = False
    #: Read tabs with calamine where it can; False reads with openpyxl only (the tests and
    #: scripts/bench_sweeps.py compare the two on the same workbooks).
    calamine = True
    #: Write feedback inside the zip where it can (``xlsx_patch``); False writes with openpyxl
    #: only (the tests and scripts/bench_sweeps.py compare the two on the same workbooks).
    patch = True
    #: Copy each new commune workbook from a prototype of its shape (``xlsx_prototype``);
    #: False builds every one with openpyxl (the tests compare the two).
    prototype = True

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.where = str(self.folder)
        self._prototypes = xlsx_prototype.Prototypes(self._prototype)

    def path(self, locator: str) -> Path:
        return self.folder / locator

    def find(self, commune_code: str, known_locator: str | None) -> str | None:
        if known_locator and self.path(known_locator).is_file():
            return known_locator
        matches = self._named_for(commune_code)
        return matches[0] if matches else None

    def _named_for(self, commune_code: str) -> list[str]:
        """The commune's workbooks in the folder, the plainest name first: a copy OneDrive
        made in a sync conflict ("… (1).xlsx", "…-DESKTOP-ABC.xlsx") has a longer name."""
        names = (p.name for p in self.folder.glob(f"{commune_code} *.xlsx"))
        return sorted(names, key=lambda n: (len(n), n))

    def doubles(self, located: dict[str, str]) -> dict[str, list[str]]:
        """commune code → the other workbooks of that commune beside the one the ledger
        reads (OneDrive's conflict copies, a "copy of" saved by hand): one folder listing."""
        try:
            names = sorted(n for n in os.listdir(self.folder)
                           if n.lower().endswith(".xlsx") and not n.startswith((".", "~")))
        except FileNotFoundError:
            return {}
        found: dict[str, list[str]] = {}
        for code, locator in located.items():
            others = [n for n in names if n.startswith(f"{code} ") and n != locator]
            if others and locator in names:
                found[code] = others
        return found

    def find_elsewhere(self, commune_code: str, locator: str) -> list[str]:
        """Where a workbook the ledger expects at ``locator`` may have gone: files of the
        commune elsewhere in the folder, in its subfolders or beside it (paths as a person
        finds them)."""
        pattern = f"{commune_code} *.xlsx"
        places = [*self.folder.glob(pattern), *self.folder.glob(f"*/**/{pattern}"),
                  *self.folder.parent.glob(pattern)]
        seen = [p for p in places if not p.name.startswith((".", "~")) and p.is_file()]
        return [str(p) for p in seen[:5]]

    def inspect(self, locator: str) -> WorkbookState:
        book = self._open(locator, read_only=True, data_only=True)
        try:
            tabs, row_keys = {}, {}
            for sheet in book.worksheets:
                cells = [(row + (None, None))[:2] for row in sheet.iter_rows(
                    min_row=FIRST_DATA_ROW, max_col=2, values_only=True)]
                keys = (period_key_of(day) for day, _ in cells)
                tabs[sheet.title] = tuple(k for k in keys if k)
                row_keys[sheet.title] = row_keys_of(cells)
            villages: tuple[str, ...] = ()
            if LISTS_TAB in book.sheetnames:
                column = book[LISTS_TAB].iter_rows(min_row=2, max_col=1, values_only=True)
                villages = tuple(str(r[0]) for r in column if r[0] not in (None, ""))
            style = (book.custom_doc_props[STYLE_PROPERTY].value
                     if STYLE_PROPERTY in book.custom_doc_props.names else "1")
        finally:
            book.close()
        return WorkbookState(tabs=tabs, row_keys=row_keys, villages=villages, style=str(style))

    def apply(self, locator: str | None, commune_code: str, actions: list[Action],
              now: datetime) -> str:
        """Carry out provisioning actions. A new workbook is copied from the prototype of its
        shape where it can be (``xlsx_prototype``), else built with openpyxl. An existing
        workbook is changed only through the never-clobber protocol: raises WorkbookBusy when
        it is open or was saved meanwhile."""
        original = None if locator is None else self._original(locator)
        stamp = _ns(now)
        copied = self._prototypes.workbook(actions) if original is None and self.prototype \
            else None
        if copied is not None:
            title, data = copied
            locator = _locator(commune_code, title)
            safe_write.create(self.path(locator), lambda new: new.write_bytes(data), stamp)
            return locator
        book = None if original is None else self._load(locator, original.data)
        for action in actions:
            if isinstance(action, CreateWorkbook):
                locator = _locator(commune_code, action.title)
        book = _built(book, actions)
        if original is None:
            safe_write.create(self.path(locator), book.save, stamp)
        elif safe_write.replace(original, book.save, stamp) is None:
            raise WorkbookBusy(f"{locator}: xã vừa lưu sổ trong lúc provision ghi; sổ được giữ "
                               "nguyên như xã lưu")
        return locator

    def _prototype(self, actions: list[Action]) -> bytes:
        return workbook_bytes(_built(None, actions))

    def modified_stamps(self, locators: list[str]) -> dict[str, str | None]:
        stamps: dict[str, str | None] = {}
        for locator in locators:
            try:
                stamps[locator] = str(self.path(locator).stat().st_mtime_ns)
            except FileNotFoundError:
                stamps[locator] = None
        return stamps

    def learned_aliases(self) -> dict[str, str]:
        return {}                                  # files are not shared with anyone

    def current_stamps(self, locators: list[str]) -> dict[str, str | None]:
        return self.modified_stamps(locators)      # a file's mtime is never behind

    def read(self, locator: str, windows: dict[str, Window]) -> Snapshot:
        """Each report tab's window: with calamine when the tabs hold no formula nor error
        cell (``xlsx_calamine``), else with openpyxl's streaming reader. What a commune pasted
        below it costs at most a capped scan. Formula cells come back as Formula, with the
        value Excel last computed when the file holds one (a second pass, only then)."""
        for attempt in range(3):
            taken = self._snapshot(locator)
            try:
                grids, last_rows, others = self._windows(locator, taken.data, windows)
                break
            except WorkbookBusy:        # a save caught halfway: read it once it is done
                if attempt == 2:
                    raise
        tabs = list(windows)
        return Snapshot(
            grids=grids,
            missing_tabs=tuple(t for t in tabs if t not in grids),
            modified_stamp=str(taken.stamp),
            modified_at=datetime.fromtimestamp(taken.stamp / 1e9, VN_TZ),
            other_tabs=others if len(grids) < len(tabs) else (),
            last_rows=last_rows,
        )

    def _windows(self, locator: str, data: bytes, windows: dict[str, Window]):
        quick = xlsx_calamine.read_windows(data, windows) if self.calamine else None
        if quick is not None:
            return quick
        grids: dict[str, list[list]] = {}
        last_rows: dict[str, int] = {}
        formulas: dict[str, list[tuple[int, int]]] = {}
        book = self._load(locator, data, read_only=True)
        try:
            with self._lazy_errors(locator, data):
                for tab, window in windows.items():
                    if tab not in book.sheetnames:
                        continue
                    sheet = book[tab]
                    grids[tab], formulas[tab] = _window_cells(sheet, window)
                    if sheet.max_row:
                        last_rows[tab] = sheet.max_row
            others = tuple(t for t in book.sheetnames if t not in windows)
        finally:
            book.close()
        if any(formulas.values()):
            self._cached_values(locator, data, windows, grids, formulas)
        return grids, last_rows, others

    def _cached_values(self, locator: str, data: bytes, windows: dict[str, Window],
                       grids: dict[str, list[list]], formulas: dict) -> None:
        """Fill in the value each formula last computed, where the file keeps one (from the
        same bytes: both passes see one save)."""
        book = self._load(locator, data, read_only=True, data_only=True)
        try:
            with self._lazy_errors(locator, data):
                for tab, cells in formulas.items():
                    if not cells:
                        continue
                    last = max(r for r, _ in cells)
                    rows = list(book[tab].iter_rows(max_row=last, max_col=windows[tab].width,
                                                    values_only=True))
                    for r, c in cells:
                        value = rows[r - 1][c - 1] if r <= len(rows) else None
                        grids[tab][r - 1][c - 1] = Formula(grids[tab][r - 1][c - 1].text,
                                                           value, value is not None)
        finally:
            book.close()

    @contextmanager
    def _lazy_errors(self, locator: str, data: bytes):
        """openpyxl parses cells while rows are iterated: a malformed cell fails there, not
        when the file is opened."""
        path = self.path(locator)
        try:
            yield
        except _MALFORMED as exc:
            if not safe_write.settled(path, data):
                raise _being_saved(path) from exc
            raise WorkbookError(
                f"{path.name}: không đọc được sổ, nội dung bị hỏng "
                f"({type(exc).__name__}: {exc}); hãy mở sổ bằng Excel, lưu lại dạng .xlsx rồi "
                "chạy lại") from exc

    def locale(self, locator: str) -> str | None:
        return None     # .xlsx files have no locale: Excel uses the reader's

    def write_feedback(self, locator: str, rows: list[list[str]], summary: str,
                       expected_stamp: str, now: datetime,
                       banners: dict[str, Banner] | None = None,
                       report_tabs: tuple[str, ...] = (),
                       noted: dict[str, list] | None = None) -> str | None:
        """Rewrite Kiểm tra and the banners through the never-clobber protocol: None when the
        workbook changed since it was read or a save landed while writing; WorkbookBusy when
        someone has it open. Only Kiểm tra's, the banners' and the marked cells' XML change
        inside the zip (``xlsx_patch``): a tenth of the time of loading and saving the whole
        workbook with openpyxl, and nothing else is touched; a package it does not know is
        written the openpyxl way."""
        original = self._original(locator)
        if str(original.stamp) != expected_stamp:
            return None
        marks = cell_marks(rows)
        tabs = {tab: marks.get(tab, {}) for tab in dict.fromkeys([*report_tabs, *marks])}
        data = xlsx_patch.patched(original.data, rows, summary, banners or {}, MARK_AUTHOR,
                                  tabs, noted) if self.patch else None
        if data is not None:
            return safe_write.replace(original, lambda new: new.write_bytes(data), _ns(now))
        book = self._load(locator, original.data)
        for tab, banner in (banners or {}).items():
            if tab in book.sheetnames:
                cell = book[tab].cell(TITLE_ROW, 1)
                put(cell, banner.text)
                colour = BANNER_COLOURS.get(banner.tone)
                cell.font = (Font(name=FONT_NAME, bold=True, size=13, color=colour) if colour
                             else TITLE_FONT)
        sheet = _feedback_sheet(book, replace=True)
        put(sheet.cell(TITLE_ROW, 1), summary)
        for r, values in enumerate(rows, start=FIRST_DATA_ROW):
            for c, value in enumerate(values, start=1):
                put(sheet.cell(r, c), value)
            _feedback_row_style(sheet, r, values)
        for tab in dict.fromkeys([*report_tabs, *marks]):
            if tab in book.sheetnames:
                was = None if noted is None else {tuple(c) for c in noted.get(tab, [])}
                _mark_cells(book[tab], marks.get(tab, {}), was)
        return safe_write.replace(original, book.save, _ns(now))

    def _original(self, locator: str) -> safe_write.Original:
        """The workbook's bytes for a write; WorkbookBusy when someone has it open."""
        if not self.path(locator).is_file():
            raise WorkbookError(self.not_found(locator))
        try:
            return safe_write.read(self.path(locator))
        except PermissionError as exc:
            raise self._refused(exc, locator) from exc

    def _snapshot(self, locator: str) -> safe_write.Original:
        """The workbook's bytes to read (a person may have it open: reading is harmless)."""
        path = self.path(locator)
        try:
            return safe_write.snapshot(path)
        except FileNotFoundError as exc:
            raise WorkbookError(self.not_found(locator)) from exc
        except PermissionError as exc:
            raise self._refused(exc, locator) from exc
        except WorkbookError as exc:
            if not path.is_file():
                raise WorkbookError(self.not_found(locator)) from exc
            raise

    def _refused(self, exc: PermissionError, locator: str) -> WorkbookError:
        path = self.path(locator)
        reason = holder(path)
        if reason:
            return WorkbookBusy(f"{path.name}: {reason}")
        return WorkbookError(f"{path.name}: hệ điều hành không cho đọc tệp ({exc.strerror}); "
                             "kiểm tra quyền đọc thư mục")

    def tidy(self, everything: bool = False) -> list[str]:
        """Leftovers of interrupted writes (see safe_write.tidy)."""
        return safe_write.tidy(self.folder, everything=everything)

    def _open(self, locator: str, read_only: bool = False, data_only: bool = False):
        return self._load(locator, self._snapshot(locator).data, read_only, data_only)

    def _load(self, locator: str, data: bytes, read_only: bool = False,
              data_only: bool = False):
        """The workbook from bytes taken from its file; what stops it said in one line with
        what to do. Bytes that do not open while the file has changed since are a save caught
        halfway (WorkbookBusy: read again on the next run), not a damaged workbook."""
        path = self.path(locator)
        try:
            return load_workbook(io.BytesIO(data), read_only=read_only, data_only=data_only)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error) as exc:
            if not safe_write.settled(path, data):
                raise _being_saved(path) from exc
            raise WorkbookError(f"{path.name}: {unreadable(data, exc)}") from exc

    def not_found(self, locator: str) -> str:
        """A workbook missing where the ledger says it is: where it was expected, where it
        may be, and why provision is not the fix."""
        found = [p for p in self.find_elsewhere(locator.split(" ")[0], locator)
                 if Path(p) != self.path(locator)]
        seen = f"; thấy một sổ của xã ở {'; '.join(found)}" if found else ""
        return (f"không thấy sổ '{locator}' trong {self.folder} (nơi toolkit ghi nhận sổ của "
                f"xã){seen} — hãy chuyển sổ về đúng thư mục và đúng tên đó; nếu chạy `toolkit "
                "provision` trước, một sổ mới trống sẽ được tạo và số liệu trong sổ cũ không "
                "được đọc")


#: An Office file in the OLE2 (Compound File Binary) container: an .xlsx saved with a
#: password, or an Excel 97-2003 .xls renamed.
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def _being_saved(path: Path) -> WorkbookBusy:
    return WorkbookBusy(f"{path.name}: xã đang lưu sổ đúng lúc toolkit đọc (tệp đang được ghi "
                        "dở); sổ được đọc lại ở lượt sau, không cần làm gì")


def unreadable(data: bytes, exc: Exception) -> str:
    """Why an .xlsx file cannot be opened, from its bytes, with what to do. (An OLE2 file's
    directory, which names its streams, may lie anywhere in it: the whole file is searched.)"""
    if data.startswith(OLE2_MAGIC) and _ENCRYPTED in data:
        return ("sổ đặt mật khẩu: mở sổ, File → Info → Protect Workbook → Encrypt with "
                "Password, xoá mật khẩu, lưu lại")
    if data.startswith(OLE2_MAGIC):
        return ("sổ lưu theo dạng Excel 97-2003 (.xls) dù tên là .xlsx: mở sổ, File → Save As "
                "→ Excel Workbook (.xlsx), lưu đè lên tên cũ")
    return (f"không phải sổ Excel đọc được ({exc}); hãy mở sổ bằng Excel và lưu lại dạng "
            ".xlsx")


def _window_cells(sheet, window: Window) -> tuple[list[list], list[tuple[int, int]]]:
    """A read-only sheet's cells within ``window`` (formulas as Formula) and where the
    formulas are. Text typed as text that starts with "=" is text (data type 's')."""
    rows: list[list] = []
    formulas: list[tuple[int, int]] = []
    for r, cells in enumerate(sheet.iter_rows(max_row=window.rows, max_col=window.width),
                              start=1):
        row = []
        for c, cell in enumerate(cells, start=1):
            value = cell.value
            if cell.data_type == "f":
                value = Formula(str(getattr(value, "text", value)))
                formulas.append((r, c))
            row.append(value)
        rows.append(row)
    return rows, formulas


def _locator(commune_code: str, title: str) -> str:
    return f"{commune_code} {_UNSAFE.sub('-', title)}.xlsx"


def _built(book, actions: list[Action]):
    """``book`` (None: a new one) with the provisioning ``actions`` carried out."""
    for action in actions:
        if isinstance(action, CreateWorkbook):
            book = Workbook()
            book.remove(book.active)
        elif isinstance(action, AddTab):
            _add_tab(book, action.layout)
        elif isinstance(action, AppendPeriods):
            _append_periods(book[action.layout.tab], action.layout, action.keys)
        elif isinstance(action, Restyle):
            _restyle(book[action.layout.tab], action.layout)
        elif isinstance(action, SetVillages):
            _set_villages(book, action.villages)
        elif isinstance(action, AddHelpTab):
            _add_help(book, action.lines)
        elif isinstance(action, AddFeedbackTab):
            _feedback_sheet(book)
    _order_tabs(book)
    _record_style(book)
    return book


def _ns(now: datetime) -> int:
    """The injected clock as a file stamp, so simulated and replayed runs stay coherent."""
    return round(now.timestamp() * 1_000_000) * 1000


def _add_tab(book, layout: TabLayout) -> None:
    sheet = book.create_sheet(layout.tab)
    put(sheet.cell(TITLE_ROW, 1), layout.title)
    sheet.cell(TITLE_ROW, 1).font = TITLE_FONT
    for c, header in enumerate(layout.headers, start=1):
        put(sheet.cell(HEADER_ROW, c), header)
    sheet.freeze_panes = a1(FIRST_DATA_ROW, 1 + layout.key_columns)
    # Header rows are locked; staff may still resize columns and filter.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.autoFilter = False
    _dress(sheet, layout)
    if layout.periodic:
        _append_periods(sheet, layout, layout.period_keys)
    else:
        _unlock_and_validate(sheet, layout, FIRST_DATA_ROW, FIRST_DATA_ROW + layout.free_rows - 1)


def _record_style(book) -> None:
    props = book.custom_doc_props
    if STYLE_PROPERTY in props.names:
        props[STYLE_PROPERTY].value = STYLE
    else:
        props.append(StringProperty(name=STYLE_PROPERTY, value=STYLE))


def _restyle(sheet, layout: TabLayout) -> None:
    """A report tab provisioned by an earlier version, given today's look: header style and
    height, each field cell's format, font and lock, the input hints and validation. No value
    is written; a column a person widened stays as wide."""
    widths = {column_letter(r.column): sheet.column_dimensions[column_letter(r.column)].width
              for r in layout.columns}
    _dress(sheet, layout)
    for letter, width in widths.items():
        if width and width > sheet.column_dimensions[letter].width:
            sheet.column_dimensions[letter].width = width
    fields = {r.column for r in layout.columns}
    kept = []
    for validation in sheet.data_validations.dataValidation:
        ranges = list(validation.sqref.ranges)
        if not all(r.min_col in fields and r.max_col == r.min_col and r.min_row >= FIRST_DATA_ROW
                   for r in ranges):
            kept.append(validation)
    sheet.data_validations.dataValidation = kept
    last = sheet.max_row if layout.periodic else FIRST_DATA_ROW + layout.free_rows - 1
    if last >= FIRST_DATA_ROW:
        _unlock_and_validate(sheet, layout, FIRST_DATA_ROW, last)


def _dress(sheet, layout: TabLayout) -> None:
    """The look of a report tab that holds no typed value: header style, column widths, a
    header row tall enough for its wrapped headers, one page wide when printed."""
    style_header(sheet[HEADER_ROW][:len(layout.headers)])
    widths = {1: 13} | ({2: 24} if layout.served else {})
    for rule in layout.columns:
        widths[rule.column] = rule.width
    for column, width in widths.items():
        sheet.column_dimensions[column_letter(column)].width = width
    sheet.row_dimensions[HEADER_ROW].height = header_height(
        layout.headers, [widths.get(c, 13) for c in range(1, len(layout.headers) + 1)])
    _one_page_wide(sheet)


def _one_page_wide(sheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _append_periods(sheet, layout: TabLayout, keys: tuple[str, ...]) -> None:
    if not keys:
        return
    first = max(sheet.max_row + 1, FIRST_DATA_ROW)
    rows = layout.rows_of(keys)
    for row, (key, served) in enumerate(rows, start=first):
        cell = sheet.cell(row, 1)
        if layout.period == "daily":
            cell.value = date.fromisoformat(key)
            cell.number_format = "DD/MM/YYYY"
        else:
            put(cell, period_label(layout.period, key))
        cell.font = HEADER_FONT
        if served is not None:
            put(sheet.cell(row, 2), served)
            sheet.cell(row, 2).font = HEADER_FONT
    _unlock_and_validate(sheet, layout, first, first + len(rows) - 1)


def _unlock_and_validate(sheet, layout: TabLayout, first: int, last: int) -> None:
    for rule in layout.columns:
        # Cells that start alike end alike: each distinct starting style (a fresh cell, a
        # cell marked by Kiểm tra) is styled once through openpyxl, whose per-attribute
        # setters dominate provisioning, and its result copied to the others.
        styled: dict[tuple, object] = {}
        for row in range(first, last + 1):
            cell = sheet.cell(row, rule.column)
            before = tuple(cell._style or ())       # None: a cell never styled
            if before in styled:
                cell._style = copy(styled[before])
            else:
                _style_field_cell(cell, rule)
                styled[before] = copy(cell._style)
        validation = _validation(rule)
        letter = column_letter(rule.column)
        sheet.add_data_validation(validation)
        validation.add(f"{letter}{first}:{letter}{last}")


def _style_field_cell(cell, rule) -> None:
    """Format, font, wrap and unlock one field cell: never its value."""
    cell.protection = UNLOCKED
    cell.font = BODY_FONT
    if rule.number_format:
        cell.number_format = rule.number_format
    if rule.kind == "text":
        cell.alignment = WRAP


def _validation(rule) -> DataValidation:
    """The column's rule with its input hint; an empty cell is always allowed (a blank is
    "not typed yet", which Kiểm tra reports, not invalid data to circle)."""
    minimum = 0 if rule.minimum is None else rule.minimum
    common = dict(allow_blank=True, showInputMessage=True, promptTitle="Cách nhập",
                  prompt=rule.hint, showErrorMessage=True, errorTitle="Số không hợp lệ",
                  error=rule.hint)
    bounds = (dict(operator="between", formula2=str(rule.maximum)) if rule.maximum is not None
              else dict(operator="greaterThanOrEqual"))
    if rule.kind == "int":
        return DataValidation(type="whole", formula1=str(int(minimum)), **bounds, **common)
    if rule.kind == "number":
        return DataValidation(type="decimal", formula1=str(minimum), **bounds, **common)
    if rule.kind == "choice":
        source = (f"'{LISTS_TAB}'!$A$2:$A${VILLAGE_LIST_ROWS}" if rule.uses_village_list
                  else '"' + ",".join(rule.choices) + '"')
        return DataValidation(
            type="list", formula1=source, errorStyle="stop" if rule.refuses_others else "warning",
            **{**common, "errorTitle": "Giá trị không có trong danh sách",
               "error": "Chọn một giá trị trong danh sách."})
    # Text, dates and phones: the hint only; collect reads what was typed and Kiểm tra says
    # what to fix.
    return DataValidation(allow_blank=True, showInputMessage=True, promptTitle="Cách nhập",
                          prompt=rule.hint)


def _set_villages(book, villages: tuple[str, ...]) -> None:
    if LISTS_TAB in book.sheetnames:
        book.remove(book[LISTS_TAB])
    sheet = book.create_sheet(LISTS_TAB)
    put(sheet.cell(1, 1), "Thôn/bản")
    for row, village in enumerate(villages, start=2):
        put(sheet.cell(row, 1), village)
    sheet.sheet_state = "hidden"


def _add_help(book, lines: tuple[str, ...]) -> None:
    if HELP_TAB in book.sheetnames:
        book.remove(book[HELP_TAB])
    sheet = book.create_sheet(HELP_TAB)
    for row, line in enumerate(lines, start=1):
        cell = sheet.cell(row, 1)
        put(cell, line)
        cell.font, cell.alignment = BODY_FONT, WRAP
        sheet.row_dimensions[row].height = help_row_height(line)
    sheet.cell(1, 1).font = TITLE_FONT
    sheet.column_dimensions["A"].width = 100
    _one_page_wide(sheet)


def _feedback_sheet(book, replace: bool = False):
    if FEEDBACK_TAB in book.sheetnames:
        if not replace:
            return book[FEEDBACK_TAB]
        index = book.sheetnames.index(FEEDBACK_TAB)
        book.remove(book[FEEDBACK_TAB])
        sheet = book.create_sheet(FEEDBACK_TAB, index)
    else:
        sheet = book.create_sheet(FEEDBACK_TAB)
    put(sheet.cell(TITLE_ROW, 1), "Chưa kiểm tra lần nào.")
    sheet.cell(TITLE_ROW, 1).font = TITLE_FONT
    for c, header in enumerate(FEEDBACK_HEADERS, start=1):
        put(sheet.cell(HEADER_ROW, c), header)
    style_header(sheet[HEADER_ROW])
    sheet.freeze_panes = a1(FIRST_DATA_ROW, 1)
    for letter, width in zip("ABCDEFG", FEEDBACK_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    _one_page_wide(sheet)
    return sheet


def _feedback_row_style(sheet, r: int, values: list) -> None:
    """One Kiểm tra row: every cell wrapped (the whole message shows), the level in its
    colour, the row as tall as its longest wrapped text."""
    fill, ink = LEVEL_COLOURS.get(str(values[-1]) if values else "", (None, None))
    for c in range(1, len(FEEDBACK_HEADERS) + 1):
        cell = sheet.cell(r, c)
        cell.font = BODY_FONT
        cell.alignment = WRAP
    if fill:
        level = sheet.cell(r, len(FEEDBACK_HEADERS))
        level.fill = PatternFill("solid", fgColor=fill)
        level.font = Font(name=FONT_NAME, size=FONT_SIZE, bold=True, color=ink)
    sheet.row_dimensions[r].height = feedback_row_height(values)


def _mark_cells(sheet, marks: dict[tuple[int, int], tuple[str, str]],
                was: set[tuple[int, int]] | None) -> None:
    """Fill and comment each problem cell (0-based row, column → level label, note); take the
    toolkit's marks off cells no longer in ``marks``. ``was``: the cells the last write marked
    (None: not known, every cell with our fill may be ours). A person's own comment or fill
    is never replaced nor removed; values are never touched. ``xlsx_marks.mark`` does the
    same inside the zip: change both alike (tests/test_feedback_patch.py compares them)."""
    ours = {PatternFill("solid", fgColor=fill).fgColor.rgb for fill, _ in LEVEL_COLOURS.values()}
    for (row, column), cell in list(sheet._cells.items()):
        where = (row - 1, column - 1)
        if where in marks or row < FIRST_DATA_ROW:
            continue
        if cell.comment is not None and is_mark(cell.comment.author, cell.comment.text):
            cell.comment = None
        if (was is None or where in was) and cell.fill.fill_type == "solid" \
                and cell.fill.fgColor.rgb in ours:
            cell.fill = PatternFill()
    for (r, c), (level, text) in marks.items():
        cell = sheet.cell(r + 1, c + 1)
        fill = LEVEL_COLOURS.get(level, LEVEL_COLOURS["Lỗi"])[0]
        own_fill = cell.fill.fill_type is not None and cell.fill.fgColor.rgb not in ours
        if not own_fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        if cell.comment is None or is_mark(cell.comment.author, cell.comment.text):
            comment = Comment(text, MARK_AUTHOR)
            comment.width, comment.height = xlsx_marks.note_size(text)
            cell.comment = comment


def _order_tabs(book) -> None:
    """Report tabs first, then Kiểm tra, Hướng dẫn, and the hidden lists last."""
    tail = [FEEDBACK_TAB, HELP_TAB, LISTS_TAB]
    order = [s for s in book.worksheets if s.title not in tail]
    order += [book[t] for t in tail if t in book.sheetnames]
    book._sheets = order
    book.active = 0
