"""Keep key material and tokens out of everything the toolkit prints or logs.

A province's log file and terminal output get pasted into chats and e-mails when something goes
wrong, so nothing that reaches them may carry a secret — not even by accident: an exception
from a library that echoes a request (an ``Authorization`` header, a token URL with its
``code``), a traceback under ``--verbose``, a message quoting a damaged key file. Every line
the CLI prints and every log record therefore passes through :func:`redact`, which replaces
private-key blocks, bearer and Google tokens, secret JSON fields and URL parameters, and the
exact secrets this process has loaded (:func:`remember`), by ``[đã ẩn]``.
"""

from __future__ import annotations

import json
import logging
import re
import threading

HIDDEN = "[đã ẩn]"
_SECRET_KEYS = ("private_key_id", "private_key", "refresh_token", "access_token", "id_token",
                "client_secret", "assertion", "token", "code_verifier")
_KEYS = "|".join(_SECRET_KEYS)
_PATTERNS = (
    # a PEM private key, whole or cut short, with real or JSON-escaped line breaks
    re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.*?-----END[A-Z ]*PRIVATE KEY-----"
               r"|[^\"']*)", re.DOTALL),
    # "refresh_token": "…" (JSON) or 'refresh_token': '…' (a Python repr)
    re.compile(rf"(?P<keep>(?P<q>[\"'])(?:{_KEYS})(?P=q)\s*:\s*)"
               r"(?P<v>(?P<q2>[\"'])(?:\\.|(?!(?P=q2)).)*(?P=q2))", re.DOTALL),
    # token=…, code=… in a URL or a form body
    re.compile(rf"(?P<keep>(?:[?&;\s]|^)(?:{_KEYS}|code|key)=)(?P<v>(?!\[đã ẩn\])[^&\s\"'<>]+)"),
    # Authorization: Bearer …, Basic …
    re.compile(r"(?P<keep>\b(?:Bearer|Basic)\s+)(?P<v>[A-Za-z0-9._~+/=-]{8,})"),
    # Google's own token shapes: access tokens, refresh tokens, OAuth client secrets
    re.compile(r"\bya29\.[A-Za-z0-9._-]+"),
    re.compile(r"(?<![A-Za-z0-9])1//0[A-Za-z0-9._-]{20,}"),
    re.compile(r"\bGOCSPX-[A-Za-z0-9_-]{10,}"),
    # a signed JWT (the assertion a service account sends, an id_token), and a Google API key
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
)
_known: set[str] = set()
_lock = threading.Lock()


def remember(*values: object) -> None:
    """Secrets this process holds (a key, a refresh token): hidden wherever they show up, as
    they are, JSON-escaped, and line by line (a key quoted in part is hidden too)."""
    found: set[str] = set()
    for value in values:
        if not isinstance(value, str) or len(value.strip()) < 8:
            continue
        found |= {value, json.dumps(value)[1:-1]}
        found |= {line.strip() for line in value.splitlines() if len(line.strip()) >= 16
                  and "-----" not in line}
    with _lock:
        _known.update(found)


def remember_file_secrets(info: object) -> None:
    """The secret fields of a service-account key or an authorized_user.json."""
    if isinstance(info, dict):
        remember(*(info.get(k) for k in _SECRET_KEYS))


def redact(text: object) -> str:
    """``text`` with every secret replaced by ``[đã ẩn]``."""
    out = str(text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, HIDDEN)
    for pattern in _PATTERNS:
        out = pattern.sub(_replacement, out)
    return out


def _replacement(match: re.Match) -> str:
    groups = match.groupdict()
    if "keep" not in groups:
        return HIDDEN
    value = groups["v"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{groups['keep']}{quote}{HIDDEN}{quote}"


class RedactingFormatter(logging.Formatter):
    """A log formatter whose output — message, arguments and traceback — is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def format_exception(exc: BaseException) -> str:
    """A traceback as text, redacted: file, line and message, never local variables."""
    import traceback

    return redact("".join(traceback.format_exception(exc)))
