import re
from datetime import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import one_letter_changed
from toolkit.config import PACKAGED_TEMPLATES
from toolkit.errors import TemplateError
from toolkit.periods import VN_TZ
from toolkit.templates import load_template, load_templates, parse_term

VALID = """\
key = "water_monthly"
title = "Báo cáo nước sạch"
tab = "Nước sạch"
period = "monthly"
deadline = "16:30"
due_day = 20

[[fields]]
key = "connections"
header = "Số hộ đấu nối"
type = "int"
required = true
min = 0

[[fields]]
key = "note"
header = "Ghi chú"
type = "text"

[[rules]]
key = "connections_within_households"
left = "cum(connections)"
op = "<="
right = "households"
message = "Số hộ đấu nối lũy kế vượt số hộ của xã."
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(path):
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


# the shipped templates ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return {spec.key: spec for spec in load_templates(PACKAGED_TEMPLATES)}


def test_shipped_templates_load_daily_then_monthly_then_quarterly_then_once(shipped):
    specs = load_templates(PACKAGED_TEMPLATES)
    assert [(s.key, s.tab, s.period) for s in specs] == [
        ("kts_daily", "Báo cáo ngày", "daily"),
        ("cds_monthly", "Báo cáo tháng", "monthly"),
        ("bcd_quarterly", "Báo cáo quý BCĐ", "quarterly"),
        ("committee_roster", "BCĐ CĐS", "once"),
        ("team_roster", "Tổ CNSCĐ", "once"),
        ("buu_chinh_daily", "Báo cáo bưu chính", "daily"),
    ]


def test_daily_report(shipped):
    spec = shipped["kts_daily"]
    assert spec.deadline.for_key("2026-11-23").isoformat() == "2026-11-23T17:00:00+07:00"
    assert spec.required_keys == ["new_shops", "new_accounts"]
    assert spec.headers[:3] == ["Ngày", "Số cửa hàng số mở mới",
                                "Số tài khoản thanh toán điện tử mở mới"]
    assert spec.first_field_column == 2
    assert spec.sum_keys == ["new_shops", "new_accounts", "new_trading_households", "orders",
                             "volume_kg", "revenue"]
    assert [r.key for r in spec.rules] == ["shops_within_households",
                                           "accounts_within_households"]
    assert [(t.key, t.threshold) for t in spec.targets] == [
        ("shops", 0.5), ("accounts", 0.5), ("trading", 0.1)]
    assert spec.source == PACKAGED_TEMPLATES / "kts_daily.toml"


def test_monthly_report(shipped):
    spec = shipped["cds_monthly"]
    assert spec.deadline.day_of_month == 26
    assert spec.deadline.for_key("2026-11").isoformat() == "2026-11-26T17:00:00+07:00"
    assert spec.required_keys == ["public_service_guided", "vneid_activations"]
    assert spec.headers[0] == "Tháng"
    assert spec.headers[-1] == "Ghi chú"
    assert spec.rules[0].level == "warning"


def test_roster(shipped):
    spec = shipped["team_roster"]
    assert spec.deadline.for_key("once") == spec.deadline.once_due.replace(tzinfo=VN_TZ)
    assert spec.deadline.for_key("once").isoformat() == "2026-12-15T17:00:00+07:00"
    assert spec.period_header is None
    assert spec.headers[0] == "Thôn/bản"
    assert spec.first_field_column == 1
    assert spec.free_rows == 200
    assert spec.required_keys == ["village", "full_name", "team_role"]
    assert spec.field_spec("village").choices_from_villages
    assert spec.field_spec("team_role").choices == ("Tổ trưởng", "Tổ phó", "Tổ viên")
    assert spec.field_spec("phone").private
    assert spec.field_spec("full_name").aggregate == "count"


def test_only_one_template():
    assert [s.key for s in load_templates(PACKAGED_TEMPLATES, only="kts_daily")] == ["kts_daily"]


def test_unknown_template_names_the_available_ones():
    with pytest.raises(TemplateError) as caught:
        load_templates(PACKAGED_TEMPLATES, only="kts_weekly")
    assert str(caught.value) == (
        f"không có mẫu báo cáo nào tên 'kts_weekly' trong {PACKAGED_TEMPLATES}; "
        "các mẫu hiện có: kts_daily, cds_monthly, bcd_quarterly, committee_roster, team_roster, "
        "buu_chinh_daily — "
        "có phải ý bạn là "
        "'kts_daily'?"
    )
    with pytest.raises(TemplateError, match=r"team_roster, buu_chinh_daily$"):
        load_templates(PACKAGED_TEMPLATES, only="water")


def test_empty_folder(tmp_path):
    with pytest.raises(TemplateError, match=r"không tìm thấy mẫu báo cáo nào \(\*\.toml\)"):
        load_templates(tmp_path)


# a template written by the province office -------------------------------------------------------

def test_valid_template_in_a_folder(tmp_path):
    write(tmp_path, "water.toml", VALID)
    [spec] = load_templates(tmp_path)
    assert spec.key == "water_monthly"
    assert spec.deadline.at == time(16, 30)
    assert spec.headers == ["Tháng", "Số hộ đấu nối", "Ghi chú"]
    assert spec.field_spec("note").aggregate == "none"
    assert spec.sum_keys == ["connections"]
    assert spec.rules[0].level == "error"


@pytest.mark.parametrize("old, new, expected", [
    ('period = "monthly"', 'period = "weekly"',
     "đầu tệp: period 'weekly' phải là một trong daily, monthly, quarterly, yearly, once"),
    ('header = "Ghi chú"\n', "",
     "[[fields]] #2 (note): thiếu 'header' (tiêu đề cột tiếng Việt)"),
    ('type = "text"', 'type = "money"',
     "[[fields]] #2 (note): type 'money' phải là một trong int, number, text, date, choice, phone"),
    ('left = "cum(connections)"', 'left = "cum(pipes)"',
     "[[rules]] #1 (connections_within_households): left 'cum(pipes)' phải là một trường số"),
    ('right = "households"', 'right = "note"',
     "[[rules]] #1 (connections_within_households): right 'note' phải là một trường số"),
    ('type = "text"', 'type = "text"\ncolour = "red"',
     "dòng 19: [[fields]] #2 (note): colour không phải một thiết lập đã biết; [[fields]] có "
     "key, header, type, required, min, max, choices, aliases, aggregate, private, "
     "reconciles_with, decimals. Sửa lại tên, hoặc xoá dòng này"),
    ('deadline = "16:30"', 'deadline = "4pm"',
     "đầu tệp: deadline '4pm' phải là giờ trong ngày, ví dụ \"17:00\""),
    ("due_day = 20", "due_day = 32", "đầu tệp: due_day 32 phải là một ngày trong tháng (1-31)"),
    ('tab = "Nước sạch"', 'tab = "Nước/sạch"',
     "đầu tệp: tab 'Nước/sạch' phải dài tối đa 31 ký tự"),
    ('op = "<="', 'op = "=<"', "[[rules]] #1 (connections_within_households): op '=<' phải là"),
    ('key = "note"', 'key = "connections"', 
     "[[fields]]: key 'connections' được khai báo 2 lần (#1 và #2)"),
])
def test_each_problem_names_the_file_and_the_key(tmp_path, old, new, expected):
    assert old in VALID
    path = write(tmp_path, "water.toml", VALID.replace(old, new, 1))
    message = problem_of(path)
    assert "1 lỗi" in message
    assert expected in message


@pytest.mark.parametrize("threshold", ["5", "0", "-0.5"])
def test_target_threshold_must_be_a_share(tmp_path, threshold):
    target = ('\n[[targets]]\nkey = "connected"\nnumerator = "connections"\n'
              f"threshold = {threshold}\n")
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert ("[[targets]] #1 (connected): threshold phải là tỉ lệ trong khoảng 0 đến 1, ví dụ 0.5"
            in message)


# Regression (_target): `isinstance(True, int)` holds, so `threshold = true` is
# accepted as a 100 % target instead of being reported.
def test_target_threshold_true_is_not_a_share(tmp_path):
    target = '\n[[targets]]\nkey = "connected"\nnumerator = "connections"\nthreshold = true\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (connected): threshold phải là tỉ lệ trong khoảng 0 đến 1" in message


# Regression (_target): a threshold written as text makes `float(threshold or 0)`
# raise ValueError instead of reporting the problem with the file and the key.
def test_target_threshold_written_as_text_is_a_problem_not_a_crash(tmp_path):
    target = '\n[[targets]]\nkey = "connected"\nnumerator = "connections"\nthreshold = "half"\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (connected): threshold phải là tỉ lệ trong khoảng 0 đến 1" in message


def test_target_must_count_a_number_field(tmp_path):
    target = '\n[[targets]]\nkey = "noted"\nnumerator = "note"\nthreshold = 0.5\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (noted): numerator phải là một trường số" in message


def test_once_report_needs_a_due_moment(tmp_path):
    text = VALID.replace('period = "monthly"', 'period = "once"')
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "đầu tệp: báo cáo 'once' cần deadline = 2026-12-15T17:00:00" in message


def test_missing_top_level_keys(tmp_path):
    text = VALID.replace('key = "water_monthly"\n', "").replace('title = "Báo cáo nước sạch"\n', "")
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "đầu tệp: thiếu 'key'" in message
    assert "đầu tệp: thiếu 'title'" in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = (VALID.replace('period = "monthly"', 'period = "weekly"')
                 .replace('type = "text"', 'type = "money"\ncolour = "red"')
                 .replace('left = "cum(connections)"', 'left = "pipes"'))
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "4 lỗi" in message
    for expected in ("period 'weekly'", "type 'money'", "colour không phải một thiết lập đã biết",
                     "left 'pipes'"):
        assert expected in message
    assert message.count("\n  - ") == 4


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "water.toml", VALID.replace('tab = "Nước sạch"', "tab = Nước sạch"))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value).startswith(f"{path}: không phải TOML hợp lệ (")
    assert "line 3" in str(caught.value)


def test_problems_of_every_file_are_reported_together(tmp_path):
    bad = write(tmp_path, "a.toml", VALID.replace('period = "monthly"', 'period = "weekly"'))
    broken = write(tmp_path, "b.toml", "key = ")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert f"{bad}: 1 lỗi" in str(caught.value)
    assert f"{broken}: không phải TOML hợp lệ" in str(caught.value)


def test_a_tab_used_by_two_templates_names_both_files(tmp_path):
    first = write(tmp_path, "a.toml", VALID)
    second = write(tmp_path, "b.toml", VALID.replace('key = "water_monthly"', 'key = "water_2"'))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (f"{second}: 1 lỗi:\n  - tab 'Nước sạch' cũng được dùng "
                                 f"ở {first} — mỗi mẫu báo cáo cần tab riêng")


def test_a_key_used_by_two_templates_names_both_files(tmp_path):
    first = write(tmp_path, "a.toml", VALID)
    second = write(tmp_path, "b.toml", VALID.replace('tab = "Nước sạch"', 'tab = "Nước 2"'))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (f"{second}: 1 lỗi:\n  - key 'water_monthly' cũng được "
                                 f"dùng ở {first} — mỗi mẫu báo cáo cần key riêng")


# Regression (load_templates): keys and tabs share one `seen` dict, so a template
# whose tab is spelled like its own key is reported as clashing with itself.
def test_a_tab_named_like_its_own_key_is_fine(tmp_path):
    write(tmp_path, "water.toml", VALID.replace('tab = "Nước sạch"', 'tab = "water_monthly"'))
    assert [s.tab for s in load_templates(tmp_path)] == ["water_monthly"]


# rule terms --------------------------------------------------------------------------------------

@pytest.mark.parametrize("term, parsed", [
    ("cum(new_shops)", ("cum", "new_shops")),
    ("new_shops", ("field", "new_shops")),
    ("households", ("registry", "households")),
    ("villages", ("registry", "villages")),
    ("12", ("number", 12.0)),
    ("0.5", ("number", 0.5)),
])
def test_parse_term(term, parsed):
    assert parse_term(term) == parsed


# Regression (toolkit/templates.py, load_template/_field): `fields = [...]` written as a plain list
# instead of [[fields]] tables reaches `raw.get(...)` on a str and raises AttributeError.
def test_fields_that_are_not_tables_are_a_problem_not_a_crash(tmp_path):
    text = VALID.split("[[fields]]")[0] + 'fields = ["connections"]\n'
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "[[fields]]" in message


def test_an_alias_must_point_to_one_of_the_choices(tmp_path):
    from toolkit.config import PACKAGED_TEMPLATES

    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    broken = text.replace('"Thành viên" = "Tổ viên"', '"Thành viên" = "Tổ viên chính"')
    assert broken != text
    (tmp_path / "team_roster.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert "team_roster.toml" in str(caught.value)
    assert "alias 'Thành viên' trỏ tới 'Tổ viên chính', không nằm trong choices" \
        in str(caught.value)


def test_aliases_belong_to_choice_fields_only(tmp_path):
    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    broken = text.replace('header = "Họ và tên"\n',
                          'header = "Họ và tên"\naliases = { "A" = "B" }\n')
    assert broken != text
    (tmp_path / "team_roster.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert "(full_name): aliases là cách gọi khác của một lựa chọn; trường này là text" \
        in str(caught.value)


# names the toolkit does not know ----------------------------------------------------------------

def line_of(text: str, needle: str, after: int = 0) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1)
                if n > after and line.startswith(needle))


def only_problem(path) -> str:
    message = problem_of(path)
    assert message.startswith(f"{path}: 1 lỗi:\n  - "), message
    return message.split("\n  - ", 1)[1]


def test_a_misspelt_field_setting_names_the_line_and_the_setting_meant(tmp_path):
    text = VALID.replace('header = "Ghi chú"', 'heder = "Ghi chú"')
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        f"dòng {line_of(text, 'heder')}: [[fields]] #2 (note): heder không phải một thiết lập "
        "đã biết — có phải ý bạn là header? Sửa lại tên, hoặc xoá dòng này")


def test_a_misspelt_table_heading_names_the_table_meant(tmp_path):
    text = VALID + '\n[[target]]\nkey = "connected"\nnumerator = "connections"\nthreshold = 0.5\n'
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        f"dòng {line_of(text, '[[target]]')}: [[target]] không phải một bảng đã biết — "
        "có phải ý bạn là "
        "[[targets]]? Sửa lại tiêu đề, hoặc xoá bảng này")


def test_a_top_level_setting_written_at_the_end_says_why_it_is_misplaced(tmp_path):
    text = VALID + 'calendar = "every_day"\n'
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        f"dòng {line_of(text, 'calendar')}: [[rules]] #1 (connections_within_households): "
        "calendar là thiết lập đầu tệp, nhưng TOML đọc mọi dòng dưới tiêu đề [[rules]] là "
        "thuộc [[rules]] — chuyển dòng này lên trên tiêu đề đầu tiên ([[fields]])")


def test_a_field_setting_in_a_rule_asks_for_the_missing_heading(tmp_path):
    text = VALID + 'required = true\n'
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        f"dòng {line_of(text, 'required = true', after=20)}: [[rules]] #1 "
        "(connections_within_households): required là thiết lập của [[fields]], không phải của "
        "[[rules]] — có phải thiếu tiêu đề [[fields]] ở phía trên?")


def test_a_roster_setting_at_the_top_says_where_it_goes(tmp_path):
    text = 'min_members = 3\n' + VALID
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        "dòng 1: đầu tệp: min_members là thiết lập của [roster] — chuyển dòng này xuống dưới "
        "tiêu đề [roster]")


def test_an_unknown_setting_without_a_close_name_lists_the_known_ones(tmp_path):
    text = 'colour = "red"\n' + VALID
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        "dòng 1: đầu tệp: colour không phải một thiết lập đã biết; tệp này có key, title, tab, "
        "period, "
        "deadline, due_day, months_after, rows, calendar, reporters. Sửa lại tên, hoặc xoá dòng "
        "này")


def test_fields_written_with_one_pair_of_brackets(tmp_path):
    text = VALID.split("[[fields]]")[0] + (
        '[fields]\nkey = "connections"\nheader = "Số hộ đấu nối"\ntype = "int"\n')
    assert only_problem(write(tmp_path, "water.toml", text)) == (
        f"dòng {line_of(text, '[fields]')}: [fields] phải là [[fields]], với hai cặp ngoặc — "
        "mỗi mục nằm dưới tiêu đề [[fields]] của riêng nó")


def shipped_roster(tmp_path, old: str, new: str):
    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, "team_roster.toml", text.replace(old, new)), text.replace(old, new)


def test_a_roster_written_as_an_array_of_tables(tmp_path):
    path, text = shipped_roster(tmp_path, "[roster]", "[[roster]]")
    assert only_problem(path) == (
        f"dòng {line_of(text, '[[roster]]')}: [[roster]] phải là [roster], với một cặp "
        "ngoặc — mỗi mẫu báo cáo chỉ có một bảng roster")


def test_a_misspelt_roster_setting_is_reported_once(tmp_path):
    path, text = shipped_roster(tmp_path, "min_members = 3", "min_member = 3")
    assert only_problem(path) == (
        f"dòng {line_of(text, 'min_member')}: [roster]: min_member không phải một thiết lập "
        "đã biết — có phải ý bạn là min_members? Sửa lại tên, hoặc xoá dòng này")


def test_a_table_nested_where_none_is_known(tmp_path):
    path, text = shipped_roster(tmp_path, "min_members = 3", "min_members = 3\n[roster.extra]\n"
                                                              "colour = 1")
    assert only_problem(path) == (
        f"dòng {line_of(text, '[roster.extra]')}: [roster.extra] không phải một bảng đã biết; "
        "[roster] không có bảng nào, chỉ có kind, name, role, village, villages, position, "
        "phone, leader, "
        "min_members. Sửa lại tiêu đề, hoặc xoá bảng này")


def test_a_misspelt_required_setting_is_not_also_missing(tmp_path):
    text = (VALID.replace('header = "Ghi chú"', 'heder = "Ghi chú"')
            .replace('type = "text"', 'tpye = "money"'))
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "3 lỗi" in message
    assert "heder không phải một thiết lập đã biết — có phải ý bạn là header?" in message
    assert "tpye không phải một thiết lập đã biết — có phải ý bạn là type?" in message
    assert "type 'money' phải là một trong" in message       # its value is checked now
    assert "thiếu" not in message


# one broken template among good ones ------------------------------------------------------------

def shipped_folder(tmp_path, name: str, old: str, new: str):
    for source in PACKAGED_TEMPLATES.glob("*.toml"):
        text = source.read_text(encoding="utf-8")
        if source.name == name:
            assert old in text
            text = text.replace(old, new, 1)
        write(tmp_path, source.name, text)
    return tmp_path / name


def test_one_broken_template_is_reported_once_and_what_waits_for_it_is_named(tmp_path):
    broken = shipped_folder(tmp_path, "kts_daily.toml", 'type = "int"', 'tpye = "int"')
    text = broken.read_text(encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{broken}: 1 lỗi:\n"
        f"  - dòng {line_of(text, 'tpye')}: [[fields]] #1 (new_shops): tpye không phải một "
        "thiết lập đã biết — có phải ý bạn là type? Sửa lại tên, hoặc xoá dòng này\n"
        "Chưa kiểm tra:\n"
        "  - buu_chinh_daily.toml: reconciles_with 'kts_daily.new_shops', "
        "'kts_daily.new_accounts' chỉ kiểm tra được khi kts_daily.toml đọc được\n"
        "  - cds_monthly.toml: reconciles_with 'kts_daily.new_shops', 'kts_daily.new_accounts' "
        "chỉ kiểm tra được khi kts_daily.toml đọc được")


def test_a_template_that_is_not_toml_is_named_by_its_file_in_the_note(tmp_path):
    broken = shipped_folder(tmp_path, "kts_daily.toml", 'key = "kts_daily"', "key = kts_daily")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{broken}: không phải TOML hợp lệ (")
    assert message.endswith(
        "; hãy sửa dòng được nêu\nChưa kiểm tra:\n"
        "  - buu_chinh_daily.toml: reconciles_with 'kts_daily.new_shops', "
        "'kts_daily.new_accounts' chỉ kiểm tra được khi kts_daily.toml đọc được\n"
        "  - cds_monthly.toml: reconciles_with 'kts_daily.new_shops', 'kts_daily.new_accounts' "
        "chỉ kiểm tra được khi kts_daily.toml đọc được")
    assert "cds_monthly.toml: 1 lỗi" not in message


def test_a_broken_template_is_not_reported_again_as_a_clash(tmp_path):
    write(tmp_path, "a.toml", VALID)
    text = VALID + '\n[[target]]\nkey = "connected"\nnumerator = "connections"\nthreshold = 0.5\n'
    broken = write(tmp_path, "b.toml", text)
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{broken}: 1 lỗi:\n"
        f"  - dòng {line_of(text, '[[target]]')}: [[target]] không phải một bảng đã biết — "
        "có phải ý bạn là [[targets]]? Sửa lại tiêu đề, hoặc xoá bảng này")


def test_reconciles_with_a_misspelt_template_names_the_one_meant(tmp_path):
    broken = shipped_folder(tmp_path, "cds_monthly.toml", '"kts_daily.new_shops"',
                            '"kts_dialy.new_shops"')
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{broken}: 1 lỗi:\n"
        "  - trường 'new_shops_month' có reconciles_with 'kts_dialy.new_shops', nhưng không mẫu "
        "báo cáo nào có key 'kts_dialy' — có phải ý bạn là 'kts_daily'?")


def test_reconciles_with_a_misspelt_field_names_the_field_meant(tmp_path):
    broken = shipped_folder(tmp_path, "cds_monthly.toml", '"kts_daily.new_shops"',
                            '"kts_daily.new_shop"')
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == (
        f"{broken}: 1 lỗi:\n"
        "  - trường 'new_shops_month' có reconciles_with 'kts_daily.new_shop', nhưng kts_daily "
        "không có trường số 'new_shop' — có phải ý bạn là 'kts_daily.new_shops'?")


# every known name with one letter changed -------------------------------------------------------

EVERY_SETTING = """\
key = "water_monthly"
title = "Báo cáo nước sạch"
tab = "Nước sạch"
period = "monthly"
deadline = "16:30"
due_day = 20
months_after = 0
rows = 0
calendar = "every_day"
reporters = "communes"

