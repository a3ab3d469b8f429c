"""One report tab read as provisioned: columns by their header, rows within the template.

The period column and each field are found by their header text wherever a commune moved them;
only the template's rows are parsed (the campaign's period rows, or a roster's free rows), and
what lies below them is summarised, never parsed cell by cell. Nothing that does not fit is
dropped silently or lands in another field: it becomes a problem (``ledger.Problem``) on the row
it belongs to, or — a missing header, a column that is not in the template, rows pasted below —
on the tab's own row (``TAB_ROW``), which goes blank again once the tab is put right.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from toolkit.backends.base import Formula, Window
from toolkit.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    a1,
    column_letter,
    display_period,
    period_key_of,
    row_key,
    served_name,
)
from toolkit.ledger import Problem, RowVersion
from toolkit.parse import parse_cell, strip_diacritics, typed_text
from toolkit.periods import ONCE
from toolkit.templates import SERVED_HEADER, FieldSpec, ReportSpec

#: The row_key of a tab's own row, whose problems belong to no period row.
TAB_ROW = "_tab"
#: The period of rows that count for no period: the tab's own row, rows without a valid key.
NO_PERIOD = "?"
_SPACES = re.compile(r"\s+")
_INSTEAD = {"int": "số", "number": "số", "date": "ngày (ví dụ 23/11/2026)",
            "choice": "một giá trị trong danh sách", "phone": "số điện thoại"}


def window(spec: ReportSpec, keys: tuple[str, ...], served: tuple[str, ...] = ()) -> Window:
    """What a store reads of ``spec``'s tab when the campaign's period keys are ``keys`` (and,
    on an enterprise's tab, the communes it serves are ``served``)."""
    return Window(FIRST_DATA_ROW + _region_rows(spec, keys, served) - 1, len(spec.headers))


def _region_rows(spec: ReportSpec, keys: tuple[str, ...], served: tuple[str, ...]) -> int:
    if not spec.period_header:
        return spec.free_rows
    return len(keys) * (max(len(served), 1) if spec.keyed else 1)


def rows_from_grid(spec: ReportSpec, grid: list[list], villages: tuple[str, ...],
                   keys: tuple[str, ...], *, last_row: int | None = None) -> list[RowVersion]:
    """Parse one tab's cells (row 1 first) into row versions, the tab's own row last.

    ``keys`` are the campaign's period keys (none for a roster); ``last_row`` is the last row
    the store says the tab uses, when it knows that without reading it. An enterprise's
    ``villages`` are the communes it serves: its keyed tab's rows are theirs.
    """
    served = villages if spec.keyed else ()
    region_end = FIRST_DATA_ROW + _region_rows(spec, keys, served) - 1
    if spec.keyed and spec.period_header:
        # Every row read is matched by its own day and commune cells: the communes served
        # change mid-campaign (rows appended for the new list), so where the current list
        # would put a row says nothing of which row it is.
        region_end = max(region_end, len(grid))
    tab = _Tab(spec, grid, region_end)
    columns = tab.map_columns()
    rows = _period_rows(tab, columns, villages, keys, served) if spec.period_header else [
        _once_row(tab, columns, villages, r) for r in range(FIRST_DATA_ROW, region_end + 1)]
    tab.outside(window(spec, keys, served), last_row)
    return [*rows, RowVersion(spec.key, NO_PERIOD, TAB_ROW, HEADER_ROW,
                              dict.fromkeys(f.key for f in spec.fields), tab.problems, False)]


@dataclass
class _Row:
    number: int
    values: dict
    problems: dict
    content: bool         # something typed in a field (a value or a problem)


class _Tab:
    def __init__(self, spec: ReportSpec, grid: list[list], region_end: int):
        self.spec, self.grid, self.region_end = spec, grid, region_end
        self.problems: dict[str, dict | list] = {}
        self.width = max((len(r) for r in grid), default=0)
        self.span = len(spec.headers)     # the template's columns, or as far as they were found
        self._filled: list[int] | None = None

    def cell(self, row: int, column: int | None):
        if column is None or row > len(self.grid):
            return None
        cells = self.grid[row - 1]
        return cells[column - 1] if column <= len(cells) else None

    def add(self, key: str, problem: Problem) -> None:
        self.problems[key] = problem.stored()

    def filled(self, column: int) -> int:
        """How many of the report rows' cells in ``column`` hold something."""
        if self._filled is None:      # every column at once: asked of each column of the tab
            self._filled = [0] * (self.width + 1)
            for cells in self.grid[FIRST_DATA_ROW - 1:self.region_end]:
                for c, value in enumerate(cells, start=1):
                    if _filled(value):
                        self._filled[c] += 1
        return self._filled[column] if column <= self.width else 0

    # -- columns ------------------------------------------------------------------------------

    def map_columns(self) -> list[int | None]:
        """The sheet column of each template header (period first), by header text: exact
        (NFC, case, spaces), then without diacritics when that is unambiguous, then — for a
        header found nowhere — the column at its template place if its header was retyped or
        deleted there (read, with a warning). Columns left over are reported if they hold data.
        """
        template = self.spec.headers
        wanted = [_norm(h) for h in template]
        folded = [strip_diacritics(w) for w in wanted]
        names = {c: _norm(_text(self.cell(HEADER_ROW, c))) for c in range(1, self.width + 1)}
        found: list[int | None] = [None] * len(template)
        taken: dict[int, int] = {}

        def claim(i: int, column: int) -> None:
            found[i], taken[column] = column, i

        for i, name in enumerate(wanted):
            if names.get(i + 1) == name:
                claim(i, i + 1)
        for i, name in enumerate(wanted):
            column = next((c for c, n in names.items() if n == name and c not in taken), None)
            if found[i] is None and column is not None:
                claim(i, column)
        for i, fold in enumerate(folded):
            loose = [c for c, n in names.items()
                     if n and c not in taken and strip_diacritics(n) == fold]
            if found[i] is None and folded.count(fold) == 1 and len(loose) == 1:
                claim(i, loose[0])
        for i, header in enumerate(template):
            if found[i] is None:
                self._at_template_place(i, header, names, wanted + folded, taken, claim)
        self._unknown_columns(found, taken, names)
        return found

    def _at_template_place(self, i, header, names, known, taken, claim) -> None:
        place = i + 1
        typed = names.get(place, "")
        cell = a1(HEADER_ROW, place)
        retyped = typed and typed not in known and strip_diacritics(typed) not in known
        holds = self.filled(place)
        if place not in taken and (retyped or (not typed and holds)):
            claim(i, place)
            shown = _text(self.cell(HEADER_ROW, place))
            what = (f'Tiêu đề ở ô {cell} là "{shown}", không đúng mẫu "{header}"' if shown
                    else f'Tiêu đề "{header}" ở ô {cell} đã bị xoá')
            self.add(f"header:{i}", Problem(
                shown, f'{what}; số liệu cột {column_letter(place)} vẫn được đọc là '
                       f'"{header}".',
                level="warning", check="header", cell=cell,
                fix=f'Gõ lại tiêu đề "{header}" vào ô {cell} như mẫu.'))
            return
        self.add(f"header:{i}", Problem(
            _text(self.cell(HEADER_ROW, place)),
            f'Thiếu cột "{header}" (theo mẫu, tiêu đề ở ô {cell}); số liệu của cột này không '
            "được đọc.", check="header", cell=cell,
            fix=f'Khôi phục cột "{header}": gõ lại đúng tiêu đề ở hàng {HEADER_ROW} (hoặc đưa '
                "cột về chỗ cũ), rồi nhập lại số liệu nếu đã bị xoá."))

    def _unknown_columns(self, found, taken, names) -> None:
        """Columns not in the template that hold data in the report rows: named, not read.
        Headerless ones right of the template are left to the summary of what is outside."""
        self.span = max([self.span, *taken])
        template = self.spec.headers
        for column in range(1, self.width + 1):
            holds = self.filled(column)
            if column in taken or not holds or (column > self.span and not names[column]):
                continue
            letter = column_letter(column)
            header = _text(self.cell(HEADER_ROW, column))
            twin = next((found[i] for i, h in enumerate(template)
                         if names[column] and _norm(h) == names[column]), None)
            if twin is not None:
                what = f'có tiêu đề "{header}" trùng với cột {column_letter(twin)}'
            else:
                what = f'(tiêu đề "{header}")' if header else "(không có tiêu đề)"
            self.add(f"column:{letter}", Problem(
                header, f"Cột {letter} {what} không đúng mẫu: {holds} ô có dữ liệu ở cột này "
                        "không được đọc.", check="column", cell=a1(HEADER_ROW, column),
                fix="Nếu đây là số liệu của báo cáo, hãy chuyển vào đúng cột theo mẫu; nếu không "
                    "cần, hãy xoá cột này."))

    # -- outside the template -----------------------------------------------------------------

    def outside(self, bounds: Window, last_row: int | None) -> None:
        """ONE problem for everything below the report rows and right of the template."""
        below = [r for r in range(self.region_end + 1, len(self.grid) + 1)
                 if any(_filled(v) for v in self.grid[r - 1])]
        right = [(r, c) for r, cells in enumerate(self.grid[FIRST_DATA_ROW - 1:self.region_end],
                                                  start=FIRST_DATA_ROW)
                 for c, value in enumerate(cells[self.span:], start=self.span + 1)
                 if _filled(value)]
        if not below and not right:
            return
        parts = []
        if below:
            capped = below[-1] >= bounds.rows or (last_row or 0) > bounds.rows
            at_least = "ít nhất " if capped else ""
            more = ""
            if capped:
                more = (f", bảng tính dùng đến dòng {last_row}" if (last_row or 0) > bounds.rows
                        else ", có thể còn nữa")
            parts.append(f"{at_least}{_count(len(below))} dòng bên dưới vùng báo cáo (dòng "
                         f"{below[0]}–{below[-1]}{more})")
        if right:
            columns = sorted({c for _, c in right})
            parts.append(f"{_count(len(right))} ô bên phải vùng báo cáo (cột "
                         f"{column_letter(columns[0])}–{column_letter(columns[-1])})")
        first = (below[0], next(c for c, v in enumerate(self.grid[below[0] - 1], 1)
                                if _filled(v))) if below else right[0]
        self.add("outside", Problem(
            _text(self.cell(*first)),
            f"Có dữ liệu ở {' và '.join(parts)} của trang \"{self.spec.tab}\"; không được tính "
            "— hãy xoá hoặc chuyển vào đúng dòng.", check="outside", cell=a1(*first),
            fix=f"Báo cáo chỉ đọc các dòng {FIRST_DATA_ROW}–{self.region_end} và các cột theo "
                "mẫu: chuyển số liệu vào đúng dòng của kỳ báo cáo, rồi xoá phần thừa."))

    # -- rows ---------------------------------------------------------------------------------

    def row(self, columns: list[int | None], villages: tuple[str, ...], r: int) -> _Row:
        cells = self.grid[r - 1] if r <= len(self.grid) else ()
        if cells.count(None) == len(cells):     # most rows of a roster or of future days
            return _Row(r, dict.fromkeys(f.key for f in self.spec.fields), {}, False)
        lead = self.spec.first_field_column - 1
        values: dict = {}
        problems: dict = {}
        for i, field in enumerate(self.spec.fields):
            column = columns[lead + i]
            raw = self.cell(r, column)
            if raw is None:               # most cells of a roster or a future day: blank
                values[field.key] = None
                continue
            cell = a1(r, column) if column else None
            value, problem = _field_value(field, raw, villages, cell)
            values[field.key] = value
            if problem is not None:
                moved = column is not None and column != self.spec.first_field_column + i
                problems[field.key] = (replace(problem, cell=cell) if moved
                                       else problem).stored()
        content = any(v is not None for v in values.values()) or bool(problems)
        return _Row(r, values, problems, content)


def _field_value(field: FieldSpec, raw, villages: tuple[str, ...],
                 cell: str | None) -> tuple[object, Problem | None]:
    choices = villages if field.choices_from_villages else field.choices

    def parse(value):
        return parse_cell(value, field.type, minimum=field.min, maximum=field.max,
                          choices=choices, aliases=field.aliases)

    if not isinstance(raw, Formula):
        parsed = parse(raw)
        return parsed.value, (Problem(typed_text(raw), parsed.error) if parsed.error else None)
    where = f"Ô {cell} có công thức {raw.text}"
    if raw.has_cached:
        parsed = parse(raw.cached)
        if parsed.error:
            return None, Problem(raw.text, f"{where}; giá trị nó tính ra không dùng được: "
                                           f"{parsed.error}", check="formula",
                                 fix=f"Hãy gõ {_INSTEAD.get(field.type, 'nội dung')} thay cho "
                                     "công thức.")
        return parsed.value, Problem(
            raw.text, f"{where}; đã đọc giá trị nó tính ra ({_text(raw.cached)}).",
            level="warning", check="formula",
            fix="Hãy gõ thẳng giá trị vào ô thay cho công thức, để số liệu không tự đổi khi ô "
                "khác thay đổi.")
    if field.type == "text":
        return raw.text, Problem(
            raw.text, f"{where}; giá trị nó tính ra không đọc được, nên đã lấy nguyên văn "
                      "công thức làm nội dung.", level="warning", check="formula",
            fix="Hãy gõ nội dung thay cho công thức.")
    instead = _INSTEAD[field.type]
    return None, Problem(raw.text, f"{where}, không đọc được số liệu từ công thức; hãy gõ "
                                   f"{instead} thay cho công thức.", check="formula",
                         fix=f"Hãy gõ {instead} thay cho công thức.")


def _once_row(tab: _Tab, columns, villages, r: int) -> RowVersion:
    found = tab.row(columns, villages, r)
    complete = all(found.values[k] is not None for k in tab.spec.required_keys)
    return RowVersion(tab.spec.key, ONCE, f"row{r}", r, found.values, found.problems, complete)


def _period_rows(tab: _Tab, columns, villages, keys: tuple[str, ...],
                 served: tuple[str, ...] = ()) -> list[RowVersion]:
    """Each report row under the key in its period cell (and, on an enterprise's tab, the
    commune named beside it: ``layout.row_key``); a row whose key is unreadable, not in the
    campaign or another row's too is kept (period "?") with a problem on that cell."""
    spec, column = tab.spec, columns[0]
    place = {row_key(k, n): FIRST_DATA_ROW + i for i, (k, n) in enumerate(
        (k, n) for k in keys for n in (served or (None,)))}
    read: list[tuple[_Row, str | None, object]] = []
    for r in range(FIRST_DATA_ROW, tab.region_end + 1):
        lead = tab.cell(r, column)
        shown = lead.cached if isinstance(lead, Formula) and lead.has_cached else lead
        key = _key_of(shown)
        if spec.keyed and key is not None:
            key = row_key(key, served_name(_text(tab.cell(r, columns[1]))))
        read.append((tab.row(columns, villages, r), key, lead))
    rows_of: dict[str, list[int]] = {}
    for found, key, _ in read:
        if key in place:
            rows_of.setdefault(key, []).append(found.number)
    chosen = {key: place[key] if place[key] in rows else rows[0] for key, rows in rows_of.items()}
    if spec.keyed:
        _blank_beside_typed(tab, columns, read, chosen)
    out, required = [], spec.required_keys        # a list made anew at each ask
    for found, key, lead in read:
        complete = all(found.values[k] is not None for k in required)
        if key is not None and chosen.get(key) == found.number:
            if isinstance(lead, Formula):
                found.problems["_period"] = _period_formula(spec, lead, a1(found.number, column))
            out.append(RowVersion(spec.key, key.split("|")[0], key, found.number,
                                  found.values, found.problems, complete))
            continue
        if key is None and not found.content and not isinstance(lead, Formula):
            continue
        if spec.keyed and key is not None and key not in place and not found.content \
                and key.split("|")[0] in keys and not isinstance(lead, Formula):
            continue        # a blank row of a commune the enterprise no longer serves
        cell = a1(found.number, column or 1)
        found.problems["_period"] = _period_problem(spec, found.number, cell, key, lead,
                                                    tuple(place), chosen).stored() \
            if key is not None or isinstance(lead, Formula) else [
                str(lead), f"Dòng {found.number} không có {spec.period_header.lower()} hợp lệ "
                           f"ở ô {cell}; hãy nhập số liệu vào dòng của kỳ báo cáo đã có sẵn."]
        out.append(RowVersion(spec.key, NO_PERIOD, f"row{found.number}", found.number,
                              found.values, found.problems, False))
    return out


def _blank_beside_typed(tab: _Tab, columns, read, chosen: dict[str, int]) -> None:
    """An enterprise's day partly typed: a problem on each served commune's row of that day
    still blank, in the row's own cell — the day counts only when every row is in
    (``status.period_proofs``), and the row, wherever provision put it, is found by its day
    and commune cells. Having a problem, the row is kept in the ledger with its sheet row."""
    typed = {key.split("|")[0] for found, key, _ in read
             if found.content and key is not None and chosen.get(key) == found.number}
    field = next(f for f in tab.spec.fields if f.required)
    column = columns[tab.spec.first_field_column - 1 + tab.spec.fields.index(field)] \
        or tab.spec.first_field_column
    for found, key, _ in read:
        if found.content or key is None or chosen.get(key) != found.number:
            continue
        period, _, name = key.partition("|")
        if period in typed:
            cell = a1(found.number, column)
            found.problems[field.key] = Problem(
                "", f"Chưa nhập số liệu của {name}.", check="required", cell=cell,
                fix=f"Nhập số liệu của doanh nghiệp tại {name} vào dòng có sẵn của xã này "
                    "(nếu không có, nhập 0).").stored()


def _period_formula(spec: ReportSpec, lead: Formula, cell: str) -> dict:
    what = spec.period_header.lower()
    return Problem(lead.text, f"Ô {cell} có công thức {lead.text} thay cho {what}; đã đọc "
                              f"{what} nó tính ra ({_text(lead.cached)}).", level="warning",
                   check="formula", cell=cell,
                   fix=f"Gõ thẳng {what} vào ô {cell} (như mẫu đã điền sẵn).").stored()


def _period_problem(spec: ReportSpec, r: int, cell: str, key: str | None, lead, keys,
                    chosen: dict[str, int]) -> Problem:
    what = spec.period_header.lower()
    index = r - FIRST_DATA_ROW
    expected = _shown(keys[index]) if 0 <= index < len(keys) else None
    fix = (f"Sửa ô {cell} về đúng {what} {expected} của dòng này (như mẫu đã điền sẵn)."
           if expected else "Chuyển số liệu vào dòng của kỳ báo cáo đã có sẵn.")
    if key is None:
        return Problem(lead.text, f"Ô {cell} có công thức {lead.text} thay cho {what}; số liệu "
                                  f"dòng {r} không được tính.", check="formula", cell=cell,
                       fix=fix)
    shown = _shown(key)
    if key in chosen:
        other = chosen[key]
        return Problem(shown, f"{spec.period_header} {shown} ở ô {cell} trùng với dòng {other}; "
                              f"số liệu dòng {r} không được tính.", check="period", cell=cell,
                       fix=fix.rstrip(".") + f", hoặc chuyển số liệu sang dòng {other}.")
    periods = [k.split("|")[0] for k in keys]
    span = f"{display_period(periods[0])}–{display_period(periods[-1])}" if keys else "—"
    if "|" in key and key.split("|")[0] in periods:
        named = key.split("|")[1]
        return Problem(shown, f'Dòng {r} ghi xã "{named}" ở cột "{SERVED_HEADER}", không phải '
                              "một xã có dòng điền sẵn cho doanh nghiệp trong ngày này; số liệu "
                              f"dòng {r} không được tính.", check="period", cell=cell, fix=fix)
    return Problem(shown, f"{spec.period_header} {shown} ở ô {cell} không thuộc đợt báo cáo "
                          f"({span}); số liệu dòng {r} không được tính.", check="period",
                   cell=cell, fix=fix)


def _shown(key: str) -> str:
    """A row key as staff read it: "23/11/2026", or "23/11/2026, Xã Kiên Mộc"."""
    period, _, served = key.partition("|")
    return display_period(period) + (f", {served}" if served else "")


def _key_of(value) -> str | None:
    return None if isinstance(value, Formula) else period_key_of(value)


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if isinstance(value, Formula):
        return _text(value.cached) if value.has_cached else value.text
    return "" if value is None else str(value)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()
