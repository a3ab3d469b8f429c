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

from toolkit import console, render
from toolkit.cli_vi import Group
from toolkit.errors import BusyError, ToolkitError
from toolkit.redact import RedactingFormatter, format_exception, redact

log = logging.getLogger("toolkit")
# Until a province folder is open there is no log file; without this, log.error would reach
# stderr through logging's last-resort handler and print every error twice.
log.addHandler(logging.NullHandler())
LOCK_WAIT_SECONDS = 600


def common(func=None, *, config: bool = True):
    """--config, --now and --verbose on every command; ToolkitError → 'Lỗi: …', exit 2.

    ``config=False`` for a command that reads no province of its own (merge names its
    provinces' folders): it has no --config to mislead anyone.
    """
    if func is None:
        return functools.partial(common, config=config)

    @click.option("--now", "now_text", metavar="'NGÀY GIỜ'",
                  help="Chạy như thể đang là thời điểm này (giờ Việt Nam), ví dụ "
                       "'01/12/2026 17:00' hoặc '2026-12-01 17:00': để thử, trình diễn, "
                       "chạy lại.")
    @click.option("-v", "--verbose", is_flag=True, help="Hiện chi tiết kỹ thuật (traceback) "
                  "của lỗi.")
    @functools.wraps(func)
    def wrapper(*args, now_text, verbose, config_path=None, **kwargs):
        from toolkit.periods import parse_now

        try:
            now = parse_now(now_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--now'") from None
        shown = _tracebacks_on_stderr() if verbose else None
        try:
            return func(*args, config_path=config_path, now=now, **kwargs)
        except ToolkitError as exc:
            if verbose:
                click.echo(format_exception(exc), err=True, nl=False)
            click.echo(f"Lỗi: {redact(exc)}", err=True)
            log.error("%s", exc)
            sys.exit(1 if isinstance(exc, BusyError) else 2)
        finally:
            if shown is not None:
                log.removeHandler(shown)

    if config:
        wrapper = click.option(
            "--config", "config_path", type=click.Path(dir_okay=True), metavar="TỆP",
            help="Tệp toolkit.toml (hoặc thư mục chứa nó). Mặc định: $TOOLKIT_CONFIG hoặc "
                 "./toolkit.toml")(wrapper)
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
    return click.option("--date", "day", metavar="NGÀY",
                        help="Ngày báo cáo (01/12/2026 hoặc 2026-12-01). Mặc định: hôm nay.")(func)


def _day(text: str | None, now: datetime):
    from toolkit.periods import parse_date

    if not text:
        return now.date()
    try:
        return parse_date(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--date'") from None


def _workspace(config_path, template: str | None = None):
    """Open the province folder and show the registry's warnings once, on stderr."""
    from toolkit.workspace import open_workspace

    workspace = open_workspace(config_path, template)
    _log_run(workspace.config)
    for line in render.registry_warnings(workspace.registry, workspace.config.registry_path):
        click.echo(line, err=True)
    return workspace


def _log_run(config) -> None:
    """This run's command and options, in the log file beside the ledger."""
    _log_beside(config.ledger_path.parent / "logs" / "toolkit.log")
    context = click.get_current_context(silent=True)
    if context is not None:
        given = {k: v for k, v in context.params.items() if v not in (None, False)}
        options = " ".join(f"{k}={v}" for k, v in given.items())
        log.info("toolkit %s %s", context.info_name, options)


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
    click.echo(("" if err else console.bom()) + redact(text), err=err)
    if text:
        log.info("%s", text)


def wait_option(func):
    return click.option("--wait", "wait_seconds", type=click.FloatRange(0),
                        default=LOCK_WAIT_SECONDS, show_default=True, metavar="GIÂY",
                        help="Chờ bao lâu (giây) nếu một lần chạy khác đang giữ khoá của tỉnh."
                        )(func)


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


@click.group(cls=Group)
@click.version_option(package_name="commune-report-toolkit", help="Hiện phiên bản rồi thoát.",
                      message="%(prog)s, phiên bản %(version)s")
def main():
    """Báo cáo của các xã, phường cho đợt chuyển đổi số của tỉnh.

    Các xã nhập số liệu vào sổ báo cáo của mình trước 17 giờ; các lệnh dưới đây tạo sổ cho
    từng xã, thu thập và kiểm tra số liệu, lập bảng tổng hợp của tỉnh và tệp lưu trữ.
    Mỗi lệnh có hướng dẫn riêng: toolkit <lệnh> --help.

    \b
    Ví dụ:
      toolkit demo /tmp/demo
      toolkit daily --config lang-son/toolkit.toml
    """
    console.prepare_all()
    sys.excepthook = _redacted_excepthook


def _redacted_excepthook(kind, exc, tb) -> None:
    """A bug's traceback is printed as Python would, less any secret it carries."""
    click.echo(format_exception(exc), err=True, nl=False)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False), metavar="THƯ_MỤC")
