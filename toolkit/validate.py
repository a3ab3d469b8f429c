"""validate: rules from the templates → one tidy table of issues → each commune's Kiểm tra tab.

Every issue names the commune, report, period, tab and cell a person sees, the value typed, the
check, its level and a Vietnamese message with what to do. All issues are collected; nothing
stops at the first.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from toolkit.checks.outliers import outlier_issues
from toolkit.checks.reconcile import reconcile_issues
from toolkit.checks.rosters import roster_issues
from toolkit.feedback import banner_texts, write_feedback
from toolkit.frames import latest_rows
from toolkit.layout import a1, display_period, period_keys
from toolkit.periods import key_for
from toolkit.templates import ReportSpec, parse_term

ISSUE_COLUMNS = ["commune_code", "commune", "report", "period", "tab", "cell", "value", "check",
                 "level", "message", "fix"]
_OPS: dict[str, Callable] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                             ">": operator.gt, "==": operator.eq, "!=": operator.ne}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ValidateResult:
    issues: pd.DataFrame
    written: tuple[str, ...]     # communes whose Kiểm tra tab was rewritten
    unchanged: int
    deferred: tuple[str, ...]    # changed since read; written on the next run
    failures: tuple[tuple[str, str], ...]


def find_issues(spec: ReportSpec, registry, versions: pd.DataFrame, day: date,
                as_of: datetime, campaign: tuple[date, date]) -> pd.DataFrame:
    """All issues of one report for periods up to the one containing ``day``.

    ``campaign`` (first and last day) bounds the periods a commune is expected to report.
    """
    communes = registry.by_code()
    rows = latest_rows(versions, spec, as_of)
    upto = key_for(spec.period, day)
    if spec.period != "once":
        rows = rows[(rows["period"] <= upto) | (rows["period"] == "?")]
    issues: list[dict] = []

    def add(row, column: int, value, check: str, level: str, message: str, fix: str) -> None:
        commune = communes.get(row.commune_code)
        issues.append({
            "commune_code": row.commune_code,
            "commune": commune.display_name if commune else row.commune_code,
            "report": spec.key, "period": row.period, "tab": spec.tab,
            "cell": a1(row.sheet_row, column), "value": "" if value is None else str(value),
            "check": check, "level": level, "message": message, "fix": fix,
        })

    columns = {f.key: spec.first_field_column + i for i, f in enumerate(spec.fields)}
    for row in rows.itertuples():
        for key, (raw, message) in row.problems.items():
            column = columns.get(key, 1)
            add(row, column, raw, "format" if key != "_period" else "period", "error", message,
                "Sửa lại ô này theo hướng dẫn ở trang Hướng dẫn.")
        for field in spec.fields:
            empty = pd.isna(getattr(row, field.key))
            if field.required and field.key not in row.problems and empty:
                fix = ("Nhập số liệu vào ô này (nếu không có, nhập 0)." if field.numeric
                       else "Nhập nội dung vào ô này.")
                add(row, columns[field.key], None, "required", "error",
                    f"Chưa nhập \"{field.header}\".", fix)
    for rule in spec.rules:
        for row, left, right in _violations(rule, spec, rows, communes):
            kind, name = parse_term(rule.left)
            column = columns.get(name, spec.first_field_column) if kind in ("field", "cum") else 1
            add(row, column, _fmt(left), f"rule:{rule.key}", rule.level,
                f"{rule.message} ({rule.left} = {_fmt(left)}, {rule.right} = {_fmt(right)})",
                rule.fix)
    names = {code: commune.display_name for code, commune in communes.items()}
    issues += outlier_issues(spec, rows, names, upto)
    issues += roster_issues(spec, registry, rows)
    issues += _missing_periods(spec, registry, rows, day, as_of, campaign)
    return pd.DataFrame.from_records(issues, columns=ISSUE_COLUMNS)


def _violations(rule, spec: ReportSpec, rows: pd.DataFrame, communes):
    """Rows breaking ``left op right``; a side that cannot be computed skips the row."""
    if rows.empty:
        return
    ordered = rows.sort_values(["commune_code", "period", "sheet_row"])
    cums = {f: ordered.groupby("commune_code")[f].cumsum() for f in spec.sum_keys}

    def side(term: str) -> pd.Series:
        kind, name = parse_term(term)
        if kind == "number":
            return pd.Series(name, index=ordered.index, dtype=float)
        if kind == "cum":
            return cums[name] if name in cums else ordered[name]
        if kind == "field":
            return ordered[name].astype(float)
        getter = (lambda c: c.households) if name == "households" else (lambda c: len(c.villages))
        return ordered["commune_code"].map(
            lambda code: getter(communes[code]) if code in communes else None).astype(float)

    left, right = side(rule.left), side(rule.right)
    if rule.missing == "skip_if_any":
        judged = left.notna() & right.notna()
    elif rule.missing == "skip_if_all":
        judged = left.notna() | right.notna()
    else:
        judged = pd.Series(True, index=ordered.index)
    broken = judged & ~_OPS[rule.op](left.fillna(0), right.fillna(0))
    for index in ordered.index[broken]:
        yield ordered.loc[index], left[index], right[index]


def _missing_periods(spec: ReportSpec, registry, rows: pd.DataFrame, day: date,
                     as_of: datetime, campaign: tuple[date, date]) -> list[dict]:
    if spec.period == "once":
        due = [] if spec.deadline.for_key("once") > as_of else ["once"]
    else:
        upto = key_for(spec.period, day)
        keys = period_keys(spec, *campaign)
        due = [k for k in keys if k <= upto and spec.deadline.for_key(k) <= as_of]
    complete = rows[rows["complete"]].groupby("commune_code")["period"].agg(set).to_dict()
    issues = []
    for commune in registry.communes:
        have = complete.get(commune.code, set())
        for key in due:
            if key in have:
                continue
            what = "danh sách" if key == "once" else f"số liệu kỳ {display_period(key)}"
            issues.append({
                "commune_code": commune.code, "commune": commune.display_name,
                "report": spec.key, "period": key, "tab": spec.tab, "cell": "", "value": "",
                "check": "missing", "level": "warning",
                "message": f"Chưa có {what} đầy đủ "
                           f"(hạn {spec.deadline.for_key(key):%H:%M %d/%m/%Y}).",
                "fix": "Nhập đủ các cột bắt buộc cho kỳ này.",
            })
    return issues


def _fmt(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:,.0f}".replace(",", ".") if float(value).is_integer() else f"{value:g}"


def validate(specs: list[ReportSpec], registry, store, ledger, *, day: date, now: datetime,
             campaign: tuple[date, date], progress: Progress | None = None) -> ValidateResult:
    versions = {s.key: ledger.versions(s.key) for s in specs}
    frames = [find_issues(s, registry, versions[s.key], day, now, campaign) for s in specs]
    latest = {s.key: latest_rows(versions[s.key], s, now) for s in specs}
    names = {c.code: c.display_name for c in registry.communes}
    frames.append(pd.DataFrame.from_records(reconcile_issues(specs, latest, names, day),
                                            columns=ISSUE_COLUMNS))
    issues = pd.concat(frames, ignore_index=True)
    banners = banner_texts(specs, registry, ledger, day=day, now=now, campaign=campaign)
    written, unchanged, deferred, failures = write_feedback(issues, banners, registry, store,
                                                            ledger, now=now, progress=progress,
                                                            report_tabs=tuple(s.tab for s in specs))
    return ValidateResult(issues, tuple(written), unchanged, tuple(deferred), tuple(failures))
