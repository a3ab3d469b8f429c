"""sheet_templates/*.toml → ReportSpec: a report is declared in a file, never in code.

Every template is checked completely; a malformed one fails with the file, the key and the
problem, so a province officer who adds a report can fix it without reading Python.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path

from toolkit import known
from toolkit.errors import FileProblems, TemplateError
from toolkit.known import DID_YOU_MEAN, FREE, Lines, Unknown, describe
from toolkit.periods import CALENDARS, Deadline

PERIODS = ("daily", "monthly", "quarterly", "yearly", "once")
_TOP = "đầu tệp"    # how a problem names the settings above the first heading
FIELD_TYPES = ("int", "number", "text", "date", "choice", "phone")
AGGREGATES = ("sum", "count", "none")
LEVELS = ("error", "warning")
OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
# DHIS2's missing-value strategies: when a side cannot be computed, skip the rule or count 0.
MISSING_STRATEGIES = ("skip_if_any", "skip_if_all", "never_skip")
# Names a rule side may use besides field keys: values from the commune registry.
REGISTRY_NAMES = ("households", "villages")
_TERM = re.compile(r"^(?:cum\((?P<cum>[a-z_][a-z0-9_]*)\)"
                   r"|(?P<name>[a-z_][a-z0-9_]*)|(?P<num>\d+(?:\.\d+)?))$")

# Sheet layout shared by every backend: a title/banner row, the header row, then data.
TITLE_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
PERIOD_HEADERS = {"daily": "Ngày", "monthly": "Tháng", "quarterly": "Quý", "yearly": "Năm"}
#: Who fills a template in: every commune (the default), or each postal enterprise of the
#: registry's «Doanh nghiệp bưu chính» sheet (toolkit.postal), in a workbook of its own.
REPORTERS = ("communes", "enterprises")
#: An enterprise's tab has one row per period and commune it serves: this column, pre-filled
#: beside the period column, names the commune of the row.
SERVED_HEADER = "Xã, phường"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    header: str
    type: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    choices_from_villages: bool = False
    #: Other words people use for a choice ("Phó ban" for "Phó Trưởng ban"): the sheet warns
    #: but accepts them, collect stores them as the choice; the drop-down shows ``choices``.
    aliases: tuple[tuple[str, str], ...] = ()
    aggregate: str = "sum"
    private: bool = False
    reconciles_with: str | None = None   # "kts_daily.new_shops": the daily field it totals
    #: Decimal places a number field shows (0 for money in đồng); int fields show none.
    decimals: int = 2

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "number")


@dataclass(frozen=True)
class RuleSpec:
    """``left op right`` over field values, cumulative sums (``cum(f)``) and registry values."""

    key: str
    left: str
    op: str
    right: str
    level: str
    message: str
    fix: str = ""
    missing: str = "skip_if_any"


@dataclass(frozen=True)
class TargetSpec:
    """Cumulative ``numerator`` as a share of the commune's households, against ``threshold``."""

    key: str
    label: str
    numerator: str
    threshold: float


# The [roster] table: the roster checks (toolkit.checks.rosters) it turns on are declared
# with the template, so a template loads without the checks and the checks read this spec.
ROSTER_KINDS = ("team", "committee")
# Settings naming a field: which kinds use it, whether required, and the field types allowed.
_SETTINGS = {
    "name": (ROSTER_KINDS, True, ("text",)),
    "role": (ROSTER_KINDS, True, ("choice", "text")),
    "village": (("team",), True, ("choice", "text")),
    "villages": (("committee",), True, ("text",)),
    "position": (ROSTER_KINDS, False, ("text",)),
    "phone": (ROSTER_KINDS, False, ("phone",)),
}
_LEADERS = {"team": "Tổ trưởng", "committee": "Trưởng ban"}


@dataclass(frozen=True)
class RosterSpec:
    """A template's ``[roster]`` table: which checks run and the field keys they read."""

    kind: str
    name: str
    role: str
    leader: str
    village: str | None = None
    villages: str | None = None
    position: str | None = None
    phone: str | None = None
    min_members: int = 3


