"""What a formula may cost, bounded before formulaic does the work: the ``MAX_*`` limits and their checks.

A formula is user input from the formula box, a share link, a model file or the command line, evaluated in the
server's interpreter; what it may cost is bounded here, for all of them. Before formulaic parses it: its length, how
much formulaic's expansion of ``*``, ``:`` and ``**`` would multiply out, and each term's Python code (whitelisted
functions, constants folded with a size limit, no text built, arguments such as ``poly``'s degree bounded). Before
anything is evaluated on rows: the model matrix's columns, counted from the terms and the category levels, and its
bytes. While formulaic builds it: the same column and byte limits, per factor and term, before each is allocated.
A model file's saved levels and transform state are bounded too. ``_formula`` parses, prepares the data and builds the
design, calling these checks; this module never imports it.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from . import _csv
from ._design import MAX_DEGREE
from ._text import _mb, _shown
from .errors import FormulaError, InsufficientDataError

# What a formula may cost. Each limit is checked before formulaic does the work it bounds; a formula over one is
# refused in one sentence that names the limit.
MAX_FORMULA_CHARS = 5_000
"""Characters in a formula. formulaic's parse time grows with the square of the number of terms (0.15 s for 1,000
terms, 5,000 characters); the Studio's share links allow 500."""

MAX_MODEL_COLUMNS = 1_000
"""Columns of the model matrix, the intercept included: counted from the terms, ``poly``/``bs`` sizes and the category
levels in the rows before any term is computed, and again while formulaic builds the matrix."""

MAX_DESIGN_BYTES = 2 * 2**30
"""Bytes of the model matrix as float64, rows × columns × 8, whatever memory is free (a matrix that needs more than is
free is refused too, as ``read_csv`` refuses a file). Building one peaks at about four times its size (_BUILD_FACTOR),
so this caps a formula near 8 GB; the 20-million-row, 11-column designs of docs/scaling.md (1.8 GB) fit."""

MAX_EXPANSION = 20_000
"""Products of terms formulaic may form while it multiplies out ``*``, ``:``, ``/`` and ``**``, ~2 µs each: 20,000 is
about 40 ms. It forms them all before it removes repeats: ``(a+…+g)**7`` is 7**7 = 823,543 tuples of 7 terms, 5.8
million products, for 127 distinct terms."""

MAX_INTERACTION = 6
"""Factors in one term (``a:b:c``). formulaic's full-rank coding enumerates and simplifies the 2**k subsets of a term
of k categories: one term of 6 takes 0.07 s, of 8 1.2 s, of 10 55 s."""

MAX_CONSTANT_BITS = 1_000
"""Bits of a whole number computed from constants in a term, such as ``I(2**10)``: larger ones do not fit a float
anyway, and Python computes ``9**9**9`` (1.2 billion bits) for minutes while holding the interpreter's lock."""

MAX_SPLINE_DF = 100
"""Degrees of freedom (basis columns) of ``bs()``, and knots given to it; its degree and ``poly()``'s are at most
``MAX_DEGREE`` (20)."""

_BUILD_FACTOR = 4  # peak memory of building a model matrix over its size (measured 4.1× for a 362 MB one)
_MAX_NESTING = 100  # depth of a term's Python syntax tree; CPython's own parser fails near 200 nested brackets
_MAX_LIST_ITEMS = MAX_MODEL_COLUMNS + 1  # a list of levels, knots or contrasts: one per level at most
_MAX_STATE_ITEMS = MAX_SPLINE_DF + 2 * (MAX_DEGREE + 1)  # values in one list of a saved transform state (bs knots)


def _several_parts(formula: str) -> FormulaError:
    return FormulaError(f"The formula {_shown(formula)} has several parts separated by '|', which this app cannot "
                        f"fit; write one right-hand side, such as {_shown(formula.replace('|', '+'))}.")