@click.option("--province", required=True, metavar="TÊN", help="Tên tỉnh, có dấu hoặc không dấu.")
@click.option("--backend", type=click.Choice(["xlsx", "gsheets"]), default="xlsx",
              show_default=True, help="xlsx: thư mục sổ Excel; gsheets: Google Sheets.")
@click.option("--old-registry", type=click.Path(dir_okay=False, exists=True), metavar="TỆP",
              help="Danh sách xã trước sáp nhập 2025 (.xlsx/.csv, cùng các cột như "
                   "registry.xlsx): chuyển sang các xã mới theo --merged.")
@click.option("--merged", type=click.Path(dir_okay=False, exists=True), metavar="TỆP",
              help="Bảng xã sáp nhập (.xlsx/.csv): Mã xã cũ, Tên xã cũ, Mã xã mới, Tên xã "
                   "mới, Tỷ lệ (%) khi một xã cũ được chia.")
@common
def init(folder, province, backend, old_registry, merged, config_path, now):
    """Tạo thư mục của tỉnh: toolkit.toml, registry.xlsx và các mẫu báo cáo.

    registry.xlsx liệt kê các xã, phường chính thức của tỉnh (từ 01/7/2025); hãy điền số hộ,
    thôn/bản và email người nhập liệu trước khi tạo sổ. Với --old-registry và --merged,
    registry.xlsx là các xã cũ của tỉnh chuyển sang xã mới: các xã cũ gộp thành một xã mới
    góp chung thôn/bản, người nhập liệu và số hộ; bảng tổng hợp cộng số liệu các xã cũ đã
    báo cáo vào xã mới.

    \b
    Ví dụ:
      toolkit init lang-son --province "Lạng Sơn"
      toolkit init lang-son --province "Lạng Sơn" --old-registry ds_xa_2024.xlsx \\
          --merged xa_sap_nhap.csv
    """
    from toolkit.workspace import init_province

    result = init_province(Path(folder), province, backend=backend, today=now.date(),
                           old_registry=old_registry and Path(old_registry),
                           merged=merged and Path(merged))
    click.echo(f"Đã tạo {result.config_path}")
    click.echo(f"Đã tạo {result.registry_path}: {result.communes} xã, phường của "
               f"{result.province}")
    if result.mapped:
        click.echo("Các xã cũ đã chuyển sang xã mới:")
        for line in result.mapped:
            click.echo(f"  {line}")
    click.echo(f"Tiếp theo: điền số hộ, thôn/bản, email người nhập liệu trong "
               f"{result.registry_path.name}, rồi chạy "
               f"`toolkit provision --config {result.config_path}`")


@main.command()
@click.option("--template", metavar="MẪU", help="Chỉ mẫu báo cáo này (ví dụ kts_daily).")
@click.option("--dry-run", is_flag=True, help="In những gì sẽ tạo; không thay đổi gì.")
@wait_option
@common
def provision(template, dry_run, wait_seconds, config_path, now):
    """Tạo hoặc bổ sung sổ báo cáo của từng xã; chạy lại lần nữa không thay đổi gì.

    \b
    Ví dụ:
      toolkit provision --dry-run
    """
    from toolkit.provision import provision as run

    with _workspace(config_path, template) as ws, ws.exclusive(wait_seconds):
        with progress("provision", len(ws.registry.communes)) as tick:
            result = run(ws.config, ws.registry, ws.specs, ws.store, ws.ledger, now=now,
                         dry_run=dry_run, progress=tick)
        for plan in result.changed:
            verb = "sẽ" if dry_run else "đã"
            say(f"{plan.name}: {verb} " + "; ".join(a.describe() for a in plan.actions))
        for name, why in result.deferred:
            say(render.deferred_line(name, why).strip())
        unchanged = len(result.plans) - len(result.changed)
        say(f"{len(result.changed)} sổ {'sẽ thay đổi' if dry_run else 'đã thay đổi'}, "
            f"{unchanged} sổ đã đủ, tại {ws.store.where}")
    _fail_if(result.failures)


