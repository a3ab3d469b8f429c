"""The names the toolkit reads from files people write (toolkit.toml, report templates, the
registry's header row), and what to say about any other name.

A setting spelt ``grace_minuts`` used to be skipped without a word and the default used: the
run looked fine and was wrong. Every name a file holds is now either known or reported, with
the known name the person most likely meant and the line to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Where a table is in a parsed TOML file: (name, 1-based item of an array of tables or None).
Where = tuple[tuple[str, int | None], ...]

#: In a schema: a table whose keys are the person's own words (a choice field's aliases).
FREE = "free"


def close_names(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names a person probably meant by ``word``.

    The same name but for case, spaces or dashes first; then names one letter away (changed,
    added, dropped, or two letters swapped), which difflib's ratio misses on short names like
    ``op``; then difflib's close matches.
    """
    names = list(dict.fromkeys(known))
    typed = _plain(word)
    same = [k for k in names if _plain(k) == typed]
    if same:
        return same[:1]
    near = [k for k in names if _one_edit(typed, _plain(k))]
    if near:
        near.sort(key=lambda k: -difflib.SequenceMatcher(None, typed, _plain(k)).ratio())
        return near[:n]
    plain = {_plain(k): k for k in names}
    return [plain[m] for m in difflib.get_close_matches(typed, list(plain), n=n, cutoff=0.6)]


def _plain(name: str) -> str:
    return re.sub(r"[\s_-]+", "_", str(name).strip().lower())


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1:]


def or_list(names: Iterable[str], word: str = "hoặc") -> str:
    """``a``, ``a hoặc b``, ``a, b hoặc c`` (``word="và"`` for "a, b và c")."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def and_list(names: Iterable[str]) -> str:
    """``a``, ``a và b``, ``a, b và c``."""
    return or_list(names, "và")


#: How every "did you mean" of the toolkit reads.
DID_YOU_MEAN = "có phải ý bạn là"


def meant(value, allowed: Iterable[str]) -> str:
    """" — có phải ý bạn là 'daily'?" for a value close to an allowed one, else nothing."""
    close = close_names(value, allowed) if isinstance(value, str) and value.strip() else []
    return f" — {DID_YOU_MEAN} {or_list(repr(c) for c in close)}?" if close else ""


# Where each name is written -----------------------------------------------------------------

_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = re.compile(rf"{_PART}(?:\s*\.\s*{_PART})*")
_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED.pattern})\s*=")


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in re.findall(_PART, dotted)]


class Lines:
    """Line numbers of the names in a TOML text, which tomllib does not give.

    Good enough for the files people write by hand: headings, ``key = value`` lines, dotted
    keys; text inside multi-line strings is skipped.
    """

    def __init__(self, text: str):
        self._at: dict[Where, dict[str, int]] = {(): {}}
        self.moved: dict[Where, Where] = {}      # a table read under another name → as written
        self._headings: set[tuple[Where, str]] = set()
        self.first_heading: str | None = None
        arrays: dict[tuple[str, ...], int] = {}
        scope: Where = ()
        quote: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if quote:
                if line.count(quote) % 2:
                    quote = None
                continue
            header = _HEADER.match(line)
            if header and _DOTTED.fullmatch(header[2]):
                names = _parts(header[2])
                if header[1] == "[[":
                    arrays[tuple(names)] = arrays.get(tuple(names), 0) + 1
                scope = tuple((name, arrays.get(tuple(names[:i + 1])))
                              for i, name in enumerate(names))
                self._at.setdefault(scope[:-1], {}).setdefault(names[-1], number)
                self._at.setdefault(scope, {})
                self._headings.add((scope[:-1], names[-1]))
                self.first_heading = self.first_heading or line.strip()
                continue
            key = _KEY.match(line)
            if key is None:
                continue
            place = scope
            for part in _parts(key[1]):
                self._at.setdefault(place, {}).setdefault(part, number)
                place = (*place, (part, None))
            rest = line[key.end():]
            quote = next((q for q in ('"""', "'''") if rest.count(q) % 2), None)

    def headed(self, where: Where, key: str) -> bool | None:
        """Whether ``key`` is written as a [heading] (None: not found in the text)."""
        if self.line(where, key) is None:
            return None
        return any((w, key) in self._headings for w in _variants(self._written(where)))

    def _written(self, where: Where) -> Where:
        for new, old in self.moved.items():
            if where[:len(new)] == new:
                return old + where[len(new):]
        return where

    def line(self, where: Where, key: str) -> int | None:
        """The line of ``key`` in the table at ``where`` (or of its heading), if found."""
        for candidate in _variants(self._written(where)):
            found = self._at.get(candidate, {}).get(key)
            if found:
                return found
        return None