@dataclass(frozen=True)
class ReportSpec:
    key: str
    title: str
    tab: str
    period: str
    deadline: Deadline
    fields: tuple[FieldSpec, ...]
    rules: tuple[RuleSpec, ...] = ()
    targets: tuple[TargetSpec, ...] = ()
    free_rows: int = 0
    calendar: str = "every_day"
    roster: RosterSpec | None = None   # roster checks declared by a [roster] table
    reporters: str = "communes"        # one of REPORTERS
    source: Path | None = field(default=None, compare=False)

    @property
    def period_header(self) -> str | None:
        """Header of the pre-filled period column (Ngày/Tháng/Quý/Năm); rosters have none."""
        return PERIOD_HEADERS.get(self.period)

    @property
    def keyed(self) -> bool:
        """Rows keyed by period and served commune: an enterprise's report. Its period is
        complete as a roster is — at least one row typed, and every typed row complete."""
        return self.reporters == "enterprises"

    @property
    def key_headers(self) -> list[str]:
        """The pre-filled columns before the fields: the period, and the commune when keyed."""
        lead = [self.period_header] if self.period_header else []
        return lead + ([SERVED_HEADER] if self.keyed else [])

    @property
    def headers(self) -> list[str]:
        return self.key_headers + [f.header for f in self.fields]

    @property
    def first_field_column(self) -> int:
        """1-based sheet column of the first field."""
        return len(self.key_headers) + 1

    def field_spec(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)

    @property
    def required_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.required]

    @property
    def sum_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.numeric and f.aggregate == "sum"]


# Every name a template may hold; any other is reported with the name most likely meant.
FIELD_SETTINGS = ("key", "header", "type", "required", "min", "max", "choices", "aliases",
                  "aggregate", "private", "reconciles_with", "decimals")
ROSTER_SETTINGS = ("kind", "name", "role", "village", "villages", "position", "phone", "leader",
                   "min_members")
SCHEMA: dict = {
    **dict.fromkeys(("key", "title", "tab", "period", "deadline", "due_day",
                     "months_after", "rows",
                     "calendar", "reporters")),
    "fields": [{**dict.fromkeys(FIELD_SETTINGS), "aliases": FREE}],
    "rules": [dict.fromkeys(("key", "left", "op", "right", "level", "message", "fix",
                             "missing"))],
    "targets": [dict.fromkeys(("key", "label", "numerator", "threshold"))],
    "roster": dict.fromkeys(ROSTER_SETTINGS),
}


@dataclass(frozen=True)
class TemplatesCheck:
    """Every template of a folder checked: those that load, and each file's problems."""

    specs: tuple[ReportSpec, ...]
    files: tuple[FileProblems, ...]
    notes: tuple[str, ...]       # checks that wait for a broken template to load


def load_templates(folder: Path, only: str | None = None) -> list[ReportSpec]:
    """Every ``*.toml`` in ``folder``, checked; all problems reported at once."""
    check = check_templates(folder)
    if check.files:
        raise TemplateError.of_files(check.files, check.notes)
    return choose(check.specs, only, folder)


def choose(specs, only: str | None, folder: Path) -> list[ReportSpec]:
    """The templates in run order (daily, monthly, once; the communes' before the postal
    enterprises'), or the one ``--template`` names."""
    specs = sorted(specs, key=lambda s: (s.keyed, PERIODS.index(s.period), s.key))
    if only is None:
        return specs
    chosen = [s for s in specs if s.key == only]
    if not chosen:
        names = ", ".join(s.key for s in specs)
        raise TemplateError(f"không có mẫu báo cáo nào tên '{only}' trong {folder}; các mẫu "
                            f"hiện có: {names}"
                            + known.meant(only, [s.key for s in specs]))
    return chosen