[[fields]]
key = "connections"
header = "Số hộ đấu nối"
type = "int"
required = true
min = 0
max = 100000
aggregate = "sum"
private = false
reconciles_with = "water_daily.connections"
decimals = 0

[[fields]]
key = "source"
header = "Nguồn nước"
type = "choice"
choices = ["Giếng khoan", "Nước máy"]
aliases = { "Giếng" = "Giếng khoan" }

[[rules]]
key = "connections_within_households"
left = "cum(connections)"
op = "<="
right = "households"
level = "warning"
message = "Số hộ đấu nối lũy kế vượt số hộ của xã."
fix = "Kiểm tra lại số hộ đấu nối."
missing = "skip_if_any"

[[targets]]
key = "connected"
label = "Hộ đấu nối"
numerator = "connections"
threshold = 0.5
"""
ROSTERS = {name: (PACKAGED_TEMPLATES / f"{name}.toml").read_text(encoding="utf-8")
           for name in ("team_roster", "committee_roster")}


def settings_of(text: str) -> list[tuple[str | None, str]]:
    """(heading, name) of every setting written in ``text``."""
    found, heading = [], None
    for line in text.splitlines():
        if line.startswith("["):
            heading = line.strip()
        elif " = " in line and not line.startswith("#"):
            found.append((heading, line.split(" = ")[0]))
    return list(dict.fromkeys(found))


CASES = [("every", h, k) for h, k in settings_of(EVERY_SETTING)] + [
    (name, h, k) for name, text in ROSTERS.items() for h, k in settings_of(text)
    if h == "[roster]"]


def rename(text: str, heading: str | None, name: str, new: str) -> str:
    lines = text.splitlines(keepends=True)
    start = lines.index(heading + "\n") if heading else 0
    at = next(i for i in range(start, len(lines)) if lines[i].startswith(f"{name} = "))
    lines[at] = new + lines[at][len(name):]
    return "".join(lines)


def test_every_known_setting_is_written_in_the_cases(tmp_path):
    from toolkit.templates import SCHEMA

    written = {(h, k) for _, h, k in CASES}
    heads = {None: None, "[[fields]]": "fields", "[[rules]]": "rules", "[[targets]]": "targets",
             "[roster]": "roster"}
    for heading, table in heads.items():
        names = SCHEMA if table is None else SCHEMA[table]
        names = names[0] if isinstance(names, list) else names
        expected = {k for k, v in names.items() if not isinstance(v, list | dict)}
        expected -= {"roster"} if table is None else set()
        assert {k for h, k in written if h == heading} == expected, heading
    write(tmp_path, "water.toml", EVERY_SETTING)
    assert load_template(tmp_path / "water.toml").key == "water_monthly"


TEMPLATE_NAMES = {k for _, _, k in CASES} | {"fields", "rules", "targets", "roster"}


@given(data=st.data(), case=st.sampled_from(CASES))
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_setting_with_one_letter_changed_is_named(tmp_path, data, case):
    source, heading, name = case
    typed = data.draw(one_letter_changed(name))
    assume(typed and typed not in TEMPLATE_NAMES and re.fullmatch(r"[A-Za-z0-9_-]+", typed))
    text = EVERY_SETTING if source == "every" else ROSTERS[source]
    path = write(tmp_path, "water.toml", rename(text, heading, name, typed))
    message = problem_of(path)
    meant = re.search(rf": {re.escape(typed)} không phải một thiết lập đã biết — có phải ý bạn "
                      r"là (.+?)\? Sửa lại tên", message)
    assert meant and name in re.split(r", | hoặc ", meant[1]), message


def test_a_template_that_is_not_toml_under_another_name_is_waited_for(tmp_path):
    shipped_folder(tmp_path, "kts_daily.toml", 'key = "kts_daily"', "key = kts_daily")
    (tmp_path / "kts_daily.toml").rename(tmp_path / "bao_cao_ngay.toml")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value).endswith(
        "Chưa kiểm tra:\n"
        "  - buu_chinh_daily.toml: reconciles_with 'kts_daily.new_shops', "
        "'kts_daily.new_accounts' chỉ kiểm tra được khi bao_cao_ngay.toml đọc được\n"
        "  - cds_monthly.toml: reconciles_with 'kts_daily.new_shops', 'kts_daily.new_accounts' "
        "chỉ kiểm tra được khi bao_cao_ngay.toml đọc được")


@pytest.mark.parametrize("old, new, expected", [
    ('period = "monthly"', 'period = "monthy"',
     "đầu tệp: period 'monthy' phải là một trong daily, monthly, quarterly, yearly, once — "
     "có phải ý bạn là 'monthly'?"),
    ('type = "text"', 'type = "integer"',
     "[[fields]] #2 (note): type 'integer' phải là một trong int, number, text, date, choice, "
     "phone — có phải ý bạn là 'int'?"),
    ('type = "text"', 'type = "text"\naggregate = "summ"',
     "[[fields]] #2 (note): aggregate 'summ' phải là một trong sum, count, none — có phải ý bạn là "
     "'sum'?"),
    ("required = true", 'required = "no"',
     "[[fields]] #1 (connections): required = 'no' phải là true hoặc false (không có ngoặc kép)"),
    ('type = "text"', 'type = "text"\nchoices = "Có"',
     "[[fields]] #2 (note): choices = 'Có' phải là danh sách chữ"),
    ('type = "text"', 'type = "choice"\nchoices = [1, 2]',
     '[[fields]] #2 (note): trường choice cần choices = ["..."] hoặc "villages"'),
    ('op = "<="', 'op = "=<"',
     "[[rules]] #1 (connections_within_households): op '=<' phải là một trong <= < >= > == != "
     "— có phải ý bạn là <=?"),
    ('message = "Số', 'level = "warn"\nmessage = "Số',
     "[[rules]] #1 (connections_within_households): level phải là 'error' hoặc 'warning', "
     "không phải "
     "'warn' — có phải ý bạn là 'warning'?"),
    ("due_day = 20", "due_day = true",
     "đầu tệp: due_day True phải là một ngày trong tháng (1-31)"),
    ("due_day = 20", "due_day = 5\nmonths_after = -1",
     "đầu tệp: months_after -1 phải là số nguyên từ 0 đến 12: số tháng sau tháng cuối của kỳ"),
    ("due_day = 20", "due_day = 5\nmonth_after = 1",
     "đầu tệp: month_after không phải một thiết lập đã biết — có phải ý bạn là months_after?"),
    ('due_day = 20', 'due_day = 20\nrows = "nhiều"',
     "đầu tệp: rows 'nhiều' phải là số nguyên ≥ 0"),
])
def test_a_wrong_value_says_what_it_should_be_and_the_one_meant(tmp_path, old, new, expected):
    assert expected in problem_of(write(tmp_path, "water.toml", VALID.replace(old, new)))


@pytest.mark.parametrize("target", [
    'numerator = ["connections"]', "numerator = 3", 'numerator = "conections"'])
def test_a_target_counting_no_number_field_is_a_problem_not_a_crash(tmp_path, target):
    text = VALID + f'\n[[targets]]\nkey = "t"\n{target}\nthreshold = 0.5\n'
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "[[targets]] #1 (t): numerator phải là một trường số của mẫu này" in message
    if "conections" in target:
        assert message.endswith("— có phải ý bạn là 'connections'?")


def test_a_deadline_written_as_a_toml_time_is_read(tmp_path):
    spec = load_template(write(tmp_path, "water.toml",
                               VALID.replace('deadline = "16:30"', "deadline = 16:30:00")))
    assert spec.deadline.at == time(16, 30)


def test_a_wrong_value_names_its_line_and_problems_come_in_line_order(tmp_path):
    text = VALID.replace('type = "text"', 'type = "txt"').replace(
        'op = "<="', 'op = "<="\nlevl = "warning"')
    lines = text.splitlines()
    typed = lines.index('type = "txt"') + 1
    level = lines.index('levl = "warning"') + 1
    path = write(tmp_path, "water.toml", text)
    message = problem_of(path)
    assert message.splitlines()[1:] == [
        f"  - dòng {typed}: [[fields]] #2 (note): type 'txt' phải là một trong int, number, "
        "text, date, choice, phone — có phải ý bạn là 'text'?",
        f"  - dòng {level}: [[rules]] #1 (connections_within_households): levl không phải một "
        "thiết lập đã biết — có phải ý bạn là level? Sửa lại tên, hoặc xoá dòng này"]


def test_a_roster_kind_close_to_a_known_one_says_it(tmp_path):
    path = tmp_path / "team_roster.toml"
    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('kind = "team"', 'kind = "teams"'), encoding="utf-8")
    assert "kind 'teams' phải là một trong team, committee — có phải ý bạn là 'team'? (viết" \
        in problem_of(path)


def test_a_template_saved_by_notepad_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "water.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert load_template(path).key == "water_monthly"


def _places(node, at=()):
    """Every key and list item of parsed TOML, as a path of keys and indexes."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield (*at, key)
        yield from _places(value, (*at, key))


