"""sheet_templates/*.toml → ReportSpec: a report is declared in a file, never in code.

Every template is checked completely; a malformed one fails with the file, the key and the
problem, so a province officer who adds a report can fix it without reading Python.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from toolkit.checks.rosters import RosterSpec, parse_roster
from toolkit.errors import TemplateError
from toolkit.periods import CALENDARS, Deadline

PERIODS = ("daily", "monthly", "once")
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
PERIOD_HEADERS = {"daily": "Ngày", "monthly": "Tháng"}


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
    source: Path | None = field(default=None, compare=False)

    @property
    def period_header(self) -> str | None:
        """Header of the pre-filled period column (Ngày/Tháng); rosters have none."""
        return PERIOD_HEADERS.get(self.period)

    @property
    def headers(self) -> list[str]:
        lead = [self.period_header] if self.period_header else []
        return lead + [f.header for f in self.fields]

    @property
    def first_field_column(self) -> int:
        """1-based sheet column of the first field."""
        return 2 if self.period_header else 1

    def field_spec(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)

    @property
    def required_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.required]

    @property
    def sum_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.numeric and f.aggregate == "sum"]


def load_templates(folder: Path, only: str | None = None) -> list[ReportSpec]:
    """Every ``*.toml`` in ``folder``, checked; all problems reported at once."""
    files = sorted(Path(folder).glob("*.toml"))
    if not files:
        raise TemplateError(f"{folder}: no report templates (*.toml) found")
    specs: list[ReportSpec] = []
    problems: list[str] = []
    for path in files:
        try:
            specs.append(load_template(path))
        except TemplateError as exc:
            problems.append(str(exc))
    for attribute in ("key", "tab"):
        seen: dict[str, Path] = {}
        for spec in specs:
            name = getattr(spec, attribute)
            if name in seen:
                problems.append(f"{spec.source}: {attribute} '{name}' is also used by {seen[name]}")
            seen[name] = spec.source
    problems += _reconcile_problems(specs)
    if problems:
        raise TemplateError("\n".join(problems))
    specs.sort(key=lambda s: (PERIODS.index(s.period), s.key))
    if only is not None:
        chosen = [s for s in specs if s.key == only]
        if not chosen:
            names = ", ".join(s.key for s in specs)
            raise TemplateError(f"no template named '{only}' in {folder}; available: {names}")
        return chosen
    return specs


def _reconcile_problems(specs: list[ReportSpec]) -> list[str]:
    """A monthly field that totals a daily one must name a daily template's number field."""
    by_key = {s.key: s for s in specs}
    problems = []
    for spec in specs:
        for declared in spec.fields:
            if declared.reconciles_with is None:
                continue
            other_key, other_field = declared.reconciles_with.split(".")
            other = by_key.get(other_key)
            numbers = {f.key for f in other.fields if f.numeric} if other else set()
            if spec.period != "monthly" or other is None or other.period != "daily" \
                    or other_field not in numbers:
                problems.append(f"{spec.source}: field '{declared.key}' reconciles_with "
                                f"'{declared.reconciles_with}', which should be a number field "
                                "of a daily template (and this template monthly)")
    return problems


