"""A province's working folder: config, registry, templates, store and ledger, checked together.

Everything is loaded and validated before any command writes anything.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import CONFIG_NAME, PACKAGED_TEMPLATES, Config, check_config, render_config
from toolkit.errors import BusyError, SetupError, TemplateError, ToolkitError
from toolkit.templates import ReportSpec, check_templates, choose

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.merged import Merger
    from toolkit.registry import Registry

log = logging.getLogger("toolkit")


def applied_grace(config, *, time_is_proof: bool) -> timedelta:
    """Grace after the deadline applies only where modified times cannot prove time (a folder
    of .xlsx files stamps each save exactly; Google's Drive times do not)."""
    return timedelta(0) if time_is_proof else timedelta(minutes=config.grace_minutes)


@dataclass
class Workspace:
    config: Config
    registry: Registry
    specs: list[ReportSpec]
    store: object
    ledger: object
    #: Old communes → the 2025 communes they became (``[paths] merged``): see
    #: :meth:`report_versions`.
    merger: Merger | None = None

    def report_versions(self, spec: ReportSpec, periods: list[str] | None = None, *,
                        read: pd.DataFrame | None = None) -> pd.DataFrame:
        """A report's row versions (``periods`` only, or ``read`` when the caller already has
        them from the ledger) as every reader of statuses and figures sees them: old
        communes' rows under the 2025 communes they became when the province has a table of
        merged communes (``merged.merged_versions``).

        Validate alone reads the ledger as it is (``frames.spec_versions``): its findings go
        onto each commune's own workbook, and an old commune's rows are not the new
        commune's to correct on its Kiểm tra tab."""
        from toolkit.frames import spec_versions
        from toolkit.merged import merged_versions

        versions = spec_versions(self.ledger, spec, periods) if read is None else read
        return merged_versions(versions, self.merger, self.registry)

    def __post_init__(self):
        self.specs = with_reporters(self.specs, self.registry)

    @property
    def campaign(self) -> tuple[date, date]:
        return self.config.campaign_start, self.config.campaign_end

    @property
    def grace(self) -> timedelta:
        return applied_grace(self.config,
                             time_is_proof=getattr(self.store, "modified_time_is_proof", False))

    @property
    def lock_path(self) -> Path:
        return lock_path(self.config)

    @contextmanager
    def exclusive(self, wait_seconds: float):
        """One run at a time per province (:func:`province_lock`), starting from a tidy
        folder."""
        with province_lock(self.config, wait_seconds):
            self._tidy()
            yield

    def _tidy(self) -> None:
        """With the lock held no other run is writing: whatever an interrupted write left in
        the workbooks' folder is put right now, however recent."""
        for line in self.store.tidy(everything=True):
            log.warning("%s", line)

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def lock_path(config: Config) -> Path:
    return config.ledger_path.with_name(config.ledger_path.name + ".lock")


@contextmanager
def province_lock(config: Config, wait_seconds: float):
    """One run at a time per province: wait up to ``wait_seconds``, then give up cleanly.

    A file lock beside the ledger (works on Windows too); the lock is released by the OS if
    the run is killed, so a crashed run never blocks the next one.
    """
    from filelock import FileLock, Timeout

    path = lock_path(config)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise BusyError(
            f"một lần chạy toolkit khác đang dùng {config.ledger_path.name} (khoá "
            f"{path.name}); đã chờ {wait_seconds:g} giây và không làm gì — lần chạy theo lịch "
            "kế tiếp sẽ làm bù"
        ) from None
    try:
        yield
    finally:
        lock.release()


def open_workspace(config_path: str | Path | None = None, template: str | None = None, *,
                   store_for: Callable[[Config], object] | None = None) -> Workspace:
    """The checked workspace; ``store_for`` opens the store instead of ``[backend]`` alone
    (the gsheets demo sends it to the fake Google, its pacer on the fake's clock)."""
    from toolkit.backends import open_store
    from toolkit.ledger import Ledger

    config, specs, registry = check_workspace(config_path, template)
    from toolkit.merged import province_merger

    merger = province_merger(config)
    store = (store_for or open_store)(config)
    return Workspace(config, registry, specs, store, Ledger(config.ledger_path), merger)


def with_reporters(specs: list[ReportSpec], registry) -> list[ReportSpec]:
    """The templates someone reports: a postal enterprise template (``reporters =
    "enterprises"``) only when the registry names an enterprise serving a commune. Asked for
    by name without one, it says what to fill in."""
    from toolkit.postal import SHEET, as_reporters

    if any(s.keyed for s in specs) and not as_reporters(registry).communes:
        kept = [s for s in specs if not s.keyed]
        if not kept:
            raise TemplateError(
                f"mẫu báo cáo '{specs[0].key}' do doanh nghiệp bưu chính báo cáo, nhưng "
                f"registry chưa có doanh nghiệp nào phục vụ xã: điền trang \"{SHEET}\" và cột "
                f"\"{SHEET}\" của các xã trong {registry.path.name}")
        return kept
    return specs


def check_workspace(config_path: str | Path | None = None, template: str | None = None, *,
                    remember: bool = True) -> tuple[Config, list[ReportSpec], Registry]:
    """toolkit.toml, every template and the registry, each checked completely.

    A problem in one never hides the others: every problem of the three is raised together,
    grouped by file, before any command opens the ledger or touches a workbook, so a person
    fixes them all in one go and a broken folder changes nothing. ``remember=False`` keeps
    the registry's check out of the folder: ``toolkit merge`` reads provinces it must not
    write into.
    """
    from toolkit.errors import RegistryError
    from toolkit.registry import load_registry, remember_registry

    checked = check_config(config_path)
    files = [checked.problems] if checked.problems else []
    notes: list[str] = []
    name = checked.path.name
    unreadable = checked.problems is not None and checked.problems.unreadable
    specs: tuple[ReportSpec, ...] = ()
    if checked.templates_dir is None:
        notes.append(f"các mẫu báo cáo: sẽ kiểm tra khi đọc được {name}" if unreadable
                     else f"các mẫu báo cáo: sẽ kiểm tra khi đã sửa [paths] templates trong "
                     f"{name}")
    else:
        templates = check_templates(checked.templates_dir)
        files += templates.files
        notes += templates.notes
        specs = templates.specs
    registry = None
    ledger = checked.config.ledger_path if checked.config else None
    cache = ledger.with_name(f"{ledger.name}.registry.json") if ledger else None
    if checked.registry_path is None:
        notes.append(f"danh sách xã: sẽ kiểm tra khi đọc được {name}" if unreadable
                     else f"danh sách xã: sẽ kiểm tra khi đã sửa [paths] registry trong {name}")
    else:
        try:
            registry = load_registry(checked.registry_path, cache=cache)
        except RegistryError as exc:
            files += exc.files
        else:
            from toolkit.goals import unknown_labels

            if (targets := unknown_labels(registry, specs)) and specs:
                files += RegistryError(checked.registry_path, targets).files
    if files:
        raise SetupError.of_files(files, notes)
    if remember and cache is not None and cache.parent.is_dir():
        remember_registry(registry, cache)
    return checked.config, choose(specs, template, checked.templates_dir), registry


@dataclass(frozen=True)
class InitResult:
    folder: Path
    config_path: Path
    registry_path: Path
    province: str
    communes: int
    #: From an old registry: what each 2025 commune was made of, one line each.
    mapped: tuple[str, ...] = ()


def init_province(folder: Path, province_name: str, *, backend: str = "xlsx",
                  today: date, campaign_days: int = 61, old_registry: Path | None = None,
                  merged: Path | None = None) -> InitResult:
    """Write toolkit.toml, registry.xlsx and the templates into ``folder``.

    registry.xlsx lists the province's official 2025 units, or, with ``old_registry`` and
    the province's table of ``merged`` communes, the communes of an old registry mapped to
    the 2025 ones; the table is kept in the folder so the rollup can show the old communes'
    figures under their 2025 commune.
    """
    from toolkit.units import find_province, write_registry, write_registry_template

    if (old_registry is None) != (merged is None):
        raise ToolkitError("danh sách xã cũ (--old-registry) cần đi cùng bảng xã sáp nhập "
                           "(--merged) và ngược lại: bảng cho biết mỗi mã xã cũ nay thuộc xã "
                           "nào")
    province = find_province(province_name)
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if config_path.exists():
        raise ToolkitError(f"{config_path} đã có; hãy chọn thư mục khác hoặc sửa tệp đó")
    mapped, kept = None, None
    if merged is not None:
        from toolkit.merged import load_merger, map_registry

        mapped = map_registry(old_registry, load_merger(merged), province.name)
        kept = "xa_sap_nhap" + Path(merged).suffix.lower()
    folder.mkdir(parents=True, exist_ok=True)
    registry_path = folder / "registry.xlsx"
    if mapped is None:
        count = write_registry_template(registry_path, province)
    else:
        write_registry(registry_path, province.name, mapped.rows, tuple(mapped.lines))
        count = len(mapped.rows)
        if Path(merged).resolve() != (folder / kept).resolve():
            shutil.copyfile(merged, folder / kept)
    templates = folder / "sheet_templates"
    templates.mkdir(exist_ok=True)
    for source in sorted(PACKAGED_TEMPLATES.glob("*.toml")):
        if not (templates / source.name).exists():
            shutil.copyfile(source, templates / source.name)
    end = today + timedelta(days=campaign_days - 1)
    config_path.write_text(
        render_config(province=province.name, province_code=province.code, backend=backend,
                      start=today, end=end, merged=kept),
        encoding="utf-8",
    )
    return InitResult(folder, config_path, registry_path, province.name, count,
                      tuple(mapped.lines) if mapped else ())


def resolve_day(day: date | None, now: datetime) -> date:
    return day or now.date()