ANY_VALUE = st.one_of(st.integers(-5, 40), st.text(max_size=6), st.booleans(), st.none(),
                      st.lists(st.integers(0, 3), max_size=2), st.lists(st.text(max_size=3)),
                      st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                      st.floats(allow_nan=False, allow_infinity=False), st.dates(), st.times())


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_any_value_anywhere_in_a_template_is_a_problem_or_loads_never_a_crash(data):
    import tomllib

    from toolkit.templates import _spec

    name = data.draw(st.sampled_from(sorted(p.name for p in PACKAGED_TEMPLATES.glob("*.toml"))))
    parsed = tomllib.loads((PACKAGED_TEMPLATES / name).read_text(encoding="utf-8"))
    *parent, last = data.draw(st.sampled_from(list(_places(parsed))))
    table = parsed
    for key in parent:
        table = table[key]
    value = data.draw(ANY_VALUE)
    if value is None:
        del table[last]
    else:
        table[last] = value
    problems: list[str] = []
    spec = _spec(PACKAGED_TEMPLATES / name, parsed, problems)
    assert (spec is None) == bool(problems)


def _toolkit_imports() -> dict[str, set[str]]:
    """Each toolkit module → the toolkit modules it imports anywhere (lazy ones included)."""
    import ast
    from pathlib import Path

    import toolkit

    root = Path(toolkit.__file__).parent
    graph = {}
    for path in root.rglob("*.py"):
        parts = ["toolkit", *path.relative_to(root).with_suffix("").parts]
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {node.module for node in ast.walk(ast.parse(path.read_text("utf-8")))
                       if isinstance(node, ast.ImportFrom) and node.module
                       and node.module.startswith("toolkit")}
    return graph


