"""What a formula may run: formulaic evaluates each factor as Python, so a term (``np.log(x)``, ``C(day, levels=[...])``)
is checked here first — whitelisted functions on columns, numbers and short text only, constants folded with checked
arithmetic, sizes bounded — before any of it is evaluated."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from ._design import MAX_DEGREE
from ._formula_bounds import (
    _MAX_LIST_ITEMS,
    _MAX_NESTING,
    MAX_CONSTANT_BITS,
    MAX_SPLINE_DF,
)
from ._text import _shown
from .errors import FormulaError

# What a formula may cost. Each limit is checked before formulaic does the work it bounds; a formula over one is
# refused in one sentence that names the limit.
# formulaic evaluates factors as Python. A formula typed in a shared app, or in a link, must not run code on the
# server: factors may only call these functions, on columns, numbers and strings (levels, column names).
SAFE_FUNCTIONS = frozenset({"C", "I", "Q", "center", "scale", "standardize", "poly", "bs", "lag"})
SAFE_NUMPY = frozenset({"log", "log10", "log2", "log1p", "exp", "expm1", "sqrt", "square", "abs", "sin", "cos",
                        "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "power", "minimum", "maximum",
                        "clip", "sign", "floor", "ceil", "round", "cbrt", "reciprocal", "where"})
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
    if "^" in expr:  # R's power; in Python (so in a formula's I()) ^ is exclusive-or, which fails on numbers
        fixed = expr.replace("^", "**")
        raise FormulaError(f"The formula {_shown(formula)} uses '^' in {_shown(expr)}: inside I() and functions "
                           f"the code is Python, where ^ is not a power. Write {_shown(fixed)} instead.")
    _TermCheck(expr, formula).run()
