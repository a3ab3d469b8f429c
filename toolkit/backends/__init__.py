"""Workbook stores: where commune workbooks live. Verbs talk to them only through base.py."""

from __future__ import annotations

from toolkit.backends.base import WorkbookStore


def open_store(config) -> WorkbookStore:
    """The store named by ``[backend] kind`` in toolkit.toml."""
    if config.backend == "xlsx":
        from toolkit.backends.xlsx import XlsxStore

        return XlsxStore(config.workbooks_dir)
    if config.backend == "gsheets":
        from toolkit.backends.google.store import open_gsheets

        return open_gsheets(config.google)
    from toolkit.errors import ConfigError

    raise ConfigError(
        f"{config.path}: backend '{config.backend}' chưa có trong phiên bản này; "
        "hãy đặt [backend] kind = \"xlsx\""
    )
