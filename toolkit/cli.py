"""Command line: parse options, call one library function, print the result. No logic here."""

from __future__ import annotations

import functools
import json
import logging
import logging.handlers
import sys
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

import click

from toolkit import render
from toolkit.errors import BusyError, ToolkitError
from toolkit.redact import RedactingFormatter, format_exception, redact

log = logging.getLogger("toolkit")
# Until a province folder is open there is no log file; without this, log.error would reach
# stderr through logging's last-resort handler and print every error twice.
log.addHandler(logging.NullHandler())
LOCK_WAIT_SECONDS = 600


def common(func):
    """--config, --now and --verbose on every command; ToolkitError → 'Error: …', exit 2."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=True),
                  help="toolkit.toml (or its folder). Default: $TOOLKIT_CONFIG or ./toolkit.toml")
    @click.option("--now", "now_text", metavar="'YYYY-MM-DD HH:MM'",
                  help="Run as if it were this moment (Vietnam time): tests, demos, replays.")
    @click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of errors.")
    @functools.wraps(func)
    def wrapper(*args, config_path, now_text, verbose, **kwargs):
        from toolkit.periods import parse_now

        try:
            now = parse_now(now_text)
        except ValueError:
            raise click.BadParameter(f"{now_text!r}: write it as '2026-11-23 17:00'",
                                     param_hint="--now") from None
        shown = _tracebacks_on_stderr() if verbose else None
        try:
            return func(*args, config_path=config_path, now=now, **kwargs)
        except ToolkitError as exc:
            if verbose:
                click.echo(format_exception(exc), err=True, nl=False)
            click.echo(f"Error: {redact(exc)}", err=True)
            log.error("%s", exc)
            sys.exit(1 if isinstance(exc, BusyError) else 2)
        finally:
            if shown is not None:
                log.removeHandler(shown)

    return wrapper


def _tracebacks_on_stderr() -> logging.Handler:
    """Under --verbose, what the library logged with a traceback (a commune whose workbook
    could not be read) is shown as well as kept in the log file."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(lambda record: record.exc_info is not None)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    log.addHandler(handler)
    return handler


def day_option(func):
    return click.option("--date", "day", metavar="DATE",
                        help="Reporting day (2026-11-23 or 23/11/2026). Default: today.")(func)


