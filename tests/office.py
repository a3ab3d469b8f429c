"""LibreOffice and poppler, as a person opening a workbook would see it: an .xlsx converted to
PDF and its text. Tests that use them skip cleanly where they are not installed (.ci/run
installs LibreOffice)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")

needs_office = pytest.mark.skipif(SOFFICE is None or PDFTOTEXT is None,
                                  reason="LibreOffice (soffice) or poppler (pdftotext) missing")


def pdf_text(workbook: Path, folder: Path) -> str:
    """The text LibreOffice prints for every tab of ``workbook`` (pdftotext -layout). Its own
    profile folder, so a LibreOffice a person has open, or another test, does not interfere."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = (folder / "lo-profile").resolve().as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
                   check=True, capture_output=True, timeout=180)
    pdf = folder / (workbook.stem + ".pdf")
    return subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) missing")


def resaved(workbook: Path, folder: Path) -> Path:
    """``workbook`` as LibreOffice opens and saves it (.xlsx into ``folder``; rc 0 or it
    raises): what a person using LibreOffice leaves, and proof LibreOffice opens it."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = (folder / "lo-profile").resolve().as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(folder), str(workbook)],
                   check=True, capture_output=True, timeout=180)
    return folder / (workbook.stem + ".xlsx")
