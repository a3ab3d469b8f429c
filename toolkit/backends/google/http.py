"""The one way the toolkit talks HTTP to Google: paced under quota, retried with jitter, bounded.

Google allows 60 Sheets reads and 60 writes per minute per account of a Cloud project, and 300
of each per minute for the whole project (developers.google.com/sheets/api/limits). A province
run that ignores this gets 429s and, with gspread's own ``BackOffHTTPClient``, retries forever
without jitter or timeout. Here every request first takes a token from a per-account bucket
(reads, writes and Drive calls are counted apart, as Google counts them) — and, when several
accounts share a project, from the project's bucket too — paced at :data:`HEADROOM` of the
quota so that a `status` or `doctor` run alongside does not tip it over. It is then sent with
connect and read timeouts; transient failures are retried with truncated exponential backoff
and full jitter, honouring ``Retry-After``, up to a cap on attempts and on total sleep, after
which a :class:`~toolkit.errors.WorkbookError` names the spreadsheet so the other communes go
on. A 429 without ``Retry-After`` means the minute's quota is spent: its retries are spread
until past the minute window Google refills.

Clock, sleep and randomness are injectable, so tests run instantly and the benchmark can add up
exactly how long the pacer made a run wait.
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from toolkit.errors import ConfigError, WorkbookError
from toolkit.redact import redact, remember_file_secrets

SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive")
READ, WRITE, DRIVE = "read", "write", "drive"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Drive reports its rate limits as 403 with one of these reasons; they clear by themselves.
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded",
                                "sharingRateLimitExceeded"})
#: Answers after which the request certainly was not carried out: safe to resend any write.
NOT_APPLIED_STATUS = frozenset({403, 429, 503})
#: Drive's own per-user quota is far above Sheets'; pace it only to stay polite.
DRIVE_PER_MINUTE = 600
#: Sheets' reads (and, apart, writes) a minute for all accounts of one Cloud project.
PROJECT_PER_MINUTE = 300
#: The share of a quota the pacer uses: the rest is room for a concurrent run.
HEADROOM = 0.9
_ID = re.compile(r"/(?:spreadsheets|files)/([A-Za-z0-9_-]{6,})")


class TokenBucket:
    """``per_minute`` requests a minute, at most ``burst`` at once.

    The default burst of 1 spaces requests evenly, so no 60-second window — however Google
    aligns its minute — ever holds more than the quota, and a run of N requests takes
    N ÷ rate: the quota floor, neither more nor less.
    """

    def __init__(self, per_minute: float, burst: float = 1.0):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, burst)
        self.tokens = self.capacity
        self.updated: float | None = None

    def reserve(self, now: float) -> float:
        """Take one token; return how long to wait before using it (0 when available)."""
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def hold(self, now: float, seconds: float) -> None:
        """After a 429 someone else shares our quota: send nothing for ``seconds``."""
        self.reserve(now)
        self.tokens = min(self.tokens, -seconds * self.rate)


@dataclass
class Pacer:
    """Token buckets of one Google account; records every wait so runs can be measured.

    ``project`` is the buckets shared by every account of the same Cloud project: a Sheets
    request waits for a token of both, so five accounts never add up past the project's
    quota."""

    reads_per_minute: float = 60
    writes_per_minute: float = 60
    drive_per_minute: float = DRIVE_PER_MINUTE
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    slept: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {READ: 0, WRITE: 0, DRIVE: 0})
    project: Pacer | None = None

    def __post_init__(self) -> None:
        self.buckets = {READ: TokenBucket(self.reads_per_minute, self.burst),
                        WRITE: TokenBucket(self.writes_per_minute, self.burst),
                        DRIVE: TokenBucket(self.drive_per_minute, self.burst)}
        self._lock = threading.Lock()

    def acquire(self, kind: str) -> float:
        """Block until a ``kind`` request may be sent; returns the seconds waited."""
        with self._lock:
            self.counts[kind] += 1
        wait = self.reserve(kind)
        if wait > 0:
            self.pause(wait)
        if self.project is not None and kind != DRIVE:
            shared = self.project.reserve(kind)
            if shared > 0:
                self.pause(shared)
            wait += max(0.0, shared)
        return wait

    def reserve(self, kind: str) -> float:
        """Take a ``kind`` token; the seconds to wait before using it."""
        with self._lock:
            return self.buckets[kind].reserve(self.clock())

    def hold(self, kind: str, seconds: float) -> None:
        with self._lock:
            self.buckets[kind].hold(self.clock(), seconds)
        if self.project is not None and kind != DRIVE:
            self.project.hold(kind, seconds)

    def pause(self, seconds: float) -> None:
        """Every sleep of the client goes through here, so ``slept`` is the whole story."""
        self.slept += seconds
        self.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. A 429 without Retry-After (the minute's quota is
    spent) backs off from ``quota_base_delay`` and may use up to ``max_quota_attempts``, so the
    retries reach past the minute window Google refills instead of all landing in it."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 32.0
    max_total_sleep: float = 120.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    quota_base_delay: float = 10.0
    quota_max_delay: float = 60.0
    max_quota_attempts: int = 12

    def backoff(self, attempt: int, rng: random.Random, quota: bool = False) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^attempt)] (AWS architecture blog)."""
        base, cap = (self.quota_base_delay, self.quota_max_delay) if quota else (
            self.base_delay, self.max_delay)
        return rng.uniform(0, min(cap, base * 2 ** attempt))

    def attempts(self, quota: bool) -> int:
        return self.max_quota_attempts if quota else self.max_attempts


