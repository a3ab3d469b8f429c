import re
import tomllib
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import one_letter_changed
from toolkit.config import PACKAGED_TEMPLATES, find_config, load_config, render_config
from toolkit.errors import ConfigError

LANG_SON = dict(province="Lạng Sơn", province_code=20, backend="xlsx",
                start=date(2026, 11, 1), end=date(2027, 1, 31))


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch):
    monkeypatch.delenv("TOOLKIT_CONFIG", raising=False)


def write_config(folder, text=None):
    path = folder / "toolkit.toml"
    path.write_text(text if text is not None else render_config(**LANG_SON), encoding="utf-8")
    return path


def problems_in(folder, text):
    write_config(folder, text)
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    return str(caught.value)


def test_rendered_config_loads_back(tmp_path):
    path = write_config(tmp_path)
    config = load_config(path)
    root = tmp_path.resolve()
    assert config.path == path.resolve()
    assert config.root == root
    assert config.province == "Lạng Sơn"
    assert config.province_code == 20
    assert config.backend == "xlsx"
    assert (config.campaign_start, config.campaign_end) == (date(2026, 11, 1), date(2027, 1, 31))
    assert config.grace_minutes == 5
    assert config.registry_path == root / "registry.xlsx"
    assert config.templates_dir == root / "sheet_templates"
    assert config.workbooks_dir == root / "workbooks"
    assert config.ledger_path == root / "ledger.sqlite"
    assert config.archive_dir == root / "archive"


@pytest.mark.parametrize("backend", ["xlsx", "gsheets"])
def test_the_notes_in_the_rendered_config_are_vietnamese(backend):
    text = render_config(**{**LANG_SON, "backend": backend})
    notes = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(notes) >= (18 if backend == "gsheets" else 9)
    english = r"\b(the|a|an|of|for|to|and|or|is|in|one|each|only|after|from|with|its)\b"
    assert [n for n in notes if re.search(english, n)] == []
    assert all(re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]",
                         n.lower()) for n in notes), notes
    assert tomllib.loads(text)["timeliness"]["grace_minutes"] == 5


def test_rendered_config_for_google_sheets(tmp_path):
    write_config(tmp_path, render_config(**{**LANG_SON, "backend": "gsheets"}))
    assert load_config(tmp_path).backend == "gsheets"


def test_minimal_config_uses_defaults_and_the_packaged_templates(tmp_path):
    write_config(tmp_path, '[province]\nname = "Cao Bằng"\ncode = 4\n'
                           "[campaign]\nstart = 2026-11-01\nend = 2026-11-30\n")
    config = load_config(tmp_path)
    assert config.backend == "xlsx"
    assert config.grace_minutes == 5
    assert config.templates_dir == PACKAGED_TEMPLATES
    assert config.ledger_path == tmp_path.resolve() / "ledger.sqlite"


def test_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    text = render_config(**LANG_SON).replace('ledger = "ledger.sqlite"', 'ledger = "data/l.db"')
    write_config(tmp_path, text)
    monkeypatch.chdir(tmp_path.parent)
    assert load_config(tmp_path / "toolkit.toml").ledger_path == tmp_path.resolve() / "data/l.db"


def test_find_config_in_a_directory(tmp_path):
    path = write_config(tmp_path)
    assert find_config(tmp_path) == path
    assert find_config(str(path)) == path


def test_find_config_in_the_working_directory(tmp_path, monkeypatch):
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert find_config(None).resolve() == (tmp_path / "toolkit.toml").resolve()


def test_find_config_from_the_environment(tmp_path, monkeypatch):
    path = write_config(tmp_path)
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("TOOLKIT_CONFIG", str(tmp_path))
    assert find_config(None) == path
    assert load_config().province == "Lạng Sơn"


def test_explicit_config_wins_over_the_environment(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    chosen = write_config(tmp_path / "a")
    write_config(tmp_path / "b")
    monkeypatch.setenv("TOOLKIT_CONFIG", str(tmp_path / "b"))
    assert find_config(tmp_path / "a") == chosen


def test_missing_config_says_to_run_toolkit_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value) == (
        'không có tệp cấu hình tại toolkit.toml: hãy chạy `toolkit init DIR --province "Lạng Sơn"` '
        "trước, hoặc dùng --config DIR/toolkit.toml"
    )


def test_missing_config_from_the_environment_names_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_CONFIG", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="toolkit init") as caught:
        find_config(None)
    assert f"không có tệp cấu hình tại {tmp_path / 'nowhere'}" in str(caught.value)


