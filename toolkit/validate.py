"""validate: rules from the templates → one tidy table of issues → each commune's Kiểm tra tab.

Every issue names the commune, report, period, tab and cell a person sees, the value typed, the
check, its level and a Vietnamese message with what to do. All issues are collected; nothing
stops at the first.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from toolkit.checks import issue
from toolkit.checks.outliers import outlier_issues
from toolkit.checks.reconcile import reconcile_issues
from toolkit.checks.rosters import roster_issues
from toolkit.errors import unexpected
from toolkit.feedback import banner_texts, write_feedback
from toolkit.fixes import fix_for
from toolkit.frames import has_problems, latest_rows, plain_numbers, positions, spec_versions
from toolkit.layout import a1, column_letter, display_period, period_keys, row_key
from toolkit.ledger import Problem
from toolkit.parse import format_vn_number, typed_text
from toolkit.periods import Status
from toolkit.postal import by_reporters
from toolkit.templates import ReportSpec, parse_term

#: The check of an issue that says a commune's data could not be checked (a bug met it).
FAILED = "failed"
ISSUE_COLUMNS = ["commune_code", "commune", "report", "period", "tab", "cell", "value", "check",
                 "level", "message", "fix"]
_OPS: dict[str, Callable] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                             ">": operator.gt, "==": operator.eq, "!=": operator.ne}
Progress = Callable[[str], None]
log = logging.getLogger("toolkit")


@dataclass(frozen=True)
class ValidateResult:
    issues: pd.DataFrame
    written: tuple[str, ...]     # communes whose Kiểm tra tab was rewritten
    unchanged: int
    #: (commune, why) whose workbook was open or edited: nothing written; the next run retries
    deferred: tuple[tuple[str, str], ...]
    failures: tuple[tuple[str, str], ...]
    # latest_rows and find_issues (before reconciling) of each report as of the same moment
    latest: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_report: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Communes whose checks or feedback failed (code → what to tell the province); the
    #: rollup names them.
    failed: dict[str, str] = field(default_factory=dict)


def find_issues(spec: ReportSpec, registry, versions: pd.DataFrame, day: date,
                as_of: datetime, campaign: tuple[date, date],
                rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """All issues of one report for periods up to the one containing ``day``.

    ``campaign`` (first and last day) bounds the periods a commune is expected to report.
    ``rows`` is ``latest_rows(versions, spec, as_of)`` when the caller already has it. Checks
    are column-wise: a national year is over a million rows, too many to visit one by one.
    A commune whose data makes a check fail (a bug) gets one issue of check ``failed`` that
    says so, and every other commune its findings: validate, the rollup and remind all see it.
    """
    if rows is None:
        rows = latest_rows(versions, spec, as_of)
    upto = spec.deadline.key_on(day)
    if spec.period != "once":
        periods, period_of = positions(rows, "period")
        wanted = ((periods <= upto) | (periods == "?"))[period_of]
        rows = rows if wanted.all() else rows[wanted]     # no copy of a whole national year
    return per_commune(spec, registry, upto, "kiểm tra số liệu", lambda reg, only: (
        _find_issues(spec, reg, only(versions), only(rows), day, as_of, campaign, upto)))


def _find_issues(spec: ReportSpec, registry, versions: pd.DataFrame, rows: pd.DataFrame,
                 day: date, as_of: datetime, campaign: tuple[date, date],
                 upto: str) -> pd.DataFrame:
    communes = registry.by_code()
    names = {code: commune.display_name for code, commune in communes.items()}
    return _issue_frame(
        _cell_issues(spec, rows, names), *_rules_issues(spec, rows, communes, names),
        outlier_issues(spec, rows, names, upto) + roster_issues(spec, registry, rows)
        + _blank_served_rows(spec, registry, rows, campaign, upto, names),
        _missing_periods(spec, registry, versions, rows, day, as_of, campaign))


def _blank_served_rows(spec: ReportSpec, registry, rows: pd.DataFrame,
                       campaign: tuple[date, date], upto: str,
                       names: dict[str, str]) -> list[dict]:
    """An enterprise's period partly typed while a commune it serves has no row at all that
    day (the province moved the commune to it and provision has not run since): an error
    naming the commune. A row that is there but blank carries its own problem, in its own
    cell, from the reading (``sheet_reading._blank_beside_typed``)."""
    if not spec.keyed or rows.empty:
        return []
    keys = set(period_keys(spec, *campaign))
    typed = rows[rows["period"] != "?"].groupby(["commune_code", "period"], observed=True,
                                                  sort=True)["row_key"].agg(frozenset)
    reporters = registry.by_code()
    found = []
    for (code, period), have in typed.items():
        if code not in reporters or period > upto or period not in keys:
            continue
        for name in reporters[code].villages:
            if row_key(period, name) not in have:
                found.append(_record(
                    spec, names, code, period, "", None, "required", "error",
                    f"Trang \"{spec.tab}\" chưa có dòng của {name} ngày "
                    f"{display_period(period)}.",
                    "Báo văn phòng tỉnh chạy lại provision để thêm dòng của xã này, rồi nhập "
                    "số liệu vào dòng đó (nếu không có, nhập 0)."))
    return found


def _issue_frame(*blocks: list[dict] | dict[str, np.ndarray]) -> pd.DataFrame:
    """One table of issues, block after block: records (a list of dicts), or columns (column
    → values), the form of the many issues made column-wise — a national year misses
    ~100,000 days, and a registry out of step with the sheets breaks a rule on as many rows."""
    blocks = tuple(block for block in blocks if _count(block))
    if all(isinstance(block, list) for block in blocks):
        records = [record for block in blocks for record in block]
        return pd.DataFrame.from_records(records, columns=ISSUE_COLUMNS) if records \
            else _no_issues().copy()
    # Each column read out of the records by a C-level itemgetter, not a Python generator.
    return pd.DataFrame({name: np.concatenate([
        block[name] if isinstance(block, dict) else np.fromiter(
            map(operator.itemgetter(name), block), dtype=object, count=len(block))
        for block in blocks]) for name in ISSUE_COLUMNS}, columns=ISSUE_COLUMNS)


def _count(block: list[dict] | dict[str, np.ndarray]) -> int:
    """How many issues a block of ``_issue_frame`` holds."""
    return len(block.get("commune_code", ())) if isinstance(block, dict) else len(block)


@functools.cache
def _no_issues() -> pd.DataFrame:
    """``_issue_frame([], {})``, built once: most reports of a small province have no issues
    on most sweeps, and ``from_records`` of nothing cost more than their checks. Callers get a
    copy, so none can change another's."""
    return pd.DataFrame.from_records([], columns=ISSUE_COLUMNS)


