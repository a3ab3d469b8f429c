"""The shipped templates are found through the installed package, and pyproject ships every package.

sheet_templates/ sits at the repository's top level and installs as ``toolkit.sheet_templates``
(pyproject's package-dir); a package-dir mapping needs an explicit packages list, which must keep
up with toolkit/'s subpackages or a wheel install would miss one while an editable install (and
so the rest of this suite) would not notice.
"""

import tomllib
from importlib.resources import files
from pathlib import Path

from toolkit.config import PACKAGED_TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["bcd_quarterly.toml", "buu_chinh_daily.toml", "cds_monthly.toml",
           "committee_roster.toml", "kts_daily.toml", "team_roster.toml"]


def test_the_shipped_templates_are_found_through_the_package():
    package = files("toolkit.sheet_templates")
    assert sorted(p.name for p in package.iterdir() if p.name.endswith(".toml")) == SHIPPED
    assert PACKAGED_TEMPLATES == Path(package)
    assert sorted(p.name for p in (ROOT / "sheet_templates").glob("*.toml")) == SHIPPED
    assert not (ROOT / "toolkit" / "sheet_templates").exists()


def test_pyproject_ships_every_package_and_the_templates():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]
    subpackages = sorted(".".join(init.parent.relative_to(ROOT).parts)
                         for init in (ROOT / "toolkit").rglob("__init__.py"))
    assert sorted(setuptools["packages"]) == sorted([*subpackages, "toolkit.sheet_templates"])
    assert setuptools["package-dir"] == {"toolkit.sheet_templates": "sheet_templates"}
    assert setuptools["package-data"] == {"toolkit.sheet_templates": ["*.toml"]}