def check_templates(folder: Path) -> TemplatesCheck:
    """Check every template; a broken one is reported once, in its own file.

    Checks between templates (a key or tab used twice, a monthly field totalling a daily
    one) run only among the templates that loaded: a template that failed is not reported
    again as a problem of the others, only named in a note on what waits for it.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.toml"))
    if not files:
        hint = ("thư mục không tồn tại; kiểm tra [paths] templates trong toolkit.toml"
                if not folder.is_dir() else
                "hãy thêm một mẫu (`toolkit init` ghi các mẫu có sẵn vào sheet_templates/)")
        return TemplatesCheck((), (FileProblems(folder, (
            f"không tìm thấy mẫu báo cáo nào (*.toml) — {hint}",), unreadable=True),), ())
    checked = [_check_template(path) for path in files]
    specs = [c.spec for c in checked if c.spec is not None]
    problems: dict[Path, list[str]] = {}
    for attribute in ("key", "tab"):
        seen: dict[str, Path] = {}
        for spec in specs:
            name = getattr(spec, attribute)
            if name in seen:
                problems.setdefault(spec.source, []).append(
                    f"{attribute} '{name}' cũng được dùng ở {seen[name]} — mỗi mẫu báo cáo "
                    f"cần {attribute} riêng")
            seen.setdefault(name, spec.source)
    broken = {c.declared: (c.path,) for c in checked if c.spec is None}
    # A file that is not TOML may declare any key: what names no template waits for it too.
    broken[""] = tuple(c.path for c in checked if c.problems and c.problems.unreadable)
    notes = _reconcile_problems(specs, broken, problems)
    groups = {c.path: c.problems for c in checked if c.problems is not None}
    groups |= {path: FileProblems(path, tuple(items)) for path, items in problems.items()}
    return TemplatesCheck(tuple(specs), tuple(groups[p] for p in files if p in groups),
                          tuple(notes))


def _reconcile_problems(specs: list[ReportSpec], broken: dict[str, tuple[Path, ...]],
                        problems: dict[Path, list[str]]) -> list[str]:
    """A monthly field that totals a daily one must name a daily template's number field.

    One pointing at a template that did not load waits for it: a note, not a problem.
    """
    by_key = {s.key: s for s in specs}
    waiting: dict[tuple[Path, tuple[Path, ...]], list[str]] = {}
    for spec in specs:
        for declared in spec.fields:
            if declared.reconciles_with is None:
                continue
            other_key, other_field = declared.reconciles_with.split(".")
            other = by_key.get(other_key)
            if other is None and (broken.get(other_key) or broken[""]):
                files = broken.get(other_key) or broken[""]
                waiting.setdefault((spec.source, files), []).append(
                    f"'{declared.reconciles_with}'")
                continue
            where = f"trường '{declared.key}' có reconciles_with '{declared.reconciles_with}'"
            numbers = [f.key for f in other.fields if f.numeric] if other else []
            if spec.keyed:      # an enterprise's figure set beside the commune's own
                if other and not other.keyed and other.period == spec.period \
                        and other_field in numbers:
                    continue
                problem = (f"{where}, nhưng mẫu của doanh nghiệp bưu chính chỉ đối chiếu được "
                           "với một trường số của mẫu báo cáo của xã cùng kỳ "
                           f"({spec.period}), ví dụ \"kts_daily.new_shops\"")
            elif spec.period != "monthly":
                problem = (f"{where}, nhưng chỉ mẫu báo cáo tháng mới cộng dồn được mẫu ngày; "
                           f"mẫu này là {spec.period} — xoá reconciles_with")
            elif other is None:
                close = known.close_names(other_key, by_key)
                problem = (f"{where}, nhưng không mẫu báo cáo nào có key '{other_key}'"
                           + (f" — {DID_YOU_MEAN} '{known.or_list(close)}'?" if close else
                              f"; các mẫu hiện có: {', '.join(by_key)}"))
            elif other.period != "daily":
                problem = (f"{where}, nhưng {other_key} là mẫu {other.period}; phải ghi một "
                           "trường của mẫu báo cáo ngày (daily)")
            elif other_field not in numbers:
                close = known.close_names(other_field, numbers)
                problem = (f"{where}, nhưng {other_key} không có trường số '{other_field}'"
                           + (f" — {DID_YOU_MEAN} '{other_key}.{known.or_list(close)}'?"
                              if close else f"; các trường số của mẫu: {', '.join(numbers)}"))
            else:
                continue
            problems.setdefault(spec.source, []).append(problem)
    return [f"{source.name}: reconciles_with {', '.join(names)} chỉ kiểm tra được khi "
            f"{known.and_list(f.name for f in files)} đọc được"
            for (source, files), names in waiting.items()]


@dataclass(frozen=True)
class _Checked:
    path: Path
    spec: ReportSpec | None
    problems: FileProblems | None
    declared: str        # the key it declares, or its file name: how others name it


def load_template(path: Path) -> ReportSpec:
    checked = _check_template(Path(path))
    if checked.problems is not None:
        raise TemplateError.of_files([checked.problems])
    return checked.spec


def _check_template(path: Path) -> _Checked:
    try:
        text = path.read_text(encoding="utf-8-sig")    # Notepad may start it with a BOM
    except UnicodeDecodeError as exc:
        return _Checked(path, None, FileProblems(
            path, (f"không phải TOML hợp lệ ({exc}); hãy sửa dòng được nêu",), unreadable=True),
            path.stem)
    return _checked_text(path, text)


@lru_cache(maxsize=64)
def _checked_text(path: Path, text: str) -> _Checked:
    """A template's check, a function of its path and text alone (and immutable): a process
    that opens the same province again (the scheduler's day, the tests) parses and checks each
    template once, not on every open."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _Checked(path, None, FileProblems(
            path, (f"không phải TOML hợp lệ ({exc}); hãy sửa dòng được nêu",), unreadable=True),
            path.stem)
    declared = data["key"] if isinstance(data.get("key"), str) else path.stem
    lines = Lines(text)
    problems = _nesting(data, lines)
    problems += [describe(u, SCHEMA, _named(data, u), first_heading=lines.first_heading)
                 for u in known.check_names(data, SCHEMA, lines)]
    named = len(problems)
    spec = _spec(path, data, problems)
    problems[named:] = [_with_line(p, lines) for p in problems[named:]]
    problems.sort(key=_line_of)
    if problems:
        return _Checked(path, None, FileProblems(path, tuple(problems)), declared)
    return _Checked(path, spec, None, declared)