def _variants(where: Where) -> tuple[Where, Where]:
    """[fields] read as [[fields]] #1, or [[roster]] #1 read as [roster]: the same table."""
    return where, tuple((name, {None: 1, 1: None}.get(index, index)) for name, index in where)


# Names no schema knows -----------------------------------------------------------------------

@dataclass(frozen=True)
class Unknown:
    """A name found in a file that its schema does not know."""

    where: Where                            # the table it is in
    key: str
    brackets: int                           # 1: it heads a table ([smpt]), 2: [[tables]]
    line: int | None
    typos: tuple[str, ...]                  # close known names of the same table
    homes: tuple[Where, ...]                # other tables where this very name is known
    near: tuple[tuple[Where, str], ...]     # close known names of other tables
    meant: str | None = None                # the one typo it surely is, of the same kind

    @property
    def table(self) -> bool:
        return self.brackets > 0

    @property
    def general(self) -> Where:
        return tuple((name, None) for name, _ in self.where)


def unknown_names(data: dict, schema: dict, lines: Lines) -> list[Unknown]:
    """Every name in ``data`` its ``schema`` does not know, in file order per table.

    A schema is a dict: a name maps to None (a value its loader checks), a dict (a table), a
    one-item list holding a dict (an array of tables), or FREE (a table of any names).
    """
    tables = dict(_schema_tables(schema, ()))
    found: list[Unknown] = []

    def walk(table: dict, spec, where: Where) -> None:
        if not isinstance(spec, dict) or not isinstance(table, dict):
            return
        for key, value in table.items():
            if key not in spec:
                found.append(_unknown(key, value, where, tables, lines))
                continue
            sub = spec[key]
            if isinstance(sub, dict) and isinstance(value, dict):
                walk(value, sub, (*where, (key, None)))
            elif isinstance(sub, list) and isinstance(value, list):
                for index, item in enumerate(value, 1):
                    walk(item, sub[0], (*where, (key, index)))

    walk(data, schema, ())
    return found


def _schema_tables(spec: dict, where: Where):
    yield where, spec
    for name, sub in spec.items():
        if isinstance(sub, list):
            sub = sub[0]
        if isinstance(sub, dict):
            yield from _schema_tables(sub, (*where, (name, None)))


def _unknown(key: str, value, where: Where, tables: dict, lines: Lines) -> Unknown:
    general = tuple((name, None) for name, _ in where)
    typos = tuple(close_names(key, tables[general]))
    homes = tuple(path for path, spec in tables.items() if path != general and key in spec)
    near: tuple[tuple[Where, str], ...] = ()
    if not typos and not homes:
        close = [(path, name) for path, spec in tables.items() if path != general
                 for name in close_names(key, spec)]
        score = {c: difflib.SequenceMatcher(None, _plain(key), _plain(c[1])).ratio()
                 for c in close}
        same = [c for c in close if score[c] == 1]    # grace-minutes for grace_minutes
        near = tuple(same or sorted(close, key=lambda c: -score[c])[:3])
    tables_in = isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value))
    brackets = 0
    if tables_in and lines.headed(where, key) is not False:    # not `aliases = { … }`
        brackets = 1 if isinstance(value, dict) else 2
    spec = tables[general]
    meant = typos[0] if len(typos) == 1 and (
        spec[typos[0]] == FREE or isinstance(spec[typos[0]], dict | list)) == tables_in else None
    return Unknown(where, key, brackets, lines.line(where, key), typos, homes, near, meant)


def check_names(data: dict, schema: dict, lines: Lines) -> list[Unknown]:
    """Every unknown name of ``data``, including those inside a table read under the name it
    surely meant ([smpt] read as [smtp]); ``data`` is repaired (see ``repair``)."""
    found: list[Unknown] = []
    for _ in range(8):
        more = unknown_names(data, schema, lines)
        if not more:
            break
        found += more
        repair(data, more, lines)
    return found


