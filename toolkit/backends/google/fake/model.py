"""The state of one spreadsheet: tabs, cells as entered, formats, validation, protection.

Cells exist only where something was written, and formats or validation rules set on whole
ranges (repeatCell, setDataValidation) are kept as ranges, not copied into every cell, so a
thousand provisioned workbooks fit comfortably in one test process.
"""

from __future__ import annotations

import re

from . import a1, fields
from .errors import sheets_error
from .formulas import ERROR_TYPES, Evaluator, FormulaError
from .values import DATE_TYPES, Formula, format_number, locale_of, plain

DEFAULT_FORMAT = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM", "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {"foregroundColor": {}, "fontFamily": "arial,sans,sans-serif", "fontSize": 10,
                   "bold": False, "italic": False, "strikethrough": False, "underline": False,
                   "foregroundColorStyle": {"rgbColor": {}}},
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME_COLOURS = [("TEXT", {}), ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
                  ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
                  ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
                  ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
                  ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
                  ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
                  ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
                  ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8})]
THEME = {"primaryFontFamily": "Arial", "themeColors": [
    {"colorType": t, "color": {"rgbColor": c}} for t, c in _THEME_COLOURS]}
ROW_PIXELS, COLUMN_PIXELS = 21, 100
_REF = re.compile(r"^(?:(?P<title>'(?:[^']|'')+'|[^!]+)!)?(?P<cells>[$A-Za-z0-9:]+)$")


class Cell:
    __slots__ = ("value", "fmt", "fmt_seq", "note", "rule", "rule_seq", "entered", "how")

    def __init__(self):
        self.value = None       # str | float | bool | Formula | None
        self.fmt = None         # this cell's own userEnteredFormat (masked fields)
        self.fmt_seq = 0
        self.note = None
        self.rule = None        # this cell's own DataValidationRule
        self.rule_seq = 0
        self.entered = None     # exactly what the client sent or the person typed
        self.how = None         # "RAW", "USER_ENTERED", "CELL_DATA" or "PERSON"

    def empty(self) -> bool:
        return self.value is None and self.fmt is None and self.note is None and self.rule is None

    def __reduce__(self):
        """Pickled as its values in slot order: the fake copies a spreadsheet through pickle on
        every write (``state._copied``), and a slotted object's state by name took twice as
        long."""
        return _cell, (self.value, self.fmt, self.fmt_seq, self.note, self.rule, self.rule_seq,
                       self.entered, self.how)


def _cell(value, fmt, fmt_seq, note, rule, rule_seq, entered, how) -> Cell:
    cell = Cell.__new__(Cell)
    cell.value, cell.fmt, cell.fmt_seq, cell.note = value, fmt, fmt_seq, note
    cell.rule, cell.rule_seq, cell.entered, cell.how = rule, rule_seq, entered, how
    return cell


class Sheet:
    def __init__(self, props: dict):
        self.props = props
        self.cells: dict[tuple[int, int], Cell] = {}
        self.fmt_layers: list[tuple] = []     # (seq, r0, r1, c0, c1, paths, format)
        self.rule_layers: list[tuple] = []    # (seq, r0, r1, c0, c1, rule | None)
        self.row_meta: dict[int, dict] = {}
        self.col_meta: dict[int, dict] = {}
        self.extras: dict[str, list] = {}     # merges, protectedRanges, conditionalFormats, …
        self.basic_filter: dict | None = None

    @property
    def sheet_id(self) -> int:
        return self.props.get("sheetId", 0)

    @property
    def title(self) -> str:
        return self.props["title"]

    @property
    def rows(self) -> int:
        return self.props["gridProperties"]["rowCount"]

    @property
    def cols(self) -> int:
        return self.props["gridProperties"]["columnCount"]

    def cell(self, r: int, c: int) -> Cell:
        found = self.cells.get((r, c))
        if found is None:
            found = self.cells[(r, c)] = Cell()
        return found

    def drop_if_empty(self, r: int, c: int) -> None:
        found = self.cells.get((r, c))
        if found is not None and found.empty():
            del self.cells[(r, c)]

    def user_format(self, r: int, c: int) -> dict | None:
        layers = [(s, p, f) for s, r0, r1, c0, c1, p, f in self.fmt_layers
                  if r0 <= r < r1 and c0 <= c < c1]
        found = self.cells.get((r, c))
        if found is not None and found.fmt is not None:
            layers.append((found.fmt_seq, [()], found.fmt))
        if not layers:
            return None
        out: dict = {}
        for _, paths, fmt in sorted(layers, key=lambda x: x[0]):
            out = fields.merge(out, fmt, paths)
        return out or None

    def number_format(self, r: int, c: int) -> dict | None:
        fmt = self.user_format(r, c) if self.fmt_layers or (r, c) in self.cells else None
        return (fmt or {}).get("numberFormat")

    def rule_at(self, r: int, c: int) -> dict | None:
        best = (-1, None)
        for seq, r0, r1, c0, c1, rule in self.rule_layers:
            if r0 <= r < r1 and c0 <= c < c1 and seq > best[0]:
                best = (seq, rule)
        found = self.cells.get((r, c))
        if found is not None and found.rule_seq > best[0]:
            best = (found.rule_seq, found.rule)
        return best[1]

    def rule_anchor(self, r: int, c: int) -> tuple[int, int]:
        """Top-left cell of the range whose rule applies at (r, c): a custom formula's relative
        references are written for that cell and move with the edited one."""
        best = (-1, (r, c))
        for seq, r0, r1, c0, c1, _rule in self.rule_layers:
            if r0 <= r < r1 and c0 <= c < c1 and seq > best[0]:
                best = (seq, (r0, c0))
        found = self.cells.get((r, c))
        if found is not None and found.rule_seq > best[0]:
            return (r, c)
        return best[1]

    def used_extent(self) -> tuple[int, int]:
        rows = cols = 0
        for (r, c), cell in self.cells.items():
            if cell.value is not None:
                rows, cols = max(rows, r + 1), max(cols, c + 1)
        return rows, cols

    def grid(self, r0=None, r1=None, c0=None, c1=None) -> tuple[int, int, int, int]:
        """A GridRange's bounds on this sheet, unbounded sides closed at the grid's edge."""
        return (r0 or 0, self.rows if r1 is None else r1, c0 or 0,
                self.cols if c1 is None else c1)


