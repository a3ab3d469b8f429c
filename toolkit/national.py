"""merge: several provinces' ledgers as one national rollup and archive, read-only.

Each province keeps running on its own (one instance, one Google account and quota each,
DESIGN §8); the national view only reads what they have stored. So a province's folder is
never written: its lock is not taken (a live ``toolkit daily`` goes on undisturbed), its
registry check is not remembered beside its ledger, and its ledger is not opened the ordinary
way — SQLite would leave ``-wal``/``-shm`` files beside a WAL ledger nobody else has open, and
the columnar cache would write ``<ledger>.columns/``. A ledger with a live writer (its
``-wal`` is there) is read through a ``mode=ro`` connection, which creates nothing; any other
is copied under ``--out`` first and read there, the copy checked against the original's size
and time so a run that started meanwhile is noticed; the columnar cache of each ledger is kept
under ``--out`` too.

The communes of all provinces then form one registry whose areas are the provinces (each
commune's district becomes its province's name), and the ordinary rollup and archive
(rollup.py, archive.py, dashboard.py) do the rest: the same tabs, a total per province and
for the country, and each province's reporting rates.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from toolkit.config import CONFIG_NAME, Config
from toolkit.errors import ToolkitError
from toolkit.merged import Merger, merged_versions, province_merger
from toolkit.registry import Registry
from toolkit.templates import ReportSpec
from toolkit.versions import CODE_PREFIX
from toolkit.workspace import applied_grace

NATION = "Toàn quốc"
#: Words of the province's pages, and what they say on the national ones.
WORDS = {"Toàn tỉnh": NATION, "Huyện (cũ)": "Tỉnh", "Theo huyện": "Theo tỉnh",
         "Xếp hạng thi đua (huyện)": "Xếp hạng thi đua (tỉnh)"}
COPY_ATTEMPTS = 3
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Province:
    """One province folder as the merge reads it."""

    folder: Path
    config: Config
    specs: tuple[ReportSpec, ...]
    registry: Registry
    merger: Merger | None = None      # the province's own ``[paths] merged`` table

    @property
    def name(self) -> str:
        return self.config.province

    @property
    def grace(self) -> timedelta:
        # The ledger was written by the province's own store: the xlsx one proves time.
        return applied_grace(self.config, time_is_proof=self.config.backend == "xlsx")

    @property
    def campaign(self) -> tuple[date, date]:
        return self.config.campaign_start, self.config.campaign_end


@dataclass(frozen=True)
class NationalResult:
    provinces: tuple[str, ...]
    rollups: tuple            # toolkit.rollup.Rollup, one per report due on the day
    archives: tuple[Path, ...]
    #: (report, period, campaign) of the reports whose period on the day is not expected.
    not_due: tuple[tuple[ReportSpec, str, tuple[date, date]], ...] = ()
    #: The postal enterprises' reports, left to each province's own archive (see merge).
    left_out: tuple[ReportSpec, ...] = ()


def open_province(folder: Path, template: str | None = None) -> Province:
    """A province folder checked as every command checks it, without writing into it."""
    from toolkit.workspace import check_workspace

    folder = Path(folder)
    if not (folder / CONFIG_NAME).is_file():
        raise ToolkitError(f"{folder}: không phải thư mục của một tỉnh (không có {CONFIG_NAME}); "
                           "hãy chỉ tới thư mục đã tạo bằng toolkit init")
    try:
        config, specs, registry = check_workspace(folder / CONFIG_NAME, template, remember=False)
        merger = province_merger(config)
    except ToolkitError as exc:
        raise ToolkitError(f"{folder}: {exc}") from None
    if not config.ledger_path.is_file():
        raise ToolkitError(f"{folder}: chưa có sổ cái {config.ledger_path} — tỉnh này chưa "
                           "thu thập lần nào; hãy chạy toolkit daily ở tỉnh đó trước, hoặc bỏ "
                           "thư mục này khỏi lệnh")
    return Province(folder, config, tuple(specs), registry, merger)


def merge(folders: list[Path], out: Path, day: date, *, now: datetime,
          as_of_mode: str = "now", template: str | None = None,
          progress: Progress | None = None) -> NationalResult:
    """The national rollup and archive of every report the provinces share, for ``day``.

    Everything is checked first (each folder, the provinces' templates and campaigns agree, no
    commune in two provinces); only then is anything written, and only under ``out``.
    """
    from toolkit.archive import archive_tables, write_archive
    from toolkit.rollup import build_rollup
    from toolkit.status import expected_periods

    say = progress or (lambda line: None)
    provinces = [open_province(f, template) for f in folders]
    _check_apart(provinces)
    # A postal enterprise's report is the province's own: its enterprises' codes (VTP, BĐT)
    # repeat from province to province, and what it is checked against is the province's
    # communes, on its own archive's «Đối chiếu bưu chính». The nation adds up communes.
    shared = _shared_specs(provinces)
    left_out = tuple(s for s in shared if s.keyed)
    specs = [s for s in shared if not s.keyed]
    if not specs:
        raise ToolkitError(
            f"mẫu {', '.join(s.key for s in left_out)} do doanh nghiệp bưu chính của từng tỉnh "
            "báo cáo; toolkit merge chỉ gộp báo cáo của xã — xem báo cáo bưu chính trong tệp "
            "lưu trữ của từng tỉnh (thư mục archive/)")
    registry = national_registry(provinces)
    out = Path(out)
    due, not_due = [], []
    for spec in specs:
        campaign, grace = _same_rules(provinces, spec)
        period = spec.deadline.key_on(day)
        if expected_periods(spec, [period], campaign):
            due.append((spec, campaign, grace))
        else:
            not_due.append((spec, period, campaign))
    read: dict[str, list[pd.DataFrame]] = {spec.key: [] for spec, _, _ in due}
    for province in provinces:
        say(f"{province.name}: đọc sổ cái {province.config.ledger_path}")
        for spec, frames in zip([s for s, _, _ in due], read.values(), strict=True):
            frames.append(read_province(province, spec, out))
    rollups, paths = [], []
    for spec, campaign, grace in due:
        # Each province's frame carries its keys as its own sorted categoricals; once joined
        # they are not one ordering, so the joined frame is grouped by its text.
        versions = pd.concat(read[spec.key], ignore_index=True)
        versions = versions.drop(columns=[c for c in versions.columns
                                          if c.startswith(CODE_PREFIX)])
        rollup = build_rollup(spec, registry, versions, day, as_of_mode=as_of_mode, now=now,
                              grace=grace, campaign=campaign)
        rollup = replace(rollup, province="")
        tables = [national_words(t, provinces) for t in archive_tables(rollup, workbooks_read=0)]
        say(f"{NATION}: ghi tệp lưu trữ {spec.key}")
        rollups.append(rollup)
        paths.append(write_archive(rollup, out, workbooks_read=0, tables=tables))
    return NationalResult(tuple(p.name for p in provinces), tuple(rollups), tuple(paths),
                          tuple(not_due), left_out)


def national_registry(provinces: list[Province]) -> Registry:
    """Every province's communes, each in its province as the area the rollup totals by."""
    communes = tuple(replace(c, district=p.name) for p in provinces for c in p.registry.communes)
    return Registry(Path(NATION), communes, ())