def test_invalid_toml_names_the_file(tmp_path):
    message = problems_in(tmp_path, '[province]\nname = "Lạng Sơn\n')
    assert message.startswith(f"{tmp_path / 'toolkit.toml'}: không phải TOML hợp lệ (")
    assert message.endswith("; hãy sửa dòng được nêu")


def test_every_bad_value_is_listed_at_once(tmp_path):
    text = (render_config(**LANG_SON)
            .replace("end = 2027-01-31", "end = 2026-10-01")
            .replace('kind = "xlsx"', 'kind = "onedrive"')
            .replace("grace_minutes = 5", "grace_minutes = 500")
            .replace("code = 20", 'code = "20"'))
    message = problems_in(tmp_path, text)
    assert message == (
        f"{tmp_path / 'toolkit.toml'}: 4 lỗi:\n"
        "  - [province] code = '20' phải là số nguyên\n"
        "  - [backend] kind = 'onedrive' phải là một trong xlsx, gsheets\n"
        "  - [campaign] end 2026-10-01 sớm hơn start 2026-11-01\n"
        "  - [timeliness] grace_minutes = 500 phải trong khoảng 0 đến 120"
    )


def test_wrong_types_and_missing_keys_are_listed(tmp_path):
    text = ('[province]\ncode = true\n[campaign]\nstart = "2026-11-01"\nend = 2026-11-30\n'
            '[timeliness]\ngrace_minutes = 5.5\n[paths]\nledger = 7\n')
    message = problems_in(tmp_path, text)
    assert "5 lỗi" in message
    for expected in ("[province] thiếu name",
                     "[province] code = True phải là số nguyên",
                     "[campaign] start = '2026-11-01' phải là ngày dạng 2026-11-01",
                     "[timeliness] grace_minutes = 5.5 phải là số nguyên",
                     "[paths] ledger = 7 phải là chữ đặt trong ngoặc kép"):
        assert expected in message


def test_grace_minutes_bounds(tmp_path):
    for grace, ok in ((0, True), (120, True), (-1, False), (121, False)):
        text = render_config(**LANG_SON).replace("grace_minutes = 5", f"grace_minutes = {grace}")
        write_config(tmp_path, text)
        if ok:
            assert load_config(tmp_path).grace_minutes == grace
        else:
            with pytest.raises(ConfigError, match="phải trong khoảng 0 đến 120"):
                load_config(tmp_path)


# Regression (toolkit/config.py, load_config): a datetime passes isinstance(value, date), so
# `start = 2026-11-01T08:00:00` with `end = 2026-11-30` makes `end < start` raise TypeError
# (can't compare datetime.datetime to datetime.date) instead of listing the problem.
def test_a_campaign_start_with_a_time_is_a_problem_not_a_crash(tmp_path):
    text = render_config(**LANG_SON).replace("start = 2026-11-01", "start = 2026-11-01T08:00:00")
    message = problems_in(tmp_path, text)
    assert "[campaign] start" in message


# Regression (toolkit/config.py, load_config): [paths] templates is not type-checked, so
# `templates = 5` reaches `root / 5` and raises TypeError instead of a ConfigError.
def test_a_templates_path_of_the_wrong_type_is_listed(tmp_path):
    text = render_config(**LANG_SON).replace('templates = "sheet_templates"', "templates = 5")
    message = problems_in(tmp_path, text)
    assert "[paths] templates = 5 phải là chữ đặt trong ngoặc kép" in message


# Regression (toolkit/config.py, load_config.get): `data.get(section, {}).get(key)` assumes every
# section is a table; `province = "Lạng Sơn"` raises AttributeError instead of a ConfigError.
def test_a_section_that_is_not_a_table_is_listed(tmp_path):
    text, replaced = re.subn(r'\[province\]\n(#.*\n)*name = "Lạng Sơn"\ncode = 20\n',
                             'province = "Lạng Sơn"\n', render_config(**LANG_SON))
    assert replaced == 1
    message = problems_in(tmp_path, text)
    assert "[province]" in message


# names the toolkit does not know ----------------------------------------------------------------

def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(needle))


def test_a_misspelt_setting_is_an_error_naming_the_line_and_the_setting_meant(tmp_path):
    text = render_config(**LANG_SON).replace("grace_minutes = 5", "grace_minuts = 15")
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        f"{path}: 1 lỗi:\n"
        f"  - dòng {line_of(text, 'grace_minuts')}: [timeliness] grace_minuts không phải một "
        "thiết lập đã biết — có phải ý bạn là grace_minutes? Sửa lại tên, hoặc xoá dòng này"
    )


