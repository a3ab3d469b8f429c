"""click's own words — help headings, option notes, usage errors — in Vietnamese.

click writes them through ``gettext`` with English message ids. Installing a translation there
would change a process-wide default every library shares, and needs a Vietnamese locale the
offices' Windows machines do not set; so the toolkit's commands are made with the classes
below instead: a help formatter with Vietnamese headings, commands that write "mặc định" and
"bắt buộc" beside their options, and a group that shows any click error as "Lỗi: …" with the
usage line and where to find help. An error click composed is matched against the English
templates it was built from (``MESSAGES``: the ids gettext would look up, in click's own
wording); a message the toolkit wrote itself passes through unchanged.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

HELP_OPTION = "Hiện hướng dẫn này rồi thoát."
HEADINGS = {"Options": "Tuỳ chọn", "Commands": "Lệnh", "Positional arguments": "Tham số"}

#: click's English message templates and what is said instead, tried in this order: templates
#: wrapping another message first ({message} is translated in turn), then the specific ones
#: before the general ones they would also match ("is not a valid integer" before "is not").
MESSAGES = (
    ("Invalid value for {param_hint}: {message}", "giá trị của {param_hint} không hợp lệ: "
                                                  "{message}"),
    ("Invalid value: {message}", "giá trị không hợp lệ: {message}"),
    ("{message} Did you mean {possibility}?", "{message} Có phải ý bạn là {possibility}?"),
    ("{message} (Did you mean one of: {possibilities}?)",
     "{message} Có phải ý bạn là một trong: {possibilities}?"),
    ("Missing option {param_hint}. {message}", "thiếu tuỳ chọn {param_hint}. {message}"),
    ("Missing option {param_hint}.", "thiếu tuỳ chọn {param_hint}."),
    ("Missing argument {param_hint}.", "thiếu {param_hint}."),
    ("Missing parameter {param_hint}.", "thiếu {param_hint}."),
    ("Choose from:\n\t{choices}", "chọn một trong:\n\t{choices}"),
    ("No such option {name!r}.", "không có tuỳ chọn {name}."),
    ("No such command {name!r}.", "không có lệnh {name}."),
    ("Missing command.", "thiếu tên lệnh."),
    ("Got unexpected extra argument ({args})", "thừa tham số: {args}."),
    ("Got unexpected extra arguments ({args})", "thừa các tham số: {args}."),
    ("Option {name!r} does not take a value.", "tuỳ chọn {name} không đi kèm giá trị."),
    ("Option {name!r} requires an argument.", "tuỳ chọn {name} cần một giá trị đi kèm."),
    ("Option {name!r} requires {nargs} arguments.", "tuỳ chọn {name} cần {nargs} giá trị "
                                                    "đi kèm."),
    ("{value!r} is not a valid integer.", "{value} không phải là một số nguyên."),
    ("{value!r} is not a valid integer range.", "{value} không phải là một số nguyên."),
    ("{value!r} is not a valid float.", "{value} không phải là một số."),
    ("{value!r} is not a valid float range.", "{value} không phải là một số."),
    ("{value} is not in the range {range}.", "{value} nằm ngoài khoảng cho phép: {range}."),
    ("{value!r} is not one of {choices}.", "{value} không phải là một trong {choices}."),
    ("{value!r} is not {choice}.", "{value} không phải là {choice}."),
    ("{name} {filename!r} does not exist.", "không có {filename}."),
    ("{name} {filename!r} is a file.", "{filename} là một tệp; ở đây cần một thư mục."),
    ("{name} {filename!r} is a directory.", "{filename} là một thư mục; ở đây cần một tệp."),
    ("{name} {filename!r} is not readable.", "không đọc được {filename}: hãy xem quyền "
                                             "truy cập."),
    ("{name} {filename!r} is not writable.", "không ghi được vào {filename}: hãy xem quyền "
                                             "truy cập."),
)


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)(?:!r)?\}", template)
    pieces = [re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)]
    return re.compile("".join(pieces), re.DOTALL)


_PATTERNS = tuple((_pattern(english), vietnamese) for english, vietnamese in MESSAGES)


def vietnamese(message: str) -> str:
    """``message`` in Vietnamese when click composed it; the toolkit's own text as it is."""
    for pattern, said in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            fields = match.groupdict()
            if "message" in fields:
                fields["message"] = vietnamese(fields["message"])
            if "range" in fields:
                fields["range"] = _range_in_words(fields["range"])
            return said.format(**fields)
    return message