def _day(text: str | None, now: datetime):
    from toolkit.periods import parse_date

    if not text:
        return now.date()
    try:
        return parse_date(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from None


def _workspace(config_path, template: str | None = None):
    """Open the province folder and show the registry's warnings once, on stderr."""
    from toolkit.workspace import open_workspace

    workspace = open_workspace(config_path, template)
    _log_beside(workspace.config.ledger_path.parent / "logs" / "toolkit.log")
    context = click.get_current_context(silent=True)
    if context is not None:
        given = {k: v for k, v in context.params.items() if v not in (None, False)}
        options = " ".join(f"{k}={v}" for k, v in given.items())
        log.info("toolkit %s %s", context.info_name, options)
    for warning in workspace.registry.warnings[:10]:
        click.echo(f"Warning: {workspace.config.registry_path.name}: {warning}", err=True)
    if len(workspace.registry.warnings) > 10:
        click.echo(f"Warning: … and {len(workspace.registry.warnings) - 10} more in "
                   f"{workspace.config.registry_path.name}", err=True)
    return workspace


def _log_beside(path: Path) -> None:
    """A rotating log file beside the ledger, for runs nobody watches (schedulers)."""
    if any(getattr(h, "baseFilename", None) == str(path) for h in log.handlers):
        return
    for handler in list(log.handlers):
        if isinstance(handler, logging.FileHandler):    # an earlier province's log file
            log.removeHandler(handler)
            handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def say(text: str = "", err: bool = False) -> None:
    """Print a result line and keep it in the log file (redacted, like everything logged)."""
    click.echo(redact(text), err=err)
    if text:
        log.info("%s", text)


def wait_option(func):
    return click.option("--wait", "wait_seconds", type=click.FloatRange(0),
                        default=LOCK_WAIT_SECONDS, show_default=True, metavar="SECONDS",
                        help="How long to wait if another run holds the province's lock.")(func)


@contextmanager
def progress(label: str, total: int):
    """A progress bar on a terminal; plain timestamped lines under a scheduler."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield lambda _item: bar.update(1)
        return
    done = 0
    step = max(1, total // 5)

    def tick(_item):
        nonlocal done
        done += 1
        if done % step == 0 or done == total:
            click.echo(f"{datetime.now():%H:%M:%S} {label} {done}/{total}", err=True)

    yield tick


@click.group()
@click.version_option(package_name="commune-report-toolkit")
def main():
    """Commune reporting for a province's digital-transformation campaign.

    Communes type figures into their own workbooks before 17:00; these commands provision the
    workbooks, collect and check the entries, and produce the province rollup and archive.
    """
    sys.excepthook = _redacted_excepthook


def _redacted_excepthook(kind, exc, tb) -> None:
    """A bug's traceback is printed as Python would, less any secret it carries."""
    click.echo(format_exception(exc), err=True, nl=False)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--province", required=True, help='Province name, with or without diacritics.')
@click.option("--backend", type=click.Choice(["xlsx", "gsheets"]), default="xlsx",
              show_default=True)
@common
def init(folder, province, backend, config_path, now):
    """Create a province folder: toolkit.toml, registry.xlsx and the report templates.

    The registry lists the official 2025 communes of the province; fill in households,
    villages and editors before provisioning.

    \b
    Example:
      toolkit init lang-son --province "Lạng Sơn"
    """
    from toolkit.workspace import init_province

    result = init_province(Path(folder), province, backend=backend, today=now.date())
    click.echo(f"Created {result.config_path}")
    click.echo(f"Created {result.registry_path} with {result.communes} communes of "
               f"{result.province}")
    click.echo(f"Next: fill households/villages/editors in {result.registry_path.name}, then "
               f"`toolkit provision --config {result.config_path}`")


@main.command()
@click.option("--template", help="Only this report template (e.g. kts_daily).")
@click.option("--dry-run", is_flag=True, help="Print what would be created; change nothing.")
@wait_option
@common
def provision(template, dry_run, wait_seconds, config_path, now):
    """Create or extend one workbook per commune; running it again changes nothing.

    \b
    Example:
      toolkit provision --dry-run
    """
    from toolkit.provision import provision as run

    with _workspace(config_path, template) as ws, ws.exclusive(wait_seconds):
        with progress("provision", len(ws.registry.communes)) as tick:
            result = run(ws.config, ws.registry, ws.specs, ws.store, ws.ledger, now=now,
                         dry_run=dry_run, progress=tick)
        for plan in result.changed:
            verb = "would" if dry_run else "did"
            say(f"{plan.name}: {verb} " + "; ".join(a.describe() for a in plan.actions))
        for name, why in result.deferred:
            say(render.deferred_line(name, why).strip())
        unchanged = len(result.plans) - len(result.changed)
        say(f"{len(result.changed)} workbook(s) {'to change' if dry_run else 'changed'}, "
            f"{unchanged} already complete, in {ws.store.where}")
    _fail_if(result.failures)


@main.command()
@wait_option
@common
def collect(wait_seconds, config_path, now):
    """Read changed commune workbooks into the ledger (unchanged ones cost nothing).

    \b
    Example:
      toolkit collect
    """
    from toolkit.collect import collect as run

    with _workspace(config_path) as ws, ws.exclusive(wait_seconds):
        with progress("collect", len(ws.registry.communes)) as tick:
            result = run(ws.registry, ws.specs, ws.store, ws.ledger, now=now,
                         campaign=ws.campaign, progress=tick)
    _print_collect(result)
    _fail_if([(o.name, o.message) for o in result.failures])


@main.command()
@day_option
@wait_option
@common
def validate(day, wait_seconds, config_path, now):
    """Check entries against the templates' rules and write each commune's Kiểm tra tab.

    \b
    Example:
      toolkit validate --date 23/11/2026
    """
    from toolkit.validate import validate as run

    day = _day(day, now)
    with _workspace(config_path) as ws, ws.exclusive(wait_seconds):
        result = run(ws.specs, ws.registry, ws.store, ws.ledger, day=day, now=now,
                     campaign=ws.campaign)
    _print_validate(result)
    _fail_if([(name, f"{name}: {message}") for name, message in result.failures])


@main.command()
@day_option
@click.option("--template", help="Only this report template (e.g. kts_daily).")
@click.option("--as-of", "as_of", type=click.Choice(["deadline", "now"]), default="now",
              show_default=True, help="The picture at the deadline, or now with late entries.")
@wait_option
@common
def rollup(day, template, as_of, wait_seconds, config_path, now):
    """Province rollup per commune and district, written to the Excel archive.

    \b
    Example:
      toolkit rollup --date 2026-11-23 --as-of deadline
    """
    from toolkit.daily import due_reports, republish, rollup_reports

    day = _day(day, now)
    with _workspace(config_path, template) as ws, ws.exclusive(wait_seconds):
        rollups, paths = rollup_reports(ws, day, now=now, as_of_mode=as_of)
        again = republish(ws, now) if not any(r.published for r in rollups) else None
        for spec, period in due_reports(ws, day)[1]:
            say(render.not_due_line(spec, period, ws.campaign))
    _print_rollups(rollups, paths)
    if again is not None:
        say(again.summary)
    # The archive is written either way; a publication Google did not take is partial (exit
    # 1), as in `daily`, so a scheduler notices — the next sweep publishes it again.
    failed = [r.published for r in rollups if r.published is not None and r.published.error]
    if again is not None and again.error:
        failed.append(again)
    if failed:
        sys.exit(1)


@main.command()
@day_option
@click.option("--template", default=None, help="Report template. Default: every template.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@common
def status(day, template, fmt, config_path, now):
    """On time / late / amended / incomplete / missing, per commune and district.

    \b
    Example:
      toolkit status --date 2026-11-23 --template kts_daily
    """
    from toolkit.frames import spec_versions
    from toolkit.periods import key_for
    from toolkit.status import period_status

    day = _day(day, now)
    with _workspace(config_path, template) as ws:
        reports = [period_status(s, ws.registry,
                                 spec_versions(ws.ledger, s, [key_for(s.period, day)]), day,
                                 as_of=now, grace=ws.grace, campaign=ws.campaign)
                   for s in ws.specs]
    if fmt == "json":
        click.echo(json.dumps([render.status_json(r) for r in reports], ensure_ascii=False,
                              indent=1))
        return
    for report in reports:
        if fmt == "csv":
            click.echo(report.communes.to_csv(index=False), nl=False)
            continue
        click.echo(render.status_text(report))


@main.command()
@day_option
@wait_option
@common
def daily(day, wait_seconds, config_path, now):
    """The scheduler's entry: collect → validate → rollup and archive.

    \b
    Example:
      toolkit daily --config /srv/lang-son/toolkit.toml
    """
    from toolkit.daily import run_daily
    from toolkit.layout import display_period

    day = _day(day, now)
    with _workspace(config_path) as ws, ws.exclusive(wait_seconds):
        with progress("collect", len(ws.registry.communes)) as tick:
            result = run_daily(ws, now=now, day=day, progress=tick)
    _print_collect(result.collected)
    _print_validate(result.validated)
    _print_rollups(result.rollups, result.archives)
    if result.republished is not None and not result.republished.error:
        say(result.republished.summary)
    for spec, period in result.not_due:
        say(render.not_due_line(spec, period, ws.campaign))
    for path in result.frozen:
        say(f"archived as of the deadline → {path}")
    for rolled in result.rollups:
        if rolled.spec.period == "daily":
            say(f"{rolled.spec.title} — {display_period(rolled.status.period)}, "
                f"as of {now:%H:%M}:")
            say(render.summary_text(rolled.status.summary))
    _fail_if([(name, "") for name in result.failures])


@main.command()
@day_option
@click.option("--template", default="kts_daily", show_default=True,
              help="Report template to chase.")
@click.option("--email", is_flag=True,
              help="Also e-mail each commune's editors, through [smtp] in toolkit.toml.")
@common
def remind(day, template, email, config_path, now):
    """Who to chase, with ready-to-paste Vietnamese messages (also saved to a file).

    \b
    Example:
      toolkit remind --date 2026-11-23 --template kts_daily
    """
    from toolkit.remind import remind as build
    from toolkit.remind import write_reminders

    day = _day(day, now)
    with _workspace(config_path, template) as ws:
        reminders = build(ws, ws.specs[0], day, now)
        path = write_reminders(reminders, ws.config.ledger_path.parent / "reminders")
    click.echo(reminders.text(), nl=False)
    say(f"remind: {len(reminders.communes)} commune(s) to chase; saved to {path}")
    if email:
        from toolkit.remind import email_reminders

        result = email_reminders(ws, reminders)
        say(f"email: sent {len(result.sent)}, skipped {len(result.skipped)}")
        _fail_if(result.skipped)


@main.command()
@click.option("--fix", is_flag=True,
              help="Gỡ và thêm quyền để mỗi bảng tính khớp với registry (một yêu cầu mỗi "
                   "thay đổi).")
@click.option("--dry-run", is_flag=True, help="Cùng --fix: in kế hoạch, không thay đổi gì.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Bảng để đọc, hoặc JSON cho công cụ khác.")
@wait_option
@common
def audit(fix, dry_run, fmt, wait_seconds, config_path, now):
    """Kiểm tra ai mở được bảng tính của từng xã, so với cột editors của registry.

    Trên Google: chia sẻ bằng đường liên kết (bất kỳ ai, cả một miền, xuất bản lên web),
    người không có trong registry (kể cả người đã bị xoá khỏi danh sách), người nhập liệu
    chưa được chia sẻ hoặc chỉ được xem. Không bao giờ gỡ tài khoản của toolkit, chủ sở hữu
    hay thành viên Bộ nhớ dùng chung; quyền thừa hưởng từ thư mục được báo để sửa ở thư mục.
    Trên thư mục .xlsx: thư mục hoặc tệp mà mọi tài khoản trên máy ghi được. Mã thoát: 0 khi
    mọi thứ khớp; 1 khi còn vấn đề hoặc có xã không kiểm tra được (sau --fix: khi còn điều
    chưa sửa được), để bộ lập lịch báo cho người phụ trách; 2 khi sai cấu hình.

    \b
    Ví dụ:
      toolkit audit
      toolkit audit --fix --dry-run
      toolkit audit --fix --format json
    """
    from toolkit.audit import as_json, table_lines
    from toolkit.audit import audit as run

    if dry_run and not fix:
        raise click.UsageError("--dry-run đi cùng --fix: `toolkit audit --fix --dry-run`")
    with _workspace(config_path) as ws:
        lock = ws.exclusive(wait_seconds) if fix and not dry_run else nullcontext()
        with lock, progress("audit", len(ws.registry.communes)) as tick:
            result = run(ws.registry, ws.store, ws.ledger, workbooks_dir=ws.config.workbooks_dir,
                         fix=fix, dry_run=dry_run, progress=tick)
    if fmt == "json":
        click.echo(redact(json.dumps(as_json(result), ensure_ascii=False, indent=1,
                                     allow_nan=False)))
    else:
        for line in table_lines(result):
            say(line)
    for name, message in result.failures:
        say(f"KHÔNG KIỂM TRA ĐƯỢC {name}: {message}", err=True)
    if not result.ok:
        sys.exit(1)


@main.command()
@common
def doctor(config_path, now):
    """Check the Google set-up step by step and say exactly what to fix.

    Credentials file, sign-in, the Sheets API, the Shared Drive folder, the template and the
    rollup spreadsheet, the commune workbooks provisioning made, and the quota. Exit 1 when
    something needs fixing; exit 2, before asking Google anything, when toolkit.toml, a
    template or the registry has a problem.

    \b
    Example:
      toolkit doctor --config lang-son/toolkit.toml
    """
    from toolkit.doctor import doctor as check
    from toolkit.doctor import provisioned
    from toolkit.workspace import check_workspace

    config, _, registry = check_workspace(config_path)
    communes, workbooks = provisioned(config, registry)
    report = check(config, communes=communes, workbooks=workbooks)
    for item in report.checks:
        click.echo(redact(f"{'ok ' if item.ok else 'FIX'}  {item.name}: {item.message}"))
    if not report.ok:
        sys.exit(1)
    click.echo("Everything needed to work with Google answers.")


@main.group()
def auth():
    """Sign in to Google as a person (for offices without a Shared Drive)."""


@auth.command()
@click.option("--client-secrets", "secrets", required=True, type=click.Path(dir_okay=False),
              help="The OAuth client (type Desktop app) JSON from the Google Cloud console.")
@click.option("--token", "token", type=click.Path(dir_okay=False), default=None,
              help="Where to save the sign-in. Default: authorized_user.json beside "
                   "toolkit.toml.")
@click.option("--no-browser", is_flag=True, help="Print the address instead of opening it.")
@common
def login(secrets, token, no_browser, config_path, now):
    """Open Google's sign-in page and save the token the toolkit then uses.

    Workbooks are then owned by the person who signed in. Point [google] credentials in
    toolkit.toml at the saved file.

    \b
    Example:
      toolkit auth login --client-secrets client_secret.json
    """
    from toolkit.config import find_config
    from toolkit.doctor import auth_login
    from toolkit.errors import ConfigError

    if token is None:
        try:
            token = find_config(config_path).parent / "authorized_user.json"
        except ConfigError:
            token = Path("authorized_user.json")
    path = auth_login(secrets, token, open_browser=not no_browser)
    click.echo(f"Saved {path} (readable by you only). In toolkit.toml set:\n"
               f"[google]\ncredentials = \"{path.name}\"")


@main.command()
@click.argument("folder", required=False, default="toolkit-demo",
                type=click.Path(file_okay=False))
@click.option("--province", default="Lạng Sơn", show_default=True)
@click.option("--days", default=3, show_default=True, type=click.IntRange(1, 31),
              help="How many reporting days to simulate.")
@click.option("--seed", default=2026, show_default=True, help="Random seed of the simulation.")
@common
def demo(folder, province, days, seed, config_path, now):
    """The whole workflow on the embedded default, with simulated commune staff.

    \b
    Example:
      toolkit demo /tmp/demo --days 3
    """
    from toolkit.demo import run_demo

    run_demo(Path(folder), province=province, days=days, seed=seed, now=now, echo=click.echo)


# printing --------------------------------------------------------------------------------------

def _print_collect(result) -> None:
    say(render.collect_line(result))
    for warning in result.warnings:
        say(f"Warning: {warning}", err=True)


def _print_validate(result) -> None:
    for line in render.validate_lines(result):
        say(line)


def _print_rollups(rollups, paths) -> None:
    for result, path in zip(rollups, paths, strict=True):
        for line in render.rollup_lines(result, path):
            say(line)
    for line in render.publication_lines(rollups):
        say(line)


def _fail_if(failures) -> None:
    """Exit 1 (partial) naming each commune that failed."""
    if not failures:
        return
    for name, message in failures:
        say(f"FAILED {message or name}", err=True)
    sys.exit(1)
