"""The HTTP side: a threaded server on 127.0.0.1 and a requests transport that sends Google's
hosts to it, so the real gspread and google-auth code paths run unchanged."""

from __future__ import annotations

import json
import selectors
import socket
import struct
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

GOOGLE_HOSTS = frozenset({"sheets.googleapis.com", "www.googleapis.com", "oauth2.googleapis.com",
                          "accounts.google.com", "docs.google.com"})
MAX_DELAY = 30.0


#: The header by which the server tells the adapter that the client's read timeout fires.
READ_TIMEOUT = "X-Fake-Google-Read-Timeout"


class Outcome:
    """What the fake decided to answer: JSON, nothing (reset), possibly after a delay, or
    nothing in time (``read_timeout``)."""

    __slots__ = ("status", "body", "headers", "reset", "delay", "read_timeout")

    def __init__(self, status: int, body=None, headers: dict | None = None, reset: bool = False,
                 delay: float = 0.0):
        self.status, self.body, self.headers = status, body, headers or {}
        self.reset, self.delay = reset, delay
        self.read_timeout = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()      # headers and body go out in two writes: no Nagle delay between
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def date_time_string(self, timestamp=None):
        return formatdate(self.server.fake.clock.seconds(), usegmt=True)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        outcome = self.server.fake.handle(self.command, self.path, self.headers, body)
        if outcome.delay:
            self.server.stopping.wait(min(outcome.delay, MAX_DELAY))
        if outcome.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        data = b"" if outcome.body is None else (json.dumps(outcome.body, ensure_ascii=False,
                                                            indent=2) + "\n").encode("utf-8")
        try:
            self.send_response(outcome.status)
            if data:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            for key, value in outcome.headers.items():
                self.send_header(key, value)
            if outcome.read_timeout:
                self.send_header(READ_TIMEOUT, "1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.stopping = threading.Event()
        # ``stop`` writes a byte here to end the wait at once; serve_forever only looks at its
        # shutdown flag between polls, so each stop waited up to a poll (40 ms measured, on
        # every Google test's teardown).
        self._wake, self._waker = socket.socketpair()
        self.thread = threading.Thread(target=self._serve, name="fake-google", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while not self.stopping.is_set():
                ready = {key.fileobj for key, _ in selector.select()}
                if self in ready and not self.stopping.is_set():
                    self._handle_request_noblock()

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self._waker.send(b"x")
        if self.thread.ident is not None:       # started
            self.thread.join(timeout=5)
        self.server_close()
        self._wake.close()
        self._waker.close()


class FakeGoogleAdapter(HTTPAdapter):
    """Mount on any requests session: Google's hosts go to the fake, nothing leaves the machine.

    Responses keep Google's URL, so code that logs or parses ``response.url`` sees what it would
    see in production.
    """

    def __init__(self, port: int):
        super().__init__(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.port = port

    def send(self, request, **kwargs):
        original = request.url
        parts = urlsplit(original)
        host = (parts.hostname or "").lower()
        if host in GOOGLE_HOSTS:
            request.url = urlunsplit(("http", f"127.0.0.1:{self.port}", parts.path, parts.query,
                                      ""))
            request.headers["X-Fake-Google-Host"] = host
        elif host not in ("127.0.0.1", "localhost"):
            raise requests.ConnectionError(f"fake Google: refusing to reach {host}; only "
                                           "Google API hosts are served (tests stay offline)")
        response = super().send(request, **kwargs)
        response.url = original
        request.url = original
        if response.headers.get(READ_TIMEOUT):
            response.close()
            raise read_timeout(host, kwargs.get("timeout"), request)
        return response


def read_timeout(host: str, timeout, request) -> requests.ReadTimeout:
    """What requests raises when the answer does not come within the read timeout:
    "HTTPSConnectionPool(host='sheets.googleapis.com', port=443): Read timed out. (read
    timeout=60)" (burnash/gspread#940), wrapping urllib3's ReadTimeoutError."""
    from urllib3 import HTTPSConnectionPool
    from urllib3.exceptions import ReadTimeoutError

    read = timeout[1] if isinstance(timeout, tuple) else getattr(timeout, "read_timeout",
                                                                 timeout)
    pool = HTTPSConnectionPool(host, 443)
    error = ReadTimeoutError(pool, request.url, f"Read timed out. (read timeout={read})")
    return requests.ReadTimeout(error, request=request)