def load_template(path: Path) -> ReportSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: not valid TOML ({exc})") from exc
    problems: list[str] = []

    def need(table: dict, key: str, where: str, kind: type | tuple = str):
        value = table.get(key)
        if value is None:
            problems.append(f"{where}: '{key}' is missing")
        elif not isinstance(value, kind):
            problems.append(f"{where}: '{key}' = {value!r} has the wrong type")
            return None
        return value

    key = need(data, "key", "top level")
    title = need(data, "title", "top level")
    tab = need(data, "tab", "top level")
    if isinstance(tab, str) and (len(tab) > 31 or re.search(r"[\[\]:*?/\\]", tab)):
        problems.append(f"top level: tab '{tab}' must be ≤ 31 characters without []:*?/\\")
    period = need(data, "period", "top level")
    if period is not None and period not in PERIODS:
        problems.append(f"top level: period '{period}' should be one of {', '.join(PERIODS)}")
    deadline = _deadline(data, period, problems)
    tables = {name: _tables(data, name, problems) for name in ("fields", "rules", "targets")}
    fields = tuple(_field(raw, i, problems) for i, raw in tables["fields"])
    if not fields:
        problems.append("[[fields]]: a template needs at least one field")
    keys = [f.key for f in fields]
    for dup in {k for k in keys if keys.count(k) > 1}:
        problems.append(f"[[fields]]: key '{dup}' is declared twice")
    numeric = {f.key for f in fields if f.numeric}
    rules = tuple(_rule(raw, i, numeric, problems) for i, raw in tables["rules"])
    targets = tuple(_target(raw, i, numeric, problems) for i, raw in tables["targets"])
    free_rows = data.get("rows", 200 if period == "once" else 0)
    roster = parse_roster(data["roster"], fields, problems) if "roster" in data else None
    calendar = data.get("calendar", "every_day")
    if calendar not in CALENDARS:
        problems.append(f"top level: calendar {calendar!r} should be one of {', '.join(CALENDARS)}")
    elif calendar != "every_day" and period != "daily":
        problems.append("top level: calendar applies to daily reports only")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise TemplateError(f"{path}: {len(problems)} problem(s):\n{listing}")
    return ReportSpec(
        key=key, title=title, tab=tab, period=period, deadline=deadline, fields=fields,
        rules=rules, targets=targets, free_rows=free_rows, calendar=calendar,
        roster=roster, source=path,
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
            problems.append(f"[[{name}]] #{index}: should be a table ([[{name}]] heading with "
                            f"key = value lines), not {item!r}")
    return good


def _deadline(data: dict, period: str | None, problems: list[str]) -> Deadline | None:
    raw = data.get("deadline")
    if period == "once":
        if not isinstance(raw, datetime):
            problems.append("top level: a 'once' report needs deadline = 2026-12-15T17:00:00")
            return None
        return Deadline(period, raw.time(), once_due=raw)
    try:
        at = time.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if at is None:
        problems.append(f"top level: deadline {raw!r} should be a time of day like \"17:00\"")
        return None
    day = data.get("due_day")
    if period == "monthly" and not (isinstance(day, int) and 1 <= day <= 31):
        problems.append(f"top level: due_day {day!r} should be a day of the month (1-31)")
        return None
    return Deadline(period, at, day_of_month=day)


def _field(raw: dict, index: int, problems: list[str]) -> FieldSpec:
    where = f"[[fields]] #{index} ({raw.get('key', '?')})"
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        problems.append(f"{where}: type {kind!r} should be one of {', '.join(FIELD_TYPES)}")
    aggregate = raw.get("aggregate", "sum" if kind in ("int", "number") else "none")
    if aggregate not in AGGREGATES:
        problems.append(
            f"{where}: aggregate {aggregate!r} should be one of {', '.join(AGGREGATES)}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(raw.get("key", ""))):
        problems.append(f"{where}: key should be lower_case_with_underscores")
    if not raw.get("header"):
        problems.append(f"{where}: 'header' (the Vietnamese column title) is missing")
    choices = raw.get("choices", ())
    from_villages = choices == "villages"
    if kind == "choice" and not from_villages and not (
        isinstance(choices, list) and choices and all(isinstance(c, str) for c in choices)
    ):
        problems.append(f"{where}: a choice field needs choices = [\"...\"] or \"villages\"")
    aliases = raw.get("aliases", {})
    if aliases and kind != "choice":
        problems.append(f"{where}: aliases are other words for a choice; this field is {kind}")
        aliases = {}
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        problems.append(f"{where}: aliases should be a table of \"other word\" = \"choice\"")
        aliases = {}
    for alias, choice in aliases.items():
        if choice not in (choices if isinstance(choices, list) else ()):
            problems.append(f"{where}: alias {alias!r} points to {choice!r}, which is not one "
                            "of the choices")
    for bound in ("min", "max"):
        if bound in raw and not isinstance(raw[bound], int | float):
            problems.append(f"{where}: '{bound}' should be a number")
    decimals = raw.get("decimals", 0 if kind == "int" else 2)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        problems.append(f"{where}: 'decimals' should be a whole number from 0 to 6")
        decimals = 2
    unknown = set(raw) - {"key", "header", "type", "required", "min", "max", "choices",
                          "aliases", "aggregate", "private", "reconciles_with", "decimals"}
    target = raw.get("reconciles_with")
    if target is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", str(target)):
        problems.append(f"{where}: reconciles_with should be \"template.field\", e.g. "
                        "\"kts_daily.new_shops\"")
    if unknown:
        problems.append(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
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
                f"{where}: {side} {raw.get(side)!r} should be a number field, cum(field), "
                f"a number or one of {', '.join(REGISTRY_NAMES)}"
            )
    if raw.get("op") not in OPERATORS:
        problems.append(f"{where}: op {raw.get('op')!r} should be one of {' '.join(OPERATORS)}")
    if raw.get("level", "error") not in LEVELS:
        problems.append(f"{where}: level should be 'error' or 'warning'")
    if not raw.get("message"):
        problems.append(f"{where}: 'message' (Vietnamese text for commune staff) is missing")
    if raw.get("missing", "skip_if_any") not in MISSING_STRATEGIES:
        problems.append(f"{where}: missing should be one of {', '.join(MISSING_STRATEGIES)}")
    return RuleSpec(
        key=str(raw.get("key", f"rule{index}")), left=str(raw.get("left", "")).strip(),
        op=str(raw.get("op")), right=str(raw.get("right", "")).strip(),
        level=str(raw.get("level", "error")), message=str(raw.get("message", "")),
        fix=str(raw.get("fix", "")), missing=str(raw.get("missing", "skip_if_any")),
    )


def _target(raw: dict, index: int, numeric: set[str], problems: list[str]) -> TargetSpec:
    where = f"[[targets]] #{index} ({raw.get('key', '?')})"
    if raw.get("numerator") not in numeric:
        problems.append(f"{where}: numerator should name a number field")
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
            or not 0 < threshold <= 1:
        problems.append(f"{where}: threshold should be a share between 0 and 1, e.g. 0.5")
        threshold = 0.0
    return TargetSpec(
        key=str(raw.get("key", f"target{index}")), label=str(raw.get("label", raw.get("key"))),
        numerator=str(raw.get("numerator")), threshold=float(threshold or 0),
    )


def parse_term(term: str) -> tuple[str, str | float]:
    """A rule side as ('cum', field) | ('field', name) | ('registry', name) | ('number', x)."""
    match = _TERM.match(term)
    if match["cum"]:
        return "cum", match["cum"]
    if match["num"]:
        return "number", float(match["num"])
    name = match["name"]
    return ("registry", name) if name in REGISTRY_NAMES else ("field", name)
