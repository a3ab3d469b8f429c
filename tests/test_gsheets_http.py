"""The paced, retrying HTTP client against a scripted server on 127.0.0.1, on a virtual clock.

Sleeps are recorded, not slept, so a run that would wait minutes for Google's quota takes
milliseconds here and the test can still say exactly how long it would have waited.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from gspread.exceptions import APIError

from toolkit.backends.google.http import (
    DRIVE,
    READ,
    WRITE,
    AmbiguousWriteError,
    PacedHTTPClient,
    Pacer,
    RetryPolicy,
    TokenBucket,
    request_kind,
    retry_after,
)
from toolkit.errors import WorkbookError


class VirtualClock:
    """time.monotonic and time.sleep for a test: sleeping moves time on, instantly."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script(BaseHTTPRequestHandler):
    """Answers each request with the next scripted step; records what arrived."""

    steps: list = []
    seen: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append((self.command, self.path, body))
        step = type(self).steps.pop(0) if type(self).steps else (200, {}, {"ok": True})
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if isinstance(step, tuple) and step[0] == "slow":
            time.sleep(step[1])
            step = (200, {}, {"ok": "late"})
        status, headers, payload = step
        data = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that timed out leaves a broken pipe behind: expected here."""


@pytest.fixture
def server():
    Script.steps, Script.seen = [], []
    httpd = QuietServer(("127.0.0.1", 0), Script)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def clock():
    return VirtualClock()


def client_for(clock, **policy) -> PacedHTTPClient:
    pacer = Pacer(60, 60, clock=clock, sleep=clock.sleep)
    policy = RetryPolicy(**{"read_timeout": 2.0, **policy})
    return PacedHTTPClient(None, requests.Session(), pacer=pacer, policy=policy,
                           rng=random.Random(7))


def error(code: int, reason: str = "", message: str = "boom") -> tuple:
    body = {"error": {"code": code, "message": message, "status": "X"}}
    if reason:
        body["error"]["errors"] = [{"domain": "usageLimits", "reason": reason}]
    return code, {}, body


def url(server: str) -> str:
    return f"{server}/v4/spreadsheets/1AbCdEfGhIjK/values:batchGet"


def test_429_then_success_honours_retry_after(server, clock):
    Script.steps = [(429, {"Retry-After": "7"}, {"error": {"code": 429, "message": "quota"}}),
                    (200, {}, {"valueRanges": []})]
    response = client_for(clock).request("get", url(server))
    assert response.json() == {"valueRanges": []}
    assert len(Script.seen) == 2
    assert max(clock.sleeps) >= 7


@pytest.mark.parametrize("first", [error(500), error(502), error(503), error(504), error(408),
                                   "reset", error(403, "userRateLimitExceeded"),
                                   error(403, "rateLimitExceeded")])
def test_transient_failures_are_retried(server, clock, first):
    Script.steps = [first, first, (200, {}, {"ok": 1})]
    assert client_for(clock).request("get", url(server)).json() == {"ok": 1}
    assert len(Script.seen) == 3


def test_a_read_timeout_is_retried(server, clock):
    Script.steps = [("slow", 0.3), (200, {}, {"ok": 2})]
    assert client_for(clock, read_timeout=0.1).request("get", url(server)).json() == {"ok": 2}
    assert len(Script.seen) == 2


@pytest.mark.parametrize("answer", [error(400, message="Unable to parse range: 'X'"),
                                    error(403, "insufficientFilePermissions"), error(404)])
def test_real_errors_are_not_retried(server, clock, answer):
    Script.steps = [answer]
    with pytest.raises(APIError) as caught:
        client_for(clock).request("get", url(server))
    assert caught.value.code == answer[0]
    assert len(Script.seen) == 1 and not clock.sleeps


def test_gives_up_after_the_attempt_cap_naming_the_spreadsheet(server, clock):
    Script.steps = [error(503)] * 10
    with pytest.raises(WorkbookError, match=r"bảng tính 1AbCdEfGhIjK: .*HTTP 503.* 6 lần thử"):
        client_for(clock).request("get", url(server))
    assert len(Script.seen) == 6
    backoffs = [s for s in clock.sleeps if s > 1.0001 or s < 0.9999]
    # full jitter: each wait is somewhere in [0, base·2^n], never the deterministic maximum
    for n, wait in enumerate(backoffs):
        assert 0 <= wait <= 2 ** n


def test_gives_up_when_retry_after_exceeds_the_sleep_budget(server, clock):
    Script.steps = [(429, {"Retry-After": "3600"}, {"error": {"code": 429, "message": "q"}})]
    with pytest.raises(WorkbookError, match="1 lần thử"):
        client_for(clock, max_total_sleep=60).request("get", url(server))
    assert sum(clock.sleeps) < 60


def test_total_sleep_stays_under_the_cap(server, clock):
    Script.steps = [error(500)] * 20
    with pytest.raises(WorkbookError):
        client_for(clock, max_attempts=20, max_total_sleep=10, base_delay=4).request(
            "get", url(server))
    retry_sleeps = sum(clock.sleeps) - (len(Script.seen) - 1) * 1.0  # minus pacing gaps
    assert retry_sleeps <= 10


def test_an_unrepeatable_write_is_not_resent_after_an_ambiguous_failure(server, clock):
    Script.steps = [error(500)]
    with pytest.raises(AmbiguousWriteError):
        client_for(clock).request("post", url(server), json={}, safe_to_repeat=False)
    assert len(Script.seen) == 1
    Script.steps, Script.seen[:] = ["reset"], []
    with pytest.raises(AmbiguousWriteError):
        client_for(clock).request("post", url(server), json={}, safe_to_repeat=False)
    Script.steps, Script.seen[:] = [error(429), (200, {}, {"id": "x"})], []
    reply = client_for(clock).request("post", url(server), json={}, safe_to_repeat=False)
    assert reply.json() == {"id": "x"} and len(Script.seen) == 2


def test_timeouts_are_always_set():
    client = PacedHTTPClient(None, requests.Session())
    assert client.timeout == (10.0, 60.0)


def test_retry_after_as_an_http_date():
    response = requests.Response()
    response.headers["Retry-After"] = "Wed, 21 Oct 2026 07:28:30 GMT"
    response.headers["Date"] = "Wed, 21 Oct 2026 07:28:00 GMT"
    assert retry_after(response) == 30


@pytest.mark.parametrize("date_header", ["not a date", "Wed, 21 Oct 2026 07:28:00 -0000", None])
def test_a_strange_date_header_never_stops_a_run(date_header):
    response = requests.Response()
    response.headers["Retry-After"] = "Wed, 21 Oct 2026 07:28:30 GMT"
    if date_header is not None:
        response.headers["Date"] = date_header
    assert retry_after(response) is None


# -- the pacer ------------------------------------------------------------------------------


def test_pacer_spaces_requests_at_the_quota_rate(clock):
    pacer = Pacer(60, 60, clock=clock, sleep=clock.sleep)
    for _ in range(120):
        pacer.acquire(READ)
    # 120 reads at 60 a minute: the quota floor is 120 s; the first goes at once.
    assert pacer.slept == pytest.approx(119.0)
    assert clock.now - 1000.0 == pytest.approx(119.0)


def test_reads_and_writes_have_separate_buckets(clock):
    pacer = Pacer(60, 30, clock=clock, sleep=clock.sleep)
    for _ in range(60):
        pacer.acquire(READ)
        pacer.acquire(WRITE)
    # writes are the binding quota: 60 writes at 30/min ≈ 118 s; the reads ride along
    assert pacer.slept == pytest.approx(118.0)
    assert pacer.counts == {READ: 60, WRITE: 60, DRIVE: 0}


def test_no_minute_window_exceeds_the_quota(clock):
    pacer = Pacer(60, 60, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(300):
        pacer.acquire(READ)
        sent.append(clock.now)
        clock.now += random.Random(len(sent)).random() * 0.3    # work between requests
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + 60) <= 60


def test_idle_time_refills_only_up_to_the_burst(clock):
    bucket = TokenBucket(60, burst=5)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0, 0, 0, 0, 0]
    assert bucket.reserve(0.0) == pytest.approx(1.0)
    assert bucket.reserve(3600.0) == 0        # an hour idle: full again, but only 5 deep
    waits = [bucket.reserve(3600.0) for _ in range(6)]
    assert waits[:4] == [0, 0, 0, 0] and waits[4] == pytest.approx(1.0)


def test_a_429_holds_the_bucket(clock):
    pacer = Pacer(60, 60, clock=clock, sleep=clock.sleep)
    pacer.acquire(READ)
    pacer.hold(READ, 10)
    assert pacer.acquire(READ) == pytest.approx(11.0)


def test_requests_are_classified_as_google_counts_them():
    assert request_kind("GET", "https://sheets.googleapis.com/v4/spreadsheets/x/values:batchGet") \
        == READ
    assert request_kind("POST", "https://sheets.googleapis.com/v4/spreadsheets/x:batchUpdate") \
        == WRITE
    assert request_kind("GET", "https://www.googleapis.com/drive/v3/files") == DRIVE