def _too_many_columns(formula: str, columns: int, biggest: str = "", terms: bool = False) -> FormulaError:
    makes = f"has {columns:,} terms" if terms else f"makes at least {columns:,} model columns{biggest}"
    return FormulaError(f"The formula {_shown(formula)} {makes}, over the limit of {MAX_MODEL_COLUMNS:,} columns in a "
                        "model; use fewer terms, interactions or category levels.")


def _check_structure(formula: str) -> None:
    """Refuse, before formulaic parses it, a formula in several parts ('|'), one whose terms' Python code is not
    allowed (see :class:`_TermCheck`), or one whose ``*``, ``:``, ``/`` and ``**`` formulaic would multiply out into
    more than MAX_EXPANSION products of terms: it forms every product of ``(a+…+g)**7`` before removing repeats."""
    from formulaic.parser import DefaultFormulaParser
    from formulaic.parser.types import ASTNode, Token

    parser = DefaultFormulaParser()
    try:
        tokens = list(parser.get_tokens(formula))
        tree = parser.parse(formula, target="ast")
    except (RecursionError, MemoryError):  # its tokenizer rewrites each term's code recursively
        raise FormulaError(f"The formula {_shown(formula)} nests its terms too deeply to be read, over the limit of "
                           f"{_MAX_NESTING} levels for a term; write the terms more simply.") from None
    except Exception:  # formulaic's own parse below says what is wrong, in the usual words
        return
    for token in tokens:
        if token.kind is Token.Kind.PYTHON:
            _check_safe(token.token, formula)
    # Post-order walk without recursion (a formula may nest thousands of brackets). Per node: an upper bound on its
    # terms (at most 2**k for k distinct names), the names, and the span of the formula it covers.
    done: dict[int, tuple[int, frozenset[str] | None, int, int]] = {}
    work = 0
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if not isinstance(node, ASTNode):
            start = node.source_start if node.source_start is not None else len(formula)
            done[id(node)] = (1, frozenset([node.token]), start, node.source_end if node.source_end is not None else -1)
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((arg, False) for arg in node.args)
            continue
        args = [done[id(arg)] for arg in node.args]
        sizes = [a[0] for a in args]
        # None: 64 names or more, where 2**k bounds nothing (and copying long sets would cost O(terms²))
        names = None if any(a[1] is None for a in args) else frozenset().union(*(a[1] for a in args))
        if names is not None and len(names) >= 64:
            names = None
        start, end = min((a[2] for a in args), default=len(formula)), max((a[3] for a in args), default=-1)
        symbol, products, shown = node.operator.symbol, 0, ""
        if symbol == "|":
            raise _several_parts(formula)
        if len(sizes) == 2 and symbol in ("*", ":"):
            products = sizes[0] * sizes[1]
            size = products + (sizes[0] + sizes[1] if symbol == "*" else 0)
        elif len(sizes) == 2 and symbol in ("/", "in"):
            products = size = sizes[0] + sizes[1]
        elif len(sizes) == 2 and symbol in ("**", "^"):
            power = node.args[1]
            text = power.token if isinstance(power, Token) else ""
            if text.isascii() and text.isdigit():  # formulaic refuses any other exponent itself ('²' is no digit)
                digits = text.lstrip("0") or "0"
                n = int(digits) if len(digits) <= 18 else 10**18  # formulaic would first build a list of n copies
                size = 1
                for _ in range(min(n, 64)):  # terms**n tuples of n terms each; stop once over the limit
                    size *= sizes[0]
                    if size * n > MAX_EXPANSION:
                        break
                products = max(size, 1) * n
                if products > MAX_EXPANSION:
                    shown = (f"{sizes[0] ** n * n:,}" if sizes[0] <= 1 or n * math.log10(sizes[0]) < 15
                             else f"about 10^{int(n * math.log10(sizes[0]) + math.log10(n))}")
            else:
                size = sizes[0]
        elif len(sizes) == 2 and symbol == "-":
            size = sizes[0]
        elif len(sizes) == 1 and symbol == "-":
            size = 0
        else:
            size = sum(sizes)
        if names is not None:
            size = min(size, 2 ** len(names))
        work += products
        if work > MAX_EXPANSION:
            piece = _enclosed(formula, start, end)
            if symbol not in ("**", "^") or products <= MAX_EXPANSION:
                shown = f"{max(products, work):,}"
            raise FormulaError(
                f"The formula {_shown(formula)} multiplies out {_shown(piece)} into {shown} products of "
                f"terms, over the limit of {MAX_EXPANSION:,} products (formulaic forms them all before it drops repeats); "
                "write only the interactions you need, such as (a + b + c)**2 or a:b + a:c.")
        done[id(node)] = (size, names, start, end)


