"""P6: no save a commune makes is ever lost to the toolkit writing feedback into its workbook.

A second process saves the workbook the way a person does — opens it, types a new value into
a report cell, saves, the file stamped with the real save time — at random moments during
many feedback writes, and exactly inside each window of the never-clobber protocol through
``safe_write.HOOK``. It saves in place (LibreOffice, openpyxl) or through a temporary file
renamed over the workbook (Excel). After every sweep every value saved before it must be in
the ledger; at the end the ledger and the file hold the last value of every cell.

``CLOBBER_RACES`` sets how many feedback writes (default 200: about 15 s of CPU, 20 s on an
idle two-core machine); a quarter of them are forced into the protocol's four windows, the
rest land at random, from just before a write to a while after it.
"""

from __future__ import annotations

import os
import queue
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from conftest import run, workbook_of
from toolkit.backends import safe_write
from toolkit.collect import collect
from toolkit.feedback import write_feedback
from toolkit.layout import FIRST_DATA_ROW, HEADER_ROW, Banner
from toolkit.periods import VN_TZ
from toolkit.validate import ISSUE_COLUMNS
from toolkit.workspace import open_workspace

RACES = int(os.environ.get("CLOBBER_RACES", "200"))
SAVER = Path(__file__).with_name("commune_saver.py")
TAB = "Báo cáo ngày"
#: The protocol's steps, in order: a save forced at a step lands between it and the next.
STEPS = ("read", "aside", "swap", "placed")
COLUMNS = ("Số cửa hàng số mở mới", "Số đơn hàng", "Số tài khoản thanh toán điện tử mở mới")
WAIT = 30          # seconds: the most any one handshake may take


class Saver:
    """The commune officer's process."""

    def __init__(self, path: Path):
        self.proc = subprocess.Popen([sys.executable, str(SAVER), str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8")
        self.replies: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        for line in self.proc.stdout:
            self.replies.put(line.split())

    def send(self, *words) -> None:
        self.proc.stdin.write(" ".join(map(str, words)) + "\n")
        self.proc.stdin.flush()

    def reply(self, word: str) -> list[str]:
        try:
            answer = self.replies.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"the saver did not answer '{word}' in {WAIT} s") from None
        assert answer[0] == word, answer
        return answer[1:]

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=WAIT)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


@dataclass(frozen=True)
class Save:
    value: int
    row: int
    column: int
    mode: str
    start: int
    end: int

    @property
    def moment(self) -> int:
        """When the file under the workbook's name changed: the open that truncates it (in
        place), or the rename over it."""
        return self.start if self.mode == "inplace" else self.end


def window_of(moment: int, steps: dict[str, int], began: int, ended: int) -> str:
    if moment < began:
        return "before the write"
    if moment > ended:
        return "after the write"
    passed = [s for s in STEPS if s in steps and steps[s] <= moment]
    return f"after {passed[-1]}" if passed else "before read"


def ledger_cells(ledger) -> dict[tuple[int, str], object]:
    """(sheet row, field key) → the latest value the ledger holds."""
    versions = ledger.versions("kts_daily")
    latest = versions.sort_values("id").groupby("row_key").tail(1)
    return {(int(r.sheet_row), key): value for r in latest.itertuples()
            for key, value in r.values.items()}


