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

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

from . import _csv_input as _csv
from ._formula_bounds import (
    _BUILD_FACTOR,
    _MAX_LIST_ITEMS,
    _MAX_NESTING,
    _MAX_STATE_ITEMS,
    MAX_DESIGN_BYTES,
    MAX_EXPANSION,
    MAX_MODEL_COLUMNS,
)
from ._formula_safety import _check_safe, _TermCheck
from ._text import _mb, _shown
from .errors import FormulaError, InsufficientDataError


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
