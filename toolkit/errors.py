"""The one exception root of the toolkit; the CLI turns these into `Lỗi: ...` and exit code 2.

Messages are what a province officer reads, so they are Vietnamese; file names, TOML
settings and sections stay as written, since they are what the officer types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileProblems:
    """Every problem found in one file, under its path: what a person opens and fixes."""

    path: Path | str
    problems: tuple[str, ...]
    what: str = ""    # " trong danh sách xã"
    unreadable: bool = False    # one problem: the file could not be read at all

    def __str__(self) -> str:
        if self.unreadable:
            return f"{self.path}: {self.problems[0]}"
        listing = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.path}: {len(self.problems)} lỗi{self.what}:\n{listing}"


def listing(files: list[FileProblems] | tuple[FileProblems, ...],
            notes: list[str] | tuple[str, ...] = ()) -> str:
    """Files with their problems, then the checks that wait for a broken file to load."""
    text = "\n".join(str(f) for f in files)
    if notes:
        text += "\nChưa kiểm tra:\n" + "\n".join(f"  - {n}" for n in notes)
    return text


class ToolkitError(Exception):
    """A problem the user can fix; the message says what and how."""

    #: The files whose problems this error lists (empty when the message says it all).
    files: tuple[FileProblems, ...] = ()
    #: Checks that could not run because another file did not load.
    notes: tuple[str, ...] = ()

    @classmethod
    def of_files(cls, files, notes=()) -> ToolkitError:
        error = cls(listing(files, notes))
        error.files, error.notes = tuple(files), tuple(notes)
        return error


class ConfigError(ToolkitError):
    """toolkit.toml is missing, unreadable or has a bad value."""


class RegistryError(ToolkitError):
    """The commune registry has problems; every problem is listed with its row."""

    def __init__(self, path, problems: list[str]):
        self.path = path
        self.problems = problems
        self.files = (FileProblems(path, tuple(problems), " trong danh sách xã"),)
        super().__init__(str(self.files[0]))


class TemplateError(ToolkitError):
    """A report template (sheet_templates/*.toml) is malformed."""


class SetupError(ConfigError, TemplateError, RegistryError):
    """Config, templates or registry have problems: all of them, by file; nothing was done."""

    # It is each of the three errors, so code that caught the one the first broken file
    # raised before all were checked together still catches it.
    def __init__(self, message: str):
        ToolkitError.__init__(self, message)

    @classmethod
    def of_files(cls, files, notes=()) -> ToolkitError:
        count = sum(len(f.problems) for f in files)
        error = cls(f"chưa thay đổi gì — hãy sửa {count} lỗi trong {len(files)} tệp trước, "
                    f"rồi chạy lại lệnh:\n{listing(files, notes)}")
        error.files, error.notes = tuple(files), tuple(notes)
        # As RegistryError had them: the one file and its problems; with several files, each
        # problem names its file.
        if len(files) == 1:
            error.path, error.problems = files[0].path, list(files[0].problems)
        else:
            error.path = None
            error.problems = [f"{f.path}: {p}" for f in files for p in f.problems]
        return error


class WorkbookError(ToolkitError):
    """One commune's workbook cannot be read or written; other communes go on."""


class WorkbookBusy(WorkbookError):
    """A person has the workbook open, or saved it while the toolkit wrote: the write was
    given up untouched and is retried on the next run (deferred, not a failure)."""


class SharingRefused(WorkbookError):
    """Google refused to share a workbook with some editors; the workbook itself is made
    (``locator``) and the others were shared."""

    def __init__(self, message: str, locator: str):
        super().__init__(message)
        self.locator = locator


class BusyError(ToolkitError):
    """Another run holds the province's lock; this run did nothing (exit code 1)."""


def unexpected(doing: str, exc: BaseException) -> str:
    """What a province officer reads when one commune hit a bug: what failed, whose fault it
    is not, and where the details are (the traceback is in the log, not on the screen)."""
    from toolkit.redact import redact

    return (f"lỗi không lường trước khi {doing} ({type(exc).__name__}: {redact(exc)}) — lỗi của "
            "toolkit, không phải do xã nhập; các xã khác vẫn được xử lý. Chi tiết ở "
            "logs/toolkit.log trong thư mục của tỉnh, hãy gửi cho người phụ trách toolkit")