def test_an_unknown_section_is_an_error_naming_the_section_meant(tmp_path):
    text = (render_config(**LANG_SON)
            + '\n[smpt]\nhost = "smtp.langson.gov.vn"\nsender = "so@langson.gov.vn"\n')
    message = problems_in(tmp_path, text)
    assert message == (
        f"{tmp_path / 'toolkit.toml'}: 1 lỗi:\n"
        f"  - dòng {line_of(text, '[smpt]')}: [smpt] không phải một mục đã biết — có phải ý bạn là "
        "[smtp]? Sửa lại tiêu đề, hoặc xoá mục này"
    )


def test_an_unknown_section_without_a_close_name_lists_the_sections(tmp_path):
    text = render_config(**LANG_SON) + "\n[colours]\nheader = 1\n"
    assert f"dòng {line_of(text, '[colours]')}: [colours] không phải một mục đã biết; tệp này " \
           "có [province], [backend], [campaign], [timeliness], [paths], [google], [smtp]. Sửa " \
           "lại tiêu đề, hoặc xoá mục này" in problems_in(tmp_path, text)


def test_an_unknown_setting_without_a_close_name_lists_the_settings_of_its_section(tmp_path):
    text = render_config(**LANG_SON).replace("grace_minutes = 5", "grace_minutes = 5\ncolour = 1")
    assert f"dòng {line_of(text, 'colour')}: [timeliness] colour không phải một thiết lập đã " \
           "biết; [timeliness] có grace_minutes. Sửa lại tên, hoặc xoá dòng này" \
           in problems_in(tmp_path, text)


def test_a_setting_under_the_wrong_heading_says_which_section_it_belongs_to(tmp_path):
    text = ("grace_minutes = 15\n" + render_config(**LANG_SON)
            .replace('archive = "archive"', 'archive = "archive"\nsettle_minutes = 3'))
    message = problems_in(tmp_path, text)
    assert message == (
        f"{tmp_path / 'toolkit.toml'}: 2 lỗi:\n"
        "  - dòng 1: grace_minutes là thiết lập của [timeliness] — chuyển dòng này xuống dưới "
        "tiêu đề [timeliness]\n"
        f"  - dòng {line_of(text, 'settle_minutes')}: [paths] settle_minutes là thiết lập của "
        "[google], không phải của [paths] — chuyển dòng này xuống dưới tiêu đề [google]"
    )


def test_a_section_written_inside_another_is_named(tmp_path):
    text = render_config(**{**LANG_SON, "backend": "gsheets"}).replace(
        "[paths]", '[google.smtp]\nhost = "smtp.langson.gov.vn"\n\n[paths]')
    assert f"dòng {line_of(text, '[google.smtp]')}: [google.smtp] phải là một mục riêng — " \
           "viết tiêu đề của nó là [smtp], không đặt bên trong [google]" \
           in problems_in(tmp_path, text)


def test_a_misspelt_name_is_read_as_meant_so_it_is_reported_once(tmp_path):
    # `nme` is not also "[province] thiếu name", and the value of a misspelt
    # grace_minutes is still checked.
    text = (render_config(**LANG_SON).replace('name = "Lạng Sơn"', 'nme = "Lạng Sơn"')
            .replace("grace_minutes = 5", "grace_minuts = 500"))
    message = problems_in(tmp_path, text)
    assert "3 lỗi" in message
    assert "[province] nme không phải một thiết lập đã biết — có phải ý bạn là name?" in message
    assert "[timeliness] grace_minutes = 500 phải trong khoảng 0 đến 120" in message
    assert "thiếu" not in message


def test_a_misspelt_section_is_read_as_meant_so_its_settings_are_checked_now(tmp_path):
    text = render_config(**LANG_SON) + '\n[smpt]\nhots = "smtp.langson.gov.vn"\nport = "25"\n'
    message = problems_in(tmp_path, text)
    assert "[smpt] không phải một mục đã biết — có phải ý bạn là [smtp]?" in message
    assert f"dòng {line_of(text, 'hots')}: [smtp] hots không phải một thiết lập đã biết — " \
           "có phải ý bạn là " \
           "host?" in message
    assert "[smtp] port = '25' phải là số nguyên" in message


def test_every_unknown_name_and_every_bad_value_are_listed_at_once(tmp_path):
    text = (render_config(**LANG_SON).replace("grace_minutes = 5", "grace_minuts = 15")
            .replace('kind = "xlsx"', 'kind = "onedrive"')
            .replace('workbooks = "workbooks"', 'workbook = "so-lieu"')
            + '\n[smpt]\nhost = "smtp.langson.gov.vn"\nsender = "so@langson.gov.vn"\n')
    message = problems_in(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'toolkit.toml'}: 4 lỗi:\n")
    for expected in ("[timeliness] grace_minuts không phải một thiết lập đã biết — có phải ý "
                     "bạn là grace_minutes?",
                     "[smpt] không phải một mục đã biết — có phải ý bạn là [smtp]?",
                     "[paths] workbook không phải một thiết lập đã biết — có phải ý bạn là "
                     "workbooks?",
                     "[backend] kind = 'onedrive' phải là một trong xlsx, gsheets"):
        assert expected in message


