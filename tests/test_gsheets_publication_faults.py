"""A fault at any request of a publication never leaves a half-applied rollup spreadsheet.

``publish`` on the loopback fake, every fault kind at every request position of the
publication: the look (spreadsheets.get), the batch, the look and the batch again after a
lost answer, and Google failing from there on. After every request the spreadsheet is
snapshotted whole (cells, formats, notes, grid, tabs, charts, merges, filters); each snapshot
must be the version before the publication or the one a fault-free publication makes, and
the end state the latter — at once, or after the next publication when Google kept failing.
The versions differ in every figure and in shape (rows added and removed, a tab that comes
and goes), so a mix of two would show. The pacer runs on the fake's clock: no real waiting.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from test_gsheets_store import office  # noqa: F401  (fixture)

from toolkit.archive import TABLE_NAMES, Chart, Table
from toolkit.backends.google.fake import ALL_FAULT_KINDS
from toolkit.backends.google.fake.render import spreadsheet_json
from toolkit.backends.google.rollup import ROUNDS, publish, render
from toolkit.errors import WorkbookError

LOST = ("reset", "reset-after", "read-timeout", 500)   # answers that say nothing sure
#: (what, [(kind, first position, how many)]); None stands for the kind under test.
SCHEDULES = [
    ("the look", [(None, 0, 1)]),
    ("the batch", [(None, 1, 1)]),
    ("the look after a lost batch that was applied", [("reset-after", 1, 1), (None, 2, 1)]),
    ("the batch after a lost batch that was not", [("reset", 1, 1), (None, 3, 1)]),
    ("every request from the look on", [(None, 0, 99)]),
    ("every request from the batch on", [(None, 1, 99)]),
    ("every request after a lost batch that was applied", [("read-timeout", 1, 1),
                                                           (None, 2, 99)]),
]


def version(n: int) -> dict[str, list[dict]]:
    """Two reports' tabs, different in every figure for every ``n``; "Theo huyện" only when
    ``n`` is odd; ``n + 2`` communes."""
    communes = [f"Xã số {i}" for i in range(n + 2)]
    rate = [round((n + i) % 7 / 7, 3) for i in range(len(communes))]
    summary = Table("Tổng hợp", pd.DataFrame({
        "Xã": communes, "Số cửa hàng": [10 * n + i for i in range(len(communes))],
        "Tỉ lệ": rate}), percent=frozenset({"Tỉ lệ"}), frozen_columns=1,
        chart=Chart("bar", "Tỉ lệ theo xã", "Xã", ("Tỉ lệ",), len(communes)))
    daily = [summary]
    if n % 2:
        daily.append(Table("Theo huyện", pd.DataFrame({"Huyện": ["Cao Lộc"], "Số xã": [n]})))
    daily.append(Table("Thông tin", pd.DataFrame({"k": ["Phiên bản"], "v": [f"bản {n}"]}),
                       header=False))
    monthly = [Table("Tổng hợp", pd.DataFrame({"Xã": communes[:2], "Tổng": [n, 2 * n]}))]
    return {"Báo cáo ngày": render(daily), "Báo cáo tháng": render(monthly)}


def state(fake, sid: str) -> dict:
    with fake.lock:
        return spreadsheet_json(fake.spreadsheet(sid), grid=True)


def watch(fake, sid: str, monkeypatch) -> list[dict]:
    """The spreadsheet as it is after every request sent to it, from now on."""
    seen: list[dict] = []
    handle = fake.handle

    def watched(method, target, headers, raw):
        outcome = handle(method, target, headers, raw)
        if sid in target:
            seen.append(state(fake, sid))
        return outcome

    monkeypatch.setattr(fake, "handle", watched)
    return seen


def position_of(fake, sid: str, record) -> int:
    """Which request of the publication ``record`` is (0: the first one sent to ``sid``)."""
    ours = [r for r in fake.requests if sid in r.path]
    return next(i for i, r in enumerate(ours) if r is record)


@pytest.mark.parametrize("kind", ALL_FAULT_KINDS, ids=str)
def test_a_fault_at_any_request_of_a_publication_leaves_one_whole_version(office, kind,  # noqa: F811
                                                                          monkeypatch):
    fake, api = office.fake, office.store.api
    sid = fake.create_spreadsheet("Tổng hợp tỉnh", parent=office.google.folder_id)
    seen = watch(fake, sid, monkeypatch)
    for n, (what, faults) in enumerate(SCHEDULES):
        before = state(fake, sid)
        contents = version(n)
        with fake.lock:                   # what a fault-free publication makes from here
            kept = copy.deepcopy(fake.spreadsheets[sid])
        publish(api, sid, contents, TABLE_NAMES)
        expected = state(fake, sid)
        with fake.lock:
            fake.spreadsheets[sid] = kept
        assert state(fake, sid) == before and expected != before

        fake.reset_log()
        seen.clear()
        for fault_kind, first, count in faults:
            fake.fail_next(count, fault_kind or kind, match=lambda r, first=first, count=count: (
                sid in r.path and first <= position_of(fake, sid, r) < first + count))
        keeps_failing = any(count > 1 for *_, count in faults)
        try:
            publish(api, sid, contents, TABLE_NAMES)
            failed = None
        except WorkbookError as exc:
            failed = str(exc)
        with fake.lock:
            fake.faults.clear()
        label = f"{kind} at {what}"
        assert all(s in (before, expected) for s in seen), f"half-applied: {label}"
        if failed is None:
            assert state(fake, sid) == expected, label
            continue
        assert keeps_failing, f"{label}: {failed}"
        assert state(fake, sid) in (before, expected), label
        publish(api, sid, contents, TABLE_NAMES)        # the next sweep
        assert state(fake, sid) == expected, label


def test_a_batch_google_keeps_losing_is_tried_round_after_round_then_reported(office):  # noqa: F811
    fake, api = office.fake, office.store.api
    sid = fake.create_spreadsheet("Tổng hợp tỉnh", parent=office.google.folder_id)
    fake.fail_next(ROUNDS, "reset-after", match="sheets.spreadsheets.batchUpdate")
    slept = api.http_for(sid).pacer.slept
    with pytest.raises(WorkbookError, match=f"chưa xác nhận được lần ghi sau {ROUNDS} lần thử"):
        publish(api, sid, version(1), TABLE_NAMES)
    assert fake.count("sheets.spreadsheets.get") == ROUNDS
    assert api.http_for(sid).pacer.slept > slept          # backed off between rounds
    assert "Báo cáo tháng · Tổng hợp" in [s.title for s in fake.spreadsheet(sid).ordered()]
