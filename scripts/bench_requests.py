"""Requests benchmark for DESIGN.md §7: what a province costs in Google API calls, and time.

Runs on the loopback fake Google (toolkit/backends/google/fake: real gspread and google-auth,
every request validated against Google's discovery documents, 60 reads + 60 writes a minute per
account enforced with 429s). In one run, on the same fake and the same workbooks:

- ours: provision N communes, a first collect and validate (every Kiểm tra tab written), a
  collect and validate after K communes typed, a quiet collect and validate; requests counted
  where they arrive, and the paced time on the fake's clock compared with the quota floor
  (requests ÷ quota rate);
- the straightforward gspread way: ``gc.open_by_key``, ``sh.worksheet(tab)`` and
  ``ws.get_all_records()`` per report tab of every workbook (unpaced, so its time is its
  quota floor);
- the rollup spreadsheet: every report's archive tables published (two requests).

It ends with issue 15's four bars for Google, each "met" or "MISSED": ≤ 1 Sheets read per
changed workbook and 0 per unchanged, ≤ 1 write per commune whose feedback changed, every
paced phase within 1.05× its quota floor, and no 429 in our phases.

    python scripts/bench_requests.py                 # 200 communes, 50 changed
    python scripts/bench_requests.py --communes 60 --changed 10
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from toolkit.archive import archive_tables  # noqa: E402
from toolkit.backends.google.fake import FakeClock, FakeGoogle  # noqa: E402
from toolkit.backends.google.fake.traffic import Tally  # noqa: E402
from toolkit.backends.google.http import DRIVE_PER_MINUTE, Pacer  # noqa: E402
from toolkit.backends.google.rollup import SEPARATOR  # noqa: E402
from toolkit.backends.google.store import open_gsheets  # noqa: E402
from toolkit.collect import collect  # noqa: E402
from toolkit.config import PACKAGED_TEMPLATES, GoogleConfig  # noqa: E402
from toolkit.daily import publish_rollups  # noqa: E402
from toolkit.ledger import Ledger  # noqa: E402
from toolkit.periods import VN_TZ  # noqa: E402
from toolkit.provision import provision  # noqa: E402
from toolkit.registry import Commune, Registry  # noqa: E402
from toolkit.rollup import build_rollup  # noqa: E402
from toolkit.templates import load_templates  # noqa: E402
from toolkit.validate import validate  # noqa: E402

START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)          # 08:00 in Vietnam
PER_MINUTE = 60                                           # Google's default quota


def registry(n: int) -> Registry:
    communes = tuple(Commune(
        f"{9000 + i:05d}", f"Bench {i}", "Xã", "Tỉnh Bench", None, 2000 + i,
        ("Thôn Một", "Thôn Hai"), (f"xa{9000 + i}@example.gov.vn",), None, None)
        for i in range(n))
    return Registry(Path("bench-registry.xlsx"), communes, ())


class Phase:
    """Requests that reached the fake during one phase, and the fake-clock time it took."""

    def __init__(self, fake: FakeGoogle, name: str):
        self.fake, self.name = fake, name

    def __enter__(self) -> Phase:
        self.fake.reset_log()
        self.started, self.wall = self.fake.clock.seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        fake = self.fake
        self.seconds = fake.clock.seconds() - self.started
        self.wall = time.perf_counter() - self.wall
        tally = Tally.of(fake.requests)
        self.total, self.reads, self.writes = tally.total, tally.reads, tally.writes
        self.drive, self.throttled = tally.drive, tally.throttled
        self.floor = tally.floor(PER_MINUTE, PER_MINUTE, DRIVE_PER_MINUTE)

    def line(self, paced: bool = True) -> str:
        shown = f"{self.seconds / 60:5.1f} min paced" if paced else "unpaced        "
        ratio = f" ({self.seconds / self.floor:.2f}× floor)" if paced and self.floor >= 10 else ""
        return (f"{self.name:<38} {self.total:5d} requests = {self.reads:4d} reads + "
                f"{self.writes:4d} writes + {self.drive:4d} Drive; floor "
                f"{self.floor / 60:5.1f} min; {shown}{ratio}; 429s {self.throttled}; "
                f"{self.wall:5.1f} s real")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communes", type=int, default=200)
    parser.add_argument("--changed", type=int, default=50,
                        help="communes that type a row before the second collect")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


def run(args, tmp: Path) -> None:
    fake = FakeGoogle(seed=args.seed, clock=FakeClock(START)).start()
    fake.quota(reads=PER_MINUTE, writes=PER_MINUTE)
    folder = fake.add_shared_drive_folder("Báo cáo xã (bench)")
    key = tmp / "key.json"
    info = fake.service_account_info("bench@tinh.iam.gserviceaccount.com")
    key.write_text(json.dumps(info), encoding="utf-8")
    google = GoogleConfig(credentials=key, folder_id=folder)
    store = open_gsheets(google, adapter=fake.adapter, pacer_factory=lambda: Pacer(
        PER_MINUTE, PER_MINUTE, clock=fake.clock.seconds, sleep=fake.clock.advance))
    # the communes' reports: this bench's registry names no postal enterprise
    specs = [s for s in load_templates(PACKAGED_TEMPLATES) if not s.keyed]
    reg = registry(args.communes)
    config = SimpleNamespace(campaign_start=date(2026, 11, 20), campaign_end=date(2026, 12, 31))
    campaign = (config.campaign_start, config.campaign_end)
    ledger = Ledger(tmp / "ledger.sqlite")
    n, editors = len(reg.communes), sum(len(c.editors) for c in reg.communes)

    def now() -> datetime:
        return fake.clock.now().astimezone(VN_TZ)

    def settle() -> None:
        fake.clock.advance(timedelta(minutes=google.settle_minutes + 1))

    print(f"{n} communes, {editors} editors, {len(specs)} report tabs each; fake Google with "
          f"{PER_MINUTE} reads + {PER_MINUTE} writes a minute; pacer on the fake's clock")
    with Phase(fake, "ours: provision") as prov:
        result = provision(config, reg, specs, store, ledger, now=now())
    assert not result.failures, result.failures[:3]
    settle()
    with Phase(fake, "ours: first collect (all new)") as first:
        collect(reg, specs, store, ledger, now=now(), campaign=campaign)
    rng = random.Random(args.seed)
    changed = rng.sample(list(reg.communes), min(args.changed, n))
    daily = next(s for s in specs if s.period == "daily")

    codes = {c.display_name: c.code for c in reg.communes}

    def checked(name: str) -> tuple[Phase, int]:
        with Phase(fake, name) as phase:
            result = validate(specs, reg, store, ledger, day=now().date(), now=now(),
                              campaign=campaign)
        assert not result.failures, result.failures[:3]
        return phase, {codes[name] for name in result.written}

    first_check, first_written = checked("ours: validate, first Kiểm tra")
    settle()
    for commune in changed:
        fake.type(ledger.workbooks()[commune.code].locator, f"'{daily.tab}'!B3",
                  str(rng.randint(0, 9)), as_user=commune.editors[0])
    settle()
    with Phase(fake, f"ours: collect, {len(changed)} changed") as some:
        outcome = collect(reg, specs, store, ledger, now=now(), campaign=campaign)
    typed = {c.code for c in changed}
    assert outcome.count("read") == len(typed | first_written), outcome.count("read")
    some_check, some_written = checked(f"ours: validate, {len(changed)} changed")
    settle()
    with Phase(fake, "ours: collect, nothing changed") as quiet:
        outcome = collect(reg, specs, store, ledger, now=now(), campaign=campaign)
    assert outcome.count("read") == len(some_written), outcome.count("read")
    quiet_check, quiet_written = checked("ours: validate, nothing changed")

    target = fake.create_spreadsheet("Tổng hợp (bench)", parent=folder)
    books = {}
    for spec in specs:
        rollup = build_rollup(spec, reg, ledger.versions(spec.key), now().date(),
                              as_of_mode="now", now=now(), grace=timedelta(minutes=5),
                              campaign=(config.campaign_start, config.campaign_end))
        books[spec.tab] = archive_tables(rollup, workbooks_read=len(changed))
    with Phase(fake, f"ours: rollup spreadsheet, {len(books)} reports") as rolled:
        published = publish_rollups(store, target, books)
    assert not any(p.error for p in published.values()), published
    tabs = sum(SEPARATOR in s.title for s in fake.spreadsheet(target).sheets)

    fake.quota()                                    # the naive way has no pacer: no 429s
    gc = fake.gspread_client(info)
    locators = [r.locator for r in ledger.workbooks().values()]
    with Phase(fake, "gspread: open/worksheet/get_all_records") as naive:
        for locator in locators:
            sheet = gc.open_by_key(locator)
            for spec in specs:
                sheet.worksheet(spec.tab).get_all_records(head=2)
    ledger.close()
    fake.stop()

    print()
    ours = (prov, first, first_check, some, some_check, quiet, quiet_check, rolled)
    for phase in ours:
        print(phase.line())
    print(naive.line(paced=False))
    print()
    bar = 3 * n + editors
    print(f"provision: {prov.total} requests for {n} communes and {editors} editors "
          f"(bar 3 × {n} + {editors} = {bar}; +1 folder listing per run)")
    per = naive.reads / max(len(locators), 1)
    print(f"gspread:   {naive.reads} reads for {len(locators)} workbooks ({per:.0f} each, "
          f"changed or not) — {naive.reads / max(some.reads, 1):.0f}× ours with "
          f"{len(changed)} changed; its quota floor {naive.floor / 60:.1f} min vs ours "
          f"{some.floor / 60:.1f} min")
    print(f"rollup:    {rolled.total} requests for {len(books)} reports ({tabs} tabs, charts "
          f"included) on the rollup spreadsheet")
    checks = ((first_check, first_written), (some_check, some_written),
              (quiet_check, quiet_written))
    print("validate:  " + "; ".join(f"{p.writes} writes for {len(w)} communes whose Kiểm tra "
                                    "changed" for p, w in checks))
    print()
    paced = [p for p in ours if p.floor >= 10]
    worst = max(paced, key=lambda p: p.seconds / p.floor)
    throttled = sum(p.throttled for p in ours)
    # Our own Kiểm tra write moves Drive's modifiedTime, so the next collect reads that
    # workbook once more (GSheetsStore.write_feedback: an edit made while we wrote is never
    # skipped): those reads are counted apart from the communes' own changes.
    again = len(first_written - typed)
    bars = [
        (some.reads <= len(typed | first_written) and quiet.reads <= len(some_written),
         f"Sheets reads: {some.reads} for {len(typed)} workbooks communes changed + {again} "
         f"whose Kiểm tra we wrote since; then {quiet.reads} for the {len(some_written)} we "
         f"wrote, 0 for the other {n - len(some_written)} (≤ 1 per changed, 0 per unchanged)"),
        (all(p.writes <= len(w) for p, w in checks),
         "Sheets writes: " + ", ".join(f"{p.writes} for {len(w)}" for p, w in checks)
         + " communes whose feedback changed (≤ 1 per such commune)"),
        (worst.seconds <= 1.05 * worst.floor,
         f"quota: worst paced phase {worst.name.removeprefix('ours: ')} at "
         f"{worst.seconds / worst.floor:.2f}× its floor (≤ 1.05×)"),
        (throttled == 0, f"429s: {throttled} in our phases (0 in steady state)"),
    ]
    for ok, text in bars:
        print(f"bar {'met ' if ok else 'MISSED'}  {text}")

if __name__ == "__main__":
    main()