class Spreadsheet:
    def __init__(self, spreadsheet_id: str, title: str, locale: str, time_zone: str):
        self.id = spreadsheet_id
        self.props = {"title": title, "locale": locale, "autoRecalc": "ON_CHANGE",
                      "timeZone": time_zone, "defaultFormat": DEFAULT_FORMAT,
                      "spreadsheetTheme": THEME}
        self.sheets: list[Sheet] = []
        self.named_ranges: list[dict] = []
        self.metadata: list[dict] = []        # developerMetadata on the spreadsheet
        self._seq = 0
        self.today = 0.0
        self._depth = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def locale(self) -> str:
        return self.props.get("locale", "en_US")

    def ordered(self) -> list[Sheet]:
        return sorted(self.sheets, key=lambda s: s.props.get("index", 0))

    def reindex(self) -> None:
        for i, sheet in enumerate(self.ordered()):
            sheet.props["index"] = i

    def by_id(self, sheet_id: int) -> Sheet | None:
        for sheet in self.sheets:       # a plain loop: every request on a tab asks this
            if sheet.props.get("sheetId", 0) == sheet_id:
                return sheet
        return None

    def by_title(self, title: str) -> Sheet | None:
        found = next((s for s in self.sheets if s.title == title), None)
        if found is None:
            found = next((s for s in self.sheets if s.title.lower() == title.lower()), None)
        return found

    # -- ranges -------------------------------------------------------------------------------

    def resolve(self, text: str, clip: bool = True) -> tuple[Sheet, int, int, int, int]:
        """An A1 range (or named range) → (sheet, r0, r1, c0, c1), closed at the grid's edge."""
        try:
            parsed = a1.parse(text)
        except ValueError:
            title, cells = a1.split_title(text) if "!" in text else (None, "")
            named = next((n for n in self.named_ranges if n["name"] == cells), None)
            if named is None or self.by_title(title or "") is None:
                raise self.unparsable(text) from None
            parsed = a1.A1(cells, whole=True)
        if parsed.title is None:
            sheet = self.ordered()[0]
            r0, r1, c0, c1 = sheet.grid(parsed.r0, parsed.r1, parsed.c0, parsed.c1)
        else:
            sheet = self.by_title(parsed.title)
            if sheet is None and parsed.whole:
                named = next((n for n in self.named_ranges if n["name"] == parsed.title), None)
                if named is not None:
                    rng = named["range"]
                    sheet = self.by_id(rng.get("sheetId", 0))
                    return (sheet, *sheet.grid(rng.get("startRowIndex"), rng.get("endRowIndex"),
                                               rng.get("startColumnIndex"),
                                               rng.get("endColumnIndex")))
            if sheet is None:
                raise self.unparsable(text)
            r0, r1, c0, c1 = sheet.grid(parsed.r0, parsed.r1, parsed.c0, parsed.c1)
        if clip:
            r1, c1 = min(r1, sheet.rows), min(c1, sheet.cols)
            r0, c0 = min(r0, r1), min(c0, c1)
        return sheet, r0, r1, c0, c1

    @staticmethod
    def unparsable(text: str):
        return sheets_error(400, f"Unable to parse range: {text}")

    def grid_range(self, rng: dict, where: tuple[int, str] | None = None):
        """A GridRange dict → (sheet, r0, r1, c0, c1); beyond the grid is an error."""
        sheet = self.by_id(rng.get("sheetId", 0))
        if sheet is None:
            raise _invalid(where, f"No grid with id: {rng.get('sheetId', 0)}")
        r0, r1, c0, c1 = sheet.grid(rng.get("startRowIndex"), rng.get("endRowIndex"),
                                    rng.get("startColumnIndex"), rng.get("endColumnIndex"))
        if r1 > sheet.rows or c1 > sheet.cols or r0 > r1 or c0 > c1 or min(r0, c0) < 0:
            text = a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))
            raise _invalid(where, f"Range ({text}) exceeds grid limits. Max rows: {sheet.rows}, "
                                  f"max columns: {sheet.cols}")
        return sheet, r0, r1, c0, c1

    # -- values -------------------------------------------------------------------------------

    def effective(self, sheet: Sheet, r: int, c: int):
        """The value a cell shows: formulas evaluated; errors as FormulaError."""
        found = sheet.cells.get((r, c))
        value = None if found is None else found.value
        if not isinstance(value, Formula):
            return value
        if self._depth > 40:
            return FormulaError("#REF!", "Circular dependency detected.")
        self._depth += 1
        try:
            ev = Evaluator(lambda ref: self._ref(sheet, ref), locale_of(self.locale).decimal,
                           self.today)
            result = ev.run(value)
            return None if isinstance(result, list) else result
        except FormulaError as exc:
            return exc
        finally:
            self._depth -= 1

    def _ref(self, sheet: Sheet, ref: str):
        m = _REF.match(ref.replace("$", ""))
        title = m.group("title") if m else None
        target = sheet
        if title:
            target = self.by_title(title[1:-1].replace("''", "'") if title.startswith("'")
                                   else title)
            if target is None:
                raise FormulaError("#REF!", f"Unresolved sheet name '{title}'.")
        r0, r1, c0, c1 = a1.parse_cells(m.group("cells"))
        r0, r1, c0, c1 = target.grid(r0, r1, c0, c1)
        if ":" not in m.group("cells"):
            value = self.effective(target, r0, c0)
            if isinstance(value, FormulaError):
                raise value
            return value
        out = []
        for r in range(r0, min(r1, target.rows)):
            row = []
            for c in range(c0, min(c1, target.cols)):
                value = self.effective(target, r, c)
                if isinstance(value, FormulaError):
                    raise value
                row.append(value)
            out.append(row)
        return out

    def render(self, sheet: Sheet, r: int, c: int, option: str, dt_option: str):
        """One cell as values.get returns it for valueRenderOption/dateTimeRenderOption."""
        found = sheet.cells.get((r, c))
        if found is None or found.value is None:
            return None
        if option == "FORMULA" and isinstance(found.value, Formula):
            return str(found.value)
        value = self.effective(sheet, r, c)
        if isinstance(value, FormulaError):
            return value.code
        if value is None:
            return "" if isinstance(found.value, Formula) else None
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE") if option == "FORMATTED_VALUE" else value
        if isinstance(value, str):
            return value
        nf = sheet.number_format(r, c)
        loc = locale_of(self.locale)
        if option == "FORMATTED_VALUE":
            return format_number(float(value), nf, loc)
        if dt_option == "FORMATTED_STRING" and nf and nf.get("type") in DATE_TYPES:
            return format_number(float(value), nf, loc)
        return plain(float(value))

    def extended(self, value) -> dict:
        if value is None:
            return {}
        if isinstance(value, FormulaError):
            return {"errorValue": {"type": ERROR_TYPES.get(value.code, "ERROR"),
                                   "message": value.message}}
        if isinstance(value, Formula):
            return {"formulaValue": str(value)}
        if isinstance(value, bool):
            return {"boolValue": value}
        if isinstance(value, str):
            return {"stringValue": value}
        return {"numberValue": plain(float(value))}


def _invalid(where: tuple[int, str] | None, message: str):
    if where is None:
        return sheets_error(400, message)
    return sheets_error(400, f"Invalid requests[{where[0]}].{where[1]}: {message}")


def shift(bounds: tuple[int, int], index: int, count: int) -> tuple[int, int] | None:
    """Move a half-open span for ``count`` rows inserted (>0) or deleted (<0) at ``index``."""
    lo, hi = bounds
    if count > 0:
        return (lo + count if lo >= index else lo, hi + count if hi > index else hi)
    end = index - count
    def moved(x: int) -> int:
        return x if x <= index else (index if x <= end else x + count)
    lo2, hi2 = moved(lo), moved(hi)
    return None if hi2 <= lo2 else (lo2, hi2)