@main.command()
@wait_option
@common
def collect(wait_seconds, config_path, now):
    """Đọc các sổ báo cáo có thay đổi vào sổ cái (sổ không đổi không tốn lượt đọc nào).

    \b
    Ví dụ:
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
    """Kiểm tra số liệu theo quy tắc của mẫu báo cáo, ghi trang Kiểm tra của từng xã.

    \b
    Ví dụ:
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
@click.option("--template", metavar="MẪU", help="Chỉ mẫu báo cáo này (ví dụ kts_daily).")
@click.option("--as-of", "as_of", type=click.Choice(["deadline", "now"]), default="now",
              show_default=True, help="deadline: số liệu tại giờ hạn; now: đến hiện tại, kể "
              "cả số liệu nhập muộn.")
@wait_option
@common
def rollup(day, template, as_of, wait_seconds, config_path, now):
    """Tổng hợp của tỉnh theo xã và huyện, ghi vào tệp lưu trữ Excel.

    \b
    Ví dụ:
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
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False),
                metavar="THƯ_MỤC_TỈNH...")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              metavar="THƯ_MỤC", help="Nơi ghi tệp lưu trữ toàn quốc (không ghi gì vào thư mục "
              "của các tỉnh).")
@day_option
@click.option("--template", metavar="MẪU", help="Chỉ mẫu báo cáo này (ví dụ kts_daily).")
@click.option("--as-of", "as_of", type=click.Choice(["deadline", "now"]), default="now",
              show_default=True, help="deadline: số liệu tại giờ hạn; now: đến hiện tại, kể "
              "cả số liệu nhập muộn.")
@common(config=False)
def merge(folders, out, day, template, as_of, config_path, now):
    """Gộp sổ cái của nhiều tỉnh thành bảng tổng hợp và tệp lưu trữ toàn quốc.

    Chỉ đọc: không giữ khoá, không ghi gì vào thư mục của tỉnh, nên chạy được cả khi
    một tỉnh đang chạy toolkit daily. Các tỉnh phải dùng cùng mẫu báo cáo và cùng đợt
    chiến dịch; tệp lưu trữ có tổng của từng tỉnh, của toàn quốc và tỷ lệ báo cáo
    của từng tỉnh.

    \b
    Ví dụ:
      toolkit merge lang-son/ cao-bang/ --out toan-quoc/ --date 2026-11-23
    """
    from toolkit.national import merge as merge_provinces

    _log_beside(Path(out) / "logs" / "toolkit.log")     # never a province's own log
    result = merge_provinces([Path(f) for f in folders], Path(out), _day(day, now), now=now,
                             as_of_mode=as_of, template=template,
                             progress=lambda line: say(line, err=True))
    for line in render.merge_lines(result):
        say(line)
    for spec, period, campaign in result.not_due:
        say(render.not_due_line(spec, period, campaign))
    for spec in result.left_out:
        say(f"{spec.title}: không gộp — báo cáo của doanh nghiệp bưu chính ở lại tệp lưu trữ "
            "của từng tỉnh")


def output_option(func):
    return click.option("--output", "output", type=click.Path(dir_okay=False), default=None,
                        metavar="TỆP.xlsx",
                        help="Cũng ghi bảng ra tệp Excel này (mã xã, số điện thoại giữ "
                             "nguyên dạng chữ, không mất số 0 ở đầu).")(func)


@main.command()
@day_option
@click.option("--template", default=None, metavar="MẪU",
              help="Chỉ mẫu báo cáo này, đủ mọi xã. Mặc định: mọi mẫu; báo cáo chưa đến hạn "
                   "gọn trong một dòng.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True,
              help="table: bảng để đọc; csv: một bảng cho Excel (UTF-8 có BOM, cột báo cáo); "
                   "json: cho công cụ khác.")
@output_option
@common
def status(day, template, fmt, output, config_path, now):
    """Xã nào đúng hạn, trễ hạn, sửa sau hạn, chưa đủ, chưa báo cáo — theo xã và huyện.

    Các xã có vấn đề đứng trước: chưa báo cáo, chưa đủ, chưa nhập (còn hạn), trễ hạn, rồi
    mới đến đúng hạn. Báo cáo chưa đến hạn hoặc không phải kỳ báo cáo chỉ một dòng.

    \b
    Ví dụ:
      toolkit status --date 01/12/2026 --template kts_daily
      toolkit status --format csv > tinh-hinh.csv
      toolkit status --output tinh-hinh.xlsx
    """
    from toolkit.postal import reporters_of
    from toolkit.status import period_status

    day = _day(day, now)
    if output:
        from toolkit.export import check_xlsx_path

        check_xlsx_path(output)
    with _workspace(config_path, template) as ws:
        reports = [period_status(s, reporters_of(ws.registry, s),
                                 ws.report_versions(s, [s.deadline.key_on(day)]), day,
                                 as_of=now, grace=ws.grace, campaign=ws.campaign)
                   for s in ws.specs]
        titles = {s.key: s.title for s in ws.specs}
        configured_grace = ws.config.grace_minutes
    if fmt == "json":
        console.started()
        click.echo(json.dumps([render.status_json(r, titles[r.report]) for r in reports],
                              ensure_ascii=False, indent=1, allow_nan=False))
    elif fmt == "csv":
        console.started()
        click.echo(render.status_csv(reports, titles), nl=False)
    else:
        click.echo(console.bom() + render.status_text(reports, titles, day=day,
                                                      configured_grace=configured_grace,
                                                      fold=template is None))
    if output:
        from toolkit.export import write_xlsx

        path = write_xlsx(output, [
            ("Tình hình", render.STATUS_HEADERS, render.status_rows(reports, titles)),
            ("Tổng hợp", render.SUMMARY_HEADERS, render.summary_rows(reports))])
        click.echo(f"Đã ghi {path}", err=True)


@main.command()
@day_option
@wait_option
@common
def daily(day, wait_seconds, config_path, now):
    """Lệnh cho bộ lập lịch: thu thập → kiểm tra → tổng hợp và lưu trữ.

    Với thư mục sổ Excel, lần quét không có gì mới (không xã nào lưu sổ, không tệp nào
    thay đổi, chưa tới giờ hạn) được nhận ra ngay từ bản ghi của lần quét trước, không đọc
    lại gì: chỉ giờ "số liệu đến" trong các tệp lưu trữ được cập nhật.

    \b
    Ví dụ:
      toolkit daily --config /srv/lang-son/toolkit.toml
    """
    from toolkit.quiet import quiet_sweep

    day = _day(day, now)
    quiet = quiet_sweep(config_path, now=now, day=day, wait_seconds=wait_seconds)
    if quiet.lines is not None:
        _log_run(quiet.config)
        lines, failures = quiet.lines, []
    else:
        from toolkit.daily import sweep

        with _workspace(config_path) as ws, ws.exclusive(wait_seconds):
            with progress("collect", len(ws.registry.communes)) as tick:
                result, lines = sweep(ws, now=now, day=day, inputs=quiet.inputs,
                                      progress=tick)
        failures = result.failures
    for err, text in lines:
        say(text, err=err)
    _fail_if([(name, "") for name in failures])


@main.command()
@day_option
@click.option("--template", default="kts_daily", show_default=True, metavar="MẪU",
              help="Mẫu báo cáo cần nhắc.")
@click.option("--email", is_flag=True,
              help="Gửi thêm email cho người nhập liệu của từng xã, qua mục [smtp] trong "
                   "toolkit.toml.")
@output_option
@common
def remind(day, template, email, output, config_path, now):
    """Xã nào cần nhắc, kèm tin nhắn tiếng Việt để dán vào Zalo (cũng lưu ra tệp).

    Tin nhắn gọi đúng UBND xã, phường hay đặc khu, và nêu các ô còn thiếu hoặc sai.

    \b
    Ví dụ:
      toolkit remind --date 01/12/2026 --template kts_daily
      toolkit remind --output nhac-bao-cao.xlsx
    """
    from toolkit.remind import remind as build
    from toolkit.remind import write_reminders

    day = _day(day, now)
    if output:
        from toolkit.export import check_xlsx_path

        check_xlsx_path(output)
    with _workspace(config_path, template) as ws:
        reminders = build(ws, ws.specs[0], day, now)
        path = write_reminders(reminders, ws.config.ledger_path.parent / "reminders")
    click.echo(console.bom() + reminders.text(), nl=False)
    who = "doanh nghiệp" if ws.specs[0].keyed else "xã"
    say(f"remind: {len(reminders.communes)} {who} cần nhắc; đã lưu vào {path}")
    if output:
        from toolkit.export import write_xlsx

        written = write_xlsx(output, reminders.sheets())
        say(f"remind: đã ghi {written}")
    if email:
        from toolkit.remind import email_reminders

        result = email_reminders(ws, reminders)
        say(f"email: đã gửi {len(result.sent)}, bỏ qua {len(result.skipped)}")
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
    """Kiểm tra từng bước thiết lập Google và nói rõ cần sửa gì.

    Tệp khoá, đăng nhập, Sheets API, thư mục Drive dùng chung, bảng tính mẫu và bảng tổng hợp,
    các sổ báo cáo đã tạo, và hạn mức yêu cầu. Mã thoát 1 khi còn điều cần sửa; mã thoát 2,
    trước khi hỏi Google, khi toolkit.toml, một mẫu báo cáo hay registry có lỗi.

    \b
    Ví dụ:
      toolkit doctor --config lang-son/toolkit.toml
    """
    from toolkit.doctor import doctor as check
    from toolkit.doctor import provisioned
    from toolkit.workspace import check_workspace

    config, _, registry = check_workspace(config_path)
    communes, workbooks = provisioned(config, registry)
    report = check(config, communes=communes, workbooks=workbooks)
    for item in report.checks:
        click.echo(redact(f"{'ổn ' if item.ok else 'SỬA'}  {item.name}: {item.message}"))
    if not report.ok:
        sys.exit(1)
    click.echo("Mọi thứ cần để làm việc với Google đều đã sẵn sàng.")


@main.group()
def auth():
    """Đăng nhập Google bằng tài khoản cá nhân (cho cơ quan không có Drive dùng chung).

    \b
    Ví dụ:
      toolkit auth login --client-secrets client_secret.json
    """


@auth.command()
@click.option("--client-secrets", "secrets", required=True, type=click.Path(dir_okay=False),
              metavar="TỆP.json",
              help="Tệp JSON của OAuth client (loại Desktop app) tải từ Google Cloud console.")
@click.option("--token", "token", type=click.Path(dir_okay=False), default=None, metavar="TỆP",
              help="Nơi lưu phiên đăng nhập. Mặc định: authorized_user.json cạnh "
                   "toolkit.toml.")
@click.option("--no-browser", is_flag=True, help="In địa chỉ ra thay vì mở trình duyệt.")
@common
def login(secrets, token, no_browser, config_path, now):
    """Mở trang đăng nhập Google và lưu phiên đăng nhập cho toolkit dùng.

    Sổ báo cáo khi đó thuộc về người đã đăng nhập. Trỏ mục [google] credentials trong
    toolkit.toml tới tệp đã lưu.

    \b
    Ví dụ:
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
    click.echo(f"Đã lưu {path} (chỉ bạn đọc được). Trong toolkit.toml, đặt:\n"
               f"[google]\ncredentials = \"{path.name}\"")