def _enclosed(formula: str, start: int, end: int) -> str:
    """The formula's text from ``start`` to ``end`` with the brackets it closes: '(a + b)**2', not 'a + b)**2'."""
    while start > 0 and formula.count("(", start, end + 1) < formula.count(")", start, end + 1):
        found = formula.rfind("(", 0, start)
        if found < 0:
            break
        start = found
    return formula[start:end + 1].strip()


# formulaic evaluates factors as Python. A formula typed in a shared app, or in a link, must not run code on the
# server: factors may only call these functions, on columns, numbers and strings (levels, column names).
SAFE_FUNCTIONS = frozenset({"C", "I", "Q", "center", "scale", "standardize", "poly", "bs", "lag"})
SAFE_NUMPY = frozenset({"log", "log10", "log2", "log1p", "exp", "expm1", "sqrt", "square", "abs", "sin", "cos",
                        "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "power", "minimum", "maximum",
                        "clip", "sign", "floor", "ceil", "round", "cbrt", "reciprocal"})
SAFE_CONTRASTS = frozenset({"treatment", "sum", "helmert", "diff", "poly", "custom"})
# Each function's parameters in order; those in _LISTS may hold lists and text (levels, knots, contrasts), those in
# _TEXTS text. Every other argument is a column, a number or an expression of them.
_PARAMETERS = {
    "C": ("data", "contrasts"), "I": ("data",), "lag": ("data", "k"), "center": ("data",),
    "scale": ("data", "center", "scale", "ddof"), "standardize": ("data", "center", "scale", "ddof"),
    "poly": ("x", "degree", "raw"),
    "bs": ("x", "df", "knots", "degree", "include_intercept", "lower_bound", "upper_bound", "extrapolation"),
}
_LISTS = frozenset({"contrasts", "levels", "knots"})
_TEXTS = frozenset({"extrapolation"})
_BACKTICKED = re.compile(r"`((?:[^`\\]|\\.)+)`")
_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
    ast.MatMult: operator.matmul, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
    ast.Not: operator.not_,
}
_UNKNOWN = object()  # a value only the rows decide: a column, or something computed from one


class _Value(NamedTuple):
    value: Any  # the constant it folds to, or _UNKNOWN
    width: int  # columns it gives, at least: poly(x, 3) 3, a text column its levels − 1, a number 1
    text: bool  # may hold text: a text column, or something passed through from one (C(day), I(day))


