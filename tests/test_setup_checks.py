"""Check everything, then act: toolkit.toml, the templates and the registry are checked
together, every problem of the three is printed at once grouped by file, and a command run on
a broken folder changes nothing in it."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import make_province, run, type_row
from toolkit.errors import SetupError
from toolkit.registry import HEADERS

DAY = "2026-11-20"


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(needle))


def misspell_grace(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("grace_minutes = 5", "grace_minuts = 15"), encoding="utf-8")


def calendar_at_the_end(config: Path) -> None:
    """A top-level setting added at the end of kts_daily.toml, so TOML reads it into the last
    [[targets]] table: silently ignored before."""
    path = config.parent / "sheet_templates" / "kts_daily.toml"
    path.write_text(path.read_text(encoding="utf-8") + 'calendar = "working_days"\n',
                    encoding="utf-8")


def delete_households(config: Path) -> None:
    path = config.parent / "registry.xlsx"
    book = load_workbook(path)
    sheet = book.worksheets[0]
    column = next(c.column for c in sheet[1] if c.value == HEADERS["households"])
    sheet.delete_cols(column)
    book.save(path)


BREAKS = {"config": misspell_grace, "template": calendar_at_the_end,
          "registry": delete_households}


def test_problems_of_config_templates_and_registry_are_printed_together(province):
    for brk in BREAKS.values():
        brk(province)
    template = (province.parent / "sheet_templates" / "kts_daily.toml").resolve()
    registry = (province.parent / "registry.xlsx").resolve()
    result = run("provision", config=province, now="2026-11-20 08:00")
    assert result.exit_code == 2
    assert result.stderr == (
        "Lỗi: chưa thay đổi gì — hãy sửa 3 lỗi trong 3 tệp trước, rồi chạy lại lệnh:\n"
        f"{province}: 1 lỗi:\n"
        f"  - dòng {line_of(province, 'grace_minuts')}: [timeliness] grace_minuts không phải "
        "một thiết lập đã biết — có phải ý bạn là grace_minutes? Sửa lại tên, hoặc xoá dòng này\n"
        f"{template}: 1 lỗi:\n"
        f"  - dòng {line_of(template, 'calendar')}: [[targets]] #3 (trading): calendar là "
        "thiết lập đầu tệp, nhưng TOML đọc mọi dòng dưới tiêu đề [[targets]] là thuộc "
        "[[targets]] — chuyển dòng này lên trên tiêu đề đầu tiên ([[fields]])\n"
        f"{registry}: 1 lỗi trong danh sách xã:\n"
        '  - thiếu cột bắt buộc "Số hộ gia đình" — thêm lại: gõ "Số hộ gia đình" vào dòng tiêu '
        "đề, trên một cột trống, và điền bên dưới số hộ gia đình của từng xã (được để trống; "
        "khi đó các chỉ tiêu % của xã để trống)\n"
        "Chưa kiểm tra:\n"
        "  - buu_chinh_daily.toml: reconciles_with 'kts_daily.new_shops', "
        "'kts_daily.new_accounts' chỉ kiểm tra được khi kts_daily.toml đọc được\n"
        "  - cds_monthly.toml: reconciles_with 'kts_daily.new_shops', 'kts_daily.new_accounts' "
        "chỉ kiểm tra được khi kts_daily.toml đọc được\n"
    )


def test_the_library_raises_one_error_with_the_problems_of_each_file(province):
    from toolkit.workspace import open_workspace

    for brk in BREAKS.values():
        brk(province)
    with pytest.raises(SetupError) as caught:
        open_workspace(province)
    folder = province.parent.resolve()
    assert [(Path(f.path).resolve(), len(f.problems)) for f in caught.value.files] == [
        (folder / "toolkit.toml", 1), (folder / "sheet_templates" / "kts_daily.toml", 1),
        (folder / "registry.xlsx", 1)]
    assert len(caught.value.notes) == 2           # buu_chinh_daily and cds_monthly wait


def test_an_unreadable_config_says_what_waits_for_it(province):
    province.write_text(province.read_text(encoding="utf-8").replace("code = 20", "code = "),
                        encoding="utf-8")
    result = run("collect", config=province, now="2026-11-20 08:00")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Lỗi: chưa thay đổi gì — hãy sửa 1 lỗi trong 1 tệp trước, rồi chạy lại lệnh:\n"
        f"{province}: không phải TOML hợp lệ (")
    assert result.stderr.endswith(
        "; hãy sửa dòng được nêu\n"
        "Chưa kiểm tra:\n"
        "  - các mẫu báo cáo: sẽ kiểm tra khi đọc được toolkit.toml\n"
        "  - danh sách xã: sẽ kiểm tra khi đọc được toolkit.toml\n")


def test_a_registry_path_that_cannot_be_read_waits_and_the_templates_are_still_checked(province):
    text = province.read_text(encoding="utf-8").replace('registry = "registry.xlsx"',
                                                        "registry = 7")
    province.write_text(text, encoding="utf-8")
    calendar_at_the_end(province)
    result = run("collect", config=province, now="2026-11-20 08:00")
    assert result.exit_code == 2
    assert "hãy sửa 2 lỗi trong 2 tệp trước" in result.stderr
    assert "  - [paths] registry = 7 phải là chữ đặt trong ngoặc kép\n" in result.stderr
    assert "kts_daily.toml: 1 lỗi" in result.stderr
    assert result.stderr.endswith(
        "  - danh sách xã: sẽ kiểm tra khi đã sửa [paths] registry trong toolkit.toml\n")


# nothing is written ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def worked(tmp_path_factory) -> Path:
    """A province after a day's work: workbooks, ledger, archive, logs and reminders."""
    config = make_province(tmp_path_factory.mktemp("worked"))
    assert run("provision", config=config, now="2026-11-20 08:00").exit_code == 0
    type_row(config, "06040", "Báo cáo ngày", date(2026, 11, 20),
             {"Số cửa hàng số mở mới": 2, "Số tài khoản thanh toán điện tử mở mới": 3},
             at="2026-11-20 10:00")
    assert run("daily", config=config, now="2026-11-20 18:00").exit_code == 0
    assert run("remind", "--date", DAY, config=config, now="2026-11-20 18:05").exit_code == 0
    return config.parent


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns,
                                         hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


