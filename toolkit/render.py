"""Plain-text and JSON renderings of results, for the terminal and for other tools.

Pure functions: a result in, text out. The CLI prints them (and logs them); nothing here
decides anything.
"""

from __future__ import annotations

from datetime import datetime

from toolkit.layout import display_period, period_keys
from toolkit.periods import Status
from toolkit.wording import RANK, STATUS_ORDER, status_counts, units_of_names


def status_json(report, title: str | None = None) -> dict:
    """One report's statuses as plain JSON values: ``null`` for what is unknown (never NaN),
    integers as integers, codes as text, instants in ISO 8601 with their offset."""
    return {
        "report": report.report, "title": title, "period": report.period,
        "deadline": report.deadline.isoformat(), "as_of": report.as_of.isoformat(),
        "grace_minutes": report.grace_minutes,
        "communes": _records(report.communes),
        "summary": _records(report.summary),
    }


def _records(frame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value):
    """A pandas/numpy cell as a JSON value."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return None if value != value else value.isoformat()
    if hasattr(value, "item"):                      # numpy scalars
        value = value.item()
    if isinstance(value, float):
        if value != value:
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bool | int | str):
        return value
    return None if value != value else str(value)


def collect_lines(result) -> list[tuple[bool, str]]:
    """What collect says, then its warnings (on stderr), as (to stderr, text)."""
    return [(False, collect_line(result)),
            *((True, f"Cảnh báo: {warning}") for warning in result.warnings)]


def collect_line(result) -> str:
    return (f"collect: đã đọc {result.count('read')} sổ, {result.count('unchanged')} sổ không "
            f"đổi, {len(result.failures)} sổ lỗi; {result.new_versions} phiên bản dòng mới")


def validate_lines(result, shown: int = 15) -> list[str]:
    issues = result.issues
    errors = int((issues["level"] == "error").sum())
    warnings = int((issues["level"] == "warning").sum())
    lines = [f"validate: {errors} lỗi, {warnings} cảnh báo; trang Kiểm tra đã ghi cho "
             f"{len(result.written)} sổ, {result.unchanged} sổ không đổi, "
             f"{len(result.deferred)} sổ để lần quét sau (đang mở hoặc vừa được sửa)"]
    lines += [deferred_line(name, why) for name, why in result.deferred]
    for row in issues[issues["level"] == "error"].head(shown).itertuples():
        where = f"{row.tab}!{row.cell}" if row.cell else row.tab
        lines.append(f"  {row.commune} · {where} · {row.value!s:.20} · "
                     f"{row.message} → {row.fix}")
    if errors > shown:
        lines.append(f"  … và {errors - shown} lỗi khác (xem trang Lỗi dữ liệu của tệp lưu trữ)")
    return lines


def deferred_line(name: str, why: str) -> str:
    """A workbook the toolkit did not write into, and will try again: not a failure."""
    return f"  để lần quét sau — {name}: {why}"


def period_words(key: str) -> str:
    """How a period is named in a sentence: "ngày 01/12/2026", "tháng 12/2026", "quý IV/2026",
    "năm 2026", "một lần"."""
    shown = display_period(key)
    if key == "once":
        return "báo cáo một lần"
    if key.count("-") == 2:
        return f"ngày {shown}"
    if "-Q" in key or key.isdigit():        # "Quý IV/2026", "Năm 2026" inside a sentence
        return shown[:1].lower() + shown[1:]
    return f"tháng {shown}"


def grace_line(applied: int, configured: int) -> str:
    """The grace in force, and why it differs from toolkit.toml when it does."""
    if applied == configured:
        return f"Gia hạn sau giờ hạn: {applied} phút (grace_minutes trong toolkit.toml)."
    return (f"Gia hạn sau giờ hạn: {applied} phút. toolkit.toml đặt grace_minutes = "
            f"{configured}, chỉ dùng cho Google Sheets; sổ .xlsx ghi chính xác giờ lưu tệp "
            "nên không cần gia hạn.")


def status_text(reports, titles: dict[str, str], *, day, configured_grace: int,
                fold: bool = True) -> str:
    """The terminal page of ``toolkit status``: the reports due by ``day`` as tables, problem
    communes first; reports not yet due or not expected folded into one line each."""
    if not reports:
        return "Không có báo cáo nào."
    as_of = reports[0].as_of
    lines = [f"Tình hình báo cáo đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y}",
             grace_line(reports[0].grace_minutes, configured_grace)]
    folded = []
    for report in reports:
        title = titles.get(report.report, report.report)
        name = f"{title} ({report.report}) — {period_words(report.period)}"
        statuses = report.communes["status"]
        if (statuses == Status.NOT_EXPECTED.value).all():
            folded.append(f"{name}: không phải kỳ báo cáo (ngày nghỉ, hoặc ngoài thời gian "
                          "của đợt); không xã nào phải báo cáo.")
        elif fold and report.deadline.date() > day:
            expected = int((statuses != Status.NOT_EXPECTED.value).sum())
            done = int((statuses == Status.ON_TIME.value).sum())
            folded.append(f"{name}: chưa đến hạn (hạn {report.deadline:%H:%M %d/%m/%Y}); "
                          f"{done}/{expected} {_units(report.communes)} đã nhập đủ.")
        else:
            lines += ["", f"{name}, hạn {report.deadline:%H:%M %d/%m/%Y}",
                      status_table(report), summary_text(report.summary,
                                                         _units(report.communes))]
    if folded:
        lines += [""] + folded
    return "\n".join(lines)


STATUS_COLUMNS = {"code": "Mã", "commune": "Xã, phường", "district": "Huyện (cũ)",
                  "status_label": "Tình trạng", "first_complete_at": "Nhập đủ lúc"}


def status_table(report) -> str:
    columns = dict(STATUS_COLUMNS)
    if not report.communes["district"].any():
        columns.pop("district")
    ordered = problems_first(report.communes)
    rows = [[_cell(v) for v in r] for r in ordered[list(columns)].itertuples(index=False)]
    return table(list(columns.values()), rows)


def problems_first(communes):
    """Missing, incomplete, still open, late, then on time; registry order within each."""
    rank = communes["status"].map(RANK)
    return communes.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank")


def _units(communes) -> str:
    return units_of_names(communes["commune"])


def summary_text(summary, units: str = "xã") -> str:
    lines = []
    for row in summary.to_dict(orient="records"):
        if not row["expected"]:
            lines.append(f"{row['area']}: không phải kỳ báo cáo ({row['not_expected']} {units})")
            continue
        counts = status_counts(row)
        lines.append(f"{row['area']} ({row['expected']} {units} phải báo cáo): {counts} — "
                     f"đã báo cáo {row['reporting_rate']:.0%}, đúng hạn "
                     f"{row['on_time_rate']:.0%}")
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


def daily_lines(result, *, clock: str, campaign) -> list[tuple[bool, str]]:
    """What `toolkit daily` prints of a sweep's ``result``, in order, as (to stderr, text);
    ``clock`` is the sweep's time as the daily summaries say it."""
    lines = collect_lines(result.collected)
    lines += [(False, line) for line in validate_lines(result.validated)]
    lines += [(False, line) for line in rollups_lines(result.rollups, result.archives)]
    if result.republished is not None and not result.republished.error:
        lines.append((False, result.republished.summary))
    lines += [(False, not_due_line(spec, period, campaign)) for spec, period in result.not_due]
    lines += [(False, f"đã lưu bản tổng hợp tại giờ hạn → {path}") for path in result.frozen]
    for rolled in result.rollups:
        if rolled.spec.period == "daily":
            lines.append((False, f"{rolled.spec.title} — ngày "
                                 f"{display_period(rolled.status.period)}, đến {clock}:"))
            lines.append((False, summary_text(rolled.status.summary,
                                              units_of_names(rolled.status.communes["commune"]))))
    return lines