def _nesting(data: dict, lines: Lines) -> list[str]:
    """[fields] for [[fields]] and [[roster]] for [roster]: said plainly, then read as meant."""
    problems = []
    for name in ("fields", "rules", "targets"):
        if isinstance(data.get(name), dict):
            at = f"dòng {lines.line((), name)}: " if lines.line((), name) else ""
            problems.append(f"{at}[{name}] phải là [[{name}]], với hai cặp ngoặc — mỗi mục "
                            f"nằm dưới tiêu đề [[{name}]] của riêng nó")
            data[name] = [data[name]]
    roster = data.get("roster")
    if isinstance(roster, list) and all(isinstance(r, dict) for r in roster):
        at = f"dòng {lines.line((), 'roster')}: " if lines.line((), "roster") else ""
        problems.append(f"{at}[[roster]] phải là [roster], với một cặp ngoặc — mỗi mẫu báo "
                        "cáo chỉ có một bảng roster")
        data["roster"] = roster[0] if roster else {}
    return problems


_SETTING = re.compile(r"^(?:đầu tệp|\[\[(\w+)\]\] #(\d+) \([^)]*\)|\[(roster)\]): (\w+)\b")


def _with_line(problem: str, lines: Lines) -> str:
    """"dòng 12: " before a problem with a setting's value, when the setting is in the file."""
    match = _SETTING.match(problem)
    if match is None:
        return problem
    table, index, roster, key = match.groups()
    where = ((table, int(index)),) if table else ((roster, None),) if roster else ()
    line = lines.line(where, key)
    return f"dòng {line}: {problem}" if line else problem


