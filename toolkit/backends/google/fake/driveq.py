"""Drive's search language (the ``q`` of files.list), parsed into a predicate.

Supports what provisioning and collecting need: ``'FOLDER' in parents``, ``mimeType = '…'``,
``name = '…'``, ``name contains '…'``, ``trashed = false``, ``modifiedTime > '…'``,
``'me' in owners``, ``'x@y' in writers``, ``visibility = 'anyoneWithLink'``, and/or/not and
parentheses. Anything else is Drive's
400 "Invalid Value" on ``q``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import drive_error

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
                    r"|(?P<op>!=|<=|>=|=|<|>|\(|\))|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<num>-?\d+(?:\.\d+)?))")
STRING_FIELDS = ("name", "mimeType", "fullText", "description")
TIME_FIELDS = ("modifiedTime", "createdTime", "viewedByMeTime", "sharedWithMeTime")
BOOL_FIELDS = ("trashed", "starred", "sharedWithMe")
LIST_FIELDS = ("parents", "owners", "writers", "readers")
#: ``visibility = '…'``: a file's widest link sharing (Drive's search terms reference).
VISIBILITY = ("anyoneCanFind", "anyoneWithLink", "domainCanFind", "domainWithLink", "limited")


def invalid(detail: str = "") -> Exception:
    message = "Invalid Value"
    return drive_error(400, message, "invalid", location="q")


def rfc3339(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid() from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse(q: str) -> Callable[[object], bool]:
    """``q`` → ``predicate(view)``; ``view`` answers ``field(name)`` for one file."""
    tokens = _lex(q)
    parser = _Parser(tokens)
    predicate = parser.expr()
    if parser.pos != len(tokens):
        raise invalid()
    return predicate


def _lex(q: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(q):
        if q[i:].strip() == "":
            break
        m = _TOKEN.match(q, i)
        if not m or m.end() == i:
            raise invalid()
        i = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0):
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def expr(self):
        left = self.term()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.term()
            left = (lambda a, b: lambda f: a(f) or b(f))(left, right)
        return left

    def term(self):
        left = self.factor()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.factor()
            left = (lambda a, b: lambda f: a(f) and b(f))(left, right)
        return left

    def factor(self):
        if self.peek() == ("word", "not"):
            self.take()
            inner = self.factor()
            return lambda f: not inner(f)
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise invalid()
            return inner
        return self.comparison()

    def comparison(self):
        kind, value = self.take()
        if kind == "str" and self.peek() == ("word", "in"):
            self.take()
            field = self.take()
            if field[0] != "word" or field[1] not in LIST_FIELDS:
                raise invalid()
            item = _unquote(value)
            return lambda f: f.has(field[1], item)
        if kind != "word":
            raise invalid()
        field = value
        op_kind, op = self.take()
        if op_kind == "word" and op == "contains":
            op = "contains"
        elif op_kind != "op" or op in ("(", ")"):
            raise invalid()
        vkind, raw = self.take()
        if field in BOOL_FIELDS:
            if vkind != "word" or raw not in ("true", "false") or op not in ("=", "!="):
                raise invalid()
            want = raw == "true"
            return lambda f: (bool(f.field(field)) == want) == (op == "=")
        if vkind != "str":
            raise invalid()
        text = _unquote(raw)
        if field in TIME_FIELDS:
            moment = rfc3339(text)
            compare = {"=": lambda a: a == moment, "!=": lambda a: a != moment,
                       "<": lambda a: a < moment, "<=": lambda a: a <= moment,
                       ">": lambda a: a > moment, ">=": lambda a: a >= moment}.get(op)
            if compare is None:
                raise invalid()
            return lambda f: f.field(field) is not None and compare(f.field(field))
        if field == "visibility":
            if text not in VISIBILITY or op not in ("=", "!="):
                raise invalid()
            return lambda f: (f.field("visibility") == text) == (op == "=")
        if field not in STRING_FIELDS:
            raise invalid()
        if op == "contains":
            if field == "name":         # Drive matches name prefixes of words, case-blind
                return lambda f: text.lower() in (f.field("name") or "").lower()
            return lambda f: text.lower() in (f.field(field) or "").lower()
        if op not in ("=", "!="):
            raise invalid()
        return lambda f: (f.field(field) == text) == (op == "=")
