from datetime import time

import pytest

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


def test_shipped_templates_load_daily_then_monthly_then_once(shipped):
    specs = load_templates(PACKAGED_TEMPLATES)
    assert [(s.key, s.tab, s.period) for s in specs] == [
        ("kts_daily", "Báo cáo ngày", "daily"),
        ("cds_monthly", "Báo cáo tháng", "monthly"),
        ("committee_roster", "BCĐ CĐS", "once"),
        ("team_roster", "Tổ CNSCĐ", "once"),
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
        f"no template named 'kts_weekly' in {PACKAGED_TEMPLATES}; "
        "available: kts_daily, cds_monthly, committee_roster, team_roster"
    )


def test_empty_folder(tmp_path):
    with pytest.raises(TemplateError, match=r"no report templates \(\*\.toml\) found"):
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
     "top level: period 'weekly' should be one of daily, monthly, once"),
    ('header = "Ghi chú"\n', "",
     "[[fields]] #2 (note): 'header' (the Vietnamese column title) is missing"),
    ('type = "text"', 'type = "money"',
     "[[fields]] #2 (note): type 'money' should be one of int, number, text, date, choice, phone"),
    ('left = "cum(connections)"', 'left = "cum(pipes)"',
     "[[rules]] #1 (connections_within_households): left 'cum(pipes)' should be a number field"),
    ('right = "households"', 'right = "note"',
     "[[rules]] #1 (connections_within_households): right 'note' should be a number field"),
    ('type = "text"', 'type = "text"\ncolour = "red"',
     "[[fields]] #2 (note): unknown setting(s) colour"),
    ('deadline = "16:30"', 'deadline = "4pm"',
     "top level: deadline '4pm' should be a time of day like \"17:00\""),
    ("due_day = 20", "due_day = 32", "top level: due_day 32 should be a day of the month (1-31)"),
    ('tab = "Nước sạch"', 'tab = "Nước/sạch"',
     "top level: tab 'Nước/sạch' must be ≤ 31 characters"),
    ('op = "<="', 'op = "=<"', "[[rules]] #1 (connections_within_households): op '=<' should be"),
    ('key = "note"', 'key = "connections"', "[[fields]]: key 'connections' is declared twice"),
])
def test_each_problem_names_the_file_and_the_key(tmp_path, old, new, expected):
    assert old in VALID
    path = write(tmp_path, "water.toml", VALID.replace(old, new, 1))
    message = problem_of(path)
    assert "1 problem(s)" in message
    assert expected in message


@pytest.mark.parametrize("threshold", ["5", "0", "-0.5"])
def test_target_threshold_must_be_a_share(tmp_path, threshold):
    target = ('\n[[targets]]\nkey = "connected"\nnumerator = "connections"\n'
              f"threshold = {threshold}\n")
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert ("[[targets]] #1 (connected): threshold should be a share between 0 and 1, e.g. 0.5"
            in message)


# Regression (_target): `isinstance(True, int)` holds, so `threshold = true` is
# accepted as a 100 % target instead of being reported.
def test_target_threshold_true_is_not_a_share(tmp_path):
    target = '\n[[targets]]\nkey = "connected"\nnumerator = "connections"\nthreshold = true\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (connected): threshold should be a share between 0 and 1" in message


# Regression (_target): a threshold written as text makes `float(threshold or 0)`
# raise ValueError instead of reporting the problem with the file and the key.
def test_target_threshold_written_as_text_is_a_problem_not_a_crash(tmp_path):
    target = '\n[[targets]]\nkey = "connected"\nnumerator = "connections"\nthreshold = "half"\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (connected): threshold should be a share between 0 and 1" in message


def test_target_must_count_a_number_field(tmp_path):
    target = '\n[[targets]]\nkey = "noted"\nnumerator = "note"\nthreshold = 0.5\n'
    message = problem_of(write(tmp_path, "water.toml", VALID + target))
    assert "[[targets]] #1 (noted): numerator should name a number field" in message


def test_once_report_needs_a_due_moment(tmp_path):
    text = VALID.replace('period = "monthly"', 'period = "once"')
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "top level: a 'once' report needs deadline = 2026-12-15T17:00:00" in message


def test_missing_top_level_keys(tmp_path):
    text = VALID.replace('key = "water_monthly"\n', "").replace('title = "Báo cáo nước sạch"\n', "")
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "top level: 'key' is missing" in message
    assert "top level: 'title' is missing" in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = (VALID.replace('period = "monthly"', 'period = "weekly"')
                 .replace('type = "text"', 'type = "money"\ncolour = "red"')
                 .replace('left = "cum(connections)"', 'left = "pipes"'))
    message = problem_of(write(tmp_path, "water.toml", text))
    assert "4 problem(s)" in message
    for expected in ("period 'weekly'", "type 'money'", "unknown setting(s) colour",
                     "left 'pipes'"):
        assert expected in message
    assert message.count("\n  - ") == 4


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "water.toml", VALID.replace('tab = "Nước sạch"', "tab = Nước sạch"))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value).startswith(f"{path}: not valid TOML (")
    assert "line 3" in str(caught.value)


def test_problems_of_every_file_are_reported_together(tmp_path):
    bad = write(tmp_path, "a.toml", VALID.replace('period = "monthly"', 'period = "weekly"'))
    broken = write(tmp_path, "b.toml", "key = ")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert f"{bad}: 1 problem(s)" in str(caught.value)
    assert f"{broken}: not valid TOML" in str(caught.value)


def test_a_tab_used_by_two_templates_names_both_files(tmp_path):
    first = write(tmp_path, "a.toml", VALID)
    second = write(tmp_path, "b.toml", VALID.replace('key = "water_monthly"', 'key = "water_2"'))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == f"{second}: tab 'Nước sạch' is also used by {first}"


def test_a_key_used_by_two_templates_names_both_files(tmp_path):
    first = write(tmp_path, "a.toml", VALID)
    second = write(tmp_path, "b.toml", VALID.replace('tab = "Nước sạch"', 'tab = "Nước 2"'))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value) == f"{second}: key 'water_monthly' is also used by {first}"


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
    assert "alias 'Thành viên' points to 'Tổ viên chính', which is not one of the choices" \
        in str(caught.value)


def test_aliases_belong_to_choice_fields_only(tmp_path):
    text = (PACKAGED_TEMPLATES / "team_roster.toml").read_text(encoding="utf-8")
    broken = text.replace('header = "Họ và tên"\n',
                          'header = "Họ và tên"\naliases = { "A" = "B" }\n')
    assert broken != text
    (tmp_path / "team_roster.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert "(full_name): aliases are other words for a choice; this field is text" \
        in str(caught.value)