# Every setting the toolkit reads, written once, with the value it expects.
EVERY_SETTING = {
    "province": {"name": '"Lạng Sơn"', "code": "20"},
    "backend": {"kind": '"gsheets"'},
    "campaign": {"start": "2026-11-01", "end": "2027-01-31"},
    "timeliness": {"grace_minutes": "5"},
    "paths": {"registry": '"registry.xlsx"', "templates": '"sheet_templates"',
              "workbooks": '"workbooks"', "ledger": '"ledger.sqlite"', "archive": '"archive"',
              "merged": '"xa_sap_nhap.csv"'},
    "google": {"credentials": '"key.json"', "folder_id": '"0AbC"',
               "rollup_spreadsheet_id": '"1xyz"', "template_spreadsheet_id": '"1abc"',
               "reads_per_minute": "60", "writes_per_minute": "60", "accounts": '["b.json"]',
               "notify_editors": "false", "settle_minutes": "10"},
    "smtp": {"host": '"smtp.langson.gov.vn"', "port": "587", "sender": '"so@langson.gov.vn"',
             "username": '"so"', "password_env": '"SMTP_PASSWORD"', "security": '"starttls"'},
}


def render_settings(settings) -> str:
    return "".join(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()) + "\n"
                   for section, table in settings.items())


def test_every_setting_is_known_and_a_config_with_all_of_them_loads(tmp_path):
    from toolkit.config import SCHEMA

    assert {s: set(t) for s, t in SCHEMA.items()} == \
        {s: set(t) for s, t in EVERY_SETTING.items()}
    write_config(tmp_path, render_settings(EVERY_SETTING))
    config = load_config(tmp_path)
    assert config.smtp.configured
    assert config.merged_path == (tmp_path / "xa_sap_nhap.csv").resolve()


SETTINGS = [(section, key) for section, table in EVERY_SETTING.items() for key in table]
KNOWN = {key for table in EVERY_SETTING.values() for key in table} | set(EVERY_SETTING)


@given(data=st.data(), setting=st.sampled_from(SETTINGS))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_setting_with_one_letter_changed_is_named(tmp_path, data, setting):
    section, key = setting
    typed = data.draw(one_letter_changed(key))
    assume(typed and typed not in KNOWN)
    table = {k if k != key else typed: v for k, v in EVERY_SETTING[section].items()}
    text = render_settings({**EVERY_SETTING, section: table})
    message = problems_in(tmp_path, text)
    meant = re.search(rf"\[{section}\] {re.escape(typed)} không phải một thiết lập đã biết — "
                      r"có phải ý bạn là (.+?)\? Sửa lại tên", message)
    assert meant and key in re.split(r", | hoặc ", meant[1]), message


def test_a_setting_written_above_every_heading_with_dashes_names_only_its_own_setting(tmp_path):
    text = "grace-minutes = 15\n" + render_config(**LANG_SON)
    assert problems_in(tmp_path, text).endswith(
        "  - dòng 1: grace-minutes không phải một thiết lập đã biết — có phải ý bạn là "
        "grace_minutes trong [timeliness]? Sửa lại tên, hoặc xoá dòng này")


@pytest.mark.parametrize(("setting", "meant"), [
    ('kind = "xslx"', "[backend] kind = 'xslx' phải là một trong xlsx, gsheets — có phải ý bạn là "
                      "'xlsx'?\n"),
    ('kind = "google"', "[backend] kind = 'google' phải là một trong xlsx, gsheets\n"),
    ('kind = "xlsx"\n[smtp]\nhost = "smtp.x.vn"\nsender = "a@x.vn"\nsecurity = "startls"',
     "[smtp] security = 'startls' phải là starttls, ssl hoặc none — có phải ý bạn là "
     "'starttls'?\n"),
])
def test_a_value_that_is_not_one_of_the_choices_says_the_one_meant(tmp_path, setting, meant):
    text = render_config(**LANG_SON).replace('kind = "xlsx"', setting)
    assert meant in problems_in(tmp_path, text) + "\n"


def test_a_config_saved_by_notepad_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "toolkit.toml"
    path.write_bytes(b"\xef\xbb\xbf" + render_config(**LANG_SON).encode("utf-8"))
    assert load_config(tmp_path).province == "Lạng Sơn"
