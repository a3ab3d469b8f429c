"""Render a demo's archive (and one commune workbook) to PNG pages, to look at as printed.

    python scripts/render_pages.py /tmp/demo /tmp/demo-pages

Uses LibreOffice (soffice) to print each workbook to PDF and poppler's pdftoppm to turn every
page into a PNG; prints the PNG paths. Without a demo folder, run `toolkit demo DIR` first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def to_pdf(workbook: Path, folder: Path) -> Path:
    """The workbook printed by LibreOffice, as a person's File → Export as PDF would."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    with tempfile.TemporaryDirectory() as profile:     # a private profile: runs side by side
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
                       check=True, capture_output=True, timeout=300)
    return folder / workbook.with_suffix(".pdf").name


def to_pngs(pdf: Path, folder: Path, dpi: int = 60) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("poppler is not installed (apt-get install poppler-utils)")
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(folder.glob(f"{pdf.stem}-*.png"))


def latest_archive(demo: Path) -> Path:
    archives = sorted(p for p in (demo / "archive").rglob("*.xlsx") if "theo-han" not in p.name
                      and not p.name.startswith(".~"))
    if not archives:
        raise SystemExit(f"no archive under {demo / 'archive'}: run `toolkit demo {demo}`")
    daily = [p for p in archives if p.parent.parent.name == "kts_daily"]
    return (daily or archives)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("demo", type=Path, help="a folder made by `toolkit demo`")
    parser.add_argument("out", type=Path, help="where the PDFs and PNGs go")
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--no-commune", action="store_true",
                        help="only the archive, not a commune workbook")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    books = [latest_archive(args.demo)]
    if not args.no_commune:
        books += sorted((args.demo / "workbooks").glob("*.xlsx"))[:1]
    for book in books:
        for png in to_pngs(to_pdf(book, args.out), args.out, args.dpi):
            print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
