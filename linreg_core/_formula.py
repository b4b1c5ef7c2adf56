"""Wilkinson formulas (``y ~ x1 + C(day) + np.log(x2)``) read by formulaic, turned into a :class:`Design`.

formulaic parses and materializes; this module decides what the columns mean before it does (text and
booleans are categories, dates are refused or turned into days, blanks are errors or dropped rows) and
turns formulaic's errors into one sentence each. Names follow statsmodels: treatment coding with the
first sorted level as reference, ``C(day)[T.Sat]``, ``Intercept``.

A formula is user input from the formula box, a share link, a model file or the command line; what it may cost
(its length, its expansion, its terms' Python code, the model matrix's columns and bytes) is bounded by
:mod:`._formula_limits`, whose checks this module calls before formulaic parses, evaluates and builds.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ._design import Design, formula_term, implied_formula
from ._formula_bounds import (  # the public limits below are re-exported (F401): importable from here as before
    MAX_CONSTANT_BITS,  # noqa: F401
    MAX_DESIGN_BYTES,  # noqa: F401
    MAX_EXPANSION,  # noqa: F401
    MAX_FORMULA_CHARS,
    MAX_INTERACTION,
    MAX_MODEL_COLUMNS,
    MAX_SPLINE_DF,  # noqa: F401
)
from ._formula_chunks import block_plan, in_blocks
from ._formula_columns import _finite_values, _prepare
from ._formula_limits import (
    _bounded_materializer,
    _check_cost,
    _check_structure,
    _MatrixLimit,
    _several_parts,
    _too_many_columns,
)
from ._formula_safety import (  # the whitelists are re-exported (F401) as well
    SAFE_CONTRASTS,  # noqa: F401
    SAFE_FUNCTIONS,  # noqa: F401
    SAFE_NUMPY,  # noqa: F401
    _check_safe,
)
from ._text import _quote_list, _shown
from .errors import (
    DataError,
    FormulaError,
    InsufficientDataError,
    LinregError,
    NonFiniteError,
    ParameterError,
)

__all__ = ["DATE_ACTIONS", "NA_ACTIONS", "build_formula_design", "formula_term", "formula_variables",
           "implied_formula"]

NA_ACTIONS = ("error", "drop")
DATE_ACTIONS = ("error", "days")
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")
_KIND_ROWS = 64  # rows formulaic sees to tell a formula's numeric factors from its categorical ones
_EXAMPLE = "Formulas look like 'tip ~ total_bill + C(day) + np.log(size)'."


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterError(f"The '{name}' parameter must be one of {', '.join(map(repr, choices))}. "
                             f"Got {value!r} instead.")


_DOT = re.compile(r"(?:~|\+)\s*\.\s*(?=$|[+\-)])")  # R's "every other column": y ~ . or y ~ x + .


# patsy's spelling of a reference level, which statsmodels users type: C(day, Treatment(reference='Sun')),
# C(day, Treatment('Sun')), C(day, Treatment). formulaic's is contr.treatment('Sun'); the terms keep patsy's names.
_TREATMENT = re.compile(r"\bTreatment\(\s*(?:reference\s*=\s*)?((?:'[^']*'|\"[^\"]*\"|[-\w.]+)?)\s*\)"
                        r"|(?<=,)(\s*)Treatment(?=\s*\))")


def _patsy_spellings(formula: object) -> tuple[object, list[tuple[str, str]]]:
    """(the formula in formulaic's spelling, [(formulaic's text, patsy's text)] to name the terms as patsy does)."""
    if not isinstance(formula, str) or "Treatment" not in formula:
        return formula, []
    pairs: list[tuple[str, str]] = []

    def sub(m: re.Match) -> str:
        if m.group(2) is not None:  # a bare Treatment: the first level is the reference, as without it
            pairs.append(("contr.treatment", "Treatment"))
            return m.group(2) + "contr.treatment"
        level = m.group(1)
        if level[:1] in "'\"" and level:  # formulaic writes a string with single quotes in its column names
            level = repr(level[1:-1])
        new = f"contr.treatment({level})"
        pairs.append((new, m.group(0)))
        return new

    return _TREATMENT.sub(sub, formula), pairs


_POLY_NAMES = {".L": ".Linear", ".Q": ".Quadratic", ".C": ".Cubic"}
_POLY_COLUMN = re.compile(r"(Poly\))\[(\.[LQC]|\^\d+)\]")


def _patsy_names(columns: list[str], spellings: list[tuple[str, str]]) -> list[str]:
    """The names statsmodels (patsy) gives these columns: the contrast as it was typed, and C(x, Poly).Linear,
    .Quadratic, .Cubic, ^4 … for formulaic's [.L], [.Q], [.C], [^4]."""
    out = []
    for name in columns:
        for formulaic_text, patsy_text in spellings:
            name = name.replace(formulaic_text, patsy_text)
        out.append(_POLY_COLUMN.sub(lambda m: m.group(1) + _POLY_NAMES.get(m.group(2), m.group(2)), name))
    return out


def _no_dot(formula: object, df: pd.DataFrame) -> None:
    """R's and patsy's '.' (every column but the target) has no meaning here: say what to write instead."""
    if not isinstance(formula, str) or not _DOT.search(formula):
        return
    lhs = formula.split("~")[0].strip()
    target = lhs.strip("`")
    others = [formula_term(str(c)) for c in df.columns if str(c) != target]
    written = f"{lhs} ~ " + " + ".join(others[:12]) + (" + …" if len(others) > 12 else "")
    raise FormulaError(f"The formula {_shown(formula)} uses '.' for every other column, which formulas here do not "
                       f"expand: list the columns instead, e.g. {_shown(written)}.")


def _parse(formula: object, ordering: str = "degree") -> Any:
    import formulaic
    from formulaic.formula import SimpleFormula

    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(f"The formula must be text such as 'y ~ x'. Got {formula!r} instead. {_EXAMPLE}")
    if len(formula) > MAX_FORMULA_CHARS:
        raise FormulaError(f"The formula {_shown(formula)} is {len(formula):,} characters long, over the limit of "
                           f"{MAX_FORMULA_CHARS:,} characters for a formula; write fewer terms, or shorter names.")
    if formula.count("~") != 1:
        raise FormulaError(f"The formula {_shown(formula)} needs exactly one '~' between the target and the terms. "
                           + _EXAMPLE)
    _check_structure(formula)
    try:
        parsed = formulaic.Formula(formula, _ordering=ordering)
    except Exception as e:  # formulaic's parsing errors; their text marks the spot with colour codes
        raise FormulaError(f"Could not read the formula {_shown(formula)}: {_why(e)}. {_EXAMPLE}") from None
    if not hasattr(parsed, "lhs") or not str(parsed.lhs).strip():
        raise FormulaError(f"The formula {_shown(formula)} has no target before '~'. {_EXAMPLE}")
    if not isinstance(parsed.lhs, SimpleFormula) or not isinstance(parsed.rhs, SimpleFormula):
        raise _several_parts(formula)
    for side in (parsed.lhs, parsed.rhs):
        for term in side:
            if len(term.factors) > MAX_INTERACTION:
                raise FormulaError(
                    f"The formula {_shown(formula)} has the term {_shown(str(term))} of {len(term.factors)} factors, "
                    f"over the limit of {MAX_INTERACTION} factors in one interaction; interact fewer columns.")
            for factor in term.factors:
                if getattr(factor.eval_method, "value", "") == "python":
                    _check_safe(str(factor.expr), formula)
    if len(parsed.rhs) > MAX_MODEL_COLUMNS:
        raise _too_many_columns(formula, len(parsed.rhs), terms=True)
    return parsed


def _why(e: BaseException) -> str:
    text = _ANSI.sub("", str(e)).strip()
    first = text.split("\n")[0].strip().rstrip(".")
    return first.replace("insuffient", "insufficient") or type(e).__name__


def formula_variables(formula: str, columns: list[str] | None = None) -> list[str]:
    """The data columns a formula uses (target first), in the order of ``columns`` when given."""
    parsed = _parse(formula)
    names = {str(v) for v in parsed.required_variables}
    if columns is not None:
        known = [c for c in columns if c in names]
        return known + sorted(names - set(known))
    return sorted(names)


def _missing_columns(formula: str, needed: set[str], df: pd.DataFrame) -> None:
    cols = [str(c) for c in df.columns]
    unknown = sorted(n for n in needed if n not in cols)
    # formulaic counts numpy ('np') and called functions as variables too; only plain names are columns here.
    unknown = [n for n in unknown if n not in ("np", "numpy") and not re.search(rf"\b{re.escape(n)}\s*\(", formula)
               and not any(c.startswith(n + ".") for c in cols)]  # formulaic cuts `a.b` at the dot
    if unknown:
        shown = _quote_list(cols) if len(cols) <= 30 else f"{_quote_list(cols[:20])}, … ({len(cols)} columns)"
        from .errors import ColumnNotFoundError

        raise ColumnNotFoundError(
            f"The formula uses {_quote_list(unknown)}, which {'is not a column' if len(unknown) == 1 else 'are not columns'}"
            f" of the data. Available columns: {shown}. Names with spaces or symbols go in backticks: `my col`."
        )


def _incomplete(data: pd.DataFrame) -> np.ndarray:
    bad = np.zeros(len(data), dtype=bool)
    for v in data.columns:
        s = data[v]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            bad |= s.isna().to_numpy()
        else:
            bad |= ~np.isfinite(s.to_numpy(dtype=np.float64, na_value=np.nan))
    return bad


def _na_error(bad: np.ndarray, data: pd.DataFrame, row_offset: int) -> NonFiniteError:
    i = int(np.flatnonzero(bad)[0])
    col = next(v for v in data.columns if _incomplete(data[[v]].iloc[[i]])[0])
    rows = (np.flatnonzero(bad) + 1 + row_offset).tolist()
    return NonFiniteError(
        f"{len(rows)} row(s) have blank, NaN or infinite values in the columns the model uses (first: row {rows[0]}, "
        f"column {_shown(col)}). Fill them in, remove those rows, or pass na='drop' (command line: --na drop) to "
        "leave them out.", rows=rows)


def _materialize(spec_or_formula: Any, data: pd.DataFrame, formula: str) -> Any:
    import formulaic

    bounded = _bounded_materializer()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if isinstance(spec_or_formula, str):
                # context={}: names resolve to the data's columns and formulaic's transforms, never to this frame;
                # the terms in the order written (build_formula_design has put them in patsy's order)
                return formulaic.model_matrix(formulaic.Formula(spec_or_formula, _ordering="none"), data,
                                              ensure_full_rank=True, na_action="ignore", context={},
                                              materializer=bounded)
            if spec_or_formula.materializer != bounded:
                spec_or_formula = spec_or_formula.update(materializer=bounded)
            return spec_or_formula.get_model_matrix(data, na_action="ignore")
    except _MatrixLimit as e:  # a limit, reached while building
        raise e.error(formula) from None
    except LinregError:
        raise
    except Exception as e:  # a factor that cannot be evaluated: unknown function, wrong argument…
        raise FormulaError(f"Could not compute the formula {_shown(formula)}: {_why(e)}. {_EXAMPLE}") from None


def _categories(spec: Any) -> dict[str, list]:
    """Each categorical factor of a fitted spec with its levels, e.g. {'C(day)': ['Fri', 'Sat', 'Sun', 'Thur']}."""
    out = {}
    for name, (kind, state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) == "categorical":
            out[str(name)] = list(state.get("categories", []))
    return out


def build_formula_design(
    df: pd.DataFrame,
    formula: str,
    *,
    na: str = "error",
    dates: str = "error",
    row_offset: int = 0,
) -> Design:
    """Validate ``df`` and build the design of a Wilkinson formula such as ``tip ~ total_bill + C(day)``.

    Text and boolean columns are categorical (treatment coding, first sorted level as reference);
    integer codes are categorical when wrapped in ``C()``. ``na='drop'`` leaves out rows with a blank
    cell in a column the formula uses (``design.dropped_rows`` says how many); ``'error'``
    names the first. ``dates='days'`` turns ISO dates into days since 1970-01-01.
    """
    _check_choice("na", na, NA_ACTIONS)
    _check_choice("dates", dates, DATE_ACTIONS)
    _no_dot(formula, df)
    formula, spellings = _patsy_spellings(formula)
    parsed = _parse(formula)
    needed = {str(v) for v in parsed.required_variables}
    _missing_columns(formula, needed, df)
    cols = [str(c) for c in df.columns]
    needed |= _named_columns(formula, cols)
    variables = [c for c in cols if c in needed]
    data, kinds = _prepare(df, variables, formula, dates)
    bad = _incomplete(data)
    dropped, kept = 0, None
    if bad.any():
        if na == "error":
            raise _na_error(bad, data, row_offset)
        dropped, kept = int(bad.sum()), np.flatnonzero(~bad)
        data = data.loc[~bad]
        if len(data) == 0:
            raise InsufficientDataError(f"Every row has a blank cell in the columns the model uses "
                                        f"({_quote_list(variables)}): no rows are left.")
    if not data.index.equals(pd.RangeIndex(len(data))):
        data = data.reset_index(drop=True)  # (a copy of every column: only when rows were left out)
    _check_cost(formula, parsed.rhs, data, kinds, lhs=parsed.lhs, fitting=True)
    formula, parsed = _patsy_order(formula, parsed, data)
    # A large table: the model learned from the rows holding every level, then computed in row blocks (see
    # _formula_chunks); a small one, or what blocks cannot reproduce, whole.
    plan = block_plan(data, kinds, formula)
    mm = _materialize(formula, data if plan is None else plan[0].iloc[plan[1]], formula)
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise FormulaError(f"The target {_shown(str(parsed.lhs))} must be one numeric column; it gave "
                           f"{lhs.shape[1]} columns (text is categories). Choose a numeric target.")
    for factor, levels in _categories(rhs.model_spec).items():
        if len(levels) < 2:
            only = f" ({_shown(str(levels[0]))})" if levels else ""
            raise FormulaError(
                f"{_shown(factor)} has one level{only} in the rows used: a category needs at least two to compare. "
                "Remove it from the formula.")
    columns = [str(c) for c in rhs.columns]
    keep = [j for j, c in enumerate(columns) if c != "Intercept"]
    blocks = None
    if plan is not None:
        blocks = in_blocks(lhs.model_spec, rhs.model_spec, columns, plan[0], keep, row_offset,
                           lambda spec, rows: _materialize(spec, rows, formula))
        if blocks is None:  # built whole after all: the same design, and the messages that name every row
            mm = _materialize(formula, data, formula)
            lhs, rhs = mm.lhs, mm.rhs
    y = _finite_values(lhs, row_offset)[:, 0] if blocks is None else blocks[1]
    fit_intercept = "Intercept" in columns
    terms = _patsy_names([columns[j] for j in keep], spellings)
    if not terms and not fit_intercept:
        raise FormulaError(f"The formula {_shown(formula)} has no terms: '- 1' removed the intercept and nothing is "
                           "left to fit. Add a column after '~', or write 'y ~ 1' for the mean alone.")
    # y ~ 1 (the null model, R's lm(y ~ 1)) has no columns: the intercept alone is the mean.
    X = _finite_values(rhs, row_offset, keep) if blocks is None else blocks[0]
    n, p = X.shape[0], len(terms) + int(fit_intercept)
    if n < p:
        raise InsufficientDataError(f"{n} row(s) are too few to fit {p} parameters. Add rows or use fewer terms "
                                    f"(at least {p} rows are needed).")
    target = str(lhs.columns[0])
    features = [v for v in variables if v != target and v in _rhs_variables(parsed)]
    return Design(X=X, y=y, terms=terms, target=target, features=features, degree=1, fit_intercept=fit_intercept,
                  dropped_rows=dropped, kept_rows=kept, kinds={v: kinds[v] for v in features},
                  lhs_spec=lhs.model_spec, variables=tuple(variables),
                  formula=f"{parsed.lhs} ~ {parsed.rhs}" + ("" if fit_intercept else " - 1"), spec=rhs.model_spec,
                  terms_of=formula_matrix)


def _patsy_order(formula: str, parsed: Any, data: pd.DataFrame) -> tuple[str, Any]:
    """The formula with its terms in patsy's order, the one statsmodels' ``smf.ols`` fits (so that term names line up
    and a type I ANOVA sums the same squares): the intercept and the terms without a numeric factor first, then the
    terms of each set of numeric factors in the order that set first appears, each group by its number of factors
    (patsy's build.py). The terms are taken in formulaic's order by degree, which is patsy's expansion order for
    ``a*b`` and ``(a + b)**2`` alike (``parsed``: the formula parsed in that order). Factors are numeric or categorical
    as formulaic finds them on the first rows. Returns the formula and its parse in the order written (that is how it is
    built); the formula unchanged when its terms cannot be written back as they were read."""
    try:
        state = _materialize(formula, data.iloc[:_KIND_ROWS], formula).rhs.model_spec.encoder_state
    except LinregError:
        return formula, _parse(formula, ordering="none")  # the real build says what is wrong
    numeric = {str(name) for name, (kind, _) in state.items() if getattr(kind, "value", kind) == "numerical"}
    terms = [t for t in parsed.rhs if str(t) not in ("0", "1")]
    buckets: dict[frozenset[str], list] = {}
    for term in terms:
        buckets.setdefault(frozenset(str(f) for f in term.factors if str(f) in numeric), []).append(term)
    groups = sorted(buckets, key=lambda key: key != frozenset())  # stable: the group without numbers first
    ordered = [t for key in groups for t in sorted(buckets[key], key=lambda t: len(t.factors))]
    intercept = any(str(t) == "1" for t in parsed.rhs)
    written = [":".join(_factor_text(f) for f in t.factors) for t in ordered]
    rewritten = f"{parsed.lhs} ~ {' + '.join(['1' if intercept else '0'] + written)}"
    try:
        again = _parse(rewritten, ordering="none")
    except LinregError:
        return formula, _parse(formula, ordering="none")
    if [str(t) for t in again.rhs if str(t) not in ("0", "1")] != [str(t) for t in ordered]:
        return formula, _parse(formula, ordering="none")
    return rewritten, again


def _factor_text(factor: Any) -> str:
    """A factor as a formula writes it: a column name that is not an identifier in backticks (formulaic prints it
    bare), code as it was written."""
    text = str(factor)
    if getattr(factor.eval_method, "value", "") == "lookup" and not text.isidentifier():
        return "`" + text.replace("`", "\\`") + "`"
    return text


def _rhs_variables(parsed: Any) -> set[str]:
    # A quoted name such as `iris.species` is looked up whole, but formulaic lists it as attribute access (iris)
    # and prints it unquoted: take the looked-up names from the factors themselves.
    lookups = {f.expr for term in parsed.rhs for f in term.factors if getattr(f.eval_method, "value", "") == "lookup"}
    return {str(v) for v in parsed.rhs.required_variables} | _named_columns(str(parsed.rhs), None) | lookups


_NAME = re.compile(r"`((?:[^`\\]|\\.)+)`|Q\(\s*['\"](.+?)['\"]\s*\)|\b([A-Za-z_][A-Za-z0-9_]*)\b")


def _named_columns(formula: str, columns: list[str] | None) -> set[str]:
    """Column names written in the formula: formulaic's own list misses some, e.g. the x of ``poly(x, 2)``."""
    found = {next(g for g in m.groups() if g is not None) for m in _NAME.finditer(formula)}
    return found & set(columns) if columns is not None else found


def formula_matrix(design: Design, df: pd.DataFrame, row_offset: int = 0) -> np.ndarray:
    """The design's terms (no intercept column) computed on new rows, with the fit's levels and transform state."""
    _missing_columns(design.formula or "", set(design.features), df)
    kinds = design.kinds
    data, new_kinds = _prepare(df, list(design.features), design.formula or "", "days")
    for v, kind in kinds.items():
        if new_kinds[v] != kind and not (kind == "category" and new_kinds[v] == "number"):
            raise DataError(f"Column {_shown(v)} held {kind}s when the model was fitted but holds {new_kinds[v]}s "
                            "here. Use the same kind of values.")
    bad = _incomplete(data)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = next(v for v in data.columns if _incomplete(data[[v]].iloc[[i]])[0])
        raise NonFiniteError(f"{int(bad.sum())} row(s) have blank values in the columns the model uses (first: row "
                             f"{i + 1 + row_offset}, column {_shown(col)}). Fill them in or remove those rows.",
                             rows=(np.flatnonzero(bad) + 1 + row_offset).tolist())
    _check_levels(design.spec, data, row_offset)
    _check_cost(design.formula or "", design.spec.formula, data, new_kinds)
    mm = _materialize(design.spec, data, design.formula or "")
    # The fit's columns in the fit's order (the terms may carry patsy's names for formulaic's columns: see
    # _patsy_names), so by position.
    built = [str(c) for c in mm.columns if str(c) != "Intercept"]
    if len(built) != len(design.terms):
        raise FormulaError(f"The new rows gave {len(built)} columns for the model's {len(design.terms)} terms "
                           f"({_quote_list(list(design.terms))}).")
    return _finite_values(mm, row_offset, [j for j, c in enumerate(mm.columns) if str(c) != "Intercept"])


def _check_levels(spec: Any, data: pd.DataFrame, row_offset: int) -> None:
    for factor, levels in _categories(spec).items():
        for v in data.columns:
            if factor != v and not re.match(rf"C\(\s*`?{re.escape(v)}`?\s*[,)]", factor):
                continue
            s = data[v]
            known = pd.Index(levels)
            values = pd.Series(np.asarray(s, dtype=object))
            if all(isinstance(x, (int, float, np.integer, np.floating)) for x in levels):
                values = pd.to_numeric(values, errors="coerce")
            unknown = ~values.isin(known) & values.notna()
            if unknown.any():
                i = int(np.flatnonzero(unknown.to_numpy())[0])
                shown = ", ".join(_shown(str(x)) for x in levels[:12]) + (", …" if len(levels) > 12 else "")
                raise FormulaError(
                    f"Column {_shown(v)} has the level {_shown(str(values.iloc[i]))} at row {i + 1 + row_offset} that "
                    f"the model never saw, so it has no coefficient for it. Known levels: {shown}.")


def partition_formula_rows(template: Design, df: pd.DataFrame, na: str,
                           row_offset: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str], int]:
    """One partition's (X, y) under a formula fitted elsewhere (``template``: its levels and terms), for the
    streamed and Dask paths; row numbers in messages count after ``row_offset``. Returns X, y, raw features, terms
    and the rows dropped."""
    variables = list(template.variables)
    _missing_columns(template.formula or "", set(variables), df)
    data = df[variables].copy()
    for factor, levels in _categories(template.spec).items():  # the whole data's levels, in the fitted order
        for v in variables:
            if factor == v or re.match(rf"C\(\s*`?{re.escape(v)}`?\s*[,)]", factor):
                values = data[v]
                if levels and isinstance(levels[0], str):  # text levels: compare as stripped text
                    values = values.astype("string").str.strip().astype(object)
                data[v] = pd.Categorical(values, categories=levels)
    data, kinds = _prepare(data, variables, template.formula or "", "days")
    bad = _incomplete(data)
    dropped = 0
    if bad.any():
        if na == "error":
            raise _na_error(bad, data, row_offset)
        dropped, data = int(bad.sum()), data.loc[~bad].reset_index(drop=True)
    _check_cost(template.formula or "", template.spec.formula, data, kinds, lhs=template.lhs_spec.formula)
    lhs = _materialize(template.lhs_spec, data, template.formula or "")
    rhs = _materialize(template.spec, data, template.formula or "")
    columns = list(map(str, rhs.columns))
    return (_finite_values(rhs, row_offset, [columns.index(t) for t in template.terms]),
            _finite_values(lhs, row_offset)[:, 0],
            list(template.features), list(template.terms), dropped)


