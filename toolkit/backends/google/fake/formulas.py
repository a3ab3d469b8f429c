"""A tiny formula evaluator: enough for the sums, IFs and references a report sheet holds.

Unknown functions give ``#NAME?`` and a bad expression ``#ERROR!``, as Sheets shows them; the
formula text itself is always kept, so FORMULA rendering is exact whatever happens here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

ERROR_TYPES = {"#DIV/0!": "DIVIDE_BY_ZERO", "#VALUE!": "VALUE", "#REF!": "REF", "#NAME?": "NAME",
               "#N/A": "N_A", "#NUM!": "NUM", "#ERROR!": "ERROR", "#NULL!": "NULL_VALUE"}


class FormulaError(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(code)
        self.code = code
        self.message = message or code


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?\$?[A-Za-z]{1,3}\$?\d+
            (?::\$?[A-Za-z]{1,3}\$?\d+)?)(?![A-Za-z0-9_(])
  | (?P<func>[A-Za-z_][A-Za-z0-9_.]*)\s*\(
  | (?P<bool>TRUE|FALSE)\b
  | (?P<num>\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?)
  | (?P<op><>|<=|>=|[-+*/^&=<>%();,])
""", re.VERBOSE | re.IGNORECASE)


class Evaluator:
    """``resolve(ref_text)`` returns a scalar for a cell, a list of rows for a range."""

    def __init__(self, resolve: Callable[[str], object], decimal: str = ".",
                 today: float = 0.0):
        self.resolve = resolve
        self.decimal = decimal
        self.today = today

    def run(self, formula: str):
        text = formula[1:] if formula.startswith("=") else formula
        try:
            self.tokens = self._lex(text)
            self.pos = 0
            value = self._compare()
            if self.pos != len(self.tokens):
                raise FormulaError("#ERROR!", "Formula parse error.")
            if isinstance(value, list):
                value = _first(value)
            return value
        except RecursionError:
            raise FormulaError("#REF!", "Circular dependency detected.") from None

    def _lex(self, text: str) -> list[tuple[str, str]]:
        out, i = [], 0
        while i < len(text):
            m = _TOKEN.match(text, i)
            if not m:
                raise FormulaError("#ERROR!", "Formula parse error.")
            i = m.end()
            kind = m.lastgroup
            if kind == "ws":
                continue
            value = m.group(kind)
            if kind == "num" and "," in value and self.decimal != ",":
                first, _, rest = value.partition(",")     # 1,2 in en_US is two arguments
                out.append(("num", first))
                out.append(("op", ","))
                out.append(("num", rest))
                continue
            out.append((kind, value))
        return out

    def _peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def _take(self):
        tok = self._peek()
        self.pos += 1
        return tok

    def _compare(self):
        left = self._concat()
        while self._peek()[1] in ("=", "<>", "<", ">", "<=", ">="):
            op = self._take()[1]
            right = self._concat()
            a, b = _scalar(left), _scalar(right)
            if isinstance(a, str) != isinstance(b, str):
                result = {"=": False, "<>": True}.get(op, isinstance(a, str) and op in (">", ">="))
            else:
                a, b = (a or 0, b or 0) if not isinstance(a, str) else (a.lower(), b.lower())
                result = {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
                          ">=": a >= b}[op]
            left = result
        return left

    def _concat(self):
        left = self._add()
        while self._peek()[1] == "&":
            self._take()
            left = _text(left) + _text(self._add())
        return left

    def _add(self):
        left = self._mul()
        while self._peek()[1] in ("+", "-"):
            op = self._take()[1]
            a, b = _num(left), _num(self._mul())
            left = a + b if op == "+" else a - b
        return left

    def _mul(self):
        left = self._pow()
        while self._peek()[1] in ("*", "/"):
            op = self._take()[1]
            a, b = _num(left), _num(self._pow())
            if op == "/" and b == 0:
                raise FormulaError("#DIV/0!", "Function DIVIDE parameter 2 cannot be zero.")
            left = a * b if op == "*" else a / b
        return left

    def _pow(self):
        left = self._unary()
        while self._peek()[1] == "^":
            self._take()
            left = _num(left) ** _num(self._unary())
        return left

    def _unary(self):
        if self._peek()[1] in ("-", "+"):
            op = self._take()[1]
            value = _num(self._unary())
            return -value if op == "-" else value
        value = self._primary()
        while self._peek()[1] == "%":
            self._take()
            value = _num(value) / 100
        return value

    def _primary(self):
        kind, value = self._take()
        if kind == "num":
            return float(value.replace(",", "."))
        if kind == "str":
            return value[1:-1].replace('""', '"')
        if kind == "bool":
            return value.upper() == "TRUE"
        if kind == "ref":
            return self.resolve(value)
        if kind == "func":
            return self._call(value.upper())
        if value == "(":
            inner = self._compare()
            if self._take()[1] != ")":
                raise FormulaError("#ERROR!", "Formula parse error.")
            return inner
        raise FormulaError("#ERROR!", "Formula parse error.")

    def _call(self, name: str):
        args = []
        if self._peek()[1] != ")":
            while True:
                args.append(self._compare())
                sep = self._take()[1]
                if sep == ")":
                    break
                if sep not in (",", ";"):
                    raise FormulaError("#ERROR!", "Formula parse error.")
        else:
            self._take()
        if name in ("TODAY", "NOW"):
            return float(math.floor(self.today)) if name == "TODAY" else self.today
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise FormulaError("#NAME?", f"Unknown function: '{name}'.")
        return fn(*args)


