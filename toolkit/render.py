"""Plain-text and JSON renderings of results, for the terminal and for other tools.

Pure functions: a result in, text out. The CLI prints them (and logs them); nothing here
decides anything.
"""

from __future__ import annotations

from datetime import datetime

from toolkit.layout import display_period, period_keys


def status_json(report) -> dict:
    communes = report.communes.astype(object).where(report.communes.notna(), None)
    for column in ("first_complete_at", "last_change_at"):
        communes[column] = [v.isoformat() if v is not None else None for v in communes[column]]
    return {
        "report": report.report, "period": report.period,
        "deadline": report.deadline.isoformat(), "as_of": report.as_of.isoformat(),
        "grace_minutes": report.grace_minutes,
        "communes": communes.to_dict(orient="records"),
        "summary": report.summary.astype(object).where(report.summary.notna(), None)
        .to_dict(orient="records"),
    }


def collect_line(result) -> str:
    return (f"collect: {result.count('read')} read, {result.count('unchanged')} unchanged, "
            f"{len(result.failures)} failed; {result.new_versions} new row version(s)")


def validate_lines(result, shown: int = 15) -> list[str]:
    issues = result.issues
    errors = int((issues["level"] == "error").sum())
    warnings = int((issues["level"] == "warning").sum())
    lines = [f"validate: {errors} error(s), {warnings} warning(s); Kiểm tra tab written for "
             f"{len(result.written)}, unchanged {result.unchanged}, deferred "
             f"{len(result.deferred)} (open or edited; retried next sweep)"]
    lines += [deferred_line(name, why) for name, why in result.deferred]
    for row in issues[issues["level"] == "error"].head(shown).itertuples():
        where = f"{row.tab}!{row.cell}" if row.cell else row.tab
        lines.append(f"  {row.commune} · {where} · {row.value!s:.20} · "
                     f"{row.message} → {row.fix}")
    if errors > shown:
        lines.append(f"  … and {errors - shown} more (see the archive's Lỗi dữ liệu sheet)")
    return lines


def deferred_line(name: str, why: str) -> str:
    """A workbook the toolkit did not write into, and will try again: not a failure."""
    return f"  deferred, retried next sweep — {name}: {why}"


def status_text(report) -> str:
    """One report's statuses as a terminal table, then the per-area summary."""
    head = (f"{report.report} {display_period(report.period)} — deadline "
            f"{report.deadline:%H:%M %d/%m/%Y}, as of {report.as_of:%H:%M %d/%m/%Y}, "
            f"grace {report.grace_minutes} min")
    columns = {"code": "code", "commune": "commune", "district": "district",
               "status_label": "status", "first_complete_at": "complete at"}
    if not report.communes["district"].any():
        columns.pop("district")
    rows = [[_cell(v) for v in r] for r in report.communes[list(columns)].itertuples(index=False)]
    return "\n".join([head, table(list(columns.values()), rows), summary_text(report.summary)])


def summary_text(summary) -> str:
    lines = []
    for row in summary.itertuples():
        if not row.expected:
            lines.append(f"{row.area}: không phải kỳ báo cáo ({row.not_expected} xã)")
            continue
        pending = f", {row.pending} not yet due" if row.pending else ""
        lines.append(f"{row.area}: {row.on_time} on time, {row.amended} amended, {row.late} late, "
                     f"{row.incomplete} incomplete, {row.missing} missing{pending} of "
                     f"{row.expected} — reporting {row.reporting_rate:.0%}, on time "
                     f"{row.on_time_rate:.0%}")
    return "\n".join(lines)


def not_due_line(spec, period: str, campaign) -> str:
    """Why a report has no rollup for this period: a day off, or outside the campaign."""
    start, end = campaign
    first, last = period_keys(spec, start, end)[:1], period_keys(spec, start, end)[-1:]
    inside = bool(first) and first[0] <= period <= last[0]
    why = ("ngày nghỉ theo lịch ngày làm việc (thứ Bảy, Chủ nhật, ngày lễ)" if inside
           else f"ngoài thời gian của đợt ({start:%d/%m/%Y}–{end:%d/%m/%Y})")
    return (f"{spec.key} {display_period(period)}: không phải kỳ báo cáo — {why}; không lập "
            "tổng hợp, không nhắc xã nào")


def rollup_lines(result, path) -> list[str]:
    province = result.areas.iloc[-1]
    lines = [f"rollup {result.spec.key} {display_period(result.period)} (as of "
             f"{result.as_of_mode}): reporting {province['reporting_rate']:.0%}, on time "
             f"{province['on_time_rate']:.0%} → {path}"]
    return lines


def publication_lines(results) -> list[str]:
    """Where each report went on the province's Google spreadsheet, and the cost once (one
    publication covers every report of the run, so its summary is shared)."""
    published = [r for r in results if r.published is not None]
    if not published:
        return []
    first = published[0].published
    if first.error:
        return [first.summary]
    return [f"  {r.spec.title} → {r.published.url}" for r in published] + [first.summary]


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A left-aligned plain-text table that reads well in any terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None or value != value:
        return ""
    if isinstance(value, datetime):
        return f"{value:%H:%M %d/%m}"
    return str(value)