def per_commune(spec: ReportSpec, registry, period: str, doing: str,
                compute: Callable[[object, Callable], pd.DataFrame]) -> pd.DataFrame:
    """``compute(registry, only)`` for the whole province, column-wise and fast; if it raises,
    commune by commune, so one commune's data meeting a bug costs that commune only.

    ``only(frame)`` keeps a frame's rows of the registry passed. A commune that still fails
    gets one error of check ``failed`` for ``period``, saying what failed and where the
    details are.
    """
    try:
        return compute(registry, lambda frame: frame)
    except Exception:
        log.exception("%s: lỗi khi chạy cho cả tỉnh; chạy lại từng xã", doing)
    parts = [pd.DataFrame(columns=ISSUE_COLUMNS)]
    for commune in registry.communes:
        def only(frame: pd.DataFrame, code: str = commune.code) -> pd.DataFrame:
            return frame[(frame["commune_code"] == code).to_numpy()]

        try:
            parts.append(compute(replace(registry, communes=(commune,)), only))
        except Exception as exc:
            log.exception("%s: lỗi ở xã %s", doing, commune.code)
            parts.append(pd.DataFrame([issue(
                spec, commune.code, commune.display_name, period, "", "", FAILED, "error",
                unexpected(doing, exc), "Số liệu của xã chưa được kiểm tra ở lần chạy này.")],
                columns=ISSUE_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def _record(spec: ReportSpec, names: dict[str, str], code: str, period: str, cell: str,
            value, check: str, level: str, message: str, fix: str) -> dict:
    return issue(spec, code, names.get(code, code), period, cell,
                 value if isinstance(value, str) else typed_text(value), check, level, message,
                 fix)


def _cell_issues(spec: ReportSpec, rows: pd.DataFrame,
                 names: dict[str, str]) -> dict[str, np.ndarray]:
    """What reading the tab found (cells that could not be read, a formula, a period cell, a
    header, a column or rows outside the template), then required cells left empty; as
    columns (``ISSUE_COLUMNS`` → values), row by row, a row's problems before its empty cells.

    A stored problem names its own cell, level and fix when it has them (``ledger.Problem``);
    otherwise it is an error on the row's cell of its field. Rows that count for no period
    (period "?": a row whose period cell is wrong, the tab's own row) are not asked for their
    required fields, and a warning (a value read, with a remark) never stands for one.
    """
    if rows.empty:          # as the other checks: no rows, no cells (most reports, most days)
        return {}
    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    fields = {f.key: f for f in spec.fields}
    codes, periods = rows["commune_code"].to_numpy(), rows["period"].to_numpy()
    sheet_rows = rows["sheet_row"].to_numpy()
    problems = rows["problems"].to_numpy()
    # Each issue's row and order within the row, then its own columns: a national year
    # has tens of thousands, too many for a dict and a sort key each.
    at: list[np.ndarray] = [np.zeros(0, np.intp)]
    order: list[np.ndarray] = [np.zeros(0, np.intp)]
    said: dict[str, list[np.ndarray]] = {name: [] for name in _CELL_COLUMNS}
    found: list[tuple] = []                    # (row, order, cell, value, check, level, …)
    broken: dict[str, list[int]] = {}          # field → rows where it could not be read
    read: dict[int, list] = {}     # what each distinct problems mapping says, worked out once
    for i in np.flatnonzero(has_problems(problems)):
        if id(problems[i]) not in read:
            read[id(problems[i])] = [_read_problem(key, Problem.of(entry), fields)
                                     for key, entry in problems[i].items()]
        for n, (key, problem, value, check, fix) in enumerate(read[id(problems[i])]):
            if problem.is_error:
                broken.setdefault(key, []).append(i)
            found.append((i, n, problem.cell or a1(sheet_rows[i], columns.get(key, 1)), value,
                          check, problem.level, problem.message, fix))
    if found:
        at.append(np.array([f[0] for f in found], np.intp))
        order.append(np.array([f[1] for f in found], np.intp))
        for k, name in enumerate(_CELL_COLUMNS, start=2):
            said[name].append(_objects([f[k] for f in found]))
    counted = np.asarray(periods != "?", dtype=bool)
    for n, wanted in enumerate(spec.fields, start=len(columns) + 1):
        if not wanted.required:
            continue
        typed_badly = np.zeros(len(rows), bool)
        typed_badly[broken.get(wanted.key, [])] = True
        empty = np.flatnonzero(pd.isna(rows[wanted.key].array) & ~typed_badly & counted)
        if not len(empty):
            continue
        letter = column_letter(columns[wanted.key])
        at.append(empty)
        order.append(np.full(len(empty), n, np.intp))
        constant = {"value": typed_text(None), "check": "required", "level": "error",
                    "message": f"Chưa nhập \"{wanted.header}\".",
                    "fix": "Nhập số liệu vào ô này (nếu không có, nhập 0)." if wanted.numeric
                    else "Nhập nội dung vào ô này."}
        said["cell"].append(_objects([f"{letter}{row}" for row in sheet_rows[empty].tolist()]))
        for name, value in constant.items():
            said[name].append(_same(value, len(empty)))
    rows_at = np.concatenate(at)
    if not len(rows_at):
        return {}
    ranked = np.lexsort((np.concatenate(order), rows_at))    # by row, then within the row
    rows_at = rows_at[ranked]
    found_codes = codes[rows_at].tolist()
    return _issue_columns(spec, len(rows_at), {
        "commune_code": found_codes, "commune": [names.get(code, code) for code in found_codes],
        "period": periods[rows_at].tolist(),
        **{name: np.concatenate(parts)[ranked] for name, parts in said.items()}})


#: The columns of a cell issue that are its own, not its row's.
_CELL_COLUMNS = ("cell", "value", "check", "level", "message", "fix")


def _read_problem(key: str, problem: Problem, fields: dict) -> tuple:
    """A stored problem's key, itself, the value shown, its check and its fix."""
    check = problem.check or ("period" if key == "_period" else "format")
    fix = problem.fix or (fix_for(fields[key], problem.raw) if key in fields
                          else "Sửa lại ô này theo hướng dẫn ở trang Hướng dẫn.")
    value = problem.raw if isinstance(problem.raw, str) else typed_text(problem.raw)
    return key, problem, value, check, fix


@dataclass(frozen=True)
class _InOrder:
    """The rows by commune, period and sheet row: the order a rule's cumulative sums run
    down each commune's rows in. Sorted once for all the rules of a report."""

    order: np.ndarray           # row positions in that order
    codes: np.ndarray           # the distinct commune codes
    commune: np.ndarray         # each ordered row's position in ``codes``

    @classmethod
    def of(cls, rows: pd.DataFrame) -> _InOrder:
        codes, commune_of = positions(rows, "commune_code")
        _, period_of = positions(rows, "period")
        order = np.lexsort((rows["sheet_row"].to_numpy(), period_of, commune_of))
        return cls(order, codes, commune_of[order])

    def cumsum(self, values: pd.Series) -> pd.Series:
        """Running totals of ``values`` (in this order) within each commune."""
        group = pd.Categorical.from_codes(self.commune, categories=np.arange(len(self.codes)))
        return values.groupby(group, observed=True).cumsum()


def _rules_issues(spec: ReportSpec, rows: pd.DataFrame, communes,
                  names: dict[str, str]) -> list[dict[str, np.ndarray]]:
    """Every rule's issues (``_rule_issues``), the rows put in order once for all of them
    and let go before the other checks: on a national year that order is 17 MB."""
    ordered = _InOrder.of(rows) if spec.rules and not rows.empty else None
    return [_rule_issues(rule, spec, rows, ordered, communes, names) for rule in spec.rules]


def _rule_issues(rule, spec: ReportSpec, rows: pd.DataFrame, ordered: _InOrder | None,
                 communes, names: dict[str, str]) -> dict[str, np.ndarray]:
    """The rows breaking ``rule``, as columns (``ISSUE_COLUMNS`` → values), each message
    filled into one pattern: a registry out of step with the sheets breaks a rule on a
    hundred thousand rows of a national year, where a dict and the sides' words worked out
    for each took most of finding the issues."""
    broken = _violations(rule, spec, rows, ordered, communes)
    if broken is None or not broken[0]:
        return {}
    codes, periods, sheet_rows, lefts, rights = broken
    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    kind, name = parse_term(rule.left)
    column = column_letter(columns.get(name, spec.first_field_column)
                           if kind in ("field", "cum") else 1)
    values = [_fmt(left) for left in lefts]
    message = _message_pattern(spec, rule)
    messages = [message.format(left, _fmt(right)) for left, right in zip(values, rights,
                                                                         strict=True)]
    return _issue_columns(spec, len(codes), {
        "commune_code": codes, "commune": [names.get(code, code) for code in codes],
        "period": periods, "cell": [f"{column}{row}" for row in sheet_rows], "value": values,
        "message": messages}, check=f"rule:{rule.key}", level=rule.level, fix=rule.fix)


def _issue_columns(spec: ReportSpec, count: int, varying: dict, **same: str,
                   ) -> dict[str, np.ndarray]:
    """``count`` issues as columns (``ISSUE_COLUMNS`` → values): those of ``varying`` (column
    → values), and every other one value for all — ``same``'s, else the report's and tab's
    as ``checks.issue`` gives them (or "")."""
    fixed = issue(spec, "", "", "", "", "", "", "", "", "") | same
    return {name: _objects(varying[name]) if name in varying else _same(fixed[name], count)
            for name in ISSUE_COLUMNS}


def _objects(values) -> np.ndarray:
    """``values`` as a one-dimensional object array (never a 2-D one of their characters)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


#: A rule side naming the registry, as a commune officer knows it.
_REGISTRY_WORDS = {"households": "Số hộ gia đình", "villages": "Số thôn/bản"}


def _message_pattern(spec: ReportSpec, rule) -> str:
    """The rule's message with its sides in the words of the sheet, to be filled with the
    left side's value ({0}) and the right's ({1}): "… (Số cửa hàng (lũy kế) = {0}, Số hộ gia
    đình = {1})" — never the template's keys, which a commune never sees; a constant side is
    left out."""
    headers = {f.key: f.header for f in spec.fields}
    words = []
    for side, term in enumerate((rule.left, rule.right)):
        kind, name = parse_term(term)
        if kind == "number":
            continue
        said = {"cum": f"{headers.get(name, name)} (lũy kế)", "field": headers.get(name, name),
                "registry": _REGISTRY_WORDS.get(name, name)}[kind]
        words.append(f"{_braced(said)} = {{{side}}}")
    return f"{_braced(rule.message)} ({', '.join(words)})"


def _braced(text: str) -> str:
    """``text`` as it stands inside a str.format pattern."""
    return text.replace("{", "{{").replace("}", "}}")


def _violations(rule, spec: ReportSpec, rows: pd.DataFrame, ordered: _InOrder | None,
                communes):
    """Rows breaking ``left op right``, in ``ordered``'s order, as five lists (commune,
    period, sheet row, the two sides); None where there are no rows."""
    if rows.empty or ordered is None:
        return None
    order = ordered.order

    def side(term: str) -> pd.Series:
        kind, name = parse_term(term)
        if kind == "number":
            return pd.Series(name, index=range(len(order)), dtype=float)
        if kind in ("field", "cum"):
            values = pd.Series(rows[name].array.take(order))
            if kind == "field":
                return values.astype(float)
            return ordered.cumsum(values) if name in spec.sum_keys else values
        known = [None if code not in communes else communes[code].households
                 if name == "households" else len(communes[code].villages)
                 for code in ordered.codes]
        return pd.Series(np.array(known, dtype=float)[ordered.commune])

    left, right = side(rule.left), side(rule.right)
    broken = _broken(rule, left, right)
    picked = order[broken]
    return (rows["commune_code"].array.take(picked).tolist(),
            rows["period"].array.take(picked).tolist(),
            rows["sheet_row"].to_numpy()[picked].tolist(),
            _picked(left, broken), _picked(right, broken))


def _broken(rule, left: pd.Series, right: pd.Series) -> np.ndarray:
    """Which rows break ``left op right`` among those ``rule.missing`` judges, a side that
    is missing counting as 0.

    Sides of numbers (nearly always) are compared by numpy, as pandas compares them, without
    the eight Series each step made; any other side by pandas (``_broken_by_pandas``). A
    hypothesis test holds the two to the same answers.
    """
    if not (plain_numbers(left) and plain_numbers(right)):
        return _broken_by_pandas(rule, left, right)
    left, right = left.to_numpy(), right.to_numpy()
    left_missing, right_missing = np.isnan(left), np.isnan(right)
    if rule.missing == "skip_if_any":
        judged = ~left_missing & ~right_missing
    elif rule.missing == "skip_if_all":
        judged = ~left_missing | ~right_missing
    else:
        judged = np.ones(len(left), dtype=bool)
    held = _OPS[rule.op](np.where(left_missing, 0, left) if left_missing.any() else left,
                         np.where(right_missing, 0, right) if right_missing.any() else right)
    return judged & ~held


def _broken_by_pandas(rule, left: pd.Series, right: pd.Series) -> np.ndarray:
    if rule.missing == "skip_if_any":
        judged = left.notna() & right.notna()
    elif rule.missing == "skip_if_all":
        judged = left.notna() | right.notna()
    else:
        judged = pd.Series(True, index=left.index)
    return (judged & ~_OPS[rule.op](left.fillna(0), right.fillna(0))).to_numpy()


def _picked(side: pd.Series, broken: np.ndarray) -> list:
    """``list(side[broken])``: for numbers, the same Python numbers without a Series filter."""
    if isinstance(side.dtype, np.dtype) and side.dtype.kind in "biuf":
        return side.to_numpy()[broken].tolist()
    return list(side[broken])


def _missing_periods(spec: ReportSpec, registry, versions: pd.DataFrame, rows: pd.DataFrame,
                     day: date, as_of: datetime,
                     campaign: tuple[date, date]) -> dict[str, np.ndarray]:
    """An error for every (commune, due period) whose status is missing by the commune's
    own deadline (no grace): nothing in the sheet now, and nothing complete at the deadline
    or since. The issues come as columns (``ISSUE_COLUMNS`` → values), commune by commune.

    An anti-join of the due periods against the rows that hold anything, then the timeliness
    rules for the few pairs left that have history: a period reported on time and cleared
    afterwards is amended, not missing. A period received but incomplete is named cell by
    cell (required fields left empty)."""
    if spec.period == "once":
        due = [] if spec.deadline.for_key("once") > as_of else ["once"]
    else:
        upto = spec.deadline.key_on(day)
        keys = period_keys(spec, *campaign)
        due = [k for k in keys if k <= upto and spec.deadline.for_key(k) <= as_of]
    if not due or not registry.communes:
        return {}
    codes = [c.code for c in registry.communes]
    commune_index, period_index = pd.Index(dict.fromkeys(codes)), pd.Index(due)
    commune_of, period_of = _cells(rows, commune_index, period_index)
    found = (commune_of >= 0) & (period_of >= 0)
    have = np.zeros((len(commune_index), len(due)), bool)
    have[commune_of[found], period_of[found]] = True
    have |= _reported(spec, versions, commune_index, period_index, have, as_of)
    have = have[commune_index.get_indexer(codes)]
    if registry.has_phases:     # a commune whose phase has not begun owes nothing yet
        from toolkit.status import expected_grid

        have |= ~expected_grid(spec, registry.communes, due, campaign)
    at, k = np.nonzero(~have)
    messages = []
    for key in due:
        what = "danh sách" if key == "once" else f"kỳ {display_period(key)}"
        messages.append(f"Chưa báo cáo {what} (hạn "
                        f"{spec.deadline.for_key(key):%H:%M %d/%m/%Y}).")
    where = "các dòng của danh sách" if spec.period == "once" else "dòng của kỳ này"
    fix = f"Nhập số liệu vào {where} trong trang \"{spec.tab}\" ngay."
    names = np.array([c.display_name for c in registry.communes], dtype=object)
    columns = {"commune_code": np.array(codes, dtype=object)[at], "commune": names[at],
               "period": np.array(due, dtype=object)[k],
               "message": np.array(messages, dtype=object)[k]}
    return _issue_columns(spec, len(at), columns, check="missing", level="error", fix=fix)


def _same(value, count: int) -> np.ndarray:
    """``count`` references to the one ``value``. ``np.full`` would make a new str per
    element: a national year's 100,000 missing days held 50 MB of copies of five texts."""
    column = np.empty(count, dtype=object)
    column.fill(value)
    return column