class _TermCheck:
    """One term's Python code (``np.log(x)``, ``C(day, levels=['a', 'b'])``) checked before formulaic evaluates it.

    Only the whitelisted functions, on columns and numbers. Constants are folded here with checked arithmetic, sizes
    bounded before computing (MAX_CONSTANT_BITS). Text may name a column, a level or a contrast, or be compared, never
    be built (``'a' * 10**9``); lists only give levels, knots or contrasts; ``poly`` and ``bs`` sizes are bounded.
    Given the rows' ``levels`` (distinct values of a column) and ``text`` columns, :meth:`run` also returns how many
    columns the term gives at least, and refuses computing with a text column (``day * 10**6`` repeats each cell).
    """

    def __init__(self, expr: str, formula: str, levels: Callable[[str], int] | None = None,
                 text: frozenset[str] = frozenset()) -> None:
        self.expr, self.formula, self.levels, self.text = expr, formula, levels, text
        self.names: dict[str, str] = {}

        def swap(m: re.Match) -> str:  # `my col` → a plain name, so that Python can parse the term
            key = f"bq{len(self.names)}bq"
            self.names[key] = m.group(1)
            return f" {key} "

        self.code = _BACKTICKED.sub(swap, expr)
        try:
            self.tree = ast.parse(self.code, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the last two: nested past CPython's parser
            raise self.refuse("code that is not an expression") from None
        deepest, stack = 0, [(self.tree, 0)]
        while stack:
            node, depth = stack.pop()
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        if deepest > _MAX_NESTING:  # (the checks below recurse)
            raise FormulaError(f"The formula {_shown(formula)} nests {_shown(expr)} {deepest} levels deep, over the "
                               f"limit of {_MAX_NESTING} for a term; write the term more simply.")

    def run(self) -> _Value:
        return self.visit(self.tree.body)

    def refuse(self, what: str) -> FormulaError:
        allowed = ", ".join(sorted(SAFE_FUNCTIONS)) + ", np." + ", np.".join(sorted(SAFE_NUMPY)[:8]) + ", …"
        return FormulaError(f"The formula {_shown(self.formula)} uses {what} in {_shown(self.expr)}, which formulas "
                            f"here may not use; terms may apply {allowed} to columns and numbers.")

    def limit(self, what: str, instead: str) -> FormulaError:
        return FormulaError(f"The formula {_shown(self.formula)} {what}; {instead}.")

    def piece(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.code, node) or self.expr
        for key, name in self.names.items():
            text = text.replace(f" {key} ", f"`{name}`").replace(key, f"`{name}`")
        return text.strip()

    def visit(self, node: ast.AST, texts: bool = False, lists: bool = False) -> _Value:
        if isinstance(node, ast.Constant):
            return self.constant(node, texts)
        if isinstance(node, (ast.List, ast.Tuple)):
            if not lists:
                raise self.limit(f"uses the list {_shown(self.piece(node))}",
                                 "lists may only give C()'s levels, a contrast or bs()'s knots")
            if len(node.elts) > _MAX_LIST_ITEMS:
                raise self.limit(f"has a list of {len(node.elts):,} items in {_shown(self.expr)}",
                                 f"a list of levels, knots or contrasts may have at most {_MAX_LIST_ITEMS:,}")
            return _Value([self.visit(e, texts=True, lists=True).value for e in node.elts], len(node.elts), False)
        if isinstance(node, ast.Name):
            if node.id.startswith("_") and node.id not in self.names:
                raise self.refuse(f"the name {_shown(node.id)}")
            return self.column(self.names.get(node.id, node.id))
        if isinstance(node, ast.Attribute):  # a bare np.log or contr.sum (calls are checked in call())
            if not self.allowed_attribute(node):
                raise self.refuse(f"'.{node.attr}'")
            return _Value(_UNKNOWN, 1, False)
        if isinstance(node, (ast.UnaryOp, ast.BinOp)):
            operands = [node.operand] if isinstance(node, ast.UnaryOp) else [node.left, node.right]
            if any(isinstance(o, ast.Constant) and isinstance(o.value, (str, bytes)) for o in operands):
                raise self.limit(f"builds text with {_shown(self.piece(node))}, which formulas may not do",
                                 "compare text instead (day == 'Sat'), or name a level "
                                 "(C(day, contr.treatment('Sat')))")
            if any(isinstance(o, (ast.List, ast.Tuple)) for o in operands):
                raise self.limit(f"builds a list with {_shown(self.piece(node))}, which formulas may not do",
                                 "write the list out, as C()'s levels, a contrast or bs()'s knots")
            values = [self.visit(o) for o in operands]
            if any(v.text for v in values):
                raise self.limit(f"computes with a text column in {_shown(self.piece(node))}, which formulas may not "
                                 "do (text columns are categories)", "use the column as a term (day or C(day)) or "
                                 "compare it (day == 'Sat')")
            width = max(v.width for v in values)
            if any(v.value is _UNKNOWN for v in values):
                return _Value(_UNKNOWN, width, False)
            return _Value(self.fold(node, tuple(v.value for v in values)), width, False)
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                self.visit(operand, texts=True)
            return _Value(_UNKNOWN, 1, False)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.refuse(f"'{type(node).__name__}'")

    def constant(self, node: ast.Constant, texts: bool) -> _Value:
        v = node.value
        if isinstance(v, str):
            if not texts:
                raise self.limit(f"uses the text {_shown(v)} where a number or a column belongs",
                                 "text may only name a column (Q('my col')), a level or a contrast, or be compared "
                                 "with a column (day == 'Sat')")
            return _Value(v, 1, True)
        if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_CONSTANT_BITS:
            raise self.too_big(node, v.bit_length())
        if isinstance(v, (int, float)):  # bool is an int
            return _Value(v, 1, False)
        raise self.refuse(f"the value {v!r}")

    def too_big(self, node: ast.AST, bits: int) -> FormulaError:
        return self.limit(f"computes a whole number of more than {bits - 1:,} bits with {_shown(self.piece(node))}",
                          f"a number in a formula may have at most {MAX_CONSTANT_BITS:,} bits (about 300 digits): "
                          "write a smaller one, or a float such as 1e300")

    def fold(self, node: ast.AST, args: tuple) -> Any:
        """Python's result for constants, with a whole number's size bounded before it is computed."""
        op = node.op  # type: ignore[attr-defined]
        if len(args) == 2 and all(isinstance(a, int) for a in args):
            a, b = args
            bits = 0
            if isinstance(op, ast.Pow) and b > 0 and abs(a) > 1:
                bits = (abs(a).bit_length() - 1) * b + 1
            elif isinstance(op, ast.Mult):
                bits = a.bit_length() + b.bit_length()
            elif isinstance(op, ast.LShift) and b > 0 and a:
                bits = a.bit_length() + b
            if bits > MAX_CONSTANT_BITS:
                raise self.too_big(node, bits)
        try:
            result = _OPERATORS[type(op)](*args)
        except ZeroDivisionError:
            raise self.limit(f"divides by zero in {_shown(self.piece(node))}", "write another divisor") from None
        except OverflowError:  # 10.0**400
            raise self.limit(f"computes {_shown(self.piece(node))}, too large for a float",
                             "write numbers a float can hold, up to about 1e308") from None
        except (ArithmeticError, ValueError, TypeError) as e:  # 1 << -1, 2 @ 3
            raise self.limit(f"cannot compute {_shown(self.piece(node))} ({e})", "write the numbers another way") from None
        if isinstance(result, complex):
            raise self.limit(f"computes the complex number {result} with {_shown(self.piece(node))}",
                             "terms must be real numbers")
        if isinstance(result, int) and result.bit_length() > MAX_CONSTANT_BITS:
            raise self.too_big(node, result.bit_length())
        return result

    @staticmethod
    def allowed_attribute(node: ast.Attribute) -> bool:
        base = node.value.id if isinstance(node.value, ast.Name) else None
        return (base in ("np", "numpy") and node.attr in SAFE_NUMPY) or (base == "contr" and node.attr in SAFE_CONTRASTS)

    def column(self, name: str) -> _Value:
        if name in self.text:
            return _Value(_UNKNOWN, self.categories(name), True)
        return _Value(_UNKNOWN, 1, False)

    def categories(self, name: str) -> int:
        """Columns a categorical column gives, at least (its levels − 1; 1 without the rows)."""
        return max(self.levels(name) - 1, 1) if self.levels is not None else 1

    def call(self, node: ast.Call) -> _Value:
        f = node.func
        if any(k.arg is None for k in node.keywords):
            raise self.refuse("'**' arguments")
        if isinstance(f, ast.Attribute):
            if not self.allowed_attribute(f):
                raise self.refuse(f"'.{f.attr}'")
            writes = [k.arg for k in node.keywords if k.arg in ("out", "where")]
            if writes:  # out= overwrites a column in place; where=False leaves uninitialised memory in the result
                raise self.refuse(f"the keyword {_shown(writes[0] + '=')}")
            loose = isinstance(f.value, ast.Name) and f.value.id == "contr"  # contrasts take levels and matrices
            values = [self.visit(a, texts=loose, lists=loose) for a in (*node.args, *(k.value for k in node.keywords))]
            return _Value(_UNKNOWN, max((v.width for v in values), default=1), any(v.text for v in values))
        if not isinstance(f, ast.Name):
            raise self.refuse("a computed function")
        if f.id not in SAFE_FUNCTIONS:
            raise self.refuse(f"the function {_shown(f.id)}")
        if f.id == "Q":
            if len(node.args) != 1 or node.keywords or not (isinstance(node.args[0], ast.Constant)
                                                             and isinstance(node.args[0].value, str)):
                raise self.limit(f"calls Q() as {_shown(self.piece(node))}", "Q() takes one column name in quotes, "
                                 "such as Q('my col')")
            return self.column(node.args[0].value)
        params = _PARAMETERS[f.id]
        given = [(params[i] if i < len(params) else "", a) for i, a in enumerate(node.args)]
        given += [(str(k.arg), k.value) for k in node.keywords]
        args = {name: self.visit(a, texts=name in _LISTS | _TEXTS, lists=name in _LISTS) for name, a in given}
        data = args.get(params[0], _Value(_UNKNOWN, 1, False))
        if f.id == "poly":
            return _Value(_UNKNOWN, self.whole(node, args, "degree", 1, 1, MAX_DEGREE, "poly()'s degree"), False)
        if f.id == "bs":
            degree = self.whole(node, args, "degree", 3, 0, MAX_DEGREE, "bs()'s degree")
            if "df" in args:
                return _Value(_UNKNOWN, self.whole(node, args, "df", 0, 1, MAX_SPLINE_DF, "bs()'s df"), False)
            knots = args["knots"].value if "knots" in args else []
            if not isinstance(knots, list) or len(knots) > MAX_SPLINE_DF:
                raise self.limit(f"gives bs() the knots {_shown(self.piece(node))}",
                                 f"knots must be a list of at most {MAX_SPLINE_DF} numbers")
            return _Value(_UNKNOWN, len(knots) + degree + bool(args.get("include_intercept", _Value(0, 1, 0)).value),
                          False)
        if f.id == "lag":
            self.whole(node, args, "k", 1, -10**9, 10**9, "lag()'s k")
        if f.id == "C":
            levels = args["levels"].value if "levels" in args else None
            if isinstance(levels, list):
                return _Value(_UNKNOWN, max(len(levels) - 1, 1), data.text)
            column = self.column_name(node.args[0]) if node.args else None
            width = self.categories(column) if column is not None else data.width
            return _Value(_UNKNOWN, width, data.text)
        return data  # I, lag, center, scale, standardize: the column's own kind and width

    def column_name(self, node: ast.AST) -> str | None:
        """The column that ``node`` names (x, `my col`, Q('my col')), if it names one."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id, node.id)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Q" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            return node.args[0].value
        return None

    def whole(self, node: ast.Call, args: dict[str, _Value], name: str, default: int, low: int, high: int,
              what: str) -> int:
        v = args[name].value if name in args else default
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            shown = "a value computed from the rows" if v is _UNKNOWN else _shown(v) if isinstance(v, str) else (
                f"{v!r}" if len(repr(v)) <= 20 else f"a number of {len(str(v)):,} digits")
            raise self.limit(f"asks for {what} = {shown} in {_shown(self.piece(node))}",
                             f"{what} must be a whole number from {low:,} to {high:,}")
        return v


def _check_safe(expr: str, formula: str) -> None:
    _TermCheck(expr, formula).run()


def _check_cost(formula: str, rhs: Any, data: pd.DataFrame, kinds: dict[str, str], *, lhs: Any = (),
                fitting: bool = False) -> None:
    """Before formulaic computes anything on the rows of ``data``: refuse a model matrix over MAX_MODEL_COLUMNS or
    MAX_DESIGN_BYTES, counted from the terms, ``poly``/``bs`` sizes and the levels in the rows (a lower bound, so no
    formula within the limits is refused), and a term that computes with a text column. ``fitting``: also more
    columns than rows, which could not be fitted anyway."""
    text = frozenset(v for v, kind in kinds.items() if kind == "category")
    found: dict[str, int] = {}

    def levels(column: str) -> int:
        if column not in found:
            found[column] = int(data[column].nunique()) if column in data.columns else 1
        return found[column]

    columns, biggest, widest = 0, "", 0
    for side, terms in ((0, rhs), (1, lhs)):
        for term in terms:
            width = 1
            for factor in term.factors:
                method, expr = getattr(factor.eval_method, "value", ""), str(factor.expr)
                if method == "python":
                    width *= _TermCheck(expr, formula, levels, text).run().width
                elif method == "lookup" and expr in text:
                    width *= max(levels(expr) - 1, 1)
            if side == 0:
                columns += width
                if width > widest:
                    biggest, widest = str(term), width
    rows = len(data)
    if columns > MAX_MODEL_COLUMNS:
        alone = f" ({_shown(biggest)} alone makes {widest:,})" if widest > 1 and widest != columns else ""
        raise _too_many_columns(formula, columns, biggest=alone)
    if rows * columns * 8 > MAX_DESIGN_BYTES:
        raise _too_many_bytes(formula, rows, columns)
    free = _csv._available_memory()
    if free is not None and rows * columns * 8 * _BUILD_FACTOR > free:
        raise FormulaError(f"The formula {_shown(formula)} makes a model matrix of {rows:,} rows × {columns:,} columns "
                           f"({_mb(rows * columns * 8)}): building it needs about "
                           f"{_mb(rows * columns * 8 * _BUILD_FACTOR)} of memory and only {_mb(free)} is free; use "
                           "fewer rows, terms or category levels.")
    if fitting and rows < columns:
        raise InsufficientDataError(f"{rows} row(s) are too few to fit {columns} parameters. Add rows or use fewer "
                                    f"terms (at least {columns} rows are needed).")


def _check_saved_state(state: Any) -> None:
    """A model file's formula state (see ``_predict.spec_state``) within what a fit under these limits can save: at
    most MAX_MODEL_COLUMNS + 1 levels per factor and short lists of transform state (``bs`` knots), so that a model
    file cannot make prediction build a bigger matrix than fitting could (formulaic reads the knots and levels from
    the file, not from the formula)."""
    if not isinstance(state, dict) or not isinstance(state.get("factors"), dict):
        return  # the loader reports a malformed file
    if len(state["factors"]) > MAX_MODEL_COLUMNS + 1:
        raise FormulaError(f"This model file has {len(state['factors']):,} factors, more than a model within the limit "
                           f"of {MAX_MODEL_COLUMNS:,} columns can have; export the model again.")
    for name, entry in state["factors"].items():
        levels = entry.get("categories") if isinstance(entry, dict) else None
        if isinstance(levels, list) and len(levels) > _MAX_LIST_ITEMS:
            raise FormulaError(f"This model file gives {_shown(name)} {len(levels):,} categories, over the limit of "
                               f"{MAX_MODEL_COLUMNS:,} columns in a model; export the model again.")
    stack = [state.get("transform_state")]
    while stack:  # iterative: a file may nest as deep as the JSON reader allows
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            # {"__dict__": [[key, value], …]} holds one pair per factor or polynomial degree; other lists are values
            pairs = all(isinstance(v, list) and len(v) == 2 for v in node)
            if len(node) > (_MAX_LIST_ITEMS if pairs else _MAX_STATE_ITEMS):
                raise FormulaError(f"This model file's transform state has a list of {len(node):,} values, more than a "
                                   f"model within the limits can save ({_MAX_STATE_ITEMS} knots or coefficients per "
                                   "term); export the model again.")
            stack.extend(node)


def _count_levels(values: Any, state: dict) -> int:
    """The categories a categorical factor's values will be encoded with: its saved levels or the distinct values."""
    raw = getattr(values, "__wrapped__", values)
    known = len(state.get("categories") or ())
    if isinstance(raw, dict):  # several columns at once (not made by the whitelisted functions)
        return known
    try:
        if isinstance(getattr(raw, "dtype", None), pd.CategoricalDtype):
            found = len(raw.cat.categories if isinstance(raw, pd.Series) else raw.categories)
        elif isinstance(raw, pd.Series):
            found = int(raw.nunique())
        else:
            found = int(pd.Series(np.asarray(raw, dtype=object).ravel()).nunique())
    except Exception:  # formulaic reports values it cannot encode itself
        found = 0
    return max(known, found)


def _too_many_bytes(formula: str, rows: int, columns: int) -> FormulaError:
    return FormulaError(f"The formula {_shown(formula)} makes a model matrix of {rows:,} rows × {columns:,} columns "
                        f"({_mb(rows * columns * 8)}), over the {_mb(MAX_DESIGN_BYTES)} limit on a model matrix; "
                        "use fewer rows, terms or category levels.")


class _MatrixLimit(Exception):
    """Raised by the bounded materializer (which does not know the formula); _materialize words it."""

    def __init__(self, rows: int, columns: int, why: str) -> None:
        super().__init__(why)
        self.rows, self.columns, self.why = rows, columns, why

    def error(self, formula: str) -> FormulaError:
        if self.columns > MAX_MODEL_COLUMNS:
            return _too_many_columns(formula, self.columns, biggest=f" ({self.why})")
        return _too_many_bytes(formula, self.rows, self.columns)


def _check_matrix(rows: int, columns: int, why: str) -> None:
    if columns > MAX_MODEL_COLUMNS or rows * columns * 8 > MAX_DESIGN_BYTES:
        raise _MatrixLimit(rows, columns, why)


@functools.cache
def _bounded_materializer() -> str:
    """Register (once per process) formulaic's pandas materializer with the column and byte limits checked while it
    builds the matrix, before each categorical factor is encoded and each term is multiplied out. Returns its name,
    which a ModelSpec stores (so specs pickled to Dask workers name it too)."""
    from formulaic.materializers import PandasMaterializer
    from formulaic.parser.types import Factor
    from interface_meta import override

    class BoundedMaterializer(PandasMaterializer):
        REGISTER_NAME = "linreg_bounded"
        REGISTER_PRECEDENCE = 0  # never chosen for data by itself: only when a spec names it

        @override
        def _build_model_matrix(self, spec: Any, drop_rows: Any) -> Any:
            self._linreg_columns = 0
            return super()._build_model_matrix(spec, drop_rows)

        @override
        def _encode_evaled_factor(self, factor: Any, spec: Any, drop_rows: Any, reduced_rank: bool = False) -> Any:
            if factor.metadata.kind is Factor.Kind.CATEGORICAL and factor.expr not in self.encoded_cache:
                state = spec.encoder_state.get(factor.expr, (None, {}))[1]
                levels = _count_levels(factor.values, state)
                _check_matrix(self.nrows - len(drop_rows), levels,
                              f"{_shown(factor.expr)} alone has {levels:,} categories")
            return super()._encode_evaled_factor(factor, spec, drop_rows, reduced_rank)

        @override
        def _get_columns_for_term(self, factors: list, spec: Any, scale: float = 1) -> Any:
            width = math.prod(len(f) for f in factors)
            self._linreg_columns = getattr(self, "_linreg_columns", 0) + width
            _check_matrix(self.nrows, self._linreg_columns, "counted while its terms were built")
            return super()._get_columns_for_term(factors, spec, scale)

    return BoundedMaterializer.REGISTER_NAME