def _line_of(problem: str) -> int:
    """Sort key: problems of the whole file first, then by line."""
    match = re.match(r"dòng (\d+): ", problem)
    return int(match[1]) if match else 0


def _named(data: dict, unknown: Unknown) -> str:
    """How a problem names an unknown name: ``[[fields]] #2 (note): colour``, ``[colours]``."""
    label = _TOP
    if unknown.where:
        name, index = unknown.where[0]
        label = f"[{name}]"
        if index is not None:
            raw = data[name][index - 1]
            label = f"[[{name}]] #{index} ({raw.get('key', '?')})"
    if not unknown.table:
        return f"{label}: {unknown.key}"
    dotted = ".".join([*(n for n, _ in unknown.where), unknown.key])
    written = "[" * unknown.brackets + dotted + "]" * unknown.brackets
    return f"{label}: {written}" if label.startswith("[[") else written


def _spec(path: Path, data: dict, problems: list[str]) -> ReportSpec | None:
    """The ReportSpec of a template's data; every problem appended to ``problems``."""

    def need(table: dict, key: str, where: str, kind: type | tuple = str):
        value = table.get(key)
        if value is None:
            problems.append(f"{where}: thiếu '{key}'")
        elif not isinstance(value, kind):
            problems.append(f"{where}: '{key}' = {value!r} sai kiểu giá trị")
            return None
        return value

    key = need(data, "key", _TOP)
    title = need(data, "title", _TOP)
    tab = need(data, "tab", _TOP)
    if isinstance(tab, str) and (len(tab) > 31 or re.search(r"[\[\]:*?/\\]", tab)):
        problems.append(f"{_TOP}: tab '{tab}' phải dài tối đa 31 ký tự và không có []:*?/\\")
    period = need(data, "period", _TOP)
    if period is not None and period not in PERIODS:
        problems.append(f"{_TOP}: period '{period}' phải là một trong {', '.join(PERIODS)}"
                        + known.meant(period, PERIODS))
    deadline = _deadline(data, period, problems)
    tables = {name: _tables(data, name, problems) for name in ("fields", "rules", "targets")}
    fields = tuple(_field(raw, i, problems) for i, raw in tables["fields"])
    if not fields:
        problems.append("[[fields]]: mẫu báo cáo cần ít nhất một trường")
    numbers: dict[str, list[str]] = {}
    for (index, _), declared in zip(tables["fields"], fields, strict=True):
        numbers.setdefault(declared.key, []).append(f"#{index}")
    for dup, where in numbers.items():
        if len(where) > 1 and dup:
            problems.append(f"[[fields]]: key '{dup}' được khai báo {len(where)} lần "
                            f"({known.and_list(where)}) — mỗi trường cần key riêng")
    numeric = {f.key for f in fields if f.numeric}
    rules = tuple(_rule(raw, i, numeric, problems) for i, raw in tables["rules"])
    targets = tuple(_target(raw, i, numeric, problems) for i, raw in tables["targets"])
    free_rows = data.get("rows", 200 if period == "once" else 0)
    if isinstance(free_rows, bool) or not isinstance(free_rows, int) or free_rows < 0:
        problems.append(f"{_TOP}: rows {free_rows!r} phải là số nguyên ≥ 0 (số dòng trống "
                        "của trang danh sách)")
    roster = parse_roster(data["roster"], fields, problems) if "roster" in data else None
    calendar = data.get("calendar", "every_day")
    if not isinstance(calendar, str) or calendar not in CALENDARS:
        problems.append(f"{_TOP}: calendar {calendar!r} phải là một trong "
                        f"{', '.join(CALENDARS)}{known.meant(calendar, CALENDARS)}")
    elif calendar != "every_day" and period != "daily":
        problems.append(f"{_TOP}: calendar chỉ dùng cho báo cáo ngày (daily)")
    reporters = data.get("reporters", "communes")
    if not isinstance(reporters, str) or reporters not in REPORTERS:
        problems.append(f"{_TOP}: reporters {reporters!r} phải là một trong "
                        f"{', '.join(REPORTERS)}{known.meant(reporters, REPORTERS)}")
    elif reporters == "enterprises" and (period == "once" or rules or targets or roster):
        problems.append(f'{_TOP}: reporters = "enterprises" (doanh nghiệp bưu chính báo cáo '
                        "theo từng xã) cần một kỳ báo cáo (daily, monthly…, không phải once) "
                        "và không dùng [[rules]], [[targets]], [roster] — các quy tắc đó tính "
                        "theo xã")
    if problems:
        return None
    return ReportSpec(
        key=key, title=title, tab=tab, period=period, deadline=deadline, fields=fields,
        rules=rules, targets=targets, free_rows=free_rows, calendar=calendar,
        roster=roster, reporters=reporters, source=path,
    )


