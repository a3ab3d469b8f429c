"""What a sweep costs on the .xlsx folder, against today's way in the same run (issue 15).

Builds a province of .xlsx communes the way ``toolkit demo`` does (Lạng Sơn's 65 communes;
``--communes N`` above 65 takes the first N official communes of the country), provisions it,
and times:

- a sweep in which every commune's feedback changed (the first ``toolkit daily`` after
  provisioning writes every Kiểm tra tab; then every commune types its day and the next sweep
  reads and writes them all);
- a quiet ``toolkit daily`` (nothing changed: 0 reads, 0 feedback writes), in process (what the
  sweep itself costs) and as a new process (what the scheduler pays, imports included), with
  a cProfile of the in-process run under ``--profile``; then quiet sweeps after a quiet sweep
  three ways: known quiet from the record the last full sweep left (``toolkit.quiet``: nothing
  read, the archives restamped), checked in full with the archives' moment patched (the record
  removed first), and checked in full with the archives written in full (issue P10's baseline);
- the day's archive written in full: its parts written as text, against openpyxl's objects
  saved in memory and saved by openpyxl's ``Workbook.save``;
- one feedback write: the store's ``write_feedback`` (the never-clobber protocol included)
  against today's core of it, openpyxl loading and saving the whole workbook; and one that
  marks 5 cells, against the store writing it the openpyxl way;
- reading ``--reads`` changed workbooks (200 by default, the province's typed workbooks
  cycled): the store's reader (calamine where it reads everything) against openpyxl only, and
  a whole ``collect`` after every commune typed, with each reader.

Setup (init, typing) is not timed; provisioning is, from prototypes against openpyxl only
(``xlsx_prototype``), each into its own copy of the initialised folder. Quick look:

    .venv/bin/python scripts/bench_sweeps.py                  # 65 communes
    .venv/bin/python scripts/bench_sweeps.py --communes 1000 --keep /tmp/p1000
    .venv/bin/python scripts/bench_sweeps.py --communes 200 --only-reads    # goal 4
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from toolkit.cli import main as cli
from toolkit.demo import _fill_registry, type_into
from toolkit.periods import VN_TZ

DAY = date(2026, 11, 23)
TAB = "Báo cáo ngày"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, clock(hour, minute), VN_TZ)


def build(folder: Path, communes: int) -> Path:
    """An initialised, filled and provisioned province folder; its toolkit.toml."""
    from toolkit.backends.xlsx import XlsxStore
    from toolkit.provision import provision
    from toolkit.workspace import init_province, open_workspace

    result = init_province(folder, "Lạng Sơn", today=DAY, campaign_days=30)
    if communes != result.communes:
        _official_registry(result.registry_path, communes)
    _fill_registry(result.registry_path, random.Random(7), phase_two=DAY)  # all report
    # Provisioning timed both ways (a copy of the folder is provisioned with openpyxl only).
    seconds = {}
    other = folder.with_name(folder.name + "-openpyxl")
    shutil.copytree(folder, other)
    for prototype, where in ((False, other), (True, folder)):
        XlsxStore.prototype = prototype
        try:
            with open_workspace(where / "toolkit.toml") as ws:
                start = time.perf_counter()
                provision(ws.config, ws.registry, ws.specs, ws.store, ws.ledger, now=at(7, 30))
                seconds[prototype] = time.perf_counter() - start
        finally:
            XlsxStore.prototype = True
    shutil.rmtree(other)
    print(f"provision {communes} communes: from prototypes {seconds[True]:5.2f} s   openpyxl "
          f"only {seconds[False]:5.2f} s   ({seconds[False] / seconds[True]:.1f}×)")
    return result.config_path


def _official_registry(path: Path, communes: int) -> None:
    """Replace the registry's rows by the first ``communes`` official communes of the country
    whose names differ."""
    from vietnam_provinces import Ward

    book = load_workbook(path)
    sheet = book.worksheets[0]
    sheet.delete_rows(2, sheet.max_row)
    names = set()
    for ward in Ward.iter_all():
        kind = ward.division_type.value.capitalize()
        name = " ".join(ward.name.split()).removeprefix(kind + " ")
        if name in names:
            continue        # one province has no two communes of one name (the registry says so)
        names.add(name)
        sheet.append([f"{int(ward.code):05d}", name, kind, "Lạng Sơn"])
        if len(names) == communes:
            break
    book.save(path)


def daily(config: Path, moment: datetime) -> tuple[float, str]:
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["daily", "--config", str(config), "--now",
                                      f"{moment:%Y-%m-%d %H:%M}"], catch_exceptions=False)
    seconds = time.perf_counter() - start
    assert result.exit_code in (0, 1), result.output
    return seconds, result.output


#: How a quiet sweep runs: known quiet from the record, checked in full with the archives'
#: moment patched (the record removed first), checked in full and the archives written in full.
WAYS = ("record", "patched", "full")


def daily_process(config: Path, moment: datetime, way: str = "record") -> float:
    """``toolkit daily`` as the scheduler starts it, the ``way`` of :data:`WAYS`."""
    argv = ["daily", "--config", str(config), "--now", f"{moment:%Y-%m-%d %H:%M}"]
    _forget_unless(config, way)
    command = [sys.executable, "-m", "toolkit", *argv] if way != "full" else [
        sys.executable, "-c", "import sys, toolkit.archive as a; a.PATCH_MOMENT = False; "
        f"from toolkit.cli import main; sys.argv = ['toolkit', *{argv!r}]; main()"]
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - start


def _forget_unless(config: Path, way: str) -> None:
    from toolkit.quiet import record_path

    if way != "record":
        record_path(config.parent / "ledger.sqlite").unlink(missing_ok=True)


def quiet_sweeps(config: Path) -> None:
    """Quiet sweeps after a quiet sweep (nothing read, nothing written but the archives'
    moment), each of :data:`WAYS` in process and as a new process, alternately, each the
    median of three. A full sweep leaves the record again, so each way starts alike."""
    from toolkit import archive

    times: dict[tuple[str, bool], list[float]] = {}
    minute = 20
    for _ in range(3):
        for way in WAYS:
            archive.PATCH_MOMENT = way != "full"
            _forget_unless(config, way)
            try:
                seconds, output = daily(config, at(10, minute))
            finally:
                archive.PATCH_MOMENT = True
            assert "đã đọc 0 sổ" in output, output
            times.setdefault((way, False), []).append(seconds)
            times.setdefault((way, True), []).append(
                daily_process(config, at(10, minute + 1), way))
            minute += 2
    median = {kind: _median(values) for kind, values in times.items()}
    for process, label in ((False, "in process "), (True, "new process")):
        print(f"quiet daily, {label} (median of 3): known from the record "
              f"{median['record', process]:5.2f} s   checked in full, archives patched "
              f"{median['patched', process]:5.2f} s   written in full "
              f"{median['full', process]:5.2f} s")


def said(output: str, start: str) -> str:
    return next((line.strip() for line in output.splitlines() if line.startswith(start)), "?")


def type_everyone(config: Path, moment: datetime) -> list[Path]:
    # the communes' workbooks ("06040 Xã ….xlsx"), not the postal enterprises' ("VTP ….xlsx")
    paths = sorted(p for p in (config.parent / "workbooks").glob("*.xlsx") if p.name[:5].isdigit())
    for i, path in enumerate(paths):
        type_into(path, TAB, DAY, {"Số cửa hàng số mở mới": i % 7,
                                   "Số tài khoản thanh toán điện tử mở mới": "12a" if i % 9 == 0
                                   else i % 11, "Người báo cáo": "Lương Văn Tú"}, moment)
    return paths


def feedback_write(config: Path, repeat: int = 5) -> None:
    """One Kiểm tra write, the store's way, against the openpyxl way in the same run, each the
    median of ``repeat``: a write that marks no cell (Kiểm tra and the banner patched inside
    the zip) against openpyxl loading and saving the same workbook (the core of a write
    before issue 15); and a write that marks 5 cells and takes off the 5 marks of the write
    before (patched too since P10) against the store writing it with openpyxl only."""
    from toolkit.backends.xlsx import XlsxStore
    from toolkit.feedback import noted_cells
    from toolkit.layout import Banner

    folder = config.parent / "workbooks"
    paths = sorted(folder.glob("*.xlsx"))[1:4]    # never marked, marked by patch, by openpyxl
    store = XlsxStore(folder)
    plain = [["23/11/2026", TAB, "", "", "Chưa báo cáo.", "Nhập ngay.", "Lỗi"]]
    marked = [[["23/11/2026", TAB, ref, "12a", "Không phải số.", "Gõ một số.", "Lỗi"]
               for ref in refs] for refs in (("C5", "D6", "B7", "E8", "C9"),
                                             ("C10", "D11", "B12", "E13", "C14"))]
    times: dict[str, list[float]] = {"plain": [], "marks": [], "marks openpyxl": [],
                                      "openpyxl": []}
    for n in range(repeat):
        data = paths[0].read_bytes()
        start = time.perf_counter()
        book = load_workbook(io.BytesIO(data))
        book.save(io.BytesIO())
        times["openpyxl"].append(time.perf_counter() - start)
        marks, was = marked[n % 2], noted_cells(marked[(n + 1) % 2]) if n else {}
        for kind, rows, noted, path in (("plain", plain, {}, paths[0]),
                                        ("marks", marks, was, paths[1]),
                                        ("marks openpyxl", marks, was, paths[2])):
            store.patch = kind != "marks openpyxl"
            stamp = str(path.stat().st_mtime_ns)
            start = time.perf_counter()
            written = store.write_feedback(path.name, rows, f"Kiểm tra {n}", stamp, at(11, n),
                                           banners={TAB: Banner(f"⚠ lần {n}", "problems")},
                                           report_tabs=(TAB,), noted=noted)
            times[kind].append(time.perf_counter() - start)
            assert written is not None
    ms = {kind: _median(values) * 1000 for kind, values in times.items()}
    print(f"one feedback write ({paths[0].stat().st_size:,} bytes), no cell to mark: "
          f"store.write_feedback {ms['plain']:6.1f} ms   openpyxl load+save "
          f"{ms['openpyxl']:6.1f} ms")
    print(f"one feedback write marking 5 cells, unmarking 5: store.write_feedback "
          f"{ms['marks']:6.1f} ms   the openpyxl way {ms['marks openpyxl']:6.1f} ms   "
          f"({ms['marks openpyxl'] / ms['marks']:.1f}×)")


def archive_saves(config: Path, repeat: int = 9) -> None:
    """The day's kts_daily archive written in full, each the median of ``repeat``, three ways
    in turn: as ``toolkit.archive_xlsx`` writes it (its parts as text,
    ``toolkit.archive_package``); built of openpyxl's objects and saved by openpyxl in memory
    (``excel.workbook_bytes``), the same package; and the same saved by openpyxl's
    ``Workbook.save``, which writes each sheet to a temporary file first."""
    from openpyxl import Workbook

    from toolkit import archive_xlsx
    from toolkit.archive import archive_tables
    from toolkit.daily import rollup_reports
    from toolkit.dashboard import report_line
    from toolkit.moment import as_of_words
    from toolkit.workspace import open_workspace

    with open_workspace(config) as ws:
        rollups, _ = rollup_reports(ws, DAY, now=at(11), only="kts_daily")
    tables = archive_tables(rollups[0], workbooks_read=0)
    page = (report_line(rollups[0]), as_of_words(rollups[0].moment))

    def saved(book) -> bytes:
        out = io.BytesIO()
        Workbook.save(book, out)
        return out.getvalue()

    times: dict[str, list[float]] = {"text": [], "memory": [], "openpyxl": []}
    ours = archive_xlsx.workbook_bytes
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(repeat):
                for way in times:
                    archive_xlsx.BY_TEXT = way == "text"
                    archive_xlsx.workbook_bytes = saved if way == "openpyxl" else ours
                    start = time.perf_counter()
                    archive_xlsx.write_book(tables, page, Path(tmp) / f"{way}{n}.xlsx")
                    times[way].append(time.perf_counter() - start)
    finally:
        archive_xlsx.BY_TEXT, archive_xlsx.workbook_bytes = True, ours
    ms = {way: _median(values) * 1000 for way, values in times.items()}
    print(f"archive written in full ({len(tables)} sheets): as text {ms['text']:6.1f} ms   "
          f"openpyxl objects saved in memory {ms['memory']:6.1f} ms "
          f"({ms['memory'] / ms['text']:.1f}×)   and by Workbook.save {ms['openpyxl']:6.1f} ms")


def readers(config: Path, reads: int) -> None:
    """``reads`` changed workbooks read and collected: the store as it reads (calamine where
    a tab holds no formula nor error cell, openpyxl else) against the store reading with
    openpyxl only, the same workbooks in the same run; then a whole ``collect`` of them."""
    from toolkit.backends import xlsx_calamine
    from toolkit.backends.xlsx import XlsxStore
    from toolkit.collect import window
    from toolkit.layout import period_keys
    from toolkit.workspace import open_workspace

    with open_workspace(config) as ws:
        windows = {s.tab: window(s, period_keys(s, *ws.campaign)) for s in ws.specs}
        names = sorted(p.name for p in ws.config.workbooks_dir.glob("*.xlsx"))
    picked = [names[i % len(names)] for i in range(reads)]
    store = XlsxStore(config.parent / "workbooks")
    quick = sum(xlsx_calamine.read_windows(store.path(n).read_bytes(), windows) is not None
                for n in picked)
    seconds = {}
    for reader in (False, True):
        store.calamine = reader
        start = time.perf_counter()
        for name in picked:
            store.read(name, windows)
        seconds[reader] = time.perf_counter() - start
    print(f"read {reads} changed workbooks: store {seconds[True]:5.2f} s ({quick} by calamine)"
          f"   openpyxl only {seconds[False]:5.2f} s   ({seconds[False] / seconds[True]:.1f}×)")
    collects(config, len(names))


def collects(config: Path, changed: int) -> None:
    """``toolkit collect`` after ``changed`` communes typed, with each reader in turn (the
    ledger copied back between them, so both collect the same changes)."""
    from toolkit.backends.xlsx import XlsxStore

    seconds = {}
    for reader in (False, True):
        saved = tempfile.mkdtemp()
        shutil.copytree(config.parent, Path(saved) / "p")
        type_everyone(config, at(11))
        XlsxStore.calamine = reader
        try:
            start = time.perf_counter()
            result = CliRunner().invoke(cli, ["collect", "--config", str(config), "--now",
                                              at(11, 5).strftime("%Y-%m-%d %H:%M")])
            seconds[reader] = time.perf_counter() - start
            assert result.exit_code == 0, result.output
        finally:
            XlsxStore.calamine = True
        shutil.rmtree(config.parent)
        shutil.copytree(Path(saved) / "p", config.parent)
        shutil.rmtree(saved)
    print(f"collect after {changed} communes typed: store {seconds[True]:5.2f} s   openpyxl only "
          f"{seconds[False]:5.2f} s   ({seconds[False] / seconds[True]:.1f}×)")


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def bench(communes: int, reads: int, keep: Path | None, profile: bool,
          only_reads: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp) / "province"
        config = folder / "toolkit.toml"
        started = time.perf_counter()
        if not config.exists():
            build(folder, communes)
            took = time.perf_counter() - started
            print(f"setup: {communes} communes provisioned in {took:.0f} s")
        fresh = tempfile.mkdtemp()
        shutil.copytree(folder, Path(fresh) / "p")     # every run starts from the provisioned state
        config = Path(fresh) / "p" / "toolkit.toml"
        try:
            if only_reads:
                type_everyone(config, at(9))
                readers(config, reads)
                return
            seconds, output = daily(config, at(8))
            print(f"sweep, every commune's feedback changed (first Kiểm tra): {seconds:5.2f} s   "
                  f"[{said(output, 'validate')}]")
            type_everyone(config, at(9))
            seconds, output = daily(config, at(10))
            print(f"sweep, every commune typed (read + Kiểm tra):            {seconds:5.2f} s   "
                  f"[{said(output, 'collect')}; {said(output, 'validate')}]")
            seconds, output = daily(config, at(10, 5))
            print(f"first quiet daily (from the record, read count → 0)     {seconds:5.2f} s   "
                  f"[{said(output, 'collect')}; {said(output, 'validate')}]")
            print(f"quiet daily, new process (imports included), from the record: "
                  f"{daily_process(config, at(10, 10)):5.2f} s")
            quiet_sweeps(config)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                daily(config, at(10, 50))
                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(r"toolkit|openpyxl|sqlite|pandas", 30)
            feedback_write(config)
            archive_saves(config)
            if reads:
                readers(config, reads)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=65)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the province here once and reuse it")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only-reads", action="store_true",
                        help="time the readers and collect only, after every commune typed")
    args = parser.parse_args()
    bench(args.communes, args.reads, args.keep, args.profile, args.only_reads)


if __name__ == "__main__":
    main()