def repair(data: dict, found: list[Unknown], lines: Lines | None = None) -> None:
    """Read each misspelt or misplaced name as the one it surely meant; drop the others.

    Every name is still reported; this only keeps one mistake from being reported twice (a
    misspelt ``header`` is not also a missing header, an unknown [roster] setting is not
    reported again by the roster checks) and lets its value be checked now rather than on the
    next run. Only a single candidate is used, never a guess between two.
    """
    for item in found:
        table = _resolve(data, item.where)
        if table is None or item.key not in table:
            continue
        value = table.pop(item.key)
        if item.meant:
            if table.setdefault(item.meant, value) is value and lines and item.table:
                lines.moved[(*item.general, (item.meant, None))] = (*item.where, (item.key, None))
            continue
        homes = [h for h in item.homes if h == ()] or list(item.homes)
        target = _resolve(data, homes[0]) if len(homes) == 1 else None
        if target is not None and all(index is None for _, index in homes[0]):
            if target.setdefault(item.key, value) is value and lines and item.table:
                lines.moved[(*homes[0], (item.key, None))] = (*item.where, (item.key, None))


def _resolve(data: dict, where: Where) -> dict | None:
    node = data
    for name, index in where:
        node = node.get(name) if isinstance(node, dict) else None
        if index is not None:
            node = node[index - 1] if isinstance(node, list) and len(node) >= index else None
    return node if isinstance(node, dict) else None


def heading(schema: dict, where: Where) -> str:
    """How the heading of the table at ``where`` is written: [smtp], [[fields]], [roster]."""
    spec, brackets = schema, 1
    for name, _ in where:
        sub = spec.get(name) if isinstance(spec, dict) else None
        brackets = 2 if isinstance(sub, list) else 1
        spec = sub[0] if isinstance(sub, list) else sub
    dotted = ".".join(name for name, _ in where)
    return "[" * brackets + dotted + "]" * brackets


def describe(unknown: Unknown, schema: dict, name: str, *, noun: str = "bảng",
             first_heading: str | None = None) -> str:
    """What to say about an unknown name, and how to put it right.

    ``name`` is how the caller shows it (``[timeliness] grace_minuts``, ``[[fields]] #2
    (note): colour``); ``noun`` what a heading makes (a "mục" of toolkit.toml, a "bảng" of a
    template).
    """
    at = f"dòng {unknown.line}: " if unknown.line else ""
    here = heading(schema, unknown.general) if unknown.where else ""
    tables = dict(_schema_tables(schema, ()))

    def shown(where: Where, key: str) -> str:
        sub = tables[where].get(key)
        return heading(schema, (*where, (key, None))) if isinstance(sub, dict | list) else key

    def under(where: Where) -> str:
        if not where:
            return f"chuyển dòng này lên trên tiêu đề đầu tiên ({first_heading})"
        if isinstance(tables[()].get(where[0][0]), list) and len(where) == 1:
            return f"có phải thiếu tiêu đề {heading(schema, where)} ở phía trên?"
        return f"chuyển dòng này xuống dưới tiêu đề {heading(schema, where)}"

    if () in unknown.homes and unknown.where:
        if unknown.table:
            return (f"{at}{name} phải là một {noun} riêng — viết tiêu đề của nó là "
                    f"{shown((), unknown.key)}, không đặt bên trong {here}")
        return (f"{at}{name} là thiết lập đầu tệp, nhưng TOML đọc mọi dòng dưới tiêu đề {here} "
                f"là thuộc {here} — {under(())}")
    if unknown.homes:
        homes = [heading(schema, h) for h in unknown.homes]
        owner = f"thiết lập của {or_list(homes)}" + (f", không phải của {here}" if here else "")
        return f"{at}{name} là {owner} — {under(unknown.homes[0])}"
    kind = noun if unknown.table else "thiết lập"
    fix = f"Sửa lại tiêu đề, hoặc xoá {noun} này" if unknown.table \
        else "Sửa lại tên, hoặc xoá dòng này"
    if unknown.typos:
        meant = or_list(shown(unknown.general, t) for t in unknown.typos)
        return f"{at}{name} không phải một {kind} đã biết — {DID_YOU_MEAN} {meant}? {fix}"
    if unknown.near:
        meant = or_list(f"{shown(w, k)} trong {heading(schema, w)}" if w else shown(w, k)
                        for w, k in unknown.near)
        return f"{at}{name} không phải một {kind} đã biết — {DID_YOU_MEAN} {meant}? {fix}"
    known = [shown(unknown.general, k) for k in tables[unknown.general]]
    owner = here or "tệp này"
    same = [k for k in known if unknown.table == k.startswith("[")]
    if not same:
        return (f"{at}{name} không phải một {kind} đã biết; {owner} không có {kind} nào, chỉ "
                f"có {', '.join(known)}. {fix}")
    return f"{at}{name} không phải một {kind} đã biết; {owner} có {', '.join(same)}. {fix}"