def _tables(data: dict, name: str, problems: list[str]) -> list[tuple[int, dict]]:
    """The numbered [[name]] tables; anything else is a problem, not a crash."""
    raw = data.get(name, [])
    items = raw if isinstance(raw, list) else [raw]
    good = []
    for index, item in enumerate(items, 1):
        if isinstance(item, dict):
            good.append((index, item))
        else:
            problems.append(f"[[{name}]] #{index}: phải là một bảng (tiêu đề [[{name}]] với các "
                            f"dòng key = value), không phải {item!r}")
    return good


def _deadline(data: dict, period: str | None, problems: list[str]) -> Deadline | None:
    raw = data.get("deadline")
    if period == "once":
        if not isinstance(raw, datetime):
            problems.append(f"{_TOP}: báo cáo 'once' cần deadline = 2026-12-15T17:00:00")
            return None
        return Deadline(period, raw.time(), once_due=raw)
    try:
        at = time.fromisoformat(raw) if isinstance(raw, str) else \
            raw if isinstance(raw, time) else None
    except ValueError:
        at = None
    if at is None:
        problems.append(f"{_TOP}: deadline {raw!r} phải là giờ trong ngày, ví dụ \"17:00\"")
        return None
    day = data.get("due_day")
    after = data.get("months_after", 0)
    if period in ("monthly", "quarterly", "yearly"):
        word = {"monthly": "tháng", "quarterly": "quý", "yearly": "năm"}[period]
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            problems.append(f"{_TOP}: due_day {day!r} phải là một ngày trong tháng (1-31); "
                            f"hạn là ngày đó của tháng cuối {word}, hoặc months_after tháng "
                            "sau đó")
            return None
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= 12:
            problems.append(f"{_TOP}: months_after {after!r} phải là số nguyên từ 0 đến 12: "
                            "số tháng sau tháng cuối của kỳ — 0 là chính tháng đó, 1 là tháng "
                            f"sau (\"ngày 5 tháng sau {word}\": due_day = 5, months_after = 1)")
            return None
    elif period == "daily" and ("months_after" in data or "due_day" in data):
        problems.append(f"{_TOP}: due_day và months_after chỉ dùng cho báo cáo tháng, quý, năm "
                        f"(period = \"{period}\") — xoá dòng này")
        return None
    return Deadline(period, at, day_of_month=day, months_after=after)