def _first(value):
    while isinstance(value, list):
        value = value[0][0] if value and value[0] else None
    return value


def _scalar(value):
    return _first(value) if isinstance(value, list) else value


def _num(value) -> float:
    value = _scalar(value)
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        raise FormulaError("#VALUE!", f"Function expects number values. But '{value}' is a "
                                      "text and cannot be coerced to a number.") from None


def _text(value) -> str:
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _flat(args):
    for arg in args:
        if isinstance(arg, list):
            for row in arg:
                yield from row
        else:
            yield arg


def _numbers(args):
    return [float(v) for v in _flat(args) if isinstance(v, int | float) and not isinstance(v, bool)]


def _average(*args):
    nums = _numbers(args)
    if not nums:
        raise FormulaError("#DIV/0!", "Evaluation of function AVERAGE caused a divide by zero "
                                      "error.")
    return sum(nums) / len(nums)


def _if(cond, yes=True, no=False):
    return yes if _truthy(cond) else no


def _truthy(value) -> bool:
    value = _scalar(value)
    if isinstance(value, str):
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        raise FormulaError("#VALUE!", f"'{value}' is not a boolean.")
    return bool(value)


FUNCTIONS: dict[str, Callable] = {
    "SUM": lambda *a: sum(_numbers(a)),
    "AVERAGE": _average,
    "MIN": lambda *a: min(_numbers(a), default=0.0),
    "MAX": lambda *a: max(_numbers(a), default=0.0),
    "COUNT": lambda *a: float(len(_numbers(a))),
    "COUNTA": lambda *a: float(sum(1 for v in _flat(a) if v not in (None, ""))),
    "IF": _if,
    "AND": lambda *a: all(_truthy(v) for v in _flat(a) if v is not None),
    "OR": lambda *a: any(_truthy(v) for v in _flat(a) if v is not None),
    "NOT": lambda a: not _truthy(a),
    "INT": lambda a: float(math.floor(_num(a))),
    "ABS": lambda a: abs(_num(a)),
    "ROUND": lambda a, d=0: float(round(_num(a), int(_num(d)))),
    "LEN": lambda a: float(len(_text(a))),
    "TRIM": lambda a: " ".join(_text(a).split()),
    "UPPER": lambda a: _text(a).upper(),
    "LOWER": lambda a: _text(a).lower(),
    "CONCATENATE": lambda *a: "".join(_text(v) for v in _flat(a)),
    "ISBLANK": lambda a: _scalar(a) in (None, ""),
    "ISNUMBER": lambda a: isinstance(_scalar(a), int | float) and not isinstance(_scalar(a), bool),
}