def registry_warnings(registry, path, shown: int = 10) -> list[str]:
    """The registry's warnings as every command shows them once, on stderr."""
    lines = [f"Cảnh báo: {path.name}: {warning}" for warning in registry.warnings[:shown]]
    if len(registry.warnings) > shown:
        lines.append(f"Cảnh báo: … và {len(registry.warnings) - shown} cảnh báo khác trong "
                     f"{path.name}")
    return lines


def rollup_lines(result, path) -> list[str]:
    province = result.areas.iloc[-1]
    as_of = "tại giờ hạn" if result.as_of_mode == "deadline" else "đến hiện tại"
    return [f"rollup {result.spec.key} {display_period(result.period)} ({as_of}): đã báo cáo "
            f"{_rate(province['reporting_rate'])}, đúng hạn {_rate(province['on_time_rate'])} "
            f"→ {path}"]


def rollups_lines(rollups, paths) -> list[str]:
    """Each rollup and where its archive went, then where the reports were published."""
    lines = []
    for rolled, path in zip(rollups, paths, strict=True):
        lines += rollup_lines(rolled, path)
    return lines + publication_lines(rollups)


def merge_lines(result) -> list[str]:
    """The national rollups of ``toolkit merge``, then each province's reporting."""
    lines = []
    for rollup, path in zip(result.rollups, result.archives, strict=True):
        lines += rollup_lines(rollup, path)
        for area in rollup.areas.iloc[:-1].to_dict(orient="records"):
            lines.append(f"  {area['area']}: đã báo cáo {_rate(area['reporting_rate'])}, "
                         f"đúng hạn {_rate(area['on_time_rate'])} "
                         f"({int(area['expected'] or 0)} xã phải báo cáo)")
    return lines


