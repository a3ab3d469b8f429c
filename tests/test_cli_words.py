"""click's own words, for every command: help and usage errors read in Vietnamese.

Each command is asked for its help and then given every kind of mistake its options allow
(an unknown option, a missing value, a word where a number goes, a number out of range, a
choice not offered, a file where a folder goes, a value after a flag, a missing required
option, a word too many); what is printed must hold none of click's English phrases.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.cli_vi import Group

#: What click writes in English when left to itself (help layout, notes, error messages).
ENGLISH = ("Usage:", "Options:", "Commands:", "Arguments:", "Show this message",
           "Show the version", ", version", "Error:", "Try '", "for help", "Missing", "missing",
           "No such", "Invalid value", "Did you mean", "is not", "requires", "does not take",
           "unexpected", "extra argument", "default:", "required", "TEXT", "PATH", "INTEGER",
           "FLOAT", "FILE", "DIRECTORY", "OPTIONS", "COMMAND", "ARGS", "SECONDS", "DATE",
           "Aborted", "Choose from", "does not exist", "is a file", "is a directory", "a valid",
           "range", "x>=", "<=x")


def commands(group=main, words=()):
    yield list(words), group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*words, name))
        else:
            yield [*words, name], command


def mistakes(command, folder, afile):
    """Every parse-time mistake `command`'s parameters allow, each as an argument list."""
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    given = [str(folder / "x") for a in arguments if a.required]
    required = [w for p in command.params if isinstance(p, click.Option) and p.required
                for w in (p.opts[0], "x")]
    yield ["--khong-co"]
    yield [*given, *required, "thua", "thua-nua"]
    if required:
        yield given
    if arguments and isinstance(command, click.Command) and not isinstance(command, click.Group):
        yield [str(afile), *required]
    for option in (p for p in command.params if isinstance(p, click.Option)):
        name = option.opts[0]
        if option.is_flag:
            yield [*given, *required, f"{name}=1"]
            continue
        yield [*given, *required, name]
        if isinstance(option.type, click.Choice | click.IntRange | click.FloatRange) or \
                option.type is click.INT:
            yield [*given, *required, name, "khong-phai"]
        if isinstance(option.type, click.IntRange | click.FloatRange):
            yield [*given, *required, name, "-100"]
        if isinstance(option.type, click.Path) and not option.type.dir_okay:
            yield [*given, *required, name, str(folder)]
    if isinstance(command, click.Group):
        yield ["khong-co-lenh"]
        yield [next(iter(command.commands))[:-1]]


def english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if phrase in text]


@pytest.mark.parametrize("words, command", [pytest.param(w, c, id=" ".join(w) or "toolkit")
                                            for w, c in commands()])
def test_help_and_usage_errors_are_vietnamese(tmp_path, monkeypatch, words, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLKIT_CONFIG", raising=False)
    afile = tmp_path / "tep.txt"
    afile.write_text("x")
    runner = CliRunner()
    shown = runner.invoke(main, [*words, "--help"], prog_name="toolkit")
    assert shown.exit_code == 0
    assert "Cách dùng: toolkit" in shown.output and "Tuỳ chọn:" in shown.output
    assert "Hiện hướng dẫn này rồi thoát." in shown.output and "Ví dụ:" in shown.output
    assert not english_in(shown.output), shown.output
    tried = 0
    for argv in mistakes(command, tmp_path, afile):
        result = runner.invoke(main, [*words, *argv], prog_name="toolkit")
        assert result.exit_code == 2, (argv, result.output)
        assert "Lỗi: " in result.stderr and not english_in(result.output), (argv, result.output)
        tried += 1
    assert tried >= 3


def test_a_usage_error_names_the_command_the_option_and_where_help_is():
    result = CliRunner().invoke(main, ["init", "lang-son"], prog_name="toolkit")
    assert result.exit_code == 2
    assert result.stderr == ("Cách dùng: toolkit init [TUỲ CHỌN] THƯ_MỤC\n"
                             "Xem 'toolkit init --help' để biết cách dùng.\n\n"
                             "Lỗi: thiếu tuỳ chọn '--province'.\n")
    result = CliRunner().invoke(main, ["demo", "--days", "40"], prog_name="toolkit")
    assert "Lỗi: giá trị của '--days' không hợp lệ: 40 nằm ngoài khoảng cho phép" in \
        result.stderr
    result = CliRunner().invoke(main, ["statu"], prog_name="toolkit")
    assert "Lỗi: không có lệnh 'statu'. Có phải ý bạn là 'status'?" in result.stderr
    result = CliRunner().invoke(main, ["collect", "--now"], prog_name="toolkit")
    assert result.stderr.startswith("Cách dùng: toolkit collect [TUỲ CHỌN]\n")
    assert "Lỗi: tuỳ chọn '--now' cần một giá trị đi kèm." in result.stderr


def test_option_notes_and_version_are_vietnamese():
    demo = CliRunner().invoke(main, ["demo", "--help"], prog_name="toolkit").output
    assert "[mặc định: 3; từ 1 đến 31]" in " ".join(demo.split())     # however it wraps
    login = CliRunner().invoke(main, ["auth", "login", "--help"], prog_name="toolkit").output
    assert "[bắt buộc]" in login
    version = CliRunner().invoke(main, ["--version"], prog_name="toolkit").output
    assert version.startswith("toolkit, phiên bản ")


def test_ctrl_c_says_stopped_in_vietnamese():
    @click.group(cls=Group)
    def toolkit():
        pass

    @toolkit.command()
    def collect():
        raise KeyboardInterrupt

    result = CliRunner().invoke(toolkit, ["collect"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Đã dừng." and not english_in(result.output)
