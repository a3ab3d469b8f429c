"""The one exception root of the toolkit; the CLI turns these into `Error: ...` and exit code 2."""


class ToolkitError(Exception):
    """A problem the user can fix; the message says what and how."""


class ConfigError(ToolkitError):
    """toolkit.toml is missing, unreadable or has a bad value."""


class RegistryError(ToolkitError):
    """The commune registry has problems; every problem is listed with its row."""

    def __init__(self, path, problems: list[str]):
        self.path = path
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in the commune registry:\n{listing}")


class TemplateError(ToolkitError):
    """A report template (sheet_templates/*.toml) is malformed."""


class WorkbookError(ToolkitError):
    """One commune's workbook cannot be read or written; other communes go on."""


class WorkbookBusy(WorkbookError):
    """A person has the workbook open, or saved it while the toolkit wrote: the write was
    given up untouched and is retried on the next run (deferred, not a failure)."""


class BusyError(ToolkitError):
    """Another run holds the province's lock; this run did nothing (exit code 1)."""


def unexpected(doing: str, exc: BaseException) -> str:
    """What a province officer reads when one commune hit a bug: what failed, whose fault it
    is not, and where the details are (the traceback is in the log, not on the screen)."""
    from toolkit.redact import redact

    return (f"lỗi không lường trước khi {doing} ({type(exc).__name__}: {redact(exc)}) — lỗi của "
            "toolkit, không phải do xã nhập; các xã khác vẫn được xử lý. Chi tiết ở "
            "logs/toolkit.log trong thư mục của tỉnh, hãy gửi cho người phụ trách toolkit")
