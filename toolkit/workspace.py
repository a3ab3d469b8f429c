"""A province's working folder: config, registry, templates, store and ledger, checked together.

Everything is loaded and validated before any command writes anything.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from toolkit.config import CONFIG_NAME, PACKAGED_TEMPLATES, Config, load_config, render_config
from toolkit.errors import BusyError, ConfigError, ToolkitError
from toolkit.templates import ReportSpec, load_templates


@dataclass
class Workspace:
    config: Config
    registry: object
    specs: list[ReportSpec]
    store: object
    ledger: object

    @property
    def campaign(self) -> tuple[date, date]:
        return self.config.campaign_start, self.config.campaign_end

    @property
    def grace(self) -> timedelta:
        """Grace after the deadline applies only where modified times cannot prove time."""
        proof = getattr(self.store, "modified_time_is_proof", False)
        return timedelta(0) if proof else timedelta(minutes=self.config.grace_minutes)

    @property
    def lock_path(self) -> Path:
        return self.config.ledger_path.with_name(self.config.ledger_path.name + ".lock")

    @contextmanager
    def exclusive(self, wait_seconds: float):
        """One run at a time per province: wait up to ``wait_seconds``, then give up cleanly.

        A file lock beside the ledger (works on Windows too); the lock is released by the OS
        if the run is killed, so a crashed run never blocks the next one.
        """
        from filelock import FileLock, Timeout

        lock = FileLock(self.lock_path)
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise BusyError(
                f"another toolkit run is using {self.config.ledger_path.name} (lock "
                f"{self.lock_path.name}); waited {wait_seconds:g} s and did nothing — the next "
                "scheduled run will catch up"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_workspace(config_path: str | Path | None = None, template: str | None = None) -> Workspace:
    from toolkit.backends import open_store
    from toolkit.ledger import Ledger
    from toolkit.registry import load_registry

    config = load_config(config_path)
    if not config.registry_path.is_file():
        raise ConfigError(f"registry {config.registry_path} not found; `toolkit init` creates one")
    specs = load_templates(config.templates_dir, only=template)
    registry = load_registry(config.registry_path)
    store = open_store(config)
    return Workspace(config, registry, specs, store, Ledger(config.ledger_path))


@dataclass(frozen=True)
class InitResult:
    folder: Path
    config_path: Path
    registry_path: Path
    province: str
    communes: int


def init_province(folder: Path, province_name: str, *, backend: str = "xlsx",
                  today: date, campaign_days: int = 61) -> InitResult:
    """Write toolkit.toml, registry.xlsx (official 2025 units) and the templates into ``folder``."""
    from toolkit.units import find_province, write_registry_template

    province = find_province(province_name)
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if config_path.exists():
        raise ToolkitError(f"{config_path} already exists; choose another folder or edit it")
    folder.mkdir(parents=True, exist_ok=True)
    registry_path = folder / "registry.xlsx"
    count = write_registry_template(registry_path, province)
    templates = folder / "sheet_templates"
    templates.mkdir(exist_ok=True)
    for source in sorted(PACKAGED_TEMPLATES.glob("*.toml")):
        if not (templates / source.name).exists():
            shutil.copyfile(source, templates / source.name)
    end = today + timedelta(days=campaign_days - 1)
    config_path.write_text(
        render_config(province=province.name, province_code=province.code, backend=backend,
                      start=today, end=end),
        encoding="utf-8",
    )
    return InitResult(folder, config_path, registry_path, province.name, count)


def resolve_day(day: date | None, now: datetime) -> date:
    return day or now.date()