def _rate(value) -> str:
    return "—" if value is None or value != value else f"{value:.0%}"


STATUS_HEADERS = ["Mã báo cáo", "Báo cáo", "Kỳ", "Hạn", "Mã xã", "Xã, phường", "Huyện (cũ)",
                  "Số hộ", "Tình trạng", "Mã tình trạng", "Nhập đủ lúc", "Sửa lần cuối lúc"]


def status_rows(reports, titles: dict[str, str]) -> list[list]:
    """Every report's statuses as one table (``STATUS_HEADERS``), problem communes first:
    plain values, codes as text, households as integers, moments in Vietnam time."""
    rows = []
    for report in reports:
        period = "một lần" if report.period == "once" else display_period(report.period)
        deadline = report.deadline.replace(tzinfo=None)
        for row in problems_first(report.communes).to_dict(orient="records"):
            rows.append([report.report, titles.get(report.report, report.report), period,
                         deadline, str(row["code"]), row["commune"], row["district"] or None,
                         _plain(row["households"]), row["status_label"], row["status"],
                         _naive(row["first_complete_at"]), _naive(row["last_change_at"])])
    return rows


SUMMARY_HEADERS = ["Mã báo cáo", "Kỳ", "Địa bàn", "Phải báo cáo"] + [
    s.label for s in STATUS_ORDER] + ["Tỷ lệ đã báo cáo", "Tỷ lệ đúng hạn"]


def summary_rows(reports) -> list[list]:
    rows = []
    for report in reports:
        for row in report.summary.to_dict(orient="records"):
            rows.append([report.report, display_period(report.period), row["area"],
                         _plain(row["expected"])] + [_plain(row[s.value]) for s in STATUS_ORDER]
                        + [_plain(row["reporting_rate"]), _plain(row["on_time_rate"])])
    return rows


def _naive(value):
    if value is None or value != value:
        return None
    return value.replace(tzinfo=None)


def status_csv(reports, titles: dict[str, str]) -> str:
    """One CSV table for every report, UTF-8 with a BOM so Excel reads the Vietnamese.

    Text is quoted and numbers are not, so a reader that honours quoting keeps codes such as
    06202 as text; moments are written as staff read them (23/11/2026 16:05)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(STATUS_HEADERS)
    for row in status_rows(reports, titles):
        writer.writerow(["" if v is None else f"{v:%d/%m/%Y %H:%M}" if isinstance(v, datetime)
                         else v for v in row])
    return "\ufeff" + out.getvalue()


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