def test_no_commune_save_is_lost_to_feedback_writes(province):
    # The daily report alone: a smaller workbook, so hundreds of writes fit in the suite.
    assert run("provision", "--template", "kts_daily", config=province,
               now="2026-11-20 08:00").exit_code == 0
    path = workbook_of(province, "06040")
    sheet = load_workbook(path)[TAB]
    headers = {c.value: c.column for c in sheet[HEADER_ROW] if c.value}
    spec_fields = _field_keys(province)
    keys = {headers[h]: spec_fields[h] for h in COLUMNS}
    cells = [(row, headers[h]) for h in COLUMNS for row in range(FIRST_DATA_ROW,
                                                                  FIRST_DATA_ROW + 61)]
    rng = random.Random(2026)
    plan = [STEPS[i // 4 % len(STEPS)] if i % 4 == 0 else "random" for i in range(RACES)]
    saves: list[Save] = []
    windows: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    steps: dict[str, int] = {}
    saver = Saver(path)
    ws = open_workspace(province, "kts_daily")
    registry = replace(ws.registry, communes=(ws.registry.by_code()["06040"],))
    no_issues = pd.DataFrame(columns=ISSUE_COLUMNS)
    forced: dict[str, object] = {}
    took = 0.2           # seconds a feedback write takes, as measured while the test runs

    def hook(step: str, _path: Path) -> None:
        steps[step] = time.time_ns()
        if forced.get("step") == step:
            saves.append(_save(saver, forced.pop("cell"), forced.pop("value"), 0,
                               forced.pop("mode")))
            forced.clear()

    safe_write.HOOK = hook
    began_at = time.monotonic()
    try:
        for i, kind in enumerate(plan):
            now = pd.Timestamp("2026-11-20 09:00", tz=VN_TZ) + pd.Timedelta(minutes=i)
            result = collect(registry, ws.specs, ws.store, ws.ledger, now=now,
                             campaign=ws.campaign)
            assert not result.failures, result.failures
            _assert_every_save_read(ws.ledger, keys, saves)
            row, column = cells[i % len(cells)]
            value, mode = 1000 + i, rng.choice(("inplace", "rename"))
            steps.clear()
            saver.send("load")
            saver.reply("loaded")
            if kind == "random":       # anywhere from just before the write to after it
                delay = rng.uniform(0, 1.5 * took)
                saver.send("save", value, row, column, f"{delay:.4f}", mode)
            else:
                forced.update(step=kind, cell=(row, column), value=value, mode=mode)
            began = time.time_ns()
            written, _, deferred, failures = write_feedback(
                no_issues, {"06040": {TAB: Banner(f"Lượt {i}")}}, registry, ws.store,
                ws.ledger, now=now)
            ended = time.time_ns()
            assert not failures, (i, kind, failures)
            if kind == "random":
                saves.append(_reply(saver))
            else:
                assert not forced, f"the protocol never reached step {kind}"
            took = 0.8 * took + 0.2 * (ended - began) / 1e9
            outcome = "written" if written else "deferred"
            outcomes[outcome] += 1
            where = window_of(saves[-1].moment, steps, began, ended)
            windows[(kind, where)] += 1
            outcomes[f"{kind}, {where}, {saves[-1].mode} save: {outcome}"] += 1
        saver.close()
        final = time.monotonic()
        collect(registry, ws.specs, ws.store, ws.ledger, now=now + pd.Timedelta(minutes=1),
                campaign=ws.campaign)
        _assert_every_save_read(ws.ledger, keys, saves, exactly=True)
        _assert_the_file_holds(path, saves)
        ws.store.tidy(everything=True)
        assert not [n for n in os.listdir(path.parent) if n.startswith(".~toolkit-")]
    finally:
        safe_write.HOOK = None
        saver.close()
        ws.close()
    forced_saves = sum(plan.count(step) for step in STEPS)
    print(f"\n{RACES} feedback writes in {final - began_at:.1f} s: written "
          f"{outcomes.pop('written')}, deferred {outcomes.pop('deferred')}; {len(saves)} "
          f"saves, {forced_saves} of them inside a protocol window through the hook; "
          "lost: 0 (every save in the ledger after the next sweep)")
    for name, count in sorted(outcomes.items()):
        print(f"  {name}: {count}")
    assert any("written" in k for k in outcomes) and any("deferred" in k for k in outcomes)
    for step in STEPS:      # every forced save landed in the window it was aimed at
        assert windows[(step, f"after {step}")] == plan.count(step), windows


def _save(saver: Saver, cell, value: int, delay: float, mode: str) -> Save:
    saver.send("save", value, *cell, delay, mode)
    return _reply(saver)


def _reply(saver: Saver) -> Save:
    *numbers, mode = saver.reply("saved")
    value, row, column, start, end = map(int, numbers)
    return Save(value, row, column, mode, start, end)


def _field_keys(config: Path) -> dict[str, str]:
    ws = open_workspace(config, "kts_daily")
    try:
        return {f.header: f.key for f in ws.specs[0].fields}
    finally:
        ws.close()


def _assert_every_save_read(ledger, keys: dict[int, str], saves: list[Save],
                            exactly: bool = False) -> None:
    """Every save made so far is in the ledger: each cell holds at least the value last
    saved into it (values only grow), or exactly it at the end."""
    held = ledger_cells(ledger)
    last: dict[tuple[int, int], int] = {}
    for save in saves:
        last[(save.row, save.column)] = save.value
    for (row, column), value in last.items():
        got = held.get((row, keys[column]))
        ok = got == value if exactly else (got is not None and got >= value)
        assert ok, f"the save of {value} into row {row} is lost (ledger: {got})"


def _assert_the_file_holds(path: Path, saves: list[Save]) -> None:
    sheet = load_workbook(path)[TAB]
    for save in saves:
        later = [s for s in saves if (s.row, s.column) == (save.row, save.column)]
        assert sheet.cell(save.row, save.column).value == later[-1].value

