"""P10: new commune workbooks are copied from one prototype per shape (toolkit/backends/
xlsx_prototype.py); each is, read back, the workbook openpyxl builds for that commune — cell
for cell, with its heights, widths, validations, protection and print setup — and holds
nothing of another commune's."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest
from office import needs_soffice, resaved
from openpyxl import load_workbook

from conftest import cell_look, make_province, run, trim_registry, workbook_of
from toolkit.backends import xlsx_prototype
from toolkit.backends.base import AddFeedbackTab, AddHelpTab, CreateWorkbook, SetVillages
from toolkit.backends.xlsx import XlsxStore
from toolkit.layout import HELP_TAB, LISTS_TAB

#: Villages as officers type them: markup characters, a formula-looking name, quotes, one
#: name in two communes, a long one, and a commune with none.
VILLAGES = {
    "06040": dict(households=1200, villages="Thôn A & B <1>; =SUM(A1:A3); Thôn \"Mới\"; "
                                            "Bản 'Nà' Lầu; " + "Thôn Rất Dài " * 12),
    "06001": dict(households=800, villages="; ".join(f"Thôn {i}" for i in range(1, 61))),
    "06019": dict(households=None, villages=""),
    "06202": dict(households=1500, villages="Thôn Phai Xả; Bản Còn Nưa; Thôn 1"),
}
CODES = tuple(VILLAGES)


def _provinces(tmp_path, monkeypatch) -> tuple:
    """The same province provisioned from prototypes and the openpyxl way; prototypes built."""
    fast = make_province(tmp_path / "fast")
    trim_registry(fast.parent / "registry.xlsx", VILLAGES)
    shutil.copytree(fast.parent, tmp_path / "slow" / fast.parent.name)
    slow = tmp_path / "slow" / fast.parent.name / fast.name
    built = []
    build = XlsxStore._prototype
    monkeypatch.setattr(XlsxStore, "_prototype",
                        lambda self, actions: built.append(1) or build(self, actions))
    result = run("provision", config=fast, now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(XlsxStore, "prototype", False)
    result = run("provision", config=slow, now="2026-11-20 08:00")
    assert result.exit_code == 0, result.output
    return fast, slow, len(built)


def _sheet(sheet) -> dict:
    """Everything of a sheet a person or the toolkit meets, comparable."""
    validations = sorted((str(v.sqref), v.type, v.formula1, v.formula2, v.operator,
                          v.promptTitle, v.prompt, v.errorTitle, v.error, v.errorStyle,
                          v.allow_blank) for v in sheet.data_validations.dataValidation)
    setup = sheet.page_setup
    return dict(
        state=sheet.sheet_state, extent=(sheet.max_row, sheet.max_column),
        cells=[[cell_look(c) for c in row] for row in sheet.iter_rows()],
        heights={r: d.height for r, d in sheet.row_dimensions.items() if d.height},
        widths={c: d.width for c, d in sheet.column_dimensions.items()},
        panes=sheet.freeze_panes, validations=validations,
        protection=(sheet.protection.sheet, sheet.protection.formatColumns,
                    sheet.protection.autoFilter),
        page=(setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight,
              sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.print_title_rows))


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_a_copied_workbook_is_the_one_openpyxl_builds_for_that_commune(tmp_path, monkeypatch):
    fast, slow, built = _provinces(tmp_path, monkeypatch)

    assert built == 1                           # four communes, one shape
    for code in CODES:
        ours, theirs = workbook_of(fast, code), workbook_of(slow, code)
        assert ours.name == theirs.name
        a, b = load_workbook(ours), load_workbook(theirs)
        assert a.sheetnames == b.sheetnames, code
        for tab in a.sheetnames:
            assert _sheet(a[tab]) == _sheet(b[tab]), (code, tab)
        assert [(p.name, p.value) for p in a.custom_doc_props] == \
            [(p.name, p.value) for p in b.custom_doc_props]
        assert dict(a.defined_names) .keys() == dict(b.defined_names).keys()
        assert _parts(ours).keys() == _parts(theirs).keys()
        villages = [r[0] for r in a[LISTS_TAB].iter_rows(min_row=2, values_only=True)]
        assert villages == [v.strip() for v in VILLAGES[code]["villages"].split(";")
                            if v.strip()], code


def test_no_workbook_holds_another_communes_name_or_villages(tmp_path, monkeypatch):
    fast, slow, _ = _provinces(tmp_path, monkeypatch)
    names = {code: load_workbook(workbook_of(slow, code))[HELP_TAB]["A1"].value
             .removeprefix("Sổ báo cáo của ") for code in CODES}
    own = {code: {names[code], *(v.strip() for v in VILLAGES[code]["villages"].split(";")
                                 if v.strip())} for code in CODES}

    for code in CODES:
        text = b"".join(_parts(workbook_of(fast, code)).values()).decode("utf-8", "replace")
        assert names[code] in text
        for other in CODES:
            for word in own[other] - own[code]:
                assert word.replace("&", "&amp;").replace("<", "&lt;") not in text, \
                    (code, other, word)
        assert not any(0xE000 <= ord(c) <= 0xF8FF for c in text), code  # no placeholder left


def test_what_a_prototype_cannot_stand_for_is_built_the_openpyxl_way():
    built = []
    prototypes = xlsx_prototype.Prototypes(lambda actions: built.append(actions) or b"")
    wrapped = "Sổ báo cáo của " + "Xã Rất Dài " * 10      # two lines tall in Hướng dẫn
    for actions in ([CreateWorkbook("x"), AddHelpTab((wrapped, "Cách nhập:"))],
                    [CreateWorkbook("x"), SetVillages(("Thôn\x07Chuông",))],
                    [CreateWorkbook("x"), SetVillages(("Thôn \ue000",))],
                    [AddFeedbackTab()]):                       # an existing workbook
        assert prototypes.workbook(actions) is None, actions
    assert built == []


@needs_soffice
def test_libreoffice_opens_a_copied_workbook_with_its_titles_and_villages(tmp_path,
                                                                          monkeypatch):
    fast, slow, _ = _provinces(tmp_path, monkeypatch)
    ours = load_workbook(io.BytesIO(resaved(workbook_of(fast, "06040"), tmp_path / "lo")
                                    .read_bytes()))
    theirs = load_workbook(workbook_of(slow, "06040"))

    for tab in theirs.sheetnames:
        assert ours[tab]["A1"].value == theirs[tab]["A1"].value, tab
    assert [r[0] for r in ours[LISTS_TAB].iter_rows(min_row=2, values_only=True)] == \
        [r[0] for r in theirs[LISTS_TAB].iter_rows(min_row=2, values_only=True)]
    assert ours[LISTS_TAB].sheet_state == "hidden"


@pytest.mark.parametrize("prototype", [True, False])
def test_a_second_provision_after_a_new_village_changes_only_the_list(tmp_path, monkeypatch,
                                                                     prototype):
    monkeypatch.setattr(XlsxStore, "prototype", prototype)
    config = make_province(tmp_path)
    trim_registry(config.parent / "registry.xlsx", VILLAGES)
    assert run("provision", config=config, now="2026-11-20 08:00").exit_code == 0
    changed = dict(VILLAGES, **{"06202": dict(households=1500, villages="Thôn Mới Lập")})
    trim_registry(config.parent / "registry.xlsx", changed)

    result = run("provision", config=config, now="2026-11-21 08:00")

    assert result.exit_code == 0, result.output
    book = load_workbook(workbook_of(config, "06202"))
    assert [r[0] for r in book[LISTS_TAB].iter_rows(min_row=2, values_only=True)] == \
        ["Thôn Mới Lập"]
