"""Command line: parse options, call one library function, print the result. No logic here."""

from __future__ import annotations

import functools
import json
import logging
import logging.handlers
import sys
import traceback
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from toolkit.errors import BusyError, ToolkitError

log = logging.getLogger("toolkit")
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
        try:
            return func(*args, config_path=config_path, now=now, **kwargs)
        except ToolkitError as exc:
            if verbose:
                traceback.print_exc()
            click.echo(f"Error: {exc}", err=True)
            log.error("%s", exc)
            sys.exit(1 if isinstance(exc, BusyError) else 2)

    return wrapper


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
        log.removeHandler(handler)
        handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def say(text: str = "", err: bool = False) -> None:
    """Print a result line and keep it in the log file."""
    click.echo(text, err=err)
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
        unchanged = len(result.plans) - len(result.changed)
        say(f"{len(result.changed)} workbook(s) {'to change' if dry_run else 'changed'}, "
                   f"{unchanged} already complete, in {ws.config.workbooks_dir}")
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
            result = run(ws.registry, ws.specs, ws.store, ws.ledger, now=now, progress=tick)
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
    _fail_if(result.failures)


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
    from toolkit.daily import rollup_reports

    day = _day(day, now)
    with _workspace(config_path, template) as ws, ws.exclusive(wait_seconds):
        rollups, paths = rollup_reports(ws, day, now=now, as_of_mode=as_of)
    for result, path in zip(rollups, paths, strict=True):
        _print_rollup(result, path)


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
                                 as_of=now, grace=ws.grace) for s in ws.specs]
    if fmt == "json":
        click.echo(json.dumps([status_json(r) for r in reports], ensure_ascii=False, indent=1))
        return
    for report in reports:
        if fmt == "csv":
            click.echo(report.communes.to_csv(index=False), nl=False)
            continue
        _print_status(report)


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
    for rolled, path in zip(result.rollups, result.archives, strict=True):
        _print_rollup(rolled, path)
    for path in result.frozen:
        say(f"archived as of the deadline → {path}")
    for rolled in result.rollups:
        if rolled.spec.period == "daily":
            say(f"{rolled.spec.title} — {display_period(rolled.status.period)}, "
                f"as of {now:%H:%M}:")
            say(_summary_text(rolled.status.summary))
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
        _email(ws, reminders)


def _email(ws, reminders) -> None:
    import os
    import smtplib

    from toolkit.errors import ConfigError
    from toolkit.remind import send_reminders

    smtp = ws.config.smtp
    if not smtp.configured:
        raise ConfigError(f"{ws.config.path}: --email needs an [smtp] section, e.g.\n"
                          "[smtp]\nhost = \"smtp.example.gov.vn\"\nport = 587\n"
                          "sender = \"so-khcn@example.gov.vn\"\nusername = \"so-khcn\"\n"
                          f"and the password in the environment variable {smtp.password_env}")
    try:
        result = send_reminders(reminders, smtp, os.environ.get(smtp.password_env),
                                title=ws.specs[0].title)
    except (OSError, smtplib.SMTPException) as exc:
        raise ConfigError(f"could not send through {smtp.host}:{smtp.port} ({exc}); check "
                          "[smtp] in toolkit.toml and the password variable") from exc
    say(f"email: sent {len(result.sent)}, skipped {len(result.skipped)}")
    _fail_if(result.skipped)


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


# rendering -------------------------------------------------------------------------------------

def status_json(report) -> dict:
    communes = report.communes.astype(object).where(report.communes.notna(), None)
    for column in ("first_complete_at", "last_change_at"):
        communes[column] = [v.isoformat() if v is not None else None for v in communes[column]]
    return {
        "report": report.report, "period": report.period,
        "deadline": report.deadline.isoformat(), "as_of": report.as_of.isoformat(),
        "grace_minutes": report.grace_minutes,
        "communes": communes.to_dict(orient="records"),
        "summary": report.summary.astype(object).where(report.summary.notna(), None)
        .to_dict(orient="records"),
    }


def _print_collect(result) -> None:
    say(f"collect: {result.count('read')} read, {result.count('unchanged')} unchanged, "
               f"{len(result.failures)} failed; {result.new_versions} new row version(s)")


def _print_validate(result) -> None:
    issues = result.issues
    errors = int((issues["level"] == "error").sum())
    warnings = int((issues["level"] == "warning").sum())
    say(f"validate: {errors} error(s), {warnings} warning(s); Kiểm tra tab written for "
               f"{len(result.written)}, unchanged {result.unchanged}, deferred "
               f"{len(result.deferred)} (edited since read; next run)")
    for row in issues[issues["level"] == "error"].head(15).itertuples():
        say(f"  {row.commune} · {row.tab}!{row.cell} · {row.value!s:.20} · {row.message}")
    if errors > 15:
        say(f"  … and {errors - 15} more (see the archive's Lỗi dữ liệu sheet)")


def _print_status(report) -> None:
    from toolkit.layout import display_period

    click.echo(f"{report.report} {display_period(report.period)} — deadline "
               f"{report.deadline:%H:%M %d/%m/%Y}, as of {report.as_of:%H:%M %d/%m/%Y}, "
               f"grace {report.grace_minutes} min")
    columns = {"code": "code", "commune": "commune", "district": "district",
               "status_label": "status", "first_complete_at": "complete at"}
    if not report.communes["district"].any():
        columns.pop("district")
    rows = [[_cell(v) for v in r] for r in report.communes[list(columns)].itertuples(index=False)]
    click.echo(_table(list(columns.values()), rows))
    click.echo(_summary_text(report.summary))


def _cell(value) -> str:
    if value is None or value != value:
        return ""
    if isinstance(value, datetime):
        return f"{value:%H:%M %d/%m}"
    return str(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A left-aligned plain-text table that reads well in any terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _summary_text(summary) -> str:
    lines = []
    for row in summary.itertuples():
        pending = f", {row.pending} not yet due" if row.pending else ""
        lines.append(f"{row.area}: {row.on_time} on time, {row.amended} amended, {row.late} late, "
                     f"{row.incomplete} incomplete, {row.missing} missing{pending} of "
                     f"{row.expected} — reporting {row.reporting_rate:.0%}, on time "
                     f"{row.on_time_rate:.0%}")
    return "\n".join(lines)


def _print_rollup(result, path) -> None:
    from toolkit.layout import display_period

    province = result.areas.iloc[-1]
    say(f"rollup {result.spec.key} {display_period(result.period)} (as of "
               f"{result.as_of_mode}): reporting {province['reporting_rate']:.0%}, on time "
               f"{province['on_time_rate']:.0%} → {path}")


def _fail_if(failures) -> None:
    """Exit 1 (partial) naming each commune that failed."""
    if not failures:
        return
    for name, message in failures:
        say(f"FAILED {message or name}", err=True)
    sys.exit(1)