def _cells(frame: pd.DataFrame, communes: pd.Index,
           periods: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Each row's positions in ``communes`` and ``periods`` (-1 for neither): the few
    distinct values are matched as text, the rows by their positions among them."""
    from toolkit.status import key_positions

    names, of = positions(frame, "commune_code")
    commune_of = key_positions(names.tolist(), communes.tolist())[of]
    names, of = positions(frame, "period")
    return commune_of, key_positions(names.tolist(), periods.tolist())[of]


def _reported(spec: ReportSpec, versions: pd.DataFrame, communes: pd.Index, periods: pd.Index,
              received: np.ndarray, as_of: datetime) -> np.ndarray:
    """Of the (commune, period) pairs with nothing in the sheet now (``~received``, a commune
    × period grid), those not missing by the deadline's rules — reported, cleared since."""
    from toolkit.status import timeliness_table

    commune_of, period_of = _cells(versions, communes, periods)
    known = (commune_of >= 0) & (period_of >= 0)
    known[known] = ~received[commune_of[known], period_of[known]]
    reported = np.zeros_like(received)
    if not known.any():
        return reported
    history = versions[known]
    table = timeliness_table(spec, history, sorted(set(history["period"])), as_of=as_of,
                             grace=timedelta(0))
    table = table[table["status"] != Status.MISSING.value]
    reported[communes.get_indexer(table["commune_code"]),
             periods.get_indexer(table["period"])] = True
    return reported


def _fmt(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return format_vn_number(value)


def validate(specs: list[ReportSpec], registry, store, ledger, *, day: date, now: datetime,
             campaign: tuple[date, date], progress: Progress | None = None,
             versions: dict[str, pd.DataFrame] | None = None) -> ValidateResult:
    """Find every issue and write each commune's (and postal enterprise's) Kiểm tra tab:
    the communes checked for the commune templates, the enterprises for theirs."""
    results = [_validate(chosen, who, store, ledger, day=day, now=now, campaign=campaign,
                         progress=progress, versions=versions)
               for who, chosen in by_reporters(registry, specs)]
    if len(results) == 1:
        return results[0]
    return ValidateResult(
        pd.concat([r.issues for r in results], ignore_index=True),
        sum((r.written for r in results), ()), sum(r.unchanged for r in results),
        sum((r.deferred for r in results), ()), sum((r.failures for r in results), ()),
        {k: v for r in results for k, v in r.latest.items()},
        {k: v for r in results for k, v in r.by_report.items()},
        failed={k: v for r in results for k, v in r.failed.items()})


def _validate(specs: list[ReportSpec], registry, store, ledger, *, day: date, now: datetime,
              campaign: tuple[date, date], progress: Progress | None = None,
              versions: dict[str, pd.DataFrame] | None = None) -> ValidateResult:
    """Find every issue of one kind of reporter and write each one's Kiểm tra tab.

    ``versions`` (report key → ``frames.spec_versions``) saves reading the ledger again when
    the caller has just read it. A commune whose checks fail (a bug meeting its data) or whose
    Kiểm tra tab cannot be written is named in the failures; the others are checked and
    written.

    The versions are the ledger's as they are, never mapped through the province's table of
    merged communes (``Workspace.report_versions``): what is found here goes onto each
    commune's own workbook, and an old commune's rows are not the new commune's to correct.
    """
    if versions is None:
        versions = {s.key: spec_versions(ledger, s) for s in specs}
    latest = {s.key: latest_rows(versions[s.key], s, now) for s in specs}
    by_report = {s.key: find_issues(s, registry, versions[s.key], day, now, campaign,
                                    rows=latest[s.key]) for s in specs}
    names = {c.code: c.display_name for c in registry.communes}
    frames = list(by_report.values())
    if specs:
        frames.append(per_commune(specs[0], registry, specs[0].deadline.key_on(day),
                                  "đối chiếu báo cáo tháng", lambda reg, only: (
            _issue_frame(reconcile_issues(
                specs, {k: only(v) for k, v in latest.items()}, names, day)))))
    issues = pd.concat(frames, ignore_index=True)
    # Picked on the arrays: a filtered frame of the issues cost more than the rest of this.
    broken = np.flatnonzero(np.asarray(issues["check"].to_numpy(), dtype=object) == FAILED)
    failed = dict(zip(issues["commune_code"].to_numpy()[broken].tolist(),
                      issues["message"].to_numpy()[broken].tolist(), strict=True))
    banners = banner_texts(specs, registry, versions, issues, day=day, now=now,
                           campaign=campaign)
    checked = replace(registry, communes=tuple(c for c in registry.communes
                                               if c.code not in failed))
    written, unchanged, deferred, unwritten = write_feedback(
        issues, banners, checked, store, ledger, now=now, progress=progress,
        report_tabs=tuple(s.tab for s in specs))
    failed.update(unwritten)
    failures = [(names[code], message) for code, message in failed.items()]
    return ValidateResult(issues, tuple(written), unchanged, tuple(deferred), tuple(failures),
                          latest, by_report, failed=failed)
