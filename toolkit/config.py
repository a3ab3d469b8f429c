"""toolkit.toml → a frozen Config, checked completely before anything runs."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from toolkit.errors import ConfigError

CONFIG_NAME = "toolkit.toml"
BACKENDS = ("xlsx", "gsheets")
PACKAGED_TEMPLATES = Path(__file__).parent / "sheet_templates"


@dataclass(frozen=True)
class Config:
    path: Path
    province: str
    province_code: int
    backend: str
    registry_path: Path
    templates_dir: Path
    workbooks_dir: Path
    ledger_path: Path
    archive_dir: Path
    campaign_start: date
    campaign_end: date
    grace_minutes: int

    @property
    def root(self) -> Path:
        return self.path.parent


def find_config(explicit: str | Path | None) -> Path:
    """``--config``, else $TOOLKIT_CONFIG, else ./toolkit.toml."""
    candidate = explicit or os.environ.get("TOOLKIT_CONFIG") or CONFIG_NAME
    path = Path(candidate)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no configuration at {path}: run `toolkit init DIR --province \"Lạng Sơn\"` "
            "first, or pass --config DIR/toolkit.toml"
        )
    return path


def load_config(explicit: str | Path | None = None) -> Config:
    path = find_config(explicit)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names") from exc
    problems: list[str] = []
    root = path.parent

    def get(section: str, key: str, kind: type, default=None):
        value = data.get(section, {}).get(key, default)
        if value is None:
            problems.append(f"[{section}] {key} is missing")
        elif not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            problems.append(f"[{section}] {key} = {value!r} should be a {kind.__name__}")
            return default
        return value

    def folder(key: str, default: str) -> Path:
        value = get("paths", key, str, default)
        return (root / (value or default)).resolve()

    province = get("province", "name", str)
    code = get("province", "code", int)
    backend = get("backend", "kind", str, "xlsx")
    if backend not in BACKENDS:
        problems.append(f"[backend] kind = {backend!r} should be one of {', '.join(BACKENDS)}")
    start = get("campaign", "start", date)
    end = get("campaign", "end", date)
    if isinstance(start, date) and isinstance(end, date) and end < start:
        problems.append(f"[campaign] end {end} is before start {start}")
    grace = get("timeliness", "grace_minutes", int, 5)
    if isinstance(grace, int) and not 0 <= grace <= 120:
        problems.append(f"[timeliness] grace_minutes = {grace} should be between 0 and 120")
    templates = data.get("paths", {}).get("templates")
    config = dict(
        registry_path=folder("registry", "registry.xlsx"),
        templates_dir=(root / templates).resolve() if templates else PACKAGED_TEMPLATES,
        workbooks_dir=folder("workbooks", "workbooks"),
        ledger_path=folder("ledger", "ledger.sqlite"),
        archive_dir=folder("archive", "archive"),
    )
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{path}: {len(problems)} problem(s):\n{listing}")
    return Config(
        path=path.resolve(),
        province=province,
        province_code=code,
        backend=backend,
        campaign_start=start,
        campaign_end=end,
        grace_minutes=grace,
        **config,
    )


def render_config(*, province: str, province_code: int, backend: str, start: date,
                  end: date) -> str:
    """The toolkit.toml that ``toolkit init`` writes, commented for the province office."""
    return f"""\
# Commune report toolkit — settings for one province.
[province]
name = "{province}"
code = {province_code}

[backend]
# xlsx: a folder of Excel workbooks, one per commune. gsheets: Google Sheets.
kind = "{backend}"

[campaign]
# Daily rows are pre-filled for every day from start to end (inclusive).
start = {start.isoformat()}
end = {end.isoformat()}

[timeliness]
# Minutes after the deadline a Google Sheets sweep may still prove a row on time.
grace_minutes = 5

[paths]
registry = "registry.xlsx"
templates = "sheet_templates"
workbooks = "workbooks"
ledger = "ledger.sqlite"
archive = "archive"
"""