def request_kind(method: str, url: str) -> str:
    if "sheets.googleapis.com" in url:
        return READ if method.upper() == "GET" else WRITE
    return DRIVE


def resource_of(url: str) -> str:
    """'bảng tính 1AbC…' for messages, or the API when there is no file id."""
    match = _ID.search(url)
    if match:
        return f"bảng tính {match.group(1)}"
    return "Google Drive" if "/drive/" in url else "Google Sheets"


def http_date(text: str | None) -> datetime | None:
    """An HTTP date header as an aware time; None when absent, malformed or zone-less (a
    header must never stop a run)."""
    try:
        moment = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    moment, now = http_date(value), http_date(response.headers.get("Date"))
    if moment is None or now is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def error_reason(response: requests.Response) -> str:
    """Drive's ``errors[0].reason`` (or Sheets' ``status``), '' when the body says nothing."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return ""
    if not isinstance(error, dict):
        return ""
    errors = error.get("errors") or [{}]
    return str(errors[0].get("reason") or error.get("status") or "")


def is_transient(response: requests.Response) -> bool:
    if response.status_code in RETRY_STATUS:
        return True
    return response.status_code == 403 and error_reason(response) in RATE_LIMIT_REASONS


def _google_params(params: Any) -> Any:
    """Booleans as Google spells them: requests would send True as "True"."""
    if not isinstance(params, dict):
        return params
    return {k: ("true" if v else "false") if isinstance(v, bool) else v
            for k, v in params.items()}


def _never_sent(exc: Exception) -> bool:
    """The connection was refused or never opened, so the server cannot have acted on it."""
    from google.auth.exceptions import TransportError

    if isinstance(exc, requests.ConnectTimeout | TransportError):  # token refresh comes first
        return True
    return "NewConnectionError" in repr(exc)


class SignInError(ConfigError):
    """Google refused the credentials themselves: no commune can succeed, so the run stops."""


#: Where a person's sign-in keeps expiring: the consent screen's publishing status.
CONSENT_SCREEN_FIX = (
    "Nếu việc này lặp lại sau mỗi 7 ngày, màn hình xin quyền OAuth (OAuth consent screen) của "
    "dự án Google Cloud đang ở trạng thái \"Testing\": khi đó Google chỉ cho những người trong "
    "danh sách Test users đăng nhập và phiên đăng nhập hết hạn sau 7 ngày. Hãy xuất bản nó "
    "(Google Cloud console → APIs & Services → OAuth consent screen → Publish app), hoặc dùng "
    "tài khoản dịch vụ với một Shared Drive")


def refused(exc: Exception, credentials: Any) -> SignInError:
    """What to do when Google's token endpoint refuses the saved credentials.

    ``invalid_grant`` means different things by kind: for a person's saved sign-in, the refresh
    token expired (7 days while the consent screen is in Testing) or was revoked; for a
    service account, the key was deleted or this computer's clock is wrong.
    """
    reason = redact(exc.args[0] if exc.args else type(exc).__name__)[:200]
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    person = type(credentials).__module__ == "google.oauth2.credentials"
    if person and data.get("error") == "invalid_grant":
        return SignInError(f"Google không nhận phiên đăng nhập đã lưu ({reason}): hãy đăng nhập "
                           f"lại bằng `toolkit auth login`. {CONSENT_SCREEN_FIX}")
    if person:
        return SignInError(f"Google từ chối phiên đăng nhập đã lưu ({reason}): hãy đăng nhập "
                           "lại bằng `toolkit auth login`, rồi chạy `toolkit doctor`")
    return SignInError(f"Google từ chối khoá tài khoản dịch vụ ({reason}); có thể khoá đã bị "
                       "xoá hoặc đồng hồ máy tính này sai giờ: hãy chỉnh đồng hồ, hoặc tạo "
                       "khoá mới (Google Cloud console → IAM & Admin → Service accounts → Keys "
                       "→ Add key) rồi chạy `toolkit doctor`")


class AmbiguousWriteError(WorkbookError):
    """A write may or may not have been carried out (connection lost, 5xx); look before redoing."""


class PacedHTTPClient(HTTPClient):
    """gspread's HTTP client with pacing, timeouts and bounded, jittered retries.

    Use as ``gspread.Client(credentials, http_client=functools.partial(PacedHTTPClient,
    pacer=..., policy=...))``; every gspread helper then goes through :meth:`request`.
    """

    def __init__(self, auth: Any, session: requests.Session | None = None, *,
                 pacer: Pacer | None = None, policy: RetryPolicy | None = None,
                 rng: random.Random | None = None):
        super().__init__(auth, session)
        self.pacer = pacer or Pacer()
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.timeout = (self.policy.connect_timeout, self.policy.read_timeout)

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None,
                json: Any = None, files: Any = None, headers: Any = None, *,
                safe_to_repeat: bool = True) -> requests.Response:
        """Send one API call; ``safe_to_repeat=False`` for writes that must not happen twice.

        Such a write is resent only after answers proving it was not carried out (429, 503,
        a refused connection); otherwise :class:`AmbiguousWriteError` lets the caller look
        first (e.g. whether the spreadsheet it was creating now exists).
        """
        from google.auth.exceptions import RefreshError, TransportError

        kind = request_kind(method, endpoint)
        params = _google_params(params)
        slept, last, attempt = 0.0, "", 0
        while True:
            attempt += 1
            quota = False
            self.pacer.acquire(kind)
            try:
                response = self.session.request(
                    method=method, url=endpoint, json=json, params=params, data=data,
                    files=files, headers=headers, timeout=self.timeout)
            except RefreshError as exc:
                raise refused(exc, getattr(self.session, "credentials", None)) from None
            except (requests.ConnectionError, requests.Timeout, TransportError) as exc:
                if not (safe_to_repeat or _never_sent(exc)):
                    raise AmbiguousWriteError(f"{resource_of(endpoint)}: mất kết nối giữa lúc "
                                              f"đang ghi ({type(exc).__name__})") from exc
                last, wait = type(exc).__name__, None
            else:
                if response.ok:
                    return response
                if not is_transient(response):
                    raise APIError(response)
                last = f"HTTP {response.status_code} {error_reason(response)}".strip()
                if not safe_to_repeat and response.status_code not in NOT_APPLIED_STATUS:
                    raise AmbiguousWriteError(f"{resource_of(endpoint)}: Google trả lời {last} "
                                              "cho một lần ghi")
                wait = retry_after(response)
                if response.status_code == 429:
                    quota = wait is None
                    self.pacer.hold(kind, wait or self.policy.base_delay)
            if attempt >= self.policy.attempts(quota):
                break
            delay = max(wait or 0.0, self.policy.backoff(attempt - 1, self.rng, quota))
            if slept + delay > self.policy.max_total_sleep:
                break
            self.pacer.pause(delay)
            slept += delay
        raise WorkbookError(
            f"{resource_of(endpoint)}: Google vẫn lỗi ({last}) sau {attempt} lần thử và "
            f"{slept:.0f} giây chờ; lần chạy sau sẽ thử lại")


@dataclass(frozen=True)
class Account:
    """One Google identity with its own quota; ``email`` is None for OAuth users (unknown);
    ``project`` the Cloud project whose per-project quota it shares (None: unknown)."""

    http: PacedHTTPClient
    email: str | None
    project: str | None = None


def project_of(credentials: Any) -> str | None:
    """The Cloud project whose quota a credential's calls count against: a service-account
    key's ``project_id``, or the number an OAuth client id begins with ("123…-abc.apps…").
    One project known by id and by number would count as two; offices use one kind."""
    project = getattr(credentials, "project_id", None)
    if project:
        return str(project)
    client = getattr(credentials, "client_id", None) or ""
    number = client.split("-", 1)[0]
    return number if number.isdigit() else None


def load_credentials(path: Path, source: str = "[google] credentials"):
    """Credentials and the account's e-mail (None for OAuth users) from a JSON file."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} (từ {source}) không tồn tại; hãy chạy `toolkit doctor`"
                          ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} (từ {source}) không phải tệp khoá JSON đọc được "
                          f"({type(exc).__name__}); hãy tải lại") from None
    remember_file_secrets(info)
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            creds = _service_account(json.dumps(info, sort_keys=True)).with_scopes(SCOPES)
            return creds, info.get("client_email")
        if kind == "authorized_user":
            from google.oauth2.credentials import Credentials

            if not info.get("refresh_token"):
                raise ConfigError(
                    f"{path} (từ {source}) không có refresh token, nên toolkit không tự gia hạn "
                    "được phiên đăng nhập khi chạy theo lịch (Google chỉ cấp refresh token khi "
                    "người dùng đồng ý cấp quyền): hãy chạy lại `toolkit auth login`")

            creds = Credentials.from_authorized_user_info(info, list(SCOPES))
            return creds, info.get("account") or None
    except (ValueError, KeyError) as exc:     # the message names fields, never their values
        raise ConfigError(f"{path} (từ {source}) bị hỏng hoặc thiếu nội dung "
                          f"({type(exc).__name__}); hãy tải khoá mới") from None
    raise ConfigError(f"{path} (từ {source}) không phải khoá tài khoản dịch vụ, cũng không "
                      "phải authorized_user.json; xem `toolkit auth login`")