def _range_in_words(text: str) -> str:
    """click's "1<=x<=31" or "x>=0" as "từ 1 đến 31", "từ 0 trở lên"."""
    low = re.match(r"(-?[\d.]+)<=?x", text)
    high = re.search(r"x<=?(-?[\d.]+)$", text)
    return range_words(low and low.group(1), high and high.group(1))


def range_words(low, high) -> str:
    if low is not None and high is not None:
        return f"từ {low} đến {high}"
    return f"từ {low} trở lên" if low is not None else f"tối đa {high}"


class Formatter(click.HelpFormatter):
    """click's help layout, with Vietnamese headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Cách dùng: " if prefix is None else prefix)

    def section(self, name: str):
        return super().section(HEADINGS.get(name, name))


class Context(click.Context):
    formatter_class = Formatter


class _Vietnamese:
    """What the toolkit's commands and groups share: the context, the help option's words and
    the notes beside each option ("mặc định: 600; từ 0 trở lên")."""

    context_class = Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[TUỲ CHỌN]")
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx, args):
        with _errors_in_vietnamese(ctx):
            return super().parse_args(ctx, args)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def format_options(self, ctx, formatter) -> None:
        rows = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and isinstance(param, click.Option):
                notes = "; ".join(_notes(param, ctx))
                rows.append((record[0], f"{param.help or ''}  [{notes}]".strip()
                             if notes else param.help or ""))
        if rows:
            with formatter.section("Tuỳ chọn"):
                formatter.write_dl(rows)


def _notes(option: click.Option, ctx: click.Context) -> Iterator[str]:
    show = option.show_default if option.show_default is not None else ctx.show_default
    if isinstance(show, str):
        yield f"mặc định: {show}"
    elif show and not option.is_flag and isinstance(option.default, str | int | float):
        yield f"mặc định: {option.default}"
    if isinstance(option.type, click.IntRange | click.FloatRange):
        if option.type.min is not None or option.type.max is not None:
            yield range_words(option.type.min, option.type.max)
    if option.required:
        yield "bắt buộc"


class Command(_Vietnamese, click.Command):
    pass


class Group(_Vietnamese, click.Group):
    """The toolkit's command group: its commands and subgroups are made Vietnamese too, and a
    click error anywhere below it (parsing a command's options, running it) is shown in
    Vietnamese."""

    command_class = Command
    group_class = type

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM SỐ]...")
        super().__init__(*args, **kwargs)

    def format_options(self, ctx, formatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def invoke(self, ctx):
        with _errors_in_vietnamese(ctx):
            return super().invoke(ctx)


class UsageProblem(click.ClickException):
    """A click error, said in Vietnamese the way the toolkit says its own: "Lỗi: …"."""

    def __init__(self, error: click.ClickException, ctx: click.Context):
        super().__init__(vietnamese(error.format_message()))
        self.exit_code = error.exit_code
        # Some usage errors come without the command they are about ("Option '--province'
        # requires an argument."): the one being parsed or run then.
        self.ctx = (error.ctx or ctx) if isinstance(error, click.UsageError) else None

    def show(self, file=None) -> None:
        file = file or sys.stderr
        ctx = self.ctx
        if ctx is not None:
            click.echo(ctx.get_usage(), file=file, color=ctx.color)
            if ctx.command.get_help_option(ctx) is not None:
                click.echo(f"Xem '{ctx.command_path} {ctx.help_option_names[0]}' để biết cách "
                           "dùng.", file=file, color=ctx.color)
            click.echo(file=file)
        click.echo(f"Lỗi: {self.message}", file=file)


class Stopped(click.ClickException):
    """Ctrl+C (click would say "Aborted!")."""

    def show(self, file=None) -> None:
        click.echo(f"\n{self.message}", file=file or sys.stderr)


#: ``toolkit`` alone prints the help through an error; that help is already Vietnamese.
_HELP_ERRORS = tuple(c for c in [getattr(click.exceptions, "NoArgsIsHelpError", None)] if c)


@contextmanager
def _errors_in_vietnamese(ctx: click.Context):
    try:
        yield
    except (UsageProblem, Stopped, *_HELP_ERRORS):
        raise
    except click.ClickException as error:
        raise UsageProblem(error, ctx) from None
    except (click.Abort, KeyboardInterrupt, EOFError):
        raise Stopped("Đã dừng.") from None