COMMANDS = {
    "provision": ["provision"],
    "collect": ["collect"],
    "validate": ["validate", "--date", DAY],
    "rollup": ["rollup", "--date", DAY],
    "daily": ["daily", "--date", DAY],
    "remind": ["remind", "--date", DAY],
    "status": ["status", "--date", DAY],
    "doctor": ["doctor"],
    "dry-run": ["provision", "--dry-run"],
}


@pytest.mark.parametrize("broken", BREAKS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_broken_folder_is_left_exactly_as_it_was(worked, tmp_path, broken, command):
    folder = tmp_path / "lang-son"
    shutil.copytree(worked, folder)
    config = folder / "toolkit.toml"
    BREAKS[broken](config)
    before = snapshot(folder)
    assert any(name.startswith("archive") for name in before)
    result = run(*COMMANDS[command], config=config, now="2026-11-21 18:00")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Lỗi: chưa thay đổi gì — hãy sửa 1 lỗi trong ")
    assert snapshot(folder) == before


@pytest.mark.parametrize("broken", BREAKS)
def test_a_new_broken_folder_gets_no_ledger_workbook_archive_or_log(tmp_path, broken):
    config = make_province(tmp_path)
    BREAKS[broken](config)
    before = snapshot(config.parent)
    for args in COMMANDS.values():
        assert run(*args, config=config, now="2026-11-20 18:00").exit_code == 2
    assert snapshot(config.parent) == before
    assert sorted(p.name for p in config.parent.iterdir()) == [
        "registry.xlsx", "sheet_templates", "toolkit.toml"]


def test_the_error_is_still_each_of_the_errors_a_broken_file_raised_before(province):
    from toolkit.errors import ConfigError, RegistryError, TemplateError
    from toolkit.workspace import open_workspace

    delete_households(province)
    with pytest.raises(RegistryError) as caught:
        open_workspace(province)
    assert isinstance(caught.value, ConfigError | TemplateError | SetupError)
    assert caught.value.path == (province.parent / "registry.xlsx").resolve()
    assert caught.value.problems == [
        'thiếu cột bắt buộc "Số hộ gia đình" — thêm lại: gõ "Số hộ gia đình" vào dòng tiêu đề, '
        "trên một cột trống, và điền bên dưới số hộ gia đình của từng xã (được để trống; khi "
        "đó các chỉ tiêu % của xã để trống)"]


def test_with_several_broken_files_each_problem_names_its_file(province):
    from toolkit.workspace import open_workspace

    misspell_grace(province)
    delete_households(province)
    with pytest.raises(SetupError) as caught:
        open_workspace(province)
    assert caught.value.path is None
    assert [p.split(": ")[0] for p in caught.value.problems] == [
        str(province), str((province.parent / "registry.xlsx").resolve())]