def _field(raw: dict, index: int, problems: list[str]) -> FieldSpec:
    where = f"[[fields]] #{index} ({raw.get('key', '?')})"
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        problems.append(f"{where}: type {kind!r} phải là một trong {', '.join(FIELD_TYPES)}"
                        + known.meant(kind, FIELD_TYPES))
    aggregate = raw.get("aggregate", "sum" if kind in ("int", "number") else "none")
    if not isinstance(aggregate, str) or aggregate not in AGGREGATES:
        problems.append(f"{where}: aggregate {aggregate!r} phải là một trong "
                        f"{', '.join(AGGREGATES)}{known.meant(aggregate, AGGREGATES)}")
    for flag in ("required", "private"):
        if not isinstance(raw.get(flag, False), bool):
            problems.append(f"{where}: {flag} = {raw[flag]!r} phải là true hoặc false "
                            "(không có ngoặc kép)")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(raw.get("key", ""))):
        problems.append(f"{where}: key phải viết thường, không dấu, nối bằng gạch dưới "
                        "(lower_case_with_underscores)")
    if not raw.get("header"):
        problems.append(f"{where}: thiếu 'header' (tiêu đề cột tiếng Việt)")
    choices = raw.get("choices", ())
    from_villages = choices == "villages"
    listed = isinstance(choices, list | tuple) and all(isinstance(c, str) for c in choices)
    if kind == "choice" and not from_villages and not (listed and choices):
        problems.append(f"{where}: trường choice cần choices = [\"...\"] hoặc \"villages\"")
    elif not from_villages and not listed:
        problems.append(f"{where}: choices = {choices!r} phải là danh sách chữ, ví dụ "
                        "[\"Có\", \"Không\"]")
    if not from_villages and not listed:
        choices = ()
    aliases = raw.get("aliases", {})
    if aliases and kind != "choice":
        problems.append(f"{where}: aliases là cách gọi khác của một lựa chọn; trường này là "
                        f"{kind}")
        aliases = {}
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        problems.append(f"{where}: aliases phải là bảng dạng \"cách gọi khác\" = \"lựa chọn\"")
        aliases = {}
    for alias, choice in aliases.items():
        if choice not in (choices if isinstance(choices, list) else ()):
            problems.append(f"{where}: alias {alias!r} trỏ tới {choice!r}, không nằm trong "
                            "choices")
    for bound in ("min", "max"):
        if bound in raw and not isinstance(raw[bound], int | float):
            problems.append(f"{where}: '{bound}' phải là một số")
    decimals = raw.get("decimals", 0 if kind == "int" else 2)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        problems.append(f"{where}: 'decimals' phải là số nguyên từ 0 đến 6")
        decimals = 2
    target = raw.get("reconciles_with")
    if target is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", str(target)):
        problems.append(f"{where}: reconciles_with phải có dạng \"mẫu.trường\", ví dụ "
                        "\"kts_daily.new_shops\"")
    return FieldSpec(
        key=str(raw.get("key", "")), header=str(raw.get("header", "")), type=str(kind),
        required=bool(raw.get("required", False)), min=raw.get("min"), max=raw.get("max"),
        choices=() if from_villages else tuple(choices or ()),
        choices_from_villages=from_villages, aliases=tuple(aliases.items()),
        aggregate=str(aggregate),
        private=bool(raw.get("private", False)),
        reconciles_with=str(target) if target is not None else None,
        decimals=0 if kind == "int" else decimals,
    )


def _rule(raw: dict, index: int, numeric: set[str], problems: list[str]) -> RuleSpec:
    where = f"[[rules]] #{index} ({raw.get('key', '?')})"
    for side in ("left", "right"):
        term = _TERM.match(str(raw.get(side, "")).strip())
        name = term and (term["cum"] or term["name"])
        if not term or (name and name not in numeric and name not in REGISTRY_NAMES):
            problems.append(
                f"{where}: {side} {raw.get(side)!r} phải là một trường số, cum(trường), "
                f"một số hoặc một trong {', '.join(REGISTRY_NAMES)}"
            )
    op = raw.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        hint = f" — {DID_YOU_MEAN} {op[::-1]}?" \
            if isinstance(op, str) and op[::-1] in OPERATORS else ""
        problems.append(f"{where}: op {op!r} phải là một trong {' '.join(OPERATORS)}{hint}")
    level = raw.get("level", "error")
    if not isinstance(level, str) or level not in LEVELS:
        problems.append(f"{where}: level phải là 'error' hoặc 'warning', không phải {level!r}"
                        + known.meant(level, LEVELS))
    if not raw.get("message"):
        problems.append(f"{where}: thiếu 'message' (lời nhắn tiếng Việt cho cán bộ xã)")
    missing = raw.get("missing", "skip_if_any")
    if not isinstance(missing, str) or missing not in MISSING_STRATEGIES:
        problems.append(f"{where}: missing phải là một trong {', '.join(MISSING_STRATEGIES)}, "
                        f"không phải {missing!r}{known.meant(missing, MISSING_STRATEGIES)}")
    return RuleSpec(
        key=str(raw.get("key", f"rule{index}")), left=str(raw.get("left", "")).strip(),
        op=str(raw.get("op")), right=str(raw.get("right", "")).strip(),
        level=str(raw.get("level", "error")), message=str(raw.get("message", "")),
        fix=str(raw.get("fix", "")), missing=str(raw.get("missing", "skip_if_any")),
    )