def read_province(province: Province, spec: ReportSpec, out: Path) -> pd.DataFrame:
    """A report's versions in a province's ledger, the province's folder left as it was, its
    old communes' rows under its 2025 communes by its own table (as its own status and
    rollup show them: ``merged.merged_versions``).

    The columnar cache lives under ``out`` whichever way the ledger is read: it is checked
    against the ledger's last version, so a later merge reads only what was added since.
    """
    from toolkit.versions import read_versions

    ledger = province.config.ledger_path
    fields = [f.key for f in spec.fields]
    numeric = [f.key for f in spec.fields if f.numeric]
    folder = out / ".so-cai"
    cache = folder / f"{province.config.province_code:02d}.columns"
    try:
        if _live(ledger):
            db = sqlite3.connect(f"{ledger.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            db = sqlite3.connect(_snapshot(province, folder))
        try:
            versions = read_versions(db, spec.key, None, fields, numeric, cache=cache)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise ToolkitError(
            f"{province.folder}: không đọc được sổ cái {ledger} ({exc}); hãy chạy toolkit "
            "doctor ở tỉnh đó, hoặc bỏ thư mục này khỏi lệnh") from None
    try:
        return merged_versions(versions, province.merger, province.registry)
    except ToolkitError as exc:
        raise ToolkitError(f"{province.folder}: {exc}") from None


def _live(ledger: Path) -> bool:
    """Whether a run has the ledger open: SQLite keeps ``-wal`` only while one does."""
    return ledger.with_name(ledger.name + "-wal").exists()


def _snapshot(province: Province, folder: Path) -> Path:
    """A copy of a ledger nobody has open, under ``folder``, with the ledger's size and time:
    one already there that still has them is used as it is. A copy during which a run opened
    or changed the ledger is taken again."""
    ledger = province.config.ledger_path
    target = folder / f"{province.config.province_code:02d}.sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(COPY_ATTEMPTS):
        before = _stamp(ledger)
        if target.exists() and _stamp(target) == before:
            return target
        shutil.copy2(ledger, target)
        if _stamp(ledger) == before == _stamp(target) and not _live(ledger):
            return target
    raise ToolkitError(f"{province.folder}: sổ cái {ledger} thay đổi trong lúc sao chép "
                       f"{COPY_ATTEMPTS} lần; hãy chạy lại lệnh sau ít phút")


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def national_words(table, provinces: list[Province]):
    """A province page made national: province instead of district, the country's total."""
    frame = table.frame.rename(columns=WORDS)
    frame = frame.map(lambda v: WORDS.get(v, v) if isinstance(v, str) else v)
    if not table.header:                   # Thông tin: which provinces, read from where
        facts = [(k, v) for k, v in frame.itertuples(index=False)
                 if k not in ("Tỉnh", "Lần quét gần nhất")]
        names = ", ".join(p.name for p in provinces)
        facts.insert(2, ("Phạm vi", f"{NATION}: gộp {len(provinces)} tỉnh ({names})"))
        facts += [(f"Sổ cái tỉnh {p.name}", str(p.config.ledger_path)) for p in provinces]
        frame = pd.DataFrame(facts, columns=frame.columns)
    charts = tuple(replace(c, title=c.title.replace("Toàn tỉnh", NATION))
                   for c in table.charts)
    return replace(table, name=WORDS.get(table.name, table.name), frame=frame,
                   percent=frozenset(WORDS.get(h, h) for h in table.percent),
                   status=WORDS.get(table.status, table.status), charts=charts,
                   shade=frozenset(WORDS.get(h, h) for h in table.shade))


def _check_apart(provinces: list[Province]) -> None:
    """No province twice, no commune in two provinces: totals would count it twice."""
    seen: dict[str, int] = {}
    for at, province in enumerate(provinces):
        for commune in province.registry.communes:
            other = seen.setdefault(commune.code, at)
            if other != at:
                raise ToolkitError(
                    f"{province.folder}: xã {commune.display_name} (mã {commune.code}) đã có "
                    f"trong {provinces[other].folder}; mỗi tỉnh chỉ được gộp một lần — hãy bỏ "
                    "thư mục trùng")


def _shared_specs(provinces: list[Province]) -> list[ReportSpec]:
    keys = set.intersection(*({s.key for s in p.specs} for p in provinces))
    if not keys:
        raise ToolkitError("các tỉnh không có mẫu báo cáo chung nào để gộp: "
                           + "; ".join(f"{p.folder}: {', '.join(s.key for s in p.specs)}"
                                       for p in provinces))
    return [s for s in provinces[0].specs if s.key in keys]


def _same_rules(provinces: list[Province], spec: ReportSpec) -> tuple[tuple[date, date],
                                                                       timedelta]:
    """The campaign and grace every province applies to ``spec``: they decide each commune's
    status, so provinces that differ in them cannot share one national table."""
    first = provinces[0]
    for province in provinces[1:]:
        theirs = next(s for s in province.specs if s.key == spec.key)
        if _shape(theirs) != _shape(spec):
            raise ToolkitError(
                f"{province.folder}: mẫu {spec.key} khác với ở {first.folder} (trường, kỳ, hạn "
                "nộp hoặc chỉ tiêu); hãy dùng cùng một tệp sheet_templates/"
                f"{spec.key}.toml ở mọi tỉnh được gộp")
        for what, mine, other in (("đợt chiến dịch [campaign]", first.campaign,
                                   province.campaign),
                                  ("thời gian ân hạn (grace_minutes, theo loại lưu trữ)",
                                   first.grace, province.grace)):
            if mine != other:
                raise ToolkitError(
                    f"{province.folder}: {what} khác với ở {first.folder} ({_shown(other)} so "
                    f"với {_shown(mine)}); tình trạng báo cáo của các xã tính theo đó, nên "
                    "chỉ gộp được các tỉnh giống nhau ở điểm này")
    return first.campaign, first.grace


def _shape(spec: ReportSpec) -> tuple:
    """What of a template decides the rollup: its period, deadline, fields and targets."""
    return (spec.period, repr(spec.deadline),
            tuple((f.key, f.aggregate, f.numeric) for f in spec.fields),
            tuple((t.key, t.numerator, t.threshold) for t in spec.targets))


def _shown(value) -> str:
    if isinstance(value, tuple):
        return " – ".join(f"{d:%d/%m/%Y}" for d in value)
    return f"{int(value.total_seconds() // 60)} phút"