def test_templates_load_without_the_checks_or_the_layout_that_read_them():
    """templates → checks.rosters → layout → templates was a circle held open only by a lazy
    import: templates must import nothing that imports it back."""
    graph = _toolkit_imports()
    seen, todo = set(), list(graph["toolkit.templates"])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += graph.get(module, ())
    assert "toolkit.templates" not in seen
    assert not {"toolkit.layout", "toolkit.checks.rosters"} & seen


def test_reporters_names_who_fills_a_template_in(tmp_path, shipped):
    postal = shipped["buu_chinh_daily"]
    assert (postal.keyed, postal.headers[:2], postal.first_field_column) == (
        True, ["Ngày", "Xã, phường"], 3)
    assert not shipped["kts_daily"].keyed
    assert only_problem(write(tmp_path, "water.toml", VALID.replace(
        'due_day = 20', 'due_day = 20\nreporters = "enterprise"'))).endswith(
        "reporters 'enterprise' phải là một trong communes, enterprises — có phải ý bạn là "
        "'enterprises'?")
    assert only_problem(write(tmp_path, "water.toml", VALID.replace(
        'due_day = 20', 'due_day = 20\nreporters = "enterprises"'))).startswith(
        'dòng 7: đầu tệp: reporters = "enterprises" (doanh nghiệp bưu chính báo cáo theo từng '
        "xã) cần một kỳ báo cáo")


def test_an_enterprise_field_reconciles_with_a_commune_field_of_the_same_period(tmp_path):
    import shutil

    shutil.copy(PACKAGED_TEMPLATES / "kts_daily.toml", tmp_path / "kts_daily.toml")
    shutil.copy(PACKAGED_TEMPLATES / "cds_monthly.toml", tmp_path / "cds_monthly.toml")
    postal = (PACKAGED_TEMPLATES / "buu_chinh_daily.toml").read_text(encoding="utf-8")
    write(tmp_path, "buu_chinh_daily.toml", postal)
    assert {s.key for s in load_templates(tmp_path)} == {"kts_daily", "cds_monthly",
                                                         "buu_chinh_daily"}
    write(tmp_path, "buu_chinh_daily.toml", postal.replace(
        '"kts_daily.new_shops"', '"cds_monthly.vneid_activations"'))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert ("trường 'new_shops' có reconciles_with 'cds_monthly.vneid_activations', nhưng mẫu "
            "của doanh nghiệp bưu chính chỉ đối chiếu được với một trường số của mẫu báo cáo "
            'của xã cùng kỳ (daily), ví dụ "kts_daily.new_shops"') in str(caught.value)