def _target(raw: dict, index: int, numeric: set[str], problems: list[str]) -> TargetSpec:
    where = f"[[targets]] #{index} ({raw.get('key', '?')})"
    numerator = raw.get("numerator")
    if not isinstance(numerator, str) or numerator not in numeric:
        problems.append(f"{where}: numerator phải là một trường số của mẫu này, "
                        f"không phải {numerator!r}" + known.meant(numerator, sorted(numeric)))
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
            or not 0 < threshold <= 1:
        problems.append(f"{where}: threshold phải là tỉ lệ trong khoảng 0 đến 1, ví dụ 0.5")
        threshold = 0.0
    return TargetSpec(
        key=str(raw.get("key", f"target{index}")), label=str(raw.get("label", raw.get("key"))),
        numerator=str(raw.get("numerator")), threshold=float(threshold or 0),
    )


def parse_roster(raw, fields: Iterable[FieldSpec], problems: list[str]) -> RosterSpec | None:
    """Check a ``[roster]`` table against the template's fields; problems are appended."""
    where = "[roster]"
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind not in ROSTER_KINDS:
        problems.append(f'{where}: kind {kind!r} phải là một trong {", ".join(ROSTER_KINDS)}'
                        + known.meant(kind, ROSTER_KINDS) + ' (viết [roster] rồi kind = "team")')
        return None
    declared = {f.key: f for f in fields}
    keys: dict[str, str] = {}
    for setting, (kinds, required, types) in _SETTINGS.items():
        key = raw.get(setting) if kind in kinds else None
        if key is None:
            if required and kind in kinds:
                problems.append(f"{where}: thiếu '{setting}' (key của trường {setting})")
        elif not isinstance(key, str) or key not in declared:
            problems.append(f"{where}: {setting} = {key!r} không phải một trường của mẫu này")
        elif declared[key].type not in types:
            problems.append(f"{where}: {setting} = {key!r} là trường {declared[key].type}; "
                            f"phải là {' hoặc '.join(types)}")
        else:
            keys[setting] = key
    allowed = {"kind", "leader", *(s for s, v in _SETTINGS.items() if kind in v[0])}
    allowed |= {"min_members"} if kind == "team" else set()
    if unknown := set(raw) - allowed:
        problems.append(f"{where}: {', '.join(sorted(unknown))} không phải thiết lập đã "
                        f'biết khi kind = "{kind}"')
    leader = raw.get("leader", _LEADERS[kind])
    role = declared.get(keys.get("role", ""))
    if not isinstance(leader, str) or (role and role.choices and leader not in role.choices):
        problems.append(f"{where}: leader {leader!r} phải là vai trò của "
                        f"{'tổ trưởng' if kind == 'team' else 'trưởng ban'}"
                        + (f", một trong {', '.join(role.choices)}" if role and role.choices
                           else ""))
    minimum = raw.get("min_members", 3)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        problems.append(f"{where}: min_members {minimum!r} phải là số nguyên ≥ 1")
    keys = {"name": "", "role": ""} | keys
    return RosterSpec(kind=kind, leader=str(leader), min_members=minimum, **keys)


def parse_term(term: str) -> tuple[str, str | float]:
    """A rule side as ('cum', field) | ('field', name) | ('registry', name) | ('number', x)."""
    match = _TERM.match(term)
    if match["cum"]:
        return "cum", match["cum"]
    if match["num"]:
        return "number", float(match["num"])
    name = match["name"]
    return ("registry", name) if name in REGISTRY_NAMES else ("field", name)