@functools.lru_cache(maxsize=8)
def _service_account(info: str):
    """A service account's credentials from its key (JSON text), made once per key a process.

    Reading the RSA private key checks it, 40-50 ms each time; every workspace opened on
    Google read it again. ``with_scopes`` gives each caller its own credentials (own token)
    around the one signer, which holds only the key."""
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_info(json.loads(info))


def connect(google, *, adapter: Any = None, pacer_factory: Callable[[], Pacer] | None = None,
            policy: RetryPolicy | None = None, rng: random.Random | None = None
            ) -> list[Account]:
    """One paced gspread HTTP client per credentials file of ``[google]``.

    ``adapter`` is mounted for every host, the token refresh included, so a fake Google can
    stand in for the real one.
    """
    import gspread
    from google.auth.transport.requests import AuthorizedSession, Request

    if google.credentials is None:
        raise ConfigError("chưa đặt [google] credentials: ghi đường dẫn tệp khoá ở đó, hoặc đặt "
                          "GOOGLE_APPLICATION_CREDENTIALS; `toolkit doctor` kiểm tra cài đặt")
    make_pacer = pacer_factory or (lambda: Pacer(google.reads_per_minute * HEADROOM,
                                                 google.writes_per_minute * HEADROOM))
    accounts = []
    sources = [google.credentials_source or "[google] credentials"]
    sources += ["[google] accounts"] * len(google.accounts)
    for path, source in zip((google.credentials, *google.accounts), sources, strict=True):
        creds, email = load_credentials(path, source)
        refresh = requests.Session()
        session = AuthorizedSession(creds, auth_request=Request(refresh))
        if adapter is not None:
            for s in (session, refresh):
                s.mount("https://", adapter)
                s.mount("http://", adapter)
        client = gspread.Client(None, session=session, http_client=functools.partial(
            PacedHTTPClient, pacer=make_pacer(), policy=policy, rng=rng))
        accounts.append(Account(client.http_client, email, project_of(creds)))
    share_project_quota(accounts)
    return accounts


def share_project_quota(accounts: list[Account]) -> None:
    """Accounts of one Cloud project also draw from one project bucket at HEADROOM × 300 a
    minute, on the clock of the first one's pacer: without it six keys of a project pace at
    6 × 60 and meet 429s for the rest of the run."""
    by_project: dict[str, list[Account]] = {}
    for account in accounts:
        if account.project is not None:
            by_project.setdefault(account.project, []).append(account)
    for members in by_project.values():
        pacers = list({id(a.http.pacer): a.http.pacer for a in members}.values())
        if len(pacers) < 2:
            continue
        rate = PROJECT_PER_MINUTE * HEADROOM
        shared = Pacer(rate, rate, clock=pacers[0].clock, sleep=pacers[0].sleep)
        for pacer in pacers:
            pacer.project = shared