@main.command()
@click.argument("folder", required=False, default="toolkit-demo",
                type=click.Path(file_okay=False), metavar="[THƯ_MỤC]")
@click.option("--province", default="Lạng Sơn", show_default=True, metavar="TÊN",
              help="Tên tỉnh.")
@click.option("--days", default=3, show_default=True, type=click.IntRange(1, 31), metavar="SỐ",
              help="Số ngày báo cáo mô phỏng.")
@click.option("--seed", default=2026, show_default=True, metavar="SỐ",
              help="Hạt giống ngẫu nhiên của mô phỏng.")
@click.option("--backend", type=click.Choice(["xlsx", "gsheets"]), default="xlsx",
              show_default=True,
              help="xlsx: thư mục sổ Excel. gsheets: Google Sheets giả lập trên máy này "
                   "(127.0.0.1), không cần tài khoản Google; in số yêu cầu Google của từng bước "
                   "và thời gian tối thiểu theo hạn mức của Google.")
@common
def demo(folder, province, days, seed, backend, config_path, now):
    """Chạy thử cả quy trình với cán bộ xã mô phỏng, trên thư mục .xlsx hoặc trên Google Sheets
    giả lập.

    \b
    Ví dụ:
      toolkit demo /tmp/demo --days 3
      toolkit demo --backend gsheets
    """
    from toolkit.demo import run_demo

    # Returned for callers in Python (main(..., standalone_mode=False)): the checked figures.
    return run_demo(Path(folder), province=province, days=days, seed=seed, now=now,
                    echo=click.echo, backend=backend)


# printing --------------------------------------------------------------------------------------

def _print_collect(result) -> None:
    for err, line in render.collect_lines(result):
        say(line, err=err)


def _print_validate(result) -> None:
    for line in render.validate_lines(result):
        say(line)


def _print_rollups(rollups, paths) -> None:
    for line in render.rollups_lines(rollups, paths):
        say(line)


def _fail_if(failures) -> None:
    """Exit 1 (partial) naming each commune that failed."""
    if not failures:
        return
    for name, message in failures:
        say(f"LỖI {message or name}", err=True)
    sys.exit(1)
