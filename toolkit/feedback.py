"""What goes back into each commune's workbook: the Kiểm tra tab and a banner on report tabs.

The toolkit writes only what it owns. Both are rewritten only when their content changed, so
a quiet day costs no writes, and a workbook edited since it was read is left for the next run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from toolkit.errors import WorkbookError
from toolkit.layout import display_period, tab_layout
from toolkit.periods import Status, key_for
from toolkit.templates import ReportSpec

LEVEL_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
Progress = Callable[[str], None]


def feedback_rows(issues: pd.DataFrame) -> list[list[str]]:
    """A commune's Kiểm tra rows: errors before warnings within a period, newest period first."""
    ordered = issues.assign(_rank=issues["level"].map({"error": 0, "warning": 1})) \
        .sort_values(["period", "_rank", "tab", "cell"], ascending=[False, True, True, True])
    return [[display_period(r.period), r.tab, r.cell, r.value, r.message, r.fix,
             LEVEL_LABELS.get(r.level, r.level)] for r in ordered.itertuples()]


def feedback_summary(issues: pd.DataFrame, now: datetime) -> str:
    errors = int((issues["level"] == "error").sum())
    warnings = int((issues["level"] == "warning").sum())
    stamp = f"{now:%H:%M %d/%m/%Y}"
    if not errors and not warnings:
        return f"Kiểm tra lúc {stamp}: không có lỗi. Cảm ơn xã đã báo cáo đầy đủ!"
    return (f"Kiểm tra lúc {stamp}: {errors} lỗi, {warnings} cảnh báo — sửa các ô dưới đây trong "
            "trang báo cáo; trang này tự cập nhật ở lần kiểm tra sau.")


def banner_texts(specs: list[ReportSpec], registry, versions: dict[str, pd.DataFrame], *,
                 day: date, now: datetime,
                 campaign: tuple[date, date]) -> dict[str, dict[str, str]]:
    """For each commune, the first line of each periodic report tab.

    While the current period is not reported it says so, with the deadline ("Chưa báo cáo
    ngày 23/11/2026 — hạn 17:00"); once reported it is the tab's title again. ``versions``
    maps report keys to the rows validate already read from the ledger.
    """
    from toolkit.status import status_table

    banners: dict[str, dict[str, str]] = {c.code: {} for c in registry.communes}
    for spec in specs:
        if spec.period == "once":
            continue
        period = key_for(spec.period, day)
        deadline = spec.deadline.for_key(period)
        rows = versions[spec.key]
        rows = rows[rows["period"] == period]
        table = status_table(spec, registry, rows, [period], as_of=now,
                             grace=pd.Timedelta(0)).set_index("commune_code")
        what = "ngày" if spec.period == "daily" else "tháng"
        for commune in registry.communes:
            status = Status(table.loc[commune.code, "status"])
            if status.reported:
                text = tab_layout(spec, commune.display_name, *campaign).title
            elif now <= deadline:
                day_of = f" ngày {deadline:%d/%m}" if what == "tháng" else ""
                text = (f"⚠ Chưa báo cáo {what} {display_period(period)} — hạn "
                        f"{deadline:%H:%M}{day_of}")
            else:
                text = (f"⚠ Chưa báo cáo {what} {display_period(period)} — đã quá hạn "
                        f"{deadline:%H:%M}, đề nghị nhập ngay")
            banners[commune.code][spec.tab] = text
    return banners


def write_feedback(issues: pd.DataFrame, banners: dict[str, dict[str, str]], registry, store,
                   ledger, *, now: datetime, report_tabs: tuple[str, ...] = (),
                   progress: Progress | None = None) -> tuple[list, int, list, list]:
    """Rewrite each commune's Kiểm tra tab and banners whose content changed."""
    known = ledger.workbooks()
    previous = ledger.feedback_hashes()
    written, deferred, failures, unchanged = [], [], [], 0
    by_commune = dict(tuple(issues.groupby("commune_code"))) if not issues.empty else {}
    for commune in registry.communes:
        record = known.get(commune.code)
        if record is None:
            continue
        mine = by_commune.get(commune.code, issues.iloc[0:0])
        rows = feedback_rows(mine)
        mine_banners = banners.get(commune.code, {})
        content = json.dumps([rows, sorted(mine_banners.items())], ensure_ascii=False)
        digest = hashlib.sha256(content.encode()).hexdigest()[:20]
        if previous.get(commune.code) == digest:
            unchanged += 1
            continue
        try:
            stamp = store.write_feedback(record.locator, rows, feedback_summary(mine, now),
                                         record.last_modified or "", now, banners=mine_banners,
                                         report_tabs=report_tabs)
        except WorkbookError as exc:
            failures.append((commune.display_name, str(exc)))
            continue
        if stamp is None:
            deferred.append(commune.display_name)
        else:
            ledger.record_feedback(commune.code, digest, stamp, now)
            written.append(commune.display_name)
        if progress:
            progress(commune.display_name)
    return written, unchanged, deferred, failures
